/* feedback.c: decoding sanSessionFeedback and sanRediscoveryRequest varbinds into struct redisc_feedback. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/trap.h"
#include "engines/rediscover/rediscover.h"

static const uint32_t fb_prefix[] = {REDISC_OID_NOTIFY_OBJECTS};
#define FB_PREFIX_LEN (sizeof(fb_prefix) / sizeof(fb_prefix[0]))

size_t redisc_addr_len(const struct redisc_addr *a)
{
	return a->type == 1 ? 4 : a->type == 2 ? 16 : 0;
}

void redisc_addr_text(const struct redisc_addr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (!a->type || !inet_ntop(a->type == 1 ? AF_INET : AF_INET6, a->a, host, sizeof(host))) {
		snprintf(buf, len, "%s", "");
		return;
	}
	snprintf(buf, len, a->type == 1 ? "%s:%u" : "[%s]:%u", host, (unsigned int)a->port);
}

/* Names travel in space-separated lists (competing sessions, messages):
 * printable ASCII without spaces, as iSCSI names are. */
static int name_ok(const unsigned char *s, size_t len)
{
	if (len < 1 || len >= REDISC_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

static int copy_name(char *dst, const struct cm_trap_var *v)
{
	if (v->type != SA_TV_STRING || !name_ok(v->str, v->str_len))
		return -1;
	memcpy(dst, v->str, v->str_len);
	dst[v->str_len] = 0;
	return 0;
}

/* Seen-bits of the mandatory objects. */
#define SEEN(col) (1u << (col))

int redisc_feedback_decode(const struct cm_trap *t, int request, struct redisc_feedback *out)
{
	unsigned int seen = 0, need;
	size_t alen = 0;

	memset(out, 0, sizeof(*out));
	out->request = request;
	for (size_t i = 0; i < t->nvars; i++) {
		const struct cm_trap_var *v = &t->vars[i];
		uint32_t col;

		/* Other objects (a sender's sysName, ...) may ride along: ignored. */
		if (v->oid_len < FB_PREFIX_LEN + 1 || v->oid_len > FB_PREFIX_LEN + 2 ||
		    memcmp(v->oid, fb_prefix, sizeof(fb_prefix)) != 0)
			continue;
		if (v->oid_len == FB_PREFIX_LEN + 2 && v->oid[FB_PREFIX_LEN + 1] != 0)
			return REDISC_DROP_MALFORMED;
		col = v->oid[FB_PREFIX_LEN];
		if (col < 32 && (seen & SEEN(col)))
			return REDISC_DROP_MALFORMED; /* twice: which one would count? */
		switch (col) {
		case REDISC_FB_INITIATOR:
			if (copy_name(out->initiator, v) < 0)
				return REDISC_DROP_MALFORMED;
			break;
		case REDISC_FB_TARGET:
			if (copy_name(out->target, v) < 0)
				return REDISC_DROP_MALFORMED;
			break;
		case REDISC_FB_OFFENDER:
			/* Empty: the sender names no offender. */
			if (v->type == SA_TV_STRING && v->str_len == 0)
				break;
			if (copy_name(out->offender, v) < 0)
				return REDISC_DROP_MALFORMED;
			break;
		case REDISC_FB_ADDR_TYPE:
			if (v->type != SA_TV_INTEGER || (v->ival != 1 && v->ival != 2))
				return REDISC_DROP_MALFORMED;
			out->portal.type = (int)v->ival;
			break;
		case REDISC_FB_ADDR:
			if (v->type != SA_TV_STRING || (v->str_len != 4 && v->str_len != 16))
				return REDISC_DROP_MALFORMED;
			memcpy(out->portal.a, v->str, v->str_len);
			alen = v->str_len;
			break;
		case REDISC_FB_PORT:
			if (v->type != SA_TV_UNSIGNED || v->ival < 1 || v->ival > 65535)
				return REDISC_DROP_MALFORMED;
			out->portal.port = (uint16_t)v->ival;
			break;
		case REDISC_FB_TX_MAX:
		case REDISC_FB_TX_MIN:
		case REDISC_FB_TX_AVG:
		case REDISC_FB_ERRORS:
		case REDISC_FB_LATENCY:
			if (v->type != SA_TV_UNSIGNED || v->ival < 0 || v->ival > UINT32_MAX)
				return REDISC_DROP_MALFORMED;
			out->m.v[col - REDISC_FB_TX_MAX] = (uint32_t)v->ival;
			out->m.have |= 1u << (col - REDISC_FB_TX_MAX);
			break;
		case REDISC_FB_BYTES:
			if (v->type != SA_TV_COUNTER64)
				return REDISC_DROP_MALFORMED;
			out->bytes = v->u64;
			out->have_bytes = 1;
			break;
		case REDISC_FB_SESSIONS:
			if (v->type != SA_TV_STRING || v->str_len >= sizeof(out->sessions))
				return REDISC_DROP_MALFORMED;
			memcpy(out->sessions, v->str, v->str_len);
			out->sessions[v->str_len] = 0;
			break;
		case REDISC_FB_REASON:
			if (v->type != SA_TV_INTEGER || v->ival < 1 || v->ival > 5)
				return REDISC_DROP_MALFORMED;
			out->reason = (int)v->ival;
			break;
		default: continue; /* objects of the outgoing messages: not feedback */
		}
		seen |= SEEN(col);
	}
	need = SEEN(REDISC_FB_TARGET) | SEEN(REDISC_FB_ADDR_TYPE) | SEEN(REDISC_FB_ADDR) | SEEN(REDISC_FB_PORT);
	if (!request)
		need |= SEEN(REDISC_FB_INITIATOR);
	if ((seen & need) != need || alen != redisc_addr_len(&out->portal))
		return REDISC_DROP_MALFORMED;
	return REDISC_DROP_NONE;
}
