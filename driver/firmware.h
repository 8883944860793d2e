/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * UEFI firmware for disk boot: the read-only code (<loader>) and the per-VM
 * writable varstore copy (<nvram>, vms/<name>/nvram.fd).
 */
#pragma once

#include "driver/domain.h"

#define QC_VM_NVRAM "nvram.fd"

/*
 * create: a VM that boots a disk (no --kernel) on an arch with UEFI firmware
 * gets d->loader (the arch's code file) and d->nvram (<vm_dir>/nvram.fd).
 * x86_64 falls back to SeaBIOS when OVMF is not installed; aarch64 has no
 * other firmware, so missing AAVMF is an error naming the file and package.
 * No file system changes.
 */
int qc_driver_firmware_plan(struct qc_domain *d, const char *vm_dir, struct qc_error *err);

/* create: copy the arch's varstore template to dfd/nvram.fd (0600) when d->nvram is set. */
int qc_driver_firmware_copy(const struct qc_domain *d, int dfd, struct qc_error *err);

/*
 * start: the loader QEMU will map must be a readable regular file (a clear
 * error instead of QEMU's), and a missing nvram is made again from the
 * arch's template (a defined domain's first start, or a deleted varstore),
 * only in the VM's directory vm_dir (open as vm_dfd), never elsewhere.
 */
int qc_driver_firmware_prepare(
	const struct qc_domain *d, int vm_dfd, const char *vm_dir, struct qc_error *err);
