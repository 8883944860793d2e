/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Named networks on disk: <root>/networks/ with each network's definition
 * (<name>.json), the lock every change to any network holds (so overlap
 * checks and allocations never race), the default bridge name, and the
 * note a net create leaves while it makes a bridge.  The leases file is
 * lease.c's; the allocator itself is ipam.c (pure).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "net/net.h"

#define LOCK_TIMEOUT_MS 30000
#define NET_FILE_MAX (1u << 20)

void qc_net_def_clear(struct qc_net_def *n)
{
	free(n->name);
	free(n->bridge);
	qc_net_ipam_clear(&n->ipam);
	memset(n, 0, sizeof(*n));
}

void qc_net_def_clearp(struct qc_net_def *n)
{
	qc_net_def_clear(n);
}

/*
 * ".NAME.pending-bridge" of a net create killed after NAME.json was written
 * (see qc_net_pending_write): the definition has the bridge, the note can go.
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
int qc_net_dir_open(const char *root, bool create, int lock_op, int *ret_dfd, int *ret_lock,
	struct qc_error *err)
{
	cleanup_free char *dir = qc_xasprintf("%s/networks", root);
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
	const char *name, const char *text, size_t len, struct qc_net_def *n, struct qc_error *err)
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

int qc_net_def_load(
	int dfd, const char *name, bool leases, struct qc_net_def *ret, struct qc_error *err)
{
	cleanup_free char *file = qc_xasprintf("%s.json", name);
	cleanup_free char *shown = qc_xasprintf("networks/%s", file);
	cleanup_free char *text = NULL;
	struct qc_net_def n = {0};
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
		(leases && (r = qc_net_leases_load(dfd, &n, err)) < 0)) {
		qc_net_def_clear(&n);
		return qc_error_prefix(err, "network '%s': networks/%s", name, file);
	}
	*ret = n;
	return 0;
}

int qc_net_def_save(int dfd, const struct qc_net_def *n, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(true);
	cleanup_free char *file = qc_xasprintf("%s.json", n->name);
	char subnet[24], gw[16];

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
	return qc_jgen_write_atomic(g, dfd, file, 0600, err);
}

/* Names of every defined network, sorted; NULL-terminated. */
int qc_net_dir_names(int dfd, char ***ret, struct qc_error *err)
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
void qc_net_default_bridge(const char *name, char out[16])
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

int qc_net_pending_write(int dfd, const char *name, const char *bridge, struct qc_error *err)
{
	cleanup_free char *f = pending_file(name);
	cleanup_free char *line = qc_xasprintf("%s\n", bridge);

	return qc_write_atomic(dfd, f, line, strlen(line), 0600, err);
}

bool qc_net_pending_is(int dfd, const char *name, const char *bridge)
{
	cleanup_free char *f = pending_file(name);
	cleanup_free char *text = NULL;
	cleanup_free char *line = qc_xasprintf("%s\n", bridge);

	return qc_read_file(dfd, f, 4096, &text, NULL, NULL) == 0 && strcmp(text, line) == 0;
}

void qc_net_pending_drop(int dfd, const char *name)
{
	cleanup_free char *f = pending_file(name);

	(void) unlinkat(dfd, f, 0);
}

int qc_net_bridge_up(const char *root, struct qc_net_nl *nl, const char *network, const char *key,
	const char *owner, const char *ip, char bridge[16], struct qc_error *err)
{
	cleanup_close int dfd = -1;
	cleanup_close int lock = -1;
	struct qc_net_def n = {0};
	struct qc_net_cidr gw;
	const struct qc_net_lease *l;
	int r;

	if ((r = qc_net_dir_open(root, false, LOCK_EX, &dfd, &lock, err)) < 0)
		return r;
	if ((r = qc_net_def_load(dfd, network, true, &n, err)) < 0)
		return r;
	gw.addr = n.ipam.gateway;
	gw.prefix = n.ipam.subnet.prefix;
	/* The network's bridge now, not the one recorded at create (it may have been recreated). */
	snprintf(bridge, 16, "%s", n.bridge);
	/* The lease must still be ours; a lost one is re-taken if the address is free. */
	l = qc_net_ipam_find(&n.ipam, key);
	if (ip && !l) {
		struct qc_net_cidr c;
		uint32_t got;

		if ((r = qc_net_parse_cidr("ip", ip, false, &c, err)) < 0 ||
			(r = qc_net_ipam_alloc(&n.ipam, key, owner, c.addr, &got, err)) < 0 ||
			(r = qc_net_leases_save(dfd, &n, err)) < 0)
			goto out;
	}
	r = qc_net_bridge_get(nl, n.bridge, NULL, err);
	if (r == -QC_ERR_NOTFOUND) {
		r = qc_net_bridge_create(nl, n.bridge, n.mtu, &gw, err);
	} else if (r == 0) {
		r = qc_net_link_ensure_addr_up(nl, n.bridge, &gw, err);
	}
	if (r < 0)
		qc_error_prefix(err, "network '%s'", n.name);
out:
	qc_net_def_clear(&n);
	return r;
}

/*
 * The leases of a named network: <root>/networks/<name>.leases.json,
 * {"leases":[{"key","vm","ip"}...]}, read into and written from the
 * network's allocator (ipam.c).
 */
#define LEASES_MAX (16u << 20)

int qc_net_leases_load(int dfd, struct qc_net_def *n, struct qc_error *err)
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

int qc_net_leases_save(int dfd, const struct qc_net_def *n, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(true);
	cleanup_free char *file = qc_xasprintf("%s.leases.json", n->name);

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
	if (qc_jgen_write_atomic(g, dfd, file, 0600, err) < 0)
		return qc_error_prefix(err, "network '%s'", n->name);
	return 0;
}
