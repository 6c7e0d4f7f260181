/* SPDX-License-Identifier: MIT */
/* Full ring: the producer gets NULL once every slot is taken, the host
 * never has more than `entries` requests in flight (so the CQ always has
 * room), and space comes back exactly as the consumer advances. */
#include "ring_test.h"

static void sq_fills_then_refuses(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	struct pt_ring_entry got;

	(void)state;
	ring_pair(&b, 8, &host, &dom);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(pt_ring_space_left(&host), 8 - i);
		assert_non_null(pt_ring_get_entry(&host));
	}
	assert_null(pt_ring_get_entry(&host));
	assert_int_equal(pt_ring_space_left(&host), 0);
	assert_int_equal(pt_ring_submit(&host), 8);
	assert_null(pt_ring_get_entry(&host));

	/* The domain taking requests does not free host slots: they are still
	 * in flight until their completions are consumed. */
	assert_int_equal(pt_ring_peek(&dom, &got), 0);
	pt_ring_advance(&dom, 1);
	assert_null(pt_ring_get_entry(&host));
	assert_non_null(pt_ring_get_entry(&dom));
	assert_int_equal(pt_ring_submit(&dom), 1);
	assert_null(pt_ring_get_entry(&host));
	assert_int_equal(pt_ring_peek(&host, &got), 0);
	pt_ring_advance(&host, 1);
	assert_int_equal(pt_ring_space_left(&host), 1);
	assert_non_null(pt_ring_get_entry(&host));
	assert_null(pt_ring_get_entry(&host));
	assert_false(pt_ring_misbehaving(&host));
	ring_block_unmap(&b);
}

static void cq_fills_when_host_does_not_consume(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	struct pt_ring_entry got;

	(void)state;
	ring_pair(&b, 4, &host, &dom);
	for (unsigned i = 0; i < 4; i++)
		assert_non_null(pt_ring_get_entry(&host));
	assert_int_equal(pt_ring_submit(&host), 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(pt_ring_peek(&dom, &got), 0);
		pt_ring_advance(&dom, 1);
		assert_non_null(pt_ring_get_entry(&dom));
	}
	/* Four completions pending and unread: the CQ is full. */
	assert_int_equal(pt_ring_space_left(&dom), 0);
	assert_null(pt_ring_get_entry(&dom));
	assert_int_equal(pt_ring_submit(&dom), 4);
	assert_int_equal(pt_ring_ready(&host), 4);
	pt_ring_advance(&host, 2);
	assert_int_equal(pt_ring_space_left(&dom), 2);
	assert_int_equal(pt_ring_space_left(&host), 2);
	ring_block_unmap(&b);
}

static void unsubmitted_entries_count_against_space(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;

	(void)state;
	ring_pair(&b, 2, &host, &dom);
	assert_non_null(pt_ring_get_entry(&host));
	assert_non_null(pt_ring_get_entry(&host));
	assert_null(pt_ring_get_entry(&host));
	assert_int_equal(pt_ring_ready(&dom), 0); /* not published yet */
	assert_int_equal(pt_ring_submit(&host), 2);
	assert_int_equal(pt_ring_submit(&host), 0); /* nothing new */
	assert_int_equal(pt_ring_ready(&dom), 2);
	ring_block_unmap(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sq_fills_then_refuses),
		cmocka_unit_test(cq_fills_when_host_does_not_consume),
		cmocka_unit_test(unsubmitted_entries_count_against_space),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
