/* clu_poll.c: GETs one object from N agents in parallel (one UDP request each, all in flight at once) and times it.
 *
 * usage: clu_poll COMMUNITY OID round K PEER...       K rounds; prints rounds=K median_ms=M min_ms=A max_ms=B
 *        clu_poll COMMUNITY OID until V TIMEOUT_S PEER...
 *            rounds until every peer answers an integer >= V; prints ms=T rounds=R first_answer_ms=F
 *            done_epoch_ms=E (T from the start of the first round to the answer that completed the set, F to the
 *            first answer of any peer, E that answer on the wall clock), or exits 1 on TIMEOUT_S with the peers
 *            still behind.
 *
 * Why one process with every request in flight: the anchor is what one parallel SNMP round to all peers costs,
 * which is what the sync itself does at boot; N snmpget processes would measure process start-up instead.
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXPEERS 1024

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct peer {
	void *sess;
	int answered;
	long value;
	double at; /* when its answer came */
};

static struct peer peers[MAXPEERS];
static int npeers;
static oid obj[MAX_OID_LEN];
static size_t objlen = MAX_OID_LEN;

static int on_reply(int op, netsnmp_session *s, int reqid, netsnmp_pdu *pdu, void *magic)
{
	struct peer *p = magic;

	(void)s;
	(void)reqid;
	if (op != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE || !pdu || pdu->errstat != SNMP_ERR_NOERROR || !pdu->variables)
		return 1;
	if (pdu->variables->type == ASN_INTEGER || pdu->variables->type == ASN_UNSIGNED ||
	    pdu->variables->type == ASN_GAUGE || pdu->variables->type == ASN_COUNTER)
		p->value = (long)*pdu->variables->val.integer;
	else
		p->value = -1;
	p->answered = 1;
	p->at = now_ms();
	return 1;
}

/* One round: every peer asked at once; returns 0 when all answered within limit_ms. */
static int round_once(double limit_ms)
{
	double deadline = now_ms() + limit_ms;
	int left = npeers;

	for (int i = 0; i < npeers; i++) {
		netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);

		peers[i].answered = 0;
		snmp_add_null_var(pdu, obj, objlen);
		if (!snmp_sess_async_send(peers[i].sess, pdu, on_reply, &peers[i])) {
			snmp_free_pdu(pdu);
			return -1;
		}
	}
	while (left > 0 && now_ms() < deadline) {
		fd_set fds;
		int maxfd = 0, block = 0;
		struct timeval tv = {0, 100000};

		FD_ZERO(&fds);
		for (int i = 0; i < npeers; i++)
			if (!peers[i].answered)
				snmp_sess_select_info(peers[i].sess, &maxfd, &fds, &tv, &block);
		tv.tv_sec = 0;
		tv.tv_usec = 10000;
		if (select(maxfd, &fds, NULL, NULL, &tv) > 0)
			for (int i = 0; i < npeers; i++)
				if (!peers[i].answered)
					snmp_sess_read(peers[i].sess, &fds);
		left = 0;
		for (int i = 0; i < npeers; i++)
			left += !peers[i].answered;
	}
	return left ? -1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *community, *mode;
	int first;

	if (argc < 6) {
		fprintf(stderr,
		        "usage: clu_poll COMMUNITY OID round K PEER... | COMMUNITY OID until V TIMEOUT_S PEER...\n");
		return 2;
	}
	community = argv[1];
	mode = argv[3];
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	init_snmp("clu_poll");
	if (!read_objid(argv[2], obj, &objlen)) {
		fprintf(stderr, "clu_poll: bad OID %s\n", argv[2]);
		return 2;
	}
	first = strcmp(mode, "until") == 0 ? 6 : 5;
	for (int i = first; i < argc && npeers < MAXPEERS; i++) {
		netsnmp_session s;

		snmp_sess_init(&s);
		s.version = SNMP_VERSION_2c;
		s.peername = argv[i];
		s.community = (u_char *)community;
		s.community_len = strlen(community);
		/* Retries are the caller's rounds. */
		s.timeout = 2000000;
		s.retries = 0;
		if (!(peers[npeers].sess = snmp_sess_open(&s))) {
			fprintf(stderr, "clu_poll: cannot open %s\n", argv[i]);
			return 1;
		}
		npeers++;
	}
	if (strcmp(mode, "round") == 0) {
		int k = atoi(argv[4]);
		double *t = calloc((size_t)k, sizeof(*t));

		if (!t || k < 1)
			return 2;
		for (int r = 0; r < k; r++) {
			double t0 = now_ms();

			if (round_once(2000) < 0) {
				fprintf(stderr, "clu_poll: round %d: not every peer answered\n", r);
				return 1;
			}
			t[r] = now_ms() - t0;
		}
		qsort(t, (size_t)k, sizeof(*t), cmp_double);
		printf("rounds=%d median_ms=%.3f min_ms=%.3f max_ms=%.3f\n", k, t[k / 2], t[0], t[k - 1]);
		return 0;
	}
	if (strcmp(mode, "until") == 0) {
		long want = atol(argv[4]);
		double t0 = now_ms(), limit = t0 + atof(argv[5]) * 1e3, last = 0, first_answer = 0;
		/* CLU_POLL_ROUND_MS: how long a round waits for the missing answers (100 ms; a restarting peer is asked
		 * again this often, so it bounds the resolution of a boot time). */
		double round_ms = getenv("CLU_POLL_ROUND_MS") ? atof(getenv("CLU_POLL_ROUND_MS")) : 100;
		int rounds = 0, reached[MAXPEERS] = {0};
		double at[MAXPEERS] = {0};

		/* A peer counts from the first answer at the wanted version: versions only grow. */
		while (now_ms() < limit) {
			int behind = 0;

			/* A peer not up yet drops the request: the next round asks again soon, not after a timeout. */
			round_once(round_ms);
			rounds++;
			for (int i = 0; i < npeers; i++) {
				if (!first_answer && peers[i].answered)
					first_answer = peers[i].at;
				if (!reached[i] && peers[i].answered && peers[i].value >= want) {
					reached[i] = 1;
					at[i] = peers[i].at;
				}
				behind += !reached[i];
			}
			if (!behind) {
				for (int i = 0; i < npeers; i++)
					if (at[i] > last)
						last = at[i];
				struct timespec rt;

				/* Also on the wall clock, so a caller can time from an event it stamped itself (the
				 * SET). */
				clock_gettime(CLOCK_REALTIME, &rt);
				printf("ms=%.1f rounds=%d first_answer_ms=%.1f done_epoch_ms=%.1f\n", last - t0, rounds,
				       first_answer - t0, rt.tv_sec * 1e3 + rt.tv_nsec / 1e6 - (now_ms() - last));
				return 0;
			}
		}
		for (int i = 0; i < npeers; i++)
			if (!reached[i])
				fprintf(stderr, "clu_poll: %s still at %ld\n", argv[first + i], peers[i].value);
		return 1;
	}
	return 2;
}
