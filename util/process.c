/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Processes around a spawn (util/spawn.c): finding a program in PATH,
 * pidfds, wait statuses as text, reaping, and access checks made as
 * another user in a forked child.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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
