/* pathmib.h: SANAGENT-PATH-MIB OIDs and the per-request SET state shared by the team and path table handlers. */
#ifndef H_PATHMIB_H
#define H_PATHMIB_H

#include "engines/balance/engine.h"
#include "handlers/handlers.h"
#include "handlers/rowCommon.h"

/* { sanEngineMibs 2 }; tests/integration/mib_lint.sh checks these numbers against the MIB text. */
#define H_OID_PATH_MIB SA_OID_ENGINE_MIBS, 2
#define H_OID_PATH_NOTIFICATIONS H_OID_PATH_MIB, 0
#define H_OID_PATH_OBJECTS H_OID_PATH_MIB, 1
#define H_OID_TEAM_NEXT_INDEX H_OID_PATH_OBJECTS, 1
#define H_OID_TEAM_TABLE H_OID_PATH_OBJECTS, 2
#define H_OID_TEAM_ENTRY H_OID_TEAM_TABLE, 1
#define H_OID_PATH_TABLE H_OID_PATH_OBJECTS, 3
#define H_OID_PATH_ENTRY H_OID_PATH_TABLE, 1

enum {
	H_TEAM_INDEX = 1,
	H_TEAM_NAME,
	H_TEAM_TARGET,
	H_TEAM_LUN,
	H_TEAM_MODE,
	H_TEAM_ALGO,
	H_TEAM_TIMER_INTERVAL,
	H_TEAM_CHANGE_THRESHOLD,
	H_TEAM_LB_CHANGE,
	H_TEAM_STATE,
	H_TEAM_READ_BYTES,
	H_TEAM_WRITE_BYTES,
	H_TEAM_EXPORT_SOCKET,
	H_TEAM_PORTALS,
	H_TEAM_CONTROL_STATUS,
	H_TEAM_STORAGE_TYPE,
	H_TEAM_ROW_STATUS,
};

enum {
	H_PATH_INDEX = 1,
	H_PATH_ADDRESS_TYPE,
	H_PATH_ADDRESS,
	H_PATH_PORT,
	H_PATH_INTERFACE,
	H_PATH_ROLE,
	H_PATH_STATE,
	H_PATH_READ_SHARE,
	H_PATH_WRITE_SHARE,
	H_PATH_ACTUAL_READ_SHARE,
	H_PATH_ACTUAL_WRITE_SHARE,
	H_PATH_READ_BYTES,
	H_PATH_WRITE_BYTES,
	H_PATH_READ_COMMANDS,
	H_PATH_WRITE_COMMANDS,
	H_PATH_ERRORS,
	H_PATH_LAST_CHANGE,
	H_PATH_AVG_LATENCY,
};

enum {
	H_NOTIFY_PATH_DOWN = 1,
	H_NOTIFY_PATH_UP,
	H_NOTIFY_TEAM_FAILOVER,
	H_NOTIFY_TEAM_DEGRADED,
	H_NOTIFY_TEAM_FAILED,
	H_NOTIFY_TEAM_SHARES_CHANGED,
};

/*
 * One SET request may touch a team in both tables (shares in sanPathTable,
 * mode in sanTeamTable) and several paths of it.  Every varbind only
 * records its change in the team's pending entry (RESERVE1); the final
 * result per team is validated once (RESERVE2) and applied in one write
 * (ACTION), so a request either changes all it names or nothing.  The
 * entries hang off the request's agent_request_info, which net-snmp keeps
 * across the SET phases (also between the AgentX TestSet and CommitSet).
 */
#define H_PENDING_CREATE_NAME 0x1u
#define H_PENDING_CREATE_TARGET 0x2u
#define H_PENDING_CREATE_PORTALS 0x4u

struct h_team_pending {
	unsigned int index;
	int exists; /* the team existed when the request started */
	int create, destroy;
	int storage;        /* StorageType asked for, 0 = not given */
	unsigned int given; /* H_PENDING_CREATE_* */
	int ctl_changed;
	struct bal_team_spec spec; /* the team as it will be */
	struct bal_ctl old_ctl;
	int checked, check_err; /* RESERVE2 done once per team */
	int done;               /* applied in ACTION */
	struct h_team_pending *next;
};

/* Finds or makes the entry of team index for this request; NULL when out of memory. */
struct h_team_pending *h_path_pending(netsnmp_agent_request_info *reqinfo, unsigned int index);
/* RESERVE2: the SNMP error for the team's final state (SNMP_ERR_NOERROR if fine). */
int h_path_pending_check(netsnmp_agent_request_info *reqinfo, struct h_team_pending *p);
/* ACTION / UNDO / COMMIT over every entry of the request, each once. */
int h_path_pending_action(netsnmp_agent_request_info *reqinfo);
int h_path_pending_undo(netsnmp_agent_request_info *reqinfo);
void h_path_pending_commit(netsnmp_agent_request_info *reqinfo);

/* ACTION, UNDO and COMMIT of sanPathTable (pathTeamTable.c): run the
 * request's pending set (each once, whichever table's varbind comes first)
 * and report on r. */
void h_path_pending_phase(netsnmp_agent_request_info *reqinfo, netsnmp_request_info *r);

/* Both tables are h_ctable tables (rowCommon.h). */

/* The table handlers (pathTable.c) */
int h_path_table_init(void);
void h_path_table_shutdown(void);
void h_path_table_team_added(unsigned int team);
void h_path_table_team_removed(unsigned int team);

#endif
