/* sp_shm.c: the per-team shared-memory segment (file + mmap) with seqlocked control and stats. */
#include "iscsi/sp_shm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define TAG "sanpath"

/* Field 22 of /proc/PID/stat: with the pid it names one process for good. */
static uint64_t proc_start_time(pid_t pid)
{
	char path[64], buf[1024];
	FILE *f;
	size_t n;
	char *p;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: count from the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	return strtoull(p, NULL, 10);
}

static int seg_is_stale(const struct sp_shm_seg *g)
{
	pid_t pid = (pid_t)__atomic_load_n(&g->pid, __ATOMIC_ACQUIRE);
	uint64_t st;

	if (pid <= 0)
		return 1;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 1;
	st = proc_start_time(pid);
	return st && g->pid_start && st != g->pid_start;
}

static int map_file(int fd, int writable, struct sp_shm_seg **out)
{
	void *p =
	    mmap(NULL, sizeof(struct sp_shm_seg), writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	return 0;
}

static int seg_valid(const struct sp_shm_seg *g)
{
	if (g->magic != SP_SHM_MAGIC || g->version != SP_SHM_VERSION || g->size != sizeof(*g))
		return -EPROTO;
	return 0;
}

int sp_shm_create(struct sp_shm **out, const char *dir, const char *name, const char *target, unsigned int lun)
{
	struct sp_shm *s;
	struct sp_shm_seg *g = NULL;
	char tmp[4096], final[4096];
	int fd, rc;

	if (!dir || !name || !*name || strchr(name, '/'))
		return -EINVAL;
	snprintf(final, sizeof(final), "%s/%s%s", dir, name, SP_SHM_SUFFIX);
	snprintf(tmp, sizeof(tmp), "%s/.%s.%d.tmp", dir, name, (int)getpid());

	/* An existing segment of a live owner is that owner's: do not steal it. */
	fd = open(final, O_RDONLY);
	if (fd >= 0) {
		struct stat st;

		if (fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(*g) && map_file(fd, 0, &g) == 0) {
			int live = seg_valid(g) == 0 && !seg_is_stale(g);

			munmap(g, sizeof(*g));
			if (live) {
				close(fd);
				return -EBUSY;
			}
		}
		close(fd);
	}

	/* Built under a temporary name and renamed, so a reader never maps a
	 * half-written header. */
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, sizeof(*g)) < 0) {
		rc = -errno;
		goto fail_fd;
	}
	rc = map_file(fd, 1, &g);
	if (rc)
		goto fail_fd;
	memset(g, 0, sizeof(*g));
	g->version = SP_SHM_VERSION;
	g->size = sizeof(*g);
	g->pid = (int32_t)getpid();
	g->pid_start = proc_start_time(getpid());
	snprintf(g->name, sizeof(g->name), "%s", name);
	snprintf(g->target, sizeof(g->target), "%s", target ? target : "");
	g->lun = lun;
	__atomic_store_n(&g->magic, SP_SHM_MAGIC, __ATOMIC_RELEASE);
	if (rename(tmp, final) < 0) {
		rc = -errno;
		munmap(g, sizeof(*g));
		goto fail_fd;
	}
	close(fd);

	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(final))) {
		free(s);
		munmap(g, sizeof(*g));
		unlink(final);
		return -ENOMEM;
	}
	s->seg = g;
	s->owner = 1;
	*out = s;
	return 0;

fail_fd:
	close(fd);
	unlink(tmp);
	return rc;
}

int sp_shm_open(struct sp_shm **out, const char *file, int writable)
{
	struct sp_shm *s;
	struct sp_shm_seg *g = NULL;
	struct stat st;
	int fd, rc;

	fd = open(file, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(*g)) {
		close(fd);
		return -EPROTO;
	}
	rc = map_file(fd, writable, &g);
	close(fd);
	if (rc)
		return rc;
	rc = seg_valid(g);
	if (rc) {
		munmap(g, sizeof(*g));
		return rc;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(file))) {
		free(s);
		munmap(g, sizeof(*g));
		return -ENOMEM;
	}
	s->seg = g;
	*out = s;
	return 0;
}

void sp_shm_close(struct sp_shm *s)
{
	if (!s)
		return;
	if (s->owner) {
		/* A clean exit removes the segment; a crash leaves it, and
		 * readers see it as stale by its pid. */
		__atomic_store_n(&s->seg->pid, 0, __ATOMIC_RELEASE);
		unlink(s->path);
	}
	munmap(s->seg, sizeof(*s->seg));
	free(s->path);
	free(s);
}

int sp_shm_is_stale(const struct sp_shm *s)
{
	return seg_is_stale(s->seg);
}

int sp_shm_ctl_write(struct sp_shm *s, const struct sp_shm_ctl *c)
{
	struct sp_shm_seg *g = s->seg;
	uint32_t seq = __atomic_load_n(&g->ctl_seq, __ATOMIC_ACQUIRE);

	if ((seq & 1) ||
	    !__atomic_compare_exchange_n(&g->ctl_seq, &seq, seq + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	memcpy(&g->ctl, c, sizeof(*c));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&g->ctl_seq, seq + 2, __ATOMIC_RELEASE);
	return (int)((seq + 2) & 0x7fffffff);
}

uint32_t sp_shm_ctl_read(const struct sp_shm *s, struct sp_shm_ctl *c)
{
	const struct sp_shm_seg *g = s->seg;
	uint32_t a, b;

	for (;;) {
		a = __atomic_load_n(&g->ctl_seq, __ATOMIC_ACQUIRE);
		if (a & 1)
			continue;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		memcpy(c, (const void *)&g->ctl, sizeof(*c));
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		b = __atomic_load_n(&g->ctl_seq, __ATOMIC_ACQUIRE);
		if (a == b)
			return a;
	}
}

uint32_t sp_shm_ctl_seq(const struct sp_shm *s)
{
	return __atomic_load_n(&s->seg->ctl_seq, __ATOMIC_ACQUIRE);
}

void sp_shm_ctl_ack(struct sp_shm *s, uint32_t seq, int result)
{
	s->seg->ctl_result = result;
	__atomic_store_n(&s->seg->ctl_applied, seq, __ATOMIC_RELEASE);
}

void sp_shm_stats_begin(struct sp_shm *s)
{
	__atomic_store_n(&s->seg->stats_seq, s->seg->stats_seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void sp_shm_stats_end(struct sp_shm *s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	s->seg->updated = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&s->seg->stats_seq, s->seg->stats_seq + 1, __ATOMIC_RELEASE);
}

void sp_shm_snapshot(const struct sp_shm *s, struct sp_shm_seg *copy)
{
	const struct sp_shm_seg *g = s->seg;
	uint32_t a, b;
	int tries;

	/* Bounded: a dead owner may have left the counter odd. */
	for (tries = 0; tries < 100000; tries++) {
		a = __atomic_load_n(&g->stats_seq, __ATOMIC_ACQUIRE);
		if (a & 1)
			continue;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		memcpy(copy, (const void *)g, sizeof(*copy));
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		b = __atomic_load_n(&g->stats_seq, __ATOMIC_ACQUIRE);
		if (a == b)
			return;
	}
	memcpy(copy, (const void *)g, sizeof(*copy));
}
