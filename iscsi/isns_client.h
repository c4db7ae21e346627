/* isns_client.h: blocking iSNS client over libisns: register this initiator (with an SCN port), query visible targets.
 */
#ifndef SA_ISCSI_ISNS_CLIENT_H
#define SA_ISCSI_ISNS_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* libisns keeps its configuration in globals and its calls block, so every
 * function here runs on ONE thread (the discovery engine's iSNS worker),
 * never in the agent loop. */

#define SA_ISNS_NAME_MAX 224
#define SA_ISNS_ALIAS_MAX 256 /* iSCSI Alias (tag 34): 255 octets and the NUL */
#define SA_ISNS_HOST_MAX 64

struct sa_isns_portal {
	int family; /* AF_INET or AF_INET6 */
	char host[SA_ISNS_HOST_MAX];
	uint16_t port;
	uint16_t tpgt;
};

struct sa_isns_target {
	char name[SA_ISNS_NAME_MAX];
	char alias[SA_ISNS_ALIAS_MAX]; /* "" = none registered */
	struct sa_isns_portal *portals;
	size_t nportals;
};

struct sa_isns_result {
	int rc;          /* 0, or a negative errno (-ECONNREFUSED, -ETIMEDOUT, -EPROTO, -EACCES ...) */
	int unreachable; /* the server could not be reached at all */
	char error[128]; /* what went wrong, for sanDiscSourceLastError */
	struct sa_isns_target *targets;
	size_t ntargets, cap;
};

struct sa_isns_req {
	const char *server;                      /* "ADDR:PORT", numeric */
	const char *initiator;                   /* our iSCSI name: the iSNS source and the registered initiator node */
	uint16_t scn_port;                       /* TCP port our SCN listener is on, 0 = no SCN registration */
	const struct sockaddr_storage *scn_addr; /* the address it listens on; NULL = ours towards the server */
	int do_register;                         /* register (replace) the initiator and its SCN before querying */
};

/* The source address the kernel picks towards server ("ADDR:PORT"); no
 * packet is sent.  0 or a negative errno. */
int sa_isns_local_addr(const char *server, struct sockaddr_storage *ss);

/* Registers when asked, then asks the server for the iSCSI targets visible
 * to the initiator (its discovery domains) with their portal groups.
 * Fills out (free it with sa_isns_result_free); returns out->rc. */
int sa_isns_discover(const struct sa_isns_req *rq, struct sa_isns_result *out);
/* Removes our entity from the server (at stop); 0 or a negative errno. */
int sa_isns_deregister(const char *server, const char *initiator);
void sa_isns_result_free(struct sa_isns_result *r);

/* Moves target from portal old_host:old_port to new_host:new_port in the iSNS database, as source (a control
 * node's name), with portal groups (RFC 4171 3.5): the new portal joins the network entity that holds the
 * target, the target gets a portal group with a tag at the new portal and one without a tag (no access) at the
 * old one; the entity's other nodes get one without a tag at the new portal, so they stay where they were.
 * undo reverses it: the target's tag back at the old portal, the new portal deregistered.  0 or a negative errno
 * (-ENOENT: the server does not know the target; -EHOSTUNREACH: no answer), err says what failed.  Blocking:
 * on the caller's iSNS worker thread only. */
int sa_isns_move_target(const char *server, const char *source, const char *target, const char *old_host,
                        uint16_t old_port, const char *new_host, uint16_t new_port, int undo, char *err, size_t errlen);

#endif
