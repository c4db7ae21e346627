/* test_sendtargets.c: SendTargets reply parsing (addresses, targets without addresses, continuation joins). */
#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engines/discovery/sendtargets.h"
#include "subagent/config.h"
#include "common/evloop.h"
#include "tests/unit/evloop_stub.h" /* the parser runs no loop */

struct seen {
	char names[8][64];
	char hosts[8][256];
	int ports[8], tpgts[8], has_addr[8];
	int n;
};

static void collect(const char *name, const struct disc_st_addr *a, void *arg)
{
	struct seen *s = arg;

	ck_assert_int_lt(s->n, 8);
	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
	if (a) {
		snprintf(s->hosts[s->n], sizeof(s->hosts[0]), "%s", a->host);
		s->ports[s->n] = a->port;
		s->tpgts[s->n] = a->tpgt;
		s->has_addr[s->n] = 1;
	}
	s->n++;
}

START_TEST(test_addr)
{
	struct disc_st_addr a;

	ck_assert_int_eq(disc_st_parse_addr("127.0.0.2:3261,5", &a), 0);
	ck_assert_str_eq(a.host, "127.0.0.2");
	ck_assert_int_eq(a.port, 3261);
	ck_assert_int_eq(a.tpgt, 5);
	ck_assert_int_eq(a.family, AF_INET);
	ck_assert_int_eq(disc_st_parse_addr("[fe80::1]:3260,1", &a), 0);
	ck_assert_str_eq(a.host, "fe80::1");
	ck_assert_int_eq(a.family, AF_INET6);
	ck_assert_int_eq(disc_st_parse_addr("storage.example", &a), 0);
	ck_assert_int_eq(a.port, 3260);
	ck_assert_int_eq(a.family, AF_UNSPEC);
	ck_assert_int_eq(disc_st_parse_addr("1.2.3.4:0,1", &a), -EINVAL);
	ck_assert_int_eq(disc_st_parse_addr("1.2.3.4:80x", &a), -EINVAL);
	ck_assert_int_eq(disc_st_parse_addr("[::1:3260", &a), -EINVAL);
}
END_TEST

START_TEST(test_reply)
{
	static const char r[] = "TargetName=iqn.a\0TargetAddress=10.0.0.1:3260,1\0TargetAddress=10.0.0.2:3260,2\0"
	                        "TargetName=iqn.b\0"
	                        "TargetName=iqn.c\0TargetAddress=10.0.0.3:3262,7";
	struct seen s = {0};

	/* The last pair without its NUL: a reply cut exactly at the end still parses. */
	ck_assert_int_eq(disc_st_parse(r, sizeof(r) - 1, collect, &s), 0);
	ck_assert_int_eq(s.n, 4);
	ck_assert_str_eq(s.names[0], "iqn.a");
	ck_assert_str_eq(s.hosts[1], "10.0.0.2");
	ck_assert_int_eq(s.tpgts[1], 2);
	ck_assert_str_eq(s.names[2], "iqn.b");
	ck_assert_int_eq(s.has_addr[2], 0);
	ck_assert_str_eq(s.names[3], "iqn.c");
	ck_assert_int_eq(s.ports[3], 3262);
}
END_TEST

START_TEST(test_address_first)
{
	static const char r[] = "TargetAddress=10.0.0.1:3260,1\0TargetName=iqn.a\0";
	struct seen s = {0};

	ck_assert_int_eq(disc_st_parse(r, sizeof(r) - 1, collect, &s), -EPROTO);
}
END_TEST

START_TEST(test_empty)
{
	struct seen s = {0};

	ck_assert_int_eq(disc_st_parse("", 0, collect, &s), 0);
	ck_assert_int_eq(s.n, 0);
}
END_TEST

static int load(const char *text, struct sa_config **cfg, char *err, size_t errlen)
{
	char path[] = "/tmp/test_sendtargets.XXXXXX";
	int fd = mkstemp(path), rc;
	FILE *f = fdopen(fd, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	rc = sa_config_load(path, cfg, err, errlen);
	unlink(path);
	return rc;
}

START_TEST(test_config_section)
{
	struct sa_config *cfg = NULL;
	char err[256] = "";

	ck_assert_int_eq(load("discovery = {\n portals = [ \"127.0.0.1:3260\", \"[::1]:3261\" ];\n interval = 5;\n"
	                      " age_out = 60;\n scan = ( { cidr = \"127.0.0.0/24\"; ports = [ 3260, 3261 ]; } );\n};\n",
	                      &cfg, err, sizeof(err)),
	                 0);
	ck_assert_int_eq(cfg->engine_enabled[SA_ENGINE_DISCOVERY], 1);
	ck_assert_uint_eq(cfg->discovery.nportals, 2);
	ck_assert_str_eq(cfg->discovery.portals[1], "[::1]:3261");
	ck_assert_int_eq(cfg->discovery.interval, 5);
	ck_assert_int_eq(cfg->discovery.age_out, 60);
	ck_assert_uint_eq(cfg->discovery.nscan, 1);
	ck_assert_uint_eq(cfg->discovery.scan[0].nports, 2);
	ck_assert_int_eq(cfg->discovery.scan[0].ports[1], 3261);
	ck_assert_int_eq(cfg->discovery.scan[0].concurrency, 64);
	ck_assert_int_eq(cfg->discovery.scan[0].timeout_ms, 500);
	ck_assert_str_eq(cfg->discovery.initiator_name, "iqn.2026-01.org.sanagent:discovery");
	sa_config_free(cfg);

	/* Each bad value names its line. */
	ck_assert_int_lt(load("discovery = {\n scan = ( { cidr = \"10.0.0.0/8\"; } );\n};\n", &cfg, err, sizeof(err)),
	                 0);
	ck_assert_ptr_nonnull(strstr(err, ":2: "));
	ck_assert_ptr_nonnull(strstr(err, "/16"));
	ck_assert_int_lt(load("discovery = {\n scan = ( { cidr = \"127.0.0.0/24\";\n ports = [ 0 ]; } );\n};\n", &cfg,
	                      err, sizeof(err)),
	                 0);
	ck_assert_ptr_nonnull(strstr(err, ":3: "));
	ck_assert_int_lt(load("discovery = {\n portals = [ \"storage:3260\" ];\n};\n", &cfg, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, ":2: "));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sendtargets");
	TCase *tc = tcase_create("parse");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_addr);
	tcase_add_test(tc, test_reply);
	tcase_add_test(tc, test_address_first);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_config_section);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
