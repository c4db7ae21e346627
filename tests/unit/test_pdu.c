/* test_pdu.c: unit tests for the iSCSI PDU codec and text keys (iscsi/pdu.c, iscsi/textkeys.c). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi/pdu.h"
#include "iscsi/textkeys.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static uint8_t buf[65536];

static const uint8_t isid[6] = {0x80, 0x12, 0x34, 0x56, 0x78, 0x9a};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

START_TEST(login_req_round_trip)
{
	static const char keys[] = "InitiatorName=iqn.2024-01.org.example:host1\0SessionType=Normal\0"
	                           "TargetName=iqn.2024-01.org.example:disk1\0AuthMethod=None\0";
	struct pdu_login_req q = {0}, g;
	struct pdu p;
	struct tk_pair pairs[8];
	size_t np;
	ssize_t n, m;

	q.transit = true;
	q.csg = PDU_STAGE_SECURITY;
	q.nsg = PDU_STAGE_OPERATIONAL;
	memcpy(q.isid, isid, 6);
	q.tsih = 0;
	q.itt = 0x11223344;
	q.cid = 7;
	q.cmdsn = 0xdeadbeef;
	q.expstatsn = 42;
	n = pdu_build_login_req(buf, sizeof(buf), &q, keys, sizeof(keys) - 1);
	ck_assert_int_eq(n, (ssize_t)pdu_size(sizeof(keys) - 1));
	ck_assert_int_eq(n % 4, 0);
	/* Wire layout (RFC 7143 11.12): I bit + opcode, T|CSG|NSG, ISID at 8, ITT at 16. */
	ck_assert_uint_eq(buf[0], 0x43);
	ck_assert_uint_eq(buf[1], 0x81);
	ck_assert_mem_eq(buf + 8, isid, 6);
	ck_assert_uint_eq(be32(buf + 16), 0x11223344);
	ck_assert_uint_eq(be32(buf + 24), 0xdeadbeef);

	m = pdu_parse(buf, (size_t)n, 8192, &p);
	ck_assert_int_eq(m, n);
	ck_assert_uint_eq(p.opcode, PDU_OP_LOGIN_REQ);
	ck_assert(p.immediate);
	ck_assert_uint_eq(p.data_len, sizeof(keys) - 1);
	ck_assert_int_eq(pdu_get_login_req(&p, &g), 0);
	ck_assert(g.transit && !g.cont);
	ck_assert_uint_eq(g.csg, 0);
	ck_assert_uint_eq(g.nsg, 1);
	ck_assert_mem_eq(g.isid, isid, 6);
	ck_assert_uint_eq(g.itt, q.itt);
	ck_assert_uint_eq(g.cid, 7);
	ck_assert_uint_eq(g.cmdsn, q.cmdsn);
	ck_assert_uint_eq(g.expstatsn, 42);

	ck_assert_int_eq(tk_parse((const char *)p.data, p.data_len, pairs, LEN(pairs), &np), 0);
	ck_assert_uint_eq(np, 4);
	ck_assert_str_eq(tk_get(pairs, np, "TargetName"), "iqn.2024-01.org.example:disk1");
	ck_assert_str_eq(tk_get(pairs, np, "SessionType"), "Normal");
	ck_assert_ptr_null(tk_get(pairs, np, "Target"));
	/* Other decoders refuse a Login Request. */
	{
		struct pdu_text_req t;
		struct pdu_login_rsp r;

		ck_assert_int_eq(pdu_get_text_req(&p, &t), -EPROTO);
		ck_assert_int_eq(pdu_get_login_rsp(&p, &r), -EPROTO);
	}
}
END_TEST

START_TEST(login_rsp_redirect)
{
	struct pdu_login_rsp r = {0}, g;
	struct tk_buf tb;
	char text[256];
	struct pdu p;
	struct tk_pair pairs[4];
	size_t np;
	ssize_t n;

	tk_buf_init(&tb, text, sizeof(text));
	ck_assert_int_eq(tk_add(&tb, "TargetAddress", "127.0.0.2:3261,1"), 0);
	memcpy(r.isid, isid, 6);
	r.itt = 0x01020304;
	r.statsn = 9;
	r.expcmdsn = 10;
	r.maxcmdsn = 11;
	r.version_max = r.version_active = 0;
	r.status_class = PDU_LOGIN_REDIRECT_TEMP >> 8;
	r.status_detail = PDU_LOGIN_REDIRECT_TEMP & 0xff;
	n = pdu_build_login_rsp(buf, sizeof(buf), &r, tb.buf, tb.len);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(buf[0], 0x23);
	ck_assert_uint_eq(buf[36], 1);
	ck_assert_uint_eq(buf[37], 1);
	ck_assert_uint_eq(be32(buf + 24), 9);
	ck_assert_uint_eq(be32(buf + 32), 11);
	ck_assert_int_eq(pdu_parse(buf, (size_t)n, 8192, &p), n);
	ck_assert_int_eq(pdu_get_login_rsp(&p, &g), 0);
	ck_assert_uint_eq(g.status_class, 1);
	ck_assert_uint_eq(g.status_detail, 1);
	ck_assert_uint_eq(g.itt, r.itt);
	ck_assert_uint_eq(g.statsn, 9);
	ck_assert_uint_eq(g.expcmdsn, 10);
	ck_assert_uint_eq(g.maxcmdsn, 11);
	ck_assert_mem_eq(g.isid, isid, 6);
	ck_assert_int_eq(tk_parse((const char *)p.data, p.data_len, pairs, LEN(pairs), &np), 0);
	ck_assert_str_eq(tk_get(pairs, np, "TargetAddress"), "127.0.0.2:3261,1");

	/* A successful transit to Full Feature with a TSIH. */
	memset(&r, 0, sizeof(r));
	r.transit = true;
	r.csg = PDU_STAGE_OPERATIONAL;
	r.nsg = PDU_STAGE_FULL_FEATURE;
	r.tsih = 0x1234;
	n = pdu_build_login_rsp(buf, sizeof(buf), &r, NULL, 0);
	ck_assert_int_eq(n, PDU_BHS_LEN);
	ck_assert_uint_eq(buf[1], 0x87);
	ck_assert_int_eq(pdu_parse(buf, (size_t)n, 0, &p), n);
	ck_assert_int_eq(pdu_get_login_rsp(&p, &g), 0);
	ck_assert(g.transit);
	ck_assert_uint_eq(g.nsg, 3);
	ck_assert_uint_eq(g.tsih, 0x1234);
	/* Invalid combinations are refused by the builder. */
	r.cont = true;
	ck_assert_int_eq(pdu_build_login_rsp(buf, sizeof(buf), &r, NULL, 0), -EINVAL);
	r.cont = false;
	r.nsg = PDU_STAGE_SECURITY;
	ck_assert_int_eq(pdu_build_login_rsp(buf, sizeof(buf), &r, NULL, 0), -EINVAL);
	r.nsg = PDU_STAGE_FULL_FEATURE;
	ck_assert_int_eq(pdu_build_login_rsp(buf, 47, &r, NULL, 0), -ENOSPC);
}
END_TEST

START_TEST(text_round_trip)
{
	static const char st[] = "SendTargets=All";
	struct pdu_text_req q = {0}, g;
	struct pdu_text_rsp r = {0}, h;
	struct pdu p;
	ssize_t n;

	q.immediate = true;
	q.final = true;
	q.itt = 5;
	q.ttt = PDU_RSVD_TAG;
	q.cmdsn = 1;
	q.expstatsn = 2;
	q.lun = 0x0001000000000000ull;
	n = pdu_build_text_req(buf, sizeof(buf), &q, st, sizeof(st)); /* with its NUL */
	ck_assert_int_eq(n, 48 + 16);
	ck_assert_uint_eq(buf[0], 0x44);
	ck_assert_uint_eq(buf[1], 0x80);
	ck_assert_int_eq(pdu_parse(buf, (size_t)n, 8192, &p), n);
	ck_assert_uint_eq(p.data_len, sizeof(st));
	ck_assert_int_eq(pdu_get_text_req(&p, &g), 0);
	ck_assert(g.final && !g.cont && g.immediate);
	ck_assert_uint_eq(g.itt, 5);
	ck_assert_uint_eq(g.ttt, PDU_RSVD_TAG);
	ck_assert_uint_eq(g.lun, q.lun);
	ck_assert_uint_eq(g.cmdsn, 1);
	ck_assert_uint_eq(g.expstatsn, 2);

	r.final = false;
	r.cont = true;
	r.itt = 5;
	r.ttt = 77;
	r.statsn = 3;
	r.expcmdsn = 4;
	r.maxcmdsn = 5;
	n = pdu_build_text_rsp(buf, sizeof(buf), &r, "TargetName=x", 12);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(buf[1], 0x40);
	ck_assert_int_eq(pdu_parse(buf, (size_t)n, 8192, &p), n);
	ck_assert_int_eq(pdu_get_text_rsp(&p, &h), 0);
	ck_assert(!h.final && h.cont);
	ck_assert_uint_eq(h.ttt, 77);
	ck_assert_uint_eq(h.maxcmdsn, 5);
	/* F with C, F with a real TTT, non-final with the reserved TTT. */
	r.final = true;
	ck_assert_int_eq(pdu_build_text_rsp(buf, sizeof(buf), &r, NULL, 0), -EINVAL);
	r.cont = false;
	ck_assert_int_eq(pdu_build_text_rsp(buf, sizeof(buf), &r, NULL, 0), -EINVAL);
	r.final = false;
	r.ttt = PDU_RSVD_TAG;
	ck_assert_int_eq(pdu_build_text_rsp(buf, sizeof(buf), &r, NULL, 0), -EINVAL);
	q.cont = true;
	ck_assert_int_eq(pdu_build_text_req(buf, sizeof(buf), &q, NULL, 0), -EINVAL);
}
END_TEST

START_TEST(reject_round_trip)
{
	struct pdu_reject r = {PDU_REJ_PROTOCOL_ERROR, 10, 11, 12, 0}, g;
	uint8_t bad[PDU_BHS_LEN];
	struct pdu p;
	ssize_t n;
	int i;

	for (i = 0; i < PDU_BHS_LEN; i++)
		bad[i] = (uint8_t)(i * 7 + 1);
	n = pdu_build_reject(buf, sizeof(buf), &r, bad);
	ck_assert_int_eq(n, 96);
	ck_assert_uint_eq(buf[0], 0x3f);
	ck_assert_uint_eq(buf[1], 0x80);
	ck_assert_uint_eq(buf[2], PDU_REJ_PROTOCOL_ERROR);
	ck_assert_uint_eq(be32(buf + 16), PDU_RSVD_TAG);
	ck_assert_int_eq(pdu_parse(buf, (size_t)n, 8192, &p), n);
	ck_assert_int_eq(pdu_get_reject(&p, &g), 0);
	ck_assert_uint_eq(g.reason, PDU_REJ_PROTOCOL_ERROR);
	ck_assert_uint_eq(g.statsn, 10);
	ck_assert_uint_eq(g.maxcmdsn, 12);
	ck_assert_mem_eq(p.data, bad, PDU_BHS_LEN);
	ck_assert_int_eq(pdu_build_reject(buf, sizeof(buf), &r, NULL), -EINVAL);
	/* A Reject without the rejected header is malformed. */
	buf[7] = 8;
	ck_assert_int_eq(pdu_parse(buf, (size_t)n, 8192, &p), 56);
	ck_assert_int_eq(pdu_get_reject(&p, &g), -EPROTO);
}
END_TEST

/* Every strict prefix of a valid PDU asks for more; the whole consumes exactly. */
START_TEST(truncated_needs_more)
{
	static const char keys[] = "InitiatorName=iqn.x\0SessionType=Discovery\0";
	struct pdu_login_req q = {.transit = true, .csg = 0, .nsg = 1, .itt = 1};
	struct pdu p;
	ssize_t n;
	size_t i;

	n = pdu_build_login_req(buf, sizeof(buf), &q, keys, sizeof(keys) - 2); /* odd length: padding */
	ck_assert_int_eq(n, 48 + 44);
	for (i = 0; i < (size_t)n; i++)
		ck_assert_int_eq(pdu_parse(buf, i, 8192, &p), 0);
	ck_assert_int_eq(pdu_parse(buf, (size_t)n + 10, 8192, &p), n);
	/* The padding bytes are zero and not part of the data. */
	ck_assert_uint_eq(p.data_len, sizeof(keys) - 2);
	ck_assert_uint_eq(buf[48 + 41], 0);
	/* Two PDUs back to back frame one after the other. */
	memcpy(buf + n, buf, (size_t)n);
	ck_assert_int_eq(pdu_parse(buf + n, (size_t)n, 8192, &p), n);
	ck_assert_uint_eq(p.itt, 1);
}
END_TEST

START_TEST(oversized_rejected_early)
{
	struct pdu_text_req q = {.final = true, .itt = 1, .ttt = PDU_RSVD_TAG};
	struct pdu p;
	static char big[9000];
	ssize_t n;

	memset(big, 'a', sizeof(big));
	n = pdu_build_text_req(buf, sizeof(buf), &q, big, sizeof(big));
	ck_assert_int_gt(n, 0);
	/* Refused from the BHS alone, before the data is buffered. */
	ck_assert_int_eq(pdu_parse(buf, PDU_BHS_LEN, 8192, &p), -EMSGSIZE);
	ck_assert_int_eq(pdu_parse(buf, (size_t)n, 8192, &p), -EMSGSIZE);
	ck_assert_int_eq(pdu_parse(buf, (size_t)n, 9000, &p), n);
	/* The 24-bit maximum. */
	buf[5] = buf[6] = buf[7] = 0xff;
	ck_assert_int_eq(pdu_parse(buf, PDU_BHS_LEN, 1 << 20, &p), -EMSGSIZE);
	ck_assert_int_eq(pdu_build_text_req(buf, sizeof(buf), &q, big, PDU_DSL_MAX + 1), -EINVAL);
}
END_TEST

START_TEST(garbage_rejected)
{
	struct pdu_login_req q = {.transit = true, .csg = 0, .nsg = 1, .itt = 1}, g;
	struct pdu_text_req t;
	struct pdu p;
	ssize_t n;

	n = pdu_build_login_req(buf, sizeof(buf), &q, NULL, 0);
	ck_assert_int_eq(n, 48);
	/* T and C together. */
	buf[1] = 0xc1;
	ck_assert_int_eq(pdu_parse(buf, 48, 0, &p), 48);
	ck_assert_int_eq(pdu_get_login_req(&p, &g), -EPROTO);
	/* Reserved stage 2, and a transit backwards. */
	buf[1] = 0x80 | 2 << 2 | 3;
	ck_assert_int_eq(pdu_get_login_req(&p, &g), -EPROTO);
	buf[1] = 0x80 | 1 << 2 | 0;
	ck_assert_int_eq(pdu_get_login_req(&p, &g), -EPROTO);
	buf[1] = 0x80 | 0 << 2 | 2;
	ck_assert_int_eq(pdu_get_login_req(&p, &g), -EPROTO);
	/* Current stage Full Feature. */
	buf[1] = 3 << 2;
	ck_assert_int_eq(pdu_get_login_req(&p, &g), -EPROTO);
	/* Version-min above Version-max. */
	buf[1] = 0x81;
	buf[3] = 1;
	ck_assert_int_eq(pdu_get_login_req(&p, &g), -EPROTO);
	buf[3] = 0;
	ck_assert_int_eq(pdu_get_login_req(&p, &g), 0);
	/* Wrong opcode for the decoder. */
	buf[0] = PDU_OP_TEXT_REQ;
	ck_assert_int_eq(pdu_parse(buf, 48, 0, &p), 48);
	ck_assert_int_eq(pdu_get_login_req(&p, &g), -EPROTO);
	/* Text Request with F and C, and with the reserved ITT. */
	buf[1] = 0xc0;
	ck_assert_int_eq(pdu_get_text_req(&p, &t), -EPROTO);
	buf[1] = 0x80;
	memset(buf + 16, 0xff, 4);
	ck_assert_int_eq(pdu_parse(buf, 48, 0, &p), 48);
	ck_assert_int_eq(pdu_get_text_req(&p, &t), -EPROTO);
	/* An AHS whose length runs past TotalAHSLength. */
	memset(buf, 0, 48 + 8);
	buf[0] = PDU_OP_LOGIN_REQ;
	buf[4] = 2; /* 8 bytes of AHS */
	buf[48] = 0;
	buf[49] = 9; /* 3 + 9 > 8 */
	ck_assert_int_eq(pdu_parse(buf, 56, 0, &p), -EPROTO);
	buf[49] = 5; /* 3 + 5 = 8: tiles exactly */
	ck_assert_int_eq(pdu_parse(buf, 56, 0, &p), 56);
	ck_assert_uint_eq(p.ahs_len, 8);
	ck_assert_ptr_null(p.data);
	/* Random bytes never crash the framer or decoders. */
	{
		unsigned seed = 1;
		int round, i;

		for (round = 0; round < 20000; round++) {
			size_t len = (size_t)(rand_r(&seed) % 200);
			struct pdu_login_req lq;
			struct pdu_login_rsp lr;
			struct pdu_text_rsp tr;
			struct pdu_reject rj;

			for (i = 0; i < (int)len; i++)
				buf[i] = (uint8_t)rand_r(&seed);
			n = pdu_parse(buf, len, 128, &p);
			ck_assert(n == 0 || n == -EPROTO || n == -EMSGSIZE || (n >= 48 && (size_t)n <= len));
			if (n > 0) {
				pdu_get_login_req(&p, &lq);
				pdu_get_login_rsp(&p, &lr);
				pdu_get_text_req(&p, &t);
				pdu_get_text_rsp(&p, &tr);
				pdu_get_reject(&p, &rj);
			}
		}
	}
}
END_TEST

START_TEST(textkeys_strict)
{
	struct tk_pair pairs[4];
	size_t np = 99;
	char key[80], text[200];

#define PARSE(s) tk_parse(s, sizeof(s) - 1, pairs, LEN(pairs), &np)
	ck_assert_int_eq(tk_parse("", 0, pairs, LEN(pairs), &np), 0);
	ck_assert_uint_eq(np, 0);
	ck_assert_int_eq(PARSE("A=1\0B=\0X-com.example.Key=v\0X#NodeArchitecture=x\0"), 0);
	ck_assert_uint_eq(np, 4);
	ck_assert_str_eq(tk_get(pairs, np, "B"), "");
	ck_assert_uint_eq(pairs[2].key_len, 17);
	ck_assert_int_eq(PARSE("A=1"), -EPROTO);     /* no NUL */
	ck_assert_int_eq(PARSE("A1\0"), -EPROTO);    /* no '=' */
	ck_assert_int_eq(PARSE("=1\0"), -EPROTO);    /* empty key */
	ck_assert_int_eq(PARSE("aB=1\0"), -EPROTO);  /* lower-case start */
	ck_assert_int_eq(PARSE("A B=1\0"), -EPROTO); /* charset */
	ck_assert_int_eq(PARSE("A#B=1\0"), -EPROTO); /* '#' only after X */
	ck_assert_int_eq(PARSE("A=1\n\0"), -EPROTO); /* control character */
	ck_assert_int_eq(PARSE("\0"), -EPROTO);      /* empty pair */
	ck_assert_int_eq(PARSE("A=1\0B=2\0C=3\0D=4\0E=5\0"), -E2BIG);
	/* Keys up to 63 characters. */
	memset(key, 'K', sizeof(key));
	memcpy(text, key, 63);
	memcpy(text + 63, "=v", 3);
	ck_assert_int_eq(tk_parse(text, 66, pairs, LEN(pairs), &np), 0);
	memcpy(text, key, 64);
	memcpy(text + 64, "=v", 3);
	ck_assert_int_eq(tk_parse(text, 67, pairs, LEN(pairs), &np), -EPROTO);
#undef PARSE
}
END_TEST

START_TEST(textkeys_builder)
{
	char mem[20];
	struct tk_buf b;
	int i;

	tk_buf_init(&b, mem, sizeof(mem));
	ck_assert_int_eq(tk_add(&b, "Key", "value"), 0);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_mem_eq(b.buf, "Key=value\0", 10);
	/* 10 more would need 21: refused, nothing written. */
	ck_assert_int_eq(tk_add(&b, "Key", "valuee"), -ENOSPC);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_int_eq(tk_add(&b, "Key", "value"), 0);
	ck_assert_uint_eq(b.len, 20);
	ck_assert_int_eq(tk_add(&b, "bad", "x"), -EINVAL);
	ck_assert_int_eq(tk_add(&b, "Good", "x\001"), -EINVAL);
	tk_buf_free(&b);

	tk_buf_init_dyn(&b, 100000);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(tk_addf(&b, "TargetName", "iqn.2024-01.org.example:t%04d", i), 0);
	ck_assert_uint_eq(b.len, 1000 * strlen("TargetName=iqn.2024-01.org.example:t0000") + 1000);
	ck_assert_mem_eq(b.buf + b.len - 6, "t0999", 6);
	tk_buf_free(&b);
	tk_buf_init_dyn(&b, 30);
	ck_assert_int_eq(tk_add(&b, "A", "0123456789012345678901234"), 0);
	ck_assert_int_eq(tk_add(&b, "B", "1"), -ENOSPC);
	ck_assert_uint_eq(b.len, 28);
	tk_buf_free(&b);
}
END_TEST

/* Sends a text through a stream and re-assembles it from the wire,
 * checking the F/C/TTT rules on each PDU.  Returns the PDU count. */
static size_t split_and_reassemble(const char *text, size_t len, size_t mrdsl, size_t *n_cont)
{
	struct pdu_text_stream s;
	struct pdu_text_rsp hdr = {.itt = 0x42, .statsn = 1, .expcmdsn = 2, .maxcmdsn = 3};
	uint8_t *out = malloc(pdu_size(mrdsl));
	char *re = malloc(len + 1);
	size_t got = 0, pdus = 0;

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(re);
	*n_cont = 0;
	ck_assert_int_eq(pdu_text_stream_init(&s, text, len, mrdsl, 0x1000), 0);
	while (!pdu_text_stream_done(&s)) {
		struct pdu_text_rsp r;
		struct pdu p;
		ssize_t n = pdu_text_stream_build(&s, out, pdu_size(mrdsl), &hdr);

		ck_assert_int_gt(n, 0);
		ck_assert_int_eq(pdu_parse(out, (size_t)n, mrdsl, &p), n);
		ck_assert_int_eq(pdu_get_text_rsp(&p, &r), 0);
		ck_assert_uint_le(p.data_len, mrdsl);
		ck_assert_uint_eq(r.itt, 0x42);
		if (r.final) {
			ck_assert(!r.cont);
			ck_assert_uint_eq(r.ttt, PDU_RSVD_TAG);
			ck_assert(pdu_text_stream_done(&s));
		} else {
			ck_assert_uint_eq(r.ttt, 0x1000);
			ck_assert_uint_gt(p.data_len, 0);
		}
		/* C=1 exactly when a non-final PDU stops inside a pair. */
		if (!r.final)
			ck_assert_int_eq(r.cont, p.data[p.data_len - 1] != '\0');
		*n_cont += r.cont;
		if (p.data_len)
			memcpy(re + got, p.data, p.data_len);
		got += p.data_len;
		pdus++;
		ck_assert_uint_le(pdus, len + 1);
	}
	ck_assert_int_eq(pdu_text_stream_build(&s, out, pdu_size(mrdsl), &hdr), -ENODATA);
	ck_assert_uint_eq(got, len);
	ck_assert(memcmp(re, text, len) == 0);
	free(out);
	free(re);
	return pdus;
}

START_TEST(sendtargets_10000_split)
{
	enum { N = 10000 };
	struct tk_buf b;
	struct tk_pair *pairs = calloc(2 * N, sizeof(*pairs));
	size_t np, pdus, ncont, i;

	ck_assert_ptr_nonnull(pairs);
	tk_buf_init_dyn(&b, 16u << 20);
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(tk_addf(&b, "TargetName", "iqn.2024-01.org.example.sanagent:target%05zu", i), 0);
		ck_assert_int_eq(tk_add(&b, "TargetAddress", "192.0.2.10:3260,1"), 0);
	}
	pdus = split_and_reassemble(b.buf, b.len, PDU_DEFAULT_MRDSL, &ncont);
	/* Whole pairs fit in 8 KiB, so no pair is split. */
	ck_assert_uint_eq(ncont, 0);
	ck_assert_uint_ge(pdus, b.len / PDU_DEFAULT_MRDSL + 1);
	ck_assert_uint_le(pdus, b.len / (PDU_DEFAULT_MRDSL - 100) + 1);
	ck_assert_int_eq(tk_parse(b.buf, b.len, pairs, 2 * N, &np), 0);
	ck_assert_uint_eq(np, 2 * N);
	ck_assert_str_eq(pairs[2 * N - 2].value, "iqn.2024-01.org.example.sanagent:target09999");

	/* A tiny MaxRecvDataSegmentLength cuts pairs: C=1 and still exact. */
	pdus = split_and_reassemble(b.buf, 4096, 16, &ncont);
	ck_assert_uint_gt(ncont, 0);
	ck_assert_uint_ge(pdus, 4096 / 16);
	/* The 512-byte minimum of RFC 7143 and an odd size. */
	split_and_reassemble(b.buf, b.len, 512, &ncont);
	ck_assert_uint_eq(ncont, 0);
	split_and_reassemble(b.buf, 10000, 37, &ncont);
	/* An empty reply is one final PDU with no data. */
	ck_assert_uint_eq(split_and_reassemble("", 0, 512, &ncont), 1);
	free(pairs);
	tk_buf_free(&b);
}
END_TEST

START_TEST(stream_bad_args)
{
	struct pdu_text_stream s;
	struct pdu_text_rsp hdr = {0};
	uint8_t out[64];

	ck_assert_int_eq(pdu_text_stream_init(&s, "A=1", 4, 0, 1), -EINVAL);
	ck_assert_int_eq(pdu_text_stream_init(&s, "A=1", 4, 512, PDU_RSVD_TAG), -EINVAL);
	ck_assert_int_eq(pdu_text_stream_init(&s, "A=1", 4, 512, 1), 0);
	/* Too small an output buffer leaves the stream where it was. */
	ck_assert_int_eq(pdu_text_stream_build(&s, out, 50, &hdr), -ENOSPC);
	ck_assert(!pdu_text_stream_done(&s));
	ck_assert_int_eq(pdu_text_stream_build(&s, out, sizeof(out), &hdr), 52);
	ck_assert(pdu_text_stream_done(&s));
}
END_TEST

static Suite *pdu_suite(void)
{
	Suite *s = suite_create("pdu");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, login_req_round_trip);
	tcase_add_test(tc, login_rsp_redirect);
	tcase_add_test(tc, text_round_trip);
	tcase_add_test(tc, reject_round_trip);
	tcase_add_test(tc, truncated_needs_more);
	tcase_add_test(tc, oversized_rejected_early);
	tcase_add_test(tc, garbage_rejected);
	tcase_add_test(tc, textkeys_strict);
	tcase_add_test(tc, textkeys_builder);
	tcase_add_test(tc, sendtargets_10000_split);
	tcase_add_test(tc, stream_bad_args);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pdu_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
