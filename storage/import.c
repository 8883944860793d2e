/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * image import NAME FILE|URL: everything happens in temp files under
 * images/ (".<name>.tmp-<pid>.*") that are removed on failure, and the
 * result enters the catalog through qc_catalog_commit's rename.
 *
 * The SHA-256 is of the file as given (compressed, as published) and is
 * checked before anything decompresses or parses it; the bytes then
 * decompressed are hashed again and must give the same sum, so a file
 * changed in between is refused too.  Download and decompressed output
 * are bounded by --max-size and the free space of images/.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/storage.h"

struct progress_wrap {
	const struct qc_import_opts *o;
	uint64_t total;
	int64_t t0;
};

static void copy_progress(uint64_t done, uint64_t total, void *opaque)
{
	struct progress_wrap *w = opaque;
	int64_t dt = qc_now_ms() - w->t0;

	(void) total;
	if (w->o && w->o->progress)
		w->o->progress(done, w->total, dt > 0 ? (double) done * 1000.0 / (double) dt : 0,
			w->o->opaque);
}

static bool is_url(const char *s)
{
	return strstr(s, "://") != NULL;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'F')
			*s = (char) (*s - 'A' + 'a');
}

/* Refuse what must not become a backing image. */
static int check_source_image(const char *name, const char *what, const struct qc_img_layer *l,
	uint64_t file_size, struct qc_error *err)
{
	if (!qc_img_format_importable(l->format))
		return qc_error_set(err, QC_ERR_INVALID,
			"image '%s': %s is in format '%s', which cannot be imported; "
			"use qcow2, raw, vmdk or vhdx",
			name, what, l->format);
	if (l->backing)
		return qc_error_set(err, QC_ERR_INVALID,
			"image '%s': %s has a backing file '%s'; import a standalone image "
			"(qemu-img convert -O qcow2 it first)",
			name, what, l->backing);
	/*
	 * A vmdk descriptor naming other files as extents (or a qcow2 with an
	 * external data file) would make qemu-img read those files into the
	 * image: from a URL, any file on this host.
	 */
	if (l->external)
		return qc_error_set(err, QC_ERR_INVALID,
			"image '%s': %s reads data from another file '%s'; import a "
			"self-contained image",
			name, what, l->external);
	/* Anything probes as "raw"; a disk is a whole number of sectors. */
	if (strcmp(l->format, "raw") == 0 && (file_size == 0 || file_size % 512 != 0))
		return qc_error_set(err, QC_ERR_INVALID,
			"image '%s': %s is not a disk image (%llu bytes of raw data, not a whole "
			"number of 512-byte sectors)",
			name, what, (unsigned long long) file_size);
	if (l->corrupt)
		return qc_error_set(
			err, QC_ERR_INVALID, "image '%s': %s is marked corrupt", name, what);
	return 0;
}

int qc_catalog_import(const char *root, const char *name, const char *src,
	const struct qc_import_opts *o, struct qc_catalog_entry **ret, struct qc_error *err)
{
	cleanup_free char *aroot = NULL;
	cleanup_close int dfd = -1;
	cleanup_close int lock = -1;
	cleanup_close int in = -1;
	cleanup_close int out = -1;
	cleanup_sha256 struct qc_sha256 *sha = NULL;
	cleanup_sha256 struct qc_sha256 *sha2 = NULL;
	cleanup_catalog_entry struct qc_catalog_entry *meta = NULL;
	cleanup_img_info struct qc_img_info *info = NULL;
	cleanup_free char *dl = NULL, *data = NULL, *conv = NULL;
	cleanup_free char *data_path = NULL, *conv_path = NULL, *exist = NULL;
	const char *arch;
	char hex[QC_SHA256_HEX_LEN + 1], hex2[QC_SHA256_HEX_LEN + 1];
	cleanup_free char *want = NULL;
	struct qc_bound bound;
	unsigned char head[8];
	enum qc_compression comp;
	struct stat st;
	struct progress_wrap pw = {.o = o, .t0 = qc_now_ms()};
	const char *final;
	ssize_t hn;
	int r;

	if ((r = qc_validate_name("image", name, err)) < 0)
		return r;
	arch = o && o->arch ? qc_storage_arch_canonical(o->arch) : qc_storage_arch_host();
	if (!arch)
		return qc_error_set(err, QC_ERR_INVALID,
			"image '%s': unknown arch '%s'; use x86_64, aarch64 or ppc64le", name,
			o->arch);
	if (o && o->sha256 && !qc_sha256_valid(o->sha256))
		return qc_error_set(err, QC_ERR_INVALID,
			"image '%s': --sha256 '%s' is not 64 hex digits", name, o->sha256);
	if (o && o->sha256) {
		want = qc_xstrdup(o->sha256);
		lower(want);
	}
	if (is_url(src) && (r = qc_http_check_url(src, o && o->allow_http, err)) < 0)
		return qc_error_prefix(err, "image '%s'", name);
	if ((r = qc_abspath(root, &aroot, err)) < 0)
		return r;
	if ((r = qc_catalog_open(aroot, &dfd, err)) < 0)
		return r;
	if ((r = qc_catalog_lock(dfd, name, 0, &lock, err)) < 0)
		return r;
	exist = qc_xasprintf("%s.json", name);
	if (faccessat(dfd, exist, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return qc_error_set(err, QC_ERR_EXISTS,
			"image '%s' already exists; remove it with 'qemuctl image rm %s' or pick "
			"another name",
			name, name);
	qc_catalog_clean_temps(dfd, name);
	qc_fault_step("import:locked");
	if ((r = qc_sha256_load(err)) < 0)
		return qc_error_prefix(err, "image '%s'", name);

	dl = qc_temp_name(name, "download");
	data = qc_temp_name(name, "data");
	conv = qc_temp_name(name, "qcow2");
	data_path = qc_xasprintf("%s/images/%s", aroot, data);
	conv_path = qc_xasprintf("%s/images/%s", aroot, conv);
	sha = qc_sha256_new();
	sha2 = qc_sha256_new();

	/* 1. The source as an fd: a local regular file or a finished download. */
	if (is_url(src)) {
		struct qc_http_opts ho = {0};

		ho.allow_http = o && o->allow_http;
		ho.max_size = o ? o->max_size : 0;
		ho.progress = o ? o->progress : NULL;
		ho.opaque = o ? o->opaque : NULL;
		if ((r = qc_http_download(src, &ho, dfd, dl, 0, NULL, err)) < 0) {
			qc_error_prefix(err, "image '%s'", name);
			goto fail;
		}
		in = openat(dfd, dl, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	} else {
		in = open(src, O_RDONLY | O_CLOEXEC);
	}
	if (in < 0) {
		r = qc_error_errno(err, errno, "image '%s': open '%s'", name, src);
		goto fail;
	}
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = qc_error_set(
			err, QC_ERR_INVALID, "image '%s': '%s' is not a regular file", name, src);
		goto fail;
	}
	pw.total = (uint64_t) st.st_size;

	/* 2. The file as given is what --sha256 names: check it before reading it as anything. */
	if ((r = qc_sha256_fd(sha, in, UINT64_MAX, err)) < 0) {
		qc_error_prefix(err, "image '%s': hash '%s'", name, src);
		goto fail;
	}
	qc_sha256_final(sha, hex);
	if (want && strcmp(want, hex) != 0) {
		r = qc_error_set(err, QC_ERR_CHECKSUM,
			"image '%s': SHA-256 mismatch for '%s': got %s, expected %s; nothing was "
			"decompressed or imported",
			name, src, hex, want);
		goto fail;
	}
	qc_fault_step("import:hashed");
	hn = pread(in, head, sizeof(head), 0);
	comp = qc_compression_detect(head, hn > 0 ? (size_t) hn : 0);

	/* 3. Decompress (or copy) into images/, within the bound, hashing the input again. */
	if ((r = qc_bound_init(&bound, dfd, o ? o->max_size : 0, err)) < 0) {
		qc_error_prefix(err, "image '%s'", name);
		goto fail;
	}
	if (lseek(in, 0, SEEK_SET) < 0) {
		r = qc_error_errno(err, errno, "image '%s': seek '%s'", name, src);
		goto fail;
	}
	out = openat(dfd, data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0) {
		r = qc_error_errno(err, errno, "image '%s': create temp file", name);
		goto fail;
	}
	if ((r = qc_decompress_fd(comp, in, out, sha2, src, &bound, copy_progress, &pw, err)) <
		0) {
		qc_error_prefix(err, "image '%s'", name);
		goto fail;
	}
	qc_sha256_final(sha2, hex2);
	if (strcmp(hex, hex2) != 0) {
		r = qc_error_set(err, QC_ERR_CHECKSUM,
			"image '%s': '%s' changed while it was imported (SHA-256 %s, then %s); "
			"nothing was imported",
			name, src, hex, hex2);
		goto fail;
	}
	if (fsync(out) < 0) {
		r = qc_error_errno(err, errno, "image '%s': fsync", name);
		goto fail;
	}
	qc_fault_step("import:copied");
	if (fstat(out, &st) < 0) {
		r = qc_error_errno(err, errno, "image '%s': stat", name);
		goto fail;
	}

	/* 4. What is it?  Convert when it is not qcow2. */
	if ((r = qc_img_info(data_path, NULL, false, &info, err)) < 0) {
		qc_error_prefix(err, "image '%s': '%s' is not a usable disk image", name, src);
		goto fail;
	}
	if ((r = check_source_image(name, src, &info->chain[0], (uint64_t) st.st_size, err)) < 0)
		goto fail;
	if (strcmp(info->chain[0].format, "qcow2") == 0) {
		final = data;
	} else {
		if ((r = qc_img_convert(
			     data_path, info->chain[0].format, conv_path, "qcow2", err)) < 0) {
			qc_error_prefix(err, "image '%s': convert %s to qcow2", name,
				info->chain[0].format);
			goto fail;
		}
		qc_fault_step("import:converted");
		(void) unlinkat(dfd, data, 0);
		final = conv;
	}
	{
		cleanup_free char *final_path = qc_xasprintf("%s/images/%s", aroot, final);

		struct qc_error e = {0};

		if ((r = qc_img_check(final_path, "qcow2", NULL, &e)) < 0) {
			/* Name the user's file, not our temp copy. */
			const char *tail = strstr(e.msg, "is corrupt: ");

			if (tail)
				r = qc_error_set(
					err, e.code, "image '%s': '%s' %s", name, src, tail);
			else
				r = qc_error_set(err, e.code, "image '%s': %s", name, e.msg);
			goto fail;
		}
	}

	/* 5. Into the catalog. */
	meta = qc_xzalloc(sizeof(*meta));
	meta->name = qc_xstrdup(name);
	meta->arch = qc_xstrdup(arch);
	if (is_url(src)) {
		meta->source = qc_xstrdup(src);
	} else if (qc_abspath(src, &meta->source, NULL) < 0) {
		meta->source = qc_xstrdup(src);
	}
	meta->sha256 = qc_xstrdup(hex);
	if (comp == QC_COMP_NONE && final == data)
		meta->qcow2_sha256 = qc_xstrdup(hex);
	if (final == data)
		meta->virtual_size = info->chain[0].virtual_size;
	qc_fault_step("import:checked");
	if ((r = qc_catalog_commit(dfd, aroot, final, meta, err)) < 0)
		goto fail;
	qc_fault_step("import:committed");
	(void) unlinkat(dfd, dl, 0);
	if (ret)
		*ret = TAKE_PTR(meta);
	return 0;

fail:
	(void) unlinkat(dfd, dl, 0);
	(void) unlinkat(dfd, data, 0);
	(void) unlinkat(dfd, conv, 0);
	return r;
}
