/* SPDX-License-Identifier: MIT */
/*
 * The built-ins of the host issue (tone, gain, mixer, eq_iir, copier),
 * driven through lib/abi with buffers that wrap, checked against math done
 * here: tone frequency and level, gain ramps landing on their target,
 * mixing sums, biquad magnitude responses against |H(e^jw)|, conversions
 * against the rounding and saturation rules.
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

static const unsigned formats[] = { PT_SAMPLE_S16_LE, PT_SAMPLE_S24_4LE,
				    PT_SAMPLE_S32_LE, PT_SAMPLE_FLOAT_LE };

static struct pt_format fmt(unsigned sample, unsigned channels)
{
	return (struct pt_format){ .rate = RATE, .channels = (uint16_t)channels,
				   .sample = (uint16_t)sample };
}

/* Sample @i of a raw buffer of @sample as a float in [-1, 1). */
static double raw_get(unsigned sample, const void *buf, size_t i)
{
	switch (sample) {
	case PT_SAMPLE_S16_LE:
		return ((const int16_t *)buf)[i] / 32768.0;
	case PT_SAMPLE_S24_4LE:
		return ((const int32_t *)buf)[i] / 8388608.0;
	case PT_SAMPLE_S32_LE:
		return ((const int32_t *)buf)[i] / 2147483648.0;
	default:
		return ((const float *)buf)[i];
	}
}

static void raw_set(unsigned sample, void *buf, size_t i, double v)
{
	switch (sample) {
	case PT_SAMPLE_S16_LE:
		((int16_t *)buf)[i] = (int16_t)lrint(v * 32767.0);
		break;
	case PT_SAMPLE_S24_4LE:
		((int32_t *)buf)[i] = (int32_t)lrint(v * 8388607.0);
		break;
	case PT_SAMPLE_S32_LE:
		((int32_t *)buf)[i] = (int32_t)lrint(v * 2147483647.0);
		break;
	default:
		((float *)buf)[i] = (float)v;
		break;
	}
}

/* ---- tone ---------------------------------------------------------------- */

static void run_generator(struct rig *r, float *y, size_t frames)
{
	size_t got = 0;

	while (got < frames) {
		assert_true(rig_ready(r));
		assert_int_equal(rig_process(r), 0);
		assert_int_equal(r->last_produced[0],
				 PERIOD * r->out[0].frame);
		got += rig_pull_f(r, 0, y + got * r->out[0].fmt.channels,
				  frames - got);
	}
}

static void tone_sine(void **state)
{
	struct pt_format f = fmt(PT_SAMPLE_FLOAT_LE, 2);
	size_t n = RATE;
	float *y = malloc(n * 2 * sizeof(float));
	struct rig r;
	char text[256];

	(void)state;
	assert_int_equal(rig_init(&r, "tone", PERIOD,
				  "wave=sine freq=997 amplitude_db=-6", 0), 0);
	/* 100 frames with the write position at 70: wraps every period. */
	rig_add_out(&r, &f, 100, 70);
	assert_int_equal(rig_prepare(&r), 0);
	run_generator(&r, y, n);
	assert_float_equal(sig_zero_cross_freq(y, 0, n, 2, RATE), 997.0, 0.01);
	assert_float_equal(sig_tone_amp(y, 0, n, 2, 997, RATE),
			   pow(10, -6 / 20.0), 1e-4);
	for (size_t i = 0; i < n; i++)
		assert_true(y[2 * i] == y[2 * i + 1]);
	assert_int_equal(rig_get(&r, text, sizeof(text)), 0);
	assert_non_null(strstr(text, "freq=997"));
	/* Run-time change of frequency. */
	assert_int_equal(rig_set(&r, "freq=2000"), 0);
	run_generator(&r, y, n);
	assert_float_equal(sig_zero_cross_freq(y, 0, n, 2, RATE), 2000.0, 0.01);
	rig_free(&r);
	free(y);
}

static void tone_every_format(void **state)
{
	(void)state;
	for (unsigned k = 0; k < 4; k++) {
		struct pt_format f = fmt(formats[k], 1);
		size_t n = 4800;
		uint8_t *raw = malloc(n * 4);
		float *y = malloc(n * sizeof(float));
		struct rig r;
		size_t got = 0;

		assert_int_equal(rig_init(&r, "tone", PERIOD,
					  "freq=1000 amplitude_db=-3", 0), 0);
		rig_add_out(&r, &f, 150, 149);
		assert_int_equal(rig_prepare(&r), 0);
		while (got < n) {
			assert_int_equal(rig_process(&r), 0);
			got += rig_pull(&r, 0, raw + got * pt_sample_bytes(f.sample),
					n - got);
		}
		for (size_t i = 0; i < n; i++)
			y[i] = (float)raw_get(f.sample, raw, i);
		assert_float_equal(sig_tone_amp(y, 0, n, 1, 1000, RATE),
				   pow(10, -3 / 20.0), 1e-4);
		rig_free(&r);
		free(raw);
		free(y);
	}
}

static void tone_sweep(void **state)
{
	struct pt_format f = fmt(PT_SAMPLE_FLOAT_LE, 1);
	size_t n = RATE;
	float *y = malloc(n * sizeof(float));
	struct rig r;

	(void)state;
	assert_int_equal(rig_init(&r, "tone", PERIOD,
				  "wave=sweep start=100 end=1000 seconds=1 log=1", 0),
			 0);
	rig_add_out(&r, &f, 200, 10);
	assert_int_equal(rig_prepare(&r), 0);
	run_generator(&r, y, n);
	/* Log sweep: f(t) = 100 * 10^t; around t = 0.5 s it is 316 Hz. */
	assert_float_equal(sig_zero_cross_freq(y, RATE / 2 - 480, 960, 1, RATE),
			   100 * pow(10, 0.5), 5.0);
	assert_float_equal(sig_zero_cross_freq(y, 0, 2400, 1, RATE),
			   100 * pow(10, 0.025), 3.0);
	rig_free(&r);
	free(y);
}

static void tone_noise_seeded(void **state)
{
	struct pt_format f = fmt(PT_SAMPLE_FLOAT_LE, 1);
	size_t n = RATE / 2;
	float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
	struct rig r;

	(void)state;
	for (int pass = 0; pass < 3; pass++) {
		const char *init = pass == 2 ? "wave=noise seed=8 amplitude_db=0"
					     : "wave=noise seed=7 amplitude_db=0";

		assert_int_equal(rig_init(&r, "tone", PERIOD, init, 0), 0);
		rig_add_out(&r, &f, 96, 50);
		assert_int_equal(rig_prepare(&r), 0);
		run_generator(&r, pass ? b : a, n);
		rig_free(&r);
		if (pass == 1)
			assert_memory_equal(a, b, n * sizeof(float));
	}
	assert_memory_not_equal(a, b, n * sizeof(float));
	/* Uniform on [-1, 1): RMS 1/sqrt(3), mean 0. */
	assert_float_equal(sig_rms(a, 0, n, 1), 1 / sqrt(3), 0.01);
	free(a);
	free(b);
}

static void tone_bad_params(void **state)
{
	static const char *const bad[] = {
		"wave=square", "freq=-1", "freq=abc", "amplitude_db=3",
		"seed=0", "seed=1.5", "log=2", "colour=red", "freq",
	};
	struct pt_format f = { .rate = 8000, .channels = 1,
			       .sample = PT_SAMPLE_S16_LE };
	struct rig r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rig_init(&r, "tone", PERIOD, bad[i], 0), -EINVAL);
		assert_true(r.log[0] != '\0');
		rig_free(&r);
	}
	/* 5 kHz is above Nyquist at 8 kHz: refused when the rate is known. */
	assert_int_equal(rig_init(&r, "tone", PERIOD, "freq=5000", 0), 0);
	rig_add_out(&r, &f, 96, 0);
	assert_int_equal(rig_prepare(&r), -EINVAL);
	assert_non_null(strstr(r.log, "rate/2"));
	rig_free(&r);
	/* An input pin is refused. */
	assert_int_equal(rig_init(&r, "tone", PERIOD, NULL, 0), 0);
	rig_add_in(&r, &f, 96, 0);
	rig_add_out(&r, &f, 96, 0);
	assert_int_equal(rig_prepare(&r), -EINVAL);
	rig_free(&r);
}

/* ---- gain ---------------------------------------------------------------- */

static void gain_static(void **state)
{
	struct pt_format f = fmt(PT_SAMPLE_FLOAT_LE, 2);
	size_t n = 960;
	float *x = malloc(n * 2 * sizeof(float)), *y = malloc(n * 2 * sizeof(float));
	float k = (float)pow(10, -6 / 20.0);
	struct rig r;

	(void)state;
	sig_sine(x, n * 2, 1, 440, RATE, 0.8);
	assert_int_equal(rig_init(&r, "gain", PERIOD, "gain_db=-6", 0), 0);
	rig_add_in(&r, &f, 100, 77);
	rig_add_out(&r, &f, 100, 13);
	assert_int_equal(rig_prepare(&r), 0);
	assert_int_equal(rig_run_f(&r, x, y, n), n);
	for (size_t i = 0; i < n * 2; i++)
		assert_true(y[i] == x[i] * k);
	rig_free(&r);
	free(x);
	free(y);
}

static void gain_ramp_reaches_target(void **state)
{
	struct pt_format f = fmt(PT_SAMPLE_FLOAT_LE, 1);
	size_t n = 960;
	float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
	double target = pow(10, -20 / 20.0);
	struct rig r;
	char text[128];

	(void)state;
	for (size_t i = 0; i < n; i++)
		x[i] = 0.5f;
	assert_int_equal(rig_init(&r, "gain", PERIOD, "ramp_ms=10", 0), 0);
	rig_add_in(&r, &f, 100, 60);
	rig_add_out(&r, &f, 100, 90);
	assert_int_equal(rig_prepare(&r), 0);
	assert_int_equal(rig_run_f(&r, x, y, PERIOD), PERIOD);
	for (size_t i = 0; i < PERIOD; i++)
		assert_true(y[i] == 0.5f);
	assert_int_equal(rig_set(&r, "gain_db=-20"), 0);
	assert_int_equal(rig_run_f(&r, x, y, n), n);
	/* 10 ms at 48 kHz = 480 frames, linear in amplitude. */
	for (size_t i = 0; i < 480; i++) {
		double want = 0.5 * (1 + (target - 1) * (double)(i + 1) / 480.0);

		assert_float_equal(y[i], want, 1e-6);
	}
	/* The last ramp frame and everything after sit exactly on target. */
	for (size_t i = 479; i < n; i++)
		assert_true(y[i] == 0.5f * (float)target);
	assert_int_equal(rig_get(&r, text, sizeof(text)), 0);
	assert_non_null(strstr(text, "gain_db=-20"));
	/* A refused change leaves everything as it was. */
	assert_int_equal(rig_set(&r, "gain_db=-20 ramp_ms=-5"), -EINVAL);
	assert_int_equal(rig_set(&r, "gain_db=100"), -EINVAL);
	assert_int_equal(rig_run_f(&r, x, y, PERIOD), PERIOD);
	assert_true(y[0] == 0.5f * (float)target);
	rig_free(&r);
	free(x);
	free(y);
}

static void gain_formats(void **state)
{
	(void)state;
	for (unsigned a = 0; a < 4; a++)
		for (unsigned b = 0; b < 4; b++) {
			struct pt_format fi = fmt(formats[a], 1), fo = fmt(formats[b], 1);
			uint8_t in[PERIOD * 4], out[PERIOD * 4];
			struct rig r;

			for (size_t i = 0; i < PERIOD; i++)
				raw_set(fi.sample, in, i, sin(i * 0.3) * 0.9);
			assert_int_equal(rig_init(&r, "gain", PERIOD, "gain_db=-6", 0), 0);
			rig_add_in(&r, &fi, 70, 40);
			rig_add_out(&r, &fo, 70, 50);
			assert_int_equal(rig_prepare(&r), 0);
			rig_push(&r, 0, in, PERIOD);
			assert_int_equal(rig_process(&r), 0);
			assert_int_equal(rig_pull(&r, 0, out, PERIOD), PERIOD);
			for (size_t i = 0; i < PERIOD; i++)
				assert_float_equal(raw_get(fo.sample, out, i),
						   raw_get(fi.sample, in, i) *
							   pow(10, -6 / 20.0),
						   1.0 / 16384);
			rig_free(&r);
		}
}

static void gain_refuses(void **state)
{
	struct pt_format a = fmt(PT_SAMPLE_S16_LE, 2), b = fmt(PT_SAMPLE_S16_LE, 1);
	struct rig r;

	(void)state;
	assert_int_equal(rig_init(&r, "gain", PERIOD, "gain_db=49", 0), -EINVAL);
	rig_free(&r);
	assert_int_equal(rig_init(&r, "gain", PERIOD, "gain=3", 0), -EINVAL);
	assert_non_null(strstr(r.log, "gain"));
	rig_free(&r);
	assert_int_equal(rig_init(&r, "gain", PERIOD, NULL, 0), 0);
	rig_add_in(&r, &a, 96, 0);
	rig_add_out(&r, &b, 96, 0);
	assert_int_equal(rig_prepare(&r), -EINVAL);
	assert_non_null(strstr(r.log, "channels"));
	rig_free(&r);
}

/* ---- mixer --------------------------------------------------------------- */

static void mixer_sums(void **state)
{
	struct pt_format f0 = fmt(PT_SAMPLE_FLOAT_LE, 2), f1 = fmt(PT_SAMPLE_S16_LE, 2),
			 f2 = fmt(PT_SAMPLE_S32_LE, 2), fo = fmt(PT_SAMPLE_FLOAT_LE, 2);
	double g[3] = { 1, pow(10, -6 / 20.0), pow(10, 3 / 20.0) };
	float x0[PERIOD * 2], y[PERIOD * 2];
	int16_t x1[PERIOD * 2];
	int32_t x2[PERIOD * 2];
	struct rig r;

	(void)state;
	assert_int_equal(rig_init(&r, "mixer", PERIOD, "gains_db=0,-6,3", 0), 0);
	rig_add_in(&r, &f0, 64, 63);
	rig_add_in(&r, &f1, 64, 20);
	rig_add_in(&r, &f2, 64, 40);
	rig_add_out(&r, &fo, 64, 33);
	assert_int_equal(rig_prepare(&r), 0);
	for (int period = 0; period < 5; period++) {
		for (size_t i = 0; i < PERIOD * 2; i++) {
			x0[i] = (float)(0.3 * sin(i * 0.11 + period));
			x1[i] = (int16_t)(10000 * cos(i * 0.07 + period));
			x2[i] = (int32_t)(4e8 * sin(i * 0.05 - period));
		}
		rig_push(&r, 0, x0, PERIOD);
		rig_push(&r, 1, x1, PERIOD);
		rig_push(&r, 2, x2, PERIOD);
		assert_true(rig_ready(&r));
		assert_int_equal(rig_process(&r), 0);
		assert_int_equal(rig_pull_f(&r, 0, y, PERIOD), PERIOD);
		for (size_t i = 0; i < PERIOD * 2; i++) {
			double want = g[0] * x0[i] + g[1] * x1[i] / 32768.0 +
				      g[2] * x2[i] / 2147483648.0;

			assert_float_equal(y[i], want, 1e-6);
		}
	}
	/* Only two inputs now: not ready until the third has data. */
	rig_push(&r, 0, x0, PERIOD);
	rig_push(&r, 1, x1, PERIOD);
	assert_false(rig_ready(&r));
	rig_free(&r);
}

static void mixer_saturates(void **state)
{
	struct pt_format fi = fmt(PT_SAMPLE_FLOAT_LE, 1), fo = fmt(PT_SAMPLE_S16_LE, 1);
	float a[PERIOD], b[PERIOD];
	int16_t y[PERIOD];
	struct rig r;

	(void)state;
	for (size_t i = 0; i < PERIOD; i++) {
		a[i] = i & 1 ? -0.8f : 0.8f;
		b[i] = i & 1 ? -0.7f : 0.7f;
	}
	assert_int_equal(rig_init(&r, "mixer", PERIOD, NULL, 0), 0);
	rig_add_in(&r, &fi, 50, 25);
	rig_add_in(&r, &fi, 50, 26);
	rig_add_out(&r, &fo, 50, 27);
	assert_int_equal(rig_prepare(&r), 0);
	rig_push(&r, 0, a, PERIOD);
	rig_push(&r, 1, b, PERIOD);
	assert_int_equal(rig_process(&r), 0);
	assert_int_equal(rig_pull(&r, 0, y, PERIOD), PERIOD);
	for (size_t i = 0; i < PERIOD; i++)
		assert_int_equal(y[i], i & 1 ? INT16_MIN : INT16_MAX);
	rig_free(&r);
	assert_int_equal(rig_init(&r, "mixer", PERIOD, "gains_db=0,0,0,0,0,0,0,0,0", 0),
			 -EINVAL);
	rig_free(&r);
	assert_int_equal(rig_init(&r, "mixer", PERIOD, "gains_db=0,x", 0), -EINVAL);
	rig_free(&r);
}

/* ---- eq_iir -------------------------------------------------------------- */

/* Gain in dB of an eq_iir set up by @init at @f: a sine through a fresh
 * instance for 0.5 s, amplitude measured over the last 0.25 s. */
static double eq_gain_db(const char *init, double f)
{
	struct pt_format fm = fmt(PT_SAMPLE_FLOAT_LE, 1);
	size_t n = RATE / 2, w = RATE / 4;
	float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
	struct rig r;
	double g;

	sig_sine(x, n, 1, f, RATE, 0.25);
	assert_int_equal(rig_init(&r, "eq_iir", PERIOD, init, 0), 0);
	rig_add_in(&r, &fm, 100, 99);
	rig_add_out(&r, &fm, 100, 1);
	assert_int_equal(rig_prepare(&r), 0);
	assert_int_equal(rig_run_f(&r, x, y, n), n);
	g = sig_db(sig_tone_amp(y, n - w, w, 1, f, RATE) /
		   sig_tone_amp(x, n - w, w, 1, f, RATE));
	rig_free(&r);
	free(x);
	free(y);
	return g;
}

/* Settled output / input for a constant input (DC) or a +-a alternation
 * (Nyquist). */
static double eq_edge_gain_db(const char *init, bool nyquist)
{
	struct pt_format fm = fmt(PT_SAMPLE_FLOAT_LE, 1);
	size_t n = RATE / 2;
	float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
	struct rig r;
	double g;

	for (size_t i = 0; i < n; i++)
		x[i] = nyquist && (i & 1) ? -0.1f : 0.1f;
	assert_int_equal(rig_init(&r, "eq_iir", PERIOD, init, 0), 0);
	rig_add_in(&r, &fm, 100, 50);
	rig_add_out(&r, &fm, 100, 50);
	assert_int_equal(rig_prepare(&r), 0);
	assert_int_equal(rig_run_f(&r, x, y, n), n);
	g = sig_db(fabs(y[n - 1]) / 0.1);
	rig_free(&r);
	free(x);
	free(y);
	return g;
}

static void eq_coefs_response(void **state)
{
	/* Two Butterworth sections designed here by the bilinear transform
	 * (K = tan(pi fc / fs)), independent of the module's cookbook code:
	 * a low-pass at 2 kHz and a high-pass at 200 Hz. */
	double c[10], K, n;
	char init[512];
	static const double probe[] = { 50, 200, 1000, 2000, 5000, 12000 };

	(void)state;
	K = tan(M_PI * 2000 / RATE);
	n = 1 / (1 + M_SQRT2 * K + K * K);
	c[0] = K * K * n;
	c[1] = 2 * c[0];
	c[2] = c[0];
	c[3] = 2 * (K * K - 1) * n;
	c[4] = (1 - M_SQRT2 * K + K * K) * n;
	K = tan(M_PI * 200 / RATE);
	n = 1 / (1 + M_SQRT2 * K + K * K);
	c[5] = n;
	c[6] = -2 * n;
	c[7] = n;
	c[8] = 2 * (K * K - 1) * n;
	c[9] = (1 - M_SQRT2 * K + K * K) * n;
	snprintf(init, sizeof(init),
		 "coefs=%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g",
		 c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]);
	for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		double want = sig_db(sig_biquad_mag(c, 2, probe[i], RATE));
		double got = eq_gain_db(init, probe[i]);

		/* -3 dB at each corner is the Butterworth property. */
		if (probe[i] == 2000 || probe[i] == 200)
			assert_float_equal(want, -3.0103, 0.02);
		assert_float_equal(got, want, 0.02);
	}
}

static void eq_bands_response(void **state)
{
	double q = 2;

	(void)state;
	/* Peaking: exactly gain_db at the centre, flat far away. */
	assert_float_equal(eq_gain_db("bands=peaking:1000:1:6", 1000), 6.0, 0.02);
	assert_float_equal(eq_gain_db("bands=peaking:1000:4:-9", 1000), -9.0, 0.02);
	assert_float_equal(eq_gain_db("bands=peaking:1000:4:-9", 10000), 0.0, 0.1);
	/* Low-pass and high-pass: |H(f0)| = Q. */
	assert_float_equal(eq_gain_db("bands=lowpass:1000:0.70710678", 1000),
			   -3.0103, 0.02);
	assert_float_equal(eq_gain_db("bands=highpass:3000:2", 3000), sig_db(q), 0.02);
	assert_true(eq_gain_db("bands=lowpass:1000:0.70710678", 10000) < -38);
	assert_true(eq_gain_db("bands=highpass:3000:0.7", 100) < -55);
	/* Shelves: the full gain at DC (low shelf) or Nyquist (high shelf),
	 * half of it in dB at the corner. */
	assert_float_equal(eq_edge_gain_db("bands=lowshelf:200:0.707:6", false),
			   6.0, 0.01);
	assert_float_equal(eq_edge_gain_db("bands=highshelf:4000:0.707:-8", true),
			   -8.0, 0.01);
	assert_float_equal(eq_gain_db("bands=lowshelf:200:0.707:6", 200), 3.0, 0.05);
	assert_float_equal(eq_gain_db("bands=highshelf:4000:0.707:-8", 4000), -4.0,
			   0.05);
	/* A cascade multiplies: two +6 dB peaks at the same place = +12. */
	assert_float_equal(eq_gain_db("bands=peaking:500:1:6,peaking:500:1:6", 500),
			   12.0, 0.03);
	/* The flat spelling a YAML list gives is the same filter. */
	assert_float_equal(eq_gain_db("bands=lowpass,1000,0.70710678,0,peaking,"
				      "5000,2,6",
				      1000),
			   eq_gain_db("bands=lowpass:1000:0.70710678,peaking:"
				      "5000:2:6",
				      1000),
			   1e-9);
	/* Nothing configured: pass-through. */
	assert_float_equal(eq_gain_db(NULL, 1234), 0.0, 1e-5);
}

static void eq_runtime_change(void **state)
{
	struct pt_format fm = fmt(PT_SAMPLE_S16_LE, 2);
	size_t n = RATE / 4;
	int16_t *x = malloc(n * 2 * sizeof(int16_t)), *y = malloc(n * 2 * sizeof(int16_t));
	float *fy = malloc(n * sizeof(float));
	struct rig r;
	char text[256];

	(void)state;
	for (size_t i = 0; i < n * 2; i++)
		x[i] = (int16_t)lrint(8000 * sin(2 * M_PI * 1000 * (double)(i / 2) / RATE));
	assert_int_equal(rig_init(&r, "eq_iir", PERIOD, "bands=peaking:1000:1:6", 0), 0);
	rig_add_in(&r, &fm, 100, 97);
	rig_add_out(&r, &fm, 100, 3);
	assert_int_equal(rig_prepare(&r), 0);
	for (int round = 0; round < 2; round++) {
		size_t got = 0;

		for (size_t done = 0; done < n; done += PERIOD) {
			rig_push(&r, 0, x + done * 2, PERIOD);
			assert_int_equal(rig_process(&r), 0);
			got += rig_pull(&r, 0, y + got * 2, n - got);
		}
		assert_int_equal(got, n);
		for (size_t i = 0; i < n; i++)
			fy[i] = y[2 * i + 1] / 32768.0f;
		assert_float_equal(sig_db(sig_tone_amp(fy, n / 2, n / 2, 1, 1000, RATE) /
					  (8000 / 32768.0)),
				   round == 0 ? 6.0 : -3.0, 0.02);
		assert_int_equal(rig_set(&r, "bands=peaking:1000:1:-3"), 0);
	}
	assert_int_equal(rig_get(&r, text, sizeof(text)), 0);
	assert_non_null(strstr(text, "bands=peaking:1000:1:-3"));
	/* Refused changes keep the filter in force. */
	assert_int_equal(rig_set(&r, "bands=notch:1000:1:3"), -EINVAL);
	assert_int_equal(rig_set(&r, "bands=peaking:30000:1:3"), -EINVAL);
	assert_int_equal(rig_get(&r, text, sizeof(text)), 0);
	assert_non_null(strstr(text, "bands=peaking:1000:1:-3"));
	rig_free(&r);
	free(x);
	free(y);
	free(fy);
}

static void eq_bad_params(void **state)
{
	static const char *const bad[] = {
		"coefs=1,0,0,0",                  /* not 5 per stage */
		"coefs=1,0,0,0,1.5",              /* unstable */
		"coefs=1,0,0,2.5,0.9",            /* unstable */
		"bands=peaking:1000:1",           /* no gain */
		"bands=shelf:1000:1:3",           /* unknown type */
		"bands=peaking:-5:1:3",           /* bad freq */
		"bands=peaking:1000:0:3",         /* bad q */
		"bands=peaking:1000:1:60",        /* bad gain */
		"bands=peaking:1k:1:3",           /* not a number */
		"bands=peaking:1000:1:3:4",       /* too many numbers */
		"bands=1000:1:3",                 /* no type */
		"bands=",                         /* empty */
		"coefs=1,0,0,0,0 bands=lowpass:100:1",
		"q=3",
	};
	struct pt_format f = fmt(PT_SAMPLE_FLOAT_LE, 1);
	struct rig r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rig_init(&r, "eq_iir", PERIOD, bad[i], 0), -EINVAL);
		assert_true(r.log[0] != '\0');
		rig_free(&r);
	}
	assert_int_equal(rig_init(&r, "eq_iir", PERIOD, "bands=lowpass:30000:1", 0), 0);
	rig_add_in(&r, &f, 96, 0);
	rig_add_out(&r, &f, 96, 0);
	assert_int_equal(rig_prepare(&r), -EINVAL);
	assert_non_null(strstr(r.log, "rate/2"));
	rig_free(&r);
}

/* ---- copier -------------------------------------------------------------- */

static unsigned bits_of(unsigned sample)
{
	return sample == PT_SAMPLE_S16_LE ? 16 : sample == PT_SAMPLE_S24_4LE ? 24 : 32;
}

/* What the copier must write for input sample @i of @in_buf, computed with
 * long double arithmetic from the documented rules. */
static long double expect_copy(unsigned is, const void *in_buf, size_t i,
			       unsigned os)
{
	long double v, full;

	if (is == PT_SAMPLE_FLOAT_LE) {
		v = ((const float *)in_buf)[i];
		if (os == PT_SAMPLE_FLOAT_LE)
			return v;
		full = ldexpl(1, (int)bits_of(os) - 1);
		v *= full;
		if (isnan(v) || v <= -full)
			return -full;
		if (v >= full - 1)
			return full - 1;
		return nearbyintl(v); /* ties to even */
	}
	if (is == PT_SAMPLE_S16_LE)
		v = ((const int16_t *)in_buf)[i];
	else if (is == PT_SAMPLE_S24_4LE)
		v = (int32_t)((uint32_t)((const int32_t *)in_buf)[i] << 8) >> 8;
	else
		v = ((const int32_t *)in_buf)[i];
	v /= ldexpl(1, (int)bits_of(is) - 1); /* exact: [-1, 1) */
	if (os == PT_SAMPLE_FLOAT_LE)
		return (float)(double)v;
	full = ldexpl(1, (int)bits_of(os) - 1);
	v = floorl(v * full + 0.5L); /* half up */
	return v > full - 1 ? full - 1 : v;
}

static long double raw_value(unsigned sample, const void *buf, size_t i)
{
	switch (sample) {
	case PT_SAMPLE_S16_LE:
		return ((const int16_t *)buf)[i];
	case PT_SAMPLE_S24_4LE:
	case PT_SAMPLE_S32_LE:
		return ((const int32_t *)buf)[i];
	default:
		return ((const float *)buf)[i];
	}
}

/* Runs @frames frames of @in (format @is) through a copier to @os. */
static void copy_run(unsigned is, const void *in, unsigned os, void *out,
		     size_t frames, unsigned channels)
{
	struct pt_format fi = fmt(is, channels), fo = fmt(os, channels);
	struct rig r;
	size_t got = 0;

	assert_int_equal(frames % PERIOD, 0);
	assert_int_equal(rig_init(&r, "copier", PERIOD, NULL, 0), 0);
	rig_add_in(&r, &fi, 2 * PERIOD + 5, 2 * PERIOD + 1);
	rig_add_out(&r, &fo, PERIOD + 7, 11);
	assert_int_equal(rig_prepare(&r), 0);
	for (size_t done = 0; done < frames; done += PERIOD) {
		rig_push(&r, 0, (const uint8_t *)in + done * pt_frame_bytes(&fi), PERIOD);
		assert_true(rig_ready(&r));
		assert_int_equal(rig_process(&r), 0);
		assert_int_equal(r.last_consumed[0], PERIOD * pt_frame_bytes(&fi));
		got += rig_pull(&r, 0, (uint8_t *)out + got * pt_frame_bytes(&fo),
				frames - got);
	}
	assert_int_equal(got, frames);
	rig_free(&r);
}

static void copier_every_pair(void **state)
{
	size_t n = 4 * PERIOD * 3; /* 3 channels */
	uint8_t *in = malloc(n * 4), *out = malloc(n * 4);
	uint32_t seed = 99;

	(void)state;
	for (unsigned a = 0; a < 4; a++) {
		unsigned is = formats[a];

		/* Extremes, zero, tiny and random values in every format. */
		for (size_t i = 0; i < n; i++) {
			double v = sig_noise(&seed);

			switch (is) {
			case PT_SAMPLE_S16_LE:
				((int16_t *)in)[i] = i == 0 ? INT16_MIN : i == 1 ? INT16_MAX
						    : i == 2 ? 0 : (int16_t)(v * 32768);
				break;
			case PT_SAMPLE_S24_4LE:
				((int32_t *)in)[i] = i == 0 ? -8388608 : i == 1 ? 8388607
						    : i == 2 ? 1 : (int32_t)(v * 8388608);
				break;
			case PT_SAMPLE_S32_LE:
				((int32_t *)in)[i] = i == 0 ? INT32_MIN : i == 1 ? INT32_MAX
						    : i == 2 ? 0x7fff8000 : (int32_t)(v * 2147483648.0);
				break;
			default:
				((float *)in)[i] = i == 0 ? -1.5f : i == 1 ? 1.5f
						  : i == 2 ? NAN : i == 3 ? 0.99999f
						  : i == 4 ? 1.0f : i == 5 ? -1.0f
						  : i == 6 ? 0.5f / 32768 : (float)v;
				break;
			}
		}
		for (unsigned b = 0; b < 4; b++) {
			unsigned os = formats[b];

			copy_run(is, in, os, out, n / 3, 3);
			for (size_t i = 0; i < n; i++) {
				long double want = expect_copy(is, in, i, os);
				long double got = raw_value(os, out, i);

				if (is == os && is == PT_SAMPLE_FLOAT_LE && isnan(want))
					assert_true(isnan(got));
				else if (want != got)
					fail_msg("%u -> %u sample %zu: want %.1Lf got %.1Lf",
						 is, os, i, want, got);
			}
		}
	}
	free(in);
	free(out);
}

static void copier_round_trips(void **state)
{
	size_t n = 65536 + 3 * PERIOD - 65536 % PERIOD; /* every S16 value */
	int16_t *s16 = malloc(n * 2), *back = malloc(n * 2);
	float *f = malloc(n * 4);
	int32_t *s32 = malloc(n * 4), *s24 = malloc(n * 4), *s24b = malloc(n * 4);

	(void)state;
	for (size_t i = 0; i < n; i++)
		s16[i] = (int16_t)(i - 32768);
	copy_run(PT_SAMPLE_S16_LE, s16, PT_SAMPLE_FLOAT_LE, f, n, 1);
	copy_run(PT_SAMPLE_FLOAT_LE, f, PT_SAMPLE_S16_LE, back, n, 1);
	assert_memory_equal(s16, back, n * 2);
	copy_run(PT_SAMPLE_S16_LE, s16, PT_SAMPLE_S32_LE, s32, n, 1);
	copy_run(PT_SAMPLE_S32_LE, s32, PT_SAMPLE_S16_LE, back, n, 1);
	assert_memory_equal(s16, back, n * 2);
	/* S24 through float and S32 is exact as well. */
	for (size_t i = 0; i < n; i++)
		s24[i] = (int32_t)((i * 256 + i % 256) % 16777216) - 8388608;
	copy_run(PT_SAMPLE_S24_4LE, s24, PT_SAMPLE_FLOAT_LE, f, n, 1);
	copy_run(PT_SAMPLE_FLOAT_LE, f, PT_SAMPLE_S24_4LE, s24b, n, 1);
	assert_memory_equal(s24, s24b, n * 4);
	copy_run(PT_SAMPLE_S24_4LE, s24, PT_SAMPLE_S32_LE, s32, n, 1);
	copy_run(PT_SAMPLE_S32_LE, s32, PT_SAMPLE_S24_4LE, s24b, n, 1);
	assert_memory_equal(s24, s24b, n * 4);
	free(s16);
	free(back);
	free(f);
	free(s32);
	free(s24);
	free(s24b);
}

static void copier_refuses(void **state)
{
	struct pt_format a = fmt(PT_SAMPLE_S16_LE, 2), b = fmt(PT_SAMPLE_S16_LE, 2);
	struct rig r;

	(void)state;
	b.rate = 44100;
	assert_int_equal(rig_init(&r, "copier", PERIOD, "gain=1", 0), -EINVAL);
	rig_free(&r);
	assert_int_equal(rig_init(&r, "copier", PERIOD, NULL, 0), 0);
	rig_add_in(&r, &a, 96, 0);
	rig_add_out(&r, &b, 96, 0);
	assert_int_equal(rig_prepare(&r), -EINVAL);
	assert_non_null(strstr(r.log, "rate"));
	rig_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tone_sine),
		cmocka_unit_test(tone_every_format),
		cmocka_unit_test(tone_sweep),
		cmocka_unit_test(tone_noise_seeded),
		cmocka_unit_test(tone_bad_params),
		cmocka_unit_test(gain_static),
		cmocka_unit_test(gain_ramp_reaches_target),
		cmocka_unit_test(gain_formats),
		cmocka_unit_test(gain_refuses),
		cmocka_unit_test(mixer_sums),
		cmocka_unit_test(mixer_saturates),
		cmocka_unit_test(eq_coefs_response),
		cmocka_unit_test(eq_bands_response),
		cmocka_unit_test(eq_runtime_change),
		cmocka_unit_test(eq_bad_params),
		cmocka_unit_test(copier_every_pair),
		cmocka_unit_test(copier_round_trips),
		cmocka_unit_test(copier_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
