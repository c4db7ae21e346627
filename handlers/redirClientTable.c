/* redirClientTable.c: sanRedirClientTable, the client sessions the redirector portal has seen (read-only, live). */
#include <config.h>

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "handlers/redirTables.h"
#include "handlers/table.h"

static const oid client_table_oid[] = {SA_OID_REDIR_CLIENT_TABLE};

static const struct h_column client_cols[] = {
    {H_CLI_INDEX, H_NA, H_SYN_ANY, 0, 0, 0},     {H_CLI_INITIATOR, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_CLI_ISID, H_RO, H_SYN_ANY, 0, 0, 0},      {H_CLI_SRC_TYPE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_CLI_SRC_ADDR, H_RO, H_SYN_ANY, 0, 0, 0},  {H_CLI_SRC_PORT, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_CLI_TARGET, H_RO, H_SYN_ANY, 0, 0, 0},    {H_CLI_RESOURCE, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_CLI_SERVER, H_RO, H_SYN_ANY, 0, 0, 0},    {H_CLI_FIRST_SEEN, H_RO, H_SYN_ANY, 0, 0, 0},
    {H_CLI_LAST_SEEN, H_RO, H_SYN_ANY, 0, 0, 0}, {H_CLI_LOGINS, H_RO, H_SYN_ANY, 0, 0, 0},
};

static int cli_next(const uint32_t *after, uint32_t *out)
{
	const struct redir_client *c = redir_client_next(after ? after[0] : 0);

	if (!c)
		return -ENOENT;
	out[0] = c->index;
	return 0;
}

/* InetAddressType/InetAddress/InetPortNumber of the login's source. */
static int source(const struct redir_client *c, const u_char **addr, size_t *len, unsigned int *port)
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)&c->source;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&c->source;

	switch (c->source.ss_family) {
	case AF_INET:
		*addr = (const u_char *)&in4->sin_addr;
		*len = 4;
		*port = ntohs(in4->sin_port);
		return 1;
	case AF_INET6:
		*addr = (const u_char *)&in6->sin6_addr;
		*len = 16;
		*port = ntohs(in6->sin6_port);
		return 2;
	default:
		*addr = (const u_char *)"";
		*len = 0;
		*port = 0;
		return 0;
	}
}

static int cli_get(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	const struct redir_client *c = redir_client_find(idx[0]);
	const u_char *addr;
	unsigned int port;
	size_t len;
	int type;

	if (!c)
		return SNMP_NOSUCHINSTANCE;
	type = source(c, &addr, &len, &port);
	switch (col) {
	case H_CLI_INITIATOR: h_redir_set_str(vb, c->initiator, sizeof(c->initiator)); break;
	case H_CLI_ISID: snmp_set_var_typed_value(vb, ASN_OCTET_STR, c->isid, sizeof(c->isid)); break;
	case H_CLI_SRC_TYPE: h_redir_set_int(vb, type); break;
	case H_CLI_SRC_ADDR: snmp_set_var_typed_value(vb, ASN_OCTET_STR, addr, len); break;
	case H_CLI_SRC_PORT: h_redir_set_u32(vb, ASN_UNSIGNED, port); break;
	case H_CLI_TARGET: h_redir_set_str(vb, c->target, sizeof(c->target)); break;
	case H_CLI_RESOURCE: h_redir_set_u32(vb, ASN_UNSIGNED, c->resource); break;
	case H_CLI_SERVER: h_redir_set_u32(vb, ASN_UNSIGNED, c->server); break;
	case H_CLI_FIRST_SEEN: h_redir_set_time(vb, c->first_seen); break;
	case H_CLI_LAST_SEEN: h_redir_set_time(vb, c->last_seen); break;
	case H_CLI_LOGINS: h_redir_set_u64(vb, ASN_COUNTER64, c->logins); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static const struct h_table_ops client_ops = {.next = cli_next, .get = cli_get};

static struct h_table client_table = {
    .name = "sanRedirClientTable",
    .root = client_table_oid,
    .root_len = OID_LENGTH(client_table_oid),
    .nindex = 1,
    .cols = client_cols,
    .ncols = sizeof(client_cols) / sizeof(client_cols[0]),
    .ops = &client_ops,
};

int h_redir_client_table_init(void)
{
	return h_table_register(&client_table);
}

void h_redir_client_table_shutdown(void)
{
	h_table_unregister(&client_table);
}
