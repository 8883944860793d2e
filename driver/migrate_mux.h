/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The migration channel in framed mode (driver/migrate_mux.c): once a running
 * VM's move has defined it on the target, both ends carry several byte
 * streams over the one ssh connection, each relayed to a local socket:
 * the control stream (the JSON requests of driver/migrate_chan.h), QEMU's
 * migration stream and one NBD connection per mirrored disk.  Internal to
 * driver/.
 *
 * A frame is a 4-byte header, then its payload:
 *   byte 0  stream id (< the number of streams both ends set up)
 *   byte 1  kind: 0 data (1..QC_MUX_PAYLOAD_MAX bytes), 1 end of stream (none)
 *   byte 2-3 payload length, big-endian
 * A frame of another kind or length, an unknown stream, data after a
 * stream's end or a second end end the relay (QC_ERR_PROTO): those bytes
 * come from another host.  Each stream buffers at most QC_MUX_BUFFER bytes
 * towards its local socket; while a stream's buffer is full the channel is
 * not read (back-pressure, nothing grows without bound).
 */
#ifndef QC_DRIVER_MIGRATE_MUX_H
#define QC_DRIVER_MIGRATE_MUX_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define QC_MUX_HEADER 4
#define QC_MUX_PAYLOAD_MAX (32 * 1024)
#define QC_MUX_BUFFER (256 * 1024)
#define QC_MUX_MAX_STREAMS 34 /* control, migration, 32 disks */

enum { QC_MUX_CONTROL = 0, QC_MUX_MIGRATION = 1, QC_MUX_NBD0 = 2 };

struct qc_mux;

/*
 * A relay between the channel (in, out: may be the same fd; not closed by
 * the mux) and the local sockets fds[0..n-1] (taken: closed when the relay
 * ends).  pending: bytes of the channel already read (len may be 0).
 * cancel: non-zero ends the relay within 250 ms (ECANCELED).
 */
int qc_mux_new(int in, int out, const int *fds, size_t n, const void *pending, size_t len,
	const volatile sig_atomic_t *cancel, struct qc_mux **ret, struct qc_error *err);
/*
 * Run the relay in this thread until every stream ended both ways (0),
 * qc_mux_stop, the channel closing with a stream open (QC_ERR_EOF), a bad
 * frame (QC_ERR_PROTO) or the cancel flag.  The local sockets are closed
 * then, whatever the outcome.
 */
int qc_mux_run(struct qc_mux *m, struct qc_error *err);
/* qc_mux_run in a thread of its own. */
int qc_mux_start(struct qc_mux *m, struct qc_error *err);
/* The relay of a started mux still runs (no error, not ended). */
bool qc_mux_alive(struct qc_mux *m);
/* The started relay's outcome so far: 0, or its error copied into err. */
int qc_mux_status(struct qc_mux *m, struct qc_error *err);
/* Data bytes relayed from the channel / to it on stream id. */
uint64_t qc_mux_bytes_in(struct qc_mux *m, size_t id);
uint64_t qc_mux_bytes_out(struct qc_mux *m, size_t id);
/* End a started relay (its local sockets closed), wait for its thread, free it. NULL is fine. */
void qc_mux_free(struct qc_mux *m);

#endif
