/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The frame of every operation on one VM (driver/vmop.h): open + lock the
 * VM, read its state and domain, talk QMP, save the domain.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "driver/vmop.h"

static const char *const run_socks[] = {
	"qmp.sock", "events.sock", "serial.sock", "console.sock", "qga.sock"};

/* The sockets a dead monitor left behind. */
static void remove_stale_run_dir(const char *rdir)
{
	if (!rdir)
		return;
	for (size_t i = 0; i < QC_ARRAY_SIZE(run_socks); i++) {
		cleanup_free char *p = qc_xasprintf("%s/%s", rdir, run_socks[i]);

		(void) unlink(p);
	}
	(void) rmdir(rdir);
}

/* Persist the end of a run whose monitor died (op->live has it reconciled). */
static void record_end(struct qc_vmop *op)
{
	struct qc_state disk = {0};

	if (op->live.monitor_alive || op->live.st.exit_reason == QC_EXIT_NONE)
		return;
	/* Only when state.json still says running (reconciled in memory). */
	if (qc_state_load(op->dfd, &disk, NULL) == 0 && disk.running) {
		op->live.st.stopped_at_ms = qc_realtime_ms();
		(void) qc_state_save(op->dfd, &op->live.st, NULL);
		remove_stale_run_dir(op->live.st.run_dir);
	}
	qc_state_clear(&disk);
}

int qc_driver_vm_open(const qc_ctx *ctx, const char *name, int *ret_dfd, struct qc_error *err)
{
	cleanup_free char *dir = NULL;
	int fd, rc;

	if ((rc = qc_validate_name("VM", name, err)) < 0)
		return rc;
	dir = qc_driver_vm_dir(ctx, name);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int e = errno;

		if ((e == ENOTDIR || e == ELOOP) && qc_refuse_symlink(AT_FDCWD, dir, dir, err) < 0)
			return qc_error_prefix(err, "VM '%s'", name);
		if (e == ENOENT || e == ENOTDIR)
			return qc_error_set(err, QC_ERR_NOTFOUND,
				"VM '%s' does not exist (see 'qemuctl list')", name);
		return qc_error_errno(err, e, "VM '%s': open '%s'", name, dir);
	}
	/*
	 * Nothing in a VM's directory is a link: QEMU, qemu-img and the
	 * readers of domain.xml would follow one out of the state root.
	 */
	{
		cleanup_free char *link = NULL, *path = NULL;

		rc = qc_dir_find_symlink(fd, &link, err);
		if (rc > 0) {
			path = qc_xasprintf("%s/%s", dir, link);
			rc = qc_refuse_symlink(fd, link, path, err);
		}
		if (rc < 0) {
			close(fd);
			return qc_error_prefix(err, "VM '%s'", name);
		}
	}
	if (faccessat(fd, QC_VM_DOMAIN, F_OK, 0) < 0) {
		close(fd);
		return qc_error_set(err, QC_ERR_NOTFOUND,
			"VM '%s' does not exist (no domain.xml in '%s')", name, dir);
	}
	*ret_dfd = fd;
	return 0;
}

int qc_driver_vm_lock(
	int vm_dfd, const char *name, int timeout_ms, int *ret_fd, struct qc_error *err)
{
	cleanup_free char *what = qc_xasprintf("VM '%s'", name);
	cleanup_close int fd = -1;
	int rc;

	/*
	 * The lock file exists from create on: never create it here, or a
	 * waiter could put a file back into a directory a delete is removing.
	 */
	fd = openat(vm_dfd, QC_VM_LOCK, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0 && errno == ENOENT && faccessat(vm_dfd, QC_VM_DOMAIN, F_OK, 0) == 0)
		fd = openat(vm_dfd, QC_VM_LOCK,
			O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0 && errno == ENOENT)
		goto gone;
	if (fd < 0)
		return qc_error_errno(err, errno, "VM '%s': open lock file '%s'", name, QC_VM_LOCK);
	rc = qc_flock_timeout(fd, LOCK_EX, timeout_ms, what, err);
	if (rc == -QC_ERR_BUSY)
		return qc_error_set(err, QC_ERR_BUSY,
			"VM '%s' is busy: another qemuctl operation holds its lock "
			"(still held after %d s); retry when it finished",
			name, timeout_ms / 1000);
	if (rc < 0)
		return rc;
	/* A delete that held the lock meanwhile removed the directory we opened. */
	if (qc_driver_vm_gone(vm_dfd))
		goto gone;
	/* Every writer of the VM's files holds this lock: a killed one's temps can go. */
	(void) qc_sweep_temps(vm_dfd, NULL);
	*ret_fd = TAKE_FD(fd);
	return 0;
gone:
	return qc_driver_vm_gone_error(name, err);
}

/* ------------------------------------------------------ operation record */

/* Field 22 of /proc/PID/stat (start time in clock ticks since boot); 0 when gone or a zombie. */
static unsigned long long proc_start_time(pid_t pid)
{
	char path[40], buf[1024], state;
	unsigned long long t = 0;
	const char *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* comm may hold spaces and ')': the fields start after the last ')' */
	if (!(p = strrchr(buf, ')')) || sscanf(p + 1, " %c", &state) != 1 || state == 'Z' ||
		state == 'X')
		return 0;
	if (sscanf(p + 1,
		    " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
		    "%*d %*d %llu",
		    &t) != 1)
		return 0;
	return t;
}

/* "qc_vm_snapshot_create(_ex)": "snapshot create"; the frame helpers by what they do. */
static char *op_label(const char *what)
{
	static const char *const helpers[][2] = {{"start_op", "start"}, {"begin_detach", "detach"},
		{"begin_stopped", "delete"}, {"begin_on_snap", "snapshot"}, {"redefine", "define"}};
	char *s;

	for (size_t i = 0; i < QC_ARRAY_SIZE(helpers); i++)
		if (strcmp(what, helpers[i][0]) == 0)
			return qc_xstrdup(helpers[i][1]);
	s = qc_xstrdup(qc_str_has_prefix(what, "qc_vm_") ? what + 6 : what);
	/* qc_vm_snapshot_create_ex: the variant with options is the same operation */
	if (qc_str_has_suffix(s, "_ex"))
		s[strlen(s) - 3] = 0;
	for (char *c = s; *c; c++)
		if (*c == '_')
			*c = ' ';
	return s;
}

/* While the lock is held: what this process does to the VM, for list and info. */
static void record_write(struct qc_vmop *op, const char *what)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_free char *label = op_label(what), *text = NULL;
	size_t len;

	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "op", label);
	qc_jgen_kint(g, "pid", getpid());
	qc_jgen_kuint(g, "start_time", proc_start_time(getpid()));
	qc_jgen_kint(g, "since_ms", qc_realtime_ms());
	qc_jgen_map_close(g);
	if (qc_jgen_finish(g, &text, &len, NULL) == 0)
		(void) qc_write_atomic_at(
			op->dfd, QC_VM_OP_RECORD, text, len, 0600, QC_WRITE_NOSYNC, NULL);
}

int qc_vmop_record_read(int vm_dfd, char **ret_what, pid_t *ret_pid, int64_t *ret_since_ms)
{
	cleanup_free char *text = NULL;
	cleanup_json qc_json *j = NULL;
	const char *what;
	int64_t pid, since;
	struct stat st;
	uint64_t start;
	size_t len;

	/* Mostly there is none (list asks every VM): a failed fstatat costs half a failed open. */
	if (fstatat(vm_dfd, QC_VM_OP_RECORD, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		qc_read_file(vm_dfd, QC_VM_OP_RECORD, 4096, &text, &len, NULL) < 0 ||
		qc_json_parse(text, len, &j, NULL) < 0)
		return 0;
	what = qc_json_string(qc_json_get(j, "op"));
	if (!qc_driver_word_valid(what, ' ') || !qc_json_as_int(qc_json_get(j, "pid"), &pid) ||
		pid <= 0 || pid > INT32_MAX ||
		!qc_json_as_uint(qc_json_get(j, "start_time"), &start) || start == 0 ||
		!qc_json_as_int(qc_json_get(j, "since_ms"), &since) ||
		proc_start_time((pid_t) pid) != start)
		return 0;
	*ret_what = qc_xstrdup(what);
	*ret_pid = (pid_t) pid;
	*ret_since_ms = since;
	return 1;
}

/* The lock holder is done: no record outlives it (a killed one's is replaced by the next). */
static void record_remove(struct qc_vmop *op)
{
	if (op->lock_fd >= 0 && op->dfd >= 0)
		(void) unlinkat(op->dfd, QC_VM_OP_RECORD, 0);
}

/* ------------------------------------------------------------------ frame */

int qc_vmop_begin_wait_as(const char *what, qc_ctx *ctx, const char *name, unsigned flags,
	int lock_timeout_ms, struct qc_vmop *op, struct qc_error *err)
{
	int rc;

	*op = (struct qc_vmop){.ctx = ctx, .name = name, .dfd = -1, .lock_fd = -1};
	if ((rc = qc_driver_vm_open(ctx, name, &op->dfd, err)) < 0)
		return rc;
	if (!(flags & QC_VMOP_NO_LOCK) &&
		(rc = qc_driver_vm_lock(op->dfd, name, lock_timeout_ms, &op->lock_fd, err)) < 0)
		return rc;
	if (op->lock_fd >= 0)
		record_write(op, what);
	op->vm_dir = qc_driver_vm_dir(ctx, name);
	if (!(flags & QC_VMOP_NO_STATE) && (rc = qc_driver_live(op->dfd, &op->live, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	if (flags & QC_VMOP_RECORD_END)
		record_end(op);
	if ((flags & QC_VMOP_RUNNING) && !op->live.monitor_alive)
		return qc_error_set(err, QC_ERR_STATE, "VM '%s' is not running (state: %s)", name,
			qc_vm_state_name(op->live.state));
	if ((flags & (QC_VMOP_DOMAIN | QC_VMOP_SNAPS)) && (rc = qc_vmop_domain(op, err)) < 0)
		return rc;
	if ((flags & QC_VMOP_SNAPS) && (rc = qc_snaps_load(op->d, &op->snaps, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	return 0;
}

int qc_vmop_begin_as(const char *what, qc_ctx *ctx, const char *name, unsigned flags,
	struct qc_vmop *op, struct qc_error *err)
{
	return qc_vmop_begin_wait_as(what, ctx, name, flags,
		flags & QC_VMOP_LONG_LOCK ? QC_VMOP_LONG_LOCK_MS : QC_VMOP_LOCK_MS, op, err);
}

void qc_vmop_end(struct qc_vmop *op)
{
	qc_qmp_close(op->q);
	op->q = NULL;
	qc_snaps_clear(&op->snaps);
	qc_domain_free(op->d);
	op->d = NULL;
	record_remove(op);
	if (op->lock_fd >= 0)
		close(op->lock_fd);
	if (op->dfd >= 0)
		close(op->dfd);
	op->lock_fd = op->dfd = -1;
	qc_live_clear(&op->live);
	free(op->vm_dir);
	op->vm_dir = NULL;
}

void qc_vmop_unlock(struct qc_vmop *op)
{
	record_remove(op);
	if (op->lock_fd >= 0)
		close(op->lock_fd);
	op->lock_fd = -1;
}

int qc_vmop_domain(struct qc_vmop *op, struct qc_error *err)
{
	cleanup_free char *xml = qc_xasprintf("%s/%s", op->vm_dir, QC_VM_DOMAIN);
	int rc;

	if (op->d)
		return 0;
	if ((rc = qc_domain_load(xml, NULL, NULL, &op->d, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", op->name);
	return 0;
}

int qc_vmop_need_stopped(const struct qc_vmop *op, const char *how, struct qc_error *err)
{
	if (!op->live.monitor_alive)
		return 0;
	return qc_error_set(err, QC_ERR_STATE, "VM '%s' is running; %s", op->name, how);
}

int qc_vmop_qmp_connect(
	struct qc_vmop *op, int timeout_ms, struct qc_qmp **ret, struct qc_error *err)
{
	return qc_vmop_qmp_connect_all(op, NULL, 0, timeout_ms, ret, NULL, err);
}

int qc_vmop_qmp_connect_all(struct qc_vmop *op, const char *const *cmds, size_t n, int timeout_ms,
	struct qc_qmp **ret, qc_json **rets, struct qc_error *err)
{
	int rc;

	if (!op->live.st.run_dir)
		return qc_error_set(
			err, QC_ERR_STATE, "VM '%s': state.json names no runtime dir", op->name);
	if ((rc = qc_driver_run_qmp_all(op->live.st.run_dir, cmds, n, timeout_ms, ret, rets, err)) <
		0)
		return qc_error_prefix(err, "VM '%s'", op->name);
	return 0;
}

int qc_vmop_qmp(struct qc_vmop *op, struct qc_error *err)
{
	if (op->q)
		return 0;
	if (!op->live.monitor_alive)
		return qc_error_set(err, QC_ERR_STATE, "VM '%s' is not running", op->name);
	return qc_vmop_qmp_connect(op, QC_VMOP_QMP_TIMEOUT_MS, &op->q, err);
}

int qc_vmop_execute(struct qc_vmop *op, const char *cmd, struct qc_jgen *g, struct qc_error *err)
{
	cleanup_free char *args = NULL;
	int rc;

	if ((rc = qc_jgen_finish(g, &args, NULL, err)) < 0)
		return rc;
	return qc_qmp_execute_text(op->q, cmd, args, QC_VMOP_QMP_TIMEOUT_MS, NULL, err);
}

int qc_vmop_save(struct qc_vmop *op, struct qc_error *err)
{
	int rc;

	long line;

	qc_snaps_store(op->d, &op->snaps);
	/* what the next load checks: a definition it would refuse is never written */
	if ((rc = qc_domain_validate(op->d, err)) < 0 ||
		(rc = qc_domain_check_owned(op->d, qc_ctx_root(op->ctx), err)) < 0 ||
		(rc = qc_domain_check_snapshots(op->d, qc_ctx_root(op->ctx), &line, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", op->name);
	if ((rc = qc_domain_save(op->d, op->dfd, QC_VM_DOMAIN, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", op->name);
	qc_driver_summary_save(op->dfd, op->d);
	return 0;
}

void qc_vmop_test_hold(struct qc_vmop *op, const char *point)
{
	qc_vmop_test_hold_signal(op, point, NULL);
}

void qc_vmop_test_hold_signal(
	struct qc_vmop *op, const char *point, const volatile sig_atomic_t *flag)
{
	const char *env = getenv("QEMUCTL_TEST_HOLD");
	struct timespec ts = {.tv_nsec = 100 * 1000 * 1000};
	cleanup_free char *f = NULL;
	sigset_t block, old;

	qc_fault_stepf("%s", point);
	if (!env || strcmp(env, point) != 0)
		return;
	f = qc_xasprintf(".hold-%s", point);
	/* a signal sent once the file is there ends the hold (its handler ran) */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	(void) qc_write_atomic(op->dfd, f, "", 0, 0600, NULL);
	/* held until a signal, the file's removal or 60 s */
	for (int i = 0; i < 600 && (!flag || !*flag); i++)
		if (ppoll(NULL, 0, &ts, &old) < 0 || faccessat(op->dfd, f, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
			break;
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int qc_vmop_top_node(
	struct qc_vmop *op, size_t i, char **ret_node, char **ret_file, struct qc_error *err)
{
	char fmt[32], file[32], dev[80];
	cleanup_json qc_json *r = NULL;
	cleanup_free char *suffix = NULL;
	int rc;

	qc_argv_disk_ids(op->d, i, fmt, file, dev);
	if ((rc = qc_vmop_qmp(op, err)) < 0)
		return rc;
	if ((rc = qc_qmp_execute(op->q, "query-block", NULL, QC_VMOP_QMP_TIMEOUT_MS, &r, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", op->name);
	suffix = qc_xasprintf("/%s/", dev);
	for (size_t k = 0; k < qc_json_len(r); k++) {
		const qc_json *b = qc_json_at(r, k);
		const char *qdev = qc_json_string(qc_json_get(b, "qdev"));
		const char *node = qc_json_string(qc_json_path(b, "inserted/node-name"));
		const char *f = qc_json_string(qc_json_path(b, "inserted/file"));

		if (!qdev || !node || (strcmp(qdev, dev) != 0 && !strstr(qdev, suffix)))
			continue;
		if (ret_node)
			*ret_node = qc_xstrdup(node);
		if (ret_file)
			*ret_file = f ? qc_xstrdup(f) : NULL;
		return 0;
	}
	return qc_error_set(err, QC_ERR_NOTFOUND,
		"VM '%s': QEMU has no block device '%s' (disk '%s')", op->name, dev,
		op->d->disks[i].name);
}
