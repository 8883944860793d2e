/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Disks on shared storage in a move (driver/migrate_shared.c).  A disk
 * outside the VM's directory (`--disk FILE`, not owned) is neither sent nor
 * mirrored: the target must see the same file at the same path.  Before
 * anything is sent the source announces each one,
 *   {"op":"shared","disk":D,"path":P,"format":F,"size":S,"writes":W} -> {"ok":true}
 * (S its virtual size: the running QEMU's view, else qemu-img's; W whether
 * the VM writes it), and the target holds P to what `create --disk FILE`
 * accepts there (an existing regular image file outside its state root, no
 * catalog image, a chain that keeps its data in no other file, writable if
 * W), of format F and virtual size S, by its own qemu-img.  Its commit then
 * takes a definition only when the disks outside the VM are exactly the
 * ones announced, none written that was announced read-only.  QEMU there opens them while the source's still
 * runs: an incoming migration keeps its images inactive until QEMU hands
 * over at the migration's end.  Internal to driver/.
 */
#ifndef QC_DRIVER_MIGRATE_SHARED_H
#define QC_DRIVER_MIGRATE_SHARED_H

#include <stdbool.h>
#include <stddef.h>

#include "driver/domain.h"
#include "driver/driver.h"

struct qc_mig_link;
struct qc_vmop;

/* At most this many shared disks in one move (a domain has fewer disks). */
#define QC_MIG_SHARED_MAX 64

/* Does the VM write disk k (QEMU opens it read-write)? */
bool qc_mig_shared_writes(const struct qc_disk *k);

/* Source: each disk of op->d outside the VM announced (live: sizes from its QEMU). */
int qc_mig_shared_announce(
	struct qc_vmop *op, struct qc_mig_link *l, bool live, struct qc_error *err);

/* Target: the disks announced and checked so far. */
struct qc_mig_shared {
	char *disk, *path, *format;
	bool writes; /* the VM writes it (and this host may) */
};
struct qc_mig_shared_set {
	struct qc_mig_shared *v;
	size_t n;
};
/* Target: one "shared" request of VM vm's move, checked and added to s. */
int qc_mig_shared_receive(qc_ctx *ctx, const char *vm, const qc_json *req,
	struct qc_mig_shared_set *s, struct qc_error *err);
/* Target, at the commit: d's disks outside the VM are exactly s (path, format, writability). */
int qc_mig_shared_match(
	const struct qc_mig_shared_set *s, const struct qc_domain *d, struct qc_error *err);
void qc_mig_shared_clear(struct qc_mig_shared_set *s);

#endif
