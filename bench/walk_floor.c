/* walk_floor.c: the floor for the walk benchmarks.  A table of COLS x ROWS integers computed from the OID, with
 * no data behind it, under netSnmpPlaypen, served by net-snmp's own agent library in either of sanagent's modes:
 *
 *   walk_floor SOCKET ROWS COLS      an AgentX subagent of the master at SOCKET
 *   dlmod walk_floor walk_floor.so   loaded into snmpd (built with -DWALK_FLOOR_DLMOD -shared); ROWS and COLS
 *                                    from the environment's WALK_FLOOR_ROWS and WALK_FLOOR_COLS
 *
 * A walk of it costs what the mode itself costs on this machine: the master's work per varbind, and through
 * AgentX one round trip per GETNEXT with the reference subagent library's decode and encode; nothing else.
 * The walk benchmarks print sanagent's rate against it.
 *
 * Serves ROOT.1.COL.ROW = ROW (INTEGER), COL 1..COLS, ROW 1..ROWS; ROOT = 1.3.6.1.4.1.8072.9999.9999.7147. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <signal.h>
#include <stdlib.h>

static const oid root[] = {1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 7147, 1};
#define ROOT_LEN (sizeof root / sizeof root[0])

static long rows, cols;

/* The first instance (col, row) strictly after name, or 0 past the end.  Instances are ROOT.col.row. */
static int next_instance(const oid *name, size_t len, long *col, long *row)
{
	int c = snmp_oid_compare(name, len > ROOT_LEN ? ROOT_LEN : len, root, ROOT_LEN);
	if (c < 0 || (c == 0 && len <= ROOT_LEN)) {
		*col = 1, *row = 1;
		return 1;
	}
	if (c > 0)
		return 0;
	*col = (long)name[ROOT_LEN];
	*row = len > ROOT_LEN + 1 ? (long)name[ROOT_LEN + 1] + 1 : 1;
	if (*col < 1)
		*col = 1, *row = 1;
	if (*row > rows)
		(*col)++, *row = 1;
	return *col <= cols;
}

static void set_value(netsnmp_variable_list *vb, long col, long row)
{
	oid name[ROOT_LEN + 2];
	memcpy(name, root, sizeof root);
	name[ROOT_LEN] = (oid)col;
	name[ROOT_LEN + 1] = (oid)row;
	snmp_set_var_objid(vb, name, ROOT_LEN + 2);
	snmp_set_var_typed_integer(vb, ASN_INTEGER, row);
}

static int handler(netsnmp_mib_handler *h, netsnmp_handler_registration *reg, netsnmp_agent_request_info *ri,
                   netsnmp_request_info *req)
{
	(void)h, (void)reg;
	for (; req; req = req->next) {
		netsnmp_variable_list *vb = req->requestvb;
		long col, row;
		if (ri->mode == MODE_GET) {
			if (vb->name_length == ROOT_LEN + 2 && !snmp_oid_compare(vb->name, ROOT_LEN, root, ROOT_LEN) &&
			    vb->name[ROOT_LEN] >= 1 && (long)vb->name[ROOT_LEN] <= cols &&
			    vb->name[ROOT_LEN + 1] >= 1 && (long)vb->name[ROOT_LEN + 1] <= rows)
				snmp_set_var_typed_integer(vb, ASN_INTEGER, (long)vb->name[ROOT_LEN + 1]);
			else
				netsnmp_set_request_error(ri, req, SNMP_NOSUCHINSTANCE);
		} else if (ri->mode == MODE_GETNEXT) {
			if (next_instance(vb->name, vb->name_length, &col, &row))
				set_value(vb, col, row);
			/* else left unset: the agent moves on past this registration */
		} else {
			netsnmp_set_request_error(ri, req, SNMP_ERR_NOTWRITABLE);
		}
	}
	return SNMP_ERR_NOERROR;
}

static int floor_register(void)
{
	netsnmp_handler_registration *reg =
	    netsnmp_create_handler_registration("walkFloor", handler, root, ROOT_LEN, HANDLER_CAN_RONLY);
	return reg && netsnmp_register_handler(reg) == MIB_REGISTERED_OK ? 0 : -1;
}

#ifdef WALK_FLOOR_DLMOD
void init_walk_floor(void);
void init_walk_floor(void)
{
	const char *r = getenv("WALK_FLOOR_ROWS"), *c = getenv("WALK_FLOOR_COLS");
	rows = r ? atol(r) : 0;
	cols = c ? atol(c) : 0;
	if (rows < 1 || cols < 1 || floor_register() < 0)
		snmp_log(LOG_ERR, "walk_floor: set WALK_FLOOR_ROWS and WALK_FLOOR_COLS; not registered\n");
}
#else
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	if (argc != 4 || (rows = atol(argv[2])) < 1 || (cols = atol(argv[3])) < 1) {
		fprintf(stderr, "usage: walk_floor SOCKET ROWS COLS\n");
		return 2;
	}
	snmp_disable_log();
	/* net-snmp logs every relayed request's origin at this level; a line per GETNEXT would be the floor's cost */
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_DONT_LOG_TCPWRAPPERS_CONNECTS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
	netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET, argv[1]);
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL, 1);
	init_agent("walk_floor");
	if (floor_register() < 0) {
		fprintf(stderr, "walk_floor: cannot register\n");
		return 1;
	}
	init_snmp("walk_floor");
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	while (!stop)
		agent_check_and_process(1);
	snmp_shutdown("walk_floor");
	return 0;
}
#endif
