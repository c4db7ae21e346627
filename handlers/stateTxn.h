/* stateTxn.h: the handler that makes each SET PDU one durable state commit before the answer. */
#ifndef H_STATE_TXN_H
#define H_STATE_TXN_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

struct cm_state;

/* The store the engines commit to (NULL: none, SETs commit as they go). */
void h_stxn_set_state(struct cm_state *st);
/* Puts the transaction handler into a writable registration's chain;
 * call before registering it.  Returns 0 or -errno. */
int h_stxn_inject(netsnmp_handler_registration *reg);

#endif
