/* storTables.h: SANAGENT-SESSION-MIB OIDs and columns of the storage side (tgt portals, targets, LUNs, sessions). */
#ifndef SA_HANDLERS_STOR_H
#define SA_HANDLERS_STOR_H

#include <stdint.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "engines/storage/storage.h"
#include "handlers/discTables.h"

/* Must agree with mibs/SANAGENT-SESSION-MIB.txt. */
#define SA_OID_STOR_PORTAL_NEXT SA_OID_SESSION_OBJECTS, 11
#define SA_OID_STOR_PORTAL_TABLE SA_OID_SESSION_OBJECTS, 12
#define SA_OID_STOR_TARGET_TABLE SA_OID_SESSION_OBJECTS, 13
#define SA_OID_STOR_LUN_TABLE SA_OID_SESSION_OBJECTS, 14
#define SA_OID_STOR_SESSION_TABLE SA_OID_SESSION_OBJECTS, 15
#define SA_OID_STOR_FEEDBACK SA_OID_SESSION_OBJECTS, 16
#define SA_OID_STOR_ACCOUNT_NEXT SA_OID_SESSION_OBJECTS, 20
#define SA_OID_STOR_ACCOUNT_TABLE SA_OID_SESSION_OBJECTS, 21
#define SA_OID_STOR_BIND_TABLE SA_OID_SESSION_OBJECTS, 22
#define SA_OID_STOR_ACL_TABLE SA_OID_SESSION_OBJECTS, 23
#define SA_OID_STOR_ISNS SA_OID_SESSION_OBJECTS, 24

enum {
	H_SPOR_INDEX = 1,
	H_SPOR_ADDR_TYPE,
	H_SPOR_ADDR,
	H_SPOR_PORT,
	H_SPOR_TPGT,
	H_SPOR_STORAGE,
	H_SPOR_ROW_STATUS,
	H_SPOR_IFNAME,
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
	H_STGT_ALIAS,
	H_STGT_STORAGE,
	H_STGT_ROW_STATUS,
	H_STGT_FORCE,
};

enum {
	H_SLUN_NUMBER = 1,
	H_SLUN_TYPE,
	H_SLUN_SIZE,
	H_SLUN_BACKING,
	H_SLUN_SERIAL,
	H_SLUN_DESIGNATOR,
	H_SLUN_VENDOR,
	H_SLUN_MODEL,
	H_SLUN_CAPACITY,
	H_SLUN_ID_STATUS,
	H_SLUN_STORAGE,
	H_SLUN_ROW_STATUS,
};
enum { H_SACC_INDEX = 1, H_SACC_USER, H_SACC_SECRET, H_SACC_STORAGE, H_SACC_ROW_STATUS };
enum { H_SBND_DIRECTION = 1, H_SBND_STORAGE, H_SBND_ROW_STATUS };
enum { H_SACL_INDEX = 1, H_SACL_KIND, H_SACL_RULE, H_SACL_STORAGE, H_SACL_ROW_STATUS };
enum { H_SISNS_ENABLE = 1, H_SISNS_ADDR_TYPE, H_SISNS_ADDR, H_SISNS_PORT };

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
	H_SSES_PORTAL_TYPE,
	H_SSES_PORTAL_ADDR,
	H_SSES_PORTAL_PORT,
	H_SSES_TX_MAX,
	H_SSES_TX_MIN,
	H_SSES_TX_AVG,
};
/* sanStorFeedback scalars */
enum { H_SFB_SENT = 1, H_SFB_REQUESTS, H_SFB_HELD, H_SFB_PORTAL_UNKNOWN };
enum { H_SSES_END_NONE = 1, H_SSES_END_END = 2 };

/* InetAddressType and InetAddress of a numeric host ("" = unknown(0), empty). */
void h_stor_set_addr(netsnmp_variable_list *vb, const char *host, int want_type);

int h_stor_portal_table_init(void); /* storPortalTable.c */
void h_stor_portal_table_shutdown(void);
int h_stor_target_tables_init(void); /* storTargetTable.c: targets, then LUNs and sessions */
void h_stor_target_tables_shutdown(void);
int h_stor_lun_table_init(void); /* storLunTable.c */
void h_stor_lun_table_shutdown(void);
int h_stor_session_table_init(void); /* storSessionTable.c */
void h_stor_session_table_shutdown(void);
/* The target and account tables, for checks of rows other tables of one request hang on. */
extern struct h_table h_stor_target_table, h_stor_account_table;
/* Whether the request creates the row (tid) of the target table / (index) of the account table. */
struct h_txn;
int h_stor_txn_creates(struct h_txn *txn, struct h_table *t, uint32_t index);
int h_stor_account_table_init(void); /* storAccountTable.c (with its NextIndex) */
void h_stor_account_table_shutdown(void);
int h_stor_bind_table_init(void); /* storBindTable.c */
void h_stor_bind_table_shutdown(void);
int h_stor_acl_table_init(void); /* storAclTable.c */
void h_stor_acl_table_shutdown(void);
int h_stor_isns_init(void); /* storIsns.c */
void h_stor_isns_shutdown(void);
int h_stor_feedback_init(void); /* storFeedback.c: the feedback counters */
void h_stor_feedback_shutdown(void);

#endif
