/* snmp_client.c: asynchronous SNMP client requests (GETBULK walks, SNMPv3 authPriv SETs) over net-snmp sessions. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/evloop.h"
#include "common/log.h"
#include "common/snmp_client.h"

#define TAG "snmpc"
#define SA_SNMPC_BULK 32

/* One request, one session: a session is opened per request and closed
 * when it ends, so nothing stale survives a peer restart (a new engine ID,
 * new boots) and a cancelled request cannot call back into freed state. */
enum { SA_REQ_WALK = 1, SA_REQ_SET, SA_REQ_INFORM };
enum { SA_ST_PROBING = 1, SA_ST_RUNNING, SA_ST_DONE };

struct sa_snmpc_req {
	struct sa_snmpc_req *prev, *next;
	netsnmp_session *ss;
	int kind, state, v3;
	oid root[MAX_OID_LEN], last[MAX_OID_LEN];
	size_t rootlen, lastlen;
	long value;
	netsnmp_variable_list *vars; /* a multi-varbind SET's varbinds (else value under root) */
	int reqid;                   /* the request in flight: answers to older ones are stale */
	cm_snmpc_vb_cb vb;
	cm_snmpc_done_cb done;
	void *arg;
	unsigned int watchdog, closer;
	netsnmp_pdu *inform; /* SA_REQ_INFORM: the PDU each send clones */
	char peer[128];      /* the peer spec, for the engine ID cache */
	int eid_cached;      /* sent with a cached engine ID: a USM refusal probes again once */
};

static struct sa_snmpc_req *sa_reqs;
static unsigned int sa_npending;

/* Ku of the last passphrases (RFC 3414's password to key: 1 MiB of SHA-1, about 3 ms).  A request opens its own
 * session, and the cluster's sync and probe open one per request to each of dozens of peers: two Ku each made one
 * CRT change cost seconds of CPU across 64 hosts.  The key is as secret as the passphrase the config holds anyway;
 * both stay in this process only. */
#define SA_KU_CACHE 4
static struct {
	char pass[256];
	size_t passlen, kulen;
	u_char ku[SNMP_MAXBUF_SMALL];
	int used;
} sa_ku[SA_KU_CACHE];
static unsigned int sa_ku_next;

static int sa_ku_get(const char *pass, u_char *out, size_t *outlen)
{
	size_t len = strlen(pass);
	unsigned int slot;
	int rc;

	for (unsigned int i = 0; i < SA_KU_CACHE; i++)
		if (sa_ku[i].used && sa_ku[i].passlen == len && memcmp(sa_ku[i].pass, pass, len) == 0 &&
		    sa_ku[i].kulen <= *outlen) {
			memcpy(out, sa_ku[i].ku, sa_ku[i].kulen);
			*outlen = sa_ku[i].kulen;
			return SNMPERR_SUCCESS;
		}
	rc = generate_Ku(usmHMACSHA1AuthProtocol, USM_AUTH_PROTO_SHA_LEN, (const u_char *)pass, len, out, outlen);
	if (rc != SNMPERR_SUCCESS || len >= sizeof(sa_ku[0].pass) || *outlen > sizeof(sa_ku[0].ku))
		return rc;
	slot = sa_ku_next++ % SA_KU_CACHE;
	explicit_bzero(&sa_ku[slot], sizeof(sa_ku[slot]));
	memcpy(sa_ku[slot].pass, pass, len);
	sa_ku[slot].passlen = len;
	memcpy(sa_ku[slot].ku, out, *outlen);
	sa_ku[slot].kulen = *outlen;
	sa_ku[slot].used = 1;
	return rc;
}

/* Engine IDs learnt by probes, per peer spec.  A request to a peer asked before skips the probe's round trip
 * (a move or a sync sends several requests to one agent in a row).  A peer that restarted with another engine ID
 * refuses the cached one (unknownEngineID, or a digest made with keys localized to it; net-snmp drops such a REPORT,
 * so the request times out): the request then forgets it and probes once, as a first request does.  A restart with the
 * same engine ID and new boots is net-snmp's own notInTimeWindow resend. */
#define SA_EID_CACHE 128
static struct {
	char peer[128];
	u_char id[SNMP_MAX_ENG_SIZE];
	size_t len;
} sa_eid[SA_EID_CACHE];
static unsigned int sa_eid_next;

static int sa_eid_find(const char *peer)
{
	for (int i = 0; i < SA_EID_CACHE; i++)
		if (sa_eid[i].len && strcmp(sa_eid[i].peer, peer) == 0)
			return i;
	return -1;
}

static void sa_eid_put(const char *peer, const u_char *id, size_t len)
{
	int i = sa_eid_find(peer);

	if (!peer[0] || !len || len > sizeof(sa_eid[0].id) || strlen(peer) >= sizeof(sa_eid[0].peer))
		return;
	if (i < 0)
		i = (int)(sa_eid_next++ % SA_EID_CACHE);
	snprintf(sa_eid[i].peer, sizeof(sa_eid[i].peer), "%s", peer);
	memcpy(sa_eid[i].id, id, len);
	sa_eid[i].len = len;
}

static void sa_eid_forget(const char *peer)
{
	int i = sa_eid_find(peer);

	if (i >= 0)
		sa_eid[i].len = 0;
}

unsigned int cm_snmpc_pending(void)
{
	return sa_npending;
}

static void sa_req_unlink(struct sa_snmpc_req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		sa_reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

static void sa_req_free(struct sa_snmpc_req *r)
{
	cm_ev_cancel(r->watchdog);
	cm_ev_cancel(r->closer);
	r->watchdog = r->closer = 0;
	sa_req_unlink(r);
	/* Callbacks net-snmp may run from snmp_close see SA_ST_DONE and return. */
	r->state = SA_ST_DONE;
	if (r->ss)
		snmp_close(r->ss);
	if (r->vars)
		snmp_free_varbind(r->vars);
	if (r->inform)
		snmp_free_pdu(r->inform);
	free(r);
	sa_npending--;
}

/* A session cannot be closed from inside its own callback: the close runs
 * from a timer right after. */
static void sa_req_close_tick(unsigned int id, void *arg)
{
	struct sa_snmpc_req *r = arg;

	(void)id;
	r->closer = 0;
	sa_req_free(r);
}

static void sa_req_finish(struct sa_snmpc_req *r, int rc, const char *why)
{
	if (r->state == SA_ST_DONE)
		return;
	r->state = SA_ST_DONE;
	cm_ev_cancel(r->watchdog);
	r->watchdog = 0;
	if (r->done)
		r->done(rc, why, r->arg);
	r->closer = cm_ev_timer(1, 0, sa_req_close_tick, r);
	if (!r->closer)
		cm_log(CM_LOG_WARNING, TAG, "cannot schedule a session close; it stays open");
}

/* Against lost requests whatever their cause (a REPORT net-snmp swallowed,
 * a resend that never came): every request ends by this time at the latest. */
static void sa_req_watchdog(unsigned int id, void *arg)
{
	struct sa_snmpc_req *r = arg;

	(void)id;
	r->watchdog = 0;
	sa_req_finish(r, -ETIMEDOUT, "no answer");
}

static int sa_req_send_next(struct sa_snmpc_req *r)
{
	netsnmp_pdu *pdu;

	if (r->kind == SA_REQ_WALK) {
		pdu = snmp_pdu_create(SNMP_MSG_GETBULK);
		if (!pdu)
			return -ENOMEM;
		pdu->non_repeaters = 0;
		pdu->max_repetitions = SA_SNMPC_BULK;
		snmp_add_null_var(pdu, r->last, r->lastlen);
	} else if (r->kind == SA_REQ_INFORM) {
		if (!(pdu = snmp_clone_pdu(r->inform)))
			return -ENOMEM;
	} else {
		pdu = snmp_pdu_create(SNMP_MSG_SET);
		if (!pdu)
			return -ENOMEM;
		if (r->vars) {
			/* A resend after engine discovery sends the same varbinds again: the PDU gets a copy. */
			if (!(pdu->variables = snmp_clone_varbind(r->vars))) {
				snmp_free_pdu(pdu);
				return -ENOMEM;
			}
		} else {
			snmp_pdu_add_variable(pdu, r->root, r->rootlen, ASN_INTEGER, &r->value, sizeof(r->value));
		}
	}
	if (!(r->reqid = snmp_send(r->ss, pdu))) {
		snmp_free_pdu(pdu);
		return -EIO;
	}
	return 0;
}

/* USM engine ID discovery without net-snmp's own probe, which waits for
 * the answer in a loop of its own: a noAuthNoPriv GET with an empty
 * engine ID, whose REPORT carries the peer's engine ID. */
static int sa_req_send_probe(struct sa_snmpc_req *r)
{
	netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);

	if (!pdu)
		return -ENOMEM;
	pdu->version = SNMP_VERSION_3;
	pdu->securityModel = SNMP_SEC_MODEL_USM;
	pdu->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
	pdu->securityName = strdup("");
	pdu->securityNameLen = 0;
	if (!(r->reqid = snmp_send(r->ss, pdu))) {
		snmp_free_pdu(pdu);
		return -EIO;
	}
	return 0;
}

static int sa_probe_answered(struct sa_snmpc_req *r, netsnmp_session *sp, netsnmp_pdu *pdu)
{
	if (!sp->securityEngineIDLen) {
		if (!pdu->securityEngineIDLen)
			return -EPROTO;
		sp->securityEngineID = netsnmp_memdup(pdu->securityEngineID, pdu->securityEngineIDLen);
		if (!sp->securityEngineID)
			return -ENOMEM;
		sp->securityEngineIDLen = pdu->securityEngineIDLen;
		if (!sp->contextEngineIDLen) {
			sp->contextEngineID = netsnmp_memdup(pdu->securityEngineID, pdu->securityEngineIDLen);
			if (sp->contextEngineID)
				sp->contextEngineIDLen = pdu->securityEngineIDLen;
		}
	}
	/* Localizes the passphrase keys to the engine just learnt. */
	if (create_user_from_session(sp) != SNMPERR_SUCCESS)
		return -EACCES;
	sa_eid_put(r->peer, sp->securityEngineID, sp->securityEngineIDLen);
	r->state = SA_ST_RUNNING;
	return sa_req_send_next(r);
}

/* Sets the session's engine ID (NULL: none, to be probed). */
static int sa_sess_engine(netsnmp_session *sp, const u_char *id, size_t len)
{
	SNMP_FREE(sp->securityEngineID);
	SNMP_FREE(sp->contextEngineID);
	sp->securityEngineIDLen = sp->contextEngineIDLen = 0;
	if (!id)
		return 0;
	if (!(sp->securityEngineID = netsnmp_memdup(id, len)) || !(sp->contextEngineID = netsnmp_memdup(id, len)))
		return -ENOMEM;
	sp->securityEngineIDLen = sp->contextEngineIDLen = len;
	return 0;
}

/* A request sent with a cached engine ID was refused by the peer's USM: it may have another engine ID now.
 * Forget it and start over with a probe.  0, or a negative errno when the probe cannot be sent. */
static int sa_req_reprobe(struct sa_snmpc_req *r, netsnmp_session *sp)
{
	r->eid_cached = 0;
	sa_eid_forget(r->peer);
	sa_sess_engine(sp, NULL, 0);
	/* net-snmp creates a session's USM user once (this flag); the new engine needs its own. */
	sp->flags &= ~SNMP_FLAGS_USER_CREATED;
	r->state = SA_ST_PROBING;
	return sa_req_send_probe(r);
}

static int sa_errstat_rc(long errstat)
{
	switch (errstat) {
	case SNMP_ERR_NOACCESS:
	case SNMP_ERR_NOTWRITABLE:
	case SNMP_ERR_AUTHORIZATIONERROR:
	case SNMP_ERR_NOSUCHNAME:
	case SNMP_ERR_READONLY: return -EACCES;
	default: return -EIO;
	}
}

static int sa_oid_under(const oid *root, size_t rootlen, const oid *o, size_t len)
{
	return len > rootlen && netsnmp_oid_is_subtree(root, rootlen, o, len) == 0;
}

/* One GETBULK answer: hands its varbinds out, then asks for more. */
static void sa_walk_answer(struct sa_snmpc_req *r, netsnmp_pdu *pdu)
{
	netsnmp_variable_list *v;
	uint32_t o32[MAX_OID_LEN];
	int rc;

	for (v = pdu->variables; v; v = v->next_variable) {
		struct cm_snmpc_vb vb = {.oid = o32, .oidlen = v->name_length};

		if (v->type == SNMP_ENDOFMIBVIEW || v->type == SNMP_NOSUCHOBJECT || v->type == SNMP_NOSUCHINSTANCE ||
		    !sa_oid_under(r->root, r->rootlen, v->name, v->name_length)) {
			sa_req_finish(r, 0, NULL);
			return;
		}
		if (snmp_oid_compare(v->name, v->name_length, r->last, r->lastlen) <= 0) {
			sa_req_finish(r, -EPROTO, "the peer's OIDs do not increase");
			return;
		}
		memcpy(r->last, v->name, v->name_length * sizeof(oid));
		r->lastlen = v->name_length;
		for (size_t i = 0; i < v->name_length; i++)
			o32[i] = (uint32_t)v->name[i];
		switch (v->type) {
		case ASN_INTEGER:
			vb.type = CM_SNMPC_INTEGER;
			vb.i = *v->val.integer;
			break;
		case ASN_GAUGE:
		case ASN_COUNTER:
		case ASN_TIMETICKS:
			vb.type = CM_SNMPC_UNSIGNED;
			vb.u = (uint32_t)*v->val.integer;
			break;
		case ASN_COUNTER64:
			vb.type = CM_SNMPC_COUNTER64;
			vb.u = ((uint64_t)v->val.counter64->high << 32) | (uint32_t)v->val.counter64->low;
			break;
		case ASN_OCTET_STR:
			vb.type = CM_SNMPC_STRING;
			vb.str = (const char *)v->val.string;
			vb.len = v->val_len;
			break;
		default: vb.type = CM_SNMPC_OTHER; break;
		}
		if (r->vb && r->vb(&vb, r->arg)) {
			sa_req_finish(r, 0, NULL);
			return;
		}
	}
	if (!pdu->variables) {
		sa_req_finish(r, 0, NULL);
		return;
	}
	if ((rc = sa_req_send_next(r)) < 0)
		sa_req_finish(r, rc, "cannot send");
}

static int sa_req_cb(int op, netsnmp_session *sp, int reqid, netsnmp_pdu *pdu, void *magic)
{
	struct sa_snmpc_req *r = magic;
	int rc;

	/* net-snmp may call back twice for the probe's REPORT (a security
	 * error, then the message): only the request in flight counts. */
	if (!r || r->state == SA_ST_DONE || reqid != r->reqid)
		return 1;
	/* net-snmp 5.9 hands the probe's REPORT (unknownEngineID) in as a
	 * security error; it carries the engine ID all the same. */
	if (r->state == SA_ST_PROBING && pdu && pdu->command == SNMP_MSG_REPORT &&
	    (op == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE || op == NETSNMP_CALLBACK_OP_SEC_ERROR)) {
		if ((rc = sa_probe_answered(r, sp, pdu)) < 0)
			sa_req_finish(r, rc,
			              rc == -EACCES ? "cannot set up the SNMPv3 user" : "engine ID discovery failed");
		return 1;
	}
	switch (op) {
	case NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE: break;
	/* Progress notes, not ends: a retry (a timeout, or the resend after
	 * a notInTimeWindow REPORT that net-snmp makes by itself). */
	case NETSNMP_CALLBACK_OP_RESEND:
	case NETSNMP_CALLBACK_OP_CONNECT: return 1;
	case NETSNMP_CALLBACK_OP_TIMED_OUT:
		/* net-snmp drops the unknownEngineID REPORT of a peer that now has another engine ID (it is not an
		 * answer to the request as sent): silence after a cached engine ID is probed once more. */
		if (r->eid_cached && sa_req_reprobe(r, sp) == 0)
			return 1;
		sa_req_finish(r, -ETIMEDOUT, "no answer");
		return 1;
	case NETSNMP_CALLBACK_OP_SEC_ERROR:
		if (r->eid_cached && sa_req_reprobe(r, sp) == 0)
			return 1;
		sa_req_finish(r, -EACCES,
		              pdu && pdu->command == SNMP_MSG_REPORT
		                  ? snmp_api_errstring(snmpv3_get_report_type(pdu))
		                  : "SNMPv3 security error (user, passphrases or engine)");
		return 1;
	case NETSNMP_CALLBACK_OP_SEND_FAILED: sa_req_finish(r, -EIO, "cannot send"); return 1;
	default: sa_req_finish(r, -EIO, "connection lost"); return 1;
	}
	if (!pdu) {
		sa_req_finish(r, -EIO, "empty answer");
		return 1;
	}
	if (r->state == SA_ST_PROBING) {
		if ((rc = sa_probe_answered(r, sp, pdu)) < 0)
			sa_req_finish(r, rc,
			              rc == -EACCES ? "cannot set up the SNMPv3 user" : "engine ID discovery failed");
		return 1;
	}
	if (pdu->command == SNMP_MSG_REPORT) {
		/* net-snmp resends after a time window REPORT by itself. */
		if (snmpv3_get_report_type(pdu) == SNMPERR_NOT_IN_TIME_WINDOW)
			return 1;
		if (r->eid_cached && sa_req_reprobe(r, sp) == 0)
			return 1;
		sa_req_finish(r, -EACCES, snmp_api_errstring(snmpv3_get_report_type(pdu)));
		return 1;
	}
	if (pdu->errstat != SNMP_ERR_NOERROR) {
		sa_req_finish(r, sa_errstat_rc(pdu->errstat), snmp_errstring(pdu->errstat));
		return 1;
	}
	if (r->kind == SA_REQ_WALK)
		sa_walk_answer(r, pdu);
	else
		sa_req_finish(r, 0, NULL);
	return 1;
}

static struct sa_snmpc_req *sa_req_open(const struct cm_snmpc_peer *p, int kind, int v3)
{
	struct sa_snmpc_req *r;
	netsnmp_session s;
	unsigned int tmo = p->timeout_ms ? p->timeout_ms : 1000;
	int retries = p->retries < 0 ? 1 : p->retries;

	if (!p->peer || !p->peer[0])
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->kind = kind;
	r->v3 = v3;
	snprintf(r->peer, sizeof(r->peer), "%s", p->peer);
	snmp_sess_init(&s);
	s.peername = (char *)p->peer;
	s.timeout = (long)tmo * 1000;
	s.retries = retries;
	s.callback = sa_req_cb;
	s.callback_magic = r;
	if (!v3) {
		s.version = SNMP_VERSION_2c;
		s.community = (u_char *)p->community;
		s.community_len = strlen(p->community);
	} else {
		s.version = SNMP_VERSION_3;
		s.flags |= SNMP_FLAGS_DONT_PROBE;
		s.securityModel = SNMP_SEC_MODEL_USM;
		s.securityName = (char *)p->user;
		s.securityNameLen = strlen(p->user);
		s.securityLevel = SNMP_SEC_LEVEL_AUTHPRIV;
		s.securityAuthProto = usmHMACSHA1AuthProtocol;
		s.securityAuthProtoLen = USM_AUTH_PROTO_SHA_LEN;
		s.securityAuthKeyLen = USM_AUTH_KU_LEN;
		s.securityPrivProto = usmAESPrivProtocol;
		s.securityPrivProtoLen = USM_PRIV_PROTO_AES_LEN;
		s.securityPrivKeyLen = USM_PRIV_KU_LEN;
		if (sa_ku_get(p->auth_pass, s.securityAuthKey, &s.securityAuthKeyLen) != SNMPERR_SUCCESS ||
		    sa_ku_get(p->priv_pass, s.securityPrivKey, &s.securityPrivKeyLen) != SNMPERR_SUCCESS) {
			explicit_bzero(&s, sizeof(s));
			free(r);
			return NULL;
		}
	}
	r->ss = snmp_open(&s);
	explicit_bzero(s.securityAuthKey, sizeof(s.securityAuthKey));
	explicit_bzero(s.securityPrivKey, sizeof(s.securityPrivKey));
	if (!r->ss) {
		free(r);
		return NULL;
	}
	/* net-snmp 5.9 turns DONT_PROBE at open into a "delayed probe" at the
	 * first send, run synchronously in a select loop of its own: keep the
	 * flag on the open session so only our asynchronous probe runs. */
	if (v3)
		r->ss->flags |= SNMP_FLAGS_DONT_PROBE;
	r->next = sa_reqs;
	if (sa_reqs)
		sa_reqs->prev = r;
	sa_reqs = r;
	sa_npending++;
	/* Probe, request, a time window resend, each with its retries. */
	r->watchdog = cm_ev_timer(tmo * (unsigned)(retries + 1) * 3 + 500, 0, sa_req_watchdog, r);
	return r;
}

static int sa_req_start(struct sa_snmpc_req *r)
{
	int rc;

	r->state = r->v3 ? SA_ST_PROBING : SA_ST_RUNNING;
	if (r->v3) {
		int i = sa_eid_find(r->peer);

		/* A known engine: its keys localized to it, the request goes out at once. */
		if (i >= 0 && sa_sess_engine(r->ss, sa_eid[i].id, sa_eid[i].len) == 0 &&
		    create_user_from_session(r->ss) == SNMPERR_SUCCESS) {
			r->eid_cached = 1;
			r->state = SA_ST_RUNNING;
		} else {
			sa_sess_engine(r->ss, NULL, 0);
		}
	}
	rc = r->state == SA_ST_PROBING ? sa_req_send_probe(r) : sa_req_send_next(r);
	if (rc < 0)
		sa_req_free(r);
	return rc;
}

static int sa_peer_v3(const struct cm_snmpc_peer *p)
{
	return p->user && p->user[0] && p->auth_pass && strlen(p->auth_pass) >= 8 && p->priv_pass &&
	       strlen(p->priv_pass) >= 8;
}

int cm_snmpc_walk(const struct cm_snmpc_peer *p, const uint32_t *root, size_t rootlen, cm_snmpc_vb_cb vb,
                  cm_snmpc_done_cb done, void *arg)
{
	struct sa_snmpc_req *r;
	int v3;

	if (!p || !root || !rootlen || rootlen > MAX_OID_LEN)
		return -EINVAL;
	if (p->community && p->community[0])
		v3 = 0;
	else if (sa_peer_v3(p))
		v3 = 1;
	else
		return -EINVAL;
	if (!(r = sa_req_open(p, SA_REQ_WALK, v3)))
		return -EIO;
	for (size_t i = 0; i < rootlen; i++)
		r->root[i] = r->last[i] = root[i];
	r->rootlen = r->lastlen = rootlen;
	r->vb = vb;
	r->done = done;
	r->arg = arg;
	return sa_req_start(r);
}

int cm_snmpc_set_int(const struct cm_snmpc_peer *p, const uint32_t *o, size_t oidlen, long value, cm_snmpc_done_cb done,
                     void *arg)
{
	struct sa_snmpc_req *r;

	if (!p || !o || !oidlen || oidlen > MAX_OID_LEN)
		return -EINVAL;
	/* Writes only over authPriv: a community never authorizes a SET here. */
	if (!sa_peer_v3(p))
		return -EPERM;
	if (!(r = sa_req_open(p, SA_REQ_SET, 1)))
		return -EIO;
	for (size_t i = 0; i < oidlen; i++)
		r->root[i] = o[i];
	r->rootlen = oidlen;
	r->value = value;
	r->done = done;
	r->arg = arg;
	return sa_req_start(r);
}

int cm_snmpc_set(const struct cm_snmpc_peer *p, const struct cm_snmpc_vb *vbs, size_t n, cm_snmpc_done_cb done,
                 void *arg)
{
	netsnmp_variable_list *vars = NULL;
	struct sa_snmpc_req *r;

	if (!p || !vbs || !n)
		return -EINVAL;
	if (!sa_peer_v3(p))
		return -EPERM;
	for (size_t k = 0; k < n; k++) {
		const struct cm_snmpc_vb *v = &vbs[k];
		oid o[MAX_OID_LEN];
		long l = (long)v->i;
		u_long u = (u_long)v->u;
		netsnmp_variable_list *added;

		if (!v->oid || !v->oidlen || v->oidlen > MAX_OID_LEN)
			goto bad;
		for (size_t i = 0; i < v->oidlen; i++)
			o[i] = v->oid[i];
		switch (v->type) {
		case CM_SNMPC_INTEGER:
			added = snmp_varlist_add_variable(&vars, o, v->oidlen, ASN_INTEGER, &l, sizeof(l));
			break;
		case CM_SNMPC_UNSIGNED:
			added = snmp_varlist_add_variable(&vars, o, v->oidlen, ASN_UNSIGNED, &u, sizeof(u));
			break;
		case CM_SNMPC_STRING:
			added = snmp_varlist_add_variable(&vars, o, v->oidlen, ASN_OCTET_STR, v->str, v->len);
			break;
		default: goto bad;
		}
		if (!added) {
			snmp_free_varbind(vars);
			return -ENOMEM;
		}
	}
	if (!(r = sa_req_open(p, SA_REQ_SET, 1))) {
		snmp_free_varbind(vars);
		return -EIO;
	}
	r->vars = vars;
	r->done = done;
	r->arg = arg;
	return sa_req_start(r);
bad:
	if (vars)
		snmp_free_varbind(vars);
	return -EINVAL;
}

void cm_snmpc_cancel_all(void)
{
	while (sa_reqs)
		sa_req_free(sa_reqs);
}

/* ---- informs ------------------------------------------------------------------------------------ */

static int sa_inform_add(netsnmp_pdu *pdu, const struct cm_snmpc_vb *vb)
{
	oid o[MAX_OID_LEN];
	long l;
	u_long u;
	struct counter64 c64;

	if (!vb->oid || !vb->oidlen || vb->oidlen > MAX_OID_LEN)
		return -EINVAL;
	for (size_t i = 0; i < vb->oidlen; i++)
		o[i] = vb->oid[i];
	switch (vb->type) {
	case CM_SNMPC_INTEGER:
		l = (long)vb->i;
		return snmp_pdu_add_variable(pdu, o, vb->oidlen, ASN_INTEGER, &l, sizeof(l)) ? 0 : -ENOMEM;
	case CM_SNMPC_UNSIGNED:
		u = (u_long)vb->u;
		return snmp_pdu_add_variable(pdu, o, vb->oidlen, ASN_UNSIGNED, &u, sizeof(u)) ? 0 : -ENOMEM;
	case CM_SNMPC_COUNTER64:
		c64.high = (u_long)(vb->u >> 32);
		c64.low = (u_long)(vb->u & 0xffffffffu);
		return snmp_pdu_add_variable(pdu, o, vb->oidlen, ASN_COUNTER64, &c64, sizeof(c64)) ? 0 : -ENOMEM;
	case CM_SNMPC_STRING:
		return snmp_pdu_add_variable(pdu, o, vb->oidlen, ASN_OCTET_STR, vb->str, vb->len) ? 0 : -ENOMEM;
	default: return -EINVAL;
	}
}

int cm_snmpc_inform(const struct cm_snmpc_peer *p, const uint32_t *trap_oid, size_t trap_oid_len,
                    const struct cm_snmpc_vb *vbs, size_t nvbs, cm_snmpc_done_cb done, void *arg)
{
	static const oid uptime_oid[] = {1, 3, 6, 1, 2, 1, 1, 3, 0};
	static const oid trapoid_oid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};
	oid to[MAX_OID_LEN];
	struct sa_snmpc_req *r;
	netsnmp_pdu *pdu;
	u_long up;
	int rc;

	if (!p || !trap_oid || !trap_oid_len || trap_oid_len > MAX_OID_LEN || (nvbs && !vbs))
		return -EINVAL;
	/* Messages that steer initiators go only over authPriv. */
	if (!sa_peer_v3(p))
		return -EPERM;
	if (!(pdu = snmp_pdu_create(SNMP_MSG_INFORM)))
		return -ENOMEM;
	up = (u_long)get_uptime();
	for (size_t i = 0; i < trap_oid_len; i++)
		to[i] = trap_oid[i];
	if (!snmp_pdu_add_variable(pdu, uptime_oid, OID_LENGTH(uptime_oid), ASN_TIMETICKS, &up, sizeof(up)) ||
	    !snmp_pdu_add_variable(pdu, trapoid_oid, OID_LENGTH(trapoid_oid), ASN_OBJECT_ID, to,
	                           trap_oid_len * sizeof(oid))) {
		snmp_free_pdu(pdu);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nvbs; i++)
		if ((rc = sa_inform_add(pdu, &vbs[i])) < 0) {
			snmp_free_pdu(pdu);
			return rc;
		}
	if (!(r = sa_req_open(p, SA_REQ_INFORM, 1))) {
		snmp_free_pdu(pdu);
		return -EIO;
	}
	r->inform = pdu;
	r->done = done;
	r->arg = arg;
	return sa_req_start(r);
}
