/* sp_chap.c: the CHAP credentials file shared by the balance engine (writer) and the data plane (reader). */
#include "iscsi/sp_chap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void sp_chap_wipe_mem(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

void sp_chap_wipe(struct sp_chap *c)
{
	sp_chap_wipe_mem(c, sizeof(*c));
}

int sp_chap_file_read(const char *path, struct sp_chap *c, char *why, size_t whylen)
{
	char buf[4 * (SP_CHAP_MAX + 16) + 64], *line, *save = NULL;
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd, rc = 0, lineno = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		close(fd);
		snprintf(why, whylen, "%s: must be a regular file that only its owner may read (mode 0600)", path);
		return -EPERM;
	}
	while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	for (line = strtok_r(buf, "\n", &save); line && !rc; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '='), *dst = NULL;

		lineno++;
		if (line[0] == '#' || !line[0])
			continue;
		if (eq) {
			*eq = '\0';
			if (!strcmp(line, "user"))
				dst = c->user;
			else if (!strcmp(line, "secret"))
				dst = c->secret;
			else if (!strcmp(line, "target_user"))
				dst = c->target_user;
			else if (!strcmp(line, "target_secret"))
				dst = c->target_secret;
		}
		/* The message names the line and the key, never a value. */
		if (!dst) {
			snprintf(why, whylen, "%s:%d: want user=, secret=, target_user= or target_secret=", path,
			         lineno);
			rc = -EINVAL;
		} else if (strlen(eq + 1) > SP_CHAP_MAX) {
			snprintf(why, whylen, "%s:%d: %s longer than %d bytes", path, lineno, line, SP_CHAP_MAX);
			rc = -EINVAL;
		} else {
			snprintf(dst, SP_CHAP_MAX + 1, "%s", eq + 1);
		}
	}
	sp_chap_wipe_mem(buf, sizeof(buf));
	return rc;
}

int sp_chap_file_write(const char *path, const struct sp_chap *c)
{
	char tmp[4096], buf[4 * (SP_CHAP_MAX + 16) + 64];
	int fd, n, rc = 0;

	if (strchr(c->user, '\n') || strchr(c->secret, '\n') || strchr(c->target_user, '\n') ||
	    strchr(c->target_secret, '\n'))
		return -EINVAL;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	n = snprintf(buf, sizeof(buf), "user=%s\nsecret=%s\n", c->user, c->secret);
	if (c->target_user[0])
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "target_user=%s\ntarget_secret=%s\n", c->target_user,
		              c->target_secret);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		sp_chap_wipe_mem(buf, sizeof(buf));
		return -errno;
	}
	if (write(fd, buf, (size_t)n) != n || fsync(fd) < 0)
		rc = errno ? -errno : -EIO;
	sp_chap_wipe_mem(buf, sizeof(buf));
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}
