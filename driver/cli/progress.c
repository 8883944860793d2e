/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The progress of long transfers (image sync and import, migrate): on a
 * terminal one line on stderr that rewrites itself (what, a bar when the
 * total is known, bytes done, the rate), at most ten times a second and at
 * every change of what is done; else, when asked, JSON lines on stderr.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "driver/cli/cli.h"

static void progress_cb(const char *what, uint64_t done, uint64_t total, void *opaque)
{
	struct cli_progress *p = opaque;
	int64_t now = cli_now_ms();
	char d[16], t[16], r[16];
	bool changed = strncmp(p->what, what, sizeof(p->what) - 1) != 0;

	if (!p->t0) {
		p->t0 = p->last_t = now;
		p->last_done = done;
	}
	/* Rate over the last second or so, smoothed. */
	if (now - p->last_t >= 500) {
		double inst = (double) (done - p->last_done) * 1000.0 / (double) (now - p->last_t);

		p->rate = p->rate ? 0.7 * p->rate + 0.3 * inst : inst;
		p->last_t = now;
		p->last_done = done;
	} else if (!p->rate && now > p->t0) {
		/* Not half a second in yet: the average so far. */
		p->rate = (double) done * 1000.0 / (double) (now - p->t0);
	}
	if (p->json) {
		bool final = total && done >= total;

		if (now - p->last < 1000 && !final)
			return;
		p->last = now;
		fprintf(stderr,
			"{\"progress\":{\"what\":\"%s\",\"done\":%llu,\"total\":%llu,\"rate\":%.0f}"
			"}\n",
			what, (unsigned long long) done, (unsigned long long) total, p->rate);
		return;
	}
	if (!p->bar || (now - p->last < 100 && !changed && !(total && done >= total)))
		return;
	p->last = now;
	snprintf(p->what, sizeof(p->what), "%s", what);
	qc_size_format(done, d, sizeof(d));
	qc_size_format((uint64_t) p->rate, r, sizeof(r));
	/* a new what may be shorter than the line drawn before */
	if (changed && p->drawn)
		fputs("\r\033[K", stderr);
	if (total) {
		int width = 30, fill = (int) ((double) done / (double) total * width);
		char bar[64];

		if (fill > width)
			fill = width;
		memset(bar, '#', (size_t) fill);
		memset(bar + fill, '-', (size_t) (width - fill));
		bar[width] = '\0';
		qc_size_format(total, t, sizeof(t));
		fprintf(stderr, "\r%s [%s] %3d%% %s / %s  %s/s  ", what, bar,
			(int) ((double) done * 100.0 / (double) total), d, t, r);
	} else {
		fprintf(stderr, "\r%s %s  %s/s  ", what, d, r);
	}
	p->drawn = true;
}

void cli_progress_end(qc_ctx *ctx, struct cli_progress *p)
{
	qc_ctx_set_progress(ctx, NULL, NULL);
	if (p->drawn)
		fputc('\n', stderr);
	p->drawn = false;
}

void cli_progress_begin(struct cli *c, qc_ctx *ctx, struct cli_progress *p, bool json_lines)
{
	memset(p, 0, sizeof(*p));
	p->json = c->json && json_lines;
	p->bar = !c->json && c->verbosity >= 0 && isatty(STDERR_FILENO);
	if (p->json || p->bar)
		qc_ctx_set_progress(ctx, progress_cb, p);
}
