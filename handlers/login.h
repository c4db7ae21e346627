/* login.h: SANAGENT-SESSION-MIB OIDs and columns of the credential and login tables, shared by handlers and traps. */
#ifndef SA_HANDLERS_LOGIN_H
#define SA_HANDLERS_LOGIN_H

#include <stdint.h>

#include "engines/discovery/login.h"
#include "handlers/disc.h"

#define SA_OID_CRED_NEXT_INDEX SA_OID_SESSION_OBJECTS, 5
#define SA_OID_CRED_TABLE SA_OID_SESSION_OBJECTS, 6
#define SA_OID_LOGIN_NEXT_INDEX SA_OID_SESSION_OBJECTS, 7
#define SA_OID_LOGIN_TABLE SA_OID_SESSION_OBJECTS, 8
#define H_LOGIN_NOTIFY_FAILED 4 /* sanLoginFailed { sanSessionNotifications 4 } */

enum {
	H_CRED_INDEX = 1,
	H_CRED_USER,
	H_CRED_SECRET,
	H_CRED_MUTUAL_USER,
	H_CRED_MUTUAL_SECRET,
	H_CRED_USERS,
	H_CRED_STORAGE_TYPE,
	H_CRED_ROW_STATUS,
};

enum {
	H_LOGIN_INDEX = 1,
	H_LOGIN_TARGET,
	H_LOGIN_ADDR_TYPE,
	H_LOGIN_ADDR,
	H_LOGIN_PORT,
	H_LOGIN_ADAPTER,
	H_LOGIN_CREDENTIAL,
	H_LOGIN_LUN,
	H_LOGIN_PERSISTENT,
	H_LOGIN_ADMIN,
	H_LOGIN_OPER,
	H_LOGIN_LAST_RESULT,
	H_LOGIN_LAST_STATUS,
	H_LOGIN_LAST_CHANGE,
	H_LOGIN_TEAM,
	H_LOGIN_PATHS,
	H_LOGIN_STORAGE_TYPE,
	H_LOGIN_ROW_STATUS,
};

/* A login row's value of col into vb (what a GET returns, for the traps too). */
int h_login_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb);

/* credTable.c: the credential table and sanCredNextIndex; the SET phases
 * of both tables share one pending set per request (loginTable.c), so a
 * PDU may create a credential and a login that uses it. */
int h_cred_init(void);
void h_cred_shutdown(void);

struct h_cred_pending {
	uint32_t index;
	int exists;
	struct disc_cred old, val; /* before and after the request */
	int create;                /* RS_CREATEANDGO / RS_CREATEANDWAIT, 0 */
	int destroy;
	int rs;   /* RowStatus asked for (RS_ACTIVE, RS_NOTINSERVICE), 0 = none */
	int done; /* applied in ACTION (undo restores old) */
	int err;  /* RESERVE2 verdict of this row */
	struct h_cred_pending *next;
};

struct h_login_pending {
	uint32_t index;
	int exists;
	struct disc_login old, val;
	int create, destroy, rs, done, err;
	struct h_login_pending *next;
};

struct h_conn_pending {
	struct h_cred_pending *creds;
	struct h_login_pending *logins;
	int checked, check_err; /* RESERVE2 verdict of the whole request */
	int applied, undone;
};

struct h_conn_pending *h_conn_pending(netsnmp_agent_request_info *reqinfo);
struct h_cred_pending *h_cred_pending(netsnmp_agent_request_info *reqinfo, uint32_t index);
/* RESERVE2: checks every pending row of the request once (each row gets
 * its own verdict, so the error lands on one of its varbinds). */
void h_conn_check(struct h_conn_pending *ps);
/* ACTION, UNDO of the whole request: SNMP error codes. */
int h_conn_action(netsnmp_agent_request_info *reqinfo);
int h_conn_undo(netsnmp_agent_request_info *reqinfo);
int h_cred_check(struct h_conn_pending *ps, struct h_cred_pending *p);
/* Logins that name cred once the request is applied. */
unsigned int h_cred_users_after(const struct h_conn_pending *ps, uint32_t cred);

#endif
