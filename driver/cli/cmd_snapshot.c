/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl snapshot create|list|revert|rm NAME [SNAP] [--force]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/cli/cli.h"

void cli_snapshot_usage(FILE *f, const char *name)
{
	(void) name;
	fputs("usage: qemuctl snapshot create NAME SNAP [--no-quiesce] [--memory]\n"
	      "       qemuctl snapshot list NAME        (also: ls)\n"
	      "       qemuctl snapshot revert NAME SNAP [--force] [--fresh]\n"
	      "       qemuctl snapshot rm NAME SNAP\n"
	      "\n"
	      "Snapshots of the disk state of every qcow2 disk the VM owns, as external\n"
	      "qcow2 overlays recorded in domain.xml.  create works on a running VM (live)\n"
	      "or a stopped one.  revert needs a stopped VM (--force stops it first) and\n"
	      "keeps the snapshot, so it can be reverted to again.  rm merges the snapshot's\n"
	      "layer into the layers above it; backing images are never written.\n"
	      "A live create of a guest running qemu-guest-agent freezes its file systems\n"
	      "around the snapshot and thaws them after (--no-quiesce: do not).\n"
	      "\n"
	      "create --memory (a running or paused VM) also keeps the RAM and device\n"
	      "state, in the VM's directory (snap-SNAP.state): the CPUs stop while the state\n"
	      "is written and the disks switch, then run on.  revert of such a snapshot\n"
	      "starts the VM from that state, the guest continuing where it was; --fresh\n"
	      "reverts the disks only and leaves the VM stopped, to boot anew.\n"
	      "\n"
	      "list never waits for another command on the VM: it shows the snapshots as\n"
	      "recorded, one being taken as \"pending\", and the operation in progress.\n",
		f);
}

static int print_done(struct cli *c, const char *vm, const char *snap, const char *what, bool flag,
	const char *flag_key, const char *human)
{
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(true);

		cli_json_map_open(g);
		cli_json_kstring(g, "vm", vm);
		cli_json_kstring(g, "snapshot", snap);
		cli_json_kstring(g, "action", what);
		if (flag_key)
			cli_json_kbool(g, flag_key, flag);
		cli_json_map_close(g);
		return cli_print_json(g);
	} else if (c->verbosity >= 0) {
		printf("%s\n", human);
	}
	return CLI_OK;
}

static int print_revert(struct cli *c, const char *vm, const char *snap, bool stopped, bool resumed,
	const char *human)
{
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(true);

		cli_json_map_open(g);
		cli_json_kstring(g, "vm", vm);
		cli_json_kstring(g, "snapshot", snap);
		cli_json_kstring(g, "action", "revert");
		cli_json_kbool(g, "stopped", stopped);
		cli_json_kbool(g, "resumed", resumed);
		cli_json_map_close(g);
		return cli_print_json(g);
	} else if (c->verbosity >= 0) {
		printf("%s\n", human);
	}
	return CLI_OK;
}

static int do_list(struct cli *c, qc_ctx *ctx, const char *vm)
{
	struct qc_snapshot_info *v = NULL;
	struct qc_error err = {0};
	autofree char *op = NULL;
	int64_t op_since = 0;
	pid_t op_pid = 0;
	size_t n = 0;
	int rc = CLI_OK;

	if (qc_vm_snapshot_list(ctx, vm, &v, &n, &err) < 0)
		return cli_error(&err);
	/* what another command is doing to the VM meanwhile */
	if (qc_vm_operation(ctx, vm, &op, &op_pid, &op_since, NULL) != 1)
		op = NULL;
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(true);

		cli_json_map_open(g);
		cli_json_kstring(g, "vm", vm);
		if (cli_json_kmap_open_or_null(g, "operation", op)) {
			cli_json_kstring(g, "name", op);
			cli_json_kint(g, "pid", op_pid);
			cli_json_kint(g, "since_ms", op_since);
			cli_json_map_close(g);
		}
		cli_json_karray_open(g, "snapshots");
		for (size_t i = 0; i < n; i++) {
			char t[64];

			cli_format_time_utc(v[i].created_ms, t, sizeof(t));
			cli_json_map_open(g);
			cli_json_kstring(g, "name", v[i].name);
			cli_json_kint(g, "created_ms", v[i].created_ms);
			cli_json_kstring(g, "created", t);
			cli_json_kbool(g, "memory", v[i].memory);
			cli_json_kuint(g, "memory_size", v[i].memory_size);
			cli_json_kbool(g, "pending", v[i].pending);
			cli_json_karray_open(g, "disks");
			for (size_t k = 0; k < v[i].n_disks; k++) {
				cli_json_map_open(g);
				cli_json_kstring(g, "disk", v[i].disks[k].disk);
				cli_json_kstring(g, "file", v[i].disks[k].file);
				cli_json_kstring(g, "backing", v[i].disks[k].backing);
				cli_json_kuint(g, "size", v[i].disks[k].size);
				cli_json_map_close(g);
			}
			cli_json_array_close(g);
			cli_json_map_close(g);
		}
		cli_json_array_close(g);
		cli_json_map_close(g);
		rc = cli_print_json(g);
	} else {
		printf("%-20s %-24s %-16s %-10s %s\n", "NAME", "CREATED", "DISKS", "SIZE", "MEMORY");
		for (size_t i = 0; i < n; i++) {
			autostrv char **names = calloc(v[i].n_disks + 1, sizeof(*names));
			autofree char *disks = NULL;
			uint64_t total = 0;
			char t[64], sz[32], mem[32];

			if (!names)
				abort();
			cli_format_time_utc(v[i].created_ms, t, sizeof(t));
			for (size_t k = 0; k < v[i].n_disks; k++) {
				names[k] = cli_strdup(v[i].disks[k].disk);
				total += v[i].disks[k].size;
			}
			disks = cli_strv_join(names, ",");
			qc_size_format(total, sz, sizeof(sz));
			if (v[i].memory)
				qc_size_format(v[i].memory_size, mem, sizeof(mem));
			printf("%-20s %-24s %-16s %-10s %s%s\n", v[i].name, t, disks[0] ? disks : "-",
				sz, v[i].memory ? mem : "-", v[i].pending ? " (pending)" : "");
		}
		if (op)
			printf("%s in progress (pid %d)\n", op, (int) op_pid);
	}
	qc_snapshot_list_free(v, n);
	return rc;
}

int cli_snapshot(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	const char *const *pos = a->pos;
	bool force = a->set[OPT_FORCE];
	struct qc_error err = {0};
	autofree char *msg = NULL;
	const char *sub, *vm, *snap;
	qc_ctx *ctx;

	(void) cmd;
	if (a->n_pos > 3)
		return cli_usage_error("snapshot", "snapshot: too many arguments");
	sub = pos[0] && strcmp(pos[0], "ls") == 0 ? "list" : pos[0];
	vm = pos[1];
	snap = pos[2];
	if (!sub)
		return cli_usage_error("snapshot", "snapshot: create, list, revert or rm?");
	if (strcmp(sub, "list") == 0) {
		if (!vm || snap)
			return cli_usage_error("snapshot", "usage: qemuctl snapshot list NAME");
	} else if (!strcmp(sub, "create") || !strcmp(sub, "revert") || !strcmp(sub, "rm")) {
		if (!vm || !snap)
			return cli_usage_error(
				"snapshot", "usage: qemuctl snapshot %s NAME SNAP", sub);
	} else {
		static const char *const subs[] = {"create", "list", "ls", "revert", "rm", NULL};
		const char *near = cli_suggest(sub, subs);

		return cli_usage_error("snapshot", "snapshot: unknown subcommand '%s'%s%s%s", sub,
			near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
	}
	if (force && strcmp(sub, "revert") != 0)
		return cli_usage_error("snapshot", "snapshot %s: --force is for revert only", sub);
	if (a->set[OPT_NO_QUIESCE] && strcmp(sub, "create") != 0)
		return cli_usage_error(
			"snapshot", "snapshot %s: --no-quiesce is for create only", sub);
	if (a->set[OPT_WITH_MEMORY] && strcmp(sub, "create") != 0)
		return cli_usage_error("snapshot", "snapshot %s: --memory is for create only", sub);
	if (a->set[OPT_FRESH] && strcmp(sub, "revert") != 0)
		return cli_usage_error("snapshot", "snapshot %s: --fresh is for revert only", sub);
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (strcmp(sub, "list") == 0)
		return do_list(c, ctx, vm);
	if (strcmp(sub, "create") == 0) {
		int running = qc_vm_is_running(ctx, vm, NULL);

		bool quiesced = false;

		bool memory = a->set[OPT_WITH_MEMORY];

		if (qc_vm_snapshot_create_ex(ctx, vm, snap,
			    (a->set[OPT_NO_QUIESCE] ? QC_SNAPSHOT_NO_QUIESCE : 0) |
				    (memory ? QC_SNAPSHOT_MEMORY : 0),
			    &quiesced, &err) < 0)
			return cli_error(&err);
		msg = cli_asprintf("Snapshot '%s' of VM '%s' created (%s)", snap, vm,
			memory		? "live, with memory"
			: running <= 0 ? "VM stopped"
			: quiesced     ? "live, file systems frozen by the guest agent"
				       : "live");
		return print_done(c, vm, snap, "create", running > 0, "live", msg);
	}
	if (strcmp(sub, "revert") == 0) {
		unsigned done = 0;
		bool stopped;

		if (qc_vm_snapshot_revert_ex(ctx, vm, snap,
			    (force ? QC_SNAPSHOT_REVERT_FORCE : 0) |
				    (a->set[OPT_FRESH] ? QC_SNAPSHOT_REVERT_FRESH : 0),
			    &done, &err) < 0)
			return cli_error(&err);
		stopped = done & QC_SNAPSHOT_REVERTED_STOPPED;
		msg = cli_asprintf("VM '%s' reverted to snapshot '%s'%s", vm, snap,
			(done & QC_SNAPSHOT_REVERTED_STARTED)
				? " and resumed from its memory state"
			: stopped ? " (the running VM was stopped first; start it again)"
				  : "");
		return print_revert(c, vm, snap, stopped, done & QC_SNAPSHOT_REVERTED_STARTED, msg);
	}
	if (qc_vm_snapshot_remove(ctx, vm, snap, &err) < 0)
		return cli_error(&err);
	msg = cli_asprintf(
		"Snapshot '%s' of VM '%s' removed (merged into the layers above it)", snap, vm);
	return print_done(c, vm, snap, "rm", false, NULL, msg);
}
