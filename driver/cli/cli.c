/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every command uses: the lazily opened context, error and usage
 * messages, JSON output, the log handler.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "driver/cli/cli.h"

/* ---------------------------------------------------- memory, strings, time */

void cli_freep(void *p)
{
	free(*(void **) p);
}

void cli_closep(int *fd)
{
	int e = errno;

	if (*fd >= 0)
		close(*fd);
	errno = e;
}

void cli_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void cli_strv_freep(char ***v)
{
	cli_strv_free(*v);
	*v = NULL;
}

char *cli_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	return s;
}

char *cli_strdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort();
	return d;
}

char *cli_strv_join(char *const *v, const char *sep)
{
	size_t len = 1, i;
	char *out;

	for (i = 0; v && v[i]; i++)
		len += strlen(v[i]) + strlen(sep);
	if (!(out = malloc(len)))
		abort();
	out[0] = 0;
	for (i = 0; v && v[i]; i++) {
		if (i)
			strcat(out, sep);
		strcat(out, v[i]);
	}
	return out;
}

int64_t cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cli_format_time_utc(int64_t realtime_ms, char *buf, size_t size)
{
	time_t t = (time_t) (realtime_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (realtime_ms % 1000));
}

/* ------------------------------------------------------ context and messages */

qc_ctx *cli_ctx(struct cli *c)
{
	struct qc_error err = {0};

	if (c->ctx)
		return c->ctx;
	if (qc_ctx_open(c->root, &c->ctx, &err) < 0) {
		cli_error(&err);
		return NULL;
	}
	/* The CLI exits after its command and waits for no child it did not start. */
	qc_ctx_set_monitor_as_child(c->ctx, true);
	/* A root named on the command line is meant to be there: a typo is no empty root. */
	if (c->root && access(c->root, F_OK) < 0 && errno == ENOENT) {
		cli_error_errno(ENOENT,
			"--root '%s': no such state root (create it with 'mkdir -m 0700 %s', or "
			"leave --root out for the default)",
			c->root, c->root);
		qc_ctx_close(c->ctx);
		c->ctx = NULL;
		return NULL;
	}
	return c->ctx;
}

char *cli_shown(const char *msg)
{
	struct qc_term_filter st = {0};
	autofree char *body = qc_term_filter(&st, msg, strlen(msg), NULL);
	autofree char *end = qc_term_filter_end(&st, NULL);

	return cli_asprintf("%s%s", body, end);
}

int cli_error(const struct qc_error *err)
{
	autofree char *msg =
		cli_shown(err && err->msg[0] ? err->msg : "unknown error (this is a bug)");

	static const char nospace[] = "free space on that file system ('df -h' shows how much "
				      "is left), then run the command again";
	/* Out of space: say what to do (qemu-img's message counts too). */
	bool full = err && (err->code == ENOSPC || err->code == EDQUOT ||
				   strstr(err->msg, strerror(ENOSPC)) ||
				   strstr(err->msg, strerror(EDQUOT)));

	if (cli_json_errors_on()) {
		cli_json_error_print(qc_error_name(err ? err->code : 0), msg, full ? nospace : NULL);
		return CLI_ERROR;
	}
	fflush(stdout);
	fprintf(stderr, "qemuctl: error: %s\n", msg);
	if (full)
		fprintf(stderr, "qemuctl: hint: %s\n", nospace);
	return CLI_ERROR;
}

int cli_error_errno(int e, const char *fmt, ...)
{
	struct qc_error err = {.code = e};
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
	va_end(ap);
	n = strlen(err.msg);
	snprintf(err.msg + n, sizeof(err.msg) - n, ": %s", strerror(e));
	return cli_error(&err);
}

int cli_remove(struct cli *c, const struct cli_args *a, const char *group, const char *noun,
	int (*rm)(qc_ctx *ctx, const char *name, struct qc_error *err))
{
	struct qc_error err = {0};
	qc_ctx *ctx;

	if (a->n_pos != 1 || a->pos[0][0] == '-')
		return cli_usage_error(group, "%s: expected exactly one NAME", a->prefix);
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (rm(ctx, a->pos[0], &err) < 0)
		return cli_error(&err);
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(false);

		cli_json_map_open(g);
		cli_json_kstring(g, "removed", a->pos[0]);
		cli_json_map_close(g);
		return cli_print_json(g);
	}
	if (c->verbosity >= 0)
		printf("%s '%s' removed\n", noun, a->pos[0]);
	return CLI_OK;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	if (cli_json_errors_on()) {
		autofree char *raw = NULL, *msg = NULL, *hint = NULL;

		va_start(ap, fmt);
		if (vasprintf(&raw, fmt, ap) < 0)
			abort();
		va_end(ap);
		msg = cli_shown(raw);
		hint = cli_asprintf("Try 'qemuctl %s%s--help'.", cmd ? cmd : "", cmd ? " " : "");
		cli_json_error_print("usage", msg, hint);
		return CLI_USAGE;
	}
	fflush(stdout);
	fputs("qemuctl: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "\nTry 'qemuctl %s --help'.\n", cmd);
	else
		fputs("\nTry 'qemuctl --help'.\n", stderr);
	return CLI_USAGE;
}

void cli_log_to_stderr(int level, const char *msg, void *opaque)
{
	static const char *const names[] = {[QC_LOG_LEVEL_ERROR] = "error",
		[QC_LOG_LEVEL_WARNING] = "warning", [QC_LOG_LEVEL_INFO] = "info",
		[QC_LOG_LEVEL_DEBUG] = "debug"};
	_Static_assert(CLI_ARRAY_SIZE(names) == QC_LOG_LEVEL_COUNT, "names: one for each level");
	autofree char *shown = cli_shown(msg);
	const char *name = level >= 0 && level < QC_LOG_LEVEL_COUNT ? names[level] : "log";

	(void) opaque;
	if (cli_json_errors_on())
		cli_json_log_print(name, shown);
	else
		fprintf(stderr, "qemuctl: %s: %s\n", name, shown);
}

/* ------------------------------------------------- spinner, waiting for ready */

#define WAIT_TAIL_LINES 20

void cli_spin_progress(const char *what, uint64_t done, uint64_t total, void *opaque)
{
	static const char frames[] = "|/-\\";
	struct cli_spin *s = opaque;
	int64_t now = cli_now_ms();

	(void) total;
	if (now - s->last_tail_ms >= 250) {
		autostrv char **tail = NULL;

		s->last_tail_ms = now;
		if (qc_vm_console_tail(s->ctx, s->name, 1, &tail, NULL) == 0 && tail[0]) {
			size_t k;

			snprintf(s->last, sizeof(s->last), "%s", tail[0]);
			for (k = 0; s->last[k]; k++)
				if ((unsigned char) s->last[k] >= 0x7f)
					s->last[k] = '?';
		}
	}
	fprintf(stderr, "\r\033[K%c %s: %.1f s  %s", frames[s->tick++ % 4], what,
		(double) done / 1000.0, s->last);
	fflush(stderr);
	s->drawn = true;
}

static void print_tail(qc_ctx *ctx, const char *name)
{
	autostrv char **tail = NULL;
	size_t k;

	if (qc_vm_console_tail(ctx, name, WAIT_TAIL_LINES, &tail, NULL) < 0)
		return;
	fprintf(stderr, "qemuctl: last %d console lines of VM '%s':\n", WAIT_TAIL_LINES, name);
	for (k = 0; tail[k]; k++) {
		/* The guest's text: C1 controls and DEL shown, not sent to the terminal. */
		autofree char *safe = cli_shown(tail[k]);

		fprintf(stderr, "  | %s\n", safe);
	}
	if (!tail[0])
		fputs("  | (the console printed nothing)\n", stderr);
}

void cli_spin_begin(struct cli *c, qc_ctx *ctx, const char *name, struct cli_spin *s)
{
	*s = (struct cli_spin){.ctx = ctx, .name = name};
	if (isatty(STDERR_FILENO) && !c->json && c->verbosity >= 0)
		qc_ctx_set_progress(ctx, cli_spin_progress, s);
}

void cli_spin_end(struct cli_spin *s)
{
	qc_ctx_set_progress(s->ctx, NULL, NULL);
	if (s->drawn)
		fputs("\r\033[K", stderr);
	s->drawn = false;
}

int cli_wait_error(qc_ctx *ctx, const char *name, const struct qc_error *err)
{
	cli_error(err);
	/* a run that timed out, ended or cannot boot: what the guest said last */
	if (err->code == ETIMEDOUT ||
		(err->code == QC_ERR_STATE && (strstr(err->msg, "before it was ready") ||
						  strstr(err->msg, "cannot boot:"))))
		print_tail(ctx, name);
	return CLI_ERROR;
}

/*
 * Ctrl-C while waiting for ready: the VM keeps running, so say so and how to
 * wait again, on a line of its own (the spinner erased).  Before the wait
 * began (start --wait still starting) SIGINT does what it did before.
 */
/* 128 + SIGINT, as a shell reports a command Ctrl-C ended */
#define WAIT_INTERRUPTED_EXIT 130

struct wait_spin {
	struct cli_spin spin;
	bool tty; /* draw the spinner */
};

static struct {
	struct cli_spin *spin;
	volatile sig_atomic_t waiting;
	char msg[512];
	size_t len;
} wait_int;

static void wait_interrupted(int sig)
{
	ssize_t w;

	if (!wait_int.waiting) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	if (wait_int.spin->drawn)
		w = write(STDERR_FILENO, "\r\033[K", 4);
	w = write(STDERR_FILENO, wait_int.msg, wait_int.len);
	(void) w;
	_exit(WAIT_INTERRUPTED_EXIT);
}

/* The wait loop's progress: from its first call on, the VM is started and waited for. */
static void wait_progress(const char *what, uint64_t done, uint64_t total, void *opaque)
{
	struct wait_spin *w = opaque;

	wait_int.waiting = 1;
	if (w->tty)
		cli_spin_progress(what, done, total, &w->spin);
}

int cli_wait_ready(
	struct cli *c, const char *name, int timeout_ms, const struct qc_vm_start_opts *start)
{
	struct qc_error err = {0};
	struct wait_spin w = {.spin = {.name = name}};
	struct cli_spin *s = &w.spin;
	struct sigaction sa = {.sa_handler = wait_interrupted}, old;
	qc_ctx *ctx = cli_ctx(c);
	int64_t after = 0;
	int n, rc;

	if (!ctx)
		return CLI_ERROR;
	s->ctx = ctx;
	w.tty = isatty(STDERR_FILENO) && !c->json && c->verbosity >= 0;
	qc_ctx_set_progress(ctx, wait_progress, &w);
	n = snprintf(wait_int.msg, sizeof(wait_int.msg),
		"qemuctl: interrupted: VM '%s' is not ready yet and keeps running; wait for it "
		"again with 'qemuctl wait %s'\n",
		name, name);
	wait_int.len = n > 0 && (size_t) n < sizeof(wait_int.msg) ? (size_t) n : 0;
	wait_int.spin = s;
	wait_int.waiting = 0;
	sigemptyset(&sa.sa_mask);
	/* an ignored SIGINT (a background job of a script) stays ignored */
	if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler != SIG_IGN && wait_int.len)
		sigaction(SIGINT, &sa, NULL);
	else
		old.sa_handler = SIG_IGN;
	rc = start ? qc_vm_start_ready(ctx, name, start, timeout_ms, &after, &err)
		   : qc_vm_wait(ctx, name, timeout_ms, &after, &err);
	if (old.sa_handler != SIG_IGN)
		sigaction(SIGINT, &old, NULL);
	wait_int.waiting = 0;
	cli_spin_end(s);
	if (rc < 0)
		return cli_wait_error(ctx, name, &err);
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(true);

		cli_json_map_open(g);
		cli_json_kstring(g, "name", name);
		cli_json_kbool(g, "ready", true);
		cli_json_kint(g, "ready_after_ms", after);
		cli_json_map_close(g);
		return cli_print_json(g);
	} else if (c->verbosity >= 0) {
		printf("VM '%s' is ready (after %.1f s)\n", name, (double) after / 1000.0);
	}
	return CLI_OK;
}

/* --timeout S as milliseconds; a usage error is printed and -1 returned. */
int cli_parse_wait_timeout(const char *cmd, const char *val, int *ret_ms)
{
	struct qc_error err = {0};
	uint64_t secs;

	if (qc_uint_parse("--timeout", val, 1, 86400, &secs, &err) < 0) {
		cli_usage_error(cmd, "%s", err.msg);
		return -1;
	}
	*ret_ms = (int) secs * 1000;
	return 0;
}

int cli_print_json(struct cli_json *j)
{
	struct qc_error err = {0};
	char *out = cli_json_finish(j, &err);

	if (!out)
		return cli_error(&err);
	printf("%s\n", out);
	free(out);
	return CLI_OK;
}

int cli_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t) w;
	}
	return 0;
}
