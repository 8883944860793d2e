/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libqemuctl: a running VM's guest, as <qemuctl.h> includes it (include
 * <qemuctl.h>, not this file): what its guest agent says, port forwards
 * opened and closed while it runs, its counters and its screen.
 */
#ifndef QEMUCTL_GUEST_H
#define QEMUCTL_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qemuctl/error.h> /* QC_ERR_*, struct qc_error */

#ifndef QC_PUBLIC
#define QC_PUBLIC __attribute__((visibility("default")))
#endif
typedef struct qc_ctx qc_ctx;

/*
 * What the guest agent (qemu-guest-agent in the guest, on the VM's
 * virtio-serial port org.qemu.guest_agent.0) says of a running guest,
 * waiting at most timeout_ms (0: 200 ms) for each of its three replies
 * (sync, interfaces, OS).  *ret is NULL, and 0 returned, when the VM does
 * not run, the guest has not opened the port (no wait then) or the agent
 * does not sync in time.  Every string is checked: addresses as
 * "IFNAME ADDR/PREFIX" (loopback left out), text without control bytes.
 */
struct qc_vm_guest {
	char *os;         /* "Debian GNU/Linux 12 (bookworm)", or NULL */
	char *kernel;     /* kernel release, or NULL */
	char **addresses; /* "eth0 10.0.0.5/24"..., NULL-terminated, or NULL */
};
QC_PUBLIC int qc_vm_guest_info(qc_ctx *ctx, const char *name, int timeout_ms,
	struct qc_vm_guest **ret, struct qc_error *err);
QC_PUBLIC void qc_vm_guest_free(struct qc_vm_guest *g);

/*
 * Port forwards of user-mode NICs (driver/portfwd_live.c).  spec:
 * [ADDR:]HOSTPORT:GUESTPORT[/udp] (add), [ADDR:]HOSTPORT[/udp] (remove);
 * ADDR IPv4, default 127.0.0.1; ports 1-65535.  add opens the forward in
 * the running VM (QC_ERR_STATE when it does not run, unless persist) for
 * this run; persist also puts it in domain.xml, so every start has it (a
 * stopped VM: only that).  nic (NULL: the first user-mode NIC) must be
 * user-mode.  A host port in use, one forwarded already (QC_ERR_EXISTS), a
 * privileged one QEMU cannot bind (EACCES) are refused with nothing
 * changed.  remove closes a forward and takes it out of the definition
 * too when it is there.  *ret_live (may be NULL): the VM runs.
 */
struct qc_port_fwd {
	char nic[64];       /* "net0" */
	char proto[4];      /* "tcp" or "udp" */
	char host_addr[64]; /* "127.0.0.1", "0.0.0.0" */
	unsigned host_port; /* 0: chosen at the next start */
	unsigned guest_port;
	bool persistent;    /* in domain.xml: every start has it */
	bool live;          /* open in the running QEMU */
};
QC_PUBLIC int qc_vm_port_add(qc_ctx *ctx, const char *name, const char *spec, const char *nic,
	bool persist, bool *ret_live, struct qc_error *err);
QC_PUBLIC int qc_vm_port_remove(
	qc_ctx *ctx, const char *name, const char *spec, bool *ret_live, struct qc_error *err);
/* Every forward: the definition's (with this run's ports), then the live ones; free(*ret). */
QC_PUBLIC int qc_vm_port_list(qc_ctx *ctx, const char *name, struct qc_port_fwd **ret,
	size_t *ret_n, struct qc_error *err);

/*
 * Stats of a running VM (driver/stats.c): one QMP connection with a 2 s
 * deadline, plus /proc and /sys.  QC_ERR_STATE when it does not run.
 */
struct qc_vm_stats_vcpu {
	unsigned index;
	int thread_id;
	uint64_t cpu_ns; /* the vCPU thread's user + system time */
};
struct qc_vm_stats_disk {
	char name[64];
	uint64_t rd_bytes, wr_bytes, rd_ops, wr_ops;
};
struct qc_vm_stats_nic {
	char name[64];
	const char *type; /* "user", "network", "bridge" */
	bool counted; /* false: no counters (user-mode NICs; a tap gone) */
	uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets; /* the guest's view */
};
struct qc_vm_stats {
	char *name;
	int64_t sampled_at_ms; /* realtime */
	int qemu_pid;
	uint64_t qemu_cpu_ns; /* the whole QEMU process: user + system */
	uint64_t qemu_rss; /* bytes */
	uint64_t memory; /* configured, bytes */
	uint64_t balloon; /* the balloon's actual size; 0: no balloon */
	uint64_t vcpu_cpu_ns; /* sum over the vCPUs */
	size_t n_vcpus, n_disks, n_nics;
	struct qc_vm_stats_vcpu *vcpus;
	struct qc_vm_stats_disk *disks;
	struct qc_vm_stats_nic *nics;
};
QC_PUBLIC int qc_vm_stats(
	qc_ctx *ctx, const char *name, struct qc_vm_stats **ret, struct qc_error *err);
/* Every running VM, sorted by name (one that stops meanwhile is left out). */
QC_PUBLIC int qc_vm_stats_running(
	qc_ctx *ctx, struct qc_vm_stats ***ret, size_t *ret_n, struct qc_error *err);
QC_PUBLIC void qc_vm_stats_free(struct qc_vm_stats *s);
QC_PUBLIC void qc_vm_stats_list_free(struct qc_vm_stats **v, size_t n);

/*
 * The running VM's display as a PNG written to file (driver/screenshot.c):
 * through a temporary file in file's directory renamed over it, so file is
 * never half-written.  QC_ERR_UNSUPPORTED when the VM has no display (its
 * definition needs <video><model type='vga'/></video>).  *ret_w, *ret_h
 * (may be NULL): the image's size.
 */
QC_PUBLIC int qc_vm_screenshot(qc_ctx *ctx, const char *name, const char *file, unsigned *ret_w,
	unsigned *ret_h, struct qc_error *err);

/*
 * Run argv (NULL-terminated; argv[0] the program, found in the guest's
 * PATH, no shell) in the running VM's guest through its guest agent
 * (driver/qga_exec.c): guest-exec with the output captured, then
 * guest-exec-status until it exits.  Its stdin is empty.  out (may be
 * NULL) gets its stdout (stream 1) and then its stderr (stream 2) once it
 * exited; *ret_status: its exit code, or 128 + the signal that ended it.
 * QC_ERR_UNSUPPORTED when no agent answers within a second (the command
 * did not start: a caller may use ssh instead), QC_ERR_STATE when the VM
 * does not run or is paused, QC_ERR_CHILD when the agent could not start the program
 * (no such file, not executable).
 */
/*
 * How to reach a running VM's VNC display (driver/vnc.c): socket, a unix
 * socket served for the caller's uid; or host and port (loopback TCP) with
 * the VNC password in password_file (0600).  QC_ERR_UNSUPPORTED when this
 * run has no VNC display, QC_ERR_STATE when the VM does not run.
 */
struct qc_vm_vnc {
	char socket[108];         /* unix socket path, or "" */
	char host[64];            /* "127.0.0.1", "::1", or "" */
	unsigned port;            /* 5900-5999, or 0 */
	char password_file[4096]; /* with host: the file holding the password, else "" */
};
QC_PUBLIC int qc_vm_vnc(qc_ctx *ctx, const char *name, struct qc_vm_vnc *ret, struct qc_error *err);

typedef void (*qc_vm_exec_output_fn)(int stream, const char *data, size_t len, void *opaque);
QC_PUBLIC int qc_vm_exec_agent(qc_ctx *ctx, const char *name, const char *const *argv,
	qc_vm_exec_output_fn out, void *opaque, int *ret_status, struct qc_error *err);

#endif
