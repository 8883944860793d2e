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
#include <unistd.h>

#include "driver/cli/cli.h"
#include "util/util.h"

qc_ctx *cli_ctx(struct cli *c)
{
	struct qc_error err = {0};

	if (c->ctx)
		return c->ctx;
	if (qc_ctx_open(c->root, &c->ctx, &err) < 0) {
		cli_error(&err);
		return NULL;
	}
	return c->ctx;
}

char *cli_shown(const char *msg)
{
	struct qc_term_escape st = {0};
	struct qc_buf b = {0};

	qc_term_escape(&st, msg, strlen(msg), &b);
	qc_term_escape_end(&st, &b);
	return qc_buf_steal(&b);
}

int cli_error(const struct qc_error *err)
{
	cleanup_free char *msg =
		cli_shown(err && err->msg[0] ? err->msg : "unknown error (this is a bug)");

	fflush(stdout);
	fprintf(stderr, "qemuctl: error: %s\n", msg);
	/* Out of space: say what to do (qemu-img's message counts too). */
	if (err &&
		(err->code == ENOSPC || err->code == EDQUOT || strstr(err->msg, strerror(ENOSPC)) ||
			strstr(err->msg, strerror(EDQUOT))))
		fputs("qemuctl: hint: free space on that file system ('df -h' shows how much "
		      "is left), then run the command again\n",
			stderr);
	return CLI_ERROR;
}

int cli_print_json(struct qc_jgen *g)
{
	struct qc_error err = {0};
	cleanup_free char *out = NULL;

	if (qc_jgen_finish(g, &out, NULL, &err) < 0)
		return cli_error(&err);
	printf("%s\n", out);
	return CLI_OK;
}

int cli_print_removed(const char *name)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);

	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "removed", name);
	qc_jgen_map_close(g);
	return cli_print_json(g);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

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

const char *cli_opt_value(int argc, char **argv, int *i, const char *opt, bool *missing)
{
	size_t len = strlen(opt);

	*missing = false;
	if (strncmp(argv[*i], opt, len))
		return NULL;
	if (argv[*i][len] == '=')
		return argv[*i] + len + 1;
	if (argv[*i][len])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

void cli_log_to_stderr(int level, const char *msg, void *opaque)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	cleanup_free char *shown = cli_shown(msg);

	(void) opaque;
	fprintf(stderr, "qemuctl: %s: %s\n", level >= 0 && level <= 3 ? names[level] : "log",
		shown);
}

/* ------------------------------------------------- spinner, waiting for ready */

#define WAIT_TAIL_LINES 20

void cli_spin_progress(const char *what, uint64_t done, uint64_t total, void *opaque)
{
	static const char frames[] = "|/-\\";
	struct cli_spin *s = opaque;
	int64_t now = qc_now_ms();

	(void) total;
	if (now - s->last_tail_ms >= 250) {
		cleanup_strv char **tail = NULL;

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
	cleanup_strv char **tail = NULL;
	size_t k;

	if (qc_vm_console_tail(ctx, name, WAIT_TAIL_LINES, &tail, NULL) < 0)
		return;
	fprintf(stderr, "qemuctl: last %d console lines of VM '%s':\n", WAIT_TAIL_LINES, name);
	for (k = 0; tail[k]; k++) {
		/* The guest's text: C1 controls and DEL shown, not sent to the terminal. */
		cleanup_buf struct qc_buf safe = {0};
		struct qc_term_escape esc = {0};

		qc_term_escape(&esc, tail[k], strlen(tail[k]), &safe);
		qc_term_escape_end(&esc, &safe);
		fprintf(stderr, "  | %s\n", safe.len ? safe.data : "");
	}
	if (!tail[0])
		fputs("  | (the console printed nothing)\n", stderr);
}

int cli_wait_ready(struct cli *c, const char *name, int timeout_ms)
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
	rc = qc_vm_wait(ctx, name, timeout_ms, &after, &err);
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
		cleanup_jgen struct qc_jgen *g = qc_jgen_new(true);

		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "name", name);
		qc_jgen_kbool(g, "ready", true);
		qc_jgen_kint(g, "ready_after_ms", after);
		qc_jgen_map_close(g);
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

	if (qc_parse_uint("--timeout", val, 1, 86400, &secs, &err) < 0) {
		cli_usage_error(cmd, "%s", err.msg);
		return -1;
	}
	*ret_ms = (int) secs * 1000;
	return 0;
}
