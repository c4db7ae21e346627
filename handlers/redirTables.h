/* redirTables.h: SANAGENT-REDIRECTOR-MIB OIDs, columns and the values its handlers share (handlers/redir*.c). */
#ifndef SA_HANDLERS_REDIR_H
#define SA_HANDLERS_REDIR_H

#include <stdint.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "engines/redirect/redirect.h"
#include "handlers/handlers.h"

/* { sanEngineMibs 3 }; must agree with mibs/SANAGENT-REDIRECTOR-MIB.txt
 * (tests/integration/mib_lint.sh checks the numbers). */
#define SA_OID_REDIR SA_OID_ENGINE_MIBS, 3
#define SA_OID_REDIR_OBJECTS SA_OID_REDIR, 1
#define SA_OID_REDIR_CONTROLS SA_OID_REDIR_OBJECTS, 1
#define SA_OID_REDIR_COUNTERS SA_OID_REDIR_OBJECTS, 2
#define SA_OID_REDIR_SERVER_NEXT SA_OID_REDIR_OBJECTS, 3
#define SA_OID_REDIR_SERVER_TABLE SA_OID_REDIR_OBJECTS, 4
#define SA_OID_REDIR_RESOURCE_NEXT SA_OID_REDIR_OBJECTS, 5
#define SA_OID_REDIR_RESOURCE_TABLE SA_OID_REDIR_OBJECTS, 6
#define SA_OID_REDIR_CLIENT_TABLE SA_OID_REDIR_OBJECTS, 7
#define SA_OID_REDIR_PLAN_TABLE SA_OID_REDIR_OBJECTS, 8
#define SA_OID_REDIR_CRED_NEXT SA_OID_REDIR_OBJECTS, 10
#define SA_OID_REDIR_CRED_TABLE SA_OID_REDIR_OBJECTS, 11

enum {
	H_REDIR_THRESHOLD = 1,
	H_REDIR_INTERVAL,
	H_REDIR_MAX_MOVES,
	H_REDIR_TRIGGER,
	H_REDIR_PROBE_INTERVAL,
	H_REDIR_PROBE_TIMEOUT,
	H_REDIR_LOAD_INTERVAL,
	H_REDIR_PERMANENT,
	H_REDIR_PORTAL_AUTH,
	H_REDIR_AUTH_LIFETIME,
	H_REDIR_WEIGHT_BYTES,
	H_REDIR_WEIGHT_COMMANDS,
	H_REDIR_WEIGHT_CPU,
	H_REDIR_WEIGHT_MEMORY,
};

enum {
	H_REDIR_CONNECTIONS = 1,
	H_REDIR_REDIRECTS,
	H_REDIR_DISCOVERY,
	H_REDIR_REJECTS,
	H_REDIR_MALFORMED,
	H_REDIR_REFUSED,
	H_REDIR_EVICTED,
	H_REDIR_AUTH_FAILURES,
};

enum {
	H_CRED_R_INDEX = 1,
	H_CRED_R_USER,
	H_CRED_R_SECRET,
	H_CRED_R_INITIATOR,
	H_CRED_R_STORAGE,
	H_CRED_R_ROW_STATUS,
};

enum {
	H_SRV_INDEX = 1,
	H_SRV_NAME,
	H_SRV_ADDR_TYPE,
	H_SRV_ADDR,
	H_SRV_PORT,
	H_SRV_CAPACITY,
	H_SRV_ADMIN,
	H_SRV_OPER,
	H_SRV_LOAD,
	H_SRV_RESOURCES,
	H_SRV_LAST_CHANGE,
	H_SRV_LAST_ERROR,
	H_SRV_PROBES_OK,
	H_SRV_PROBES_FAILED,
	H_SRV_TGT_CONTROL,
	H_SRV_STORAGE,
	H_SRV_ROW_STATUS,
	H_SRV_AGENT,
	H_SRV_AGENT_STATUS,
	H_SRV_SPARE_FOR,
	H_SRV_CPU_LOAD,
	H_SRV_MEMORY_USED,
	H_SRV_HOST_LOAD,
};

enum {
	H_RES_INDEX = 1,
	H_RES_TARGET,
	H_RES_SERVER,
	H_RES_LOAD,
	H_RES_LOAD_HC,
	H_RES_LOAD_SOURCE,
	H_RES_PINNED,
	H_RES_MAPPED_SINCE,
	H_RES_REDIRECTS,
	H_RES_STORAGE,
	H_RES_ROW_STATUS,
	H_RES_PREV_SERVER, /* accessible-for-notify: never served */
	H_RES_ORIGIN,
	H_RES_FAIL_POLICY,
	H_RES_SERVER_STATUS,
	H_RES_BYTE_RATE,
	H_RES_COMMAND_RATE,
};
/* sanRedirResourceServerStatus */
enum { H_RES_SRV_UP = 1, H_RES_SRV_DOWN = 2, H_RES_SRV_UNMAPPED = 3 };

enum {
	H_CLI_INDEX = 1,
	H_CLI_INITIATOR,
	H_CLI_ISID,
	H_CLI_SRC_TYPE,
	H_CLI_SRC_ADDR,
	H_CLI_SRC_PORT,
	H_CLI_TARGET,
	H_CLI_RESOURCE,
	H_CLI_SERVER,
	H_CLI_FIRST_SEEN,
	H_CLI_LAST_SEEN,
	H_CLI_LOGINS,
};

enum {
	H_PLAN_INDEX = 1,
	H_PLAN_TIME,
	H_PLAN_TRIGGER,
	H_PLAN_MOVES,
	H_PLAN_MAX_BEFORE,
	H_PLAN_MAX_AFTER,
	H_PLAN_MOVE_LIST,
};

/* Value helpers of the redirector tables. */
void h_redir_set_u64(netsnmp_variable_list *vb, u_char type, uint64_t v);
void h_redir_set_u32(netsnmp_variable_list *vb, u_char type, uint32_t v);
void h_redir_set_int(netsnmp_variable_list *vb, long v);
void h_redir_set_str(netsnmp_variable_list *vb, const char *s, size_t max);
void h_redir_set_time(netsnmp_variable_list *vb, time_t t);
/* InetAddressType and InetAddress of a numeric host or a sockaddr. */
int h_redir_host_addr(int family, const char *host, u_char out[16], size_t *len);

/* The writable tables (handlers/table.h): the resource table's checks see
 * the servers the same request creates. */
struct h_table;
extern struct h_table h_redir_server_table;
extern struct h_table h_redir_resource_table;

/* Row values (subagent/core.c plugs them into the notifications, so a trap carries what a GET returns). */
int h_redir_server_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb);
int h_redir_resource_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb);
int h_redir_plan_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb);

int h_redir_server_table_init(void);
void h_redir_server_table_shutdown(void);
int h_redir_resource_table_init(void);
void h_redir_resource_table_shutdown(void);
int h_redir_client_table_init(void);
void h_redir_client_table_shutdown(void);
int h_redir_plan_table_init(void);
void h_redir_plan_table_shutdown(void);
int h_redir_cred_table_init(void);
void h_redir_cred_table_shutdown(void);
extern struct h_table h_redir_cred_table;
int h_redir_scalars_init(void);
void h_redir_scalars_shutdown(void);

#endif
