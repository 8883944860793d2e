/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Defining VMs: create (overlay on a backing image, kernel boot), define
 * from XML, dumpxml, undefine, delete.  A new VM is assembled in a hidden
 * temp directory under vms/ and renamed into place (RENAME_NOREPLACE), so a
 * failed or concurrent create leaves nothing behind.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/firmware.h"
#include "driver/image.h"
#include "driver/network.h"
#include "driver/seed.h"
#include "driver/seed_bus.h"
#include "driver/stop.h"
#include "driver/vmop.h"
#include "net/net.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

#define QC_MAX_DATA_DISKS 24

/* The lock files exist from the start, so a refused operation changes nothing on disk. */
int qc_driver_vm_lock_files(int dfd, struct qc_error *err)
{
	static const char *const names[] = {QC_VM_LOCK, QC_VM_MONITOR_LOCK};
	size_t i;

	for (i = 0; i < QC_ARRAY_SIZE(names); i++) {
		int fd = openat(dfd, names[i], O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd < 0)
			return qc_error_errno(err, errno, "create %s", names[i]);
		close(fd);
	}
	return 0;
}

/*
 * ".create-", ".define-", ".delete-", ".migrate-NAME.PID": the work directories
 * of a create, define, delete or incoming migration whose process died
 * (SIGKILL, power loss).  Never visible as VMs; removed by the next create.
 */
void qc_driver_sweep_dead_builds(int vms_dfd)
{
	static const char *const kinds[] = {".create-", ".define-", ".delete-", ".migrate-"};
	struct qc_error scratch = {0};
	struct dirent **ents = NULL;
	int n = scandirat(vms_dfd, ".", &ents, NULL, NULL);

	for (int i = 0; i < n; i++) {
		const char *e = ents[i]->d_name, *dot = strrchr(e, '.');
		long pid = dot && dot != e ? strtol(dot + 1, NULL, 10) : 0;
		bool ours = false;

		for (size_t k = 0; k < QC_ARRAY_SIZE(kinds); k++)
			ours |= qc_str_has_prefix(e, kinds[k]);
		if (ours && pid > 0 && dot[1 + strspn(dot + 1, "0123456789")] == 0 &&
			kill((pid_t) pid, 0) < 0 && errno == ESRCH)
			(void) qc_rm_rf_at(vms_dfd, e, &scratch);
		free(ents[i]);
	}
	free(ents);
}

static int vm_exists(qc_ctx *ctx, const char *name)
{
	cleanup_free char *dir = qc_driver_vm_dir(ctx, name);
	struct stat st;

	return lstat(dir, &st) == 0;
}

/* --share HOSTDIR:TAG[:ro] */
static int parse_share(const char *spec, struct qc_share *sh, struct qc_error *err)
{
	cleanup_free char *s = qc_xstrdup(spec), *abs = NULL;
	struct stat st;
	char *colon;
	int rc;

	if (qc_str_has_suffix(s, ":ro")) {
		sh->readonly = true;
		s[strlen(s) - 3] = 0;
	}
	colon = strrchr(s, ':');
	if (!colon || colon == s || !colon[1])
		return qc_error_set(
			err, QC_ERR_INVALID, "--share '%s': use HOSTDIR:TAG[:ro]", spec);
	*colon = 0;
	if (strlen(colon + 1) > 31 ||
		strspn(colon + 1, "abcdefghijklmnopqrstuvwxyz"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != strlen(colon + 1))
		return qc_error_set(err, QC_ERR_INVALID,
			"--share '%s': tag '%s' must be 1-31 letters, digits, '_', '-' or '.'",
			spec, colon + 1);
	if ((rc = qc_abspath(s, &abs, err)) < 0)
		return qc_error_prefix(err, "--share '%s'", spec);
	if (stat(abs, &st) < 0)
		return qc_error_errno(err, errno, "--share '%s': directory '%s'", spec, s);
	if (!S_ISDIR(st.st_mode))
		return qc_error_set(
			err, QC_ERR_INVALID, "--share '%s': '%s' is not a directory", spec, s);
	sh->path = TAKE_PTR(abs);
	sh->tag = qc_xstrdup(colon + 1);
	return 0;
}

/* Fill d from the options; no side effects on disk.  sizes[i]: size of d->disks[i] to create (0: none). */
static int build_domain(qc_ctx *ctx, const struct qc_vm_create_opts *o, const char *final_dir,
	struct qc_domain *d, uint64_t *sizes, struct qc_driver_captured *cap, struct qc_error *err)
{
	bool no_net = false;
	size_t i;
	int rc;

	d->name = qc_xstrdup(o->name);
	qc_domain_gen_uuid(d);
	if (o->arch) {
		d->arch = qc_arch_from_name(o->arch);
		if (d->arch == QC_ARCH_INVALID)
			return qc_error_set(err, QC_ERR_INVALID,
				"--arch '%s': unknown architecture; use x86_64, aarch64 or ppc64le",
				o->arch);
	}
	if (o->accel && (rc = qc_accel_from_name(o->accel, &d->accel)) < 0)
		return qc_error_set(
			err, QC_ERR_INVALID, "--accel '%s': use auto, kvm or tcg", o->accel);
	if (o->cpus)
		d->cpus = o->cpus;
	if (o->memory) {
		if (o->memory < 16 * MiB)
			return qc_error_set(err, QC_ERR_INVALID,
				"--memory %llu bytes: too small, at least 16M",
				(unsigned long long) o->memory);
		d->memory = o->memory;
	} else if (o->image) {
		d->memory = QC_IMAGE_VM_MEMORY; /* a cloud image: see driver/image.h */
	}
	if (o->initrd && !o->kernel)
		return qc_error_set(err, QC_ERR_INVALID, "--initrd needs --kernel");
	if (o->append && !o->kernel)
		return qc_error_set(err, QC_ERR_INVALID, "--append needs --kernel");
	if (o->kernel && ((rc = qc_driver_open_input(
				   "--kernel", o->kernel, &d->kernel, NULL, NULL, err)) < 0 ||
				 (rc = qc_driver_check_root_file("--kernel", d->kernel, err)) < 0))
		return rc;
	if (o->initrd && ((rc = qc_driver_open_input(
				   "--initrd", o->initrd, &d->initrd, NULL, NULL, err)) < 0 ||
				 (rc = qc_driver_check_root_file("--initrd", d->initrd, err)) < 0))
		return rc;
	if (o->append)
		d->cmdline = qc_xstrdup(o->append);
	if (o->image && o->disk_image)
		return qc_error_set(
			err, QC_ERR_INVALID, "--image and --disk-image exclude each other");
	if (!o->kernel && !o->image && !o->disk_image)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': nothing to boot; give --image NAME, --disk-image FILE or "
			"--kernel FILE",
			o->name);
	if (o->image || o->disk_image) {
		struct qc_disk *dk;
		cleanup_free char *backing = NULL, *fmt = NULL;

		if (o->image)
			rc = qc_driver_image_resolve(ctx, o->image, d->arch, &backing, &fmt, err);
		else if ((rc = qc_driver_image_file(o->disk_image, &backing, &fmt, err)) == 0)
			rc = qc_driver_image_chain_check(
				ctx->root, "--disk-image", backing, fmt, err);
		if (rc < 0)
			return rc;
		dk = qc_domain_add_disk(d);
		dk->name = qc_xstrdup("disk0");
		dk->role = QC_ROLE_ROOT;
		dk->device = QC_DEVICE_DISK;
		dk->bus = QC_BUS_VIRTIO;
		dk->path = qc_xasprintf("%s/disk0.qcow2", final_dir);
		dk->format = qc_xstrdup("qcow2");
		dk->backing = TAKE_PTR(backing);
		dk->backing_format = TAKE_PTR(fmt);
		dk->backing_image = o->image ? qc_xstrdup(o->image) : NULL;
		dk->target = qc_xstrdup("vda");
		dk->owned = true;
	} else if (o->disk_size) {
		return qc_error_set(
			err, QC_ERR_INVALID, "--disk-size needs --image or --disk-image");
	}
	for (i = 0; o->disks && o->disks[i]; i++) {
		struct qc_disk *dk = qc_domain_add_disk(d);

		if (i >= QC_MAX_DATA_DISKS)
			return qc_error_set(
				err, QC_ERR_INVALID, "--disk: at most %d disks", QC_MAX_DATA_DISKS);
		rc = qc_driver_disk_from_spec(
			ctx, o->disks[i], (unsigned) i + 1, final_dir, dk, &sizes[d->n_disks - 1], err);
		if (rc < 0)
			return rc;
	}
	for (i = 0; o->nets && o->nets[i]; i++) {
		struct qc_nic nic = {0};
		bool none = false;

		if ((rc = qc_network_parse_spec(o->nets[i], &nic, &none, err)) < 0) {
			qc_nic_clear(&nic);
			return rc;
		}
		if (none) {
			no_net = true;
			continue;
		}
		*qc_domain_add_nic(d) = nic;
	}
	if (no_net && d->n_nics)
		return qc_error_set(err, QC_ERR_INVALID, "--net none excludes other --net options");
	if (!no_net && d->n_nics == 0)
		qc_network_default_nic(qc_domain_add_nic(d));
	for (i = 0; i < d->n_nics; i++) {
		struct qc_nic *n = &d->nics[i];

		if (!n->name)
			n->name = qc_xasprintf("net%zu", i);
		if (!n->mac[0])
			qc_net_mac_gen(d->uuid, (unsigned) i, n->mac);
	}
	for (i = 0; o->shares && o->shares[i]; i++)
		if ((rc = parse_share(o->shares[i], qc_domain_add_share(d), err)) < 0)
			return rc;

	/* The guest user: made by the seed, and the one `qemuctl ssh` logs in as. */
	if (o->user && (rc = qc_domain_check_user(o->user, err)) < 0)
		return qc_error_prefix(err, "--user");
	d->seed.user = o->user ? qc_xstrdup(o->user) : qc_driver_seed_default_user();
	/* The NoCloud seed, unless --no-seed. */
	d->seed.enabled = !o->no_seed;
	if (o->no_seed && (o->hostname || o->user_data || o->network_config ||
				  (o->ssh_keys && o->ssh_keys[0])))
		return qc_error_set(err, QC_ERR_INVALID,
			"--no-seed excludes --hostname, --ssh-key, --user-data and "
			"--network-config");
	if (d->seed.enabled) {
		if (o->hostname && (rc = qc_validate_hostname(o->hostname, err)) < 0)
			return qc_error_prefix(err, "--hostname '%s'", o->hostname);
		d->seed.hostname = o->hostname ? qc_xstrdup(o->hostname) : NULL;
		if ((rc = qc_driver_seed_read_keys(o->ssh_keys, true, &d->seed.ssh_keys, err)) < 0)
			return rc;
		/* read once now; the VM keeps its own copy (written with the VM's files) */
		if ((rc = qc_driver_capture_seed_files(
			     o->user_data, o->network_config, cap, err)) < 0)
			return rc;
		if (cap->user_data)
			d->seed.user_data = qc_xasprintf("%s/%s", final_dir, QC_VM_USER_DATA);
		if (cap->network_config)
			d->seed.network_config =
				qc_xasprintf("%s/%s", final_dir, QC_VM_NETWORK_CONFIG);
		qc_driver_seed_disk(d, final_dir);
		if ((rc = qc_driver_seed_set_bus(d, o->seed_bus, err)) < 0)
			return rc;
	} else if (o->seed_bus) {
		return qc_error_set(err, QC_ERR_INVALID, "--seed-bus has no effect with --no-seed");
	}
	if ((rc = qc_domain_set_display(d, o->display, err)) < 0)
		return rc;
	/* --accel kvm on a host without usable KVM: refused now, not at the first start */
	if (d->accel == QC_ACCEL_KVM &&
		(rc = qc_accel_resolve(d->arch, d->accel, &(enum qc_accel){0}, NULL, 0, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", o->name);
	if ((rc = qc_machine_check_cpus(d->arch, d->machine, d->cpus, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", o->name);
	d->tpm = o->tpm;
	d->secure_boot = o->secure_boot;
	if (d->secure_boot && d->kernel)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': --secure-boot checks what UEFI firmware boots from a disk; "
			"--kernel bypasses the firmware: drop one of them",
			o->name);
	/* disk boot through UEFI: <loader> and the per-VM varstore <nvram> */
	if ((rc = qc_driver_firmware_plan(d, final_dir, err)) < 0)
		return rc;
	if ((rc = qc_domain_validate(d, err)) < 0)
		return rc;
	return 0;
}

/* Point the seed's copied files from directory from to directory to. */
static void seed_swap_dir(struct qc_domain *d, const char *from, const char *to)
{
	char **files[] = {&d->seed.user_data, &d->seed.network_config};
	size_t n = strlen(from);

	for (size_t i = 0; i < QC_ARRAY_SIZE(files); i++) {
		char *p = *files[i];

		if (!p || strncmp(p, from, n) != 0 || p[n] != '/')
			continue;
		*files[i] = qc_xasprintf("%s%s", to, p + n);
		free(p);
	}
}

int qc_driver_seed_build_staged(struct qc_domain *d, int tmp_dfd, const char *tmp_dir,
	const char *final_dir, const char *root, struct qc_error *err)
{
	int rc;

	seed_swap_dir(d, final_dir, tmp_dir);
	rc = qc_driver_seed_build(d, tmp_dfd, root, NULL, err);
	seed_swap_dir(d, tmp_dir, final_dir);
	return rc;
}

QC_PUBLIC int qc_vm_create(qc_ctx *ctx, const struct qc_vm_create_opts *o, struct qc_error *err)
{
	cleanup_domain struct qc_domain *d = qc_domain_new();
	cleanup_free char *final_dir = NULL, *tmp_name = NULL, *tmp_dir = NULL;
	cleanup_close int vms_dfd = -1, tmp_dfd = -1;
	struct qc_driver_captured cap __attribute__((cleanup(qc_driver_captured_clear))) = {0};
	struct qc_error scratch = {0};
	uint64_t sizes[QC_MAX_DATA_DISKS + 2] = {0};
	bool leased = false;
	size_t i;
	int rc;

	if (!o->name)
		return qc_error_set(err, QC_ERR_INVALID, "a VM name is required");
	if ((rc = qc_validate_name("VM", o->name, err)) < 0)
		return rc;
	final_dir = qc_driver_vm_dir(ctx, o->name);
	if ((rc = qc_refuse_symlink(AT_FDCWD, final_dir, final_dir, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", o->name);
	if (vm_exists(ctx, o->name))
		return qc_error_set(err, QC_ERR_EXISTS,
			"VM '%s' already exists; pick another name or 'qemuctl delete %s' first",
			o->name, o->name);
	if ((rc = build_domain(ctx, o, final_dir, d, sizes, &cap, err)) < 0)
		return rc;
	/* what every later load checks */
	if ((rc = qc_domain_check_owned(d, ctx->root, err)) < 0)
		return rc;
	qc_fault_step("create:validated");

	/* Only now touch the state root. */
	if ((rc = qc_driver_vms_open(ctx, true, &vms_dfd, err)) < 0)
		return rc;
	qc_driver_sweep_dead_builds(vms_dfd);
	tmp_name = qc_xasprintf(".create-%s.%d", o->name, (int) getpid());
	tmp_dir = qc_xasprintf("%s/vms/%s", ctx->root, tmp_name);
	if (mkdirat(vms_dfd, tmp_name, 0700) < 0)
		return qc_error_errno(err, errno, "mkdir '%s'", tmp_dir);
	tmp_dfd = openat(vms_dfd, tmp_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tmp_dfd < 0) {
		rc = qc_error_errno(err, errno, "open '%s'", tmp_dir);
		goto fail;
	}
	qc_fault_step("create:dir");
	if ((rc = qc_driver_captured_write(&cap, tmp_dfd, err)) < 0) {
		qc_error_prefix(err, "VM '%s'", o->name);
		goto fail;
	}
	for (i = 0; i < d->n_disks; i++) {
		struct qc_disk *dk = &d->disks[i];
		cleanup_free char *tmp_path = NULL;

		if (!dk->owned || dk->role == QC_ROLE_SEED)
			continue;
		tmp_path = qc_xasprintf("%s/%s", tmp_dir, strrchr(dk->path, '/') + 1);
		if (dk->role == QC_ROLE_ROOT && dk->backing)
			rc = qc_driver_image_overlay(
				tmp_path, dk->backing, dk->backing_format, o->disk_size, err);
		else if (i < QC_ARRAY_SIZE(sizes) && sizes[i])
			rc = qc_driver_disk_create(tmp_path, sizes[i], err);
		else
			continue;
		if (rc < 0) {
			qc_error_prefix(err, "VM '%s': disk '%s'", o->name, dk->name);
			goto fail;
		}
		qc_fault_stepf("create:disk %s", dk->name);
	}
	if ((rc = qc_driver_firmware_copy(d, tmp_dfd, err)) < 0)
		goto fail;
	if ((rc = qc_network_domain_create(ctx, d, err)) < 0) {
		qc_error_prefix(err, "VM '%s'", o->name);
		goto fail;
	}
	leased = true;
	qc_fault_step("create:leased");
	rc = qc_driver_seed_build_staged(d, tmp_dfd, tmp_dir, final_dir, ctx->root, err);
	if (rc < 0) {
		qc_error_prefix(err, "VM '%s': seed", o->name);
		goto fail;
	}
	qc_fault_step("create:seed");
	if ((rc = qc_driver_vm_lock_files(tmp_dfd, err)) < 0 ||
		(rc = qc_domain_save(d, tmp_dfd, QC_VM_DOMAIN, err)) < 0) {
		qc_error_prefix(err, "VM '%s'", o->name);
		goto fail;
	}
	qc_fault_step("create:domain-xml");
	qc_driver_summary_save(tmp_dfd, d);
	qc_fault_step("create:summary");
	if (renameat2(vms_dfd, tmp_name, vms_dfd, o->name, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			rc = qc_error_set(err, QC_ERR_EXISTS, "VM '%s' already exists", o->name);
		else
			rc = qc_error_errno(err, errno, "rename '%s' to '%s'", tmp_dir, final_dir);
		goto fail;
	}
	qc_fault_step("create:renamed");
	(void) qc_fsync_dir(vms_dfd, NULL);
	return 0;
fail:
	if (leased)
		(void) qc_network_domain_release(ctx, d, &scratch);
	(void) qc_rm_rf_at(vms_dfd, tmp_name, &scratch);
	return rc;
}

/* Redefine VM d->name: only while stopped, under its lock.  1: it was deleted meanwhile. */
static int redefine(
	qc_ctx *ctx, const struct qc_domain *d, const char *xml_path, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	int rc;

	rc = qc_vmop_begin(ctx, d->name, 0, &op, err);
	if (rc == -QC_ERR_NOTFOUND) {
		qc_error_clear(err);
		return 1;
	}
	if (rc < 0 || (rc = qc_vmop_need_stopped(&op, "stop it before redefining it", err)) < 0 ||
		(rc = qc_driver_check_same_vm(ctx, d, xml_path, err)) < 0)
		return rc;
	if ((rc = qc_domain_save(d, op.dfd, QC_VM_DOMAIN, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", d->name);
	qc_driver_summary_save(op.dfd, d);
	return 0;
}

/* define's checks beyond the records (driver.h); errors begin with label. */
int qc_driver_define_check(qc_ctx *ctx, const struct qc_domain *d, const char *label,
	struct qc_error *err)
{
	int rc;

	if ((rc = qc_domain_validate(d, err)) < 0)
		return qc_error_prefix(err, "%s", label);
	if ((rc = qc_validate_name("VM", d->name, err)) < 0 ||
		(rc = qc_machine_check_cpus(d->arch, d->machine, d->cpus, err)) < 0)
		return qc_error_prefix(err, "%s", label);
	if ((d->kernel && (rc = qc_driver_check_root_file("<kernel>", d->kernel, err)) < 0) ||
		(d->initrd && (rc = qc_driver_check_root_file("<initrd>", d->initrd, err)) < 0) ||
		(d->kernel && (rc = qc_driver_check_public_file("<kernel>", d->kernel, err)) < 0) ||
		(d->initrd && (rc = qc_driver_check_public_file("<initrd>", d->initrd, err)) < 0) ||
		(d->loader && (rc = qc_driver_check_public_file("<loader>", d->loader, err)) < 0))
		return qc_error_prefix(err, "%s", label);
	/* a user disk's own header may name more files for QEMU to open */
	for (size_t i = 0; i < d->n_disks; i++) {
		const struct qc_disk *k = &d->disks[i];

		if (k->owned || access(k->path, F_OK) != 0)
			continue;
		if ((rc = qc_driver_image_chain_check(ctx->root, "disk", k->path,
			     k->format ? k->format : "raw", err)) < 0)
			return qc_error_prefix(err, "%s: VM '%s': disk '%s'", label, d->name,
				k->name);
	}
	if ((rc = qc_driver_check_qemu_files(ctx, d, err)) < 0)
		return qc_error_prefix(err, "%s", label);
	return 0;
}

QC_PUBLIC int qc_vm_define(qc_ctx *ctx, const char *xml_path, qc_vm_warn_fn warn, void *opaque,
	char **ret_name, struct qc_error *err)
{
	cleanup_domain struct qc_domain *d = NULL;
	cleanup_close int vms_dfd = -1, dfd = -1;
	cleanup_free char *tmp_name = NULL;
	struct qc_error scratch = {0};
	int rc;

	{
		cleanup_free char *buf = NULL;
		size_t len;

		if ((rc = qc_read_file(AT_FDCWD, xml_path, QC_XML_MAX_BYTES, &buf, &len, err)) < 0)
			return rc;
		/* records naming files are held to the VM's directory in this root */
		if ((rc = qc_domain_from_xml_at(
			     buf, len, xml_path, ctx->root, warn, opaque, &d, err)) < 0)
			return rc;
	}
	if ((rc = qc_driver_define_check(ctx, d, xml_path, err)) < 0)
		return rc;
	/* a VM deleted while its redefinition waited for the lock is defined anew */
	rc = vm_exists(ctx, d->name) ? redefine(ctx, d, xml_path, err) : 1;
	if (rc < 0)
		return rc;
	if (rc == 1) {
		if ((rc = qc_driver_vms_open(ctx, true, &vms_dfd, err)) < 0)
			return rc;
		/* A define killed before its rename left a .define-NAME.PID: gone now. */
		qc_driver_sweep_dead_builds(vms_dfd);
		tmp_name = qc_xasprintf(".define-%s.%d", d->name, (int) getpid());
		if (mkdirat(vms_dfd, tmp_name, 0700) < 0)
			return qc_error_errno(err, errno, "mkdir vms/%s", tmp_name);
		qc_fault_step("define:dir");
		dfd = openat(vms_dfd, tmp_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			rc = qc_error_errno(err, errno, "open vms/%s", tmp_name);
		else if ((rc = qc_driver_vm_lock_files(dfd, err)) == 0)
			rc = qc_domain_save(d, dfd, QC_VM_DOMAIN, err);
		if (rc == 0)
			qc_driver_summary_save(dfd, d);
		if (rc == 0 && renameat2(vms_dfd, tmp_name, vms_dfd, d->name, RENAME_NOREPLACE) < 0)
			rc = errno == EEXIST || errno == ENOTEMPTY
				     ? qc_error_set(err, QC_ERR_EXISTS, "VM '%s' already exists",
					       d->name)
				     : qc_error_errno(err, errno, "rename vms/%s", tmp_name);
		if (rc < 0) {
			(void) qc_rm_rf_at(vms_dfd, tmp_name, &scratch);
			return rc;
		}
	}
	if (ret_name)
		*ret_name = qc_xstrdup(d->name);
	return 0;
}

QC_PUBLIC int qc_vm_dumpxml(qc_ctx *ctx, const char *name, char **ret_xml, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	int rc;

	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_NO_LOCK | QC_VMOP_NO_STATE, &op, err)) < 0)
		return rc;
	if ((rc = qc_read_file(op.dfd, QC_VM_DOMAIN, QC_XML_MAX_BYTES, ret_xml, NULL, err)) < 0)
		return qc_driver_vm_gone(op.dfd) ? qc_driver_vm_gone_error(name, err)
						 : qc_error_prefix(err, "VM '%s'", name);
	return 0;
}

/*
 * A file system mounted in a VM's directory is not the VM's to remove: the
 * removal would stop at it half done (and a bind mount of a directory of the
 * same file system would be emptied).  Refused before anything changes: the
 * VM stays whole, running or not, with its leases.
 */
static int refuse_mounts(int dfd, const char *name, struct qc_error *err)
{
	cleanup_free char *mnt = NULL;
	int rc = qc_dir_find_mount(dfd, &mnt, err);

	if (rc < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	if (rc == 0)
		return 0;
	return qc_error_set(err, QC_ERR_STATE,
		"VM '%s': '%s' is a mount point in the VM's directory; nothing was removed: "
		"unmount it (umount '%s'), then run the command again",
		name, mnt, mnt);
}

/* Begin an operation on a VM that must not run (delete --force stops it first). */
static int begin_stopped(qc_ctx *ctx, const char *name, bool force, const char *how,
	struct qc_vmop *op, struct qc_error *err)
{
	cleanup_close int vms_dfd = -1;
	int rc;

	/*
	 * A delete or undefine killed after its rename left a tomb: its retry
	 * (which finds no VM of that name) removes it.
	 */
	if (qc_driver_vms_open(ctx, false, &vms_dfd, NULL) == 0 && vms_dfd >= 0)
		qc_driver_sweep_dead_builds(vms_dfd);
	if ((rc = qc_vmop_begin(ctx, name, 0, op, err)) < 0 ||
		(rc = refuse_mounts(op->dfd, name, err)) < 0)
		return rc;
	if (!force && (rc = qc_vmop_need_stopped(op, how, err)) < 0)
		return rc;
	return op->live.monitor_alive ? qc_vmop_kill(op, err) : 0;
}

/*
 * A definition that does not load (malformed, or naming files that are not
 * the VM's own) is not acted on: nothing is removed, the user decides.
 */
static int refuse_definition(const char *name, const struct qc_error *why, struct qc_error *err)
{
	return qc_error_set(err, why->code,
		"VM '%s': %s; nothing was removed: fix the definition ('qemuctl define "
		"FIXED.xml') or remove the VM's directory by hand",
		name, why->msg);
}

/* Move vms/<name> aside and remove it; never follows symlinks out of it. */
int qc_driver_remove_vm_dir(qc_ctx *ctx, const char *name, struct qc_error *err)
{
	cleanup_close int vms_dfd = -1;
	cleanup_free char *tomb = qc_xasprintf(".delete-%s.%d", name, (int) getpid());
	cleanup_free char *rdir = qc_driver_run_dir(ctx, name);
	int rc;

	if ((rc = qc_driver_vms_open(ctx, false, &vms_dfd, err)) < 0)
		return rc;
	qc_driver_sweep_dead_builds(vms_dfd);
	if (renameat(vms_dfd, name, vms_dfd, tomb) < 0)
		return qc_error_errno(err, errno, "VM '%s': rename for removal", name);
	qc_fault_step("delete:renamed");
	/*
	 * domain.xml before anything else: an operation that opened the VM
	 * before the rename and waits for its lock re-creates a missing lock
	 * file only while domain.xml exists (a VM from before lock files).  Were
	 * the lock file removed first, it could put one back into the directory
	 * being removed, and the removal would fail on a non-empty directory.
	 */
	{
		cleanup_free char *xml = qc_xasprintf("%s/%s", tomb, QC_VM_DOMAIN);

		if (unlinkat(vms_dfd, xml, 0) < 0 && errno != ENOENT)
			return qc_error_errno(err, errno, "VM '%s': remove %s", name, QC_VM_DOMAIN);
	}
	(void) rmdir(rdir);
	if ((rc = qc_rm_rf_at(vms_dfd, tomb, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	(void) qc_fsync_dir(vms_dfd, NULL);
	return 0;
}

QC_PUBLIC int qc_vm_undefine(qc_ctx *ctx, const char *name, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_domain struct qc_domain *d = NULL;
	cleanup_free char *xml = NULL;
	struct qc_error e2 = {0};
	size_t i;
	int rc;

	/* undefine takes no --force: the hint names only what it accepts */
	if ((rc = begin_stopped(ctx, name, false, "stop it first ('qemuctl stop' or 'qemuctl destroy')",
		     &op, err)) < 0)
		return rc;
	qc_fault_step("undefine:locked");
	xml = qc_xasprintf("%s/%s", op.vm_dir, QC_VM_DOMAIN);
	if ((rc = qc_domain_load(xml, NULL, NULL, &d, &e2)) < 0)
		return refuse_definition(name, &e2, err);
	for (i = 0; i < d->n_disks; i++)
		if (d->disks[i].owned && d->disks[i].role != QC_ROLE_SEED &&
			access(d->disks[i].path, F_OK) == 0)
			return qc_error_set(err, QC_ERR_STATE,
				"VM '%s' owns disk '%s' (%s); 'qemuctl delete %s' removes the VM "
				"with its disks",
				name, d->disks[i].name, d->disks[i].path, name);
	/* Its addresses in named networks go back, as with delete (net list named it). */
	if (qc_network_domain_release(ctx, d, &e2) < 0)
		qc_warn("VM '%s': %s", name, e2.msg);
	qc_fault_step("undefine:released");
	return qc_driver_remove_vm_dir(ctx, name, err);
}

QC_PUBLIC int qc_vm_delete(qc_ctx *ctx, const char *name, bool force, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	int rc;

	/*
	 * Owned disks (overlay, seed, nvram) live in the VM's directory; backing
	 * images and user files live elsewhere and are never touched.
	 */
	cleanup_domain struct qc_domain *d = NULL;
	cleanup_free char *xml = NULL;
	struct qc_error e2 = {0};

	if ((rc = begin_stopped(ctx, name, force, "stop it first or use --force", &op, err)) < 0)
		return rc;
	qc_fault_step("delete:locked");
	/* Addresses leased in named networks go back; a broken domain.xml does not block delete. */
	xml = qc_xasprintf("%s/%s", op.vm_dir, QC_VM_DOMAIN);
	if ((rc = qc_domain_load(xml, NULL, NULL, &d, &e2)) < 0 && rc != -ENOENT)
		return refuse_definition(name, &e2, err);
	if (d && qc_network_domain_release(ctx, d, &e2) < 0)
		qc_warn("VM '%s': %s", name, e2.msg);
	qc_fault_step("delete:released");
	return qc_driver_remove_vm_dir(ctx, name, err);
}
