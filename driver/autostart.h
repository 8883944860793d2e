/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Autostart (driver/autostart.c): the per-VM flag (<qemuctl:autostart> in
 * domain.xml), and the boot/shutdown work of qemuctl-autostart.service,
 * like libvirt-guests.  Public API; meant to move into driver/qemuctl.h.
 */
#ifndef QC_AUTOSTART_H
#define QC_AUTOSTART_H

#include <stdbool.h>
#include <stddef.h>

#include "driver/qemuctl.h"

/* Set or clear a VM's autostart flag (under the VM's lock; running VMs too). */
QC_PUBLIC int qc_vm_set_autostart(qc_ctx *ctx, const char *name, bool on, struct qc_error *err);
QC_PUBLIC int qc_vm_get_autostart(qc_ctx *ctx, const char *name, bool *ret, struct qc_error *err);

struct qc_autostart_vm {
	char *name;
	bool autostart; /* the VM's flag */
	bool host_reboot; /* it ran when the host went down (exit reason host-reboot) */
	bool acted; /* started (run) / stopped (shutdown) */
	int rc; /* 0, or the negative error of the start/stop */
	char *error; /* the message when rc < 0, else NULL */
};
struct qc_autostart_report {
	struct qc_autostart_vm *vms; /* only the VMs acted on, failed or host_reboot; by name */
	size_t n;
	size_t n_failed;
};
QC_PUBLIC void qc_autostart_report_free(struct qc_autostart_report *r);

/*
 * Start every stopped VM whose autostart flag is set, all in parallel (one
 * child process each); VMs already running are left alone.  VMs whose last
 * run ended with the host going down are reported (host_reboot) and only
 * started when the flag is set.  Returns 0 when the report was made, even
 * if starts failed (see n_failed).
 */
QC_PUBLIC int qc_autostart_run(qc_ctx *ctx, struct qc_autostart_report **ret, struct qc_error *err);
/*
 * Stop every running or paused VM gracefully, in parallel: ACPI power
 * button until timeout_ms (0: 60 s), then quit, then SIGKILL (qc_vm_stop).
 * Both passes call the context's progress callback ("starting VMs" /
 * "stopping VMs", VMs done, VMs in all) every 200 ms while they wait.
 */
QC_PUBLIC int qc_autostart_shutdown(
	qc_ctx *ctx, int timeout_ms, struct qc_autostart_report **ret, struct qc_error *err);

#endif
