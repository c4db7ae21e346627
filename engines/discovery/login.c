/* login.c: the connection manager: login rows, each logged in as a balance-engine team; results, persistence, events.
 */
#include "engines/discovery/login.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engines/discovery/discovery.h"
#include "engines/discovery/readdress.h"
#include "engines/discovery/sendtargets.h"
#include "engines/registry.h"
#include "engines/sessions.h"
#include "iscsi/login_result.h"
#include "iscsi/sp_team.h"
#include "common/array.h"
#include "common/bus.h"
#include "common/evloop.h"
#include "common/hex.h"
#include "common/log.h"
#include "common/search.h"
#include "common/sockaddr.h"
#include "common/state.h"

#define TAG "login"
#define LOGIN_PREFIX "login.row."
#define AVOID_PREFIX "login.avoid."
#define TICK_MS 250u
#define RETRY_MS 5000u /* a login that could not even create its team tries again this often */
/* An informational login: one connect, login and logout. */
#define INFO_CONNECT_MS 3000u
#define INFO_TIMEOUT_MS 10000u

struct login_priv {
	struct disc_login pub; /* first: lookups hand out &pub */
	uint64_t retry_ms;     /* monotonic time of the next team creation attempt */
	int reap;              /* was logged in when the agent died: its data plane may still run */
	int stored;            /* in the state file: nonvolatile and active at least once */
	struct disc_st *probe; /* an informational login in flight */
	int probed;            /* an informational login ended since the row last changed */
};

static struct {
	int running;
	struct login_priv **rows; /* sorted by index */
	size_t n, cap;
	uint32_t next_index;
	unsigned int timer;
	char initiator[DISC_LOGIN_TARGET_MAX + 1];
	int disc_sub; /* bus handle, 0: not subscribed */
	const struct disc_team_ops *teams;
	const struct disc_access_ops *access;
	/* Portals of targets a name server told us never to use again. */
	struct login_avoid {
		char target[DISC_LOGIN_TARGET_MAX + 1];
		char portal[DISC_TEAM_PORTAL_MAX + 1];
	} * avoid;
	size_t navoid;
} conn_mgr = {.next_index = 1};

void disc_team_ops_register(const struct disc_team_ops *ops)
{
	conn_mgr.teams = ops;
}

void disc_access_ops_register(const struct disc_access_ops *ops)
{
	conn_mgr.access = ops;
}

int disc_login_may_use(const char *target, unsigned int lun)
{
	const struct disc_access_ops *a = conn_mgr.access;
	int rc;

	if (!a || !a->may_use)
		return 0;
	if ((rc = a->may_use(target)) < 0)
		return rc;
	return a->may_use_lun ? a->may_use_lun(target, lun) : 0;
}

static int teams_running(void)
{
	return conn_mgr.teams && conn_mgr.teams->running();
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *result_name(int r)
{
	static const char *const names[] = {"?",
	                                    "none",
	                                    "success",
	                                    "connection failed",
	                                    "initiator error",
	                                    "target not found",
	                                    "authentication failure",
	                                    "login failed",
	                                    "service unavailable",
	                                    "redirected"};

	return r >= SP_LOGIN_NONE && r <= SP_LOGIN_REDIRECTED ? names[r] : names[0];
}

/* ---- events ---------------------------------------------------------------- */

void disc_login_emit(int type, uint32_t a)
{
	struct disc_login_event ev = {.type = type, .a = a};

	bus_publish(BUS_LOGIN, &ev);
}

/* ---- rows ------------------------------------------------------------------- */

static int64_t login_index_of(const void *e)
{
	return (*(const struct login_priv *const *)e)->pub.index;
}

static size_t login_pos(uint32_t index)
{
	return cm_lower_bound(conn_mgr.rows, conn_mgr.n, sizeof(*conn_mgr.rows), index, login_index_of);
}

static struct login_priv *lookup(uint32_t index)
{
	size_t p = login_pos(index);

	return p < conn_mgr.n && conn_mgr.rows[p]->pub.index == index ? conn_mgr.rows[p] : NULL;
}

const struct disc_login *disc_login_find(uint32_t index)
{
	struct login_priv *l = lookup(index);

	return l ? &l->pub : NULL;
}

const struct disc_login *disc_login_next(uint32_t after)
{
	size_t p = after == UINT32_MAX ? conn_mgr.n : login_pos(after + 1);

	return p < conn_mgr.n ? &conn_mgr.rows[p]->pub : NULL;
}

uint32_t disc_login_next_index(void)
{
	return conn_mgr.next_index;
}

/* Logins are few (one per LU an operator attaches): a scan is fine here. */
static struct login_priv *by_team(unsigned int team)
{
	if (!team)
		return NULL;
	for (size_t i = 0; i < conn_mgr.n; i++)
		if (conn_mgr.rows[i]->pub.team == team)
			return conn_mgr.rows[i];
	return NULL;
}

uint32_t disc_login_by_team(unsigned int team)
{
	struct login_priv *l = by_team(team);

	return l ? l->pub.index : 0;
}

static int login_insert(struct login_priv *l)
{
	size_t p = login_pos(l->pub.index);

	if (p < conn_mgr.n && conn_mgr.rows[p]->pub.index == l->pub.index)
		return -EEXIST;
	if (cm_insert(&conn_mgr.rows, &conn_mgr.n, &conn_mgr.cap, sizeof(*conn_mgr.rows), p, &l, 8) < 0)
		return -ENOMEM;
	if (l->pub.index >= conn_mgr.next_index && l->pub.index < UINT32_MAX)
		conn_mgr.next_index = l->pub.index + 1;
	disc_login_emit(DISC_LOGIN_EV_ADDED, l->pub.index);
	return 0;
}

static void login_remove(uint32_t index)
{
	size_t p = login_pos(index);

	if (p >= conn_mgr.n || conn_mgr.rows[p]->pub.index != index)
		return;
	disc_login_emit(DISC_LOGIN_EV_REMOVED, index);
	disc_st_cancel(conn_mgr.rows[p]->probe);
	free(conn_mgr.rows[p]);
	memmove(&conn_mgr.rows[p], &conn_mgr.rows[p + 1], (conn_mgr.n - p - 1) * sizeof(*conn_mgr.rows));
	conn_mgr.n--;
}

static void cred_use(uint32_t cred, int delta)
{
	struct disc_cred *c = cred ? disc_cred_lookup(cred) : NULL;

	if (!c)
		return;
	if (delta < 0 && c->users == 0)
		return;
	c->users = (uint32_t)((int64_t)c->users + delta);
}

/* ---- validation ------------------------------------------------------------- */

int disc_login_check_target(const char *s, size_t len)
{
	if (len == 0 || len > DISC_LOGIN_TARGET_MAX)
		return -EMSGSIZE;
	/* An iSCSI name: printable, no blanks; ';' and ',' never occur in one. */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == ';' || s[i] == ',')
			return -EINVAL;
	return 0;
}

int disc_login_check_adapter(const char *s, size_t len)
{
	char buf[DISC_LOGIN_ADAPTER_MAX + 1];
	unsigned char a[16];

	if (len > DISC_LOGIN_ADAPTER_MAX)
		return -EMSGSIZE;
	if (len == 0)
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strlen(buf) != len)
		return -EINVAL;
	/* A source address: the data plane binds it through sanpath-bind.so;
	 * it must fit where a team keeps a path's interface. */
	if (inet_pton(AF_INET, buf, a) == 1 || inet_pton(AF_INET6, buf, a) == 1)
		return len > DISC_TEAM_IFACE_MAX ? -EMSGSIZE : 0;
	if (len >= IFNAMSIZ || len > DISC_TEAM_IFACE_MAX || buf[0] == '.' ||
	    buf[strspn(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")])
		return -EINVAL;
	return 0;
}

static int validate_cfg(const struct disc_login_cfg *c, char *why, size_t whylen)
{
	size_t want = c->addr_type == DISC_ADDR_IPV4 ? 4 : c->addr_type == DISC_ADDR_IPV6 ? 16 : 0;

	if (disc_login_check_target(c->target, strlen(c->target)) < 0) {
		snprintf(why, whylen, "sanLoginTargetName is required");
		return -EINVAL;
	}
	if (c->addr_type != DISC_ADDR_UNKNOWN && c->addr_type != DISC_ADDR_IPV4 && c->addr_type != DISC_ADDR_IPV6) {
		snprintf(why, whylen, "portal address type must be unknown, ipv4 or ipv6");
		return -EINVAL;
	}
	if (c->addr_len != want) {
		snprintf(why, whylen, "portal address has %zu bytes, its type wants %zu", c->addr_len, want);
		return -EINVAL;
	}
	if (c->port > 65535 || c->lun > 16383) {
		snprintf(why, whylen, "port or LUN out of range");
		return -EINVAL;
	}
	if (disc_login_check_adapter(c->adapter, strlen(c->adapter)) < 0) {
		snprintf(why, whylen,
		         "source adapter must be an interface name or a source address of at most %d characters",
		         DISC_TEAM_IFACE_MAX);
		return -EINVAL;
	}
	if (c->cred && !disc_cred_find(c->cred)) {
		snprintf(why, whylen, "credential %u does not exist", (unsigned int)c->cred);
		return -EINVAL;
	}
	return 0;
}

int disc_login_validate(const struct disc_login_cfg *c, char *why, size_t whylen)
{
	int rc;

	if ((rc = validate_cfg(c, why, whylen)) < 0)
		return rc;
	/* A row that stays logged out may name any target: only logging in is refused. */
	if (c->admin == SA_ADMIN_UP && (rc = disc_login_may_use(c->target, c->lun)) < 0) {
		snprintf(why, whylen, "%s LUN %u is not this host's to use (cluster ownership)", c->target, c->lun);
		if (conn_mgr.access && conn_mgr.access->refused)
			conn_mgr.access->refused(c->target);
		return rc;
	}
	return 0;
}

/* ---- persistence ------------------------------------------------------------ */

/* "1;HEX(target);atype;HEX(addr);port;HEX(adapter);cred;lun;persistent;admin;row;kind" (rows stored before
 * the kind existed have no kind: normal) */
static int login_serialize(const struct disc_login *l, char *buf, size_t len)
{
	char t[2 * DISC_LOGIN_TARGET_MAX + 1], a[33], ad[2 * DISC_LOGIN_ADAPTER_MAX + 1];
	int n;

	cm_hex_encode(l->c.target, strlen(l->c.target), t);
	cm_hex_encode(l->c.addr, l->c.addr_len, a);
	cm_hex_encode(l->c.adapter, strlen(l->c.adapter), ad);
	n = snprintf(buf, len, "1;%s;%d;%s;%u;%s;%u;%u;%d;%d;%d;%d", t, l->c.addr_type, a, l->c.port, ad,
	             (unsigned int)l->c.cred, l->c.lun, l->c.persistent, l->c.admin, l->row,
	             l->c.kind == DISC_LOGIN_INFORMATIONAL ? DISC_LOGIN_INFORMATIONAL : DISC_LOGIN_NORMAL);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

static int str_field(const char *hex, char *dst, size_t max)
{
	size_t n;

	if (cm_hex_decode(hex, (unsigned char *)dst, max, &n) < 0 || memchr(dst, 0, n))
		return -EINVAL;
	dst[n] = '\0';
	return 0;
}

static int login_parse(const char *val, struct disc_login *l)
{
	char *copy = strdup(val), *p, *f[12];
	int rc = -EINVAL;

	if (!copy)
		return -ENOMEM;
	p = copy;
	for (int i = 0; i < 11; i++)
		if (!(f[i] = strsep(&p, ";")))
			goto out;
	f[11] = p ? strsep(&p, ";") : NULL;
	if (p || strcmp(f[0], "1") != 0 || str_field(f[1], l->c.target, DISC_LOGIN_TARGET_MAX) ||
	    cm_hex_decode(f[3], l->c.addr, sizeof(l->c.addr), &l->c.addr_len) < 0 ||
	    str_field(f[5], l->c.adapter, DISC_LOGIN_ADAPTER_MAX))
		goto out;
	l->c.addr_type = atoi(f[2]);
	l->c.port = (unsigned int)strtoul(f[4], NULL, 10);
	l->c.cred = (uint32_t)strtoul(f[6], NULL, 10);
	l->c.lun = (unsigned int)strtoul(f[7], NULL, 10);
	l->c.persistent = atoi(f[8]) != 0;
	l->c.admin = atoi(f[9]) == SA_ADMIN_UP ? SA_ADMIN_UP : SA_ADMIN_DOWN;
	l->row = atoi(f[10]);
	l->c.kind = f[11] && atoi(f[11]) == DISC_LOGIN_INFORMATIONAL ? DISC_LOGIN_INFORMATIONAL : DISC_LOGIN_NORMAL;
	if (l->row < DISC_ROW_ACTIVE || l->row > DISC_ROW_NOT_READY)
		goto out;
	rc = 0;
out:
	free(copy);
	return rc;
}

static void login_key(char *key, size_t len, uint32_t index)
{
	snprintf(key, len, LOGIN_PREFIX "%u", (unsigned int)index);
}

static int persist_login(const struct disc_login *l)
{
	char key[48], val[1024];
	int rc;

	login_key(key, sizeof(key), l->index);
	if ((rc = login_serialize(l, val, sizeof(val))) < 0)
		return rc;
	return disc_persist(key, val);
}

/* ---- results ---------------------------------------------------------------- */

static int wanted(const struct login_priv *l)
{
	return conn_mgr.running && l->pub.row == DISC_ROW_ACTIVE && l->pub.c.admin == SA_ADMIN_UP;
}

static void set_result(struct login_priv *l, int oper, int result, unsigned int status)
{
	struct disc_login *d = &l->pub;
	int failed = oper != SA_OPER_UP && result != SP_LOGIN_NONE && result != SP_LOGIN_SUCCESS && wanted(l);

	if (d->oper != oper || d->result != result || d->status_code != status) {
		if (d->oper != oper || d->result != result)
			cm_log(oper == SA_OPER_UP || !failed ? CM_LOG_INFO : CM_LOG_NOTICE, TAG,
			       "login %u (%s): %s, %s (status 0x%04x)", (unsigned int)d->index, d->c.target,
			       oper == SA_OPER_UP ? "up" : "down", result_name(result), status);
		d->oper = oper;
		d->result = result;
		d->status_code = status;
		d->last_change = time(NULL);
		disc_login_emit(DISC_LOGIN_EV_CHANGED, d->index);
	}
	if (oper == SA_OPER_UP) {
		d->failing = 0;
	} else if (failed && !d->failing) {
		char host[INET6_ADDRSTRLEN] = "";

		/* Once per failure episode: the data plane keeps retrying. */
		d->failing = 1;
		if (d->c.addr_type == DISC_ADDR_IPV4 || d->c.addr_type == DISC_ADDR_IPV6)
			inet_ntop(d->c.addr_type == DISC_ADDR_IPV4 ? AF_INET : AF_INET6, d->c.addr, host, sizeof(host));
		/* The data plane reports logged-in paths only: the initiator side's login statistics learn of the
		 * failure from here. */
		sess_login_failed(conn_mgr.initiator[0] ? conn_mgr.initiator : SP_DEFAULT_INITIATOR, d->c.target, host,
		                  d->c.port ? d->c.port : DISC_LOGIN_DEFAULT_PORT, status);
		disc_login_emit(DISC_LOGIN_EV_FAILED, d->index);
	}
}

static void portal_of_addr(char *buf, size_t len, int family, const void *addr, unsigned int port)
{
	char host[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, host, sizeof(host))) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port ? port : DISC_LOGIN_DEFAULT_PORT);
}

/* The team a login asks for; returns 0, or the login result that says why not. */
static int build_req(const struct login_priv *l, struct disc_team_req *r)
{
	const struct disc_login_cfg *c = &l->pub.c;

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "login%u", (unsigned int)l->pub.index);
	r->target = c->target;
	r->initiator = conn_mgr.initiator;
	r->lun = c->lun;
	/* A row that names no credential uses the initiator-wide default, when there is one. */
	uint32_t cred = c->cred ? c->cred : disc_default_cred();

	if (cred) {
		const struct disc_cred *cr = disc_cred_find(cred);

		if (!cr || cr->row != DISC_ROW_ACTIVE)
			return SP_LOGIN_INITIATOR_ERROR;
		r->user = cr->user;
		r->secret = cr->secret;
		if (cr->mutual_secret[0]) {
			r->target_user = cr->mutual_user[0] ? cr->mutual_user : cr->user;
			r->target_secret = cr->mutual_secret;
		}
	}
	if (c->addr_type == DISC_ADDR_IPV4 || c->addr_type == DISC_ADDR_IPV6) {
		portal_of_addr(r->path[0].portal, sizeof(r->path[0].portal),
		               c->addr_type == DISC_ADDR_IPV4 ? AF_INET : AF_INET6, c->addr, c->port);
		r->npaths = 1;
	} else {
		const struct disc_target *t = disc_target_by_name(c->target);

		if (!t)
			return SP_LOGIN_TARGET_NOT_FOUND;
		for (const struct disc_portal *p = disc_portal_next(t, 0); p && r->npaths < DISC_TEAM_MAX_PATHS;
		     p = disc_portal_next(t, p->index)) {
			char *dst = r->path[r->npaths].portal;
			size_t dlen = sizeof(r->path[0].portal);

			snprintf(dst, dlen, p->family == AF_INET6 ? "[%s]:%u" : "%s:%u", p->host,
			         (unsigned int)p->port);
			/* A portal given by name cannot be a team path (numeric only); a
			 * name server's type-2 message rules some out for good. */
			if ((!conn_mgr.teams || conn_mgr.teams->portal_ok(dst)) && !disc_login_avoided(c->target, dst))
				r->npaths++;
		}
		if (!r->npaths)
			return SP_LOGIN_TARGET_NOT_FOUND;
	}
	/* One path per portal x adapter; a row names one adapter (or any). */
	for (unsigned int i = 0; i < r->npaths; i++)
		r->path[i].iface = c->adapter;
	return 0;
}

static void drop_team(struct login_priv *l)
{
	unsigned int team = l->pub.team;
	int rc;

	if (!team)
		return;
	/* Cleared first: the TEAM_REMOVED event that follows is ours. */
	l->pub.team = 0;
	l->pub.npaths = 0;
	rc = conn_mgr.teams ? conn_mgr.teams->destroy(team) : -ENOENT;
	if (rc < 0 && rc != -ENOENT)
		cm_log(CM_LOG_WARNING, TAG, "login %u: cannot remove team %u: %s", (unsigned int)l->pub.index, team,
		       strerror(-rc));
	else
		cm_log(CM_LOG_INFO, TAG, "login %u: logged out (team %u removed)", (unsigned int)l->pub.index, team);
}

/* What a login (make_team) and a probe (probe_start) check first: the row may still use its target (not ours any
 * more: answered as the target's ACL would, authorization failure), and its team request builds.  0, or -1 with the
 * row's result saying why not. */
static int attempt_req(struct login_priv *l, struct disc_team_req *req)
{
	int r;

	if (disc_login_may_use(l->pub.c.target, l->pub.c.lun) < 0) {
		set_result(l, SA_OPER_DOWN, SP_LOGIN_AUTH_FAILURE, 0x0202);
		return -1;
	}
	if ((r = build_req(l, req)) != 0) {
		set_result(l, SA_OPER_DOWN, r, 0);
		return -1;
	}
	return 0;
}

static void make_team(struct login_priv *l)
{
	struct disc_team_req req;
	unsigned int index = 0;
	int rc;

	l->retry_ms = now_ms() + RETRY_MS;
	if (!teams_running()) {
		set_result(l, SA_OPER_DOWN, SP_LOGIN_SERVICE_UNAVAILABLE, 0);
		return;
	}
	if (attempt_req(l, &req) < 0)
		return;
	rc = conn_mgr.teams->create(&req, &index);
	if (rc < 0) {
		cm_log(CM_LOG_WARNING, TAG, "login %u: cannot create its team: %s", (unsigned int)l->pub.index,
		       strerror(-rc));
		set_result(l, SA_OPER_DOWN, rc == -ENETDOWN ? SP_LOGIN_SERVICE_UNAVAILABLE : SP_LOGIN_INITIATOR_ERROR,
		           0);
		return;
	}
	l->pub.team = index;
	l->pub.npaths = req.npaths;
	cm_log(CM_LOG_INFO, TAG, "login %u: logging in to %s over %u path(s) as team %u", (unsigned int)l->pub.index,
	       l->pub.c.target, req.npaths, index);
}

static int path_failed(const struct disc_team_path *p)
{
	return (p->login_result > SP_LOGIN_SUCCESS && p->login_result <= SP_LOGIN_REDIRECTED) || p->refused;
}

/* Oper status and result from the team's paths. */
static void evaluate(struct login_priv *l)
{
	struct disc_team_path paths[DISC_TEAM_MAX_PATHS];
	const struct disc_team_path *first = NULL;
	unsigned int nfailed = 0;
	int n;

	if (!l->pub.team)
		return;
	if (!conn_mgr.teams || (n = conn_mgr.teams->paths(l->pub.team, paths, DISC_TEAM_MAX_PATHS)) < 0) {
		/* Removed under us: the balance engine stopped. */
		l->pub.team = 0;
		l->pub.npaths = 0;
		l->retry_ms = now_ms() + RETRY_MS;
		set_result(l, SA_OPER_DOWN, SP_LOGIN_SERVICE_UNAVAILABLE, 0);
		return;
	}
	for (int i = 0; i < n; i++) {
		const struct disc_team_path *p = &paths[i];

		if (p->up) {
			set_result(l, SA_OPER_UP, SP_LOGIN_SUCCESS, 0);
			return;
		}
		if (path_failed(p)) {
			nfailed++;
			if (!first)
				first = p;
		}
	}
	if (n && nfailed == (unsigned int)n)
		set_result(l, SA_OPER_DOWN,
		           first->login_result > SP_LOGIN_SUCCESS && first->login_result <= SP_LOGIN_REDIRECTED
		               ? first->login_result
		               : SP_LOGIN_FAILED,
		           first->login_status);
	else if (l->pub.oper == SA_OPER_UP)
		set_result(l, SA_OPER_DOWN, l->pub.result, l->pub.status_code); /* connecting again */
}

/* ---- informational logins ------------------------------------------------------ */

static void probe_cancel(struct login_priv *l)
{
	disc_st_cancel(l->probe);
	l->probe = NULL;
	l->probed = 0;
}

static void probe_done(int rc, enum disc_st_phase phase, const char *text, size_t len, void *arg)
{
	struct login_priv *l = lookup((uint32_t)(uintptr_t)arg);
	unsigned int status;
	int result;

	if (!l)
		return;
	status = disc_st_status(l->probe);
	l->probe = NULL;
	l->probed = 1;
	l->retry_ms = now_ms() + RETRY_MS;
	if (rc == 0) {
		if (len)
			disc_target_set_alias(l->pub.c.target, text);
		cm_log(CM_LOG_INFO, TAG, "login %u: informational login to %s accepted (logged out again)",
		       (unsigned int)l->pub.index, l->pub.c.target);
		set_result(l, SA_OPER_UP, SP_LOGIN_SUCCESS, 0);
		return;
	}
	if (phase == DISC_ST_CONNECT)
		result = SP_LOGIN_CONNECTION_FAILED;
	else if (rc == -EACCES || rc == -EKEYREJECTED)
		result = SP_LOGIN_AUTH_FAILURE;
	else if (rc == -ENOENT)
		result = SP_LOGIN_TARGET_NOT_FOUND;
	else if (rc == -EAGAIN)
		result = SP_LOGIN_SERVICE_UNAVAILABLE;
	else if (status >> 8 == 2)
		result = SP_LOGIN_INITIATOR_ERROR;
	else
		result = SP_LOGIN_FAILED;
	set_result(l, SA_OPER_DOWN, result, status);
}

/* One normal-session login to the row's first portal, with its credential (or the default), then logout. */
static void probe_start(struct login_priv *l)
{
	struct disc_team_req req;
	struct disc_st_params p = {0};
	struct sockaddr_storage ss;
	socklen_t len;
	int rc;

	l->retry_ms = now_ms() + RETRY_MS;
	if (attempt_req(l, &req) < 0)
		return;
	if (!req.npaths || cm_sockaddr_parse(req.path[0].portal, &ss, &len) < 0) {
		set_result(l, SA_OPER_DOWN, SP_LOGIN_TARGET_NOT_FOUND, 0);
		return;
	}
	p.initiator = conn_mgr.initiator;
	p.connect_timeout_ms = INFO_CONNECT_MS;
	p.timeout_ms = INFO_TIMEOUT_MS;
	p.max_reply = 4096;
	p.target_name = l->pub.c.target;
	p.chap_user = req.user;
	p.chap_secret = req.secret;
	p.chap_target_user = req.target_user;
	p.chap_target_secret = req.target_secret;
	rc = disc_st_start((struct sockaddr *)&ss, len, &p, probe_done, (void *)(uintptr_t)l->pub.index, &l->probe);
	if (rc < 0) {
		l->probe = NULL;
		set_result(l, SA_OPER_DOWN, SP_LOGIN_CONNECTION_FAILED, 0);
		return;
	}
	l->pub.npaths = 1;
	cm_log(CM_LOG_INFO, TAG, "login %u: informational login to %s at %s", (unsigned int)l->pub.index,
	       l->pub.c.target, req.path[0].portal);
}

/* An informational row: no team, one login when wanted, again after a change or (failed) every RETRY_MS. */
static void reconcile_info(struct login_priv *l)
{
	drop_team(l); /* it was a normal login until this request */
	if (!wanted(l)) {
		probe_cancel(l);
		set_result(l, SA_OPER_DOWN, l->pub.result, l->pub.status_code);
		return;
	}
	if (l->probe || (l->probed && l->pub.oper == SA_OPER_UP))
		return;
	if (now_ms() >= l->retry_ms)
		probe_start(l);
}

/* Makes the team follow the row: logged in when wanted, out otherwise. */
static void reconcile(struct login_priv *l)
{
	if (l->pub.c.kind == DISC_LOGIN_INFORMATIONAL) {
		reconcile_info(l);
		return;
	}
	probe_cancel(l); /* it was informational until this request */
	if (!wanted(l)) {
		drop_team(l);
		set_result(l, SA_OPER_DOWN, l->pub.result, l->pub.status_code);
		return;
	}
	if (!l->pub.team && now_ms() >= l->retry_ms)
		make_team(l);
	evaluate(l);
}

static void tick(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	for (size_t i = 0; i < conn_mgr.n; i++)
		reconcile(conn_mgr.rows[i]);
}

void disc_conn_team_event(unsigned int team, int removed)
{
	struct login_priv *l;

	if (!conn_mgr.running || !(l = by_team(team)))
		return;
	if (removed) {
		l->pub.team = 0;
		l->pub.npaths = 0;
		l->retry_ms = now_ms() + RETRY_MS;
		set_result(l, SA_OPER_DOWN, SP_LOGIN_SERVICE_UNAVAILABLE, 0);
		return;
	}
	evaluate(l);
}

static void on_disc(int topic, const void *data, void *arg)
{
	const struct disc_event *ev = data;

	(void)topic;
	(void)arg;
	if (!conn_mgr.running || ev->type != DISC_EV_TARGET_DISCOVERED)
		return;
	/* A login waiting for its target tries at once. */
	for (size_t i = 0; i < conn_mgr.n; i++)
		if (!conn_mgr.rows[i]->pub.team && conn_mgr.rows[i]->pub.result == SP_LOGIN_TARGET_NOT_FOUND)
			conn_mgr.rows[i]->retry_ms = 0;
}

/* ---- verbs ------------------------------------------------------------------- */

static int same_target(const struct disc_login_cfg *a, const struct disc_login_cfg *b)
{
	return strcmp(a->target, b->target) == 0 && a->addr_type == b->addr_type && a->addr_len == b->addr_len &&
	       memcmp(a->addr, b->addr, a->addr_len) == 0 && a->port == b->port &&
	       strcmp(a->adapter, b->adapter) == 0 && a->cred == b->cred && a->lun == b->lun && a->kind == b->kind;
}

int disc_login_put(const struct disc_login *in)
{
	struct login_priv *l = lookup(in->index);
	char why[160], key[48];
	int rc, relogin = 0, stored;

	if (in->index == 0 || in->index == UINT32_MAX || in->row < DISC_ROW_ACTIVE || in->row > DISC_ROW_NOT_READY)
		return -EINVAL;
	if (in->row == DISC_ROW_ACTIVE && (rc = disc_login_validate(&in->c, why, sizeof(why))) < 0) {
		cm_log(CM_LOG_INFO, TAG, "login %u: refused: %s", (unsigned int)in->index, why);
		return rc;
	}
	if (in->c.cred && !disc_cred_find(in->c.cred))
		return -EINVAL;
	/* Like every table's: a row is volatile until it has been active once
	 * (RFC 2579 lets an agent drop rows that never became active). */
	stored = in->nonvolatile && (in->row == DISC_ROW_ACTIVE || (l && l->stored));
	if (stored) {
		if ((rc = persist_login(in)) < 0)
			return rc;
	} else if (l && l->stored) {
		login_key(key, sizeof(key), in->index);
		if ((rc = disc_persist(key, NULL)) < 0)
			return rc;
	}
	if (!l) {
		if (!(l = calloc(1, sizeof(*l)))) {
			if (stored) {
				login_key(key, sizeof(key), in->index);
				disc_persist(key, NULL);
			}
			return -ENOMEM;
		}
		l->pub.index = in->index;
		l->pub.oper = SA_OPER_DOWN;
		l->pub.result = SP_LOGIN_NONE;
		l->pub.last_change = time(NULL);
		if ((rc = login_insert(l)) < 0) {
			free(l);
			return rc;
		}
		cm_log(CM_LOG_INFO, TAG, "login %u created for %s", (unsigned int)in->index, in->c.target);
	} else {
		relogin = !same_target(&l->pub.c, &in->c);
	}
	if (l->pub.c.cred != in->c.cred) {
		cred_use(l->pub.c.cred, -1);
		cred_use(in->c.cred, 1);
	}
	if (relogin || in->c.admin != l->pub.c.admin || in->row != l->pub.row) {
		/* An operator's change starts a new episode (and a new team). */
		drop_team(l);
		probe_cancel(l);
		l->pub.failing = 0;
		l->retry_ms = 0;
	}
	l->pub.c = in->c;
	l->pub.row = in->row;
	l->pub.nonvolatile = in->nonvolatile;
	l->stored = stored;
	reconcile(l);
	return 0;
}

int disc_login_delete(uint32_t index)
{
	struct login_priv *l = lookup(index);
	char key[48];
	int rc;

	if (!l)
		return -ENOENT;
	login_key(key, sizeof(key), index);
	if (l->stored && (rc = disc_persist(key, NULL)) < 0)
		return rc;
	drop_team(l);
	cred_use(l->pub.c.cred, -1);
	login_remove(index);
	cm_log(CM_LOG_INFO, TAG, "login %u destroyed", (unsigned int)index);
	return 0;
}

void disc_login_cred_changed(uint32_t cred)
{
	for (size_t i = 0; i < conn_mgr.n; i++) {
		struct login_priv *l = conn_mgr.rows[i];

		/* A row that names none uses the default (cred 0: the default itself changed). */
		if ((l->pub.c.cred != cred && !(l->pub.c.cred == 0 && (cred == 0 || cred == disc_default_cred()))) ||
		    (!l->pub.team && l->pub.c.kind != DISC_LOGIN_INFORMATIONAL))
			continue;
		probe_cancel(l);
		/* New secrets take effect at once: log in again with them. */
		cm_log(CM_LOG_INFO, TAG, "login %u: credential %u changed, logging in again",
		       (unsigned int)l->pub.index, (unsigned int)cred);
		drop_team(l);
		l->pub.failing = 0;
		l->retry_ms = 0;
		reconcile(l);
	}
}

/* ---- access ---------------------------------------------------------------------- */

int disc_login_revoke(const char *target, unsigned int lun)
{
	int n = 0;

	if (!conn_mgr.running)
		return 0;
	for (size_t i = 0; i < conn_mgr.n; i++) {
		struct login_priv *l = conn_mgr.rows[i];

		if (!l->pub.team || strcmp(l->pub.c.target, target) != 0 ||
		    (lun != UINT32_MAX && l->pub.c.lun != lun) ||
		    disc_login_may_use(l->pub.c.target, l->pub.c.lun) == 0)
			continue;
		cm_log(CM_LOG_NOTICE, TAG, "login %u: %s LUN %u is no longer this host's: logging out",
		       (unsigned int)l->pub.index, target, l->pub.c.lun);
		drop_team(l);
		l->pub.failing = 0;
		l->retry_ms = 0;
		/* The row stays; reconcile finds it may not log in and shows why. */
		reconcile(l);
		n++;
	}
	return n;
}

void disc_login_access_changed(void)
{
	for (size_t i = 0; i < conn_mgr.n; i++)
		if (!conn_mgr.rows[i]->pub.team)
			conn_mgr.rows[i]->retry_ms = 0;
}

void disc_login_foreach_wanted(void (*cb)(const char *target, unsigned int lun, void *arg), void *arg)
{
	for (size_t i = 0; i < conn_mgr.n; i++)
		if (conn_mgr.rows[i]->pub.team)
			cb(conn_mgr.rows[i]->pub.c.target, conn_mgr.rows[i]->pub.c.lun, arg);
}

/* ---- rediscovery ---------------------------------------------------------------- */

const char *disc_login_initiator(void)
{
	return conn_mgr.initiator;
}

int disc_login_avoided(const char *target, const char *portal)
{
	for (size_t i = 0; i < conn_mgr.navoid; i++)
		if (strcmp(conn_mgr.avoid[i].target, target) == 0 && strcmp(conn_mgr.avoid[i].portal, portal) == 0)
			return 1;
	return 0;
}

size_t disc_login_avoid_count(void)
{
	return conn_mgr.navoid;
}

static void avoid_key(char *key, size_t len, const char *target, const char *portal)
{
	char t[2 * DISC_LOGIN_TARGET_MAX + 1], p[2 * DISC_TEAM_PORTAL_MAX + 1];

	cm_hex_encode(target, strlen(target), t);
	cm_hex_encode(portal, strlen(portal), p);
	snprintf(key, len, AVOID_PREFIX "%s.%s", t, p);
}

static int avoid_add(const char *target, const char *portal)
{
	struct login_avoid *n;

	if (disc_login_avoided(target, portal))
		return 0;
	if (strlen(target) > DISC_LOGIN_TARGET_MAX || strlen(portal) > DISC_TEAM_PORTAL_MAX)
		return -EINVAL;
	if (!(n = realloc(conn_mgr.avoid, (conn_mgr.navoid + 1) * sizeof(*n))))
		return -ENOMEM;
	conn_mgr.avoid = n;
	snprintf(n[conn_mgr.navoid].target, sizeof(n->target), "%s", target);
	snprintf(n[conn_mgr.navoid].portal, sizeof(n->portal), "%s", portal);
	conn_mgr.navoid++;
	return 1;
}

int disc_login_avoid(const char *target, const char *portal)
{
	char key[sizeof(AVOID_PREFIX) + 2 * (DISC_LOGIN_TARGET_MAX + DISC_TEAM_PORTAL_MAX) + 4];
	int rc;

	if (disc_login_avoided(target, portal))
		return 0;
	avoid_key(key, sizeof(key), target, portal);
	/* Persisted first: a restart must not bring the portal back. */
	if ((rc = disc_persist(key, "1")) < 0 && rc != -EIO)
		return rc;
	if ((rc = avoid_add(target, portal)) < 0)
		return rc;
	cm_log(CM_LOG_NOTICE, TAG, "%s at %s: never used again (a name server said so)", target, portal);
	return 0;
}

static void avoid_load_one(const char *key, const char *value, void *arg)
{
	const char *k = key + strlen(AVOID_PREFIX), *dot = strchr(k, '.');
	char t[2 * DISC_LOGIN_TARGET_MAX + 2], target[DISC_LOGIN_TARGET_MAX + 1], portal[DISC_TEAM_PORTAL_MAX + 1];

	(void)value;
	(void)arg;
	if (!dot || (size_t)(dot - k) >= sizeof(t)) {
		cm_log(CM_LOG_ERR, TAG, "state: ignoring bad record %s", key);
		return;
	}
	memcpy(t, k, (size_t)(dot - k));
	t[dot - k] = 0;
	if (str_field(t, target, DISC_LOGIN_TARGET_MAX) < 0 || str_field(dot + 1, portal, DISC_TEAM_PORTAL_MAX) < 0) {
		cm_log(CM_LOG_ERR, TAG, "state: ignoring bad record %s", key);
		return;
	}
	avoid_add(target, portal);
}

/* "ADDR:PORT" / "[V6]:PORT" into the row's portal columns. */
static int cfg_set_portal(struct disc_login_cfg *c, const char *portal)
{
	char host[DISC_TEAM_PORTAL_MAX + 1];
	const char *colon;
	unsigned long port;
	char *end;

	if (portal[0] == '[') {
		const char *close = strchr(portal, ']');

		if (!close || close[1] != ':' || (size_t)(close - portal - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, portal + 1, (size_t)(close - portal - 1));
		host[close - portal - 1] = 0;
		colon = close + 1;
	} else {
		if (!(colon = strrchr(portal, ':')) || (size_t)(colon - portal) >= sizeof(host))
			return -EINVAL;
		memcpy(host, portal, (size_t)(colon - portal));
		host[colon - portal] = 0;
	}
	port = strtoul(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -EINVAL;
	if (inet_pton(AF_INET, host, c->addr) == 1) {
		c->addr_type = DISC_ADDR_IPV4;
		c->addr_len = 4;
	} else if (inet_pton(AF_INET6, host, c->addr) == 1) {
		c->addr_type = DISC_ADDR_IPV6;
		c->addr_len = 16;
	} else {
		return -EINVAL;
	}
	c->port = (unsigned int)port;
	return 0;
}

/* One row: 1 when it moved. */
static int readdress_row(struct login_priv *l, const char *from, const char *to_target, const char *to)
{
	struct disc_login_cfg nc = l->pub.c;
	int own = l->pub.c.addr_type == DISC_ADDR_IPV4 || l->pub.c.addr_type == DISC_ADDR_IPV6;
	int same = strcmp(to_target, l->pub.c.target) == 0, kept = 0, rc;
	char was[DISC_TEAM_PORTAL_MAX + 1] = "";

	if (own) {
		portal_of_addr(was, sizeof(was), l->pub.c.addr_type == DISC_ADDR_IPV4 ? AF_INET : AF_INET6,
		               l->pub.c.addr, l->pub.c.port);
		if (from ? strcmp(was, from) != 0 : (same && strcmp(was, to) == 0))
			return 0;
	} else if (!from) {
		/* Which of its discovered portals moved is unknown: discovery
		 * brings the new one, the next login takes it. */
		return 0;
	}
	if (same) {
		/* A live team keeps its session on its other paths: only the path
		 * at the old address logs in elsewhere. */
		if (l->pub.team && conn_mgr.teams && conn_mgr.teams->repath)
			kept = conn_mgr.teams->repath(l->pub.team, own ? was : from, to) == 0;
		if (!own && !kept)
			return 0; /* no path at the old address: not affected */
	} else {
		snprintf(nc.target, sizeof(nc.target), "%s", to_target);
	}
	cm_log(CM_LOG_NOTICE, TAG, "login %u: %s at %s -> %s at %s (%s)", (unsigned int)l->pub.index, l->pub.c.target,
	       own ? was : from, to_target, to, kept ? "its team path logs in there" : "logging in there");
	if (own || !same) {
		if (cfg_set_portal(&nc, to) < 0)
			return 0;
		l->pub.c = nc;
		/* The row follows the target; a failed write leaves the state file's row, logged. */
		if (l->stored && (rc = persist_login(&l->pub)) < 0)
			cm_log(CM_LOG_WARNING, TAG, "login %u: cannot persist its new portal: %s",
			       (unsigned int)l->pub.index, strerror(-rc));
	}
	if (!kept) {
		drop_team(l);
		l->pub.failing = 0;
		l->retry_ms = 0;
		reconcile(l);
	}
	disc_login_emit(DISC_LOGIN_EV_CHANGED, l->pub.index);
	return 1;
}

int disc_login_readdress(const char *target, const char *from, const char *to_target, const char *to)
{
	int n = 0;

	if (!conn_mgr.running)
		return 0;
	for (size_t i = 0; i < conn_mgr.n; i++) {
		struct login_priv *l = conn_mgr.rows[i];

		if (strcmp(l->pub.c.target, target) == 0)
			n += readdress_row(l, from, to_target, to);
	}
	/* The rows' own teams have left from by now: what is still there belongs to no row. */
	if (from && strcmp(target, to_target) == 0 && conn_mgr.teams && conn_mgr.teams->repath_target)
		n += conn_mgr.teams->repath_target(target, from, to);
	return n;
}

/* ---- life --------------------------------------------------------------------- */

struct load_ctx {
	int n, restored;
};

static void load_one(const char *key, const char *value, void *arg)
{
	struct load_ctx *lc = arg;
	unsigned long index = strtoul(key + strlen(LOGIN_PREFIX), NULL, 10);
	struct login_priv *l = calloc(1, sizeof(*l));
	char why[160];

	if (!l)
		return;
	if (index == 0 || index >= UINT32_MAX || login_parse(value, &l->pub) < 0 ||
	    (l->pub.row == DISC_ROW_ACTIVE && validate_cfg(&l->pub.c, why, sizeof(why)) < 0)) {
		cm_log(CM_LOG_ERR, TAG, "state: ignoring bad record %s", key);
		free(l);
		return;
	}
	l->pub.index = (uint32_t)index;
	l->pub.nonvolatile = 1;
	l->stored = 1;
	l->pub.oper = SA_OPER_DOWN;
	l->pub.result = SP_LOGIN_NONE;
	l->pub.last_change = time(NULL);
	/* Only persistent logins log in again at start. */
	if (!l->pub.c.persistent) {
		l->reap = l->pub.c.admin == SA_ADMIN_UP && l->pub.row == DISC_ROW_ACTIVE;
		l->pub.c.admin = SA_ADMIN_DOWN;
	} else if (l->pub.c.admin == SA_ADMIN_UP && l->pub.row == DISC_ROW_ACTIVE)
		lc->restored++;
	if (login_insert(l) < 0) {
		free(l);
		return;
	}
	cred_use(l->pub.c.cred, 1);
	lc->n++;
}

/* A clean stop records non-persistent logins as down, so one still up in
 * the state file means the agent died with it logged in, and its data
 * plane (nbdkit) outlived the agent.  Creating the team adopts that process
 * (the balance engine recognises its segment) and destroying it ends it. */
static void reap_orphans(void)
{
	struct disc_team_req req;

	for (size_t i = 0; i < conn_mgr.n; i++) {
		struct login_priv *l = conn_mgr.rows[i];
		unsigned int index = 0;

		if (!l->reap)
			continue;
		l->reap = 0;
		if (!teams_running() || build_req(l, &req) != 0)
			continue;
		if (conn_mgr.teams->create(&req, &index) == 0) {
			conn_mgr.teams->destroy(index);
			cm_log(CM_LOG_INFO, TAG, "login %u: not persistent, stays logged out",
			       (unsigned int)l->pub.index);
		}
		/* Recorded as down now, so the next start has nothing to reap. */
		persist_login(&l->pub);
	}
}

static void take_config(const struct sa_discovery_config *d)
{
	if (d->chap_secret_min > 0 && d->chap_secret_max >= d->chap_secret_min)
		disc_cred_set_limits((unsigned int)d->chap_secret_min, (unsigned int)d->chap_secret_max);
	snprintf(conn_mgr.initiator, sizeof(conn_mgr.initiator), "%s",
	         d->login_initiator_name ? d->login_initiator_name : "");
}

int disc_conn_start(const struct sa_discovery_config *cfg)
{
	struct load_ctx lc = {0};
	struct cm_state *st;
	int ncred, rc;

	if (conn_mgr.running)
		return 0;
	take_config(cfg);
	if (!(conn_mgr.timer = cm_ev_timer(TICK_MS, 1, tick, NULL)))
		return -ENOMEM;
	conn_mgr.running = 1;
	ncred = disc_cred_load();
	disc_default_cred_load();
	if ((st = sa_engines_state()))
		cm_state_foreach(st, LOGIN_PREFIX, load_one, &lc);
	if (st)
		cm_state_foreach(st, AVOID_PREFIX, avoid_load_one, NULL);
	if (!conn_mgr.disc_sub && (conn_mgr.disc_sub = bus_subscribe(BUS_DISCOVERY, on_disc, NULL)) < 0)
		conn_mgr.disc_sub = 0;
	reap_orphans();
	if ((rc = disc_readdress_start(cfg)) < 0)
		cm_log(CM_LOG_ERR, TAG, "cannot subscribe to rediscovery messages: %s", strerror(-rc));
	cm_log(CM_LOG_INFO, TAG, "started: %d credentials, %d logins (%d logging in again) from the state file", ncred,
	       lc.n, lc.restored);
	tick(0, NULL);
	return 0;
}

void disc_conn_reload(const struct sa_discovery_config *cfg)
{
	take_config(cfg);
	disc_readdress_reload(cfg);
}

void disc_conn_stop(void)
{
	if (!conn_mgr.running)
		return;
	/* A non-persistent login stays logged out after a clean restart; its
	 * team goes with the balance engine. */
	for (size_t i = 0; i < conn_mgr.n; i++) {
		struct disc_login *d = &conn_mgr.rows[i]->pub;

		if (conn_mgr.rows[i]->stored && !d->c.persistent && d->c.admin == SA_ADMIN_UP) {
			d->c.admin = SA_ADMIN_DOWN;
			persist_login(d);
		}
	}
	disc_readdress_stop();
	cm_ev_cancel(conn_mgr.timer);
	conn_mgr.timer = 0;
	conn_mgr.running = 0;
	if (conn_mgr.disc_sub) {
		bus_unsubscribe(conn_mgr.disc_sub);
		conn_mgr.disc_sub = 0;
	}
	while (conn_mgr.n)
		login_remove(conn_mgr.rows[conn_mgr.n - 1]->pub.index);
	free(conn_mgr.rows);
	conn_mgr.rows = NULL;
	free(conn_mgr.avoid);
	conn_mgr.avoid = NULL;
	conn_mgr.navoid = 0;
	conn_mgr.n = conn_mgr.cap = 0;
	disc_cred_clear();
	cm_log(CM_LOG_INFO, TAG, "stopped");
}
