/* notify.h: the agent's own outgoing notifications. */
#ifndef SA_TRAPS_NOTIFY_H
#define SA_TRAPS_NOTIFY_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <stdint.h>

/* Queues a notification (takes vars, the snmpTrapOID.0 varbind first) and
 * sends it from the agent loop, a few per turn; the log line is written
 * when it leaves.  Every sender goes through here: see notify.c for why a
 * burst must not be sent from inside the event that caused it. */
void sa_notify_send(netsnmp_variable_list *vars, int log_level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Drops what is still queued (shutdown), logging how many; sanAgentStop
 * first sends a few batches of it. */
void sa_notify_drop_queued(void);

/* What the notifications read from the tables: one getter per table (a row's column into vb, as a GET
 * returns it: SNMP_ERR_NOERROR or an SNMP error) and the config file sanAgentConfigFile shows.
 * subagent/core.c plugs in the handlers' before it starts the notifications, so notifications and handlers,
 * siblings, never include each other. */
typedef int (*sa_notify_column_fn)(uint32_t index, unsigned int col, netsnmp_variable_list *vb);
struct sa_notify_tables {
	const char *(*config_file)(void); /* absolute path, "" when there is none */
	sa_notify_column_fn disc_source, disc_target, login, session;
	sa_notify_column_fn redir_server, redir_resource, redir_plan;
	sa_notify_column_fn redisc_decision;
	sa_notify_column_fn clu_res, clu_member, clu_peer, clu_conflict;
};
void sa_notify_tables_register(const struct sa_notify_tables *tables);
extern const struct sa_notify_tables *sa_notify_tables;

/* Appends entry.col.index to vars with the value get returns; 0, or -1 (out of memory, or no such row). */
int sa_notify_add_column(netsnmp_variable_list **vars, const oid *entry, size_t entry_len, unsigned int col,
                         uint32_t index, sa_notify_column_fn get);
/* A fresh varbind list holding snmpTrapOID.0 = trap_oid; NULL when out of memory. */
netsnmp_variable_list *sa_notify_start(const oid *trap_oid, size_t len);

void sa_notify_agent_start(void);
void sa_notify_agent_stop(void);
void sa_notify_config_reloaded(void);

/* Each engine's notifications subscribe to its events on the bus.
 * subagent/core.c starts them after the handlers (a notification reads its
 * values from the tables) and stops them before the handlers go.  Each
 * init returns 0 or -errno and may be called again. */
int sa_redirect_notify_init(void); /* redirect_notify.c */
void sa_redirect_notify_shutdown(void);
int sa_path_notify_init(void); /* path_notify.c */
void sa_path_notify_shutdown(void);
/* Seconds between two sanTeamSharesChanged of one team (config balance.shares_notify_interval). */
void sa_path_notify_set_interval(int seconds);
int sa_disc_notify_init(void); /* disc_notify.c */
void sa_disc_notify_shutdown(void);
int sa_login_notify_init(void); /* login_notify.c */
void sa_login_notify_shutdown(void);
int sa_session_notify_init(void); /* session_notify.c */
void sa_session_notify_shutdown(void);
int sa_redisc_notify_init(void); /* redisc_notify.c */
void sa_redisc_notify_shutdown(void);
int sa_clu_notify_init(void); /* clu_notify.c: the cluster engine's six notifications */
void sa_clu_notify_shutdown(void);
int sa_feedback_notify_init(void); /* feedback_notify.c: session feedback and rediscovery requests */
void sa_feedback_notify_shutdown(void);
/* Seconds between two rounds of an initiator agent's sanSessionFeedback (discovery.feedback_interval; 0 = off). */
void sa_feedback_notify_set_interval(int seconds);

/* A per-second budget for notifications that come in bursts (a team of
 * many paths coming up, a failed server's resources remapped): past
 * per_sec in one second they are counted, and the count is logged once the
 * second is over; the tables hold every row. */
struct sa_notify_rate {
	const char *what; /* "session", "sanResourceRemapped": for the log line */
	unsigned int per_sec;
	long second;
	unsigned int sent, dropped;
};
/* 1: send it; 0: over the budget (counted). */
int sa_notify_allow(struct sa_notify_rate *r);

#endif
