/* discPortalTable.c: sanDiscPortalTable, the portals of each discovered target, indexed by target and portal. */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "handlers/disc.h"
#include "handlers/redir.h"
#include "common/log.h"

static const oid portal_table_oid[] = {SA_OID_DISC_PORTAL_TABLE};
#define ROOT_LEN OID_LENGTH(portal_table_oid)

static int portal_value(const struct disc_portal *p, unsigned int col, netsnmp_variable_list *vb)
{
	u_char a[16];
	size_t len;
	int type;

	switch (col) {
	case H_DPOR_ADDR_TYPE:
	case H_DPOR_ADDR:
		type = h_redir_host_addr(p->family, p->host, a, &len);
		if (col == H_DPOR_ADDR_TYPE)
			h_redir_set_int(vb, type);
		else
			snmp_set_var_typed_value(vb, ASN_OCTET_STR, a, len);
		break;
	case H_DPOR_PORT: h_redir_set_u32(vb, ASN_UNSIGNED, p->port); break;
	case H_DPOR_TPGT: h_redir_set_u32(vb, ASN_UNSIGNED, p->tpgt); break;
	case H_DPOR_MECHANISM: h_redir_set_int(vb, p->mechanism); break;
	case H_DPOR_FIRST_SEEN: h_redir_set_time(vb, p->first_seen); break;
	case H_DPOR_LAST_SEEN: h_redir_set_time(vb, p->last_seen); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static void do_get(netsnmp_agent_request_info *reqinfo, netsnmp_request_info *r)
{
	netsnmp_variable_list *vb = r->requestvb;
	const struct disc_target *t;
	const struct disc_portal *p;
	size_t n = ROOT_LEN;

	if (vb->name_length < n + 2 || vb->name[n] != 1 || vb->name[n + 1] < H_DPOR_ADDR_TYPE ||
	    vb->name[n + 1] > H_DPOR_LAST_SEEN) {
		netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT);
		return;
	}
	if (vb->name_length != n + 4 || vb->name[n + 2] > UINT32_MAX || vb->name[n + 3] > UINT32_MAX ||
	    !(t = disc_target_find((uint32_t)vb->name[n + 2])) ||
	    !(p = disc_portal_find(t, (uint32_t)vb->name[n + 3])) ||
	    portal_value(p, (unsigned int)vb->name[n + 1], vb) != SNMP_ERR_NOERROR)
		netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
}

/* Column-major order over (target, portal): each step is one target
 * search plus a walk of that target's few portals. */
static void do_getnext(netsnmp_request_info *r)
{
	netsnmp_variable_list *vb = r->requestvb;
	size_t n = ROOT_LEN;
	unsigned int col = H_DPOR_ADDR_TYPE;
	uint32_t at = 0, ap = 0; /* continue after (at, ap) */
	int have_after = 0;
	oid out[MAX_OID_LEN];

	if (snmp_oid_compare(vb->name, vb->name_length, portal_table_oid, n) > 0 && vb->name_length > n) {
		if (vb->name[n] > 1)
			return;
		if (vb->name_length > n + 1) {
			if (vb->name[n + 1] > H_DPOR_LAST_SEEN)
				return;
			if (vb->name[n + 1] >= H_DPOR_ADDR_TYPE) {
				col = (unsigned int)vb->name[n + 1];
				if (vb->name_length > n + 2) {
					if (vb->name[n + 2] > UINT32_MAX) {
						col++;
					} else {
						at = (uint32_t)vb->name[n + 2];
						have_after = 1;
						/* x.col.t (no portal part) comes before every portal of t. */
						if (vb->name_length > n + 3) {
							if (vb->name[n + 3] >= UINT32_MAX)
								ap = UINT32_MAX;
							else
								ap = (uint32_t)vb->name[n + 3];
						} else {
							have_after = 2;
						}
					}
				}
			}
		}
	}
	for (; col <= H_DPOR_LAST_SEEN; col++, have_after = 0) {
		const struct disc_target *t;
		const struct disc_portal *p = NULL;

		if (have_after) {
			t = disc_target_find(at);
			if (t)
				p = have_after == 2 ? disc_portal_next(t, 0) : disc_portal_next(t, ap);
			if (!p)
				t = disc_target_next(at);
		} else {
			t = disc_target_next(0);
		}
		while (t && !p) {
			p = disc_portal_next(t, 0);
			if (!p)
				t = disc_target_next(t->index);
		}
		if (!t || !p)
			continue;
		memcpy(out, portal_table_oid, sizeof(portal_table_oid));
		out[n] = 1;
		out[n + 1] = col;
		out[n + 2] = t->index;
		out[n + 3] = p->index;
		snmp_set_var_objid(vb, out, n + 4);
		portal_value(p, col, vb);
		return;
	}
}

static int portal_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                          netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	netsnmp_request_info *r;

	(void)handler;
	(void)reginfo;
	for (r = requests; r; r = r->next) {
		if (r->processed)
			continue;
		if (reqinfo->mode == MODE_GET)
			do_get(reqinfo, r);
		else if (reqinfo->mode == MODE_GETNEXT)
			do_getnext(r);
		else
			netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOTWRITABLE);
	}
	return SNMP_ERR_NOERROR;
}

static netsnmp_handler_registration *portal_reg;

int h_disc_portal_table_init(void)
{
	netsnmp_handler_registration *reg;

	if (portal_reg)
		return 0;
	reg = netsnmp_create_handler_registration("sanDiscPortalTable", portal_handler, portal_table_oid, ROOT_LEN,
	                                          HANDLER_CAN_RONLY);
	if (!reg)
		return -ENOMEM;
	if (netsnmp_register_handler(reg) != MIB_REGISTERED_OK) {
		sa_log(SA_LOG_ERR, "handlers", "cannot register sanDiscPortalTable");
		return -EEXIST;
	}
	portal_reg = reg;
	return 0;
}

void h_disc_portal_table_shutdown(void)
{
	if (portal_reg) {
		netsnmp_unregister_handler(portal_reg);
		portal_reg = NULL;
	}
}
