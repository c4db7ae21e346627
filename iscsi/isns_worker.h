/* isns_worker.h: the one thread that runs every libisns call of the process, with its results back on the loop. */
#ifndef SA_ISCSI_ISNS_WORKER_H
#define SA_ISCSI_ISNS_WORKER_H

/* libisns keeps its configuration in globals and its calls block.  Two threads calling it at once (the discovery
 * engine's queries and the rediscover engine's moves, both in a name-server agent) would race on those globals,
 * so every caller queues its work here: one thread runs the jobs in order, and each job's done callback runs
 * afterwards in the agent loop.  A job is the caller's own struct with this one inside. */
struct isns_work {
	/* On the worker thread: the libisns calls. */
	void (*run)(struct isns_work *w);
	/* In the loop, after run: hands the result over and frees the job. */
	void (*done)(struct isns_work *w);
	/* Frees a job whose done will never be called (cancelled, or the worker stopped). */
	void (*drop)(struct isns_work *w);
	const void *owner; /* isns_work_cancel(owner) drops the owner's jobs */
	/* the worker's */
	struct isns_work *next;
	int finished; /* run has returned (set under the worker's lock) */
};

/* Queues w (the thread starts on first use).  0, or a negative errno: w is then not queued. */
int isns_work_submit(struct isns_work *w);
/* Drops owner's jobs that have not started, waits for one of owner's that is running, and drops owner's results
 * the loop has not delivered yet: after it returns, none of owner's done callbacks is called. */
void isns_work_cancel(const void *owner);
/* Runs fn(arg) on the worker thread and waits for it (libisns calls at stop, e.g. deregistering).  0, or a
 * negative errno when it could not run. */
int isns_work_call(void (*fn)(void *arg), void *arg);
/* Stops the thread at shutdown: every job still queued or undelivered is dropped. */
void isns_work_shutdown(void);

#endif
