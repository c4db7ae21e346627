/* feedback_notify.c: sanSessionFeedback and sanRediscoveryRequest to the name server (seed 000 steps 60, 72): a
 * storage agent's from its engine's events, an initiator agent's from its sessions table on a timer. */
#include <config.h>

#include <arpa/inet.h>
#include <string.h>

#include "engines/rediscover/redisc_mib.h"
#include "engines/sessions.h"
#include "engines/storage/storage.h"
#include "common/bus.h"
#include "common/evloop.h"
#include "common/log.h"
#include "traps/notify.h"

/* One per session and window: a storage host with hundreds of sessions sends them in one burst. */
static struct sa_notify_rate rate = {.what = "sanSessionFeedback", .per_sec = 500};
static struct sa_notify_rate req_rate = {.what = "sanRediscoveryRequest", .per_sec = 20};
static int stor_sub, active;
static unsigned int timer;
static int interval_s;

/* sanRediscNotifyObjects.col.0 */
static int add(netsnmp_variable_list **vars, unsigned int col, u_char type, const void *val, size_t len)
{
	oid name[] = {REDISC_OID_NOTIFY_OBJECTS, col, 0};

	return snmp_varlist_add_variable(vars, name, OID_LENGTH(name), type, val, len) ? 0 : -1;
}

static int add_str(netsnmp_variable_list **vars, unsigned int col, const char *s)
{
	return add(vars, col, ASN_OCTET_STR, s, strlen(s));
}

static int add_u32(netsnmp_variable_list **vars, unsigned int col, u_char type, uint32_t v)
{
	u_long l = v;

	return add(vars, col, type, &l, sizeof(l));
}

/* Target, address type, address and port of a numeric host; -1 when it is not one. */
static int add_portal(netsnmp_variable_list **vars, const char *target, const char *host, unsigned int port)
{
	unsigned char a[16];
	long type;
	size_t alen;

	if (inet_pton(AF_INET, host, a) == 1) {
		type = 1;
		alen = 4;
	} else if (inet_pton(AF_INET6, host, a) == 1) {
		type = 2;
		alen = 16;
	} else {
		return -1;
	}
	if (add_str(vars, REDISC_FB_TARGET, target) < 0 ||
	    add(vars, REDISC_FB_ADDR_TYPE, ASN_INTEGER, &type, sizeof(type)) < 0 ||
	    add(vars, REDISC_FB_ADDR, ASN_OCTET_STR, a, alen) < 0 ||
	    add_u32(vars, REDISC_FB_PORT, ASN_UNSIGNED, port) < 0)
		return -1;
	return 0;
}

static netsnmp_variable_list *start(unsigned int which)
{
	oid trap_oid[] = {REDISC_OID_NOTIFICATIONS, which};

	return sa_notify_start(trap_oid, OID_LENGTH(trap_oid));
}

/* ---- storage agent ------------------------------------------------------------------------------------------ */

static void send_stor_feedback(const struct stor_feedback_msg *m)
{
	netsnmp_variable_list *vars;
	struct counter64 c64 = {.high = m->bytes >> 32, .low = m->bytes & 0xffffffffu};

	if (!sa_notify_allow(&rate))
		return;
	if (!(vars = start(REDISC_N_FEEDBACK)) || add_str(&vars, REDISC_FB_INITIATOR, m->initiator) < 0 ||
	    add_portal(&vars, m->target, m->portal, m->port) < 0 ||
	    add_u32(&vars, REDISC_FB_TX_MAX, ASN_GAUGE, m->rates.max_kib) < 0 ||
	    add_u32(&vars, REDISC_FB_TX_MIN, ASN_GAUGE, m->rates.min_kib) < 0 ||
	    add_u32(&vars, REDISC_FB_TX_AVG, ASN_GAUGE, m->rates.avg_kib) < 0 ||
	    add(&vars, REDISC_FB_BYTES, ASN_COUNTER64, &c64, sizeof(c64)) < 0) {
		snmp_free_varbind(vars);
		cm_log(CM_LOG_ERR, "notify", "cannot build sanSessionFeedback for %s", m->initiator);
		return;
	}
	sa_notify_send(vars, CM_LOG_DEBUG, "sanSessionFeedback: %s -> %s at %s:%u, %u/%u/%u KiB/s", m->initiator,
	               m->target, m->portal, (unsigned int)m->port, (unsigned int)m->rates.max_kib,
	               (unsigned int)m->rates.min_kib, (unsigned int)m->rates.avg_kib);
}

static void send_request(const struct stor_request_msg *r)
{
	netsnmp_variable_list *vars;
	long reason = 1; /* imbalance(1): the seed's significant imbalance */

	if (!sa_notify_allow(&req_rate))
		return;
	if (!(vars = start(REDISC_N_REQUEST)) || add_portal(&vars, r->target, r->portal, r->port) < 0 ||
	    add_str(&vars, REDISC_FB_SESSIONS, r->initiators) < 0 ||
	    add_str(&vars, REDISC_FB_OFFENDER, r->offender) < 0 ||
	    add(&vars, REDISC_FB_REASON, ASN_INTEGER, &reason, sizeof(reason)) < 0) {
		snmp_free_varbind(vars);
		cm_log(CM_LOG_ERR, "notify", "cannot build sanRediscoveryRequest for %s", r->target);
		return;
	}
	sa_notify_send(vars, CM_LOG_NOTICE, "sanRediscoveryRequest: %s at %s:%u, offender %s (%u%%), competing %s",
	               r->target, r->portal, (unsigned int)r->port, r->offender, r->share_pct, r->initiators);
}

static void on_storage(int topic, const void *data, void *arg)
{
	const struct stor_event *ev = data;

	(void)topic;
	(void)arg;
	if (!active)
		return;
	if (ev->type == STOR_EV_FEEDBACK && ev->fb)
		send_stor_feedback(ev->fb);
	else if (ev->type == STOR_EV_REQUEST && ev->req)
		send_request(ev->req);
}

/* ---- initiator agent ---------------------------------------------------------------------------------------- */

/* The metrics the sessions table shows (its window, discovery.session_window), one notification per data session
 * that is logged in. */
static void on_timer(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	if (!active)
		return;
	for (const struct sess_view *s = sess_next(0); s; s = sess_next(s->id)) {
		netsnmp_variable_list *vars;

		if (s->info.type != SESS_TYPE_NORMAL || s->info.state != SESS_LOGGED_IN ||
		    s->info.owner == SESS_OWNER_PROBE || !s->info.target[0])
			continue;
		if (!sa_notify_allow(&rate))
			return;
		if (!(vars = start(REDISC_N_FEEDBACK)) || add_str(&vars, REDISC_FB_INITIATOR, s->info.initiator) < 0 ||
		    add_portal(&vars, s->info.target, s->info.portal_addr, s->info.portal_port) < 0 ||
		    add_u32(&vars, REDISC_FB_TX_MAX, ASN_GAUGE, s->m.tx_rate_max) < 0 ||
		    add_u32(&vars, REDISC_FB_TX_MIN, ASN_GAUGE, s->m.tx_rate_min) < 0 ||
		    add_u32(&vars, REDISC_FB_TX_AVG, ASN_GAUGE, s->m.tx_rate_avg) < 0 ||
		    add_u32(&vars, REDISC_FB_ERRORS, ASN_GAUGE, s->m.error_rate) < 0 ||
		    add_u32(&vars, REDISC_FB_LATENCY, ASN_GAUGE, s->m.latency_avg) < 0) {
			snmp_free_varbind(vars);
			cm_log(CM_LOG_ERR, "notify", "cannot build sanSessionFeedback for session %u",
			       (unsigned int)s->id);
			continue;
		}
		sa_notify_send(vars, CM_LOG_DEBUG, "sanSessionFeedback for session %u (%s): latency %u us, %u KiB/s",
		               (unsigned int)s->id, s->info.target, (unsigned int)s->m.latency_avg,
		               (unsigned int)s->m.tx_rate_avg);
	}
}

static void timer_sync(void)
{
	if (timer && (!active || interval_s <= 0)) {
		cm_ev_cancel(timer);
		timer = 0;
	}
	if (!timer && active && interval_s > 0 &&
	    !(timer = cm_ev_timer((unsigned int)interval_s * 1000u, 1, on_timer, NULL)))
		cm_log(CM_LOG_ERR, "notify", "cannot start the session feedback timer");
}

void sa_feedback_notify_set_interval(int seconds)
{
	if (seconds != interval_s && timer) {
		cm_ev_cancel(timer);
		timer = 0;
	}
	interval_s = seconds;
	timer_sync();
}

int sa_feedback_notify_init(void)
{
	int rc;

	if (!stor_sub) {
		if ((rc = bus_subscribe(BUS_STORAGE, on_storage, NULL)) < 0)
			return rc;
		stor_sub = rc;
	}
	active = 1;
	timer_sync();
	return 0;
}

void sa_feedback_notify_shutdown(void)
{
	active = 0;
	timer_sync();
}
