/* state.c: sorted in-memory key/value store persisted as a checksummed text file, replaced atomically. */
#include "common/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

/*
 * File format:
 *	SANAGENT-STATE 1\n
 *	key\tescaped-value\n		one per key, keys strictly ascending
 *	END <count> <crc32>\n		crc32 (8 lower-case hex digits) of all bytes before "END"
 * Anything else is corrupt.  The trailer is what tells a complete file from
 * a truncated one, the CRC catches flipped bytes.
 */
#define SA_STATE_HEADER "SANAGENT-STATE 1\n"
#define SA_STATE_MAX_FILE (64u << 20) /* refuse to slurp anything absurd */

struct sa_kv {
	char *key;
	char *value;
};

struct sa_state {
	char *path;
	struct sa_kv *kv; /* sorted by strcmp(key) */
	size_t n, cap;
};

struct sa_buf {
	char *p;
	size_t len, cap;
};

/* ---- helpers ------------------------------------------------------------ */

static uint32_t sa_crc_table[256];

static uint32_t sa_crc32(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t c = 0xffffffffu;

	if (!sa_crc_table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t v = i;

			for (int k = 0; k < 8; k++)
				v = (v & 1) ? 0xedb88320u ^ (v >> 1) : v >> 1;
			sa_crc_table[i] = v;
		}
	}
	while (len--)
		c = sa_crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static int sa_buf_put(struct sa_buf *b, const void *data, size_t len)
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

static void sa_buf_wipe(struct sa_buf *b)
{
	if (b->p) {
		explicit_bzero(b->p, b->len);
		free(b->p);
	}
	b->p = NULL;
	b->len = b->cap = 0;
}

static void sa_free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static int sa_key_valid(const char *key)
{
	if (!key || !*key)
		return 0;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return 0;
	return 1;
}

/* Index of the first key >= key. */
static size_t sa_lower_bound(const struct sa_state *st, const char *key)
{
	size_t lo = 0, hi = st->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(st->kv[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void sa_state_clear(struct sa_state *st)
{
	for (size_t i = 0; i < st->n; i++) {
		free(st->kv[i].key);
		sa_free_secret(st->kv[i].value);
	}
	st->n = 0;
}

/* Inserts at position i; takes ownership of key and value. */
static int sa_state_insert(struct sa_state *st, size_t i, char *key, char *value)
{
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 32;
		struct sa_kv *kv = realloc(st->kv, cap * sizeof(*kv));

		if (!kv)
			return -ENOMEM;
		st->kv = kv;
		st->cap = cap;
	}
	memmove(&st->kv[i + 1], &st->kv[i], (st->n - i) * sizeof(*st->kv));
	st->kv[i].key = key;
	st->kv[i].value = value;
	st->n++;
	return 0;
}

/* ---- escaping ------------------------------------------------------------ */

static int sa_escape(struct sa_buf *b, const char *v)
{
	static const char hex[] = "0123456789abcdef";
	int rc = 0;

	for (const unsigned char *p = (const unsigned char *)v; *p && !rc; p++) {
		char e[4];

		switch (*p) {
		case '\\': rc = sa_buf_put(b, "\\\\", 2); break;
		case '\t': rc = sa_buf_put(b, "\\t", 2); break;
		case '\n': rc = sa_buf_put(b, "\\n", 2); break;
		case '\r': rc = sa_buf_put(b, "\\r", 2); break;
		default:
			if (*p >= 0x20 && *p < 0x7f) {
				rc = sa_buf_put(b, p, 1);
			} else {
				e[0] = '\\';
				e[1] = 'x';
				e[2] = hex[*p >> 4];
				e[3] = hex[*p & 0xf];
				rc = sa_buf_put(b, e, 4);
			}
		}
	}
	return rc;
}

static int sa_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..len) into a new string; NULL if the escaping is invalid. */
static char *sa_unescape(const char *s, size_t len)
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
			hi = sa_hexval(s[i + 1]);
			lo = sa_hexval(s[i + 2]);
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

static int sa_state_serialize(const struct sa_state *st, struct sa_buf *b)
{
	char trailer[64];
	int rc = sa_buf_put(b, SA_STATE_HEADER, strlen(SA_STATE_HEADER));

	for (size_t i = 0; i < st->n && !rc; i++) {
		rc = sa_buf_put(b, st->kv[i].key, strlen(st->kv[i].key));
		if (!rc)
			rc = sa_buf_put(b, "\t", 1);
		if (!rc)
			rc = sa_escape(b, st->kv[i].value);
		if (!rc)
			rc = sa_buf_put(b, "\n", 1);
	}
	if (rc)
		return rc;
	snprintf(trailer, sizeof(trailer), "END %zu %08x\n", st->n, (unsigned)sa_crc32(b->p, b->len));
	return sa_buf_put(b, trailer, strlen(trailer));
}

/* Fills st from buf or says why the file is corrupt. */
static int sa_state_parse(struct sa_state *st, const char *buf, size_t len, char *why, size_t whylen)
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
		if (sa_hexval(*h) < 0 || (*h >= 'A' && *h <= 'F')) {
			snprintf(why, whylen, "bad trailer");
			return -1;
		}
	}
	crc = strtoul(num_end + 1, NULL, 16);
	if (crc != sa_crc32(buf, tstart)) {
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
		if (!sa_key_valid(key) || (st->n && strcmp(st->kv[st->n - 1].key, key) >= 0)) {
			snprintf(why, whylen, "line %zu: bad or out-of-order key", count + 2);
			free(key);
			goto bad;
		}
		value = sa_unescape(tab + 1, (size_t)(nl - tab - 1));
		if (!value) {
			snprintf(why, whylen, "line %zu: bad escaping", count + 2);
			free(key);
			goto bad;
		}
		if (sa_state_insert(st, st->n, key, value) < 0) {
			snprintf(why, whylen, "out of memory");
			free(key);
			sa_free_secret(value);
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
	sa_state_clear(st);
	return -1;
}

/* ---- files ----------------------------------------------------------------- */

static char *sa_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static int sa_read_file(const char *path, struct sa_buf *b)
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
		rc = sa_buf_put(b, chunk, (size_t)r);
		if (rc)
			break;
	}
	explicit_bzero(chunk, sizeof(chunk));
out:
	close(fd);
	if (rc)
		sa_buf_wipe(b);
	return rc;
}

/* Moves a corrupt file to "<path>.corrupt.<time>" without ever replacing an
 * earlier one: link() fails on an existing name where rename() would not. */
static int sa_set_aside(const char *path, char *aside, size_t len)
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

/* A writer killed mid-commit leaves "<path>.tmp.<pid>" behind; remove those
 * whose writer is gone so a crash loop does not fill the directory. */
static void sa_sweep_temps(const char *path)
{
	char *dir = sa_dirname(path);
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
		if (pid != (long)getpid() && !(kill((pid_t)pid, 0) < 0 && errno == ESRCH))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			sa_log(SA_LOG_NOTICE, "state", "%s: removed %s left by an interrupted commit", path,
			       de->d_name);
	}
	closedir(d);
	free(dir);
}

/* mkdir -p with 0700 for every directory it has to create. */
static int sa_mkdir_p(const char *dir)
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

static int sa_write_all(int fd, const char *p, size_t len)
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

/* ---- API --------------------------------------------------------------------- */

int sa_state_open(const char *path, struct sa_state **out, int *corrupt)
{
	struct sa_state *st;
	struct sa_buf b = {0};
	char why[128], aside[PATH_MAX];
	int rc;

	if (corrupt)
		*corrupt = 0;
	if (!path || !*path || !out)
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(path))) {
		free(st);
		return -ENOMEM;
	}
	sa_sweep_temps(path);
	rc = sa_read_file(path, &b);
	if (rc == -ENOENT) {
		*out = st;
		return 0;
	}
	if (rc < 0) {
		sa_log(SA_LOG_ERR, "state", "%s: cannot read: %s", path, strerror(-rc));
		sa_state_close(st);
		return rc;
	}
	if (sa_state_parse(st, b.p, b.len, why, sizeof(why)) < 0) {
		rc = sa_set_aside(path, aside, sizeof(aside));
		if (rc < 0) {
			/* Going on would overwrite it at the next commit. */
			sa_log(SA_LOG_ERR, "state", "%s: corrupt (%s) and cannot be moved aside: %s", path, why,
			       strerror(-rc));
			sa_buf_wipe(&b);
			sa_state_close(st);
			return rc;
		}
		sa_log(SA_LOG_ERR, "state", "%s: corrupt (%s); kept as %s, starting with an empty state", path, why,
		       aside);
		if (corrupt)
			*corrupt = 1;
	}
	sa_buf_wipe(&b);
	*out = st;
	return 0;
}

void sa_state_close(struct sa_state *st)
{
	if (!st)
		return;
	sa_state_clear(st);
	free(st->kv);
	free(st->path);
	free(st);
}

const char *sa_state_get(const struct sa_state *st, const char *key)
{
	size_t i;

	if (!st || !key)
		return NULL;
	i = sa_lower_bound(st, key);
	return i < st->n && strcmp(st->kv[i].key, key) == 0 ? st->kv[i].value : NULL;
}

int sa_state_set(struct sa_state *st, const char *key, const char *value)
{
	char *k, *v;
	size_t i;
	int rc;

	if (!st || !value || !sa_key_valid(key))
		return -EINVAL;
	if (!(v = strdup(value)))
		return -ENOMEM;
	i = sa_lower_bound(st, key);
	if (i < st->n && strcmp(st->kv[i].key, key) == 0) {
		sa_free_secret(st->kv[i].value);
		st->kv[i].value = v;
		return 0;
	}
	if (!(k = strdup(key))) {
		sa_free_secret(v);
		return -ENOMEM;
	}
	rc = sa_state_insert(st, i, k, v);
	if (rc < 0) {
		free(k);
		sa_free_secret(v);
	}
	return rc;
}

int sa_state_del(struct sa_state *st, const char *key)
{
	size_t i;

	if (!st || !key)
		return -EINVAL;
	i = sa_lower_bound(st, key);
	if (i >= st->n || strcmp(st->kv[i].key, key) != 0)
		return -ENOENT;
	free(st->kv[i].key);
	sa_free_secret(st->kv[i].value);
	memmove(&st->kv[i], &st->kv[i + 1], (st->n - i - 1) * sizeof(*st->kv));
	st->n--;
	return 0;
}

void sa_state_foreach(const struct sa_state *st, const char *prefix,
                      void (*cb)(const char *key, const char *value, void *arg), void *arg)
{
	size_t plen;

	if (!st || !cb)
		return;
	if (!prefix)
		prefix = "";
	plen = strlen(prefix);
	/* Keys sharing a prefix are contiguous in sorted order. */
	for (size_t i = sa_lower_bound(st, prefix); i < st->n; i++) {
		if (strncmp(st->kv[i].key, prefix, plen) != 0)
			break;
		cb(st->kv[i].key, st->kv[i].value, arg);
	}
}

int sa_state_commit(struct sa_state *st)
{
	struct sa_buf b = {0};
	char *dir = NULL, *tmp = NULL;
	int fd = -1, dfd, rc;
	size_t tlen;

	if (!st)
		return -EINVAL;
	rc = sa_state_serialize(st, &b);
	if (rc < 0)
		goto out;
	dir = sa_dirname(st->path);
	tlen = strlen(st->path) + 32;
	tmp = malloc(tlen);
	if (!dir || !tmp) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(tmp, tlen, "%s.tmp.%ld", st->path, (long)getpid());
	rc = sa_mkdir_p(dir);
	if (rc < 0)
		goto out;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	/* It will hold secrets: 0600 whatever the umask or a stale file said. */
	if (fchmod(fd, 0600) < 0 || (rc = sa_write_all(fd, b.p, b.len)) < 0 || fsync(fd) < 0) {
		rc = rc ? rc : -errno;
		goto fail_tmp;
	}
	rc = close(fd);
	fd = -1;
	if (rc < 0) {
		rc = -errno;
		goto fail_tmp;
	}
	if (rename(tmp, st->path) < 0) {
		rc = -errno;
		goto fail_tmp;
	}
	/* The rename is only durable once the directory entry is on disk. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		rc = -errno;
		goto out;
	}
	/* EINVAL: this filesystem cannot sync directories; nothing more to do. */
	if (fsync(dfd) < 0 && errno != EINVAL)
		rc = -errno;
	close(dfd);
	goto out;

fail_tmp:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	if (rc < 0)
		sa_log(SA_LOG_ERR, "state", "%s: commit failed: %s", st->path, strerror(-rc));
	sa_buf_wipe(&b);
	free(tmp);
	free(dir);
	return rc;
}
