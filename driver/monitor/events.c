/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QMP events from QEMU's second QMP socket, each a line of events.jsonl
 * with a timestamp (bounded like console.log: past the bound it moves to
 * events.jsonl.1), plus the monitor's own QEMUCTL_* records.
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/monitor/monitor.h"

/* events.jsonl is bounded like console.log: past the bound it moves to events.jsonl.1. */
static void rotate_events(struct qc_monitor *m)
{
	struct stat st;

	if (fstat(m->events_fd, &st) < 0 || (uint64_t) st.st_size <= QC_EVENTS_MAX)
		return;
	(void) renameat(m->vm_dfd, QC_VM_EVENTS, m->vm_dfd, QC_VM_EVENTS ".1");
	close(m->events_fd);
	m->events_fd = openat(m->vm_dfd, QC_VM_EVENTS,
		O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
}

void qc_monitor_append_event(struct qc_monitor *m, const char *name, int64_t at_ms,
	const qc_json *data, const char *k1, const char *v1, const char *k2, const char *v2)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_free char *line = NULL;
	char ts[40];
	size_t len;

	if (m->events_fd < 0)
		return;
	qc_format_time_utc(at_ms, ts, sizeof(ts));
	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "timestamp", ts);
	qc_jgen_kstring(g, "event", name);
	qc_jgen_key(g, "data");
	if (data) {
		qc_jgen_value(g, data);
	} else {
		qc_jgen_map_open(g);
		if (k1 && v1)
			qc_jgen_kstring(g, k1, v1);
		if (k2 && v2)
			qc_jgen_kstring(g, k2, v2);
		qc_jgen_map_close(g);
	}
	qc_jgen_map_close(g);
	if (qc_jgen_finish(g, &line, &len, NULL) < 0)
		return;
	line = qc_xrealloc(line, len + 2);
	line[len++] = '\n';
	(void) qc_write_all(m->events_fd, line, len, NULL);
	rotate_events(m);
}

void qc_monitor_open_events(struct qc_monitor *m)
{
	m->events_fd = openat(m->vm_dfd, QC_VM_EVENTS,
		O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
}

/* Events after which QEMU's run state may differ (query-status). */
static bool changes_status(const char *name)
{
	static const char *const names[] = {"STOP", "RESUME", "RESET", "SUSPEND", "WAKEUP",
		"GUEST_PANICKED", "BLOCK_IO_ERROR", "WATCHDOG"};

	for (size_t i = 0; i < QC_ARRAY_SIZE(names); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

void qc_monitor_publish_status(struct qc_monitor *m)
{
	(void) qc_state_publish_status(
		m->vm_dfd, m->st.monitor_pid, m->st.started_at_ms, qc_driver_qmp_status, m->qmp);
}

/*
 * QEMU's run state once "cont" succeeded, while the monitor sets up: the
 * starter holds the VM's lock, so no other writer has touched the
 * state.json the monitor wrote for this run, and m->st is written again
 * as it is, without reading the file back.
 */
void qc_monitor_publish_running(struct qc_monitor *m)
{
	free(m->st.qemu_status);
	m->st.qemu_status = qc_xstrdup("running");
	(void) qc_state_save_nosync(m->vm_dfd, &m->st, NULL);
}

static void drain_events(struct qc_monitor *m)
{
	struct qc_qmp_event *ev;
	bool publish = false;

again:
	while (qc_qmp_pop_event(m->qmp, &ev) == 1) {
		publish = publish || changes_status(ev->name);
		int64_t at = ev->seconds >= 0 ? ev->seconds * 1000 + ev->microseconds / 1000
					      : qc_realtime_ms();

		if (strcmp(ev->name, "SHUTDOWN") == 0) {
			const char *r = qc_json_string(qc_json_get(ev->data, "reason"));

			snprintf(m->shutdown_reason, sizeof(m->shutdown_reason), "%s",
				r ? r : "unknown");
		}
		qc_monitor_append_event(m, ev->name, at, ev->data, NULL, NULL, NULL, NULL);
		qc_qmp_event_free(ev);
	}
	if (publish) {
		/* its reply may come after more events: those are drained (and published) too */
		publish = false;
		qc_monitor_publish_status(m);
		if (qc_qmp_events_pending(m->qmp))
			goto again;
	}
}

void qc_monitor_record_queued_events(struct qc_monitor *m)
{
	if (m->qmp && qc_qmp_events_pending(m->qmp))
		drain_events(m);
}

void qc_monitor_quit_qemu(struct qc_monitor *m)
{
	int rc = -1;

	/*
	 * Events queued meanwhile (SHUTDOWN) are recorded when the connection's
	 * EOF is read, as after any quit: a status query now would only wait
	 * on a QEMU on its way out.
	 */
	if (m->qmp && qc_qmp_check_alive(m->qmp, NULL) == 0)
		rc = qc_qmp_execute(m->qmp, "quit", NULL, QC_MONITOR_QUIT_MS, NULL, NULL);
	/* An exited QEMU is not reaped yet: its pid is still its own. */
	if (rc < 0)
		kill(m->qemu_pid, SIGTERM);
}

/* Read QMP; false once the connection is gone. */
bool qc_monitor_qmp_readable(struct qc_monitor *m)
{
	int rc = qc_qmp_read_available(m->qmp, NULL);

	drain_events(m);
	return rc >= 0;
}
