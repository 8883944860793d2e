/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pure parts of readiness, resize and the seed bus: ready-marker matching
 * (driver/ready_match.c), the markers of a domain and the ready fields of
 * state.json (driver/ready.c, state.c), the resize size decision
 * (driver/resize.c) and --seed-bus (driver/seed_bus.c).
 */
#include "config.h"

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/ready.h"
#include "driver/resize.h"
#include "driver/seed_bus.h"
#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"

#define M(line, marker) qc_ready_line_matches(line, strlen(line), marker)

START_TEST(match_substring_and_boundary)
{
	ck_assert(M("QEMUCTL-READY iid-abc-1", "QEMUCTL-READY iid-abc-1"));
	ck_assert(M("[  3.1] QEMUCTL-READY iid-abc-1 ", "QEMUCTL-READY iid-abc-1"));
	/* generation 12 is not generation 1 */
	ck_assert(!M("QEMUCTL-READY iid-abc-12", "QEMUCTL-READY iid-abc-1"));
	ck_assert(!M("QEMUCTL-READY iid-abc-1.5", "QEMUCTL-READY iid-abc-1"));
	/* a later occurrence that ends at a boundary still counts */
	ck_assert(M("QEMUCTL-READY iid-abc-12 QEMUCTL-READY iid-abc-1", "QEMUCTL-READY iid-abc-1"));
	ck_assert(!M("QEMUCTL-READY", "QEMUCTL-READY iid-abc-1"));
	ck_assert(!M("anything", ""));
	ck_assert(!M("anything", NULL));
	/* a marker ending in a non-word byte needs no boundary */
	ck_assert(M("login: ", "login:"));
	ck_assert(M("booted!x", "booted!"));
}
END_TEST

START_TEST(match_glob)
{
	const char *fin = QC_READY_CLOUDINIT_FINAL;

	ck_assert(M(
		"[  OK  ] Cloud-init v. 22.4.2 finished at Wed, 25 Nov 2026 09:00:00 +0000.", fin));
	ck_assert(!M("Cloud-init v. 22.4.2 running 'modules:final' at Wed", fin));
	ck_assert(!M("finished at Cloud-init v. ", fin));
	ck_assert(M("abcXYZdef", "abc*def"));
	ck_assert(M("abcdef", "abc*def"));
	ck_assert(!M("abcde", "abc*def"));
	ck_assert(M("a-b-c", "a*c"));
}
END_TEST

static enum qc_ready_event feed(struct qc_ready_scan *s, const char *text)
{
	return qc_ready_scan_feed(s, text, strlen(text));
}

START_TEST(scan_chunks)
{
	struct qc_ready_scan s = {.markers = {"QEMUCTL-READY iid-x-1"}, .n_markers = 1};

	ck_assert(!feed(&s, "GUEST-READY\r\nQEMUCTL-RE"));
	ck_assert(!feed(&s, "ADY iid-x-"));
	/* not yet: "1" could still become "12" */
	ck_assert(!feed(&s, "1"));
	ck_assert(feed(&s, "\r\n"));
	ck_assert(s.matched);
	/* once only */
	ck_assert(!feed(&s, "QEMUCTL-READY iid-x-1\n"));
}
END_TEST

START_TEST(scan_no_cross_line_match)
{
	struct qc_ready_scan s = {.markers = {"QEMUCTL-READY iid-x-1"}, .n_markers = 1};

	ck_assert(!feed(&s, "QEMUCTL-READY\niid-x-1\n"));
	ck_assert(!feed(&s, "QEMUCTL-READY iid-x-12\n"));
	ck_assert(!s.matched);
}
END_TEST

START_TEST(scan_long_line_bounded)
{
	struct qc_ready_scan s = {.markers = {"NEEDLE-9"}, .n_markers = 1};
	char *junk = qc_xmalloc(3 * QC_READY_LINE_MAX + 1);

	memset(junk, 'x', 3 * QC_READY_LINE_MAX);
	junk[3 * QC_READY_LINE_MAX] = 0;
	ck_assert(!feed(&s, junk));
	ck_assert_uint_le(s.len, QC_READY_LINE_MAX);
	/* a marker after an endless line still matches */
	ck_assert(!feed(&s, " NEEDLE-9"));
	ck_assert(feed(&s, "\n"));
	free(junk);
}
END_TEST

START_TEST(scan_no_markers)
{
	struct qc_ready_scan s = {0};

	ck_assert(!feed(&s, "QEMUCTL-READY iid-x-1\n"));
	ck_assert(!s.matched);
}
END_TEST

START_TEST(scan_boot_failures)
{
	struct qc_ready_scan s = {.markers = {"QEMUCTL-READY iid-x-1"}, .n_markers = 1};
	struct qc_ready_scan u = {.markers = {"QEMUCTL-READY iid-x-1"}, .n_markers = 1};
	struct qc_ready_scan both = {.markers = {"QEMUCTL-READY iid-x-1"}, .n_markers = 1};
	struct qc_ready_scan after = {.markers = {"QEMUCTL-READY iid-x-1"}, .n_markers = 1};

	/* SeaBIOS, in chunks, with its escape sequences and CRs */
	ck_assert_int_eq(feed(&s, "\033c\033[?7l\033[2J\033[0mSeaBIOS (version 1.16.2)\r\n"
				  "Booting from Hard Disk...\r\nBoot failed: not a bootable disk\r\n"
				  "No bootable"),
		QC_READY_NONE);
	ck_assert_int_eq(feed(&s, " device.\r\n"), QC_READY_FAILED);
	ck_assert_str_eq(s.failed->key, "no-bootable-device");
	ck_assert_ptr_eq(qc_ready_failure_find("no-bootable-device"), s.failed);
	/* once; the markers still count afterwards */
	ck_assert_int_eq(feed(&s, "No bootable device.\r\n"), QC_READY_NONE);
	ck_assert_int_eq(feed(&s, "QEMUCTL-READY iid-x-1\n"), QC_READY_SEEN);

	/* edk2 falling back to its shell */
	ck_assert_int_eq(feed(&u, "BdsDxe: failed to load Boot0001 \"UEFI Misc Device\": Not Found\r\n"
				  "\033[0m\033[35m\033[40mUEFI Interactive Shell v2.2\r\n"),
		QC_READY_FAILED);
	ck_assert_str_eq(u.failed->key, "uefi-shell");
	ck_assert_ptr_nonnull(strstr(u.failed->why, "UEFI shell"));

	/* edk2 whose shell did not start either */
	struct qc_ready_scan v = {.markers = {"QEMUCTL-READY iid-x-1"}, .n_markers = 1};

	ck_assert_int_eq(feed(&v, "BdsDxe: starting Boot0002 \"EFI Internal Shell\" frBdsDxe: "
				  "failed to start Boot0002 \"EFI Internal Shell\": Device Error\r\n"
				  "BdsDxe: No bootable option or device was found.\r\n"
				  "BdsDxe: Press any key to enter the Boot Manager Menu.\r\n"),
		QC_READY_FAILED);
	ck_assert_str_eq(v.failed->key, "uefi-no-boot-option");

	/* one chunk with both: ready wins */
	ck_assert_int_eq(feed(&both, "No bootable device.\nQEMUCTL-READY iid-x-1\n"), QC_READY_SEEN);
	/* after ready, failure lines are not looked at */
	ck_assert_int_eq(feed(&after, "QEMUCTL-READY iid-x-1\n"), QC_READY_SEEN);
	ck_assert_int_eq(feed(&after, "No bootable device.\n"), QC_READY_NONE);
	ck_assert_ptr_null(after.failed);

	/* only these lines, not look-alikes */
	struct qc_ready_scan n = {.markers = {"M"}, .n_markers = 1};

	ck_assert_int_eq(feed(&n, "No bootable devices found, trying the network\n"
				  "EFI Internal Shell\nUEFI Interactive Shell\n"),
		QC_READY_NONE);
	ck_assert_ptr_null(qc_ready_failure_find("uefi"));
	ck_assert_ptr_null(qc_ready_failure_find(""));
	ck_assert_ptr_null(qc_ready_failure_find(NULL));
}
END_TEST

START_TEST(domain_markers)
{
	cleanup_domain struct qc_domain *d = qc_domain_new();
	char **m;

	snprintf(d->uuid_str, sizeof(d->uuid_str), "7d9addc3-7428-47f0-90bb-02e1f4c2a508");
	d->seed.enabled = true;
	d->seed.generation = 3;
	m = qc_driver_ready_markers(d);
	ck_assert_str_eq(m[0], "QEMUCTL-READY iid-7d9addc3-7428-47f0-90bb-02e1f4c2a508-3");
	ck_assert_ptr_null(m[1]);
	qc_strv_free(m);

	d->seed.user_data = qc_xstrdup("/tmp/ud");
	d->ready_marker = qc_xstrdup("login:");
	m = qc_driver_ready_markers(d);
	ck_assert_str_eq(m[1], QC_READY_CLOUDINIT_FINAL);
	ck_assert_str_eq(m[2], "login:");
	ck_assert_ptr_null(m[3]);
	qc_strv_free(m);

	d->seed.enabled = false;
	free(d->ready_marker);
	d->ready_marker = NULL;
	m = qc_driver_ready_markers(d);
	ck_assert_ptr_null(m[0]);
	qc_strv_free(m);
}
END_TEST

START_TEST(state_ready_roundtrip)
{
	struct qc_state s = {.exit_status = -1}, t = {0};
	struct qc_error err = {0};
	cleanup_free char *text = NULL, *text2 = NULL;

	ck_assert_qc_ok(qc_state_to_json(&s, &text2, &err), &err);
	ck_assert_ptr_nonnull(strstr(text2, "\"ready\": null"));
	ck_assert_qc_ok(qc_state_from_json(text2, strlen(text2), &t, &err), &err);
	ck_assert(!t.ready);
	qc_state_clear(&t);

	s.ready = true;
	s.ready_after_ms = 4321;
	s.ready_at_ms = 1795597781860;
	ck_assert_qc_ok(qc_state_to_json(&s, &text, &err), &err);
	ck_assert_qc_ok(qc_state_from_json(text, strlen(text), &t, &err), &err);
	ck_assert(t.ready);
	ck_assert_int_eq(t.ready_after_ms, 4321);
	ck_assert_int_eq(t.ready_at_ms, 1795597781860);
	ck_assert_ptr_null(t.boot_failure);
	ck_assert_ptr_null(strstr(text, "boot_failure"));
	qc_state_clear(&t);

	s.ready = false;
	s.boot_failure = "uefi-shell";
	free(text);
	ck_assert_qc_ok(qc_state_to_json(&s, &text, &err), &err);
	ck_assert_qc_ok(qc_state_from_json(text, strlen(text), &t, &err), &err);
	ck_assert_str_eq(t.boot_failure, "uefi-shell");
	qc_state_clear(&t);
}
END_TEST

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

START_TEST(resize_plan)
{
	struct qc_error err = {0};
	uint64_t n = 0;

	ck_assert_qc_ok(qc_driver_resize_plan("disk0", 10 * GiB, 20 * GiB, false, &n, &err), &err);
	ck_assert_uint_eq(n, 20 * GiB);
	ck_assert_qc_ok(qc_driver_resize_plan("disk0", 10 * GiB, 5 * GiB, true, &n, &err), &err);
	ck_assert_uint_eq(n, 15 * GiB);
	/* same size: nothing to do, not an error */
	ck_assert_qc_ok(qc_driver_resize_plan("disk0", 10 * GiB, 10 * GiB, false, &n, &err), &err);
	ck_assert_uint_eq(n, 10 * GiB);
	ck_assert_qc_ok(qc_driver_resize_plan("disk0", 10 * GiB, 0, true, &n, &err), &err);
	ck_assert_uint_eq(n, 10 * GiB);
	/* rounded up to whole sectors */
	ck_assert_qc_ok(qc_driver_resize_plan("disk0", 1024, 1025, false, &n, &err), &err);
	ck_assert_uint_eq(n, 1536);
	ck_assert_qc_fail(qc_driver_resize_plan("disk0", 10 * GiB, 5 * GiB, false, &n, &err), &err,
		QC_ERR_INVALID,
		"disk 'disk0' is 10 GiB; shrinking to 5 GiB is refused: it would destroy data");
	ck_assert_qc_fail(qc_driver_resize_plan("data", 64 * MiB, 0, false, &n, &err), &err,
		QC_ERR_INVALID, "disk 'data' is 64 MiB; shrinking to 0 B is refused");
	ck_assert_qc_fail(qc_driver_resize_plan("disk0", UINT64_MAX - 10, 100, true, &n, &err),
		&err, QC_ERR_INVALID, "overflows");
	ck_assert_qc_fail(qc_driver_resize_plan("disk0", 0, UINT64_MAX - 10, false, &n, &err), &err,
		QC_ERR_INVALID, "too large");
}
END_TEST

static struct qc_domain *seeded(enum qc_arch arch)
{
	struct qc_domain *d = qc_domain_new();
	struct qc_disk *k = qc_domain_add_disk(d);

	d->arch = arch;
	k->name = qc_xstrdup("seed");
	k->role = QC_ROLE_SEED;
	k->device = qc_arch_info(arch)->seed_device;
	k->bus = qc_arch_info(arch)->seed_bus;
	k->readonly = true;
	return d;
}

START_TEST(seed_bus)
{
	cleanup_domain struct qc_domain *x = seeded(QC_ARCH_X86_64);
	cleanup_domain struct qc_domain *a = seeded(QC_ARCH_AARCH64);
	cleanup_domain struct qc_domain *none = qc_domain_new();
	struct qc_error err = {0};

	ck_assert_qc_ok(qc_driver_seed_set_bus(x, NULL, &err), &err);
	ck_assert_int_eq(x->disks[0].device, QC_DEVICE_CDROM);
	ck_assert_int_eq(x->disks[0].bus, QC_BUS_SATA);
	ck_assert_qc_ok(qc_driver_seed_set_bus(x, "virtio", &err), &err);
	ck_assert_int_eq(x->disks[0].device, QC_DEVICE_DISK);
	ck_assert_int_eq(x->disks[0].bus, QC_BUS_VIRTIO);
	ck_assert(x->disks[0].readonly);
	ck_assert_qc_ok(qc_driver_seed_set_bus(x, "cdrom", &err), &err);
	ck_assert_int_eq(x->disks[0].device, QC_DEVICE_CDROM);
	ck_assert_int_eq(x->disks[0].bus, QC_BUS_SATA);
	/* virt has no SATA: a cdrom goes on virtio-scsi */
	ck_assert_qc_ok(qc_driver_seed_set_bus(a, "cdrom", &err), &err);
	ck_assert_int_eq(a->disks[0].device, QC_DEVICE_CDROM);
	ck_assert_int_eq(a->disks[0].bus, QC_BUS_SCSI);
	ck_assert_qc_fail(qc_driver_seed_set_bus(x, "usb", &err), &err, QC_ERR_INVALID,
		"--seed-bus 'usb': use cdrom or virtio");
	ck_assert_qc_ok(qc_driver_seed_set_bus(none, "virtio", &err), &err);
	ck_assert_uint_eq(none->n_disks, 0);
}
END_TEST

static Suite *ready_suite(void)
{
	Suite *s = suite_create("driver_ready");

	unit_tcase(s, "core", match_substring_and_boundary, match_glob, scan_chunks,
		scan_no_cross_line_match, scan_long_line_bounded, scan_no_markers, scan_boot_failures, domain_markers,
		state_ready_roundtrip, resize_plan, seed_bus, NULL);
	return s;
}

UNIT_MAIN(ready_suite)
