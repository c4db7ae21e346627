/* pool.c: the address pool a moved portal takes its replacement from: config entries, SNMP rows, the state file. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/search.h"
#include "engines/rediscover/model.h"

#define STATE_PREFIX "rediscover.pool."

/* "ADDRESS", "ADDRESS:PORT" or "[V6]:PORT" into a portal; port 0 when absent. */
int redisc_parse_portal(const char *s, struct redisc_addr *a)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	unsigned long port = 0;
	size_t hl;

	memset(a, 0, sizeof(*a));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || (close[1] && close[1] != ':'))
			return -EINVAL;
		hl = (size_t)(close - s - 1);
		colon = close[1] ? close + 1 : NULL;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon)
			colon = NULL; /* a bare IPv6 address */
		hl = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = 0;
	if (colon) {
		char *end;

		port = strtoul(colon + 1, &end, 10);
		if (*end || port < 1 || port > 65535)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, host, a->a) == 1)
		a->type = 1;
	else if (inet_pton(AF_INET6, host, a->a) == 1)
		a->type = 2;
	else
		return -EINVAL;
	a->port = (uint16_t)port;
	return 0;
}

static int64_t pool_index_of(const void *elem)
{
	return ((const struct redisc_pool *)elem)->index;
}

static size_t pool_lower(int64_t index)
{
	return cm_lower_bound(redisc_m.pool, redisc_m.npool, sizeof(*redisc_m.pool), index, pool_index_of);
}

const struct redisc_pool *redisc_pool_next(uint32_t after)
{
	return cm_next_key(redisc_m.pool, redisc_m.npool, sizeof(*redisc_m.pool), after, pool_index_of);
}

const struct redisc_pool *redisc_pool_find(uint32_t index)
{
	return cm_find_key(redisc_m.pool, redisc_m.npool, sizeof(*redisc_m.pool), index, pool_index_of);
}

uint32_t redisc_pool_next_index(void)
{
	return redisc_m.next_pool + 1;
}

/* Two entries are the same replacement when address and port agree. */
static const struct redisc_pool *pool_same(const struct redisc_addr *a)
{
	for (size_t i = 0; i < redisc_m.npool; i++)
		if (redisc_m.pool[i].addr.type == a->type && redisc_m.pool[i].addr.port == a->port &&
		    memcmp(redisc_m.pool[i].addr.a, a->a, redisc_addr_len(a)) == 0)
			return &redisc_m.pool[i];
	return NULL;
}

static int pool_insert(const struct redisc_pool *e)
{
	if (cm_insert(&redisc_m.pool, &redisc_m.npool, &redisc_m.cappool, sizeof(*e), pool_lower(e->index), e, 16) < 0)
		return -ENOMEM;
	if (e->index > redisc_m.next_pool)
		redisc_m.next_pool = e->index;
	return 0;
}

static void pool_remove_at(size_t i)
{
	cm_remove(redisc_m.pool, &redisc_m.npool, sizeof(*redisc_m.pool), i);
}

static int iface_ok(const char *s)
{
	size_t n = strlen(s);

	return n < REDISC_IFACE_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@") == n;
}

int redisc_pool_apply(char *const *pool, size_t n, char *err, size_t errlen)
{
	struct redisc_addr *want = n ? calloc(n, sizeof(*want)) : NULL;
	char(*ifs)[REDISC_IFACE_MAX] = n ? calloc(n, sizeof(*ifs)) : NULL;

	if (n && (!want || !ifs)) {
		free(want);
		free(ifs);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t k = 0; k < n; k++) {
		char text[128];
		char *at;

		snprintf(text, sizeof(text), "%s", pool[k]);
		if ((at = strchr(text, '@'))) {
			*at++ = 0;
			snprintf(ifs[k], sizeof(ifs[k]), "%s", at);
		}
		if (redisc_parse_portal(text, &want[k]) < 0 || (at && (!at[0] || !iface_ok(at)))) {
			snprintf(err, errlen, "pool: not an address: %s", pool[k]);
			free(want);
			free(ifs);
			return -EINVAL;
		}
	}
	/* Config entries that are gone go; those that stay keep their index and whether they are in use. */
	for (size_t i = redisc_m.npool; i-- > 0;) {
		int keep = 0;

		if (redisc_m.pool[i].storage != REDISC_ST_PERMANENT)
			continue;
		for (size_t k = 0; k < n && !keep; k++)
			keep = redisc_addr_cmp(&redisc_m.pool[i].addr, &want[k]) == 0;
		if (!keep)
			pool_remove_at(i);
	}
	for (size_t k = 0; k < n; k++) {
		struct redisc_pool e, *same = (struct redisc_pool *)pool_same(&want[k]);

		if (same) { /* kept above, or listed twice: the file's interface holds */
			if (same->storage == REDISC_ST_PERMANENT)
				snprintf(same->iface, sizeof(same->iface), "%s", ifs[k]);
			continue;
		}
		memset(&e, 0, sizeof(e));
		e.index = redisc_m.next_pool + 1;
		e.addr = want[k];
		snprintf(e.iface, sizeof(e.iface), "%s", ifs[k]);
		e.storage = REDISC_ST_PERMANENT;
		if (pool_insert(&e) < 0) {
			snprintf(err, errlen, "out of memory");
			free(want);
			free(ifs);
			return -ENOMEM;
		}
	}
	free(want);
	free(ifs);
	return 0;
}

int redisc_pool_pick(const struct redisc_addr *old, struct redisc_addr *out)
{
	for (size_t i = 0; i < redisc_m.npool; i++) {
		struct redisc_addr a = redisc_m.pool[i].addr;

		if (redisc_m.pool[i].decision || a.type != old->type)
			continue;
		if (!a.port)
			a.port = old->port;
		if (redisc_addr_cmp(&a, old) == 0)
			continue;
		*out = a;
		return 0;
	}
	return -ENOENT;
}

void redisc_pool_take(const struct redisc_addr *addr, uint32_t decision)
{
	for (size_t i = 0; i < redisc_m.npool; i++) {
		struct redisc_addr a = redisc_m.pool[i].addr;

		if (!a.port)
			a.port = addr->port;
		if (!redisc_m.pool[i].decision && redisc_addr_cmp(&a, addr) == 0) {
			redisc_m.pool[i].decision = decision;
			return;
		}
	}
}

const char *redisc_pool_iface(uint32_t decision)
{
	for (size_t i = 0; i < redisc_m.npool; i++)
		if (redisc_m.pool[i].decision == decision)
			return redisc_m.pool[i].iface;
	return "";
}

void redisc_pool_release(uint32_t decision)
{
	for (size_t i = 0; i < redisc_m.npool; i++)
		if (redisc_m.pool[i].decision == decision)
			redisc_m.pool[i].decision = 0;
}

/* ---- SNMP rows ------------------------------------------------------------------------------ */

int redisc_pool_validate(uint32_t index, const struct redisc_addr *addr, const char *iface, int storage)
{
	if (!redisc_m.running)
		return -ENODEV;
	if (!index || redisc_pool_find(index) || pool_same(addr))
		return -EEXIST;
	if ((addr->type != 1 && addr->type != 2) || !iface_ok(iface) ||
	    (storage != REDISC_ST_VOLATILE && storage != REDISC_ST_NONVOLATILE))
		return -EINVAL;
	return 0;
}

int redisc_pool_create(uint32_t index, const struct redisc_addr *addr, const char *iface, int storage)
{
	struct redisc_pool e;
	int rc = redisc_pool_validate(index, addr, iface, storage);

	if (rc < 0)
		return rc;
	memset(&e, 0, sizeof(e));
	e.index = index;
	e.addr = *addr;
	snprintf(e.iface, sizeof(e.iface), "%s", iface);
	e.storage = storage;
	if (storage == REDISC_ST_NONVOLATILE && (rc = redisc_rows_store(STATE_PREFIX, index, addr, iface)) < 0)
		return rc;
	if ((rc = pool_insert(&e)) < 0 && storage == REDISC_ST_NONVOLATILE)
		redisc_rows_forget(STATE_PREFIX, index);
	return rc;
}

int redisc_pool_destroy_check(uint32_t index)
{
	const struct redisc_pool *e = redisc_pool_find(index);

	if (!e)
		return -ENOENT;
	if (e->storage == REDISC_ST_PERMANENT)
		return -EPERM;
	return e->decision ? -EBUSY : 0;
}

int redisc_pool_destroy(uint32_t index)
{
	size_t i = pool_lower(index);
	int rc = redisc_pool_destroy_check(index);

	if (rc < 0)
		return rc;
	if (redisc_m.pool[i].storage == REDISC_ST_NONVOLATILE)
		redisc_rows_forget(STATE_PREFIX, index);
	pool_remove_at(i);
	return 0;
}

/* An SNMP row of an earlier run: the text, if any, is its interface. */
static int load_one(uint32_t index, const struct redisc_addr *addr, const char *iface, int fields)
{
	struct redisc_pool e;

	if (!iface_ok(iface))
		return -1;
	memset(&e, 0, sizeof(e));
	e.index = index;
	e.addr = *addr;
	snprintf(e.iface, sizeof(e.iface), "%s", iface);
	e.storage = REDISC_ST_NONVOLATILE;
	return pool_insert(&e);
}

void redisc_pool_load(void)
{
	redisc_rows_load(STATE_PREFIX, "pool", REDISC_IFACE_MAX, load_one);
}

void redisc_pool_free(void)
{
	free(redisc_m.pool);
	redisc_m.pool = NULL;
	redisc_m.npool = redisc_m.cappool = 0;
	redisc_m.next_pool = 0;
}
