/* table.c: the one table framework of handlers/ (see table.h): row stores, GET/GETNEXT, RowStatus, the SET transaction.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/log.h"
#include "common/search.h"
#include "handlers/table.h"
#include "handlers/stateTxn.h"

/* ---- sorted row stores ---------------------------------------------------------------------------------- */

/* Rows kept by the framework, sorted by index: the rows not active yet of
 * a table, and the index set of a table whose engine has no ordered
 * lookup. Elements are inline (index, status, time of the last SET, then
 * the image), so a lookup is one binary search. */
struct h_store_elem {
	uint32_t idx[H_TABLE_MAX_INDEX];
	int status;
	time_t touched;
	unsigned char image[];
};

struct h_table_store {
	size_t nindex, esize, n, cap;
	size_t hint; /* the last position found: a walk asks for the next one */
	unsigned char *v;
};

static struct h_store_elem *st_at(const struct h_table_store *s, size_t i)
{
	return (struct h_store_elem *)(void *)(s->v + i * s->esize);
}

static int idx_cmp(const uint32_t *a, const uint32_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* An index to search for, and how many parts it has. */
struct idx_key {
	const uint32_t *idx;
	size_t nindex;
};

static int elem_cmp(const void *elem, const void *key)
{
	const struct idx_key *k = key;

	return idx_cmp(((const struct h_store_elem *)elem)->idx, k->idx, k->nindex);
}

static struct h_table_store *st_new(size_t nindex, size_t image_size)
{
	struct h_table_store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->nindex = nindex;
	/* Keep elements aligned for the images they carry. */
	s->esize = (sizeof(struct h_store_elem) + image_size + sizeof(long long) - 1) & ~(sizeof(long long) - 1);
	return s;
}

static void st_free(struct h_table_store *s)
{
	if (s) {
		free(s->v);
		free(s);
	}
}

/* First position whose index is >= idx. */
static size_t st_lower(struct h_table_store *s, const uint32_t *idx)
{
	size_t h = s->hint;
	struct idx_key k = {idx, s->nindex};

	/* A walk's next row is at the hint or right after it. */
	if (h < s->n && idx_cmp(st_at(s, h)->idx, idx, s->nindex) >= 0 &&
	    (h == 0 || idx_cmp(st_at(s, h - 1)->idx, idx, s->nindex) < 0))
		return h;
	if (h + 1 < s->n && idx_cmp(st_at(s, h + 1)->idx, idx, s->nindex) >= 0 &&
	    idx_cmp(st_at(s, h)->idx, idx, s->nindex) < 0)
		return s->hint = h + 1;
	return s->hint = cm_lower_bound_cmp(s->v, s->n, s->esize, &k, elem_cmp);
}

static struct h_store_elem *st_find(struct h_table_store *s, const uint32_t *idx)
{
	size_t p;

	if (!s || !s->n)
		return NULL;
	p = st_lower(s, idx);
	return p < s->n && idx_cmp(st_at(s, p)->idx, idx, s->nindex) == 0 ? st_at(s, p) : NULL;
}

/* First element whose index is > after (after NULL: the first). */
static struct h_store_elem *st_next(struct h_table_store *s, const uint32_t *after)
{
	size_t p;

	if (!s || !s->n)
		return NULL;
	if (!after)
		return st_at(s, 0);
	p = st_lower(s, after);
	if (p < s->n && idx_cmp(st_at(s, p)->idx, after, s->nindex) == 0)
		p++;
	return p < s->n ? st_at(s, p) : NULL;
}

/* Inserts or replaces the element of idx; returns it (image to fill), NULL on ENOMEM. */
static struct h_store_elem *st_put(struct h_table_store *s, const uint32_t *idx)
{
	size_t p = s->n ? st_lower(s, idx) : 0;
	struct h_store_elem *e;

	if (p < s->n && idx_cmp(st_at(s, p)->idx, idx, s->nindex) == 0)
		return st_at(s, p);
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		unsigned char *v = realloc(s->v, cap * s->esize);

		if (!v)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	memmove(s->v + (p + 1) * s->esize, s->v + p * s->esize, (s->n - p) * s->esize);
	s->n++;
	e = st_at(s, p);
	memset(e, 0, s->esize);
	memcpy(e->idx, idx, s->nindex * sizeof(uint32_t));
	return e;
}

static void st_del_at(struct h_table_store *s, size_t p)
{
	memmove(s->v + p * s->esize, s->v + (p + 1) * s->esize, (s->n - p - 1) * s->esize);
	s->n--;
	if (s->hint >= s->n)
		s->hint = 0;
}

static int st_del(struct h_table_store *s, const uint32_t *idx)
{
	size_t p;

	if (!s || !s->n)
		return 0;
	p = st_lower(s, idx);
	if (p >= s->n || idx_cmp(st_at(s, p)->idx, idx, s->nindex) != 0)
		return 0;
	st_del_at(s, p);
	return 1;
}

int h_table_row_add(struct h_table *t, const uint32_t *idx)
{
	if (!t->rows && !(t->rows = st_new(t->nindex, 0)))
		return -ENOMEM;
	return st_put(t->rows, idx) ? 0 : -ENOMEM;
}

void h_table_row_del(struct h_table *t, const uint32_t *idx)
{
	st_del(t->rows, idx);
}

void h_table_row_clear(struct h_table *t)
{
	if (t->rows)
		t->rows->n = t->rows->hint = 0;
}

size_t h_table_row_count(const struct h_table *t)
{
	return t->rows ? t->rows->n : 0;
}

/* ---- rows not active yet: cap and ageing ---------------------------------------------------------------- */

static unsigned int pending_max = 256, pending_age = 300;

static time_t real_clock(void)
{
	return time(NULL);
}

time_t (*h_table_clock)(void) = real_clock;

void h_table_set_pending_limits(unsigned int max_rows, unsigned int max_age)
{
	pending_max = max_rows;
	pending_age = max_age;
}

/* Drops the rows nobody SET for pending_age seconds (at most once a second:
 * the store is capped, so a sweep is short). */
static void sweep(struct h_table *t)
{
	struct h_table_store *s = t->pending;
	time_t now = h_table_clock();

	if (!s || !s->n || now == t->last_sweep)
		return;
	t->last_sweep = now;
	for (size_t i = s->n; i-- > 0;) {
		if (now - st_at(s, i)->touched >= (time_t)pending_age) {
			cm_log(CM_LOG_INFO, "handlers", "%s: a row not active for %u s aged out", t->name, pending_age);
			st_del_at(s, i);
		}
	}
}

size_t h_table_pending_count(struct h_table *t)
{
	sweep(t);
	return t->pending ? t->pending->n : 0;
}

int h_table_pending_has(struct h_table *t, const uint32_t *idx)
{
	return st_find(t->pending, idx) != NULL;
}

/* ---- the errno -> SNMP error map ------------------------------------------------------------------------ */

int h_table_err(int rc, int phase)
{
	switch (rc) {
	case 0: return SNMP_ERR_NOERROR;
	/* The value can never be right. */
	case -EINVAL:
	case -ERANGE:
	case -EILSEQ:
	case -EADDRNOTAVAIL: /* an address that cannot be used as given (e.g. a source to bind) */
		return phase == H_PHASE_CHECK ? SNMP_ERR_WRONGVALUE : SNMP_ERR_COMMITFAILED;
	case -EMSGSIZE:
	case -ENAMETOOLONG: return phase == H_PHASE_CHECK ? SNMP_ERR_WRONGLENGTH : SNMP_ERR_COMMITFAILED;
	/* Out of something: may work later. */
	case -ENOMEM:
	case -ENOSPC:
	case -EAGAIN:
	case -EDQUOT:
	case -EMFILE:
	case -ENFILE:
	case -EIO: return SNMP_ERR_RESOURCEUNAVAILABLE;
	/* The object can never be written (read-only by its nature). */
	case -EROFS: return SNMP_ERR_NOTWRITABLE;
	/* A row that can never exist at this index (its parent row is missing, the index is out of range). */
	case -ENXIO: return phase == H_PHASE_CHECK ? SNMP_ERR_NOCREATION : SNMP_ERR_COMMITFAILED;
	/* Wrong given the other values or the state: EEXIST, ENOENT, EBUSY,
	 * EDOM (values that must agree do not, as shares that must sum to 100),
	 * EPERM (a row the config file owns), EACCES, ENODEV, ... */
	default: return phase == H_PHASE_CHECK ? SNMP_ERR_INCONSISTENTVALUE : SNMP_ERR_COMMITFAILED;
	}
}

/* ---- value helpers ---------------------------------------------------------------------------------------- */

void h_set_int(netsnmp_variable_list *vb, long v)
{
	snmp_set_var_typed_value(vb, ASN_INTEGER, &v, sizeof(v));
}

void h_set_u32(netsnmp_variable_list *vb, u_char type, uint32_t v)
{
	u_long u = v;

	snmp_set_var_typed_value(vb, type, &u, sizeof(u));
}

void h_set_u64(netsnmp_variable_list *vb, uint64_t v)
{
	struct counter64 c = {.high = (u_long)(v >> 32), .low = (u_long)(v & 0xffffffffu)};

	snmp_set_var_typed_value(vb, ASN_COUNTER64, &c, sizeof(c));
}

void h_set_str(netsnmp_variable_list *vb, const char *s, size_t max)
{
	snmp_set_var_typed_value(vb, ASN_OCTET_STR, s, strnlen(s, max));
}

void h_set_octets(netsnmp_variable_list *vb, const void *p, size_t len)
{
	snmp_set_var_typed_value(vb, ASN_OCTET_STR, p, len);
}

int h_put_long(long *dst, const netsnmp_variable_list *vb)
{
	long v = *vb->val.integer;
	int changed = *dst != v;

	*dst = v;
	return changed;
}

int h_put_int(int *dst, const netsnmp_variable_list *vb)
{
	int v = (int)*vb->val.integer;
	int changed = *dst != v;

	*dst = v;
	return changed;
}

int h_put_u32(uint32_t *dst, const netsnmp_variable_list *vb)
{
	uint32_t v = (uint32_t)(unsigned long)*vb->val.integer;
	int changed = *dst != v;

	*dst = v;
	return changed;
}

int h_put_u16(uint16_t *dst, const netsnmp_variable_list *vb)
{
	uint16_t v = (uint16_t)(unsigned long)*vb->val.integer;
	int changed = *dst != v;

	*dst = v;
	return changed;
}

int h_put_bool(int *dst, const netsnmp_variable_list *vb)
{
	int v = *vb->val.integer == 1;
	int changed = (*dst != 0) != v;

	*dst = v;
	return changed;
}

int h_put_str(char *dst, size_t size, const netsnmp_variable_list *vb)
{
	size_t len = vb->val_len < size ? vb->val_len : size - 1;
	int changed = strlen(dst) != len || memcmp(dst, vb->val.string, len) != 0;

	memcpy(dst, vb->val.string, len);
	dst[len] = '\0';
	return changed;
}

int h_put_octets(u_char *dst, size_t *len, size_t size, const netsnmp_variable_list *vb)
{
	size_t n = vb->val_len < size ? vb->val_len : size;
	int changed = *len != n || memcmp(dst, vb->val.string, n) != 0;

	memcpy(dst, vb->val.string, n);
	*len = n;
	return changed;
}

/* ---- SnmpAdminString and iSCSI names ---------------------------------------------------------------------- */

int h_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			/* NUL ends a C string; other controls cannot be shown or stored as names. */
			if (c < 0x20 || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0; /* a continuation byte first, an overlong lead, or beyond U+10FFFF */
		}
		if (i + n >= len)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and code points beyond Unicode. */
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

static int all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* RFC 3720 3.2.6.3 (RFC 7143 4.2.7.2): "iqn." yyyy-mm "." reversed domain
 * [":" anything], "eui." 16 hex digits, "naa." 16 or 32 hex digits (RFC
 * 3980); at most 223 octets. Names are compared after stringprep, which
 * lowercases them, so an upper-case letter in an iqn name is refused (two
 * names differing only in case would be one name to an initiator); only
 * ASCII letters, digits, '-', '.' and ':' are taken. */
int h_iscsi_name_valid(const char *s, size_t len)
{
	if (len < 5 || len > 223)
		return 0;
	if (!memcmp(s, "eui.", 4))
		return len == 20 && all_hex(s + 4, 16);
	if (!memcmp(s, "naa.", 4))
		return (len == 20 || len == 36) && all_hex(s + 4, len - 4);
	if (memcmp(s, "iqn.", 4) != 0)
		return 0;
	/* iqn.yyyy-mm.<at least one character> */
	if (len < 13 || !(s[4] >= '0' && s[4] <= '9') || !(s[5] >= '0' && s[5] <= '9') ||
	    !(s[6] >= '0' && s[6] <= '9') || !(s[7] >= '0' && s[7] <= '9') || s[8] != '-' ||
	    !(s[9] >= '0' && s[9] <= '1') || !(s[10] >= '0' && s[10] <= '9') || s[11] != '.')
		return 0;
	for (size_t i = 12; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':'))
			return 0;
	}
	return 1;
}

/* ---- columns --------------------------------------------------------------------------------------------- */

static const struct h_column *col_find(const struct h_table *t, unsigned long col)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (t->cols[i].col == col)
			return &t->cols[i];
	return NULL;
}

static int col_readable(const struct h_column *c)
{
	return c && (c->access == H_RO || c->access == H_RW || c->access == H_RC || c->access == H_WO);
}

/* RESERVE1 syntax of one varbind against its column's declaration. */
int h_column_check(const struct h_column *c, const netsnmp_variable_list *vb)
{
	int rc;

	switch (c->syntax) {
	case H_SYN_INT: return netsnmp_check_vb_int_range(vb, (int)c->min, (int)c->max);
	case H_SYN_UINT:
		/* Unsigned32 and Gauge32 share one tag. */
		if ((rc = netsnmp_check_vb_type_and_size(vb, ASN_UNSIGNED, sizeof(u_long))) != SNMP_ERR_NOERROR)
			return rc;
		if (*vb->val.integer < 0 || (unsigned long)*vb->val.integer < (unsigned long)c->min ||
		    (unsigned long)*vb->val.integer > (unsigned long)c->max)
			return SNMP_ERR_WRONGVALUE;
		return SNMP_ERR_NOERROR;
	case H_SYN_TRUTH: return netsnmp_check_vb_truthvalue(vb);
	case H_SYN_OCTETS:
	case H_SYN_ADMIN_STRING:
	case H_SYN_ISCSI_NAME:
		if ((rc = netsnmp_check_vb_type_and_max_size(vb, ASN_OCTET_STR, (size_t)c->max)) != SNMP_ERR_NOERROR)
			return rc;
		if (vb->val_len < (size_t)c->min)
			return SNMP_ERR_WRONGLENGTH;
		if (c->syntax == H_SYN_ADMIN_STRING && !h_utf8_valid(vb->val.string, vb->val_len))
			return SNMP_ERR_WRONGVALUE;
		if (c->syntax == H_SYN_ISCSI_NAME && vb->val_len &&
		    !h_iscsi_name_valid((const char *)vb->val.string, vb->val_len))
			return SNMP_ERR_WRONGVALUE;
		return SNMP_ERR_NOERROR;
	case H_SYN_INET_ADDR:
		if ((rc = netsnmp_check_vb_type_and_max_size(vb, ASN_OCTET_STR, 255)) != SNMP_ERR_NOERROR)
			return rc;
		return vb->val_len == 4 || vb->val_len == 16 || (vb->val_len == 0 && (c->flags & H_COL_EMPTY_OK))
		           ? SNMP_ERR_NOERROR
		           : SNMP_ERR_WRONGLENGTH;
	case H_SYN_ROWSTATUS:
		if ((rc = netsnmp_check_vb_type_and_size(vb, ASN_INTEGER, sizeof(long))) != SNMP_ERR_NOERROR)
			return rc;
		/* 0 and notReady(3) are no verbs; nothing beyond destroy(6) exists. */
		if (*vb->val.integer < RS_ACTIVE || *vb->val.integer > RS_DESTROY || *vb->val.integer == RS_NOTREADY)
			return SNMP_ERR_WRONGVALUE;
		return SNMP_ERR_NOERROR;
	case H_SYN_STORAGE:
		if ((rc = netsnmp_check_vb_type_and_size(vb, ASN_INTEGER, sizeof(long))) != SNMP_ERR_NOERROR)
			return rc;
		/* other, permanent and readOnly are the agent's to give. */
		if (*vb->val.integer != ST_VOLATILE && *vb->val.integer != ST_NONVOLATILE)
			return SNMP_ERR_WRONGVALUE;
		return SNMP_ERR_NOERROR;
	default: return netsnmp_check_vb_type(vb, vb->type);
	}
}

/* ---- GET and GETNEXT ------------------------------------------------------------------------------------- */

/* The value of col of the row at idx (engine row first, then a row not
 * active yet). */
static int row_get(struct h_table *t, const uint32_t *idx, unsigned int col, netsnmp_variable_list *vb)
{
	struct h_store_elem *e;
	int rc = SNMP_NOSUCHINSTANCE;

	if (!t->ops->next && !st_find(t->rows, idx))
		goto pending;
	rc = t->ops->get(idx, col, vb);
	if (col == t->rowstatus_col && rc == SNMP_NOSUCHOBJECT) {
		/* An engine row is active unless its get says otherwise. */
		h_set_int(vb, RS_ACTIVE);
		return SNMP_ERR_NOERROR;
	}
	if (rc != SNMP_NOSUCHINSTANCE)
		return rc;
pending:
	if (!(e = st_find(t->pending, idx)))
		return SNMP_NOSUCHINSTANCE;
	if (col == t->rowstatus_col) {
		h_set_int(vb, e->status);
		return SNMP_ERR_NOERROR;
	}
	return t->ops->get_work ? t->ops->get_work(e->image, col, vb) : (int)SNMP_NOSUCHOBJECT;
}

/* The next row after `after` (NULL: the first) of engine and pending rows merged. */
static int row_next(struct h_table *t, const uint32_t *after, uint32_t *out)
{
	struct h_store_elem *p = st_next(t->pending, after);
	uint32_t e[H_TABLE_MAX_INDEX];
	int have;

	if (t->ops->next) {
		have = t->ops->next(after, e) == 0;
	} else {
		struct h_store_elem *r = st_next(t->rows, after);

		have = r != NULL;
		if (r)
			memcpy(e, r->idx, t->nindex * sizeof(uint32_t));
	}
	if (!have && !p)
		return -ENOENT;
	if (!have || (p && idx_cmp(p->idx, e, t->nindex) < 0))
		memcpy(out, p->idx, t->nindex * sizeof(uint32_t));
	else
		memcpy(out, e, t->nindex * sizeof(uint32_t));
	return 0;
}

/* Parses the index part of an instance OID (after root.1.col): 1 when it
 * is exactly nindex parts that fit in 32 bits. */
static int parse_index(const struct h_table *t, const oid *sub, size_t len, uint32_t *idx)
{
	if (len != t->nindex)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (sub[i] > UINT32_MAX)
			return 0;
		idx[i] = (uint32_t)sub[i];
	}
	return 1;
}

static void do_get(struct h_table *t, netsnmp_agent_request_info *reqinfo, netsnmp_request_info *r)
{
	netsnmp_variable_list *vb = r->requestvb;
	size_t n = t->root_len;
	const struct h_column *c;
	uint32_t idx[H_TABLE_MAX_INDEX];
	int rc;

	if (vb->name_length < n + 2 || vb->name[n] != 1 || !col_readable(c = col_find(t, vb->name[n + 1]))) {
		netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT);
		return;
	}
	if (!parse_index(t, vb->name + n + 2, vb->name_length - n - 2, idx)) {
		netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
		return;
	}
	rc = row_get(t, idx, c->col, vb);
	if (rc == SNMP_ERR_NOERROR && c->access == H_WO)
		h_set_octets(vb, "", 0);
	else if (rc != SNMP_ERR_NOERROR)
		netsnmp_set_request_error(reqinfo, r, rc == SNMP_NOSUCHOBJECT ? (int)SNMP_NOSUCHINSTANCE : rc);
}

/* Where a GETNEXT of the index suffix sub (len parts, in column col)
 * continues: *after_p is set to the last index that is not wanted, or NULL
 * for "from the first row"; returns 0, or 1 when the column is done. */
static int seek_after(const struct h_table *t, const oid *sub, size_t len, uint32_t *after, const uint32_t **after_p)
{
	size_t n = t->nindex, i;

	*after_p = NULL;
	if (len == 0)
		return 0;
	for (i = 0; i < n && i < len; i++) {
		if (sub[i] > UINT32_MAX) {
			/* Every index with this prefix is smaller than sub. */
			if (i == 0)
				return 1;
			for (size_t k = i; k < n; k++)
				after[k] = UINT32_MAX;
			*after_p = after;
			return 0;
		}
		after[i] = (uint32_t)sub[i];
	}
	if (len >= n) {
		/* x.col.I and x.col.I.more both continue after I. */
		*after_p = after;
		return 0;
	}
	/* A partial index: rows with index >= (sub, 0, ...) qualify, so start
	 * after its predecessor. */
	for (i = len; i < n; i++)
		after[i] = 0;
	for (i = n; i-- > 0;) {
		if (after[i] > 0) {
			after[i]--;
			for (size_t k = i + 1; k < n; k++)
				after[k] = UINT32_MAX;
			*after_p = after;
			return 0;
		}
	}
	return 0; /* all zeros: from the first row */
}

static void do_getnext(struct h_table *t, netsnmp_request_info *r)
{
	netsnmp_variable_list *vb = r->requestvb;
	size_t n = t->root_len;
	oid out[MAX_OID_LEN];
	uint32_t after[H_TABLE_MAX_INDEX], cur[H_TABLE_MAX_INDEX];
	const uint32_t *ap = NULL;
	unsigned long col = 0;

	if (snmp_oid_compare(vb->name, vb->name_length, t->root, n) > 0 && vb->name_length > n) {
		/* Inside the table (the master only hands us OIDs in our subtree or before it). */
		if (vb->name[n] > 1)
			return; /* past the entry: nothing of ours follows */
		if (vb->name_length > n + 1) {
			col = vb->name[n + 1];
			if (vb->name_length > n + 2 &&
			    seek_after(t, vb->name + n + 2, vb->name_length - n - 2, after, &ap) == 1)
				col++;
		}
	}
	for (size_t ci = 0; ci < t->ncols; ci++) {
		const struct h_column *c = &t->cols[ci];
		const uint32_t *from;

		/* Columns are declared in ascending order. */
		if (c->col < col || !col_readable(c))
			continue;
		from = c->col == col ? ap : NULL;
		while (row_next(t, from, cur) == 0) {
			/* A row without this value (or gone since) is skipped. */
			if (row_get(t, cur, c->col, vb) == SNMP_ERR_NOERROR) {
				if (c->access == H_WO)
					h_set_octets(vb, "", 0);
				memcpy(out, t->root, n * sizeof(oid));
				out[n] = 1;
				out[n + 1] = c->col;
				for (size_t i = 0; i < t->nindex; i++)
					out[n + 2 + i] = cur[i];
				snmp_set_var_objid(vb, out, n + 2 + t->nindex);
				return;
			}
			memcpy(after, cur, sizeof(cur));
			from = after;
		}
	}
	/* Nothing left: the varbind stays untouched and the agent moves on
	 * to the next registered subtree. */
}

/* ---- the SET transaction ---------------------------------------------------------------------------------- */

#define TXN_KEY "h_table:txn"

struct h_txn {
	size_t n, cap;
	struct h_row **rows; /* in the order the request named them */
	int reserve2_done, action_done, undo_done;
	int failed;
};

static void row_free(struct h_row *row)
{
	if (!row)
		return;
	free(row->work);
	free((void *)row->old);
	free(row->pending_out);
	free(row);
}

static void txn_free(void *p)
{
	struct h_txn *x = p;

	for (size_t i = 0; i < x->n; i++)
		row_free(x->rows[i]);
	free(x->rows);
	free(x);
}

static struct h_txn *txn_get(netsnmp_agent_request_info *reqinfo, int create)
{
	struct h_txn *x = netsnmp_agent_get_list_data(reqinfo, TXN_KEY);

	if (x || !create)
		return x;
	if (!(x = calloc(1, sizeof(*x))))
		return NULL;
	netsnmp_agent_add_list_data(reqinfo, netsnmp_create_data_list(TXN_KEY, x, txn_free));
	return x;
}

struct h_row *h_txn_next(struct h_txn *x, const struct h_table *t, const struct h_row *prev)
{
	size_t i = 0;

	if (!x)
		return NULL;
	if (prev)
		while (i < x->n && x->rows[i++] != prev)
			;
	for (; i < x->n; i++)
		if (x->rows[i]->table == t)
			return x->rows[i];
	return NULL;
}

struct h_row *h_txn_find(struct h_txn *x, const struct h_table *t, const uint32_t *idx)
{
	if (!x)
		return NULL;
	for (size_t i = 0; i < x->n; i++)
		if (x->rows[i]->table == t && idx_cmp(x->rows[i]->idx, idx, t->nindex) == 0)
			return x->rows[i];
	return NULL;
}

/* The request's row of t at idx, loaded on first use: from the engine,
 * else from the rows not active yet, else a new row with defaults. */
static struct h_row *txn_row(struct h_txn *x, struct h_table *t, const uint32_t *idx, netsnmp_request_info *r)
{
	struct h_row *row = h_txn_find(x, t, idx);
	struct h_store_elem *e;
	void *old;

	if (row)
		return row;
	if (cm_grow(&x->rows, &x->cap, x->n, sizeof(*x->rows), 8) < 0)
		return NULL;
	if (!(row = calloc(1, sizeof(*row))) || !(row->work = calloc(1, t->image_size ? t->image_size : 1)) ||
	    !(old = malloc(t->image_size ? t->image_size : 1))) {
		row_free(row);
		return NULL;
	}
	row->table = t;
	memcpy(row->idx, idx, t->nindex * sizeof(uint32_t));
	row->first = r;
	if ((t->ops->next || st_find(t->rows, idx)) && t->ops->load(idx, row->work) == 0) {
		row->in_engine = 1;
		row->status = t->ops->status ? t->ops->status(idx) : RS_ACTIVE;
		row->was = row->status == RS_ACTIVE ? H_WAS_ACTIVE : H_WAS_PENDING;
	} else if ((e = st_find(t->pending, idx))) {
		row->was = H_WAS_PENDING;
		row->status = e->status;
		memcpy(row->work, e->image, t->image_size);
	} else {
		row->was = H_WAS_ABSENT;
		memset(row->work, 0, t->image_size);
		if (t->ops->defaults)
			t->ops->defaults(row->work, idx);
	}
	memcpy(old, row->work, t->image_size);
	row->old = old;
	x->rows[x->n++] = row;
	return row;
}

static void set_error(netsnmp_agent_request_info *reqinfo, netsnmp_request_info *r, int err)
{
	netsnmp_set_request_error(reqinfo, r, err);
}

/* RESERVE1 of one table's varbinds: syntax, then into the request's rows. */
static void reserve1(struct h_table *t, netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	struct h_txn *x = txn_get(reqinfo, 1);
	size_t n = t->root_len;

	sweep(t);
	for (netsnmp_request_info *r = requests; r; r = r->next) {
		netsnmp_variable_list *vb = r->requestvb;
		const struct h_column *c;
		uint32_t idx[H_TABLE_MAX_INDEX];
		struct h_row *row;
		int rc;

		if (r->processed)
			continue;
		if (!x) {
			set_error(reqinfo, r, SNMP_ERR_RESOURCEUNAVAILABLE);
			return;
		}
		if (vb->name_length < n + 2 || vb->name[n] != 1 || !(c = col_find(t, vb->name[n + 1]))) {
			set_error(reqinfo, r, SNMP_ERR_NOCREATION);
			return;
		}
		if (c->access == H_NA || c->access == H_NOTIFY) {
			set_error(reqinfo, r, SNMP_ERR_NOACCESS);
			return;
		}
		if (c->access == H_RO || !t->writable) {
			set_error(reqinfo, r, SNMP_ERR_NOTWRITABLE);
			return;
		}
		if (!parse_index(t, vb->name + n + 2, vb->name_length - n - 2, idx)) {
			set_error(reqinfo, r, SNMP_ERR_NOCREATION);
			return;
		}
		if ((rc = h_column_check(c, vb)) != SNMP_ERR_NOERROR) {
			set_error(reqinfo, r, rc);
			return;
		}
		if (!(row = txn_row(x, t, idx, r))) {
			set_error(reqinfo, r, SNMP_ERR_RESOURCEUNAVAILABLE);
			return;
		}
		if (c->col == t->rowstatus_col) {
			row->rs = *vb->val.integer;
			row->first = r; /* row-level errors belong to the RowStatus varbind */
		} else if (t->ops->store(row->work, c->col, vb)) {
			row->changed |= (uint64_t)1 << c->col;
		}
	}
}

static int row_ready(const struct h_row *row)
{
	return !row->table->ops->ready || row->table->ops->ready(row->work);
}

static size_t txn_new_pending(const struct h_txn *x, const struct h_table *t)
{
	size_t k = 0;

	for (size_t i = 0; i < x->n; i++)
		if (x->rows[i]->table == t && x->rows[i]->was == H_WAS_ABSENT && x->rows[i]->op == H_OP_PENDING)
			k++;
	return k;
}

/* The RowStatus state machine of RFC 2579 (its table in the RowStatus
 * DESCRIPTION): row->op and row->status from what the row was, the verb
 * asked for and whether the row has what it needs. */
static int row_decide(struct h_txn *x, struct h_row *row)
{
	const struct h_table *t = row->table;
	int ready = row_ready(row);

	if (!t->rowstatus_col) {
		/* No RowStatus: rows come from the engine, SETs change them. */
		if (row->was != H_WAS_ACTIVE)
			return SNMP_ERR_NOCREATION;
		row->op = row->changed ? H_OP_UPDATE : H_OP_NONE;
		return SNMP_ERR_NOERROR;
	}
	if (row->rs == RS_DESTROY) {
		/* Setting columns of a row the same request removes makes no sense, but for a destroy's own
		 * parameters. */
		uint64_t params = 0;

		for (size_t i = 0; i < t->ncols; i++)
			if (t->cols[i].flags & H_COL_WITH_DESTROY)
				params |= (uint64_t)1 << t->cols[i].col;
		if (row->changed & ~params)
			return SNMP_ERR_INCONSISTENTVALUE;
		row->status = 0;
		row->op = row->in_engine ? H_OP_DESTROY : row->was == H_WAS_PENDING ? H_OP_DROP : H_OP_NONE;
		return SNMP_ERR_NOERROR;
	}
	switch (row->was) {
	case H_WAS_ABSENT:
		for (size_t i = 0; i < t->nindex; i++)
			if (row->idx[i] < t->index_min)
				return SNMP_ERR_NOCREATION;
		if (row->rs == RS_CREATEANDGO) {
			if (!ready)
				return SNMP_ERR_INCONSISTENTVALUE;
			row->status = RS_ACTIVE;
			row->op = H_OP_CREATE;
			return SNMP_ERR_NOERROR;
		}
		if (row->rs == RS_CREATEANDWAIT) {
			row->status = ready ? RS_NOTINSERVICE : RS_NOTREADY;
			if (t->ops->status) {
				row->op = H_OP_CREATE; /* the engine keeps it as it is */
				return SNMP_ERR_NOERROR;
			}
			/* The cap counts this request's other new rows too. */
			if (h_table_pending_count((struct h_table *)t) + txn_new_pending(x, t) >= pending_max)
				return SNMP_ERR_RESOURCEUNAVAILABLE;
			row->op = H_OP_PENDING;
			return SNMP_ERR_NOERROR;
		}
		/* active / notInService of a row that does not exist; a column alone cannot create one. */
		return row->rs ? SNMP_ERR_INCONSISTENTVALUE : SNMP_ERR_NOCREATION;
	case H_WAS_PENDING:
		if (row->rs == RS_CREATEANDGO || row->rs == RS_CREATEANDWAIT)
			return SNMP_ERR_INCONSISTENTVALUE;
		if (row->rs == RS_ACTIVE) {
			if (!ready)
				return SNMP_ERR_INCONSISTENTVALUE;
			row->status = RS_ACTIVE;
			row->op = row->in_engine ? H_OP_UPDATE : H_OP_CREATE;
			return SNMP_ERR_NOERROR;
		}
		if (row->rs == RS_NOTINSERVICE && !ready)
			return SNMP_ERR_INCONSISTENTVALUE;
		row->status = ready ? RS_NOTINSERVICE : RS_NOTREADY;
		row->op = row->in_engine ? H_OP_UPDATE : H_OP_PENDING;
		return SNMP_ERR_NOERROR;
	default: /* active */
		if (row->rs == RS_CREATEANDGO || row->rs == RS_CREATEANDWAIT)
			return SNMP_ERR_INCONSISTENTVALUE;
		if (row->rs == RS_NOTINSERVICE) {
			/* Most engines keep active rows only: taking one out of
			 * service is not supported, which RFC 2579 answers with
			 * wrongValue. */
			if (!t->ops->status)
				return SNMP_ERR_WRONGVALUE;
			if (!ready)
				return SNMP_ERR_INCONSISTENTVALUE;
			row->status = RS_NOTINSERVICE;
			row->op = H_OP_UPDATE;
			return SNMP_ERR_NOERROR;
		}
		for (size_t i = 0; i < t->ncols; i++)
			if ((t->cols[i].flags & H_COL_NOT_ACTIVE) && h_row_changed(row, t->cols[i].col))
				return SNMP_ERR_INCONSISTENTVALUE;
		row->op = row->changed ? H_OP_UPDATE : H_OP_NONE;
		return SNMP_ERR_NOERROR;
	}
}

/* Rows in SET order: by table rank, then as the request named them. */
static int row_order(const void *a, const void *b)
{
	const struct h_row *x = *(const struct h_row *const *)a, *y = *(const struct h_row *const *)b;

	if (x->table->rank != y->table->rank)
		return x->table->rank < y->table->rank ? -1 : 1;
	return 0;
}

static void txn_sort(struct h_txn *x)
{
	/* A stable insertion sort: requests name few rows. */
	for (size_t i = 1; i < x->n; i++) {
		struct h_row *r = x->rows[i];
		size_t j = i;

		while (j > 0 && row_order(&x->rows[j - 1], &r) > 0) {
			x->rows[j] = x->rows[j - 1];
			j--;
		}
		x->rows[j] = r;
	}
}

static void reserve2(struct h_txn *x, netsnmp_agent_request_info *reqinfo)
{
	int rc;

	txn_sort(x);
	/* Every row's verb first, so that each check sees what the whole request does. */
	for (size_t i = 0; i < x->n; i++) {
		if ((rc = row_decide(x, x->rows[i])) != SNMP_ERR_NOERROR) {
			set_error(reqinfo, x->rows[i]->first, rc);
			x->failed = 1;
			return;
		}
	}
	for (size_t i = 0; i < x->n; i++) {
		struct h_row *row = x->rows[i];

		if (row->op == H_OP_NONE || !row->table->ops->check)
			continue;
		if ((rc = h_table_err(row->table->ops->check(row, x), H_PHASE_CHECK)) != SNMP_ERR_NOERROR) {
			set_error(reqinfo, row->first, rc);
			x->failed = 1;
			return;
		}
	}
}

/* Puts the row's image in the store of rows not active yet (or takes it
 * out: image NULL), keeping what was there for undo. */
static int pending_swap(struct h_row *row, const void *image, int status)
{
	struct h_table *t = (struct h_table *)row->table;
	struct h_store_elem *e;

	if (!t->pending && !(t->pending = st_new(t->nindex, t->image_size)))
		return -ENOMEM;
	if (!row->pending_swapped && (e = st_find(t->pending, row->idx))) {
		if (!(row->pending_out = malloc(t->pending->esize)))
			return -ENOMEM;
		memcpy(row->pending_out, e, t->pending->esize);
	}
	row->pending_swapped = 1;
	if (!image) {
		st_del(t->pending, row->idx);
		return 0;
	}
	if (!(e = st_put(t->pending, row->idx)))
		return -ENOMEM;
	e->status = status;
	e->touched = h_table_clock();
	memcpy(e->image, image, t->image_size);
	return 0;
}

static void pending_restore(struct h_row *row)
{
	struct h_table *t = (struct h_table *)row->table;
	struct h_store_elem *e, *o = row->pending_out;

	if (!row->pending_swapped)
		return;
	if (!o) {
		st_del(t->pending, row->idx);
	} else if ((e = st_put(t->pending, row->idx))) {
		memcpy(e, o, t->pending->esize);
	}
	row->pending_swapped = 0;
}

/* The ACTION and UNDO of a table with ops->verbs (table.h). */
static int row_put(struct h_row *row, const struct h_row_verbs *v)
{
	int rc;

	memcpy((char *)row->work + v->status_off, &row->status, sizeof(int));
	if ((rc = v->put(row->work)) == 0)
		row->done = 1;
	return rc;
}

static int row_put_undo(struct h_row *row, const struct h_row_verbs *v)
{
	int rc = 0;

	if (row->done)
		rc = row->in_engine ? v->put(row->old) : v->del(row->idx[0]);
	row->done = 0;
	return rc;
}

/* Destroys and other verbs that cannot be undone, once every varbind is
 * applied; higher ranks first (a resource before its server).  They run at
 * the end of ACTION, not in COMMIT: as an AgentX subagent, ACTION is
 * CommitSet, the last phase whose state commit the master waits for
 * (stateTxn.c); COMMIT is CleanupSet, which comes after the manager may
 * have its answer, so a kill then would lose an acknowledged destroy.  The
 * cost: when the state commit of the PDU fails, the master's UNDO cannot
 * bring back what was destroyed (it fails with undoFailed). */
static void irreversible(struct h_txn *x)
{
	for (size_t i = x->n; i-- > 0;) {
		struct h_row *row = x->rows[i];
		int rc;

		if (row->op == H_OP_NONE || row->op == H_OP_PENDING || row->op == H_OP_DROP || !row->table->ops->commit)
			continue;
		row->irreversible_done = 1;
		if ((rc = row->table->ops->commit(row)) < 0)
			cm_log(CM_LOG_ERR, "handlers", "%s: destroy failed: %s", row->table->name, strerror(-rc));
	}
}

static void action(struct h_txn *x, netsnmp_agent_request_info *reqinfo)
{
	for (size_t i = 0; i < x->n; i++) {
		struct h_row *row = x->rows[i];
		const struct h_table *t = row->table;
		int rc = 0;

		switch (row->op) {
		case H_OP_CREATE:
		case H_OP_UPDATE:
			rc = t->ops->action ? t->ops->action(row, x) : row_put(row, t->ops->verbs);
			row->acted = 1; /* undo reverses what part of it ran */
			if (rc == 0 && row->op == H_OP_CREATE && row->was == H_WAS_PENDING)
				rc = pending_swap(row, NULL, 0);
			break;
		case H_OP_PENDING: rc = pending_swap(row, row->work, row->status); break;
		case H_OP_DROP: rc = pending_swap(row, NULL, 0); break;
		default: break; /* DESTROY: once everything else is applied */
		}
		if (rc < 0) {
			cm_log(CM_LOG_WARNING, "handlers", "%s: SET failed: %s", t->name, strerror(-rc));
			set_error(reqinfo, row->first, h_table_err(rc, H_PHASE_ACTION));
			x->failed = 1;
			return;
		}
	}
	irreversible(x);
}

static void undo(struct h_txn *x, netsnmp_agent_request_info *reqinfo)
{
	for (size_t i = x->n; i-- > 0;) {
		struct h_row *row = x->rows[i];
		int rc = 0;

		if (row->acted && row->table->ops->undo)
			rc = row->table->ops->undo(row);
		else if (row->acted && row->table->ops->verbs)
			rc = row_put_undo(row, row->table->ops->verbs);
		if (row->irreversible_done && row->op == H_OP_DESTROY)
			rc = -ENOTRECOVERABLE;
		row->acted = 0;
		pending_restore(row);
		if (rc < 0) {
			cm_log(CM_LOG_ERR, "handlers", "%s: cannot undo a SET: %s", row->table->name, strerror(-rc));
			set_error(reqinfo, row->first, SNMP_ERR_UNDOFAILED);
		}
	}
}

static int table_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                         netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	struct h_table *t = handler->myvoid;
	struct h_txn *x;

	(void)reginfo;
	switch (reqinfo->mode) {
	case MODE_GET:
		sweep(t);
		for (netsnmp_request_info *r = requests; r; r = r->next)
			if (!r->processed)
				do_get(t, reqinfo, r);
		return SNMP_ERR_NOERROR;
	case MODE_GETNEXT:
		sweep(t);
		for (netsnmp_request_info *r = requests; r; r = r->next)
			if (!r->processed)
				do_getnext(t, r);
		return SNMP_ERR_NOERROR;
	case MODE_SET_RESERVE1:
		if (!t->writable || !t->ops->store) {
			for (netsnmp_request_info *r = requests; r; r = r->next)
				set_error(reqinfo, r, SNMP_ERR_NOTWRITABLE);
			return SNMP_ERR_NOERROR;
		}
		reserve1(t, reqinfo, requests);
		return SNMP_ERR_NOERROR;
	default: break;
	}
	/* The later phases run once per request for every table in it (the
	 * first table the agent calls does the work), in rank order. */
	if (!(x = txn_get(reqinfo, 0)))
		return SNMP_ERR_NOERROR;
	switch (reqinfo->mode) {
	case MODE_SET_RESERVE2:
		if (!x->reserve2_done++)
			reserve2(x, reqinfo);
		break;
	case MODE_SET_ACTION:
		if (!x->action_done++)
			action(x, reqinfo);
		break;
	case MODE_SET_UNDO:
		if (!x->undo_done++)
			undo(x, reqinfo);
		break;
	default: break; /* COMMIT: ACTION did it all; FREE: the transaction goes with the request */
	}
	return SNMP_ERR_NOERROR;
}

int h_table_register(struct h_table *t)
{
	netsnmp_handler_registration *reg;
	int rc;

	if (t->reg)
		return 0;
	if (t->nindex < 1 || t->nindex > H_TABLE_MAX_INDEX)
		return -EINVAL;
	/* Without HANDLER_CAN_GETBULK, net-snmp puts bulk_to_next in front. */
	reg = netsnmp_create_handler_registration(t->name, table_handler, t->root, t->root_len,
	                                          t->writable ? HANDLER_CAN_RWRITE : HANDLER_CAN_RONLY);
	if (!reg)
		return -ENOMEM;
	reg->handler->myvoid = t; /* before the injection puts another handler first */
	/* One state commit per PDU, durable before the answer (stateTxn.c). */
	if (t->writable && h_stxn_inject(reg) < 0) {
		netsnmp_handler_registration_free(reg);
		return -ENOMEM;
	}
	rc = netsnmp_register_handler(reg);
	if (rc != MIB_REGISTERED_OK) {
		cm_log(CM_LOG_ERR, "handlers", "cannot register %s (%d)", t->name, rc);
		return -EEXIST;
	}
	t->reg = reg;
	return 0;
}

void h_table_unregister(struct h_table *t)
{
	if (t->reg) {
		netsnmp_unregister_handler(t->reg);
		t->reg = NULL;
	}
	st_free(t->pending);
	st_free(t->rows);
	t->pending = t->rows = NULL;
}

/* ---- NextIndex scalars ------------------------------------------------------------------------------------- */

static int next_index_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                              netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	const struct h_next_index *n = handler->myvoid;
	uint32_t v;

	(void)reginfo;
	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	v = n->value();
	if (n->table)
		while (v < UINT32_MAX && h_table_pending_has(n->table, &v))
			v++;
	for (netsnmp_request_info *r = requests; r; r = r->next)
		if (!r->processed)
			h_set_u32(r->requestvb, ASN_UNSIGNED, v);
	return SNMP_ERR_NOERROR;
}

int h_next_index_register(struct h_next_index *n)
{
	netsnmp_handler_registration *reg;

	if (n->reg)
		return 0;
	reg = netsnmp_create_handler_registration(n->name, next_index_handler, n->root, n->root_len, HANDLER_CAN_RONLY);
	if (!reg)
		return -ENOMEM;
	reg->handler->myvoid = n;
	/* A failed registration frees reg. */
	if (netsnmp_register_scalar(reg) != MIB_REGISTERED_OK) {
		cm_log(CM_LOG_ERR, "handlers", "cannot register %s", n->name);
		return -EEXIST;
	}
	n->reg = reg;
	return 0;
}

void h_next_index_unregister(struct h_next_index *n)
{
	if (n->reg) {
		netsnmp_unregister_handler(n->reg);
		n->reg = NULL;
	}
}
