/* fuzz_pdu.c: libFuzzer target for the redirector's PDU codec and text keys (built by tests/fuzz/run.sh). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi/pdu.h"
#include "iscsi/textkeys.h"

/* A property that must hold for every input: abort so libFuzzer reports it. */
#define CHECK(c)                                                                                                       \
	do {                                                                                                           \
		if (!(c))                                                                                              \
			abort();                                                                                       \
	} while (0)

static uint8_t out[PDU_BHS_LEN + 4096 + 4];
static char text[4096];

/* Parsed pairs rebuilt with the builder give back the very same bytes. */
static void text_round_trip(const char *data, size_t len)
{
	static struct tk_pair pairs[256];
	static char key[TK_KEY_MAX + 1];
	struct tk_buf b;
	size_t np, i;
	int rc;

	rc = tk_parse(data, len, pairs, 256, &np);
	CHECK(rc == 0 || rc == -EPROTO || rc == -E2BIG);
	if (rc)
		return;
	tk_buf_init_dyn(&b, len);
	for (i = 0; i < np; i++) {
		CHECK(pairs[i].key_len <= TK_KEY_MAX);
		memcpy(key, pairs[i].key, pairs[i].key_len);
		key[pairs[i].key_len] = '\0';
		CHECK(tk_add(&b, key, pairs[i].value) == 0);
		CHECK(tk_get(pairs, np, key) != NULL);
	}
	CHECK(b.len == len);
	CHECK(len == 0 || memcmp(b.buf, data, len) == 0);
	tk_buf_free(&b);
}

/* Splitting any text with any small MaxRecvDataSegmentLength re-assembles exactly. */
static void split_round_trip(const char *data, size_t len, size_t mrdsl)
{
	struct pdu_text_stream s;
	struct pdu_text_rsp hdr = {.itt = 1};
	size_t got = 0, pdus = 0;

	if (len > sizeof(text))
		len = sizeof(text);
	CHECK(pdu_text_stream_init(&s, data, len, mrdsl, 7) == 0);
	while (!pdu_text_stream_done(&s)) {
		struct pdu p;
		struct pdu_text_rsp r;
		ssize_t n = pdu_text_stream_build(&s, out, sizeof(out), &hdr);

		CHECK(n > 0);
		CHECK(pdu_parse(out, (size_t)n, mrdsl, &p) == n);
		CHECK(pdu_get_text_rsp(&p, &r) == 0);
		CHECK(p.data_len <= mrdsl);
		CHECK(r.final || p.data_len > 0);
		if (p.data_len)
			memcpy(text + got, p.data, p.data_len);
		got += p.data_len;
		CHECK(++pdus <= len + 1);
	}
	CHECK(got == len);
	CHECK(len == 0 || memcmp(text, data, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, max_data;

	if (size < 1)
		return 0;
	/* The first byte picks the data segment limit, so both the limit path
	 * and full segments get exercised. */
	max_data = (size_t)data[0] * 32;
	data++;
	size--;
	split_round_trip((const char *)data, size, 1 + (max_data % 700));
	while (off < size) {
		struct pdu p;
		ssize_t n = pdu_parse(data + off, size - off, max_data, &p);

		CHECK(n == 0 || n == -EPROTO || n == -EMSGSIZE || (n >= PDU_BHS_LEN && (size_t)n <= size - off));
		if (n <= 0)
			break;
		CHECK(p.data_len <= max_data);
		if (p.data_len)
			CHECK(p.data >= data + off + PDU_BHS_LEN && p.data + p.data_len <= data + off + n);
		switch (p.opcode) {
		case PDU_OP_LOGIN_REQ: {
			struct pdu_login_req q;
			struct pdu_login_rsp r = {0};

			if (pdu_get_login_req(&p, &q) == 0) {
				struct pdu back;
				struct pdu_login_req q2;
				ssize_t m;

				/* Decode, re-encode, decode: the same fields. */
				m = pdu_build_login_req(out, sizeof(out), &q, p.data,
				                        p.data_len > 4096 ? 4096 : p.data_len);
				CHECK(m > 0);
				CHECK(pdu_parse(out, (size_t)m, 4096, &back) == m);
				CHECK(pdu_get_login_req(&back, &q2) == 0);
				CHECK(memcmp(&q, &q2, sizeof(q)) == 0);
				memcpy(r.isid, q.isid, 6);
				r.itt = q.itt;
				r.status_class = 1;
				r.status_detail = 1;
				CHECK(pdu_build_login_rsp(out, sizeof(out), &r, "TargetAddress=127.0.0.1:3260,1", 31) >
				      0);
			}
			text_round_trip((const char *)p.data, p.data_len);
			break;
		}
		case PDU_OP_TEXT_REQ: {
			struct pdu_text_req q;

			if (pdu_get_text_req(&p, &q) == 0)
				CHECK(!(q.final && q.cont));
			text_round_trip((const char *)p.data, p.data_len);
			break;
		}
		case PDU_OP_LOGIN_RSP: {
			struct pdu_login_rsp r;

			(void)pdu_get_login_rsp(&p, &r);
			break;
		}
		case PDU_OP_TEXT_RSP: {
			struct pdu_text_rsp r;

			if (pdu_get_text_rsp(&p, &r) == 0)
				CHECK(r.final || r.ttt != PDU_RSVD_TAG);
			break;
		}
		case PDU_OP_REJECT: {
			struct pdu_reject r;

			if (pdu_get_reject(&p, &r) == 0)
				CHECK(p.data_len >= PDU_BHS_LEN);
			break;
		}
		default: {
			/* What the portal does with anything else: reject it. */
			struct pdu_reject rj = {.reason = PDU_REJ_CMD_NOT_SUPPORTED};

			CHECK(pdu_build_reject(out, sizeof(out), &rj, p.bhs) == 2 * PDU_BHS_LEN);
			CHECK(memcmp(out + PDU_BHS_LEN, p.bhs, PDU_BHS_LEN) == 0);
			break;
		}
		}
		off += (size_t)n;
	}
	return 0;
}
