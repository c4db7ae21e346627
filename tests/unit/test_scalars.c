/* test_scalars.c: the scalar-group framework in-process: groups on a fixture engine, requests through net-snmp's
 * agent, no snmpd. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/scalars.h"
#include "tests/unit/agent_session.h"

/* ---- fixture engine: parameters with a cross-check, a counter, a trigger ------------------------------------ */

struct fx_params {
	uint32_t lo, hi; /* lo <= hi */
	int mode;        /* 3: the engine refuses it */
	int flag;
	char label[17]; /* "fail": the verb fails */
};

static struct fx_params params;
static uint32_t other;         /* a second group's one object; the verb fails for 42 */
static unsigned int set_calls; /* the parameters' verb */
static unsigned int triggers;  /* the trigger, once a request succeeded */
static int engine_off;         /* validate answers -ENODEV */

static int fx_validate(const struct fx_params *p)
{
	if (engine_off)
		return -ENODEV;
	if (p->lo > p->hi)
		return -EDOM;
	return p->mode == 3 ? -EBUSY : 0;
}

static int fx_set(const struct fx_params *p)
{
	int rc = fx_validate(p);

	if (rc < 0)
		return rc;
	if (!strcmp(p->label, "fail"))
		return -EFAULT;
	set_calls++;
	params = *p;
	return 0;
}

/* ---- the fixture groups, written as every group file is ----------------------------------------------------- */

#define FX_ROOT 1, 3, 6, 1, 4, 1, 32473, 98
static const oid params_oid[] = {FX_ROOT, 10};
static const oid other_oid[] = {FX_ROOT, 11};
static const oid counters_oid[] = {FX_ROOT, 12};
static const oid single_oid[] = {FX_ROOT, 13};

enum { P_LO = 1, P_HI, P_MODE, P_FLAG, P_LABEL, P_COUNT = 7, P_TRIGGER };

static const struct h_column params_objs[] = {
    {P_LO, H_RW, H_SYN_UINT, 0, 0, 1000},
    {P_HI, H_RW, H_SYN_UINT, 0, 0, 1000},
    {P_MODE, H_RW, H_SYN_INT, 0, 1, 3},
    {P_FLAG, H_RW, H_SYN_TRUTH, 0, 0, 0},
    {P_LABEL, H_RW, H_SYN_ADMIN_STRING, 0, 0, 16},
    {P_COUNT, H_RO, H_SYN_ANY, 0, 0, 0},
    {P_TRIGGER, H_RW, H_SYN_INT, 0, 0, 1},
};

struct params_image {
	struct fx_params p;
	int trigger;
};

static int params_get(unsigned int sub, netsnmp_variable_list *vb)
{
	switch (sub) {
	case P_LO: h_set_u32(vb, ASN_UNSIGNED, params.lo); break;
	case P_HI: h_set_u32(vb, ASN_UNSIGNED, params.hi); break;
	case P_MODE: h_set_int(vb, params.mode); break;
	case P_FLAG: h_set_int(vb, params.flag ? 1 : 2); break;
	case P_LABEL: h_set_str(vb, params.label, sizeof(params.label)); break;
	case P_COUNT: h_set_u64(vb, 1000 + set_calls); break;
	case P_TRIGGER: h_set_int(vb, 0); break;
	default: return SNMP_NOSUCHOBJECT;
	}
	return SNMP_ERR_NOERROR;
}

static void params_load(void *image)
{
	struct params_image *w = image;

	w->p = params;
}

static int params_store(void *image, unsigned int sub, const netsnmp_variable_list *vb)
{
	struct params_image *w = image;

	switch (sub) {
	case P_LO: return h_put_u32(&w->p.lo, vb);
	case P_HI: return h_put_u32(&w->p.hi, vb);
	case P_MODE: return h_put_int(&w->p.mode, vb);
	case P_FLAG: return h_put_bool(&w->p.flag, vb);
	case P_LABEL: return h_put_str(w->p.label, sizeof(w->p.label), vb);
	case P_TRIGGER: return h_put_int(&w->trigger, vb);
	default: return 0;
	}
}

static int params_check(struct h_scalar_txn *x)
{
	const struct params_image *w = x->work;

	if (w->p.mode == 3)
		x->blame = P_MODE;
	return fx_validate(&w->p);
}

/* The objects the request names, over the values in force. */
static void overlay(struct fx_params *dst, const struct fx_params *src, const struct h_scalar_txn *x)
{
	if (h_scalar_named(x, P_LO))
		dst->lo = src->lo;
	if (h_scalar_named(x, P_HI))
		dst->hi = src->hi;
	if (h_scalar_named(x, P_MODE))
		dst->mode = src->mode;
	if (h_scalar_named(x, P_FLAG))
		dst->flag = src->flag;
	if (h_scalar_named(x, P_LABEL))
		memcpy(dst->label, src->label, sizeof(dst->label));
}

static int params_apply(struct h_scalar_txn *x)
{
	const struct params_image *w = x->work;
	struct fx_params p = params;
	int rc;

	overlay(&p, &w->p, x);
	if ((rc = fx_set(&p)) == 0)
		x->done = 1;
	if (rc < 0 && h_scalar_named(x, P_LABEL))
		x->blame = P_LABEL;
	return rc;
}

static int params_undo(struct h_scalar_txn *x)
{
	const struct params_image *old = x->old;
	struct fx_params p = params;

	if (!x->done)
		return 0;
	overlay(&p, &old->p, x);
	return fx_set(&p);
}

static void params_commit(struct h_scalar_txn *x)
{
	if (((const struct params_image *)x->work)->trigger)
		triggers++;
}

static const struct h_scalar_ops params_ops = {
    .get = params_get,
    .load = params_load,
    .store = params_store,
    .check = params_check,
    .apply = params_apply,
    .undo = params_undo,
    .commit = params_commit,
};

static struct h_scalar_group params_group = {
    .name = "fxParams",
    .root = params_oid,
    .root_len = OID_LENGTH(params_oid),
    .objs = params_objs,
    .nobjs = sizeof(params_objs) / sizeof(params_objs[0]),
    .image_size = sizeof(struct params_image),
    .writable = 1,
    .ops = &params_ops,
};

/* A second writable group: its verb fails for 42, after the parameters' verb ran. */
static const struct h_column other_objs[] = {{1, H_RW, H_SYN_UINT, 0, 0, 100}};

static int other_get(unsigned int sub, netsnmp_variable_list *vb)
{
	(void)sub;
	h_set_u32(vb, ASN_GAUGE, other);
	return SNMP_ERR_NOERROR;
}

static void other_load(void *image)
{
	*(uint32_t *)image = other;
}

static int other_store(void *image, unsigned int sub, const netsnmp_variable_list *vb)
{
	(void)sub;
	return h_put_u32(image, vb);
}

static int other_apply(struct h_scalar_txn *x)
{
	uint32_t v = *(const uint32_t *)x->work;

	if (v == 42)
		return -EFAULT;
	other = v;
	return 0;
}

static int other_undo(struct h_scalar_txn *x)
{
	other = *(const uint32_t *)x->old;
	return 0;
}

static const struct h_scalar_ops other_ops = {
    .get = other_get,
    .load = other_load,
    .store = other_store,
    .apply = other_apply,
    .undo = other_undo,
};

static struct h_scalar_group other_group = {
    .name = "fxOther",
    .root = other_oid,
    .root_len = OID_LENGTH(other_oid),
    .objs = other_objs,
    .nobjs = 1,
    .image_size = sizeof(uint32_t),
    .writable = 1,
    .ops = &other_ops,
};

/* Read-only counters, with a hole at 2. */
static const struct h_column counters_objs[] = {{1, H_RO, H_SYN_ANY, 0, 0, 0}, {3, H_RO, H_SYN_ANY, 0, 0, 0}};

static int counters_get(unsigned int sub, netsnmp_variable_list *vb)
{
	h_set_u64(vb, (uint64_t)sub << 32);
	return SNMP_ERR_NOERROR;
}

static const struct h_scalar_ops counters_ops = {.get = counters_get};
static struct h_scalar_group counters_group = {
    .name = "fxCounters",
    .root = counters_oid,
    .root_len = OID_LENGTH(counters_oid),
    .objs = counters_objs,
    .nobjs = 2,
    .ops = &counters_ops,
};

/* One object registered at its own OID. */
static const struct h_column single_objs[] = {{0, H_RO, H_SYN_ANY, 0, 0, 0}};

static int single_get(unsigned int sub, netsnmp_variable_list *vb)
{
	(void)sub;
	h_set_int(vb, 7);
	return SNMP_ERR_NOERROR;
}

static const struct h_scalar_ops single_ops = {.get = single_get};
static struct h_scalar_group single_group = {
    .name = "fxSingle",
    .root = single_oid,
    .root_len = OID_LENGTH(single_oid),
    .objs = single_objs,
    .nobjs = 1,
    .ops = &single_ops,
};

/* ---- requests through the agent (tests/unit/agent_session.h) ---------------------------------------------- */

static void setup(void)
{
	agent_session_open("sanagent-test-scalars");
	memset(&params, 0, sizeof(params));
	params.lo = 10;
	params.hi = 20;
	params.mode = 1;
	snprintf(params.label, sizeof(params.label), "start");
	other = 5;
	set_calls = triggers = 0;
	engine_off = 0;
	ck_assert_int_eq(h_scalar_register(&params_group), 0);
	ck_assert_int_eq(h_scalar_register(&other_group), 0);
	ck_assert_int_eq(h_scalar_register(&counters_group), 0);
	ck_assert_int_eq(h_scalar_register(&single_group), 0);
}

static void teardown(void)
{
	h_scalar_unregister(&params_group);
	h_scalar_unregister(&other_group);
	h_scalar_unregister(&counters_group);
	h_scalar_unregister(&single_group);
}

#define P ".1.3.6.1.4.1.32473.98.10"
#define O ".1.3.6.1.4.1.32473.98.11"
#define C ".1.3.6.1.4.1.32473.98.12"
#define S ".1.3.6.1.4.1.32473.98.13"

/* ---- GET and GETNEXT -------------------------------------------------------------------------------------- */

START_TEST(get_and_walk)
{
	static const char *const want[] = {P ".1.0", P ".2.0", P ".3.0", P ".4.0", P ".5.0", P ".7.0",
	                                   P ".8.0", O ".1.0", C ".1.0", C ".3.0", S ".0"};
	char got[4096], exp[4096], b[64];

	oid_lines(want, sizeof(want) / sizeof(want[0]), exp, sizeof(exp));
	/* Objects in order, holes skipped, across groups. */
	walk_n(".1.3.6.1.4.1.32473.98", ".1.3.6.1.4.1.32473.98", got, sizeof(got), 100);
	ck_assert_str_eq(got, exp);
	ck_assert_int_eq(get_int(P ".1.0"), 10);
	ck_assert_int_eq(get_int(P ".4.0"), 2);
	get_str(P ".5.0", b, sizeof(b));
	ck_assert_str_eq(b, "start");
	get_str(P ".7.0", b, sizeof(b));
	ck_assert_str_eq(b, "0:1000");
	get_str(C ".3.0", b, sizeof(b));
	ck_assert_str_eq(b, "3:0");
	ck_assert_int_eq(get_int(S ".0"), 7);
	/* A hole, an instance other than 0, past the last object. */
	get_str(P ".6.0", b, sizeof(b));
	ck_assert_str_eq(b, "noSuchObject");
	get_str(P ".1.1", b, sizeof(b));
	ck_assert_str_eq(b, "noSuchInstance");
	get_str(P ".9.0", b, sizeof(b));
	ck_assert_str_eq(b, "noSuchObject");
}
END_TEST

START_TEST(getbulk_and_declarations)
{
	static const struct h_column unsorted[] = {H_SCALAR_RO(2), H_SCALAR_RO(1)};
	static const struct h_column too_far[] = {H_SCALAR_RO(H_TABLE_MAX_COL + 1)};
	static const oid bad_oid[] = {FX_ROOT, 14};
	struct h_scalar_group bad = {
	    .name = "fxBad",
	    .root = bad_oid,
	    .root_len = OID_LENGTH(bad_oid),
	    .objs = unsorted,
	    .nobjs = 2,
	    .ops = &counters_ops,
	};
	netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GETBULK), *resp;
	netsnmp_variable_list *v;
	oid o[MAX_OID_LEN];
	size_t len = oid_of(P ".4.0", o);
	int n = 0;

	/* GETBULK: the group's objects after .4, holes skipped, then the next group. */
	pdu->non_repeaters = 0;
	pdu->max_repetitions = 4;
	snmp_add_null_var(pdu, o, len);
	resp = send_pdu(pdu);
	ck_assert_int_eq(resp->errstat, 0);
	for (v = resp->variables; v; v = v->next_variable, n++) {
		static const oid last[] = {FX_ROOT, 11, 1, 0};

		if (n == 3) {
			ck_assert_int_eq(snmp_oid_compare(v->name, v->name_length, last, OID_LENGTH(last)), 0);
			ck_assert_int_eq(v->type, ASN_GAUGE);
		}
	}
	ck_assert_int_eq(n, 4);
	snmp_free_pdu(resp);
	/* Objects in ascending order, within the columns the framework can track. */
	ck_assert_int_eq(h_scalar_register(&bad), -EINVAL);
	bad.objs = too_far;
	bad.nobjs = 1;
	ck_assert_int_eq(h_scalar_register(&bad), -EINVAL);
}
END_TEST

/* ---- SET: syntax, checked by the framework ------------------------------------------------------------------ */

START_TEST(syntax)
{
	long idx;

	ck_assert_int_eq(set_req(&idx, P ".1.0", 'i', "5", NULL), SNMP_ERR_WRONGTYPE);
	ck_assert_int_eq(set_req(&idx, P ".1.0", 'u', "1001", NULL), SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, P ".3.0", 'i', "0", NULL), SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, P ".3.0", 'i', "4", NULL), SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, P ".4.0", 'i', "3", NULL), SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, P ".5.0", 's', "seventeen-octets!", NULL), SNMP_ERR_WRONGLENGTH);
	ck_assert_int_eq(set_req(&idx, P ".5.0", 'x', "61FF62", NULL), SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(set_req(&idx, P ".7.0", 'i', "1", NULL), SNMP_ERR_NOTWRITABLE);
	ck_assert_int_eq(set_req(&idx, P ".6.0", 'i', "1", NULL), SNMP_ERR_NOTWRITABLE);
	ck_assert_int_eq(set_req(&idx, C ".1.0", 'i', "1", NULL), SNMP_ERR_NOTWRITABLE);
	ck_assert_int_eq(set_req(&idx, S ".0", 'i', "1", NULL), SNMP_ERR_NOTWRITABLE);
	ck_assert_int_eq(set_req(&idx, P ".1.1", 'u', "1", NULL), SNMP_ERR_NOCREATION);
	/* The failing varbind is named, after a good one. */
	ck_assert_int_eq(set_req(&idx, P ".2.0", 'u', "30", P ".1.0", 'u', "2000", NULL), SNMP_ERR_WRONGVALUE);
	ck_assert_int_eq(idx, 2);
	ck_assert_int_eq(params.hi, 20);
	ck_assert_uint_eq(set_calls, 0);
	ck_assert_int_eq(set_req(&idx, P ".5.0", 'x', "C3A9", P ".4.0", 'i', "1", NULL), SNMP_ERR_NOERROR);
	ck_assert_str_eq(params.label, "\xc3\xa9");
	ck_assert_int_eq(params.flag, 1);
}
END_TEST

/* ---- SET: one transaction per group and request ------------------------------------------------------------- */

START_TEST(validated_together)
{
	long idx;

	/* lo 30 alone would pass hi 20; with hi 40 in the same PDU it is right, and one verb applies both. */
	ck_assert_int_eq(set_req(&idx, P ".1.0", 'u', "30", P ".2.0", 'u', "40", NULL), SNMP_ERR_NOERROR);
	ck_assert_uint_eq(params.lo, 30);
	ck_assert_uint_eq(params.hi, 40);
	ck_assert_uint_eq(set_calls, 1);
	/* The engine's validate: at the group's last varbind, or at the object it blames. */
	ck_assert_int_eq(set_req(&idx, P ".1.0", 'u', "50", NULL), SNMP_ERR_INCONSISTENTVALUE);
	ck_assert_int_eq(set_req(&idx, P ".2.0", 'u', "10", O ".1.0", 'u', "6", P ".4.0", 'i', "2", NULL),
	                 SNMP_ERR_INCONSISTENTVALUE);
	ck_assert_int_eq(idx, 3);
	ck_assert_int_eq(set_req(&idx, P ".3.0", 'i', "3", P ".1.0", 'u', "1", NULL), SNMP_ERR_INCONSISTENTVALUE);
	ck_assert_int_eq(idx, 1);
	engine_off = 1;
	ck_assert_int_eq(set_req(&idx, P ".1.0", 'u', "1", NULL), SNMP_ERR_INCONSISTENTVALUE);
	engine_off = 0;
	ck_assert_uint_eq(params.lo, 30);
	ck_assert_uint_eq(other, 5);
	ck_assert_uint_eq(set_calls, 1);
}
END_TEST

START_TEST(undo_after_a_later_failure)
{
	long idx;

	/* The parameters applied, then the other group's verb fails: the parameters are put back. */
	ck_assert_int_eq(set_req(&idx, P ".1.0", 'u', "5", P ".8.0", 'i', "1", O ".1.0", 'u', "42", NULL),
	                 SNMP_ERR_COMMITFAILED);
	ck_assert_int_eq(idx, 3);
	ck_assert_uint_eq(params.lo, 10);
	ck_assert_uint_eq(set_calls, 2); /* applied, then undone */
	ck_assert_uint_eq(triggers, 0);  /* what cannot be undone waits for success */
	/* The other group first, then the parameters' verb fails (at the object it blames). */
	ck_assert_int_eq(set_req(&idx, O ".1.0", 'u', "7", P ".1.0", 'u', "6", P ".5.0", 's', "fail", NULL),
	                 SNMP_ERR_COMMITFAILED);
	ck_assert_int_eq(idx, 3);
	ck_assert_uint_eq(other, 5);
	ck_assert_uint_eq(params.lo, 10);
	ck_assert_str_eq(params.label, "start");
	/* Success: the trigger runs once, and reads 0. */
	ck_assert_int_eq(set_req(&idx, P ".8.0", 'i', "1", O ".1.0", 'u', "7", NULL), SNMP_ERR_NOERROR);
	ck_assert_uint_eq(triggers, 1);
	ck_assert_uint_eq(other, 7);
	ck_assert_int_eq(get_int(P ".8.0"), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("scalars");
	TCase *tc = tcase_create("framework");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, get_and_walk);
	tcase_add_test(tc, getbulk_and_declarations);
	tcase_add_test(tc, syntax);
	tcase_add_test(tc, validated_together);
	tcase_add_test(tc, undo_after_a_later_failure);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
