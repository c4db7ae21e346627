/* vpd.h: what a logical unit says about itself (standard INQUIRY, VPD page 0x83, READ CAPACITY(16)), asked through
 * libiscsi's asynchronous API on the agent's event loop: one login per target, the LUNs one after the other. */
#ifndef SA_ISCSI_VPD_H
#define SA_ISCSI_VPD_H

#include <stddef.h>
#include <stdint.h>

#define VPD_DESIGNATOR_MAX 32 /* NAA is 8 or 16 octets, EUI-64 8, 12 or 16 */

/* VPD 0x83 designator types this module picks (SPC-4 7.8.6). */
enum vpd_designator_type { VPD_DESIG_NONE = 0, VPD_DESIG_EUI64 = 2, VPD_DESIG_NAA = 3 };

struct vpd_lun_info {
	uint32_t lun;
	int status;      /* 0 answered (fields below), or a negative errno for this LUN alone */
	int device_type; /* peripheral device type (0 disk, 0x0c storage array controller, ...) */
	char vendor[9];  /* T10 vendor identification, trailing blanks removed */
	char product[17];
	uint8_t designator[VPD_DESIGNATOR_MAX]; /* raw octets of the chosen designator */
	size_t designator_len;                  /* 0: the unit gave neither NAA nor EUI-64 */
	int designator_type;                    /* enum vpd_designator_type */
	uint64_t size;                          /* octets (READ CAPACITY(16)); 0 unknown or not a block device */
	uint32_t block_size;
};

struct vpd_request {
	const char *portal;    /* "HOST:PORT", IPv6 in brackets */
	const char *target;    /* target IQN */
	const char *initiator; /* initiator name to log in as (the target's ACL must allow it) */
	const uint32_t *luns;
	size_t nluns;
	unsigned int timeout_ms; /* the whole job; 0 = 10000 */
};

/* The end of a job: rc 0 and one info per requested LUN (in the request's order; each with its own status), or
 * a negative errno for the job (-ETIMEDOUT, -ECONNREFUSED, -EACCES: login refused, -EIO) and no infos.  Called
 * from the loop, never from inside vpd_probe; infos are valid only during the call. */
typedef void (*vpd_done_cb)(void *arg, int rc, const struct vpd_lun_info *infos, size_t n);

struct vpd_job;
/* Starts a job: 0 and *job (a handle for vpd_cancel) when it is on its way, else a negative errno (done is then
 * never called). */
int vpd_probe(const struct vpd_request *req, vpd_done_cb done, void *arg, struct vpd_job **job);
/* Stops a job that has not called done yet; done is not called.  Not from inside done. */
void vpd_cancel(struct vpd_job *job);
/* Jobs in flight (tests, shutdown). */
unsigned int vpd_pending(void);

/* ---- parsers (pure; exposed for unit tests) ---- */
/* Standard INQUIRY data: device type, vendor and product.  0 or -EINVAL (too short). */
int vpd_parse_inquiry(const uint8_t *d, size_t len, struct vpd_lun_info *out);
/* VPD page 0x83: the NAA designator of the logical unit (the most global one: IEEE registered before locally
 * assigned), else the first EUI-64 one.  0 found, -ENOENT none, -EINVAL malformed page. */
int vpd_parse_designator(const uint8_t *d, size_t len, struct vpd_lun_info *out);
/* READ CAPACITY(16) data: size in octets and block length.  0 or -EINVAL. */
int vpd_parse_capacity16(const uint8_t *d, size_t len, struct vpd_lun_info *out);

#endif
