/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Processes around a spawn (util/spawn.c): finding a program in PATH,
 * pidfds, wait statuses as text, reaping, and access checks made as
 * another user: decided here when the answer is the same for every user,
 * else in a forked child.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/util.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

char *qc_find_program(const char *name)
{
	const char *path = getenv("PATH");
	const char *p, *end;

	if (!name || !*name)
		return NULL;
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? qc_xstrdup(name) : NULL;
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (p = path;; p = end + 1) {
		struct stat st;
		cleanup_free char *cand = NULL;

		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		if (end == p) /* an empty entry means the current directory */
			cand = qc_xasprintf("./%s", name);
		else
			cand = qc_xasprintf("%.*s/%s", (int) (end - p), p, name);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
			return TAKE_PTR(cand);
		if (*end == '\0')
			break;
	}
	return NULL;
}

int qc_pidfd_open(pid_t pid, struct qc_error *err)
{
	long fd = syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0)
		return qc_error_errno(err, errno, "pidfd_open %d", (int) pid);
	/* pidfds are close-on-exec from birth. */
	return (int) fd;
}

int qc_pidfd_send_signal(int pidfd, int sig, struct qc_error *err)
{
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		return qc_error_errno(err, errno, "send signal %d", sig);
	return 0;
}

int qc_pidfd_send_value(int pidfd, int sig, int value, struct qc_error *err)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = value;
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, &si, 0) < 0)
		return qc_error_errno(err, errno, "send signal %d", sig);
	return 0;
}

int qc_pidfd_wait(int pidfd, int timeout_ms)
{
	int64_t deadline = qc_deadline_ms(timeout_ms);

	for (;;) {
		struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
		int r = poll(&pfd, 1, qc_time_left_ms(deadline));
		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

void qc_format_wait_status(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "signal %d (%s)%s", WTERMSIG(status),
			strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, size, "wait status 0x%x", (unsigned) status);
}

void qc_pid_reap(pid_t pid, int *ret_status)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ret_status)
		*ret_status = status;
}

void qc_pid_killp(pid_t *pid)
{
	if (*pid > 0) {
		int saved = errno;
		(void) kill(*pid, SIGKILL);
		qc_pid_reap(*pid, NULL);
		errno = saved;
		*pid = -1;
	}
}

/*
 * A filesystem whose permission checks this kernel makes from the inode's
 * mode bits and POSIX ACL alone.  Not FUSE (its daemon may decide per
 * caller), NFS, CIFS or 9p (the server decides), overlayfs (the lower
 * inode is checked too, with the mounter's credentials), proc (per task).
 */
static bool mode_bits_fs(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return false;
	switch ((uint32_t) sf.f_type) {
	case EXT4_SUPER_MAGIC: /* ext2 and ext3 too */
	case XFS_SUPER_MAGIC:
	case BTRFS_SUPER_MAGIC:
	case TMPFS_MAGIC:
		return true;
	default:
		return false;
	}
}

/* No access ACL on fd's inode (O_PATH is enough): ENODATA, or none supported. */
static bool no_access_acl(int fd)
{
	char path[40];

	/* fgetxattr() refuses O_PATH descriptors; the /proc link reaches the inode */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return getxattr(path, "system.posix_acl_access", NULL, 0) < 0 &&
	       (errno == ENODATA || errno == EOPNOTSUPP);
}

/*
 * Encrypted (fscrypt): with a key in the caller's keyring (policy v1) the
 * names and contents are readable for some users only.
 */
static bool encrypted(int fd)
{
	struct statx sx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_TYPE, &sx) < 0)
		return true;
	return (sx.stx_attributes & STATX_ATTR_ENCRYPTED) != 0; /* ext4's own; the others' never */
}

/* fd's inode grants all of want (0444 or 0111) to owner, group and others alike. */
static bool grants_anyone(int fd, const struct stat *st, mode_t want)
{
	return (st->st_mode & want) == want && mode_bits_fs(fd) && !encrypted(fd) &&
	       no_access_acl(fd);
}

/* "/proc/self/fd/N": N, else -1. */
static int proc_self_fd(const char *path)
{
	static const char prefix[] = "/proc/self/fd/";
	uint64_t n;

	if (!qc_str_has_prefix(path, prefix) ||
		qc_parse_uint(NULL, path + sizeof(prefix) - 1, 0, INT_MAX, &n, NULL) < 0)
		return -1;
	return (int) n;
}

bool qc_access_anyone(const char *path, int flags)
{
	bool want_dir = flags & O_DIRECTORY;
	cleanup_close int cur = -1;
	struct stat st, via;
	const char *p = path;
	int fd;

	if ((flags & ~O_DIRECTORY) != O_RDONLY || !path || !*path)
		return false;
	if ((fd = proc_self_fd(path)) >= 0) {
		/* the inode alone, reached through /proc as the child would */
		if (fstat(fd, &st) < 0 || stat(path, &via) < 0 || st.st_dev != via.st_dev ||
			st.st_ino != via.st_ino)
			return false;
		return (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)) &&
		       grants_anyone(fd, &st, 0444);
	}
	/* a trailing slash makes the kernel want a directory */
	if (!want_dir && path[strlen(path) - 1] == '/')
		return false;
	cur = open(*p == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0 || fstat(cur, &st) < 0)
		return false;
	for (;;) {
		char name[NAME_MAX + 1];
		size_t len;
		int next;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		len = strcspn(p, "/");
		if (len > NAME_MAX)
			return false;
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		/* ".." may leave a mount or a chroot: not worth deciding here */
		if (strcmp(name, "..") == 0)
			return false;
		/* looking a name up needs search permission on the directory */
		if (!S_ISDIR(st.st_mode) || !grants_anyone(cur, &st, 0111))
			return false;
		next = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			return false;
		close(cur);
		cur = next;
		/*
		 * A symlink: whether it may be followed can depend on who
		 * follows it (fs.protected_symlinks), and where it leads is
		 * another walk.  The forked check decides.
		 */
		if (fstat(cur, &st) < 0 || S_ISLNK(st.st_mode))
			return false;
	}
	return (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)) &&
	       grants_anyone(cur, &st, 0444);
}

int qc_access_as(uid_t uid, gid_t gid, const char *const *paths, const int *flags, size_t n,
	size_t *ret_index, int *ret_errno, struct qc_error *err)
{
	struct {
		int index, err;
	} rep = {-1, 0};
	sigset_t all, old;
	int pipefd[2], status = 0;
	ssize_t got;
	pid_t pid;
	size_t open_to_all = 0;

	/* Open for anyone: no need to ask as uid:gid (a fork the caller waits on). */
	while (open_to_all < n && qc_access_anyone(paths[open_to_all], flags[open_to_all]))
		open_to_all++;
	if (open_to_all == n)
		return 0;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return qc_error_errno(err, errno, "access check: pipe");
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0) {
		/* Only async-signal-safe calls: the parent may run threads. */
		close(pipefd[0]);
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
			rep.index = -2;
			rep.err = errno;
		}
		for (size_t i = 0; rep.index == -1 && i < n; i++) {
			int fd = open(paths[i], flags[i] | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

			if (fd < 0) {
				rep.index = (int) i;
				rep.err = errno;
			} else {
				close(fd);
			}
		}
		if (write(pipefd[1], &rep, sizeof(rep)) != (ssize_t) sizeof(rep))
			_exit(1);
		_exit(0);
	}
	int e = errno;

	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		return qc_error_errno(err, e, "access check: fork");
	}
	do
		got = read(pipefd[0], &rep, sizeof(rep));
	while (got < 0 && errno == EINTR);
	close(pipefd[0]);
	qc_pid_reap(pid, &status);
	if (got != (ssize_t) sizeof(rep))
		return qc_error_set(err, QC_ERR_CHILD, "access check as uid %u: the child died",
			(unsigned) uid);
	if (rep.index == -2)
		return qc_error_errno(err, rep.err, "access check: cannot change to uid %u gid %u",
			(unsigned) uid, (unsigned) gid);
	if (rep.index >= 0) {
		*ret_index = (size_t) rep.index;
		*ret_errno = rep.err;
		return 1;
	}
	return 0;
}
