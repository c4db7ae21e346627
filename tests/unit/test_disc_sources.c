/* test_disc_sources.c: discovery sources created at runtime (engines/discovery/engine.c): the validate function's
 * answer to each bad input, create and destroy, rows of the config file and of a scan that SNMP may not destroy,
 * persistence across an engine restart (nonVolatile back with its index, volatile gone), credentials in use, and
 * the initiator-wide default credential (creds.c).  No loop: timers never fire, so nothing is asked. */
#define _GNU_SOURCE /* nftw */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/evloop.h"
#include "common/state.h"
#include "engines/discovery/discovery.h"
#include "engines/discovery/login.h"
#include "engines/registry.h"
#include "tests/unit/tmpdir.h"

/* ---- a loop whose timers never fire ------------------------------------------------------------------------ */
#define EVLOOP_STUB_TIMER_ID 1
#include "tests/unit/evloop_stub.h"

static char ut_dir[256], ut_state_path[300];
static struct cm_state *ut_state;
static char *portals[] = {"127.0.0.3:3260"};
static struct sa_discovery_config cfg = {.initiator_name = "iqn.2026-12.org.sanagent:unit",
                                         .login_initiator_name = "iqn.2026-12.org.sanagent:unit",
                                         .portals = portals,
                                         .nportals = 1,
                                         .interval = 600,
                                         .age_out = 600,
                                         .timeout_ms = 1000,
                                         .max_reply = 65536,
                                         .chap_secret_min = 12,
                                         .chap_secret_max = 16};

static void engine_start(void)
{
	char err[160];
	int corrupt = 0;

	ck_assert_int_eq(cm_state_open(ut_state_path, &ut_state, &corrupt), 0);
	sa_engines_set_state(ut_state);
	ck_assert_int_eq(disc_conn_start(&cfg), 0);
	ck_assert_msg(disc_engine_ops.start(&cfg, err, sizeof(err)) == 0, "start: %s", err);
}

static void engine_stop(void)
{
	disc_engine_ops.stop();
	disc_conn_stop();
	sa_engines_set_state(NULL);
	cm_state_close(ut_state);
}

static void setup(void)
{
	ut_tmpdir_make(ut_dir, sizeof(ut_dir), "test_disc_sources");
	snprintf(ut_state_path, sizeof(ut_state_path), "%s/state", ut_dir);
	engine_start();
}

static void teardown(void)
{
	engine_stop();
	ut_tmpdir_remove(ut_dir);
}

static struct disc_source_spec spec(int mech, int family, const char *host, unsigned int prefix, int local)
{
	struct disc_source_spec s;

	memset(&s, 0, sizeof(s));
	s.mechanism = mech;
	s.family = family;
	snprintf(s.host, sizeof(s.host), "%s", host);
	s.prefix = prefix;
	s.local = local;
	s.nonvolatile = 1;
	return s;
}

static uint32_t cred(uint32_t index)
{
	struct disc_cred c;

	memset(&c, 0, sizeof(c));
	c.index = index;
	snprintf(c.user, sizeof(c.user), "alice");
	snprintf(c.secret, sizeof(c.secret), "Unit-Secret-42");
	c.row = DISC_ROW_ACTIVE;
	c.nonvolatile = 1;
	ck_assert_int_eq(disc_cred_put(&c), 0);
	return index;
}

/* The config's portal's row. */
static uint32_t config_row(void)
{
	const struct disc_source *s = disc_source_next(0);

	while (s && s->origin != DISC_ORIGIN_CONFIG)
		s = disc_source_next(s->index);
	ck_assert_ptr_nonnull(s);
	return s->index;
}

START_TEST(bad_input_is_refused_precisely)
{
	struct disc_source_spec s;
	uint32_t i = disc_source_next_index();

	s = spec(DISC_MECH_SCAN, AF_INET, "127.0.0.1", 0, 0);
	ck_assert_int_eq(disc_source_validate(i, &s), -EINVAL); /* subnetScan rows are the engine's */
	s = spec(DISC_MECH_SENDTARGETS, AF_INET, "::1", 0, 0);
	ck_assert_int_eq(disc_source_validate(i, &s), -EDOM); /* an address of the wrong type */
	s = spec(DISC_MECH_SENDTARGETS, AF_INET, "0.0.0.0", 0, 0);
	ck_assert_int_eq(disc_source_validate(i, &s), -EINVAL);
	s = spec(DISC_MECH_SENDTARGETS, AF_INET, "127.0.0.1", 24, 0);
	ck_assert_int_eq(disc_source_validate(i, &s), -EDOM); /* a prefix on a portal */
	s = spec(DISC_MECH_RANGE, AF_INET, "10.0.0.0", 8, 0);
	ck_assert_int_eq(disc_source_validate(i, &s), -EINVAL); /* wider than /16 */
	s = spec(DISC_MECH_RANGE, AF_INET, "0.0.0.0", 0, 0);
	ck_assert_int_eq(disc_source_validate(i, &s), -EDOM); /* 0.0.0.0/0 without the flag */
	s = spec(DISC_MECH_RANGE, AF_INET, "10.0.0.0", 24, 1);
	ck_assert_int_eq(disc_source_validate(i, &s), -EDOM); /* the flag with a real prefix */
	s = spec(DISC_MECH_RANGE, AF_INET6, "fd00::", 120, 0);
	ck_assert_int_eq(disc_source_validate(i, &s), -EDOM); /* IPv6 is not walked */
	s = spec(DISC_MECH_SENDTARGETS, AF_INET, "127.0.0.1", 0, 0);
	s.cred = 9;
	ck_assert_int_eq(disc_source_validate(i, &s), -ENOENT);
	s = spec(DISC_MECH_ISNS, AF_INET, "127.0.0.1", 0, 0);
	s.cred = cred(1);
	ck_assert_int_eq(disc_source_validate(i, &s), -EDOM); /* iSNS queries do not log in */
	s = spec(DISC_MECH_SENDTARGETS, AF_INET, "127.0.0.3", 0, 0);
	ck_assert_int_eq(disc_source_validate(i, &s), -EEXIST); /* the config's portal (port 0 = 3260) */
	ck_assert_int_eq(disc_source_validate(config_row(), &s), -EEXIST);
	s = spec(DISC_MECH_RANGE, AF_INET, "0.0.0.0", 0, 1);
	ck_assert_int_eq(disc_source_validate(i, &s), 0);
	ck_assert_ptr_null(disc_source_find(i));
}
END_TEST

START_TEST(create_destroy_and_the_rows_snmp_does_not_own)
{
	struct disc_source_spec s = spec(DISC_MECH_SENDTARGETS, AF_INET, "127.0.0.1", 0, 0);
	const struct disc_source *r;
	uint32_t c = cred(2), i = 7;

	s.cred = c;
	ck_assert_int_eq(disc_source_create(i, &s), 0);
	ck_assert_int_eq(disc_source_create(i, &s), -EEXIST);
	r = disc_source_find(i);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->origin, DISC_ORIGIN_SNMP);
	ck_assert_int_eq(r->port, 3260);
	ck_assert_int_eq(r->cred, c);
	ck_assert_int_eq(r->state, DISC_STATE_IDLE);
	ck_assert_int_eq(r->percent, 0); /* nothing asked yet */
	ck_assert_uint_gt(disc_source_next_index(), i);
	ck_assert(disc_source_uses_cred(c));
	ck_assert_int_eq(disc_source_check_update(i, 99), -ENOENT);
	ck_assert_int_eq(disc_source_set_cred(i, 0), 0);
	ck_assert(!disc_source_uses_cred(c));
	ck_assert_int_eq(disc_source_check_destroy(config_row()), -EPERM);
	ck_assert_int_eq(disc_source_check_update(config_row(), 0), -EPERM);
	ck_assert_int_eq(disc_source_destroy(i), 0);
	ck_assert_ptr_null(disc_source_find(i));
	ck_assert_int_eq(disc_source_destroy(i), -ENOENT);
	ck_assert_ptr_null(cm_state_get(ut_state, "disc.src.7"));
}
END_TEST

START_TEST(nonvolatile_rows_outlive_a_restart)
{
	struct disc_source_spec keep = spec(DISC_MECH_RANGE, AF_INET, "10.9.0.0", 16, 0);
	struct disc_source_spec lose = spec(DISC_MECH_SENDTARGETS, AF_INET6, "fd00::5", 0, 0);
	const struct disc_source *r;

	keep.port = 3261;
	lose.nonvolatile = 0;
	ck_assert_int_eq(disc_source_create(40, &keep), 0);
	ck_assert_int_eq(disc_source_create(41, &lose), 0);
	ck_assert_ptr_nonnull(cm_state_get(ut_state, "disc.src.40"));
	ck_assert_ptr_null(cm_state_get(ut_state, "disc.src.41"));
	engine_stop();
	engine_start();
	r = disc_source_find(40);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->mechanism, DISC_MECH_RANGE);
	ck_assert_int_eq(r->prefix, 16);
	ck_assert_int_eq(r->port, 3261);
	ck_assert_str_eq(r->host, "10.9.0.0");
	ck_assert_int_eq(r->nonvolatile, 1);
	/* The volatile row is gone; the config's row is made after the restored ones, so its index may be any
	 * other (indexes are stable while the agent runs, and 40 is not given twice). */
	r = disc_source_find(41);
	ck_assert(!r || r->origin == DISC_ORIGIN_CONFIG);
	ck_assert_uint_ne(config_row(), 40);
}
END_TEST

START_TEST(the_default_credential)
{
	uint32_t c = cred(3);

	ck_assert_int_eq(disc_default_cred(), 0);
	ck_assert_int_eq(disc_default_cred_check(9), -ENOENT);
	ck_assert_int_eq(disc_default_cred_set(9), -ENOENT);
	ck_assert_int_eq(disc_default_cred_set(c), 0);
	ck_assert_int_eq(disc_default_cred(), c);
	ck_assert_str_eq(cm_state_get(ut_state, "login.default_cred"), "3");
	engine_stop();
	engine_start();
	ck_assert_int_eq(disc_default_cred(), c);
	ck_assert_int_eq(disc_default_cred_set(0), 0);
	ck_assert_ptr_null(cm_state_get(ut_state, "login.default_cred"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("disc_sources");
	TCase *tc = tcase_create("sources");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bad_input_is_refused_precisely);
	tcase_add_test(tc, create_destroy_and_the_rows_snmp_does_not_own);
	tcase_add_test(tc, nonvolatile_rows_outlive_a_restart);
	tcase_add_test(tc, the_default_credential);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
