/* login_result.h: the login outcomes sanagent reports (sanLoginLastResult), from iSCSI login status and failure kinds.
 */
#ifndef SP_LOGIN_RESULT_H
#define SP_LOGIN_RESULT_H

/* Seed 001's failure kinds (connection failed, initiator error, target not
 * found, authentication failure, login failed, service unavailable) over the
 * login status classes of RFC 7143 section 11.13.5.  Same numbers as the
 * SanLoginResult TC in SANAGENT-SESSION-MIB. */
enum sp_login_result {
	SP_LOGIN_NONE = 1,                /* no attempt yet */
	SP_LOGIN_SUCCESS = 2,             /* class 0 */
	SP_LOGIN_CONNECTION_FAILED = 3,   /* TCP connect refused, reset or timed out; login timed out */
	SP_LOGIN_INITIATOR_ERROR = 4,     /* class 2 not listed below (0x0200, 0x0205, 0x0207-0x020b) */
	SP_LOGIN_TARGET_NOT_FOUND = 5,    /* 0x0203 not found, 0x0204 removed */
	SP_LOGIN_AUTH_FAILURE = 6,        /* 0x0201, 0x0202, 0x0206, or the target failed mutual CHAP */
	SP_LOGIN_FAILED = 7,              /* anything else: protocol error, wrong LU (identity check) */
	SP_LOGIN_SERVICE_UNAVAILABLE = 8, /* class 3: target error, service unavailable, out of resources */
	SP_LOGIN_REDIRECTED = 9,          /* class 1 answered to us (only the discovery client sees it) */
};

/* status: a login response's Status-Class << 8 | Status-Detail. */
static inline int sp_login_result_of_status(unsigned int status)
{
	switch (status >> 8) {
	case 0: return SP_LOGIN_SUCCESS;
	case 1: return SP_LOGIN_REDIRECTED;
	case 2:
		switch (status & 0xff) {
		case 0x01:
		case 0x02:
		case 0x06: return SP_LOGIN_AUTH_FAILURE;
		case 0x03:
		case 0x04: return SP_LOGIN_TARGET_NOT_FOUND;
		default: return SP_LOGIN_INITIATOR_ERROR;
		}
	case 3: return SP_LOGIN_SERVICE_UNAVAILABLE;
	default: return SP_LOGIN_FAILED;
	}
}

#endif
