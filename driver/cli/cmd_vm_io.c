/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * console (raw terminal, Ctrl-] detaches), log [--follow] [--raw],
 * events [--follow].  The monitor fans the console out to every attached
 * client and writes console.log, so `console` and `log --follow` work at
 * the same time.
 *
 * log and events print what the guest wrote: on a terminal, its control
 * sequences (clipboard, title, DCS, cursor moves) are shown, not obeyed
 * (qc_term_escape), unless log --raw asks for the bytes.  To a pipe or a
 * file they go unchanged.  console stays raw: it is the guest's terminal.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "driver/cli/cli.h"
#include "util/util.h"

#define DETACH_KEY 0x1d /* Ctrl-] */
#define FOLLOW_POLL_MS 100

static struct termios saved_tio;
static bool tio_saved;

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tio);
	tio_saved = false;
}

static int write_out(int fd, const char *buf, size_t n)
{
	return qc_write_all(fd, buf, n, NULL);
}

/* Guest output to stdout: through esc (the terminal's filter) unless it is NULL. */
static int write_guest(struct qc_term_escape *esc, const char *buf, size_t n)
{
	cleanup_buf struct qc_buf b = {0};

	if (!esc)
		return write_out(STDOUT_FILENO, buf, n);
	qc_term_escape(esc, buf, n, &b);
	return write_out(STDOUT_FILENO, b.data, b.len);
}

static int write_guest_end(struct qc_term_escape *esc)
{
	cleanup_buf struct qc_buf b = {0};

	if (!esc)
		return 0;
	qc_term_escape_end(esc, &b);
	return write_out(STDOUT_FILENO, b.data, b.len);
}

int cli_console_attach(struct cli *c, const char *name)
{
	struct qc_error err = {0};
	cleanup_close int fd = -1;
	qc_ctx *ctx = cli_ctx(c);
	bool tty = isatty(STDIN_FILENO), in_open = true;
	char buf[8192];

	if (!ctx)
		return CLI_ERROR;
	if (qc_vm_console_open(ctx, name, &fd, &err) < 0)
		return cli_error(&err);
	signal(SIGPIPE, SIG_IGN);
	if (tty && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		struct termios raw = saved_tio;

		cfmakeraw(&raw);
		tio_saved = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
		atexit(restore_tty);
		fprintf(stderr, "Connected to VM '%s' (Ctrl-] detaches).\r\n", name);
	}
	for (;;) {
		struct pollfd p[2] = {
			{.fd = fd, .events = POLLIN}, {.fd = STDIN_FILENO, .events = POLLIN}};
		ssize_t n;

		if (poll(p, in_open ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			n = read(fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break; /* the VM stopped */
			if (write_out(STDOUT_FILENO, buf, (size_t) n) < 0)
				break;
		}
		if (in_open && p[1].revents) {
			char *k;

			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				/* Input ended (not a terminal): keep showing output. */
				in_open = false;
				continue;
			}
			k = tty ? memchr(buf, DETACH_KEY, (size_t) n) : NULL;
			if (k)
				n = k - buf;
			if (n > 0 && write_out(fd, buf, (size_t) n) < 0)
				break;
			if (k)
				break;
		}
	}
	restore_tty();
	if (tty)
		fprintf(stderr, "\nDetached from VM '%s'.\n", name);
	return CLI_OK;
}

/*
 * Copy path to stdout; with follow, keep copying while the VM runs,
 * reopening the file when the monitor rotated it.  line_fn, when set, gets
 * each complete line instead of the raw bytes.
 */
typedef void (*line_fn)(struct cli *c, const char *line, size_t len);

static int tail_file(struct cli *c, const char *name, const char *path, bool follow, line_fn fn,
	struct qc_term_escape *esc)
{
	struct qc_buf pending = {0};
	cleanup_close int fd = -1;
	char buf[65536];
	struct stat a, b;

	for (;;) {
		ssize_t n;

		if (fd < 0) {
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0 && errno != ENOENT) {
				struct qc_error err = {0};

				qc_error_errno(&err, errno, "open '%s'", path);
				qc_buf_free(&pending);
				return cli_error(&err);
			}
		}
		n = fd >= 0 ? read(fd, buf, sizeof(buf)) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0) {
			if (!fn) {
				if (write_guest(esc, buf, (size_t) n) < 0)
					break;
			} else {
				char *nl;

				qc_buf_append(&pending, buf, (size_t) n);
				while ((nl = memchr(pending.data, '\n', pending.len))) {
					size_t len = (size_t) (nl - pending.data);

					fn(c, pending.data, len);
					memmove(pending.data, nl + 1, pending.len - len - 1);
					pending.len -= len + 1;
					pending.data[pending.len] = 0;
				}
				fflush(stdout);
			}
			continue;
		}
		if (!follow)
			break;
		/* At the end: rotated?  Still running? */
		if (fd >= 0 && stat(path, &a) == 0 && fstat(fd, &b) == 0 &&
			(a.st_ino != b.st_ino || a.st_dev != b.st_dev)) {
			close(TAKE_FD(fd));
			continue;
		}
		if (qc_vm_is_running(c->ctx, name, NULL) != 1) {
			/* One last read: the monitor may have written before exiting. */
			if (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0) {
				if (!fn)
					(void) write_guest(esc, buf, (size_t) n);
				else
					qc_buf_append(&pending, buf, (size_t) n);
				continue;
			}
			break;
		}
		qc_sleep_ms(FOLLOW_POLL_MS);
	}
	if (fn && pending.len)
		fn(c, pending.data, pending.len);
	(void) write_guest_end(esc);
	qc_buf_free(&pending);
	return CLI_OK;
}

static int cmd_log(struct cli *c, const char *name, bool follow, bool raw)
{
	struct qc_term_escape esc = {0};
	struct qc_error err = {0};
	cleanup_free char *path = NULL;
	qc_ctx *ctx = cli_ctx(c);

	if (!ctx)
		return CLI_ERROR;
	if (qc_vm_file_path(ctx, name, QC_VM_FILE_CONSOLE_LOG, &path, &err) < 0)
		return cli_error(&err);
	return tail_file(c, name, path, follow, NULL,
		raw || !isatty(STDOUT_FILENO) ? NULL : &esc);
}

static bool events_first;
static bool events_tty; /* stdout is a terminal: escape what is printed */

/* One line of events output (a newline is added), escaped on a terminal. */
static void event_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void event_print(const char *fmt, ...)
{
	cleanup_buf struct qc_buf line = {0};
	cleanup_buf struct qc_buf safe = {0};
	struct qc_term_escape esc = {0};
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return;
	qc_buf_puts(&line, s);
	free(s);
	if (events_tty) {
		qc_term_escape(&esc, line.data, line.len, &safe);
		qc_term_escape_end(&esc, &safe);
		printf("%s\n", safe.len ? safe.data : "");
	} else {
		printf("%s\n", line.data);
	}
}

static void event_line(struct cli *c, const char *line, size_t len)
{
	cleanup_json qc_json *j = NULL;
	cleanup_free char *data = NULL;
	const char *ts, *ev;

	if (len == 0)
		return;
	if (c->json) {
		/* Without --follow the lines become one array (one document). */
		event_print("%s%.*s", events_first ? "" : ",", (int) len, line);
		events_first = false;
		return;
	}
	if (qc_json_parse(line, len, &j, NULL) < 0) {
		event_print("%.*s", (int) len, line);
		return;
	}
	ts = qc_json_string(qc_json_get(j, "timestamp"));
	ev = qc_json_string(qc_json_get(j, "event"));
	data = qc_json_get(j, "data") ? qc_json_dump(qc_json_get(j, "data")) : NULL;
	event_print("%s %s%s%s", ts ? ts : "-", ev ? ev : "?", data && strcmp(data, "{}") ? " " : "",
		data && strcmp(data, "{}") ? data : "");
}

static void event_line_follow(struct cli *c, const char *line, size_t len)
{
	if (c->json) {
		if (len)
			event_print("%.*s", (int) len, line);
		return;
	}
	event_line(c, line, len);
}

static int cmd_events(struct cli *c, const char *name, bool follow)
{
	struct qc_error err = {0};
	cleanup_free char *path = NULL;
	qc_ctx *ctx = cli_ctx(c);
	int rc;

	if (!ctx)
		return CLI_ERROR;
	if (qc_vm_file_path(ctx, name, QC_VM_FILE_EVENTS, &path, &err) < 0)
		return cli_error(&err);
	events_tty = isatty(STDOUT_FILENO);
	if (follow)
		return tail_file(c, name, path, true, event_line_follow, NULL);
	events_first = true;
	if (c->json)
		puts("[");
	rc = tail_file(c, name, path, false, event_line, NULL);
	if (c->json)
		puts("]");
	return rc;
}

int cli_vm_console(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	(void) cmd;
	return cli_console_attach(c, a->pos[0]);
}

int cli_vm_log(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	(void) cmd;
	return cmd_log(c, a->pos[0], a->set[OPT_FOLLOW], a->set[OPT_RAW]);
}

int cli_vm_events(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	(void) cmd;
	return cmd_events(c, a->pos[0], a->set[OPT_FOLLOW]);
}
