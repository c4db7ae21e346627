/* sp_suspect.c: libsanpath's suspect state: a path that stops answering takes no new commands, its reads are hedged. */
#include "iscsi/sp_team_private.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define TAG "sanpath"
#define MS (1000000ull)
#define NLAT (sizeof(((struct sp_path *)0)->lat_us) / sizeof(uint32_t))
/* The p99 is recomputed at most this often: a sort of NLAT values. */
#define RECOMPUTE_NS (50 * MS)

static int handling_on(const struct sp_path *p)
{
	return p->team->o.suspect;
}

/*
 * Why a suspect state at all: detection (NOP-Out timeout, command timeout)
 * takes most of a second by design, so that a slow path is not failed over
 * for nothing.  Meanwhile every selector keeps handing the dead path its
 * share of new commands, and with a bounded queue depth the application's
 * whole window ends up waiting there: the healthy paths go idle too.  A
 * path that has not answered for several times its own recent p99 stops
 * taking new commands (cheap and reversible) long before it is declared
 * dead (expensive: session teardown, reconnect).
 */

static int other_answered_since(const struct sp_path *p, uint64_t since)
{
	for (unsigned int i = 0; i < p->team->npaths; i++)
		if (&p->team->path[i] != p && p->team->path[i].t_answer > since)
			return 1;
	return 0;
}

void sp_suspect_note_latency(struct sp_path *p, uint64_t lat_ns)
{
	uint64_t floor = (uint64_t)p->team->o.suspect_floor_ms * MS;
	uint64_t cap = p->threshold_ns > floor ? p->threshold_ns : floor, us, now = sp_now_ns(), silence;

	/* The answered command was in flight since before the last answer: the path said nothing for that long
	 * while it owed something and another path answered meanwhile, i.e. what the suspect check would judge
	 * (counted with or without suspect handling, so the anchor run shows them too). */
	silence = p->t_answer && now > p->t_answer ? now - p->t_answer : 0;
	if (lat_ns < silence)
		silence = lat_ns;
	if (silence && !other_answered_since(p, now - silence))
		silence = 0;
	if (silence > p->silence_max_ns)
		p->silence_max_ns = silence;
	p->silences_20ms += silence > 20 * MS;
	p->silences_50ms += silence > 50 * MS;

	/* Late answers after a silence are clamped at the threshold in force:
	 * otherwise one episode's second-long latencies would make the p99 (and
	 * the threshold, k times it) huge until 128 normal answers push them
	 * out, and the next silence would go unnoticed.  A path whose latency
	 * really grew still gets there: the threshold may grow k-fold per
	 * recomputation while more than 1% of the answers reach it. */
	if (handling_on(p) && lat_ns > cap)
		lat_ns = cap;
	us = lat_ns / 1000;

	p->t_answer = now;
	p->lat_us[p->lat_pos] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	p->lat_pos = (p->lat_pos + 1) % (unsigned int)NLAT;
	if (p->lat_n < NLAT)
		p->lat_n++;
	p->lat_new++;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* max(k x p99 of the last NLAT answers (commands and NOP-Outs), floor). */
static uint64_t threshold(struct sp_path *p, uint64_t now)
{
	struct sp_team *t = p->team;
	uint64_t floor = (uint64_t)t->o.suspect_floor_ms * MS, thr;
	uint32_t v[NLAT];

	if (p->lat_new && (!p->t_threshold || now - p->t_threshold >= RECOMPUTE_NS)) {
		memcpy(v, p->lat_us, p->lat_n * sizeof(v[0]));
		qsort(v, p->lat_n, sizeof(v[0]), cmp_u32);
		thr = (uint64_t)v[(p->lat_n * 99 + 99) / 100 - 1] * 1000 * (t->o.suspect_k ? t->o.suspect_k : 1);
		p->threshold_ns = thr;
		p->lat_new = 0;
		p->t_threshold = now;
	}
	return p->threshold_ns > floor ? p->threshold_ns : floor;
}

/* Age of the oldest thing the path owes an answer for: a command (hedged
 * and orphaned copies included: the path has not answered them either) or
 * a NOP-Out. */
static uint64_t oldest(const struct sp_path *p, uint64_t now)
{
	uint64_t age = p->nop_outstanding && now > p->t_nop_sent ? now - p->t_nop_sent : 0;
	unsigned int i;

	for (i = 0; i < p->team->o.max_inflight && p->slots; i++) {
		const struct sp_slot *s = &p->slots[i];

		if ((s->io || s->orphan) && now > s->t_issue && now - s->t_issue > age)
			age = now - s->t_issue;
	}
	return age;
}

static int in_service(const struct sp_path *p)
{
	return p->state == SP_PATH_ACTIVE && p->ctx && !p->fail_pending && !p->refuse_pending;
}

/* Another path in service is not late too: it answered something in the
 * last `age`, or owes nothing that old.  Silence is judged against the
 * team, not the clock alone: when the whole box stalls (the target or this
 * process not scheduled) every busy path is late together and none is
 * suspect.  An idle path counts as healthy: when every command of the
 * application waits on the sick path, the others have nothing to answer. */
static int others_fine(const struct sp_team *t, const struct sp_path *p, uint64_t now, uint64_t age)
{
	unsigned int i;

	for (i = 0; i < t->npaths; i++) {
		const struct sp_path *q = &t->path[i];

		if (q != p && in_service(q) && !q->suspect && (q->t_answer > now - age || oldest(q, now) < age))
			return 1;
	}
	return 0;
}

static int answers_waiting(const struct sp_path *p)
{
	struct pollfd pfd = {.fd = iscsi_get_fd(p->ctx), .events = POLLIN};

	return pfd.fd >= 0 && poll(&pfd, 1, 0) > 0;
}

void sp_slot_orphan(struct sp_slot *s, unsigned char *buf)
{
	/* libiscsi reads data-in through s->iov on every receive: from now on
	 * the rest of this copy's data lands in buf, never in the caller's. */
	s->iov.iov_base = buf;
	s->bounce = buf;
	s->io = NULL;
	s->shadow = 0;
	s->orphan = 1;
}

void sp_suspect_release_shadow(struct sp_io *io)
{
	if (io->shadow) {
		sp_slot_orphan(io->shadow, io->hedge_buf);
		io->shadow = NULL;
	} else {
		free(io->hedge_buf);
	}
	io->hedge_buf = NULL;
}

/* Reads in flight on p are re-issued on the healthy paths; the first copy
 * stays in flight (the shadow) and whichever answers first completes the
 * read.  Writes stay: a write may not run twice while the old path could
 * still deliver it (sp_team_fence). */
static void hedge(struct sp_team *t, struct sp_path *p)
{
	unsigned int i;

	for (i = 0; i < t->o.max_inflight && p->slots; i++) {
		struct sp_slot *s = &p->slots[i];
		struct sp_io *io = s->io;

		if (!io || s->shadow || s->orphan || io->dir != SP_READ || io->shadow)
			continue;
		/* The loser's bounce buffer, taken now so that the race can
		 * always be settled without an allocation. */
		io->hedge_buf = malloc((size_t)io->nblocks * t->block_size);
		if (!io->hedge_buf)
			continue;
		io->shadow = s;
		s->shadow = 1;
		sp_team_unaccount(t, io);
		sp_team_push_head(t, io);
		p->hedged_reads++;
	}
}

static void enter(struct sp_team *t, struct sp_path *p, uint64_t now, uint64_t age, uint64_t thr)
{
	p->suspect = 1;
	p->t_suspect = now;
	p->suspects++;
	cm_log(CM_LOG_NOTICE, TAG,
	       "team %s path %d (%s) suspect: no answer for %llu ms (threshold %llu ms): no new commands, reads "
	       "re-issued elsewhere",
	       t->name, p->idx + 1, p->portal, (unsigned long long)(age / MS), (unsigned long long)(thr / MS));
	hedge(t, p);
}

static void leave(struct sp_team *t, struct sp_path *p, uint64_t now)
{
	p->suspect = 0;
	cm_log(CM_LOG_NOTICE, TAG, "team %s path %d (%s) answers again after %llu ms suspect: back in service", t->name,
	       p->idx + 1, p->portal, (unsigned long long)((now - p->t_suspect) / MS));
}

void sp_suspect_answered(struct sp_path *p, uint64_t now)
{
	struct sp_team *t = p->team;

	if (!p->suspect || !in_service(p) || oldest(p, now) > threshold(p, now))
		return;
	leave(t, p, now);
	sp_team_paths_changed(t);
}

void sp_suspect_clear(struct sp_path *p)
{
	p->suspect = 0;
}

void sp_suspect_check(struct sp_team *t, uint64_t now)
{
	unsigned int i;
	int changed = 0, healthy = 0;

	for (i = 0; i < t->npaths; i++) {
		struct sp_path *p = &t->path[i];
		uint64_t thr, age;

		if (!in_service(p) || !t->o.suspect) {
			if (p->suspect) {
				p->suspect = 0;
				changed = 1;
			}
			continue;
		}
		thr = threshold(p, now);
		age = oldest(p, now);
		/* A path with nowhere else to send its commands stays in service,
		 * and so does one whose answers are waiting in its socket (the
		 * loop was late, not the path). */
		if (!p->suspect && age > thr && others_fine(t, p, now, age) && !answers_waiting(p)) {
			enter(t, p, now, age, thr);
			changed = 1;
		} else if (p->suspect && age <= thr) {
			leave(t, p, now);
			changed = 1;
		}
	}
	for (i = 0; i < t->npaths; i++)
		if (in_service(&t->path[i]) && !t->path[i].suspect)
			healthy = 1;
	/* The healthy ones failed meanwhile: the suspects are all there is. */
	for (i = 0; i < t->npaths && !healthy; i++)
		if (t->path[i].suspect) {
			leave(t, &t->path[i], now);
			changed = 1;
		}
	if (changed)
		sp_team_paths_changed(t);
}
