/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pure domain -> qemu-system-* argv builder.  No file system access,
 * no processes: everything the result depends on is in the domain and the
 * context, so golden files pin it down (tests/unit/golden/argv/).
 *
 * Facts this relies on (checked against QEMU 7.2 on Debian 12):
 *  - -accel tcg,thread=multi: MTTCG is safe for every guest we run on an
 *    x86_64 host.  QEMU enables it by default only when the target sets
 *    TARGET_SUPPORTS_MTTCG (x86_64, aarch64 and ppc64 all do) and the guest
 *    memory model is no stronger than the host's; x86 TSO is stronger than
 *    Arm's and Power's weak ordering and equal to an x86 guest's, so QEMU
 *    accepts thread=multi for all three without its "Guest expects a
 *    stronger memory ordering" warning (verified: no warning is printed).
 *  - -sandbox elevateprivileges=deny and -runas do not mix: QEMU installs
 *    the seccomp filter before -runas calls setgid()/setuid(), so QEMU dies
 *    of SIGSYS (verified with 7.2).  So there is no -runas: qemuctl-monitor
 *    drops to the unprivileged user between fork and exec, and the sandbox
 *    keeps elevateprivileges=deny.
 *  - -chardev socket,fd=N,server=on takes a socket that already listens
 *    (the monitor made it, root-owned 0600 in the 0700 runtime dir), so
 *    QEMU needs no access to the runtime dir; -kernel /dev/fd/N reopens an
 *    fd the CLI opened, so the kernel's directories need not be searchable
 *    by that user (verified with 7.2: x86_64, aarch64, ppc64le).
 *  - -serial chardev:serial0 gives q35 an isa-serial (ttyS0), virt its
 *    PL011 (ttyAMA0) and pseries an spapr-vty (hvc0); no device by hand.
 *  - The NoCloud seed: ide-cd on q35's built-in AHCI (what cloud images and
 *    libvirt do); on virt and pseries a read-only virtio-blk disk, because a
 *    virtio-scsi cdrom needs virtio_scsi + sr_mod in the guest while
 *    virtio_blk is needed for the root disk anyway, and cloud-init finds the
 *    seed by its 'cidata' label on any block device.  (qc_arch_info's
 *    seed_device/seed_bus say so; the disk's own bus decides here.)
 *    Checked with tests/guest's kernels: x86_64, aarch64 and ppc64le all
 *    print "CIDATA hostname=..." and run the user-data with this argv.
 *  - Devices are virtio-*-pci on every machine; nothing legacy is added
 *    (-nodefaults: no PS/2, VGA, floppy or default NIC; virt has no i8042).
 *  - The guest agent channel (ctx->qga_fd/qga_path) is the last device:
 *    virtio-serial-pci + virtserialport name=org.qemu.guest_agent.0, which
 *    qemu-guest-agent opens by that name (/dev/virtio-ports/...).  Being
 *    last, it takes the first free slot after every other device, so VMs
 *    defined before it keep their devices' PCI addresses (and so their
 *    guests' interface names).  QEMU 7.2 accepts it on q35, virt and
 *    pseries (check_driver_argv's argv_qemu_accepts runs it).
 *  - pseries RAM must be a multiple of 256 MiB (qc_domain_validate checks).
 *  - Option values are comma-separated lists: a ',' in a path is doubled.
 *  - Files by descriptor (ctx->fds, ctx->disks): -add-fd fd=N,set=S dups N
 *    into fd set S and closes N; /dev/fdset/S as a file name dups the
 *    set's fd whose access mode matches the open (O_RDONLY or O_RDWR), so
 *    QEMU opens no path.  A qcow2 node without a "backing" option opens the
 *    backing path written in the image's header: every qcow2 node names its
 *    backing node, the bottom one "backing": null (JSON: dotted syntax has
 *    no null).  Checked with 7.2 as an unprivileged user on files in a 0700
 *    directory, with a live blockdev-snapshot and block-stream on top.
 *  - The TPM (d->tpm): QEMU's emulator backend sends swtpm the data channel
 *    (CMD_SET_DATAFD, SCM_RIGHTS) over the control chardev, and 7.2 enables
 *    fd passing only on a socket chardev opened by path ("fd=N" fails with
 *    "Failed to send CMD_SET_DATAFD: Invalid argument"), so the chardev is
 *    path=/proc/self/fd/N/swtpm.sock: the magic link needs no search right
 *    on the directories above (verified as the confined user with
 *    -sandbox on).  tpm-tis (q35: ISA), tpm-tis-device (virt: sysbus) and
 *    tpm-spapr (pseries: VIO) take no PCI slot.
 *  - Secure Boot: ",smm=on" and cfi.pflash01's secure=on keep the
 *    varstore writable from SMM only, as OVMF's .secboot build expects.
 */
#include "config.h"

#include <string.h>

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/qemu_fds.h"

/* pcie-root-ports "qc-hp0".. kept free for hot-plug (driver/hotplug.c tries them in order) */
#define QC_ARGV_HOTPLUG_PORTS 4

char *qc_argv_escape(const char *s)
{
	struct qc_buf b = {0};

	for (; *s; s++) {
		if (*s == ',')
			qc_buf_putc(&b, ',');
		qc_buf_putc(&b, *s);
	}
	return qc_buf_steal(&b);
}

void qc_argv_disk_ids(
	const struct qc_domain *d, size_t i, char fmt_node[32], char file_node[32], char dev_id[80])
{
	const char *name = d->disks[i].name;

	/* node names are at most 31 bytes; "--I" never collides with a valid name */
	if (strlen(name) <= 25) {
		snprintf(fmt_node, 32, "drive-%s", name);
		snprintf(file_node, 32, "file-%s", name);
	} else {
		snprintf(fmt_node, 32, "drive--%zu", i);
		snprintf(file_node, 32, "file--%zu", i);
	}
	snprintf(dev_id, 80, "disk-%s", name);
}

void qc_argv_nic_ids(const struct qc_domain *d, size_t i, char netdev_id[80], char dev_id[80])
{
	snprintf(netdev_id, 80, "hostnet-%s", d->nics[i].name);
	snprintf(dev_id, 80, "nic-%s", d->nics[i].name);
}

int qc_argv_run_devices(const struct qc_domain *d, const char (*taps)[16],
	struct qc_run_devices **ret, struct qc_error *err)
{
	struct qc_run_devices *v = qc_xzalloc(sizeof(*v));
	int rc = 0;

	v->memory = d->memory;
	for (size_t i = 0; rc == 0 && i < d->n_disks; i++) {
		char fmt[32], file[32], dev[80];

		qc_argv_disk_ids(d, i, fmt, file, dev);
		rc = qc_run_devices_add_disk(v, d->disks[i].name, dev, err);
	}
	for (size_t i = 0; rc == 0 && i < d->n_nics; i++) {
		const struct qc_nic *n = &d->nics[i];

		rc = qc_run_devices_add_nic(v, n->name, qc_nic_type_name(n->type),
			n->type == QC_NIC_USER ? NULL : taps[i], n->mac, err);
	}
	if (rc < 0) {
		qc_run_devices_free(v);
		return rc;
	}
	*ret = v;
	return 0;
}

static bool is_host_cpu(const char *m)
{
	return m && (strcmp(m, "host") == 0 || strcmp(m, "host-model") == 0);
}

char *qc_argv_cpu(const struct qc_domain *d, enum qc_accel accel)
{
	const struct qc_arch_info *ai = qc_arch_info(d->arch);
	const char *m = d->cpu_model;

	if (accel == QC_ACCEL_KVM)
		return qc_xstrdup(m && !is_host_cpu(m) ? m : "host");
	/* "host" means "the best there is": under TCG, the arch's default */
	if (!m || is_host_cpu(m))
		return qc_xstrdup(ai->cpu_tcg);
	if (d->arch == QC_ARCH_AARCH64 && strcmp(m, "max") == 0)
		return qc_xstrdup("max,pauth-impdef=on");
	return qc_xstrdup(m);
}

static char *machine_opt(const struct qc_domain *d, enum qc_accel accel)
{
	const struct qc_arch_info *ai = qc_arch_info(d->arch);
	const char *m = d->machine ? d->machine : ai->machine;
	struct qc_buf b = {0};

	qc_buf_puts(&b, m);
	if (d->arch == QC_ARCH_AARCH64 && qc_str_has_prefix(m, "virt"))
		/* KVM: the host's GIC; TCG emulates a GICv3 (cortex-a57 and max both use it) */
		qc_buf_puts(&b, accel == QC_ACCEL_KVM ? ",gic-version=host" : ",gic-version=3");
	if (d->arch == QC_ARCH_PPC64LE && qc_str_has_prefix(m, "pseries")) {
		/* VOF boots a kernel ~3x faster than SLOF; SLOF is kept for disk boot */
		if (d->kernel)
			qc_buf_puts(&b, ",x-vof=on");
		/* TCG cannot provide these spectre/meltdown mitigations and warns at start */
		if (accel == QC_ACCEL_TCG)
			qc_buf_puts(&b, ",cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,"
					"cap-ccf-assist=off");
	}
	/* Secure Boot: the firmware keeps its variables in SMM, out of the OS's reach */
	if (d->secure_boot)
		qc_buf_puts(&b, ",smm=on");
	/* SeaBIOS disk boot: its messages ("No bootable device.") on the serial console */
	if (d->arch == QC_ARCH_X86_64 && !d->kernel && !qc_argv_firmware_code(d))
		qc_buf_puts(&b, ",graphics=off");
	return qc_buf_steal(&b);
}

/* The disk firmware boots from: the first root disk, else the first disk. */
static ssize_t boot_disk(const struct qc_domain *d)
{
	if (d->kernel || d->n_disks == 0)
		return -1;
	for (size_t i = 0; i < d->n_disks; i++)
		if (d->disks[i].role == QC_ROLE_ROOT)
			return (ssize_t) i;
	return 0;
}

const char *qc_argv_firmware_code(const struct qc_domain *d)
{
	const struct qc_arch_info *ai = qc_arch_info(d->arch);

	if (d->kernel || !ai->firmware_code)
		return NULL;
	if (d->loader)
		return d->loader;
	if (d->secure_boot)
		return ai->firmware_code_secure;
	if (d->nvram || ai->firmware_required)
		return ai->firmware_code;
	return NULL; /* x86_64 without a loader: SeaBIOS */
}

static void add_firmware(struct qc_strv *a, const struct qc_domain *d, const struct qc_argv_ctx *ctx)
{
	const char *code = qc_argv_firmware_code(d);
	cleanup_free char *c = NULL, *v = NULL;

	if (!code)
		return;
	c = ctx->loader_set > 0 ? qc_xasprintf("/dev/fdset/%d", ctx->loader_set)
				: qc_argv_escape(code);
	qc_strv_push(a, "-drive");
	qc_strv_pushf(a, "if=pflash,format=raw,unit=0,readonly=on,file=%s", c);
	if (d->nvram) {
		v = ctx->nvram_set > 0 ? qc_xasprintf("/dev/fdset/%d", ctx->nvram_set)
				       : qc_argv_escape(d->nvram);
		qc_strv_push(a, "-drive");
		qc_strv_pushf(a, "if=pflash,format=raw,unit=1,file=%s", v);
	}
	if (d->secure_boot) {
		/* only SMM code may write the varstore flash */
		qc_strv_push(a, "-global");
		qc_strv_push(a, "driver=cfi.pflash01,property=secure,value=on");
	}
}

/*
 * The TPM: QEMU's emulator backend on swtpm's control socket (the data
 * channel is a socketpair QEMU sends over it) and the arch's TPM device.
 */
static int add_tpm(struct qc_strv *a, const struct qc_domain *d, const struct qc_argv_ctx *ctx,
	struct qc_error *err)
{
	cleanup_free char *path = NULL;

	if (!d->tpm)
		return 0;
	if (ctx->tpm_dir_fd > 2)
		path = qc_xasprintf("/proc/self/fd/%d/" QC_ARGV_TPM_SOCK, ctx->tpm_dir_fd);
	else if (ctx->tpm_path)
		path = qc_argv_escape(ctx->tpm_path);
	else
		return qc_error_set(err, QC_ERR_INTERNAL,
			"VM '%s': argv needs the swtpm control socket for its TPM", d->name);
	qc_strv_push(a, "-chardev");
	qc_strv_pushf(a, "socket,id=chrtpm,path=%s", path);
	qc_strv_push(a, "-tpmdev");
	qc_strv_push(a, "emulator,id=tpm0,chardev=chrtpm");
	qc_strv_push(a, "-device");
	qc_strv_pushf(a, "%s,tpmdev=tpm0,id=tpm-dev0", qc_arch_info(d->arch)->tpm_device);
	return 0;
}

void qc_argv_layer_ids(const char *path, char fmt_node[32], char file_node[32])
{
	uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *) path; *p; p++)
		h = (h ^ *p) * UINT64_C(0x100000001b3);
	snprintf(fmt_node, 32, "qcn%016llx", (unsigned long long) h);
	snprintf(file_node, 32, "qcf%016llx", (unsigned long long) h);
}

/* -blockdev JSON: a file node on /dev/fdset/set, or a format node on file over backing. */
static void push_blockdev(struct qc_strv *a, const char *driver, const char *node,
	const char *filename, const char *file, bool has_backing, const char *backing, bool ro)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	char *json = NULL;

	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "driver", driver);
	if (filename)
		qc_jgen_kstring(g, "filename", filename);
	if (file)
		qc_jgen_kstring(g, "file", file);
	qc_jgen_kstring(g, "node-name", node);
	if (ro)
		qc_jgen_kbool(g, "read-only", true);
	/* "backing": null stops QEMU from opening the path in the image's header */
	if (has_backing) {
		qc_jgen_key(g, "backing");
		qc_jgen_string(g, backing);
	}
	qc_jgen_map_close(g);
	if (qc_jgen_finish(g, &json, NULL, NULL) < 0)
		json = qc_xstrdup("{}"); /* cannot happen: the generator only fails on misuse */
	qc_strv_push(a, "-blockdev");
	qc_strv_push_take(a, json);
}

/*
 * Disk i's chain from fd sets, bottom layer first (a backing node must
 * exist before the node naming it).  Only layer 0 may be writable.
 */
static void add_disk_chain(struct qc_strv *a, const struct qc_argv_disk *c, const char *fmt0,
	const char *file0, bool ro0)
{
	for (size_t k = c->n_layers; k-- > 0;) {
		const struct qc_argv_layer *l = &c->layers[k];
		bool qcow2 = strcmp(l->format, "qcow2") == 0;
		char fmt[32], file[32], below[32], unused[32];
		cleanup_free char *fname = qc_xasprintf("/dev/fdset/%d", l->set);
		bool ro = k > 0 || ro0;

		if (k == 0) {
			snprintf(fmt, sizeof(fmt), "%s", fmt0);
			snprintf(file, sizeof(file), "%s", file0);
		} else {
			qc_argv_layer_ids(l->path, fmt, file);
		}
		if (k + 1 < c->n_layers)
			qc_argv_layer_ids(c->layers[k + 1].path, below, unused);
		push_blockdev(a, "file", file, fname, NULL, false, NULL, ro);
		push_blockdev(a, l->format, fmt, NULL, file, qcow2,
			qcow2 && k + 1 < c->n_layers ? below : NULL, ro);
	}
}

static void add_disks(struct qc_strv *a, const struct qc_domain *d, const struct qc_argv_ctx *ctx)
{
	ssize_t boot = boot_disk(d);
	unsigned sata = 0;
	bool scsi = false;

	for (size_t i = 0; i < d->n_disks; i++)
		scsi |= d->disks[i].bus == QC_BUS_SCSI;
	if (scsi) {
		qc_strv_push(a, "-device");
		qc_strv_push(a, "virtio-scsi-pci,id=scsi0");
	}
	for (size_t i = 0; i < d->n_disks; i++) {
		const struct qc_disk *k = &d->disks[i];
		bool ro = k->readonly || k->device == QC_DEVICE_CDROM;
		const char *ros = ro ? ",read-only=on" : "";
		char fmt[32], file[32], dev[80];
		cleanup_free char *path = qc_argv_escape(k->path);
		const char *model;
		cleanup_free char *bus = NULL;

		qc_argv_disk_ids(d, i, fmt, file, dev);
		if (ctx->disks) {
			add_disk_chain(a, &ctx->disks[i], fmt, file, ro);
		} else {
			qc_strv_push(a, "-blockdev");
			qc_strv_pushf(a, "driver=file,filename=%s,node-name=%s%s", path, file, ros);
			qc_strv_push(a, "-blockdev");
			qc_strv_pushf(a, "driver=%s,file=%s,node-name=%s%s", k->format, file, fmt, ros);
		}
		switch (k->bus) {
		case QC_BUS_SCSI:
			model = k->device == QC_DEVICE_CDROM ? "scsi-cd" : "scsi-hd";
			bus = qc_xstrdup(",bus=scsi0.0");
			break;
		case QC_BUS_SATA:
			model = k->device == QC_DEVICE_CDROM ? "ide-cd" : "ide-hd";
			bus = qc_xasprintf(",bus=ide.%u", sata++);
			break;
		case QC_BUS_VIRTIO:
		default:
			model = "virtio-blk-pci";
			bus = qc_xstrdup("");
			break;
		}
		qc_strv_push(a, "-device");
		qc_strv_pushf(a, "%s%s,drive=%s,id=%s%s", model, bus, fmt, dev,
			(ssize_t) i == boot ? ",bootindex=1" : "");
	}
}

static int add_nics(struct qc_strv *a, const struct qc_domain *d, const struct qc_argv_ctx *ctx,
	struct qc_error *err)
{
	for (size_t i = 0; i < d->n_nics; i++) {
		const struct qc_nic *n = &d->nics[i];
		char netdev[80], dev[80];
		struct qc_buf b = {0};

		qc_argv_nic_ids(d, i, netdev, dev);
		if (n->type == QC_NIC_USER) {
			qc_buf_printf(&b, "user,id=%s", netdev);
			for (size_t f = 0; f < n->n_fwds; f++) {
				const struct qc_hostfwd *w = &n->fwds[f];
				unsigned port = w->host_port;

				if (!port && ctx->fwd_ports && ctx->fwd_ports[i])
					port = ctx->fwd_ports[i][f];
				if (!port) {
					qc_buf_free(&b);
					return qc_error_set(err, QC_ERR_INTERNAL,
						"VM '%s': NIC '%s': no host port was chosen for "
						"forward to guest port %u",
						d->name, n->name, w->guest_port);
				}
				qc_buf_printf(&b, ",hostfwd=%s:%s:%u-:%u", w->proto,
					w->host_addr[0] ? w->host_addr : "127.0.0.1", port,
					w->guest_port);
			}
		} else {
			int fd = i < ctx->n_tap_fds && ctx->tap_fds ? ctx->tap_fds[i] : -1;

			if (fd < 0)
				return qc_error_set(err, QC_ERR_INTERNAL,
					"VM '%s': NIC '%s': no tap device was opened for it",
					d->name, n->name);
			/* vhost needs /dev/vhost-net, which an unprivileged QEMU cannot open */
			qc_buf_printf(&b, "tap,id=%s,fd=%d,vhost=off", netdev, fd);
		}
		qc_strv_push(a, "-netdev");
		qc_strv_push_take(a, qc_buf_steal(&b));
		qc_strv_push(a, "-device");
		qc_strv_pushf(a, "%s,netdev=%s,mac=%s,id=%s",
			n->model ? n->model : "virtio-net-pci", netdev, n->mac, dev);
	}
	return 0;
}

/*
 * Free PCIe root ports for hot-plug (qemuctl attach-disk/attach-net): q35's
 * pcie.0 and virt's PCIe root bus take no hot-plugged device themselves;
 * pseries' PHB and i440fx's pci.0 do.  Hot-plugged devices go on the first
 * free port (driver/hotplug.c); after a restart they are cold-plugged on
 * the root bus like the others, so every port is free again.
 */
static void add_hotplug_ports(struct qc_strv *a, const struct qc_domain *d)
{
	const char *m = d->machine ? d->machine : qc_arch_info(d->arch)->machine;

	if (!qc_str_has_prefix(m, "q35") && !qc_str_has_prefix(m, "pc-q35") &&
		!qc_str_has_prefix(m, "virt"))
		return;
	for (unsigned i = 0; i < QC_ARGV_HOTPLUG_PORTS; i++) {
		qc_strv_push(a, "-device");
		qc_strv_pushf(a, "pcie-root-port,id=qc-hp%u,chassis=%u", i, 200 + i);
	}
}

static int add_shares(struct qc_strv *a, const struct qc_domain *d, struct qc_error *err)
{
	for (size_t i = 0; i < d->n_shares; i++) {
		const struct qc_share *s = &d->shares[i];
		cleanup_free char *path = NULL;

		if (!s->path)
			return qc_error_set(err, QC_ERR_INTERNAL,
				"VM '%s': share '%s' has no host directory yet", d->name, s->tag);
		path = qc_argv_escape(s->path);
		qc_strv_push(a, "-fsdev");
		qc_strv_pushf(a, "local,id=fsdev-%s,path=%s,security_model=%s%s", s->tag, path,
			s->security_model ? s->security_model : "mapped-xattr",
			s->readonly ? ",readonly=on" : "");
		qc_strv_push(a, "-device");
		qc_strv_pushf(a, "virtio-9p-pci,fsdev=fsdev-%s,mount_tag=%s,id=fs-%s", s->tag,
			s->tag, s->tag);
	}
	return 0;
}

/* opt and its file: the fd opened for QEMU when there is one (> 2), else path. */
static void push_boot_file(struct qc_strv *a, const char *opt, int fd, const char *path)
{
	qc_strv_push(a, opt);
	if (fd > 2)
		qc_strv_pushf(a, "/dev/fd/%d", fd);
	else
		qc_strv_push(a, path);
}

static void add_chardev_socket(struct qc_strv *a, const char *id, const char *path, int fd)
{
	cleanup_free char *p = NULL;

	qc_strv_push(a, "-chardev");
	if (fd > 2) {
		qc_strv_pushf(a, "socket,id=%s,fd=%d,server=on,wait=off", id, fd);
		return;
	}
	p = qc_argv_escape(path);
	qc_strv_pushf(a, "socket,id=%s,path=%s,server=on,wait=off", id, p);
}

int qc_build_argv(
	const struct qc_domain *d, const struct qc_argv_ctx *ctx, char ***ret, struct qc_error *err)
{
	cleanup_strvec struct qc_strv a = {0};
	const struct qc_arch_info *ai;
	int r;

	r = qc_domain_validate(d, err);
	if (r < 0)
		return r;
	ai = qc_arch_info(d->arch);
	if (ctx->accel != QC_ACCEL_KVM && ctx->accel != QC_ACCEL_TCG)
		return qc_error_set(err, QC_ERR_INTERNAL,
			"VM '%s': argv needs a resolved accelerator (kvm or tcg), not '%s'",
			d->name, qc_accel_name(ctx->accel));
	if (!ctx->qmp_path && ctx->qmp_fd <= 2)
		return qc_error_set(
			err, QC_ERR_INTERNAL, "VM '%s': argv needs a QMP socket path", d->name);
	for (size_t i = 0; ctx->disks && i < d->n_disks; i++)
		if (ctx->disks[i].n_layers == 0)
			return qc_error_set(err, QC_ERR_INTERNAL,
				"VM '%s': disk '%s' has no file descriptor for QEMU", d->name,
				d->disks[i].name);
	if (d->serial_console && !ctx->serial_path && ctx->serial_fd <= 2)
		return qc_error_set(
			err, QC_ERR_INTERNAL, "VM '%s': argv needs a serial socket path", d->name);

	qc_strv_push(&a, ctx->qemu_binary ? ctx->qemu_binary : ai->qemu_binary);
	qc_strv_push(&a, "-name");
	qc_strv_pushf(&a, "guest=%s,debug-threads=on", d->name);
	qc_strv_push(&a, "-uuid");
	qc_strv_push(&a, d->uuid_str);
	qc_strv_push(&a, "-machine");
	qc_strv_push_take(&a, machine_opt(d, ctx->accel));
	qc_strv_push(&a, "-accel");
	qc_strv_push(&a, ctx->accel == QC_ACCEL_KVM ? "kvm" : "tcg,thread=multi");
	qc_strv_push(&a, "-cpu");
	qc_strv_push_take(&a, qc_argv_cpu(d, ctx->accel));
	qc_strv_push(&a, "-smp");
	qc_strv_pushf(&a, "%u", d->cpus);
	qc_strv_push(&a, "-m");
	qc_strv_pushf(&a, "%llu", (unsigned long long) ((d->memory + MiB - 1) / MiB));
	qc_strv_push(&a, "-nodefaults");
	qc_strv_push(&a, "-no-user-config");
	qc_strv_push(&a, "-display");
	qc_strv_push(&a, "none");
	qc_strv_push(&a, "-S");
	if (ctx->incoming_defer) {
		qc_strv_push(&a, "-incoming");
		qc_strv_push(&a, "defer");
	}
	if (ctx->sandbox) {
		qc_strv_push(&a, "-sandbox");
		qc_strv_push(&a, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
				 "resourcecontrol=deny");
	}
	if (ctx->pidfile) {
		qc_strv_push(&a, "-pidfile");
		qc_strv_push(&a, ctx->pidfile);
	}
	add_chardev_socket(&a, "qmp0", ctx->qmp_path, ctx->qmp_fd);
	qc_strv_push(&a, "-mon");
	qc_strv_push(&a, "chardev=qmp0,mode=control");
	if (ctx->qmp_event_path || ctx->qmp_event_fd > 2) {
		add_chardev_socket(&a, "qmp1", ctx->qmp_event_path, ctx->qmp_event_fd);
		qc_strv_push(&a, "-mon");
		qc_strv_push(&a, "chardev=qmp1,mode=control");
	}
	if (d->serial_console) {
		add_chardev_socket(&a, "serial0", ctx->serial_path, ctx->serial_fd);
		qc_strv_push(&a, "-serial");
		qc_strv_push(&a, "chardev:serial0");
	}
	for (size_t i = 0; i < ctx->n_fds; i++) {
		const struct qc_argv_fd *f = &ctx->fds[i];
		cleanup_free char *note = f->opaque ? qc_argv_escape(f->opaque) : NULL;

		qc_strv_push(&a, "-add-fd");
		qc_strv_pushf(&a, "fd=%d,set=%d%s%s", f->fd, f->set, note ? ",opaque=" : "",
			note ? note : "");
	}
	add_firmware(&a, d, ctx);
	if (d->kernel) {
		push_boot_file(&a, "-kernel", ctx->kernel_fd, d->kernel);
		if (d->initrd)
			push_boot_file(&a, "-initrd", ctx->initrd_fd, d->initrd);
		if (d->cmdline) {
			qc_strv_push(&a, "-append");
			qc_strv_push(&a, d->cmdline);
		}
	}
	add_disks(&a, d, ctx);
	r = add_nics(&a, d, ctx, err);
	if (r < 0)
		return r;
	r = add_shares(&a, d, err);
	if (r < 0)
		return r;
	if (d->video[0]) {
		/* a display for screendump; -display none keeps it off the host's screen */
		qc_strv_push(&a, "-device");
		qc_strv_push(&a, strcmp(d->video, "virtio") ? "VGA" : "virtio-gpu-pci");
	}
	if (strcmp(d->vnc, QC_VNC_SOCKET) == 0) {
		/* a VNC server without a listener: the monitor hands it each client (add_client) */
		qc_strv_push(&a, "-vnc");
		qc_strv_push(&a, "none");
	} else if (d->vnc[0]) {
		/* the first free display from :0 (port 5900) up; no client before set_password */
		qc_strv_push(&a, "-vnc");
		qc_strv_pushf(&a,
			strchr(d->vnc, ':') ? "[%s]:0,to=99,password=on" : "%s:0,to=99,password=on",
			d->vnc);
	}
	add_hotplug_ports(&a, d);
	/* last: the slots QEMU gave every other device stay where they were */
	if (ctx->qga_path || ctx->qga_fd > 2) {
		add_chardev_socket(&a, "qga0", ctx->qga_path, ctx->qga_fd);
		qc_strv_push(&a, "-device");
		qc_strv_push(&a, "virtio-serial-pci,id=qc-vser0");
		qc_strv_push(&a, "-device");
		qc_strv_push(&a, "virtserialport,bus=qc-vser0.0,chardev=qga0,"
				 "name=" QC_ARGV_QGA_PORT);
	}
	/* no PCI slot (ISA, sysbus or VIO): the other devices keep their addresses */
	if ((r = add_tpm(&a, d, ctx, err)) < 0)
		return r;
	*ret = qc_strv_steal(&a);
	return 0;
}
