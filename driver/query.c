/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The state of VMs as the CLI reports it: state.json plus liveness (the
 * monitor's lock) plus a live QMP query; list, info, console, log files.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/network.h"
#include "driver/seed.h"
#include "driver/vmop.h"
#include "qmp/qmp.h"
#include "storage/storage.h"

#define LIVE_QMP_TIMEOUT_MS 2000

/*
 * Pids in state.json are only numbers: the process may have exited and its
 * pid gone to another.  So a pidfd is taken first, then /proc/PID is
 * checked to be the process meant, then the pidfd must still not poll
 * readable: its process had not exited, so the pid named it during the
 * checks, and the pidfd keeps naming it whatever happens to the pid.
 */
static bool pidfd_alive(int pidfd)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};

	return poll(&p, 1, 0) == 0;
}

int qc_driver_proc_stat_ppid(const char *text, pid_t *ret)
{
	const char *p = strrchr(text, ')'); /* comm may hold spaces and ')' */
	char state;
	int ppid;

	if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2 || ppid < 0)
		return -EINVAL;
	*ret = (pid_t) ppid;
	return 0;
}

static pid_t proc_ppid(pid_t pid)
{
	cleanup_free char *path = qc_xasprintf("/proc/%d/stat", (int) pid);
	cleanup_free char *text = NULL;
	pid_t ppid;

	if (qc_read_file(AT_FDCWD, path, 4096, &text, NULL, NULL) < 0 ||
		qc_driver_proc_stat_ppid(text, &ppid) < 0)
		return -1;
	return ppid;
}

/* pid has the file want (dev and inode) open: qemuctl-monitor holds monitor.lock so. */
static bool proc_has_open(pid_t pid, const struct stat *want)
{
	cleanup_free char *path = qc_xasprintf("/proc/%d/fd", (int) pid);
	struct dirent *de;
	bool found = false;
	DIR *d = opendir(path);

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		char link[PATH_MAX];
		struct stat st;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		/* By name first: stat() through another process's fd may block (FUSE, NFS). */
		n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (qc_str_has_suffix(link, "/" QC_VM_MONITOR_LOCK) &&
			fstatat(dirfd(d), de->d_name, &st, 0) == 0)
			found = st.st_dev == want->st_dev && st.st_ino == want->st_ino;
	}
	closedir(d);
	return found;
}

int qc_driver_monitor_proven(int vm_dfd, const struct qc_state *st, int *ret_pidfd)
{
	cleanup_close int lock = -1, fd = -1;
	struct stat want;

	*ret_pidfd = -1;
	if (st->monitor_pid <= 0)
		return 0;
	lock = openat(vm_dfd, QC_VM_MONITOR_LOCK, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (lock < 0 || fstat(lock, &want) < 0)
		return 0;
	fd = qc_pidfd_open(st->monitor_pid, NULL);
	if (fd < 0 && fd != -ENOSYS)
		return 0; /* gone */
	if (!proc_has_open(st->monitor_pid, &want) ||
		qc_lock_is_held(vm_dfd, QC_VM_MONITOR_LOCK) != 1 || (fd >= 0 && !pidfd_alive(fd)))
		return 0;
	*ret_pidfd = fd >= 0 ? TAKE_FD(fd) : -1;
	return 1;
}

int qc_driver_qemu_proven_child(const struct qc_state *st, int monitor_pidfd, int *ret_pidfd)
{
	cleanup_close int fd = -1;

	*ret_pidfd = -1;
	if (st->qemu_pid <= 0 || monitor_pidfd < 0)
		return 0;
	fd = qc_pidfd_open(st->qemu_pid, NULL);
	if (fd < 0)
		return 0;
	/*
	 * QEMU is the monitor's own child; a reused pid is someone else's.  The
	 * monitor's pidfd still not readable: the pid proven to hold monitor.lock
	 * still names that monitor, so the parent checked is the proven one.
	 */
	if (proc_ppid(st->qemu_pid) != st->monitor_pid || !pidfd_alive(fd) ||
		!pidfd_alive(monitor_pidfd))
		return 0;
	*ret_pidfd = TAKE_FD(fd);
	return 1;
}

int qc_driver_qemu_proven(int vm_dfd, const struct qc_state *st, int *ret_pidfd)
{
	cleanup_close int mfd = -1;

	*ret_pidfd = -1;
	if (st->qemu_pid <= 0 || qc_driver_monitor_proven(vm_dfd, st, &mfd) != 1)
		return 0;
	if (mfd >= 0)
		return qc_driver_qemu_proven_child(st, mfd, ret_pidfd);
	/* No pidfds (an old kernel, valgrind): the parent just now. */
	return proc_ppid(st->qemu_pid) == st->monitor_pid;
}

QC_PUBLIC int qc_vm_operation(qc_ctx *ctx, const char *name, char **ret_what, pid_t *ret_pid,
	int64_t *ret_since_ms, struct qc_error *err)
{
	cleanup_close int dfd = -1;
	int rc;

	if ((rc = qc_driver_vm_open(ctx, name, &dfd, err)) < 0)
		return rc;
	return qc_vmop_record_read(dfd, ret_what, ret_pid, ret_since_ms);
}

/* Paused or running?  A live QMP query; on any failure, "running". */
static enum qc_vm_state query_running(const struct qc_state *st)
{
	cleanup_free char *path = NULL;
	struct qc_qmp *q = NULL;
	qc_json *r = NULL;
	bool running = true;

	if (!st->run_dir)
		return QC_VM_RUNNING;
	path = qc_xasprintf("%s/qmp.sock", st->run_dir);
	if (qc_driver_run_dir_check(st->run_dir, NULL) < 0 ||
		qc_qmp_connect(path, LIVE_QMP_TIMEOUT_MS, &q, NULL) < 0)
		return QC_VM_RUNNING;
	if (qc_qmp_execute(q, "query-status", NULL, LIVE_QMP_TIMEOUT_MS, &r, NULL) == 0)
		(void) qc_json_as_bool(qc_json_get(r, "running"), &running);
	qc_json_free(r);
	qc_qmp_close(q);
	return running ? QC_VM_RUNNING : QC_VM_PAUSED;
}

/*
 * A running VM's state from QEMU's run state as published in state.json
 * (paused is every run state but running); a run whose monitor published
 * none (an older qemuctl's) is asked over QMP.
 */
enum qc_vm_state qc_driver_live_state(const struct qc_live *l)
{
	if (l->state != QC_VM_RUNNING)
		return l->state;
	if (l->st.qemu_status)
		return strcmp(l->st.qemu_status, "running") == 0 ? QC_VM_RUNNING : QC_VM_PAUSED;
	return query_running(&l->st);
}

static char *dup_or_null(const char *s)
{
	return s ? qc_xstrdup(s) : NULL;
}

/*
 * The read path of list and info: what state.json says (published by the
 * monitor and the lock holders), liveness and the lock holder's operation
 * record; no lock, no writes, no QMP (but for a run whose monitor
 * published no run state).
 */
static void read_state(int vm_dfd, const struct qc_live *live, struct qc_vm_info *i)
{
	i->state = qc_driver_live_state(live);
	if (live->monitor_alive)
		i->qemu_status = dup_or_null(live->st.qemu_status);
	(void) qc_vmop_record_read(
		vm_dfd, &i->operation, &i->operation_pid, &i->operation_since_ms);
}

QC_PUBLIC void qc_vm_info_free(struct qc_vm_info *i)
{
	if (!i)
		return;
	qc_free_all(i->name, i->uuid, i->arch, i->machine, i->accel_requested, i->kernel, i->vm_dir,
		i->console_log, i->qmp_socket, i->accel, i->accel_why, i->exit_reason,
		i->exit_detail, i->ssh_host, i->ssh_user, i->qemu_status, i->operation);
	qc_strv_free(i->disks);
	qc_strv_free(i->nics);
	qc_strv_free(i->addresses);
	for (size_t k = 0; k < i->n_disk_list; k++) {
		struct qc_vm_disk_info *o = &i->disk_list[k];

		qc_free_all(o->name, o->target, o->bus, o->format, o->path, o->backing,
			o->backing_format, o->role);
	}
	free(i->disk_list);
	free(i);
}

QC_PUBLIC QC_DEFINE_LIST_FREE(qc_vm_list_free, struct qc_vm_info, qc_vm_info_free)

/*
 * A disk as data.  Returns " virtual 10 GiB, allocated 196 KiB" for the
 * text form of a boot or data disk, else "": the sizes are read here (the
 * qcow2 header's size, a raw file's length, the blocks the file holds),
 * the numbers qemu-img info gives, without a qemu-img process per disk on
 * every info.  Not a regular file or block device: "" and sizes 0.
 */
static char *disk_data(const struct qc_disk *dk, struct qc_vm_disk_info *o)
{
	static const char *const roles[] = {
		[QC_ROLE_ROOT] = "root", [QC_ROLE_DATA] = "data", [QC_ROLE_SEED] = "seed"};
	QC_TABLE_COVERS(roles, QC_ROLE_COUNT);
	struct qc_qcow2_header h;
	cleanup_close int fd = -1;
	struct stat st;
	char v[32], a[32];

	o->name = qc_xstrdup(dk->name);
	o->target = dup_or_null(dk->target);
	o->bus = qc_xstrdup(qc_disk_bus_name(dk->bus));
	o->format = qc_xstrdup(dk->format ? dk->format : "raw");
	o->path = qc_xstrdup(dk->path);
	o->backing = dup_or_null(dk->backing);
	o->backing_format = dk->backing ? qc_xstrdup(dk->backing_format ? dk->backing_format
									 : "raw")
					: NULL;
	o->role = qc_xstrdup(roles[dk->role]);
	o->readonly = dk->readonly;
	if (dk->role == QC_ROLE_SEED)
		return qc_xstrdup("");
	fd = open(dk->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))
		return qc_xstrdup("");
	if (strcmp(o->format, "qcow2") == 0) {
		if (qc_img_qcow2_header(fd, dk->path, &h, NULL) < 0)
			return qc_xstrdup("");
		o->virtual_size = h.size;
	} else {
		off_t end = S_ISBLK(st.st_mode) ? lseek(fd, 0, SEEK_END) : st.st_size;

		if (end < 0)
			return qc_xstrdup("");
		o->virtual_size = (uint64_t) end;
	}
	o->allocated = S_ISBLK(st.st_mode) ? o->virtual_size : (uint64_t) st.st_blocks * 512;
	qc_format_size(o->virtual_size, v, sizeof(v));
	qc_format_size(o->allocated, a, sizeof(a));
	return qc_xasprintf(" virtual %s, allocated %s", v, a);
}

/* The forwards `port add` opened on NIC nic for this run only (driver/portfwd_live.c). */
static void append_live_fwds(struct qc_buf *b, int vm_dfd, const struct qc_live *live, const char *nic)
{
	cleanup_free struct qc_hostfwd *v = NULL;
	size_t n = 0;

	(void) qc_driver_portfwd_live(vm_dfd, live, nic, &v, &n);
	for (size_t f = 0; f < n; f++)
		qc_buf_printf(b, " %s %s:%u->%u", v[f].proto,
			v[f].host_addr[0] ? v[f].host_addr : "127.0.0.1", v[f].host_port,
			v[f].guest_port);
}

/*
 * The guest's known addresses, and while it runs how ssh reaches it, as
 * `qemuctl ssh` picks: the forward of guest tcp/22 (one bound on every
 * address answers on loopback), else port 22 of the first named-network
 * address.
 */
static void fill_reach(struct qc_vm_info *i, struct qc_summary *s, const struct qc_live *live)
{
	i->addresses = TAKE_PTR(s->addresses);
	if (!live->monitor_alive)
		return;
	i->ssh_host = qc_network_ssh_route_pick(
		s->routes, s->n_routes, live->st.ports, live->st.n_ports, &i->ssh_port);
	if (i->ssh_host)
		i->ssh_user = TAKE_PTR(s->ssh_user);
}

/* The VM's domain.xml (dir: its directory). */
static int domain_load(const char *dir, struct qc_domain **d, struct qc_error *err)
{
	cleanup_free char *path = qc_xasprintf("%s/%s", dir, QC_VM_DOMAIN);

	return qc_domain_load(path, NULL, NULL, d, err);
}

/*
 * Fill info from an open VM dir: with xml (domain.xml's stat), the list
 * form, from summary.json while it matches; without, the detailed form
 * for `info`.
 */
static int fill_info(const qc_ctx *ctx, const char *name, int vm_dfd, const struct stat *xml,
	struct qc_vm_info **ret, struct qc_error *err)
{
	cleanup_domain struct qc_domain *d = NULL;
	cleanup_free char *dir = qc_driver_vm_dir(ctx, name);
	struct qc_vm_info *i = qc_xzalloc(sizeof(*i));
	struct qc_summary sum = {0};
	bool with_disks = !xml;
	struct qc_live live;
	int rc;

	if (with_disks || !qc_driver_summary_load(vm_dfd, xml, name, i, &sum)) {
		if ((rc = domain_load(dir, &d, err)) < 0) {
			qc_vm_info_free(i);
			return qc_error_prefix(err, "VM '%s'", name);
		}
		qc_vm_info_free(i);
		i = qc_xzalloc(sizeof(*i));
		i->name = qc_xstrdup(d->name);
		i->uuid = qc_xstrdup(d->uuid_str);
		i->arch = qc_xstrdup(qc_arch_name(d->arch));
		i->machine = d->machine ? qc_xstrdup(d->machine)
					: qc_xstrdup(qc_arch_info(d->arch)->machine);
		i->accel_requested = qc_xstrdup(qc_accel_name(d->accel));
		i->cpus = d->cpus;
		i->memory = d->memory;
		i->kernel = dup_or_null(d->kernel);
		i->autostart = d->autostart;
		i->tpm = d->tpm;
		i->secure_boot = d->secure_boot;
		qc_driver_summary_of(d, &sum);
	}
	if ((rc = qc_driver_live(vm_dfd, &live, err)) < 0) {
		qc_driver_summary_clear(&sum);
		qc_vm_info_free(i);
		return qc_error_prefix(err, "VM '%s'", name);
	}
	read_state(vm_dfd, &live, i);
	live.state = i->state;
	/* list shows the addresses and ssh of a running VM only */
	if ((with_disks || live.monitor_alive) && !sum.reach &&
		domain_load(dir, &d, NULL) == 0)
		qc_driver_summary_of(d, &sum); /* an older qemuctl's summary.json */
	if (with_disks || live.monitor_alive)
		fill_reach(i, &sum, &live);
	qc_driver_summary_clear(&sum);
	i->console_log = qc_xasprintf("%s/%s", dir, QC_VM_CONSOLE_LOG);
	i->vm_dir = TAKE_PTR(dir);
	if (live.monitor_alive) {
		i->qemu_pid = live.st.qemu_pid;
		i->monitor_pid = live.st.monitor_pid;
		if (live.st.run_dir)
			i->qmp_socket = qc_xasprintf("%s/qmp.sock", live.st.run_dir);
	}
	i->started_at_ms = live.st.started_at_ms;
	i->stopped_at_ms = live.monitor_alive ? 0 : live.st.stopped_at_ms;
	i->accel = dup_or_null(live.st.accel);
	i->accel_why = dup_or_null(live.st.accel_why);
	i->ready = live.monitor_alive && live.st.ready;
	/* Only a run saves its state, and every run leaves a state.json. */
	i->saved_state = live.st.on_disk &&
			 faccessat(vm_dfd, QC_VM_SAVED_STATE, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	i->ready_after_ms = i->ready ? live.st.ready_after_ms : 0;
	if (!live.monitor_alive && live.st.exit_reason != QC_EXIT_NONE) {
		i->exit_reason = qc_xstrdup(qc_exit_reason_name(live.st.exit_reason));
		i->exit_detail = dup_or_null(live.st.exit_detail);
	}
	if (with_disks) {
		struct qc_strv v = {0};
		size_t k;

		i->disk_list = qc_xzalloc(sizeof(*i->disk_list) * (d->n_disks + 1));
		i->n_disk_list = d->n_disks;
		for (k = 0; k < d->n_disks; k++) {
			const struct qc_disk *dk = &d->disks[k];
			cleanup_free char *sizes = disk_data(dk, &i->disk_list[k]);

			if (dk->backing)
				qc_strv_pushf(&v, "%s %s (%s, backing %s %s)%s", dk->name, dk->path,
					dk->format ? dk->format : "raw",
					dk->backing_format ? dk->backing_format : "?", dk->backing,
					sizes);
			else
				qc_strv_pushf(&v, "%s %s (%s%s)%s", dk->name, dk->path,
					dk->format ? dk->format : "raw",
					dk->readonly ? ", read-only" : "", sizes);
		}
		i->disks = qc_strv_steal(&v); /* empty, not NULL, when there are none */
		for (k = 0; k < d->n_nics; k++) {
			const struct qc_nic *n = &d->nics[k];
			struct qc_buf b = {0};
			size_t f;

			qc_buf_printf(&b, "%s %s %s", n->name, qc_nic_type_name(n->type), n->mac);
			if (n->network)
				qc_buf_printf(&b, " network=%s", n->network);
			if (n->bridge)
				qc_buf_printf(&b, " bridge=%s", n->bridge);
			if (n->ip)
				qc_buf_printf(&b, " ip=%s", n->ip);
			for (f = 0; f < n->n_fwds; f++) {
				unsigned port = qc_network_fwd_port(d, k, f, live.st.ports,
					live.monitor_alive ? live.st.n_ports : 0);

				if (port)
					qc_buf_printf(&b, " %s %s:%u->%u", n->fwds[f].proto,
						n->fwds[f].host_addr[0] ? n->fwds[f].host_addr
									: "127.0.0.1",
						port, n->fwds[f].guest_port);
				else
					qc_buf_printf(&b, " %s (port at start)->%u",
						n->fwds[f].proto, n->fwds[f].guest_port);
			}
			append_live_fwds(&b, vm_dfd, &live, n->name);
			qc_strv_push_take(&v, qc_buf_steal(&b));
		}
		i->nics = v.v ? qc_strv_steal(&v) : qc_xzalloc(sizeof(char *));
	}
	qc_live_clear(&live);
	*ret = i;
	return 0;
}

QC_PUBLIC int qc_vm_info(
	qc_ctx *ctx, const char *name, struct qc_vm_info **ret, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	int rc;

	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_NO_LOCK | QC_VMOP_NO_STATE, &op, err)) < 0)
		return rc;
	if ((rc = fill_info(ctx, name, op.dfd, NULL, ret, err)) < 0 && qc_driver_vm_gone(op.dfd))
		return qc_driver_vm_gone_error(name, err);
	return rc;
}

static int cmp_info(const void *a, const void *b)
{
	const struct qc_vm_info *x = *(struct qc_vm_info *const *) a;
	const struct qc_vm_info *y = *(struct qc_vm_info *const *) b;

	return strcmp(x->name, y->name);
}

struct vm_list {
	qc_ctx *ctx;
	struct qc_vm_info **v;
	size_t n, cap;
};

/* Adds the VM to the list when it has a domain; warns when it cannot be read. */
static void add_info(const char *name, int vm_dfd, void *opaque)
{
	struct vm_list *l = opaque;
	struct qc_error e2 = {0};
	struct qc_vm_info *i = NULL;
	struct stat xml;

	/* A directory without domain.xml is a VM being made or removed. */
	if (fstatat(vm_dfd, QC_VM_DOMAIN, &xml, 0) == 0 &&
		fill_info(l->ctx, name, vm_dfd, &xml, &i, &e2) == 0) {
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 16;
			l->v = qc_xrealloc(l->v, l->cap * sizeof(*l->v));
		}
		l->v[l->n++] = i;
	} else if (e2.code) {
		qc_warn("%s", e2.msg);
	}
}

QC_PUBLIC int qc_vm_list(qc_ctx *ctx, struct qc_vm_info ***ret, size_t *ret_n, struct qc_error *err)
{
	struct vm_list l = {.ctx = ctx};
	int rc;

	if ((rc = qc_driver_foreach_vm(ctx, add_info, &l, err)) < 0)
		return rc;
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_info);
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

QC_PUBLIC int qc_vm_file_path(
	qc_ctx *ctx, const char *name, enum qc_vm_file which, char **ret, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	int rc;

	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_NO_LOCK | QC_VMOP_NO_STATE, &op, err)) < 0)
		return rc;
	*ret = qc_xasprintf(
		"%s/%s", op.vm_dir, which == QC_VM_FILE_EVENTS ? QC_VM_EVENTS : QC_VM_CONSOLE_LOG);
	return 0;
}

QC_PUBLIC int qc_vm_is_running(qc_ctx *ctx, const char *name, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	int rc;

	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_NO_LOCK | QC_VMOP_NO_STATE, &op, err)) < 0)
		return rc;
	return qc_lock_is_held(op.dfd, QC_VM_MONITOR_LOCK) == 1 ? 1 : 0;
}

QC_PUBLIC int qc_vm_console_open(qc_ctx *ctx, const char *name, int *ret_fd, struct qc_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_close int fd = -1;
	int rc;

	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_NO_LOCK, &op, err)) < 0)
		return rc;
	if (!op.live.monitor_alive || !op.live.st.run_dir)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s' is not running; start it with 'qemuctl start %s' "
			"(the last output is in 'qemuctl log %s')",
			name, name, name);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/console.sock", op.live.st.run_dir);
	/* Gone (the VM is stopping): the connect below says so. */
	rc = qc_driver_run_dir_check(op.live.st.run_dir, err);
	if (rc < 0 && rc != -ENOENT)
		return qc_error_prefix(err, "VM '%s'", name);
	qc_error_clear(err);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return qc_error_errno(err, errno, "socket");
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
		int e = errno;

		/* Stopped between the liveness check and the connect: say so. */
		if (qc_lock_is_held(op.dfd, QC_VM_MONITOR_LOCK) != 1)
			return qc_error_set(err, QC_ERR_STATE,
				"VM '%s' is not running (it stopped just now); the last output is "
				"in 'qemuctl log %s'",
				name, name);
		/* Its monitor is alive but not (or no longer) serving the console. */
		if (e == ENOENT || e == ECONNREFUSED)
			return qc_error_set(err, QC_ERR_STATE,
				"VM '%s' is starting or stopping: its console is not available; "
				"try again in a moment",
				name);
		return qc_error_errno(err, e, "VM '%s': console socket '%s'", name, sa.sun_path);
	}
	/* Before a keystroke goes out: the console must be our monitor's. */
	if ((rc = qc_unix_peer_check(fd, "console socket", sa.sun_path, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Does the file (and its rotated predecessor) contain text? */
static bool log_contains(int dfd, const char *text)
{
	static const char *const names[] = {QC_VM_CONSOLE_LOG ".1", QC_VM_CONSOLE_LOG};
	size_t i;

	for (i = 0; i < QC_ARRAY_SIZE(names); i++) {
		cleanup_free char *buf = NULL;
		size_t len;

		if (qc_read_file(dfd, names[i], QC_CONSOLE_LOG_MAX * 2, &buf, &len, NULL) < 0)
			continue;
		if (memmem(buf, len, text, strlen(text)))
			return true;
	}
	return false;
}

QC_PUBLIC int qc_vm_wait_console(
	qc_ctx *ctx, const char *name, const char *text, int timeout_ms, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	int64_t deadline = qc_deadline_ms(timeout_ms);
	int rc;

	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_NO_LOCK | QC_VMOP_NO_STATE, &op, err)) < 0)
		return rc;
	for (;;) {
		bool alive = qc_lock_is_held(op.dfd, QC_VM_MONITOR_LOCK) == 1;

		if (log_contains(op.dfd, text))
			return 0;
		if (!alive)
			return qc_error_set(err, QC_ERR_STATE,
				"VM '%s' stopped before its console showed '%s'", name, text);
		if (qc_time_left_ms(deadline) == 0)
			return qc_error_set(err, ETIMEDOUT,
				"VM '%s': console did not show '%s' within %d ms", name, text,
				timeout_ms);
		qc_sleep_ms(100);
	}
}
