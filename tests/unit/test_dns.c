/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_dns.c - DNS messages (src/api/dns.h): the exact bytes of
 * our queries, real answers (A, AAAA, a CNAME chain, NXDOMAIN, no data),
 * and hostile answers, each refused with its own code: pointer loops,
 * pointers forward and past the end, too many pointers, labels over 63 and
 * names over 255 octets, lying RDLENGTHs and counts, truncation at every
 * length, a wrong ID or question, TC set, QR clear, another opcode.
 *
 * Read first: src/api/dns.h. The "real" answers were captured from
 * dnsmasq 2.90 (Debian 12) configured with
 *   local=/example.test/  local-ttl=300
 *   host-record=www.example.test,198.51.100.80,2001:db8::80
 *   host-record=v4.example.test,198.51.100.81
 *   cname=alias.example.test,www.example.test
 *   cname=chain.example.test,alias.example.test
 * and asked with the queries us_dns_query_emit() builds.
 */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#include "dns.h"

/* Literal messages: kept as written, one field per line. */
/* clang-format off */

/* Our query for www.example.test, type A, ID 0x1234. */
static const char query_www_a[] =
	"12 34"                                    /* ID */
	"01 00"                                    /* QR 0, opcode QUERY, RD */
	"00 01 00 00 00 00 00 00"                  /* QD 1, AN 0, NS 0, AR 0 */
	"03 77 77 77 07 65 78 61 6d 70 6c 65"      /* 3 www 7 example */
	"04 74 65 73 74 00"                        /* 4 test, root */
	"00 01 00 01";                             /* QTYPE A, QCLASS IN */

/* dnsmasq's answer to it. Offsets: header 0, question 12, record 34. */
static const char ans_www_a[] =
	"12 34"                                    /* ID */
	"85 80"                                    /* QR AA RD RA, NOERROR */
	"00 01 00 01 00 00 00 00"                  /* QD 1, AN 1 */
	"03 77 77 77 07 65 78 61 6d 70 6c 65"
	"04 74 65 73 74 00"                        /* www.example.test */
	"00 01 00 01"                              /* A, IN */
	"c0 0c"                                    /* 34: -> 12 www.example.test */
	"00 01 00 01 00 00 01 2c 00 04"            /* A, IN, TTL 300, RDLENGTH 4 */
	"c6 33 64 50";                             /* 198.51.100.80 */

/* dnsmasq's answer to the AAAA query, ID 0x2345. */
static const char ans_www_aaaa[] =
	"23 45 85 80 00 01 00 01 00 00 00 00"      /* ID 2345, QR AA RD RA; QD 1, AN 1 */
	"03 77 77 77 07 65 78 61 6d 70 6c 65"
	"04 74 65 73 74 00"                        /* www.example.test */
	"00 1c 00 01"                              /* AAAA, IN */
	"c0 0c"                                    /* -> www.example.test */
	"00 1c 00 01 00 00 01 2c 00 10"            /* AAAA, IN, TTL 300, RDLENGTH 16 */
	"20 01 0d b8 00 00 00 00"
	"00 00 00 00 00 00 00 80";                 /* 2001:db8::80 */

/* chain.example.test A, ID 0x3456: two CNAMEs, then the address. The
 * second and third owners point into the RDATA of the record before. */
static const char ans_chain_a[] =
	"34 56 85 80 00 01 00 03 00 00 00 00"      /* ID 3456; QD 1, AN 3 */
	"05 63 68 61 69 6e 07 65 78 61 6d 70 6c 65"
	"04 74 65 73 74 00"                        /* 12: chain.example.test */
	"00 01 00 01"                              /* 32: A, IN */
	"c0 0c"                                    /* 36: -> chain.example.test */
	"00 05 00 01 00 00 01 2c 00 14"            /* 38: CNAME, IN, TTL 300, RDLENGTH 20 */
	"05 61 6c 69 61 73 07 65 78 61 6d 70 6c 65"
	"04 74 65 73 74 00"                        /* 48: alias.example.test */
	"c0 30"                                    /* 68: -> 48 alias.example.test */
	"00 05 00 01 00 00 01 2c 00 12"            /* 70: CNAME, IN, TTL 300, RDLENGTH 18 */
	"03 77 77 77 07 65 78 61 6d 70 6c 65"
	"04 74 65 73 74 00"                        /* 80: www.example.test */
	"c0 50"                                    /* 98: -> 80 www.example.test */
	"00 01 00 01 00 00 01 2c 00 04"            /* 100: A, IN, TTL 300, RDLENGTH 4 */
	"c6 33 64 50";                             /* 110: 198.51.100.80 */

/* nx.example.test A, ID 0x5678: NXDOMAIN, no records. */
static const char ans_nx[] =
	"56 78 81 83 00 01 00 00 00 00 00 00"      /* QR RD RA, RCODE 3; QD 1 */
	"02 6e 78 07 65 78 61 6d 70 6c 65 04 74 65 73 74 00"
	"00 01 00 01";

/* v4.example.test AAAA, ID 0x789a: the name exists, no AAAA (no data). */
static const char ans_v4_aaaa[] =
	"78 9a 81 80 00 01 00 00 00 00 00 00"      /* QR RD RA, NOERROR; QD 1, AN 0 */
	"02 76 34 07 65 78 61 6d 70 6c 65 04 74 65 73 74 00"
	"00 1c 00 01";

/* WWW.Example.TEST A, ID 0x6789: the server echoes the case it was asked. */
static const char ans_www_upper[] =
	"67 89 85 80 00 01 00 01 00 00 00 00"
	"03 57 57 57 07 45 78 61 6d 70 6c 65 04 54 45 53 54 00"
	"00 01 00 01"
	"c0 0c 00 01 00 01 00 00 01 2c 00 04 c6 33 64 50";

/* ---- Hostile answers to www.example.test A, ID 0x1234 ---- */
#define HDR_AN1 "12 34 85 80 00 01 00 01 00 00 00 00"
#define HDR_AN2 "12 34 85 80 00 01 00 02 00 00 00 00"
#define Q_WWW_A "03 77 77 77 07 65 78 61 6d 70 6c 65 04 74 65 73 74 00 00 01 00 01"
#define A_TAIL  "00 01 00 01 00 00 01 2c 00 04 c6 33 64 50"

static const char ptr_self[] =
	HDR_AN1 Q_WWW_A
	"c0 22"                                    /* 34: -> 34, itself */
	A_TAIL;

static const char ptr_label_then_self[] =
	HDR_AN1 Q_WWW_A
	"01 61 c0 22"                              /* 34: "a", then 36: -> 34 */
	A_TAIL;

/* A loop through two places: the first record's RDATA (opaque TXT) holds
 * "b" and a pointer to the second owner, which is "a" and a pointer back
 * to that RDATA. Every pointer followed alone looks fine. */
static const char ptr_two_step_loop[] =
	HDR_AN2 Q_WWW_A
	"c0 0c 00 10 00 01 00 00 01 2c 00 04"      /* 34: TXT, IN, TTL 300, RDLENGTH 4 */
	"01 62 c0 32"                              /* 46: "b", 48: -> 50 */
	"01 61 c0 2e"                              /* 50: "a", 52: -> 46 */
	A_TAIL;

static const char ptr_forward[] =
	HDR_AN1 Q_WWW_A
	"c0 24"                                    /* 34: -> 36, ahead of itself */
	A_TAIL;

static const char ptr_past_end[] =
	HDR_AN1 Q_WWW_A
	"c0 ff"                                    /* 34: -> 255, message is 50 long */
	A_TAIL;

static const char ptr_max_past_end[] =
	HDR_AN1 Q_WWW_A
	"ff ff"                                    /* 34: -> 16383 */
	A_TAIL;

static const char ptr_cut[] =
	HDR_AN1 Q_WWW_A
	"c0";                                      /* 34: half a pointer, then the end */

static const char label_64[] =
	HDR_AN1 Q_WWW_A
	"40 61 61 61 00"                           /* 34: length 64 (type bits 01) */
	A_TAIL;

static const char label_type_10[] =
	HDR_AN1 Q_WWW_A
	"80 61 00"                                 /* 34: type bits 10 */
	A_TAIL;

static const char a_rdlength_5[] =
	HDR_AN1 Q_WWW_A
	"c0 0c 00 01 00 01 00 00 01 2c 00 05"      /* A, RDLENGTH 5 */
	"c6 33 64 50 00";

static const char a_rdlength_3[] =
	HDR_AN1 Q_WWW_A
	"c0 0c 00 01 00 01 00 00 01 2c 00 03"      /* A, RDLENGTH 3 */
	"c6 33 64";

static const char a_rdata_cut[] =
	HDR_AN1 Q_WWW_A
	"c0 0c 00 01 00 01 00 00 01 2c 00 04"      /* A, RDLENGTH 4 */
	"c6 33 64";                                /* only 3 octets follow */

static const char rdlength_ffff[] =
	HDR_AN1 Q_WWW_A
	"c0 0c 00 10 00 01 00 00 01 2c ff ff"      /* TXT, RDLENGTH 65535 */
	"00 00 00 00";

/* An AAAA record of 4 octets answering the AAAA question. */
static const char aaaa_rdlength_4[] =
	"12 34 85 80 00 01 00 01 00 00 00 00"
	"03 77 77 77 07 65 78 61 6d 70 6c 65 04 74 65 73 74 00 00 1c 00 01"
	"c0 0c 00 1c 00 01 00 00 01 2c 00 04"      /* AAAA, RDLENGTH 4 */
	"c6 33 64 50";

/* A compressed CNAME target: "alias" then a pointer to "example.test". */
static const char cname_compressed[] =
	HDR_AN2 Q_WWW_A
	"c0 0c 00 05 00 01 00 00 00 3c 00 08"      /* 34: CNAME, TTL 60, RDLENGTH 8 */
	"05 61 6c 69 61 73 c0 10"                  /* 46: alias, -> 16 example.test */
	"c0 2e 00 01 00 01 00 00 00 3c 00 04"      /* 54: -> 46 alias.example.test, A */
	"c6 33 64 51";                             /* 198.51.100.81 */

/* The same CNAME with RDLENGTH 9: one octet after the name. */
static const char cname_rdlength_long[] =
	HDR_AN1 Q_WWW_A
	"c0 0c 00 05 00 01 00 00 00 3c 00 09"
	"05 61 6c 69 61 73 c0 10 00";

/* ANCOUNT 2 with one record present. */
static const char ancount_lies[] =
	HDR_AN2 Q_WWW_A
	"c0 0c" A_TAIL;

/* The question echoed is wwx.example.test. */
static const char other_question[] =
	HDR_AN1
	"03 77 77 78 07 65 78 61 6d 70 6c 65 04 74 65 73 74 00 00 01 00 01"
	"c0 0c" A_TAIL;

static const char flags_tc[] =
	"12 34 87 80 00 01 00 01 00 00 00 00"      /* QR AA TC RD RA */
	Q_WWW_A "c0 0c" A_TAIL;

static const char flags_qr_clear[] =
	"12 34 05 80 00 01 00 01 00 00 00 00"      /* AA RD RA, QR clear */
	Q_WWW_A "c0 0c" A_TAIL;

static const char opcode_status[] =
	"12 34 95 80 00 01 00 01 00 00 00 00"      /* QR, opcode 2 (STATUS), AA RD RA */
	Q_WWW_A "c0 0c" A_TAIL;

static const char qdcount_0[] =
	"12 34 85 80 00 00 00 01 00 00 00 00"      /* QD 0 */
	Q_WWW_A "c0 0c" A_TAIL;

static const char qdcount_2[] =
	"12 34 85 80 00 02 00 01 00 00 00 00"      /* QD 2 */
	Q_WWW_A Q_WWW_A "c0 0c" A_TAIL;

/* TTL 0x80000001: "treated as if the entire value received was zero". */
static const char ttl_top_bit[] =
	HDR_AN1 Q_WWW_A
	"c0 0c 00 01 00 01 80 00 00 01 00 04 c6 33 64 50";

/* An MX record (kept out), a CH-class A record (kept out), then the
 * IN A record; an SOA-shaped authority record and trailing junk. */
static const char mixed_records[] =
	"12 34 85 80 00 01 00 03 00 01 00 00"      /* AN 3, NS 1 */
	Q_WWW_A
	"c0 0c 00 0f 00 01 00 00 00 3c 00 04"      /* MX, IN, RDLENGTH 4 */
	"00 0a c0 0c"                              /* preference 10, -> www */
	"c0 0c 00 01 00 03 00 00 00 3c 00 03"      /* A, class CH: 3 octets are fine */
	"01 02 03"
	"c0 0c" A_TAIL                             /* the IN A record */
	"c0 10 00 06 00 01 00 00 00 3c 00 02"      /* NS section: SOA-typed, RDLENGTH 2 */
	"c0 10"
	"de ad";                                   /* junk after the counted records */

/* The authority section's record runs past the end. */
static const char authority_cut[] =
	"12 34 85 80 00 01 00 01 00 01 00 00"      /* AN 1, NS 1 */
	Q_WWW_A "c0 0c" A_TAIL
	"c0 10 00 06 00 01 00 00 00 3c 00 08"      /* RDLENGTH 8 */
	"c0 10";

/* clang-format on */

static struct us_dns_msg m; /* 17 KB: not on the stack */

static struct us_dns_question question(const char *name, uint16_t qtype)
{
	struct us_dns_question q = {.qtype = qtype, .qclass = US_DNS_CLASS_IN};
	ck_assert_int_eq(us_dns_name_from_text(name, q.name, &q.name_len), US_DNS_OK);
	return q;
}

static int parse_hex(const char *hex, uint16_t id, const char *name, uint16_t qtype)
{
	static uint8_t b[2048];
	size_t n = us_test_hex(hex, b, sizeof b);
	struct us_dns_question q = question(name, qtype);
	return us_dns_response_parse(b, n, id, &q, &m);
}

static const char *canon_text(void)
{
	static char text[256];
	const uint8_t *canon;
	size_t len;
	ck_assert_int_ge(us_dns_cname_chain(&m, &canon, &len), 0);
	ck_assert_uint_gt(us_dns_name_to_text(canon, len, text, sizeof text), 0);
	return text;
}

/* ---- Queries ----------------------------------------------------------- */

START_TEST(query_for_www_example_test_is_byte_exact)
{
	uint8_t want[64], got[US_DNS_QUERY_MAX];
	size_t n = us_test_hex(query_www_a, want, sizeof want);
	struct us_dns_question q = question("www.example.test", US_DNS_TYPE_A);

	ck_assert_uint_eq(n, 34);
	ck_assert_uint_eq(q.name_len, 18);
	ck_assert_uint_eq(us_dns_query_emit(0x1234, &q, got, sizeof got), 34);
	ck_assert_mem_eq(got, want, 34);

	/* AAAA differs in QTYPE only: 0x001c (RFC 3596 §2.1). */
	q.qtype = US_DNS_TYPE_AAAA;
	ck_assert_uint_eq(us_dns_query_emit(0x1234, &q, got, sizeof got), 34);
	ck_assert_mem_eq(got, want, 30);
	ck_assert_uint_eq(got[30], 0x00);
	ck_assert_uint_eq(got[31], 0x1c);
	ck_assert_mem_eq(got + 32, want + 32, 2);
}
END_TEST

START_TEST(query_emit_needs_room_for_all_of_it)
{
	uint8_t got[US_DNS_QUERY_MAX];
	struct us_dns_question q = question("www.example.test", US_DNS_TYPE_A);

	for (size_t cap = 0; cap < 34; cap++)
		ck_assert_uint_eq(us_dns_query_emit(1, &q, got, cap), 0);
	ck_assert_uint_eq(us_dns_query_emit(1, &q, got, 34), 34);
}
END_TEST

START_TEST(a_trailing_dot_names_the_same_name)
{
	struct us_dns_question a = question("www.example.test", US_DNS_TYPE_A);
	struct us_dns_question b = question("www.example.test.", US_DNS_TYPE_A);

	ck_assert_uint_eq(a.name_len, b.name_len);
	ck_assert_mem_eq(a.name, b.name, a.name_len);
}
END_TEST

START_TEST(empty_labels_are_refused)
{
	uint8_t out[US_DNS_NAME_MAX];
	size_t len = 99;

	ck_assert_int_eq(us_dns_name_from_text("", out, &len), US_DNS_EMPTY_LABEL);
	ck_assert_int_eq(us_dns_name_from_text(".", out, &len), US_DNS_EMPTY_LABEL);
	ck_assert_int_eq(us_dns_name_from_text(".example.test", out, &len), US_DNS_EMPTY_LABEL);
	ck_assert_int_eq(us_dns_name_from_text("www..test", out, &len), US_DNS_EMPTY_LABEL);
	ck_assert_int_eq(us_dns_name_from_text("www.test..", out, &len), US_DNS_EMPTY_LABEL);
	ck_assert_uint_eq(len, 99);
	ck_assert_int_eq(us_dns_name_from_text("a", out, &len), US_DNS_OK);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(out,
			 "\x01"
			 "a"
			 "\x00",
			 3);
}
END_TEST

START_TEST(a_label_of_63_octets_is_fine_and_64_is_refused)
{
	uint8_t out[US_DNS_NAME_MAX];
	char text[80];
	size_t len;

	memset(text, 'x', 63);
	strcpy(text + 63, ".test");
	ck_assert_int_eq(us_dns_name_from_text(text, out, &len), US_DNS_OK);
	ck_assert_uint_eq(len, 1 + 63 + 1 + 4 + 1);
	ck_assert_uint_eq(out[0], 63);
	memset(text, 'x', 64);
	strcpy(text + 64, ".test");
	ck_assert_int_eq(us_dns_name_from_text(text, out, &len), US_DNS_LABEL_TOO_LONG);
}
END_TEST

/* Labels of 63, 63, 63 and n octets: 3 * 64 + (1 + n) + 1 octets. */
static int name_with_last_label(size_t n, size_t *len)
{
	uint8_t out[US_DNS_NAME_MAX];
	char text[300];
	size_t p = 0;
	for (int i = 0; i < 3; i++) {
		memset(text + p, 'a' + i, 63);
		p += 63;
		text[p++] = '.';
	}
	memset(text + p, 'd', n);
	text[p + n] = '\0';
	return us_dns_name_from_text(text, out, len);
}

START_TEST(a_name_of_255_octets_is_fine_and_256_is_refused)
{
	size_t len = 0;

	ck_assert_int_eq(name_with_last_label(61, &len), US_DNS_OK);
	ck_assert_uint_eq(len, 255);
	ck_assert_int_eq(name_with_last_label(62, &len), US_DNS_NAME_TOO_LONG);
	ck_assert_uint_eq(len, 255);
}
END_TEST

START_TEST(names_print_with_escapes)
{
	char text[64];
	/* "a.b" as one label, a backslash, a space, then "test". */
	static const uint8_t name[] = {3, 'a', '.', 'b', 2, '\\', ' ', 4, 't', 'e', 's', 't', 0};

	ck_assert_uint_eq(us_dns_name_to_text(name, sizeof name, text, sizeof text), 16);
	ck_assert_str_eq(text, "a\\.b.\\\\\\032.test");
	/* 16 characters and the NUL need 17 octets. */
	ck_assert_uint_eq(us_dns_name_to_text(name, sizeof name, text, 16), 0);
	ck_assert_uint_eq(us_dns_name_to_text(name, sizeof name, text, 17), 16);
	ck_assert_uint_eq(us_dns_name_to_text((const uint8_t *)"", 1, text, sizeof text), 1);
	ck_assert_str_eq(text, ".");
}
END_TEST

START_TEST(names_compare_without_ascii_case)
{
	struct us_dns_question a = question("WWW.Example.TEST", US_DNS_TYPE_A);
	struct us_dns_question b = question("www.example.test", US_DNS_TYPE_A);
	struct us_dns_question c = question("www.example.tesu", US_DNS_TYPE_A);
	struct us_dns_question d = question("www.example.tes", US_DNS_TYPE_A);

	ck_assert(us_dns_name_eq(a.name, a.name_len, b.name, b.name_len));
	ck_assert(!us_dns_name_eq(b.name, b.name_len, c.name, c.name_len));
	ck_assert(!us_dns_name_eq(b.name, b.name_len, d.name, d.name_len));
}
END_TEST

/* ---- Real answers ------------------------------------------------------ */

START_TEST(a_real_a_answer_parses)
{
	ck_assert_int_eq(parse_hex(ans_www_a, 0x1234, "www.example.test", US_DNS_TYPE_A),
			 US_DNS_OK);
	ck_assert_uint_eq(m.id, 0x1234);
	ck_assert_uint_eq(m.flags, 0x8580);
	ck_assert(m.qr && m.aa && m.rd && m.ra && !m.tc);
	ck_assert_uint_eq(m.opcode, US_DNS_OPCODE_QUERY);
	ck_assert_uint_eq(m.rcode, US_DNS_RCODE_NOERROR);
	ck_assert_uint_eq(m.qdcount, 1);
	ck_assert_uint_eq(m.ancount, 1);
	ck_assert_uint_eq(m.question.qtype, US_DNS_TYPE_A);
	ck_assert_uint_eq(m.n_answers, 1);
	ck_assert_uint_eq(m.skipped, 0);
	ck_assert_uint_eq(m.answers[0].type, US_DNS_TYPE_A);
	ck_assert_uint_eq(m.answers[0].rclass, US_DNS_CLASS_IN);
	ck_assert_uint_eq(m.answers[0].ttl, 300);
	ck_assert_uint_eq(m.answers[0].ip4, 0xc6336450);
	ck_assert_uint_eq(m.answers[0].name_len, 18);
	ck_assert_mem_eq(m.answers[0].name, m.question.name, 18);

	const uint8_t *canon;
	size_t len;
	ck_assert_int_eq(us_dns_cname_chain(&m, &canon, &len), 0);
	ck_assert_ptr_eq(canon, m.question.name);
	ck_assert(us_dns_answer_is_addr(&m, &m.answers[0], canon, len));
}
END_TEST

START_TEST(a_real_aaaa_answer_parses)
{
	static const struct us_ip6 want = {{0x20, 0x01, 0x0d, 0xb8, [15] = 0x80}};

	ck_assert_int_eq(parse_hex(ans_www_aaaa, 0x2345, "www.example.test", US_DNS_TYPE_AAAA),
			 US_DNS_OK);
	ck_assert_uint_eq(m.n_answers, 1);
	ck_assert_uint_eq(m.answers[0].type, US_DNS_TYPE_AAAA);
	ck_assert_uint_eq(m.answers[0].ttl, 300);
	ck_assert_mem_eq(m.answers[0].ip6.b, want.b, 16);
	ck_assert_str_eq(canon_text(), "www.example.test");
	ck_assert(us_dns_answer_is_addr(&m, &m.answers[0], m.question.name, m.question.name_len));
}
END_TEST

START_TEST(a_real_cname_chain_is_followed_to_its_address)
{
	const uint8_t *canon;
	size_t len;

	ck_assert_int_eq(parse_hex(ans_chain_a, 0x3456, "chain.example.test", US_DNS_TYPE_A),
			 US_DNS_OK);
	ck_assert_uint_eq(m.n_answers, 3);
	ck_assert_uint_eq(m.answers[0].type, US_DNS_TYPE_CNAME);
	ck_assert_uint_eq(m.answers[0].target_len, 20);
	ck_assert_uint_eq(m.answers[1].type, US_DNS_TYPE_CNAME);
	/* The second owner is a pointer into the first record's RDATA. */
	ck_assert_mem_eq(m.answers[1].name, m.answers[0].target, 20);
	ck_assert_uint_eq(m.answers[2].type, US_DNS_TYPE_A);
	ck_assert_uint_eq(m.answers[2].ip4, 0xc6336450);

	ck_assert_int_eq(us_dns_cname_chain(&m, &canon, &len), 2);
	ck_assert_ptr_eq(canon, m.answers[1].target);
	ck_assert(!us_dns_answer_is_addr(&m, &m.answers[0], canon, len));
	ck_assert(!us_dns_answer_is_addr(&m, &m.answers[1], canon, len));
	ck_assert(us_dns_answer_is_addr(&m, &m.answers[2], canon, len));
	ck_assert_str_eq(canon_text(), "www.example.test");
}
END_TEST

START_TEST(a_compressed_cname_target_is_expanded)
{
	const uint8_t *canon;
	size_t len;

	ck_assert_int_eq(parse_hex(cname_compressed, 0x1234, "www.example.test", US_DNS_TYPE_A),
			 US_DNS_OK);
	ck_assert_uint_eq(m.n_answers, 2);
	ck_assert_int_eq(us_dns_cname_chain(&m, &canon, &len), 1);
	ck_assert_str_eq(canon_text(), "alias.example.test");
	ck_assert(us_dns_answer_is_addr(&m, &m.answers[1], canon, len));
	ck_assert_uint_eq(m.answers[1].ip4, 0xc6336451);
	ck_assert_uint_eq(m.answers[1].ttl, 60);
}
END_TEST

START_TEST(nxdomain_parses_with_its_rcode)
{
	ck_assert_int_eq(parse_hex(ans_nx, 0x5678, "nx.example.test", US_DNS_TYPE_A), US_DNS_OK);
	ck_assert_uint_eq(m.rcode, US_DNS_RCODE_NXDOMAIN);
	ck_assert(!m.aa);
	ck_assert_uint_eq(m.n_answers, 0);
}
END_TEST

START_TEST(no_data_parses_with_no_answers)
{
	ck_assert_int_eq(parse_hex(ans_v4_aaaa, 0x789a, "v4.example.test", US_DNS_TYPE_AAAA),
			 US_DNS_OK);
	ck_assert_uint_eq(m.rcode, US_DNS_RCODE_NOERROR);
	ck_assert_uint_eq(m.n_answers, 0);
}
END_TEST

START_TEST(the_question_may_come_back_in_another_case)
{
	ck_assert_int_eq(parse_hex(ans_www_upper, 0x6789, "www.example.test", US_DNS_TYPE_A),
			 US_DNS_OK);
	ck_assert_uint_eq(m.n_answers, 1);
	ck_assert_uint_eq(m.answers[0].name[1], 'W');
	ck_assert(us_dns_answer_is_addr(&m, &m.answers[0], m.question.name, m.question.name_len));
}
END_TEST

START_TEST(other_types_and_classes_are_checked_and_skipped)
{
	ck_assert_int_eq(parse_hex(mixed_records, 0x1234, "www.example.test", US_DNS_TYPE_A),
			 US_DNS_OK);
	ck_assert_uint_eq(m.ancount, 3);
	ck_assert_uint_eq(m.nscount, 1);
	ck_assert_uint_eq(m.n_answers, 1);
	ck_assert_uint_eq(m.skipped, 2);
	ck_assert_uint_eq(m.answers[0].ip4, 0xc6336450);
	ck_assert_int_eq(parse_hex(authority_cut, 0x1234, "www.example.test", US_DNS_TYPE_A),
			 US_DNS_RDATA_PAST_END);
}
END_TEST

START_TEST(a_ttl_with_the_top_bit_set_counts_as_zero)
{
	ck_assert_int_eq(parse_hex(ttl_top_bit, 0x1234, "www.example.test", US_DNS_TYPE_A),
			 US_DNS_OK);
	ck_assert_uint_eq(m.answers[0].ttl, 0);
}
END_TEST

/* ---- Hostile answers --------------------------------------------------- */

static void expect(const char *hex, int err)
{
	int rc = parse_hex(hex, 0x1234, "www.example.test", US_DNS_TYPE_A);
	ck_assert_msg(rc == err, "got %d (%s), want %d (%s)", rc, us_dns_strerror(rc), err,
		      us_dns_strerror(err));
}

START_TEST(a_pointer_to_itself_is_a_loop)
{
	expect(ptr_self, US_DNS_PTR_LOOP);
	expect(ptr_label_then_self, US_DNS_PTR_LOOP);
}
END_TEST

START_TEST(a_loop_through_two_pointers_is_caught)
{
	expect(ptr_two_step_loop, US_DNS_PTR_LOOP);
}
END_TEST

START_TEST(a_pointer_forward_is_refused)
{
	expect(ptr_forward, US_DNS_PTR_FORWARD);
}
END_TEST

START_TEST(a_pointer_past_the_end_is_refused)
{
	expect(ptr_past_end, US_DNS_PTR_PAST_END);
	expect(ptr_max_past_end, US_DNS_PTR_PAST_END);
	expect(ptr_cut, US_DNS_TRUNCATED);
}
END_TEST

START_TEST(label_lengths_over_63_are_refused)
{
	expect(label_64, US_DNS_LABEL_TOO_LONG);
	expect(label_type_10, US_DNS_LABEL_TOO_LONG);
}
END_TEST

/*
 * An answer whose owner is labels of 63, 63, 63 and n octets followed by a
 * pointer to the question's www.example.test (18 octets): 192 + 1 + n + 18.
 */
static size_t long_owner(uint8_t *b, size_t n)
{
	uint8_t q[64];
	size_t qn = us_test_hex(HDR_AN1 Q_WWW_A, q, sizeof q), p = qn;

	memcpy(b, q, qn);
	for (int i = 0; i < 3; i++) {
		b[p++] = 63;
		memset(b + p, 'a', 63);
		p += 63;
	}
	b[p++] = (uint8_t)n;
	memset(b + p, 'b', n);
	p += n;
	b[p++] = 0xc0;
	b[p++] = 0x0c;
	static const uint8_t tail[] = {0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 198, 51, 100, 80};
	memcpy(b + p, tail, sizeof tail);
	return p + sizeof tail;
}

START_TEST(a_compressed_name_over_255_octets_is_refused)
{
	uint8_t b[400];
	struct us_dns_question q = question("www.example.test", US_DNS_TYPE_A);
	size_t n = long_owner(b, 44);

	ck_assert_int_eq(us_dns_response_parse(b, n, 0x1234, &q, &m), US_DNS_OK);
	ck_assert_uint_eq(m.answers[0].name_len, 255);
	n = long_owner(b, 45);
	ck_assert_int_eq(us_dns_response_parse(b, n, 0x1234, &q, &m), US_DNS_NAME_TOO_LONG);
}
END_TEST

START_TEST(an_uncompressed_name_over_255_octets_is_refused)
{
	uint8_t b[400];
	uint8_t head[64];
	struct us_dns_question q = question("www.example.test", US_DNS_TYPE_A);
	size_t p = us_test_hex(HDR_AN1 Q_WWW_A, head, sizeof head);

	memcpy(b, head, p);
	for (int i = 0; i < 4; i++) { /* 4 * 64 + 1 = 257 octets */
		b[p++] = 63;
		memset(b + p, 'a', 63);
		p += 63;
	}
	b[p++] = 0;
	ck_assert_int_eq(us_dns_response_parse(b, p, 0x1234, &q, &m), US_DNS_NAME_TOO_LONG);
}
END_TEST

/*
 * An opaque TXT record whose RDATA is a chain of k pointers, each to the
 * one before, the first to the question's name; then an A record whose
 * owner points at the last: k + 1 pointers in all.
 */
static size_t pointer_chain(uint8_t *b, size_t k)
{
	uint8_t head[64];
	size_t p = us_test_hex(HDR_AN2 Q_WWW_A, head, sizeof head);
	memcpy(b, head, p);
	static const uint8_t txt[] = {0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 60};
	memcpy(b + p, txt, sizeof txt);
	p += sizeof txt;
	b[p++] = 0;
	b[p++] = (uint8_t)(2 * k);
	size_t prev = 12;
	for (size_t i = 0; i < k; i++) {
		b[p] = (uint8_t)(0xc0 | prev >> 8);
		b[p + 1] = (uint8_t)prev;
		prev = p;
		p += 2;
	}
	b[p] = (uint8_t)(0xc0 | prev >> 8);
	b[p + 1] = (uint8_t)prev;
	p += 2;
	static const uint8_t tail[] = {0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 198, 51, 100, 80};
	memcpy(b + p, tail, sizeof tail);
	return p + sizeof tail;
}

START_TEST(more_than_32_pointers_in_one_name_are_refused)
{
	uint8_t b[200];
	struct us_dns_question q = question("www.example.test", US_DNS_TYPE_A);
	size_t n = pointer_chain(b, US_DNS_MAX_JUMPS - 1);

	ck_assert_int_eq(us_dns_response_parse(b, n, 0x1234, &q, &m), US_DNS_OK);
	ck_assert_uint_eq(m.n_answers, 1);
	ck_assert_uint_eq(m.answers[0].name_len, 18);
	n = pointer_chain(b, US_DNS_MAX_JUMPS);
	ck_assert_int_eq(us_dns_response_parse(b, n, 0x1234, &q, &m), US_DNS_TOO_MANY_JUMPS);
}
END_TEST

START_TEST(a_wrong_rdlength_for_a_and_aaaa_is_refused)
{
	expect(a_rdlength_5, US_DNS_BAD_RDLENGTH);
	expect(a_rdlength_3, US_DNS_BAD_RDLENGTH);
	ck_assert_int_eq(parse_hex(aaaa_rdlength_4, 0x1234, "www.example.test", US_DNS_TYPE_AAAA),
			 US_DNS_BAD_RDLENGTH);
	expect(cname_rdlength_long, US_DNS_BAD_RDLENGTH);
}
END_TEST

START_TEST(rdata_past_the_end_is_refused)
{
	expect(a_rdata_cut, US_DNS_RDATA_PAST_END);
	expect(rdlength_ffff, US_DNS_RDATA_PAST_END);
}
END_TEST

START_TEST(an_ancount_with_missing_records_is_truncated)
{
	expect(ancount_lies, US_DNS_TRUNCATED);
}
END_TEST

/* Cut at every length, the code says where the cut fell: inside the RDATA
 * of a record whose RDLENGTH was read, or anywhere else. */
static void truncate_everywhere(const char *hex, uint16_t id, const char *name, uint16_t qtype,
				const size_t (*rdata)[2], size_t n_rdata)
{
	static uint8_t b[512];
	size_t n = us_test_hex(hex, b, sizeof b);
	struct us_dns_question q = question(name, qtype);

	ck_assert_int_eq(us_dns_response_parse(b, n, id, &q, &m), US_DNS_OK);
	for (size_t len = 0; len < n; len++) {
		int want = US_DNS_TRUNCATED;
		for (size_t i = 0; i < n_rdata; i++)
			if (len >= rdata[i][0] && len < rdata[i][1])
				want = US_DNS_RDATA_PAST_END;
		ck_assert_msg(us_dns_response_parse(b, len, id, &q, &m) == want,
			      "cut at %zu: %d, want %d", len,
			      us_dns_response_parse(b, len, id, &q, &m), want);
	}
}

START_TEST(answers_truncated_at_every_length_are_refused)
{
	static const size_t a_rdata[][2] = {{46, 50}};
	static const size_t aaaa_rdata[][2] = {{46, 62}};
	static const size_t chain_rdata[][2] = {{48, 68}, {80, 98}, {110, 114}};

	truncate_everywhere(ans_www_a, 0x1234, "www.example.test", US_DNS_TYPE_A, a_rdata, 1);
	truncate_everywhere(ans_www_aaaa, 0x2345, "www.example.test", US_DNS_TYPE_AAAA, aaaa_rdata,
			    1);
	truncate_everywhere(ans_chain_a, 0x3456, "chain.example.test", US_DNS_TYPE_A, chain_rdata,
			    3);
	truncate_everywhere(ans_nx, 0x5678, "nx.example.test", US_DNS_TYPE_A, NULL, 0);
}
END_TEST

START_TEST(an_answer_with_another_id_is_not_ours)
{
	ck_assert_int_eq(parse_hex(ans_www_a, 0x1235, "www.example.test", US_DNS_TYPE_A),
			 US_DNS_WRONG_ID);
	ck_assert_int_eq(parse_hex(ans_www_a, 0x3412, "www.example.test", US_DNS_TYPE_A),
			 US_DNS_WRONG_ID);
}
END_TEST

START_TEST(an_answer_to_another_question_is_not_ours)
{
	expect(other_question, US_DNS_WRONG_QUESTION);
	ck_assert_int_eq(parse_hex(ans_www_a, 0x1234, "www.example.tes", US_DNS_TYPE_A),
			 US_DNS_WRONG_QUESTION);
	ck_assert_int_eq(parse_hex(ans_www_a, 0x1234, "www.example.test", US_DNS_TYPE_AAAA),
			 US_DNS_WRONG_QUESTION);

	uint8_t b[64];
	size_t n = us_test_hex(ans_www_a, b, sizeof b);
	struct us_dns_question q = question("www.example.test", US_DNS_TYPE_A);
	q.qclass = 3; /* CH */
	ck_assert_int_eq(us_dns_response_parse(b, n, 0x1234, &q, &m), US_DNS_WRONG_QUESTION);
}
END_TEST

START_TEST(a_truncated_answer_is_refused_for_want_of_tcp)
{
	expect(flags_tc, US_DNS_TC);
}
END_TEST

START_TEST(a_message_with_qr_clear_is_no_answer)
{
	expect(flags_qr_clear, US_DNS_NOT_RESPONSE);

	/* Our own query reflected back is no answer either. */
	uint8_t b[64];
	size_t n = us_test_hex(query_www_a, b, sizeof b);
	struct us_dns_question q = question("www.example.test", US_DNS_TYPE_A);
	ck_assert_int_eq(us_dns_response_parse(b, n, 0x1234, &q, &m), US_DNS_NOT_RESPONSE);
}
END_TEST

START_TEST(an_opcode_other_than_query_is_refused)
{
	expect(opcode_status, US_DNS_BAD_OPCODE);
}
END_TEST

START_TEST(a_qdcount_other_than_1_is_refused)
{
	expect(qdcount_0, US_DNS_BAD_QDCOUNT);
	expect(qdcount_2, US_DNS_BAD_QDCOUNT);
}
END_TEST

/* An answer of n CNAMEs c0 -> c1 -> ... -> c(n), the first owned by the
 * question's name, and an A for c(n) (or, with loop, c(n) -> c0). */
static void cname_answer(size_t n, bool loop)
{
	char name[48];
	memset(&m, 0, sizeof m);
	m.question = question("c0.example.test", US_DNS_TYPE_A);
	for (size_t i = 0; i < n; i++) {
		struct us_dns_rr *rr = &m.answers[m.n_answers++];
		snprintf(name, sizeof name, "c%zu.example.test", i);
		ck_assert_int_eq(us_dns_name_from_text(name, rr->name, &rr->name_len), 0);
		snprintf(name, sizeof name, "c%zu.example.test", loop && i == n - 1 ? 0 : i + 1);
		ck_assert_int_eq(us_dns_name_from_text(name, rr->target, &rr->target_len), 0);
		rr->type = US_DNS_TYPE_CNAME;
		rr->rclass = US_DNS_CLASS_IN;
	}
}

START_TEST(cname_chains_are_bounded_and_loops_refused)
{
	const uint8_t *canon;
	size_t len;

	cname_answer(US_DNS_MAX_CNAME, false);
	ck_assert_int_eq(us_dns_cname_chain(&m, &canon, &len), US_DNS_MAX_CNAME);
	ck_assert_str_eq(canon_text(), "c8.example.test");
	cname_answer(US_DNS_MAX_CNAME + 1, false);
	ck_assert_int_eq(us_dns_cname_chain(&m, &canon, &len), US_DNS_CNAME_CHAIN);
	cname_answer(2, true);
	ck_assert_int_eq(us_dns_cname_chain(&m, &canon, &len), US_DNS_CNAME_CHAIN);
}
END_TEST

START_TEST(more_answers_than_kept_are_checked_and_counted)
{
	uint8_t b[1024], head[64];
	struct us_dns_question q = question("www.example.test", US_DNS_TYPE_A);
	size_t p = us_test_hex("12 34 85 80 00 01 00 28 00 00 00 00" Q_WWW_A, head, sizeof head);

	memcpy(b, head, p);
	for (int i = 0; i < 40; i++) {
		static const uint8_t rr[] = {0xc0, 0x0c, 0, 1, 0,   1,	0,  0,
					     0,	   60,	 0, 4, 198, 51, 100};
		memcpy(b + p, rr, sizeof rr);
		p += sizeof rr;
		b[p++] = (uint8_t)i;
	}
	ck_assert_int_eq(us_dns_response_parse(b, p, 0x1234, &q, &m), US_DNS_OK);
	ck_assert_uint_eq(m.n_answers, US_DNS_MAX_RR);
	ck_assert_uint_eq(m.skipped, 40 - US_DNS_MAX_RR);
	ck_assert_uint_eq(m.answers[US_DNS_MAX_RR - 1].ip4, 0xc6336400 + US_DNS_MAX_RR - 1);
	/* The last record, not kept, is still checked. */
	ck_assert_int_eq(us_dns_response_parse(b, p - 1, 0x1234, &q, &m), US_DNS_RDATA_PAST_END);
}
END_TEST

START_TEST(every_error_has_its_own_name)
{
	for (int i = 0; i < US_DNS_ERR_COUNT; i++) {
		ck_assert_str_ne(us_dns_strerror(-i), "unknown");
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(us_dns_strerror(-i), us_dns_strerror(-j));
	}
	ck_assert_str_eq(us_dns_strerror(US_DNS_PTR_LOOP), "pointer-loop");
	ck_assert_str_eq(us_dns_strerror(-US_DNS_ERR_COUNT), "unknown");
	ck_assert_str_eq(us_dns_strerror(1), "unknown");
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc = tcase_create("query");
	tcase_add_test(tc, query_for_www_example_test_is_byte_exact);
	tcase_add_test(tc, query_emit_needs_room_for_all_of_it);
	tcase_add_test(tc, a_trailing_dot_names_the_same_name);
	tcase_add_test(tc, empty_labels_are_refused);
	tcase_add_test(tc, a_label_of_63_octets_is_fine_and_64_is_refused);
	tcase_add_test(tc, a_name_of_255_octets_is_fine_and_256_is_refused);
	tcase_add_test(tc, names_print_with_escapes);
	tcase_add_test(tc, names_compare_without_ascii_case);
	suite_add_tcase(s, tc);

	tc = tcase_create("answer");
	tcase_add_test(tc, a_real_a_answer_parses);
	tcase_add_test(tc, a_real_aaaa_answer_parses);
	tcase_add_test(tc, a_real_cname_chain_is_followed_to_its_address);
	tcase_add_test(tc, a_compressed_cname_target_is_expanded);
	tcase_add_test(tc, nxdomain_parses_with_its_rcode);
	tcase_add_test(tc, no_data_parses_with_no_answers);
	tcase_add_test(tc, the_question_may_come_back_in_another_case);
	tcase_add_test(tc, other_types_and_classes_are_checked_and_skipped);
	tcase_add_test(tc, a_ttl_with_the_top_bit_set_counts_as_zero);
	tcase_add_test(tc, cname_chains_are_bounded_and_loops_refused);
	tcase_add_test(tc, more_answers_than_kept_are_checked_and_counted);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_test(tc, a_pointer_to_itself_is_a_loop);
	tcase_add_test(tc, a_loop_through_two_pointers_is_caught);
	tcase_add_test(tc, a_pointer_forward_is_refused);
	tcase_add_test(tc, a_pointer_past_the_end_is_refused);
	tcase_add_test(tc, label_lengths_over_63_are_refused);
	tcase_add_test(tc, a_compressed_name_over_255_octets_is_refused);
	tcase_add_test(tc, an_uncompressed_name_over_255_octets_is_refused);
	tcase_add_test(tc, more_than_32_pointers_in_one_name_are_refused);
	tcase_add_test(tc, a_wrong_rdlength_for_a_and_aaaa_is_refused);
	tcase_add_test(tc, rdata_past_the_end_is_refused);
	tcase_add_test(tc, an_ancount_with_missing_records_is_truncated);
	tcase_add_test(tc, answers_truncated_at_every_length_are_refused);
	tcase_add_test(tc, an_answer_with_another_id_is_not_ours);
	tcase_add_test(tc, an_answer_to_another_question_is_not_ours);
	tcase_add_test(tc, a_truncated_answer_is_refused_for_want_of_tcp);
	tcase_add_test(tc, a_message_with_qr_clear_is_no_answer);
	tcase_add_test(tc, an_opcode_other_than_query_is_refused);
	tcase_add_test(tc, a_qdcount_other_than_1_is_refused);
	tcase_add_test(tc, every_error_has_its_own_name);
	suite_add_tcase(s, tc);
	return s;
}
