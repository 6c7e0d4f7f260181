/* SPDX-License-Identifier: MIT */
/*
 * The logic of tests/fuzz/fuzz_module_params.c under gcc and cmocka: every
 * seed of tests/fuzz/seeds/module_params, then a fixed set of seeded
 * mutations of them (byte flips, truncations, splices). Checks that every
 * module was initialised, prepared and run by its seeds; crashes, sanitizer
 * reports and broken ABI counters (abort) fail the test.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/modules/module_fuzz.h"

#define SEEDS_MAX 256
#define SEED_BYTES 4096

struct seed {
	uint8_t data[SEED_BYTES];
	size_t size;
};

static size_t load_seeds(struct seed *s)
{
	const char *root = getenv("PARTITA_SOURCE");
	char dir[4096], path[4600];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/fuzz/seeds/module_params",
		 root ? root : ".");
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) && n < SEEDS_MAX) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		s[n].size = fread(s[n].data, 1, SEED_BYTES, f);
		fclose(f);
		n++;
	}
	closedir(d);
	return n;
}

static uint32_t next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void module_params_corpus(void **state)
{
	struct seed *seeds = calloc(SEEDS_MAX, sizeof(*seeds));
	size_t n = load_seeds(seeds), nmod = 0;
	int reached[64] = { 0 };
	uint8_t buf[SEED_BYTES];
	uint32_t x = 4242;

	(void)state;
	while (pt_builtin_at(nmod))
		nmod++;
	assert_true(n >= nmod);
	for (size_t i = 0; i < n; i++)
		reached[seeds[i].data[0] % nmod] |=
			module_fuzz_one(seeds[i].data, seeds[i].size);
	for (size_t m = 0; m < nmod; m++)
		if (reached[m] != (MODULE_FUZZ_INIT | MODULE_FUZZ_PREPARED |
				   MODULE_FUZZ_PROCESSED))
			fail_msg("seeds of %s reach only stages %#x",
				 pt_builtin_at(m)->manifest->name, reached[m]);
	for (int round = 0; round < 4000; round++) {
		const struct seed *a = &seeds[next(&x) % n], *b = &seeds[next(&x) % n];
		size_t size = a->size;

		memcpy(buf, a->data, size);
		switch (next(&x) % 4) {
		case 0: /* flip a few bytes */
			for (int k = 0; k < 3; k++)
				buf[next(&x) % size] ^= (uint8_t)next(&x);
			break;
		case 1: /* truncate */
			size = 1 + next(&x) % size;
			break;
		case 2: /* splice b's tail after a's head */
			size = 3 + next(&x) % (size - 2);
			for (size_t k = 3; k < b->size && size < SEED_BYTES; k++)
				buf[size++] = b->data[k];
			break;
		default: /* digits to extremes */
			for (size_t k = 3; k < size; k++)
				if (buf[k] >= '0' && buf[k] <= '9' && next(&x) % 3 == 0)
					buf[k] = (uint8_t)"09e-+."[next(&x) % 6];
			break;
		}
		module_fuzz_one(buf, size);
	}
	free(seeds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(module_params_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
