/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SHA-256 (and SHA-512, for Debian's SHA512SUMS) over libcrypto's EVP
 * interface (never hand-written).
 *
 * libcrypto is dlopen()ed on first use, not linked: its 21000 relocations
 * made it the largest object left in every qemuctl start-up (about 1 ms of
 * CPU for list, destroy, --version, which never hash; bench/README.md).
 * The pointers carry the type of the real prototypes.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/opensslv.h>

#include "storage/storage.h"

#define QC_STR_(x) #x
#define QC_STR(x) QC_STR_(x)
#ifdef OPENSSL_SHLIB_VERSION /* OpenSSL 3: 3 */
#define CRYPTO_SONAME "libcrypto.so." QC_STR(OPENSSL_SHLIB_VERSION)
#else /* OpenSSL 1.1: "1.1" */
#define CRYPTO_SONAME "libcrypto.so." SHLIB_VERSION_NUMBER
#endif

static struct {
	__typeof__(EVP_MD_CTX_new) *md_ctx_new;
	__typeof__(EVP_MD_CTX_free) *md_ctx_free;
	__typeof__(EVP_DigestInit_ex) *digest_init;
	__typeof__(EVP_DigestUpdate) *digest_update;
	__typeof__(EVP_DigestFinal_ex) *digest_final;
	__typeof__(EVP_sha256) *sha256;
	__typeof__(EVP_sha512) *sha512;
} crypto;
static pthread_mutex_t crypto_mu = PTHREAD_MUTEX_INITIALIZER;
static bool crypto_ready;

int qc_sha256_load(struct qc_error *err)
{
	void *dl;
	int r = 0;

	pthread_mutex_lock(&crypto_mu);
	if (crypto_ready)
		goto out;
	dl = dlopen(CRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		r = qc_error_set(err, QC_ERR_UNSUPPORTED,
			"SHA-256 needs libcrypto: %s; install the Debian package libssl3",
			dlerror());
		goto out;
	}
#define CRYPTO_SYM(member, name)                                                             \
	if (!(crypto.member = (__typeof__(crypto.member)) dlsym(dl, name))) {                \
		r = qc_error_set(err, QC_ERR_UNSUPPORTED,                                    \
			"SHA-256 needs libcrypto: " CRYPTO_SONAME " has no %s; install the " \
			"Debian package libssl3",                                            \
			name);                                                               \
		dlclose(dl);                                                                 \
		goto out;                                                                    \
	}
	CRYPTO_SYM(md_ctx_new, "EVP_MD_CTX_new");
	CRYPTO_SYM(md_ctx_free, "EVP_MD_CTX_free");
	CRYPTO_SYM(digest_init, "EVP_DigestInit_ex");
	CRYPTO_SYM(digest_update, "EVP_DigestUpdate");
	CRYPTO_SYM(digest_final, "EVP_DigestFinal_ex");
	CRYPTO_SYM(sha256, "EVP_sha256");
	CRYPTO_SYM(sha512, "EVP_sha512");
#undef CRYPTO_SYM
	crypto_ready = true;
out:
	pthread_mutex_unlock(&crypto_mu);
	return r;
}

struct qc_sha256 {
	EVP_MD_CTX *md;
};

static struct qc_sha256 *digest_new(bool sha512)
{
	struct qc_sha256 *s;

	/* Callers with an error path call qc_sha256_load() first for the message. */
	if (qc_sha256_load(NULL) < 0)
		abort();
	s = qc_xzalloc(sizeof(*s));
	s->md = crypto.md_ctx_new();
	if (!s->md ||
		crypto.digest_init(s->md, sha512 ? crypto.sha512() : crypto.sha256(), NULL) != 1)
		abort(); /* only on OOM: there is nothing sensible to do */
	return s;
}

struct qc_sha256 *qc_sha256_new(void)
{
	return digest_new(false);
}

struct qc_sha256 *qc_sha512_new(void)
{
	return digest_new(true);
}

void qc_sha256_update(struct qc_sha256 *s, const void *p, size_t n)
{
	if (n && crypto.digest_update(s->md, p, n) != 1)
		abort();
}

/* The digest of s, want bytes long, as lowercase hex into hex (2 * want + 1). */
static void digest_final(struct qc_sha256 *s, char *hex, unsigned want)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (crypto.digest_final(s->md, md, &n) != 1 || n != want)
		abort();
	for (unsigned i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * n] = '\0';
}

void qc_sha256_final(struct qc_sha256 *s, char hex[QC_SHA256_HEX_LEN + 1])
{
	digest_final(s, hex, QC_SHA256_HEX_LEN / 2);
}

void qc_sha512_final(struct qc_sha256 *s, char hex[QC_SHA512_HEX_LEN + 1])
{
	digest_final(s, hex, QC_SHA512_HEX_LEN / 2);
}

void qc_sha256_free(struct qc_sha256 *s)
{
	if (!s)
		return;
	crypto.md_ctx_free(s->md);
	free(s);
}

QC_DEFINE_CLEANUP_FUNC(qc_sha256_freep, struct qc_sha256, qc_sha256_free)

int qc_sha256_fd(struct qc_sha256 *s, int fd, uint64_t len, struct qc_error *err)
{
	size_t bufsz = 1 << 20;
	cleanup_free char *buf = qc_xmalloc(bufsz);
	uint64_t off = 0;

	while (off < len) {
		size_t want = len - off < bufsz ? (size_t) (len - off) : bufsz;
		ssize_t n = pread(fd, buf, want, (off_t) off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return qc_error_errno(err, errno, "read");
		}
		if (n == 0) {
			if (len == UINT64_MAX)
				break;
			return qc_error_set(err, EIO, "read: file shorter than expected");
		}
		qc_sha256_update(s, buf, (size_t) n);
		off += (uint64_t) n;
	}
	return 0;
}

static bool hex_of_len(const char *s, size_t len)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
			    (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return i == len;
}

bool qc_sha256_valid(const char *s)
{
	return hex_of_len(s, QC_SHA256_HEX_LEN);
}

bool qc_sha512_valid(const char *s)
{
	return hex_of_len(s, QC_SHA512_HEX_LEN);
}
