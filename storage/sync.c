/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * image sync REF: resolve REF in a simplestreams tree, download the
 * newest disk1.img for the arch into images/<name>.part (resumable), check
 * size and SHA-256 against the index, and commit it to the catalog.
 *
 * The per-name lock makes two concurrent syncs of one image do one
 * download: the second waits, then finds the entry there and is a no-op.
 * ".<name>.part.sha256" remembers which file the part belongs to, so a
 * part left from an older version is not resumed into a newer one.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/storage.h"

#define INDEX_MAX (16u << 20)
#define PRODUCTS_MAX (256u << 20)

static char *join_url(const char *base, const char *rel)
{
	size_t n = strlen(base);

	if (n && base[n - 1] == '/')
		return qc_xasprintf("%s%s", base, rel);
	return qc_xasprintf("%s/%s", base, rel);
}

/* The part file is for this sha256?  If not, start it over. */
static int prepare_part(int dfd, const char *name, const char *sha, struct qc_error *err)
{
	cleanup_free char *part = qc_xasprintf("%s.part", name);
	cleanup_free char *tag = qc_xasprintf(".%s.part.sha256", name);
	cleanup_free char *old = NULL;
	cleanup_free char *line = qc_xasprintf("%s\n", sha);

	if (qc_read_file(dfd, tag, 4096, &old, NULL, NULL) == 0 && strcmp(old, line) == 0)
		return 0;
	(void) unlinkat(dfd, part, 0);
	return qc_write_atomic(dfd, tag, line, strlen(line), 0600, err);
}

static void drop_part(int dfd, const char *name)
{
	cleanup_free char *part = qc_xasprintf("%s.part", name);
	cleanup_free char *tag = qc_xasprintf(".%s.part.sha256", name);

	(void) unlinkat(dfd, part, 0);
	(void) unlinkat(dfd, tag, 0);
}

/*
 * May an older version of name be replaced?  Only when the caller can tell
 * who uses images (o->users) and nobody does.
 */
static int check_unused(const struct qc_sync_opts *o, const char *name,
	const struct qc_catalog_entry *have, const struct qc_ss_item *item, struct qc_error *err)
{
	cleanup_free char *users = NULL;
	const char *hv = have->version ? have->version : "(unknown)";
	int r;

	if (!o->users)
		return qc_error_set(err, QC_ERR_EXISTS,
			"image '%s' holds version %s, the stream now has %s; sync it under "
			"another --name, or remove it first with 'qemuctl image rm %s'",
			name, hv, item->version, name);
	if ((r = o->users(name, &users, o->users_opaque, err)) < 0)
		return r;
	if (users)
		return qc_error_set(err, QC_ERR_BUSY,
			"image '%s' holds version %s, the stream now has %s, but VMs use it (%s); "
			"sync the new one under another --name, or delete those VMs first",
			name, hv, item->version, users);
	return 0;
}

int qc_sync_image(const char *root, const struct qc_sync_opts *o, struct qc_catalog_entry **ret,
	bool *ret_fresh, struct qc_error *err)
{
	struct qc_ss_ref ref = {0};
	struct qc_ss_item item = {0};
	struct qc_http_opts ho = o->http;
	cleanup_free char *aroot = NULL, *index_url = NULL, *index = NULL;
	cleanup_free char *ppath = NULL, *purl = NULL, *products = NULL;
	cleanup_free char *name = NULL, *url = NULL, *part = NULL, *part_path = NULL;
	cleanup_free char *conv = NULL, *conv_path = NULL;
	cleanup_close int dfd = -1;
	cleanup_close int lock = -1;
	cleanup_catalog_entry struct qc_catalog_entry *have = NULL;
	cleanup_catalog_entry struct qc_catalog_entry *meta = NULL;
	cleanup_img_info struct qc_img_info *info = NULL;
	const char *stream = o->stream ? o->stream : QC_SS_DEFAULT_STREAM;
	const char *arch, *final;
	bool replacing = false, part_moved = false;
	char hex[QC_SHA256_HEX_LEN + 1];
	size_t ilen = 0, plen = 0;
	int r;

	arch = o->arch ? qc_storage_arch_canonical(o->arch) : qc_storage_arch_host();
	if (!arch)
		return qc_error_set(err, QC_ERR_INVALID,
			"unknown arch '%s'; use x86_64 (amd64), aarch64 (arm64) or ppc64le "
			"(ppc64el)",
			o->arch);
	if ((r = qc_ss_ref_parse(o->ref, &ref, err)) < 0)
		return r;
	/* Plain http only when the stream URL itself says so. */
	ho.allow_http = qc_str_has_prefix(stream, "http://");
	ho.progress = NULL;
	if ((r = qc_http_check_url(stream, ho.allow_http, err)) < 0)
		goto out;

	index_url = join_url(stream, "streams/v1/index.json");
	if ((r = qc_http_get(index_url, &ho, INDEX_MAX, &index, &ilen, err)) < 0)
		goto out;
	if ((r = qc_ss_index_products_path(index, ilen, ref.distro, &ppath, err)) < 0) {
		qc_error_prefix(err, "%s", index_url);
		goto out;
	}
	purl = join_url(stream, ppath);
	if ((r = qc_http_get(purl, &ho, PRODUCTS_MAX, &products, &plen, err)) < 0)
		goto out;
	if ((r = qc_ss_select(products, plen, ref.release, arch, &item, err)) < 0) {
		qc_error_prefix(err, "%s:%s from %s", ref.distro, ref.release, stream);
		goto out;
	}
	qc_fault_step("sync:index-fetched");
	name = o->name ? qc_xstrdup(o->name)
		       : qc_xasprintf("%s-%s", item.release, qc_storage_arch_debian(arch));
	if ((r = qc_validate_name("image", name, err)) < 0)
		goto out;
	qc_debug("sync %s: %s version %s -> image '%s'", o->ref, item.product, item.version, name);

	if ((r = qc_abspath(root, &aroot, err)) < 0)
		goto out;
	if ((r = qc_catalog_open(aroot, &dfd, err)) < 0)
		goto out;
	if (qc_catalog_lock(dfd, name, 0, &lock, NULL) < 0) {
		qc_info("image '%s': waiting for another import or sync of it to finish", name);
		if ((r = qc_catalog_lock(dfd, name, o->lock_timeout_ms, &lock, err)) < 0)
			goto out;
	}
	/* What a sync or import of this name that was killed left (we hold the lock). */
	qc_catalog_clean_temps(dfd, name);
	if (qc_catalog_get(aroot, name, &have, NULL) == 0) {
		if (have->sha256 && strcmp(have->sha256, item.sha256) == 0) {
			drop_part(dfd, name); /* of a sync killed after its commit */
			if (ret_fresh)
				*ret_fresh = false;
			if (ret)
				*ret = TAKE_PTR(have);
			r = 0;
			goto out;
		}
		/* Never replace a backing file under the VMs that use it. */
		if ((r = check_unused(o, name, have, &item, err)) < 0)
			goto out;
		replacing = true;
		qc_info("image '%s': replacing version %s with %s", name,
			have->version ? have->version : "(unknown)", item.version);
	}
	qc_fault_step("sync:checked");

	part = qc_xasprintf("%s.part", name);
	part_path = qc_xasprintf("%s/images/%s", aroot, part);
	conv = qc_xasprintf(".%s.tmp-%d.qcow2", name, (int) getpid());
	conv_path = qc_xasprintf("%s/images/%s", aroot, conv);
	if ((r = prepare_part(dfd, name, item.sha256, err)) < 0 ||
		(r = qc_refuse_symlink(dfd, part, part_path, err)) < 0) {
		qc_error_prefix(err, "image '%s'", name);
		goto out;
	}
	qc_fault_step("sync:part-prepared");
	url = join_url(stream, item.path);
	ho.progress = o->progress;
	ho.opaque = o->opaque;
	ho.max_size = o->max_size;
	if ((r = qc_http_download(url, &ho, dfd, part, item.size, hex, err)) < 0) {
		/* Kept for a resume, unless it is what filled the disk or is too big. */
		if (r == -QC_ERR_CHECKSUM || r == -ENOSPC || r == -EDQUOT || r == -EFBIG)
			drop_part(dfd, name);
		qc_error_prefix(err, "image '%s'", name);
		goto out;
	}
	if (strcmp(hex, item.sha256) != 0) {
		drop_part(dfd, name);
		r = qc_error_set(err, QC_ERR_CHECKSUM,
			"image '%s': SHA-256 mismatch for %s: got %s, the index says %s; the "
			"download was discarded",
			name, url, hex, item.sha256);
		goto out;
	}
	qc_fault_step("sync:verified");

	/* Verified against the index: now qemu-img may look at it. */
	if ((r = qc_img_info(part_path, NULL, false, &info, err)) < 0) {
		qc_error_prefix(err, "image '%s'", name);
		goto out;
	}
	if (info->chain[0].backing || info->chain[0].external) {
		r = qc_error_set(err, QC_ERR_INVALID,
			"image '%s': %s refers to another file ('%s'); refusing it", name, url,
			info->chain[0].backing ? info->chain[0].backing : info->chain[0].external);
		goto out;
	}
	if (info->chain[0].corrupt) {
		r = qc_error_set(
			err, QC_ERR_INVALID, "image '%s': %s is marked corrupt", name, url);
		goto out;
	}
	if (strcmp(info->chain[0].format, "qcow2") == 0) {
		/*
		 * No `qemu-img check` here (import does one): size and SHA-256
		 * match the index, so these are the publisher's exact bytes; a
		 * damaged download cannot get this far, and the check would add
		 * a full metadata scan of a multi-GiB image to every sync.
		 */
		/* The part itself becomes the image: rename it to a temp name first. */
		if (renameat(dfd, part, dfd, conv) < 0) {
			r = qc_error_errno(err, errno, "image '%s': rename", name);
			goto out;
		}
		part_moved = true;
		qc_fault_step("sync:part-renamed");
		final = conv;
	} else if (qc_img_format_importable(info->chain[0].format)) {
		if ((r = qc_img_convert(
			     part_path, info->chain[0].format, conv_path, "qcow2", err)) < 0) {
			qc_error_prefix(err, "image '%s'", name);
			goto out;
		}
		qc_fault_step("sync:converted");
		final = conv;
	} else {
		r = qc_error_set(err, QC_ERR_INVALID,
			"image '%s': %s is in format '%s', not a disk image", name, url,
			info->chain[0].format);
		goto out;
	}

	meta = qc_xzalloc(sizeof(*meta));
	meta->name = qc_xstrdup(name);
	meta->arch = qc_xstrdup(arch);
	meta->source = qc_xstrdup(url);
	meta->sha256 = qc_xstrdup(hex);
	if (strcmp(info->chain[0].format, "qcow2") == 0) {
		meta->qcow2_sha256 = qc_xstrdup(hex);
		meta->virtual_size = info->chain[0].virtual_size;
	}
	meta->distro = qc_xstrdup(ref.distro);
	meta->release = qc_xstrdup(item.release);
	if (item.release_version)
		meta->release_version = qc_xstrdup(item.release_version);
	meta->version = qc_xstrdup(item.version);
	/* A VM may have been created on the old version meanwhile. */
	if (replacing && (r = check_unused(o, name, have, &item, err)) < 0)
		goto out;
	if ((r = qc_catalog_commit(dfd, aroot, final, meta, err)) < 0) {
		(void) unlinkat(dfd, conv, 0);
		goto out;
	}
	qc_fault_step("sync:committed");
	drop_part(dfd, name);
	if (ret_fresh)
		*ret_fresh = true;
	if (ret)
		*ret = TAKE_PTR(meta);
	r = 0;
out:
	if (r < 0 && dfd >= 0 && conv)
		(void) unlinkat(dfd, conv, 0);
	/* The part became conv, now gone: its tag goes too (ENOSPC in the commit). */
	if (r < 0 && dfd >= 0 && part_moved)
		drop_part(dfd, name);
	qc_ss_ref_clear(&ref);
	qc_ss_item_clear(&item);
	return r;
}
