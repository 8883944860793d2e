/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl serve-stdio: the remote end of --connect (connect.h), run by
 * ssh.  It checks the request, writes the files it carries into a private
 * temporary directory, runs this same qemuctl on the rewritten argv (on a
 * new pseudo-terminal when the client has a terminal) and sends what the
 * command prints and, last, its exit code.  When the client goes away the
 * command is ended.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "driver/cli/connect.h"

extern char **environ;

#define MAX_ARGS 512
#define MAX_FILE_SIZE (64ULL << 30)

/* The request, checked. */
struct req {
	char **argv; /* the command's argv after "qemuctl", rewritten for the files */
	int argc;
	char *root;
	bool tty;
	unsigned short columns, rows;
	char **env; /* "NAME=value" the client's terminal asks for */
	int n_env;
	char dir[64]; /* the private directory of the files, or "" */
	char *paths[QC_REMOTE_MAX_FILES];
	bool is_out[QC_REMOTE_MAX_FILES]; /* a file the command writes, sent back */
	int n_paths;
};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p)
		abort();
	return p;
}

static void req_clear(struct req *q)
{
	for (int i = 0; i < q->n_paths; i++) {
		unlink(q->paths[i]);
		free(q->paths[i]);
	}
	if (q->dir[0])
		rmdir(q->dir);
	for (int i = 0; i < q->argc; i++)
		free(q->argv[i]);
	free(q->argv);
	for (int i = 0; i < q->n_env; i++)
		free(q->env[i]);
	free(q->env);
	free(q->root);
}

static int send_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int send_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void) qc_remote_frame_write(STDOUT_FILENO, QC_RF_ERROR, msg, strlen(msg));
	return CLI_ERROR;
}

static bool printable(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max)
		return false;
	for (; *s; s++)
		if ((unsigned char) *s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* A file's name as the remote command sees it: its base name, letters digits ._- only. */
static char *file_path(const char *dir, int i, const char *name)
{
	char clean[65];
	size_t n = 0;

	for (; *name && n < sizeof(clean) - 1; name++) {
		unsigned char ch = (unsigned char) *name;

		clean[n++] = (char) ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
						     (ch >= '0' && ch <= '9') || ch == '.' || ch == '-'
					     ? ch
					     : '_');
	}
	clean[n] = 0;
	return cli_asprintf("%s/%d-%s", dir, i, n ? clean : "file");
}

static int env_add(struct req *q, const char *name, yajl_val v)
{
	static const char *allowed[] = {"NO_COLOR", "COLUMNS", "TERM", NULL};
	bool ok = false;

	for (int i = 0; allowed[i]; i++)
		ok |= !strcmp(allowed[i], name);
	if (!ok || !YAJL_IS_STRING(v) || !printable(YAJL_GET_STRING(v), 63))
		return send_error("request: env '%.64s' is not one a client may set", name);
	q->env[q->n_env++] = cli_asprintf("%s=%s", name, YAJL_GET_STRING(v));
	return CLI_OK;
}

/* File i's size bytes, from QC_RF_FILE frames into a new path. */
static int receive(struct qc_remote_reader *rd, size_t i, const char *path, long long size)
{
	autoclose int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return send_error("cannot write '%s': %s", path, strerror(errno));
	while (size > 0) {
		char type;
		const char *p;
		size_t len;
		int r = qc_remote_reader_read(rd, STDIN_FILENO, &type, &p, &len);

		if (r <= 0 || type != QC_RF_FILE || (long long) len > size)
			return send_error("file %zu ('%s'): its bytes did not arrive whole", i, path);
		if ((r = cli_write_all(fd, p, len)) < 0)
			return send_error("cannot write '%s': %s", path, strerror(-r));
		size -= (long long) len;
	}
	return CLI_OK;
}

/* The file entries: each names an argv word once; their bytes follow in QC_RF_FILE frames. */
static int read_files(struct req *q, yajl_val files, struct qc_remote_reader *rd)
{
	size_t n = YAJL_IS_ARRAY(files) ? files->u.array.len : 0;
	static const char *arg_p[] = {"arg", NULL}, *off_p[] = {"offset", NULL},
			  *name_p[] = {"name", NULL}, *size_p[] = {"size", NULL},
			  *out_p[] = {"out", NULL};
	const char *tmp = getenv("TMPDIR");

	if (files && !YAJL_IS_ARRAY(files))
		return send_error("request: 'files' is not an array");
	if (n == 0)
		return CLI_OK;
	if (n > QC_REMOTE_MAX_FILES)
		return send_error("request: more than %d files", QC_REMOTE_MAX_FILES);
	snprintf(q->dir, sizeof(q->dir), "%s/qemuctl-connect.XXXXXX",
		tmp && tmp[0] == '/' && strlen(tmp) < 32 ? tmp : "/tmp");
	if (!mkdtemp(q->dir)) {
		int e = errno;
		q->dir[0] = 0;
		return send_error("cannot make a private directory for the files: %s", strerror(e));
	}
	for (size_t i = 0; i < n; i++) {
		yajl_val f = files->u.array.values[i];
		yajl_val a = yajl_tree_get(f, arg_p, yajl_t_number),
			 o = yajl_tree_get(f, off_p, yajl_t_number),
			 nm = yajl_tree_get(f, name_p, yajl_t_string),
			 sz = yajl_tree_get(f, size_p, yajl_t_number);
		bool out = yajl_tree_get(f, out_p, yajl_t_true) != NULL;
		long long arg, off, size;
		char *path, *word;
		int rc;

		if (!a || !o || !nm || !YAJL_IS_INTEGER(a) || !YAJL_IS_INTEGER(o) ||
			(!out && (!sz || !YAJL_IS_INTEGER(sz))))
			return send_error("request: file %zu lacks arg, offset, name or size", i);
		arg = YAJL_GET_INTEGER(a);
		off = YAJL_GET_INTEGER(o);
		size = out ? 0 : YAJL_GET_INTEGER(sz);
		if (arg < 0 || arg >= q->argc || off < 0 || off > (long long) strlen(q->argv[arg]) ||
			size < 0 || (unsigned long long) size > MAX_FILE_SIZE)
			return send_error("request: file %zu: arg, offset or size out of range", i);
		for (int j = 0; j < q->n_paths; j++)
			if (strstr(q->argv[arg], q->paths[j]))
				return send_error("request: argument %lld names two files", arg);
		path = file_path(q->dir, (int) i, YAJL_GET_STRING(nm));
		q->is_out[q->n_paths] = out;
		q->paths[q->n_paths++] = path;
		if (!out && (rc = receive(rd, i, path, size)) != CLI_OK)
			return rc;
		word = cli_asprintf("%.*s%s", (int) off, q->argv[arg], path);
		free(q->argv[arg]);
		q->argv[arg] = word;
	}
	return CLI_OK;
}

static int parse_request(struct req *q, const char *p, size_t n, struct qc_remote_reader *rd)
{
	static const char *argv_p[] = {"argv", NULL}, *root_p[] = {"root", NULL},
			  *tty_p[] = {"tty", NULL}, *cols_p[] = {"columns", NULL},
			  *rows_p[] = {"rows", NULL}, *env_p[] = {"env", NULL},
			  *files_p[] = {"files", NULL};
	autofree char *text = cli_asprintf("%.*s", (int) n, p);
	char ebuf[256];
	yajl_val t = yajl_tree_parse(text, ebuf, sizeof(ebuf)), v;
	int rc = CLI_OK;

	if (!t)
		return send_error("request: bad JSON: %s", ebuf);
	v = yajl_tree_get(t, argv_p, yajl_t_array);
	if (!v || v->u.array.len < 1 || v->u.array.len > MAX_ARGS) {
		rc = send_error("request: 'argv' must hold 1 to %d strings", MAX_ARGS);
		goto out;
	}
	q->argv = xcalloc(v->u.array.len + 1, sizeof(char *));
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val w = v->u.array.values[i];
		const char *s = YAJL_IS_STRING(w) ? YAJL_GET_STRING(w) : NULL;

		if (!s || strlen(s) > 65536) {
			rc = send_error("request: argv[%zu] is not a string of at most 64 KiB", i);
			goto out;
		}
		q->argv[q->argc++] = cli_strdup(s);
	}
	if ((v = yajl_tree_get(t, root_p, yajl_t_any)) && !YAJL_IS_NULL(v)) {
		if (!YAJL_IS_STRING(v) || YAJL_GET_STRING(v)[0] != '/' ||
			!printable(YAJL_GET_STRING(v), 4096)) {
			rc = send_error("request: 'root' must be an absolute path");
			goto out;
		}
		q->root = cli_strdup(YAJL_GET_STRING(v));
	}
	q->tty = (v = yajl_tree_get(t, tty_p, yajl_t_true)) != NULL;
	if ((v = yajl_tree_get(t, cols_p, yajl_t_number)) && YAJL_IS_INTEGER(v))
		q->columns = (unsigned short) YAJL_GET_INTEGER(v);
	if ((v = yajl_tree_get(t, rows_p, yajl_t_number)) && YAJL_IS_INTEGER(v))
		q->rows = (unsigned short) YAJL_GET_INTEGER(v);
	if ((v = yajl_tree_get(t, env_p, yajl_t_object))) {
		q->env = xcalloc(v->u.object.len + 1, sizeof(char *));
		for (size_t i = 0; i < v->u.object.len && rc == CLI_OK; i++)
			rc = env_add(q, v->u.object.keys[i], v->u.object.values[i]);
	}
	if (rc == CLI_OK)
		rc = read_files(q, yajl_tree_get(t, files_p, yajl_t_any), rd);
out:
	yajl_tree_free(t);
	return rc;
}

/* This qemuctl's argv and environment for the request, built before fork. */
static void child_words(struct req *q, char ***ret_argv, char ***ret_env)
{
	size_t ne = 0, na = 0;
	char **argv = xcalloc((size_t) q->argc + 4, sizeof(char *));
	char **env;

	for (char **e = environ; *e; e++)
		ne++;
	env = xcalloc(ne + (size_t) q->n_env + 1, sizeof(char *));
	argv[na++] = "qemuctl";
	if (q->root) {
		argv[na++] = "--root";
		argv[na++] = q->root;
	}
	for (int i = 0; i < q->argc; i++)
		argv[na++] = q->argv[i];
	ne = 0;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "COLUMNS=", 8) && strncmp(*e, "NO_COLOR=", 9) &&
			(!q->tty || strncmp(*e, "TERM=", 5)))
			env[ne++] = *e;
	for (int i = 0; i < q->n_env; i++)
		env[ne++] = q->env[i];
	*ret_argv = argv;
	*ret_env = env;
}

struct child {
	pid_t pid;
	int in, out, err; /* its stdin, stdout, stderr (a terminal: all the master) */
};

static int start_child(struct req *q, struct child *ch)
{
	char **argv, **env;
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1}, master = -1;
	char slave[128] = "";

	child_words(q, &argv, &env);
	if (q->tty) {
		struct winsize ws = {.ws_row = q->rows, .ws_col = q->columns};

		if ((master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 ||
			grantpt(master) < 0 || unlockpt(master) < 0 ||
			ptsname_r(master, slave, sizeof(slave)) != 0)
			return send_error("cannot make a terminal: %s", strerror(errno));
		if (ws.ws_row && ws.ws_col)
			ioctl(master, TIOCSWINSZ, &ws);
	} else if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 ||
		   pipe2(perr, O_CLOEXEC) < 0) {
		return send_error("cannot make pipes: %s", strerror(errno));
	}
	if ((ch->pid = fork()) < 0)
		return send_error("cannot fork: %s", strerror(errno));
	if (ch->pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (q->tty) {
			int s;

			setsid();
			if ((s = open(slave, O_RDWR)) < 0 || ioctl(s, TIOCSCTTY, 0) < 0 ||
				dup2(s, 0) < 0 || dup2(s, 1) < 0 || dup2(s, 2) < 0)
				_exit(126);
		} else {
			setpgid(0, 0);
			if (dup2(pin[0], 0) < 0 || dup2(pout[1], 1) < 0 || dup2(perr[1], 2) < 0)
				_exit(126);
		}
		execve("/proc/self/exe", argv, env);
		_exit(127);
	}
	free(argv);
	free(env);
	if (q->tty) {
		ch->in = master;
		ch->out = master;
		ch->err = -1;
		return CLI_OK;
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	ch->in = pin[1];
	ch->out = pout[0];
	ch->err = perr[0];
	return CLI_OK;
}

/* What fd has now as frames of type; false at its end. */
static bool relay(int fd, char type, bool nonblock)
{
	char buf[QC_REMOTE_CHUNK];
	ssize_t n;

	if (nonblock)
		fcntl(fd, F_SETFL, O_NONBLOCK);
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n <= 0) /* EOF; EIO: a terminal's last holder closed it; EAGAIN: drained */
		return false;
	return qc_remote_frame_write(STDOUT_FILENO, type, buf, (size_t) n) == 0;
}

/* The client's frames after the request; false when it went away. */
static bool from_client(struct qc_remote_reader *rd, struct child *ch, bool tty)
{
	char type;
	const char *p;
	size_t n;
	int k;

	if (qc_remote_reader_fill(rd, STDIN_FILENO) <= 0)
		return false;
	while ((k = qc_remote_reader_next(rd, &type, &p, &n)) > 0) {
		if (type == QC_RF_STDIN && ch->in >= 0) {
			(void) cli_write_all(ch->in, p, n); /* a command that closed its input */
		} else if (type == QC_RF_STDIN_END && !tty && ch->in >= 0) {
			close(ch->in);
			ch->in = -1;
		} else if (type == QC_RF_WINSIZE && tty && n == 4) {
			const unsigned char *u = (const unsigned char *) p;
			struct winsize ws = {.ws_col = (unsigned short) (u[0] << 8 | u[1]),
				.ws_row = (unsigned short) (u[2] << 8 | u[3])};
			ioctl(ch->out, TIOCSWINSZ, &ws);
		}
	}
	return k == 0;
}

/* The files the command wrote, to the client (the command succeeded). */
static void send_outputs(const struct req *q)
{
	char buf[QC_REMOTE_CHUNK];

	for (int i = 0; i < q->n_paths; i++) {
		unsigned char idx[4] = {0, 0, 0, (unsigned char) i};
		autoclose int fd = -1;
		struct stat st;
		ssize_t n;

		if (!q->is_out[i])
			continue;
		fd = open(q->paths[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
			continue; /* not written: the client keeps what it has */
		if (qc_remote_frame_write(STDOUT_FILENO, QC_RF_OUTPUT, idx, sizeof(idx)) < 0)
			return;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (qc_remote_frame_write(STDOUT_FILENO, QC_RF_FILE, buf, (size_t) n) < 0)
				return;
		if (n < 0 || qc_remote_frame_write(STDOUT_FILENO, QC_RF_OUTPUT_END, idx, sizeof(idx)) < 0)
			return; /* no end frame: the client drops the file */
	}
}

static int run(struct req *q, struct qc_remote_reader *rd)
{
	struct child ch = {0};
	bool out_open = true, err_open, client = true;
	int pidfd, status = 0, rc;
	unsigned char code[4];

	if ((rc = start_child(q, &ch)) != CLI_OK)
		return rc;
	err_open = ch.err >= 0;
	if ((pidfd = (int) syscall(SYS_pidfd_open, ch.pid, 0)) < 0) {
		kill(ch.pid, SIGKILL);
		waitpid(ch.pid, NULL, 0);
		return send_error("pidfd_open: %s", strerror(errno));
	}
	for (;;) {
		struct pollfd p[4] = {{.fd = client ? STDIN_FILENO : -1, .events = POLLIN},
			{.fd = out_open ? ch.out : -1, .events = POLLIN},
			{.fd = err_open ? ch.err : -1, .events = POLLIN},
			{.fd = pidfd, .events = POLLIN}};

		if (poll(p, 4, -1) < 0)
			continue;
		if (p[0].revents && !from_client(rd, &ch, q->tty)) {
			/* the client is gone: nobody reads what the command prints */
			kill(-ch.pid, q->tty ? SIGHUP : SIGTERM);
			client = false;
		}
		if (p[1].revents)
			out_open = relay(ch.out, QC_RF_STDOUT, false);
		if (p[2].revents)
			err_open = relay(ch.err, QC_RF_STDERR, false);
		if (p[3].revents)
			break;
	}
	/* the command ended: what it printed last, not what a daemon it started keeps open */
	while (out_open && relay(ch.out, QC_RF_STDOUT, true))
		;
	while (err_open && relay(ch.err, QC_RF_STDERR, true))
		;
	while (waitpid(ch.pid, &status, 0) < 0 && errno == EINTR)
		;
	close(pidfd);
	if (ch.in >= 0 && ch.in != ch.out)
		close(ch.in);
	close(ch.out);
	if (ch.err >= 0)
		close(ch.err);
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (rc == 0)
		send_outputs(q);
	code[0] = (unsigned char) (rc >> 24);
	code[1] = (unsigned char) (rc >> 16);
	code[2] = (unsigned char) (rc >> 8);
	code[3] = (unsigned char) rc;
	(void) qc_remote_frame_write(STDOUT_FILENO, QC_RF_EXIT, code, sizeof(code));
	return CLI_OK;
}

int cli_serve_stdio(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	autofree char *hello = qc_remote_hello();
	struct qc_remote_reader rd = {0};
	struct req q = {0};
	char type, version[64];
	const char *p;
	size_t n;
	int proto, rc;

	(void) c;
	(void) cmd;
	(void) a;
	signal(SIGPIPE, SIG_IGN);
	if (qc_remote_frame_write(STDOUT_FILENO, QC_RF_HELLO, hello, strlen(hello)) < 0)
		return CLI_ERROR;
	if (qc_remote_reader_read(&rd, STDIN_FILENO, &type, &p, &n) <= 0 || type != QC_RF_HELLO) {
		qc_remote_reader_free(&rd);
		return send_error("expected the client's hello");
	}
	if ((proto = qc_remote_hello_parse(p, n, version, sizeof(version))) != QC_REMOTE_PROTOCOL) {
		qc_remote_reader_free(&rd);
		return send_error("this qemuctl (" PACKAGE_VERSION ") speaks --connect protocol %d, "
				  "the client (version %s) speaks %d",
			QC_REMOTE_PROTOCOL, version, proto);
	}
	if (qc_remote_reader_read(&rd, STDIN_FILENO, &type, &p, &n) <= 0 || type != QC_RF_REQUEST)
		rc = send_error("expected a request");
	else if ((rc = parse_request(&q, p, n, &rd)) == CLI_OK)
		rc = run(&q, &rd);
	req_clear(&q);
	qc_remote_reader_free(&rd);
	return rc;
}
