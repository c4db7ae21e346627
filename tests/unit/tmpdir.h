/* tmpdir.h: a private temp directory per unit test case, removed with everything in it. */
#ifndef SA_TEST_TMPDIR_H
#define SA_TEST_TMPDIR_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static int ut_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Honours TMPDIR, so runs side by side never share files. */
static inline void ut_tmpdir_make(char *dir, size_t len, const char *name)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, len, "%s/%s.XXXXXX", t && *t ? t : "/tmp", name);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline void ut_tmpdir_remove(const char *dir)
{
	nftw(dir, ut_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
