/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Child processes: argv arrays (never a shell), an explicit fd map, every
 * other fd closed on exec, stdout/stderr captured in one poll() loop with a
 * pidfd and a monotonic deadline.
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

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define DEFAULT_CAPTURE_MAX (1024 * 1024)
#define TAIL_CHARS 400

extern char **environ;

/* What the child reports through the error pipe when it cannot exec. */
enum { STAGE_SETUP = 1, STAGE_CHDIR, STAGE_FDS, STAGE_EXEC };
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
	int fallback; /* tests: 1 = no close_range, 2 = neither close_range nor /proc */
	int pdeathsig;
	pid_t parent;
};

/* A started child seen from the parent. */
struct started {
	pid_t pid;
	int in_w, out_r, err_r; /* parent ends of captured stdio, -1 when absent */
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
	if (p->pdeathsig) {
		if (prctl(PR_SET_PDEATHSIG, p->pdeathsig) < 0)
			child_fail(rep, STAGE_SETUP, errno);
		/* The parent may have died before prctl(): nobody would signal us. */
		if (getppid() != p->parent)
			_exit(126);
	}
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

void qc_spawn_result_free(struct qc_spawn_result *r)
{
	if (!r)
		return;
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	r->out_len = r->err_len = 0;
}

static void close_fd(int *fd)
{
	qc_closep(fd);
}

static void reap(pid_t pid, int *ret_status)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ret_status)
		*ret_status = status;
}

static void kill_and_reap(pid_t pid)
{
	(void) kill(pid, SIGKILL);
	reap(pid, NULL);
}

void qc_pid_killp(pid_t *pid)
{
	if (*pid > 0) {
		int saved = errno;
		kill_and_reap(*pid);
		errno = saved;
		*pid = -1;
	}
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
 * Fork and exec.  On success *st holds the pid and the parent ends of the
 * capture pipes; on failure nothing is left behind (child reaped, fds
 * closed) and err says why, including exec failures reported by the child.
 */
static int spawn_common(const struct qc_spawn_opts *o, struct started *st, struct qc_error *err)
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
		reap(pid, NULL);
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
		reap(pid, &status);
		qc_format_wait_status(status, ws, sizeof(ws));
		r = qc_error_set(
			err, QC_ERR_CHILD, "%s: the child failed before exec (%s)", o->argv[0], ws);
		goto fail;
	}
	st->pid = pid;
	st->in_w = c.ours[0];
	st->out_r = c.ours[1];
	st->err_r = c.ours[2];
	return 0;
fail:
	close_fd(&pipefd[0]);
	close_fd(&pipefd[1]);
	child_fds_close(&c);
	return r;
}

/* write() that turns SIGPIPE into EPIPE without touching the process-wide disposition. */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old, pending;
	bool was_pending;
	ssize_t n;
	int e;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	n = write(fd, buf, len);
	e = errno;
	if (n < 0 && e == EPIPE && !was_pending) {
		struct timespec zero = {0, 0};
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return n;
}

/* Capture state of one output stream. */
struct capture {
	int fd;
	struct qc_buf buf;
	size_t max;
	bool keep_tail; /* stderr: the last bytes say why it failed */
};

static void capture_add(struct capture *c, const char *p, size_t n)
{
	if (!c->keep_tail) {
		if (c->buf.len < c->max)
			qc_buf_append(
				&c->buf, p, n < c->max - c->buf.len ? n : c->max - c->buf.len);
		return;
	}
	qc_buf_append(&c->buf, p, n);
	/* Trim only now and then, so a chatty child costs O(n), not O(n * max). */
	if (c->buf.len > 2 * c->max) {
		memmove(c->buf.data, c->buf.data + c->buf.len - c->max, c->max);
		c->buf.len = c->max;
		c->buf.data[c->buf.len] = '\0';
	}
}

static void capture_finish(struct capture *c)
{
	if (c->keep_tail && c->buf.len > c->max) {
		memmove(c->buf.data, c->buf.data + c->buf.len - c->max, c->max);
		c->buf.len = c->max;
		c->buf.data[c->buf.len] = '\0';
	}
}

/* Read what is there: 0 = more may come, 1 = EOF or error (fd closed). */
static int capture_read(struct capture *c)
{
	char chunk[65536];

	for (int rounds = 0; rounds < 16; rounds++) {
		ssize_t n = read(c->fd, chunk, sizeof(chunk));
		if (n > 0) {
			capture_add(c, chunk, (size_t) n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		close_fd(&c->fd);
		return 1;
	}
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int qc_spawn_run(const struct qc_spawn_opts *o, struct qc_spawn_result *res, struct qc_error *err)
{
	struct qc_spawn_result local;
	struct started st;
	size_t max = o->capture_max ? o->capture_max : DEFAULT_CAPTURE_MAX;
	struct capture out = {.fd = -1, .max = max},
		       errc = {.fd = -1, .max = max, .keep_tail = true};
	int64_t deadline = qc_deadline_ms(o->timeout_ms > 0 ? o->timeout_ms : -1);
	const char *input = o->input;
	size_t input_left = o->input_len;
	bool exited = false, timed_out = false;
	int in_w, pidfd = -1, status = 0, r;

	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	if ((r = spawn_common(o, &st, err)) < 0)
		return r;
	in_w = st.in_w;
	out.fd = st.out_r;
	errc.fd = st.err_r;
	if ((in_w >= 0 && set_nonblock(in_w) < 0) || (out.fd >= 0 && set_nonblock(out.fd) < 0) ||
		(errc.fd >= 0 && set_nonblock(errc.fd) < 0)) {
		r = qc_error_errno(err, errno, "%s: fcntl", argv0(o));
		goto fail;
	}
	if (in_w >= 0 && (!input || input_left == 0))
		close_fd(&in_w);
	/* Without pidfds (kernel < 5.3) fall back to polling waitpid() every 20 ms. */
	pidfd = (int) syscall(SYS_pidfd_open, st.pid, 0);

	while (!exited) {
		struct pollfd pfd[4];
		int np = 0, i_out = -1, i_err = -1, i_in = -1, i_pid = -1, timeout, pr;

		if (out.fd >= 0) {
			i_out = np;
			pfd[np++] = (struct pollfd){.fd = out.fd, .events = POLLIN};
		}
		if (errc.fd >= 0) {
			i_err = np;
			pfd[np++] = (struct pollfd){.fd = errc.fd, .events = POLLIN};
		}
		if (in_w >= 0) {
			i_in = np;
			pfd[np++] = (struct pollfd){.fd = in_w, .events = POLLOUT};
		}
		if (pidfd >= 0) {
			i_pid = np;
			pfd[np++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
		}
		timeout = qc_time_left_ms(deadline);
		if (timeout == 0) {
			(void) kill(st.pid, SIGKILL);
			reap(st.pid, &status);
			timed_out = true;
			break;
		}
		if (pidfd < 0 && (timeout < 0 || timeout > 20))
			timeout = 20;
		pr = poll(pfd, (nfds_t) np, timeout);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			r = qc_error_errno(err, errno, "%s: poll", argv0(o));
			goto fail;
		}
		if (i_out >= 0 && pfd[i_out].revents)
			capture_read(&out);
		if (i_err >= 0 && pfd[i_err].revents)
			capture_read(&errc);
		if (i_in >= 0 && pfd[i_in].revents) {
			size_t chunk = input_left < 65536 ? input_left : 65536;
			ssize_t n = write_nosigpipe(in_w, input, chunk);
			if (n > 0) {
				input += n;
				input_left -= (size_t) n;
				if (input_left == 0)
					close_fd(&in_w);
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				/* EPIPE: the child does not want the rest; that is its business. */
				close_fd(&in_w);
			}
		}
		if (i_pid >= 0 && pfd[i_pid].revents) {
			reap(st.pid, &status);
			exited = true;
		} else if (pidfd < 0) {
			pid_t w = waitpid(st.pid, &status, WNOHANG);
			if (w == st.pid)
				exited = true;
		}
	}
	/*
	 * The child is gone; what it wrote is in the pipes.  Read it without
	 * waiting for EOF: a grandchild may still hold the write ends.
	 */
	close_fd(&in_w);
	if (out.fd >= 0)
		capture_read(&out);
	if (errc.fd >= 0)
		capture_read(&errc);
	close_fd(&out.fd);
	close_fd(&errc.fd);
	close_fd(&pidfd);
	capture_finish(&errc);

	res->status = status;
	res->timed_out = timed_out;
	if (WIFSIGNALED(status)) {
		res->term_signal = WTERMSIG(status);
		res->exit_code = 128 + res->term_signal;
	} else {
		res->exit_code = WEXITSTATUS(status);
	}
	if (o->out == QC_STDIO_CAPTURE) {
		res->out_len = out.buf.len;
		res->out = qc_buf_steal(&out.buf);
	}
	if (o->errout == QC_STDIO_CAPTURE) {
		res->err_len = errc.buf.len;
		res->err = qc_buf_steal(&errc.buf);
	}
	qc_buf_free(&out.buf);
	qc_buf_free(&errc.buf);
	if (res == &local)
		qc_spawn_result_free(&local);
	return 0;
fail:
	kill_and_reap(st.pid);
	close_fd(&in_w);
	close_fd(&out.fd);
	close_fd(&errc.fd);
	close_fd(&pidfd);
	qc_buf_free(&out.buf);
	qc_buf_free(&errc.buf);
	return r;
}

/*
 * The last ~400 characters of stderr on one line, for an error message:
 * lines joined with "; ", runs of white space and control characters
 * squeezed to one space.
 */
static void stderr_tail(const char *s, size_t len, char *buf, size_t size)
{
	/* Each input byte yields at most 3 output bytes ("; x"). */
	char tmp[6 * TAIL_CHARS + 8];
	size_t start = len > 2 * TAIL_CHARS ? len - 2 * TAIL_CHARS : 0, n = 0, from = 0;
	bool space = false, nl = false, cut = start > 0;

	for (size_t i = start; i < len; i++) {
		unsigned char ch = (unsigned char) s[i];
		if (ch == '\n') {
			nl = true;
			continue;
		}
		if (ch <= 0x20 || ch == 0x7f) {
			space = true;
			continue;
		}
		if (n > 0 && nl) {
			tmp[n++] = ';';
			tmp[n++] = ' ';
		} else if (n > 0 && space) {
			tmp[n++] = ' ';
		}
		nl = space = false;
		tmp[n++] = (char) ch;
	}
	if (n > TAIL_CHARS) {
		from = n - TAIL_CHARS;
		/* Do not start in the middle of a UTF-8 sequence. */
		while (from < n && ((unsigned char) tmp[from] & 0xc0) == 0x80)
			from++;
		cut = true;
	}
	snprintf(buf, size, "%s%.*s", cut && n > 0 ? "..." : "", (int) (n - from), tmp + from);
}

int qc_spawn_check(const struct qc_spawn_opts *o, struct qc_spawn_result *res, struct qc_error *err)
{
	struct qc_spawn_result local = {0};
	struct qc_spawn_result *rr = res ? res : &local;
	struct qc_spawn_opts copy = *o;
	char tail[TAIL_CHARS + 16] = "";
	char ws[96];
	int r;

	/* The error promises a stderr tail: capture it unless the caller routed it elsewhere. */
	if (copy.errout == QC_STDIO_NULL)
		copy.errout = QC_STDIO_CAPTURE;
	if ((r = qc_spawn_run(&copy, rr, err)) < 0)
		return r;
	if (!rr->timed_out && WIFEXITED(rr->status) && WEXITSTATUS(rr->status) == 0) {
		if (o->errout != QC_STDIO_CAPTURE) {
			free(rr->err);
			rr->err = NULL;
			rr->err_len = 0;
		}
		qc_spawn_result_free(&local);
		return 0;
	}
	if (rr->err)
		stderr_tail(rr->err, rr->err_len, tail, sizeof(tail));
	if (rr->timed_out) {
		snprintf(ws, sizeof(ws), "timed out after %g s", o->timeout_ms / 1000.0);
	} else if (WIFSIGNALED(rr->status)) {
		char sig[64];
		qc_format_wait_status(rr->status, sig, sizeof(sig));
		snprintf(ws, sizeof(ws), "killed by %s", sig);
	} else {
		qc_format_wait_status(rr->status, ws, sizeof(ws));
	}
	r = qc_error_set(
		err, QC_ERR_CHILD, "%s: %s%s%s", o->argv[0], ws, tail[0] ? ": " : "", tail);
	if (o->errout != QC_STDIO_CAPTURE) {
		free(rr->err);
		rr->err = NULL;
		rr->err_len = 0;
	}
	qc_spawn_result_free(&local);
	return r;
}

int qc_spawn_start(
	const struct qc_spawn_opts *o, pid_t *ret_pid, int *ret_pidfd, struct qc_error *err)
{
	struct started st;
	int r, pidfd = -1;

	if (o->in == QC_STDIO_CAPTURE || o->out == QC_STDIO_CAPTURE ||
		o->errout == QC_STDIO_CAPTURE)
		return qc_error_set(err, EINVAL,
			"%s: qc_spawn_start cannot capture stdio; pass an fd or a file", argv0(o));
	if ((r = spawn_common(o, &st, err)) < 0)
		return r;
	if (ret_pidfd) {
		pidfd = qc_pidfd_open(st.pid, err);
		if (pidfd < 0) {
			kill_and_reap(st.pid);
			return pidfd;
		}
		*ret_pidfd = pidfd;
	}
	*ret_pid = st.pid;
	return 0;
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
	reap(pid, &status);
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
