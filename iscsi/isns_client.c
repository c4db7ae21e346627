/* isns_client.c: the libisns wrapper: initiator registration with an SCN portal, target and portal-group queries. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libisns/isns.h>
#include <libisns/attrs.h>
#include <libisns/isns-proto.h>

#include "common/array.h"
#include "iscsi/isns_client.h"

/* libisns keeps its configuration in globals: calls from two workers (discovery's, rediscover's) take turns. */
static pthread_mutex_t isns_lock = PTHREAD_MUTEX_INITIALIZER;

/* Seconds: a dead server must not hold the worker (and with it every other
 * server's query, and the engine's stop) for long. */
#define ISNS_CONNECT_TIMEOUT 2
#define ISNS_CALL_TIMEOUT 4

/* Changes in what the initiator may see: targets registered, deregistered
 * or updated, and discovery-domain membership. */
#define ISNS_SCN_BITS                                                                                                  \
	(ISNS_SCN_OBJECT_ADDED_MASK | ISNS_SCN_OBJECT_REMOVED_MASK | ISNS_SCN_OBJECT_UPDATED_MASK |                    \
	 ISNS_SCN_DD_MEMBER_ADDED_MASK | ISNS_SCN_DD_MEMBER_REMOVED_MASK | ISNS_SCN_TARGET_AND_SELF_ONLY_MASK)

static void setup(const char *server)
{
	char buf[300];

	/* No DSA keys here: a server with Security = 1 refuses us, and libisns
	 * would exit() on a missing key file if security were "auto". */
	isns_config.ic_security = 0;
	isns_config.ic_network.connect_timeout = ISNS_CONNECT_TIMEOUT;
	isns_config.ic_network.call_timeout = ISNS_CALL_TIMEOUT;
	isns_config.ic_network.reconnect_timeout = 1;
	snprintf(buf, sizeof(buf), "%s", server);
	isns_config_set("ServerAddress", buf);
}

static void entity_id(const char *initiator, char *out, size_t len)
{
	/* Stable across restarts: a re-registration with replace takes over
	 * what a previous run of the agent left in the server. */
	snprintf(out, len, "sanagent:%s", initiator);
}

/* Our address as the server sees it, for the SCN portal: the source
 * address the kernel picks towards the server (no packet is sent). */
int sa_isns_local_addr(const char *server, struct sockaddr_storage *ss)
{
	char host[SA_ISNS_HOST_MAX];
	const char *colon = strrchr(server, ':');
	const char *h = server;
	size_t hl;
	int fd, rc = 0;
	socklen_t len = sizeof(*ss);
	struct sockaddr_storage dst;

	memset(&dst, 0, sizeof(dst));
	if (!colon)
		return -EINVAL;
	if (*h == '[') {
		h++;
		hl = (size_t)(strchr(h, ']') ? strchr(h, ']') - h : 0);
	} else {
		hl = (size_t)(colon - h);
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&dst)->sin_addr) == 1) {
		dst.ss_family = AF_INET;
		((struct sockaddr_in *)&dst)->sin_port = htons(3205);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&dst)->sin6_addr) == 1) {
		dst.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&dst)->sin6_port = htons(3205);
	} else {
		return -EINVAL;
	}
	fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&dst,
	            dst.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) < 0 ||
	    getsockname(fd, (struct sockaddr *)ss, &len) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static void fail(struct sa_isns_result *out, int rc, const char *what, int status)
{
	out->rc = rc;
	if (status >= 0)
		snprintf(out->error, sizeof(out->error), "%s: %s", what, isns_strerror((enum isns_status)status));
	else
		snprintf(out->error, sizeof(out->error), "%s: %s", what, strerror(-rc));
}

/* libisns reports a dead server as an internal error after its timeouts. */
static int status_errno(int status)
{
	switch (status) {
	case ISNS_SUCCESS: return 0;
	case ISNS_SOURCE_UNKNOWN:
	case ISNS_SOURCE_UNAUTHORIZED:
	case ISNS_SOURCE_ABSENT:
	case ISNS_INVALID_REGISTRATION:
	case ISNS_SCN_REGISTRATION_REJECTED: return -EACCES;
	case ISNS_NO_SUCH_ENTRY: return -ENOENT;
	case ISNS_INTERNAL_ERROR: return -ETIMEDOUT;
	default: return -EPROTO;
	}
}

static int do_register(isns_client_t *clnt, const struct sa_isns_req *rq, struct sa_isns_result *out)
{
	char eid[SA_ISNS_NAME_MAX + 16];
	isns_object_t *entity, *node, *portal = NULL;
	isns_simple_t *call;
	int status;

	entity_id(rq->initiator, eid, sizeof(eid));
	entity = isns_create_entity(ISNS_ENTITY_PROTOCOL_ISCSI, eid);
	node = isns_create_storage_node(rq->initiator, ISNS_ISCSI_INITIATOR_MASK, entity);
	if (rq->scn_port) {
		struct sockaddr_storage ss;
		isns_portal_info_t pi;
		int rc = 0;

		if (rq->scn_addr)
			ss = *rq->scn_addr;
		else
			rc = sa_isns_local_addr(rq->server, &ss);
		if (rc < 0) {
			fail(out, rc, "local address", -1);
			goto out;
		}
		if (ss.ss_family == AF_INET) {
			/* isns_portal_init() turns an AF_INET address into an
			 * IPv4-compatible ::a.b.c.d that isnsd cannot connect to:
			 * hand it the v4-mapped ::ffff:a.b.c.d itself. */
			struct sockaddr_in v4 = *(struct sockaddr_in *)&ss;
			struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;

			memset(&ss, 0, sizeof(ss));
			v6->sin6_family = AF_INET6;
			v6->sin6_addr.s6_addr[10] = 0xff;
			v6->sin6_addr.s6_addr[11] = 0xff;
			memcpy(&v6->sin6_addr.s6_addr[12], &v4.sin_addr, 4);
		}
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(rq->scn_port);
		isns_portal_init(&pi, (struct sockaddr *)&ss, IPPROTO_TCP);
		/* isnsd sends SCNs over TCP to the portal's SCN port (RFC 4171 6.3.1.4). */
		portal = isns_create_portal(&pi, entity);
		isns_portal_to_object(&pi, ISNS_TAG_PORTAL_IP_ADDRESS, ISNS_TAG_SCN_PORT, portal);
	}
	call = isns_create_registration2(clnt, entity, clnt->ic_source);
	isns_registration_set_replace(call, 1);
	isns_registration_add_object(call, node);
	if (portal)
		isns_registration_add_object(call, portal);
	status = isns_client_call(clnt, &call);
	isns_simple_free(call);
	if (status != ISNS_SUCCESS) {
		fail(out, status_errno(status), "registration", status);
		goto out;
	}
	if (rq->scn_port) {
		call = isns_create_scn_registration(clnt, ISNS_SCN_BITS);
		status = isns_client_call(clnt, &call);
		isns_simple_free(call);
		if (status != ISNS_SUCCESS) {
			fail(out, status_errno(status), "SCN registration", status);
			goto out;
		}
	}
out:
	if (portal)
		isns_object_release(portal);
	isns_object_release(node);
	isns_object_release(entity);
	return out->rc;
}

static struct sa_isns_target *target_get(struct sa_isns_result *out, const char *name)
{
	struct sa_isns_target *t;

	/* A reply lists each node once and its portal groups right after it:
	 * searching from the end finds the node at once. */
	for (size_t i = out->ntargets; i-- > 0;)
		if (strcmp(out->targets[i].name, name) == 0)
			return &out->targets[i];
	if (strlen(name) >= SA_ISNS_NAME_MAX)
		return NULL;
	if (cm_grow(&out->targets, &out->cap, out->ntargets, sizeof(*out->targets), 16) < 0)
		return NULL;
	t = &out->targets[out->ntargets++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	return t;
}

static void add_pg(struct sa_isns_result *out, isns_object_t *obj)
{
	const char *name;
	uint32_t tag;
	isns_portal_info_t pi;
	struct sockaddr_storage ss;
	struct sa_isns_target *t;
	struct sa_isns_portal *p;
	void *np;

	/* A portal group without a tag grants no access (RFC 4171 3.5). */
	if (!isns_object_get_string(obj, ISNS_TAG_PG_ISCSI_NAME, &name) ||
	    !isns_object_get_uint32(obj, ISNS_TAG_PG_TAG, &tag) ||
	    !isns_portal_from_object(&pi, ISNS_TAG_PG_PORTAL_IP_ADDR, ISNS_TAG_PG_PORTAL_TCP_UDP_PORT, obj) ||
	    !isns_portal_to_sockaddr(&pi, &ss))
		return;
	if (!(t = target_get(out, name)))
		return;
	np = realloc(t->portals, (t->nportals + 1) * sizeof(*t->portals));
	if (!np)
		return;
	t->portals = np;
	p = &t->portals[t->nportals];
	memset(p, 0, sizeof(*p));
	if (ss.ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&ss)->sin6_addr)) {
		struct in_addr a;

		memcpy(&a, &((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr[12], 4);
		p->family = AF_INET;
		inet_ntop(AF_INET, &a, p->host, sizeof(p->host));
		p->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else if (ss.ss_family == AF_INET6) {
		p->family = AF_INET6;
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, p->host, sizeof(p->host));
		p->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else if (ss.ss_family == AF_INET) {
		p->family = AF_INET;
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, p->host, sizeof(p->host));
		p->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else {
		return;
	}
	p->tpgt = (uint16_t)tag;
	t->nportals++;
}

/* A DevAttrQry (RFC 4171 5.6.5.2) on key (destroyed here) asking for tags: the objects the server answers with
 * into objs (the caller destroys them).  An iSNS status. */
static int query(isns_client_t *clnt, isns_attr_list_t *key, const uint32_t *tags, size_t ntags,
                 isns_object_list_t *objs)
{
	isns_simple_t *qry = isns_create_query(clnt, key);
	int status;

	isns_attr_list_destroy(key);
	for (size_t i = 0; i < ntags; i++)
		isns_query_request_attr_tag(qry, tags[i]);
	status = isns_client_call(clnt, &qry);
	if (status == ISNS_SUCCESS)
		status = isns_query_response_get_objects(qry, objs);
	isns_simple_free(qry);
	return status;
}

static int do_query(isns_client_t *clnt, struct sa_isns_result *out)
{
	isns_attr_list_t key = ISNS_ATTR_LIST_INIT;
	isns_object_list_t objs = ISNS_OBJECT_LIST_INIT;
	static const uint32_t tags[] = {ISNS_TAG_ISCSI_NAME,
	                                ISNS_TAG_ISCSI_ALIAS,
	                                ISNS_TAG_PG_ISCSI_NAME,
	                                ISNS_TAG_PG_PORTAL_IP_ADDR,
	                                ISNS_TAG_PG_PORTAL_TCP_UDP_PORT,
	                                ISNS_TAG_PG_TAG};
	int status;

	/* Key iSCSI Node Type = target: the server answers with the nodes the source may see (its discovery
	 * domains) and, for the portal-group attributes asked, their PGs. */
	isns_attr_list_append_uint32(&key, ISNS_TAG_ISCSI_NODE_TYPE, ISNS_ISCSI_TARGET_MASK);
	status = query(clnt, &key, tags, sizeof(tags) / sizeof(tags[0]), &objs);
	if (status == ISNS_NO_SUCH_ENTRY) {
		status = ISNS_SUCCESS; /* nothing visible */
	} else if (status != ISNS_SUCCESS) {
		fail(out, status_errno(status), "query", status);
		return out->rc;
	}
	for (unsigned int i = 0; i < objs.iol_count; i++) {
		isns_object_t *obj = objs.iol_data[i];
		const char *name, *alias;
		struct sa_isns_target *t;

		if (isns_object_is_iscsi_node(obj)) {
			/* The alias a target registered (RFC 4171 6.4.3), shown beside its name. */
			if (isns_object_get_string(obj, ISNS_TAG_ISCSI_NAME, &name) && (t = target_get(out, name)) &&
			    isns_object_get_string(obj, ISNS_TAG_ISCSI_ALIAS, &alias))
				snprintf(t->alias, sizeof(t->alias), "%s", alias);
		} else if (isns_object_is_pg(obj)) {
			add_pg(out, obj);
		}
	}
	isns_object_list_destroy(&objs);
	return 0;
}

/* libisns has no separate connect step: a TCP connect of our own tells a
 * dead server (unreachable) from one that answers badly. */
static int reachable(const char *server)
{
	struct sockaddr_storage ss;
	char buf[300], *colon;
	int fd, rc = 0;
	socklen_t len;
	struct timeval tv = {.tv_sec = ISNS_CONNECT_TIMEOUT};

	snprintf(buf, sizeof(buf), "%s", server);
	colon = strrchr(buf, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, buf, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)atoi(colon + 1));
		len = sizeof(struct sockaddr_in);
	} else {
		char *h = buf[0] == '[' ? buf + 1 : buf;

		if (h != buf && h[strlen(h) - 1] == ']')
			h[strlen(h) - 1] = '\0';
		if (inet_pton(AF_INET6, h, &((struct sockaddr_in6 *)&ss)->sin6_addr) != 1)
			return -EINVAL;
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)atoi(colon + 1));
		len = sizeof(struct sockaddr_in6);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		rc = errno == EINPROGRESS ? -ETIMEDOUT : -errno;
	close(fd);
	return rc;
}

static int sa_isns_discover_locked(const struct sa_isns_req *rq, struct sa_isns_result *out)
{
	isns_client_t *clnt;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!rq || !rq->server || !rq->initiator || !rq->initiator[0])
		return out->rc = -EINVAL;
	if ((rc = reachable(rq->server)) < 0) {
		out->unreachable = 1;
		fail(out, rc, "connect", -1);
		return rc;
	}
	setup(rq->server);
	clnt = isns_create_client(NULL, rq->initiator);
	if (!clnt) {
		fail(out, -ENOMEM, "client", -1);
		return out->rc;
	}
	if ((!rq->do_register || do_register(clnt, rq, out) == 0) && do_query(clnt, out) == 0)
		out->rc = 0;
	isns_client_destroy(clnt);
	return out->rc;
}

static int sa_isns_deregister_locked(const char *server, const char *initiator)
{
	isns_client_t *clnt;
	isns_attr_list_t key = ISNS_ATTR_LIST_INIT;
	isns_simple_t *call;
	char eid[SA_ISNS_NAME_MAX + 16];
	int status;

	if (reachable(server) < 0)
		return -EHOSTUNREACH;
	setup(server);
	if (!(clnt = isns_create_client(NULL, initiator)))
		return -ENOMEM;
	entity_id(initiator, eid, sizeof(eid));
	isns_attr_list_append_string(&key, ISNS_TAG_ENTITY_IDENTIFIER, eid);
	call = isns_create_deregistration(clnt, &key);
	isns_attr_list_destroy(&key);
	status = isns_client_call(clnt, &call);
	isns_simple_free(call);
	isns_client_destroy(clnt);
	return status_errno(status);
}

void sa_isns_result_free(struct sa_isns_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ntargets; i++)
		free(r->targets[i].portals);
	free(r->targets);
	r->targets = NULL;
	r->ntargets = r->cap = 0;
}

/* ---- moving a target's portal (a control node's registrations) ---------------------------------------------- */

static int portal_info(const char *host, uint16_t port, isns_portal_info_t *pi)
{
	struct sockaddr_storage ss;

	/* As isnsadm and tgt-side registrations give portals (an AF_INET address turns into ::a.b.c.d), so
	 * that the keys match theirs. */
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	} else {
		return -EINVAL;
	}
	isns_portal_init(pi, (struct sockaddr *)&ss, IPPROTO_TCP);
	return 0;
}

/* The entity holding target, the other iSCSI nodes in it and the target's portal group tag at pi (0: none). */
struct move_view {
	char eid[SA_ISNS_NAME_MAX + 16];
	char (*others)[SA_ISNS_NAME_MAX];
	size_t nothers;
	uint32_t tag;
};

static int pg_is(isns_object_t *obj, const char *node, const isns_portal_info_t *pi)
{
	const char *name;
	isns_portal_info_t got;

	return isns_object_get_string(obj, ISNS_TAG_PG_ISCSI_NAME, &name) && strcmp(name, node) == 0 &&
	       isns_portal_from_object(&got, ISNS_TAG_PG_PORTAL_IP_ADDR, ISNS_TAG_PG_PORTAL_TCP_UDP_PORT, obj) &&
	       isns_portal_equal(&got, pi);
}

static int move_view_get(isns_client_t *clnt, const char *target, const isns_portal_info_t *old, struct move_view *v,
                         char *err, size_t errlen)
{
	isns_attr_list_t key = ISNS_ATTR_LIST_INIT;
	isns_object_list_t objs = ISNS_OBJECT_LIST_INIT;
	static const uint32_t tags[] = {ISNS_TAG_ENTITY_IDENTIFIER, ISNS_TAG_PG_ISCSI_NAME, ISNS_TAG_PG_PORTAL_IP_ADDR,
	                                ISNS_TAG_PG_PORTAL_TCP_UDP_PORT, ISNS_TAG_PG_TAG};
	static const uint32_t node_tags[] = {ISNS_TAG_ISCSI_NAME, ISNS_TAG_ISCSI_NODE_TYPE};
	const char *s;
	int status;

	isns_attr_list_append_string(&key, ISNS_TAG_ISCSI_NAME, target);
	status = query(clnt, &key, tags, sizeof(tags) / sizeof(tags[0]), &objs);
	if (status != ISNS_SUCCESS) {
		snprintf(err, errlen, "iSNS query for %s: %s", target, isns_strerror((enum isns_status)status));
		return status == ISNS_NO_SUCH_ENTRY ? -ENOENT : status_errno(status);
	}
	for (unsigned int i = 0; i < objs.iol_count; i++) {
		isns_object_t *obj = objs.iol_data[i];
		uint32_t tag;

		if (isns_object_is_entity(obj) && isns_object_get_string(obj, ISNS_TAG_ENTITY_IDENTIFIER, &s))
			snprintf(v->eid, sizeof(v->eid), "%s", s);
		else if (isns_object_is_pg(obj) && pg_is(obj, target, old) &&
		         isns_object_get_uint32(obj, ISNS_TAG_PG_TAG, &tag))
			v->tag = tag;
	}
	isns_object_list_destroy(&objs);
	if (!v->eid[0]) {
		snprintf(err, errlen, "iSNS: no network entity holds %s", target);
		return -ENOENT;
	}
	/* The entity's nodes: a key of the entity, the nodes' names asked. */
	isns_attr_list_append_string(&key, ISNS_TAG_ENTITY_IDENTIFIER, v->eid);
	status = query(clnt, &key, node_tags, sizeof(node_tags) / sizeof(node_tags[0]), &objs);
	if (status != ISNS_SUCCESS) {
		snprintf(err, errlen, "iSNS query for entity %s: %s", v->eid, isns_strerror((enum isns_status)status));
		return status_errno(status);
	}
	v->others = calloc(objs.iol_count ? objs.iol_count : 1, sizeof(*v->others));
	for (unsigned int i = 0; v->others && i < objs.iol_count; i++)
		if (isns_object_is_iscsi_node(objs.iol_data[i]) &&
		    isns_object_get_string(objs.iol_data[i], ISNS_TAG_ISCSI_NAME, &s) && strcmp(s, target) != 0 &&
		    strlen(s) < SA_ISNS_NAME_MAX)
			snprintf(v->others[v->nothers++], SA_ISNS_NAME_MAX, "%s", s);
	isns_object_list_destroy(&objs);
	if (!v->others) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* One portal group in a registration: node at portal pi, with tag, or with a NULL tag (tag 0: no access). */
static int add_pg_object(isns_simple_t *call, isns_object_t *entity, const isns_portal_info_t *pi, const char *node,
                         uint32_t tag)
{
	isns_attr_list_t attrs = ISNS_ATTR_LIST_INIT;
	isns_object_t *pg;

	isns_attr_list_append_string(&attrs, ISNS_TAG_PG_ISCSI_NAME, node);
	isns_portal_to_attr_list(pi, ISNS_TAG_PG_PORTAL_IP_ADDR, ISNS_TAG_PG_PORTAL_TCP_UDP_PORT, &attrs);
	if (tag)
		isns_attr_list_append_uint32(&attrs, ISNS_TAG_PG_TAG, tag);
	else
		isns_attr_list_append_nil(&attrs, ISNS_TAG_PG_TAG);
	pg = isns_create_object(&isns_iscsi_pg_template, &attrs, entity);
	isns_attr_list_destroy(&attrs);
	if (!pg)
		return -ENOMEM;
	isns_registration_add_object(call, pg);
	isns_object_release(pg);
	return 0;
}

static int sa_isns_move_target_locked(const char *server, const char *source, const char *target, const char *old_host,
                                      uint16_t old_port, const char *new_host, uint16_t new_port, int undo, char *err,
                                      size_t errlen)
{
	isns_portal_info_t opi, npi;
	struct move_view v;
	isns_client_t *clnt;
	isns_object_t *entity = NULL, *nportal = NULL;
	isns_simple_t *call;
	int rc, status;

	memset(&v, 0, sizeof(v));
	if (portal_info(old_host, old_port, &opi) < 0 || portal_info(new_host, new_port, &npi) < 0) {
		snprintf(err, errlen, "not a portal address");
		return -EINVAL;
	}
	if ((rc = reachable(server)) < 0) {
		snprintf(err, errlen, "iSNS server %s: %s", server, strerror(-rc));
		return -EHOSTUNREACH;
	}
	setup(server);
	if (!(clnt = isns_create_client(NULL, source))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((rc = move_view_get(clnt, target, undo ? &npi : &opi, &v, err, errlen)) < 0)
		goto out;
	entity = isns_create_entity(ISNS_ENTITY_PROTOCOL_ISCSI, v.eid);
	nportal = isns_create_portal(&npi, entity);
	if (!undo) {
		/* isnsd builds a new portal group only from objects it already has: the portal first (every node of
		 * the entity gets a default group there), then the groups' tags. */
		call = isns_create_registration2(clnt, entity, clnt->ic_source);
		isns_registration_add_object(call, nportal);
		status = isns_client_call(clnt, &call);
		isns_simple_free(call);
		if (status != ISNS_SUCCESS) {
			snprintf(err, errlen, "iSNS registration of portal %s:%u: %s", new_host, (unsigned int)new_port,
			         isns_strerror((enum isns_status)status));
			rc = status_errno(status);
			goto out;
		}
	}
	call = isns_create_registration2(clnt, entity, clnt->ic_source);
	if (!undo) {
		rc = add_pg_object(call, entity, &opi, target, 0);
		for (size_t i = 0; !rc && i < v.nothers; i++)
			rc = add_pg_object(call, entity, &npi, v.others[i], 0);
	} else {
		rc = add_pg_object(call, entity, &opi, target, v.tag ? v.tag : 1);
	}
	if (rc < 0) {
		isns_simple_free(call);
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	status = isns_client_call(clnt, &call);
	isns_simple_free(call);
	if (status != ISNS_SUCCESS) {
		snprintf(err, errlen, "iSNS registration of %s at %s:%u: %s", target, undo ? old_host : new_host,
		         (unsigned int)(undo ? old_port : new_port), isns_strerror((enum isns_status)status));
		rc = status_errno(status);
		goto out;
	}
	if (undo) {
		/* The new portal goes, and its portal groups with it. */
		isns_attr_list_t key = ISNS_ATTR_LIST_INIT;

		isns_portal_to_attr_list(&npi, ISNS_TAG_PORTAL_IP_ADDRESS, ISNS_TAG_PORTAL_TCP_UDP_PORT, &key);
		call = isns_create_deregistration(clnt, &key);
		isns_attr_list_destroy(&key);
		status = isns_client_call(clnt, &call);
		isns_simple_free(call);
		if (status != ISNS_SUCCESS && status != ISNS_NO_SUCH_ENTRY) {
			snprintf(err, errlen, "iSNS deregistration of %s:%u: %s", new_host, (unsigned int)new_port,
			         isns_strerror((enum isns_status)status));
			rc = status_errno(status);
			goto out;
		}
	}
	rc = 0;
out : {
	/* isnsd files an unknown source node under the entity it registers in: it goes again. */
	isns_attr_list_t key = ISNS_ATTR_LIST_INIT;

	isns_attr_list_append_string(&key, ISNS_TAG_ISCSI_NAME, source);
	call = isns_create_deregistration(clnt, &key);
	isns_attr_list_destroy(&key);
	isns_client_call(clnt, &call);
	isns_simple_free(call);
}
	if (nportal)
		isns_object_release(nportal);
	if (entity)
		isns_object_release(entity);
	free(v.others);
	isns_client_destroy(clnt);
	return rc;
}

int sa_isns_discover(const struct sa_isns_req *rq, struct sa_isns_result *out)
{
	int rc;

	pthread_mutex_lock(&isns_lock);
	rc = sa_isns_discover_locked(rq, out);
	pthread_mutex_unlock(&isns_lock);
	return rc;
}

int sa_isns_deregister(const char *server, const char *initiator)
{
	int rc;

	pthread_mutex_lock(&isns_lock);
	rc = sa_isns_deregister_locked(server, initiator);
	pthread_mutex_unlock(&isns_lock);
	return rc;
}

int sa_isns_move_target(const char *server, const char *source, const char *target, const char *old_host,
                        uint16_t old_port, const char *new_host, uint16_t new_port, int undo, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&isns_lock);
	rc = sa_isns_move_target_locked(server, source, target, old_host, old_port, new_host, new_port, undo, err,
	                                errlen);
	pthread_mutex_unlock(&isns_lock);
	return rc;
}
