/* engine.c: the discovery engine: SendTargets, subnet-scan and iSNS sources, the discovered-targets model, aging. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
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
#include "engines/discovery/login.h"
#include "engines/registry.h"
#include "engines/discovery/sendtargets.h"
#include "common/array.h"
#include "common/bus.h"
#include "common/trap.h"
#include "common/evloop.h"
#include "common/log.h"
#include "common/search.h"
#include "common/state.h"

#define HASH_BUCKETS 16384u
/* Sweeps for aged rows run this often; cheap at 10,000 rows. */
#define AGE_SWEEP_MS 1000u
/* iSNS registrations are renewed this often (isnsd's RegistrationPeriod
 * defaults to an hour; ours must not lapse between renewals). */
#define ISNS_REREGISTER_S 300
/* Scans SNMP creates: the config's defaults (subagent/config.c). */
#define DISC_SNMP_SCAN_CONCURRENCY 64u
#define DISC_SNMP_SCAN_TIMEOUT_MS 500u

struct scan;

struct src {
	struct disc_source pub; /* first: handlers see this */
	struct disc_st *st;
	bool in_config;          /* a configured portal (kept when it fails) */
	struct scan *scan;       /* a range's scan */
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
	/* Sources that reported it (since it appeared): destroying one of them loses the target only when no other
	 * did.  A source that stopped listing it stays here; age-out settles that case. */
	uint32_t *rep;
	size_t nrep, caprep;
	bool dropping; /* lost with its sources, removed right after the notification */
};

static void tgt_reported_by(struct tgt *t, uint32_t src)
{
	for (size_t i = 0; i < t->nrep; i++)
		if (t->rep[i] == src)
			return;
	if (cm_grow(&t->rep, &t->caprep, t->nrep, sizeof(*t->rep), 2) < 0)
		return; /* then destroying its source may lose it early: age-out would have anyway */
	t->rep[t->nrep++] = src;
}

static void tgt_free(struct tgt *t)
{
	free(t->pub.portals);
	free(t->rep);
	free(t);
}

struct probe {
	struct scan *sc;
	struct sockaddr_in sa;
	struct disc_st *st;
	struct probe *prev, *next;
};

/* Addresses a scan walks: one range of hosts (host order). */
struct scan_seg {
	uint32_t base, nhosts;
	uint32_t net; /* the prefix, for the log */
	unsigned int bits;
};

struct scan {
	struct src *owner; /* its range source */
	uint32_t net;      /* as given: network address (host order) and prefix; local = this host's subnets */
	unsigned int prefix;
	bool local;
	struct scan_seg *segs;
	size_t nsegs;
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

	struct probe *probes; /* in flight, for cancelling */
	/* iSNS settings of the config, for servers SNMP adds */
	unsigned int isns_scn_port, isns_scn_idle;
	char isns_scn_address[64];
	unsigned int nsnmp; /* sources SNMP created */

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

static int64_t u32_of(const void *elem)
{
	return *(const uint32_t *)elem;
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

/* State and percent done, as of now (read by the handlers). */
static const struct disc_source *src_progress(struct src *s)
{
	struct disc_source *p = &s->pub;

	if (s->scan) {
		const struct scan *sc = s->scan;

		if (sc->running) {
			p->state = DISC_STATE_SCANNING;
			p->percent = sc->total ? (unsigned int)((sc->cursor - sc->inflight) * 100 / sc->total) : 0;
			return p;
		}
		p->state = p->status == DISC_SRC_FAILED ? DISC_STATE_FAILED : DISC_STATE_IDLE;
		p->percent = p->last_success ? 100 : 0;
		return p;
	}
	if (s->st || s->isns_busy) {
		p->state = DISC_STATE_QUERYING;
		p->percent = 0;
	} else {
		p->state = p->status == DISC_SRC_FAILED || p->status == DISC_SRC_UNREACHABLE ? DISC_STATE_FAILED
		                                                                             : DISC_STATE_IDLE;
		p->percent = p->status == DISC_SRC_PENDING ? 0 : 100;
	}
	return p;
}

const struct disc_source *disc_source_find(uint32_t index)
{
	size_t i = SRC_POS(index);

	return i < disc_engine.nsrc && disc_engine.src[i]->pub.index == index ? src_progress(disc_engine.src[i]) : NULL;
}

const struct disc_source *disc_source_next(uint32_t after)
{
	size_t i = SRC_POS((uint64_t)after + 1);

	return i < disc_engine.nsrc ? src_progress(disc_engine.src[i]) : NULL;
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

void disc_target_set_alias(const char *name, const char *alias)
{
	struct tgt *t = tgt_lookup(name);

	if (t && alias && alias[0])
		snprintf(t->pub.alias, sizeof(t->pub.alias), "%s", alias);
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
	for (size_t i = 0; i < disc_engine.ntgt; i++)
		tgt_free(disc_engine.tgt[i]);
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
	if (cm_grow(&t->pub.portals, &t->pcap, t->pub.nportals, sizeof(*t->pub.portals), 2) < 0)
		return -ENOMEM;
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
		tgt_reported_by(m->cur, m->s->pub.index);
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

/* A source at index (0: the next free one), kept in index order. */
static struct src *src_create_at(uint32_t index, int mech, int family, const char *host, uint16_t port)
{
	struct src *s;
	size_t pos;

	if (index == 0 && disc_engine.next_src == UINT32_MAX)
		return NULL;
	if (index == 0)
		index = disc_engine.next_src + 1;
	pos = SRC_POS(index);
	if ((pos < disc_engine.nsrc && disc_engine.src[pos]->pub.index == index) ||
	    grow_ptrs(&disc_engine.src, &disc_engine.capsrc, disc_engine.nsrc + 1) < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->pub.index = index;
	if (index > disc_engine.next_src)
		disc_engine.next_src = index;
	s->pub.mechanism = mech;
	s->pub.family = family;
	snprintf(s->pub.host, sizeof(s->pub.host), "%s", host);
	s->pub.port = port;
	s->pub.status = DISC_SRC_PENDING;
	s->pub.origin = mech == DISC_MECH_SCAN ? DISC_ORIGIN_SCAN : DISC_ORIGIN_CONFIG;
	memmove(&disc_engine.src[pos + 1], &disc_engine.src[pos],
	        (disc_engine.nsrc - pos) * sizeof(disc_engine.src[0]));
	disc_engine.src[pos] = s;
	disc_engine.nsrc++;
	return s;
}

static struct src *src_create(int mech, int family, const char *host, uint16_t port)
{
	return src_create_at(0, mech, family, host, port);
}

static void scan_free(struct scan *sc);

static void src_remove(struct src *s)
{
	size_t i = SRC_POS(s->pub.index);

	if (i < disc_engine.nsrc && disc_engine.src[i] == s) {
		memmove(&disc_engine.src[i], &disc_engine.src[i + 1],
		        (disc_engine.nsrc - i - 1) * sizeof(disc_engine.src[0]));
		disc_engine.nsrc--;
	}
	if (s->pub.origin == DISC_ORIGIN_SNMP && disc_engine.nsnmp)
		disc_engine.nsnmp--;
	disc_st_cancel(s->st);
	scan_free(s->scan);
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
	else if (rc == -ENOKEY)
		snprintf(s->pub.last_error, sizeof(s->pub.last_error), "its CHAP credential is missing or not active");
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

static struct src *src_by_index(uint32_t index);

/* The CHAP of a source's discovery sessions: its own credential (a scanned portal: its range's), else the
 * config's discovery CHAP, else the initiator-wide default credential.  -ENOENT when the credential named is gone
 * or not active. */
static int src_chap(const struct src *s, struct disc_st_params *p)
{
	const struct src *r = s && s->pub.range ? src_by_index(s->pub.range) : NULL;
	uint32_t cred = s ? s->pub.cred : 0;
	const struct disc_cred *c;

	if (!cred && r)
		cred = r->pub.cred;
	if (!cred && disc_engine.chap_user[0]) {
		p->chap_user = disc_engine.chap_user;
		p->chap_secret = disc_engine.chap_secret;
		p->chap_target_user = disc_engine.chap_tuser;
		p->chap_target_secret = disc_engine.chap_tsecret;
		return 0;
	}
	if (!cred && !(cred = disc_default_cred()))
		return 0;
	c = disc_cred_find(cred);
	if (!c || c->row != DISC_ROW_ACTIVE)
		return -ENOKEY;
	p->chap_user = c->user;
	p->chap_secret = c->secret;
	if (c->mutual_secret[0]) {
		p->chap_target_user = c->mutual_user[0] ? c->mutual_user : c->user;
		p->chap_target_secret = c->mutual_secret;
	}
	return 0;
}

static int fill_params(struct disc_st_params *p, unsigned int connect_ms, const struct src *s)
{
	memset(p, 0, sizeof(*p));
	p->initiator = disc_engine.initiator;
	p->connect_timeout_ms = connect_ms;
	p->timeout_ms = disc_engine.timeout_ms;
	p->max_reply = disc_engine.max_reply;
	p->mrdsl = disc_engine.mrdsl;
	return src_chap(s, p);
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
static void scan_start(struct scan *sc);

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
	if (s->scan) {
		scan_start(s->scan);
		return;
	}
	if (s->st)
		return; /* the previous exchange is still going */
	s->pub.attempts++;
	s->pub.last_attempt = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	if ((rc = fill_params(&p, disc_engine.timeout_ms, s)) < 0) {
		src_failed(s, rc, DISC_ST_LOGIN);
		return;
	}
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
			tgt_free(t);
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
		tgt_reported_by(t, s->pub.index);
		t->isns_stamp = disc_engine.isns_stamp;
		snprintf(t->pub.alias, sizeof(t->pub.alias), "%s", rt->alias);
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

/* The iSNS servers of every iSNS source (config and SNMP): the worker runs while there is one, SCNs are taken
 * from them, and they are who is deregistered from at stop.  Stopping the worker waits for a call in flight, so a
 * SET that removes the last server (!may_stop) leaves it idle, taking SCNs from no one, rather than block the loop. */
static int isns_sync(char *err, size_t errlen, bool may_stop)
{
	size_t n = 0;
	char **servers;
	int rc;

	for (size_t i = 0; i < disc_engine.nsrc; i++)
		n += disc_engine.src[i]->pub.mechanism == DISC_MECH_ISNS && disc_engine.src[i]->server;
	servers = calloc(n ? n : 1, sizeof(char *));
	if (!servers) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	n = 0;
	for (size_t i = 0; i < disc_engine.nsrc; i++)
		if (disc_engine.src[i]->pub.mechanism == DISC_MECH_ISNS && disc_engine.src[i]->server &&
		    (servers[n] = strdup(disc_engine.src[i]->server)))
			n++;
	isns_servers_free();
	disc_engine.isns_servers = servers;
	disc_engine.nisns_servers = n;
	if (n && !disc_engine.isns_on) {
		struct disc_isns_opts o = {.scn_port = disc_engine.isns_scn_port,
		                           .scn_address = disc_engine.isns_scn_address,
		                           .scn_idle_s = disc_engine.isns_scn_idle};
		char host[64];

		if ((rc = disc_isns_start(&o, servers, n, isns_done, isns_scn, NULL, err, errlen)) < 0)
			return rc;
		disc_engine.isns_on = true;
		cm_log(CM_LOG_INFO, "discovery", "iSNS: %zu servers, state change notifications on %s TCP port %u", n,
		       disc_isns_scn_host(host, sizeof(host)), (unsigned int)disc_isns_scn_port());
	} else if (n || (disc_engine.isns_on && !may_stop)) {
		disc_isns_set_servers(servers, n);
	} else if (disc_engine.isns_on) {
		disc_isns_stop(NULL, 0, NULL);
		disc_engine.isns_on = false;
	}
	return 0;
}

static struct src *src_find_cfg(int mech, const char *host, uint16_t port)
{
	for (size_t i = 0; i < disc_engine.nsrc; i++) {
		struct src *s = disc_engine.src[i];

		if (s->in_config && s->pub.mechanism == mech && s->pub.port == port && strcmp(s->pub.host, host) == 0)
			return s;
	}
	return NULL;
}

static int isns_apply(const struct sa_discovery_config *c, char *err, size_t errlen)
{
	disc_engine.isns_scn_port = (unsigned int)c->isns_scn_port;
	disc_engine.isns_scn_idle = (unsigned int)c->isns_scn_idle;
	snprintf(disc_engine.isns_scn_address, sizeof(disc_engine.isns_scn_address), "%s",
	         c->isns_scn_address ? c->isns_scn_address : "");
	for (size_t i = 0; i < c->nisns; i++) {
		char host[DISC_HOST_MAX];
		uint16_t port;
		int family;
		struct src *s;

		split_endpoint(c->isns[i], host, &family, &port);
		s = src_find_cfg(DISC_MECH_ISNS, host, port);
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
		if (disc_engine.src[i]->pub.mechanism == DISC_MECH_ISNS && disc_engine.src[i]->in_config &&
		    !disc_engine.src[i]->mark)
			src_remove(disc_engine.src[i]);
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

/* Distinct targets with a portal reported by a portal the range found. */
static void range_count(struct src *r)
{
	uint32_t n = 0;

	for (size_t i = 0; i < disc_engine.ntgt; i++) {
		const struct disc_target *t = &disc_engine.tgt[i]->pub;

		for (size_t j = 0; j < t->nportals; j++) {
			const struct src *ps = src_by_index(t->portals[j].source);

			if (ps && ps->pub.range == r->pub.index) {
				n++;
				break;
			}
		}
	}
	r->pub.ntargets = n;
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
			s->pub.range = sc->owner->pub.index;
			s->pub.attempts++;
			s->pub.last_attempt = time(NULL);
			if (s->pub.status == DISC_SRC_PENDING)
				cm_log(CM_LOG_INFO, "discovery", "scan found portal %s:%u", host, (unsigned int)port);
			src_done(rc, phase, text, len, s);
		}
		range_count(sc->owner);
	}
	scan_pump(sc);
}

/* The address of a scan's i-th host. */
static uint32_t scan_host(const struct scan *sc, uint64_t i)
{
	for (size_t k = 0; k < sc->nsegs; k++) {
		if (i < sc->segs[k].nhosts)
			return sc->segs[k].base + (uint32_t)i;
		i -= sc->segs[k].nhosts;
	}
	return 0;
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
		pr->sa.sin_addr.s_addr = htonl(scan_host(sc, i / sc->nports));
		pr->sa.sin_port = htons((uint16_t)sc->ports[i % sc->nports]);
		inet_ntop(AF_INET, &pr->sa.sin_addr, host, sizeof(host));
		/* A configured portal is asked anyway: no second session to it. */
		if (src_find_addr(DISC_MECH_SENDTARGETS, host, ntohs(pr->sa.sin_port))) {
			free(pr);
			continue;
		}
		disc_engine.ctr.scan_probes++;
		if (fill_params(&p, sc->timeout_ms, sc->owner) < 0) {
			/* Its credential went: nothing is asked until it is back. */
			free(pr);
			sc->cursor = sc->total;
			src_failed(sc->owner, -ENOKEY, DISC_ST_LOGIN);
			break;
		}
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
		struct src *o = sc->owner;

		clock_gettime(CLOCK_MONOTONIC, &now);
		sc->running = false;
		disc_engine.ctr.scans_completed++;
		disc_engine.ctr.last_scan_ms = (uint32_t)disc_ms_between(&sc->started, &now);
		if (o->pub.status != DISC_SRC_FAILED) {
			o->pub.status = DISC_SRC_OK;
			o->pub.last_success = time(NULL);
			o->pub.last_error[0] = '\0';
		}
		range_count(o);
		cm_log(CM_LOG_INFO, "discovery", "scan of %s/%u done in %u ms: %u targets", o->pub.host, sc->prefix,
		       (unsigned int)disc_engine.ctr.last_scan_ms, (unsigned int)o->pub.ntargets);
	}
}

/* One prefix as the hosts a scan probes: the network and broadcast addresses answer no one. */
static void seg_of(uint32_t net, unsigned int bits, struct scan_seg *g)
{
	uint32_t mask = bits ? 0xffffffffu << (32 - bits) : 0;

	g->base = g->net = net & mask;
	g->bits = bits;
	g->nhosts = bits >= 32 ? 1 : 1u << (32 - bits);
	if (bits < 31) {
		g->base++;
		g->nhosts -= 2;
	}
}

/* The IPv4 subnets of this host's interfaces that are up, each narrowed to the /16 around the interface's address
 * when wider (a /8 would be 16 million probes); loopback is not a subnet storage sits on.  Count, or -errno. */
static int local_segs(struct scan *sc)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next)
		n++;
	free(sc->segs);
	sc->segs = calloc(n ? n : 1, sizeof(*sc->segs));
	sc->nsegs = 0;
	if (!sc->segs) {
		freeifaddrs(ifa);
		return -ENOMEM;
	}
	for (i = ifa; i; i = i->ifa_next) {
		uint32_t a, m;
		unsigned int bits = 0;
		struct scan_seg g;
		bool dup = false;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask ||
		    (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
			continue;
		a = ntohl(((const struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
		m = ntohl(((const struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
		while (bits < 32 && (m & (0x80000000u >> bits)))
			bits++;
		if (bits < DISC_SCAN_MIN_PREFIX)
			bits = DISC_SCAN_MIN_PREFIX;
		seg_of(a, bits, &g);
		for (size_t k = 0; k < sc->nsegs; k++)
			dup = dup || (sc->segs[k].base == g.base && sc->segs[k].nhosts == g.nhosts);
		if (!dup)
			sc->segs[sc->nsegs++] = g;
	}
	freeifaddrs(ifa);
	return (int)sc->nsegs;
}

static void scan_start(struct scan *sc)
{
	struct src *o = sc->owner;
	int rc;

	if (sc->running)
		return;
	o->pub.attempts++;
	o->pub.last_attempt = time(NULL);
	/* This host's subnets are read at each scan: addresses come and go. */
	if (sc->local && (rc = local_segs(sc)) <= 0) {
		o->pub.failures++;
		o->pub.status = DISC_SRC_FAILED;
		snprintf(o->pub.last_error, sizeof(o->pub.last_error), "%s",
		         rc == 0 ? "no IPv4 subnet on this host's interfaces" : strerror(-rc));
		return;
	}
	sc->total = 0;
	for (size_t k = 0; k < sc->nsegs; k++)
		sc->total += (uint64_t)sc->segs[k].nhosts * sc->nports;
	if (sc->local) {
		char line[512], a[INET_ADDRSTRLEN];
		size_t o_ = 0;

		line[0] = '\0';
		for (size_t k = 0; k < sc->nsegs && o_ < sizeof(line); k++) {
			struct in_addr in = {.s_addr = htonl(sc->segs[k].net)};

			inet_ntop(AF_INET, &in, a, sizeof(a));
			o_ += (size_t)snprintf(line + o_, sizeof(line) - o_, " %s/%u", a, sc->segs[k].bits);
		}
		cm_log(CM_LOG_INFO, "discovery", "source %u: scanning this host's subnets:%s (%llu probes)",
		       (unsigned int)o->pub.index, line, (unsigned long long)sc->total);
	}
	if (o->pub.status == DISC_SRC_FAILED)
		o->pub.status = DISC_SRC_PENDING;
	sc->running = true;
	sc->cursor = 0;
	clock_gettime(CLOCK_MONOTONIC, &sc->started);
	scan_pump(sc);
}

/* Stops a scan: its probes in flight are cancelled. */
static void scan_stop(struct scan *sc)
{
	struct probe *pr = disc_engine.probes, *nx;

	for (; pr; pr = nx) {
		nx = pr->next;
		if (pr->sc != sc)
			continue;
		probe_unlink(pr);
		disc_st_cancel(pr->st);
		free(pr);
	}
	sc->inflight = 0;
	sc->running = false;
}

static void scan_free(struct scan *sc)
{
	if (!sc)
		return;
	scan_stop(sc);
	free(sc->segs);
	free(sc->ports);
	free(sc);
}

/* A range source's scan: net/prefix, or local; ports (none: 3260). */
static struct scan *scan_new(struct src *owner, uint32_t net, unsigned int prefix, bool local, const int *ports,
                             size_t nports, unsigned int concurrency, unsigned int timeout_ms)
{
	struct scan *sc = calloc(1, sizeof(*sc));

	if (!sc)
		return NULL;
	sc->owner = owner;
	sc->net = net;
	sc->prefix = prefix;
	sc->local = local;
	sc->nports = nports ? nports : 1;
	sc->ports = calloc(sc->nports, sizeof(int));
	if (!local)
		sc->segs = calloc(1, sizeof(*sc->segs));
	if (!sc->ports || (!local && !sc->segs)) {
		free(sc->ports);
		free(sc->segs);
		free(sc);
		return NULL;
	}
	if (nports)
		memcpy(sc->ports, ports, nports * sizeof(int));
	else
		sc->ports[0] = DISC_ISCSI_PORT;
	if (!local) {
		seg_of(net, prefix, &sc->segs[0]);
		sc->nsegs = 1;
	}
	sc->concurrency = concurrency;
	sc->timeout_ms = timeout_ms;
	return sc;
}

static void src_remove_tell(struct src *s, uint32_t *gone);

/* Scans of the config file: range sources of origin config, kept (with their history) across reloads when the
 * prefix and first port stay. */
static int scans_load(const struct sa_discovery_config *c)
{
	for (size_t i = 0; i < disc_engine.nsrc; i++)
		if (disc_engine.src[i]->pub.mechanism == DISC_MECH_RANGE)
			disc_engine.src[i]->mark = false;
	for (size_t i = 0; i < c->nscan; i++) {
		const struct sa_disc_scan_cfg *sc = &c->scan[i];
		char addr[INET_ADDRSTRLEN];
		const char *slash = strchr(sc->cidr, '/');
		struct in_addr in;
		unsigned int bits = (unsigned int)atoi(slash + 1);
		uint16_t port = sc->nports ? (uint16_t)sc->ports[0] : DISC_ISCSI_PORT;
		struct src *s = NULL;
		struct scan *nsc;

		snprintf(addr, sizeof(addr), "%.*s", (int)(slash - sc->cidr), sc->cidr);
		if (inet_pton(AF_INET, addr, &in) != 1)
			return -EINVAL;
		for (size_t k = 0; k < disc_engine.nsrc && !s; k++) {
			struct src *o = disc_engine.src[k];

			if (o->in_config && o->scan && !o->mark && o->scan->net == ntohl(in.s_addr) &&
			    o->scan->prefix == bits && o->pub.port == port)
				s = o;
		}
		if (!s && !(s = src_create(DISC_MECH_RANGE, AF_INET, addr, port)))
			return -ENOMEM;
		s->in_config = true;
		s->mark = true;
		s->pub.prefix = bits;
		nsc = scan_new(s, ntohl(in.s_addr), bits, false, sc->ports, sc->nports, (unsigned int)sc->concurrency,
		               (unsigned int)sc->timeout_ms);
		if (!nsc)
			return -ENOMEM;
		scan_free(s->scan);
		s->scan = nsc;
	}
	/* A range the file no longer has goes with the portals it found. */
	for (;;) {
		struct src *stale = NULL;
		uint32_t *gone;

		for (size_t i = 0; i < disc_engine.nsrc && !stale; i++)
			if (disc_engine.src[i]->pub.mechanism == DISC_MECH_RANGE && disc_engine.src[i]->in_config &&
			    !disc_engine.src[i]->mark)
				stale = disc_engine.src[i];
		if (!stale)
			return 0;
		if (!(gone = calloc(disc_engine.nsrc, sizeof(*gone))))
			return -ENOMEM;
		src_remove_tell(stale, gone);
		free(gone);
	}
}

/* ---- rounds and aging ------------------------------------------------ */

static void round_run(void)
{
	/* Scanned sources are refreshed by their own scan's probes; ranges scan again. */
	for (size_t i = 0; i < disc_engine.nsrc; i++)
		if (disc_engine.src[i]->pub.mechanism != DISC_MECH_SCAN)
			src_query(disc_engine.src[i]);
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
			tgt_free(t);
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

int disc_source_refresh(uint32_t index)
{
	struct src *s;

	if (!disc_engine.running)
		return -ENODEV;
	if (!(s = src_by_index(index)))
		return -ENOENT;
	src_query(s);
	return 0;
}

/* ---- sources by SNMP --------------------------------------------------- */

#define SRC_PREFIX "disc.src."

uint32_t disc_source_next_index(void)
{
	uint32_t i = disc_engine.next_src + 1;

	/* Ranges a manager chose may sit above it. */
	while (i < UINT32_MAX && src_by_index(i))
		i++;
	return i;
}

int disc_source_uses_cred(uint32_t cred)
{
	for (size_t i = 0; cred && i < disc_engine.nsrc; i++)
		if (disc_engine.src[i]->pub.cred == cred)
			return 1;
	return 0;
}

static uint16_t spec_port(const struct disc_source_spec *s)
{
	return s->port ? s->port : s->mechanism == DISC_MECH_ISNS ? DISC_ISNS_PORT : DISC_ISCSI_PORT;
}

int disc_source_validate(uint32_t index, const struct disc_source_spec *s)
{
	unsigned char a[16];
	uint16_t port = spec_port(s);
	bool zero;

	if (!disc_engine.running)
		return -EAGAIN;
	if (index == 0 || index == UINT32_MAX)
		return -EINVAL;
	/* subnetScan rows are the portals a range found: the engine's. */
	if (s->mechanism != DISC_MECH_SENDTARGETS && s->mechanism != DISC_MECH_ISNS && s->mechanism != DISC_MECH_RANGE)
		return -EINVAL;
	if ((s->family != AF_INET && s->family != AF_INET6) || inet_pton(s->family, s->host, a) != 1)
		return -EDOM;
	zero = s->family == AF_INET ? !memcmp(a, "\0\0\0\0", 4) : !memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	if (s->mechanism == DISC_MECH_RANGE) {
		if (s->family != AF_INET)
			return -EDOM; /* only IPv4 prefixes can be walked */
		if (s->local)
			return zero && s->prefix == 0 ? 0 : -EDOM;
		if (s->prefix > 32 || (s->prefix && s->prefix < DISC_SCAN_MIN_PREFIX))
			return -EINVAL;
		if (s->prefix == 0)
			return -EDOM; /* 0.0.0.0/0 means this host's subnets only with the flag */
	} else {
		if (s->prefix || s->local)
			return -EDOM;
		if (zero)
			return -EINVAL;
	}
	if (s->cred) {
		/* iSNS queries do not log in: a credential there would do nothing. */
		if (s->mechanism == DISC_MECH_ISNS)
			return -EDOM;
		if (!disc_cred_find(s->cred))
			return -ENOENT;
	}
	for (size_t i = 0; i < disc_engine.nsrc; i++) {
		const struct src *o = disc_engine.src[i];

		if (o->pub.index == index)
			return -EEXIST;
		if (o->pub.mechanism == s->mechanism && o->pub.port == port && strcmp(o->pub.host, s->host) == 0 &&
		    o->pub.prefix == s->prefix && o->pub.local == s->local)
			return -EEXIST;
	}
	if (disc_engine.nsnmp >= DISC_SNMP_SOURCES_MAX)
		return -ENOSPC;
	return 0;
}

/* "1;mech;family;host;port;prefix;local;cred" */
static int src_persist(const struct src *s)
{
	char key[32], val[160];

	snprintf(key, sizeof(key), SRC_PREFIX "%u", (unsigned int)s->pub.index);
	if (!s->pub.nonvolatile)
		return 0;
	snprintf(val, sizeof(val), "1;%d;%d;%s;%u;%u;%d;%u", s->pub.mechanism, s->pub.family, s->pub.host,
	         (unsigned int)s->pub.port, s->pub.prefix, s->pub.local, (unsigned int)s->pub.cred);
	return disc_persist(key, val);
}

static void src_kick(unsigned int id, void *arg)
{
	struct src *s = src_by_index((uint32_t)(uintptr_t)arg);

	(void)id;
	if (s && disc_engine.running)
		src_query(s);
}

/* The row from a spec (validated); not persisted, not started. */
static struct src *src_from_spec(uint32_t index, const struct disc_source_spec *sp)
{
	uint16_t port = spec_port(sp);
	struct src *s = src_create_at(index, sp->mechanism, sp->family, sp->host, port);
	char server[DISC_HOST_MAX + 10];
	struct in_addr in;

	if (!s)
		return NULL;
	s->pub.origin = DISC_ORIGIN_SNMP;
	s->pub.prefix = sp->prefix;
	s->pub.local = sp->local;
	s->pub.cred = sp->cred;
	s->pub.nonvolatile = sp->nonvolatile;
	disc_engine.nsnmp++;
	if (sp->mechanism == DISC_MECH_ISNS) {
		snprintf(server, sizeof(server), sp->family == AF_INET6 ? "[%s]:%u" : "%s:%u", sp->host,
		         (unsigned int)port);
		if (!(s->server = strdup(server)))
			goto fail;
	} else if (sp->mechanism == DISC_MECH_RANGE) {
		inet_pton(AF_INET, sp->host, &in);
		if (!(s->scan = scan_new(s, ntohl(in.s_addr), sp->prefix, sp->local, (const int[]){port}, 1,
		                         DISC_SNMP_SCAN_CONCURRENCY, DISC_SNMP_SCAN_TIMEOUT_MS)))
			goto fail;
	}
	return s;
fail:
	src_remove(s);
	return NULL;
}

int disc_source_create(uint32_t index, const struct disc_source_spec *sp)
{
	struct src *s;
	char err[160];
	int rc;

	if ((rc = disc_source_validate(index, sp)) < 0)
		return rc;
	if (!(s = src_from_spec(index, sp)))
		return -ENOMEM;
	if ((rc = src_persist(s)) < 0 ||
	    (sp->mechanism == DISC_MECH_ISNS && (rc = isns_sync(err, sizeof(err), false)) < 0)) {
		if (rc != -EIO && sp->mechanism == DISC_MECH_ISNS)
			cm_log(CM_LOG_WARNING, "discovery", "source %u: %s", (unsigned int)index, err);
		src_remove(s);
		if (sp->mechanism == DISC_MECH_ISNS)
			isns_sync(err, sizeof(err), false);
		return rc == -EIO ? -EIO : rc;
	}
	cm_log(CM_LOG_INFO, "discovery", "source %u created: %s %s:%u", (unsigned int)index,
	       sp->mechanism == DISC_MECH_ISNS    ? "iSNS"
	       : sp->mechanism == DISC_MECH_RANGE ? "scan"
	                                          : "SendTargets",
	       s->pub.host, (unsigned int)s->pub.port);
	/* Discovering starts from the loop, once the SET request is answered. */
	cm_ev_timer(1, 0, src_kick, (void *)(uintptr_t)index);
	return 0;
}

int disc_source_check_update(uint32_t index, uint32_t cred)
{
	const struct src *s = src_by_index(index);

	if (!s)
		return -ENOENT;
	if (s->pub.origin != DISC_ORIGIN_SNMP)
		return -EPERM;
	if (cred && s->pub.mechanism == DISC_MECH_ISNS)
		return -EDOM;
	return cred && !disc_cred_find(cred) ? -ENOENT : 0;
}

int disc_source_set_cred(uint32_t index, uint32_t cred)
{
	struct src *s = src_by_index(index);
	uint32_t old;
	int rc;

	if ((rc = disc_source_check_update(index, cred)) < 0)
		return rc;
	old = s->pub.cred;
	s->pub.cred = cred;
	if ((rc = src_persist(s)) < 0)
		s->pub.cred = old;
	return rc;
}

int disc_source_check_destroy(uint32_t index)
{
	const struct src *s = src_by_index(index);

	if (!s)
		return -ENOENT;
	return s->pub.origin == DISC_ORIGIN_SNMP ? 0 : -EPERM;
}

/* Sources in gone[] (sorted) went: a target no other source reported is lost now (sanTargetLost while the row is
 * still there, then it goes); one that another source reported stays, and what the gone ones last reported of it
 * is that source's until it ages out. */
static void drop_sources_targets(const uint32_t *gone, size_t ngone)
{
	size_t w = 0;

#define GONE(x)                                                                                                        \
	(cm_lower_bound(gone, ngone, sizeof(*gone), (x), u32_of) < ngone &&                                            \
	 gone[cm_lower_bound(gone, ngone, sizeof(*gone), (x), u32_of)] == (x))
	for (size_t i = 0; i < disc_engine.ntgt; i++) {
		struct tgt *t = disc_engine.tgt[i];
		size_t rw = 0, had = t->nrep;

		for (size_t j = 0; j < t->nrep; j++)
			if (!GONE(t->rep[j]))
				t->rep[rw++] = t->rep[j];
		t->nrep = rw;
		if (rw == 0 && (had || GONE(t->pub.source))) {
			t->dropping = true;
			disc_engine.ctr.targets_lost++;
			cm_log(CM_LOG_INFO, "discovery", "target %s lost (its source was destroyed)", t->pub.name);
			emit(DISC_EV_TARGET_LOST, t->pub.index);
			continue;
		}
		if (rw == 0)
			continue;
		if (GONE(t->pub.source))
			t->pub.source = t->rep[0];
		for (size_t j = 0; j < t->pub.nportals; j++)
			if (GONE(t->pub.portals[j].source))
				t->pub.portals[j].source = t->rep[0];
	}
	for (size_t i = 0; i < disc_engine.ntgt; i++) {
		struct tgt *t = disc_engine.tgt[i];

		if (t->dropping) {
			tgt_unhash(t);
			tgt_free(t);
			continue;
		}
		disc_engine.tgt[w++] = t;
	}
	disc_engine.ntgt = w;
#undef GONE
}

/* Removes s, a range's portals with it, the portals only they reported and the targets left with none
 * (sanTargetLost).  gone: room for every source's index. */
static void src_remove_tell(struct src *s, uint32_t *gone)
{
	uint32_t index = s->pub.index;
	size_t ngone = 0;

	/* Indexes stay sorted as the source array is. */
	for (size_t i = 0; i < disc_engine.nsrc; i++)
		if (disc_engine.src[i] == s || disc_engine.src[i]->pub.range == index)
			gone[ngone++] = disc_engine.src[i]->pub.index;
	for (size_t k = ngone; k-- > 0;) {
		struct src *o = src_by_index(gone[k]);

		if (o)
			src_remove(o);
	}
	drop_sources_targets(gone, ngone);
}

int disc_source_destroy(uint32_t index)
{
	struct src *s = src_by_index(index);
	uint32_t *gone;
	char key[32], err[160];
	bool isns;
	int rc;

	if ((rc = disc_source_check_destroy(index)) < 0)
		return rc;
	if (!(gone = calloc(disc_engine.nsrc, sizeof(*gone))))
		return -ENOMEM;
	snprintf(key, sizeof(key), SRC_PREFIX "%u", (unsigned int)index);
	if (s->pub.nonvolatile && (rc = disc_persist(key, NULL)) < 0) {
		free(gone);
		return rc;
	}
	isns = s->pub.mechanism == DISC_MECH_ISNS;
	/* The server we leave stops listing us (and sending us SCNs) now, not when our registration lapses. */
	if (isns && s->server && disc_engine.isns_on &&
	    (rc = disc_isns_deregister(s->server, disc_engine.initiator)) < 0)
		cm_log(CM_LOG_WARNING, "discovery", "iSNS %s: cannot deregister: %s", s->server, strerror(-rc));
	src_remove_tell(s, gone);
	free(gone);
	if (isns && isns_sync(err, sizeof(err), false) < 0)
		cm_log(CM_LOG_WARNING, "discovery", "iSNS after source %u went: %s", (unsigned int)index, err);
	cm_log(CM_LOG_INFO, "discovery", "source %u destroyed", (unsigned int)index);
	return 0;
}

/* Rows SNMP created before a restart: back before the config's, with their indexes. */
static void load_one(const char *key, const char *value, void *arg)
{
	unsigned long index = strtoul(key + strlen(SRC_PREFIX), NULL, 10);
	struct disc_source_spec sp = {.nonvolatile = 1};
	unsigned int port, prefix, cred;
	char host[DISC_HOST_MAX];
	int *n = arg, ver, local;
	struct src *s;

	if (sscanf(value, "%d;%d;%d;%63[^;];%u;%u;%d;%u", &ver, &sp.mechanism, &sp.family, host, &port, &prefix, &local,
	           &cred) != 8 ||
	    ver != 1 || index == 0 || index >= UINT32_MAX || port > 65535) {
		cm_log(CM_LOG_ERR, "discovery", "state: ignoring bad record %s", key);
		return;
	}
	snprintf(sp.host, sizeof(sp.host), "%s", host);
	sp.port = (uint16_t)port;
	sp.prefix = prefix;
	sp.local = local;
	/* A credential destroyed since is reported when the source is asked. */
	sp.cred = cred;
	if (!(s = src_from_spec((uint32_t)index, &sp))) {
		cm_log(CM_LOG_ERR, "discovery", "state: cannot restore source %s", key);
		return;
	}
	(*n)++;
}

static int sources_load(void)
{
	struct cm_state *st = sa_engines_state();
	int n = 0;

	if (st)
		cm_state_foreach(st, SRC_PREFIX, load_one, &n);
	return n;
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
		s = src_find_cfg(DISC_MECH_SENDTARGETS, host, port);
		if (!s && !(s = src_create(DISC_MECH_SENDTARGETS, family, host, port))) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		s->in_config = true;
		s->mark = true;
	}
	for (size_t i = disc_engine.nsrc; i-- > 0;)
		if (disc_engine.src[i]->pub.mechanism == DISC_MECH_SENDTARGETS && disc_engine.src[i]->in_config &&
		    !disc_engine.src[i]->mark)
			src_remove(disc_engine.src[i]);
	if ((rc = isns_apply(c, err, errlen)) < 0)
		return rc;
	if ((rc = scans_load(c)) < 0) {
		snprintf(err, errlen, "cannot set up subnet scans: %s", strerror(-rc));
		return rc;
	}
	if ((rc = isns_sync(err, errlen, true)) < 0)
		return rc;
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
	int rc, nloaded;

	if (!cfg) {
		snprintf(err, errlen, "no discovery section");
		return -EINVAL;
	}
	if (disc_engine.running)
		disc_stop();
	disc_engine.running = true;
	nloaded = sources_load();
	if ((rc = apply(cfg, err, errlen)) < 0) {
		disc_stop();
		return rc;
	}
	if ((rc = peer_subscribe()) < 0) {
		snprintf(err, errlen, "cannot subscribe to peer notifications: %s", strerror(-rc));
		disc_stop();
		return rc;
	}
	cm_log(CM_LOG_INFO, "discovery",
	       "started: %zu portals, %zu iSNS servers, %zu scans, %d sources from the state file, every %u s, "
	       "age-out %u s",
	       cfg->nportals, cfg->nisns, cfg->nscan, nloaded, disc_engine.interval_s, disc_engine.age_out_s);
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
