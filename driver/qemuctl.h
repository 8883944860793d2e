/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libqemuctl: the public C API of qemuctl.  The qemuctl CLI uses only what
 * is declared here.  Every function returns 0 (or a count) on success and a
 * negative code on failure, filling the optional struct qc_error
 * (<qemuctl/error.h>: an errno value or a QC_ERR_* code, and a message).
 */
#ifndef QEMUCTL_H
#define QEMUCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <qemuctl/error.h> /* QC_ERR_*, struct qc_error */

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Marks the functions libqemuctl.so exports (it is built with
 * -fvisibility=hidden and the version script driver/libqemuctl.sym).
 */
#define QC_PUBLIC __attribute__((visibility("default")))

/* ------------------------------------------------------------ the context */

/* A handle on a state root.  root NULL: $QEMUCTL_ROOT, else the default. */
typedef struct qc_ctx qc_ctx;
QC_PUBLIC int qc_ctx_open(const char *root, qc_ctx **ret, struct qc_error *err);
QC_PUBLIC void qc_ctx_close(qc_ctx *ctx);
QC_PUBLIC const char *qc_ctx_root(const qc_ctx *ctx);
/* Progress of long operations (downloads, conversions, waits). */
typedef void (*qc_ctx_progress_fn)(const char *what, uint64_t done, uint64_t total,
	void *opaque);
QC_PUBLIC void qc_ctx_set_progress(qc_ctx *ctx, qc_ctx_progress_fn fn, void *opaque);
/*
 * Off (the default): a VM's qemuctl-monitor, which a start leaves running,
 * is never a child of the caller (it forks once more to detach).  On: the
 * monitor skips that fork and stays the caller's child, in a session of
 * its own (a process less for a start to wait on).  Only for a caller that
 * exits soon after its start (the monitor is then reparented like any
 * orphan) and never waits for children it did not start: wait() or
 * waitpid(-1) would take the monitor's exit status, and a monitor that
 * ends first stays a zombie until the caller exits.  The qemuctl CLI sets it.
 */
QC_PUBLIC void qc_ctx_set_monitor_as_child(qc_ctx *ctx, bool on);

/* ------------------------- VMs (driver/define.c, run.c, query.c and others) */

/*
 * Exit reasons and states use short stable names ("poweroff", "quit",
 * "crashed"...).  Every VM operation takes the per-VM lifecycle lock
 * (vms/<name>/lock), so two concurrent operations on one VM are serialised;
 * a second `start` waits for the first and then finds the VM running.
 */
enum qc_vm_state {
	QC_VM_STOPPED,
	QC_VM_RUNNING,
	QC_VM_PAUSED,
	QC_VM_CRASHED, /* the last run ended by a signal, a non-zero exit or a dead monitor */
};
QC_PUBLIC const char *qc_vm_state_name(enum qc_vm_state s); /* "running"... */

struct qc_vm_create_opts {
	const char *name;
	const char *image;      /* catalog image NAME (becomes the overlay's backing), or NULL */
	const char *disk_image; /* a FILE that becomes the read-only backing of disk0, or NULL */
	const char *kernel, *initrd, *append; /* direct kernel boot, or NULL */
	const char *arch;       /* NULL: the host's */
	const char *accel;      /* "auto" (NULL), "kvm", "tcg" */
	unsigned cpus;          /* 0: 1 */
	uint64_t memory;        /* bytes, 0: 1 GiB with image, else 512 MiB */
	/* grow disk0 to this; 0: the backing's size, with image at least 10 GiB */
	uint64_t disk_size;
	const char *const *disks; /* --disk SIZE|FILE, NULL-terminated, or NULL */
	const char *const *nets;  /* --net SPEC, NULL-terminated; NULL: one user-mode NIC */
	const char *const *shares; /* --share HOSTDIR:TAG[:ro], NULL-terminated, or NULL */
	/* NoCloud seed; ignored with no_seed */
	bool no_seed;
	const char *hostname;
	const char *const *ssh_keys; /* files, NULL-terminated */
	const char *user_data, *network_config;
	const char *seed_bus;   /* "cdrom" or "virtio"; NULL: the arch's default */
	/*
	 * The guest user the seed creates (sudo, the keys) and `qemuctl ssh`
	 * logs in as; recorded in the definition.  NULL: the caller's login
	 * name ($SUDO_USER under sudo), or "debian" for root or a name
	 * cloud-init would refuse.  With no_seed: the image's user for ssh.
	 */
	const char *user;
	bool tpm;         /* a TPM 2.0: a per-VM swtpm whose state is in the VM's directory */
	/* UEFI Secure Boot: q35 with SMM, OVMF's Secure Boot code, Microsoft's keys (x86_64) */
	bool secure_boot;
	/*
	 * "none" (NULL), "vnc": a VNC server on a unix socket in the run dir,
	 * "vnc=ADDR": on loopback ADDR (127.0.0.1, ::1) with a password.  A VNC
	 * display adds a video device (vga; virtio on aarch64) unless there is one.
	 */
	const char *display;
};
/* Create NAME (dir, overlay, domain.xml).  Nothing is left behind on failure. */
QC_PUBLIC int qc_vm_create(qc_ctx *ctx, const struct qc_vm_create_opts *o, struct qc_error *err);

typedef void (*qc_vm_warn_fn)(const char *msg, void *opaque);
/* Define (or redefine a stopped VM) from domain XML; *ret_name (may be NULL) gets its name. */
QC_PUBLIC int qc_vm_define(qc_ctx *ctx, const char *xml_path, qc_vm_warn_fn warn, void *opaque,
	char **ret_name, struct qc_error *err);
QC_PUBLIC int qc_vm_dumpxml(qc_ctx *ctx, const char *name, char **ret_xml, struct qc_error *err);
/* Remove a stopped VM's definition; refused when it owns disks (use delete). */
QC_PUBLIC int qc_vm_undefine(qc_ctx *ctx, const char *name, struct qc_error *err);

struct qc_vm_start_opts {
	bool paused;     /* leave the CPUs stopped */
	int timeout_ms;  /* until QMP answers; 0: 30 s */
	int lock_timeout_ms; /* waiting for another operation on the VM; 0: 60 s, < 0: fail at once */
	bool fresh;      /* boot anew and discard a saved state (qc_vm_save) */
};
/*
 * Returns when QEMU's QMP answered and `cont` ran (or, paused, did not).
 * opts may be NULL.  A VM with a saved state resumes from it instead of
 * booting; the state is removed once loaded.  A state QEMU cannot load (the
 * definition changed, a damaged file) fails the start and is kept.
 */
QC_PUBLIC int qc_vm_start(qc_ctx *ctx, const char *name, const struct qc_vm_start_opts *o,
	struct qc_error *err);
/*
 * qc_vm_start, then qc_vm_wait, in one operation on the VM: a VM without a
 * ready marker is refused before it starts (QC_ERR_UNSUPPORTED), and the
 * wait holds no lock.  *ret_after_ms (may be NULL) as qc_vm_wait's.
 */
QC_PUBLIC int qc_vm_start_ready(qc_ctx *ctx, const char *name, const struct qc_vm_start_opts *o,
	int wait_timeout_ms, int64_t *ret_after_ms, struct qc_error *err);
/*
 * ACPI power button pressed every 1.5 s until the guest shuts down or
 * timeout_ms (0: 60 s) passes, then `quit`, then SIGKILL.  force: skip
 * the power button.  Fails with QC_ERR_STATE on a VM that is not running.
 */
QC_PUBLIC int qc_vm_stop(qc_ctx *ctx, const char *name, int timeout_ms, bool force,
	struct qc_error *err);
/* `quit`, then SIGKILL. */
QC_PUBLIC int qc_vm_destroy(qc_ctx *ctx, const char *name, struct qc_error *err);
QC_PUBLIC int qc_vm_reboot(qc_ctx *ctx, const char *name, struct qc_error *err);
QC_PUBLIC int qc_vm_pause(qc_ctx *ctx, const char *name, struct qc_error *err);
QC_PUBLIC int qc_vm_resume(qc_ctx *ctx, const char *name, struct qc_error *err);
/*
 * Stop a running (or paused) VM with its RAM and device state written to
 * <vm dir>/saved.state (temp file, fsync, rename once QEMU completed the
 * migration); the exit reason is "saved" and the next start resumes it.
 * QC_ERR_STATE when the VM does not run.  On failure the VM goes on.
 */
QC_PUBLIC int qc_vm_save(qc_ctx *ctx, const char *name, struct qc_error *err);
/* Remove the VM with its owned disks (overlay, seed); never backing or user files. */
QC_PUBLIC int qc_vm_delete(qc_ctx *ctx, const char *name, bool force, struct qc_error *err);

struct qc_vm_info {
	char *name, *uuid, *arch, *machine;
	char *accel_requested;  /* "auto", "kvm", "tcg" */
	unsigned cpus;
	uint64_t memory;
	enum qc_vm_state state;
	char *kernel;           /* or NULL */
	char **disks;           /* "disk0 /path/disk0.qcow2 (qcow2, backing /img.raw)"..., NULL-terminated */
	char *vm_dir, *console_log, *qmp_socket;
	/* the current or last run */
	pid_t qemu_pid, monitor_pid; /* 0 when not running */
	int64_t started_at_ms, stopped_at_ms; /* ms since the epoch, 0 when unknown */
	char *accel, *accel_why; /* chosen at the last start, or NULL */
	char *exit_reason;       /* "poweroff", "quit", "crashed"..., NULL */
	char *exit_detail;       /* "signal 9 (Killed)"..., NULL */
	/* (info only) "net0 user 52:54:00:.. tcp 127.0.0.1:40123->22"..., NULL-terminated */
	char **nics;
	/* running and the guest announced the end of this run's boot (qc_vm_wait) */
	bool ready;
	int64_t ready_after_ms; /* since started_at_ms */
	bool autostart;         /* (info only) started by `qemuctl autostart --run` at boot */
	/* (info only) the disks as data, in the order of disks */
	struct qc_vm_disk_info *disk_list;
	size_t n_disk_list;
	/*
	 * How to reach the guest by ssh while it runs (as `qemuctl ssh` does):
	 * the forwarded port of guest tcp/22, else port 22 of the first
	 * named-network address; ssh_host NULL when not running or none.
	 * (list fills these for running VMs only)
	 */
	char *ssh_host, *ssh_user;
	unsigned ssh_port;
	/* guest IPv4 addresses qemuctl knows (named-network NICs), NULL-terminated */
	char **addresses;
	bool saved_state;       /* a saved state waits for the next start (qc_vm_save) */
	/* running: QEMU's run state as last published ("running", "paused", "prelaunch"...) */
	char *qemu_status;
	/* an operation holding the VM's lock ("stop", "snapshot create"...), its pid, since when */
	char *operation;
	pid_t operation_pid;
	int64_t operation_since_ms;
	bool tpm;               /* (info only) a TPM 2.0 (swtpm, state in vms/NAME/tpm) */
	bool secure_boot;       /* (info only) UEFI Secure Boot */
};
struct qc_vm_disk_info {
	char *name;           /* "disk0", "seed" */
	char *target;         /* "vda", or NULL when the domain names none */
	char *bus;            /* "virtio", "scsi", "sata" */
	char *format;         /* "qcow2", "raw" */
	char *path;
	char *backing, *backing_format; /* overlays, else NULL */
	char *role;           /* "root", "data", "seed" */
	uint64_t virtual_size; /* bytes, 0 when qemu-img could not tell */
	uint64_t allocated;    /* bytes on disk, 0 when unknown */
	bool readonly;
};
QC_PUBLIC void qc_vm_info_free(struct qc_vm_info *info);
/*
 * State from disk (state.json as QEMU's monitor and the lock holders
 * publish it) plus liveness; never waits for the VM's lock or for QMP.
 */
QC_PUBLIC int qc_vm_info(qc_ctx *ctx, const char *name, struct qc_vm_info **ret,
	struct qc_error *err);
/*
 * The operation holding VM name's lock now ("snapshot create", "stop"...,
 * as qc_vm_info's operation): 1 with *ret_what (free() it), *ret_pid and
 * *ret_since_ms (ms since the epoch); 0 when none.  Never waits.
 */
QC_PUBLIC int qc_vm_operation(qc_ctx *ctx, const char *name, char **ret_what, pid_t *ret_pid,
	int64_t *ret_since_ms, struct qc_error *err);
/* Every VM, sorted by name (disks not filled in). */
QC_PUBLIC int qc_vm_list(qc_ctx *ctx, struct qc_vm_info ***ret, size_t *ret_n,
	struct qc_error *err);
QC_PUBLIC void qc_vm_list_free(struct qc_vm_info **v, size_t n);

/* A connected socket to the VM's console (output of the guest, input to it). */
QC_PUBLIC int qc_vm_console_open(qc_ctx *ctx, const char *name, int *ret_fd,
	struct qc_error *err);
enum qc_vm_file { QC_VM_FILE_CONSOLE_LOG, QC_VM_FILE_EVENTS };
/* Path of a VM's log file (the file itself may not exist yet). */
QC_PUBLIC int qc_vm_file_path(qc_ctx *ctx, const char *name, enum qc_vm_file which, char **ret,
	struct qc_error *err);
/* 1 when the VM's monitor lives, 0 when not, < 0 when the VM does not exist. */
QC_PUBLIC int qc_vm_is_running(qc_ctx *ctx, const char *name, struct qc_error *err);
/* Wait until the console log shows text (rotation-aware), or timeout (QC_ERR_STATE if it stops). */
QC_PUBLIC int qc_vm_wait_console(qc_ctx *ctx, const char *name, const char *text, int timeout_ms,
	struct qc_error *err);
/*
 * Wait until the running VM's guest has finished booting in this run: the
 * console showed its ready marker ("QEMUCTL-READY <instance-id>", printed on
 * every boot by the seed qemuctl generates, or the domain's
 * <qemuctl:ready-marker>), which the monitor records in state.json.
 * timeout_ms 0: 300 s.  Progress goes to the context's callback as
 * ("wait NAME", elapsed ms, timeout ms).
 * Fails with ETIMEDOUT (the message names console.log), QC_ERR_STATE when
 * the VM is not running or stops while waiting (with its exit reason) or
 * its console showed it cannot boot (no bootable disk; it keeps running),
 * QC_ERR_UNSUPPORTED when the VM has no marker (--no-seed, no
 * ready-marker).  *ret_after_ms (may be NULL): ready this long after start.
 */
QC_PUBLIC int qc_vm_wait(qc_ctx *ctx, const char *name, int timeout_ms, int64_t *ret_after_ms,
	struct qc_error *err);
/* The last n lines of the console log (control bytes dropped), NULL-terminated. */
QC_PUBLIC int qc_vm_console_tail(
	qc_ctx *ctx, const char *name, unsigned n, char ***ret, struct qc_error *err);
/*
 * Grow disk DISK ("disk0", "disk1"...) of NAME to size bytes (relative: by
 * size bytes), rounded up to 512: `qemu-img resize` when stopped, QMP
 * block_resize when running (the guest sees it at once).  Shrinking is
 * refused (it would destroy data); the seed and read-only disks are
 * refused.  *ret_old / *ret_new (may be NULL): the sizes before and after;
 * *ret_online (may be NULL): done through QMP on the running VM.
 */
QC_PUBLIC int qc_vm_resize(qc_ctx *ctx, const char *name, const char *disk, uint64_t size,
	bool relative, uint64_t *ret_old, uint64_t *ret_new, bool *ret_online,
	struct qc_error *err);
/* Send one raw QMP command (a JSON object) and return QEMU's reply line. */
QC_PUBLIC int qc_vm_qmp(qc_ctx *ctx, const char *name, const char *json, char **ret_reply,
	struct qc_error *err);

/*
 * Snapshots of disk state (driver/snapshot.c): external qcow2 overlays.
 * Every qcow2 disk the VM owns is included; the chain is recorded in
 * domain.xml.  create works live (QMP transaction of
 * blockdev-snapshot-sync) or stopped (qemu-img).  revert needs a stopped
 * VM (force: stop it first) and starts a fresh overlay on the snapshot's
 * layer, so the snapshot stays revertable.  remove merges the snapshot's
 * layer into the layers above it (qemu-img rebase, or block-stream into
 * the running active layer); backing images are only ever read.
 */
struct qc_snapshot_disk_info {
	char *disk;     /* "disk0" */
	char *file;     /* the snapshot's frozen layer */
	char *backing;  /* its backing file, or NULL */
	uint64_t size;  /* bytes allocated by the layer on the host */
};
struct qc_snapshot_info {
	char *name;
	int64_t created_ms; /* ms since the epoch */
	struct qc_snapshot_disk_info *disks;
	size_t n_disks;
	bool memory;          /* a memory snapshot: RAM and device state too */
	uint64_t memory_size; /* bytes of its state file */
	/*
	 * being taken: the operation holding the VM's lock (qc_vm_operation)
	 * creates it, or will finish or undo a create that ended early
	 */
	bool pending;
};
QC_PUBLIC int qc_vm_snapshot_create(qc_ctx *ctx, const char *name, const char *snap,
	struct qc_error *err);
/*
 * The same with flags.  A live snapshot of a guest whose agent answers
 * freezes its file systems (guest-fsfreeze-freeze) around the switch and
 * thaws them after, unless QC_SNAPSHOT_NO_QUIESCE; *ret_quiesced (may be
 * NULL) says whether it did.  An agent that cannot freeze leaves the
 * snapshot crash-consistent, with a warning.
 */
#define QC_SNAPSHOT_NO_QUIESCE (1u << 0)
/*
 * A memory snapshot of a running or paused VM: the CPUs stop, the RAM and
 * device state go to the snapshot's own file in the VM's directory (the
 * migration of qc_vm_save), the disk layers switch at that same instant,
 * and the CPUs run on if they ran.  On failure nothing is recorded, the
 * file is removed and the VM runs as before.  A stopped VM is refused.
 */
#define QC_SNAPSHOT_MEMORY (1u << 1)
QC_PUBLIC int qc_vm_snapshot_create_ex(qc_ctx *ctx, const char *name, const char *snap,
	unsigned flags, bool *ret_quiesced, struct qc_error *err);
/* Oldest first. */
/*
 * The snapshots as the VM's definition records them; a read that never
 * waits for the VM's lock (a snapshot being taken meanwhile: pending).
 */
QC_PUBLIC int qc_vm_snapshot_list(qc_ctx *ctx, const char *name, struct qc_snapshot_info **ret,
	size_t *ret_n, struct qc_error *err);
QC_PUBLIC void qc_snapshot_list_free(struct qc_snapshot_info *v, size_t n);
/* ret_stopped (may be NULL): force stopped a running VM. */
QC_PUBLIC int qc_vm_snapshot_revert(qc_ctx *ctx, const char *name, const char *snap, bool force,
	bool *ret_stopped, struct qc_error *err);
/*
 * Revert with flags.  The disks go back to the snapshot as with
 * qc_vm_snapshot_revert (FORCE: a running VM is stopped first).  A memory
 * snapshot's state is checked (a regular file of ours in the VM's
 * directory, of the recorded size) before anything changes, made the VM's
 * saved state, and the VM started from it: the guest continues where it
 * was.  FRESH: the disks only, the VM left stopped (its start boots).
 * *ret_done (may be NULL): QC_SNAPSHOT_REVERTED_* bits.
 */
#define QC_SNAPSHOT_REVERT_FORCE (1u << 0)
#define QC_SNAPSHOT_REVERT_FRESH (1u << 1)
#define QC_SNAPSHOT_REVERTED_STOPPED (1u << 0) /* the running VM was stopped */
#define QC_SNAPSHOT_REVERTED_MEMORY (1u << 1)  /* the memory state was installed */
#define QC_SNAPSHOT_REVERTED_STARTED (1u << 2) /* and the VM resumed from it */
QC_PUBLIC int qc_vm_snapshot_revert_ex(qc_ctx *ctx, const char *name, const char *snap,
	unsigned flags, unsigned *ret_done, struct qc_error *err);
QC_PUBLIC int qc_vm_snapshot_remove(qc_ctx *ctx, const char *name, const char *snap,
	struct qc_error *err);

/*
 * Clones (driver/clone.c): VM new_name on the read-only layers of VM name.
 * With snap, a new qcow2 overlay on that snapshot's layers (the source may
 * run); without, the source must be stopped and each disk's active layer
 * is copied.  The layers below are shared (hard links: deleting either VM
 * keeps what the other uses); the clone gets its own uuid, so a new
 * cloud-init instance id, MACs, addresses, host name (its name), sshd host
 * key, varstore copy and seed, and the snapshots whose layers it shares.
 * A writable disk outside the source's directory is refused.  On failure
 * nothing is left behind.
 */
QC_PUBLIC int qc_vm_clone(qc_ctx *ctx, const char *name, const char *new_name, const char *snap,
	struct qc_error *err);

/* Other hosts: migration and the ssh command to another qemuctl: <qemuctl/remote.h>. */
#include <qemuctl/remote.h>

/*
 * Hot-plug (driver/hotplug.c): on a running VM through QMP, recorded in
 * domain.xml so the device is there after a restart; on a stopped VM only
 * recorded (*ret_live false): the VM gets it at its next start.
 * attach-disk SPEC: SIZE (a fresh qcow2 owned by the VM) or FILE.
 * attach-net SPEC: as --net.  *ret_dev (may be NULL): the new disk or NIC name.
 * Detaching keeps the disk's file.
 */
QC_PUBLIC int qc_vm_attach_disk(qc_ctx *ctx, const char *name, const char *spec, char **ret_dev,
	bool *ret_live, struct qc_error *err);
QC_PUBLIC int qc_vm_detach_disk(qc_ctx *ctx, const char *name, const char *disk, bool *ret_live,
	struct qc_error *err);
QC_PUBLIC int qc_vm_attach_net(qc_ctx *ctx, const char *name, const char *spec, char **ret_dev,
	bool *ret_live, struct qc_error *err);
QC_PUBLIC int qc_vm_detach_net(qc_ctx *ctx, const char *name, const char *nic, bool *ret_live,
	struct qc_error *err);

/* What a running guest says and does: <qemuctl/guest.h>. */
#include <qemuctl/guest.h>

/* ------------------------------------------------- images (driver/image.c) */

/*
 * Backing images under <root>/images/: <name>.qcow2 (read-only, never
 * modified) + <name>.json.  Long work reports through the context's
 * progress callback ("download NAME", "import NAME").
 */
struct qc_image_info {
	char *name;
	char *arch;            /* "x86_64", "aarch64", "ppc64le"; NULL when unknown */
	char *format;          /* "qcow2" */
	char *path;            /* absolute path of the qcow2 */
	char *source;          /* the file or URL it came from */
	char *sha256;          /* of the source as downloaded/given */
	char *distro, *release, *release_version, *version; /* from a stream, else NULL */
	uint64_t size;         /* bytes on disk */
	uint64_t virtual_size; /* bytes the guest sees */
	int64_t imported_at_ms; /* ms since the epoch */
	char **users;          /* VMs whose disks use it, sorted, NULL-terminated */
	size_t n_users;
};
QC_PUBLIC void qc_image_info_free(struct qc_image_info *info);
QC_PUBLIC void qc_image_info_list_free(struct qc_image_info **v, size_t n);
/* Every image, sorted by name, with its users. */
QC_PUBLIC int qc_image_list(qc_ctx *ctx, struct qc_image_info ***ret, size_t *ret_n,
	struct qc_error *err);
QC_PUBLIC int qc_image_get(qc_ctx *ctx, const char *name, struct qc_image_info **ret,
	struct qc_error *err);

struct qc_image_import_opts {
	const char *name;
	const char *source; /* a file, or an https:// / http:// / file:// URL */
	const char *sha256; /* expected SHA-256 of the source as given, or NULL */
	const char *arch;   /* NULL: the host's */
	/*
	 * Most bytes the download and the decompressed image may take; 0: 64
	 * GiB.  Never more than the free space of the images' file system
	 * minus 256 MiB either.
	 */
	uint64_t max_size;
};
/*
 * Import a disk image (raw, qcow2, vmdk, vhdx; .xz/.gz decompressed while
 * streaming) as NAME, converted to qcow2.  Nothing under NAME on failure.
 * ret may be NULL.
 */
QC_PUBLIC int qc_image_import(qc_ctx *ctx, const struct qc_image_import_opts *o,
	struct qc_image_info **ret, struct qc_error *err);

struct qc_image_sync_opts {
	const char *ref;    /* "ubuntu:24.04", "ubuntu:noble", "debian:12", "debian:trixie" */
	const char *arch;   /* NULL: the host's */
	/* NULL: https://cloud-images.ubuntu.com/releases/, for debian:
	 * https://cloud.debian.org/images/cloud/; http:// only if given */
	const char *stream;
	const char *name;   /* NULL: "<codename>-<debian arch>", e.g. "noble-amd64" */
	uint64_t max_size;  /* most bytes the download may take; 0: 64 GiB (and free space) */
};
/*
 * Download the newest disk1.img of REF for the arch from a simplestreams
 * index (SHA-256 checked), or for debian:RELEASE the latest/ qcow2 of
 * Debian's cloud image tree (SHA-512 from SHA512SUMS checked), resumable
 * and retried, into the catalog.  Syncing what is there already is a
 * no-op (*ret_fresh false); a newer version replaces an image no VM uses
 * (while VMs use it: an error naming them); two concurrent syncs of one
 * image download it once.  ret and ret_fresh may be NULL.
 */
QC_PUBLIC int qc_image_sync(qc_ctx *ctx, const struct qc_image_sync_opts *o,
	struct qc_image_info **ret, bool *ret_fresh, struct qc_error *err);

/* Remove an image; refused, naming them, while VMs use it. */
QC_PUBLIC int qc_image_remove(qc_ctx *ctx, const char *name, struct qc_error *err);

/* --------------------------------------------- networks (driver/network.c) */

/*
 * Named networks: a bridge with the gateway address (the first host address
 * of the subnet) and an address allocator whose leases reach the guests as
 * static network-config.  Definitions live under <root>/networks/.
 */
struct qc_network_create_opts {
	const char *name;
	const char *subnet; /* CIDR, "10.10.0.0/24" (prefix 8..30) */
	const char *bridge; /* NULL: "qc-<name>" (shortened to 15 bytes with a hash) */
	unsigned mtu;       /* 0: the kernel's default */
};
/*
 * Create the network and its bridge (or adopt an existing bridge of that
 * name).  Refused: a name in use, a subnet overlapping another network's,
 * a bridge another network uses, a link of that name that is not a bridge.
 * A failure leaves nothing behind (no bridge, no file).
 */
QC_PUBLIC int qc_network_create(qc_ctx *ctx, const struct qc_network_create_opts *o,
	struct qc_error *err);
/* Remove the network and the bridge it created; refused while VMs hold addresses (named). */
QC_PUBLIC int qc_network_remove(qc_ctx *ctx, const char *name, struct qc_error *err);

struct qc_network_lease_info {
	char *vm;  /* VM name */
	char *nic; /* "net0" */
	char *ip;  /* "10.10.0.2" */
};
struct qc_network_info {
	char *name, *subnet, *gateway, *bridge;
	unsigned mtu;          /* 0: kernel default */
	bool bridge_created;   /* made by qemuctl (removed with the network) */
	bool bridge_present;   /* the bridge exists now (false after a host reboot until a start) */
	unsigned used, capacity; /* guest addresses leased / available in all */
	char **vms;            /* VMs with an address here, sorted, NULL-terminated */
	struct qc_network_lease_info *leases;
	size_t n_leases;
};
/* Every network, sorted by name. */
QC_PUBLIC int qc_network_list(qc_ctx *ctx, struct qc_network_info ***ret, size_t *ret_n,
	struct qc_error *err);
QC_PUBLIC int qc_network_get(qc_ctx *ctx, const char *name, struct qc_network_info **ret,
	struct qc_error *err);
QC_PUBLIC void qc_network_info_free(struct qc_network_info *info);
QC_PUBLIC void qc_network_list_free(struct qc_network_info **v, size_t n);

/* The NICs of a VM as `info` shows them. */
struct qc_vm_fwd_info {
	char proto[4];      /* "tcp", "udp" */
	char host_addr[64]; /* "127.0.0.1" unless given */
	unsigned host_port; /* fixed, or the one chosen for the current run; 0 when not running */
	unsigned guest_port;
};
struct qc_vm_nic_info {
	char *name, *type, *mac; /* "net0", "user"|"network"|"bridge", "52:54:00:..." */
	char *network;           /* network NICs, else NULL */
	char *bridge;            /* network and bridge NICs, else NULL */
	char *ip;                /* network NICs: "10.70.0.11/24", else NULL */
	char *tap;               /* the tap of the current run, else NULL */
	struct qc_vm_fwd_info *fwds;
	size_t n_fwds;
	char *model;             /* "virtio-net-pci" */
};
QC_PUBLIC int qc_vm_nics(qc_ctx *ctx, const char *name, struct qc_vm_nic_info **ret,
	size_t *ret_n, struct qc_error *err);
QC_PUBLIC void qc_vm_nics_free(struct qc_vm_nic_info *v, size_t n);

/* A running VM's guest over ssh, and the options passed on: <qemuctl/ssh.h>. */
#include <qemuctl/ssh.h>

/* ---------------------------------------------------- seeds (driver/seed.c) */

/*
 * A standalone NoCloud seed (`qemuctl seed build`), usable with any
 * hypervisor: an ISO 9660 image (Rock Ridge + Joliet, volume id "cidata")
 * holding meta-data, user-data and optionally network-config.
 */
struct qc_seed_build_opts {
	const char *hostname;       /* RFC 1123; NULL: none */
	const char *user_data;      /* FILE used verbatim (checked), or NULL: a generated
				     * #cloud-config (hostname, user with sudo and the keys) */
	const char *meta_data;      /* FILE used verbatim (checked), or NULL: generated */
	const char *network_config; /* FILE used verbatim (checked), or NULL: none */
	const char *const *ssh_keys; /* public key FILES, NULL-terminated; none given:
				      * ~/.ssh/id_*.pub when present */
	const char *instance_id;    /* NULL: "iid-qemuctl-" + 16 hex of the content hash */
	const char *user;           /* default user created; NULL: "qemuctl" */
	bool no_default_keys;       /* do not fall back to ~/.ssh/id_*.pub */
	bool no_own_key;            /* do not inject qemuctl's own key (ctx NULL: never) */
};
/* Write the seed to out_path atomically; ctx may be NULL.  Same options, same bytes. */
QC_PUBLIC int qc_seed_build(qc_ctx *ctx, const struct qc_seed_build_opts *o, const char *out_path,
	struct qc_error *err);

/* ------------------------------------------------ doctor (driver/doctor.c) */

enum qc_check_status {
	QC_CHECK_OK,
	QC_CHECK_WARN,
	QC_CHECK_FAIL,
	QC_CHECK_STATUS_COUNT, /* how many: not a status */
};
struct qc_check {
	char name[48];    /* "qemu-x86_64", "accel-x86_64", "qemu-img", "tun", "state-root"... */
	enum qc_check_status status;
	char detail[512]; /* what was found, and the fix when not ok */
};
struct qc_doctor_report {
	char arch[16];    /* the architecture judged */
	bool can_run;     /* a VM of that arch can run with the chosen accelerator */
	struct qc_check *checks;
	size_t n_checks;
};
/*
 * Check the host for VMs of arch (NULL: the host's) under accel ("auto",
 * "kvm", "tcg"; NULL: auto).  ctx may be NULL (the state root is then not
 * judged).  Fails only on bad arguments.
 */
QC_PUBLIC int qc_doctor(qc_ctx *ctx, const char *arch, const char *accel,
	struct qc_doctor_report **ret, struct qc_error *err);
QC_PUBLIC void qc_doctor_report_free(struct qc_doctor_report *r);
QC_PUBLIC const char *qc_check_status_name(enum qc_check_status s);

/* -------------------------------------------- autostart (driver/autostart.c) */

/*
 * The per-VM flag (<qemuctl:autostart> in domain.xml), and the boot/shutdown
 * work of qemuctl-autostart.service, like libvirt-guests.
 */
/* Set or clear a VM's autostart flag (under the VM's lock; running VMs too). */
QC_PUBLIC int qc_vm_set_autostart(qc_ctx *ctx, const char *name, bool on, struct qc_error *err);
QC_PUBLIC int qc_vm_get_autostart(qc_ctx *ctx, const char *name, bool *ret, struct qc_error *err);

struct qc_autostart_vm {
	char *name;
	bool autostart; /* the VM's flag */
	bool host_reboot; /* it ran when the host went down (exit reason host-reboot) */
	bool acted; /* started (run) / stopped (shutdown) */
	int rc; /* 0, or the negative error of the start/stop */
	char *error; /* the message when rc < 0, else NULL */
};
struct qc_autostart_report {
	struct qc_autostart_vm *vms; /* only the VMs acted on, failed or host_reboot; by name */
	size_t n;
	size_t n_failed;
};
QC_PUBLIC void qc_autostart_report_free(struct qc_autostart_report *r);

/*
 * Start every stopped VM whose autostart flag is set, all in parallel (one
 * child process each); VMs already running are left alone.  VMs whose last
 * run ended with the host going down are reported (host_reboot) and only
 * started when the flag is set.  Returns 0 when the report was made, even
 * if starts failed (see n_failed).
 */
QC_PUBLIC int qc_autostart_run(qc_ctx *ctx, struct qc_autostart_report **ret, struct qc_error *err);
/*
 * Stop every running or paused VM gracefully, in parallel: ACPI power
 * button until timeout_ms (0: 60 s), then quit, then SIGKILL (qc_vm_stop).
 * Both passes call the context's progress callback ("starting VMs" /
 * "stopping VMs", VMs done, VMs in all) every 200 ms while they wait.
 */
QC_PUBLIC int qc_autostart_shutdown(
	qc_ctx *ctx, int timeout_ms, struct qc_autostart_report **ret, struct qc_error *err);

/* ------------------------------------- helpers for programs built on the library */

/*
 * A size: "1073741824", "512M", "2G", "1.5T", "64k", "2GiB" (binary
 * multiples, K = 1024).  Empty, negative, fractions of a byte and overflow
 * are QC_ERR_INVALID; what names the value in the message ("--memory").
 */
QC_PUBLIC int qc_size_parse(const char *what, const char *text, uint64_t *ret,
	struct qc_error *err);
/*
 * A qc_error code's name for programs: "invalid", "not-found", "state",
 * ... (QC_ERR_*), "timeout", an errno name ("ENOENT"), or "unknown".
 */
QC_PUBLIC const char *qc_error_name(int code);
/* bytes for people ("512.0 MiB") into buf (16 bytes are enough). */
QC_PUBLIC void qc_size_format(uint64_t bytes, char *buf, size_t size);
/* A whole number from min to max, else QC_ERR_INVALID naming what. */
QC_PUBLIC int qc_uint_parse(const char *what, const char *text, uint64_t min, uint64_t max,
	uint64_t *ret, struct qc_error *err);

/* The library's log messages (nothing is logged until a handler is set). */
enum qc_log_level {
	QC_LOG_LEVEL_ERROR,
	QC_LOG_LEVEL_WARNING,
	QC_LOG_LEVEL_INFO,
	QC_LOG_LEVEL_DEBUG,
	QC_LOG_LEVEL_COUNT, /* how many: not a level */
};
typedef void (*qc_log_handler_fn)(int level, const char *msg, void *opaque);
/* fn gets every message up to max_level; fn NULL: nothing is logged. */
QC_PUBLIC void qc_log_handler_set(qc_log_handler_fn fn, void *opaque, enum qc_log_level max_level);

/*
 * A guest's output (console log, console tail) made safe to print on a
 * terminal: control characters and sequences are shown (^[, \x9b), not
 * obeyed; valid UTF-8, LF, tab and CR before LF pass.  Streaming: start with
 * a zeroed struct, call qc_term_filter per chunk and qc_term_filter_end
 * once; each returns the text to print (free it), its length in *ret_len.
 */
struct qc_term_filter {
	bool cr;            /* a CR waits for the next byte */
	unsigned char lead; /* lead byte of the UTF-8 sequence in progress */
	int cont;           /* continuation bytes still expected */
};
QC_PUBLIC char *qc_term_filter(struct qc_term_filter *st, const void *in, size_t n,
	size_t *ret_len);
QC_PUBLIC char *qc_term_filter_end(struct qc_term_filter *st, size_t *ret_len);

/*
 * Check a raw QMP command as qc_vm_qmp takes it, without sending it:
 * QC_ERR_JSON when it is not JSON (err says where), QC_ERR_INVALID when it
 * is not an object with a non-empty "execute".
 */
QC_PUBLIC int qc_qmp_command_check(const char *json, struct qc_error *err);

#ifdef __cplusplus
}
#endif
#endif
