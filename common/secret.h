/* secret.h: freeing a secret (a passphrase, a CHAP secret) so that its bytes do not outlive it in freed memory. */
#ifndef SA_COMMON_SECRET_H
#define SA_COMMON_SECRET_H

#include <stdlib.h>
#include <string.h>

/* Wipes the NUL-terminated s and frees it; NULL is fine.  explicit_bzero, not memset: a store that free follows is
 * one a compiler may drop. */
static inline void cm_secret_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

#endif
