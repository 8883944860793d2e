/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* driver/monitor/contract.c: the arguments of qemuctl-monitor, both ways. */
#include "config.h"

#include <string.h>

#include "driver/fdpass.h"
#include "driver/monitor/contract.h"
#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"

#define ARGV(...) ((char *const[]){__VA_ARGS__, NULL})
#define ARGC(v) ((int) (sizeof(v) / sizeof((v)[0])) - 1)

static const char *const qemu[] = {"qemu-system-x86_64", "-S", "-nodefaults", NULL};

/* Every field set, lists included. */
static void full_args(struct qc_monitor_args *a)
{
	struct qc_error e = {0};

	qc_monitor_args_init(a);
	a->vm_dir = "/var/lib/qemuctl/vms/web";
	a->run_dir = "/run/qemuctl/1234";
	a->notify_fd = QC_MONITOR_FD_NOTIFY;
	a->accel = "tcg";
	a->accel_why = "";
	a->set_user = true;
	a->uid = 4294967294u;
	a->gid = 0;
	a->console_max = UINT64_MAX;
	ck_assert_qc_ok(qc_monitor_args_keep_fd(a, QC_QEMU_FD_KERNEL, &e), &e);
	ck_assert_qc_ok(qc_monitor_args_keep_fd(a, QC_QEMU_FD_TAP, &e), &e);
	ck_assert_qc_ok(qc_monitor_args_keep_fd(a, QC_QEMU_FD_FILES + 3, &e), &e);
	ck_assert_qc_ok(qc_monitor_args_port(a, 65535, &e), &e);
	ck_assert_qc_ok(qc_monitor_args_port(a, 2222, &e), &e);
	ck_assert_qc_ok(qc_monitor_args_ready_marker(a, "--", &e), &e);
	ck_assert_qc_ok(qc_monitor_args_ready_marker(a, "qemuctl-ready: iid-x 1", &e), &e);
	a->ready_at_start = true;
	a->swtpm = "/usr/bin/swtpm";
	a->cont = true;
	a->vnc = QC_MONITOR_VNC_PASSWORD;
	a->devices = "{\"memory\":1,\"disks\":[],\"nics\":[]}";
	a->stay_child = true;
	a->qemu_argv = qemu;
}

static void assert_same(const struct qc_monitor_args *a, const struct qc_monitor_args *b)
{
	size_t i;

	ck_assert_str_eq(a->vm_dir, b->vm_dir);
	ck_assert_str_eq(a->run_dir, b->run_dir);
	ck_assert_int_eq(a->notify_fd, b->notify_fd);
	ck_assert_pstr_eq(a->accel, b->accel);
	ck_assert_pstr_eq(a->accel_why, b->accel_why);
	ck_assert_int_eq(a->set_user, b->set_user);
	if (a->set_user) {
		ck_assert_uint_eq(a->uid, b->uid);
		ck_assert_uint_eq(a->gid, b->gid);
	}
	ck_assert(a->console_max == b->console_max);
	ck_assert_uint_eq(a->n_keep_fds, b->n_keep_fds);
	for (i = 0; i < a->n_keep_fds; i++)
		ck_assert_int_eq(a->keep_fds[i], b->keep_fds[i]);
	ck_assert_uint_eq(a->n_ports, b->n_ports);
	for (i = 0; i < a->n_ports; i++)
		ck_assert_uint_eq(a->ports[i], b->ports[i]);
	ck_assert_uint_eq(a->n_ready_markers, b->n_ready_markers);
	for (i = 0; i < a->n_ready_markers; i++)
		ck_assert_str_eq(a->ready_markers[i], b->ready_markers[i]);
	ck_assert_int_eq(a->ready_at_start, b->ready_at_start);
	ck_assert_pstr_eq(a->swtpm, b->swtpm);
	ck_assert_int_eq(a->cont, b->cont);
	ck_assert_pstr_eq(a->vnc, b->vnc);
	ck_assert_pstr_eq(a->devices, b->devices);
	ck_assert_int_eq(a->stay_child, b->stay_child);
	for (i = 0; a->qemu_argv[i] || b->qemu_argv[i]; i++)
		ck_assert_pstr_eq(a->qemu_argv[i], b->qemu_argv[i]);
}

/* struct -> argv -> struct gives the struct back. */
static void roundtrip(const struct qc_monitor_args *a)
{
	cleanup_strvec struct qc_strv v = {0};
	struct qc_monitor_args b;
	struct qc_error e = {0};

	ck_assert_qc_ok(qc_monitor_args_to_argv(a, "qemuctl-monitor", &v, &e), &e);
	ck_assert_str_eq(v.v[0], "qemuctl-monitor");
	ck_assert_qc_ok(qc_monitor_args_from_argv((int) v.n, v.v, &b, &e), &e);
	assert_same(a, &b);
}

START_TEST(contract_roundtrip_full)
{
	struct qc_monitor_args a;

	full_args(&a);
	roundtrip(&a);
}
END_TEST

START_TEST(contract_roundtrip_minimal)
{
	struct qc_monitor_args a;
	cleanup_strvec struct qc_strv v = {0};
	struct qc_error e = {0};
	cleanup_free char *line = NULL;

	qc_monitor_args_init(&a);
	a.vm_dir = "v";
	a.run_dir = "r";
	a.qemu_argv = qemu;
	roundtrip(&a);
	/* nothing optional shows: no notify fd, no user, no console bound */
	ck_assert_qc_ok(qc_monitor_args_to_argv(&a, "m", &v, &e), &e);
	line = qc_strv_join(v.v, " ");
	ck_assert_str_eq(line, "m --vm-dir v --run-dir r -- qemu-system-x86_64 -S -nodefaults");
}
END_TEST

/* argv -> struct -> argv gives the argv back, option order included. */
START_TEST(contract_roundtrip_argv)
{
	char *const argv[] = {"qemuctl-monitor", "--vm-dir", "/v", "--run-dir", "/r", "--notify-fd",
		"3", "--accel", "kvm", "--accel-why", "KVM works", "--uid", "107", "--gid", "108",
		"--keep-fd", "8", "--keep-fd", "10", "--console-max", "4096", "--port", "0",
		"--ready-marker", "READY", "--ready-at-start", "--cont", "--stay-child", "--", "qemu",
		"--cont", NULL};
	struct qc_monitor_args a;
	cleanup_strvec struct qc_strv v = {0};
	struct qc_error e = {0};
	size_t i;

	ck_assert_qc_ok(qc_monitor_args_from_argv(ARGC(argv), argv, &a, &e), &e);
	ck_assert_int_eq(a.notify_fd, 3);
	ck_assert(a.set_user && a.uid == 107 && a.gid == 108);
	ck_assert(a.cont);
	ck_assert(a.ready_at_start);
	ck_assert(a.stay_child);
	ck_assert_str_eq(a.qemu_argv[1], "--cont");
	ck_assert_qc_ok(qc_monitor_args_to_argv(&a, argv[0], &v, &e), &e);
	ck_assert_uint_eq(v.n, (size_t) ARGC(argv));
	for (i = 0; argv[i]; i++)
		ck_assert_str_eq(v.v[i], argv[i]);
}
END_TEST

static const struct {
	char *const *argv;
	const char *why;
} bad[] = {
	{ARGV("m"), "no '-- QEMU-ARGV'"},
	{ARGV("m", "--vm-dir", "v", "--run-dir", "r"), "no '-- QEMU-ARGV'"},
	{ARGV("m", "--vm-dir", "v", "--run-dir", "r", "--"), "no '-- QEMU-ARGV'"},
	{ARGV("m", "--run-dir", "r", "--", "q"), "--vm-dir and --run-dir are required"},
	{ARGV("m", "--vm-dir", "v", "--", "q"), "--vm-dir and --run-dir are required"},
	{ARGV("m", "--vm-dir"), "--vm-dir: missing value"},
	{ARGV("m", "--vm-dir", "v", "--run-dir", "r", "--keep-fd"), "--keep-fd: missing value"},
	{ARGV("m", "--notify-fd", "three", "--", "q"), "--notify-fd: invalid number 'three'"},
	{ARGV("m", "--keep-fd", "-1", "--", "q"), "--keep-fd: invalid number '-1'"},
	{ARGV("m", "--keep-fd", "", "--", "q"), "--keep-fd: empty value"},
	{ARGV("m", "--keep-fd", "7x", "--", "q"), "--keep-fd: invalid number '7x'"},
	/* kept fds stay clear of stdio, the notify pipe, QEMU's sockets, the monitor's own */
	{ARGV("m", "--keep-fd", "2", "--", "q"), "--keep-fd: fd 2 is outside 8..199"},
	{ARGV("m", "--keep-fd", "3", "--", "q"), "--keep-fd: fd 3 is outside 8..199"},
	{ARGV("m", "--keep-fd", "7", "--", "q"), "--keep-fd: fd 7 is outside 8..199"},
	{ARGV("m", "--keep-fd", "200", "--", "q"), "--keep-fd: fd 200 is outside 8..199"},
	{ARGV("m", "--keep-fd", "2147483648", "--", "q"), "--keep-fd: 2147483648 is out of range"},
	{ARGV("m", "--notify-fd", "99999999999999999999", "--", "q"), "out of range"},
	{ARGV("m", "--port", "65536", "--", "q"), "--port: 65536 is out of range"},
	{ARGV("m", "--uid", "4294967295", "--gid", "0", "--", "q"), "--uid: 4294967295 is out"},
	{ARGV("m", "--gid", "-5", "--", "q"), "--gid: invalid number '-5'"},
	{ARGV("m", "--console-max", "18446744073709551616", "--", "q"), "out of range"},
	{ARGV("m", "--vm-dir", "v", "--run-dir", "r", "--uid", "1", "--", "q"),
		"--uid and --gid go together"},
	{ARGV("m", "--vm-dir", "v", "--run-dir", "r", "--gid", "1", "--", "q"),
		"--uid and --gid go together"},
	{ARGV("m", "--vm-dir", "v", "--frobnicate", "1", "--", "q"),
		"unknown option '--frobnicate'"},
	{ARGV("m", "--vm-dir", "v", "--run-dir", "r", "--vnc", "tcp", "--", "q"),
		"--vnc 'tcp': socket or password"},
	{ARGV("m", "vm-dir", "v", "--", "q"), "unexpected argument 'vm-dir'"},
	/* swtpm is started from the TPM's state directory: no path relative to it */
	{ARGV("m", "--swtpm", "swtpm", "--", "q"), "--swtpm 'swtpm': an absolute path is needed"},
	{ARGV("m", "--ready-marker", "1", "--ready-marker", "2", "--ready-marker", "3",
		 "--ready-marker", "4", "--ready-marker", "5", "--ready-marker", "6",
		 "--ready-marker", "7", "--ready-marker", "8", "--ready-marker", "9", "--", "q"),
		"more than 8 markers"},
};

START_TEST(contract_refuses)
{
	struct qc_monitor_args a;
	struct qc_error e = {0};
	int argc = 0;

	while (bad[_i].argv[argc])
		argc++;
	ck_assert_qc_fail(qc_monitor_args_from_argv(argc, bad[_i].argv, &a, &e), &e, QC_ERR_INVALID,
		bad[_i].why);
}
END_TEST

START_TEST(contract_list_bounds)
{
	struct qc_monitor_args a;
	struct qc_error e = {0};
	int i;

	qc_monitor_args_init(&a);
	for (i = 0; i < QC_MONITOR_MAX_FDS; i++)
		ck_assert_qc_ok(qc_monitor_args_keep_fd(&a, QC_QEMU_FD_FILES + i % 64, &e), &e);
	ck_assert_qc_fail(
		qc_monitor_args_keep_fd(&a, QC_QEMU_FD_TAP, &e), &e, QC_ERR_INVALID, "more than");
	for (i = 0; i < QC_MONITOR_MAX_PORTS; i++)
		ck_assert_qc_ok(qc_monitor_args_port(&a, 1000 + (unsigned) i, &e), &e);
	ck_assert_qc_fail(qc_monitor_args_port(&a, 1, &e), &e, QC_ERR_INVALID, "more than");
	ck_assert_qc_fail(qc_monitor_args_port(&a, 70000, &e), &e, QC_ERR_INVALID, "bad port");
}
END_TEST

START_TEST(contract_to_argv_refuses)
{
	cleanup_strvec struct qc_strv v = {0};
	struct qc_monitor_args a;
	struct qc_error e = {0};
	static const char *const empty[] = {NULL};

	full_args(&a);
	a.qemu_argv = empty;
	ck_assert_qc_fail(
		qc_monitor_args_to_argv(&a, "m", &v, &e), &e, QC_ERR_INVALID, "no QEMU argv");
	full_args(&a);
	a.run_dir = NULL;
	ck_assert_qc_fail(qc_monitor_args_to_argv(&a, "m", &v, &e), &e, QC_ERR_INVALID,
		"no VM or runtime dir");
	ck_assert_ptr_null(v.v);
}
END_TEST

/* QEMU's fds stay below the monitor's own and clear of stdio and the notify pipe. */
START_TEST(contract_fd_numbers)
{
	ck_assert_int_gt(QC_QEMU_FD_QMP, QC_MONITOR_FD_NOTIFY);
	ck_assert_int_eq(QC_QEMU_FD_EVENTS, QC_QEMU_FD_QMP + 1);
	ck_assert_int_eq(QC_QEMU_FD_SERIAL, QC_QEMU_FD_QMP + 2);
	ck_assert_int_gt(QC_QEMU_FD_KERNEL, QC_QEMU_FD_SERIAL);
	/* the TPM's directory: above stdio, below QEMU's sockets (fd 3 is only the monitor's pipe) */
	ck_assert_int_gt(QC_QEMU_FD_TPM, 2);
	ck_assert_int_lt(QC_QEMU_FD_TPM, QC_QEMU_FD_QGA);
	ck_assert_int_gt(QC_QEMU_FD_TAP, QC_QEMU_FD_INITRD);
	ck_assert_int_lt(QC_QEMU_FD_FILES + QC_FDPASS_MAX, QC_MONITOR_FD_OWN);
}
END_TEST

static Suite *monitor_contract_suite(void)
{
	Suite *s = suite_create("monitor-contract");
	TCase *tc;

	tc = unit_tcase(s, "core", contract_roundtrip_full, contract_roundtrip_minimal,
		contract_roundtrip_argv, NULL);
	tcase_add_loop_test(tc, contract_refuses, 0, (int) QC_ARRAY_SIZE(bad));
	unit_add_tests(
		tc, contract_list_bounds, contract_to_argv_refuses, contract_fd_numbers, NULL);
	return s;
}

UNIT_MAIN(monitor_contract_suite)
