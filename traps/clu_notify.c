/* clu_notify.c: the cluster engine's six notifications, from its events on BUS_CLUSTER: sanCluNewDevice,
 * sanCluDeviceGone, sanCluCrtChanged, sanCluConflict, sanCluPeerUnreachable, sanCluOwnershipLost. */
#include <config.h>

#include "common/bus.h"
#include "common/log.h"
#include "engines/cluster/clu_mib.h"
#include "engines/cluster/cluster.h"
#include "traps/notify.h"

static const oid res_entry[] = {CLU_OID_RES_ENTRY};
static const oid member_entry[] = {CLU_OID_MEMBER_ENTRY};
static const oid peer_entry[] = {CLU_OID_PEER_ENTRY};
static const oid conflict_entry[] = {CLU_OID_CONFLICT_ENTRY};

static int sub, active;
/* A probe of a new unit may find hundreds of devices at once: the table holds every row. */
static struct sa_notify_rate rate_dev = {.what = "sanCluNewDevice/sanCluDeviceGone", .per_sec = 50};
static struct sa_notify_rate rate_other = {.what = "cluster", .per_sec = 50};

struct col {
	const oid *entry;
	size_t entry_len;
	unsigned int col;
	sa_notify_column_fn get;
};

static int add_version(netsnmp_variable_list **vars, const struct clu_version *v, int with_writer)
{
	oid version_oid[] = {CLU_OID_SCALARS, CLU_S_VERSION, 0};
	oid writer_oid[] = {CLU_OID_SCALARS, CLU_S_VERSION_WRITER, 0};
	u_long c = v->counter;

	if (!snmp_varlist_add_variable(vars, version_oid, OID_LENGTH(version_oid), ASN_UNSIGNED, &c, sizeof(c)))
		return -1;
	if (with_writer &&
	    !snmp_varlist_add_variable(vars, writer_oid, OID_LENGTH(writer_oid), ASN_OCTET_STR, v->writer, 8))
		return -1;
	return 0;
}

/* snmpTrapOID.0 = what, then each column of its row at index, then the version when v is given. */
static void clu_send(unsigned int what, const char *name, const struct col *cols, size_t n, uint32_t index,
                     const struct clu_version *v)
{
	oid trap_oid[] = {CLU_OID_NOTIFICATIONS, what};
	netsnmp_variable_list *vars;

	if (!(vars = sa_notify_start(trap_oid, OID_LENGTH(trap_oid))))
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (sa_notify_add_column(&vars, cols[i].entry, cols[i].entry_len, cols[i].col, index, cols[i].get) < 0)
			goto fail;
	if (v && add_version(&vars, v, what == CLU_N_CRT_CHANGED) < 0)
		goto fail;
	sa_notify_send(vars, CM_LOG_INFO, "%s for row %u", name, (unsigned int)index);
	return;
fail:
	snmp_free_varbind(vars);
	cm_log(CM_LOG_ERR, "notify", "cannot build %s for row %u", name, (unsigned int)index);
}

#define RES(c)                                                                                                         \
	{                                                                                                              \
		res_entry, OID_LENGTH(res_entry), (c), sa_notify_tables->clu_res                                       \
	}

static void send_device(const struct clu_event *ev)
{
	const struct col cols[] = {RES(CLU_R_TYPE), RES(CLU_R_GUID), RES(CLU_R_PARENT), RES(CLU_R_NUMBER),
	                           RES(CLU_R_NAME)};
	int gone = ev->type == CLU_EV_DEVICE_GONE;

	if (sa_notify_allow(&rate_dev))
		clu_send(gone ? CLU_N_DEVICE_GONE : CLU_N_NEW_DEVICE, gone ? "sanCluDeviceGone" : "sanCluNewDevice",
		         cols, sizeof(cols) / sizeof(cols[0]), ev->index, &ev->version);
}

static void send_lost(const struct clu_event *ev)
{
	const struct col cols[] = {RES(CLU_R_TYPE), RES(CLU_R_NAME), RES(CLU_R_NUMBER), RES(CLU_R_OWNERSHIP)};

	if (sa_notify_allow(&rate_other))
		clu_send(CLU_N_OWNERSHIP_LOST, "sanCluOwnershipLost", cols, sizeof(cols) / sizeof(cols[0]), ev->index,
		         NULL);
}

static void send_changed(const struct clu_event *ev)
{
	if (sa_notify_allow(&rate_other))
		clu_send(CLU_N_CRT_CHANGED, "sanCluCrtChanged", NULL, 0, ev->version.counter, &ev->version);
}

static void send_conflict(const struct clu_event *ev)
{
#define K(c)                                                                                                           \
	{                                                                                                              \
		conflict_entry, OID_LENGTH(conflict_entry), (c), sa_notify_tables->clu_conflict                        \
	}
	const struct col cols[] = {K(CLU_K_LOST_VERSION), K(CLU_K_LOST_WRITER), K(CLU_K_WON_VERSION),
	                           K(CLU_K_WON_WRITER), K(CLU_K_DETAIL)};
	uint32_t i = 0, found = 0;

	/* The newest conflict row for this pair of versions. */
	while (clu_conflict_next(i, &i) == 0) {
		const struct clu_conflict *k = clu_conflict_get(i);

		if (clu_version_cmp(&k->lost, &ev->version) == 0 && clu_version_cmp(&k->won, &ev->other) == 0)
			found = i;
	}
	if (found && sa_notify_allow(&rate_other))
		clu_send(CLU_N_CONFLICT, "sanCluConflict", cols, sizeof(cols) / sizeof(cols[0]), found, NULL);
}

static void send_unreachable(const struct clu_event *ev)
{
	const struct col cols[] = {
	    {member_entry, OID_LENGTH(member_entry), CLU_M_ADDRESS, sa_notify_tables->clu_member},
	    {peer_entry, OID_LENGTH(peer_entry), CLU_P_FAILURES, sa_notify_tables->clu_peer},
	    {peer_entry, OID_LENGTH(peer_entry), CLU_P_LAST_ERROR, sa_notify_tables->clu_peer},
	};

	if (sa_notify_allow(&rate_other))
		clu_send(CLU_N_PEER_UNREACHABLE, "sanCluPeerUnreachable", cols, sizeof(cols) / sizeof(cols[0]),
		         ev->member, NULL);
}

static void on_event(int topic, const void *data, void *arg)
{
	const struct clu_event *ev = data;

	(void)topic;
	(void)arg;
	if (!active || !sa_notify_tables || !sa_notify_tables->clu_res)
		return;
	switch (ev->type) {
	case CLU_EV_CHANGED: send_changed(ev); break;
	case CLU_EV_NEW_DEVICE:
	case CLU_EV_DEVICE_GONE: send_device(ev); break;
	case CLU_EV_CONFLICT: send_conflict(ev); break;
	case CLU_EV_PEER_UNREACHABLE: send_unreachable(ev); break;
	case CLU_EV_OWNERSHIP_LOST: send_lost(ev); break;
	default: break;
	}
}

int sa_clu_notify_init(void)
{
	int rc;

	if (!sub) {
		if ((rc = bus_subscribe(BUS_CLUSTER, on_event, NULL)) < 0)
			return rc;
		sub = rc;
	}
	active = 1;
	return 0;
}

void sa_clu_notify_shutdown(void)
{
	active = 0;
}
