/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemuctl stats [NAME...] [--watch S]: counters of running VMs. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver/cli/cli.h"

void cli_stats_usage(FILE *f, const char *name)
{
	(void) name;
	fputs("usage: qemuctl stats [NAME...] [--json] [--watch S]\n"
	      "\n"
	      "Counters of running VMs (every running VM when no NAME is given): vCPU\n"
	      "time, QEMU's own CPU time and RSS, memory, per-disk bytes and operations\n"
	      "read and written, per-NIC bytes and packets (tap NICs; user-mode NICs have\n"
	      "no counters).  CPU% is the vCPUs' time over the wall time since the last\n"
	      "sample (--watch).\n"
	      "  --watch S            sample again every S seconds until interrupted\n"
	      "                       (--json: one document per line)\n",
		f);
}

static void json_vm(struct cli_json *g, const struct qc_vm_stats *s)
{
	cli_json_map_open(g);
	cli_json_kstring(g, "name", s->name);
	cli_json_kint(g, "sampled_at_ms", s->sampled_at_ms);
	cli_json_kint(g, "qemu_pid", s->qemu_pid);
	cli_json_kuint(g, "qemu_cpu_ns", s->qemu_cpu_ns);
	cli_json_kuint(g, "qemu_rss", s->qemu_rss);
	cli_json_kuint(g, "memory", s->memory);
	cli_json_kuint_or_null(g, "balloon", s->balloon != 0, s->balloon);
	cli_json_kuint(g, "vcpu_cpu_ns", s->vcpu_cpu_ns);
	cli_json_karray_open(g, "vcpus");
	for (size_t i = 0; i < s->n_vcpus; i++) {
		cli_json_map_open(g);
		cli_json_kuint(g, "index", s->vcpus[i].index);
		cli_json_kint(g, "thread_id", s->vcpus[i].thread_id);
		cli_json_kuint(g, "cpu_ns", s->vcpus[i].cpu_ns);
		cli_json_map_close(g);
	}
	cli_json_array_close(g);
	cli_json_karray_open(g, "disks");
	for (size_t i = 0; i < s->n_disks; i++) {
		cli_json_map_open(g);
		cli_json_kstring(g, "name", s->disks[i].name);
		cli_json_kuint(g, "rd_bytes", s->disks[i].rd_bytes);
		cli_json_kuint(g, "wr_bytes", s->disks[i].wr_bytes);
		cli_json_kuint(g, "rd_ops", s->disks[i].rd_ops);
		cli_json_kuint(g, "wr_ops", s->disks[i].wr_ops);
		cli_json_map_close(g);
	}
	cli_json_array_close(g);
	cli_json_karray_open(g, "nics");
	for (size_t i = 0; i < s->n_nics; i++) {
		static const char *const keys[] = {
			"rx_bytes", "tx_bytes", "rx_packets", "tx_packets"};
		const struct qc_vm_stats_nic *n = &s->nics[i];
		const uint64_t vals[] = {n->rx_bytes, n->tx_bytes, n->rx_packets, n->tx_packets};

		cli_json_map_open(g);
		cli_json_kstring(g, "name", n->name);
		cli_json_kstring(g, "type", n->type);
		for (size_t k = 0; k < CLI_ARRAY_SIZE(keys); k++)
			cli_json_kuint_or_null(g, keys[k], n->counted, vals[k]);
		cli_json_map_close(g);
	}
	cli_json_array_close(g);
	cli_json_map_close(g);
}

static char *size_str(uint64_t v)
{
	char buf[32];

	qc_size_format(v, buf, sizeof(buf));
	return cli_strdup(buf);
}

/* The previous sample of VM name (for CPU%), or NULL. */
static const struct qc_vm_stats *find(struct qc_vm_stats **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i]->name, name))
			return v[i];
	return NULL;
}

static void print_table(struct qc_vm_stats **v, size_t n, struct qc_vm_stats **prev, size_t n_prev)
{
	printf("%-16s %6s %10s %10s %9s %9s %9s %9s %9s %9s\n", "NAME", "CPU%", "VCPU-TIME",
		"QEMU-CPU", "RSS", "MEMORY", "DISK-RD", "DISK-WR", "NET-RX", "NET-TX");
	for (size_t i = 0; i < n; i++) {
		const struct qc_vm_stats *s = v[i], *p = find(prev, n_prev, s->name);
		uint64_t rd = 0, wr = 0, rx = 0, tx = 0;
		bool counted = false;
		char cpu[16] = "-";

		for (size_t k = 0; k < s->n_disks; k++) {
			rd += s->disks[k].rd_bytes;
			wr += s->disks[k].wr_bytes;
		}
		for (size_t k = 0; k < s->n_nics; k++) {
			counted |= s->nics[k].counted;
			rx += s->nics[k].rx_bytes;
			tx += s->nics[k].tx_bytes;
		}
		if (p && p->qemu_pid == s->qemu_pid && s->sampled_at_ms > p->sampled_at_ms)
			snprintf(cpu, sizeof(cpu), "%.1f",
				(double) (s->vcpu_cpu_ns - p->vcpu_cpu_ns) / 1e4 /
					(double) (s->sampled_at_ms - p->sampled_at_ms));
		autofree char *rss = size_str(s->qemu_rss), *mem = size_str(s->memory);
		autofree char *r = size_str(rd), *w = size_str(wr);
		autofree char *nr = counted ? size_str(rx) : cli_strdup("-");
		autofree char *nt = counted ? size_str(tx) : cli_strdup("-");
		printf("%-16s %6s %9.2fs %9.2fs %9s %9s %9s %9s %9s %9s\n", s->name, cpu,
			(double) s->vcpu_cpu_ns / 1e9, (double) s->qemu_cpu_ns / 1e9, rss, mem, r,
			w, nr, nt);
	}
}

/* One sample of the named VMs (all running ones when none). */
static int sample(qc_ctx *ctx, struct cli_args *a, struct qc_vm_stats ***ret, size_t *ret_n)
{
	struct qc_vm_stats **v = NULL;
	struct qc_error err = {0};
	size_t n = 0;

	if (!a->n_pos) {
		if (qc_vm_stats_running(ctx, ret, ret_n, &err) < 0)
			return cli_error(&err);
		return CLI_OK;
	}
	v = calloc((size_t) a->n_pos + 1, sizeof(*v));
	if (!v)
		abort();
	for (int i = 0; i < a->n_pos; i++) {
		if (qc_vm_stats(ctx, a->pos[i], &v[n], &err) < 0) {
			qc_vm_stats_list_free(v, n);
			return cli_error(&err);
		}
		n++;
	}
	*ret = v;
	*ret_n = n;
	return CLI_OK;
}

int cli_stats(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_vm_stats **prev = NULL, **v = NULL;
	size_t n_prev = 0, n = 0;
	struct qc_error err = {0};
	uint64_t watch = 0;
	qc_ctx *ctx;
	int rc;

	(void) cmd;
	for (int i = 0; i < a->n_pos; i++)
		if (a->pos[i][0] == '-')
			return cli_usage_error("stats", "stats: unknown option '%s'", a->pos[i]);
	if (a->set[OPT_WATCH] &&
		qc_uint_parse("--watch", a->val[OPT_WATCH], 1, 86400, &watch, &err) < 0)
		return cli_usage_error("stats", "stats: %s (seconds)", err.msg);
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	for (;;) {
		if ((rc = sample(ctx, a, &v, &n)) != CLI_OK)
			break;
		if (c->json) {
			autojson struct cli_json *g = cli_json_new(false);

			cli_json_map_open(g);
			cli_json_karray_open(g, "vms");
			for (size_t i = 0; i < n; i++)
				json_vm(g, v[i]);
			cli_json_array_close(g);
			cli_json_map_close(g);
			rc = cli_print_json(g);
		} else {
			print_table(v, n, prev, n_prev);
		}
		fflush(stdout);
		qc_vm_stats_list_free(prev, n_prev);
		prev = v;
		n_prev = n;
		v = NULL;
		if (rc != CLI_OK || !watch)
			break;
		nanosleep(&(struct timespec){.tv_sec = (time_t) watch}, NULL);
		if (!c->json)
			putchar('\n');
	}
	qc_vm_stats_list_free(prev, n_prev);
	return rc;
}
