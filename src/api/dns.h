/* SPDX-License-Identifier: MIT */
/*
 * api/dns.h - DNS messages (RFC 1035 §4): building a stub resolver's query
 * and parsing the answer, sans-I/O (no socket, no clock, no allocation).
 *
 * Read first: RFC 1035 §4.1 (the message format below), §4.1.4 (name
 * compression) and §2.3.4 (size limits); RFC 5452 §9.1 for what makes an
 * answer ours. resolve.c is the one user: it sends what us_dns_query_emit()
 * builds and hands whatever comes back to us_dns_response_parse(), which
 * treats every byte as hostile.
 *
 *   Header (RFC 1035 §4.1.1), 12 octets:
 *                                   1  1  1  1  1  1
 *     0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   |                      ID                       |
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   |QR|   Opcode  |AA|TC|RD|RA|   Z    |   RCODE   |
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   |                    QDCOUNT                    |
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   |                    ANCOUNT                    |
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   |                    NSCOUNT                    |
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   |                    ARCOUNT                    |
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *
 *   Question (§4.1.2): QNAME (a name), QTYPE (16 bits), QCLASS (16 bits).
 *
 *   Resource record (§4.1.3):
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   /                     NAME                      /
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   |             TYPE      |     CLASS             |   (16 bits each)
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   |                      TTL                      |   (32 bits)
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   |                   RDLENGTH                    |
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   /                     RDATA                     /   (RDLENGTH octets)
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *
 *   Names (§3.1, §4.1.4): labels, each a length octet (1..63) and that many
 *   octets, ended by the zero octet of the root, or by a pointer: two octets
 *   whose top bits are 11 and whose other 14 bits are an offset from the
 *   start of the message where the rest of the name is. The top bits 01 and
 *   10 are reserved (RFC 6891 §5 retired the "extended label" type 01).
 *
 * Names are kept here in their uncompressed wire form (length-prefixed
 * labels and the final zero octet, at most US_DNS_NAME_MAX octets) and
 * compared without regard to ASCII case (RFC 4343 §3).
 */
#ifndef USTACK_API_DNS_H
#define USTACK_API_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/core.h>

#define US_DNS_PORT    53
#define US_DNS_HDR_LEN 12
/* RFC 1035 §2.3.4: "labels 63 octets or less", "names 255 octets or less"
 * (counting the length octets and the root's zero octet, §3.1). */
#define US_DNS_LABEL_MAX 63
#define US_DNS_NAME_MAX	 255
/* RFC 1035 §2.3.4: "UDP messages 512 octets or less" without EDNS, which
 * we do not send. */
#define US_DNS_UDP_MAX 512
/* The largest query we build: header, the longest name, QTYPE, QCLASS. */
#define US_DNS_QUERY_MAX (US_DNS_HDR_LEN + US_DNS_NAME_MAX + 4)

/* Compression pointers followed while reading one name. Every pointer must
 * also point strictly backwards, which alone ends every walk; the bound
 * caps the work per name on top (a name of 255 octets has at most 127
 * labels, and a compressor emits one pointer per name it shortens). */
#define US_DNS_MAX_JUMPS 32
/* Address and CNAME records kept from the answer section; more are
 * checked and counted in `skipped`, not kept. */
#define US_DNS_MAX_RR 32
/* CNAME links followed from the question's name (RFC 1034 §3.6.2). */
#define US_DNS_MAX_CNAME 8

#define US_DNS_TYPE_A	  1
#define US_DNS_TYPE_CNAME 5
#define US_DNS_TYPE_AAAA  28
#define US_DNS_CLASS_IN	  1

#define US_DNS_OPCODE_QUERY 0

/* RCODE values (RFC 1035 §4.1.1). */
#define US_DNS_RCODE_NOERROR  0
#define US_DNS_RCODE_FORMERR  1
#define US_DNS_RCODE_SERVFAIL 2
#define US_DNS_RCODE_NXDOMAIN 3
#define US_DNS_RCODE_NOTIMP   4
#define US_DNS_RCODE_REFUSED  5

/* The header's flag bits as they sit in the second 16-bit word. */
#define US_DNS_FLAG_QR 0x8000
#define US_DNS_FLAG_AA 0x0400
#define US_DNS_FLAG_TC 0x0200
#define US_DNS_FLAG_RD 0x0100
#define US_DNS_FLAG_RA 0x0080

/* Why a name or a message was refused: each a distinct negative code. */
enum us_dns_err {
	US_DNS_OK = 0,
	US_DNS_TRUNCATED = -1,	     /* the message ends inside a header, name or record */
	US_DNS_EMPTY_LABEL = -2,     /* text "a..b", ".a", "" or "." */
	US_DNS_LABEL_TOO_LONG = -3,  /* a label over 63 octets (length octet 0x40..0xbf) */
	US_DNS_NAME_TOO_LONG = -4,   /* a name over 255 octets */
	US_DNS_PTR_LOOP = -5,	     /* a pointer into what this name already read (itself too) */
	US_DNS_PTR_FORWARD = -6,     /* a pointer further on than itself */
	US_DNS_PTR_PAST_END = -7,    /* a pointer beyond the message */
	US_DNS_TOO_MANY_JUMPS = -8,  /* more than US_DNS_MAX_JUMPS pointers in one name */
	US_DNS_RDATA_PAST_END = -9,  /* RDLENGTH runs past the message */
	US_DNS_BAD_RDLENGTH = -10,   /* A not 4, AAAA not 16, CNAME not its name's length */
	US_DNS_BAD_QDCOUNT = -11,    /* QDCOUNT is not 1 */
	US_DNS_WRONG_QUESTION = -12, /* the echoed question is not the one asked */
	US_DNS_WRONG_ID = -13,	     /* the ID is not the query's */
	US_DNS_NOT_RESPONSE = -14,   /* QR clear: a query, not an answer */
	US_DNS_BAD_OPCODE = -15,     /* opcode other than QUERY */
	US_DNS_TC = -16,	     /* the server truncated the answer (TC set) */
	US_DNS_CNAME_CHAIN = -17,    /* a CNAME chain longer than US_DNS_MAX_CNAME, or a loop */
};

#define US_DNS_ERR_COUNT 18

/* A short stable name for the code ("pointer-loop", ...). */
const char *us_dns_strerror(int err);

struct us_dns_question {
	uint8_t name[US_DNS_NAME_MAX]; /* uncompressed wire form */
	size_t name_len;
	uint16_t qtype, qclass;
};

struct us_dns_rr {
	uint8_t name[US_DNS_NAME_MAX]; /* the owner, uncompressed */
	size_t name_len;
	uint16_t type, rclass;
	/* Seconds; a TTL with the top bit set counts as 0 (RFC 2181 §8). */
	uint32_t ttl;
	uint32_t ip4;			 /* type A: host order */
	struct us_ip6 ip6;		 /* type AAAA */
	uint8_t target[US_DNS_NAME_MAX]; /* type CNAME: the canonical name */
	size_t target_len;
};

struct us_dns_msg {
	uint16_t id;
	uint16_t flags; /* the second header word as sent */
	bool qr, aa, tc, rd, ra;
	uint8_t opcode, rcode;
	uint16_t qdcount, ancount, nscount, arcount;
	struct us_dns_question question;
	/* The answer section's A, AAAA and CNAME records of class IN, in order. */
	size_t n_answers;
	struct us_dns_rr answers[US_DNS_MAX_RR];
	/* Answer records checked but not kept: other types or classes, or
	 * beyond US_DNS_MAX_RR. */
	size_t skipped;
};

/*
 * Turns "www.example.com" (a trailing dot is allowed: "www.example.com.")
 * into its wire form in out (US_DNS_NAME_MAX octets) and *len. Every octet
 * but '.' is taken as it is (no "\." escapes). US_DNS_EMPTY_LABEL,
 * US_DNS_LABEL_TOO_LONG, US_DNS_NAME_TOO_LONG (RFC 1035 §2.3.4).
 */
int us_dns_name_from_text(const char *text, uint8_t *out, size_t *len);

/*
 * The presentation form of a wire-form name: labels joined by '.', no
 * trailing dot ("." for the root); '.' and '\' inside a label escaped with
 * '\', other octets outside '!'..'~' as "\DDD" (RFC 1035 §5.1). Returns the
 * length, NUL-terminated, or 0 when it does not fit in cap.
 */
size_t us_dns_name_to_text(const uint8_t *name, size_t len, char *buf, size_t cap);

/* Two wire-form names are the same name: ASCII case is ignored (RFC 4343 §3). */
bool us_dns_name_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/*
 * Writes a standard query (RFC 1035 §4.1.1): ID id, RD set (RFC 1035
 * §4.1.1: "Recursion Desired"), one question q, no other records. Returns
 * its length, or 0 when cap is too small.
 */
size_t us_dns_query_emit(uint16_t id, const struct us_dns_question *q, uint8_t *buf, size_t cap);

/*
 * Parses the answer to the query (id, q), reading nothing outside
 * [buf, buf+len). The checks, in order, each with its code:
 *  - len >= 12, else US_DNS_TRUNCATED;
 *  - ID == id (US_DNS_WRONG_ID), QR set (US_DNS_NOT_RESPONSE), opcode
 *    QUERY (US_DNS_BAD_OPCODE), TC clear (US_DNS_TC: we have no TCP
 *    fallback), QDCOUNT == 1 (US_DNS_BAD_QDCOUNT);
 *  - the question parses and is q: same name (case ignored), type and
 *    class (US_DNS_WRONG_QUESTION);
 *  - every record of the answer, authority and additional sections
 *    parses: names (the pointer and label codes above), the fixed part and
 *    RDATA within the message (US_DNS_TRUNCATED, US_DNS_RDATA_PAST_END),
 *    RDLENGTH 4 for A and 16 for AAAA of class IN, and a CNAME's name
 *    filling its RDATA exactly (US_DNS_BAD_RDLENGTH).
 * Octets after the last counted record are ignored. The RCODE is reported,
 * not judged: an NXDOMAIN answer parses. out is filled only in part on error.
 */
int us_dns_response_parse(const uint8_t *buf, size_t len, uint16_t id,
			  const struct us_dns_question *q, struct us_dns_msg *out);

/*
 * Follows the CNAME chain of a parsed answer from the question's name, at
 * most US_DNS_MAX_CNAME links (RFC 1034 §3.6.2), and points *canon at the
 * name it ends on (the question's own when there is no CNAME) inside m.
 * Returns how many links were followed, or US_DNS_CNAME_CHAIN when the
 * chain goes on (a loop, or too long). The addresses of the answer are the
 * records of the question's type owned by *canon: us_dns_answer_is_addr().
 */
int us_dns_cname_chain(const struct us_dns_msg *m, const uint8_t **canon, size_t *canon_len);

/* rr is an address of the type asked, owned by canon. */
bool us_dns_answer_is_addr(const struct us_dns_msg *m, const struct us_dns_rr *rr,
			   const uint8_t *canon, size_t canon_len);

#endif
