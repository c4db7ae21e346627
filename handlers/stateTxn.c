/* stateTxn.c: one state commit per SET PDU, made durable before the agent answers. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/state.h"
#include "handlers/stateTxn.h"

/*
 * Engines commit the state after each change they make (set + commit, and
 * roll back in memory if the commit fails).  One PDU with ten varbinds was
 * ten commits, so a kill in the middle kept some varbinds and lost others.
 *
 * This handler sits in the chain of every writable registration.  In the
 * SET phases that change things (ACTION, and UNDO/COMMIT for handlers
 * that act there) it opens a state transaction before the table's own
 * handler runs, so the engines' commits only stage their changes.  The
 * transaction is committed once, by a zero-delay timer, i.e. after every
 * registration of the PDU has run that phase in this loop turn.
 *
 * The answer must not go out before that commit is durable, or an
 * acknowledged SET could be lost.  Where the answer goes out:
 * - inside snmpd (dlmod): right after the COMMIT phase, in the same call
 *   that ran the handlers (netsnmp_wrap_up_request);
 * - as an AgentX subagent: the master answers the manager after it got our
 *   CommitSet response (the ACTION phase) and sent CleanupSet (COMMIT),
 *   which has no response, so the ACTION phase is the last point where the
 *   subagent can still hold the answer.
 * So the requests of each call that left changes pending are marked
 * delegated (net-snmp's own mechanism for answers that come later, see
 * examples/delayed_instance.c): net-snmp holds the phase, and with it the
 * response, until the timer has committed and cleared the flags.  A failed
 * commit answers commitFailed, which makes net-snmp (or the master) run
 * UNDO, whose changes are committed the same way.
 */

struct h_stxn_wait {
	netsnmp_delegated_cache *cache;
	struct h_stxn_wait *next;
};

static struct {
	struct cm_state *st;
	int open;           /* a transaction is open until the timer runs */
	unsigned int timer; /* the zero-delay commit */
	struct h_stxn_wait *waiting;
} h_stxn;

static void h_stxn_finish(unsigned int id, void *arg)
{
	struct h_stxn_wait *w = h_stxn.waiting;
	int rc;

	(void)id;
	(void)arg;
	h_stxn.timer = 0;
	h_stxn.waiting = NULL;
	if (!h_stxn.open)
		return;
	h_stxn.open = 0;
	rc = cm_state_end(h_stxn.st);
	while (w) {
		struct h_stxn_wait *next = w->next;
		/* NULL when the request went away meanwhile (session closed). */
		netsnmp_delegated_cache *c = netsnmp_handler_check_cache(w->cache);

		if (c) {
			netsnmp_agent_request_info *ri = c->reqinfo;

			for (netsnmp_request_info *r = c->requests; r; r = r->next) {
				if (rc < 0 && ri->mode == MODE_SET_ACTION) {
					netsnmp_set_request_error(ri, r, SNMP_ERR_COMMITFAILED);
					/* A delegated ACTION is resumed without looking at
					 * the requests' errors: the session status decides
					 * between COMMIT and UNDO. */
					if (ri->asp && ri->asp->status == SNMP_ERR_NOERROR) {
						ri->asp->status = SNMP_ERR_COMMITFAILED;
						ri->asp->index = r->index;
					}
				}
				r->delegated = 0;
			}
		}
		netsnmp_free_delegated_cache(w->cache);
		free(w);
		w = next;
	}
}

static int h_stxn_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                          netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	int mode = reqinfo->mode, rc;
	struct h_stxn_wait *w;

	if (!h_stxn.st || (mode != MODE_SET_ACTION && mode != MODE_SET_UNDO && mode != MODE_SET_COMMIT))
		return netsnmp_call_next_handler(handler, reginfo, reqinfo, requests);
	if (!h_stxn.open) {
		struct timeval zero = {0, 0};

		/* net-snmp runs due alarms after the packets of a loop turn and
		 * before it resumes delegated requests: no added latency. */
		h_stxn.timer = snmp_alarm_register_hr(zero, 0, (SNMPAlarmCallback *)h_stxn_finish, NULL);
		if (!h_stxn.timer) /* no way to end it later: commit as before */
			return netsnmp_call_next_handler(handler, reginfo, reqinfo, requests);
		cm_state_begin(h_stxn.st);
		h_stxn.open = 1;
	}
	rc = netsnmp_call_next_handler(handler, reginfo, reqinfo, requests);
	if (!cm_state_pending(h_stxn.st))
		return rc;
	w = calloc(1, sizeof(*w));
	if (w)
		w->cache = netsnmp_create_delegated_cache(handler, reginfo, reqinfo, requests, NULL);
	if (!w || !w->cache) {
		/* Cannot hold the answer: make it durable now instead. */
		free(w);
		if (cm_state_end(h_stxn.st) < 0 && mode == MODE_SET_ACTION)
			for (netsnmp_request_info *r = requests; r; r = r->next)
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_COMMITFAILED);
		cm_state_begin(h_stxn.st);
		return rc;
	}
	for (netsnmp_request_info *r = requests; r; r = r->next)
		r->delegated = 1;
	w->next = h_stxn.waiting;
	h_stxn.waiting = w;
	return rc;
}

void h_stxn_set_state(struct cm_state *st)
{
	/* A store going away ends its transaction first. */
	if (h_stxn.open && h_stxn.st != st) {
		snmp_alarm_unregister(h_stxn.timer);
		h_stxn_finish(0, NULL);
	}
	h_stxn.st = st;
}

int h_stxn_inject(netsnmp_handler_registration *reg)
{
	netsnmp_mib_handler *h = netsnmp_create_handler("sanStateTransaction", h_stxn_handler);

	if (!h)
		return -ENOMEM;
	if (netsnmp_inject_handler(reg, h) != SNMPERR_SUCCESS) {
		netsnmp_handler_free(h);
		return -ENOMEM;
	}
	return 0;
}
