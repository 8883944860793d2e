/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The image catalog: <root>/images/<name>.qcow2 (QC_IMAGE_MODE, never
 * modified once there) + <name>.json (QC_IMAGE_META_MODE).  An entry exists only when both are there; the
 * qcow2 is renamed into place first and the json written last, so a crash
 * or failure at any point leaves nothing `list` would show.  Temp files
 * start with "." and carry the image name; each name has a lock file
 * (.<name>.lock) taken by import, sync and rm.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/storage.h"

#define META_MAX (1u << 20)

void qc_catalog_entry_free(struct qc_catalog_entry *img)
{
	if (!img)
		return;
	qc_free_all(img->name, img->path, img->format, img->arch, img->source, img->sha256,
		img->sha512, img->qcow2_sha256, img->distro, img->release, img->release_version,
		img->version);
	free(img);
}

QC_DEFINE_CLEANUP_FUNC(qc_catalog_entry_freep, struct qc_catalog_entry, qc_catalog_entry_free)

QC_DEFINE_LIST_FREE(qc_catalog_list_free, struct qc_catalog_entry, qc_catalog_entry_free)

static char *images_dir(const char *root)
{
	return qc_xasprintf("%s/images", root);
}

int qc_catalog_open(const char *root, int *ret_dfd, struct qc_error *err)
{
	cleanup_free char *dir = images_dir(root);
	int fd, r;

	if ((r = qc_mkdir_p(dir, 0700, err)) < 0)
		return qc_error_prefix(err, "image catalog");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return qc_error_errno(err, errno, "image catalog: open '%s'", dir);
	*ret_dfd = fd;
	return 0;
}

int qc_catalog_lock(
	int images_dfd, const char *name, int timeout_ms, int *ret_fd, struct qc_error *err)
{
	cleanup_free char *lock = qc_xasprintf(".%s.lock", name);
	cleanup_free char *what = qc_xasprintf("image '%s' (another import, sync or rm)", name);

	return qc_lock_open(images_dfd, lock, LOCK_EX, timeout_ms, what, ret_fd, err);
}

/* Remove leftovers of an earlier import/sync of name that died (we hold the lock). */
static void remove_stale_temps(int dfd, const char *name)
{
	cleanup_free char *prefix = qc_xasprintf(".%s.tmp-", name);
	cleanup_dir DIR *d = NULL;
	struct dirent *e;

	if (qc_opendir_at(dfd, NULL, 0, &d) < 0)
		return;
	while ((e = qc_readdir(d)))
		if (qc_str_has_prefix(e->d_name, prefix))
			(void) unlinkat(dfd, e->d_name, 0);
	{
		/*
		 * The metadata's and tag's temps of a killed sync or import: by
		 * their writer's pid, or by these names as older versions left them.
		 */
		cleanup_free char *json = qc_xasprintf("%s.json", name);
		cleanup_free char *tag = qc_xasprintf(".%s.part.sha256", name);
		const char *const bases[] = {json, tag, NULL};

		(void) qc_sweep_temps(dfd, bases);
	}
}

static const char *jstr(const qc_json *j, const char *key)
{
	return qc_json_string(qc_json_get(j, key));
}

static char *jdup(const qc_json *j, const char *key)
{
	const char *s = jstr(j, key);

	return s ? qc_xstrdup(s) : NULL;
}

static int load(int dfd, const char *root, const char *name, struct qc_catalog_entry **ret,
	struct qc_error *err)
{
	cleanup_free char *jname = qc_xasprintf("%s.json", name);
	cleanup_free char *qname = qc_xasprintf("%s.qcow2", name);
	cleanup_free char *text = NULL;
	cleanup_json qc_json *j = NULL;
	cleanup_catalog_entry struct qc_catalog_entry *img = NULL;
	struct stat st;
	size_t len;
	int r;

	/* A link would make a file outside the root the backing of new VMs. */
	for (int i = 0; i < 2; i++) {
		cleanup_free char *shown = qc_xasprintf("%s/images/%s", root, i ? jname : qname);

		if ((r = qc_refuse_symlink(dfd, i ? jname : qname, shown, err)) < 0)
			return qc_error_prefix(err, "image '%s'", name);
	}
	if (fstatat(dfd, qname, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		faccessat(dfd, jname, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return qc_error_set(err, QC_ERR_NOTFOUND,
			"image '%s' not found; see 'qemuctl image list', or add it with "
			"'qemuctl image sync' or 'qemuctl image import'",
			name);
	if ((r = qc_read_file(dfd, jname, META_MAX, &text, &len, err)) < 0)
		return qc_error_prefix(err, "image '%s'", name);
	if ((r = qc_json_parse(text, len, &j, err)) < 0)
		return qc_error_prefix(err, "image '%s': %s", name, jname);
	img = qc_xzalloc(sizeof(*img));
	img->name = qc_xstrdup(name);
	img->path = qc_xasprintf("%s/images/%s", root, qname);
	img->format = qc_xstrdup("qcow2");
	img->arch = jdup(j, "arch");
	img->source = jdup(j, "source");
	img->sha256 = jdup(j, "sha256");
	img->sha512 = jdup(j, "sha512");
	img->qcow2_sha256 = jdup(j, "qcow2_sha256");
	img->distro = jdup(j, "distro");
	img->release = jdup(j, "release");
	img->release_version = jdup(j, "release_version");
	img->version = jdup(j, "version");
	(void) qc_json_as_uint(qc_json_get(j, "virtual_size"), &img->virtual_size);
	(void) qc_json_as_int(qc_json_get(j, "imported_at_ms"), &img->imported_at);
	img->size = (uint64_t) st.st_blocks * 512;
	*ret = TAKE_PTR(img);
	return 0;
}

static int abs_root(const char *root, char **ret, struct qc_error *err)
{
	return qc_abspath(root, ret, err);
}

/*
 * The absolute state root and an fd of its image catalog, once name (when
 * not NULL) is a valid image name; the caller's cleanups own both.
 */
static int open_root(
	const char *root, const char *name, char **ret_root, int *ret_dfd, struct qc_error *err)
{
	int r;

	if (name && (r = qc_validate_name("image", name, err)) < 0)
		return r;
	if ((r = abs_root(root, ret_root, err)) < 0)
		return r;
	return qc_catalog_open(*ret_root, ret_dfd, err);
}

int qc_catalog_get(
	const char *root, const char *name, struct qc_catalog_entry **ret, struct qc_error *err)
{
	cleanup_free char *aroot = NULL;
	cleanup_close int dfd = -1;
	int r;

	if ((r = open_root(root, name, &aroot, &dfd, err)) < 0)
		return r;
	return load(dfd, aroot, name, ret, err);
}

static int cmp_image(const void *a, const void *b)
{
	const struct qc_catalog_entry *x = *(struct qc_catalog_entry *const *) a;
	const struct qc_catalog_entry *y = *(struct qc_catalog_entry *const *) b;

	return strcmp(x->name, y->name);
}

int qc_catalog_list(
	const char *root, struct qc_catalog_entry ***ret, size_t *ret_n, struct qc_error *err)
{
	cleanup_free char *aroot = NULL;
	cleanup_close int dfd = -1;
	struct qc_catalog_entry **v = NULL;
	size_t n = 0;
	cleanup_dir DIR *d = NULL;
	struct dirent *e;
	int r;

	if ((r = open_root(root, NULL, &aroot, &dfd, err)) < 0)
		return r;
	if ((r = qc_opendir_at(dfd, NULL, 0, &d)) < 0)
		return qc_error_errno(err, -r, "image catalog: opendir");
	while ((e = qc_readdir(d))) {
		cleanup_free char *name = NULL;
		struct qc_catalog_entry *img = NULL;
		struct qc_error scratch = {0};

		if (e->d_name[0] == '.' || !qc_str_has_suffix(e->d_name, ".json"))
			continue;
		name = qc_xstrndup(e->d_name, strlen(e->d_name) - 5);
		if (qc_validate_name("image", name, NULL) < 0)
			continue;
		if (load(dfd, aroot, name, &img, &scratch) < 0) {
			qc_debug("image catalog: skipping '%s': %s", name, scratch.msg);
			continue;
		}
		v = qc_xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = img;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_image);
	*ret = v;
	*ret_n = n;
	return 0;
}

static char *meta_json(const struct qc_catalog_entry *m)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(true);
	char when[40];
	char *out = NULL;

	qc_format_time_utc(m->imported_at, when, sizeof(when));
	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "name", m->name);
	qc_jgen_kstring(g, "format", "qcow2");
	qc_jgen_kstring(g, "arch", m->arch);
	qc_jgen_kstring(g, "source", m->source);
	qc_jgen_kstring(g, "sha256", m->sha256);
	if (m->sha512)
		qc_jgen_kstring(g, "sha512", m->sha512);
	if (m->qcow2_sha256)
		qc_jgen_kstring(g, "qcow2_sha256", m->qcow2_sha256);
	qc_jgen_kuint(g, "size", m->size);
	qc_jgen_kuint(g, "virtual_size", m->virtual_size);
	qc_jgen_kstring(g, "imported_at", when);
	qc_jgen_kint(g, "imported_at_ms", m->imported_at);
	if (m->distro)
		qc_jgen_kstring(g, "distro", m->distro);
	if (m->release)
		qc_jgen_kstring(g, "release", m->release);
	if (m->release_version)
		qc_jgen_kstring(g, "release_version", m->release_version);
	if (m->version)
		qc_jgen_kstring(g, "version", m->version);
	qc_jgen_map_close(g);
	if (qc_jgen_finish(g, &out, NULL, NULL) < 0)
		return NULL;
	return out;
}

static int fsync_name(int dfd, const char *name)
{
	cleanup_close int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -1;
	return fsync(fd);
}

int qc_catalog_commit(int dfd, const char *root, const char *tmp_name,
	struct qc_catalog_entry *meta, struct qc_error *err)
{
	cleanup_free char *aroot = NULL;
	cleanup_free char *tmp_path = NULL;
	cleanup_free char *qname = qc_xasprintf("%s.qcow2", meta->name);
	cleanup_free char *jname = qc_xasprintf("%s.json", meta->name);
	cleanup_free char *json = NULL;
	cleanup_img_info struct qc_img_info *info = NULL;
	struct stat st;
	int r;

	if ((r = abs_root(root, &aroot, err)) < 0)
		return r;
	tmp_path = qc_xasprintf("%s/images/%s", aroot, tmp_name);
	/* The caller may know it already (one qemu-img run less). */
	if (!meta->virtual_size) {
		if ((r = qc_img_info(tmp_path, "qcow2", false, &info, err)) < 0)
			return qc_error_prefix(err, "image '%s'", meta->name);
		meta->virtual_size = info->chain[0].virtual_size;
	}
	if (fstatat(dfd, tmp_name, &st, 0) < 0)
		return qc_error_errno(err, errno, "image '%s': stat", meta->name);
	meta->size = (uint64_t) st.st_size;
	if (!meta->imported_at)
		meta->imported_at = qc_realtime_ms();
	free(meta->path);
	meta->path = qc_xasprintf("%s/images/%s", aroot, qname);
	free(meta->format);
	meta->format = qc_xstrdup("qcow2");
	json = meta_json(meta);
	if (!json)
		return qc_error_set(
			err, QC_ERR_INTERNAL, "image '%s': cannot write metadata", meta->name);
	/* Read-only from now on: VMs use it as a backing file. */
	if (fchmodat(dfd, tmp_name, QC_IMAGE_MODE, 0) < 0)
		return qc_error_errno(err, errno, "image '%s': chmod", meta->name);
	if (fsync_name(dfd, tmp_name) < 0)
		return qc_error_errno(err, errno, "image '%s': fsync", meta->name);
	if (renameat(dfd, tmp_name, dfd, qname) < 0)
		return qc_error_errno(
			err, errno, "image '%s': rename into the catalog", meta->name);
	qc_fault_step("catalog:renamed");
	if ((r = qc_write_atomic(dfd, jname, json, strlen(json), QC_IMAGE_META_MODE, err)) < 0) {
		(void) unlinkat(dfd, qname, 0);
		return qc_error_prefix(err, "image '%s'", meta->name);
	}
	return 0;
}

int qc_catalog_remove(const char *root, const char *name, struct qc_error *err)
{
	return qc_catalog_remove_checked(root, name, NULL, NULL, err);
}

int qc_catalog_remove_checked(const char *root, const char *name, qc_catalog_users_fn users_fn,
	void *opaque, struct qc_error *err)
{
	cleanup_free char *aroot = NULL;
	cleanup_free char *qname = qc_xasprintf("%s.qcow2", name);
	cleanup_free char *jname = qc_xasprintf("%s.json", name);
	cleanup_free char *part = qc_xasprintf("%s.part", name);
	cleanup_free char *partsha = qc_xasprintf(".%s.part.sha256", name);
	cleanup_close int dfd = -1;
	cleanup_close int lock = -1;
	cleanup_catalog_entry struct qc_catalog_entry *img = NULL;
	int r;

	if ((r = open_root(root, name, &aroot, &dfd, err)) < 0)
		return r;
	/* Nothing by that name: refuse without leaving a lock file behind. */
	if (faccessat(dfd, jname, F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
		faccessat(dfd, qname, F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
		faccessat(dfd, part, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return load(dfd, aroot, name, &img, err);
	if ((r = qc_catalog_lock(dfd, name, 0, &lock, err)) < 0)
		return r;
	qc_fault_step("image-rm:locked");
	if ((r = load(dfd, aroot, name, &img, err)) < 0) {
		/*
		 * Only a half-finished download of it, or the image file without its
		 * json (an rm killed between its two unlinks, an import or sync killed
		 * between its rename and its json): that goes too.  Not in the
		 * catalog, so no VM was made from it since.
		 */
		if (r == -QC_ERR_NOTFOUND && (faccessat(dfd, part, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
						     faccessat(dfd, qname, F_OK, AT_SYMLINK_NOFOLLOW) == 0)) {
			qc_error_clear(err);
			qc_info("image '%s': removing what an interrupted download, import or rm "
				"left",
				name);
			(void) unlinkat(dfd, qname, 0);
			(void) unlinkat(dfd, part, 0);
			(void) unlinkat(dfd, partsha, 0);
			remove_stale_temps(dfd, name);
			return qc_fsync_dir(dfd, err);
		}
		return r;
	}
	if (users_fn) {
		cleanup_free char *users = NULL;
		size_t n = 1;

		if ((r = users_fn(name, &users, opaque, err)) < 0)
			return r;
		if (users) {
			for (const char *c = users; (c = strstr(c, ", ")); c += 2)
				n++;
			return qc_error_set(err, QC_ERR_BUSY,
				"image '%s' is used by %zu VM%s: %s; delete %s first", name, n,
				n == 1 ? "" : "s", users, n == 1 ? "it" : "them");
		}
	}
	/* The json first: from then on the entry is gone for list and get. */
	if (unlinkat(dfd, jname, 0) < 0)
		return qc_error_errno(err, errno, "image '%s': remove %s", name, jname);
	qc_fault_step("image-rm:json-removed");
	if (unlinkat(dfd, qname, 0) < 0 && errno != ENOENT)
		return qc_error_errno(err, errno, "image '%s': remove %s", name, qname);
	(void) unlinkat(dfd, part, 0);
	(void) unlinkat(dfd, partsha, 0);
	remove_stale_temps(dfd, name);
	return qc_fsync_dir(dfd, err);
}

/* For import.c and sync.c: the leftovers of a dead earlier run. */
void qc_catalog_clean_temps(int dfd, const char *name)
{
	remove_stale_temps(dfd, name);
}
