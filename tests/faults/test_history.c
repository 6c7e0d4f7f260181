/* SPDX-License-Identifier: MIT */
/*
 * The configuration history (host/graph/history.c): records in order,
 * binary parameters replaced, and the fold at the bound keeping exactly the
 * value in force for every key as pt_param_* would read it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/graph/history.h"

static void add(struct pt_instance *inst, uint32_t param, const char *text)
{
	assert_int_equal(pt_config_history_add(inst, param, text, strlen(text)), 0);
}

/* Concatenates the text records into @out, one per line; returns the count
 * of records, text and binary. */
static int dump(const struct pt_instance *inst, char *out, size_t room)
{
	const void *data;
	size_t at = 0, size, len = 0;
	uint32_t param;
	int n = 0;

	out[0] = 0;
	while (pt_config_history_next(inst, &at, &param, &data, &size)) {
		n++;
		len += (size_t)snprintf(out + len, room - len, "%u:%.*s\n", param,
					(int)size, (const char *)data);
	}
	return n;
}

static void test_in_order_and_binary_replaced(void **state)
{
	struct pt_instance inst = { 0 };
	char text[512];

	(void)state;
	add(&inst, PT_PARAM_TEXT, "a=1");
	add(&inst, 7, "B1");
	add(&inst, PT_PARAM_TEXT, "a=2 b=3");
	add(&inst, 7, "B2");
	add(&inst, 9, "C");
	assert_int_equal(dump(&inst, text, sizeof(text)), 4);
	assert_string_equal(text, "0:a=1\n0:a=2 b=3\n7:B2\n9:C\n");
	free(inst.config);
}

static void test_fold_keeps_the_value_in_force(void **state)
{
	struct pt_instance inst = { 0 };
	char text[512];
	double v;

	(void)state;
	add(&inst, PT_PARAM_TEXT, "a=1 b=1;c=1");
	add(&inst, 5, "BIN");
	/* Inside one blob the first item of a key is the one read. */
	add(&inst, PT_PARAM_TEXT, "b=2 b=9 noequals\nd=4");
	add(&inst, PT_PARAM_TEXT, "a=3");
	assert_int_equal(pt_config_history_fold(&inst), 0);
	assert_int_equal(dump(&inst, text, sizeof(text)), 2);
	assert_string_equal(text, "0:a=3 b=2 c=1 d=4\n5:BIN\n");
	/* And the module reads the same values from it. */
	assert_int_equal(pt_param_double((const char *)inst.config + 8, 15, "b", &v), 0);
	assert_true(v == 2.0);
	free(inst.config);
}

static void test_fold_at_the_bound_splits_blobs(void **state)
{
	struct pt_instance inst = { 0 };
	char *blob = malloc(PT_CONFIG_MAX);
	const void *data;
	size_t at = 0, size, total = 0;
	uint32_t param;
	int records = 0;

	(void)state;
	/* Distinct keys of 100 KiB each: the fold cannot drop any, and no
	 * blob it makes may pass PT_CONFIG_MAX. */
	for (int k = 0; k < 16; k++) {
		int n = snprintf(blob, PT_CONFIG_MAX, "k%d=", k);

		memset(blob + n, '0' + k % 10, 100 * 1024);
		blob[n + 100 * 1024] = 0;
		add(&inst, PT_PARAM_TEXT, blob);
	}
	assert_true(inst.config_size > PT_CONFIG_MAX);
	while (pt_config_history_next(&inst, &at, &param, &data, &size)) {
		assert_int_equal(param, PT_PARAM_TEXT);
		assert_true(size <= PT_CONFIG_MAX);
		total += size;
		records++;
	}
	assert_true(records >= 7);
	assert_true(total >= 16u * 100 * 1024);
	free(blob);
	free(inst.config);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_and_binary_replaced),
		cmocka_unit_test(test_fold_keeps_the_value_in_force),
		cmocka_unit_test(test_fold_at_the_bound_splits_blobs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
