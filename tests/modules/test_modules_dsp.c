/* SPDX-License-Identifier: MIT */
/*
 * fir, dcblock, delay and drc through lib/abi with wrapping buffers,
 * against computations done here: direct convolution, the DC blocker's
 * transfer function, exact shifted copies, the compressor's static curve
 * and its attack time constant.
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

#include "tests/modules/rig.h"
#include "tests/modules/signal.h"

#define RATE 48000
#define PERIOD 48

static struct pt_format fmt(unsigned sample, unsigned channels)
{
	return (struct pt_format){ .rate = RATE, .channels = (uint16_t)channels,
				   .sample = (uint16_t)sample };
}

/* ---- fir ------------------------------------------------------------------ */

/* "taps=h0,h1,..." for @n taps. */
static char *taps_text(const double *h, size_t n)
{
	char *s = malloc(n * 32 + 8);
	size_t len = (size_t)sprintf(s, "taps=");

	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "%s%.9g", i ? "," : "", h[i]);
	return s;
}

/* Checks y against the direct convolution of x with h (in double), per
 * channel, over @frames frames. */
static void check_convolution(const float *x, const float *y, const double *h,
			      size_t ntaps, size_t frames, unsigned ch)
{
	double l1 = 0;

	for (size_t k = 0; k < ntaps; k++)
		l1 += fabs(h[k]);
	for (unsigned c = 0; c < ch; c++)
		for (size_t n = 0; n < frames; n++) {
			double ref = 0;

			for (size_t k = 0; k < ntaps && k <= n; k++)
				ref += h[k] * x[(n - k) * ch + c];
			if (fabs(y[n * ch + c] - ref) > 2e-6 * l1 + 1e-7)
				fail_msg("channel %u frame %zu: fir %.9g direct %.9g",
					 c, n, y[n * ch + c], ref);
		}
}

static void fir_run_random(size_t ntaps, unsigned ch, size_t frames)
{
	struct pt_format f = fmt(PT_SAMPLE_FLOAT_LE, ch);
	double *h = malloc(ntaps * sizeof(double));
	float *x = malloc(frames * ch * sizeof(float)), *y = malloc(frames * ch * sizeof(float));
	uint32_t seed = 1234 + (uint32_t)ntaps;
	char *init;
	struct rig r;

	for (size_t k = 0; k < ntaps; k++)
		h[k] = sig_noise(&seed) / sqrt((double)ntaps);
	for (size_t i = 0; i < frames * ch; i++)
		x[i] = (float)sig_noise(&seed);
	/* The taps go through text as %.9g: what the module holds is the
	 * float nearest each, so compare against those. */
	for (size_t k = 0; k < ntaps; k++)
		h[k] = (float)h[k];
	init = taps_text(h, ntaps);
	assert_int_equal(rig_init(&r, "fir", PERIOD, init, 0), 0);
	rig_add_in(&r, &f, 2 * PERIOD + 3, PERIOD + 50);
	rig_add_out(&r, &f, PERIOD + 1, 20);
	assert_int_equal(rig_prepare(&r), 0);
	assert_int_equal(rig_run_f(&r, x, y, frames), frames);
	check_convolution(x, y, h, ntaps, frames, ch);
	rig_free(&r);
	free(init);
	free(h);
	free(x);
	free(y);
}

static void fir_matches_direct_convolution(void **state)
{
	(void)state;
	fir_run_random(1, 1, 480);
	fir_run_random(37, 2, 20 * PERIOD);
	fir_run_random(255, 8, 10 * PERIOD);
	fir_run_random(4096, 1, 100 * PERIOD);
}

static void fir_blob_and_formats(void **state)
{
	struct pt_format fi = fmt(PT_SAMPLE_S16_LE, 1), fo = fmt(PT_SAMPLE_S32_LE, 1);
	float taps[5] = { 0.5f, -0.25f, 0.125f, 0, 0.0625f }, back[8];
	int16_t x[PERIOD * 2] = { 0 };
	int32_t y[PERIOD * 2];
	size_t size = sizeof(back);
	struct rig r;
	char text[256];

	(void)state;
	assert_int_equal(rig_init(&r, "fir", PERIOD, NULL, 0), 0);
	rig_add_in(&r, &fi, 60, 59);
	rig_add_out(&r, &fo, 60, 30);
	assert_int_equal(rig_prepare(&r), 0);
	assert_int_equal(r.entry->ops->set_config(&r.mod, 1, taps, sizeof(taps)), 0);
	assert_int_equal(r.entry->ops->get_config(&r.mod, 1, back, &size), 0);
	assert_int_equal(size, sizeof(taps));
	assert_memory_equal(back, taps, sizeof(taps));
	assert_int_equal(rig_get(&r, text, sizeof(text)), 0);
	assert_string_equal(text, "taps=0.5,-0.25,0.125,0,0.0625");
	/* The impulse response comes out exactly, at 32-bit resolution. */
	x[PERIOD - 2] = 16384; /* 0.5, late in the first period */
	for (int p = 0; p < 2; p++) {
		rig_push(&r, 0, x + p * PERIOD, PERIOD);
		assert_int_equal(rig_process(&r), 0);
		assert_int_equal(rig_pull(&r, 0, y + p * PERIOD, PERIOD), PERIOD);
	}
	for (size_t n = 0; n < 2 * PERIOD; n++) {
		size_t k = n - (PERIOD - 2);
		double want = n >= PERIOD - 2 && k < 5 ? 0.5 * taps[k] : 0;

		assert_int_equal(y[n], (int32_t)(want * 2147483648.0));
	}
	/* Bad blobs change nothing. */
	assert_int_equal(r.entry->ops->set_config(&r.mod, 1, taps, 3), -EINVAL);
	taps[1] = NAN;
	assert_int_equal(r.entry->ops->set_config(&r.mod, 1, taps, sizeof(taps)), -EINVAL);
	assert_int_equal(r.entry->ops->set_config(&r.mod, 1, taps, 0), -EINVAL);
	assert_int_equal(r.entry->ops->set_config(&r.mod, 7, taps, 4), -EINVAL);
	assert_int_equal(rig_get(&r, text, sizeof(text)), 0);
	assert_string_equal(text, "taps=0.5,-0.25,0.125,0,0.0625");
	/* Text taps at run time, fewer of them. */
	assert_int_equal(rig_set(&r, "taps=1,1"), 0);
	assert_int_equal(rig_get(&r, text, sizeof(text)), 0);
	assert_string_equal(text, "taps=1,1");
	rig_free(&r);
}

static void fir_bad_params(void **state)
{
	double *h = calloc(4097, sizeof(double));
	char *init = taps_text(h, 4097);
	struct rig r;

	(void)state;
	assert_int_equal(rig_init(&r, "fir", PERIOD, init, 0), -EINVAL);
	assert_non_null(strstr(r.log, "4096"));
	rig_free(&r);
	assert_int_equal(rig_init(&r, "fir", PERIOD, "taps=", 0), -EINVAL);
	rig_free(&r);
	assert_int_equal(rig_init(&r, "fir", PERIOD, "taps=1,2e7", 0), -EINVAL);
	rig_free(&r);
	assert_int_equal(rig_init(&r, "fir", PERIOD, "coefs=1,2", 0), -EINVAL);
	rig_free(&r);
	/* A heap too small for 4096 taps says so instead of crashing. */
	free(init);
	init = taps_text(h, 4096);
	assert_int_equal(rig_init(&r, "fir", PERIOD, init, 16384), -ENOMEM);
	rig_free(&r);
	free(init);
	free(h);
}

/* ---- dcblock -------------------------------------------------------------- */

static void dcblock_bad_init(void **state)
{
	static const char *const bad[] = { "r=0.5", "r=1", "r=x", "pole=0.99" };
	struct rig r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rig_init(&r, "dcblock", PERIOD, bad[i], 0), -EINVAL);
		assert_true(r.log[0] != '\0');
		rig_free(&r);
	}
}

static void delay_bad_init(void **state)
{
	static const char *const bad[] = { "samples=-1", "samples=2.5",
					   "samples=192001", "samples=1,2,3,4,5,6,7,8,9",
					   "delay=3" };
	struct rig r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rig_init(&r, "delay", PERIOD, bad[i], 0), -EINVAL);
		assert_true(r.log[0] != '\0');
		rig_free(&r);
	}
}

/* After a burst, silence comes out as exact zeros (the recursive filters
 * also flush their state below 1e-30 so that a long silence never runs on
 * subnormals; that part is a cost, which this test does not time). */
static void iir_tails_reach_zero(void **state)
{
	static const char *const mods[][2] = {
		{ "dcblock", "r=0.999" },
		{ "eq_iir", "bands=lowpass:100:4,peaking:50:10:12" },
	};
	struct pt_format f = fmt(PT_SAMPLE_FLOAT_LE, 1);
	size_t n = 10 * RATE;
	float *x = calloc(n, sizeof(float)), *y = malloc(n * sizeof(float));

	(void)state;
	for (size_t i = 0; i < PERIOD; i++)
		x[i] = 0.9f;
	for (size_t m = 0; m < 2; m++) {
		struct rig r;

		assert_int_equal(rig_init(&r, mods[m][0], PERIOD, mods[m][1], 0), 0);
		rig_add_in(&r, &f, 100, 0);
		rig_add_out(&r, &f, 100, 0);
		assert_int_equal(rig_prepare(&r), 0);
		assert_int_equal(rig_run_f(&r, x, y, n), n);
		assert_true(y[0] != 0);
		assert_true(y[n - 1] == 0.0f);
		rig_free(&r);
	}
	free(x);
	free(y);
}

static void dcblock_removes_dc(void **state)
{
	struct pt_format f = fmt(PT_SAMPLE_FLOAT_LE, 2);
	size_t n = RATE, w = RATE / 4;
	float *x = malloc(n * 2 * sizeof(float)), *y = malloc(n * 2 * sizeof(float));
	double r0 = 0.995, mean = 0;
	double complex z = cexp(-I * 2 * M_PI * 1000 / RATE);
	double h1k = cabs((1 - z) / (1 - r0 * z));
	struct rig r;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		double s = 0.2 * sin(2 * M_PI * 1000 * (double)i / RATE);

		x[2 * i] = (float)(0.3 + s);
		x[2 * i + 1] = (float)(-0.4 + s);
	}
	assert_int_equal(rig_init(&r, "dcblock", PERIOD, "r=0.995", 0), 0);
	rig_add_in(&r, &f, 100, 90);
	rig_add_out(&r, &f, 100, 95);
	assert_int_equal(rig_prepare(&r), 0);
	assert_int_equal(rig_run_f(&r, x, y, n), n);
	for (unsigned c = 0; c < 2; c++) {
		mean = 0;
		for (size_t i = n - w; i < n; i++)
			mean += y[2 * i + c];
		mean /= (double)w;
		/* The DC (0.3 and -0.4) has decayed by r^(0.75 s) ~ 1e-78. */
		assert_true(fabs(mean) < 1e-5);
		assert_float_equal(sig_tone_amp(y + c, n - w, w, 2, 1000, RATE),
				   0.2 * h1k, 1e-5);
	}
	assert_int_equal(rig_set(&r, "r=1"), -EINVAL);
	assert_non_null(strstr(r.log, "r=1"));
	assert_int_equal(rig_set(&r, "r=0.5"), -EINVAL);
	assert_int_equal(rig_set(&r, "r=0.99"), 0);
	rig_free(&r);
	free(x);
	free(y);
}

/* ---- delay ---------------------------------------------------------------- */

static void delay_exact(void **state)
{
	static const unsigned samples[] = { PT_SAMPLE_S16_LE, PT_SAMPLE_S24_4LE,
					    PT_SAMPLE_S32_LE, PT_SAMPLE_FLOAT_LE };

	(void)state;
	for (unsigned k = 0; k < 4; k++) {
		struct pt_format f = fmt(samples[k], 2);
		unsigned sb = pt_sample_bytes(f.sample);
		size_t n = 12 * PERIOD;
		uint8_t *x = malloc(n * 2 * sb), *y = malloc(n * 2 * sb);
		const size_t d[2] = { 3, 50 };
		struct rig r;
		size_t got = 0;

		for (size_t i = 0; i < n * 2 * sb; i++)
			x[i] = (uint8_t)(i * 7 + 1); /* no zero samples */
		assert_int_equal(rig_init(&r, "delay", PERIOD, "samples=3,50", 0), 0);
		rig_add_in(&r, &f, 70, 69);
		rig_add_out(&r, &f, 70, 35);
		assert_int_equal(rig_prepare(&r), 0);
		for (size_t done = 0; done < n; done += PERIOD) {
			rig_push(&r, 0, x + done * 2 * sb, PERIOD);
			assert_int_equal(rig_process(&r), 0);
			got += rig_pull(&r, 0, y + got * 2 * sb, n - got);
		}
		assert_int_equal(got, n);
		for (size_t i = 0; i < n; i++)
			for (unsigned c = 0; c < 2; c++) {
				const uint8_t *out = y + (i * 2 + c) * sb;

				if (i < d[c]) {
					for (unsigned b = 0; b < sb; b++)
						assert_int_equal(out[b], 0);
				} else {
					assert_memory_equal(out,
							    x + ((i - d[c]) * 2 + c) * sb, sb);
				}
			}
		rig_free(&r);
		free(x);
		free(y);
	}
}

static void delay_runtime_and_refusals(void **state)
{
	struct pt_format f = fmt(PT_SAMPLE_S16_LE, 2), g = fmt(PT_SAMPLE_S32_LE, 2);
	int16_t x[PERIOD * 2], y[PERIOD * 2];
	struct rig r;
	char text[64];

	(void)state;
	for (size_t i = 0; i < PERIOD * 2; i++)
		x[i] = (int16_t)(i + 1);
	assert_int_equal(rig_init(&r, "delay", PERIOD, "samples=10", 0), 0);
	rig_add_in(&r, &f, 100, 0);
	rig_add_out(&r, &f, 100, 0);
	assert_int_equal(rig_prepare(&r), 0);
	assert_int_equal(rig_set(&r, "samples=0,1"), 0);
	assert_int_equal(rig_get(&r, text, sizeof(text)), 0);
	assert_string_equal(text, "samples=0,1");
	rig_push(&r, 0, x, PERIOD);
	assert_int_equal(rig_process(&r), 0);
	assert_int_equal(rig_pull(&r, 0, y, PERIOD), PERIOD);
	for (size_t i = 0; i < PERIOD; i++) {
		assert_int_equal(y[2 * i], x[2 * i]);
		assert_int_equal(y[2 * i + 1], i ? x[2 * (i - 1) + 1] : 0);
	}
	assert_int_equal(rig_set(&r, "samples=1,2,3"), -EINVAL);
	assert_int_equal(rig_set(&r, "samples=1.5"), -EINVAL);
	assert_int_equal(rig_set(&r, "samples=192001"), -EINVAL);
	assert_int_equal(rig_get(&r, text, sizeof(text)), 0);
	assert_string_equal(text, "samples=0,1");
	/* Longer than the heap can hold: refused, the lines in force stay. */
	assert_int_equal(rig_set(&r, "samples=192000"), -ENOMEM);
	rig_free(&r);
	/* The delay moves samples, it does not convert them. */
	assert_int_equal(rig_init(&r, "delay", PERIOD, NULL, 0), 0);
	rig_add_in(&r, &f, 100, 0);
	rig_add_out(&r, &g, 100, 0);
	assert_int_equal(rig_prepare(&r), -EINVAL);
	assert_non_null(strstr(r.log, "copier"));
	rig_free(&r);
}

/* ---- drc ------------------------------------------------------------------ */

/* The soft-knee static curve (Giannoulis, Massberg, Reiss, JAES 2012),
 * written out here for the test. */
static double curve_db(double x, double t, double ratio, double knee)
{
	if (2 * (x - t) < -knee)
		return x;
	if (knee > 0 && 2 * fabs(x - t) <= knee)
		return x + (1 / ratio - 1) * (x - t + knee / 2) * (x - t + knee / 2) /
				   (2 * knee);
	return t + (x - t) / ratio;
}

/* Output level in dB after @seconds of a +-a square at @level_db. */
static double drc_out_db(const char *init, double level_db, double seconds)
{
	struct pt_format f = fmt(PT_SAMPLE_FLOAT_LE, 2);
	size_t n = (size_t)(seconds * RATE) / PERIOD * PERIOD;
	float *x = malloc(n * 2 * sizeof(float)), *y = malloc(n * 2 * sizeof(float));
	float a = (float)pow(10, level_db / 20);
	struct rig r;
	double out;

	for (size_t i = 0; i < n; i++) {
		x[2 * i] = i & 1 ? -a : a;
		x[2 * i + 1] = 0.5f * x[2 * i]; /* the louder channel leads */
	}
	assert_int_equal(rig_init(&r, "drc", PERIOD, init, 0), 0);
	rig_add_in(&r, &f, 100, 20);
	rig_add_out(&r, &f, 100, 80);
	assert_int_equal(rig_prepare(&r), 0);
	assert_int_equal(rig_run_f(&r, x, y, n), n);
	out = sig_db(fabs(y[2 * (n - 1)]));
	/* Linked channels: one gain for both. */
	assert_float_equal(y[2 * (n - 1) + 1], 0.5f * y[2 * (n - 1)], 1e-6);
	rig_free(&r);
	free(x);
	free(y);
	return out;
}

static void drc_static_curve(void **state)
{
	static const double levels[] = { -50, -30, -24, -21, -20, -19, -16, -10, -3, 0 };
	const char *inst = "threshold_db=-20 ratio=4 knee_db=6 makeup_db=3 "
			   "attack_ms=0 release_ms=0";
	const char *slow = "threshold_db=-20 ratio=4 knee_db=6 makeup_db=3 "
			   "attack_ms=5 release_ms=50";
	const char *hard = "threshold_db=-12 ratio=100 knee_db=0 attack_ms=0 "
			   "release_ms=0";

	(void)state;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		double want = curve_db(levels[i], -20, 4, 6) + 3;

		assert_float_equal(drc_out_db(inst, levels[i], 0.01), want, 0.001);
		assert_float_equal(drc_out_db(slow, levels[i], 1.0), want, 0.001);
		assert_float_equal(drc_out_db(hard, levels[i], 0.01),
				   curve_db(levels[i], -12, 100, 0), 0.001);
	}
}

static void drc_attack_time(void **state)
{
	struct pt_format f = fmt(PT_SAMPLE_FLOAT_LE, 1);
	size_t n = RATE / 2, step = RATE / 4, tau = RATE * 10 / 1000;
	float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
	double level = sig_db(0.5);
	double target = curve_db(level, -30, 10, 0) - level; /* -21.6 dB */
	struct rig r;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		float a = i < step ? 0.01f : 0.5f; /* -40 dB, then -6 dB */

		x[i] = i & 1 ? -a : a;
	}
	assert_int_equal(rig_init(&r, "drc", PERIOD,
				  "threshold_db=-30 ratio=10 knee_db=0 attack_ms=10 "
				  "release_ms=100",
				  0),
			 0);
	rig_add_in(&r, &f, 100, 30);
	rig_add_out(&r, &f, 100, 60);
	assert_int_equal(rig_prepare(&r), 0);
	assert_int_equal(rig_run_f(&r, x, y, n), n);
	/* Below threshold: untouched. */
	assert_float_equal(y[step - 1], x[step - 1], 1e-7);
	/* One attack time after the step the reduction has covered 1 - 1/e
	 * of the way (one-pole smoothing, coefficient exp(-1/(t fs))). */
	assert_float_equal(sig_db(fabs(y[step + tau - 1]) / 0.5),
			   target * (1 - exp(-1.0)), 0.05);
	assert_float_equal(sig_db(fabs(y[n - 1]) / 0.5), target, 0.001);
	rig_free(&r);
	free(x);
	free(y);
}

static void drc_bad_params(void **state)
{
	static const char *const bad[] = {
		"threshold_db=5", "ratio=0.5", "attack_ms=-1", "release_ms=9000",
		"makeup_db=60", "knee_db=30", "ratio=x", "limit=1",
	};
	struct rig r;
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rig_init(&r, "drc", PERIOD, bad[i], 0), -EINVAL);
		assert_true(r.log[0] != '\0');
		rig_free(&r);
	}
	assert_int_equal(rig_init(&r, "drc", PERIOD, "ratio=2", 0), 0);
	assert_int_equal(rig_set(&r, "ratio=8 knee_db=99"), -EINVAL);
	assert_int_equal(rig_get(&r, text, sizeof(text)), 0);
	assert_non_null(strstr(text, "ratio=2 "));
	assert_int_equal(rig_set(&r, "ratio=8"), 0);
	assert_int_equal(rig_get(&r, text, sizeof(text)), 0);
	assert_non_null(strstr(text, "ratio=8 "));
	rig_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fir_matches_direct_convolution),
		cmocka_unit_test(fir_blob_and_formats),
		cmocka_unit_test(fir_bad_params),
		cmocka_unit_test(dcblock_removes_dc),
		cmocka_unit_test(dcblock_bad_init),
		cmocka_unit_test(iir_tails_reach_zero),
		cmocka_unit_test(delay_bad_init),
		cmocka_unit_test(delay_exact),
		cmocka_unit_test(delay_runtime_and_refusals),
		cmocka_unit_test(drc_static_curve),
		cmocka_unit_test(drc_attack_time),
		cmocka_unit_test(drc_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
