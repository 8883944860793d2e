/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared bits of the libFuzzer harnesses (tests/fuzz/fuzz-*.c).  A harness
 * checks invariants with FUZZ_CHECK: a broken one prints what and aborts,
 * which libFuzzer reports as a crash and saves the input.
 */
#ifndef QC_FUZZ_H
#define QC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...)                                                                    \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                            \
			fputc('\n', stderr);                                                     \
			abort();                                                                 \
		}                                                                                \
	} while (0)

/* data as a NUL-terminated string (embedded NULs end it early). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = qc_xmalloc(size + 1);

	if (size)
		memcpy(s, data, size);
	s[size] = 0;
	return s;
}

/* An error message must say something: non-empty, NUL-terminated, no newline at the end. */
static inline void fuzz_check_error(int r, const struct qc_error *err)
{
	if (r >= 0)
		return;
	FUZZ_CHECK(err->code != 0, "error without a code");
	FUZZ_CHECK(memchr(err->msg, 0, sizeof(err->msg)) != NULL, "message not terminated");
	FUZZ_CHECK(err->msg[0] != 0, "empty message for code %d", err->code);
}

/* Split data at the first "\n---8<---\n" separator (or the end). */
static inline size_t fuzz_split(const uint8_t *data, size_t size, size_t *rest_off)
{
	static const char sep[] = "\n---8<---\n";
	size_t n = sizeof(sep) - 1;

	for (size_t i = 0; i + n <= size; i++)
		if (memcmp(data + i, sep, n) == 0) {
			*rest_off = i + n;
			return i;
		}
	*rest_off = size;
	return size;
}

#endif
