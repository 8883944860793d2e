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
