/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --connect: run the command on another host's qemuctl through ssh
 * (connect.h has the protocol).  The files the command reads are sent
 * along, those it writes come back when it succeeds; a command that
 * needs a terminal gets one on the remote side and
 * this terminal is put into raw mode, so every key (Ctrl-] included)
 * reaches the remote command.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "driver/cli/connect.h"

/* Exit codes of --connect's own failures (a remote command's are its own). */
enum {
	EXIT_NO_SSH = 255,   /* ssh could not connect (as ssh itself exits) */
	EXIT_MISSING = 127,  /* no qemuctl on HOST */
	EXIT_PROTOCOL = 126, /* a qemuctl that speaks another protocol */
};

struct file_ref {
	int arg;       /* the argv word */
	size_t offset; /* where the path starts in it ("--user-data=F") */
	int fd;
	uint64_t size;
	const char *path;
	bool out; /* written by the command: brought back when it succeeds */
};

struct conn {
	struct file_ref files[CONNECT_MAX_FILES];
	int n_files;
	bool tty;
	const char *host;
	char err_tail[2048]; /* ssh's last words on stderr */
	size_t err_len;
	int out_fd;          /* the written file being received, or -1 */
	int out_idx;
	char out_tmp[4096];  /* its temporary name beside the file */
	bool out_failed;
};

static struct termios saved_tio;
static bool tio_saved;
static volatile sig_atomic_t winch;

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tio);
	tio_saved = false;
}

static void on_winch(int sig)
{
	(void) sig;
	winch = 1;
}

/* path, named by argv word arg from offset on, opened to be sent; an exit code. */
static int add_file(struct conn *cn, int arg, size_t offset, const char *path)
{
	struct file_ref *f;
	struct stat st;

	if (cn->n_files >= CONNECT_MAX_FILES)
		return cli_usage_error(NULL, "--connect: more than %d files named", CONNECT_MAX_FILES);
	f = &cn->files[cn->n_files];
	if ((f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return cli_error_errno(errno, "cannot send '%s' to %s", path, cn->host);
	if (fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(f->fd);
		return cli_usage_error(NULL, "--connect: '%s' is not a regular file: only files "
					     "are sent to %s", path, cn->host);
	}
	f->arg = arg;
	f->offset = offset;
	f->size = (uint64_t) st.st_size;
	f->path = path;
	cn->n_files++;
	return CLI_OK;
}

/* path, named by argv word arg from offset on: a file the command writes. */
static int add_out(struct conn *cn, int arg, size_t offset, const char *path)
{
	struct file_ref *f = &cn->files[cn->n_files];

	if (cn->n_files >= CONNECT_MAX_FILES)
		return cli_usage_error(NULL, "--connect: more than %d files named", CONNECT_MAX_FILES);
	*f = (struct file_ref){.arg = arg, .offset = offset, .fd = -1, .path = path, .out = true};
	cn->n_files++;
	return CLI_OK;
}

/* The word of argv that holds p (a value cli_parse found there), or -1. */
static int word_of(char **argv, int argc, const char *p, size_t *ret_off)
{
	for (int i = 0; i < argc; i++)
		if (p >= argv[i] && p <= argv[i] + strlen(argv[i])) {
			*ret_off = (size_t) (p - argv[i]);
			return i;
		}
	return -1;
}

/*
 * The local files the command names (parse.c's option table and the
 * command's pos_files say which); an output file is refused.  -1: --help
 * was printed (exit 0); else an exit code.
 */
static int find_files(struct conn *cn, const struct cli_cmd *table, int argc, char **argv,
	int base, bool *ret_console)
{
	const struct cli_cmd *cmd = cli_find_cmd(table, argv[0]), *group = NULL;
	struct cli_args a = {0};
	int rc = CLI_OK, r, first = 0;

	if (!cmd)
		return CLI_OK; /* the remote qemuctl names what is unknown */
	if (cmd->subs) {
		if (argc < 2 || !(cmd = cli_find_cmd(cmd->subs, argv[1])))
			return CLI_OK;
		group = cli_find_cmd(table, argv[0]);
		snprintf(a.prefix, sizeof(a.prefix), "%s %s", group->name, cmd->name);
		first = 1;
	}
	r = cli_parse(cmd, group ? group->name : cmd->name, argc - first, argv + first, &a);
	if (r != 0) {
		cli_args_clear(&a);
		return r > 0 ? -1 : CLI_USAGE;
	}
	*ret_console = !group && (!strcmp(cmd->name, "console") || !strcmp(cmd->name, "ssh") ||
					 (!strcmp(cmd->name, "run") && a.set[OPT_CONSOLE]));
	for (int k = 0; k < OPT_COUNT && rc == CLI_OK; k++) {
		const char *one[2] = {a.val[k], NULL};
		const char **vals = a.multi[k] ? a.multi[k] : one;

		if (!a.set[k] || cli_opt_file(k) != CLI_FILE_IN)
			continue;
		for (int j = 0; vals[j] && rc == CLI_OK; j++) {
			size_t off = 0;
			int w = word_of(argv, argc, vals[j], &off);

			if (w >= 0)
				rc = add_file(cn, base + w, off, vals[j]);
		}
	}
	for (int i = 0; cmd->pos_files && cmd->pos_files[i] && i < a.n_pos && rc == CLI_OK; i++) {
		size_t off = 0;
		int w = word_of(argv, argc, a.pos[i], &off);

		if (cmd->pos_files[i] == CLI_FILE_OUT && w >= 0)
			rc = add_out(cn, base + w, off, a.pos[i]);
		else if (cmd->pos_files[i] == CLI_FILE_IN && w >= 0 && off == 0 &&
			 strcmp(a.pos[i], "-") != 0 && !strstr(a.pos[i], "://"))
			rc = add_file(cn, base + w, 0, a.pos[i]);
	}
	cli_args_clear(&a);
	return rc;
}

static void json_env(struct cli_json *j, const char *name)
{
	const char *v = getenv(name);

	if (v && strlen(v) < 64)
		cli_json_kstring(j, name, v);
}

static char *request_json(struct conn *cn, int argc, char **argv, const char *root)
{
	struct qc_error err = {0};
	autojson struct cli_json *j = cli_json_new(false);
	struct winsize ws = {0};
	char *out;

	cli_json_map_open(j);
	cli_json_karray_open(j, "argv");
	for (int i = 0; i < argc; i++)
		cli_json_string(j, argv[i]);
	cli_json_array_close(j);
	cli_json_kstring(j, "root", root);
	cli_json_kbool(j, "tty", cn->tty);
	if (cn->tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
		cli_json_kint(j, "columns", ws.ws_col);
		cli_json_kint(j, "rows", ws.ws_row);
	}
	cli_json_key(j, "env");
	cli_json_map_open(j);
	json_env(j, "NO_COLOR");
	json_env(j, "COLUMNS");
	if (cn->tty)
		json_env(j, "TERM");
	cli_json_map_close(j);
	cli_json_karray_open(j, "files");
	for (int i = 0; i < cn->n_files; i++) {
		const char *base = strrchr(cn->files[i].path, '/');

		cli_json_map_open(j);
		cli_json_kint(j, "arg", cn->files[i].arg);
		cli_json_kuint(j, "offset", cn->files[i].offset);
		cli_json_kstring(j, "name", base ? base + 1 : cn->files[i].path);
		if (cn->files[i].out)
			cli_json_kbool(j, "out", true);
		else
			cli_json_kuint(j, "size", cn->files[i].size);
		cli_json_map_close(j);
	}
	cli_json_array_close(j);
	cli_json_map_close(j);
	if (!(out = cli_json_finish(j, &err)))
		abort();
	return out;
}

/* The request and the files' bytes; 0, or -errno (the server went away: its reply says why). */
static int send_request(struct conn *cn, int fd, const char *req)
{
	char buf[CONNECT_CHUNK];
	int r;

	if ((r = cf_write(fd, CF_REQUEST, req, strlen(req))) < 0)
		return r;
	for (int i = 0; i < cn->n_files; i++) {
		uint64_t left = cn->files[i].size;

		if (cn->files[i].out)
			continue;
		fcntl(cn->files[i].fd, F_SETFL, 0);
		while (left > 0) {
			ssize_t n = read(cn->files[i].fd, buf, left < sizeof(buf) ? left : sizeof(buf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) /* the file shrank: the server checks the size it was told */
				return n < 0 ? -errno : -EIO;
			if ((r = cf_write(fd, CF_FILE, buf, (size_t) n)) < 0)
				return r;
			left -= (uint64_t) n;
		}
	}
	return 0;
}

static pid_t spawn_ssh(char **argv, int *in, int *out, int *err)
{
	int pi[2], po[2], pe[2], px[2];
	pid_t pid;
	int e = 0;

	if (pipe2(pi, O_CLOEXEC) < 0 || pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 ||
		pipe2(px, O_CLOEXEC) < 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(pi[0], 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		e = errno;
		(void) !write(px[1], &e, sizeof(e));
		_exit(127);
	}
	close(pi[0]);
	close(po[1]);
	close(pe[1]);
	close(px[1]);
	if (read(px[0], &e, sizeof(e)) == (ssize_t) sizeof(e)) {
		close(px[0]);
		waitpid(pid, NULL, 0);
		errno = e;
		return -2;
	}
	close(px[0]);
	*in = pi[1];
	*out = po[0];
	*err = pe[0];
	return pid;
}

static void keep_tail(struct conn *cn, const char *p, size_t n)
{
	size_t cap = sizeof(cn->err_tail) - 1;

	if (n >= cap) {
		p += n - cap;
		n = cap;
	}
	if (cn->err_len + n > cap) {
		size_t drop = cn->err_len + n - cap;

		memmove(cn->err_tail, cn->err_tail + drop, cn->err_len - drop);
		cn->err_len -= drop;
	}
	memcpy(cn->err_tail + cn->err_len, p, n);
	cn->err_len += n;
	cn->err_tail[cn->err_len] = 0;
}

static int conn_error(const char *code, int rc, const char *msg, const char *hint)
{
	if (cli_json_errors_on())
		cli_json_error_print(code, msg, hint);
	else
		fprintf(stderr, "qemuctl: error: %s\nhint: %s\n", msg, hint);
	return rc;
}

/* No hello came: why, from ssh's exit status and its last words. */
static int no_hello(struct conn *cn, int status)
{
	autofree char *msg = NULL;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

	if (code == 255 && (strstr(cn->err_tail, "Host key verification failed") ||
				   strstr(cn->err_tail, "HOST IDENTIFICATION HAS CHANGED") ||
				   strstr(cn->err_tail, "host key for")))
		return conn_error("net", EXIT_NO_SSH,
			msg = cli_asprintf("--connect: ssh refused the host key of '%s' "
					   "(its message is above)", cn->host),
			"connect once with ssh to check and accept the key, or remove a stale "
			"one with ssh-keygen -R HOST");
	if (code == 255)
		return conn_error("net", EXIT_NO_SSH,
			msg = cli_asprintf("--connect: ssh could not log in to '%s' (ssh exited 255; "
					   "its message is above)", cn->host),
			"check that 'ssh HOST true' works: the address, the port, your keys");
	if (code == 127)
		return conn_error("not-found", EXIT_MISSING,
			msg = cli_asprintf("--connect: '%s' has no qemuctl (the remote command "
					   "was not found)", cn->host),
			"install qemuctl there, or set QEMUCTL_REMOTE to its path on that host");
	return conn_error("protocol", EXIT_PROTOCOL,
		msg = cli_asprintf("--connect: the qemuctl on '%s' does not speak the --connect "
				   "protocol (it exited %d without a hello)", cn->host, code),
		"install a qemuctl with 'serve-stdio' (this version, " PACKAGE_VERSION ") there");
}

struct run {
	int to, from, err; /* ssh's stdin, stdout, stderr */
	bool stdin_open, hello, exited, failed;
	int exit_code, rc;
};

/* The rename into path's directory made durable. */
static void fsync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	autofree char *dir = slash ? cli_asprintf("%.*s", (int) (slash - path + 1), path)
				   : cli_strdup(".");
	autoclose int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0)
		(void) fsync(fd);
}

static void out_fail(struct conn *cn, const char *what)
{
	cli_error_errno(errno, "--connect: %s '%s'", what, cn->files[cn->out_idx].path);
	cn->out_failed = true;
	if (cn->out_fd >= 0) {
		close(cn->out_fd);
		unlink(cn->out_tmp);
	}
	cn->out_fd = -1;
}

/* A file the command wrote: into a temporary file beside it, renamed when whole. */
static void on_output(struct conn *cn, char type, const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *) p;
	int idx = n == 4 ? (int) ((unsigned) u[0] << 24 | u[1] << 16 | u[2] << 8 | u[3]) : -1;
	const char *path;
	mode_t mask;

	if (type == CF_FILE) {
		if (cn->out_fd >= 0 && cli_write_all(cn->out_fd, p, n) < 0)
			out_fail(cn, "writing");
		return;
	}
	if (idx < 0 || idx >= cn->n_files || !cn->files[idx].out ||
		(type == CF_OUTPUT_END) != (cn->out_fd >= 0 && idx == cn->out_idx))
		return; /* not a file this command writes, or out of turn */
	cn->out_idx = idx;
	path = cn->files[idx].path;
	if (type == CF_OUTPUT) {
		snprintf(cn->out_tmp, sizeof(cn->out_tmp), "%s.qemuctl-XXXXXX", path);
		if ((cn->out_fd = mkostemp(cn->out_tmp, O_CLOEXEC)) < 0) {
			out_fail(cn, "cannot write");
			return;
		}
		mask = umask(0);
		umask(mask);
		fchmod(cn->out_fd, 0666 & ~mask);
		return;
	}
	if (fsync(cn->out_fd) < 0 || rename(cn->out_tmp, path) < 0) {
		out_fail(cn, "cannot write");
		return;
	}
	close(cn->out_fd);
	cn->out_fd = -1;
	fsync_dir_of(path);
}

/* One frame from the server; false when the session is over. */
static bool on_frame(struct conn *cn, struct run *s, char type, const char *p, size_t n)
{
	char version[64];
	int proto;

	if (!s->hello) {
		proto = type == CF_HELLO ? cf_hello_parse(p, n, version, sizeof(version)) : -1;
		if (proto != CONNECT_PROTOCOL) {
			autofree char *msg = cli_asprintf(
				"--connect: the qemuctl on '%s' (version %s) speaks --connect "
				"protocol %d, this one (" PACKAGE_VERSION ") speaks %d",
				cn->host, version, proto, CONNECT_PROTOCOL);

			s->rc = conn_error("protocol", EXIT_PROTOCOL, msg,
				"install the same qemuctl version on both hosts");
			s->failed = true;
			return false;
		}
		s->hello = true;
		return true;
	}
	switch (type) {
	case CF_STDOUT:
		(void) cli_write_all(STDOUT_FILENO, p, n);
		return true;
	case CF_STDERR:
		(void) cli_write_all(STDERR_FILENO, p, n);
		return true;
	case CF_EXIT:
		if (n == 4) {
			const unsigned char *u = (const unsigned char *) p;
			s->exit_code = (int) ((unsigned) u[0] << 24 | u[1] << 16 | u[2] << 8 | u[3]);
			s->exited = true;
		}
		return false;
	case CF_OUTPUT:
	case CF_FILE:
	case CF_OUTPUT_END:
		on_output(cn, type, p, n);
		return true;
	case CF_ERROR: {
		autofree char *msg = cli_asprintf("--connect: '%s': %.*s", cn->host,
			(int) (n > 1024 ? 1024 : n), p);
		autofree char *shown = cli_shown(msg);

		s->rc = conn_error("protocol", CLI_ERROR, shown,
			"the remote qemuctl could not run the request");
		s->failed = true;
		return false;
	}
	default:
		return true; /* a later protocol's frame: ignored */
	}
}

static void session(struct conn *cn, struct run *s)
{
	struct cf_reader rd = {0};
	bool from_open = true, err_open = true;
	char buf[CONNECT_CHUNK];

	while (from_open || err_open) {
		struct pollfd p[3] = {{.fd = s->from, .events = POLLIN},
			{.fd = s->err, .events = POLLIN},
			{.fd = STDIN_FILENO, .events = POLLIN}};
		ssize_t n;
		char type;
		const char *fp;
		size_t fn;
		int k;

		p[0].fd = from_open ? s->from : -1;
		p[1].fd = err_open ? s->err : -1;
		p[2].fd = s->stdin_open ? STDIN_FILENO : -1;
		if (winch && cn->tty) {
			struct winsize ws;

			winch = 0;
			if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
				unsigned char sz[4] = {ws.ws_col >> 8, ws.ws_col & 0xff,
					ws.ws_row >> 8, ws.ws_row & 0xff};
				(void) cf_write(s->to, CF_WINSIZE, sz, sizeof(sz));
			}
		}
		if (poll(p, 3, -1) < 0)
			continue; /* EINTR: SIGWINCH */
		if (p[1].revents) {
			n = read(s->err, buf, sizeof(buf));
			if (n <= 0) {
				err_open = false;
			} else {
				(void) cli_write_all(STDERR_FILENO, buf, (size_t) n);
				keep_tail(cn, buf, (size_t) n);
			}
		}
		if (p[2].revents) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n > 0) {
				(void) cf_write(s->to, CF_STDIN, buf, (size_t) n);
			} else if (n == 0 || errno != EINTR) {
				s->stdin_open = false;
				(void) cf_write(s->to, CF_STDIN_END, "", 0);
			}
		}
		if (!p[0].revents)
			continue;
		if (cf_fill(&rd, s->from) <= 0) {
			from_open = false;
			continue;
		}
		while ((k = cf_next(&rd, &type, &fp, &fn)) > 0)
			if (!on_frame(cn, s, type, fp, fn)) {
				from_open = false;
				break;
			}
		if (k < 0)
			from_open = false;
		if (!from_open)
			break;
	}
	cf_reader_free(&rd);
}

static bool remote_cmd_ok(const char *s)
{
	return s[0] == '/' && strlen(s) < 256 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._+-") ==
		       strlen(s);
}

int cli_connect(struct cli *c, const char *url, const struct cli_cmd *table, int argc,
	char **argv, int n_global)
{
	static const char *ssh_opts[] = {"-T", "-e", "none", NULL};
	const char *remote = getenv("QEMUCTL_REMOTE");
	const char *rcmd[] = {remote && remote[0] ? remote : "qemuctl", "serve-stdio", NULL};
	struct qc_error err = {0};
	autostrv char **sshv = NULL;
	autofree char *root = NULL, *hello = NULL, *req = NULL;
	struct conn cn = {.out_fd = -1};
	struct run s = {.to = -1, .stdin_open = true, .rc = CLI_OK};
	bool console = false;
	int status = 0, rc;
	pid_t pid;

	(void) c;
	if (remote && remote[0] && !remote_cmd_ok(remote))
		return cli_usage_error(NULL, "QEMUCTL_REMOTE '%s': give the absolute path of "
					     "qemuctl on the remote host (letters, digits, '/._+-')",
			remote);
	if (qc_remote_ssh_argv(url, ssh_opts, rcmd, &sshv, &root, &err) < 0)
		return cli_usage_error(NULL, "--connect: %s", err.msg);
	for (int i = 0; sshv[i]; i++)
		if (!strcmp(sshv[i], "--"))
			cn.host = sshv[i + 1];
	rc = find_files(&cn, table, argc - n_global, argv + n_global, n_global, &console);
	if (rc != CLI_OK)
		goto out;
	cn.tty = console && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	/* a terminal's input goes to a command that has one; piped input always */
	if (isatty(STDIN_FILENO) && !cn.tty)
		s.stdin_open = false;
	req = request_json(&cn, argc, argv, root);
	signal(SIGPIPE, SIG_IGN);
	pid = spawn_ssh(sshv, &s.to, &s.from, &s.err);
	if (pid < 0) {
		rc = conn_error("net", EXIT_NO_SSH,
			pid == -2 ? "--connect: cannot run ssh" : "--connect: cannot start ssh",
			strerror(errno));
		goto out;
	}
	hello = cf_hello();
	if (cf_write(s.to, CF_HELLO, hello, strlen(hello)) == 0)
		(void) send_request(&cn, s.to, req);
	if (!s.stdin_open)
		(void) cf_write(s.to, CF_STDIN_END, "", 0);
	if (cn.tty && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		struct termios raw = saved_tio;

		cfmakeraw(&raw);
		tio_saved = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
		atexit(restore_tty);
		struct sigaction sa = {.sa_handler = on_winch}; /* no SA_RESTART: poll() wakes */
		sigaction(SIGWINCH, &sa, NULL);
	}
	session(&cn, &s);
	restore_tty();
	close(s.to);
	close(s.from);
	/* ssh's last words (a lost connection) before it is reaped */
	for (char buf[4096];;) {
		ssize_t n = read(s.err, buf, sizeof(buf));

		if (n <= 0)
			break;
		(void) cli_write_all(STDERR_FILENO, buf, (size_t) n);
		keep_tail(&cn, buf, (size_t) n);
	}
	close(s.err);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (s.failed)
		rc = s.rc;
	else if (s.exited)
		rc = s.exit_code;
	else if (!s.hello)
		rc = no_hello(&cn, status);
	else
		rc = conn_error("net", EXIT_NO_SSH,
			"--connect: the connection ended before the remote command did",
			"run the command again; 'qemuctl --connect URL list' shows what it left");
	if (cn.out_fd >= 0) /* a file cut short */
		unlink(cn.out_tmp);
	if (cn.out_failed && rc == CLI_OK)
		rc = CLI_ERROR;
out:
	for (int i = 0; i < cn.n_files; i++)
		if (cn.files[i].fd >= 0)
			close(cn.files[i].fd);
	return rc < 0 ? CLI_OK : rc;
}
