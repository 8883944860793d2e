/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/domain_cache.c: domain.cache.json round-trips every field, is
 * used only while its stamp matches domain.xml, and never lets the tool
 * accept a definition the XML path refuses.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/xml_dl.h"
#include "tests/unit/check_main.h"
#include "tests/unit/domain_golden.h"
#include "tests/unit/unit.h"

/* a domain.xml stat the stamps below describe */
static struct stat xml_stat(void)
{
	struct stat st = {0};

	st.st_dev = 2049;
	st.st_ino = 10;
	st.st_size = 704;
	st.st_mtim.tv_sec = 1790000000;
	st.st_mtim.tv_nsec = 123456789;
	st.st_ctim.tv_sec = 1790000001;
	st.st_ctim.tv_nsec = 987654321;
	return st;
}

/*
 * A domain with every field set to something other than its default:
 * golden full.xml as the XML path reads it, and what that lacks.
 */
static struct qc_domain *everything(void)
{
	cleanup_free char *xml = golden_read("xml/full.xml");
	struct qc_domain *d = NULL;
	struct qc_error err = {0};
	struct qc_disk *k;

	ck_assert_ptr_nonnull(xml);
	ck_assert_qc_ok(
		qc_domain_from_xml(xml, strlen(xml), "full.xml", NULL, NULL, &d, &err), &err);
	d->machine = qc_xstrdup("pc-q35-7.2");
	d->accel = QC_ACCEL_TCG;
	d->loader = qc_xstrdup("/usr/share/OVMF/OVMF_CODE_4M.fd");
	d->nvram = qc_xstrdup("/var/lib/qemuctl/vms/full/nvram.fd");
	k = golden_add_disk(d, "disk3", "/srv/data,1.raw", "raw");
	k->device = QC_DEVICE_CDROM;
	k->bus = QC_BUS_SCSI;
	k->target = qc_xstrdup("sdc");
	free(d->nics[0].model);
	d->nics[0].model = qc_xstrdup("e1000e");
	golden_add_nic(d, "br", QC_NIC_BRIDGE, "br0", 3);
	d->serial_console = false;
	strcpy(d->video, "virtio");
	strcpy(d->vnc, "127.0.0.1");
	d->seed.network_config = qc_xstrdup("/var/lib/qemuctl/vms/full/network-config");
	d->extras = qc_xzalloc(2 * sizeof(*d->extras));
	d->n_extras = 2;
	d->extras[0].parent = qc_xstrdup("domain/devices");
	d->extras[0].xml = qc_xstrdup("<rng model='virtio'><backend model='random'/></rng>");
	d->extras[0].line = 42;
	d->extras[1].parent = qc_xstrdup("domain/devices/disk[0]");
	d->extras[1].xml = qc_xstrdup("cache=\"none\"");
	return d;
}

static char *encode(const struct qc_domain *d)
{
	struct stat st = xml_stat();
	struct qc_error err = {0};
	char *text = NULL;
	size_t len;

	ck_assert_qc_ok(qc_domain_cache_encode(d, &st, &text, &len, &err), &err);
	ck_assert_uint_eq(len, strlen(text));
	return text;
}

static char *to_xml(const struct qc_domain *d)
{
	struct qc_error err = {0};
	char *xml = NULL;

	ck_assert_qc_ok(qc_domain_to_xml(d, &xml, &err), &err);
	return xml;
}

/* decode(encode(d)): the same fields (encoded again) and the same domain.xml. */
static void round_trip(const struct qc_domain *d)
{
	cleanup_free char *text = encode(d), *again = NULL, *x1 = NULL, *x2 = NULL;
	cleanup_domain struct qc_domain *back = NULL;
	struct stat st = xml_stat();
	struct qc_error err = {0};

	ck_assert_qc_ok(qc_domain_cache_decode(text, strlen(text), &st, &back, &err), &err);
	again = encode(back);
	ck_assert_str_eq(again, text);
	x1 = to_xml(d);
	x2 = to_xml(back);
	ck_assert_str_eq(x2, x1);
	ck_assert_mem_eq(back->uuid, d->uuid, sizeof(d->uuid));
	ck_assert_str_eq(back->uuid_str, d->uuid_str);
}

START_TEST(cache_round_trip_every_field)
{
	cleanup_domain struct qc_domain *d = everything();

	round_trip(d);
	/* Secure Boot and a TPM: UEFI disk boot on x86_64's q35 */
	qc_free_all(d->kernel, d->initrd, d->cmdline);
	d->kernel = d->initrd = d->cmdline = NULL;
	free(d->loader);
	d->loader = qc_xstrdup("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
	d->secure_boot = true;
	d->tpm = true;
	strcpy(d->video, "vga");
	d->disks[3].bus = QC_BUS_SATA;
	round_trip(d);
	/* another arch */
	d->arch = QC_ARCH_AARCH64;
	free(d->machine);
	d->machine = qc_xstrdup("virt");
	d->secure_boot = false;
	free(d->loader);
	d->loader = qc_xstrdup("/usr/share/AAVMF/AAVMF_CODE.fd");
	for (size_t i = 0; i < d->n_disks; i++)
		d->disks[i].bus = QC_BUS_SCSI;
	round_trip(d);
}
END_TEST

/* Every golden definition, as the XML path reads it (extras and their lines included). */
START_TEST(cache_round_trip_golden)
{
	static const char *const files[] = {"xml/full.xml", "xml/libvirt-web.in.xml",
		"xml/aarch64-uefi.xml", "xml/tiny-bytes.xml", "xml/tpm-secure-boot.xml"};

	for (size_t i = 0; i < QC_ARRAY_SIZE(files); i++) {
		cleanup_free char *xml = golden_read(files[i]);
		cleanup_domain struct qc_domain *d = NULL;
		struct qc_error err = {0};

		ck_assert_ptr_nonnull(xml);
		ck_assert_qc_ok(
			qc_domain_from_xml(xml, strlen(xml), files[i], NULL, NULL, &d, &err), &err);
		round_trip(d);
	}
}
END_TEST

/* Any change of domain.xml's device, inode, size, mtime or ctime: stale. */
START_TEST(cache_stale_stamp)
{
	cleanup_domain struct qc_domain *d = everything();
	cleanup_free char *text = encode(d);

	for (int f = 0; f < 7; f++) {
		struct qc_domain *back = NULL;
		struct qc_error err = {0};
		struct stat st = xml_stat();

		switch (f) {
		case 0:
			st.st_dev++;
			break;
		case 1:
			st.st_ino++;
			break;
		case 2:
			st.st_size--;
			break;
		case 3:
			st.st_mtim.tv_nsec++;
			break;
		case 4:
			st.st_mtim.tv_sec++;
			break;
		case 5:
			st.st_ctim.tv_nsec++;
			break;
		case 6:
			st.st_ctim.tv_sec--;
			break;
		}
		ck_assert_int_eq(qc_domain_cache_decode(text, strlen(text), &st, &back, &err),
			-QC_ERR_INVALID);
		ck_assert_ptr_null(back);
		ck_assert_msg(strstr(err.msg, "stale"), "%s", err.msg);
	}
}
END_TEST

/* Replace the first "from" in text by "to". */
static char *edit(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);

	ck_assert_msg(at, "'%s' not in the cache", from);
	return qc_xasprintf("%.*s%s%s", (int) (at - text), text, to, at + strlen(from));
}

/* Each rewrite of a good cache that makes it unusable. */
static const struct {
	const char *from, *to;
} bad_edits[] = {
	{"\"v\":1", "\"v\":2"}, /* another version */
	{"\"v\":1", "\"v\":\"1\""},
	{"\"v\":1,", ""}, /* no version */
	{"\"stamp\":\"", "\"stamp\":\"1"},
	{"\"cpus\":3,", ""}, /* a member missing */
	{"\"tpm\":false,", ""},
	{"\"cpus\":3", "\"cpus\":3,\"cpus\":3"}, /* twice */
	{"\"cpus\":3", "\"cpus\":3,\"cpu\":1"}, /* unknown */
	{"\"cpus\":3", "\"cpus\":-3"}, /* of another type or range */
	{"\"cpus\":3", "\"cpus\":4294967296"},
	{"\"cpus\":3", "\"cpus\":3.5"},
	{"\"tpm\":false", "\"tpm\":0"},
	{"\"accel\":2", "\"accel\":3"},
	{"\"arch\":\"x86_64\"", "\"arch\":\"amd64\""}, /* an alias: not how it is written */
	{"\"arch\":\"x86_64\"", "\"arch\":\"sparc\""},
	{"\"kernel\":\"/boot/vmlinuz\"", "\"kernel\":null"},
	{"\"video\":\"virtio\"", "\"video\":\"virtio-gpu-pci\""}, /* longer than it can hold */
	{"\"role\":0", "\"role\":3"},
	{"\"bus\":1", "\"bus\":3"},
	{"\"device\":1", "\"device\":2"},
	{"\"type\":0", "\"type\":3"},
	{"\"guest_port\":22", "\"guest_port\":65536"},
	{"\"proto\":\"tcp\"", "\"proto\":\"tcpx\""},
	{"\"mac\":\"", "\"mac\":\"52:54:00:00:00:00:"},
	{"\"uuid_str\":\"", "\"uuid_str\":\"x"},
	{"\"disks\":[", "\"disks\":{\"a\":1},\"x\":["},
	{"\"fwds\":[", "\"fwds\":[1,"},
	{"\"ssh_keys\":[", "\"ssh_keys\":[1,"},
	{"\"seed\":{", "\"seed\":{\"enabled\":true,"},
	{"\"line\":42", "\"line\":-1"},
	{"\"extras\":[", "\"extras\":[{}"},
	{"\"disks\":[", "\"disks\":[],\"disks\":["}, /* a list twice */
	{"\"arch\":", "\"arch\":\"x86_64\",\"arch\":"},
	{"\"v\":1", "\"v\":1,\"v\":1"},
	{"\"fwds\":[", "\"fwds\":[],\"fwds\":["},
	{"\"ssh_keys\":[", "\"ssh_keys\":[],\"ssh_keys\":["},
};

START_TEST(cache_unusable)
{
	cleanup_domain struct qc_domain *d = everything();
	cleanup_free char *text = NULL;
	struct stat st = xml_stat();

	d->cpus = 3;
	text = encode(d);
	for (size_t i = 0; i < QC_ARRAY_SIZE(bad_edits); i++) {
		cleanup_free char *bad = edit(text, bad_edits[i].from, bad_edits[i].to);
		struct qc_domain *back = NULL;
		struct qc_error err = {0};

		ck_assert_msg(qc_domain_cache_decode(bad, strlen(bad), &st, &back, &err) < 0,
			"edit %zu (%s -> %s) was accepted", i, bad_edits[i].from, bad_edits[i].to);
		ck_assert_ptr_null(back);
		ck_assert_str_ne(err.msg, "");
	}
}
END_TEST

/* Every truncation, garbage and a huge file: refused, nothing returned. */
START_TEST(cache_truncated_garbage_huge)
{
	cleanup_domain struct qc_domain *d = everything();
	cleanup_free char *text = encode(d), *huge = NULL;
	struct stat st = xml_stat();
	size_t len = strlen(text);
	static const char *const garbage[] = {"", "null", "[]", "{}", "1", "\"v\"", "{\"v\":1}",
		"{\"v\":1,\"stamp\":\"x\"}", "\xff\xfe{", "{\"v\":1} {}"};

	for (size_t n = 0; n < len; n++) {
		struct qc_domain *back = NULL;

		ck_assert_int_lt(qc_domain_cache_decode(text, n, &st, &back, NULL), 0);
		ck_assert_ptr_null(back);
	}
	for (size_t i = 0; i < QC_ARRAY_SIZE(garbage); i++) {
		struct qc_domain *back = NULL;

		ck_assert_int_lt(
			qc_domain_cache_decode(garbage[i], strlen(garbage[i]), &st, &back, NULL),
			0);
		ck_assert_ptr_null(back);
	}
	{ /* valid JSON, but more than the cap: refused before parsing */
		struct qc_domain *back = NULL;
		struct qc_error err = {0};
		size_t big = QC_DOMAIN_CACHE_MAX + 1;

		huge = qc_xmalloc(big + 1);
		memset(huge, ' ', big);
		memcpy(huge, text, len);
		huge[big] = 0;
		ck_assert_int_eq(qc_domain_cache_decode(huge, big, &st, &back, &err), -EFBIG);
		ck_assert_ptr_null(back);
	}
}
END_TEST

/* ---------------------------------------------------- on disk, trusted or not */

static char *root;
static char vm_dir[256], xml_path[300], cache_path[300];

static void fs_setup(void)
{
	root = unit_mkdtemp();
	snprintf(vm_dir, sizeof(vm_dir), "%s/vms", root);
	ck_assert_int_eq(mkdir(vm_dir, 0700), 0);
	snprintf(vm_dir, sizeof(vm_dir), "%s/vms/v", root);
	ck_assert_int_eq(mkdir(vm_dir, 0700), 0);
	snprintf(xml_path, sizeof(xml_path), "%s/%s", vm_dir, QC_VM_DOMAIN);
	snprintf(cache_path, sizeof(cache_path), "%s/%s", vm_dir, QC_VM_DOMAIN_CACHE);
}

static void fs_teardown(void)
{
	unit_rmdir(root);
	root = NULL;
}

/* VM v: a kernel boot with an owned disk in its directory. */
static struct qc_domain *good_vm(void)
{
	struct qc_domain *d = qc_domain_new();
	cleanup_free char *disk = qc_xasprintf("%s/disk1.qcow2", vm_dir);
	struct qc_disk *k;

	d->name = qc_xstrdup("v");
	qc_domain_gen_uuid(d);
	d->arch = QC_ARCH_X86_64;
	d->kernel = qc_xstrdup("/boot/vmlinuz");
	d->memory = 64 * MiB;
	k = golden_add_disk(d, "disk1", disk, "qcow2");
	k->owned = true;
	k->target = qc_xstrdup("vda");
	d->seed.enabled = false;
	return d;
}

static int open_vm_dir(void)
{
	int dfd = open(vm_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_ge(dfd, 0);
	return dfd;
}

/*
 * domain.xml of d, and its cache, as qc_domain_save leaves them (without
 * its fsyncs, which cost most of this test's time on a busy disk).
 */
static void save(const struct qc_domain *d)
{
	cleanup_close int dfd = open_vm_dir();
	cleanup_free char *xml = to_xml(d);
	struct qc_error err = {0};

	ck_assert_qc_ok(qc_write_atomic_at(
				dfd, QC_VM_DOMAIN, xml, strlen(xml), 0600, QC_WRITE_NOSYNC, &err),
		&err);
	qc_domain_cache_save(dfd, d);
}

static struct stat stat_xml(void)
{
	struct stat st;

	ck_assert_int_eq(lstat(xml_path, &st), 0);
	return st;
}

/* Put a cache of d, stamped as current, beside domain.xml. */
static void inject(const struct qc_domain *d)
{
	cleanup_close int dfd = open_vm_dir();
	struct stat st = stat_xml();
	struct qc_error err = {0};

	ck_assert_qc_ok(qc_domain_cache_write(dfd, d, &st, &err), &err);
}

static struct qc_domain *load(struct qc_error *err)
{
	struct qc_domain *d = NULL;

	if (qc_domain_load(xml_path, NULL, NULL, &d, err) < 0)
		ck_assert_ptr_null(d);
	return d;
}

static int cache_load(struct qc_error *err)
{
	struct stat st = stat_xml();
	struct qc_domain *d = NULL;
	int r = qc_domain_cache_load(root, "v", &st, &d, err);

	if (r < 0)
		ck_assert_ptr_null(d);
	qc_domain_free(d);
	return r;
}

/* The writers leave a cache that is used: no XML read (a changed disk path proves it). */
START_TEST(cache_used_while_current)
{
	cleanup_domain struct qc_domain *d = good_vm(), *got = NULL, *other = NULL;
	struct qc_error err = {0};
	struct stat st;

	{ /* the writer of domain.xml writes the cache */
		cleanup_close int dfd = open_vm_dir();

		ck_assert_qc_ok(qc_domain_save(d, dfd, QC_VM_DOMAIN, &err), &err);
	}
	ck_assert_int_eq(stat(cache_path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_qc_ok(cache_load(&err), &err);
	/* a cache that differs from the XML but checks out is what load returns */
	other = qc_domain_copy(d);
	free(other->kernel);
	other->kernel = qc_xstrdup("/boot/other");
	inject(other);
	got = load(&err);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got->kernel, "/boot/other");
}
END_TEST

/*
 * Each makes a definition the XML path refuses (or, for the video, reads
 * differently); xml: the same edit of domain.xml's text where the writer
 * refuses to write it.
 */
static void bad_owned_disk(struct qc_domain *d)
{
	free(d->disks[0].path);
	d->disks[0].path = qc_xstrdup("/etc/passwd");
}
static void bad_kernel_comma(struct qc_domain *d)
{
	free(d->kernel);
	d->kernel = qc_xstrdup("/boot/vmlinuz,if=none");
}
static void bad_machine_dash(struct qc_domain *d)
{
	d->machine = qc_xstrdup("-readconfig");
}
static void bad_name(struct qc_domain *d)
{
	free(d->name);
	d->name = qc_xstrdup("other");
}
static void bad_nic_model(struct qc_domain *d)
{
	golden_add_nic(d, "net0", QC_NIC_USER, NULL, 1)->model = qc_xstrdup("ne2k_pci");
}
static void bad_user_data(struct qc_domain *d)
{
	d->seed.user_data = qc_xstrdup("/etc/shadow");
}
static void bad_nvram_in_root(struct qc_domain *d)
{
	d->nvram = qc_xasprintf("%s/images/x.fd", root);
}
static void bad_backing(struct qc_domain *d)
{
	d->disks[0].backing = qc_xasprintf("%s/vms/w/disk0.qcow2", root);
	d->disks[0].backing_format = qc_xstrdup("qcow2");
}
static void bad_video(struct qc_domain *d)
{
	strcpy(d->video, "cirrus");
}
static void bad_title(struct qc_domain *d)
{
	d->title = qc_xstrdup("a\x1b[2Jb");
}
static void bad_memory(struct qc_domain *d)
{
	d->memory = 0;
}
static void bad_initrd_no_kernel(struct qc_domain *d)
{
	free(d->kernel);
	d->kernel = NULL;
	d->initrd = qc_xstrdup("/boot/initrd");
}

static const struct {
	void (*fn)(struct qc_domain *);
	const char *xml_from, *xml_to;
} refused[] = {
	{bad_owned_disk, NULL, NULL},
	{bad_kernel_comma, "<kernel>/boot/vmlinuz<", "<kernel>/boot/vmlinuz,if=none<"},
	{bad_machine_dash, "<type arch='x86_64'", "<type arch='x86_64' machine='-readconfig'"},
	{bad_name, NULL, NULL},
	{bad_nic_model, NULL, NULL},
	{bad_user_data, NULL, NULL},
	{bad_nvram_in_root, NULL, NULL},
	{bad_backing, NULL, NULL},
	{bad_video, NULL, NULL},
	{bad_title, NULL, NULL},
	{bad_memory, "<memory unit='KiB'>65536<", "<memory unit='KiB'>0<"},
	{bad_initrd_no_kernel, "<kernel>/boot/vmlinuz</kernel>", "<initrd>/boot/initrd</initrd>"},
};

/*
 * A refused definition in a cache with a current stamp: the cache is not
 * used, the load is domain.xml's (and rewrites the cache from it).
 */
START_TEST(cache_never_accepts_what_xml_refuses)
{
	cleanup_domain struct qc_domain *good = good_vm(), *bad = qc_domain_copy(good), *got = NULL;
	cleanup_free char *want = NULL, *have = NULL;
	struct qc_error err = {0};

	save(good);
	refused[_i].fn(bad);
	inject(bad);
	ck_assert_int_lt(cache_load(&err), 0);
	ck_assert_str_ne(err.msg, "");
	got = load(&err);
	ck_assert_msg(got, "%s", err.msg);
	want = to_xml(good);
	have = to_xml(got);
	ck_assert_str_eq(have, want);
	ck_assert_qc_ok(cache_load(&err), &err);
}
END_TEST

/*
 * The same definition in domain.xml and in a current cache: load gives
 * what the XML path gives for domain.xml, refusal or definition.
 */
START_TEST(cache_xml_verdict_wins)
{
	cleanup_domain struct qc_domain *good = good_vm(), *bad = qc_domain_copy(good),
					*from_xml = NULL, *got = NULL;
	cleanup_free char *xml = NULL, *a = NULL, *b = NULL;
	cleanup_close int dfd = open_vm_dir();
	struct qc_error err = {0}, xerr = {0};
	int xr, r;

	refused[_i].fn(bad);
	if (refused[_i].xml_from) {
		cleanup_free char *g = to_xml(good);

		ck_assert_int_lt(qc_domain_to_xml(bad, &xml, NULL), 0);
		xml = edit(g, refused[_i].xml_from, refused[_i].xml_to);
	} else {
		xml = to_xml(bad);
	}
	ck_assert_qc_ok(qc_write_atomic_at(
				dfd, QC_VM_DOMAIN, xml, strlen(xml), 0600, QC_WRITE_NOSYNC, &err),
		&err);
	inject(bad);
	xr = qc_domain_from_xml_at(xml, strlen(xml), xml_path, root, NULL, NULL, &from_xml, &xerr);
	if (xr == 0 && strcmp(from_xml->name, "v") != 0)
		xr = -QC_ERR_INVALID; /* qc_domain_load's own check of the directory */
	r = qc_domain_load(xml_path, NULL, NULL, &got, &err);
	ck_assert_int_eq(r, xr);
	if (xr < 0) {
		ck_assert_ptr_null(got);
		ck_assert_msg(strstr(err.msg, xml_path), "%s", err.msg);
		return;
	}
	a = to_xml(from_xml);
	b = to_xml(got);
	ck_assert_str_eq(b, a);
}
END_TEST

/* Not a regular 0600 file of ours, or too large: not read; the XML is. */
START_TEST(cache_file_not_ours)
{
	cleanup_domain struct qc_domain *d = good_vm(), *got = NULL;
	struct qc_error err = {0};

	save(d);
	switch (_i) {
	case 0:
		ck_assert_int_eq(chmod(cache_path, 0644), 0);
		break;
	case 1:
		ck_assert_int_eq(chmod(cache_path, 0400), 0);
		break;
	case 2: { /* a symlink to a good cache */
		cleanup_free char *real = qc_xasprintf("%s/real.json", root);

		ck_assert_int_eq(rename(cache_path, real), 0);
		ck_assert_int_eq(symlink(real, cache_path), 0);
		break;
	}
	case 3: { /* valid JSON padded beyond the cap */
		FILE *f = fopen(cache_path, "a");

		ck_assert_ptr_nonnull(f);
		for (unsigned n = 0; n <= QC_DOMAIN_CACHE_MAX; n += 64)
			fputs("                                                                ",
				f);
		ck_assert_int_eq(fclose(f), 0);
		break;
	}
	case 4:
		ck_assert_int_eq(unlink(cache_path), 0);
		ck_assert_int_eq(mkdir(cache_path, 0700), 0);
		break;
	case 5: /* someone else's (root only) */
		if (geteuid() != 0)
			return;
		ck_assert_int_eq(chown(cache_path, 65534, 65534), 0);
		break;
	}
	ck_assert_int_lt(cache_load(&err), 0);
	got = load(&err);
	ck_assert_msg(got, "%s", err.msg);
	ck_assert_str_eq(got->name, "v");
}
END_TEST

/* domain.xml touched, rewritten or replaced: the XML is read, and the cache follows. */
START_TEST(cache_follows_xml)
{
	cleanup_domain struct qc_domain *d = good_vm(), *other = NULL, *got = NULL;
	cleanup_free char *xml = NULL;
	struct qc_error err = {0};
	struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
	struct stat before, after;

	save(d);
	before = stat_xml();
	other = qc_domain_copy(d);
	other->cpus = 2;
	xml = to_xml(other);
	{ /* rewritten in place, same inode and (cpus 1 -> 2) size */
		int fd = open(xml_path, O_WRONLY | O_TRUNC | O_CLOEXEC);

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, xml, strlen(xml)), (ssize_t) strlen(xml));
		ck_assert_int_eq(close(fd), 0);
	}
	after = stat_xml();
	ck_assert_uint_eq(after.st_ino, before.st_ino);
	ck_assert_int_lt(cache_load(&err), 0);
	got = load(&err);
	ck_assert_msg(got, "%s", err.msg);
	ck_assert_uint_eq(got->cpus, 2);
	ck_assert_qc_ok(cache_load(&err), &err);
	/* touched only */
	ck_assert_int_eq(utimensat(AT_FDCWD, xml_path, ts, 0), 0);
	ck_assert_int_lt(cache_load(&err), 0);
	qc_domain_free(got);
	got = load(&err);
	ck_assert_msg(got, "%s", err.msg);
	ck_assert_qc_ok(cache_load(&err), &err);
}
END_TEST

/* libxml2 loaded once in the runner, not again in every forked test */
static void load_libxml2(void)
{
	struct qc_error err = {0};

	ck_assert_qc_ok(qc_xml_load(&err), &err);
}

static Suite *domain_cache_suite(void)
{
	Suite *s = suite_create("domain_cache");
	TCase *tc = unit_tcase(s, "format", cache_round_trip_every_field, cache_round_trip_golden,
		cache_stale_stamp, cache_unusable, cache_truncated_garbage_huge, NULL);
	tcase_add_unchecked_fixture(tc, load_libxml2, NULL);
	tc = unit_tcase(s, "disk", cache_used_while_current, cache_follows_xml, NULL);
	tcase_add_unchecked_fixture(tc, load_libxml2, NULL);
	tcase_add_checked_fixture(tc, fs_setup, fs_teardown);
	tcase_add_loop_test(tc, cache_never_accepts_what_xml_refuses, 0, QC_ARRAY_SIZE(refused));
	tcase_add_loop_test(tc, cache_xml_verdict_wins, 0, QC_ARRAY_SIZE(refused));
	tcase_add_loop_test(tc, cache_file_not_ours, 0, 6);
	return s;
}

UNIT_MAIN(domain_cache_suite)
