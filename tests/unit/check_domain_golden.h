/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef QC_CHECK_DOMAIN_GOLDEN_H
#define QC_CHECK_DOMAIN_GOLDEN_H

#include "util/util.h"

char *golden_path(const char *rel);
/* The file's text, or NULL. */
char *golden_read(const char *rel);
/* 0 when text equals the golden file; else -1 and msg names the first differing line. */
int golden_check(const char *rel, const char *text, char *msg, size_t size);
/* One argument per line. */
char *golden_join_argv(char **argv);

#endif
