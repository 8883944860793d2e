/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Counters of running VMs (qemuctl.h "Stats"): one QMP connection per VM
 * with a deadline, plus /proc and /sys.  The disks, NICs and memory are
 * the run's, as state.json publishes them (driver/state_devices.c);
 * domain.xml only for a state without them.
 *
 *   vCPU time   query-cpus-fast names each vCPU's thread; its utime+stime
 *               come from /proc/QEMU/task/TID/stat (QEMU 7.2's query-stats
 *               has a KVM provider only, nothing under TCG)
 *   memory      the size the run started with; query-balloon's actual size
 *               when the VM has a balloon (none of qemuctl's VMs has one today)
 *   disks       query-blockstats, matched to the disks by their device id
 *               (disk-NAME) in the qdev path, which a snapshot's new top
 *               node does not change
 *   NICs        tap NICs: the run's tap's counters in /proc/net/dev, turned
 *               round to the guest's view (the tap's tx is the guest's rx);
 *               user-mode NICs: none (slirp keeps no counters QEMU shows)
 *   QEMU        its own utime+stime and RSS from /proc/QEMU/stat, statm
 *
 * Every running VM is sampled on a thread of its own, so a busy host's
 * QEMUs answer side by side.  Every value from QEMU and /proc is parsed
 * with bounds; a thread id that
 * is not a thread of this QEMU (proven the monitor's child) gives no time.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/network.h"
#include "driver/vmop.h"

/* One VM's QMP budget: connect and every query within it. */
#define STATS_DEADLINE_MS 2000
/* Threads sampling VMs at once (qc_vm_stats_running). */
#define STATS_THREADS 32

QC_PUBLIC void qc_vm_stats_free(struct qc_vm_stats *s)
{
	if (!s)
		return;
	qc_free_all(s->name, s->vcpus, s->disks, s->nics);
	free(s);
}

QC_PUBLIC QC_DEFINE_LIST_FREE(qc_vm_stats_list_free, struct qc_vm_stats, qc_vm_stats_free)

/* utime + stime (ns) of /proc/<path>/stat, whose comm may hold spaces and ')'. */
static int proc_cpu_ns(const char *path, uint64_t *ret)
{
	cleanup_free char *text = NULL;
	unsigned long long ut, st;
	long hz = sysconf(_SC_CLK_TCK);
	const char *p;

	if (qc_read_file(AT_FDCWD, path, 4096, &text, NULL, NULL) < 0 || !(p = strrchr(text, ')')))
		return -ENOENT;
	/* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) !=
			2 ||
		hz <= 0)
		return -EINVAL;
	*ret = (uint64_t) (ut + st) * (1000000000ULL / (uint64_t) hz);
	return 0;
}

static void qemu_process(pid_t pid, struct qc_vm_stats *s)
{
	char path[64];
	cleanup_free char *text = NULL;
	unsigned long long size, rss;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	(void) proc_cpu_ns(path, &s->qemu_cpu_ns);
	snprintf(path, sizeof(path), "/proc/%d/statm", (int) pid);
	if (qc_read_file(AT_FDCWD, path, 4096, &text, NULL, NULL) == 0 &&
		sscanf(text, "%llu %llu", &size, &rss) == 2)
		s->qemu_rss = (uint64_t) rss * (uint64_t) sysconf(_SC_PAGESIZE);
}

/* query-cpus-fast's reply r: each vCPU's thread and its CPU time. */
static int vcpus(const qc_json *r, pid_t pid, struct qc_vm_stats *s, struct qc_error *err)
{
	size_t n = qc_json_len(r);
	if (n > 4096)
		return qc_error_set(err, QC_ERR_QMP, "query-cpus-fast: %zu vCPUs", n);
	s->vcpus = qc_xzalloc(sizeof(*s->vcpus) * (n + 1));
	for (size_t i = 0; i < n; i++) {
		const qc_json *c = qc_json_at(r, i);
		struct qc_vm_stats_vcpu *v = &s->vcpus[s->n_vcpus];
		int64_t idx = -1, tid = 0;
		char path[80];

		if (!qc_json_as_int(qc_json_get(c, "cpu-index"), &idx) ||
			!qc_json_as_int(qc_json_get(c, "thread-id"), &tid) || idx < 0 ||
			idx > 65535 || tid <= 0 || tid > INT32_MAX)
			continue;
		v->index = (unsigned) idx;
		v->thread_id = (int) tid;
		/* /proc/PID/task/TID exists only for a thread of that process */
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int) pid, (int) tid);
		if (proc_cpu_ns(path, &v->cpu_ns) == 0)
			s->vcpu_cpu_ns += v->cpu_ns;
		s->n_vcpus++;
	}
	return 0;
}

/* disk i of d is the device whose qdev path has the component disk-NAME. */
static bool qdev_is(const char *qdev, const char *dev_id)
{
	size_t len = strlen(dev_id);

	for (const char *p = qdev; p && *p; p = strchr(p, '/')) {
		if (*p == '/')
			p++;
		if (!strncmp(p, dev_id, len) && (p[len] == '/' || !p[len]))
			return true;
	}
	return false;
}

static uint64_t get_u64(const qc_json *j, const char *key)
{
	uint64_t v = 0;

	return qc_json_as_uint(qc_json_get(j, key), &v) ? v : 0;
}

/* query-blockstats' reply r: the counters of the run's disks. */
static void disks(const qc_json *r, const struct qc_run_devices *dv, struct qc_vm_stats *s)
{
	s->disks = qc_xzalloc(sizeof(*s->disks) * (dv->n_disks + 1));
	for (size_t k = 0; k < dv->n_disks; k++) {
		struct qc_vm_stats_disk *o = &s->disks[s->n_disks];

		for (size_t i = 0; i < qc_json_len(r); i++) {
			const qc_json *e = qc_json_at(r, i);
			const char *qdev = qc_json_string(qc_json_get(e, "qdev"));
			const qc_json *st = qc_json_get(e, "stats");

			if (!qdev || !st || !qdev_is(qdev, dv->disks[k].device))
				continue;
			snprintf(o->name, sizeof(o->name), "%s", dv->disks[k].name);
			o->rd_bytes = get_u64(st, "rd_bytes");
			o->wr_bytes = get_u64(st, "wr_bytes");
			o->rd_ops = get_u64(st, "rd_operations");
			o->wr_ops = get_u64(st, "wr_operations");
			s->n_disks++;
			break;
		}
	}
}

/*
 * The taps' counters from /proc/net/dev, which shows the reader's network
 * namespace (sysfs shows the namespace it was mounted in).
 */
static void tap_counters(struct qc_vm_stats_nic *const *nics, char (*taps)[16], size_t n)
{
	char line[512];
	FILE *f;

	if (!n || !(f = fopen("/proc/net/dev", "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *name = line;
		unsigned long long rb, rp, tb, tp;

		if (!colon)
			continue;
		*colon = 0;
		name += strspn(name, " ");
		if (sscanf(colon + 1, "%llu %llu %*u %*u %*u %*u %*u %*u %llu %llu", &rb, &rp, &tb,
			    &tp) != 4)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(taps[i], name))
				continue;
			/* the tap's transmit is what the guest receives */
			nics[i]->rx_bytes = tb;
			nics[i]->rx_packets = tp;
			nics[i]->tx_bytes = rb;
			nics[i]->tx_packets = rp;
			nics[i]->counted = true;
		}
	}
	fclose(f);
}

static void nics(const struct qc_run_devices *dv, struct qc_vm_stats *s)
{
	cleanup_free struct qc_vm_stats_nic **tapped =
		qc_xzalloc(sizeof(*tapped) * (dv->n_nics + 1));
	cleanup_free char(*taps)[16] = qc_xzalloc(sizeof(*taps) * (dv->n_nics + 1));
	size_t n_taps = 0;

	s->nics = qc_xzalloc(sizeof(*s->nics) * (dv->n_nics + 1));
	for (size_t i = 0; i < dv->n_nics; i++) {
		struct qc_vm_stats_nic *o = &s->nics[s->n_nics++];

		snprintf(o->name, sizeof(o->name), "%s", dv->nics[i].name);
		o->type = dv->nics[i].type;
		if (!dv->nics[i].tap[0])
			continue;
		memcpy(taps[n_taps], dv->nics[i].tap, sizeof(taps[n_taps]));
		tapped[n_taps++] = o;
	}
	tap_counters(tapped, taps, n_taps);
}

/*
 * The devices of op's run: those state.json publishes (checked as it was
 * read), else (a run started by an older qemuctl, a record that failed
 * its checks) those domain.xml names, with the taps start names.
 */
static int run_devices(struct qc_vmop *op, struct qc_run_devices **ret, struct qc_error *err)
{
	cleanup_free char(*taps)[16] = NULL;
	int rc;

	if (op->live.st.devices) {
		*ret = TAKE_PTR(op->live.st.devices);
		return 0;
	}
	if ((rc = qc_vmop_domain(op, err)) < 0)
		return rc;
	taps = qc_xzalloc(sizeof(*taps) * (op->d->n_nics + 1));
	for (size_t i = 0; i < op->d->n_nics; i++)
		qc_network_tap_name(op->d, i, taps[i]);
	if ((rc = qc_argv_run_devices(op->d, (const char(*)[16]) taps, ret, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", op->name);
	return 0;
}

/* QEMU's pid is the monitor's child (the monitor lock is held): else it is not ours. */
static bool qemu_is_ours(const struct qc_live *l)
{
	char path[64];
	cleanup_free char *text = NULL;
	pid_t ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int) l->st.qemu_pid);
	return l->st.qemu_pid > 0 && qc_read_file(AT_FDCWD, path, 4096, &text, NULL, NULL) == 0 &&
	       qc_driver_proc_stat_ppid(text, &ppid) == 0 && ppid == l->st.monitor_pid;
}

QC_PUBLIC int qc_vm_stats(
	qc_ctx *ctx, const char *name, struct qc_vm_stats **ret, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	static const char *const queries[] = {"query-cpus-fast", "query-blockstats"};
	cleanup_qmp struct qc_qmp *q = NULL;
	qc_json *r[2] = {NULL, NULL};
	struct qc_run_devices *dv = NULL;
	struct qc_vm_stats *s;
	int rc;

	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_NO_LOCK | QC_VMOP_RUNNING, &op, err)) < 0)
		return rc;
	if (!qemu_is_ours(&op.live))
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s': its QEMU (pid %d) is not running (it stopped just now?)", name,
			(int) op.live.st.qemu_pid);
	if ((rc = run_devices(&op, &dv, err)) < 0)
		return rc;
	/* the queries sent with the connection: one round trip */
	if ((rc = qc_vmop_qmp_connect_all(&op, queries, 2, STATS_DEADLINE_MS, &q, r, err)) < 0) {
		qc_run_devices_free(dv);
		return rc;
	}
	s = qc_xzalloc(sizeof(*s));
	s->name = qc_xstrdup(name);
	s->qemu_pid = op.live.st.qemu_pid;
	s->memory = dv->memory;
	if ((rc = vcpus(r[0], s->qemu_pid, s, err)) < 0) {
		qc_json_free(r[0]);
		qc_json_free(r[1]);
		qc_run_devices_free(dv);
		qc_vm_stats_free(s);
		return qc_error_prefix(err, "VM '%s'", name);
	}
	disks(r[1], dv, s);
	qc_json_free(r[0]);
	qc_json_free(r[1]);
	nics(dv, s);
	qc_run_devices_free(dv);
	qemu_process(s->qemu_pid, s);
	s->sampled_at_ms = qc_realtime_ms();
	*ret = s;
	return 0;
}

static int cmp_stats(const void *a, const void *b)
{
	return strcmp(
		(*(struct qc_vm_stats *const *) a)->name, (*(struct qc_vm_stats *const *) b)->name);
}

/* One VM's sample, on a thread of its own. */
struct stats_job {
	qc_ctx *ctx;
	char *name;
	struct qc_vm_stats *s;
	struct qc_error err;
	int rc;
	bool started;
	pthread_t thread;
};

static void *stats_job_run(void *arg)
{
	struct stats_job *j = arg;

	j->rc = qc_vm_stats(j->ctx, j->name, &j->s, &j->err);
	return NULL;
}

/* Adds the VM to the names when its monitor holds its lock now. */
static void add_if_running(const char *name, int vm_dfd, void *opaque)
{
	struct qc_strv *names = opaque;

	if (qc_lock_is_held(vm_dfd, QC_VM_MONITOR_LOCK) == 1)
		qc_strv_push(names, name);
}

QC_PUBLIC int qc_vm_stats_running(
	qc_ctx *ctx, struct qc_vm_stats ***ret, size_t *ret_n, struct qc_error *err)
{
	cleanup_strvec struct qc_strv names = {0};
	cleanup_free struct stats_job *jobs = NULL;
	struct qc_vm_stats **v;
	size_t n = 0;
	int rc;

	*ret = NULL;
	*ret_n = 0;
	if ((rc = qc_driver_foreach_vm(ctx, add_if_running, &names, err)) < 0)
		return rc;
	if (!names.n)
		return 0;
	jobs = qc_xzalloc(sizeof(*jobs) * names.n);
	/*
	 * The VMs answer one after the other if asked so, each QEMU waiting for
	 * its turn on a busy host: every VM gets its own thread (at most
	 * STATS_THREADS at once; libxml2, should a VM's domain.xml be read,
	 * sets itself up once, driver/xml_dl.c).  A single VM is sampled on
	 * this thread.
	 */
	for (size_t i = 0; i < names.n; i++) {
		jobs[i].ctx = ctx;
		jobs[i].name = names.v[i];
	}
	if (names.n == 1)
		stats_job_run(&jobs[0]);
	for (size_t at = 0; names.n > 1 && at < names.n; at += STATS_THREADS) {
		size_t end = at + STATS_THREADS < names.n ? at + STATS_THREADS : names.n;

		for (size_t i = at; i < end; i++)
			jobs[i].started =
				pthread_create(&jobs[i].thread, NULL, stats_job_run, &jobs[i]) == 0;
		for (size_t i = at; i < end; i++) {
			if (jobs[i].started)
				(void) pthread_join(jobs[i].thread, NULL);
			else
				stats_job_run(&jobs[i]);
		}
	}
	v = qc_xzalloc(sizeof(*v) * (names.n + 1));
	for (size_t i = 0; i < names.n; i++) {
		if (jobs[i].rc == 0)
			v[n++] = jobs[i].s;
		else if (jobs[i].err.code != QC_ERR_STATE) /* stopped meanwhile: no error */
			qc_warn("%s", jobs[i].err.msg);
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_stats);
	*ret = v;
	*ret_n = n;
	return 0;
}
