/* table.h: the one table framework of handlers/: index parsing, O(log n) GET/GETNEXT over engine rows and rows not
 * yet active, one RowStatus state machine, one errno -> SNMP error map, one transaction per SET request. */
#ifndef H_TABLE_H
#define H_TABLE_H

/*
 * Porting a table onto the framework (every table file has this shape):
 *
 *   1. Columns, declared once: a `struct h_column` array, one entry per
 *      column of the MIB entry, with its access, SET syntax and flags. The
 *      framework checks type, range, length, UTF-8 (H_SYN_ADMIN_STRING),
 *      iSCSI names (H_SYN_ISCSI_NAME), RowStatus and StorageType values in
 *      RESERVE1, so the table's code never does.
 *   2. A row image: the table's own struct holding what a SET may change
 *      (usually the engine's spec struct). The framework keeps one per row a
 *      request touches (`row->work`, and `row->old` as it was), and one per
 *      row that is not active yet (notReady / notInService).
 *   3. Rows, read live from the engine: `next` (first row after an index,
 *      in index order: the engine's O(log n) lookup) and `get` (one column
 *      of one engine row). Tables whose engine has no ordered lookup keep an
 *      index set in the framework instead (`next` NULL; h_table_row_add/del).
 *   4. SET callbacks (net-snmp mib2c shape):
 *        load    engine row -> image (0, or -ENOENT when it has none);
 *        defaults a new row's image (the MIB's DEFVALs);
 *        store   one checked varbind -> image; returns 1 when it changed it;
 *        ready   whether the image has what the row needs to be active;
 *        check   the ENGINE's validate function for row->op, 0 or -errno
 *                (no checks of the table's own: the engine's are the ones);
 *        action  the engine's verb for row->op (create or update), -errno;
 *        undo    reverses action (row->old has the image before);
 *        commit  what cannot be undone: the destroy verb (row->op is
 *                H_OP_DESTROY) or an irreversible one; it runs for every
 *                row the request changed, at the end of ACTION once all
 *                of its varbinds are applied (so that its state change is
 *                durable before the answer), and cannot fail the request.
 *      The framework decides row->op and row->status from RowStatus (RFC
 *      2579), maps every -errno with h_table_err(), and runs RESERVE2,
 *      ACTION, UNDO and COMMIT for every table of the request together, in
 *      the tables' rank order (destroys in reverse): a check sees the rows
 *      other tables of the same request create (h_txn_find), and a failure
 *      in a later varbind undoes the earlier ones.
 *   5. Register with h_table_register(); shut down with h_table_unregister().
 *
 * Rows that are not active (createAndWait, or notReady) live in the
 * framework, not in the engine: the engines hold active rows only. They are
 * volatile whatever their StorageType says until they become active,
 * capped per table (a createAndWait beyond the cap gets
 * resourceUnavailable), aged out after a period without a SET (RFC 2579
 * suggests a few minutes) and gone after a restart. The one exception is a
 * table whose engine keeps rows in every state (ops->status: credentials
 * and logins, which can be taken out of service): there the engine holds
 * them, and its own limits apply, but the rule is the same: a row reaches
 * the state file when it first becomes active, not before.
 */

#include <stdint.h>
#include <time.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

/* Index parts: each a non-negative 32-bit integer (Unsigned32, or an
 * Integer32 index that is never negative). */
#define H_TABLE_MAX_INDEX 4
/* Columns are numbered 1..H_TABLE_MAX_COL. */
#define H_TABLE_MAX_COL 63

enum h_access {
	H_NA = 0, /* not-accessible: the index columns */
	H_RO,     /* read-only */
	H_RW,     /* read-write */
	H_RC,     /* read-create */
	H_NOTIFY, /* accessible-for-notify: in notifications only */
	H_WO,     /* read-create, but a GET returns an empty string (secrets) */
};

enum h_syntax {
	H_SYN_ANY = 0,      /* only the type is checked */
	H_SYN_INT,          /* INTEGER / Integer32 in min..max */
	H_SYN_UINT,         /* Unsigned32 / Gauge32 in min..max */
	H_SYN_TRUTH,        /* TruthValue */
	H_SYN_OCTETS,       /* OCTET STRING of min..max octets */
	H_SYN_ADMIN_STRING, /* SnmpAdminString of min..max octets: UTF-8, no NUL */
	H_SYN_ISCSI_NAME,   /* an iSCSI name (RFC 3720/7143): iqn./eui./naa., min..max octets */
	H_SYN_INET_ADDR,    /* InetAddress of ipv4 or ipv6: 4 or 16 octets */
	H_SYN_ROWSTATUS,    /* RowStatus: the framework's own column */
	H_SYN_STORAGE,      /* StorageType: a SET may give volatile or nonVolatile */
};

/* h_column.flags */
enum {
	/* The value may change only while the row is not active (RFC 2579:
	 * inconsistentValue otherwise). */
	H_COL_NOT_ACTIVE = 1u,
	/* An H_SYN_INET_ADDR column that may also be empty (unknown(0)). */
	H_COL_EMPTY_OK = 2u,
	/* A parameter of destroy (a force flag): it may be set in the request that destroys the row. */
	H_COL_WITH_DESTROY = 4u,
};

struct h_column {
	unsigned int col;
	unsigned char access; /* enum h_access */
	unsigned char syntax; /* enum h_syntax */
	unsigned char flags;
	long min, max; /* value range, or length range of strings */
};

struct h_table;
struct h_txn;

/* What one SET request does to one row. */
enum h_row_was { H_WAS_ABSENT, H_WAS_PENDING, H_WAS_ACTIVE };
enum h_row_op {
	H_OP_NONE,
	H_OP_CREATE,  /* the engine creates the row (createAndGo, or a pending row made active) */
	H_OP_UPDATE,  /* columns of an active engine row change */
	H_OP_DESTROY, /* the engine drops the row (at COMMIT) */
	H_OP_PENDING, /* a row not active yet is created or changed (the framework's) */
	H_OP_DROP,    /* a row not active yet is destroyed (the framework's) */
};

struct h_row {
	const struct h_table *table;
	uint32_t idx[H_TABLE_MAX_INDEX];
	int was;           /* enum h_row_was */
	long rs;           /* the RowStatus value the request asked for, 0 none */
	int status;        /* RowStatus as the request leaves it: RS_ACTIVE, RS_NOTINSERVICE, RS_NOTREADY, 0 gone */
	int op;            /* enum h_row_op */
	uint64_t changed;  /* bit (1 << col): a varbind changed that column */
	void *work;        /* the table's image as the request leaves the row */
	const void *old;   /* the image before the request (zeroed defaults for a new row) */
	unsigned int done; /* the table's own bits: which verbs its action ran, for undo */
	netsnmp_request_info *first; /* where errors of the row are reported */
	/* the framework's */
	int acted;
	int irreversible_done; /* its commit callback ran: UNDO cannot reverse it */
	int in_engine;         /* the engine holds the row, whatever its status */
	void *pending_out;     /* the pending row taken out of the store (undo puts it back) */
	int pending_swapped;
};

/* True when the row's column changed in this request. */
static inline int h_row_changed(const struct h_row *row, unsigned int col)
{
	return (row->changed >> col) & 1u;
}

/* A table whose engine keeps rows in every state behind two verbs
 * (credentials, logins): put creates or replaces a row from its image, del
 * drops one by index.  With ops->verbs and no action or undo, the
 * framework's ACTION sets the image's RowStatus field (an int at status_off)
 * to row->status and puts it; its UNDO puts the old image back, or drops the
 * row the action created. */
struct h_row_verbs {
	int (*put)(const void *image);
	int (*del)(uint32_t index);
	size_t status_off;
};

struct h_table_ops {
	/* Rows: the first engine row whose index is greater than after (after
	 * NULL: the first row) into out; 0, or -ENOENT when there is none.
	 * NULL: the framework's index set (h_table_row_add/del) is the list. */
	int (*next)(const uint32_t *after, uint32_t *out);
	/* One column of an engine row: SNMP_ERR_NOERROR, SNMP_NOSUCHINSTANCE
	 * when the row is gone, SNMP_NOSUCHOBJECT when the row has no such
	 * value (GETNEXT then skips it). For the RowStatus column, NOSUCHOBJECT
	 * means an existing active row. */
	int (*get)(const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb);
	/* One column of a row that is not active yet, from its image. */
	int (*get_work)(const void *work, unsigned int col, netsnmp_variable_list *vb);

	/* The RowStatus of an engine row, for engines that keep rows which are
	 * not active (credentials and logins persist in every state); NULL:
	 * every engine row is active and rows not active yet are the
	 * framework's. */
	int (*status)(const uint32_t *idx);

	/* SET; NULL for read-only tables. */
	int (*load)(const uint32_t *idx, void *work);
	void (*defaults)(void *work, const uint32_t *idx);
	int (*store)(void *work, unsigned int col, const netsnmp_variable_list *vb);
	int (*ready)(const void *work);
	int (*check)(struct h_row *row, struct h_txn *txn);
	int (*action)(struct h_row *row, struct h_txn *txn);
	int (*undo)(struct h_row *row);
	int (*commit)(struct h_row *row);
	const struct h_row_verbs *verbs; /* instead of action and undo: see struct h_row_verbs */
};

struct h_table {
	/* declared by the table file */
	const char *name;
	const oid *root; /* the ...Table OID; instances are root.1.col.index... */
	size_t root_len;
	size_t nindex;
	uint32_t index_min; /* smallest value of an index part of a new row (usually 1) */
	const struct h_column *cols;
	size_t ncols;
	unsigned int rowstatus_col; /* 0: no RowStatus, rows come from the engine only */
	unsigned int storage_col;   /* 0: none */
	unsigned int rank;          /* SET order across tables: lower creates first, destroys last */
	size_t image_size;          /* sizeof the table's row image */
	int writable;
	const struct h_table_ops *ops;
	/* the framework's */
	netsnmp_handler_registration *reg;
	struct h_table_store *pending; /* rows not active yet */
	struct h_table_store *rows;    /* the index set when ops->next is NULL */
	time_t last_sweep;
};

int h_table_register(struct h_table *t);
void h_table_unregister(struct h_table *t);
/* The framework's index set of a table without ops->next (idx has t->nindex parts). */
int h_table_row_add(struct h_table *t, const uint32_t *idx);
void h_table_row_del(struct h_table *t, const uint32_t *idx);
void h_table_row_clear(struct h_table *t);
size_t h_table_row_count(const struct h_table *t);

/* Rows not active yet: how many a table may hold, and for how long
 * without a SET (seconds). Defaults: 256 rows, 300 s. */
void h_table_set_pending_limits(unsigned int max_rows, unsigned int max_age);
size_t h_table_pending_count(struct h_table *t);
/* Whether a row not active yet holds index idx (NextIndex scalars skip it). */
int h_table_pending_has(struct h_table *t, const uint32_t *idx);
/* The clock of ageing (tests replace it). */
extern time_t (*h_table_clock)(void);

/* The one errno -> SNMP error map. RESERVE (checks) and ACTION (verbs)
 * differ only in what an unknown errno becomes. */
enum h_phase { H_PHASE_CHECK, H_PHASE_ACTION };
int h_table_err(int rc, int phase);

/* The request's transaction: the row of table t at idx that the request
 * touches, NULL if it touches none. A check looks here for rows other
 * tables of the same request create, change or destroy. */
struct h_row *h_txn_find(struct h_txn *txn, const struct h_table *t, const uint32_t *idx);

/* The rows of table t the request touches, in turn: prev NULL for the first; NULL after the last. */
struct h_row *h_txn_next(struct h_txn *txn, const struct h_table *t, const struct h_row *prev);

/* Helpers for store(): copy a checked varbind into the image; 1 when the
 * value changed. */
int h_put_long(long *dst, const netsnmp_variable_list *vb);
int h_put_int(int *dst, const netsnmp_variable_list *vb);
int h_put_u32(uint32_t *dst, const netsnmp_variable_list *vb);
int h_put_u16(uint16_t *dst, const netsnmp_variable_list *vb);
int h_put_bool(int *dst, const netsnmp_variable_list *vb); /* TruthValue true(1) -> 1 */
int h_put_str(char *dst, size_t size, const netsnmp_variable_list *vb);
int h_put_octets(u_char *dst, size_t *len, size_t size, const netsnmp_variable_list *vb);

/* Value setters for get callbacks and notifications. */
void h_set_int(netsnmp_variable_list *vb, long v);
void h_set_u32(netsnmp_variable_list *vb, u_char type, uint32_t v);
void h_set_u64(netsnmp_variable_list *vb, uint64_t v); /* Counter64 */
void h_set_str(netsnmp_variable_list *vb, const char *s, size_t max);
void h_set_octets(netsnmp_variable_list *vb, const void *p, size_t len);

/* RESERVE1 syntax of one varbind against its column's (or scalar's) declaration: SNMP_ERR_NOERROR or the error. */
int h_column_check(const struct h_column *c, const netsnmp_variable_list *vb);

/* SnmpAdminString and iSCSI name checks (also used by scalars). */
int h_utf8_valid(const unsigned char *s, size_t len);
int h_iscsi_name_valid(const char *s, size_t len);

/* A read-only Unsigned32 "...NextIndex" scalar: value() at GET time. */
struct h_next_index {
	const char *name;
	const oid *root;
	size_t root_len;
	uint32_t (*value)(void);
	/* The table it names rows of, when its not-yet-active rows live in the
	 * framework: the engine does not know their indexes, so the value
	 * skips them (else a manager is handed an index a pending row holds). */
	struct h_table *table;
	netsnmp_handler_registration *reg;
};
int h_next_index_register(struct h_next_index *n);
void h_next_index_unregister(struct h_next_index *n);

#endif
