/* SPDX-License-Identifier: MIT */
/*
 * The ALSA endpoints, in process, on devices that need no sound card:
 *  - null: ALSA's discard/zero device (unpaced);
 *  - ptclock: the test plugin of pcm_ptclock.c, a device with a clock that
 *    paces, underruns and takes only S16_LE/S32_LE; ptbusy is the same with
 *    an exclusive lock, so it can be busy;
 *  - ptfileplay / ptfilecap: ALSA's file plugin over null, which writes
 *    what is played to a file and captures what a file holds.
 * The devices are defined in a config file written under the build tree and
 * named by ALSA_CONFIG_PATH, set before the first ALSA call.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <alsa/asoundlib.h>
#include <cmocka.h>
#include <sndfile.h>

#include "host/graph/graph.h"
#include "host/io/alsa.h"
#include "host/io/io.h"
#include "host/sched/sched.h"

#define RATE 48000
#define PERIOD 48 /* frames of a 1 ms period at 48 kHz */

static char err[512];
static char dir[1024]; /* this test's files, under the build tree */

static void path_in_dir(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

/* ---- a test module: silence, with one stall ---- */

static int stall_at = -1;      /* period at which the source stalls */
static unsigned stall_ms = 30;
static int stall_period;

/* 0 sources, 1 sink: a period of silence per call; at period stall_at it
 * first sleeps, as a module that misses its deadline would. */
static int stall_process(struct pt_module *mod, struct pt_source *const *src,
			 unsigned nsrc, struct pt_sink *const *snk,
			 unsigned nsnk)
{
	(void)src;
	(void)nsrc;
	(void)nsnk;
	if (stall_period++ == stall_at) {
		struct timespec ts = { 0, (long)stall_ms * 1000000L };

		nanosleep(&ts, NULL);
	}
	return pt_sink_fill_silence(snk[0], pt_mod_period_frames(mod)) ? -ENOSPC : 0;
}

static const struct pt_module_ops stall_ops = { .process = stall_process };
static const struct pt_manifest stall_manifest = {
	.magic = PT_MANIFEST_MAGIC,
	.abi_version = PT_ABI_VERSION,
	.name = "stall",
	.version = PT_VERSION(1, 0, 0),
	.heap_size = 4096,
	.max_sources = 0,
	.max_sinks = 1,
};
static const struct pt_module_entry stall_entry = { &stall_manifest, &stall_ops };

/* 1 source, 0 sinks: drains a period per call; at period stall_at it first
 * sleeps, so a capture before it overruns. */
static int drain_process(struct pt_module *mod, struct pt_source *const *src,
			 unsigned nsrc, struct pt_sink *const *snk,
			 unsigned nsnk)
{
	size_t bytes = pt_mod_period_frames(mod) *
		       pt_frame_bytes(pt_source_format(src[0]));

	(void)nsrc;
	(void)snk;
	(void)nsnk;
	if (stall_period++ == stall_at) {
		struct timespec ts = { 0, (long)stall_ms * 1000000L };

		nanosleep(&ts, NULL);
	}
	return pt_source_release(src[0], bytes);
}

static const struct pt_module_ops drain_ops = { .process = drain_process };
static const struct pt_manifest drain_manifest = {
	.magic = PT_MANIFEST_MAGIC,
	.abi_version = PT_ABI_VERSION,
	.name = "drain",
	.version = PT_VERSION(1, 0, 0),
	.heap_size = 4096,
	.max_sources = 1,
	.max_sinks = 0,
};
static const struct pt_module_entry drain_entry = { &drain_manifest, &drain_ops };

/* ---- graph helpers ---- */

static struct pt_graph *graph_new(void)
{
	struct pt_graph_config cfg = { .rate = RATE, .period_us = 1000 };
	struct pt_graph *g = pt_graph_new(&cfg, err, sizeof(err));

	assert_non_null(g);
	assert_int_equal(pt_graph_add_module(g, &stall_entry, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_add_module(g, &drain_entry, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_pipeline_create(g, 1, "p", err, sizeof(err)), 0);
	return g;
}

static int instance(struct pt_graph *g, uint32_t id, const char *name,
		    const char *module, const char *params)
{
	struct pt_instance_desc d = {
		.id = id,
		.pipeline = 1,
		.name = name,
		.module = module,
		.init = params,
		.init_size = strlen(params),
	};

	err[0] = 0;
	return pt_graph_instance_create(g, &d, err, sizeof(err));
}

/* A two-instance chain @a -> @b in @fmt, started. */
static struct pt_graph *chain(const char *a_mod, const char *a_params,
			      const char *b_mod, const char *b_params,
			      const struct pt_format *fmt)
{
	struct pt_graph *g = graph_new();

	if (instance(g, 1, "a", a_mod, a_params))
		fail_msg("creating %s: %s", a_mod, err);
	if (instance(g, 2, "b", b_mod, b_params))
		fail_msg("creating %s: %s", b_mod, err);
	assert_int_equal(pt_graph_bind(g, 1, 0, 2, 0, fmt, 0, err, sizeof(err)), 0);
	if (pt_graph_set_state(g, 1, PT_STATE_PAUSED, err, sizeof(err)) ||
	    pt_graph_set_state(g, 1, PT_STATE_RUNNING, err, sizeof(err)))
		fail_msg("starting: %s", err);
	return g;
}

static void run_periods(struct pt_graph *g, unsigned n)
{
	struct pt_sched *s = pt_sched_new(g, err, sizeof(err));

	assert_non_null(s);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(pt_sched_period(s), 0);
	assert_int_equal(pt_sched_periods(s), n);
	pt_sched_free(s);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const struct pt_format s32 = { RATE, 2, PT_SAMPLE_S32_LE };

/* ---- tests ---- */

/* The demo's format to null: every period is written, the sizes the
 * device agreed to are reported, nothing underruns. */
static void null_playback(void **state)
{
	struct pt_graph *g;
	struct pt_instance *out;
	uint32_t period = 0, buffer = 0;

	(void)state;
	g = chain("tone", "wave=sine freq=440", "playback", "device=null", &s32);
	out = pt_graph_instance(g, 2);
	assert_true(pt_alsa_is_playback(out));
	assert_string_equal(pt_alsa_device(out), "null");
	assert_int_equal(pt_alsa_sizes(out, &period, &buffer), 0);
	assert_int_equal(period, PERIOD);
	assert_int_equal(buffer, 4 * PERIOD);
	run_periods(g, 500);
	assert_int_equal(out->stats.periods, 500);
	assert_int_equal(pt_alsa_frames(out), 500 * PERIOD);
	assert_int_equal(pt_alsa_xruns(out), 0);
	assert_int_equal(out->stats.faults, 0);
	pt_graph_free(g);
}

/* period_us and buffer_us reach the device. */
static void sizes_from_params(void **state)
{
	struct pt_graph *g;
	uint32_t period = 0, buffer = 0;

	(void)state;
	g = chain("tone", "wave=sine freq=440", "playback",
		  "device=null period_us=2000 buffer_us=10000", &s32);
	assert_int_equal(pt_alsa_sizes(pt_graph_instance(g, 2), &period, &buffer), 0);
	assert_int_equal(period, 96);
	assert_int_equal(buffer, 480);
	pt_graph_free(g);
}

/* A device with a clock paces the graph, and a writer that stalls past the
 * buffer underruns: the xrun is recovered and counted, and every period is
 * still played. */
static void clock_paces_and_xrun_recovers(void **state)
{
	struct pt_graph *g;
	struct pt_instance *out;
	double t0, took;

	(void)state;
	stall_period = 0;
	stall_at = 200;
	/* The buffer holds 10 ms, so the machine's own hiccups rarely
	 * underrun it; the stall surely does. */
	stall_ms = 60;
	g = chain("stall", "", "playback", "device=ptclock buffer_us=10000", &s32);
	out = pt_graph_instance(g, 2);
	t0 = now_s();
	run_periods(g, 400);
	took = now_s() - t0;
	assert_true(pt_alsa_xruns(out) >= 1);
	assert_int_equal(pt_alsa_frames(out), 400 * PERIOD);
	assert_int_equal(out->stats.periods, 400);
	assert_int_equal(out->stats.faults, 0);
	/* Not a timing test, a pacing one: a device that paces cannot let
	 * 400 periods of 1 ms through in much less than 0.4 s (the buffer
	 * lets 10 run ahead). */
	assert_true(took > 0.3);
	stall_at = -1;
	pt_graph_free(g);
}

/* Without a stall the clock device plays a second's worth without xruns
 * when the machine keeps up; what must hold on any machine is that every
 * period arrives and an xrun, if any, is recovered. */
static void clock_plays_everything(void **state)
{
	struct pt_graph *g;
	struct pt_instance *out;

	(void)state;
	g = chain("tone", "wave=sine freq=440", "playback",
		  "device=ptclock buffer_us=20000", &s32);
	out = pt_graph_instance(g, 2);
	run_periods(g, 300);
	assert_int_equal(pt_alsa_frames(out), 300 * PERIOD);
	assert_int_equal(out->stats.faults, 0);
	pt_graph_free(g);
}

/* A capture whose reader stalls past the buffer overruns: recovered,
 * counted, and every period still delivered. */
static void capture_overrun_recovers(void **state)
{
	struct pt_graph *g;
	struct pt_instance *in;

	(void)state;
	stall_period = 0;
	stall_at = 100;
	stall_ms = 60; /* the buffer holds 10 ms */
	g = chain("capture", "device=ptclock buffer_us=10000", "drain", "", &s32);
	in = pt_graph_instance(g, 1);
	run_periods(g, 300);
	assert_true(pt_alsa_xruns(in) >= 1);
	assert_int_equal(pt_alsa_frames(in), 300 * PERIOD);
	assert_int_equal(in->stats.periods, 300);
	assert_int_equal(in->stats.faults, 0);
	assert_int_equal(pt_graph_instance(g, 2)->stats.periods, 300);
	stall_at = -1;
	pt_graph_free(g);
}

/* Capture from null: a period of silence per call. */
static void null_capture(void **state)
{
	struct pt_graph *g;
	struct pt_instance *in;
	char out[1100], p[1200];

	(void)state;
	path_in_dir(out, sizeof(out), "null-capture.wav");
	snprintf(p, sizeof(p), "file=%s", out);
	g = chain("capture", "device=null", "output", p, &s32);
	in = pt_graph_instance(g, 1);
	assert_true(pt_alsa_is_capture(in));
	run_periods(g, 100);
	assert_int_equal(pt_alsa_frames(in), 100 * PERIOD);
	assert_int_equal(in->stats.faults, 0);
	assert_int_equal(pt_io_output_written(pt_graph_instance(g, 2)), 100 * PERIOD);
	pt_graph_free(g);
}

static int32_t ramp(size_t i)
{
	return (int32_t)(i * 2654435761u); /* every sample distinct */
}

/* Capture through the file plugin: what the device's file holds arrives
 * in the graph exactly. */
static void file_capture_exact(void **state)
{
	const size_t frames = 100 * PERIOD;
	char raw[1100], wav[1100], p[1200];
	struct pt_graph *g;
	int32_t *buf = malloc(frames * 2 * sizeof(int32_t));
	SF_INFO info = { 0 };
	SNDFILE *sf;
	FILE *f;

	(void)state;
	assert_non_null(buf);
	path_in_dir(raw, sizeof(raw), "capture-in.raw");
	path_in_dir(wav, sizeof(wav), "file-capture.wav");
	f = fopen(raw, "wb");
	assert_non_null(f);
	for (size_t i = 0; i < frames * 2; i++)
		buf[i] = ramp(i);
	assert_int_equal(fwrite(buf, sizeof(int32_t), frames * 2, f), frames * 2);
	fclose(f);

	snprintf(p, sizeof(p), "file=%s", wav);
	g = chain("capture", "device=ptfilecap", "output", p, &s32);
	pt_io_output_length(pt_graph_instance(g, 2), frames);
	run_periods(g, 100);
	assert_int_equal(pt_alsa_frames(pt_graph_instance(g, 1)), frames);
	assert_int_equal(pt_io_output_close(pt_graph_instance(g, 2), err, sizeof(err)), 0);
	pt_graph_free(g);

	memset(buf, 0, frames * 2 * sizeof(int32_t));
	sf = sf_open(wav, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.frames, frames);
	assert_int_equal(sf_readf_int(sf, buf, (sf_count_t)frames), frames);
	sf_close(sf);
	for (size_t i = 0; i < frames * 2; i++)
		if (buf[i] != ramp(i))
			fail_msg("sample %zu: %d, want %d", i, buf[i], ramp(i));
	free(buf);
}

/* Playback through the file plugin, in every sample format: the device's
 * file holds exactly the bytes the same graph writes to a wav file (read
 * back in the stream's own representation). */
static void file_playback_exact(void **state)
{
	static const unsigned samples[] = { PT_SAMPLE_S16_LE, PT_SAMPLE_S24_4LE,
					    PT_SAMPLE_S32_LE, PT_SAMPLE_FLOAT_LE };
	const size_t frames = 100 * PERIOD;
	char raw[1100], wav[1100], p[1200];

	(void)state;
	path_in_dir(raw, sizeof(raw), "played.raw");
	path_in_dir(wav, sizeof(wav), "played.wav");
	for (unsigned k = 0; k < sizeof(samples) / sizeof(samples[0]); k++) {
		const struct pt_format fmt = { RATE, 2, (uint16_t)samples[k] };
		size_t bytes = frames * pt_frame_bytes(&fmt);
		uint8_t *a = calloc(1, bytes), *b = calloc(1, bytes);
		struct pt_graph *g;
		SF_INFO info = { 0 };
		SNDFILE *sf;
		sf_count_t got;
		bool sound = false;
		FILE *f;

		assert_non_null(a);
		assert_non_null(b);
		unlink(raw);
		g = chain("tone", "wave=sine freq=997", "playback", "device=ptfileplay", &fmt);
		run_periods(g, 100);
		assert_int_equal(pt_alsa_frames(pt_graph_instance(g, 2)), frames);
		pt_graph_free(g); /* closing the device flushes its file */

		snprintf(p, sizeof(p), "file=%s", wav);
		g = chain("tone", "wave=sine freq=997", "output", p, &fmt);
		pt_io_output_length(pt_graph_instance(g, 2), frames);
		run_periods(g, 100);
		assert_int_equal(pt_io_output_close(pt_graph_instance(g, 2), err, sizeof(err)), 0);
		pt_graph_free(g);

		f = fopen(raw, "rb");
		assert_non_null(f);
		assert_int_equal(fread(a, 1, bytes, f), bytes);
		fclose(f);
		sf = sf_open(wav, SFM_READ, &info);
		assert_non_null(sf);
		switch (fmt.sample) {
		case PT_SAMPLE_S16_LE:
			got = sf_readf_short(sf, (short *)b, (sf_count_t)frames);
			break;
		case PT_SAMPLE_FLOAT_LE:
			got = sf_readf_float(sf, (float *)b, (sf_count_t)frames);
			break;
		default:
			got = sf_readf_int(sf, (int *)b, (sf_count_t)frames);
			/* libsndfile scales 24-bit samples to the top of the
			 * int; the stream keeps them in the low bits. */
			for (size_t i = 0; fmt.sample == PT_SAMPLE_S24_4LE && i < frames * 2; i++)
				((int32_t *)b)[i] >>= 8;
			break;
		}
		sf_close(sf);
		assert_int_equal(got, frames);
		if (memcmp(a, b, bytes))
			fail_msg("format %u: the device's file differs from the wav", fmt.sample);
		/* Not all silence: the comparison means something. */
		for (size_t i = 0; i < bytes && !sound; i++)
			sound = a[i] != 0;
		assert_true(sound);
		free(a);
		free(b);
	}
}

/* An unknown device is refused at instance creation, naming it. */
static void unknown_device(void **state)
{
	struct pt_graph *g = graph_new();

	(void)state;
	assert_int_not_equal(instance(g, 1, "out", "playback", "device=nosuch_pcm"), 0);
	assert_non_null(strstr(err, "'nosuch_pcm'"));
	assert_non_null(strstr(err, "cannot open playback device"));
	assert_int_not_equal(instance(g, 2, "in", "capture", "device=nosuch_pcm"), 0);
	assert_non_null(strstr(err, "cannot open capture device 'nosuch_pcm'"));
	/* Nothing was created: the graph goes on. */
	assert_null(pt_graph_instance(g, 1));
	assert_int_equal(instance(g, 1, "out", "playback", "device=null"), 0);
	pt_graph_free(g);
}

/* A device in use is refused at once (no waiting), naming it; once freed
 * it opens. */
static void busy_device(void **state)
{
	struct pt_graph *g = graph_new();
	int ret;

	(void)state;
	assert_int_equal(instance(g, 1, "first", "playback", "device=ptbusy"), 0);
	ret = instance(g, 2, "second", "playback", "device=ptbusy");
	assert_int_equal(ret, -EBUSY);
	assert_non_null(strstr(err, "'ptbusy'"));
	assert_non_null(strstr(err, "busy"));
	assert_int_equal(pt_graph_instance_delete(g, 1, err, sizeof(err)), 0);
	assert_int_equal(instance(g, 2, "second", "playback", "device=ptbusy"), 0);
	pt_graph_free(g);
}

/* A format the device refuses fails the start, naming device and format,
 * and leaves the pipeline in RESET. */
static void refused_format(void **state)
{
	const struct pt_format flt = { RATE, 2, PT_SAMPLE_FLOAT_LE };
	struct pt_graph *g = graph_new();

	(void)state;
	assert_int_equal(instance(g, 1, "a", "tone", "wave=sine"), 0);
	assert_int_equal(instance(g, 2, "b", "playback", "device=ptclock"), 0);
	assert_int_equal(pt_graph_bind(g, 1, 0, 2, 0, &flt, 0, err, sizeof(err)), 0);
	assert_int_not_equal(pt_graph_set_state(g, 1, PT_STATE_PAUSED, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "'ptclock'"));
	assert_non_null(strstr(err, "FLOAT_LE"));
	assert_int_equal(pt_graph_pipeline_state(g, 1), PT_STATE_RESET);
	pt_graph_free(g);
}

/* Bad init parameters are refused with what was wrong. */
static void bad_params(void **state)
{
	struct pt_graph *g = graph_new();

	(void)state;
	assert_int_equal(instance(g, 1, "a", "playback", ""), -EINVAL);
	assert_non_null(strstr(err, "no device= parameter"));
	assert_int_equal(instance(g, 1, "a", "playback",
				  "device=null period_us=5000 buffer_us=6000"),
			 -EINVAL);
	assert_non_null(strstr(err, "at least two periods"));
	assert_int_equal(instance(g, 1, "a", "capture", "device=null period_us=7"),
			 -EINVAL);
	assert_non_null(strstr(err, "period_us="));
	pt_graph_free(g);
}

static int setup(void **state)
{
	const char *build = getenv("PARTITA_BUILD");
	char conf[1200];
	FILE *f;

	(void)state;
	if (!build)
		build = ".";
	snprintf(dir, sizeof(dir), "%s/tests/live-alsa", build);
	mkdir(dir, 0700);
	path_in_dir(conf, sizeof(conf), "asound.conf");
	f = fopen(conf, "w");
	if (!f)
		return -1;
	fprintf(f,
		"pcm_type.ptclock { lib \"%s/tests/libasound_module_pcm_ptclock.so\" }\n"
		"pcm.ptclock { type ptclock }\n"
		"pcm.ptbusy { type ptclock lock \"%s/busy.lock\" }\n"
		"pcm.ptfileplay { type file slave.pcm null file \"%s/played.raw\" format raw }\n"
		"pcm.ptfilecap { type file slave.pcm null file \"/dev/null\" infile \"%s/capture-in.raw\" format raw }\n",
		build, dir, dir, dir);
	fclose(f);
	/* The system configuration first (it defines null and the plugin
	 * types), then the test devices. */
	snprintf(conf, sizeof(conf), "%s/alsa.conf:%s/asound.conf",
		 snd_config_topdir(), dir);
	setenv("ALSA_CONFIG_PATH", conf, 1);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(null_playback),
		cmocka_unit_test(sizes_from_params),
		cmocka_unit_test(clock_paces_and_xrun_recovers),
		cmocka_unit_test(clock_plays_everything),
		cmocka_unit_test(capture_overrun_recovers),
		cmocka_unit_test(null_capture),
		cmocka_unit_test(file_capture_exact),
		cmocka_unit_test(file_playback_exact),
		cmocka_unit_test(unknown_device),
		cmocka_unit_test(busy_device),
		cmocka_unit_test(refused_format),
		cmocka_unit_test(bad_params),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
