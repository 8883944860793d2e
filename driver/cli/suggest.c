/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * "Did you mean": the candidate nearest a mistyped word, by edit distance
 * (insert, delete, substitute, swap of two neighbours), offered only when
 * it is close: one edit for words up to 4 characters, two beyond.
 */
#include "config.h"

#include <string.h>

#include "driver/cli/cli.h"

#define MAX_WORD 64

unsigned cli_edit_distance(const char *a, const char *b)
{
	/* three rows of the optimal-string-alignment table */
	unsigned rows[3][MAX_WORD + 1], *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
	size_t la = strlen(a), lb = strlen(b), i, j;

	if (la > MAX_WORD || lb > MAX_WORD)
		return (unsigned) (la > lb ? la : lb);
	for (j = 0; j <= lb; j++)
		prev[j] = (unsigned) j;
	for (i = 1; i <= la; i++) {
		unsigned *t;

		cur[0] = (unsigned) i;
		for (j = 1; j <= lb; j++) {
			unsigned sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			unsigned del = prev[j] + 1, ins = cur[j - 1] + 1;
			unsigned best = sub < del ? sub : del;

			best = best < ins ? best : ins;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
				prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

const char *cli_suggest(const char *word, const char *const *cands)
{
	const char *best = NULL;
	unsigned best_d = 0, limit = strlen(word) <= 4 ? 1 : 2;

	if (!word[0])
		return NULL;
	for (; *cands; cands++) {
		unsigned d = cli_edit_distance(word, *cands);

		/* a change of every letter is no typo ("ab" -> "rm") */
		if (d == 0 || d > limit || d >= strlen(*cands))
			continue;
		if (!best || d < best_d) {
			best = *cands;
			best_d = d;
		}
	}
	return best;
}
