/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The public API in one page: create a VM, start it, wait for a marker on
 * its serial console, stop it (ACPI power button), print how it ended and
 * delete it.
 *
 *   boot-and-stop [--root DIR] NAME KERNEL INITRD APPEND [MARKER]
 *
 * MARKER defaults to "GUEST-READY".  Exit 0 when every step worked.
 *
 *   cc -o boot-and-stop boot-and-stop.c $(pkg-config --cflags --libs qemuctl)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemuctl.h>

static int fail(const char *step, const struct qc_error *err)
{
	fprintf(stderr, "boot-and-stop: %s: %s\n", step, err->msg);
	return 1;
}

int main(int argc, char **argv)
{
	struct qc_vm_create_opts o = {0};
	struct qc_error err = {0};
	struct qc_vm_info *info = NULL;
	const char *root = NULL, *marker;
	qc_ctx *ctx = NULL;
	int i = 1, rc = 1;

	if (argc > 2 && strcmp(argv[1], "--root") == 0) {
		root = argv[2];
		i = 3;
	}
	if (argc - i < 4) {
		fprintf(stderr,
			"usage: boot-and-stop [--root DIR] NAME KERNEL INITRD APPEND [MARKER]\n");
		return 2;
	}
	o.name = argv[i];
	o.kernel = argv[i + 1];
	o.initrd = argv[i + 2];
	o.append = argv[i + 3];
	o.memory = 256u << 20;
	o.accel = "auto";
	marker = argc - i > 4 ? argv[i + 4] : "GUEST-READY";

	if (qc_ctx_open(root, &ctx, &err) < 0)
		return fail("open state root", &err);
	if (qc_vm_create(ctx, &o, &err) < 0) {
		fail("create", &err);
		goto out;
	}
	printf("created %s in %s\n", o.name, qc_ctx_root(ctx));
	if (qc_vm_start(ctx, o.name, NULL, &err) < 0) {
		fail("start", &err);
		goto out_delete;
	}
	if (qc_vm_info(ctx, o.name, &info, &err) < 0) {
		fail("info", &err);
		goto out_delete;
	}
	printf("started: state %s, qemu pid %d, accel %s (%s)\n", qc_vm_state_name(info->state),
		(int) info->qemu_pid, info->accel ? info->accel : "?",
		info->accel_why ? info->accel_why : "");
	qc_vm_info_free(info);
	info = NULL;
	if (qc_vm_wait_console(ctx, o.name, marker, 120000, &err) < 0) {
		fail("wait for the console marker", &err);
		goto out_delete;
	}
	printf("console shows '%s'\n", marker);
	if (qc_vm_stop(ctx, o.name, 60000, false, &err) < 0) {
		fail("stop", &err);
		goto out_delete;
	}
	if (qc_vm_info(ctx, o.name, &info, &err) < 0) {
		fail("info", &err);
		goto out_delete;
	}
	printf("stopped: state %s, last exit %s (%s)\n", qc_vm_state_name(info->state),
		info->exit_reason ? info->exit_reason : "-",
		info->exit_detail ? info->exit_detail : "");
	rc = info->state == QC_VM_STOPPED ? 0 : 1;
	qc_vm_info_free(info);
out_delete:
	if (qc_vm_delete(ctx, o.name, true, &err) < 0) {
		fail("delete", &err);
		rc = 1;
	} else {
		printf("deleted %s\n", o.name);
	}
out:
	qc_ctx_close(ctx);
	return rc;
}
