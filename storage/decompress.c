/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Streaming .xz (liblzma) and .gz (zlib) decompression, fd to fd.  Both
 * libraries are dlopen()ed by the first stream of their kind
 * (decompress_dl.c).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lzma.h>
#include <zlib.h>

#include "storage/storage.h"

#define CHUNK (1u << 20)

enum qc_compression qc_compression_detect(const void *head, size_t n)
{
	const unsigned char *p = head;
	static const unsigned char xz[6] = {0xfd, '7', 'z', 'X', 'Z', 0x00};

	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return QC_COMP_GZIP;
	if (n >= 6 && memcmp(p, xz, 6) == 0)
		return QC_COMP_XZ;
	return QC_COMP_NONE;
}

const char *qc_compression_name(enum qc_compression c)
{
	static const char *const names[] = {
		[QC_COMP_NONE] = "none",
		[QC_COMP_GZIP] = "gzip",
		[QC_COMP_XZ] = "xz",
	};
	QC_TABLE_COVERS(names, QC_COMP_COUNT);

	return QC_NAME_OF(names, c, "none");
}

static ssize_t read_some(int fd, void *buf, size_t n)
{
	ssize_t r;

	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}

/*
 * Read the next chunk of input into buf (CHUNK bytes) and its length into
 * *len (0 at the end of input), feed it to the hash and count it in *done;
 * report progress if given.
 */
static int read_chunk(int in, uint8_t *buf, size_t *len, struct qc_sha256 *sha, uint64_t *done,
	qc_progress_fn progress, void *opaque, const char *what, struct qc_error *err)
{
	ssize_t n = read_some(in, buf, CHUNK);

	if (n < 0)
		return qc_error_errno(err, errno, "%s: read", what);
	*len = (size_t) n;
	if (sha)
		qc_sha256_update(sha, buf, *len);
	*done += *len;
	if (progress && n)
		progress(*done, 0, opaque);
	return 0;
}

/* Write n more bytes of output, unless that takes it past the bound. */
static int put(int out, const void *buf, size_t n, uint64_t *written, const struct qc_bound *b,
	const char *what, struct qc_error *err)
{
	if (b && n > b->max - *written)
		return qc_bound_error(b, what, "decompresses to", err);
	*written += n;
	return qc_write_all(out, buf, n, err);
}

static const char *lzma_msg(lzma_ret r)
{
	switch (r) {
	case LZMA_MEM_ERROR:
		return "out of memory";
	case LZMA_FORMAT_ERROR:
		return "not in .xz format";
	case LZMA_OPTIONS_ERROR:
		return "unsupported compression options";
	case LZMA_DATA_ERROR:
		return "compressed data is corrupt";
	case LZMA_BUF_ERROR:
		return "compressed data is truncated";
	default:
		return "internal error";
	}
}

/*
 * One loop for both libraries: read a chunk, feed it to the hash and the
 * decoder, write whatever comes out.  A stream must end properly; trailing
 * bytes after the end of a gzip member start another member (like gzip -d).
 */
static int decompress_xz(int in, int out, struct qc_sha256 *sha, const char *what,
	const struct qc_bound *b, qc_progress_fn progress, void *opaque, struct qc_error *err)
{
	cleanup_free uint8_t *ibuf = qc_xmalloc(CHUNK);
	cleanup_free uint8_t *obuf = qc_xmalloc(CHUNK);
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_action action = LZMA_RUN;
	uint64_t done = 0, written = 0;
	lzma_ret lr;
	int r = 0;

	if ((r = qc_lzma_load(err)) < 0)
		return qc_error_prefix(err, "%s: xz", what);
	lr = lzma_stream_decoder(&s, QC_XZ_MEMLIMIT, LZMA_CONCATENATED);
	if (lr != LZMA_OK)
		return qc_error_set(err, QC_ERR_INVALID, "%s: xz: %s", what, lzma_msg(lr));
	s.next_out = obuf;
	s.avail_out = CHUNK;
	for (;;) {
		if (s.avail_in == 0 && action == LZMA_RUN) {
			size_t n;

			r = read_chunk(in, ibuf, &n, sha, &done, progress, opaque, what, err);
			if (r < 0)
				break;
			action = n ? LZMA_RUN : LZMA_FINISH;
			s.next_in = ibuf;
			s.avail_in = n;
		}
		lr = lzma_code(&s, action);
		if (s.avail_out == 0 || lr == LZMA_STREAM_END) {
			if ((r = put(out, obuf, CHUNK - s.avail_out, &written, b, what, err)) < 0)
				break;
			s.next_out = obuf;
			s.avail_out = CHUNK;
		}
		if (lr == LZMA_STREAM_END)
			break;
		if (lr == LZMA_MEMLIMIT_ERROR) {
			/* A dictionary that large is no image made by xz -0 .. -9 (64 MiB). */
			r = qc_error_set(err, QC_ERR_INVALID,
				"%s: xz: decoding needs %llu MiB of memory, more than the %llu "
				"MiB allowed (it was compressed with a huge dictionary); "
				"recompress it with xz -9 or less",
				what, (unsigned long long) (lzma_memusage(&s) >> 20),
				(unsigned long long) (QC_XZ_MEMLIMIT >> 20));
			break;
		}
		if (lr != LZMA_OK) {
			r = qc_error_set(err, QC_ERR_INVALID, "%s: xz: %s", what, lzma_msg(lr));
			break;
		}
	}
	lzma_end(&s);
	return r;
}

static int decompress_gz(int in, int out, struct qc_sha256 *sha, const char *what,
	const struct qc_bound *b, qc_progress_fn progress, void *opaque, struct qc_error *err)
{
	cleanup_free uint8_t *ibuf = qc_xmalloc(CHUNK);
	cleanup_free uint8_t *obuf = qc_xmalloc(CHUNK);
	z_stream z;
	bool eof = false, ended = false, full = false;
	uint64_t done = 0, written = 0;
	int zr, r = 0;

	if ((r = qc_zlib_load(err)) < 0)
		return qc_error_prefix(err, "%s: gzip", what);
	memset(&z, 0, sizeof(z));
	/* 16 + MAX_WBITS: gzip wrapper only. */
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return qc_error_set(err, QC_ERR_INVALID, "%s: gzip: cannot initialise zlib", what);
	for (;;) {
		if (z.avail_in == 0 && !eof) {
			size_t n;

			r = read_chunk(in, ibuf, &n, sha, &done, progress, opaque, what, err);
			if (r < 0)
				break;
			eof = n == 0;
			z.next_in = ibuf;
			z.avail_in = (uInt) n;
		}
		if (z.avail_in == 0 && eof && !full) {
			if (!ended)
				r = qc_error_set(err, QC_ERR_INVALID,
					"%s: gzip: compressed data is truncated", what);
			break;
		}
		ended = false;
		z.next_out = obuf;
		z.avail_out = CHUNK;
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			r = qc_error_set(err, QC_ERR_INVALID, "%s: gzip: %s", what,
				z.msg ? z.msg : "compressed data is corrupt");
			break;
		}
		full = z.avail_out == 0; /* zlib may hold more output */
		if ((r = put(out, obuf, CHUNK - z.avail_out, &written, b, what, err)) < 0)
			break;
		if (zr == Z_BUF_ERROR && z.avail_in == 0 && eof) {
			r = qc_error_set(err, QC_ERR_INVALID,
				"%s: gzip: compressed data is truncated", what);
			break;
		}
		if (zr == Z_STREAM_END) {
			ended = true;
			/* Another member may follow. */
			if (inflateReset(&z) != Z_OK) {
				r = qc_error_set(
					err, QC_ERR_INVALID, "%s: gzip: reset failed", what);
				break;
			}
			if (z.avail_in == 0 && eof)
				break;
			if (z.avail_in == 0) {
				/* Peek: if nothing more comes, the stream ended cleanly. */
				size_t n;

				r = read_chunk(in, ibuf, &n, sha, &done, NULL, NULL, what, err);
				if (r < 0 || n == 0)
					break;
				z.next_in = ibuf;
				z.avail_in = (uInt) n;
			}
		}
	}
	inflateEnd(&z);
	return r;
}

static int copy_plain(int in, int out, struct qc_sha256 *sha, const char *what,
	const struct qc_bound *b, qc_progress_fn progress, void *opaque, struct qc_error *err)
{
	cleanup_free uint8_t *buf = qc_xmalloc(CHUNK);
	uint64_t done = 0, written = 0;
	int r;

	for (;;) {
		ssize_t n = read_some(in, buf, CHUNK);

		if (n < 0)
			return qc_error_errno(err, errno, "%s: read", what);
		if (n == 0)
			return 0;
		if (sha)
			qc_sha256_update(sha, buf, (size_t) n);
		if ((r = put(out, buf, (size_t) n, &written, b, what, err)) < 0)
			return r;
		done += (uint64_t) n;
		if (progress)
			progress(done, 0, opaque);
	}
}

int qc_decompress_fd(enum qc_compression c, int src_fd, int dst_fd, struct qc_sha256 *sha,
	const char *what, const struct qc_bound *bound, qc_progress_fn progress, void *opaque,
	struct qc_error *err)
{
	switch (c) {
	case QC_COMP_XZ:
		return decompress_xz(src_fd, dst_fd, sha, what, bound, progress, opaque, err);
	case QC_COMP_GZIP:
		return decompress_gz(src_fd, dst_fd, sha, what, bound, progress, opaque, err);
	default:
		return copy_plain(src_fd, dst_fd, sha, what, bound, progress, opaque, err);
	}
}
