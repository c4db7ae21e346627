/* sockaddr.h: a numeric "HOST:PORT" or "[V6]:PORT" into a socket address (listen endpoints, login portals), and
 * whether two addresses are the same host. */
#ifndef SA_COMMON_SOCKADDR_H
#define SA_COMMON_SOCKADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/* 0, or -EINVAL for anything but a numeric IPv4/IPv6 address with a port 1-65535 (no name lookup: callers run on
 * the agent loop). */
int cm_sockaddr_parse(const char *endpoint, struct sockaddr_storage *ss, socklen_t *len);
/* The same IPv4 or IPv6 address, whatever the ports (a peer that may come from any port); false for other families. */
bool cm_sockaddr_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

#endif
