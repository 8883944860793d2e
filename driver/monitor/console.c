/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The serial console: what the guest writes is copied into console.log
 * (capped, rotated to console.log.1 by rename) and to every attached
 * `qemuctl console` client; what a client types goes to the guest.  The
 * guest's ready marker on the console is recorded in state.json.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "driver/monitor/monitor.h"

void qc_monitor_rotate_log(struct qc_monitor *m)
{
	cleanup_free char *old = qc_xasprintf("%s.1", QC_VM_CONSOLE_LOG);

	if (m->log_fd >= 0)
		close(m->log_fd);
	(void) renameat(m->vm_dfd, QC_VM_CONSOLE_LOG, m->vm_dfd, old);
	m->log_fd = openat(m->vm_dfd, QC_VM_CONSOLE_LOG,
		O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	m->log_size = 0;
}

/* The guest announced the end of its boot: state.json says so (atomically). */
static void record_ready(struct qc_monitor *m)
{
	struct qc_error err = {0};
	char after[32];

	m->st.ready = true;
	m->st.ready_at_ms = qc_realtime_ms();
	m->st.ready_after_ms = m->st.ready_at_ms - m->st.started_at_ms;
	if (qc_state_save_run(m->vm_dfd, &m->st, &err) < 0)
		fprintf(stderr, "qemuctl-monitor: %s\n", err.msg);
	snprintf(after, sizeof(after), "%lld", (long long) m->st.ready_after_ms);
	qc_monitor_append_event(
		m, "QEMUCTL_READY", m->st.ready_at_ms, NULL, "after_ms", after, NULL, NULL);
}

/* The console said the guest cannot boot (driver/ready.h): a wait ends now. */
static void record_failure(struct qc_monitor *m, const struct qc_ready_failure *f)
{
	struct qc_error err = {0};

	free(m->st.boot_failure);
	m->st.boot_failure = qc_xstrdup(f->key);
	if (qc_state_save_run(m->vm_dfd, &m->st, &err) < 0)
		fprintf(stderr, "qemuctl-monitor: %s\n", err.msg);
	qc_monitor_append_event(m, "QEMUCTL_BOOT_FAILURE", qc_realtime_ms(), NULL, "reason",
		f->key, NULL, NULL);
}

static void console_output(struct qc_monitor *m, const char *buf, size_t n)
{
	enum qc_ready_event ev;
	size_t i;

	if (m->log_fd >= 0) {
		if (m->log_size + n > m->a.console_max)
			qc_monitor_rotate_log(m);
		if (m->log_fd >= 0 && qc_write_all(m->log_fd, buf, n, NULL) == 0)
			m->log_size += n;
	}
	ev = qc_ready_scan_feed(&m->ready, buf, n);
	if (ev == QC_READY_SEEN)
		record_ready(m);
	else if (ev == QC_READY_FAILED)
		record_failure(m, m->ready.failed);
	for (i = 0; i < QC_MONITOR_MAX_CLIENTS; i++) {
		ssize_t w;

		if (m->clients[i] < 0)
			continue;
		/* A client that does not keep up loses output; the log keeps it. */
		w = send(m->clients[i], buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			close(m->clients[i]);
			m->clients[i] = -1;
		}
	}
}

/* Read what the serial socket has; false at EOF. */
bool qc_monitor_serial_readable(struct qc_monitor *m)
{
	char buf[16384];
	ssize_t n = read(m->serial_fd, buf, sizeof(buf));

	if (n > 0) {
		console_output(m, buf, (size_t) n);
		return true;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	close(m->serial_fd);
	m->serial_fd = -1;
	return false;
}

int qc_monitor_listen_console(struct qc_monitor *m, struct qc_error *err)
{
	cleanup_free char *path = qc_monitor_run_path(m, "console.sock");
	int fd;

	if ((fd = qc_unix_listen(path, SOCK_NONBLOCK, 8, err)) < 0)
		return fd;
	m->listen_fd = fd;
	return 0;
}

void qc_monitor_accept_client(struct qc_monitor *m)
{
	int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	size_t i;

	if (fd < 0)
		return;
	for (i = 0; i < QC_MONITOR_MAX_CLIENTS; i++)
		if (m->clients[i] < 0) {
			m->clients[i] = fd;
			return;
		}
	close(fd);
}

void qc_monitor_client_readable(struct qc_monitor *m, size_t i)
{
	char buf[4096];
	ssize_t n = read(m->clients[i], buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close(m->clients[i]);
		m->clients[i] = -1;
		return;
	}
	if (m->serial_fd >= 0)
		(void) send(m->serial_fd, buf, (size_t) n, MSG_NOSIGNAL);
}
