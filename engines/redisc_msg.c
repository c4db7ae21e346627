/* redisc_msg.c: encoding and decoding sanRediscover and sanRediscoverAlternative (varbinds with instance 0). */
#include "engines/redisc_msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint32_t oid_type1[] = {REDISC_OID_NOTIFICATIONS, REDISC_N_REDISCOVER};
static const uint32_t oid_type2[] = {REDISC_OID_NOTIFICATIONS, REDISC_N_ALTERNATIVE};
static const uint32_t obj_prefix[] = {REDISC_OID_NOTIFY_OBJECTS};
#define PREFIX_LEN (sizeof(obj_prefix) / sizeof(obj_prefix[0]))

const uint32_t *redisc_msg_trap_oid(int type, size_t *len)
{
	*len = sizeof(oid_type1) / sizeof(uint32_t);
	return type == 2 ? oid_type2 : oid_type1;
}

static size_t portal_len(const struct redisc_msg_portal *p)
{
	return p->type == 1 ? 4 : p->type == 2 ? 16 : 0;
}

void redisc_msg_portal_text(const struct redisc_msg_portal *p, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (!portal_len(p) || !inet_ntop(p->type == 1 ? AF_INET : AF_INET6, p->a, host, sizeof(host))) {
		snprintf(buf, len, "%s", "");
		return;
	}
	snprintf(buf, len, p->type == 1 ? "%s:%u" : "[%s]:%u", host, (unsigned int)p->port);
}

int redisc_msg_portal_parse(const char *s, struct redisc_msg_portal *p)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *h = s;
	unsigned long port;
	size_t hl;
	char *end;

	memset(p, 0, sizeof(*p));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		if (!(colon = strrchr(s, ':')) || strchr(s, ':') != colon)
			return -EINVAL;
		hl = (size_t)(colon - s);
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -EINVAL;
	if (inet_pton(AF_INET, host, p->a) == 1)
		p->type = 1;
	else if (inet_pton(AF_INET6, host, p->a) == 1)
		p->type = 2;
	else
		return -EINVAL;
	p->port = (uint16_t)port;
	return 0;
}

/* ---- encoding ------------------------------------------------------------------------------------- */

static struct cm_snmpc_vb *vb_at(struct redisc_msg_enc *enc, int *n, int col)
{
	struct cm_snmpc_vb *vb = &enc->vb[*n];
	uint32_t *o = enc->oid[*n];

	memcpy(o, obj_prefix, sizeof(obj_prefix));
	o[PREFIX_LEN] = (uint32_t)col;
	o[PREFIX_LEN + 1] = 0;
	memset(vb, 0, sizeof(*vb));
	vb->oid = o;
	vb->oidlen = PREFIX_LEN + 2;
	(*n)++;
	return vb;
}

static void put_str(struct redisc_msg_enc *enc, int *n, int col, const char *s, size_t len)
{
	struct cm_snmpc_vb *vb = vb_at(enc, n, col);

	vb->type = CM_SNMPC_STRING;
	vb->str = s;
	vb->len = len;
}

static void put_int(struct redisc_msg_enc *enc, int *n, int col, int type, long v)
{
	struct cm_snmpc_vb *vb = vb_at(enc, n, col);

	vb->type = type;
	vb->i = v;
	vb->u = (uint64_t)v;
}

static void put_portal(struct redisc_msg_enc *enc, int *n, int col_type, const struct redisc_msg_portal *p)
{
	/* Address type, address and port are consecutive columns in both triples. */
	put_int(enc, n, col_type, CM_SNMPC_INTEGER, p->type);
	put_str(enc, n, col_type + 1, (const char *)p->a, portal_len(p));
	put_int(enc, n, col_type + 2, CM_SNMPC_UNSIGNED, p->port);
}

static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n >= REDISC_MSG_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] > '~')
			return 0;
	return 1;
}

int redisc_msg_encode(const struct redisc_msg *m, struct redisc_msg_enc *enc)
{
	int n = 0;

	if ((m->type != 1 && m->type != 2) || !name_ok(m->initiator) || !name_ok(m->target) ||
	    !portal_len(&m->portal) || !m->portal.port || (m->old.type && (!portal_len(&m->old) || !m->old.port)))
		return -EINVAL;
	if (m->type == 2 && (!name_ok(m->old_target) ||
	                     (m->alt_kind != REDISC_MSG_OTHER_PORTAL && m->alt_kind != REDISC_MSG_OTHER_TARGET)))
		return -EINVAL;
	/* In the order of the OBJECTS clauses. */
	put_str(enc, &n, REDISC_FB_INITIATOR, m->initiator, strlen(m->initiator));
	if (m->type == 2) {
		put_str(enc, &n, REDISC_FB_OLD_TARGET, m->old_target, strlen(m->old_target));
		put_int(enc, &n, REDISC_FB_ALT_KIND, CM_SNMPC_INTEGER, m->alt_kind);
	}
	put_str(enc, &n, REDISC_FB_TARGET, m->target, strlen(m->target));
	put_portal(enc, &n, REDISC_FB_ADDR_TYPE, &m->portal);
	if (m->old.type)
		put_portal(enc, &n, REDISC_FB_OLD_ADDR_TYPE, &m->old);
	return n;
}

/* ---- decoding ------------------------------------------------------------------------------------- */

static int copy_name(char *dst, const struct cm_trap_var *v)
{
	if (v->type != SA_TV_STRING || v->str_len < 1 || v->str_len >= REDISC_MSG_NAME_MAX)
		return -1;
	for (size_t i = 0; i < v->str_len; i++)
		if (v->str[i] <= ' ' || v->str[i] > '~')
			return -1;
	memcpy(dst, v->str, v->str_len);
	dst[v->str_len] = 0;
	return 0;
}

#define SEEN(col) (1u << (col))

int redisc_msg_decode(const struct cm_trap *t, struct redisc_msg *out)
{
	unsigned int seen = 0, need;
	size_t alen = 0, olen = 0, tl;
	const uint32_t *o;

	memset(out, 0, sizeof(*out));
	o = redisc_msg_trap_oid(1, &tl);
	if (t->trap_oid_len == tl && memcmp(t->trap_oid, o, tl * sizeof(uint32_t)) == 0)
		out->type = 1;
	o = redisc_msg_trap_oid(2, &tl);
	if (t->trap_oid_len == tl && memcmp(t->trap_oid, o, tl * sizeof(uint32_t)) == 0)
		out->type = 2;
	if (!out->type)
		return -EBADMSG;
	for (size_t i = 0; i < t->nvars; i++) {
		const struct cm_trap_var *v = &t->vars[i];
		uint32_t col;

		/* Other objects may ride along: ignored. */
		if (v->oid_len != PREFIX_LEN + 2 || memcmp(v->oid, obj_prefix, sizeof(obj_prefix)) != 0 ||
		    v->oid[PREFIX_LEN + 1] != 0)
			continue;
		col = v->oid[PREFIX_LEN];
		if (col < 32 && (seen & SEEN(col)))
			return -EBADMSG; /* twice: which one would count? */
		switch (col) {
		case REDISC_FB_INITIATOR:
			if (copy_name(out->initiator, v) < 0)
				return -EBADMSG;
			break;
		case REDISC_FB_TARGET:
			if (copy_name(out->target, v) < 0)
				return -EBADMSG;
			break;
		case REDISC_FB_OLD_TARGET:
			if (copy_name(out->old_target, v) < 0)
				return -EBADMSG;
			break;
		case REDISC_FB_ALT_KIND:
			if (v->type != SA_TV_INTEGER ||
			    (v->ival != REDISC_MSG_OTHER_PORTAL && v->ival != REDISC_MSG_OTHER_TARGET))
				return -EBADMSG;
			out->alt_kind = (int)v->ival;
			break;
		case REDISC_FB_ADDR_TYPE:
		case REDISC_FB_OLD_ADDR_TYPE:
			if (v->type != SA_TV_INTEGER || (v->ival != 1 && v->ival != 2))
				return -EBADMSG;
			(col == REDISC_FB_ADDR_TYPE ? &out->portal : &out->old)->type = (int)v->ival;
			break;
		case REDISC_FB_ADDR:
		case REDISC_FB_OLD_ADDR:
			if (v->type != SA_TV_STRING || (v->str_len != 4 && v->str_len != 16))
				return -EBADMSG;
			memcpy((col == REDISC_FB_ADDR ? &out->portal : &out->old)->a, v->str, v->str_len);
			*(col == REDISC_FB_ADDR ? &alen : &olen) = v->str_len;
			break;
		case REDISC_FB_PORT:
		case REDISC_FB_OLD_PORT:
			if (v->type != SA_TV_UNSIGNED || v->ival < 1 || v->ival > 65535)
				return -EBADMSG;
			(col == REDISC_FB_PORT ? &out->portal : &out->old)->port = (uint16_t)v->ival;
			break;
		default: continue; /* feedback objects: not part of a message */
		}
		seen |= SEEN(col);
	}
	need = SEEN(REDISC_FB_INITIATOR) | SEEN(REDISC_FB_TARGET) | SEEN(REDISC_FB_ADDR_TYPE) | SEEN(REDISC_FB_ADDR) |
	       SEEN(REDISC_FB_PORT);
	if (out->type == 2)
		need |= SEEN(REDISC_FB_OLD_TARGET) | SEEN(REDISC_FB_ALT_KIND);
	if ((seen & need) != need || alen != portal_len(&out->portal))
		return -EBADMSG;
	/* The old portal is all or nothing. */
	{
		unsigned int old = SEEN(REDISC_FB_OLD_ADDR_TYPE) | SEEN(REDISC_FB_OLD_ADDR) | SEEN(REDISC_FB_OLD_PORT);

		if ((seen & old) && ((seen & old) != old || olen != portal_len(&out->old)))
			return -EBADMSG;
	}
	return 0;
}
