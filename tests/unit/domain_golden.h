/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef QC_CHECK_DOMAIN_GOLDEN_H
#define QC_CHECK_DOMAIN_GOLDEN_H

#include "driver/domain.h"
#include "util/util.h"

char *golden_path(const char *rel);
/* The file's text, or NULL. */
char *golden_read(const char *rel);
/* 0 when text equals the golden file; else -1 and msg names the first differing line. */
int golden_check(const char *rel, const char *text, char *msg, size_t size);
/* One argument per line. */
char *golden_join_argv(char **argv);

/*
 * Parts of the test domains (strings copied): a disk, a NIC with the MAC
 * qc_domain_mac() gives its index (bridge may be NULL), a share.
 */
struct qc_disk *golden_add_disk(
	struct qc_domain *d, const char *name, const char *path, const char *format);
struct qc_nic *golden_add_nic(struct qc_domain *d, const char *name, enum qc_nic_type type,
	const char *bridge, unsigned mac_index);
struct qc_share *golden_add_share(struct qc_domain *d, const char *tag, const char *path);
/* disk0: the root overlay, in the VM's directory, of the catalog image debian-12. */
struct qc_disk *golden_add_overlay(struct qc_domain *d);
/* A NIC on the network lan (bridge qc-lan) at 10.77.0.5/24. */
struct qc_nic *golden_add_lan_nic(struct qc_domain *d, const char *name, unsigned mac_index);

#endif
