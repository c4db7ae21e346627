/* rebalance.h: seed 003 load rebalancing and server failover as pure planning functions. */
#ifndef SA_REDIR_REBALANCE_H
#define SA_REDIR_REBALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Seed 003 [0100]: rebalance when one server's load exceeds another's by more than 50%. */
#define REDIR_RB_DEFAULT_THRESHOLD 50u

/* The effective state of a server (admin state combined with health):
 * only UP servers with a non-zero capacity take resources. */
enum redir_srv_state { REDIR_SRV_UP = 1, REDIR_SRV_DRAIN = 2, REDIR_SRV_DOWN = 3 };

struct redir_rb_server {
	uint32_t capacity; /* relative weight; 0 behaves like drain */
	int state;         /* enum redir_srv_state */
	uint64_t base;     /* load of its own that no move takes away (the host's CPU and memory) */
};

struct redir_rb_resource {
	uint64_t load;   /* any unit, e.g. bytes/s; the sum over all resources must fit 64 bits */
	uint32_t server; /* index into the server array */
	bool pinned;     /* the rebalancer never moves it */
};

struct redir_move {
	uint32_t resource;
	uint32_t from, to;
};

struct redir_plan {
	struct redir_move *moves; /* sorted by resource index; free with redir_plan_free() */
	size_t n_moves;
	bool triggered; /* the threshold test fired, or the run was forced */
	/* Highest load/capacity over the servers that take resources, before
	 * and after the plan, and which server held it (lowest index on ties).
	 * For reporting only: every decision uses exact integer arithmetic. */
	double max_rel_before, max_rel_after;
	uint32_t max_server_before, max_server_after;
};

struct redir_rb_params {
	unsigned threshold_pct; /* REDIR_RB_DEFAULT_THRESHOLD unless configured */
	size_t max_moves;       /* upper bound on resources whose server changes */
	bool force;             /* periodic or manual run: plan even below the threshold */
};

/* true when, among UP servers, the highest relative load exceeds the
 * lowest by more than threshold_pct percent (an idle server counts as 0,
 * so any load next to it is imbalance).  false with fewer than two. */
bool redir_rb_imbalanced(const struct redir_rb_server *srv, size_t nsrv, const struct redir_rb_resource *res,
                         size_t nres, unsigned threshold_pct);

/* Plans at most p->max_moves moves that lower the maximum relative load.
 * Pinned resources and resources on servers that are not UP never move,
 * and nothing moves onto a server that is not UP.  Inputs are not changed.
 * Returns 0 (plan->triggered false and no moves when not imbalanced and not
 * forced), -EINVAL (resource on an unknown server), -EOVERFLOW (loads do
 * not fit 64 bits), -ENOMEM. */
int redir_rebalance(const struct redir_rb_server *srv, size_t nsrv, const struct redir_rb_resource *res, size_t nres,
                    const struct redir_rb_params *p, struct redir_plan *plan);

/* Remaps the resources of server `failed` (down, or draining for
 * maintenance) onto UP servers, balanced by capacity; every other mapping
 * is left as it is.  Pinned resources of the failed server move too when
 * move_pinned, else they stay (and stay unreachable).  Returns 0,
 * -EHOSTUNREACH when resources must move and no UP server is left,
 * -EINVAL, -EOVERFLOW, -ENOMEM. */
int redir_failover(const struct redir_rb_server *srv, size_t nsrv, const struct redir_rb_resource *res, size_t nres,
                   uint32_t failed, bool move_pinned, struct redir_plan *plan);

/* Applies a plan to a resource array (the caller's mapping). */
void redir_plan_apply(const struct redir_plan *plan, struct redir_rb_resource *res, size_t nres);
void redir_plan_free(struct redir_plan *plan);

#endif
