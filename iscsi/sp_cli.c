/* sp_cli.c: sanpath, runs workloads on a multipath team (with verification) and reads/writes team segments. */
#include "iscsi/sp_shm.h"
#include "iscsi/sp_team.h"
#include "iscsi/sp_source.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define MS 1000000ull
#define STAMP_MAGIC 0x53414e5041544831ull /* "SANPATH1" */

enum { RW_READ, RW_WRITE, RW_MIX };
enum { PH_FILL, PH_MAIN, PH_DRAIN, PH_READBACK, PH_DONE };

struct worker {
	struct sp_io io;
	unsigned char *buf;
	int busy;
	uint64_t unit;
	uint32_t gen;
	struct job *job;
};

struct job {
	struct sp_team *team;
	int rw, rand, verify, phase, mix_read_pct;
	uint32_t bsz, bpi; /* LU block size, blocks per I/O */
	uint32_t iosz;
	uint64_t nunits, next_unit, cursor;
	uint32_t *expect; /* generation last written per unit (verify) */
	unsigned char *ubusy;
	uint32_t gen;
	uint64_t rng;
	uint64_t ops[2], errors, mismatches, checked, written;
	unsigned char *scratch;
	int first_error_logged;
	int aborted; /* an application-visible error ends the run */
	/* Failover stall: the longest gap between two completions in the main
	 * phase, what an application waiting on I/O would notice. */
	double t_last_done, max_gap, max_gap_at, t0;
	double gap_report; /* print every gap at least this long (s), 0: none */
};

static const char *io_strerror(int status)
{
	if (status == -ENOLINK)
		return "no path to the LU (no_path_retry expired)";
	return strerror(-status);
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Each LU block carries magic, its own LBA, the generation and a fill
 * derived from both: a block landing at the wrong LBA or an old generation
 * surviving a re-issued write both show. */
static void stamp(unsigned char *buf, uint64_t lba, uint32_t nblk, uint32_t bsz, uint32_t gen)
{
	uint32_t b, k;

	for (b = 0; b < nblk; b++) {
		uint64_t *w = (uint64_t *)(buf + (size_t)b * bsz);
		uint64_t seed = mix64((lba + b) * 0x9e3779b97f4a7c15ull ^ gen);

		w[0] = STAMP_MAGIC;
		w[1] = lba + b;
		w[2] = gen;
		for (k = 3; k < bsz / 8; k++)
			w[k] = seed = mix64(seed + k);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	default: break;
	}
	if (end == s || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_shares(const char *s, unsigned int *sh, unsigned int max)
{
	unsigned int n = 0;
	char *end;

	while (*s) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v > 100 || n >= max)
			return -EINVAL;
		sh[n++] = (unsigned int)v;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return -EINVAL;
	}
	return (int)n;
}

static int parse_algo(const char *s)
{
	static const char *const names[] = {"static", "dynamic", "rr", "ql", "st"};
	unsigned int i;

	for (i = 0; i < 5; i++)
		if (!strcmp(s, names[i]))
			return (int)i + SP_ALGO_STATIC;
	return -1;
}

static int parse_mode(const char *s)
{
	if (!strcmp(s, "failover"))
		return SP_MODE_FAILOVER;
	if (!strcmp(s, "lb"))
		return SP_MODE_FAILOVER_LB;
	return -1;
}

/* HOST:PORT[,iface=IF][,target=IQN][,lun=N] */
static int parse_portal(char *s, struct sp_path_opts *po)
{
	char *opt, *save = NULL;

	memset(po, 0, sizeof(*po));
	po->lun = -1;
	po->portal = strtok_r(s, ",", &save);
	if (!po->portal || !strchr(po->portal, ':'))
		return -EINVAL;
	while ((opt = strtok_r(NULL, ",", &save))) {
		if (!strncmp(opt, "iface=", 6)) {
			po->iface = opt + 6;
			/* Only the agent's data planes preload sanpath-bind.so. */
			if (sp_source_is_address(po->iface)) {
				fprintf(stderr, "sanpath: iface=%s: an interface name, not an address\n", po->iface);
				return -EINVAL;
			}
		} else if (!strncmp(opt, "target=", 7))
			po->target = opt + 7;
		else if (!strncmp(opt, "lun=", 4))
			po->lun = atoi(opt + 4);
		else
			return -EINVAL;
	}
	return 0;
}

/* ---- workload -------------------------------------------------------------- */

static void io_done(struct sp_io *io, int status, void *priv)
{
	struct worker *w = priv;
	struct job *j = w->job;

	w->busy = 0;
	j->ubusy[w->unit] = 0;
	if (j->phase == PH_MAIN) {
		double now = now_s();

		if (j->t_last_done > 0 && now - j->t_last_done > j->max_gap) {
			j->max_gap = now - j->t_last_done;
			j->max_gap_at = j->t_last_done - j->t0;
		}
		if (j->gap_report > 0 && j->t_last_done > 0 && now - j->t_last_done >= j->gap_report)
			printf("gap: at=%.3f ms=%.1f\n", j->t_last_done - j->t0, (now - j->t_last_done) * 1000.0);
		j->t_last_done = now;
	}
	if (status) {
		j->errors++;
		j->aborted = 1;
		if (!j->first_error_logged) {
			fprintf(stderr, "sanpath: %s at lba %llu failed: %s\n", io->dir == SP_READ ? "read" : "write",
			        (unsigned long long)io->lba, io_strerror(status));
			j->first_error_logged = 1;
		}
		return;
	}
	j->ops[io->dir]++;
	if (!j->verify)
		return;
	if (io->dir == SP_WRITE) {
		j->expect[w->unit] = w->gen;
		j->written++;
		return;
	}
	/* A read: check it against the generation last written there. */
	if (!j->expect[w->unit])
		return;
	stamp(j->scratch, io->lba, j->bpi, j->bsz, j->expect[w->unit]);
	j->checked++;
	if (memcmp(j->scratch, w->buf, j->iosz) != 0) {
		const uint64_t *g = (const uint64_t *)w->buf;

		if (j->mismatches < 5)
			fprintf(stderr,
			        "sanpath: verify mismatch at lba %llu: expected generation %u, found magic %s lba %llu "
			        "generation %llu\n",
			        (unsigned long long)io->lba, j->expect[w->unit], g[0] == STAMP_MAGIC ? "ok" : "bad",
			        (unsigned long long)g[1], (unsigned long long)g[2]);
		j->mismatches++;
	}
}

/* Picks the next unit that nothing in flight touches; returns 0 when the
 * phase has no more units to hand out. */
static int next_unit(struct job *j, uint64_t *u)
{
	uint64_t tries;

	if (j->phase == PH_FILL || j->phase == PH_READBACK) {
		while (j->cursor < j->nunits) {
			uint64_t c = j->cursor++;

			if (j->phase == PH_READBACK && !j->expect[c])
				continue;
			*u = c;
			return 1;
		}
		return 0;
	}
	for (tries = 0; tries < 64; tries++) {
		uint64_t c;

		if (j->rand) {
			c = xorshift(&j->rng) % j->nunits;
		} else {
			c = j->next_unit;
			j->next_unit = (j->next_unit + 1) % j->nunits;
		}
		if (!j->ubusy[c]) {
			*u = c;
			return 1;
		}
	}
	return -1; /* everything near is busy: try again next turn */
}

static int start_io(struct job *j, struct worker *w)
{
	uint64_t u;
	int dir, rc;

	rc = next_unit(j, &u);
	if (rc <= 0)
		return rc;
	if (j->phase == PH_FILL)
		dir = SP_WRITE;
	else if (j->phase == PH_READBACK)
		dir = SP_READ;
	else if (j->rw == RW_MIX)
		dir = (int)(xorshift(&j->rng) % 100) < j->mix_read_pct ? SP_READ : SP_WRITE;
	else
		dir = j->rw == RW_READ ? SP_READ : SP_WRITE;
	w->unit = u;
	w->io.dir = dir;
	w->io.lba = u * j->bpi;
	w->io.nblocks = j->bpi;
	w->io.buf = w->buf;
	w->io.cb = io_done;
	w->io.priv = w;
	if (dir == SP_WRITE) {
		w->gen = ++j->gen;
		if (j->verify)
			stamp(w->buf, w->io.lba, j->bpi, j->bsz, w->gen);
	}
	j->ubusy[u] = 1;
	w->busy = 1;
	rc = sp_team_submit(j->team, &w->io);
	if (rc) {
		w->busy = 0;
		j->ubusy[u] = 0;
		j->errors++;
		j->aborted = 1;
		if (!j->first_error_logged) {
			fprintf(stderr, "sanpath: cannot submit: %s\n", io_strerror(rc));
			j->first_error_logged = 1;
		}
		return -1;
	}
	return 1;
}

static int idle_all(const struct worker *w, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (w[i].busy)
			return 0;
	return 1;
}

static void print_tick(struct sp_team *t, double t0, uint64_t (*prev)[2])
{
	unsigned int i, n = sp_team_npaths(t);
	struct sp_path_info pi;
	int st = sp_team_state(t);

	printf("tick t=%.2f state=%s", now_s() - t0,
	       st == SP_TEAM_OPTIMAL    ? "optimal"
	       : st == SP_TEAM_DEGRADED ? "degraded"
	                                : "failed");
	for (i = 0; i < n; i++) {
		sp_team_path_info(t, i, &pi);
		printf(" p%u=%s:%llu:%llu", i + 1, sp_path_state_name(pi.state),
		       (unsigned long long)(pi.bytes[0] - prev[i][0]), (unsigned long long)(pi.bytes[1] - prev[i][1]));
		prev[i][0] = pi.bytes[0];
		prev[i][1] = pi.bytes[1];
	}
	/* The live shares (dynamic LB moves them), read then write. */
	for (i = 0; i < n; i++) {
		sp_team_path_info(t, i, &pi);
		printf("%s%u", i ? "/" : " shares_r=", pi.share[0]);
	}
	for (i = 0; i < n; i++) {
		sp_team_path_info(t, i, &pi);
		printf("%s%u", i ? "/" : " shares_w=", pi.share[1]);
	}
	printf("\n");
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: sanpath run --target IQN --lun N --portal HOST:PORT[,iface=IF][,target=IQN][,lun=N] ...\n"
	    "         [--shares-read A,B,..] [--shares-write A,B,..] [--algo static|dynamic|rr|ql|st]\n"
	    "         [--mode failover|lb] [--pattern seq|rand] [--rw read|write|mix] [--mix-read PCT]\n"
	    "         [--bs SIZE] [--qd N] [--time SECONDS] [--size BYTES] [--verify] [--shm-dir DIR] [--name TEAM]\n"
	    "         [--initiator IQN] [--max-inflight N] [--failback immediate|manual|SECONDS]\n"
	    "         [--nop-interval MS] [--nop-timeout MS] [--cmd-timeout MS] [--login-timeout MS]\n"
	    "         [--no-path-retry S] [--dyn-interval MS] [--dyn-threshold PTS] [--dyn-change PTS]\n"
	    "         [--report-ms MS] [--settle-ms MS] [--gap-report MS]\n"
	    "         [--suspect on|off] [--suspect-k K] [--suspect-floor MS]\n"
	    "         [--chap-user USER] [--chap-target-user USER] [--chap-file FILE]\n"
	    "       sanpath status --shm-dir DIR [--name TEAM]\n"
	    "       sanpath set --shm-dir DIR --name TEAM [--shares-read ..] [--shares-write ..] [--mode M]\n"
	    "         [--algo A] [--failback-now] [--logout-path N] [--login-path N]\n"
	    "         [--failback immediate|manual|SECONDS] [--portal HOST:PORT[,iface=IF]] (adds a path) "
	    "[--remove-path N]\n"
	    "CHAP secrets never go on the command line: they come from --chap-file (lines user=, secret=,\n"
	    "target_user=, target_secret=; mode 0600) or the environment (SANPATH_CHAP_SECRET,\n"
	    "SANPATH_CHAP_TARGET_SECRET).\n");
}

enum {
	O_TARGET = 256,
	O_LUN,
	O_PORTAL,
	O_SHR,
	O_SHW,
	O_ALGO,
	O_MODE,
	O_PATTERN,
	O_RW,
	O_BS,
	O_QD,
	O_TIME,
	O_VERIFY,
	O_SHM,
	O_NAME,
	O_INIT,
	O_MAXIF,
	O_FAILBACK,
	O_NOPI,
	O_NOPT,
	O_CMDT,
	O_LOGT,
	O_NPR,
	O_DYNI,
	O_DYNT,
	O_DYNC,
	O_REPORT,
	O_SIZE,
	O_MIXR,
	O_SETTLE,
	O_GAPS,
	O_FBNOW,
	O_CHAPU,
	O_CHAPTU,
	O_CHAPF,
	O_LOGOUT,
	O_LOGIN,
	O_RMPATH,
	O_SUSP,
	O_SUSPK,
	O_SUSPF,
	O_HELP,
};

static const struct option long_opts[] = {
    {"target", 1, NULL, O_TARGET},
    {"lun", 1, NULL, O_LUN},
    {"portal", 1, NULL, O_PORTAL},
    {"shares-read", 1, NULL, O_SHR},
    {"shares-write", 1, NULL, O_SHW},
    {"algo", 1, NULL, O_ALGO},
    {"mode", 1, NULL, O_MODE},
    {"pattern", 1, NULL, O_PATTERN},
    {"rw", 1, NULL, O_RW},
    {"bs", 1, NULL, O_BS},
    {"qd", 1, NULL, O_QD},
    {"time", 1, NULL, O_TIME},
    {"verify", 0, NULL, O_VERIFY},
    {"shm-dir", 1, NULL, O_SHM},
    {"name", 1, NULL, O_NAME},
    {"initiator", 1, NULL, O_INIT},
    {"max-inflight", 1, NULL, O_MAXIF},
    {"failback", 1, NULL, O_FAILBACK},
    {"failback-now", 0, NULL, O_FBNOW},
    {"nop-interval", 1, NULL, O_NOPI},
    {"nop-timeout", 1, NULL, O_NOPT},
    {"cmd-timeout", 1, NULL, O_CMDT},
    {"login-timeout", 1, NULL, O_LOGT},
    {"no-path-retry", 1, NULL, O_NPR},
    {"dyn-interval", 1, NULL, O_DYNI},
    {"dyn-threshold", 1, NULL, O_DYNT},
    {"dyn-change", 1, NULL, O_DYNC},
    {"report-ms", 1, NULL, O_REPORT},
    {"size", 1, NULL, O_SIZE},
    {"mix-read", 1, NULL, O_MIXR},
    {"settle-ms", 1, NULL, O_SETTLE},
    {"gap-report", 1, NULL, O_GAPS},
    {"chap-user", 1, NULL, O_CHAPU},
    {"chap-target-user", 1, NULL, O_CHAPTU},
    {"chap-file", 1, NULL, O_CHAPF},
    {"logout-path", 1, NULL, O_LOGOUT},
    {"login-path", 1, NULL, O_LOGIN},
    {"remove-path", 1, NULL, O_RMPATH},
    {"suspect", 1, NULL, O_SUSP},
    {"suspect-k", 1, NULL, O_SUSPK},
    {"suspect-floor", 1, NULL, O_SUSPF},
    {"help", 0, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct cli {
	struct sp_team_opts o;
	struct sp_path_opts po[SP_MAX_PATHS];
	char *portal_str[SP_MAX_PATHS];
	unsigned int npaths;
	int nshares[2];
	int rw, rand, verify, mix_read_pct;
	uint64_t bs, size;
	unsigned int qd, report_ms, settle_ms, gap_report_ms;
	double seconds;
	int failback_flag, mode_set, algo_set;
	struct sp_chap chap;
	const char *chap_file;
	int chap_user_set, chap_tuser_set;
	uint32_t logout_mask, login_mask; /* sanpath set: paths to log out / in */
	uint32_t remove_mask;             /* sanpath set: paths to take out of the team */
	int failback_set;
};

static int bad(const char *what, const char *val)
{
	fprintf(stderr, "sanpath: invalid %s '%s'\n", what, val ? val : "");
	return 2;
}

static int parse_args(struct cli *c, int argc, char **argv)
{
	int ch, v;
	uint64_t sz;

	while ((ch = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (ch) {
		case O_TARGET: c->o.target = optarg; break;
		case O_LUN: c->o.lun = atoi(optarg); break;
		case O_PORTAL:
			if (c->npaths >= SP_MAX_PATHS)
				return bad("portal count", optarg);
			if (!(c->portal_str[c->npaths] = strdup(optarg)))
				return bad("portal (out of memory)", optarg);
			if (parse_portal(c->portal_str[c->npaths], &c->po[c->npaths]))
				return bad("portal", optarg);
			c->npaths++;
			break;
		case O_SHR:
		case O_SHW:
			v = parse_shares(optarg, c->o.share[ch == O_SHR ? SP_READ : SP_WRITE], SP_MAX_PATHS);
			if (v <= 0)
				return bad("shares", optarg);
			c->nshares[ch == O_SHR ? 0 : 1] = v;
			break;
		case O_ALGO:
			if ((c->o.algo = parse_algo(optarg)) < 0)
				return bad("algorithm", optarg);
			c->algo_set = 1;
			break;
		case O_MODE:
			if ((c->o.mode = parse_mode(optarg)) < 0)
				return bad("mode", optarg);
			c->mode_set = 1;
			break;
		case O_PATTERN:
			if (strcmp(optarg, "seq") && strcmp(optarg, "rand"))
				return bad("pattern", optarg);
			c->rand = !strcmp(optarg, "rand");
			break;
		case O_RW:
			if (!strcmp(optarg, "read"))
				c->rw = RW_READ;
			else if (!strcmp(optarg, "write"))
				c->rw = RW_WRITE;
			else if (!strcmp(optarg, "mix"))
				c->rw = RW_MIX;
			else
				return bad("--rw", optarg);
			break;
		case O_BS:
			if (parse_size(optarg, &c->bs) || !c->bs || c->bs > (16u << 20))
				return bad("block size", optarg);
			break;
		case O_SIZE:
			if (parse_size(optarg, &c->size))
				return bad("size", optarg);
			break;
		case O_QD:
			c->qd = (unsigned int)atoi(optarg);
			if (!c->qd || c->qd > 4096)
				return bad("queue depth", optarg);
			break;
		case O_TIME: c->seconds = atof(optarg); break;
		case O_VERIFY: c->verify = 1; break;
		case O_SHM: c->o.shm_dir = optarg; break;
		case O_NAME: c->o.name = optarg; break;
		case O_INIT: c->o.initiator = optarg; break;
		case O_MAXIF: c->o.max_inflight = (unsigned int)atoi(optarg); break;
		case O_FBNOW: c->failback_flag = 1; break;
		case O_FAILBACK:
			c->failback_set = 1;
			if (!strcmp(optarg, "immediate")) {
				c->o.failback = SP_FAILBACK_IMMEDIATE;
			} else if (!strcmp(optarg, "manual")) {
				c->o.failback = SP_FAILBACK_MANUAL;
			} else {
				if (parse_size(optarg, &sz))
					return bad("failback", optarg);
				c->o.failback = SP_FAILBACK_DELAYED;
				c->o.failback_delay_ms = (unsigned int)(sz * 1000);
			}
			break;
		case O_NOPI: c->o.nop_interval_ms = (unsigned int)atoi(optarg); break;
		case O_NOPT: c->o.nop_timeout_ms = (unsigned int)atoi(optarg); break;
		case O_CMDT: c->o.cmd_timeout_ms = (unsigned int)atoi(optarg); break;
		case O_LOGT: c->o.login_timeout_ms = (unsigned int)atoi(optarg); break;
		case O_NPR: c->o.no_path_retry_s = (unsigned int)atoi(optarg); break;
		case O_DYNI: c->o.dyn.timer_interval_ms = (unsigned int)atoi(optarg); break;
		case O_DYNT: c->o.dyn.change_threshold = (unsigned int)atoi(optarg); break;
		case O_DYNC: c->o.dyn.lb_change_pct = (unsigned int)atoi(optarg); break;
		case O_REPORT: c->report_ms = (unsigned int)atoi(optarg); break;
		case O_SETTLE: c->settle_ms = (unsigned int)atoi(optarg); break;
		case O_GAPS: c->gap_report_ms = (unsigned int)atoi(optarg); break;
		case O_SUSP:
			if (strcmp(optarg, "on") && strcmp(optarg, "off"))
				return bad("--suspect", optarg);
			c->o.suspect = !strcmp(optarg, "on");
			break;
		case O_SUSPK:
			if (atoi(optarg) < 1)
				return bad("--suspect-k", optarg);
			c->o.suspect_k = (unsigned int)atoi(optarg);
			break;
		case O_SUSPF: c->o.suspect_floor_ms = (unsigned int)atoi(optarg); break;
		case O_CHAPU:
			if (strlen(optarg) > SP_CHAP_MAX || !*optarg)
				return bad("--chap-user", optarg);
			snprintf(c->chap.user, sizeof(c->chap.user), "%s", optarg);
			c->chap_user_set = 1;
			break;
		case O_CHAPTU:
			if (strlen(optarg) > SP_CHAP_MAX || !*optarg)
				return bad("--chap-target-user", optarg);
			snprintf(c->chap.target_user, sizeof(c->chap.target_user), "%s", optarg);
			c->chap_tuser_set = 1;
			break;
		case O_CHAPF: c->chap_file = optarg; break;
		case O_LOGOUT:
		case O_LOGIN:
		case O_RMPATH:
			v = atoi(optarg);
			if (v < 1 || v > SP_MAX_PATHS)
				return bad("path number", optarg);
			if (ch == O_LOGOUT)
				c->logout_mask |= 1u << (v - 1);
			else if (ch == O_LOGIN)
				c->login_mask |= 1u << (v - 1);
			else
				c->remove_mask |= 1u << (v - 1);
			break;
		case O_MIXR:
			c->mix_read_pct = atoi(optarg);
			if (c->mix_read_pct < 0 || c->mix_read_pct > 100)
				return bad("--mix-read", optarg);
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return 2;
		}
	}
	return 0;
}

/* CHAP from the file, then the command line's user names, then the secrets
 * from the environment (which is then cleared: children need not see it). */
static int chap_setup(struct cli *c)
{
	char user[SP_CHAP_MAX + 1], tuser[SP_CHAP_MAX + 1], why[512];
	const char *e;
	int rc;

	snprintf(user, sizeof(user), "%s", c->chap.user);
	snprintf(tuser, sizeof(tuser), "%s", c->chap.target_user);
	if (c->chap_file) {
		rc = sp_chap_file_read(c->chap_file, &c->chap, why, sizeof(why));
		if (rc) {
			fprintf(stderr, "sanpath: CHAP file %s\n", why);
			return 2;
		}
		if (c->chap_user_set)
			snprintf(c->chap.user, sizeof(c->chap.user), "%s", user);
		if (c->chap_tuser_set)
			snprintf(c->chap.target_user, sizeof(c->chap.target_user), "%s", tuser);
	}
	if ((e = getenv("SANPATH_CHAP_SECRET")) && *e && !c->chap.secret[0])
		snprintf(c->chap.secret, sizeof(c->chap.secret), "%s", e);
	if ((e = getenv("SANPATH_CHAP_TARGET_SECRET")) && *e && !c->chap.target_secret[0])
		snprintf(c->chap.target_secret, sizeof(c->chap.target_secret), "%s", e);
	unsetenv("SANPATH_CHAP_SECRET");
	unsetenv("SANPATH_CHAP_TARGET_SECRET");
	if (c->chap.user[0] && !c->chap.secret[0]) {
		fprintf(stderr, "sanpath: CHAP user given without a secret (--chap-file or SANPATH_CHAP_SECRET)\n");
		return 2;
	}
	if (c->chap.target_user[0] && (!c->chap.user[0] || !c->chap.target_secret[0])) {
		fprintf(stderr, "sanpath: mutual CHAP needs a CHAP user and secret and the target's secret "
		                "(--chap-file or SANPATH_CHAP_TARGET_SECRET)\n");
		return 2;
	}
	if (c->chap.user[0]) {
		c->o.chap_user = c->chap.user;
		c->o.chap_secret = c->chap.secret;
	}
	if (c->chap.target_user[0]) {
		c->o.chap_target_user = c->chap.target_user;
		c->o.chap_target_secret = c->chap.target_secret;
	}
	return 0;
}

static void isid_hex(const unsigned char *isid, char *out, size_t len)
{
	snprintf(out, len, "%02x%02x%02x%02x%02x%02x", isid[0], isid[1], isid[2], isid[3], isid[4], isid[5]);
}

/* ---- sanpath run, in steps ---------------------------------------------------- */

/* What one run holds besides the job: the workers (one per queue slot) and
 * each path's counters at the last tick. */
struct run {
	struct sp_team *team;
	struct job job;
	struct worker *w;
	uint64_t (*prev)[2];
	unsigned int npaths;
	int usable;
	uint64_t total[2]; /* commands of the main phase, per direction */
	double elapsed;    /* seconds of the main phase */
};

/* The options a run needs; 0, or 2 (usage error). */
static int run_check_args(const struct cli *c)
{
	if (!c->o.target || !c->npaths) {
		fprintf(stderr, "sanpath run: --target and at least one --portal are required\n");
		return 2;
	}
	for (int d = 0; d < 2; d++)
		if (c->nshares[d] && c->nshares[d] != (int)c->npaths) {
			fprintf(stderr, "sanpath: %s shares: %d values for %u paths\n", d ? "write" : "read",
			        c->nshares[d], c->npaths);
			return 2;
		}
	return 0;
}

/* Creates and starts the team and waits for its paths to settle, saying why
 * a path is refused or could not log in; 0, or 2 (r->team is then NULL). */
static int run_start_team(struct cli *c, struct run *r)
{
	struct sp_path_info pi;
	int rc, refused = 0;

	rc = sp_team_new(&r->team, &c->o);
	/* The team has its own copies. */
	sp_chap_wipe(&c->chap);
	if (rc) {
		fprintf(stderr, "sanpath: invalid team options: %s\n", strerror(-rc));
		r->team = NULL;
		return 2;
	}
	for (unsigned int i = 0; i < c->npaths; i++)
		if (sp_team_add_path(r->team, &c->po[i]) < 0)
			return bad("portal", c->po[i].portal);
	if (sp_team_start(r->team))
		goto fail;
	r->usable = sp_team_wait_settled(r->team, (int)c->settle_ms);
	r->npaths = sp_team_npaths(r->team);
	for (unsigned int i = 0; i < r->npaths; i++) {
		sp_team_path_info(r->team, i, &pi);
		if (pi.state == SP_PATH_REFUSED) {
			fprintf(stderr, "sanpath: path %u (%s) %s\n", i + 1, pi.portal, pi.last_error);
			refused = 1;
		}
		if (pi.login_result != SP_LOGIN_SUCCESS)
			fprintf(stderr, "sanpath: path %u (%s) login=%s(%d) status=0x%04x: %s\n", i + 1, pi.portal,
			        sp_login_result_name(pi.login_result), pi.login_result, pi.login_status,
			        pi.last_error[0] ? pi.last_error : "no login attempt finished");
	}
	if (r->usable > 0 && !refused)
		return 0;
	if (r->usable <= 0)
		fprintf(stderr, "sanpath: no usable path to %s lun %d\n", c->o.target, c->o.lun);
fail:
	sp_team_free(r->team);
	r->team = NULL;
	return 2;
}

/* The job's geometry from the LU and the options, and its buffers; 0, or 2. */
static int run_prepare_job(struct cli *c, struct run *r)
{
	struct job *j = &r->job;

	memset(j, 0, sizeof(*j));
	j->team = r->team;
	j->bsz = sp_team_block_size(r->team);
	if (!c->bs)
		c->bs = 4096;
	if (c->bs % j->bsz) {
		fprintf(stderr, "sanpath: --bs %llu is not a multiple of the LU block size %u\n",
		        (unsigned long long)c->bs, j->bsz);
		return 2;
	}
	j->bpi = (uint32_t)(c->bs / j->bsz);
	j->iosz = (uint32_t)c->bs;
	j->nunits = sp_team_nblocks(r->team) / j->bpi;
	if (c->size && c->size / c->bs < j->nunits)
		j->nunits = c->size / c->bs;
	if (!j->nunits) {
		fprintf(stderr, "sanpath: the LU is smaller than one I/O\n");
		return 2;
	}
	j->rw = c->rw;
	j->rand = c->rand;
	j->verify = c->verify;
	j->gap_report = c->gap_report_ms / 1000.0;
	j->mix_read_pct = c->mix_read_pct;
	j->rng = 0x2545f4914f6cdd1dull ^ (uint64_t)getpid();
	j->expect = calloc(j->nunits, sizeof(*j->expect));
	j->ubusy = calloc(j->nunits, 1);
	j->scratch = malloc(j->iosz);
	r->w = calloc(c->qd, sizeof(*r->w));
	r->prev = calloc(r->npaths, sizeof(*r->prev));
	if (!j->expect || !j->ubusy || !j->scratch || !r->w || !r->prev) {
		fprintf(stderr, "sanpath: out of memory\n");
		return 2;
	}
	for (unsigned int i = 0; i < c->qd; i++) {
		r->w[i].job = j;
		if (posix_memalign((void **)&r->w[i].buf, 4096, j->iosz)) {
			fprintf(stderr, "sanpath: out of memory\n");
			return 2;
		}
		memset(r->w[i].buf, 0, j->iosz);
	}
	return 0;
}

/* Starts I/O on every idle worker; 0 when the phase has no more to start. */
static int run_start_workers(struct cli *c, struct run *r)
{
	int more = 1;

	if (r->job.phase == PH_DRAIN || r->job.aborted || stop_flag)
		return more;
	for (unsigned int i = 0; i < c->qd; i++) {
		int rc;

		if (r->w[i].busy)
			continue;
		rc = start_io(&r->job, &r->w[i]);
		if (rc == 0)
			more = 0;
		if (rc <= 0)
			break;
	}
	return more;
}

/* The phases (fill for a verified read run, main, drain, read-back) until
 * done, the team polled between turns and a tick printed every report_ms. */
static void run_phases(struct cli *c, struct run *r)
{
	struct job *j = &r->job;
	double t0, t_main, t_end, next_tick;

	j->phase = (j->verify && j->rw == RW_READ) ? PH_FILL : PH_MAIN;
	t0 = now_s();
	j->t0 = t0;
	t_main = t0;
	t_end = t0 + c->seconds;
	r->elapsed = 0;
	next_tick = t0 + c->report_ms / 1000.0;
	while (j->phase != PH_DONE) {
		double now = now_s();
		int idle, more;

		if (j->phase == PH_MAIN && (now >= t_end || stop_flag || j->aborted))
			j->phase = PH_DRAIN;
		if ((j->phase == PH_FILL || j->phase == PH_READBACK) && (stop_flag || j->aborted) &&
		    idle_all(r->w, c->qd)) {
			if (!r->elapsed)
				r->elapsed = now_s() - t_main;
			j->phase = PH_DONE;
			break;
		}
		more = run_start_workers(c, r);
		idle = idle_all(r->w, c->qd);
		if (idle && j->phase == PH_FILL && !more) {
			j->phase = PH_MAIN;
			t_main = now_s();
			t_end = t_main + c->seconds;
		} else if (idle && j->phase == PH_DRAIN) {
			r->elapsed = now_s() - t_main;
			r->total[0] = j->ops[0];
			r->total[1] = j->ops[1];
			j->cursor = 0;
			j->phase = j->verify && !j->aborted && !stop_flag ? PH_READBACK : PH_DONE;
			continue;
		} else if (idle && j->phase == PH_READBACK && !more) {
			j->phase = PH_DONE;
			break;
		}
		sp_team_poll(r->team, 5);
		if (c->report_ms && now_s() >= next_tick) {
			print_tick(r->team, t0, r->prev);
			next_tick += c->report_ms / 1000.0;
		}
	}
	if (r->elapsed <= 0)
		r->elapsed = 1e-9;
}

/* One line per path: where its bytes went, its session, its errors. */
static void print_paths(struct sp_team *t, unsigned int n)
{
	struct sp_path_info pi;
	uint64_t tb[2] = {0, 0};

	for (unsigned int i = 0; i < n; i++) {
		sp_team_path_info(t, i, &pi);
		tb[0] += pi.bytes[0];
		tb[1] += pi.bytes[1];
	}
	for (unsigned int i = 0; i < n; i++) {
		char isid[16];

		sp_team_path_info(t, i, &pi);
		isid_hex(pi.isid, isid, sizeof(isid));
		printf("path %u: portal=%s state=%s role=%s share_read=%u share_write=%u read_bytes=%llu "
		       "write_bytes=%llu read_pct=%.2f write_pct=%.2f read_cmds=%llu write_cmds=%llu "
		       "failures=%llu "
		       "reconnects=%llu lat_us=%u max_lat_us=%u login=%s status=0x%04x isid=%s src=%s:%u "
		       "timeouts=%llu digest_errors=%llu admin_down=%d suspects=%llu hedged_reads=%llu "
		       "fenced_writes=%llu silence_max_us=%u silences_20ms=%llu silences_50ms=%llu%s%s\n",
		       i + 1, pi.portal, sp_path_state_name(pi.state),
		       pi.role == SP_ROLE_PRIMARY ? "primary" : "secondary", pi.share[0], pi.share[1],
		       (unsigned long long)pi.bytes[0], (unsigned long long)pi.bytes[1],
		       tb[0] ? 100.0 * (double)pi.bytes[0] / (double)tb[0] : 0.0,
		       tb[1] ? 100.0 * (double)pi.bytes[1] / (double)tb[1] : 0.0, (unsigned long long)pi.cmds[0],
		       (unsigned long long)pi.cmds[1], (unsigned long long)pi.failures,
		       (unsigned long long)pi.reconnects, pi.avg_latency_us, pi.max_latency_us,
		       sp_login_result_name(pi.login_result), pi.login_status, isid, pi.src_addr[0] ? pi.src_addr : "-",
		       pi.src_port, (unsigned long long)pi.timeout_errors, (unsigned long long)pi.digest_errors,
		       pi.admin_down, (unsigned long long)pi.suspects, (unsigned long long)pi.hedged_reads,
		       (unsigned long long)pi.fenced_writes, pi.silence_max_us, (unsigned long long)pi.silences_20ms,
		       (unsigned long long)pi.silences_50ms, pi.last_error[0] ? " last_error=" : "", pi.last_error);
	}
}

static void print_results(const struct run *r)
{
	const struct job *j = &r->job;

	printf("result: time=%.2fs ops=%llu iops=%.0f read_mbs=%.2f write_mbs=%.2f errors=%llu\n", r->elapsed,
	       (unsigned long long)(r->total[0] + r->total[1]), (double)(r->total[0] + r->total[1]) / r->elapsed,
	       (double)r->total[0] * j->iosz / r->elapsed / 1e6, (double)r->total[1] * j->iosz / r->elapsed / 1e6,
	       (unsigned long long)j->errors);
	print_paths(r->team, r->npaths);
	printf("stall: max_gap_ms=%.1f at=%.2f\n", j->max_gap * 1000.0, j->max_gap_at);
	if (j->verify)
		printf("verify: written=%llu checked=%llu mismatches=%llu\n", (unsigned long long)j->written,
		       (unsigned long long)j->checked, (unsigned long long)j->mismatches);
	fflush(stdout);
}

static void run_free(struct run *r, unsigned int qd)
{
	sp_team_free(r->team);
	for (unsigned int i = 0; r->w && i < qd; i++)
		free(r->w[i].buf);
	free(r->w);
	free(r->prev);
	free(r->job.expect);
	free(r->job.ubusy);
	free(r->job.scratch);
}

/* sanpath run: a team over the given paths, I/O for --time seconds, then the
 * results; 0, 1 (application errors or verify mismatches), 2 (no run). */
static int cmd_run(struct cli *c)
{
	struct run r;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = run_check_args(c)) != 0 || (rc = run_start_team(c, &r)) != 0)
		return rc;
	if ((rc = run_prepare_job(c, &r)) != 0) {
		run_free(&r, c->qd);
		return rc;
	}
	printf("sanpath: team %s: target %s lun %d, %d of %u paths verified, LU %llu x %u B, I/O %u B, qd %u\n",
	       c->o.name, c->o.target, c->o.lun, r.usable, r.npaths, (unsigned long long)sp_team_nblocks(r.team),
	       r.job.bsz, r.job.iosz, c->qd);
	fflush(stdout);
	run_phases(c, &r);
	print_results(&r);
	rc = r.job.errors || r.job.mismatches ? 1 : 0;
	run_free(&r, c->qd);
	return rc;
}

static int open_named(const char *dir, const char *name, int writable, struct sp_shm **s)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s%s", dir, name, SP_SHM_SUFFIX);
	return sp_shm_open(s, path, writable);
}

static void print_segment(struct sp_shm *s)
{
	struct sp_shm_seg g;
	unsigned int i;
	int stale = sp_shm_is_stale(s);

	sp_shm_snapshot(s, &g);
	printf("team %s: %s pid=%d target=%s lun=%u state=%s paths=%u read_bytes=%llu write_bytes=%llu "
	       "app_errors=%llu ctl_seq=%u ctl_applied=%u ctl_result=%d mode=%u algo=%u\n",
	       g.name, stale ? "STALE" : "live", g.pid, g.target, g.lun,
	       g.team_state == SP_TEAM_OPTIMAL    ? "optimal"
	       : g.team_state == SP_TEAM_DEGRADED ? "degraded"
	                                          : "failed",
	       g.npaths, (unsigned long long)g.total_bytes[0], (unsigned long long)g.total_bytes[1],
	       (unsigned long long)g.app_errors, g.ctl_seq, g.ctl_applied, g.ctl_result, g.ctl.mode, g.ctl.algo);
	for (i = 0; i < g.npaths && i < SP_SHM_MAX_PATHS; i++) {
		const struct sp_shm_path *p = &g.path[i];
		char isid[16];

		isid_hex(p->isid, isid, sizeof(isid));
		printf(
		    "  path %u: portal=%s state=%s role=%s share=%u/%u actual=%u/%u read_bytes=%llu write_bytes=%llu "
		    "errors=%llu lat_us=%u max_lat_us=%u login=%s(%u) status=0x%04x login_time=%llu isid=%s src=%s:%u "
		    "timeouts=%llu digest_errors=%llu admin_down=%u suspects=%u hold=%u dampings=%u last_error=%.*s\n",
		    i + 1, p->portal, sp_path_state_name((int)p->state),
		    p->role == SP_ROLE_PRIMARY ? "primary" : "secondary", p->share[0], p->share[1], p->actual_share[0],
		    p->actual_share[1], (unsigned long long)p->bytes[0], (unsigned long long)p->bytes[1],
		    (unsigned long long)p->errors, p->avg_latency_us, p->max_latency_us,
		    sp_login_result_name((int)p->login_result), p->login_result, p->login_status,
		    (unsigned long long)p->login_time, isid, p->src_addr[0] ? p->src_addr : "-", p->src_port,
		    (unsigned long long)p->timeout_errors, (unsigned long long)p->digest_errors, p->admin_down,
		    p->suspects, p->hold, p->dampings, (int)sizeof(p->last_error), p->last_error);
	}
}

static int cmd_status(struct cli *c)
{
	struct sp_shm *s;
	DIR *d;
	struct dirent *e;
	int rc, found = 0;

	if (!c->o.shm_dir) {
		fprintf(stderr, "sanpath status: --shm-dir is required\n");
		return 2;
	}
	if (c->o.name && strcmp(c->o.name, "team") != 0) {
		rc = open_named(c->o.shm_dir, c->o.name, 0, &s);
		if (rc) {
			fprintf(stderr, "sanpath: team %s: %s\n", c->o.name, strerror(-rc));
			return 1;
		}
		print_segment(s);
		sp_shm_close(s);
		return 0;
	}
	d = opendir(c->o.shm_dir);
	if (!d) {
		fprintf(stderr, "sanpath: %s: %s\n", c->o.shm_dir, strerror(errno));
		return 1;
	}
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name), sl = strlen(SP_SHM_SUFFIX);
		char path[4096];

		if (e->d_name[0] == '.' || l <= sl || strcmp(e->d_name + l - sl, SP_SHM_SUFFIX))
			continue;
		snprintf(path, sizeof(path), "%s/%s", c->o.shm_dir, e->d_name);
		if (sp_shm_open(&s, path, 0) == 0) {
			print_segment(s);
			sp_shm_close(s);
			found++;
		}
	}
	closedir(d);
	return found ? 0 : 1;
}

static int cmd_set(struct cli *c)
{
	struct sp_shm *s;
	struct sp_shm_ctl ctl;
	unsigned int i;
	int rc, d, tries;
	uint32_t seq;

	if (!c->o.shm_dir || !c->o.name) {
		fprintf(stderr, "sanpath set: --shm-dir and --name are required\n");
		return 2;
	}
	rc = open_named(c->o.shm_dir, c->o.name, 1, &s);
	if (rc) {
		fprintf(stderr, "sanpath: team %s: %s\n", c->o.name, strerror(-rc));
		return 1;
	}
	if (sp_shm_is_stale(s)) {
		fprintf(stderr, "sanpath: team %s is stale (its process is gone)\n", c->o.name);
		sp_shm_close(s);
		return 1;
	}
	sp_shm_ctl_read(s, &ctl);
	for (d = 0; d < 2; d++)
		if (c->nshares[d]) {
			memset(ctl.share[d], 0, sizeof(ctl.share[d]));
			for (i = 0; i < (unsigned int)c->nshares[d]; i++)
				ctl.share[d][i] = c->o.share[d][i];
		}
	if (c->mode_set)
		ctl.mode = (uint32_t)c->o.mode;
	if (c->algo_set)
		ctl.algo = (uint32_t)c->o.algo;
	if (c->failback_flag)
		ctl.failback_req++;
	ctl.admin_down = (ctl.admin_down | c->logout_mask) & ~c->login_mask;
	ctl.removed |= c->remove_mask;
	if (c->failback_set) {
		ctl.failback = (uint32_t)c->o.failback;
		ctl.failback_delay_ms = c->o.failback_delay_ms;
	}
	/* --portal adds paths after the team's (no share until --shares-* gives one). */
	for (i = 0; i < c->npaths; i++) {
		unsigned int at = s->seg->npaths + i;

		if (at >= SP_SHM_MAX_PATHS) {
			fprintf(stderr, "sanpath: team %s has no room for path %u\n", c->o.name, at + 1);
			sp_shm_close(s);
			return 1;
		}
		snprintf(ctl.portal[at], sizeof(ctl.portal[at]), "%s", c->po[i].portal);
		snprintf(ctl.iface[at], sizeof(ctl.iface[at]), "%s", c->po[i].iface ? c->po[i].iface : "");
	}
	for (tries = 0; (rc = sp_shm_ctl_write(s, &ctl)) == -EAGAIN && tries < 1000; tries++)
		usleep(1000);
	if (rc < 0) {
		fprintf(stderr, "sanpath: cannot write the control block: %s\n", strerror(-rc));
		sp_shm_close(s);
		return 1;
	}
	seq = (uint32_t)rc;
	/* Wait for the data plane to take it (it applies at its next command or loop turn). */
	for (tries = 0; tries < 300; tries++) {
		if (__atomic_load_n(&s->seg->ctl_applied, __ATOMIC_ACQUIRE) == seq)
			break;
		usleep(10000);
	}
	if (s->seg->ctl_applied != seq) {
		fprintf(stderr, "sanpath: team %s did not apply the change within 3 s\n", c->o.name);
		sp_shm_close(s);
		return 1;
	}
	rc = s->seg->ctl_result;
	sp_shm_close(s);
	if (rc) {
		fprintf(stderr, "sanpath: team %s rejected the change: %s\n", c->o.name, strerror(-rc));
		return 1;
	}
	printf("sanpath: team %s applied control change %u\n", c->o.name, seq);
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c;
	const char *cmd;
	int rc;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		usage(stdout);
		return 0;
	}
	memset(&c, 0, sizeof(c));
	sp_team_opts_default(&c.o);
	c.o.mode = SP_MODE_FAILOVER_LB;
	c.qd = 32;
	c.seconds = 5;
	c.rw = RW_READ;
	c.mix_read_pct = 50;
	c.settle_ms = 10000;
	rc = parse_args(&c, argc - 1, argv + 1);
	if (!rc)
		rc = chap_setup(&c);
	if (rc)
		goto out;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!strcmp(cmd, "run"))
		rc = cmd_run(&c);
	else if (!strcmp(cmd, "status"))
		rc = cmd_status(&c);
	else if (!strcmp(cmd, "set"))
		rc = cmd_set(&c);
	else {
		usage(stderr);
		rc = 2;
	}
out:
	/* The paths' addresses point into these strings until the command is done. */
	for (int i = 0; i < SP_MAX_PATHS; i++)
		free(c.portal_str[i]);
	return rc;
}
