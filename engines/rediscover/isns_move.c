/* isns_move.c: the rediscover engine's iSNS updates (struct redisc_move_ops.isns_move), run on the process's
 * libisns thread (iscsi/isns_worker.h: libisns blocks and keeps globals), answered in the agent loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engines/rediscover/rediscover.h"
#include "iscsi/isns_client.h"
#include "iscsi/isns_worker.h"

struct isns_job {
	struct isns_work w; /* first: the worker hands this back */
	char server[80], source[SA_ISNS_NAME_MAX], target[SA_ISNS_NAME_MAX];
	char old_host[80], new_host[80];
	uint16_t old_port, new_port;
	int undo, rc;
	char err[160];
	cm_snmpc_done_cb done;
	void *arg;
};

static void job_run(struct isns_work *w)
{
	struct isns_job *j = (struct isns_job *)w;

	j->rc = sa_isns_move_target(j->server, j->source, j->target, j->old_host, j->old_port, j->new_host, j->new_port,
	                            j->undo, j->err, sizeof(j->err));
}

static void job_done(struct isns_work *w)
{
	struct isns_job *j = (struct isns_job *)w;

	j->done(j->rc, j->err, j->arg);
	free(j);
}

static void job_free(struct isns_work *w)
{
	free(w);
}

static void host_of(const struct redisc_addr *a, char *out, size_t len)
{
	char text[80], *colon;

	redisc_addr_text(a, text, sizeof(text));
	/* "A.B.C.D:PORT" or "[V6]:PORT" */
	colon = strrchr(text, ':');
	if (colon)
		*colon = 0;
	if (text[0] == '[') {
		text[strlen(text) - 1] = 0;
		snprintf(out, len, "%s", text + 1);
	} else {
		snprintf(out, len, "%s", text);
	}
}

int redisc_isns_move(const char *server, const char *source, const char *target, const struct redisc_addr *old,
                     const struct redisc_addr *new_portal, int undo, cm_snmpc_done_cb done, void *arg)
{
	struct isns_job *j;
	int rc;

	if (!(j = calloc(1, sizeof(*j))))
		return -ENOMEM;
	snprintf(j->server, sizeof(j->server), "%s", server);
	snprintf(j->source, sizeof(j->source), "%s", source);
	snprintf(j->target, sizeof(j->target), "%s", target);
	host_of(old, j->old_host, sizeof(j->old_host));
	host_of(new_portal, j->new_host, sizeof(j->new_host));
	j->old_port = old->port;
	j->new_port = new_portal->port;
	j->undo = undo;
	j->done = done;
	j->arg = arg;
	j->w.run = job_run;
	j->w.done = job_done;
	j->w.drop = job_free;
	if ((rc = isns_work_submit(&j->w)) < 0)
		free(j);
	return rc;
}
