/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What `qemuctl start` hands qemuctl-monitor: one struct, its argv form
 * both ways (driver/monitor/contract.c, linked into qemuctl and into the
 * monitor); the fd numbers it uses are driver/qemu_fds.h.
 *
 *   qemuctl-monitor --vm-dir DIR --run-dir DIR --notify-fd N [--keep-fd N]...
 *                   [--port P]... [--accel A] [--accel-why TEXT] [--console-max BYTES]
 *                   [--uid U --gid G] [--ready-marker TEXT]... [--ready-at-start]
 *                   [--swtpm PROGRAM] [--vnc socket|password] [--cont]
 *                   [--devices JSON] [--stay-child] -- QEMU-ARGV...
 */
#ifndef QC_DRIVER_MONITOR_CONTRACT_H
#define QC_DRIVER_MONITOR_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/util.h"
#include "driver/qemu_fds.h"
#include "driver/ready_match.h"

#define QC_MONITOR_MAX_FDS 256 /* --keep-fd: taps, disk layers, seed, firmware */
#define QC_MONITOR_MAX_PORTS 256 /* --port: host ports recorded in state.json */
/*
 * SIGTERM queued to the monitor with this value (si_code SI_QUEUE): quit
 * QEMU over the QMP connection the monitor has already negotiated (exit
 * reason quit).  A plain SIGTERM is forwarded to QEMU (reason host-signal).
 */
#define QC_MONITOR_QUIT_SIGVAL 0x71756974

struct qc_monitor_args {
	const char *vm_dir; /* vms/<name> */
	const char *run_dir; /* the runtime dir the sockets go into */
	int notify_fd; /* -1: nobody waits for the report */
	const char *accel, *accel_why; /* recorded in state.json; NULL: none */
	bool set_user; /* QEMU runs as uid:gid, no supplementary groups */
	uid_t uid;
	gid_t gid;
	uint64_t console_max; /* console.log rotates past this; 0: QC_CONSOLE_LOG_MAX */
	int keep_fds[QC_MONITOR_MAX_FDS]; /* QEMU inherits these at the same numbers, 8..199 */
	size_t n_keep_fds;
	unsigned ports[QC_MONITOR_MAX_PORTS];
	size_t n_ports;
	const char *ready_markers[QC_READY_MAX_MARKERS]; /* console lines that mean "ready" */
	size_t n_ready_markers;
	bool cont; /* let the CPUs run once QMP is up (QEMU starts with -S) */
	/*
	 * QC_MONITOR_VNC_SOCKET: listen on <run_dir>/vnc.sock and hand each
	 * client to QEMU (-vnc none); QC_MONITOR_VNC_PASSWORD: give QEMU's VNC
	 * server (password=on) a generated password, kept in
	 * <run_dir>/vnc-password, before the CPUs run; NULL: no VNC.
	 */
	const char *vnc;
	/* the run resumes a saved state whose guest had finished first boot */
	bool ready_at_start;
	/* the VM has a TPM: this swtpm runs before QEMU and stops after it (tpm.c) */
	const char *swtpm;
	/* the run's devices as state.json publishes them (driver.h qc_run_devices), JSON */
	const char *devices;
	/*
	 * No fork to detach: the monitor stays the child of its starter, which
	 * made it a session leader (setsid before exec), exits soon and never
	 * reaps it (qc_ctx_set_monitor_as_child).
	 */
	bool stay_child;
	const char *const *qemu_argv; /* NULL-terminated, not empty */
};

#define QC_MONITOR_VNC_SOCKET "socket"
#define QC_MONITOR_VNC_PASSWORD "password"
#define QC_MONITOR_VNC_SOCK "vnc.sock"
#define QC_MONITOR_VNC_PASSWORD_FILE "vnc-password"

/* An empty set of arguments: no notify fd, no user, nothing kept. */
void qc_monitor_args_init(struct qc_monitor_args *a);
/* Append to the lists; QC_ERR_INVALID when a list is full. */
int qc_monitor_args_keep_fd(struct qc_monitor_args *a, int fd, struct qc_error *err);
int qc_monitor_args_port(struct qc_monitor_args *a, unsigned port, struct qc_error *err);
int qc_monitor_args_ready_marker(
	struct qc_monitor_args *a, const char *marker, struct qc_error *err);
/*
 * The monitor's argv: program, the options, "--", QEMU's argv.  Refuses
 * arguments the monitor would refuse (no directory, no QEMU argv).
 */
int qc_monitor_args_to_argv(const struct qc_monitor_args *a, const char *program,
	struct qc_strv *ret_argv, struct qc_error *err);
/*
 * Read argv back (argv[0] is the program).  Every number is checked
 * (decimal, in range); an unknown option, a missing value, a list over its
 * bound, --uid without --gid or no "--" QEMU-ARGV is an error.  The
 * strings point into argv.
 */
int qc_monitor_args_from_argv(
	int argc, char *const *argv, struct qc_monitor_args *a, struct qc_error *err);

#endif
