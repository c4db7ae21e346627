/* redisc.h: SANAGENT-REDISCOVER-MIB handlers: what the table files share (OIDs are in engines/rediscover/redisc_mib.h).
 */
#ifndef H_REDISC_H
#define H_REDISC_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

int h_redisc_scalars_init(void); /* rediscScalars.c: policy, counters */
void h_redisc_scalars_shutdown(void);
int h_redisc_threshold_table_init(void); /* rediscThresholdTable.c */
void h_redisc_threshold_table_shutdown(void);
int h_redisc_session_table_init(void); /* rediscSessionTable.c */
void h_redisc_session_table_shutdown(void);
int h_redisc_pool_table_init(void); /* rediscPoolTable.c */
void h_redisc_pool_table_shutdown(void);
int h_redisc_agent_table_init(void); /* rediscAgentTable.c */
void h_redisc_agent_table_shutdown(void);
int h_redisc_group_table_init(void); /* rediscGroupTable.c */
void h_redisc_group_table_shutdown(void);
int h_redisc_controls_init(void); /* rediscControls.c: the manual trigger */
void h_redisc_controls_shutdown(void);
int h_redisc_react_init(void); /* rediscReactScalars.c: the initiator's reaction to messages */
void h_redisc_react_shutdown(void);
int h_redisc_decision_table_init(void); /* rediscDecisionTable.c */
/* One column of a decision row as a GET returns it (the notifications read it through core.c). */
int h_redisc_decision_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb);
void h_redisc_decision_table_shutdown(void);

struct redisc_addr;
/* InetAddress of a portal (empty for unknown(0)). */
void h_redisc_set_addr(netsnmp_variable_list *vb, const struct redisc_addr *a);

/* The portal columns (InetAddressType, InetAddress, port) of a pool or initiator-agent row being created, as the
 * SETs leave them: from an engine row (load), complete (ready: an address of its type's length), and as the engine's
 * portal (to_addr). */
struct h_redisc_portal {
	long type;
	u_char addr[16];
	size_t len;
	uint32_t port;
};
void h_redisc_portal_load(struct h_redisc_portal *p, const struct redisc_addr *a);
int h_redisc_portal_ready(const struct h_redisc_portal *p);
void h_redisc_portal_to_addr(const struct h_redisc_portal *p, struct redisc_addr *a);

#endif
