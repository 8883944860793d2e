/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Backing-image reference counting: which VMs rest on which catalog
 * images, so that an image in use is never removed or replaced.  One pass
 * over <root>/vms/ answers for any number of images; what a VM's disks
 * rest on comes from the caller (only driver/ reads domain.xml), with
 * qc_refs_overlay_backings() as the fallback that asks the overlays.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "storage/storage.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool strv_has(const struct qc_strv *v, const char *s)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->v[i], s) == 0)
			return true;
	return false;
}

void qc_refs_overlay_backings(int vms_dfd, const char *vm_dir, const char *vm, struct qc_strv *out)
{
	cleanup_dir DIR *d = NULL;
	struct dirent *e;

	if (qc_opendir_at(vms_dfd, vm, O_NOFOLLOW, &d) < 0)
		return;
	while ((e = qc_readdir(d))) {
		cleanup_free char *p = NULL;
		cleanup_img_info struct qc_img_info *info = NULL;

		if (!qc_str_has_suffix(e->d_name, ".qcow2"))
			continue;
		p = qc_xasprintf("%s/%s", vm_dir, e->d_name);
		if (qc_img_info(p, "qcow2", false, &info, NULL) == 0 && info->chain[0].backing)
			qc_strv_push(out, info->chain[0].backing);
	}
}

int qc_refs_users(const char *root, int vms_dfd, const char *const *names, size_t n,
	qc_refs_vm_fn backings, void *opaque, char ***ret, struct qc_error *err)
{
	cleanup_free char *aroot = NULL;
	cleanup_dir DIR *d = NULL;
	struct qc_strv *users = qc_xzalloc((n ? n : 1) * sizeof(*users));
	char **paths = qc_xzalloc((n ? n : 1) * sizeof(*paths));
	struct dirent *e;
	int r = 0;

	/* The same spelling of the path as the catalog hands out (qc_abspath). */
	if (qc_abspath(root, &aroot, NULL) < 0)
		aroot = qc_xstrdup(root);
	for (size_t i = 0; i < n; i++)
		paths[i] = qc_xasprintf("%s/images/%s.qcow2", aroot, names[i]);
	if (vms_dfd >= 0 && (r = qc_opendir_at(vms_dfd, NULL, 0, &d)) < 0)
		r = qc_error_errno(err, -r, "list VMs");
	/* ".create-*" dirs are VMs being assembled; they count too. */
	while (d && r == 0 && (e = qc_readdir(d))) {
		cleanup_strvec struct qc_strv images = {0};
		cleanup_strvec struct qc_strv backs = {0};

		backings(vms_dfd, e->d_name, &images, &backs, opaque);
		for (size_t i = 0; i < n; i++)
			if (strv_has(&images, names[i]) || strv_has(&backs, paths[i]))
				qc_strv_push(&users[i], e->d_name);
	}
	for (size_t i = 0; i < n; i++) {
		if (r == 0) {
			if (users[i].n)
				qsort(users[i].v, users[i].n, sizeof(char *), cmp_str);
			ret[i] = users[i].n ? qc_strv_steal(&users[i]) : qc_xzalloc(sizeof(char *));
		}
		qc_strv_clear(&users[i]);
		free(paths[i]);
	}
	free(users);
	free(paths);
	return r;
}
