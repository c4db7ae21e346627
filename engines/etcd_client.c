/* etcd_client.c: etcd's v3 JSON gateway through libcurl's multi interface, driven by the agent loop (never
 * blocking): requests, watch streams cut into JSON lines, base64. */
#include "config.h"

#ifdef HAVE_ETCD

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <curl/curl.h>

#include "common/evloop.h"
#include "common/log.h"
#include "engines/etcd_client.h"

#define TAG "etcd"
#define ETCD_LINE_MAX (16u << 20) /* an answer or watch line larger than this is garbage */

struct rq {
	struct sa_etcd *c;
	CURL *h;
	char *body;
	struct curl_slist *hdrs;
	char *buf;
	size_t len, cap;
	char err[CURL_ERROR_SIZE];
	sa_etcd_done_cb done;
	sa_etcd_line_cb line;
	void *arg;
	struct rq *next;
};

struct fdwatch {
	unsigned char r, w;
};

struct sa_etcd {
	CURLM *multi;
	unsigned int curl_timer;
	struct fdwatch *fds;
	size_t nfds;
	struct rq *active;
	char **endpoints;
	size_t nendpoints, ep;
	int *alive; /* cleared by sa_etcd_free while a callback runs */
};

/* ---- base64 and JSON helpers ----------------------------------------------------------------- */

static const char b64c[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *sa_etcd_b64_enc(const char *s, size_t n)
{
	char *o = malloc(4 * ((n + 2) / 3) + 1), *p = o;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		*p++ = b64c[(v >> 18) & 63];
		*p++ = b64c[(v >> 12) & 63];
		*p++ = i + 1 < n ? b64c[(v >> 6) & 63] : '=';
		*p++ = i + 2 < n ? b64c[v & 63] : '=';
	}
	*p = '\0';
	return o;
}

char *sa_etcd_b64_dec(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	char *o = malloc(n / 4 * 3 + 4), *p = o;
	unsigned v = 0;
	int bits = 0;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		const char *c = strchr(b64c, s[i]);

		if (!c || !s[i]) {
			free(o);
			return NULL;
		}
		v = (v << 6) | (unsigned)(c - b64c);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*p++ = (char)((v >> bits) & 0xff);
		}
	}
	*p = '\0';
	return o;
}

json_t *sa_etcd_jb64(const char *s)
{
	char *e = sa_etcd_b64_enc(s, strlen(s));
	json_t *j = e ? json_string(e) : NULL;

	free(e);
	return j;
}

long long sa_etcd_jll(json_t *j)
{
	if (json_is_string(j))
		return strtoll(json_string_value(j), NULL, 10);
	if (json_is_integer(j))
		return (long long)json_integer_value(j);
	return 0;
}

json_t *sa_etcd_prefix_range(const char *prefix)
{
	char *end = strdup(prefix);
	json_t *b;

	if (!end || !end[0]) {
		free(end);
		return NULL;
	}
	end[strlen(end) - 1]++; /* "/x/" .. "/x0": every key under the prefix */
	b = json_pack("{s:o,s:o}", "key", sa_etcd_jb64(prefix), "range_end", sa_etcd_jb64(end));
	free(end);
	return b;
}

/* ---- libcurl multi on the agent loop ----------------------------------------------------------- */

/* A watch is a response that never ends: when the path to etcd goes away without a FIN (a link down, a host cut
 * off), nothing would ever tell this side, the watch would wait for events forever and miss every change made
 * meanwhile.  Keepalive probes after 1 s idle, 1 s apart, three unanswered: the stream ends within about 4 s and
 * the engine reads etcd again (and knows it is not in step meanwhile). */
#define KEEP_IDLE_S 1
#define KEEP_INTVL_S 1
#define KEEP_CNT 3

static int sockopt_cb(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	int one = 1, idle = KEEP_IDLE_S, intvl = KEEP_INTVL_S, cnt = KEEP_CNT;

	(void)arg;
	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKOPT_OK;
	/* Best effort: a socket without them still works, as before. */
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	return CURL_SOCKOPT_OK;
}

static void drain(struct sa_etcd *c);

static void on_fd(struct sa_etcd *c, int fd, int ev)
{
	int running;

	curl_multi_socket_action(c->multi, fd, ev, &running);
	drain(c);
}

static void on_read(int fd, void *arg)
{
	on_fd(arg, fd, CURL_CSELECT_IN);
}

static void on_write(int fd, void *arg)
{
	on_fd(arg, fd, CURL_CSELECT_OUT);
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *up, void *sp)
{
	struct sa_etcd *c = up;
	bool r = what == CURL_POLL_IN || what == CURL_POLL_INOUT;
	bool w = what == CURL_POLL_OUT || what == CURL_POLL_INOUT;
	struct fdwatch *f;

	(void)e;
	(void)sp;
	if (s < 0)
		return 0;
	if ((size_t)s >= c->nfds) {
		size_t n = (size_t)s + 64;
		struct fdwatch *nf = realloc(c->fds, n * sizeof(*nf));

		if (!nf)
			return -1;
		memset(nf + c->nfds, 0, (n - c->nfds) * sizeof(*nf));
		c->fds = nf;
		c->nfds = n;
	}
	f = &c->fds[s];
	if (f->r && !r)
		cm_ev_unwatch_read(s);
	if (f->w && !w)
		cm_ev_unwatch_write(s);
	if (r && !f->r && cm_ev_watch_read(s, on_read, c) < 0)
		return -1;
	if (w && !f->w && cm_ev_watch_write(s, on_write, c) < 0)
		return -1;
	f->r = r;
	f->w = w;
	return 0;
}

static void curl_tick(unsigned int id, void *arg)
{
	struct sa_etcd *c = arg;
	int running;

	(void)id;
	c->curl_timer = 0;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	drain(c);
}

static int timer_cb(CURLM *m, long ms, void *up)
{
	struct sa_etcd *c = up;

	(void)m;
	cm_ev_cancel(c->curl_timer);
	c->curl_timer = 0;
	if (ms >= 0)
		c->curl_timer = cm_ev_timer(ms > 0 ? (unsigned)ms : 1u, 0, curl_tick, c);
	return 0;
}

/* Answers are collected whole; a stream is cut into JSON objects, one per line, as they come. */
static size_t on_body(char *data, size_t sz, size_t nm, void *arg)
{
	struct rq *q = arg;
	size_t n = sz * nm;

	if (q->len + n + 1 > q->cap) {
		size_t nc = q->cap ? q->cap : 4096;
		char *nb;

		while (nc < q->len + n + 1)
			nc *= 2;
		if (nc > ETCD_LINE_MAX || !(nb = realloc(q->buf, nc)))
			return 0;
		q->buf = nb;
		q->cap = nc;
	}
	memcpy(q->buf + q->len, data, n);
	q->len += n;
	q->buf[q->len] = '\0';
	if (!q->line)
		return n;
	for (;;) {
		size_t skip = strspn(q->buf, " \r\n\t");
		json_error_t je;
		json_t *j;
		int rc;

		if (skip) {
			memmove(q->buf, q->buf + skip, q->len - skip + 1);
			q->len -= skip;
		}
		if (!q->len || !memchr(q->buf, '\n', q->len))
			break;
		j = json_loadb(q->buf, q->len, JSON_DISABLE_EOF_CHECK, &je);
		if (!j)
			return 0; /* garbage: end the stream */
		memmove(q->buf, q->buf + je.position, q->len - (size_t)je.position + 1);
		q->len -= (size_t)je.position;
		rc = q->line(q->arg, j);
		json_decref(j);
		if (rc < 0)
			return 0;
	}
	return n;
}

static void rq_free(struct sa_etcd *c, struct rq *q)
{
	for (struct rq **pp = &c->active; *pp; pp = &(*pp)->next) {
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	}
	curl_multi_remove_handle(c->multi, q->h);
	curl_easy_cleanup(q->h);
	curl_slist_free_all(q->hdrs);
	free(q->body);
	free(q->buf);
	free(q);
}

static void drain(struct sa_etcd *c)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left))) {
		struct rq *q = NULL;
		long http = 0;
		int ok, alive = 1;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&q);
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &http);
		ok = m->data.result == CURLE_OK && http == 200;
		if (m->data.result == CURLE_COULDNT_CONNECT || m->data.result == CURLE_OPERATION_TIMEDOUT)
			c->ep = (c->ep + 1) % c->nendpoints; /* try the next member next time */
		if (!q->err[0] && m->data.result != CURLE_OK)
			snprintf(q->err, sizeof(q->err), "%s", curl_easy_strerror(m->data.result));
		curl_multi_remove_handle(c->multi, q->h);
		/* Out of the active list before the callback: it may send new requests or free the client. */
		for (struct rq **pp = &c->active; *pp; pp = &(*pp)->next) {
			if (*pp == q) {
				*pp = q->next;
				break;
			}
		}
		q->next = NULL;
		c->alive = &alive;
		if (q->done)
			q->done(q->arg, ok, http, q->buf ? q->buf : "", q->len, q->err);
		curl_easy_cleanup(q->h);
		curl_slist_free_all(q->hdrs);
		free(q->body);
		free(q->buf);
		free(q);
		if (!alive)
			return;
		c->alive = NULL;
	}
}

int sa_etcd_post(struct sa_etcd *c, const char *path, json_t *body, long timeout_ms, sa_etcd_done_cb done,
                 sa_etcd_line_cb line, void *arg)
{
	struct rq *q = calloc(1, sizeof(*q));
	char url[512];

	if (!q)
		return -ENOMEM;
	q->c = c;
	q->done = done;
	q->line = line;
	q->arg = arg;
	q->body = json_dumps(body, JSON_COMPACT);
	q->h = curl_easy_init();
	q->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (!q->body || !q->h || !q->hdrs) {
		free(q->body);
		if (q->h)
			curl_easy_cleanup(q->h);
		curl_slist_free_all(q->hdrs);
		free(q);
		return -ENOMEM;
	}
	snprintf(url, sizeof(url), "%s%s", c->endpoints[c->ep], path);
	curl_easy_setopt(q->h, CURLOPT_URL, url);
	curl_easy_setopt(q->h, CURLOPT_POSTFIELDS, q->body);
	curl_easy_setopt(q->h, CURLOPT_HTTPHEADER, q->hdrs);
	curl_easy_setopt(q->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(q->h, CURLOPT_WRITEDATA, q);
	curl_easy_setopt(q->h, CURLOPT_PRIVATE, q);
	curl_easy_setopt(q->h, CURLOPT_ERRORBUFFER, q->err);
	curl_easy_setopt(q->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(q->h, CURLOPT_CONNECTTIMEOUT_MS, 500L);
	curl_easy_setopt(q->h, CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
	if (timeout_ms > 0)
		curl_easy_setopt(q->h, CURLOPT_TIMEOUT_MS, timeout_ms);
	if (curl_multi_add_handle(c->multi, q->h) != CURLM_OK) {
		curl_easy_cleanup(q->h);
		curl_slist_free_all(q->hdrs);
		free(q->body);
		free(q);
		return -EIO;
	}
	q->next = c->active;
	c->active = q;
	return 0;
}

const char *sa_etcd_endpoint(const struct sa_etcd *c)
{
	return c->endpoints[c->ep];
}

struct sa_etcd *sa_etcd_new(char *const *endpoints, size_t n, char *err, size_t errlen)
{
	static int global_done;
	struct sa_etcd *c;

	if (!n) {
		snprintf(err, errlen, "no etcd endpoints");
		return NULL;
	}
	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(err, errlen, "libcurl initialisation failed");
			return NULL;
		}
		global_done = 1;
	}
	if (!(c = calloc(1, sizeof(*c))) || !(c->endpoints = calloc(n, sizeof(char *))) ||
	    !(c->multi = curl_multi_init()))
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(endpoints[i]);

		if (!(c->endpoints[i] = strdup(endpoints[i])))
			goto nomem;
		c->nendpoints = i + 1;
		if (l && c->endpoints[i][l - 1] == '/')
			c->endpoints[i][l - 1] = '\0';
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	return c;
nomem:
	snprintf(err, errlen, "out of memory");
	sa_etcd_free(c);
	return NULL;
}

void sa_etcd_free(struct sa_etcd *c)
{
	if (!c)
		return;
	if (c->alive)
		*c->alive = 0;
	cm_ev_cancel(c->curl_timer);
	while (c->active)
		rq_free(c, c->active);
	for (size_t fd = 0; fd < c->nfds; fd++) {
		if (c->fds[fd].r)
			cm_ev_unwatch_read((int)fd);
		if (c->fds[fd].w)
			cm_ev_unwatch_write((int)fd);
	}
	if (c->multi)
		curl_multi_cleanup(c->multi);
	for (size_t i = 0; i < c->nendpoints; i++)
		free(c->endpoints[i]);
	free(c->endpoints);
	free(c->fds);
	free(c);
}

#endif
