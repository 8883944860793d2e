/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * UEFI firmware for disk boot (OVMF on x86_64, AAVMF on aarch64).  The code
 * file is shared and read-only; the variable store is written by the
 * firmware (boot order, boot entries), so every VM gets its own copy of the
 * arch's template, like libvirt's <nvram template=...>.  pseries boots disks
 * with the SLOF built into QEMU and needs neither.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/firmware.h"

/* Debian packages that ship each arch's firmware, for the error's fix. */
static const char *firmware_package(enum qc_arch arch)
{
	return arch == QC_ARCH_AARCH64 ? "qemu-efi-aarch64" : "ovmf";
}

static int check_readable(
	const struct qc_domain *d, const char *what, const char *path, struct qc_error *err)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		int e = errno;

		return qc_error_set(err, e,
			"%s firmware %s '%s': %s; install %s or point <%s> at an existing file",
			qc_arch_name(d->arch), what, path, strerror(e), firmware_package(d->arch),
			strcmp(what, "varstore") == 0 ? "nvram" : "loader");
	}
	if (!S_ISREG(st.st_mode))
		return qc_error_set(err, QC_ERR_INVALID,
			"%s firmware %s '%s' is not a regular file", qc_arch_name(d->arch), what,
			path);
	if (access(path, R_OK) < 0)
		return qc_error_errno(
			err, errno, "%s firmware %s '%s'", qc_arch_name(d->arch), what, path);
	return 0;
}

/* The varstore template of d's firmware: with Microsoft's keys enrolled for Secure Boot. */
static const char *vars_template(const struct qc_domain *d, const struct qc_arch_info *ai)
{
	return d->secure_boot ? ai->firmware_vars_secure : ai->firmware_vars;
}

/* Secure Boot has no fallback: its code and its enrolled varstore must be there. */
static int plan_secure(struct qc_domain *d, const struct qc_arch_info *ai, const char *vm_dir,
	struct qc_error *err)
{
	int rc;

	if ((rc = check_readable(d, "Secure Boot code", ai->firmware_code_secure, err)) < 0 ||
		(rc = check_readable(d, "varstore template", ai->firmware_vars_secure, err)) < 0)
		return qc_error_prefix(err, "VM '%s': --secure-boot", d->name);
	if (!d->loader)
		d->loader = qc_xstrdup(ai->firmware_code_secure);
	if (!d->nvram)
		d->nvram = qc_xasprintf("%s/%s", vm_dir, QC_VM_NVRAM);
	return 0;
}

int qc_driver_firmware_plan(struct qc_domain *d, const char *vm_dir, struct qc_error *err)
{
	const struct qc_arch_info *ai = qc_arch_info(d->arch);
	int rc;

	if (ai && d->secure_boot && !d->kernel && ai->firmware_code_secure)
		return plan_secure(d, ai, vm_dir, err);
	if (!ai || d->kernel || d->loader || d->nvram || !ai->firmware_code || !ai->firmware_vars)
		return 0;
	if (access(ai->firmware_code, R_OK) < 0 || access(ai->firmware_vars, R_OK) < 0) {
		if (!ai->firmware_required)
			return 0; /* x86_64: SeaBIOS boots the disk */
		if ((rc = check_readable(d, "code", ai->firmware_code, err)) < 0 ||
			(rc = check_readable(d, "varstore template", ai->firmware_vars, err)) < 0)
			return qc_error_prefix(err, "VM '%s': disk boot", d->name);
	}
	d->loader = qc_xstrdup(ai->firmware_code);
	d->nvram = qc_xasprintf("%s/%s", vm_dir, QC_VM_NVRAM);
	return 0;
}

int qc_driver_firmware_copy(const struct qc_domain *d, int dfd, struct qc_error *err)
{
	const struct qc_arch_info *ai = qc_arch_info(d->arch);
	int rc;

	if (!d->nvram || !ai || !vars_template(d, ai))
		return 0;
	if ((rc = qc_copy_file(vars_template(d, ai), dfd, QC_VM_NVRAM, 0600, err)) < 0)
		return qc_error_prefix(
			err, "VM '%s': UEFI varstore from %s's template", d->name, ai->name);
	return 0;
}

int qc_driver_firmware_prepare(
	const struct qc_domain *d, int vm_dfd, const char *vm_dir, struct qc_error *err)
{
	const struct qc_arch_info *ai = qc_arch_info(d->arch);
	/* the code argv maps: none for a kernel boot */
	const char *code = ai ? qc_argv_firmware_code(d) : NULL, *base;
	struct stat st;
	int rc;

	if (!code)
		return 0;
	if ((rc = check_readable(d, "code", code, err)) < 0)
		return rc;
	if (!d->nvram)
		return 0;
	base = qc_domain_home_base(vm_dir, d->nvram);
	if (!base) {
		/* someone else's varstore: used as it is, never made by qemuctl */
		if (access(d->nvram, F_OK) == 0 || errno != ENOENT)
			return check_readable(d, "varstore", d->nvram, err);
		return qc_error_set(err, QC_ERR_INVALID,
			"%s firmware varstore '%s' is missing; qemuctl makes one only in the VM's "
			"directory: point <nvram> at %s/%s or create the file",
			ai->name, d->nvram, vm_dir, QC_VM_NVRAM);
	}
	if (fstatat(vm_dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode))
			return qc_error_set(err, QC_ERR_INVALID,
				"%s firmware varstore '%s' is not a regular file", ai->name,
				d->nvram);
		return check_readable(d, "varstore", d->nvram, err);
	}
	if (errno != ENOENT)
		return qc_error_errno(err, errno, "%s firmware varstore '%s'", ai->name, d->nvram);
	if (!vars_template(d, ai))
		return qc_error_set(err, QC_ERR_INVALID,
			"%s firmware varstore '%s' is missing and %s has no template to copy",
			ai->name, d->nvram, ai->name);
	if ((rc = check_readable(d, "varstore template", vars_template(d, ai), err)) < 0)
		return rc;
	if ((rc = qc_copy_file(vars_template(d, ai), vm_dfd, base, 0600, err)) < 0)
		return qc_error_prefix(err, "%s firmware varstore '%s'", ai->name, d->nvram);
	return 0;
}
