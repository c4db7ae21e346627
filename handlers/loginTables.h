/* loginTables.h: SANAGENT-SESSION-MIB OIDs and columns of the credential and login tables (handlers/credTable.c,
 * loginTable.c). */
#ifndef SA_HANDLERS_LOGIN_H
#define SA_HANDLERS_LOGIN_H

#include <stdint.h>

#include "engines/discovery/login.h"
#include "handlers/discTables.h"

#define SA_OID_CRED_NEXT_INDEX SA_OID_SESSION_OBJECTS, 5
#define SA_OID_CRED_TABLE SA_OID_SESSION_OBJECTS, 6
#define SA_OID_LOGIN_NEXT_INDEX SA_OID_SESSION_OBJECTS, 7
#define SA_OID_LOGIN_TABLE SA_OID_SESSION_OBJECTS, 8

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
	H_LOGIN_KIND,
};

/* A login row's value of col into vb (what a GET returns, for the traps too). */
int h_login_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb);

/* credTable.c: the credential table and sanCredNextIndex; both tables are
 * in one request transaction, so a PDU may create a credential and a login
 * that uses it. */
int h_cred_init(void);
void h_cred_shutdown(void);

struct h_table;
struct h_txn;
extern struct h_table h_cred_table;
extern struct h_table h_login_table;
/* Logins that name cred once the request txn is applied. */
unsigned int h_cred_users_after(struct h_txn *txn, uint32_t cred);

#endif
