/* SPDX-License-Identifier: MIT */
/* Wrap-around: slots reused many times over, and the free-running uint32_t
 * indexes overflowing through zero, with every entry arriving once and in
 * order. */
#include "ring_test.h"

/* Moves both sides of a quiet ring (nothing in flight) to index @base, as if
 * @base entries had already gone through. */
static void rebase(struct pt_ring *host, struct pt_ring *dom, uint32_t base)
{
	struct pt_ring *sides[2] = { host, dom };

	for (int i = 0; i < 2; i++) {
		struct pt_ring *r = sides[i];

		*r->prod_tail = base;
		*r->cons_head = base;
		r->prod_local = r->prod_published = r->prod_head_seen = base;
		r->cons_local = r->cons_tail_seen = base;
	}
}

/* Runs @rounds batches of 1..entries requests through the pair; returns
 * the number of entries that made the round trip. */
static uint64_t pump(struct pt_ring *host, struct pt_ring *dom,
		     unsigned rounds, uint64_t *next_tag)
{
	uint64_t expect_req = *next_tag, expect_cpl = *next_tag, moved = 0;
	struct pt_ring_entry *e, got;

	for (unsigned round = 0; round < rounds; round++) {
		unsigned batch = 1 + round % host->entries;

		for (unsigned i = 0; i < batch; i++) {
			e = pt_ring_get_entry(host);
			assert_non_null(e);
			e->tag = (*next_tag)++;
		}
		assert_int_equal(pt_ring_space_left(host),
				 host->entries - batch);
		assert_int_equal(pt_ring_submit(host), batch);
		assert_int_equal(pt_ring_ready(dom), batch);
		while (pt_ring_peek(dom, &got) == 0) {
			assert_true(got.tag == expect_req);
			expect_req++;
			e = pt_ring_get_entry(dom);
			assert_non_null(e);
			e->tag = got.tag;
			pt_ring_advance(dom, 1);
		}
		assert_int_equal(pt_ring_submit(dom), batch);
		assert_int_equal(pt_ring_ready(host), batch);
		for (unsigned i = 0; i < batch; i++) {
			assert_int_equal(pt_ring_peek(host, &got), 0);
			assert_true(got.tag == expect_cpl);
			expect_cpl++;
			pt_ring_advance(host, 1);
			moved++;
		}
		assert_int_equal(pt_ring_peek(host, &got), -EAGAIN);
	}
	return moved;
}

static void slots_are_reused_many_times(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	uint64_t tag = 1, moved;

	(void)state;
	ring_pair(&b, 4, &host, &dom);
	moved = pump(&host, &dom, 10000, &tag);
	assert_true(moved == 25000); /* batches 1,2,3,4 repeating */
	assert_true(*host.prod_tail == 25000);
	assert_false(pt_ring_misbehaving(&host));
	assert_false(pt_ring_misbehaving(&dom));
	ring_block_unmap(&b);
}

static void indexes_overflow_through_zero(void **state)
{
	uint32_t bases[] = { UINT32_MAX - 2, UINT32_MAX, INT32_MAX - 1 };

	(void)state;
	for (unsigned i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		struct ring_block b;
		struct pt_ring host, dom;
		struct pt_ring_stats s;
		uint64_t tag = 1;

		ring_pair(&b, 8, &host, &dom);
		rebase(&host, &dom, bases[i]);
		assert_int_equal(pump(&host, &dom, 64, &tag), 288);
		assert_true(*host.prod_tail == bases[i] + 288u);
		assert_true(*dom.prod_tail == bases[i] + 288u);
		pt_ring_stats(&host, &s);
		assert_int_equal(s.corrupt, 0);
		pt_ring_stats(&dom, &s);
		assert_int_equal(s.corrupt, 0);
		ring_block_unmap(&b);
	}
}

static void one_entry_ring_works(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	uint64_t tag = 1;

	(void)state;
	ring_pair(&b, 1, &host, &dom);
	assert_int_equal(pump(&host, &dom, 1000, &tag), 1000);
	ring_block_unmap(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slots_are_reused_many_times),
		cmocka_unit_test(indexes_overflow_through_zero),
		cmocka_unit_test(one_entry_ring_works),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
