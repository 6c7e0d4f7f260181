/* SPDX-License-Identifier: MIT */
/* pt_heap: the API's contract, bounds and hardening, one test per behaviour. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <partita/heap.h>

#define BLOCK (64 * 1024)

static _Alignas(16) unsigned char block[BLOCK];

static struct pt_heap *fresh(size_t size)
{
	struct pt_heap *h;

	memset(block, 0xa5, sizeof(block));
	h = pt_heap_init(block, size);
	assert_non_null(h);
	assert_null(pt_heap_validate(h));
	return h;
}

static void assert_valid(const struct pt_heap *h)
{
	const char *why = pt_heap_validate(h);

	if (why)
		fail_msg("heap invalid: %s", why);
}

static struct pt_heap_stats stats_of(const struct pt_heap *h)
{
	struct pt_heap_stats s;

	pt_heap_stats(h, &s);
	return s;
}

static void init_rejects_bad_blocks(void **state)
{
	(void)state;
	assert_null(pt_heap_init(NULL, 4096));
	assert_null(pt_heap_init(block + 8, 4096));
	assert_null(pt_heap_init(block, PT_HEAP_MIN_SIZE - 1));
	assert_non_null(pt_heap_init(block, PT_HEAP_MIN_SIZE));
}

static void min_heap_holds_one_small_block(void **state)
{
	struct pt_heap *h = fresh(PT_HEAP_MIN_SIZE);
	void *p;

	(void)state;
	p = pt_heap_alloc(h, 8);
	assert_non_null(p);
	assert_int_equal(pt_heap_usable_size(h, p), 8);
	assert_null(pt_heap_alloc(h, 1));
	assert_int_equal(pt_heap_free(h, p), 0);
	assert_null(pt_heap_alloc(h, 9));
	assert_non_null(pt_heap_alloc(h, 0));
	assert_valid(h);
}

static void fixed_cost_and_capacity(void **state)
{
	struct pt_heap *h = fresh(4096);
	struct pt_heap_stats s = stats_of(h);
	void *p;

	(void)state;
	assert_true(PT_HEAP_FIXED_COST < 128);
	assert_int_equal(s.capacity, 4096 - PT_HEAP_FIXED_COST);
	/* The whole capacity is one allocation of capacity - 8 bytes. */
	p = pt_heap_alloc(h, s.capacity - PT_HEAP_OVERHEAD);
	assert_non_null(p);
	assert_int_equal(stats_of(h).allocated, s.capacity);
	assert_int_equal(pt_heap_free(h, p), 0);
	assert_null(pt_heap_alloc(h, s.capacity - PT_HEAP_OVERHEAD + 1));
	assert_valid(h);
}

static void alloc_is_aligned_and_overhead_is_8(void **state)
{
	struct pt_heap *h = fresh(BLOCK);

	(void)state;
	for (size_t n = 0; n < 300; n++) {
		unsigned char *p = pt_heap_alloc(h, n);
		size_t usable;

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % PT_HEAP_ALIGN, 0);
		usable = pt_heap_usable_size(h, p);
		assert_true(usable >= n);
		/* chunk = usable + 8, the smallest multiple of 16 that fits. */
		assert_true(usable + PT_HEAP_OVERHEAD - 16 < (n ? n : 1) + PT_HEAP_OVERHEAD);
		memset(p, 0x5a, usable);
		assert_valid(h);
	}
}

static void free_returns_everything(void **state)
{
	struct pt_heap *h = fresh(BLOCK);
	void *ptrs[256];
	struct pt_heap_stats s;

	(void)state;
	for (int i = 0; i < 256; i++) {
		ptrs[i] = pt_heap_alloc(h, (size_t)(i * 7) % 200);
		assert_non_null(ptrs[i]);
	}
	/* Free odd then even, so every merge direction happens. */
	for (int i = 1; i < 256; i += 2)
		assert_int_equal(pt_heap_free(h, ptrs[i]), 0);
	assert_valid(h);
	for (int i = 0; i < 256; i += 2)
		assert_int_equal(pt_heap_free(h, ptrs[i]), 0);
	assert_valid(h);
	s = stats_of(h);
	assert_int_equal(s.allocated, 0);
	assert_int_equal(s.allocations, 256);
	assert_non_null(pt_heap_alloc(h, s.capacity - PT_HEAP_OVERHEAD));
}

static void exhaustion_returns_null_and_counts(void **state)
{
	struct pt_heap *h = fresh(2048);
	struct pt_heap_stats s;
	int n = 0;

	(void)state;
	while (pt_heap_alloc(h, 24))
		n++;
	s = stats_of(h);
	/* Each 24-byte allocation is a 32-byte chunk; none may be wasted. */
	assert_int_equal(n, (int)(s.capacity / 32));
	assert_int_equal(s.failures, 1);
	assert_null(pt_heap_alloc(h, SIZE_MAX));
	assert_null(pt_heap_alloc(h, PT_HEAP_MAX_SIZE));
	s = stats_of(h);
	assert_int_equal(s.failures, 3);
	assert_int_equal(s.peak_request, SIZE_MAX);
	assert_valid(h);
}

static void calloc_zeroes_and_checks_overflow(void **state)
{
	struct pt_heap *h = fresh(BLOCK);
	unsigned char *p;

	(void)state;
	p = pt_heap_alloc(h, 1000);
	memset(p, 0xff, 1000);
	pt_heap_free(h, p);
	p = pt_heap_calloc(h, 10, 100);
	assert_non_null(p);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(p[i], 0);
	assert_null(pt_heap_calloc(h, SIZE_MAX / 2, 3));
	assert_int_equal(stats_of(h).failures, 1);
	assert_valid(h);
}

static void realloc_shrinks_and_grows_in_place(void **state)
{
	struct pt_heap *h = fresh(BLOCK);
	unsigned char *p, *q, *guard;

	(void)state;
	p = pt_heap_alloc(h, 1000);
	guard = pt_heap_alloc(h, 16);
	for (int i = 0; i < 1000; i++)
		p[i] = (unsigned char)i;
	q = pt_heap_realloc(h, p, 100);
	assert_ptr_equal(q, p);
	assert_true(pt_heap_usable_size(h, q) < 200);
	assert_valid(h);
	/* The freed tail is right after it: growing back stays in place. */
	q = pt_heap_realloc(h, p, 900);
	assert_ptr_equal(q, p);
	for (int i = 0; i < 100; i++)
		assert_int_equal(q[i], (unsigned char)i);
	assert_valid(h);
	/* Bigger than the gap before guard: it moves and keeps the bytes. */
	q = pt_heap_realloc(h, p, 5000);
	assert_non_null(q);
	assert_ptr_not_equal(q, p);
	for (int i = 0; i < 100; i++)
		assert_int_equal(q[i], (unsigned char)i);
	assert_valid(h);
	assert_null(pt_heap_realloc(h, q, 0));
	assert_int_equal(pt_heap_free(h, guard), 0);
	assert_int_equal(stats_of(h).allocated, 0);
	assert_valid(h);
}

static void realloc_failure_keeps_block(void **state)
{
	struct pt_heap *h = fresh(4096);
	unsigned char *p, *q;

	(void)state;
	p = pt_heap_realloc(h, NULL, 100);
	assert_non_null(p);
	memset(p, 7, 100);
	assert_non_null(pt_heap_alloc(h, 16));
	q = pt_heap_realloc(h, p, 8192);
	assert_null(q);
	for (int i = 0; i < 100; i++)
		assert_int_equal(p[i], 7);
	assert_int_equal(pt_heap_usable_size(h, p), 104);
	assert_valid(h);
}

static void aligned_alloc_honours_alignment(void **state)
{
	struct pt_heap *h = fresh(BLOCK);

	(void)state;
	for (size_t align = 1; align <= 4096; align <<= 1) {
		for (size_t n = 1; n < 300; n += 37) {
			void *p = pt_heap_aligned_alloc(h, align, n);

			assert_non_null(p);
			assert_int_equal((uintptr_t)p % align, 0);
			assert_true(pt_heap_usable_size(h, p) >= n);
			assert_valid(h);
			if (n % 2)
				pt_heap_free(h, p);
		}
	}
	assert_null(pt_heap_aligned_alloc(h, 3, 16));
	assert_null(pt_heap_aligned_alloc(h, (size_t)1 << 40, 16));
	assert_valid(h);
}

static void double_free_is_refused(void **state)
{
	struct pt_heap *h = fresh(BLOCK);
	void *a, *b, *c;

	(void)state;
	a = pt_heap_alloc(h, 40);
	b = pt_heap_alloc(h, 40);
	c = pt_heap_alloc(h, 40);
	assert_int_equal(pt_heap_free(h, b), 0);
	assert_int_equal(pt_heap_free(h, b), -EINVAL);
	/* c merges into b's free chunk: its old header must not pass. */
	assert_int_equal(pt_heap_free(h, c), 0);
	assert_int_equal(pt_heap_free(h, c), -EINVAL);
	assert_int_equal(stats_of(h).bad_frees, 2);
	assert_valid(h);
	assert_int_equal(pt_heap_free(h, a), 0);
	assert_valid(h);
	assert_int_equal(stats_of(h).allocated, 0);
}

static void foreign_pointers_are_refused(void **state)
{
	struct pt_heap *h = fresh(BLOCK);
	static _Alignas(16) char elsewhere[64];
	char *p;

	(void)state;
	p = pt_heap_alloc(h, 256);
	memset(p, 0, 256);
	assert_int_equal(pt_heap_free(h, elsewhere), -EINVAL);
	assert_int_equal(pt_heap_free(h, p + 1), -EINVAL);
	assert_int_equal(pt_heap_free(h, p + 16), -EINVAL);
	assert_int_equal(pt_heap_free(h, p + 128), -EINVAL);
	assert_int_equal(pt_heap_free(h, block), -EINVAL);
	assert_int_equal(pt_heap_free(h, block + BLOCK - 16), -EINVAL);
	assert_null(pt_heap_realloc(h, p + 32, 10));
	assert_int_equal(pt_heap_usable_size(h, p + 16), 0);
	assert_int_equal(stats_of(h).bad_frees, 7);
	assert_valid(h);
	assert_int_equal(pt_heap_free(h, p), 0);
	assert_valid(h);
}

/* A random overflow into the next header must be caught with no damage. */
static void overflow_into_header_is_detected(void **state)
{
	struct pt_heap *h = fresh(BLOCK);
	unsigned char *a, *b;
	size_t usable;
	const unsigned char patterns[] = { 0x00, 0xff, 0x41, 0x10 };

	(void)state;
	for (size_t k = 0; k < sizeof(patterns); k++) {
		a = pt_heap_alloc(h, 40);
		b = pt_heap_alloc(h, 40);
		usable = pt_heap_usable_size(h, a);
		memset(a, patterns[k], usable + 4); /* 4 bytes into b's header */
		assert_non_null(pt_heap_validate(h));
		assert_int_equal(pt_heap_free(h, b), -EINVAL);
		/* a's right neighbour no longer checks out: refused too. */
		assert_int_equal(pt_heap_free(h, a), -EINVAL);
		assert_int_equal(pt_heap_usable_size(h, b), 0);
		h = fresh(BLOCK);
	}
}

/* Use after free: overwriting a free chunk's links is caught on reuse. */
static void damaged_free_list_is_detected(void **state)
{
	struct pt_heap *h = fresh(BLOCK);
	uint32_t *a;
	void *keep, *p;
	struct pt_heap_stats s;

	(void)state;
	a = pt_heap_alloc(h, 40);
	keep = pt_heap_alloc(h, 40);
	assert_int_equal(pt_heap_free(h, a), 0);
	a[0] = 0x00ffff00; /* next link now points nowhere sensible */
	assert_non_null(pt_heap_validate(h));
	p = pt_heap_alloc(h, 40);
	assert_null(p);
	s = stats_of(h);
	assert_int_equal(s.damaged, 1);
	assert_int_equal(s.failures, 1);
	(void)keep;
}

/* An overflow into a free chunk's header: the search that reaches it stops
 * with NULL instead of carving a chunk whose size it cannot trust. */
static void overflow_into_free_chunk_is_detected(void **state)
{
	struct pt_heap *h = fresh(4096);
	unsigned char *a, *b, *c;

	(void)state;
	a = pt_heap_alloc(h, 40);
	b = pt_heap_alloc(h, 40);
	c = pt_heap_alloc(h, 40);
	assert_non_null(pt_heap_alloc(h, 4096 - PT_HEAP_FIXED_COST - 3 * 48 - 8));
	assert_int_equal(pt_heap_free(h, b), 0);
	memset(a, 'A', pt_heap_usable_size(h, a) + 8); /* all of b's header */
	assert_null(pt_heap_alloc(h, 40));
	assert_int_equal(stats_of(h).damaged, 1);
	assert_int_equal(pt_heap_free(h, a), -EINVAL);
	assert_int_equal(pt_heap_free(h, c), -EINVAL);
	assert_non_null(pt_heap_validate(h));
}

static void damaged_header_of_free_neighbour_blocks_merge(void **state)
{
	struct pt_heap *h = fresh(BLOCK);
	unsigned char *a, *b, *c;

	(void)state;
	a = pt_heap_alloc(h, 40);
	b = pt_heap_alloc(h, 40);
	c = pt_heap_alloc(h, 40);
	assert_int_equal(pt_heap_free(h, b), 0);
	/* A stale write through b smashes the free chunk's back link. */
	((uint32_t *)b)[1] = 12345;
	assert_int_equal(pt_heap_free(h, a), -EINVAL);
	assert_int_equal(pt_heap_free(h, c), -EINVAL);
	assert_int_equal(stats_of(h).damaged, 2);
}

static void stats_track_peak(void **state)
{
	struct pt_heap *h = fresh(BLOCK);
	void *a, *b;
	struct pt_heap_stats s;

	(void)state;
	a = pt_heap_alloc(h, 1000);
	b = pt_heap_alloc(h, 3000);
	pt_heap_free(h, a);
	s = stats_of(h);
	assert_int_equal(s.allocated, 3008);
	assert_int_equal(s.peak_allocated, 1008 + 3008);
	assert_int_equal(s.peak_request, 3000);
	pt_heap_free(h, b);
	assert_int_equal(stats_of(h).allocated, 0);
}

/* Heap state lives in offsets: a copy of the block is a working heap. */
static void heap_is_position_independent(void **state)
{
	static _Alignas(16) unsigned char copy[8192];
	struct pt_heap *h = fresh(8192), *h2;
	char *p, *q;

	(void)state;
	p = pt_heap_alloc(h, 100);
	strcpy(p, "moved");
	memcpy(copy, block, sizeof(copy));
	h2 = (struct pt_heap *)copy;
	assert_null(pt_heap_validate(h2));
	q = (char *)copy + (p - (char *)block);
	assert_string_equal(q, "moved");
	assert_int_equal(pt_heap_free(h2, q), 0);
	assert_null(pt_heap_validate(h2));
}

/* A chunk that fits, buried past the probes of its class list, is still
 * found before the heap reports failure. Chunks of 6 and 7 units (96 and
 * 112 bytes) share a class. */
static void search_finds_buried_fit(void **state)
{
	struct pt_heap *h = fresh(4096);
	void *a7, *b7, *a6, *b6, *p, *q;

	(void)state;
	a7 = pt_heap_alloc(h, 104);
	assert_non_null(pt_heap_alloc(h, 8)); /* separators keep them apart */
	b7 = pt_heap_alloc(h, 104);
	assert_non_null(pt_heap_alloc(h, 8));
	a6 = pt_heap_alloc(h, 88);
	assert_non_null(pt_heap_alloc(h, 8));
	b6 = pt_heap_alloc(h, 88);
	assert_non_null(pt_heap_alloc(h, 8));
	while (pt_heap_alloc(h, 8)) /* no free space left anywhere */
		;
	/* Only a larger chunk replaces the list head, others go second: the
	 * list is a7, b6, a6, b7. */
	pt_heap_free(h, a7);
	pt_heap_free(h, b7);
	pt_heap_free(h, a6);
	pt_heap_free(h, b6);
	assert_valid(h);
	p = pt_heap_alloc(h, 104);
	assert_ptr_equal(p, a7);
	/* b6 and a6 are probed and too small; b7 is third. */
	q = pt_heap_alloc(h, 104);
	assert_ptr_equal(q, b7);
	assert_null(pt_heap_alloc(h, 104));
	assert_non_null(pt_heap_alloc(h, 88));
	assert_non_null(pt_heap_alloc(h, 88));
	assert_null(pt_heap_alloc(h, 1));
	assert_valid(h);
}

/* The most chunks the large class can hold (64 KiB and up, in a 1 MiB
 * heap: 15); a large request still gets the best fit among them. */
static void large_class_worst_case(void **state)
{
	enum { HEAP = 1 << 20, BIG = 65536 - 8 };
	void *block = aligned_alloc(16, HEAP);
	struct pt_heap *h = pt_heap_init(block, HEAP);
	void *big[32], *p;
	int n = 0;

	(void)state;
	assert_non_null(h);
	while (n < 32 && (big[n] = pt_heap_alloc(h, BIG + 16 * (n % 3)))) {
		assert_non_null(pt_heap_alloc(h, 8));
		n++;
	}
	assert_int_equal(n, 15);
	for (int i = 0; i < n; i++)
		assert_int_equal(pt_heap_free(h, big[i]), 0);
	assert_valid(h);
	/* Sizes are BIG, BIG + 16, BIG + 32 in turn: a BIG + 16 request takes
	 * one of the BIG + 16 chunks, not a bigger one. */
	p = pt_heap_alloc(h, BIG + 16);
	assert_int_equal(pt_heap_usable_size(h, p), BIG + 16);
	assert_true(p == big[1] || p == big[4] || p == big[7] || p == big[10] ||
		    p == big[13]);
	assert_valid(h);
	free(block);
}

/* Fills with random sizes, checking each block's bytes survive. */
static void random_ops_keep_contents(void **state)
{
	enum { N = 300 };
	struct pt_heap *h = fresh(BLOCK);
	unsigned char *ptr[N] = { 0 };
	size_t len[N] = { 0 };
	uint64_t x = 88172645463325252ull;

	(void)state;
	for (int step = 0; step < 20000; step++) {
		unsigned k;
		size_t n;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = (unsigned)(x % N);
		n = (size_t)(x >> 32) % 700;
		if (ptr[k]) {
			for (size_t i = 0; i < len[k]; i++)
				assert_int_equal(ptr[k][i], (unsigned char)(k + i));
		}
		switch ((x >> 20) % 3) {
		case 0:
			assert_int_equal(pt_heap_free(h, ptr[k]), 0);
			ptr[k] = NULL;
			len[k] = 0;
			break;
		case 1:
			if (ptr[k])
				continue;
			ptr[k] = (x >> 24) % 4 ? pt_heap_alloc(h, n) :
						 pt_heap_aligned_alloc(h, 64, n);
			len[k] = 0;
			break;
		default: {
			unsigned char *q = pt_heap_realloc(h, ptr[k], n);

			if (!q && n) /* failed: the old block is intact */
				continue;
			ptr[k] = q;
			if (len[k] > n)
				len[k] = n;
			/* The kept prefix survived the move. */
			for (size_t i = 0; q && i < len[k]; i++)
				assert_int_equal(q[i], (unsigned char)(k + i));
			break;
		}
		}
		if (ptr[k] && len[k] != n) {
			len[k] = n;
			for (size_t i = 0; i < n; i++)
				ptr[k][i] = (unsigned char)(k + i);
		}
		if (step % 4 == 0)
			assert_valid(h);
	}
	assert_valid(h);
	assert_int_equal(stats_of(h).bad_frees, 0);
	assert_int_equal(stats_of(h).damaged, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_rejects_bad_blocks),
		cmocka_unit_test(min_heap_holds_one_small_block),
		cmocka_unit_test(fixed_cost_and_capacity),
		cmocka_unit_test(alloc_is_aligned_and_overhead_is_8),
		cmocka_unit_test(free_returns_everything),
		cmocka_unit_test(exhaustion_returns_null_and_counts),
		cmocka_unit_test(calloc_zeroes_and_checks_overflow),
		cmocka_unit_test(realloc_shrinks_and_grows_in_place),
		cmocka_unit_test(realloc_failure_keeps_block),
		cmocka_unit_test(aligned_alloc_honours_alignment),
		cmocka_unit_test(double_free_is_refused),
		cmocka_unit_test(foreign_pointers_are_refused),
		cmocka_unit_test(overflow_into_header_is_detected),
		cmocka_unit_test(damaged_free_list_is_detected),
		cmocka_unit_test(overflow_into_free_chunk_is_detected),
		cmocka_unit_test(damaged_header_of_free_neighbour_blocks_merge),
		cmocka_unit_test(stats_track_peak),
		cmocka_unit_test(heap_is_position_independent),
		cmocka_unit_test(search_finds_buried_fit),
		cmocka_unit_test(large_class_worst_case),
		cmocka_unit_test(random_ops_keep_contents),
	};
	return cmocka_run_group_tests_name("heap", tests, NULL, NULL);
}
