/* agents.c: where initiators' rediscovery messages go: learned from feedback sources, or created over SNMP. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "common/log.h"
#include "common/search.h"
#include "common/state.h"
#include "engines/registry.h"
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

	if (redisc_m.nagents == redisc_m.capagents) {
		size_t nc = redisc_m.capagents ? redisc_m.capagents * 2 : 16;
		struct redisc_agent *na = realloc(redisc_m.agents, nc * sizeof(*na));

		if (!na)
			return NULL;
		redisc_m.agents = na;
		redisc_m.capagents = nc;
	}
	memmove(redisc_m.agents + i + 1, redisc_m.agents + i, (redisc_m.nagents - i) * sizeof(*redisc_m.agents));
	redisc_m.agents[i] = *a;
	redisc_m.nagents++;
	if (a->index > redisc_m.next_agent)
		redisc_m.next_agent = a->index;
	return &redisc_m.agents[i];
}

static void remove_at(size_t i)
{
	memmove(redisc_m.agents + i, redisc_m.agents + i + 1, (redisc_m.nagents - i - 1) * sizeof(*redisc_m.agents));
	redisc_m.nagents--;
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

static void agent_key(char *key, size_t len, uint32_t index)
{
	snprintf(key, len, STATE_PREFIX "%010u", (unsigned int)index);
}

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
	struct cm_state *st = sa_engines_state();
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
	if (storage == REDISC_ST_NONVOLATILE) {
		char key[64], val[REDISC_NAME_MAX + 64], hex[33];

		if (!st)
			return -EIO;
		for (size_t i = 0; i < redisc_addr_len(addr); i++)
			snprintf(hex + 2 * i, 3, "%02x", addr->a[i]);
		hex[2 * redisc_addr_len(addr)] = 0;
		agent_key(key, sizeof(key), index);
		snprintf(val, sizeof(val), "%d %s %u %s", addr->type, hex, (unsigned int)addr->port, initiator);
		/* Committed with the rest of the request (one SET PDU is one commit). */
		if ((rc = cm_state_set(st, key, val)) < 0)
			return rc;
	}
	/* An administrator's word replaces what was learned. */
	if ((learned = by_name(initiator)))
		remove_at((size_t)(learned - redisc_m.agents));
	if (!insert(&a)) {
		if (storage == REDISC_ST_NONVOLATILE) {
			char key[64];

			agent_key(key, sizeof(key), index);
			cm_state_del(st, key);
		}
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
	if (redisc_m.agents[i].storage == REDISC_ST_NONVOLATILE && sa_engines_state()) {
		char key[64];

		agent_key(key, sizeof(key), index);
		cm_state_del(sa_engines_state(), key);
	}
	remove_at(i);
	return 0;
}

static void load_one(const char *key, const char *value, void *arg)
{
	struct redisc_agent a;
	char hex[40] = "", name[REDISC_NAME_MAX] = "";
	unsigned int port;
	unsigned long index = strtoul(key + strlen(STATE_PREFIX), NULL, 10);
	int *bad = arg;

	memset(&a, 0, sizeof(a));
	if (sscanf(value, "%d %39s %u %223s", &a.addr.type, hex, &port, name) != 4 || !index || index > UINT32_MAX ||
	    (a.addr.type != 1 && a.addr.type != 2) || strlen(hex) != 2 * redisc_addr_len(&a.addr) || !port ||
	    port > 65535 || !name_ok(name)) {
		(*bad)++;
		return;
	}
	for (size_t i = 0; i < redisc_addr_len(&a.addr); i++) {
		int hi = cm_hex_digit(hex[2 * i]), lo = cm_hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			(*bad)++;
			return;
		}
		a.addr.a[i] = (unsigned char)(hi << 4 | lo);
	}
	a.index = (uint32_t)index;
	a.addr.port = (uint16_t)port;
	snprintf(a.initiator, sizeof(a.initiator), "%s", name);
	a.origin = REDISC_ORIGIN_SNMP;
	a.storage = REDISC_ST_NONVOLATILE;
	if (!insert(&a))
		(*bad)++;
}

void redisc_agents_load(void)
{
	struct cm_state *st = sa_engines_state();
	int bad = 0;

	if (!st)
		return;
	cm_state_foreach(st, STATE_PREFIX, load_one, &bad);
	if (bad)
		cm_log(CM_LOG_WARNING, REDISC_TAG, "%d initiator-agent rows in the state file are unreadable: skipped",
		       bad);
}

void redisc_agents_free(void)
{
	free(redisc_m.agents);
	redisc_m.agents = NULL;
	redisc_m.nagents = redisc_m.capagents = 0;
	redisc_m.next_agent = 0;
}
