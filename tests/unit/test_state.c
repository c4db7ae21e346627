/* test_state.c: unit tests for the persistent key/value state (round trip, corruption, journal, transactions, crashes).
 */
#define _GNU_SOURCE /* nftw */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/state.h"
#include "tests/unit/tmpdir.h"

static char tmpdir[256];
static char statepath[512];

static void setup(void)
{
	ut_tmpdir_make(tmpdir, sizeof(tmpdir), "sa_test_state");
	snprintf(statepath, sizeof(statepath), "%s/state", tmpdir);
}

static void teardown(void)
{
	ut_tmpdir_remove(tmpdir);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void spit(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Names of the directory entries other than . and .., joined by spaces. */
static int list_dir(char *out, size_t outlen)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	out[0] = '\0';
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		strncat(out, de->d_name, outlen - strlen(out) - 2);
		strcat(out, " ");
	}
	closedir(d);
	return n;
}

/* The single "state.corrupt.*" file in tmpdir. */
static void find_corrupt(char *out, size_t outlen)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "state.corrupt.", 14) == 0) {
			snprintf(out, outlen, "%s/%s", tmpdir, de->d_name);
			n++;
		}
	}
	closedir(d);
	ck_assert_int_eq(n, 1);
}

static void count_cb(const char *k, const char *v, void *arg)
{
	(void)k;
	(void)v;
	(*(int *)arg)++;
}

static int count(const struct cm_state *st, const char *prefix)
{
	int n = 0;

	cm_state_foreach(st, prefix, count_cb, &n);
	return n;
}

static const char *const tricky[] = {
    "plain",          "",
    "tab\there",      "new\nline\n",
    "back\\slash\\",  "\\x41 looks like an escape \\t",
    "\r\x01\x1f\x7f", "high \x80\x9f\xa0\xc3\xa9\xff bytes",
    "END 3 deadbeef", "SANAGENT-STATE 1",
};

/* A file with a few keys whose bytes the corruption tests mangle. */
static char *make_good_file(size_t *len)
{
	struct cm_state *st;
	char key[32];

	ck_assert_int_eq(cm_state_open(statepath, &st, NULL), 0);
	for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
		snprintf(key, sizeof(key), "row.%zu.value", i);
		ck_assert_int_eq(cm_state_set(st, key, tricky[i]), 0);
	}
	ck_assert_int_eq(cm_state_commit(st), 0);
	cm_state_close(st);
	return slurp(statepath, len);
}

/* Opening a mangled file must report corrupt, start empty and keep the
 * exact bytes aside. */
static void expect_corrupt(const char *bytes, size_t len)
{
	struct cm_state *st = NULL;
	char aside[600];
	size_t alen;
	char *kept;
	int corrupt = 0;

	spit(statepath, bytes, len);
	ck_assert_int_eq(cm_state_open(statepath, &st, &corrupt), 0);
	ck_assert_int_eq(corrupt, 1);
	ck_assert_int_eq(count(st, ""), 0);
	ck_assert_int_eq(access(statepath, F_OK), -1);
	find_corrupt(aside, sizeof(aside));
	kept = slurp(aside, &alen);
	ck_assert_uint_eq(alen, len);
	ck_assert(memcmp(kept, bytes, len) == 0);
	free(kept);
	/* And the next commit writes a fresh, loadable file. */
	ck_assert_int_eq(cm_state_set(st, "after", "corrupt"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	cm_state_close(st);
	ck_assert_int_eq(cm_state_open(statepath, &st, &corrupt), 0);
	ck_assert_int_eq(corrupt, 0);
	ck_assert_str_eq(cm_state_get(st, "after"), "corrupt");
	cm_state_close(st);
}

START_TEST(test_roundtrip)
{
	struct cm_state *st;
	char key[32], path[600];
	struct stat sb;
	int corrupt = -1;

	/* A missing directory is created 0700, the file 0600. */
	snprintf(path, sizeof(path), "%s/sub/dir/state", tmpdir);
	ck_assert_int_eq(cm_state_open(path, &st, &corrupt), 0);
	ck_assert_int_eq(corrupt, 0);
	for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
		snprintf(key, sizeof(key), "k.%zu", i);
		ck_assert_int_eq(cm_state_set(st, key, tricky[i]), 0);
	}
	ck_assert_int_eq(cm_state_set(st, "k.0", "replaced"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	cm_state_close(st);

	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0600);
	snprintf(path, sizeof(path), "%s/sub/dir", tmpdir);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0700);

	snprintf(path, sizeof(path), "%s/sub/dir/state", tmpdir);
	ck_assert_int_eq(cm_state_open(path, &st, &corrupt), 0);
	ck_assert_int_eq(corrupt, 0);
	ck_assert_int_eq(count(st, ""), (int)(sizeof(tricky) / sizeof(tricky[0])));
	ck_assert_str_eq(cm_state_get(st, "k.0"), "replaced");
	for (size_t i = 1; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
		snprintf(key, sizeof(key), "k.%zu", i);
		ck_assert_ptr_nonnull(cm_state_get(st, key));
		ck_assert_str_eq(cm_state_get(st, key), tricky[i]);
	}
	cm_state_close(st);
}
END_TEST

/* Independent CRC-32 (IEEE, bitwise) so the test does not trust the code under test. */
static unsigned sa_test_crc32(const char *s, size_t len)
{
	unsigned c = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		c ^= (unsigned char)s[i];
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
	}
	return c ^ 0xffffffffu;
}

START_TEST(test_file_format)
{
	struct cm_state *st;
	static const char want[] = "SANAGENT-STATE 1\na\t1\nb\tx\\ty\\\\z\\n\\xff\nEND 2 ";
	size_t len, wlen = sizeof(want) - 1;
	char *buf;

	ck_assert_int_eq(cm_state_open(statepath, &st, NULL), 0);
	ck_assert_int_eq(cm_state_set(st, "b", "x\ty\\z\n\xff"), 0);
	ck_assert_int_eq(cm_state_set(st, "a", "1"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	cm_state_close(st);
	buf = slurp(statepath, &len);
	/* Header, keys in order, one escaped line each, then the trailer. */
	ck_assert_uint_eq(len, wlen + 9);
	ck_assert(strncmp(buf, want, wlen) == 0);
	ck_assert_uint_eq(strtoul(buf + wlen, NULL, 16), sa_test_crc32(buf, wlen - 6));
	ck_assert_int_eq(buf[len - 1], '\n');
	free(buf);
}
END_TEST

struct seen {
	char keys[512];
};

static void seen_cb(const char *k, const char *v, void *arg)
{
	struct seen *s = arg;

	(void)v;
	strcat(s->keys, k);
	strcat(s->keys, " ");
}

START_TEST(test_foreach_prefix)
{
	static const char *const keys[] = {"b", "a.2", "ab", "a.10", "a.", "a.1", "a", "c.1"};
	struct cm_state *st;
	struct seen s;

	ck_assert_int_eq(cm_state_open(statepath, &st, NULL), 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_int_eq(cm_state_set(st, keys[i], keys[i]), 0);

	memset(&s, 0, sizeof(s));
	cm_state_foreach(st, "a.", seen_cb, &s);
	ck_assert_str_eq(s.keys, "a. a.1 a.10 a.2 ");
	memset(&s, 0, sizeof(s));
	cm_state_foreach(st, "", seen_cb, &s);
	ck_assert_str_eq(s.keys, "a a. a.1 a.10 a.2 ab b c.1 ");
	memset(&s, 0, sizeof(s));
	cm_state_foreach(st, "a", seen_cb, &s);
	ck_assert_str_eq(s.keys, "a a. a.1 a.10 a.2 ab ");
	ck_assert_int_eq(count(st, "zzz"), 0);
	ck_assert_int_eq(count(st, "0"), 0);

	/* Order survives a reload. */
	ck_assert_int_eq(cm_state_commit(st), 0);
	cm_state_close(st);
	ck_assert_int_eq(cm_state_open(statepath, &st, NULL), 0);
	memset(&s, 0, sizeof(s));
	cm_state_foreach(st, "a.", seen_cb, &s);
	ck_assert_str_eq(s.keys, "a. a.1 a.10 a.2 ");
	cm_state_close(st);
}
END_TEST

START_TEST(test_del)
{
	struct cm_state *st;

	ck_assert_int_eq(cm_state_open(statepath, &st, NULL), 0);
	ck_assert_int_eq(cm_state_set(st, "x.1", "one"), 0);
	ck_assert_int_eq(cm_state_set(st, "x.2", "two"), 0);
	ck_assert_int_eq(cm_state_set(st, "x.3", "three"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	ck_assert_int_eq(cm_state_del(st, "x.2"), 0);
	ck_assert_ptr_null(cm_state_get(st, "x.2"));
	ck_assert_int_eq(cm_state_del(st, "x.2"), -ENOENT);
	ck_assert_int_eq(cm_state_del(st, "nope"), -ENOENT);
	ck_assert_int_eq(count(st, "x."), 2);
	ck_assert_int_eq(cm_state_commit(st), 0);
	cm_state_close(st);

	ck_assert_int_eq(cm_state_open(statepath, &st, NULL), 0);
	ck_assert_ptr_null(cm_state_get(st, "x.2"));
	ck_assert_str_eq(cm_state_get(st, "x.1"), "one");
	ck_assert_str_eq(cm_state_get(st, "x.3"), "three");
	ck_assert_int_eq(cm_state_del(st, "x.1"), 0);
	ck_assert_int_eq(cm_state_del(st, "x.3"), 0);
	ck_assert_int_eq(count(st, ""), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	cm_state_close(st);
	ck_assert_int_eq(cm_state_open(statepath, &st, NULL), 0);
	ck_assert_int_eq(count(st, ""), 0);
	cm_state_close(st);
}
END_TEST

START_TEST(test_bad_keys)
{
	struct cm_state *st;

	ck_assert_int_eq(cm_state_open(statepath, &st, NULL), 0);
	ck_assert_int_eq(cm_state_set(st, "", "v"), -EINVAL);
	ck_assert_int_eq(cm_state_set(st, "a b", "v"), -EINVAL);
	ck_assert_int_eq(cm_state_set(st, "a\tb", "v"), -EINVAL);
	ck_assert_int_eq(cm_state_set(st, "a\nb", "v"), -EINVAL);
	ck_assert_int_eq(cm_state_set(st, "caf\xc3\xa9", "v"), -EINVAL);
	ck_assert_int_eq(cm_state_set(st, NULL, "v"), -EINVAL);
	ck_assert_int_eq(cm_state_set(st, "ok", NULL), -EINVAL);
	ck_assert_int_eq(count(st, ""), 0);
	ck_assert_int_eq(cm_state_open("", &st, NULL), -EINVAL);
	cm_state_close(st);
}
END_TEST

START_TEST(test_missing_file)
{
	struct cm_state *st;
	char names[256];
	int corrupt = -1;

	ck_assert_int_eq(cm_state_open(statepath, &st, &corrupt), 0);
	ck_assert_int_eq(corrupt, 0);
	ck_assert_int_eq(count(st, ""), 0);
	ck_assert_ptr_null(cm_state_get(st, "anything"));
	cm_state_close(st);
	/* Opening alone creates nothing. */
	ck_assert_int_eq(list_dir(names, sizeof(names)), 0);
}
END_TEST

START_TEST(test_commit_leaves_no_temp)
{
	struct cm_state *st;
	char names[256];

	ck_assert_int_eq(cm_state_open(statepath, &st, NULL), 0);
	for (int round = 0; round < 3; round++) {
		ck_assert_int_eq(cm_state_set(st, "k", round ? "again" : "first"), 0);
		ck_assert_int_eq(cm_state_commit(st), 0);
		/* The first commit writes the snapshot, later ones the journal. */
		ck_assert_int_eq(list_dir(names, sizeof(names)), round ? 2 : 1);
		ck_assert_str_eq(names,
		                 round ? (strncmp(names, "state ", 6) ? "state.journal state " : "state state.journal ")
		                       : "state ");
	}
	cm_state_close(st);
}
END_TEST

START_TEST(test_commit_failure)
{
	struct cm_state *st;
	char path[600], names[256];

	/* The state directory turns out to be a regular file: mkdir fails. */
	snprintf(path, sizeof(path), "%s/d/state", tmpdir);
	ck_assert_int_eq(cm_state_open(path, &st, NULL), 0);
	ck_assert_int_eq(cm_state_set(st, "k", "v"), 0);
	snprintf(path, sizeof(path), "%s/d", tmpdir);
	spit(path, "x", 1);
	ck_assert_int_eq(cm_state_commit(st), -ENOTDIR);
	cm_state_close(st);
	ck_assert_int_eq(list_dir(names, sizeof(names)), 1);
	ck_assert_str_eq(names, "d ");
	unlink(path);

	/* The state path turns out to be a directory: the rename fails and
	 * the temp file must not stay behind. */
	ck_assert_int_eq(cm_state_open(statepath, &st, NULL), 0);
	ck_assert_int_eq(cm_state_set(st, "k", "v"), 0);
	ck_assert_int_eq(mkdir(statepath, 0700), 0);
	snprintf(path, sizeof(path), "%s/inside", statepath);
	spit(path, "x", 1);
	ck_assert_int_lt(cm_state_commit(st), 0);
	cm_state_close(st);
	ck_assert_int_eq(list_dir(names, sizeof(names)), 1);
	ck_assert_str_eq(names, "state ");
}
END_TEST

START_TEST(test_stale_temp_swept)
{
	struct cm_state *st;
	char path[600], names[256];

	/* No process has this pid (above any pid_max), so its temp file is debris. */
	snprintf(path, sizeof(path), "%s.tmp.2147483646", statepath);
	spit(path, "half", 4);
	/* Not ours: must be left alone. */
	snprintf(path, sizeof(path), "%s.tmp.notapid", statepath);
	spit(path, "keep", 4);
	ck_assert_int_eq(cm_state_open(statepath, &st, NULL), 0);
	cm_state_close(st);
	ck_assert_int_eq(list_dir(names, sizeof(names)), 1);
	ck_assert_str_eq(names, "state.tmp.notapid ");
}
END_TEST

/* Cut points are fractions of the file, plus both ends. */
static const int cut_permille[] = {0, 1, 5, 300, 500, 900, 990, 995, 998, 999};

START_TEST(test_truncated)
{
	size_t len, cut;
	char *good = make_good_file(&len);

	unlink(statepath);
	cut = (size_t)cut_permille[_i] * len / 1000;
	if (_i == 1)
		cut = 1;
	if (_i == (int)(sizeof(cut_permille) / sizeof(cut_permille[0])) - 1)
		cut = len - 1; /* only the final newline missing */
	ck_assert_uint_lt(cut, len);
	expect_corrupt(good, cut);
	free(good);
}
END_TEST

START_TEST(test_flipped_byte)
{
	size_t len, pos;
	char *good = make_good_file(&len);

	unlink(statepath);
	/* Spread over header, keys, escaped values, count and CRC. */
	pos = (size_t)_i * (len - 1) / 15;
	good[pos] ^= 0x04;
	expect_corrupt(good, len);
	free(good);
}
END_TEST

START_TEST(test_garbage)
{
	static const char junk[] = "hello world\nthis is not\ta state file\n";
	char rnd[4096];

	expect_corrupt(junk, sizeof(junk) - 1);
	unlink(statepath);
	ut_tmpdir_remove(tmpdir);
	mkdir(tmpdir, 0700);
	srand(42);
	for (size_t i = 0; i < sizeof(rnd); i++)
		rnd[i] = (char)(rand() & 0xff);
	expect_corrupt(rnd, sizeof(rnd));
}
END_TEST

START_TEST(test_well_formed_but_wrong)
{
	/* Valid CRCs, but a lie in the content: each must still be refused. */
	static const char *const bodies[] = {
	    "SANAGENT-STATE 1\nb\t1\na\t2\n",  /* keys out of order */
	    "SANAGENT-STATE 1\na\t1\na\t2\n",  /* duplicate key */
	    "SANAGENT-STATE 1\na\tbad\\q\n",   /* unknown escape */
	    "SANAGENT-STATE 1\na\tnul\\x00\n", /* escaped NUL */
	    "SANAGENT-STATE 1\na\tcut\\x4\n",  /* short hex escape */
	    "SANAGENT-STATE 1\na\traw\ttab\n", /* raw tab in value */
	    "SANAGENT-STATE 1\nno-tab-here\n", /* no separator */
	    "SANAGENT-STATE 2\na\t1\n",        /* unknown version */
	};
	static const unsigned counts[] = {2, 2, 1, 1, 1, 1, 1, 1};
	char buf[256];
	int n;

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		n = snprintf(buf, sizeof(buf), "%sEND %u %08x\n", bodies[i], counts[i],
		             sa_test_crc32(bodies[i], strlen(bodies[i])));
		expect_corrupt(buf, (size_t)n);
		ut_tmpdir_remove(tmpdir);
		mkdir(tmpdir, 0700);
	}
	/* Right CRC, wrong count. */
	n = snprintf(buf, sizeof(buf), "SANAGENT-STATE 1\na\t1\nEND 2 %08x\n",
	             sa_test_crc32("SANAGENT-STATE 1\na\t1\n", 21));
	expect_corrupt(buf, (size_t)n);
}
END_TEST

START_TEST(test_corrupt_twice_same_second)
{
	struct cm_state *st;
	char names[512];
	int corrupt;

	/* Two corruptions within one second must not overwrite the first copy. */
	spit(statepath, "first junk\n", 11);
	ck_assert_int_eq(cm_state_open(statepath, &st, &corrupt), 0);
	ck_assert_int_eq(corrupt, 1);
	cm_state_close(st);
	spit(statepath, "second junk\n", 12);
	ck_assert_int_eq(cm_state_open(statepath, &st, &corrupt), 0);
	ck_assert_int_eq(corrupt, 1);
	cm_state_close(st);
	ck_assert_int_eq(list_dir(names, sizeof(names)), 2);
	ck_assert_ptr_nonnull(strstr(names, "state.corrupt."));
}
END_TEST

/* ---- journal ------------------------------------------------------------------- */

static char journalpath[600], oldjournalpath[600];

static void jpaths(void)
{
	snprintf(journalpath, sizeof(journalpath), "%s.journal", statepath);
	snprintf(oldjournalpath, sizeof(oldjournalpath), "%s.journal.old", statepath);
}

static off_t fsize(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static struct cm_state *reopen(struct cm_state *st, int want_corrupt)
{
	int corrupt = -1;

	cm_state_close(st);
	ck_assert_int_eq(cm_state_open(statepath, &st, &corrupt), 0);
	ck_assert_int_eq(corrupt, want_corrupt);
	return st;
}

/* Base snapshot "base.N" (N < 50), then commits that set, change and delete. */
static struct cm_state *journal_fixture(void)
{
	struct cm_state *st;
	char k[32], v[64];

	jpaths();
	ck_assert_int_eq(cm_state_open(statepath, &st, NULL), 0);
	for (int i = 0; i < 50; i++) {
		snprintf(k, sizeof(k), "base.%02d", i);
		snprintf(v, sizeof(v), "value %d\t%s", i, tricky[i % 10]);
		ck_assert_int_eq(cm_state_set(st, k, v), 0);
	}
	ck_assert_int_eq(cm_state_commit(st), 0);
	ck_assert_int_eq(fsize(journalpath), -1);
	return st;
}

START_TEST(test_journal_replay)
{
	struct cm_state *st = journal_fixture();
	struct cm_state_stats ss;
	off_t snap = fsize(statepath);

	ck_assert_int_eq(cm_state_set(st, "new", "high \xff and \n"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	ck_assert_int_eq(cm_state_del(st, "base.07"), 0);
	ck_assert_int_eq(cm_state_set(st, "base.08", "changed"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	/* Set and deleted within one commit: recorded as a delete. */
	ck_assert_int_eq(cm_state_set(st, "gone", "x"), 0);
	ck_assert_int_eq(cm_state_del(st, "gone"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	/* A commit with nothing changed writes nothing. */
	ck_assert_int_eq(cm_state_commit(st), 0);
	cm_state_stats(st, &ss);
	ck_assert_uint_eq(ss.journal_commits, 3);
	ck_assert_uint_eq(ss.compactions, 1); /* the first commit: the snapshot */
	/* The snapshot was not rewritten: the commits only appended. */
	ck_assert_int_eq(fsize(statepath), snap);
	ck_assert_uint_eq((unsigned long long)fsize(journalpath), ss.journal_bytes);
	ck_assert_int_eq(fsize(journalpath) < 200, 1);
	ck_assert_int_eq(access(journalpath, F_OK), 0);
	{
		struct stat sb;

		ck_assert_int_eq(stat(journalpath, &sb), 0);
		ck_assert_int_eq(sb.st_mode & 0777, 0600);
	}
	st = reopen(st, 0);
	ck_assert_str_eq(cm_state_get(st, "new"), "high \xff and \n");
	ck_assert_ptr_null(cm_state_get(st, "base.07"));
	ck_assert_ptr_null(cm_state_get(st, "gone"));
	ck_assert_str_eq(cm_state_get(st, "base.08"), "changed");
	ck_assert_str_eq(cm_state_get(st, "base.05"), "value 5\t\\x41 looks like an escape \\t");
	ck_assert_int_eq(count(st, ""), 50);
	/* Appending goes on after the replayed records. */
	ck_assert_int_eq(cm_state_set(st, "after", "reopen"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	st = reopen(st, 0);
	ck_assert_str_eq(cm_state_get(st, "after"), "reopen");
	ck_assert_str_eq(cm_state_get(st, "base.08"), "changed");
	cm_state_close(st);
}
END_TEST

/* Every cut inside the last record (a crash during its write) loads the
 * state before that commit; the cut at its end loads the state after. */
START_TEST(test_torn_tail)
{
	struct cm_state *st = journal_fixture();
	char k[32], *full;
	size_t flen, before;

	ck_assert_int_eq(cm_state_set(st, "first", "1"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	before = (size_t)fsize(journalpath);
	/* One commit of ten keys, like a ten-varbind PDU. */
	for (int i = 0; i < 10; i++) {
		snprintf(k, sizeof(k), "pdu.%d", i);
		ck_assert_int_eq(cm_state_set(st, k, "created"), 0);
	}
	ck_assert_int_eq(cm_state_del(st, "base.00"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	cm_state_close(st);
	full = slurp(journalpath, &flen);
	{
		size_t slen;
		char *snap = slurp(statepath, &slen);

		for (size_t cut = before; cut <= flen; cut++) {
			int n;

			spit(statepath, snap, slen);
			spit(journalpath, full, cut);
			ck_assert_int_eq(cm_state_open(statepath, &st, NULL), 0);
			n = count(st, "pdu.");
			ck_assert_str_eq(cm_state_get(st, "first"), "1");
			if (cut == flen) {
				ck_assert_int_eq(n, 10);
				ck_assert_ptr_null(cm_state_get(st, "base.00"));
			} else {
				ck_assert_msg(n == 0, "cut at %zu of %zu: %d of 10 keys", cut, flen, n);
				ck_assert_ptr_nonnull(cm_state_get(st, "base.00"));
			}
			/* Still usable, and the dropped bytes do not hide later commits. */
			ck_assert_int_eq(cm_state_set(st, "later", "yes"), 0);
			ck_assert_int_eq(cm_state_commit(st), 0);
			st = reopen(st, 0);
			ck_assert_str_eq(cm_state_get(st, "later"), "yes");
			ck_assert_int_eq(count(st, "pdu."), cut == flen ? 10 : 0);
			cm_state_close(st);
			unlink(journalpath);
		}
		free(snap);
	}
	free(full);
}
END_TEST

/* A damaged record with whole records after it is not a crash: the journal
 * is kept aside, the load says corrupt and keeps what came before. */
START_TEST(test_journal_damaged)
{
	struct cm_state *st = journal_fixture();
	char *buf, names[512];
	size_t len;

	ck_assert_int_eq(cm_state_set(st, "one", "1"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	ck_assert_int_eq(cm_state_set(st, "two", "2"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	ck_assert_int_eq(cm_state_set(st, "three", "3"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	cm_state_close(st);
	buf = slurp(journalpath, &len);
	/* The payload of the second record: "+two\t2\n". */
	{
		char *p = strstr(buf, "+two\t2");

		ck_assert_ptr_nonnull(p);
		p[5] = '9';
	}
	spit(journalpath, buf, len);
	free(buf);
	st = reopen(NULL, 1);
	ck_assert_str_eq(cm_state_get(st, "one"), "1");
	ck_assert_ptr_null(cm_state_get(st, "two"));
	ck_assert_ptr_null(cm_state_get(st, "three"));
	ck_assert_int_eq(count(st, "base."), 50);
	cm_state_close(st);
	list_dir(names, sizeof(names));
	ck_assert_msg(strstr(names, "state.journal.corrupt.") != NULL, "dir: %s", names);
	/* What was loaded is a snapshot now; the damaged journal is not replayed again. */
	st = reopen(NULL, 0);
	ck_assert_str_eq(cm_state_get(st, "one"), "1");
	cm_state_close(st);
}
END_TEST

START_TEST(test_compaction)
{
	struct cm_state *st = journal_fixture();
	struct cm_state_stats ss;
	char k[32], v[200];
	int i;

	/* Commits of ~1 KiB until a compaction starts, then a few more. */
	memset(v, 'v', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	for (i = 0;; i++) {
		snprintf(k, sizeof(k), "big.%04d", i % 1000);
		ck_assert_int_eq(cm_state_set(st, k, v), 0);
		snprintf(k, sizeof(k), "gen");
		snprintf(v, 16, "%d", i);
		v[strlen(v)] = 'v';
		ck_assert_int_eq(cm_state_set(st, k, v), 0);
		ck_assert_int_eq(cm_state_commit(st), 0);
		cm_state_stats(st, &ss);
		if (ss.compactions >= 2 || ss.compacting)
			break;
		ck_assert_int_lt(i, 100000);
	}
	/* The commit that started it did not wait: the journal restarts. */
	ck_assert_int_eq(access(journalpath, F_OK), -1);
	ck_assert_int_eq(cm_state_set(st, "after", "compaction"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	ck_assert_int_eq(access(journalpath, F_OK), 0);
	cm_state_close(st); /* waits for the child */
	ck_assert_int_eq(access(oldjournalpath, F_OK), -1);
	st = reopen(NULL, 0);
	cm_state_stats(st, &ss);
	ck_assert_str_eq(cm_state_get(st, "after"), "compaction");
	ck_assert_int_eq(count(st, "big."), i + 1 < 1000 ? i + 1 : 1000);
	ck_assert_int_eq(atoi(cm_state_get(st, "gen")), i);
	/* The new snapshot holds everything but "after". */
	ck_assert_int_gt(fsize(statepath), 50 * 10 + (i + 1 < 1000 ? i + 1 : 1000) * 200);
	ck_assert_int_lt(ss.journal_bytes, 200);
	cm_state_close(st);
}
END_TEST

/* Writes the base (50 keys), then 20 commits; returns the journal bytes of
 * those commits and the snapshot before them. */
static void history(char **snap, size_t *slen, char **jour, size_t *jlen)
{
	struct cm_state *st = journal_fixture();
	char k[32], v[32];

	*snap = slurp(statepath, slen);
	for (int i = 0; i < 20; i++) {
		snprintf(k, sizeof(k), "base.%02d", i);
		snprintf(v, sizeof(v), "round %d", i);
		if (i % 3 == 0)
			ck_assert_int_eq(cm_state_del(st, k), 0);
		else
			ck_assert_int_eq(cm_state_set(st, k, v), 0);
		ck_assert_int_eq(cm_state_commit(st), 0);
	}
	cm_state_close(st);
	*jour = slurp(journalpath, jlen);
}

static void check_history(struct cm_state *st, const char *last)
{
	char k[32], v[32];

	for (int i = 0; i < 20; i++) {
		snprintf(k, sizeof(k), "base.%02d", i);
		snprintf(v, sizeof(v), "round %d", i);
		if (i % 3 == 0)
			ck_assert_ptr_null(cm_state_get(st, k));
		else if (i != 1 || !last)
			ck_assert_str_eq(cm_state_get(st, k), v);
	}
	if (last)
		ck_assert_str_eq(cm_state_get(st, "base.01"), last);
	ck_assert_int_eq(count(st, "base."), 50 - 7);
}

START_TEST(test_crash_around_snapshot_rename)
{
	struct cm_state *st;
	char *snap, *jour, *newsnap;
	size_t slen, jlen, nlen;

	history(&snap, &slen, &jour, &jlen);
	ck_assert_int_eq(cm_state_open(statepath, &st, NULL), 0);
	ck_assert_int_eq(cm_state_compact(st), 0);
	cm_state_close(st);
	newsnap = slurp(statepath, &nlen);

	/* 1. Killed before the child renamed its snapshot: the old snapshot,
	 * P.journal.old, and a P.journal the parent went on writing. */
	spit(statepath, snap, slen);
	spit(oldjournalpath, jour, jlen);
	unlink(journalpath);
	ck_assert_int_eq(cm_state_open(statepath, &st, NULL), 0);
	check_history(st, NULL);
	cm_state_close(st);
	/* The open folded P.journal.old into a snapshot. */
	ck_assert_int_eq(access(oldjournalpath, F_OK), -1);

	spit(statepath, snap, slen);
	spit(oldjournalpath, jour, jlen);
	{
		/* A later commit in a fresh P.journal, written by a store that
		 * saw the same history (so the records are genuine). */
		struct cm_state *w;

		spit(statepath, newsnap, nlen);
		unlink(oldjournalpath);
		ck_assert_int_eq(cm_state_open(statepath, &w, NULL), 0);
		ck_assert_int_eq(cm_state_set(w, "base.01", "newest"), 0);
		ck_assert_int_eq(cm_state_commit(w), 0);
		cm_state_close(w);
		spit(statepath, snap, slen);
		spit(oldjournalpath, jour, jlen);
	}
	ck_assert_int_eq(cm_state_open(statepath, &st, NULL), 0);
	check_history(st, "newest");
	cm_state_close(st);

	/* 2. Killed after the rename, before P.journal.old was removed: the
	 * new snapshot already holds it; replaying it again changes nothing. */
	spit(statepath, newsnap, nlen);
	spit(oldjournalpath, jour, jlen);
	unlink(journalpath);
	ck_assert_int_eq(cm_state_open(statepath, &st, NULL), 0);
	check_history(st, NULL);
	cm_state_close(st);
	free(snap);
	free(jour);
	free(newsnap);
}
END_TEST

START_TEST(test_transaction)
{
	struct cm_state *st = journal_fixture();
	struct cm_state_stats ss;
	off_t j0;
	char k[32];

	ck_assert_int_eq(cm_state_set(st, "warm", "up"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	j0 = fsize(journalpath);
	cm_state_begin(st);
	ck_assert_int_eq(cm_state_in_transaction(st), 1);
	for (int i = 0; i < 10; i++) {
		snprintf(k, sizeof(k), "base.%02d", i);
		ck_assert_int_eq(cm_state_del(st, k), 0);
		/* What engines do after each change: deferred, writes nothing. */
		ck_assert_int_eq(cm_state_commit(st), 0);
		ck_assert_int_eq(fsize(journalpath), j0);
	}
	/* Nested (a second table of the same PDU): still one commit. */
	cm_state_begin(st);
	ck_assert_int_eq(cm_state_set(st, "other.table", "row"), 0);
	ck_assert_int_eq(cm_state_end(st), 0);
	ck_assert_int_eq(fsize(journalpath), j0);
	ck_assert_uint_eq(cm_state_pending(st), 11);
	ck_assert_int_eq(cm_state_end(st), 0);
	ck_assert_int_eq(cm_state_in_transaction(st), 0);
	ck_assert_uint_eq(cm_state_pending(st), 0);
	cm_state_stats(st, &ss);
	ck_assert_uint_eq(ss.journal_commits, 2); /* "warm", then the whole transaction */
	ck_assert_int_gt(fsize(journalpath), j0);
	ck_assert_int_eq(cm_state_end(st), -EINVAL); /* unbalanced */
	st = reopen(st, 0);
	ck_assert_int_eq(count(st, "base."), 40);
	ck_assert_str_eq(cm_state_get(st, "other.table"), "row");
	cm_state_close(st);
}
END_TEST

/* A failed commit inside a transaction: the changes stay pending and the
 * next commit writes whatever the values are by then. */
START_TEST(test_transaction_failure)
{
	struct cm_state *st = journal_fixture();

	cm_state_begin(st);
	ck_assert_int_eq(cm_state_set(st, "a", "1"), 0);
	/* The journal cannot be created: its name is taken by a directory. */
	ck_assert_int_eq(mkdir(journalpath, 0700), 0);
	ck_assert_int_lt(cm_state_end(st), 0);
	ck_assert_uint_eq(cm_state_pending(st), 1);
	ck_assert_str_eq(cm_state_get(st, "a"), "1");
	ck_assert_int_eq(rmdir(journalpath), 0);
	ck_assert_int_eq(cm_state_set(st, "b", "2"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	ck_assert_uint_eq(cm_state_pending(st), 0);
	st = reopen(st, 0);
	ck_assert_str_eq(cm_state_get(st, "a"), "1");
	ck_assert_str_eq(cm_state_get(st, "b"), "2");
	cm_state_close(st);
}
END_TEST

/* A writer killed at random moments while it commits ten-key transactions
 * (and compacts): every load finds whole transactions only. */
/* A tool reading a running agent's state changes no file, even with a torn
 * tail (a commit being written) or a damaged snapshot. */
START_TEST(test_readonly)
{
	struct cm_state *st = journal_fixture(), *ro;
	char before[512], after[512];
	int corrupt = -1;

	ck_assert_int_eq(cm_state_set(st, "one", "1"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	cm_state_close(st);
	{
		int fd = open(journalpath, O_WRONLY | O_APPEND);

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, "J 99 0000", 9), 9); /* a record being written */
		close(fd);
	}
	list_dir(before, sizeof(before));
	ck_assert_int_eq(cm_state_open_readonly(statepath, &ro, &corrupt), 0);
	ck_assert_int_eq(corrupt, 0);
	ck_assert_str_eq(cm_state_get(ro, "one"), "1");
	ck_assert_int_eq(count(ro, "base."), 50);
	ck_assert_int_eq(cm_state_set(ro, "x", "y"), 0); /* memory only */
	ck_assert_int_eq(cm_state_commit(ro), -EROFS);
	ck_assert_int_eq(cm_state_compact(ro), -EROFS);
	cm_state_close(ro);
	list_dir(after, sizeof(after));
	ck_assert_str_eq(before, after);
	ck_assert_ptr_nonnull(strstr(after, "state.journal"));
	/* A writer opening it drops the torn record and goes on. */
	st = reopen(NULL, 0);
	ck_assert_str_eq(cm_state_get(st, "one"), "1");
	cm_state_close(st);
}
END_TEST

/* Starting a compaction returns at once; the snapshot it writes holds
 * everything committed before, and commits made meanwhile survive too. */
START_TEST(test_compact_background)
{
	struct cm_state *st = journal_fixture();
	struct cm_state_stats ss;

	ck_assert_int_eq(cm_state_set(st, "before", "1"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	ck_assert_int_eq(cm_state_compact_background(st), 0);
	cm_state_stats(st, &ss);
	ck_assert_int_eq(cm_state_compact_background(st), ss.compacting ? -EBUSY : 0);
	ck_assert_int_eq(cm_state_set(st, "during", "2"), 0);
	ck_assert_int_eq(cm_state_del(st, "base.03"), 0);
	ck_assert_int_eq(cm_state_commit(st), 0);
	cm_state_close(st);
	ck_assert_int_eq(access(oldjournalpath, F_OK), -1);
	st = reopen(NULL, 0);
	ck_assert_str_eq(cm_state_get(st, "before"), "1");
	ck_assert_str_eq(cm_state_get(st, "during"), "2");
	ck_assert_ptr_null(cm_state_get(st, "base.03"));
	cm_state_close(st);
}
END_TEST

/* 3 to 9 KB per key, so the journal outgrows the snapshot and compactions
 * run (and get killed) too. */
static char big[10000];

static void sigkill_value(char *out, unsigned long gen, int i)
{
	int n = snprintf(out, 64, "gen %lu row %d ", gen, i);

	memset(out + n, 'p', (size_t)(3000 + i * 700 - n));
	out[3000 + i * 700] = '\0';
}

START_TEST(test_sigkill_transactions)
{
	char k[32], v[64];
	unsigned long last_seen = 0;

	jpaths();
	srand((unsigned)time(NULL));
	for (int round = 0; round < 25; round++) {
		int p[2];
		pid_t pid;
		char buf[32];
		struct cm_state *st;
		const char *g;
		unsigned long gen;
		int corrupt = -1;

		ck_assert_int_eq(pipe(p), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			close(p[0]);
			if (cm_state_open(statepath, &st, NULL) < 0)
				_exit(2);
			g = cm_state_get(st, "gen");
			gen = g ? strtoul(g, NULL, 10) : 0;
			for (;;) {
				gen++;
				cm_state_begin(st);
				snprintf(v, sizeof(v), "%lu", gen);
				cm_state_set(st, "gen", v);
				cm_state_commit(st);
				for (int i = 0; i < 10; i++) {
					snprintf(k, sizeof(k), "row.%d", i);
					sigkill_value(big, gen, i);
					cm_state_set(st, k, big);
					cm_state_commit(st);
				}
				if (cm_state_end(st) < 0)
					_exit(3);
				if (gen % 5 == 0)
					(void)!write(p[1], "c", 1); /* some progress made */
			}
		}
		close(p[1]);
		ck_assert_int_eq(read(p[0], buf, 1), 1);
		usleep((useconds_t)(rand() % 30000));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(p[0]);
		ck_assert_int_eq(cm_state_open(statepath, &st, &corrupt), 0);
		ck_assert_int_eq(corrupt, 0);
		g = cm_state_get(st, "gen");
		ck_assert_ptr_nonnull(g);
		gen = strtoul(g, NULL, 10);
		ck_assert_uint_ge(gen, last_seen);
		for (int i = 0; i < 10; i++) {
			const char *got;

			snprintf(k, sizeof(k), "row.%d", i);
			sigkill_value(big, gen, i);
			got = cm_state_get(st, k);
			ck_assert_msg(got && strcmp(got, big) == 0, "round %d: %s from another gen than %lu", round, k,
			              gen);
		}
		last_seen = gen;
		cm_state_close(st);
	}
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_file_format);
	tcase_add_test(tc, test_foreach_prefix);
	tcase_add_test(tc, test_del);
	tcase_add_test(tc, test_bad_keys);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_commit_leaves_no_temp);
	tcase_add_test(tc, test_commit_failure);
	tcase_add_test(tc, test_stale_temp_swept);
	tcase_add_loop_test(tc, test_truncated, 0, (int)(sizeof(cut_permille) / sizeof(cut_permille[0])));
	tcase_add_loop_test(tc, test_flipped_byte, 0, 16);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_well_formed_but_wrong);
	tcase_add_test(tc, test_corrupt_twice_same_second);
	tcase_add_test(tc, test_journal_replay);
	tcase_add_test(tc, test_torn_tail);
	tcase_add_test(tc, test_journal_damaged);
	tcase_add_test(tc, test_compaction);
	tcase_add_test(tc, test_crash_around_snapshot_rename);
	tcase_add_test(tc, test_transaction);
	tcase_add_test(tc, test_transaction_failure);
	tcase_add_test(tc, test_readonly);
	tcase_add_test(tc, test_compact_background);
	tcase_add_test(tc, test_sigkill_transactions);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(state_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
