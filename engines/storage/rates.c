/* rates.c: a session's transmission rates over a feedback window, from tgt's byte counter sampled every round. */
#include <string.h>

#include "engines/storage/storage.h"

void stor_window_start(struct stor_window *w, uint64_t bytes, uint64_t now_ms)
{
	memset(w, 0, sizeof(*w));
	w->start_bytes = w->last_bytes = bytes;
	w->start_ms = w->last_ms = now_ms;
	w->started = 1;
}

/* KiB/s of delta bytes over dt ms, saturating: a Gauge32 in the MIB. */
static uint32_t kib_per_s(uint64_t delta, uint64_t dt_ms)
{
	/* delta * 1000 overflows only past 16 EiB/1000: divide first then. */
	uint64_t r = delta <= UINT64_MAX / 1000u ? delta * 1000u / dt_ms / 1024u : delta / dt_ms * 1000u / 1024u;

	return r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

void stor_window_sample(struct stor_window *w, uint64_t bytes, uint64_t now_ms)
{
	uint32_t r;

	if (!w->started || bytes < w->last_bytes || now_ms < w->last_ms) {
		/* A counter that went back belongs to another session: what came before says nothing about it. */
		stor_window_start(w, bytes, now_ms);
		return;
	}
	if (now_ms - w->last_ms < 1)
		return;
	r = kib_per_s(bytes - w->last_bytes, now_ms - w->last_ms);
	if (!w->rounds || r > w->max_kib)
		w->max_kib = r;
	if (!w->rounds || r < w->min_kib)
		w->min_kib = r;
	w->rounds++;
	w->last_bytes = bytes;
	w->last_ms = now_ms;
}

void stor_window_close(struct stor_window *w, struct stor_rates *out)
{
	memset(out, 0, sizeof(*out));
	if (w->started && w->rounds) {
		out->valid = 1;
		out->max_kib = w->max_kib;
		out->min_kib = w->min_kib;
		out->bytes = w->last_bytes - w->start_bytes;
		out->avg_kib = kib_per_s(out->bytes, w->last_ms - w->start_ms);
	}
	if (w->started)
		stor_window_start(w, w->last_bytes, w->last_ms);
}
