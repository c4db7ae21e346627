/* state.c: sorted in-memory key/value store; each commit appends one checksummed journal record, compacted into an
 * atomic snapshot. */
#include "common/array.h"
#include "common/secret.h"
#include "common/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/hex.h"
#include "common/log.h"
#include "common/search.h"

/*
 * Why a hand-written journal and not LMDB (liblmdb-dev):
 * - The store already lives in memory (a sorted array every reader uses);
 *   only durability of the deltas was missing.  A journal adds exactly
 *   that; LMDB would replace the reads too and put a second copy of every
 *   value into a memory map.
 * - Secrets: values are wiped from memory when replaced.  LMDB leaves old
 *   values in free pages of its file and map until reused, out of reach of
 *   explicit_bzero.  The journal's stale records disappear at the next
 *   compaction, when the file holding them is unlinked.
 * - LMDB needs a fixed map size chosen in advance (MDB_MAP_FULL when the
 *   state grows past it) and syncs twice per transaction (data, then meta
 *   page); the journal syncs once.
 * - The snapshot stays the readable, checksummed text file it was, so the
 *   corruption handling and the tools that read it are unchanged.
 *
 * Files, for a state path P:
 *	P		snapshot: the whole state at some moment (format below)
 *	P.journal	records appended since that snapshot, one per commit
 *	P.journal.old	the journal being folded into a new snapshot (exists
 *			only while a compaction runs or after one failed)
 * Loading is snapshot, then P.journal.old, then P.journal, in that order.
 * Replaying a record sets keys to absolute values, so replaying a journal
 * onto a snapshot that already contains it changes nothing: a crash at any
 * point of a compaction loses nothing.
 *
 * Snapshot format:
 *	SANAGENT-STATE 1\n
 *	key\tescaped-value\n		one per key, keys strictly ascending
 *	END <count> <crc32>\n		crc32 (8 lower-case hex digits) of all bytes before "END"
 * Anything else is corrupt.  The trailer is what tells a complete file from
 * a truncated one, the CRC catches flipped bytes.
 *
 * Journal format: the header line, then records
 *	SANAGENT-JOURNAL 1\n
 *	J <payload-bytes> <crc32 of payload>\n
 *	payload: "+key\tescaped-value\n" (set) or "-key\n" (delete) per changed key
 * A record is applied whole or not at all.  A record cut short or failing
 * its CRC at the end of the file is a commit a crash interrupted: it is
 * dropped (the file is cut back to the last whole record).  A bad record
 * followed by more bytes is corruption: the journal is set aside.
 *
 * Compaction runs when the journal outgrows the snapshot (and a floor), so
 * its O(state) cost is paid once per O(state) bytes of commits.  It runs in
 * a forked child: fork() shares the memory copy-on-write, which is the
 * consistent copy a writer needs, for a short stall of the loop instead of
 * the serialise + write + fsync of the whole state (bench/state.sh at
 * 100,000 rows: 10-27 ms to start the child against 320-360 ms in place,
 * on a loaded 2-CPU machine).  A thread would need that copy made in the
 * loop first, O(state) again.  The
 * child calls no malloc (the agent has threads) and reports over a pipe.
 * It dies with its parent (PR_SET_PDEATHSIG): a killed agent's child must
 * not rename an older snapshot over one its successor wrote meanwhile.
 */
#define SA_STATE_HEADER "SANAGENT-STATE 1\n"
#define SA_JOURNAL_HEADER "SANAGENT-JOURNAL 1\n"
#define SA_STATE_MAX_FILE (64u << 20) /* refuse to slurp anything absurd */
#define SA_JOURNAL_FLOOR (256u << 10) /* below this, compaction is not worth a fork */

struct cm_kv {
	char *key;
	char *value;
};

struct cm_state {
	char *path, *jpath, *jold;
	struct cm_kv *kv; /* sorted by strcmp(key) */
	size_t n, cap;
	/* Keys changed since the last durable commit (may repeat). */
	char **dirty;
	size_t ndirty, dirtycap;
	int depth;       /* open cm_state_begin() levels */
	int jfd;         /* P.journal open for append, -1 until needed */
	off_t jsize;     /* bytes of whole records in P.journal */
	off_t snap_size; /* bytes of the last snapshot written or read */
	int have_snap;   /* P exists on disk */
	int need_full;   /* the journal cannot be trusted: next commit writes a snapshot */
	int readonly;    /* cm_state_open_readonly(): never touches a file */
	pid_t child;     /* compaction child, 0 when none */
	int child_fd;    /* its report pipe */
	unsigned long compactions, journal_commits;
};

struct cm_buf {
	char *p;
	size_t len, cap;
};

/* ---- helpers ------------------------------------------------------------ */

static uint32_t cm_crc_table[256];

static void cm_crc_init(void)
{
	if (cm_crc_table[1])
		return;
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t v = i;

		for (int k = 0; k < 8; k++)
			v = (v & 1) ? 0xedb88320u ^ (v >> 1) : v >> 1;
		cm_crc_table[i] = v;
	}
}

/* Running form: start with c = 0, feed pieces, the result is the CRC-32 of
 * their concatenation (the pre/post inversion is folded in). */
static uint32_t cm_crc32_update(uint32_t c, const void *data, size_t len)
{
	const unsigned char *p = data;

	cm_crc_init();
	c ^= 0xffffffffu;
	while (len--)
		c = cm_crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static uint32_t cm_crc32(const void *data, size_t len)
{
	return cm_crc32_update(0, data, len);
}

static int cm_buf_put(struct cm_buf *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + len + 1)
			cap *= 2;
		/* Not realloc: the old block may hold secrets and must be wiped. */
		p = malloc(cap);
		if (!p)
			return -ENOMEM;
		if (b->p) {
			memcpy(p, b->p, b->len);
			explicit_bzero(b->p, b->len);
			free(b->p);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

static void cm_buf_wipe(struct cm_buf *b)
{
	if (b->p) {
		explicit_bzero(b->p, b->len);
		free(b->p);
	}
	b->p = NULL;
	b->len = b->cap = 0;
}

static int cm_key_valid(const char *key)
{
	if (!key || !*key)
		return 0;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return 0;
	return 1;
}

static int cm_kv_cmp(const void *elem, const void *key)
{
	return strcmp(((const struct cm_kv *)elem)->key, key);
}

/* Index of the first key >= key. */
static size_t cm_state_pos(const struct cm_state *st, const char *key)
{
	return cm_lower_bound_cmp(st->kv, st->n, sizeof(*st->kv), key, cm_kv_cmp);
}

static void cm_state_clear(struct cm_state *st)
{
	for (size_t i = 0; i < st->n; i++) {
		free(st->kv[i].key);
		cm_secret_free(st->kv[i].value);
	}
	st->n = 0;
}

/* Inserts at position i; takes ownership of key and value. */
static int cm_state_insert(struct cm_state *st, size_t i, char *key, char *value)
{
	if (cm_grow(&st->kv, &st->cap, st->n, sizeof(*st->kv), 32) < 0)
		return -ENOMEM;
	memmove(&st->kv[i + 1], &st->kv[i], (st->n - i) * sizeof(*st->kv));
	st->kv[i].key = key;
	st->kv[i].value = value;
	st->n++;
	return 0;
}

/* ---- escaping ------------------------------------------------------------ */

/* Escaping writes through a sink so the same code fills a growing buffer
 * (journal records) and a fixed one (snapshots written by a forked child,
 * which must not call malloc). */
typedef int (*cm_put_fn)(void *ctx, const void *data, size_t len);

static int cm_buf_sink(void *ctx, const void *data, size_t len)
{
	return cm_buf_put(ctx, data, len);
}

static int cm_escape(cm_put_fn put, void *ctx, const char *v)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *run = (const unsigned char *)v, *p;
	int rc = 0;

	/* Plain runs go out in one piece; only special bytes are expanded. */
	for (p = run; *p && !rc; p++) {
		char e[4];
		size_t elen = 2;

		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
			continue;
		if (p > run && (rc = put(ctx, run, (size_t)(p - run))) != 0)
			break;
		run = p + 1;
		e[0] = '\\';
		switch (*p) {
		case '\\': e[1] = '\\'; break;
		case '\t': e[1] = 't'; break;
		case '\n': e[1] = 'n'; break;
		case '\r': e[1] = 'r'; break;
		default:
			e[1] = 'x';
			e[2] = hex[*p >> 4];
			e[3] = hex[*p & 0xf];
			elen = 4;
		}
		rc = put(ctx, e, elen);
	}
	if (!rc && p > run)
		rc = put(ctx, run, (size_t)(p - run));
	return rc;
}

/* Decodes s[0..len) into a new string; NULL if the escaping is invalid. */
static char *cm_unescape(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f)
			goto bad; /* the writer never leaves these raw */
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		if (++i >= len)
			goto bad;
		switch (s[i]) {
		case '\\': *o++ = '\\'; break;
		case 't': *o++ = '\t'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 'x': {
			int hi, lo;

			if (i + 2 >= len)
				goto bad;
			hi = cm_hex_digit(s[i + 1]);
			lo = cm_hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
			break;
		}
		default: goto bad;
		}
	}
	*o = '\0';
	return out;
bad:
	explicit_bzero(out, len + 1);
	free(out);
	return NULL;
}

/* ---- parse / serialise ------------------------------------------------ */

/* Fills st from buf or says why the file is corrupt. */
static int cm_state_parse(struct cm_state *st, const char *buf, size_t len, char *why, size_t whylen)
{
	size_t hlen = strlen(SA_STATE_HEADER), tstart, count = 0, pos;
	const char *t, *end;
	char *num_end;
	unsigned long long want;
	unsigned long crc;

	if (len < hlen || memcmp(buf, SA_STATE_HEADER, hlen) != 0) {
		snprintf(why, whylen, "missing header");
		return -1;
	}
	if (memchr(buf, '\0', len)) {
		snprintf(why, whylen, "NUL byte in file");
		return -1;
	}
	if (buf[len - 1] != '\n') {
		snprintf(why, whylen, "truncated (no trailer)");
		return -1;
	}
	/* The trailer is the last line. */
	tstart = len - 1;
	while (tstart > 0 && buf[tstart - 1] != '\n')
		tstart--;
	if (tstart < hlen || len - tstart < 4 || memcmp(buf + tstart, "END ", 4) != 0) {
		snprintf(why, whylen, "truncated (no trailer)");
		return -1;
	}
	t = buf + tstart + 4;
	end = buf + len - 1; /* the final '\n' */
	if (*t < '0' || *t > '9') {
		snprintf(why, whylen, "bad trailer");
		return -1;
	}
	errno = 0;
	want = strtoull(t, &num_end, 10);
	if (errno || *num_end != ' ' || end - (num_end + 1) != 8) {
		snprintf(why, whylen, "bad trailer");
		return -1;
	}
	for (const char *h = num_end + 1; h < end; h++) {
		if (cm_hex_digit(*h) < 0 || (*h >= 'A' && *h <= 'F')) {
			snprintf(why, whylen, "bad trailer");
			return -1;
		}
	}
	crc = strtoul(num_end + 1, NULL, 16);
	if (crc != cm_crc32(buf, tstart)) {
		snprintf(why, whylen, "checksum mismatch");
		return -1;
	}

	for (pos = hlen; pos < tstart; count++) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', tstart - pos);
		const char *tab;
		char *key, *value;

		/* tstart follows a '\n', so every line here is complete */
		tab = memchr(line, '\t', (size_t)(nl - line));
		if (!tab) {
			snprintf(why, whylen, "line %zu: no tab", count + 2);
			goto bad;
		}
		key = strndup(line, (size_t)(tab - line));
		if (!key) {
			snprintf(why, whylen, "out of memory");
			goto bad;
		}
		if (!cm_key_valid(key) || (st->n && strcmp(st->kv[st->n - 1].key, key) >= 0)) {
			snprintf(why, whylen, "line %zu: bad or out-of-order key", count + 2);
			free(key);
			goto bad;
		}
		value = cm_unescape(tab + 1, (size_t)(nl - tab - 1));
		if (!value) {
			snprintf(why, whylen, "line %zu: bad escaping", count + 2);
			free(key);
			goto bad;
		}
		if (cm_state_insert(st, st->n, key, value) < 0) {
			snprintf(why, whylen, "out of memory");
			free(key);
			cm_secret_free(value);
			goto bad;
		}
		pos = (size_t)(nl - buf) + 1;
	}
	if (count != want) {
		snprintf(why, whylen, "trailer says %llu keys, file has %zu", want, count);
		goto bad;
	}
	return 0;
bad:
	cm_state_clear(st);
	return -1;
}

/* ---- files ----------------------------------------------------------------- */

static char *cm_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static int cm_read_file(const char *path, struct cm_buf *b)
{
	struct stat sb;
	char chunk[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		rc = -errno;
		goto out;
	}
	if (S_ISDIR(sb.st_mode)) {
		rc = -EISDIR;
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		if (b->len + (size_t)r > SA_STATE_MAX_FILE) {
			rc = -EFBIG;
			break;
		}
		rc = cm_buf_put(b, chunk, (size_t)r);
		if (rc)
			break;
	}
	explicit_bzero(chunk, sizeof(chunk));
out:
	close(fd);
	if (rc)
		cm_buf_wipe(b);
	return rc;
}

/* Moves a corrupt file to "<path>.corrupt.<time>" without ever replacing an
 * earlier one: link() fails on an existing name where rename() would not. */
static int cm_set_aside(const char *path, char *aside, size_t len)
{
	long long now = (long long)time(NULL);

	for (int i = 0; i < 1000; i++) {
		int n = i ? snprintf(aside, len, "%s.corrupt.%lld.%d", path, now, i)
		          : snprintf(aside, len, "%s.corrupt.%lld", path, now);

		if (n < 0 || (size_t)n >= len)
			return -ENAMETOOLONG;
		if (link(path, aside) == 0)
			return unlink(path) < 0 ? -errno : 0;
		if (errno == EEXIST)
			continue;
		if (errno != EPERM && errno != EOPNOTSUPP && errno != EMLINK && errno != ENOSYS)
			return -errno;
		/* No hard links on this filesystem. */
		if (access(aside, F_OK) == 0)
			continue;
		return rename(path, aside) < 0 ? -errno : 0;
	}
	return -EEXIST;
}

static int cm_pid_dead(pid_t pid)
{
	char path[64], buf[256], *rp;
	ssize_t n;
	int fd;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 1;
	/* A zombie nobody reaps (no init in a container) is dead too. */
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

/* A killed agent's compaction child is killed with it (PR_SET_PDEATHSIG)
 * but may take a moment to die (it can be inside fsync): give it that
 * moment rather than leave its temp file behind for good. */
static int cm_writer_gone(pid_t pid)
{
	for (int i = 0; i < 200; i++) {
		if (cm_pid_dead(pid))
			return 1;
		usleep(5000);
	}
	return 0;
}

/* A writer killed mid-commit leaves "<path>.tmp.<pid>" behind; remove those
 * whose writer is gone so a crash loop does not fill the directory. */
static void cm_sweep_temps(const char *path)
{
	char *dir = cm_dirname(path);
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t blen = strlen(base);
	struct dirent *de;
	DIR *d;

	if (!dir)
		return;
	d = opendir(dir);
	if (!d) {
		free(dir);
		return;
	}
	while ((de = readdir(d))) {
		const char *p = de->d_name;
		char *endp;
		long pid;

		if (strncmp(p, base, blen) != 0 || strncmp(p + blen, ".tmp.", 5) != 0)
			continue;
		p += blen + 5;
		if (*p < '1' || *p > '9')
			continue;
		errno = 0;
		pid = strtol(p, &endp, 10);
		if (errno || *endp || pid <= 0 || pid > INT_MAX)
			continue;
		if (pid != (long)getpid() && !cm_writer_gone((pid_t)pid))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			cm_log(CM_LOG_NOTICE, "state", "%s: removed %s left by an interrupted commit", path,
			       de->d_name);
	}
	closedir(d);
	free(dir);
}

/* mkdir -p with 0700 for every directory it has to create. */
static int cm_mkdir_p(const char *dir)
{
	char *p, *s = strdup(dir);
	struct stat sb;
	int rc = 0;

	if (!s)
		return -ENOMEM;
	for (p = s + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(s, 0700) < 0 && errno != EEXIST) {
			rc = -errno;
			break;
		}
		*p = c;
		if (!c)
			break;
	}
	if (!rc && (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)))
		rc = stat(dir, &sb) < 0 ? -errno : -ENOTDIR;
	free(s);
	return rc;
}

static int cm_write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* ---- snapshot writing --------------------------------------------------------- */

/* A fixed-buffer writer: no malloc, so it is safe in a forked child. */
struct cm_fw {
	int fd, err;
	uint32_t crc; /* of everything written so far */
	off_t total;
	size_t len;
	char buf[32768];
};

static int cm_fw_flush(struct cm_fw *w)
{
	if (!w->err && w->len)
		w->err = cm_write_all(w->fd, w->buf, w->len);
	explicit_bzero(w->buf, w->len);
	w->len = 0;
	return w->err;
}

static int cm_fw_put(void *ctx, const void *data, size_t len)
{
	struct cm_fw *w = ctx;
	const char *p = data;

	w->crc = cm_crc32_update(w->crc, data, len);
	w->total += (off_t)len;
	while (len && !w->err) {
		size_t room = sizeof(w->buf) - w->len, n = len < room ? len : room;

		memcpy(w->buf + w->len, p, n);
		w->len += n;
		p += n;
		len -= n;
		if (w->len == sizeof(w->buf))
			cm_fw_flush(w);
	}
	return w->err;
}

/* Writes the whole state to tmp and renames it over path, durably.  Calls
 * neither malloc nor the logger: it also runs in the compaction child.
 * *size gets the snapshot's length. */
static int cm_snapshot_write(const struct cm_state *st, const char *tmp, const char *dir, off_t *size)
{
	static struct cm_fw w; /* 32 KiB: not on the stack; one writer per process */
	char trailer[64];
	int dfd, rc = 0, n;

	memset(&w, 0, offsetof(struct cm_fw, buf));
	w.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (w.fd < 0)
		return -errno;
	/* It will hold secrets: 0600 whatever the umask or a stale file said. */
	if (fchmod(w.fd, 0600) < 0)
		w.err = -errno;
	cm_fw_put(&w, SA_STATE_HEADER, strlen(SA_STATE_HEADER));
	for (size_t i = 0; i < st->n && !w.err; i++) {
		cm_fw_put(&w, st->kv[i].key, strlen(st->kv[i].key));
		cm_fw_put(&w, "\t", 1);
		cm_escape(cm_fw_put, &w, st->kv[i].value);
		cm_fw_put(&w, "\n", 1);
	}
	n = snprintf(trailer, sizeof(trailer), "END %zu %08x\n", st->n, (unsigned)w.crc);
	cm_fw_put(&w, trailer, (size_t)n);
	rc = cm_fw_flush(&w);
	if (!rc && fsync(w.fd) < 0)
		rc = -errno;
	if (close(w.fd) < 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, st->path) < 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	/* The rename is only durable once the directory entry is on disk. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	/* EINVAL: this filesystem cannot sync directories; nothing more to do. */
	if (fsync(dfd) < 0 && errno != EINVAL)
		rc = -errno;
	close(dfd);
	if (size)
		*size = w.total;
	return rc;
}

static int cm_fsync_dir_of(const char *path)
{
	char *dir = cm_dirname(path);
	int dfd, rc = 0;

	if (!dir)
		return -ENOMEM;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd) < 0 && errno != EINVAL)
		rc = -errno;
	close(dfd);
	return rc;
}

/* ---- journal ------------------------------------------------------------------- */

static void cm_dirty_clear(struct cm_state *st)
{
	for (size_t i = 0; i < st->ndirty; i++)
		free(st->dirty[i]);
	st->ndirty = 0;
}

static int cm_dirty_add(struct cm_state *st, const char *key)
{
	char *k;

	if (cm_grow(&st->dirty, &st->dirtycap, st->ndirty, sizeof(*st->dirty), 16) < 0)
		return -ENOMEM;
	if (!(k = strdup(key)))
		return -ENOMEM;
	st->dirty[st->ndirty++] = k;
	return 0;
}

static int cm_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One record holding the current value (or absence) of every dirty key. */
static int cm_record_build(struct cm_state *st, struct cm_buf *b)
{
	struct cm_buf pl = {0};
	char hdr[64];
	int rc = 0, n;

	qsort(st->dirty, st->ndirty, sizeof(*st->dirty), cm_strcmp_p);
	for (size_t i = 0; i < st->ndirty && !rc; i++) {
		const char *k = st->dirty[i], *v;

		if (i && strcmp(k, st->dirty[i - 1]) == 0)
			continue;
		v = cm_state_get(st, k);
		rc = cm_buf_put(&pl, v ? "+" : "-", 1);
		if (!rc)
			rc = cm_buf_put(&pl, k, strlen(k));
		if (!rc && v && !(rc = cm_buf_put(&pl, "\t", 1)))
			rc = cm_escape(cm_buf_sink, &pl, v);
		if (!rc)
			rc = cm_buf_put(&pl, "\n", 1);
	}
	if (!rc) {
		n = snprintf(hdr, sizeof(hdr), "J %zu %08x\n", pl.len, (unsigned)cm_crc32(pl.p ? pl.p : "", pl.len));
		rc = cm_buf_put(b, hdr, (size_t)n);
	}
	if (!rc && pl.len)
		rc = cm_buf_put(b, pl.p, pl.len);
	cm_buf_wipe(&pl);
	return rc;
}

/* Applies one record's payload; -1 if it does not parse.  Parses fully
 * before changing anything, so a bad record leaves st as it was. */
static int cm_record_apply(struct cm_state *st, const char *p, size_t len)
{
	const char *end = p + len;

	for (int pass = 0; pass < 2; pass++) {
		for (const char *line = p; line < end;) {
			const char *nl = memchr(line, '\n', (size_t)(end - line)), *tab;
			char *key, *value = NULL;
			int rc = 0;

			if (!nl || (*line != '+' && *line != '-'))
				return -1;
			tab = *line == '+' ? memchr(line, '\t', (size_t)(nl - line)) : nl;
			if (!tab)
				return -1;
			key = strndup(line + 1, (size_t)(tab - line - 1));
			if (!key)
				return -1;
			if (*line == '+')
				value = cm_unescape(tab + 1, (size_t)(nl - tab - 1));
			if (!cm_key_valid(key) || (*line == '+' && !value))
				rc = -1;
			else if (pass == 1)
				rc = value ? cm_state_set(st, key, value) : (cm_state_del(st, key), 0);
			free(key);
			cm_secret_free(value);
			if (rc < 0)
				return -1;
			line = nl + 1;
		}
	}
	return 0;
}

/* Replays the journal at jpath.  *good gets the length of the whole
 * records; *torn is set when bytes after them were dropped as an
 * interrupted commit, *bad when they look like damage instead. */
static int cm_journal_replay(struct cm_state *st, const char *jpath, off_t *good, int *torn, int *bad)
{
	struct cm_buf b = {0};
	size_t hlen = strlen(SA_JOURNAL_HEADER), pos;
	int rc = cm_read_file(jpath, &b);

	*good = 0;
	*torn = *bad = 0;
	if (rc < 0)
		return rc;
	if (b.len < hlen || memcmp(b.p, SA_JOURNAL_HEADER, hlen) != 0) {
		/* Creating the journal writes its header first: a shorter
		 * prefix of it is a creation cut short, anything else damage. */
		if (b.len && (b.len >= hlen || memcmp(b.p, SA_JOURNAL_HEADER, b.len) != 0))
			*bad = 1;
		else if (b.len)
			*torn = 1;
		cm_buf_wipe(&b);
		return 0;
	}
	for (pos = hlen; pos < b.len;) {
		const char *h = b.p + pos, *nl = memchr(h, '\n', b.len - pos < 64 ? b.len - pos : 64);
		unsigned long long plen;
		unsigned long crc;
		char *e;

		if (!nl) {
			*(b.len - pos < 64 ? torn : bad) = 1;
			break;
		}
		errno = 0;
		if (h[0] != 'J' || h[1] != ' ' || (plen = strtoull(h + 2, &e, 10), errno) || *e != ' ' ||
		    (crc = strtoul(e + 1, &e, 16), e != nl)) {
			*bad = 1;
			break;
		}
		if (plen > b.len - (size_t)(nl + 1 - b.p)) {
			*torn = 1; /* the payload runs past the end of the file */
			break;
		}
		if (cm_crc32(nl + 1, plen) != crc || cm_record_apply(st, nl + 1, plen) < 0) {
			/* The last record of the file: a write the crash cut. */
			*((size_t)(nl + 1 - b.p) + plen == b.len ? torn : bad) = 1;
			break;
		}
		pos = (size_t)(nl + 1 - b.p) + plen;
	}
	*good = (off_t)(pos < hlen ? hlen : pos);
	cm_buf_wipe(&b);
	return 0;
}

/* Opens P.journal for appending, creating it (durably) if needed. */
static int cm_journal_open(struct cm_state *st)
{
	struct stat sb;
	int fd, rc;

	if (st->jfd >= 0)
		return 0;
	fd = open(st->jpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0 || fstat(fd, &sb) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (sb.st_size == 0) {
		/* Records are only safe in it once its directory entry is. */
		rc = cm_write_all(fd, SA_JOURNAL_HEADER, strlen(SA_JOURNAL_HEADER));
		if (!rc && fdatasync(fd) < 0)
			rc = -errno;
		if (!rc)
			rc = cm_fsync_dir_of(st->jpath);
		if (rc) {
			close(fd);
			unlink(st->jpath);
			return rc;
		}
		st->jsize = (off_t)strlen(SA_JOURNAL_HEADER);
	} else if (sb.st_size != st->jsize) {
		/* Someone else's bytes: never append after what we did not check. */
		close(fd);
		return -ESTALE;
	}
	st->jfd = fd;
	return 0;
}

static void cm_journal_close(struct cm_state *st)
{
	if (st->jfd >= 0)
		close(st->jfd);
	st->jfd = -1;
	st->jsize = 0;
}

/* ---- compaction ---------------------------------------------------------------- */

/* Collects a finished compaction child.  wait: block until it is done. */
static void cm_child_poll(struct cm_state *st, int wait)
{
	struct {
		char ok;
		off_t size;
	} rep;
	ssize_t r;

	if (!st->child)
		return;
	if (!wait) {
		struct pollfd pfd = {.fd = st->child_fd, .events = POLLIN};

		/* The child writes its report (or dies, closing the pipe) last. */
		if (poll(&pfd, 1, 0) <= 0)
			return;
	}
	do
		r = read(st->child_fd, &rep, sizeof(rep));
	while (r < 0 && errno == EINTR);
	/* ECHILD: SIGCHLD ignored, the kernel reaped it; the pipe told us. */
	while (waitpid(st->child, NULL, 0) < 0 && errno == EINTR)
		;
	close(st->child_fd);
	st->child = 0;
	st->child_fd = -1;
	if (r == (ssize_t)sizeof(rep) && rep.ok) {
		unlink(st->jold);
		st->snap_size = rep.size;
		st->have_snap = 1;
		st->compactions++;
	} else {
		/* P.journal.old stays and is replayed; the next compaction is a
		 * synchronous one that folds both journals in. */
		cm_log(CM_LOG_ERR, "state", "%s: background compaction failed; retrying in the foreground next time",
		       st->path);
	}
}

/* Writes a snapshot here and now and drops both journals (the old commit
 * path, O(state); used at open, after errors, and for the first commit). */
static int cm_compact_sync(struct cm_state *st)
{
	char *dir, tmp[PATH_MAX];
	int rc;

	cm_child_poll(st, 1); /* its older snapshot must not land after ours */
	dir = cm_dirname(st->path);
	if (!dir)
		return -ENOMEM;
	rc = cm_mkdir_p(dir);
	if (!rc && snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", st->path, (long)getpid()) >= (int)sizeof(tmp))
		rc = -ENAMETOOLONG;
	if (!rc)
		rc = cm_snapshot_write(st, tmp, dir, &st->snap_size);
	free(dir);
	if (rc < 0)
		return rc;
	st->have_snap = 1;
	st->compactions++;
	cm_dirty_clear(st);
	/* The snapshot holds everything: the journals are redundant now.  A
	 * crash before these unlinks only makes the next load replay them. */
	cm_journal_close(st);
	unlink(st->jold);
	if (unlink(st->jpath) < 0 && errno != ENOENT) {
		/* A journal we cannot remove would be replayed over newer
		 * snapshots later: do not append to it, keep writing snapshots. */
		st->need_full = 1;
		return 0;
	}
	st->need_full = 0;
	return 0;
}

/* Starts folding P.journal into a new snapshot in a child process. */
static void cm_compact_start(struct cm_state *st)
{
	struct {
		char ok;
		off_t size;
	} rep = {0};
	char *dir = NULL, tmp[PATH_MAX];
	int p[2];
	pid_t pid, parent;

	if (st->child)
		return;
	if (access(st->jold, F_OK) == 0 || pipe(p) < 0 || !(dir = cm_dirname(st->path))) {
		free(dir);
		if (cm_compact_sync(st) < 0)
			st->need_full = 1;
		return;
	}
	/* Other children (exec'd helpers) must not keep the pipe open. */
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	/* From here new commits go to a fresh P.journal (created, with its
	 * directory synced, at the next commit). */
	if (rename(st->jpath, st->jold) < 0) {
		close(p[0]);
		close(p[1]);
		free(dir);
		st->need_full = 1;
		return;
	}
	cm_journal_close(st);
	parent = getpid();
	pid = fork();
	if (pid == 0) {
		int rc;

		close(p[0]);
		/* The parent may have died before the prctl: then stop too. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(1);
		snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", st->path, (long)getpid());
		rc = cm_snapshot_write(st, tmp, dir, &rep.size);
		rep.ok = rc == 0;
		(void)!write(p[1], &rep, sizeof(rep));
		_exit(rc == 0 ? 0 : 1);
	}
	close(p[1]);
	free(dir);
	if (pid < 0) {
		close(p[0]);
		/* jold is replayed before P.journal, so the order holds. */
		if (cm_compact_sync(st) < 0)
			st->need_full = 1;
		return;
	}
	st->child = pid;
	st->child_fd = p[0];
}

/* Appends the dirty keys as one record with one fdatasync. */
static int cm_journal_commit(struct cm_state *st)
{
	struct cm_buf b = {0};
	int rc = cm_journal_open(st);

	if (rc) {
		/* Whatever is wrong with P.journal, a snapshot replaces it. */
		st->need_full = 1;
		return rc;
	}
	rc = cm_record_build(st, &b);
	if (!rc)
		rc = cm_write_all(st->jfd, b.p, b.len);
	if (!rc && fdatasync(st->jfd) < 0)
		rc = -errno;
	if (rc && st->jfd >= 0 && ftruncate(st->jfd, st->jsize) < 0)
		st->need_full = 1; /* a partial record may stay: appending after it would hide later ones */
	if (!rc) {
		st->jsize += (off_t)b.len;
		st->journal_commits++;
		cm_dirty_clear(st);
	}
	cm_buf_wipe(&b);
	return rc;
}

/* ---- API --------------------------------------------------------------------- */

static int cm_state_load(const char *path, struct cm_state **out, int *corrupt, int readonly);

int cm_state_open(const char *path, struct cm_state **out, int *corrupt)
{
	return cm_state_load(path, out, corrupt, 0);
}

int cm_state_open_readonly(const char *path, struct cm_state **out, int *corrupt)
{
	return cm_state_load(path, out, corrupt, 1);
}

static int cm_state_load(const char *path, struct cm_state **out, int *corrupt, int readonly)
{
	struct cm_state *st;
	struct cm_buf b = {0};
	char why[128], aside[PATH_MAX];
	size_t plen;
	int rc, torn, bad, fold = 0;
	off_t good;

	if (corrupt)
		*corrupt = 0;
	if (!path || !*path || !out)
		return -EINVAL;
	plen = strlen(path) + 16;
	st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(path)) || !(st->jpath = malloc(plen)) || !(st->jold = malloc(plen))) {
		if (st) {
			free(st->path);
			free(st->jpath);
		}
		free(st);
		return -ENOMEM;
	}
	snprintf(st->jpath, plen, "%s.journal", path);
	snprintf(st->jold, plen, "%s.journal.old", path);
	st->jfd = st->child_fd = -1;
	st->readonly = readonly;
	cm_crc_init(); /* before any fork: the child must find the table built */
	if (!readonly)
		cm_sweep_temps(path);
	rc = cm_read_file(path, &b);
	if (rc < 0 && rc != -ENOENT) {
		cm_log(CM_LOG_ERR, "state", "%s: cannot read: %s", path, strerror(-rc));
		cm_state_close(st);
		return rc;
	}
	if (rc == 0) {
		st->have_snap = 1;
		st->snap_size = (off_t)b.len;
		if (cm_state_parse(st, b.p, b.len, why, sizeof(why)) < 0) {
			if (readonly) {
				if (corrupt)
					*corrupt = 1;
				cm_buf_wipe(&b);
				*out = st;
				return 0;
			}
			rc = cm_set_aside(path, aside, sizeof(aside));
			if (rc < 0) {
				/* Going on would overwrite it at the next commit. */
				cm_log(CM_LOG_ERR, "state", "%s: corrupt (%s) and cannot be moved aside: %s", path, why,
				       strerror(-rc));
				cm_buf_wipe(&b);
				cm_state_close(st);
				return rc;
			}
			cm_log(CM_LOG_ERR, "state", "%s: corrupt (%s); kept as %s, starting with an empty state", path,
			       why, aside);
			if (corrupt)
				*corrupt = 1;
			st->have_snap = 0;
			/* Journals hold changes to the lost snapshot: alone they
			 * would make a state nobody ever had.  Keep them aside too. */
			for (int j = 0; j < 2; j++) {
				const char *jp = j ? st->jpath : st->jold;

				if (access(jp, F_OK) == 0 && cm_set_aside(jp, aside, sizeof(aside)) == 0)
					cm_log(CM_LOG_ERR, "state", "%s: kept as %s", jp, aside);
			}
		}
	}
	cm_buf_wipe(&b);

	/* The older journal first: its records precede P.journal's. */
	for (int j = 0; j < 2; j++) {
		const char *jp = j ? st->jpath : st->jold;

		rc = cm_journal_replay(st, jp, &good, &torn, &bad);
		if (rc == -ENOENT)
			continue;
		if (rc < 0) {
			cm_log(CM_LOG_ERR, "state", "%s: cannot read: %s", jp, strerror(-rc));
			cm_state_close(st);
			return rc;
		}
		if (bad && readonly) {
			if (corrupt)
				*corrupt = 1;
			continue;
		}
		if (bad) {
			rc = cm_set_aside(jp, aside, sizeof(aside));
			cm_log(CM_LOG_ERR, "state", "%s: damaged after %lld good bytes; %s%s", jp, (long long)good,
			       rc < 0 ? "cannot be moved aside: " : "kept as ", rc < 0 ? strerror(-rc) : aside);
			if (rc < 0) {
				cm_state_close(st);
				return rc;
			}
			if (corrupt)
				*corrupt = 1;
			fold = 1;
			continue;
		}
		if (readonly)
			continue; /* a torn tail may be a commit being written right now */
		if (torn)
			cm_log(CM_LOG_NOTICE, "state", "%s: dropped a commit cut short by a crash", jp);
		if (j == 0 || torn) {
			fold = 1; /* fold it into a snapshot now, with the torn bytes gone */
		} else {
			st->jsize = good;
		}
	}
	if (fold) {
		rc = cm_compact_sync(st);
		if (rc < 0) {
			cm_log(CM_LOG_ERR, "state", "%s: cannot write a snapshot: %s", path, strerror(-rc));
			cm_state_close(st);
			return rc;
		}
	}
	/* Replay went through cm_state_set: nothing of it is pending. */
	cm_dirty_clear(st);
	*out = st;
	return 0;
}

void cm_state_close(struct cm_state *st)
{
	if (!st)
		return;
	cm_child_poll(st, 1);
	cm_journal_close(st);
	cm_state_clear(st);
	cm_dirty_clear(st);
	free(st->dirty);
	free(st->kv);
	free(st->path);
	free(st->jpath);
	free(st->jold);
	free(st);
}

const char *cm_state_get(const struct cm_state *st, const char *key)
{
	size_t i;

	if (!st || !key)
		return NULL;
	i = cm_state_pos(st, key);
	return i < st->n && strcmp(st->kv[i].key, key) == 0 ? st->kv[i].value : NULL;
}

int cm_state_set(struct cm_state *st, const char *key, const char *value)
{
	char *k, *v;
	size_t i;
	int rc;

	if (!st || !value || !cm_key_valid(key))
		return -EINVAL;
	if (cm_dirty_add(st, key) < 0)
		return -ENOMEM;
	if (!(v = strdup(value)))
		return -ENOMEM;
	i = cm_state_pos(st, key);
	if (i < st->n && strcmp(st->kv[i].key, key) == 0) {
		cm_secret_free(st->kv[i].value);
		st->kv[i].value = v;
		return 0;
	}
	if (!(k = strdup(key))) {
		cm_secret_free(v);
		return -ENOMEM;
	}
	rc = cm_state_insert(st, i, k, v);
	if (rc < 0) {
		free(k);
		cm_secret_free(v);
	}
	return rc;
}

int cm_state_del(struct cm_state *st, const char *key)
{
	size_t i;

	if (!st || !key)
		return -EINVAL;
	i = cm_state_pos(st, key);
	if (i >= st->n || strcmp(st->kv[i].key, key) != 0)
		return -ENOENT;
	if (cm_dirty_add(st, key) < 0)
		return -ENOMEM;
	free(st->kv[i].key);
	cm_secret_free(st->kv[i].value);
	cm_remove(st->kv, &st->n, sizeof(*st->kv), i);
	return 0;
}

void cm_state_foreach(const struct cm_state *st, const char *prefix,
                      void (*cb)(const char *key, const char *value, void *arg), void *arg)
{
	size_t plen;

	if (!st || !cb)
		return;
	if (!prefix)
		prefix = "";
	plen = strlen(prefix);
	/* Keys sharing a prefix are contiguous in sorted order. */
	for (size_t i = cm_state_pos(st, prefix); i < st->n; i++) {
		if (strncmp(st->kv[i].key, prefix, plen) != 0)
			break;
		cb(st->kv[i].key, st->kv[i].value, arg);
	}
}

/* The commit itself, outside any transaction. */
static int cm_state_commit_now(struct cm_state *st)
{
	int rc;

	cm_child_poll(st, 0);
	if (!st->have_snap || st->need_full) {
		/* No snapshot yet (a journal needs one to stand on), or the
		 * journal is unusable after an error. */
		rc = cm_compact_sync(st);
	} else if (!st->ndirty) {
		return 0;
	} else {
		rc = cm_journal_commit(st);
		if (!rc && st->jsize > st->snap_size && st->jsize > (off_t)SA_JOURNAL_FLOOR)
			cm_compact_start(st);
	}
	if (rc < 0)
		cm_log(CM_LOG_ERR, "state", "%s: commit failed: %s", st->path, strerror(-rc));
	return rc;
}

int cm_state_commit(struct cm_state *st)
{
	if (!st)
		return -EINVAL;
	if (st->readonly)
		return -EROFS;
	if (st->depth > 0)
		return 0; /* cm_state_end() of the outermost level writes it */
	return cm_state_commit_now(st);
}

void cm_state_begin(struct cm_state *st)
{
	if (st)
		st->depth++;
}

int cm_state_end(struct cm_state *st)
{
	if (!st || st->depth <= 0)
		return -EINVAL;
	if (--st->depth > 0)
		return 0;
	if (st->readonly)
		return -EROFS;
	if (!st->ndirty && st->have_snap && !st->need_full)
		return 0;
	return cm_state_commit_now(st);
}

int cm_state_in_transaction(const struct cm_state *st)
{
	return st && st->depth > 0;
}

size_t cm_state_pending(const struct cm_state *st)
{
	return st ? st->ndirty : 0;
}

void cm_state_stats(const struct cm_state *st, struct cm_state_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!st)
		return;
	out->keys = st->n;
	out->journal_bytes = (unsigned long long)st->jsize;
	out->snapshot_bytes = (unsigned long long)st->snap_size;
	out->journal_commits = st->journal_commits;
	out->compactions = st->compactions;
	out->compacting = st->child != 0;
}

int cm_state_compact_background(struct cm_state *st)
{
	if (!st)
		return -EINVAL;
	if (st->readonly)
		return -EROFS;
	if (st->child)
		return -EBUSY;
	if (!st->have_snap || st->need_full || st->jfd < 0)
		return cm_compact_sync(st); /* nothing to fold, or no journal to trust */
	cm_compact_start(st);
	return st->need_full ? -EIO : 0;
}

int cm_state_compact(struct cm_state *st)
{
	if (!st)
		return -EINVAL;
	if (st->readonly)
		return -EROFS;
	return cm_compact_sync(st);
}
