/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Growing disks (driver/resize.c); the public call is qc_vm_resize(). */
#ifndef QC_DRIVER_RESIZE_H
#define QC_DRIVER_RESIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

/*
 * The new size of disk (named in messages) that is cur bytes now, asked
 * size bytes (relative: cur + size), rounded up to 512.  Shrinking and
 * overflow are QC_ERR_INVALID with the sizes in the message.  Pure.
 */
int qc_driver_resize_plan(const char *disk, uint64_t cur, uint64_t size, bool relative,
	uint64_t *ret_new, struct qc_error *err);

#endif
