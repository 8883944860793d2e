/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vms/NAME/domain.cache.json, the stamped parsed form of a definition
 * (driver/domain_cache.c), which start and info read instead of the XML.
 * Every "@ROOT@" in the input becomes a state root of the harness's own,
 * so the seeds (real caches with their root replaced) name files there.
 *
 * - What decodes encodes again, and that decodes to the same bytes.
 * - What the whole load accepts (the file as vms/NAME/domain.cache.json,
 *   current, and every check the XML path runs) the XML path accepts too:
 *   the definition written as XML loads again from that root.  A cache
 *   must never make qemuctl act on what domain.xml could not say.
 */
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/domain.h"
#include "tests/fuzz/fuzz.h"

static char root[64];
static const struct stat xml_st = {
	.st_dev = 1,
	.st_ino = 2,
	.st_size = 3,
	.st_mtim = {4, 5},
	.st_ctim = {6, 7},
};

/* The root is empty again after each input: removed at exit. */
static void remove_root(void)
{
	char vms[80];

	snprintf(vms, sizeof(vms), "%s/vms", root);
	rmdir(vms);
	rmdir(root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char vms[80];

	(void) argc;
	(void) argv;
	snprintf(root, sizeof(root), "/tmp/qc-fuzz-dcache.XXXXXX");
	FUZZ_CHECK(mkdtemp(root) != NULL, "mkdtemp");
	snprintf(vms, sizeof(vms), "%s/vms", root);
	FUZZ_CHECK(mkdir(vms, 0700) == 0, "mkdir %s", vms);
	atexit(remove_root);
	return 0;
}

/* data with every "@ROOT@" replaced by root. */
static char *with_root(const uint8_t *data, size_t size, size_t *ret_len)
{
	static const char mark[] = "@ROOT@";
	size_t m = sizeof(mark) - 1, r = strlen(root), n = 0;
	char *out = qc_xmalloc(size / m * r + size + 1);

	for (size_t i = 0; i < size;) {
		if (i + m <= size && memcmp(data + i, mark, m) == 0) {
			memcpy(out + n, root, r);
			n += r;
			i += m;
		} else {
			out[n++] = (char) data[i++];
		}
	}
	out[n] = 0;
	*ret_len = n;
	return out;
}

static void round_trip(const struct qc_domain *d)
{
	cleanup_domain struct qc_domain *d2 = NULL;
	cleanup_free char *t1 = NULL, *t2 = NULL;
	struct qc_error err = {0};
	size_t n1 = 0, n2 = 0;
	int r;

	r = qc_domain_cache_encode(d, &xml_st, &t1, &n1, &err);
	FUZZ_CHECK(r == 0, "a decoded domain does not encode: %s", err.msg);
	r = qc_domain_cache_decode(t1, n1, &xml_st, &d2, &err);
	FUZZ_CHECK(r == 0, "own encoding does not decode: %s\n%s", err.msg, t1);
	r = qc_domain_cache_encode(d2, &xml_st, &t2, &n2, &err);
	FUZZ_CHECK(r == 0, "re-decoded domain does not encode: %s", err.msg);
	FUZZ_CHECK(n1 == n2 && memcmp(t1, t2, n1) == 0,
		"round trip not stable:\n--- first\n%s\n--- second\n%s", t1, t2);
}

/* The whole load of text as VM name's cache; if it takes it, so must the XML. */
static void load_as_xml_would(const char *name, const char *text, size_t len)
{
	cleanup_domain struct qc_domain *d = NULL, *x = NULL;
	cleanup_free char *dir = qc_xasprintf("%s/vms/%s", root, name);
	cleanup_free char *path = qc_xasprintf("%s/%s", dir, QC_VM_DOMAIN_CACHE);
	cleanup_free char *xml = NULL;
	struct qc_error err = {0};
	int fd, r;

	FUZZ_CHECK(mkdir(dir, 0700) == 0, "mkdir %s", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0, "create %s", path);
	FUZZ_CHECK(write(fd, text, len) == (ssize_t) len, "write %s", path);
	close(fd);
	r = qc_domain_cache_load(root, name, &xml_st, &d, &err);
	fuzz_check_error(r, &err);
	unlink(path);
	rmdir(dir);
	if (r < 0)
		return;
	r = qc_domain_to_xml(d, &xml, &err);
	FUZZ_CHECK(r == 0, "a loaded cache does not write as XML: %s", err.msg);
	r = qc_domain_from_xml_at(xml, strlen(xml), "cache.xml", root, NULL, NULL, &x, &err);
	FUZZ_CHECK(r == 0, "the cache was taken, the XML path refuses it: %s\n%s", err.msg, xml);
	FUZZ_CHECK(strcmp(x->name, name) == 0, "the XML names VM '%s', not '%s'", x->name, name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cleanup_domain struct qc_domain *d = NULL;
	cleanup_free char *text = NULL;
	struct qc_error err = {0};
	size_t len;
	int r;

	text = with_root(data, size, &len);
	r = qc_domain_cache_decode(text, len, &xml_st, &d, &err);
	fuzz_check_error(r, &err);
	if (r < 0)
		return 0;
	round_trip(d);
	if (d->name && qc_validate_name("VM name", d->name, NULL) == 0)
		load_as_xml_would(d->name, text, len);
	return 0;
}
