/* sendtargets.h: asynchronous iSCSI SendTargets client (discovery login, Text with continuation, logout). */
#ifndef SA_DISC_SENDTARGETS_H
#define SA_DISC_SENDTARGETS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

/* Where an exchange stopped, so a caller tells "nobody listens" (connect)
 * from "a portal that answered but refused us" (login and later). */
enum disc_st_phase { DISC_ST_CONNECT = 1, DISC_ST_LOGIN, DISC_ST_TEXT, DISC_ST_LOGOUT };

struct disc_st_params {
	const char *initiator; /* InitiatorName of the discovery login */
	unsigned int connect_timeout_ms;
	unsigned int timeout_ms; /* the whole exchange */
	size_t max_reply;        /* bytes of SendTargets text accepted */
	unsigned int mrdsl;      /* MaxRecvDataSegmentLength we declare; 0 = 262144 */
	/* Discovery CHAP (RFC 7143 12.1.3): NULL or "" user = AuthMethod=None.
	 * A target user and secret add mutual CHAP: the target must prove it
	 * knows target_secret.  The exchange keeps its own copies. */
	const char *chap_user, *chap_secret;
	const char *chap_target_user, *chap_target_secret;
	/* Not NULL: a normal session to this target instead (seed 001's informational login): the login runs to
	 * full feature phase and logs out at once, no SendTargets; the callback's text is the TargetAlias the
	 * target declared ("" when none). */
	const char *target_name;
};

struct disc_st;

/* Called exactly once per exchange, from the event loop.  rc is 0 or a
 * negative errno: -ECONNREFUSED/-ETIMEDOUT/... (connect), -EACCES
 * (authentication needed or failed: status 0x0201/0x0202, or the target
 * refused CHAP), -EKEYREJECTED (the target failed our mutual CHAP
 * challenge), -ENOENT, -EAGAIN (service unavailable), -EPROTO, -EFBIG
 * (reply above max_reply), -ECONNABORTED (logged out through the sessions
 * registry).  Each exchange is a discovery session in the sessions
 * registry (engines/sessions.h) from its connect to its end.  text/len is the
 * whole SendTargets reply, every Text Response of a continued reply joined;
 * valid only during the call.  The exchange is freed after the callback,
 * which must not cancel it. */
typedef void (*disc_st_cb)(int rc, enum disc_st_phase phase, const char *text, size_t len, void *arg);

/* Starts an exchange against addr.  0 or a negative errno (nothing started,
 * no callback). */
int disc_st_start(const struct sockaddr *addr, socklen_t addrlen, const struct disc_st_params *p, disc_st_cb cb,
                  void *arg, struct disc_st **out);
/* Stops an exchange in flight; its callback is not called. */
void disc_st_cancel(struct disc_st *st);
/* Status-Class << 8 | Status-Detail of the last login response (0: none yet or success); valid during the
 * callback. */
unsigned int disc_st_status(const struct disc_st *st);

/* One portal of a SendTargets reply.  family is AF_INET/AF_INET6 for a
 * numeric address, AF_UNSPEC for a host name. */
struct disc_st_addr {
	int family;
	char host[256];
	uint16_t port; /* 3260 when the reply gives none */
	uint16_t tpgt;
	int has_tpgt;
};

/* Walks a SendTargets reply: fn is called once for every TargetAddress of a
 * target, and once with addr NULL for a target that lists none (it is
 * reachable where the discovery session went, RFC 7143 appendix C).
 * Returns 0, or -EPROTO when a TargetAddress comes before any TargetName. */
typedef void (*disc_st_target_fn)(const char *name, const struct disc_st_addr *addr, void *arg);
int disc_st_parse(const char *text, size_t len, disc_st_target_fn fn, void *arg);
/* Parses "HOST[:PORT][,TPGT]" and "[V6][:PORT][,TPGT]". 0 or -EINVAL. */
int disc_st_parse_addr(const char *s, struct disc_st_addr *out);

/* Milliseconds from a to b (CLOCK_MONOTONIC), for the engine's timing lines and counters. */
static inline long disc_ms_between(const struct timespec *a, const struct timespec *b)
{
	return (long)((b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000);
}

#endif
