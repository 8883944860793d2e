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
 * summary.json is read as a stream of JSON events (one per VM on every
 * list: no tree), with the meaning a tree would give it: the first of
 * each member name counts (in the summary and in each route), a value of
 * another type counts as missing, numbers as qc_json_as_uint reads them,
 * a string or name ends at a NUL byte ("\u0000") as the tree's C strings.
 * Members of the summary are at depth 1, elements of "ssh" and
 * "addresses" at depth 2, members of a route at depth 3.
 */
enum { F_V, F_STAMP, F_NAME, F_UUID, F_ARCH, F_MACHINE, F_ACCEL, F_CPUS, F_MEMORY, F_KERNEL,
	F_SSH_USER, F_SSH, F_ADDRESSES, F_N };
struct member_name {
	const char *s;
	size_t len;
};
#define NAME(s) {s, sizeof(s) - 1}
static const struct member_name field_names[] = {NAME("v"), NAME("stamp"), NAME("name"),
	NAME("uuid"), NAME("arch"), NAME("machine"), NAME("accel"), NAME("cpus"), NAME("memory"),
	NAME("kernel"), NAME("ssh_user"), NAME("ssh"), NAME("addresses")};
QC_TABLE_COVERS(field_names, F_N);
enum { R_HOST, R_PORT, R_INDEX, R_N };
static const struct member_name route_names[] = {NAME("host"), NAME("port"), NAME("index")};
QC_TABLE_COVERS(route_names, R_N);
#undef NAME

struct reader {
	const struct stat *xml;
	const char *name;
	unsigned seen;	/* the fields whose (first) member came */
	int field;	/* of the member being read, or F_N (another, a repeat) */
	bool array;	/* its value is an array */
	char *str[F_N]; /* string values (but the name's) */
	bool name_ok;	/* the name is the VM's */
	bool uint_ok[F_N];
	uint64_t num[F_N];
	bool array_ok[F_N]; /* "ssh" and "addresses" are arrays */
	bool bad;	    /* a route or address does not check out */
	size_t n_routes, n_addrs;
	struct qc_ssh_route routes[SUMMARY_MAX_ITEMS];
	bool in_route;
	unsigned route_seen;
	int route_field;
	bool route_ok[R_N];
	struct qc_strv addrs;
};

/* The index of the member named s (len bytes) in names, once: a repeat is n. */
static int member_index(
	const struct member_name *names, int n, unsigned *seen, const char *s, size_t len)
{
	len = strnlen(s, len); /* as the tree's key, a C string */
	for (int k = 0; k < n; k++)
		if (names[k].len == len && memcmp(names[k].s, s, len) == 0) {
			if (*seen & (1u << k))
				return n;
			*seen |= 1u << k;
			return k;
		}
	return n;
}

/* A member of the summary; false when the summary cannot be used. */
static bool read_member(struct reader *r, enum qc_json_event ev, const char *s, size_t len)
{
	int f = r->field;

	r->array = ev == QC_JSON_EV_ARRAY_OPEN;
	switch (f) {
	case F_N:
		return true;
	case F_V:
	case F_CPUS:
	case F_MEMORY:
		r->uint_ok[f] = ev == QC_JSON_EV_NUMBER && qc_json_text_uint(s, len, &r->num[f]);
		return r->uint_ok[f] || f == F_V;
	case F_SSH:
	case F_ADDRESSES:
		r->array_ok[f] = r->array;
		return true;
	default:
		break;
	}
	if (ev != QC_JSON_EV_STRING)
		return f == F_KERNEL || f == F_SSH_USER; /* optional, or only the reach's */
	if (f == F_NAME) {
		len = strnlen(s, len);
		r->name_ok = len == strlen(r->name) && memcmp(s, r->name, len) == 0;
		return r->name_ok;
	}
	r->str[f] = qc_xstrndup(s, len);
	return f != F_STAMP || stamp_matches(r->str[f], r->xml);
}

/* An element of "ssh" (a route opens) or of "addresses". */
static void read_element(struct reader *r, enum qc_json_event ev, const char *s, size_t len)
{
	if (r->field == F_ADDRESSES) {
		cleanup_free char *a = NULL;

		if (++r->n_addrs > SUMMARY_MAX_ITEMS || ev != QC_JSON_EV_STRING || r->bad) {
			r->bad = true;
			return;
		}
		a = qc_xstrndup(s, len);
		if (!ipv4_ok(a))
			r->bad = true;
		else
			qc_strv_push_take(&r->addrs, TAKE_PTR(a));
		return;
	}
	if (++r->n_routes > SUMMARY_MAX_ITEMS || ev != QC_JSON_EV_MAP_OPEN) {
		r->bad = true;
		return;
	}
	r->in_route = true;
	r->route_seen = 0;
	memset(r->route_ok, 0, sizeof(r->route_ok));
}

/* A member of the route being read: its host, port and index. */
static void read_route_member(struct reader *r, enum qc_json_event ev, const char *s, size_t len)
{
	struct qc_ssh_route *rt = &r->routes[r->n_routes - 1];
	uint64_t v;

	if (ev == QC_JSON_EV_KEY) {
		r->route_field = member_index(route_names, R_N, &r->route_seen, s, len);
		return;
	}
	if (r->route_field == R_HOST && ev == QC_JSON_EV_STRING) {
		len = strnlen(s, len);
		if (len < sizeof(rt->host)) {
			memcpy(rt->host, s, len);
			rt->host[len] = '\0';
			r->route_ok[R_HOST] = ipv4_ok(rt->host);
		}
	} else if (r->route_field != R_HOST && r->route_field != R_N && ev == QC_JSON_EV_NUMBER &&
		   qc_json_text_uint(s, len, &v) && v <= 65535) {
		if (r->route_field == R_PORT)
			rt->port = (unsigned) v;
		else
			rt->index = (size_t) v;
		r->route_ok[r->route_field] = true;
	}
}

static bool summary_event(
	void *opaque, enum qc_json_event ev, const char *s, size_t len, int depth)
{
	struct reader *r = opaque;
	bool in_list = (r->field == F_SSH || r->field == F_ADDRESSES) && r->array;

	if (ev == QC_JSON_EV_MAP_CLOSE || ev == QC_JSON_EV_ARRAY_CLOSE) {
		if (depth == 2 && in_list && r->in_route) {
			r->in_route = false;
			if (!r->route_ok[R_HOST] || !r->route_ok[R_PORT] || !r->route_ok[R_INDEX])
				r->bad = true;
		}
		return true;
	}
	if (depth == 0)
		return ev == QC_JSON_EV_MAP_OPEN; /* else it has no members */
	if (depth == 1 && ev == QC_JSON_EV_KEY) {
		r->field = member_index(field_names, F_N, &r->seen, s, len);
		return true;
	}
	if (depth == 1)
		return read_member(r, ev, s, len);
	if (depth == 2 && in_list)
		read_element(r, ev, s, len);
	else if (depth == 3 && in_list && r->in_route)
		read_route_member(r, ev, s, len);
	return true;
}

static void reader_clear(struct reader *r)
{
	for (int f = 0; f < F_N; f++)
		free(r->str[f]);
	qc_strv_clear(&r->addrs);
}

/* The reach, when every part of it checks out, as the definition's were. */
static void reach_take(struct reader *r, struct qc_summary *s)
{
	if (!r->str[F_SSH_USER] || qc_cloudinit_validate_user(r->str[F_SSH_USER], NULL) < 0 ||
		!r->array_ok[F_SSH] || !r->array_ok[F_ADDRESSES] || r->bad)
		return;
	s->routes = qc_xzalloc((r->n_routes + 1) * sizeof(*s->routes));
	memcpy(s->routes, r->routes, r->n_routes * sizeof(*s->routes));
	s->n_routes = r->n_routes;
	s->addresses = r->addrs.v ? qc_strv_steal(&r->addrs) : qc_xzalloc(sizeof(char *));
	s->ssh_user = TAKE_PTR(r->str[F_SSH_USER]);
	s->reach = true;
}

bool qc_driver_summary_parse(const char *text, size_t len, const struct stat *xml,
	const char *name, struct qc_vm_info *i, struct qc_summary *s)
{
	struct reader r = {.xml = xml, .name = name, .field = F_N};

	if (qc_json_walk(text, len, summary_event, &r, NULL) < 0 || !r.str[F_STAMP] ||
		!r.name_ok || !r.str[F_UUID] || !r.str[F_ARCH] || !r.str[F_MACHINE] ||
		!r.str[F_ACCEL] || !r.uint_ok[F_CPUS] || !r.uint_ok[F_MEMORY]) {
		reader_clear(&r);
		return false;
	}
	if (r.uint_ok[F_V] && r.num[F_V] == SUMMARY_VERSION)
		reach_take(&r, s);
	i->name = qc_xstrdup(name);
	i->uuid = TAKE_PTR(r.str[F_UUID]);
	i->arch = TAKE_PTR(r.str[F_ARCH]);
	i->machine = TAKE_PTR(r.str[F_MACHINE]);
	i->accel_requested = TAKE_PTR(r.str[F_ACCEL]);
	i->cpus = (unsigned) r.num[F_CPUS];
	i->memory = r.num[F_MEMORY];
	i->kernel = TAKE_PTR(r.str[F_KERNEL]);
	reader_clear(&r);
	return true;
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
	size_t len;

	return qc_read_file(dfd, QC_VM_SUMMARY, 65536, &text, &len, NULL) == 0 &&
	       qc_driver_summary_parse(text, len, xml, name, i, s);
}
