/* SPDX-License-Identifier: MIT */
/*
 * Runs a fuzz target's logic under gcc without libFuzzer: every seed of its
 * corpus (tests/fuzz/seeds/NAME, plus PT_EXTRA_SEEDS if set), then a fixed
 * number of deterministic mutations of each (bit flips, truncations, byte
 * runs, splices), so `make test` exercises the target even without clang.
 * A target signals a broken invariant by aborting, which fails the test.
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

#include "host/libmgr/library.h"

#define MUTATIONS 300

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void run(const uint8_t *data, size_t size)
{
	/* A fresh copy, so a target reading past the end is seen by ASan. */
	uint8_t *copy = malloc(size ? size : 1);

	assert_non_null(copy);
	memcpy(copy, data, size);
	LLVMFuzzerTestOneInput(copy, size);
	free(copy);
}

static void mutate_and_run(const uint8_t *seed, size_t size, const uint8_t *other,
			   size_t other_size)
{
	size_t room = size + 64;
	uint8_t *buf = malloc(room);

	assert_non_null(buf);
	for (int i = 0; i < MUTATIONS; i++) {
		size_t n = size;

		memcpy(buf, seed, size);
		switch (next() % 5) {
		case 0: /* flip 1..4 bits */
			for (int k = next() % 4 + 1; k > 0 && n; k--)
				buf[next() % n] ^= (uint8_t)(1u << (next() % 8));
			break;
		case 1: /* truncate */
			n = n ? next() % n : 0;
			break;
		case 2: /* an interesting byte somewhere */
			if (n) {
				static const uint8_t v[] = { 0, 0xff, 0x7f, 0x80, 1, '\n', ':', '-', ' ' };
				buf[next() % n] = v[next() % sizeof(v)];
			}
			break;
		case 3: /* grow by a run of random bytes */
			for (int k = next() % 64; k > 0; k--)
				buf[n++] = (uint8_t)next();
			break;
		case 4: /* splice in a piece of another seed */
			if (n && other_size) {
				size_t at = next() % n, from = next() % other_size;
				size_t len = next() % 32;

				if (len > other_size - from)
					len = other_size - from;
				if (len > n - at)
					len = n - at;
				memcpy(buf + at, other + from, len);
			}
			break;
		}
		run(buf, n);
	}
	free(buf);
}

struct seed {
	uint8_t *data;
	size_t size;
};

static size_t load_dir(const char *dir, struct seed *seeds, size_t max, size_t n)
{
	struct dirent **names;
	char path[1024], err[256];
	/* sorted, so the mutations are the same on every file system */
	int count = scandir(dir, &names, NULL, alphasort);

	if (count < 0)
		return n;
	for (int i = 0; i < count; i++) {
		struct dirent *e = names[i];
		void *data;
		size_t size;

		if (e->d_name[0] == '.' || n >= max)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (pt_file_read(path, 1 << 22, &data, &size, err, sizeof(err)))
			continue;
		seeds[n++] = (struct seed){ data, size };
	}
	for (int i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return n;
}

static void test_corpus(void **state)
{
	struct seed seeds[64];
	const char *src = getenv("PARTITA_SOURCE"), *extra = getenv("PT_EXTRA_SEEDS");
	char dir[1024];
	size_t n;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/seeds/%s", src ? src : PT_TEST_SOURCE,
		 PT_FUZZ_NAME);
	n = load_dir(dir, seeds, 64, 0);
	if (extra)
		n = load_dir(extra, seeds, 64, n);
	if (n == 0)
		fail_msg("no seeds in %s", dir);
	run((const uint8_t *)"", 0);
	for (size_t i = 0; i < n; i++) {
		const struct seed *o = &seeds[(i + 1) % n];

		run(seeds[i].data, seeds[i].size);
		mutate_and_run(seeds[i].data, seeds[i].size, o->data, o->size);
	}
	print_message("%s: %zu seeds, %zu inputs run\n", PT_FUZZ_NAME, n,
		      n * (MUTATIONS + 1) + 1);
	for (size_t i = 0; i < n; i++)
		free(seeds[i].data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
