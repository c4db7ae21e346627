/* members.c: the cluster's membership (the seed's fabric services database when there is no etcd): hosts and
 * units from the config file and from SNMP, with stable indexes, and the CRT's host and unit rows made from it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/hex.h"
#include "common/log.h"
#include "common/search.h"
#include "common/state.h"
#include "engines/cluster/clu_int.h"
#include "engines/registry.h"

static int64_t member_index_of(const void *elem)
{
	return ((const struct clu_member *)elem)->index;
}

static size_t mem_lower(uint32_t index)
{
	return cm_lower_bound(clu_m.members, clu_m.nmembers, sizeof(*clu_m.members), index, member_index_of);
}

const struct clu_member *clu_member_get(uint32_t index)
{
	size_t i = mem_lower(index);

	return i < clu_m.nmembers && clu_m.members[i].index == index ? &clu_m.members[i] : NULL;
}

int clu_member_next(uint32_t after, uint32_t *out)
{
	size_t i = after == UINT32_MAX ? clu_m.nmembers : mem_lower(after + 1);

	if (i >= clu_m.nmembers)
		return -ENOENT;
	*out = clu_m.members[i].index;
	return 0;
}

size_t clu_member_count(void)
{
	return clu_m.nmembers;
}

uint32_t clu_member_next_index(void)
{
	return clu_m.nmembers ? clu_m.members[clu_m.nmembers - 1].index + 1 : 1;
}

static const struct clu_member *member_by_guid(const uint8_t guid[8])
{
	for (size_t i = 0; i < clu_m.nmembers; i++)
		if (memcmp(clu_m.members[i].guid, guid, 8) == 0)
			return &clu_m.members[i];
	return NULL;
}

static int insert(const struct clu_member *m)
{
	size_t i = mem_lower(m->index);

	if (i < clu_m.nmembers && clu_m.members[i].index == m->index) {
		clu_m.members[i] = *m;
		return 0;
	}
	if (cm_insert(&clu_m.members, &clu_m.nmembers, &clu_m.capmembers, sizeof(*m), i, m, 16) < 0)
		return -ENOMEM;
	return 0;
}

static void remove_at(size_t i)
{
	cm_remove(clu_m.members, &clu_m.nmembers, sizeof(*clu_m.members), i);
}

/* ---- persistence: every member, so that indexes stay what they were across restarts ------------ */

static void member_key(char *key, size_t len, uint32_t index)
{
	snprintf(key, len, "%s.member.%u", clu_m.state_key, (unsigned int)index);
}

static void put_member(struct cm_state *st, const struct clu_member *m)
{
	char key[96], val[512], g[17];

	clu_guid_hex(m->guid, 8, g, sizeof(g));
	member_key(key, sizeof(key), m->index);
	snprintf(val, sizeof(val), "%d\t%s\t%s\t%s\t%d", m->type, g, m->address, m->name, m->from_config);
	cm_state_set(st, key, val);
}

static void load_member(const char *key, const char *value, void *arg)
{
	const char *dot = strrchr(key, '.');
	struct clu_member m = {0};
	char buf[512], *f[5], *p;
	size_t n = 0, len;

	(void)arg;
	if (!dot || strlen(value) >= sizeof(buf))
		goto bad;
	m.index = (uint32_t)strtoul(dot + 1, NULL, 10);
	strcpy(buf, value);
	p = buf;
	while (n < 5) {
		f[n++] = p;
		if (!(p = strchr(p, '\t')))
			break;
		*p++ = 0;
	}
	if (n != 5 || !m.index)
		goto bad;
	m.type = atoi(f[0]);
	if ((m.type != CLU_HOST && m.type != CLU_UNIT) || cm_hex_decode(f[1], m.guid, 8, &len) < 0 || len != 8)
		goto bad;
	snprintf(m.address, sizeof(m.address), "%s", f[2]);
	snprintf(m.name, sizeof(m.name), "%s", f[3]);
	m.from_config = atoi(f[4]) != 0;
	if (!clu_member_get(m.index) && !member_by_guid(m.guid))
		insert(&m);
	return;
bad:
	cm_log(CM_LOG_WARNING, CLU_TAG, "state: ignoring bad member %s", key);
}

void clu_members_load(struct cm_state *st)
{
	char prefix[80];

	if (!st)
		return;
	snprintf(prefix, sizeof(prefix), "%s.member.", clu_m.state_key);
	cm_state_foreach(st, prefix, load_member, NULL);
}

void clu_members_free(void)
{
	free(clu_m.members);
	clu_m.members = NULL;
	clu_m.nmembers = clu_m.capmembers = 0;
}

/* ---- the CRT's host and unit rows ------------------------------------------------------------ */

static int dirty_push(uint32_t **v, size_t *n, uint32_t idx)
{
	uint32_t *nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = idx;
	*v = nv;
	return 0;
}

static int sync_one(int type, const uint8_t guid[8], const char *address, const char *name, uint32_t **dirty,
                    size_t *nd)
{
	const struct clu_res *r = NULL;

	for (uint32_t i = 0; clu_res_next(i, &i) == 0;) {
		const struct clu_res *x = clu_res_get(i);

		if (x->type == type && x->guid_len == 8 && memcmp(x->guid, guid, 8) == 0) {
			r = x;
			break;
		}
	}
	if (!r) {
		struct clu_res n = {.type = type, .guid_len = 8, .valid = 1, .paths = 1};
		struct clu_res *nr;

		memcpy(n.guid, guid, 8);
		snprintf(n.address, sizeof(n.address), "%s", address);
		snprintf(n.name, sizeof(n.name), "%s", name);
		n.ownership = type == CLU_HOST ? CLU_DEDICATED : CLU_UNALLOCATED;
		n.version = clu_m.ver.counter + 1;
		if (!(nr = clu_res_add(&n)))
			return -ENOMEM;
		if (type == CLU_HOST) {
			nr->owners[0] = nr->index; /* a host is dedicated to itself */
			nr->nowners = 1;
		}
		return dirty_push(dirty, nd, nr->index) < 0 ? -ENOMEM : 1;
	}
	/* An empty address or name (this host's own row without a member entry) never overwrites a known one. */
	if (!r->valid || (address[0] && strcmp(r->address, address) != 0) || (name[0] && strcmp(r->name, name) != 0)) {
		struct clu_res *m = clu_res_mut(r->index);

		m->valid = 1;
		if (address[0])
			snprintf(m->address, sizeof(m->address), "%s", address);
		if (name[0])
			snprintf(m->name, sizeof(m->name), "%s", name);
		m->version = clu_m.ver.counter + 1;
		return dirty_push(dirty, nd, m->index) < 0 ? -ENOMEM : 1;
	}
	return 0;
}

int clu_members_sync_rows(uint32_t **dirty, size_t *ndirty)
{
	int changed = 0, rc;

	for (size_t i = 0; i < clu_m.nmembers; i++) {
		const struct clu_member *m = &clu_m.members[i];

		if ((rc = sync_one(m->type, m->guid, m->address, m->name, dirty, ndirty)) < 0)
			return rc;
		changed |= rc;
	}
	if (clu_m.role == CLU_ROLE_HOST && !member_by_guid(clu_m.self_guid)) {
		if ((rc = sync_one(CLU_HOST, clu_m.self_guid, "", clu_m.initiator_name, dirty, ndirty)) < 0)
			return rc;
		changed |= rc;
	}
	return changed;
}

/* The CRT row of a member that left: invalid, a new version. */
static int invalidate_row(int type, const uint8_t guid[8])
{
	for (uint32_t i = 0; clu_res_next(i, &i) == 0;) {
		struct clu_res *r = clu_res_mut(i);

		if (r->type == type && r->guid_len == 8 && memcmp(r->guid, guid, 8) == 0 && r->valid) {
			r->valid = 0;
			r->version = clu_m.ver.counter + 1;
			return clu_commit_local(&i, 1);
		}
	}
	return 0;
}

static int sync_and_commit(void)
{
	uint32_t *dirty = NULL;
	size_t nd = 0;
	int rc = clu_members_sync_rows(&dirty, &nd);

	if (rc > 0)
		rc = clu_commit_local(dirty, nd);
	free(dirty);
	return rc < 0 ? rc : 0;
}

/* ---- from the config file ---------------------------------------------------------------------- */

int clu_members_apply(const struct sa_cluster_config *c, char *err, size_t errlen)
{
	struct cm_state *st = sa_engines_state();
	struct clu_member *cfg = c->nmembers ? calloc(c->nmembers, sizeof(*cfg)) : NULL;
	struct {
		int type;
		uint8_t guid[8];
	} gone[64];
	size_t ngone = 0;
	uint32_t next;

	if (c->nmembers && !cfg) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->nmembers; i++) {
		const struct sa_clu_member_cfg *mc = &c->members[i];
		size_t len;

		cfg[i].type = strcmp(mc->type, "unit") == 0 ? CLU_UNIT : CLU_HOST;
		if (cm_hex_decode(mc->guid, cfg[i].guid, 8, &len) < 0 || len != 8) {
			snprintf(err, errlen, "members[%zu]: guid must be 16 hexadecimal digits", i);
			free(cfg);
			return -EINVAL;
		}
		for (size_t k = 0; k < i; k++)
			if (memcmp(cfg[k].guid, cfg[i].guid, 8) == 0) {
				snprintf(err, errlen, "members[%zu]: guid %s already listed at members[%zu]", i,
				         mc->guid, k);
				free(cfg);
				return -EINVAL;
			}
		snprintf(cfg[i].address, sizeof(cfg[i].address), "%s", mc->address ? mc->address : "");
		snprintf(cfg[i].name, sizeof(cfg[i].name), "%s", mc->name ? mc->name : "");
		cfg[i].from_config = 1;
	}
	if (st)
		cm_state_begin(st);
	/* Config members that left the file go; SNMP members stay (unless the file now lists their GUID). */
	for (size_t i = clu_m.nmembers; i-- > 0;) {
		const struct clu_member *m = &clu_m.members[i];
		int listed = 0;
		char key[96];

		for (size_t k = 0; k < c->nmembers && !listed; k++)
			listed = memcmp(cfg[k].guid, m->guid, 8) == 0;
		if (listed || !m->from_config)
			continue;
		if (st) {
			member_key(key, sizeof(key), m->index);
			cm_state_del(st, key);
		}
		if (ngone < sizeof(gone) / sizeof(gone[0])) {
			gone[ngone].type = m->type;
			memcpy(gone[ngone++].guid, m->guid, 8);
		}
		remove_at(i);
	}
	next = clu_member_next_index();
	for (size_t k = 0; k < c->nmembers; k++) {
		const struct clu_member *old = member_by_guid(cfg[k].guid);

		cfg[k].index = old ? old->index : next++;
		if (insert(&cfg[k]) < 0) {
			snprintf(err, errlen, "out of memory");
			free(cfg);
			if (st)
				cm_state_end(st);
			return -ENOMEM;
		}
		if (st)
			put_member(st, clu_member_get(cfg[k].index));
	}
	free(cfg);
	if (st && cm_state_end(st) < 0)
		cm_log(CM_LOG_ERR, CLU_TAG, "cannot persist the membership: member indexes may change at restart");
	/* Members that left the file: their CRT rows stay (owner lists name them) but are invalid. */
	for (size_t k = 0; k < ngone; k++)
		invalidate_row(gone[k].type, gone[k].guid);
	return sync_and_commit();
}

/* ---- from SNMP --------------------------------------------------------------------------------- */

int clu_member_check(const struct clu_member *m, int destroy)
{
	const struct clu_member *cur = clu_member_get(m->index);
	const struct clu_member *same;
	static const uint8_t zero[8];

	if (!m->index)
		return -EINVAL;
	if (destroy)
		return !cur ? -ENOENT : cur->from_config ? -EPERM : 0;
	if (cur && cur->from_config)
		return -EPERM;
	if (m->type != CLU_HOST && m->type != CLU_UNIT)
		return -EINVAL;
	if (memcmp(m->guid, zero, 8) == 0 || !m->address[0])
		return -EINVAL;
	if ((same = member_by_guid(m->guid)) && same->index != m->index)
		return -EEXIST;
	/* A GUID already in the CRT as the other type would make one identity two things. */
	{
		const struct clu_res *r = clu_res_find_guid(m->guid, 8);

		if (r && r->type != m->type && (r->type == CLU_HOST || r->type == CLU_UNIT))
			return -EEXIST;
	}
	return 0;
}

int clu_member_put(const struct clu_member *m)
{
	struct cm_state *st = sa_engines_state();
	struct clu_member v = *m;
	int rc = clu_member_check(m, 0);

	if (rc < 0)
		return rc;
	v.from_config = 0;
	if ((rc = insert(&v)) < 0)
		return rc;
	if (st) {
		cm_state_begin(st);
		put_member(st, &v);
		if ((rc = cm_state_end(st)) < 0)
			return rc;
	}
	cm_log(CM_LOG_INFO, CLU_TAG, "member %u (%s %s) set over SNMP", (unsigned int)v.index,
	       v.type == CLU_HOST ? "host" : "unit", v.address);
	return sync_and_commit();
}

int clu_member_del(uint32_t index)
{
	struct cm_state *st = sa_engines_state();
	const struct clu_member *cur = clu_member_get(index);
	uint8_t guid[8];
	int type, rc;

	if ((rc = clu_member_check(&(struct clu_member){.index = index}, 1)) < 0)
		return rc;
	memcpy(guid, cur->guid, 8);
	type = cur->type;
	remove_at(mem_lower(index));
	if (st) {
		char key[96];

		member_key(key, sizeof(key), index);
		cm_state_begin(st);
		cm_state_del(st, key);
		if ((rc = cm_state_end(st)) < 0)
			return rc;
	}
	/* Its CRT row stays (owner lists name it) but is marked invalid. */
	return invalidate_row(type, guid);
}
