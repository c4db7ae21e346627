/* rows.c: the state-file lines of the engine's SNMP-creatable rows (the pool, the initiator agents), and the
 * portals' hex, which the decision history writes the same way. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "common/log.h"
#include "common/state.h"
#include "engines/registry.h"
#include "engines/rediscover/model.h"

void redisc_addr_hex(const struct redisc_addr *a, char *out)
{
	cm_hex_encode(a->a, redisc_addr_len(a), out);
}

int redisc_addr_unhex(const char *hex, struct redisc_addr *a)
{
	size_t n;

	if (cm_hex_decode(hex, a->a, redisc_addr_len(a), &n) < 0 || n != redisc_addr_len(a))
		return -EINVAL;
	return 0;
}

/* Ten digits, so that the keys sort as the indexes do. */
static void row_key(char *key, size_t len, const char *prefix, uint32_t index)
{
	snprintf(key, len, "%s%010u", prefix, (unsigned int)index);
}

int redisc_rows_store(const char *prefix, uint32_t index, const struct redisc_addr *addr, const char *text)
{
	struct cm_state *st = sa_engines_state();
	char key[64], val[REDISC_NAME_MAX + 64], hex[33];

	if (!st)
		return -EIO;
	redisc_addr_hex(addr, hex);
	row_key(key, sizeof(key), prefix, index);
	snprintf(val, sizeof(val), "%d %s %u %s", addr->type, hex, (unsigned int)addr->port, text);
	/* Committed with the rest of the request (one SET PDU is one commit). */
	return cm_state_set(st, key, val);
}

void redisc_rows_forget(const char *prefix, uint32_t index)
{
	char key[64];

	if (!sa_engines_state())
		return;
	row_key(key, sizeof(key), prefix, index);
	cm_state_del(sa_engines_state(), key);
}

struct load_ctx {
	size_t prefix_len, text_max;
	redisc_rows_take_fn take;
	int bad;
};

/* "TYPE HEX PORT [TEXT]": the text is the first word after the port, cut to text_max - 1 octets, as sscanf's
 * "%Ns" took it when each table read its own lines. */
static void load_one(const char *key, const char *value, void *arg)
{
	struct load_ctx *c = arg;
	struct redisc_addr addr;
	char hex[40] = "", text[REDISC_NAME_MAX] = "";
	unsigned int port;
	unsigned long index = strtoul(key + c->prefix_len, NULL, 10);
	int end = 0, fields;
	size_t tl = 0;

	memset(&addr, 0, sizeof(addr));
	if (sscanf(value, "%d %39s %u%n", &addr.type, hex, &port, &end) < 3 || !index || index > UINT32_MAX ||
	    (addr.type != 1 && addr.type != 2) || redisc_addr_unhex(hex, &addr) < 0 || port > 65535) {
		c->bad++;
		return;
	}
	value += end;
	value += strspn(value, " \t\n\v\f\r");
	while (value[tl] && !strchr(" \t\n\v\f\r", value[tl]) && tl + 1 < c->text_max && tl + 1 < sizeof(text))
		tl++;
	memcpy(text, value, tl);
	text[tl] = 0;
	fields = value[0] ? 4 : 3;
	addr.port = (uint16_t)port;
	if (c->take((uint32_t)index, &addr, text, fields) < 0)
		c->bad++;
}

void redisc_rows_load(const char *prefix, const char *what, size_t text_max, redisc_rows_take_fn take)
{
	struct cm_state *st = sa_engines_state();
	struct load_ctx c = {strlen(prefix), text_max, take, 0};

	if (!st)
		return;
	cm_state_foreach(st, prefix, load_one, &c);
	if (c.bad)
		cm_log(CM_LOG_WARNING, REDISC_TAG, "%d %s rows in the state file are unreadable: skipped", c.bad, what);
}
