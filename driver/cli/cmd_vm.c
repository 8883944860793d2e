/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VM commands: create, run, define, dumpxml, undefine, start, stop, destroy,
 * reboot, pause, resume, delete, list, info, qmp (console, log, events:
 * cmd_vm_io.c).  main.c's table gives each its options and positionals.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "driver/cli/cli.h"

/* ------------------------------------------------------------- create */

/* "stopped VM 'x'": for a person at a terminal; not with -q, --json or into a pipe. */
static int confirm(const struct cli *c, const char *what, const char *name)
{
	if (c->tty && c->verbosity >= 0 && !c->json)
		printf("%s VM '%s'\n", what, name);
	return CLI_OK;
}

static const char *const *multi(struct cli_args *a, enum cli_opt k)
{
	return (const char *const *) a->multi[k];
}

static int create_from_args(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_vm_create_opts o = {0};
	struct qc_error err = {0};
	uint64_t v;
	qc_ctx *ctx;

	o.name = a->pos[0];
	o.image = a->val[OPT_IMAGE];
	o.disk_image = a->val[OPT_DISK_IMAGE];
	o.kernel = a->val[OPT_KERNEL];
	o.initrd = a->val[OPT_INITRD];
	o.append = a->val[OPT_APPEND];
	o.arch = a->val[OPT_ARCH];
	o.accel = a->val[OPT_ACCEL];
	if (a->set[OPT_CPUS]) {
		if (qc_uint_parse("--cpus", a->val[OPT_CPUS], 1, 1024, &v, &err) < 0)
			return cli_usage_error(cmd->name, "%s", err.msg);
		o.cpus = (unsigned) v;
	}
	if (a->set[OPT_MEMORY] &&
		cli_size_parse("--memory", a->val[OPT_MEMORY], &o.memory, &err) < 0)
		return cli_usage_error(cmd->name, "%s", err.msg);
	/* 0 means "the default" to the API; from the user it is a mistake. */
	if (a->set[OPT_MEMORY] && o.memory == 0)
		return cli_usage_error(
			cmd->name, "--memory '%s': too small, at least 16M", a->val[OPT_MEMORY]);
	if (a->set[OPT_DISK_SIZE] &&
		cli_size_parse("--disk-size", a->val[OPT_DISK_SIZE], &o.disk_size, &err) < 0)
		return cli_usage_error(cmd->name, "%s", err.msg);
	if (a->set[OPT_DISK_SIZE] && o.disk_size == 0)
		return cli_usage_error(cmd->name,
			"--disk-size '%s': must be larger than 0 (leave it out to keep the image's "
			"size)",
			a->val[OPT_DISK_SIZE]);
	o.disks = multi(a, OPT_DISK);
	o.nets = multi(a, OPT_NET);
	o.shares = multi(a, OPT_SHARE);
	o.hostname = a->val[OPT_HOSTNAME];
	o.ssh_keys = multi(a, OPT_SSH_KEY);
	o.user_data = a->val[OPT_USER_DATA];
	o.network_config = a->val[OPT_NETCFG];
	o.no_seed = a->set[OPT_NO_SEED];
	o.seed_bus = a->val[OPT_SEED_BUS];
	o.user = a->val[OPT_USER];
	o.tpm = a->set[OPT_TPM];
	o.secure_boot = a->set[OPT_SECURE_BOOT];
	o.display = a->val[OPT_DISPLAY];
	if (o.seed_bus && strcmp(o.seed_bus, "cdrom") != 0 && strcmp(o.seed_bus, "virtio") != 0)
		return cli_usage_error(
			cmd->name, "--seed-bus '%s': use cdrom or virtio", o.seed_bus);
	if (o.seed_bus && o.no_seed)
		return cli_usage_error(cmd->name, "--seed-bus has no effect with --no-seed");
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (qc_vm_create(ctx, &o, &err) < 0)
		return cli_error(&err);
	return CLI_OK;
}

int cli_vm_create(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	int rc = create_from_args(c, cmd, a);

	return rc == CLI_OK ? confirm(c, "created", a->pos[0]) : rc;
}

int cli_vm_run(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_error err = {0};
	int rc;

	int wait_ms = 0;

	if (a->set[OPT_RM] && !a->set[OPT_CONSOLE])
		return cli_usage_error(cmd->name, "run: --rm needs --console");
	if (a->set[OPT_WAIT] && a->set[OPT_CONSOLE])
		return cli_usage_error(cmd->name, "run: --wait and --console exclude each other");
	if (a->set[OPT_TIMEOUT] && !a->set[OPT_WAIT])
		return cli_usage_error(cmd->name, "run: --timeout needs --wait");
	if (a->set[OPT_WAIT] && a->set[OPT_NO_SEED])
		return cli_usage_error(cmd->name,
			"run: --wait needs the seed's ready marker; a VM made with --no-seed has "
			"none");
	if (a->set[OPT_TIMEOUT] &&
		cli_parse_wait_timeout(cmd->name, a->val[OPT_TIMEOUT], &wait_ms) < 0)
		return CLI_USAGE;
	if ((rc = create_from_args(c, cmd, a)) != CLI_OK)
		return rc;
	if (qc_vm_start(c->ctx, a->pos[0], NULL, &err) < 0) {
		struct qc_error e2 = {0};
		autofree char *msg = NULL;

		/* run made the VM: a failed start takes it away again, or says it stayed */
		if (qc_vm_delete(c->ctx, a->pos[0], true, &e2) == 0)
			msg = cli_asprintf(
				"%s (the VM this run created was removed again)", err.msg);
		else
			msg = cli_asprintf("%s (the VM's definition was kept: %s; remove it with "
					   "'qemuctl delete %s')",
				err.msg, e2.msg, a->pos[0]);
		snprintf(err.msg, sizeof(err.msg), "%s", msg);
		return cli_error(&err);
	}
	if (!a->set[OPT_CONSOLE]) {
		if (!a->set[OPT_WAIT])
			confirm(c, "started", a->pos[0]);
		return a->set[OPT_WAIT] ? cli_wait_ready(c, a->pos[0], wait_ms, NULL) : CLI_OK;
	}
	rc = cli_console_attach(c, a->pos[0]);
	if (a->set[OPT_RM] && qc_vm_delete(c->ctx, a->pos[0], true, &err) < 0)
		return cli_error(&err);
	return rc;
}

/* ----------------------------------------------------- define, dumpxml */

static void print_warning(const char *msg, void *opaque)
{
	cli_log_to_stderr(QC_LOG_LEVEL_WARNING, msg, opaque);
}

int cli_vm_define(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_error err = {0};
	autofree char *name = NULL;
	qc_ctx *ctx = cli_ctx(c);

	(void) cmd;
	if (!ctx)
		return CLI_ERROR;
	if (qc_vm_define(ctx, a->pos[0], print_warning, NULL, &name, &err) < 0)
		return cli_error(&err);
	return confirm(c, "defined", name);
}

int cli_vm_dumpxml(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_error err = {0};
	autofree char *xml = NULL;
	qc_ctx *ctx = cli_ctx(c);

	(void) cmd;
	if (!ctx)
		return CLI_ERROR;
	if (qc_vm_dumpxml(ctx, a->pos[0], &xml, &err) < 0)
		return cli_error(&err);
	fputs(xml, stdout);
	if (xml[0] && xml[strlen(xml) - 1] != '\n')
		putchar('\n');
	return CLI_OK;
}

/* ------------------------------------------------------------ lifecycle */

int cli_vm_simple(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_error err = {0};
	qc_ctx *ctx = cli_ctx(c);
	const char *n = a->pos[0];
	int rc;

	if (!ctx)
		return CLI_ERROR;
	if (strcmp(cmd->name, "destroy") == 0)
		rc = qc_vm_destroy(ctx, n, &err);
	else if (strcmp(cmd->name, "reboot") == 0)
		rc = qc_vm_reboot(ctx, n, &err);
	else if (strcmp(cmd->name, "pause") == 0)
		rc = qc_vm_pause(ctx, n, &err);
	else if (strcmp(cmd->name, "resume") == 0)
		rc = qc_vm_resume(ctx, n, &err);
	else if (strcmp(cmd->name, "save") == 0)
		rc = qc_vm_save(ctx, n, &err);
	else
		rc = qc_vm_undefine(ctx, n, &err);
	if (rc < 0)
		return cli_error(&err);
	return strcmp(cmd->name, "destroy") == 0 ? confirm(c, "destroyed", n) : CLI_OK;
}

int cli_vm_start(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_vm_start_opts o = {.paused = a->set[OPT_PAUSED], .fresh = a->set[OPT_FRESH]};
	struct qc_error err = {0};
	qc_ctx *ctx;
	int wait_ms = 0;

	if (a->set[OPT_WAIT] && a->set[OPT_PAUSED])
		return cli_usage_error(cmd->name, "start: --wait and --paused exclude each other");
	if (a->set[OPT_TIMEOUT] && !a->set[OPT_WAIT])
		return cli_usage_error(cmd->name, "start: --timeout needs --wait");
	if (a->set[OPT_TIMEOUT] &&
		cli_parse_wait_timeout(cmd->name, a->val[OPT_TIMEOUT], &wait_ms) < 0)
		return CLI_USAGE;
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	/* with --wait: a VM without a ready marker is refused before it starts */
	if (a->set[OPT_WAIT])
		return cli_wait_ready(c, a->pos[0], wait_ms, &o);
	if (qc_vm_start(ctx, a->pos[0], &o, &err) < 0)
		return cli_error(&err);
	return confirm(c, o.paused ? "started (paused)" : "started", a->pos[0]);
}

int cli_vm_stop(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_error err = {0};
	struct cli_spin spin = {.name = a->pos[0]};
	uint64_t secs = 0;
	qc_ctx *ctx;
	int rc;

	if (a->set[OPT_TIMEOUT] &&
		qc_uint_parse("--timeout", a->val[OPT_TIMEOUT], 1, 86400, &secs, &err) < 0)
		return cli_usage_error(cmd->name, "%s", err.msg);
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	spin.ctx = ctx;
	if (isatty(STDERR_FILENO) && !c->json && c->verbosity >= 0)
		qc_ctx_set_progress(ctx, cli_spin_progress, &spin);
	rc = qc_vm_stop(ctx, a->pos[0], (int) secs * 1000, a->set[OPT_FORCE], &err);
	qc_ctx_set_progress(ctx, NULL, NULL);
	if (spin.drawn)
		fputs("\r\033[K", stderr);
	if (rc < 0)
		return cli_error(&err);
	return confirm(c, "stopped", a->pos[0]);
}

int cli_vm_delete(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_error err = {0};
	qc_ctx *ctx = cli_ctx(c);

	(void) cmd;
	if (!ctx)
		return CLI_ERROR;
	if (qc_vm_delete(ctx, a->pos[0], a->set[OPT_FORCE], &err) < 0)
		return cli_error(&err);
	return confirm(c, "deleted", a->pos[0]);
}

/* ------------------------------------------------------------ list, info */

static void fmt_time(int64_t ms, char *buf, size_t size)
{
	if (ms <= 0)
		snprintf(buf, size, "-");
	else
		cli_format_time_utc(ms, buf, size);
}

static const char *state_text_base(const struct qc_vm_info *i, char *buf, size_t size)
{
	if (i->qemu_status && strcmp(i->qemu_status, qc_vm_state_name(i->state)) != 0)
		snprintf(buf, size, "%s (QEMU: %s)", qc_vm_state_name(i->state), i->qemu_status);
	else if ((i->state == QC_VM_STOPPED || i->state == QC_VM_CRASHED) && i->exit_reason)
		snprintf(buf, size, "%s (%s%s%s)", qc_vm_state_name(i->state), i->exit_reason,
			i->exit_detail ? ": " : "", i->exit_detail ? i->exit_detail : "");
	else if (i->ready)
		snprintf(buf, size, "%s (ready after %.1f s)", qc_vm_state_name(i->state),
			(double) i->ready_after_ms / 1000.0);
	else
		snprintf(buf, size, "%s", qc_vm_state_name(i->state));
	return buf;
}

/* The state, and the operation another process is doing to the VM right now. */
static const char *state_text(const struct qc_vm_info *i, char *buf, size_t size)
{
	size_t n;

	state_text_base(i, buf, size);
	n = strlen(buf);
	if (i->operation && n < size)
		snprintf(buf + n, size - n, ", %s in progress (pid %d)", i->operation,
			(int) i->operation_pid);
	return buf;
}

/* list's STATE: the word, QEMU's own run state where it differs, ready, the operation. */
static const char *list_state(const struct qc_vm_info *i, char *buf, size_t size)
{
	bool q = i->qemu_status && strcmp(i->qemu_status, qc_vm_state_name(i->state)) != 0;
	int n = snprintf(buf, size, "%s%s%s%s%s", qc_vm_state_name(i->state), q ? " (QEMU: " : "",
		q ? i->qemu_status : "", q ? ")" : "", i->ready ? " (ready)" : "");

	if (i->operation && n >= 0 && (size_t) n < size)
		snprintf(buf + n, size - (size_t) n, ", %s in progress (pid %d)", i->operation,
			(int) i->operation_pid);
	return buf;
}

/* info's "guest": what the guest agent said, or null */
static void json_guest(struct cli_json *g, const struct qc_vm_guest *gst)
{
	if (!cli_json_kmap_open_or_null(g, "guest", gst))
		return;
	cli_json_kstring(g, "os", gst->os);
	cli_json_kstring(g, "kernel", gst->kernel);
	cli_json_kstrv(g, "addresses", gst->addresses);
	cli_json_map_close(g);
}

/* An array of strings, or null for a NULL v. */
static void json_strv(struct cli_json *g, const char *key, char *const *v)
{
	if (v)
		cli_json_kstrv(g, key, v);
	else
		cli_json_kstring(g, key, NULL);
}

static void json_disks(struct cli_json *g, const struct qc_vm_info *i)
{
	cli_json_karray_open(g, "disks");
	for (size_t k = 0; k < i->n_disk_list; k++) {
		const struct qc_vm_disk_info *o = &i->disk_list[k];

		cli_json_map_open(g);
		cli_json_kstring(g, "name", o->name);
		cli_json_kstring(g, "target", o->target);
		cli_json_kstring(g, "bus", o->bus);
		cli_json_kstring(g, "role", o->role);
		cli_json_kstring(g, "format", o->format);
		cli_json_kstring(g, "file", o->path);
		cli_json_kstring(g, "backing", o->backing);
		cli_json_kstring(g, "backing_format", o->backing_format);
		cli_json_kuint_or_null(g, "virtual_size", o->virtual_size != 0, o->virtual_size);
		cli_json_kuint_or_null(g, "allocated", o->virtual_size != 0, o->allocated);
		cli_json_kbool(g, "read_only", o->readonly);
		cli_json_map_close(g);
	}
	cli_json_array_close(g);
}

static void json_nics(struct cli_json *g, const struct qc_vm_nic_info *v, size_t n)
{
	cli_json_karray_open(g, "nics");
	for (size_t k = 0; k < n; k++) {
		cli_json_map_open(g);
		cli_json_kstring(g, "name", v[k].name);
		cli_json_kstring(g, "model", v[k].model);
		cli_json_kstring(g, "mac", v[k].mac);
		cli_json_kstring(g, "mode", v[k].type);
		cli_json_kstring(g, "network", v[k].network);
		cli_json_kstring(g, "bridge", v[k].bridge);
		cli_json_kstring(g, "tap", v[k].tap);
		cli_json_kstring(g, "ip", v[k].ip);
		cli_json_karray_open(g, "addresses");
		if (v[k].ip) {
			autofree char *a = cli_strdup(v[k].ip);

			a[strcspn(a, "/")] = 0;
			cli_json_string(g, a);
		}
		cli_json_array_close(g);
		cli_json_karray_open(g, "forwards");
		for (size_t f = 0; f < v[k].n_fwds; f++) {
			const struct qc_vm_fwd_info *o = &v[k].fwds[f];

			cli_json_map_open(g);
			cli_json_kstring(g, "proto", o->proto);
			cli_json_kstring(g, "host_address", o->host_addr);
			cli_json_kuint_or_null(g, "host_port", o->host_port != 0, o->host_port);
			cli_json_kuint(g, "guest_port", o->guest_port);
			cli_json_map_close(g);
		}
		cli_json_array_close(g);
		cli_json_map_close(g);
	}
	cli_json_array_close(g);
}

/* A VM; info adds its disks, NICs (nics non-NULL) and what its guest agent said. */
static void json_info(struct cli_json *g, const struct qc_vm_info *i,
	const struct qc_vm_nic_info *nics, size_t n_nics, const struct qc_vm_guest *gst)
{
	cli_json_map_open(g);
	cli_json_kstring(g, "name", i->name);
	cli_json_kstring(g, "uuid", i->uuid);
	cli_json_kstring(g, "state", qc_vm_state_name(i->state));
	cli_json_kstring(g, "arch", i->arch);
	cli_json_kstring(g, "machine", i->machine);
	cli_json_kuint(g, "cpus", i->cpus);
	cli_json_kuint(g, "memory", i->memory);
	cli_json_kstring(g, "accel_requested", i->accel_requested);
	cli_json_kstring(g, "accel", i->accel);
	cli_json_kstring(g, "accel_why", i->accel_why);
	cli_json_kint(g, "qemu_pid", i->qemu_pid);
	cli_json_kint(g, "monitor_pid", i->monitor_pid);
	cli_json_kint(g, "started_at_ms", i->started_at_ms);
	cli_json_kint(g, "stopped_at_ms", i->stopped_at_ms);
	cli_json_kbool(g, "ready", i->ready);
	if (i->ready)
		cli_json_kint(g, "ready_after_ms", i->ready_after_ms);
	cli_json_kbool(g, "saved_state", i->saved_state);
	if (cli_json_kmap_open_or_null(g, "last_exit", i->exit_reason)) {
		cli_json_kstring(g, "reason", i->exit_reason);
		cli_json_kstring(g, "detail", i->exit_detail);
		cli_json_map_close(g);
	}
	cli_json_kstring(g, "qemu_status", i->qemu_status);
	if (cli_json_kmap_open_or_null(g, "operation", i->operation)) {
		cli_json_kstring(g, "name", i->operation);
		cli_json_kint(g, "pid", i->operation_pid);
		cli_json_kint(g, "since_ms", i->operation_since_ms);
		cli_json_map_close(g);
	}
	cli_json_kstring(g, "kernel", i->kernel);
	cli_json_kstring(g, "vm_dir", i->vm_dir);
	cli_json_kstring(g, "console_log", i->console_log);
	cli_json_kstring(g, "qmp_socket", i->qmp_socket);
	if (cli_json_kmap_open_or_null(g, "ssh", i->ssh_host)) {
		cli_json_kstring(g, "host", i->ssh_host);
		cli_json_kuint(g, "port", i->ssh_port);
		cli_json_kstring(g, "user", i->ssh_user);
		cli_json_map_close(g);
	}
	json_strv(g, "addresses", i->addresses);
	if (nics) {
		cli_json_kbool(g, "autostart", i->autostart);
		if (i->tpm)
			cli_json_kbool(g, "tpm", true);
		if (i->secure_boot)
			cli_json_kbool(g, "secure_boot", true);
		json_disks(g, i);
		json_nics(g, nics, n_nics);
		json_guest(g, gst);
	}
	cli_json_map_close(g);
}

int cli_vm_list(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_error err = {0};
	struct qc_vm_info **v = NULL;
	size_t n = 0, k;
	qc_ctx *ctx = cli_ctx(c);
	int rc = CLI_OK;

	(void) cmd;
	(void) a;
	if (!ctx)
		return CLI_ERROR;
	if (qc_vm_list(ctx, &v, &n, &err) < 0)
		return cli_error(&err);
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(true);

		cli_json_array_open(g);
		for (k = 0; k < n; k++)
			json_info(g, v[k], NULL, 0, NULL);
		cli_json_array_close(g);
		rc = cli_print_json(g);
	} else {
		printf("%-20s %-8s %-7s %4s %10s  %s\n", "NAME", "ARCH", "ACCEL", "CPUS", "MEMORY",
			"STATE");
		for (k = 0; k < n; k++) {
			char mem[32], st[160];

			qc_size_format(v[k]->memory, mem, sizeof(mem));
			/* the state word (and "ready"): why it stopped is info's to say */
			printf("%-20s %-8s %-7s %4u %10s  %s\n", v[k]->name, v[k]->arch,
				v[k]->accel ? v[k]->accel : v[k]->accel_requested, v[k]->cpus, mem,
				list_state(v[k], st, sizeof(st)));
		}
	}
	qc_vm_list_free(v, n);
	return rc;
}

int cli_vm_info(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_error err = {0};
	struct qc_vm_info *i = NULL;
	struct qc_vm_guest *gst = NULL;
	qc_ctx *ctx = cli_ctx(c);
	char buf[64], st[512];
	size_t k;
	int rc = CLI_OK;

	(void) cmd;
	if (!ctx)
		return CLI_ERROR;
	if (qc_vm_info(ctx, a->pos[0], &i, &err) < 0)
		return cli_error(&err);
	/* the guest agent, when the guest runs one: at most 200 ms, none without */
	if (i->state == QC_VM_RUNNING && qc_vm_guest_info(ctx, a->pos[0], 0, &gst, &err) < 0)
		gst = NULL;
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(true);
		struct qc_vm_nic_info *nics = NULL;
		size_t n_nics = 0;

		if (qc_vm_nics(ctx, a->pos[0], &nics, &n_nics, &err) < 0) {
			qc_vm_info_free(i);
			qc_vm_guest_free(gst);
			return cli_error(&err);
		}
		json_info(g, i, nics, n_nics, gst);
		rc = cli_print_json(g);
		qc_vm_nics_free(nics, n_nics);
		qc_vm_info_free(i);
		qc_vm_guest_free(gst);
		return rc;
	}
	printf("Name:         %s\n", i->name);
	printf("UUID:         %s\n", i->uuid);
	printf("State:        %s\n", state_text(i, st, sizeof(st)));
	printf("Arch:         %s (machine %s)\n", i->arch, i->machine);
	printf("CPUs:         %u\n", i->cpus);
	qc_size_format(i->memory, buf, sizeof(buf));
	printf("Memory:       %s\n", buf);
	if (i->accel)
		printf("Accel:        %s (requested %s): %s\n", i->accel, i->accel_requested,
			i->accel_why ? i->accel_why : "");
	else
		printf("Accel:        %s (decided at start)\n", i->accel_requested);
	if (i->qemu_pid)
		printf("QEMU pid:     %d (monitor pid %d)\n", (int) i->qemu_pid,
			(int) i->monitor_pid);
	fmt_time(i->started_at_ms, buf, sizeof(buf));
	printf("Started:      %s\n", buf);
	if (i->stopped_at_ms) {
		fmt_time(i->stopped_at_ms, buf, sizeof(buf));
		printf("Stopped:      %s\n", buf);
	}
	if (i->exit_reason)
		printf("Last exit:    %s%s%s\n", i->exit_reason, i->exit_detail ? ": " : "",
			i->exit_detail ? i->exit_detail : "");
	if (i->saved_state)
		printf("Saved state:  %s/saved.state (start resumes it, --fresh discards it)\n",
			i->vm_dir);
	printf("Autostart:    %s\n", i->autostart ? "yes (started at boot)" : "no");
	if (i->tpm)
		printf("TPM:          2.0 (swtpm; state in %s/tpm)\n", i->vm_dir);
	if (i->secure_boot)
		printf("Secure Boot:  on (UEFI, Microsoft's keys enrolled)\n");
	if (i->kernel)
		printf("Kernel:       %s\n", i->kernel);
	for (k = 0; i->disks && i->disks[k]; k++)
		printf("%s%s\n", k == 0 ? "Disks:        " : "              ", i->disks[k]);
	if (i->disks && !i->disks[0])
		printf("Disks:        (none)\n");
	for (k = 0; i->nics && i->nics[k]; k++)
		printf("%s%s\n", k == 0 ? "NICs:         " : "              ", i->nics[k]);
	for (k = 0; i->addresses && i->addresses[k]; k++)
		printf("%s%s\n", k == 0 ? "Addresses:    " : "              ", i->addresses[k]);
	if (i->ssh_host)
		printf("SSH:          %s@%s port %u ('qemuctl ssh %s')\n", i->ssh_user, i->ssh_host,
			i->ssh_port, i->name);
	printf("Directory:    %s\n", i->vm_dir);
	printf("Console log:  %s\n", i->console_log);
	if (i->qmp_socket)
		printf("QMP socket:   %s\n", i->qmp_socket);
	if (gst && gst->os)
		printf("Guest OS:     %s%s%s\n", gst->os, gst->kernel ? ", kernel " : "",
			gst->kernel ? gst->kernel : "");
	for (k = 0; gst && gst->addresses && gst->addresses[k]; k++)
		printf("%s%s\n", k == 0 ? "Guest IPs:    " : "              ", gst->addresses[k]);
	qc_vm_info_free(i);
	qc_vm_guest_free(gst);
	return rc;
}

/* ------------------------------------------------------------------ qmp */

int cli_vm_qmp(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_error err = {0};
	autofree char *reply = NULL;
	qc_ctx *ctx = cli_ctx(c);
	int r;

	(void) cmd;
	/*
	 * Check the command's shape before looking at the VM: a typo is a usage
	 * error whatever state the VM is in (qc_vm_qmp checks it again).
	 */
	if ((r = qc_qmp_command_check(a->pos[1], &err)) == -QC_ERR_JSON)
		return cli_usage_error(
			"qmp", "qmp: command '%s' is not valid JSON: %s", a->pos[1], err.msg);
	if (r < 0)
		return cli_usage_error("qmp",
			"qmp: command '%s': use a JSON object with \"execute\", like "
			"'{\"execute\": \"query-status\"}'",
			a->pos[1]);
	err = (struct qc_error){0};
	if (!ctx)
		return CLI_ERROR;
	if (qc_vm_qmp(ctx, a->pos[0], a->pos[1], &reply, &err) < 0) {
		if (err.code == QC_ERR_INVALID)
			return cli_usage_error("qmp", "%s", err.msg);
		return cli_error(&err);
	}
	puts(reply);
	/* QEMU answered with an error: print it, and say so in the exit code. */
	return strstr(reply, "\"error\"") && !strstr(reply, "\"return\"") ? CLI_ERROR : CLI_OK;
}
