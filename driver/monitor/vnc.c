/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VNC (contract.h --vnc).  socket: QEMU runs -vnc none and may not enter
 * the runtime dir, so the monitor listens on vnc.sock (0600, the caller's)
 * and hands every client it accepts to QEMU's VNC server over QMP (getfd,
 * then add_client).  password: QEMU listens on a loopback TCP port with
 * password=on, refusing everyone until set_password; the password is made
 * here, kept in vnc-password (0600) and set before the CPUs run.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "driver/monitor/monitor.h"

/* How long a VNC client's hand-over may hold up the monitor's loop. */
#define QC_MONITOR_VNC_QMP_MS 2000
/* VNC authentication (DES) reads the first 8 characters of a password. */
#define QC_VNC_PASSWORD_LEN 8

static int set_password(struct qc_monitor *m, struct qc_error *err)
{
	static const char abc[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
	unsigned char rnd[QC_VNC_PASSWORD_LEN];
	char pw[QC_VNC_PASSWORD_LEN + 2], args[96];
	cleanup_close int dfd = -1;
	int rc;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t) sizeof(rnd))
		return qc_error_errno(err, errno, "getrandom");
	for (size_t i = 0; i < sizeof(rnd); i++)
		pw[i] = abc[rnd[i] % (sizeof(abc) - 1)];
	pw[QC_VNC_PASSWORD_LEN] = '\n';
	pw[QC_VNC_PASSWORD_LEN + 1] = 0;
	dfd = open(m->a.run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return qc_error_errno(err, errno, "open '%s'", m->a.run_dir);
	if ((rc = qc_write_atomic(dfd, QC_MONITOR_VNC_PASSWORD_FILE, pw, strlen(pw), 0600, err)) <
		0)
		return rc;
	snprintf(args, sizeof(args), "{\"protocol\":\"vnc\",\"password\":\"%.*s\"}",
		QC_VNC_PASSWORD_LEN, pw);
	explicit_bzero(pw, sizeof(pw));
	rc = qc_qmp_execute_text(m->qmp, "set_password", args, QC_MONITOR_VNC_QMP_MS, NULL, err);
	explicit_bzero(args, sizeof(args));
	return rc;
}

bool qc_monitor_vnc_needs_qmp(const struct qc_monitor *m)
{
	return m->a.vnc && strcmp(m->a.vnc, QC_MONITOR_VNC_PASSWORD) == 0;
}

int qc_monitor_vnc_setup(struct qc_monitor *m, struct qc_error *err)
{
	cleanup_free char *path = NULL;

	if (!m->a.vnc)
		return 0;
	if (qc_monitor_vnc_needs_qmp(m))
		return set_password(m, err);
	path = qc_monitor_run_path(m, QC_MONITOR_VNC_SOCK);
	return qc_monitor_listen_unix(path, &m->vnc_fd, err);
}

void qc_monitor_vnc_accept(struct qc_monitor *m)
{
	static const char fdname[] = "qemuctl-vnc";
	cleanup_close int fd = accept4(m->vnc_fd, NULL, NULL, SOCK_CLOEXEC);
	struct qc_error err = {0};

	if (fd < 0 || !m->qmp)
		return;
	if (qc_qmp_getfd(m->qmp, fd, fdname, QC_MONITOR_VNC_QMP_MS, &err) < 0 ||
		qc_qmp_execute_text(m->qmp, "add_client",
			"{\"protocol\":\"vnc\",\"fdname\":\"qemuctl-vnc\"}", QC_MONITOR_VNC_QMP_MS,
			NULL, &err) < 0)
		qc_monitor_append_event(m, "QEMUCTL_VNC_CLIENT_REFUSED", qc_realtime_ms(), NULL,
			"error", err.msg, NULL, NULL);
	/* events that came with the replies are queued: record them now */
	(void) qc_monitor_qmp_readable(m);
}
