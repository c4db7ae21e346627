/* handlers.h: registration of every MIB handler, and the OIDs they share. */
#ifndef SA_HANDLERS_H
#define SA_HANDLERS_H

#include <time.h>

#include "common/trap.h"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

/* enterprises.32473.1: 32473 is RFC 5612's documentation enterprise number;
 * a deployment should renumber under its own enterprise.  These must agree
 * with mibs/SANAGENT-MIB.txt; tests/integration/mib_lint.sh checks both. */
#define SA_OID_MIB 1, 3, 6, 1, 4, 1, 32473, 1
#define SA_OID_OBJECTS SA_OID_MIB, 1
#define SA_OID_INFO SA_OID_OBJECTS, 1 /* sanAgentVersion .1, StartTime .2, ConfigFile .3 */
#define SA_OID_ENGINE_TABLE SA_OID_OBJECTS, 2
#define SA_OID_ENGINE_ENTRY SA_OID_ENGINE_TABLE, 1
#define SA_OID_TRAPRECV SA_OID_OBJECTS, 3 /* Received .1, Accepted .2, DroppedUnauth .3, DroppedMalformed .4 */
#define SA_OID_ENGINE_MIBS SA_OID_MIB, 3  /* engine modules: session .1 ... cluster .5 */

/* sanAgentInfo scalars */
enum { H_INFO_VERSION = 1, H_INFO_START_TIME = 2, H_INFO_CONFIG_FILE = 3 };

/* sanEngineEntry columns; the index column is not-accessible */
enum {
	H_ENGINE_INDEX = 1,
	H_ENGINE_NAME = 2,
	H_ENGINE_ADMIN = 3,
	H_ENGINE_OPER = 4,
	H_ENGINE_LAST_ERROR = 5,
	H_ENGINE_LAST_CHANGE = 6
};

/* sanTrapRecv scalars */
enum {
	H_TRAPRECV_RECEIVED = 1,
	H_TRAPRECV_ACCEPTED = 2,
	H_TRAPRECV_DROPPED_UNAUTH = 3,
	H_TRAPRECV_DROPPED_MALFORMED = 4
};

/* What the handlers take from the agent core: its start time and config
 * file, and the two agent verbs behind sanEngineAdminStatus.  subagent/core.c
 * plugs them in before any handler registers, so handlers never include the
 * layer above them. */
struct h_agent_ops {
	time_t (*start_time)(void);
	const char *(*config_path)(void);                      /* NULL when there is none */
	int (*set_engine_admin)(int index, int admin);         /* ACTION: persist and apply; 0 or -errno */
	int (*commit_state)(void);                             /* COMMIT: write the state file; 0 or -errno */
	const struct cm_trap_counters *(*trap_counters)(void); /* the receiver's (sanTrapRecv) */
};
void h_agent_ops_register(const struct h_agent_ops *ops);
extern const struct h_agent_ops *h_agent;

/* Each returns 0 or -errno; h_all_shutdown() undoes whatever succeeded. */
int h_agent_scalars_init(void);
int h_engine_table_init(void);
int h_trap_counters_init(void);
void h_all_shutdown(void); /* unregisters everything (dlmod unload) */
void h_agent_scalars_shutdown(void);
void h_engine_table_shutdown(void);
void h_trap_counters_shutdown(void);
/* SANAGENT-REDIRECTOR-MIB (handlers/redirector.c and the redir*.c files). */
int h_redir_init(void);
void h_redir_shutdown(void);
/* SANAGENT-PATH-MIB (handlers/pathTeamTable.c, pathTable.c). */
int h_path_init(void);
void h_path_shutdown(void);
/* SANAGENT-SESSION-MIB, discovery part (handlers/discTargetTable.c, discPortalTable.c). */
int h_disc_init(void);
void h_disc_shutdown(void);
/* SANAGENT-SESSION-MIB, connections: CHAP credentials and logins (handlers/credTable.c, loginTable.c). */
int h_login_init(void);
void h_login_shutdown(void);
/* SANAGENT-SESSION-MIB, sessions table (handlers/sessionTable.c). */
int h_session_init(void);
void h_session_shutdown(void);
/* SANAGENT-SESSION-MIB, storage side: tgt portals, targets, LUNs, sessions (handlers/stor*.c). */
int h_stor_init(void);
void h_stor_shutdown(void);
/* SANAGENT-REDISCOVER-MIB (handlers/rediscover.c and the redisc*.c files). */
int h_redisc_init(void);
void h_redisc_shutdown(void);
/* RFC 7147 ISCSI-MIB, read-only (handlers/iscsi*.c). */
int h_iscsi_init(void);
void h_iscsi_shutdown(void);
/* SANAGENT-RESOURCE-MIB (handlers/clu*.c) */
int h_clu_init(void);
void h_clu_shutdown(void);

/* Values shared by the scalars and the notifications, so a trap carries
 * exactly what a GET returns. */
#define H_DATE_AND_TIME_LEN 11
/* DateAndTime (SNMPv2-TC) of t in local time, with its UTC offset. */
void h_date_and_time(time_t t, u_char out[H_DATE_AND_TIME_LEN]);
/* Absolute path of the config file in force ("" if none). */
const char *h_agent_config_file(void);

#endif
