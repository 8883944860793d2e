/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemuctl doctor [--arch A] [--accel A]: can this host run a VM, and if not, why. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "driver/cli/cli.h"

void cli_doctor_usage(FILE *f, const char *name)
{
	(void) name;
	fputs("usage: qemuctl doctor [--arch x86_64|aarch64|ppc64le] [--accel auto|kvm|tcg]\n"
	      "Check QEMU, qemu-img, KVM (and why not), firmware, /dev/net/tun, CAP_NET_ADMIN,\n"
	      "9p and the state root.  Exit 0 only when a VM of the architecture can run.\n",
		f);
}

static int print_json(const struct qc_doctor_report *r)
{
	autojson struct cli_json *g = cli_json_new(true);

	cli_json_map_open(g);
	cli_json_kstring(g, "arch", r->arch);
	cli_json_kbool(g, "can_run", r->can_run);
	cli_json_karray_open(g, "checks");
	for (size_t i = 0; i < r->n_checks; i++) {
		cli_json_map_open(g);
		cli_json_kstring(g, "name", r->checks[i].name);
		cli_json_kstring(g, "status", qc_check_status_name(r->checks[i].status));
		cli_json_kstring(g, "detail", r->checks[i].detail);
		cli_json_map_close(g);
	}
	cli_json_array_close(g);
	cli_json_map_close(g);
	return cli_print_json(g);
}

int cli_doctor(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	const char *arch = a->val[OPT_ARCH], *accel = a->val[OPT_ACCEL];
	struct qc_doctor_report *r = NULL;
	struct qc_error err = {0};
	qc_ctx *ctx;
	int rc;

	(void) cmd;
	/* A root that cannot be opened is itself a finding, not a reason to stop. */
	ctx = cli_ctx(c);
	if (qc_doctor(ctx, arch, accel, &r, &err) < 0)
		return cli_error(&err);
	if (c->json) {
		rc = print_json(r);
	} else {
		for (size_t i = 0; i < r->n_checks; i++)
			printf("%-5s %-18s %s\n", qc_check_status_name(r->checks[i].status),
				r->checks[i].name, r->checks[i].detail);
		printf("\n%s VMs %s run on this host.\n", r->arch, r->can_run ? "can" : "can NOT");
		rc = CLI_OK;
	}
	/* cli_ctx() already said why the root is unusable. */
	if (rc == CLI_OK && !ctx)
		rc = CLI_ERROR;
	if (rc == CLI_OK && !r->can_run) {
		/* Say on stderr what stands in the way, so scripts see it too. */
		for (size_t i = 0; i < r->n_checks; i++)
			if (r->checks[i].status == QC_CHECK_FAIL)
				fprintf(stderr, "qemuctl: error: %s: %s\n", r->checks[i].name,
					r->checks[i].detail);
		rc = CLI_ERROR;
	}
	qc_doctor_report_free(r);
	return rc;
}
