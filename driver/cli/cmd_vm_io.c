/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * console (raw terminal, Ctrl-] detaches), log [--follow] [--raw],
 * events [--follow].  The monitor fans the console out to every attached
 * client and writes console.log, so `console` and `log --follow` work at
 * the same time.
 *
 * log and events print what the guest wrote: on a terminal, its control
 * sequences (clipboard, title, DCS, cursor moves) are shown, not obeyed
 * (qc_term_filter), unless log --raw asks for the bytes.  To a pipe or a
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
#include <time.h>
#include <unistd.h>

#include "driver/cli/cli.h"

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

/* Guest output to stdout: through esc (the terminal's filter) unless it is NULL. */
static int write_guest(struct qc_term_filter *esc, const char *buf, size_t n)
{
	autofree char *safe = NULL;
	size_t len;

	if (!esc)
		return cli_write_all(STDOUT_FILENO, buf, n);
	safe = qc_term_filter(esc, buf, n, &len);
	return cli_write_all(STDOUT_FILENO, safe, len);
}

static int write_guest_end(struct qc_term_filter *esc)
{
	autofree char *safe = NULL;
	size_t len;

	if (!esc)
		return 0;
	safe = qc_term_filter_end(esc, &len);
	return cli_write_all(STDOUT_FILENO, safe, len);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Bytes read but not yet a whole line. */
struct pending {
	char *data;
	size_t len, cap;
};

static void pending_append(struct pending *p, const char *buf, size_t n)
{
	if (p->len + n + 1 > p->cap) {
		size_t cap = p->cap ? p->cap : 4096;

		while (cap < p->len + n + 1)
			cap *= 2;
		if (!(p->data = realloc(p->data, cap)))
			abort();
		p->cap = cap;
	}
	memcpy(p->data + p->len, buf, n);
	p->len += n;
	p->data[p->len] = 0;
}

int cli_console_attach(struct cli *c, const char *name)
{
	struct qc_error err = {0};
	autoclose int fd = -1;
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
			if (cli_write_all(STDOUT_FILENO, buf, (size_t) n) < 0)
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
			if (n > 0 && cli_write_all(fd, buf, (size_t) n) < 0)
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
	struct qc_term_filter *esc)
{
	struct pending pending = {0};
	autoclose int fd = -1;
	char buf[65536];
	struct stat a, b;

	for (;;) {
		ssize_t n;

		if (fd < 0) {
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0 && errno != ENOENT) {
				int e = errno;

				free(pending.data);
				return cli_error_errno(e, "open '%s'", path);
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

				pending_append(&pending, buf, (size_t) n);
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
			close(fd);
			fd = -1;
			continue;
		}
		if (qc_vm_is_running(c->ctx, name, NULL) != 1) {
			/* One last read: the monitor may have written before exiting. */
			if (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0) {
				if (!fn)
					(void) write_guest(esc, buf, (size_t) n);
				else
					pending_append(&pending, buf, (size_t) n);
				continue;
			}
			break;
		}
		sleep_ms(FOLLOW_POLL_MS);
	}
	if (fn && pending.len)
		fn(c, pending.data, pending.len);
	(void) write_guest_end(esc);
	free(pending.data);
	return CLI_OK;
}

static int cmd_log(struct cli *c, const char *name, bool follow, bool raw)
{
	struct qc_term_filter esc = {0};
	struct qc_error err = {0};
	autofree char *path = NULL;
	qc_ctx *ctx = cli_ctx(c);

	if (!ctx)
		return CLI_ERROR;
	if (qc_vm_file_path(ctx, name, QC_VM_FILE_CONSOLE_LOG, &path, &err) < 0)
		return cli_error(&err);
	return tail_file(c, name, path, follow, NULL, raw || !isatty(STDOUT_FILENO) ? NULL : &esc);
}

static bool events_first;
static bool events_tty; /* stdout is a terminal: escape what is printed */

/* One line of events output (a newline is added), escaped on a terminal. */
static void event_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void event_print(const char *fmt, ...)
{
	autofree char *line = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	if (!line)
		return;
	if (events_tty) {
		autofree char *safe = cli_shown(line);

		printf("%s\n", safe);
	} else {
		printf("%s\n", line);
	}
}

static void event_line(struct cli *c, const char *line, size_t len)
{
	static const char *const ts_path[] = {"timestamp", NULL},
				 *const ev_path[] = {"event", NULL},
				 *const data_path[] = {"data", NULL};
	autofree char *text = NULL, *data = NULL;
	yajl_val j, ts, ev, d;

	if (len == 0)
		return;
	if (c->json) {
		/* Without --follow the lines become one array (one document). */
		event_print("%s%.*s", events_first ? "" : ",", (int) len, line);
		events_first = false;
		return;
	}
	text = strndup(line, len);
	if (!text || !(j = yajl_tree_parse(text, NULL, 0))) {
		event_print("%.*s", (int) len, line);
		return;
	}
	ts = yajl_tree_get(j, (const char **) ts_path, yajl_t_string);
	ev = yajl_tree_get(j, (const char **) ev_path, yajl_t_string);
	d = yajl_tree_get(j, (const char **) data_path, yajl_t_any);
	data = d ? cli_json_dump(d) : NULL;
	event_print("%s %s%s%s", ts ? YAJL_GET_STRING(ts) : "-", ev ? YAJL_GET_STRING(ev) : "?",
		data && strcmp(data, "{}") ? " " : "", data && strcmp(data, "{}") ? data : "");
	yajl_tree_free(j);
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
	autofree char *path = NULL;
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
