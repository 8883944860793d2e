/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/firmware.c: which VMs get UEFI <loader>/<nvram> at create, the
 * varstore copy, and the start-time checks (missing loader, a directory as
 * loader, a missing varstore made again).  Uses the host's OVMF and AAVMF
 * (packages ovmf, qemu-efi-aarch64, installed for the tests).
 */
#include "config.h"

#include <sys/stat.h>

#include "driver/firmware.h"
#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"

static struct qc_domain *dom(enum qc_arch arch, const char *kernel)
{
	struct qc_domain *d = qc_domain_new();

	d->name = qc_xstrdup("fw1");
	d->arch = arch;
	d->kernel = kernel ? qc_xstrdup(kernel) : NULL;
	return d;
}

static bool same_file(const char *a, const char *b)
{
	cleanup_free char *x = NULL, *y = NULL;
	size_t nx = 0, ny = 0;
	struct qc_error e = {0};

	ck_assert_qc_ok(qc_read_file(AT_FDCWD, a, 128 << 20, &x, &nx, &e), &e);
	ck_assert_qc_ok(qc_read_file(AT_FDCWD, b, 128 << 20, &y, &ny, &e), &e);
	return nx == ny && memcmp(x, y, nx) == 0;
}

START_TEST(plan_who_gets_firmware)
{
	const struct qc_arch_info *x86 = qc_arch_info(QC_ARCH_X86_64);
	struct qc_error e = {0};
	struct qc_domain *d;

	ck_assert_msg(access(x86->firmware_code, R_OK) == 0, "%s missing: install ovmf",
		x86->firmware_code);
	d = dom(QC_ARCH_X86_64, NULL);
	ck_assert_qc_ok(qc_driver_firmware_plan(d, "/r/vms/fw1", &e), &e);
	ck_assert_str_eq(d->loader, x86->firmware_code);
	ck_assert_str_eq(d->nvram, "/r/vms/fw1/nvram.fd");
	qc_domain_free(d);

	d = dom(QC_ARCH_AARCH64, NULL);
	ck_assert_qc_ok(qc_driver_firmware_plan(d, "/r/vms/fw1", &e), &e);
	ck_assert_str_eq(d->loader, qc_arch_info(QC_ARCH_AARCH64)->firmware_code);
	ck_assert_str_eq(d->nvram, "/r/vms/fw1/nvram.fd");
	qc_domain_free(d);

	/* kernel boot: no firmware; pseries: SLOF built in */
	d = dom(QC_ARCH_X86_64, "/k");
	ck_assert_qc_ok(qc_driver_firmware_plan(d, "/r/vms/fw1", &e), &e);
	ck_assert_ptr_null(d->loader);
	ck_assert_ptr_null(d->nvram);
	qc_domain_free(d);
	d = dom(QC_ARCH_PPC64LE, NULL);
	ck_assert_qc_ok(qc_driver_firmware_plan(d, "/r/vms/fw1", &e), &e);
	ck_assert_ptr_null(d->loader);
	ck_assert_ptr_null(d->nvram);
	qc_domain_free(d);

	/* a loader the user chose is kept, and gets no nvram behind its back */
	d = dom(QC_ARCH_X86_64, NULL);
	d->loader = qc_xstrdup("/opt/fw/CODE.fd");
	ck_assert_qc_ok(qc_driver_firmware_plan(d, "/r/vms/fw1", &e), &e);
	ck_assert_str_eq(d->loader, "/opt/fw/CODE.fd");
	ck_assert_ptr_null(d->nvram);
	qc_domain_free(d);
}
END_TEST

START_TEST(copy_and_prepare)
{
	const struct qc_arch_info *x86 = qc_arch_info(QC_ARCH_X86_64);
	cleanup_free char *dir = unit_mkdtemp();
	cleanup_free char *nv = qc_xasprintf("%s/nvram.fd", dir);
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_domain struct qc_domain *d = dom(QC_ARCH_X86_64, NULL);
	/* _i == 1: --secure-boot, whose varstore has Microsoft's keys enrolled */
	const char *tmpl = _i ? x86->firmware_vars_secure : x86->firmware_vars;
	struct qc_error e = {0};
	struct stat st;

	ck_assert_int_ge(dfd, 0);
	d->secure_boot = _i == 1;
	ck_assert_qc_ok(qc_driver_firmware_plan(d, dir, &e), &e);
	ck_assert_str_eq(d->loader, _i ? x86->firmware_code_secure : x86->firmware_code);
	ck_assert(!same_file(x86->firmware_vars_secure, x86->firmware_vars));
	ck_assert_qc_ok(qc_driver_firmware_copy(d, dfd, &e), &e);
	ck_assert_int_eq(stat(nv, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert(same_file(nv, tmpl));

	/* start: a deleted varstore is copied again from the template */
	ck_assert_int_eq(unlink(nv), 0);
	ck_assert_qc_ok(qc_driver_firmware_prepare(d, dfd, dir, &e), &e);
	ck_assert(same_file(nv, tmpl));

	/* a written varstore is kept as it is */
	ck_assert_qc_ok(qc_write_atomic(dfd, "nvram.fd", "vars", 4, 0600, &e), &e);
	ck_assert_qc_ok(qc_driver_firmware_prepare(d, dfd, dir, &e), &e);
	ck_assert_int_eq(stat(nv, &st), 0);
	ck_assert_int_eq(st.st_size, 4);

	/* a missing varstore outside the VM's directory is never created */
	{
		cleanup_free char *out = qc_xasprintf("%s-nvram.fd", dir);
		cleanup_free char *in = TAKE_PTR(d->nvram);

		d->nvram = qc_xstrdup(out);
		ck_assert_qc_fail(qc_driver_firmware_prepare(d, dfd, dir, &e), &e, QC_ERR_INVALID,
			"x86_64 firmware varstore '");
		unit_assert_contains(e.msg, "qemuctl makes one only in the VM's directory");
		ck_assert_int_eq(access(out, F_OK), -1);
		/* one outside that exists is the user's, used as it is */
		ck_assert_qc_ok(qc_write_atomic(AT_FDCWD, out, "vars", 4, 0600, &e), &e);
		ck_assert_qc_ok(qc_driver_firmware_prepare(d, dfd, dir, &e), &e);
		ck_assert_int_eq(unlink(out), 0);
		free(d->nvram);
		d->nvram = TAKE_PTR(in);
	}
	/* a symlink in the VM's directory is not a varstore */
	{
		cleanup_free char *victim = qc_xasprintf("%s-victim", dir);

		ck_assert_int_eq(unlink(nv), 0);
		ck_assert_int_eq(symlink(victim, nv), 0);
		ck_assert_qc_fail(qc_driver_firmware_prepare(d, dfd, dir, &e), &e, QC_ERR_INVALID,
			"is not a regular file");
		ck_assert_int_eq(access(victim, F_OK), -1);
		ck_assert_int_eq(unlink(nv), 0);
	}

	/* the loader missing, or a directory */
	free(d->loader);
	d->loader = qc_xasprintf("%s/no/CODE.fd", dir);
	ck_assert_qc_fail(qc_driver_firmware_prepare(d, dfd, dir, &e), &e, ENOENT, "x86_64 firmware code '");
	unit_assert_contains(e.msg, "/no/CODE.fd': No such file or directory; install ovmf or "
				    "point <loader> at an existing file");
	free(d->loader);
	d->loader = qc_xstrdup(dir);
	ck_assert_qc_fail(
		qc_driver_firmware_prepare(d, dfd, dir, &e), &e, QC_ERR_INVALID, "is not a regular file");

	/* kernel boot: firmware is not looked at */
	d->kernel = qc_xstrdup("/k");
	ck_assert_qc_ok(qc_driver_firmware_prepare(d, dfd, dir, &e), &e);
	unit_rmdir(TAKE_PTR(dir));
}
END_TEST

START_TEST(aarch64_needs_firmware)
{
	cleanup_domain struct qc_domain *d = dom(QC_ARCH_AARCH64, NULL);
	struct qc_error e = {0};

	/* no <loader>, no nvram: aarch64 still maps AAVMF, so a missing file is caught */
	d->loader = qc_xstrdup("/nonexistent/AAVMF_CODE.fd");
	ck_assert_qc_fail(qc_driver_firmware_prepare(d, -1, "/r/vms/fw1", &e), &e, ENOENT,
		"aarch64 firmware code '/nonexistent/AAVMF_CODE.fd': No such file or directory; "
		"install qemu-efi-aarch64");
}
END_TEST

static Suite *firmware_suite(void)
{
	Suite *s = suite_create("firmware");
	TCase *tc;

	tc = unit_tcase(s, "firmware", plan_who_gets_firmware, aarch64_needs_firmware, NULL);
	/* 1: the same with --secure-boot */
	tcase_add_loop_test(tc, copy_and_prepare, 0, 2);
	tcase_set_timeout(tc, 30);
	return s;
}

UNIT_MAIN(firmware_suite)
