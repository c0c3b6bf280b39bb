/* SPDX-License-Identifier: MIT */
/*
 * api/dns.c - DNS messages for the stub resolver (RFC 1035 §3.1, §4.1,
 * §4.1.4; RFC 2181 §8; RFC 4343 §3; RFC 5452 §9.1), sans-I/O.
 *
 * Read first: dns.h (the format and every check, in order). A query is
 * built by us_dns_query_emit(); an answer is read by
 * us_dns_response_parse(), which treats the message as hostile: every
 * length is checked against the message before it is used, names are
 * decoded with the compression pointers followed only backwards and at
 * most US_DNS_MAX_JUMPS of them, and nothing outside [buf, buf+len) is
 * read. The resolver's socket work is in resolve.c.
 */
#include "dns.h"

#include <string.h>

#include "wire/bytes.h"

static const char *const err_names[US_DNS_ERR_COUNT] = {
    [0] = "ok",
    [-US_DNS_TRUNCATED] = "truncated",
    [-US_DNS_EMPTY_LABEL] = "empty-label",
    [-US_DNS_LABEL_TOO_LONG] = "label-too-long",
    [-US_DNS_NAME_TOO_LONG] = "name-too-long",
    [-US_DNS_PTR_LOOP] = "pointer-loop",
    [-US_DNS_PTR_FORWARD] = "pointer-forward",
    [-US_DNS_PTR_PAST_END] = "pointer-past-end",
    [-US_DNS_TOO_MANY_JUMPS] = "too-many-pointers",
    [-US_DNS_RDATA_PAST_END] = "rdata-past-end",
    [-US_DNS_BAD_RDLENGTH] = "bad-rdlength",
    [-US_DNS_BAD_QDCOUNT] = "bad-qdcount",
    [-US_DNS_WRONG_QUESTION] = "wrong-question",
    [-US_DNS_WRONG_ID] = "wrong-id",
    [-US_DNS_NOT_RESPONSE] = "not-a-response",
    [-US_DNS_BAD_OPCODE] = "bad-opcode",
    [-US_DNS_TC] = "truncated-by-server",
    [-US_DNS_CNAME_CHAIN] = "cname-chain",
};

_Static_assert(-US_DNS_CNAME_CHAIN + 1 == US_DNS_ERR_COUNT, "a DNS error code without a name");

const char *us_dns_strerror(int err)
{
	if (err > 0 || err <= -US_DNS_ERR_COUNT)
		return "unknown";
	return err_names[-err];
}

/* ---- Names ------------------------------------------------------------- */

int us_dns_name_from_text(const char *text, uint8_t *out, size_t *len)
{
	size_t n = 0;
	const char *p = text;

	/* "." alone is the root: no host has it as its name. */
	if (*p == '\0' || (p[0] == '.' && p[1] == '\0'))
		return US_DNS_EMPTY_LABEL;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		if (l == 0)
			return US_DNS_EMPTY_LABEL;
		/* RFC 1035 §2.3.4: "labels 63 octets or less". */
		if (l > US_DNS_LABEL_MAX)
			return US_DNS_LABEL_TOO_LONG;
		/* RFC 1035 §3.1: "the total number of octets that represent a
		 * domain name (i.e., the sum of all label octets and label
		 * lengths) is limited to 255", the root's zero octet included. */
		if (n + 1 + l + 1 > US_DNS_NAME_MAX)
			return US_DNS_NAME_TOO_LONG;
		out[n] = (uint8_t)l;
		memcpy(out + n + 1, p, l);
		n += 1 + l;
		if (!dot)
			break;
		p = dot + 1; /* a trailing dot ends the loop with p at "" */
	}
	out[n++] = 0;
	*len = n;
	return US_DNS_OK;
}

static int put_char(char *buf, size_t cap, size_t *n, char c)
{
	if (*n + 1 >= cap)
		return -1;
	buf[(*n)++] = c;
	return 0;
}

size_t us_dns_name_to_text(const uint8_t *name, size_t len, char *buf, size_t cap)
{
	size_t n = 0, i = 0;

	if (cap == 0)
		return 0;
	if (len == 0)
		return 0;
	if (name[0] == 0) {
		if (put_char(buf, cap, &n, '.') < 0)
			return 0;
		buf[n] = '\0';
		return n;
	}
	while (i < len && name[i] != 0) {
		size_t l = name[i];
		if (i + 1 + l > len)
			return 0;
		if (n > 0 && put_char(buf, cap, &n, '.') < 0)
			return 0;
		for (size_t k = 0; k < l; k++) {
			uint8_t c = name[i + 1 + k];
			if (c == '.' || c == '\\') {
				if (put_char(buf, cap, &n, '\\') < 0 ||
				    put_char(buf, cap, &n, (char)c) < 0)
					return 0;
			} else if (c < '!' || c > '~') {
				/* RFC 1035 §5.1: "\DDD where each D is a digit". */
				if (put_char(buf, cap, &n, '\\') < 0 ||
				    put_char(buf, cap, &n, (char)('0' + c / 100)) < 0 ||
				    put_char(buf, cap, &n, (char)('0' + c / 10 % 10)) < 0 ||
				    put_char(buf, cap, &n, (char)('0' + c % 10)) < 0)
					return 0;
			} else if (put_char(buf, cap, &n, (char)c) < 0) {
				return 0;
			}
		}
		i += 1 + l;
	}
	buf[n] = '\0';
	return n;
}

static uint8_t ascii_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

bool us_dns_name_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	/* Length octets are at most 63, below 'A': folding them is harmless,
	 * so the whole wire form compares octet by octet. */
	for (size_t i = 0; i < alen; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	return true;
}

/*
 * Reads the name at off into out (uncompressed wire form, *out_len octets)
 * and sets *next to the octet after the name where it sits: after its zero
 * octet, or after its first pointer (RFC 1035 §4.1.4).
 *
 * The octets read form segments: from the start, or a pointer's target,
 * to the next pointer. A pointer into any segment already read is a loop;
 * otherwise it must point strictly before itself ("a prior occurrence of
 * the same name", §4.1.4), so every walk ends; US_DNS_MAX_JUMPS bounds it
 * further.
 */
static int read_name(const uint8_t *buf, size_t len, size_t off, uint8_t *out, size_t *out_len,
		     size_t *next)
{
	size_t seg_start[US_DNS_MAX_JUMPS + 1], seg_end[US_DNS_MAX_JUMPS + 1];
	size_t pos = off, n = 0, jumps = 0;
	bool jumped = false;

	seg_start[0] = off;
	for (;;) {
		if (pos >= len)
			return US_DNS_TRUNCATED;
		uint8_t c = buf[pos];
		if ((c & 0xc0) == 0xc0) {
			if (len - pos < 2)
				return US_DNS_TRUNCATED;
			size_t target = (size_t)(us_get_be16(buf + pos) & 0x3fff);
			seg_end[jumps] = pos + 1;
			for (size_t i = 0; i <= jumps; i++)
				if (target >= seg_start[i] && target <= seg_end[i])
					return US_DNS_PTR_LOOP;
			if (target >= len)
				return US_DNS_PTR_PAST_END;
			if (target > pos)
				return US_DNS_PTR_FORWARD;
			if (jumps == US_DNS_MAX_JUMPS)
				return US_DNS_TOO_MANY_JUMPS;
			if (!jumped)
				*next = pos + 2;
			jumped = true;
			seg_start[++jumps] = target;
			pos = target;
			continue;
		}
		/* 01 and 10 are no label type we know (RFC 6891 §5); read as a
		 * length they are 64..191: over the 63 of RFC 1035 §2.3.4. */
		if (c & 0xc0)
			return US_DNS_LABEL_TOO_LONG;
		if (c == 0) {
			out[n++] = 0;
			if (!jumped)
				*next = pos + 1;
			*out_len = n;
			return US_DNS_OK;
		}
		if (len - pos - 1 < c)
			return US_DNS_TRUNCATED;
		/* Room for this label and at least the root's zero octet. */
		if (n + 1 + c + 1 > US_DNS_NAME_MAX)
			return US_DNS_NAME_TOO_LONG;
		memcpy(out + n, buf + pos, 1 + (size_t)c);
		n += 1 + (size_t)c;
		pos += 1 + (size_t)c;
	}
}

/* ---- Queries ----------------------------------------------------------- */

size_t us_dns_query_emit(uint16_t id, const struct us_dns_question *q, uint8_t *buf, size_t cap)
{
	size_t len = US_DNS_HDR_LEN + q->name_len + 4;

	if (q->name_len == 0 || q->name_len > US_DNS_NAME_MAX || cap < len)
		return 0;
	us_put_be16(buf, id);
	us_put_be16(buf + 2, US_DNS_FLAG_RD); /* QR 0 (query), opcode QUERY, RD */
	us_put_be16(buf + 4, 1);	      /* QDCOUNT */
	us_put_be16(buf + 6, 0);	      /* ANCOUNT */
	us_put_be16(buf + 8, 0);	      /* NSCOUNT */
	us_put_be16(buf + 10, 0);	      /* ARCOUNT */
	memcpy(buf + US_DNS_HDR_LEN, q->name, q->name_len);
	us_put_be16(buf + US_DNS_HDR_LEN + q->name_len, q->qtype);
	us_put_be16(buf + US_DNS_HDR_LEN + q->name_len + 2, q->qclass);
	return len;
}

/* ---- Answers ----------------------------------------------------------- */

/* One resource record at *pos (RFC 1035 §4.1.3) into rr; *pos moves past it. */
static int parse_rr(const uint8_t *buf, size_t len, size_t *pos, struct us_dns_rr *rr)
{
	size_t p, end;
	int rc = read_name(buf, len, *pos, rr->name, &rr->name_len, &p);

	if (rc < 0)
		return rc;
	if (len - p < 10)
		return US_DNS_TRUNCATED;
	rr->type = us_get_be16(buf + p);
	rr->rclass = us_get_be16(buf + p + 2);
	rr->ttl = us_get_be32(buf + p + 4);
	/* RFC 2181 §8: a TTL with the most significant bit set is "treated
	 * as if the entire value received was zero". */
	if (rr->ttl & 0x80000000u)
		rr->ttl = 0;
	size_t rdlen = us_get_be16(buf + p + 8);
	p += 10;
	if (rdlen > len - p)
		return US_DNS_RDATA_PAST_END;
	end = p + rdlen;
	*pos = end;
	rr->target_len = 0;
	if (rr->rclass != US_DNS_CLASS_IN)
		return US_DNS_OK;
	switch (rr->type) {
	case US_DNS_TYPE_A: /* RFC 1035 §3.4.1: a 32-bit Internet address */
		if (rdlen != 4)
			return US_DNS_BAD_RDLENGTH;
		rr->ip4 = us_get_be32(buf + p);
		break;
	case US_DNS_TYPE_AAAA: /* RFC 3596 §2.2: a 128-bit IPv6 address */
		if (rdlen != 16)
			return US_DNS_BAD_RDLENGTH;
		memcpy(rr->ip6.b, buf + p, 16);
		break;
	case US_DNS_TYPE_CNAME: { /* RFC 1035 §3.3.1: one name */
		size_t after;
		rc = read_name(buf, len, p, rr->target, &rr->target_len, &after);
		if (rc < 0)
			return rc;
		if (after != end)
			return US_DNS_BAD_RDLENGTH;
		break;
	}
	default:
		break;
	}
	return US_DNS_OK;
}

static bool keep_answer(const struct us_dns_rr *rr)
{
	return rr->rclass == US_DNS_CLASS_IN &&
	       (rr->type == US_DNS_TYPE_A || rr->type == US_DNS_TYPE_AAAA ||
		rr->type == US_DNS_TYPE_CNAME);
}

int us_dns_response_parse(const uint8_t *buf, size_t len, uint16_t id,
			  const struct us_dns_question *q, struct us_dns_msg *out)
{
	struct us_dns_rr rr;
	size_t pos;
	int rc;

	if (len < US_DNS_HDR_LEN)
		return US_DNS_TRUNCATED;
	out->id = us_get_be16(buf);
	out->flags = us_get_be16(buf + 2);
	out->qr = out->flags & US_DNS_FLAG_QR;
	out->opcode = (uint8_t)(out->flags >> 11 & 0xf);
	out->aa = out->flags & US_DNS_FLAG_AA;
	out->tc = out->flags & US_DNS_FLAG_TC;
	out->rd = out->flags & US_DNS_FLAG_RD;
	out->ra = out->flags & US_DNS_FLAG_RA;
	out->rcode = (uint8_t)(out->flags & 0xf);
	out->qdcount = us_get_be16(buf + 4);
	out->ancount = us_get_be16(buf + 6);
	out->nscount = us_get_be16(buf + 8);
	out->arcount = us_get_be16(buf + 10);
	out->n_answers = 0;
	out->skipped = 0;

	/* RFC 5452 §9.1: an answer is ours only when its ID and question
	 * match the query's (and it comes from the server's address and
	 * port: the caller checks that). */
	if (out->id != id)
		return US_DNS_WRONG_ID;
	if (!out->qr)
		return US_DNS_NOT_RESPONSE;
	if (out->opcode != US_DNS_OPCODE_QUERY)
		return US_DNS_BAD_OPCODE;
	/* RFC 1035 §4.2.1: a truncated answer is to be asked again over TCP.
	 * Not implemented: the TCP fallback; a TC answer is refused. */
	if (out->tc)
		return US_DNS_TC;
	if (out->qdcount != 1)
		return US_DNS_BAD_QDCOUNT;

	pos = US_DNS_HDR_LEN;
	struct us_dns_question *eq = &out->question;
	rc = read_name(buf, len, pos, eq->name, &eq->name_len, &pos);
	if (rc < 0)
		return rc;
	if (len - pos < 4)
		return US_DNS_TRUNCATED;
	eq->qtype = us_get_be16(buf + pos);
	eq->qclass = us_get_be16(buf + pos + 2);
	pos += 4;
	if (eq->qtype != q->qtype || eq->qclass != q->qclass ||
	    !us_dns_name_eq(eq->name, eq->name_len, q->name, q->name_len))
		return US_DNS_WRONG_QUESTION;

	for (size_t i = 0; i < out->ancount; i++) {
		rc = parse_rr(buf, len, &pos, &rr);
		if (rc < 0)
			return rc;
		if (keep_answer(&rr) && out->n_answers < US_DNS_MAX_RR)
			out->answers[out->n_answers++] = rr;
		else
			out->skipped++;
	}
	/* The authority and additional sections are only checked: a stub
	 * takes its addresses from the answer section. */
	for (size_t i = 0; i < (size_t)out->nscount + out->arcount; i++) {
		rc = parse_rr(buf, len, &pos, &rr);
		if (rc < 0)
			return rc;
	}
	return US_DNS_OK;
}

int us_dns_cname_chain(const struct us_dns_msg *m, const uint8_t **canon, size_t *canon_len)
{
	const uint8_t *cur = m->question.name;
	size_t cur_len = m->question.name_len;
	int links = 0;

	for (;;) {
		const struct us_dns_rr *link = NULL;
		for (size_t i = 0; i < m->n_answers && !link; i++) {
			const struct us_dns_rr *rr = &m->answers[i];
			/* RFC 2181 §10.1: a name has at most one CNAME; the first counts. */
			if (rr->type == US_DNS_TYPE_CNAME &&
			    us_dns_name_eq(rr->name, rr->name_len, cur, cur_len))
				link = rr;
		}
		if (!link)
			break;
		if (links == US_DNS_MAX_CNAME)
			return US_DNS_CNAME_CHAIN;
		cur = link->target;
		cur_len = link->target_len;
		links++;
	}
	*canon = cur;
	*canon_len = cur_len;
	return links;
}

bool us_dns_answer_is_addr(const struct us_dns_msg *m, const struct us_dns_rr *rr,
			   const uint8_t *canon, size_t canon_len)
{
	return rr->rclass == US_DNS_CLASS_IN && rr->type == m->question.qtype &&
	       (rr->type == US_DNS_TYPE_A || rr->type == US_DNS_TYPE_AAAA) &&
	       us_dns_name_eq(rr->name, rr->name_len, canon, canon_len);
}
