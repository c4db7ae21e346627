/* main.c: sanagentd, the AgentX subagent process: options, signals, the loop. */
#include <config.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/agent/agent_callbacks.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "subagent/core.h"
#include "common/log.h"
#include "subagent/logsink_snmp.h"
#include "traps/notify.h"

#define SA_DEFAULT_CONFIG SYSCONFDIR "/sanagent/sanagent.conf"

static volatile sig_atomic_t sa_stop_requested;
static volatile sig_atomic_t sa_reload_requested;
static int sa_start_sent;

static void sa_on_signal(int sig)
{
	if (sig == SIGHUP)
		sa_reload_requested = 1;
	else
		sa_stop_requested = 1;
}

/* No SA_RESTART: the signal must break the select() inside
 * agent_check_and_process() so the flags are acted on at once. */
static void sa_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sa_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Fires each time the AgentX session to the master opens.  The start
 * notification goes out on the first one: before it there is nobody to
 * forward it, and a master restart is not an agent start. */
static int sa_on_master_connected(int major, int minor, void *server, void *client)
{
	if (!sa_start_sent) {
		sa_start_sent = 1;
		sa_notify_agent_start();
	}
	cm_log(CM_LOG_INFO, "agentx", "connected to the master agent");
	return SNMPERR_SUCCESS;
}

static void sa_usage(FILE *out)
{
	fprintf(out,
	        "usage: sanagentd [-f] [-c FILE] [-x AGENTX_SOCKET] [-p PIDFILE] [-D TOKENS] [-v]\n"
	        "  -f             stay in the foreground, log to stderr\n"
	        "  -c FILE        config file (default %s)\n"
	        "  -x SOCKET      AgentX socket of the master (overrides agent.agentx_socket)\n"
	        "  -p PIDFILE     write the process id to PIDFILE (overrides agent.pid_file)\n"
	        "  -D TOKENS      net-snmp debug tokens, comma separated (e.g. sanagent,agentx)\n"
	        "  -v             print the version and exit\n",
	        SA_DEFAULT_CONFIG);
}

static int sa_write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	const char *conf_path = SA_DEFAULT_CONFIG, *xsock = NULL, *pidfile = NULL, *debug = NULL;
	struct sa_config *cfg = NULL;
	char err[512];
	int foreground = 0, opt, rc;

	while ((opt = getopt(argc, argv, "fc:x:p:D:vh")) != -1) {
		switch (opt) {
		case 'f': foreground = 1; break;
		case 'c': conf_path = optarg; break;
		case 'x': xsock = optarg; break;
		case 'p': pidfile = optarg; break;
		case 'D': debug = optarg; break;
		case 'v': printf("sanagentd %s (net-snmp %s)\n", PACKAGE_VERSION, netsnmp_get_version()); return 0;
		case 'h': sa_usage(stdout); return 0;
		default: sa_usage(stderr); return 1;
		}
	}
	if (optind != argc) {
		sa_usage(stderr);
		return 1;
	}

	if (foreground)
		snmp_enable_stderrlog();
	else
		snmp_enable_syslog_ident("sanagentd", LOG_DAEMON);
	sa_logsink_snmp_install();
	if (debug) {
		debug_register_tokens(debug);
		snmp_set_do_debugging(1);
	}

	rc = sa_config_load(conf_path, &cfg, err, sizeof(err));
	if (rc < 0) {
		/* Exit status 2 tells init systems and the operator: fix the file. */
		cm_log(CM_LOG_ERR, "config", "%s", err);
		if (!foreground)
			fprintf(stderr, "sanagentd: %s\n", err);
		return 2;
	}
	if (xsock) {
		free(cfg->agentx_socket);
		cfg->agentx_socket = strdup(xsock);
	}
	if (pidfile) {
		free(cfg->pid_file);
		cfg->pid_file = strdup(pidfile);
	}
	if (!cfg->agentx_socket || !cfg->pid_file) {
		cm_log(CM_LOG_ERR, "core", "out of memory");
		return 1;
	}

	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
	if (cfg->agentx_socket[0])
		netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET, cfg->agentx_socket);
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_NO_CONNECTION_WARNINGS, 1);
	/* Timers (reconnects, engines) run from the select loop, as inside
	 * snmpd, instead of from SIGALRM interrupting whatever is running. */
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
	/* The agent needs no MIB text; loading the system's only adds noise. */
	setenv("MIBS", "", 1);

	if (!foreground && netsnmp_daemonize(1, 0) != 0) {
		cm_log(CM_LOG_ERR, "core", "cannot daemonize");
		return 1;
	}
	if (cfg->pid_file[0] && (rc = sa_write_pidfile(cfg->pid_file)) < 0)
		cm_log(CM_LOG_WARNING, "core", "%s: cannot write pid file: %s", cfg->pid_file, strerror(-rc));

	snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_START, sa_on_master_connected, NULL);
	init_agent("sanagentd");
	/* After init_agent(), which installs net-snmp's 15 s default.  The
	 * ping interval is also the reconnect period when the master is absent
	 * or restarts: 1 s by default keeps re-registration under 5 s. */
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL, cfg->agentx_ping_interval);
	if (sa_core_start(cfg) < 0)
		return 1;
	init_snmp("sanagentd");
	sa_install_signals();

	while (!sa_stop_requested) {
		agent_check_and_process(1);
		if (sa_reload_requested) {
			sa_reload_requested = 0;
			sa_core_reload();
		}
	}

	cm_log(CM_LOG_NOTICE, "core", "stopping on signal");
	if (sa_core.cfg && sa_core.cfg->pid_file[0])
		unlink(sa_core.cfg->pid_file);
	sa_core_stop();
	/* Let the AgentX layer push the stop notification out before closing. */
	agent_check_and_process(0);
	snmp_shutdown("sanagentd");
	return 0;
}
