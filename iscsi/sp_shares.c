/* sp_shares.c: seed 002's static and dynamic load balancing, failover selection and the reference selectors. */

/*
 * What the data plane must count for dynamic load balancing
 * ----------------------------------------------------------
 * The pseudocode [0035] cuts the share of a path whose ActualLBShare is
 * above its LoadBalancingShare by more than ChangeThreshold and gives the
 * points to the path with the lowest DifferenceLB.  "Actual above share"
 * is read as congestion ([0027]: ChangeThreshold "determines whether
 * congestion on a data path exists").  What "bytes" are fed in decides
 * whether that converges to the bandwidth ratio:
 *
 *  - Bytes dispatched, with a dispatcher that follows the shares strictly:
 *    actual == share every interval, nothing ever moves.
 *  - Bytes completed, with per-path queue limits and work-conserving
 *    dispatch (a full path's command goes to another path): the fast path
 *    soaks up the overflow, so its actual share is ABOVE its share and the
 *    pseudocode cuts the FAST path's share: it diverges, away from the
 *    bandwidth ratio, until the slow path holds everything.
 *  - Bytes pending (assigned to the path and not completed), sampled over
 *    the interval: by Little's law pending_i = rate_i * latency_i, and with
 *    the dispatcher following the shares rate_i is proportional to share_i,
 *    so actual_i = share_i * latency_i / (mean latency weighted by share).
 *    Actual exceeds share exactly when the path's latency is above the
 *    team's: a path whose share is more than its bandwidth can drain builds
 *    a backlog, its latency grows, it is cut.  The fixed point is equal
 *    latency on every path, which under a sustained queue depth is the
 *    bandwidth ratio (each path busy all the time, each taking commands as
 *    fast as it completes them).
 *
 * So the pseudocode is followed literally and DataPathBytes for the dynamic
 * step is the interval's sum of pending bytes: sp_lb_account() samples every
 * path's pending[dir] at each dispatch (O(paths), only under
 * SP_ALGO_DYNAMIC) and sp_lb_complete() retires bytes.  The data plane must:
 *  - call sp_lb_account() when it assigns a command to a path, even if the
 *    command then waits in that path's own queue, and sp_lb_complete() when
 *    it completes (or is pulled off a failed path for re-issue);
 *  - not redirect a command to another path because its chosen path is
 *    busy (e.g. by marking a path at its in-flight limit unusable while
 *    selecting): under SP_ALGO_DYNAMIC that is the work-conserving case
 *    above and moves shares the wrong way.  Let the command wait for its
 *    path instead (in a per-path queue, already accounted).
 * The static LoadBalancingValue keeps using dispatched bytes (bytes[]),
 * which is what [0022] describes.
 *
 * What to expect: tests/unit/test_shares.c simulates two paths with 1:3
 * service rates and queue depth 32, starting at 50/50.  With LBChange% 2 and
 * ChangeThreshold 5 the slow path's share walks 48, 46, ... and is within 5
 * points of 25 after 10 intervals, then stays in 22..30 for good, the team
 * running at ~97% of the two paths' sum.  It does not stop dead on 25/75:
 * at the exact ratio neither path gains or loses backlog, so whichever path
 * holds the backlog reads "congested" and is cut one step, and the backlog
 * moves back.  The shares hover within a few LBChange% steps of the
 * ratio.  Hence: a small LBChange% (1-5) and a TimerInterval long enough for
 * a backlog to move (several times queue depth * command size / path
 * bandwidth); a short interval overshoots (LBChange% 5 with an interval
 * that drains the queue only ~once swings 10..35).  Completed bytes fed in
 * instead diverge to 100/0 in the same simulation (also a test).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "iscsi/sp_shares.h"

__extension__ typedef unsigned __int128 bal_u128;
__extension__ typedef __int128 bal_s128;

static int dir_ok(int dir)
{
	return dir == SP_READ || dir == SP_WRITE;
}

static unsigned int npaths(const struct sp_lb_team *t)
{
	return t->npaths > SP_MAX_PATHS ? SP_MAX_PATHS : t->npaths;
}

/* The failover rules of sp_lb_failover_path(), on the facts one pass over the
 * paths gathered: sp_lb_select() gathers them in its own pass, so the hot path
 * walks the paths once. */
static inline int failover_pick(int mode, unsigned int usable, int first, int primary, int full, int any_full)
{
	if (usable == 0)
		return -1;
	if (mode == SP_MODE_FAILOVER)
		return primary >= 0 ? primary : first;
	if (usable == 1)
		return first;
	if (full >= 0)
		return full;
	if (any_full)
		return primary >= 0 ? primary : first;
	return -1;
}

/*
 * Failover carrier: the primary when usable, else the lowest-index usable
 * path ([0043]: "another network adapter").  A path with a 100% share is
 * the carrier by its share ([0047]) while it is usable; when it is down the
 * rest hold 0% and spreading I/O over them would not be failover, so the
 * primary (or the first usable) takes over as in mode FAILOVER.  With a
 * single usable path it carries everything whatever its share ([0047]).
 */
int sp_lb_failover_path(const struct sp_lb_team *t, int dir)
{
	unsigned int i, n = npaths(t), usable = 0;
	int first = -1, primary = -1, full = -1, any_full = 0;

	if (!dir_ok(dir))
		return -1;
	for (i = 0; i < n; i++) {
		const struct sp_lb_path *p = &t->path[i];

		if (p->share[dir] >= 100)
			any_full = 1;
		if (!p->usable)
			continue;
		usable++;
		if (first < 0)
			first = (int)i;
		if (p->primary && primary < 0)
			primary = (int)i;
		if (p->share[dir] >= 100 && full < 0)
			full = (int)i;
	}
	return failover_pick(t->mode, usable, first, primary, full, any_full);
}

static int select_rr(struct sp_lb_team *t)
{
	unsigned int k, n = npaths(t);

	if (n == 0)
		return -1;
	for (k = 0; k < n; k++) {
		unsigned int i = (t->rr_next + k) % n;

		if (t->path[i].usable) {
			t->rr_next = (i + 1) % n;
			return (int)i;
		}
	}
	return -1;
}

/*
 * Static selection, [0023]/[0026]: the largest (TotalTeamBytes /
 * DataPathBytes) * share.  TotalTeamBytes is common to every path, so the
 * comparison is share_a / bytes_a against share_b / bytes_b, done as the
 * exact cross-products share_a * bytes_b and share_b * bytes_a in 128 bits
 * (7 + 64 bits: cannot overflow, no rounding).  Zero bytes with a share > 0
 * is an infinite value: such a path wins, the lowest index first.  A 0%
 * share has value 0 and carries nothing while a usable path with a share
 * exists; if none has one (their paths are down), the usable paths count
 * as equal shares (fewest bytes wins) so I/O still spreads.
 *
 * Ties go to the lowest index: it is the pseudocode's own rule (step 3
 * sends on the first path whose value equals the maximum), it needs no
 * extra state, and it keeps selection sequences reproducible, which the
 * unit vectors rely on.
 *
 * Reference selectors: round-robin over usable paths; queue-length, the
 * fewest bytes in flight; service-time, the least (inflight + 1) * EWMA of
 * the service time.  Their ties also go to the lowest index.
 *
 * One pass over the paths gathers both what failover needs (see
 * sp_lb_failover_path(), same rules) and the algorithm's candidate: the data
 * plane calls this for every command.
 */
int sp_lb_select(struct sp_lb_team *t, int dir, uint32_t len)
{
	unsigned int i, n = npaths(t), usable = 0, any_full = 0;
	int first = -1, primary = -1, full = -1, best = -1, even = -1;
	int algo = t->algo;
	bal_u128 bs = 0, bb = 0;

	(void)len;
	if (!dir_ok(dir))
		return -1;
	for (i = 0; i < n; i++) {
		const struct sp_lb_path *p = &t->path[i];
		unsigned int s = p->share[dir];

		if (s >= 100)
			any_full = 1;
		if (!p->usable)
			continue;
		usable++;
		if (first < 0)
			first = (int)i;
		if (p->primary && primary < 0)
			primary = (int)i;
		if (s >= 100 && full < 0)
			full = (int)i;
		switch (algo) {
		case SP_ALGO_ROUND_ROBIN: break;
		case SP_ALGO_QUEUE_LENGTH:
			if (best < 0 || p->inflight_bytes < t->path[best].inflight_bytes)
				best = (int)i;
			break;
		case SP_ALGO_SERVICE_TIME: {
			bal_u128 v = ((bal_u128)p->inflight + 1) * p->ewma_service_ns;

			if (best < 0 || v < bs) {
				best = (int)i;
				bs = v;
			}
			break;
		}
		default:
			if (s > 0) {
				if (best < 0 || (bal_u128)s * bb > bs * p->bytes[dir]) {
					best = (int)i;
					bs = s;
					bb = p->bytes[dir];
				}
			} else if (best < 0 && (even < 0 || p->bytes[dir] < t->path[even].bytes[dir])) {
				/* Only needed while no path with a share is found. */
				even = (int)i;
			}
			break;
		}
	}
	if (usable == 0)
		return -1;
	{
		int fo = failover_pick(t->mode, usable, first, primary, full, any_full);

		if (fo >= 0)
			return fo;
	}
	if (algo == SP_ALGO_ROUND_ROBIN)
		return select_rr(t);
	return best >= 0 ? best : even;
}

void sp_lb_sample(struct sp_lb_team *t, int dir)
{
	unsigned int i, n = npaths(t);

	if (!dir_ok(dir))
		return;
	/* Every path, usable or not: a data plane that marks a full path
	 * unusable for the moment must not hide its backlog.  A failed path's
	 * pending bytes are gone once its commands are withdrawn, and the tick
	 * ignores paths that are down. */
	for (i = 0; i < n; i++)
		t->path[i].interval_bytes[dir] += t->path[i].pending[dir];
}

void sp_lb_account(struct sp_lb_team *t, int path, int dir, uint32_t len)
{
	struct sp_lb_path *p;

	if (path < 0 || (unsigned int)path >= npaths(t) || !dir_ok(dir))
		return;
	/* Sample before adding: the new command has not waited yet. */
	if (t->algo == SP_ALGO_DYNAMIC)
		sp_lb_sample(t, dir);
	p = &t->path[path];
	p->bytes[dir] += len;
	p->pending[dir] += len;
	p->inflight++;
	p->inflight_bytes += len;
}

void sp_lb_complete(struct sp_lb_team *t, int path, int dir, uint32_t len, uint64_t service_ns)
{
	struct sp_lb_path *p;

	if (path < 0 || (unsigned int)path >= npaths(t) || !dir_ok(dir))
		return;
	p = &t->path[path];
	/* Saturate: a data plane that reset counters must not wrap them. */
	p->pending[dir] -= p->pending[dir] < len ? p->pending[dir] : len;
	p->inflight_bytes -= p->inflight_bytes < len ? p->inflight_bytes : len;
	if (p->inflight)
		p->inflight--;
	if (service_ns == 0)
		return;
	/* EWMA with weight 1/8, in integers; the first sample seeds it. */
	if (p->ewma_service_ns == 0)
		p->ewma_service_ns = service_ns;
	else if (service_ns >= p->ewma_service_ns)
		p->ewma_service_ns += (service_ns - p->ewma_service_ns) / 8;
	else
		p->ewma_service_ns -= (p->ewma_service_ns - service_ns) / 8;
}

uint64_t sp_lb_lbv(const struct sp_lb_team *t, int dir, unsigned int path)
{
	unsigned int i, n = npaths(t);
	bal_u128 total = 0, v;
	const struct sp_lb_path *p;

	if (!dir_ok(dir) || path >= n)
		return 0;
	p = &t->path[path];
	if (p->share[dir] == 0)
		return 0;
	if (p->bytes[dir] == 0)
		return UINT64_MAX;
	for (i = 0; i < n; i++)
		total += t->path[i].bytes[dir];
	v = total * p->share[dir] / p->bytes[dir];
	return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

int sp_lb_validate_shares(const unsigned int *shares, unsigned int n)
{
	unsigned int i, sum = 0;

	if (!shares || n == 0 || n > SP_MAX_PATHS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (shares[i] > 100)
			return -EINVAL;
		sum += shares[i];
	}
	return sum == 100 ? 0 : -EINVAL;
}

/* New shares start a new ratio: old bytes would otherwise make the selector
 * pay back the previous split in a burst. */
static void restart_counts(struct sp_lb_team *t, int dir)
{
	unsigned int i, n = npaths(t);

	for (i = 0; i < n; i++) {
		t->path[i].bytes[dir] = 0;
		t->path[i].interval_bytes[dir] = 0;
	}
}

int sp_lb_set_shares(struct sp_lb_team *t, int dir, const unsigned int *shares)
{
	unsigned int i, n = npaths(t);
	int rc;

	if (!dir_ok(dir))
		return -EINVAL;
	rc = sp_lb_validate_shares(shares, n);
	if (rc)
		return rc;
	for (i = 0; i < n; i++) {
		t->path[i].share[dir] = shares[i];
		t->path[i].cfg_share[dir] = shares[i];
	}
	restart_counts(t, dir);
	return 0;
}

int sp_lb_validate_dynamic(const struct sp_lb_dynamic *p)
{
	if (!p)
		return -EINVAL;
	/* Below 10 ms an interval holds too few commands to measure a share;
	 * above an hour it never reacts. */
	if (p->timer_interval_ms < 10 || p->timer_interval_ms > 3600000)
		return -EINVAL;
	if (p->change_threshold > 100)
		return -EINVAL;
	if (p->lb_change_pct < 1 || p->lb_change_pct > 100)
		return -EINVAL;
	return 0;
}

/*
 * [0035], literally.  All quantities are kept multiplied by the interval's
 * TotalTeamBytes T so they stay exact integers:
 *   ActualLBShare * T = 100 * DataPathBytes
 *   DifferenceLB  * T = 100 * DataPathBytes - share * T
 * Step 2 reduces every path with share < actual and DifferenceLB >
 * ChangeThreshold.  The prose at [0033] (block 514) says the difference must
 * be LESS than the threshold; that would move shares on tiny differences and
 * freeze them on large ones, the opposite of the threshold's purpose in
 * [0027].  We follow the pseudocode's ">" (DESIGN.md: the pseudocode wins),
 * so a difference equal to the threshold does not move.
 *
 * Each reduction by LBChange% (clamped at the share itself, so never below
 * 0) is given to the path with the lowest DifferenceLB (negative values
 * included), ties to the highest ActualLBShare, then to the lowest index;
 * the differences are those of step 1, as in the pseudocode.  Moving points
 * keeps the sum at 100 and each share within 0..100.
 *
 * Only usable paths take part: a down path has no bytes and would look like
 * the most under-used one.  Nothing moves while failover is in effect (the
 * carrier's actual share is 100 by construction) or when the interval saw
 * no bytes.  Note that a share driven to 0 stays there: the path then gets
 * no I/O, so its actual share is 0 too and its difference 0.  That is the
 * pseudocode's own fixed point; the administrator's shares come back when
 * switching to static.
 */
int sp_lb_dynamic_tick(struct sp_lb_team *t, const struct sp_lb_dynamic *prm, int dir, unsigned int *actual)
{
	unsigned int i, n = npaths(t), moved = 0;
	bal_u128 total = 0;
	bal_s128 diff[SP_MAX_PATHS];
	int up = -1;

	if (!prm || !dir_ok(dir) || sp_lb_validate_dynamic(prm))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (t->path[i].usable)
			total += t->path[i].interval_bytes[dir];
	if (actual) {
		for (i = 0; i < SP_MAX_PATHS; i++)
			actual[i] = 0;
		for (i = 0; i < n && total; i++)
			if (t->path[i].usable)
				actual[i] = (unsigned int)((t->path[i].interval_bytes[dir] * (bal_u128)200 + total) /
				                           (2 * total));
	}
	if (total == 0 || sp_lb_failover_path(t, dir) >= 0)
		goto out;

	for (i = 0; i < n; i++) {
		const struct sp_lb_path *p = &t->path[i];

		if (!p->usable)
			continue;
		diff[i] = (bal_s128)p->interval_bytes[dir] * 100 - (bal_s128)p->share[dir] * (bal_s128)total;
		if (up < 0 || diff[i] < diff[up] ||
		    (diff[i] == diff[up] && p->interval_bytes[dir] > t->path[up].interval_bytes[dir]))
			up = (int)i;
	}
	for (i = 0; i < n; i++) {
		struct sp_lb_path *p = &t->path[i];
		bal_u128 b100 = (bal_u128)p->interval_bytes[dir] * 100;
		bal_u128 st = (bal_u128)p->share[dir] * total;
		unsigned int d;

		if (!p->usable || (int)i == up)
			continue;
		if (!(st < b100 && diff[i] > (bal_s128)prm->change_threshold * (bal_s128)total))
			continue;
		d = prm->lb_change_pct < p->share[dir] ? prm->lb_change_pct : p->share[dir];
		if (d == 0)
			continue;
		p->share[dir] -= d;
		t->path[up].share[dir] += d;
		moved++;
	}
	if (moved) {
		/* The new shares start a new static ratio. */
		for (i = 0; i < n; i++)
			t->path[i].bytes[dir] = 0;
		moved++; /* the raised path changed too */
	}
out:
	for (i = 0; i < n; i++)
		t->path[i].interval_bytes[dir] = 0;
	return (int)moved;
}

void sp_lb_switch_algo(struct sp_lb_team *t, int algo)
{
	unsigned int i, n = npaths(t), cfg[SP_MAX_PATHS];
	int dir;

	if (algo == t->algo)
		return;
	for (dir = SP_READ; dir <= SP_WRITE; dir++) {
		if (algo == SP_ALGO_STATIC) {
			/* Back to the administrator's shares, if they were ever
			 * set through sp_lb_set_shares (else keep what is live). */
			for (i = 0; i < n; i++)
				cfg[i] = t->path[i].cfg_share[dir];
			if (sp_lb_validate_shares(cfg, n) == 0)
				for (i = 0; i < n; i++)
					t->path[i].share[dir] = cfg[i];
		}
		/* Dynamic starts from the live shares. */
		restart_counts(t, dir);
	}
	t->algo = algo;
	t->rr_next = 0;
}
