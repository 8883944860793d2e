/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hot-plug of disks and NICs (qemuctl.h "Hot-plug").  A running VM gets
 * the device through QMP (blockdev-add + device_add; getfd + netdev_add +
 * device_add), then domain.xml records it so the next start has it too.
 * A stopped VM's domain.xml is only updated.  A user NIC's host ports
 * (chosen here for a running VM) go into the run's state.json, where info
 * and ssh find the ports chosen at start, and leave it with the NIC.
 *
 * q35 and virt take hot-plugged PCI devices only on a pcie-root-port:
 * argv.c adds free ports qc-hp0.. and we use the first that takes the
 * device; machines without them (pseries, i440fx) hot-plug on the root bus.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/image.h"
#include "driver/network.h"
#include "driver/fdpass.h"
#include "driver/vmop.h"
#include "net/net.h"
#include "storage/storage.h"

#define UNPLUG_TIMEOUT_MS 30000
#define MAX_PORTS 4 /* QC_ARGV_HOTPLUG_PORTS in argv.c */

/* device_add on the first free hot-plug port (or the root bus when there are none). */
static int device_add(struct qc_vmop *op, const char *driver, const char *extra_json,
	const char *what, struct qc_error *err)
{
	struct qc_error e = {0};
	bool busy = false;
	int rc;

	for (int port = 0; port <= MAX_PORTS; port++) {
		cleanup_free char *bus = NULL, *args = NULL;

		if (port < MAX_PORTS)
			/* addr 0: a root port has one slot; QEMU would put a second
			 * device at an address the guest never scans */
			bus = qc_xasprintf(",\"bus\":\"qc-hp%d\",\"addr\":\"0\"", port);
		args = qc_xasprintf("{\"driver\":\"%s\"%s,%s}", driver, bus ? bus : "", extra_json);
		rc = qc_qmp_execute_text(
			op->q, "device_add", args, QC_VMOP_QMP_TIMEOUT_MS, NULL, &e);
		if (rc == 0)
			return 0;
		if (rc != -QC_ERR_QMP)
			return qc_error_set(err, e.code, "VM '%s': %s: %s", op->name, what, e.msg);
		if (port < MAX_PORTS && strstr(e.msg, "not found"))
			continue; /* no such port on this machine */
		if (port < MAX_PORTS &&
			(strstr(e.msg, "in use") || strstr(e.msg, "not available") ||
				strstr(e.msg, "occupied"))) {
			busy = true;
			continue;
		}
		if (port < MAX_PORTS)
			break;
	}
	if (busy)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s': %s: every hot-plug port is in use (%d); restart the VM to "
			"free them",
			op->name, what, MAX_PORTS);
	return qc_error_set(err, QC_ERR_QMP, "VM '%s': %s: %s", op->name, what, e.msg);
}

/* device_del and wait until the guest let it go. */
static int device_del(struct qc_vmop *op, const char *id, struct qc_error *err)
{
	cleanup_free char *args = qc_xasprintf("{\"id\":\"%s\"}", id);
	int64_t deadline = qc_deadline_ms(UNPLUG_TIMEOUT_MS);
	int rc;

	if ((rc = qc_qmp_execute_text(
		     op->q, "device_del", args, QC_VMOP_QMP_TIMEOUT_MS, NULL, err)) < 0) {
		if (rc == -QC_ERR_QMP && err && strstr(err->msg, "does not support hotplugging"))
			return qc_error_set(err, QC_ERR_STATE,
				"VM '%s': device '%s' was plugged in at start on the machine's "
				"root bus, which cannot unplug it; detach it while the VM is "
				"stopped (it is gone at the next start)",
				op->name, id);
		return qc_error_prefix(err, "VM '%s'", op->name);
	}
	for (;;) {
		cleanup_qmp_event struct qc_qmp_event *ev = NULL;
		const char *dev;

		if ((rc = qc_qmp_wait_event(
			     op->q, "DEVICE_DELETED", qc_time_left_ms(deadline), &ev, err)) < 0) {
			if (rc == -ETIMEDOUT)
				return qc_error_set(err, ETIMEDOUT,
					"VM '%s': the guest did not release device '%s' within %d "
					"s (does it handle PCIe hot-unplug?); the device stays "
					"recorded",
					op->name, id, UNPLUG_TIMEOUT_MS / 1000);
			return qc_error_prefix(err, "VM '%s'", op->name);
		}
		dev = qc_json_string(qc_json_get(ev->data, "device"));
		if (dev && strcmp(dev, id) == 0)
			return 0;
	}
}

static void blockdev_del(struct qc_vmop *op, const char *node)
{
	cleanup_free char *args = qc_xasprintf("{\"node-name\":\"%s\"}", node);
	struct qc_error e = {0};

	if (qc_qmp_execute_text(op->q, "blockdev-del", args, QC_VMOP_QMP_TIMEOUT_MS, NULL, &e) < 0)
		qc_debug("VM '%s': blockdev-del %s: %s", op->name, node, e.msg);
}

/*
 * Keep the devices state.json publishes for the run current with a device
 * just plugged or unplugged.  The device is in QEMU (or gone) either way:
 * a failed write is a warning.
 */
static void publish(struct qc_vmop *op, const struct qc_state_device_edit *e)
{
	struct qc_error w = {0};

	if (qc_state_edit_devices(
		    op->dfd, op->live.st.monitor_pid, op->live.st.started_at_ms, e, &w) < 0)
		qc_warn("VM '%s': %s '%s': the run's devices in state.json are stale: %s", op->name,
			e->nic ? "NIC" : "disk", e->name, w.msg);
}

/* ------------------------------------------------------------------ disks */

/*
 * blockdev-add of disk i on a file opened here and passed with add-fd
 * (SCM_RIGHTS): QEMU opens no path, so the file needs no access for
 * QEMU's user.  A qcow2 gets "backing": null (a hot-plugged disk has no
 * chain; one its header names is refused).  The fd set goes once the node
 * holds its own copy of the fd.
 */
static int plug_disk(struct qc_vmop *op, size_t i, struct qc_error *err)
{
	const struct qc_disk *k = &op->d->disks[i];
	char fmt[32], file[32], dev[80];
	cleanup_free char *a1 = NULL, *a2 = NULL, *a3 = NULL, *what = NULL;
	const char *ro = k->readonly ? ",\"read-only\":true" : "";
	bool qcow2 = strcmp(k->format, "qcow2") == 0;
	cleanup_close int fd = -1;
	int64_t set = -1;
	int rc;

	what = qc_xasprintf("VM '%s': disk '%s'", op->name, k->name);
	if (k->backing)
		return qc_error_set(err, QC_ERR_UNSUPPORTED,
			"%s: a hot-plugged disk has no backing file", what);
	if ((rc = qc_driver_fdpass_open_file(op->dfd, op->vm_dir, what, k->path, k->format,
		     !k->readonly, true, &fd, err)) < 0)
		return rc;
	if ((rc = qc_qmp_add_fd(op->q, fd, -1, k->name, QC_VMOP_QMP_TIMEOUT_MS, &set, NULL, err)) <
		0)
		return qc_error_prefix(err, "%s", what);
	qc_argv_disk_ids(op->d, i, fmt, file, dev);
	a1 = qc_xasprintf("{\"driver\":\"file\",\"filename\":\"/dev/fdset/%lld\","
			  "\"node-name\":\"%s\"%s}",
		(long long) set, file, ro);
	a2 = qc_xasprintf("{\"driver\":\"%s\",\"file\":\"%s\",\"node-name\":\"%s\"%s%s}", k->format,
		file, fmt, ro, qcow2 ? ",\"backing\":null" : "");
	rc = qc_qmp_execute_text(op->q, "blockdev-add", a1, QC_VMOP_QMP_TIMEOUT_MS, NULL, err);
	if (rc == 0 && (rc = qc_qmp_execute_text(
				op->q, "blockdev-add", a2, QC_VMOP_QMP_TIMEOUT_MS, NULL, err)) < 0)
		blockdev_del(op, file);
	(void) qc_qmp_remove_fd(op->q, set, -1, QC_VMOP_QMP_TIMEOUT_MS, NULL);
	if (rc < 0)
		return qc_error_prefix(err, "%s", what);
	a3 = qc_xasprintf("\"drive\":\"%s\",\"id\":\"%s\"", fmt, dev);
	if ((rc = device_add(op, "virtio-blk-pci", a3, k->name, err)) < 0) {
		blockdev_del(op, fmt);
		blockdev_del(op, file);
		return rc;
	}
	return 0;
}

static bool disk_uses(const struct qc_domain *d, const char *path)
{
	for (size_t i = 0; i < d->n_disks; i++)
		if (qc_streq_null(d->disks[i].path, path) ||
			qc_streq_null(d->disks[i].backing, path))
			return true;
	return false;
}

/*
 * ".attach-DISK.PID.pending", written before attach-disk creates DISK.qcow2
 * and removed once domain.xml names it: an attach killed in between left a
 * disk file no domain.xml names (a detached disk's file stays by design, so
 * only this note tells the two apart).  Removed under the VM's lock.
 */
static void sweep_dead_attaches(struct qc_vmop *op)
{
	cleanup_dir DIR *d = NULL;
	struct dirent *de;

	if (qc_opendir_at(op->dfd, NULL, 0, &d) < 0)
		return;
	while ((de = qc_readdir(d))) {
		cleanup_free char *disk = NULL, *file = NULL;
		const char *e = de->d_name, *dot;
		size_t len = strlen(e);
		long pid;

		if (!qc_str_has_prefix(e, ".attach-") || len < 17 ||
			strcmp(e + len - 8, ".pending") != 0)
			continue;
		disk = qc_xstrndup(e + 8, len - 16);
		dot = strrchr(disk, '.');
		if (!dot || dot == disk || dot[1 + strspn(dot + 1, "0123456789")] != '\0')
			continue;
		pid = strtol(dot + 1, NULL, 10);
		if (pid <= 0 || kill((pid_t) pid, 0) == 0 || errno != ESRCH)
			continue;
		disk[dot - disk] = '\0';
		file = qc_xasprintf("%s.qcow2", disk);
		if (!qc_domain_find_disk(op->d, disk))
			(void) unlinkat(op->dfd, file, 0);
		(void) unlinkat(op->dfd, e, 0);
	}
}

QC_PUBLIC int qc_vm_attach_disk(qc_ctx *ctx, const char *name, const char *spec, char **ret_dev,
	bool *ret_live, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	struct qc_error scratch = {0};
	struct qc_disk disk = {0};
	cleanup_free char *intent = NULL;
	uint64_t size = 0;
	unsigned index;
	bool made = false;
	int rc;

	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_SNAPS, &op, err)) < 0)
		return rc;
	sweep_dead_attaches(&op);
	for (index = 1; index <= 25; index++) {
		cleanup_free char *dn = qc_xasprintf("disk%u", index);
		cleanup_free char *p = qc_xasprintf("%s/%s.qcow2", op.vm_dir, dn);

		if (!qc_domain_find_disk(op.d, dn) && access(p, F_OK) != 0)
			break;
	}
	if (index > 25)
		return qc_error_set(err, QC_ERR_INVALID, "VM '%s': at most 25 data disks", name);
	if (spec && qc_parse_size("attach-disk", spec, &size, NULL) == 0 && size < (1u << 20))
		return qc_error_set(err, QC_ERR_INVALID,
			"attach-disk '%s': too small, at least 1M (or give an image FILE)", spec);
	if ((rc = qc_driver_disk_from_spec(ctx, spec, index, op.vm_dir, &disk, &size, err)) < 0) {
		qc_disk_clear(&disk);
		return rc;
	}
	/* what the save below requires, checked before anything is made or plugged */
	if ((rc = qc_domain_home_disk(qc_ctx_root(ctx), op.vm_dir, &disk, err)) < 0) {
		qc_disk_clear(&disk);
		return qc_error_prefix(err, "VM '%s'", name);
	}
	if (!disk.owned && disk_uses(op.d, disk.path)) {
		rc = qc_error_set(err, QC_ERR_EXISTS, "VM '%s' uses '%s' already", name, disk.path);
		qc_disk_clear(&disk);
		return rc;
	}
	if (disk.owned) {
		intent = qc_xasprintf(".attach-%s.%d.pending", disk.name, (int) getpid());
		if ((rc = qc_write_atomic(op.dfd, intent, "", 0, 0600, err)) < 0 ||
			(rc = qc_driver_disk_create(disk.path, size, err)) < 0) {
			(void) unlinkat(op.dfd, intent, 0);
			qc_disk_clear(&disk);
			return qc_error_prefix(err, "VM '%s'", name);
		}
		made = true;
		/* the caller's, like every file of the VM (QEMU gets an fd) */
		{
			/* a file of the VM (qc_domain_home_disk above): by name in its directory */
			const char *base = qc_domain_home_base(op.vm_dir, disk.path);
			cleanup_close int fd =
				openat(op.dfd, base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

			if (fd < 0 || fchmod(fd, 0600) < 0) {
				rc = qc_error_errno(
					err, errno, "VM '%s': chmod 0600 '%s'", name, disk.path);
				(void) unlinkat(op.dfd, base, 0);
				(void) unlinkat(op.dfd, intent, 0);
				qc_disk_clear(&disk);
				return rc;
			}
		}
		qc_fault_step("attach-disk:created");
	}
	*qc_domain_add_disk(op.d) = disk;
	if (op.live.monitor_alive) {
		/* QEMU gets the file as an fd (plug_disk): it needs no access to it */
		char fmt[32], file[32], dev[80];

		if ((rc = qc_vmop_qmp(&op, err)) < 0 ||
			(rc = plug_disk(&op, op.d->n_disks - 1, err)) < 0)
			goto fail;
		qc_argv_disk_ids(op.d, op.d->n_disks - 1, fmt, file, dev);
		publish(&op, &(struct qc_state_device_edit){.add = true,
				     .name = op.d->disks[op.d->n_disks - 1].name,
				     .device = dev});
		qc_fault_step("attach-disk:plugged");
	}
	if ((rc = qc_vmop_save(&op, err)) < 0)
		goto fail;
	if (intent)
		(void) unlinkat(op.dfd, intent, 0);
	if (ret_dev)
		*ret_dev = qc_xstrdup(op.d->disks[op.d->n_disks - 1].name);
	if (ret_live)
		*ret_live = op.live.monitor_alive;
	return 0;
fail:
	if (made) /* the file just made, by its name in the VM's directory */
		(void) unlinkat(op.dfd, strrchr(op.d->disks[op.d->n_disks - 1].path, '/') + 1, 0);
	if (intent)
		(void) unlinkat(op.dfd, intent, 0);
	(void) scratch;
	return rc;
}

/* "VM 'vm' has no disk 'name' (disks: a, b)", or of its NICs. */
static int no_such(
	struct qc_error *err, const struct qc_domain *d, bool nic, const char *vm, const char *name)
{
	cleanup_buf struct qc_buf b = {0};
	const char *what = nic ? "NIC" : "disk";
	size_t n = nic ? d->n_nics : d->n_disks;

	for (size_t i = 0; i < n; i++)
		qc_buf_printf(&b, "%s%s", i ? ", " : "", nic ? d->nics[i].name : d->disks[i].name);
	return qc_error_set(err, QC_ERR_NOTFOUND, "VM '%s' has no %s '%s' (%ss: %s)", vm, what,
		name, what, n ? b.data : "none");
}

/*
 * Begin the operation that detaches VM vm's disk (or NIC, if nic) name and
 * find that device: its index in the domain in *ret_i.
 */
static int begin_detach(qc_ctx *ctx, const char *vm, bool nic, const char *name,
	struct qc_vmop *op, size_t *ret_i, struct qc_error *err)
{
	const struct qc_disk *k = NULL;
	const struct qc_nic *n = NULL;
	int rc;

	if ((rc = qc_vmop_begin(ctx, vm, QC_VMOP_SNAPS, op, err)) < 0)
		return rc;
	if (nic ? !(n = qc_domain_find_nic(op->d, name)) : !(k = qc_domain_find_disk(op->d, name)))
		return no_such(err, op->d, nic, vm, name);
	*ret_i = nic ? (size_t) (n - op->d->nics) : (size_t) (k - op->d->disks);
	return 0;
}

QC_PUBLIC int qc_vm_detach_disk(
	qc_ctx *ctx, const char *name, const char *disk, bool *ret_live, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	struct qc_disk *k;
	char fmt[32], file[32], dev[80];
	size_t i;
	int rc;

	if ((rc = begin_detach(ctx, name, false, disk, &op, &i, err)) < 0)
		return rc;
	k = &op.d->disks[i];
	if (k->role != QC_ROLE_DATA)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': disk '%s' is the %s disk; only data disks can be detached", name,
			disk, k->role == QC_ROLE_ROOT ? "root" : "seed");
	for (size_t s = 0; s < op.snaps.n; s++)
		for (size_t j = 0; j < op.snaps.v[s].n_disks; j++)
			if (strcmp(op.snaps.v[s].disks[j].disk, disk) == 0)
				return qc_error_set(err, QC_ERR_STATE,
					"VM '%s': disk '%s' is in snapshot '%s'; remove the "
					"snapshot first",
					name, disk, op.snaps.v[s].name);
	if (op.live.monitor_alive) {
		qc_argv_disk_ids(op.d, i, fmt, file, dev);
		if ((rc = qc_vmop_qmp(&op, err)) < 0 || (rc = device_del(&op, dev, err)) < 0)
			return rc;
		publish(&op, &(struct qc_state_device_edit){.name = disk});
		blockdev_del(&op, fmt);
		blockdev_del(&op, file);
	}
	qc_disk_clear(k);
	memmove(k, k + 1, (op.d->n_disks - i - 1) * sizeof(*k));
	op.d->n_disks--;
	if (ret_live)
		*ret_live = op.live.monitor_alive;
	return qc_vmop_save(&op, err);
}

/* ------------------------------------------------------------------- NICs */

/*
 * netdev_add of user NIC n failed with err, asking for ports: 1 when QEMU
 * could not bind an automatic port another program took and attempts
 * remain (err cleared), < 0 when it was a fixed one or the last attempt
 * (qc_network_fwd_taken()), 0 for any other failure.
 */
static int user_port_taken(const struct qc_vmop *op, const struct qc_nic *n, const unsigned *ports,
	int attempt, struct qc_error *err)
{
	char proto[4];
	unsigned port;

	if (!qc_network_fwd_bind_failed(err->msg, proto, &port))
		return 0;
	for (size_t f = 0; f < n->n_fwds; f++)
		if (ports[f] == port && strcmp(n->fwds[f].proto, proto) == 0)
			return qc_network_fwd_taken(op->name, n, f, port, attempt, true, err);
	return 0;
}

/*
 * netdev_add of user NIC n as netdev: its host ports chosen and held (TCP)
 * until QEMU has bound them; an automatic one another program took
 * meanwhile is chosen afresh (QC_NETWORK_FWD_TRIES attempts in all).
 */
static int plug_user_netdev(struct qc_vmop *op, const struct qc_nic *n, const char *netdev,
	unsigned **ret_ports, struct qc_error *err)
{
	for (int attempt = 1;; attempt++) {
		cleanup_buf struct qc_buf b = {0};
		cleanup_free unsigned *ports = NULL;
		cleanup_free int *held = NULL;
		int rc;

		if ((rc = qc_network_nic_ports(n, &ports, &held, err)) < 0)
			return qc_error_prefix(err, "VM '%s'", op->name);
		qc_buf_printf(&b, "{\"type\":\"user\",\"id\":\"%s\"", netdev);
		if (n->n_fwds) {
			qc_buf_puts(&b, ",\"hostfwd\":[");
			for (size_t f = 0; f < n->n_fwds; f++) {
				const struct qc_hostfwd *w = &n->fwds[f];

				qc_buf_printf(&b, "%s{\"str\":\"%s:%s:%u-:%u\"}", f ? "," : "",
					w->proto, w->host_addr[0] ? w->host_addr : "127.0.0.1",
					ports[f], w->guest_port);
			}
			qc_buf_puts(&b, "]");
		}
		qc_buf_puts(&b, "}");
		qc_vmop_test_hold(op, "attach-net:netdev");
		rc = qc_qmp_execute_text(
			op->q, "netdev_add", b.data, QC_VMOP_QMP_TIMEOUT_MS, NULL, err);
		qc_network_held_close(held, n->n_fwds);
		if (rc >= 0) {
			*ret_ports = TAKE_PTR(ports);
			return 0;
		}
		if ((rc = user_port_taken(op, n, ports, attempt, err)) < 0)
			return rc;
		if (rc == 0)
			return qc_error_prefix(err, "VM '%s': NIC '%s'", op->name, n->name);
	}
}

/*
 * netdev_add + device_add of NIC i.  A user NIC's host ports are chosen
 * here (*ret_ports, one per forward, for the run's records); a tap NIC's
 * tap name goes to tap ("" for a user NIC).
 */
static int plug_nic(
	struct qc_vmop *op, size_t i, unsigned **ret_ports, char tap[16], struct qc_error *err)
{
	const struct qc_nic *n = &op->d->nics[i];
	char netdev[80], dev[80];
	cleanup_buf struct qc_buf b = {0};
	cleanup_free char *extra = NULL, *fdname = NULL, *del = NULL;
	cleanup_free unsigned *ports = NULL;
	int rc;

	tap[0] = 0;
	qc_argv_nic_ids(op->d, i, netdev, dev);
	if (n->type == QC_NIC_USER) {
		if ((rc = plug_user_netdev(op, n, netdev, &ports, err)) < 0)
			return rc;
	} else {
		cleanup_close int fd = -1;

		if ((rc = qc_network_nic_open_tap(op->ctx, op->d, i, tap, &fd, err)) < 0)
			return qc_error_prefix(err, "VM '%s': NIC '%s'", op->name, n->name);
		fdname = qc_xasprintf("fd-%s", netdev);
		if ((rc = qc_qmp_getfd(op->q, fd, fdname, QC_VMOP_QMP_TIMEOUT_MS, err)) < 0)
			return qc_error_prefix(err, "VM '%s': NIC '%s'", op->name, n->name);
		qc_buf_printf(&b, "{\"type\":\"tap\",\"id\":\"%s\",\"fd\":\"%s\",\"vhost\":false}",
			netdev, fdname);
		if ((rc = qc_qmp_execute_text(
			     op->q, "netdev_add", b.data, QC_VMOP_QMP_TIMEOUT_MS, NULL, err)) < 0) {
			(void) qc_qmp_closefd(op->q, fdname, QC_VMOP_QMP_TIMEOUT_MS, NULL);
			return qc_error_prefix(err, "VM '%s': NIC '%s'", op->name, n->name);
		}
	}
	extra = qc_xasprintf("\"netdev\":\"%s\",\"mac\":\"%s\",\"id\":\"%s\"", netdev, n->mac, dev);
	if ((rc = device_add(op, n->model ? n->model : "virtio-net-pci", extra, n->name, err)) <
		0) {
		del = qc_xasprintf("{\"id\":\"%s\"}", netdev);
		(void) qc_qmp_execute_text(
			op->q, "netdev_del", del, QC_VMOP_QMP_TIMEOUT_MS, NULL, NULL);
		return rc;
	}
	*ret_ports = TAKE_PTR(ports);
	return 0;
}

/* device_del (the guest lets it go) + netdev_del of NIC i: QEMU closes its forwards or tap. */
static int unplug_nic(struct qc_vmop *op, size_t i, struct qc_error *err)
{
	char netdev[80], dev[80];
	cleanup_free char *args = NULL;
	struct qc_error e = {0};
	int rc;

	qc_argv_nic_ids(op->d, i, netdev, dev);
	if ((rc = qc_vmop_qmp(op, err)) < 0 || (rc = device_del(op, dev, err)) < 0)
		return rc;
	args = qc_xasprintf("{\"id\":\"%s\"}", netdev);
	if (qc_qmp_execute_text(op->q, "netdev_del", args, QC_VMOP_QMP_TIMEOUT_MS, NULL, &e) < 0)
		qc_debug("VM '%s': netdev_del %s: %s", op->name, netdev, e.msg);
	return 0;
}

/* Give a detached network NIC's address back (best effort: a failure is logged). */
static void release_lease(struct qc_vmop *op, const struct qc_nic *n)
{
	cleanup_close int dfd = -1, lock = -1;
	cleanup_free char *key = NULL;
	struct qc_net_def def = {0};
	struct qc_error e = {0};

	if (n->type != QC_NIC_NETWORK || !n->network)
		return;
	key = qc_xasprintf("%s/%s", op->d->uuid_str, n->name);
	if (qc_net_dir_open(qc_ctx_root(op->ctx), false, LOCK_EX, &dfd, &lock, &e) < 0 || dfd < 0 ||
		qc_net_def_load(dfd, n->network, true, &def, &e) < 0) {
		qc_warn("VM '%s': NIC '%s': address not released: %s", op->name, n->name, e.msg);
		return;
	}
	if (qc_net_ipam_release(&def.ipam, key) > 0 && qc_net_leases_save(dfd, &def, &e) < 0)
		qc_warn("VM '%s': NIC '%s': address not released: %s", op->name, n->name, e.msg);
	qc_net_def_clear(&def);
}

QC_PUBLIC int qc_vm_attach_net(qc_ctx *ctx, const char *name, const char *spec, char **ret_dev,
	bool *ret_live, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_free unsigned *ports = NULL;
	struct qc_error scratch = {0};
	struct qc_nic nic = {0};
	bool none = false, plugged = false, recorded = false;
	unsigned index;
	struct qc_nic *n;
	size_t k, at;
	char tap[16] = "";
	int rc;

	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_SNAPS, &op, err)) < 0)
		return rc;
	if ((rc = qc_network_parse_spec(spec ? spec : "", &nic, &none, err)) < 0) {
		qc_nic_clear(&nic);
		return rc;
	}
	if (none)
		return qc_error_set(err, QC_ERR_INVALID, "attach-net 'none': nothing to attach");
	for (index = 0; index < 64; index++) {
		cleanup_free char *nn = qc_xasprintf("net%u", index);

		if (!qc_domain_find_nic(op.d, nn))
			break;
	}
	nic.name = qc_xasprintf("net%u", index);
	if (!nic.mac[0]) {
		/* the deterministic MAC of this index, unless another NIC has it */
		for (unsigned salt = index;; salt += 64) {
			bool clash = false;

			qc_net_mac_gen(op.d->uuid, salt, nic.mac);
			for (size_t i = 0; i < op.d->n_nics; i++)
				clash |= strcasecmp(op.d->nics[i].mac, nic.mac) == 0;
			if (!clash)
				break;
		}
	}
	for (size_t i = 0; i < op.d->n_nics; i++)
		if (strcasecmp(op.d->nics[i].mac, nic.mac) == 0) {
			rc = qc_error_set(err, QC_ERR_EXISTS,
				"VM '%s': NIC '%s' has MAC %s already", name, op.d->nics[i].name,
				nic.mac);
			qc_nic_clear(&nic);
			return rc;
		}
	n = qc_domain_add_nic(op.d);
	*n = nic;
	if ((rc = qc_network_domain_create(ctx, op.d, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	qc_fault_step("attach-net:leased");
	k = op.d->n_nics - 1;
	at = qc_network_fwd_index(op.d, k);
	if (op.live.monitor_alive) {
		if ((rc = qc_vmop_qmp(&op, err)) < 0 ||
			(rc = plug_nic(&op, k, &ports, tap, err)) < 0)
			goto fail;
		plugged = true;
		/* The run's ports first, where ssh and info look for them (before
		 * domain.xml: a record without its NIC is never looked up). */
		if ((rc = qc_network_runtime_nic(
			     op.dfd, k, &op.d->nics[k], at, true, ports, tap, err)) < 0) {
			qc_error_prefix(err, "VM '%s'", name);
			goto fail;
		}
		recorded = true;
	}
	if ((rc = qc_vmop_save(&op, err)) < 0)
		goto fail;
	if (plugged)
		publish(&op, &(struct qc_state_device_edit){.add = true,
				     .nic = true,
				     .name = op.d->nics[k].name,
				     .type = qc_nic_type_name(op.d->nics[k].type),
				     .tap = tap[0] ? tap : NULL,
				     .mac = op.d->nics[k].mac});
	if (ret_dev)
		*ret_dev = qc_xstrdup(op.d->nics[k].name);
	if (ret_live)
		*ret_live = op.live.monitor_alive;
	return 0;
fail:
	/* Undo in QEMU what domain.xml will not have (the first error is the one reported). */
	if (recorded && qc_network_runtime_nic(
				op.dfd, k, &op.d->nics[k], at, false, NULL, NULL, &scratch) < 0)
		qc_warn("VM '%s': NIC '%s': %s", name, op.d->nics[k].name, scratch.msg);
	if (plugged && unplug_nic(&op, k, &scratch) < 0)
		qc_warn("VM '%s': NIC '%s' stays plugged in until the VM stops: %s", name,
			op.d->nics[k].name, scratch.msg);
	release_lease(&op, &op.d->nics[k]);
	return rc;
}

QC_PUBLIC int qc_vm_detach_net(
	qc_ctx *ctx, const char *name, const char *nic, bool *ret_live, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	struct qc_nic *n, removed;
	size_t i, at;
	int rc;

	if ((rc = begin_detach(ctx, name, true, nic, &op, &i, err)) < 0)
		return rc;
	n = &op.d->nics[i];
	at = qc_network_fwd_index(op.d, i);
	if (op.live.monitor_alive) {
		if ((rc = unplug_nic(&op, i, err)) < 0)
			return rc;
		publish(&op, &(struct qc_state_device_edit){.nic = true, .name = nic});
	}
	removed = *n;
	memmove(n, n + 1, (op.d->n_nics - i - 1) * sizeof(*n));
	op.d->n_nics--;
	if (ret_live)
		*ret_live = op.live.monitor_alive;
	rc = qc_vmop_save(&op, err);
	if (rc == 0 && op.live.monitor_alive) {
		struct qc_error e = {0};

		/* QEMU closed the forwards: the run's records forget them. */
		if (qc_network_runtime_nic(op.dfd, i, &removed, at, false, NULL, NULL, &e) < 0)
			qc_warn("VM '%s': NIC '%s' detached, but its host ports stay listed: %s",
				name, removed.name, e.msg);
		qc_driver_portfwd_forget_nic(op.dfd, &op.live, removed.name);
	}
	if (rc == 0)
		release_lease(&op, &removed);
	qc_nic_clear(&removed);
	return rc;
}
