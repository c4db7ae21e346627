/* notify_flood.c: SNMPv3 authPriv informs of session feedback or rediscovery requests into a trap receiver, from many
 * simulated senders at a given rate; counts what was acknowledged.
 *
 *   notify_flood [-n COUNT] [-r RATE] [-s SENDERS] [-w WINDOW] [-t TIMEOUT_MS] [-R RETRIES] [-l LATENCY_US]
 *                PEER USER AUTH PRIV feedback|request TARGET ADDR_HEX PORT INITIATOR_PREFIX [OFFENDER]
 *
 * Each sender is its own net-snmp session (own UDP port, own engine discovery), as a storage or initiator agent
 * would be.  feedback: sanSessionFeedback for the session "INITIATOR_PREFIX:sN" of sender N over TARGET at
 * ADDR_HEX:PORT, with its bytes growing and latency LATENCY_US (-l, default 1000).  request: sanRediscoveryRequest
 * for TARGET at that portal naming OFFENDER.  Informs go out round robin over the senders at RATE per second
 * (0: as fast as the window allows), at most WINDOW unacknowledged per sender.
 *
 * Why not snmpinform in a loop: a process per notification (start-up, engine discovery, key localization) caps it
 * at tens per second, which would measure the tool.
 *
 * Prints: "flood sent=N acked=A failed=F resent=R seconds=S rate=R ack_p50_ms=.. ack_p99_ms=.. ack_max_ms=.."; exit 0
 * when every inform was acknowledged, 1 otherwise, 2 on a usage or set-up error. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#define FB_OID 1, 3, 6, 1, 4, 1, 32473, 1, 3, 4, 1, 12
#define NOTIF_OID 1, 3, 6, 1, 4, 1, 32473, 1, 3, 4, 0

struct sender {
	netsnmp_session *ss;
	int inflight;
	unsigned long long bytes;
};

struct pending {
	double sent_at;
	struct sender *s;
};

static long acked, failed, resent;
static double *ack_ms;
static long nack_ms;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct sender *senders;

static int on_reply(int op, netsnmp_session *ss, int reqid, netsnmp_pdu *pdu, void *magic)
{
	struct pending *p = magic;

	(void)ss;
	(void)reqid;
	(void)pdu;
	/* A retransmission after a timeout: the request stays pending. */
	if (op == NETSNMP_CALLBACK_OP_RESEND) {
		resent++;
		return 1;
	}
	p->s->inflight--;
	if (op == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE) {
		acked++;
		ack_ms[nack_ms++] = (now() - p->sent_at) * 1000;
	} else {
		failed++;
	}
	free(p);
	return 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void add_fb(netsnmp_pdu *pdu, oid col, u_char type, const char *value)
{
	oid name[] = {FB_OID, col, 0};

	snmp_add_var(pdu, name, OID_LENGTH(name), type, value);
}

int main(int argc, char **argv)
{
	long count = 1000, window = 8, timeout_ms = 2000, retries = 2, latency = 1000, nsenders = 1;
	double rate = 0;
	int opt;

	while ((opt = getopt(argc, argv, "n:r:s:w:t:R:l:")) != -1) {
		switch (opt) {
		case 'n': count = atol(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 's': nsenders = atol(optarg); break;
		case 'w': window = atol(optarg); break;
		case 't': timeout_ms = atol(optarg); break;
		case 'R': retries = atol(optarg); break;
		case 'l': latency = atol(optarg); break;
		default: return 2;
		}
	}
	if (argc - optind < 9 || nsenders < 1 || window < 1 || count < 0) {
		fprintf(stderr,
		        "usage: notify_flood [-n COUNT] [-r RATE] [-s SENDERS] [-w WINDOW] [-t TIMEOUT_MS] "
		        "[-R RETRIES] [-l LATENCY_US] PEER USER AUTH PRIV feedback|request TARGET ADDR_HEX PORT "
		        "INITIATOR_PREFIX [OFFENDER]\n");
		return 2;
	}
	const char *peer = argv[optind], *user = argv[optind + 1], *auth = argv[optind + 2], *priv = argv[optind + 3];
	int request = strcmp(argv[optind + 4], "request") == 0;
	const char *target = argv[optind + 5], *addr = argv[optind + 6], *port = argv[optind + 7];
	const char *prefix = argv[optind + 8], *offender = argc - optind > 9 ? argv[optind + 9] : "";

	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	init_snmp("notify_flood");
	senders = calloc(nsenders, sizeof(*senders));
	ack_ms = calloc(count ? count : 1, sizeof(*ack_ms));
	for (long i = 0; i < nsenders; i++) {
		netsnmp_session s;

		snmp_sess_init(&s);
		s.peername = (char *)peer;
		s.version = SNMP_VERSION_3;
		s.securityName = (char *)user;
		s.securityNameLen = strlen(user);
		s.securityLevel = SNMP_SEC_LEVEL_AUTHPRIV;
		s.securityAuthProto = snmp_duplicate_objid(usmHMACSHA1AuthProtocol, USM_AUTH_PROTO_SHA_LEN);
		s.securityAuthProtoLen = USM_AUTH_PROTO_SHA_LEN;
		s.securityAuthKeyLen = USM_AUTH_KU_LEN;
		s.securityPrivProto = snmp_duplicate_objid(usmAESPrivProtocol, USM_PRIV_PROTO_AES_LEN);
		s.securityPrivProtoLen = USM_PRIV_PROTO_AES_LEN;
		s.securityPrivKeyLen = USM_PRIV_KU_LEN;
		if (generate_Ku(s.securityAuthProto, s.securityAuthProtoLen, (u_char *)auth, strlen(auth),
		                s.securityAuthKey, &s.securityAuthKeyLen) != SNMPERR_SUCCESS ||
		    generate_Ku(s.securityAuthProto, s.securityAuthProtoLen, (u_char *)priv, strlen(priv),
		                s.securityPrivKey, &s.securityPrivKeyLen) != SNMPERR_SUCCESS) {
			fprintf(stderr, "notify_flood: cannot derive keys\n");
			return 2;
		}
		s.timeout = timeout_ms * 1000L;
		s.retries = retries;
		/* Engine discovery happens here, one probe per sender, before the clock starts. */
		senders[i].ss = snmp_open(&s);
		free(s.securityAuthProto);
		free(s.securityPrivProto);
		if (!senders[i].ss) {
			snmp_sess_perror("notify_flood: snmp_open", &s);
			return 2;
		}
	}

	double t0 = now();
	long sent = 0, next = 0;

	while (sent < count || acked + failed < sent) {
		double t = now();
		/* Send what the rate allows by now, round robin, within each sender's window. */
		while (sent < count && (rate <= 0 || sent < (long)((t - t0) * rate) + 1)) {
			struct sender *s = &senders[next];
			char ini[256], lat[32], bytes[32];
			netsnmp_pdu *pdu;
			oid uptime[] = {1, 3, 6, 1, 2, 1, 1, 3, 0}, trapoid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};
			oid notif[] = {NOTIF_OID, request ? 2 : 1};
			struct pending *pend;

			if (s->inflight >= window)
				break;
			pdu = snmp_pdu_create(SNMP_MSG_INFORM);
			snmp_add_var(pdu, uptime, OID_LENGTH(uptime), 't', "0");
			snmp_pdu_add_variable(pdu, trapoid, OID_LENGTH(trapoid), ASN_OBJECT_ID, notif, sizeof(notif));
			snprintf(ini, sizeof(ini), "%s:s%ld", prefix, next);
			if (!request)
				add_fb(pdu, 1, 's', ini);
			add_fb(pdu, 2, 's', target);
			add_fb(pdu, 3, 'i', "1");
			add_fb(pdu, 4, 'x', addr);
			add_fb(pdu, 5, 'u', port);
			if (request) {
				add_fb(pdu, 13, 's', offender);
				add_fb(pdu, 14, 'i', "1");
			} else {
				s->bytes += 1048576;
				snprintf(lat, sizeof(lat), "%ld", latency);
				snprintf(bytes, sizeof(bytes), "%llu", s->bytes);
				add_fb(pdu, 10, 'u', lat);
				add_fb(pdu, 11, 'C', bytes);
			}
			if (!(pend = malloc(sizeof(*pend)))) {
				snmp_free_pdu(pdu);
				break;
			}
			pend->sent_at = now();
			pend->s = s;
			if (!snmp_async_send(s->ss, pdu, on_reply, pend)) {
				snmp_sess_perror("notify_flood: send", s->ss);
				snmp_free_pdu(pdu);
				free(pend);
				failed++;
			} else {
				s->inflight++;
			}
			sent++;
			next = (next + 1) % nsenders;
		}
		/* Wait for replies, timeouts, or the next send slot (at most 1 ms ahead at high rates). */
		int nfds = 0, block = 0;
		fd_set fds;
		struct timeval tv = {0, 1000};

		FD_ZERO(&fds);
		snmp_select_info(&nfds, &fds, &tv, &block);
		if (tv.tv_sec > 0 || tv.tv_usec > 1000) {
			tv.tv_sec = 0;
			tv.tv_usec = 1000;
		}
		int n = select(nfds, &fds, NULL, NULL, &tv);
		if (n > 0)
			snmp_read(&fds);
		else
			snmp_timeout();
	}
	double secs = now() - t0;

	qsort(ack_ms, nack_ms, sizeof(*ack_ms), cmp_double);
	printf("flood sent=%ld acked=%ld failed=%ld resent=%ld seconds=%.3f rate=%.0f ack_p50_ms=%.2f ack_p99_ms=%.2f "
	       "ack_max_ms=%.2f\n",
	       sent, acked, failed, resent, secs, secs > 0 ? sent / secs : 0, nack_ms ? ack_ms[nack_ms / 2] : 0,
	       nack_ms ? ack_ms[(long)(nack_ms * 0.99) < nack_ms ? (long)(nack_ms * 0.99) : nack_ms - 1] : 0,
	       nack_ms ? ack_ms[nack_ms - 1] : 0);
	fflush(stdout);
	for (long i = 0; i < nsenders; i++)
		snmp_close(senders[i].ss);
	snmp_shutdown("notify_flood");
	return acked == sent ? 0 : 1;
}
