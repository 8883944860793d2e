/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The domain model: what a VM is, independent of how it is stored
 * (domain.xml, driver/xml.c) or run (qemu argv, driver/argv.c).
 * Internal to driver/; the public header exposes only what it must.
 */
#ifndef QC_DOMAIN_H
#define QC_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "driver/arch.h"
#include "util/util.h"

/* A mebibyte: the unit guest memory is given and checked in. */
#define MiB (UINT64_C(1) << 20)

enum qc_disk_role {
	QC_ROLE_ROOT,   /* the overlay made from --image / --disk-image */
	QC_ROLE_DATA,   /* --disk SIZE (owned) or --disk FILE (not owned) */
	QC_ROLE_SEED,   /* the NoCloud seed ISO */
	QC_ROLE_COUNT,  /* how many: not a role */
};

struct qc_disk {
	char *name;           /* "disk0", "disk1", "seed": unique in the domain */
	enum qc_disk_role role;
	enum qc_disk_device device;
	enum qc_disk_bus bus;
	char *path;           /* absolute path QEMU opens */
	char *format;         /* "qcow2", "raw" */
	char *backing;        /* backing file (absolute) of an overlay, else NULL */
	char *backing_format; /* "qcow2", "raw"... */
	char *backing_image;  /* catalog image name the backing came from, else NULL */
	char *target;         /* guest device name hint: "vda", "sda" */
	bool readonly;
	bool owned;           /* lives in the VM's directory; removed by delete */
};

enum qc_nic_type {
	QC_NIC_USER,    /* QEMU user-mode networking (slirp) */
	QC_NIC_NETWORK, /* a qemuctl named network: bridge + static address */
	QC_NIC_BRIDGE,  /* an existing host bridge, no addressing */
	QC_NIC_TYPE_COUNT, /* how many: not a type */
};

struct qc_hostfwd {
	char proto[4];      /* "tcp" or "udp" */
	char host_addr[64]; /* "" = 127.0.0.1 */
	unsigned host_port; /* 0 = pick a free port at start */
	unsigned guest_port;
};

struct qc_nic {
	char *name;    /* "net0", "net1": unique in the domain */
	enum qc_nic_type type;
	char mac[18];  /* "52:54:00:xx:xx:xx" */
	char *model;   /* "virtio-net-pci" */
	char *network; /* QC_NIC_NETWORK: network name */
	char *bridge;  /* QC_NIC_BRIDGE / QC_NIC_NETWORK: bridge name */
	char *ip;      /* QC_NIC_NETWORK: address in CIDR form "10.0.0.5/24", else NULL */
	struct qc_hostfwd *fwds; /* QC_NIC_USER */
	size_t n_fwds;
};

struct qc_share {
	char *tag;    /* mount_tag, also the default guest mount point /mnt/<tag> */
	char *path;   /* host directory (absolute) */
	bool readonly;
	bool empty;   /* a scratch directory under the VM's directory, owned */
	char *security_model; /* "mapped-xattr" (default) or "none" */
};

/* Options the NoCloud seed was built from, kept so a change can be detected. */
struct qc_seed_opts {
	bool enabled;       /* false: --no-seed */
	char *hostname;
	char **ssh_keys;    /* public key lines, NULL-terminated */
	char *user_data;    /* the VM's copy of --user-data (vm_dir/user-data), or NULL */
	char *network_config; /* the VM's copy of --network-config, or NULL */
	char *user;         /* default user the seed creates ("qemuctl" unless given) */
	unsigned generation; /* bumped whenever the seed content changes */
	char *content_hash; /* sha256 of the content of the last build */
};

/* An XML element or attribute qemuctl does not understand, kept verbatim. */
struct qc_xml_extra {
	char *parent; /* "domain", "domain/os", "domain/devices", "domain/devices/disk[2]"... */
	char *xml;    /* the serialised node */
	long line;    /* where it was read, 0 when made in code */
};

struct qc_domain {
	char *name;
	uint8_t uuid[16];
	char uuid_str[37];
	char *title;            /* optional <title> */

	enum qc_arch arch;
	char *machine;          /* NULL: the arch's default */
	enum qc_accel accel;    /* as requested; the choice made at start goes to state */
	char *cpu_model;        /* NULL: the arch/accel default */
	unsigned cpus;
	uint64_t memory;        /* bytes */

	/* direct kernel boot */
	char *kernel, *initrd, *cmdline;
	/* firmware (UEFI pflash) for disk boot; NULL = the arch's default when needed */
	char *loader;           /* read-only code file */
	char *nvram;            /* per-VM writable varstore copy */
	bool secure_boot;       /* UEFI Secure Boot: SMM, secure pflash, the arch's secure code */
	bool tpm;               /* a TPM 2.0 emulated by a per-VM swtpm (state in vm_dir/tpm) */

	struct qc_disk *disks;
	size_t n_disks;
	struct qc_nic *nics;
	size_t n_nics;
	struct qc_share *shares;
	size_t n_shares;

	bool serial_console;    /* a serial port copied into console.log (default true) */
	char video[8];          /* <video><model type=...>: "vga", "virtio"; "": no display */
	/*
	 * <graphics type='vnc'>: "" none; QC_VNC_SOCKET a unix socket in the run
	 * dir; else the loopback address QEMU listens on (TCP, with a password)
	 */
	char vnc[48];
	struct qc_seed_opts seed;
	bool autostart;
	char *ready_marker;     /* console text that means "first boot done", or NULL */

	struct qc_xml_extra *extras; /* unknown XML, re-emitted by dumpxml */
	size_t n_extras;
};

/* ---- domain.c: model helpers */
struct qc_domain *qc_domain_new(void);
void qc_domain_free(struct qc_domain *d);
void qc_domain_freep(struct qc_domain **d);
#define cleanup_domain __attribute__((cleanup(qc_domain_freep)))
struct qc_domain *qc_domain_copy(const struct qc_domain *d);
/* "user", "network", "bridge": the interface type of domain XML and --json */
const char *qc_nic_type_name(enum qc_nic_type t);
/* Check invariants (name, memory > 0, cpus in range, unique disk/nic names...). */
int qc_domain_validate(const struct qc_domain *d, struct qc_error *err);
/*
 * A TPM together with a direct kernel boot: refused on x86_64, where
 * SeaBIOS runs before the kernel and its TPM setup corrupts the ACPI
 * tables the kernel then reads.  0 otherwise.  Part of qc_domain_validate;
 * the XML parser calls it at <tpm> to name that line.
 */
int qc_domain_check_tpm_boot(const struct qc_domain *d, struct qc_error *err);
void qc_domain_gen_uuid(struct qc_domain *d);

/*
 * ---- domain_fields.c: values that reach QEMU's or a program's argv.
 * All refuse control characters; words also ',' '=' and a leading '-'.
 */
int qc_domain_validate_fields(const struct qc_domain *d, struct qc_error *err);
/* 1..max of letters, digits and extra, not beginning with '-' */
int qc_domain_check_word(const char *what, const char *v, const char *extra, size_t max,
	struct qc_error *err);
/* at most max bytes of UTF-8 without control characters */
int qc_domain_check_text(const char *what, const char *v, size_t max, struct qc_error *err);
/* absolute, text; without ',' unless comma_ok (QEMU gets it escaped) */
int qc_domain_check_path(const char *what, const char *p, bool comma_ok, struct qc_error *err);
int qc_domain_check_user(const char *v, struct qc_error *err);
int qc_domain_check_ssh_key(const char *v, struct qc_error *err);
int qc_domain_check_machine(const char *v, struct qc_error *err);
int qc_domain_check_cpu(const char *v, struct qc_error *err);
int qc_domain_check_bridge(const char *v, struct qc_error *err);
int qc_domain_check_ready_marker(const char *v, struct qc_error *err);
/* A VNC listen value: QC_VNC_SOCKET, or a loopback address (127.0.0.0/8, ::1). */
#define QC_VNC_SOCKET "socket"
int qc_domain_check_vnc(const char *v, struct qc_error *err);
/*
 * vnc.c: --display none (NULL), vnc, vnc=ADDR into d (its arch set): a VNC
 * display, and a video device (vga; virtio on aarch64) unless d has one.
 */
int qc_domain_set_display(struct qc_domain *d, const char *display, struct qc_error *err);
int qc_uuid_parse(const char *s, uint8_t out[16]);
void qc_uuid_format(const uint8_t uuid[16], char out[37]);
struct qc_disk *qc_domain_add_disk(struct qc_domain *d);   /* zeroed, appended */
struct qc_nic *qc_domain_add_nic(struct qc_domain *d);
struct qc_share *qc_domain_add_share(struct qc_domain *d);
struct qc_disk *qc_domain_find_disk(const struct qc_domain *d, const char *name);
struct qc_nic *qc_domain_find_nic(const struct qc_domain *d, const char *name);
void qc_disk_clear(struct qc_disk *disk);
void qc_nic_clear(struct qc_nic *nic);
void qc_share_clear(struct qc_share *share);

/*
 * ---- domain_home.c: files a definition may name as the VM's own
 * (vm_dir = <root>/vms/<name>).  Each returns 0 or QC_ERR_INVALID naming
 * the file and why.
 */
/* f_type (statfs) is a kernel pseudo file system: procfs, sysfs, debugfs... */
bool qc_domain_pseudo_fs(unsigned long type);
char *qc_domain_home_dir(const char *root, const char *name);
/* path's base name when path is vm_dir/NAME with a plain file NAME, else NULL */
const char *qc_domain_home_base(const char *vm_dir, const char *path);
/* directly in vm_dir, a plain name, a regular file (dir: a directory) or missing, no symlink */
int qc_domain_home_file(
	const char *vm_dir, const char *what, const char *path, bool dir, struct qc_error *err);
/* a file of the VM, catalog image <root>/images/<image>.qcow2, or (no image) outside root */
int qc_domain_home_backing(const char *root, const char *vm_dir, const char *image,
	const char *backing, struct qc_error *err);
/* owned: a file of the VM with a checked backing; not owned: outside the state root */
int qc_domain_home_disk(
	const char *root, const char *vm_dir, const struct qc_disk *k, struct qc_error *err);
/* what: "user-data" or "network-config"; path must be vm_dir/what, the copy create makes */
int qc_domain_home_seed_file(
	const char *vm_dir, const char *what, const char *path, struct qc_error *err);
int qc_domain_home_seed(const char *vm_dir, const struct qc_seed_opts *s, struct qc_error *err);
/* an empty (scratch) share in vm_dir; any other outside the state root */
int qc_domain_home_share(
	const char *root, const char *vm_dir, const struct qc_share *s, struct qc_error *err);
/* inside vm_dir: a file of the VM; outside the state root: the user's, never created */
int qc_domain_home_nvram(
	const char *root, const char *vm_dir, const char *nvram, struct qc_error *err);
/* All of the above over d (not its snapshot records) for a VM in state root root. */
int qc_domain_check_owned(const struct qc_domain *d, const char *root, struct qc_error *err);
/*
 * snapshot_meta.c: the snapshot chain's records name only files of the VM
 * and the owned disks' bases; *ret_line: where the chain was read.
 */
int qc_domain_check_snapshots(
	const struct qc_domain *d, const char *root, long *ret_line, struct qc_error *err);

/* ---- argv.c: the pure domain -> qemu argv builder */
/* One descriptor QEMU inherits into an fd set. */
struct qc_argv_fd {
	int fd;             /* its number in QEMU */
	int set;            /* fd set id (> 0) */
	const char *opaque; /* a note QEMU shows in query-fdsets, or NULL */
};
/*
 * One layer of a disk's chain: the file in fd set set, in format format;
 * path only names its nodes (qc_argv_layer_ids) and is not in argv.
 */
struct qc_argv_layer {
	int set;
	const char *format;
	const char *path;
};
/* A disk's chain: layers[0] is the disk's own file, then its backing files downwards. */
struct qc_argv_disk {
	const struct qc_argv_layer *layers;
	size_t n_layers;
};
struct qc_argv_ctx {
	enum qc_accel accel;      /* resolved: KVM or TCG */
	const char *qmp_path;     /* control QMP socket for clients */
	const char *qmp_event_path; /* QMP socket the monitor holds for events */
	const char *serial_path;  /* unix socket for the serial console */
	const char *pidfile;      /* or NULL */
	const char *qemu_binary;  /* override, or NULL for the arch's */
	/*
	 * Listening sockets the monitor made (driver/monitor/qemu.c) and
	 * kernel/initrd fds QEMU inherits: > 2 is used instead of the path
	 * (chardev fd=N, /dev/fd/N), so a QEMU without access to the
	 * runtime dir or the kernel's directories still gets them.
	 */
	int qmp_fd, qmp_event_fd, serial_fd;
	/*
	 * The guest agent channel (virtio-serial port org.qemu.guest_agent.0):
	 * its listening socket as qga_fd (> 2) or qga_path; neither: no channel.
	 */
	const char *qga_path;
	int qga_fd;
	int kernel_fd, initrd_fd;
	/* tap fds already open in the QEMU process, per NIC index (-1 = none) */
	const int *tap_fds;
	size_t n_tap_fds;
	/* host ports chosen for user-mode forwards whose host_port is 0, per NIC/fwd */
	const unsigned *const *fwd_ports;
	bool sandbox;             /* -sandbox on,... (always true outside tests) */
	bool incoming_defer;      /* -incoming defer: a saved state is loaded over QMP */
	/*
	 * Files QEMU gets as descriptors (driver/fdpass.c): each fds[i] becomes
	 * -add-fd fd=FD,set=SET and the file is named /dev/fdset/SET.  With
	 * disks set (one entry per disk of d), every disk and its whole backing
	 * chain are -blockdev nodes on fd sets with explicit backing nodes, the
	 * bottom layer with "backing": null, so QEMU opens no file by a path
	 * read from an image header.  loader_set/nvram_set (> 0) do the same
	 * for the UEFI code and varstore.  Without them files go by path.
	 */
	const struct qc_argv_fd *fds;
	size_t n_fds;
	const struct qc_argv_disk *disks;
	int loader_set, nvram_set;
	/*
	 * The TPM's swtpm control socket: tpm_dir_fd (> 2) is a directory fd
	 * QEMU inherits holding QC_ARGV_TPM_SOCK (QEMU connects through
	 * /proc/self/fd/N, so it needs no access to the directories above);
	 * else tpm_path.  d->tpm needs one of them.
	 */
	int tpm_dir_fd;
	const char *tpm_path;
};
/* The guest agent's virtio-serial port name (what qemu-guest-agent opens). */
#define QC_ARGV_QGA_PORT "org.qemu.guest_agent.0"
/* Returns a NULL-terminated argv (free with qc_strv_free). */
int qc_build_argv(const struct qc_domain *d, const struct qc_argv_ctx *ctx, char ***ret,
	struct qc_error *err);
/*
 * QEMU object names argv uses for disk i of d (for QMP block operations,
 * hot-unplug): format node "drive-NAME", file node "file-NAME", device id
 * "disk-NAME" (NAME replaced by "-I" when it does not fit QEMU's 31-byte
 * node names).  NICs: netdev "hostnet-NAME", device "nic-NAME".
 */
void qc_argv_disk_ids(const struct qc_domain *d, size_t i, char fmt_node[32], char file_node[32],
	char dev_id[80]);
void qc_argv_nic_ids(const struct qc_domain *d, size_t i, char netdev_id[80], char dev_id[80]);
/*
 * The devices argv gives QEMU for d, as state.json publishes them for the
 * run (driver.h qc_run_devices): taps[i] is NIC i's tap ("" for a user NIC).
 */
struct qc_run_devices;
int qc_argv_run_devices(const struct qc_domain *d, const char (*taps)[16],
	struct qc_run_devices **ret, struct qc_error *err);
/*
 * Node names of a backing layer (and of a live snapshot's overlay) at path:
 * "qcn<hash>" (format) and "qcf<hash>" (file), the same in every run, so
 * a block job can name a layer of the running chain by its file.  A disk's
 * active layer at start keeps qc_argv_disk_ids' names.
 */
void qc_argv_layer_ids(const char *path, char fmt_node[32], char file_node[32]);
/* The UEFI code file argv gives d (its loader or the arch's default), or NULL: none. */
const char *qc_argv_firmware_code(const struct qc_domain *d);
/* Copy s with every ',' doubled, as QEMU's option parser wants in values. */
char *qc_argv_escape(const char *s);
/* -cpu value for d under accel (KVM: host unless a model is named; TCG: the arch default). */
char *qc_argv_cpu(const struct qc_domain *d, enum qc_accel accel);

/*
 * ---- domain_cache.c: vms/NAME/domain.cache.json, the parsed form of
 * domain.xml stamped with the stat of the domain.xml it was made from.
 */
#define QC_VM_DOMAIN_CACHE "domain.cache.json"
#define QC_DOMAIN_CACHE_MAX (1u << 20)
struct stat;
/* "dev:ino:size:mtime:ctime" (times in ns) of domain.xml's stat */
void qc_domain_cache_stamp(const struct stat *st, char *out, size_t size);
int qc_domain_cache_encode(const struct qc_domain *d, const struct stat *xml, char **ret,
	size_t *ret_len, struct qc_error *err);
/* Only the format: the version, the stamp against xml, every member known and typed. */
int qc_domain_cache_decode(const char *text, size_t len, const struct stat *xml,
	struct qc_domain **ret, struct qc_error *err);
/*
 * VM name of state root root from its cache when it is ours (0600, not a
 * symlink, bounded), current for xml (domain.xml's stat) and passes every
 * check the XML path runs; else an error saying why (the caller parses).
 */
int qc_domain_cache_load(const char *root, const char *name, const struct stat *xml,
	struct qc_domain **ret, struct qc_error *err);
/* Write dirfd's cache of d, stamped with xml; nothing for a d with extras. */
int qc_domain_cache_write(
	int dirfd, const struct qc_domain *d, const struct stat *xml, struct qc_error *err);
/* After d was saved as dirfd/domain.xml: its cache (best effort). */
void qc_domain_cache_save(int dirfd, const struct qc_domain *d);

/* ---- xml.c: domain.xml load/save (libvirt-compatible subset) */
#define QC_XML_MAX_BYTES (4u << 20)
/*
 * Parse XML text.  file names the source in messages ("web.xml:12: ...").
 * Unsupported elements/attributes are kept in d->extras and each one is
 * reported through warn (may be NULL).
 */
typedef void (*qc_warn_fn)(const char *msg, void *opaque);
int qc_domain_from_xml(const char *xml, size_t len, const char *file, qc_warn_fn warn,
	void *opaque, struct qc_domain **ret, struct qc_error *err);
/*
 * The same for a VM of state root root (NULL: no context): every record
 * naming a file of the VM is checked (driver/domain_home.c) with its line.
 */
int qc_domain_from_xml_at(const char *xml, size_t len, const char *file, const char *root,
	qc_warn_fn warn, void *opaque, struct qc_domain **ret, struct qc_error *err);
int qc_domain_to_xml(const struct qc_domain *d, char **ret, struct qc_error *err);
/* path is ROOT/vms/NAME/domain.xml; loaded as qc_domain_from_xml_at(ROOT), name NAME. */
int qc_domain_load(const char *path, qc_warn_fn warn, void *opaque, struct qc_domain **ret,
	struct qc_error *err);
/* Atomic write of domain.xml. */
int qc_domain_save(const struct qc_domain *d, int dirfd, const char *name, struct qc_error *err);
/* Memory sizes as libvirt's unit attribute defines them ("KiB" when unit is NULL). */
int qc_xml_parse_memory(const char *value, const char *unit, uint64_t *ret, struct qc_error *err);

#endif
