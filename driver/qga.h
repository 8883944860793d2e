/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A client of the QEMU guest agent (driver/qga.c) over the VM's channel
 * (argv: virtio-serial port QC_ARGV_QGA_PORT on <rundir>/qga.sock).
 * Internal to driver/.
 *
 * Protocol: JSON commands, one reply line each.  A connection first sends
 * 0xFF (the agent drops any half-read input) and guest-sync-delimited with
 * a random id; the agent answers 0xFF then {"return": id}.  Bytes before
 * the 0xFF, and replies with another id (left over from an earlier client
 * that gave up), are skipped.  Everything the agent sends is untrusted: a
 * line is at most QC_QGA_LINE_MAX bytes of strict JSON, every call has a
 * deadline, and the getters below check what they keep.
 */
#ifndef QC_DRIVER_QGA_H
#define QC_DRIVER_QGA_H

#include <stdbool.h>
#include <stddef.h>

#include "util/util.h"

#define QC_QGA_SOCK "qga.sock"
#define QC_QGA_LINE_MAX (256u << 10)
#define QC_QGA_MAX_ADDRS 32 /* addresses kept from guest-network-get-interfaces */
/* How long info waits for an agent whose port the guest opened. */
#define QC_QGA_INFO_MS 200

struct qc_qga;
/* Take connected stream socket fd (ownership, always) and sync within timeout_ms. */
int qc_qga_open_fd(int fd, int timeout_ms, struct qc_qga **ret, struct qc_error *err);
/* Connect to the agent's socket at path and sync within timeout_ms. */
int qc_qga_connect(const char *path, int timeout_ms, struct qc_qga **ret, struct qc_error *err);
void qc_qga_close(struct qc_qga *g);
void qc_qga_closep(struct qc_qga **g);
#define cleanup_qga __attribute__((cleanup(qc_qga_closep)))
/*
 * Run cmd with args (a JSON object text, or NULL) and wait up to
 * timeout_ms for its reply; *ret (may be NULL) the whole reply, whose
 * "return" member is the result.  An {"error": ...} reply is QC_ERR_PROTO
 * naming the command and the agent's desc.
 */
int qc_qga_execute(struct qc_qga *g, const char *cmd, const char *args, int timeout_ms,
	qc_json **ret, struct qc_error *err);
/* Accept replies of up to max bytes on g (a larger max than QC_QGA_LINE_MAX). */
void qc_qga_set_line_max(struct qc_qga *g, size_t max);
/*
 * Strict base64 (RFC 4648, padded, no blanks) as the agent sends data:
 * *ret (NUL-terminated for convenience) and its length; QC_ERR_PROTO
 * naming the offset of a bad character.
 */
int qc_qga_base64_decode(const char *s, char **ret, size_t *ret_len, struct qc_error *err);
/* Send cmd without waiting for a reply (guest-shutdown answers none on success). */
int qc_qga_send(struct qc_qga *g, const char *cmd, const char *args, struct qc_error *err);

/* What info shows of the guest, checked: addresses as inet_pton reads them. */
struct qc_qga_guest {
	char *os;     /* guest-get-osinfo pretty-name (else name + version), or NULL */
	char *kernel; /* kernel-release, or NULL */
	char **addrs; /* "eth0 10.0.0.5/24"..., NULL-terminated, loopback left out */
};
void qc_qga_guest_clear(struct qc_qga_guest *gi);
/* Fill gi from the replies of guest-network-get-interfaces and guest-get-osinfo (either NULL). */
void qc_qga_guest_parse(const qc_json *ifaces, const qc_json *osinfo, struct qc_qga_guest *gi);

/*
 * qga_vm.c: the agent of running VM op when the guest opened its port and
 * it syncs within timeout_ms; 0 with *ret NULL when the VM does not run or
 * the guest has no agent listening (nothing is waited for then).  q: the
 * caller's QMP connection to ask QEMU on (QEMU serves one at a time), or
 * NULL for op's own.
 */
struct qc_vmop;
struct qc_qmp;
int qc_driver_qga_open(struct qc_vmop *op, struct qc_qmp *q, int timeout_ms, struct qc_qga **ret,
	struct qc_error *err);
/*
 * Ask the agent of running VM op, if it syncs within a second, to power the
 * guest off; the connection (held until the guest has read the request),
 * or NULL when no agent took it.  stop then waits QC_QGA_GRACE_MS for the
 * guest before it presses the ACPI button.
 */
#define QC_QGA_GRACE_MS 10000
struct qc_qga *qc_driver_qga_shutdown(struct qc_vmop *op, struct qc_qmp *q);
/*
 * Around a live snapshot: freeze the guest's file systems through its
 * agent (NULL: no agent, or it could not freeze: the snapshot goes on
 * crash-consistent, with a warning), then thaw them and close the agent;
 * *ret_quiesced (may be NULL) says whether both worked.
 */
#define QC_QGA_FREEZE_MS 10000
struct qc_qga *qc_driver_qga_freeze(struct qc_vmop *op);
void qc_driver_qga_thaw(struct qc_vmop *op, struct qc_qga *g, bool *ret_quiesced);

#endif
