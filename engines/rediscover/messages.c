/* messages.c: after a move, the rediscovery messages (seed 000 step 66): sanRediscover to every affected initiator
 * that is not the offender, sanRediscoverAlternative to the offender; informs to their agents, outcomes recorded. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus.h"
#include "common/log.h"
#include "common/secret.h"
#include "engines/rediscover/model.h"

static const struct redisc_msg_ops *msg_ops;

/* What the messages need from the config, copied (a reload frees the section). */
struct msg_dir {
	char *name; /* NULL for a storage agent's portals */
	char **portals;
	size_t nportals;
	char **initiators;
	size_t ninitiators;
};
static struct {
	int sub;
	char *user, *auth, *priv; /* auth and priv: secrets, never logged */
	struct msg_dir *stor;     /* the storage agents' portals */
	size_t nstor;
	struct msg_dir *targets; /* the configured alternatives */
	size_t ntargets;
} mc;

static void strv_drop(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char **strv_dup(char *const *src, size_t n)
{
	char **v = calloc(n + 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(src[i]))) {
			strv_drop(v, i);
			return NULL;
		}
	return v;
}

static void dir_free(struct msg_dir *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(d[i].name);
		strv_drop(d[i].portals, d[i].nportals);
		strv_drop(d[i].initiators, d[i].ninitiators);
	}
	free(d);
}

static void mc_free_config(void)
{
	free(mc.user);
	cm_secret_free(mc.auth);
	cm_secret_free(mc.priv);
	dir_free(mc.stor, mc.nstor);
	dir_free(mc.targets, mc.ntargets);
	mc.user = mc.auth = mc.priv = NULL;
	mc.stor = mc.targets = NULL;
	mc.nstor = mc.ntargets = 0;
}

int redisc_messages_apply(const struct sa_rediscover_config *c, char *err, size_t errlen)
{
	struct msg_dir *stor = calloc(c->nstorage_agents + 1, sizeof(*stor));
	struct msg_dir *tg = calloc(c->ntargets + 1, sizeof(*tg));
	char *user = NULL, *auth = NULL, *priv = NULL;
	int ok = stor && tg;

	for (size_t i = 0; ok && i < c->nstorage_agents; i++) {
		stor[i].nportals = c->storage_agents[i].nportals;
		ok = !!(stor[i].portals = strv_dup(c->storage_agents[i].portals, stor[i].nportals));
	}
	for (size_t i = 0; ok && i < c->ntargets; i++) {
		tg[i].nportals = c->targets[i].nportals;
		tg[i].ninitiators = c->targets[i].ninitiators;
		ok = (tg[i].name = strdup(c->targets[i].name)) &&
		     (tg[i].portals = strv_dup(c->targets[i].portals, tg[i].nportals)) &&
		     (tg[i].initiators = strv_dup(c->targets[i].initiators, tg[i].ninitiators));
	}
	if (ok && c->message_user.present)
		ok = (user = strdup(c->message_user.name)) && (auth = strdup(c->message_user.auth_passphrase)) &&
		     (priv = strdup(c->message_user.priv_passphrase));
	if (!ok) {
		dir_free(stor, stor ? c->nstorage_agents : 0);
		dir_free(tg, tg ? c->ntargets : 0);
		free(user);
		cm_secret_free(auth);
		cm_secret_free(priv);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	mc_free_config();
	mc.stor = stor;
	mc.nstor = c->nstorage_agents;
	mc.targets = tg;
	mc.ntargets = c->ntargets;
	mc.user = user;
	mc.auth = auth;
	mc.priv = priv;
	return 0;
}

void redisc_msg_ops_register(const struct redisc_msg_ops *ops)
{
	msg_ops = ops;
}

/* One inform in flight: which decision and which entry of its messages column it answers for. */
struct msg_ctx {
	uint32_t decision, agent;
	unsigned int slot;
	char entry[REDISC_NAME_MAX + 96];
};

/* The entry's words are separated by spaces and carry no spaces: "typeN:INITIATOR@WHERE=STATE[,alt=...]". */
struct slot_set {
	unsigned int slot;
	const char *state;
};

static void entry_state(struct redisc_decision *d, void *arg)
{
	const struct slot_set *s = arg;
	char out[REDISC_TEXT_MAX], copy[REDISC_TEXT_MAX], *save = NULL, *w;
	unsigned int i = 0;
	size_t off = 0;

	snprintf(copy, sizeof(copy), "%s", d->messages);
	out[0] = 0;
	for (w = strtok_r(copy, " ", &save); w && off < sizeof(out); w = strtok_r(NULL, " ", &save), i++) {
		const char *eq = strchr(w, '='), *rest = eq ? strchr(eq, ',') : NULL;

		if (i == s->slot && eq)
			off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%.*s%s%s", off ? " " : "",
			                        (int)(eq + 1 - w), w, s->state, rest ? rest : "");
		else
			off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%s", off ? " " : "", w);
	}
	if (off < sizeof(out))
		snprintf(d->messages, sizeof(d->messages), "%s", out);
}

static void inform_done(int rc, const char *why, void *arg)
{
	struct msg_ctx *c = arg;
	struct slot_set s = {.slot = c->slot, .state = rc == 0 ? "acked" : rc == -ETIMEDOUT ? "timeout" : "failed"};

	if (redisc_m.running) {
		if (redisc_decision_update(c->decision, entry_state, &s) < 0)
			cm_log(CM_LOG_WARNING, REDISC_TAG, "decision %u: cannot record the outcome of %s",
			       (unsigned int)c->decision, c->entry);
		cm_log(rc == 0 ? CM_LOG_INFO : CM_LOG_WARNING, REDISC_TAG, "decision %u: %s %s%s%s",
		       (unsigned int)c->decision, c->entry, s.state, rc ? ": " : "",
		       rc ? (why ? why : strerror(-rc)) : "");
	}
	free(c);
}

static void addr_to_msg(const struct redisc_addr *a, struct redisc_msg_portal *p)
{
	memset(p, 0, sizeof(*p));
	p->type = a->type;
	memcpy(p->a, a->a, sizeof(p->a));
	p->port = a->port;
}

/* The offender's alternative: the portals of the storage agent that served the old address (the same target
 * elsewhere, the seed's interface 38), then the configured targets its discovery domain admits (target Y). */
static int alternative(const struct redisc_decision *d, const char *old, const char *new_portal, struct redisc_alt *out)
{
	const struct msg_dir *sa = NULL;
	struct redisc_dir_target *dir;
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < mc.nstor && !sa; i++)
		for (size_t k = 0; k < mc.stor[i].nportals; k++)
			if (strcmp(mc.stor[i].portals[k], old) == 0)
				sa = &mc.stor[i];
	if (!(dir = calloc(mc.ntargets + 1, sizeof(*dir))))
		return -ENOMEM;
	if (sa) {
		dir[n].name = d->target;
		dir[n].portals = (const char *const *)sa->portals;
		dir[n].nportals = sa->nportals;
		n++;
	}
	for (size_t i = 0; i < mc.ntargets; i++, n++) {
		dir[n].name = mc.targets[i].name;
		dir[n].portals = (const char *const *)mc.targets[i].portals;
		dir[n].nportals = mc.targets[i].nportals;
		dir[n].initiators = (const char *const *)mc.targets[i].initiators;
		dir[n].ninitiators = mc.targets[i].ninitiators;
	}
	rc = redisc_pick_alternative(dir, n, d->target, old, new_portal, d->offender, out);
	free(dir);
	return rc;
}

/* Sends one message; its entry (with its state) goes into words. */
static void send_one(const struct redisc_decision *d, const struct redisc_msg *m, unsigned int slot, char *words,
                     size_t wlen, const char *alt)
{
	const struct redisc_agent *a = redisc_agent_by_name(m->initiator);
	struct redisc_msg_enc enc;
	struct msg_ctx *c = NULL;
	const uint32_t *toid;
	char at[64] = "iSNS", peer[80];
	const char *state;
	size_t tlen, off = strlen(words);
	int n, rc = 0;

	if (a)
		redisc_addr_text(&a->addr, at, sizeof(at));
	if (!a) {
		/* No agent: iSNS's state change notification is all it gets. */
		state = "no-agent";
	} else if (!mc.user || !msg_ops || !msg_ops->inform) {
		state = "no-sender";
	} else if ((n = redisc_msg_encode(m, &enc)) < 0 || !(c = calloc(1, sizeof(*c)))) {
		state = "failed";
	} else {
		struct cm_snmpc_peer p = {.peer = peer,
		                          .user = mc.user,
		                          .auth_pass = mc.auth,
		                          .priv_pass = mc.priv,
		                          .timeout_ms = 1000,
		                          .retries = 2};

		snprintf(peer, sizeof(peer), "udp%s:%s", a->addr.type == 2 ? "6" : "", at);
		c->decision = d->index;
		c->agent = a->index;
		c->slot = slot;
		snprintf(c->entry, sizeof(c->entry), "type%d:%s@%s", m->type, m->initiator, at);
		toid = redisc_msg_trap_oid(m->type, &tlen);
		if ((rc = msg_ops->inform(&p, toid, tlen, enc.vb, (size_t)n, inform_done, c)) < 0) {
			free(c);
			state = "failed";
		} else {
			state = "sent";
			redisc_m.ctr.messages++;
			redisc_agent_note_message(a->index);
		}
	}
	if (off < wlen)
		snprintf(words + off, wlen - off, "%stype%d:%s@%s=%s%s%s", off ? " " : "", m->type, m->initiator, at,
		         state, alt ? ",alt=" : "", alt ? alt : "");
	if (rc < 0)
		cm_log(CM_LOG_WARNING, REDISC_TAG, "decision %u: type %d to %s at %s not sent: %s",
		       (unsigned int)d->index, m->type, m->initiator, at, strerror(-rc));
}

struct words_set {
	const char *words;
};

static void set_words(struct redisc_decision *d, void *arg)
{
	const struct words_set *w = arg;

	snprintf(d->messages, sizeof(d->messages), "%s", w->words);
}

int redisc_send_messages(uint32_t index)
{
	const struct redisc_decision *d = redisc_decision_find(index);
	struct redisc_decision copy;
	char words[REDISC_TEXT_MAX] = "", old[64], nw[64], list[REDISC_TEXT_MAX], *save = NULL, *who;
	unsigned int slot = 0;
	struct words_set ws = {.words = words};
	struct redisc_msg m;

	if (!d)
		return -ENOENT;
	copy = *d; /* the history may move while informs go out */
	redisc_addr_text(&copy.old_portal, old, sizeof(old));
	redisc_addr_text(&copy.new_portal, nw, sizeof(nw));
	/* Every affected initiator but the offender: the target is at its new address. */
	snprintf(list, sizeof(list), "%s", copy.competing);
	for (who = strtok_r(list, " ", &save); who; who = strtok_r(NULL, " ", &save)) {
		if (strcmp(who, copy.offender) == 0)
			continue;
		memset(&m, 0, sizeof(m));
		m.type = 1;
		snprintf(m.initiator, sizeof(m.initiator), "%s", who);
		snprintf(m.target, sizeof(m.target), "%s", copy.target);
		addr_to_msg(&copy.new_portal, &m.portal);
		addr_to_msg(&copy.old_portal, &m.old);
		send_one(&copy, &m, slot++, words, sizeof(words), NULL);
	}
	/* The offender: somewhere else, never the old address. */
	if (copy.offender[0]) {
		struct redisc_alt alt;
		char at[REDISC_NAME_MAX + 72];
		size_t off = strlen(words);

		memset(&m, 0, sizeof(m));
		m.type = 2;
		snprintf(m.initiator, sizeof(m.initiator), "%s", copy.offender);
		snprintf(m.old_target, sizeof(m.old_target), "%s", copy.target);
		addr_to_msg(&copy.old_portal, &m.old);
		if (alternative(&copy, old, nw, &alt) < 0 || redisc_msg_portal_parse(alt.portal, &m.portal) < 0) {
			if (off < sizeof(words))
				snprintf(words + off, sizeof(words) - off, "%stype2:%s=no-alternative", off ? " " : "",
				         copy.offender);
			cm_log(CM_LOG_NOTICE, REDISC_TAG, "decision %u: no alternative for %s: no type-2 message",
			       (unsigned int)index, copy.offender);
		} else {
			m.alt_kind = alt.kind == REDISC_ALT_PORTAL ? REDISC_MSG_OTHER_PORTAL : REDISC_MSG_OTHER_TARGET;
			snprintf(m.target, sizeof(m.target), "%s", alt.target);
			if (alt.kind == REDISC_ALT_PORTAL)
				snprintf(at, sizeof(at), "%s", alt.portal);
			else
				snprintf(at, sizeof(at), "%s@%s", alt.target, alt.portal);
			send_one(&copy, &m, slot++, words, sizeof(words), at);
		}
	}
	/* Recorded before any acknowledgement can come: their updates find their entries. */
	if (redisc_decision_update(index, set_words, &ws) < 0)
		cm_log(CM_LOG_WARNING, REDISC_TAG, "decision %u: cannot record its messages", (unsigned int)index);
	cm_log(CM_LOG_NOTICE, REDISC_TAG, "decision %u: messages %s", (unsigned int)index, words[0] ? words : "none");
	return (int)slot;
}

static void on_redisc(int topic, const void *data, void *arg)
{
	const struct redisc_event *ev = data;

	(void)topic;
	(void)arg;
	if (redisc_m.running && ev->type == REDISC_EV_MOVED)
		redisc_send_messages(ev->index);
}

int redisc_messages_start(void)
{
	int h;

	if (mc.sub)
		return 0;
	if ((h = bus_subscribe(BUS_REDISCOVER, on_redisc, NULL)) < 0)
		return h;
	mc.sub = h;
	return 0;
}

void redisc_messages_stop(void)
{
	if (mc.sub > 0)
		bus_unsubscribe(mc.sub);
	mc.sub = 0;
	mc_free_config();
}
