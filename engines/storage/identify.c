/* identify.c: each LUN's identity (VPD 0x83 designator, vendor, model, capacity), asked by the storage agent
 * itself: a login to its own tgtd's first active portal as storage.probe_initiator, through libiscsi on the loop.
 * tgtadm does not say these; a cluster's hosts need the designator to see one LU behind two targets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engines/storage/stor_private.h"
#include "common/log.h"
#include "iscsi/vpd.h"

#define TAG STOR_TAG
#define MAX_JOBS 4      /* logins at once: a target with many new LUNs is one login */
#define RETRY_MS 30000u /* a failed probe is asked again after this pause */
#define JOB_TIMEOUT_MS 10000

/* One login in flight, for one target; it names the target by tid and IQN since the rows are rebuilt every
 * round. */
struct job {
	struct vpd_job *vj;
	uint32_t tid;
	char name[STOR_NAME_MAX];
	int again;      /* asked again after a failure: a second failure is not logged again */
	uint32_t *luns; /* the LUNs asked */
	size_t nluns;
	struct job *next;
};

static char *initiator;
static struct job *jobs;
static unsigned int njobs;
static int warned_portal;
static struct stor_identify_counters counters;
static uint64_t last_now;

const struct stor_identify_counters *stor_identify_counters(void)
{
	return &counters;
}

int stor_lun_identity(const struct stor_lun *l)
{
	if (!initiator)
		return STOR_ID_NOT_READ;
	return l->probed > 0 ? STOR_ID_READ : l->probed < 0 ? STOR_ID_FAILED : STOR_ID_PENDING;
}

static struct job *job_of(uint32_t tid)
{
	for (struct job *j = jobs; j; j = j->next)
		if (j->tid == tid)
			return j;
	return NULL;
}

static void job_drop(struct job *j)
{
	struct job **pp;

	for (pp = &jobs; *pp && *pp != j; pp = &(*pp)->next)
		;
	if (*pp) {
		*pp = j->next;
		njobs--;
	}
	free(j->luns);
	free(j);
}

static void job_done(void *arg, int rc, const struct vpd_lun_info *in, size_t n)
{
	struct job *j = arg;
	size_t nt;
	struct stor_target *v = stor_targets_mut(&nt), *t = NULL;

	counters.probes++;
	for (size_t i = 0; i < nt; i++)
		if (v[i].tid == j->tid && strcmp(v[i].name, j->name) == 0)
			t = &v[i];
	if (rc < 0) {
		counters.failures++;
		cm_log(j->again ? CM_LOG_DEBUG : CM_LOG_WARNING, TAG,
		       "cannot read the LUN identities of %s as %s: %s (again in %u s)", j->name,
		       initiator ? initiator : "", strerror(-rc), RETRY_MS / 1000);
	}
	/* Only the LUNs asked: a LUN that failed before keeps its failure until an answer comes, so that it never
	 * looks "not read yet" again (a host would take it for a LUN still being read). */
	for (size_t q = 0; t && q < j->nluns; q++) {
		struct stor_lun *l = NULL;

		for (size_t k = 0; k < t->nluns && !l; k++)
			if (t->luns[k].lun == j->luns[q])
				l = &t->luns[k];
		if (!l || l->probed > 0)
			continue;
		if (rc < 0) {
			l->probed = rc;
			l->retry_ms = last_now + RETRY_MS;
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if (in[i].lun != l->lun)
				continue;
			if (in[i].status < 0) {
				l->probed = in[i].status;
				l->retry_ms = last_now + RETRY_MS;
				break;
			}
			l->probed = 1;
			memcpy(l->designator, in[i].designator, in[i].designator_len);
			l->designator_len = in[i].designator_len;
			snprintf(l->vendor, sizeof(l->vendor), "%s", in[i].vendor);
			snprintf(l->model, sizeof(l->model), "%s", in[i].product);
			l->capacity = in[i].size;
			break;
		}
	}
	job_drop(j);
}

/* Where the agent reaches its own tgtd: the first portal tgt lists, a wildcard one through loopback. */
static int local_portal(char *out, size_t size)
{
	for (const struct stor_portal *p = stor_portal_next(0); p; p = stor_portal_next(p->index)) {
		const char *h = p->host;

		if (!p->active)
			continue;
		if (strcmp(h, "0.0.0.0") == 0)
			h = "127.0.0.1";
		else if (strcmp(h, "::") == 0)
			h = "::1";
		snprintf(out, size, strchr(h, ':') ? "[%s]:%u" : "%s:%u", h, (unsigned int)p->port);
		return 0;
	}
	return -ENOENT;
}

static void start_target(struct stor_target *t, const char *portal, uint64_t now_ms)
{
	struct job *j;
	struct vpd_request req;
	int rc;

	if (!(j = calloc(1, sizeof(*j))) || !(j->luns = calloc(t->nluns, sizeof(*j->luns)))) {
		free(j);
		return;
	}
	for (size_t k = 0; k < t->nluns; k++) {
		const struct stor_lun *l = &t->luns[k];

		if (!l->probed || (l->probed < 0 && now_ms >= l->retry_ms)) {
			j->luns[j->nluns++] = l->lun;
			j->again |= l->probed < 0;
		}
	}
	if (!j->nluns) {
		free(j->luns);
		free(j);
		return;
	}
	j->tid = t->tid;
	snprintf(j->name, sizeof(j->name), "%s", t->name);
	req = (struct vpd_request){.portal = portal,
	                           .target = t->name,
	                           .initiator = initiator,
	                           .luns = j->luns,
	                           .nluns = j->nluns,
	                           .timeout_ms = JOB_TIMEOUT_MS};
	if ((rc = vpd_probe(&req, job_done, j, &j->vj)) < 0) {
		counters.failures++;
		for (size_t k = 0; k < t->nluns; k++)
			if (t->luns[k].probed <= 0) {
				t->luns[k].probed = rc;
				t->luns[k].retry_ms = now_ms + RETRY_MS;
			}
		free(j->luns);
		free(j);
		return;
	}
	j->next = jobs;
	jobs = j;
	njobs++;
}

void stor_identify_round(uint64_t now_ms)
{
	char portal[STOR_HOST_MAX + 16];
	size_t nt;
	struct stor_target *v = stor_targets_mut(&nt);

	last_now = now_ms;
	if (!initiator || !initiator[0] || !nt)
		return;
	if (local_portal(portal, sizeof(portal)) < 0) {
		if (!warned_portal++)
			cm_log(CM_LOG_WARNING, TAG, "no active portal: LUN identities not read");
		/* Not "being read" either: failed, asked again once a portal is there. */
		for (size_t i = 0; i < nt; i++)
			for (size_t k = 0; k < v[i].nluns; k++)
				if (!v[i].luns[k].probed) {
					v[i].luns[k].probed = -ENOENT;
					v[i].luns[k].retry_ms = now_ms;
				}
		return;
	}
	warned_portal = 0;
	for (size_t i = 0; i < nt && njobs < MAX_JOBS; i++) {
		struct stor_target *t = &v[i];
		int due = 0;

		if (job_of(t->tid))
			continue;
		for (size_t k = 0; k < t->nluns && !due; k++)
			due = !t->luns[k].probed || (t->luns[k].probed < 0 && now_ms >= t->luns[k].retry_ms);
		if (due)
			start_target(t, portal, now_ms);
	}
}

void stor_identify_stop(void)
{
	while (jobs) {
		struct job *j = jobs;

		vpd_cancel(j->vj);
		job_drop(j);
	}
}

void stor_identify_configure(const struct sa_storage_config *cfg)
{
	const char *want = cfg && cfg->probe_initiator ? cfg->probe_initiator : "";

	if (initiator && strcmp(initiator, want) == 0)
		return;
	stor_identify_stop();
	free(initiator);
	initiator = want[0] ? strdup(want) : NULL;
	warned_portal = 0;
	/* Answers got as another initiator stay: the LU is the same whoever asks. */
}
