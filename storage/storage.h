/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * storage/: disk images.  The qemu-img wrapper (img.c), the image catalog
 * under <root>/images/ (catalog.c), downloads over libcurl (http.c), the pure
 * simplestreams selection (simplestreams.c) and Debian SHA512SUMS selection
 * (debian.c), streaming decompression (decompress.c, decompress_dl.c),
 * SHA-256 and SHA-512 (sha256.c), image sync (sync.c) and backing-image
 * reference counting (refs.c).
 *
 * Internal to qemuctl: driver/ builds the public API on top of this.  Never
 * includes driver/ headers and never prints: errors travel in struct
 * qc_error, progress through callbacks.
 */
#ifndef QC_STORAGE_H
#define QC_STORAGE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* ================================================================ img.c */

/*
 * The qemu-img binary: $QEMUCTL_QEMU_IMG when set, else "qemu-img" from
 * PATH.  A fresh string; fails with a message naming the fix when absent.
 */
int qc_img_program(char **ret, struct qc_error *err);

/* One image of a backing chain, as `qemu-img info --output=json` says. */
struct qc_img_layer {
	char *filename; /* as qemu-img names it */
	char *format; /* "qcow2", "raw", "vmdk"... */
	uint64_t virtual_size; /* bytes the guest sees */
	uint64_t actual_size; /* bytes allocated on the host (0 when unknown) */
	uint64_t cluster_size; /* 0 when not applicable */
	char *backing; /* full-backing-filename, or NULL */
	char *backing_format; /* backing-filename-format, or NULL */
	bool dirty; /* dirty-flag */
	bool corrupt; /* qcow2 format-specific "corrupt" */
	/*
	 * Another file this image reads its data from, not counting the
	 * backing file: a qcow2 external data-file or a vmdk extent in a file
	 * of its own.  NULL for a self-contained image.
	 */
	char *external;
};

struct qc_img_info {
	/* chain[0] is the image itself, chain[1] its backing file, ... */
	struct qc_img_layer *chain;
	size_t n_chain;
};
void qc_img_info_free(struct qc_img_info *info);
void qc_img_info_freep(struct qc_img_info **info);
#define cleanup_img_info __attribute__((cleanup(qc_img_info_freep)))

/*
 * `qemu-img info --output=json [--backing-chain] -U [-f fmt] path`.
 * fmt NULL lets qemu-img probe the format (only for files the user gave
 * us; never probe an overlay's backing, name its format instead).
 */
int qc_img_info(const char *path, const char *fmt, bool backing_chain, struct qc_img_info **ret,
	struct qc_error *err);
/* Parse the JSON qemu-img printed (an object, or an array with --backing-chain). Pure. */
int qc_img_info_parse(const char *json, size_t len, struct qc_img_info **ret, struct qc_error *err);

/* A fresh, sparse image: `qemu-img create -f fmt path size` (fmt NULL = qcow2). */
int qc_img_create(const char *path, const char *fmt, uint64_t size, struct qc_error *err);
/*
 * A qcow2 overlay on backing: `qemu-img create -f qcow2 -F backing_fmt
 * -b <absolute backing> path [size]`.  size 0 keeps the backing's virtual
 * size; a size smaller than the backing's is refused.  The backing file is
 * only read, never modified.
 */
int qc_img_create_overlay(const char *path, const char *backing, const char *backing_fmt,
	uint64_t size, struct qc_error *err);
/*
 * A qcow2 layer on backing without opening backing (qemu-img create -u):
 * size is the backing's virtual size, which the caller read itself; the
 * header records backing and backing_fmt for the next qemu-img or QEMU
 * that is told the chain.
 */
int qc_img_create_layer(const char *path, const char *backing, const char *backing_fmt,
	uint64_t size, struct qc_error *err);
/* One image of an explicit chain handed to qemu-img. */
struct qc_img_ref {
	const char *path; /* absolute */
	const char *format; /* "qcow2", "raw"... */
};
/*
 * The chain as a json: file name for qemu-img: every node names its
 * backing, the last one (a qcow2) "backing": null, so qemu-img opens only
 * these files and never a backing path read from a header.
 */
char *qc_img_chain_json(const struct qc_img_ref *chain, size_t n);
/*
 * Safe rebase of chain[0] (its current backing chain chain[1..n-1], as
 * the caller's records say) onto base[0..n_base-1] (n_base 0: no backing):
 * what differs is copied into chain[0]; then its header names base[0]'s
 * path and format.  Both chains are given explicitly.
 */
int qc_img_rebase(const struct qc_img_ref *chain, size_t n, const struct qc_img_ref *base,
	size_t n_base, struct qc_error *err);
/* Grow to size bytes (`qemu-img resize -f fmt path size`); shrinking is refused. */
int qc_img_resize(const char *path, const char *fmt, uint64_t size, struct qc_error *err);
/*
 * `qemu-img convert -f src_fmt -O dst_fmt src dst` (src_fmt NULL = probe,
 * dst_fmt NULL = qcow2).  dst is created or replaced.
 */
int qc_img_convert(const char *src, const char *src_fmt, const char *dst, const char *dst_fmt,
	struct qc_error *err);

struct qc_img_check {
	uint64_t check_errors; /* corruptions */
	uint64_t leaks;
	uint64_t image_end_offset;
};
/*
 * `qemu-img check --output=json -f fmt path`.  Fails with QC_ERR_INVALID
 * when qemu-img finds corruption or cannot read the image; leaked clusters
 * are reported in ret but are not an error.  ret may be NULL.
 */
int qc_img_check(const char *path, const char *fmt, struct qc_img_check *ret, struct qc_error *err);

/* Formats `image import` accepts and converts to qcow2. */
bool qc_img_format_importable(const char *fmt);

/* What a qcow2 header says, read from an open file (no qemu-img, no path followed). */
struct qc_qcow2_header {
	uint32_t version;  /* 2 or 3 */
	uint64_t size;     /* virtual size in bytes */
	bool has_backing;  /* the header names a backing file */
	bool data_file;    /* incompatible feature "external data file" (v3) */
};
/* QC_ERR_INVALID naming shown when fd does not hold a qcow2 image. */
int qc_img_qcow2_header(int fd, const char *shown, struct qc_qcow2_header *ret, struct qc_error *err);

/* ============================================================= sha256.c */

#define QC_SHA256_HEX_LEN 64
struct qc_sha256; /* EVP_MD_CTX behind it */
/*
 * libcrypto is dlopen()ed on first use: 0, or an error naming the package.
 * qc_sha256_new() aborts when it cannot load it, so callers with an error
 * path call this first.
 */
int qc_sha256_load(struct qc_error *err);
struct qc_sha256 *qc_sha256_new(void);
void qc_sha256_update(struct qc_sha256 *s, const void *p, size_t n);
/* Writes 64 lowercase hex digits + NUL into hex (>= 65 bytes). */
void qc_sha256_final(struct qc_sha256 *s, char hex[QC_SHA256_HEX_LEN + 1]);
void qc_sha256_free(struct qc_sha256 *s);
void qc_sha256_freep(struct qc_sha256 **s);
#define cleanup_sha256 __attribute__((cleanup(qc_sha256_freep)))
/* Hash the first len bytes of fd from offset 0 (len UINT64_MAX = to EOF) into s. */
int qc_sha256_fd(struct qc_sha256 *s, int fd, uint64_t len, struct qc_error *err);
/* True when s is 64 hex digits (either case). */
bool qc_sha256_valid(const char *s);

/*
 * SHA-512 (what Debian's SHA512SUMS list) over the same context type:
 * fed with qc_sha256_update, freed with qc_sha256_free.
 */
#define QC_SHA512_HEX_LEN 128
struct qc_sha256 *qc_sha512_new(void);
void qc_sha512_final(struct qc_sha256 *s, char hex[QC_SHA512_HEX_LEN + 1]);
/* 128 hex digits, either case. */
bool qc_sha512_valid(const char *s);

/* ============================================================= bounds.c */

/*
 * What a download or decompression may write into images/.  The default
 * --max-size is 64 GiB: larger than any cloud image published today (they
 * are 0.3-3 GiB compressed, 2-10 GiB raw), small enough that a bomb stops
 * long before it harms a typical host, and it never exceeds the free space
 * check below, which holds whatever the limit.
 */
#define QC_IMAGE_MAX_SIZE_DEFAULT (64ull << 30)
/*
 * Free space left untouched on the file system of images/, for the
 * conversion to qcow2, the catalog entry and everyone else: 256 MiB, or a
 * 32nd of a smaller file system.
 */
#define QC_SPACE_MARGIN (256ull << 20)
/* The memory liblzma may use to decode: xz -9 needs 65 MiB. */
#define QC_XZ_MEMLIMIT (256ull << 20)

struct qc_bound {
	uint64_t max; /* bytes that may be written: the smaller of the two below */
	uint64_t max_size; /* --max-size, or the default */
	uint64_t room; /* free space (f_bavail) minus the margin */
	uint64_t margin; /* QC_SPACE_MARGIN, or less on a small file system */
};
/* From the file system of fd and max_size (0: QC_IMAGE_MAX_SIZE_DEFAULT). */
int qc_bound_init(struct qc_bound *b, int fd, uint64_t max_size, struct qc_error *err);
/*
 * "<what> <verb> more than ..." naming the limit that was hit: EFBIG for
 * --max-size, ENOSPC for free space.
 */
int qc_bound_error(const struct qc_bound *b, const char *what, const char *verb,
	struct qc_error *err);

/* ========================================================= decompress.c */

enum qc_compression { QC_COMP_NONE, QC_COMP_GZIP, QC_COMP_XZ, QC_COMP_COUNT /* how many */ };
/* From the first bytes (magic numbers). */
enum qc_compression qc_compression_detect(const void *head, size_t n);
const char *qc_compression_name(enum qc_compression c);
/*
 * Stream-decompress src_fd into dst_fd (plain copy for QC_COMP_NONE),
 * feeding the compressed bytes to sha (may be NULL).  what names the source
 * in messages.  Output past bound->max (bound may be NULL: none) stops with
 * qc_bound_error's message; xz decoding uses at most QC_XZ_MEMLIMIT of
 * memory.  progress (may be NULL) gets compressed bytes read.  What was
 * written to dst_fd before a failure is the caller's to remove.  liblzma
 * and zlib are loaded by the first .xz or .gz (decompress_dl.c); when one
 * cannot be, QC_ERR_UNSUPPORTED names its package and nothing is read.
 */
int qc_decompress_fd(enum qc_compression c, int src_fd, int dst_fd, struct qc_sha256 *sha,
	const char *what, const struct qc_bound *bound, qc_progress_fn progress, void *opaque,
	struct qc_error *err);

/* ====================================================== decompress_dl.c */

/*
 * Load liblzma, zlib (once each): 0, or QC_ERR_UNSUPPORTED with why it
 * cannot be loaded and the package to install.
 */
int qc_lzma_load(struct qc_error *err);
int qc_zlib_load(struct qc_error *err);

/* =============================================================== http.c */

/* Bytes done, total (0 = unknown) and the current rate in bytes/s. */
typedef void (*qc_http_progress_fn)(uint64_t done, uint64_t total, double rate, void *opaque);

struct qc_http_opts {
	bool allow_http; /* plain http:// accepted (https and file always) */
	int connect_timeout_s; /* 0: 30 */
	int low_speed_time_s; /* abort when below low_speed_limit for this long; 0: 60 */
	long low_speed_limit; /* bytes/s; 0: 1024 */
	int retries; /* extra attempts on transient errors; < 0: none; 0: 4 */
	int backoff_ms; /* first retry delay, doubled each time; 0: 500 */
	/*
	 * qc_http_download: the file may not grow past this (0: the default
	 * QC_IMAGE_MAX_SIZE_DEFAULT), nor past the free space of its file
	 * system minus QC_SPACE_MARGIN; a Content-Length over either is
	 * refused before anything is written.
	 */
	uint64_t max_size;
	qc_http_progress_fn progress;
	void *opaque;
	/*
	 * qc_http_download: when set (>= QC_SHA512_HEX_LEN + 1 bytes), the
	 * SHA-512 of the whole file is computed too, on the same pass, and
	 * written here on success.
	 */
	char *ret_sha512;
};

/*
 * SHA-256 (and, when asked, SHA-512) of a download in a second thread that follows the file as it
 * grows (http_hash.c): start hashing fd from byte 0 with avail bytes there
 * already (-1: no thread), publish how far it is written, stop (with
 * finish: after hashing all published bytes; returns the thread's errno),
 * free (stops first).  After a stop with finish, done == bytes hashed.
 */
struct qc_http_hasher {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fd;
	uint64_t avail; /* bytes written to the file (under mu) */
	uint64_t done; /* bytes hashed (hasher thread only, read after join) */
	bool finish, abort, running;
	int err; /* errno of a failed read */
	struct qc_sha256 *sha;
	struct qc_sha256 *sha512; /* NULL unless asked for */
};
int qc_http_hasher_start(struct qc_http_hasher *h, int fd, uint64_t avail, bool sha512);
void qc_http_hasher_publish(struct qc_http_hasher *h, uint64_t avail);
int qc_http_hasher_stop(struct qc_http_hasher *h, bool finish);
void qc_http_hasher_free(struct qc_http_hasher *h);

/* GET a small document (index, products) into memory, at most max bytes. */
int qc_http_get(const char *url, const struct qc_http_opts *o, size_t max, char **ret,
	size_t *ret_len, struct qc_error *err);
/*
 * Download url into dirfd/part_name, resuming an existing partial file with
 * an HTTP Range request, hashing as the bytes arrive.  When expect_size is
 * not 0 a longer part file is discarded and the final size is checked.  On
 * success ret_hex (>= 65 bytes, may be NULL) holds the SHA-256 of the whole
 * file.  On failure the part file is kept for the next attempt (unless its
 * content was found to be wrong).
 */
int qc_http_download(const char *url, const struct qc_http_opts *o, int dirfd,
	const char *part_name, uint64_t expect_size, char ret_hex[QC_SHA256_HEX_LEN + 1],
	struct qc_error *err);
/* Is url a scheme we accept with these options?  The message names the fix. */
int qc_http_check_url(const char *url, bool allow_http, struct qc_error *err);
/*
 * libcurl is dlopen()ed on the first download.  Can soname (NULL: the one
 * downloads use) be loaded with every function http.c needs?  For tests and
 * `doctor`; the error names the Debian package to install.
 */
int qc_http_curl_probe(const char *soname, struct qc_error *err);

/* ====================================================== simplestreams.c */

/* Arch names: qemuctl's ("x86_64"), Debian/Ubuntu's ("amd64"), uname's. */
const char *qc_storage_arch_canonical(const char *name); /* "amd64" -> "x86_64"; NULL unknown */
const char *qc_storage_arch_debian(const char *name); /* "x86_64" -> "amd64"; NULL unknown */
const char *qc_storage_arch_host(void); /* canonical */

/* "ubuntu:24.04", "ubuntu:noble", "noble", "24.04". */
struct qc_ss_ref {
	char *distro; /* "ubuntu" */
	char *release; /* "24.04" or "noble", as given */
};
int qc_ss_ref_parse(const char *ref, struct qc_ss_ref *ret, struct qc_error *err);
void qc_ss_ref_clear(struct qc_ss_ref *r);

/* The image a stream offers for a release and arch. */
struct qc_ss_item {
	char *product; /* "com.ubuntu.cloud:server:24.04:amd64" */
	char *version; /* "20240423" (the products' version key) */
	char *release; /* "noble" */
	char *release_version; /* "24.04" */
	char *codename; /* "Noble Numbat" or as the stream says */
	char *arch; /* as the stream says: "amd64" */
	char *path; /* relative to the stream's base URL */
	char *sha256; /* lowercase hex */
	uint64_t size;
	char *ftype; /* "disk1.img" */
	char *sha512; /* lowercase hex, instead of sha256 (Debian's tree) */
	char *name; /* the catalog name it gets without --name; NULL: sync.c's */
};
void qc_ss_item_clear(struct qc_ss_item *it);

/*
 * From index.json text: the path of the products file for content
 * "download" whose products include the wanted ones ("products" of the
 * index entry; datatype image-downloads).  Pure.
 */
int qc_ss_index_products_path(
	const char *index, size_t len, const char *distro, char **ret_path, struct qc_error *err);
/*
 * From a products file: the newest version of the product matching
 * release (name or version number) and arch (any accepted spelling) that
 * has an item with ftype "disk1.img".  Pure.  Errors name what is missing:
 * unknown release (listing known ones), no item for that arch (listing the
 * arches there are), malformed JSON.
 */
int qc_ss_select(const char *products, size_t len, const char *release, const char *arch,
	struct qc_ss_item *ret, struct qc_error *err);

/* ============================================================= debian.c */

#define QC_DEBIAN_DEFAULT_BASE "https://cloud.debian.org/images/cloud/"

/* A release of Debian's cloud image tree: "12", "bookworm", "13-genericcloud". */
struct qc_debian_ref {
	const char *version; /* "12" (static) */
	const char *codename; /* "bookworm" (static) */
	const char *flavour; /* "generic" or "genericcloud" (static) */
};
/* QC_ERR_NOTFOUND naming the known releases; QC_ERR_INVALID for a flavour. */
int qc_debian_ref_parse(const char *release, struct qc_debian_ref *ret, struct qc_error *err);
/* "<codename>/latest/SHA512SUMS", relative to the tree's base URL. */
char *qc_debian_sums_path(const struct qc_debian_ref *r);
/*
 * From the text of SHA512SUMS (fetched from sums_url, which errors name):
 * the image debian-<N>-<flavour>-<debian arch>.qcow2 for arch (any accepted
 * spelling), with its SHA-512, path relative to the base URL and default
 * catalog name "<codename>[-genericcloud]-<debian arch>".  Not listed:
 * QC_ERR_NOTFOUND naming the arches that are.  Pure.
 */
int qc_debian_select(const char *sums, size_t len, const struct qc_debian_ref *r, const char *arch,
	const char *sums_url, struct qc_ss_item *ret, struct qc_error *err);

/* ============================================================ catalog.c */

/* A catalog entry: <images>/<name>.qcow2 + <name>.json. */
struct qc_catalog_entry {
	char *name;
	char *path; /* absolute path of <name>.qcow2 */
	char *format; /* always "qcow2" */
	char *arch; /* canonical ("x86_64"), or NULL when unknown */
	char *source; /* file path or URL it came from */
	char *sha256; /* of what was downloaded/imported (before conversion) */
	char *sha512; /* of what was downloaded, when the source lists SHA-512s */
	char *qcow2_sha256; /* of the stored qcow2 file */
	uint64_t size; /* bytes on disk */
	uint64_t virtual_size;
	int64_t imported_at; /* ms since the epoch */
	/* from a stream (NULL otherwise) */
	char *distro, *release, *release_version, *version;
};
void qc_catalog_entry_free(struct qc_catalog_entry *img);
void qc_catalog_entry_freep(struct qc_catalog_entry **img);
#define cleanup_catalog_entry __attribute__((cleanup(qc_catalog_entry_freep)))
void qc_catalog_list_free(struct qc_catalog_entry **v, size_t n);

/*
 * Mode of a catalog image: read-only (never modified once there), owned by
 * the caller, and readable by nobody else: QEMU gets every disk as an fd
 * the caller opened (driver/fdpass.c), so no other user opens an image by
 * path.  The metadata (<name>.json) is only ever read by the caller.
 */
#define QC_IMAGE_MODE 0400
#define QC_IMAGE_META_MODE 0600

/* Open (creating, 0700) <root>/images; returns an O_DIRECTORY fd. */
int qc_catalog_open(const char *root, int *ret_dfd, struct qc_error *err);
/* Load one entry; QC_ERR_NOTFOUND when absent (or only half there). */
int qc_catalog_get(
	const char *root, const char *name, struct qc_catalog_entry **ret, struct qc_error *err);
/* Every complete entry, sorted by name. */
int qc_catalog_list(
	const char *root, struct qc_catalog_entry ***ret, size_t *ret_n, struct qc_error *err);

struct qc_import_opts {
	const char *sha256; /* expected SHA-256 of FILE/URL as given (compressed), or NULL */
	const char *arch; /* any accepted spelling; NULL = host arch */
	bool allow_http; /* for URLs */
	uint64_t max_size; /* download and decompressed output; 0: QC_IMAGE_MAX_SIZE_DEFAULT */
	qc_http_progress_fn progress;
	void *opaque;
};
/*
 * Import FILE or URL as image NAME: download/copy into a temp file under
 * images/, decompressing .xz/.gz (by magic) and hashing on the way; verify
 * the SHA-256 before qemu-img reads anything; check the format (refusing
 * non-images, backing files and data in other files), convert to qcow2
 * when needed, `qemu-img check`, then rename into place (QC_IMAGE_MODE) and write
 * <name>.json.  Nothing is visible under NAME on failure.  QC_ERR_EXISTS
 * when NAME exists.
 */
int qc_catalog_import(const char *root, const char *name, const char *src,
	const struct qc_import_opts *o, struct qc_catalog_entry **ret, struct qc_error *err);
/*
 * Remove NAME (qcow2, json), or only a partial download of it (which
 * list never shows).  The caller checks that no VM uses it (only
 * driver/ knows the VMs); this takes the image's lock so a concurrent sync
 * or import is not cut.
 */
int qc_catalog_remove(const char *root, const char *name, struct qc_error *err);
/* Who uses image name: *ret a fresh "vm1, vm2", or NULL when nobody. */
typedef int (*qc_catalog_users_fn)(
	const char *name, char **ret, void *opaque, struct qc_error *err);
/*
 * qc_catalog_remove, refused (QC_ERR_BUSY, naming them) while users says
 * VMs use the image; asked under the image's lock, which overlay creation
 * takes too (shared), so no VM can start using it in between.
 */
int qc_catalog_remove_checked(const char *root, const char *name, qc_catalog_users_fn users,
	void *opaque, struct qc_error *err);
/* Lock the entry NAME (<images>/.<name>.lock, LOCK_EX) for an import/sync/rm. */
int qc_catalog_lock(
	int images_dfd, const char *name, int timeout_ms, int *ret_fd, struct qc_error *err);
/*
 * Put a finished file dfd/tmp_name (qcow2, verified) in the catalog as
 * name with meta (path and size are filled in here, virtual_size too
 * when the caller left it 0).
 * Caller holds the lock.  Used by import and sync.
 */
int qc_catalog_commit(int images_dfd, const char *root, const char *tmp_name,
	struct qc_catalog_entry *meta, struct qc_error *err);

/* Remove ".<name>.tmp-*" left by a dead import or sync (caller holds the lock). */
void qc_catalog_clean_temps(int images_dfd, const char *name);

/* =============================================================== refs.c */

/*
 * What VM vm (an entry of vms_dfd, "." and ".." excluded) rests on: push
 * the catalog image names its disks name to images and their backing file
 * paths to paths.
 */
typedef void (*qc_refs_vm_fn)(
	int vms_dfd, const char *vm, struct qc_strv *images, struct qc_strv *paths, void *opaque);
/*
 * For n catalog images of the state root root, the VMs using each (ret[i],
 * sorted, NULL-terminated; free with qc_strv_free): one pass over vms_dfd
 * (-1: no VMs), whatever n is.  A VM uses image NAME when backings names
 * NAME or the path <root>/images/NAME.qcow2 (root made absolute as the
 * catalog spells it).  Error: the VMs could not be listed ("list VMs").
 */
int qc_refs_users(const char *root, int vms_dfd, const char *const *names, size_t n,
	qc_refs_vm_fn backings, void *opaque, char ***ret, struct qc_error *err);
/*
 * The fallback of a VM whose definition cannot be read: the backing file
 * of each *.qcow2 directly in vms_dfd/vm (not followed when a link), by
 * qemu-img info on vm_dir/FILE.
 */
void qc_refs_overlay_backings(int vms_dfd, const char *vm_dir, const char *vm, struct qc_strv *out);

/* =============================================================== sync.c */

#define QC_SS_DEFAULT_STREAM "https://cloud-images.ubuntu.com/releases/"

struct qc_sync_opts {
	const char *ref; /* "ubuntu:24.04" */
	const char *arch; /* NULL: host */
	const char *stream; /* NULL: QC_SS_DEFAULT_STREAM; http:// only when given so */
	const char *name; /* NULL: "<release codename>-<debian arch>", e.g. "noble-amd64" */
	int lock_timeout_ms; /* waiting for a concurrent sync of the same image; < 0 forever */
	uint64_t max_size; /* of the download; 0: QC_IMAGE_MAX_SIZE_DEFAULT */
	qc_http_progress_fn progress;
	void *opaque;
	struct qc_http_opts http; /* timeouts/retries; progress filled from above */
	/*
	 * Who uses image name: *ret a fresh "vm1, vm2" or NULL when nobody.
	 * With it, an unused image is replaced by a newer version from the
	 * stream; without it (or while used), a newer version is an error.
	 */
	qc_catalog_users_fn users;
	void *users_opaque;
};
/*
 * Resolve REF in the stream, download the newest disk1.img for the arch
 * (resuming <name>.part), verify size and SHA-256, and put it in the
 * catalog.  A second sync of the same version is a no-op (*ret_fresh
 * false); a newer version replaces an image nobody uses (see users).
 * ret/ret_fresh may be NULL.
 */
int qc_sync_image(const char *root, const struct qc_sync_opts *o, struct qc_catalog_entry **ret,
	bool *ret_fresh, struct qc_error *err);

#endif
