/* test_sockaddr.c: common/sockaddr.h, a numeric endpoint into a socket address and whether two are the same host
 * (the iSNS server's SCNs, the redirector portal's memo of who logged in). */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>

#include "common/sockaddr.h"

static struct sockaddr_storage ep(const char *s)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_msg(cm_sockaddr_parse(s, &ss, &len) == 0, "parse %s", s);
	return ss;
}

START_TEST(same_host_ignores_ports)
{
	struct sockaddr_storage a = ep("198.18.0.1:3205"), b = ep("198.18.0.1:40000"), c = ep("198.18.0.2:3205");
	struct sockaddr_storage d = ep("[2001:db8::1]:3205"), e = ep("[2001:db8::1]:1"), f = ep("[2001:db8::2]:3205");
	struct sockaddr_storage other;

	ck_assert(cm_sockaddr_same_host(&a, &b));
	ck_assert(!cm_sockaddr_same_host(&a, &c));
	ck_assert(cm_sockaddr_same_host(&d, &e));
	ck_assert(!cm_sockaddr_same_host(&d, &f));
	/* Another family is never the same host, not even when its bytes would match. */
	ck_assert(!cm_sockaddr_same_host(&a, &d));
	memset(&other, 0, sizeof(other));
	other.ss_family = AF_UNIX;
	ck_assert(!cm_sockaddr_same_host(&other, &other));
}
END_TEST

START_TEST(parse_numeric_only)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_int_eq(cm_sockaddr_parse("203.0.113.9:3260", &ss, &len), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 3260);
	ck_assert_int_eq(cm_sockaddr_parse("[2001:db8::9]:3260", &ss, &len), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_int_lt(cm_sockaddr_parse("localhost:3260", &ss, &len), 0);
	ck_assert_int_lt(cm_sockaddr_parse("203.0.113.9:0", &ss, &len), 0);
	ck_assert_int_lt(cm_sockaddr_parse("203.0.113.9", &ss, &len), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sockaddr");
	TCase *tc = tcase_create("common");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, same_host_ignores_ports);
	tcase_add_test(tc, parse_numeric_only);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
