/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Another host's qemuctl: the ssh command line that reaches it (the
 * checked parts of an ssh://[USER@]HOST[:PORT][/ROOT] address, util/sshurl.c,
 * as separate words), the handle's master connection, and what ssh's
 * failures mean.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver/remote.h"

#define CONTROL_NAME "s"
#define LOGIN_TIMEOUT_MS 120000
#define CLOSE_TIMEOUT_MS 5000

char **qc_remote_ssh_words(const struct qc_remote *r, const char *const *extra,
	const char *const *remote)
{
	cleanup_strv char **base = qc_ssh_url_argv(&r->url);
	struct qc_strv v = {0};

	qc_strv_push(&v, base[0]);
	for (size_t i = 0; extra && extra[i]; i++)
		qc_strv_push(&v, extra[i]);
	for (size_t i = 0; r->ssh_options && r->ssh_options[i]; i++)
		qc_strv_push(&v, r->ssh_options[i]);
	for (size_t i = 1; base[i]; i++)
		qc_strv_push(&v, base[i]);
	for (size_t i = 0; remote && remote[i]; i++)
		qc_strv_push(&v, remote[i]);
	return qc_strv_steal(&v);
}

int qc_remote_ssh_argv(const char *url, const char *const *ssh_options,
	const char *const *remote_cmd, char ***ret_argv, char **ret_root, struct qc_error *err)
{
	struct qc_remote r = {0};
	int rc;

	if ((rc = qc_ssh_url_parse(url, &r.url, err)) < 0)
		return rc;
	*ret_argv = qc_remote_ssh_words(&r, ssh_options, remote_cmd);
	if (ret_root)
		*ret_root = TAKE_PTR(r.url.root);
	qc_ssh_url_clear(&r.url);
	return 0;
}

/* The last line of text, without its line end. */
static char *last_line(const char *text)
{
	size_t n = strlen(text);
	const char *start;

	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	for (start = text + n; start > text && start[-1] != '\n'; start--)
		;
	return qc_xstrndup(start, (size_t) (text + n - start));
}

int qc_remote_ssh_failed(const struct qc_remote *r, int status, const char *tail, bool said,
	struct qc_error *err)
{
	cleanup_free char *line = last_line(tail);
	const char *words = said && *line ? line : "its message is above";
	const char *host = r->url.host;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

	if (code == 255 && (strstr(tail, "Host key verification failed") ||
				   strstr(tail, "HOST IDENTIFICATION HAS CHANGED") ||
				   strstr(tail, "host key for")))
		return qc_error_set(err, QC_ERR_CHILD,
			"ssh refused the host key of '%s' (%s): connect once with ssh to check and "
			"accept the key, or remove a stale one with ssh-keygen -R HOST",
			host, words);
	if (code == 255)
		return qc_error_set(err, QC_ERR_CHILD,
			"ssh could not log in to '%s' (ssh exited 255; %s): check that 'ssh HOST "
			"true' works: the address, the port, your keys",
			host, words);
	if (code == 127)
		return qc_error_set(err, QC_ERR_NOTFOUND,
			"'%s' has no qemuctl (the remote command '%s' was not found): install "
			"qemuctl there, or name its path on that host (QEMUCTL_REMOTE)",
			host, r->remote_qemuctl);
	return qc_error_set(err, QC_ERR_PROTO,
		"the qemuctl on '%s' does not speak the --connect protocol (it exited %d without "
		"a hello): install a qemuctl with 'serve-stdio' (this version, " PACKAGE_VERSION
		") there",
		host, code);
}

int qc_remote_spawn_failed(const qc_remote *r, struct qc_error *err)
{
	char why[sizeof(err->msg)];

	snprintf(why, sizeof(why), "%s", err ? err->msg : "");
	return qc_error_set(err, QC_ERR_CHILD,
		"ssh to '%s': %s: install OpenSSH's client (ssh) or put it in PATH", r->url.host, why);
}

static bool remote_cmd_ok(const char *s)
{
	return s[0] == '/' && strlen(s) < 256 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._+-") ==
		       strlen(s);
}

/* What the master wrote on its stderr (a memfd), bounded. */
static char *master_said(const struct qc_remote *r)
{
	char buf[4096];
	ssize_t n = pread(r->master_err, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return qc_xstrdup(buf);
}

/* The master is reaped: why it ended. */
static int master_ended(qc_remote *r, struct qc_error *err)
{
	cleanup_free char *said = master_said(r);
	int status = 0;

	qc_pid_reap(r->master, &status);
	r->master = -1;
	return qc_remote_ssh_failed(r, status, said, true, err);
}

/*
 * Until the master listens on its ControlPath (ssh links the socket there
 * once logged in: inotify says when) or ends.
 */
static int master_wait(qc_remote *r, int ino, struct qc_error *err)
{
	int64_t deadline = qc_deadline_ms(LOGIN_TIMEOUT_MS);
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		struct pollfd p[2] = {{.fd = ino, .events = POLLIN},
			{.fd = r->master_pidfd, .events = POLLIN}};
		int ms = qc_time_left_ms(deadline), k;
		ssize_t n;

		if (ms == 0)
			return qc_error_set(err, ETIMEDOUT,
				"ssh to '%s': not logged in after %d s: check that 'ssh HOST true' "
				"works",
				r->url.host, LOGIN_TIMEOUT_MS / 1000);
		if ((k = poll(p, 2, ms)) < 0 && errno != EINTR)
			return qc_error_errno(err, errno, "poll");
		if (k <= 0)
			continue;
		if (p[0].revents) {
			while ((n = read(ino, buf, sizeof(buf))) > 0)
				for (char *q = buf; q < buf + n;) {
					struct inotify_event *ev = (struct inotify_event *) q;

					if (ev->len && !strcmp(ev->name, CONTROL_NAME))
						return 0;
					q += sizeof(*ev) + ev->len;
				}
		}
		if (p[1].revents)
			return master_ended(r, err);
	}
}

static int master_start(qc_remote *r, struct qc_error *err)
{
	const char *tmp = getenv("TMPDIR");
	cleanup_free char *opt_path = NULL;
	cleanup_strv char **argv = NULL;
	cleanup_close int ino = -1;
	struct qc_spawn_opts so = {0};
	int rc;

	r->dir = qc_xasprintf("%s/qemuctl-remote.XXXXXX",
		tmp && tmp[0] == '/' && strlen(tmp) < 48 ? tmp : "/tmp");
	if (!mkdtemp(r->dir)) {
		rc = qc_error_errno(err, errno, "cannot make a private directory '%s'", r->dir);
		free(TAKE_PTR(r->dir));
		return rc;
	}
	r->control = qc_xasprintf("%s/" CONTROL_NAME, r->dir);
	opt_path = qc_xasprintf("ControlPath=%s", r->control);
	if ((ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0)
		return qc_error_errno(err, errno, "inotify_init1");
	if (inotify_add_watch(ino, r->dir, IN_CREATE | IN_MOVED_TO) < 0)
		return qc_error_errno(err, errno, "inotify_add_watch '%s'", r->dir);
	if ((r->master_err = memfd_create("ssh-stderr", MFD_CLOEXEC)) < 0)
		return qc_error_errno(err, errno, "memfd_create");
	argv = qc_remote_ssh_words(r,
		(const char *const[]){"-o", "ControlMaster=yes", "-o", opt_path, "-o",
			"ControlPersist=no", "-o", "BatchMode=yes", "-N", "-T", NULL},
		NULL);
	so.argv = (const char *const *) argv;
	so.errout = QC_STDIO_FD;
	so.err_fd = r->master_err;
	so.pdeathsig = SIGTERM;
	if ((rc = qc_spawn_start(&so, &r->master, &r->master_pidfd, err)) < 0) {
		r->master = -1;
		return qc_remote_spawn_failed(r, err);
	}
	return master_wait(r, ino, err);
}

int qc_remote_open(const char *url, const struct qc_remote_opts *o, qc_remote **ret,
	struct qc_error *err)
{
	static const struct qc_remote_opts none = {0};
	qc_remote *r = qc_xzalloc(sizeof(*r));
	struct qc_strv opts = {0};
	int rc;

	o = o ? o : &none;
	r->master = -1;
	r->master_pidfd = -1;
	r->master_err = -1;
	if (o->remote_qemuctl && !remote_cmd_ok(o->remote_qemuctl)) {
		rc = qc_error_set(err, QC_ERR_INVALID,
			"remote qemuctl '%s': give the absolute path of qemuctl on the remote "
			"host (letters, digits, '/._+-')",
			o->remote_qemuctl);
		goto fail;
	}
	if ((rc = qc_ssh_url_parse(url, &r->url, err)) < 0)
		goto fail;
	for (size_t i = 0; o->ssh_options && o->ssh_options[i]; i++) {
		qc_strv_push(&opts, "-o");
		qc_strv_push(&opts, o->ssh_options[i]);
	}
	r->ssh_options = qc_strv_steal(&opts);
	r->remote_qemuctl = qc_xstrdup(o->remote_qemuctl ? o->remote_qemuctl : "qemuctl");
	if (!o->direct && (rc = master_start(r, err)) < 0)
		goto fail;
	*ret = r;
	return 0;
fail:
	qc_remote_close(r);
	return rc;
}

void qc_remote_close(qc_remote *r)
{
	if (!r)
		return;
	if (r->master > 0) {
		cleanup_strv char **argv = qc_remote_ssh_words(r,
			(const char *const[]){"-o", "ControlMaster=no", "-S", r->control, "-O", "exit",
				NULL},
			NULL);
		struct qc_spawn_opts so = {.argv = (const char *const *) argv,
			.timeout_ms = CLOSE_TIMEOUT_MS};
		struct qc_spawn_result res = {0};

		if (qc_spawn_run(&so, &res, NULL) == 0)
			qc_spawn_result_free(&res);
		if (qc_pidfd_wait(r->master_pidfd, CLOSE_TIMEOUT_MS) <= 0)
			kill(r->master, SIGTERM);
		qc_pid_reap(r->master, NULL);
	}
	if (r->master_pidfd >= 0)
		close(r->master_pidfd);
	if (r->master_err >= 0)
		close(r->master_err);
	if (r->control)
		unlink(r->control);
	if (r->dir)
		rmdir(r->dir);
	qc_free_all(r->control, r->dir, r->remote_qemuctl);
	qc_strv_free(r->ssh_options);
	qc_ssh_url_clear(&r->url);
	free(r);
}
