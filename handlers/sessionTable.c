/* sessionTable.c: sanSessionWindow and sanSessionTable, read live from the session registry; sanSessionLogout. */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "engines/sessions.h"
#include "handlers/redirTables.h"
#include "handlers/scalars.h"
#include "handlers/table.h"
#include "handlers/sessionTables.h"
#include "common/log.h"

static const oid window_oid[] = {SA_OID_SESS_WINDOW};
static const oid table_oid[] = {SA_OID_SESS_TABLE};

static void set_addr(netsnmp_variable_list *vb, const char *host, int want_type)
{
	u_char a[16];
	size_t len;
	int type = host[0] ? h_redir_host_addr(AF_UNSPEC, host, a, &len) : 0;

	if (!host[0])
		len = 0;
	if (want_type)
		h_redir_set_int(vb, type);
	else
		snmp_set_var_typed_value(vb, ASN_OCTET_STR, a, len);
}

int h_session_get(uint32_t id, unsigned int col, netsnmp_variable_list *vb)
{
	const struct sess_view *s = sess_find(id);
	const struct sess_info *in;

	if (!s)
		return SNMP_NOSUCHINSTANCE;
	in = &s->info;
	switch (col) {
	case H_SESS_INITIATOR: h_redir_set_str(vb, in->initiator, sizeof(in->initiator)); break;
	case H_SESS_TARGET: h_redir_set_str(vb, in->target, sizeof(in->target)); break;
	case H_SESS_PORTAL_TYPE: set_addr(vb, in->portal_addr, 1); break;
	case H_SESS_PORTAL_ADDR: set_addr(vb, in->portal_addr, 0); break;
	case H_SESS_PORTAL_PORT: h_redir_set_u32(vb, ASN_UNSIGNED, in->portal_port); break;
	case H_SESS_SRC_TYPE: set_addr(vb, in->src_addr, 1); break;
	case H_SESS_SRC_ADDR: set_addr(vb, in->src_addr, 0); break;
	case H_SESS_ISID: snmp_set_var_typed_value(vb, ASN_OCTET_STR, in->isid, sizeof(in->isid)); break;
	case H_SESS_TSIH: h_redir_set_u32(vb, ASN_UNSIGNED, in->tsih & 0xffffu); break;
	case H_SESS_TYPE: h_redir_set_int(vb, in->type); break;
	case H_SESS_OWNER: h_redir_set_int(vb, in->owner); break;
	case H_SESS_STATE: h_redir_set_int(vb, in->state); break;
	case H_SESS_LOGIN_TIME:
		if (in->login_time)
			h_redir_set_time(vb, in->login_time);
		else /* not logged in: the all-zero value the MIB documents */
			snmp_set_var_typed_value(vb, ASN_OCTET_STR, "\0\0\0\0\0\0\0\0", 8);
		break;
	case H_SESS_TX_BYTES: h_redir_set_u64(vb, ASN_COUNTER64, s->c.tx_bytes); break;
	case H_SESS_RX_BYTES: h_redir_set_u64(vb, ASN_COUNTER64, s->c.rx_bytes); break;
	case H_SESS_COMMANDS: h_redir_set_u64(vb, ASN_COUNTER64, s->c.cmds); break;
	case H_SESS_DIGEST_ERRORS: h_redir_set_u32(vb, ASN_COUNTER, s->c.digest_errors); break;
	case H_SESS_TIMEOUT_ERRORS: h_redir_set_u32(vb, ASN_COUNTER, s->c.timeout_errors); break;
	case H_SESS_TX_RATE: h_redir_set_u32(vb, ASN_GAUGE, s->m.tx_rate); break;
	case H_SESS_TX_RATE_MAX: h_redir_set_u32(vb, ASN_GAUGE, s->m.tx_rate_max); break;
	case H_SESS_TX_RATE_MIN: h_redir_set_u32(vb, ASN_GAUGE, s->m.tx_rate_min); break;
	case H_SESS_TX_RATE_AVG: h_redir_set_u32(vb, ASN_GAUGE, s->m.tx_rate_avg); break;
	case H_SESS_ERROR_RATE: h_redir_set_u32(vb, ASN_GAUGE, s->m.error_rate); break;
	case H_SESS_LATENCY_AVG: h_redir_set_u32(vb, ASN_GAUGE, s->m.latency_avg); break;
	case H_SESS_LATENCY_MAX: h_redir_set_u32(vb, ASN_GAUGE, s->m.latency_max); break;
	case H_SESS_LOGIN: h_redir_set_u32(vb, ASN_UNSIGNED, in->login); break;
	case H_SESS_TEAM: h_redir_set_u32(vb, ASN_UNSIGNED, in->team); break;
	case H_SESS_PATH: h_redir_set_u32(vb, ASN_UNSIGNED, in->path); break;
	case H_SESS_LOGOUT: h_redir_set_int(vb, H_SESS_LOGOUT_NONE); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_column session_cols[] = {
    {H_SESS_ID, H_NA, H_SYN_ANY, 0, 0, 0},
    {H_SESS_INITIATOR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_TARGET, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_PORTAL_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_PORTAL_ADDR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_PORTAL_PORT, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_SRC_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_SRC_ADDR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_ISID, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_TSIH, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_OWNER, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_STATE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_LOGIN_TIME, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_TX_BYTES, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_RX_BYTES, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_COMMANDS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_DIGEST_ERRORS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_TIMEOUT_ERRORS, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_TX_RATE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_TX_RATE_MAX, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_TX_RATE_MIN, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_TX_RATE_AVG, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_ERROR_RATE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_LATENCY_AVG, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_LATENCY_MAX, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_LOGIN, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_TEAM, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_PATH, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_SESS_LOGOUT, H_RW, H_SYN_INT, 0, H_SESS_LOGOUT_NONE, H_SESS_LOGOUT_LOGOUT},
};

static int next_row(const uint32_t *after, uint32_t *out)
{
	const struct sess_view *s = sess_next(after ? after[0] : 0);

	if (!s)
		return -ENOENT;
	out[0] = s->id;
	return 0;
}

static int row_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	return h_session_get(idx[0], col, vb);
}

/* The row image: the one writable column. Rows are the registry's: none is
 * created over SNMP. */
struct sess_image {
	int logout;
};

static int row_load(const uint32_t *idx, void *image)
{
	((struct sess_image *)image)->logout = H_SESS_LOGOUT_NONE;
	return sess_find(idx[0]) ? 0 : -ENOENT;
}

static int row_store(void *image, unsigned int col, const netsnmp_variable_list *vb)
{
	return col == H_SESS_LOGOUT ? h_put_int(&((struct sess_image *)image)->logout, vb) : 0;
}

static int row_check(struct h_row *row, struct h_txn *txn)
{
	const struct sess_image *w = row->work;

	(void)txn;
	return w->logout == H_SESS_LOGOUT_LOGOUT ? sess_logout_validate(row->idx[0]) : 0;
}

static int row_action(struct h_row *row, struct h_txn *txn)
{
	const struct sess_image *w = row->work;
	int rc;

	(void)txn;
	/* A logout cannot be taken back, but it is the table's only writable
	 * object: it runs here so that a refusal still fails the PDU rather
	 * than being lost in COMMIT. */
	if (w->logout != H_SESS_LOGOUT_LOGOUT)
		return 0;
	if ((rc = sess_logout(row->idx[0])) < 0)
		cm_log(CM_LOG_WARNING, "handlers", "sanSessionLogout.%u: %s", (unsigned int)row->idx[0], strerror(-rc));
	return rc;
}

static const struct h_table_ops session_ops = {
    .next = next_row,
    .get = row_get,
    .load = row_load,
    .store = row_store,
    .check = row_check,
    .action = row_action,
};

static struct h_table session_table = {
    .name = "sanSessionTable",
    .root = table_oid,
    .root_len = OID_LENGTH(table_oid),
    .nindex = 1,
    .cols = session_cols,
    .ncols = sizeof(session_cols) / sizeof(session_cols[0]),
    .image_size = sizeof(struct sess_image),
    .writable = 1,
    .ops = &session_ops,
};

/* sanSessionWindow: one read-only object at its own OID. */
static const struct h_column window_objs[] = {H_SCALAR_RO(0)};

static int window_get(unsigned int sub, netsnmp_variable_list *vb)
{
	(void)sub;
	h_set_u32(vb, ASN_UNSIGNED, sess_window());
	return SNMP_ERR_NOERROR;
}

static const struct h_scalar_ops window_ops = {.get = window_get};
static struct h_scalar_group window = {
    .name = "sanSessionWindow",
    .root = window_oid,
    .root_len = OID_LENGTH(window_oid),
    .objs = window_objs,
    .nobjs = 1,
    .ops = &window_ops,
};

void h_session_shutdown(void)
{
	h_table_unregister(&session_table);
	h_scalar_unregister(&window);
}

/* The table is there whatever engines run: data-plane paths, discovery
 * sessions and probes all report here. */
int h_session_init(void)
{
	int rc;

	if ((rc = h_scalar_register(&window)) < 0)
		return rc;
	if ((rc = h_table_register(&session_table)) < 0) {
		h_session_shutdown();
		return rc;
	}
	return 0;
}
