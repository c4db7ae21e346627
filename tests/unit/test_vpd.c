/* test_vpd.c: the parsers of iscsi/vpd.c on hand-built INQUIRY, VPD 0x83 and READ CAPACITY(16) data. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "iscsi/vpd.h"
#include "tests/unit/evloop_stub.h"

START_TEST(inquiry_fields)
{
	uint8_t d[36] = {0x00, 0, 5, 2, 31};
	struct vpd_lun_info li = {0};

	memcpy(d + 8, "IET     ", 8);
	memcpy(d + 16, "VIRTUAL-DISK    ", 16);
	ck_assert_int_eq(vpd_parse_inquiry(d, sizeof(d), &li), 0);
	ck_assert_int_eq(li.device_type, 0);
	ck_assert_str_eq(li.vendor, "IET");
	ck_assert_str_eq(li.product, "VIRTUAL-DISK");
	d[0] = 0x0c;
	d[9] = 0x07; /* not printable: shown as '?' */
	ck_assert_int_eq(vpd_parse_inquiry(d, sizeof(d), &li), 0);
	ck_assert_int_eq(li.device_type, 0x0c);
	ck_assert_str_eq(li.vendor, "I?T");
	ck_assert_int_eq(vpd_parse_inquiry(d, 31, &li), -EINVAL);
}
END_TEST

/* Appends one designation descriptor. */
static size_t desc(uint8_t *p, size_t at, int codeset, int assoc, int type, const uint8_t *v, size_t n)
{
	p[at] = (uint8_t)codeset;
	p[at + 1] = (uint8_t)(assoc << 4 | type);
	p[at + 2] = 0;
	p[at + 3] = (uint8_t)n;
	memcpy(p + at + 4, v, n);
	return at + 4 + n;
}

static void page_len(uint8_t *p, size_t end)
{
	p[1] = 0x83;
	p[2] = (uint8_t)((end - 4) >> 8);
	p[3] = (uint8_t)(end - 4);
}

START_TEST(designator_prefers_naa_of_the_lu)
{
	static const uint8_t t10[] = "IET     00010001", eui[8] = {1, 2, 3, 4, 5, 6, 7, 8},
	                     naa_port[8] = {0x60, 9, 9, 9, 9, 9, 9, 9}, naa_local[8] = {0x30, 0, 0, 1, 0, 0, 0, 1},
	                     naa[16] = {0x60, 0x00, 0x0e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42};
	uint8_t p[256] = {0};
	size_t e = 4;
	struct vpd_lun_info li = {0};

	e = desc(p, e, 2, 0, 1, t10, 16);
	e = desc(p, e, 1, 0, 2, eui, 8);
	e = desc(p, e, 1, 0, 3, naa_local, 8); /* locally assigned: less global than the registered one below */
	e = desc(p, e, 1, 1, 3, naa_port, 8);  /* the target port's: not the LU */
	e = desc(p, e, 1, 0, 3, naa, 16);
	page_len(p, e);
	ck_assert_int_eq(vpd_parse_designator(p, e, &li), 0);
	ck_assert_int_eq(li.designator_type, VPD_DESIG_NAA);
	ck_assert_uint_eq(li.designator_len, 16);
	ck_assert_mem_eq(li.designator, naa, 16);
}
END_TEST

START_TEST(designator_eui_then_none)
{
	static const uint8_t eui[8] = {1, 2, 3, 4, 5, 6, 7, 8}, t10[] = "VENDOR  ID";
	uint8_t p[128] = {0};
	size_t e = 4;
	struct vpd_lun_info li = {0};

	e = desc(p, e, 2, 0, 1, t10, 10);
	e = desc(p, e, 1, 0, 2, eui, 8);
	page_len(p, e);
	ck_assert_int_eq(vpd_parse_designator(p, e, &li), 0);
	ck_assert_int_eq(li.designator_type, VPD_DESIG_EUI64);
	ck_assert_mem_eq(li.designator, eui, 8);

	memset(&li, 0, sizeof(li));
	e = desc(p, 4, 2, 0, 1, t10, 10);
	page_len(p, e);
	ck_assert_int_eq(vpd_parse_designator(p, e, &li), -ENOENT);
	ck_assert_uint_eq(li.designator_len, 0);
	/* A descriptor running past the page is malformed; another page is refused. */
	p[7] = 200;
	ck_assert_int_eq(vpd_parse_designator(p, e, &li), -EINVAL);
	p[1] = 0x80;
	ck_assert_int_eq(vpd_parse_designator(p, e, &li), -EINVAL);
}
END_TEST

START_TEST(capacity16)
{
	/* 65536 blocks of 512: last LBA 65535. */
	uint8_t d[32] = {0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 2, 0};
	struct vpd_lun_info li = {0};

	ck_assert_int_eq(vpd_parse_capacity16(d, sizeof(d), &li), 0);
	ck_assert_uint_eq(li.block_size, 512);
	ck_assert_uint_eq(li.size, 32u << 20);
	memset(d, 0xff, 8); /* an impossible last LBA: unknown, not wrapped */
	ck_assert_int_eq(vpd_parse_capacity16(d, sizeof(d), &li), 0);
	ck_assert_uint_eq(li.size, 0);
	ck_assert_int_eq(vpd_parse_capacity16(d, 11, &li), -EINVAL);
}
END_TEST

START_TEST(probe_refuses_bad_requests)
{
	struct vpd_request r = {.portal = "127.0.0.1:1", .target = "iqn.x", .initiator = ""};

	ck_assert_int_eq(vpd_probe(&r, NULL, NULL, NULL), -EINVAL);
	ck_assert_int_eq(vpd_probe(NULL, NULL, NULL, NULL), -EINVAL);
	ck_assert_uint_eq(vpd_pending(), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vpd");
	TCase *tc = tcase_create("parsers");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, inquiry_fields);
	tcase_add_test(tc, designator_prefers_naa_of_the_lu);
	tcase_add_test(tc, designator_eui_then_none);
	tcase_add_test(tc, capacity16);
	tcase_add_test(tc, probe_refuses_bad_requests);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
