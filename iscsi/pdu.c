/* pdu.c: RFC 7143 framing and Login/Text/Reject PDU encode/decode for the redirector portal. */
#include <errno.h>
#include <string.h>

#include "iscsi/pdu.h"

/* Byte 1 flag bits shared by Login and Text PDUs. */
#define F_TRANSIT 0x80 /* Login T; Text and Reject F share the bit */
#define F_FINAL 0x80
#define F_CONT 0x40
#define OP_IMMEDIATE 0x40
#define OP_MASK 0x3f

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

size_t pdu_size(size_t dlen)
{
	return PDU_BHS_LEN + pad4(dlen);
}

/* AHS entries must tile the AHS area exactly (RFC 7143 11.2.2): each is
 * AHSLength(2) AHSType(1) and AHSLength bytes from the type-specific byte
 * on, padded to 4.  A length that runs past the area is malformed. */
static int check_ahs(const uint8_t *ahs, size_t len)
{
	size_t off = 0;

	while (off < len) {
		size_t elen;

		if (len - off < 4)
			return -EPROTO;
		elen = pad4(3 + (size_t)get16(ahs + off));
		if (elen > len - off)
			return -EPROTO;
		off += elen;
	}
	return 0;
}

ssize_t pdu_parse(const uint8_t *buf, size_t len, size_t max_data, struct pdu *out)
{
	size_t ahs_len, dlen, total;

	if (!buf || !out)
		return -EINVAL;
	if (len < PDU_BHS_LEN)
		return 0;
	ahs_len = (size_t)buf[4] * 4;
	dlen = get24(buf + 5);
	if (dlen > max_data)
		return -EMSGSIZE;
	total = PDU_BHS_LEN + ahs_len + pad4(dlen);
	if (len < total)
		return 0;
	if (check_ahs(buf + PDU_BHS_LEN, ahs_len))
		return -EPROTO;
	memset(out, 0, sizeof(*out));
	out->bhs = buf;
	out->ahs = ahs_len ? buf + PDU_BHS_LEN : NULL;
	out->ahs_len = ahs_len;
	out->data = dlen ? buf + PDU_BHS_LEN + ahs_len : NULL;
	out->data_len = dlen;
	out->opcode = buf[0] & OP_MASK;
	out->immediate = (buf[0] & OP_IMMEDIATE) != 0;
	out->itt = get32(buf + 16);
	return (ssize_t)total;
}

/* Stages a login PDU may name: 2 is reserved. */
static bool stage_ok(uint8_t s)
{
	return s == PDU_STAGE_SECURITY || s == PDU_STAGE_OPERATIONAL || s == PDU_STAGE_FULL_FEATURE;
}

/* Rules a receiver must enforce on Login PDUs (RFC 7143 11.12.1-11.12.3):
 * T and C are exclusive, the current stage is never Full Feature, and a
 * transit goes forward to a valid stage. */
static int login_flags_ok(bool transit, bool cont, uint8_t csg, uint8_t nsg)
{
	if (transit && cont)
		return -EPROTO;
	if (csg != PDU_STAGE_SECURITY && csg != PDU_STAGE_OPERATIONAL)
		return -EPROTO;
	if (transit && (!stage_ok(nsg) || nsg <= csg))
		return -EPROTO;
	return 0;
}

/* A Login Request or Response (op) zeroed into o (osize bytes) with the
 * fields both share decoded, at the same BHS offsets (RFC 7143 11.12,
 * 11.13): flags, stages, VersionMax, ISID, TSIH, ITT.  Returns the BHS, or
 * NULL when p is no such PDU. */
static const uint8_t *get_login_common(const struct pdu *p, uint8_t op, void *o, size_t osize, bool *transit,
                                       bool *cont, uint8_t *csg, uint8_t *nsg, uint8_t *version_max, uint8_t isid[6],
                                       uint16_t *tsih, uint32_t *itt)
{
	const uint8_t *b;

	if (!p || !p->bhs || !o || p->opcode != op)
		return NULL;
	b = p->bhs;
	memset(o, 0, osize);
	*transit = (b[1] & F_TRANSIT) != 0;
	*cont = (b[1] & F_CONT) != 0;
	*csg = (b[1] >> 2) & 3;
	/* NSG means something only with T set; otherwise it is reserved. */
	*nsg = *transit ? (b[1] & 3) : 0;
	*version_max = b[2];
	memcpy(isid, b + 8, 6);
	*tsih = get16(b + 14);
	*itt = get32(b + 16);
	return b;
}

int pdu_get_login_req(const struct pdu *p, struct pdu_login_req *o)
{
	const uint8_t *b = o ? get_login_common(p, PDU_OP_LOGIN_REQ, o, sizeof(*o), &o->transit, &o->cont, &o->csg,
	                                        &o->nsg, &o->version_max, o->isid, &o->tsih, &o->itt)
	                     : NULL;

	if (!b)
		return -EPROTO;
	o->version_min = b[3];
	o->cid = get16(b + 20);
	o->cmdsn = get32(b + 24);
	o->expstatsn = get32(b + 28);
	if (login_flags_ok(o->transit, o->cont, o->csg, o->nsg))
		return -EPROTO;
	if (o->version_min > o->version_max)
		return -EPROTO;
	return 0;
}

int pdu_get_login_rsp(const struct pdu *p, struct pdu_login_rsp *o)
{
	const uint8_t *b = o ? get_login_common(p, PDU_OP_LOGIN_RSP, o, sizeof(*o), &o->transit, &o->cont, &o->csg,
	                                        &o->nsg, &o->version_max, o->isid, &o->tsih, &o->itt)
	                     : NULL;

	if (!b)
		return -EPROTO;
	o->version_active = b[3];
	o->statsn = get32(b + 24);
	o->expcmdsn = get32(b + 28);
	o->maxcmdsn = get32(b + 32);
	o->status_class = b[36];
	o->status_detail = b[37];
	/* A failed login (class != 0) makes CSG/NSG meaningless (11.13.3). */
	if (o->status_class == 0 && login_flags_ok(o->transit, o->cont, o->csg, o->nsg))
		return -EPROTO;
	return 0;
}

/* A Text Request or Response (op) zeroed into o (osize bytes) with the fields both share decoded, at the same BHS
 * offsets (RFC 7143 11.10, 11.11): F, C, LUN, ITT, TTT.  Returns the BHS, or NULL when p is no such PDU. */
static const uint8_t *get_text_common(const struct pdu *p, uint8_t op, void *o, size_t osize, bool *final, bool *cont,
                                      uint64_t *lun, uint32_t *itt, uint32_t *ttt)
{
	const uint8_t *b;

	if (!p || !p->bhs || !o || p->opcode != op)
		return NULL;
	b = p->bhs;
	memset(o, 0, osize);
	*final = (b[1] & F_FINAL) != 0;
	*cont = (b[1] & F_CONT) != 0;
	*lun = get64(b + 8);
	*itt = get32(b + 16);
	*ttt = get32(b + 20);
	return b;
}

int pdu_get_text_req(const struct pdu *p, struct pdu_text_req *o)
{
	const uint8_t *b =
	    o ? get_text_common(p, PDU_OP_TEXT_REQ, o, sizeof(*o), &o->final, &o->cont, &o->lun, &o->itt, &o->ttt)
	      : NULL;

	if (!b)
		return -EPROTO;
	o->immediate = p->immediate;
	o->cmdsn = get32(b + 24);
	o->expstatsn = get32(b + 28);
	/* 11.10.2: C=1 (text continues) requires F=0. */
	if (o->final && o->cont)
		return -EPROTO;
	/* The ITT 0xffffffff is reserved for unsolicited target PDUs. */
	if (o->itt == PDU_RSVD_TAG)
		return -EPROTO;
	return 0;
}

int pdu_get_text_rsp(const struct pdu *p, struct pdu_text_rsp *o)
{
	const uint8_t *b =
	    o ? get_text_common(p, PDU_OP_TEXT_RSP, o, sizeof(*o), &o->final, &o->cont, &o->lun, &o->itt, &o->ttt)
	      : NULL;

	if (!b)
		return -EPROTO;
	o->statsn = get32(b + 24);
	o->expcmdsn = get32(b + 28);
	o->maxcmdsn = get32(b + 32);
	if (o->final && o->cont)
		return -EPROTO;
	/* 10.11.4: a target with more to send sets F=0 and MUST hand out a
	 * real TTT; with F=1 the initiator ignores the TTT. */
	if (!o->final && o->ttt == PDU_RSVD_TAG)
		return -EPROTO;
	return 0;
}

int pdu_get_reject(const struct pdu *p, struct pdu_reject *o)
{
	const uint8_t *b;

	if (!p || !p->bhs || !o || p->opcode != PDU_OP_REJECT)
		return -EPROTO;
	/* The data segment carries the complete header of the rejected PDU. */
	if (p->data_len < PDU_BHS_LEN)
		return -EPROTO;
	b = p->bhs;
	memset(o, 0, sizeof(*o));
	o->reason = b[2];
	o->statsn = get32(b + 24);
	o->expcmdsn = get32(b + 28);
	o->maxcmdsn = get32(b + 32);
	o->datasn = get32(b + 36);
	return 0;
}

/* Common tail of every builder: length check, BHS clear, length fields,
 * data copy and zero padding.  Returns the PDU size or -errno. */
static ssize_t frame(uint8_t *out, size_t outlen, uint8_t byte0, const void *data, size_t dlen)
{
	size_t total;

	if (!out || (dlen && !data))
		return -EINVAL;
	if (dlen > PDU_DSL_MAX)
		return -EINVAL;
	total = pdu_size(dlen);
	if (outlen < total)
		return -ENOSPC;
	memset(out, 0, PDU_BHS_LEN);
	out[0] = byte0;
	put24(out + 5, (uint32_t)dlen);
	if (dlen)
		memcpy(out + PDU_BHS_LEN, data, dlen);
	memset(out + PDU_BHS_LEN + dlen, 0, total - PDU_BHS_LEN - dlen);
	return (ssize_t)total;
}

static uint8_t login_byte1(bool transit, bool cont, uint8_t csg, uint8_t nsg)
{
	return (uint8_t)((transit ? F_TRANSIT : 0) | (cont ? F_CONT : 0) | (csg & 3) << 2 | (transit ? (nsg & 3) : 0));
}

ssize_t pdu_build_login_req(uint8_t *out, size_t outlen, const struct pdu_login_req *r, const void *data, size_t dlen)
{
	ssize_t n;

	if (!r || login_flags_ok(r->transit, r->cont, r->csg, r->nsg) || r->version_min > r->version_max)
		return -EINVAL;
	/* 11.12: the I bit is always 1 on a Login Request. */
	n = frame(out, outlen, OP_IMMEDIATE | PDU_OP_LOGIN_REQ, data, dlen);
	if (n < 0)
		return n;
	out[1] = login_byte1(r->transit, r->cont, r->csg, r->nsg);
	out[2] = r->version_max;
	out[3] = r->version_min;
	memcpy(out + 8, r->isid, 6);
	put16(out + 14, r->tsih);
	put32(out + 16, r->itt);
	put16(out + 20, r->cid);
	put32(out + 24, r->cmdsn);
	put32(out + 28, r->expstatsn);
	return n;
}

ssize_t pdu_build_login_rsp(uint8_t *out, size_t outlen, const struct pdu_login_rsp *r, const void *data, size_t dlen)
{
	ssize_t n;

	if (!r)
		return -EINVAL;
	/* With a non-zero Status-Class the stages are ignored by the peer
	 * (11.13.5), but T and C stay exclusive. */
	if (r->status_class == 0 && login_flags_ok(r->transit, r->cont, r->csg, r->nsg))
		return -EINVAL;
	if (r->transit && r->cont)
		return -EINVAL;
	n = frame(out, outlen, PDU_OP_LOGIN_RSP, data, dlen);
	if (n < 0)
		return n;
	out[1] = login_byte1(r->transit, r->cont, r->csg, r->nsg);
	out[2] = r->version_max;
	out[3] = r->version_active;
	memcpy(out + 8, r->isid, 6);
	put16(out + 14, r->tsih);
	put32(out + 16, r->itt);
	put32(out + 24, r->statsn);
	put32(out + 28, r->expcmdsn);
	put32(out + 32, r->maxcmdsn);
	out[36] = r->status_class;
	out[37] = r->status_detail;
	return n;
}

ssize_t pdu_build_text_req(uint8_t *out, size_t outlen, const struct pdu_text_req *r, const void *data, size_t dlen)
{
	ssize_t n;

	if (!r || (r->final && r->cont) || r->itt == PDU_RSVD_TAG)
		return -EINVAL;
	n = frame(out, outlen, (uint8_t)((r->immediate ? OP_IMMEDIATE : 0) | PDU_OP_TEXT_REQ), data, dlen);
	if (n < 0)
		return n;
	out[1] = (uint8_t)((r->final ? F_FINAL : 0) | (r->cont ? F_CONT : 0));
	put64(out + 8, r->lun);
	put32(out + 16, r->itt);
	put32(out + 20, r->ttt);
	put32(out + 24, r->cmdsn);
	put32(out + 28, r->expstatsn);
	return n;
}

ssize_t pdu_build_text_rsp(uint8_t *out, size_t outlen, const struct pdu_text_rsp *r, const void *data, size_t dlen)
{
	ssize_t n;

	if (!r || (r->final && r->cont))
		return -EINVAL;
	/* A final response carries the reserved TTT, a non-final one a real one. */
	if (r->final != (r->ttt == PDU_RSVD_TAG))
		return -EINVAL;
	n = frame(out, outlen, PDU_OP_TEXT_RSP, data, dlen);
	if (n < 0)
		return n;
	out[1] = (uint8_t)((r->final ? F_FINAL : 0) | (r->cont ? F_CONT : 0));
	put64(out + 8, r->lun);
	put32(out + 16, r->itt);
	put32(out + 20, r->ttt);
	put32(out + 24, r->statsn);
	put32(out + 28, r->expcmdsn);
	put32(out + 32, r->maxcmdsn);
	return n;
}

ssize_t pdu_build_reject(uint8_t *out, size_t outlen, const struct pdu_reject *r, const uint8_t *bad_bhs)
{
	ssize_t n;

	if (!r || !bad_bhs || r->reason < PDU_REJ_DATA_DIGEST)
		return -EINVAL;
	n = frame(out, outlen, PDU_OP_REJECT, bad_bhs, PDU_BHS_LEN);
	if (n < 0)
		return n;
	out[1] = F_FINAL;
	out[2] = r->reason;
	put32(out + 16, PDU_RSVD_TAG);
	put32(out + 24, r->statsn);
	put32(out + 28, r->expcmdsn);
	put32(out + 32, r->maxcmdsn);
	put32(out + 36, r->datasn);
	return n;
}

int pdu_text_stream_init(struct pdu_text_stream *s, const char *text, size_t len, size_t mrdsl, uint32_t ttt)
{
	if (!s || (len && !text) || mrdsl == 0 || ttt == PDU_RSVD_TAG)
		return -EINVAL;
	s->text = text;
	s->len = len;
	s->off = 0;
	/* DataSegmentLength cannot describe more than 24 bits. */
	s->mrdsl = mrdsl > PDU_DSL_MAX ? PDU_DSL_MAX : mrdsl;
	s->ttt = ttt;
	s->started = false;
	return 0;
}

bool pdu_text_stream_done(const struct pdu_text_stream *s)
{
	return s->started && s->off >= s->len;
}

/* Where the next chunk ends, without consuming it. */
static int stream_peek(const struct pdu_text_stream *s, size_t *off, size_t *len, bool *final, bool *cont)
{
	size_t rest, n;
	bool c = false;

	if (pdu_text_stream_done(s))
		return -ENODATA;
	rest = s->len - s->off;
	n = rest;
	if (rest > s->mrdsl) {
		const char *win = s->text + s->off;
		size_t i = s->mrdsl;

		/* Prefer to end on a pair's NUL so initiators that never
		 * learned the C bit still get whole pairs. */
		while (i > 0 && win[i - 1] != '\0')
			i--;
		if (i > 0) {
			n = i;
		} else {
			n = s->mrdsl;
			c = true;
		}
	}
	*off = s->off;
	*len = n;
	*final = n == rest;
	*cont = c;
	return 0;
}

int pdu_text_stream_next(struct pdu_text_stream *s, size_t *off, size_t *len, bool *final, bool *cont)
{
	int rc;

	if (!s || !off || !len || !final || !cont)
		return -EINVAL;
	rc = stream_peek(s, off, len, final, cont);
	if (rc)
		return rc;
	s->off = *off + *len;
	s->started = true;
	return 0;
}

ssize_t pdu_text_stream_build(struct pdu_text_stream *s, uint8_t *out, size_t outlen, const struct pdu_text_rsp *hdr)
{
	struct pdu_text_rsp r;
	size_t off, len;
	bool final, cont;
	ssize_t n;
	int rc;

	if (!s || !hdr)
		return -EINVAL;
	rc = stream_peek(s, &off, &len, &final, &cont);
	if (rc)
		return rc;
	r = *hdr;
	r.final = final;
	r.cont = cont;
	r.ttt = final ? PDU_RSVD_TAG : s->ttt;
	n = pdu_build_text_rsp(out, outlen, &r, len ? s->text + off : NULL, len);
	if (n < 0)
		return n;
	s->off = off + len;
	s->started = true;
	return n;
}
