/* SPDX-License-Identifier: MIT */
/*
 * The voice chain of the real-modules issue, trusted and in-process: a
 * voice made here with espeak-ng (22.05 kHz), brought to 48 kHz by src,
 * with seeded white noise added, then denoise -> eq_iir -> drc -> src to
 * 44.1 kHz, each stage through lib/abi with its own buffers and mixed
 * sample formats between them. Checks: no frame lost or invented across the
 * chain (exact lengths), and the noise goes down far more than the voice.
 * Skipped (and says so) only when espeak-ng is not installed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "tests/modules/rig.h"
#include "tests/modules/signal.h"

#define STAGES 4

struct chain {
	struct rig st[STAGES];
	uint64_t in_frames, out_frames;   /* fed to stage 0, taken from the last */
	uint64_t processed[STAGES];      /* process calls per stage */
};

/* Moves what stage @i produced into stage @i + 1, as much as fits. */
static void chain_move(struct chain *c, unsigned i)
{
	struct rig_ring *from = &c->st[i].out[0], *to = &c->st[i + 1].in[0];
	size_t have = (size_t)(from->wr - from->rd) / from->frame;
	size_t room = (to->size - (size_t)(to->wr - to->rd)) / to->frame;
	size_t n = have < room ? have : room;
	uint8_t *tmp = malloc(n * from->frame + 1);

	assert_int_equal(from->frame, to->frame);
	assert_int_equal(rig_pull(&c->st[i], 0, tmp, n), n);
	rig_push(&c->st[i + 1], 0, tmp, n);
	free(tmp);
}

/* Runs every ready stage, upstream first, until nothing moves. */
static void chain_pump(struct chain *c, float *out, size_t out_max)
{
	bool moved = true;

	while (moved) {
		moved = false;
		for (unsigned i = 0; i < STAGES; i++) {
			while (rig_ready(&c->st[i])) {
				assert_int_equal(rig_process(&c->st[i]), 0);
				c->processed[i]++;
				moved = true;
			}
			if (i + 1 < STAGES)
				chain_move(c, i);
		}
		{
			struct rig *last = &c->st[STAGES - 1];
			int16_t buf[1024];
			size_t n;

			while ((n = rig_pull(last, 0, buf, 1024)) > 0) {
				for (size_t k = 0; k < n; k++, c->out_frames++)
					if (c->out_frames < out_max)
						out[c->out_frames] = buf[k] / 32768.0f;
				moved = true;
			}
		}
	}
}

/* Reads a mono WAV made by espeak-ng into floats. */
static float *read_voice(const char *path, size_t *frames, uint32_t *rate)
{
	SF_INFO info = { 0 };
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	float *x;

	assert_non_null(f);
	assert_int_equal(info.channels, 1);
	x = malloc((size_t)info.frames * sizeof(float));
	assert_int_equal(sf_readf_float(f, x, info.frames), info.frames);
	sf_close(f);
	*frames = (size_t)info.frames;
	*rate = (uint32_t)info.samplerate;
	return x;
}

/* Brings the voice to 48 kHz with the src module itself. */
static float *to_48k(const float *x, size_t n, uint32_t rate, size_t *out_n)
{
	struct pt_format fi = { rate, 1, PT_SAMPLE_FLOAT_LE }, fo = { 48000, 1, PT_SAMPLE_FLOAT_LE };
	uint32_t period = rate / 100;
	size_t padded = (n + period - 1) / period * period, got = 0;
	size_t max = (size_t)((uint64_t)padded * 48000 / rate) + 2;
	float *in = calloc(padded, sizeof(float)), *y = malloc(max * sizeof(float));
	struct rig r;

	memcpy(in, x, n * sizeof(float));
	assert_int_equal(rig_init(&r, "src", period, "quality=6", 0), 0);
	rig_add_in(&r, &fi, period * 2, 0);
	rig_add_out(&r, &fo, period * 48000 / rate + 2, 0);
	assert_int_equal(rig_prepare(&r), 0);
	for (size_t done = 0; done < padded; done += period) {
		rig_push(&r, 0, in + done, period);
		assert_true(rig_ready(&r));
		assert_int_equal(rig_process(&r), 0);
		got += rig_pull(&r, 0, y + got, max - got);
	}
	assert_int_equal(got, ((uint64_t)padded * 48000 + rate - 1) / rate);
	rig_free(&r);
	free(in);
	*out_n = got;
	return y;
}

static double power(const float *x, size_t from, size_t to)
{
	double s = 0;

	for (size_t i = from; i < to; i++)
		s += (double)x[i] * x[i];
	return s / (double)(to - from);
}

static void voice_chain(void **state)
{
	char dir[] = "/tmp/pt-voice-XXXXXX", path[64], cmd[256];
	struct pt_format f48 = { 48000, 1, PT_SAMPLE_FLOAT_LE },
			 s16 = { 48000, 1, PT_SAMPLE_S16_LE },
			 s32 = { 48000, 1, PT_SAMPLE_S32_LE },
			 o44 = { 44100, 1, PT_SAMPLE_S16_LE };
	const uint32_t period = 480; /* 10 ms at 48 kHz, what speexdsp wants */
	size_t nv, n48, total, out_max;
	uint32_t rate, seed = 2024;
	float *voice, *v48, *noisy, *out;
	struct chain c;
	double snr_in, snr_out, noise_drop;

	(void)state;
	if (system("command -v espeak-ng >/dev/null 2>&1") != 0)
		skip(); /* scripts/deps.sh installs it; without it, say so */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/voice.wav", dir);
	snprintf(cmd, sizeof(cmd),
		 "espeak-ng -w %s 'Isolation is worth something only when real "
		 "signal processing runs inside it at full speed.'",
		 path);
	assert_int_equal(system(cmd), 0);
	voice = read_voice(path, &nv, &rate);
	unlink(path);
	rmdir(dir);
	assert_true(nv > rate); /* more than a second of speech */

	/* Voice at 48 kHz, then 1.5 s of silence; noise at -30 dBFS peak
	 * throughout; a whole number of periods. */
	v48 = to_48k(voice, nv, rate, &n48);
	total = (n48 + 72000 + period - 1) / period * period;
	noisy = calloc(total, sizeof(float));
	for (size_t i = 0; i < total; i++)
		noisy[i] = (i < n48 ? v48[i] : 0) + (float)(0.0316 * sig_noise(&seed));

	memset(&c, 0, sizeof(c));
	assert_int_equal(rig_init(&c.st[0], "denoise", period, "suppress_db=-30", 0), 0);
	assert_int_equal(rig_init(&c.st[1], "eq_iir", period,
				  "bands=highpass:80:0.707,peaking:3000:1:3", 0), 0);
	assert_int_equal(rig_init(&c.st[2], "drc", period,
				  "threshold_db=-18 ratio=3 attack_ms=5 release_ms=80 makeup_db=3",
				  0), 0);
	assert_int_equal(rig_init(&c.st[3], "src", period, NULL, 0), 0);
	rig_add_in(&c.st[0], &f48, 2 * period, 0);
	rig_add_out(&c.st[0], &s16, 2 * period, 7);
	rig_add_in(&c.st[1], &s16, 2 * period, 7);
	rig_add_out(&c.st[1], &s32, 2 * period, 100);
	rig_add_in(&c.st[2], &s32, 2 * period, 100);
	rig_add_out(&c.st[2], &s32, 2 * period, 300);
	rig_add_in(&c.st[3], &s32, 2 * period, 300);
	rig_add_out(&c.st[3], &o44, 2 * period, 5);
	for (unsigned i = 0; i < STAGES; i++)
		assert_int_equal(rig_prepare(&c.st[i]), 0);
	out_max = (size_t)((uint64_t)total * 44100 / 48000) + 2;
	out = calloc(out_max, sizeof(float));
	for (size_t done = 0; done < total; done += period) {
		rig_push(&c.st[0], 0, noisy + done, period);
		c.in_frames += period;
		chain_pump(&c, out, out_max);
	}
	/* Every stage ran once per period of input; nothing was lost. */
	for (unsigned i = 0; i < STAGES; i++)
		assert_int_equal(c.processed[i], total / period);
	assert_int_equal(c.out_frames, (total * 147 + 159) / 160);

	/* Voice region and noise-only tail, 0.1 s away from the edges (the
	 * chain's latency is a few ms). */
	{
		size_t v0 = 4800, v1 = n48 - 4800, t0 = n48 + 9600, t1 = total - 4800;
		double k = 44100.0 / 48000.0;
		double pn_in = power(noisy, t0, t1), pv_in = power(noisy, v0, v1);
		double pn_out = power(out, (size_t)(t0 * k), (size_t)(t1 * k));
		double pv_out = power(out, (size_t)(v0 * k), (size_t)(v1 * k));

		snr_in = 10 * log10((pv_in - pn_in) / pn_in);
		snr_out = 10 * log10((pv_out - pn_out) / pn_out);
		noise_drop = 10 * log10(pn_in / pn_out);
	}
	print_message("voice chain: %zu frames in at 48 kHz, %llu out at 44.1 kHz; "
		      "noise -%.1f dB, SNR %.1f -> %.1f dB\n",
		      total, (unsigned long long)c.out_frames, noise_drop, snr_in,
		      snr_out);
	assert_true(noise_drop > 10);
	assert_true(snr_out > snr_in + 6);
	for (unsigned i = 0; i < STAGES; i++)
		rig_free(&c.st[i]);
	free(voice);
	free(v48);
	free(noisy);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(voice_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
