/* state_bench.c: SET PDUs per second against the state store at a given row count, and the longest stall of one commit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/state.h"

/*
 * Built twice by bench/state.sh: against common/state.c (journal) and
 * against the whole-file state.c of the anchor commit.  So it uses only the
 * API both have: open, set, commit, close.
 *
 * One "PDU" changes CHANGES rows (default 1; 10 for a ten-varbind PDU)
 * and commits once.  Rows look like the agent's: "login.cred.N" with
 * ~100 bytes of hex.  The store is preloaded (and committed) with ROWS
 * rows before the clock starts.
 */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void row_value(char *out, size_t len, unsigned long gen, unsigned long row)
{
	snprintf(out, len, "user=u%lu;secret=%016lx%016lx%016lx;gen=%lu;pad=0123456789abcdef", row, row * 2654435761ul,
	         gen * 40503ul, row ^ gen, gen);
}

int main(int argc, char **argv)
{
	struct cm_state *st;
	unsigned long rows, changes, pdus = 0, gen = 1;
	double secs, t0, t, worst = 0, first_commit;
	char key[64], val[160];
	int rc;

	if (argc != 6) {
		fprintf(stderr, "usage: %s STATEFILE ROWS CHANGES_PER_PDU SECONDS LABEL\n", argv[0]);
		return 2;
	}
	rows = strtoul(argv[2], NULL, 10);
	changes = strtoul(argv[3], NULL, 10);
	secs = atof(argv[4]);
	if ((rc = cm_state_open(argv[1], &st, NULL)) < 0) {
		fprintf(stderr, "open: %s\n", strerror(-rc));
		return 1;
	}
	for (unsigned long i = 0; i < rows; i++) {
		snprintf(key, sizeof(key), "login.cred.%lu", i + 1);
		row_value(val, sizeof(val), 0, i + 1);
		if (cm_state_set(st, key, val) < 0)
			return 1;
	}
	t = now();
	if ((rc = cm_state_commit(st)) < 0) {
		fprintf(stderr, "preload commit: %s\n", strerror(-rc));
		return 1;
	}
	first_commit = now() - t;

	/* Rows picked with a stride, so successive PDUs touch different rows. */
	t0 = now();
	do {
		double c;

		for (unsigned long j = 0; j < changes; j++) {
			unsigned long r = (pdus * changes + j) * 7919 % rows + 1;

			snprintf(key, sizeof(key), "login.cred.%lu", r);
			row_value(val, sizeof(val), gen, r);
			if (cm_state_set(st, key, val) < 0)
				return 1;
		}
		c = now();
		if ((rc = cm_state_commit(st)) < 0) {
			fprintf(stderr, "commit: %s\n", strerror(-rc));
			return 1;
		}
		t = now();
		if (t - c > worst)
			worst = t - c;
		pdus++;
		gen++;
	} while (t - t0 < secs);
#ifdef STATE_JOURNAL
	/* The stall a compaction costs the loop: starting one in the
	 * background (fork), against doing it in place. */
	{
		double f, bg, sync;

		f = now();
		if ((rc = cm_state_compact_background(st)) < 0) {
			fprintf(stderr, "background compaction: %s\n", strerror(-rc));
			return 1;
		}
		bg = now() - f;
		cm_state_close(st); /* waits for the child */
		if ((rc = cm_state_open(argv[1], &st, NULL)) < 0)
			return 1;
		f = now();
		if ((rc = cm_state_compact(st)) < 0)
			return 1;
		sync = now() - f;
		printf("compaction %lu %.2f %.2f\n", rows, bg * 1e3, sync * 1e3);
	}
#endif
	cm_state_close(st);
	/* label rows pdus seconds pdus/s worst-commit-ms full-write-ms */
	printf("%s %lu %lu %.3f %.1f %.2f %.2f\n", argv[5], rows, pdus, t - t0, pdus / (t - t0), worst * 1e3,
	       first_commit * 1e3);
	return 0;
}
