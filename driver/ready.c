/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Readiness, the library side (driver/ready.h): the markers of a
 * domain, qc_vm_wait() and the console tail its callers show on failure.
 *
 * qc_vm_wait() sleeps in inotify on the VM directory: the monitor replaces
 * state.json by rename when it sees the marker (and when QEMU exits), so
 * the wait wakes within a millisecond of the marker line reaching
 * console.log.  A monitor killed outright writes nothing; a 100 ms poll
 * timeout notices its lock gone.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/ready.h"
#include "driver/vmop.h"

#define WAIT_DEFAULT_MS (300 * 1000)
#define WAIT_POLL_MS 100
#define TAIL_BYTES (64 * 1024)

char **qc_driver_ready_markers(const struct qc_domain *d)
{
	struct qc_strv v = {0};

	if (d->seed.enabled) {
		qc_strv_pushf(&v, QC_READY_PREFIX "iid-%s-%u", d->uuid_str, d->seed.generation);
		if (d->seed.user_data)
			qc_strv_push(&v, QC_READY_CLOUDINIT_FINAL);
	}
	if (d->ready_marker && *d->ready_marker && strlen(d->ready_marker) < QC_READY_MARKER_MAX)
		qc_strv_push(&v, d->ready_marker);
	return v.v ? qc_strv_steal(&v) : qc_xzalloc(sizeof(char *));
}

static int stopped_error(const char *name, const struct qc_live *l, bool seen_running,
	const char *log, struct qc_error *err)
{
	const char *why = qc_exit_reason_name(l->st.exit_reason);
	const char *detail = l->st.exit_detail;

	if (!seen_running)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s' is not running (state: %s); start it with 'qemuctl start %s "
			"--wait'",
			name, qc_vm_state_name(l->state), name);
	return qc_error_set(err, QC_ERR_STATE,
		"VM '%s' stopped before it was ready: %s%s%s (console log: %s)", name, why,
		detail && strcmp(detail, why) != 0 ? ": " : "",
		detail && strcmp(detail, why) != 0 ? detail : "", log);
}

/* The console said the guest cannot boot (driver/ready.h): waiting is hopeless. */
static int boot_failed(const char *name, const struct qc_ready_failure *f, const char *log,
	struct qc_error *err)
{
	return qc_error_set(err, QC_ERR_STATE,
		"VM '%s' cannot boot: %s; it is still running: end it with 'qemuctl destroy "
		"%s' and give it a bootable --disk-image (or a --kernel) (console log: %s)",
		name, f->why, name, log);
}

static int no_marker(const char *name, struct qc_error *err)
{
	return qc_error_set(err, QC_ERR_UNSUPPORTED,
		"VM '%s' has no ready marker: it has no seed (--no-seed) and no "
		"<qemuctl:ready-marker> in its definition; add one with the text its "
		"console prints when booted (qemuctl dumpxml/define)",
		name);
}

int qc_driver_ready_check(const struct qc_domain *d, struct qc_error *err)
{
	cleanup_strv char **markers = qc_driver_ready_markers(d);

	return markers[0] ? 0 : no_marker(d->name, err);
}

QC_PUBLIC int qc_vm_wait(
	qc_ctx *ctx, const char *name, int timeout_ms, int64_t *ret_after_ms, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	int rc;

	/* No lock: the wait only reads, and must not hold up a start or stop. */
	if ((rc = qc_vmop_begin(
		     ctx, name, QC_VMOP_NO_LOCK | QC_VMOP_NO_STATE | QC_VMOP_DOMAIN, &op, err)) < 0)
		return rc;
	return qc_driver_wait_ready(&op, timeout_ms, ret_after_ms, err);
}

int qc_driver_wait_ready(
	struct qc_vmop *op, int timeout_ms, int64_t *ret_after_ms, struct qc_error *err)
{
	qc_ctx *ctx = op->ctx;
	const char *name = op->name;
	cleanup_close int ino = -1;
	cleanup_strv char **markers = NULL;
	cleanup_free char *log = NULL, *what = NULL;
	int64_t start = qc_now_ms(), deadline, last_progress = -1;
	int64_t started_at = -1;
	bool seen_running = false;
	int rc;

	if (timeout_ms <= 0)
		timeout_ms = WAIT_DEFAULT_MS;
	deadline = qc_deadline_ms(timeout_ms);
	if ((rc = qc_vmop_domain(op, err)) < 0)
		return rc;
	log = qc_xasprintf("%s/%s", op->vm_dir, QC_VM_CONSOLE_LOG);
	what = qc_xasprintf("waiting for VM '%s' to be ready", name);
	markers = qc_driver_ready_markers(op->d);
	if (!markers[0])
		return no_marker(name, err);
	ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ino >= 0 && inotify_add_watch(ino, op->vm_dir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		close(ino);
		ino = -1;
	}
	for (;;) {
		struct qc_live l;
		int left, wait_ms;

		if ((rc = qc_driver_live(op->dfd, &l, err)) < 0)
			return qc_error_prefix(err, "VM '%s'", name);
		if (l.monitor_alive && (started_at < 0 || started_at == l.st.started_at_ms)) {
			seen_running = true;
			started_at = l.st.started_at_ms;
			if (l.st.ready) {
				if (ret_after_ms)
					*ret_after_ms = l.st.ready_after_ms;
				qc_live_clear(&l);
				return 0;
			}
			if (qc_ready_failure_find(l.st.boot_failure)) {
				rc = boot_failed(
					name, qc_ready_failure_find(l.st.boot_failure), log, err);
				qc_live_clear(&l);
				return rc;
			}
		} else if (l.monitor_alive) {
			/* restarted under us: this run is another one; wait for it */
			started_at = l.st.started_at_ms;
		} else {
			rc = stopped_error(name, &l, seen_running, log, err);
			qc_live_clear(&l);
			return rc;
		}
		qc_live_clear(&l);
		left = qc_time_left_ms(deadline);
		if (left == 0)
			return qc_error_set(err, ETIMEDOUT,
				"VM '%s' is running but not ready after %d s: its console did not "
				"show '%s' (full console log: %s)",
				name, (timeout_ms + 999) / 1000, markers[0], log);
		if (ctx->progress && qc_now_ms() - last_progress >= WAIT_POLL_MS) {
			last_progress = qc_now_ms();
			ctx->progress(what, (uint64_t) (last_progress - start),
				(uint64_t) timeout_ms, ctx->progress_opaque);
		}
		wait_ms = left < WAIT_POLL_MS ? left : WAIT_POLL_MS;
		if (ino >= 0) {
			struct pollfd p = {.fd = ino, .events = POLLIN};
			char buf[4096];

			if (poll(&p, 1, wait_ms) > 0)
				while (read(ino, buf, sizeof(buf)) > 0)
					;
		} else {
			qc_sleep_ms(wait_ms < 20 ? wait_ms : 20);
		}
	}
}

QC_PUBLIC int qc_vm_console_tail(
	qc_ctx *ctx, const char *name, unsigned n, char ***ret, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_close int fd = -1;
	cleanup_free char *buf = qc_xmalloc(TAIL_BYTES + 1);
	struct qc_strv lines = {0};
	char **v;
	off_t size;
	ssize_t got;
	size_t i, len, cnt, first;
	int rc;

	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_NO_LOCK | QC_VMOP_NO_STATE, &op, err)) < 0)
		return rc;
	fd = openat(op.dfd, QC_VM_CONSOLE_LOG, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno != ENOENT)
		return qc_error_errno(err, errno, "VM '%s': open %s", name, QC_VM_CONSOLE_LOG);
	if (fd < 0) {
		*ret = qc_xzalloc(sizeof(char *));
		return 0;
	}
	size = lseek(fd, 0, SEEK_END);
	if (size < 0)
		return qc_error_errno(err, errno, "VM '%s': %s", name, QC_VM_CONSOLE_LOG);
	got = pread(fd, buf, TAIL_BYTES, size > TAIL_BYTES ? size - TAIL_BYTES : 0);
	if (got < 0)
		return qc_error_errno(err, errno, "VM '%s': read %s", name, QC_VM_CONSOLE_LOG);
	len = (size_t) got;
	/* split on newlines; drop CR and other control bytes (escape sequences) */
	{
		struct qc_buf cur = {0};

		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char) buf[i];

			if (c == '\n') {
				qc_strv_push_take(&lines, qc_buf_steal(&cur));
				continue;
			}
			if (c == 0x1b && i + 1 < len && buf[i + 1] == '[') {
				/* a CSI escape sequence (the shell's cursor queries) */
				for (i += 2; i < len && !((buf[i] >= '@' && buf[i] <= '~')); i++)
					;
				continue;
			}
			if (c < 0x20 && c != '\t')
				continue;
			qc_buf_putc(&cur, (char) c);
		}
		if (cur.len)
			qc_strv_push_take(&lines, qc_buf_steal(&cur));
		free(cur.data);
	}
	cnt = lines.n;
	first = cnt > n ? cnt - n : 0;
	v = qc_xzalloc((cnt - first + 1) * sizeof(char *));
	for (i = first; i < cnt; i++) {
		v[i - first] = lines.v[i];
		lines.v[i] = NULL;
	}
	qc_strv_clear(&lines);
	*ret = v;
	return 0;
}
