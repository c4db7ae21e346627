/* isns.c: queries iSNS servers on the process's libisns thread (iscsi/isns_worker.h) and answers their SCNs in the
 * loop. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engines/discovery/isns.h"
#include "iscsi/isns_worker.h"
#include "common/evloop.h"
#include "common/log.h"
#include "common/sockaddr.h"

/* RFC 4171 5.1: the iSNSP header, then TLV attributes. */
#define ISNSP_HDR 12
#define ISNSP_VERSION 1
#define ISNSP_SCN 0x0008
#define ISNSP_SCN_RSP 0x8008
#define ISNSP_F_CLIENT 0x8000
#define ISNSP_F_LAST 0x0800
#define ISNSP_F_FIRST 0x0400
#define ISNSP_MAX_PDU (ISNSP_HDR + 65535)
#define SCN_MAX_CONNS 16
#define SCN_MAX_PEERS 64
#define SCN_SWEEP_MS 1000

struct job {
	struct isns_work w; /* first: the worker hands this back */
	uint32_t src;
	char *server, *initiator;
	int do_register;
	bool deregister; /* only take our registration off server (a source that went) */
	struct sa_isns_result r;
};

struct scn_conn {
	int fd;
	uint8_t *buf;
	size_t len;
	time_t last; /* monotonic seconds of the last byte (or the accept) */
};

static struct {
	bool running;
	uint32_t busy[64]; /* sources queued or running (small: one per iSNS server) */
	size_t nbusy;
	disc_isns_done_fn done;
	disc_isns_scn_fn scn;
	void *arg;
	int lfd; /* SCN listener */
	uint16_t scn_port;
	struct sockaddr_storage scn_addr; /* where it listens: registered as our SCN portal */
	unsigned int idle_s;
	unsigned int sweep_timer;
	struct scn_conn conns[SCN_MAX_CONNS];
	/* Only the configured iSNS servers may send SCNs: anyone else could
	 * make us query the servers at will. */
	struct sockaddr_storage peers[SCN_MAX_PEERS];
	size_t npeers;
	unsigned long refused;
	time_t refused_logged;
} isns_worker = {.lfd = -1};

/* ---- jobs on the process's libisns thread (iscsi/isns_worker.h) ---------------- */

static void job_free(struct isns_work *w)
{
	struct job *j = (struct job *)w;

	sa_isns_result_free(&j->r);
	free(j->server);
	free(j->initiator);
	free(j);
}

static void job_run(struct isns_work *w)
{
	struct job *j = (struct job *)w;
	struct sa_isns_req rq = {.server = j->server,
	                         .initiator = j->initiator,
	                         .scn_port = isns_worker.scn_port,
	                         .scn_addr = &isns_worker.scn_addr,
	                         .do_register = j->do_register};

	if (j->deregister)
		sa_isns_deregister(j->server, j->initiator);
	else
		sa_isns_discover(&rq, &j->r);
}

static void busy_del(uint32_t src)
{
	for (size_t i = 0; i < isns_worker.nbusy; i++)
		if (isns_worker.busy[i] == src) {
			isns_worker.busy[i] = isns_worker.busy[--isns_worker.nbusy];
			return;
		}
}

static void job_done(struct isns_work *w)
{
	struct job *j = (struct job *)w;

	if (j->deregister) {
		job_free(w);
		return;
	}
	busy_del(j->src);
	if (isns_worker.done)
		isns_worker.done(j->src, &j->r, isns_worker.arg);
	job_free(w);
}

/* A job of this worker for server and initiator, not yet submitted; NULL when out of memory. */
static struct job *job_new(const char *server, const char *initiator)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j || !(j->server = strdup(server)) || !(j->initiator = strdup(initiator))) {
		if (j)
			free(j->server);
		free(j);
		return NULL;
	}
	j->w.run = job_run;
	j->w.done = job_done;
	j->w.drop = job_free;
	j->w.owner = &isns_worker;
	return j;
}

int disc_isns_deregister(const char *server, const char *initiator)
{
	struct job *j;
	int rc;

	if (!isns_worker.running)
		return -ENODEV;
	if (!(j = job_new(server, initiator)))
		return -ENOMEM;
	j->deregister = true;
	if ((rc = isns_work_submit(&j->w)) < 0)
		job_free(&j->w);
	return rc;
}

int disc_isns_query(uint32_t src, const char *server, const char *initiator, int do_register)
{
	struct job *j;
	int rc;

	if (!isns_worker.running)
		return -ENODEV;
	for (size_t i = 0; i < isns_worker.nbusy; i++)
		if (isns_worker.busy[i] == src)
			return -EALREADY;
	if (isns_worker.nbusy == sizeof(isns_worker.busy) / sizeof(isns_worker.busy[0]))
		return -ENOMEM;
	if (!(j = job_new(server, initiator)))
		return -ENOMEM;
	j->src = src;
	j->do_register = do_register;
	if ((rc = isns_work_submit(&j->w)) < 0) {
		job_free(&j->w);
		return rc;
	}
	isns_worker.busy[isns_worker.nbusy++] = src;
	return 0;
}

/* ---- SCN listener -------------------------------------------------------------- */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static time_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void conn_close(struct scn_conn *c)
{
	cm_ev_unwatch_read(c->fd);
	close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* SCNRsp (RFC 4171 5.7.5.8): status 0 and the SCN's destination attribute. */
static void scn_ack(struct scn_conn *c, const uint8_t *pdu, size_t plen)
{
	uint8_t rsp[ISNSP_HDR + 4 + 8 + 256];
	size_t tlv = 0;

	if (plen >= 8) {
		size_t vlen = (size_t)pdu[ISNSP_HDR + 4] << 24 | (size_t)pdu[ISNSP_HDR + 5] << 16 |
		              (size_t)pdu[ISNSP_HDR + 6] << 8 | pdu[ISNSP_HDR + 7];

		if (8 + vlen <= plen && 8 + vlen <= sizeof(rsp) - ISNSP_HDR - 4)
			tlv = 8 + vlen;
	}
	memset(rsp, 0, ISNSP_HDR + 4);
	put16(rsp, ISNSP_VERSION);
	put16(rsp + 2, ISNSP_SCN_RSP);
	put16(rsp + 4, (uint16_t)(4 + tlv));
	put16(rsp + 6, ISNSP_F_CLIENT | ISNSP_F_FIRST | ISNSP_F_LAST);
	memcpy(rsp + 8, pdu + 8, 2); /* transaction id */
	memcpy(rsp + ISNSP_HDR + 4, pdu + ISNSP_HDR, tlv);
	/* Small and answered at once: a full socket buffer means a broken peer. */
	if (send(c->fd, rsp, ISNSP_HDR + 4 + tlv, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		cm_log(CM_LOG_DEBUG, "discovery", "iSNS SCN response not sent: %s", strerror(errno));
}

static void on_conn(int fd, void *arg)
{
	struct scn_conn *c = arg;
	bool changed = false;

	for (;;) {
		ssize_t n;

		if (!c->buf && !(c->buf = malloc(ISNSP_MAX_PDU))) {
			conn_close(c);
			return;
		}
		n = recv(fd, c->buf + c->len, ISNSP_MAX_PDU - c->len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			conn_close(c);
			break;
		}
		c->len += (size_t)n;
		c->last = mono_s();
		while (c->len >= ISNSP_HDR) {
			size_t plen = get16(c->buf + 4), total = ISNSP_HDR + plen;

			if (get16(c->buf) != ISNSP_VERSION) {
				conn_close(c);
				goto out;
			}
			if (c->len < total)
				break;
			if (get16(c->buf + 2) == ISNSP_SCN) {
				changed = true;
				if (get16(c->buf + 6) & ISNSP_F_LAST)
					scn_ack(c, c->buf, plen);
			}
			memmove(c->buf, c->buf + total, c->len - total);
			c->len -= total;
		}
	}
out:
	if (changed) {
		cm_log(CM_LOG_DEBUG, "discovery", "iSNS state change notification");
		if (isns_worker.scn)
			isns_worker.scn(isns_worker.arg);
	}
}

static bool peer_allowed(const struct sockaddr_storage *peer)
{
	for (size_t i = 0; i < isns_worker.npeers; i++)
		if (cm_sockaddr_same_host(&isns_worker.peers[i], peer))
			return true;
	return false;
}

static const char *host_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void *a = ss->ss_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
	                                          : (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if (!inet_ntop(ss->ss_family, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

/* "ADDR:PORT" or "[V6]:PORT" (numeric, as the configuration has it) to an address. */
static int parse_host(const char *ep, struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon = strrchr(ep, ':'), *h = ep;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (*h == '[') {
		const char *rb = strchr(++h, ']');

		hl = rb ? (size_t)(rb - h) : 0;
	} else {
		hl = colon ? (size_t)(colon - h) : strlen(h);
	}
	if (!hl || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int disc_isns_set_servers(char *const *servers, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k < SCN_MAX_PEERS; i++)
		if (parse_host(servers[i], &isns_worker.peers[k]) == 0)
			k++;
	isns_worker.npeers = k;
	return n > SCN_MAX_PEERS ? -E2BIG : 0;
}

static void on_accept(int fd, void *unused)
{
	(void)unused;
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		int cfd = accept4(fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct scn_conn *c = NULL;

		if (cfd < 0)
			return;
		if (!peer_allowed(&peer)) {
			time_t now = mono_s();
			char a[INET6_ADDRSTRLEN];

			close(cfd);
			isns_worker.refused++;
			/* At most one line a second, whatever the sender does. */
			if (now != isns_worker.refused_logged) {
				isns_worker.refused_logged = now;
				cm_log(CM_LOG_NOTICE, "discovery",
				       "iSNS SCN connection from %s refused: not a configured iSNS server (%lu refused "
				       "so far)",
				       host_text(&peer, a, sizeof(a)), isns_worker.refused);
			}
			continue;
		}
		for (size_t i = 0; i < SCN_MAX_CONNS; i++)
			if (isns_worker.conns[i].fd < 0) {
				c = &isns_worker.conns[i];
				break;
			}
		if (!c) {
			close(cfd);
			continue;
		}
		c->fd = cfd;
		c->len = 0;
		c->last = mono_s();
		if (cm_ev_watch_read(cfd, on_conn, c) < 0) {
			close(cfd);
			c->fd = -1;
		}
	}
}

/* A server keeps its SCN connection as long as it likes; one that went
 * quiet (or a peer that never spoke) gives its slot back. */
static void sweep(unsigned int id, void *unused)
{
	time_t now = mono_s();

	(void)id;
	(void)unused;
	for (size_t i = 0; i < SCN_MAX_CONNS; i++)
		if (isns_worker.conns[i].fd >= 0 && now - isns_worker.conns[i].last >= (time_t)isns_worker.idle_s) {
			cm_log(CM_LOG_DEBUG, "discovery", "iSNS SCN connection idle for %u s: closed",
			       isns_worker.idle_s);
			conn_close(&isns_worker.conns[i]);
		}
}

/* Listens on addr (never the wildcard: SCNs come from the iSNS servers,
 * to the address we registered with them). */
static int listen_scn(unsigned int port, const struct sockaddr_storage *addr)
{
	struct sockaddr_storage sa = *addr;
	socklen_t len = addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int one = 1, rc;

	isns_worker.lfd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (isns_worker.lfd < 0)
		return -errno;
	setsockopt(isns_worker.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->ss_family == AF_INET6)
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)port);
	if (bind(isns_worker.lfd, (struct sockaddr *)&sa, len) < 0 || listen(isns_worker.lfd, 16) < 0 ||
	    getsockname(isns_worker.lfd, (struct sockaddr *)&sa, &len) < 0) {
		rc = -errno;
		close(isns_worker.lfd);
		isns_worker.lfd = -1;
		return rc;
	}
	isns_worker.scn_addr = sa;
	isns_worker.scn_port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
	                                                      : ((struct sockaddr_in *)&sa)->sin_port);
	if (cm_ev_watch_read(isns_worker.lfd, on_accept, NULL) < 0) {
		close(isns_worker.lfd);
		isns_worker.lfd = -1;
		return -ENOMEM;
	}
	return 0;
}

/* ---- life ------------------------------------------------------------------------ */

uint16_t disc_isns_scn_port(void)
{
	return isns_worker.running ? isns_worker.scn_port : 0;
}

const char *disc_isns_scn_host(char *buf, size_t len)
{
	if (!isns_worker.running)
		return "";
	return host_text(&isns_worker.scn_addr, buf, len);
}

int disc_isns_start(const struct disc_isns_opts *o, char *const *servers, size_t nservers, disc_isns_done_fn done,
                    disc_isns_scn_fn scn, void *arg, char *err, size_t errlen)
{
	struct sockaddr_storage addr;
	char a[INET6_ADDRSTRLEN];
	int rc;

	if (isns_worker.running)
		return 0;
	for (size_t i = 0; i < SCN_MAX_CONNS; i++)
		isns_worker.conns[i].fd = -1;
	isns_worker.done = done;
	isns_worker.scn = scn;
	isns_worker.arg = arg;
	isns_worker.nbusy = 0;
	isns_worker.idle_s = o->scn_idle_s ? o->scn_idle_s : 1;
	isns_worker.refused = 0;
	if (!nservers)
		return -EINVAL;
	if (o->scn_address && *o->scn_address) {
		if ((rc = parse_host(o->scn_address, &addr)) < 0) {
			snprintf(err, errlen, "iSNS: isns_scn_address %s is not a numeric address", o->scn_address);
			return rc;
		}
	} else if ((rc = sa_isns_local_addr(servers[0], &addr)) < 0) {
		snprintf(err, errlen, "iSNS: no local address towards %s: %s", servers[0], strerror(-rc));
		return rc;
	}
	disc_isns_set_servers(servers, nservers);
	if ((rc = listen_scn(o->scn_port, &addr)) < 0) {
		snprintf(err, errlen, "iSNS: cannot listen for SCNs on %s TCP port %u: %s",
		         host_text(&addr, a, sizeof(a)), o->scn_port, strerror(-rc));
		goto fail;
	}
	isns_worker.sweep_timer = cm_ev_timer(SCN_SWEEP_MS, 1, sweep, NULL);
	isns_worker.running = true;
	return 0;
fail:
	if (isns_worker.lfd >= 0) {
		cm_ev_unwatch_read(isns_worker.lfd);
		close(isns_worker.lfd);
		isns_worker.lfd = -1;
	}
	return rc;
}

struct deregister {
	char **servers;
	size_t n;
	const char *initiator;
};

static void deregister_all(void *arg)
{
	const struct deregister *d = arg;

	for (size_t i = 0; i < d->n && d->initiator && d->initiator[0]; i++)
		sa_isns_deregister(d->servers[i], d->initiator);
}

void disc_isns_stop(char **servers, size_t n, const char *initiator)
{
	struct deregister d = {servers, n, initiator};

	if (!isns_worker.running)
		return;
	/* Queries not run yet are dropped, a running one is waited for, results not delivered are freed. */
	isns_work_cancel(&isns_worker);
	/* Leaving tells the servers to stop sending SCNs to a port nobody will answer.  It waits for the libisns
	 * thread (at stop only: the loop has nothing else to do then). */
	isns_work_call(deregister_all, &d);
	for (size_t i = 0; i < SCN_MAX_CONNS; i++)
		if (isns_worker.conns[i].fd >= 0)
			conn_close(&isns_worker.conns[i]);
	if (isns_worker.lfd >= 0) {
		cm_ev_unwatch_read(isns_worker.lfd);
		close(isns_worker.lfd);
		isns_worker.lfd = -1;
	}
	if (isns_worker.sweep_timer)
		cm_ev_cancel(isns_worker.sweep_timer);
	isns_worker.sweep_timer = 0;
	isns_worker.nbusy = 0;
	isns_worker.running = false;
}
