/* stor.h: SANAGENT-SESSION-MIB OIDs and columns of the storage side (tgt portals, targets, LUNs, sessions). */
#ifndef SA_HANDLERS_STOR_H
#define SA_HANDLERS_STOR_H

#include <stdint.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "engines/storage/storage.h"
#include "handlers/disc.h"

/* Must agree with mibs/SANAGENT-SESSION-MIB.txt. */
#define SA_OID_STOR_PORTAL_NEXT SA_OID_SESSION_OBJECTS, 11
#define SA_OID_STOR_PORTAL_TABLE SA_OID_SESSION_OBJECTS, 12
#define SA_OID_STOR_TARGET_TABLE SA_OID_SESSION_OBJECTS, 13
#define SA_OID_STOR_LUN_TABLE SA_OID_SESSION_OBJECTS, 14
#define SA_OID_STOR_SESSION_TABLE SA_OID_SESSION_OBJECTS, 15

enum {
	H_SPOR_INDEX = 1,
	H_SPOR_ADDR_TYPE,
	H_SPOR_ADDR,
	H_SPOR_PORT,
	H_SPOR_TPGT,
	H_SPOR_STORAGE,
	H_SPOR_ROW_STATUS,
};

enum {
	H_STGT_TID = 1,
	H_STGT_NAME,
	H_STGT_LUNS,
	H_STGT_SESSIONS,
	H_STGT_READ_BYTES,
	H_STGT_WRITE_BYTES,
	H_STGT_READ_CMDS,
	H_STGT_WRITE_CMDS,
};

enum {
	H_SLUN_NUMBER = 1,
	H_SLUN_TYPE,
	H_SLUN_SIZE,
	H_SLUN_BACKING,
	H_SLUN_SERIAL,
};

enum {
	H_SSES_ID = 1,
	H_SSES_INITIATOR,
	H_SSES_ADDR_TYPE,
	H_SSES_ADDR,
	H_SSES_TARGET,
	H_SSES_READ_BYTES,
	H_SSES_WRITE_BYTES,
	H_SSES_READ_CMDS,
	H_SSES_WRITE_CMDS,
	H_SSES_CONNECTIONS,
	H_SSES_END,
};
enum { H_SSES_END_NONE = 1, H_SSES_END_END = 2 };

/* A table indexed by (tid, sub): targets walked through stor_target_next,
 * the sub-rows of one target through next(t, after) (after -1 = first). */
struct h_stor_table2 {
	const char *name;
	const oid *root;
	size_t root_len;
	unsigned int min_col, max_col;
	int (*next)(const struct stor_target *t, int64_t after, uint32_t *sub);
	/* SNMP_ERR_NOERROR, or SNMP_NOSUCHINSTANCE when the row is absent. */
	int (*get)(uint32_t tid, uint32_t sub, unsigned int col, netsnmp_variable_list *vb);
	/* SET phases (NULL: read-only). */
	int (*set)(struct h_stor_table2 *t, netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests);
	netsnmp_handler_registration *reg;
};
int h_stor_table2_register(struct h_stor_table2 *t);
void h_stor_table2_unregister(struct h_stor_table2 *t);
/* Column and indexes of a SET varbind: 0, or -1 when not root.1.col.tid.sub. */
int h_stor_table2_parse(const struct h_stor_table2 *t, const netsnmp_variable_list *vb, unsigned int *col,
                        uint32_t *tid, uint32_t *sub);

/* InetAddressType and InetAddress of a numeric host ("" = unknown(0), empty). */
void h_stor_set_addr(netsnmp_variable_list *vb, const char *host, int want_type);

int h_stor_portal_table_init(void); /* storPortalTable.c */
void h_stor_portal_table_shutdown(void);
int h_stor_target_tables_init(void); /* storTargetTable.c */
void h_stor_target_tables_shutdown(void);

#endif
