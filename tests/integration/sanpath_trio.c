/* sanpath_trio.c: drives a libsanpath team from the caller's own poll() loop through sp_team_get_fd,
 * sp_team_which_events and sp_team_service (no sp_team_poll), with real I/O: writes a pattern over both paths,
 * reads it back and compares every byte.
 *
 *   sanpath_trio TARGET LUN PORTAL1 PORTAL2
 *
 * Prints "trio: ..." with what it saw; exit 0 when every byte came back and both paths carried reads and writes. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "iscsi/sp_team.h"

#define TRIO_IOS 512     /* commands per direction */
#define TRIO_BLOCKS 8    /* blocks per command */
#define TRIO_INFLIGHT 16 /* commands in flight at once */
#define TRIO_DEADLINE_S 60

struct trio_io {
	struct sp_io io;
	int done, status;
};

static unsigned long turns, team_wakeups;

static void trio_done(struct sp_io *io, int status, void *priv)
{
	struct trio_io *t = priv;

	(void)io;
	t->done = 1;
	t->status = status;
}

/* The byte at offset off of command k: different in every command and every byte position. */
static unsigned char trio_byte(unsigned int k, size_t off)
{
	return (unsigned char)((k * 131u) ^ (off * 7u) ^ (off >> 8) ^ 0x5a);
}

/* One turn of the application's own loop: its deadline timer and the team's fd, in one poll(). */
static int trio_turn(struct sp_team *team, int deadline_fd)
{
	struct pollfd pfd[2] = {
	    {.fd = sp_team_get_fd(team), .events = (short)sp_team_which_events(team)},
	    {.fd = deadline_fd, .events = POLLIN},
	};
	int rc = poll(pfd, 2, 1000);

	turns++;
	if (rc < 0 && errno != EINTR)
		return -errno;
	if (pfd[1].revents & POLLIN) {
		fprintf(stderr, "sanpath_trio: deadline of %d s passed\n", TRIO_DEADLINE_S);
		return -ETIMEDOUT;
	}
	if (pfd[0].revents)
		team_wakeups++;
	return sp_team_service(team, rc > 0 ? pfd[0].revents : 0);
}

static int paths_active(const struct sp_team *team)
{
	struct sp_path_info pi;
	unsigned int n = 0;

	for (unsigned int i = 0; i < sp_team_npaths(team); i++)
		if (sp_team_path_info(team, i, &pi) == 0 && pi.state == SP_PATH_ACTIVE)
			n++;
	return n == sp_team_npaths(team);
}

/* Runs all TRIO_IOS commands of one direction, TRIO_INFLIGHT at a time. */
static int trio_pass(struct sp_team *team, int deadline_fd, int dir, struct trio_io *ios, unsigned char *buf,
                     size_t cmd_bytes)
{
	unsigned int next = 0, completed = 0, inflight = 0;
	int rc;

	for (unsigned int k = 0; k < TRIO_IOS; k++)
		ios[k].done = 0;
	while (completed < TRIO_IOS) {
		while (next < TRIO_IOS && inflight < TRIO_INFLIGHT) {
			struct trio_io *t = &ios[next];

			memset(&t->io, 0, sizeof(t->io));
			t->io.dir = dir;
			t->io.lba = (uint64_t)next * TRIO_BLOCKS;
			t->io.nblocks = TRIO_BLOCKS;
			t->io.buf = buf + (size_t)next * cmd_bytes;
			t->io.cb = trio_done;
			t->io.priv = t;
			if ((rc = sp_team_submit(team, &t->io)) < 0) {
				fprintf(stderr, "sanpath_trio: submit %u: %s\n", next, strerror(-rc));
				return rc;
			}
			next++;
			inflight++;
		}
		if ((rc = trio_turn(team, deadline_fd)) < 0)
			return rc;
		for (unsigned int k = 0; k < next; k++)
			if (ios[k].done == 1) {
				ios[k].done = 2;
				completed++;
				inflight--;
				if (ios[k].status) {
					fprintf(stderr, "sanpath_trio: command %u failed: %s\n", k,
					        strerror(-ios[k].status));
					return ios[k].status;
				}
			}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct itimerspec deadline = {.it_value = {.tv_sec = TRIO_DEADLINE_S}};
	struct sp_team_opts o;
	struct sp_team *team = NULL;
	struct trio_io *ios;
	unsigned char *wbuf, *rbuf;
	size_t cmd_bytes, total, mismatches = 0;
	uint64_t pbytes[2][2] = {{0}};
	int deadline_fd, rc;

	if (argc != 5) {
		fprintf(stderr, "usage: sanpath_trio TARGET LUN PORTAL1 PORTAL2\n");
		return 2;
	}
	sp_team_opts_default(&o);
	o.name = "trio";
	o.target = argv[1];
	o.lun = atoi(argv[2]);
	if ((rc = sp_team_new(&team, &o)) < 0) {
		fprintf(stderr, "sanpath_trio: sp_team_new: %s\n", strerror(-rc));
		return 1;
	}
	for (int i = 3; i < 5; i++) {
		struct sp_path_opts po = {.portal = argv[i], .lun = -1};

		if ((rc = sp_team_add_path(team, &po)) < 0) {
			fprintf(stderr, "sanpath_trio: path %s: %s\n", argv[i], strerror(-rc));
			return 1;
		}
	}
	if ((rc = sp_team_start(team)) < 0) {
		fprintf(stderr, "sanpath_trio: sp_team_start: %s\n", strerror(-rc));
		return 1;
	}
	if (sp_team_get_fd(team) < 0) {
		fprintf(stderr, "sanpath_trio: a started team has no fd\n");
		return 1;
	}
	deadline_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (deadline_fd < 0 || timerfd_settime(deadline_fd, 0, &deadline, NULL) < 0) {
		perror("sanpath_trio: timerfd");
		return 1;
	}
	/* Logins, identity checks and the paths' verification all run on this loop. */
	while (!paths_active(team))
		if ((rc = trio_turn(team, deadline_fd)) < 0) {
			fprintf(stderr, "sanpath_trio: paths never both active: %s\n", strerror(-rc));
			return 1;
		}
	cmd_bytes = (size_t)TRIO_BLOCKS * sp_team_block_size(team);
	total = cmd_bytes * TRIO_IOS;
	if ((uint64_t)TRIO_IOS * TRIO_BLOCKS > sp_team_nblocks(team)) {
		fprintf(stderr, "sanpath_trio: LU too small\n");
		return 1;
	}
	wbuf = malloc(total);
	rbuf = calloc(1, total);
	ios = calloc(TRIO_IOS, sizeof(*ios));
	if (!wbuf || !rbuf || !ios)
		return 1;
	for (unsigned int k = 0; k < TRIO_IOS; k++)
		for (size_t off = 0; off < cmd_bytes; off++)
			wbuf[(size_t)k * cmd_bytes + off] = trio_byte(k, off);
	if ((rc = trio_pass(team, deadline_fd, SP_WRITE, ios, wbuf, cmd_bytes)) < 0 ||
	    (rc = trio_pass(team, deadline_fd, SP_READ, ios, rbuf, cmd_bytes)) < 0) {
		fprintf(stderr, "sanpath_trio: I/O failed: %s\n", strerror(-rc));
		return 1;
	}
	for (size_t i = 0; i < total; i++)
		mismatches += wbuf[i] != rbuf[i];
	for (unsigned int i = 0; i < 2; i++) {
		struct sp_path_info pi;

		if (sp_team_path_info(team, i, &pi) == 0) {
			pbytes[i][SP_READ] = pi.bytes[SP_READ];
			pbytes[i][SP_WRITE] = pi.bytes[SP_WRITE];
		}
	}
	printf("trio: bytes=%zu written=%u read=%u mismatches=%zu path1_read=%llu path1_write=%llu path2_read=%llu "
	       "path2_write=%llu turns=%lu team_wakeups=%lu\n",
	       total, TRIO_IOS, TRIO_IOS, mismatches, (unsigned long long)pbytes[0][SP_READ],
	       (unsigned long long)pbytes[0][SP_WRITE], (unsigned long long)pbytes[1][SP_READ],
	       (unsigned long long)pbytes[1][SP_WRITE], turns, team_wakeups);
	sp_team_free(team);
	close(deadline_fd);
	free(wbuf);
	free(rbuf);
	free(ios);
	if (mismatches)
		return 1;
	for (unsigned int i = 0; i < 2; i++)
		if (!pbytes[i][SP_READ] || !pbytes[i][SP_WRITE])
			return 1;
	return 0;
}
