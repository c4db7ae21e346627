/* engine.c: the cluster engine's life: settings from its config section, the CRT loaded from the state file,
 * membership, then its parts (peers, sync, probe, ACLs); the registry's ops. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hex.h"
#include "common/log.h"
#include "engines/cluster/clu_etcd.h"
#include "engines/cluster/clu_host.h"
#include "engines/cluster/clu_int.h"
#include "engines/registry.h"

const struct clu_net_ops *clu_net;
static uint8_t engine_id[32];
static size_t engine_id_len;

void clu_net_ops_register(const struct clu_net_ops *ops)
{
	clu_net = ops;
}

void clu_engine_id_set(const uint8_t *id, size_t len)
{
	engine_id_len = len > sizeof(engine_id) ? sizeof(engine_id) : len;
	memcpy(engine_id, id, engine_id_len);
}

/* This agent's GUID: configured, else derived from its SNMP engine ID (stable across restarts), else from the
 * host name and initiator name. */
static int self_guid(const struct sa_cluster_config *c, uint8_t out[8], char *err, size_t errlen)
{
	char s[2 * sizeof(engine_id) + CLU_NAME_MAX + 80];
	size_t len;

	if (c->guid && c->guid[0]) {
		if (cm_hex_decode(c->guid, out, 8, &len) < 0 || len != 8) {
			snprintf(err, errlen, "guid must be 16 hexadecimal digits");
			return -EINVAL;
		}
		return 0;
	}
	if (engine_id_len) {
		clu_guid_hex(engine_id, engine_id_len, s, sizeof(s));
	} else {
		char host[64] = "";

		gethostname(host, sizeof(host) - 1);
		snprintf(s, sizeof(s), "%s/%s", host, c->initiator_name ? c->initiator_name : "");
	}
	clu_guid_hash(s, out);
	return 0;
}

static int settings(const struct sa_cluster_config *c, char *err, size_t errlen)
{
	uint8_t g[8];
	int rc;

	if ((rc = self_guid(c, g, err, errlen)) < 0)
		return rc;
	if (clu_m.running && memcmp(g, clu_m.self_guid, 8) != 0) {
		snprintf(err, errlen, "guid cannot change while the engine runs (restart the agent)");
		return -EINVAL;
	}
	memcpy(clu_m.self_guid, g, 8);
	clu_m.role = c->role && strcmp(c->role, "unit") == 0 ? CLU_ROLE_UNIT : CLU_ROLE_HOST;
	snprintf(clu_m.initiator_name, sizeof(clu_m.initiator_name), "%s", c->initiator_name ? c->initiator_name : "");
	clu_m.poll_interval = c->poll_interval;
	clu_m.sync_interval = c->sync_interval;
	clu_m.ownership_grace = c->ownership_grace;
	clu_m.enforce_acl = c->enforce_acl;
	return 0;
}

static void parts_stop(void)
{
	clu_host_stop();
	clu_acl_stop();
	clu_probe_stop();
	clu_etcd_stop();
	clu_sync_stop();
	clu_peers_stop();
}

static int parts_start(const struct sa_cluster_config *c, char *err, size_t errlen)
{
	int rc;

	if ((rc = clu_peers_start(c)) < 0) {
		snprintf(err, errlen, "peers: %s", strerror(-rc));
		return rc;
	}
	/* With etcd, etcd is the fabric services database: no peer sync of our own beside it. */
	if (c->etcd.present) {
		rc = clu_etcd_start(c, err, errlen);
	} else {
		clu_m.etcd_base = 0; /* a revision of an etcd this cluster no longer uses means nothing */
		rc = clu_sync_start(c, err, errlen);
	}
	if (rc < 0 || (rc = clu_probe_start(c, err, errlen)) < 0 || (rc = clu_acl_start(c, err, errlen)) < 0)
		return rc;
	if ((rc = clu_host_start(c)) < 0) {
		snprintf(err, errlen, "host side: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

void clu_stop(void)
{
	if (clu_m.running)
		parts_stop();
	clu_model_reset();
	clu_members_free();
	memset(&clu_m, 0, sizeof(clu_m));
}

int clu_start(const struct sa_cluster_config *c, char *err, size_t errlen)
{
	struct cm_state *st = sa_engines_state();
	int rc;

	if (clu_m.running)
		clu_stop();
	memset(&clu_m, 0, sizeof(clu_m));
	snprintf(clu_m.state_key, sizeof(clu_m.state_key), "%s",
	         c->state_key && c->state_key[0] ? c->state_key : "cluster");
	if ((rc = settings(c, err, errlen)) < 0)
		return rc;
	/* The granularity of the config is the first table's; afterwards it is the table's own (SNMP, peers). */
	clu_m.granularity =
	    c->granularity && strcmp(c->granularity, "device") == 0 ? CLU_GRAN_DEVICE : CLU_GRAN_CONTROLLER;
	clu_model_load(st);
	clu_members_load(st);
	if ((rc = clu_members_apply(c, err, errlen)) < 0) {
		clu_stop();
		return rc;
	}
	clu_m.running = 1;
	if ((rc = parts_start(c, err, errlen)) < 0) {
		clu_stop();
		return rc;
	}
	cm_log(CM_LOG_INFO, CLU_TAG, "started as %s: CRT version %u, %zu rows, %zu members",
	       clu_m.role == CLU_ROLE_UNIT ? "unit" : "host", (unsigned int)clu_m.ver.counter, clu_m.nrows,
	       clu_m.nmembers);
	return 0;
}

int clu_reload(const struct sa_cluster_config *c, char *err, size_t errlen)
{
	int rc;

	if (!clu_m.running)
		return clu_start(c, err, errlen);
	if ((rc = settings(c, err, errlen)) < 0 || (rc = clu_members_apply(c, err, errlen)) < 0)
		return rc;
	parts_stop();
	return parts_start(c, err, errlen);
}

int clu_running(void)
{
	return clu_m.running;
}

static int ops_start(const void *section, char *err, size_t errlen)
{
	if (!section) {
		snprintf(err, errlen, "no cluster section");
		return -EINVAL;
	}
	return clu_start(section, err, errlen);
}

static int ops_reload(const void *section, char *err, size_t errlen)
{
	if (!section) {
		snprintf(err, errlen, "no cluster section");
		return -EINVAL;
	}
	return clu_reload(section, err, errlen);
}

const struct sa_engine_ops clu_engine_ops = {
    .start = ops_start,
    .reload = ops_reload,
    .stop = clu_stop,
};
