/* SPDX-License-Identifier: MIT */
/*
 * Each module's library build (build/modules/pt_NAME.so, what a domain
 * loads) against its built-in build: the manifest in the library's section
 * matches the built-in's, and the same input, config changes included, gives
 * the same output bytes. This is the module side of "isolated output is
 * bit-identical to trusted": both runs here are in-process, so any
 * difference would come from the two builds of the module itself.
 */
#include <dlfcn.h>
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
#include "tests/modules/rig.h"

struct lib_case {
	const char *module, *init, *change; /* change: set_config at period 20 */
	uint32_t period, in_rate, out_rate;
	unsigned channels, nin;
	unsigned in_sample, out_sample;
};

static const struct lib_case cases[] = {
	{ "tone", "wave=sweep start=50 end=9000 seconds=0.5", "wave=noise seed=9",
	  48, 48000, 48000, 2, 0, 0, PT_SAMPLE_S32_LE },
	{ "gain", "gain_db=-3", "gain_db=-12 ramp_ms=5", 48, 48000, 48000, 2, 1,
	  PT_SAMPLE_S16_LE, PT_SAMPLE_S24_4LE },
	{ "mixer", "gains_db=-3,2", "gains_db=0,-6", 48, 48000, 48000, 2, 2,
	  PT_SAMPLE_FLOAT_LE, PT_SAMPLE_S16_LE },
	{ "eq_iir", "bands=lowshelf:100:0.7:3,peaking:1000:2:-4,highpass:30:0.7",
	  "bands=lowshelf:100:0.7:5,peaking:1000:2:-4,highpass:30:0.7", 48, 48000,
	  48000, 2, 1, PT_SAMPLE_S32_LE, PT_SAMPLE_S32_LE },
	{ "copier", NULL, NULL, 48, 48000, 48000, 3, 1, PT_SAMPLE_FLOAT_LE,
	  PT_SAMPLE_S24_4LE },
	{ "fir", "taps=0.1,0.2,0.4,0.2,0.1,-0.05,0.02,0.3,0.11", "taps=0.5,0.5", 48,
	  48000, 48000, 2, 1, PT_SAMPLE_S16_LE, PT_SAMPLE_FLOAT_LE },
	{ "dcblock", "r=0.99", "r=0.999", 48, 48000, 48000, 2, 1,
	  PT_SAMPLE_S32_LE, PT_SAMPLE_S32_LE },
	{ "delay", "samples=7,100", "samples=3", 48, 48000, 48000, 2, 1,
	  PT_SAMPLE_S24_4LE, PT_SAMPLE_S24_4LE },
	{ "drc", "threshold_db=-30 ratio=6 attack_ms=1", "ratio=20", 48, 48000, 48000,
	  2, 1, PT_SAMPLE_FLOAT_LE, PT_SAMPLE_FLOAT_LE },
	{ "src", "quality=5", "quality=5", 48, 48000, 44100, 2, 1,
	  PT_SAMPLE_S16_LE, PT_SAMPLE_S32_LE },
	{ "denoise", "suppress_db=-20", "agc=1", 160, 16000, 16000, 1, 1,
	  PT_SAMPLE_S16_LE, PT_SAMPLE_S16_LE },
};

#define LIB_PERIODS 60

/* Runs @c on @entry and returns the output bytes (*@len set). */
static uint8_t *lib_run(const struct lib_case *c,
			const struct pt_module_entry *entry, size_t *len,
			char *config, size_t room, bool reset_half)
{
	struct pt_format fi = { c->in_rate, (uint16_t)c->channels, (uint16_t)c->in_sample };
	struct pt_format fo = { c->out_rate, (uint16_t)c->channels, (uint16_t)c->out_sample };
	size_t out_frames = (size_t)c->period * c->out_rate / c->in_rate + 2;
	unsigned fbo = pt_frame_bytes(&fo);
	uint8_t *x = malloc((size_t)c->period * 8 * PT_CHANNELS_MAX);
	uint8_t *out = malloc(out_frames * LIB_PERIODS * fbo);
	uint32_t seed = 77;
	size_t got = 0;
	struct rig r;

	assert_int_equal(rig_init_entry(&r, entry, c->module, c->period, c->init, 0), 0);
	for (unsigned i = 0; i < c->nin; i++)
		rig_add_in(&r, &fi, c->period * 2 + 1, i * 5 + 3);
	rig_add_out(&r, &fo, out_frames * 2, 11);
	assert_int_equal(rig_prepare(&r), 0);
	for (unsigned p = 0; p < LIB_PERIODS; p++) {
		if (reset_half && p == LIB_PERIODS / 2) {
			/* Back to the state after init, and the same input
			 * again from its start. */
			assert_int_equal(r.entry->ops->reset ? r.entry->ops->reset(&r.mod) : 0, 0);
			seed = 77;
		}
		if (!reset_half && p == 20 && c->change)
			assert_int_equal(rig_set(&r, c->change), 0);
		for (unsigned i = 0; i < c->nin; i++) {
			/* Seeded noise whose level steps every period. */
			for (size_t s = 0; s < (size_t)c->period * c->channels; s++) {
				double v = (p % 10) / 10.0 * ((int32_t)seed / 4294967296.0);

				seed = seed * 1664525u + 1013904223u;
				if (c->in_sample == PT_SAMPLE_FLOAT_LE)
					((float *)x)[s] = (float)v;
				else if (c->in_sample == PT_SAMPLE_S24_4LE)
					((int32_t *)x)[s] = (int32_t)(v * 8388607);
				else if (c->in_sample == PT_SAMPLE_S32_LE)
					((int32_t *)x)[s] = (int32_t)(v * 2147483647.0);
				else
					((int16_t *)x)[s] = (int16_t)(v * 32767);
			}
			rig_push(&r, i, x, c->period);
		}
		assert_true(rig_ready(&r));
		assert_int_equal(rig_process(&r), 0);
		got += rig_pull(&r, 0, out + got * fbo, out_frames * LIB_PERIODS - got);
	}
	assert_int_equal(rig_get(&r, config, room), 0);
	rig_free(&r);
	free(x);
	*len = got * fbo;
	return out;
}

static void library_matches_builtin(void **state)
{
	const char *build = getenv("PARTITA_BUILD");

	(void)state;
	if (!build)
		build = ".";
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct lib_case *c = &cases[i];
		const struct pt_module_entry *builtin = pt_builtin_find(c->module), *lib;
		char path[4096], cfg_a[1024], cfg_b[1024];
		size_t len_a, len_b;
		uint8_t *a, *b;
		void *dl;

		snprintf(path, sizeof(path), "%s/modules/pt_%s.so", build, c->module);
		dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!dl)
			fail_msg("%s", dlerror());
		lib = dlsym(dl, PT_MODULE_ENTRY_SYMBOL);
		assert_non_null(lib);
		assert_non_null(builtin);
		/* The library's manifest is the built-in's, byte for byte. */
		assert_memory_equal(lib->manifest, builtin->manifest,
				    sizeof(struct pt_manifest));
		assert_ptr_not_equal(lib->ops, builtin->ops);
		a = lib_run(c, builtin, &len_a, cfg_a, sizeof(cfg_a), false);
		b = lib_run(c, lib, &len_b, cfg_b, sizeof(cfg_b), false);
		assert_true(len_a > 0);
		assert_int_equal(len_a, len_b);
		if (memcmp(a, b, len_a))
			fail_msg("%s: library output differs from the built-in's",
				 c->module);
		assert_string_equal(cfg_a, cfg_b);
		free(a);
		free(b);
		dlclose(dl);
	}
}

/* reset returns a module to its state after init: the second half of a
 * run, fed the first half's input again, repeats the first half's output
 * bit for bit (src: same input, same count; all buffers drained). */
static void reset_restarts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct lib_case *c = &cases[i];
		const struct pt_module_entry *e = pt_builtin_find(c->module);
		char cfg[1024];
		size_t len, half;
		uint8_t *out;

		out = lib_run(c, e, &len, cfg, sizeof(cfg), true);
		assert_int_equal(len % 2, 0);
		half = len / 2;
		if (memcmp(out, out + half, half))
			fail_msg("%s: output after reset differs from the start",
				 c->module);
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(library_matches_builtin),
		cmocka_unit_test(reset_restarts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
