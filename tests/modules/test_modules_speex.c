/* SPDX-License-Identifier: MIT */
/*
 * src and denoise, the two modules that wrap speexdsp, through lib/abi:
 * the resampler's exact output length after every period and a tone's
 * frequency after conversion; the preprocessor lowering the noise power of
 * a known tone + noise signal.
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

/* ---- src ------------------------------------------------------------------ */

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* After n input frames the resampler has given exactly ceil(n out / in)
 * frames, checked after every period over 5 s of input. */
static void src_length(uint32_t in_rate, uint32_t out_rate, uint32_t period,
		       unsigned quality)
{
	struct pt_format fi = { in_rate, 2, PT_SAMPLE_FLOAT_LE },
			 fo = { out_rate, 2, PT_SAMPLE_FLOAT_LE };
	uint64_t g = gcd64(in_rate, out_rate), num = out_rate / g, den = in_rate / g;
	uint64_t nin = 0, nout = 0;
	size_t max_out = (size_t)((period * num + den - 1) / den) + 1;
	float *x = calloc(period * 2, sizeof(float)), *y = malloc(max_out * 2 * sizeof(float));
	char init[32];
	struct rig r;

	snprintf(init, sizeof(init), "quality=%u", quality);
	assert_int_equal(rig_init(&r, "src", period, init, 0), 0);
	rig_add_in(&r, &fi, 2 * period + 1, period);
	/* Exactly the room one period can need: the readiness rule's floor. */
	rig_add_out(&r, &fo, max_out, max_out / 2);
	assert_int_equal(rig_prepare(&r), 0);
	for (uint32_t p = 0; p < 5 * in_rate / period; p++) {
		for (uint32_t i = 0; i < period * 2; i++)
			x[i] = (float)sin(0.01 * (double)(nin * 2 + i));
		rig_push(&r, 0, x, period);
		assert_true(rig_ready(&r));
		assert_int_equal(rig_process(&r), 0);
		assert_int_equal(r.last_consumed[0], period * 2 * sizeof(float));
		nin += period;
		nout += rig_pull(&r, 0, y, max_out);
		if (nout != (nin * num + den - 1) / den)
			fail_msg("%u -> %u: after %llu in, %llu out, want %llu",
				 in_rate, out_rate, (unsigned long long)nin,
				 (unsigned long long)nout,
				 (unsigned long long)((nin * num + den - 1) / den));
	}
	rig_free(&r);
	free(x);
	free(y);
}

static void src_exact_length(void **state)
{
	(void)state;
	src_length(48000, 44100, 48, 4);
	src_length(44100, 48000, 44, 4);
	src_length(44100, 48000, 441, 10);
	src_length(16000, 48000, 16, 3);
	src_length(48000, 16000, 48, 5);
	src_length(8000, 192000, 80, 0);
	src_length(48000, 48000, 48, 4);
}

/* Converts a sine at @f from @in_rate to @out_rate and measures it. */
static void src_tone(uint32_t in_rate, uint32_t out_rate, uint32_t period,
		     double f, unsigned sample_in, unsigned sample_out)
{
	struct pt_format fi = { in_rate, 1, (uint16_t)sample_in },
			 fo = { out_rate, 1, (uint16_t)sample_out };
	size_t nin = 2 * (size_t)in_rate / period * period;
	size_t nout_max = (size_t)((uint64_t)nin * out_rate / in_rate) + 2;
	size_t room = 2 * ((size_t)period * out_rate / in_rate + 2);
	float *x = malloc(nin * sizeof(float)), *y = malloc(nout_max * sizeof(float));
	uint8_t *raw = malloc(period * 4), *rawo = malloc(nout_max * 4);
	size_t got = 0, w = out_rate / 2;
	struct rig r;
	unsigned sbi = pt_sample_bytes(sample_in), sbo = pt_sample_bytes(sample_out);

	sig_sine(x, nin, 1, f, in_rate, 0.5);
	assert_int_equal(rig_init(&r, "src", period, NULL, 0), 0);
	rig_add_in(&r, &fi, period * 3, 7);
	rig_add_out(&r, &fo, room, 9);
	assert_int_equal(rig_prepare(&r), 0);
	for (size_t done = 0; done < nin; done += period) {
		for (size_t i = 0; i < period; i++) {
			float v = x[done + i];

			if (sample_in == PT_SAMPLE_S16_LE)
				((int16_t *)raw)[i] = (int16_t)lrintf(v * 32767);
			else if (sample_in == PT_SAMPLE_FLOAT_LE)
				((float *)raw)[i] = v;
			else
				((int32_t *)raw)[i] = (int32_t)lrint(v * 2147483647.0);
		}
		rig_push(&r, 0, raw, period);
		assert_true(rig_ready(&r));
		assert_int_equal(rig_process(&r), 0);
		got += rig_pull(&r, 0, rawo + got * sbo, nout_max - got);
	}
	(void)sbi;
	for (size_t i = 0; i < got; i++)
		y[i] = sample_out == PT_SAMPLE_FLOAT_LE ? ((float *)rawo)[i]
		       : sample_out == PT_SAMPLE_S16_LE ? ((int16_t *)rawo)[i] / 32768.0f
		       : sample_out == PT_SAMPLE_S24_4LE ? ((int32_t *)rawo)[i] / 8388608.0f
							: (float)(((int32_t *)rawo)[i] / 2147483648.0);
	/* The last second: frequency by zero crossings, level by DFT. */
	assert_float_equal(sig_zero_cross_freq(y, got - w, w, 1, out_rate), f, 0.02);
	assert_float_equal(sig_tone_amp(y, got - w, w, 1, f, out_rate), 0.5, 0.005);
	rig_free(&r);
	free(x);
	free(y);
	free(raw);
	free(rawo);
}

static void src_tone_frequency(void **state)
{
	(void)state;
	src_tone(48000, 44100, 48, 1000, PT_SAMPLE_FLOAT_LE, PT_SAMPLE_FLOAT_LE);
	src_tone(44100, 48000, 44, 1000, PT_SAMPLE_S16_LE, PT_SAMPLE_S32_LE);
	src_tone(48000, 16000, 480, 3000, PT_SAMPLE_S32_LE, PT_SAMPLE_S16_LE);
	src_tone(22050, 96000, 22, 5000, PT_SAMPLE_FLOAT_LE, PT_SAMPLE_S24_4LE);
}

static void src_readiness_and_params(void **state)
{
	struct pt_format fi = { 48000, 1, PT_SAMPLE_FLOAT_LE },
			 fo = { 44100, 1, PT_SAMPLE_FLOAT_LE };
	float x[48] = { 0 }, y[64];
	struct rig r;
	char text[64];

	(void)state;
	assert_int_equal(rig_init(&r, "src", 48, "quality=11", 0), -EINVAL);
	rig_free(&r);
	assert_int_equal(rig_init(&r, "src", 48, "quality=2.5", 0), -EINVAL);
	rig_free(&r);
	assert_int_equal(rig_init(&r, "src", 48, "ratio=2", 0), -EINVAL);
	rig_free(&r);
	assert_int_equal(rig_init(&r, "src", 48, "quality=3", 0), 0);
	rig_add_in(&r, &fi, 96, 0);
	/* 48 -> 44.1 gives 44 or 45 frames; the rule asks room for 46. */
	rig_add_out(&r, &fo, 46, 0);
	assert_int_equal(rig_prepare(&r), 0);
	assert_false(rig_ready(&r)); /* no input yet */
	rig_push(&r, 0, x, 48);
	assert_true(rig_ready(&r));
	assert_int_equal(rig_process(&r), 0);
	assert_true(r.last_produced[0] == 44 * 4 || r.last_produced[0] == 45 * 4);
	rig_push(&r, 0, x, 48);
	/* The first output still fills the sink: not ready, and a process
	 * called anyway refuses without consuming anything. */
	assert_false(rig_ready(&r));
	assert_int_equal(rig_process(&r), -ENOSPC);
	assert_int_equal(r.last_consumed[0], 0);
	assert_int_equal(r.last_produced[0], 0);
	assert_true(rig_pull(&r, 0, y, 64) >= 44);
	assert_true(rig_ready(&r));
	/* The quality is the latency: fixed once prepared. */
	assert_int_equal(rig_set(&r, "quality=9"), -EBUSY);
	assert_non_null(strstr(r.log, "latency"));
	assert_int_equal(rig_set(&r, "quality=3"), 0);
	assert_int_equal(rig_get(&r, text, sizeof(text)), 0);
	assert_string_equal(text, "quality=3");
	assert_int_equal(rig_process(&r), 0);
	rig_free(&r);
	/* Channel counts must match. */
	fo.channels = 2;
	assert_int_equal(rig_init(&r, "src", 48, NULL, 0), 0);
	rig_add_in(&r, &fi, 96, 0);
	rig_add_out(&r, &fo, 96, 0);
	assert_int_equal(rig_prepare(&r), -EINVAL);
	assert_non_null(strstr(r.log, "channels"));
	rig_free(&r);
}

/* ---- denoise -------------------------------------------------------------- */

/* The test signal: white noise throughout, and a 500 Hz tone in bursts
 * of 0.3 s every 0.6 s, as speech comes and goes (a steady tone would be
 * learnt as noise by the suppressor, rightly). */
#define BURST_HZ 500.0

static bool burst_on(size_t i, uint32_t rate)
{
	return i % (rate * 6 / 10) < rate * 3 / 10;
}

/* Mean power of @ch-interleaved channel @c over the interiors (50 ms away
 * from any edge) of the gaps between bursts, from @start to @n. */
static double gap_power(const int16_t *x, size_t start, size_t n, unsigned ch,
			unsigned c, uint32_t rate)
{
	size_t cycle = rate * 6 / 10, edge = rate / 20, count = 0;
	double sum = 0;

	for (size_t i = start; i < n; i++) {
		size_t ph = i % cycle;

		if (ph >= rate * 3 / 10 + edge && ph < cycle - edge) {
			double v = x[i * ch + c] / 32768.0;

			sum += v * v;
			count++;
		}
	}
	return sum / (double)count;
}

/* Mean tone amplitude over the burst interiors from @start to @n. */
static double burst_amp(const int16_t *x, size_t start, size_t n, unsigned ch,
			unsigned c, uint32_t rate, float *tmp)
{
	size_t cycle = rate * 6 / 10, edge = rate / 20, bursts = 0;
	double sum = 0;

	for (size_t b = (start + cycle - 1) / cycle * cycle; b + cycle <= n; b += cycle) {
		size_t len = rate * 3 / 10 - 2 * edge;

		for (size_t i = 0; i < len; i++)
			tmp[i] = x[(b + edge + i) * ch + c] / 32768.0f;
		/* 0.2 s windows hold whole cycles of 500 Hz. */
		sum += sig_tone_amp(tmp, 0, len, 1, BURST_HZ, rate);
		bursts++;
	}
	return sum / (double)bursts;
}

static void denoise_run(uint32_t rate, uint32_t period, unsigned ch,
			const char *init, double *noise_drop_db, double *tone_db)
{
	struct pt_format f = { rate, (uint16_t)ch, PT_SAMPLE_S16_LE };
	size_t n = 6 * (size_t)rate / period * period, start = 3 * (size_t)rate;
	int16_t *x = malloc(n * ch * 2), *y = malloc(n * ch * 2);
	float *tmp = malloc(rate * sizeof(float));
	uint32_t seed = 5;
	struct rig r;
	size_t got = 0;

	for (size_t i = 0; i < n; i++)
		for (unsigned c = 0; c < ch; c++) {
			double v = 0.06 * sig_noise(&seed);

			if (burst_on(i, rate))
				v += 0.25 * sin(2 * M_PI * BURST_HZ * (double)i / rate);
			x[i * ch + c] = (int16_t)lrint(v * 32767);
		}
	assert_int_equal(rig_init(&r, "denoise", period, init, 0), 0);
	rig_add_in(&r, &f, period * 2 + 3, period);
	rig_add_out(&r, &f, period * 2 + 5, 1);
	assert_int_equal(rig_prepare(&r), 0);
	for (size_t done = 0; done < n; done += period) {
		rig_push(&r, 0, x + done * ch, period);
		assert_true(rig_ready(&r));
		assert_int_equal(rig_process(&r), 0);
		got += rig_pull(&r, 0, y + got * ch, n - got);
	}
	assert_int_equal(got, n);
	/* Measured after 3 s of adaptation; the worst channel is reported. */
	*noise_drop_db = 1e9;
	*tone_db = 0;
	for (unsigned c = 0; c < ch; c++) {
		double drop = 10 * log10(gap_power(x, start, n, ch, c, rate) /
					 gap_power(y, start, n, ch, c, rate));
		double tone = sig_db(burst_amp(y, start, n, ch, c, rate, tmp) /
				     burst_amp(x, start, n, ch, c, rate, tmp));

		if (drop < *noise_drop_db)
			*noise_drop_db = drop;
		if (fabs(tone) > fabs(*tone_db))
			*tone_db = tone;
	}
	rig_free(&r);
	free(x);
	free(y);
	free(tmp);
}

static void denoise_lowers_noise(void **state)
{
	double drop, tone;

	(void)state;
	/* 10 ms frames, as speexdsp expects. */
	denoise_run(16000, 160, 1, "suppress_db=-25", &drop, &tone);
	print_message("denoise 16 kHz/10 ms: noise -%.1f dB, tone %+.2f dB\n", drop, tone);
	assert_true(drop > 10);
	assert_true(fabs(tone) < 3);
	denoise_run(48000, 480, 2, NULL, &drop, &tone);
	print_message("denoise 48 kHz/10 ms x2: noise -%.1f dB, tone %+.2f dB\n", drop, tone);
	assert_true(drop > 6);
	assert_true(fabs(tone) < 3);
	/* With suppression off the noise stays (within a dB). */
	denoise_run(16000, 160, 1, "denoise=0", &drop, &tone);
	print_message("denoise off: noise -%.1f dB, tone %+.2f dB\n", drop, tone);
	assert_true(fabs(drop) < 1);
	assert_true(fabs(tone) < 1);
	/* A 1 ms period works too. */
	denoise_run(48000, 48, 1, "suppress_db=-30", &drop, &tone);
	print_message("denoise 48 kHz/1 ms: noise -%.1f dB, tone %+.2f dB\n", drop, tone);
	assert_true(drop > 6);
	assert_true(fabs(tone) < 3);
}

/* AGC on: quiet bursts come out louder, towards agc_level. */
static void denoise_agc_raises_quiet_input(void **state)
{
	struct pt_format f = { 16000, 1, PT_SAMPLE_S16_LE };
	uint32_t rate = 16000, period = 160;
	size_t n = 8 * (size_t)rate, start = 6 * (size_t)rate;
	int16_t *x = malloc(n * 2), *y = malloc(n * 2);
	float *tmp = malloc(rate * sizeof(float));
	uint32_t seed = 11;
	double gain[2];
	struct rig r;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		double v = 0.001 * sig_noise(&seed);

		if (burst_on(i, rate))
			v += 0.02 * sin(2 * M_PI * BURST_HZ * (double)i / rate);
		x[i] = (int16_t)lrint(v * 32767);
	}
	for (int agc = 0; agc < 2; agc++) {
		size_t got = 0;

		assert_int_equal(rig_init(&r, "denoise", period,
					  agc ? "agc=1 agc_level=16000" : "agc=0", 0),
				 0);
		rig_add_in(&r, &f, period * 2, 0);
		rig_add_out(&r, &f, period * 2, 0);
		assert_int_equal(rig_prepare(&r), 0);
		for (size_t done = 0; done < n; done += period) {
			rig_push(&r, 0, x + done, period);
			assert_int_equal(rig_process(&r), 0);
			got += rig_pull(&r, 0, y + got, n - got);
		}
		assert_int_equal(got, n);
		gain[agc] = sig_db(burst_amp(y, start, n, 1, 0, rate, tmp) /
				   burst_amp(x, start, n, 1, 0, rate, tmp));
		rig_free(&r);
	}
	print_message("denoise agc: bursts %+.1f dB without, %+.1f dB with\n",
		      gain[0], gain[1]);
	assert_true(fabs(gain[0]) < 1.5);
	assert_true(gain[1] > gain[0] + 6);
	free(x);
	free(y);
	free(tmp);
}

static void denoise_params(void **state)
{
	static const char *const bad[] = {
		"denoise=2", "suppress_db=5", "suppress_db=-100", "agc=yes",
		"agc_level=0", "vad=1",
	};
	struct pt_format f = { 16000, 1, PT_SAMPLE_FLOAT_LE },
			 g = { 8000, 1, PT_SAMPLE_FLOAT_LE };
	struct rig r;
	char text[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rig_init(&r, "denoise", 160, bad[i], 0), -EINVAL);
		assert_true(r.log[0] != '\0');
		rig_free(&r);
	}
	assert_int_equal(rig_init(&r, "denoise", 160, "agc=1 agc_level=12000", 0), 0);
	rig_add_in(&r, &f, 320, 0);
	rig_add_out(&r, &f, 320, 0);
	assert_int_equal(rig_prepare(&r), 0);
	assert_int_equal(rig_set(&r, "suppress_db=-40 agc=0"), 0);
	assert_int_equal(rig_get(&r, text, sizeof(text)), 0);
	assert_string_equal(text, "denoise=1 suppress_db=-40 agc=0 agc_level=12000");
	assert_int_equal(rig_set(&r, "agc=3"), -EINVAL);
	assert_int_equal(r.entry->ops->reset(&r.mod), 0);
	rig_free(&r);
	assert_int_equal(rig_init(&r, "denoise", 160, NULL, 0), 0);
	rig_add_in(&r, &f, 320, 0);
	rig_add_out(&r, &g, 320, 0);
	assert_int_equal(rig_prepare(&r), -EINVAL);
	rig_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(src_exact_length),
		cmocka_unit_test(src_tone_frequency),
		cmocka_unit_test(src_readiness_and_params),
		cmocka_unit_test(denoise_lowers_noise),
		cmocka_unit_test(denoise_agc_raises_quiet_input),
		cmocka_unit_test(denoise_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
