/* tgtctl.h: tgt target control: tgtd's management socket or tgtadm child processes, read by the event loop, and
 * parsers of their output. */
#ifndef SA_ISCSI_TGTCTL_H
#define SA_ISCSI_TGTCTL_H

#include <stddef.h>
#include <stdint.h>

#define TGTC_NAME_MAX 224 /* iSCSI names are at most 223 octets */

/* ---- generic runner ------------------------------------------------------
 * tgtc_run queues "tgtadm -C control ARGS..." (NULL-terminated varargs): sent
 * on tgtd's management socket when tgtc_encode_req knows it, else run as a
 * tgtadm child.  At most a few run at once; each is ended after a few seconds.
 * cb gets rc 0 (success) or a negative errno (-EIO: tgtd's error or a non-zero
 * exit, -ETIMEDOUT: ended), and tgtadm's stdout or the same text from the
 * socket (NUL-terminated, len bytes; valid only during the call).  Jobs belong to owner: tgtc_cancel(owner) kills and
 * drops them, calling each callback once with -ECANCELED so its context
 * can be freed (it must not start jobs then), and never touches another
 * owner's jobs. */
typedef void (*tgtc_done_cb)(void *arg, int rc, const char *out, size_t len);
int tgtc_run(int control, const void *owner, tgtc_done_cb cb, void *arg, ...) __attribute__((sentinel));
void tgtc_cancel(const void *owner);
/* The same runner for another program, "prog ARGS..." (found on PATH): the storage role's `ip addr`. */
int tgtc_run_prog(const void *owner, tgtc_done_cb cb, void *arg, const char *prog, ...) __attribute__((sentinel));

/* Target ACL verbs: `--op bind|unbind --mode target --tid TID` with --initiator-name RULE (by_name) or
 * --initiator-address RULE (ALL, an address or a subnet).  tgt answers -EIO for a rule that already exists (bind)
 * or does not (unbind).  Same jobs as tgtc_run. */
int tgtc_acl(int control, const void *owner, tgtc_done_cb cb, void *arg, uint32_t tid, int bind, int by_name,
             const char *rule);
/* Whether an ACL rule tgt lists is an initiator name (iqn., eui., naa.) rather than ALL or an address. */
int tgtc_acl_is_name(const char *rule);

/* ---- tgtd's management socket ---------------------------------------------
 * tgtc_run speaks tgtadm's own protocol to tgtd's unix socket (TGT_IPC_SOCKET or /var/run/tgtd/socket, ".CONTROL")
 * for the requests below, one request per connection as tgtadm does, and runs the tgtadm child for every other
 * request, or when the socket cannot be reached.  A request is a fixed header (mode, op, driver name, length, tid,
 * sid, lun, cid, host, device type, account direction, pack, force: TGTC_REQ_HDR bytes, host order) then the
 * parameter text with its NUL; the answer is (error, length including this 8-byte header) then the output text. */
#define TGTC_REQ_HDR 120
#define TGTC_RSP_HDR 8
/* Encodes tgtc_run's argument list (without "-C control") into buf: with --lld iscsi, `--op new|delete --mode portal
 * --param portal=ADDR:PORT`, `--op show --mode portal|target|account`, `--op stat --mode sys`, `--op delete --mode
 * conn --tid T --sid S --cid C`, `--op new --mode account --user U --password P`; and `--op show --mode sys`.  -ENOTSUP
 * for anything else (the tgtadm child runs it), -ENOSPC if buf is too small; else 0 and *len. */
int tgtc_encode_req(const char *const *args, size_t nargs, unsigned char *buf, size_t cap, size_t *len);
/* The answer's header: tgtd's error code (0 success) and the length of the output that follows. */
int tgtc_decode_rsp(const unsigned char hdr[TGTC_RSP_HDR], uint32_t *err, uint32_t *outlen);

/* ---- parsers (pure; exposed for unit tests) ---------------------------- */

/* Targets of `--op show --mode target`: tid and name only. */
struct tgtc_target {
	uint32_t tid;
	char name[TGTC_NAME_MAX];
};
int tgtc_parse_show(const char *out, size_t len, struct tgtc_target **targets, size_t *ntargets);

/* Rows of `--op stat --mode sys` (tgt 1.0.85 refuses `--mode target` without
 * --tid): one per (tid, lun, sid); the "done" byte and command counts. */
struct tgtc_counter {
	uint32_t tid;
	uint32_t lun;
	uint32_t sid;
	uint64_t bytes; /* rd_done + wr_done bytes */
	uint64_t rd_bytes, rd_cmds, wr_bytes, wr_cmds;
};
int tgtc_parse_stat(const char *out, size_t len, struct tgtc_counter **ctr, size_t *n);

/* (tid, sid, cid) triples of one target from `--op show --mode target`. */
struct tgtc_conn {
	uint32_t tid;
	uint64_t sid;
	uint32_t cid;
};
int tgtc_parse_conns(const char *out, size_t len, const char *target, struct tgtc_conn **conns, size_t *n);

/* The whole of `--op show --mode target`: targets, their LUNs and their
 * I_T nexuses (sessions) with connections. */
struct tgtc_lun {
	uint32_t lun;
	char type[32];     /* "disk", "controller", ... */
	uint64_t size_mb;  /* tgt prints sizes in units of 10^6 bytes, rounded */
	char backing[256]; /* backing store path, "None" for the controller */
	char serial[64];   /* SCSI SN */
	char scsi_id[64];  /* SCSI ID: what tgt builds the LU's VPD 0x83 designators from */
};
struct tgtc_nexus_conn {
	uint32_t cid;
	char addr[64]; /* the initiator's IP address as tgt prints it */
};
struct tgtc_nexus {
	uint64_t sid;
	char initiator[TGTC_NAME_MAX];
	struct tgtc_nexus_conn *conns;
	size_t nconns;
};
/* One line of a target's "ACL information": ALL, an address or subnet (--initiator-address), or an initiator name
 * (--initiator-name); tgt lists both kinds together. */
struct tgtc_acl {
	char rule[TGTC_NAME_MAX];
};
/* One line of a target's "Account information": a CHAP account bound to it, outgoing when tgt says so. */
struct tgtc_bound {
	char user[TGTC_NAME_MAX];
	int outgoing;
};
struct tgtc_target_info {
	uint32_t tid;
	char name[TGTC_NAME_MAX];
	struct tgtc_lun *luns;
	size_t nluns;
	struct tgtc_nexus *nexus;
	size_t nnexus;
	struct tgtc_acl *acls;
	size_t nacls;
	struct tgtc_bound *bound;
	size_t nbound;
};
struct tgtc_show {
	struct tgtc_target_info *targets;
	size_t ntargets;
};
int tgtc_parse_show_full(const char *out, size_t len, struct tgtc_show *show);
void tgtc_show_free(struct tgtc_show *show);

/* The names under "Account list:" of `--op show --mode account`, as one malloc'd array of TGTC_NAME_MAX slots. */
int tgtc_parse_accounts(const char *out, size_t len, char (**users)[TGTC_NAME_MAX], size_t *n);

/* The iSNS part of `--op show --mode sys`: iSNS=On|Off, iSNSServerIP=, iSNSServerPort=. */
struct tgtc_isns {
	int on;
	char server[64]; /* "" none */
	uint16_t port;
	int seen; /* the output had an iSNS block */
};
int tgtc_parse_isns(const char *out, size_t len, struct tgtc_isns *isns);

/* "Portal: ADDR:PORT,TPGT" lines of `--op show --mode portal` (IPv6 in []). */
struct tgtc_portal {
	char host[64]; /* numeric, without brackets */
	uint16_t port;
	uint32_t tpgt;
};
int tgtc_parse_portals(const char *out, size_t len, struct tgtc_portal **portals, size_t *n);

/* ---- the redirect engine's helpers (jobs of their own owner) ----------- */
struct tgtc_stats {
	struct tgtc_target *targets;
	size_t ntargets;
	struct tgtc_counter *counters;
	size_t ncounters;
};
/* cb gets rc 0 and the stats, or a negative errno (st NULL). */
typedef void (*tgtc_stats_cb)(uint32_t server, int rc, const struct tgtc_stats *st);
int tgtc_read_stats(uint32_t server, int control, tgtc_stats_cb cb);
/* Ends every connection of target on the tgtd at control (show, then delete each conn). */
int tgtc_end_sessions(int control, const char *target);
/* Cancels the work of tgtc_read_stats and tgtc_end_sessions only. */
void tgtc_stop(void);

#endif
