/* SPDX-License-Identifier: MIT */
/*
 * tools/script/lex.c - the lexer of packet scripts (see lex.h).
 *
 * Blanks separate tokens; `//` and `#` start a comment that runs to the end
 * of the line. A number is digits with at most one '.', so "0.040" is one
 * token and "1:1001(1000)" is five. "..." is one token (an argument left
 * out, as in strace's output).
 *
 * Read first: lex.h.
 */
#include "lex.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void us_lex_init(struct us_lex *lx, const char *path, int line, const char *s, size_t len,
		 char *err, size_t errcap)
{
	memset(lx, 0, sizeof *lx);
	lx->path = path;
	lx->line = line;
	lx->s = s;
	lx->len = len;
	lx->err = err;
	lx->errcap = errcap;
}

static bool at_comment(const struct us_lex *lx)
{
	if (lx->pos >= lx->len)
		return false;
	if (lx->s[lx->pos] == '#')
		return true;
	return lx->s[lx->pos] == '/' && lx->pos + 1 < lx->len && lx->s[lx->pos + 1] == '/';
}

static void skip_blanks(struct us_lex *lx)
{
	while (lx->pos < lx->len && (lx->s[lx->pos] == ' ' || lx->s[lx->pos] == '\t' ||
				     lx->s[lx->pos] == '\r'))
		lx->pos++;
	if (at_comment(lx))
		lx->pos = lx->len;
}

int us_lex_col(struct us_lex *lx)
{
	skip_blanks(lx);
	return (int)lx->pos + 1;
}

static void copy_text(struct us_tok *t, const char *s, size_t n)
{
	if (n >= sizeof t->text)
		n = sizeof t->text - 1;
	memcpy(t->text, s, n);
	t->text[n] = '\0';
}

struct us_tok us_lex_next(struct us_lex *lx)
{
	struct us_tok t = { .kind = US_TOK_END };
	skip_blanks(lx);
	t.col = (int)lx->pos + 1;
	if (lx->pos >= lx->len)
		return t;
	const char *p = lx->s + lx->pos;
	size_t left = lx->len - lx->pos, n = 0;
	if (left >= 3 && memcmp(p, "...", 3) == 0) {
		t.kind = US_TOK_ELLIPSIS;
		n = 3;
	} else if (isdigit((unsigned char)p[0]) ||
		   (p[0] == '.' && left > 1 && isdigit((unsigned char)p[1]))) {
		bool dot = false;
		t.kind = US_TOK_NUM;
		while (n < left && (isdigit((unsigned char)p[n]) || (p[n] == '.' && !dot))) {
			if (p[n] == '.')
				dot = true;
			n++;
		}
	} else if (isalpha((unsigned char)p[0]) || p[0] == '_') {
		t.kind = US_TOK_IDENT;
		while (n < left && (isalnum((unsigned char)p[n]) || p[n] == '_'))
			n++;
	} else {
		t.kind = US_TOK_PUNCT;
		n = 1;
	}
	copy_text(&t, p, n);
	lx->pos += n;
	return t;
}

struct us_tok us_lex_peek(struct us_lex *lx)
{
	size_t pos = lx->pos;
	struct us_tok t = us_lex_next(lx);
	lx->pos = pos;
	return t;
}

bool us_lex_flags(struct us_lex *lx, char *out, size_t cap, int *col)
{
	skip_blanks(lx);
	*col = (int)lx->pos + 1;
	size_t n = 0;
	while (lx->pos + n < lx->len && strchr("FSRPUEW.", lx->s[lx->pos + n]) &&
	       lx->s[lx->pos + n] != '\0')
		n++;
	/* "S" followed by a letter is a word, not flags. */
	if (n == 0 || (lx->pos + n < lx->len && isalnum((unsigned char)lx->s[lx->pos + n])))
		return false;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, lx->s + lx->pos, n);
	out[n] = '\0';
	lx->pos += n;
	return true;
}

size_t us_lex_rest(struct us_lex *lx, const char **start)
{
	skip_blanks(lx);
	*start = lx->s + lx->pos;
	size_t end = lx->pos;
	while (end < lx->len) {
		if (lx->s[end] == '#' ||
		    (lx->s[end] == '/' && end + 1 < lx->len && lx->s[end + 1] == '/'))
			break;
		end++;
	}
	while (end > lx->pos && (lx->s[end - 1] == ' ' || lx->s[end - 1] == '\t'))
		end--;
	return end - lx->pos;
}

int us_lex_error(struct us_lex *lx, int col, const char *fmt, ...)
{
	if (lx->failed)
		return -1;
	lx->failed = true;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* The caret goes under the column; tabs in the line are kept so that it
	 * lines up in a terminal. */
	char caret[256];
	size_t i = 0;
	for (; i + 1 < (size_t)col && i < sizeof caret - 2; i++)
		caret[i] = (i < lx->len && lx->s[i] == '\t') ? '\t' : ' ';
	caret[i++] = '^';
	caret[i] = '\0';
	snprintf(lx->err, lx->errcap, "%s:%d:%d: error: %s\n    %.*s\n    %s\n", lx->path, lx->line,
		 col, msg, (int)lx->len, lx->s, caret);
	return -1;
}
