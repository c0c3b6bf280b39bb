/* SPDX-License-Identifier: MIT */
/*
 * tools/script/parse.c - the parser of packet scripts: each line into a
 * struct us_script_event, or an error that names the line and column.
 *
 * The grammar (one event per line; docs/scripts.md explains it with
 * examples):
 *
 *   line    := blank | comment | 'set' NAME VALUE | time event
 *   time    := '*' | tv ['~' tv]          tv := ['+'] seconds
 *   event   := '<' seg | '>' seg | '>' 'nothing' 'until' tv | call
 *   seg     := ['@' port] ['[' ECN ']'] FLAGS val ':' val '(' val ')'
 *              ['ack' val] ['win' val] ['<' opts '>'] ['gso' val]
 *   val     := ['-'] INT | '*'
 *   opts    := '*' | opt (',' opt)*
 *   opt     := 'mss' val | 'wscale' val | 'sackOK' | 'nop' | 'eol'
 *            | 'TS' 'val' val 'ecr' val | 'sack' (val ':' val)+
 *
 *   set offloads := 'none' | OFFLOAD (',' OFFLOAD)*   OFFLOAD := csum | tso | tso4 | tso6
 *   ECN     := 'noecn' | 'ect1' | 'ect0' | 'ce'   (the IP ECN field, RFC 3168 §5)
 *
 * A `<` line takes no wildcard, except `ecr *` in its TS option: the
 * TSval of the last segment the stack sent on that connection.
 *   call    := NAME '(' [arg (',' arg)*] ')' '=' result
 *   arg     := '...' | ['-'] INT | NAME | '[' (INT | NAME) ']'
 *            | '{' NAME '=' INT (',' NAME '=' INT)* '}'
 *   result  := '*' | ['-'] INT [ERRNO ['(' text ')']] | STATE
 *
 * This is packetdrill's syntax where packetdrill has one (flags in
 * tcpdump's letters, seq:end(len), <options> as tcpdump prints them).
 *
 * Read first: script.h, lex.h.
 */
#include "script.h"

#include "lex.h"
#include "wire/tcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS 100000

static const struct {
	const char *name;
	int value;
} errno_names[] = {
	{ "EAGAIN", EAGAIN },	      { "EWOULDBLOCK", EWOULDBLOCK },
	{ "EINPROGRESS", EINPROGRESS }, { "EALREADY", EALREADY },
	{ "EISCONN", EISCONN },	      { "ENOTCONN", ENOTCONN },
	{ "ECONNREFUSED", ECONNREFUSED }, { "ECONNRESET", ECONNRESET },
	{ "ECONNABORTED", ECONNABORTED }, { "ETIMEDOUT", ETIMEDOUT },
	{ "EPIPE", EPIPE },	      { "EINVAL", EINVAL },
	{ "EBADF", EBADF },	      { "EADDRINUSE", EADDRINUSE },
	{ "EADDRNOTAVAIL", EADDRNOTAVAIL }, { "ENETUNREACH", ENETUNREACH },
	{ "EHOSTUNREACH", EHOSTUNREACH }, { "EAFNOSUPPORT", EAFNOSUPPORT },
	{ "ENOPROTOOPT", ENOPROTOOPT }, { "ENOBUFS", ENOBUFS },
	{ "EOPNOTSUPP", EOPNOTSUPP },   { "EMSGSIZE", EMSGSIZE },
	{ "ENOTSOCK", ENOTSOCK },	      { "EPERM", EPERM },
	{ "EACCES", EACCES },	      { "ENOMEM", ENOMEM },
};

int us_script_errno_value(const char *name)
{
	for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
		if (strcmp(errno_names[i].name, name) == 0)
			return errno_names[i].value;
	return 0;
}

const char *us_script_errno_name(int err)
{
	for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
		if (errno_names[i].value == err)
			return errno_names[i].name;
	return NULL;
}

/* Seconds with up to six decimals, to microseconds. */
static int seconds_to_us(struct us_lex *lx, const struct us_tok *t, us_time_t *out)
{
	const char *p = t->text;
	int64_t whole = 0, frac = 0;
	int digits = 0;
	while (*p >= '0' && *p <= '9') {
		whole = whole * 10 + (*p++ - '0');
		if (whole > 1000000000)
			return us_lex_error(lx, t->col, "time %s is too large", t->text);
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (++digits > 6)
				return us_lex_error(lx, t->col,
						    "time %s has more than six decimals (microseconds)",
						    t->text);
			frac = frac * 10 + (*p++ - '0');
		}
	}
	for (int i = digits; i < 6; i++)
		frac *= 10;
	*out = whole * 1000000 + frac;
	return 0;
}

static int parse_timeval(struct us_lex *lx, bool *relative, us_time_t *t)
{
	struct us_tok tok = us_lex_next(lx);
	*relative = false;
	if (tok.kind == US_TOK_PUNCT && tok.text[0] == '+') {
		*relative = true;
		tok = us_lex_next(lx);
	}
	if (tok.kind != US_TOK_NUM)
		return us_lex_error(lx, tok.col, "expected a time in seconds (0.1, +0.1 or *), found '%s'",
				    tok.kind == US_TOK_END ? "end of line" : tok.text);
	return seconds_to_us(lx, &tok, t);
}

static int parse_time(struct us_lex *lx, struct us_script_time *tm)
{
	memset(tm, 0, sizeof *tm);
	struct us_tok tok = us_lex_peek(lx);
	if (tok.kind == US_TOK_PUNCT && tok.text[0] == '*') {
		us_lex_next(lx);
		tm->any = true;
		return 0;
	}
	if (parse_timeval(lx, &tm->relative, &tm->t) < 0)
		return -1;
	tok = us_lex_peek(lx);
	if (tok.kind == US_TOK_PUNCT && tok.text[0] == '~') {
		us_lex_next(lx);
		tm->has_end = true;
		if (parse_timeval(lx, &tm->end_relative, &tm->end) < 0)
			return -1;
	}
	return 0;
}

static bool is_punct(const struct us_tok *t, char c)
{
	return t->kind == US_TOK_PUNCT && t->text[0] == c;
}

static bool is_ident(const struct us_tok *t, const char *s)
{
	return t->kind == US_TOK_IDENT && strcmp(t->text, s) == 0;
}

static const char *shown(const struct us_tok *t)
{
	return t->kind == US_TOK_END ? "end of line" : t->text;
}

static int expect_punct(struct us_lex *lx, char c, const char *what)
{
	struct us_tok t = us_lex_next(lx);
	if (!is_punct(&t, c))
		return us_lex_error(lx, t.col, "expected '%c' %s, found '%s'", c, what, shown(&t));
	return 0;
}

/* A decimal integer (no decimals), possibly negative. */
static int parse_int(struct us_lex *lx, int64_t *out, const char *what)
{
	struct us_tok t = us_lex_next(lx);
	bool neg = false;
	if (is_punct(&t, '-')) {
		neg = true;
		t = us_lex_next(lx);
	}
	if (t.kind != US_TOK_NUM || strchr(t.text, '.'))
		return us_lex_error(lx, t.col, "expected %s (an integer), found '%s'", what, shown(&t));
	char *end;
	errno = 0;
	long long v = strtoll(t.text, &end, 10);
	if (errno || v > 0xffffffffLL)
		return us_lex_error(lx, t.col, "%s %s is out of range", what, t.text);
	*out = neg ? -v : v;
	return 0;
}

static int parse_val(struct us_lex *lx, struct us_script_val *v, const char *what)
{
	struct us_tok t = us_lex_peek(lx);
	v->given = true;
	if (is_punct(&t, '*')) {
		us_lex_next(lx);
		v->wild = true;
		return 0;
	}
	return parse_int(lx, &v->v, what);
}

static int parse_flags(struct us_lex *lx, uint8_t *flags)
{
	char text[16];
	int col;
	if (!us_lex_flags(lx, text, sizeof text, &col))
		return us_lex_error(lx, col,
				    "expected TCP flags in tcpdump's letters (S, S., ., P., F., R, R.)");
	*flags = 0;
	for (const char *p = text; *p; p++) {
		uint8_t bit = 0;
		switch (*p) {
		case 'F': bit = US_TCP_FIN; break;
		case 'S': bit = US_TCP_SYN; break;
		case 'R': bit = US_TCP_RST; break;
		case 'P': bit = US_TCP_PSH; break;
		case '.': bit = US_TCP_ACK; break;
		case 'U': bit = US_TCP_URG; break;
		case 'E': bit = US_TCP_ECE; break;
		case 'W': bit = US_TCP_CWR; break;
		default: break;
		}
		if (*flags & bit)
			return us_lex_error(lx, col + (int)(p - text), "flag '%c' given twice", *p);
		*flags |= bit;
	}
	return 0;
}

static int parse_opt(struct us_lex *lx, struct us_script_opt *o)
{
	struct us_tok t = us_lex_next(lx);
	memset(o, 0, sizeof *o);
	if (is_ident(&t, "mss")) {
		o->kind = US_SOPT_MSS;
		return parse_val(lx, &o->a, "an MSS");
	}
	if (is_ident(&t, "wscale")) {
		o->kind = US_SOPT_WSCALE;
		return parse_val(lx, &o->a, "a window scale shift");
	}
	if (is_ident(&t, "sackOK")) {
		o->kind = US_SOPT_SACKOK;
		return 0;
	}
	if (is_ident(&t, "nop")) {
		o->kind = US_SOPT_NOP;
		return 0;
	}
	if (is_ident(&t, "eol")) {
		o->kind = US_SOPT_EOL;
		return 0;
	}
	if (is_ident(&t, "TS")) {
		o->kind = US_SOPT_TS;
		struct us_tok k = us_lex_next(lx);
		if (!is_ident(&k, "val"))
			return us_lex_error(lx, k.col, "expected 'val' after TS, found '%s'", shown(&k));
		if (parse_val(lx, &o->a, "a TSval") < 0)
			return -1;
		k = us_lex_next(lx);
		if (!is_ident(&k, "ecr"))
			return us_lex_error(lx, k.col, "expected 'ecr' after the TSval, found '%s'", shown(&k));
		return parse_val(lx, &o->b, "a TSecr");
	}
	if (is_ident(&t, "sack")) {
		o->kind = US_SOPT_SACK;
		do {
			if (o->nsack == US_SCRIPT_MAX_SACK)
				return us_lex_error(lx, us_lex_col(lx), "at most %d SACK blocks fit",
						    US_SCRIPT_MAX_SACK);
			if (parse_val(lx, &o->sack[o->nsack][0], "a SACK left edge") < 0 ||
			    expect_punct(lx, ':', "between the SACK block's edges") < 0 ||
			    parse_val(lx, &o->sack[o->nsack][1], "a SACK right edge") < 0)
				return -1;
			o->nsack++;
			t = us_lex_peek(lx);
		} while (t.kind == US_TOK_NUM || is_punct(&t, '*'));
		return 0;
	}
	return us_lex_error(lx, t.col,
			    "unknown TCP option '%s' (mss, wscale, sackOK, sack, TS, nop, eol)",
			    shown(&t));
}

static int parse_opts(struct us_lex *lx, struct us_script_seg *sg)
{
	sg->opts_given = true;
	struct us_tok t = us_lex_peek(lx);
	if (is_punct(&t, '*')) {
		us_lex_next(lx);
		sg->opts_wild = true;
		return expect_punct(lx, '>', "to end the options");
	}
	if (is_punct(&t, '>')) {
		us_lex_next(lx);
		return 0;
	}
	for (;;) {
		if (sg->nopts == US_SCRIPT_MAX_OPTS)
			return us_lex_error(lx, us_lex_col(lx), "too many options");
		if (parse_opt(lx, &sg->opts[sg->nopts++]) < 0)
			return -1;
		t = us_lex_next(lx);
		if (is_punct(&t, '>'))
			return 0;
		if (!is_punct(&t, ','))
			return us_lex_error(lx, t.col, "expected ',' or '>' in the options, found '%s'",
					    shown(&t));
	}
}

static int parse_seg(struct us_lex *lx, struct us_script_seg *sg, bool inbound)
{
	memset(sg, 0, sizeof *sg);
	struct us_tok t = us_lex_peek(lx);
	if (is_punct(&t, '@')) {
		us_lex_next(lx);
		int64_t port;
		int col = us_lex_col(lx);
		if (parse_int(lx, &port, "a peer port") < 0)
			return -1;
		if (port < 1 || port > 65535)
			return us_lex_error(lx, col, "port %lld is not in 1..65535", (long long)port);
		sg->peer_port = (int)port;
	}
	t = us_lex_peek(lx);
	if (is_punct(&t, '[')) {
		us_lex_next(lx);
		struct us_tok e = us_lex_next(lx);
		int v = e.kind == US_TOK_IDENT ? us_script_ecn_value(e.text) : -1;
		if (v < 0)
			return us_lex_error(lx, e.col,
					    "expected an ECN codepoint (noecn, ect1, ect0, ce), found '%s'",
					    shown(&e));
		sg->ecn_given = true;
		sg->ecn = (uint8_t)v;
		if (expect_punct(lx, ']', "after the ECN codepoint") < 0)
			return -1;
	}
	if (parse_flags(lx, &sg->flags) < 0)
		return -1;
	int seq_col = us_lex_col(lx);
	if (parse_val(lx, &sg->seq, "a sequence number") < 0 ||
	    expect_punct(lx, ':', "between the first and the end sequence number") < 0 ||
	    parse_val(lx, &sg->end, "an end sequence number") < 0 ||
	    expect_punct(lx, '(', "before the payload length") < 0 ||
	    parse_val(lx, &sg->len, "a payload length") < 0 ||
	    expect_punct(lx, ')', "after the payload length") < 0)
		return -1;
	if (inbound && (sg->seq.wild || sg->end.wild || sg->len.wild))
		return us_lex_error(lx, seq_col, "a segment the peer sends cannot have wildcards");
	if (!sg->len.wild && (sg->len.v < 0 || sg->len.v > 65535))
		return us_lex_error(lx, seq_col, "payload length %lld is not in 0..65535",
				    (long long)sg->len.v);
	if (!sg->seq.wild && !sg->end.wild && !sg->len.wild &&
	    (uint32_t)(sg->end.v - sg->seq.v) != (uint32_t)sg->len.v)
		return us_lex_error(lx, seq_col, "end %lld minus start %lld is not the length %lld",
				    (long long)sg->end.v, (long long)sg->seq.v, (long long)sg->len.v);
	for (;;) {
		t = us_lex_next(lx);
		if (t.kind == US_TOK_END)
			break;
		if (is_ident(&t, "ack")) {
			if (sg->ack.given)
				return us_lex_error(lx, t.col, "ack given twice");
			if (!(sg->flags & US_TCP_ACK))
				return us_lex_error(lx, t.col, "an ack number needs the ACK flag ('.')");
			if (parse_val(lx, &sg->ack, "an acknowledgment number") < 0)
				return -1;
		} else if (is_ident(&t, "win")) {
			if (sg->win.given)
				return us_lex_error(lx, t.col, "win given twice");
			int col = us_lex_col(lx);
			if (parse_val(lx, &sg->win, "a window") < 0)
				return -1;
			if (!sg->win.wild && (sg->win.v < 0 || sg->win.v > 65535))
				return us_lex_error(lx, col, "window %lld is not in 0..65535",
						    (long long)sg->win.v);
			if (inbound && sg->win.wild)
				return us_lex_error(lx, col, "a segment the peer sends cannot have wildcards");
		} else if (is_ident(&t, "gso")) {
			if (sg->gso.given)
				return us_lex_error(lx, t.col, "gso given twice");
			int col = us_lex_col(lx);
			if (parse_val(lx, &sg->gso, "a gso_size") < 0)
				return -1;
			if (!sg->gso.wild && (sg->gso.v < 1 || sg->gso.v > 65535))
				return us_lex_error(lx, col, "gso_size %lld is not in 1..65535",
						    (long long)sg->gso.v);
			if (inbound && sg->gso.wild)
				return us_lex_error(lx, col, "a segment the peer sends cannot have wildcards");
		} else if (is_punct(&t, '<')) {
			if (sg->opts_given)
				return us_lex_error(lx, t.col, "options given twice");
			if (parse_opts(lx, sg) < 0)
				return -1;
			if (inbound && sg->opts_wild)
				return us_lex_error(lx, t.col, "a segment the peer sends cannot have wildcards");
		} else {
			return us_lex_error(lx, t.col, "expected 'ack', 'win', '<options>', 'gso' or the end of the line, found '%s'",
					    t.text);
		}
	}
	if (inbound && (sg->flags & US_TCP_ACK) && !sg->ack.given)
		return us_lex_error(lx, us_lex_col(lx), "a segment with the ACK flag needs 'ack N'");
	if (inbound) {
		for (int i = 0; i < sg->nopts; i++) {
			struct us_script_opt *o = &sg->opts[i];
			/* `TS val N ecr *`: the peer echoes the stack's last TSval
			 * (run.c), which the script cannot know. */
			bool wild = o->a.wild || (o->b.wild && o->kind != US_SOPT_TS);
			for (int j = 0; j < o->nsack; j++)
				wild = wild || o->sack[j][0].wild || o->sack[j][1].wild;
			if (wild)
				return us_lex_error(lx, seq_col,
						    "a segment the peer sends cannot have wildcards");
		}
	}
	return 0;
}

static int parse_arg(struct us_lex *lx, struct us_script_arg *a)
{
	memset(a, 0, sizeof *a);
	struct us_tok t = us_lex_peek(lx);
	a->col = t.col;
	if (t.kind == US_TOK_ELLIPSIS) {
		us_lex_next(lx);
		a->kind = US_SARG_ELLIPSIS;
		return 0;
	}
	if (t.kind == US_TOK_NUM || is_punct(&t, '-')) {
		a->kind = US_SARG_INT;
		return parse_int(lx, &a->i, "an argument");
	}
	if (t.kind == US_TOK_IDENT) {
		us_lex_next(lx);
		a->kind = US_SARG_IDENT;
		snprintf(a->ident, sizeof a->ident, "%s", t.text);
		return 0;
	}
	if (is_punct(&t, '[')) {
		us_lex_next(lx);
		a->kind = US_SARG_LIST;
		t = us_lex_peek(lx);
		if (t.kind == US_TOK_IDENT) {
			us_lex_next(lx);
			snprintf(a->ident, sizeof a->ident, "%s", t.text);
		} else if (parse_int(lx, &a->i, "a value") < 0) {
			return -1;
		}
		return expect_punct(lx, ']', "after the value");
	}
	if (is_punct(&t, '{')) {
		us_lex_next(lx);
		a->kind = US_SARG_STRUCT;
		for (;;) {
			t = us_lex_next(lx);
			if (t.kind != US_TOK_IDENT)
				return us_lex_error(lx, t.col, "expected a field name, found '%s'", shown(&t));
			if (a->nfields == US_SCRIPT_MAX_FIELDS)
				return us_lex_error(lx, t.col, "too many fields");
			snprintf(a->field[a->nfields], sizeof a->field[0], "%s", t.text);
			if (expect_punct(lx, '=', "after the field name") < 0 ||
			    parse_int(lx, &a->field_val[a->nfields], "a field value") < 0)
				return -1;
			a->nfields++;
			t = us_lex_next(lx);
			if (is_punct(&t, '}'))
				return 0;
			if (!is_punct(&t, ','))
				return us_lex_error(lx, t.col, "expected ',' or '}', found '%s'", shown(&t));
		}
	}
	return us_lex_error(lx, t.col, "expected an argument (a number, a name, '...', [v] or {f=v}), found '%s'",
			    shown(&t));
}

static int parse_call(struct us_lex *lx, struct us_script_call *c)
{
	memset(c, 0, sizeof *c);
	const char *start = lx->s + us_lex_col(lx) - 1;
	struct us_tok t = us_lex_next(lx);
	snprintf(c->name, sizeof c->name, "%s", t.text);
	if (expect_punct(lx, '(', "after the call's name") < 0)
		return -1;
	t = us_lex_peek(lx);
	if (is_punct(&t, ')')) {
		us_lex_next(lx);
	} else {
		for (;;) {
			if (c->nargs == US_SCRIPT_MAX_ARGS)
				return us_lex_error(lx, us_lex_col(lx), "too many arguments");
			if (parse_arg(lx, &c->args[c->nargs++]) < 0)
				return -1;
			t = us_lex_next(lx);
			if (is_punct(&t, ')'))
				break;
			if (!is_punct(&t, ','))
				return us_lex_error(lx, t.col, "expected ',' or ')' in the arguments, found '%s'",
						    shown(&t));
		}
	}
	const char *stop = lx->s + lx->pos;
	snprintf(c->text, sizeof c->text, "%.*s", (int)(stop - start), start);
	if (expect_punct(lx, '=', "and the expected result after the call") < 0)
		return -1;
	t = us_lex_peek(lx);
	if (is_punct(&t, '*')) {
		us_lex_next(lx);
		c->ret_wild = true;
	} else if (t.kind == US_TOK_IDENT) {
		us_lex_next(lx);
		snprintf(c->ret_ident, sizeof c->ret_ident, "%s", t.text);
	} else {
		if (parse_int(lx, &c->ret, "the result") < 0)
			return -1;
		t = us_lex_peek(lx);
		if (t.kind == US_TOK_IDENT) {
			us_lex_next(lx);
			c->err = us_script_errno_value(t.text);
			if (!c->err)
				return us_lex_error(lx, t.col, "unknown errno name '%s'", t.text);
			if (c->ret != -1)
				return us_lex_error(lx, t.col, "an errno goes with the result -1");
			/* "(Resource temporarily unavailable)": strace's words, ignored. */
			t = us_lex_peek(lx);
			if (is_punct(&t, '(')) {
				const char *rest;
				size_t n = us_lex_rest(lx, &rest);
				if (n == 0 || rest[n - 1] != ')')
					return us_lex_error(lx, t.col, "the errno's text lacks its ')'");
				lx->pos += n;
			}
		} else if (c->ret == -1) {
			return us_lex_error(lx, t.col, "a result of -1 needs an errno name (-1 EAGAIN)");
		}
	}
	t = us_lex_next(lx);
	if (t.kind != US_TOK_END)
		return us_lex_error(lx, t.col, "expected the end of the line, found '%s'", t.text);
	return 0;
}

static int parse_set(struct us_lex *lx, struct us_script_config *cfg, bool after_events)
{
	struct us_tok name = us_lex_next(lx);
	if (after_events)
		return us_lex_error(lx, name.col, "'set' lines come before the first event");
	if (name.kind != US_TOK_IDENT)
		return us_lex_error(lx, name.col, "expected a setting's name after 'set'");
	struct us_tok v = us_lex_peek(lx);
	int64_t n;
	if (strcmp(name.text, "family") == 0) {
		us_lex_next(lx);
		if (is_ident(&v, "ipv4"))
			cfg->family = 4;
		else if (is_ident(&v, "ipv6"))
			cfg->family = 6;
		else
			return us_lex_error(lx, v.col, "family is ipv4 or ipv6, not '%s'", shown(&v));
	} else if (strcmp(name.text, "offloads") == 0) {
		/* What the runner's link takes (enum us_offload): `none`, or
		 * csum, tso (TSO4 and TSO6), tso4, tso6 separated by commas. */
		cfg->offloads = 0;
		for (;;) {
			struct us_tok o = us_lex_next(lx);
			if (is_ident(&o, "csum"))
				cfg->offloads |= US_OFFLOAD_CSUM;
			else if (is_ident(&o, "tso"))
				cfg->offloads |= US_OFFLOAD_TSO4 | US_OFFLOAD_TSO6;
			else if (is_ident(&o, "tso4"))
				cfg->offloads |= US_OFFLOAD_TSO4;
			else if (is_ident(&o, "tso6"))
				cfg->offloads |= US_OFFLOAD_TSO6;
			else if (!is_ident(&o, "none"))
				return us_lex_error(lx, o.col, "offloads are none or csum, tso, tso4, tso6 separated by ',', not '%s'",
						    shown(&o));
			struct us_tok sep = us_lex_peek(lx);
			if (!is_punct(&sep, ','))
				break;
			us_lex_next(lx);
		}
	} else if (strcmp(name.text, "msl") == 0 || strcmp(name.text, "tolerance") == 0) {
		us_lex_next(lx);
		us_time_t t;
		if (v.kind != US_TOK_NUM)
			return us_lex_error(lx, v.col, "expected seconds, found '%s'", shown(&v));
		if (seconds_to_us(lx, &v, &t) < 0)
			return -1;
		if (name.text[0] == 'm')
			cfg->msl = t;
		else
			cfg->tolerance = t;
	} else if (strcmp(name.text, "mtu") == 0 || strcmp(name.text, "local_port") == 0 ||
		   strcmp(name.text, "peer_port") == 0 || strcmp(name.text, "irs") == 0) {
		if (parse_int(lx, &n, name.text) < 0)
			return -1;
		if (strcmp(name.text, "mtu") == 0) {
			if (n < 1280 || n > 9000)
				return us_lex_error(lx, v.col, "mtu %lld is not in 1280..9000", (long long)n);
			cfg->mtu = (uint32_t)n;
		} else if (strcmp(name.text, "irs") == 0) {
			if (n < 0)
				return us_lex_error(lx, v.col, "irs is not negative");
			cfg->irs = (uint32_t)n;
		} else {
			if (n < 1 || n > 65535)
				return us_lex_error(lx, v.col, "port %lld is not in 1..65535", (long long)n);
			if (name.text[0] == 'l')
				cfg->local_port = (uint16_t)n;
			else
				cfg->peer_port = (uint16_t)n;
		}
	} else {
		return us_lex_error(lx, name.col,
				    "unknown setting '%s' (family, mtu, msl, local_port, peer_port, irs, tolerance, offloads)",
				    name.text);
	}
	struct us_tok end = us_lex_next(lx);
	if (end.kind != US_TOK_END)
		return us_lex_error(lx, end.col, "expected the end of the line, found '%s'", end.text);
	return 0;
}

static int parse_line(struct us_lex *lx, struct us_script *sc, struct us_script_event *ev,
		      bool *is_event)
{
	*is_event = false;
	struct us_tok t = us_lex_peek(lx);
	if (t.kind == US_TOK_END)
		return 0;
	if (is_ident(&t, "set")) {
		us_lex_next(lx);
		return parse_set(lx, &sc->cfg, sc->nevents > 0);
	}
	memset(ev, 0, sizeof *ev);
	ev->line = lx->line;
	if (parse_time(lx, &ev->time) < 0)
		return -1;
	t = us_lex_peek(lx);
	if (is_punct(&t, '<')) {
		us_lex_next(lx);
		ev->kind = US_SEV_IN;
		if (ev->time.any || ev->time.has_end)
			return us_lex_error(lx, 1, "a segment the peer sends has an exact time");
		if (parse_seg(lx, &ev->seg, true) < 0)
			return -1;
	} else if (is_punct(&t, '>')) {
		us_lex_next(lx);
		t = us_lex_peek(lx);
		if (is_ident(&t, "nothing")) {
			us_lex_next(lx);
			ev->kind = US_SEV_NOTHING;
			struct us_tok u = us_lex_next(lx);
			if (!is_ident(&u, "until"))
				return us_lex_error(lx, u.col, "expected 'until' after 'nothing', found '%s'",
						    shown(&u));
			if (ev->time.any || ev->time.has_end)
				return us_lex_error(lx, 1, "'nothing until' starts at an exact time");
			if (parse_timeval(lx, &ev->until.relative, &ev->until.t) < 0)
				return -1;
			u = us_lex_next(lx);
			if (u.kind != US_TOK_END)
				return us_lex_error(lx, u.col, "expected the end of the line, found '%s'", u.text);
		} else {
			ev->kind = US_SEV_OUT;
			if (parse_seg(lx, &ev->seg, false) < 0)
				return -1;
		}
	} else if (t.kind == US_TOK_IDENT) {
		ev->kind = US_SEV_CALL;
		if (ev->time.any || ev->time.has_end)
			return us_lex_error(lx, 1, "a socket call has an exact time");
		if (parse_call(lx, &ev->call) < 0)
			return -1;
	} else {
		return us_lex_error(lx, t.col,
				    "expected '<' (the peer sends), '>' (the stack sends) or a socket call, found '%s'",
				    shown(&t));
	}
	*is_event = true;
	return 0;
}

int us_script_parse(const char *path, const char *text, struct us_script *out, char *errbuf,
		    size_t errcap)
{
	memset(out, 0, sizeof *out);
	out->path = strdup(path);
	out->cfg = (struct us_script_config){ .family = 4, .mtu = 1500, .local_port = 4242,
					      .peer_port = 40000, .irs = 1000000 };
	size_t cap = 64;
	out->events = calloc(cap, sizeof *out->events);
	if (!out->path || !out->events) {
		snprintf(errbuf, errcap, "%s: out of memory\n", path);
		return -1;
	}
	int line = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		struct us_lex lx;
		us_lex_init(&lx, path, ++line, p, len, errbuf, errcap);
		struct us_script_event ev;
		bool is_event;
		if (parse_line(&lx, out, &ev, &is_event) < 0)
			return -1;
		if (is_event) {
			if ((size_t)out->nevents == cap) {
				if (cap >= MAX_EVENTS) {
					us_lex_error(&lx, 1, "more than %d events", MAX_EVENTS);
					return -1;
				}
				cap *= 2;
				struct us_script_event *n = realloc(out->events, cap * sizeof *n);
				if (!n) {
					snprintf(errbuf, errcap, "%s: out of memory\n", path);
					return -1;
				}
				out->events = n;
			}
			out->events[out->nevents++] = ev;
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	return 0;
}

int us_script_load(const char *path, struct us_script *out, char *errbuf, size_t errcap)
{
	memset(out, 0, sizeof *out);
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(errbuf, errcap, "%s: %s\n", path, strerror(errno));
		return -1;
	}
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
		snprintf(errbuf, errcap, "%s: out of memory\n", path);
		return -1;
	}
	int r = us_script_parse(path, text, out, errbuf, errcap);
	free(text);
	return r;
}

void us_script_free(struct us_script *sc)
{
	free(sc->path);
	free(sc->events);
	memset(sc, 0, sizeof *sc);
}
