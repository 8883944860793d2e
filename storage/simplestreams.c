/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Simplestreams, the pure part: parse a REF, pick the products file from
 * streams/v1/index.json, and choose the newest version of a product for a
 * release and arch that has a disk1.img item.  No I/O, so unit tests and
 * the fuzzer cover it directly.
 *
 * Layout (products:1.0):
 *   products -> "<product id>" -> {arch, release, version, aliases,
 *     release_codename, os, versions -> "<serial>" -> items -> "<key>" ->
 *     {ftype, path, sha256, size}}
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "storage/storage.h"

/* ------------------------------------------------------------------ arches */

static const struct {
	const char *canonical, *debian;
	const char *aliases[4];
} arches[] = {
	{"x86_64", "amd64", {"x86_64", "amd64", "x86-64", NULL}},
	{"aarch64", "arm64", {"aarch64", "arm64", NULL}},
	{"ppc64le", "ppc64el", {"ppc64le", "ppc64el", NULL}},
	{"s390x", "s390x", {"s390x", NULL}},
	{"riscv64", "riscv64", {"riscv64", NULL}},
	{"armv7l", "armhf", {"armv7l", "armhf", NULL}},
	{"i686", "i386", {"i686", "i386", "i586", NULL}},
};

static int arch_index(const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < QC_ARRAY_SIZE(arches); i++)
		for (size_t j = 0; arches[i].aliases[j]; j++)
			if (strcasecmp(name, arches[i].aliases[j]) == 0)
				return (int) i;
	return -1;
}

const char *qc_storage_arch_canonical(const char *name)
{
	int i = arch_index(name);

	return i < 0 ? NULL : arches[i].canonical;
}

const char *qc_storage_arch_debian(const char *name)
{
	int i = arch_index(name);

	return i < 0 ? NULL : arches[i].debian;
}

const char *qc_storage_arch_host(void)
{
	static char machine[65];
	struct utsname u;
	const char *c;

	if (uname(&u) < 0)
		return "x86_64";
	c = qc_storage_arch_canonical(u.machine);
	if (c)
		return c;
	snprintf(machine, sizeof(machine), "%s", u.machine);
	return machine;
}

/* -------------------------------------------------------------------- refs */

void qc_ss_ref_clear(struct qc_ss_ref *r)
{
	qc_free_all(r->distro, r->release);
	memset(r, 0, sizeof(*r));
}

static bool release_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_';
}

int qc_ss_ref_parse(const char *ref, struct qc_ss_ref *ret, struct qc_error *err)
{
	const char *colon, *rel;
	cleanup_free char *distro = NULL;

	if (!ref || !*ref)
		return qc_error_set(err, QC_ERR_INVALID,
			"image reference is empty; use DISTRO:RELEASE, e.g. ubuntu:24.04");
	colon = strchr(ref, ':');
	if (colon) {
		distro = qc_xstrndup(ref, (size_t) (colon - ref));
		rel = colon + 1;
	} else {
		distro = qc_xstrdup("ubuntu");
		rel = ref;
	}
	if (!*distro || !*rel)
		return qc_error_set(err, QC_ERR_INVALID,
			"image reference '%s': use DISTRO:RELEASE, e.g. ubuntu:24.04", ref);
	for (const char *p = distro; *p; p++)
		if (!release_char_ok(*p))
			return qc_error_set(err, QC_ERR_INVALID,
				"image reference '%s': bad character in distribution", ref);
	for (const char *p = rel; *p; p++)
		if (!release_char_ok(*p))
			return qc_error_set(err, QC_ERR_INVALID,
				"image reference '%s': bad character in release", ref);
	for (char *p = distro; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char) (*p - 'A' + 'a');
	ret->distro = TAKE_PTR(distro);
	ret->release = qc_xstrdup(rel);
	return 0;
}

/*
 * A path the stream gives us (products file, image file) is joined to the
 * stream's URL, so it must stay below it: not empty, relative, no "..", not a
 * URL of its own, no control characters.
 */
static bool stream_path_ok(const char *path)
{
	if (!path || !*path || path[0] == '/' || strstr(path, "..") || strstr(path, "://"))
		return false;
	for (const char *c = path; *c; c++)
		if ((unsigned char) *c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

/* ------------------------------------------------------------------- index */

int qc_ss_index_products_path(
	const char *index, size_t len, const char *distro, char **ret_path, struct qc_error *err)
{
	cleanup_json qc_json *root = NULL;
	const qc_json *idx, *best = NULL;
	const char *fmt, *path;
	int r, best_score = -1;

	if ((r = qc_json_parse(index, len, &root, err)) < 0)
		return qc_error_prefix(err, "stream index");
	fmt = qc_json_string(qc_json_get(root, "format"));
	if (fmt && strcmp(fmt, "index:1.0") != 0)
		return qc_error_set(err, QC_ERR_JSON,
			"stream index: format '%s' is not supported (want index:1.0)", fmt);
	idx = qc_json_get(root, "index");
	if (!idx || qc_json_type(idx) != QC_JSON_OBJECT)
		return qc_error_set(err, QC_ERR_JSON, "stream index: no \"index\" object");
	for (size_t i = 0; i < qc_json_len(idx); i++) {
		const char *key = qc_json_key_at(idx, i);
		const qc_json *e = qc_json_at(idx, i);
		const char *dt = qc_json_string(qc_json_get(e, "datatype"));
		const qc_json *prods = qc_json_get(e, "products");
		int score = 0;

		if (!dt || strcmp(dt, "image-downloads") != 0)
			continue;
		if (!qc_json_string(qc_json_get(e, "path")))
			continue;
		/* Prefer the "released:download" content, and one that names the distro. */
		if (key && qc_str_has_suffix(key, ":download"))
			score += 2;
		if (distro && key && strstr(key, distro))
			score += 1;
		if (distro && prods && qc_json_type(prods) == QC_JSON_ARRAY)
			for (size_t j = 0; j < qc_json_len(prods); j++) {
				const char *p = qc_json_string(qc_json_at(prods, j));

				if (p && strstr(p, distro)) {
					score += 1;
					break;
				}
			}
		if (score > best_score) {
			best_score = score;
			best = e;
		}
	}
	if (!best)
		return qc_error_set(
			err, QC_ERR_NOTFOUND, "stream index: no image-downloads content listed");
	path = qc_json_string(qc_json_get(best, "path"));
	if (!stream_path_ok(path))
		return qc_error_set(err, QC_ERR_JSON,
			"stream index: bad products path '%s' (want a relative path below the stream)",
			path);
	*ret_path = qc_xstrdup(path);
	return 0;
}

/* ---------------------------------------------------------------- products */

void qc_ss_item_clear(struct qc_ss_item *it)
{
	qc_free_all(it->product, it->version, it->release, it->release_version, it->codename,
		it->arch, it->path, it->sha256, it->sha512, it->name, it->ftype);
	memset(it, 0, sizeof(*it));
}

/* A product field, falling back to the version/item (simplestreams inherits down). */
static const char *field(const qc_json *prod, const char *key)
{
	return qc_json_string(qc_json_get(prod, key));
}

static bool alias_match(const char *aliases, const char *release)
{
	size_t n = strlen(release);

	for (const char *p = aliases; p && *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t) (e - p) : strlen(p);

		if (l == n && strncasecmp(p, release, n) == 0)
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

static bool release_match(const qc_json *prod, const char *release)
{
	const char *rel = field(prod, "release"), *ver = field(prod, "version");

	if (rel && strcasecmp(rel, release) == 0)
		return true;
	if (ver && strcmp(ver, release) == 0)
		return true;
	/* "24.04 LTS" style titles are not matched; aliases cover "noble", "n", "24.04". */
	return alias_match(field(prod, "aliases"), release);
}

/* The disk1.img item of one version, or NULL. */
static const qc_json *disk_item(const qc_json *ver)
{
	const qc_json *items = qc_json_get(ver, "items");

	if (!items || qc_json_type(items) != QC_JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < qc_json_len(items); i++) {
		const qc_json *it = qc_json_at(items, i);
		const char *ft = qc_json_string(qc_json_get(it, "ftype"));

		if (ft && strcmp(ft, "disk1.img") == 0 && qc_json_string(qc_json_get(it, "path")))
			return it;
	}
	return NULL;
}

static void list_add(struct qc_buf *b, const char *s)
{
	char needle[128];

	if (!s)
		return;
	snprintf(needle, sizeof(needle), " %s,", s);
	/* b is kept as " a, b," internally; cheap de-duplication. */
	if (b->len && strstr(b->data, needle))
		return;
	qc_buf_printf(b, " %s,", s);
}

static char *list_finish(struct qc_buf *b)
{
	if (!b->len)
		return qc_xstrdup("none");
	b->data[--b->len] = '\0'; /* trailing comma */
	return qc_xstrdup(b->data + 1);
}

int qc_ss_select(const char *products, size_t len, const char *release, const char *arch,
	struct qc_ss_item *ret, struct qc_error *err)
{
	cleanup_json qc_json *root = NULL;
	cleanup_buf struct qc_buf releases = {0}, arches_seen = {0};
	const qc_json *prods, *best_prod = NULL, *best_item = NULL;
	const char *best_ver = NULL, *want_arch;
	bool release_seen = false;
	int r;

	if ((r = qc_json_parse(products, len, &root, err)) < 0)
		return qc_error_prefix(err, "stream products");
	want_arch = qc_storage_arch_canonical(arch);
	if (!want_arch)
		return qc_error_set(err, QC_ERR_INVALID,
			"unknown arch '%s'; use x86_64 (amd64), aarch64 (arm64) or ppc64le "
			"(ppc64el)",
			arch);
	prods = qc_json_get(root, "products");
	if (!prods || qc_json_type(prods) != QC_JSON_OBJECT)
		return qc_error_set(err, QC_ERR_JSON, "stream products: no \"products\" object");

	for (size_t i = 0; i < qc_json_len(prods); i++) {
		const qc_json *p = qc_json_at(prods, i);
		const qc_json *vers = qc_json_get(p, "versions");
		const char *pa = field(p, "arch");

		if (qc_json_type(p) != QC_JSON_OBJECT)
			continue;
		list_add(&releases, field(p, "release"));
		if (!release_match(p, release))
			continue;
		release_seen = true;
		if (!vers || qc_json_type(vers) != QC_JSON_OBJECT)
			continue;
		for (size_t j = 0; j < qc_json_len(vers); j++) {
			const char *vk = qc_json_key_at(vers, j);
			const qc_json *v = qc_json_at(vers, j);
			const qc_json *it = disk_item(v);
			const char *ia;

			if (!it)
				continue;
			/* arch may be set on the product, the version or the item. */
			ia = qc_json_string(qc_json_get(it, "arch"));
			if (!ia)
				ia = qc_json_string(qc_json_get(v, "arch"));
			if (!ia)
				ia = pa;
			list_add(&arches_seen, ia);
			if (!ia || !qc_storage_arch_canonical(ia) ||
				strcmp(qc_storage_arch_canonical(ia), want_arch) != 0)
				continue;
			/* Serials are "20240423" or "20240423.1": version order. */
			if (!best_ver || strverscmp(vk, best_ver) > 0) {
				best_ver = vk;
				best_prod = p;
				best_item = it;
			}
		}
	}
	if (!release_seen) {
		cleanup_free char *l = list_finish(&releases);

		return qc_error_set(err, QC_ERR_NOTFOUND,
			"release '%s' is not in the stream; known releases: %s", release, l);
	}
	if (!best_item) {
		cleanup_free char *l = list_finish(&arches_seen);

		return qc_error_set(err, QC_ERR_NOTFOUND,
			"release '%s' has no disk1.img for arch %s (%s); arches offered: %s",
			release, qc_storage_arch_debian(want_arch), want_arch, l);
	}

	{
		const char *path = qc_json_string(qc_json_get(best_item, "path"));
		const char *sha = qc_json_string(qc_json_get(best_item, "sha256"));
		const char *ia = qc_json_string(qc_json_get(best_item, "arch"));
		const char *pname = "?";
		uint64_t size = 0;

		for (size_t i = 0; i < qc_json_len(prods); i++)
			if (qc_json_at(prods, i) == best_prod)
				pname = qc_json_key_at(prods, i);
		if (!sha || !qc_sha256_valid(sha))
			return qc_error_set(err, QC_ERR_JSON,
				"stream products: %s version %s: disk1.img has no valid sha256",
				pname, best_ver);
		if (!qc_json_as_uint(qc_json_get(best_item, "size"), &size))
			size = 0;
		if (!stream_path_ok(path))
			return qc_error_set(err, QC_ERR_JSON,
				"stream products: bad item path '%s' (want a relative path below the stream)",
				path);
		memset(ret, 0, sizeof(*ret));
		ret->product = qc_xstrdup(pname);
		ret->version = qc_xstrdup(best_ver);
		ret->release = field(best_prod, "release") ? qc_xstrdup(field(best_prod, "release"))
							   : qc_xstrdup(release);
		if (field(best_prod, "version"))
			ret->release_version = qc_xstrdup(field(best_prod, "version"));
		if (field(best_prod, "release_codename"))
			ret->codename = qc_xstrdup(field(best_prod, "release_codename"));
		ret->arch = qc_xstrdup(ia			  ? ia
				       : field(best_prod, "arch") ? field(best_prod, "arch")
								  : arch);
		ret->path = qc_xstrdup(path);
		ret->sha256 = qc_xstrdup(sha);
		for (char *c = ret->sha256; *c; c++)
			if (*c >= 'A' && *c <= 'F')
				*c = (char) (*c - 'A' + 'a');
		ret->size = size;
		ret->ftype = qc_xstrdup("disk1.img");
	}
	return 0;
}
