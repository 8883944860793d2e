/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --seed-bus: some guests only look for the NoCloud seed on one bus early
 * enough (a cdrom on q35 needs the AHCI and sr drivers; a virtio disk needs
 * only virtio_blk, which a cloud image's initramfs always has).  The arch's
 * default is in qc_arch_info (seed_device/seed_bus); argv.c follows the
 * disk's own device and bus.
 */
#include "config.h"

#include <string.h>

#include "driver/seed_bus.h"

int qc_driver_seed_set_bus(struct qc_domain *d, const char *bus, struct qc_error *err)
{
	struct qc_disk *k = NULL;
	size_t i;

	if (!bus)
		return 0;
	if (strcmp(bus, "cdrom") != 0 && strcmp(bus, "virtio") != 0)
		return qc_error_set(
			err, QC_ERR_INVALID, "--seed-bus '%s': use cdrom or virtio", bus);
	for (i = 0; i < d->n_disks; i++)
		if (d->disks[i].role == QC_ROLE_SEED)
			k = &d->disks[i];
	if (!k)
		return 0;
	if (strcmp(bus, "virtio") == 0) {
		k->device = QC_DEVICE_DISK;
		k->bus = QC_BUS_VIRTIO;
	} else {
		k->device = QC_DEVICE_CDROM;
		/* q35 has AHCI built in; virt and pseries have no IDE/SATA */
		k->bus = d->arch == QC_ARCH_X86_64 ? QC_BUS_SATA : QC_BUS_SCSI;
	}
	k->readonly = true;
	return 0;
}
