/* state.h: persistent key/value state for rows created over SNMP (StorageType nonVolatile). */
#ifndef SA_STATE_H
#define SA_STATE_H

#include <stddef.h>

struct sa_state;

/* Opens the state file and loads it.  A missing file is an empty state.
 * A corrupt or truncated file is logged, renamed aside to
 * "<path>.corrupt.<unix-time>" (never deleted) and an empty state is used;
 * *corrupt (if non-NULL) is set to 1 in that case.  Returns 0 or -errno. */
int sa_state_open(const char *path, struct sa_state **out, int *corrupt);
void sa_state_close(struct sa_state *st);

/* Keys are printable ASCII without whitespace, e.g. "engine.2.admin".
 * Values are arbitrary NUL-terminated strings (escaped on disk). */
const char *sa_state_get(const struct sa_state *st, const char *key);
int sa_state_set(struct sa_state *st, const char *key, const char *value);
int sa_state_del(struct sa_state *st, const char *key);

/* Calls cb for every key starting with prefix, in key order. */
void sa_state_foreach(const struct sa_state *st, const char *prefix,
		      void (*cb)(const char *key, const char *value, void *arg), void *arg);

/* Writes the whole state atomically: temp file in the same directory,
 * fsync, rename over the old file, fsync the directory.  After it returns
 * 0 a crash at any moment leaves the new state on disk. */
int sa_state_commit(struct sa_state *st);

#endif
