/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl-monitor, the per-VM supervisor: its state and its jobs, one file
 * each (STYLE.md §12, like conmon):
 *
 *   main.c     arguments, detaching, setup until QEMU answers, the report to the CLI
 *   loop.c     the one poll() loop: signals, serial, QMP, console clients
 *   qemu.c     QEMU's listening sockets, spawning it, reaping it, connecting to it
 *   console.c  serial output into console.log (rotated) and to console clients
 *   events.c   QMP events into events.jsonl (rotated)
 *   vnc.c      VNC: clients of vnc.sock handed to QEMU, or its password
 *   exit.c     why QEMU exited (or never started), recorded in state.json
 *
 * Its arguments are driver/monitor/contract.h.
 */
#ifndef QC_DRIVER_MONITOR_MONITOR_H
#define QC_DRIVER_MONITOR_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "driver/driver.h"
#include "driver/monitor/contract.h"
#include "driver/ready_match.h"
#include "qmp/qmp.h"

#define QC_MONITOR_MAX_CLIENTS 16 /* `qemuctl console` sessions at once */
#define QC_MONITOR_START_TIMEOUT_MS 30000
/* How long the liveness lock may be held by readers' probes before "another monitor runs" */
#define QC_MONITOR_LOCK_MS 1000
/* the quit reply on the event connection; past it QEMU gets SIGTERM */
#define QC_MONITOR_QUIT_MS 2000

struct qc_monitor {
	struct qc_monitor_args a; /* what `qemuctl start` asked for */
	int qemu_socks[4]; /* listening: qmp.sock, events.sock, serial.sock, qga.sock */

	int vm_dfd, lock_fd, sig_fd, serial_fd, listen_fd, log_fd, events_fd;
	int vnc_fd; /* --vnc socket: listening on vnc.sock, else -1 */
	int clients[QC_MONITOR_MAX_CLIENTS];
	struct qc_qmp *qmp;
	pid_t qemu_pid;
	int qemu_status;
	bool qemu_exited;
	uint64_t log_size;
	char shutdown_reason[64]; /* from the SHUTDOWN event, "" when none */
	struct qc_state st;
	struct qc_ready_scan ready; /* --ready-marker: first boot done (driver/ready.h) */
	/* --swtpm (tpm.c): the TPM emulator, and the socket directory QEMU gets */
	int tpm_dir_fd;
	pid_t swtpm_pid;
	int swtpm_status;
	bool swtpm_exited;
	int64_t swtpm_grace_end; /* swtpm exited before QEMU: when QEMU is stopped, or 0 */
	bool swtpm_died;   /* it exited while the VM ran: QEMU was stopped for it */
};

/* run_dir/sock, a fresh string. */
static inline char *qc_monitor_run_path(const struct qc_monitor *m, const char *sock)
{
	return qc_xasprintf("%s/%s", m->a.run_dir, sock);
}

/* ---- qemu.c */
/* Make QEMU's listening sockets and start it with its fds; sets m->qemu_pid. */
int qc_monitor_spawn_qemu(struct qc_monitor *m, struct qc_error *err);
/* Reap every exited child (a subreaper inherits QEMU's own); true once QEMU is gone. */
bool qc_monitor_reap(struct qc_monitor *m);
/* The last ~400 characters of qemu.log on one line, a fresh string. */
char *qc_monitor_qemu_log_tail(struct qc_monitor *m);
/* The same of another log file in the VM's directory. */
char *qc_monitor_log_tail(struct qc_monitor *m, const char *file);
/* Connect to a socket QEMU listens on, retrying until it does or exits or the deadline. */
int qc_monitor_connect_qemu(struct qc_monitor *m, const char *path, int64_t deadline, int *ret_fd,
	struct qc_error *err);

/*
 * A child of the monitor confined like QEMU: stdin /dev/null, stdout and
 * stderr log_fd, the --uid/--gid user, no new privileges, SIGKILL when the
 * monitor dies.
 */
void qc_monitor_confined_spawn(struct qc_monitor *m, struct qc_spawn_opts *so, int log_fd);
/* A listening unix socket at path (0600), its fd moved to QC_MONITOR_FD_OWN and up. */
int qc_monitor_listen_unix(const char *path, int *ret_fd, struct qc_error *err);

/* ---- tpm.c */
#define QC_VM_SWTPM_LOG "swtpm.log"
/*
 * Before QEMU: vm_dir/tpm (the state) and run_dir/swtpm/ (the control
 * socket, given to QEMU as m->tpm_dir_fd), both QEMU's user's; swtpm
 * started as that user with no new privileges, its log in swtpm.log.
 */
int qc_monitor_start_swtpm(struct qc_monitor *m, struct qc_error *err);
/* swtpm wrote to its log this run. */
bool qc_monitor_swtpm_logged(struct qc_monitor *m);
/* After QEMU: swtpm gets a moment to save and exit, then SIGTERM, then SIGKILL. */
void qc_monitor_stop_swtpm(struct qc_monitor *m);
/* "swtpm exited (exit 1); its log swtpm.log: <tail>", a fresh string. */
char *qc_monitor_swtpm_report(struct qc_monitor *m);
/* In the loop after a reap: swtpm gone while QEMU runs stops QEMU after a grace period. */
void qc_monitor_check_swtpm(struct qc_monitor *m);
/* ms until the grace period ends (poll's timeout), -1 when none runs */
int qc_monitor_swtpm_wait_ms(const struct qc_monitor *m);

/* ---- console.c */
/* Start a fresh console.log; the previous one moves to console.log.1. */
void qc_monitor_rotate_log(struct qc_monitor *m);
/* Read what the serial socket has; false at EOF. */
bool qc_monitor_serial_readable(struct qc_monitor *m);
int qc_monitor_listen_console(struct qc_monitor *m, struct qc_error *err);
void qc_monitor_accept_client(struct qc_monitor *m);
void qc_monitor_client_readable(struct qc_monitor *m, size_t i);

/* ---- events.c */
/* Open events.jsonl for appending (m->events_fd stays -1 when it cannot be). */
void qc_monitor_open_events(struct qc_monitor *m);
/* One line of events.jsonl: data, or else {k1: v1, k2: v2} (NULL pairs left out). */
void qc_monitor_append_event(struct qc_monitor *m, const char *name, int64_t at_ms,
	const qc_json *data, const char *k1, const char *v1, const char *k2, const char *v2);
/* QEMU's run state (query-status) into state.json (qc_state_publish_status). */
void qc_monitor_publish_status(struct qc_monitor *m);
/*
 * The same after a successful "cont": QEMU runs, so no query-status round
 * trip (a wake-up of QEMU's main loop, now sharing the CPUs with the
 * guest) before start is told.  Events after it are published as ever.
 */
void qc_monitor_publish_running(struct qc_monitor *m);
/*
 * Record the events already read with replies (RESUME with cont's): poll()
 * would not report them, and they would wait for QEMU's next message.
 */
void qc_monitor_record_queued_events(struct qc_monitor *m);
/* Read QMP and record its events; false once the connection is gone. */
bool qc_monitor_qmp_readable(struct qc_monitor *m);
/* QMP quit on the negotiated connection (QC_MONITOR_QUIT_SIGVAL); SIGTERM when that fails. */
void qc_monitor_quit_qemu(struct qc_monitor *m);

/* ---- vnc.c */
/* --vnc: listen on vnc.sock, or set the generated password; before the CPUs run. */
int qc_monitor_vnc_setup(struct qc_monitor *m, struct qc_error *err);
/* Does the VNC setup talk to QEMU (a password to set before the guest runs)? */
bool qc_monitor_vnc_needs_qmp(const struct qc_monitor *m);
/* A client on vnc.sock: handed to QEMU's VNC server (getfd + add_client). */
void qc_monitor_vnc_accept(struct qc_monitor *m);

/* ---- exit.c */
/* QEMU exited: why, into state.json and events.jsonl. */
void qc_monitor_record_exit(struct qc_monitor *m);
/* The start failed with err (QEMU killed and reaped first): start-failed into state.json. */
void qc_monitor_record_start_failed(struct qc_monitor *m, struct qc_error *err);
void qc_monitor_remove_run_dir(struct qc_monitor *m);

/* ---- loop.c */
/* Serve until QEMU exits. */
void qc_monitor_loop(struct qc_monitor *m);
/* Read what is left after QEMU exited: the SHUTDOWN event, the last output. */
void qc_monitor_drain(struct qc_monitor *m);

#endif
