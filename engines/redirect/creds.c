/* creds.c: the portal's CHAP credential table (seed 003 [0062]): users, write-only secrets, persisted with the rows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engines/redirect/model.h"
#include "common/array.h"
#include "common/log.h"
#include "common/state.h"

#define TAG "redirect"

struct redir_crd {
	struct redir_cred pub; /* first: the index leads, as in every redir_vec */
	char secret[REDIR_CHAP_SECRET_MAX + 1];
};

static struct redir_vec creds = {.size = sizeof(struct redir_crd)};
static uint32_t next_cred = 1;

const struct redir_cred *redir_cred_find(uint32_t index)
{
	struct redir_crd *c = redir_vec_find(&creds, index);

	return c ? &c->pub : NULL;
}

const struct redir_cred *redir_cred_next(uint32_t after)
{
	size_t p = after == UINT32_MAX ? creds.n : redir_vec_pos(&creds, after + 1);

	return p < creds.n ? &((struct redir_crd *)creds.v)[p].pub : NULL;
}

uint32_t redir_cred_next_index(void)
{
	while (next_cred && redir_vec_find(&creds, next_cred))
		next_cred++;
	return next_cred;
}

int redir_cred_load(uint32_t index, struct redir_cred_spec *out)
{
	struct redir_crd *c = redir_vec_find(&creds, index);

	if (!c)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->index = index;
	snprintf(out->user, sizeof(out->user), "%s", c->pub.user);
	snprintf(out->initiator, sizeof(out->initiator), "%s", c->pub.initiator);
	snprintf(out->secret, sizeof(out->secret), "%s", c->secret);
	out->storage = c->pub.storage;
	return 0;
}

/* CHAP_N and the secret travel as iSCSI text values and sit in the state
 * file as they are: printable ASCII, no space, so neither needs quoting. */
static bool plain(const char *s)
{
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return false;
	return true;
}

int redir_cred_validate(const struct redir_cred_spec *s)
{
	size_t sl;

	if (!s || !s->index)
		return -EINVAL;
	sl = strnlen(s->secret, sizeof(s->secret));
	if (sl < REDIR_CHAP_SECRET_MIN || sl > REDIR_CHAP_SECRET_MAX)
		return -EMSGSIZE;
	if (!s->user[0] || !plain(s->user) || !plain(s->secret))
		return -EINVAL;
	if (s->initiator[0] && !redir_name_ok(s->initiator, REDIR_NAME_MAX))
		return -EINVAL;
	if (s->storage != REDIR_ST_VOLATILE && s->storage != REDIR_ST_NONVOLATILE)
		return -EINVAL;
	for (size_t i = 0; i < creds.n; i++) {
		const struct redir_crd *c = &((struct redir_crd *)creds.v)[i];

		if (c->pub.index != s->index && strcmp(c->pub.user, s->user) == 0)
			return -EEXIST;
	}
	return 0;
}

static void st_key(char *k, size_t len, uint32_t index, const char *field)
{
	snprintf(k, len, "redir.cred.%u.%s", index, field);
}

static void st_drop(uint32_t index)
{
	char k[64];

	snprintf(k, sizeof(k), "redir.cred.%u.", index);
	redir_st_del_prefix(k);
}

static void st_save(const struct redir_cred_spec *s)
{
	char k[64];

	st_key(k, sizeof(k), s->index, "user");
	cm_state_set(redir_st(), k, s->user);
	st_key(k, sizeof(k), s->index, "initiator");
	cm_state_set(redir_st(), k, s->initiator);
	st_key(k, sizeof(k), s->index, "secret");
	cm_state_set(redir_st(), k, s->secret);
}

int redir_cred_put(const struct redir_cred_spec *s)
{
	struct redir_crd *c;
	struct redir_cred_spec old;
	bool had;
	int rc;

	if ((rc = redir_cred_validate(s)) < 0)
		return rc;
	had = redir_cred_load(s->index, &old) == 0;
	/* The state file first: a row the file cannot hold is not made. */
	if (redir_st() && (s->storage == REDIR_ST_NONVOLATILE || (had && old.storage == REDIR_ST_NONVOLATILE))) {
		st_drop(s->index);
		if (s->storage == REDIR_ST_NONVOLATILE)
			st_save(s);
		if ((rc = redir_st_commit()) < 0) {
			st_drop(s->index);
			if (had && old.storage == REDIR_ST_NONVOLATILE)
				st_save(&old);
			memset(&old, 0, sizeof(old));
			return rc;
		}
	} else if (s->storage == REDIR_ST_NONVOLATILE) {
		memset(&old, 0, sizeof(old));
		return -EIO;
	}
	memset(&old, 0, sizeof(old));
	if (!(c = redir_vec_find(&creds, s->index)) && !(c = redir_vec_insert(&creds, s->index)))
		return -ENOMEM;
	c->pub.index = s->index;
	snprintf(c->pub.user, sizeof(c->pub.user), "%s", s->user);
	snprintf(c->pub.initiator, sizeof(c->pub.initiator), "%s", s->initiator);
	snprintf(c->secret, sizeof(c->secret), "%s", s->secret);
	c->pub.storage = s->storage;
	if (s->index >= next_cred)
		next_cred = s->index + 1;
	redir_portal_auth_forget();
	if (!had)
		cm_log(CM_LOG_INFO, TAG, "portal credential %u (user %s) created", s->index, s->user);
	return 0;
}

int redir_cred_delete(uint32_t index)
{
	size_t p = redir_vec_pos(&creds, index);
	struct redir_crd *c;

	if (p >= creds.n || (c = &((struct redir_crd *)creds.v)[p])->pub.index != index)
		return -ENOENT;
	if (redir_st() && c->pub.storage == REDIR_ST_NONVOLATILE) {
		int rc;

		st_drop(index);
		if ((rc = redir_st_commit()) < 0) {
			struct redir_cred_spec s;

			redir_cred_load(index, &s);
			st_save(&s);
			memset(&s, 0, sizeof(s));
			return rc;
		}
	}
	memset(c->secret, 0, sizeof(c->secret));
	redir_vec_remove_pos(&creds, p);
	redir_portal_auth_forget();
	cm_log(CM_LOG_INFO, TAG, "portal credential %u deleted", index);
	return 0;
}

int redir_cred_secret(const char *user, const char *initiator, char *secret, size_t size)
{
	for (size_t i = 0; i < creds.n; i++) {
		const struct redir_crd *c = &((struct redir_crd *)creds.v)[i];
		size_t n;

		if (strcmp(c->pub.user, user) != 0)
			continue;
		if (c->pub.initiator[0] && strcmp(c->pub.initiator, initiator) != 0)
			return -EACCES;
		n = strlen(c->secret);
		if (n >= size)
			return -ENOSPC;
		memcpy(secret, c->secret, n + 1);
		return (int)n;
	}
	return -ENOENT;
}

struct load_ctx {
	uint32_t *idx;
	size_t n, cap;
};

static void collect(const char *key, const char *value, void *arg)
{
	struct load_ctx *l = arg;
	unsigned long x;
	char *end;

	(void)value;
	x = strtoul(key + strlen("redir.cred."), &end, 10);
	if (*end != '.' || !x || x > UINT32_MAX || strcmp(end, ".user") != 0)
		return;
	if (cm_grow(&l->idx, &l->cap, l->n, sizeof(*l->idx), 16) < 0)
		return;
	l->idx[l->n++] = (uint32_t)x;
}

/* nonVolatile rows from before the last stop. */
void redir_creds_load(void)
{
	struct load_ctx l = {0};

	redir_creds_free();
	if (!redir_st())
		return;
	cm_state_foreach(redir_st(), "redir.cred.", collect, &l);
	for (size_t i = 0; i < l.n; i++) {
		struct redir_cred_spec s = {.index = l.idx[i], .storage = REDIR_ST_NONVOLATILE};
		const char *v;
		char k[64];
		struct redir_crd *c;

		st_key(k, sizeof(k), s.index, "user");
		v = cm_state_get(redir_st(), k);
		snprintf(s.user, sizeof(s.user), "%s", v ? v : "");
		st_key(k, sizeof(k), s.index, "initiator");
		v = cm_state_get(redir_st(), k);
		snprintf(s.initiator, sizeof(s.initiator), "%s", v ? v : "");
		st_key(k, sizeof(k), s.index, "secret");
		v = cm_state_get(redir_st(), k);
		snprintf(s.secret, sizeof(s.secret), "%s", v ? v : "");
		if (redir_cred_validate(&s) < 0 || redir_vec_find(&creds, s.index) ||
		    !(c = redir_vec_insert(&creds, s.index))) {
			cm_log(CM_LOG_WARNING, TAG, "state: ignoring bad portal credential row %u", s.index);
			memset(&s, 0, sizeof(s));
			continue;
		}
		c->pub.index = s.index;
		snprintf(c->pub.user, sizeof(c->pub.user), "%s", s.user);
		snprintf(c->pub.initiator, sizeof(c->pub.initiator), "%s", s.initiator);
		snprintf(c->secret, sizeof(c->secret), "%s", s.secret);
		c->pub.storage = REDIR_ST_NONVOLATILE;
		if (s.index >= next_cred)
			next_cred = s.index + 1;
		memset(&s, 0, sizeof(s));
	}
	free(l.idx);
}

void redir_creds_free(void)
{
	if (creds.v)
		memset(creds.v, 0, creds.n * creds.size);
	free(creds.v);
	creds.v = NULL;
	creds.n = creds.cap = creds.hint = 0;
}
