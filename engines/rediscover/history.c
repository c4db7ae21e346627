/* history.c: the decision history: rows by index, kept in the state file, replayed into the limiter at start. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/log.h"
#include "common/search.h"
#include "common/state.h"
#include "engines/registry.h"
#include "engines/rediscover/model.h"

#define STATE_PREFIX "rediscover.decision."

/* ---- decisions ----------------------------------------------------------------------------- */

static int64_t decision_index_of(const void *elem)
{
	return ((const struct redisc_decision *)elem)->index;
}

static size_t decision_lower(int64_t index)
{
	return cm_lower_bound(redisc_m.dec, redisc_m.ndec, sizeof(*redisc_m.dec), index, decision_index_of);
}

const struct redisc_decision *redisc_decision_next(uint32_t after)
{
	return cm_next_key(redisc_m.dec, redisc_m.ndec, sizeof(*redisc_m.dec), after, decision_index_of);
}

const struct redisc_decision *redisc_decision_find(uint32_t index)
{
	return cm_find_key(redisc_m.dec, redisc_m.ndec, sizeof(*redisc_m.dec), index, decision_index_of);
}

/* One line of tab-separated fields per decision: names have no tabs (checked on the way in).  Version 2 adds the
 * move's step and storage row; version 1 lines (without them) still load. */
#define DEC_FIELDS_V1 21
#define DEC_FIELDS 23

static int decision_encode(const struct redisc_decision *d, char *buf, size_t len)
{
	char oh[33], nh[33];
	int n;

	redisc_addr_hex(&d->old_portal, oh);
	redisc_addr_hex(&d->new_portal, nh);
	n = snprintf(
	    buf, len, "2\t%lld\t%d\t%s\t%d\t%u\t%s\t%d\t%s\t%u\t%d\t%s\t%u\t%s\t%s\t%d\t%d\t%u\t%s\t%s\t%s\t%d\t%u",
	    (long long)d->when, d->trigger, d->source, d->metric, (unsigned int)d->value, d->target, d->old_portal.type,
	    oh, (unsigned int)d->old_portal.port, d->new_portal.type, nh, (unsigned int)d->new_portal.port,
	    d->competing, d->offender, d->mode, d->state, (unsigned int)d->sessions_ended, d->messages, d->outcome,
	    d->error, d->step, (unsigned int)d->stor_row);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

static int decision_decode(uint32_t index, const char *line, struct redisc_decision *d)
{
	char *copy = strdup(line), *f[DEC_FIELDS], *p = copy;
	int n = 0, rc = -EINVAL;

	if (!copy)
		return -ENOMEM;
	while (n < DEC_FIELDS && p) {
		f[n++] = p;
		if ((p = strchr(p, '\t')))
			*p++ = 0;
	}
	if (p || !((n == DEC_FIELDS_V1 && strcmp(f[0], "1") == 0) || (n == DEC_FIELDS && strcmp(f[0], "2") == 0)))
		goto out;
	memset(d, 0, sizeof(*d));
	d->index = index;
	d->when = (time_t)strtoll(f[1], NULL, 10);
	d->trigger = atoi(f[2]);
	snprintf(d->source, sizeof(d->source), "%s", f[3]);
	d->metric = atoi(f[4]);
	d->value = (uint32_t)strtoul(f[5], NULL, 10);
	snprintf(d->target, sizeof(d->target), "%s", f[6]);
	d->old_portal.type = atoi(f[7]);
	d->new_portal.type = atoi(f[10]);
	if (d->old_portal.type < 0 || d->old_portal.type > 2 || d->new_portal.type < 0 || d->new_portal.type > 2 ||
	    redisc_addr_unhex(f[8], &d->old_portal) < 0 || redisc_addr_unhex(f[11], &d->new_portal) < 0)
		goto out;
	d->old_portal.port = (uint16_t)strtoul(f[9], NULL, 10);
	d->new_portal.port = (uint16_t)strtoul(f[12], NULL, 10);
	snprintf(d->competing, sizeof(d->competing), "%s", f[13]);
	snprintf(d->offender, sizeof(d->offender), "%s", f[14]);
	d->mode = atoi(f[15]);
	d->state = atoi(f[16]);
	d->sessions_ended = (uint32_t)strtoul(f[17], NULL, 10);
	snprintf(d->messages, sizeof(d->messages), "%s", f[18]);
	snprintf(d->outcome, sizeof(d->outcome), "%s", f[19]);
	snprintf(d->error, sizeof(d->error), "%s", f[20]);
	if (n == DEC_FIELDS) {
		d->step = atoi(f[21]);
		d->stor_row = (uint32_t)strtoul(f[22], NULL, 10);
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

static void decision_key(char *key, size_t len, uint32_t index)
{
	snprintf(key, len, STATE_PREFIX "%010u", (unsigned int)index);
}

/* Appends d (its index set) and persists it; the oldest row goes when the history is full. */
int redisc_decision_store(const struct redisc_decision *d)
{
	struct cm_state *st = sa_engines_state();
	char key[64], line[4 * REDISC_TEXT_MAX + 1024];
	int rc;

	if (cm_grow(&redisc_m.dec, &redisc_m.capdec, redisc_m.ndec, sizeof(*redisc_m.dec), 64) < 0)
		return -ENOMEM;
	if (st) {
		if ((rc = decision_encode(d, line, sizeof(line))) < 0)
			return rc;
		decision_key(key, sizeof(key), d->index);
		if ((rc = cm_state_set(st, key, line)) < 0)
			return rc;
	}
	redisc_m.dec[redisc_m.ndec++] = *d;
	while (redisc_m.ndec > redisc_m.history) {
		if (st) {
			decision_key(key, sizeof(key), redisc_m.dec[0].index);
			cm_state_del(st, key);
		}
		memmove(redisc_m.dec, redisc_m.dec + 1, (redisc_m.ndec - 1) * sizeof(*redisc_m.dec));
		redisc_m.ndec--;
	}
	if (st && (rc = cm_state_commit(st)) < 0)
		cm_log(CM_LOG_ERR, REDISC_TAG, "decision %u not persisted: %s", (unsigned int)d->index, strerror(-rc));
	return 0;
}

/* Persists one row already in the history (its state, step or outcome moved). */
int redisc_decision_persist(const struct redisc_decision *d)
{
	struct cm_state *st = sa_engines_state();
	char key[64], line[4 * REDISC_TEXT_MAX + 1024];
	int rc;

	if (!st)
		return 0;
	if ((rc = decision_encode(d, line, sizeof(line))) < 0)
		return rc;
	decision_key(key, sizeof(key), d->index);
	if ((rc = cm_state_set(st, key, line)) < 0 || (rc = cm_state_commit(st)) < 0) {
		cm_log(CM_LOG_ERR, REDISC_TAG, "decision %u not persisted: %s", (unsigned int)d->index, strerror(-rc));
		return rc;
	}
	return 0;
}

int redisc_decision_update(uint32_t index, void (*fn)(struct redisc_decision *d, void *arg), void *arg)
{
	size_t i = decision_lower(index);

	if (!redisc_m.running || i >= redisc_m.ndec || redisc_m.dec[i].index != index)
		return -ENOENT;
	fn(&redisc_m.dec[i], arg);
	redisc_m.dec[i].index = index;
	return redisc_decision_persist(&redisc_m.dec[i]);
}

/* How far back a new session still counts as the outcome of a move: the messages' re-logins take seconds. */
#define OUTCOME_WINDOW_S 3600

static int has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

static void outcome_append(struct redisc_decision *d, void *arg)
{
	size_t off = strlen(d->outcome);

	if (off + strlen(arg) + 1 < sizeof(d->outcome))
		snprintf(d->outcome + off, sizeof(d->outcome) - off, "%s%s", off ? " " : "", (const char *)arg);
}

void redisc_outcome_note(const struct redisc_session *s)
{
	time_t now = redisc_clock_wall();

	/* Newest first: the latest move of the target is the one the initiator followed. */
	for (size_t i = redisc_m.ndec; i-- > 0;) {
		const struct redisc_decision *d = &redisc_m.dec[i];
		char word[REDISC_NAME_MAX + 80], at[64], key[REDISC_NAME_MAX + 2];

		if (now - d->when > OUTCOME_WINDOW_S)
			break;
		if (d->state != REDISC_ST_DONE || strcmp(d->target, s->target) != 0)
			continue;
		/* Somewhere other than the address it left; once per initiator and move. */
		if (redisc_addr_cmp(&s->portal, &d->old_portal) == 0 || !has_word(d->competing, s->initiator))
			return;
		snprintf(key, sizeof(key), "%s@", s->initiator);
		if (strstr(d->outcome, key))
			return;
		redisc_addr_text(&s->portal, at, sizeof(at));
		snprintf(word, sizeof(word), "%s@%s+%ld", s->initiator, at, (long)(now - d->when));
		redisc_decision_update(d->index, outcome_append, word);
		cm_log(CM_LOG_INFO, REDISC_TAG, "decision %u: %s", (unsigned int)d->index, word);
		return;
	}
}

struct load_ctx {
	int bad;
};

static void load_one(const char *key, const char *value, void *arg)
{
	struct load_ctx *lc = arg;
	struct redisc_decision d;
	char *end;
	unsigned long index = strtoul(key + strlen(STATE_PREFIX), &end, 10);

	if (*end || !index || index > UINT32_MAX || decision_decode((uint32_t)index, value, &d) < 0) {
		lc->bad++;
		return;
	}
	if (cm_grow(&redisc_m.dec, &redisc_m.capdec, redisc_m.ndec, sizeof(*redisc_m.dec), 64) < 0) {
		lc->bad++;
		return;
	}
	redisc_m.dec[redisc_m.ndec++] = d; /* the keys' zero padding makes key order index order */
}

/* The history and, from it, the cooldowns and the cap: a restart does not reopen the gates. */
void redisc_decisions_load(void)
{
	struct cm_state *st = sa_engines_state();
	struct load_ctx lc = {0};

	if (!st)
		return;
	cm_state_foreach(st, STATE_PREFIX, load_one, &lc);
	if (lc.bad)
		cm_log(CM_LOG_WARNING, REDISC_TAG, "%d decision rows in the state file are unreadable: skipped",
		       lc.bad);
	for (size_t i = 0; i < redisc_m.ndec; i++) {
		char op[64], np[64];

		redisc_addr_text(&redisc_m.dec[i].old_portal, op, sizeof(op));
		redisc_addr_text(&redisc_m.dec[i].new_portal, np, sizeof(np));
		redisc_limit_note(&redisc_m.lim, redisc_m.dec[i].target, op, np[0] ? np : NULL, redisc_m.dec[i].when);
	}
	redisc_m.next_decision = redisc_m.ndec ? redisc_m.dec[redisc_m.ndec - 1].index : 0;
	if (redisc_m.ndec)
		cm_log(CM_LOG_INFO, REDISC_TAG, "%zu decisions restored, the latest %u", redisc_m.ndec,
		       (unsigned int)redisc_m.next_decision);
}
