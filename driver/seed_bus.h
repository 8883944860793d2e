/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --seed-bus cdrom|virtio: how the NoCloud seed is attached. */
#ifndef QC_DRIVER_SEED_BUS_H
#define QC_DRIVER_SEED_BUS_H

#include "driver/domain.h"
#include "util/util.h"

/*
 * Set the seed disk of d (added by qc_driver_seed_disk) to bus: "cdrom"
 * (ide-cd on q35's AHCI for x86_64, scsi-cd on virtio-scsi elsewhere) or
 * "virtio" (a read-only virtio-blk disk); NULL keeps the arch's default.
 * The choice is stored in the domain (the seed disk's device and bus).
 * QC_ERR_INVALID for another word; a domain without a seed disk is left alone.
 */
int qc_driver_seed_set_bus(struct qc_domain *d, const char *bus, struct qc_error *err);

#endif
