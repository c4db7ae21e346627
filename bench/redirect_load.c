/* redirect_load.c: iSCSI login load generator for bench/redirect_logins.sh (redirect rate and added latency). */
/*
 * Usage:
 *   redirect_load rate HOST PORT TARGET CONNS SECONDS
 *       CONNS connections at once, each: connect, one Login Request
 *       (security stage, transit to operational), read the Login Response,
 *       close, again.  One thread, epoll.  Prints
 *       "rate logins=N seconds=S per_s=R errors=E status=0xSSSS".
 *   redirect_load lat N PHOST PPORT TARGET [THOST TPORT TTARGET [FHOST FPORT]]
 *       N rounds, one login at a time, interleaving three measurements so
 *       drift hits them alike:
 *         direct    a complete login (operational stage straight to full
 *                   feature phase) at the server the portal names;
 *         redirect  the portal exchange, then that same complete login at
 *                   the address it returned (what an initiator does);
 *         tgt       (optional) the same through a tgtd target configured
 *                   with RedirectAddress/RedirectPort, then the login;
 *         floor     (optional) the same through "redirect_load serve":
 *                   the least a user-space server can do for the exchange
 *                   on this machine (the redirect's own floor).
 *       Prints medians, means and 99th percentiles in microseconds and the
 *       medians' differences (the latency a redirect adds).
 *   redirect_load serve PORT TARGETADDRESS
 *       A minimal single-threaded server on 127.0.0.1:PORT: blocking accept
 *       (TCP_DEFER_ACCEPT), read one Login Request, write one canned Login
 *       Response 0x0101 with TargetAddress=TARGETADDRESS, close.  No
 *       parsing beyond the PDU length: the floor for "lat".
 * Exit 0 on success, 1 on any protocol error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define INITIATOR "iqn.2026-11.org.sanagent.bench:load"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Builds a Login Request PDU into out; returns its length. */
static size_t login_pdu(uint8_t *out, size_t cap, int csg, int nsg, const char *target, uint16_t isid_lo)
{
	char data[1024];
	int n = snprintf(data, sizeof(data), "InitiatorName=" INITIATOR "%cSessionType=Normal%cTargetName=%s%c", 0, 0,
	                 target, 0);
	size_t dlen, len;

	if (csg == 0)
		n += snprintf(data + n, sizeof(data) - (size_t)n, "AuthMethod=None%c", 0);
	else
		n += snprintf(data + n, sizeof(data) - (size_t)n,
		              "HeaderDigest=None%cDataDigest=None%cInitialR2T=Yes%cImmediateData=No%c"
		              "MaxRecvDataSegmentLength=8192%c",
		              0, 0, 0, 0, 0);
	dlen = (size_t)n;
	len = 48 + ((dlen + 3) & ~(size_t)3);
	if (len > cap)
		return 0;
	memset(out, 0, len);
	out[0] = 0x43;                               /* Login Request, immediate */
	out[1] = (uint8_t)(0x80 | (csg << 2) | nsg); /* T, CSG, NSG */
	out[5] = (uint8_t)(dlen >> 16);
	out[6] = (uint8_t)(dlen >> 8);
	out[7] = (uint8_t)dlen;
	out[8] = 0x80; /* ISID: random-qualifier format */
	out[9] = 0x42;
	out[12] = (uint8_t)(isid_lo >> 8);
	out[13] = (uint8_t)isid_lo;
	out[19] = 1; /* ITT 1 */
	out[27] = 1; /* CmdSN 1 */
	memcpy(out + 48, data, dlen);
	return len;
}

static int resolve(const char *host, const char *port, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV}, *ai;

	/* Numeric first: no resolver work inside the timed redirect path. */
	if (getaddrinfo(host, port, &hints, &ai)) {
		hints.ai_flags = 0;
		if (getaddrinfo(host, port, &hints, &ai))
			return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sl = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* Parses a complete response in buf (len bytes): returns its total size, 0 if incomplete. */
static size_t rsp_complete(const uint8_t *buf, size_t len)
{
	size_t dlen, tot;

	if (len < 48)
		return 0;
	dlen = ((size_t)buf[5] << 16) | ((size_t)buf[6] << 8) | buf[7];
	tot = 48 + (size_t)buf[4] * 4 + ((dlen + 3) & ~(size_t)3);
	return len >= tot ? tot : 0;
}

static int rsp_status(const uint8_t *buf)
{
	if ((buf[0] & 0x3f) != 0x23)
		return -1;
	return (buf[36] << 8) | buf[37];
}

/* TargetAddress=host:port[,tpgt] from a response's data into host/port. */
static int rsp_address(const uint8_t *buf, size_t len, char *host, size_t hl, char *port, size_t pl)
{
	size_t dlen = ((size_t)buf[5] << 16) | ((size_t)buf[6] << 8) | buf[7];
	const char *d = (const char *)buf + 48 + buf[4] * 4, *e = d + dlen, *k;

	if (48 + (size_t)buf[4] * 4 + dlen > len)
		return -1;
	for (k = d; k < e; k += strnlen(k, (size_t)(e - k)) + 1) {
		if (strncmp(k, "TargetAddress=", 14) == 0) {
			const char *v = k + 14, *colon = strrchr(v, ':'), *comma;

			if (!colon || (size_t)(colon - v) >= hl)
				return -1;
			memcpy(host, v, (size_t)(colon - v));
			host[colon - v] = 0;
			comma = strchr(colon, ',');
			snprintf(port, pl, "%.*s", comma ? (int)(comma - colon - 1) : (int)strlen(colon + 1),
			         colon + 1);
			return 0;
		}
	}
	return -1;
}

/* ---- latency: one blocking exchange at a time -------------------------------- */

static uint16_t isid_seq;

/* One login exchange; the response lands in rsp (cap bytes). Returns status or -1. */
static int exchange(const struct sockaddr_storage *ss, socklen_t sl, int csg, int nsg, const char *target, uint8_t *rsp,
                    size_t cap, size_t *rlen)
{
	uint8_t req[1200];
	size_t len = login_pdu(req, sizeof(req), csg, nsg, target, ++isid_seq), got = 0, tot;
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, st;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)ss, sl) < 0 || write(fd, req, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	while (!(tot = rsp_complete(rsp, got))) {
		ssize_t r = read(fd, rsp + got, cap - got);

		if (r <= 0) {
			close(fd);
			return -1;
		}
		got += (size_t)r;
	}
	st = rsp_status(rsp);
	*rlen = tot;
	close(fd);
	return st;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void stats(const char *name, double *v, int n, double *median)
{
	double sum = 0;

	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	for (int i = 0; i < n; i++)
		sum += v[i];
	*median = v[n / 2] * 1e6;
	printf("%-9s median %8.1f us  mean %8.1f us  p99 %8.1f us  (n=%d)\n", name, v[n / 2] * 1e6, sum / n * 1e6,
	       v[(n * 99) / 100] * 1e6, n);
}

/* A redirecting exchange then the complete login it points at; returns 0 or -1. */
static int redirected_login(const struct sockaddr_storage *ss, socklen_t sl, const char *target, double *dt)
{
	uint8_t rsp[65536];
	size_t rl;
	char host[256], port[16];
	struct sockaddr_storage ds;
	socklen_t dl;
	double t0 = now();
	int st = exchange(ss, sl, 0, 1, target, rsp, sizeof(rsp), &rl);

	if (st < 0 || st >> 8 != 1 || rsp_address(rsp, rl, host, sizeof(host), port, sizeof(port)) < 0 ||
	    resolve(host, port, &ds, &dl) < 0) {
		fprintf(stderr, "redirect exchange: status %#x\n", st);
		return -1;
	}
	st = exchange(&ds, dl, 1, 3, target, rsp, sizeof(rsp), &rl);
	if (st != 0) {
		fprintf(stderr, "login at %s:%s after the redirect: status %#x\n", host, port, st);
		return -1;
	}
	*dt = now() - t0;
	return 0;
}

static int lat(int argc, char **argv)
{
	int n = atoi(argv[2]);
	const char *target = argv[5];
	int have_tgt = argc >= 9, have_floor = argc >= 11;
	struct sockaddr_storage ps, ds, ts, fs;
	socklen_t pl, dl, tl = 0, fl = 0;
	uint8_t rsp[65536];
	size_t rl;
	char host[256], port[16];
	double *vd = calloc((size_t)n, sizeof(double)), *vr = calloc((size_t)n, sizeof(double)),
	       *vt = calloc((size_t)n, sizeof(double)), *vf = calloc((size_t)n, sizeof(double)), md, mr, mt = 0, mf = 0;
	int st;

	if (n < 10 || !vd || !vr || !vt || !vf || resolve(argv[3], argv[4], &ps, &pl) < 0 ||
	    (have_tgt && resolve(argv[6], argv[7], &ts, &tl) < 0) ||
	    (have_floor && resolve(argv[9], argv[10], &fs, &fl) < 0)) {
		fprintf(stderr, "lat: bad arguments\n");
		return 1;
	}
	/* Where the portal sends this target: the direct login goes there. */
	st = exchange(&ps, pl, 0, 1, target, rsp, sizeof(rsp), &rl);
	if (st < 0 || st >> 8 != 1 || rsp_address(rsp, rl, host, sizeof(host), port, sizeof(port)) < 0 ||
	    resolve(host, port, &ds, &dl) < 0) {
		fprintf(stderr, "portal did not redirect %s (status %#x)\n", target, st);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		double t0 = now();

		st = exchange(&ds, dl, 1, 3, target, rsp, sizeof(rsp), &rl);
		vd[i] = now() - t0;
		if (st != 0) {
			fprintf(stderr, "direct login: status %#x\n", st);
			return 1;
		}
		if (redirected_login(&ps, pl, target, &vr[i]) < 0)
			return 1;
		if (have_tgt && redirected_login(&ts, tl, argv[8], &vt[i]) < 0)
			return 1;
		if (have_floor && redirected_login(&fs, fl, target, &vf[i]) < 0)
			return 1;
	}
	printf("login latency, %d rounds, one at a time (connect .. final response, close)\n", n);
	stats("direct", vd, n, &md);
	stats("redirect", vr, n, &mr);
	if (have_tgt)
		stats("tgt-redir", vt, n, &mt);
	if (have_floor)
		stats("floor", vf, n, &mf);
	printf("RESULT direct_us=%.1f redirect_us=%.1f added_us=%.1f", md, mr, mr - md);
	if (have_tgt)
		printf(" tgt_redirect_us=%.1f tgt_added_us=%.1f", mt, mt - md);
	if (have_floor)
		printf(" floor_redirect_us=%.1f floor_added_us=%.1f", mf, mf - md);
	printf("\n");
	return 0;
}

/* ---- rate: CONNS concurrent login exchanges, one thread ---------------------- */

struct slot {
	int fd;
	size_t got, sent;
	uint8_t buf[2048];
};

static int rate(char **argv)
{
	const char *target = argv[4];
	int conns = atoi(argv[5]), ep = epoll_create1(EPOLL_CLOEXEC), last = -2;
	double secs = atof(argv[6]), t0, t1, end;
	struct sockaddr_storage ss;
	socklen_t sl;
	uint8_t req[1200];
	size_t len = login_pdu(req, sizeof(req), 0, 1, target, 1);
	struct slot *s = calloc((size_t)conns, sizeof(*s));
	unsigned long done = 0, errors = 0;
	struct epoll_event evs[256];
	struct rusage ru;

	if (conns < 1 || secs <= 0 || !s || ep < 0 || resolve(argv[2], argv[3], &ss, &sl) < 0) {
		fprintf(stderr, "rate: bad arguments\n");
		return 1;
	}
	/* (Re)opens slot i: a non-blocking connect, then the request at once.
	 * On loopback the handshake is done when connect returns, so the
	 * write nearly always succeeds here; if not, it waits for EPOLLOUT.
	 * No TCP_NODELAY: the request is the connection's first segment,
	 * which Nagle never holds back. */
#define OPEN(i)                                                                                                        \
	do {                                                                                                           \
		struct epoll_event e_ = {.events = EPOLLIN, .data.u32 = (uint32_t)(i)};                                \
		ssize_t w_;                                                                                            \
		s[i].fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);                         \
		s[i].got = s[i].sent = 0;                                                                              \
		if (connect(s[i].fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {                        \
			perror("connect");                                                                             \
			return 1;                                                                                      \
		}                                                                                                      \
		w_ = write(s[i].fd, req, len);                                                                         \
		if (w_ > 0)                                                                                            \
			s[i].sent = (size_t)w_;                                                                        \
		if (s[i].sent < len)                                                                                   \
			e_.events = EPOLLOUT;                                                                          \
		epoll_ctl(ep, EPOLL_CTL_ADD, s[i].fd, &e_);                                                            \
	} while (0)

	t0 = now();
	end = t0 + secs;
	for (int i = 0; i < conns; i++)
		OPEN(i);
	for (;;) {
		int n = epoll_wait(ep, evs, 256, 1000);

		if (now() >= end)
			break;
		for (int k = 0; k < n; k++) {
			int i = (int)evs[k].data.u32;
			struct slot *c = &s[i];

			if (evs[k].events & EPOLLOUT) {
				ssize_t w = write(c->fd, req + c->sent, len - c->sent);

				if (w < 0) {
					errors++;
					goto reopen;
				}
				c->sent += (size_t)w;
				if (c->sent == len) {
					struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};

					epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
				}
				continue;
			}
			{
				ssize_t r = read(c->fd, c->buf + c->got, sizeof(c->buf) - c->got);
				size_t tot;
				int st;

				if (r <= 0) {
					errors++;
					goto reopen;
				}
				c->got += (size_t)r;
				if (!(tot = rsp_complete(c->buf, c->got)))
					continue;
				st = rsp_status(c->buf);
				if (st < 0 || (st >> 8 != 1 && st != 0)) {
					errors++;
				} else {
					done++;
					last = st;
				}
			}
		reopen:
			close(c->fd);
			OPEN(i);
		}
	}
	t1 = now();
	getrusage(RUSAGE_SELF, &ru);
	printf("rate logins=%lu seconds=%.3f per_s=%.0f errors=%lu conns=%d status=%#06x client_cpu_s=%.3f\n", done,
	       t1 - t0, (double)done / (t1 - t0), errors, conns, last < 0 ? 0 : last,
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	return errors > done / 100 ? 1 : 0;
}

/* ---- serve: the floor ----------------------------------------------------------- */

static int serve(char **argv)
{
	uint8_t rsp[512], buf[8192];
	char data[300];
	int port = atoi(argv[2]), one = 1, l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int dlen = snprintf(data, sizeof(data), "TargetAddress=%s", argv[3]) + 1;
	size_t rlen = 48 + (((size_t)dlen + 3) & ~(size_t)3);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(rsp, 0, sizeof(rsp));
	rsp[0] = 0x23;
	rsp[5] = (uint8_t)(dlen >> 16);
	rsp[6] = (uint8_t)(dlen >> 8);
	rsp[7] = (uint8_t)dlen;
	rsp[36] = 0x01; /* status class 1, detail 1: temporary redirect */
	rsp[37] = 0x01;
	memcpy(rsp + 48, data, (size_t)dlen);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(l, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof(one));
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1024) < 0) {
		perror("serve");
		return 1;
	}
	for (;;) {
		int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		size_t got = 0, need = 48;

		if (fd < 0)
			continue;
		while (got < need) {
			ssize_t r = read(fd, buf + got, sizeof(buf) - got);

			if (r <= 0)
				break;
			got += (size_t)r;
			if (got >= 48)
				need = 48 + (size_t)buf[4] * 4 +
				       (((((size_t)buf[5] << 16) | ((size_t)buf[6] << 8) | buf[7]) + 3) & ~(size_t)3);
		}
		if (got >= need && need <= sizeof(buf)) {
			memcpy(rsp + 16, buf + 16, 4); /* ITT */
			if (write(fd, rsp, rlen) < 0)
				perror("serve: write");
		}
		close(fd);
	}
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "serve") == 0)
		return serve(argv);
	if (argc >= 7 && strcmp(argv[1], "rate") == 0)
		return rate(argv);
	if (argc >= 6 && strcmp(argv[1], "lat") == 0)
		return lat(argc, argv);
	fprintf(stderr,
	        "usage: %s rate HOST PORT TARGET CONNS SECONDS\n"
	        "       %s lat N PHOST PPORT TARGET [THOST TPORT TTARGET [FHOST FPORT]]\n"
	        "       %s serve PORT TARGETADDRESS\n",
	        argv[0], argv[0], argv[0]);
	return 2;
}
