/* walkloop.c: walks one subtree N times with GETBULK from one process and prints varbinds and seconds. */
/*
 * Why not N runs of snmpbulkwalk: each run pays process start-up and MIB
 * loading, which is larger than a whole walk of a 40-object subtree, so the
 * figure would measure the tool, not the agent.
 *
 * usage: walkloop HOST:PORT COMMUNITY ROOT_OID N [MAX_REPETITIONS [subtree|table]]
 * prints: walks=N varbinds=TOTAL per_walk=V seconds=S [columns=C]
 *
 * subtree (default) walks the way snmpbulkwalk does: one varbind per
 * request, max-repetitions deep.  table walks ROOT_OID as a conceptual
 * table the way snmptable and NMS table pollers do: every column in one
 * GETBULK, each column advancing on its own, so a response carries
 * max-repetitions rows of all columns.  The columns are found once, before
 * the clock starts, by GETNEXT from ROOT_OID.1 and then past each column.
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One walk of root; returns the number of varbinds inside the subtree, or -1. */
static long walk_once(netsnmp_session *ss, const oid *root, size_t rootlen, long maxrep)
{
	oid cur[MAX_OID_LEN];
	size_t curlen = rootlen;
	long count = 0;
	int done = 0;

	memcpy(cur, root, rootlen * sizeof(oid));
	while (!done) {
		netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GETBULK), *resp = NULL;
		netsnmp_variable_list *v;
		int status;

		pdu->non_repeaters = 0;
		pdu->max_repetitions = maxrep;
		snmp_add_null_var(pdu, cur, curlen);
		status = snmp_synch_response(ss, pdu, &resp);
		if (status != STAT_SUCCESS || !resp || resp->errstat != SNMP_ERR_NOERROR) {
			snmp_sess_perror("walkloop", ss);
			if (resp)
				snmp_free_pdu(resp);
			return -1;
		}
		if (!resp->variables)
			done = 1;
		for (v = resp->variables; v; v = v->next_variable) {
			if (v->type == SNMP_ENDOFMIBVIEW || v->type == SNMP_NOSUCHOBJECT ||
			    v->type == SNMP_NOSUCHINSTANCE || v->name_length < rootlen ||
			    snmp_oid_ncompare(root, rootlen, v->name, v->name_length, rootlen) != 0) {
				done = 1;
				break;
			}
			count++;
			memcpy(cur, v->name, v->name_length * sizeof(oid));
			curlen = v->name_length;
		}
		snmp_free_pdu(resp);
	}
	return count;
}

#define MAX_COLS 64

/* GETNEXT of name; copies the answer into out (MAX_OID_LEN); returns its length or 0 at the end. */
static size_t get_next(netsnmp_session *ss, const oid *name, size_t len, oid *out)
{
	netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GETNEXT), *resp = NULL;
	size_t outlen = 0;

	snmp_add_null_var(pdu, name, len);
	if (snmp_synch_response(ss, pdu, &resp) == STAT_SUCCESS && resp && resp->errstat == SNMP_ERR_NOERROR &&
	    resp->variables && resp->variables->type != SNMP_ENDOFMIBVIEW) {
		outlen = resp->variables->name_length;
		memcpy(out, resp->variables->name, outlen * sizeof(oid));
	}
	if (resp)
		snmp_free_pdu(resp);
	return outlen;
}

/* The table's column numbers (ROOT.1.col.index...); returns how many. */
static int find_columns(netsnmp_session *ss, const oid *root, size_t rootlen, oid *cols)
{
	oid probe[MAX_OID_LEN], got[MAX_OID_LEN];
	size_t plen = rootlen + 1, glen;
	int n = 0;

	memcpy(probe, root, rootlen * sizeof(oid));
	probe[rootlen] = 1;
	while (n < MAX_COLS && (glen = get_next(ss, probe, plen, got)) > rootlen + 2 &&
	       snmp_oid_ncompare(root, rootlen, got, glen, rootlen) == 0 && got[rootlen] == 1) {
		cols[n++] = got[rootlen + 1];
		probe[rootlen + 1] = got[rootlen + 1] + 1;
		plen = rootlen + 2;
	}
	return n;
}

/* One walk of all columns at once; returns the number of varbinds inside the columns, or -1. */
static long walk_table(netsnmp_session *ss, const oid *root, size_t rootlen, const oid *cols, int ncols, long maxrep)
{
	oid cur[MAX_COLS][MAX_OID_LEN];
	size_t curlen[MAX_COLS];
	int active[MAX_COLS], nact = ncols;
	long count = 0;

	for (int c = 0; c < ncols; c++) {
		memcpy(cur[c], root, rootlen * sizeof(oid));
		cur[c][rootlen] = 1;
		cur[c][rootlen + 1] = cols[c];
		curlen[c] = rootlen + 2;
		active[c] = c;
	}
	while (nact > 0) {
		netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GETBULK), *resp = NULL;
		netsnmp_variable_list *v;
		int done[MAX_COLS] = {0}, i = 0, still = 0;

		pdu->non_repeaters = 0;
		pdu->max_repetitions = maxrep;
		for (int a = 0; a < nact; a++)
			snmp_add_null_var(pdu, cur[active[a]], curlen[active[a]]);
		if (snmp_synch_response(ss, pdu, &resp) != STAT_SUCCESS || !resp || resp->errstat != SNMP_ERR_NOERROR) {
			snmp_sess_perror("walkloop", ss);
			if (resp)
				snmp_free_pdu(resp);
			return -1;
		}
		/* Varbinds come row by row: the i-th belongs to active column i % nact. */
		for (v = resp->variables; v; v = v->next_variable, i++) {
			int c = active[i % nact];

			if (done[c])
				continue;
			if (v->type == SNMP_ENDOFMIBVIEW || v->type == SNMP_NOSUCHOBJECT ||
			    v->type == SNMP_NOSUCHINSTANCE || v->name_length <= rootlen + 2 ||
			    snmp_oid_ncompare(cur[c], rootlen + 2, v->name, v->name_length, rootlen + 2) != 0) {
				done[c] = 1;
				continue;
			}
			count++;
			memcpy(cur[c], v->name, v->name_length * sizeof(oid));
			curlen[c] = v->name_length;
		}
		snmp_free_pdu(resp);
		if (i == 0)
			break;
		for (int a = 0; a < nact; a++)
			if (!done[active[a]])
				active[still++] = active[a];
		nact = still;
	}
	return count;
}

int main(int argc, char **argv)
{
	netsnmp_session s, *ss;
	oid root[MAX_OID_LEN];
	size_t rootlen = MAX_OID_LEN;
	long n, maxrep = 10, per_walk = -1, total = 0;
	oid cols[MAX_COLS];
	int ncols = 0, table;
	double t0, t1;

	if (argc < 5) {
		fprintf(stderr, "usage: walkloop HOST:PORT COMMUNITY ROOT_OID N [MAX_REPETITIONS [subtree|table]]\n");
		return 2;
	}
	n = strtol(argv[4], NULL, 10);
	if (argc > 5)
		maxrep = strtol(argv[5], NULL, 10);
	table = argc > 6 && !strcmp(argv[6], "table");
	if (n < 1 || maxrep < 1) {
		fprintf(stderr, "walkloop: N and MAX_REPETITIONS must be positive\n");
		return 2;
	}
	/* A response of a few hundred varbinds is freed all at once; glibc then
	 * gives the heap top back with brk and takes it again for the next
	 * response.  Measured with strace, that was 74% of this client's system
	 * time in table walks and made the client, not the agent, the limit. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 16 << 20);
	/* Numeric OIDs only: no MIB files needed or read. */
	setenv("MIBS", "", 1);
	init_snmp("walkloop");
	if (!read_objid(argv[3], root, &rootlen)) {
		fprintf(stderr, "walkloop: bad OID %s\n", argv[3]);
		return 2;
	}
	snmp_sess_init(&s);
	s.peername = argv[1];
	s.version = SNMP_VERSION_2c;
	s.community = (u_char *)argv[2];
	s.community_len = strlen(argv[2]);
	s.timeout = 2000000;
	s.retries = 1;
	ss = snmp_open(&s);
	if (!ss) {
		snmp_sess_perror("walkloop: snmp_open", &s);
		return 1;
	}
	if (table && (ncols = find_columns(ss, root, rootlen, cols)) == 0) {
		fprintf(stderr, "walkloop: no columns under %s.1\n", argv[3]);
		return 1;
	}
#define WALK() (table ? walk_table(ss, root, rootlen, cols, ncols, maxrep) : walk_once(ss, root, rootlen, maxrep))
	/* One walk outside the clock: connection set-up and the agent's first-request caches. */
	if (WALK() < 0)
		return 1;
	t0 = now();
	for (long i = 0; i < n; i++) {
		long c = WALK();

		if (c < 0)
			return 1;
		/* A subtree that changes size under the benchmark would make the rate meaningless. */
		if (per_walk >= 0 && c != per_walk) {
			fprintf(stderr, "walkloop: walk %ld returned %ld varbinds, earlier %ld\n", i, c, per_walk);
			return 1;
		}
		per_walk = c;
		total += c;
	}
	t1 = now();
	printf("walks=%ld varbinds=%ld per_walk=%ld seconds=%.6f", n, total, per_walk, t1 - t0);
	if (table)
		printf(" columns=%d", ncols);
	printf("\n");
	snmp_close(ss);
	snmp_shutdown("walkloop");
	return 0;
}
