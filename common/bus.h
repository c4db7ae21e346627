/* bus.h: the one event bus: engines and the trap receiver publish typed events, the rest subscribe. */
#ifndef SA_COMMON_BUS_H
#define SA_COMMON_BUS_H

#include <stddef.h>
#include <stdint.h>

/* One topic per publisher.  The event pointer handed to a callback points to
 * the payload type named here (declared by the publisher's header) and is
 * only valid during the call. */
enum bus_topic {
	BUS_BALANCE = 1, /* struct bal_event        engines/balance/engine.h */
	BUS_REDIRECT,    /* struct redir_event      engines/redirect/redirect.h */
	BUS_STORAGE,     /* struct stor_event       engines/storage/storage.h */
	BUS_SESSIONS,    /* struct sess_event       engines/sessions.h */
	BUS_DISCOVERY,   /* struct disc_event       engines/discovery/discovery.h */
	BUS_LOGIN,       /* struct disc_login_event engines/discovery/login.h */
	BUS_ENGINES,     /* struct sa_engine        engines/registry.h */
	BUS_TRAP,        /* struct cm_trap          common/trap.h, keyed by its snmpTrapOID */
	BUS_REDISCOVER,  /* struct redisc_event     engines/rediscover/rediscover.h */
	BUS_CLUSTER,     /* struct clu_event        engines/cluster/cluster.h */
	BUS_TOPIC_COUNT
};

typedef void (*bus_cb)(int topic, const void *event, void *arg);

/* Every event of topic reaches cb.  Returns a handle > 0 (never reused while
 * the process runs) or -EINVAL / -ENOMEM / -EOVERFLOW, which is also logged. */
int bus_subscribe(int topic, bus_cb cb, void *arg);

/* Only events published with a key equal to key (prefix == 0) or starting
 * with it (prefix != 0) reach cb; an empty prefix matches every event.  The
 * key is copied. */
int bus_subscribe_key(int topic, const uint32_t *key, size_t key_len, int prefix, bus_cb cb, void *arg);

/* 0, or -ENOENT (logged) for a handle that is not subscribed.  Safe from
 * inside any callback, including the one being unsubscribed: an entry
 * removed during a publish is not called again by it. */
int bus_unsubscribe(int handle);

/* Calls the topic's subscribers in subscription order, synchronously.
 * Subscriptions made during the publish start with the next event.
 * Returns the number of callbacks run, or -EINVAL.  Never allocates. */
int bus_publish(int topic, const void *event);
int bus_publish_key(int topic, const uint32_t *key, size_t key_len, const void *event);

/* Live subscriptions on a topic (tests, diagnostics). */
size_t bus_count(int topic);

#endif
