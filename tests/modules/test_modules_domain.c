/* SPDX-License-Identifier: MIT */
/*
 * The shipped modules in real domains (partita-domain, through host/domain
 * and the tests/domain rig), each with the heap and stack its manifest
 * asks for and nothing more: a domain's private heap also carries what the
 * dynamic loader allocates to dlopen the library (and speexdsp for src and
 * denoise), so this is where a manifest's heap_size is proven enough.
 * Every 1-in/1-out module's isolated output must equal its trusted output
 * bit for bit; tone and mixer (other pin shapes than the rig's) are loaded
 * and initialised in a domain.
 *
 *   test_modules_domain             the cmocka test
 *   test_modules_domain --measure   bisects the smallest heap each module
 *                                   runs in inside a domain (page steps)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "modules/builtin.h"
#include "tests/domain/rig.h"

#define PERIODS 300

struct dom_case {
	const char *module, *init, *config; /* config: set at PERIODS / 2 */
	bool one_in_one_out;
};

static const struct dom_case cases[] = {
	{ "tone", "wave=sweep", NULL, false },
	{ "mixer", "gains_db=-3,-3", NULL, false },
	{ "gain", "gain_db=-3", "gain_db=-9 ramp_ms=2", true },
	{ "eq_iir", "bands=lowshelf:100:0.7:3,peaking:1000:2:-4,highpass:20:0.7",
	  "bands=lowshelf:100:0.7:6,peaking:1000:2:-4,highpass:20:0.7", true },
	{ "copier", NULL, NULL, true },
	{ "fir", "taps=0.1,0.2,0.4,0.2,0.1,-0.05", "taps=0.3,0.3,0.3", true },
	{ "dcblock", "r=0.995", "r=0.999", true },
	{ "delay", "samples=7,100", "samples=3", true },
	{ "drc", "threshold_db=-12 ratio=4 attack_ms=1", "ratio=10", true },
	{ "src", "quality=4", NULL, true },
	{ "src", "quality=10", NULL, true },
	{ "denoise", "suppress_db=-20", "agc=1", true },
};

static struct pt_budget budget;

static void instance_for(struct pt_instance *inst, const struct dom_case *c,
			 const char *path, uint32_t heap_size)
{
	rig_instance(inst, 9, "mod", path, c->init, NULL);
	/* What the host keeps: its copy of the library's manifest (the
	 * built-in's, byte for byte; test_modules_library checks that). */
	inst->manifest = *pt_builtin_find(c->module)->manifest;
	inst->heap_size = heap_size; /* 0: the manifest's */
}

/* Runs @c isolated; @out gets every output frame. Returns 0 or -errno with
 * @why set. */
static int run_isolated(const struct dom_case *c, const char *path,
			uint32_t heap_size, float *out, char *why, size_t whylen)
{
	struct pt_buffer in, outb;
	struct pt_instance inst;
	float pcm[RIG_PERIOD * RIG_CHANNELS];
	size_t taken = 0;
	int sig, ret;

	instance_for(&inst, c, path, heap_size);
	if (!c->one_in_one_out) {
		ret = pt_exec_create(&budget, &inst, RIG_PERIOD, why, whylen);
		if (!ret)
			pt_exec_destroy(&inst);
		return ret;
	}
	rig_buffer(&budget, &in, 1);
	rig_buffer(&budget, &outb, 2);
	rig_bind_in(&inst, &in);
	rig_bind_out(&inst, &outb);
	ret = pt_exec_create(&budget, &inst, RIG_PERIOD, why, whylen);
	if (!ret) {
		ret = pt_exec_prepare(&inst, why, whylen);
		for (unsigned k = 0; !ret && k < PERIODS; k++) {
			if (c->config && k == PERIODS / 2)
				ret = pt_exec_config_set(&inst, PT_PARAM_TEXT, c->config,
							 strlen(c->config), why,
							 whylen);
			rig_signal(pcm, RIG_PERIOD, k);
			rig_feed(&in, pcm, RIG_PERIOD);
			if (!ret)
				ret = rig_step(&inst, k + 1, 2000000000ull, &sig, why,
					       whylen);
			if (!ret)
				taken += rig_take(&outb, out + taken * RIG_CHANNELS,
						  RIG_PERIOD);
		}
		if (!ret && taken != (size_t)PERIODS * RIG_PERIOD) {
			snprintf(why, whylen, "%zu frames out of %u", taken,
				 PERIODS * RIG_PERIOD);
			ret = -EIO;
		}
		pt_exec_destroy(&inst);
	}
	rig_buffer_free(&in);
	rig_buffer_free(&outb);
	return ret;
}

static void modules_in_domains(void **state)
{
	size_t n = (size_t)PERIODS * RIG_PERIOD * RIG_CHANNELS;
	float *iso = malloc(n * sizeof(float)), *tru = malloc(n * sizeof(float));

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct dom_case *c = &cases[i];
		char rel[64], why[512];
		const char *path;
		size_t nonzero = 0;

		snprintf(rel, sizeof(rel), "modules/pt_%s.so", c->module);
		path = rig_built(rel);
		memset(iso, 0, n * sizeof(float));
		if (run_isolated(c, path, 0, iso, why, sizeof(why)))
			fail_msg("%s %s in a domain with its manifest's %u-byte heap: %s",
				 c->module, c->init ? c->init : "",
				 pt_builtin_find(c->module)->manifest->heap_size, why);
		if (!c->one_in_one_out)
			continue;
		memset(tru, 0, n * sizeof(float));
		assert_int_equal(rig_trusted(path, c->init, PERIODS, c->config, tru), 0);
		for (size_t k = 0; k < n; k++)
			nonzero += tru[k] != 0.0f;
		assert_true(nonzero > n / 2);
		if (memcmp(iso, tru, n * sizeof(float)))
			fail_msg("%s: isolated output differs from trusted", c->module);
	}
	free(iso);
	free(tru);
}

/* Bisects, in page steps, the smallest heap each case runs in. */
static int measure(void)
{
	size_t n = (size_t)PERIODS * RIG_PERIOD * RIG_CHANNELS;
	float *iso = malloc(n * sizeof(float));

	printf("| module | init | domain min heap B | manifest heap B |\n|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct dom_case *c = &cases[i];
		uint32_t lo = 0, hi = 4u << 20;
		char rel[64], why[512];

		snprintf(rel, sizeof(rel), "modules/pt_%s.so", c->module);
		while (hi - lo > 4096) {
			uint32_t mid = (lo + hi) / 2 / 4096 * 4096;

			if (run_isolated(c, rig_built(rel), mid, iso, why, sizeof(why))) {
				lo = mid;
				if (getenv("MEASURE_VERBOSE"))
					fprintf(stderr, "%s %u: %s\n", c->module, mid, why);
			}
			else
				hi = mid;
		}
		printf("| %s | %s | %u | %u |\n", c->module, c->init ? c->init : "–", hi,
		       pt_builtin_find(c->module)->manifest->heap_size);
	}
	free(iso);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(modules_in_domains),
	};

	pt_budget_init(&budget, 256u << 20);
	if (argc > 1 && !strcmp(argv[1], "--measure"))
		return measure();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
