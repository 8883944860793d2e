/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * image sync REF: resolve REF in a simplestreams tree (newest disk1.img,
 * size and SHA-256 from the index) or, for debian:RELEASE, in Debian's
 * cloud image tree (latest/ qcow2, SHA-512 from SHA512SUMS), download it
 * for the arch into images/<name>.part (resumable), check it, and commit
 * it to the catalog.
 *
 * The per-name lock makes two concurrent syncs of one image do one
 * download: the second waits, then finds the entry there and is a no-op.
 * ".<name>.part.sha256" remembers which file the part belongs to (its
 * SHA-256, or SHA-512 for Debian), so a part left from an older version is
 * not resumed into a newer one.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/storage.h"

#define INDEX_MAX (16u << 20)
#define PRODUCTS_MAX (256u << 20)
#define SUMS_MAX (1u << 20)

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

/* A part with no byte in it: nothing to resume. */
static bool part_empty(int dfd, const char *part)
{
	struct stat st;

	return fstatat(dfd, part, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	       st.st_size == 0;
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

/* REF's image in a simplestreams tree: index.json, then the products file. */
static int resolve_simplestreams(const struct qc_ss_ref *ref, const char *stream, const char *arch,
	const struct qc_http_opts *ho, struct qc_ss_item *item, struct qc_error *err)
{
	cleanup_free char *index_url = join_url(stream, "streams/v1/index.json");
	cleanup_free char *index = NULL, *ppath = NULL, *purl = NULL, *products = NULL;
	size_t ilen = 0, plen = 0;
	int r;

	if ((r = qc_http_get(index_url, ho, INDEX_MAX, &index, &ilen, err)) < 0)
		return r;
	if ((r = qc_ss_index_products_path(index, ilen, ref->distro, &ppath, err)) < 0)
		return qc_error_prefix(err, "%s", index_url);
	purl = join_url(stream, ppath);
	if ((r = qc_http_get(purl, ho, PRODUCTS_MAX, &products, &plen, err)) < 0)
		return r;
	if ((r = qc_ss_select(products, plen, ref->release, arch, item, err)) < 0)
		return qc_error_prefix(err, "%s:%s from %s", ref->distro, ref->release, stream);
	return 0;
}

/* REF's image in Debian's cloud image tree: <codename>/latest/SHA512SUMS. */
static int resolve_debian(const struct qc_ss_ref *ref, const char *base, const char *arch,
	const struct qc_http_opts *ho, struct qc_ss_item *item, struct qc_error *err)
{
	struct qc_debian_ref dr;
	cleanup_free char *spath = NULL, *surl = NULL, *sums = NULL;
	size_t slen = 0;
	int r;

	if ((r = qc_debian_ref_parse(ref->release, &dr, err)) < 0)
		return r;
	spath = qc_debian_sums_path(&dr);
	surl = join_url(base, spath);
	if ((r = qc_http_get(surl, ho, SUMS_MAX, &sums, &slen, err)) < 0)
		return r;
	return qc_debian_select(sums, slen, &dr, arch, surl, item, err);
}

int qc_sync_image(const char *root, const struct qc_sync_opts *o, struct qc_catalog_entry **ret,
	bool *ret_fresh, struct qc_error *err)
{
	struct qc_ss_ref ref = {0};
	struct qc_ss_item item = {0};
	struct qc_http_opts ho = o->http;
	cleanup_free char *aroot = NULL;
	cleanup_free char *name = NULL, *url = NULL, *part = NULL, *part_path = NULL;
	cleanup_free char *conv = NULL, *conv_path = NULL;
	cleanup_close int dfd = -1;
	cleanup_close int lock = -1;
	cleanup_catalog_entry struct qc_catalog_entry *have = NULL;
	cleanup_catalog_entry struct qc_catalog_entry *meta = NULL;
	cleanup_img_info struct qc_img_info *info = NULL;
	const char *stream, *arch, *final, *want_sum;
	bool replacing = false, part_moved = false, debian;
	char hex[QC_SHA256_HEX_LEN + 1], hex512[QC_SHA512_HEX_LEN + 1];
	int r;

	arch = o->arch ? qc_storage_arch_canonical(o->arch) : qc_storage_arch_host();
	if (!arch)
		return qc_error_set(err, QC_ERR_INVALID,
			"unknown arch '%s'; use x86_64 (amd64), aarch64 (arm64) or ppc64le "
			"(ppc64el)",
			o->arch);
	if ((r = qc_ss_ref_parse(o->ref, &ref, err)) < 0)
		return r;
	debian = strcmp(ref.distro, "debian") == 0;
	stream = o->stream ? o->stream : debian ? QC_DEBIAN_DEFAULT_BASE : QC_SS_DEFAULT_STREAM;
	/* Plain http only when the stream URL itself says so. */
	ho.allow_http = qc_str_has_prefix(stream, "http://");
	ho.progress = NULL;
	ho.ret_sha512 = NULL;
	if ((r = qc_http_check_url(stream, ho.allow_http, err)) < 0)
		goto out;
	if (debian)
		r = resolve_debian(&ref, stream, arch, &ho, &item, err);
	else
		r = resolve_simplestreams(&ref, stream, arch, &ho, &item, err);
	if (r < 0)
		goto out;
	want_sum = item.sha512 ? item.sha512 : item.sha256;
	qc_fault_step("sync:index-fetched");
	name = o->name	   ? qc_xstrdup(o->name)
	       : item.name ? qc_xstrdup(item.name)
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
		const char *have_sum = item.sha512 ? have->sha512 : have->sha256;

		if (have_sum && strcmp(have_sum, want_sum) == 0) {
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
	conv = qc_temp_name(name, "qcow2");
	conv_path = qc_xasprintf("%s/images/%s", aroot, conv);
	if ((r = prepare_part(dfd, name, want_sum, err)) < 0 ||
		(r = qc_refuse_symlink(dfd, part, part_path, err)) < 0) {
		qc_error_prefix(err, "image '%s'", name);
		goto out;
	}
	qc_fault_step("sync:part-prepared");
	url = join_url(stream, item.path);
	ho.progress = o->progress;
	ho.opaque = o->opaque;
	ho.max_size = o->max_size;
	ho.ret_sha512 = item.sha512 ? hex512 : NULL;
	if ((r = qc_http_download(url, &ho, dfd, part, item.size, hex, err)) < 0) {
		/* Kept for a resume, unless empty, what filled the disk or too big. */
		if (r == -QC_ERR_CHECKSUM || r == -ENOSPC || r == -EDQUOT || r == -EFBIG ||
			part_empty(dfd, part))
			drop_part(dfd, name);
		qc_error_prefix(err, "image '%s'", name);
		goto out;
	}
	if (strcmp(item.sha512 ? hex512 : hex, want_sum) != 0) {
		drop_part(dfd, name);
		r = qc_error_set(err, QC_ERR_CHECKSUM,
			"image '%s': %s mismatch for %s: got %s, the %s says %s; the download "
			"was discarded",
			name, item.sha512 ? "SHA-512" : "SHA-256", url, item.sha512 ? hex512 : hex,
			item.sha512 ? "SHA512SUMS" : "index", want_sum);
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
	if (item.sha512)
		meta->sha512 = qc_xstrdup(hex512);
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
