/* sources.c: connections held per source address, so one address cannot take the whole portal. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "engines/redirect/redir_int.h"

/* A power of two; chains stay short up to tens of thousands of sources. */
#define SRC_BUCKETS 4096u

struct src {
	uint8_t addr[16]; /* IPv4 as a v4-mapped IPv6 address */
	unsigned int count;
	struct src *next;
};

static struct src *buckets[SRC_BUCKETS];

static void src_key(const struct sockaddr_storage *ss, uint8_t out[16])
{
	memset(out, 0, 16);
	if (ss->ss_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	} else if (ss->ss_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
}

/* FNV-1a: the addresses are not secret and chains are bounded by the
 * connection limit, so a keyed hash would buy nothing here. */
static unsigned int src_hash(const uint8_t k[16])
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ k[i]) * 16777619u;
	return h & (SRC_BUCKETS - 1);
}

static struct src **src_find(const uint8_t k[16])
{
	struct src **pp = &buckets[src_hash(k)];

	while (*pp && memcmp((*pp)->addr, k, 16))
		pp = &(*pp)->next;
	return pp;
}

unsigned int redir_src_count(const struct sockaddr_storage *ss)
{
	uint8_t k[16];
	struct src **pp;

	src_key(ss, k);
	pp = src_find(k);
	return *pp ? (*pp)->count : 0;
}

int redir_src_hold(const struct sockaddr_storage *ss)
{
	uint8_t k[16];
	struct src **pp;

	src_key(ss, k);
	pp = src_find(k);
	if (!*pp) {
		struct src *s = calloc(1, sizeof(*s));

		if (!s)
			return -1;
		memcpy(s->addr, k, 16);
		*pp = s;
	}
	(*pp)->count++;
	return 0;
}

void redir_src_release(const struct sockaddr_storage *ss)
{
	uint8_t k[16];
	struct src **pp, *s;

	src_key(ss, k);
	pp = src_find(k);
	if (!(s = *pp))
		return;
	if (--s->count == 0) {
		*pp = s->next;
		free(s);
	}
}
