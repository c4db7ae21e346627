/* textkeys.c: strict parser, lookup and bounded builder for iSCSI "key=value\0" text. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi/textkeys.h"

static bool key_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
	       c == '+' || c == '@' || c == '_';
}

bool tk_key_valid(const char *key, size_t len)
{
	size_t i;

	if (!key || len == 0 || len > TK_KEY_MAX)
		return false;
	/* RFC 7143 6.1: keys begin with a capital letter. */
	if (key[0] < 'A' || key[0] > 'Z')
		return false;
	for (i = 1; i < len; i++) {
		/* "X#" marks IANA-registered extension keys (RFC 4850's
		 * X#NodeArchitecture); '#' is legal only there. */
		if (i == 1 && key[0] == 'X' && key[1] == '#')
			continue;
		if (!key_char((unsigned char)key[i]))
			return false;
	}
	return true;
}

/* Values may be UTF-8 (iSCSI names, aliases) but never carry control
 * characters: a NUL ends the pair and anything else below 0x20 is garbage. */
static bool value_valid(const char *v, size_t len)
{
	size_t i;

	if (len > TK_VALUE_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

int tk_parse(const char *buf, size_t len, struct tk_pair *pairs, size_t max_pairs, size_t *npairs)
{
	size_t off = 0, n = 0;

	if (npairs)
		*npairs = 0;
	if (!buf && len)
		return -EPROTO;
	while (off < len) {
		const char *p = buf + off;
		size_t rest = len - off;
		const char *nul = memchr(p, '\0', rest);
		const char *eq;
		size_t plen;

		/* A pair without its NUL means the segment was cut: the caller
		 * must have reassembled continuations (C bit) before parsing. */
		if (!nul)
			return -EPROTO;
		plen = (size_t)(nul - p);
		eq = memchr(p, '=', plen);
		if (!eq)
			return -EPROTO;
		if (!tk_key_valid(p, (size_t)(eq - p)))
			return -EPROTO;
		if (!value_valid(eq + 1, plen - (size_t)(eq - p) - 1))
			return -EPROTO;
		if (n >= max_pairs)
			return -E2BIG;
		pairs[n].key = p;
		pairs[n].key_len = (size_t)(eq - p);
		pairs[n].value = eq + 1;
		pairs[n].value_len = plen - pairs[n].key_len - 1;
		n++;
		off += plen + 1;
	}
	if (npairs)
		*npairs = n;
	return 0;
}

const char *tk_get(const struct tk_pair *pairs, size_t npairs, const char *key)
{
	size_t klen, i;

	if (!pairs || !key)
		return NULL;
	klen = strlen(key);
	for (i = 0; i < npairs; i++)
		if (pairs[i].key_len == klen && memcmp(pairs[i].key, key, klen) == 0)
			return pairs[i].value;
	return NULL;
}

void tk_buf_init(struct tk_buf *b, char *mem, size_t cap)
{
	b->buf = mem;
	b->len = 0;
	b->cap = cap;
	b->max = cap;
	b->dynamic = false;
}

void tk_buf_init_dyn(struct tk_buf *b, size_t max)
{
	b->buf = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->dynamic = true;
}

void tk_buf_free(struct tk_buf *b)
{
	if (b->dynamic)
		free(b->buf);
	b->buf = NULL;
	b->len = b->cap = 0;
}

static int reserve(struct tk_buf *b, size_t need)
{
	size_t ncap;
	char *nb;

	if (need > b->max || need < b->len)
		return -ENOSPC;
	if (need <= b->cap)
		return 0;
	if (!b->dynamic)
		return -ENOSPC;
	/* Doubling keeps building a 10,000-target SendTargets reply linear. */
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > b->max / 2 ? b->max : ncap * 2;
	nb = realloc(b->buf, ncap);
	if (!nb)
		return -ENOMEM;
	b->buf = nb;
	b->cap = ncap;
	return 0;
}

int tk_add(struct tk_buf *b, const char *key, const char *value)
{
	size_t klen, vlen, need;
	int rc;

	if (!b || !key || !value)
		return -EINVAL;
	klen = strlen(key);
	vlen = strlen(value);
	if (!tk_key_valid(key, klen) || !value_valid(value, vlen))
		return -EINVAL;
	need = b->len + klen + 1 + vlen + 1;
	rc = reserve(b, need);
	if (rc)
		return rc;
	memcpy(b->buf + b->len, key, klen);
	b->buf[b->len + klen] = '=';
	memcpy(b->buf + b->len + klen + 1, value, vlen);
	b->buf[need - 1] = '\0';
	b->len = need;
	return 0;
}

int tk_addf(struct tk_buf *b, const char *key, const char *fmt, ...)
{
	char val[TK_VALUE_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n > TK_VALUE_MAX)
		return -EINVAL;
	return tk_add(b, key, val);
}
