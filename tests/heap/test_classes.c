/* SPDX-License-Identifier: MIT */
/*
 * White-box check of pt_heap's size-class map (heap.c is compiled into this
 * test, so its static tables are visible). The search's correctness rests
 * on two facts checked here for every size and shift: classes never go
 * down as sizes grow, and the large class starts exactly at LARGE_MIN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/heap/heap.c"

static void class_map_is_monotone(void **state)
{
	(void)state;
	for (uint32_t shift = 0; shift <= 8; shift++) {
		unsigned prev = 0;

		for (uint32_t u = 1; u < MAX_UNITS; u++) {
			unsigned c = size_class(u, shift);

			if (c < prev)
				fail_msg("class drops at %u units, shift %u", u, shift);
			assert_true(c < CLASSES);
			prev = c;
		}
		assert_int_equal(size_class(MAX_UNITS - 1, shift), LARGE);
	}
}

static void large_class_starts_at_large_min(void **state)
{
	(void)state;
	assert_int_equal(size_class(LARGE_MIN, 0), LARGE);
	assert_true(size_class(LARGE_MIN - 1, 0) < LARGE);
	for (uint32_t v = 1; v < 8; v++)
		assert_int_equal(fine_index(v), v);
	assert_true(fine_index(MAX_UNITS - 1) < FINE_STEPS);
}

/* Heaps from the minimum to the maximum: the large class can never hold
 * 16 chunks, i.e. 16 large chunks do not fit. */
static void large_class_is_bounded_for_every_heap_size(void **state)
{
	(void)state;
	for (uint32_t end = FIRST + 1; end <= MAX_UNITS; end += end / 64 + 1) {
		struct pt_heap h = { .end = end };
		uint32_t shift = class_shift(&h), units = end - FIRST;

		assert_true((uint64_t)16 * (LARGE_MIN << shift) > units);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(class_map_is_monotone),
		cmocka_unit_test(large_class_starts_at_large_min),
		cmocka_unit_test(large_class_is_bounded_for_every_heap_size),
	};
	return cmocka_run_group_tests_name("heap_classes", tests, NULL, NULL);
}
