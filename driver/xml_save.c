/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * domain.xml writer: libvirt's layout (2-space indent, single quotes),
 * qemuctl-only data in <metadata><qemuctl:domain>, and every kept extra
 * re-emitted where the parser found it (attributes on their element,
 * elements at the end of their parent).
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/xml_node.h"

struct frame {
	const char *name;
	char *path;
	bool open; /* "<name attrs" written, '>' not yet */
	bool text;
	bool kids;
	bool extras_done; /* kept child elements already written (flush_extras) */
};

struct w {
	struct qc_buf b;
	const struct qc_domain *d;
	struct frame st[16];
	int n;
};

static void esc(struct qc_buf *b, const char *s, bool attr)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			qc_buf_puts(b, "&amp;");
			break;
		case '<':
			qc_buf_puts(b, "&lt;");
			break;
		case '>':
			qc_buf_puts(b, "&gt;");
			break;
		case '\'':
			qc_buf_puts(b, attr ? "&apos;" : "'");
			break;
		case '"':
			qc_buf_puts(b, attr ? "&quot;" : "\"");
			break;
		default:
			qc_buf_putc(b, *s);
		}
	}
}

static void indent(struct w *w, int depth)
{
	for (int i = 0; i < depth; i++)
		qc_buf_puts(&w->b, "  ");
}

static bool extra_is_elem(const struct qc_xml_extra *x)
{
	return x->xml[0] == '<';
}

static bool has_kid_extras(struct w *w, const char *path)
{
	for (size_t i = 0; i < w->d->n_extras; i++)
		if (extra_is_elem(&w->d->extras[i]) && strcmp(w->d->extras[i].parent, path) == 0)
			return true;
	return false;
}

/* Any extra at path or below it: the element must be written to carry it. */
static bool has_extras_under(const struct qc_domain *d, const char *path)
{
	size_t l = strlen(path);

	for (size_t i = 0; i < d->n_extras; i++) {
		const char *p = d->extras[i].parent;

		if (strncmp(p, path, l) == 0 && (p[l] == 0 || p[l] == '/'))
			return true;
	}
	return false;
}

static void close_tag(struct w *w, struct frame *f)
{
	for (size_t i = 0; i < w->d->n_extras; i++) {
		const struct qc_xml_extra *x = &w->d->extras[i];

		if (!extra_is_elem(x) && strcmp(x->parent, f->path) == 0) {
			qc_buf_putc(&w->b, ' ');
			qc_buf_puts(&w->b, x->xml);
		}
	}
	qc_buf_putc(&w->b, '>');
	f->open = false;
}

static void begin(struct w *w, const char *name, char *path)
{
	if (w->n > 0) {
		struct frame *t = &w->st[w->n - 1];

		if (t->open) {
			close_tag(w, t);
			qc_buf_putc(&w->b, '\n');
		}
		t->kids = true;
	}
	indent(w, w->n);
	qc_buf_printf(&w->b, "<%s", name);
	w->st[w->n++] = (struct frame){.name = name, .path = path, .open = true};
}

static void attr(struct w *w, const char *k, const char *v)
{
	if (!v)
		return;
	qc_buf_printf(&w->b, " %s='", k);
	esc(&w->b, v, true);
	qc_buf_putc(&w->b, '\'');
}

static void text(struct w *w, const char *s)
{
	struct frame *t = &w->st[w->n - 1];

	close_tag(w, t);
	esc(&w->b, s, false);
	t->text = true;
}

static void write_kid_extras(struct w *w, struct frame *t)
{
	for (size_t i = 0; i < w->d->n_extras; i++) {
		const struct qc_xml_extra *x = &w->d->extras[i];

		if (!extra_is_elem(x) || strcmp(x->parent, t->path) != 0)
			continue;
		if (!t->text)
			indent(w, w->n);
		qc_buf_puts(&w->b, x->xml);
		if (!t->text)
			qc_buf_putc(&w->b, '\n');
	}
	t->extras_done = true;
}

/* Write the kept children of the open element now rather than at its end. */
static void flush_extras(struct w *w)
{
	struct frame *t = &w->st[w->n - 1];

	if (!has_kid_extras(w, t->path))
		return;
	if (t->open) {
		close_tag(w, t);
		qc_buf_putc(&w->b, '\n');
	}
	t->kids = true;
	write_kid_extras(w, t);
}

static void end(struct w *w)
{
	struct frame *t = &w->st[w->n - 1];
	bool kids = !t->extras_done && has_kid_extras(w, t->path);

	if (t->open && !kids && !t->kids) {
		close_tag(w, t);
		/* close_tag wrote '>': turn it into "/>" */
		w->b.data[w->b.len - 1] = '/';
		qc_buf_puts(&w->b, ">\n");
		goto pop;
	}
	if (t->open) {
		close_tag(w, t);
		qc_buf_putc(&w->b, '\n');
	}
	if (kids)
		write_kid_extras(w, t);
	if (!t->text)
		indent(w, w->n - 1);
	qc_buf_printf(&w->b, "</%s>\n", t->name);
pop:
	free(t->path);
	w->n--;
}

/* <name>text</name> at path parent/name (extras included). */
static void leaf(struct w *w, const char *parent, const char *name, const char *value)
{
	if (!value)
		return;
	begin(w, name, qc_xasprintf("%s/%s", parent, name));
	text(w, value);
	end(w);
}

/* <name k='v'/> at path parent/name (extras included); <name/> when v is NULL. */
static void leaf_attr(
	struct w *w, const char *parent, const char *name, const char *k, const char *v)
{
	begin(w, name, qc_xasprintf("%s/%s", parent, name));
	attr(w, k, v);
	end(w);
}

static const char *bus_name(enum qc_disk_bus b)
{
	return b == QC_BUS_SCSI ? "scsi" : b == QC_BUS_SATA ? "sata" : "virtio";
}

static const char *role_name(enum qc_disk_role r)
{
	return r == QC_ROLE_ROOT ? "root" : r == QC_ROLE_SEED ? "seed" : "data";
}

/* A target for a disk that has none: vda.., sda.. by bus, first free. */
static char *disk_target(const struct qc_domain *d, size_t i)
{
	const struct qc_disk *k = &d->disks[i];
	const char *prefix = k->bus == QC_BUS_VIRTIO ? "vd" : "sd";

	if (k->target)
		return qc_xstrdup(k->target);
	for (int n = 0; n < 26 * 27; n++) {
		char buf[8];
		bool taken = false;

		if (n < 26)
			snprintf(buf, sizeof(buf), "%s%c", prefix, 'a' + n);
		else
			snprintf(
				buf, sizeof(buf), "%s%c%c", prefix, 'a' + n / 26 - 1, 'a' + n % 26);
		for (size_t j = 0; j < d->n_disks && !taken; j++) {
			cleanup_free char *o = NULL;

			if (j == i)
				continue;
			if (d->disks[j].target)
				taken = strcmp(d->disks[j].target, buf) == 0;
			else if (j < i)
				taken = strcmp((o = disk_target(d, j)), buf) == 0;
		}
		if (!taken)
			return qc_xstrdup(buf);
	}
	return qc_xasprintf("%s%zu", prefix, i);
}

/* <alias name="ua-NAME"/> of the device at path p: its user alias. */
static void write_alias(struct w *w, const char *p, const char *name)
{
	cleanup_free char *ua = qc_xasprintf("ua-%s", name);

	leaf_attr(w, p, "alias", "name", ua);
}

static void write_disk(struct w *w, size_t i)
{
	const struct qc_disk *k = &w->d->disks[i];
	char *path = qc_xasprintf(QC_XP_DISK, i);
	cleanup_free char *target = disk_target(w->d, i);
	const char *p = path;

	begin(w, "disk", path);
	attr(w, "type", "file");
	attr(w, "device", k->device == QC_DEVICE_CDROM ? "cdrom" : "disk");
	begin(w, "driver", qc_xasprintf("%s/driver", p));
	attr(w, "name", "qemu");
	attr(w, "type", k->format);
	end(w);
	leaf_attr(w, p, "source", "file", k->path);
	begin(w, "backingStore", qc_xasprintf("%s/backingStore", p));
	if (k->backing) {
		char *bp = w->st[w->n - 1].path;
		cleanup_free char *nested = qc_xasprintf("%s", bp);
		bool deeper = false;

		attr(w, "type", "file");
		leaf_attr(w, bp, "format", "type", k->backing_format);
		leaf_attr(w, bp, "source", "file", k->backing);
		for (size_t j = 0; j < w->d->n_extras; j++)
			deeper |= strcmp(w->d->extras[j].parent, nested) == 0 &&
				  qc_str_has_prefix(w->d->extras[j].xml, "<backingStore");
		if (!deeper)
			leaf_attr(w, bp, "backingStore", NULL, NULL);
	}
	end(w);
	begin(w, "target", qc_xasprintf("%s/target", p));
	attr(w, "dev", target);
	attr(w, "bus", bus_name(k->bus));
	end(w);
	if (k->readonly)
		leaf_attr(w, p, "readonly", NULL, NULL);
	write_alias(w, p, k->name);
	end(w);
}

static void write_nic(struct w *w, size_t i)
{
	const struct qc_nic *n = &w->d->nics[i];
	char *path = qc_xasprintf(QC_XP_NIC, i);
	const char *p = path;

	begin(w, "interface", path);
	attr(w, "type", qc_nic_type_name(n->type));
	leaf_attr(w, p, "mac", "address", n->mac);
	if (n->type != QC_NIC_USER) {
		begin(w, "source", qc_xasprintf("%s/source", p));
		if (n->type == QC_NIC_NETWORK)
			attr(w, "network", n->network);
		attr(w, "bridge", n->bridge);
		end(w);
	}
	if (n->model)
		leaf_attr(w, p, "model", "type",
			strcmp(n->model, "virtio-net-pci") == 0 ? "virtio" : n->model);
	write_alias(w, p, n->name);
	end(w);
}

static void write_share(struct w *w, size_t i)
{
	const struct qc_share *s = &w->d->shares[i];
	char *path = qc_xasprintf(QC_XP_SHARE, i);
	const char *p = path;

	begin(w, "filesystem", path);
	attr(w, "type", "mount");
	attr(w, "accessmode", qc_xml_model_to_accessmode(s->security_model));
	if (s->path)
		leaf_attr(w, p, "source", "dir", s->path);
	leaf_attr(w, p, "target", "dir", s->tag);
	if (s->readonly)
		leaf_attr(w, p, "readonly", NULL, NULL);
	end(w);
}

static void write_meta(struct w *w)
{
	const struct qc_domain *d = w->d;
	const char *mp = "domain/metadata/qemuctl:domain";
	const struct qc_seed_opts *s = &d->seed;

	begin(w, "qemuctl:domain", qc_xstrdup(mp));
	attr(w, "xmlns:qemuctl", QC_XML_NS);
	if (d->accel == QC_ACCEL_AUTO)
		leaf(w, mp, "qemuctl:accel", "auto");
	if (d->autostart)
		leaf(w, mp, "qemuctl:autostart", "yes");
	leaf(w, mp, "qemuctl:ready-marker", d->ready_marker);
	for (size_t i = 0; i < d->n_disks; i++) {
		const struct qc_disk *k = &d->disks[i];

		begin(w, "qemuctl:disk", qc_xasprintf("%s/disk", mp));
		attr(w, "name", k->name);
		attr(w, "role", role_name(k->role));
		attr(w, "owned", k->owned ? "yes" : "no");
		attr(w, "backing-image", k->backing_image);
		end(w);
	}
	for (size_t i = 0; i < d->n_nics; i++) {
		const struct qc_nic *n = &d->nics[i];

		if (!n->ip && !n->n_fwds)
			continue;
		begin(w, "qemuctl:nic", qc_xasprintf("%s/nic", mp));
		attr(w, "name", n->name);
		attr(w, "ip", n->ip);
		for (size_t f = 0; f < n->n_fwds; f++) {
			char hp[16], gp[16];

			snprintf(hp, sizeof(hp), "%u", n->fwds[f].host_port);
			snprintf(gp, sizeof(gp), "%u", n->fwds[f].guest_port);
			begin(w, "qemuctl:hostfwd", qc_xasprintf("%s/nic/hostfwd", mp));
			attr(w, "proto", n->fwds[f].proto);
			attr(w, "host-address",
				n->fwds[f].host_addr[0] ? n->fwds[f].host_addr : NULL);
			attr(w, "host-port", hp);
			attr(w, "guest-port", gp);
			end(w);
		}
		end(w);
	}
	for (size_t i = 0; i < d->n_shares; i++) {
		if (!d->shares[i].empty)
			continue;
		begin(w, "qemuctl:share", qc_xasprintf("%s/share", mp));
		attr(w, "tag", d->shares[i].tag);
		attr(w, "empty", "yes");
		end(w);
	}
	{
		char gen[16];
		const char *sp = "domain/metadata/qemuctl:domain/seed";

		snprintf(gen, sizeof(gen), "%u", s->generation);
		begin(w, "qemuctl:seed", qc_xstrdup(sp));
		attr(w, "enabled", s->enabled ? "yes" : "no");
		attr(w, "generation", s->generation ? gen : NULL);
		attr(w, "hash", s->content_hash);
		leaf(w, sp, "qemuctl:hostname", s->hostname);
		leaf(w, sp, "qemuctl:user", s->user);
		for (char **k = s->ssh_keys; k && *k; k++)
			leaf(w, sp, "qemuctl:ssh-key", *k);
		leaf(w, sp, "qemuctl:user-data", s->user_data);
		leaf(w, sp, "qemuctl:network-config", s->network_config);
		end(w);
	}
	end(w);
}

int qc_domain_to_xml(const struct qc_domain *d, char **ret, struct qc_error *err)
{
	struct w w = {.d = d};
	char buf[32];
	const char *unit = "KiB";
	uint64_t mem = d->memory / 1024;
	int r;

	r = qc_domain_validate(d, err);
	if (r < 0)
		return r;
	if (d->memory % 1024) {
		unit = "b";
		mem = d->memory;
	}

	begin(&w, "domain", qc_xstrdup("domain"));
	attr(&w, "type", d->accel == QC_ACCEL_KVM ? "kvm" : "qemu");
	leaf(&w, "domain", "name", d->name);
	leaf(&w, "domain", "uuid", d->uuid_str);
	leaf(&w, "domain", "title", d->title);
	begin(&w, "metadata", qc_xstrdup("domain/metadata"));
	write_meta(&w);
	end(&w);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long) mem);
	begin(&w, "memory", qc_xstrdup("domain/memory"));
	attr(&w, "unit", unit);
	text(&w, buf);
	end(&w);
	snprintf(buf, sizeof(buf), "%u", d->cpus);
	leaf(&w, "domain", "vcpu", buf);

	begin(&w, "os", qc_xstrdup("domain/os"));
	begin(&w, "type", qc_xstrdup("domain/os/type"));
	attr(&w, "arch", qc_arch_name(d->arch));
	attr(&w, "machine", d->machine);
	text(&w, "hvm");
	end(&w);
	if (d->loader || d->secure_boot) {
		begin(&w, "loader", qc_xstrdup("domain/os/loader"));
		attr(&w, "readonly", "yes");
		attr(&w, "type", "pflash");
		if (d->secure_boot)
			attr(&w, "secure", "yes");
		if (d->loader)
			text(&w, d->loader);
		end(&w);
	}
	leaf(&w, "domain/os", "nvram", d->nvram);
	leaf(&w, "domain/os", "kernel", d->kernel);
	leaf(&w, "domain/os", "initrd", d->initrd);
	leaf(&w, "domain/os", "cmdline", d->cmdline);
	end(&w);

	if (d->cpu_model || has_extras_under(d, "domain/cpu")) {
		const char *m = d->cpu_model;

		begin(&w, "cpu", qc_xstrdup("domain/cpu"));
		if (!m) {
			/* only unknown attributes/children to carry */
		} else if (strcmp(m, "host") == 0) {
			attr(&w, "mode", "host-passthrough");
		} else if (strcmp(m, "host-model") == 0) {
			attr(&w, "mode", "host-model");
		} else if (strcmp(m, "max") == 0) {
			attr(&w, "mode", "maximum");
		} else {
			attr(&w, "mode", "custom");
			leaf(&w, "domain/cpu", "model", m);
		}
		end(&w);
	}

	/* what libvirt has between <cpu> and <devices>: features, clock, on_*, pm... */
	flush_extras(&w);
	begin(&w, "devices", qc_xstrdup("domain/devices"));
	for (size_t i = 0; i < d->n_disks; i++)
		write_disk(&w, i);
	for (size_t i = 0; i < d->n_nics; i++)
		write_nic(&w, i);
	for (size_t i = 0; i < d->n_shares; i++)
		write_share(&w, i);
	if (d->video[0]) {
		begin(&w, "video", qc_xstrdup("domain/devices/video"));
		leaf_attr(&w, "domain/devices/video", "model", "type", d->video);
		end(&w);
	}
	if (d->vnc[0]) {
		const char *gp = "domain/devices/graphics";
		bool sock = strcmp(d->vnc, QC_VNC_SOCKET) == 0;

		begin(&w, "graphics", qc_xstrdup(gp));
		attr(&w, "type", "vnc");
		if (!sock)
			attr(&w, "autoport", "yes");
		begin(&w, "listen", qc_xstrdup("domain/devices/graphics/listen"));
		attr(&w, "type", sock ? "socket" : "address");
		if (!sock)
			attr(&w, "address", d->vnc);
		end(&w);
		end(&w);
	}
	if (d->tpm) {
		begin(&w, "tpm", qc_xstrdup("domain/devices/tpm"));
		attr(&w, "model", qc_arch_info(d->arch)->tpm_device);
		begin(&w, "backend", qc_xstrdup("domain/devices/tpm/backend"));
		attr(&w, "type", "emulator");
		attr(&w, "version", "2.0");
		end(&w);
		end(&w);
	}
	if (d->serial_console) {
		leaf_attr(&w, "domain/devices", "serial", "type", "pty");
		leaf_attr(&w, "domain/devices", "console", "type", "pty");
	}
	end(&w);
	end(&w);
	*ret = qc_buf_steal(&w.b);
	return 0;
}

int qc_domain_save(const struct qc_domain *d, int dirfd, const char *name, struct qc_error *err)
{
	cleanup_free char *xml = NULL;
	int r;

	r = qc_domain_to_xml(d, &xml, err);
	if (r < 0)
		return r;
	if ((r = qc_write_atomic(dirfd, name, xml, strlen(xml), 0600, err)) < 0)
		return r;
	if (strcmp(name, QC_VM_DOMAIN) == 0)
		qc_domain_cache_save(dirfd, d);
	return 0;
}
