/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The end of a run: why QEMU exited (guest poweroff, quit, host signal,
 * killed, crashed, or a start that failed), recorded atomically in
 * state.json and as a QEMUCTL_EXIT event; the runtime dir removed.
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver/monitor/monitor.h"

/*
 * The host migrate wrote before it ended QEMU for the move (into to), the
 * file removed; false when there is none, it is not a small regular file
 * (a FIFO must not hang the monitor) or it holds no host name.
 */
static bool migrated_to(struct qc_monitor *m, char *to, size_t size)
{
	cleanup_free char *text = NULL;
	size_t len = 0;
	int rc = qc_read_file(m->vm_dfd, QC_VM_MIGRATED_TO, size - 1, &text, &len, NULL);

	(void) unlinkat(m->vm_dfd, QC_VM_MIGRATED_TO, 0);
	if (rc < 0 || len == 0 || memchr(text, 0, len))
		return false;
	memcpy(to, text, len);
	to[len] = '\0';
	return strspn(to, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]") ==
	       len;
}

void qc_monitor_record_exit(struct qc_monitor *m)
{
	char to[256];
	struct qc_error err = {0};
	char st[64];
	int s = m->qemu_status;
	bool killed = faccessat(m->vm_dfd, "kill-requested", F_OK, 0) == 0;

	qc_format_wait_status(s, st, sizeof(st));
	free(m->st.exit_detail);
	m->st.exit_detail = NULL;
	m->st.exit_status = s;
	if (m->swtpm_died) {
		cleanup_free char *why = qc_monitor_swtpm_report(m);

		m->st.exit_reason = QC_EXIT_CRASHED;
		m->st.exit_detail = qc_xasprintf(
			"the VM's TPM ended while it ran, so QEMU was stopped: %s", why);
	} else if (migrated_to(m, to, sizeof(to))) {
		m->st.exit_reason = QC_EXIT_MIGRATED;
		m->st.exit_detail = qc_xasprintf("to %s", to);
	} else if (WIFSIGNALED(s)) {
		m->st.exit_reason = killed ? QC_EXIT_KILLED : QC_EXIT_CRASHED;
		m->st.exit_detail = qc_xstrdup(st);
	} else if (WIFEXITED(s) && WEXITSTATUS(s) != 0) {
		cleanup_free char *tail = qc_monitor_qemu_log_tail(m);

		m->st.exit_reason = QC_EXIT_CRASHED;
		m->st.exit_detail = qc_xasprintf("%s: %s", st, tail);
	} else if (strcmp(m->shutdown_reason, "guest-shutdown") == 0) {
		m->st.exit_reason = QC_EXIT_POWEROFF;
	} else if (strcmp(m->shutdown_reason, "host-qmp-quit") == 0 &&
		   faccessat(m->vm_dfd, QC_VM_SAVED_STATE, F_OK, 0) == 0) {
		/* `qemuctl save` quits QEMU once the state file is in place. */
		m->st.exit_reason = QC_EXIT_SAVED;
	} else if (strcmp(m->shutdown_reason, "host-qmp-quit") == 0) {
		m->st.exit_reason = QC_EXIT_QUIT;
	} else if (strcmp(m->shutdown_reason, "host-signal") == 0) {
		m->st.exit_reason = QC_EXIT_HOST_SIGNAL;
	} else if (m->shutdown_reason[0]) {
		m->st.exit_reason = QC_EXIT_POWEROFF;
	} else {
		m->st.exit_reason = QC_EXIT_EXITED;
	}
	if (!m->st.exit_detail)
		m->st.exit_detail = qc_xstrdup(m->shutdown_reason[0] ? m->shutdown_reason : st);
	(void) unlinkat(m->vm_dfd, "kill-requested", 0);
	m->st.running = false;
	m->st.stopped_at_ms = qc_realtime_ms();
	qc_monitor_append_event(m, "QEMUCTL_EXIT", m->st.stopped_at_ms, NULL, "reason",
		qc_exit_reason_name(m->st.exit_reason), "detail", m->st.exit_detail);
	if (qc_state_save_run(m->vm_dfd, &m->st, &err) < 0)
		fprintf(stderr, "qemuctl-monitor: %s\n", err.msg);
}

void qc_monitor_remove_run_dir(struct qc_monitor *m)
{
	static const char *const socks[] = {"qmp.sock", "events.sock", "serial.sock",
		"console.sock", "qga.sock", QC_MONITOR_VNC_SOCK, QC_MONITOR_VNC_PASSWORD_FILE};
	size_t i;

	for (i = 0; i < QC_ARRAY_SIZE(socks); i++) {
		cleanup_free char *p = qc_monitor_run_path(m, socks[i]);

		(void) unlink(p);
	}
	{
		cleanup_free char *tpm = qc_monitor_run_path(m, "swtpm/" QC_ARGV_TPM_SOCK);
		cleanup_free char *tpm_dir = qc_monitor_run_path(m, "swtpm");

		(void) unlink(tpm);
		(void) rmdir(tpm_dir);
	}
	(void) rmdir(m->a.run_dir);
}

void qc_monitor_record_start_failed(struct qc_monitor *m, struct qc_error *err)
{
	int k;

	/* QEMU failing on its own (a missing kernel...) says why in qemu.log. */
	for (k = 0; k < 300 && m->qemu_pid > 0 && !qc_monitor_reap(m); k++)
		qc_sleep_ms(1);
	if (m->qemu_pid > 0 && m->qemu_exited && err->code != QC_ERR_CHILD) {
		char st[64];
		cleanup_free char *tail = qc_monitor_qemu_log_tail(m);

		qc_format_wait_status(m->qemu_status, st, sizeof(st));
		qc_error_set(err, QC_ERR_CHILD, "QEMU exited during start (%s): %s", st, tail);
	} else if (m->qemu_pid > 0 && !m->qemu_exited) {
		kill(m->qemu_pid, SIGKILL);
		while (!qc_monitor_reap(m))
			qc_sleep_ms(1);
	}
	if (m->swtpm_pid > 0) {
		cleanup_free char *why = NULL, *msg = qc_xstrdup(err->msg);
		bool failed;

		/* swtpm named when it failed or said something (a damaged state...) */
		failed = m->swtpm_exited && m->swtpm_status != 0;
		qc_monitor_stop_swtpm(m);
		if (failed || qc_monitor_swtpm_logged(m)) {
			why = qc_monitor_swtpm_report(m);
			qc_error_set(err, err->code, "%s; %s", msg, why);
		}
	}
	if (m->vm_dfd >= 0 && m->lock_fd >= 0) {
		m->st.running = false;
		m->st.exit_reason = QC_EXIT_START_FAILED;
		free(m->st.exit_detail);
		m->st.exit_detail = qc_xstrdup(err->msg);
		m->st.stopped_at_ms = qc_realtime_ms();
		(void) qc_state_save_nosync(m->vm_dfd, &m->st, NULL);
		qc_monitor_remove_run_dir(m);
	}
}
