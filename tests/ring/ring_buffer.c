/* SPDX-License-Identifier: MIT */
/* Big payloads by reference: an entry names a range of a granted buffer;
 * the reader accepts it only inside the grant's real size. */
#include "ring_test.h"

#include <string.h>

static void reference_round_trips_through_the_ring(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	struct pt_ring_entry *e, got;
	struct pt_ring_buffer_ref ref;

	(void)state;
	ring_pair(&b, 4, &host, &dom);
	e = pt_ring_get_entry(&host);
	assert_non_null(e);
	pt_ring_set_buffer(e, 7, 4096, 65536);
	pt_ring_submit(&host);
	assert_int_equal(pt_ring_peek(&dom, &got), 0);
	assert_int_equal(pt_ring_get_buffer(&got, 69632, &ref), 0);
	assert_int_equal(ref.grant, 7);
	assert_true(ref.offset == 4096 && ref.len == 65536);
	/* one byte short of the grant's real size: refused */
	assert_int_equal(pt_ring_get_buffer(&got, 69631, &ref), -EPROTO);
	ring_block_unmap(&b);
}

static void forged_references_are_refused(void **state)
{
	struct pt_ring_entry e;
	struct pt_ring_buffer_ref ref, bad;

	(void)state;
	memset(&e, 0, sizeof(e));
	pt_ring_set_buffer(&e, 1, 0, 100);
	assert_int_equal(pt_ring_get_buffer(&e, 100, &ref), 0);
	assert_int_equal(pt_ring_get_buffer(&e, 99, &ref), -EPROTO);

	/* offset + len wraps around 2^64 */
	pt_ring_set_buffer(&e, 1, UINT64_MAX - 10, 100);
	assert_int_equal(pt_ring_get_buffer(&e, 4096, &ref), -EPROTO);
	/* offset beyond the grant */
	pt_ring_set_buffer(&e, 1, 4097, 0);
	assert_int_equal(pt_ring_get_buffer(&e, 4096, &ref), -EPROTO);
	/* an empty range at the very end is fine */
	pt_ring_set_buffer(&e, 1, 4096, 0);
	assert_int_equal(pt_ring_get_buffer(&e, 4096, &ref), 0);
	/* the len field must say exactly one reference */
	e.len = sizeof(ref) + 1;
	assert_int_equal(pt_ring_get_buffer(&e, 4096, &ref), -EPROTO);
	/* reserved bits set */
	pt_ring_set_buffer(&e, 1, 0, 1);
	memcpy(&bad, e.payload, sizeof(bad));
	bad.reserved = 1;
	memcpy(e.payload, &bad, sizeof(bad));
	assert_int_equal(pt_ring_get_buffer(&e, 4096, &ref), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reference_round_trips_through_the_ring),
		cmocka_unit_test(forged_references_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
