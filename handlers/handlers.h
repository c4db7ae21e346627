/* handlers.h: registration of every MIB handler, and the OIDs they share. */
#ifndef SA_HANDLERS_H
#define SA_HANDLERS_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

/* enterprises.32473.1: 32473 is RFC 5612's documentation enterprise number;
 * a deployment should renumber under its own enterprise. */
#define SA_OID_MIB 1, 3, 6, 1, 4, 1, 32473, 1
#define SA_OID_NOTIFICATIONS SA_OID_MIB, 0
#define SA_OID_OBJECTS SA_OID_MIB, 1
#define SA_OID_INFO SA_OID_OBJECTS, 1 /* sanAgentVersion .1, StartTime .2, ConfigFile .3 */
#define SA_OID_ENGINE_ENTRY SA_OID_OBJECTS, 2, 1
#define SA_OID_TRAPRECV SA_OID_OBJECTS, 3 /* Received .1, Accepted .2, DroppedUnauth .3, DroppedMalformed .4 */

int h_agent_scalars_init(void);
int h_engine_table_init(void);
int h_trap_counters_init(void);
void h_all_shutdown(void);

#endif
