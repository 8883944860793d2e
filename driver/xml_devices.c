/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * domain.xml devices: <disk>, <interface>, <filesystem>, <serial>/<console>
 * (the parser's helpers live in driver/xml.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "driver/domain.h"
#include "driver/xml_devices.h"
#include "driver/xml_meta.h"
#include "driver/xml_node.h"
#include "net/net.h"

/* ------------------------------------------------------------- devices */

static void remember(xmlNodePtr **arr, size_t n, xmlNodePtr node)
{
	*arr = qc_xrealloc(*arr, (n + 1) * sizeof(**arr));
	(*arr)[n] = node;
}

/* The first <alias name='ua-X'/> names the device X; other aliases are kept quietly. */
static int parse_alias(
	struct qc_xml_parser *p, xmlNodePtr n, const char *path, const char *what, char **name)
{
	static const char *const aa[] = {"name", NULL};

	for (xmlNodePtr c = n->children; c; c = c->next) {
		cleanup_free char *v = NULL, *ap = NULL;

		if (!qc_xml_is(c, "alias"))
			continue;
		v = qc_xml_prop(c, "name");
		if (*name || !v || !qc_str_has_prefix(v, "ua-")) {
			qc_xml_keep_elem(p, c, path, true);
			continue;
		}
		if (qc_validate_name(what, v + 3, p->err) < 0)
			return qc_error_prefix(p->err, "%s:%ld: <alias>", p->file, qc_xml_line(c));
		ap = qc_xasprintf("%s/alias", path);
		qc_xml_walk_attrs(p, c, ap, aa, NULL);
		*name = qc_xstrdup(v + 3);
	}
	return 0;
}

static void keep_device(
	struct qc_xml_parser *p, xmlNodePtr n, const char *what, const char *value, const char *why)
{
	qc_xml_keep_elem(p, n, "domain/devices", true);
	if (value)
		qc_xml_warn(p, n, "<%s %s='%s'> is not supported%s; kept as is", n->name, what,
			value, why);
	else
		qc_xml_warn(p, n, "<%s> %s is not supported%s; kept as is", n->name, what, why);
}

static bool empty_elem(xmlNodePtr n)
{
	if (n->properties)
		return false;
	for (xmlNodePtr c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return false;
	return true;
}

static int parse_backing(
	struct qc_xml_parser *p, xmlNodePtr bs, const char *dpath, struct qc_disk *k)
{
	static const char *const attrs[] = {"type", NULL};
	static const char *const elems[] = {"format", "source", "backingStore", NULL};
	static const char *const quiet[] = {"@index", NULL};
	static const char *const fa[] = {"type", NULL};
	static const char *const sa[] = {"file", NULL};
	cleanup_free char *path = qc_xasprintf("%s/backingStore", dpath);
	cleanup_free char *type = qc_xml_prop(bs, "type");
	xmlNodePtr f = qc_xml_child(bs, "format"), s = qc_xml_child(bs, "source"),
		   next = qc_xml_child(bs, "backingStore");
	int r;

	if (empty_elem(bs))
		return 0; /* <backingStore/>: no backing file */
	if ((r = qc_xml_walk(p, bs, path, attrs, elems, quiet)) < 0)
		return r;
	if (type && strcmp(type, "file") != 0)
		return qc_xml_err(p, bs, "<backingStore type='%s'> is not supported (file)", type);
	if (!s || !(k->backing = qc_xml_prop(s, "file")))
		return qc_xml_err(p, bs, "<backingStore> has no <source file>");
	if ((r = qc_xml_walk_child(p, s, path, sa)) < 0)
		return r;
	if (f) {
		if ((r = qc_xml_walk_child(p, f, path, fa)) < 0)
			return r;
		k->backing_format = qc_xml_prop(f, "type");
	}
	if (!k->backing_format)
		return qc_xml_err(p, bs, "<backingStore> has no <format type> (qcow2 or raw)");
	/* a deeper chain is QEMU's business (it reads it from the image): keep it */
	if (next && !empty_elem(next))
		qc_xml_keep_elem(p, next, path, true);
	return 0;
}

static int parse_disk(struct qc_xml_parser *p, xmlNodePtr n, xmlNodePtr **nodes)
{
	static const char *const attrs[] = {"type", "device", NULL};
	static const char *const elems[] = {
		"driver", "source", "backingStore", "target", "readonly", "alias*", NULL};
	static const char *const da[] = {"name", "type", NULL};
	static const char *const sa[] = {"file", NULL};
	static const char *const ta[] = {"dev", "bus", NULL};
	struct qc_domain *d = p->d;
	cleanup_free char *type = qc_xml_prop(n, "type"), *device = qc_xml_prop(n, "device");
	xmlNodePtr drv = qc_xml_child(n, "driver"), src = qc_xml_child(n, "source"),
		   tgt = qc_xml_child(n, "target"), c;
	cleanup_free char *file = src ? qc_xml_prop(src, "file") : NULL;
	cleanup_free char *dev = tgt ? qc_xml_prop(tgt, "dev") : NULL,
			  *bus = tgt ? qc_xml_prop(tgt, "bus") : NULL;
	cleanup_free char *path = NULL, *dname = NULL, *dtype = NULL;
	enum qc_disk_bus b;
	struct qc_disk *k;
	size_t idx = d->n_disks;
	int r;

	if (type && strcmp(type, "file") != 0) {
		keep_device(p, n, "type", type, " (only type='file')");
		return 0;
	}
	if (device && strcmp(device, "disk") != 0 && strcmp(device, "cdrom") != 0) {
		keep_device(p, n, "device", device, " (disk or cdrom)");
		return 0;
	}
	if (!file) {
		keep_device(p, n, "without <source file> (an empty cdrom?)", NULL, "");
		return 0;
	}
	if (!dev)
		return qc_xml_err(p, n, "<disk> has no <target dev>");
	if (!bus)
		bus = qc_xstrdup(qc_str_has_prefix(dev, "vd")	? "virtio"
				 : qc_str_has_prefix(dev, "sd") ? "scsi"
								: "ide");
	if (strcmp(bus, "virtio") == 0) {
		b = QC_BUS_VIRTIO;
	} else if (strcmp(bus, "scsi") == 0) {
		b = QC_BUS_SCSI;
	} else if (strcmp(bus, "sata") == 0) {
		b = QC_BUS_SATA;
	} else {
		keep_device(p, n, "on bus", NULL, "");
		return 0;
	}
	for (size_t i = 0; i < d->n_disks; i++)
		if (strcmp(d->disks[i].target, dev) == 0)
			return qc_xml_err(p, tgt, "duplicate disk target '%s'", dev);
	if (drv) {
		dname = qc_xml_prop(drv, "name");
		dtype = qc_xml_prop(drv, "type");
		if (dname && strcmp(dname, "qemu") != 0)
			return qc_xml_err(p, drv, "disk '%s': driver '%s' is not supported (qemu)",
				dev, dname);
		if (dtype && strcmp(dtype, "qcow2") != 0 && strcmp(dtype, "raw") != 0)
			return qc_xml_err(p, drv,
				"disk '%s': format '%s' is not supported (qcow2 or raw)", dev,
				dtype);
	}

	k = qc_domain_add_disk(d);
	remember(nodes, idx, n);
	path = qc_xasprintf(QC_XP_DISK, idx);
	k->device = device && strcmp(device, "cdrom") == 0 ? QC_DEVICE_CDROM : QC_DEVICE_DISK;
	k->bus = b;
	k->role = QC_ROLE_DATA;
	k->path = TAKE_PTR(file);
	k->target = TAKE_PTR(dev);
	k->format = qc_xstrdup(dtype ? dtype : "raw");
	k->readonly = qc_xml_child(n, "readonly") != NULL;
	if ((r = qc_xml_walk(p, n, path, attrs, elems, NULL)) < 0)
		return r;
	if (drv && (r = qc_xml_walk_child(p, drv, path, da)) < 0)
		return r;
	if ((r = qc_xml_walk_child(p, src, path, sa)) < 0)
		return r;
	if ((r = qc_xml_walk_child(p, tgt, path, ta)) < 0)
		return r;
	if ((c = qc_xml_child(n, "readonly"))) {
		if ((r = qc_xml_walk_child(p, c, path, NULL)) < 0)
			return r;
	}
	if ((c = qc_xml_child(n, "backingStore")) && (r = parse_backing(p, c, path, k)) < 0)
		return r;
	return parse_alias(p, n, path, "disk", &k->name);
}

static int parse_nic(struct qc_xml_parser *p, xmlNodePtr n, xmlNodePtr **nodes)
{
	static const char *const attrs[] = {"type", NULL};
	static const char *const elems[] = {"mac", "source", "model", "alias*", NULL};
	static const char *const ma[] = {"address", NULL};
	static const char *const mo[] = {"type", NULL};
	static const char *const models[] = {"e1000", "e1000e", "rtl8139", NULL};
	struct qc_domain *d = p->d;
	cleanup_free char *type = qc_xml_prop(n, "type"), *path = NULL;
	xmlNodePtr mac = qc_xml_child(n, "mac"), src = qc_xml_child(n, "source"),
		   model = qc_xml_child(n, "model");
	enum qc_nic_type t;
	size_t idx = d->n_nics;
	struct qc_nic *k;
	int r;

	if (type && strcmp(type, "user") == 0) {
		t = QC_NIC_USER;
	} else if (type && strcmp(type, "network") == 0) {
		t = QC_NIC_NETWORK;
	} else if (type && strcmp(type, "bridge") == 0) {
		t = QC_NIC_BRIDGE;
	} else {
		keep_device(p, n, "type", type ? type : "", " (user, network or bridge)");
		return 0;
	}
	k = qc_domain_add_nic(d);
	remember(nodes, idx, n);
	k->type = t;
	path = qc_xasprintf(QC_XP_NIC, idx);
	if ((r = qc_xml_walk(p, n, path, attrs, elems, NULL)) < 0)
		return r;
	if (mac) {
		cleanup_free char *a = qc_xml_prop(mac, "address");

		if ((r = qc_xml_walk_child(p, mac, path, ma)) < 0)
			return r;
		if (!a || strlen(a) != 17)
			return qc_xml_err(p, mac, "bad MAC address '%s'", a ? a : "");
		for (char *s = a; *s; s++)
			*s = (char) (*s >= 'A' && *s <= 'F' ? *s - 'A' + 'a' : *s);
		memcpy(k->mac, a, 18);
	} else {
		qc_net_mac_gen(d->uuid, (unsigned) idx, k->mac);
	}
	if (src && t == QC_NIC_USER) {
		qc_xml_keep_elem(p, src, path, false);
	} else if (src) {
		static const char *const na[] = {"network", "bridge", NULL};
		static const char *const ba[] = {"bridge", NULL};

		if ((r = qc_xml_walk_child(p, src, path, t == QC_NIC_NETWORK ? na : ba)) < 0)
			return r;
		k->network = t == QC_NIC_NETWORK ? qc_xml_prop(src, "network") : NULL;
		k->bridge = qc_xml_prop(src, "bridge");
		if ((k->network &&
			    (r = qc_xml_at(p, src, qc_validate_name("network", k->network, p->err))) <
				    0) ||
			(k->bridge &&
				(r = qc_xml_at(p, src, qc_domain_check_bridge(k->bridge, p->err))) < 0))
			return r;
	}
	if (t == QC_NIC_NETWORK && !k->network)
		return qc_xml_err(
			p, n, "<interface type='network'> needs <source network='NAME'/>");
	if (t == QC_NIC_BRIDGE && !k->bridge)
		return qc_xml_err(p, n, "<interface type='bridge'> needs <source bridge='NAME'/>");
	if (model) {
		cleanup_free char *m = qc_xml_prop(model, "type");

		if ((r = qc_xml_walk_child(p, model, path, mo)) < 0)
			return r;
		if (m && strcmp(m, "virtio") == 0)
			k->model = qc_xstrdup("virtio-net-pci");
		else if (m && qc_xml_in_list(m, models, NULL))
			k->model = qc_xstrdup(m);
		else
			return qc_xml_err(p, model,
				"NIC model '%s' is not supported (virtio, e1000, e1000e or "
				"rtl8139)",
				m ? m : "");
	}
	return parse_alias(p, n, path, "NIC", &k->name);
}

static int parse_share(struct qc_xml_parser *p, xmlNodePtr n, xmlNodePtr **nodes)
{
	static const char *const attrs[] = {"type", "accessmode", NULL};
	static const char *const elems[] = {"source", "target", "readonly", NULL};
	static const char *const da[] = {"dir", NULL};
	struct qc_domain *d = p->d;
	cleanup_free char *type = qc_xml_prop(n, "type"), *mode = qc_xml_prop(n, "accessmode");
	cleanup_free char *path = NULL;
	xmlNodePtr src = qc_xml_child(n, "source"), tgt = qc_xml_child(n, "target"),
		   ro = qc_xml_child(n, "readonly");
	cleanup_free char *tag = tgt ? qc_xml_prop(tgt, "dir") : NULL;
	const char *model = qc_xml_accessmode_to_model(mode);
	size_t idx = d->n_shares;
	struct qc_share *s;
	int r;

	if (type && strcmp(type, "mount") != 0) {
		keep_device(p, n, "type", type, " (mount)");
		return 0;
	}
	if (!model)
		return qc_xml_err(p, n,
			"accessmode '%s' is not supported (passthrough, mapped or squash)", mode);
	if (!tag)
		return qc_xml_err(p, n, "<filesystem> has no <target dir='TAG'/>");
	for (size_t i = 0; i < d->n_shares; i++)
		if (strcmp(d->shares[i].tag, tag) == 0)
			return qc_xml_err(p, tgt, "duplicate filesystem target '%s'", tag);
	s = qc_domain_add_share(d);
	remember(nodes, idx, n);
	s->tag = TAKE_PTR(tag);
	s->security_model = qc_xstrdup(model);
	s->readonly = ro != NULL;
	path = qc_xasprintf(QC_XP_SHARE, idx);
	if ((r = qc_xml_walk(p, n, path, attrs, elems, NULL)) < 0)
		return r;
	if (src) {
		if ((r = qc_xml_walk_child(p, src, path, da)) < 0)
			return r;
		s->path = qc_xml_prop(src, "dir");
	}
	if ((r = qc_xml_walk_child(p, tgt, path, da)) < 0)
		return r;
	if (ro && (r = qc_xml_walk_child(p, ro, path, NULL)) < 0)
		return r;
	return 0;
}

/* Names for unnamed devices, then the qemuctl metadata of each device. */
static int apply_disk_meta(struct qc_xml_parser *p, size_t i, xmlNodePtr node)
{
	static const char *const attrs[] = {"name", "role", "owned", "backing-image", NULL};
	struct qc_disk *k = &p->d->disks[i];
	xmlNodePtr m = qc_xml_meta_find(p, "disk", "name", k->name);
	cleanup_free char *role = NULL;
	int r;

	if (!m) {
		/* libvirt XML: the first plain disk is what boots; nothing is ours */
		bool first = true;

		for (size_t j = 0; j < i; j++)
			first &= p->d->disks[j].device != QC_DEVICE_DISK;
		k->role = first && k->device == QC_DEVICE_DISK ? QC_ROLE_ROOT : QC_ROLE_DATA;
		(void) node;
		return 0;
	}
	if ((r = qc_xml_meta_check(p, m, attrs, false)) < 0 ||
		(r = qc_xml_yesno(p, m, "owned", &k->owned)) < 0)
		return r;
	role = qc_xml_prop(m, "role");
	if (!role || strcmp(role, "data") == 0)
		k->role = QC_ROLE_DATA;
	else if (strcmp(role, "root") == 0)
		k->role = QC_ROLE_ROOT;
	else if (strcmp(role, "seed") == 0)
		k->role = QC_ROLE_SEED;
	else
		return qc_xml_err(
			p, m, "disk '%s': unknown role '%s' (root, data or seed)", k->name, role);
	k->backing_image = qc_xml_prop(m, "backing-image");
	if (k->backing_image &&
		(r = qc_xml_at(p, m, qc_validate_name("backing image", k->backing_image, p->err))) < 0)
		return r;
	if (p->vm_dir &&
		(r = qc_xml_at(p, m, qc_domain_home_disk(p->root, p->vm_dir, k, p->err))) < 0)
		return r;
	return 0;
}

static int apply_nic_meta(struct qc_xml_parser *p, size_t i)
{
	static const char *const attrs[] = {"name", "ip", NULL};
	static const char *const fa[] = {"proto", "host-address", "host-port", "guest-port", NULL};
	struct qc_nic *k = &p->d->nics[i];
	xmlNodePtr m = qc_xml_meta_find(p, "nic", "name", k->name);
	int r;

	if (!m)
		return 0;
	if ((r = qc_xml_meta_check(p, m, attrs, true)) < 0)
		return r;
	k->ip = qc_xml_prop(m, "ip");
	if (k->ip &&
		(r = qc_xml_at(p, m, qc_domain_check_word("address", k->ip, "./:", 64, p->err))) < 0)
		return r;
	for (xmlNodePtr c = m->children; c; c = c->next) {
		cleanup_free char *proto = NULL, *addr = NULL;
		struct qc_hostfwd *f;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!qc_xml_is_qc(c, "hostfwd"))
			return qc_xml_err(
				p, c, "unknown element <%s> in qemuctl metadata <nic>", c->name);
		if ((r = qc_xml_meta_check(p, c, fa, false)) < 0)
			return r;
		k->fwds = qc_xrealloc(k->fwds, (k->n_fwds + 1) * sizeof(*k->fwds));
		f = &k->fwds[k->n_fwds++];
		memset(f, 0, sizeof(*f));
		proto = qc_xml_prop(c, "proto");
		addr = qc_xml_prop(c, "host-address");
		if (!proto || strlen(proto) >= sizeof(f->proto) ||
			(addr && strlen(addr) >= sizeof(f->host_addr)))
			return qc_xml_err(
				p, c, "NIC '%s': bad <hostfwd> protocol or address", k->name);
		strcpy(f->proto, proto);
		if (addr)
			strcpy(f->host_addr, addr);
		if ((r = qc_xml_uint_attr(p, c, "host-port", 65535, &f->host_port)) < 0 ||
			(r = qc_xml_uint_attr(p, c, "guest-port", 65535, &f->guest_port)) < 0)
			return r;
	}
	return 0;
}

static void gen_name(char **name, const char *prefix,
	bool (*taken)(struct qc_domain *, const char *), struct qc_domain *d)
{
	for (unsigned n = 0; !*name; n++) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%s%u", prefix, n);
		if (!taken(d, buf))
			*name = qc_xstrdup(buf);
	}
}

static bool disk_taken(struct qc_domain *d, const char *name)
{
	return qc_domain_find_disk(d, name) != NULL;
}

static bool nic_taken(struct qc_domain *d, const char *name)
{
	return qc_domain_find_nic(d, name) != NULL;
}

static int parse_console(struct qc_xml_parser *p, xmlNodePtr n, const char *path)
{
	static const char *const attrs[] = {"type", NULL};
	/* the console plumbing qemuctl replaces with its own socket: kept quietly */
	static const char *const quiet[] = {"target", "source", "log", "alias", "protocol", NULL};

	return qc_xml_walk(p, n, path, attrs, NULL, quiet);
}

/* A <video> qemuctl runs: <model type='vga|virtio'/>. */
static bool video_ours(xmlNodePtr n)
{
	xmlNodePtr m = qc_xml_child(n, "model");
	cleanup_free char *type = m ? qc_xml_prop(m, "type") : NULL;

	return type && (!strcmp(type, "vga") || !strcmp(type, "virtio"));
}

/*
 * The first <video> qemuctl runs is the one display screendump reads; other
 * models and a second <video> are kept as they are (in their place when the
 * domain has no display of ours, else after the other kept devices).
 */
static int parse_video(struct qc_xml_parser *p, xmlNodePtr n)
{
	static const char *const elems[] = {"model", NULL}, *const ma[] = {"type", NULL};
	xmlNodePtr m = qc_xml_child(n, "model");
	cleanup_free char *type = m ? qc_xml_prop(m, "type") : NULL;
	int r;

	if (!video_ours(n) || p->d->video[0]) {
		qc_xml_keep_elem(p, n, "domain/devices", false);
		return 0;
	}
	if ((r = qc_xml_walk(p, n, "domain/devices/video", NULL, elems, NULL)) < 0 ||
		(r = qc_xml_walk_child(p, m, "domain/devices/video", ma)) < 0)
		return r;
	snprintf(p->d->video, sizeof(p->d->video), "%s", type);
	return 0;
}

/*
 * <tpm model='M'><backend type='emulator' version='2.0'/></tpm>: a TPM 2.0
 * emulated by the VM's own swtpm.  Its state always lives in the VM's
 * directory: nothing here names a file.  M, when given, is the arch's
 * TPM device (tpm-tis, tpm-tis-device on virt, tpm-spapr on pseries; virt
 * also takes libvirt's "tpm-tis").
 */
static int parse_tpm(struct qc_xml_parser *p, xmlNodePtr n)
{
	static const char *const attrs[] = {"model", NULL}, *const elems[] = {"backend", NULL};
	static const char *const ba[] = {"type", "version", NULL};
	const char *want = qc_arch_info(p->d->arch)->tpm_device;
	xmlNodePtr b = qc_xml_child(n, "backend");
	cleanup_free char *model = qc_xml_prop(n, "model");
	cleanup_free char *type = b ? qc_xml_prop(b, "type") : NULL;
	cleanup_free char *version = b ? qc_xml_prop(b, "version") : NULL;
	int r;

	if (p->d->tpm)
		return qc_xml_err(p, n, "a second <tpm>: a VM has at most one TPM");
	if ((r = qc_xml_walk(p, n, "domain/devices/tpm", attrs, elems, NULL)) < 0)
		return r;
	/* libvirt also spells virt's TIS device "tpm-tis" */
	if (model && strcmp(model, want) != 0 &&
		!(p->d->arch == QC_ARCH_AARCH64 && strcmp(model, "tpm-tis") == 0))
		return qc_xml_err(p, n, "<tpm model='%s'>: %s VMs get model '%s'", model,
			qc_arch_name(p->d->arch), want);
	if (!b || !type || strcmp(type, "emulator") != 0)
		return qc_xml_err(p, n,
			"<tpm> needs <backend type='emulator' version='2.0'/> (a per-VM swtpm); "
			"host TPM passthrough is not supported");
	if ((r = qc_xml_walk(p, b, "domain/devices/tpm/backend", ba, NULL, NULL)) < 0)
		return r;
	if (version && strcmp(version, "2.0") != 0)
		return qc_xml_err(
			p, b, "<tpm> backend version '%s': only TPM 2.0 ('2.0')", version);
	p->d->tpm = true;
	/* <os> is parsed before <devices>: the kernel is known here */
	return qc_xml_at(p, n, qc_domain_check_tpm_boot(p->d, p->err));
}

static bool graphics_ours(xmlNodePtr n)
{
	cleanup_free char *type = qc_xml_prop(n, "type");

	return type && strcmp(type, "vnc") == 0;
}

/*
 * The first <graphics type='vnc'>: <listen type='socket'/>, or <listen
 * type='address' address='A'/> (or listen='A'); neither is 127.0.0.1, as
 * libvirt has it.  Other types and a second one are kept as they are.
 */
static int parse_graphics(struct qc_xml_parser *p, xmlNodePtr n)
{
	static const char *const attrs[] = {"type", "listen", "autoport", NULL};
	static const char *const elems[] = {"listen", NULL};
	static const char *const la[] = {"type", "address", NULL};
	static const char path[] = "domain/devices/graphics";
	cleanup_free char *addr = qc_xml_prop(n, "listen");
	cleanup_free char *ltype = NULL, *laddr = NULL;
	xmlNodePtr l = qc_xml_child(n, "listen");
	const char *v = "127.0.0.1";
	int r;

	if (!graphics_ours(n) || p->d->vnc[0]) {
		qc_xml_keep_elem(p, n, "domain/devices", false);
		return 0;
	}
	if ((r = qc_xml_walk(p, n, path, attrs, elems, NULL)) < 0 ||
		(l && (r = qc_xml_walk_child(p, l, path, la)) < 0))
		return r;
	ltype = l ? qc_xml_prop(l, "type") : NULL;
	laddr = l ? qc_xml_prop(l, "address") : NULL;
	if (ltype && strcmp(ltype, "socket") == 0)
		v = QC_VNC_SOCKET;
	else if (ltype && strcmp(ltype, "address") != 0)
		return qc_xml_err(p, l,
			"<graphics type='vnc'>: <listen type='%.32s'>: use socket or address",
			ltype);
	else if (laddr || addr)
		v = laddr ? laddr : addr;
	if ((r = qc_xml_at(p, l ? l : n, qc_domain_check_vnc(v, p->err))) < 0)
		return r;
	snprintf(p->d->vnc, sizeof(p->d->vnc), "%s", v);
	return 0;
}

int qc_xml_parse_devices(struct qc_xml_parser *p, xmlNodePtr devs)
{
	/* a <video> or <graphics> qemuctl does not run is kept in its place */
	const char *elems[9] = {
		"disk*", "interface*", "filesystem*", "serial*", "console*", "tpm*"};
	size_t n_elems = 6;
	struct qc_domain *d = p->d;
	cleanup_free xmlNodePtr *disks = NULL, *nics = NULL, *shares = NULL;
	bool serial = false, console = false, video = false, graphics = false;
	int r;

	for (xmlNodePtr c = devs->children; c; c = c->next) {
		video = video || (qc_xml_is(c, "video") && video_ours(c));
		graphics = graphics || (qc_xml_is(c, "graphics") && graphics_ours(c));
	}
	if (video)
		elems[n_elems++] = "video*";
	if (graphics)
		elems[n_elems++] = "graphics*";
	if ((r = qc_xml_walk(p, devs, "domain/devices", NULL, elems, NULL)) < 0)
		return r;
	for (xmlNodePtr c = devs->children; c; c = c->next) {
		r = 0;
		if (qc_xml_is(c, "disk")) {
			r = parse_disk(p, c, &disks);
		} else if (qc_xml_is(c, "interface")) {
			r = parse_nic(p, c, &nics);
		} else if (qc_xml_is(c, "filesystem")) {
			r = parse_share(p, c, &shares);
		} else if (video && qc_xml_is(c, "video")) {
			r = parse_video(p, c);
		} else if (graphics && qc_xml_is(c, "graphics")) {
			r = parse_graphics(p, c);
		} else if (qc_xml_is(c, "tpm")) {
			r = parse_tpm(p, c);
		} else if (qc_xml_is(c, "serial") || qc_xml_is(c, "console")) {
			bool *seen = qc_xml_is(c, "serial") ? &serial : &console;

			if (*seen) {
				qc_xml_keep_elem(p, c, "domain/devices", false);
				continue;
			}
			*seen = true;
			r = parse_console(p, c,
				qc_xml_is(c, "serial") ? "domain/devices/serial"
						       : "domain/devices/console");
		}
		if (r < 0)
			return r;
	}
	d->serial_console = serial || console;
	for (size_t i = 0; i < d->n_disks; i++) {
		gen_name(&d->disks[i].name, "disk", disk_taken, d);
		if ((r = apply_disk_meta(p, i, disks[i])) < 0)
			return r;
	}
	for (size_t i = 0; i < d->n_nics; i++) {
		gen_name(&d->nics[i].name, "net", nic_taken, d);
		if ((r = apply_nic_meta(p, i)) < 0)
			return r;
	}
	for (size_t i = 0; i < d->n_shares; i++) {
		struct qc_share *s = &d->shares[i];
		static const char *const sa[] = {"tag", "empty", NULL};
		xmlNodePtr m = qc_xml_meta_find(p, "share", "tag", s->tag);

		if (m && ((r = qc_xml_meta_check(p, m, sa, false)) < 0 ||
				 (r = qc_xml_yesno(p, m, "empty", &s->empty)) < 0))
			return r;
		if (!s->path && !s->empty)
			return qc_xml_err(
				p, shares[i], "<filesystem> '%s' has no <source dir>", s->tag);
		if (p->vm_dir && (r = qc_xml_at(p, m ? m : shares[i],
					  qc_domain_home_share(p->root, p->vm_dir, s, p->err))) < 0)
			return r;
	}
	return 0;
}
