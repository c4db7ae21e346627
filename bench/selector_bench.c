/* selector_bench.c: runs sp_lb_select() N times on a team of P paths so callgrind can count instructions per decision.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi/sp_shares.h"

#define QD 32 /* commands in flight: the reference selectors see live queues */

static const struct {
	const char *name;
	int algo;
} algos[] = {
    {"static", SP_ALGO_STATIC},   {"dynamic", SP_ALGO_DYNAMIC}, {"rr", SP_ALGO_ROUND_ROBIN},
    {"ql", SP_ALGO_QUEUE_LENGTH}, {"st", SP_ALGO_SERVICE_TIME},
};

int main(int argc, char **argv)
{
	static struct sp_lb_team t;
	unsigned int shares[SP_MAX_PATHS], n, i, left = 100;
	unsigned long k, count;
	int ring[QD], algo = 0, p;
	uint32_t ring_len[QD];
	/* Mixed command sizes so the byte counters do not fall into a fixed cycle. */
	static const uint32_t lens[] = {4096, 65536, 8192, 512, 131072, 4096, 16384};

	if (argc != 4) {
		fprintf(stderr, "usage: %s PATHS static|dynamic|rr|ql|st DECISIONS\n", argv[0]);
		return 2;
	}
	n = (unsigned int)atoi(argv[1]);
	count = strtoul(argv[3], NULL, 10);
	for (i = 0; i < sizeof(algos) / sizeof(algos[0]); i++)
		if (!strcmp(argv[2], algos[i].name))
			algo = algos[i].algo;
	if (n < 1 || n > SP_MAX_PATHS || !algo) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	memset(&t, 0, sizeof(t));
	t.npaths = n;
	t.mode = SP_MODE_FAILOVER_LB;
	t.algo = SP_ALGO_STATIC;
	for (i = 0; i < n; i++) {
		t.path[i].usable = 1;
		/* Unequal shares summing to 100, the rest on the last path. */
		shares[i] = i + 1 < n ? 100 / n + (i % 2 ? 1 : -1) * (int)(i % 3) : left;
		left -= shares[i];
	}
	t.path[0].primary = 1;
	if (sp_lb_set_shares(&t, SP_READ, shares) || sp_lb_set_shares(&t, SP_WRITE, shares)) {
		fprintf(stderr, "bad shares\n");
		return 1;
	}
	sp_lb_switch_algo(&t, algo);
	for (k = 0; k < QD; k++)
		ring[k] = -1;
	for (k = 0; k < count; k++) {
		uint32_t len = lens[k % (sizeof(lens) / sizeof(lens[0]))];
		int *slot = &ring[k % QD];

		/* Retire the command issued QD decisions ago, then place a new one. */
		if (*slot >= 0)
			sp_lb_complete(&t, *slot, SP_READ, ring_len[k % QD], 1000 * (uint64_t)(*slot + 1));
		p = sp_lb_select(&t, SP_READ, len);
		if (p < 0)
			return 1;
		sp_lb_account(&t, p, SP_READ, len);
		*slot = p;
		ring_len[k % QD] = len;
	}
	printf("paths=%u algo=%s decisions=%lu path0_bytes=%llu\n", n, argv[2], count,
	       (unsigned long long)t.path[0].bytes[SP_READ]);
	return 0;
}
