/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fd numbers qemuctl, qemuctl-monitor and QEMU agree on: where
 * `qemuctl start` puts what it hands the monitor (driver/run.c), what the
 * monitor keeps for itself and what QEMU inherits (driver/monitor/).
 */
#ifndef QC_DRIVER_QEMU_FDS_H
#define QC_DRIVER_QEMU_FDS_H

/* The monitor's report pipe ("OK <qemu-pid>" / "ERR <message>"), mapped by the CLI. */
#define QC_MONITOR_FD_NOTIFY 3

/* fds QEMU inherits from qemuctl-monitor; its argv names them (-chardev socket,fd=N ...). */
/* the directory holding swtpm's control socket: -chardev path=/proc/self/fd/3/... */
#define QC_QEMU_FD_TPM 3
/* the swtpm control socket's name in that directory */
#define QC_ARGV_TPM_SOCK "swtpm.sock"
#define QC_QEMU_FD_QGA 4 /* listening qga.sock: the guest agent channel */
#define QC_QEMU_FD_QMP 5 /* listening qmp.sock */
#define QC_QEMU_FD_EVENTS 6 /* listening events.sock, the monitor's QMP */
#define QC_QEMU_FD_SERIAL 7 /* listening serial.sock */
#define QC_QEMU_FD_KERNEL 8 /* -kernel /dev/fd/8 when QEMU runs as another user */
#define QC_QEMU_FD_INITRD 9
#define QC_QEMU_FD_TAP 10 /* taps: 10, 11... by NIC index */
#define QC_QEMU_FD_FILES 100 /* disk layers, seed, firmware: 100, 101... (driver/fdpass.c) */
/* The monitor's own descriptors sit above every number QEMU gets. */
#define QC_MONITOR_FD_OWN 200

#endif
