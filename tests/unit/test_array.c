/* test_array.c: cm_grow, cm_insert and cm_remove (common/array.h), the row arrays' growth and sorted places, and
 * cm_hex_encode/cm_hex_decode (common/hex.h), which the state file's rows are written with. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/hex.h"

struct row {
	uint32_t index;
	char name[13];
};

START_TEST(grow_first_then_doubles)
{
	struct row *v = NULL;
	size_t n = 0, cap = 0;

	/* Room is made only when the array is full: first elements, then twice the room each time. */
	for (uint32_t i = 0; i < 100; i++) {
		size_t before = cap;

		ck_assert_int_eq(cm_grow(&v, &cap, n, sizeof(*v), 4), 0);
		ck_assert_ptr_nonnull(v);
		ck_assert_uint_eq(cap, n < before ? before : before ? before * 2 : 4);
		v[n].index = i;
		memset(v[n].name, 'a' + (int)(i % 26), sizeof(v[n].name));
		n++;
	}
	ck_assert_uint_eq(cap, 128);
	/* What was in the array moved with it. */
	for (uint32_t i = 0; i < 100; i++) {
		ck_assert_uint_eq(v[i].index, i);
		ck_assert_int_eq(v[i].name[12], 'a' + (int)(i % 26));
	}
	free(v);
}
END_TEST

START_TEST(grow_keeps_room_that_is_there)
{
	char **v = malloc(8 * sizeof(*v)), **was = v;
	size_t cap = 8;

	ck_assert_ptr_nonnull(v);
	for (size_t n = 0; n < 8; n++)
		ck_assert_int_eq(cm_grow(&v, &cap, n, sizeof(*v), 64), 0);
	ck_assert_ptr_eq(v, was);
	ck_assert_uint_eq(cap, 8);
	ck_assert_int_eq(cm_grow(&v, &cap, 8, sizeof(*v), 64), 0);
	ck_assert_uint_eq(cap, 16);
	free(v);
}
END_TEST

/* A sorted array built by inserts at every place (front, middle, end) and thinned by removes. */
START_TEST(insert_and_remove_keep_order)
{
	struct row *v = NULL, r;
	size_t n = 0, cap = 0;
	static const uint32_t order[] = {50, 10, 90, 30, 70, 20, 80, 40, 60, 0};

	memset(&r, 0, sizeof(r));
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		size_t i = 0;

		while (i < n && v[i].index < order[k])
			i++;
		r.index = order[k];
		ck_assert_int_eq(cm_insert(&v, &n, &cap, sizeof(r), i, &r, 2), 0);
	}
	ck_assert_uint_eq(n, 10);
	ck_assert_uint_eq(cap, 16);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(v[i].index, 10 * i);
	cm_remove(v, &n, sizeof(*v), 0);     /* the first */
	cm_remove(v, &n, sizeof(*v), 4);     /* 50, in the middle */
	cm_remove(v, &n, sizeof(*v), n - 1); /* the last */
	ck_assert_uint_eq(n, 7);
	{
		static const uint32_t left[] = {10, 20, 30, 40, 60, 70, 80};

		for (size_t i = 0; i < n; i++)
			ck_assert_uint_eq(v[i].index, left[i]);
	}
	while (n)
		cm_remove(v, &n, sizeof(*v), 0);
	free(v);
}
END_TEST

START_TEST(hex_both_ways)
{
	static const unsigned char oct[] = {0x00, 0x0a, 0x7f, 0x80, 0xff, 0x20, 0x01, 0x0d, 0xb8};
	unsigned char back[16];
	char hex[2 * sizeof(oct) + 1];
	size_t len = 99;

	cm_hex_encode(oct, sizeof(oct), hex);
	ck_assert_str_eq(hex, "000a7f80ff20010db8");
	ck_assert_int_eq(cm_hex_decode(hex, back, sizeof(back), &len), 0);
	ck_assert_uint_eq(len, sizeof(oct));
	ck_assert_mem_eq(back, oct, sizeof(oct));
	/* Either case in, an empty string is no octets. */
	ck_assert_int_eq(cm_hex_decode("0A7f", back, sizeof(back), &len), 0);
	ck_assert_uint_eq(len, 2);
	ck_assert_mem_eq(back, "\x0a\x7f", 2);
	ck_assert_int_eq(cm_hex_decode("", back, sizeof(back), &len), 0);
	ck_assert_uint_eq(len, 0);
	cm_hex_encode(oct, 0, hex);
	ck_assert_str_eq(hex, "");
	/* Odd, too long for the room, not a digit: refused, len untouched. */
	len = 99;
	ck_assert_int_eq(cm_hex_decode("0a7", back, sizeof(back), &len), -EINVAL);
	ck_assert_int_eq(cm_hex_decode("0a0b0c", back, 2, &len), -EINVAL);
	ck_assert_int_eq(cm_hex_decode("0g", back, sizeof(back), &len), -EINVAL);
	ck_assert_int_eq(cm_hex_decode("0a 1", back, sizeof(back), &len), -EINVAL);
	ck_assert_uint_eq(len, 99);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("array");
	TCase *tc = tcase_create("common");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, grow_first_then_doubles);
	tcase_add_test(tc, grow_keeps_room_that_is_there);
	tcase_add_test(tc, insert_and_remove_keep_order);
	tcase_add_test(tc, hex_both_ways);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
