/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* driver/state.c and the liveness rules of driver/query.c. */
#include "config.h"

#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "driver/driver.h"
#include "driver/vmop.h"
#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"

static struct qc_state sample(void)
{
	struct qc_state s = {0};

	s.running = true;
	snprintf(s.boot_id, sizeof(s.boot_id), "0ede6603-3baa-470e-9cf0-8435d8f5ea32");
	s.monitor_pid = 100;
	s.qemu_pid = 101;
	s.started_at_ms = 1795594748311;
	s.accel = qc_xstrdup("tcg");
	s.accel_why = qc_xstrdup("KVM not usable: the CPU has no vmx/svm");
	s.run_dir = qc_xstrdup("/run/qemuctl/0123456789abcdef");
	s.qemu_binary = qc_xstrdup("qemu-system-x86_64");
	s.ports = qc_xzalloc(2 * sizeof(unsigned));
	s.ports[0] = 2222;
	s.ports[1] = 8080;
	s.n_ports = 2;
	s.exit_status = -1;
	return s;
}

/* The end of a test in a VM directory: clear its state, close and remove the dir. */
static void state_dir_done(struct qc_state *s, int dfd, char *dir)
{
	qc_state_clear(s);
	close(dfd);
	unit_rmdir(dir);
}

START_TEST(state_roundtrip)
{
	struct qc_state s = sample(), t = {0};
	struct qc_error err = {0};
	cleanup_free char *text = NULL;

	s.exit_reason = QC_EXIT_CRASHED;
	s.exit_detail = qc_xstrdup("signal 9 (Killed)");
	s.exit_status = 9;
	ck_assert_qc_ok(qc_state_to_json(&s, &text, &err), &err);
	ck_assert_qc_ok(qc_state_from_json(text, strlen(text), &t, &err), &err);
	ck_assert(t.running);
	ck_assert_str_eq(t.boot_id, s.boot_id);
	ck_assert_int_eq(t.monitor_pid, 100);
	ck_assert_int_eq(t.qemu_pid, 101);
	ck_assert_int_eq(t.started_at_ms, 1795594748311);
	ck_assert_str_eq(t.accel, "tcg");
	ck_assert_str_eq(t.accel_why, s.accel_why);
	ck_assert_str_eq(t.run_dir, s.run_dir);
	ck_assert_int_eq(t.n_ports, 2);
	ck_assert_uint_eq(t.ports[1], 8080);
	ck_assert_int_eq(t.exit_reason, QC_EXIT_CRASHED);
	ck_assert_str_eq(t.exit_detail, "signal 9 (Killed)");
	ck_assert_int_eq(t.exit_status, 9);
	qc_state_clear(&s);
	qc_state_clear(&t);
}
END_TEST

START_TEST(state_bad_json)
{
	struct qc_state t = {0};
	struct qc_error err = {0};

	ck_assert_qc_fail(
		qc_state_from_json("{\"running\": tru", 15, &t, &err), &err, QC_ERR_JSON, NULL);
	ck_assert_qc_fail(qc_state_from_json("[1]", 3, &t, &err), &err, QC_ERR_JSON, "object");
}
END_TEST

START_TEST(state_reason_names)
{
	int r;

	/* every reason has its own name: a hole in the table is caught here */
	for (r = QC_EXIT_NONE; r < QC_EXIT_REASON_COUNT; r++)
		ck_assert_int_eq(qc_exit_reason_from_name(qc_exit_reason_name(r)), r);
	ck_assert_str_eq(qc_exit_reason_name(QC_EXIT_POWEROFF), "poweroff");
	ck_assert_str_eq(qc_exit_reason_name(QC_EXIT_MIGRATED), "migrated");
	ck_assert_str_eq(qc_exit_reason_name(QC_EXIT_MONITOR_DIED), "monitor-died");
	ck_assert_int_eq(qc_exit_reason_from_name("bogus"), QC_EXIT_NONE);
	ck_assert_int_eq(qc_exit_reason_from_name(NULL), QC_EXIT_NONE);
}
END_TEST

START_TEST(state_file_atomic)
{
	char *dir = unit_mkdtemp();
	struct qc_state s = sample(), t = {0};
	struct qc_error err = {0};
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;

	/* Missing file: never ran. */
	ck_assert_qc_ok(qc_state_load(dfd, &t, &err), &err);
	ck_assert(!t.running);
	ck_assert_int_eq(t.exit_reason, QC_EXIT_NONE);
	ck_assert_qc_ok(qc_state_save(dfd, &s, &err), &err);
	ck_assert_int_eq(fstatat(dfd, QC_VM_STATE, &st, 0), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_qc_ok(qc_state_load(dfd, &t, &err), &err);
	ck_assert_int_eq(t.qemu_pid, 101);
	qc_state_clear(&t);
	/* A corrupt file is an error naming state.json, not a silent "stopped". */
	ck_assert_int_eq(qc_write_atomic(dfd, QC_VM_STATE, "{", 1, 0600, &err), 0);
	ck_assert_qc_fail(qc_state_load(dfd, &t, &err), &err, QC_ERR_JSON, "state.json");
	state_dir_done(&s, dfd, dir);
}
END_TEST

static void ck_ports(const unsigned *v, size_t n, const unsigned *want, size_t n_want)
{
	ck_assert_uint_eq(n, n_want);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(v[i], want[i]);
}

/* Hot-plug: a NIC's forwards go in and out of the flat port list at their index. */
START_TEST(state_ports_splice)
{
	static const unsigned base[] = {2222, 8080, 9090}, ins[] = {5555, 6666};
	unsigned *v;
	size_t n;

	qc_state_ports_splice(base, 3, 3, 0, ins, 2, &v, &n); /* appended */
	ck_ports(v, n, (const unsigned[]){2222, 8080, 9090, 5555, 6666}, 5);
	free(v);
	qc_state_ports_splice(base, 3, 1, 0, ins, 1, &v, &n); /* in the middle */
	ck_ports(v, n, (const unsigned[]){2222, 5555, 8080, 9090}, 4);
	free(v);
	qc_state_ports_splice(base, 3, 1, 1, NULL, 0, &v, &n); /* detached */
	ck_ports(v, n, (const unsigned[]){2222, 9090}, 2);
	free(v);
	qc_state_ports_splice(base, 3, 2, 5, NULL, 0, &v, &n); /* clipped */
	ck_ports(v, n, (const unsigned[]){2222, 8080}, 2);
	free(v);
	qc_state_ports_splice(NULL, 0, 2, 0, ins, 1, &v, &n); /* padded */
	ck_ports(v, n, (const unsigned[]){0, 0, 5555}, 3);
	free(v);
	qc_state_ports_splice(base, 3, 0, 3, NULL, 0, &v, &n); /* the only NIC */
	ck_assert_uint_eq(n, 0);
	free(v);
}
END_TEST

/* The monitor's later writes (ready, exit) keep the ports a hot-plug recorded. */
START_TEST(state_splice_file)
{
	char *dir = unit_mkdtemp();
	struct qc_state s = sample(), t = {0};
	struct qc_error err = {0};
	static const unsigned p[] = {5555};
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_qc_ok(qc_state_save_nosync(dfd, &s, &err), &err);
	ck_assert_qc_ok(qc_state_splice_ports(dfd, 2, 0, p, 1, &err), &err);
	s.ready = true; /* the monitor's in-memory state still has 2 ports */
	ck_assert_qc_ok(qc_state_save_run(dfd, &s, &err), &err);
	ck_ports(s.ports, s.n_ports, (const unsigned[]){2222, 8080, 5555}, 3);
	ck_assert_qc_ok(qc_state_load(dfd, &t, &err), &err);
	ck_assert(t.ready);
	ck_ports(t.ports, t.n_ports, (const unsigned[]){2222, 8080, 5555}, 3);
	qc_state_clear(&t);
	ck_assert_qc_ok(qc_state_splice_ports(dfd, 0, 2, NULL, 0, &err), &err);
	ck_assert_qc_ok(qc_state_load(dfd, &t, &err), &err);
	ck_ports(t.ports, t.n_ports, (const unsigned[]){5555}, 1);
	qc_state_clear(&t);
	/* Another run's state (a new start): the monitor's own ports win. */
	s.started_at_ms++;
	ck_assert_qc_ok(qc_state_save_run(dfd, &s, &err), &err);
	ck_assert_qc_ok(qc_state_load(dfd, &t, &err), &err);
	ck_assert_uint_eq(t.n_ports, 3);
	qc_state_clear(&t);
	/* A run that ended: nothing to record. */
	s.running = false;
	ck_assert_qc_ok(qc_state_save_nosync(dfd, &s, &err), &err);
	ck_assert_qc_ok(qc_state_splice_ports(dfd, 0, 3, NULL, 0, &err), &err);
	ck_assert_qc_ok(qc_state_load(dfd, &t, &err), &err);
	ck_assert_uint_eq(t.n_ports, 3);
	qc_state_clear(&t);
	state_dir_done(&s, dfd, dir);
}
END_TEST

START_TEST(state_run_id)
{
	char a[17], b[17], c[17];

	qc_state_run_id("/var/lib/qemuctl/vms/web", a);
	qc_state_run_id("/var/lib/qemuctl/vms/web", b);
	qc_state_run_id("/var/lib/qemuctl/vms/web2", c);
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	ck_assert_int_eq(strlen(a), 16);
}
END_TEST

/* Liveness: the monitor's lock, never the pid in state.json. */
START_TEST(live_reconcile)
{
	char *dir = unit_mkdtemp();
	struct qc_state s = sample();
	struct qc_error err = {0};
	struct qc_live l;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int p[2];
	pid_t child;
	char c;

	/* Running in this boot, lock free: the monitor died. */
	qc_state_boot_id(s.boot_id, sizeof(s.boot_id));
	ck_assert(s.boot_id[0]);
	s.monitor_pid = getpid(); /* a live pid must not fool it */
	ck_assert_qc_ok(qc_state_save(dfd, &s, &err), &err);
	ck_assert_qc_ok(qc_driver_live(dfd, &l, &err), &err);
	ck_assert(!l.monitor_alive);
	ck_assert_int_eq(l.state, QC_VM_CRASHED);
	ck_assert_int_eq(l.st.exit_reason, QC_EXIT_MONITOR_DIED);
	qc_live_clear(&l);

	/* Running in an earlier boot: stopped by the host's reboot. */
	snprintf(s.boot_id, sizeof(s.boot_id), "00000000-0000-0000-0000-000000000000");
	ck_assert_qc_ok(qc_state_save(dfd, &s, &err), &err);
	ck_assert_qc_ok(qc_driver_live(dfd, &l, &err), &err);
	ck_assert_int_eq(l.state, QC_VM_STOPPED);
	ck_assert_int_eq(l.st.exit_reason, QC_EXIT_HOST_REBOOT);
	qc_live_clear(&l);

	/* Another process holds monitor.lock: running, whatever the file says. */
	s.running = false;
	s.exit_reason = QC_EXIT_POWEROFF;
	ck_assert_qc_ok(qc_state_save(dfd, &s, &err), &err);
	ck_assert_int_eq(pipe(p), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		int fd = -1;

		if (qc_lock_open(dfd, QC_VM_MONITOR_LOCK, LOCK_EX, 0, "m", &fd, NULL) < 0)
			_exit(1);
		(void) write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_qc_ok(qc_driver_live(dfd, &l, &err), &err);
	ck_assert(l.monitor_alive);
	ck_assert_int_eq(l.state, QC_VM_RUNNING);
	qc_live_clear(&l);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	ck_assert_qc_ok(qc_driver_live(dfd, &l, &err), &err);
	ck_assert(!l.monitor_alive);
	ck_assert_int_eq(l.state, QC_VM_STOPPED);
	ck_assert_int_eq(l.st.exit_reason, QC_EXIT_POWEROFF);
	qc_live_clear(&l);
	close(p[0]);
	close(p[1]);
	state_dir_done(&s, dfd, dir);
}
END_TEST

/* /proc/PID/stat: the parent pid after the last ')' (comm may hold both). */
START_TEST(proc_stat_ppid)
{
	pid_t pp = -1;

	ck_assert_int_eq(qc_driver_proc_stat_ppid("123 (qemu) S 45 123 123 0 -1", &pp), 0);
	ck_assert_int_eq(pp, 45);
	ck_assert_int_eq(qc_driver_proc_stat_ppid("7 (a) b) 9 (c) R 1 7 7", &pp), 0);
	ck_assert_int_eq(pp, 1);
	ck_assert_int_eq(qc_driver_proc_stat_ppid("7 (x", &pp), -EINVAL);
	ck_assert_int_eq(qc_driver_proc_stat_ppid("7 (x) S", &pp), -EINVAL);
	ck_assert_int_eq(qc_driver_proc_stat_ppid("", &pp), -EINVAL);
}
END_TEST

/*
 * A pid from state.json is the monitor only while it holds monitor.lock
 * open and the lock is held; QEMU only as that monitor's child.
 */
START_TEST(pid_proof)
{
	char *dir = unit_mkdtemp();
	struct qc_state s = sample();
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int p[2], fd = 7, mfd = -1;
	pid_t mon, kid = -1, other;

	ck_assert_int_eq(pipe(p), 0);
	mon = fork();
	ck_assert_int_ge(mon, 0);
	if (mon == 0) {
		int lfd = -1;
		pid_t k;

		if (qc_lock_open(dfd, QC_VM_MONITOR_LOCK, LOCK_EX, 0, "m", &lfd, NULL) < 0)
			_exit(1);
		k = fork(); /* "QEMU" */
		if (k == 0) {
			close(lfd);
			pause();
			_exit(0);
		}
		(void) !write(p[1], &k, sizeof(k));
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(p[0], &kid, sizeof(kid)), (ssize_t) sizeof(kid));
	other = fork(); /* an unrelated process */
	ck_assert_int_ge(other, 0);
	if (other == 0) {
		pause();
		_exit(0);
	}
	s.monitor_pid = mon;
	s.qemu_pid = kid;
	ck_assert_int_eq(qc_driver_monitor_proven(dfd, &s, &mfd), 1);
	ck_assert_int_ge(mfd, 0);
	ck_assert_int_eq(qc_driver_qemu_proven(dfd, &s, &fd), 1);
	ck_assert_int_ge(fd, 0);
	close(fd);
	/* With the monitor proven once: the same answer from its pidfd. */
	ck_assert_int_eq(qc_driver_qemu_proven_child(&s, mfd, &fd), 1);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(qc_driver_qemu_proven_child(&s, -1, &fd), 0);
	ck_assert_int_eq(fd, -1);
	/* Not the monitor's child: refused, and nothing handed out. */
	s.qemu_pid = other;
	fd = 7;
	ck_assert_int_eq(qc_driver_qemu_proven(dfd, &s, &fd), 0);
	ck_assert_int_eq(fd, -1);
	fd = 7;
	ck_assert_int_eq(qc_driver_qemu_proven_child(&s, mfd, &fd), 0);
	ck_assert_int_eq(fd, -1);
	/* The lock is held, but not by that pid: neither is proven. */
	s.monitor_pid = other;
	s.qemu_pid = kid;
	ck_assert_int_eq(qc_driver_monitor_proven(dfd, &s, &fd), 0);
	ck_assert_int_eq(qc_driver_qemu_proven(dfd, &s, &fd), 0);
	/* The monitor gone (and its QEMU reparented): nothing is proven. */
	s.monitor_pid = mon;
	kill(mon, SIGKILL);
	waitpid(mon, NULL, 0);
	ck_assert_int_eq(qc_driver_monitor_proven(dfd, &s, &fd), 0);
	ck_assert_int_eq(qc_driver_qemu_proven(dfd, &s, &fd), 0);
	/* Its pidfd taken while it lived now says it is gone: QEMU is not proven by it. */
	ck_assert_int_eq(qc_driver_qemu_proven_child(&s, mfd, &fd), 0);
	close(mfd);
	s.monitor_pid = 0;
	ck_assert_int_eq(qc_driver_monitor_proven(dfd, &s, &fd), 0);
	kill(kid, SIGKILL);
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);
	close(p[0]);
	close(p[1]);
	state_dir_done(&s, dfd, dir);
}
END_TEST

/* The state root is not created by opening a context; paths follow the layout. */
START_TEST(ctx_layout)
{
	char *dir = unit_mkdtemp();
	cleanup_free char *root = qc_xasprintf("%s/not/yet", dir);
	cleanup_free char *vmdir = NULL, *rdir = NULL;
	struct qc_error err = {0};
	qc_ctx *ctx = NULL;
	int dfd = -1;

	ck_assert_qc_ok(qc_ctx_open(root, &ctx, &err), &err);
	ck_assert_str_eq(qc_ctx_root(ctx), root);
	ck_assert_int_ne(access(root, F_OK), 0);
	vmdir = qc_driver_vm_dir(ctx, "web");
	ck_assert(qc_str_has_suffix(vmdir, "/not/yet/vms/web"));
	rdir = qc_driver_run_dir(ctx, "web");
	ck_assert_int_lt(strlen(rdir) + strlen("/console.sock"), 108);
	ck_assert_qc_fail(qc_driver_vm_open(ctx, "web", &dfd, &err), &err, QC_ERR_NOTFOUND,
		"VM 'web' does not exist");
	ck_assert_qc_fail(
		qc_driver_vm_open(ctx, "../x", &dfd, &err), &err, QC_ERR_INVALID, "VM name");
	ck_assert_int_ne(access(root, F_OK), 0);
	qc_ctx_close(ctx);
	ck_assert_qc_fail(qc_ctx_open("", &ctx, &err), &err, QC_ERR_INVALID, "empty");
	unit_rmdir(dir);
}
END_TEST

/* The frame of a VM operation: what each flag takes and checks. */
START_TEST(vmop_frame)
{
	char *dir = unit_mkdtemp();
	cleanup_free char *vms = qc_xasprintf("%s/vms/web", dir);
	cleanup_free char *rdir = qc_xasprintf("%s/run", dir);
	cleanup_free char *sock = qc_xasprintf("%s/qmp.sock", rdir);
	struct qc_state s = sample(), disk = {0};
	struct qc_error err = {0};
	qc_ctx *ctx = NULL;
	int vdfd;

	ck_assert_qc_ok(qc_ctx_open(dir, &ctx, &err), &err);
	{
		cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;

		ck_assert_qc_fail(qc_vmop_begin(ctx, "web", 0, &op, &err), &err, QC_ERR_NOTFOUND,
			"VM 'web' does not exist");
	}
	ck_assert_int_eq(qc_mkdir_p(vms, 0700, NULL), 0);
	vdfd = open(vms, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(vdfd, 0);
	ck_assert_qc_ok(qc_write_atomic(vdfd, QC_VM_DOMAIN, "<domain/>", 9, 0600, &err), &err);
	{
		cleanup_vmop struct qc_vmop op = QC_VMOP_INIT, other = QC_VMOP_INIT;

		/* a query: no lock, no state */
		ck_assert_qc_ok(
			qc_vmop_begin(ctx, "web", QC_VMOP_NO_LOCK | QC_VMOP_NO_STATE, &op, &err),
			&err);
		ck_assert_int_ge(op.dfd, 0);
		ck_assert_int_eq(op.lock_fd, -1);
		ck_assert_str_eq(op.vm_dir, vms);
		qc_vmop_end(&op);
		qc_vmop_end(&op);
		/* the lock: a second operation waits for it, then gives up */
		ck_assert_qc_ok(qc_vmop_begin(ctx, "web", 0, &op, &err), &err);
		ck_assert_int_ge(op.lock_fd, 0);
		ck_assert(!op.live.monitor_alive);
		ck_assert_int_eq(op.live.state, QC_VM_STOPPED);
		ck_assert_qc_ok(qc_vmop_need_stopped(&op, "stop it first", &err), &err);
		ck_assert_qc_fail(qc_vmop_begin_wait(ctx, "web", 0, 0, &other, &err), &err,
			QC_ERR_BUSY, "VM 'web' is busy");
		qc_vmop_end(&other);
		ck_assert_qc_ok(qc_vmop_begin(ctx, "web", QC_VMOP_NO_LOCK, &other, &err), &err);
		qc_vmop_end(&other);
		/* unlocked early: another operation gets the lock, the directory stays */
		qc_vmop_unlock(&op);
		ck_assert_int_eq(op.lock_fd, -1);
		ck_assert_int_ge(op.dfd, 0);
		ck_assert_qc_ok(qc_vmop_begin_wait(ctx, "web", 0, 0, &other, &err), &err);
		qc_vmop_end(&other);
		qc_vmop_end(&op);
		/* a paused start could never become ready: refused before the VM is touched */
		ck_assert_qc_fail(qc_vm_start_ready(ctx, "web", &(struct qc_vm_start_opts){.paused = true},
					  0, NULL, &err),
			&err, QC_ERR_INVALID, "a paused start never becomes ready");
		ck_assert_qc_fail(qc_vmop_begin(ctx, "web", QC_VMOP_RUNNING, &op, &err), &err,
			QC_ERR_STATE, "VM 'web' is not running (state: stopped)");
	}
	/* A run whose monitor died: recorded on disk only when asked for. */
	qc_state_boot_id(s.boot_id, sizeof(s.boot_id));
	free(s.run_dir);
	s.run_dir = qc_xstrdup(rdir);
	ck_assert_qc_ok(qc_state_save(vdfd, &s, &err), &err);
	ck_assert_int_eq(mkdir(rdir, 0700), 0);
	ck_assert_int_eq(close(open(sock, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)), 0);
	{
		cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;

		ck_assert_qc_ok(qc_vmop_begin(ctx, "web", 0, &op, &err), &err);
		ck_assert_int_eq(op.live.state, QC_VM_CRASHED);
		ck_assert_qc_ok(qc_state_load(vdfd, &disk, &err), &err);
		ck_assert(disk.running);
		qc_state_clear(&disk);
		qc_vmop_end(&op);
		ck_assert_qc_ok(qc_vmop_begin(ctx, "web", QC_VMOP_RECORD_END, &op, &err), &err);
		ck_assert_qc_ok(qc_state_load(vdfd, &disk, &err), &err);
		ck_assert(!disk.running);
		ck_assert_int_eq(disk.exit_reason, QC_EXIT_MONITOR_DIED);
		ck_assert_int_gt(disk.stopped_at_ms, 0);
		ck_assert_int_ne(access(sock, F_OK), 0);
		ck_assert_int_ne(access(rdir, F_OK), 0);
		qc_state_clear(&disk);
	}
	qc_ctx_close(ctx);
	state_dir_done(&s, vdfd, dir);
}
END_TEST

static int fake_status(void *qctx, char **ret)
{
	const char *v = qctx;

	if (!v)
		return -EIO;
	*ret = qc_xstrdup(v);
	return 0;
}

/* QEMU's run state: published for the run that asked only, names checked on the way in. */
START_TEST(state_publish_status)
{
	char *dir = unit_mkdtemp();
	struct qc_state s = sample(), t = {0};
	struct qc_error err = {0};
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_qc_ok(qc_state_save(dfd, &s, &err), &err);
	ck_assert_int_eq(qc_state_publish_status(
				 dfd, 100, s.started_at_ms, fake_status, (void *) "prelaunch"),
		0);
	ck_assert_qc_ok(qc_state_load(dfd, &t, &err), &err);
	ck_assert_str_eq(t.qemu_status, "prelaunch");
	ck_assert_int_eq(t.n_ports, 2); /* the rest of the record kept */
	qc_state_clear(&t);
	/* another run (monitor pid or start time): not written */
	ck_assert_int_eq(
		qc_state_publish_status(dfd, 99, s.started_at_ms, fake_status, (void *) "running"),
		0);
	ck_assert_int_eq(qc_state_publish_status(
				 dfd, 100, s.started_at_ms + 1, fake_status, (void *) "running"),
		0);
	/* a failed query or a name that is not a run state: not written */
	ck_assert_int_lt(qc_state_publish_status(dfd, 100, s.started_at_ms, fake_status, NULL), 0);
	ck_assert_int_eq(qc_state_publish_status(
				 dfd, 100, s.started_at_ms, fake_status, (void *) "run\nning"),
		0);
	ck_assert_qc_ok(qc_state_load(dfd, &t, &err), &err);
	ck_assert_str_eq(t.qemu_status, "prelaunch");
	qc_state_clear(&t);
	/* a forged state.json: an odd name is dropped on load */
	{
		static const char forged[] = "{\"running\": true, \"qemu_status\": \"\\u001b[2J\"}";

		ck_assert_int_eq(
			qc_write_atomic(dfd, QC_VM_STATE, forged, strlen(forged), 0600, &err), 0);
	}
	ck_assert_qc_ok(qc_state_load(dfd, &t, &err), &err);
	ck_assert_ptr_null(t.qemu_status);
	qc_state_clear(&t);
	ck_assert(qc_state_status_valid("guest-panicked"));
	ck_assert(!qc_state_status_valid(""));
	ck_assert(!qc_state_status_valid("Running"));
	ck_assert(!qc_state_status_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 33 */
	state_dir_done(&s, dfd, dir);
}
END_TEST

/* op.json: shown while its writer holds the lock, gone with the frame, ignored when stale. */
START_TEST(vmop_record)
{
	char *dir = unit_mkdtemp();
	cleanup_free char *vms = qc_xasprintf("%s/vms/web", dir);
	struct qc_error err = {0};
	cleanup_free char *what = NULL;
	qc_ctx *ctx = NULL;
	int64_t since;
	pid_t pid;
	int vdfd;

	ck_assert_qc_ok(qc_ctx_open(dir, &ctx, &err), &err);
	ck_assert_int_eq(qc_mkdir_p(vms, 0700, NULL), 0);
	vdfd = open(vms, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_qc_ok(qc_write_atomic(vdfd, QC_VM_DOMAIN, "<domain/>", 9, 0600, &err), &err);
	ck_assert_int_eq(qc_vmop_record_read(vdfd, &what, &pid, &since), 0);
	{
		cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;

		ck_assert_qc_ok(qc_vmop_begin_as("qc_vm_snapshot_create_ex", ctx, "web",
					QC_VMOP_NO_STATE, &op, &err),
			&err);
		ck_assert_int_eq(qc_vmop_record_read(vdfd, &what, &pid, &since), 1);
		ck_assert_str_eq(what, "snapshot create");
		ck_assert_int_eq(pid, getpid());
		ck_assert_int_le(since, qc_realtime_ms());
	}
	ck_assert_int_ne(faccessat(vdfd, QC_VM_OP_RECORD, F_OK, 0), 0);
	/* a record of a process that is gone, of another process, or garbage: none */
	{
		static const char *const bad[] = {"{\"op\": \"stop\", \"pid\": 999999999, "
						  "\"start_time\": 5, \"since_ms\": 0}",
			"{\"op\": \"stop\", \"pid\": 1, \"start_time\": 123456789, \"since_ms\": "
			"0}",
			"{\"op\": \"\\u001b[2J\", \"pid\": 1, \"start_time\": 1, \"since_ms\": 0}",
			"[1]", "{"};

		for (size_t i = 0; i < QC_ARRAY_SIZE(bad); i++) {
			ck_assert_qc_ok(qc_write_atomic(vdfd, QC_VM_OP_RECORD, bad[i],
						strlen(bad[i]), 0600, &err),
				&err);
			ck_assert_int_eq(qc_vmop_record_read(vdfd, &what, &pid, &since), 0);
		}
	}
	close(vdfd);
	qc_ctx_close(ctx);
	unit_rmdir(dir);
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("state");

	unit_tcase(s, "core", state_roundtrip, state_bad_json, state_reason_names,
		state_file_atomic, state_ports_splice, state_splice_file, state_run_id,
		live_reconcile, ctx_layout, vmop_frame, proc_stat_ppid, pid_proof,
		state_publish_status, vmop_record, NULL);
	return s;
}

UNIT_MAIN(state_suite)
