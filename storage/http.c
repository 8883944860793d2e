/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Downloads over libcurl: small documents into memory, images into a
 * ".part" file with Range resume, SHA-256 while streaming, retries with
 * backoff on transient failures, connect and low-speed timeouts, and a
 * progress callback.  CURLcode never leaves this file (STYLE §7).
 *
 * libcurl is dlopen()ed on the first download, not linked: with its TLS,
 * Kerberos, LDAP, SSH, IDN... dependencies it is 35 shared objects whose
 * loading and constructors cost every qemuctl invocation 6-8 ms, more than
 * list, destroy or seed build take for their own work (bench/README.md).
 * The pointers are declared with the type of the real prototypes, so the
 * compiler still checks every call against <curl/curl.h>.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "storage/storage.h"

#define XFER_BUFSIZE (512 * 1024)
#define PROGRESS_EVERY_MS 200

/* The soname of Debian's libcurl4 (OpenSSL flavour), which -dev we build against. */
#define CURL_SONAME "libcurl.so.4"
#define CURL_PACKAGE "libcurl4"

/* The few entry points this file uses, typed after <curl/curl.h>. */
struct curl_fns {
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_reset) *easy_reset;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_strerror) *easy_strerror;
};

static pthread_mutex_t curl_mu = PTHREAD_MUTEX_INITIALIZER;
static struct curl_fns curl_fns; /* valid once curl_ready (under curl_mu) */
static bool curl_ready;

/* dlopen() soname and resolve the table; *ret_dl and *f are set only on success. */
static int curl_open(const char *soname, void **ret_dl, struct curl_fns *f, struct qc_error *err)
{
	struct curl_fns t;
	void *dl = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (!dl)
		return qc_error_set(err, QC_ERR_UNSUPPORTED,
			"cannot load libcurl: %s; install the Debian package " CURL_PACKAGE
			" (apt-get install " CURL_PACKAGE ")",
			dlerror());
#define CURL_SYM(member, name)                                                           \
	do {                                                                             \
		if (!(t.member = (__typeof__(t.member)) dlsym(dl, name))) {              \
			int _r = qc_error_set(err, QC_ERR_UNSUPPORTED,                   \
				"cannot load libcurl: %s has no %s; install the Debian " \
				"package " CURL_PACKAGE " (>= 7.68)",                    \
				soname, name);                                           \
			dlclose(dl);                                                     \
			return _r;                                                       \
		}                                                                        \
	} while (0)
	CURL_SYM(global_init, "curl_global_init");
	CURL_SYM(easy_init, "curl_easy_init");
	CURL_SYM(easy_cleanup, "curl_easy_cleanup");
	CURL_SYM(easy_reset, "curl_easy_reset");
	CURL_SYM(easy_setopt, "curl_easy_setopt");
	CURL_SYM(easy_getinfo, "curl_easy_getinfo");
	CURL_SYM(easy_perform, "curl_easy_perform");
	CURL_SYM(easy_strerror, "curl_easy_strerror");
#undef CURL_SYM
	*ret_dl = dl;
	*f = t;
	return 0;
}

int qc_http_curl_probe(const char *soname, struct qc_error *err)
{
	struct curl_fns f;
	void *dl;
	int r;

	if ((r = curl_open(soname ? soname : CURL_SONAME, &dl, &f, err)) < 0)
		return r;
	dlclose(dl);
	return 0;
}

/*
 * Load libcurl and run curl_global_init() once per process, under a lock
 * (curl_global_init() is not thread-safe before 7.84).  A failed load is
 * retried by the next caller; the library is never unloaded.
 */
static int curl_load(const struct curl_fns **ret, struct qc_error *err)
{
	int r = 0;

	pthread_mutex_lock(&curl_mu);
	if (!curl_ready) {
		struct curl_fns f;
		void *dl;
		CURLcode rc;

		if ((r = curl_open(CURL_SONAME, &dl, &f, err)) == 0) {
			if ((rc = f.global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
				/* not dlclose()d: a half-done init may have left threads or atexit hooks */
				r = qc_error_set(
					err, QC_ERR_HTTP, "libcurl init: %s", f.easy_strerror(rc));
			} else {
				curl_fns = f;
				curl_ready = true;
			}
		}
	}
	pthread_mutex_unlock(&curl_mu);
	if (r == 0)
		*ret = &curl_fns;
	return r;
}

int qc_http_check_url(const char *url, bool allow_http, struct qc_error *err)
{
	if (qc_str_has_prefix(url, "https://") || qc_str_has_prefix(url, "file://"))
		return 0;
	if (qc_str_has_prefix(url, "http://")) {
		if (allow_http)
			return 0;
		return qc_error_set(err, QC_ERR_INVALID,
			"'%s': plain http is not allowed here; use https://", url);
	}
	return qc_error_set(err, QC_ERR_INVALID,
		"'%s': unsupported URL scheme; use https://, http:// or file://", url);
}

/* Start writeback every so often, so the final fsync() has little left to do. */
#define WRITEBACK_EVERY (32u << 20)
#define PUBLISH_EVERY (4u << 20)

struct xfer {
	const char *url;
	const struct qc_http_opts *o;
	const struct curl_fns *f; /* libcurl, loaded */
	CURL *curl;
	bool is_http;
	/* memory mode */
	struct qc_buf *mem;
	size_t max;
	bool too_big;
	/* file mode */
	int fd;
	uint64_t offset; /* bytes in the file (start of this attempt + written) */
	uint64_t start_offset; /* offset this attempt resumed from */
	struct qc_http_hasher *h;
	uint64_t writeback_from;
	uint64_t published; /* offset last handed to the hasher */
	bool checked_status;
	bool restarted; /* server ignored our Range: started from 0 */
	bool overflow; /* more bytes than expected */
	struct qc_bound bound; /* the file may not grow past bound.max */
	bool too_large; /* announced or sent more than bound.max */
	int write_errno;
	/* progress */
	uint64_t total; /* expected size, 0 unknown */
	int64_t t_start, t_last;
	uint64_t bytes_at_start;
};

/* On the first body bytes of a resumed HTTP request: did the server honour Range? */
static int check_resume(struct xfer *x)
{
	long code = 0;

	x->checked_status = true;
	if (!x->is_http || x->start_offset == 0)
		return 0;
	x->f->easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code == 206)
		return 0;
	/* 200: the whole file is coming; drop what we had (hasher first: it maps the file). */
	qc_http_hasher_free(x->h);
	if (ftruncate(x->fd, 0) < 0) {
		x->write_errno = errno;
		return -1;
	}
	if (qc_http_hasher_start(x->h, x->fd, 0, x->o && x->o->ret_sha512) < 0) {
		x->write_errno = EAGAIN;
		return -1;
	}
	x->offset = 0;
	x->start_offset = 0;
	x->writeback_from = 0;
	x->published = 0;
	x->restarted = true;
	return 0;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *opaque)
{
	struct xfer *x = opaque;
	size_t n = size * nmemb;

	if (x->mem) {
		if (x->mem->len + n > x->max) {
			x->too_big = true;
			return 0;
		}
		qc_buf_append(x->mem, ptr, n);
		return n;
	}
	if (!x->checked_status) {
		curl_off_t cl = -1;

		if (check_resume(x) < 0)
			return 0;
		/* A Content-Length over the bound is refused before a byte is written. */
		x->f->easy_getinfo(x->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		if (cl > 0 && (uint64_t) cl > x->bound.max - x->offset) {
			x->too_large = true;
			return 0;
		}
	}
	/* Never more than announced: a runaway server must not fill the disk. */
	if (x->total && x->offset + n > x->total) {
		x->overflow = true;
		return 0;
	}
	/* Nor more than the bound, whatever it announced (or did not). */
	if (n > x->bound.max - x->offset) {
		x->too_large = true;
		return 0;
	}
	for (size_t done = 0; done < n;) {
		ssize_t w = pwrite(x->fd, ptr + done, n - done, (off_t) x->offset);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			x->write_errno = errno;
			return 0;
		}
		done += (size_t) w;
		x->offset += (uint64_t) w;
	}
	if (x->offset - n == x->start_offset) /* the first bytes of this attempt are on disk */
		qc_fault_step("sync:part-written");
	/* Wake the hasher per few MiB, not per packet: fewer context switches. */
	if (x->offset - x->published >= PUBLISH_EVERY) {
		qc_http_hasher_publish(x->h, x->offset);
		x->published = x->offset;
	}
	if (x->offset - x->writeback_from >= WRITEBACK_EVERY) {
		(void) sync_file_range(x->fd, (off_t) x->writeback_from,
			(off_t) (x->offset - x->writeback_from), SYNC_FILE_RANGE_WRITE);
		x->writeback_from = x->offset;
	}
	return n;
}

static int xferinfo_cb(
	void *opaque, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = opaque;
	int64_t now = qc_now_ms();
	uint64_t done, total;
	double rate = 0;

	(void) ultotal;
	(void) ulnow;
	if (!x->o || !x->o->progress)
		return 0;
	if (now - x->t_last < PROGRESS_EVERY_MS)
		return 0;
	x->t_last = now;
	done = x->mem ? (uint64_t) dlnow : x->offset;
	total = x->total;
	if (!total && dltotal > 0)
		total = (uint64_t) dltotal + x->start_offset;
	if (now > x->t_start)
		rate = (double) (done - x->bytes_at_start) * 1000.0 / (double) (now - x->t_start);
	x->o->progress(done, total, rate, x->o->opaque);
	return 0;
}

static bool transient_curl(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_COULDNT_RESOLVE_HOST: /* DNS hiccups are common on flaky links */
		return true;
	default:
		return false;
	}
}

static bool transient_http(long code)
{
	return code == 408 || code == 429 || (code >= 500 && code <= 599);
}

static const char *http_reason(long code)
{
	switch (code) {
	case 400:
		return "bad request";
	case 401:
		return "unauthorized";
	case 403:
		return "forbidden";
	case 404:
		return "not found";
	case 408:
		return "request timeout";
	case 416:
		return "range not satisfiable";
	case 429:
		return "too many requests";
	case 500:
		return "internal server error";
	case 502:
		return "bad gateway";
	case 503:
		return "service unavailable";
	case 504:
		return "gateway timeout";
	default:
		return code >= 500 ? "server error" : "client error";
	}
}

static int setup(CURL *c, struct xfer *x, char *errbuf)
{
	const struct curl_fns *f = x->f;
	const struct qc_http_opts *o = x->o;
	const char *protos = o && o->allow_http ? "http,https,file" : "https,file";
	const char *redir = o && o->allow_http ? "http,https" : "https";

	f->easy_setopt(c, CURLOPT_URL, x->url);
	f->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
	f->easy_setopt(c, CURLOPT_PROTOCOLS_STR, protos);
	f->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, redir);
#else
	f->easy_setopt(c, CURLOPT_PROTOCOLS,
		(long) (CURLPROTO_HTTPS | CURLPROTO_FILE |
			(o && o->allow_http ? CURLPROTO_HTTP : 0)));
	f->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS,
		(long) (CURLPROTO_HTTPS | (o && o->allow_http ? CURLPROTO_HTTP : 0)));
	(void) protos;
	(void) redir;
#endif
	f->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	f->easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	f->easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	f->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	f->easy_setopt(c, CURLOPT_USERAGENT, "qemuctl/" PACKAGE_VERSION);
	f->easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
		(long) (o && o->connect_timeout_s > 0 ? o->connect_timeout_s : 30));
	f->easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
		(long) (o && o->low_speed_time_s > 0 ? o->low_speed_time_s : 60));
	f->easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT,
		(long) (o && o->low_speed_limit > 0 ? o->low_speed_limit : 1024));
	f->easy_setopt(c, CURLOPT_BUFFERSIZE, (long) XFER_BUFSIZE);
	f->easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	f->easy_setopt(c, CURLOPT_WRITEDATA, x);
	f->easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	f->easy_setopt(c, CURLOPT_XFERINFODATA, x);
	f->easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	/* Content we hash must be the bytes on the server, not a decoded form. */
	f->easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 0L);
	return 0;
}

static int retries_of(const struct qc_http_opts *o)
{
	if (!o || o->retries == 0)
		return 4;
	return o->retries < 0 ? 0 : o->retries;
}

static int backoff_of(const struct qc_http_opts *o)
{
	return o && o->backoff_ms > 0 ? o->backoff_ms : 500;
}

/*
 * Whether attempt number attempt, which returned r, is followed by another:
 * only a transient failure with tries left is.  Then say why (at level) and
 * wait the back-off *delay, doubling it for the next time.
 */
static bool try_again(int r, bool transient, int attempt, int tries, int *delay, int level,
	const struct qc_error *err)
{
	if (r == 0 || !transient || attempt >= tries)
		return false;
	qc_log(level, "%s; retrying in %d ms", err ? err->msg : "download failed", *delay);
	qc_sleep_ms(*delay);
	*delay *= 2;
	return true;
}

/*
 * One attempt.  Returns 0 on success, -code with err filled otherwise and
 * *transient telling whether another attempt may help.
 */
static int perform(struct xfer *x, bool *transient, long *ret_code, struct qc_error *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	long code = 0;

	*transient = false;
	x->f->easy_reset(x->curl);
	setup(x->curl, x, errbuf);
	if (!x->mem && x->offset > 0)
		x->f->easy_setopt(x->curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t) x->offset);
	x->start_offset = x->mem ? 0 : x->offset;
	x->checked_status = false;
	x->t_start = x->t_last = qc_now_ms();
	x->bytes_at_start = x->start_offset;
	x->t_last -= PROGRESS_EVERY_MS;
	rc = x->f->easy_perform(x->curl);
	x->f->easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
	*ret_code = code;
	if (rc == CURLE_OK)
		return 0;
	if (x->too_big)
		return qc_error_set(
			err, QC_ERR_HTTP, "download '%s': larger than %zu bytes", x->url, x->max);
	if (x->write_errno)
		return qc_error_errno(err, x->write_errno, "download '%s': write", x->url);
	if (x->too_large) {
		cleanup_free char *what = qc_xasprintf("download '%s'", x->url);

		return qc_bound_error(&x->bound, what, "is", err);
	}
	if (x->overflow)
		return qc_error_set(err, QC_ERR_CHECKSUM,
			"download '%s': more than the %llu bytes announced", x->url,
			(unsigned long long) x->total);
	if (rc == CURLE_HTTP_RETURNED_ERROR) {
		*transient = transient_http(code);
		return qc_error_set(err, QC_ERR_HTTP, "download '%s': HTTP %ld (%s)", x->url, code,
			http_reason(code));
	}
	if (rc == CURLE_UNSUPPORTED_PROTOCOL)
		return qc_error_set(err, QC_ERR_HTTP,
			"download '%s': %s (plain http needs an http:// stream URL)", x->url,
			*errbuf ? errbuf : x->f->easy_strerror(rc));
	*transient = transient_curl(rc);
	return qc_error_set(err, QC_ERR_HTTP, "download '%s': %s", x->url,
		*errbuf ? errbuf : x->f->easy_strerror(rc));
}

static int new_curl(struct xfer *x, struct qc_error *err)
{
	int r;

	if ((r = curl_load(&x->f, err)) < 0)
		return qc_error_prefix(err, "download '%s'", x->url);
	x->curl = x->f->easy_init();
	if (!x->curl)
		return qc_error_set(err, QC_ERR_HTTP, "libcurl: cannot create a handle");
	return 0;
}

int qc_http_get(const char *url, const struct qc_http_opts *o, size_t max, char **ret,
	size_t *ret_len, struct qc_error *err)
{
	cleanup_buf struct qc_buf buf = {0};
	struct xfer x = {.url = url, .o = o, .mem = &buf, .max = max, .fd = -1};
	int tries = retries_of(o), delay = backoff_of(o);
	int r;

	if ((r = qc_http_check_url(url, o && o->allow_http, err)) < 0)
		return r;
	if ((r = new_curl(&x, err)) < 0)
		return r;
	x.is_http = !qc_str_has_prefix(url, "file://");
	for (int attempt = 0;; attempt++) {
		bool transient;
		long code;

		buf.len = 0;
		x.too_big = false;
		r = perform(&x, &transient, &code, err);
		if (!try_again(r, transient, attempt, tries, &delay, QC_LOG_DEBUG, err))
			break;
	}
	x.f->easy_cleanup(x.curl);
	if (r < 0)
		return r;
	if (ret_len)
		*ret_len = buf.len;
	*ret = qc_buf_steal(&buf);
	return 0;
}

int qc_http_download(const char *url, const struct qc_http_opts *o, int dirfd,
	const char *part_name, uint64_t expect_size, char ret_hex[QC_SHA256_HEX_LEN + 1],
	struct qc_error *err)
{
	cleanup_close int fd = -1;
	struct qc_http_hasher h = {0};
	struct xfer x = {.url = url, .o = o, .total = expect_size, .h = &h};
	int tries = retries_of(o), delay = backoff_of(o);
	struct stat st;
	int r, e;

	if ((r = qc_http_check_url(url, o && o->allow_http, err)) < 0)
		return r;
	fd = openat(dirfd, part_name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return qc_error_errno(err, errno, "download '%s': open '%s'", url, part_name);
	if (fstat(fd, &st) < 0)
		return qc_error_errno(err, errno, "download '%s': stat '%s'", url, part_name);
	x.fd = fd;
	x.offset = (uint64_t) st.st_size;
	if ((r = qc_bound_init(&x.bound, fd, o ? o->max_size : 0, err)) < 0)
		return qc_error_prefix(err, "download '%s'", url);
	/* What the part holds already is on the disk: the room is for the rest. */
	if (x.bound.room > UINT64_MAX - x.offset)
		x.bound.room = UINT64_MAX - x.offset;
	x.bound.room += x.offset;
	x.bound.max = x.bound.max_size < x.bound.room ? x.bound.max_size : x.bound.room;
	if (x.offset > x.bound.max) {
		qc_debug("'%s' is longer than the %llu bytes allowed; starting over", part_name,
			(unsigned long long) x.bound.max);
		if (ftruncate(fd, 0) < 0)
			return qc_error_errno(
				err, errno, "download '%s': truncate '%s'", url, part_name);
		x.offset = 0;
	}
	if (expect_size && x.offset > expect_size) {
		qc_debug("'%s' is longer than the expected %llu bytes; starting over", part_name,
			(unsigned long long) expect_size);
		if (ftruncate(fd, 0) < 0)
			return qc_error_errno(
				err, errno, "download '%s': truncate '%s'", url, part_name);
		x.offset = 0;
	}
	if (expect_size > x.bound.max) {
		cleanup_free char *what = qc_xasprintf("download '%s'", url);

		return qc_bound_error(&x.bound, what, "is", err);
	}
	x.writeback_from = x.offset;
	x.published = x.offset;
	if ((r = qc_sha256_load(err)) < 0)
		return qc_error_prefix(err, "download '%s'", url);
	/* What an earlier attempt left is hashed (in the background) first. */
	if (qc_http_hasher_start(&h, fd, x.offset, o && o->ret_sha512) < 0)
		return qc_error_set(err, EAGAIN, "download '%s': cannot start a thread", url);
	if (expect_size && x.offset == expect_size)
		goto done; /* finished earlier, e.g. killed before the rename */
	if ((r = new_curl(&x, err)) < 0)
		goto fail;
	x.is_http = !qc_str_has_prefix(url, "file://");
	if (x.offset)
		qc_info("resuming '%s' at byte %llu", url, (unsigned long long) x.offset);
	for (int attempt = 0;; attempt++) {
		bool transient;
		long code;

		r = perform(&x, &transient, &code, err);
		if (r < 0 && code == 416 && x.offset > 0) {
			/* Our part is not a prefix of what the server has now: start over. */
			qc_http_hasher_free(&h);
			if (ftruncate(fd, 0) < 0 ||
				qc_http_hasher_start(&h, fd, 0, o && o->ret_sha512) < 0) {
				r = qc_error_errno(err, errno ? errno : EAGAIN,
					"download '%s': start over", url);
				break;
			}
			x.offset = 0;
			x.writeback_from = 0;
			x.published = 0;
			transient = true;
		}
		if (!try_again(r, transient, attempt, tries, &delay, QC_LOG_INFO, err))
			break;
	}
	x.f->easy_cleanup(x.curl);
	if (r < 0)
		goto fail;
done:
	if (fsync(fd) < 0) {
		r = qc_error_errno(err, errno, "download '%s': fsync '%s'", url, part_name);
		goto fail;
	}
	if (o && o->progress)
		o->progress(x.offset, expect_size ? expect_size : x.offset, 0, o->opaque);
	if (expect_size && x.offset != expect_size) {
		r = qc_error_set(err, QC_ERR_CHECKSUM,
			"download '%s': got %llu bytes, the index says %llu", url,
			(unsigned long long) x.offset, (unsigned long long) expect_size);
		goto fail;
	}
	qc_http_hasher_publish(&h, x.offset);
	if ((e = qc_http_hasher_stop(&h, true)) != 0) {
		r = qc_error_errno(err, e, "download '%s': read back '%s'", url, part_name);
		goto fail;
	}
	if (h.done != x.offset) {
		r = qc_error_set(err, QC_ERR_INTERNAL, "download '%s': hashed %llu of %llu bytes",
			url, (unsigned long long) h.done, (unsigned long long) x.offset);
		goto fail;
	}
	{
		char hex[QC_SHA256_HEX_LEN + 1];

		qc_sha256_final(h.sha, hex);
		if (ret_hex)
			memcpy(ret_hex, hex, sizeof(hex));
		if (h.sha512)
			qc_sha512_final(h.sha512, o->ret_sha512);
	}
	qc_http_hasher_free(&h);
	return 0;
fail:
	qc_http_hasher_free(&h);
	return r;
}
