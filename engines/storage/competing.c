/* competing.c: the seed's "significant imbalance" among the sessions of one target portal (seed 000 Fig. 2). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engines/storage/storage.h"

/* One initiator's part of the portal: its sessions summed (a team may hold several). */
struct part {
	const char *initiator;
	uint64_t bytes;
	uint64_t avg_kib;
};

static int part_cmp(const void *a, const void *b)
{
	const struct part *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->initiator, y->initiator); /* ties: a stable order, so the same group names the same offender */
}

int stor_competing_judge(const struct stor_member *m, size_t n, const struct stor_competing_cfg *c,
                         struct stor_request_msg *out)
{
	struct part *p;
	size_t np = 0, off = 0;
	uint64_t total = 0;
	int flagged = 0;

	memset(out, 0, sizeof(*out));
	if (n < 2)
		return 0;
	if (!(p = calloc(n, sizeof(*p))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < np && strcmp(p[k].initiator, m[i].initiator) != 0; k++)
			;
		if (k == np)
			p[np++].initiator = m[i].initiator;
		p[k].bytes += m[i].bytes;
		p[k].avg_kib += m[i].avg_kib;
		total += m[i].bytes;
	}
	qsort(p, np, sizeof(*p), part_cmp);
	if (np >= 2 && total > 0) {
		/* In double: byte counts of a long window times 100 may not fit 64 bits; the share is a rounded-down
		 * percent for the record, the comparison the exact one ("more than share_pct"). */
		out->share_pct = (unsigned int)((double)p[0].bytes * 100.0 / (double)total);
		if ((double)p[0].bytes * 100.0 > (double)c->share_pct * (double)total)
			for (size_t k = 1; k < np && !flagged; k++)
				/* An idle one counts too: from the target's side, an initiator that gets nothing
				 * through and one that asks for nothing look the same within a window. */
				if (p[k].avg_kib < c->min_rate_kib) {
					flagged = 1;
					off = k;
				}
	}
	if (flagged) {
		size_t len = 0;

		snprintf(out->offender, sizeof(out->offender), "%s", p[0].initiator);
		snprintf(out->starved, sizeof(out->starved), "%s", p[off].initiator);
		for (size_t k = 0; k < np; k++) {
			int w = snprintf(out->initiators + len, sizeof(out->initiators) - len, "%s%s", k ? " " : "",
			                 p[k].initiator);

			if (w < 0 || (size_t)w >= sizeof(out->initiators) - len) {
				out->initiators[len] = 0; /* whole names only */
				break;
			}
			len += (size_t)w;
		}
	}
	free(p);
	return flagged;
}
