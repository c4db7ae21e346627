/* sp_bind_preload.c: sanpath-bind.so, preloaded into a team's data plane to give its iSCSI connections a source
 * address. */
/*
 * Why a preload: libiscsi creates and connects its socket inside
 * iscsi_full_connect_async() and offers only an interface bind
 * (SO_BINDTODEVICE), no source address and no hook between socket() and
 * connect().  The balance engine starts nbdkit with LD_PRELOAD naming this
 * library and SANPATH_BIND naming, per portal, the source address to use:
 *
 *     SANPATH_BIND="127.0.0.1:3260=127.0.0.3;[fd00::1]:3260=fd00::9"
 *
 * connect() to a listed portal binds the socket to its source first (port 0:
 * the kernel picks one); every other connect() goes through untouched.  A
 * bind that fails makes the connect fail with bind's errno, so the path
 * reports a connection failure instead of silently using another address.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define SP_BIND_MAX 32

struct sp_bind {
	struct sockaddr_storage dst, src;
	socklen_t src_len;
};

static struct sp_bind binds[SP_BIND_MAX];
static int nbinds;
static int (*real_connect)(int, const struct sockaddr *, socklen_t);

/* "ADDR:PORT" or "[ADDR6]:PORT" into dst; 0 or -1. */
static int parse_portal(char *s, struct sockaddr_storage *dst)
{
	char *colon = strrchr(s, ':'), *host = s;
	long port;

	if (!colon)
		return -1;
	*colon = '\0';
	port = strtol(colon + 1, NULL, 10);
	if (port <= 0 || port > 65535)
		return -1;
	if (*host == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)dst;
		size_t n = strlen(host);

		if (n < 2 || host[n - 1] != ']')
			return -1;
		host[n - 1] = '\0';
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1 ? 0 : -1;
	}
	((struct sockaddr_in *)dst)->sin_family = AF_INET;
	((struct sockaddr_in *)dst)->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &((struct sockaddr_in *)dst)->sin_addr) == 1 ? 0 : -1;
}

static int parse_source(const char *s, struct sp_bind *b)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&b->src;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&b->src;

	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		b->src_len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		b->src_len = sizeof(*a6);
	} else {
		return -1;
	}
	return b->src.ss_family == b->dst.ss_family ? 0 : -1;
}

__attribute__((constructor)) static void sp_bind_init(void)
{
	const char *env = getenv("SANPATH_BIND");
	char *copy, *item, *save = NULL;

	real_connect = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
	if (!env || !(copy = strdup(env)))
		return;
	/* The engine writes entries only from validated team paths; one that
	 * still does not parse is left out, and its portal connects from the
	 * default address. */
	for (item = strtok_r(copy, ";", &save); item && nbinds < SP_BIND_MAX; item = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(item, '=');
		struct sp_bind *b = &binds[nbinds];

		memset(b, 0, sizeof(*b));
		if (!eq)
			continue;
		*eq = '\0';
		if (parse_portal(item, &b->dst) == 0 && parse_source(eq + 1, b) == 0)
			nbinds++;
	}
	free(copy);
}

static const struct sp_bind *find(const struct sockaddr *dst)
{
	for (int i = 0; i < nbinds; i++) {
		const struct sockaddr_storage *d = &binds[i].dst;

		if (d->ss_family != dst->sa_family)
			continue;
		if (d->ss_family == AF_INET) {
			const struct sockaddr_in *x = (const struct sockaddr_in *)d,
			                         *y = (const struct sockaddr_in *)dst;

			if (x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr)
				return &binds[i];
		} else {
			const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)d,
			                          *y = (const struct sockaddr_in6 *)dst;

			if (x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)))
				return &binds[i];
		}
	}
	return NULL;
}

int connect(int fd, const struct sockaddr *dst, socklen_t len)
{
	const struct sp_bind *b = dst && nbinds ? find(dst) : NULL;

	if (!real_connect) {
		errno = ENOSYS;
		return -1;
	}
	if (b && bind(fd, (const struct sockaddr *)&b->src, b->src_len) < 0)
		return -1;
	return real_connect(fd, dst, len);
}
