/* discTables.h: SANAGENT-SESSION-MIB OIDs and columns of the discovery tables (handlers/disc*Table.c); their
 * getters are plugged into the notifications by subagent/core.c. */
#ifndef SA_HANDLERS_DISC_H
#define SA_HANDLERS_DISC_H

#include <stdint.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "engines/discovery/discovery.h"
#include "handlers/handlers.h"

/* { sanEngineMibs 1 }; must agree with mibs/SANAGENT-SESSION-MIB.txt
 * (tests/integration/mib_lint.sh checks the numbers). */
#define SA_OID_SESSION SA_OID_ENGINE_MIBS, 1
#define SA_OID_SESSION_OBJECTS SA_OID_SESSION, 1
#define SA_OID_DISC_COUNTERS SA_OID_SESSION_OBJECTS, 1
#define SA_OID_DISC_SOURCE_TABLE SA_OID_SESSION_OBJECTS, 2
#define SA_OID_DISC_TARGET_TABLE SA_OID_SESSION_OBJECTS, 3
#define SA_OID_DISC_PORTAL_TABLE SA_OID_SESSION_OBJECTS, 4
#define SA_OID_DISC_SOURCE_NEXT_INDEX SA_OID_SESSION_OBJECTS, 17
#define SA_OID_DISC_REFRESH SA_OID_SESSION_OBJECTS, 18
#define SA_OID_DEFAULT_CRED SA_OID_SESSION_OBJECTS, 19

enum {
	H_DISC_ST_OK = 1,
	H_DISC_ST_FAILED,
	H_DISC_TARGETS_FOUND,
	H_DISC_TARGETS_LOST,
	H_DISC_TARGETS_CURRENT,
	H_DISC_SCANS_COMPLETED,
	H_DISC_SCAN_PROBES,
	H_DISC_LAST_SCAN_MS,
	H_DISC_COUNTER_MAX = H_DISC_LAST_SCAN_MS
};

enum {
	H_DSRC_INDEX = 1,
	H_DSRC_MECHANISM,
	H_DSRC_ADDR_TYPE,
	H_DSRC_ADDR,
	H_DSRC_PORT,
	H_DSRC_STATUS,
	H_DSRC_TARGETS,
	H_DSRC_LAST_ATTEMPT,
	H_DSRC_LAST_SUCCESS,
	H_DSRC_ATTEMPTS,
	H_DSRC_FAILURES,
	H_DSRC_LAST_ERROR,
	H_DSRC_PREFIX,
	H_DSRC_LOCAL,
	H_DSRC_CRED,
	H_DSRC_REFRESH,
	H_DSRC_STATE,
	H_DSRC_PERCENT,
	H_DSRC_RANGE,
	H_DSRC_STORAGE_TYPE,
	H_DSRC_ROW_STATUS,
};

/* sanDiscSourceRefresh and sanDiscRefresh: a trigger that reads idle. */
enum { H_DISC_REFRESH_IDLE = 1, H_DISC_REFRESH_GO = 2 };

enum {
	H_DTGT_INDEX = 1,
	H_DTGT_NAME,
	H_DTGT_MECHANISM,
	H_DTGT_SOURCE,
	H_DTGT_PORTALS,
	H_DTGT_FIRST_SEEN,
	H_DTGT_LAST_SEEN,
	H_DTGT_ALIAS,
};

enum {
	H_DPOR_INDEX = 1,
	H_DPOR_ADDR_TYPE,
	H_DPOR_ADDR,
	H_DPOR_PORT,
	H_DPOR_TPGT,
	H_DPOR_MECHANISM,
	H_DPOR_FIRST_SEEN,
	H_DPOR_LAST_SEEN,
};

/* Row values, shared with the notifications so a trap carries what a GET returns. */
int h_disc_source_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb);
int h_disc_target_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb);

/* InetAddressType (want_type) or InetAddress of a host. */
void h_disc_set_addr(netsnmp_variable_list *vb, int family, const char *host, int want_type);

/* discTargetTable.c registers everything (h_disc_init in handlers.h). */
int h_disc_source_table_init(void); /* discSourceTable.c */
void h_disc_source_table_shutdown(void);
void h_disc_tables_shutdown(void);
int h_disc_portal_table_init(void); /* discPortalTable.c */
void h_disc_portal_table_shutdown(void);

#endif
