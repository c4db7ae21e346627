/* storIsns.c: sanStorIsns, tgt's iSNS registration (on or off) and the iSNS server it registers with. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "handlers/redirTables.h"
#include "handlers/scalars.h"
#include "handlers/storTables.h"

static const oid isns_oid[] = {SA_OID_STOR_ISNS};

static const struct h_column isns_objs[] = {
    {H_SISNS_ENABLE, H_RW, H_SYN_TRUTH, 0, 0, 0},
    {H_SISNS_ADDR_TYPE, H_RW, H_SYN_INT, 0, 0, 2}, /* unknown(0) with an empty address: no server */
    {H_SISNS_ADDR, H_RW, H_SYN_OCTETS, 0, 0, 16},
    {H_SISNS_PORT, H_RW, H_SYN_UINT, 0, 1, 65535},
};

struct isns_image {
	int on;
	long addr_type;
	u_char addr[16];
	size_t addr_len;
	uint32_t port;
};

static void to_image(const struct stor_isns *s, struct isns_image *w)
{
	memset(w, 0, sizeof(*w));
	w->on = s->on;
	w->port = s->port;
	if (s->server[0])
		w->addr_type = h_redir_host_addr(0, s->server, w->addr, &w->addr_len);
}

static int isns_get(unsigned int sub, netsnmp_variable_list *vb)
{
	struct stor_isns s;
	struct isns_image w;

	stor_isns_get(&s);
	to_image(&s, &w);
	switch (sub) {
	case H_SISNS_ENABLE: h_set_int(vb, w.on ? 1 : 2); break;
	case H_SISNS_ADDR_TYPE: h_set_int(vb, w.addr_type); break;
	case H_SISNS_ADDR: h_set_octets(vb, w.addr, w.addr_type ? w.addr_len : 0); break;
	case H_SISNS_PORT: h_set_u32(vb, ASN_UNSIGNED, w.port); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static void isns_load(void *image)
{
	struct stor_isns s;

	stor_isns_get(&s);
	to_image(&s, image);
}

static int isns_store(void *image, unsigned int sub, const netsnmp_variable_list *vb)
{
	struct isns_image *w = image;

	switch (sub) {
	case H_SISNS_ENABLE: return h_put_bool(&w->on, vb);
	case H_SISNS_ADDR_TYPE: return h_put_long(&w->addr_type, vb);
	case H_SISNS_ADDR: return h_put_octets(w->addr, &w->addr_len, sizeof(w->addr), vb);
	case H_SISNS_PORT: return h_put_u32(&w->port, vb);
	default: return 0;
	}
}

/* The image as the engine's settings: -EINVAL for an address that does not fit its type. */
static int from_image(const struct isns_image *w, struct stor_isns *s)
{
	memset(s, 0, sizeof(*s));
	s->on = w->on;
	s->port = (uint16_t)w->port;
	if (w->addr_type == 0 && w->addr_len == 0)
		return 0;
	if ((w->addr_type == 1 && w->addr_len == 4) || (w->addr_type == 2 && w->addr_len == 16))
		return inet_ntop(w->addr_type == 2 ? AF_INET6 : AF_INET, w->addr, s->server, sizeof(s->server))
		           ? 0
		           : -EINVAL;
	return w->addr_len && w->addr_len != 4 && w->addr_len != 16 ? -EMSGSIZE : -EDOM;
}

static int isns_check(struct h_scalar_txn *x)
{
	struct stor_isns s;
	int rc = from_image(x->work, &s);

	return rc < 0 ? rc : stor_isns_validate(&s);
}

static int isns_apply(struct h_scalar_txn *x)
{
	struct stor_isns s;
	int rc = from_image(x->work, &s);

	if (rc == 0 && (rc = stor_isns_set(&s)) == 0)
		x->done = 1;
	return rc;
}

static int isns_undo(struct h_scalar_txn *x)
{
	struct stor_isns s;

	if (!x->done)
		return 0;
	x->done = 0;
	return from_image(x->old, &s) < 0 ? 0 : stor_isns_set(&s);
}

static const struct h_scalar_ops isns_ops = {
    .get = isns_get,
    .load = isns_load,
    .store = isns_store,
    .check = isns_check,
    .apply = isns_apply,
    .undo = isns_undo,
};

static struct h_scalar_group isns = {
    .name = "sanStorIsns",
    .root = isns_oid,
    .root_len = OID_LENGTH(isns_oid),
    .objs = isns_objs,
    .nobjs = sizeof(isns_objs) / sizeof(isns_objs[0]),
    .image_size = sizeof(struct isns_image),
    .writable = 1,
    .ops = &isns_ops,
};

int h_stor_isns_init(void)
{
	return h_scalar_register(&isns);
}

void h_stor_isns_shutdown(void)
{
	h_scalar_unregister(&isns);
}
