/* vpd.c: INQUIRY (standard and VPD 0x83) and READ CAPACITY(16) of a target's LUNs through libiscsi's asynchronous
 * API, driven by the agent's event loop: the socket is watched for what libiscsi wants, never waited on. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "iscsi/vpd.h"
#include "common/evloop.h"
#include "common/log.h"

#define TAG "vpd"
#define TICK_MS 100
#define DEFAULT_TIMEOUT_MS 10000
#define UA_RETRIES 4 /* a LUN reports a unit attention or two after a login or a change */

enum step { ST_CONNECT, ST_LOGIN, ST_INQ, ST_VPD83, ST_CAP, ST_LOGOUT, ST_DONE };

struct vpd_job {
	struct iscsi_context *ctx;
	int fd;     /* watched fd, -1 none */
	int wwrite; /* write watch on */
	unsigned int timer;
	struct timespec deadline;
	enum step step;
	size_t cur; /* LUN being asked */
	int retries;
	int rc;      /* the job's result once ended (1: still running) */
	int ended;   /* completion pending: the loop finishes it outside libiscsi's callbacks */
	int closing; /* being destroyed: callbacks only free their tasks */
	struct vpd_lun_info *infos;
	size_t ninfos;
	vpd_done_cb done;
	void *arg;
	char target[224];
	struct vpd_job *next;
};

static struct vpd_job *jobs;

unsigned int vpd_pending(void)
{
	unsigned int n = 0;

	for (struct vpd_job *j = jobs; j; j = j->next)
		n++;
	return n;
}

/* ---- parsers ---- */

/* Copies a blank-padded T10 text field without its trailing blanks, non-printables as '?'. */
static void t10_text(char *out, size_t size, const uint8_t *in, size_t n)
{
	size_t k = 0;

	while (n && (in[n - 1] == ' ' || in[n - 1] == 0))
		n--;
	for (size_t i = 0; i < n && k + 1 < size; i++)
		out[k++] = in[i] >= 0x20 && in[i] < 0x7f ? (char)in[i] : '?';
	out[k] = '\0';
}

int vpd_parse_inquiry(const uint8_t *d, size_t len, struct vpd_lun_info *out)
{
	if (len < 32)
		return -EINVAL;
	out->device_type = d[0] & 0x1f;
	t10_text(out->vendor, sizeof(out->vendor), d + 8, 8);
	t10_text(out->product, sizeof(out->product), d + 16, 16);
	return 0;
}

/* How global an NAA name is: IEEE registered (extended) over IEEE extended over locally assigned.  tgt gives a LU
 * both a locally assigned one (from its tid and LUN: differs between two targets of the same LU) and a registered
 * extended one (from the LU's scsi_id: the same wherever the LU is exported), so the order matters. */
static int naa_rank(uint8_t first)
{
	switch (first >> 4) {
	case 6: return 4;
	case 5: return 3;
	case 2: return 2;
	case 3: return 1;
	default: return 0;
	}
}

int vpd_parse_designator(const uint8_t *d, size_t len, struct vpd_lun_info *out)
{
	size_t end, pos, eui = 0, eui_len = 0, naa = 0, naa_len = 0;
	int best = -1;

	if (len < 4 || d[1] != 0x83)
		return -EINVAL;
	end = 4 + ((size_t)d[2] << 8 | d[3]);
	if (end > len) /* truncated by the allocation length: use what came */
		end = len;
	for (pos = 4; pos + 4 <= end;) {
		size_t dlen = d[pos + 3];
		int type = d[pos + 1] & 0x0f, assoc = (d[pos + 1] >> 4) & 0x03;

		if (pos + 4 + dlen > end)
			return -EINVAL;
		/* Association 0: the logical unit itself, not the port or the target device. */
		if (assoc == 0 && dlen && dlen <= VPD_DESIGNATOR_MAX) {
			if (type == VPD_DESIG_NAA && naa_rank(d[pos + 4]) > best) {
				best = naa_rank(d[pos + 4]);
				naa = pos + 4;
				naa_len = dlen;
			}
			if (type == VPD_DESIG_EUI64 && !eui_len) {
				eui = pos + 4;
				eui_len = dlen;
			}
		}
		pos += 4 + dlen;
	}
	if (naa_len) {
		memcpy(out->designator, d + naa, naa_len);
		out->designator_len = naa_len;
		out->designator_type = VPD_DESIG_NAA;
		return 0;
	}
	if (!eui_len)
		return -ENOENT;
	memcpy(out->designator, d + eui, eui_len);
	out->designator_len = eui_len;
	out->designator_type = VPD_DESIG_EUI64;
	return 0;
}

int vpd_parse_capacity16(const uint8_t *d, size_t len, struct vpd_lun_info *out)
{
	uint64_t last = 0;
	uint32_t bl = 0;

	if (len < 12)
		return -EINVAL;
	for (int i = 0; i < 8; i++)
		last = last << 8 | d[i];
	for (int i = 8; i < 12; i++)
		bl = bl << 8 | d[i];
	out->block_size = bl;
	/* A wrapped product is a unit lying about itself: unknown rather than wrong. */
	out->size = last < UINT64_MAX && bl && last + 1 <= UINT64_MAX / bl ? (last + 1) * bl : 0;
	return 0;
}

/* ---- the job ---- */

static void job_unwatch(struct vpd_job *j)
{
	if (j->fd >= 0) {
		cm_ev_unwatch_read(j->fd);
		if (j->wwrite)
			cm_ev_unwatch_write(j->fd);
	}
	j->fd = -1;
	j->wwrite = 0;
}

static void job_free(struct vpd_job *j)
{
	struct vpd_job **pp;

	for (pp = &jobs; *pp && *pp != j; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = j->next;
	job_unwatch(j);
	if (j->timer)
		cm_ev_cancel(j->timer);
	if (j->ctx) {
		/* Pending commands' callbacks run from here with SCSI_STATUS_CANCELLED: they only free their tasks. */
		j->closing = 1;
		iscsi_destroy_context(j->ctx);
	}
	free(j->infos);
	free(j);
}

/* Ends the job from a libiscsi callback: the loop calls done once libiscsi has returned. */
static void job_end(struct vpd_job *j, int rc)
{
	if (j->ended)
		return;
	j->ended = 1;
	j->rc = rc;
	j->step = ST_DONE;
}

static void job_complete(struct vpd_job *j)
{
	vpd_done_cb done = j->done;
	void *arg = j->arg;
	int rc = j->rc;
	struct vpd_lun_info *infos = j->infos;
	size_t n = j->ninfos;

	/* The infos outlive the context: done reads them after the job is gone from the loop. */
	j->infos = NULL;
	job_free(j);
	done(arg, rc, rc == 0 ? infos : NULL, rc == 0 ? n : 0);
	free(infos);
}

static void on_read(int fd, void *arg);
static void on_write(int fd, void *arg);

/* Watches the fd for what libiscsi wants now (the fd changes once, at connect). */
static int job_rewatch(struct vpd_job *j)
{
	int fd = iscsi_get_fd(j->ctx);
	int want_write = (iscsi_which_events(j->ctx) & POLLOUT) != 0;

	if (fd != j->fd)
		job_unwatch(j);
	if (fd < 0)
		return 0;
	if (j->fd != fd) {
		if (cm_ev_watch_read(fd, on_read, j) < 0)
			return -EIO;
		j->fd = fd;
	}
	if (want_write && !j->wwrite) {
		if (cm_ev_watch_write(fd, on_write, j) < 0)
			return -EIO;
		j->wwrite = 1;
	} else if (!want_write && j->wwrite) {
		cm_ev_unwatch_write(fd);
		j->wwrite = 0;
	}
	return 0;
}

/* After libiscsi ran: complete an ended job, else follow what it wants. */
static void job_after(struct vpd_job *j)
{
	if (!j->ended && job_rewatch(j) < 0)
		job_end(j, -EIO);
	if (j->ended)
		job_complete(j);
}

static void service(struct vpd_job *j, int revents)
{
	if (iscsi_service(j->ctx, revents) < 0 && !j->ended) {
		cm_log(CM_LOG_DEBUG, TAG, "%s: %s", j->target, iscsi_get_error(j->ctx));
		job_end(j, j->step <= ST_LOGIN ? -ECONNREFUSED : -EIO);
	}
	job_after(j);
}

static void on_read(int fd, void *arg)
{
	(void)fd;
	service(arg, POLLIN);
}

static void on_write(int fd, void *arg)
{
	(void)fd;
	service(arg, POLLOUT);
}

static void on_tick(unsigned int id, void *arg)
{
	struct vpd_job *j = arg;
	struct timespec now;

	(void)id;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > j->deadline.tv_sec || (now.tv_sec == j->deadline.tv_sec && now.tv_nsec >= j->deadline.tv_nsec))
		job_end(j, -ETIMEDOUT);
	job_after(j);
}

static void next_command(struct vpd_job *j);

static void cmd_cb(struct iscsi_context *iscsi, int status, void *command_data, void *private_data)
{
	struct vpd_job *j = private_data;
	struct scsi_task *task = command_data;
	struct vpd_lun_info *li;
	const uint8_t *data = task ? task->datain.data : NULL;
	size_t len = task && task->datain.size > 0 ? (size_t)task->datain.size : 0;

	(void)iscsi;
	if (j->closing || j->ended) {
		if (task)
			scsi_free_scsi_task(task);
		return;
	}
	li = &j->infos[j->cur];
	if (status == SCSI_STATUS_CHECK_CONDITION && task && task->sense.key == SCSI_SENSE_UNIT_ATTENTION &&
	    j->retries < UA_RETRIES) {
		j->retries++;
		scsi_free_scsi_task(task);
		next_command(j); /* the same step again */
		return;
	}
	if (status == SCSI_STATUS_CANCELLED || status == SCSI_STATUS_ERROR || status == SCSI_STATUS_TIMEOUT) {
		/* The session is at fault, not the LUN. */
		if (task)
			scsi_free_scsi_task(task);
		job_end(j, -EIO);
		return;
	}
	j->retries = 0;
	switch (j->step) {
	case ST_INQ:
		if (status != SCSI_STATUS_GOOD || vpd_parse_inquiry(data, len, li) < 0) {
			li->status = -EIO;
			j->cur++;
		} else if ((data[0] >> 5) == 3) {
			li->status = -ENOENT; /* no logical unit behind this number */
			j->cur++;
		} else {
			li->status = 0;
			j->step = ST_VPD83;
		}
		break;
	case ST_VPD83:
		/* A unit without the page (or without NAA/EUI-64 there) keeps an empty designator. */
		if (status == SCSI_STATUS_GOOD)
			vpd_parse_designator(data, len, li);
		if (li->device_type == 0) {
			j->step = ST_CAP;
		} else {
			j->cur++;
			j->step = ST_INQ;
		}
		break;
	case ST_CAP:
		if (status == SCSI_STATUS_GOOD)
			vpd_parse_capacity16(data, len, li);
		j->cur++;
		j->step = ST_INQ;
		break;
	default: break;
	}
	if (task)
		scsi_free_scsi_task(task);
	if (j->step == ST_INQ && j->cur >= j->ninfos)
		j->step = ST_LOGOUT;
	next_command(j);
}

static void logout_cb(struct iscsi_context *iscsi, int status, void *command_data, void *private_data)
{
	struct vpd_job *j = private_data;

	(void)iscsi;
	(void)status;
	(void)command_data;
	if (!j->closing)
		job_end(j, 0); /* everything was read: a failed logout changes nothing */
}

static void next_command(struct vpd_job *j)
{
	struct scsi_task *t = NULL;
	uint32_t lun = j->cur < j->ninfos ? j->infos[j->cur].lun : 0;

	switch (j->step) {
	case ST_INQ: t = iscsi_inquiry_task(j->ctx, (int)lun, 0, 0, 96, cmd_cb, j); break;
	case ST_VPD83: t = iscsi_inquiry_task(j->ctx, (int)lun, 1, 0x83, 1024, cmd_cb, j); break;
	case ST_CAP: t = iscsi_readcapacity16_task(j->ctx, (int)lun, cmd_cb, j); break;
	case ST_LOGOUT:
		if (iscsi_logout_async(j->ctx, logout_cb, j) != 0)
			job_end(j, 0);
		return;
	default: return;
	}
	if (!t)
		job_end(j, -ENOMEM);
}

static void login_cb(struct iscsi_context *iscsi, int status, void *command_data, void *private_data)
{
	struct vpd_job *j = private_data;

	(void)command_data;
	if (j->closing || j->ended)
		return;
	if (status != SCSI_STATUS_GOOD) {
		/* tgt refuses an initiator its ACL does not name at login (authorization failure). */
		cm_log(CM_LOG_DEBUG, TAG, "%s: login refused: %s", j->target, iscsi_get_error(iscsi));
		job_end(j, -EACCES);
		return;
	}
	j->step = j->ninfos ? ST_INQ : ST_LOGOUT;
	next_command(j);
}

static void connect_cb(struct iscsi_context *iscsi, int status, void *command_data, void *private_data)
{
	struct vpd_job *j = private_data;

	(void)command_data;
	if (j->closing || j->ended)
		return;
	if (status != SCSI_STATUS_GOOD) {
		cm_log(CM_LOG_DEBUG, TAG, "%s: cannot connect: %s", j->target, iscsi_get_error(iscsi));
		job_end(j, -ECONNREFUSED);
		return;
	}
	j->step = ST_LOGIN;
	if (iscsi_login_async(iscsi, login_cb, j) != 0)
		job_end(j, -EIO);
}

int vpd_probe(const struct vpd_request *req, vpd_done_cb done, void *arg, struct vpd_job **out)
{
	struct vpd_job *j;
	unsigned int ms;

	if (!req || !req->portal || !req->target || !req->initiator || !req->initiator[0] || !done ||
	    (req->nluns && !req->luns))
		return -EINVAL;
	if (!(j = calloc(1, sizeof(*j))))
		return -ENOMEM;
	j->fd = -1;
	j->done = done;
	j->arg = arg;
	snprintf(j->target, sizeof(j->target), "%s", req->target);
	if (req->nluns && !(j->infos = calloc(req->nluns, sizeof(*j->infos)))) {
		free(j);
		return -ENOMEM;
	}
	j->ninfos = req->nluns;
	for (size_t i = 0; i < req->nluns; i++)
		j->infos[i].lun = req->luns[i];
	if (!(j->ctx = iscsi_create_context(req->initiator))) {
		free(j->infos);
		free(j);
		return -ENOMEM;
	}
	iscsi_set_targetname(j->ctx, req->target);
	iscsi_set_session_type(j->ctx, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(j->ctx, ISCSI_HEADER_DIGEST_NONE_CRC32C);
	/* A lost connection ends the job: the caller asks again later, it is not retried behind its back. */
	iscsi_set_noautoreconnect(j->ctx, 1);
	ms = req->timeout_ms ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
	clock_gettime(CLOCK_MONOTONIC, &j->deadline);
	j->deadline.tv_sec += ms / 1000;
	j->deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (j->deadline.tv_nsec >= 1000000000L) {
		j->deadline.tv_sec++;
		j->deadline.tv_nsec -= 1000000000L;
	}
	j->next = jobs;
	jobs = j;
	j->step = ST_CONNECT;
	/* The connect may fail at once (bad address): then nothing of the job is left and done is never called. */
	if (iscsi_connect_async(j->ctx, req->portal, connect_cb, j) != 0 || j->ended ||
	    !(j->timer = cm_ev_timer(TICK_MS, 1, on_tick, j)) || job_rewatch(j) < 0) {
		cm_log(CM_LOG_DEBUG, TAG, "%s at %s: cannot connect: %s", req->target, req->portal,
		       iscsi_get_error(j->ctx));
		j->done = NULL;
		job_free(j);
		return -ECONNREFUSED;
	}
	if (out)
		*out = j;
	return 0;
}

void vpd_cancel(struct vpd_job *job)
{
	for (struct vpd_job *j = jobs; j; j = j->next)
		if (j == job) {
			job_free(j);
			return;
		}
}
