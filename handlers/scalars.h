/* scalars.h: the scalar-group framework of handlers/, the table framework's twin: objects declared once, SET syntax
 * checked by the framework, one transaction per group and SET request, one errno -> SNMP error map. */
#ifndef H_SCALARS_H
#define H_SCALARS_H

/*
 * Porting a scalar group onto the framework (every group file has this shape):
 *
 *   1. Objects, declared once: a `struct h_column` array (table.h), `col`
 *      the object's sub-identifier under the group, in ascending order,
 *      with its access (H_RO or H_RW) and SET syntax. The framework checks
 *      type, range, length and UTF-8 in RESERVE1, so the group's code never
 *      does. Sub-identifiers between the first and the last that are not
 *      declared are holes: noSuchObject, skipped by GETNEXT.
 *   2. get: one object's value, read live from the engine (SNMP_ERR_NOERROR,
 *      or SNMP_NOSUCHOBJECT for a hole of its own).
 *   3. SET (writable groups): an image struct holding what a SET may change
 *      (usually the engine's params struct); the framework keeps two per
 *      request, `x->work` as the request wants it and `x->old` as it was.
 *        load    the values in force -> image;
 *        store   one checked varbind -> image (1 when it changed it);
 *        check   the ENGINE's validate on the whole image, once every
 *                varbind of the group is in (RESERVE2), 0 or -errno;
 *        apply   the engine's verb (ACTION): the objects x->named, taken
 *                from x->work, laid over the values in force; -errno;
 *        undo    reverses apply (x->old, and what apply kept in x->done);
 *        commit  what cannot be undone (a trigger), at COMMIT once every
 *                varbind of the request succeeded; cannot fail it.
 *      check and apply may set x->blame to the object whose varbind the
 *      error belongs to (default: check blames the group's last varbind of
 *      the request, apply its first). Errors map through h_table_err().
 *   4. Register with h_scalar_register(); shut down with h_scalar_unregister().
 *
 * net-snmp calls a scalar group's handler once per varbind in every phase
 * (netsnmp_register_scalar_group puts its serialize helper first), so the
 * transaction lives with the request, one per group: the varbinds of one
 * group in one PDU are checked together and applied once, and a failure in
 * a later varbind (of this group or any other registration) undoes them.
 *
 * A group of one object registered at the object itself (sanRedirRole)
 * declares one object with col 0: the root is the object's OID.
 */

#include <stdint.h>

#include "handlers/table.h"

struct h_scalar_group;

/* A read-only object: only SETs look at the syntax, and they are refused. */
#define H_SCALAR_RO(sub)                                                                                               \
	{                                                                                                              \
		(sub), H_RO, H_SYN_ANY, 0, 0, 0                                                                        \
	}

/* What one SET request does to one group. */
struct h_scalar_txn {
	const struct h_scalar_group *group;
	uint64_t named;     /* bit (1 << sub): a varbind sets that object */
	uint64_t changed;   /* bit (1 << sub): ... to another value than it had */
	void *work;         /* the image as the request wants it */
	const void *old;    /* the image before the request */
	unsigned int done;  /* the group's own bits: what apply did, for undo */
	unsigned int blame; /* check, apply: the object whose varbind gets the error (0: the default) */
	/* the framework's */
	netsnmp_request_info *req[H_TABLE_MAX_COL + 1];
	netsnmp_request_info *first, *last;
	int checked, acted, applied, committed;
};

/* True when a varbind of the request sets the object. */
static inline int h_scalar_named(const struct h_scalar_txn *x, unsigned int sub)
{
	return (x->named >> sub) & 1u;
}

struct h_scalar_ops {
	int (*get)(unsigned int sub, netsnmp_variable_list *vb);
	/* SET; NULL for read-only groups. */
	void (*load)(void *image);
	int (*store)(void *image, unsigned int sub, const netsnmp_variable_list *vb);
	int (*check)(struct h_scalar_txn *x);
	int (*apply)(struct h_scalar_txn *x);
	int (*undo)(struct h_scalar_txn *x);
	void (*commit)(struct h_scalar_txn *x);
};

struct h_scalar_group {
	/* declared by the group file */
	const char *name;
	const oid *root; /* the group's OID; instances are root.sub.0 */
	size_t root_len;
	const struct h_column *objs;
	size_t nobjs;
	size_t image_size; /* sizeof the group's image (writable groups) */
	int writable;
	const struct h_scalar_ops *ops;
	/* the framework's */
	netsnmp_handler_registration *reg;
	char key[64]; /* the request's transaction of this group */
};

int h_scalar_register(struct h_scalar_group *g);
void h_scalar_unregister(struct h_scalar_group *g);

#endif
