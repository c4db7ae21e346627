/* dispatch.c: the subscription table that routes accepted notifications to engine callbacks by OID. */
#include "traps/dispatch.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Same bound as net-snmp's MAX_OID_LEN, without including net-snmp. */
#define SA_DISPATCH_MAX_OID 128

struct sa_sub {
	int handle;
	uint32_t oid[SA_DISPATCH_MAX_OID];
	size_t oid_len;
	int prefix;
	sa_trap_cb cb; /* NULL: unsubscribed while a dispatch was running */
	void *arg;
};

static struct sa_sub *subs;
static size_t nsubs, subs_cap;
/* Handles only grow: an engine that keeps a stale handle can never
 * unsubscribe someone else's callback. */
static int next_handle = 1;
/* Callbacks may (un)subscribe while we iterate: entries are only marked
 * dead during a dispatch and compacted once the outermost one returns. */
static int dispatch_depth;
static int need_compact;

int sa_trap_subscribe(const uint32_t *oid, size_t oid_len, int prefix, sa_trap_cb cb, void *arg)
{
	struct sa_sub *s;

	if (!cb || oid_len > SA_DISPATCH_MAX_OID || (oid_len && !oid))
		return -EINVAL;
	/* An empty exact OID can never match; an empty prefix means "all". */
	if (!oid_len && !prefix)
		return -EINVAL;
	if (next_handle == INT_MAX)
		return -EOVERFLOW;
	if (nsubs == subs_cap) {
		size_t ncap = subs_cap ? subs_cap * 2 : 8;
		struct sa_sub *n = realloc(subs, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		subs = n;
		subs_cap = ncap;
	}
	s = &subs[nsubs++];
	memset(s, 0, sizeof(*s));
	s->handle = next_handle++;
	if (oid_len)
		memcpy(s->oid, oid, oid_len * sizeof(*oid));
	s->oid_len = oid_len;
	s->prefix = !!prefix;
	s->cb = cb;
	s->arg = arg;
	return s->handle;
}

static void sa_dispatch_compact(void)
{
	size_t i, j = 0;

	for (i = 0; i < nsubs; i++)
		if (subs[i].cb) {
			if (i != j)
				subs[j] = subs[i];
			j++;
		}
	nsubs = j;
	need_compact = 0;
	if (!nsubs) {
		free(subs);
		subs = NULL;
		subs_cap = 0;
	}
}

void sa_trap_unsubscribe(int handle)
{
	size_t i;

	for (i = 0; i < nsubs; i++) {
		if (subs[i].handle != handle || !subs[i].cb)
			continue;
		subs[i].cb = NULL;
		subs[i].arg = NULL;
		if (dispatch_depth)
			need_compact = 1;
		else
			sa_dispatch_compact();
		return;
	}
}

static int sa_sub_matches(const struct sa_sub *s, const struct sa_trap *t)
{
	if (s->prefix) {
		if (t->trap_oid_len < s->oid_len)
			return 0;
	} else if (t->trap_oid_len != s->oid_len) {
		return 0;
	}
	return !s->oid_len || !memcmp(s->oid, t->trap_oid, s->oid_len * sizeof(*s->oid));
}

int sa_trap_dispatch(const struct sa_trap *trap)
{
	size_t i, n;
	int ran = 0;

	if (!trap || (trap->trap_oid_len && !trap->trap_oid))
		return -EINVAL;
	/* Subscriptions made by a callback start with the next notification. */
	n = nsubs;
	dispatch_depth++;
	for (i = 0; i < n; i++) {
		sa_trap_cb cb;
		void *arg;

		/* Re-read through the array each time: a callback's subscribe
		 * may have moved it. */
		if (!subs[i].cb || !sa_sub_matches(&subs[i], trap))
			continue;
		cb = subs[i].cb;
		arg = subs[i].arg;
		cb(trap, arg);
		ran++;
	}
	if (--dispatch_depth == 0 && need_compact)
		sa_dispatch_compact();
	return ran;
}
