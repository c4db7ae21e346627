/* config.c: loads the libconfig file and validates it against a table-driven schema. */
#include "subagent/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The schema.  Each group of the file is described by a table of fields;
 * one generic walker validates any group against its table, fills a C
 * struct through offsets, and one generic routine frees it again.  Adding a
 * key to a section is one line in that section's table (plus a struct member).
 */
enum sa_ftype {
	SA_F_STRING,
	SA_F_INT,      /* stored as int, range-checked */
	SA_F_BOOL,     /* stored as int 0/1 */
	SA_F_GROUP,    /* nested group, same target object (plus off) */
	SA_F_LIST,     /* list of groups -> array of elem_size structs + size_t count */
	SA_F_STRARRAY, /* array of strings -> char ** + size_t count */
	SA_F_INTARRAY, /* array of integers -> int * + size_t count, each in min..max */
};

#define SA_REQUIRED 0x01u /* must be present */
#define SA_NONEMPTY 0x02u /* string must not be "", array must not be [] */
#define SA_SECRET 0x04u   /* value never appears in messages */
#define SA_PRESENCE 0x08u /* GROUP: aux_off is an int set to 1 when the group is present */

struct sa_vctx;
struct sa_schema;

/* Checks one string value.  Returns 0 or -1 with a reason in why that must
 * not quote the value (the caller adds it when the field is not secret).
 * May point *canon at a canonical spelling to store instead. */
typedef int (*sa_str_check)(const char *val, const char **canon, char *why, size_t whylen);

struct sa_field {
	const char *name;
	enum sa_ftype type;
	unsigned flags;
	size_t off;                  /* where the value (or group/array base) goes */
	size_t aux_off;              /* LIST/STRARRAY: size_t count; GROUP+SA_PRESENCE: int flag */
	long long min, max;          /* INT */
	const char *def;             /* STRING default (NULL means "") */
	int def_int;                 /* INT/BOOL default */
	sa_str_check check;          /* STRING, STRARRAY elements */
	const struct sa_schema *sub; /* GROUP, LIST element */
};

struct sa_schema {
	const struct sa_field *fields;
	size_t nfields;
	size_t elem_size; /* LIST element size */
	/* Rules that span fields; grp is the group, obj the filled struct. */
	int (*finish)(struct sa_vctx *v, const config_setting_t *grp, void *obj, const char *where);
};

struct sa_vctx {
	const char *path;   /* fallback when libconfig has no file name */
	const char *incdir; /* libconfig names @include files as written: relative to this */
	char *err;
	size_t errlen;
};

#define SA_NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define SA_SCHEMA(f, sz, fin)                                                                                          \
	{                                                                                                              \
		(f), SA_NELEM(f), (sz), (fin)                                                                          \
	}

static int sa_cfg_fail(struct sa_vctx *v, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int sa_cfg_fail(struct sa_vctx *v, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = s ? config_setting_source_file(s) : NULL;
	unsigned line = s ? config_setting_source_line(s) : 0;
	va_list ap;
	int n;

	if (!v->err || !v->errlen)
		return -EINVAL;
	if (!file)
		file = v->path;
	if (file[0] != '/' && strcmp(file, v->path) != 0 && v->incdir)
		n = snprintf(v->err, v->errlen, "%s/%s:%u: ", v->incdir, file, line);
	else
		n = snprintf(v->err, v->errlen, "%s:%u: ", file, line);
	if (n >= 0 && (size_t)n < v->errlen) {
		va_start(ap, fmt);
		vsnprintf(v->err + n, v->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---- value checks ------------------------------------------------------ */

static int sa_chk_cidr(const char *val, const char **canon, char *why, size_t whylen)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];
	const char *slash = strchr(val, '/'), *p;
	size_t alen;
	int af, maxbits, bits = 0, nbytes;

	(void)canon;
	if (!slash) {
		snprintf(why, whylen, "not a CIDR prefix (write ADDRESS/LENGTH, e.g. 127.0.0.1/32)");
		return -1;
	}
	alen = (size_t)(slash - val);
	if (alen == 0 || alen >= sizeof(addr)) {
		snprintf(why, whylen, "bad address in CIDR prefix");
		return -1;
	}
	memcpy(addr, val, alen);
	addr[alen] = '\0';
	af = strchr(addr, ':') ? AF_INET6 : AF_INET;
	maxbits = af == AF_INET6 ? 128 : 32;
	if (inet_pton(af, addr, bin) != 1) {
		snprintf(why, whylen, "bad %s address in CIDR prefix", af == AF_INET6 ? "IPv6" : "IPv4");
		return -1;
	}
	p = slash + 1;
	if (!*p || strlen(p) > 3) {
		snprintf(why, whylen, "bad prefix length (0..%d)", maxbits);
		return -1;
	}
	for (; *p; p++) {
		if (*p < '0' || *p > '9') {
			snprintf(why, whylen, "bad prefix length (0..%d)", maxbits);
			return -1;
		}
		bits = bits * 10 + (*p - '0');
	}
	if (bits > maxbits) {
		snprintf(why, whylen, "prefix length %d out of range 0..%d", bits, maxbits);
		return -1;
	}
	/* Host bits set usually means a typo in the length; refuse to guess. */
	nbytes = maxbits / 8;
	for (int i = 0; i < nbytes; i++) {
		int keep = bits - i * 8;
		unsigned char mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));

		if (bin[i] & (unsigned char)~mask) {
			snprintf(why, whylen, "address has bits set beyond the /%d prefix", bits);
			return -1;
		}
	}
	return 0;
}

static int sa_chk_choice(const char *val, const char **canon, char *why, size_t whylen, const char *const *choices,
                         size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(val, choices[i]) == 0) {
			*canon = choices[i];
			return 0;
		}
	}
	len += (size_t)snprintf(why, whylen, "must be one of");
	for (size_t i = 0; i < n && len < whylen; i++)
		len += (size_t)snprintf(why + len, whylen - len, "%s \"%s\"", i ? "," : "", choices[i]);
	return -1;
}

static int sa_chk_auth_proto(const char *val, const char **canon, char *why, size_t whylen)
{
	static const char *const c[] = {"MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512"};

	return sa_chk_choice(val, canon, why, whylen, c, SA_NELEM(c));
}

static int sa_chk_priv_proto(const char *val, const char **canon, char *why, size_t whylen)
{
	static const char *const c[] = {"", "DES", "AES"};

	return sa_chk_choice(val, canon, why, whylen, c, SA_NELEM(c));
}

/* net-snmp refuses shorter passphrases when it derives the USM keys. */
#define SA_MIN_PASSPHRASE 8

static int sa_chk_passphrase(const char *val, const char **canon, char *why, size_t whylen)
{
	(void)canon;
	if (strlen(val) < SA_MIN_PASSPHRASE) {
		snprintf(why, whylen, "too short (at least %d characters)", SA_MIN_PASSPHRASE);
		return -1;
	}
	return 0;
}

/* SNMP engine IDs are 5..32 octets (RFC 3411 SnmpEngineID). */
static int sa_chk_engine_id(const char *val, const char **canon, char *why, size_t whylen)
{
	const char *p = val;
	size_t n;

	(void)canon;
	if (!*val)
		return 0;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	n = strlen(p);
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
			snprintf(why, whylen, "not a hex string");
			return -1;
		}
	}
	if (n % 2) {
		snprintf(why, whylen, "odd number of hex digits");
		return -1;
	}
	if (n / 2 < 5 || n / 2 > 32) {
		snprintf(why, whylen, "must be 5..32 bytes, not %zu", n / 2);
		return -1;
	}
	return 0;
}

/* ---- the schema tables ----------------------------------------------- */

#define SA_CFG(m) offsetof(struct sa_config, m)

static const struct sa_field sa_agent_fields[] = {
    {.name = "agentx_socket", .type = SA_F_STRING, .off = SA_CFG(agentx_socket), .def = ""},
    {.name = "agentx_ping_interval",
     .type = SA_F_INT,
     .off = SA_CFG(agentx_ping_interval),
     .min = 1,
     .max = 3600,
     .def_int = 1},
    {.name = "state_file",
     .type = SA_F_STRING,
     .flags = SA_NONEMPTY,
     .off = SA_CFG(state_file),
     .def = "/var/lib/sanagent/state"},
    {.name = "pid_file", .type = SA_F_STRING, .off = SA_CFG(pid_file), .def = ""},
    /* Rows created with createAndWait wait in the handlers' tables for their
     * remaining columns: capped and aged so a manager cannot fill memory. */
    {.name = "max_pending_rows",
     .type = SA_F_INT,
     .off = SA_CFG(max_pending_rows),
     .min = 1,
     .max = 100000,
     .def_int = 256},
    {.name = "pending_row_age",
     .type = SA_F_INT,
     .off = SA_CFG(pending_row_age),
     .min = 1,
     .max = 86400,
     .def_int = 300},
};
static const struct sa_schema sa_agent_schema = SA_SCHEMA(sa_agent_fields, 0, NULL);

#define SA_COMM(m) offsetof(struct sa_trap_community, m)
static const struct sa_field sa_community_fields[] = {
    {.name = "community",
     .type = SA_F_STRING,
     .flags = SA_REQUIRED | SA_NONEMPTY | SA_SECRET,
     .off = SA_COMM(community)},
    /* A community accepted from nowhere is a mistake, not a default. */
    {.name = "sources",
     .type = SA_F_STRARRAY,
     .flags = SA_REQUIRED | SA_NONEMPTY,
     .off = SA_COMM(sources),
     .aux_off = SA_COMM(nsources),
     .check = sa_chk_cidr},
};
static const struct sa_schema sa_community_schema =
    SA_SCHEMA(sa_community_fields, sizeof(struct sa_trap_community), NULL);

#define SA_USER(m) offsetof(struct sa_trap_user, m)
static const struct sa_field sa_user_fields[] = {
    {.name = "name", .type = SA_F_STRING, .flags = SA_REQUIRED | SA_NONEMPTY, .off = SA_USER(name)},
    {.name = "auth_protocol",
     .type = SA_F_STRING,
     .flags = SA_REQUIRED,
     .off = SA_USER(auth_protocol),
     .check = sa_chk_auth_proto},
    {.name = "auth_passphrase",
     .type = SA_F_STRING,
     .flags = SA_REQUIRED | SA_SECRET,
     .off = SA_USER(auth_passphrase),
     .check = sa_chk_passphrase},
    {.name = "priv_protocol",
     .type = SA_F_STRING,
     .off = SA_USER(priv_protocol),
     .def = "",
     .check = sa_chk_priv_proto},
    {.name = "priv_passphrase",
     .type = SA_F_STRING,
     .flags = SA_SECRET,
     .off = SA_USER(priv_passphrase),
     .def = "",
     .check = sa_chk_passphrase},
    {.name = "engine_id", .type = SA_F_STRING, .off = SA_USER(engine_id), .def = "", .check = sa_chk_engine_id},
};

static int sa_user_finish(struct sa_vctx *v, const config_setting_t *grp, void *obj, const char *where)
{
	const struct sa_trap_user *u = obj;
	const config_setting_t *pp = config_setting_get_member(grp, "priv_passphrase");

	if (u->priv_protocol[0] && !pp)
		return sa_cfg_fail(v, grp, "%s: priv_protocol \"%s\" needs priv_passphrase", where, u->priv_protocol);
	if (!u->priv_protocol[0] && pp)
		return sa_cfg_fail(v, pp, "%s.priv_passphrase: given without priv_protocol", where);
	return 0;
}
static const struct sa_schema sa_user_schema = SA_SCHEMA(sa_user_fields, sizeof(struct sa_trap_user), sa_user_finish);

static const struct sa_field sa_trap_fields[] = {
    {.name = "listen",
     .type = SA_F_STRING,
     .flags = SA_NONEMPTY,
     .off = SA_CFG(trap_receiver.listen),
     .def = "udp:127.0.0.1:1162"},
    {.name = "communities",
     .type = SA_F_LIST,
     .off = SA_CFG(trap_receiver.communities),
     .aux_off = SA_CFG(trap_receiver.ncommunities),
     .sub = &sa_community_schema},
    {.name = "users",
     .type = SA_F_LIST,
     .off = SA_CFG(trap_receiver.users),
     .aux_off = SA_CFG(trap_receiver.nusers),
     .sub = &sa_user_schema},
};

/* Two entries for one community or one (user, engine) pair would make the
 * receiver's answer depend on list order. */
static int sa_trap_finish(struct sa_vctx *v, const config_setting_t *grp, void *obj, const char *where)
{
	const struct sa_trap_receiver_config *c = &((const struct sa_config *)obj)->trap_receiver;
	const config_setting_t *l;

	for (size_t i = 0; i < c->ncommunities; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(c->communities[i].community, c->communities[j].community))
				continue;
			l = config_setting_get_member(grp, "communities");
			return sa_cfg_fail(v, config_setting_get_elem(l, (unsigned)i),
			                   "%s.communities[%zu]: same community as communities[%zu]; "
			                   "list all its sources in one entry",
			                   where, i, j);
		}
	}
	for (size_t i = 0; i < c->nusers; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(c->users[i].name, c->users[j].name) ||
			    strcasecmp(c->users[i].engine_id, c->users[j].engine_id))
				continue;
			l = config_setting_get_member(grp, "users");
			return sa_cfg_fail(v, config_setting_get_elem(l, (unsigned)i),
			                   "%s.users[%zu]: user \"%s\" with this engine_id already defined "
			                   "in users[%zu]",
			                   where, i, c->users[i].name, j);
		}
	}
	return 0;
}
static const struct sa_schema sa_trap_schema = SA_SCHEMA(sa_trap_fields, 0, sa_trap_finish);

/* One table per engine section.  Later issues add the engine's own keys here. */
#define SA_ENGINE_ENABLED(id)                                                                                          \
	{                                                                                                              \
		.name = "enabled", .type = SA_F_BOOL, .off = SA_CFG(engine_enabled[id]), .def_int = 1                  \
	}

/* redirect { }: portal, servers, resources, rebalancer. */
static int sa_redir_res_cmp(const void *a, const void *b)
{
	const struct sa_redir_resource_cfg *const *x = a, *const *y = b;
	int c = strcmp((*x)->target, (*y)->target);

	return c ? c : (*x < *y ? -1 : *x > *y);
}

static int sa_chk_numeric_addr(const char *val, const char **canon, char *why, size_t whylen)
{
	unsigned char bin[16];

	(void)canon;
	if (inet_pton(AF_INET, val, bin) == 1 || inet_pton(AF_INET6, val, bin) == 1)
		return 0;
	snprintf(why, whylen, "not a numeric IPv4 or IPv6 address");
	return -1;
}

static int sa_chk_numeric_addr_or_empty(const char *val, const char **canon, char *why, size_t whylen)
{
	return *val ? sa_chk_numeric_addr(val, canon, why, whylen) : 0;
}

/* "ADDR:PORT" or "[V6ADDR]:PORT", numeric only: the portal never resolves names. */
static int sa_chk_endpoint(const char *val, const char **canon, char *why, size_t whylen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = val;
	size_t hlen;
	char *end;
	long port;

	if (val[0] == '[') {
		const char *rb = strchr(val, ']');

		if (!rb || rb[1] != ':')
			goto bad;
		h = val + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(val, ':');
		if (!colon)
			goto bad;
		hlen = (size_t)(colon - val);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (sa_chk_numeric_addr(host, canon, why, whylen) < 0)
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 1 || port > 65535)
		goto bad;
	return 0;
bad:
	snprintf(why, whylen, "not ADDRESS:PORT (numeric; IPv6 as [ADDRESS]:PORT)");
	return -1;
}

static int sa_chk_endpoint_or_empty(const char *val, const char **canon, char *why, size_t whylen)
{
	return *val ? sa_chk_endpoint(val, canon, why, whylen) : 0;
}

static int sa_chk_redir_admin(const char *val, const char **canon, char *why, size_t whylen)
{
	static const char *const c[] = {"up", "drain", "down", "spare"};

	return sa_chk_choice(val, canon, why, whylen, c, SA_NELEM(c));
}

static int sa_chk_fail_policy(const char *val, const char **canon, char *why, size_t whylen)
{
	static const char *const c[] = {"stay", "move"};

	return sa_chk_choice(val, canon, why, whylen, c, SA_NELEM(c));
}

static int sa_chk_redir_auth(const char *val, const char **canon, char *why, size_t whylen)
{
	static const char *const c[] = {"none", "chap"};

	return sa_chk_choice(val, canon, why, whylen, c, SA_NELEM(c));
}

/* A net-snmp peer spec such as "udp:127.0.0.1:1161" or "127.0.0.1:161". */
static int sa_chk_agent_peer(const char *val, const char **canon, char *why, size_t whylen)
{
	(void)canon;
	if (strlen(val) > 127 || strpbrk(val, " \t\"'")) {
		snprintf(why, whylen, "not an SNMP peer (write e.g. udp:127.0.0.1:161)");
		return -1;
	}
	return 0;
}

#define SA_RSRV(m) offsetof(struct sa_redir_server_cfg, m)
static const struct sa_field sa_redir_server_fields[] = {
    {.name = "name", .type = SA_F_STRING, .flags = SA_REQUIRED | SA_NONEMPTY, .off = SA_RSRV(name)},
    {.name = "address",
     .type = SA_F_STRING,
     .flags = SA_REQUIRED,
     .off = SA_RSRV(address),
     .check = sa_chk_numeric_addr},
    {.name = "port", .type = SA_F_INT, .off = SA_RSRV(port), .min = 1, .max = 65535, .def_int = 3260},
    {.name = "capacity", .type = SA_F_INT, .off = SA_RSRV(capacity), .min = 1, .max = 1000000, .def_int = 1},
    {.name = "admin", .type = SA_F_STRING, .off = SA_RSRV(admin), .def = "up", .check = sa_chk_redir_admin},
    {.name = "tgt_control", .type = SA_F_INT, .off = SA_RSRV(tgt_control), .min = -1, .max = 65535, .def_int = -1},
    {.name = "agent", .type = SA_F_STRING, .off = SA_RSRV(agent), .def = "", .check = sa_chk_agent_peer},
    {.name = "agent_community", .type = SA_F_STRING, .flags = SA_SECRET, .off = SA_RSRV(agent_community), .def = ""},
    {.name = "agent_user", .type = SA_F_STRING, .off = SA_RSRV(agent_user), .def = ""},
    {.name = "agent_auth_passphrase",
     .type = SA_F_STRING,
     .flags = SA_SECRET,
     .off = SA_RSRV(agent_auth_passphrase),
     .def = "",
     .check = sa_chk_passphrase},
    {.name = "agent_priv_passphrase",
     .type = SA_F_STRING,
     .flags = SA_SECRET,
     .off = SA_RSRV(agent_priv_passphrase),
     .def = "",
     .check = sa_chk_passphrase},
};

/* An agent needs a way in: a community for reads or a full authPriv user;
 * a user goes with both passphrases (writes are authPriv only). */
static int sa_redir_server_finish(struct sa_vctx *v, const config_setting_t *grp, void *obj, const char *where)
{
	const struct sa_redir_server_cfg *s = obj;
	int v3 = s->agent_user[0] != 0;

	if (v3 && (!s->agent_auth_passphrase[0] || !s->agent_priv_passphrase[0]))
		return sa_cfg_fail(
		    v, config_setting_get_member(grp, "agent_user"),
		    "%s: agent_user needs agent_auth_passphrase and agent_priv_passphrase (SHA/AES authPriv)", where);
	if (!v3 && (s->agent_auth_passphrase[0] || s->agent_priv_passphrase[0]))
		return sa_cfg_fail(v, grp, "%s: agent passphrases given without agent_user", where);
	if (s->agent[0] && !v3 && !s->agent_community[0])
		return sa_cfg_fail(v, config_setting_get_member(grp, "agent"),
		                   "%s: agent needs agent_community or agent_user", where);
	if (!s->agent[0] && (v3 || s->agent_community[0]))
		return sa_cfg_fail(v, grp, "%s: agent credentials given without agent", where);
	return 0;
}
static const struct sa_schema sa_redir_server_schema =
    SA_SCHEMA(sa_redir_server_fields, sizeof(struct sa_redir_server_cfg), sa_redir_server_finish);

#define SA_RRES(m) offsetof(struct sa_redir_resource_cfg, m)
static const struct sa_field sa_redir_resource_fields[] = {
    {.name = "target", .type = SA_F_STRING, .flags = SA_REQUIRED | SA_NONEMPTY, .off = SA_RRES(target)},
    {.name = "server", .type = SA_F_STRING, .off = SA_RRES(server), .def = ""},
    {.name = "pinned", .type = SA_F_BOOL, .off = SA_RRES(pinned), .def_int = 0},
    {.name = "fail_policy",
     .type = SA_F_STRING,
     .off = SA_RRES(fail_policy),
     .def = "stay",
     .check = sa_chk_fail_policy},
};
static const struct sa_schema sa_redir_resource_schema =
    SA_SCHEMA(sa_redir_resource_fields, sizeof(struct sa_redir_resource_cfg), NULL);

/* etcd's JSON gateway is plain HTTP(S); a bare HOST:PORT would be ambiguous. */
static int sa_chk_etcd_url(const char *val, const char **canon, char *why, size_t whylen)
{
	(void)canon;
	if ((strncmp(val, "http://", 7) && strncmp(val, "https://", 8)) || !strchr(val, ':') || strlen(val) < 10 ||
	    strlen(val) > 255) {
		snprintf(why, whylen, "not an etcd URL (write http://HOST:PORT)");
		return -1;
	}
	return 0;
}

/* The cluster name is a path element of every etcd key. */
static int sa_chk_etcd_cluster(const char *val, const char **canon, char *why, size_t whylen)
{
	(void)canon;
	if (strlen(val) > 63 || val[strspn(val, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")]) {
		snprintf(why, whylen, "must be 1..63 characters of A-Z a-z 0-9 . _ -");
		return -1;
	}
	return 0;
}

#define SA_RETCD(m) offsetof(struct sa_redir_etcd_cfg, m)
static const struct sa_field sa_redir_etcd_fields[] = {
    {.name = "endpoints",
     .type = SA_F_STRARRAY,
     .flags = SA_REQUIRED | SA_NONEMPTY,
     .off = SA_RETCD(endpoints),
     .aux_off = SA_RETCD(nendpoints),
     .check = sa_chk_etcd_url},
    {.name = "cluster",
     .type = SA_F_STRING,
     .flags = SA_NONEMPTY,
     .off = SA_RETCD(cluster),
     .def = "default",
     .check = sa_chk_etcd_cluster},
    {.name = "lease_ttl", .type = SA_F_INT, .off = SA_RETCD(lease_ttl), .min = 1, .max = 60, .def_int = 1},
};
static const struct sa_schema sa_redir_etcd_schema = SA_SCHEMA(sa_redir_etcd_fields, 0, NULL);

#define SA_RD(m) SA_CFG(redirect.m)
static const struct sa_field sa_redirect_fields[] = {
    SA_ENGINE_ENABLED(SA_ENGINE_REDIRECT),
    {.name = "listen",
     .type = SA_F_STRARRAY,
     .off = SA_RD(listen),
     .aux_off = SA_RD(nlisten),
     .check = sa_chk_endpoint},
    {.name = "permanent", .type = SA_F_BOOL, .off = SA_RD(permanent), .def_int = 0},
    {.name = "auth", .type = SA_F_STRING, .off = SA_RD(auth), .def = "none", .check = sa_chk_redir_auth},
    {.name = "auth_lifetime", .type = SA_F_INT, .off = SA_RD(auth_lifetime), .min = 0, .max = 86400, .def_int = 600},
    {.name = "weight_bytes", .type = SA_F_INT, .off = SA_RD(weight_bytes), .min = 0, .max = 1000000, .def_int = 1},
    {.name = "weight_commands",
     .type = SA_F_INT,
     .off = SA_RD(weight_commands),
     .min = 0,
     .max = 1000000,
     .def_int = 0},
    {.name = "weight_cpu", .type = SA_F_INT, .off = SA_RD(weight_cpu), .min = 0, .max = 1000000, .def_int = 0},
    {.name = "weight_memory", .type = SA_F_INT, .off = SA_RD(weight_memory), .min = 0, .max = 1000000, .def_int = 0},
    {.name = "threshold", .type = SA_F_INT, .off = SA_RD(threshold), .min = 1, .max = 1000, .def_int = 50},
    {.name = "interval", .type = SA_F_INT, .off = SA_RD(interval), .min = 0, .max = 86400, .def_int = 0},
    {.name = "max_moves", .type = SA_F_INT, .off = SA_RD(max_moves), .min = 0, .max = 1000000, .def_int = 2},
    {.name = "probe_interval_ms",
     .type = SA_F_INT,
     .off = SA_RD(probe_interval_ms),
     .min = 50,
     .max = 600000,
     .def_int = 300},
    {.name = "probe_timeout_ms",
     .type = SA_F_INT,
     .off = SA_RD(probe_timeout_ms),
     .min = 50,
     .max = 600000,
     .def_int = 500},
    {.name = "load_interval", .type = SA_F_INT, .off = SA_RD(load_interval), .min = 1, .max = 3600, .def_int = 1},
    {.name = "max_connections",
     .type = SA_F_INT,
     .off = SA_RD(max_connections),
     .min = 1,
     .max = 100000,
     .def_int = 256},
    {.name = "max_per_source", .type = SA_F_INT, .off = SA_RD(max_per_source), .min = 1, .max = 100000, .def_int = 32},
    {.name = "header_timeout", .type = SA_F_INT, .off = SA_RD(header_timeout), .min = 1, .max = 600, .def_int = 2},
    {.name = "login_timeout_ms",
     .type = SA_F_INT,
     .off = SA_RD(login_timeout_ms),
     .min = 100,
     .max = 600000,
     .def_int = 5000},
    {.name = "max_data_segment",
     .type = SA_F_INT,
     .off = SA_RD(max_data_segment),
     .min = 512,
     .max = 16777215,
     .def_int = 65536},
    {.name = "servers",
     .type = SA_F_LIST,
     .off = SA_RD(servers),
     .aux_off = SA_RD(nservers),
     .sub = &sa_redir_server_schema},
    {.name = "resources",
     .type = SA_F_LIST,
     .off = SA_RD(resources),
     .aux_off = SA_RD(nresources),
     .sub = &sa_redir_resource_schema},
    {.name = "etcd",
     .type = SA_F_GROUP,
     .flags = SA_PRESENCE,
     .off = SA_RD(etcd),
     .aux_off = SA_RD(etcd.present),
     .sub = &sa_redir_etcd_schema},
};

/* Names tie resources to servers, so they must be unique and resolvable. */
static int sa_redirect_finish(struct sa_vctx *v, const config_setting_t *grp, void *obj, const char *where)
{
	const struct sa_redirect_config *r = &((const struct sa_config *)obj)->redirect;
	const config_setting_t *l;

	for (size_t i = 0; i < r->nservers; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(r->servers[i].name, r->servers[j].name))
				continue;
			l = config_setting_get_member(grp, "servers");
			return sa_cfg_fail(v, config_setting_get_elem(l, (unsigned)i),
			                   "%s.servers[%zu]: name \"%s\" already used by servers[%zu]", where, i,
			                   r->servers[i].name, j);
		}
	}
	for (size_t i = 0; i < r->nresources; i++) {
		const struct sa_redir_resource_cfg *rc = &r->resources[i];
		size_t j;

		l = config_setting_get_member(grp, "resources");
		if (strlen(rc->target) > 223)
			return sa_cfg_fail(v, config_setting_get_elem(l, (unsigned)i),
			                   "%s.resources[%zu]: target name longer than 223 characters", where, i);
		if (rc->server[0]) {
			for (j = 0; j < r->nservers; j++)
				if (strcmp(rc->server, r->servers[j].name) == 0)
					break;
			if (j == r->nservers)
				return sa_cfg_fail(v, config_setting_get_elem(l, (unsigned)i),
				                   "%s.resources[%zu]: unknown server \"%s\"", where, i, rc->server);
		}
	}
	/* Duplicate targets: sort a copy of the indexes so 10,000 resources stay cheap. */
	if (r->nresources > 1) {
		const struct sa_redir_resource_cfg **sorted = calloc(r->nresources, sizeof(*sorted));

		if (!sorted)
			return sa_cfg_fail(v, grp, "%s: out of memory", where), -ENOMEM;
		for (size_t i = 0; i < r->nresources; i++)
			sorted[i] = &r->resources[i];
		qsort(sorted, r->nresources, sizeof(*sorted), sa_redir_res_cmp);
		for (size_t i = 1; i < r->nresources; i++) {
			if (strcmp(sorted[i]->target, sorted[i - 1]->target) == 0) {
				size_t k = (size_t)(sorted[i] > sorted[i - 1] ? sorted[i] - r->resources
				                                              : sorted[i - 1] - r->resources);

				free(sorted);
				l = config_setting_get_member(grp, "resources");
				return sa_cfg_fail(v, config_setting_get_elem(l, (unsigned)k),
				                   "%s.resources[%zu]: target \"%s\" listed twice", where, k,
				                   r->resources[k].target);
			}
		}
		free(sorted);
	}
	return 0;
}
/* rediscover { }: the name-server side of forced rediscovery (seed 000). */
static int sa_chk_redisc_mode(const char *val, const char **canon, char *why, size_t whylen)
{
	static const char *const c[] = {"off", "dry-run", "act"};

	return sa_chk_choice(val, canon, why, whylen, c, SA_NELEM(c));
}

static int sa_chk_redisc_metric(const char *val, const char **canon, char *why, size_t whylen)
{
	static const char *const c[] = {"tx_rate_max", "tx_rate_min", "tx_rate_avg", "error_rate", "latency"};

	return sa_chk_choice(val, canon, why, whylen, c, SA_NELEM(c));
}

static int sa_chk_redisc_direction(const char *val, const char **canon, char *why, size_t whylen)
{
	static const char *const c[] = {"above", "below"};

	return sa_chk_choice(val, canon, why, whylen, c, SA_NELEM(c));
}

/* A replacement portal: a numeric address, optionally with a port, optionally "@IFACE" (the storage host's
 * interface the address goes on). */
static int sa_chk_redisc_pool(const char *val, const char **canon, char *why, size_t whylen)
{
	char addr[INET6_ADDRSTRLEN + 16];
	const char *at = strchr(val, '@'), *c2;
	size_t n = at ? (size_t)(at - val) : strlen(val);

	if (at && (!at[1] || strlen(at + 1) > 31 ||
	           at[1 + strspn(at + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")])) {
		snprintf(why, whylen, "interface after @ must be 1..31 characters of A-Z a-z 0-9 . _ -");
		return -1;
	}
	if (n >= sizeof(addr)) {
		snprintf(why, whylen, "not an address");
		return -1;
	}
	memcpy(addr, val, n);
	addr[n] = 0;
	if (sa_chk_numeric_addr(addr, &c2, why, whylen) == 0)
		return 0;
	return sa_chk_endpoint(addr, canon, why, whylen);
}

static int sa_chk_iscsi_name(const char *val, const char **canon, char *why, size_t whylen);

#define SA_RSA(m) offsetof(struct sa_redisc_storage_agent_cfg, m)
static const struct sa_field sa_redisc_storage_agent_fields[] = {
    {.name = "peer",
     .type = SA_F_STRING,
     .flags = SA_REQUIRED | SA_NONEMPTY,
     .off = SA_RSA(peer),
     .check = sa_chk_agent_peer},
    {.name = "user", .type = SA_F_STRING, .flags = SA_REQUIRED | SA_NONEMPTY, .off = SA_RSA(user)},
    {.name = "auth_passphrase",
     .type = SA_F_STRING,
     .flags = SA_REQUIRED | SA_SECRET,
     .off = SA_RSA(auth_passphrase),
     .check = sa_chk_passphrase},
    {.name = "priv_passphrase",
     .type = SA_F_STRING,
     .flags = SA_REQUIRED | SA_SECRET,
     .off = SA_RSA(priv_passphrase),
     .check = sa_chk_passphrase},
    {.name = "portals",
     .type = SA_F_STRARRAY,
     .off = SA_RSA(portals),
     .aux_off = SA_RSA(nportals),
     .check = sa_chk_endpoint},
    {.name = "poll_interval", .type = SA_F_INT, .off = SA_RSA(poll_interval), .min = 0, .max = 86400, .def_int = 0},
};
static const struct sa_schema sa_redisc_storage_agent_schema =
    SA_SCHEMA(sa_redisc_storage_agent_fields, sizeof(struct sa_redisc_storage_agent_cfg), NULL);

#define SA_RIA(m) offsetof(struct sa_redisc_initiator_agent_cfg, m)
static const struct sa_field sa_redisc_initiator_agent_fields[] = {
    {.name = "initiator",
     .type = SA_F_STRING,
     .flags = SA_REQUIRED | SA_NONEMPTY,
     .off = SA_RIA(initiator),
     .check = sa_chk_iscsi_name},
    {.name = "address", .type = SA_F_STRING, .flags = SA_REQUIRED, .off = SA_RIA(address), .check = sa_chk_endpoint},
};
static const struct sa_schema sa_redisc_initiator_agent_schema =
    SA_SCHEMA(sa_redisc_initiator_agent_fields, sizeof(struct sa_redisc_initiator_agent_cfg), NULL);

#define SA_RMU(m) SA_CFG(rediscover.message_user.m)
static const struct sa_field sa_redisc_message_user_fields[] = {
    {.name = "name", .type = SA_F_STRING, .flags = SA_REQUIRED | SA_NONEMPTY, .off = SA_RMU(name)},
    {.name = "auth_passphrase",
     .type = SA_F_STRING,
     .flags = SA_REQUIRED | SA_SECRET,
     .off = SA_RMU(auth_passphrase),
     .check = sa_chk_passphrase},
    {.name = "priv_passphrase",
     .type = SA_F_STRING,
     .flags = SA_REQUIRED | SA_SECRET,
     .off = SA_RMU(priv_passphrase),
     .check = sa_chk_passphrase},
};
static const struct sa_schema sa_redisc_message_user_schema = SA_SCHEMA(sa_redisc_message_user_fields, 0, NULL);

#define SA_RTG(m) offsetof(struct sa_redisc_target_cfg, m)
static const struct sa_field sa_redisc_target_fields[] = {
    {.name = "name",
     .type = SA_F_STRING,
     .flags = SA_REQUIRED | SA_NONEMPTY,
     .off = SA_RTG(name),
     .check = sa_chk_iscsi_name},
    {.name = "portals",
     .type = SA_F_STRARRAY,
     .flags = SA_REQUIRED | SA_NONEMPTY,
     .off = SA_RTG(portals),
     .aux_off = SA_RTG(nportals),
     .check = sa_chk_endpoint},
    {.name = "initiators",
     .type = SA_F_STRARRAY,
     .off = SA_RTG(initiators),
     .aux_off = SA_RTG(ninitiators),
     .check = sa_chk_iscsi_name},
};
static const struct sa_schema sa_redisc_target_schema =
    SA_SCHEMA(sa_redisc_target_fields, sizeof(struct sa_redisc_target_cfg), NULL);

#define SA_RTH(m) offsetof(struct sa_redisc_threshold_cfg, m)
static const struct sa_field sa_redisc_threshold_fields[] = {
    {.name = "metric", .type = SA_F_STRING, .flags = SA_REQUIRED, .off = SA_RTH(metric), .check = sa_chk_redisc_metric},
    {.name = "value", .type = SA_F_INT, .flags = SA_REQUIRED, .off = SA_RTH(value), .min = 0, .max = 2147483647},
    {.name = "direction",
     .type = SA_F_STRING,
     .off = SA_RTH(direction),
     .def = "above",
     .check = sa_chk_redisc_direction},
};
static const struct sa_schema sa_redisc_threshold_schema =
    SA_SCHEMA(sa_redisc_threshold_fields, sizeof(struct sa_redisc_threshold_cfg), NULL);

#define SA_RC(m) SA_CFG(rediscover.m)
static const struct sa_field sa_rediscover_fields[] = {
    SA_ENGINE_ENABLED(SA_ENGINE_REDISCOVER),
    {.name = "mode", .type = SA_F_STRING, .off = SA_RC(mode), .def = "dry-run", .check = sa_chk_redisc_mode},
    {.name = "hold_time", .type = SA_F_INT, .off = SA_RC(hold_time), .min = 0, .max = 86400, .def_int = 30},
    {.name = "move_step_timeout",
     .type = SA_F_INT,
     .off = SA_RC(move_step_timeout),
     .min = 100,
     .max = 600000,
     .def_int = 10000},
    {.name = "target_cooldown",
     .type = SA_F_INT,
     .off = SA_RC(target_cooldown),
     .min = 0,
     .max = 604800,
     .def_int = 300},
    {.name = "portal_cooldown",
     .type = SA_F_INT,
     .off = SA_RC(portal_cooldown),
     .min = 0,
     .max = 604800,
     .def_int = 300},
    {.name = "max_moves_per_hour",
     .type = SA_F_INT,
     .off = SA_RC(max_moves_per_hour),
     .min = 0,
     .max = 1000,
     .def_int = 6},
    {.name = "imbalance_share", .type = SA_F_INT, .off = SA_RC(imbalance_share), .min = 50, .max = 100, .def_int = 70},
    {.name = "session_age_out",
     .type = SA_F_INT,
     .off = SA_RC(session_age_out),
     .min = 1,
     .max = 86400,
     .def_int = 120},
    {.name = "history", .type = SA_F_INT, .off = SA_RC(history), .min = 1, .max = 100000, .def_int = 1000},
    {.name = "agent_port", .type = SA_F_INT, .off = SA_RC(agent_port), .min = 1, .max = 65535, .def_int = 162},
    {.name = "feedback_users", .type = SA_F_STRARRAY, .off = SA_RC(feedback_users), .aux_off = SA_RC(nfeedback_users)},
    {.name = "storage_users", .type = SA_F_STRARRAY, .off = SA_RC(storage_users), .aux_off = SA_RC(nstorage_users)},
    {.name = "thresholds",
     .type = SA_F_LIST,
     .off = SA_RC(thresholds),
     .aux_off = SA_RC(nthresholds),
     .sub = &sa_redisc_threshold_schema},
    {.name = "pool", .type = SA_F_STRARRAY, .off = SA_RC(pool), .aux_off = SA_RC(npool), .check = sa_chk_redisc_pool},
    {.name = "storage_agents",
     .type = SA_F_LIST,
     .off = SA_RC(storage_agents),
     .aux_off = SA_RC(nstorage_agents),
     .sub = &sa_redisc_storage_agent_schema},
    {.name = "isns_server",
     .type = SA_F_STRING,
     .off = SA_RC(isns_server),
     .def = "",
     .check = sa_chk_endpoint_or_empty},
    {.name = "isns_source",
     .type = SA_F_STRING,
     .flags = SA_NONEMPTY,
     .off = SA_RC(isns_source),
     .def = "iqn.2026-01.org.sanagent:nameserver",
     .check = sa_chk_iscsi_name},
    {.name = "initiator_agents",
     .type = SA_F_LIST,
     .off = SA_RC(initiator_agents),
     .aux_off = SA_RC(ninitiator_agents),
     .sub = &sa_redisc_initiator_agent_schema},
    {.name = "message_user",
     .type = SA_F_GROUP,
     .flags = SA_PRESENCE,
     .off = 0,
     .aux_off = SA_RC(message_user.present),
     .sub = &sa_redisc_message_user_schema},
    {.name = "targets",
     .type = SA_F_LIST,
     .off = SA_RC(targets),
     .aux_off = SA_RC(ntargets),
     .sub = &sa_redisc_target_schema},
};

/* A portal is served by one storage agent: two listing it would make a move ambiguous. */
static int sa_rediscover_finish(struct sa_vctx *v, const config_setting_t *grp, void *obj, const char *where)
{
	const struct sa_rediscover_config *r = &((const struct sa_config *)obj)->rediscover;

	for (size_t i = 0; i < r->nstorage_agents; i++)
		for (size_t k = 0; k < r->storage_agents[i].nportals; k++)
			for (size_t j = 0; j <= i; j++)
				for (size_t l = 0; l < (j == i ? k : r->storage_agents[j].nportals); l++)
					if (strcmp(r->storage_agents[i].portals[k], r->storage_agents[j].portals[l]) ==
					    0)
						return sa_cfg_fail(
						    v, config_setting_get_member(grp, "storage_agents"),
						    "%s.storage_agents[%zu].portals[%zu]: %s already listed at "
						    "storage_agents[%zu]",
						    where, i, k, r->storage_agents[i].portals[k], j);
	return 0;
}
/* cluster { }: the cluster resource table (seed 004): role, identity, membership, sync user. */
static int sa_chk_clu_role(const char *val, const char **canon, char *why, size_t whylen)
{
	static const char *const c[] = {"host", "unit"};

	return sa_chk_choice(val, canon, why, whylen, c, SA_NELEM(c));
}

static int sa_chk_clu_granularity(const char *val, const char **canon, char *why, size_t whylen)
{
	static const char *const c[] = {"controller", "device"};

	return sa_chk_choice(val, canon, why, whylen, c, SA_NELEM(c));
}

/* The seed's GUIDs are 64-bit: 16 hexadecimal digits ("" where the agent may derive its own). */
static int sa_chk_clu_guid(const char *val, const char **canon, char *why, size_t whylen)
{
	(void)canon;
	if (strlen(val) != 16 || val[strspn(val, "0123456789abcdefABCDEF")] || strspn(val, "0") == 16) {
		snprintf(why, whylen, "not a GUID (16 hexadecimal digits, not all zero)");
		return -1;
	}
	return 0;
}

static int sa_chk_clu_guid_or_empty(const char *val, const char **canon, char *why, size_t whylen)
{
	return val[0] ? sa_chk_clu_guid(val, canon, why, whylen) : 0;
}

/* State keys are printable ASCII without whitespace (common/state.h): keep the prefix plain. */
static int sa_chk_clu_state_key(const char *val, const char **canon, char *why, size_t whylen)
{
	(void)canon;
	if (!val[0] || strlen(val) > 48 ||
	    val[strspn(val, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")]) {
		snprintf(why, whylen, "must be 1..48 characters of A-Z a-z 0-9 _ -");
		return -1;
	}
	return 0;
}

#define SA_CLM(m) offsetof(struct sa_clu_member_cfg, m)
static const struct sa_field sa_clu_member_fields[] = {
    {.name = "type", .type = SA_F_STRING, .flags = SA_REQUIRED, .off = SA_CLM(type), .check = sa_chk_clu_role},
    {.name = "guid", .type = SA_F_STRING, .flags = SA_REQUIRED, .off = SA_CLM(guid), .check = sa_chk_clu_guid},
    {.name = "address",
     .type = SA_F_STRING,
     .flags = SA_REQUIRED | SA_NONEMPTY,
     .off = SA_CLM(address),
     .check = sa_chk_agent_peer},
    {.name = "name", .type = SA_F_STRING, .off = SA_CLM(name), .def = "", .check = sa_chk_iscsi_name},
    {.name = "notify", .type = SA_F_STRING, .off = SA_CLM(notify), .def = "", .check = sa_chk_agent_peer},
};

/* A host member is a CRT host row: owners are named by it, so it needs its initiator name. */
static int sa_clu_member_finish(struct sa_vctx *v, const config_setting_t *grp, void *obj, const char *where)
{
	const struct sa_clu_member_cfg *m = obj;

	if (strcmp(m->type, "host") == 0 && !m->name[0])
		return sa_cfg_fail(v, grp, "%s: a host member needs name (its iSCSI initiator name)", where);
	return 0;
}
static const struct sa_schema sa_clu_member_schema =
    SA_SCHEMA(sa_clu_member_fields, sizeof(struct sa_clu_member_cfg), sa_clu_member_finish);

#define SA_CLU(m) SA_CFG(cluster.m)
static const struct sa_field sa_clu_peer_user_fields[] = {
    {.name = "name", .type = SA_F_STRING, .flags = SA_REQUIRED | SA_NONEMPTY, .off = SA_CLU(peer_user.name)},
    {.name = "auth_passphrase",
     .type = SA_F_STRING,
     .flags = SA_REQUIRED | SA_SECRET,
     .off = SA_CLU(peer_user.auth_passphrase),
     .check = sa_chk_passphrase},
    {.name = "priv_passphrase",
     .type = SA_F_STRING,
     .flags = SA_REQUIRED | SA_SECRET,
     .off = SA_CLU(peer_user.priv_passphrase),
     .check = sa_chk_passphrase},
};
static const struct sa_schema sa_clu_peer_user_schema = SA_SCHEMA(sa_clu_peer_user_fields, 0, NULL);

/* The same checks as redirect.etcd: endpoints are URLs, the cluster name is a path element of every key. */
static const struct sa_field sa_clu_etcd_fields[] = {
    {.name = "endpoints",
     .type = SA_F_STRARRAY,
     .flags = SA_REQUIRED | SA_NONEMPTY,
     .off = SA_CLU(etcd.endpoints),
     .aux_off = SA_CLU(etcd.nendpoints),
     .check = sa_chk_etcd_url},
    {.name = "cluster",
     .type = SA_F_STRING,
     .flags = SA_NONEMPTY,
     .off = SA_CLU(etcd.cluster),
     .def = "default",
     .check = sa_chk_etcd_cluster},
};
static const struct sa_schema sa_clu_etcd_schema = SA_SCHEMA(sa_clu_etcd_fields, 0, NULL);

static const struct sa_field sa_cluster_fields[] = {
    SA_ENGINE_ENABLED(SA_ENGINE_CLUSTER),
    {.name = "role", .type = SA_F_STRING, .off = SA_CLU(role), .def = "host", .check = sa_chk_clu_role},
    {.name = "guid", .type = SA_F_STRING, .off = SA_CLU(guid), .def = "", .check = sa_chk_clu_guid_or_empty},
    {.name = "initiator_name",
     .type = SA_F_STRING,
     .off = SA_CLU(initiator_name),
     .def = "",
     .check = sa_chk_iscsi_name},
    {.name = "granularity",
     .type = SA_F_STRING,
     .off = SA_CLU(granularity),
     .def = "controller",
     .check = sa_chk_clu_granularity},
    {.name = "poll_interval", .type = SA_F_INT, .off = SA_CLU(poll_interval), .min = 0, .max = 86400, .def_int = 30},
    {.name = "sync_interval", .type = SA_F_INT, .off = SA_CLU(sync_interval), .min = 0, .max = 86400, .def_int = 60},
    {.name = "ownership_grace",
     .type = SA_F_INT,
     .off = SA_CLU(ownership_grace),
     .min = 0,
     .max = 86400,
     .def_int = 30},
    {.name = "enforce_acl", .type = SA_F_BOOL, .off = SA_CLU(enforce_acl), .def_int = 1},
    {.name = "acl_always",
     .type = SA_F_STRARRAY,
     .off = SA_CLU(acl_always),
     .aux_off = SA_CLU(nacl_always),
     .check = sa_chk_iscsi_name},
    {.name = "state_key",
     .type = SA_F_STRING,
     .off = SA_CLU(state_key),
     .def = "cluster",
     .check = sa_chk_clu_state_key},
    {.name = "members",
     .type = SA_F_LIST,
     .off = SA_CLU(members),
     .aux_off = SA_CLU(nmembers),
     .sub = &sa_clu_member_schema},
    {.name = "peer_user",
     .type = SA_F_GROUP,
     .flags = SA_PRESENCE,
     .off = 0,
     .aux_off = SA_CLU(peer_user.present),
     .sub = &sa_clu_peer_user_schema},
    {.name = "sync_users", .type = SA_F_STRARRAY, .off = SA_CLU(sync_users), .aux_off = SA_CLU(nsync_users)},
    {.name = "etcd",
     .type = SA_F_GROUP,
     .flags = SA_PRESENCE,
     .off = 0,
     .aux_off = SA_CLU(etcd.present),
     .sub = &sa_clu_etcd_schema},
};

/* A member is one identity: a GUID or an address listed twice would be two rows of one thing; this agent's own
 * GUID names a member of its own role. */
static int sa_cluster_finish(struct sa_vctx *v, const config_setting_t *grp, void *obj, const char *where)
{
	const struct sa_cluster_config *c = &((const struct sa_config *)obj)->cluster;
	const config_setting_t *list = config_setting_get_member(grp, "members");

	for (size_t i = 0; i < c->nmembers; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcasecmp(c->members[i].guid, c->members[j].guid) == 0)
				return sa_cfg_fail(v, config_setting_get_elem(list, (unsigned)i),
				                   "%s.members[%zu]: guid %s already listed at members[%zu]", where, i,
				                   c->members[i].guid, j);
			if (strcmp(c->members[i].address, c->members[j].address) == 0)
				return sa_cfg_fail(v, config_setting_get_elem(list, (unsigned)i),
				                   "%s.members[%zu]: address %s already listed at members[%zu]", where,
				                   i, c->members[i].address, j);
		}
		if (c->guid[0] && strcasecmp(c->guid, c->members[i].guid) == 0 &&
		    strcmp(c->members[i].type, c->role) != 0)
			return sa_cfg_fail(v, config_setting_get_elem(list, (unsigned)i),
			                   "%s.members[%zu]: guid %s is this agent's, but this agent is a %s", where, i,
			                   c->guid, c->role);
	}
	return 0;
}

/* balance { }: multipath teams run by the nbdkit-sanpath plug-in. */
#ifndef PKGLIBDIR
#define PKGLIBDIR "/usr/local/lib/sanagent"
#endif

/* Team names become file names in run_dir and SNMP strings: keep them plain. */
static int sa_chk_bal_name(const char *val, const char **canon, char *why, size_t whylen)
{
	(void)canon;
	if (strlen(val) > 63 || val[0] == '.' ||
	    val[strspn(val, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                    "0123456789._-")]) {
		snprintf(why, whylen, "must be 1..63 characters of A-Z a-z 0-9 . _ - and not start with .");
		return -1;
	}
	return 0;
}

/* KEY=VALUE, as nbdkit takes plug-in parameters. */
static int sa_chk_bal_plugin_arg(const char *val, const char **canon, char *why, size_t whylen)
{
	(void)canon;
	if (val[0] == '=' || val[0] == '-' || !strchr(val, '=')) {
		snprintf(why, whylen, "not a KEY=VALUE plug-in parameter");
		return -1;
	}
	return 0;
}

static int sa_chk_bal_mode(const char *val, const char **canon, char *why, size_t whylen)
{
	static const char *const c[] = {"failover", "lb"};

	return sa_chk_choice(val, canon, why, whylen, c, SA_NELEM(c));
}

static int sa_chk_bal_failback(const char *val, const char **canon, char *why, size_t whylen)
{
	static const char *const c[] = {"immediate", "manual", "delayed"};

	return sa_chk_choice(val, canon, why, whylen, c, SA_NELEM(c));
}

static int sa_chk_bal_algo(const char *val, const char **canon, char *why, size_t whylen)
{
	static const char *const c[] = {"static", "dynamic", "round-robin", "queue-length", "service-time"};

	return sa_chk_choice(val, canon, why, whylen, c, SA_NELEM(c));
}

#define SA_BPATH(m) offsetof(struct sa_bal_path_cfg, m)
static const struct sa_field sa_bal_path_fields[] = {
    {.name = "portal", .type = SA_F_STRING, .flags = SA_REQUIRED, .off = SA_BPATH(portal), .check = sa_chk_endpoint},
    {.name = "iface", .type = SA_F_STRING, .off = SA_BPATH(iface), .def = ""},
    {.name = "share_read", .type = SA_F_INT, .off = SA_BPATH(share_read), .min = 0, .max = 100, .def_int = 0},
    {.name = "share_write", .type = SA_F_INT, .off = SA_BPATH(share_write), .min = 0, .max = 100, .def_int = 0},
};
static const struct sa_schema sa_bal_path_schema = SA_SCHEMA(sa_bal_path_fields, sizeof(struct sa_bal_path_cfg), NULL);

#define SA_BTEAM(m) offsetof(struct sa_bal_team_cfg, m)
static const struct sa_field sa_bal_team_fields[] = {
    {.name = "name", .type = SA_F_STRING, .flags = SA_REQUIRED, .off = SA_BTEAM(name), .check = sa_chk_bal_name},
    {.name = "target", .type = SA_F_STRING, .flags = SA_REQUIRED | SA_NONEMPTY, .off = SA_BTEAM(target)},
    {.name = "lun", .type = SA_F_INT, .off = SA_BTEAM(lun), .min = 0, .max = 16383, .def_int = 0},
    {.name = "mode", .type = SA_F_STRING, .off = SA_BTEAM(mode), .def = "lb", .check = sa_chk_bal_mode},
    {.name = "algo", .type = SA_F_STRING, .off = SA_BTEAM(algo), .def = "static", .check = sa_chk_bal_algo},
    /* Ranges as sp_lb_validate_dynamic() in iscsi/sp_shares.c. */
    {.name = "timer_interval_ms",
     .type = SA_F_INT,
     .off = SA_BTEAM(timer_interval_ms),
     .min = 10,
     .max = 3600000,
     .def_int = 1000},
    {.name = "change_threshold",
     .type = SA_F_INT,
     .off = SA_BTEAM(change_threshold),
     .min = 0,
     .max = 100,
     .def_int = 10},
    {.name = "lb_change", .type = SA_F_INT, .off = SA_BTEAM(lb_change), .min = 1, .max = 100, .def_int = 5},
    /* Defaults as sp_team_opts_default() in iscsi/sp_team.c. */
    {.name = "suspect", .type = SA_F_INT, .off = SA_BTEAM(suspect), .min = 0, .max = 1, .def_int = 1},
    {.name = "suspect_k", .type = SA_F_INT, .off = SA_BTEAM(suspect_k), .min = 1, .max = 1000, .def_int = 4},
    {.name = "suspect_floor_ms",
     .type = SA_F_INT,
     .off = SA_BTEAM(suspect_floor_ms),
     .min = 1,
     .max = 600000,
     .def_int = 20},
    /* Failback and flap damping: ranges as sanTeamFailback... in SANAGENT-PATH-MIB, defaults as the data plane's. */
    {.name = "failback",
     .type = SA_F_STRING,
     .off = SA_BTEAM(failback),
     .def = "immediate",
     .check = sa_chk_bal_failback},
    {.name = "failback_hold", .type = SA_F_INT, .off = SA_BTEAM(failback_hold), .min = 0, .max = 86400, .def_int = 5},
    {.name = "flap_count", .type = SA_F_INT, .off = SA_BTEAM(flap_count), .min = 0, .max = 8, .def_int = 3},
    {.name = "flap_window", .type = SA_F_INT, .off = SA_BTEAM(flap_window), .min = 1, .max = 86400, .def_int = 30},
    {.name = "flap_hold", .type = SA_F_INT, .off = SA_BTEAM(flap_hold), .min = 0, .max = 86400, .def_int = 10},
    {.name = "paths",
     .type = SA_F_LIST,
     .flags = SA_REQUIRED,
     .off = SA_BTEAM(paths),
     .aux_off = SA_BTEAM(npaths),
     .sub = &sa_bal_path_schema},
};

/* Shares per direction sum to 100, or are all left out (equal shares). */
static int sa_bal_team_finish(struct sa_vctx *v, const config_setting_t *grp, void *obj, const char *where)
{
	const struct sa_bal_team_cfg *t = obj;
	const config_setting_t *l = config_setting_get_member(grp, "paths");

	if (strlen(t->target) > 223)
		return sa_cfg_fail(v, grp, "%s.target: longer than 223 characters", where);
	if (t->npaths < 1 || t->npaths > 16)
		return sa_cfg_fail(v, l ? l : grp, "%s.paths: a team has 1..16 paths, not %zu", where, t->npaths);
	for (int d = 0; d < 2; d++) {
		int sum = 0;

		for (size_t i = 0; i < t->npaths; i++)
			sum += d ? t->paths[i].share_write : t->paths[i].share_read;
		if (sum != 0 && sum != 100)
			return sa_cfg_fail(v, l, "%s.paths: %s shares sum to %d, not 100", where,
			                   d ? "share_write" : "share_read", sum);
	}
	for (size_t i = 0; i < t->npaths; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(t->paths[i].portal, t->paths[j].portal) == 0 &&
			    strcmp(t->paths[i].iface, t->paths[j].iface) == 0)
				return sa_cfg_fail(v, config_setting_get_elem(l, (unsigned)i),
				                   "%s.paths[%zu]: same portal and iface as paths[%zu]", where, i, j);
	return 0;
}
static const struct sa_schema sa_bal_team_schema =
    SA_SCHEMA(sa_bal_team_fields, sizeof(struct sa_bal_team_cfg), sa_bal_team_finish);

#define SA_BAL(m) SA_CFG(balance.m)
static const struct sa_field sa_balance_fields[] = {
    SA_ENGINE_ENABLED(SA_ENGINE_BALANCE),
    {.name = "run_dir", .type = SA_F_STRING, .flags = SA_NONEMPTY, .off = SA_BAL(run_dir), .def = "/run/sanagent"},
    {.name = "nbdkit", .type = SA_F_STRING, .flags = SA_NONEMPTY, .off = SA_BAL(nbdkit), .def = "nbdkit"},
    {.name = "plugin",
     .type = SA_F_STRING,
     .flags = SA_NONEMPTY,
     .off = SA_BAL(plugin),
     .def = PKGLIBDIR "/nbdkit-sanpath-plugin.so"},
    {.name = "plugin_args",
     .type = SA_F_STRARRAY,
     .off = SA_BAL(plugin_args),
     .aux_off = SA_BAL(nplugin_args),
     .check = sa_chk_bal_plugin_arg},
    {.name = "poll_interval_ms",
     .type = SA_F_INT,
     .off = SA_BAL(poll_interval_ms),
     .min = 50,
     .max = 10000,
     .def_int = 250},
    {.name = "shares_notify_interval",
     .type = SA_F_INT,
     .off = SA_BAL(shares_notify_interval),
     .min = 0,
     .max = 86400,
     .def_int = 10},
    {.name = "teams", .type = SA_F_LIST, .off = SA_BAL(teams), .aux_off = SA_BAL(nteams), .sub = &sa_bal_team_schema},
};

static int sa_balance_finish(struct sa_vctx *v, const config_setting_t *grp, void *obj, const char *where)
{
	const struct sa_balance_config *b = &((const struct sa_config *)obj)->balance;
	const config_setting_t *l = config_setting_get_member(grp, "teams");

	if (strlen(b->run_dir) > 80)
		return sa_cfg_fail(v, config_setting_get_member(grp, "run_dir"),
		                   "%s.run_dir: longer than 80 characters (unix socket paths are short)", where);
	for (size_t i = 0; i < b->nteams; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(b->teams[i].name, b->teams[j].name) == 0)
				return sa_cfg_fail(v, config_setting_get_elem(l, (unsigned)i),
				                   "%s.teams[%zu]: name \"%s\" already used by teams[%zu]", where, i,
				                   b->teams[i].name, j);
	return 0;
}

/* discovery { }: SendTargets portals, subnet scans, iSNS servers, aging. */
static int sa_chk_iscsi_name(const char *val, const char **canon, char *why, size_t whylen)
{
	(void)canon;
	if (strlen(val) > 223) {
		snprintf(why, whylen, "longer than 223 characters");
		return -1;
	}
	return 0;
}

#define SA_DSCAN(m) offsetof(struct sa_disc_scan_cfg, m)
static const struct sa_field sa_disc_scan_fields[] = {
    {.name = "cidr", .type = SA_F_STRING, .flags = SA_REQUIRED, .off = SA_DSCAN(cidr), .check = sa_chk_cidr},
    {.name = "ports",
     .type = SA_F_INTARRAY,
     .off = SA_DSCAN(ports),
     .aux_off = SA_DSCAN(nports),
     .min = 1,
     .max = 65535},
    {.name = "concurrency", .type = SA_F_INT, .off = SA_DSCAN(concurrency), .min = 1, .max = 1024, .def_int = 64},
    {.name = "timeout_ms", .type = SA_F_INT, .off = SA_DSCAN(timeout_ms), .min = 10, .max = 60000, .def_int = 500},
};

/* A scan walks every address of its prefix: keep it to an IPv4 /16 at most. */
static int sa_disc_scan_finish(struct sa_vctx *v, const config_setting_t *grp, void *obj, const char *where)
{
	const struct sa_disc_scan_cfg *sc = obj;
	const char *slash = strchr(sc->cidr, '/');

	if (strchr(sc->cidr, ':'))
		return sa_cfg_fail(v, config_setting_get_member(grp, "cidr"),
		                   "%s.cidr: only IPv4 prefixes can be scanned", where);
	if (!slash || atoi(slash + 1) < 16)
		return sa_cfg_fail(v, config_setting_get_member(grp, "cidr"), "%s.cidr: prefix longer than /16 needed",
		                   where);
	return 0;
}
static const struct sa_schema sa_disc_scan_schema =
    SA_SCHEMA(sa_disc_scan_fields, sizeof(struct sa_disc_scan_cfg), sa_disc_scan_finish);

#define SA_DI(m) SA_CFG(discovery.m)
static const struct sa_field sa_discovery_fields[] = {
    SA_ENGINE_ENABLED(SA_ENGINE_DISCOVERY),
    {.name = "initiator_name",
     .type = SA_F_STRING,
     .flags = SA_NONEMPTY,
     .off = SA_DI(initiator_name),
     .def = "iqn.2026-01.org.sanagent:discovery",
     .check = sa_chk_iscsi_name},
    {.name = "portals",
     .type = SA_F_STRARRAY,
     .off = SA_DI(portals),
     .aux_off = SA_DI(nportals),
     .check = sa_chk_endpoint},
    {.name = "isns", .type = SA_F_STRARRAY, .off = SA_DI(isns), .aux_off = SA_DI(nisns), .check = sa_chk_endpoint},
    {.name = "interval", .type = SA_F_INT, .off = SA_DI(interval), .min = 1, .max = 86400, .def_int = 30},
    {.name = "age_out", .type = SA_F_INT, .off = SA_DI(age_out), .min = 1, .max = 604800, .def_int = 300},
    {.name = "timeout_ms", .type = SA_F_INT, .off = SA_DI(timeout_ms), .min = 100, .max = 600000, .def_int = 10000},
    {.name = "max_reply",
     .type = SA_F_INT,
     .off = SA_DI(max_reply),
     .min = 65536,
     .max = 268435456,
     .def_int = 33554432},
    {.name = "max_data_segment",
     .type = SA_F_INT,
     .off = SA_DI(max_data_segment),
     .min = 512,
     .max = 16777215,
     .def_int = 262144},
    {.name = "scan", .type = SA_F_LIST, .off = SA_DI(scan), .aux_off = SA_DI(nscan), .sub = &sa_disc_scan_schema},
    {.name = "chap_user", .type = SA_F_STRING, .off = SA_DI(chap_user), .def = ""},
    {.name = "chap_secret", .type = SA_F_STRING, .flags = SA_SECRET, .off = SA_DI(chap_secret), .def = ""},
    {.name = "chap_target_user", .type = SA_F_STRING, .off = SA_DI(chap_target_user), .def = ""},
    {.name = "chap_target_secret",
     .type = SA_F_STRING,
     .flags = SA_SECRET,
     .off = SA_DI(chap_target_secret),
     .def = ""},
    {.name = "isns_scn_port", .type = SA_F_INT, .off = SA_DI(isns_scn_port), .min = 0, .max = 65535, .def_int = 0},
    {.name = "isns_scn_address",
     .type = SA_F_STRING,
     .off = SA_DI(isns_scn_address),
     .def = "",
     .check = sa_chk_numeric_addr_or_empty},
    {.name = "isns_scn_idle", .type = SA_F_INT, .off = SA_DI(isns_scn_idle), .min = 1, .max = 86400, .def_int = 60},
    {.name = "chap_secret_min", .type = SA_F_INT, .off = SA_DI(chap_secret_min), .min = 1, .max = 255, .def_int = 12},
    {.name = "chap_secret_max", .type = SA_F_INT, .off = SA_DI(chap_secret_max), .min = 1, .max = 255, .def_int = 16},
    {.name = "login_initiator_name",
     .type = SA_F_STRING,
     .flags = SA_NONEMPTY,
     .off = SA_DI(login_initiator_name),
     .def = "iqn.2026-01.org.sanagent:initiator",
     .check = sa_chk_iscsi_name},
    {.name = "session_window", .type = SA_F_INT, .off = SA_DI(session_window), .min = 5, .max = 3600, .def_int = 60},
    {.name = "rediscover_users",
     .type = SA_F_STRARRAY,
     .off = SA_DI(rediscover_users),
     .aux_off = SA_DI(nrediscover_users)},
    {.name = "feedback_interval",
     .type = SA_F_INT,
     .off = SA_DI(feedback_interval),
     .min = 0,
     .max = 86400,
     .def_int = 0},
};

/* Secrets' limits must leave room for a secret; CHAP needs a name with a secret. */
static int sa_discovery_finish(struct sa_vctx *v, const config_setting_t *grp, void *obj, const char *where)
{
	const struct sa_discovery_config *d = &((const struct sa_config *)obj)->discovery;

	if (d->chap_secret_min > d->chap_secret_max)
		return sa_cfg_fail(v, config_setting_get_member(grp, "chap_secret_min"),
		                   "%s.chap_secret_min: larger than chap_secret_max (%d)", where, d->chap_secret_max);
	if ((d->chap_user[0] != 0) != (d->chap_secret[0] != 0))
		return sa_cfg_fail(v, config_setting_get_member(grp, d->chap_user[0] ? "chap_user" : "chap_secret"),
		                   "%s: chap_user and chap_secret go together", where);
	if ((d->chap_target_user[0] != 0) != (d->chap_target_secret[0] != 0) ||
	    (d->chap_target_user[0] && !d->chap_user[0]))
		return sa_cfg_fail(
		    v,
		    config_setting_get_member(grp, d->chap_target_user[0] ? "chap_target_user" : "chap_target_secret"),
		    "%s: mutual CHAP needs chap_target_user, chap_target_secret and chap_user", where);
	return 0;
}

#define SA_ST(m) SA_CFG(storage.m)
static const struct sa_field sa_storage_fields[] = {
    {.name = "tgt_control", .type = SA_F_INT, .off = SA_ST(tgt_control), .min = 0, .max = 65535, .def_int = 0},
    {.name = "interval", .type = SA_F_INT, .off = SA_ST(interval), .min = 1, .max = 3600, .def_int = 2},
    {.name = "feedback_interval",
     .type = SA_F_INT,
     .off = SA_ST(feedback_interval),
     .min = 0,
     .max = 86400,
     .def_int = 0},
    {.name = "competing_share", .type = SA_F_INT, .off = SA_ST(competing_share), .min = 50, .max = 100, .def_int = 70},
    {.name = "competing_min_rate",
     .type = SA_F_INT,
     .off = SA_ST(competing_min_rate),
     .min = 0,
     .max = 100000000,
     .def_int = 1024},
    {.name = "competing_holdoff",
     .type = SA_F_INT,
     .off = SA_ST(competing_holdoff),
     .min = 0,
     .max = 604800,
     .def_int = 300},
    {.name = "probe_initiator", .type = SA_F_STRING, .off = SA_ST(probe_initiator), .def = ""},
    {.name = "lun_dir", .type = SA_F_STRING, .off = SA_ST(lun_dir), .def = ""},
};

static const struct sa_schema sa_storage_schema = SA_SCHEMA(sa_storage_fields, 0, NULL);
static const struct sa_schema sa_discovery_schema = SA_SCHEMA(sa_discovery_fields, 0, sa_discovery_finish);
static const struct sa_schema sa_balance_schema = SA_SCHEMA(sa_balance_fields, 0, sa_balance_finish);
static const struct sa_schema sa_redirect_schema = SA_SCHEMA(sa_redirect_fields, 0, sa_redirect_finish);
static const struct sa_schema sa_rediscover_schema = SA_SCHEMA(sa_rediscover_fields, 0, sa_rediscover_finish);
static const struct sa_schema sa_cluster_schema = SA_SCHEMA(sa_cluster_fields, 0, sa_cluster_finish);

/* An engine section's presence flag is its enabled flag: absent = off,
 * present = on unless "enabled = false". */
#define SA_ENGINE_SECTION(id, sch)                                                                                     \
	{                                                                                                              \
		.name = NULL, .type = SA_F_GROUP, .flags = SA_PRESENCE, .off = 0,                                      \
		.aux_off = SA_CFG(engine_enabled[id]), .sub = &(sch)                                                   \
	}

static const struct sa_field sa_top_fields[] = {
    {.name = "agent", .type = SA_F_GROUP, .off = 0, .sub = &sa_agent_schema},
    {.name = "trap_receiver",
     .type = SA_F_GROUP,
     .flags = SA_PRESENCE,
     .off = 0,
     .aux_off = SA_CFG(trap_receiver.enabled),
     .sub = &sa_trap_schema},
    SA_ENGINE_SECTION(SA_ENGINE_DISCOVERY, sa_discovery_schema),
    {.name = "storage",
     .type = SA_F_GROUP,
     .flags = SA_PRESENCE,
     .off = 0,
     .aux_off = SA_CFG(storage.enabled),
     .sub = &sa_storage_schema},
    SA_ENGINE_SECTION(SA_ENGINE_BALANCE, sa_balance_schema),
    SA_ENGINE_SECTION(SA_ENGINE_REDIRECT, sa_redirect_schema),
    SA_ENGINE_SECTION(SA_ENGINE_REDISCOVER, sa_rediscover_schema),
    SA_ENGINE_SECTION(SA_ENGINE_CLUSTER, sa_cluster_schema),
};
static const struct sa_schema sa_top_schema = SA_SCHEMA(sa_top_fields, 0, NULL);

/* Engine sections are named by sa_engine_names[] (found through the
 * engine_enabled[] slot they set) so the two never drift. */
static const char *sa_field_name(const struct sa_schema *sc, size_t i)
{
	const struct sa_field *f = &sc->fields[i];
	size_t base = SA_CFG(engine_enabled);

	if (f->name)
		return f->name;
	if (f->type == SA_F_GROUP && f->aux_off >= base && f->aux_off < base + SA_ENGINE_COUNT * sizeof(int))
		return sa_engine_names[(f->aux_off - base) / sizeof(int)];
	return "?";
}

/* ---- the walker -------------------------------------------------------- */

#define SA_AT(obj, off, type) ((type *)(void *)((char *)(obj) + (off)))

/* Strings always get their default so consumers never see NULL; numbers
 * only when the enclosing group counts as present. */
static int sa_cfg_defaults(const struct sa_schema *sc, void *obj, int scalars)
{
	for (size_t i = 0; i < sc->nfields; i++) {
		const struct sa_field *f = &sc->fields[i];
		char **sp;
		int rc;

		switch (f->type) {
		case SA_F_STRING:
			sp = SA_AT(obj, f->off, char *);
			if (!*sp && !(*sp = strdup(f->def ? f->def : "")))
				return -ENOMEM;
			break;
		case SA_F_INT:
		case SA_F_BOOL:
			if (scalars)
				*SA_AT(obj, f->off, int) = f->def_int;
			break;
		case SA_F_GROUP:
			rc = sa_cfg_defaults(f->sub, (char *)obj + f->off, (f->flags & SA_PRESENCE) ? 0 : scalars);
			if (rc < 0)
				return rc;
			break;
		case SA_F_LIST:
		case SA_F_STRARRAY:
		case SA_F_INTARRAY: break;
		}
	}
	return 0;
}

static void sa_free_str(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static void sa_cfg_release(const struct sa_schema *sc, void *obj)
{
	for (size_t i = 0; i < sc->nfields; i++) {
		const struct sa_field *f = &sc->fields[i];
		size_t n;

		switch (f->type) {
		case SA_F_STRING:
			sa_free_str(*SA_AT(obj, f->off, char *));
			*SA_AT(obj, f->off, char *) = NULL;
			break;
		case SA_F_INT:
		case SA_F_BOOL: break;
		case SA_F_GROUP: sa_cfg_release(f->sub, (char *)obj + f->off); break;
		case SA_F_LIST: {
			char *arr = *SA_AT(obj, f->off, char *);

			n = *SA_AT(obj, f->aux_off, size_t);
			for (size_t j = 0; arr && j < n; j++)
				sa_cfg_release(f->sub, arr + j * f->sub->elem_size);
			free(arr);
			*SA_AT(obj, f->off, char *) = NULL;
			*SA_AT(obj, f->aux_off, size_t) = 0;
			break;
		}
		case SA_F_STRARRAY: {
			char **arr = *SA_AT(obj, f->off, char **);

			n = *SA_AT(obj, f->aux_off, size_t);
			for (size_t j = 0; arr && j < n; j++)
				sa_free_str(arr[j]);
			free(arr);
			*SA_AT(obj, f->off, char **) = NULL;
			*SA_AT(obj, f->aux_off, size_t) = 0;
			break;
		}
		case SA_F_INTARRAY:
			free(*SA_AT(obj, f->off, int *));
			*SA_AT(obj, f->off, int *) = NULL;
			*SA_AT(obj, f->aux_off, size_t) = 0;
			break;
		}
	}
}

static int sa_cfg_group(struct sa_vctx *v, const config_setting_t *grp, const struct sa_schema *sc, void *obj,
                        const char *where);

/* Builds the dotted name of a setting for messages; a name too long for
 * the buffer is cut, which only shortens the message. */
static void sa_cfg_path(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void sa_cfg_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static int sa_cfg_string(struct sa_vctx *v, const config_setting_t *s, const struct sa_field *f, const char *where,
                         char **dst)
{
	const char *val, *canon = NULL;
	char why[160];
	char *copy;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return sa_cfg_fail(v, s, "%s: expected a string", where);
	val = config_setting_get_string(s);
	if ((f->flags & SA_NONEMPTY) && !*val)
		return sa_cfg_fail(v, s, "%s: must not be empty", where);
	if (f->check && f->check(val, &canon, why, sizeof(why)) < 0) {
		if (f->flags & SA_SECRET)
			return sa_cfg_fail(v, s, "%s: %s", where, why);
		return sa_cfg_fail(v, s, "%s: \"%s\": %s", where, val, why);
	}
	if (!(copy = strdup(canon ? canon : val)))
		return sa_cfg_fail(v, s, "%s: out of memory", where), -ENOMEM;
	sa_free_str(*dst);
	*dst = copy;
	return 0;
}

static int sa_cfg_field(struct sa_vctx *v, const config_setting_t *s, const struct sa_field *f, void *obj,
                        const char *where)
{
	char sub[256];
	long long ll;
	int type = config_setting_type(s), n;

	switch (f->type) {
	case SA_F_STRING: return sa_cfg_string(v, s, f, where, SA_AT(obj, f->off, char *));
	case SA_F_INT:
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
			return sa_cfg_fail(v, s, "%s: expected an integer", where);
		ll = config_setting_get_int64(s);
		if (ll < f->min || ll > f->max)
			return sa_cfg_fail(v, s, "%s: %lld out of range %lld..%lld", where, ll, f->min, f->max);
		*SA_AT(obj, f->off, int) = (int)ll;
		return 0;
	case SA_F_BOOL:
		if (type != CONFIG_TYPE_BOOL)
			return sa_cfg_fail(v, s, "%s: expected true or false", where);
		*SA_AT(obj, f->off, int) = config_setting_get_bool(s) ? 1 : 0;
		return 0;
	case SA_F_GROUP:
		if (type != CONFIG_TYPE_GROUP)
			return sa_cfg_fail(v, s, "%s: expected a group { ... }", where);
		if (f->flags & SA_PRESENCE) {
			int rc;

			*SA_AT(obj, f->aux_off, int) = 1;
			rc = sa_cfg_defaults(f->sub, (char *)obj + f->off, 1);
			if (rc < 0)
				return sa_cfg_fail(v, s, "%s: out of memory", where), rc;
		}
		return sa_cfg_group(v, s, f->sub, (char *)obj + f->off, where);
	case SA_F_LIST: {
		char *arr;

		/* libconfig types an empty [] as an array; accept it as an empty list. */
		if (type != CONFIG_TYPE_LIST && !(type == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0))
			return sa_cfg_fail(v, s, "%s: expected a list ( { ... }, ... )", where);
		n = config_setting_length(s);
		arr = calloc(n ? (size_t)n : 1, f->sub->elem_size);
		if (!arr)
			return sa_cfg_fail(v, s, "%s: out of memory", where), -ENOMEM;
		/* Hand the array to obj first so a failure below frees it. */
		*SA_AT(obj, f->off, char *) = arr;
		*SA_AT(obj, f->aux_off, size_t) = (size_t)n;
		for (int i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			void *elem = arr + (size_t)i * f->sub->elem_size;
			int rc;

			sa_cfg_path(sub, sizeof(sub), "%s[%d]", where, i);
			if (config_setting_type(e) != CONFIG_TYPE_GROUP)
				return sa_cfg_fail(v, e, "%s: expected a group { ... }", sub);
			rc = sa_cfg_defaults(f->sub, elem, 1);
			if (rc < 0)
				return sa_cfg_fail(v, e, "%s: out of memory", sub), rc;
			rc = sa_cfg_group(v, e, f->sub, elem, sub);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	case SA_F_STRARRAY: {
		char **arr;

		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
			return sa_cfg_fail(v, s, "%s: expected an array [ \"...\", ... ]", where);
		n = config_setting_length(s);
		if (n == 0 && (f->flags & SA_NONEMPTY))
			return sa_cfg_fail(v, s, "%s: must not be empty", where);
		arr = calloc(n ? (size_t)n : 1, sizeof(char *));
		if (!arr)
			return sa_cfg_fail(v, s, "%s: out of memory", where), -ENOMEM;
		*SA_AT(obj, f->off, char **) = arr;
		*SA_AT(obj, f->aux_off, size_t) = (size_t)n;
		for (int i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			int rc;

			sa_cfg_path(sub, sizeof(sub), "%s[%d]", where, i);
			rc = sa_cfg_string(v, e, f, sub, &arr[i]);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	case SA_F_INTARRAY: {
		int *arr;

		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
			return sa_cfg_fail(v, s, "%s: expected an array [ 1, 2, ... ]", where);
		n = config_setting_length(s);
		if (n == 0 && (f->flags & SA_NONEMPTY))
			return sa_cfg_fail(v, s, "%s: must not be empty", where);
		arr = calloc(n ? (size_t)n : 1, sizeof(int));
		if (!arr)
			return sa_cfg_fail(v, s, "%s: out of memory", where), -ENOMEM;
		free(*SA_AT(obj, f->off, int *));
		*SA_AT(obj, f->off, int *) = arr;
		*SA_AT(obj, f->aux_off, size_t) = (size_t)n;
		for (int i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			int et = config_setting_type(e);

			sa_cfg_path(sub, sizeof(sub), "%s[%d]", where, i);
			if (et != CONFIG_TYPE_INT && et != CONFIG_TYPE_INT64)
				return sa_cfg_fail(v, e, "%s: expected an integer", sub);
			ll = config_setting_get_int64(e);
			if (ll < f->min || ll > f->max)
				return sa_cfg_fail(v, e, "%s: %lld out of range %lld..%lld", sub, ll, f->min, f->max);
			arr[i] = (int)ll;
		}
		return 0;
	}
	}
	return sa_cfg_fail(v, s, "%s: internal schema error", where);
}

static int sa_cfg_group(struct sa_vctx *v, const config_setting_t *grp, const struct sa_schema *sc, void *obj,
                        const char *where)
{
	char sub[256];
	int n = config_setting_length(grp), rc;

	/* Members in file order, so the error reported is the first bad line. */
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(s);
		size_t j;

		for (j = 0; j < sc->nfields; j++)
			if (name && strcmp(name, sa_field_name(sc, j)) == 0)
				break;
		if (j == sc->nfields) {
			if (*where)
				return sa_cfg_fail(v, s, "unknown key \"%s\" in %s", name ? name : "?", where);
			return sa_cfg_fail(v, s, "unknown key \"%s\"", name ? name : "?");
		}
		sa_cfg_path(sub, sizeof(sub), "%s%s%s", where, *where ? "." : "", name);
		rc = sa_cfg_field(v, s, &sc->fields[j], obj, sub);
		if (rc < 0)
			return rc;
	}
	for (size_t j = 0; j < sc->nfields; j++) {
		const char *name = sa_field_name(sc, j);

		if ((sc->fields[j].flags & SA_REQUIRED) && !config_setting_get_member(grp, name))
			return sa_cfg_fail(v, grp, "%s: missing required key \"%s\"", *where ? where : "top level",
			                   name);
	}
	return sc->finish ? sc->finish(v, grp, obj, where) : 0;
}

/* ---- entry points ------------------------------------------------------ */

void sa_config_free(struct sa_config *cfg)
{
	if (!cfg)
		return;
	sa_cfg_release(&sa_top_schema, cfg);
	free(cfg->path);
	free(cfg);
}

int sa_config_load(const char *path, struct sa_config **out, char *err, size_t errlen)
{
	struct sa_vctx v = {.path = path, .err = err, .errlen = errlen};
	struct sa_config *cfg;
	struct stat stbuf;
	config_t lc;
	char *dir = NULL, *slash;
	int fd, rc;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !out)
		return -EINVAL;

	/* Check readability ourselves: libconfig only says "file I/O error". */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &stbuf) < 0 || S_ISDIR(stbuf.st_mode)) {
		int e = fd < 0 ? errno : S_ISDIR(stbuf.st_mode) ? EISDIR : errno;

		if (fd >= 0)
			close(fd);
		if (err && errlen)
			snprintf(err, errlen, "%s:0: cannot read: %s", path, strerror(e));
		return -e;
	}
	close(fd);

	config_init(&lc);
	/* @include paths are relative to the including file's directory. */
	if ((dir = strdup(path)) && (slash = strrchr(dir, '/'))) {
		slash[slash == dir ? 1 : 0] = '\0';
		config_set_include_dir(&lc, dir);
		v.incdir = dir;
	}
	if (!config_read_file(&lc, path)) {
		const char *efile = config_error_file(&lc) ? config_error_file(&lc) : path;

		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO) {
			int e = errno ? errno : EIO;

			if (err && errlen)
				snprintf(err, errlen, "%s:0: cannot read: %s", path, strerror(e));
			config_destroy(&lc);
			free(dir);
			return -e;
		}
		if (err && errlen && efile[0] != '/' && strcmp(efile, path) != 0 && v.incdir)
			snprintf(err, errlen, "%s/%s:%d: %s", v.incdir, efile, config_error_line(&lc),
			         config_error_text(&lc));
		else if (err && errlen)
			snprintf(err, errlen, "%s:%d: %s", efile, config_error_line(&lc), config_error_text(&lc));
		config_destroy(&lc);
		free(dir);
		return -EINVAL;
	}

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg || !(cfg->path = strdup(path)) || sa_cfg_defaults(&sa_top_schema, cfg, 1) < 0) {
		config_destroy(&lc);
		free(dir);
		sa_config_free(cfg);
		if (err && errlen)
			snprintf(err, errlen, "%s:0: out of memory", path);
		return -ENOMEM;
	}
	rc = sa_cfg_group(&v, config_root_setting(&lc), &sa_top_schema, cfg, "");
	config_destroy(&lc);
	free(dir);
	if (rc < 0) {
		sa_config_free(cfg);
		return rc;
	}
	cfg->balance.source = cfg->path;
	*out = cfg;
	return 0;
}
