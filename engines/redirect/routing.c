/* routing.c: what the portal and the health probes ask of the redirect model: login routes, SendTargets, probe results.
 */
#include <stdio.h>
#include <time.h>

#include "engines/redirect/model.h"
#include "iscsi/pdu.h"
#include "iscsi/textkeys.h"
#include "common/log.h"

#define TAG "redirect"

/* A drained server still answers for resources that could not move. */
static bool srv_routable(const struct redir_srv *s)
{
	return s->pub.admin != REDIR_ADMIN_DOWN && s->pub.oper != REDIR_OPER_DOWN;
}

static void format_addr(const struct redir_server *s, char *out, size_t len)
{
	if (s->family == AF_INET6)
		snprintf(out, len, "[%s]:%u,1", s->host, s->port);
	else
		snprintf(out, len, "%s:%u,1", s->host, s->port);
}

void redir_note_discovery(const char *initiator, const uint8_t isid[6], const struct sockaddr_storage *src)
{
	redir_portal_counters.discovery_sessions++;
	redir_client_note(initiator, isid, src, "", 0, 0);
}

int redir_route_login(const char *target, const char *initiator, const uint8_t isid[6],
                      const struct sockaddr_storage *src, char *addr, size_t addrlen)
{
	struct redir_res *r = redir_res_by_target(target);
	struct redir_srv *s;

	if (!r) {
		redir_portal_counters.rejects++;
		return PDU_LOGIN_NOT_FOUND;
	}
	s = redir_vec_find(&redir_servers, r->pub.server);
	if (!s || !srv_routable(s)) {
		redir_portal_counters.rejects++;
		return PDU_LOGIN_SERVICE_UNAVAILABLE;
	}
	format_addr(&s->pub, addr, addrlen);
	redir_portal_counters.redirects++;
	r->pub.redirects++;
	redir_client_note(initiator, isid, src, target, r->pub.index, s->pub.index);
	return redir_cur_params.permanent ? PDU_LOGIN_REDIRECT_PERM : PDU_LOGIN_REDIRECT_TEMP;
}

int redir_sendtargets(struct tk_buf *b, const char *self_addr)
{
	int rc;

	for (size_t i = 0; i < redir_resources.n; i++) {
		if ((rc = tk_add(b, "TargetName", RES(i)->pub.target)) < 0 ||
		    (rc = tk_add(b, "TargetAddress", self_addr)) < 0)
			return rc;
	}
	return 0;
}

/* ---- health ---------------------------------------------------------------- */

void redir_server_probed(uint32_t index, int ok, const char *why)
{
	struct redir_srv *s = redir_vec_find(&redir_servers, index);
	int was;

	if (!s)
		return;
	if (ok)
		s->pub.probes_ok++;
	else
		s->pub.probes_failed++;
	was = s->pub.oper;
	if (ok && was != REDIR_OPER_UP) {
		s->pub.oper = REDIR_OPER_UP;
		s->pub.last_change = time(NULL);
		s->pub.last_error[0] = '\0';
		cm_log(CM_LOG_NOTICE, TAG, "server %s (%s:%u) is up", s->pub.name, s->pub.host, s->pub.port);
		if (redir_etcd_mode)
			redir_etcd_put_server(s->pub.name, "up");
		if (was == REDIR_OPER_DOWN)
			redir_emit(REDIR_EV_SERVER_UP, index, 0, 0);
		redir_heal_orphans();
	} else if (!ok && was != REDIR_OPER_DOWN) {
		s->pub.oper = REDIR_OPER_DOWN;
		s->pub.last_change = time(NULL);
		snprintf(s->pub.last_error, sizeof(s->pub.last_error), "%s", why ? why : "probe failed");
		cm_log(CM_LOG_WARNING, TAG, "server %s (%s:%u) is down: %s", s->pub.name, s->pub.host, s->pub.port,
		       s->pub.last_error);
		if (redir_etcd_mode)
			redir_etcd_put_server(s->pub.name, "down");
		redir_emit(REDIR_EV_SERVER_DOWN, index, 0, 0);
		redir_failover_server(index, REDIR_TRIG_FAILOVER);
	} else if (!ok) {
		snprintf(s->pub.last_error, sizeof(s->pub.last_error), "%s", why ? why : "probe failed");
	}
}
