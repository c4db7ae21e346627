/* storage.h: the storage-side role next to a tgt target: its portals, targets, LUNs and sessions, read through tgtadm.
 */
#ifndef SA_ENGINES_STORAGE_H
#define SA_ENGINES_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "iscsi/tgtctl.h"
#include "engines/storage/stor_config.h"

#define STOR_NAME_MAX TGTC_NAME_MAX
#define STOR_HOST_MAX 64
#define STOR_IFNAME_MAX 32

/* StorageType (SNMPv2-TC) of a portal row: other(1) = a portal tgt had that
 * this agent did not create; volatile(2)/nonVolatile(3) = created over SNMP. */
enum stor_storage { STOR_ST_OTHER = 1, STOR_ST_VOLATILE = 2, STOR_ST_NONVOLATILE = 3 };

struct stor_portal {
	uint32_t index;           /* stable, never reused while the agent runs */
	char host[STOR_HOST_MAX]; /* numeric, canonical form */
	uint16_t port;
	uint32_t tpgt;                /* 0 until tgt lists the portal */
	int storage;                  /* enum stor_storage */
	int active;                   /* tgt lists it now */
	char ifname[STOR_IFNAME_MAX]; /* interface the agent puts the address on when the host lacks it ("" none) */
	int added;                    /* the agent added the address (`ip addr add`): it removes it with the row */
};

#define STOR_DESIGNATOR_MAX 32

struct stor_lun {
	uint32_t lun;
	char type[32];
	uint32_t size_mib;
	char backing[256];
	char serial[64];
	char scsi_id[64]; /* tgt's SCSI ID, the source of its designators */
	/* What the LU says about itself, asked by INQUIRY through the local portal (identify.c) as
	 * storage.probe_initiator: kept across rounds while the LUN keeps its backing store, serial and SCSI ID. */
	int probed; /* 0 not yet, 1 answered, a negative errno when the last probe failed */
	uint8_t designator[STOR_DESIGNATOR_MAX]; /* VPD 0x83: NAA, else EUI-64; len 0 none */
	size_t designator_len;
	char vendor[9], model[17];
	uint64_t capacity; /* octets, READ CAPACITY(16); 0 unknown */
	uint64_t retry_ms; /* a failed probe is asked again from this time on (monotonic ms) */
};

struct stor_counters {
	uint64_t rd_bytes, wr_bytes, rd_cmds, wr_cmds;
};

/* Transmission rates of one session over one feedback window, from tgt's byte counters sampled every round. */
struct stor_rates {
	uint32_t max_kib, min_kib, avg_kib; /* KiB/s: fastest and slowest round, and over the whole window */
	uint64_t bytes;                     /* moved in the window */
	int valid;                          /* the window had at least one round */
};
/* The window being filled: the counters at its start and at the last round. */
struct stor_window {
	uint64_t start_bytes, last_bytes;
	uint64_t start_ms, last_ms;
	uint32_t max_kib, min_kib;
	unsigned int rounds;
	int started;
};
/* rates.c: pure arithmetic (unit-tested).  A counter that goes back (tgt reused a session id) restarts the window
 * there; rounds less than 1 ms apart are ignored. */
void stor_window_start(struct stor_window *w, uint64_t bytes, uint64_t now_ms);
void stor_window_sample(struct stor_window *w, uint64_t bytes, uint64_t now_ms);
/* The window's rates into out (valid 0 when it saw no round), then a new window from its last round. */
void stor_window_close(struct stor_window *w, struct stor_rates *out);

struct stor_session {
	uint32_t tid, sid;
	char initiator[STOR_NAME_MAX];
	char addr[STOR_HOST_MAX]; /* the first connection's initiator address ("" unknown) */
	struct stor_counters ctr;
	uint32_t *cids;
	size_t nconns;
	/* The local address the session came in on ("" unknown): tgt does not say, the kernel's socket table does
	 * (feedback.c). */
	char portal[STOR_HOST_MAX];
	uint16_t portal_port;
	struct stor_window win;
	struct stor_rates rates; /* of the last closed window */
};

struct stor_target {
	uint32_t tid;
	char name[STOR_NAME_MAX];
	struct stor_lun *luns; /* sorted by lun */
	size_t nluns;
	struct stor_session *sessions; /* sorted by sid */
	size_t nsessions;
	/* Sums over the sessions, plus what ended sessions had: never go back
	 * while the target exists. */
	struct stor_counters ctr;
	struct stor_counters base; /* the ended sessions' part */
	/* Sessions seen to begin and to end since the agent started (or the target appeared): tgt counts no
	 * logins, so a new I_T nexus between two rounds is an accepted login and a vanished one a logout. */
	uint32_t logins, logouts;
};

/* Starts, restarts (tgt_control changed) or stops the module as cfg asks
 * (cfg->enabled); reload-safe.  Returns 0 or a negative errno. */
int stor_apply(const struct sa_storage_config *cfg);
void stor_stop(void);
int stor_running(void);
/* Published on BUS_STORAGE (common/bus.h): STOR_EV_STATE after every start and stop; STOR_EV_FEEDBACK for each
 * session with a known portal at the end of each feedback window (storage.feedback_interval); STOR_EV_REQUEST when
 * a competing group is flagged (seed 000 Fig. 2). */
enum stor_event_type { STOR_EV_STATE = 0, STOR_EV_FEEDBACK, STOR_EV_REQUEST };
struct stor_feedback_msg {
	const char *initiator, *target, *portal; /* portal: numeric host */
	uint16_t port;
	struct stor_rates rates;
	uint64_t bytes; /* read + write since the session began */
};
#define STOR_LIST_MAX 512
struct stor_request_msg {
	const char *target, *portal;
	uint16_t port;
	char initiators[STOR_LIST_MAX]; /* space-separated, largest share first */
	char offender[STOR_NAME_MAX];
	char starved[STOR_NAME_MAX]; /* the initiator whose rate was under competing_min_rate */
	unsigned int share_pct;      /* the offender's share of the portal's bytes in the window */
};
struct stor_event {
	int running;
	int type; /* enum stor_event_type */
	const struct stor_feedback_msg *fb;
	const struct stor_request_msg *req;
};

/* Competing-session detection (seed 000 Fig. 2), pure (competing.c, unit-tested): the sessions of one target over
 * one portal; flagged (1) when two or more initiators share it, one moved more than share_pct percent of its bytes
 * in the window, and another's average rate was under min_rate_kib KiB/s.  0: not competing; -ENOMEM. */
struct stor_member {
	const char *initiator;
	uint64_t bytes;   /* in the window */
	uint32_t avg_kib; /* over the window */
};
struct stor_competing_cfg {
	unsigned int share_pct;
	uint32_t min_rate_kib;
};
int stor_competing_judge(const struct stor_member *m, size_t n, const struct stor_competing_cfg *c,
                         struct stor_request_msg *out);

/* What the feedback side did (sanStorFeedback scalars). */
struct stor_fb_counters {
	uint64_t feedback_sent, requests_sent, requests_held, portal_unknown;
};
const struct stor_fb_counters *stor_fb_counters(void);

/* Targets, by tid; *_next returns the first with a key > after (NULL: none).
 * LUN and session lookups take after = -1 for the first. */
const struct stor_target *stor_target_find(uint32_t tid);
const struct stor_target *stor_target_next(uint32_t after);
const struct stor_lun *stor_lun_find(const struct stor_target *t, uint32_t lun);
const struct stor_lun *stor_lun_next(const struct stor_target *t, int64_t after);
const struct stor_session *stor_session_find(const struct stor_target *t, uint32_t sid);
const struct stor_session *stor_session_next(const struct stor_target *t, int64_t after);

/* Portals, by index. */
const struct stor_portal *stor_portal_find(uint32_t index);
const struct stor_portal *stor_portal_next(uint32_t after);
uint32_t stor_portal_next_index(void);
/* A new portal row: -ENODEV (module off), -EEXIST (index or address:port
 * taken), -EINVAL (host not numeric, port 0, storage not volatile or
 * nonVolatile).  Create persists a nonVolatile row first, then runs
 * `tgtadm --op new --mode portal`; the row turns active when tgt lists it,
 * and is removed (logged) if tgtadm refuses it. */
/* ifname ("" none, else 1..31 of A-Z a-z 0-9 . _ - @): when the host has not the address, the agent adds it
 * there first (`ip addr add HOST/32` or /128), asynchronously; -EINVAL for a name that cannot be. */
int stor_portal_validate(uint32_t index, const char *host, uint16_t port, int storage, const char *ifname);
int stor_portal_create(uint32_t index, const char *host, uint16_t port, int storage, const char *ifname);
/* Removes the row (and its persisted copy), runs `--op delete --mode portal`, then `ip addr del` when the
 * agent had added the address. */
int stor_portal_destroy(uint32_t index);

/* ---- configuration over SNMP (conf.c): targets, LUNs, CHAP accounts and their bindings, initiator ACLs, iSNS ----
 * Rows created over SNMP are kept by the agent (nonVolatile ones persisted) and re-applied with tgtadm whenever tgt
 * lacks them (a tgtd restarted empty), one round at a time: an account and a target first, then what hangs on
 * them.  A row created in this run that tgt refuses on its first try is removed (logged), as a portal. */
enum stor_conf_kind { STOR_K_TARGET = 0, STOR_K_LUN, STOR_K_ACCOUNT, STOR_K_BIND, STOR_K_ACL, STOR_K_COUNT };
#define STOR_ALIAS_MAX 256 /* octets + NUL */
#define STOR_PATH_MAX 256
#define STOR_USER_MAX 64
#define STOR_SECRET_MIN 12 /* RFC 7143 12.1.3: at least 12 octets (96 bits) without IPsec */
#define STOR_SECRET_MAX 16 /* as the initiator side's default (discovery.chap_secret_max) */
#define STOR_LUN_MAX 16383
#define STOR_SIZE_MAX (16u << 20) /* MiB: 16 TiB, sparse */
enum stor_bind_dir { STOR_BIND_IN = 1, STOR_BIND_OUT = 2 };
enum stor_acl_kind { STOR_ACL_NAME = 1, STOR_ACL_ADDRESS = 2 };
struct stor_conf {
	int kind;      /* enum stor_conf_kind */
	uint32_t k[2]; /* target: tid; LUN: tid, lun; account: index; bind: tid, account index; ACL: tid, index */
	int storage;   /* STOR_ST_VOLATILE or STOR_ST_NONVOLATILE */
	int active;    /* tgt lists it now */
	char name[STOR_NAME_MAX]; /* target: IQN; account: user; ACL: the rule (a name, ALL, an address or subnet) */
	char text[STOR_PATH_MAX]; /* target: alias; LUN: backing file or device */
	char secret[STOR_SECRET_MAX + 1]; /* account: never logged, never read back */
	uint32_t size_mib;                /* LUN: size of the sparse file the agent creates (0: the file exists) */
	int flag;                         /* bind: enum stor_bind_dir; ACL: enum stor_acl_kind */
};
/* Rows of one kind in key order; next gives the first with a key > (k0, k1) (first: the first row). */
const struct stor_conf *stor_conf_find(int kind, uint32_t k0, uint32_t k1);
const struct stor_conf *stor_conf_next(int kind, int first, uint32_t k0, uint32_t k1);
/* Create: -ENODEV (module off), -EEXIST (key, IQN, user, rule or outgoing account taken), -ENOENT (the target or
 * account it hangs on is absent; parent_pending: the same request creates it), -EINVAL (a value that can never be
 * right: a path outside storage.lun_dir, a bad name, rule or address), -EMSGSIZE (a secret's length), -EDOM (a
 * LUN whose file is missing with no size), -EPERM (no storage.lun_dir).  A LUN's file is created (sparse) by
 * create when it is missing; destroy leaves it. */
int stor_conf_validate(const struct stor_conf *c, int parent_pending);
int stor_conf_create(const struct stor_conf *c);
/* Destroy (also of a target or LUN tgt had that the agent did not create): -EBUSY for a target with sessions unless
 * force (tgt takes it offline, then deletes it, ending them), and for a LUN of a target with sessions; a target takes
 * its LUNs, bindings and ACLs with it, an account its bindings. */
int stor_conf_validate_destroy(int kind, uint32_t k0, uint32_t k1, int force);
int stor_conf_destroy(int kind, uint32_t k0, uint32_t k1, int force);
/* A target's alias may change while active: the agent keeps it (tgt 1.0.85 has no TargetAlias to set). */
int stor_conf_set_alias(uint32_t tid, const char *alias);
/* Merged rows of tgt and of the agent's configuration (a configured row tgt lacks is listed too). */
int stor_target_row_next(int first, uint32_t after, uint32_t *tid);
int stor_lun_row_next(int first, uint32_t tid, uint32_t lun, uint32_t *otid, uint32_t *olun);

/* tgt's iSNS client (`--op update --mode sys --name iSNS...`): configured over SNMP, persisted, re-applied. */
struct stor_isns {
	int configured; /* set over SNMP: the agent keeps tgt so */
	int on;
	char server[STOR_HOST_MAX]; /* numeric ("" none) */
	uint16_t port;
};
/* What the agent keeps when configured, else what tgt said last. */
void stor_isns_get(struct stor_isns *out);
int stor_isns_validate(const struct stor_isns *in); /* -EINVAL: not numeric, port 0; -EDOM: on without server */
int stor_isns_set(const struct stor_isns *in);

/* Ends a target-side session: `--op delete --mode conn` for each of its
 * connections, asynchronously.  -ENODEV, -ENOENT. */
int stor_session_validate_end(uint32_t tid, uint32_t sid);
int stor_session_end(uint32_t tid, uint32_t sid);

/* The model update of one round (exposed for unit tests): replaces the
 * targets with those of show, sessions' counters from ctr; keeps per-target
 * counters monotonic. */
int stor_ingest_targets(const struct tgtc_show *show, const struct tgtc_counter *ctr, size_t nctr);

/* feedback.c: one round's part (after stor_ingest_targets): every session's window gets a sample, portals are
 * looked up (tcp is the text of /proc/net/tcp then /proc/net/tcp6, NULL: read them), and at the end of a window
 * the feedback and requests are published.  Exposed for unit tests with synthetic times and socket tables. */
void stor_fb_round(uint64_t now_ms, const char *tcp);
/* Local address of the one established connection from peer (numeric) to a port in ports[]: 1 found, 0 none,
 * -1 ambiguous (connections from peer to more than one local portal). */
int stor_portal_of(const char *tcp, const char *peer, const uint16_t *ports, size_t nports, char *host, size_t hostlen,
                   uint16_t *port);
void stor_fb_configure(const struct sa_storage_config *cfg);
void stor_fb_reset(void);
void stor_reset(void); /* drops every row (unit tests) */

/* identify.c: the LUNs' identities (INQUIRY, VPD 0x83, READ CAPACITY(16)) asked through the first active portal as
 * cfg->probe_initiator ("" none: the columns stay empty).  Run after every round for the LUNs without an answer
 * (new ones, or a failed probe after a pause); never more than a few logins at once; never blocks the loop. */
void stor_identify_configure(const struct sa_storage_config *cfg);
void stor_identify_round(uint64_t now_ms);
void stor_identify_stop(void);
/* Where a LUN's identity stands (sanStorLunIdentityStatus): not read (no probe initiator), pending (a LUN not
 * answered yet: its identity is coming), read, failed (the last try failed; tried again later). */
enum stor_identity { STOR_ID_NOT_READ = 1, STOR_ID_PENDING, STOR_ID_READ, STOR_ID_FAILED };
int stor_lun_identity(const struct stor_lun *l);
struct stor_identify_counters {
	uint64_t probes, failures;
};
const struct stor_identify_counters *stor_identify_counters(void);

#endif
