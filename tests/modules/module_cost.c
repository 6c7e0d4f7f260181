/* SPDX-License-Identifier: MIT */
/*
 * module_cost - what one process call of each shipped module costs on this
 * machine, trusted, through lib/abi (no host, no isolation): the numbers
 * docs/modules.md quotes.
 *
 *   build/tests/module_cost [--periods N] [--sample s16|s24|s32|float]
 *
 * Each configuration is warmed up for 200 periods, then N periods (default
 * 20000) are timed one by one with CLOCK_MONOTONIC; the table gives the
 * median and mean ns per period and the share of a 1 ms period (or of the
 * configuration's own period) that the median is. Input is a seeded noise
 * at -6 dBFS so no branch is taken for silence. Build with the default
 * RelWithDebInfo (-O2) for meaningful numbers: a Debug build is -O0.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/modules/rig.h"

struct cost_case {
	const char *module;
	const char *init;
	uint32_t period, in_rate, out_rate;
	unsigned channels, nin;
};

static const struct cost_case cases[] = {
	{ "tone", "wave=sine", 48, 48000, 48000, 2, 0 },
	{ "tone", "wave=sweep", 48, 48000, 48000, 2, 0 },
	{ "tone", "wave=noise", 48, 48000, 48000, 2, 0 },
	{ "gain", "gain_db=-6", 48, 48000, 48000, 2, 1 },
	{ "mixer", "gains_db=-3,-3", 48, 48000, 48000, 2, 2 },
	{ "eq_iir", "bands=peaking:1000:1:6", 48, 48000, 48000, 2, 1 },
	{ "eq_iir", "bands=lowshelf:100:0.7:3,peaking:300:1:-2,peaking:1000:1:3,"
		    "peaking:3000:1:-2,highshelf:8000:0.7:2",
	  48, 48000, 48000, 2, 1 },
	{ "copier", NULL, 48, 48000, 48000, 2, 1 },
	{ "fir", "taps=@64", 48, 48000, 48000, 2, 1 },
	{ "fir", "taps=@512", 48, 48000, 48000, 2, 1 },
	{ "fir", "taps=@4096", 48, 48000, 48000, 2, 1 },
	{ "dcblock", NULL, 48, 48000, 48000, 2, 1 },
	{ "delay", "samples=480,960", 48, 48000, 48000, 2, 1 },
	{ "drc", NULL, 48, 48000, 48000, 2, 1 },
	{ "src", NULL, 48, 48000, 44100, 2, 1 },
	{ "src", "quality=10", 48, 48000, 44100, 2, 1 },
	{ "src", NULL, 44, 44100, 48000, 2, 1 },
	{ "src", NULL, 480, 48000, 44100, 2, 1 },
	{ "denoise", NULL, 48, 48000, 48000, 2, 1 },
	{ "denoise", NULL, 480, 48000, 48000, 2, 1 },
	{ "denoise", NULL, 160, 16000, 16000, 1, 1 },
};

static char *case_init(const struct cost_case *c)
{
	unsigned n;
	char *s;
	size_t len;

	if (!c->init || sscanf(c->init, "taps=@%u", &n) != 1)
		return c->init ? strdup(c->init) : NULL;
	s = malloc(n * 16 + 8);
	len = (size_t)sprintf(s, "taps=");
	for (unsigned i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "%s%.6g", i ? "," : "",
				       (i % 7 + 1) / (8.0 * n));
	return s;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cost_run(const struct cost_case *c, unsigned sample, unsigned periods)
{
	struct pt_format fi = { c->in_rate, (uint16_t)c->channels, (uint16_t)sample };
	struct pt_format fo = { c->out_rate, (uint16_t)c->channels, (uint16_t)sample };
	size_t out_frames = (size_t)c->period * c->out_rate / c->in_rate + 2;
	unsigned fb = pt_frame_bytes(&fi);
	uint8_t *x = malloc((size_t)c->period * fb), *y = malloc(out_frames * 2 * fb);
	uint64_t *t = malloc(periods * sizeof(uint64_t)), sum = 0;
	char *init = case_init(c), rate[24];
	uint32_t seed = 1;
	struct rig r;
	int ret;

	/* Noise at about -6 dBFS in the stream's own format. */
	for (size_t i = 0; i < (size_t)c->period * c->channels; i++) {
		double v;

		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		v = 0.5 * (int32_t)seed / 2147483648.0;
		if (sample == PT_SAMPLE_S16_LE)
			((int16_t *)x)[i] = (int16_t)(v * 32767);
		else if (sample == PT_SAMPLE_S24_4LE)
			((int32_t *)x)[i] = (int32_t)(v * 8388607);
		else if (sample == PT_SAMPLE_S32_LE)
			((int32_t *)x)[i] = (int32_t)(v * 2147483647.0);
		else
			((float *)x)[i] = (float)v;
	}
	ret = rig_init(&r, c->module, c->period, init, 8u << 20);
	if (!ret) {
		for (unsigned i = 0; i < c->nin; i++)
			rig_add_in(&r, &fi, c->period * 2, 0);
		rig_add_out(&r, &fo, out_frames * 2, 0);
		ret = rig_prepare(&r);
	}
	for (unsigned p = 0; !ret && p < periods + 200; p++) {
		uint64_t t0;

		for (unsigned i = 0; i < c->nin; i++)
			rig_push(&r, i, x, c->period);
		t0 = now_ns();
		ret = rig_process(&r);
		if (p >= 200)
			t[p - 200] = now_ns() - t0;
		rig_pull(&r, 0, y, out_frames * 2);
	}
	if (ret) {
		fprintf(stderr, "module_cost: %s %s: %s\n", c->module,
			c->init ? c->init : "", strerror(-ret));
	} else {
		double period_ns = 1e9 * c->period / c->in_rate;

		for (unsigned i = 0; i < periods; i++)
			sum += t[i];
		qsort(t, periods, sizeof(t[0]), cmp_u64);
		if (c->in_rate == c->out_rate)
			snprintf(rate, sizeof(rate), "%u", c->in_rate);
		else
			snprintf(rate, sizeof(rate), "%u>%u", c->in_rate, c->out_rate);
		printf("| %s | %s | %u | %s | %u | %llu | %llu | %.2f %% |\n",
		       c->module, c->init ? c->init : "(defaults)", c->period, rate,
		       c->channels, (unsigned long long)t[periods / 2],
		       (unsigned long long)(sum / periods),
		       100.0 * (double)t[periods / 2] / period_ns);
	}
	rig_free(&r);
	free(init);
	free(x);
	free(y);
	free(t);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned periods = 20000, sample = PT_SAMPLE_S32_LE;
	int failed = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--periods") && i + 1 < argc) {
			periods = (unsigned)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--sample") && i + 1 < argc) {
			const char *s = argv[++i];

			sample = !strcmp(s, "s16")   ? PT_SAMPLE_S16_LE
				 : !strcmp(s, "s24") ? PT_SAMPLE_S24_4LE
				 : !strcmp(s, "s32") ? PT_SAMPLE_S32_LE
				 : !strcmp(s, "float") ? PT_SAMPLE_FLOAT_LE : 0;
			if (!sample) {
				fprintf(stderr, "module_cost: --sample s16|s24|s32|float\n");
				return 2;
			}
		} else {
			fprintf(stderr,
				"usage: module_cost [--periods N] [--sample s16|s24|s32|float]\n");
			return 2;
		}
	}
	if (periods < 1) {
		fprintf(stderr, "module_cost: --periods must be at least 1\n");
		return 2;
	}
	printf("| module | init | period | rate | ch | median ns | mean ns | of period |\n");
	printf("|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		failed |= cost_run(&cases[i], sample, periods) != 0;
	return failed;
}
