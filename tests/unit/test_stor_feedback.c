/* test_stor_feedback.c: the storage agent's feedback: window rates, the portal of a session from the socket table,
 * and competing-session detection with seed 000's Fig. 2 (target 31 at 10.1.0.3, initiators 16 and 18). */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engines/storage/storage.h"
#include "common/bus.h"
#include "tests/unit/evloop_stub.h"

#define MIB (1024u * 1024u)
#define T31 "iqn.2003-01.com.example:target31"
#define I16 "iqn.2003-01.com.example:initiator16"
#define I18 "iqn.2003-01.com.example:initiator18"

START_TEST(test_window_rates)
{
	struct stor_window w;
	struct stor_rates r;

	stor_window_start(&w, 0, 10000);
	stor_window_sample(&w, 1 * MIB, 11000); /* 1024 KiB/s */
	stor_window_sample(&w, 4 * MIB, 12000); /* 3072 KiB/s */
	stor_window_sample(&w, 4 * MIB, 13000); /* 0 */
	stor_window_sample(&w, 4 * MIB, 13000); /* same ms: ignored */
	stor_window_close(&w, &r);
	ck_assert_int_eq(r.valid, 1);
	ck_assert_uint_eq(r.max_kib, 3072);
	ck_assert_uint_eq(r.min_kib, 0);
	ck_assert_uint_eq(r.bytes, 4 * MIB);
	ck_assert_uint_eq(r.avg_kib, 4096 / 3); /* 4 MiB over 3 s: 1365 */

	/* The next window starts where this one ended. */
	stor_window_sample(&w, 6 * MIB, 15000); /* 2 MiB in 2 s */
	stor_window_close(&w, &r);
	ck_assert_uint_eq(r.max_kib, 1024);
	ck_assert_uint_eq(r.min_kib, 1024);
	ck_assert_uint_eq(r.avg_kib, 1024);
	ck_assert_uint_eq(r.bytes, 2 * MIB);

	/* No round in a window: nothing to report. */
	stor_window_close(&w, &r);
	ck_assert_int_eq(r.valid, 0);

	/* A counter going back is another session: the window restarts there. */
	stor_window_sample(&w, 1000, 16000);
	stor_window_sample(&w, 1000 + 512 * 1024, 16500); /* 512 KiB in 0.5 s */
	stor_window_close(&w, &r);
	ck_assert_uint_eq(r.bytes, 512 * 1024);
	ck_assert_uint_eq(r.avg_kib, 1024);
}
END_TEST

/* The seed's picture: 16 moves 900 MiB of the portal's 1000, 18 crawls at 600 KiB/s. */
START_TEST(test_competing_seed)
{
	struct stor_member m[3] = {
	    {I18, 100 * (uint64_t)MIB, 600},
	    {I16, 600 * (uint64_t)MIB, 10000},
	    {I16, 300 * (uint64_t)MIB, 5000}, /* 16's second session on the same portal: its parts add up */
	};
	struct stor_competing_cfg c = {.share_pct = 70, .min_rate_kib = 1024};
	struct stor_request_msg out;

	ck_assert_int_eq(stor_competing_judge(m, 3, &c, &out), 1);
	ck_assert_str_eq(out.offender, I16);
	ck_assert_str_eq(out.starved, I18);
	ck_assert_uint_eq(out.share_pct, 90);
	ck_assert_str_eq(out.initiators, I16 " " I18);

	/* 18 fast enough: no imbalance worth a rediscovery. */
	m[0].avg_kib = 1024;
	ck_assert_int_eq(stor_competing_judge(m, 3, &c, &out), 0);
	m[0].avg_kib = 600;
	/* Share not above the threshold (exactly 90 is not more than 90). */
	c.share_pct = 90;
	ck_assert_int_eq(stor_competing_judge(m, 3, &c, &out), 0);
	c.share_pct = 89;
	ck_assert_int_eq(stor_competing_judge(m, 3, &c, &out), 1);
	/* One initiator alone competes with nobody. */
	ck_assert_int_eq(stor_competing_judge(m + 1, 2, &c, &out), 0);
	/* An idle portal has no shares. */
	m[0].bytes = m[1].bytes = m[2].bytes = 0;
	ck_assert_int_eq(stor_competing_judge(m, 3, &c, &out), 0);
}
END_TEST

/* /proc/net/tcp lines: 10.1.0.3:3260 (0300010A:0CBC on a little-endian host) from 10.1.0.16 and 10.1.0.18;
 * tcp6 with 18's second connection v4-mapped. */
static const char *tcp_le =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000:0CBC 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n"
    "   1: 0300010A:0CBC 1000010A:A001 01 00000000:00000000 00:00000000 00000000     0        0 2 1\n"
    "   2: 0300010A:0CBC 1200010A:A002 01 00000000:00000000 00:00000000 00000000     0        0 3 1\n"
    "   3: 0300010A:A003 1800010A:0CBC 01 00000000:00000000 00:00000000 00000000     0        0 4 1\n"
    "   4: 3400010A:0CBC 1300010A:A004 01 00000000:00000000 00:00000000 00000000     0        0 5 1\n"
    "   5: 0300010A:0CBC 1300010A:A005 01 00000000:00000000 00:00000000 00000000     0        0 6 1\n"
    "  sl  local_address                         remote_address                        st\n"
    "   0: 0000000000000000FFFF00000300010A:0CBC 0000000000000000FFFF00001200010A:A006 01 0 0 0\n";

START_TEST(test_portal_of)
{
	uint16_t ports[] = {3260}, port = 0;
	char host[64];
	uint32_t probe = 1;

	if (*(unsigned char *)&probe != 1)
		return; /* the table above is a little-endian host's */
	ck_assert_int_eq(stor_portal_of(tcp_le, "10.1.0.16", ports, 1, host, sizeof(host), &port), 1);
	ck_assert_str_eq(host, "10.1.0.3");
	ck_assert_uint_eq(port, 3260);
	/* Both of 18's connections (one through a v6 socket) came in on 10.1.0.3; tgt may print it v4-mapped. */
	ck_assert_int_eq(stor_portal_of(tcp_le, "::ffff:10.1.0.18", ports, 1, host, sizeof(host), &port), 1);
	ck_assert_str_eq(host, "10.1.0.3");
	/* An outgoing connection to someone's 3260 is not a session here. */
	ck_assert_int_eq(stor_portal_of(tcp_le, "10.1.0.24", ports, 1, host, sizeof(host), &port), 0);
	/* 10.1.0.19 on two portals (interfaces 36 and 38): which session is which cannot be told. */
	ck_assert_int_eq(stor_portal_of(tcp_le, "10.1.0.19", ports, 1, host, sizeof(host), &port), -1);
	ports[0] = 3261;
	ck_assert_int_eq(stor_portal_of(tcp_le, "10.1.0.16", ports, 1, host, sizeof(host), &port), 0);
}
END_TEST

struct seen {
	int feedback, requests;
	char offender[STOR_NAME_MAX], initiators[STOR_LIST_MAX], portal[64];
	uint32_t avg16, avg18;
};

static void on_event(int topic, const void *data, void *arg)
{
	const struct stor_event *ev = data;
	struct seen *s = arg;

	(void)topic;
	if (ev->type == STOR_EV_FEEDBACK) {
		s->feedback++;
		snprintf(s->portal, sizeof(s->portal), "%s:%u", ev->fb->portal, (unsigned int)ev->fb->port);
		if (strcmp(ev->fb->initiator, I16) == 0)
			s->avg16 = ev->fb->rates.avg_kib;
		else
			s->avg18 = ev->fb->rates.avg_kib;
	} else if (ev->type == STOR_EV_REQUEST) {
		s->requests++;
		snprintf(s->offender, sizeof(s->offender), "%s", ev->req->offender);
		snprintf(s->initiators, sizeof(s->initiators), "%s", ev->req->initiators);
	}
}

/* Rounds of tgt's view through the model: a window of 5 s, 16 heavy and 18 light on target 31 at 10.1.0.3; one
 * request, then the hold-off keeps the next windows quiet until it ends. */
START_TEST(test_rounds_request_holdoff)
{
	struct tgtc_nexus_conn c16 = {0, "10.1.0.16"}, c18 = {0, "10.1.0.18"};
	struct tgtc_nexus nx[2] = {{1, I16, &c16, 1}, {2, I18, &c18, 1}};
	struct tgtc_lun lun = {1, "disk", 67, "/d", "s1", ""};
	struct tgtc_target_info ti = {1, T31, &lun, 1, nx, 2, NULL, 0, NULL, 0};
	struct tgtc_show sh = {&ti, 1};
	struct sa_storage_config cfg = {.enabled = 1,
	                                .interval = 1,
	                                .feedback_interval = 5,
	                                .competing_share = 70,
	                                .competing_min_rate = 1024,
	                                .competing_holdoff = 12};
	struct seen seen;
	int h;
	uint32_t probe = 1;

	if (*(unsigned char *)&probe != 1)
		return;
	memset(&seen, 0, sizeof(seen));
	h = bus_subscribe(BUS_STORAGE, on_event, &seen);
	ck_assert_int_gt(h, 0);
	stor_reset();
	stor_fb_reset();
	stor_fb_configure(&cfg);
	for (unsigned int sec = 0; sec <= 30; sec++) {
		/* 16 reads 9 MiB/s, 18 writes 512 KiB/s. */
		struct tgtc_counter ctr[2] = {{1, 1, 1, 0, (uint64_t)sec * 9 * MIB, sec, 0, 0},
		                              {1, 1, 2, 0, 0, 0, (uint64_t)sec * 512 * 1024, sec}};

		ck_assert_int_eq(stor_ingest_targets(&sh, ctr, 2), 0);
		stor_fb_round(100000 + sec * 1000u, tcp_le);
		if (sec == 5) {
			/* The first window: both sessions reported, the group flagged. */
			ck_assert_int_eq(seen.feedback, 2);
			ck_assert_str_eq(seen.portal, "10.1.0.3:3260");
			ck_assert_uint_eq(seen.avg16, 9 * 1024);
			ck_assert_uint_eq(seen.avg18, 512);
			ck_assert_int_eq(seen.requests, 1);
			ck_assert_str_eq(seen.offender, I16);
			ck_assert_str_eq(seen.initiators, I16 " " I18);
		}
		if (sec == 15) /* windows at 10 and 15 s within the 12 s hold-off (until 17 s) */
			ck_assert_int_eq(seen.requests, 1);
	}
	/* 20 s: the hold-off is over, named again; 25 and 30 s held again. */
	ck_assert_int_eq(seen.requests, 2);
	ck_assert_int_eq(seen.feedback, 12);
	ck_assert_uint_eq(stor_fb_counters()->requests_sent, 2);
	ck_assert_uint_eq(stor_fb_counters()->requests_held, 4);
	ck_assert_uint_eq(stor_fb_counters()->feedback_sent, 12);
	bus_unsubscribe(h);
	stor_reset();
	stor_fb_reset();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stor_feedback");
	TCase *tc = tcase_create("feedback");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_window_rates);
	tcase_add_test(tc, test_competing_seed);
	tcase_add_test(tc, test_portal_of);
	tcase_add_test(tc, test_rounds_request_holdoff);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
