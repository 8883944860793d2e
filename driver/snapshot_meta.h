/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The snapshot chain of a VM as domain.xml records it
 * (driver/snapshot_meta.c).  Internal to driver/.
 *
 * The chain lives in domain.xml as other-application metadata,
 * which the XML layer keeps verbatim (d->extras, parent "domain/metadata"):
 *
 *   <metadata>
 *     <qcsnap:snapshots xmlns:qcsnap="https://qemuctl.dev/xmlns/snapshots/1">
 *       <qcsnap:snapshot name="before" created="1764061200123">
 *         <qcsnap:disk name="disk0" file="/vms/a/disk0.qcow2"
 *                      backing="/images/x.qcow2" backing-format="qcow2"/>
 *       </qcsnap:snapshot>
 *     </qcsnap:snapshots>
 *   </metadata>
 *
 * A snapshot's file is the layer that was active when it was taken; it is
 * never written again (a fresh overlay on it becomes the active layer, the
 * disk's <source file>).  A snapshot being taken carries pending="yes" and,
 * per disk, new="<the overlay being made>", so an interrupted operation is
 * finished or rolled back by the next one (driver/snapshot.c).
 *
 * A memory snapshot also carries the VM's RAM and device state, written by
 * QEMU's migration (driver/save.c) into a file of the VM's directory:
 *   memory="snap-before.state" memory-format="qemu-migration"
 *   memory-size="<bytes>"  (pending only: cont="yes" when the CPUs ran)
 * The name is a plain file name; the file is checked against the size when
 * it is read back (driver/snapshot_mem.c).
 */
#ifndef QC_DRIVER_SNAPSHOT_META_H
#define QC_DRIVER_SNAPSHOT_META_H

#include <stdbool.h>
#include <stdint.h>

#include "driver/domain.h"
#include "driver/driver.h"

#define QC_SNAP_NS "https://qemuctl.dev/xmlns/snapshots/1"
#define QC_SNAP_MEMORY_FORMAT "qemu-migration"

struct qc_snap_disk {
	char *disk; /* disk name in the domain */
	char *file; /* the frozen layer */
	char *backing; /* its backing file, or NULL (a data disk's first layer) */
	char *backing_format;
	char *new_file; /* pending only: the overlay being made on file */
};

struct qc_snap {
	char *name;
	int64_t created_ms;
	bool pending;
	char *memory; /* the state file's name in the VM's directory, or NULL */
	uint64_t memory_size;
	bool memory_cont; /* pending only: the CPUs ran before the create stopped them */
	struct qc_snap_disk *disks;
	size_t n_disks;
};

struct qc_snaps {
	struct qc_snap *v;
	size_t n;
};
void qc_snaps_clear(struct qc_snaps *s);
struct qc_snap *qc_snaps_find(const struct qc_snaps *s, const char *name);
/* Parse the chain from d's metadata (none: empty). Pure. */
int qc_snaps_load(const struct qc_domain *d, struct qc_snaps *ret, struct qc_error *err);
/* Replace the chain in d's metadata (an empty chain removes the element). Pure. */
void qc_snaps_store(struct qc_domain *d, const struct qc_snaps *s);
void qc_snap_remove_at(struct qc_snaps *s, size_t i);
/* The state file name of snapshot snap ("snap-<snap>.state"). Pure. */
char *qc_snap_memory_name(const char *snap);

#endif
