/* pathTables.h: SANAGENT-PATH-MIB OIDs and the per-request SET state shared by the team and path table handlers. */
#ifndef H_PATHMIB_H
#define H_PATHMIB_H

#include "engines/balance/engine.h"
#include "handlers/handlers.h"
#include "handlers/table.h"

/* { sanEngineMibs 2 }; tests/integration/mib_lint.sh checks these numbers against the MIB text. */
#define H_OID_PATH_MIB SA_OID_ENGINE_MIBS, 2
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
	H_TEAM_FAILBACK,
	H_TEAM_FAILBACK_HOLD,
	H_TEAM_FLAP_COUNT,
	H_TEAM_FLAP_WINDOW,
	H_TEAM_FLAP_HOLD,
	H_TEAM_FAILBACK_NOW,
	H_TEAM_NEXT_PATH_INDEX,
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
	H_PATH_PORTAL,
	H_PATH_OPER_STATUS,
	H_PATH_LAST_ERROR,
	H_PATH_LOGIN_RESULT,
	H_PATH_HOLD_REASON,
	H_PATH_STORAGE_TYPE,
	H_PATH_ROW_STATUS,
};

/*
 * One SET request may touch a team in both tables (shares in sanPathTable,
 * mode in sanTeamTable) and several paths of it. The framework's request
 * transaction holds every row the request touches; the team's control
 * values as the whole request leaves them are validated by the engine and
 * applied in one write, so a request either changes all it names or nothing.
 */
struct h_team_image {
	struct bal_team_spec spec;
	int storage;
	int portals_bad;         /* sanTeamPortals did not parse */
	int failback_now;        /* sanTeamFailbackNow set to failback(2) */
	struct bal_ctl undo_ctl; /* what the write replaced */
};
extern struct h_table h_team_table;
extern struct h_table h_path_table;
/* The team's control values as the request txn leaves them; -ENOENT when there is no such team. */
int h_team_ctl_after(struct h_txn *txn, unsigned int team, struct bal_ctl *out);
/* Writes them once (row->done, its image's undo_ctl), and takes them back. */
int h_team_ctl_apply(struct h_txn *txn, unsigned int team, struct h_row *row, struct bal_ctl *undo);
int h_team_ctl_undo(unsigned int team, struct h_row *row, const struct bal_ctl *undo);

/* "ADDR:PORT[%IFACE]" into a path; -EINVAL. */
int h_parse_portal_spec(const char *str, size_t len, struct bal_path_spec *ps);
int h_team_storage(const struct bal_eng_team *t);

/* The table handlers (pathTable.c) */
int h_path_table_init(void);
void h_path_table_shutdown(void);

#endif
