/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * state.json: what the last start of a VM did and how it ended, and the
 * VM's effective state: that record reconciled with liveness (the
 * monitor's lock).  Linked into qemuctl-monitor too, so this file depends
 * on util/ only.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "driver/driver.h"

static const char *const reason_names[] = {
	[QC_EXIT_NONE] = "none",
	[QC_EXIT_POWEROFF] = "poweroff",
	[QC_EXIT_QUIT] = "quit",
	[QC_EXIT_HOST_SIGNAL] = "host-signal",
	[QC_EXIT_CRASHED] = "crashed",
	[QC_EXIT_KILLED] = "killed",
	[QC_EXIT_MONITOR_DIED] = "monitor-died",
	[QC_EXIT_START_FAILED] = "start-failed",
	[QC_EXIT_HOST_REBOOT] = "host-reboot",
	[QC_EXIT_EXITED] = "exited",
	[QC_EXIT_SAVED] = "saved",
	[QC_EXIT_MIGRATED] = "migrated",
};
QC_TABLE_COVERS(reason_names, QC_EXIT_REASON_COUNT);

const char *qc_exit_reason_name(enum qc_exit_reason r)
{
	return QC_NAME_OF(reason_names, r, "unknown");
}

enum qc_exit_reason qc_exit_reason_from_name(const char *s)
{
	size_t i;

	for (i = 0; s && i < QC_ARRAY_SIZE(reason_names); i++)
		if (reason_names[i] && strcmp(reason_names[i], s) == 0)
			return (enum qc_exit_reason) i;
	return QC_EXIT_NONE;
}

void qc_state_clear(struct qc_state *s)
{
	qc_free_all(s->accel, s->accel_why, s->run_dir, s->qemu_binary, s->ports, s->exit_detail,
		s->boot_failure, s->qemu_status);
	qc_run_devices_free(s->devices);
	memset(s, 0, sizeof(*s));
	s->exit_status = -1;
}

void qc_state_clearp(struct qc_state *s)
{
	qc_state_clear(s);
}

void qc_state_boot_id(char *buf, size_t size)
{
	cleanup_free char *text = NULL;
	size_t n;

	buf[0] = 0;
	if (qc_read_file(AT_FDCWD, "/proc/sys/kernel/random/boot_id", 4096, &text, &n, NULL) < 0)
		return;
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
		text[--n] = 0;
	snprintf(buf, size, "%s", text);
}

void qc_state_run_id(const char *vm_dir, char out[17])
{
	/* FNV-1a 64: only needs to spread paths, not resist attackers. */
	uint64_t h = 0xcbf29ce484222325ull;
	const unsigned char *p;

	for (p = (const unsigned char *) vm_dir; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	snprintf(out, 17, "%016llx", (unsigned long long) h);
}

static void kstr(struct qc_jgen *g, const char *key, const char *v)
{
	if (v)
		qc_jgen_kstring(g, key, v);
}

int qc_state_to_json(const struct qc_state *s, char **ret, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(true);
	size_t i;

	qc_jgen_map_open(g);
	qc_jgen_kbool(g, "running", s->running);
	qc_jgen_kstring(g, "boot_id", s->boot_id);
	qc_jgen_kint(g, "monitor_pid", s->monitor_pid);
	qc_jgen_kint(g, "qemu_pid", s->qemu_pid);
	qc_jgen_kint(g, "started_at_ms", s->started_at_ms);
	qc_jgen_kint(g, "stopped_at_ms", s->stopped_at_ms);
	kstr(g, "accel", s->accel);
	kstr(g, "accel_why", s->accel_why);
	kstr(g, "run_dir", s->run_dir);
	kstr(g, "qemu_binary", s->qemu_binary);
	kstr(g, "qemu_status", s->qemu_status);
	qc_jgen_key(g, "ports");
	qc_jgen_array_open(g);
	for (i = 0; i < s->n_ports; i++)
		qc_jgen_uint(g, s->ports[i]);
	qc_jgen_array_close(g);
	qc_jgen_key(g, "last_exit");
	if (s->exit_reason == QC_EXIT_NONE) {
		qc_jgen_null(g);
	} else {
		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "reason", qc_exit_reason_name(s->exit_reason));
		kstr(g, "detail", s->exit_detail);
		qc_jgen_kint(g, "status", s->exit_status);
		qc_jgen_map_close(g);
	}
	qc_jgen_key(g, "ready");
	if (!s->ready) {
		qc_jgen_null(g);
	} else {
		qc_jgen_map_open(g);
		qc_jgen_kint(g, "after_ms", s->ready_after_ms);
		qc_jgen_kint(g, "at_ms", s->ready_at_ms);
		qc_jgen_map_close(g);
	}
	kstr(g, "boot_failure", s->boot_failure);
	if (s->devices) {
		qc_jgen_key(g, "devices");
		qc_run_devices_to_jgen(g, s->devices);
	}
	qc_jgen_map_close(g);
	return qc_jgen_finish(g, ret, NULL, err);
}

static char *opt_string(const qc_json *j, const char *key)
{
	const char *s = qc_json_string(qc_json_get(j, key));

	return s ? qc_xstrdup(s) : NULL;
}

static int64_t opt_int(const qc_json *j, const char *key, int64_t def)
{
	int64_t v;

	return qc_json_as_int(qc_json_get(j, key), &v) ? v : def;
}

int qc_state_from_json(const char *text, size_t len, struct qc_state *ret, struct qc_error *err)
{
	cleanup_json qc_json *j = NULL;
	struct qc_state s = {.exit_status = -1};
	const qc_json *ports, *ex;
	const char *bid;
	bool b = false;
	size_t i;
	int rc;

	if ((rc = qc_json_parse(text, len, &j, err)) < 0)
		return rc;
	if (qc_json_type(j) != QC_JSON_OBJECT)
		return qc_error_set(err, QC_ERR_JSON, "not a JSON object");
	if (qc_json_as_bool(qc_json_get(j, "running"), &b))
		s.running = b;
	bid = qc_json_string(qc_json_get(j, "boot_id"));
	snprintf(s.boot_id, sizeof(s.boot_id), "%s", bid ? bid : "");
	s.monitor_pid = (pid_t) opt_int(j, "monitor_pid", 0);
	s.qemu_pid = (pid_t) opt_int(j, "qemu_pid", 0);
	s.started_at_ms = opt_int(j, "started_at_ms", 0);
	s.stopped_at_ms = opt_int(j, "stopped_at_ms", 0);
	s.accel = opt_string(j, "accel");
	s.accel_why = opt_string(j, "accel_why");
	s.run_dir = opt_string(j, "run_dir");
	s.qemu_binary = opt_string(j, "qemu_binary");
	s.qemu_status = opt_string(j, "qemu_status");
	if (s.qemu_status && !qc_state_status_valid(s.qemu_status)) {
		free(s.qemu_status);
		s.qemu_status = NULL;
	}
	ports = qc_json_get(j, "ports");
	if (ports && qc_json_type(ports) == QC_JSON_ARRAY && qc_json_len(ports) > 0) {
		s.ports = qc_xzalloc(qc_json_len(ports) * sizeof(*s.ports));
		for (i = 0; i < qc_json_len(ports); i++) {
			uint64_t v;

			if (qc_json_as_uint(qc_json_at(ports, i), &v) && v < 65536)
				s.ports[s.n_ports++] = (unsigned) v;
		}
	}
	ex = qc_json_get(j, "last_exit");
	if (ex && qc_json_type(ex) == QC_JSON_OBJECT) {
		s.exit_reason = qc_exit_reason_from_name(qc_json_string(qc_json_get(ex, "reason")));
		s.exit_detail = opt_string(ex, "detail");
		s.exit_status = (int) opt_int(ex, "status", -1);
	}
	ex = qc_json_get(j, "ready");
	if (ex && qc_json_type(ex) == QC_JSON_OBJECT) {
		s.ready = true;
		s.ready_after_ms = opt_int(ex, "after_ms", 0);
		s.ready_at_ms = opt_int(ex, "at_ms", 0);
	}
	s.boot_failure = opt_string(j, "boot_failure");
	/* devices that fail a check are dropped: their readers fall back to domain.xml */
	if ((ex = qc_json_get(j, "devices")) && qc_run_devices_from_json(ex, &s.devices, NULL) < 0)
		s.devices = NULL;
	*ret = s;
	return 0;
}

int qc_state_load(int vm_dfd, struct qc_state *ret, struct qc_error *err)
{
	cleanup_free char *text = NULL;
	size_t len;
	int rc;

	/*
	 * No state.json (a VM that never ran) is common, list meets it once per
	 * VM: no message is made for it; another failure is read again for its.
	 */
	rc = qc_read_file(vm_dfd, QC_VM_STATE, 1 << 20, &text, &len, NULL);
	if (rc < 0 && rc != -ENOENT)
		rc = qc_read_file(vm_dfd, QC_VM_STATE, 1 << 20, &text, &len, err);
	if (rc == -ENOENT) {
		qc_error_clear(err);
		memset(ret, 0, sizeof(*ret));
		ret->exit_status = -1;
		return 0;
	}
	if (rc < 0)
		return rc;
	if ((rc = qc_state_from_json(text, len, ret, err)) < 0)
		return qc_error_prefix(err, "state.json");
	ret->on_disk = true;
	return 0;
}

/*
 * s as JSON and a newline to <vm>/state.json; durable: fsync'd.  The
 * monitor's writes sit on the critical path of start and destroy, so they
 * are atomic (temp + rename) but not fsync'ed: after a host crash the boot
 * id tells a stale "running" apart anyway, and a lost exit reason is the
 * worst case.
 */
static int state_write(int vm_dfd, const struct qc_state *s, bool durable, struct qc_error *err)
{
	cleanup_free char *text = NULL;
	size_t len;
	int rc;

	if ((rc = qc_state_to_json(s, &text, err)) < 0)
		return rc;
	len = strlen(text);
	text = qc_xrealloc(text, len + 2);
	text[len++] = '\n';
	text[len] = 0;
	return qc_write_atomic_at(
		vm_dfd, QC_VM_STATE, text, len, 0600, durable ? 0 : QC_WRITE_NOSYNC, err);
}

int qc_state_save_nosync(int vm_dfd, const struct qc_state *s, struct qc_error *err)
{
	return state_write(vm_dfd, s, false, err);
}

int qc_state_save(int vm_dfd, const struct qc_state *s, struct qc_error *err)
{
	return state_write(vm_dfd, s, true, err);
}

/*
 * state.json has two writers while a VM runs: the monitor (first boot done,
 * exit) and a live hot-plug (the run's host ports).  Each writes under an
 * flock on the VM directory (its own open file description, so no file
 * is added), held only for a read and a rename; a writer that cannot get
 * it within STATE_LOCK_MS writes anyway, as before the lock existed.
 */
#define STATE_LOCK_MS 2000

static int state_lock(int vm_dfd, struct qc_error *err)
{
	int fd = openat(vm_dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return qc_error_errno(err, errno, "state.json: open the VM directory");
	if ((r = qc_flock_timeout(fd, LOCK_EX, STATE_LOCK_MS, "state.json", err)) < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int qc_state_save_run(int vm_dfd, struct qc_state *s, struct qc_error *err)
{
	cleanup_state struct qc_state disk = {0};
	int lock = state_lock(vm_dfd, NULL), r;

	/* The same run on disk: its ports may have changed by a hot-plug since. */
	if (qc_state_load(vm_dfd, &disk, NULL) == 0 && disk.running &&
		disk.monitor_pid == s->monitor_pid && disk.started_at_ms == s->started_at_ms) {
		free(s->ports);
		s->ports = TAKE_PTR(disk.ports);
		s->n_ports = disk.n_ports;
		disk.n_ports = 0;
		/* and its run state, by qc_state_publish_status() */
		if (disk.qemu_status) {
			free(s->qemu_status);
			s->qemu_status = TAKE_PTR(disk.qemu_status);
		}
		/* and its devices, by qc_state_edit_devices() */
		qc_run_devices_free(s->devices);
		s->devices = TAKE_PTR(disk.devices);
	}
	r = qc_state_save_nosync(vm_dfd, s, err);
	if (lock >= 0)
		close(lock);
	return r;
}

int qc_state_publish_status(int vm_dfd, pid_t monitor_pid, int64_t started_at_ms,
	int (*query)(void *qctx, char **ret_status), void *qctx)
{
	cleanup_state struct qc_state st = {0};
	cleanup_free char *status = NULL;
	int lock = state_lock(vm_dfd, NULL), r;

	if ((r = query(qctx, &status)) < 0 || !qc_state_status_valid(status))
		goto out;
	if ((r = qc_state_load(vm_dfd, &st, NULL)) < 0 || !st.running ||
		st.monitor_pid != monitor_pid || st.started_at_ms != started_at_ms)
		goto out; /* another run, or none: not ours to describe */
	if (st.qemu_status && strcmp(st.qemu_status, status) == 0)
		goto out;
	free(st.qemu_status);
	st.qemu_status = TAKE_PTR(status);
	r = qc_state_save_nosync(vm_dfd, &st, NULL);
out:
	if (lock >= 0)
		close(lock);
	return r < 0 ? r : 0;
}

bool qc_driver_word_valid(const char *s, char also)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == also))
			return false;
	return true;
}

bool qc_state_status_valid(const char *s)
{
	return qc_driver_word_valid(s, '-');
}

void qc_state_ports_splice(const unsigned *v, size_t n, size_t at, size_t n_del,
	const unsigned *ins, size_t n_ins, unsigned **ret, size_t *ret_n)
{
	size_t len = at > n ? at : n, tail;
	unsigned *o;

	/* A shorter list (a run whose ports were not all known) is padded with zeros. */
	if (n_del > len - at)
		n_del = len - at;
	tail = len - at - n_del;
	o = qc_xzalloc(sizeof(*o) * (len - n_del + n_ins + 1));
	if (n)
		memcpy(o, v, sizeof(*o) * (at < n ? at : n));
	if (n_ins)
		memcpy(o + at, ins, sizeof(*o) * n_ins);
	if (tail)
		memcpy(o + at + n_ins, v + at + n_del, sizeof(*o) * tail);
	*ret = o;
	*ret_n = len - n_del + n_ins;
}

int qc_state_splice_ports(int vm_dfd, size_t at, size_t n_del, const unsigned *ins, size_t n_ins,
	struct qc_error *err)
{
	cleanup_state struct qc_state st = {0};
	unsigned *v;
	size_t n;
	int lock, r;

	if ((lock = state_lock(vm_dfd, err)) < 0)
		return lock;
	if ((r = qc_state_load(vm_dfd, &st, err)) < 0 || !st.running)
		goto out; /* not running: the ports of a run that ended are moot */
	qc_state_ports_splice(st.ports, st.n_ports, at, n_del, ins, n_ins, &v, &n);
	free(st.ports);
	st.ports = v;
	st.n_ports = n;
	r = qc_state_save_nosync(vm_dfd, &st, err);
out:
	close(lock);
	return r;
}

int qc_state_edit_devices(int vm_dfd, pid_t monitor_pid, int64_t started_at_ms,
	const struct qc_state_device_edit *e, struct qc_error *err)
{
	cleanup_state struct qc_state st = {0};
	int lock, r;

	if ((lock = state_lock(vm_dfd, err)) < 0)
		return lock;
	if ((r = qc_state_load(vm_dfd, &st, err)) < 0 || !st.running || !st.devices ||
		st.monitor_pid != monitor_pid || st.started_at_ms != started_at_ms)
		goto out; /* another run, or none, or no devices to keep current */
	if (!e->add)
		(void) qc_run_devices_remove(st.devices, e->nic, e->name);
	else if (e->nic)
		r = qc_run_devices_add_nic(st.devices, e->name, e->type, e->tap, e->mac, err);
	else
		r = qc_run_devices_add_disk(st.devices, e->name, e->device, err);
	if (r == 0)
		r = qc_state_save_nosync(vm_dfd, &st, err);
out:
	close(lock);
	return r;
}

/* ---------------------------------------------------------------- liveness */

QC_PUBLIC const char *qc_vm_state_name(enum qc_vm_state s)
{
	switch (s) {
	case QC_VM_STOPPED:
		return "stopped";
	case QC_VM_RUNNING:
		return "running";
	case QC_VM_PAUSED:
		return "paused";
	case QC_VM_CRASHED:
		return "crashed";
	}
	return "unknown";
}

void qc_live_clear(struct qc_live *l)
{
	qc_state_clear(&l->st);
}

int qc_driver_live(int vm_dfd, struct qc_live *ret, struct qc_error *err)
{
	struct qc_live l = {0};
	char boot[40];
	int rc;

	/*
	 * The lock first: a monitor writes its last state.json before its exit
	 * drops the lock, so a released lock means state.json is final.  (Read
	 * first, a run ending in between looked like a monitor that died.)
	 */
	l.monitor_alive = qc_lock_is_held(vm_dfd, QC_VM_MONITOR_LOCK) == 1;
	if ((rc = qc_state_load(vm_dfd, &l.st, err)) < 0)
		return rc;
	if (l.monitor_alive) {
		l.state = QC_VM_RUNNING;
		*ret = l;
		return 0;
	}
	if (l.st.running) {
		/* Marked running, but no monitor: the host rebooted, or the monitor died. */
		qc_state_boot_id(boot, sizeof(boot));
		l.st.running = false;
		free(l.st.exit_detail);
		if (l.st.boot_id[0] && boot[0] && strcmp(boot, l.st.boot_id) != 0) {
			l.st.exit_reason = QC_EXIT_HOST_REBOOT;
			l.st.exit_detail = qc_xstrdup("the host rebooted while the VM ran");
		} else {
			l.st.exit_reason = QC_EXIT_MONITOR_DIED;
			l.st.exit_detail = qc_xstrdup(
				"qemuctl-monitor died; QEMU was killed with it (PR_SET_PDEATHSIG)");
		}
	}
	l.state = (l.st.exit_reason == QC_EXIT_CRASHED || l.st.exit_reason == QC_EXIT_MONITOR_DIED)
			  ? QC_VM_CRASHED
			  : QC_VM_STOPPED;
	*ret = l;
	return 0;
}
