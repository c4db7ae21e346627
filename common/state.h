/* state.h: persistent key/value state for rows created over SNMP (StorageType nonVolatile). */
#ifndef SA_STATE_H
#define SA_STATE_H

#include <stddef.h>

struct cm_state;

/* Opens the state file and loads it.  A missing file is an empty state.
 * A corrupt or truncated file is logged, renamed aside to
 * "<path>.corrupt.<unix-time>" (never deleted) and an empty state is used;
 * *corrupt (if non-NULL) is set to 1 in that case.  Returns 0 or -errno. */
int cm_state_open(const char *path, struct cm_state **out, int *corrupt);
void cm_state_close(struct cm_state *st);

/* Loads what is on disk without changing any file (no clean-up, no
 * setting aside, no folding of journals), for tools that read the state of
 * a running agent.  *corrupt reports damage; commits return -EROFS. */
int cm_state_open_readonly(const char *path, struct cm_state **out, int *corrupt);

/* Keys are printable ASCII without whitespace, e.g. "engine.2.admin".
 * Values are arbitrary NUL-terminated strings (escaped on disk). */
const char *cm_state_get(const struct cm_state *st, const char *key);
int cm_state_set(struct cm_state *st, const char *key, const char *value);
int cm_state_del(struct cm_state *st, const char *key);

/* Calls cb for every key starting with prefix, in key order. */
void cm_state_foreach(const struct cm_state *st, const char *prefix,
                      void (*cb)(const char *key, const char *value, void *arg), void *arg);

/* Makes every change since the last commit durable, atomically: after it
 * returns 0 a crash at any moment leaves all of them on disk; a crash
 * before leaves none of them (never a part).  Costs O(what changed): one
 * journal record and one fdatasync; the journal is folded into a new
 * snapshot of the whole state in a background child once it outgrows the
 * snapshot.  Files next to path: path.journal, path.journal.old (during a
 * compaction); all 0600.  Inside a transaction (below) it
 * returns 0 and leaves the changes for cm_state_end(). */
int cm_state_commit(struct cm_state *st);

/* Transactions group the changes of many set/del/commit calls, possibly
 * from several engines, into one atomic commit: one SET PDU is one
 * commit, all of its varbinds or none.  They nest; the outermost
 * cm_state_end() commits everything pending (also changes made without
 * their own cm_state_commit() call) and returns what the commit returned.
 * After a failed end the changes stay in memory and pending: the caller
 * undoes what it can (undo writes are pending too) and the next commit
 * writes whatever the values are then. */
void cm_state_begin(struct cm_state *st);
int cm_state_end(struct cm_state *st);
int cm_state_in_transaction(const struct cm_state *st);
/* Changes made since the last durable commit (counting repeats). */
size_t cm_state_pending(const struct cm_state *st);

/* Writes a full snapshot now (synchronously) and drops the journal. */
int cm_state_compact(struct cm_state *st);
/* Starts the compaction a large journal triggers by itself: a forked
 * child writes the snapshot while the caller goes on (-EBUSY if one runs). */
int cm_state_compact_background(struct cm_state *st);

struct cm_state_stats {
	size_t keys;
	unsigned long long journal_bytes, snapshot_bytes;
	unsigned long journal_commits, compactions;
	int compacting; /* a background compaction is running */
};
void cm_state_stats(const struct cm_state *st, struct cm_state_stats *out);

#endif
