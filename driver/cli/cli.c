/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every command uses: the lazily opened context, error and usage
 * messages, JSON output, the log handler.
 */
#include "config.h"

#include <errno.h>
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
	static const char *const names[] = {"error", "warning", "info", "debug"};
	autofree char *shown = cli_shown(msg);

	(void) opaque;
	if (cli_json_errors_on())
		cli_json_log_print(level >= 0 && level <= 3 ? names[level] : "log", shown);
	else
		fprintf(stderr, "qemuctl: %s: %s\n", level >= 0 && level <= 3 ? names[level] : "log",
			shown);
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

int cli_wait_ready(
	struct cli *c, const char *name, int timeout_ms, const struct qc_vm_start_opts *start)
{
	struct qc_error err = {0};
	struct cli_spin s = {.name = name};
	qc_ctx *ctx = cli_ctx(c);
	int64_t after = 0;
	int rc;

	if (!ctx)
		return CLI_ERROR;
	s.ctx = ctx;
	if (isatty(STDERR_FILENO) && !c->json && c->verbosity >= 0)
		qc_ctx_set_progress(ctx, cli_spin_progress, &s);
	rc = start ? qc_vm_start_ready(ctx, name, start, timeout_ms, &after, &err)
		   : qc_vm_wait(ctx, name, timeout_ms, &after, &err);
	qc_ctx_set_progress(ctx, NULL, NULL);
	if (s.drawn)
		fputs("\r\033[K", stderr);
	if (rc < 0) {
		cli_error(&err);
		/* a run that timed out or ended: what the guest said last */
		if (err.code == ETIMEDOUT ||
			(err.code == QC_ERR_STATE && strstr(err.msg, "before it was ready")))
			print_tail(ctx, name);
		return CLI_ERROR;
	}
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
