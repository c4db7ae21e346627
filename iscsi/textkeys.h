/* textkeys.h: iSCSI "key=value\0" text parsing, lookup and bounded building (RFC 7143 section 6.1). */
#ifndef ISCSI_TEXTKEYS_H
#define ISCSI_TEXTKEYS_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 7143 6.1: a key name is at most 63 characters. */
#define TK_KEY_MAX 63
/* The longest value we accept: hex-encoded CHAP challenges and responses are
 * the only legitimately long values; everything the redirector reads
 * (InitiatorName, TargetName, SessionType, SendTargets) is far shorter. */
#define TK_VALUE_MAX 8192

/* One parsed pair.  Both point into the parsed buffer: the key is NOT
 * NUL-terminated (it ends at '='), the value is (by the pair's own NUL). */
struct tk_pair {
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
};

/* Strictly parses a complete text data segment: every pair is "key=value"
 * followed by a NUL, the key follows the RFC charset, the value holds no
 * control characters, lengths stay within the limits above.  Pairs are stored
 * into the caller's array, so parsing never allocates.  Duplicate keys are
 * kept (SendTargets replies repeat TargetName/TargetAddress).
 * Returns 0, -EPROTO on malformed input, -E2BIG when more than max_pairs. */
int tk_parse(const char *buf, size_t len, struct tk_pair *pairs, size_t max_pairs, size_t *npairs);

/* The first value for key, or NULL.  The value is NUL-terminated. */
const char *tk_get(const struct tk_pair *pairs, size_t npairs, const char *key);

/* true when name is a valid key per RFC 7143 6.1. */
bool tk_key_valid(const char *key, size_t len);

/* Builder that appends "key=value\0" pairs.  Fixed: over caller memory;
 * dynamic: heap memory grown on demand up to max bytes. */
struct tk_buf {
	char *buf;
	size_t len; /* bytes used */
	size_t cap; /* bytes allocated */
	size_t max; /* hard bound on len */
	bool dynamic;
};

void tk_buf_init(struct tk_buf *b, char *mem, size_t cap);
void tk_buf_init_dyn(struct tk_buf *b, size_t max);
void tk_buf_free(struct tk_buf *b); /* frees dynamic memory; harmless on fixed */

/* Appends one pair.  On any error the buffer is left unchanged.
 * Returns 0, -EINVAL (bad key or value), -ENOSPC (bound reached), -ENOMEM. */
int tk_add(struct tk_buf *b, const char *key, const char *value);
int tk_addf(struct tk_buf *b, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
