/* sessionTables.h: sanSessionTable OIDs, columns and its row getter (handlers/sessionTable.c). */
#ifndef SA_HANDLERS_SESSMIB_H
#define SA_HANDLERS_SESSMIB_H

#include <stdint.h>

#include "handlers/discTables.h"

/* Must agree with mibs/SANAGENT-SESSION-MIB.txt (tests/integration/mib_lint.sh). */
#define SA_OID_SESS_WINDOW SA_OID_SESSION_OBJECTS, 9
#define SA_OID_SESS_TABLE SA_OID_SESSION_OBJECTS, 10

enum {
	H_SESS_ID = 1,
	H_SESS_INITIATOR,
	H_SESS_TARGET,
	H_SESS_PORTAL_TYPE,
	H_SESS_PORTAL_ADDR,
	H_SESS_PORTAL_PORT,
	H_SESS_SRC_TYPE,
	H_SESS_SRC_ADDR,
	H_SESS_ISID,
	H_SESS_TSIH,
	H_SESS_TYPE,
	H_SESS_OWNER,
	H_SESS_STATE,
	H_SESS_LOGIN_TIME,
	H_SESS_TX_BYTES,
	H_SESS_RX_BYTES,
	H_SESS_COMMANDS,
	H_SESS_DIGEST_ERRORS,
	H_SESS_TIMEOUT_ERRORS,
	H_SESS_TX_RATE,
	H_SESS_TX_RATE_MAX,
	H_SESS_TX_RATE_MIN,
	H_SESS_TX_RATE_AVG,
	H_SESS_ERROR_RATE,
	H_SESS_LATENCY_AVG,
	H_SESS_LATENCY_MAX,
	H_SESS_LOGIN,
	H_SESS_TEAM,
	H_SESS_PATH,
	H_SESS_LOGOUT,
};

enum { H_SESS_LOGOUT_NONE = 1, H_SESS_LOGOUT_LOGOUT = 2 };

/* A row's column value, so a notification carries what a GET returns. */
int h_session_get(uint32_t id, unsigned int col, netsnmp_variable_list *vb);

#endif
