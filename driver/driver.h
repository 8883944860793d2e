/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/ internals shared by the lifecycle, the CLI-facing API and the
 * per-VM monitor: struct qc_ctx, the state-root layout and state.json.
 *
 * State root (DESIGN.md):
 *   <root>/vms/<name>/domain.xml    definition (atomic writes)
 *   <root>/vms/<name>/disk0.qcow2   overlay (owned)
 *   <root>/vms/<name>/seed.iso      NoCloud seed (owned)
 *   <root>/vms/<name>/console.log   serial console, bounded, rotated to console.log.1
 *   <root>/vms/<name>/events.jsonl  QMP events with timestamps
 *   <root>/vms/<name>/state.json    see struct qc_state
 *   <root>/vms/<name>/qemu.log      QEMU's stderr of the last start
 *   <root>/vms/<name>/lock          flock: one lifecycle operation at a time
 *   <root>/vms/<name>/monitor.lock  flock held by qemuctl-monitor for its whole life
 * Runtime sockets (short paths): <rundir>/<id>/{qmp,events,serial,console}.sock
 * with <rundir> = /run/qemuctl (root) or $XDG_RUNTIME_DIR/qemuctl, else
 * /tmp/qemuctl-<uid>, and <id> a hash of the VM directory's path.
 *
 * state.json is written by qemuctl-monitor while it lives (at start and at
 * exit, atomically) and by the library only when no monitor holds
 * monitor.lock (to record that a monitor died), so there is one writer at a
 * time.
 */
#ifndef QC_DRIVER_H
#define QC_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/util.h"
#include "driver/qemuctl.h"
#include "driver/qemu_fds.h"

struct qc_ctx {
	char *root; /* absolute */
	char *run_base; /* directory holding per-VM runtime dirs */
	qc_ctx_progress_fn progress;
	void *progress_opaque;
	bool monitor_as_child; /* qc_ctx_set_monitor_as_child */
};

#define QC_VM_LOCK "lock"
#define QC_VM_MONITOR_LOCK "monitor.lock"
#define QC_VM_STATE "state.json"
#define QC_VM_DOMAIN "domain.xml"
#define QC_VM_CONSOLE_LOG "console.log"
#define QC_VM_EVENTS "events.jsonl"
/* The host a running VM moves to, written before its QEMU here ends: the exit is "migrated". */
#define QC_VM_MIGRATED_TO "migrated-to"
#define QC_VM_QEMU_LOG "qemu.log"
/* The memory state qc_vm_save wrote (save.c); the monitor records the exit "saved" then. */
#define QC_VM_SAVED_STATE "saved.state"
#define QC_CONSOLE_LOG_MAX (2u << 20) /* rotated to console.log.1 past this */
#define QC_EVENTS_MAX (1u << 20) /* rotated to events.jsonl.1 past this */

/* ---- ctx.c */
/* Default state root for this user (no env lookup). */
int qc_driver_default_root(char **ret, struct qc_error *err);
/* <root>/vms/<name> (no checks). */
char *qc_driver_vm_dir(const qc_ctx *ctx, const char *name);
/* Create <root> and <root>/vms (0700) when missing; returns an fd on vms/. */
int qc_driver_vms_open(const qc_ctx *ctx, bool create, int *ret_dfd, struct qc_error *err);
/*
 * Calls fn(name, vm_dfd, opaque) for each entry of <root>/vms named like a
 * VM that opens as a directory (no symlinks); vm_dfd is closed after fn.
 * A missing vms/ has no VMs.
 */
typedef void (*qc_driver_vm_fn)(const char *name, int vm_dfd, void *opaque);
int qc_driver_foreach_vm(const qc_ctx *ctx, qc_driver_vm_fn fn, void *opaque, struct qc_error *err);
/* The runtime directory of a VM (not created). */
char *qc_driver_run_dir(const qc_ctx *ctx, const char *name);
/*
 * Start NAME's QEMU with its CPUs stopped, waiting for a migration
 * (-incoming defer; migrate-incoming tells it where from), no saved state.
 */
int qc_driver_start_incoming(qc_ctx *ctx, const char *name, struct qc_error *err);
/*
 * Create (0700) or reuse the runtime dir rdir (from qc_driver_run_dir) and
 * the runtime directory above it: each must be a directory of the
 * effective uid with no group/other bits, not a link, under directories
 * only the user or root can change; else refused, saying how to fix it.
 */
int qc_driver_run_dir_prepare(const qc_ctx *ctx, const char *rdir, struct qc_error *err);
/* The same checks on an existing runtime dir (state.json's run_dir) before connecting. */
int qc_driver_run_dir_check(const char *rdir, struct qc_error *err);
/*
 * Connect to the QMP socket of the run dir rdir after qc_driver_run_dir_check
 * (a missing dir, a VM that is stopping, is left to the connect's retries).
 */
struct qc_qmp;
int qc_driver_run_qmp(const char *rdir, int timeout_ms, struct qc_qmp **ret, struct qc_error *err);
/* The same, n commands sent with the connection (qc_qmp_connect_all): one round trip. */
int qc_driver_run_qmp_all(const char *rdir, const char *const *cmds, size_t n, int timeout_ms,
	struct qc_qmp **ret, qc_json **rets, struct qc_error *err);
/* The directory open as vm_dfd was deleted (or lost its domain.xml) meanwhile. */
bool qc_driver_vm_gone(int vm_dfd);
/* QC_ERR_NOTFOUND: "VM 'name' does not exist: it was deleted while ...". */
int qc_driver_vm_gone_error(const char *name, struct qc_error *err);

/* ---- state.c: state.json */
enum qc_exit_reason {
	QC_EXIT_NONE = 0, /* never ran, or still running */
	QC_EXIT_POWEROFF, /* SHUTDOWN guest-shutdown, QEMU exited 0 */
	QC_EXIT_QUIT, /* SHUTDOWN host-qmp-quit */
	QC_EXIT_HOST_SIGNAL, /* SHUTDOWN host-signal (SIGTERM/SIGINT to QEMU) */
	QC_EXIT_CRASHED, /* killed by a signal or a non-zero exit without SHUTDOWN */
	QC_EXIT_KILLED, /* SIGKILL sent by qemuctl stop/destroy */
	QC_EXIT_MONITOR_DIED, /* the monitor vanished; QEMU died with it (PDEATHSIG) */
	QC_EXIT_START_FAILED, /* QEMU never became ready */
	QC_EXIT_HOST_REBOOT, /* marked running in an earlier boot of the host */
	QC_EXIT_EXITED, /* exit 0 without a SHUTDOWN event */
	QC_EXIT_SAVED, /* quit after `qemuctl save` wrote the state (driver/save.c) */
	QC_EXIT_MIGRATED, /* ended as the VM moved to another host, which runs it (migrate.c) */
	QC_EXIT_REASON_COUNT, /* how many: not a reason */
};
const char *qc_exit_reason_name(enum qc_exit_reason r);
enum qc_exit_reason qc_exit_reason_from_name(const char *s);

/* ---- state_devices.c: the devices of a run, as state.json publishes them */
#define QC_RUN_MAX_DEVICES 256 /* disks, and NICs, of one run */
#define QC_RUN_NAME_MAX 63 /* a disk's or NIC's name (qc_validate_name) */
#define QC_RUN_ID_MAX 79 /* a QEMU device id */
#define QC_RUN_MEMORY_MAX (16ULL << 40)
struct qc_run_disk {
	char name[QC_RUN_NAME_MAX + 1]; /* "disk0" */
	/* QEMU's device id ("disk-disk0"), in query-blockstats' qdev */
	char device[QC_RUN_ID_MAX + 1];
};
struct qc_run_nic {
	char name[QC_RUN_NAME_MAX + 1]; /* "net0" */
	const char *type; /* "user", "network", "bridge" (static strings) */
	char tap[16]; /* the host's tap interface; "" for a user NIC */
	char mac[18];
};
struct qc_run_devices {
	uint64_t memory; /* bytes */
	struct qc_run_disk *disks;
	size_t n_disks;
	struct qc_run_nic *nics;
	size_t n_nics;
};
void qc_run_devices_free(struct qc_run_devices *d);
/* Append one device, checked (name and id syntax, NIC type, tap, MAC, no name twice). */
int qc_run_devices_add_disk(
	struct qc_run_devices *d, const char *name, const char *device, struct qc_error *err);
/* tap: NULL for a user NIC, else the tap's name. */
int qc_run_devices_add_nic(struct qc_run_devices *d, const char *name, const char *type,
	const char *tap, const char *mac, struct qc_error *err);
/* Drop disk (or NIC, if nic) name; false when there is none. */
bool qc_run_devices_remove(struct qc_run_devices *d, bool nic, const char *name);
void qc_run_devices_to_jgen(struct qc_jgen *g, const struct qc_run_devices *d);
/* Read a "devices" value back, every field checked: one bad field refuses it all. */
int qc_run_devices_from_json(const qc_json *j, struct qc_run_devices **ret, struct qc_error *err);
/* The same from JSON text (qemuctl-monitor --devices), and to it. */
int qc_run_devices_parse(
	const char *text, size_t len, struct qc_run_devices **ret, struct qc_error *err);
int qc_run_devices_format(const struct qc_run_devices *d, char **ret, struct qc_error *err);

struct qc_state {
	bool on_disk; /* read from a state.json (not saved: only a run writes one) */
	bool running; /* as written; liveness is monitor.lock */
	char boot_id[40];
	pid_t monitor_pid, qemu_pid;
	int64_t started_at_ms, stopped_at_ms; /* realtime */
	char *accel, *accel_why; /* chosen at start */
	char *run_dir; /* runtime sockets of this run */
	char *qemu_binary;
	unsigned *ports; /* host ports chosen for forwards (informational) */
	size_t n_ports;
	enum qc_exit_reason exit_reason;
	char *exit_detail; /* "signal 9 (Killed)", "exit 1: ...", "guest-shutdown" */
	int exit_status; /* raw wait status, -1 when unknown */
	/* first boot done: the console showed a ready marker (driver/ready.h) */
	bool ready;
	int64_t ready_after_ms; /* since started_at_ms */
	int64_t ready_at_ms; /* realtime, when the monitor saw the marker line */
	char *boot_failure; /* before ready, the console showed it cannot boot (ready.h) */
	/* QEMU's run state (query-status "status": "running", "paused",
	 * "prelaunch"...) as last published by qc_state_publish_status() */
	char *qemu_status;
	/* the run's devices; NULL: none published, or they failed the checks */
	struct qc_run_devices *devices;
};
void qc_state_clear(struct qc_state *s);
void qc_state_clearp(struct qc_state *s);
#define cleanup_state __attribute__((cleanup(qc_state_clearp)))
/* Missing file: a zeroed state (never ran), 0. */
int qc_state_load(int vm_dfd, struct qc_state *ret, struct qc_error *err);
int qc_state_save(int vm_dfd, const struct qc_state *s, struct qc_error *err);
int qc_state_save_nosync(int vm_dfd, const struct qc_state *s, struct qc_error *err);
/*
 * The monitor's writes during a run: s's ports are replaced by those on
 * disk when they are of the same run (a live hot-plug changed them), under
 * the lock qc_state_splice_ports() takes.
 */
int qc_state_save_run(int vm_dfd, struct qc_state *s, struct qc_error *err);
/*
 * Publish QEMU's run state into the running VM's state.json: under the
 * lock qc_state_splice_ports() takes, query(qctx) asks QEMU (query-status)
 * and, while state.json still describes the run of monitor_pid started at
 * started_at_ms, its answer is written.  The query inside the lock orders
 * concurrent publishers (the monitor on every run-state event, the CLI
 * after pause/resume/reboot): the last write holds the newest answer.
 */
int qc_state_publish_status(int vm_dfd, pid_t monitor_pid, int64_t started_at_ms,
	int (*query)(void *qctx, char **ret_status), void *qctx);
/* The query for it: query-status on the struct qc_qmp * qmp (driver/runstatus.c). */
int qc_driver_qmp_status(void *qmp, char **ret_status);
/* s is 1 to 32 of [a-z] and also. */
bool qc_driver_word_valid(const char *s, char also);
/* A QEMU run state name as state.json may hold one: [a-z-]{1,32}. */
bool qc_state_status_valid(const char *s);
/* Pure: v[0..n) with n_del entries at index at replaced by ins[0..n_ins) (zeros pad up to at). */
void qc_state_ports_splice(const unsigned *v, size_t n, size_t at, size_t n_del,
	const unsigned *ins, size_t n_ins, unsigned **ret, size_t *ret_n);
/*
 * A live hot-plug: in the running VM's state.json ports, replace n_del
 * entries at index at with ins[0..n_ins), atomically and under a lock the
 * monitor's writes take too.  A VM that no longer runs: nothing, 0.
 */
int qc_state_splice_ports(int vm_dfd, size_t at, size_t n_del, const unsigned *ins, size_t n_ins,
	struct qc_error *err);
/*
 * A live hot-plug: add (or, with add false, remove by name) one disk or NIC
 * in the devices state.json publishes for the run of monitor_pid started
 * at started_at_ms, under the lock of qc_state_splice_ports().  Another
 * run, or none, or no devices published: nothing, 0.
 */
struct qc_state_device_edit {
	bool add, nic;
	const char *name;
	const char *device; /* disk: QEMU's device id */
	const char *type, *tap, *mac; /* NIC: as qc_run_devices_add_nic() */
};
int qc_state_edit_devices(int vm_dfd, pid_t monitor_pid, int64_t started_at_ms,
	const struct qc_state_device_edit *e, struct qc_error *err);
int qc_state_to_json(const struct qc_state *s, char **ret, struct qc_error *err);
int qc_state_from_json(const char *text, size_t len, struct qc_state *ret, struct qc_error *err);
/* /proc/sys/kernel/random/boot_id into buf (>= 40 bytes); "" when unreadable. */
void qc_state_boot_id(char *buf, size_t size);
/* The runtime dir id: 16 hex digits of a hash of the VM directory path. */
void qc_state_run_id(const char *vm_dir, char out[17]);

/* ---- state.c: liveness and the effective state */
struct qc_live {
	bool monitor_alive; /* monitor.lock is held */
	enum qc_vm_state state;
	struct qc_state st; /* state.json, reconciled */
};
/* Read state.json and monitor.lock; reconcile boot id and a dead monitor (no writes). */
int qc_driver_live(int vm_dfd, struct qc_live *ret, struct qc_error *err);
void qc_live_clear(struct qc_live *l);
/* l->state, a running VM's paused CPUs told apart by the published QEMU run state (query.c). */
enum qc_vm_state qc_driver_live_state(const struct qc_live *l);
/*
 * 1 when st->monitor_pid is this VM's live qemuctl-monitor: the process has
 * monitor.lock open and the lock is held, checked while a pidfd to it is
 * open and after it (so a pid that was reused is not taken for it).
 * *ret_pidfd is that pidfd (-1 when the kernel has no pidfds); 0 otherwise.
 */
int qc_driver_monitor_proven(int vm_dfd, const struct qc_state *st, int *ret_pidfd);
/* The same for st->qemu_pid: a live child of the proven monitor. */
int qc_driver_qemu_proven(int vm_dfd, const struct qc_state *st, int *ret_pidfd);
/*
 * The same with the monitor already proven by qc_driver_monitor_proven()
 * as monitor_pidfd (>= 0): no second look at its fd table.  0 when
 * monitor_pidfd is -1 (no pidfds: prove both with qc_driver_qemu_proven).
 */
int qc_driver_qemu_proven_child(const struct qc_state *st, int monitor_pidfd, int *ret_pidfd);
/* The parent pid in the text of /proc/PID/stat; -EINVAL when malformed. */
int qc_driver_proc_stat_ppid(const char *text, pid_t *ret);
/*
 * vms/<name>/summary.json: what `list` shows of domain.xml, stamped with
 * domain.xml's inode, size and mtime, so list need not parse 100 XML files.
 * Used only while the stamp matches (anyone may rewrite domain.xml);
 * written after every save of domain.xml by the lifecycle (best effort).
 */
struct qc_domain;
void qc_driver_summary_save(int vm_dfd, const struct qc_domain *d);
/* What summary.json keeps for a running VM: how ssh reaches it, its addresses. */
struct qc_summary {
	bool reach; /* the fields below are known */
	struct qc_ssh_route *routes; /* qc_network_ssh_routes() of the definition */
	size_t n_routes;
	char *ssh_user;
	char **addresses; /* NULL-terminated */
};
void qc_driver_summary_clear(struct qc_summary *s);
/* *s of definition d (what summary.json keeps of it). */
void qc_driver_summary_of(const struct qc_domain *d, struct qc_summary *s);
/*
 * Fill i's list fields from summary.json when its stamp matches domain.xml
 * (xml: its stat) and it names the VM name, and *s when it has them; else
 * false, *s empty.
 */
struct qc_vm_info;
struct stat;
bool qc_driver_summary_load(int vm_dfd, const struct stat *xml, const char *name,
	struct qc_vm_info *i, struct qc_summary *s);
/* The same from the text of a summary.json (len bytes). */
bool qc_driver_summary_parse(const char *text, size_t len, const struct stat *xml,
	const char *name, struct qc_vm_info *i, struct qc_summary *s);

/* ---- define_input.c: files named at create/define */
#define QC_VM_USER_DATA "user-data"
#define QC_VM_NETWORK_CONFIG "network-config"
/*
 * path, a readable regular file: *ret its absolute path and, when asked,
 * *ret_fd open on it and *ret_st its stat.  Errors say "WHAT 'PATH': ...".
 */
struct stat;
int qc_driver_open_input(const char *what, const char *path, char **ret, int *ret_fd,
	struct stat *ret_st, struct qc_error *err);
/* As root: path is root's regular file and no one else can write it or a directory above. */
int qc_driver_check_root_file(const char *what, const char *path, struct qc_error *err);
/* As root: path and the directories above it are readable/searchable by others. */
int qc_driver_check_public_file(const char *what, const char *path, struct qc_error *err);
/*
 * As root with QEMU confined: every file d hands QEMU from outside the
 * state root (user disks, a backing, an nvram) may be opened by QEMU's user
 * itself (its mode bits), unless the VM d replaces names it already.
 */
int qc_driver_check_qemu_files(qc_ctx *ctx, const struct qc_domain *d, struct qc_error *err);
/* define over VM d->name: only a definition of that VM (same UUID). */
int qc_driver_check_same_vm(
	qc_ctx *ctx, const struct qc_domain *d, const char *xml_path, struct qc_error *err);
/* --user-data / --network-config, read once and checked, to be copied into the VM. */
struct qc_driver_captured {
	char *user_data, *network_config;
	size_t ud_len, nc_len;
};
void qc_driver_captured_clear(struct qc_driver_captured *c);
int qc_driver_capture_seed_files(const char *user_data, const char *network_config,
	struct qc_driver_captured *c, struct qc_error *err);
/* Write them as dfd/user-data and dfd/network-config (0600, atomically). */
int qc_driver_captured_write(const struct qc_driver_captured *c, int dfd, struct qc_error *err);

/* ---- define.c: helpers a new VM's directory is assembled with (create, clone) */
/* The VM's lock files, empty, 0600: made before the directory is renamed into place. */
int qc_driver_vm_lock_files(int dfd, struct qc_error *err);
/*
 * qc_driver_seed_build into tmp_dfd (the directory tmp_dir) of a VM whose
 * directory becomes final_dir: d's copied seed files (user-data,
 * network-config) are read where they are now, in tmp_dir.
 */
int qc_driver_seed_build_staged(struct qc_domain *d, int tmp_dfd, const char *tmp_dir,
	const char *final_dir, const char *root, struct qc_error *err);

/*
 * define.c: what define holds a loaded definition to beyond its own records:
 * the model's invariants, the name, CPUs, kernel files root's and public,
 * user disks' chains, the files QEMU opens.  Errors begin with label.
 */
int qc_driver_define_check(qc_ctx *ctx, const struct qc_domain *d, const char *label,
	struct qc_error *err);
/* define.c: remove the work directories under vms/ of creates, defines... that died. */
void qc_driver_sweep_dead_builds(int vms_dfd);
/* define.c: move vms/<name> aside and remove it (the caller holds its lock). */
int qc_driver_remove_vm_dir(qc_ctx *ctx, const char *name, struct qc_error *err);
/* clone.c: *p in from_dir becomes the same name in to_dir; anything else stays. */
void qc_driver_rehome(char **p, const char *from_dir, const char *to_dir);

#endif
