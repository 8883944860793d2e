/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vms/<name>/domain.cache.json: the parsed form of domain.xml, so the
 * commands that load one VM need not load libxml2 (driver/xml_dl.c).
 *
 * Written after every save of domain.xml and after a parse of a
 * domain.xml that had none; stamped with domain.xml's device, inode,
 * size, mtime and ctime (ns), so any edit, replace or touch of the XML
 * makes it stale.  It lies in the state directory and is held to what
 * the XML is: read only when it is a regular file of the caller's, mode
 * 0600, at most QC_DOMAIN_CACHE_MAX bytes, of this version, with every
 * member known and of its type; the decoded domain then goes through
 * the checks the XML path runs (qc_domain_validate, the snapshot chain,
 * every file it names as the VM's own) plus the parser's own value
 * checks.  A definition that keeps unknown XML (extras) is always read
 * from domain.xml: only libxml2 can check what they hold.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/domain.h"
#include "driver/driver.h"

#define CACHE_VERSION 1

enum kind {
	K_STR, /* char *, absent when NULL */
	K_CHARS, /* char[size], "" included */
	K_BOOL,
	K_UINT, /* unsigned, at most max */
	K_U64,
	K_LONG, /* long >= 0 (an extra's line) */
	K_ENUM, /* an enum stored as its number, below max */
};

struct field {
	const char *key;
	enum kind kind;
	size_t off;
	size_t size; /* K_CHARS: the array's size */
	uint64_t max;
};

#define FIELD(key, kind, off, size, max)  \
	{                                 \
		key, kind, off, size, max \
	}
#define F(t, k, m) FIELD(#m, k, offsetof(t, m), 0, 0)
#define FC(t, m) FIELD(#m, K_CHARS, offsetof(t, m), sizeof(((t *) 0)->m), 0)
#define FN(t, k, m, mx) FIELD(#m, k, offsetof(t, m), 0, mx)

static const struct field domain_fields[] = {F(struct qc_domain, K_STR, name),
	FC(struct qc_domain, uuid_str), F(struct qc_domain, K_STR, title),
	F(struct qc_domain, K_STR, machine), FN(struct qc_domain, K_ENUM, accel, QC_ACCEL_COUNT),
	F(struct qc_domain, K_STR, cpu_model), FN(struct qc_domain, K_UINT, cpus, UINT32_MAX),
	F(struct qc_domain, K_U64, memory), F(struct qc_domain, K_STR, kernel),
	F(struct qc_domain, K_STR, initrd), F(struct qc_domain, K_STR, cmdline),
	F(struct qc_domain, K_STR, loader), F(struct qc_domain, K_STR, nvram),
	F(struct qc_domain, K_BOOL, secure_boot), F(struct qc_domain, K_BOOL, tpm),
	F(struct qc_domain, K_BOOL, serial_console), FC(struct qc_domain, video),
	FC(struct qc_domain, vnc), F(struct qc_domain, K_BOOL, autostart),
	F(struct qc_domain, K_STR, ready_marker), {NULL, K_STR, 0, 0, 0}};

static const struct field disk_fields[] = {F(struct qc_disk, K_STR, name),
	FN(struct qc_disk, K_ENUM, role, QC_ROLE_COUNT),
	FN(struct qc_disk, K_ENUM, device, QC_DEVICE_CDROM + 1),
	FN(struct qc_disk, K_ENUM, bus, QC_BUS_SATA + 1), F(struct qc_disk, K_STR, path),
	F(struct qc_disk, K_STR, format), F(struct qc_disk, K_STR, backing),
	F(struct qc_disk, K_STR, backing_format), F(struct qc_disk, K_STR, backing_image),
	F(struct qc_disk, K_STR, target), F(struct qc_disk, K_BOOL, readonly),
	F(struct qc_disk, K_BOOL, owned), {NULL, K_STR, 0, 0, 0}};

static const struct field nic_fields[] = {F(struct qc_nic, K_STR, name),
	FN(struct qc_nic, K_ENUM, type, QC_NIC_TYPE_COUNT), FC(struct qc_nic, mac),
	F(struct qc_nic, K_STR, model), F(struct qc_nic, K_STR, network),
	F(struct qc_nic, K_STR, bridge), F(struct qc_nic, K_STR, ip), {NULL, K_STR, 0, 0, 0}};

static const struct field fwd_fields[] = {FC(struct qc_hostfwd, proto),
	FC(struct qc_hostfwd, host_addr), FN(struct qc_hostfwd, K_UINT, host_port, 65535),
	FN(struct qc_hostfwd, K_UINT, guest_port, 65535), {NULL, K_STR, 0, 0, 0}};

static const struct field share_fields[] = {F(struct qc_share, K_STR, tag),
	F(struct qc_share, K_STR, path), F(struct qc_share, K_BOOL, readonly),
	F(struct qc_share, K_BOOL, empty), F(struct qc_share, K_STR, security_model),
	{NULL, K_STR, 0, 0, 0}};

static const struct field seed_fields[] = {F(struct qc_seed_opts, K_BOOL, enabled),
	F(struct qc_seed_opts, K_STR, hostname), F(struct qc_seed_opts, K_STR, user_data),
	F(struct qc_seed_opts, K_STR, network_config), F(struct qc_seed_opts, K_STR, user),
	FN(struct qc_seed_opts, K_UINT, generation, UINT32_MAX),
	F(struct qc_seed_opts, K_STR, content_hash), {NULL, K_STR, 0, 0, 0}};

static const struct field extra_fields[] = {F(struct qc_xml_extra, K_STR, parent),
	F(struct qc_xml_extra, K_STR, xml), FN(struct qc_xml_extra, K_LONG, line, LONG_MAX),
	{NULL, K_STR, 0, 0, 0}};

#undef FIELD
#undef F
#undef FC
#undef FN

void qc_domain_cache_stamp(const struct stat *st, char *out, size_t size)
{
	snprintf(out, size, "%llu:%llu:%lld:%lld.%09ld:%lld.%09ld", (unsigned long long) st->st_dev,
		(unsigned long long) st->st_ino, (long long) st->st_size,
		(long long) st->st_mtim.tv_sec, st->st_mtim.tv_nsec, (long long) st->st_ctim.tv_sec,
		st->st_ctim.tv_nsec);
}

/* ------------------------------------------------------------- encode */

static void put_fields(struct qc_jgen *g, const struct field *f, const void *base)
{
	const char *b = base;

	for (; f->key; f++) {
		const void *p = b + f->off;

		switch (f->kind) {
		case K_STR:
			if (*(char *const *) p)
				qc_jgen_kstring(g, f->key, *(char *const *) p);
			break;
		case K_CHARS:
			qc_jgen_kstring(g, f->key, p);
			break;
		case K_BOOL:
			qc_jgen_kbool(g, f->key, *(const bool *) p);
			break;
		case K_UINT:
			qc_jgen_kuint(g, f->key, *(const unsigned *) p);
			break;
		case K_U64:
			qc_jgen_kuint(g, f->key, *(const uint64_t *) p);
			break;
		case K_LONG:
			qc_jgen_kint(g, f->key, *(const long *) p);
			break;
		case K_ENUM:
			qc_jgen_kuint(g, f->key, (unsigned) *(const int *) p);
			break;
		}
	}
}

/* Member key: the n elements of arr, each an object of fields. */
#define PUT_LIST(g, key, arr, n, fields)                   \
	do {                                               \
		qc_jgen_key(g, key);                       \
		qc_jgen_array_open(g);                     \
		for (size_t i_ = 0; i_ < (n); i_++) {      \
			qc_jgen_map_open(g);               \
			put_fields(g, fields, &(arr)[i_]); \
			qc_jgen_map_close(g);              \
		}                                          \
		qc_jgen_array_close(g);                    \
	} while (0)

int qc_domain_cache_encode(const struct qc_domain *d, const struct stat *xml, char **ret,
	size_t *ret_len, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	char stamp[128];

	qc_domain_cache_stamp(xml, stamp, sizeof(stamp));
	qc_jgen_map_open(g);
	qc_jgen_kuint(g, "v", CACHE_VERSION);
	qc_jgen_kstring(g, "stamp", stamp);
	qc_jgen_kstring(g, "arch", qc_arch_name(d->arch));
	put_fields(g, domain_fields, d);
	PUT_LIST(g, "disks", d->disks, d->n_disks, disk_fields);
	qc_jgen_key(g, "nics");
	qc_jgen_array_open(g);
	for (size_t i = 0; i < d->n_nics; i++) {
		qc_jgen_map_open(g);
		put_fields(g, nic_fields, &d->nics[i]);
		PUT_LIST(g, "fwds", d->nics[i].fwds, d->nics[i].n_fwds, fwd_fields);
		qc_jgen_map_close(g);
	}
	qc_jgen_array_close(g);
	PUT_LIST(g, "shares", d->shares, d->n_shares, share_fields);
	qc_jgen_key(g, "seed");
	qc_jgen_map_open(g);
	put_fields(g, seed_fields, &d->seed);
	qc_jgen_key(g, "ssh_keys");
	qc_jgen_array_open(g);
	for (size_t i = 0; d->seed.ssh_keys && d->seed.ssh_keys[i]; i++)
		qc_jgen_string(g, d->seed.ssh_keys[i]);
	qc_jgen_array_close(g);
	qc_jgen_map_close(g);
	PUT_LIST(g, "extras", d->extras, d->n_extras, extra_fields);
	qc_jgen_map_close(g);
	return qc_jgen_finish(g, ret, ret_len, err);
}

/* ------------------------------------------------------------- decode */

static int bad(struct qc_error *err, const char *what, const char *key)
{
	return qc_error_set(
		err, QC_ERR_INVALID, "%s: member '%s' is unknown or not valid", what, key);
}

/* Set base's member from v as field f says; -1 when v is not of its type or range. */
static int get_field(const struct field *f, const qc_json *v, void *base)
{
	char *p = (char *) base + f->off;
	const char *s;
	uint64_t u;
	bool b;

	switch (f->kind) {
	case K_STR:
		if (!(s = qc_json_string(v)))
			return -1;
		*(char **) p = qc_xstrdup(s);
		return 0;
	case K_CHARS:
		if (!(s = qc_json_string(v)) || strlen(s) >= f->size)
			return -1;
		memcpy(p, s, strlen(s) + 1);
		return 0;
	case K_BOOL:
		if (!qc_json_as_bool(v, &b))
			return -1;
		*(bool *) p = b;
		return 0;
	default:
		break;
	}
	if (!qc_json_as_uint(v, &u))
		return -1;
	if (f->kind == K_U64) {
		*(uint64_t *) p = u;
		return 0;
	}
	if (f->kind == K_ENUM) {
		if (u >= f->max)
			return -1;
		*(int *) p = (int) u;
		return 0;
	}
	if (u > f->max)
		return -1;
	if (f->kind == K_LONG)
		*(long *) p = (long) u;
	else
		*(unsigned *) p = (unsigned) u;
	return 0;
}

/*
 * The members of object o into base: each a field of fields or one of
 * the names in lists (handled by the caller), at most once.
 */
static int get_fields(const qc_json *o, const struct field *fields, const char *const *lists,
	void *base, const char *what, struct qc_error *err)
{
	uint64_t seen = 0, seen_lists = 0;

	if (qc_json_type(o) != QC_JSON_OBJECT)
		return qc_error_set(err, QC_ERR_INVALID, "%s is not an object", what);
	for (size_t i = 0; i < qc_json_len(o); i++) {
		const char *key = qc_json_key_at(o, i);
		const qc_json *v = qc_json_at(o, i);
		size_t k = 0, l = 0;

		for (; fields[k].key && strcmp(fields[k].key, key) != 0; k++)
			;
		if (!fields[k].key) {
			/* the caller reads the first of a repeated member: refuse repeats */
			for (; lists && lists[l] && strcmp(lists[l], key) != 0; l++)
				;
			if (!lists || !lists[l] || (seen_lists & (UINT64_C(1) << l)))
				return bad(err, what, key);
			seen_lists |= UINT64_C(1) << l;
			continue;
		}
		if ((seen & (UINT64_C(1) << k)) || get_field(&fields[k], v, base) < 0)
			return bad(err, what, key);
		seen |= UINT64_C(1) << k;
	}
	/* a string left out is NULL; any other member left out: not ours */
	for (size_t k = 0; fields[k].key; k++)
		if (fields[k].kind != K_STR && !(seen & (UINT64_C(1) << k)))
			return bad(err, what, fields[k].key);
	return 0;
}

/* Array member key of o (required), at most max elements: its length, or -1. */
static ssize_t list_of(const qc_json *o, const char *key, size_t max, const qc_json **ret)
{
	const qc_json *a = qc_json_get(o, key);

	if (!a || qc_json_type(a) != QC_JSON_ARRAY || qc_json_len(a) > max)
		return -1;
	*ret = a;
	return (ssize_t) qc_json_len(a);
}

/* Hundreds of devices would be a domain.xml larger than the XML path reads. */
#define MAX_ITEMS 4096

static int get_nic(const qc_json *o, struct qc_nic *k, struct qc_error *err)
{
	static const char *const lists[] = {"fwds", NULL};
	const qc_json *a;
	ssize_t n;
	int r;

	if ((r = get_fields(o, nic_fields, lists, k, "NIC", err)) < 0)
		return r;
	if ((n = list_of(o, "fwds", MAX_ITEMS, &a)) < 0)
		return bad(err, "NIC", "fwds");
	k->fwds = n ? qc_xzalloc((size_t) n * sizeof(*k->fwds)) : NULL;
	for (size_t i = 0; i < (size_t) n; i++, k->n_fwds++)
		if ((r = get_fields(
			     qc_json_at(a, i), fwd_fields, NULL, &k->fwds[i], "forward", err)) < 0)
			return r;
	return 0;
}

static int get_seed(const qc_json *o, struct qc_seed_opts *s, struct qc_error *err)
{
	static const char *const lists[] = {"ssh_keys", NULL};
	const qc_json *a;
	ssize_t n;
	int r;

	if ((r = get_fields(o, seed_fields, lists, s, "seed", err)) < 0)
		return r;
	if ((n = list_of(o, "ssh_keys", MAX_ITEMS, &a)) < 0)
		return bad(err, "seed", "ssh_keys");
	if (!n)
		return 0;
	s->ssh_keys = qc_xzalloc(((size_t) n + 1) * sizeof(char *));
	for (size_t i = 0; i < (size_t) n; i++) {
		const char *key = qc_json_string(qc_json_at(a, i));

		if (!key)
			return bad(err, "seed", "ssh_keys");
		s->ssh_keys[i] = qc_xstrdup(key);
	}
	return 0;
}

/* Each element of array member key of o, added to d by add and read by get. */
#define GET_LIST(o, key, d, add, body)                          \
	do {                                                    \
		const qc_json *a_;                              \
		ssize_t n_ = list_of(o, key, MAX_ITEMS, &a_);   \
		if (n_ < 0)                                     \
			return bad(err, "domain", key);         \
		for (size_t i_ = 0; i_ < (size_t) n_; i_++) {   \
			const qc_json *e_ = qc_json_at(a_, i_); \
			int r_;                                 \
			add;                                    \
			if ((r_ = (body)) < 0)                  \
				return r_;                      \
		}                                               \
	} while (0)

static struct qc_xml_extra *add_extra(struct qc_domain *d)
{
	d->extras = qc_xrealloc(d->extras, (d->n_extras + 1) * sizeof(*d->extras));
	memset(&d->extras[d->n_extras], 0, sizeof(*d->extras));
	return &d->extras[d->n_extras++];
}

static int get_domain(const qc_json *o, struct qc_domain *d, struct qc_error *err)
{
	static const char *const lists[] = {
		"v", "stamp", "arch", "disks", "nics", "shares", "seed", "extras", NULL};
	const char *arch = qc_json_string(qc_json_get(o, "arch"));
	const qc_json *seed = qc_json_get(o, "seed");
	int r;

	if ((r = get_fields(o, domain_fields, lists, d, "domain", err)) < 0)
		return r;
	if (!arch || (d->arch = qc_arch_from_name(arch)) == QC_ARCH_INVALID ||
		strcmp(arch, qc_arch_name(d->arch)) != 0)
		return bad(err, "domain", "arch");
	/* what the XML path makes of <uuid>, from the text alone */
	if (qc_uuid_parse(d->uuid_str, d->uuid) < 0 || strlen(d->uuid_str) != 36)
		return bad(err, "domain", "uuid_str");
	qc_uuid_format(d->uuid, d->uuid_str);
	GET_LIST(o, "disks", d, struct qc_disk *k = qc_domain_add_disk(d),
		get_fields(e_, disk_fields, NULL, k, "disk", err));
	GET_LIST(o, "nics", d, struct qc_nic *k = qc_domain_add_nic(d), get_nic(e_, k, err));
	GET_LIST(o, "shares", d, struct qc_share *k = qc_domain_add_share(d),
		get_fields(e_, share_fields, NULL, k, "share", err));
	GET_LIST(o, "extras", d, struct qc_xml_extra *k = add_extra(d),
		get_fields(e_, extra_fields, NULL, k, "extra", err));
	if (!seed)
		return bad(err, "domain", "seed");
	return get_seed(seed, &d->seed, err);
}

int qc_domain_cache_decode(const char *text, size_t len, const struct stat *xml,
	struct qc_domain **ret, struct qc_error *err)
{
	cleanup_json qc_json *j = NULL;
	cleanup_domain struct qc_domain *d = NULL;
	const char *stamp;
	char want[128];
	uint64_t v;
	int r;

	if (len > QC_DOMAIN_CACHE_MAX)
		return qc_error_set(err, EFBIG, "%zu bytes is more than the %u allowed", len,
			QC_DOMAIN_CACHE_MAX);
	if ((r = qc_json_parse(text, len, &j, err)) < 0)
		return r;
	if (!qc_json_as_uint(qc_json_get(j, "v"), &v) || v != CACHE_VERSION)
		return qc_error_set(err, QC_ERR_INVALID, "not of version %d", CACHE_VERSION);
	qc_domain_cache_stamp(xml, want, sizeof(want));
	if (!(stamp = qc_json_string(qc_json_get(j, "stamp"))) || strcmp(stamp, want) != 0)
		return qc_error_set(
			err, QC_ERR_INVALID, "stale: made from another %s", QC_VM_DOMAIN);
	/* the defaults of qc_domain_new() would fill what is missing: start from zero */
	d = qc_xzalloc(sizeof(*d));
	if ((r = get_domain(j, d, err)) < 0)
		return r;
	*ret = TAKE_PTR(d);
	return 0;
}

/* ------------------------------------------------------------ on disk */

/* The parser's own value checks that qc_domain_validate does not repeat. */
static int check_parsed(const struct qc_domain *d, struct qc_error *err)
{
	static const char *const models[] = {"virtio-net-pci", "e1000", "e1000e", "rtl8139", NULL};
	int r;

	if (d->title && (r = qc_domain_check_text("title", d->title, 4096, err)) < 0)
		return r;
	if (d->video[0] && strcmp(d->video, "vga") != 0 && strcmp(d->video, "virtio") != 0)
		return qc_error_set(err, QC_ERR_INVALID, "video model '%s'", d->video);
	for (size_t i = 0; i < d->n_nics; i++) {
		bool known = !d->nics[i].model;

		for (size_t m = 0; !known && models[m]; m++)
			known = strcmp(models[m], d->nics[i].model) == 0;
		if (!known)
			return qc_error_set(err, QC_ERR_INVALID, "NIC '%s': model '%s'",
				d->nics[i].name, d->nics[i].model);
	}
	if (d->n_extras)
		return qc_error_set(err, QC_ERR_INVALID,
			"it keeps XML qemuctl does not understand, which only libxml2 can check");
	return 0;
}

/* Open vm_dir/name for reading: a regular file of ours, mode 0600, not too large. */
static int open_cache(const char *vm_dir, char **ret, size_t *ret_len, struct qc_error *err)
{
	cleanup_free char *path = qc_xasprintf("%s/%s", vm_dir, QC_VM_DOMAIN_CACHE);
	cleanup_free char *buf = NULL;
	cleanup_close int fd = -1;
	struct stat st;
	size_t len = 0;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return qc_error_errno(err, errno, "open '%s'", path);
	if (fstat(fd, &st) < 0)
		return qc_error_errno(err, errno, "stat '%s'", path);
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 07777) != 0600)
		return qc_error_set(err, QC_ERR_INVALID,
			"'%s' is not a regular file of mode 0600 that is ours", path);
	if (st.st_size > QC_DOMAIN_CACHE_MAX)
		return qc_error_set(err, EFBIG, "'%s' is too large", path);
	buf = qc_xmalloc((size_t) st.st_size + 1);
	while (len <= (size_t) st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t) st.st_size + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return qc_error_errno(err, errno, "read '%s'", path);
		if (n == 0)
			break;
		len += (size_t) n;
	}
	if (len != (size_t) st.st_size)
		return qc_error_set(err, QC_ERR_INVALID, "'%s' changed while read", path);
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int qc_domain_cache_load(const char *root, const char *name, const struct stat *xml,
	struct qc_domain **ret, struct qc_error *err)
{
	cleanup_free char *vm_dir = qc_domain_home_dir(root, name), *text = NULL;
	cleanup_domain struct qc_domain *d = NULL;
	size_t len = 0;
	long line;
	int r;

	if ((r = open_cache(vm_dir, &text, &len, err)) < 0 ||
		(r = qc_domain_cache_decode(text, len, xml, &d, err)) < 0)
		return r;
	if (strcmp(d->name, name) != 0)
		return qc_error_set(
			err, QC_ERR_INVALID, "defines VM '%s', not '%s'", d->name, name);
	if ((r = qc_domain_validate(d, err)) < 0 || (r = check_parsed(d, err)) < 0 ||
		(r = qc_domain_check_snapshots(d, root, &line, err)) < 0 ||
		(r = qc_domain_check_owned(d, root, err)) < 0)
		return r;
	*ret = TAKE_PTR(d);
	return 0;
}

int qc_domain_cache_write(
	int dirfd, const struct qc_domain *d, const struct stat *xml, struct qc_error *err)
{
	cleanup_free char *text = NULL;
	size_t len;
	int r;

	if (d->n_extras)
		return 0;
	if ((r = qc_domain_cache_encode(d, xml, &text, &len, err)) < 0)
		return r;
	if (len > QC_DOMAIN_CACHE_MAX)
		return qc_error_set(err, EFBIG, "%s: %zu bytes is more than the %u allowed",
			QC_VM_DOMAIN_CACHE, len, QC_DOMAIN_CACHE_MAX);
	return qc_write_atomic_at(dirfd, QC_VM_DOMAIN_CACHE, text, len, 0600, QC_WRITE_NOSYNC, err);
}

void qc_domain_cache_save(int dirfd, const struct qc_domain *d)
{
	struct stat st;

	if (fstatat(dirfd, QC_VM_DOMAIN, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
		(void) qc_domain_cache_write(dirfd, d, &st, NULL);
}
