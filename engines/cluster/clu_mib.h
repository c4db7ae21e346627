/* clu_mib.h: SANAGENT-CLUSTER-MIB's OIDs and column numbers, shared by the engine's sync (the wire format of
 * versions, pulls and pushes), its handlers and notifications.  They must agree with mibs/SANAGENT-CLUSTER-MIB.txt
 * (tests/integration/mib_lint.sh checks both). */
#ifndef SA_ENGINES_CLU_MIB_H
#define SA_ENGINES_CLU_MIB_H

/* sanClusterMIB ::= { sanEngineMibs 5 } (enterprises.32473.1.3.5) */
#define CLU_OID_MIB 1, 3, 6, 1, 4, 1, 32473, 1, 3, 5
#define CLU_OID_NOTIFICATIONS CLU_OID_MIB, 0
#define CLU_OID_OBJECTS CLU_OID_MIB, 1

#define CLU_OID_SCALARS CLU_OID_OBJECTS, 1
#define CLU_OID_MEMBER_TABLE CLU_OID_OBJECTS, 2
#define CLU_OID_MEMBER_ENTRY CLU_OID_MEMBER_TABLE, 1
#define CLU_OID_RES_TABLE CLU_OID_OBJECTS, 3
#define CLU_OID_RES_ENTRY CLU_OID_RES_TABLE, 1
#define CLU_OID_OWNER_TABLE CLU_OID_OBJECTS, 4
#define CLU_OID_OWNER_ENTRY CLU_OID_OWNER_TABLE, 1
#define CLU_OID_PEER_TABLE CLU_OID_OBJECTS, 5
#define CLU_OID_PEER_ENTRY CLU_OID_PEER_TABLE, 1
#define CLU_OID_COUNTERS CLU_OID_OBJECTS, 6
#define CLU_OID_CONFLICT_TABLE CLU_OID_OBJECTS, 7
#define CLU_OID_CONFLICT_ENTRY CLU_OID_CONFLICT_TABLE, 1

/* Notifications (sanCluNotifications) */
enum {
	CLU_N_NEW_DEVICE = 1,
	CLU_N_DEVICE_GONE,
	CLU_N_CRT_CHANGED, /* carries sanCluVersion.0 and sanCluVersionWriter.0 */
	CLU_N_CONFLICT,
	CLU_N_PEER_UNREACHABLE,
	CLU_N_OWNERSHIP_LOST,
};

/* sanCluScalars (instance .0) */
enum {
	CLU_S_VERSION = 1,
	CLU_S_VERSION_WRITER,
	CLU_S_ALLOC_LOCK,
	CLU_S_GRANULARITY,
	CLU_S_SELF_GUID,
	CLU_S_RES_NEXT_INDEX,
	CLU_S_MEMBER_NEXT_INDEX,
	CLU_S_OWNERSHIP_GRACE,
	CLU_S_ROLE,
};

/* sanCluMemberEntry */
enum { CLU_M_INDEX = 1, CLU_M_TYPE, CLU_M_GUID, CLU_M_ADDRESS, CLU_M_NAME, CLU_M_ROW_STATUS };

/* sanCluResEntry (the CRT) */
enum {
	CLU_R_INDEX = 1,
	CLU_R_GUID,
	CLU_R_TYPE,
	CLU_R_ADDRESS,
	CLU_R_NUMBER,
	CLU_R_PARENT,
	CLU_R_OWNERSHIP,
	CLU_R_VERSION,
	CLU_R_NAME,
	CLU_R_VENDOR,
	CLU_R_MODEL,
	CLU_R_SIZE,
	CLU_R_VALID,
	CLU_R_PATHS,
};

/* sanCluOwnerEntry, index (sanCluResIndex, sanCluOwnerHost) */
enum { CLU_O_HOST = 1, CLU_O_ROW_STATUS };

/* sanCluPeerEntry, index sanCluMemberIndex */
enum { CLU_P_STATE = 1, CLU_P_LAST_CONTACT, CLU_P_VERSION, CLU_P_VERSION_WRITER, CLU_P_FAILURES, CLU_P_LAST_ERROR };

/* sanCluCounters, in the order of struct clu_counters */
enum {
	CLU_C_CHANGES = 1,
	CLU_C_ADOPTIONS,
	CLU_C_PUSHES_SENT,
	CLU_C_PUSHES_RECEIVED,
	CLU_C_PULLS,
	CLU_C_CONFLICTS,
	CLU_C_PROBES,
	CLU_C_PROBE_FAILURES,
	CLU_C_NEW_DEVICES,
	CLU_C_DEVICES_GONE,
	CLU_C_LOCK_REJECTED,
	CLU_C_CONSISTENCY_REJECTED,
	CLU_C_LOGINS_REFUSED,
	CLU_C_OWNERSHIP_LOST,
};

/* sanCluConflictEntry */
enum {
	CLU_K_INDEX = 1,
	CLU_K_TIME,
	CLU_K_LOST_VERSION,
	CLU_K_LOST_WRITER,
	CLU_K_WON_VERSION,
	CLU_K_WON_WRITER,
	CLU_K_DETAIL,
};

#endif
