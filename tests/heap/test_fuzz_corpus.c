/* SPDX-License-Identifier: MIT */
/*
 * Runs the fuzz_heap target's logic (tests/fuzz/fuzz_heap.c) with gcc over
 * its seed corpus (tests/fuzz/seeds/heap) and over inputs drawn from a fixed
 * seed, so `make test` exercises it without libFuzzer. A failure aborts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void seed_corpus(void **state)
{
	const char *src = getenv("PARTITA_SOURCE");
	char dir[4096], path[8192];
	struct dirent *e;
	DIR *d;
	int n = 0;

	(void)state;
	assert_non_null(src);
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/seeds/heap", src);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		static uint8_t buf[1 << 16];
		size_t len;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, len);
		n++;
	}
	closedir(d);
	assert_true(n >= 4);
}

/* Random inputs from a fixed seed: heap sizes and op mixes vary. */
static void fixed_seed_inputs(void **state)
{
	static uint8_t buf[8192];
	uint64_t x = 0x243f6a8885a308d3ull;

	(void)state;
	for (int round = 0; round < 1500; round++) {
		size_t len = 2 + 4 * (size_t)(round % 2000 + 1);

		if (len > sizeof(buf))
			len = sizeof(buf);
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (uint8_t)(x >> 24);
		}
		/* Small heaps half the time, so exhaustion is common. */
		if (round % 2)
			buf[1] = (uint8_t)(buf[1] % 8);
		LLVMFuzzerTestOneInput(buf, len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seed_corpus),
		cmocka_unit_test(fixed_seed_inputs),
	};
	return cmocka_run_group_tests_name("fuzz_heap_corpus", tests, NULL, NULL);
}
