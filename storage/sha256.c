/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SHA-256 over libcrypto's EVP interface (never hand-written). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "storage/storage.h"

struct qc_sha256 {
	EVP_MD_CTX *md;
};

struct qc_sha256 *qc_sha256_new(void)
{
	struct qc_sha256 *s = qc_xzalloc(sizeof(*s));

	s->md = EVP_MD_CTX_new();
	if (!s->md || EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1)
		abort(); /* only on OOM: there is nothing sensible to do */
	return s;
}

void qc_sha256_update(struct qc_sha256 *s, const void *p, size_t n)
{
	if (n && EVP_DigestUpdate(s->md, p, n) != 1)
		abort();
}

void qc_sha256_final(struct qc_sha256 *s, char hex[QC_SHA256_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(s->md, md, &n) != 1 || n != 32)
		abort();
	for (unsigned i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * n] = '\0';
}

void qc_sha256_free(struct qc_sha256 *s)
{
	if (!s)
		return;
	EVP_MD_CTX_free(s->md);
	free(s);
}

void qc_sha256_freep(struct qc_sha256 **s)
{
	qc_sha256_free(*s);
	*s = NULL;
}

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

bool qc_sha256_valid(const char *s)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
			    (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return i == QC_SHA256_HEX_LEN;
}
