/* SPDX-License-Identifier: MIT */
/* Block geometry and attach: sizes, formatting, refusals with reasons. */
#include "ring_test.h"

#include <string.h>

static void block_size_is_page_rounded_and_rejects_bad_counts(void **state)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	(void)state;
	assert_int_equal(pt_ring_block_size(0), 0);
	assert_int_equal(pt_ring_block_size(3), 0);
	assert_int_equal(pt_ring_block_size(PT_RING_ENTRIES_MAX * 2), 0);
	assert_int_equal(pt_ring_block_size(1) % page, 0);
	/* header page + 2 * 32 * 64 bytes = 8 KiB on 4 KiB pages */
	assert_true(pt_ring_block_size(32) >= 4096 + 2 * 32 * 64);
	assert_int_equal(pt_ring_block_size(32) % page, 0);
	assert_true(pt_ring_block_size(PT_RING_ENTRIES_MAX) >=
		    4096 + 2 * (size_t)PT_RING_ENTRIES_MAX * 64);
}

static void init_refuses_bad_arguments(void **state)
{
	struct ring_block b;

	(void)state;
	ring_block_map(&b, 8);
	assert_int_equal(pt_ring_block_init(NULL, b.size, 8), -EINVAL);
	assert_int_equal(pt_ring_block_init(b.base, b.size, 6), -EINVAL);
	assert_int_equal(pt_ring_block_init(b.base, b.size - 1, 8), -EINVAL);
	assert_int_equal(pt_ring_block_init((uint8_t *)b.base + 8, b.size - 64,
					    8),
			 -EINVAL);
	assert_int_equal(pt_ring_block_init(b.base, b.size, 8), 0);
	ring_block_unmap(&b);
}

static void attach_checks_geometry_and_names_the_problem(void **state)
{
	struct ring_block b;
	struct pt_ring r;
	char err[128];

	(void)state;
	ring_block_map(&b, 8);
	/* unformatted block */
	assert_int_equal(pt_ring_attach_err(&r, b.base, b.size, PT_RING_DOMAIN,
					    0, err, sizeof(err)),
			 -EPROTO);
	assert_non_null(strstr(err, "magic"));
	assert_int_equal(pt_ring_block_init(b.base, b.size, 8), 0);
	assert_int_equal(pt_ring_attach_err(&r, b.base, b.size, PT_RING_HOST,
					    16, err, sizeof(err)),
			 -EPROTO);
	assert_non_null(strstr(err, "expected 16"));
	assert_int_equal(pt_ring_attach_err(&r, b.base, b.size, PT_RING_HOST,
					    0, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "power of two"));
	assert_int_equal(pt_ring_attach_err(&r, b.base, 4096, PT_RING_DOMAIN,
					    0, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "too small"));
	assert_int_equal(pt_ring_attach_err(&r, b.base, b.size,
					    (enum pt_ring_side)7, 0, err,
					    sizeof(err)),
			 -EINVAL);
	assert_int_equal(pt_ring_attach(&r, b.base, b.size, PT_RING_DOMAIN, 0),
			 0);
	assert_int_equal(r.entries, 8);
	assert_int_equal(pt_ring_attach(&r, b.base, b.size, PT_RING_HOST, 8),
			 0);
	ring_block_unmap(&b);
}

static void one_request_one_completion(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	struct pt_ring_entry *e, got;
	struct pt_ring_stats s;

	(void)state;
	ring_pair(&b, 4, &host, &dom);
	e = pt_ring_get_entry(&host);
	assert_non_null(e);
	e->opcode = 7;
	e->instance = 3;
	e->tag = 0xfeedfacecafebeefull;
	e->len = 5;
	memcpy(e->payload, "hello", 5);
	assert_int_equal(pt_ring_ready(&dom), 0);
	assert_int_equal(pt_ring_submit(&host), 1);
	assert_int_equal(pt_ring_ready(&dom), 1);
	assert_int_equal(pt_ring_peek(&dom, &got), 0);
	assert_int_equal(got.opcode, 7);
	assert_int_equal(got.instance, 3);
	assert_true(got.tag == 0xfeedfacecafebeefull);
	assert_memory_equal(got.payload, "hello", 5);

	e = pt_ring_get_entry(&dom);
	assert_non_null(e);
	e->tag = got.tag;
	e->result = -ENOENT;
	pt_ring_advance(&dom, 1);
	assert_int_equal(pt_ring_submit(&dom), 1);

	assert_int_equal(pt_ring_peek(&host, &got), 0);
	assert_true(got.tag == 0xfeedfacecafebeefull);
	assert_int_equal(got.result, -ENOENT);
	assert_int_equal(pt_ring_check_completion(&host, &got), 0);
	pt_ring_advance(&host, 1);
	assert_int_equal(pt_ring_peek(&host, &got), -EAGAIN);

	pt_ring_stats(&host, &s);
	assert_int_equal(s.submitted, 1);
	assert_int_equal(s.completed, 1);
	assert_int_equal(s.wakes, 0); /* nobody was asleep */
	assert_int_equal(s.waits, 0);
	assert_int_equal(s.corrupt, 0);
	assert_false(pt_ring_misbehaving(&host));
	ring_block_unmap(&b);
}

static void check_completion_refuses_out_of_range_fields(void **state)
{
	struct ring_block b;
	struct pt_ring host;
	struct pt_ring_entry e = { 0 };
	struct pt_ring_stats s;

	(void)state;
	ring_pair_host(&b, 4, &host);
	e.result = -4095;
	e.len = PT_RING_PAYLOAD_MAX;
	assert_int_equal(pt_ring_check_completion(&host, &e), 0);
	e.result = 1;
	assert_int_equal(pt_ring_check_completion(&host, &e), -EPROTO);
	e.result = -4096;
	assert_int_equal(pt_ring_check_completion(&host, &e), -EPROTO);
	e.result = 0;
	e.len = PT_RING_PAYLOAD_MAX + 1;
	assert_int_equal(pt_ring_check_completion(&host, &e), -EPROTO);
	pt_ring_stats(&host, &s);
	assert_int_equal(s.corrupt, 3);
	assert_true(pt_ring_misbehaving(&host));
	ring_block_unmap(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(block_size_is_page_rounded_and_rejects_bad_counts),
		cmocka_unit_test(init_refuses_bad_arguments),
		cmocka_unit_test(attach_checks_geometry_and_names_the_problem),
		cmocka_unit_test(one_request_one_completion),
		cmocka_unit_test(check_completion_refuses_out_of_range_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
