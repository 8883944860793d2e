/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Golden files for the argv and XML tests: tests/unit/golden/<rel>.
 * QC_REGENERATE=1 rewrites them from the current output (review the diff
 * before committing).
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "tests/unit/domain_golden.h"

char *golden_path(const char *rel)
{
	const char *src = getenv("QC_SRCDIR");

	return qc_xasprintf("%s/tests/unit/golden/%s", src && *src ? src : QC_TEST_SRCDIR, rel);
}

char *golden_read(const char *rel)
{
	cleanup_free char *path = golden_path(rel);
	struct qc_error e = {0};
	char *buf = NULL;

	if (qc_read_file(AT_FDCWD, path, 16u << 20, &buf, NULL, &e) < 0)
		return NULL;
	return buf;
}

int golden_check(const char *rel, const char *text, char *msg, size_t size)
{
	cleanup_free char *path = golden_path(rel), *want = NULL;
	const char *regen = getenv("QC_REGENERATE");
	struct qc_error e = {0};
	size_t line = 1;

	if (regen && strcmp(regen, "1") == 0) {
		if (qc_write_atomic(AT_FDCWD, path, text, strlen(text), 0644, &e) < 0) {
			snprintf(msg, size, "regenerate %s: %s", path, e.msg);
			return -1;
		}
		return 0;
	}
	if (qc_read_file(AT_FDCWD, path, 16u << 20, &want, NULL, &e) < 0) {
		snprintf(msg, size, "%s (run with QC_REGENERATE=1 to create it)", e.msg);
		return -1;
	}
	for (size_t i = 0;; i++) {
		if (want[i] != text[i]) {
			const char *a = want + i, *b = text + i;

			while (a > want && a[-1] != '\n')
				a--;
			while (b > text && b[-1] != '\n')
				b--;
			snprintf(msg, size, "%s:%zu differs:\n  want: %.*s\n  got:  %.*s", path,
				line, (int) strcspn(a, "\n"), a, (int) strcspn(b, "\n"), b);
			return -1;
		}
		if (!want[i])
			return 0;
		line += want[i] == '\n';
	}
}

char *golden_join_argv(char **argv)
{
	struct qc_buf b = {0};

	for (char **a = argv; *a; a++) {
		qc_buf_puts(&b, *a);
		qc_buf_putc(&b, '\n');
	}
	return qc_buf_steal(&b);
}

struct qc_disk *golden_add_disk(
	struct qc_domain *d, const char *name, const char *path, const char *format)
{
	struct qc_disk *k = qc_domain_add_disk(d);

	k->name = qc_xstrdup(name);
	k->path = qc_xstrdup(path);
	k->format = qc_xstrdup(format);
	return k;
}

struct qc_nic *golden_add_nic(struct qc_domain *d, const char *name, enum qc_nic_type type,
	const char *bridge, unsigned mac_index)
{
	struct qc_nic *n = qc_domain_add_nic(d);

	n->name = qc_xstrdup(name);
	n->type = type;
	if (bridge)
		n->bridge = qc_xstrdup(bridge);
	qc_net_mac_gen(d->uuid, mac_index, n->mac);
	return n;
}

struct qc_share *golden_add_share(struct qc_domain *d, const char *tag, const char *path)
{
	struct qc_share *s = qc_domain_add_share(d);

	s->tag = qc_xstrdup(tag);
	s->path = qc_xstrdup(path);
	return s;
}

struct qc_disk *golden_add_overlay(struct qc_domain *d)
{
	cleanup_free char *path = qc_xasprintf("/var/lib/qemuctl/vms/%s/disk0.qcow2", d->name);
	struct qc_disk *k = golden_add_disk(d, "disk0", path, "qcow2");

	k->role = QC_ROLE_ROOT;
	k->backing = qc_xstrdup("/var/lib/qemuctl/images/debian-12.qcow2");
	k->backing_format = qc_xstrdup("qcow2");
	k->backing_image = qc_xstrdup("debian-12");
	k->target = qc_xstrdup("vda");
	k->owned = true;
	return k;
}

struct qc_nic *golden_add_lan_nic(struct qc_domain *d, const char *name, unsigned mac_index)
{
	struct qc_nic *n = golden_add_nic(d, name, QC_NIC_NETWORK, "qc-lan", mac_index);

	n->network = qc_xstrdup("lan");
	n->ip = qc_xstrdup("10.77.0.5/24");
	return n;
}
