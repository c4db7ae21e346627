/* portal.c: the redirector's iSCSI portal: non-blocking listeners and the per-connection login state machine. */
#define _GNU_SOURCE /* accept4, pipe2 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engines/redirect/redir_int.h"
#include "iscsi/chap.h"
#include "iscsi/pdu.h"
#include "iscsi/textkeys.h"
#include "common/evloop.h"
#include "common/log.h"
#include "common/sockaddr.h"

#define TAG "redirect"
#define MAX_LISTEN 16
#define MAX_PAIRS 128
#define AHS_MAX 1020   /* TotalAHSLength is 8 bits of 4-byte words */
#define LINGER_MS 2000 /* after a final answer: wait this long for the initiator's FIN */
#define IDLE_MS 60000  /* an idle discovery session in full feature phase */
#define SWEEP_MS 100
#define SENDTARGETS_MAX (64u << 20) /* bound on one SendTargets reply */
/* What we send per Text Response when the initiator declared nothing (RFC 7143 default). */
#define PEER_MRDSL_DEFAULT PDU_DEFAULT_MRDSL
#define REPLY_TTT_BASE 0x5a000000u
/* Connection structs kept, buffers and all, for the next accept: a
 * redirected login then allocates nothing. */
#define FREE_CONNS_MAX 64

enum cstate { C_LOGIN, C_FFP, C_LINGER };
/* The portal's CHAP (target authenticates initiator, RFC 7143 12.1.3). */
enum cauth { A_OFF, A_START, A_METHOD, A_CHALLENGED, A_DONE };

struct conn {
	int fd;
	enum cstate state;
	struct sockaddr_storage peer;
	char self[REDIR_HOST_MAX + 16]; /* "ADDR:PORT,1" as seen by this initiator */
	uint8_t *in;
	size_t inlen, incap;
	uint8_t *out;
	size_t outlen, outoff, outcap;
	bool rwatch, wwatch;
	bool in_input; /* inside conn_input: it decides how the connection ends */
	bool fin_sent;
	bool got_bhs; /* the first full BHS arrived: the login deadline applies */
	bool queued;  /* on the login queue */
	struct timespec deadline, login_deadline;
	/* login */
	bool started, discovery;
	char initiator[REDIR_NAME_MAX];
	char target[REDIR_NAME_MAX];
	enum cauth auth;
	uint8_t chap_id;
	uint8_t chap_c[CHAP_CHALLENGE_LEN];
	uint8_t isid[6];
	uint32_t statsn, expcmdsn;
	size_t peer_mrdsl;
	/* SendTargets reply in flight */
	struct tk_buf text;
	struct pdu_text_stream ts;
	bool streaming;
	uint32_t text_itt;
	uint64_t text_lun;
	struct conn *prev, *next;
	struct conn *lprev, *lnext; /* login queue, oldest first */
};

static int lfds[MAX_LISTEN];
static size_t nlfds;
static struct conn *conns, *free_conns;
/* Connections still logging in, in accept order: when the table is full
 * the oldest goes, since a real login takes milliseconds and an old one is
 * someone holding a slot. */
static struct conn *lq_head, *lq_tail;
static unsigned int nconns, nfree_conns;
static struct redir_portal_limits lim;
static unsigned int sweep_timer;
static uint16_t next_tsih = 1;
static uint32_t next_ttt;

/* Initiators that passed the portal's CHAP, by name and source address:
 * the seed's session with the redirector ([0062], [0067]), whose
 * credentials cover the connections that follow, so a login from there
 * need not repeat CHAP with the portal for sanRedirAuthLifetime.  libiscsi
 * needs it: it keeps its CHAP state across a redirect, so after a CHAP
 * exchange with the portal its login at the server carries no
 * InitiatorName; it passes the portal's CHAP in its discovery session. */
#define AUTH_MEMO_MAX 1024
struct auth_memo {
	char initiator[REDIR_NAME_MAX];
	struct sockaddr_storage src;
	time_t until; /* CLOCK_MONOTONIC seconds */
};
static struct auth_memo *memo;
static size_t nmemo;

static time_t mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

static struct auth_memo *memo_find(const char *ini, const struct sockaddr_storage *src)
{
	for (size_t i = 0; i < nmemo; i++)
		if (cm_sockaddr_same_host(&memo[i].src, src) && strcmp(memo[i].initiator, ini) == 0)
			return &memo[i];
	return NULL;
}

static void memo_note(const char *ini, const struct sockaddr_storage *src)
{
	const struct redir_params *p = redir_params();
	struct auth_memo *m;

	if (!p || !p->auth_lifetime_s)
		return;
	if (!memo && !(memo = calloc(AUTH_MEMO_MAX, sizeof(*memo))))
		return;
	if (!(m = memo_find(ini, src))) {
		if (nmemo < AUTH_MEMO_MAX) {
			m = &memo[nmemo++];
		} else {
			/* Full: the entry that ends first goes. */
			m = &memo[0];
			for (size_t i = 1; i < nmemo; i++)
				if (memo[i].until < m->until)
					m = &memo[i];
		}
		snprintf(m->initiator, sizeof(m->initiator), "%s", ini);
		m->src = *src;
	}
	m->until = mono_s() + (time_t)p->auth_lifetime_s;
}

static bool memo_ok(const char *ini, const struct sockaddr_storage *src)
{
	const struct auth_memo *m = memo_find(ini, src);

	return m && m->until > mono_s();
}

void redir_portal_auth_forget(void)
{
	nmemo = 0;
}

unsigned int redir_portal_nconns(void)
{
	return nconns;
}

static void deadline_in(struct conn *c, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, &c->deadline);
	c->deadline.tv_sec += ms / 1000;
	c->deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (c->deadline.tv_nsec >= 1000000000L) {
		c->deadline.tv_sec++;
		c->deadline.tv_nsec -= 1000000000L;
	}
}

/* A zeroed connection, recycled when one is at hand (it keeps its buffers). */
static struct conn *conn_new(void)
{
	struct conn *c = free_conns;
	uint8_t *in, *out;
	size_t incap, outcap;

	if (!c)
		return calloc(1, sizeof(*c));
	free_conns = c->next;
	nfree_conns--;
	in = c->in, incap = c->incap, out = c->out, outcap = c->outcap;
	memset(c, 0, sizeof(*c));
	c->in = in, c->incap = incap, c->out = out, c->outcap = outcap;
	return c;
}

static void lq_append(struct conn *c)
{
	c->lnext = NULL;
	c->lprev = lq_tail;
	if (lq_tail)
		lq_tail->lnext = c;
	else
		lq_head = c;
	lq_tail = c;
	c->queued = true;
}

/* The connection is past its login (answered, redirected, or gone). */
static void lq_remove(struct conn *c)
{
	if (!c->queued)
		return;
	if (c->lprev)
		c->lprev->lnext = c->lnext;
	else
		lq_head = c->lnext;
	if (c->lnext)
		c->lnext->lprev = c->lprev;
	else
		lq_tail = c->lprev;
	c->lprev = c->lnext = NULL;
	c->queued = false;
}

static void conn_close(struct conn *c)
{
	lq_remove(c);
	redir_src_release(&c->peer);
	if (c->rwatch)
		cm_ev_unwatch_read(c->fd);
	if (c->wwatch)
		cm_ev_unwatch_write(c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	tk_buf_free(&c->text);
	nconns--;
	/* Big buffers (a long SendTargets reply) are not worth keeping. */
	if (nfree_conns < FREE_CONNS_MAX && c->incap <= 8192 && c->outcap <= 8192) {
		c->next = free_conns;
		free_conns = c;
		nfree_conns++;
		return;
	}
	free(c->in);
	free(c->out);
	free(c);
}

static void conn_free_all(void)
{
	while (free_conns) {
		struct conn *c = free_conns;

		free_conns = c->next;
		free(c->in);
		free(c->out);
		free(c);
	}
	nfree_conns = 0;
}

/* Half-closes after the last answer has gone out. */
static void conn_send_fin(struct conn *c)
{
	if (!c->fin_sent) {
		shutdown(c->fd, SHUT_WR);
		c->fin_sent = true;
	}
}

static void on_writable(int fd, void *arg);

/* After the last answer (RFC 7143: a failed or redirected login, a logout
 * ends the connection).  conn_input closes at once when all our bytes are
 * in the kernel and nothing unread is left; otherwise the connection half-
 * closes here and lingers for the initiator's FIN, since closing with unread
 * data would reset the connection before the initiator reads our reply. */
static void conn_linger(struct conn *c)
{
	c->state = C_LINGER;
	lq_remove(c);
	deadline_in(c, LINGER_MS);
	if (c->outoff == c->outlen && !c->in_input)
		conn_send_fin(c);
}

static int flush_out(struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			return -1;
		}
		c->outoff += (size_t)n;
	}
	if (c->outoff == c->outlen) {
		c->outoff = c->outlen = 0;
		if (c->wwatch) {
			cm_ev_unwatch_write(c->fd);
			c->wwatch = false;
		}
		if (c->state == C_LINGER && !c->in_input)
			conn_send_fin(c);
	} else if (!c->wwatch) {
		if (cm_ev_watch_write(c->fd, on_writable, c) < 0)
			return -1;
		c->wwatch = true;
	}
	return 0;
}

/* Reserves room for one PDU at the end of the output buffer. */
static uint8_t *out_room(struct conn *c, size_t n)
{
	if (c->outoff && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outlen + n > c->outcap) {
		size_t ncap = c->outcap ? c->outcap : 1024;
		uint8_t *nb;

		while (ncap < c->outlen + n)
			ncap *= 2;
		nb = realloc(c->out, ncap);
		if (!nb)
			return NULL;
		c->out = nb;
		c->outcap = ncap;
	}
	return c->out + c->outlen;
}

static void on_writable(int fd, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	if (flush_out(c) < 0)
		conn_close(c);
}

static void malformed(struct conn *c, const char *why)
{
	char a[INET6_ADDRSTRLEN] = "?";

	redir_counters_mut()->malformed++;
	if (c->peer.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&c->peer)->sin_addr, a, sizeof(a));
	else if (c->peer.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&c->peer)->sin6_addr, a, sizeof(a));
	cm_log(CM_LOG_INFO, TAG, "connection from %s closed: %s", a, why);
	conn_close(c);
}

/* ---- login ----------------------------------------------------------------- */

static int send_login_rsp(struct conn *c, const struct pdu_login_req *rq, int status, bool transit, uint8_t nsg,
                          uint16_t tsih, const void *data, size_t dlen)
{
	struct pdu_login_rsp rs = {0};
	uint8_t *p;
	ssize_t n;

	rs.transit = status == 0 && transit;
	rs.csg = status == 0 ? rq->csg : 0;
	rs.nsg = rs.transit ? nsg : 0;
	rs.version_max = 0;
	rs.version_active = 0;
	memcpy(rs.isid, rq->isid, 6);
	rs.tsih = tsih;
	rs.itt = rq->itt;
	rs.statsn = c->statsn++;
	rs.expcmdsn = rq->cmdsn;
	rs.maxcmdsn = rq->cmdsn + 16;
	rs.status_class = (uint8_t)(status >> 8);
	rs.status_detail = (uint8_t)status;
	c->expcmdsn = rq->cmdsn;
	if (!(p = out_room(c, pdu_size(dlen))))
		return -1;
	n = pdu_build_login_rsp(p, pdu_size(dlen), &rs, data, dlen);
	if (n < 0)
		return -1;
	c->outlen += (size_t)n;
	return 0;
}

/* A failed or redirected login ends the connection (RFC 7143 11.13.5). */
static int login_final(struct conn *c, const struct pdu_login_req *rq, int status, const void *data, size_t dlen)
{
	if (send_login_rsp(c, rq, status, false, 0, 0, data, dlen) < 0)
		return -1;
	conn_linger(c);
	return flush_out(c);
}

static bool list_has(const char *list, const char *want)
{
	size_t wl = strlen(want);

	for (const char *p = list; *p;) {
		const char *comma = strchr(p, ',');
		size_t l = comma ? (size_t)(comma - p) : strlen(p);

		if (l == wl && strncmp(p, want, l) == 0)
			return true;
		if (!comma)
			break;
		p = comma + 1;
	}
	return false;
}

static bool key_is(const struct tk_pair *k, const char *name)
{
	return k->key_len == strlen(name) && memcmp(k->key, name, k->key_len) == 0;
}

/* Answers the discovery session's keys with the least we can: no digests,
 * no auth, ERL 0, and our own receive limit; offers we do not care about in
 * a discovery session are echoed, which is a valid answer for the min, max,
 * AND and OR result functions alike.  Returns a login status. */
static int answer_keys(struct conn *c, const struct tk_pair *kv, size_t n, struct tk_buf *b, bool operational)
{
	static const char *const echo[] = {
	    "DefaultTime2Wait",    "DefaultTime2Retain", "MaxBurstLength", "FirstBurstLength",
	    "MaxOutstandingR2T",   "InitialR2T",         "ImmediateData",  "DataPDUInOrder",
	    "DataSequenceInOrder", "IFMarker",           "OFMarker"};

	for (size_t i = 0; i < n; i++) {
		const struct tk_pair *k = &kv[i];
		char key[TK_KEY_MAX + 1];
		size_t e;

		memcpy(key, k->key, k->key_len);
		key[k->key_len] = '\0';
		if (key_is(k, "InitiatorName") || key_is(k, "InitiatorAlias") || key_is(k, "SessionType") ||
		    key_is(k, "TargetName"))
			continue;
		if (key_is(k, "AuthMethod")) {
			if (!list_has(k->value, "None"))
				return PDU_LOGIN_AUTH_FAILED;
			if (tk_add(b, key, "None") < 0)
				return PDU_LOGIN_TARGET_ERROR;
			continue;
		}
		if (key_is(k, "HeaderDigest") || key_is(k, "DataDigest")) {
			if (!list_has(k->value, "None"))
				return PDU_LOGIN_INITIATOR_ERROR;
			if (tk_add(b, key, "None") < 0)
				return PDU_LOGIN_TARGET_ERROR;
			continue;
		}
		if (key_is(k, "MaxRecvDataSegmentLength")) {
			char *end;
			unsigned long v = strtoul(k->value, &end, 10);

			if (*end || v < 512 || v > PDU_DSL_MAX)
				return PDU_LOGIN_INITIATOR_ERROR;
			c->peer_mrdsl = v;
			continue; /* declarative: ours goes out below */
		}
		if (key_is(k, "ErrorRecoveryLevel")) {
			if (tk_add(b, key, "0") < 0)
				return PDU_LOGIN_TARGET_ERROR;
			continue;
		}
		if (key_is(k, "MaxConnections")) {
			if (tk_add(b, key, "1") < 0)
				return PDU_LOGIN_TARGET_ERROR;
			continue;
		}
		if (key_is(k, "IFMarkInt") || key_is(k, "OFMarkInt")) {
			if (tk_add(b, key, "Irrelevant") < 0)
				return PDU_LOGIN_TARGET_ERROR;
			continue;
		}
		for (e = 0; e < sizeof(echo) / sizeof(echo[0]); e++)
			if (key_is(k, echo[e]))
				break;
		if (tk_add(b, key, e < sizeof(echo) / sizeof(echo[0]) ? k->value : "NotUnderstood") < 0)
			return PDU_LOGIN_TARGET_ERROR;
	}
	if (operational) {
		if (tk_addf(b, "MaxRecvDataSegmentLength", "%zu", lim.max_data_segment) < 0)
			return PDU_LOGIN_TARGET_ERROR;
	}
	return 0;
}

/* A normal session's login, once the portal has nothing more to ask: the mapped server's address, or why not. */
static int route(struct conn *c, const struct pdu_login_req *rq)
{
	char addr[REDIR_HOST_MAX + 16], buf[REDIR_HOST_MAX + 32];
	struct tk_buf b;
	int status = redir_route_login(c->target, c->initiator, c->isid, &c->peer, addr, sizeof(addr));

	if (status == PDU_LOGIN_REDIRECT_TEMP || status == PDU_LOGIN_REDIRECT_PERM) {
		tk_buf_init(&b, buf, sizeof(buf));
		if (tk_add(&b, "TargetAddress", addr) < 0)
			return login_final(c, rq, PDU_LOGIN_TARGET_ERROR, NULL, 0);
		return login_final(c, rq, status, b.buf, b.len);
	}
	return login_final(c, rq, status, NULL, 0);
}

/* 0x0201 for the initiator; why goes to the log with the names, never a secret. */
static int auth_fail(struct conn *c, const struct pdu_login_req *rq, const char *user, const char *why)
{
	redir_counters_mut()->auth_failures++;
	cm_log(CM_LOG_NOTICE, TAG, "CHAP login of %s (user %s) refused: %s", c->initiator, user ? user : "-", why);
	return login_final(c, rq, PDU_LOGIN_AUTH_FAILED, NULL, 0);
}

/* One security-stage step of CHAP with the initiator: the method, then the
 * algorithm and our challenge, then its name and response.  The response
 * is checked against the credential table; the challenge is fresh per
 * connection and never reused.  Returns 1 when authenticated (nothing sent
 * yet), 0 when the step was answered, -1 when the connection is gone. */
static int chap_step(struct conn *c, const struct pdu_login_req *rq, const struct tk_pair *kv, size_t n)
{
	char buf[512], hex[2 * CHAP_CHALLENGE_LEN + 3], secret[REDIR_CHAP_SECRET_MAX + 1];
	uint8_t rsp[CHAP_RSP_LEN], want[CHAP_RSP_LEN];
	const char *v, *user;
	struct tk_buf b;
	size_t rlen;
	int sl;

	if (rq->csg != PDU_STAGE_SECURITY)
		return auth_fail(c, rq, NULL, "the initiator skipped the security stage");
	tk_buf_init(&b, buf, sizeof(buf));
	switch (c->auth) {
	case A_START:
		if (!(v = tk_get(kv, n, "AuthMethod")) || !list_has(v, "CHAP"))
			return auth_fail(c, rq, NULL, "CHAP not offered");
		if (tk_add(&b, "AuthMethod", "CHAP") < 0)
			return login_final(c, rq, PDU_LOGIN_TARGET_ERROR, NULL, 0);
		c->auth = A_METHOD;
		/* An initiator may name the algorithm in the same PDU. */
		if (!tk_get(kv, n, "CHAP_A"))
			break;
		/* fall through */
	case A_METHOD:
		if (!(v = tk_get(kv, n, "CHAP_A")) || !list_has(v, "5"))
			return auth_fail(c, rq, NULL, "no CHAP_A=5 (MD5)");
		if (chap_random(&c->chap_id, 1) < 0 || chap_random(c->chap_c, sizeof(c->chap_c)) < 0)
			return login_final(c, rq, PDU_LOGIN_TARGET_ERROR, NULL, 0);
		chap_encode(c->chap_c, sizeof(c->chap_c), hex);
		if (tk_add(&b, "CHAP_A", "5") < 0 || tk_addf(&b, "CHAP_I", "%u", c->chap_id) < 0 ||
		    tk_add(&b, "CHAP_C", hex) < 0)
			return login_final(c, rq, PDU_LOGIN_TARGET_ERROR, NULL, 0);
		c->auth = A_CHALLENGED;
		break;
	case A_CHALLENGED:
		user = tk_get(kv, n, "CHAP_N");
		if (!user || !(v = tk_get(kv, n, "CHAP_R")))
			return auth_fail(c, rq, user, "no CHAP_N or CHAP_R");
		/* The portal redirects or serves discovery only: it has no
		 * identity of its own to prove, so mutual CHAP is not offered. */
		if (tk_get(kv, n, "CHAP_I") || tk_get(kv, n, "CHAP_C"))
			return auth_fail(c, rq, user, "mutual CHAP asked for; the portal does not offer it");
		if (chap_decode(v, rsp, sizeof(rsp), &rlen) < 0 || rlen != CHAP_RSP_LEN)
			return auth_fail(c, rq, user, "malformed CHAP_R");
		sl = redir_cred_secret(user, c->initiator, secret, sizeof(secret));
		if (sl < 0)
			return auth_fail(c, rq, user,
			                 sl == -EACCES ? "the credential belongs to another initiator"
			                               : "unknown user");
		chap_response(c->chap_id, secret, (size_t)sl, c->chap_c, sizeof(c->chap_c), want);
		memset(secret, 0, sizeof(secret));
		/* A challenge answers once. */
		memset(c->chap_c, 0, sizeof(c->chap_c));
		if (!chap_equal(rsp, want, CHAP_RSP_LEN))
			return auth_fail(c, rq, user, "wrong response");
		c->auth = A_DONE;
		memo_note(c->initiator, &c->peer);
		return 1;
	default: return login_final(c, rq, PDU_LOGIN_TARGET_ERROR, NULL, 0);
	}
	/* Still in the security stage: T=0 keeps the initiator here. */
	if (send_login_rsp(c, rq, 0, false, 0, 0, b.buf, b.len) < 0)
		return -1;
	return flush_out(c) < 0 ? -1 : 0;
}

/* The discovery session enters full feature phase. */
static int enter_ffp(struct conn *c, const struct pdu_login_req *rq, const struct tk_buf *b)
{
	uint16_t tsih = next_tsih++;

	if (!next_tsih)
		next_tsih = 1;
	if (send_login_rsp(c, rq, 0, true, rq->nsg, tsih, b->buf, b->len) < 0)
		return -1;
	c->state = C_FFP;
	lq_remove(c);
	deadline_in(c, IDLE_MS);
	redir_note_discovery(c->initiator, c->isid, &c->peer);
	return flush_out(c);
}

static int on_login(struct conn *c, const struct pdu *p)
{
	struct tk_pair kv[MAX_PAIRS];
	struct pdu_login_req rq;
	char buf[4096];
	struct tk_buf b;
	size_t n = 0;
	int rc, status;

	if (c->state != C_LOGIN || pdu_get_login_req(p, &rq) < 0) {
		malformed(c, "bad login request");
		return -1;
	}
	rc = tk_parse((const char *)p->data, p->data_len, kv, MAX_PAIRS, &n);
	if (rc == -EPROTO) {
		malformed(c, "bad login text");
		return -1;
	}
	if (rc < 0 || rq.cont)
		return login_final(c, &rq, PDU_LOGIN_INITIATOR_ERROR, NULL, 0);
	if (rq.version_min > 0)
		return login_final(c, &rq, PDU_LOGIN_UNSUPPORTED_VERSION, NULL, 0);

	if (!c->started) {
		const char *ini = tk_get(kv, n, "InitiatorName");
		const char *type = tk_get(kv, n, "SessionType");
		const char *target = tk_get(kv, n, "TargetName");
		const struct redir_params *par = redir_params();

		c->started = true;
		memcpy(c->isid, rq.isid, 6);
		if (!ini || !*ini || strlen(ini) >= sizeof(c->initiator))
			return login_final(c, &rq, PDU_LOGIN_MISSING_PARAM, NULL, 0);
		snprintf(c->initiator, sizeof(c->initiator), "%s", ini);
		if (type && strcmp(type, "Discovery") == 0) {
			c->discovery = true;
		} else if (type && strcmp(type, "Normal") != 0) {
			return login_final(c, &rq, PDU_LOGIN_UNSUPPORTED_SESSION, NULL, 0);
		} else {
			if (!target || !*target || strlen(target) >= sizeof(c->target))
				return login_final(c, &rq, PDU_LOGIN_MISSING_PARAM, NULL, 0);
			snprintf(c->target, sizeof(c->target), "%s", target);
		}
		c->auth = par && par->auth == REDIR_AUTH_CHAP ? A_START : A_OFF;
		/* A discovery session always authenticates: it is the session. */
		if (c->auth == A_START && !c->discovery && memo_ok(c->initiator, &c->peer))
			c->auth = A_DONE;
		if (c->auth != A_START && !c->discovery)
			return route(c, &rq);
	}

	tk_buf_init(&b, buf, sizeof(buf));
	if (c->auth != A_OFF && c->auth != A_DONE) {
		if ((rc = chap_step(c, &rq, kv, n)) <= 0)
			return rc;
		/* Authenticated: a normal login goes on to its server, which
		 * authenticates the initiator again with its own account. */
		if (!c->discovery)
			return route(c, &rq);
		if (rq.transit && rq.nsg == PDU_STAGE_FULL_FEATURE)
			return enter_ffp(c, &rq, &b);
		if (send_login_rsp(c, &rq, 0, rq.transit, rq.nsg, 0, NULL, 0) < 0)
			return -1;
		return flush_out(c);
	}

	/* Discovery session negotiation. */
	status = answer_keys(c, kv, n, &b,
	                     rq.csg == PDU_STAGE_OPERATIONAL || (rq.transit && rq.nsg == PDU_STAGE_OPERATIONAL));
	if (status)
		return login_final(c, &rq, status, NULL, 0);
	if (rq.transit && rq.nsg == PDU_STAGE_FULL_FEATURE)
		return enter_ffp(c, &rq, &b);
	if (send_login_rsp(c, &rq, 0, rq.transit, rq.nsg, 0, b.buf, b.len) < 0)
		return -1;
	return flush_out(c);
}

/* ---- full feature phase of a discovery session ------------------------------- */

static int text_next(struct conn *c)
{
	struct pdu_text_rsp hdr = {0};
	size_t room = pdu_size(c->ts.mrdsl);
	uint8_t *p = out_room(c, room);
	ssize_t n;

	if (!p)
		return -1;
	hdr.itt = c->text_itt;
	hdr.lun = c->text_lun;
	hdr.statsn = c->statsn++;
	hdr.expcmdsn = c->expcmdsn;
	hdr.maxcmdsn = c->expcmdsn + 16;
	n = pdu_text_stream_build(&c->ts, p, room, &hdr);
	if (n < 0)
		return -1;
	c->outlen += (size_t)n;
	if (pdu_text_stream_done(&c->ts)) {
		c->streaming = false;
		tk_buf_free(&c->text);
	}
	return flush_out(c);
}

static void self_address(struct conn *c);

static int on_text(struct conn *c, const struct pdu *p)
{
	struct tk_pair kv[MAX_PAIRS];
	struct pdu_text_req rq;
	size_t n = 0, mrdsl;
	const char *st;
	int rc;

	if (c->state != C_FFP || pdu_get_text_req(p, &rq) < 0 || rq.cont) {
		malformed(c, "bad text request");
		return -1;
	}
	if (!rq.immediate)
		c->expcmdsn = rq.cmdsn + 1;
	if (rq.ttt != PDU_RSVD_TAG) {
		/* The initiator asks for the next part of the reply in flight. */
		if (!c->streaming || rq.ttt != c->ts.ttt || rq.itt != c->text_itt) {
			malformed(c, "text continuation with an unknown tag");
			return -1;
		}
		return text_next(c);
	}
	/* A new request abandons any reply in flight (RFC 7143 11.10.4). */
	c->streaming = false;
	tk_buf_free(&c->text);
	if (tk_parse((const char *)p->data, p->data_len, kv, MAX_PAIRS, &n) < 0) {
		malformed(c, "bad text keys");
		return -1;
	}
	tk_buf_init_dyn(&c->text, SENDTARGETS_MAX);
	/* Only discovery sessions name the portal: a redirected login never pays the getsockname. */
	if (!c->self[0])
		self_address(c);
	st = tk_get(kv, n, "SendTargets");
	rc = 0;
	if (st && strcmp(st, "All") == 0) {
		rc = redir_sendtargets(&c->text, c->self);
	} else if (st && *st) {
		const struct redir_resource *r;

		/* One named target: only if we serve it. */
		for (r = redir_resource_next(0); r; r = redir_resource_next(r->index))
			if (strcmp(r->target, st) == 0)
				break;
		if (r && (rc = tk_add(&c->text, "TargetName", r->target)) == 0)
			rc = tk_add(&c->text, "TargetAddress", c->self);
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char key[TK_KEY_MAX + 1];

		if (key_is(&kv[i], "SendTargets"))
			continue;
		memcpy(key, kv[i].key, kv[i].key_len);
		key[kv[i].key_len] = '\0';
		rc = tk_add(&c->text, key, "NotUnderstood");
	}
	if (rc < 0) {
		cm_log(CM_LOG_WARNING, TAG, "SendTargets reply not built: %s", strerror(-rc));
		tk_buf_free(&c->text);
		tk_buf_init_dyn(&c->text, SENDTARGETS_MAX);
	}
	mrdsl = c->peer_mrdsl ? c->peer_mrdsl : PEER_MRDSL_DEFAULT;
	c->text_itt = rq.itt;
	c->text_lun = rq.lun;
	next_ttt = (next_ttt + 1) & 0x00ffffffu;
	if (pdu_text_stream_init(&c->ts, c->text.buf ? c->text.buf : "", c->text.len, mrdsl,
	                         REPLY_TTT_BASE | next_ttt) < 0)
		return malformed(c, "internal text stream error"), -1;
	c->streaming = true;
	return text_next(c);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Logout Response (RFC 7143 11.15): the codec has no builder for it. */
static int on_logout(struct conn *c, const struct pdu *p)
{
	uint8_t *o;

	if (c->state != C_FFP || p->data_len) {
		malformed(c, "bad logout request");
		return -1;
	}
	if (!p->immediate)
		c->expcmdsn = get32(p->bhs + 24) + 1;
	if (!(o = out_room(c, PDU_BHS_LEN)))
		return -1;
	memset(o, 0, PDU_BHS_LEN);
	o[0] = PDU_OP_LOGOUT_RSP;
	o[1] = 0x80;
	put32(o + 16, p->itt);
	put32(o + 24, c->statsn++);
	put32(o + 28, c->expcmdsn);
	put32(o + 32, c->expcmdsn + 16);
	c->outlen += PDU_BHS_LEN;
	conn_linger(c);
	return flush_out(c);
}

/* NOP-Out ping: answered by a NOP-In echoing its data (RFC 7143 11.18/11.19). */
static int on_nop(struct conn *c, const struct pdu *p)
{
	size_t sz = pdu_size(p->data_len);
	uint8_t *o;

	if (c->state != C_FFP) {
		malformed(c, "NOP-Out during login");
		return -1;
	}
	if (!p->immediate)
		c->expcmdsn = get32(p->bhs + 24) + 1;
	if (p->itt == PDU_RSVD_TAG)
		return 0;
	if (!(o = out_room(c, sz)))
		return -1;
	memset(o, 0, sz);
	o[0] = PDU_OP_NOP_IN;
	o[1] = 0x80;
	o[5] = (uint8_t)(p->data_len >> 16);
	o[6] = (uint8_t)(p->data_len >> 8);
	o[7] = (uint8_t)p->data_len;
	memcpy(o + 8, p->bhs + 8, 8); /* LUN */
	put32(o + 16, p->itt);
	put32(o + 20, PDU_RSVD_TAG);
	put32(o + 24, c->statsn++);
	put32(o + 28, c->expcmdsn);
	put32(o + 32, c->expcmdsn + 16);
	if (p->data_len)
		memcpy(o + PDU_BHS_LEN, p->data, p->data_len);
	c->outlen += sz;
	return flush_out(c);
}

/* Returns -1 when the connection is gone. */
static int on_pdu(struct conn *c, const struct pdu *p)
{
	if (c->state == C_LINGER)
		return 0;
	if (c->state == C_FFP)
		deadline_in(c, IDLE_MS);
	switch (p->opcode) {
	case PDU_OP_LOGIN_REQ: return on_login(c, p);
	case PDU_OP_TEXT_REQ: return on_text(c, p);
	case PDU_OP_LOGOUT_REQ: return on_logout(c, p);
	case PDU_OP_NOP_OUT: return on_nop(c, p);
	default: malformed(c, "unexpected opcode"); return -1;
	}
}

/* Reads and answers what the initiator sent.  Returns -1 when the
 * connection is gone (closed here), 0 while it stays. */
static int conn_input(struct conn *c)
{
	size_t max_pdu = PDU_BHS_LEN + AHS_MAX + lim.max_data_segment + 4, off = 0;
	bool drained = false;
	int rc = 0;

	c->in_input = true;
	for (;;) {
		size_t room;
		ssize_t n;

		if (c->inlen == c->incap) {
			size_t ncap = c->incap ? c->incap * 2 : 1024;
			uint8_t *nb;

			if (ncap > max_pdu)
				ncap = max_pdu;
			if (ncap <= c->incap) {
				malformed(c, "PDU too large");
				return -1;
			}
			nb = realloc(c->in, ncap);
			if (!nb) {
				conn_close(c);
				return -1;
			}
			c->in = nb;
			c->incap = ncap;
		}
		room = c->incap - c->inlen;
		n = recv(c->fd, c->in + c->inlen, room, 0);
		if (n == 0) {
			conn_close(c);
			return -1;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				conn_close(c);
				return -1;
			}
			drained = true;
			break;
		}
		/* A short read emptied the socket: stop here instead of paying
		 * a recv that says EAGAIN (the watch is level-triggered). */
		drained = (size_t)n < room;
		if (c->state == C_LINGER) {
			c->inlen = 0;
			if (drained)
				break;
			continue;
		}
		c->inlen += (size_t)n;
		if (!c->got_bhs && c->inlen >= PDU_BHS_LEN) {
			c->got_bhs = true;
			if (c->state == C_LOGIN)
				c->deadline = c->login_deadline;
		}
		for (off = 0;;) {
			struct pdu p;
			ssize_t used = pdu_parse(c->in + off, c->inlen - off, lim.max_data_segment, &p);

			if (used == 0)
				break;
			if (used < 0) {
				malformed(c, used == -EMSGSIZE ? "data segment over the limit" : "malformed PDU");
				return -1;
			}
			if (on_pdu(c, &p) < 0)
				return -1;
			off += (size_t)used;
			if (c->state == C_LINGER) {
				drained = drained && off == c->inlen;
				off = c->inlen;
				break;
			}
		}
		/* One move per read, not one per PDU. */
		if (off) {
			memmove(c->in, c->in + off, c->inlen - off);
			c->inlen -= off;
		}
		if (drained)
			break;
	}
	c->in_input = false;
	if (c->state == C_LINGER && c->outoff == c->outlen) {
		if (drained && c->inlen == 0) {
			/* Everything read, everything sent: close now, the FIN
			 * follows our reply; no linger, no second wake-up. */
			conn_close(c);
			return -1;
		}
		conn_send_fin(c);
	}
	return rc;
}

static void on_readable(int fd, void *arg)
{
	(void)fd;
	(void)conn_input(arg);
}

static void self_address(struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char a[INET6_ADDRSTRLEN] = "0.0.0.0";
	unsigned port = 0;

	if (getsockname(c->fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
			port = ntohs(s6->sin6_port);
			snprintf(c->self, sizeof(c->self), "[%s]:%u,1", a, port);
			return;
		}
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof(a));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	snprintf(c->self, sizeof(c->self), "%s:%u,1", a, port);
}

static void on_accept(int lfd, void *arg)
{
	(void)arg;
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		int fd = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0)
			return; /* EAGAIN, or a transient error: the listener stays */
		/* One address gets a bounded share; a full table makes room by
		 * dropping the oldest unfinished login rather than refusing the
		 * newcomer, so slots held open by slow clients turn over. */
		if (redir_src_count(&peer) >= lim.max_per_source) {
			redir_counters_mut()->refused++;
			close(fd);
			continue;
		}
		if (nconns >= lim.max_connections) {
			if (!lq_head) {
				redir_counters_mut()->refused++;
				close(fd);
				continue;
			}
			redir_counters_mut()->evicted++;
			conn_close(lq_head);
		}
		c = conn_new();
		if (!c || redir_src_hold(&peer) < 0) {
			if (c) {
				c->next = free_conns;
				free_conns = c;
				nfree_conns++;
			}
			close(fd);
			continue;
		}
		/* TCP_NODELAY comes from the listener (Linux copies it). */
		c->fd = fd;
		c->peer = peer;
		c->state = C_LOGIN;
		c->statsn = 1;
		deadline_in(c, lim.login_timeout_ms);
		c->login_deadline = c->deadline;
		deadline_in(c, lim.header_timeout_ms < lim.login_timeout_ms ? lim.header_timeout_ms
		                                                            : lim.login_timeout_ms);
		lq_append(c);
		c->next = conns;
		if (conns)
			conns->prev = c;
		conns = c;
		nconns++;
		redir_counters_mut()->connections++;
		/* With TCP_DEFER_ACCEPT the Login Request is usually here
		 * already: answer it in this wake-up; a redirected login then
		 * never enters the epoll set. */
		if (conn_input(c) < 0)
			continue;
		if (cm_ev_watch_read(fd, on_readable, c) < 0) {
			conn_close(c);
			continue;
		}
		c->rwatch = true;
	}
}

/* Login timeouts, idle discovery sessions and lingering closes. */
static void sweep(unsigned int id, void *arg)
{
	struct timespec now;

	(void)id;
	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (struct conn *c = conns, *next; c; c = next) {
		next = c->next;
		if (now.tv_sec > c->deadline.tv_sec ||
		    (now.tv_sec == c->deadline.tv_sec && now.tv_nsec >= c->deadline.tv_nsec))
			conn_close(c);
	}
}

void redir_portal_set_limits(const struct redir_portal_limits *l)
{
	lim = *l;
	if (lim.max_data_segment < 512)
		lim.max_data_segment = 512;
	if (!lim.max_per_source)
		lim.max_per_source = lim.max_connections;
	if (!lim.header_timeout_ms)
		lim.header_timeout_ms = lim.login_timeout_ms;
}

int redir_portal_start(char *const *listen_on, size_t nlisten, const struct redir_portal_limits *l, char *err,
                       size_t errlen)
{
	redir_portal_set_limits(l);
	if (nlisten > MAX_LISTEN)
		nlisten = MAX_LISTEN;
	for (size_t i = 0; i < nlisten; i++) {
		struct sockaddr_storage ss;
		socklen_t sl;
		int fd, one = 1, rc, defer_s = (int)((lim.header_timeout_ms + 999) / 1000);

		if ((rc = cm_sockaddr_parse(listen_on[i], &ss, &sl)) < 0) {
			snprintf(err, errlen, "listen %s: not ADDRESS:PORT", listen_on[i]);
			redir_portal_stop();
			return rc;
		}
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		/* Accepted sockets inherit TCP_NODELAY.  TCP_DEFER_ACCEPT wakes
		 * us only once the initiator has sent (it always speaks first),
		 * so accept and the Login Request take one wake-up; a silent
		 * connection waits in the kernel, not in our table, for
		 * about the header deadline. */
		if (fd >= 0) {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_s, sizeof(defer_s));
		}
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
		    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0 ||
		    cm_ev_watch_read(fd, on_accept, NULL) < 0) {
			rc = -errno;
			if (!rc)
				rc = -EIO;
			snprintf(err, errlen, "listen %s: %s", listen_on[i], strerror(-rc));
			if (fd >= 0)
				close(fd);
			redir_portal_stop();
			return rc;
		}
		lfds[nlfds++] = fd;
		cm_log(CM_LOG_INFO, TAG, "portal listening on %s", listen_on[i]);
	}
	if (!sweep_timer)
		sweep_timer = cm_ev_timer(SWEEP_MS, 1, sweep, NULL);
	return 0;
}

void redir_portal_stop(void)
{
	for (size_t i = 0; i < nlfds; i++) {
		cm_ev_unwatch_read(lfds[i]);
		close(lfds[i]);
	}
	nlfds = 0;
	while (conns)
		conn_close(conns);
	conn_free_all();
	free(memo);
	memo = NULL;
	nmemo = 0;
	cm_ev_cancel(sweep_timer);
	sweep_timer = 0;
}
