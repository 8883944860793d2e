/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The migration channel (driver/migrate_chan.c): what a migrating qemuctl
 * and the target's `qemuctl migrate-receive` say to each other over the
 * ssh connection.  Internal to driver/.
 *
 * Protocol version QC_MIGRATE_PROTOCOL.  Every message is one line of JSON
 * (at most QC_MIGRATE_LINE_MAX bytes).  The target speaks first:
 *   target: {"qemuctl-migrate":V,"root":"/abs/root"}
 *   source: {"qemuctl-migrate":V}           (either side refuses another V)
 * then the source sends requests, each answered {"ok":true,...} or
 * {"error":"what failed"}:
 *   {"op":"begin","name":N,"uuid":U,"from":HOST}
 *                                           -> {"ok":true,"dir":"<root>/vms/N"}
 *                                              ("from", optional: the source's host
 *                                              name, for the moved VM's first event;
 *                                              "uuid", optional: the VM's, which lets
 *                                              the target replace the same VM defined
 *                                              there, driver/migrate_recv.c)
 *   {"op":"image","sha256":H,"size":S}      -> {"ok":true,"path":P,"image":I}
 *                                              (the target's catalog has it), or
 *                                              {"ok":true,"send":"base-….img"}
 *   {"op":"file","name":B,"size":S}, then S raw bytes, then
 *   {"sha256":H}                            -> {"ok":true}
 *   {"op":"shared","disk":D,"path":P,"format":F,"size":S,"writes":W}
 *                                           -> {"ok":true}
 *                                              (a disk outside the VM, on shared
 *                                              storage: driver/migrate_shared.h)
 *   {"op":"commit","xml":X}                 -> {"ok":true}
 * A running VM's move ("begin" with "live":true) moves pre-copy: its
 * writable disks are not sent but announced, before the commit,
 *   {"op":"overlay","name":B,"size":S}      -> {"ok":true}
 * and made on the target empty on their backing (a raw disk: an empty raw
 * file), S bytes of virtual size;
 * after the commit
 *   {"op":"listen"}                         -> {"ok":true} (QEMU waits, paused)
 * and from the byte after that reply on, both ways, the channel carries
 * frames (driver/migrate_mux.h): stream 0 the requests and replies as
 * before, stream 1 QEMU's migration, stream 2 and on one NBD connection per
 * announced disk (QEMU mirrors into it while the guest runs).  Once the
 * source's QEMU completed the migration and its mirrors:
 *   {"op":"run"}                            -> {"ok":true} (CPUs running)
 * The target removes everything it received unless "commit" succeeded and,
 * for a running VM's move, "run" did.
 */
#ifndef QC_DRIVER_MIGRATE_CHAN_H
#define QC_DRIVER_MIGRATE_CHAN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/storage.h"
#include "util/util.h"

#define QC_MIGRATE_PROTOCOL 2
#define QC_MIGRATE_LINE_MAX (9 * 1024 * 1024) /* a definition of 4 MiB, escaped */
#define QC_MIGRATE_DISK_MAX (UINT64_C(1) << 50) /* a disk's virtual size: 1 PiB */

struct qc_mig_chan {
	int in, out;
	/* non-zero: every call gives up (ECANCELED) within 250 ms */
	const volatile sig_atomic_t *cancel;
	void (*on_sent)(struct qc_mig_chan *c); /* after each chunk of file data sent */
	char *buf; /* read ahead */
	size_t off, len;
	uint64_t sent, received; /* file bytes */
};

void qc_mig_chan_init(struct qc_mig_chan *c, int in, int out);
void qc_mig_chan_clear(struct qc_mig_chan *c);
/* Send the document g holds as one line. */
int qc_mig_send(struct qc_mig_chan *c, struct qc_jgen *g, struct qc_error *err);
/* Read one line of JSON (an object); QC_ERR_EOF when the peer closed first. */
int qc_mig_recv(struct qc_mig_chan *c, qc_json **ret, struct qc_error *err);
/* {"error":msg} */
int qc_mig_send_error(struct qc_mig_chan *c, const char *msg, struct qc_error *err);
/* Read a reply: {"error":…} becomes an error "the target: …". */
int qc_mig_reply(struct qc_mig_chan *c, qc_json **ret, struct qc_error *err);
/* Copy size bytes of fd to the peer, then {"sha256":…}; *hex gets it. */
int qc_mig_send_data(struct qc_mig_chan *c, int fd, uint64_t size,
	char hex[QC_SHA256_HEX_LEN + 1], struct qc_error *err);
/* Copy size bytes from the peer into fd and check the {"sha256":…} after them. */
int qc_mig_recv_data(struct qc_mig_chan *c, int fd, uint64_t size,
	char hex[QC_SHA256_HEX_LEN + 1], struct qc_error *err);

/*
 * A file of a VM's directory that is this host's bookkeeping or logs (its
 * locks, state, definition and its cache, records of its runs, logs,
 * dot-files): the source never sends it, and on either side it does not
 * count as a file of the VM's own.
 */
bool qc_mig_host_record(const char *name);

#endif
