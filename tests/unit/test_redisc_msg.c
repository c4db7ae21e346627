/* test_redisc_msg.c: the rediscovery messages' codec with seed 000's Fig. 2 as vectors (Host_1 the offender, Host_2
 * the other initiator, target X moving off interface 36, the other interface 38, target Y): what the name server
 * encodes, the initiator decodes the same; what is malformed is refused. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engines/redisc_msg.h"

#define HOST1 "iqn.2026-01.org.example:host1"
#define HOST2 "iqn.2026-01.org.example:host2"
#define TX "iqn.2026-01.org.example:storage.x"
#define TY "iqn.2026-01.org.example:storage.y"

/* What the trap receiver hands over: the varbinds after sysUpTime.0 and snmpTrapOID.0. */
struct ut_trap {
	struct cm_trap t;
	struct cm_trap_var v[REDISC_MSG_MAX_VBS + 2];
};

static void to_trap(const struct redisc_msg_enc *enc, int n, int type, struct ut_trap *u)
{
	memset(u, 0, sizeof(*u));
	u->t.trap_oid = redisc_msg_trap_oid(type, &u->t.trap_oid_len);
	u->t.version = 3;
	u->t.is_inform = 1;
	for (int i = 0; i < n; i++) {
		const struct cm_snmpc_vb *vb = &enc->vb[i];
		struct cm_trap_var *v = &u->v[i];

		v->oid = vb->oid;
		v->oid_len = vb->oidlen;
		switch (vb->type) {
		case CM_SNMPC_INTEGER:
			v->type = SA_TV_INTEGER;
			v->ival = vb->i;
			break;
		case CM_SNMPC_UNSIGNED:
			v->type = SA_TV_UNSIGNED;
			v->ival = (int64_t)vb->u;
			break;
		default:
			v->type = SA_TV_STRING;
			v->str = (const unsigned char *)vb->str;
			v->str_len = vb->len;
		}
	}
	u->t.vars = u->v;
	u->t.nvars = (size_t)n;
}

static struct redisc_msg type1(void)
{
	struct redisc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = 1;
	strcpy(m.initiator, HOST2);
	strcpy(m.target, TX);
	ck_assert_int_eq(redisc_msg_portal_parse("192.0.2.4:3260", &m.portal), 0);
	ck_assert_int_eq(redisc_msg_portal_parse("192.0.2.3:3260", &m.old), 0);
	return m;
}

static struct redisc_msg type2(void)
{
	struct redisc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = 2;
	strcpy(m.initiator, HOST1);
	strcpy(m.old_target, TX);
	strcpy(m.target, TX);
	m.alt_kind = REDISC_MSG_OTHER_PORTAL;
	ck_assert_int_eq(redisc_msg_portal_parse("198.51.100.52:3260", &m.portal), 0);
	ck_assert_int_eq(redisc_msg_portal_parse("192.0.2.3:3260", &m.old), 0);
	return m;
}

START_TEST(type1_round_trip)
{
	struct redisc_msg m = type1(), d;
	struct redisc_msg_enc enc;
	struct ut_trap u;
	char text[72];
	int n = redisc_msg_encode(&m, &enc);

	/* The OBJECTS clause: initiator, target, address type, address, port, then the old address's three. */
	ck_assert_int_eq(n, 8);
	ck_assert_uint_eq(enc.vb[0].oid[enc.vb[0].oidlen - 2], REDISC_FB_INITIATOR);
	ck_assert_uint_eq(enc.vb[0].oid[enc.vb[0].oidlen - 1], 0);
	ck_assert_uint_eq(enc.vb[4].oid[enc.vb[4].oidlen - 2], REDISC_FB_PORT);
	ck_assert_uint_eq(enc.vb[7].oid[enc.vb[7].oidlen - 2], REDISC_FB_OLD_PORT);
	to_trap(&enc, n, 1, &u);
	ck_assert_int_eq(redisc_msg_decode(&u.t, &d), 0);
	ck_assert_int_eq(d.type, 1);
	ck_assert_str_eq(d.initiator, HOST2);
	ck_assert_str_eq(d.target, TX);
	redisc_msg_portal_text(&d.portal, text, sizeof(text));
	ck_assert_str_eq(text, "192.0.2.4:3260");
	redisc_msg_portal_text(&d.old, text, sizeof(text));
	ck_assert_str_eq(text, "192.0.2.3:3260");
}
END_TEST

START_TEST(type2_round_trip_both_kinds)
{
	struct redisc_msg m = type2(), d;
	struct redisc_msg_enc enc;
	struct ut_trap u;
	char text[72];
	int n = redisc_msg_encode(&m, &enc);

	ck_assert_int_eq(n, 10);
	to_trap(&enc, n, 2, &u);
	ck_assert_int_eq(redisc_msg_decode(&u.t, &d), 0);
	ck_assert_int_eq(d.type, 2);
	ck_assert_str_eq(d.old_target, TX);
	ck_assert_int_eq(d.alt_kind, REDISC_MSG_OTHER_PORTAL);
	redisc_msg_portal_text(&d.portal, text, sizeof(text));
	ck_assert_str_eq(text, "198.51.100.52:3260");

	/* The seed's target Y, IPv6 this time. */
	strcpy(m.target, TY);
	m.alt_kind = REDISC_MSG_OTHER_TARGET;
	ck_assert_int_eq(redisc_msg_portal_parse("[2001:db8::52]:3261", &m.portal), 0);
	n = redisc_msg_encode(&m, &enc);
	to_trap(&enc, n, 2, &u);
	ck_assert_int_eq(redisc_msg_decode(&u.t, &d), 0);
	ck_assert_str_eq(d.target, TY);
	ck_assert_int_eq(d.alt_kind, REDISC_MSG_OTHER_TARGET);
	redisc_msg_portal_text(&d.portal, text, sizeof(text));
	ck_assert_str_eq(text, "[2001:db8::52]:3261");
}
END_TEST

START_TEST(malformed_is_refused)
{
	struct redisc_msg m = type1(), d;
	struct redisc_msg_enc enc;
	struct ut_trap u;
	unsigned char four[4] = {192, 0, 2, 4};
	int n = redisc_msg_encode(&m, &enc);

	/* A type 1 under the type-2 OID lacks the old target and the kind. */
	to_trap(&enc, n, 2, &u);
	ck_assert_int_eq(redisc_msg_decode(&u.t, &d), -EBADMSG);
	/* Without the new port. */
	to_trap(&enc, n, 1, &u);
	u.v[4].oid_len = 3;
	ck_assert_int_eq(redisc_msg_decode(&u.t, &d), -EBADMSG);
	/* An IPv6 type with four address bytes. */
	to_trap(&enc, n, 1, &u);
	u.v[2].ival = 2;
	ck_assert_int_eq(redisc_msg_decode(&u.t, &d), -EBADMSG);
	/* Half an old address. */
	to_trap(&enc, 7, 1, &u);
	ck_assert_int_eq(redisc_msg_decode(&u.t, &d), -EBADMSG);
	/* None at all is fine: the initiator then moves what is not at the new one. */
	to_trap(&enc, 5, 1, &u);
	ck_assert_int_eq(redisc_msg_decode(&u.t, &d), 0);
	ck_assert_int_eq(d.old.type, 0);
	/* A name with a blank, a string where a port goes, the same object twice. */
	to_trap(&enc, n, 1, &u);
	u.v[1].str = (const unsigned char *)"iqn.x y";
	u.v[1].str_len = 7;
	ck_assert_int_eq(redisc_msg_decode(&u.t, &d), -EBADMSG);
	to_trap(&enc, n, 1, &u);
	u.v[4].type = SA_TV_STRING;
	u.v[4].str = four;
	u.v[4].str_len = 4;
	ck_assert_int_eq(redisc_msg_decode(&u.t, &d), -EBADMSG);
	to_trap(&enc, n, 1, &u);
	u.v[1] = u.v[0];
	ck_assert_int_eq(redisc_msg_decode(&u.t, &d), -EBADMSG);
	/* Another notification is not a message. */
	to_trap(&enc, n, 1, &u);
	{
		static const uint32_t fb[] = {REDISC_OID_NOTIFICATIONS, REDISC_N_FEEDBACK};

		u.t.trap_oid = fb;
	}
	ck_assert_int_eq(redisc_msg_decode(&u.t, &d), -EBADMSG);
}
END_TEST

START_TEST(encode_refuses_what_cannot_be_sent)
{
	struct redisc_msg m = type1();
	struct redisc_msg_enc enc;

	m.portal.port = 0;
	ck_assert_int_eq(redisc_msg_encode(&m, &enc), -EINVAL);
	m = type2();
	m.alt_kind = 0;
	ck_assert_int_eq(redisc_msg_encode(&m, &enc), -EINVAL);
	m = type2();
	m.old_target[0] = 0;
	ck_assert_int_eq(redisc_msg_encode(&m, &enc), -EINVAL);
	m = type1();
	m.type = 3;
	ck_assert_int_eq(redisc_msg_encode(&m, &enc), -EINVAL);
}
END_TEST

START_TEST(portal_text_forms)
{
	struct redisc_msg_portal p;

	ck_assert_int_eq(redisc_msg_portal_parse("192.0.2.3", &p), -EINVAL); /* a portal has a port */
	ck_assert_int_eq(redisc_msg_portal_parse("192.0.2.3:0", &p), -EINVAL);
	ck_assert_int_eq(redisc_msg_portal_parse("2001:db8::1:3260", &p), -EINVAL); /* v6 wants brackets */
	ck_assert_int_eq(redisc_msg_portal_parse("host.example:3260", &p), -EINVAL);
	ck_assert_int_eq(redisc_msg_portal_parse("[2001:db8::1]:3260", &p), 0);
	ck_assert_int_eq(p.type, 2);
	ck_assert_int_eq(p.port, 3260);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("redisc_msg");
	TCase *tc = tcase_create("codec");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, type1_round_trip);
	tcase_add_test(tc, type2_round_trip_both_kinds);
	tcase_add_test(tc, malformed_is_refused);
	tcase_add_test(tc, encode_refuses_what_cannot_be_sent);
	tcase_add_test(tc, portal_text_forms);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
