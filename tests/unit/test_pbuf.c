/* SPDX-License-Identifier: MIT */
/* Unit tests for src/stack/pbuf.c: pools, headroom, exhaustion. */
#include "harness.h"

#include <ustack/core.h>

#include "pbuf.h"

START_TEST(push_and_pull_move_the_data_start)
{
	struct us_pool p;
	ck_assert_int_eq(us_pool_init(&p, 4, 1), 0);
	struct us_pbuf *b = us_pbuf_alloc(&p, 64, 100);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(b->len, 100);
	ck_assert_uint_eq(us_pbuf_headroom(b), 64);
	uint8_t *data = us_pbuf_data(b);
	uint8_t *h = us_pbuf_push(b, 14);
	ck_assert_ptr_eq(h, data - 14);
	ck_assert_uint_eq(b->len, 114);
	ck_assert_ptr_null(us_pbuf_push(b, 51)); /* only 50 left */
	ck_assert_uint_eq(b->len, 114);
	ck_assert_ptr_eq(us_pbuf_pull(b, 14), data);
	ck_assert_ptr_null(us_pbuf_pull(b, 101));
	us_pbuf_trim(b, 20);
	ck_assert_uint_eq(b->len, 20);
	us_pbuf_trim(b, 30);
	ck_assert_uint_eq(b->len, 20);
	ck_assert_uint_eq(us_pbuf_tailroom(b), US_PBUF_SMALL - 64 - 20);
	ck_assert_ptr_eq(us_pbuf_put(b, 4), data + 20);
	ck_assert_ptr_null(us_pbuf_put(b, US_PBUF_SMALL));
	us_pbuf_free(&p, b);
	ck_assert_uint_eq(us_pool_in_use(&p), 0);
	us_pool_fini(&p);
}
END_TEST

START_TEST(an_empty_pool_refuses_and_counts)
{
	struct us_pool p;
	ck_assert_int_eq(us_pool_init(&p, 2, 0), 0);
	struct us_pbuf *a = us_pbuf_alloc(&p, 0, 10), *b = us_pbuf_alloc(&p, 0, 10);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a->mem, b->mem);
	ck_assert_ptr_null(us_pbuf_alloc(&p, 0, 10));
	ck_assert_uint_eq(p.exhausted, 1);
	ck_assert_uint_eq(us_pool_in_use(&p), 2);
	us_pbuf_free(&p, a);
	ck_assert_ptr_eq(us_pbuf_alloc(&p, 0, 10), a);
	us_pbuf_free(&p, a);
	us_pbuf_free(&p, b);
	ck_assert_uint_eq(us_pool_in_use(&p), 0);
	us_pool_fini(&p);
}
END_TEST

START_TEST(a_gso_sized_request_gets_a_large_buffer)
{
	struct us_pool p;
	ck_assert_int_eq(us_pool_init(&p, 2, 1), 0);
	struct us_pbuf *b = us_pbuf_alloc(&p, US_PBUF_HEADROOM, 65536 - US_PBUF_HEADROOM);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(b->cap, US_PBUF_LARGE);
	ck_assert_ptr_null(us_pbuf_alloc(&p, 0, US_PBUF_LARGE + 1)); /* larger than any class */
	us_pbuf_free(&p, b);
	us_pool_fini(&p);
}
END_TEST

START_TEST(a_small_request_borrows_a_large_buffer_when_small_ones_run_out)
{
	struct us_pool p;
	ck_assert_int_eq(us_pool_init(&p, 1, 1), 0);
	struct us_pbuf *a = us_pbuf_alloc(&p, 0, 100), *b = us_pbuf_alloc(&p, 0, 100);
	ck_assert_uint_eq(a->cap, US_PBUF_SMALL);
	ck_assert_uint_eq(b->cap, US_PBUF_LARGE);
	us_pbuf_free(&p, b);
	us_pbuf_free(&p, a);
	/* Each went back to its own class. */
	ck_assert_uint_eq(us_pbuf_alloc(&p, 0, 1)->cap, US_PBUF_SMALL);
	us_pool_fini(&p);
}
END_TEST

Suite *us_test_suite(void)
{
	Suite *s = suite_create("pbuf");
	TCase *tc = tcase_create("pbuf");
	tcase_add_test(tc, push_and_pull_move_the_data_start);
	tcase_add_test(tc, an_empty_pool_refuses_and_counts);
	tcase_add_test(tc, a_gso_sized_request_gets_a_large_buffer);
	tcase_add_test(tc, a_small_request_borrows_a_large_buffer_when_small_ones_run_out);
	suite_add_tcase(s, tc);
	return s;
}
