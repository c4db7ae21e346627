/* notify.c: the agent's own notifications (sanAgentStart, sanAgentStop, sanAgentConfigReloaded). */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "common/evloop.h"
#include "common/log.h"
#include "traps/notifications.h"
#include "traps/notify.h"

/* Notifications leave this many per turn of the agent loop.  An AgentX
 * subagent's socket to snmpd blocks on send, and so does snmpd's to us: sent
 * all at once from inside one event (a 10,000-target discovery merge, a
 * failed server's resources remapped), a few hundred Notify PDUs let
 * snmpd's Responses fill our receive side while we are not reading, snmpd
 * blocks writing them, stops reading ours, and our next send blocks for good
 * (seen: a 10,000-target reply hung both).  Between batches the loop reads
 * snmpd's Responses, so neither side's buffer fills. */
#define NOTIFY_BATCH 16

/* Built when its event came (a lost target's row is gone right after), sent
 * when the loop gets to it. */
struct pending {
	struct pending *next;
	netsnmp_variable_list *vars;
	int level;
	char msg[200];
};

static struct pending *q_head, **q_tail = &q_head;
static size_t q_len;
static unsigned int pump_timer;

static const oid snmptrapoid_oid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};
static const oid version_oid[] = {SA_NOTIFY_OID_AGENT_INFO, SA_NOTIFY_COL_INFO_VERSION, 0};
static const oid config_file_oid[] = {SA_NOTIFY_OID_AGENT_INFO, SA_NOTIFY_COL_INFO_CONFIG_FILE, 0};

const struct sa_notify_tables *sa_notify_tables;

void sa_notify_tables_register(const struct sa_notify_tables *tables)
{
	sa_notify_tables = tables;
}

netsnmp_variable_list *sa_notify_start(const oid *trap_oid, size_t len)
{
	netsnmp_variable_list *vars = NULL;

	if (!snmp_varlist_add_variable(&vars, snmptrapoid_oid, OID_LENGTH(snmptrapoid_oid), ASN_OBJECT_ID, trap_oid,
	                               len * sizeof(oid)))
		return NULL;
	return vars;
}

int sa_notify_add_column(netsnmp_variable_list **vars, const oid *entry, size_t entry_len, unsigned int col,
                         uint32_t index, sa_notify_column_fn get)
{
	oid name[MAX_OID_LEN];
	netsnmp_variable_list *vb;

	if (!get || entry_len + 2 > MAX_OID_LEN)
		return -1;
	memcpy(name, entry, entry_len * sizeof(oid));
	name[entry_len] = col;
	name[entry_len + 1] = index;
	vb = snmp_varlist_add_variable(vars, name, entry_len + 2, ASN_NULL, NULL, 0);
	if (!vb)
		return -1;
	return get(index, col, vb) == SNMP_ERR_NOERROR ? 0 : -1;
}

enum { WITH_VERSION = 1, WITH_CONFIG_FILE = 2 };

static void pump(unsigned int id, void *arg);

static void schedule(void)
{
	/* 1 ms, not 0: net-snmp refuses a zero alarm interval. */
	if (!pump_timer && !(pump_timer = cm_ev_timer(1, 0, pump, NULL)))
		cm_log(CM_LOG_ERR, "notify", "cannot schedule %zu queued notifications", q_len);
}

/* Sends up to max queued notifications now. */
static void send_queued(int max)
{
	for (int i = 0; i < max && q_head; i++) {
		struct pending *p = q_head;

		if (!(q_head = p->next))
			q_tail = &q_head;
		q_len--;
		/* sysUpTime.0 is prepended by net-snmp; as a subagent the
		 * notification goes to the master, which sends it to its sinks. */
		send_v2trap(p->vars);
		cm_log(p->level, "notify", "sent %s", p->msg);
		snmp_free_varbind(p->vars);
		free(p);
	}
}

static void pump(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	pump_timer = 0;
	send_queued(NOTIFY_BATCH);
	if (q_head)
		schedule();
}

void sa_notify_send(netsnmp_variable_list *vars, int log_level, const char *fmt, ...)
{
	struct pending *p = malloc(sizeof(*p));
	va_list ap;

	if (!p) {
		snmp_free_varbind(vars);
		cm_log(CM_LOG_ERR, "notify", "out of memory queueing a notification");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	p->next = NULL;
	p->vars = vars;
	p->level = log_level;
	*q_tail = p;
	q_tail = &p->next;
	q_len++;
	schedule();
}

void sa_notify_drop_queued(void)
{
	size_t n = q_len;

	if (pump_timer) {
		cm_ev_cancel(pump_timer);
		pump_timer = 0;
	}
	while (q_head) {
		struct pending *p = q_head;

		q_head = p->next;
		snmp_free_varbind(p->vars);
		free(p);
	}
	q_tail = &q_head;
	q_len = 0;
	if (n)
		cm_log(CM_LOG_INFO, "notify", "%zu queued notifications not sent (shutting down)", n);
}

/* Varbinds carry full instance OIDs (".0") and the same values a GET
 * returns, so a manager can correlate the trap with a walk. */
static void send_notification(oid which, const char *name, int objects)
{
	oid trap_oid[] = {SA_NOTIFY_OID_AGENT, which};
	netsnmp_variable_list *vars = sa_notify_start(trap_oid, OID_LENGTH(trap_oid));
	const char *cfg = sa_notify_tables && sa_notify_tables->config_file ? sa_notify_tables->config_file() : "";

	if (!vars)
		goto nomem;
	if ((objects & WITH_VERSION) &&
	    !snmp_varlist_add_variable(&vars, version_oid, OID_LENGTH(version_oid), ASN_OCTET_STR, PACKAGE_VERSION,
	                               strlen(PACKAGE_VERSION)))
		goto nomem;
	if ((objects & WITH_CONFIG_FILE) &&
	    !snmp_varlist_add_variable(&vars, config_file_oid, OID_LENGTH(config_file_oid), ASN_OCTET_STR, cfg,
	                               strlen(cfg)))
		goto nomem;

	if (which == SA_NOTIFY_AGENT_STOP) {
		/* The loop stops next: what was queued before goes now (a few
		 * batches at most, the rest is dropped and counted), then the
		 * stop, which is the agent's last word. */
		send_queued(4 * NOTIFY_BATCH);
		sa_notify_drop_queued();
		send_v2trap(vars);
		snmp_free_varbind(vars);
		cm_log(CM_LOG_INFO, "notify", "sent %s (version %s)", name, PACKAGE_VERSION);
	} else if (objects & WITH_CONFIG_FILE)
		sa_notify_send(vars, CM_LOG_INFO, "%s (version %s, config %s)", name, PACKAGE_VERSION, cfg);
	else
		sa_notify_send(vars, CM_LOG_INFO, "%s (version %s)", name, PACKAGE_VERSION);
	return;

nomem:
	snmp_free_varbind(vars);
	cm_log(CM_LOG_ERR, "notify", "cannot build %s: out of memory", name);
}

void sa_notify_agent_start(void)
{
	send_notification(SA_NOTIFY_AGENT_START, "sanAgentStart", WITH_VERSION | WITH_CONFIG_FILE);
}

void sa_notify_agent_stop(void)
{
	send_notification(SA_NOTIFY_AGENT_STOP, "sanAgentStop", WITH_VERSION);
}

void sa_notify_config_reloaded(void)
{
	send_notification(SA_NOTIFY_AGENT_CONFIG_RELOADED, "sanAgentConfigReloaded", WITH_CONFIG_FILE);
}

int sa_notify_allow(struct sa_notify_rate *r)
{
	long now = (long)time(NULL);

	if (r->second != now) {
		if (r->dropped)
			cm_log(CM_LOG_NOTICE, "notify", "%u %s notifications suppressed by the rate limit (%u/s)",
			       r->dropped, r->what, r->per_sec);
		r->second = now;
		r->sent = r->dropped = 0;
	}
	if (r->sent >= r->per_sec) {
		r->dropped++;
		return 0;
	}
	r->sent++;
	return 1;
}
