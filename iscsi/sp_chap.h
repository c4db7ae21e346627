/* sp_chap.h: CHAP credentials of a data plane, passed in a 0600 file (never on a command line) and wiped after use. */
#ifndef SP_CHAP_H
#define SP_CHAP_H

#include <stddef.h>

#define SP_CHAP_MAX 255

struct sp_chap {
	char user[SP_CHAP_MAX + 1];
	char secret[SP_CHAP_MAX + 1];
	char target_user[SP_CHAP_MAX + 1]; /* mutual CHAP: the target's name and secret, "" = none */
	char target_secret[SP_CHAP_MAX + 1];
};

/* Reads "user=U\nsecret=S\n[target_user=U\ntarget_secret=S\n]" from path.
 * The file must be a regular file that neither group nor others may read
 * (-EPERM otherwise): every user can read a command line in ps, and any
 * readable file would be no better.  Keys not in the file stay as they were
 * in c.  why gets a message that never holds a secret.  0 or -errno. */
int sp_chap_file_read(const char *path, struct sp_chap *c, char *why, size_t whylen);
/* Writes that format atomically: a 0600 temporary file, fsync, rename.
 * -EINVAL if a value holds a newline. */
int sp_chap_file_write(const char *path, const struct sp_chap *c);
/* Overwrites memory that held a secret (not optimised away). */
void sp_chap_wipe_mem(void *p, size_t n);
void sp_chap_wipe(struct sp_chap *c);

#endif
