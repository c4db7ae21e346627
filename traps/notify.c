/* notify.c: the agent's own notifications (sanAgentStart, sanAgentStop, sanAgentConfigReloaded). */
#include <config.h>

#include <string.h>
#include <time.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "handlers/handlers.h"
#include "subagent/log.h"
#include "traps/notify.h"

static const oid snmptrapoid_oid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};
static const oid version_oid[] = {SA_OID_INFO, H_INFO_VERSION, 0};
static const oid config_file_oid[] = {SA_OID_INFO, H_INFO_CONFIG_FILE, 0};

enum { WITH_VERSION = 1, WITH_CONFIG_FILE = 2 };

/* Varbinds carry full instance OIDs (".0") and the same values a GET
 * returns, so a manager can correlate the trap with a walk. */
static void send_notification(oid which, const char *name, int objects)
{
	oid trap_oid[] = {SA_OID_NOTIFICATIONS, which};
	netsnmp_variable_list *vars = NULL;
	const char *cfg = h_agent_config_file();

	if (!snmp_varlist_add_variable(&vars, snmptrapoid_oid, OID_LENGTH(snmptrapoid_oid), ASN_OBJECT_ID, trap_oid,
	                               sizeof(trap_oid)))
		goto nomem;
	if ((objects & WITH_VERSION) &&
	    !snmp_varlist_add_variable(&vars, version_oid, OID_LENGTH(version_oid), ASN_OCTET_STR, PACKAGE_VERSION,
	                               strlen(PACKAGE_VERSION)))
		goto nomem;
	if ((objects & WITH_CONFIG_FILE) &&
	    !snmp_varlist_add_variable(&vars, config_file_oid, OID_LENGTH(config_file_oid), ASN_OCTET_STR, cfg,
	                               strlen(cfg)))
		goto nomem;

	/* sysUpTime.0 is prepended by net-snmp; as a subagent the
	 * notification goes to the master, which sends it to its sinks. */
	send_v2trap(vars);
	snmp_free_varbind(vars);
	if (objects & WITH_CONFIG_FILE)
		sa_log(SA_LOG_INFO, "notify", "sent %s (version %s, config %s)", name, PACKAGE_VERSION, cfg);
	else
		sa_log(SA_LOG_INFO, "notify", "sent %s (version %s)", name, PACKAGE_VERSION);
	return;

nomem:
	snmp_free_varbind(vars);
	sa_log(SA_LOG_ERR, "notify", "cannot build %s: out of memory", name);
}

void sa_notify_agent_start(void)
{
	send_notification(H_NOTIFY_START, "sanAgentStart", WITH_VERSION | WITH_CONFIG_FILE);
}

void sa_notify_agent_stop(void)
{
	send_notification(H_NOTIFY_STOP, "sanAgentStop", WITH_VERSION);
}

void sa_notify_config_reloaded(void)
{
	send_notification(H_NOTIFY_CONFIG_RELOADED, "sanAgentConfigReloaded", WITH_CONFIG_FILE);
}

int sa_notify_allow(struct sa_notify_rate *r)
{
	long now = (long)time(NULL);

	if (r->second != now) {
		if (r->dropped)
			sa_log(SA_LOG_NOTICE, "notify", "%u %s notifications suppressed by the rate limit (%u/s)",
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
