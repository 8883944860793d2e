/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vms/<name>/summary.json: what `list` shows of domain.xml, written after
 * every save of domain.xml and read by list while its stamp still matches:
 * the list columns, and how ssh reaches the guest once it runs (its routes,
 * resolved against the run's ports in state.json) and its known addresses.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cloudinit/cloudinit.h"
#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/network.h"
#include "driver/seed.h"

#define QC_VM_SUMMARY "summary.json"
/* The layout below; version 1 (an older qemuctl's) has the list columns only. */
#define SUMMARY_VERSION 2
/* More routes or addresses than a domain has NICs to give: not ours. */
#define SUMMARY_MAX_ITEMS 64

static void xml_stamp(const struct stat *st, char *out, size_t size)
{
	snprintf(out, size, "%llu:%llu:%lld.%09ld", (unsigned long long) st->st_ino,
		(unsigned long long) st->st_size, (long long) st->st_mtim.tv_sec,
		st->st_mtim.tv_nsec);
}

void qc_driver_summary_of(const struct qc_domain *d, struct qc_summary *s)
{
	struct qc_strv v = {0};

	s->reach = true;
	s->routes = qc_network_ssh_routes(d, &s->n_routes);
	s->ssh_user = qc_xstrdup(qc_driver_seed_user(d));
	for (size_t k = 0; k < d->n_nics; k++)
		if (d->nics[k].type == QC_NIC_NETWORK && d->nics[k].ip && d->nics[k].ip[0])
			qc_strv_push_take(&v, qc_xstrndup(d->nics[k].ip,
						   strcspn(d->nics[k].ip, "/")));
	s->addresses = v.v ? qc_strv_steal(&v) : qc_xzalloc(sizeof(char *));
}

void qc_driver_summary_save(int vm_dfd, const struct qc_domain *d)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_free char *text = NULL, *old = NULL;
	struct qc_summary s = {0};
	char stamp[96];
	struct stat st;
	size_t len, old_len;

	if (fstatat(vm_dfd, QC_VM_DOMAIN, &st, 0) < 0)
		return;
	xml_stamp(&st, stamp, sizeof(stamp));
	qc_driver_summary_of(d, &s);
	qc_jgen_map_open(g);
	qc_jgen_kuint(g, "v", SUMMARY_VERSION);
	qc_jgen_kstring(g, "stamp", stamp);
	qc_jgen_kstring(g, "name", d->name);
	qc_jgen_kstring(g, "uuid", d->uuid_str);
	qc_jgen_kstring(g, "arch", qc_arch_name(d->arch));
	qc_jgen_kstring(g, "machine", d->machine ? d->machine : qc_arch_info(d->arch)->machine);
	qc_jgen_kstring(g, "accel", qc_accel_name(d->accel));
	qc_jgen_kuint(g, "cpus", d->cpus);
	qc_jgen_kuint(g, "memory", d->memory);
	if (d->kernel)
		qc_jgen_kstring(g, "kernel", d->kernel);
	qc_jgen_kstring(g, "ssh_user", s.ssh_user);
	qc_jgen_key(g, "ssh");
	qc_jgen_array_open(g);
	for (size_t k = 0; k < s.n_routes; k++) {
		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "host", s.routes[k].host);
		qc_jgen_kuint(g, "port", s.routes[k].port);
		qc_jgen_kuint(g, "index", s.routes[k].index);
		qc_jgen_map_close(g);
	}
	qc_jgen_array_close(g);
	qc_jgen_key(g, "addresses");
	qc_jgen_array_open(g);
	for (size_t k = 0; s.addresses[k]; k++)
		qc_jgen_string(g, s.addresses[k]);
	qc_jgen_array_close(g);
	qc_jgen_map_close(g);
	qc_driver_summary_clear(&s);
	if (qc_jgen_finish(g, &text, &len, NULL) < 0)
		return;
	/* Unchanged (start saves it every time): the directory is left alone. */
	if (qc_read_file(vm_dfd, QC_VM_SUMMARY, 65536, &old, &old_len, NULL) == 0 &&
		old_len == len && memcmp(old, text, len) == 0)
		return;
	(void) qc_write_atomic_at(vm_dfd, QC_VM_SUMMARY, text, len, 0600, QC_WRITE_NOSYNC, NULL);
}

void qc_driver_summary_clear(struct qc_summary *s)
{
	free(s->routes);
	free(s->ssh_user);
	qc_strv_free(s->addresses);
	memset(s, 0, sizeof(*s));
}

static bool ipv4_ok(const char *s)
{
	struct in_addr a;

	return s && inet_pton(AF_INET, s, &a) == 1;
}

/* The routes and addresses, each checked as the definition's were. */
static bool reach_load(const qc_json *j, struct qc_summary *s)
{
	const qc_json *routes = qc_json_get(j, "ssh"), *addrs = qc_json_get(j, "addresses");
	const char *user = qc_json_string(qc_json_get(j, "ssh_user"));
	struct qc_strv v = {0};
	size_t n, k;

	if (!user || qc_cloudinit_validate_user(user, NULL) < 0 ||
		qc_json_type(routes) != QC_JSON_ARRAY || qc_json_type(addrs) != QC_JSON_ARRAY ||
		(n = qc_json_len(routes)) > SUMMARY_MAX_ITEMS ||
		qc_json_len(addrs) > SUMMARY_MAX_ITEMS)
		return false;
	s->routes = qc_xzalloc((n + 1) * sizeof(*s->routes));
	for (k = 0; k < n; k++) {
		const qc_json *r = qc_json_at(routes, k);
		const char *host = qc_json_string(qc_json_get(r, "host"));
		uint64_t port, index;

		if (!ipv4_ok(host) || strlen(host) >= sizeof(s->routes[k].host) ||
			!qc_json_as_uint(qc_json_get(r, "port"), &port) || port > 65535 ||
			!qc_json_as_uint(qc_json_get(r, "index"), &index) || index > 65535)
			return false;
		strcpy(s->routes[k].host, host);
		s->routes[k].port = (unsigned) port;
		s->routes[k].index = (size_t) index;
	}
	s->n_routes = n;
	for (k = 0; k < qc_json_len(addrs); k++) {
		const char *a = qc_json_string(qc_json_at(addrs, k));

		if (!ipv4_ok(a)) {
			qc_strv_clear(&v);
			return false;
		}
		qc_strv_push(&v, a);
	}
	s->addresses = v.v ? qc_strv_steal(&v) : qc_xzalloc(sizeof(char *));
	s->ssh_user = qc_xstrdup(user);
	s->reach = true;
	return true;
}

/* Does stamp (xml_stamp's text) describe st?  Compared as numbers: list reads one per VM. */
static bool stamp_matches(const char *stamp, const struct stat *st)
{
	unsigned long long v[4];
	const char *p = stamp;
	char *end;

	for (int k = 0; k < 4; k++) {
		if (*p < '0' || *p > '9')
			return false;
		errno = 0;
		v[k] = strtoull(p, &end, 10);
		if (errno || *end != (k == 3 ? '\0' : k == 2 ? '.' : ':'))
			return false;
		p = end + 1;
	}
	return v[0] == (unsigned long long) st->st_ino &&
	       v[1] == (unsigned long long) st->st_size &&
	       v[2] == (unsigned long long) st->st_mtim.tv_sec &&
	       v[3] == (unsigned long long) st->st_mtim.tv_nsec;
}

/*
 * The list fields from summary.json, when it still describes domain.xml
 * (xml: its stat) and names the VM of its directory (name); the reach
 * when it is of this version and its reach checks out.
 */
bool qc_driver_summary_load(int dfd, const struct stat *xml, const char *name,
	struct qc_vm_info *i, struct qc_summary *s)
{
	cleanup_free char *text = NULL;
	cleanup_json qc_json *j = NULL;
	const char *stamp, *uuid, *arch, *machine, *accel, *kernel;
	uint64_t version, cpus, mem;
	size_t len;

	if (qc_read_file(dfd, QC_VM_SUMMARY, 65536, &text, &len, NULL) < 0 ||
		qc_json_parse(text, len, &j, NULL) < 0)
		return false;
	stamp = qc_json_string(qc_json_get(j, "stamp"));
	uuid = qc_json_string(qc_json_get(j, "uuid"));
	arch = qc_json_string(qc_json_get(j, "arch"));
	machine = qc_json_string(qc_json_get(j, "machine"));
	accel = qc_json_string(qc_json_get(j, "accel"));
	if (!stamp || !stamp_matches(stamp, xml) ||
		!qc_streq_null(qc_json_string(qc_json_get(j, "name")), name) || !uuid || !arch ||
		!machine || !accel || !qc_json_as_uint(qc_json_get(j, "cpus"), &cpus) ||
		!qc_json_as_uint(qc_json_get(j, "memory"), &mem))
		return false;
	if (qc_json_as_uint(qc_json_get(j, "v"), &version) && version == SUMMARY_VERSION &&
		!reach_load(j, s))
		qc_driver_summary_clear(s);
	i->name = qc_xstrdup(name);
	i->uuid = qc_xstrdup(uuid);
	i->arch = qc_xstrdup(arch);
	i->machine = qc_xstrdup(machine);
	i->accel_requested = qc_xstrdup(accel);
	i->cpus = (unsigned) cpus;
	i->memory = mem;
	kernel = qc_json_string(qc_json_get(j, "kernel"));
	i->kernel = kernel ? qc_xstrdup(kernel) : NULL;
	return true;
}
