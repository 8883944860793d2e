/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl autostart NAME [--disable]     mark a VM to start at boot (or not)
 * qemuctl autostart --run                start every autostart VM (in parallel)
 * qemuctl autostart --shutdown [--timeout S]   stop every running VM gracefully
 * The last two are what qemuctl-autostart.service runs at boot and shutdown.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/cli/cli.h"

void cli_autostart_usage(FILE *f, const char *name)
{
	(void) name;
	fputs("usage: qemuctl autostart NAME [--disable]\n"
	      "       qemuctl autostart --run\n"
	      "       qemuctl autostart --shutdown [--timeout S]\n"
	      "\n"
	      "NAME [--disable]  start the VM at boot (or no longer); stored in its domain.xml\n"
	      "--run             start every stopped VM marked autostart, in parallel, and\n"
	      "                  report VMs that ran when the host went down (host-reboot);\n"
	      "                  those are only restarted when marked autostart\n"
	      "--shutdown        stop every running VM gracefully, in parallel: ACPI power\n"
	      "                  button until --timeout S (default 60), then quit, then SIGKILL\n"
	      "Works without systemd; qemuctl-autostart.service runs --run and --shutdown.\n",
		f);
}

/* A spinner with a count on a terminal's stderr: "| starting VMs: 1/3". */
static void spinner(const char *what, uint64_t done, uint64_t total, void *opaque)
{
	static const char frames[] = "|/-\\";
	unsigned *turn = opaque;

	fprintf(stderr, "\r%c %s: %llu/%llu ", frames[(*turn)++ % 4], what,
		(unsigned long long) done, (unsigned long long) total);
	fflush(stderr);
}

static void spinner_end(bool drawn)
{
	if (drawn)
		fputs("\r\033[K", stderr);
}

static void json_names(
	struct cli_json *g, const char *key, const struct qc_autostart_report *r, bool host_reboot)
{
	cli_json_karray_open(g, key);
	for (size_t i = 0; i < r->n; i++)
		if (host_reboot ? r->vms[i].host_reboot : r->vms[i].acted)
			cli_json_string(g, r->vms[i].name);
	cli_json_array_close(g);
}

static int print_report(struct cli *c, const struct qc_autostart_report *r, bool run)
{
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(false);

		cli_json_map_open(g);
		json_names(g, run ? "started" : "stopped", r, false);
		cli_json_karray_open(g, "failed");
		for (size_t i = 0; i < r->n; i++) {
			if (r->vms[i].rc >= 0)
				continue;
			cli_json_map_open(g);
			cli_json_kstring(g, "name", r->vms[i].name);
			cli_json_kstring(g, "error", r->vms[i].error);
			cli_json_map_close(g);
		}
		cli_json_array_close(g);
		if (run)
			json_names(g, "host_reboot", r, true);
		cli_json_map_close(g);
		if (cli_print_json(g) != CLI_OK)
			return CLI_ERROR;
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct qc_autostart_vm *v = &r->vms[i];

		if (v->rc < 0) {
			fflush(stdout);
			fprintf(stderr, "qemuctl: error: %s\n",
				v->error ? v->error : "unknown error");
			continue;
		}
		if (c->json || c->verbosity < 0)
			continue;
		if (v->host_reboot)
			fprintf(stderr,
				"qemuctl: warning: VM '%s' was running when the host went down; "
				"%s\n",
				v->name,
				v->autostart ? "restarted (autostart is on)"
					     : "not restarted: autostart is off "
					       "('qemuctl start' it, or 'qemuctl autostart' it)");
		if (v->acted)
			printf("%s VM '%s'\n", run ? "started" : "stopped", v->name);
	}
	return r->n_failed ? CLI_ERROR : CLI_OK;
}

int cli_autostart(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	bool disable = a->set[OPT_DISABLE], run = a->set[OPT_RUN], shutdown = a->set[OPT_SHUTDOWN];
	struct qc_autostart_report *r = NULL;
	struct qc_error err = {0};
	uint64_t timeout = 60;
	unsigned turn = 0;
	qc_ctx *ctx;
	bool spin;
	int rc;

	(void) cmd;
	if (a->set[OPT_TIMEOUT] &&
		qc_uint_parse("--timeout", a->val[OPT_TIMEOUT], 0, 3600, &timeout, &err) < 0)
		return cli_usage_error("autostart", "%s", err.msg);
	if (run + shutdown + (a->n_pos > 0) != 1 || (run + shutdown && disable))
		return cli_usage_error("autostart",
			"autostart: give one VM NAME [--disable], or --run, or --shutdown");
	if (a->set[OPT_TIMEOUT] && !shutdown)
		return cli_usage_error("autostart", "autostart: --timeout goes with --shutdown");
	if (a->n_pos > 1)
		return cli_usage_error("autostart", "unexpected argument '%s'", a->pos[1]);
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	spin = !c->json && c->verbosity >= 0 && isatty(STDERR_FILENO);

	if (!run && !shutdown) {
		const char *name = a->pos[0];

		if (qc_vm_set_autostart(ctx, name, !disable, &err) < 0)
			return cli_error(&err);
		if (c->json) {
			autojson struct cli_json *g = cli_json_new(false);

			cli_json_map_open(g);
			cli_json_kstring(g, "name", name);
			cli_json_kbool(g, "autostart", !disable);
			cli_json_map_close(g);
			return cli_print_json(g);
		}
		if (c->verbosity >= 0)
			printf("VM '%s' %s\n", name,
				disable ? "no longer starts at boot" : "starts at boot");
		return CLI_OK;
	}
	if (spin)
		qc_ctx_set_progress(ctx, spinner, &turn);
	if (run)
		rc = qc_autostart_run(ctx, &r, &err);
	else
		rc = qc_autostart_shutdown(ctx, (int) timeout * 1000, &r, &err);
	qc_ctx_set_progress(ctx, NULL, NULL);
	spinner_end(spin && turn > 0);
	if (rc < 0)
		return cli_error(&err);
	rc = print_report(c, r, run);
	qc_autostart_report_free(r);
	return rc;
}
