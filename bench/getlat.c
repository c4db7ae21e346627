/* getlat.c: GET latency of an agent, one GET every INTERVAL_MS for SECONDS, from one process.
 *
 *   getlat HOST:PORT COMMUNITY SECONDS INTERVAL_MS OID...
 *
 * Each GET asks for all OIDs in one PDU and waits for its answer (timeout 1 s, no retry) before the next one is due.
 * prints: gets=N timeouts=T p50_ms=.. p99_ms=.. max_ms=..
 *
 * Why not snmpget in a loop: process start-up and MIB loading take longer than the GET itself. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	netsnmp_session s, *ss;
	double seconds, interval, t0, *ms;
	long n = 0, timeouts = 0, cap;

	if (argc < 6) {
		fprintf(stderr, "usage: getlat HOST:PORT COMMUNITY SECONDS INTERVAL_MS OID...\n");
		return 2;
	}
	seconds = atof(argv[3]);
	interval = atof(argv[4]) / 1000;
	cap = (long)(seconds / (interval > 0 ? interval : 0.001)) + 16;
	ms = calloc(cap, sizeof(*ms));
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	init_snmp("getlat");
	snmp_sess_init(&s);
	s.peername = argv[1];
	s.version = SNMP_VERSION_2c;
	s.community = (u_char *)argv[2];
	s.community_len = strlen(argv[2]);
	s.timeout = 1000000;
	s.retries = 0;
	if (!(ss = snmp_open(&s))) {
		snmp_sess_perror("getlat", &s);
		return 2;
	}
	t0 = now();
	for (double next = t0; now() - t0 < seconds && n < cap; next += interval) {
		netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET), *resp = NULL;
		double t;
		int st;

		for (int i = 5; i < argc; i++) {
			oid name[MAX_OID_LEN];
			size_t len = MAX_OID_LEN;

			if (!read_objid(argv[i], name, &len)) {
				fprintf(stderr, "getlat: bad OID %s\n", argv[i]);
				return 2;
			}
			snmp_add_null_var(pdu, name, len);
		}
		t = now();
		st = snmp_synch_response(ss, pdu, &resp);
		if (st == STAT_SUCCESS && resp && resp->errstat == SNMP_ERR_NOERROR)
			ms[n++] = (now() - t) * 1000;
		else
			timeouts++;
		if (resp)
			snmp_free_pdu(resp);
		if (next + interval > now())
			usleep((useconds_t)((next + interval - now()) * 1e6));
	}
	qsort(ms, n, sizeof(*ms), cmp_double);
	printf("gets=%ld timeouts=%ld p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", n, timeouts, n ? ms[n / 2] : 0,
	       n ? ms[(long)(n * 0.99) < n ? (long)(n * 0.99) : n - 1] : 0, n ? ms[n - 1] : 0);
	snmp_close(ss);
	return 0;
}
