/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The public API of named networks (net create, rm, list, info, the
 * gateway for a seed): net/network.c and net/lease.c keep the definitions
 * and leases under <root>/networks/; this file adds what knows about VMs
 * (a lease pins a network only while its VM exists) and the messages a
 * user sees.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/driver.h"
#include "driver/network.h"
#include "net/net.h"

/* ------------------------------------------------------- net create / rm */

QC_PUBLIC int qc_network_create(
	qc_ctx *ctx, const struct qc_network_create_opts *o, struct qc_error *err)
{
	cleanup_close int dfd = -1;
	cleanup_close int lock = -1;
	cleanup_strv char **names = NULL;
	cleanup_net_def struct qc_net_def n = {0};
	cleanup_nl struct qc_net_nl *nl = NULL;
	struct qc_net_cidr subnet, gw;
	struct qc_net_link_info info;
	struct qc_error scratch = {0};
	char bridge[16];
	int r;

	if ((r = qc_validate_name("network", o->name, err)) < 0)
		return r;
	if ((r = qc_net_parse_cidr("--subnet", o->subnet, true, &subnet, err)) < 0 ||
		(r = qc_net_ipam_init(&n.ipam, &subnet, err)) < 0)
		return qc_error_prefix(err, "network '%s'", o->name);
	if (o->bridge) {
		if ((r = qc_net_validate_ifname("--bridge", o->bridge, err)) < 0)
			return qc_error_prefix(err, "network '%s'", o->name);
		snprintf(bridge, sizeof(bridge), "%s", o->bridge);
	} else {
		qc_net_default_bridge(o->name, bridge);
	}
	if (o->mtu && (o->mtu < 68 || o->mtu > 65535))
		return qc_error_set(err, QC_ERR_INVALID,
			"network '%s': MTU %u out of range 68-65535", o->name, o->mtu);

	if ((r = qc_net_dir_open(qc_ctx_root(ctx), true, LOCK_EX, &dfd, &lock, err)) < 0)
		return r;
	if ((r = qc_net_dir_names(dfd, &names, err)) < 0)
		return r;
	for (char **p = names; *p; p++) {
		struct qc_net_def other = {0};
		char a[24], b[24];

		if (!strcmp(*p, o->name))
			return qc_error_set(
				err, QC_ERR_EXISTS, "network '%s' already exists", o->name);
		if (qc_net_def_load(dfd, *p, false, &other, &scratch) < 0)
			continue; /* a broken file does not block others; net list shows it */
		if (qc_net_cidr_overlap(&subnet, &other.ipam.subnet)) {
			qc_net_format_cidr(&subnet, a, sizeof(a));
			qc_net_format_cidr(&other.ipam.subnet, b, sizeof(b));
			qc_net_def_clear(&other);
			return qc_error_set(err, QC_ERR_INVALID,
				"network '%s': subnet %s overlaps network '%s' (%s); pick a "
				"disjoint --subnet",
				o->name, a, *p, b);
		}
		if (!strcmp(other.bridge, bridge)) {
			qc_net_def_clear(&other);
			return qc_error_set(err, QC_ERR_EXISTS,
				"network '%s': bridge '%s' is already used by network '%s'; pick "
				"another --bridge",
				o->name, bridge, *p);
		}
		qc_net_def_clear(&other);
	}

	qc_fault_step("net:locked");
	n.name = qc_xstrdup(o->name);
	n.bridge = qc_xstrdup(bridge);
	n.mtu = o->mtu;
	gw.addr = n.ipam.gateway;
	gw.prefix = subnet.prefix;
	if ((r = qc_net_nl_open(&nl, err)) < 0)
		return qc_error_prefix(err, "network '%s'", o->name);
	if ((r = qc_net_link_get(nl, bridge, &info, err)) < 0)
		return qc_error_prefix(err, "network '%s'", o->name);
	{
		/* A subnet the host already uses (its LAN, a VPN) would break its routing. */
		char desc[128];
		char a[24];
		int c = qc_net_addr_conflict(
			nl, &subnet, r > 0 ? bridge : NULL, desc, sizeof(desc), err);

		if (c < 0)
			return qc_error_prefix(err, "network '%s'", o->name);
		if (c > 0) {
			qc_net_format_cidr(&subnet, a, sizeof(a));
			return qc_error_set(err, QC_ERR_INVALID,
				"network '%s': subnet %s overlaps %s; pick a disjoint --subnet",
				o->name, a, desc);
		}
	}
	if (r > 0) {
		/* An existing bridge is adopted (and left in place by net rm). */
		if (strcmp(info.kind, "bridge"))
			return qc_error_set(err, QC_ERR_INVALID,
				"network '%s': bridge '%s': a link of that name exists and is not "
				"a bridge (kind '%s'); pick another --bridge",
				o->name, bridge, info.kind[0] ? info.kind : "none");
		if ((r = qc_net_link_ensure_addr_up(nl, bridge, &gw, err)) < 0)
			return qc_error_prefix(err, "network '%s'", o->name);
		/* A bridge our own killed create made (its intent file says so) stays ours. */
		n.bridge_created = qc_net_pending_is(dfd, o->name, bridge);
		n.gateway_added = r > 0 || n.bridge_created;
	} else {
		/* Written first: a create killed after the bridge exists is known by it. */
		if ((r = qc_net_pending_write(dfd, o->name, bridge, err)) < 0)
			return qc_error_prefix(err, "network '%s'", o->name);
		qc_fault_step("net:intent-written");
		if ((r = qc_net_bridge_create(nl, bridge, o->mtu, &gw, err)) < 0) {
			qc_net_pending_drop(dfd, o->name);
			return qc_error_prefix(err, "network '%s'", o->name);
		}
		n.bridge_created = true;
		qc_fault_step("net:bridge-created");
	}
	if ((r = qc_net_def_save(dfd, &n, err)) < 0) {
		if (n.bridge_created)
			(void) qc_net_bridge_delete(nl, bridge, &scratch);
		else if (n.gateway_added)
			(void) qc_net_link_del_addr(nl, bridge, &gw, &scratch);
		qc_net_pending_drop(dfd, o->name);
		return qc_error_prefix(err, "network '%s'", o->name);
	}
	qc_fault_step("net:defined");
	qc_net_pending_drop(dfd, o->name);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * A create still assembling vm: it leases (under networks/lock) after making
 * vms/.create-<vm>.<pid> and renames that into place only later.
 */
static bool vm_being_created(qc_ctx *ctx, const char *vm)
{
	cleanup_free char *dir = qc_xasprintf("%s/vms", qc_ctx_root(ctx));
	cleanup_free char *prefix = qc_xasprintf(".create-%s.", vm);
	cleanup_dir DIR *d = NULL;
	struct dirent *de;
	bool found = false;

	if (qc_opendir_at(AT_FDCWD, dir, 0, &d) < 0)
		return false;
	while (!found && (de = qc_readdir(d))) {
		char *end;
		long pid;

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		errno = 0;
		pid = strtol(de->d_name + strlen(prefix), &end, 10);
		if (errno || *end || pid <= 0)
			continue;
		found = kill((pid_t) pid, 0) == 0 || errno == EPERM;
	}
	return found;
}

/* A lease whose VM directory is gone (deleted by hand) does not pin a network. */
static bool lease_vm_exists(qc_ctx *ctx, const char *vm)
{
	cleanup_free char *p = NULL;

	if (!vm || !*vm || qc_validate_name("VM", vm, NULL) < 0)
		return true; /* unknown owner: keep, be safe */
	p = qc_xasprintf("%s/vms/%s/%s", qc_ctx_root(ctx), vm, QC_VM_DOMAIN);
	return access(p, F_OK) == 0 || vm_being_created(ctx, vm);
}

/* Network name's definition and leases, with its directory as *dfd, locked (lock_op). */
static int load_network(qc_ctx *ctx, const char *name, int lock_op, int *dfd, int *lock,
	struct qc_net_def *n, struct qc_error *err)
{
	int r;

	if ((r = qc_validate_name("network", name, err)) < 0)
		return r;
	if ((r = qc_net_dir_open(qc_ctx_root(ctx), false, lock_op, dfd, lock, err)) < 0)
		return r;
	return qc_net_def_load(*dfd, name, true, n, err);
}

QC_PUBLIC int qc_network_remove(qc_ctx *ctx, const char *name, struct qc_error *err)
{
	cleanup_close int dfd = -1;
	cleanup_close int lock = -1;
	cleanup_net_def struct qc_net_def n = {0};
	cleanup_nl struct qc_net_nl *nl = NULL;
	cleanup_strvec struct qc_strv vms = {0};
	cleanup_free char *leases = NULL, *def = NULL;
	int r;

	if ((r = load_network(ctx, name, LOCK_EX, &dfd, &lock, &n, err)) < 0)
		return r;
	qc_fault_step("net-rm:locked");
	for (size_t i = 0; i < n.ipam.n_leases; i++) {
		const char *vm = n.ipam.leases[i].owner;
		bool dup = false;

		if (!lease_vm_exists(ctx, vm))
			continue;
		for (size_t k = 0; k < vms.n; k++)
			dup |= !strcmp(vms.v[k], vm ? vm : "?");
		if (!dup)
			qc_strv_push(&vms, vm ? vm : "?");
	}
	if (vms.n) {
		cleanup_free char *list = NULL;

		qsort(vms.v, vms.n, sizeof(char *), cmp_str);
		list = qc_strv_join(vms.v, ", ");

		return qc_error_set(err, QC_ERR_BUSY,
			"network '%s' is in use by VM%s %s; delete %s first (qemuctl delete NAME)",
			name, vms.n > 1 ? "s" : "", list, vms.n > 1 ? "them" : "it");
	}
	if (n.bridge_created || n.gateway_added) {
		if ((r = qc_net_nl_open(&nl, err)) < 0)
			return qc_error_prefix(err, "network '%s'", name);
	}
	if (n.bridge_created) {
		r = qc_net_bridge_delete(nl, n.bridge, err);
		/* Already gone (host reboot): fine.  Replaced by a non-bridge: not ours. */
		if (r < 0 && r != -QC_ERR_NOTFOUND && r != -QC_ERR_INVALID)
			return qc_error_prefix(err, "network '%s'", name);
	} else if (n.gateway_added) {
		struct qc_net_cidr gw = {.addr = n.ipam.gateway, .prefix = n.ipam.subnet.prefix};

		if ((r = qc_net_link_del_addr(nl, n.bridge, &gw, err)) < 0)
			return qc_error_prefix(err, "network '%s'", name);
	}
	/* Killed from here on: the network is listed without its bridge; a retry ends it. */
	qc_fault_step("net-rm:bridge-deleted");
	leases = qc_xasprintf("%s.leases.json", name);
	def = qc_xasprintf("%s.json", name);
	if (unlinkat(dfd, leases, 0) < 0 && errno != ENOENT)
		return qc_error_errno(err, errno, "network '%s': remove networks/%s", name, leases);
	qc_fault_step("net-rm:leases-removed");
	if (unlinkat(dfd, def, 0) < 0)
		return qc_error_errno(err, errno, "network '%s': remove networks/%s", name, def);
	return qc_fsync_dir(dfd, err);
}

/* ------------------------------------------------------------- net list */

QC_PUBLIC void qc_network_info_free(struct qc_network_info *info)
{
	if (!info)
		return;
	qc_free_all(info->name, info->subnet, info->gateway, info->bridge);
	qc_strv_free(info->vms);
	for (size_t i = 0; i < info->n_leases; i++)
		qc_free_all(info->leases[i].vm, info->leases[i].nic, info->leases[i].ip);
	free(info->leases);
	free(info);
}

QC_PUBLIC QC_DEFINE_LIST_FREE(qc_network_list_free, struct qc_network_info, qc_network_info_free)

static struct qc_network_info *make_info(const struct qc_net_def *n, struct qc_net_nl *nl)
{
	struct qc_network_info *info = qc_xzalloc(sizeof(*info));
	struct qc_strv vms = {0};
	char buf[24];

	info->name = qc_xstrdup(n->name);
	qc_net_format_cidr(&n->ipam.subnet, buf, sizeof(buf));
	info->subnet = qc_xstrdup(buf);
	qc_net_format_ipv4(n->ipam.gateway, buf, sizeof(buf));
	info->gateway = qc_xstrdup(buf);
	info->bridge = qc_xstrdup(n->bridge);
	info->mtu = n->mtu;
	info->bridge_created = n->bridge_created;
	info->bridge_present = nl && qc_net_bridge_get(nl, n->bridge, NULL, NULL) == 0;
	info->used = (unsigned) n->ipam.n_leases;
	info->capacity = qc_net_ipam_capacity(&n->ipam);
	info->leases = qc_xzalloc(sizeof(*info->leases) * (n->ipam.n_leases + 1));
	for (size_t i = 0; i < n->ipam.n_leases; i++) {
		const struct qc_net_lease *l = &n->ipam.leases[i];
		const char *slash = strchr(l->key, '/');
		bool dup = false;

		qc_net_format_ipv4(l->addr, buf, sizeof(buf));
		info->leases[i].ip = qc_xstrdup(buf);
		info->leases[i].vm = qc_xstrdup(l->owner ? l->owner : "");
		info->leases[i].nic = qc_xstrdup(slash ? slash + 1 : "");
		for (size_t k = 0; k < vms.n; k++)
			dup |= !strcmp(vms.v[k], info->leases[i].vm);
		if (!dup)
			qc_strv_push(&vms, info->leases[i].vm);
	}
	info->n_leases = n->ipam.n_leases;
	if (vms.n)
		qsort(vms.v, vms.n, sizeof(char *), cmp_str);
	info->vms = vms.v ? qc_strv_steal(&vms) : qc_xzalloc(sizeof(char *));
	return info;
}

QC_PUBLIC int qc_network_get(
	qc_ctx *ctx, const char *name, struct qc_network_info **ret, struct qc_error *err)
{
	cleanup_close int dfd = -1;
	cleanup_close int lock = -1;
	cleanup_net_def struct qc_net_def n = {0};
	cleanup_nl struct qc_net_nl *nl = NULL;
	int r;

	if ((r = load_network(ctx, name, LOCK_SH, &dfd, &lock, &n, err)) < 0)
		return r;
	(void) qc_net_nl_open(&nl, NULL);
	*ret = make_info(&n, nl);
	return 0;
}

QC_PUBLIC int qc_network_list(
	qc_ctx *ctx, struct qc_network_info ***ret, size_t *ret_n, struct qc_error *err)
{
	cleanup_close int dfd = -1;
	cleanup_close int lock = -1;
	cleanup_strv char **names = NULL;
	cleanup_nl struct qc_net_nl *nl = NULL;
	struct qc_network_info **v;
	size_t n = 0, cap;
	int r;

	if ((r = qc_net_dir_open(qc_ctx_root(ctx), false, LOCK_SH, &dfd, &lock, err)) < 0)
		return r;
	if ((r = qc_net_dir_names(dfd, &names, err)) < 0)
		return r;
	(void) qc_net_nl_open(&nl, NULL);
	for (cap = 0; names[cap]; cap++)
		;
	v = qc_xzalloc(sizeof(*v) * (cap + 1));
	for (size_t i = 0; i < cap; i++) {
		struct qc_net_def d = {0};

		if ((r = qc_net_def_load(dfd, names[i], true, &d, err)) < 0) {
			qc_network_list_free(v, n);
			return r;
		}
		v[n++] = make_info(&d, nl);
		qc_net_def_clear(&d);
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int qc_network_gateway(qc_ctx *ctx, const char *network, char gateway[16], unsigned *ret_prefix,
	struct qc_error *err)
{
	cleanup_close int dfd = -1;
	cleanup_net_def struct qc_net_def n = {0};
	int r;

	if ((r = qc_net_dir_open(qc_ctx_root(ctx), false, 0, &dfd, NULL, err)) < 0)
		return r;
	if ((r = qc_net_def_load(dfd, network, false, &n, err)) < 0)
		return r;
	qc_net_format_ipv4(n.ipam.gateway, gateway, 16);
	if (ret_prefix)
		*ret_prefix = n.ipam.subnet.prefix;
	return 0;
}
