/* receiver.c: the incoming SNMPv2c/v3 notification receiver: authentication, inform acks, counters, dispatch. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/large_fd_set.h>
#include <net-snmp/library/snmpusm.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/evloop.h"
#include "common/log.h"
#include "traps/dispatch.h"
#include "traps/receiver.h"

#define TAG "trapd"
#define RX_MAX_EID 32

/*
 * How a datagram is judged.  The receiver owns a single-API session
 * (snmp_sess_add_ex) whose socket it watches itself, so each readable
 * event is exactly one datagram and the library's verdict on it can be
 * seen in full (the process is single threaded):
 *  - the pre-parse hook runs for every datagram read: that is "received";
 *  - a snapshot of the library's drop statistics (ASN.1 errors, bad
 *    versions, snmpInvalidMsgs, usmStats*) is taken before the read; any
 *    counter that moved belongs to this datagram;
 *  - the post-parse hook sees the parse result of what the library
 *    rejected before any session callback;
 *  - the session callback applies our own rules (community + source,
 *    configured v3 user, security level, PDU type).  It must not trust
 *    that it is only called for good messages: on a USM authentication
 *    failure net-snmp's USM calls the session callback itself with
 *    s_snmp_errno set and the unauthenticated PDU, so the callback first
 *    checks s_snmp_errno and the statistics.
 * SNMPv3 engine-ID discovery probes (answered by the library with a
 * usmStatsUnknownEngineIDs report, the first step of every v3 INFORM)
 * are counted in received only: they are protocol, neither an attack
 * nor garbage.  So a v3 INFORM from a sender without a cached engine ID
 * adds 2 to received and 1 to accepted.
 */
enum rx_verdict { RX_PENDING = 0, RX_ACCEPTED, RX_UNAUTH, RX_MALFORMED, RX_DISCOVERY };

struct rx_net {
	int family;
	unsigned char addr[16];
	unsigned int bits;
};

struct rx_community {
	char *community; /* secret: never logged */
	size_t len;
	struct rx_net *nets;
	size_t nnets;
};

struct rx_user {
	char *name;
	char *auth_protocol;
	char *auth_passphrase; /* secret */
	char *priv_protocol;
	char *priv_passphrase; /* secret */
	int local;             /* no engine_id: keys localized to our own engine (informs) */
	unsigned char eid[RX_MAX_EID];
	size_t eid_len;
	/* The USM entry we created and own; NULL when not created (no
	 * local engine ID yet, or the name was taken by someone else). */
	struct usmUser *usm;
	/* The engine the last creation attempt was for: retried only when
	 * the engine changes, so a conflict is logged once. */
	int tried;
	unsigned char usm_eid[RX_MAX_EID];
	size_t usm_eid_len;
};

struct rx_auth {
	struct rx_community *communities;
	size_t ncommunities;
	struct rx_user *users;
	size_t nusers;
};

/* Library statistics that only move when a message is dropped. */
static const int rx_drop_stats[] = {
    STAT_SNMPINASNPARSEERRS,           STAT_SNMPINBADVERSIONS,
    STAT_SNMPUNKNOWNSECURITYMODELS,    STAT_SNMPINVALIDMSGS,
    STAT_USMSTATSUNSUPPORTEDSECLEVELS, STAT_USMSTATSNOTINTIMEWINDOWS,
    STAT_USMSTATSUNKNOWNUSERNAMES,     STAT_USMSTATSUNKNOWNENGINEIDS,
    STAT_USMSTATSWRONGDIGESTS,         STAT_USMSTATSDECRYPTIONERRORS,
};
#define RX_NSTATS (sizeof(rx_drop_stats) / sizeof(rx_drop_stats[0]))

struct rx_pkt {
	u_int stats[RX_NSTATS]; /* snapshot taken before the read */
	int seen;               /* the pre-parse hook ran: a datagram was read */
	int parsed;             /* the post-parse hook ran */
	int parse_ret;
	int command;
	long version;
	int sec_level;
	int has_sec_name;
	int drop_noted; /* rx_drop_note saw this datagram */
	enum rx_verdict verdict;
};

static struct {
	void *sessp; /* the session of rx_cur, for the hooks */
	struct rx_auth auth;
	struct rx_pkt pkt;
} rx;

static struct cm_trap_counters rx_counters;

/* Drop logs: a sender of forged or broken datagrams must not be able to
 * flood the log.  The first drop after a quiet second is logged with its
 * details; the ones after it are counted by reason and summarised once a
 * second, as the notification budgets are, until a second passes without
 * a drop. */
enum rx_drop_why { RXD_VERSION, RXD_NOT_NOTIFICATION, RXD_V2C, RXD_V3, RXD_LIBRARY_UNAUTH, RXD_LIBRARY, RXD_N };
static const char *const rx_drop_text[RXD_N] = {
    "SNMP version not accepted",
    "not a notification",
    "v2c community/source not allowed",
    "v3 user not accepted at this level",
    "authentication refused by the SNMP library",
    "refused by the SNMP library",
};
static struct {
	unsigned int n[RXD_N];
	unsigned int unauth, malformed;
	char last[INET6_ADDRSTRLEN + 8];
	unsigned int timer; /* running while drops keep coming */
} rx_drops;

static const oid rx_sysuptime_oid[] = {1, 3, 6, 1, 2, 1, 1, 3, 0};
static const oid rx_trapoid_oid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};

const struct cm_trap_counters *sa_trap_receiver_counters(void)
{
	return &rx_counters;
}

static void rx_drop_flush(void)
{
	char line[512];
	size_t off = 0;

	if (!rx_drops.unauth && !rx_drops.malformed)
		return;
	for (int i = 0; i < RXD_N; i++) {
		int k;

		if (!rx_drops.n[i])
			continue;
		k = snprintf(line + off, sizeof(line) - off, "%s%u %s", off ? ", " : "", rx_drops.n[i],
		             rx_drop_text[i]);
		if (k < 0 || (size_t)k >= sizeof(line) - off)
			break;
		off += (size_t)k;
	}
	cm_log(CM_LOG_NOTICE, TAG,
	       "dropped %u datagrams (%u unauthenticated, %u malformed) since the last report: %s; last from %s",
	       rx_drops.unauth + rx_drops.malformed, rx_drops.unauth, rx_drops.malformed, line,
	       rx_drops.last[0] ? rx_drops.last : "?");
	memset(rx_drops.n, 0, sizeof(rx_drops.n));
	rx_drops.unauth = rx_drops.malformed = 0;
}

static void rx_drop_tick(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	if (!rx_drops.unauth && !rx_drops.malformed) {
		cm_ev_cancel(rx_drops.timer);
		rx_drops.timer = 0;
		return;
	}
	rx_drop_flush();
}

static void rx_drop_stop(void)
{
	rx_drop_flush();
	if (rx_drops.timer)
		cm_ev_cancel(rx_drops.timer);
	rx_drops.timer = 0;
}

/* One dropped datagram: why, from whom (NULL: not known), and a detail
 * for the first one's log line (never a community: it is the password). */
static void rx_drop_note(enum rx_drop_why why, int unauth, const char *from, const char *detail)
{
	rx.pkt.drop_noted = 1;
	if (from)
		snprintf(rx_drops.last, sizeof(rx_drops.last), "%s", from);
	if (!rx_drops.timer) {
		rx_drops.timer = cm_ev_timer(1000, 1, rx_drop_tick, NULL);
		cm_log(CM_LOG_INFO, TAG,
		       "dropped a datagram from %s: %s%s%s (further drops are summarised once a second)",
		       from ? from : "?", rx_drop_text[why], detail ? ": " : "", detail ? detail : "");
		if (rx_drops.timer)
			return;
	}
	rx_drops.n[why]++;
	if (unauth)
		rx_drops.unauth++;
	else
		rx_drops.malformed++;
}

static void rx_set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void rx_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void rx_free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* ---- authentication tables ------------------------------------------ */

static int rx_parse_net(const char *text, struct rx_net *net)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash, *end;
	unsigned long bits;
	unsigned int max;

	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, buf, net->addr) == 1) {
		net->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, net->addr) == 1) {
		net->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	net->bits = max;
	if (slash) {
		errno = 0;
		bits = strtoul(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || bits > max)
			return -EINVAL;
		net->bits = (unsigned int)bits;
	}
	return 0;
}

static int rx_net_contains(const struct rx_net *net, int family, const unsigned char *addr)
{
	unsigned int full = net->bits / 8, rest = net->bits % 8;

	if (family != net->family)
		return 0;
	if (memcmp(net->addr, addr, full))
		return 0;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));

		if ((net->addr[full] & mask) != (addr[full] & mask))
			return 0;
	}
	return 1;
}

static int rx_hex_eid(const char *hex, unsigned char *out, size_t *outlen)
{
	size_t n, i;

	if (!strncmp(hex, "0x", 2) || !strncmp(hex, "0X", 2))
		hex += 2;
	n = strlen(hex);
	if (!n || n % 2 || n / 2 > RX_MAX_EID)
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		unsigned int v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1 || !isxdigit((unsigned char)hex[2 * i]) ||
		    !isxdigit((unsigned char)hex[2 * i + 1]))
			return -EINVAL;
		out[i] = (unsigned char)v;
	}
	*outlen = n / 2;
	return 0;
}

static void rx_auth_free(struct rx_auth *a)
{
	size_t i;

	for (i = 0; i < a->ncommunities; i++) {
		rx_free_secret(a->communities[i].community);
		free(a->communities[i].nets);
	}
	free(a->communities);
	for (i = 0; i < a->nusers; i++) {
		struct rx_user *u = &a->users[i];

		free(u->name);
		free(u->auth_protocol);
		rx_free_secret(u->auth_passphrase);
		free(u->priv_protocol);
		rx_free_secret(u->priv_passphrase);
	}
	free(a->users);
	memset(a, 0, sizeof(*a));
}

static char *rx_strdup(const char *s)
{
	return strdup(s ? s : "");
}

/* Copies what the receiver needs out of cfg (the caller may free it). */
static int rx_auth_build(const struct sa_trap_receiver_config *cfg, struct rx_auth *a, char *err, size_t errlen)
{
	size_t i, j;

	memset(a, 0, sizeof(*a));
	if (cfg->ncommunities) {
		a->communities = calloc(cfg->ncommunities, sizeof(*a->communities));
		if (!a->communities)
			goto nomem;
	}
	for (i = 0; i < cfg->ncommunities; i++) {
		const struct sa_trap_community *c = &cfg->communities[i];
		struct rx_community *rc = &a->communities[i];

		a->ncommunities++;
		if (!c->community || !*c->community) {
			rx_set_err(err, errlen, "trap_receiver: empty community");
			goto inval;
		}
		rc->community = strdup(c->community);
		if (!rc->community)
			goto nomem;
		rc->len = strlen(c->community);
		if (c->nsources) {
			rc->nets = calloc(c->nsources, sizeof(*rc->nets));
			if (!rc->nets)
				goto nomem;
		}
		for (j = 0; j < c->nsources; j++) {
			if (!c->sources[j] || rx_parse_net(c->sources[j], &rc->nets[j])) {
				rx_set_err(err, errlen, "trap_receiver: bad source CIDR \"%s\"",
				           c->sources[j] ? c->sources[j] : "");
				goto inval;
			}
			rc->nnets++;
		}
	}
	if (cfg->nusers) {
		a->users = calloc(cfg->nusers, sizeof(*a->users));
		if (!a->users)
			goto nomem;
	}
	for (i = 0; i < cfg->nusers; i++) {
		const struct sa_trap_user *u = &cfg->users[i];
		struct rx_user *ru = &a->users[i];

		a->nusers++;
		if (!u->name || !*u->name || !u->auth_protocol || !*u->auth_protocol) {
			rx_set_err(err, errlen, "trap_receiver: user \"%s\" needs a name and auth_protocol",
			           u->name ? u->name : "");
			goto inval;
		}
		ru->name = rx_strdup(u->name);
		ru->auth_protocol = rx_strdup(u->auth_protocol);
		ru->auth_passphrase = rx_strdup(u->auth_passphrase);
		ru->priv_protocol = rx_strdup(u->priv_protocol);
		ru->priv_passphrase = rx_strdup(u->priv_passphrase);
		if (!ru->name || !ru->auth_protocol || !ru->auth_passphrase || !ru->priv_protocol ||
		    !ru->priv_passphrase)
			goto nomem;
		if (!u->engine_id || !*u->engine_id) {
			ru->local = 1;
		} else if (rx_hex_eid(u->engine_id, ru->eid, &ru->eid_len)) {
			rx_set_err(err, errlen, "trap_receiver: user \"%s\": bad engine_id", u->name);
			goto inval;
		}
	}
	return 0;
nomem:
	rx_auth_free(a);
	rx_set_err(err, errlen, "trap_receiver: %s", strerror(ENOMEM));
	return -ENOMEM;
inval:
	rx_auth_free(a);
	return -EINVAL;
}

/* ---- USM users -------------------------------------------------------- */

/* Appends s to the createUser line as a quoted word (copy_nword rules). */
static void rx_append_word(char *line, size_t *off, const char *s)
{
	line[(*off)++] = ' ';
	line[(*off)++] = '"';
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			line[(*off)++] = '\\';
		line[(*off)++] = *s;
	}
	line[(*off)++] = '"';
	line[*off] = '\0';
}

static void rx_usm_drop(struct rx_user *u)
{
	if (!u->usm)
		return;
	usm_remove_user(u->usm);
	usm_free_user(u->usm);
	u->usm = NULL;
}

/* Creates u in net-snmp's USM, localized to eid.  The library's own
 * createUser parser does the key derivation so every protocol it knows
 * works the same as in snmpd.conf. */
static int rx_usm_create(struct rx_user *u, const unsigned char *eid, size_t eid_len)
{
	size_t cap, off = 0, i;
	char *line;
	struct usmUser *usm;

	if (usm_get_user((u_char *)eid, eid_len, u->name)) {
		/* Someone else's (snmpd's own, in dlmod mode): never replace or
		 * borrow it, so its passphrase cannot open our receiver. */
		cm_log(CM_LOG_WARNING, TAG, "v3 user %s already exists in the USM for this engine: not used", u->name);
		return -EEXIST;
	}
	cap = 16 + 2 * eid_len +
	      2 * (strlen(u->name) + strlen(u->auth_protocol) + strlen(u->auth_passphrase) + strlen(u->priv_protocol) +
	           strlen(u->priv_passphrase)) +
	      32;
	line = calloc(1, cap);
	if (!line)
		return -ENOMEM;
	off = (size_t)snprintf(line, cap, "-e 0x");
	for (i = 0; i < eid_len; i++)
		off += (size_t)snprintf(line + off, cap - off, "%02x", eid[i]);
	rx_append_word(line, &off, u->name);
	rx_append_word(line, &off, u->auth_protocol);
	rx_append_word(line, &off, u->auth_passphrase);
	if (*u->priv_protocol) {
		rx_append_word(line, &off, u->priv_protocol);
		rx_append_word(line, &off, u->priv_passphrase);
	}
	usm_parse_create_usmUser("createUser", line);
	explicit_bzero(line, cap);
	free(line);
	usm = usm_get_user((u_char *)eid, eid_len, u->name);
	if (!usm) {
		cm_log(CM_LOG_ERR, TAG, "cannot create v3 user %s in the USM", u->name);
		return -EINVAL;
	}
	/* Keys live in our config: keep them out of the persistent store
	 * (in dlmod mode that would be snmpd's). */
	usm->userStorageType = ST_VOLATILE;
	u->usm = usm;
	return 0;
}

/* Brings the USM in line with the configured users.  Users without an
 * engine_id follow our local engine ID, which is unknown when sanagentd
 * starts the receiver before init_snmp() and may change when snmpd (dlmod)
 * loads its persistent oldEngineID: called again before each datagram is
 * parsed, it creates or re-keys them once the engine ID is there. */
static void rx_usm_sync(struct rx_auth *a)
{
	unsigned char local[RX_MAX_EID];
	size_t local_len = 0, i;

	for (i = 0; i < a->nusers; i++) {
		struct rx_user *u = &a->users[i];
		const unsigned char *eid = u->eid;
		size_t eid_len = u->eid_len;

		if (u->local) {
			if (!local_len)
				local_len = snmpv3_get_engineID(local, sizeof(local));
			if (!local_len)
				continue;
			eid = local;
			eid_len = local_len;
		}
		if (u->tried && u->usm_eid_len == eid_len && !memcmp(u->usm_eid, eid, eid_len))
			continue;
		if (u->usm) {
			cm_log(CM_LOG_INFO, TAG, "local engine ID changed: re-keying v3 user %s", u->name);
			rx_usm_drop(u);
		}
		u->tried = 1;
		memcpy(u->usm_eid, eid, eid_len);
		u->usm_eid_len = eid_len;
		rx_usm_create(u, eid, eid_len);
	}
}

static void rx_usm_drop_all(struct rx_auth *a)
{
	size_t i;

	for (i = 0; i < a->nusers; i++) {
		rx_usm_drop(&a->users[i]);
		a->users[i].tried = 0;
	}
}

/* ---- judging a notification ------------------------------------------ */

struct rx_peer {
	int family;
	unsigned char addr[16];
	unsigned int port;
	char text[INET6_ADDRSTRLEN + 8];
};

static int rx_get_peer(const netsnmp_pdu *pdu, struct rx_peer *p)
{
	const struct sockaddr *sa = NULL;
	size_t n = pdu->transport_data_length > 0 ? (size_t)pdu->transport_data_length : 0;
	char ip[INET6_ADDRSTRLEN];

	memset(p, 0, sizeof(*p));
	strcpy(p->text, "?");
	if (!pdu->transport_data)
		return -1;
	/* UDP hands over an address pair; older IPv6 code a bare sockaddr. */
	if (n == sizeof(netsnmp_indexed_addr_pair))
		sa = &((const netsnmp_indexed_addr_pair *)pdu->transport_data)->remote_addr.sa;
	else if (n >= sizeof(struct sockaddr_in))
		sa = pdu->transport_data;
	if (!sa)
		return -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		p->family = AF_INET;
		memcpy(p->addr, &sin->sin_addr, 4);
		p->port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6 && (n >= sizeof(struct sockaddr_in6))) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			/* A dual-stack socket: judge ::ffff:a.b.c.d as a.b.c.d. */
			p->family = AF_INET;
			memcpy(p->addr, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			p->family = AF_INET6;
			memcpy(p->addr, &sin6->sin6_addr, 16);
		}
		p->port = ntohs(sin6->sin6_port);
	} else {
		return -1;
	}
	inet_ntop(p->family, p->addr, ip, sizeof(ip));
	snprintf(p->text, sizeof(p->text), p->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, p->port);
	return 0;
}

static int rx_check_v2c(const netsnmp_pdu *pdu, const struct rx_peer *peer)
{
	size_t i, j;

	if (!pdu->community || !peer->family)
		return 0;
	for (i = 0; i < rx.auth.ncommunities; i++) {
		const struct rx_community *c = &rx.auth.communities[i];

		if (c->len != pdu->community_len || memcmp(c->community, pdu->community, c->len))
			continue;
		/* The same community may be listed twice with other sources. */
		for (j = 0; j < c->nnets; j++)
			if (rx_net_contains(&c->nets[j], peer->family, peer->addr))
				return 1;
	}
	return 0;
}

static const struct rx_user *rx_check_v3(const netsnmp_pdu *pdu)
{
	size_t i;

	if (pdu->securityModel != SNMP_SEC_MODEL_USM || pdu->securityLevel < SNMP_SEC_LEVEL_AUTHNOPRIV ||
	    !pdu->securityName)
		return NULL;
	/* USM authenticated the message against whatever user list the
	 * process has (snmpd's too, in dlmod mode): accept only our users,
	 * at the engine we created them for. */
	for (i = 0; i < rx.auth.nusers; i++) {
		const struct rx_user *u = &rx.auth.users[i];

		if (!u->usm || strcmp(u->name, pdu->securityName))
			continue;
		if (pdu->securityEngineIDLen == u->usm_eid_len &&
		    !memcmp(pdu->securityEngineID, u->usm_eid, u->usm_eid_len))
			return u;
	}
	return NULL;
}

static void rx_oid_copy(uint32_t *dst, const oid *src, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		dst[i] = (uint32_t)src[i];
}

static void rx_oid_text(char *buf, size_t buflen, const oid *o, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < len && off < buflen; i++) {
		int n = snprintf(buf + off, buflen - off, i ? ".%lu" : "%lu", (unsigned long)o[i]);

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static int rx_is_oid(const netsnmp_variable_list *v, const oid *o, size_t len)
{
	return v && !snmp_oid_compare(v->name, v->name_length, o, len);
}

/* Converts an authenticated notification and hands it to the dispatcher.
 * Returns RX_ACCEPTED or RX_MALFORMED (no sysUpTime.0 / snmpTrapOID.0). */
static enum rx_verdict rx_deliver(netsnmp_pdu *pdu, const struct rx_peer *peer, const char *principal)
{
	netsnmp_variable_list *up = pdu->variables, *tv, *v;
	struct cm_trap t;
	struct cm_trap_var *vars = NULL;
	uint32_t *oids = NULL, trap_oid[MAX_OID_LEN];
	char **texts = NULL;
	size_t n = 0, total = 0, i, k;
	enum rx_verdict verdict = RX_ACCEPTED;

	tv = up ? up->next_variable : NULL;
	if (!rx_is_oid(up, rx_sysuptime_oid, OID_LENGTH(rx_sysuptime_oid)) ||
	    !rx_is_oid(tv, rx_trapoid_oid, OID_LENGTH(rx_trapoid_oid)) || tv->type != ASN_OBJECT_ID || !tv->val.objid ||
	    tv->val_len / sizeof(oid) > MAX_OID_LEN)
		return RX_MALFORMED;

	for (v = tv->next_variable; v; v = v->next_variable) {
		n++;
		total += v->name_length;
	}
	if (n) {
		vars = calloc(n, sizeof(*vars));
		oids = calloc(total, sizeof(*oids));
		texts = calloc(n, sizeof(*texts));
		if (!vars || !oids || !texts) {
			cm_log(CM_LOG_ERR, TAG, "out of memory: notification from %s not dispatched", peer->text);
			verdict = RX_MALFORMED;
			goto out;
		}
	}
	for (v = tv->next_variable, i = 0, k = 0; v; v = v->next_variable, i++) {
		struct cm_trap_var *sv = &vars[i];

		rx_oid_copy(oids + k, v->name, v->name_length);
		sv->oid = oids + k;
		sv->oid_len = v->name_length;
		k += v->name_length;
		switch (v->type) {
		case ASN_INTEGER:
			sv->type = SA_TV_INTEGER;
			sv->ival = *v->val.integer;
			break;
		case ASN_COUNTER:
		case ASN_GAUGE:
		case ASN_UINTEGER:
			sv->type = SA_TV_UNSIGNED;
			sv->ival = (int64_t)(uint32_t)*v->val.integer;
			break;
		case ASN_TIMETICKS:
			sv->type = SA_TV_TIMETICKS;
			sv->ival = (int64_t)(uint32_t)*v->val.integer;
			break;
		case ASN_COUNTER64:
			sv->type = SA_TV_COUNTER64;
			sv->u64 = ((uint64_t)v->val.counter64->high << 32) | (uint32_t)v->val.counter64->low;
			break;
		case ASN_OCTET_STR:
			sv->type = SA_TV_STRING;
			sv->str = v->val.string;
			sv->str_len = v->val_len;
			break;
		case ASN_IPADDRESS:
			sv->type = SA_TV_IPADDR;
			sv->str = v->val.string;
			sv->str_len = v->val_len;
			break;
		case ASN_OBJECT_ID: {
			size_t cap = v->val_len / sizeof(oid) * 11 + 1;

			sv->type = SA_TV_OID;
			texts[i] = malloc(cap);
			if (!texts[i]) {
				verdict = RX_MALFORMED;
				goto out;
			}
			rx_oid_text(texts[i], cap, v->val.objid, v->val_len / sizeof(oid));
			sv->str = (const unsigned char *)texts[i];
			sv->str_len = strlen(texts[i]);
			break;
		}
		default:
			sv->type = SA_TV_OTHER;
			if (v->val.string && v->val_len) {
				sv->str = v->val.string;
				sv->str_len = v->val_len;
			}
			break;
		}
	}

	rx_oid_copy(trap_oid, tv->val.objid, tv->val_len / sizeof(oid));
	memset(&t, 0, sizeof(t));
	t.trap_oid = trap_oid;
	t.trap_oid_len = tv->val_len / sizeof(oid);
	t.version = pdu->version == SNMP_VERSION_3 ? 3 : 2;
	t.is_inform = pdu->command == SNMP_MSG_INFORM;
	t.source = peer->text;
	t.principal = principal;
	t.vars = vars;
	t.nvars = n;

	/* Acknowledge before running engine callbacks: a slow callback must
	 * not make the sender retransmit. */
	if (t.is_inform) {
		netsnmp_pdu *reply = snmp_clone_pdu(pdu);

		if (reply) {
			reply->command = SNMP_MSG_RESPONSE;
			reply->errstat = 0;
			reply->errindex = 0;
			if (!snmp_sess_send(rx.sessp, reply)) {
				cm_log(CM_LOG_WARNING, TAG, "cannot acknowledge inform from %s", peer->text);
				snmp_free_pdu(reply);
			}
		}
	}
	rx_counters.accepted++;
	verdict = RX_ACCEPTED;
	{
		char otext[MAX_OID_LEN * 11 + 1];

		rx_oid_text(otext, sizeof(otext), tv->val.objid, t.trap_oid_len);
		cm_log(CM_LOG_DEBUG, TAG, "accepted v%d %s %s from %s%s%s", t.version, t.is_inform ? "inform" : "trap",
		       otext, peer->text, t.version == 3 ? " user " : "", t.version == 3 ? principal : "");
	}
	sa_trap_dispatch(&t);
out:
	if (texts)
		for (i = 0; i < n; i++)
			free(texts[i]);
	free(texts);
	free(oids);
	free(vars);
	return verdict;
}

static enum rx_verdict rx_judge(netsnmp_pdu *pdu)
{
	struct rx_peer peer;
	char community[COMMUNITY_MAX_LEN + 1];
	const struct rx_user *u;

	rx_get_peer(pdu, &peer);
	if (pdu->version != SNMP_VERSION_2c && pdu->version != SNMP_VERSION_3) {
		rx_drop_note(RXD_VERSION, 0, peer.text, NULL);
		return RX_MALFORMED;
	}
	if (pdu->command != SNMP_MSG_TRAP2 && pdu->command != SNMP_MSG_INFORM) {
		rx_drop_note(RXD_NOT_NOTIFICATION, 0, peer.text, snmp_pdu_type(pdu->command));
		return RX_MALFORMED;
	}
	if (pdu->version == SNMP_VERSION_2c) {
		if (pdu->community_len > COMMUNITY_MAX_LEN || !rx_check_v2c(pdu, &peer)) {
			/* Never log the community: it is the password. */
			rx_drop_note(RXD_V2C, 1, peer.text, NULL);
			return RX_UNAUTH;
		}
		/* The principal is the community; common/trap.h says never log it. */
		memcpy(community, pdu->community, pdu->community_len);
		community[pdu->community_len] = '\0';
		return rx_deliver(pdu, &peer, community);
	}
	u = rx_check_v3(pdu);
	if (!u) {
		rx_drop_note(RXD_V3, 1, peer.text, pdu->securityName ? pdu->securityName : "?");
		return RX_UNAUTH;
	}
	return rx_deliver(pdu, &peer, u->name);
}

/* ---- library hooks ------------------------------------------------------ */

static int rx_pre_parse(netsnmp_session *sp, netsnmp_transport *t, void *opaque, int olen)
{
	rx.pkt.seen = 1;
	/* Counted here, before anything can be accepted and dispatched, so
	 * a callback never sees accepted > received. */
	rx_counters.received++;
	rx_usm_sync(&rx.auth);
	return 1;
}

static int rx_post_parse(netsnmp_session *sp, netsnmp_pdu *pdu, int ret)
{
	rx.pkt.parsed = 1;
	rx.pkt.parse_ret = ret;
	rx.pkt.command = pdu ? pdu->command : 0;
	rx.pkt.version = pdu ? pdu->version : -1;
	rx.pkt.sec_level = pdu ? pdu->securityLevel : 0;
	rx.pkt.has_sec_name = pdu && pdu->securityName && *pdu->securityName;
	return 1;
}

/* Maps a library error code to our verdict. */
static enum rx_verdict rx_verdict_of_error(int err)
{
	switch (err) {
	case SNMPERR_USM_UNKNOWNENGINEID:
	case SNMPERR_UNKNOWN_ENG_ID:
	case SNMPERR_JUST_A_CONTEXT_PROBE: return RX_DISCOVERY;
	case SNMPERR_USM_UNKNOWNSECURITYNAME:
	case SNMPERR_USM_UNSUPPORTEDSECURITYLEVEL:
	case SNMPERR_USM_AUTHENTICATIONFAILURE:
	case SNMPERR_USM_NOTINTIMEWINDOW:
	case SNMPERR_USM_DECRYPTIONERROR:
	case SNMPERR_USM_GENERICERROR:
	case SNMPERR_AUTHENTICATION_FAILURE:
	case SNMPERR_UNKNOWN_USER_NAME:
	case SNMPERR_UNSUPPORTED_SEC_LEVEL:
	case SNMPERR_NOT_IN_TIME_WINDOW:
	case SNMPERR_DECRYPTION_ERR: return RX_UNAUTH;
	default:
		/* ASN.1 errors, unknown versions or security models, bad
		 * msgFlags, USM parse errors. */
		return RX_MALFORMED;
	}
}

/* What the drop statistics say about the current datagram, or
 * RX_PENDING if none of them moved. */
static enum rx_verdict rx_verdict_of_stats(void)
{
	enum rx_verdict v = RX_PENDING;
	size_t i;

	for (i = 0; i < RX_NSTATS; i++) {
		if (snmp_get_statistic(rx_drop_stats[i]) == rx.pkt.stats[i])
			continue;
		switch (rx_drop_stats[i]) {
		case STAT_USMSTATSUNKNOWNENGINEIDS:
			if (v == RX_PENDING)
				v = RX_DISCOVERY;
			break;
		case STAT_USMSTATSUNSUPPORTEDSECLEVELS:
		case STAT_USMSTATSNOTINTIMEWINDOWS:
		case STAT_USMSTATSUNKNOWNUSERNAMES:
		case STAT_USMSTATSWRONGDIGESTS:
		case STAT_USMSTATSDECRYPTIONERRORS: return RX_UNAUTH;
		default: v = RX_MALFORMED; break;
		}
	}
	return v;
}

static int rx_session_cb(int op, netsnmp_session *sp, int reqid, netsnmp_pdu *pdu, void *magic)
{
	enum rx_verdict v;

	if (op != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE || !pdu || rx.pkt.verdict != RX_PENDING)
		return 1;
	/* Called by USM for a message that failed authentication (see the
	 * comment at the top): never judge or dispatch such a PDU. */
	if (sp && sp->s_snmp_errno) {
		rx.pkt.verdict = rx_verdict_of_error(sp->s_snmp_errno);
		return 1;
	}
	v = rx_verdict_of_stats();
	if (v != RX_PENDING) {
		rx.pkt.verdict = v == RX_DISCOVERY ? RX_UNAUTH : v;
		return 1;
	}
	rx.pkt.verdict = rx_judge(pdu);
	return 1;
}

/* What the library decided for a datagram our callback never judged. */
static enum rx_verdict rx_verdict_from_parse(const struct rx_pkt *p)
{
	enum rx_verdict v;

	/* USM accepted the digest of an authPriv message but its scoped PDU
	 * decrypted to garbage: the sender has the right authentication key
	 * and the wrong privacy key (AES/DES decryption itself never fails). */
	if (p->parsed && p->parse_ret == SNMPERR_ASN_PARSE_ERR && p->version == SNMP_VERSION_3 &&
	    p->sec_level == SNMP_SEC_LEVEL_AUTHPRIV && p->has_sec_name)
		return RX_UNAUTH;
	if (p->parsed && p->parse_ret != SNMP_ERR_NOERROR)
		return rx_verdict_of_error(p->parse_ret);
	v = rx_verdict_of_stats();
	if (v != RX_PENDING)
		return v;
	/* Parsed but not handed to us: a RESPONSE or REPORT that matches no
	 * request of ours.  Not a notification. */
	return RX_MALFORMED;
}

static void rx_readable(int fd, void *arg)
{
	netsnmp_large_fd_set fds;
	void *sessp = rx.sessp;

	if (!sessp)
		return;
	memset(&rx.pkt, 0, sizeof(rx.pkt));
	for (size_t i = 0; i < RX_NSTATS; i++)
		rx.pkt.stats[i] = snmp_get_statistic(rx_drop_stats[i]);
	netsnmp_large_fd_set_init(&fds, fd + 1);
	NETSNMP_LARGE_FD_SET(fd, &fds);
	snmp_sess_read2(sessp, &fds);
	netsnmp_large_fd_set_cleanup(&fds);
	if (!rx.pkt.seen)
		return; /* recvfrom failed: nothing arrived */
	if (rx.pkt.verdict == RX_PENDING)
		rx.pkt.verdict = rx_verdict_from_parse(&rx.pkt);
	if ((rx.pkt.verdict == RX_UNAUTH || rx.pkt.verdict == RX_MALFORMED) && !rx.pkt.drop_noted)
		rx_drop_note(rx.pkt.verdict == RX_UNAUTH ? RXD_LIBRARY_UNAUTH : RXD_LIBRARY,
		             rx.pkt.verdict == RX_UNAUTH, NULL,
		             rx.pkt.parse_ret ? snmp_api_errstring(rx.pkt.parse_ret) : NULL);
	switch (rx.pkt.verdict) {
	case RX_UNAUTH: rx_counters.dropped_unauth++; break;
	case RX_MALFORMED: rx_counters.dropped_malformed++; break;
	default: /* accepted was counted before dispatch; discovery: received only */ break;
	}
}

/* ---- start / stop ------------------------------------------------------- */

struct rx_sock {
	void *sessp;
	int fd;
	char *listen;
};

static void rx_sock_close(struct rx_sock *k)
{
	if (k->fd >= 0)
		cm_ev_unwatch_read(k->fd);
	if (k->sessp)
		snmp_sess_close(k->sessp);
	free(k->listen);
	k->sessp = NULL;
	k->fd = -1;
	k->listen = NULL;
}

/* A burst of informs (100 senders with 16 in flight each) outruns the kernel's default UDP buffer (about 200 KiB)
 * before the loop reads: the drops become retransmissions 2 s later.  Ask for more; as root beyond rmem_max. */
#define RX_RCVBUF (4 * 1024 * 1024)
static void rx_sock_grow(int fd, const char *spec)
{
	int want = RX_RCVBUF, got = 0;
	socklen_t len = sizeof(got);

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0)
		cm_log(CM_LOG_DEBUG, TAG, "%s: receive buffer %d bytes", spec, got);
}

static int rx_sock_open(struct rx_sock *k, const char *spec, char *err, size_t errlen)
{
	netsnmp_session sess;
	netsnmp_transport *t;

	k->sessp = NULL;
	k->fd = -1;
	k->listen = strdup(spec);
	if (!k->listen) {
		rx_set_err(err, errlen, "trap_receiver: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	t = netsnmp_transport_open_server("snmptrap", spec);
	if (!t) {
		rx_set_err(err, errlen, "trap_receiver: cannot listen on %s", spec);
		rx_sock_close(k);
		return -EADDRNOTAVAIL;
	}
	snmp_sess_init(&sess);
	sess.peername = SNMP_DEFAULT_PEERNAME;
	/* Any version parses; rx_judge decides which are accepted. */
	sess.version = SNMP_DEFAULT_VERSION;
	sess.community_len = SNMP_DEFAULT_COMMUNITY_LEN;
	sess.retries = SNMP_DEFAULT_RETRIES;
	sess.timeout = SNMP_DEFAULT_TIMEOUT;
	sess.callback = rx_session_cb;
	sess.authenticator = NULL;
	/* A notification receiver: authoritative for informs only. */
	sess.isAuthoritative = SNMP_SESS_UNKNOWNAUTH;
	sess.flags |= SNMP_FLAGS_DONT_PROBE;
	k->sessp = snmp_sess_add_ex(&sess, t, rx_pre_parse, NULL, rx_post_parse, NULL, NULL, NULL, NULL);
	if (!k->sessp) {
		/* snmp_sess_add_ex has released the transport. */
		rx_set_err(err, errlen, "trap_receiver: cannot open a session on %s", spec);
		rx_sock_close(k);
		return -ENOMEM;
	}
	if (cm_ev_watch_read(t->sock, rx_readable, NULL)) {
		rx_set_err(err, errlen, "trap_receiver: cannot watch the socket of %s", spec);
		rx_sock_close(k);
		return -EIO;
	}
	k->fd = t->sock;
	rx_sock_grow(t->sock, spec);
	return 0;
}

static struct rx_sock rx_cur = {.fd = -1};

void sa_trap_receiver_stop(void)
{
	int was = rx_cur.sessp != NULL;

	rx.sessp = NULL;
	rx_sock_close(&rx_cur);
	rx_usm_drop_all(&rx.auth);
	rx_auth_free(&rx.auth);
	rx_drop_stop();
	if (was)
		cm_log(CM_LOG_INFO, TAG, "stopped");
}

int sa_trap_receiver_apply(const struct sa_trap_receiver_config *cfg, char *err, size_t errlen)
{
	struct rx_auth auth;
	struct rx_sock k;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!cfg)
		return -EINVAL;
	if (!cfg->enabled) {
		sa_trap_receiver_stop();
		return 0;
	}
	if (!cfg->listen || !*cfg->listen) {
		rx_set_err(err, errlen, "trap_receiver: empty listen address");
		return -EINVAL;
	}
	/* Validate everything before touching the running receiver, so a
	 * bad reload leaves the old one in force. */
	rc = rx_auth_build(cfg, &auth, err, errlen);
	if (rc)
		return rc;

	/* Same address: keep the socket (no datagram lost to a rebind). */
	if (!rx_cur.sessp || strcmp(rx_cur.listen, cfg->listen)) {
		rc = rx_sock_open(&k, cfg->listen, err, errlen);
		if (rc && rx_cur.sessp) {
			/* Maybe the same port spelled differently: free it and
			 * try once more. */
			rx.sessp = NULL;
			rx_sock_close(&rx_cur);
			rc = rx_sock_open(&k, cfg->listen, err, errlen);
		}
		if (rc) {
			cm_log(CM_LOG_ERR, TAG, "%s", err && *err ? err : "cannot start");
			sa_trap_receiver_stop();
			rx_auth_free(&auth);
			return rc;
		}
		rx.sessp = NULL;
		rx_sock_close(&rx_cur);
		rx_cur = k;
		rx.sessp = k.sessp;
	}
	rx_usm_drop_all(&rx.auth);
	rx_auth_free(&rx.auth);
	rx.auth = auth;
	rx_usm_sync(&rx.auth);
	cm_log(CM_LOG_INFO, TAG, "listening on %s (%zu communities, %zu v3 users)", rx_cur.listen, rx.auth.ncommunities,
	       rx.auth.nusers);
	return 0;
}
