/* hex.h: the value of one hexadecimal digit, for the state file's escapes and hex-encoded secrets. */
#ifndef SA_COMMON_HEX_H
#define SA_COMMON_HEX_H

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

#endif
