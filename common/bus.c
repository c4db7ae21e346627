/* bus.c: per-topic growable subscriber arrays, synchronous publish, removal safe from callbacks. */
#include "common/array.h"
#include "common/bus.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define TAG "bus"

struct bus_sub {
	int handle;
	bus_cb cb; /* NULL: unsubscribed while a publish was running */
	void *arg;
	uint32_t *key; /* NULL with key_len 0: every event */
	size_t key_len;
	int keyed, prefix;
};

static struct bus_topic_subs {
	struct bus_sub *subs;
	size_t n, cap;
	int dead; /* entries with cb == NULL waiting for compaction */
} topics[BUS_TOPIC_COUNT];

/* Handles only grow, so a stale handle can never remove someone else. */
static int next_handle = 1;
/* Entries are only marked dead while any publish runs (a callback may
 * publish on another topic) and compacted when the outermost returns. */
static int publish_depth;
static int any_dead;

static int valid_topic(int topic)
{
	return topic > 0 && topic < BUS_TOPIC_COUNT;
}

static int add(int topic, const uint32_t *key, size_t key_len, int keyed, int prefix, bus_cb cb, void *arg)
{
	struct bus_topic_subs *t;
	struct bus_sub *s;
	uint32_t *copy = NULL;

	if (!valid_topic(topic) || !cb || (key_len && !key) || (keyed && !key_len && !prefix)) {
		cm_log(CM_LOG_ERR, TAG, "subscribe to topic %d refused: invalid arguments", topic);
		return -EINVAL;
	}
	if (next_handle == INT_MAX) {
		cm_log(CM_LOG_ERR, TAG, "subscribe to topic %d refused: handles exhausted", topic);
		return -EOVERFLOW;
	}
	t = &topics[topic];
	if (cm_grow(&t->subs, &t->cap, t->n, sizeof(*t->subs), 4) < 0)
		goto nomem;
	if (key_len) {
		if (!(copy = malloc(key_len * sizeof(*copy))))
			goto nomem;
		memcpy(copy, key, key_len * sizeof(*copy));
	}
	s = &t->subs[t->n++];
	*s = (struct bus_sub){.handle = next_handle++,
	                      .cb = cb,
	                      .arg = arg,
	                      .key = copy,
	                      .key_len = key_len,
	                      .keyed = keyed,
	                      .prefix = !!prefix};
	return s->handle;
nomem:
	cm_log(CM_LOG_ERR, TAG, "subscribe to topic %d refused: out of memory", topic);
	return -ENOMEM;
}

int bus_subscribe(int topic, bus_cb cb, void *arg)
{
	return add(topic, NULL, 0, 0, 0, cb, arg);
}

int bus_subscribe_key(int topic, const uint32_t *key, size_t key_len, int prefix, bus_cb cb, void *arg)
{
	return add(topic, key, key_len, 1, prefix, cb, arg);
}

static void compact(struct bus_topic_subs *t)
{
	size_t j = 0;

	for (size_t i = 0; i < t->n; i++)
		if (t->subs[i].cb)
			t->subs[j++] = t->subs[i];
	t->n = j;
	t->dead = 0;
	if (!t->n) {
		free(t->subs);
		t->subs = NULL;
		t->cap = 0;
	}
}

int bus_unsubscribe(int handle)
{
	for (int topic = 1; topic < BUS_TOPIC_COUNT; topic++) {
		struct bus_topic_subs *t = &topics[topic];

		for (size_t i = 0; i < t->n; i++) {
			struct bus_sub *s = &t->subs[i];

			if (s->handle != handle || !s->cb)
				continue;
			s->cb = NULL;
			s->arg = NULL;
			free(s->key);
			s->key = NULL;
			s->key_len = 0;
			t->dead = 1;
			any_dead = 1;
			if (!publish_depth)
				compact(t);
			return 0;
		}
	}
	cm_log(CM_LOG_WARNING, TAG, "unsubscribe: no subscription with handle %d", handle);
	return -ENOENT;
}

static int matches(const struct bus_sub *s, const uint32_t *key, size_t key_len)
{
	if (!s->keyed)
		return 1;
	if (s->prefix ? key_len < s->key_len : key_len != s->key_len)
		return 0;
	return !s->key_len || !memcmp(s->key, key, s->key_len * sizeof(*key));
}

static void compact_all(void)
{
	any_dead = 0;
	for (int topic = 1; topic < BUS_TOPIC_COUNT; topic++)
		if (topics[topic].dead)
			compact(&topics[topic]);
}

int bus_publish_key(int topic, const uint32_t *key, size_t key_len, const void *event)
{
	struct bus_topic_subs *t;
	size_t n;
	int ran = 0;

	if (!valid_topic(topic) || (key_len && !key))
		return -EINVAL;
	t = &topics[topic];
	/* Subscriptions made by a callback start with the next event. */
	n = t->n;
	publish_depth++;
	for (size_t i = 0; i < n; i++) {
		bus_cb cb;
		void *arg;

		/* Through the array each time: a callback's subscribe may move it. */
		if (!t->subs[i].cb || !matches(&t->subs[i], key, key_len))
			continue;
		cb = t->subs[i].cb;
		arg = t->subs[i].arg;
		cb(topic, event, arg);
		ran++;
	}
	if (--publish_depth == 0 && any_dead)
		compact_all();
	return ran;
}

int bus_publish(int topic, const void *event)
{
	return bus_publish_key(topic, NULL, 0, event);
}

size_t bus_count(int topic)
{
	size_t live = 0;

	if (!valid_topic(topic))
		return 0;
	for (size_t i = 0; i < topics[topic].n; i++)
		live += topics[topic].subs[i].cb != NULL;
	return live;
}
