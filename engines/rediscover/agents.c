/* agents.c: where initiators' rediscovery messages go: learned from feedback sources, or created over SNMP. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/search.h"
#include "engines/rediscover/model.h"

#define STATE_PREFIX "rediscover.agent."

static int64_t agent_index_of(const void *elem)
{
	return ((const struct redisc_agent *)elem)->index;
}

static size_t agent_lower(int64_t index)
{
	return cm_lower_bound(redisc_m.agents, redisc_m.nagents, sizeof(*redisc_m.agents), index, agent_index_of);
}

const struct redisc_agent *redisc_agent_next(uint32_t after)
{
	return cm_next_key(redisc_m.agents, redisc_m.nagents, sizeof(*redisc_m.agents), after, agent_index_of);
}

const struct redisc_agent *redisc_agent_find(uint32_t index)
{
	return cm_find_key(redisc_m.agents, redisc_m.nagents, sizeof(*redisc_m.agents), index, agent_index_of);
}

uint32_t redisc_agent_next_index(void)
{
	return redisc_m.next_agent + 1;
}

/* Initiators per name server are few (the hosts of its discovery domains): a scan is enough here. */
static struct redisc_agent *by_name(const char *initiator)
{
	for (size_t i = 0; i < redisc_m.nagents; i++)
		if (strcmp(redisc_m.agents[i].initiator, initiator) == 0)
			return &redisc_m.agents[i];
	return NULL;
}

const struct redisc_agent *redisc_agent_by_name(const char *initiator)
{
	return by_name(initiator);
}

static struct redisc_agent *insert(const struct redisc_agent *a)
{
	size_t i = agent_lower(a->index);

	if (cm_insert(&redisc_m.agents, &redisc_m.nagents, &redisc_m.capagents, sizeof(*a), i, a, 16) < 0)
		return NULL;
	if (a->index > redisc_m.next_agent)
		redisc_m.next_agent = a->index;
	return &redisc_m.agents[i];
}

static void remove_at(size_t i)
{
	cm_remove(redisc_m.agents, &redisc_m.nagents, sizeof(*redisc_m.agents), i);
}

void redisc_agent_learn(const char *initiator, const char *source)
{
	struct redisc_agent *a = by_name(initiator), n;
	char host[REDISC_SOURCE_MAX];
	const char *colon = strrchr(source, ':');
	size_t hl = colon ? (size_t)(colon - source) : strlen(source);
	struct redisc_addr addr;

	if (a && a->origin != REDISC_ORIGIN_LEARNED) {
		a->last_heard = redisc_clock_wall();
		return;
	}
	if (hl >= sizeof(host) - 8)
		return;
	/* "[v6]:port" or "v4:port" as the receiver writes sources; the agent's receiver port is agent_port. */
	snprintf(host, sizeof(host), "%.*s:%d", (int)hl, source, redisc_m.agent_port);
	if (redisc_parse_portal(host, &addr) < 0)
		return;
	if (!a) {
		memset(&n, 0, sizeof(n));
		n.index = redisc_m.next_agent + 1;
		snprintf(n.initiator, sizeof(n.initiator), "%s", initiator);
		n.origin = REDISC_ORIGIN_LEARNED;
		n.storage = REDISC_ST_VOLATILE;
		if (!(a = insert(&n)))
			return;
	}
	a->addr = addr;
	a->last_heard = redisc_clock_wall();
}

static int name_ok(const char *s);

void redisc_agent_note_message(uint32_t index)
{
	size_t i = agent_lower(index);

	if (i < redisc_m.nagents && redisc_m.agents[i].index == index)
		redisc_m.agents[i].messages++;
}

int redisc_agents_apply(const struct sa_redisc_initiator_agent_cfg *c, size_t n, char *err, size_t errlen)
{
	struct redisc_addr *want = n ? calloc(n, sizeof(*want)) : NULL;

	if (n && !want) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t k = 0; k < n; k++)
		if (redisc_parse_portal(c[k].address, &want[k]) < 0 || !want[k].port || !name_ok(c[k].initiator)) {
			snprintf(err, errlen, "initiator_agents[%zu]: not an initiator name and ADDRESS:PORT", k);
			free(want);
			return -EINVAL;
		}
	/* Config entries that are gone go. */
	for (size_t i = redisc_m.nagents; i-- > 0;) {
		int keep = 0;

		if (redisc_m.agents[i].origin != REDISC_ORIGIN_CONFIG)
			continue;
		for (size_t k = 0; k < n && !keep; k++)
			keep = strcmp(c[k].initiator, redisc_m.agents[i].initiator) == 0;
		if (!keep)
			remove_at(i);
	}
	for (size_t k = 0; k < n; k++) {
		struct redisc_agent *a = by_name(c[k].initiator), e;

		if (a && a->origin == REDISC_ORIGIN_CONFIG) {
			a->addr = want[k]; /* kept: its index and counts stay */
			continue;
		}
		/* The file's word replaces what was learned or set over SNMP for the same initiator. */
		if (a)
			remove_at((size_t)(a - redisc_m.agents));
		memset(&e, 0, sizeof(e));
		e.index = redisc_m.next_agent + 1;
		snprintf(e.initiator, sizeof(e.initiator), "%s", c[k].initiator);
		e.addr = want[k];
		e.origin = REDISC_ORIGIN_CONFIG;
		e.storage = REDISC_ST_PERMANENT;
		if (!insert(&e)) {
			snprintf(err, errlen, "out of memory");
			free(want);
			return -ENOMEM;
		}
	}
	free(want);
	return 0;
}

/* ---- SNMP rows ------------------------------------------------------------------------------ */

static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n >= REDISC_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] > '~')
			return 0;
	return 1;
}

int redisc_agent_validate(uint32_t index, const char *initiator, const struct redisc_addr *addr, int storage)
{
	const struct redisc_agent *same;

	if (!redisc_m.running)
		return -ENODEV;
	same = by_name(initiator);
	if (!index || redisc_agent_find(index) || (same && same->origin != REDISC_ORIGIN_LEARNED))
		return -EEXIST;
	if (!name_ok(initiator) || (addr->type != 1 && addr->type != 2) || !addr->port ||
	    (storage != REDISC_ST_VOLATILE && storage != REDISC_ST_NONVOLATILE))
		return -EINVAL;
	return 0;
}

int redisc_agent_create(uint32_t index, const char *initiator, const struct redisc_addr *addr, int storage)
{
	struct redisc_agent a, *learned;
	int rc = redisc_agent_validate(index, initiator, addr, storage);

	if (rc < 0)
		return rc;
	memset(&a, 0, sizeof(a));
	a.index = index;
	snprintf(a.initiator, sizeof(a.initiator), "%s", initiator);
	a.addr = *addr;
	a.origin = REDISC_ORIGIN_SNMP;
	a.storage = storage;
	if (storage == REDISC_ST_NONVOLATILE && (rc = redisc_rows_store(STATE_PREFIX, index, addr, initiator)) < 0)
		return rc;
	/* An administrator's word replaces what was learned. */
	if ((learned = by_name(initiator)))
		remove_at((size_t)(learned - redisc_m.agents));
	if (!insert(&a)) {
		if (storage == REDISC_ST_NONVOLATILE)
			redisc_rows_forget(STATE_PREFIX, index);
		return -ENOMEM;
	}
	return 0;
}

int redisc_agent_destroy_check(uint32_t index)
{
	const struct redisc_agent *a = redisc_agent_find(index);

	if (!a)
		return -ENOENT;
	return a->origin == REDISC_ORIGIN_CONFIG ? -EPERM : 0;
}

int redisc_agent_destroy(uint32_t index)
{
	size_t i = agent_lower(index);
	int rc = redisc_agent_destroy_check(index);

	if (rc < 0)
		return rc;
	if (redisc_m.agents[i].storage == REDISC_ST_NONVOLATILE)
		redisc_rows_forget(STATE_PREFIX, index);
	remove_at(i);
	return 0;
}

/* An SNMP row of an earlier run: its initiator is the text, and it has a port. */
static int load_one(uint32_t index, const struct redisc_addr *addr, const char *name, int fields)
{
	struct redisc_agent a;

	if (fields != 4 || !addr->port || !name_ok(name))
		return -1;
	memset(&a, 0, sizeof(a));
	a.index = index;
	a.addr = *addr;
	snprintf(a.initiator, sizeof(a.initiator), "%s", name);
	a.origin = REDISC_ORIGIN_SNMP;
	a.storage = REDISC_ST_NONVOLATILE;
	return insert(&a) ? 0 : -1;
}

void redisc_agents_load(void)
{
	redisc_rows_load(STATE_PREFIX, "initiator-agent", REDISC_NAME_MAX, load_one);
}

void redisc_agents_free(void)
{
	free(redisc_m.agents);
	redisc_m.agents = NULL;
	redisc_m.nagents = redisc_m.capagents = 0;
	redisc_m.next_agent = 0;
}
