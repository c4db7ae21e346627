/* test_sp_chap.c: the CHAP credentials file: round trip, permissions, partial files, messages without secrets. */
#define _GNU_SOURCE /* nftw in tmpdir.h */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "iscsi/sp_chap.h"
#include "tests/unit/tmpdir.h"

static char dir[256], file[300];

static void setup(void)
{
	ut_tmpdir_make(dir, sizeof(dir), "sp_chap");
	snprintf(file, sizeof(file), "%s/c.chap", dir);
}

static void teardown(void)
{
	ut_tmpdir_remove(dir);
}

static void put(const char *text, mode_t mode)
{
	FILE *f = fopen(file, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(file, mode), 0);
}

START_TEST(test_roundtrip)
{
	struct sp_chap w, r;
	struct stat st;
	char why[256] = "";

	memset(&w, 0, sizeof(w));
	memset(&r, 0, sizeof(r));
	strcpy(w.user, "alice");
	strcpy(w.secret, "s3cret=with=equals");
	strcpy(w.target_user, "tgt");
	strcpy(w.target_secret, "other-secret-12");
	ck_assert_int_eq(sp_chap_file_write(file, &w), 0);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(sp_chap_file_read(file, &r, why, sizeof(why)), 0);
	ck_assert_str_eq(r.user, "alice");
	ck_assert_str_eq(r.secret, "s3cret=with=equals");
	ck_assert_str_eq(r.target_user, "tgt");
	ck_assert_str_eq(r.target_secret, "other-secret-12");
	/* One-way CHAP writes no target lines. */
	memset(w.target_user, 0, sizeof(w.target_user));
	memset(w.target_secret, 0, sizeof(w.target_secret));
	ck_assert_int_eq(sp_chap_file_write(file, &w), 0);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(sp_chap_file_read(file, &r, why, sizeof(why)), 0);
	ck_assert_str_eq(r.target_user, "");
	sp_chap_wipe(&r);
	ck_assert_str_eq(r.secret, "");
}
END_TEST

START_TEST(test_refusals)
{
	struct sp_chap c;
	char why[256];

	memset(&c, 0, sizeof(c));
	/* Readable by others: refused, whatever it holds. */
	put("user=u\nsecret=topsecret-value\n", 0644);
	ck_assert_int_eq(sp_chap_file_read(file, &c, why, sizeof(why)), -EPERM);
	ck_assert_str_eq(c.secret, "");
	/* An unknown key: the message names the line, never the value. */
	put("user=u\npassword=topsecret-value\n", 0600);
	ck_assert_int_eq(sp_chap_file_read(file, &c, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, ":2:"));
	ck_assert_ptr_null(strstr(why, "topsecret"));
	/* Too long a secret. */
	{
		char big[400];

		memset(big, 'x', sizeof(big));
		snprintf(big, sizeof(big), "secret=%0300d\n", 7);
		put(big, 0600);
		ck_assert_int_eq(sp_chap_file_read(file, &c, why, sizeof(why)), -EINVAL);
		ck_assert_ptr_null(strstr(why, "0000"));
	}
	/* Missing file. */
	ck_assert_int_eq(sp_chap_file_read("/nonexistent/x.chap", &c, why, sizeof(why)), -ENOENT);
	/* A newline inside a value cannot be written. */
	memset(&c, 0, sizeof(c));
	strcpy(c.user, "u");
	strcpy(c.secret, "a\nuser=evil");
	ck_assert_int_eq(sp_chap_file_write(file, &c), -EINVAL);
}
END_TEST

START_TEST(test_partial)
{
	struct sp_chap c;
	char why[256];

	/* Keys the file does not give keep their values (sanpath --chap-user). */
	memset(&c, 0, sizeof(c));
	strcpy(c.user, "from-cli");
	put("# comment\n\nsecret=only-the-secret\n", 0600);
	ck_assert_int_eq(sp_chap_file_read(file, &c, why, sizeof(why)), 0);
	ck_assert_str_eq(c.user, "from-cli");
	ck_assert_str_eq(c.secret, "only-the-secret");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sp_chap");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_partial);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
