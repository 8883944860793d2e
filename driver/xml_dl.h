/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libxml2 is dlopen()ed on its first use (driver/xml_dl.c), not linked.
 * Internal to driver/.
 */
#ifndef QC_DRIVER_XML_DL_H
#define QC_DRIVER_XML_DL_H

#include "util/util.h"

/*
 * Load libxml2 (once): 0, or QC_ERR_UNSUPPORTED with why it cannot be
 * loaded and the package to install.
 */
int qc_xml_load(struct qc_error *err);

#endif
