/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The arguments of qemuctl-monitor, both ways (driver/monitor/contract.h):
 * `qemuctl start` turns a struct qc_monitor_args into argv, the monitor
 * turns argv back into the same struct.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include "driver/monitor/contract.h"

#define MAX_ID 4294967294u /* (uid_t) -1 means "unchanged" to setresuid() */

void qc_monitor_args_init(struct qc_monitor_args *a)
{
	*a = (struct qc_monitor_args){.notify_fd = -1};
}

int qc_monitor_args_keep_fd(struct qc_monitor_args *a, int fd, struct qc_error *err)
{
	/* Clear of stdio, the notify pipe, QEMU's sockets and the monitor's own fds. */
	if (fd < QC_QEMU_FD_KERNEL || fd >= QC_MONITOR_FD_OWN)
		return qc_error_set(err, QC_ERR_INVALID, "--keep-fd: fd %d is outside %d..%d", fd,
			QC_QEMU_FD_KERNEL, QC_MONITOR_FD_OWN - 1);
	if (a->n_keep_fds == QC_MONITOR_MAX_FDS)
		return qc_error_set(
			err, QC_ERR_INVALID, "--keep-fd: more than %d fds", QC_MONITOR_MAX_FDS);
	a->keep_fds[a->n_keep_fds++] = fd;
	return 0;
}

int qc_monitor_args_port(struct qc_monitor_args *a, unsigned port, struct qc_error *err)
{
	if (port > 65535)
		return qc_error_set(err, QC_ERR_INVALID, "--port: bad port %u", port);
	if (a->n_ports == QC_MONITOR_MAX_PORTS)
		return qc_error_set(
			err, QC_ERR_INVALID, "--port: more than %d ports", QC_MONITOR_MAX_PORTS);
	a->ports[a->n_ports++] = port;
	return 0;
}

int qc_monitor_args_ready_marker(
	struct qc_monitor_args *a, const char *marker, struct qc_error *err)
{
	if (a->n_ready_markers == QC_READY_MAX_MARKERS)
		return qc_error_set(err, QC_ERR_INVALID, "--ready-marker: more than %d markers",
			QC_READY_MAX_MARKERS);
	a->ready_markers[a->n_ready_markers++] = marker;
	return 0;
}

static void push_opt(struct qc_strv *v, const char *opt, const char *value)
{
	qc_strv_push(v, opt);
	qc_strv_push(v, value);
}

int qc_monitor_args_to_argv(const struct qc_monitor_args *a, const char *program,
	struct qc_strv *ret_argv, struct qc_error *err)
{
	struct qc_strv v = {0};
	size_t i;

	if (!a->vm_dir || !a->run_dir)
		return qc_error_set(err, QC_ERR_INVALID, "qemuctl-monitor: no VM or runtime dir");
	if (!a->qemu_argv || !a->qemu_argv[0])
		return qc_error_set(err, QC_ERR_INVALID, "qemuctl-monitor: no QEMU argv");
	qc_strv_push(&v, program);
	push_opt(&v, "--vm-dir", a->vm_dir);
	push_opt(&v, "--run-dir", a->run_dir);
	if (a->notify_fd >= 0) {
		qc_strv_push(&v, "--notify-fd");
		qc_strv_pushf(&v, "%d", a->notify_fd);
	}
	if (a->accel)
		push_opt(&v, "--accel", a->accel);
	if (a->accel_why)
		push_opt(&v, "--accel-why", a->accel_why);
	if (a->set_user) {
		qc_strv_push(&v, "--uid");
		qc_strv_pushf(&v, "%u", (unsigned) a->uid);
		qc_strv_push(&v, "--gid");
		qc_strv_pushf(&v, "%u", (unsigned) a->gid);
	}
	for (i = 0; i < a->n_keep_fds; i++) {
		qc_strv_push(&v, "--keep-fd");
		qc_strv_pushf(&v, "%d", a->keep_fds[i]);
	}
	if (a->console_max) {
		qc_strv_push(&v, "--console-max");
		qc_strv_pushf(&v, "%llu", (unsigned long long) a->console_max);
	}
	for (i = 0; i < a->n_ports; i++) {
		qc_strv_push(&v, "--port");
		qc_strv_pushf(&v, "%u", a->ports[i]);
	}
	for (i = 0; i < a->n_ready_markers; i++)
		push_opt(&v, "--ready-marker", a->ready_markers[i]);
	if (a->ready_at_start)
		qc_strv_push(&v, "--ready-at-start");
	if (a->swtpm)
		push_opt(&v, "--swtpm", a->swtpm);
	if (a->vnc)
		push_opt(&v, "--vnc", a->vnc);
	if (a->cont)
		qc_strv_push(&v, "--cont");
	if (a->devices)
		push_opt(&v, "--devices", a->devices);
	if (a->stay_child)
		qc_strv_push(&v, "--stay-child");
	qc_strv_push(&v, "--");
	for (i = 0; a->qemu_argv[i]; i++)
		qc_strv_push(&v, a->qemu_argv[i]);
	*ret_argv = v;
	return 0;
}

/* One option and its value. */
static int parse_opt(
	struct qc_monitor_args *a, const char *opt, const char *val, struct qc_error *err)
{
	uint64_t n;
	int rc;

#define NUMBER(min, max)                                                       \
	do {                                                                   \
		if ((rc = qc_parse_uint(opt, val, (min), (max), &n, err)) < 0) \
			return rc;                                             \
	} while (0)
	if (strcmp(opt, "--vm-dir") == 0) {
		a->vm_dir = val;
	} else if (strcmp(opt, "--run-dir") == 0) {
		a->run_dir = val;
	} else if (strcmp(opt, "--notify-fd") == 0) {
		NUMBER(0, INT_MAX);
		a->notify_fd = (int) n;
	} else if (strcmp(opt, "--keep-fd") == 0) {
		NUMBER(0, INT_MAX);
		return qc_monitor_args_keep_fd(a, (int) n, err);
	} else if (strcmp(opt, "--console-max") == 0) {
		NUMBER(0, UINT64_MAX);
		a->console_max = n;
	} else if (strcmp(opt, "--port") == 0) {
		NUMBER(0, 65535);
		return qc_monitor_args_port(a, (unsigned) n, err);
	} else if (strcmp(opt, "--uid") == 0) {
		NUMBER(0, MAX_ID);
		a->uid = (uid_t) n;
		a->set_user = true;
	} else if (strcmp(opt, "--gid") == 0) {
		NUMBER(0, MAX_ID);
		a->gid = (gid_t) n;
	} else if (strcmp(opt, "--accel") == 0) {
		a->accel = val;
	} else if (strcmp(opt, "--accel-why") == 0) {
		a->accel_why = val;
	} else if (strcmp(opt, "--ready-marker") == 0) {
		return qc_monitor_args_ready_marker(a, val, err);
	} else if (strcmp(opt, "--swtpm") == 0) {
		if (val[0] != '/')
			return qc_error_set(err, QC_ERR_INVALID,
				"--swtpm '%s': an absolute path is needed", val);
		a->swtpm = val;
	} else if (strcmp(opt, "--vnc") == 0) {
		if (strcmp(val, QC_MONITOR_VNC_SOCKET) != 0 &&
			strcmp(val, QC_MONITOR_VNC_PASSWORD) != 0)
			return qc_error_set(
				err, QC_ERR_INVALID, "--vnc '%s': socket or password", val);
		a->vnc = val;
	} else if (strcmp(opt, "--devices") == 0) {
		a->devices = val; /* checked where the monitor reads it (qc_run_devices_parse) */
	} else {
		return qc_error_set(err, QC_ERR_INVALID, "unknown option '%s'", opt);
	}
#undef NUMBER
	return 0;
}

int qc_monitor_args_from_argv(
	int argc, char *const *argv, struct qc_monitor_args *a, struct qc_error *err)
{
	bool have_gid = false;
	int i, rc;

	qc_monitor_args_init(a);
	for (i = 1; i < argc; i++) {
		const char *opt = argv[i];

		if (strcmp(opt, "--") == 0)
			break;
		if (strcmp(opt, "--cont") == 0) {
			a->cont = true;
			continue;
		}
		if (strcmp(opt, "--ready-at-start") == 0) {
			a->ready_at_start = true;
			continue;
		}
		if (strcmp(opt, "--stay-child") == 0) {
			a->stay_child = true;
			continue;
		}
		if (strncmp(opt, "--", 2) != 0)
			return qc_error_set(err, QC_ERR_INVALID, "unexpected argument '%s'", opt);
		if (i + 1 >= argc)
			return qc_error_set(err, QC_ERR_INVALID, "%s: missing value", opt);
		if ((rc = parse_opt(a, opt, argv[i + 1], err)) < 0)
			return rc;
		have_gid |= strcmp(opt, "--gid") == 0;
		i++;
	}
	if (i >= argc || i + 1 >= argc)
		return qc_error_set(err, QC_ERR_INVALID, "no '-- QEMU-ARGV'");
	if (!a->vm_dir || !a->run_dir)
		return qc_error_set(err, QC_ERR_INVALID, "--vm-dir and --run-dir are required");
	if (a->set_user != have_gid)
		return qc_error_set(err, QC_ERR_INVALID, "--uid and --gid go together");
	a->qemu_argv = (const char *const *) &argv[i + 1];
	return 0;
}
