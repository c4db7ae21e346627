/* sockaddr.h: a numeric "HOST:PORT" or "[V6]:PORT" into a socket address (listen endpoints, login portals). */
#ifndef SA_COMMON_SOCKADDR_H
#define SA_COMMON_SOCKADDR_H

#include <sys/socket.h>

/* 0, or -EINVAL for anything but a numeric IPv4/IPv6 address with a port 1-65535 (no name lookup: callers run on
 * the agent loop). */
int cm_sockaddr_parse(const char *endpoint, struct sockaddr_storage *ss, socklen_t *len);

#endif
