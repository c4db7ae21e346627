/* sessionTable.c: sanSessionWindow and sanSessionTable, read live from the session registry; sanSessionLogout. */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "engines/sessions.h"
#include "handlers/redir.h"
#include "handlers/table.h"
#include "handlers/sessmib.h"
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

static int readable(unsigned int col)
{
	return col >= H_SESS_INITIATOR && col <= H_SESS_LOGOUT;
}

static uint32_t next_row(uint32_t after)
{
	const struct sess_view *s = sess_next(after);

	return s ? s->id : 0;
}

/* RESERVE1 of one varbind: the SNMP error, or 0. */
static int check_logout(const netsnmp_variable_list *vb, unsigned int col, uint32_t id)
{
	const struct sess_view *s;
	long v;

	if (col != H_SESS_LOGOUT)
		return col > H_SESS_ID && col < H_SESS_LOGOUT ? SNMP_ERR_NOTWRITABLE : SNMP_ERR_NOCREATION;
	if (!(s = sess_find(id)))
		return SNMP_ERR_NOCREATION; /* rows are the registry's: none is created over SNMP */
	if (vb->type != ASN_INTEGER)
		return SNMP_ERR_WRONGTYPE;
	if (vb->val_len != sizeof(long))
		return SNMP_ERR_WRONGLENGTH;
	v = *vb->val.integer;
	if (v != H_SESS_LOGOUT_NONE && v != H_SESS_LOGOUT_LOGOUT)
		return SNMP_ERR_WRONGVALUE;
	/* A session whose owner cannot log it out (the redirector's short
	 * probes, an owner without the verb) refuses, as the MIB says. */
	if (v == H_SESS_LOGOUT_LOGOUT && !s->can_logout)
		return SNMP_ERR_INCONSISTENTVALUE;
	return 0;
}

static int table_set(struct h_redir_table *t, netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	netsnmp_request_info *r;

	for (r = requests; r; r = r->next) {
		netsnmp_variable_list *vb = r->requestvb;
		unsigned int col;
		uint32_t id;
		int err, rc;

		if (r->processed)
			continue;
		if (h_redir_parse(t, vb, &col, &id) < 0) {
			if (reqinfo->mode == MODE_SET_RESERVE1)
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOCREATION);
			continue;
		}
		switch (reqinfo->mode) {
		case MODE_SET_RESERVE1:
			if ((err = check_logout(vb, col, id)) != 0)
				netsnmp_set_request_error(reqinfo, r, err);
			break;
		case MODE_SET_ACTION:
			/* A logout cannot be taken back, but it is the table's only
			 * writable object: it runs here so that a refusal still fails
			 * the PDU rather than being lost in COMMIT. */
			if (*vb->val.integer != H_SESS_LOGOUT_LOGOUT)
				break;
			if ((rc = sess_logout(id)) < 0) {
				sa_log(SA_LOG_WARNING, "handlers", "sanSessionLogout.%u: %s", (unsigned int)id,
				       strerror(-rc));
				netsnmp_set_request_error(reqinfo, r,
				                          rc == -ENOENT || rc == -EOPNOTSUPP || rc == -ENODEV
				                              ? SNMP_ERR_INCONSISTENTVALUE
				                              : h_table_err(rc, H_PHASE_ACTION));
			}
			break;
		default: break; /* RESERVE2, COMMIT, FREE, UNDO: nothing held, nothing to undo */
		}
	}
	return SNMP_ERR_NOERROR;
}

static struct h_redir_table session_table = {
    .name = "sanSessionTable",
    .root = table_oid,
    .root_len = OID_LENGTH(table_oid),
    .min_col = H_SESS_ID,
    .max_col = H_SESS_LOGOUT,
    .writable = 1,
    .readable = readable,
    .next = next_row,
    .get = h_session_get,
    .set = table_set,
};

static int window_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                          netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	netsnmp_request_info *r;

	(void)handler;
	(void)reginfo;
	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	for (r = requests; r; r = r->next)
		if (!r->processed)
			h_redir_set_u32(r->requestvb, ASN_UNSIGNED, sess_window());
	return SNMP_ERR_NOERROR;
}

static netsnmp_handler_registration *window_reg;

void h_session_shutdown(void)
{
	h_redir_table_unregister(&session_table);
	if (window_reg) {
		netsnmp_unregister_handler(window_reg);
		window_reg = NULL;
	}
}

/* The table is there whatever engines run: data-plane paths, discovery
 * sessions and probes all report here. */
int h_session_init(void)
{
	int rc;

	if (!window_reg) {
		window_reg = netsnmp_create_handler_registration("sanSessionWindow", window_handler, window_oid,
		                                                 OID_LENGTH(window_oid), HANDLER_CAN_RONLY);
		if (!window_reg)
			return -ENOMEM;
		if (netsnmp_register_scalar(window_reg) != MIB_REGISTERED_OK) {
			window_reg = NULL;
			sa_log(SA_LOG_ERR, "handlers", "cannot register sanSessionWindow");
			return -EEXIST;
		}
	}
	if ((rc = h_redir_table_register(&session_table)) < 0) {
		h_session_shutdown();
		return rc;
	}
	return 0;
}
