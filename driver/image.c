/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Images for VMs: resolving --image / --disk-image / --disk for create,
 * what each VM's disks rest on (storage/refs.c counts a catalog image's
 * users from it), and the public image API on top of storage/ (import,
 * sync, list, rm).
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

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/image.h"
#include "storage/storage.h"

/* A concurrent sync of the same image may take this long to finish. */
#define SYNC_LOCK_TIMEOUT_MS (3600 * 1000)

/* ------------------------------------------------------------- for create */

int qc_driver_image_resolve(qc_ctx *ctx, const char *name, enum qc_arch arch, char **ret_path,
	char **ret_format, struct qc_error *err)
{
	cleanup_catalog_entry struct qc_catalog_entry *img = NULL;
	int r;

	if ((r = qc_validate_name("image", name, err)) < 0)
		return r;
	if ((r = qc_catalog_get(ctx->root, name, &img, err)) < 0)
		return r;
	if (img->arch && arch != QC_ARCH_INVALID) {
		const char *want = qc_arch_name(arch);
		const char *have = qc_storage_arch_canonical(img->arch);

		if (have && strcmp(have, want) != 0) {
			const char *deb = qc_storage_arch_debian(have);

			return qc_error_set(err, QC_ERR_INVALID,
				"image '%s' is %s (%s) but the VM is %s; use an image for %s "
				"(image sync REF --arch %s) or create the VM with --arch %s",
				name, deb ? deb : have, have, want, want, want, have);
		}
	}
	*ret_path = TAKE_PTR(img->path);
	*ret_format = qc_xstrdup(img->format ? img->format : "qcow2");
	return 0;
}

/* Is abs inside <root>/images/? */
static bool in_catalog(const char *root, const char *abs)
{
	cleanup_free char *images = qc_xasprintf("%s/images/", root);
	cleanup_free char *real_images = NULL, *real_file = realpath(abs, NULL);

	real_images = realpath(images, NULL);
	if (real_images && real_file) {
		size_t n = strlen(real_images);

		if (strncmp(real_file, real_images, n) == 0 && real_file[n] == '/')
			return true;
	}
	return qc_str_has_prefix(abs, images);
}

/* Shared by --disk-image and --disk FILE: a readable regular file holding a disk image. */
static int check_image_file(const char *what, const char *file, char **ret_path, char **ret_format,
	struct qc_error *err)
{
	cleanup_free char *abs = NULL;
	cleanup_img_info struct qc_img_info *info = NULL;
	cleanup_close int fd = -1;
	struct stat st;
	int r;

	if ((r = qc_driver_open_input(what, file, &abs, &fd, &st, err)) < 0)
		return r;
	{
		unsigned char head[8];
		ssize_t n = pread(fd, head, sizeof(head), 0);
		enum qc_compression c = qc_compression_detect(head, n > 0 ? (size_t) n : 0);

		if (c != QC_COMP_NONE)
			return qc_error_set(err, QC_ERR_INVALID,
				"%s '%s' is %s-compressed; import it with 'qemuctl image import "
				"NAME "
				"%s' (which decompresses it), or decompress it first",
				what, file, qc_compression_name(c), file);
	}
	if ((r = qc_img_info(abs, NULL, true, &info, err)) < 0)
		return qc_error_prefix(err, "%s '%s' is not a usable disk image", what, file);
	if (!qc_img_format_importable(info->chain[0].format))
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' is in format '%s'; use a qcow2, raw, vmdk or vhdx disk image",
			what, file, info->chain[0].format);
	if (strcmp(info->chain[0].format, "raw") == 0 && (st.st_size == 0 || st.st_size % 512 != 0))
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' is not a disk image (%lld bytes of raw data, not a whole number "
			"of "
			"512-byte sectors)",
			what, file, (long long) st.st_size);
	if (info->chain[0].corrupt)
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' is marked corrupt; repair it with 'qemu-img check -r all'", what,
			file);
	if (strcmp(info->chain[0].format, "qcow2") == 0 &&
		(r = qc_img_check(abs, "qcow2", NULL, err)) < 0)
		return qc_error_prefix(err, "%s", what);
	*ret_path = TAKE_PTR(abs);
	*ret_format = qc_xstrdup(info->chain[0].format);
	return 0;
}

int qc_driver_image_file(const char *file, char **ret_path, char **ret_format, struct qc_error *err)
{
	return check_image_file("--disk-image", file, ret_path, ret_format, err);
}

/*
 * The boot disk size of a VM on catalog image name in images_dir when none
 * was asked for: QC_IMAGE_VM_DISK, or 0 (the image's own size) when the
 * image is as large or its size is unknown.
 */
static uint64_t catalog_disk_default(const char *images_dir, const char *name)
{
	cleanup_free char *root = qc_xstrndup(images_dir, strlen(images_dir) - strlen("/images"));
	cleanup_catalog_entry struct qc_catalog_entry *img = NULL;

	if (qc_catalog_get(root, name, &img, NULL) < 0 || !img->virtual_size ||
		img->virtual_size >= QC_IMAGE_VM_DISK)
		return 0;
	return QC_IMAGE_VM_DISK;
}

/*
 * While the overlay is made, a shared lock on a catalog backing image keeps
 * `image rm` and a replacing `image sync` (exclusive) from slipping in
 * between their check of the users and the change: they see this VM (its
 * directory, even a ".create-*" one, holds the overlay once we are done), or
 * we see no image.
 */
int qc_driver_image_overlay(const char *path, const char *backing, const char *backing_format,
	uint64_t disk_size, struct qc_error *err)
{
	cleanup_free char *dir = qc_xstrdup(backing), *name = NULL, *json = NULL, *lockf = NULL;
	cleanup_free char *what = NULL;
	cleanup_close int dfd = -1;
	cleanup_close int lock = -1;
	char *slash = strrchr(dir, '/');
	int r;

	if (slash && qc_str_has_suffix(slash + 1, ".qcow2") && slash - dir >= 7 &&
		strncmp(slash - 7, "/images", 7) == 0) {
		*slash = '\0';
		name = qc_xstrndup(slash + 1, strlen(slash + 1) - strlen(".qcow2"));
		json = qc_xasprintf("%s.json", name);
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0 && faccessat(dfd, json, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
			lockf = qc_xasprintf(".%s.lock", name);
			what = qc_xasprintf("image '%s' (being synced or removed)", name);
			if ((r = qc_lock_open(dfd, lockf, LOCK_SH, 60000, what, &lock, err)) < 0)
				return r;
			if (!disk_size)
				disk_size = catalog_disk_default(dir, name);
		}
	}
	return qc_img_create_overlay(path, backing, backing_format, disk_size, err);
}

int qc_driver_disk_create(const char *path, uint64_t size, struct qc_error *err)
{
	return qc_img_create(path, "qcow2", size, err);
}

int qc_driver_disk_from_spec(qc_ctx *ctx, const char *spec, unsigned index, const char *vm_dir,
	struct qc_disk *disk, uint64_t *ret_size, struct qc_error *err)
{
	cleanup_free char *path = NULL, *fmt = NULL;
	uint64_t size = 0;
	char target[8];
	int r;

	if (!spec || !*spec)
		return qc_error_set(
			err, QC_ERR_INVALID, "--disk: empty; give a SIZE (10G) or a FILE");
	if (index < 1 || index > 25)
		return qc_error_set(
			err, QC_ERR_INVALID, "--disk '%s': too many disks (at most 25)", spec);
	snprintf(target, sizeof(target), "vd%c", 'a' + index);
	if (qc_parse_size("--disk", spec, &size, NULL) == 0) {
		if (size < 1 << 20)
			return qc_error_set(
				err, QC_ERR_INVALID, "--disk '%s': too small, at least 1M", spec);
		memset(disk, 0, sizeof(*disk));
		disk->name = qc_xasprintf("disk%u", index);
		disk->role = QC_ROLE_DATA;
		disk->device = QC_DEVICE_DISK;
		disk->bus = QC_BUS_VIRTIO;
		disk->path = qc_xasprintf("%s/disk%u.qcow2", vm_dir, index);
		disk->format = qc_xstrdup("qcow2");
		disk->target = qc_xstrdup(target);
		disk->owned = true;
		*ret_size = size;
		return 0;
	}
	if ((r = check_image_file("--disk", spec, &path, &fmt, err)) < 0)
		return r;
	if (in_catalog(ctx->root, path))
		return qc_error_set(err, QC_ERR_INVALID,
			"--disk '%s' is a catalog image, which must stay unmodified; use --image "
			"for a VM's root disk, or copy it",
			spec);
	if ((r = qc_driver_image_chain_check(ctx->root, "--disk", path, fmt, err)) < 0)
		return r;
	memset(disk, 0, sizeof(*disk));
	disk->name = qc_xasprintf("disk%u", index);
	disk->role = QC_ROLE_DATA;
	disk->device = QC_DEVICE_DISK;
	disk->bus = QC_BUS_VIRTIO;
	disk->readonly = access(path, W_OK) != 0;
	disk->path = TAKE_PTR(path);
	disk->format = TAKE_PTR(fmt);
	disk->target = qc_xstrdup(target);
	disk->owned = false;
	*ret_size = 0;
	return 0;
}

/* path lies in root, as spelled or as it resolves now */
static bool resolves_in(const char *real_root, const char *root, const char *path)
{
	cleanup_free char *real = realpath(path, NULL);
	size_t n = strlen(root);

	if (strncmp(path, root, n) == 0 && (path[n] == '/' || !path[n]))
		return true;
	n = real_root ? strlen(real_root) : 0;
	return real && real_root && strncmp(real, real_root, n) == 0 && (real[n] == '/' || !real[n]);
}

/* path resolves to a file directly in <root>/images/ */
static bool in_images(const char *root, const char *path)
{
	cleanup_free char *images = qc_xasprintf("%s/images", root);
	cleanup_free char *real_images = realpath(images, NULL), *real = realpath(path, NULL);
	size_t n = real_images ? strlen(real_images) : 0;

	return real && real_images && strncmp(real, real_images, n) == 0 && real[n] == '/' &&
	       !strchr(real + n + 1, '/');
}

int qc_driver_image_chain_check(
	const char *root, const char *what, const char *path, const char *fmt, struct qc_error *err)
{
	cleanup_img_info struct qc_img_info *info = NULL;
	cleanup_free char *real_root = realpath(root, NULL);
	int r;

	if (fmt && strcmp(fmt, "raw") == 0)
		return 0; /* no header: QEMU opens nothing else through it */
	if ((r = qc_img_info(path, fmt, true, &info, err)) < 0)
		return qc_error_prefix(err, "%s '%s'", what, path);
	for (size_t i = 0; i < info->n_chain; i++) {
		const struct qc_img_layer *l = &info->chain[i];

		if (l->external)
			return qc_error_set(err, QC_ERR_INVALID,
				"%s '%s': %s keeps its data in another file '%s' (a qcow2 data "
				"file or vmdk extent), which QEMU would write through this disk; "
				"use a self-contained image (qemu-img convert -O qcow2)",
				what, path, l->filename ? l->filename : path, l->external);
		if (i == 0)
			continue;
		if (!l->filename || l->filename[0] != '/')
			return qc_error_set(err, QC_ERR_INVALID,
				"%s '%s': backing '%s' is not a file path (QEMU would open it as a "
				"protocol or JSON description); rebase the image onto a file",
				what, path, l->filename ? l->filename : "");
		/* a catalog image is read-only for everyone; a VM's file is not */
		if (resolves_in(real_root, root, l->filename) && !in_images(root, l->filename))
			return qc_error_set(err, QC_ERR_INVALID,
				"%s '%s': backing '%s' lies in the state root %s but is no catalog "
				"image (another VM's disk or layer); rebase the image onto a file "
				"outside it",
				what, path, l->filename, root);
	}
	return 0;
}

/* ------------------------------------------------------------------- users */

/* What a VM's disks rest on, by its domain.xml, else by its overlays. */
static void vm_backings(
	int vms_dfd, const char *vm, struct qc_strv *images, struct qc_strv *paths, void *opaque)
{
	qc_ctx *ctx = opaque;
	cleanup_free char *vm_dir = qc_xasprintf("%s/vms/%s", ctx->root, vm);
	cleanup_free char *xml = qc_xasprintf("%s/%s", vm_dir, QC_VM_DOMAIN);
	cleanup_domain struct qc_domain *dom = NULL;

	if (qc_domain_load(xml, NULL, NULL, &dom, NULL) < 0) {
		/* unreadable definition: ask the overlays themselves */
		qc_refs_overlay_backings(vms_dfd, vm_dir, vm, paths);
		return;
	}
	for (size_t k = 0; k < dom->n_disks; k++) {
		const struct qc_disk *dk = &dom->disks[k];

		if (dk->backing_image)
			qc_strv_push(images, dk->backing_image);
		if (dk->backing)
			qc_strv_push(paths, dk->backing);
	}
}

/* For n catalog images, the VMs using each (storage/refs.c counts them). */
static int collect_users(
	qc_ctx *ctx, const char *const *names, size_t n, char ***ret, struct qc_error *err)
{
	cleanup_close int vms_dfd = -1;
	int r;

	r = qc_driver_vms_open(ctx, false, &vms_dfd, err);
	if (r == -ENOENT)
		qc_error_clear(err); /* no VMs yet */
	else if (r < 0)
		return r;
	return qc_refs_users(ctx->root, vms_dfd, names, n, vm_backings, ctx, ret, err);
}

int qc_driver_image_users(qc_ctx *ctx, const char *name, char ***ret, struct qc_error *err)
{
	return collect_users(ctx, &name, 1, ret, err);
}

/* ---------------------------------------------------------------- public API */

QC_PUBLIC void qc_image_info_free(struct qc_image_info *info)
{
	if (!info)
		return;
	qc_free_all(info->name, info->arch, info->format, info->path, info->source, info->sha256,
		info->distro, info->release, info->release_version, info->version);
	qc_strv_free(info->users);
	free(info);
}

QC_PUBLIC QC_DEFINE_LIST_FREE(qc_image_info_list_free, struct qc_image_info, qc_image_info_free)

/* Takes the strings out of img; users (taken) NULL: look them up. */
static int to_info(qc_ctx *ctx, struct qc_catalog_entry *img, char **users,
	struct qc_image_info **ret, struct qc_error *err)
{
	struct qc_image_info *info = qc_xzalloc(sizeof(*info));
	int r;

	info->name = TAKE_PTR(img->name);
	info->arch = TAKE_PTR(img->arch);
	info->format = TAKE_PTR(img->format);
	info->path = TAKE_PTR(img->path);
	info->source = TAKE_PTR(img->source);
	info->sha256 = TAKE_PTR(img->sha256);
	info->distro = TAKE_PTR(img->distro);
	info->release = TAKE_PTR(img->release);
	info->release_version = TAKE_PTR(img->release_version);
	info->version = TAKE_PTR(img->version);
	info->size = img->size;
	info->virtual_size = img->virtual_size;
	info->imported_at_ms = img->imported_at;
	if (users)
		info->users = users;
	else if ((r = qc_driver_image_users(ctx, info->name, &info->users, err)) < 0) {
		qc_image_info_free(info);
		return r;
	}
	while (info->users[info->n_users])
		info->n_users++;
	*ret = info;
	return 0;
}

QC_PUBLIC int qc_image_get(
	qc_ctx *ctx, const char *name, struct qc_image_info **ret, struct qc_error *err)
{
	cleanup_catalog_entry struct qc_catalog_entry *img = NULL;
	int r;

	if ((r = qc_catalog_get(ctx->root, name, &img, err)) < 0)
		return r;
	return to_info(ctx, img, NULL, ret, err);
}

QC_PUBLIC int qc_image_list(
	qc_ctx *ctx, struct qc_image_info ***ret, size_t *ret_n, struct qc_error *err)
{
	struct qc_catalog_entry **v = NULL;
	struct qc_image_info **out;
	size_t n = 0;
	int r;

	if ((r = qc_catalog_list(ctx->root, &v, &n, err)) < 0)
		return r;
	out = qc_xzalloc((n ? n : 1) * sizeof(*out));
	{
		const char **names = qc_xzalloc((n ? n : 1) * sizeof(*names));
		char ***users = qc_xzalloc((n ? n : 1) * sizeof(*users));

		for (size_t i = 0; i < n; i++)
			names[i] = v[i]->name;
		/* One pass over the VMs for all images, not one per image. */
		r = collect_users(ctx, names, n, users, err);
		for (size_t i = 0; r == 0 && i < n; i++)
			(void) to_info(ctx, v[i], users[i], &out[i], NULL);
		free(names);
		free(users);
		if (r < 0) {
			free(out);
			qc_catalog_list_free(v, n);
			return r;
		}
	}
	qc_catalog_list_free(v, n);
	*ret = out;
	*ret_n = n;
	return 0;
}

struct progress_bridge {
	qc_ctx *ctx;
	const char *what;
};

static void bridge_progress(uint64_t done, uint64_t total, double rate, void *opaque)
{
	struct progress_bridge *b = opaque;

	(void) rate;
	if (b->ctx->progress)
		b->ctx->progress(b->what, done, total, b->ctx->progress_opaque);
}

/* $QEMUCTL_HTTP_RETRIES: the number of retries (tests set 0 to see a cut). */
static int env_retries(void)
{
	const char *s = getenv("QEMUCTL_HTTP_RETRIES");
	uint64_t v;

	if (!s || qc_parse_uint("QEMUCTL_HTTP_RETRIES", s, 0, 100, &v, NULL) < 0)
		return 0; /* the default */
	return v == 0 ? -1 : (int) v;
}

QC_PUBLIC int qc_image_import(qc_ctx *ctx, const struct qc_image_import_opts *o,
	struct qc_image_info **ret, struct qc_error *err)
{
	cleanup_catalog_entry struct qc_catalog_entry *img = NULL;
	cleanup_free char *what = NULL;
	struct progress_bridge b = {.ctx = ctx};
	struct qc_import_opts io = {0};
	int r;

	if (!o->name || !o->source)
		return qc_error_set(
			err, QC_ERR_INVALID, "image import: NAME and FILE|URL are needed");
	what = qc_xasprintf("import %s", o->name);
	b.what = what;
	io.sha256 = o->sha256;
	io.arch = o->arch;
	io.max_size = o->max_size;
	/* The user named the URL; http:// is their explicit choice. */
	io.allow_http = qc_str_has_prefix(o->source, "http://");
	io.progress = bridge_progress;
	io.opaque = &b;
	if ((r = qc_catalog_import(ctx->root, o->name, o->source, &io, &img, err)) < 0)
		return r;
	if (!ret)
		return 0;
	return to_info(ctx, img, NULL, ret, err);
}

static int sync_users(const char *name, char **ret, void *opaque, struct qc_error *err)
{
	qc_ctx *ctx = opaque;
	char **users = NULL;
	int r;

	if ((r = qc_driver_image_users(ctx, name, &users, err)) < 0)
		return r;
	*ret = users[0] ? qc_strv_join(users, ", ") : NULL;
	qc_strv_free(users);
	return 0;
}

QC_PUBLIC int qc_image_sync(qc_ctx *ctx, const struct qc_image_sync_opts *o,
	struct qc_image_info **ret, bool *ret_fresh, struct qc_error *err)
{
	cleanup_catalog_entry struct qc_catalog_entry *img = NULL;
	cleanup_free char *what = NULL;
	struct progress_bridge b = {.ctx = ctx};
	struct qc_sync_opts so = {0};
	int r;

	if (!o->ref)
		return qc_error_set(
			err, QC_ERR_INVALID, "image sync: REF is needed (e.g. ubuntu:24.04)");
	if (o->name && (r = qc_validate_name("image", o->name, err)) < 0)
		return r;
	what = qc_xasprintf("download %s", o->name ? o->name : o->ref);
	b.what = what;
	so.ref = o->ref;
	so.arch = o->arch;
	so.stream = o->stream;
	so.name = o->name;
	so.max_size = o->max_size;
	so.lock_timeout_ms = SYNC_LOCK_TIMEOUT_MS;
	so.progress = bridge_progress;
	so.opaque = &b;
	so.http.retries = env_retries();
	so.users = sync_users;
	so.users_opaque = ctx;
	if ((r = qc_sync_image(ctx->root, &so, &img, ret_fresh, err)) < 0)
		return r;
	if (!ret)
		return 0;
	return to_info(ctx, img, NULL, ret, err);
}

QC_PUBLIC int qc_image_remove(qc_ctx *ctx, const char *name, struct qc_error *err)
{
	/* The users are looked up under the image's lock (see qc_driver_image_overlay). */
	return qc_catalog_remove_checked(ctx->root, name, sync_users, ctx, err);
}
