/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/image.c: what the lifecycle needs from the image catalog, and the
 * public image API (qemuctl.h "images").  Internal to driver/.
 *
 * How `create` uses it:
 *   --image NAME:      qc_driver_image_resolve(ctx, NAME, d->arch, &path, &fmt, err)
 *                      -> disk0.backing = path, backing_format = fmt ("qcow2"),
 *                         backing_image = NAME
 *   --disk-image FILE: qc_driver_image_file(FILE, &path, &fmt, err)
 *                      -> disk0.backing = path, backing_format = fmt
 *   then, in the temp VM dir:
 *                      qc_driver_image_overlay(tmp/disk0.qcow2, backing, fmt, disk_size, err)
 *   --disk SPEC (i = 1, 2, ...):
 *                      qc_driver_disk_from_spec(ctx, SPEC, i, final_dir, &disk, &size, err)
 *                      -> fills a struct qc_disk (name "diskI", target "vdX",
 *                         role DATA; owned + path final_dir/diskI.qcow2 for SIZE,
 *                         not owned + the user's absolute path for FILE);
 *                      when *size != 0 create it in the temp dir with
 *                      qc_driver_disk_create(tmp/diskI.qcow2, size, err).
 *   delete removes owned disks only (never backing images or FILEs).
 */
#ifndef QC_DRIVER_IMAGE_H
#define QC_DRIVER_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "driver/domain.h"
#include "driver/qemuctl.h"

/*
 * A catalog image for a VM of arch: its absolute path and format.  Errors:
 * unknown image (naming image sync/import), or an arch mismatch naming
 * both ("image 'noble' is amd64 (x86_64) but the VM is aarch64; ...").
 */
int qc_driver_image_resolve(qc_ctx *ctx, const char *name, enum qc_arch arch, char **ret_path,
	char **ret_format, struct qc_error *err);

/*
 * --disk-image FILE: the absolute path and format of a user's disk image
 * that becomes a read-only backing file.  Refuses non-disk data, formats
 * QEMU cannot back an overlay with, files inside <root>/images (use
 * --image) and a qcow2 that `qemu-img check` finds corrupt.
 */
int qc_driver_image_file(
	const char *file, char **ret_path, char **ret_format, struct qc_error *err);

/*
 * A user's image file (format fmt, NULL to probe) as QEMU will open it:
 * its header is the file owner's (or, for a raw disk given a qcow2 header,
 * a guest's) to write, so no layer of its backing chain may keep data in
 * another file (qcow2 data file, vmdk extent), and every backing must be a
 * file path outside the state root.  A raw image passes unread.
 */
int qc_driver_image_chain_check(
	const char *root, const char *what, const char *path, const char *fmt, struct qc_error *err);

/*
 * Defaults for a VM made from a catalog (cloud) image without --memory or
 * --disk-size, after Multipass and LXD (1 GiB of RAM; LXD's 10 GiB disk,
 * Multipass gives 5 GiB).  cloud-init and apt in a stock Debian/Ubuntu
 * cloud image run short at 512 MiB; the images are 2-3.5 GiB disks, mostly
 * full once booted.  cloud-init grows the root file system to the disk at
 * first boot, and the overlay is sparse, so the room costs nothing until
 * the guest writes.  An image larger than that keeps its own size.
 */
#define QC_IMAGE_VM_MEMORY (UINT64_C(1) << 30)
#define QC_IMAGE_VM_DISK (UINT64_C(10) << 30)

/*
 * The VM's overlay at path on backing; disk_size 0 keeps the backing's size
 * (for a catalog image: grows it to QC_IMAGE_VM_DISK when smaller), else
 * grows.  For a catalog image it holds the image's lock shared meanwhile
 * (waiting up to 60 s for an `image rm` or a replacing sync to finish).
 */
int qc_driver_image_overlay(const char *path, const char *backing, const char *backing_format,
	uint64_t disk_size, struct qc_error *err);

/*
 * One --disk SIZE|FILE (index >= 1: the disk is "disk<index>", target
 * "vd<b+index-1>").  A spec that parses as a size ("10G") is a fresh disk
 * owned by the VM at vm_dir/disk<index>.qcow2 and *ret_size is its size;
 * anything else is an existing image file attached in place (not owned,
 * *ret_size 0; read-only when the file is not writable).  Catalog images
 * are refused (they must stay unmodified: use --image).
 */
int qc_driver_disk_from_spec(qc_ctx *ctx, const char *spec, unsigned index, const char *vm_dir,
	struct qc_disk *disk, uint64_t *ret_size, struct qc_error *err);

/* A fresh sparse qcow2 data disk. */
int qc_driver_disk_create(const char *path, uint64_t size, struct qc_error *err);

/*
 * The VMs whose disks use catalog image name (sorted, NULL-terminated,
 * free with qc_strv_free): by domain.xml (backing_image or the backing
 * path), falling back to qemu-img info on the VM's qcow2 files when a
 * domain.xml cannot be read.
 */
int qc_driver_image_users(qc_ctx *ctx, const char *name, char ***ret, struct qc_error *err);

#endif
