/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_pcap.c - pcap capture and replay (src/drivers/pcap/capture.c).
 *
 * The file format is libpcap's (draft-ietf-opsawg-pcap §4, §5): these write
 * frames with given timestamps and read them back byte-exact, check the raw
 * file header and record header the writer produces (nanosecond magic,
 * snaplen 262144, Ethernet link type), keep a 64 KB frame whole, refuse bad
 * paths, non-pcap files and non-Ethernet captures, and rotate files.
 *
 * Every test writes into one directory made under /tmp for this run and
 * removed afterwards (an unchecked fixture, so it goes even when a test fails).
 * Read include/ustack/capture.h first.
 */
#include "harness.h"

#include <ustack/capture.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/udp.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[64];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/ustack-test-pcap-%d-XXXXXX", (int)getpid());
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(tmpdir);
}

/* tmpdir/name, in a static buffer per slot. */
static const char *tmp_path(const char *name)
{
	static char bufs[4][512];
	static unsigned next;
	char *p = bufs[next++ % 4];

	snprintf(p, sizeof bufs[0], "%s/%s", tmpdir, name);
	return p;
}

static void write_file(const char *path, const uint8_t *bytes, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static uint16_t host16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

static uint32_t host32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

static struct us_pcap_writer *open_writer(const char *path)
{
	int err = 1;
	struct us_pcap_writer *w = us_pcap_writer_open(path, &err);

	ck_assert_msg(w != NULL, "us_pcap_writer_open(%s): %d", path, err);
	return w;
}

static struct us_pcap_reader *open_reader(const char *path)
{
	int err = 1;
	struct us_pcap_reader *r = us_pcap_reader_open(path, &err);

	ck_assert_msg(r != NULL, "us_pcap_reader_open(%s): %d", path, err);
	return r;
}

/* A 100-byte frame whose last bytes name it. */
static void numbered_frame(uint8_t *buf, uint8_t n)
{
	memset(buf, 0, 100);
	us_test_hex("02 00 00 00 00 0b  02 00 00 00 00 0a  88 b5", buf, 14);
	memset(buf + 14, n, 86);
}

/* The numbers of the frames in a file, in order. */
static size_t frames_in(const char *path, uint8_t *numbers, size_t max)
{
	struct us_pcap_reader *r = open_reader(path);
	const uint8_t *data;
	size_t len, n = 0;
	us_time_t ts;
	int ret;

	while ((ret = us_pcap_reader_next(r, &ts, &data, &len)) == 1) {
		ck_assert_uint_eq(len, 100);
		ck_assert_uint_lt(n, max);
		numbers[n++] = data[99];
	}
	ck_assert_int_eq(ret, 0);
	us_pcap_reader_close(r);
	return n;
}

START_TEST(frames_read_back_byte_exact_with_their_timestamps)
{
	const char *path = tmp_path("roundtrip.pcap");
	static const us_time_t stamps[] = { 0, US_USEC(1500), US_SEC(2) + 7, US_SEC(86400) };
	uint8_t frames[4][80];
	size_t lens[4];
	struct us_pcap_writer *w = open_writer(path);
	struct us_pcap_reader *r;
	const uint8_t *data;
	size_t len;
	us_time_t ts;

	lens[0] = us_test_hex("ff ff ff ff ff ff  02 00 00 00 00 0a  08 06" /* ARP request */
			      "00 01 08 00 06 04 00 01  02 00 00 00 00 0a  c0 00 02 02"
			      "00 00 00 00 00 00  c0 00 02 01",
			      frames[0], sizeof frames[0]);
	lens[1] = us_test_hex("02 00 00 00 00 0a  02 00 00 00 00 0b  88 b5  01", frames[1],
			      sizeof frames[1]);
	lens[2] = us_test_hex("02 00 00 00 00 0b  02 00 00 00 00 0a  88 b5  02 03", frames[2],
			      sizeof frames[2]);
	lens[3] = us_test_hex("02 00 00 00 00 0b  02 00 00 00 00 0a  88 b5", frames[3],
			      sizeof frames[3]);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(us_pcap_writer_write(w, stamps[i], frames[i], lens[i]), 0);
	us_pcap_writer_close(w);

	r = open_reader(path);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(us_pcap_reader_next(r, &ts, &data, &len), 1);
		ck_assert_int_eq(ts, stamps[i]);
		ck_assert_uint_eq(len, lens[i]);
		ck_assert_mem_eq(data, frames[i], lens[i]);
	}
	ck_assert_int_eq(us_pcap_reader_next(r, &ts, &data, &len), 0);
	ck_assert_int_eq(us_pcap_reader_next(r, &ts, &data, &len), 0);
	us_pcap_reader_close(r);
}
END_TEST

START_TEST(file_has_nanosecond_magic_ethernet_link_type_and_origin_added)
{
	const char *path = tmp_path("header.pcap");
	struct us_pcap_writer *w = open_writer(path);
	struct us_pcap_reader *r;
	uint8_t frame[14], raw[256];
	const uint8_t *data;
	size_t len, n;
	us_time_t ts;

	us_test_hex("02 00 00 00 00 0b  02 00 00 00 00 0a  88 b5", frame, sizeof frame);
	us_pcap_writer_set_origin(w, US_SEC(1700000000));
	ck_assert_int_eq(us_pcap_writer_write(w, US_USEC(250), frame, sizeof frame), 0);
	us_pcap_writer_close(w);

	/* The fields are in the writer's byte order, told by the magic. */
	n = read_file(path, raw, sizeof raw);
	ck_assert_uint_eq(n, 24 + 16 + 14);
	ck_assert_uint_eq(host32(raw + 0), 0xa1b23c4d); /* magic: nanosecond timestamps */
	ck_assert_uint_eq(host16(raw + 4), 2);          /* version 2.4 */
	ck_assert_uint_eq(host16(raw + 6), 4);
	ck_assert_uint_eq(host32(raw + 16), 262144);    /* snaplen */
	ck_assert_uint_eq(host32(raw + 20), 1);         /* LINKTYPE_ETHERNET */
	ck_assert_uint_eq(host32(raw + 24), 1700000000); /* record: seconds */
	ck_assert_uint_eq(host32(raw + 28), 250000);     /* nanoseconds, not microseconds */
	ck_assert_uint_eq(host32(raw + 32), 14);         /* captured length */
	ck_assert_uint_eq(host32(raw + 36), 14);         /* length on the wire */
	ck_assert_mem_eq(raw + 40, frame, sizeof frame);

	r = open_reader(path);
	ck_assert_int_eq(us_pcap_reader_next(r, &ts, &data, &len), 1);
	ck_assert_int_eq(ts, US_SEC(1700000000) + 250);
	us_pcap_reader_close(r);
}
END_TEST

START_TEST(a_64_kb_gso_frame_is_kept_whole)
{
	const char *path = tmp_path("big.pcap");
	const size_t big = 65536 + 256;
	uint8_t *frame = malloc(big);
	struct us_pcap_writer *w = open_writer(path);
	struct us_pcap_reader *r;
	const uint8_t *data;
	size_t len;
	us_time_t ts;

	ck_assert_ptr_nonnull(frame);
	for (size_t i = 0; i < big; i++)
		frame[i] = (uint8_t)(i ^ i >> 8);
	ck_assert_int_eq(us_pcap_writer_write(w, 10, frame, big), 0);
	us_pcap_writer_close(w);

	r = open_reader(path);
	ck_assert_int_eq(us_pcap_reader_next(r, &ts, &data, &len), 1);
	ck_assert_uint_eq(len, big);
	ck_assert_int_eq(memcmp(data, frame, big), 0);
	ck_assert_int_eq(ts, 10);
	us_pcap_reader_close(r);
	free(frame);
}
END_TEST

/* A frame whose UDP checksum the link would complete (offloads: the field
 * holds the pseudo-header sum) is recorded with the checksum completed, as
 * the datagram carries it on a wire; the caller's frame is untouched. */
START_TEST(a_partial_checksum_is_completed_in_the_record)
{
	const char *path = tmp_path("partial.pcap");
	uint8_t frame[14 + 20 + 8 + 5], want[sizeof frame];
	memset(frame, 0, sizeof frame);
	const size_t l4 = 34, udp_len = 8 + 5;
	uint8_t *u = frame + l4;
	us_put_be16(u, 4000);
	us_put_be16(u + 2, 7);
	us_put_be16(u + 4, (uint16_t)udp_len);
	memcpy(u + 8, "hello", 5);
	uint32_t pseudo = us_csum_pseudo4(0xc6336401u, 0xc6336402u, 17, (uint32_t)udp_len);
	memcpy(want, frame, sizeof frame);
	us_udp_csum_fill(want + l4, udp_len, pseudo);
	/* What a sender leaves for the link: the folded pseudo-header sum. */
	us_put_be16(u + 6, (uint16_t)~us_csum_fold(pseudo));
	uint8_t before[sizeof frame];
	memcpy(before, frame, sizeof frame);

	struct us_pcap_writer *w = open_writer(path);
	ck_assert_int_eq(us_pcap_writer_write_partial(w, 5, frame, sizeof frame, (uint16_t)l4, 6), 0);
	us_pcap_writer_close(w);
	ck_assert_int_eq(memcmp(frame, before, sizeof frame), 0);

	struct us_pcap_reader *r = open_reader(path);
	const uint8_t *data;
	size_t len;
	us_time_t ts;
	ck_assert_int_eq(us_pcap_reader_next(r, &ts, &data, &len), 1);
	ck_assert_uint_eq(len, sizeof frame);
	ck_assert_int_eq(memcmp(data, want, sizeof want), 0);
	us_pcap_reader_close(r);
}
END_TEST

START_TEST(frame_longer_than_the_snaplen_is_cut_and_keeps_its_wire_length)
{
	const char *path = tmp_path("cut.pcap");
	const size_t huge = US_PCAP_SNAPLEN + 1000;
	uint8_t *frame = malloc(huge), head[16];
	struct us_pcap_writer *w = open_writer(path);
	struct us_pcap_reader *r;
	const uint8_t *data;
	size_t len;
	us_time_t ts;
	FILE *f;

	ck_assert_ptr_nonnull(frame);
	for (size_t i = 0; i < huge; i++)
		frame[i] = (uint8_t)(i * 13);
	ck_assert_int_eq(us_pcap_writer_write(w, 0, frame, huge), 0);
	us_pcap_writer_close(w);

	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 24, SEEK_SET), 0);
	ck_assert_uint_eq(fread(head, 1, sizeof head, f), sizeof head);
	fclose(f);
	ck_assert_uint_eq(host32(head + 8), US_PCAP_SNAPLEN); /* captured */
	ck_assert_uint_eq(host32(head + 12), huge);           /* on the wire */

	r = open_reader(path);
	ck_assert_int_eq(us_pcap_reader_next(r, &ts, &data, &len), 1);
	ck_assert_uint_eq(len, US_PCAP_SNAPLEN);
	ck_assert_int_eq(memcmp(data, frame, US_PCAP_SNAPLEN), 0);
	us_pcap_reader_close(r);
	free(frame);
}
END_TEST

START_TEST(flush_makes_written_frames_readable_before_close)
{
	const char *path = tmp_path("flush.pcap");
	struct us_pcap_writer *w = open_writer(path);
	struct us_pcap_reader *r;
	uint8_t frame[100];
	const uint8_t *data;
	size_t len;
	us_time_t ts;

	numbered_frame(frame, 1);
	ck_assert_int_eq(us_pcap_writer_write(w, 5, frame, sizeof frame), 0);
	ck_assert_int_eq(us_pcap_writer_flush(w), 0);
	r = open_reader(path);
	ck_assert_int_eq(us_pcap_reader_next(r, &ts, &data, &len), 1);
	ck_assert_uint_eq(len, sizeof frame);
	ck_assert_mem_eq(data, frame, sizeof frame);
	us_pcap_reader_close(r);
	us_pcap_writer_close(w);
}
END_TEST

START_TEST(a_file_without_frames_reads_as_ended)
{
	const char *path = tmp_path("empty.pcap");
	struct us_pcap_reader *r;
	const uint8_t *data;
	size_t len;
	us_time_t ts;

	us_pcap_writer_close(open_writer(path));
	r = open_reader(path);
	ck_assert_int_eq(us_pcap_reader_next(r, &ts, &data, &len), 0);
	us_pcap_reader_close(r);
}
END_TEST

START_TEST(bad_paths_give_negative_errno)
{
	int err = 0;

	ck_assert_ptr_null(us_pcap_writer_open("/nonexistent-ustack-dir/x.pcap", &err));
	ck_assert_int_eq(err, -ENOENT);
	err = 0;
	ck_assert_ptr_null(us_pcap_writer_open(tmpdir, &err)); /* a directory */
	ck_assert_int_eq(err, -EISDIR);
	err = 0;
	ck_assert_ptr_null(us_pcap_writer_open("", &err));
	ck_assert_int_eq(err, -EINVAL);
	ck_assert_ptr_null(us_pcap_writer_open("/nonexistent-ustack-dir/x.pcap", NULL));

	err = 0;
	ck_assert_ptr_null(us_pcap_reader_open(tmp_path("missing.pcap"), &err));
	ck_assert_int_eq(err, -ENOENT);
	err = 0;
	ck_assert_ptr_null(us_pcap_reader_open("", &err));
	ck_assert_int_eq(err, -EINVAL);
}
END_TEST

START_TEST(a_non_ethernet_capture_is_refused_with_eproto)
{
	const char *path = tmp_path("raw-ip.pcap");
	uint8_t bytes[128];
	size_t n;
	int err = 0;

	/* A little-endian microsecond pcap of link type 101 (LINKTYPE_RAW: bare
	 * IP packets) holding one 20-byte IPv4 header. */
	n = us_test_hex("d4 c3 b2 a1  02 00  04 00" /* magic (LE, usec), version 2.4 */
			"00 00 00 00  00 00 00 00"  /* thiszone, sigfigs */
			"ff ff 00 00  65 00 00 00"  /* snaplen 65535, linktype 101 */
			"01 00 00 00  00 00 00 00  14 00 00 00  14 00 00 00" /* ts 1.0, 20/20 */
			"45 00 00 14  00 00 40 00  40 00 b6 e6  c0 00 02 01  c0 00 02 02",
			bytes, sizeof bytes);
	write_file(path, bytes, n);
	ck_assert_ptr_null(us_pcap_reader_open(path, &err));
	ck_assert_int_eq(err, -EPROTO);

	/* The same file with link type 1 is accepted: only the type differs. */
	bytes[20] = 0x01;
	write_file(path, bytes, n);
	us_pcap_reader_close(open_reader(path));
}
END_TEST

START_TEST(a_file_that_is_not_a_capture_is_refused_with_einval)
{
	const char *path = tmp_path("text.pcap");
	static const uint8_t text[] = "this is not a capture file, just some text\n";
	int err = 0;

	write_file(path, text, sizeof text - 1);
	ck_assert_ptr_null(us_pcap_reader_open(path, &err));
	ck_assert_int_eq(err, -EINVAL);

	write_file(path, text, 0);
	err = 0;
	ck_assert_ptr_null(us_pcap_reader_open(path, &err));
	ck_assert_int_eq(err, -EINVAL);
}
END_TEST

START_TEST(a_truncated_record_is_reported_as_eio)
{
	const char *path = tmp_path("truncated.pcap");
	struct us_pcap_writer *w = open_writer(path);
	struct us_pcap_reader *r;
	uint8_t frame[100];
	const uint8_t *data;
	size_t len;
	us_time_t ts;

	numbered_frame(frame, 1);
	ck_assert_int_eq(us_pcap_writer_write(w, 0, frame, sizeof frame), 0);
	numbered_frame(frame, 2);
	ck_assert_int_eq(us_pcap_writer_write(w, 1, frame, sizeof frame), 0);
	us_pcap_writer_close(w);
	/* Cut the second record's data short. */
	ck_assert_int_eq(truncate(path, 24 + 116 + 16 + 50), 0);

	r = open_reader(path);
	ck_assert_int_eq(us_pcap_reader_next(r, &ts, &data, &len), 1);
	ck_assert_uint_eq(data[99], 1);
	ck_assert_int_eq(us_pcap_reader_next(r, &ts, &data, &len), -EIO);
	us_pcap_reader_close(r);
}
END_TEST

START_TEST(times_the_format_cannot_hold_are_refused)
{
	const char *path = tmp_path("times.pcap");
	struct us_pcap_writer *w = open_writer(path);
	uint8_t frame[100], numbers[8];

	numbered_frame(frame, 1);
	ck_assert_int_eq(us_pcap_writer_write(w, -1, frame, sizeof frame), -EINVAL);
	/* Seconds are 32 bits, unsigned: 2^32 s is past 2106. */
	ck_assert_int_eq(us_pcap_writer_write(w, US_SEC(4294967296LL), frame, sizeof frame),
			 -ERANGE);
	ck_assert_int_eq(us_pcap_writer_write(w, US_SEC(4294967295LL), frame, sizeof frame), 0);
	us_pcap_writer_set_origin(w, INT64_MAX);
	ck_assert_int_eq(us_pcap_writer_write(w, 1, frame, sizeof frame), -ERANGE);
	us_pcap_writer_set_origin(w, US_SEC(10));
	ck_assert_int_eq(us_pcap_writer_write(w, -US_SEC(10) - 1, frame, sizeof frame), -EINVAL);
	ck_assert_int_eq(us_pcap_writer_write(w, -US_SEC(10), frame, sizeof frame), 0);
	ck_assert_int_eq(us_pcap_writer_write(w, 0, NULL, 5), -EINVAL);
	us_pcap_writer_close(w);
	ck_assert_uint_eq(frames_in(path, numbers, 8), 2);
}
END_TEST

START_TEST(rotation_keeps_the_newest_files_as_path_1_and_path_2)
{
	const char *path = tmp_path("rot.pcap");
	struct us_pcap_writer *w = open_writer(path);
	uint8_t frame[100], numbers[8];
	int err = 0;

	/* Room for two 100-byte records per file; three files in all. */
	ck_assert_int_eq(us_pcap_writer_set_limit(w, 24 + 2 * (16 + 100), 3), 0);
	for (uint8_t n = 1; n <= 7; n++) {
		numbered_frame(frame, n);
		ck_assert_int_eq(us_pcap_writer_write(w, n, frame, sizeof frame), 0);
	}
	us_pcap_writer_close(w);

	ck_assert_uint_eq(frames_in(path, numbers, 8), 1);
	ck_assert_uint_eq(numbers[0], 7);
	ck_assert_uint_eq(frames_in(tmp_path("rot.pcap.1"), numbers, 8), 2);
	ck_assert_uint_eq(numbers[0], 5);
	ck_assert_uint_eq(numbers[1], 6);
	ck_assert_uint_eq(frames_in(tmp_path("rot.pcap.2"), numbers, 8), 2);
	ck_assert_uint_eq(numbers[0], 3);
	ck_assert_uint_eq(numbers[1], 4);
	/* Frames 1 and 2 went with the oldest file. */
	ck_assert_ptr_null(us_pcap_reader_open(tmp_path("rot.pcap.3"), &err));
	ck_assert_int_eq(err, -ENOENT);
}
END_TEST

START_TEST(rotation_with_one_file_restarts_it_and_keeps_oversized_records)
{
	const char *path = tmp_path("one.pcap");
	struct us_pcap_writer *w = open_writer(path);
	uint8_t frame[100], numbers[8];
	int err = 0;

	ck_assert_int_eq(us_pcap_writer_set_limit(w, 100, 0), -EINVAL);
	/* Smaller than one record: every file still takes one. */
	ck_assert_int_eq(us_pcap_writer_set_limit(w, 100, 1), 0);
	for (uint8_t n = 1; n <= 3; n++) {
		numbered_frame(frame, n);
		ck_assert_int_eq(us_pcap_writer_write(w, n, frame, sizeof frame), 0);
	}
	us_pcap_writer_close(w);
	ck_assert_uint_eq(frames_in(path, numbers, 8), 1);
	ck_assert_uint_eq(numbers[0], 3);
	ck_assert_ptr_null(us_pcap_reader_open(tmp_path("one.pcap.1"), &err));
	ck_assert_int_eq(err, -ENOENT);
}
END_TEST

START_TEST(without_a_limit_the_file_never_rotates)
{
	const char *path = tmp_path("nolimit.pcap");
	struct us_pcap_writer *w = open_writer(path);
	uint8_t frame[100], numbers[64];
	int err = 0;

	ck_assert_int_eq(us_pcap_writer_set_limit(w, 24 + 116, 2), 0);
	ck_assert_int_eq(us_pcap_writer_set_limit(w, 0, 0), 0);
	for (uint8_t n = 1; n <= 50; n++) {
		numbered_frame(frame, n);
		ck_assert_int_eq(us_pcap_writer_write(w, n, frame, sizeof frame), 0);
	}
	us_pcap_writer_close(w);
	ck_assert_uint_eq(frames_in(path, numbers, 64), 50);
	ck_assert_uint_eq(numbers[49], 50);
	ck_assert_ptr_null(us_pcap_reader_open(tmp_path("nolimit.pcap.1"), &err));
	ck_assert_int_eq(err, -ENOENT);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("pcap");
	TCase *tc = tcase_create("capture");

	tcase_add_unchecked_fixture(tc, make_tmpdir, remove_tmpdir);
	tcase_add_test(tc, frames_read_back_byte_exact_with_their_timestamps);
	tcase_add_test(tc, file_has_nanosecond_magic_ethernet_link_type_and_origin_added);
	tcase_add_test(tc, a_64_kb_gso_frame_is_kept_whole);
	tcase_add_test(tc, a_partial_checksum_is_completed_in_the_record);
	tcase_add_test(tc, frame_longer_than_the_snaplen_is_cut_and_keeps_its_wire_length);
	tcase_add_test(tc, flush_makes_written_frames_readable_before_close);
	tcase_add_test(tc, a_file_without_frames_reads_as_ended);
	tcase_add_test(tc, bad_paths_give_negative_errno);
	tcase_add_test(tc, a_non_ethernet_capture_is_refused_with_eproto);
	tcase_add_test(tc, a_file_that_is_not_a_capture_is_refused_with_einval);
	tcase_add_test(tc, a_truncated_record_is_reported_as_eio);
	tcase_add_test(tc, times_the_format_cannot_hold_are_refused);
	tcase_add_test(tc, rotation_keeps_the_newest_files_as_path_1_and_path_2);
	tcase_add_test(tc, rotation_with_one_file_restarts_it_and_keeps_oversized_records);
	tcase_add_test(tc, without_a_limit_the_file_never_rotates);
	suite_add_tcase(s, tc);
	return s;
}
