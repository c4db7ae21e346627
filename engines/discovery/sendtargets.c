/* sendtargets.c: the SendTargets client: one non-blocking discovery session per exchange, driven by the agent loop. */
#include <config.h>

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

#include "engines/discovery/sendtargets.h"
#include "engines/sessions.h"
#include "iscsi/chap.h"
#include "iscsi/pdu.h"
#include "iscsi/textkeys.h"
#include "common/evloop.h"
#include "common/log.h"

/* Default MaxRecvDataSegmentLength we declare: large PDUs mean fewer
 * round trips for a 10,000-target reply; pdu_parse enforces it. */
#define ST_MRDSL 262144u
/* Login and text negotiations that go on longer than this are broken. */
#define ST_MAX_ROUNDS 16
/* Pairs in one login response we look at; CHAP answers carry a handful. */
#define ST_MAX_PAIRS 64

/* Where the CHAP part of the security stage stands (RFC 7143 12.1.3). */
enum st_chap_step {
	CHAP_OFFER = 0, /* next: AuthMethod=CHAP */
	CHAP_ALGO,      /* next: CHAP_A=5 */
	CHAP_ANSWER,    /* next: CHAP_N/CHAP_R (and our CHAP_I/CHAP_C for mutual) */
	CHAP_DONE,      /* next: an empty request that asks to leave the stage */
};

struct disc_st {
	int fd;
	enum disc_st_phase phase;
	struct disc_st_params p;
	char *initiator;
	char *target;        /* a normal session's TargetName, NULL for discovery */
	unsigned int status; /* of the last login response */
	disc_st_cb cb;
	void *arg;
	unsigned int conn_timer, timer;
	bool want_write;
	/* outgoing bytes not yet written */
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	/* incoming bytes not yet framed */
	uint8_t *in;
	size_t in_len, in_cap;
	/* the reply text, continuation PDUs joined */
	char *text;
	size_t text_len, text_cap;
	/* session state */
	uint8_t isid[6];
	uint16_t tsih;
	uint32_t itt, cmdsn, expstatsn;
	int login_stage; /* CSG of the next login request */
	int rounds;
	unsigned int text_pdus;
	bool text_done;
	/* when SendTargets went out and its first and last answers came: the
	 * target's own time to build a large reply shows apart from ours */
	struct timespec t_asked, t_first, t_last;
	/* discovery CHAP; secrets are wiped when the exchange ends and never logged */
	bool chap, mutual;
	int chap_step;
	char *chap_user, *chap_secret, *chap_tuser, *chap_tsecret;
	uint8_t chap_id;                     /* the target's CHAP_I */
	uint8_t chap_rsp[CHAP_RSP_LEN];      /* our answer to its challenge */
	uint8_t my_id;                       /* our CHAP_I (mutual) */
	uint8_t my_chal[CHAP_CHALLENGE_LEN]; /* our CHAP_C (mutual) */
	/* its row in the sessions registry (0 until connected) */
	uint32_t sess_id;
	struct sess_info si;
	struct sess_counters sc;
};

static void free_secret(char *s)
{
	if (s) {
		/* volatile: the wipe must survive the free right after it */
		for (volatile char *p = s; *p; p++)
			*p = 0;
		free(s);
	}
}

static void st_free(struct disc_st *st)
{
	if (st->conn_timer)
		cm_ev_cancel(st->conn_timer);
	if (st->timer)
		cm_ev_cancel(st->timer);
	if (st->fd >= 0) {
		cm_ev_unwatch_read(st->fd);
		if (st->want_write)
			cm_ev_unwatch_write(st->fd);
		close(st->fd);
	}
	if (st->sess_id)
		sess_remove(st->sess_id);
	free(st->initiator);
	free(st->target);
	free(st->chap_user);
	free_secret(st->chap_secret);
	free(st->chap_tuser);
	free_secret(st->chap_tsecret);
	memset(st->chap_rsp, 0, sizeof(st->chap_rsp));
	free(st->out);
	free(st->in);
	free(st->text);
	free(st);
}

static void st_finish(struct disc_st *st, int rc)
{
	/* A reply in hand is a success whatever happens during logout. */
	if (st->text_done)
		rc = 0;
	if (st->text_pdus)
		cm_log(CM_LOG_DEBUG, "discovery",
		       "SendTargets reply: %zu bytes in %u Text Response PDUs; the target answered after %ld ms, "
		       "the rest came in %ld ms",
		       st->text_len, st->text_pdus, disc_ms_between(&st->t_asked, &st->t_first),
		       disc_ms_between(&st->t_first, &st->t_last));
	st->cb(rc, st->phase, st->text ? st->text : "", st->text_len, st->arg);
	st_free(st);
}

unsigned int disc_st_status(const struct disc_st *st)
{
	return st ? st->status : 0;
}

void disc_st_cancel(struct disc_st *st)
{
	if (st)
		st_free(st);
}

static void on_timeout(unsigned int id, void *arg)
{
	struct disc_st *st = arg;

	if (id == st->conn_timer)
		st->conn_timer = 0;
	else
		st->timer = 0;
	st_finish(st, -ETIMEDOUT);
}

static void on_readable(int fd, void *arg);
static void on_writable(int fd, void *arg);

static int grow(void *pbuf, size_t *cap, size_t need, size_t max)
{
	uint8_t **buf = pbuf;
	size_t n = *cap ? *cap : 4096;
	void *p;

	if (need <= *cap)
		return 0;
	if (need > max)
		return -EFBIG;
	while (n < need)
		n *= 2;
	if (n > max)
		n = max;
	p = realloc(*buf, n);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

static void set_want_write(struct disc_st *st, bool on)
{
	if (on == st->want_write)
		return;
	if (on) {
		if (cm_ev_watch_write(st->fd, on_writable, st) < 0)
			return;
	} else {
		cm_ev_unwatch_write(st->fd);
	}
	st->want_write = on;
}

/* Writes what it can; the rest goes out when the socket drains. */
static int flush(struct disc_st *st)
{
	while (st->out_off < st->out_len) {
		ssize_t n = send(st->fd, st->out + st->out_off, st->out_len - st->out_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				set_want_write(st, true);
				return 0;
			}
			return -errno;
		}
		st->out_off += (size_t)n;
		st->sc.tx_bytes += (uint64_t)n;
	}
	st->out_len = st->out_off = 0;
	set_want_write(st, false);
	return 0;
}

/* Reserves room for one PDU at the end of the output buffer. */
static uint8_t *out_room(struct disc_st *st, size_t need)
{
	if (st->out_off == st->out_len)
		st->out_len = st->out_off = 0;
	if (grow(&st->out, &st->out_cap, st->out_len + need, SIZE_MAX) < 0)
		return NULL;
	return st->out + st->out_len;
}

/* A discovery session, or a normal one to st->target. */
static int session_keys(struct disc_st *st, struct tk_buf *kv)
{
	int rc;

	if (!st->target)
		return tk_add(kv, "SessionType", "Discovery");
	if ((rc = tk_add(kv, "SessionType", "Normal")) < 0)
		return rc;
	return tk_add(kv, "TargetName", st->target);
}

/* Keys of the next security-stage request; *transit says whether it asks to move on. */
static int security_keys(struct disc_st *st, struct tk_buf *kv, bool *transit)
{
	char hex[2 * CHAP_CHALLENGE_LEN + 3];
	int rc = 0;

	*transit = true;
	if (!st->chap) {
		if (st->rounds == 0 && ((rc = tk_add(kv, "InitiatorName", st->initiator)) < 0 ||
		                        (rc = session_keys(st, kv)) < 0 || (rc = tk_add(kv, "AuthMethod", "None")) < 0))
			return rc;
		return 0;
	}
	switch (st->chap_step) {
	case CHAP_OFFER:
		*transit = false;
		if ((rc = tk_add(kv, "InitiatorName", st->initiator)) < 0 || (rc = session_keys(st, kv)) < 0 ||
		    (rc = tk_add(kv, "AuthMethod", "CHAP")) < 0)
			return rc;
		return 0;
	case CHAP_ALGO: *transit = false; return tk_addf(kv, "CHAP_A", "%d", CHAP_MD5);
	case CHAP_ANSWER:
		chap_encode(st->chap_rsp, sizeof(st->chap_rsp), hex);
		if ((rc = tk_add(kv, "CHAP_N", st->chap_user)) < 0 || (rc = tk_add(kv, "CHAP_R", hex)) < 0)
			return rc;
		if (st->mutual) {
			chap_encode(st->my_chal, sizeof(st->my_chal), hex);
			if ((rc = tk_addf(kv, "CHAP_I", "%u", (unsigned int)st->my_id)) < 0 ||
			    (rc = tk_add(kv, "CHAP_C", hex)) < 0)
				return rc;
		}
		return 0;
	default: return 0;
	}
}

static int send_login(struct disc_st *st)
{
	struct pdu_login_req r = {0};
	struct tk_buf kv;
	char mem[2048];
	uint8_t *o;
	ssize_t n = 0;
	int rc = 0;
	bool transit = true;

	tk_buf_init(&kv, mem, sizeof(mem));
	if (st->login_stage == PDU_STAGE_SECURITY) {
		if ((rc = security_keys(st, &kv, &transit)) < 0)
			return rc;
	} else if (st->login_stage == PDU_STAGE_OPERATIONAL && st->rounds == 0) {
		if ((rc = tk_add(&kv, "HeaderDigest", "None")) < 0 || (rc = tk_add(&kv, "DataDigest", "None")) < 0 ||
		    (rc = tk_addf(&kv, "MaxRecvDataSegmentLength", "%u", st->p.mrdsl)) < 0)
			return rc;
	}
	r.transit = transit;
	r.csg = (uint8_t)st->login_stage;
	r.nsg = !transit ? 0 : st->login_stage == PDU_STAGE_SECURITY ? PDU_STAGE_OPERATIONAL : PDU_STAGE_FULL_FEATURE;
	memcpy(r.isid, st->isid, sizeof(r.isid));
	r.tsih = st->tsih;
	r.itt = st->itt;
	r.cmdsn = st->cmdsn;
	r.expstatsn = st->expstatsn;
	if (!(o = out_room(st, pdu_size(kv.len))))
		rc = -ENOMEM;
	else if ((n = pdu_build_login_req(o, st->out_cap - st->out_len, &r, kv.buf, kv.len)) < 0)
		rc = (int)n;
	/* The buffer held a CHAP response: nothing of it stays on the stack. */
	memset(mem, 0, sizeof(mem));
	if (rc < 0)
		return rc;
	st->out_len += (size_t)n;
	st->sc.cmds++;
	return flush(st);
}

static int send_text(struct disc_st *st, uint32_t ttt, bool first)
{
	static const char q[] = "SendTargets=All";
	struct pdu_text_req r = {0};
	size_t dlen = first ? sizeof(q) : 0;
	uint8_t *o;
	ssize_t n;

	r.final = true;
	r.itt = st->itt;
	r.ttt = ttt;
	r.cmdsn = st->cmdsn;
	r.expstatsn = st->expstatsn;
	if (!(o = out_room(st, pdu_size(dlen))))
		return -ENOMEM;
	n = pdu_build_text_req(o, st->out_cap - st->out_len, &r, first ? q : NULL, dlen);
	if (n < 0)
		return (int)n;
	/* Non-immediate: each request takes the next CmdSN. */
	st->cmdsn++;
	st->out_len += (size_t)n;
	st->sc.cmds++;
	return flush(st);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* pdu.h has no Logout builder; the BHS is simple (RFC 7143 11.14). */
static int send_logout(struct disc_st *st)
{
	uint8_t *o = out_room(st, PDU_BHS_LEN);

	if (!o)
		return -ENOMEM;
	memset(o, 0, PDU_BHS_LEN);
	o[0] = 0x40 | PDU_OP_LOGOUT_REQ; /* immediate */
	o[1] = 0x80;                     /* F, reason 0: close the session */
	put32(o + 16, ++st->itt);
	put32(o + 24, st->cmdsn);
	put32(o + 28, st->expstatsn);
	st->out_len += PDU_BHS_LEN;
	st->sc.cmds++;
	return flush(st);
}

static int login_error(const struct pdu_login_rsp *r)
{
	uint16_t code = (uint16_t)(r->status_class << 8 | r->status_detail);

	switch (code) {
	case PDU_LOGIN_AUTH_FAILED:
	case PDU_LOGIN_FORBIDDEN: return -EACCES;
	case PDU_LOGIN_NOT_FOUND:
	case PDU_LOGIN_REMOVED: return -ENOENT;
	}
	if (r->status_class == 3)
		return -EAGAIN;
	/* Redirects are not followed for discovery: the configured portal is the one we mean. */
	return -EPROTO;
}

/* The target's side of CHAP in a login response of the security stage.
 * 0 to go on, 1 when a CHAP request went out (nothing more to do for this
 * response), or a negative errno. */
static int chap_step(struct disc_st *st, const struct pdu *p)
{
	struct tk_pair pairs[ST_MAX_PAIRS];
	size_t n = 0;
	const char *v, *id, *chal;
	uint8_t bin[CHAP_BIN_MAX];
	size_t blen;
	char *end;
	unsigned long l;
	int rc;

	if (p->data_len && tk_parse((const char *)p->data, p->data_len, pairs, ST_MAX_PAIRS, &n) < 0)
		return -EPROTO;
	switch (st->chap_step) {
	case CHAP_OFFER:
		v = tk_get(pairs, n, "AuthMethod");
		if (v && strcmp(v, "CHAP") == 0) {
			st->chap_step = CHAP_ALGO;
			return 1;
		}
		/* A target that needs no authentication may say None; mutual
		 * CHAP means we need it to prove itself, so that is a failure. */
		if (v && strcmp(v, "None") == 0 && !st->mutual) {
			st->chap = false;
			return 0;
		}
		return -EACCES;
	case CHAP_ALGO:
		v = tk_get(pairs, n, "CHAP_A");
		id = tk_get(pairs, n, "CHAP_I");
		chal = tk_get(pairs, n, "CHAP_C");
		if (!v || strcmp(v, "5") != 0 || !id || !chal)
			return -EACCES;
		errno = 0;
		l = strtoul(id, &end, 0);
		if (errno || *end || end == id || l > 255)
			return -EPROTO;
		if (chap_decode(chal, bin, sizeof(bin), &blen) < 0 || blen == 0)
			return -EPROTO;
		st->chap_id = (uint8_t)l;
		rc = chap_response(st->chap_id, st->chap_secret, strlen(st->chap_secret), bin, blen, st->chap_rsp);
		if (rc < 0)
			return rc;
		if (st->mutual) {
			uint8_t rnd[CHAP_CHALLENGE_LEN + 1];

			if ((rc = chap_random(rnd, sizeof(rnd))) < 0)
				return rc;
			st->my_id = rnd[0];
			memcpy(st->my_chal, rnd + 1, sizeof(st->my_chal));
			/* A target that returns our own challenge could make us
			 * answer for it (reflection): RFC 7143 12.1.3. */
			if (blen == sizeof(st->my_chal) && memcmp(bin, st->my_chal, blen) == 0)
				return -EACCES;
		}
		st->chap_step = CHAP_ANSWER;
		return 1;
	case CHAP_ANSWER:
		st->chap_step = CHAP_DONE;
		if (!st->mutual)
			return 0;
		v = tk_get(pairs, n, "CHAP_N");
		chal = tk_get(pairs, n, "CHAP_R");
		if (!v || !chal || strcmp(v, st->chap_tuser) != 0)
			return -EKEYREJECTED;
		if (chap_decode(chal, bin, sizeof(bin), &blen) < 0 || blen != CHAP_RSP_LEN)
			return -EKEYREJECTED;
		{
			uint8_t want[CHAP_RSP_LEN];
			int ok;

			chap_response(st->my_id, st->chap_tsecret, strlen(st->chap_tsecret), st->my_chal,
			              sizeof(st->my_chal), want);
			ok = chap_equal(want, bin, sizeof(want));
			memset(want, 0, sizeof(want));
			if (!ok)
				return -EKEYREJECTED;
		}
		return 0;
	default: return 0;
	}
}

static void sess_update(struct disc_st *st)
{
	if (st->sess_id)
		sess_set_counters(st->sess_id, &st->sc);
}

static int on_login_rsp(struct disc_st *st, const struct pdu *p)
{
	struct pdu_login_rsp r;
	int rc;

	if (pdu_get_login_rsp(p, &r) < 0)
		return -EPROTO;
	st->status = (unsigned int)(r.status_class << 8 | r.status_detail);
	if (r.status_class != 0)
		return login_error(&r);
	if (st->target && p->data_len) {
		struct tk_pair pairs[ST_MAX_PAIRS];
		size_t n = 0;
		const char *alias;

		/* A target may declare its alias in any login response (RFC 7143 13.7). */
		if (tk_parse((const char *)p->data, p->data_len, pairs, ST_MAX_PAIRS, &n) == 0 &&
		    (alias = tk_get(pairs, n, "TargetAlias")) &&
		    grow(&st->text, &st->text_cap, strlen(alias) + 1, st->p.max_reply + 1) == 0) {
			memcpy(st->text, alias, strlen(alias) + 1);
			st->text_len = strlen(alias);
		}
	}
	st->expstatsn = r.statsn + 1;
	st->cmdsn = r.expcmdsn;
	if (++st->rounds > ST_MAX_ROUNDS)
		return -EPROTO;
	if (st->chap && st->login_stage == PDU_STAGE_SECURITY) {
		if ((rc = chap_step(st, p)) < 0)
			return rc;
		if (rc > 0)
			return send_login(st);
		/* A target must not leave the security stage before CHAP is done. */
		if (st->chap && st->chap_step != CHAP_DONE && r.transit)
			return -EACCES;
	}
	if (r.transit && r.nsg == PDU_STAGE_FULL_FEATURE) {
		st->tsih = r.tsih;
		st->phase = DISC_ST_TEXT;
		st->itt++;
		st->rounds = 0;
		if (st->sess_id) {
			st->si.tsih = r.tsih;
			st->si.state = SESS_LOGGED_IN;
			st->si.login_time = time(NULL);
			sess_set_info(st->sess_id, &st->si);
		}
		clock_gettime(CLOCK_MONOTONIC, &st->t_asked);
		if (st->target) {
			/* Informational: logged in is all it asks; out again at once. */
			st->text_done = true;
			st->phase = DISC_ST_LOGOUT;
			return send_logout(st);
		}
		return send_text(st, PDU_RSVD_TAG, true);
	}
	if (r.transit && r.nsg == PDU_STAGE_OPERATIONAL && st->login_stage == PDU_STAGE_SECURITY) {
		st->login_stage = PDU_STAGE_OPERATIONAL;
		st->rounds = 0;
	}
	/* Otherwise the target wants another round in this stage: ask again to move on. */
	return send_login(st);
}

static int on_text_rsp(struct disc_st *st, const struct pdu *p)
{
	struct pdu_text_rsp r;
	int rc;

	if (pdu_get_text_rsp(p, &r) < 0 || r.itt != st->itt)
		return -EPROTO;
	st->expstatsn = r.statsn + 1;
	clock_gettime(CLOCK_MONOTONIC, &st->t_last);
	if (!st->text_pdus++)
		st->t_first = st->t_last;
	/* C=1 means a pair is cut at the PDU end: joining the segments mends it. */
	if (p->data_len) {
		if ((rc = grow(&st->text, &st->text_cap, st->text_len + p->data_len + 1, st->p.max_reply + 1)) < 0)
			return rc;
		memcpy(st->text + st->text_len, p->data, p->data_len);
		st->text_len += p->data_len;
		st->text[st->text_len] = '\0';
	}
	if (!r.final) {
		if (++st->rounds > 1000000)
			return -EPROTO;
		/* An empty request with the target's tag fetches the next part. */
		return send_text(st, r.ttt, false);
	}
	if (r.cont)
		return -EPROTO;
	st->text_done = true;
	st->phase = DISC_ST_LOGOUT;
	return send_logout(st);
}

/* 0 to go on, 1 when the exchange is over, or a negative errno. */
static int on_pdu(struct disc_st *st, const struct pdu *p)
{
	switch (p->opcode) {
	case PDU_OP_LOGIN_RSP:
		if (st->phase != DISC_ST_LOGIN)
			return -EPROTO;
		return on_login_rsp(st, p);
	case PDU_OP_TEXT_RSP:
		if (st->phase != DISC_ST_TEXT)
			return -EPROTO;
		return on_text_rsp(st, p);
	case PDU_OP_LOGOUT_RSP: return 1;
	case PDU_OP_REJECT: return -EPROTO;
	default: return 0; /* NOP-In, async messages: nothing a discovery session must answer */
	}
}

static void on_readable(int fd, void *arg)
{
	struct disc_st *st = arg;
	size_t off;
	int rc;

	for (;;) {
		ssize_t n;

		if ((rc = grow(&st->in, &st->in_cap, st->in_len + 65536, SIZE_MAX)) < 0)
			goto done;
		n = recv(fd, st->in + st->in_len, st->in_cap - st->in_len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			rc = -errno;
			goto done;
		}
		if (n == 0) {
			rc = -ECONNRESET;
			goto done;
		}
		st->in_len += (size_t)n;
		st->sc.rx_bytes += (uint64_t)n;
		/* Framed PDUs are consumed by offset and the tail moved down once:
		 * a move per PDU costs a read's worth of copying per small PDU. */
		off = 0;
		for (;;) {
			struct pdu p;
			ssize_t used = pdu_parse(st->in + off, st->in_len - off, st->p.mrdsl, &p);

			if (used == 0)
				break;
			if (used < 0) {
				rc = (int)used;
				goto done;
			}
			off += (size_t)used;
			rc = on_pdu(st, &p);
			if (rc != 0)
				goto done;
		}
		if (off) {
			memmove(st->in, st->in + off, st->in_len - off);
			st->in_len -= off;
		}
		if ((size_t)n < 65536)
			break;
	}
	sess_update(st);
	return;
done:
	st_finish(st, rc > 0 ? 0 : rc);
}

/* sanSessionLogout on a discovery session: the exchange ends at once. */
static int st_sess_logout(uint32_t id, void *arg)
{
	struct disc_st *st = arg;

	(void)id;
	cm_log(CM_LOG_INFO, "discovery", "discovery session %s:%u logged out by the operator", st->si.portal_addr,
	       st->si.portal_port);
	st_finish(st, -ECONNABORTED);
	return 0;
}

static void addr_string(const struct sockaddr_storage *ss, char *host, size_t hl, unsigned int *port)
{
	host[0] = '\0';
	*port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &a->sin_addr, host, (socklen_t)hl);
		*port = ntohs(a->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, host, (socklen_t)hl);
		*port = ntohs(a->sin6_port);
	}
}

/* A connected exchange is a discovery session for sanSessionTable. */
static void sess_register(struct disc_st *st)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&st->si, 0, sizeof(st->si));
	snprintf(st->si.initiator, sizeof(st->si.initiator), "%s", st->initiator);
	if (getpeername(st->fd, (struct sockaddr *)&ss, &len) == 0)
		addr_string(&ss, st->si.portal_addr, sizeof(st->si.portal_addr), &st->si.portal_port);
	len = sizeof(ss);
	if (getsockname(st->fd, (struct sockaddr *)&ss, &len) == 0)
		addr_string(&ss, st->si.src_addr, sizeof(st->si.src_addr), &st->si.src_port);
	memcpy(st->si.isid, st->isid, sizeof(st->si.isid));
	st->si.type = st->target ? SESS_TYPE_NORMAL : SESS_TYPE_DISCOVERY;
	if (st->target)
		snprintf(st->si.target, sizeof(st->si.target), "%s", st->target);
	st->si.owner = SESS_OWNER_DISCOVERY;
	st->si.state = SESS_LOGGING_IN;
	st->sess_id = sess_add(&st->si, st_sess_logout, st);
}

static void on_writable(int fd, void *arg)
{
	struct disc_st *st = arg;
	int rc, err = 0;
	socklen_t len = sizeof(err);

	if (st->phase == DISC_ST_CONNECT) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			st_finish(st, -err);
			return;
		}
		if (st->conn_timer) {
			cm_ev_cancel(st->conn_timer);
			st->conn_timer = 0;
		}
		set_want_write(st, false);
		if (cm_ev_watch_read(fd, on_readable, st) < 0) {
			st_finish(st, -ENOMEM);
			return;
		}
		st->phase = DISC_ST_LOGIN;
		st->login_stage = PDU_STAGE_SECURITY;
		sess_register(st);
		if ((rc = send_login(st)) < 0)
			st_finish(st, rc);
		return;
	}
	if ((rc = flush(st)) < 0)
		st_finish(st, rc);
}

int disc_st_start(const struct sockaddr *addr, socklen_t addrlen, const struct disc_st_params *p, disc_st_cb cb,
                  void *arg, struct disc_st **out)
{
	struct disc_st *st;
	int one = 1, rc;

	if (!addr || !p || !p->initiator || !cb)
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->fd = -1;
	st->p = *p;
	if (!st->p.mrdsl)
		st->p.mrdsl = ST_MRDSL;
	st->cb = cb;
	st->arg = arg;
	st->phase = DISC_ST_CONNECT;
	if (!(st->initiator = strdup(p->initiator)) || (p->target_name && !(st->target = strdup(p->target_name)))) {
		free(st->initiator);
		free(st);
		return -ENOMEM;
	}
	st->p.target_name = NULL;
	if (p->chap_user && p->chap_user[0]) {
		st->chap = true;
		st->mutual = p->chap_target_user && p->chap_target_user[0];
		if (!(st->chap_user = strdup(p->chap_user)) ||
		    !(st->chap_secret = strdup(p->chap_secret ? p->chap_secret : "")) ||
		    (st->mutual &&
		     (!(st->chap_tuser = strdup(p->chap_target_user)) ||
		      !(st->chap_tsecret = strdup(p->chap_target_secret ? p->chap_target_secret : ""))))) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	/* The copies above are ours: the caller's may go with a config reload. */
	st->p.chap_user = st->p.chap_secret = st->p.chap_target_user = st->p.chap_target_secret = NULL;
	/* ISID type "random" (RFC 7143 10.12.5): 0b10 then random bits.  Two
	 * sessions with one initiator name and one ISID would make the target
	 * reinstate (end) the first, so concurrent exchanges must differ: the
	 * low bytes count up, the high ones differ between agent runs. */
	{
		static uint32_t seq;
		static uint32_t salt;
		uint32_t n;

		if (!salt)
			salt = ((uint32_t)time(NULL) * 2654435761u) ^ ((uint32_t)getpid() << 8) ^ 1u;
		n = ++seq;
		st->isid[0] = 0x80 | (uint8_t)(salt & 0x3f);
		st->isid[1] = (uint8_t)(salt >> 8);
		st->isid[2] = (uint8_t)(salt >> 16);
		st->isid[3] = (uint8_t)(n >> 16);
		st->isid[4] = (uint8_t)(n >> 8);
		st->isid[5] = (uint8_t)n;
		st->itt = n;
	}
	st->cmdsn = 1;
	st->fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (st->fd < 0) {
		rc = -errno;
		goto fail;
	}
	setsockopt(st->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(st->fd, addr, addrlen) < 0 && errno != EINPROGRESS) {
		rc = -errno;
		goto fail;
	}
	/* Completion (or refusal) of the connect shows up as writability. */
	if (cm_ev_watch_write(st->fd, on_writable, st) < 0) {
		rc = -ENOMEM;
		goto fail;
	}
	st->want_write = true;
	if (p->connect_timeout_ms)
		st->conn_timer = cm_ev_timer(p->connect_timeout_ms, 0, on_timeout, st);
	if (p->timeout_ms)
		st->timer = cm_ev_timer(p->timeout_ms, 0, on_timeout, st);
	if (out)
		*out = st;
	return 0;
fail:
	st_free(st);
	return rc;
}

/* ---- reply parsing --------------------------------------------------- */

int disc_st_parse_addr(const char *s, struct disc_st_addr *out)
{
	const char *host = s, *hend, *rest;
	unsigned char bin[16];
	char *end;
	long v;

	memset(out, 0, sizeof(*out));
	out->port = 3260;
	if (*s == '[') {
		host = s + 1;
		hend = strchr(host, ']');
		if (!hend)
			return -EINVAL;
		rest = hend + 1;
	} else {
		hend = host + strcspn(host, ":,");
		rest = hend;
	}
	if (hend == host || (size_t)(hend - host) >= sizeof(out->host))
		return -EINVAL;
	memcpy(out->host, host, (size_t)(hend - host));
	out->host[hend - host] = '\0';
	if (*rest == ':') {
		v = strtol(rest + 1, &end, 10);
		if (end == rest + 1 || v < 1 || v > 65535)
			return -EINVAL;
		out->port = (uint16_t)v;
		rest = end;
	}
	if (*rest == ',') {
		v = strtol(rest + 1, &end, 10);
		if (end == rest + 1 || v < 0 || v > 65535)
			return -EINVAL;
		out->tpgt = (uint16_t)v;
		out->has_tpgt = 1;
		rest = end;
	}
	if (*rest)
		return -EINVAL;
	if (inet_pton(AF_INET, out->host, bin) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, out->host, bin) == 1)
		out->family = AF_INET6;
	else
		out->family = AF_UNSPEC;
	return 0;
}

int disc_st_parse(const char *text, size_t len, disc_st_target_fn fn, void *arg)
{
	const char *p = text, *end = text + len;
	char name[256] = "";
	int naddr = 0;

	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		size_t l = nul ? (size_t)(nul - p) : (size_t)(end - p);
		char pair[512];

		/* Longer pairs are no names (223 octets at most) or addresses. */
		if (l < sizeof(pair)) {
			memcpy(pair, p, l);
			pair[l] = '\0';
			if (strncmp(pair, "TargetName=", 11) == 0 && pair[11] && l - 11 < sizeof(name)) {
				if (name[0] && !naddr)
					fn(name, NULL, arg);
				memcpy(name, pair + 11, l - 11 + 1);
				naddr = 0;
			} else if (strncmp(pair, "TargetAddress=", 14) == 0) {
				struct disc_st_addr a;

				if (!name[0])
					return -EPROTO;
				if (disc_st_parse_addr(pair + 14, &a) == 0) {
					fn(name, &a, arg);
					naddr++;
				} else {
					cm_log(CM_LOG_DEBUG, "discovery", "ignoring malformed TargetAddress");
				}
			}
		}
		p += l + 1;
	}
	if (name[0] && !naddr)
		fn(name, NULL, arg);
	return 0;
}
