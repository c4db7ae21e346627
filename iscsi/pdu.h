/* pdu.h: RFC 7143 PDU codec for the redirector portal: framing, Login/Text/Reject decode and build. */
#ifndef ISCSI_PDU_H
#define ISCSI_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PDU_BHS_LEN 48
#define PDU_RSVD_TAG 0xffffffffu
/* DataSegmentLength is a 24-bit field. */
#define PDU_DSL_MAX 0xffffffu
/* RFC 7143 default MaxRecvDataSegmentLength, and what we use until told otherwise. */
#define PDU_DEFAULT_MRDSL 8192u

enum pdu_opcode {
	/* initiator to target */
	PDU_OP_NOP_OUT = 0x00,
	PDU_OP_SCSI_CMD = 0x01,
	PDU_OP_TMF_REQ = 0x02,
	PDU_OP_LOGIN_REQ = 0x03,
	PDU_OP_TEXT_REQ = 0x04,
	PDU_OP_DATA_OUT = 0x05,
	PDU_OP_LOGOUT_REQ = 0x06,
	PDU_OP_SNACK = 0x10,
	/* target to initiator */
	PDU_OP_NOP_IN = 0x20,
	PDU_OP_SCSI_RSP = 0x21,
	PDU_OP_TMF_RSP = 0x22,
	PDU_OP_LOGIN_RSP = 0x23,
	PDU_OP_TEXT_RSP = 0x24,
	PDU_OP_DATA_IN = 0x25,
	PDU_OP_LOGOUT_RSP = 0x26,
	PDU_OP_R2T = 0x31,
	PDU_OP_ASYNC = 0x32,
	PDU_OP_REJECT = 0x3f,
};

/* Login stages (CSG/NSG). 2 is reserved. */
enum pdu_login_stage { PDU_STAGE_SECURITY = 0, PDU_STAGE_OPERATIONAL = 1, PDU_STAGE_FULL_FEATURE = 3 };

/* Login status class/detail (RFC 7143 11.13.5) used by the redirector. */
#define PDU_LOGIN_SUCCESS 0x0000
#define PDU_LOGIN_REDIRECT_TEMP 0x0101
#define PDU_LOGIN_REDIRECT_PERM 0x0102
#define PDU_LOGIN_INITIATOR_ERROR 0x0200
#define PDU_LOGIN_AUTH_FAILED 0x0201
#define PDU_LOGIN_FORBIDDEN 0x0202
#define PDU_LOGIN_NOT_FOUND 0x0203
#define PDU_LOGIN_REMOVED 0x0204
#define PDU_LOGIN_UNSUPPORTED_VERSION 0x0205
#define PDU_LOGIN_TOO_MANY_CONNS 0x0206
#define PDU_LOGIN_MISSING_PARAM 0x0207
#define PDU_LOGIN_NO_SESSION_SPAN 0x0208
#define PDU_LOGIN_UNSUPPORTED_SESSION 0x0209
#define PDU_LOGIN_SESSION_NOT_EXIST 0x020a
#define PDU_LOGIN_INVALID_DURING_LOGIN 0x020b
#define PDU_LOGIN_TARGET_ERROR 0x0300
#define PDU_LOGIN_SERVICE_UNAVAILABLE 0x0301
#define PDU_LOGIN_OUT_OF_RESOURCES 0x0302

/* Reject reasons (RFC 7143 11.17.1). */
enum pdu_reject_reason {
	PDU_REJ_DATA_DIGEST = 0x02,
	PDU_REJ_SNACK = 0x03,
	PDU_REJ_PROTOCOL_ERROR = 0x04,
	PDU_REJ_CMD_NOT_SUPPORTED = 0x05,
	PDU_REJ_IMMEDIATE_CMD = 0x06,
	PDU_REJ_TASK_IN_PROGRESS = 0x07,
	PDU_REJ_INVALID_DATA_ACK = 0x08,
	PDU_REJ_INVALID_PDU_FIELD = 0x09,
	PDU_REJ_LONG_OP = 0x0a,
	PDU_REJ_NEGOTIATION_RESET = 0x0b,
	PDU_REJ_WAITING_LOGOUT = 0x0c,
};

/* One framed PDU.  Every pointer points into the parsed input buffer. */
struct pdu {
	const uint8_t *bhs; /* PDU_BHS_LEN bytes */
	const uint8_t *ahs; /* NULL when ahs_len == 0 */
	size_t ahs_len;
	const uint8_t *data; /* NULL when data_len == 0; padding excluded */
	size_t data_len;
	uint8_t opcode;
	bool immediate;
	uint32_t itt;
};

/* Frames one PDU from the head of buf.  Digests are not supported: the
 * redirector offers HeaderDigest=None and DataDigest=None, so none follow.
 * max_data bounds DataSegmentLength and is checked as soon as the BHS is
 * in, so an oversized PDU is refused before it is buffered.
 * Returns bytes consumed (>0), 0 when more bytes are needed, -EMSGSIZE when
 * the data segment exceeds max_data, -EPROTO for a malformed header. */
ssize_t pdu_parse(const uint8_t *buf, size_t len, size_t max_data, struct pdu *out);

struct pdu_login_req {
	bool transit, cont;
	uint8_t csg, nsg;
	uint8_t version_max, version_min;
	uint8_t isid[6];
	uint16_t tsih;
	uint32_t itt;
	uint16_t cid;
	uint32_t cmdsn, expstatsn;
};

struct pdu_login_rsp {
	bool transit, cont;
	uint8_t csg, nsg;
	uint8_t version_max, version_active;
	uint8_t isid[6];
	uint16_t tsih;
	uint32_t itt;
	uint32_t statsn, expcmdsn, maxcmdsn;
	uint8_t status_class, status_detail;
};

struct pdu_text_req {
	bool immediate;
	bool final, cont;
	uint64_t lun;
	uint32_t itt, ttt;
	uint32_t cmdsn, expstatsn;
};

struct pdu_text_rsp {
	bool final, cont;
	uint64_t lun;
	uint32_t itt, ttt;
	uint32_t statsn, expcmdsn, maxcmdsn;
};

struct pdu_reject {
	uint8_t reason;
	uint32_t statsn, expcmdsn, maxcmdsn;
	uint32_t datasn; /* DataSN/R2TSN or 0 */
};

/* Decoders: check the opcode and the field rules a receiver must enforce
 * (stages, T/C and F/C combinations, reserved tags).  0 or -EPROTO. */
int pdu_get_login_req(const struct pdu *p, struct pdu_login_req *out);
int pdu_get_login_rsp(const struct pdu *p, struct pdu_login_rsp *out);
int pdu_get_text_req(const struct pdu *p, struct pdu_text_req *out);
int pdu_get_text_rsp(const struct pdu *p, struct pdu_text_rsp *out);
int pdu_get_reject(const struct pdu *p, struct pdu_reject *out);

/* Builders: write BHS + data + zero padding to out.  Return the byte
 * count, -ENOSPC when out is too small, -EINVAL for an invalid field
 * combination or a data segment above PDU_DSL_MAX. */
ssize_t pdu_build_login_req(uint8_t *out, size_t outlen, const struct pdu_login_req *r, const void *data, size_t dlen);
ssize_t pdu_build_login_rsp(uint8_t *out, size_t outlen, const struct pdu_login_rsp *r, const void *data, size_t dlen);
ssize_t pdu_build_text_req(uint8_t *out, size_t outlen, const struct pdu_text_req *r, const void *data, size_t dlen);
ssize_t pdu_build_text_rsp(uint8_t *out, size_t outlen, const struct pdu_text_rsp *r, const void *data, size_t dlen);
/* The data segment of a Reject is the complete BHS of the rejected PDU. */
ssize_t pdu_build_reject(uint8_t *out, size_t outlen, const struct pdu_reject *r, const uint8_t *bad_bhs);

/* Size of a PDU with a data segment of dlen bytes (BHS + padded data). */
size_t pdu_size(size_t dlen);

/* Splits a long text reply (SendTargets) across Text Responses of at most
 * mrdsl data bytes each (RFC 7143 10.11, 10.10.4).  The stream cuts at pair
 * boundaries whenever a whole pair fits, so most initiators never see a
 * split pair; a single pair longer than mrdsl is cut mid-pair with C=1.
 * Every PDU but the last has F=0 and a TTT other than 0xffffffff; the
 * initiator echoes it in an empty Text Request to fetch the next one.
 * The last has F=1, C=0 and TTT 0xffffffff. */
struct pdu_text_stream {
	const char *text;
	size_t len;
	size_t off;
	size_t mrdsl;
	uint32_t ttt; /* the tag handed out with non-final PDUs */
	bool started; /* an empty reply still needs its one final PDU */
};

/* ttt must not be 0xffffffff; mrdsl must be > 0.  0 or -EINVAL. */
int pdu_text_stream_init(struct pdu_text_stream *s, const char *text, size_t len, size_t mrdsl, uint32_t ttt);
bool pdu_text_stream_done(const struct pdu_text_stream *s);
/* Consumes the next chunk without building it: offset/length into text and
 * the F/C bits its PDU needs.  -ENODATA when done. */
int pdu_text_stream_next(struct pdu_text_stream *s, size_t *off, size_t *len, bool *final, bool *cont);
/* Builds the next Text Response from hdr (itt, lun, sequence numbers are
 * taken from it; F, C and TTT are set by the stream).  Advances the stream
 * only on success.  Returns bytes written, -ENODATA when done, -ENOSPC. */
ssize_t pdu_text_stream_build(struct pdu_text_stream *s, uint8_t *out, size_t outlen, const struct pdu_text_rsp *hdr);

#endif
