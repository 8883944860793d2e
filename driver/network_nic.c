/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The NICs of a VM: leases at create (net/lease.c), taps and host ports
 * (net/portfwd.c) at start and the run's records of them, release at
 * delete.  --net SPEC is parsed in network_spec.c.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "driver/driver.h"
#include "driver/network.h"
#include "net/net.h"

/* ------------------------------------------------- leases (create/delete) */

static char *lease_key(const struct qc_domain *d, const struct qc_nic *nic)
{
	return qc_xasprintf("%s/%s", d->uuid_str, nic->name);
}

/*
 * Find netdefs[] entry for name, loading it (with leases) on first use;
 * *ret_loaded says it was loaded by this call (the first NIC on that network).
 */
static int cache_get(int dfd, struct qc_net_def **defs, size_t *n, const char *name,
	struct qc_net_def **ret, bool *ret_loaded, struct qc_error *err)
{
	int r;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*defs)[i].name, name)) {
			*ret = &(*defs)[i];
			*ret_loaded = false;
			return 0;
		}
	*defs = qc_xrealloc(*defs, (*n + 1) * sizeof(**defs));
	memset(&(*defs)[*n], 0, sizeof(**defs));
	if ((r = qc_net_def_load(dfd, name, true, &(*defs)[*n], err)) < 0)
		return r;
	*ret = &(*defs)[(*n)++];
	*ret_loaded = true;
	return 0;
}

/*
 * A lease whose VM was never created: its create was killed after the
 * lease was written and before the VM's directory was renamed into place.
 * The owner has neither vms/OWNER nor a vms/.create-OWNER.* work directory
 * other than this process's own (the create that runs this removed those of
 * dead processes; its own lease has another key, the new UUID).  Dropped so
 * the address (maybe a fixed ip=) is free for the retry.  Networks lock held.
 * Called once per network and create, when the network is loaded: one scan
 * of vms/ however many NICs the create puts on it.
 */
static void drop_orphan_leases(qc_ctx *ctx, const struct qc_domain *d, struct qc_net_def *net)
{
	cleanup_free char *mine = qc_xasprintf("%s/", d->uuid_str);
	cleanup_free char *vms = qc_xasprintf("%s/vms", qc_ctx_root(ctx));
	cleanup_strvec struct qc_strv gone = {0};
	struct dirent **ents = NULL;
	int n = scandir(vms, &ents, NULL, NULL);

	for (size_t i = 0; n >= 0 && i < net->ipam.n_leases; i++) {
		const char *owner = net->ipam.leases[i].owner;
		cleanup_free char *pfx = NULL, *self = NULL;
		bool live = false;

		/* The leases this create made for its earlier NICs are its own. */
		if (!owner || qc_validate_name("VM", owner, NULL) < 0 ||
			qc_str_has_prefix(net->ipam.leases[i].key, mine))
			continue;
		pfx = qc_xasprintf(".create-%s.", owner);
		self = qc_xasprintf("%s%d", pfx, (int) getpid());
		for (int k = 0; k < n && !live; k++)
			live = qc_str_has_prefix(ents[k]->d_name, pfx) &&
			       strcmp(ents[k]->d_name, self) != 0;
		/*
		 * vms/OWNER is looked up after the scan, not in it: a create that
		 * renames its work dir into place while scandir() runs may be in
		 * neither form in the listing, but it is in place by now.
		 */
		if (!live) {
			cleanup_free char *p = qc_xasprintf("%s/%s", vms, owner);

			live = faccessat(AT_FDCWD, p, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
		}
		if (!live)
			qc_strv_push(&gone, net->ipam.leases[i].key);
	}
	for (size_t i = 0; i < gone.n; i++)
		(void) qc_net_ipam_release(&net->ipam, gone.v[i]);
	for (int k = 0; k < n; k++)
		free(ents[k]);
	free(ents);
}

static void cache_free(struct qc_net_def *defs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		qc_net_def_clear(&defs[i]);
	free(defs);
}

int qc_network_domain_create(qc_ctx *ctx, struct qc_domain *d, struct qc_error *err)
{
	cleanup_close int dfd = -1;
	cleanup_close int lock = -1;
	cleanup_nl struct qc_net_nl *nl = NULL;
	struct qc_net_def *defs = NULL;
	size_t n_defs = 0;
	bool any = false;
	int r = 0;

	for (size_t i = 0; i < d->n_nics; i++) {
		struct qc_nic *nic = &d->nics[i];

		if (nic->type == QC_NIC_BRIDGE) {
			if (!nl && (r = qc_net_nl_open(&nl, err)) < 0)
				return r;
			if ((r = qc_net_bridge_get(nl, nic->bridge, NULL, err)) < 0)
				return qc_error_prefix(err, "NIC '%s'", nic->name);
		}
		any |= nic->type == QC_NIC_NETWORK;
	}
	if (!any)
		return 0;
	if ((r = qc_net_dir_open(qc_ctx_root(ctx), false, LOCK_EX, &dfd, &lock, err)) < 0)
		return r;

	for (size_t i = 0; i < d->n_nics; i++) {
		struct qc_nic *nic = &d->nics[i];
		cleanup_free char *key = NULL;
		struct qc_net_def *net;
		char *cidr;
		bool loaded;

		if (nic->type != QC_NIC_NETWORK)
			continue;
		if ((r = cache_get(dfd, &defs, &n_defs, nic->network, &net, &loaded, err)) < 0)
			goto out_prefix;
		if (loaded)
			drop_orphan_leases(ctx, d, net);
		key = lease_key(d, nic);
		if ((r = qc_net_lease_take(net, key, d->name, nic->ip, &cidr, err)) < 0)
			goto out_prefix;
		free(nic->ip);
		nic->ip = cidr;
		free(nic->bridge);
		nic->bridge = qc_xstrdup(net->bridge);
	}
	/* All allocations succeeded in memory: now write them. */
	for (size_t i = 0; i < n_defs; i++)
		if ((r = qc_net_leases_save(dfd, &defs[i], err)) < 0)
			goto out;
	r = 0;
	goto out;
out_prefix:
	/* Nothing was written yet: the leases taken in memory are simply dropped. */
out:
	cache_free(defs, n_defs);
	return r;
}

int qc_network_domain_release(qc_ctx *ctx, const struct qc_domain *d, struct qc_error *err)
{
	cleanup_free char *prefix = qc_xasprintf("%s/", d->uuid_str);

	/* Every network, not only the NICs' ones: a NIC edited out of domain.xml leaks nothing. */
	return qc_net_leases_release(qc_ctx_root(ctx), prefix, err);
}

/* ------------------------------------------------------------------ start */

void qc_network_tap_name(const struct qc_domain *d, size_t i, char out[16])
{
	snprintf(out, 16, "qc%.8sn%u", d->uuid_str, (unsigned) (i % 1000));
}

void qc_network_start_clear(struct qc_network_start *st)
{
	for (size_t i = 0; i < st->n_nics; i++) {
		if (st->tap_fds && st->tap_fds[i] >= 0)
			close(st->tap_fds[i]);
		if (st->fwd_ports)
			free(st->fwd_ports[i]);
	}
	for (size_t k = 0; st->held && k < st->n_ports; k++)
		if (st->held[k] >= 0)
			close(st->held[k]);
	qc_free_all(st->tap_fds, st->tap_names, st->fwd_ports, st->ports, st->held);
	memset(st, 0, sizeof(*st));
}

/*
 * The tap of network/bridge NIC i, on the right bridge (re-created when
 * missing): named qc_network_tap_name(d, i), or with any_free the first
 * free "qc<uuid8>n<N>" the kernel finds (TUNSETIFF with a %d template),
 * which never attaches to a tap that exists.
 */
static int open_tap(qc_ctx *ctx, struct qc_net_nl *nl, const struct qc_domain *d, size_t i,
	bool any_free, char name[16], int *ret_fd, struct qc_error *err)
{
	const struct qc_nic *nic = &d->nics[i];
	char bridge[16] = "";
	int r;

	if (nic->type == QC_NIC_NETWORK) {
		cleanup_free char *key = lease_key(d, nic);

		if ((r = qc_net_bridge_up(qc_ctx_root(ctx), nl, nic->network, key, d->name, nic->ip,
			     bridge, err)) < 0)
			return r;
	}
	if (nic->type == QC_NIC_BRIDGE && nic->bridge)
		snprintf(bridge, sizeof(bridge), "%s", nic->bridge);
	if (!bridge[0])
		return qc_error_set(err, QC_ERR_INVALID, "no bridge recorded (recreate the VM)");
	if (any_free) {
		char tmpl[16];

		snprintf(tmpl, sizeof(tmpl), "qc%.8sn%%d", d->uuid_str);
		return qc_net_tap_open(nl, tmpl, bridge, 0, name, ret_fd, err);
	}
	qc_network_tap_name(d, i, name);
	return qc_net_tap_open(nl, name, bridge, 0, NULL, ret_fd, err);
}

int qc_network_nic_open_tap(qc_ctx *ctx, const struct qc_domain *d, size_t i, char name[16],
	int *ret_fd, struct qc_error *err)
{
	cleanup_nl struct qc_net_nl *nl = NULL;
	int r;

	if (i >= d->n_nics || d->nics[i].type == QC_NIC_USER)
		return qc_error_set(err, QC_ERR_INVALID, "NIC #%zu has no tap", i);
	if ((r = qc_net_nl_open(&nl, err)) < 0 ||
		(r = open_tap(ctx, nl, d, i, true, name, ret_fd, err)) < 0)
		return qc_error_prefix(err, "NIC '%s'", d->nics[i].name ? d->nics[i].name : "?");
	return 0;
}

/* Write <vm>/network.json: the host ports and tap names (per NIC, "" for user NICs). */
static int write_runtime(int dfd, const unsigned *ports, size_t n_ports, const char *const *taps,
	size_t n_taps, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(true);
	cleanup_free char *text = NULL;
	size_t len;
	int r;

	qc_jgen_map_open(g);
	qc_jgen_key(g, "ports");
	qc_jgen_array_open(g);
	for (size_t i = 0; i < n_ports; i++)
		qc_jgen_uint(g, ports[i]);
	qc_jgen_array_close(g);
	qc_jgen_key(g, "taps");
	qc_jgen_array_open(g);
	for (size_t i = 0; i < n_taps; i++)
		qc_jgen_string(g, taps[i]);
	qc_jgen_array_close(g);
	qc_jgen_map_close(g);
	if ((r = qc_jgen_finish(g, &text, &len, err)) < 0)
		return r;
	/* Atomic, not fsync()ed: it describes this run only, which a host crash ends
	 * anyway; its two fsync()s cost `start` 2-10 ms on a busy disk. */
	return qc_write_atomic_at(dfd, QC_NETWORK_RUNTIME, text, len, 0600, QC_WRITE_NOSYNC, err);
}

int qc_network_start_save(qc_ctx *ctx, const struct qc_domain *d, const struct qc_network_start *st,
	struct qc_error *err)
{
	cleanup_free char *dir = qc_driver_vm_dir(ctx, d->name);
	cleanup_free const char **taps = qc_xzalloc(sizeof(*taps) * (st->n_nics + 1));
	cleanup_close int dfd = -1;

	for (size_t i = 0; i < st->n_nics; i++)
		taps[i] = st->tap_names[i];
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return qc_error_errno(err, errno, "open '%s'", dir);
	/*
	 * A run without NICs has nothing to record, and readers take a missing
	 * file for an empty one: no file, rather than a write and a rename on
	 * the way to QEMU (0.2-0.4 ms of start).
	 */
	if (st->n_nics == 0 && st->n_ports == 0) {
		if (unlinkat(dfd, QC_NETWORK_RUNTIME, 0) < 0 && errno != ENOENT)
			return qc_error_errno(err, errno, "remove %s", QC_NETWORK_RUNTIME);
		return 0;
	}
	return write_runtime(dfd, st->ports, st->n_ports, taps, st->n_nics, err);
}

/*
 * <vm>/network.json's ports (*ret_ports, *ret_n) and, when taps is not
 * NULL, its tap names; -ENOENT (err untouched) when there is none.
 */
static int runtime_read(int vm_dfd, unsigned **ret_ports, size_t *ret_n, struct qc_strv *taps,
	struct qc_error *err)
{
	cleanup_free char *text = NULL;
	cleanup_json qc_json *j = NULL;
	const qc_json *a;
	unsigned *v;
	size_t len, n;
	int r;

	r = qc_read_file(vm_dfd, QC_NETWORK_RUNTIME, 1u << 20, &text, &len, err);
	if (r == -ENOENT)
		qc_error_clear(err);
	if (r < 0)
		return r;
	if ((r = qc_json_parse(text, len, &j, err)) < 0)
		return qc_error_prefix(err, "%s", QC_NETWORK_RUNTIME);
	n = qc_json_len(a = qc_json_get(j, "ports"));
	v = qc_xzalloc(sizeof(unsigned) * (n + 1));
	for (size_t i = 0; i < n; i++) {
		uint64_t p = 0;

		(void) qc_json_as_uint(qc_json_at(a, i), &p);
		v[i] = p < 65536 ? (unsigned) p : 0;
	}
	a = qc_json_get(j, "taps");
	for (size_t k = 0; taps && k < qc_json_len(a); k++) {
		const char *t = qc_json_string(qc_json_at(a, k));

		qc_strv_push(taps, t ? t : "");
	}
	*ret_ports = v;
	*ret_n = n;
	return 0;
}

int qc_network_load_ports(
	qc_ctx *ctx, const char *vm, unsigned **ret, size_t *ret_n, struct qc_error *err)
{
	cleanup_free char *dir = qc_driver_vm_dir(ctx, vm);
	cleanup_close int dfd = -1;
	int r;

	*ret = NULL;
	*ret_n = 0;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return qc_error_errno(err, errno, "VM '%s': open '%s'", vm, dir);
	r = runtime_read(dfd, ret, ret_n, NULL, err);
	return r == -ENOENT ? 0 : r < 0 ? qc_error_prefix(err, "VM '%s'", vm) : 0;
}

int qc_network_domain_start(
	qc_ctx *ctx, const struct qc_domain *d, struct qc_network_start *ret, struct qc_error *err)
{
	struct qc_network_start st = {0};
	cleanup_nl struct qc_net_nl *nl = NULL;
	int *socks = NULL;
	size_t n_socks = 0, i = 0;
	int r = 0;

	st.n_nics = d->n_nics;
	st.tap_fds = qc_xzalloc(sizeof(int) * (d->n_nics + 1));
	st.tap_names = qc_xzalloc(sizeof(*st.tap_names) * (d->n_nics + 1));
	st.fwd_ports = qc_xzalloc(sizeof(unsigned *) * (d->n_nics + 1));
	for (i = 0; i < d->n_nics; i++)
		st.tap_fds[i] = -1;

	for (i = 0; i < d->n_nics; i++) {
		const struct qc_nic *nic = &d->nics[i];

		if (nic->type != QC_NIC_USER)
			continue;
		st.fwd_ports[i] = qc_xzalloc(sizeof(unsigned) * (nic->n_fwds + 1));
		socks = qc_xrealloc(socks, sizeof(int) * (n_socks + nic->n_fwds + 1));
		if ((r = qc_network_reserve_ports(nic, socks + n_socks, st.fwd_ports[i], err)) < 0)
			goto fail;
		n_socks += nic->n_fwds;
		st.ports = qc_xrealloc(st.ports, sizeof(unsigned) * (st.n_ports + nic->n_fwds + 1));
		for (size_t f = 0; f < nic->n_fwds; f++)
			st.ports[st.n_ports++] = st.fwd_ports[i][f];
	}

	for (i = 0; i < d->n_nics; i++) {
		if (d->nics[i].type == QC_NIC_USER)
			continue;
		if (!nl && (r = qc_net_nl_open(&nl, err)) < 0)
			goto fail;
		if ((r = open_tap(ctx, nl, d, i, false, st.tap_names[i], &st.tap_fds[i], err)) < 0)
			goto fail_nic;
		qc_fault_stepf("start:tap %s", st.tap_names[i]);
	}
	/* TCP reservations are held until QEMU has bound beside them (network.h). */
	for (size_t k = 0, n = 0; n < d->n_nics; n++)
		for (size_t f = 0; d->nics[n].type == QC_NIC_USER && f < d->nics[n].n_fwds;
			f++, k++)
			if (strcmp(d->nics[n].fwds[f].proto, "tcp") != 0) {
				close(socks[k]);
				socks[k] = -1;
			}
	st.held = socks;
	/* Best effort: ssh and info fall back to state.json's ports. */
	(void) qc_network_start_save(ctx, d, &st, NULL);
	*ret = st;
	return 0;

fail_nic:
	qc_error_prefix(err, "NIC '%s'", d->nics[i].name ? d->nics[i].name : "?");
fail:
	for (size_t k = 0; k < n_socks; k++)
		close(socks[k]);
	free(socks);
	qc_network_start_clear(&st); /* closing the taps removes them */
	return r;
}

/* ---------------------------------------------------------------- hot-plug */

int qc_network_nic_ports(
	const struct qc_nic *nic, unsigned **ret, int **ret_held, struct qc_error *err)
{
	cleanup_free unsigned *ports = qc_xzalloc(sizeof(unsigned) * (nic->n_fwds + 1));
	cleanup_free int *fds = qc_xzalloc(sizeof(int) * (nic->n_fwds + 1));
	int r;

	/* All held at once, as at start: two automatic forwards never get one port. */
	if ((r = qc_network_reserve_ports(nic, fds, ports, err)) < 0)
		return r;
	/* TCP ones stay held until QEMU has bound beside them; UDP would refuse QEMU */
	for (size_t k = 0; k < nic->n_fwds; k++)
		if (strcmp(nic->fwds[k].proto, "tcp") != 0) {
			close(fds[k]);
			fds[k] = -1;
		}
	*ret = TAKE_PTR(ports);
	*ret_held = TAKE_PTR(fds);
	return 0;
}

void qc_network_held_close(int *held, size_t n)
{
	for (size_t k = 0; held && k < n; k++)
		if (held[k] >= 0) {
			close(held[k]);
			held[k] = -1;
		}
}

/*
 * The run's records: in state.json's and network.json's host ports, n_del
 * entries at index at become ins[0..n_ins); with tap_i < SIZE_MAX the tap
 * list gets tap at tap_i (add) or loses entry tap_i.
 */
static int runtime_splice(int vm_dfd, size_t at, size_t n_del, const unsigned *ins, size_t n_ins,
	size_t tap_i, bool add, const char *tap, struct qc_error *err)
{
	cleanup_free unsigned *old = NULL, *pv = NULL;
	cleanup_strvec struct qc_strv old_taps = {0}, tv = {0};
	size_t n_old, n;
	int r;

	if ((n_del || n_ins) && (r = qc_state_splice_ports(vm_dfd, at, n_del, ins, n_ins, err)) < 0)
		return qc_error_prefix(err, "record the host ports");
	/* network.json, the fallback of ssh and info: the same change, and the tap
	 * (none yet after a start without NICs: an empty one). */
	if ((r = runtime_read(vm_dfd, &old, &n_old, &old_taps, err)) < 0 && r != -ENOENT)
		return r;
	if (r == -ENOENT)
		n_old = 0;
	qc_state_ports_splice(old, n_old, at, n_del, ins, n_ins, &pv, &n);
	for (size_t k = 0; k < old_taps.n; k++) {
		if (k == tap_i && add)
			qc_strv_push(&tv, tap ? tap : "");
		if (k != tap_i || add)
			qc_strv_push(&tv, old_taps.v[k]);
	}
	while (add && tap_i != SIZE_MAX && tv.n < tap_i)
		qc_strv_push(&tv, "");
	if (add && tap_i != SIZE_MAX && tv.n == tap_i)
		qc_strv_push(&tv, tap ? tap : "");
	return write_runtime(vm_dfd, pv, n, (const char *const *) tv.v, tv.n, err);
}

int qc_network_runtime_nic(int vm_dfd, size_t i, const struct qc_nic *nic, size_t at, bool add,
	const unsigned *ports, const char *tap, struct qc_error *err)
{
	size_t n_fwds = nic->type == QC_NIC_USER ? nic->n_fwds : 0;

	if (runtime_splice(vm_dfd, at, add ? 0 : n_fwds, add ? ports : NULL, add ? n_fwds : 0, i,
		    add, tap, err) < 0)
		return qc_error_prefix(err, "NIC '%s'", nic->name);
	return 0;
}

int qc_network_runtime_ports(int vm_dfd, size_t at, size_t n_del, const unsigned *ins,
	size_t n_ins, struct qc_error *err)
{
	return runtime_splice(vm_dfd, at, n_del, ins, n_ins, SIZE_MAX, false, NULL, err);
}
