/* feedback.c: the storage agent's session feedback: per-session rates over a window, the portal each session came
 * in on, and competing-session detection (seed 000 Fig. 2), published on the bus for the notifications. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bus.h"
#include "common/log.h"
#include "engines/storage/stor_private.h"

/* A target portal named in a request: not named again before until_ms. */
struct holdoff {
	char target[STOR_NAME_MAX];
	char portal[STOR_HOST_MAX];
	uint16_t port;
	uint64_t until_ms;
};

static struct {
	int interval_s;
	uint32_t holdoff_s;
	struct stor_competing_cfg cc;
	uint64_t window_start_ms;
	int have_window;
	struct holdoff *holds;
	size_t nholds;
	struct stor_fb_counters ctr;
	int ambiguous_logged;
} fb;

void stor_fb_configure(const struct sa_storage_config *cfg)
{
	if (fb.interval_s != cfg->feedback_interval)
		fb.have_window = 0; /* the next round starts a window of the new length */
	fb.interval_s = cfg->feedback_interval;
	fb.holdoff_s = (uint32_t)cfg->competing_holdoff;
	fb.cc.share_pct = (unsigned int)cfg->competing_share;
	fb.cc.min_rate_kib = (uint32_t)cfg->competing_min_rate;
}

void stor_fb_reset(void)
{
	free(fb.holds);
	fb.holds = NULL;
	fb.nholds = 0;
	fb.have_window = 0;
	fb.ambiguous_logged = 0;
	memset(&fb.ctr, 0, sizeof(fb.ctr));
}

const struct stor_fb_counters *stor_fb_counters(void)
{
	return &fb.ctr;
}

/* ---- which portal: the kernel's socket table ----------------------------------------------------------------- */

/* "0100007F:0CBC" (tcp) or 32 hex digits (tcp6): the address as the kernel stores it, in 32-bit words printed in
 * the host's order; numeric text out (a v4-mapped v6 address as v4, as tgt compares them). */
static int parse_endpoint(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	unsigned char a[16];
	size_t hex = strcspn(s, ":");
	char word[9];
	unsigned long p;
	char *end;

	if (hex != 8 && hex != 32)
		return -1;
	for (size_t w = 0; w < hex / 8; w++) {
		uint32_t v;

		memcpy(word, s + w * 8, 8);
		word[8] = 0;
		v = (uint32_t)strtoul(word, &end, 16);
		if (*end)
			return -1;
		memcpy(a + w * 4, &v, 4);
	}
	p = strtoul(s + hex + 1, &end, 16);
	if (end == s + hex + 1 || p > 65535)
		return -1;
	*port = (uint16_t)p;
	if (hex == 8)
		return inet_ntop(AF_INET, a, host, (socklen_t)hostlen) ? 0 : -1;
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
		return inet_ntop(AF_INET, a + 12, host, (socklen_t)hostlen) ? 0 : -1;
	return inet_ntop(AF_INET6, a, host, (socklen_t)hostlen) ? 0 : -1;
}

/* tgt prints a v4 peer of a v6 socket as ::ffff:a.b.c.d: compare it as v4. */
static const char *plain_peer(const char *peer)
{
	return strncmp(peer, "::ffff:", 7) == 0 && strchr(peer + 7, '.') ? peer + 7 : peer;
}

int stor_portal_of(const char *tcp, const char *peer, const uint16_t *ports, size_t nports, char *host, size_t hostlen,
                   uint16_t *port)
{
	const char *line = tcp;
	int found = 0;

	peer = plain_peer(peer);
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		char buf[256], loc[80], rem[80], st[8], lhost[64], rhost[64];
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		uint16_t lport, rport;
		size_t k;

		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = 0;
			/* "  sl  local_address rem_address st ..."; the header line does not parse. */
			if (sscanf(buf, " %*[0-9]: %79s %79s %7s", loc, rem, st) == 3 && strcmp(st, "01") == 0 &&
			    parse_endpoint(loc, lhost, sizeof(lhost), &lport) == 0 &&
			    parse_endpoint(rem, rhost, sizeof(rhost), &rport) == 0 && strcmp(rhost, peer) == 0) {
				for (k = 0; k < nports && ports[k] != lport; k++)
					;
				if (k < nports) {
					if (found && (strcmp(host, lhost) != 0 || *port != lport))
						return -1;
					snprintf(host, hostlen, "%s", lhost);
					*port = lport;
					found = 1;
				}
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return found;
}

/* /proc/net/tcp and tcp6 of the agent's network namespace (tgtd's: they run side by side); NULL when neither
 * reads.  Files of the proc filesystem: read at once, they do not block. */
static char *read_sockets(void)
{
	static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	char *buf = NULL;
	size_t len = 0, cap = 0;

	for (size_t f = 0; f < 2; f++) {
		int fd = open(files[f], O_RDONLY | O_CLOEXEC);
		ssize_t n;

		if (fd < 0)
			continue;
		for (;;) {
			if (cap - len < 4096) {
				char *nb = realloc(buf, cap + 65536);

				if (!nb) {
					close(fd);
					free(buf);
					return NULL;
				}
				buf = nb;
				cap += 65536;
			}
			n = read(fd, buf + len, cap - len - 1);
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		close(fd);
		if (len && buf[len - 1] != '\n')
			buf[len++] = '\n';
	}
	if (buf)
		buf[len] = 0;
	return buf;
}

/* ---- windows, feedback and requests -------------------------------------------------------------------------- */

struct fb_member {
	const struct stor_target *t;
	const struct stor_session *s;
};

static int member_cmp(const void *a, const void *b)
{
	const struct fb_member *x = a, *y = b;
	int c = strcmp(x->t->name, y->t->name);

	if (!c)
		c = strcmp(x->s->portal, y->s->portal);
	if (!c && x->s->portal_port != y->s->portal_port)
		c = x->s->portal_port < y->s->portal_port ? -1 : 1;
	return c;
}

static struct holdoff *hold_find(const char *target, const char *portal, uint16_t port)
{
	for (size_t i = 0; i < fb.nholds; i++)
		if (fb.holds[i].port == port && strcmp(fb.holds[i].target, target) == 0 &&
		    strcmp(fb.holds[i].portal, portal) == 0)
			return &fb.holds[i];
	return NULL;
}

/* 1: the group may be named now (and is held from now on); 0: within its hold-off. */
static int hold_take(const char *target, const char *portal, uint16_t port, uint64_t now_ms)
{
	struct holdoff *h = hold_find(target, portal, port);

	if (h && now_ms < h->until_ms)
		return 0;
	if (!h) {
		/* Expired entries make room first. */
		for (size_t i = 0; i < fb.nholds;)
			if (now_ms >= fb.holds[i].until_ms)
				fb.holds[i] = fb.holds[--fb.nholds];
			else
				i++;
		h = realloc(fb.holds, (fb.nholds + 1) * sizeof(*h));
		if (!h)
			return 1; /* no memory for the hold-off: the request still goes, the name server has cooldowns
			           */
		fb.holds = h;
		h = &fb.holds[fb.nholds++];
		snprintf(h->target, sizeof(h->target), "%s", target);
		snprintf(h->portal, sizeof(h->portal), "%s", portal);
		h->port = port;
	}
	h->until_ms = now_ms + (uint64_t)fb.holdoff_s * 1000u;
	return 1;
}

static void judge_groups(struct fb_member *v, size_t n, uint64_t now_ms)
{
	struct stor_member *m = n ? calloc(n, sizeof(*m)) : NULL;

	if (n && !m) {
		cm_log(CM_LOG_ERR, STOR_TAG, "out of memory: competing sessions not judged this window");
		return;
	}
	if (n)
		qsort(v, n, sizeof(*v), member_cmp);
	for (size_t first = 0, k; first < n; first = k) {
		struct stor_request_msg req;
		int rc;

		for (k = first; k < n && member_cmp(&v[first], &v[k]) == 0; k++) {
			m[k - first].initiator = v[k].s->initiator;
			m[k - first].bytes = v[k].s->rates.bytes;
			m[k - first].avg_kib = v[k].s->rates.avg_kib;
		}
		if ((rc = stor_competing_judge(m, k - first, &fb.cc, &req)) <= 0)
			continue;
		req.target = v[first].t->name;
		req.portal = v[first].s->portal;
		req.port = v[first].s->portal_port;
		if (!hold_take(req.target, req.portal, req.port, now_ms)) {
			fb.ctr.requests_held++;
			continue;
		}
		fb.ctr.requests_sent++;
		cm_log(CM_LOG_NOTICE, STOR_TAG,
		       "competing sessions on %s at %s:%u: %s takes %u%% of the bytes, %s under %u KiB/s; "
		       "rediscovery requested",
		       req.target, req.portal, (unsigned int)req.port, req.offender, req.share_pct, req.starved,
		       (unsigned int)fb.cc.min_rate_kib);
		bus_publish(BUS_STORAGE, &(struct stor_event){.running = 1, .type = STOR_EV_REQUEST, .req = &req});
	}
	free(m);
}

static void close_window(uint64_t now_ms)
{
	size_t nt, n = 0, cap = 0;
	struct stor_target *t = stor_targets_mut(&nt);
	struct fb_member *v = NULL;

	for (size_t i = 0; i < nt; i++)
		cap += t[i].nsessions;
	if (cap && !(v = calloc(cap, sizeof(*v))))
		cm_log(CM_LOG_ERR, STOR_TAG, "out of memory: competing sessions not judged this window");
	for (size_t i = 0; i < nt; i++)
		for (size_t k = 0; k < t[i].nsessions; k++) {
			struct stor_session *s = &t[i].sessions[k];
			struct stor_feedback_msg msg;

			stor_window_close(&s->win, &s->rates);
			if (!s->rates.valid)
				continue; /* came up in the last round: its first window is the next one */
			if (!s->portal[0]) {
				fb.ctr.portal_unknown++;
				continue;
			}
			msg = (struct stor_feedback_msg){.initiator = s->initiator,
			                                 .target = t[i].name,
			                                 .portal = s->portal,
			                                 .port = s->portal_port,
			                                 .rates = s->rates,
			                                 .bytes = s->ctr.rd_bytes + s->ctr.wr_bytes};
			fb.ctr.feedback_sent++;
			bus_publish(BUS_STORAGE,
			            &(struct stor_event){.running = 1, .type = STOR_EV_FEEDBACK, .fb = &msg});
			if (v)
				v[n++] = (struct fb_member){&t[i], s};
		}
	if (v)
		judge_groups(v, n, now_ms);
	free(v);
}

void stor_fb_round(uint64_t now_ms, const char *tcp)
{
	size_t nt, nports = 0;
	struct stor_target *t = stor_targets_mut(&nt);
	uint16_t ports[64];
	char *own = NULL;
	int need = 0;

	if (fb.interval_s <= 0)
		return;
	for (const struct stor_portal *p = stor_portal_next(0); p && nports < 64; p = stor_portal_next(p->index)) {
		size_t k;

		for (k = 0; k < nports && ports[k] != p->port; k++)
			;
		if (p->active && k == nports)
			ports[nports++] = p->port;
	}
	/* Before tgt's portal list came in: tgt's own default. */
	if (!nports)
		ports[nports++] = 3260;
	for (size_t i = 0; i < nt; i++)
		for (size_t k = 0; k < t[i].nsessions; k++) {
			struct stor_session *s = &t[i].sessions[k];
			uint64_t bytes = s->ctr.rd_bytes + s->ctr.wr_bytes;

			if (!s->win.started)
				stor_window_start(&s->win, bytes, now_ms);
			else
				stor_window_sample(&s->win, bytes, now_ms);
			need |= !s->portal[0] && s->addr[0];
		}
	/* A session's TCP connection keeps its local address: looked up once, while it is unknown. */
	if (need && !tcp)
		tcp = own = read_sockets();
	for (size_t i = 0; need && tcp && i < nt; i++)
		for (size_t k = 0; k < t[i].nsessions; k++) {
			struct stor_session *s = &t[i].sessions[k];
			int rc;

			if (s->portal[0] || !s->addr[0])
				continue;
			rc = stor_portal_of(tcp, s->addr, ports, nports, s->portal, sizeof(s->portal), &s->portal_port);
			if (rc < 0) {
				s->portal[0] = 0;
				if (!fb.ambiguous_logged++)
					cm_log(
					    CM_LOG_WARNING, STOR_TAG,
					    "%s has connections from %s to more than one portal: its sessions' portals "
					    "are unknown, no feedback for them",
					    s->initiator, s->addr);
			}
		}
	free(own);
	if (!fb.have_window) {
		fb.window_start_ms = now_ms;
		fb.have_window = 1;
		return;
	}
	if (now_ms - fb.window_start_ms + 500u >= (uint64_t)fb.interval_s * 1000u) {
		fb.window_start_ms = now_ms;
		close_window(now_ms);
	}
}
