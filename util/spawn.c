/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Starting child processes: argv arrays (never a shell), an explicit fd
 * map, every other fd closed on exec, a failure before exec reported to the
 * parent through a close-on-exec pipe.  Running one to completion with its
 * output captured is util/spawn_run.c; pidfds and reaping util/process.c.
 *
 * Everything the child needs (exec path, argv, envp, fd map, scratch
 * arrays) is computed before fork(): between fork() and execve() only
 * async-signal-safe calls are allowed, because libcurl or the caller may run
 * threads and the child inherits their locks in whatever state they were.
 */
#include "config.h"

#include <dirent.h>
#include <grp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/util.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

/* What the child reports through the error pipe when it cannot exec. */
enum { STAGE_SETUP = 1, STAGE_CHDIR, STAGE_FDS, STAGE_USER, STAGE_ROOT_BACK, STAGE_EXEC };
struct child_report {
	int stage;
	int err;
};

/* Everything the child uses, prepared by the parent. */
struct plan {
	const char *path; /* what execve() gets */
	char *const *argv; /* argv[0] unchanged, like execvp() */
	char *const *envp;
	const char *cwd;
	size_t n; /* entries in src/dst/tmp: 3 stdio + the caller's map */
	int *src; /* fds in the parent */
	int *dst; /* fd numbers in the child */
	int *tmp; /* scratch for the child */
	int max_dst;
	int report_fd; /* write end of the CLOEXEC error pipe */
	bool new_session;
	bool set_user, no_new_privs;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t n_groups;
	int fallback; /* tests: 1 = no close_range, 2 = neither close_range nor /proc */
	int pdeathsig;
	pid_t parent;
};

/* ------------------------------------------------------------------ child */

static void __attribute__((noreturn)) child_fail(int fd, int stage, int e)
{
	struct child_report rep = {.stage = stage, .err = e};
	ssize_t r = write(fd, &rep, sizeof(rep));

	(void) r;
	_exit(stage == STAGE_EXEC && e == ENOENT ? 127 : 126);
}

/*
 * Mark every fd >= 3 close-on-exec without close_range (kernel < 5.11):
 * walk /proc/self/fd with raw getdents64 (opendir() may allocate), or
 * failing that, every number up to the fd limit.
 */
static void mark_cloexec_fallback(bool use_proc)
{
	struct linux_dirent64 {
		uint64_t d_ino;
		int64_t d_off;
		unsigned short d_reclen;
		unsigned char d_type;
		char d_name[];
	};
	char buf[4096] __attribute__((aligned(8)));
	int dfd = use_proc ? open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	if (dfd >= 0) {
		for (;;) {
			long n = syscall(SYS_getdents64, dfd, buf, sizeof(buf));
			if (n <= 0)
				break;
			for (long off = 0; off < n;) {
				struct linux_dirent64 *de = (struct linux_dirent64 *) (buf + off);
				int fd = 0;
				const char *p = de->d_name;

				off += de->d_reclen;
				if (*p < '0' || *p > '9')
					continue;
				for (; *p >= '0' && *p <= '9'; p++)
					fd = fd * 10 + (*p - '0');
				if (fd >= 3 && fd != dfd)
					(void) fcntl(fd, F_SETFD, FD_CLOEXEC);
			}
		}
		close(dfd);
		return;
	}
	struct rlimit rl;
	int max = 65536;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		rl.rlim_cur < (rlim_t) max)
		max = (int) rl.rlim_cur;
	for (int fd = 3; fd < max; fd++)
		(void) fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void __attribute__((noreturn)) child_exec(struct plan *p)
{
	/*
	 * All zeroes is SIG_DFL, no flags and an empty mask in the kernel's
	 * struct sigaction of every architecture (whatever its field order).
	 */
	static const unsigned long dfl[16];
	sigset_t none;
	int rep;

	/*
	 * Handlers and ignored signals of the parent must not leak into the
	 * program.  The raw syscall also resets 32 and 33, which glibc's
	 * sigaction() refuses to touch (GNU make, for one, leaves them ignored).
	 */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void) syscall(SYS_rt_sigaction, sig, dfl, NULL, (size_t) (NSIG - 1) / 8);
	sigemptyset(&none);
	(void) sigprocmask(SIG_SETMASK, &none, NULL);

	/* Keep the error pipe clear of every destination number. */
	rep = fcntl(p->report_fd, F_DUPFD_CLOEXEC, p->max_dst + 1);
	if (rep < 0)
		_exit(126);

	if (p->new_session && setsid() < 0)
		child_fail(rep, STAGE_SETUP, errno);
	if (p->cwd && chdir(p->cwd) < 0)
		child_fail(rep, STAGE_CHDIR, errno);

	/*
	 * Move every source above all destinations first, so that no dup2()
	 * overwrites a source still to be copied (e.g. {5->3, 3->4}).  This
	 * also turns src == dst into a real dup2(), which clears FD_CLOEXEC.
	 */
	for (size_t i = 0; i < p->n; i++) {
		p->tmp[i] = fcntl(p->src[i], F_DUPFD_CLOEXEC, p->max_dst + 1);
		if (p->tmp[i] < 0)
			child_fail(rep, STAGE_FDS, errno);
	}
	/* Anything inherited that nobody asked for is closed by execve(). */
	if (p->fallback || syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		mark_cloexec_fallback(p->fallback < 2);
	for (size_t i = 0; i < p->n; i++) {
		if (dup2(p->tmp[i], p->dst[i]) < 0)
			child_fail(rep, STAGE_FDS, errno);
	}
	/*
	 * Every fd is in place: now the drop.  Groups first (setgroups and
	 * setgid need the privilege setuid gives up).
	 */
	if (p->set_user) {
		if (setgroups(p->n_groups, p->groups) < 0 || setgid(p->gid) < 0 ||
			setuid(p->uid) < 0)
			child_fail(rep, STAGE_USER, errno);
		if (p->uid != 0 && setuid(0) == 0)
			child_fail(rep, STAGE_ROOT_BACK, EPERM);
	}
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(rep, STAGE_SETUP, errno);
	/* After the uid change, which clears the parent-death signal. */
	if (p->pdeathsig) {
		if (prctl(PR_SET_PDEATHSIG, p->pdeathsig) < 0)
			child_fail(rep, STAGE_SETUP, errno);
		/* The parent may have died before prctl(): nobody would signal us. */
		if (getppid() != p->parent)
			_exit(126);
	}
	execve(p->path, p->argv, p->envp);
	child_fail(rep, STAGE_EXEC, errno);
}

/* ----------------------------------------------------------------- parent */

/*
 * Tests only (not in util.h): exercise the pre-5.11 paths without
 * close_range() on this kernel.
 */
static int test_fallback;
void qc_spawn_test_set_fallback(int mode);
void qc_spawn_test_set_fallback(int mode)
{
	test_fallback = mode;
}
static void close_fd(int *fd)
{
	qc_closep(fd);
}

static const char *argv0(const struct qc_spawn_opts *o)
{
	return o->argv && o->argv[0] ? o->argv[0] : "(null)";
}

/* Bookkeeping for the fds the parent opens for the child. */
struct child_fds {
	int devnull;
	int ours[3]; /* parent ends of capture pipes */
	int theirs[3]; /* child ends (closed in the parent after fork) */
};

static void child_fds_close(struct child_fds *c)
{
	close_fd(&c->devnull);
	for (int i = 0; i < 3; i++) {
		close_fd(&c->ours[i]);
		close_fd(&c->theirs[i]);
	}
}

static int stdio_source(const struct qc_spawn_opts *o, int i, struct child_fds *c, int *ret_src,
	struct qc_error *err)
{
	static const char *const names[] = {"stdin", "stdout", "stderr"};
	enum qc_stdio mode = i == 0 ? o->in : i == 1 ? o->out : o->errout;
	int fd = i == 0 ? o->in_fd : i == 1 ? o->out_fd : o->err_fd;
	int pfd[2];

	switch (mode) {
	case QC_STDIO_INHERIT:
		/* A closed fd in the parent becomes /dev/null rather than a failure. */
		if (fcntl(i, F_GETFD) >= 0) {
			*ret_src = i;
			return 0;
		}
		/* fall through */
	case QC_STDIO_NULL:
		if (c->devnull < 0) {
			c->devnull = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
			if (c->devnull < 0)
				return qc_error_errno(err, errno, "%s: open /dev/null", argv0(o));
		}
		*ret_src = c->devnull;
		return 0;
	case QC_STDIO_CAPTURE:
		if (pipe2(pfd, O_CLOEXEC) < 0)
			return qc_error_errno(err, errno, "%s: pipe for %s", argv0(o), names[i]);
		c->ours[i] = i == 0 ? pfd[1] : pfd[0];
		c->theirs[i] = i == 0 ? pfd[0] : pfd[1];
		*ret_src = c->theirs[i];
		return 0;
	case QC_STDIO_FD:
		if (fd < 0 || fcntl(fd, F_GETFD) < 0)
			return qc_error_set(
				err, EBADF, "%s: %s: fd %d is not open", argv0(o), names[i], fd);
		*ret_src = fd;
		return 0;
	}
	return qc_error_set(err, EINVAL, "%s: bad mode %d for %s", argv0(o), (int) mode, names[i]);
}

/*
 * Fork and exec.  On success *ret_pid is the child and ret_stdio the parent
 * ends of the capture pipes; on failure nothing is left behind (child
 * reaped, fds closed) and err says why, including exec failures reported
 * by the child through the error pipe.
 */
int qc_spawn_fork(
	const struct qc_spawn_opts *o, pid_t *ret_pid, int ret_stdio[3], struct qc_error *err)
{
	struct child_fds c = {.devnull = -1, .ours = {-1, -1, -1}, .theirs = {-1, -1, -1}};
	cleanup_free char *path = NULL;
	cleanup_free int *fdmem = NULL;
	struct plan p = {0};
	struct child_report rep;
	sigset_t all, old;
	int pipefd[2] = {-1, -1};
	ssize_t n;
	pid_t pid;
	int r;

	if (!o->argv || !o->argv[0] || !o->argv[0][0])
		return qc_error_set(err, EINVAL, "spawn: empty argv");
	path = qc_find_program(o->argv[0]);
	if (!path) {
		if (strchr(o->argv[0], '/'))
			path = qc_xstrdup(o->argv[0]); /* execve() will say why */
		else
			return qc_error_set(err, ENOENT,
				"cannot execute '%s': No such file or directory (not found in "
				"PATH)",
				o->argv[0]);
	}

	p.path = path;
	p.argv = (char *const *) o->argv;
	p.envp = o->envp ? (char *const *) o->envp : environ;
	p.cwd = o->cwd;
	p.n = 3 + o->n_fds;
	p.new_session = o->new_session;
	p.pdeathsig = o->pdeathsig;
	p.set_user = o->set_user;
	p.uid = o->uid;
	p.gid = o->gid;
	p.groups = o->groups;
	p.n_groups = o->n_groups;
	p.no_new_privs = o->no_new_privs;
	p.fallback = test_fallback;
	p.parent = getpid();
	fdmem = qc_xzalloc(3 * p.n * sizeof(int));
	p.src = fdmem;
	p.dst = fdmem + p.n;
	p.tmp = fdmem + 2 * p.n;
	p.max_dst = 2;

	for (size_t i = 0; i < o->n_fds; i++) {
		const struct qc_fdmap *m = &o->fds[i];
		if (m->dst < 3)
			return qc_error_set(err, EINVAL,
				"%s: fd map: destination %d is stdio; use the in/out/errout "
				"options",
				argv0(o), m->dst);
		if (m->src < 0 || fcntl(m->src, F_GETFD) < 0)
			return qc_error_set(
				err, EBADF, "%s: fd map: fd %d is not open", argv0(o), m->src);
		for (size_t k = 0; k < i; k++)
			if (o->fds[k].dst == m->dst)
				return qc_error_set(err, EINVAL,
					"%s: fd map: destination %d appears twice", argv0(o),
					m->dst);
		p.src[3 + i] = m->src;
		p.dst[3 + i] = m->dst;
		if (m->dst > p.max_dst)
			p.max_dst = m->dst;
	}
	for (int i = 0; i < 3; i++) {
		if ((r = stdio_source(o, i, &c, &p.src[i], err)) < 0)
			goto fail;
		p.dst[i] = i;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		r = qc_error_errno(err, errno, "%s: pipe", argv0(o));
		goto fail;
	}
	p.report_fd = pipefd[1];

	/* No handler of ours may run in the child before it resets them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		child_exec(&p);
	r = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close_fd(&pipefd[1]);
	if (pid < 0) {
		r = qc_error_errno(err, r, "%s: fork", argv0(o));
		goto fail;
	}
	for (int i = 0; i < 3; i++)
		close_fd(&c.theirs[i]);
	close_fd(&c.devnull);

	/* EOF: execve() succeeded (the pipe was close-on-exec). */
	do
		n = read(pipefd[0], &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	close_fd(&pipefd[0]);
	if (n == (ssize_t) sizeof(rep)) {
		qc_pid_reap(pid, NULL);
		switch (rep.stage) {
		case STAGE_EXEC:
			r = qc_error_errno(err, rep.err, "cannot execute '%s'", o->argv[0]);
			break;
		case STAGE_CHDIR:
			r = qc_error_errno(err, rep.err, "%s: cannot change directory to '%s'",
				o->argv[0], o->cwd);
			break;
		case STAGE_FDS:
			r = qc_error_errno(
				err, rep.err, "%s: cannot set up file descriptors", o->argv[0]);
			break;
		case STAGE_USER:
			r = qc_error_errno(err, rep.err, "%s: cannot change to uid %u gid %u",
				o->argv[0], (unsigned) o->uid, (unsigned) o->gid);
			break;
		case STAGE_ROOT_BACK:
			r = qc_error_set(err, EPERM,
				"%s: uid %u can become root again after the drop", o->argv[0],
				(unsigned) o->uid);
			break;
		default:
			r = qc_error_errno(
				err, rep.err, "%s: cannot set up the child process", o->argv[0]);
			break;
		}
		goto fail;
	}
	if (n != 0) {
		/* Died before reporting (e.g. out of memory): still tell the caller. */
		int status = 0;
		char ws[64];
		qc_pid_reap(pid, &status);
		qc_format_wait_status(status, ws, sizeof(ws));
		r = qc_error_set(
			err, QC_ERR_CHILD, "%s: the child failed before exec (%s)", o->argv[0], ws);
		goto fail;
	}
	*ret_pid = pid;
	for (int i = 0; i < 3; i++)
		ret_stdio[i] = c.ours[i];
	return 0;
fail:
	close_fd(&pipefd[0]);
	close_fd(&pipefd[1]);
	child_fds_close(&c);
	return r;
}
int qc_spawn_start(
	const struct qc_spawn_opts *o, pid_t *ret_pid, int *ret_pidfd, struct qc_error *err)
{
	int r, pidfd = -1, stdio[3];
	pid_t pid;

	if (o->in == QC_STDIO_CAPTURE || o->out == QC_STDIO_CAPTURE ||
		o->errout == QC_STDIO_CAPTURE)
		return qc_error_set(err, EINVAL,
			"%s: qc_spawn_start cannot capture stdio; pass an fd or a file", argv0(o));
	if ((r = qc_spawn_fork(o, &pid, stdio, err)) < 0)
		return r;
	if (ret_pidfd) {
		pidfd = qc_pidfd_open(pid, err);
		if (pidfd < 0) {
			qc_pid_killp(&pid);
			return pidfd;
		}
		*ret_pidfd = pidfd;
	}
	*ret_pid = pid;
	return 0;
}
