/* hex.h: hexadecimal digits and octet strings, for the state file's escapes, hex-encoded secrets and addresses. */
#ifndef SA_COMMON_HEX_H
#define SA_COMMON_HEX_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* 0..15, or -1 when c is not a hexadecimal digit (either case). */
static inline int cm_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The len octets at in as 2 * len lowercase digits and a NUL at out (2 * len + 1 bytes). */
static inline void cm_hex_encode(const void *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = in;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}

/* The digits of in (either case, an even number of them, at most 2 * max) as *len octets at out: 0, or -EINVAL
 * (out may then hold part of them). */
static inline int cm_hex_decode(const char *in, unsigned char *out, size_t max, size_t *len)
{
	size_t n = strlen(in);

	if (n % 2 || n / 2 > max)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = cm_hex_digit(in[2 * i]), lo = cm_hex_digit(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

#endif
