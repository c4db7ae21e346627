/* iscsiTables.h: the RFC 7147 ISCSI-MIB tables sanagent serves read-only (handlers/iscsiNodes.c, iscsiSessions.c):
 * OIDs, columns, instances and the row order they share. */
#ifndef SA_HANDLERS_ISCSI_H
#define SA_HANDLERS_ISCSI_H

#include <stdint.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

/* mib-2.142 (iscsiMibModule): must agree with mibs/ISCSI-MIB.txt (tests/integration/mib_lint.sh). */
#define SA_OID_ISCSI 1, 3, 6, 1, 2, 1, 142
#define SA_OID_ISCSI_OBJECTS SA_OID_ISCSI, 1
#define SA_OID_ISCSI_INST_TABLE SA_OID_ISCSI_OBJECTS, 1, 1
#define SA_OID_ISCSI_PORTAL_TABLE SA_OID_ISCSI_OBJECTS, 2, 1
#define SA_OID_ISCSI_TGT_PORTAL_TABLE SA_OID_ISCSI_OBJECTS, 3, 1
#define SA_OID_ISCSI_NODE_TABLE SA_OID_ISCSI_OBJECTS, 5, 1
#define SA_OID_ISCSI_TGT_LOGIN_TABLE SA_OID_ISCSI_OBJECTS, 6, 2
#define SA_OID_ISCSI_TGT_LOGOUT_TABLE SA_OID_ISCSI_OBJECTS, 6, 3
#define SA_OID_ISCSI_INTR_ATTR_TABLE SA_OID_ISCSI_OBJECTS, 8, 1
#define SA_OID_ISCSI_INTR_LOGIN_TABLE SA_OID_ISCSI_OBJECTS, 8, 2
#define SA_OID_ISCSI_INTR_LOGOUT_TABLE SA_OID_ISCSI_OBJECTS, 8, 3
#define SA_OID_ISCSI_SSN_TABLE SA_OID_ISCSI_OBJECTS, 10, 1
#define SA_OID_ISCSI_SSN_STATS_TABLE SA_OID_ISCSI_OBJECTS, 10, 2
#define SA_OID_ISCSI_SSN_ERR_TABLE SA_OID_ISCSI_OBJECTS, 10, 3
#define SA_OID_ISCSI_CXN_TABLE SA_OID_ISCSI_OBJECTS, 11, 1

/* The two instances (iscsiInstIndex): this host's initiator side (the session registry: data-plane paths,
 * discovery sessions, probes), and the target side (tgt, through the storage engine, while it runs). */
enum { H_ISCSI_INST_INITIATOR = 1, H_ISCSI_INST_TARGET = 2 };

enum {
	H_ISCSI_INST_DESCR = 2,
	H_ISCSI_INST_VERSION_MIN,
	H_ISCSI_INST_VERSION_MAX,
	H_ISCSI_INST_VENDOR_ID,
	H_ISCSI_INST_VENDOR_VERSION,
	H_ISCSI_INST_PORTALS,
	H_ISCSI_INST_NODES,
	H_ISCSI_INST_SESSIONS,
	H_ISCSI_INST_SSN_FAILURES,
	H_ISCSI_INST_LAST_FAILURE_TYPE,
	H_ISCSI_INST_LAST_RMT_NODE,
	H_ISCSI_INST_DISCONTINUITY,
	H_ISCSI_INST_XNODE_ARCH,
};

enum {
	H_ISCSI_PORTAL_ROW_STATUS = 2,
	H_ISCSI_PORTAL_ROLES,
	H_ISCSI_PORTAL_ADDR_TYPE,
	H_ISCSI_PORTAL_ADDR,
	H_ISCSI_PORTAL_PROTOCOL,
	H_ISCSI_PORTAL_STORAGE = 13,
	H_ISCSI_PORTAL_DESCR = 14,
};
enum { H_ISCSI_TGT_PORTAL_PORT = 2, H_ISCSI_TGT_PORTAL_TAG = 3 };

enum {
	H_ISCSI_NODE_NAME = 2,
	H_ISCSI_NODE_ALIAS,
	H_ISCSI_NODE_ROLES,
	H_ISCSI_NODE_TRANSPORT,
	H_ISCSI_NODE_DISCONTINUITY = 17,
	H_ISCSI_NODE_STORAGE = 18,
};
enum { H_ISCSI_TGT_LOGIN_ACCEPTS = 1 };
enum { H_ISCSI_TGT_LOGOUT_NORMALS = 1 };
enum {
	H_ISCSI_INTR_LOGIN_FAILURES = 1,
	H_ISCSI_INTR_LAST_FAILURE_TIME,
	H_ISCSI_INTR_LAST_FAILURE_TYPE,
	H_ISCSI_INTR_LAST_TGT_NAME,
	H_ISCSI_INTR_LAST_TGT_ADDR_TYPE,
	H_ISCSI_INTR_LAST_TGT_ADDR,
	H_ISCSI_INTR_LAST_TGT_PORT,
};
enum {
	H_ISCSI_INTR_LOGIN_ACCEPTS = 1,
	H_ISCSI_INTR_LOGIN_OTHER_FAILS,
	H_ISCSI_INTR_LOGIN_REDIRECTS,
	H_ISCSI_INTR_LOGIN_AUTH_FAILS,
	H_ISCSI_INTR_LOGIN_AUTHORIZE_FAILS = 7,
};
enum { H_ISCSI_INTR_LOGOUT_NORMALS = 1 };

enum {
	H_ISCSI_SSN_DIRECTION = 3,
	H_ISCSI_SSN_INITIATOR,
	H_ISCSI_SSN_TARGET,
	H_ISCSI_SSN_TSIH,
	H_ISCSI_SSN_ISID,
	H_ISCSI_SSN_TYPE = 12,
	H_ISCSI_SSN_CONNECTIONS = 16,
	H_ISCSI_SSN_DISCONTINUITY = 21,
};
enum { H_ISCSI_SSN_INBOUND = 1, H_ISCSI_SSN_OUTBOUND = 2 };
enum {
	H_ISCSI_SSN_CMD_PDUS = 1,
	H_ISCSI_SSN_TX_OCTETS = 3,
	H_ISCSI_SSN_RX_OCTETS,
	H_ISCSI_SSN_LC_TX_OCTETS,
	H_ISCSI_SSN_LC_RX_OCTETS,
};
enum { H_ISCSI_SSN_DIGEST_ERRORS = 1, H_ISCSI_SSN_TIMEOUT_ERRORS = 2 };
enum {
	H_ISCSI_CXN_CID = 2,
	H_ISCSI_CXN_STATE,
	H_ISCSI_CXN_ADDR_TYPE,
	H_ISCSI_CXN_LOCAL_ADDR,
	H_ISCSI_CXN_PROTOCOL,
	H_ISCSI_CXN_LOCAL_PORT,
	H_ISCSI_CXN_REMOTE_ADDR,
	H_ISCSI_CXN_REMOTE_PORT,
};
enum { H_ISCSI_CXN_LOGIN = 1, H_ISCSI_CXN_FULL = 2 };

/* IscsiTransportProtocol of every portal and connection: TCP. */
#define H_ISCSI_PROTO_TCP 6

/* TimeStamp (sysUpTime, centiseconds) of a wall-clock time t; 0 for t 0 or before the agent's uptime began. */
u_long h_iscsi_timestamp(time_t t);
/* RowPointer / AutonomousType 0.0. */
void h_iscsi_set_null_oid(netsnmp_variable_list *vb);

/* The session rows of both instances in index order {inst, node, session}: the first after `after` (NULL: the
 * first row) into out; 0 or -ENOENT.  iscsiSessions.c; the connection table walks them too. */
int h_iscsi_ssn_next(const uint32_t *after, uint32_t *out);

/* The node rows of one instance in index order {inst, node}: initiator names, tgt's targets (iscsiNodes.c). */
int h_iscsi_intr_node_next(const uint32_t *after, uint32_t *out);
int h_iscsi_tgt_node_next(const uint32_t *after, uint32_t *out);

int h_iscsi_nodes_init(void); /* iscsiNodes.c: instances, portals, nodes */
void h_iscsi_nodes_shutdown(void);
int h_iscsi_logins_init(void); /* iscsiLogins.c: login and logout statistics */
void h_iscsi_logins_shutdown(void);
int h_iscsi_sessions_init(void); /* iscsiSessions.c: sessions, their statistics, connections */
void h_iscsi_sessions_shutdown(void);

#endif
