/* health.c: server health probes: a non-blocking TCP connect plus an iSCSI discovery login, on a timer. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engines/redirect/redir_int.h"
#include "engines/sessions.h"
#include "iscsi/pdu.h"
#include "iscsi/textkeys.h"
#include "common/evloop.h"

#define PROBE_INITIATOR "iqn.2026-11.org.sanagent:redirector-probe"
#define MAX_PROBES 4096

/* One probe in flight per server; a round skips servers still being probed. */
struct probe {
	uint32_t server;
	int fd;
	bool connected, wwatch;
	struct timespec deadline;
	uint8_t in[PDU_BHS_LEN + 1024];
	size_t inlen;
	uint8_t out[512];
	size_t outlen, outoff;
	uint8_t isid[6];
	uint32_t sess; /* its sanSessionTable row (owner probe), 0 = none */
	struct probe *next;
};

static struct probe *probes;
static unsigned int round_timer, check_timer;
static unsigned int probe_timeout_ms;
static uint8_t isid_seq;

/* A probe is a discovery session of its own in sanSessionTable, for as
 * long as it lasts (no logout callback: it ends by itself in moments). */
static void probe_sess_add(struct probe *p, const struct redir_probe_target *t)
{
	struct sess_info in;

	memset(&in, 0, sizeof(in));
	snprintf(in.initiator, sizeof(in.initiator), "%s", PROBE_INITIATOR);
	snprintf(in.portal_addr, sizeof(in.portal_addr), "%.*s", (int)sizeof(in.portal_addr) - 1, t->host);
	in.portal_port = t->port;
	memcpy(in.isid, p->isid, sizeof(in.isid));
	in.type = SESS_TYPE_DISCOVERY;
	in.owner = SESS_OWNER_PROBE;
	in.state = SESS_LOGGING_IN;
	p->sess = sess_add(&in, NULL, NULL);
}

static void probe_sess_update(struct probe *p, int state, unsigned int tsih)
{
	const struct sess_view *v = p->sess ? sess_find(p->sess) : NULL;
	struct sess_info in;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (!v)
		return;
	in = v->info;
	in.state = state;
	if (tsih)
		in.tsih = tsih;
	if (state == SESS_LOGGED_IN)
		in.login_time = time(NULL);
	if (!in.src_addr[0] && p->fd >= 0 && getsockname(p->fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &s4->sin_addr, in.src_addr, sizeof(in.src_addr));
			in.src_port = ntohs(s4->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &s6->sin6_addr, in.src_addr, sizeof(in.src_addr));
			in.src_port = ntohs(s6->sin6_port);
		}
	}
	sess_set_info(p->sess, &in);
}

/* Frees a probe already out of the list, its socket and watches with it. */
static void probe_free(struct probe *p)
{
	if (p->sess)
		sess_remove(p->sess);
	if (p->fd >= 0) {
		cm_ev_unwatch_read(p->fd);
		if (p->wwatch)
			cm_ev_unwatch_write(p->fd);
		close(p->fd);
	}
	free(p);
}

static void probe_end(struct probe *p, int ok, const char *why)
{
	struct probe **pp;
	uint32_t server = p->server;

	for (pp = &probes; *pp && *pp != p; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = p->next;
	/* A probe that logged in closes at once: that ends its session. */
	probe_sess_update(p, ok ? SESS_LOGGED_OUT : SESS_FAILED, 0);
	probe_free(p);
	redir_server_probed(server, ok, why);
}

static void on_probe_read(int fd, void *arg)
{
	struct probe *p = arg;
	struct pdu_login_rsp rs;
	struct pdu pdu;
	ssize_t n = recv(fd, p->in + p->inlen, sizeof(p->in) - p->inlen, 0), used;
	char why[96];

	if (n == 0)
		return probe_end(p, 0, "connection closed during the login probe");
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		snprintf(why, sizeof(why), "login probe: %s", strerror(errno));
		return probe_end(p, 0, why);
	}
	p->inlen += (size_t)n;
	used = pdu_parse(p->in, p->inlen, sizeof(p->in) - PDU_BHS_LEN - 4, &pdu);
	if (used == 0)
		return;
	if (used < 0 || pdu_get_login_rsp(&pdu, &rs) < 0)
		return probe_end(p, 0, "login probe: malformed reply");
	if (rs.status_class != 0) {
		snprintf(why, sizeof(why), "login probe: status 0x%02x%02x", rs.status_class, rs.status_detail);
		return probe_end(p, 0, why);
	}
	probe_sess_update(p, SESS_LOGGED_IN, rs.tsih);
	probe_end(p, 1, NULL);
}

static void on_probe_write(int fd, void *arg)
{
	struct probe *p = arg;

	if (!p->connected) {
		int err = 0;
		socklen_t l = sizeof(err);
		char why[96];

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
			err = errno;
		if (err) {
			snprintf(why, sizeof(why), "connect: %s", strerror(err));
			return probe_end(p, 0, why);
		}
		p->connected = true;
		probe_sess_update(p, SESS_LOGGING_IN, 0); /* now its source address is known */
	}
	while (p->outoff < p->outlen) {
		ssize_t n = send(fd, p->out + p->outoff, p->outlen - p->outoff, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			return probe_end(p, 0, "send failed");
		}
		p->outoff += (size_t)n;
	}
	cm_ev_unwatch_write(fd);
	p->wwatch = false;
}

/* Security stage, AuthMethod=None, transit to operational: the smallest
 * login a target answers with status 0 when it is really serving. */
static int build_login(struct probe *p)
{
	struct pdu_login_req rq = {0};
	char data[256];
	struct tk_buf b;
	ssize_t n;

	tk_buf_init(&b, data, sizeof(data));
	if (tk_add(&b, "InitiatorName", PROBE_INITIATOR) < 0 || tk_add(&b, "SessionType", "Discovery") < 0 ||
	    tk_add(&b, "AuthMethod", "None") < 0)
		return -1;
	rq.transit = true;
	rq.csg = PDU_STAGE_SECURITY;
	rq.nsg = PDU_STAGE_OPERATIONAL;
	/* ISID type "random" (0x80) with a counter, so probes never reinstate each other. */
	rq.isid[0] = 0x80;
	rq.isid[1] = 0x5a;
	rq.isid[5] = ++isid_seq;
	memcpy(p->isid, rq.isid, sizeof(p->isid));
	rq.itt = 1;
	n = pdu_build_login_req(p->out, sizeof(p->out), &rq, b.buf, b.len);
	if (n < 0)
		return -1;
	p->outlen = (size_t)n;
	return 0;
}

static void probe_start(const struct redir_probe_target *t)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	struct probe *p;
	char why[96];

	for (p = probes; p; p = p->next)
		if (p->server == t->index)
			return;
	if (!(p = calloc(1, sizeof(*p))))
		return;
	p->server = t->index;
	p->fd = -1;
	p->next = probes;
	probes = p;
	clock_gettime(CLOCK_MONOTONIC, &p->deadline);
	p->deadline.tv_sec += probe_timeout_ms / 1000;
	p->deadline.tv_nsec += (long)(probe_timeout_ms % 1000) * 1000000L;
	if (p->deadline.tv_nsec >= 1000000000L) {
		p->deadline.tv_sec++;
		p->deadline.tv_nsec -= 1000000000L;
	}
	if (t->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(t->port);
		inet_pton(AF_INET6, t->host, &s6->sin6_addr);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(t->port);
		inet_pton(AF_INET, t->host, &s4->sin_addr);
		sl = sizeof(*s4);
	}
	if (build_login(p) < 0)
		return probe_end(p, 0, "cannot build the login probe");
	probe_sess_add(p, t);
	p->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		return probe_end(p, 0, why);
	}
	if (connect(p->fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		return probe_end(p, 0, why);
	}
	if (cm_ev_watch_read(p->fd, on_probe_read, p) < 0)
		return probe_end(p, 0, "cannot watch the probe socket");
	if (cm_ev_watch_write(p->fd, on_probe_write, p) < 0)
		return probe_end(p, 0, "cannot watch the probe socket");
	p->wwatch = true;
}

static void probe_round(unsigned int id, void *arg)
{
	struct redir_probe_target *t;
	size_t n = redir_server_count();

	(void)id;
	(void)arg;
	if (!n)
		return;
	if (n > MAX_PROBES)
		n = MAX_PROBES;
	if (!(t = calloc(n, sizeof(*t))))
		return;
	n = redir_probe_targets(t, n);
	for (size_t i = 0; i < n; i++)
		probe_start(&t[i]);
	free(t);
}

/* Timeouts are checked often so a silent server is noticed within
 * interval + timeout, not rounded up to the next round. */
static void probe_check(unsigned int id, void *arg)
{
	struct timespec now;
	struct probe *p, *next;

	(void)id;
	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (p = probes; p; p = next) {
		next = p->next;
		if (now.tv_sec > p->deadline.tv_sec ||
		    (now.tv_sec == p->deadline.tv_sec && now.tv_nsec >= p->deadline.tv_nsec))
			probe_end(p, 0, p->connected ? "login probe timed out" : "connect timed out");
	}
}

int redir_health_start(unsigned int interval_ms, unsigned int timeout_ms)
{
	probe_timeout_ms = timeout_ms;
	round_timer = cm_ev_timer(interval_ms, 1, probe_round, NULL);
	check_timer = cm_ev_timer(50, 1, probe_check, NULL);
	if (!round_timer || !check_timer) {
		redir_health_stop();
		return -ENOMEM;
	}
	/* The first round at once: oper states are known before the first interval. */
	probe_round(0, NULL);
	return 0;
}

void redir_health_stop(void)
{
	cm_ev_cancel(round_timer);
	cm_ev_cancel(check_timer);
	round_timer = check_timer = 0;
	while (probes) {
		struct probe *p = probes;

		probes = p->next;
		probe_free(p);
	}
}
