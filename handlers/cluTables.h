/* cluTables.h: SANAGENT-CLUSTER-MIB handlers: what the table files share (OIDs in engines/cluster/clu_mib.h). */
#ifndef H_CLU_TABLES_H
#define H_CLU_TABLES_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <stdint.h>

int h_clu_init(void); /* every table and scalar below */
void h_clu_shutdown(void);

int h_clu_scalars_init(void); /* cluScalars.c: version, lock, granularity, identity, counters */
void h_clu_scalars_shutdown(void);
int h_clu_member_table_init(void); /* cluMemberTable.c */
void h_clu_member_table_shutdown(void);
int h_clu_res_tables_init(void); /* cluResTable.c + cluOwnerTable.c: the CRT and its owner lists */
void h_clu_res_tables_shutdown(void);
int h_clu_peer_tables_init(void); /* cluPeerTable.c: peers and conflicts (read-only) */
void h_clu_peer_tables_shutdown(void);

/* One column of a row as a GET returns it (the notifications read them through subagent/core.c). */
int h_clu_res_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb);
int h_clu_member_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb);
int h_clu_peer_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb);
int h_clu_conflict_get(uint32_t index, unsigned int col, netsnmp_variable_list *vb);

/* cluResTable.c: one ownership change per SET request, over sanCluResTable and sanCluOwnerTable together. */
struct h_table;
struct h_row;
struct h_txn;
extern struct h_table h_clu_res_table, h_clu_owner_table;
int h_clu_txn_check(struct h_row *row, struct h_txn *txn);
int h_clu_txn_action(struct h_row *row, struct h_txn *txn);
int h_clu_txn_undo(struct h_row *row);
int h_clu_txn_commit(struct h_row *row);

#endif
