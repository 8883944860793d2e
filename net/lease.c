/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The leases of a named network: <root>/networks/<name>.leases.json,
 * {"leases":[{"key","vm","ip"}...]}, read into and written from the
 * network's allocator (ipam.c).  Callers hold networks/lock.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "net/net.h"

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

int qc_net_lease_take(struct qc_net_def *n, const char *key, const char *owner, const char *ip,
	char **ret_cidr, struct qc_error *err)
{
	uint32_t want = 0, got;
	char buf[16];
	int r;

	if (ip && *ip) {
		struct qc_net_cidr c = {0};

		if (strchr(ip, '/')) {
			if ((r = qc_net_parse_cidr("ip", ip, false, &c, err)) < 0)
				return r;
			if (c.prefix != n->ipam.subnet.prefix)
				return qc_error_set(err, QC_ERR_INVALID,
					"ip=%s: prefix /%u does not match network '%s' (/%u)", ip,
					c.prefix, n->name, n->ipam.subnet.prefix);
			want = c.addr;
		} else if ((r = qc_net_parse_ipv4("ip", ip, &want, err)) < 0) {
			return r;
		}
	}
	if ((r = qc_net_ipam_alloc(&n->ipam, key, owner, want, &got, err)) < 0)
		return qc_error_prefix(err, "network '%s'", n->name);
	qc_net_format_ipv4(got, buf, sizeof(buf));
	*ret_cidr = qc_xasprintf("%s/%u", buf, n->ipam.subnet.prefix);
	return 0;
}

int qc_net_leases_release(const char *root, const char *prefix, struct qc_error *err)
{
	cleanup_close int dfd = -1;
	cleanup_close int lock = -1;
	cleanup_strv char **names = NULL;
	int r;

	if ((r = qc_net_dir_open(root, false, LOCK_EX, &dfd, &lock, err)) < 0)
		return r;
	if (dfd < 0)
		return 0;
	if ((r = qc_net_dir_names(dfd, &names, err)) < 0)
		return r;
	for (char **p = names; *p; p++) {
		struct qc_net_def n = {0};
		struct qc_error scratch = {0};

		if (qc_net_def_load(dfd, *p, true, &n, &scratch) < 0)
			continue;
		if (qc_net_ipam_release_prefix(&n.ipam, prefix) > 0 &&
			(r = qc_net_leases_save(dfd, &n, err)) < 0) {
			qc_net_def_clear(&n);
			return r;
		}
		qc_net_def_clear(&n);
	}
	return 0;
}
