/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Port forwards of a VM's user-mode NICs while it runs (qemuctl.h "Port
 * forwards"): QEMU's slirp gets them through the human monitor's
 * hostfwd_add / hostfwd_remove on the NIC's netdev (QEMU 7.2 has no QMP
 * command for them).
 *
 * A live forward lasts for the run, like docker's and Lima's: it is
 * recorded in <vm>/forwards.json stamped with the run's start time, so a
 * record of an earlier run is never taken for one of this run (a guest
 * reboot keeps the QEMU process, its forwards and the stamp).  A persisted
 * forward (--persist) goes into domain.xml (validated on save and on every
 * load), so every start has it; while the VM runs it is also opened live
 * and takes its place in the run's flat list of host ports.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/confine.h"
#include "driver/network.h"
#include "driver/vmop.h"
#include "net/net.h"

#define FWD_RECORDS QC_PORTFWD_RECORDS
#define MAX_LIVE_FWDS 256

/* A forward with the NIC it is on; host_addr "" is 127.0.0.1. */
struct fwd_rec {
	char nic[64];
	struct qc_hostfwd f;
};

static const char *eff_addr(const char *a)
{
	return a && a[0] ? a : "127.0.0.1";
}

/* ---------------------------------------------------------------- specs */

static int spec_port(const char *spec, const char *what, const char *s, size_t len, unsigned *ret,
	struct qc_error *err)
{
	unsigned v = 0;

	if (!len || len > 5 || strspn(s, "0123456789") < len)
		return qc_error_set(err, QC_ERR_INVALID,
			"port spec '%s': %s '%.*s' is not a number (1-65535)", spec, what,
			(int) len, s);
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (unsigned) (s[i] - '0');
	if (v < 1 || v > 65535)
		return qc_error_set(err, QC_ERR_INVALID, "port spec '%s': %s %u is outside 1-65535",
			spec, what, v);
	*ret = v;
	return 0;
}

int qc_driver_portfwd_parse(
	const char *spec, bool with_guest, struct qc_hostfwd *ret, struct qc_error *err)
{
	struct qc_hostfwd f = {.proto = "tcp"};
	const char *p[3], *slash = strchr(spec, '/');
	size_t len = slash ? (size_t) (slash - spec) : strlen(spec), n = 1, want;
	const char *form = with_guest ? "[ADDR:]HOSTPORT:GUESTPORT[/udp]" : "[ADDR:]HOSTPORT[/udp]";
	int r;

	if (slash) {
		if (strcmp(slash + 1, "tcp") && strcmp(slash + 1, "udp"))
			return qc_error_set(err, QC_ERR_INVALID,
				"port spec '%s': protocol '%s' is not tcp or udp", spec, slash + 1);
		snprintf(f.proto, sizeof(f.proto), "%s", slash + 1);
	}
	p[0] = spec;
	for (size_t i = 0; i < len; i++)
		if (spec[i] == ':') {
			if (n == 3)
				return qc_error_set(err, QC_ERR_INVALID,
					"port spec '%s': expected %s", spec, form);
			p[n++] = spec + i + 1;
		}
	want = with_guest ? 2 : 1;
	if (n != want && n != want + 1)
		return qc_error_set(err, QC_ERR_INVALID, "port spec '%s': expected %s", spec, form);
	if (n == want + 1) {
		size_t alen = (size_t) (p[1] - p[0]) - 1;
		cleanup_free char *addr = qc_xstrndup(p[0], alen);
		uint32_t a;

		if (!with_guest && alen && strspn(addr, "0123456789") == alen)
			return qc_error_set(err, QC_ERR_INVALID,
				"port spec '%s': expected %s (the host port only)", spec, form);
		if (alen >= sizeof(f.host_addr) ||
			qc_net_parse_ipv4("port spec address", addr, &a, err) < 0)
			return qc_error_set(err, QC_ERR_INVALID,
				"port spec '%s': '%s' is not an IPv4 address (QEMU 7.2 forwards "
				"IPv4 only; 127.0.0.1 by default, 0.0.0.0 for every address)",
				spec, addr);
		snprintf(f.host_addr, sizeof(f.host_addr), "%s", addr);
		if (!strcmp(f.host_addr, "127.0.0.1"))
			f.host_addr[0] = 0;
		memmove(p, p + 1, sizeof(p[0]) * (n - 1));
		n--;
	}
	if ((r = spec_port(spec, "host port", p[0],
		     (size_t) ((n > 1 ? p[1] - 1 : spec + len) - p[0]), &f.host_port, err)) < 0)
		return r;
	if (with_guest && (r = spec_port(spec, "guest port", p[1], (size_t) (spec + len - p[1]),
				   &f.guest_port, err)) < 0)
		return r;
	*ret = f;
	return 0;
}

/* ------------------------------------------------------- the run's records */

/* The live forwards recorded for the run that started at started_at_ms (others: none). */
static int records_load(int vm_dfd, int64_t started_at_ms, struct fwd_rec **ret, size_t *ret_n,
	struct qc_error *err)
{
	cleanup_free char *text = NULL;
	cleanup_json qc_json *j = NULL;
	struct fwd_rec *v = NULL;
	const qc_json *a;
	int64_t run = 0;
	size_t len, n = 0;
	int r;

	*ret = NULL;
	*ret_n = 0;
	r = qc_read_file(vm_dfd, FWD_RECORDS, 1u << 20, &text, &len, err);
	if (r == -ENOENT) {
		qc_error_clear(err);
		return 0;
	}
	if (r < 0 || (r = qc_json_parse(text, len, &j, err)) < 0)
		return qc_error_prefix(err, "%s", FWD_RECORDS);
	if (!qc_json_as_int(qc_json_get(j, "started_at_ms"), &run) || run != started_at_ms)
		return 0; /* an earlier run's */
	a = qc_json_get(j, "forwards");
	v = qc_xzalloc(sizeof(*v) * (qc_json_len(a) + 1));
	for (size_t i = 0; i < qc_json_len(a) && i < MAX_LIVE_FWDS; i++) {
		const qc_json *e = qc_json_at(a, i);
		const char *nic = qc_json_string(qc_json_get(e, "nic"));
		const char *proto = qc_json_string(qc_json_get(e, "proto"));
		const char *addr = qc_json_string(qc_json_get(e, "host_addr"));
		uint64_t hp = 0, gp = 0;
		uint32_t ip;

		/* Ours, in a 0700 directory, yet checked like any file read back. */
		if (!nic || qc_validate_name("NIC", nic, NULL) < 0 || strlen(nic) >= 64 || !proto ||
			(strcmp(proto, "tcp") && strcmp(proto, "udp")) || !addr ||
			strlen(addr) >= sizeof(v[n].f.host_addr) ||
			(addr[0] && qc_net_parse_ipv4("address", addr, &ip, NULL) < 0) ||
			!qc_json_as_uint(qc_json_get(e, "host_port"), &hp) ||
			!qc_json_as_uint(qc_json_get(e, "guest_port"), &gp) || hp < 1 ||
			hp > 65535 || gp < 1 || gp > 65535) {
			qc_warn("%s: forward #%zu is malformed; ignored", FWD_RECORDS, i);
			continue;
		}
		snprintf(v[n].nic, sizeof(v[n].nic), "%s", nic);
		snprintf(v[n].f.proto, sizeof(v[n].f.proto), "%s", proto);
		snprintf(v[n].f.host_addr, sizeof(v[n].f.host_addr), "%s", addr);
		v[n].f.host_port = (unsigned) hp;
		v[n].f.guest_port = (unsigned) gp;
		n++;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int records_save(
	int vm_dfd, int64_t started_at_ms, const struct fwd_rec *v, size_t n, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(true);
	cleanup_free char *text = NULL;
	size_t len;
	int r;

	qc_jgen_map_open(g);
	qc_jgen_kint(g, "started_at_ms", started_at_ms);
	qc_jgen_key(g, "forwards");
	qc_jgen_array_open(g);
	for (size_t i = 0; i < n; i++) {
		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "nic", v[i].nic);
		qc_jgen_kstring(g, "proto", v[i].f.proto);
		qc_jgen_kstring(g, "host_addr", v[i].f.host_addr);
		qc_jgen_kuint(g, "host_port", v[i].f.host_port);
		qc_jgen_kuint(g, "guest_port", v[i].f.guest_port);
		qc_jgen_map_close(g);
	}
	qc_jgen_array_close(g);
	qc_jgen_map_close(g);
	if ((r = qc_jgen_finish(g, &text, &len, err)) < 0)
		return r;
	/* Not fsync()ed: it describes this run only, which a host crash ends. */
	return qc_write_atomic_at(vm_dfd, FWD_RECORDS, text, len, 0600, QC_WRITE_NOSYNC, err);
}

int qc_driver_portfwd_live(int vm_dfd, const struct qc_live *live, const char *nic,
	struct qc_hostfwd **ret, size_t *ret_n)
{
	cleanup_free struct fwd_rec *v = NULL;
	struct qc_hostfwd *o;
	size_t n = 0, k = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!live->monitor_alive || records_load(vm_dfd, live->st.started_at_ms, &v, &n, NULL) < 0)
		return 0;
	o = qc_xzalloc(sizeof(*o) * (n + 1));
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].nic, nic))
			o[k++] = v[i].f;
	*ret = o;
	*ret_n = k;
	return 0;
}

void qc_driver_portfwd_forget_nic(int vm_dfd, const struct qc_live *live, const char *nic)
{
	cleanup_free struct fwd_rec *v = NULL;
	struct qc_error e = {0};
	size_t n = 0, k = 0;

	if (!live->monitor_alive || records_load(vm_dfd, live->st.started_at_ms, &v, &n, NULL) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].nic, nic))
			v[k++] = v[i];
	if (k < n && records_save(vm_dfd, live->st.started_at_ms, v, k, &e) < 0)
		qc_warn("NIC '%s': its forwards stay listed: %s", nic, e.msg);
}

/* ------------------------------------------------------- one VM's forwards */

/* The host ports of this run: state.json's, else network.json's (none when stopped). */
static void run_ports(struct qc_vmop *op, unsigned **ret, size_t *ret_n)
{
	*ret = NULL;
	*ret_n = 0;
	if (!op->live.monitor_alive)
		return;
	if (!op->live.st.n_ports) {
		(void) qc_network_load_ports(op->ctx, op->name, ret, ret_n, NULL);
		return;
	}
	*ret = qc_xzalloc(sizeof(unsigned) * op->live.st.n_ports);
	memcpy(*ret, op->live.st.ports, sizeof(unsigned) * op->live.st.n_ports);
	*ret_n = op->live.st.n_ports;
}

/* Every forward of op's VM, with the host ports of this run (definition ones first). */
static void collect(struct qc_vmop *op, const struct fwd_rec *live, size_t n_live,
	struct qc_port_fwd **ret, size_t *ret_n)
{
	cleanup_free unsigned *ports = NULL;
	struct qc_port_fwd *v;
	size_t n_ports = 0, n = 0, total = n_live;
	bool running = op->live.monitor_alive;

	run_ports(op, &ports, &n_ports);
	for (size_t i = 0; i < op->d->n_nics; i++)
		total += op->d->nics[i].type == QC_NIC_USER ? op->d->nics[i].n_fwds : 0;
	v = qc_xzalloc(sizeof(*v) * (total + 1));
	for (size_t i = 0; i < op->d->n_nics; i++) {
		const struct qc_nic *nic = &op->d->nics[i];

		for (size_t f = 0; nic->type == QC_NIC_USER && f < nic->n_fwds; f++, n++) {
			snprintf(v[n].nic, sizeof(v[n].nic), "%s", nic->name);
			snprintf(v[n].proto, sizeof(v[n].proto), "%s", nic->fwds[f].proto);
			snprintf(v[n].host_addr, sizeof(v[n].host_addr), "%s",
				eff_addr(nic->fwds[f].host_addr));
			v[n].host_port = running ? qc_network_fwd_port(op->d, i, f, ports, n_ports)
						 : nic->fwds[f].host_port;
			v[n].guest_port = nic->fwds[f].guest_port;
			v[n].persistent = true;
			v[n].live = running && v[n].host_port;
		}
	}
	for (size_t i = 0; i < n_live; i++, n++) {
		snprintf(v[n].nic, sizeof(v[n].nic), "%s", live[i].nic);
		snprintf(v[n].proto, sizeof(v[n].proto), "%s", live[i].f.proto);
		snprintf(v[n].host_addr, sizeof(v[n].host_addr), "%s",
			eff_addr(live[i].f.host_addr));
		v[n].host_port = live[i].f.host_port;
		v[n].guest_port = live[i].f.guest_port;
		v[n].live = true;
	}
	*ret = v;
	*ret_n = n;
}

/* op's VM, its domain and the live records of its run (only when it runs). */
static int begin(qc_ctx *ctx, const char *name, unsigned flags, struct qc_vmop *op,
	struct fwd_rec **live, size_t *n_live, struct qc_error *err)
{
	int rc;

	*live = NULL;
	*n_live = 0;
	if ((rc = qc_vmop_begin(ctx, name, flags, op, err)) < 0)
		return rc;
	if (op->live.monitor_alive &&
		(rc = records_load(op->dfd, op->live.st.started_at_ms, live, n_live, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	return 0;
}

QC_PUBLIC int qc_vm_port_list(qc_ctx *ctx, const char *name, struct qc_port_fwd **ret,
	size_t *ret_n, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_free struct fwd_rec *live = NULL;
	size_t n_live;
	int rc;

	if ((rc = begin(ctx, name, QC_VMOP_NO_LOCK | QC_VMOP_DOMAIN, &op, &live, &n_live, err)) < 0)
		return rc;
	collect(&op, live, n_live, ret, ret_n);
	return 0;
}

/* The user NIC named nic, else the first user NIC; its index. */
static int pick_nic(const struct qc_domain *d, const char *nic, size_t *ret, struct qc_error *err)
{
	for (size_t i = 0; i < d->n_nics; i++) {
		if ((nic && strcmp(d->nics[i].name, nic)) ||
			(!nic && d->nics[i].type != QC_NIC_USER))
			continue;
		if (d->nics[i].type == QC_NIC_USER) {
			*ret = i;
			return 0;
		}
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': NIC '%s' is not user-mode (%s=%s): port forwards need a "
			"--net user NIC; a bridged or named-network guest is reached at its own "
			"address",
			d->name, d->nics[i].name,
			d->nics[i].type == QC_NIC_NETWORK ? "network" : "bridge",
			d->nics[i].type == QC_NIC_NETWORK ? d->nics[i].network : d->nics[i].bridge);
	}
	if (nic)
		return qc_error_set(err, QC_ERR_NOTFOUND, "VM '%s' has no NIC '%s'", d->name, nic);
	return qc_error_set(err, QC_ERR_INVALID,
		"VM '%s' has no user-mode NIC: port forwards need one (attach one with "
		"'qemuctl attach-net %s user')",
		d->name, d->name);
}

/* One protocol, one host port: a clash unless the addresses differ (0.0.0.0 is every one). */
static bool clash(const struct qc_port_fwd *a, const struct qc_hostfwd *f)
{
	const char *x = a->host_addr, *y = eff_addr(f->host_addr);

	return a->host_port == f->host_port && !strcmp(a->proto, f->proto) &&
	       (!strcmp(x, y) || !strcmp(x, "0.0.0.0") || !strcmp(y, "0.0.0.0"));
}

static unsigned unprivileged_port_start(void)
{
	cleanup_free char *text = NULL;
	unsigned v = 1024;

	if (qc_read_file(AT_FDCWD, "/proc/sys/net/ipv4/ip_unprivileged_port_start", 64, &text, NULL,
		    NULL) == 0)
		(void) sscanf(text, "%u", &v);
	return v;
}

/* A host port below ip_unprivileged_port_start needs QEMU to run as root. */
static int check_privileged(struct qc_vmop *op, const struct qc_hostfwd *f, struct qc_error *err)
{
	unsigned start = unprivileged_port_start();
	struct qc_confine c = {0};
	uid_t uid = geteuid();

	if (f->host_port >= start)
		return 0;
	if (op->live.monitor_alive) {
		if (qc_driver_confine_of_pid(op->live.st.qemu_pid, &c) == 0 && c.active)
			uid = c.uid;
	} else if (qc_driver_confine_user(false, &c, NULL) == 0 && c.active) {
		uid = c.uid;
	}
	if (uid == 0)
		return 0;
	return qc_error_set(err, EACCES,
		"VM '%s': host port %u is privileged (below %u, "
		"net.ipv4.ip_unprivileged_port_start) "
		"and QEMU runs as uid %u; forward from a port >= %u",
		op->name, f->host_port, start, (unsigned) uid, start);
}

/* hostfwd_add / hostfwd_remove: the human monitor's reply is its only verdict. */
static int hmp(struct qc_vmop *op, const char *line, char **ret_out, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_free char *args = NULL;
	cleanup_json qc_json *reply = NULL;
	const char *out;
	int rc;

	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "command-line", line);
	qc_jgen_map_close(g);
	if ((rc = qc_jgen_finish(g, &args, NULL, err)) < 0 ||
		(rc = qc_qmp_execute_text(op->q, "human-monitor-command", args,
			 QC_VMOP_QMP_QUICK_MS, &reply, err)) < 0)
		return qc_error_prefix(err, "VM '%s': %s", op->name, line);
	out = qc_json_string(reply);
	*ret_out = qc_xstrdup(out ? out : "");
	/* one line, without its \r\n, for messages */
	(*ret_out)[strcspn(*ret_out, "\r\n")] = 0;
	return 0;
}

static int fwd_open(struct qc_vmop *op, size_t k, const struct qc_hostfwd *f, struct qc_error *err)
{
	char netdev[80], dev[80];
	cleanup_free char *line = NULL, *out = NULL;
	int rc;

	qc_argv_nic_ids(op->d, k, netdev, dev);
	line = qc_xasprintf("hostfwd_add %s %s:%s:%u-:%u", netdev, f->proto, eff_addr(f->host_addr),
		f->host_port, f->guest_port);
	if ((rc = hmp(op, line, &out, err)) < 0)
		return rc;
	if (out[0])
		return qc_error_set(err, QC_ERR_QMP, "VM '%s': NIC '%s': QEMU refused %s: %s",
			op->name, op->d->nics[k].name, line, out);
	return 0;
}

static int fwd_close(struct qc_vmop *op, size_t k, const struct qc_hostfwd *f, unsigned port,
	struct qc_error *err)
{
	char netdev[80], dev[80];
	cleanup_free char *line = NULL, *out = NULL;
	int rc;

	qc_argv_nic_ids(op->d, k, netdev, dev);
	line = qc_xasprintf(
		"hostfwd_remove %s %s:%s:%u", netdev, f->proto, eff_addr(f->host_addr), port);
	if ((rc = hmp(op, line, &out, err)) < 0)
		return rc;
	if (!strstr(out, "removed"))
		return qc_error_set(err, QC_ERR_QMP, "VM '%s': NIC '%s': QEMU refused %s: %s",
			op->name, op->d->nics[k].name, line, out[0] ? out : "(no reply)");
	return 0;
}

/* The host port is free: bound here the way slirp will bind it, then let go. */
static int check_free(
	struct qc_vmop *op, size_t k, const struct qc_hostfwd *f, struct qc_error *err)
{
	struct qc_net_fwd nf = {.proto = f->proto,
		.host_addr = f->host_addr,
		.host_port = f->host_port,
		.guest_port = f->guest_port};
	unsigned port;
	int fd, rc;

	rc = qc_net_ports_reserve(op->d->nics[k].name, &nf, 1, &fd, &port, err);
	if (rc == -EADDRINUSE) {
		char who[128];

		qc_net_port_holder(f->proto, f->host_port, who, sizeof(who));
		return qc_error_set(err, EADDRINUSE,
			"VM '%s': NIC '%s': host port %u is in use%s%s%s; pick another HOSTPORT",
			op->name, op->d->nics[k].name, f->host_port, who[0] ? " (by " : "", who,
			who[0] ? ")" : "");
	}
	if (rc < 0)
		return qc_error_prefix(err, "VM '%s'", op->name);
	close(fd);
	return 0;
}

/* Append f to NIC k's definition and, while the VM runs, to the run's port list. */
static int persist_add(
	struct qc_vmop *op, size_t k, const struct qc_hostfwd *f, struct qc_error *err)
{
	struct qc_nic *nic = &op->d->nics[k];
	size_t at = qc_network_fwd_index(op->d, k) + nic->n_fwds;
	struct qc_error e = {0};
	int rc;

	nic->fwds = qc_xrealloc(nic->fwds, sizeof(*nic->fwds) * (nic->n_fwds + 1));
	nic->fwds[nic->n_fwds++] = *f;
	if (op->live.monitor_alive &&
		(rc = qc_network_runtime_ports(op->dfd, at, 0, &f->host_port, 1, err)) < 0) {
		nic->n_fwds--;
		return qc_error_prefix(err, "VM '%s': record the forward", op->name);
	}
	if ((rc = qc_vmop_save(op, err)) < 0) {
		nic->n_fwds--;
		if (op->live.monitor_alive &&
			qc_network_runtime_ports(op->dfd, at, 1, NULL, 0, &e) < 0)
			qc_warn("VM '%s': %s", op->name, e.msg);
		return rc;
	}
	return 0;
}

QC_PUBLIC int qc_vm_port_add(qc_ctx *ctx, const char *name, const char *spec, const char *nic,
	bool persist, bool *ret_live, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_free struct fwd_rec *live = NULL;
	cleanup_free struct qc_port_fwd *all = NULL;
	struct qc_error e = {0};
	struct qc_hostfwd f;
	size_t n_live, n_all, k = 0;
	int rc;

	if ((rc = qc_driver_portfwd_parse(spec ? spec : "", true, &f, err)) < 0)
		return rc;
	if ((rc = begin(ctx, name, QC_VMOP_SNAPS, &op, &live, &n_live, err)) < 0)
		return rc;
	if (!op.live.monitor_alive && !persist)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s' is not running: a live forward needs a running VM; start it, or "
			"add --persist to put the forward in its definition for every start",
			name);
	if ((rc = pick_nic(op.d, nic, &k, err)) < 0)
		return rc;
	collect(&op, live, n_live, &all, &n_all);
	for (size_t i = 0; i < n_all; i++)
		if (clash(&all[i], &f))
			return qc_error_set(err, QC_ERR_EXISTS,
				"VM '%s': host port %s:%u/%s is forwarded already (NIC %s, to "
				"guest "
				"port %u); remove it first with 'qemuctl port rm %s %s:%u/%s'",
				name, all[i].host_addr, f.host_port, f.proto, all[i].nic,
				all[i].guest_port, name, all[i].host_addr, f.host_port, f.proto);
	if ((rc = check_privileged(&op, &f, err)) < 0)
		return rc;
	if (ret_live)
		*ret_live = op.live.monitor_alive;
	if (!op.live.monitor_alive)
		return persist_add(&op, k, &f, err);

	if ((rc = check_free(&op, k, &f, err)) < 0 || (rc = qc_vmop_qmp(&op, err)) < 0 ||
		(rc = fwd_open(&op, k, &f, err)) < 0)
		return rc;
	if (persist) {
		rc = persist_add(&op, k, &f, err);
	} else {
		live = qc_xrealloc(live, sizeof(*live) * (n_live + 1));
		snprintf(live[n_live].nic, sizeof(live[n_live].nic), "%s", op.d->nics[k].name);
		live[n_live].f = f;
		rc = records_save(op.dfd, op.live.st.started_at_ms, live, n_live + 1, err);
		if (rc < 0)
			qc_error_prefix(err, "VM '%s': record the forward", name);
	}
	/* Not recorded: not open either (the first error is the one reported). */
	if (rc < 0 && fwd_close(&op, k, &f, f.host_port, &e) < 0)
		qc_warn("%s; it stays open until the VM stops", e.msg);
	return rc;
}

/* Remove forward f of the definition's NIC k (index fi) and its place in the run's ports. */
static int persist_remove(struct qc_vmop *op, size_t k, size_t fi, struct qc_error *err)
{
	struct qc_nic *nic = &op->d->nics[k];
	size_t at = qc_network_fwd_index(op->d, k) + fi;
	int rc;

	memmove(&nic->fwds[fi], &nic->fwds[fi + 1], sizeof(*nic->fwds) * (nic->n_fwds - fi - 1));
	nic->n_fwds--;
	if ((rc = qc_vmop_save(op, err)) < 0)
		return rc;
	if (op->live.monitor_alive &&
		(rc = qc_network_runtime_ports(op->dfd, at, 1, NULL, 0, err)) < 0)
		return qc_error_prefix(
			err, "VM '%s': forward removed; its host port stays listed", op->name);
	return 0;
}

QC_PUBLIC int qc_vm_port_remove(
	qc_ctx *ctx, const char *name, const char *spec, bool *ret_live, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_free struct fwd_rec *live = NULL;
	cleanup_free unsigned *ports = NULL;
	struct qc_hostfwd want;
	size_t n_live, n_ports = 0;
	bool running;
	int rc;

	if ((rc = qc_driver_portfwd_parse(spec ? spec : "", false, &want, err)) < 0)
		return rc;
	if ((rc = begin(ctx, name, QC_VMOP_SNAPS, &op, &live, &n_live, err)) < 0)
		return rc;
	running = op.live.monitor_alive;
	if (ret_live)
		*ret_live = running;
	for (size_t i = 0; i < n_live; i++) {
		struct qc_nic *nic = qc_domain_find_nic(op.d, live[i].nic);

		if (live[i].f.host_port != want.host_port || strcmp(live[i].f.proto, want.proto) ||
			strcmp(eff_addr(live[i].f.host_addr), eff_addr(want.host_addr)) || !nic)
			continue;
		if ((rc = qc_vmop_qmp(&op, err)) < 0 ||
			(rc = fwd_close(&op, (size_t) (nic - op.d->nics), &live[i].f,
				 want.host_port, err)) < 0)
			return rc;
		memmove(&live[i], &live[i + 1], sizeof(*live) * (n_live - i - 1));
		if ((rc = records_save(op.dfd, op.live.st.started_at_ms, live, n_live - 1, err)) <
			0)
			return qc_error_prefix(
				err, "VM '%s': forward closed, but still listed", name);
		return 0;
	}
	run_ports(&op, &ports, &n_ports);
	for (size_t k = 0; k < op.d->n_nics; k++) {
		struct qc_nic *nic = &op.d->nics[k];

		for (size_t f = 0; nic->type == QC_NIC_USER && f < nic->n_fwds; f++) {
			unsigned port = running ? qc_network_fwd_port(op.d, k, f, ports, n_ports)
						: nic->fwds[f].host_port;

			if (port != want.host_port || strcmp(nic->fwds[f].proto, want.proto) ||
				strcmp(eff_addr(nic->fwds[f].host_addr), eff_addr(want.host_addr)))
				continue;
			if (running &&
				((rc = qc_vmop_qmp(&op, err)) < 0 ||
					(rc = fwd_close(&op, k, &nic->fwds[f], port, err)) < 0))
				return rc;
			return persist_remove(&op, k, f, err);
		}
	}
	return qc_error_set(err, QC_ERR_NOTFOUND,
		"VM '%s' has no forward of host port %s:%u/%s (see 'qemuctl port list %s')", name,
		eff_addr(want.host_addr), want.host_port, want.proto, name);
}
