/* peers.c: the cluster engine's view of every other member (sanCluPeerTable): reachable or not, when it last
 * answered, the version it last had, its failures.  The sync reports host peers here, the probe units. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/array.h"
#include "common/bus.h"
#include "common/log.h"
#include "common/search.h"
#include "engines/cluster/clu_sync.h"

#define TAG "cluster"

/* Sorted by member index; rows follow the membership lazily (a member added over SNMP gets its row at the next
 * read or contact, one removed loses it). */
static struct clu_peer *peers;
static size_t npeers, cap;

int clu_member_is_self(const struct clu_member *m)
{
	uint8_t self[8];

	clu_self_guid(self);
	return memcmp(self, m->guid, sizeof(self)) == 0;
}

static int64_t peer_member_of(const void *elem)
{
	return ((const struct clu_peer *)elem)->member;
}

static size_t lower_bound(uint32_t member)
{
	return cm_lower_bound(peers, npeers, sizeof(*peers), member, peer_member_of);
}

static struct clu_peer *find(uint32_t member)
{
	size_t i = lower_bound(member);

	return i < npeers && peers[i].member == member ? &peers[i] : NULL;
}

static struct clu_peer *insert(uint32_t member)
{
	size_t i = lower_bound(member);

	if (i < npeers && peers[i].member == member)
		return &peers[i];
	if (cm_grow(&peers, &cap, npeers, sizeof(*peers), 16) < 0)
		return NULL;
	memmove(&peers[i + 1], &peers[i], (npeers - i) * sizeof(*peers));
	memset(&peers[i], 0, sizeof(*peers));
	peers[i].member = member;
	peers[i].state = CLU_PEER_UNKNOWN;
	npeers++;
	return &peers[i];
}

/* Brings the rows in line with the membership: one per member that is not this agent, nothing else. */
static void refresh(void)
{
	uint32_t idx = 0;
	size_t w = 0;

	for (size_t r = 0; r < npeers; r++) {
		const struct clu_member *m = clu_member_get(peers[r].member);

		if (m && !clu_member_is_self(m))
			peers[w++] = peers[r];
	}
	npeers = w;
	while (clu_member_next(idx, &idx) == 0) {
		const struct clu_member *m = clu_member_get(idx);

		if (m && !clu_member_is_self(m) && !find(idx))
			insert(idx);
	}
}

const struct clu_peer *clu_peer_get(uint32_t member)
{
	refresh();
	return find(member);
}

int clu_peer_next(uint32_t after, uint32_t *out)
{
	size_t i;

	refresh();
	i = lower_bound(after == UINT32_MAX ? after : after + 1);
	if (after == UINT32_MAX || i >= npeers)
		return -ENOENT;
	*out = peers[i].member;
	return 0;
}

static struct clu_peer *row(uint32_t member)
{
	const struct clu_member *m = clu_member_get(member);

	if (!m || clu_member_is_self(m))
		return NULL;
	return insert(member);
}

void clu_peer_contact_ok(uint32_t member, const struct clu_version *v)
{
	struct clu_peer *p = row(member);

	if (!p)
		return;
	if (p->state == CLU_PEER_UNREACHABLE) {
		const struct clu_member *m = clu_member_get(member);

		cm_log(CM_LOG_NOTICE, TAG, "peer %s (member %u) answers again", m ? m->address : "?", member);
	}
	p->state = CLU_PEER_REACHABLE;
	p->last_contact = time(NULL);
	if (v)
		p->version = *v;
}

void clu_peer_contact_failed(uint32_t member, const char *why)
{
	struct clu_peer *p = row(member);
	const struct clu_member *m;
	struct clu_event ev;

	if (!p)
		return;
	p->failures++;
	snprintf(p->last_error, sizeof(p->last_error), "%s", why && why[0] ? why : "no answer");
	if (p->state == CLU_PEER_UNREACHABLE)
		return;
	/* Once per transition: a peer that stays down is not reported again at every attempt. */
	p->state = CLU_PEER_UNREACHABLE;
	m = clu_member_get(member);
	cm_log(CM_LOG_WARNING, TAG, "peer %s (member %u) unreachable: %s; sync goes on with the others",
	       m ? m->address : "?", member, p->last_error);
	memset(&ev, 0, sizeof(ev));
	ev.type = CLU_EV_PEER_UNREACHABLE;
	ev.member = member;
	ev.version = p->version;
	bus_publish(BUS_CLUSTER, &ev);
}

int clu_peers_start(const struct sa_cluster_config *c)
{
	(void)c;
	return 0;
}

void clu_peers_stop(void)
{
	free(peers);
	peers = NULL;
	npeers = cap = 0;
}
