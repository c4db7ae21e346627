/* iscsiNodes.c: ISCSI-MIB instances, portals and nodes, read-only, from the session registry (initiator side,
 * instance 1) and the storage engine's view of tgt (target side, instance 2); h_iscsi_init() registers every table. */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include "engines/sessions.h"
#include "engines/storage/storage.h"
#include "handlers/handlers.h"
#include "handlers/iscsiTables.h"
#include "handlers/storTables.h"
#include "handlers/table.h"

static const oid inst_oid[] = {SA_OID_ISCSI_INST_TABLE};
static const oid portal_oid[] = {SA_OID_ISCSI_PORTAL_TABLE};
static const oid tgt_portal_oid[] = {SA_OID_ISCSI_TGT_PORTAL_TABLE};
static const oid node_oid[] = {SA_OID_ISCSI_NODE_TABLE};

u_long h_iscsi_timestamp(time_t t)
{
	time_t now = time(NULL);
	u_long up = netsnmp_get_agent_uptime();
	u_long ago;

	if (!t || t > now)
		return t ? up : 0;
	ago = (u_long)(now - t) * 100u;
	return ago < up ? up - ago : 0;
}

void h_iscsi_set_null_oid(netsnmp_variable_list *vb)
{
	static const oid zero[] = {0, 0};

	snmp_set_var_typed_value(vb, ASN_OBJECT_ID, zero, sizeof(zero));
}

/* BITS of one octet: bit n is 0x80 >> n. */
static void set_bits(netsnmp_variable_list *vb, unsigned int bit)
{
	u_char b = (u_char)(0x80u >> bit);

	h_set_octets(vb, &b, 1);
}

/* StorageType readOnly(5): the rows come from what runs, and nothing in them can be written here. */
#define H_ISCSI_ST_READ_ONLY 5

static int target_side(void)
{
	return stor_running();
}

/* ---- iscsiInstanceAttributesTable ----------------------------------------------------------------------------- */

static const struct h_column inst_cols[] = {
    {H_ISCSI_INST_DESCR, H_RO, H_SYN_ANY, 0, 0, 0},          {H_ISCSI_INST_VERSION_MIN, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_INST_VERSION_MAX, H_RO, H_SYN_ANY, 0, 0, 0},    {H_ISCSI_INST_VENDOR_ID, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_INST_VENDOR_VERSION, H_RO, H_SYN_ANY, 0, 0, 0}, {H_ISCSI_INST_PORTALS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_INST_NODES, H_RO, H_SYN_ANY, 0, 0, 0},          {H_ISCSI_INST_SESSIONS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_INST_SSN_FAILURES, H_RO, H_SYN_ANY, 0, 0, 0},   {H_ISCSI_INST_LAST_FAILURE_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_INST_LAST_RMT_NODE, H_RO, H_SYN_ANY, 0, 0, 0},  {H_ISCSI_INST_DISCONTINUITY, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_INST_XNODE_ARCH, H_RO, H_SYN_ANY, 0, 0, 0},
};

static int inst_next(const uint32_t *after, uint32_t *out)
{
	uint32_t a = after ? after[0] : 0;

	if (a < H_ISCSI_INST_INITIATOR)
		out[0] = H_ISCSI_INST_INITIATOR;
	else if (a < H_ISCSI_INST_TARGET && target_side())
		out[0] = H_ISCSI_INST_TARGET;
	else
		return -ENOENT;
	return 0;
}

static uint32_t tgt_counts(uint32_t *nsessions)
{
	uint32_t n = 0, s = 0;

	for (const struct stor_target *t = stor_target_next(0); t; t = stor_target_next(t->tid)) {
		n++;
		s += (uint32_t)t->nsessions;
	}
	*nsessions = s;
	return n;
}

static uint32_t portal_count(void)
{
	uint32_t n = 0;

	for (const struct stor_portal *p = stor_portal_next(0); p; p = stor_portal_next(p->index))
		n++;
	return n;
}

static int inst_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	int intr = idx[0] == H_ISCSI_INST_INITIATOR;
	uint32_t nsess = 0, nnodes = 0;

	if (!intr && (idx[0] != H_ISCSI_INST_TARGET || !target_side()))
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_ISCSI_INST_DESCR:
		h_set_str(vb, intr ? "initiator: the sessions this host opens" : "target: tgt's targets", 64);
		break;
	/* RFC 7143's version: 0 (Version-max and Version-min of its login PDUs). */
	case H_ISCSI_INST_VERSION_MIN:
	case H_ISCSI_INST_VERSION_MAX: h_set_u32(vb, ASN_UNSIGNED, 0); break;
	case H_ISCSI_INST_VENDOR_ID: h_set_str(vb, "sanagent", 16); break;
	case H_ISCSI_INST_VENDOR_VERSION: h_set_str(vb, PACKAGE_VERSION, 32); break;
	case H_ISCSI_INST_PORTALS:
		h_set_u32(vb, ASN_UNSIGNED, intr ? (uint32_t)sess_portal_count() : portal_count());
		break;
	case H_ISCSI_INST_NODES:
	case H_ISCSI_INST_SESSIONS:
		if (intr) {
			nnodes = (uint32_t)sess_node_count();
			nsess = (uint32_t)sess_count();
		} else {
			nnodes = tgt_counts(&nsess);
		}
		h_set_u32(vb, ASN_UNSIGNED, col == H_ISCSI_INST_NODES ? nnodes : nsess);
		break;
	case H_ISCSI_INST_SSN_FAILURES:
		/* tgt does not say why a nexus went: only the initiator side counts failures. */
		if (!intr)
			return SNMP_NOSUCHOBJECT;
		h_set_u32(vb, ASN_COUNTER, sess_fail_totals()->session_failures);
		break;
	case H_ISCSI_INST_LAST_FAILURE_TYPE:
		if (!intr)
			return SNMP_NOSUCHOBJECT;
		h_iscsi_set_null_oid(vb); /* the owners report a failure, not its kind */
		break;
	case H_ISCSI_INST_LAST_RMT_NODE:
		if (!intr)
			return SNMP_NOSUCHOBJECT;
		h_set_str(vb, sess_fail_totals()->last_remote, SESS_NAME_MAX);
		break;
	case H_ISCSI_INST_DISCONTINUITY: h_set_u32(vb, ASN_TIMETICKS, 0); break;
	case H_ISCSI_INST_XNODE_ARCH: h_set_str(vb, intr ? "sanagent libiscsi" : "sanagent tgt", 32); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_table_ops inst_ops = {.next = inst_next, .get = inst_get};
static struct h_table inst_table = {
    .name = "iscsiInstanceAttributesTable",
    .root = inst_oid,
    .root_len = OID_LENGTH(inst_oid),
    .nindex = 1,
    .cols = inst_cols,
    .ncols = sizeof(inst_cols) / sizeof(inst_cols[0]),
    .ops = &inst_ops,
};

/* ---- portals: the initiator's source addresses (instance 1), tgt's portals (instance 2, sanStorPortalTable's
 * rows, same index) ---- */

/* The target portal after {inst, index} (the target-portal table's {2, index, 0} too: one row per portal). */
static const struct stor_portal *portal_after(const uint32_t *after)
{
	if (!target_side() || (after && after[0] > H_ISCSI_INST_TARGET))
		return NULL;
	return stor_portal_next(after && after[0] == H_ISCSI_INST_TARGET ? after[1] : 0);
}

static int portal_next(const uint32_t *after, uint32_t *out)
{
	const struct sess_portal_view *ip = NULL;
	const struct stor_portal *p;

	if (!after || after[0] <= H_ISCSI_INST_INITIATOR)
		ip = sess_portal_next(after && after[0] == H_ISCSI_INST_INITIATOR ? after[1] : 0);
	if (ip) {
		out[0] = H_ISCSI_INST_INITIATOR;
		out[1] = ip->index;
		return 0;
	}
	p = portal_after(after && after[0] >= H_ISCSI_INST_TARGET ? after : NULL);
	if (!p)
		return -ENOENT;
	out[0] = H_ISCSI_INST_TARGET;
	out[1] = p->index;
	return 0;
}

static const struct stor_portal *portal_at(const uint32_t *idx)
{
	return idx[0] == H_ISCSI_INST_TARGET && target_side() ? stor_portal_find(idx[1]) : NULL;
}

static const struct h_column portal_cols[] = {
    {H_ISCSI_PORTAL_ROW_STATUS, H_RO, H_SYN_ANY, 0, 0, 0}, {H_ISCSI_PORTAL_ROLES, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_PORTAL_ADDR_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},  {H_ISCSI_PORTAL_ADDR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_PORTAL_PROTOCOL, H_RO, H_SYN_ANY, 0, 0, 0},   {H_ISCSI_PORTAL_STORAGE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_PORTAL_DESCR, H_RO, H_SYN_ANY, 0, 0, 0},
};

static int intr_portal_get(const struct sess_portal_view *ip, unsigned int col, netsnmp_variable_list *vb)
{
	switch (col) {
	case H_ISCSI_PORTAL_ROW_STATUS: h_set_int(vb, RS_ACTIVE); break;
	case H_ISCSI_PORTAL_ROLES: set_bits(vb, 1); break; /* initiatorTypePortal */
	case H_ISCSI_PORTAL_ADDR_TYPE: h_stor_set_addr(vb, ip->addr, 1); break;
	case H_ISCSI_PORTAL_ADDR: h_stor_set_addr(vb, ip->addr, 0); break;
	case H_ISCSI_PORTAL_PROTOCOL: h_set_u32(vb, ASN_UNSIGNED, H_ISCSI_PROTO_TCP); break;
	case H_ISCSI_PORTAL_STORAGE: h_set_int(vb, H_ISCSI_ST_READ_ONLY); break;
	case H_ISCSI_PORTAL_DESCR: h_set_str(vb, "libiscsi", 16); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static int portal_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct stor_portal *p = portal_at(idx);
	const struct sess_portal_view *ip = idx[0] == H_ISCSI_INST_INITIATOR ? sess_portal_find(idx[1]) : NULL;

	if (ip)
		return intr_portal_get(ip, col, vb);
	if (!p)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	/* Read-only here: sanStorPortalRowStatus creates and destroys portals. */
	case H_ISCSI_PORTAL_ROW_STATUS: h_set_int(vb, p->active ? RS_ACTIVE : RS_NOTREADY); break;
	case H_ISCSI_PORTAL_ROLES: set_bits(vb, 0); break; /* targetTypePortal */
	case H_ISCSI_PORTAL_ADDR_TYPE: h_stor_set_addr(vb, p->host, 1); break;
	case H_ISCSI_PORTAL_ADDR: h_stor_set_addr(vb, p->host, 0); break;
	case H_ISCSI_PORTAL_PROTOCOL: h_set_u32(vb, ASN_UNSIGNED, H_ISCSI_PROTO_TCP); break;
	case H_ISCSI_PORTAL_STORAGE: h_set_int(vb, p->storage); break;
	case H_ISCSI_PORTAL_DESCR: h_set_str(vb, p->ifname[0] ? p->ifname : "tgt", STOR_IFNAME_MAX); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_table_ops portal_ops = {.next = portal_next, .get = portal_get};
static struct h_table portal_table = {
    .name = "iscsiPortalAttributesTable",
    .root = portal_oid,
    .root_len = OID_LENGTH(portal_oid),
    .nindex = 2,
    .cols = portal_cols,
    .ncols = sizeof(portal_cols) / sizeof(portal_cols[0]),
    .ops = &portal_ops,
};

/* iscsiTgtPortalAttributesTable: tgt's portal tag (TPGT) is the portal's, whatever the target: node index 0. */
static int tgt_portal_next(const uint32_t *after, uint32_t *out)
{
	const struct stor_portal *p = portal_after(after);

	if (!p)
		return -ENOENT;
	out[0] = H_ISCSI_INST_TARGET;
	out[1] = p->index;
	out[2] = 0;
	return 0;
}

static const struct h_column tgt_portal_cols[] = {
    {H_ISCSI_TGT_PORTAL_PORT, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_TGT_PORTAL_TAG, H_RO, H_SYN_ANY, 0, 0, 0},
};

static int tgt_portal_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct stor_portal *p = idx[2] == 0 ? portal_at(idx) : NULL;

	if (!p)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_ISCSI_TGT_PORTAL_PORT: h_set_u32(vb, ASN_UNSIGNED, p->port); break;
	case H_ISCSI_TGT_PORTAL_TAG:
		if (!p->tpgt)
			return SNMP_NOSUCHOBJECT; /* tgt has not listed it yet */
		h_set_u32(vb, ASN_UNSIGNED, p->tpgt);
		break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_table_ops tgt_portal_ops = {.next = tgt_portal_next, .get = tgt_portal_get};
static struct h_table tgt_portal_table = {
    .name = "iscsiTgtPortalAttributesTable",
    .root = tgt_portal_oid,
    .root_len = OID_LENGTH(tgt_portal_oid),
    .nindex = 3,
    .cols = tgt_portal_cols,
    .ncols = sizeof(tgt_portal_cols) / sizeof(tgt_portal_cols[0]),
    .ops = &tgt_portal_ops,
};

/* ---- nodes: initiator names (instance 1), tgt's targets by tid (instance 2) ----------------------------------- */

int h_iscsi_intr_node_next(const uint32_t *after, uint32_t *out)
{
	const struct sess_node_view *n;

	if (after && after[0] > H_ISCSI_INST_INITIATOR)
		return -ENOENT;
	n = sess_node_next(after && after[0] == H_ISCSI_INST_INITIATOR ? after[1] : 0);
	if (!n)
		return -ENOENT;
	out[0] = H_ISCSI_INST_INITIATOR;
	out[1] = n->index;
	return 0;
}

int h_iscsi_tgt_node_next(const uint32_t *after, uint32_t *out)
{
	const struct stor_target *t;

	if (!target_side() || (after && after[0] > H_ISCSI_INST_TARGET))
		return -ENOENT;
	t = stor_target_next(after && after[0] == H_ISCSI_INST_TARGET ? after[1] : 0);
	if (!t)
		return -ENOENT;
	out[0] = H_ISCSI_INST_TARGET;
	out[1] = t->tid;
	return 0;
}

static int node_next(const uint32_t *after, uint32_t *out)
{
	if (h_iscsi_intr_node_next(after, out) == 0)
		return 0;
	return h_iscsi_tgt_node_next(after && after[0] >= H_ISCSI_INST_TARGET ? after : NULL, out);
}

static const struct h_column node_cols[] = {
    {H_ISCSI_NODE_NAME, H_RO, H_SYN_ANY, 0, 0, 0},          {H_ISCSI_NODE_ALIAS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_NODE_ROLES, H_RO, H_SYN_ANY, 0, 0, 0},         {H_ISCSI_NODE_TRANSPORT, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_ISCSI_NODE_DISCONTINUITY, H_RO, H_SYN_ANY, 0, 0, 0}, {H_ISCSI_NODE_STORAGE, H_RO, H_SYN_ANY, 0, 0, 0},
};

static int node_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct sess_node_view *n = NULL;
	const struct stor_target *t = NULL;

	if (idx[0] == H_ISCSI_INST_INITIATOR)
		n = sess_node_find(idx[1]);
	else if (idx[0] == H_ISCSI_INST_TARGET && target_side())
		t = stor_target_find(idx[1]);
	if (!n && !t)
		return SNMP_NOSUCHINSTANCE;
	switch (col) {
	case H_ISCSI_NODE_NAME: h_set_str(vb, n ? n->name : t->name, SESS_NAME_MAX); break;
	case H_ISCSI_NODE_ALIAS: h_set_str(vb, "", 1); break;
	case H_ISCSI_NODE_ROLES: set_bits(vb, n ? 1 : 0); break;      /* initiatorTypeNode, targetTypeNode */
	case H_ISCSI_NODE_TRANSPORT: h_iscsi_set_null_oid(vb); break; /* no SCSI-MIB here */
	case H_ISCSI_NODE_DISCONTINUITY: h_set_u32(vb, ASN_TIMETICKS, 0); break;
	case H_ISCSI_NODE_STORAGE: h_set_int(vb, H_ISCSI_ST_READ_ONLY); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_table_ops node_ops = {.next = node_next, .get = node_get};
static struct h_table node_table = {
    .name = "iscsiNodeAttributesTable",
    .root = node_oid,
    .root_len = OID_LENGTH(node_oid),
    .nindex = 2,
    .cols = node_cols,
    .ncols = sizeof(node_cols) / sizeof(node_cols[0]),
    .ops = &node_ops,
};

/* ---- registration: every table is there whatever runs; target-side rows only while the storage side runs ---- */

static struct h_table *const tables[] = {&inst_table, &portal_table, &tgt_portal_table, &node_table};

void h_iscsi_nodes_shutdown(void)
{
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		h_table_unregister(tables[i]);
}

int h_iscsi_nodes_init(void)
{
	int rc;

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		if ((rc = h_table_register(tables[i])) < 0) {
			h_iscsi_nodes_shutdown();
			return rc;
		}
	}
	return 0;
}

void h_iscsi_shutdown(void)
{
	h_iscsi_sessions_shutdown();
	h_iscsi_logins_shutdown();
	h_iscsi_nodes_shutdown();
}

int h_iscsi_init(void)
{
	int rc;

	if ((rc = h_iscsi_nodes_init()) < 0 || (rc = h_iscsi_logins_init()) < 0 || (rc = h_iscsi_sessions_init()) < 0) {
		h_iscsi_shutdown();
		return rc;
	}
	return 0;
}
