/* trap_dispatch.c: runs the trap receiver in-process for trap_receiver.sh and prints what it dispatched. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subagent/config.h"
#include "traps/dispatch.h"
#include "traps/receiver.h"

/*
 * Usage: trap_dispatch CONFIG_FILE NOTIF_OID
 * Output (stdout, one line each, flushed):
 *   READY                                  once listening
 *   CALLBACK <oid> v<2|3> [<v3 user>]      per callback run for NOTIF_OID
 *   VAR <oid> <type> <value>               per varbind of that notification
 *   COUNTERS received=N accepted=N unauth=N malformed=N   after each change
 *   RELOADED | RELOAD-FAILED <error>       after SIGHUP re-read CONFIG_FILE
 * The community is never printed: it is a secret like in the agent.
 */

static volatile sig_atomic_t stop, reload;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		stop = 1;
}

/* Re-applies the config file like the agent does on SIGHUP: the receiver
 * must take new communities/users without losing its socket. */
static void do_reload(const char *path, struct sa_config **cfg)
{
	struct sa_config *ncfg = NULL;
	char err[512];
	int rc;

	rc = sa_config_load(path, &ncfg, err, sizeof(err));
	if (!rc) {
		rc = sa_trap_receiver_apply(&ncfg->trap_receiver, err, sizeof(err));
		if (rc)
			sa_config_free(ncfg);
	}
	if (rc) {
		printf("RELOAD-FAILED %s\n", err);
	} else {
		sa_config_free(*cfg);
		*cfg = ncfg;
		printf("RELOADED\n");
	}
	fflush(stdout);
}

static int parse_numeric_oid(const char *text, uint32_t *out, size_t max, size_t *len)
{
	const char *p = text;
	size_t n = 0;

	if (*p == '.')
		p++;
	while (*p) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno || end == p || v > UINT32_MAX || n == max || (*end && *end != '.'))
			return -EINVAL;
		out[n++] = (uint32_t)v;
		p = *end ? end + 1 : end;
	}
	*len = n;
	return n ? 0 : -EINVAL;
}

static void print_oid(const uint32_t *o, size_t len)
{
	for (size_t i = 0; i < len; i++)
		printf(i ? ".%u" : "%u", o[i]);
}

static const char *const vtype_names[] = {"INTEGER", "UNSIGNED", "COUNTER64", "STRING",
                                          "OID",     "IPADDR",   "TIMETICKS", "OTHER"};

static void on_trap(const struct cm_trap *t, void *arg)
{
	(void)arg;
	printf("CALLBACK ");
	print_oid(t->trap_oid, t->trap_oid_len);
	printf(" v%d", t->version);
	if (t->version == 3)
		printf(" %s", t->principal);
	printf("%s\n", t->is_inform ? " inform" : "");
	for (size_t i = 0; i < t->nvars; i++) {
		const struct cm_trap_var *v = &t->vars[i];

		printf("VAR ");
		print_oid(v->oid, v->oid_len);
		printf(" %s ", v->type >= 0 && v->type <= SA_TV_OTHER ? vtype_names[v->type] : "?");
		switch (v->type) {
		case SA_TV_INTEGER:
		case SA_TV_UNSIGNED:
		case SA_TV_TIMETICKS: printf("%lld", (long long)v->ival); break;
		case SA_TV_COUNTER64: printf("%llu", (unsigned long long)v->u64); break;
		case SA_TV_IPADDR:
			if (v->str_len == 4)
				printf("%u.%u.%u.%u", v->str[0], v->str[1], v->str[2], v->str[3]);
			break;
		case SA_TV_STRING:
		case SA_TV_OID: fwrite(v->str, 1, v->str_len, stdout); break;
		default: break;
		}
		printf("\n");
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sa_config *cfg = NULL;
	struct cm_trap_counters last;
	const struct cm_trap_counters *c;
	uint32_t oid[128];
	size_t oid_len;
	char err[512];
	struct sigaction sa;
	int rc, handle, early;

	if (argc != 3) {
		fprintf(stderr, "usage: %s CONFIG_FILE NOTIF_OID\n", argv[0]);
		return 2;
	}
	if (parse_numeric_oid(argv[2], oid, 128, &oid_len)) {
		fprintf(stderr, "%s: not a numeric OID: %s\n", argv[0], argv[2]);
		return 2;
	}
	rc = sa_config_load(argv[1], &cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: select() must return */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	/* Foreground logging to stderr; the script points SNMPCONFPATH and
	 * SNMP_PERSISTENT_DIR into its temp dir. */
	snmp_enable_stderrlog();
	/* TRAP_DISPATCH_EARLY=1 starts the receiver before init_snmp(), as
	 * sanagentd does: the local engine ID is not known yet then. */
	early = getenv("TRAP_DISPATCH_EARLY") && !strcmp(getenv("TRAP_DISPATCH_EARLY"), "1");
	if (early) {
		netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
		netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_NO_CONNECTION_WARNINGS, 1);
		init_agent("trap_dispatch");
		rc = sa_trap_receiver_apply(&cfg->trap_receiver, err, sizeof(err));
		init_snmp("trap_dispatch");
	} else {
		init_snmp("trap_dispatch");
		rc = sa_trap_receiver_apply(&cfg->trap_receiver, err, sizeof(err));
	}
	if (rc) {
		fprintf(stderr, "receiver: %s (%s)\n", err, strerror(-rc));
		return 1;
	}
	handle = sa_trap_subscribe(oid, oid_len, 0, on_trap, NULL);
	if (handle <= 0) {
		fprintf(stderr, "subscribe: %s\n", strerror(-handle));
		return 1;
	}
	printf("READY\n");
	fflush(stdout);

	memset(&last, 0, sizeof(last));
	while (!stop) {
		agent_check_and_process(1);
		if (reload) {
			reload = 0;
			do_reload(argv[1], &cfg);
		}
		c = sa_trap_receiver_counters();
		if (memcmp(c, &last, sizeof(last))) {
			last = *c;
			printf("COUNTERS received=%llu accepted=%llu unauth=%llu malformed=%llu\n",
			       (unsigned long long)c->received, (unsigned long long)c->accepted,
			       (unsigned long long)c->dropped_unauth, (unsigned long long)c->dropped_malformed);
			fflush(stdout);
		}
	}

	sa_trap_unsubscribe(handle);
	sa_trap_receiver_stop();
	snmp_shutdown("trap_dispatch");
	sa_config_free(cfg);
	return 0;
}
