/* sp_path.c: one path of a team: a libiscsi async session, its identity check, keepalive and failure handling. */
#include "iscsi/sp_team_private.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "iscsi/sp_source.h"
#include "common/log.h"

#define TAG "sanpath"
#define MS (1000000ull)

uint64_t sp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now_rt_s(void)
{
	return (uint64_t)time(NULL);
}

void sp_path_set_state(struct sp_path *p, int state)
{
	if (p->state == state)
		return;
	p->state = state;
	p->t_state = sp_now_ns();
	p->last_change_rt = now_rt_s();
}

void sp_path_init(struct sp_path *p, struct sp_team *t, int idx, const struct sp_path_opts *po)
{
	memset(p, 0, sizeof(*p));
	p->team = t;
	p->idx = idx;
	snprintf(p->portal, sizeof(p->portal), "%s", po->portal);
	snprintf(p->iface, sizeof(p->iface), "%s", po->iface ? po->iface : "");
	snprintf(p->target, sizeof(p->target), "%s", po->target ? po->target : t->target);
	p->lun = po->lun >= 0 ? po->lun : t->o.lun;
	p->state = SP_PATH_IDLE;
	p->backoff_ms = t->o.reconnect_min_ms;
	p->last_change_rt = now_rt_s();
	p->login_result = SP_LOGIN_NONE;
	p->watched_fd = -1;
	/* ISID type "random" (RFC 7143 10.12.5): the team's random part and the
	 * path number as qualifier, so the paths of a team never share a
	 * session identity at the target and a reconnect reinstates its own. */
	p->isid[0] = 0x80;
	p->isid[1] = (unsigned char)(t->isid_rnd >> 16);
	p->isid[2] = (unsigned char)(t->isid_rnd >> 8);
	p->isid[3] = (unsigned char)t->isid_rnd;
	p->isid[4] = (unsigned char)((idx + 1) >> 8);
	p->isid[5] = (unsigned char)(idx + 1);
}

static int has_word(const char *s, const char *w)
{
	size_t n = strlen(w);

	for (; *s; s++)
		if (strncasecmp(s, w, n) == 0)
			return 1;
	return 0;
}

/*
 * The outcome of a failed connect + login, from libiscsi's error text: it
 * keeps the login response's status to itself and only writes
 * "Failed to log in to target. Status: <text>(<decimal status>)" (lib/login.c).
 * A mutual CHAP failure (the target's CHAP_N or CHAP_R is wrong or missing)
 * has no status: the target accepted us, we refused it.  Without a login
 * response the TCP connection or the login exchange broke.
 */
static void classify(struct sp_path *p, const char *err)
{
	const char *st = strstr(err, "Status:");

	p->login_status = 0;
	if (st && (st = strrchr(st, '('))) {
		char *end;
		unsigned long v = strtoul(st + 1, &end, 0);

		if (end != st + 1 && *end == ')' && v <= 0xffff) {
			p->login_status = (unsigned int)v;
			p->login_result = v >> 8 ? sp_login_result_of_status((unsigned int)v) : SP_LOGIN_FAILED;
			p->attempt_classified = 1;
			return;
		}
	}
	if (has_word(err, "CHAP") || has_word(err, "authentication"))
		p->login_result = SP_LOGIN_AUTH_FAILURE;
	else if (p->ctx && iscsi_is_logged_in(p->ctx))
		p->login_result = SP_LOGIN_FAILED; /* logged in, then the unit check failed */
	else
		p->login_result = SP_LOGIN_CONNECTION_FAILED;
	p->attempt_classified = 1;
}

/* Local end of the connection, for sanSessionSourceAddress. */
static void note_source(struct sp_path *p)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = iscsi_get_fd(p->ctx);

	p->src_addr[0] = '\0';
	p->src_port = 0;
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, p->src_addr, sizeof(p->src_addr));
		p->src_port = ntohs(in->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, p->src_addr, sizeof(p->src_addr));
		p->src_port = ntohs(in6->sin6_port);
	}
}

/* The session died (or never came up) inside a libiscsi callback: the
 * context cannot be destroyed from there, so the loop does it afterwards. */
static void fail_later(struct sp_path *p, const char *fmt, const char *detail)
{
	if (p->fail_pending)
		return;
	p->fail_pending = 1;
	snprintf(p->fail_reason, sizeof(p->fail_reason), fmt, detail ? detail : "");
}

static void free_slot(struct sp_path *p, struct sp_slot *s)
{
	s->io = NULL;
	s->task = NULL;
	p->free_slots[p->nfree++] = (int)(s - p->slots);
	p->inflight--;
}

/* libiscsi's scsi_sense_key_str has no name for some keys (medium error prints as "(null)"). */
static const char *sense_key_name(int key)
{
	static const char *const n[] = {"NO SENSE",       "RECOVERED ERROR", "NOT READY",      "MEDIUM ERROR",
	                                "HARDWARE ERROR", "ILLEGAL REQUEST", "UNIT ATTENTION", "DATA PROTECT",
	                                "BLANK CHECK",    "VENDOR SPECIFIC", "COPY ABORTED",   "ABORTED COMMAND",
	                                "(obsolete)",     "VOLUME OVERFLOW", "MISCOMPARE",     "COMPLETED"};

	return key >= 0 && key < 16 ? n[key] : "?";
}

/*
 * Sense data saying this path's logical unit cannot serve commands now,
 * whatever the command (seed 002 treats a target-side device failure like a
 * connection failure): NOT READY (becoming ready, offline, ALUA standby
 * 04/0b or unavailable 04/0c, medium not present), and a LUN the target no
 * longer has behind this port (ILLEGAL REQUEST 25/00).
 */
static int lu_unusable(const struct scsi_sense *s)
{
	return s->key == SCSI_SENSE_NOT_READY || (s->key == SCSI_SENSE_ILLEGAL_REQUEST && (s->ascq >> 8) == 0x25);
}

/* Errors of the data behind this port: another path may reach a good copy. */
static int medium_or_hardware(const struct scsi_sense *s)
{
	return s->key == SCSI_SENSE_MEDIUM_ERROR || s->key == SCSI_SENSE_HARDWARE_ERROR;
}

/* A command another path answered after a medium or hardware error on
 * medium_path: the error belonged to that path's copy of the LU, which is
 * failed over like a path whose device failed. */
static void medium_error_was_local(struct sp_team *t, struct sp_io *io, const struct sp_path *good)
{
	struct sp_path *bad = &t->path[io->medium_path];

	if (bad->state == SP_PATH_ACTIVE && bad->ctx && !bad->fail_pending) {
		bad->fail_pending = 1;
		snprintf(bad->fail_reason, sizeof(bad->fail_reason),
		         "device failure: medium error at lba %llu, which path %d read", (unsigned long long)io->lba,
		         good->idx + 1);
	}
	io->medium_path = -1;
}

static void io_cb(struct iscsi_context *iscsi, int status, void *command_data, void *private_data)
{
	struct sp_slot *s = private_data;
	struct sp_path *p = s->path;
	struct scsi_task *task = command_data;
	struct sp_io *io = s->io;
	uint64_t now, lat;

	if (s->orphan && s->ctx == iscsi && s->task == task) {
		/* The losing copy of a hedged read: its data went to the bounce buffer. */
		s->orphan = 0;
		free(s->bounce);
		s->bounce = NULL;
		scsi_free_scsi_task(task);
		free_slot(p, s);
		if (iscsi == p->ctx && status == SCSI_STATUS_GOOD) {
			p->t_answer = sp_now_ns();
			sp_suspect_answered(p, p->t_answer);
		}
		return;
	}
	if (!io || s->ctx != iscsi || s->task != task) {
		/* Detached: the path failed and the command went elsewhere. */
		if (task && s->task == task)
			s->task = NULL;
		if (task)
			scsi_free_scsi_task(task);
		return;
	}
	lat = sp_now_ns() - s->t_issue;
	if (s->shadow) {
		/* The first copy of a hedged read answered. */
		s->shadow = 0;
		free_slot(p, s);
		io->shadow = NULL;
		scsi_free_scsi_task(task);
		if (status == SCSI_STATUS_GOOD) {
			sp_suspect_note_latency(p, lat);
			sp_team_hedge_won(p->team, p, io);
		} else {
			/* The other copy carries on. */
			free(io->hedge_buf);
			io->hedge_buf = NULL;
			if (status != SCSI_STATUS_CHECK_CONDITION && status != SCSI_STATUS_BUSY &&
			    status != SCSI_STATUS_TASK_SET_FULL && status != SCSI_STATUS_RESERVATION_CONFLICT)
				fail_later(p, "command %s on the session", "failed");
		}
		sp_suspect_answered(p, sp_now_ns());
		return;
	}
	free_slot(p, s);
	now = sp_now_ns();

	switch (status) {
	case SCSI_STATUS_GOOD:
		if (io->medium_path >= 0 && io->medium_path != p->idx)
			medium_error_was_local(p->team, io, p);
		if (lat > p->win_max_lat_ns)
			p->win_max_lat_ns = lat;
		/* EWMA with weight 1/8: smooth enough for the service-time selector. */
		p->ewma_ns = p->ewma_ns ? p->ewma_ns - p->ewma_ns / 8 + lat / 8 : lat;
		sp_suspect_note_latency(p, lat);
		scsi_free_scsi_task(task);
		sp_team_complete(p->team, p, io, 0);
		sp_suspect_answered(p, now);
		return;
	case SCSI_STATUS_CHECK_CONDITION:
		if (task->sense.key == SCSI_SENSE_UNIT_ATTENTION && io->attempts < 16) {
			/* Reset or parameter change seen on this nexus: the command was not run. */
			scsi_free_scsi_task(task);
			sp_team_retry(p->team, io);
			return;
		}
		if (lu_unusable(&task->sense)) {
			/* This path's LU cannot serve (not ready, ALUA standby or
			 * unavailable, gone): a device failure on this path, handled
			 * as a connection failure.  The target refused the command
			 * without running it, so it goes to another path at once. */
			char why[160];

			snprintf(why, sizeof(why), "device failure: sense key %s (0x%x) asc/ascq 0x%04x",
			         sense_key_name(task->sense.key), task->sense.key, task->sense.ascq);
			scsi_free_scsi_task(task);
			sp_team_requeue(p->team, io);
			fail_later(p, "%s", why);
			return;
		}
		if (medium_or_hardware(&task->sense)) {
			io->tried |= 1u << p->idx;
			if (io->medium_path < 0)
				io->medium_path = p->idx;
			if (io->tried != ~0u && sp_team_untried_path(p->team, io)) {
				/* It may be this copy of the data only: another path
				 * tries; the error is the application's only when every
				 * path gives it. */
				cm_log(
				    CM_LOG_WARNING, TAG,
				    "team %s path %d (%s): lba %llu: %s error (asc/ascq 0x%04x): trying another path",
				    p->team->name, p->idx + 1, p->portal, (unsigned long long)io->lba,
				    sense_key_name(task->sense.key), task->sense.ascq);
				scsi_free_scsi_task(task);
				sp_team_retry(p->team, io);
				return;
			}
		}
		snprintf(p->last_error, sizeof(p->last_error), "check condition: %s (0x%x) asc/ascq 0x%04x",
		         sense_key_name(task->sense.key), task->sense.key, task->sense.ascq);
		cm_log(CM_LOG_ERR, TAG, "team %s path %d (%s): lba %llu: %s", p->team->name, p->idx + 1, p->portal,
		       (unsigned long long)io->lba, p->last_error);
		scsi_free_scsi_task(task);
		sp_team_complete(p->team, p, io, -EIO);
		return;
	case SCSI_STATUS_BUSY:
	case SCSI_STATUS_TASK_SET_FULL:
		scsi_free_scsi_task(task);
		sp_team_retry(p->team, io);
		return;
	case SCSI_STATUS_RESERVATION_CONFLICT:
		scsi_free_scsi_task(task);
		sp_team_complete(p->team, p, io, -EBUSY);
		return;
	default:
		/* Cancelled, transport error, timeout: the path is at fault, not
		 * the command.  Another path runs it; a write only once the
		 * session that may still deliver it is fenced. */
		scsi_free_scsi_task(task);
		if (io->dir == SP_WRITE) {
			p->fenced_writes++;
			sp_team_fence(p->team, io);
		} else {
			sp_team_requeue(p->team, io);
		}
		if (status == SCSI_STATUS_TIMEOUT)
			p->timeout_errors++;
		fail_later(p, "command %s on the session",
		           status == SCSI_STATUS_CANCELLED ? "cancelled"
		           : status == SCSI_STATUS_TIMEOUT ? "timed out"
		                                           : "failed");
		return;
	}
}

int sp_path_issue(struct sp_path *p, struct sp_io *io)
{
	struct sp_team *t = p->team;
	struct sp_slot *s;
	uint32_t len = io->nblocks * t->block_size;
	int idx;

	if (!p->ctx || !p->nfree)
		return -EAGAIN;
	idx = p->free_slots[--p->nfree];
	s = &p->slots[idx];
	s->io = io;
	s->ctx = p->ctx;
	s->iov.iov_base = io->buf;
	s->iov.iov_len = len;
	io->path = p->idx;
	io->slot = idx;
	io->t_issue = sp_now_ns();
	s->t_issue = io->t_issue;
	s->shadow = s->orphan = 0;
	s->bounce = NULL;
	io->attempts++;
	p->inflight++;
	if (io->dir == SP_READ)
		s->task = iscsi_read16_iov_task(p->ctx, p->lun, io->lba, len, (int)t->block_size, 0, 0, 0, 0, 0, io_cb,
		                                s, &s->iov, 1);
	else
		s->task = iscsi_write16_iov_task(p->ctx, p->lun, io->lba, NULL, len, (int)t->block_size, 0, 0, 0, 0, 0,
		                                 io_cb, s, &s->iov, 1);
	if (!s->task) {
		free_slot(p, s);
		fail_later(p, "cannot queue a command: %s", iscsi_get_error(p->ctx));
		return -EIO;
	}
	return 0;
}

static void nop_cb(struct iscsi_context *iscsi, int status, void *command_data, void *private_data)
{
	struct sp_path *p = private_data;

	(void)command_data;
	if (iscsi != p->ctx)
		return;
	if (status != SCSI_STATUS_GOOD) {
		fail_later(p, "NOP-Out failed: %s", iscsi_get_error(iscsi));
		return;
	}
	p->nop_outstanding = 0;
	p->t_nop_next = sp_now_ns();
	sp_suspect_note_latency(p, p->t_nop_next - p->t_nop_sent);
	sp_suspect_answered(p, p->t_nop_next);
	p->t_nop_next += (uint64_t)p->team->o.nop_interval_ms * MS;
}

static void hex(char *out, size_t outlen, const unsigned char *b, unsigned int n)
{
	size_t o = 0;
	unsigned int i;

	out[0] = '\0';
	for (i = 0; i < n && o + 3 < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%02x", b[i]);
}

static void cap_cb(struct iscsi_context *iscsi, int status, void *command_data, void *private_data)
{
	struct sp_path *p = private_data;
	struct scsi_task *task = command_data;
	struct scsi_readcapacity16 *rc;

	if (iscsi != p->ctx) {
		if (task)
			scsi_free_scsi_task(task);
		return;
	}
	if (status != SCSI_STATUS_GOOD || !(rc = scsi_datain_unmarshall(task))) {
		fail_later(p, "READ CAPACITY(16) failed: %s", iscsi_get_error(iscsi));
		if (task)
			scsi_free_scsi_task(task);
		return;
	}
	p->block_size = rc->block_length;
	p->nblocks = rc->returned_lba + 1;
	scsi_free_scsi_task(task);
	sp_team_path_verified(p->team, p);
}

static void read_capacity(struct sp_path *p)
{
	if (!iscsi_readcapacity16_task(p->ctx, p->lun, cap_cb, p))
		fail_later(p, "cannot send READ CAPACITY(16): %s", iscsi_get_error(p->ctx));
}

static void inq80_cb(struct iscsi_context *iscsi, int status, void *command_data, void *private_data)
{
	struct sp_path *p = private_data;
	struct scsi_task *task = command_data;
	const unsigned char *d;
	unsigned int len;

	if (iscsi != p->ctx) {
		if (task)
			scsi_free_scsi_task(task);
		return;
	}
	if (status != SCSI_STATUS_GOOD || task->datain.size < 4) {
		fail_later(p, "INQUIRY VPD 0x80 failed: %s", iscsi_get_error(iscsi));
		if (task)
			scsi_free_scsi_task(task);
		return;
	}
	d = task->datain.data;
	len = (unsigned int)(d[2] << 8 | d[3]);
	if (len + 4 > (unsigned int)task->datain.size)
		len = (unsigned int)task->datain.size - 4;
	if (len > sizeof(p->ident) - 1)
		len = sizeof(p->ident) - 1;
	p->ident[0] = 0x80; /* tells a serial number from 0x83 designators */
	memcpy(p->ident + 1, d + 4, len);
	p->ident_len = len + 1;
	scsi_free_scsi_task(task);
	read_capacity(p);
}

/* Keeps the LU-associated designators (T10 vendor, EUI-64, NAA, SCSI name
 * string) of VPD page 0x83: port designators differ between paths by design. */
static unsigned int lu_designators(const unsigned char *d, unsigned int size, unsigned char *out, unsigned int outlen)
{
	unsigned int pos = 4, end, o = 0;

	if (size < 4)
		return 0;
	end = 4u + (unsigned int)(d[2] << 8 | d[3]);
	if (end > size)
		end = size;
	while (pos + 4 <= end) {
		unsigned int assoc = (d[pos + 1] >> 4) & 3, type = d[pos + 1] & 0x0f, len = d[pos + 3];

		if (pos + 4 + len > end)
			break;
		if (assoc == 0 && (type == 1 || type == 2 || type == 3 || type == 8) && o + 2 + len <= outlen) {
			out[o++] = (unsigned char)type;
			out[o++] = (unsigned char)len;
			memcpy(out + o, d + pos + 4, len);
			o += len;
		}
		pos += 4 + len;
	}
	return o;
}

static void inq83_cb(struct iscsi_context *iscsi, int status, void *command_data, void *private_data)
{
	struct sp_path *p = private_data;
	struct scsi_task *task = command_data;

	if (iscsi != p->ctx) {
		if (task)
			scsi_free_scsi_task(task);
		return;
	}
	p->ident_len = 0;
	if (status == SCSI_STATUS_GOOD)
		p->ident_len =
		    lu_designators(task->datain.data, (unsigned int)task->datain.size, p->ident, sizeof(p->ident));
	if (task)
		scsi_free_scsi_task(task);
	if (p->ident_len) {
		read_capacity(p);
		return;
	}
	/* No usable LU designator: the unit serial number identifies the LU. */
	if (!iscsi_inquiry_task(iscsi, p->lun, 1, 0x80, 255, inq80_cb, p))
		fail_later(p, "cannot send INQUIRY: %s", iscsi_get_error(iscsi));
}

static void connect_cb(struct iscsi_context *iscsi, int status, void *command_data, void *private_data)
{
	struct sp_path *p = private_data;

	(void)command_data;
	if (iscsi != p->ctx)
		return;
	if (status != SCSI_STATUS_GOOD || p->state != SP_PATH_CONNECTING) {
		/* libiscsi calls this a second time when an established session dies. */
		if (p->state == SP_PATH_CONNECTING && !p->login_time_rt)
			classify(p, iscsi_get_error(iscsi));
		fail_later(p, "connect/login: %s", iscsi_get_error(iscsi));
		return;
	}
	/* Logged in; the identity check that follows may still refuse it. */
	p->login_result = SP_LOGIN_SUCCESS;
	p->login_status = 0;
	p->attempt_classified = 1;
	p->login_time_rt = now_rt_s();
	note_source(p);
	if (!iscsi_inquiry_task(iscsi, p->lun, 1, 0x83, 255, inq83_cb, p))
		fail_later(p, "cannot send INQUIRY: %s", iscsi_get_error(iscsi));
}

static int alloc_slots(struct sp_path *p)
{
	unsigned int n = p->team->o.max_inflight, i;

	if (!p->slots) {
		p->slots = calloc(n, sizeof(*p->slots));
		p->free_slots = calloc(n, sizeof(*p->free_slots));
		if (!p->slots || !p->free_slots)
			return -ENOMEM;
	}
	p->nfree = 0;
	for (i = n; i-- > 0;) {
		p->slots[i].path = p;
		p->slots[i].io = NULL;
		p->slots[i].task = NULL;
		p->slots[i].shadow = p->slots[i].orphan = 0;
		p->slots[i].bounce = NULL;
		p->free_slots[p->nfree++] = (int)i;
	}
	p->inflight = 0;
	return 0;
}

static void schedule_retry(struct sp_path *p, uint64_t now)
{
	struct sp_team *t = p->team;

	p->t_retry = now + (uint64_t)p->backoff_ms * MS;
	p->backoff_ms = p->backoff_ms * 2 > t->o.reconnect_max_ms ? t->o.reconnect_max_ms : p->backoff_ms * 2;
}

int sp_path_connect(struct sp_path *p)
{
	struct sp_team *t = p->team;
	struct iscsi_context *ctx;
	char alias[96], iface[sizeof(p->iface)];
	int rc;

	if (p->admin_down)
		return 0; /* logged out on request: stays out */
	rc = alloc_slots(p);
	if (rc)
		return rc;
	ctx = iscsi_create_context(t->initiator);
	if (!ctx)
		return -ENOMEM;
	/* The alias names the path in `tgtadm --op show` on the target side. */
	snprintf(alias, sizeof(alias), "sanpath-%s-p%d", t->name, p->idx + 1);
	iscsi_set_alias(ctx, alias);
	iscsi_set_targetname(ctx, p->target);
	iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(ctx, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_isid_random(ctx, (uint32_t)p->isid[1] << 16 | (uint32_t)p->isid[2] << 8 | p->isid[3],
	                      (uint32_t)p->isid[4] << 8 | p->isid[5]);
	if (t->chap_user && (iscsi_set_initiator_username_pwd(ctx, t->chap_user, t->chap_secret) != 0 ||
	                     (t->chap_target_user &&
	                      iscsi_set_target_username_pwd(ctx, t->chap_target_user, t->chap_target_secret) != 0))) {
		/* libiscsi's message names neither the user nor the secret. */
		snprintf(p->last_error, sizeof(p->last_error), "CHAP: %s", iscsi_get_error(ctx));
		iscsi_destroy_context(ctx);
		p->login_result = SP_LOGIN_INITIATOR_ERROR;
		p->login_status = 0;
		p->first_attempt_done = 1;
		sp_path_set_state(p, SP_PATH_DOWN);
		schedule_retry(p, sp_now_ns());
		return -EINVAL;
	}
	/* libiscsi's own reconnect blocks and replays on the same portal; the
	 * team fails over to another path instead and reconnects by itself. */
	iscsi_set_noautoreconnect(ctx, 1);
	/* A source address is bound by sanpath-bind.so, preloaded by the engine. */
	if (p->iface[0] && !sp_source_is_address(p->iface)) {
		snprintf(iface, sizeof(iface), "%s", p->iface);
		iscsi_set_bind_interfaces(ctx, iface);
	}
	p->ctx = ctx;
	p->fail_pending = 0;
	p->refuse_pending = 0;
	p->nop_outstanding = 0;
	p->t_connect = sp_now_ns();
	p->attempt_classified = 0;
	p->login_time_rt = 0;
	p->logout_sent = 0;
	p->logout_done = 0;
	sp_path_set_state(p, SP_PATH_CONNECTING);
	if (iscsi_full_connect_async(ctx, p->portal, p->lun, connect_cb, p) != 0) {
		snprintf(p->last_error, sizeof(p->last_error), "connect: %s", iscsi_get_error(ctx));
		p->login_result = SP_LOGIN_CONNECTION_FAILED;
		p->login_status = 0;
		p->ctx = NULL;
		iscsi_destroy_context(ctx);
		p->first_attempt_done = 1;
		sp_path_set_state(p, SP_PATH_DOWN);
		schedule_retry(p, sp_now_ns());
		return -EIO;
	}
	return 0;
}

/* Destroys the session after detaching every command from it: the
 * CANCELLED callbacks libiscsi fires during the destroy find their slots
 * empty and only free the tasks. */
static void drop_session(struct sp_path *p)
{
	struct iscsi_context *ctx = p->ctx;
	unsigned int i, n = p->team->o.max_inflight;
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	int fd;

	if (!ctx)
		return;
	for (i = 0; i < n && p->slots; i++) {
		struct sp_slot *s = &p->slots[i];

		if (s->io && s->shadow) {
			/* The hedged copy elsewhere owns the read now. */
			struct sp_io *io = s->io;

			s->io = NULL;
			s->shadow = 0;
			p->inflight--;
			io->shadow = NULL;
			free(io->hedge_buf);
			io->hedge_buf = NULL;
		} else if (s->io) {
			struct sp_io *io = s->io;

			s->io = NULL;
			p->inflight--;
			/* A write this session may still deliver (a target that
			 * has it queued, a retransmission in flight) waits for
			 * the fence before it runs elsewhere; reads go at once. */
			if (io->dir == SP_WRITE) {
				p->fenced_writes++;
				sp_team_fence(p->team, io);
			} else {
				sp_team_requeue(p->team, io);
			}
		}
	}
	sp_suspect_clear(p);
	p->ctx = NULL;
	/* Abort (RST), not close: a kernel retransmitting an orphaned socket
	 * could deliver a write to the target after it ran elsewhere. */
	fd = iscsi_get_fd(ctx);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	iscsi_destroy_context(ctx);
	/* Tasks whose callback libiscsi did not fire are still ours. */
	for (i = 0; i < n && p->slots; i++) {
		if (p->slots[i].task) {
			scsi_free_scsi_task(p->slots[i].task);
			p->slots[i].task = NULL;
		}
		free(p->slots[i].bounce);
		p->slots[i].bounce = NULL;
		p->slots[i].orphan = 0;
	}
	alloc_slots(p);
}

void sp_path_fail(struct sp_path *p, const char *why)
{
	struct sp_team *t = p->team;
	uint64_t now = sp_now_ns();
	int was = p->state;
	unsigned int i, recent = 0;

	if (was == SP_PATH_DOWN || was == SP_PATH_REFUSED || was == SP_PATH_REMOVED)
		return;
	if (p->admin_down) {
		/* Logged out on request: the session ends (the target closes it
		 * after the Logout response) and the path stays out. */
		cm_log(CM_LOG_NOTICE, TAG, "team %s path %d (%s) logged out (%s)", t->name, p->idx + 1, p->portal,
		       p->logout_done ? "Logout response" : why);
		drop_session(p);
		p->fail_pending = 0;
		p->nop_outstanding = 0;
		p->logout_sent = 0;
		p->logout_done = 0;
		p->login_time_rt = 0;
		p->src_addr[0] = '\0';
		p->src_port = 0;
		sp_path_set_state(p, p->removed ? SP_PATH_REMOVED : SP_PATH_IDLE);
		sp_team_path_lost(t, p);
		return;
	}
	if (was == SP_PATH_CONNECTING) {
		if (p->login_time_rt) {
			/* Logged in, but the unit could not be checked. */
			p->login_result = SP_LOGIN_FAILED;
			p->login_status = 0;
		} else if (!p->attempt_classified) {
			classify(p, why);
		}
	}
	/* Only when digests are negotiated (they are not: libiscsi's CRC32C
	 * costs more than loopback's checksums save) can this count. */
	if (has_word(why, "digest") || has_word(why, "crc32"))
		p->digest_errors++;
	p->login_time_rt = 0;
	p->src_addr[0] = '\0';
	p->src_port = 0;
	snprintf(p->last_error, sizeof(p->last_error), "%s", why);
	drop_session(p);
	p->fail_pending = 0;
	p->nop_outstanding = 0;
	p->first_attempt_done = 1;
	if (was == SP_PATH_ACTIVE || was == SP_PATH_STANDBY) {
		p->failures++;
		/* A path that stayed healthy a while starts its backoff afresh. */
		if (now - p->t_healthy > 30000 * MS)
			p->backoff_ms = t->o.reconnect_min_ms;
		p->fail_times[p->fail_ring++ % 8] = now;
		for (i = 0; i < 8; i++)
			if (p->fail_times[i] && now - p->fail_times[i] <= (uint64_t)t->o.flap_window_ms * MS)
				recent++;
		if (t->o.flap_count && recent >= t->o.flap_count && !p->damped) {
			p->damped = 1;
			p->dampings++;
			cm_log(CM_LOG_WARNING, TAG,
			       "team %s path %d (%s): flapping (%u failures in %u ms): held in standby for %u ms after "
			       "it recovers",
			       t->name, p->idx + 1, p->portal, recent, t->o.flap_window_ms, t->o.flap_hold_ms);
		}
		cm_log(CM_LOG_WARNING, TAG, "team %s path %d (%s) down: %s", t->name, p->idx + 1, p->portal, why);
	} else {
		cm_log(CM_LOG_NOTICE, TAG, "team %s path %d (%s): attempt failed: %s", t->name, p->idx + 1, p->portal,
		       why);
	}
	sp_path_set_state(p, SP_PATH_DOWN);
	schedule_retry(p, now);
	sp_team_path_lost(t, p);
}

void sp_path_close(struct sp_path *p)
{
	drop_session(p);
	free(p->slots);
	free(p->free_slots);
	p->slots = NULL;
	p->free_slots = NULL;
}

static void logout_cb(struct iscsi_context *iscsi, int status, void *command_data, void *private_data)
{
	struct sp_path *p = private_data;

	(void)status;
	(void)command_data;
	/* The session cannot be destroyed from its own callback: the timers do it. */
	if (iscsi == p->ctx)
		p->logout_done = 1;
}

/* A path being logged out: its last commands finish, then a Logout; the
 * session closes on the response, or after a grace period without one. */
static void logout_progress(struct sp_path *p, uint64_t now)
{
	struct sp_team *t = p->team;
	uint64_t grace = (uint64_t)(t->o.cmd_timeout_ms + t->o.nop_timeout_ms) * MS;

	if (p->logout_done || now - p->t_logout > 2 * grace) {
		if (!p->logout_done)
			cm_log(CM_LOG_WARNING, TAG, "team %s path %d (%s): no Logout response; closing the session",
			       t->name, p->idx + 1, p->portal);
		sp_path_fail(p, "logged out");
		return;
	}
	if (p->logout_sent)
		return;
	if (p->inflight && now - p->t_logout <= grace)
		return;
	if (!iscsi_is_logged_in(p->ctx) || iscsi_logout_async(p->ctx, logout_cb, p) != 0) {
		sp_path_fail(p, "logged out");
		return;
	}
	p->logout_sent = 1;
}

void sp_path_logout(struct sp_path *p)
{
	struct sp_team *t = p->team;

	if (p->admin_down)
		return;
	p->admin_down = 1;
	p->t_logout = sp_now_ns();
	p->logout_sent = 0;
	p->logout_done = 0;
	p->held = 0;
	cm_log(CM_LOG_NOTICE, TAG, "team %s path %d (%s): logging out on request", t->name, p->idx + 1, p->portal);
	switch (p->state) {
	case SP_PATH_ACTIVE:
	case SP_PATH_STANDBY:
		/* Out of service at once; its commands in flight finish first. */
		sp_path_set_state(p, SP_PATH_IDLE);
		logout_progress(p, p->t_logout);
		return;
	case SP_PATH_CONNECTING:
	case SP_PATH_DOWN:
		drop_session(p);
		p->login_time_rt = 0;
		p->src_addr[0] = '\0';
		p->src_port = 0;
		sp_path_set_state(p, SP_PATH_IDLE);
		return;
	default: return; /* idle, refused: nothing to end */
	}
}

void sp_path_login(struct sp_path *p)
{
	struct sp_team *t = p->team;

	if (!p->admin_down || p->removed)
		return;
	p->admin_down = 0;
	cm_log(CM_LOG_NOTICE, TAG, "team %s path %d (%s): logging in again on request", t->name, p->idx + 1, p->portal);
	if (p->ctx) /* its logout was still under way */
		drop_session(p);
	p->backoff_ms = t->o.reconnect_min_ms;
	if (p->state == SP_PATH_IDLE && t->started)
		sp_path_connect(p);
}

void sp_path_set_portal(struct sp_path *p, const char *portal)
{
	struct sp_team *t = p->team;

	if (p->removed)
		return;
	cm_log(CM_LOG_NOTICE, TAG, "team %s path %d: portal %s -> %s", t->name, p->idx + 1, p->portal, portal);
	snprintf(p->portal, sizeof(p->portal), "%s", portal);
	p->login_result = SP_LOGIN_NONE;
	p->login_status = 0;
	if (p->admin_down)
		return; /* it logs in there when let in again */
	drop_session(p);
	p->login_time_rt = 0;
	p->src_addr[0] = '\0';
	p->src_port = 0;
	p->backoff_ms = t->o.reconnect_min_ms;
	/* A refusal or a backoff was about the old portal. */
	if (p->state != SP_PATH_IDLE)
		sp_path_set_state(p, SP_PATH_IDLE);
	if (t->started)
		sp_path_connect(p);
}

void sp_path_timers(struct sp_path *p, uint64_t now)
{
	struct sp_team *t = p->team;
	char why[160];
	unsigned int i;

	switch (p->state) {
	case SP_PATH_CONNECTING:
		if (now - p->t_connect > (uint64_t)t->o.login_timeout_ms * MS) {
			snprintf(why, sizeof(why), "no login within %u ms", t->o.login_timeout_ms);
			if (!p->login_time_rt) {
				p->login_result = SP_LOGIN_CONNECTION_FAILED;
				p->login_status = 0;
				p->attempt_classified = 1;
			}
			sp_path_fail(p, why);
		}
		return;
	case SP_PATH_IDLE:
		if (p->admin_down && p->ctx)
			logout_progress(p, now);
		return;
	case SP_PATH_ACTIVE:
	case SP_PATH_STANDBY:
		if (p->nop_outstanding && now - p->t_nop_sent > (uint64_t)t->o.nop_timeout_ms * MS) {
			snprintf(why, sizeof(why), "NOP-Out unanswered for %u ms", t->o.nop_timeout_ms);
			p->timeout_errors++;
			sp_path_fail(p, why);
			return;
		}
		for (i = 0; i < t->o.max_inflight; i++) {
			struct sp_slot *s = &p->slots[i];

			/* Every copy counts, hedged and orphaned ones too: the path owes them an answer. */
			if ((s->io || s->orphan) && now - s->t_issue > (uint64_t)t->o.cmd_timeout_ms * MS) {
				snprintf(why, sizeof(why), "command outstanding for more than %u ms",
				         t->o.cmd_timeout_ms);
				p->timeout_errors++;
				sp_path_fail(p, why);
				return;
			}
		}
		if (!p->nop_outstanding && now >= p->t_nop_next) {
			if (iscsi_nop_out_async(p->ctx, nop_cb, NULL, 0, p) != 0) {
				sp_path_fail(p, "cannot send NOP-Out");
				return;
			}
			p->nop_outstanding = 1;
			p->t_nop_sent = now;
		}
		return;
	case SP_PATH_DOWN:
		if (now >= p->t_retry) {
			p->reconnects++;
			sp_path_connect(p);
		}
		return;
	default: return;
	}
}

/* Shared with sp_team.c for its refusal message. */
void sp_path_ident_hex(const unsigned char *b, unsigned int n, char *out, size_t outlen)
{
	hex(out, outlen, b, n);
}
