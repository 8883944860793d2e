/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SHA-256 in a second thread that follows the file as it grows: the
 * transfer thread publishes how far the file is written, the hasher
 * pread()s that range back from the page cache.  On two cores the hash
 * then costs (almost) nothing on top of the transfer.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "storage/storage.h"

/*
 * Hash [from, to) of the file.  mmap() saves the copy pread() makes (about
 * 15% of the hashing cost); the range is always below what was written, and
 * the file is only ever truncated after this thread was stopped, so the
 * mapping cannot fault (SIGBUS).
 */
static int hash_range(
	struct qc_http_hasher *h, uint64_t from, uint64_t to, char *buf, size_t bufsz)
{
	static long page;
	const uint64_t chunk = 8u << 20;

	if (!page)
		page = sysconf(_SC_PAGESIZE);
	while (from < to) {
		uint64_t end = to - from > chunk ? from + chunk : to;
		uint64_t moff = from & ~((uint64_t) page - 1);
		size_t mlen = (size_t) (end - moff);
		void *m =
			mmap(NULL, mlen, PROT_READ, MAP_SHARED | MAP_POPULATE, h->fd, (off_t) moff);

		if (m != MAP_FAILED) {
			qc_sha256_update(h->sha, (char *) m + (from - moff), (size_t) (end - from));
			if (h->sha512)
				qc_sha256_update(
					h->sha512, (char *) m + (from - moff), (size_t) (end - from));
			munmap(m, mlen);
			from = end;
			h->done = from;
			continue;
		}
		/* e.g. a file system without mmap: copy instead */
		{
			size_t want = end - from < bufsz ? (size_t) (end - from) : bufsz;
			ssize_t n = pread(h->fd, buf, want, (off_t) from);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return n < 0 ? errno : EIO;
			qc_sha256_update(h->sha, buf, (size_t) n);
			if (h->sha512)
				qc_sha256_update(h->sha512, buf, (size_t) n);
			from += (uint64_t) n;
			h->done = from;
		}
	}
	return 0;
}

static void *hasher_main(void *opaque)
{
	struct qc_http_hasher *h = opaque;
	size_t bufsz = 1 << 20;
	char *buf = qc_xmalloc(bufsz);

	for (;;) {
		uint64_t upto;

		pthread_mutex_lock(&h->mu);
		while (h->done == h->avail && !h->finish && !h->abort)
			pthread_cond_wait(&h->cv, &h->mu);
		upto = h->avail;
		if (h->abort || (h->done == upto && h->finish)) {
			pthread_mutex_unlock(&h->mu);
			break;
		}
		pthread_mutex_unlock(&h->mu);
		if ((h->err = hash_range(h, h->done, upto, buf, bufsz)) != 0)
			break;
	}
	free(buf);
	return NULL;
}

/* Start hashing fd from byte 0; avail bytes are there already. */
int qc_http_hasher_start(struct qc_http_hasher *h, int fd, uint64_t avail, bool sha512)
{
	memset(h, 0, sizeof(*h));
	h->fd = fd;
	h->avail = avail;
	h->sha = qc_sha256_new();
	h->sha512 = sha512 ? qc_sha512_new() : NULL;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	if (pthread_create(&h->th, NULL, hasher_main, h) != 0) {
		qc_sha256_free(h->sha);
		qc_sha256_free(h->sha512);
		h->sha = h->sha512 = NULL;
		return -1;
	}
	h->running = true;
	return 0;
}

void qc_http_hasher_publish(struct qc_http_hasher *h, uint64_t avail)
{
	pthread_mutex_lock(&h->mu);
	h->avail = avail;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

/* Stop; with finish, hash everything published first.  Returns the thread's errno. */
int qc_http_hasher_stop(struct qc_http_hasher *h, bool finish)
{
	if (!h->running)
		return 0;
	pthread_mutex_lock(&h->mu);
	if (finish)
		h->finish = true;
	else
		h->abort = true;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->th, NULL);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	h->running = false;
	return h->err;
}

void qc_http_hasher_free(struct qc_http_hasher *h)
{
	(void) qc_http_hasher_stop(h, false);
	qc_sha256_free(h->sha);
	qc_sha256_free(h->sha512);
	h->sha = h->sha512 = NULL;
}
