/* sp_source.h: a path's source is an interface name or a source address; this tells which. */
#ifndef SA_ISCSI_SP_SOURCE_H
#define SA_ISCSI_SP_SOURCE_H

#include <arpa/inet.h>

/* An interface is bound by libiscsi (SO_BINDTODEVICE); an address by
 * sanpath-bind.so, which the balance engine preloads into the data plane
 * (see iscsi/sp_bind_preload.c). */
#define SP_BIND_PRELOAD "sanpath-bind.so"

static inline int sp_source_is_address(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

#endif
