/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared between driver/xml.c (parser) and driver/xml_save.c (writer). */
#ifndef QC_XML_INTERNAL_H
#define QC_XML_INTERNAL_H

#include "driver/domain.h"

/* Namespace of qemuctl's own data inside <metadata>. */
#define QC_XML_NS "https://qemuctl.dev/xmlns/domain/1"

/* Paths of the elements the writer emits; extras hang off these. */
#define QC_XP_DISK "domain/devices/disk[%zu]"
#define QC_XP_NIC "domain/devices/interface[%zu]"
#define QC_XP_SHARE "domain/devices/filesystem[%zu]"

/*
 * Mapping between QEMU's 9p security_model and libvirt's accessmode.
 * libvirt: passthrough (default), mapped (= mapped-xattr), squash (= none).
 */
const char *qc_xml_accessmode_to_model(const char *accessmode);
const char *qc_xml_model_to_accessmode(const char *model);

#endif
