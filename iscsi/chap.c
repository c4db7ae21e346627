/* chap.c: MD5 (from the RFC 1321 description), CHAP responses and the binary value encodings of RFC 7143 6.1. */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "iscsi/chap.h"

/* T[i] = floor(2^32 * |sin(i + 1)|), RFC 1321 3.4. */
static const uint32_t md5_t[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* Per-round rotation amounts. */
static const uint8_t md5_s[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

static uint32_t rol(uint32_t x, unsigned int n)
{
	return (x << n) | (x >> (32 - n));
}

static void md5_block(uint32_t st[4], const uint8_t *p)
{
	uint32_t x[16], a = st[0], b = st[1], c = st[2], d = st[3];

	/* The message words are little-endian whatever the host is. */
	for (int i = 0; i < 16; i++)
		x[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
		       (uint32_t)p[4 * i + 3] << 24;
	for (int i = 0; i < 64; i++) {
		uint32_t f, tmp;
		int k, r = i / 16;

		switch (r) {
		case 0:
			f = (b & c) | (~b & d);
			k = i;
			break;
		case 1:
			f = (b & d) | (c & ~d);
			k = (5 * i + 1) % 16;
			break;
		case 2:
			f = b ^ c ^ d;
			k = (3 * i + 5) % 16;
			break;
		default:
			f = c ^ (b | ~d);
			k = (7 * i) % 16;
			break;
		}
		tmp = d;
		d = c;
		c = b;
		b = b + rol(a + f + md5_t[i] + x[k], md5_s[r][i % 4]);
		a = tmp;
	}
	st[0] += a;
	st[1] += b;
	st[2] += c;
	st[3] += d;
}

void chap_md5_init(struct chap_md5 *c)
{
	c->state[0] = 0x67452301;
	c->state[1] = 0xefcdab89;
	c->state[2] = 0x98badcfe;
	c->state[3] = 0x10325476;
	c->bytes = 0;
}

void chap_md5_update(struct chap_md5 *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t have = (size_t)(c->bytes % 64);

	c->bytes += len;
	if (have) {
		size_t take = 64 - have < len ? 64 - have : len;

		memcpy(c->buf + have, p, take);
		p += take;
		len -= take;
		if (have + take < 64)
			return;
		md5_block(c->state, c->buf);
	}
	for (; len >= 64; p += 64, len -= 64)
		md5_block(c->state, p);
	if (len)
		memcpy(c->buf, p, len);
}

void chap_md5_final(struct chap_md5 *c, uint8_t out[16])
{
	uint64_t bits = c->bytes * 8;
	uint8_t pad[72] = {0x80};
	size_t have = (size_t)(c->bytes % 64), padlen = have < 56 ? 56 - have : 120 - have;
	uint8_t lenle[8];

	for (int i = 0; i < 8; i++)
		lenle[i] = (uint8_t)(bits >> (8 * i));
	chap_md5_update(c, pad, padlen);
	chap_md5_update(c, lenle, 8);
	for (int i = 0; i < 4; i++) {
		out[4 * i] = (uint8_t)c->state[i];
		out[4 * i + 1] = (uint8_t)(c->state[i] >> 8);
		out[4 * i + 2] = (uint8_t)(c->state[i] >> 16);
		out[4 * i + 3] = (uint8_t)(c->state[i] >> 24);
	}
	memset(c, 0, sizeof(*c));
}

void chap_md5(const void *data, size_t len, uint8_t out[16])
{
	struct chap_md5 c;

	chap_md5_init(&c);
	chap_md5_update(&c, data, len);
	chap_md5_final(&c, out);
}

int chap_response(uint8_t id, const void *secret, size_t secret_len, const uint8_t *challenge, size_t challenge_len,
                  uint8_t out[CHAP_RSP_LEN])
{
	struct chap_md5 c;

	if ((!secret && secret_len) || (!challenge && challenge_len) || !out)
		return -EINVAL;
	chap_md5_init(&c);
	chap_md5_update(&c, &id, 1);
	chap_md5_update(&c, secret, secret_len);
	chap_md5_update(&c, challenge, challenge_len);
	chap_md5_final(&c, out);
	return 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int b64val(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

int chap_decode(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = 0;

	if (!s || s[0] != '0' || !s[1] || !s[2])
		return -EINVAL;
	if (s[1] == 'x' || s[1] == 'X') {
		const char *p = s + 2;
		size_t digits = strlen(p);

		/* An odd count means a leading zero nibble was left out. */
		if (digits % 2) {
			int v = hexval(*p++);

			if (v < 0)
				return -EINVAL;
			if (n >= max)
				return -E2BIG;
			out[n++] = (uint8_t)v;
		}
		for (; *p; p += 2) {
			int hi = hexval(p[0]), lo = hexval(p[1]);

			if (hi < 0 || lo < 0)
				return -EINVAL;
			if (n >= max)
				return -E2BIG;
			out[n++] = (uint8_t)(hi << 4 | lo);
		}
	} else if (s[1] == 'b' || s[1] == 'B') {
		uint32_t acc = 0;
		int bits = 0;
		const char *p = s + 2;

		for (; *p && *p != '='; p++) {
			int v = b64val(*p);

			if (v < 0)
				return -EINVAL;
			acc = acc << 6 | (uint32_t)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				if (n >= max)
					return -E2BIG;
				out[n++] = (uint8_t)(acc >> bits);
			}
		}
		while (*p == '=')
			p++;
		if (*p)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	*len = n;
	return 0;
}

void chap_encode(const uint8_t *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";

	*out++ = '0';
	*out++ = 'x';
	for (size_t i = 0; i < len; i++) {
		*out++ = hex[in[i] >> 4];
		*out++ = hex[in[i] & 15];
	}
	*out = '\0';
}

int chap_random(uint8_t *out, size_t len)
{
	while (len) {
		ssize_t n = getrandom(out, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		out += n;
		len -= (size_t)n;
	}
	return 0;
}

int chap_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	uint8_t d = 0;

	for (size_t i = 0; i < len; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}
