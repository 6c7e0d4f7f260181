/* SPDX-License-Identifier: MIT */
/*
 * pt_mod_alloc/pt_mod_free on an instance's private heap (lib/abi): a module
 * that exhausts its heap gets NULL, its heap stays sound, and no other
 * instance's heap is touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <partita/heap.h>
#include <partita/module.h>
#include "lib/abi/abi.h"

#define HEAP_A 4096
#define HEAP_B 8192

static _Alignas(16) unsigned char block_a[HEAP_A];
static _Alignas(16) unsigned char block_b[HEAP_B];

/* init keeps a 64-byte state block, as modules do. */
static int keep_state(struct pt_module *mod, const void *data, size_t size)
{
	void *state = pt_mod_alloc(mod, 64);

	(void)data;
	(void)size;
	if (!state)
		return -12;
	memset(state, 0x11, 64);
	pt_mod_set_priv(mod, state);
	return 0;
}

static const struct pt_module_ops ops = { .init = keep_state };
static const struct pt_manifest manifest = { .magic = PT_MANIFEST_MAGIC,
					      .abi_version = PT_ABI_VERSION,
					      .name = "keep_state" };
static const struct pt_module_entry entry = { .manifest = &manifest, .ops = &ops };

static void exhaustion_hurts_no_one_else(void **state)
{
	struct pt_module a, b;
	unsigned char *mine[8];
	void *p, *last = NULL;
	struct pt_heap_stats sa, sb;
	int n = 0;

	(void)state;
	assert_int_equal(pt_module_init(&a, &entry, "greedy", 48, block_a, HEAP_A,
					NULL, 0), 0);
	assert_int_equal(pt_module_init(&b, &entry, "neighbour", 48, block_b,
					HEAP_B, NULL, 0), 0);
	for (int i = 0; i < 8; i++) {
		mine[i] = pt_mod_alloc(&b, 200);
		assert_non_null(mine[i]);
		memset(mine[i], 0x40 + i, 200);
	}
	while ((p = pt_mod_alloc(&a, 100))) {
		memset(p, 0xee, 100);
		last = p;
		n++;
	}
	assert_true(n >= (int)((HEAP_A - PT_HEAP_FIXED_COST) / 112) - 2);
	assert_null(pt_mod_alloc(&a, 1 << 20));
	assert_null(pt_heap_validate(a.heap));
	pt_heap_stats(a.heap, &sa);
	assert_true(sa.failures >= 2);
	/* The neighbour's heap and blocks are untouched. */
	assert_null(pt_heap_validate(b.heap));
	for (int i = 0; i < 8; i++)
		for (int k = 0; k < 200; k++)
			assert_int_equal(mine[i][k], 0x40 + i);
	for (int k = 0; k < 64; k++)
		assert_int_equal(((unsigned char *)pt_mod_priv(&b))[k], 0x11);
	/* A pointer from another instance's heap is refused, not freed. */
	pt_heap_stats(b.heap, &sb);
	pt_mod_free(&a, mine[3]);
	pt_heap_stats(a.heap, &sa);
	assert_int_equal(sa.bad_frees, 1);
	assert_null(pt_heap_validate(b.heap));
	{
		struct pt_heap_stats sb2;

		pt_heap_stats(b.heap, &sb2);
		assert_int_equal(sb2.allocated, sb.allocated);
	}
	/* Giving memory back makes room again. */
	pt_mod_free(&a, last);
	assert_non_null(pt_mod_alloc(&a, 100));
	pt_mod_free(&a, NULL);
	assert_null(pt_heap_validate(a.heap));
	pt_module_free(&a);
	pt_module_free(&b);
}

static void heap_too_small_for_init_is_an_error(void **state)
{
	struct pt_module m;

	(void)state;
	assert_int_equal(pt_module_init(&m, &entry, "tiny", 48, block_a,
					PT_HEAP_MIN_SIZE - 1, NULL, 0), -12);
	/* Room for the heap but not for init's 64 bytes: init sees NULL. */
	assert_int_equal(pt_module_init(&m, &entry, "tiny", 48, block_a,
					PT_HEAP_MIN_SIZE, NULL, 0), -12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exhaustion_hurts_no_one_else),
		cmocka_unit_test(heap_too_small_for_init_is_an_error),
	};
	return cmocka_run_group_tests_name("mod_heap", tests, NULL, NULL);
}
