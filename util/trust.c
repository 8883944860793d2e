/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who may change a directory or serve a socket we use: the checks behind
 * the state root, the runtime directories and the monitor sockets.  The
 * rule is OpenSSH's StrictModes (auth.c secure_filename): a path is only
 * as safe as every directory above it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/util.h"

int qc_dir_stat_check(const struct stat *st, uid_t uid, enum qc_dir_role role, const char *what,
	const char *path, const char *fix, struct qc_error *err)
{
	unsigned mode = (unsigned) (st->st_mode & 07777);

	if (S_ISLNK(st->st_mode))
		return qc_error_set(err, ELOOP, "%s '%s' is a symbolic link: %s", what, path, fix);
	if (!S_ISDIR(st->st_mode))
		return qc_error_set(
			err, ENOTDIR, "%s '%s' is not a directory: %s", what, path, fix);
	if (role == QC_DIR_ANCESTOR) {
		/* Root's directories are as trusted as qemuctl itself. */
		if (st->st_uid != uid && st->st_uid != 0)
			return qc_error_set(err, EPERM,
				"%s: directory '%s' on its path is owned by uid %u, neither you "
				"(uid %u) nor root, who could replace what is in it: %s",
				what, path, (unsigned) st->st_uid, (unsigned) uid, fix);
		/*
		 * Sticky (/tmp): others may add entries but not rename or remove
		 * ours; one of theirs fails the owner check of the next level.
		 */
		if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX))
			return qc_error_set(err, EPERM,
				"%s: directory '%s' on its path is writable by group or others "
				"(mode %04o), who could replace what is in it: run chmod go-w "
				"%s, or %s",
				what, path, mode, path, fix);
		return 0;
	}
	if (st->st_uid != uid)
		return qc_error_set(err, EPERM, "%s '%s' is owned by uid %u, not you (uid %u): %s",
			what, path, (unsigned) st->st_uid, (unsigned) uid, fix);
	if (role == QC_DIR_PRIVATE && (st->st_mode & 077))
		return qc_error_set(err, EPERM,
			"%s '%s' has mode %04o, open to group or others; it must be 0700: "
			"run chmod 0700 %s",
			what, path, mode, path);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return qc_error_set(err, EPERM,
			"%s '%s' is writable by group or others (mode %04o); run chmod 0700 %s",
			what, path, mode, path);
	return 0;
}

/*
 * Every directory from / down to path's parent, with lstat; path itself
 * with role.  Directories above path are named "<what> <path>: directory
 * ... on its path" (role QC_DIR_ANCESTOR: what names the target itself).
 */
static int check_chain(const char *path, uid_t uid, enum qc_dir_role role, const char *what,
	const char *fix, struct qc_error *err)
{
	cleanup_free char *p = qc_xstrdup(path);
	cleanup_free char *up =
		role == QC_DIR_ANCESTOR ? qc_xstrdup(what) : qc_xasprintf("%s '%s'", what, path);
	struct stat st;
	char *s = p;
	int rc;

	if (lstat("/", &st) < 0)
		return qc_error_errno(err, errno, "%s '%s': /", what, path);
	if ((rc = qc_dir_stat_check(&st, uid, QC_DIR_ANCESTOR, up, "/", fix, err)) < 0)
		return rc;
	for (;;) {
		bool last;
		char save;

		while (*s == '/')
			s++;
		s = strchrnul(s, '/');
		last = !s[strspn(s, "/")];
		save = *s;
		*s = 0;
		if (lstat(p, &st) < 0)
			return qc_error_errno(err, errno, "%s '%s': %s", what, path, p);
		/* A link is as trusted as the directory holding it (checked just before). */
		if (!S_ISLNK(st.st_mode) || (last && role != QC_DIR_ANCESTOR))
			if ((rc = qc_dir_stat_check(&st, uid, last ? role : QC_DIR_ANCESTOR,
				     last ? what : up, p, fix, err)) < 0)
				return rc;
		if (last)
			return 0;
		*s = save;
	}
}

int qc_path_check_trusted(const char *path, uid_t uid, enum qc_dir_role role, const char *what,
	const char *fix, struct qc_error *err)
{
	char real[PATH_MAX];
	int rc;

	if (!path || path[0] != '/')
		return qc_error_set(
			err, EINVAL, "%s '%s': not an absolute path", what, path ? path : "");
	/* root: "/" is the whole chain */
	if (!path[strspn(path, "/")]) {
		struct stat st;

		if (lstat("/", &st) < 0)
			return qc_error_errno(err, errno, "%s '/'", what);
		return qc_dir_stat_check(&st, uid, role, what, "/", fix, err);
	}
	/* As written (who placed each link), then as resolved (where they lead). */
	if ((rc = check_chain(path, uid, role, what, fix, err)) < 0)
		return rc;
	if (!realpath(path, real))
		return qc_error_errno(err, errno, "%s '%s': realpath", what, path);
	if (strcmp(real, path) != 0 && (rc = check_chain(real, uid, role, what, fix, err)) < 0)
		return rc;
	return 0;
}

int qc_open_private_dir(int dirfd, const char *name, const char *path, bool create,
	const char *what, const char *fix, int *ret_fd, struct qc_error *err)
{
	cleanup_close int fd = -1;
	struct stat st;
	int rc;

	/* mkdir never follows a link nor reuses what is there: the open then checks it. */
	if (create && mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return qc_error_errno(err, errno, "%s '%s': mkdir", what, path);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		/* A link, a file, someone else's 0700 directory (EACCES): say which. */
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			(rc = qc_dir_stat_check(
				 &st, geteuid(), QC_DIR_PRIVATE, what, path, fix, err)) < 0)
			return rc;
		return qc_error_errno(err, e, "%s '%s'", what, path);
	}
	if (fstat(fd, &st) < 0)
		return qc_error_errno(err, errno, "%s '%s': fstat", what, path);
	if ((rc = qc_dir_stat_check(&st, geteuid(), QC_DIR_PRIVATE, what, path, fix, err)) < 0)
		return rc;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* The user confined QEMUs run as, when the caller is root (0 = none). */
static uid_t qemu_peer_uid;

void qc_unix_peer_allow(uid_t uid)
{
	qemu_peer_uid = uid;
}

int qc_unix_peer_check(int fd, const char *what, const char *path, struct qc_error *err)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	char also[64] = "";

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return qc_error_errno(err, errno, "%s '%s': SO_PEERCRED", what, path);
	/*
	 * The credentials of whoever last called listen(): qemuctl-monitor
	 * makes the sockets as the caller, but QEMU, handed one as an fd,
	 * calls listen() on it again, so its own user shows when confined.
	 */
	if (uc.uid == geteuid() || (qemu_peer_uid != 0 && uc.uid == qemu_peer_uid))
		return 0;
	if (qemu_peer_uid != 0)
		snprintf(also, sizeof(also), " nor QEMU's user (uid %u)", (unsigned) qemu_peer_uid);
	return qc_error_set(err, EPERM,
		"%s '%s' is served by uid %u (pid %d), not by you (uid %u)%s: refusing to talk "
		"to it; another user took over the runtime directory: stop that user's process "
		"and remove %s",
		what, path, (unsigned) uc.uid, (int) uc.pid, (unsigned) geteuid(), also, path);
}

int qc_unix_listen(const char *path, int type_flags, int backlog, struct qc_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return qc_error_set(err, QC_ERR_INVALID, "socket path too long: '%s'", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	(void) unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | type_flags, 0);
	if (fd < 0)
		return qc_error_errno(err, errno, "socket");
	/* 0600 before anyone can connect: a connect fails until listen() */
	if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
		listen(fd, backlog) < 0) {
		int e = errno;

		close(fd);
		return qc_error_errno(err, e, "listen on '%s'", path);
	}
	return fd;
}
