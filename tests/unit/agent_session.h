/* agent_session.h: requests to net-snmp's agent in this process, over its callback transport (no snmpd), for the
 * in-process handler tests (test_table.c, test_scalars.c). */
#ifndef TESTS_AGENT_SESSION_H
#define TESTS_AGENT_SESSION_H

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

/* The agent's own callback transport (snmp_vars.c; no public header declares it). */
extern int callback_master_num;

static netsnmp_session *ss;

/* Starts the agent once per process: a master with no listening socket. */
static void agent_session_open(const char *app)
{
	if (ss)
		return;
	/* No MIB text: every OID here is numeric. */
	setenv("MIBS", "", 1);
	setenv("MIBDIRS", "/nonexistent", 1);
	snmp_disable_log();
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 0);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_CONFIG_LOAD, 1);
	ck_assert_int_eq(init_agent(app), 0);
	init_snmp(app);
	ss = netsnmp_callback_open(callback_master_num, NULL, NULL, NULL);
	ck_assert_ptr_nonnull(ss);
	ss->version = SNMP_VERSION_2c;
	/* The session came with its own (empty) community copy: free it before replacing it. */
	free(ss->community);
	ss->community = (u_char *)strdup("public");
	ss->community_len = 6;
	/* The synchronous wait runs the agent's queue: the request is answered in this process. */
	ss->myvoid = (void *)netsnmp_check_outstanding_agent_requests;
	ss->flags |= SNMP_FLAGS_RESP_CALLBACK | SNMP_FLAGS_DONT_PROBE;
}

/* Sends pdu; returns the response (caller frees), failing the test on a transport error. */
static netsnmp_pdu *send_pdu(netsnmp_pdu *pdu)
{
	netsnmp_pdu *resp = NULL;
	int st;

	/* No access control in this agent: the request is the test's own. */
	pdu->flags |= UCD_MSG_FLAG_ALWAYS_IN_VIEW;
	st = snmp_synch_response(ss, pdu, &resp);

	ck_assert_msg(st == STAT_SUCCESS && resp, "in-process request failed (%d)", st);
	return resp;
}

static size_t oid_of(const char *s, oid *out)
{
	size_t len = MAX_OID_LEN;

	ck_assert_msg(read_objid(s, out, &len), "bad OID %s", s);
	return len;
}

/* A SET of (oid, type, value) triples, types as snmpset's ('i', 'u', 's', 'x' hex); returns errstat, and
 * the 1-based index of the failing varbind in *index. */
static long set_req(long *index, ...)
{
	netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_SET), *resp;
	va_list ap;
	const char *name;
	long err;

	va_start(ap, index);
	while ((name = va_arg(ap, const char *))) {
		oid o[MAX_OID_LEN];
		size_t len = oid_of(name, o);
		int type = va_arg(ap, int);
		const char *val = va_arg(ap, const char *);

		ck_assert_int_eq(snmp_add_var(pdu, o, len, (char)type, val), 0);
	}
	va_end(ap);
	resp = send_pdu(pdu);
	err = resp->errstat;
	if (index)
		*index = resp->errindex;
	snmp_free_pdu(resp);
	return err;
}

/* One GET; returns the value as text (the exception's name for noSuchInstance and noSuchObject, HIGH:LOW for a
 * Counter64). */
static void get_str(const char *name, char *buf, size_t size)
{
	netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET), *resp;
	oid o[MAX_OID_LEN];
	size_t len = oid_of(name, o);

	snmp_add_null_var(pdu, o, len);
	resp = send_pdu(pdu);
	ck_assert_int_eq(resp->errstat, 0);
	if (resp->variables->type == SNMP_NOSUCHINSTANCE)
		snprintf(buf, size, "noSuchInstance");
	else if (resp->variables->type == SNMP_NOSUCHOBJECT)
		snprintf(buf, size, "noSuchObject");
	else if (resp->variables->type == ASN_OCTET_STR)
		snprintf(buf, size, "%.*s", (int)resp->variables->val_len, resp->variables->val.string);
	else if (resp->variables->type == ASN_COUNTER64)
		snprintf(buf, size, "%lu:%lu", resp->variables->val.counter64->high,
		         resp->variables->val.counter64->low);
	else
		snprintf(buf, size, "%ld", *resp->variables->val.integer);
	snmp_free_pdu(resp);
}

static long get_int(const char *name)
{
	char b[64];

	get_str(name, b, sizeof(b));
	return strtol(b, NULL, 10);
}

/* The OIDs of a GETNEXT walk from `from` while inside `under`, one per line, into buf (at most max steps). */
static void walk_n(const char *from, const char *under, char *buf, size_t size, int max)
{
	oid cur[MAX_OID_LEN], top[MAX_OID_LEN];
	size_t len = oid_of(from, cur), tlen = oid_of(under, top), used = 0;

	buf[0] = 0;
	for (int steps = 0; steps < max; steps++) {
		netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GETNEXT), *resp;
		netsnmp_variable_list *v;
		char line[256];

		snmp_add_null_var(pdu, cur, len);
		resp = send_pdu(pdu);
		v = resp->variables;
		if (resp->errstat || v->type == SNMP_ENDOFMIBVIEW || v->name_length < tlen ||
		    snmp_oid_compare(v->name, tlen, top, tlen) != 0) {
			snmp_free_pdu(resp);
			return;
		}
		snprint_objid(line, sizeof(line), v->name, v->name_length);
		used += (size_t)snprintf(buf + used, size - used, "%s\n", line);
		memcpy(cur, v->name, v->name_length * sizeof(oid));
		len = v->name_length;
		snmp_free_pdu(resp);
	}
	ck_assert_msg(max < 1000, "walk did not end");
}

/* The OIDs of the names in want, one per line, as walk_n writes them. */
static void oid_lines(const char *const *want, size_t n, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n; i++) {
		char line[256];
		oid o[MAX_OID_LEN];
		size_t len = oid_of(want[i], o);

		snprint_objid(line, sizeof(line), o, len);
		used += (size_t)snprintf(buf + used, size - used, "%s\n", line);
	}
}

#endif
