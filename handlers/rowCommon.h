/* rowCommon.h: what the table_container tables share: value setters, registration, rows, NextIndex scalars, and the
 * per-varbind SET loop of RowStatus tables. */
#ifndef H_ROWCOMMON_H
#define H_ROWCOMMON_H

#include <stdint.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "handlers/table.h"

/* Values as the tables serve them. */
void h_row_set_int(netsnmp_variable_list *vb, u_char type, long v);
void h_row_set_c64(netsnmp_variable_list *vb, uint64_t v);

/* Checks an unsigned varbind: wrongType, wrongLength or wrongValue. */
int h_row_check_uint(const netsnmp_variable_list *vb, unsigned long min, unsigned long max);

/* RESERVE1 of the RowStatus and StorageType columns of a row that follows
 * RFC 2579 with createAndWait (sanCredTable, sanLoginTable): the value's
 * type and range, then the verbs that make no sense for a row that exists
 * (exists) or not. StorageType takes volatile and nonVolatile only. */
int h_row_check_rowstatus(const netsnmp_variable_list *vb, int exists);
int h_row_check_storage(const netsnmp_variable_list *vb);
/* Records a RowStatus value checked above: createAndGo / createAndWait into
 * *create, destroy into *destroy, active / notInService into *rs. */
void h_row_note_rowstatus(const netsnmp_variable_list *vb, int *create, int *destroy, int *rs);
/* RESERVE2: the row's RowStatus (RS_ACTIVE, RS_NOTINSERVICE, RS_NOTREADY in
 * *row, which holds the current one) once the request is applied, from what
 * it asked for and whether the row has all it needs (complete); SNMP error. */
int h_row_final_status(int create, int rs, int complete, int *row);

/* A table_container table whose rows hold only their Unsigned32 index (one
 * or two parts); values are read from the engine at request time, so a GET
 * never sees a stale copy. */
struct h_crow {
	netsnmp_index idx; /* first: the container compares netsnmp_index */
	oid index_oid[2];
};

/* What a one-index RowStatus table tells h_ctable_handler: SNMP error codes
 * back. The phases after RESERVE1 work on the request's pending set, so
 * they are called once per varbind and must do their work only once. */
struct h_ctable_ops {
	uint32_t index_max; /* RESERVE1 of indexes outside 1..index_max: noCreation */
	/* GET: col of row index, SNMP_NOSUCHINSTANCE when it has gone. */
	int (*get)(uint32_t index, unsigned int col, netsnmp_variable_list *vb);
	/* RESERVE1 of one varbind: check it and record it in the pending set. */
	int (*reserve1)(netsnmp_agent_request_info *reqinfo, uint32_t index, unsigned int col,
	                const netsnmp_variable_list *vb);
	/* RESERVE2 of one varbind: the verdict on its row as the request leaves it. */
	int (*reserve2)(netsnmp_agent_request_info *reqinfo, uint32_t index, unsigned int col,
	                const netsnmp_variable_list *vb);
	int (*action)(netsnmp_agent_request_info *reqinfo);
	int (*undo)(netsnmp_agent_request_info *reqinfo);
	void (*commit)(netsnmp_agent_request_info *reqinfo); /* NULL: nothing left to do */
};

struct h_ctable {
	netsnmp_handler_registration *reg;
	netsnmp_table_registration_info *tinfo;
	netsnmp_container *rows;
	const struct h_ctable_ops *ops; /* for h_ctable_handler */
};

/* Registers ct at root with nindex (1 or 2) Unsigned32 indexes; handler gets
 * ct as handler->myvoid (h_ctable_handler needs ct->ops). */
int h_ctable_register(struct h_ctable *ct, const char *name, Netsnmp_Node_Handler *handler, const oid *root,
                      size_t root_len, size_t nindex, unsigned int min_col, unsigned int max_col);
void h_ctable_unregister(struct h_ctable *ct);
/* Adds the row of index (len 1 or 2) unless present; drops it if present. */
void h_ctable_row_add(struct h_ctable *ct, const oid *index, size_t len);
void h_ctable_row_del(struct h_ctable *ct, const oid *index, size_t len);
/* The same for one-index tables. */
void h_ctable_row_add1(struct h_ctable *ct, uint32_t index);
void h_ctable_row_del1(struct h_ctable *ct, uint32_t index);

/* The node handler of one-index RowStatus tables: runs ct->ops per varbind. */
Netsnmp_Node_Handler h_ctable_handler;

#endif
