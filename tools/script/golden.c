/* SPDX-License-Identifier: MIT */
/*
 * tools/script/golden.c - a script's trace against its golden file.
 *
 * The golden file (foo.golden next to foo.pkt) holds the trace of the last
 * run someone looked at and approved. A run that differs fails and shows the
 * first differing lines; only `ustack-script --update-golden` rewrites the
 * file, never a plain run.
 *
 * Read first: script.h "Golden files".
 */
#include "script.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

char *us_script_golden_path(const char *script_path)
{
	size_t n = strlen(script_path);
	const char *dot = strrchr(script_path, '.');
	const char *slash = strrchr(script_path, '/');
	if (dot && (!slash || dot > slash))
		n = (size_t)(dot - script_path);
	char *p = malloc(n + sizeof ".golden");
	if (p) {
		memcpy(p, script_path, n);
		memcpy(p + n, ".golden", sizeof ".golden");
	}
	return p;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	char buf[4096];
	size_t n;
	while (m && (n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, m);
	fclose(f);
	if (!m || fclose(m) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* The text split into lines (pointers into it, lengths). */
struct lines {
	const char **s;
	size_t *len;
	size_t n;
};

static int split(const char *text, struct lines *l)
{
	size_t cap = 1;
	for (const char *p = text; *p; p++)
		cap += *p == '\n';
	l->s = calloc(cap, sizeof *l->s);
	l->len = calloc(cap, sizeof *l->len);
	l->n = 0;
	if (!l->s || !l->len)
		return -1;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		l->s[l->n] = p;
		l->len[l->n++] = n;
		p += n + (nl ? 1 : 0);
	}
	return 0;
}

static bool same(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->s[i], b->s[j], a->len[i]) == 0;
}

/*
 * Shows what differs as a diff: "-" lines only in the golden file, "+"
 * lines only in this run, each with its line number, from a longest common
 * subsequence of lines (traces are short: a table of n*m entries is fine;
 * beyond MAX_LCS lines the first differing line is shown alone).
 */
#define MAX_LCS 4000
#define SHOW_LINES 12

static int show_diff(const struct lines *g, const struct lines *t, FILE *err)
{
	size_t pre = 0;
	while (pre < g->n && pre < t->n && same(g, pre, t, pre))
		pre++;
	if (pre == g->n && pre == t->n)
		return 0;
	size_t gn = g->n - pre, tn = t->n - pre;
	uint32_t *lcs = NULL;
	if (gn <= MAX_LCS && tn <= MAX_LCS)
		lcs = calloc((gn + 1) * (tn + 1), sizeof *lcs);
	int shown = 0, total = 0;
	if (!lcs) {
		fprintf(err, "  line %zu\n    golden: %.*s\n    actual: %.*s\n", pre + 1,
			pre < g->n ? (int)g->len[pre] : 0, pre < g->n ? g->s[pre] : "",
			pre < t->n ? (int)t->len[pre] : 0, pre < t->n ? t->s[pre] : "");
		return 1;
	}
#define L(i, j) lcs[(i) * (tn + 1) + (j)]
	for (size_t i = gn; i-- > 0;)
		for (size_t j = tn; j-- > 0;)
			L(i, j) = same(g, pre + i, t, pre + j) ? L(i + 1, j + 1) + 1
				  : L(i + 1, j) > L(i, j + 1) ? L(i + 1, j) : L(i, j + 1);
	size_t i = 0, j = 0;
	while (i < gn || j < tn) {
		if (i < gn && j < tn && same(g, pre + i, t, pre + j)) {
			i++;
			j++;
		} else if (i < gn && (j == tn || L(i + 1, j) >= L(i, j + 1))) {
			if (shown++ < SHOW_LINES)
				fprintf(err, "  - %4zu  %.*s\n", pre + i + 1, (int)g->len[pre + i],
					g->s[pre + i]);
			total++;
			i++;
		} else {
			if (shown++ < SHOW_LINES)
				fprintf(err, "  + %4zu  %.*s\n", pre + j + 1, (int)t->len[pre + j],
					t->s[pre + j]);
			total++;
			j++;
		}
	}
#undef L
	if (total > SHOW_LINES)
		fprintf(err, "  ... %d more lines differ\n", total - SHOW_LINES);
	free(lcs);
	return 1;
}

int us_script_golden_compare(const char *golden_path, const char *trace, FILE *err)
{
	char *golden = read_all(golden_path);
	if (!golden) {
		fprintf(err, "%s: %s (write it with --update-golden once the trace is right)\n",
			golden_path, strerror(errno));
		return -1;
	}
	struct lines g = { 0 }, t = { 0 };
	int rc = -1;
	if (split(golden, &g) == 0 && split(trace, &t) == 0) {
		rc = 0;
		bool equal = g.n == t.n;
		for (size_t i = 0; equal && i < g.n; i++)
			equal = same(&g, i, &t, i);
		if (!equal) {
			fprintf(err, "%s: the trace differs from the golden file (- golden, + this "
				     "run; refresh it on purpose with --update-golden):\n",
				golden_path);
			rc = show_diff(&g, &t, err);
		}
	} else {
		fprintf(err, "%s: out of memory\n", golden_path);
	}
	free(g.s);
	free(g.len);
	free(t.s);
	free(t.len);
	free(golden);
	return rc;
}

int us_script_golden_write(const char *golden_path, const char *trace, FILE *err)
{
	FILE *f = fopen(golden_path, "we");
	if (!f) {
		fprintf(err, "%s: %s\n", golden_path, strerror(errno));
		return -1;
	}
	int bad = fputs(trace, f) < 0;
	bad |= fclose(f) != 0;
	if (bad) {
		fprintf(err, "%s: cannot write it\n", golden_path);
		return -1;
	}
	return 0;
}
