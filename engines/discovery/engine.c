/* engine.c: the discovery engine: SendTargets, subnet-scan and iSNS sources, the discovered-targets model, aging. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "engines/discovery/disc_config.h"
#include "engines/discovery/discovery.h"
#include "engines/discovery/isns.h"
#include "engines/discovery/sendtargets.h"
#include "common/bus.h"
#include "common/trap.h"
#include "common/evloop.h"
#include "common/log.h"
#include "common/search.h"

#define HASH_BUCKETS 16384u
/* Sweeps for aged rows run this often; cheap at 10,000 rows. */
#define AGE_SWEEP_MS 1000u
/* iSNS registrations are renewed this often (isnsd's RegistrationPeriod
 * defaults to an hour; ours must not lapse between renewals). */
#define ISNS_REREGISTER_S 300

struct src {
	struct disc_source pub; /* first: handlers see this */
	struct disc_st *st;
	bool in_config;          /* a configured portal (kept when it fails) */
	struct timespec started; /* of the exchange in flight, for the log */
	bool mark;
	/* iSNS sources */
	char *server;    /* "ADDR:PORT" as configured */
	bool isns_busy;  /* a query is queued or running */
	bool isns_again; /* an SCN came during it: ask again when it ends */
	time_t isns_reg; /* last successful registration, 0 = register next time */
};

struct tgt {
	struct disc_target pub; /* first */
	size_t pcap;
	uint32_t next_portal;
	struct tgt *hnext;
	uint32_t isns_stamp; /* the iSNS reply that last listed it */
};

struct scan;

struct probe {
	struct scan *sc;
	struct sockaddr_in sa;
	struct disc_st *st;
	struct probe *prev, *next;
};

struct scan {
	uint32_t base; /* first host address, host order */
	uint32_t nhosts;
	int *ports;
	size_t nports;
	unsigned int concurrency, timeout_ms;
	uint64_t cursor, total;
	unsigned int inflight;
	bool running;
	struct timespec started;
};

static struct {
	bool running;
	char initiator[DISC_NAME_MAX];
	unsigned int interval_s, age_out_s, timeout_ms;
	size_t max_reply;
	unsigned int mrdsl;
	/* discovery CHAP (secrets: never logged) */
	char chap_user[256], chap_secret[256], chap_tuser[256], chap_tsecret[256];

	struct src **src; /* sorted by index */
	size_t nsrc, capsrc;
	uint32_t next_src;

	struct tgt **tgt; /* sorted by index */
	size_t ntgt, captgt;
	uint32_t next_tgt;
	struct tgt *hash[HASH_BUCKETS];

	struct scan *scans;
	size_t nscans;
	struct probe *probes; /* in flight, for cancelling */

	unsigned int round_timer, age_timer, kick_timer;
	int peer_subs[2]; /* bus handles of the peer notifications (0: none) */
	struct disc_counters ctr;
	/* iSNS */
	bool isns_on;
	unsigned int scn_settle_timer; /* the follow-up query after state change notifications */
	bool scn_again;                /* an SCN came since the last query round */
	unsigned int scn_step;         /* follow-up rounds done since the last SCN-driven one */
	struct timespec scn_last_round;
	uint32_t isns_stamp;
	char **isns_servers; /* as configured, for deregistration at stop */
	size_t nisns_servers;
} disc_engine;

/* ---- events ---------------------------------------------------------- */

static void emit(int type, uint32_t a)
{
	struct disc_event ev = {.type = type, .a = a};

	bus_publish(BUS_DISCOVERY, &ev);
}

/* ---- sorted arrays --------------------------------------------------- */

static int64_t src_index_of(const void *elem)
{
	return (*(struct src *const *)elem)->pub.index;
}

static int64_t tgt_index_of(const void *elem)
{
	return (*(struct tgt *const *)elem)->pub.index;
}

/* Position of the first source or target with index >= idx. */
#define SRC_POS(idx)                                                                                                   \
	cm_lower_bound(disc_engine.src, disc_engine.nsrc, sizeof(*disc_engine.src), (int64_t)(idx), src_index_of)
#define TGT_POS(idx)                                                                                                   \
	cm_lower_bound(disc_engine.tgt, disc_engine.ntgt, sizeof(*disc_engine.tgt), (int64_t)(idx), tgt_index_of)

const struct disc_source *disc_source_find(uint32_t index)
{
	size_t i = SRC_POS(index);

	return i < disc_engine.nsrc && disc_engine.src[i]->pub.index == index ? &disc_engine.src[i]->pub : NULL;
}

const struct disc_source *disc_source_next(uint32_t after)
{
	size_t i = SRC_POS((uint64_t)after + 1);

	return i < disc_engine.nsrc ? &disc_engine.src[i]->pub : NULL;
}

const struct disc_target *disc_target_find(uint32_t index)
{
	size_t i = TGT_POS(index);

	return i < disc_engine.ntgt && disc_engine.tgt[i]->pub.index == index ? &disc_engine.tgt[i]->pub : NULL;
}

const struct disc_target *disc_target_next(uint32_t after)
{
	size_t i = TGT_POS((uint64_t)after + 1);

	return i < disc_engine.ntgt ? &disc_engine.tgt[i]->pub : NULL;
}

static int64_t portal_index_of(const void *elem)
{
	return ((const struct disc_portal *)elem)->index;
}

const struct disc_portal *disc_portal_find(const struct disc_target *t, uint32_t index)
{
	size_t lo = t ? cm_lower_bound(t->portals, t->nportals, sizeof(*t->portals), index, portal_index_of) : 0;

	return t && lo < t->nportals && t->portals[lo].index == index ? &t->portals[lo] : NULL;
}

const struct disc_portal *disc_portal_next(const struct disc_target *t, uint32_t after)
{
	/* A target has a handful of portals: a scan is as fast as a search. */
	for (size_t i = 0; t && i < t->nportals; i++)
		if (t->portals[i].index > after)
			return &t->portals[i];
	return NULL;
}

size_t disc_target_count(void)
{
	return disc_engine.ntgt;
}

size_t disc_source_count(void)
{
	return disc_engine.nsrc;
}

const struct disc_counters *disc_counters(void)
{
	return &disc_engine.ctr;
}

static int grow_ptrs(void *parr, size_t *cap, size_t need)
{
	void ***arr = parr;
	size_t n = *cap ? *cap * 2 : 64;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*arr, n * sizeof(void *));
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

/* ---- targets --------------------------------------------------------- */

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h % HASH_BUCKETS;
}

static struct tgt *tgt_lookup(const char *name)
{
	struct tgt *t;

	for (t = disc_engine.hash[name_hash(name)]; t; t = t->hnext)
		if (strcmp(t->pub.name, name) == 0)
			return t;
	return NULL;
}

const struct disc_target *disc_target_by_name(const char *name)
{
	struct tgt *t = tgt_lookup(name);

	return t ? &t->pub : NULL;
}

static struct tgt *tgt_create(const char *name, int mech, uint32_t source, time_t now)
{
	struct tgt *t;
	uint32_t h;

	if (disc_engine.next_tgt == UINT32_MAX ||
	    grow_ptrs(&disc_engine.tgt, &disc_engine.captgt, disc_engine.ntgt + 1) < 0)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->pub.index = ++disc_engine.next_tgt;
	snprintf(t->pub.name, sizeof(t->pub.name), "%s", name);
	t->pub.mechanism = mech;
	t->pub.source = source;
	t->pub.first_seen = t->pub.last_seen = now;
	/* Indexes only grow, so appending keeps the array sorted. */
	disc_engine.tgt[disc_engine.ntgt++] = t;
	h = name_hash(t->pub.name);
	t->hnext = disc_engine.hash[h];
	disc_engine.hash[h] = t;
	return t;
}

static void tgt_unhash(struct tgt *t)
{
	struct tgt **pp;

	for (pp = &disc_engine.hash[name_hash(t->pub.name)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == t) {
			*pp = t->hnext;
			return;
		}
	}
}

static void tgt_free_all(void)
{
	for (size_t i = 0; i < disc_engine.ntgt; i++) {
		free(disc_engine.tgt[i]->pub.portals);
		free(disc_engine.tgt[i]);
	}
	free(disc_engine.tgt);
	disc_engine.tgt = NULL;
	disc_engine.ntgt = disc_engine.captgt = 0;
	memset(disc_engine.hash, 0, sizeof(disc_engine.hash));
}

static int tgt_add_portal(struct tgt *t, const struct disc_st_addr *a, int mech, uint32_t source, time_t now)
{
	struct disc_portal *p;

	for (size_t i = 0; i < t->pub.nportals; i++) {
		p = &t->pub.portals[i];
		if (p->family == a->family && p->port == a->port && strcmp(p->host, a->host) == 0) {
			p->tpgt = a->tpgt;
			p->last_seen = now;
			p->source = source;
			return 0;
		}
	}
	if (t->pub.nportals == t->pcap) {
		size_t n = t->pcap ? t->pcap * 2 : 2;
		void *np = realloc(t->pub.portals, n * sizeof(*p));

		if (!np)
			return -ENOMEM;
		t->pub.portals = np;
		t->pcap = n;
	}
	p = &t->pub.portals[t->pub.nportals++];
	memset(p, 0, sizeof(*p));
	p->index = ++t->next_portal;
	p->family = a->family;
	/* merge_one already refused longer hosts; the bound keeps gcc sure of it */
	snprintf(p->host, sizeof(p->host), "%.*s", DISC_HOST_MAX - 1, a->host);
	p->port = a->port;
	p->tpgt = a->tpgt;
	p->mechanism = mech;
	p->source = source;
	p->first_seen = p->last_seen = now;
	return 0;
}

/* ---- merging a reply ------------------------------------------------- */

struct merge {
	struct src *s;
	time_t now;
	struct tgt *cur; /* target of the previous callback */
	bool cur_new;
	uint32_t ntargets;
	uint32_t nnew;
};

/* New targets of one reply named one by one in the log; the rest are
 * counted in one line (a first reply may list 10,000, and the table and
 * the notifications have them all). */
#define MERGE_LOG_NEW_MAX 20

static void merge_close(struct merge *m)
{
	if (m->cur && m->cur_new) {
		disc_engine.ctr.targets_found++;
		cm_log(++m->nnew <= MERGE_LOG_NEW_MAX ? CM_LOG_INFO : CM_LOG_DEBUG, "discovery",
		       "target %s found at %s:%u", m->cur->pub.name, m->s->pub.host, (unsigned int)m->s->pub.port);
		emit(DISC_EV_TARGET_DISCOVERED, m->cur->pub.index);
	}
	m->cur = NULL;
	m->cur_new = false;
}

static void merge_one(const char *name, const struct disc_st_addr *addr, void *arg)
{
	struct merge *m = arg;
	struct disc_st_addr self;

	if (!m->cur || strcmp(m->cur->pub.name, name) != 0) {
		merge_close(m);
		m->ntargets++;
		m->cur = tgt_lookup(name);
		if (!m->cur) {
			m->cur = tgt_create(name, m->s->pub.mechanism, m->s->pub.index, m->now);
			if (!m->cur) {
				cm_log(CM_LOG_ERR, "discovery", "out of memory adding target %s", name);
				return;
			}
			m->cur_new = true;
		}
		m->cur->pub.last_seen = m->now;
		m->cur->pub.source = m->s->pub.index;
	}
	if (!addr) {
		/* No TargetAddress: the target answers where we asked. */
		memset(&self, 0, sizeof(self));
		self.family = m->s->pub.family;
		snprintf(self.host, sizeof(self.host), "%s", m->s->pub.host);
		self.port = m->s->pub.port;
		addr = &self;
	}
	/* Host names would need a resolver in the loop; the table holds numeric addresses. */
	if (addr->family == AF_UNSPEC || strlen(addr->host) >= DISC_HOST_MAX)
		return;
	if (tgt_add_portal(m->cur, addr, m->s->pub.mechanism, m->s->pub.index, m->now) < 0)
		cm_log(CM_LOG_ERR, "discovery", "out of memory adding a portal of %s", name);
}

static void merge_reply(struct src *s, const char *text, size_t len)
{
	struct merge m = {.s = s, .now = time(NULL)};

	if (disc_st_parse(text, len, merge_one, &m) < 0)
		cm_log(CM_LOG_WARNING, "discovery", "%s:%u: malformed SendTargets reply", s->pub.host,
		       (unsigned int)s->pub.port);
	merge_close(&m);
	s->pub.ntargets = m.ntargets;
	if (m.nnew > MERGE_LOG_NEW_MAX)
		cm_log(CM_LOG_INFO, "discovery", "%u new targets found at %s:%u (%u more than named above)",
		       (unsigned int)m.nnew, s->pub.host, (unsigned int)s->pub.port,
		       (unsigned int)(m.nnew - MERGE_LOG_NEW_MAX));
}

/* ---- sources --------------------------------------------------------- */

static struct src *src_find_addr(int mech, const char *host, uint16_t port)
{
	for (size_t i = 0; i < disc_engine.nsrc; i++) {
		struct src *s = disc_engine.src[i];

		if ((mech == 0 || s->pub.mechanism == mech) && s->pub.port == port && strcmp(s->pub.host, host) == 0)
			return s;
	}
	return NULL;
}

static struct src *src_create(int mech, int family, const char *host, uint16_t port)
{
	struct src *s;

	if (disc_engine.next_src == UINT32_MAX ||
	    grow_ptrs(&disc_engine.src, &disc_engine.capsrc, disc_engine.nsrc + 1) < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->pub.index = ++disc_engine.next_src;
	s->pub.mechanism = mech;
	s->pub.family = family;
	snprintf(s->pub.host, sizeof(s->pub.host), "%s", host);
	s->pub.port = port;
	s->pub.status = DISC_SRC_PENDING;
	disc_engine.src[disc_engine.nsrc++] = s;
	return s;
}

static void src_remove(struct src *s)
{
	size_t i = SRC_POS(s->pub.index);

	if (i < disc_engine.nsrc && disc_engine.src[i] == s) {
		memmove(&disc_engine.src[i], &disc_engine.src[i + 1],
		        (disc_engine.nsrc - i - 1) * sizeof(disc_engine.src[0]));
		disc_engine.nsrc--;
	}
	disc_st_cancel(s->st);
	free(s->server);
	free(s);
}

static void src_failed(struct src *s, int rc, enum disc_st_phase phase)
{
	int was = s->pub.status;

	disc_engine.ctr.sendtargets_failed++;
	s->pub.failures++;
	s->pub.status = phase == DISC_ST_CONNECT ? DISC_SRC_UNREACHABLE : DISC_SRC_FAILED;
	/* What an operator must fix reads as such (RFC 7143 status 0x0201 and
	 * CHAP failures), not as an errno. */
	if (rc == -EACCES)
		snprintf(s->pub.last_error, sizeof(s->pub.last_error), "authentication failure");
	else if (rc == -EKEYREJECTED)
		snprintf(s->pub.last_error, sizeof(s->pub.last_error),
		         "authentication failure: the target failed mutual CHAP");
	else
		snprintf(s->pub.last_error, sizeof(s->pub.last_error), "%s: %s",
		         phase == DISC_ST_CONNECT ? "connect"
		         : phase == DISC_ST_LOGIN ? "login"
		                                  : "SendTargets",
		         strerror(-rc));
	if (s->pub.status == DISC_SRC_UNREACHABLE && was != DISC_SRC_UNREACHABLE) {
		cm_log(CM_LOG_WARNING, "discovery", "portal %s:%u unreachable: %s", s->pub.host,
		       (unsigned int)s->pub.port, strerror(-rc));
		emit(DISC_EV_PORTAL_UNREACHABLE, s->pub.index);
	} else if (s->pub.status != was) {
		cm_log(CM_LOG_WARNING, "discovery", "portal %s:%u: %s", s->pub.host, (unsigned int)s->pub.port,
		       s->pub.last_error);
	}
}

static void src_done(int rc, enum disc_st_phase phase, const char *text, size_t len, void *arg)
{
	struct src *s = arg;
	struct timespec t0;

	s->st = NULL;
	if (rc < 0) {
		src_failed(s, rc, phase);
		return;
	}
	disc_engine.ctr.sendtargets_ok++;
	s->pub.status = DISC_SRC_OK;
	s->pub.last_success = time(NULL);
	s->pub.last_error[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	merge_reply(s, text, len);
	if (s->started.tv_sec) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		cm_log(CM_LOG_DEBUG, "discovery", "%s:%u: %u targets, %zu bytes in %ld ms (merged in %ld ms)",
		       s->pub.host, (unsigned int)s->pub.port, (unsigned int)s->pub.ntargets, len,
		       disc_ms_between(&s->started, &now), disc_ms_between(&t0, &now));
		s->started.tv_sec = 0;
	}
}

static void fill_params(struct disc_st_params *p, unsigned int connect_ms)
{
	p->initiator = disc_engine.initiator;
	p->connect_timeout_ms = connect_ms;
	p->timeout_ms = disc_engine.timeout_ms;
	p->max_reply = disc_engine.max_reply;
	p->mrdsl = disc_engine.mrdsl;
	p->chap_user = disc_engine.chap_user;
	p->chap_secret = disc_engine.chap_secret;
	p->chap_target_user = disc_engine.chap_tuser;
	p->chap_target_secret = disc_engine.chap_tsecret;
}

static int src_addr(const struct src *s, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (s->pub.family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(s->pub.port);
		if (inet_pton(AF_INET6, s->pub.host, &a->sin6_addr) != 1)
			return -EINVAL;
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(s->pub.port);
		if (inet_pton(AF_INET, s->pub.host, &a->sin_addr) != 1)
			return -EINVAL;
		*len = sizeof(*a);
	}
	return 0;
}

static void isns_query(struct src *s);

static void src_query(struct src *s)
{
	struct disc_st_params p;
	struct sockaddr_storage ss;
	socklen_t len;
	int rc;

	if (s->pub.mechanism == DISC_MECH_ISNS) {
		isns_query(s);
		return;
	}
	if (s->st)
		return; /* the previous exchange is still going */
	s->pub.attempts++;
	s->pub.last_attempt = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	fill_params(&p, disc_engine.timeout_ms);
	if ((rc = src_addr(s, &ss, &len)) < 0 ||
	    (rc = disc_st_start((struct sockaddr *)&ss, len, &p, src_done, s, &s->st)) < 0) {
		s->st = NULL;
		src_failed(s, rc, DISC_ST_CONNECT);
	}
}

/* ---- iSNS ------------------------------------------------------------ */

static struct src *src_by_index(uint32_t index)
{
	size_t i = SRC_POS(index);

	return i < disc_engine.nsrc && disc_engine.src[i]->pub.index == index ? disc_engine.src[i] : NULL;
}

static void isns_query(struct src *s)
{
	bool reg = !s->isns_reg || time(NULL) - s->isns_reg >= ISNS_REREGISTER_S;
	int rc;

	if (s->isns_busy)
		return;
	s->pub.attempts++;
	s->pub.last_attempt = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	rc = disc_isns_query(s->pub.index, s->server, disc_engine.initiator, reg);
	if (rc == 0) {
		s->isns_busy = true;
		if (reg)
			s->isns_reg = time(NULL); /* undone when the reply says it failed */
	} else if (rc != -EALREADY) {
		src_failed(s, rc, DISC_ST_CONNECT);
	}
}

/* The portals of t that this source reported before but not now go. */
static void isns_prune_portals(struct tgt *t, const struct src *s, const struct sa_isns_target *rt)
{
	size_t w = 0;

	for (size_t i = 0; i < t->pub.nportals; i++) {
		const struct disc_portal *p = &t->pub.portals[i];
		bool keep = p->source != s->pub.index;

		for (size_t k = 0; !keep && k < rt->nportals; k++)
			keep = rt->portals[k].port == p->port && strcmp(rt->portals[k].host, p->host) == 0;
		if (keep)
			t->pub.portals[w++] = *p;
	}
	t->pub.nportals = w;
}

/* Targets this source reported last time and not in this reply were
 * deregistered (or left our discovery domains): they go now, not at age-out. */
static void isns_drop_unlisted(const struct src *s)
{
	size_t w = 0, nlost = 0;

	for (size_t i = 0; i < disc_engine.ntgt; i++) {
		struct tgt *t = disc_engine.tgt[i];

		if (t->pub.source != s->pub.index || t->isns_stamp == disc_engine.isns_stamp)
			continue;
		nlost++;
		disc_engine.ctr.targets_lost++;
		cm_log(CM_LOG_INFO, "discovery", "target %s lost (no longer registered at iSNS %s)", t->pub.name,
		       s->server);
		emit(DISC_EV_TARGET_LOST, t->pub.index);
	}
	if (!nlost)
		return;
	for (size_t i = 0; i < disc_engine.ntgt; i++) {
		struct tgt *t = disc_engine.tgt[i];

		if (t->pub.source == s->pub.index && t->isns_stamp != disc_engine.isns_stamp) {
			tgt_unhash(t);
			free(t->pub.portals);
			free(t);
			continue;
		}
		disc_engine.tgt[w++] = t;
	}
	disc_engine.ntgt = w;
}

static void isns_merge(struct src *s, const struct sa_isns_result *r)
{
	time_t now = time(NULL);

	disc_engine.isns_stamp++;
	for (size_t i = 0; i < r->ntargets; i++) {
		const struct sa_isns_target *rt = &r->targets[i];
		struct tgt *t = tgt_lookup(rt->name);
		bool fresh = false;

		if (!t) {
			if (!(t = tgt_create(rt->name, DISC_MECH_ISNS, s->pub.index, now))) {
				cm_log(CM_LOG_ERR, "discovery", "out of memory adding target %s", rt->name);
				continue;
			}
			fresh = true;
		}
		t->pub.last_seen = now;
		t->pub.source = s->pub.index;
		t->isns_stamp = disc_engine.isns_stamp;
		for (size_t k = 0; k < rt->nportals; k++) {
			struct disc_st_addr a = {.family = rt->portals[k].family,
			                         .port = rt->portals[k].port,
			                         .tpgt = rt->portals[k].tpgt,
			                         .has_tpgt = 1};

			snprintf(a.host, sizeof(a.host), "%s", rt->portals[k].host);
			if (tgt_add_portal(t, &a, DISC_MECH_ISNS, s->pub.index, now) < 0)
				cm_log(CM_LOG_ERR, "discovery", "out of memory adding a portal of %s", rt->name);
		}
		isns_prune_portals(t, s, rt);
		if (fresh) {
			disc_engine.ctr.targets_found++;
			cm_log(CM_LOG_INFO, "discovery", "target %s found at iSNS %s", t->pub.name, s->server);
			emit(DISC_EV_TARGET_DISCOVERED, t->pub.index);
		}
	}
	s->pub.ntargets = (uint32_t)r->ntargets;
	isns_drop_unlisted(s);
}

static void isns_done(uint32_t index, struct sa_isns_result *r, void *arg)
{
	struct src *s = src_by_index(index);
	struct timespec now;

	(void)arg;
	if (!s)
		return; /* removed by a reload while its query ran */
	s->isns_busy = false;
	if (r->rc < 0) {
		int was = s->pub.status;

		s->isns_reg = 0;
		disc_engine.ctr.sendtargets_failed++;
		s->pub.failures++;
		s->pub.status = r->unreachable ? DISC_SRC_UNREACHABLE : DISC_SRC_FAILED;
		snprintf(s->pub.last_error, sizeof(s->pub.last_error), "%s", r->error);
		if (s->pub.status != was)
			cm_log(CM_LOG_WARNING, "discovery", "iSNS %s: %s", s->server, r->error);
		if (s->pub.status == DISC_SRC_UNREACHABLE && was != DISC_SRC_UNREACHABLE)
			emit(DISC_EV_PORTAL_UNREACHABLE, s->pub.index);
	} else {
		s->pub.status = DISC_SRC_OK;
		s->pub.last_success = time(NULL);
		s->pub.last_error[0] = '\0';
		isns_merge(s, r);
		clock_gettime(CLOCK_MONOTONIC, &now);
		cm_log(CM_LOG_DEBUG, "discovery", "iSNS %s: %zu targets in %ld ms", s->server, r->ntargets,
		       disc_ms_between(&s->started, &now));
	}
	if (s->isns_again) {
		s->isns_again = false;
		isns_query(s);
	}
}

/* isnsd sends a registration's notifications before the new node is in the
 * default discovery domain, so a query right after them can miss it (seen:
 * three SCNs, two queries, neither listing the new target; under load even a
 * round 400 ms later missed it once).  Follow-up rounds this long after the
 * last SCN-driven round settle it; the first lands within the one second a
 * change must show in. */
static const unsigned int scn_followup_ms[] = {400, 2000};
#define SCN_FOLLOWUPS (sizeof scn_followup_ms / sizeof scn_followup_ms[0])
/* SCN-driven rounds run at most once per this window, whatever the SCN rate. */
#define SCN_WINDOW_MS 400

static void isns_query_all(void)
{
	for (size_t i = 0; i < disc_engine.nsrc; i++) {
		struct src *s = disc_engine.src[i];

		if (s->pub.mechanism != DISC_MECH_ISNS)
			continue;
		if (s->isns_busy)
			s->isns_again = true; /* its reply may predate the change */
		else
			isns_query(s);
	}
}

static void scn_settle(unsigned int id, void *arg);

static void scn_arm(unsigned int ms)
{
	if (disc_engine.scn_settle_timer)
		cm_ev_cancel(disc_engine.scn_settle_timer);
	disc_engine.scn_settle_timer = cm_ev_timer(ms, 0, scn_settle, NULL);
}

/* A round for the SCNs seen so far; its follow-ups start over. */
static void scn_round(void)
{
	disc_engine.scn_again = false;
	disc_engine.scn_step = 0;
	clock_gettime(CLOCK_MONOTONIC, &disc_engine.scn_last_round);
	isns_query_all();
	scn_arm(scn_followup_ms[0]);
}

static void scn_settle(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	disc_engine.scn_settle_timer = 0;
	if (disc_engine.scn_again) {
		scn_round();
		return;
	}
	if (++disc_engine.scn_step > SCN_FOLLOWUPS)
		return;
	clock_gettime(CLOCK_MONOTONIC, &disc_engine.scn_last_round);
	isns_query_all();
	if (disc_engine.scn_step < SCN_FOLLOWUPS)
		scn_arm(scn_followup_ms[disc_engine.scn_step] - scn_followup_ms[disc_engine.scn_step - 1]);
}

/* isnsd keeps one SCN outstanding per recipient and holds every later one
 * until that one is acknowledged or its SCN timeout (about a minute) runs
 * out.  An SCNRsp that reaches it in the same poll() turn as another request
 * can be dropped (seen in isnsd --debug scn: "Incoming PDU ... SCNResp" and
 * no "acknowledged"), and then the next change is a minute late.  So the
 * query an SCN triggers leaves the acknowledgement a head start. */
#define SCN_ACK_GAP_MS 50

/* An SCN from a configured server: ask every iSNS server again, soon when no
 * round ran in the last SCN_WINDOW_MS, else when that window ends. */
static void isns_scn(void *arg)
{
	struct timespec now;
	long since;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &now);
	since = disc_ms_between(&disc_engine.scn_last_round, &now);
	if (!disc_engine.scn_settle_timer || since >= SCN_WINDOW_MS) {
		if (!disc_engine.scn_again || !disc_engine.scn_settle_timer)
			scn_arm(SCN_ACK_GAP_MS);
		disc_engine.scn_again = true;
		return;
	}
	/* A follow-up may be seconds away: this SCN waits only for the window. */
	if (!disc_engine.scn_again)
		scn_arm((unsigned int)(SCN_WINDOW_MS - since));
	disc_engine.scn_again = true;
}

static void isns_servers_free(void)
{
	for (size_t i = 0; i < disc_engine.nisns_servers; i++)
		free(disc_engine.isns_servers[i]);
	free(disc_engine.isns_servers);
	disc_engine.isns_servers = NULL;
	disc_engine.nisns_servers = 0;
}

static void isns_off(void)
{
	if (disc_engine.scn_settle_timer) {
		cm_ev_cancel(disc_engine.scn_settle_timer);
		disc_engine.scn_settle_timer = 0;
	}
	if (disc_engine.isns_on)
		disc_isns_stop(disc_engine.isns_servers, disc_engine.nisns_servers, disc_engine.initiator);
	disc_engine.isns_on = false;
	isns_servers_free();
}

/* "HOST:PORT" or "[V6]:PORT" of the configuration (config.c checked the form): host (truncated to DISC_HOST_MAX),
 * family and port, as the sendtargets portals and the iSNS servers both name their endpoints. */
static void split_endpoint(const char *ep, char host[DISC_HOST_MAX], int *family, uint16_t *port)
{
	const char *colon = strrchr(ep, ':');
	size_t hl;

	*family = AF_INET;
	if (ep[0] == '[') {
		ep++;
		hl = (size_t)(strchr(ep, ']') - ep);
		*family = AF_INET6;
	} else {
		hl = (size_t)(colon - ep);
	}
	if (hl >= DISC_HOST_MAX)
		hl = DISC_HOST_MAX - 1;
	memcpy(host, ep, hl);
	host[hl] = '\0';
	*port = (uint16_t)atoi(colon + 1);
}

static int isns_apply(const struct sa_discovery_config *c, char *err, size_t errlen)
{
	int rc;

	for (size_t i = 0; i < c->nisns; i++) {
		char host[DISC_HOST_MAX];
		uint16_t port;
		int family;
		struct src *s;

		split_endpoint(c->isns[i], host, &family, &port);
		s = src_find_addr(DISC_MECH_ISNS, host, port);
		if (!s) {
			if (!(s = src_create(DISC_MECH_ISNS, family, host, port)) ||
			    !(s->server = strdup(c->isns[i]))) {
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
		}
		s->in_config = true;
		s->mark = true;
	}
	for (size_t i = disc_engine.nsrc; i-- > 0;)
		if (disc_engine.src[i]->pub.mechanism == DISC_MECH_ISNS && !disc_engine.src[i]->mark)
			src_remove(disc_engine.src[i]);
	/* Who to deregister from at stop: what we last registered with. */
	isns_servers_free();
	if (c->nisns) {
		disc_engine.isns_servers = calloc(c->nisns, sizeof(char *));
		if (!disc_engine.isns_servers) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		for (size_t i = 0; i < c->nisns; i++)
			if ((disc_engine.isns_servers[i] = strdup(c->isns[i])))
				disc_engine.nisns_servers++;
	}
	if (c->nisns && !disc_engine.isns_on) {
		struct disc_isns_opts o = {.scn_port = (unsigned int)c->isns_scn_port,
		                           .scn_address = c->isns_scn_address,
		                           .scn_idle_s = (unsigned int)c->isns_scn_idle};
		char host[64];

		if ((rc = disc_isns_start(&o, c->isns, c->nisns, isns_done, isns_scn, NULL, err, errlen)) < 0)
			return rc;
		disc_engine.isns_on = true;
		cm_log(CM_LOG_INFO, "discovery", "iSNS: %zu servers, state change notifications on %s TCP port %u",
		       c->nisns, disc_isns_scn_host(host, sizeof(host)), (unsigned int)disc_isns_scn_port());
	} else if (c->nisns) {
		disc_isns_set_servers(c->isns, c->nisns);
	} else if (!c->nisns && disc_engine.isns_on) {
		disc_isns_stop(NULL, 0, NULL);
		disc_engine.isns_on = false;
	}
	return 0;
}

/* ---- subnet scan ----------------------------------------------------- */

static void scan_pump(struct scan *sc);

static void probe_unlink(struct probe *pr)
{
	if (pr->prev)
		pr->prev->next = pr->next;
	else
		disc_engine.probes = pr->next;
	if (pr->next)
		pr->next->prev = pr->prev;
}

static void probe_done(int rc, enum disc_st_phase phase, const char *text, size_t len, void *arg)
{
	struct probe *pr = arg;
	struct scan *sc = pr->sc;
	char host[INET_ADDRSTRLEN];
	uint16_t port = ntohs(pr->sa.sin_port);
	struct src *s;

	inet_ntop(AF_INET, &pr->sa.sin_addr, host, sizeof(host));
	probe_unlink(pr);
	free(pr);
	sc->inflight--;
	s = src_find_addr(DISC_MECH_SCAN, host, port);
	if (rc < 0 && phase == DISC_ST_CONNECT) {
		/* Seed 001's ScanSubnetThread: a portal that stops answering is dropped. */
		if (s) {
			src_failed(s, rc, phase);
			src_remove(s);
		}
	} else {
		if (!s && !(s = src_create(DISC_MECH_SCAN, AF_INET, host, port))) {
			cm_log(CM_LOG_ERR, "discovery", "out of memory adding scanned portal %s:%u", host,
			       (unsigned int)port);
		} else {
			s->pub.attempts++;
			s->pub.last_attempt = time(NULL);
			if (s->pub.status == DISC_SRC_PENDING)
				cm_log(CM_LOG_INFO, "discovery", "scan found portal %s:%u", host, (unsigned int)port);
			src_done(rc, phase, text, len, s);
		}
	}
	scan_pump(sc);
}

static void scan_pump(struct scan *sc)
{
	while (sc->running && sc->inflight < sc->concurrency && sc->cursor < sc->total) {
		uint64_t i = sc->cursor++;
		struct probe *pr;
		struct disc_st_params p;
		char host[INET_ADDRSTRLEN];
		int rc;

		pr = calloc(1, sizeof(*pr));
		if (!pr)
			break;
		pr->sc = sc;
		pr->sa.sin_family = AF_INET;
		pr->sa.sin_addr.s_addr = htonl(sc->base + (uint32_t)(i / sc->nports));
		pr->sa.sin_port = htons((uint16_t)sc->ports[i % sc->nports]);
		inet_ntop(AF_INET, &pr->sa.sin_addr, host, sizeof(host));
		/* A configured portal is asked anyway: no second session to it. */
		if (src_find_addr(DISC_MECH_SENDTARGETS, host, ntohs(pr->sa.sin_port))) {
			free(pr);
			continue;
		}
		disc_engine.ctr.scan_probes++;
		fill_params(&p, sc->timeout_ms);
		rc = disc_st_start((struct sockaddr *)&pr->sa, sizeof(pr->sa), &p, probe_done, pr, &pr->st);
		if (rc < 0) {
			free(pr);
			continue;
		}
		pr->next = disc_engine.probes;
		if (disc_engine.probes)
			disc_engine.probes->prev = pr;
		disc_engine.probes = pr;
		sc->inflight++;
	}
	if (sc->running && sc->inflight == 0 && sc->cursor >= sc->total) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		sc->running = false;
		disc_engine.ctr.scans_completed++;
		disc_engine.ctr.last_scan_ms = (uint32_t)disc_ms_between(&sc->started, &now);
		cm_log(CM_LOG_INFO, "discovery", "scan done in %u ms", (unsigned int)disc_engine.ctr.last_scan_ms);
	}
}

static void scan_start(struct scan *sc)
{
	if (sc->running)
		return;
	sc->running = true;
	sc->cursor = 0;
	clock_gettime(CLOCK_MONOTONIC, &sc->started);
	scan_pump(sc);
}

static void scans_free(void)
{
	while (disc_engine.probes) {
		struct probe *pr = disc_engine.probes;

		disc_engine.probes = pr->next;
		disc_st_cancel(pr->st);
		free(pr);
	}
	for (size_t i = 0; i < disc_engine.nscans; i++)
		free(disc_engine.scans[i].ports);
	free(disc_engine.scans);
	disc_engine.scans = NULL;
	disc_engine.nscans = 0;
}

static int scans_load(const struct sa_discovery_config *c)
{
	scans_free();
	if (!c->nscan)
		return 0;
	disc_engine.scans = calloc(c->nscan, sizeof(*disc_engine.scans));
	if (!disc_engine.scans)
		return -ENOMEM;
	disc_engine.nscans = c->nscan;
	for (size_t i = 0; i < c->nscan; i++) {
		const struct sa_disc_scan_cfg *sc = &c->scan[i];
		struct scan *s = &disc_engine.scans[i];
		char addr[INET_ADDRSTRLEN];
		const char *slash = strchr(sc->cidr, '/');
		struct in_addr in;
		int bits = atoi(slash + 1);

		snprintf(addr, sizeof(addr), "%.*s", (int)(slash - sc->cidr), sc->cidr);
		if (inet_pton(AF_INET, addr, &in) != 1)
			return -EINVAL;
		s->base = ntohl(in.s_addr);
		s->nhosts = bits >= 32 ? 1 : 1u << (32 - bits);
		/* The network and broadcast addresses answer no one. */
		if (bits < 31) {
			s->base++;
			s->nhosts -= 2;
		}
		s->nports = sc->nports ? sc->nports : 1;
		s->ports = calloc(s->nports, sizeof(int));
		if (!s->ports)
			return -ENOMEM;
		if (sc->nports)
			memcpy(s->ports, sc->ports, sc->nports * sizeof(int));
		else
			s->ports[0] = 3260;
		s->concurrency = (unsigned int)sc->concurrency;
		s->timeout_ms = (unsigned int)sc->timeout_ms;
		s->total = (uint64_t)s->nhosts * s->nports;
	}
	return 0;
}

/* ---- rounds and aging ------------------------------------------------ */

static void round_run(void)
{
	/* Scanned sources are refreshed by their own scan's probes. */
	for (size_t i = 0; i < disc_engine.nsrc; i++)
		if (disc_engine.src[i]->pub.mechanism != DISC_MECH_SCAN)
			src_query(disc_engine.src[i]);
	for (size_t i = 0; i < disc_engine.nscans; i++)
		scan_start(&disc_engine.scans[i]);
}

static void on_round(unsigned int id, void *arg)
{
	(void)arg;
	if (id == disc_engine.kick_timer)
		disc_engine.kick_timer = 0;
	round_run();
}

/* A target whose last source is still answering a (slow, large) exchange
 * is not aged: its reply is on the way. */
static bool src_busy(uint32_t index)
{
	size_t i = SRC_POS(index);

	return i < disc_engine.nsrc && disc_engine.src[i]->pub.index == index &&
	       (disc_engine.src[i]->st || disc_engine.src[i]->isns_busy);
}

static void age_sweep(void)
{
	time_t now = time(NULL), limit = now - (time_t)disc_engine.age_out_s;
	size_t w = 0, nlost = 0;

	/* First tell, while every row is still in place for the notifications
	 * to read; then drop. */
	for (size_t i = 0; i < disc_engine.ntgt; i++) {
		struct tgt *t = disc_engine.tgt[i];

		if (t->pub.last_seen >= limit || src_busy(t->pub.source))
			continue;
		nlost++;
		disc_engine.ctr.targets_lost++;
		cm_log(CM_LOG_INFO, "discovery", "target %s lost (unseen for %u s)", t->pub.name,
		       (unsigned int)disc_engine.age_out_s);
		emit(DISC_EV_TARGET_LOST, t->pub.index);
	}
	for (size_t i = 0; i < disc_engine.ntgt; i++) {
		struct tgt *t = disc_engine.tgt[i];
		size_t pw = 0;

		if (nlost && t->pub.last_seen < limit && !src_busy(t->pub.source)) {
			tgt_unhash(t);
			free(t->pub.portals);
			free(t);
			continue;
		}
		/* Portals age on their own: a target may move. */
		for (size_t j = 0; j < t->pub.nportals; j++)
			if (t->pub.portals[j].last_seen >= limit || src_busy(t->pub.portals[j].source))
				t->pub.portals[pw++] = t->pub.portals[j];
		t->pub.nportals = pw;
		disc_engine.tgt[w++] = t;
	}
	disc_engine.ntgt = w;
}

static void on_age(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	age_sweep();
}

int disc_refresh(void)
{
	if (!disc_engine.running)
		return -ENODEV;
	round_run();
	return 0;
}

/* ---- notifications from other agents ------------------------------------ */

/* sanTargetDiscovered and sanTargetLost (SANAGENT-SESSION-MIB) sent by
 * another agent to this agent's trap receiver: the set of targets changed
 * somewhere on the fabric, so the sources are asked again now rather than at
 * the next interval.  Only notifications the receiver accepted (community
 * and source, or v3 user, as configured) reach the bus. */
static const uint32_t peer_target_discovered[] = {1, 3, 6, 1, 4, 1, 32473, 1, 3, 1, 0, 1};
static const uint32_t peer_target_lost[] = {1, 3, 6, 1, 4, 1, 32473, 1, 3, 1, 0, 2};
/* A peer that found several targets sends one notification each: the
 * burst is answered with one round. */
#define PEER_SETTLE_MS 200u

static void on_peer_notification(int topic, const void *data, void *arg)
{
	const struct cm_trap *t = data;

	(void)topic;
	(void)arg;
	if (!disc_engine.running)
		return;
	cm_log(CM_LOG_INFO, "discovery", "%s from %s: asking the sources again",
	       t->trap_oid[t->trap_oid_len - 1] == 1 ? "sanTargetDiscovered" : "sanTargetLost", t->source);
	if (!disc_engine.kick_timer)
		disc_engine.kick_timer = cm_ev_timer(PEER_SETTLE_MS, 0, on_round, NULL);
}

static void peer_unsubscribe(void)
{
	for (size_t i = 0; i < 2; i++)
		if (disc_engine.peer_subs[i] > 0)
			bus_unsubscribe(disc_engine.peer_subs[i]);
	disc_engine.peer_subs[0] = disc_engine.peer_subs[1] = 0;
}

static int peer_subscribe(void)
{
	static const struct {
		const uint32_t *oid;
		size_t len;
	} oids[2] = {{peer_target_discovered, sizeof(peer_target_discovered) / sizeof(uint32_t)},
	             {peer_target_lost, sizeof(peer_target_lost) / sizeof(uint32_t)}};
	int h;

	for (size_t i = 0; i < 2; i++) {
		if (disc_engine.peer_subs[i])
			continue;
		if ((h = bus_subscribe_key(BUS_TRAP, oids[i].oid, oids[i].len, 0, on_peer_notification, NULL)) < 0) {
			peer_unsubscribe();
			return h;
		}
		disc_engine.peer_subs[i] = h;
	}
	return 0;
}

/* ---- engine ops ------------------------------------------------------ */

static int apply(const struct sa_discovery_config *c, char *err, size_t errlen)
{
	int rc;

	snprintf(disc_engine.initiator, sizeof(disc_engine.initiator), "%s", c->initiator_name);
	disc_engine.interval_s = (unsigned int)c->interval;
	disc_engine.age_out_s = (unsigned int)c->age_out;
	disc_engine.timeout_ms = (unsigned int)c->timeout_ms;
	disc_engine.max_reply = (size_t)c->max_reply;
	disc_engine.mrdsl = (unsigned int)c->max_data_segment;
	snprintf(disc_engine.chap_user, sizeof(disc_engine.chap_user), "%s", c->chap_user ? c->chap_user : "");
	snprintf(disc_engine.chap_secret, sizeof(disc_engine.chap_secret), "%s", c->chap_secret ? c->chap_secret : "");
	snprintf(disc_engine.chap_tuser, sizeof(disc_engine.chap_tuser), "%s",
	         c->chap_target_user ? c->chap_target_user : "");
	snprintf(disc_engine.chap_tsecret, sizeof(disc_engine.chap_tsecret), "%s",
	         c->chap_target_secret ? c->chap_target_secret : "");

	/* Configured portals: keep rows (and their history) across reloads. */
	for (size_t i = 0; i < disc_engine.nsrc; i++)
		disc_engine.src[i]->mark = false;
	for (size_t i = 0; i < c->nportals; i++) {
		char host[DISC_HOST_MAX];
		uint16_t port;
		int family;
		struct src *s;

		split_endpoint(c->portals[i], host, &family, &port);
		s = src_find_addr(DISC_MECH_SENDTARGETS, host, port);
		if (!s && !(s = src_create(DISC_MECH_SENDTARGETS, family, host, port))) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		s->in_config = true;
		s->mark = true;
	}
	for (size_t i = disc_engine.nsrc; i-- > 0;)
		if (disc_engine.src[i]->pub.mechanism == DISC_MECH_SENDTARGETS && !disc_engine.src[i]->mark)
			src_remove(disc_engine.src[i]);
	if ((rc = isns_apply(c, err, errlen)) < 0)
		return rc;
	if ((rc = scans_load(c)) < 0) {
		snprintf(err, errlen, "cannot set up subnet scans: %s", strerror(-rc));
		return rc;
	}
	if (disc_engine.round_timer)
		cm_ev_cancel(disc_engine.round_timer);
	disc_engine.round_timer = cm_ev_timer(disc_engine.interval_s * 1000u, 1, on_round, NULL);
	if (!disc_engine.age_timer)
		disc_engine.age_timer = cm_ev_timer(AGE_SWEEP_MS, 1, on_age, NULL);
	/* The first round runs from the loop, not inside start. */
	if (!disc_engine.kick_timer)
		disc_engine.kick_timer = cm_ev_timer(1, 0, on_round, NULL);
	if (!disc_engine.round_timer || !disc_engine.age_timer || !disc_engine.kick_timer) {
		snprintf(err, errlen, "cannot create timers");
		return -ENOMEM;
	}
	return 0;
}

static void disc_stop(void)
{
	if (disc_engine.round_timer)
		cm_ev_cancel(disc_engine.round_timer);
	if (disc_engine.age_timer)
		cm_ev_cancel(disc_engine.age_timer);
	if (disc_engine.kick_timer)
		cm_ev_cancel(disc_engine.kick_timer);
	disc_engine.round_timer = disc_engine.age_timer = disc_engine.kick_timer = 0;
	peer_unsubscribe();
	isns_off();
	scans_free();
	while (disc_engine.nsrc)
		src_remove(disc_engine.src[disc_engine.nsrc - 1]);
	free(disc_engine.src);
	disc_engine.src = NULL;
	disc_engine.capsrc = 0;
	tgt_free_all();
	memset(disc_engine.chap_secret, 0, sizeof(disc_engine.chap_secret));
	memset(disc_engine.chap_tsecret, 0, sizeof(disc_engine.chap_tsecret));
	disc_engine.running = false;
}

static int disc_start(const void *section, char *err, size_t errlen)
{
	const struct sa_discovery_config *cfg = section;
	int rc;

	if (!cfg) {
		snprintf(err, errlen, "no discovery section");
		return -EINVAL;
	}
	if (disc_engine.running)
		disc_stop();
	disc_engine.running = true;
	if ((rc = apply(cfg, err, errlen)) < 0) {
		disc_stop();
		return rc;
	}
	if ((rc = peer_subscribe()) < 0) {
		snprintf(err, errlen, "cannot subscribe to peer notifications: %s", strerror(-rc));
		disc_stop();
		return rc;
	}
	cm_log(CM_LOG_INFO, "discovery", "started: %zu portals, %zu iSNS servers, %zu scans, every %u s, age-out %u s",
	       cfg->nportals, cfg->nisns, cfg->nscan, disc_engine.interval_s, disc_engine.age_out_s);
	return 0;
}

static int disc_reload(const void *section, char *err, size_t errlen)
{
	if (!disc_engine.running || !section)
		return disc_start(section, err, errlen);
	return apply(section, err, errlen);
}

const struct sa_engine_ops disc_engine_ops = {
    .start = disc_start,
    .reload = disc_reload,
    .stop = disc_stop,
};
