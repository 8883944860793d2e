/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Named networks: definitions and leases under <root>/networks/, their
 * bridges, and the addresses of VMs' NICs (create / delete side).  The
 * allocator itself is net/ipam.c (pure); this file does the disk and the
 * locking around it.  Every change to any network holds networks/lock, so
 * overlap checks and allocations never race.
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

#define LOCK_TIMEOUT_MS 30000
#define NET_FILE_MAX (1u << 20)
#define LEASES_MAX (16u << 20)

void qc_netdef_clear(struct qc_netdef *n)
{
	free(n->name);
	free(n->bridge);
	qc_net_ipam_clear(&n->ipam);
	memset(n, 0, sizeof(*n));
}

static void netdef_clearp(struct qc_netdef *n)
{
	qc_netdef_clear(n);
}
#define cleanup_netdef __attribute__((cleanup(netdef_clearp)))

/*
 * ".NAME.pending-bridge" of a net create killed after NAME.json was written
 * (see pending_write): the definition has the bridge, the note can go.
 */
static void sweep_pending(int dfd)
{
	struct dirent **ents = NULL;
	int n = scandirat(dfd, ".", &ents, NULL, NULL);

	for (int i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;
		size_t len = strlen(e), sfx = strlen(".pending-bridge");

		if (e[0] == '.' && len > sfx + 1 && qc_str_has_suffix(e, ".pending-bridge")) {
			cleanup_free char *def =
				qc_xasprintf("%.*s.json", (int) (len - sfx - 1), e + 1);

			if (faccessat(dfd, def, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
				(void) unlinkat(dfd, e, 0);
		}
		free(ents[i]);
	}
	free(ents);
}

/* Open (creating when asked) <root>/networks and take its lock. */
int qc_netdir_open(
	qc_ctx *ctx, bool create, int lock_op, int *ret_dfd, int *ret_lock, struct qc_error *err)
{
	cleanup_free char *dir = qc_xasprintf("%s/networks", qc_ctx_root(ctx));
	cleanup_close int dfd = -1;
	cleanup_close int lfd = -1;
	int r;

	if (create && (r = qc_mkdir_p(dir, 0700, err)) < 0)
		return r;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 && errno == ENOENT && !create) {
		*ret_dfd = -1;
		if (ret_lock)
			*ret_lock = -1;
		return 0;
	}
	if (dfd < 0)
		return qc_error_errno(err, errno, "networks: open '%s'", dir);
	if (ret_lock && (r = qc_lock_open(
				 dfd, "lock", lock_op, LOCK_TIMEOUT_MS, "networks", &lfd, err)) < 0)
		return r;
	/* Every write here holds the lock: temp files of a killed writer can go. */
	if (ret_lock && lock_op == LOCK_EX) {
		(void) qc_sweep_temps(dfd, NULL);
		sweep_pending(dfd);
	}
	*ret_dfd = TAKE_FD(dfd);
	if (ret_lock)
		*ret_lock = TAKE_FD(lfd);
	return 0;
}

static int parse_def(
	const char *name, const char *text, size_t len, struct qc_netdef *n, struct qc_error *err)
{
	cleanup_json qc_json *j = NULL;
	const char *subnet, *bridge, *fname;
	struct qc_net_cidr c;
	int64_t mtu = 0;
	bool created = false;
	int r;

	if ((r = qc_json_parse(text, len, &j, err)) < 0 ||
		(r = qc_json_get_string(j, "name", &fname, err)) < 0 ||
		(r = qc_json_get_string(j, "subnet", &subnet, err)) < 0 ||
		(r = qc_json_get_string(j, "bridge", &bridge, err)) < 0)
		return r;
	(void) qc_json_as_int(qc_json_get(j, "mtu"), &mtu);
	(void) qc_json_as_bool(qc_json_get(j, "bridge_created"), &created);
	(void) qc_json_as_bool(qc_json_get(j, "gateway_added"), &n->gateway_added);
	if (strcmp(fname, name))
		return qc_error_set(err, QC_ERR_JSON, "file names network '%s'", fname);
	if ((r = qc_net_parse_cidr("subnet", subnet, true, &c, err)) < 0 ||
		(r = qc_net_ipam_init(&n->ipam, &c, err)) < 0 ||
		(r = qc_net_validate_ifname("bridge", bridge, err)) < 0)
		return r;
	n->name = qc_xstrdup(name);
	n->bridge = qc_xstrdup(bridge);
	n->bridge_created = created;
	n->mtu = mtu > 0 && mtu < 65536 ? (unsigned) mtu : 0;
	return 0;
}

static int load_leases(int dfd, struct qc_netdef *n, struct qc_error *err)
{
	cleanup_free char *file = qc_xasprintf("%s.leases.json", n->name);
	cleanup_free char *shown = qc_xasprintf("networks/%s", file);
	cleanup_free char *text = NULL;
	cleanup_json qc_json *j = NULL;
	const qc_json *arr;
	size_t len;
	int r;

	r = qc_read_file(dfd, file, LEASES_MAX, &text, &len, err);
	if (r != -ENOENT && qc_refuse_symlink(dfd, file, shown, err) < 0)
		return -ELOOP;
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if ((r = qc_json_parse(text, len, &j, err)) < 0)
		return qc_error_prefix(err, "%s", file);
	arr = qc_json_get(j, "leases");
	for (size_t i = 0; i < qc_json_len(arr); i++) {
		const qc_json *l = qc_json_at(arr, i);
		const char *key, *vm, *ip;
		uint32_t a;

		if ((r = qc_json_get_string(l, "key", &key, err)) < 0 ||
			(r = qc_json_get_string(l, "vm", &vm, err)) < 0 ||
			(r = qc_json_get_string(l, "ip", &ip, err)) < 0 ||
			(r = qc_net_parse_ipv4("ip", ip, &a, err)) < 0 ||
			(r = qc_net_ipam_add(&n->ipam, key, vm, a, err)) < 0)
			return qc_error_prefix(err, "%s: lease %zu", file, i);
	}
	return 0;
}

int qc_netdef_load(
	int dfd, const char *name, bool leases, struct qc_netdef *ret, struct qc_error *err)
{
	cleanup_free char *file = qc_xasprintf("%s.json", name);
	cleanup_free char *shown = qc_xasprintf("networks/%s", file);
	cleanup_free char *text = NULL;
	struct qc_netdef n = {0};
	size_t len;
	int r;

	if ((r = qc_validate_name("network", name, err)) < 0)
		return r;
	r = dfd < 0 ? -ENOENT : qc_read_file(dfd, file, NET_FILE_MAX, &text, &len, err);
	/* A link would have us tear down whatever bridge the file it points to names. */
	if (r != -ENOENT && qc_refuse_symlink(dfd, file, shown, err) < 0)
		return qc_error_prefix(err, "network '%s'", name);
	if (r == -ENOENT)
		return qc_error_set(err, QC_ERR_NOTFOUND,
			"network '%s' does not exist (create it with 'qemuctl net create %s "
			"--subnet CIDR')",
			name, name);
	if (r < 0)
		return qc_error_prefix(err, "network '%s'", name);
	if ((r = parse_def(name, text, len, &n, err)) < 0 ||
		(leases && (r = load_leases(dfd, &n, err)) < 0)) {
		qc_netdef_clear(&n);
		return qc_error_prefix(err, "network '%s': networks/%s", name, file);
	}
	*ret = n;
	return 0;
}

static int save_def(int dfd, const struct qc_netdef *n, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(true);
	cleanup_free char *file = qc_xasprintf("%s.json", n->name);
	cleanup_free char *text = NULL;
	char subnet[24], gw[16];
	size_t len;
	int r;

	qc_net_format_cidr(&n->ipam.subnet, subnet, sizeof(subnet));
	qc_net_format_ipv4(n->ipam.gateway, gw, sizeof(gw));
	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "name", n->name);
	qc_jgen_kstring(g, "subnet", subnet);
	qc_jgen_kstring(g, "gateway", gw);
	qc_jgen_kstring(g, "bridge", n->bridge);
	qc_jgen_kbool(g, "bridge_created", n->bridge_created);
	if (!n->bridge_created)
		qc_jgen_kbool(g, "gateway_added", n->gateway_added);
	qc_jgen_kint(g, "mtu", n->mtu);
	qc_jgen_map_close(g);
	if ((r = qc_jgen_finish(g, &text, &len, err)) < 0)
		return r;
	return qc_write_atomic(dfd, file, text, len, 0600, err);
}

int qc_netdef_save_leases(int dfd, const struct qc_netdef *n, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(true);
	cleanup_free char *file = qc_xasprintf("%s.leases.json", n->name);
	cleanup_free char *text = NULL;
	size_t len;
	int r;

	qc_jgen_map_open(g);
	qc_jgen_key(g, "leases");
	qc_jgen_array_open(g);
	for (size_t i = 0; i < n->ipam.n_leases; i++) {
		const struct qc_net_lease *l = &n->ipam.leases[i];
		char ip[16];

		qc_net_format_ipv4(l->addr, ip, sizeof(ip));
		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "key", l->key);
		qc_jgen_kstring(g, "vm", l->owner ? l->owner : "");
		qc_jgen_kstring(g, "ip", ip);
		qc_jgen_map_close(g);
	}
	qc_jgen_array_close(g);
	qc_jgen_map_close(g);
	if ((r = qc_jgen_finish(g, &text, &len, err)) < 0)
		return r;
	if ((r = qc_write_atomic(dfd, file, text, len, 0600, err)) < 0)
		return qc_error_prefix(err, "network '%s'", n->name);
	return 0;
}

/* Names of every defined network, sorted; NULL-terminated. */
int qc_netdir_names(int dfd, char ***ret, struct qc_error *err)
{
	cleanup_strvec struct qc_strv v = {0};
	struct dirent **ents = NULL;
	int n;

	if (dfd < 0) {
		*ret = qc_xzalloc(sizeof(char *));
		return 0;
	}
	n = scandirat(dfd, ".", &ents, NULL, alphasort);
	if (n < 0)
		return qc_error_errno(err, errno, "networks: list directory");
	for (int i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;
		size_t len = strlen(e);

		if (len > 5 && qc_str_has_suffix(e, ".json") &&
			!qc_str_has_suffix(e, ".leases.json"))
			qc_strv_push_take(&v, qc_xstrndup(e, len - 5));
		free(ents[i]);
	}
	free(ents);
	*ret = v.v ? qc_strv_steal(&v) : qc_xzalloc(sizeof(char *));
	return 0;
}

/*
 * Default bridge of a network: "qc-<name>" when that fits in 15 bytes,
 * else "qc-" + the first 7 bytes + "-" + 4 hex digits of a hash of the
 * whole name, so "project-alpha" and "project-beta" do not collide.
 */
void qc_network_default_bridge(const char *name, char out[16])
{
	uint32_t h = 2166136261u; /* FNV-1a */

	if (strlen(name) <= QC_NET_IFNAME_MAX - 3) {
		snprintf(out, 16, "qc-%s", name);
		return;
	}
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char) *p) * 16777619u;
	snprintf(out, 16, "qc-%.7s-%04x", name, (unsigned) (h & 0xffff));
}

/* ------------------------------------------------------- net create / rm */

/*
 * networks/.NAME.pending-bridge: "net create NAME" is making this bridge.  Written
 * before the bridge, removed once NAME.json records it, so a create killed
 * in between leaves a bridge that the retry recognises as its own (and
 * 'net rm' then removes) instead of adopting it as a foreign one.
 */
static char *pending_file(const char *name)
{
	return qc_xasprintf(".%s.pending-bridge", name);
}

static int pending_write(int dfd, const char *name, const char *bridge, struct qc_error *err)
{
	cleanup_free char *f = pending_file(name);
	cleanup_free char *line = qc_xasprintf("%s\n", bridge);

	return qc_write_atomic(dfd, f, line, strlen(line), 0600, err);
}

static bool pending_is(int dfd, const char *name, const char *bridge)
{
	cleanup_free char *f = pending_file(name);
	cleanup_free char *text = NULL;
	cleanup_free char *line = qc_xasprintf("%s\n", bridge);

	return qc_read_file(dfd, f, 4096, &text, NULL, NULL) == 0 && strcmp(text, line) == 0;
}

static void pending_drop(int dfd, const char *name)
{
	cleanup_free char *f = pending_file(name);

	(void) unlinkat(dfd, f, 0);
}

QC_PUBLIC int qc_network_create(
	qc_ctx *ctx, const struct qc_network_create_opts *o, struct qc_error *err)
{
	cleanup_close int dfd = -1;
	cleanup_close int lock = -1;
	cleanup_strv char **names = NULL;
	cleanup_netdef struct qc_netdef n = {0};
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
		qc_network_default_bridge(o->name, bridge);
	}
	if (o->mtu && (o->mtu < 68 || o->mtu > 65535))
		return qc_error_set(err, QC_ERR_INVALID,
			"network '%s': MTU %u out of range 68-65535", o->name, o->mtu);

	if ((r = qc_netdir_open(ctx, true, LOCK_EX, &dfd, &lock, err)) < 0)
		return r;
	if ((r = qc_netdir_names(dfd, &names, err)) < 0)
		return r;
	for (char **p = names; *p; p++) {
		struct qc_netdef other = {0};
		char a[24], b[24];

		if (!strcmp(*p, o->name))
			return qc_error_set(
				err, QC_ERR_EXISTS, "network '%s' already exists", o->name);
		if (qc_netdef_load(dfd, *p, false, &other, &scratch) < 0)
			continue; /* a broken file does not block others; net list shows it */
		if (qc_net_cidr_overlap(&subnet, &other.ipam.subnet)) {
			qc_net_format_cidr(&subnet, a, sizeof(a));
			qc_net_format_cidr(&other.ipam.subnet, b, sizeof(b));
			qc_netdef_clear(&other);
			return qc_error_set(err, QC_ERR_INVALID,
				"network '%s': subnet %s overlaps network '%s' (%s); pick a "
				"disjoint --subnet",
				o->name, a, *p, b);
		}
		if (!strcmp(other.bridge, bridge)) {
			qc_netdef_clear(&other);
			return qc_error_set(err, QC_ERR_EXISTS,
				"network '%s': bridge '%s' is already used by network '%s'; pick "
				"another --bridge",
				o->name, bridge, *p);
		}
		qc_netdef_clear(&other);
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
		n.bridge_created = pending_is(dfd, o->name, bridge);
		n.gateway_added = r > 0 || n.bridge_created;
	} else {
		/* Written first: a create killed after the bridge exists is known by it. */
		if ((r = pending_write(dfd, o->name, bridge, err)) < 0)
			return qc_error_prefix(err, "network '%s'", o->name);
		qc_fault_step("net:intent-written");
		if ((r = qc_net_bridge_create(nl, bridge, o->mtu, &gw, err)) < 0) {
			pending_drop(dfd, o->name);
			return qc_error_prefix(err, "network '%s'", o->name);
		}
		n.bridge_created = true;
		qc_fault_step("net:bridge-created");
	}
	if ((r = save_def(dfd, &n, err)) < 0) {
		if (n.bridge_created)
			(void) qc_net_bridge_delete(nl, bridge, &scratch);
		else if (n.gateway_added)
			(void) qc_net_link_del_addr(nl, bridge, &gw, &scratch);
		pending_drop(dfd, o->name);
		return qc_error_prefix(err, "network '%s'", o->name);
	}
	qc_fault_step("net:defined");
	pending_drop(dfd, o->name);
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
	struct dirent *de;
	bool found = false;
	DIR *d = opendir(dir);

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
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
	closedir(d);
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

QC_PUBLIC int qc_network_remove(qc_ctx *ctx, const char *name, struct qc_error *err)
{
	cleanup_close int dfd = -1;
	cleanup_close int lock = -1;
	cleanup_netdef struct qc_netdef n = {0};
	cleanup_nl struct qc_net_nl *nl = NULL;
	cleanup_strvec struct qc_strv vms = {0};
	cleanup_free char *leases = NULL, *def = NULL;
	int r;

	if ((r = qc_validate_name("network", name, err)) < 0)
		return r;
	if ((r = qc_netdir_open(ctx, false, LOCK_EX, &dfd, &lock, err)) < 0)
		return r;
	if ((r = qc_netdef_load(dfd, name, true, &n, err)) < 0)
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
	free(info->name);
	free(info->subnet);
	free(info->gateway);
	free(info->bridge);
	qc_strv_free(info->vms);
	for (size_t i = 0; i < info->n_leases; i++) {
		free(info->leases[i].vm);
		free(info->leases[i].nic);
		free(info->leases[i].ip);
	}
	free(info->leases);
	free(info);
}

QC_PUBLIC void qc_network_list_free(struct qc_network_info **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		qc_network_info_free(v[i]);
	free(v);
}

static struct qc_network_info *make_info(const struct qc_netdef *n, struct qc_net_nl *nl)
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
	cleanup_netdef struct qc_netdef n = {0};
	cleanup_nl struct qc_net_nl *nl = NULL;
	int r;

	if ((r = qc_validate_name("network", name, err)) < 0)
		return r;
	if ((r = qc_netdir_open(ctx, false, LOCK_SH, &dfd, &lock, err)) < 0)
		return r;
	if ((r = qc_netdef_load(dfd, name, true, &n, err)) < 0)
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

	if ((r = qc_netdir_open(ctx, false, LOCK_SH, &dfd, &lock, err)) < 0)
		return r;
	if ((r = qc_netdir_names(dfd, &names, err)) < 0)
		return r;
	(void) qc_net_nl_open(&nl, NULL);
	for (cap = 0; names[cap]; cap++)
		;
	v = qc_xzalloc(sizeof(*v) * (cap + 1));
	for (size_t i = 0; i < cap; i++) {
		struct qc_netdef d = {0};

		if ((r = qc_netdef_load(dfd, names[i], true, &d, err)) < 0) {
			qc_network_list_free(v, n);
			return r;
		}
		v[n++] = make_info(&d, nl);
		qc_netdef_clear(&d);
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int qc_network_gateway(qc_ctx *ctx, const char *network, char gateway[16], unsigned *ret_prefix,
	struct qc_error *err)
{
	cleanup_close int dfd = -1;
	cleanup_netdef struct qc_netdef n = {0};
	int r;

	if ((r = qc_netdir_open(ctx, false, 0, &dfd, NULL, err)) < 0)
		return r;
	if ((r = qc_netdef_load(dfd, network, false, &n, err)) < 0)
		return r;
	qc_net_format_ipv4(n.ipam.gateway, gateway, 16);
	if (ret_prefix)
		*ret_prefix = n.ipam.subnet.prefix;
	return 0;
}
