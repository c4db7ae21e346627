/* chap.h: CHAP for iSCSI logins (RFC 1994 over RFC 7143 section 12.1.3): MD5, responses, binary value codecs. */
#ifndef ISCSI_CHAP_H
#define ISCSI_CHAP_H

#include <stddef.h>
#include <stdint.h>

/* MD5 (RFC 1321), written here so the iSCSI code needs no crypto library;
 * CHAP_A=5 is the only algorithm iSCSI targets are required to offer. */
struct chap_md5 {
	uint32_t state[4];
	uint64_t bytes;
	uint8_t buf[64];
};

void chap_md5_init(struct chap_md5 *c);
void chap_md5_update(struct chap_md5 *c, const void *data, size_t len);
void chap_md5_final(struct chap_md5 *c, uint8_t out[16]);
void chap_md5(const void *data, size_t len, uint8_t out[16]);

#define CHAP_MD5 5
#define CHAP_RSP_LEN 16
/* Challenges we send are this long; RFC 7143 12.1.3 wants the length of
 * the response at least, and targets accept up to 1024 bytes. */
#define CHAP_CHALLENGE_LEN 16
/* The longest binary CHAP value we decode (a target's challenge). */
#define CHAP_BIN_MAX 1024

/* Response = MD5(id || secret || challenge) (RFC 1994 4.1).  0 or -EINVAL. */
int chap_response(uint8_t id, const void *secret, size_t secret_len, const uint8_t *challenge, size_t challenge_len,
                  uint8_t out[CHAP_RSP_LEN]);

/* Decodes an RFC 7143 6.1 binary value: "0x" hex or "0b" base64.
 * 0, -EINVAL (malformed), -E2BIG (longer than max). */
int chap_decode(const char *s, uint8_t *out, size_t max, size_t *len);
/* "0x" followed by lower-case hex: out needs 2 * len + 3 bytes. */
void chap_encode(const uint8_t *in, size_t len, char *out);

/* len random bytes from the kernel: 0 or a negative errno. */
int chap_random(uint8_t *out, size_t len);

/* Compares in time independent of where they differ (responses). */
int chap_equal(const uint8_t *a, const uint8_t *b, size_t len);

#endif
