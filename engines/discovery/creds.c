/* creds.c: CHAP credential rows of the connection manager: validation, persistence (with secrets, 0600), lookups. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engines/discovery/login.h"
#include "engines/registry.h"
#include "common/array.h"
#include "common/log.h"
#include "common/hex.h"
#include "common/search.h"
#include "common/state.h"

#define TAG "login"
#define CRED_PREFIX "login.cred."

static struct {
	struct disc_cred **rows; /* sorted by index */
	size_t n, cap;
	uint32_t next_index; /* never goes down while the agent runs */
	unsigned int secret_min, secret_max;
} creds = {.next_index = 1, .secret_min = 12, .secret_max = 16};

/* ---- helpers shared with login.c ------------------------------------------ */

int disc_persist(const char *key, const char *value)
{
	struct cm_state *st = sa_engines_state();
	const char *prev;
	char *old = NULL;
	int rc;

	if (!st)
		return -EIO;
	if ((prev = cm_state_get(st, key)) && !(old = strdup(prev)))
		return -ENOMEM;
	rc = value ? cm_state_set(st, key, value) : cm_state_del(st, key);
	if (rc == -ENOENT && !value)
		rc = 0;
	if (rc == 0)
		rc = cm_state_commit(st);
	if (rc < 0) {
		/* Persist first, apply second: a failed write leaves memory as it was. */
		if (old)
			cm_state_set(st, key, old);
		else
			cm_state_del(st, key);
		cm_log(CM_LOG_ERR, TAG, "cannot persist %s: %s", key, strerror(-rc));
	}
	if (old) {
		/* It may hold a secret. */
		memset(old, 0, strlen(old));
		free(old);
	}
	return rc;
}

/* ---- rows ----------------------------------------------------------------- */

static int64_t cred_index_of(const void *e)
{
	return (*(const struct disc_cred *const *)e)->index;
}

static size_t cred_pos(uint32_t index)
{
	return cm_lower_bound(creds.rows, creds.n, sizeof(*creds.rows), index, cred_index_of);
}

struct disc_cred *disc_cred_lookup(uint32_t index)
{
	size_t p = cred_pos(index);

	return p < creds.n && creds.rows[p]->index == index ? creds.rows[p] : NULL;
}

const struct disc_cred *disc_cred_find(uint32_t index)
{
	return disc_cred_lookup(index);
}

const struct disc_cred *disc_cred_next(uint32_t after)
{
	size_t p = after == UINT32_MAX ? creds.n : cred_pos(after + 1);

	return p < creds.n ? creds.rows[p] : NULL;
}

uint32_t disc_cred_next_index(void)
{
	return creds.next_index;
}

void disc_cred_set_limits(unsigned int min, unsigned int max)
{
	creds.secret_min = min;
	creds.secret_max = max;
}

void disc_cred_secret_limits(unsigned int *min, unsigned int *max)
{
	*min = creds.secret_min;
	*max = creds.secret_max;
}

static void cred_wipe_free(struct disc_cred *c)
{
	if (!c)
		return;
	/* Secrets do not linger in freed memory. */
	memset(c, 0, sizeof(*c));
	free(c);
}

static int cred_insert(struct disc_cred *c)
{
	size_t p = cred_pos(c->index);

	if (p < creds.n && creds.rows[p]->index == c->index)
		return -EEXIST;
	if (cm_insert(&creds.rows, &creds.n, &creds.cap, sizeof(*creds.rows), p, &c, 8) < 0)
		return -ENOMEM;
	if (c->index >= creds.next_index && c->index < UINT32_MAX)
		creds.next_index = c->index + 1;
	disc_login_emit(DISC_CRED_EV_ADDED, c->index);
	return 0;
}

static void cred_remove(uint32_t index)
{
	size_t p = cred_pos(index);

	if (p >= creds.n || creds.rows[p]->index != index)
		return;
	disc_login_emit(DISC_CRED_EV_REMOVED, index);
	cred_wipe_free(creds.rows[p]);
	memmove(&creds.rows[p], &creds.rows[p + 1], (creds.n - p - 1) * sizeof(*creds.rows));
	creds.n--;
}

void disc_cred_clear(void)
{
	while (creds.n)
		cred_remove(creds.rows[creds.n - 1]->index);
	free(creds.rows);
	creds.rows = NULL;
	creds.n = creds.cap = 0;
}

/* ---- validation ----------------------------------------------------------- */

/* CHAP names and secrets travel as C strings to libiscsi and through a
 * line-oriented file to the data plane: no NUL and no control characters. */
static int plain_bytes(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return 0;
	return 1;
}

int disc_cred_check_secret(const char *s, size_t len, int mutual)
{
	if (mutual && len == 0)
		return 0; /* no mutual CHAP */
	if (len < creds.secret_min || len > creds.secret_max)
		return -EMSGSIZE;
	return plain_bytes(s, len) ? 0 : -EINVAL;
}

int disc_cred_complete(const struct disc_cred *c)
{
	return c->user[0] && c->secret[0];
}

int disc_cred_validate(const struct disc_cred *c)
{
	if (!plain_bytes(c->user, strlen(c->user)) || !plain_bytes(c->mutual_user, strlen(c->mutual_user)) ||
	    !plain_bytes(c->secret, strlen(c->secret)) || !plain_bytes(c->mutual_secret, strlen(c->mutual_secret)))
		return -EINVAL;
	/* RFC 7143 section 12.1.3: the two directions must not share a secret. */
	if (c->secret[0] && strcmp(c->secret, c->mutual_secret) == 0)
		return -EEXIST;
	return 0;
}

/* ---- persistence ---------------------------------------------------------- */

/* "1;HEX(user);HEX(secret);HEX(mutual user);HEX(mutual secret);row".  Hex
 * keeps any byte out of the state file's escaping and away from grep. */
static int cred_serialize(const struct disc_cred *c, char *buf, size_t len)
{
	char h[4][2 * DISC_CRED_STR_MAX + 1];
	int n;

	cm_hex_encode(c->user, strlen(c->user), h[0]);
	cm_hex_encode(c->secret, strlen(c->secret), h[1]);
	cm_hex_encode(c->mutual_user, strlen(c->mutual_user), h[2]);
	cm_hex_encode(c->mutual_secret, strlen(c->mutual_secret), h[3]);
	n = snprintf(buf, len, "1;%s;%s;%s;%s;%d", h[0], h[1], h[2], h[3], c->row);
	memset(h, 0, sizeof(h));
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

static int field(const char *hex, char *dst)
{
	size_t n;

	if (cm_hex_decode(hex, (unsigned char *)dst, DISC_CRED_STR_MAX, &n) < 0 || memchr(dst, 0, n))
		return -EINVAL;
	dst[n] = '\0';
	return 0;
}

static int cred_parse(const char *val, struct disc_cred *c)
{
	char *copy = strdup(val), *p, *f[6];
	int rc = -EINVAL;

	if (!copy)
		return -ENOMEM;
	p = copy;
	for (int i = 0; i < 6; i++)
		if (!(f[i] = strsep(&p, ";")))
			goto out;
	if (p || strcmp(f[0], "1") != 0 || field(f[1], c->user) || field(f[2], c->secret) ||
	    field(f[3], c->mutual_user) || field(f[4], c->mutual_secret))
		goto out;
	c->row = atoi(f[5]);
	if (c->row < DISC_ROW_ACTIVE || c->row > DISC_ROW_NOT_READY)
		goto out;
	rc = 0;
out:
	memset(copy, 0, strlen(val));
	free(copy);
	return rc;
}

static void cred_key(char *key, size_t len, uint32_t index)
{
	snprintf(key, len, CRED_PREFIX "%u", (unsigned int)index);
}

static void load_one(const char *key, const char *value, void *arg)
{
	unsigned long index = strtoul(key + strlen(CRED_PREFIX), NULL, 10);
	struct disc_cred *c = calloc(1, sizeof(*c));
	int *n = arg;

	if (!c)
		return;
	/* Secrets' limits may have changed since: a stored row is kept as is. */
	if (index == 0 || index >= UINT32_MAX || cred_parse(value, c) < 0 ||
	    (c->secret[0] && strcmp(c->secret, c->mutual_secret) == 0)) {
		cm_log(CM_LOG_ERR, TAG, "state: ignoring bad record %s", key);
		cred_wipe_free(c);
		return;
	}
	c->index = (uint32_t)index;
	c->nonvolatile = 1;
	c->stored = 1;
	if (!disc_cred_complete(c))
		c->row = DISC_ROW_NOT_READY;
	if (cred_insert(c) < 0) {
		cred_wipe_free(c);
		return;
	}
	(*n)++;
}

int disc_cred_load(void)
{
	struct cm_state *st = sa_engines_state();
	int n = 0;

	if (st)
		cm_state_foreach(st, CRED_PREFIX, load_one, &n);
	return n;
}

/* ---- verbs ---------------------------------------------------------------- */

static int same_secrets(const struct disc_cred *a, const struct disc_cred *b)
{
	return strcmp(a->user, b->user) == 0 && strcmp(a->secret, b->secret) == 0 &&
	       strcmp(a->mutual_user, b->mutual_user) == 0 && strcmp(a->mutual_secret, b->mutual_secret) == 0;
}

int disc_cred_put(const struct disc_cred *in)
{
	struct disc_cred *cur = disc_cred_lookup(in->index), *c;
	char key[48], val[4 * 2 * DISC_CRED_STR_MAX + 64];
	int rc, relogin, stored;

	if (in->index == 0 || in->index == UINT32_MAX)
		return -EINVAL;
	if ((rc = disc_cred_validate(in)) < 0)
		return rc;
	if (in->row == DISC_ROW_ACTIVE && !disc_cred_complete(in))
		return -EINVAL;
	cred_key(key, sizeof(key), in->index);
	/* Like every table's: a row is volatile until it has been active once
	 * (RFC 2579 lets an agent drop rows that never became active). */
	stored = in->nonvolatile && (in->row == DISC_ROW_ACTIVE || (cur && cur->stored));
	if (stored) {
		if ((rc = cred_serialize(in, val, sizeof(val))) < 0)
			return rc;
		rc = disc_persist(key, val);
		memset(val, 0, sizeof(val));
		if (rc < 0)
			return rc;
	} else if (cur && cur->stored && (rc = disc_persist(key, NULL)) < 0) {
		return rc;
	}
	if (cur) {
		relogin = !same_secrets(cur, in) || cur->row != in->row;
		uint32_t users = cur->users;

		*cur = *in;
		cur->users = users;
		cur->stored = stored;
		cm_log(CM_LOG_INFO, TAG, "credential %u changed", (unsigned int)in->index);
		if (relogin)
			disc_login_cred_changed(in->index);
		return 0;
	}
	if (!(c = malloc(sizeof(*c))))
		goto undo;
	*c = *in;
	c->users = 0;
	c->stored = stored;
	if (cred_insert(c) < 0) {
		cred_wipe_free(c);
		goto undo;
	}
	cm_log(CM_LOG_INFO, TAG, "credential %u created", (unsigned int)in->index);
	return 0;
undo:
	if (stored)
		disc_persist(key, NULL);
	return -ENOMEM;
}

int disc_cred_delete(uint32_t index)
{
	struct disc_cred *c = disc_cred_lookup(index);
	char key[48];
	int rc;

	if (!c)
		return -ENOENT;
	if (c->users)
		return -EBUSY;
	cred_key(key, sizeof(key), index);
	if (c->stored && (rc = disc_persist(key, NULL)) < 0)
		return rc;
	cred_remove(index);
	cm_log(CM_LOG_INFO, TAG, "credential %u destroyed", (unsigned int)index);
	return 0;
}

/* ---- the initiator-wide default ------------------------------------------- */

#define DEFAULT_KEY "login.default_cred"

static uint32_t default_cred;

uint32_t disc_default_cred(void)
{
	return default_cred;
}

int disc_default_cred_check(uint32_t cred)
{
	return cred && !disc_cred_find(cred) ? -ENOENT : 0;
}

int disc_default_cred_set(uint32_t cred)
{
	char val[16];
	int rc;

	if ((rc = disc_default_cred_check(cred)) < 0)
		return rc;
	if (cred == default_cred)
		return 0;
	snprintf(val, sizeof(val), "%u", (unsigned int)cred);
	if ((rc = disc_persist(DEFAULT_KEY, cred ? val : NULL)) < 0)
		return rc;
	default_cred = cred;
	cm_log(CM_LOG_INFO, TAG, "default credential: %u", (unsigned int)cred);
	/* Logins that name none log in again with it. */
	disc_login_cred_changed(0);
	return 0;
}

/* The default as the state file has it (after the credentials are loaded). */
void disc_default_cred_load(void)
{
	struct cm_state *st = sa_engines_state();
	const char *v = st ? cm_state_get(st, DEFAULT_KEY) : NULL;
	unsigned long c = v ? strtoul(v, NULL, 10) : 0;

	default_cred = c && c < UINT32_MAX ? (uint32_t)c : 0;
}
