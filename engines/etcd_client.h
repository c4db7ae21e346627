/* etcd_client.h: a non-blocking client of etcd's v3 JSON gateway on the agent loop, shared by the engines that keep
 * state in etcd (redirect, cluster).  Each user owns one client (its own endpoints and requests). */
#ifndef SA_ENGINES_ETCD_CLIENT_H
#define SA_ENGINES_ETCD_CLIENT_H

#include "config.h"

#include <stddef.h>

#ifdef HAVE_ETCD

#include <jansson.h>

struct sa_etcd;

/* A request ended: ok when the transfer completed with HTTP 200; buf holds the answer (NUL-terminated, may be
 * empty), err libcurl's reason when not ok.  Runs in the agent loop, after the request is out of libcurl. */
typedef void (*sa_etcd_done_cb)(void *arg, int ok, long http, const char *buf, size_t len, const char *err);
/* A streaming request (watch): one JSON object per line as it comes; return -1 to end the stream (done then
 * runs with ok 0).  It runs inside libcurl: it must not free the client (done callbacks may). */
typedef int (*sa_etcd_line_cb)(void *arg, json_t *j);

/* endpoints: "http://HOST:PORT" (a trailing '/' is dropped); NULL on out of memory (err says why). */
struct sa_etcd *sa_etcd_new(char *const *endpoints, size_t n, char *err, size_t errlen);
/* Ends every request (their callbacks do not run) and frees the client. */
void sa_etcd_free(struct sa_etcd *c);
/* POST of body (not consumed) to path ("/v3/kv/range") on the current endpoint; timeout_ms 0 = none (a watch).
 * A failed connection moves the client to the next endpoint for the following requests.  0 or -errno. */
int sa_etcd_post(struct sa_etcd *c, const char *path, json_t *body, long timeout_ms, sa_etcd_done_cb done,
                 sa_etcd_line_cb line, void *arg);
/* The endpoint requests go to now. */
const char *sa_etcd_endpoint(const struct sa_etcd *c);

/* etcd's JSON gateway carries keys and values in base64. */
char *sa_etcd_b64_enc(const char *s, size_t n);
/* NULL on bad input; the result is NUL-terminated. */
char *sa_etcd_b64_dec(const char *s);
json_t *sa_etcd_jb64(const char *s);
/* The gateway writes 64-bit numbers as strings. */
long long sa_etcd_jll(json_t *j);
/* {"key": prefix, "range_end": prefix with its last octet + 1}: every key under prefix. */
json_t *sa_etcd_prefix_range(const char *prefix);

#endif
#endif
