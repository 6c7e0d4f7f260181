/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ring's logic under gcc and cmocka: the seed corpus in
 * tests/fuzz/seeds/ring, then a fixed-seed stream of random scripts, so
 * `make test` exercises it without clang. fuzz_ring aborts on a broken
 * invariant; under `make asan` a stray access fails too.
 */
#include "ring_test.h"

#include <dirent.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void seed_corpus(void **state)
{
	const char *src = getenv("PARTITA_SOURCE");
	char dir[4096], path[4400];
	unsigned files = 0;
	struct dirent *de;
	DIR *d;

	(void)state;
	if (src) {
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/seeds/ring", src);
	} else {
		/* run by hand: the seeds sit beside this source file */
		const char *me = __FILE__, *slash = strrchr(me, '/');

		snprintf(dir, sizeof(dir), "%.*s/../fuzz/seeds/ring",
			 slash ? (int)(slash - me) : 1, slash ? me : ".");
	}
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		uint8_t buf[4096];
		size_t n;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
		files++;
	}
	closedir(d);
	assert_true(files >= 5);
}

static void random_scripts(void **state)
{
	uint64_t s = 0x853c49e6748fea9bull;
	uint8_t buf[512];

	(void)state;
	for (unsigned i = 0; i < 20000; i++) {
		size_t n = 2 + i % (sizeof(buf) - 2);

		for (size_t k = 0; k < n; k++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			buf[k] = (uint8_t)(s >> 24);
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seed_corpus),
		cmocka_unit_test(random_scripts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
