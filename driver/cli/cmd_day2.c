/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Day-2 commands (issue 11): `wait NAME [--timeout S]` (also behind
 * `start --wait` and `run --wait`) and `resize NAME DISK SIZE`.
 * Only the public API (driver/qemuctl.h) is used.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/cli/cli.h"
#include "util/util.h"

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

static void wait_help(void)
{
	puts("usage: qemuctl wait NAME [--timeout S]\n\n"
	     "Wait until a running VM's guest has finished first boot (its console shows\n"
	     "the ready marker of its seed, or the domain's <qemuctl:ready-marker>).\n\n"
	     "  --timeout S          seconds to wait (default 300)\n"
	     "On timeout the last 20 console lines are printed and the exit code is 1.");
}

int cli_wait_main(struct cli *c, int argc, char **argv)
{
	const char *name = NULL, *timeout = NULL;
	int i, ms = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			wait_help();
			return CLI_OK;
		} else if (strcmp(a, "--json") == 0) {
			c->json = true;
		} else if (strcmp(a, "--timeout") == 0) {
			if (++i >= argc)
				return cli_usage_error("wait", "wait: --timeout needs a value");
			timeout = argv[i];
		} else if (qc_str_has_prefix(a, "--timeout=")) {
			timeout = a + 10;
		} else if (a[0] == '-' && a[1]) {
			return cli_usage_error("wait", "wait: unknown option '%s'", a);
		} else if (!name) {
			name = a;
		} else {
			return cli_usage_error("wait", "wait: unexpected argument '%s'", a);
		}
	}
	if (!name)
		return cli_usage_error("wait", "wait: missing NAME");
	if (timeout && cli_parse_wait_timeout("wait", timeout, &ms) < 0)
		return CLI_USAGE;
	return cli_wait_ready(c, name, ms);
}

static void resize_help(void)
{
	puts("usage: qemuctl resize NAME DISK SIZE|+SIZE\n\n"
	     "Grow disk DISK (disk0, disk1...; see 'qemuctl info NAME') to SIZE, or by\n"
	     "+SIZE: qemu-img resize when the VM is stopped, QMP block_resize while it\n"
	     "runs (the guest sees the new size at once).  Shrinking is refused.\n"
	     "The file system inside is not grown: cloud images grow the root partition\n"
	     "at first boot (cloud-init growpart); otherwise use growpart/resize2fs.");
}

int cli_resize_main(struct cli *c, int argc, char **argv)
{
	struct qc_error err = {0};
	const char *pos[3];
	int i, n = 0;
	uint64_t size, old_size = 0, new_size = 0;
	bool relative, online = false;
	const char *spec;
	qc_ctx *ctx;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			resize_help();
			return CLI_OK;
		} else if (strcmp(a, "--json") == 0) {
			c->json = true;
		} else if (a[0] == '-' && a[1] == '-') {
			return cli_usage_error("resize", "resize: unknown option '%s'", a);
		} else if (n < 3) {
			pos[n++] = a;
		} else {
			return cli_usage_error("resize", "resize: unexpected argument '%s'", a);
		}
	}
	if (n < 3)
		return cli_usage_error("resize", "resize: missing %s",
			n == 0	 ? "NAME"
			: n == 1 ? "DISK"
				 : "SIZE");
	spec = pos[2];
	relative = spec[0] == '+';
	if (qc_parse_size("SIZE", relative ? spec + 1 : spec, &size, &err) < 0)
		return cli_usage_error("resize", "resize: %s", err.msg);
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (qc_vm_resize(ctx, pos[0], pos[1], size, relative, &old_size, &new_size, &online, &err) <
		0)
		return cli_error(&err);
	if (c->json) {
		cleanup_jgen struct qc_jgen *g = qc_jgen_new(true);

		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "name", pos[0]);
		qc_jgen_kstring(g, "disk", pos[1]);
		qc_jgen_kuint(g, "old_size", old_size);
		qc_jgen_kuint(g, "new_size", new_size);
		qc_jgen_kbool(g, "online", online);
		qc_jgen_map_close(g);
		return cli_print_json(g);
	} else if (c->verbosity >= 0) {
		char a[32], b[32];

		qc_format_size(old_size, a, sizeof(a));
		qc_format_size(new_size, b, sizeof(b));
		if (old_size == new_size)
			printf("disk '%s' of VM '%s' is %s already\n", pos[1], pos[0], a);
		else
			printf("disk '%s' of VM '%s': %s -> %s (%s)\n", pos[1], pos[0], a, b,
				online ? "online, the guest sees it now" : "offline");
	}
	return CLI_OK;
}
