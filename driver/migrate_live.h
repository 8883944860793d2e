/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A running VM's pre-copy move (driver/migrate_live.c), both ends' QEMU
 * work.  The target's QEMU waits paused (-incoming defer) with an NBD
 * server on a listening socket qemuctl made in the VM's run dir, each
 * writable disk exported under its disk name, and migrate-incoming on one
 * end of a socketpair.  The source's QEMU mirrors each writable disk
 * (blockdev-mirror sync=top: the backing images are on the target already;
 * a raw disk, which has none, is copied whole)
 * into an NBD client node on a socketpair, and once every mirror is ready
 * migrates on another; qemuctl relays all of those sockets over the ssh
 * channel (driver/migrate_mux.h).  Internal to driver/.
 */
#ifndef QC_DRIVER_MIGRATE_LIVE_H
#define QC_DRIVER_MIGRATE_LIVE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "driver/domain.h"
#include "driver/migrate_chan.h"
#include "driver/migrate_mux.h"

struct qc_qmp;

#define QC_MIG_LIVE_DISKS (QC_MUX_MAX_STREAMS - QC_MUX_NBD0)

/*
 * A disk the move mirrors: a writable one of the VM's own (the VM's others
 * are sent as files; one outside the VM is on shared storage).
 */
bool qc_mig_live_mirrored(const struct qc_disk *k);

/*
 * Both ends, after the request that set QEMU up: the channel (in, out)
 * goes into framed mode with streams fds[1..n-1] (taken) and a control
 * stream in place of fds[0], which ch speaks from now on (what ch read
 * ahead is the relay's first input).
 */
int qc_mig_live_switch(struct qc_mig_chan *ch, int in, int out, int *fds, size_t n,
	const volatile sig_atomic_t *cancel, struct qc_mux **ret, struct qc_error *err);

/*
 * Target: the QEMU behind q (started with -incoming defer) serves d's
 * mirrored disks over NBD (a socket in rdir) and reads its migration:
 * fds[1] (the migration) and fds[2..] (one NBD connection per mirrored
 * disk) for qc_mig_live_switch; *n their count with fds[0] unset.
 */
int qc_mig_live_incoming(struct qc_qmp *q, const struct qc_domain *d, const char *rdir,
	int fds[QC_MUX_MAX_STREAMS], size_t *n, struct qc_error *err);
/* Target: the incoming migration completed; the NBD server stopped. */
int qc_mig_live_incoming_done(struct qc_qmp *q, struct qc_error *err);

/* Source: what it set up in its QEMU, undone on failure. */
struct qc_mig_live {
	size_t n; /* mirrored disks */
	size_t disk[QC_MIG_LIVE_DISKS]; /* their index in the domain */
	bool node[QC_MIG_LIVE_DISKS], job[QC_MIG_LIVE_DISKS];
	bool migrating;
	uint64_t disk_len, disk_done, ram_total, ram_done;
	int64_t qemu_downtime_ms;
};
/* Source: the streams for qc_mig_live_switch (fds[1..]); QEMU holds the other ends. */
int qc_mig_live_source_fds(struct qc_qmp *q, const struct qc_domain *d, struct qc_mig_live *lv,
	int fds[QC_MUX_MAX_STREAMS], size_t *n, struct qc_error *err);
/* Source: one mirror per disk into its NBD node; returns once all are ready. */
typedef int (*qc_mig_live_tick)(void *opaque, const struct qc_mig_live *lv, struct qc_error *err);
int qc_mig_live_mirror(struct qc_qmp *q, const struct qc_domain *d, struct qc_mig_live *lv,
	qc_mig_live_tick tick, void *opaque, struct qc_error *err);
/* Source: migrate on the relayed fd; returns once QEMU completed it (postmigrate). */
int qc_mig_live_migrate(struct qc_qmp *q, struct qc_mig_live *lv, qc_mig_live_tick tick,
	void *opaque, struct qc_error *err);
/* Source, after completion: the ready mirrors end without a switch (consistent copies). */
int qc_mig_live_finish(struct qc_qmp *q, struct qc_mig_live *lv, struct qc_error *err);
/*
 * Source, first: what a move killed midway left in QEMU (a migration, its
 * mirrors, NBD nodes) ended; a guest stopped by it runs on.
 */
int qc_mig_live_sweep(struct qc_qmp *q, int vm_dfd, struct qc_error *err);
/* Source, on failure: migration cancelled, mirrors cancelled, NBD nodes gone, CPUs run. */
int qc_mig_live_undo(struct qc_qmp *q, struct qc_mig_live *lv, struct qc_error *err);
/* The virtual size of mirrored disk i (the source's QEMU's view). */
int qc_mig_live_disk_size(
	struct qc_qmp *q, const struct qc_domain *d, size_t i, uint64_t *ret, struct qc_error *err);

#endif
