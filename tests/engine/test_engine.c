/* SPDX-License-Identifier: MIT */
/*
 * The engine: buffers, the readiness rule, graph ordering with fan-in and
 * fan-out, state rules and refusals, and exact file round trips.
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

#include "host/graph/graph.h"
#include "host/io/io.h"
#include "host/libmgr/library.h"
#include "host/sched/sched.h"
#include "tests/common/wav.h"

static char err[512];

/* ---- test modules ---- */

/* Every process call appends the instance name here, so ordering can be
 * checked. */
static char calls[4096];

static void note(struct pt_module *mod)
{
	size_t used = strlen(calls);

	/* Only the first calls matter; the log stops when full. */
	if (used + PT_NAME_MAX + 2 < sizeof(calls))
		snprintf(calls + used, sizeof(calls) - used, "%s ", pt_mod_name(mod));
}

/* split: one input copied to two outputs (fan-out). Float only. */
static int split_process(struct pt_module *mod, struct pt_source *const *src,
			 unsigned nsrc, struct pt_sink *const *snk,
			 unsigned nsnk)
{
	size_t frame = pt_frame_bytes(pt_source_format(src[0]));
	size_t n = pt_mod_period_frames(mod) * frame;
	const void *d, *ds;
	void *o, *os;
	size_t dsz, osz;

	(void)nsrc;
	note(mod);
	assert_int_equal(pt_source_get_data(src[0], n, &d, &ds, &dsz), 0);
	for (unsigned k = 0; k < nsnk; k++) {
		assert_int_equal(pt_sink_get_buffer(snk[k], n, &o, &os, &osz), 0);
		for (size_t i = 0; i < n; i++) {
			size_t si = ((size_t)((const uint8_t *)d - (const uint8_t *)ds) + i) % dsz;
			size_t oi = ((size_t)((uint8_t *)o - (uint8_t *)os) + i) % osz;

			((uint8_t *)os)[oi] = ((const uint8_t *)ds)[si];
		}
		assert_int_equal(pt_sink_commit(snk[k], n), 0);
	}
	return pt_source_release(src[0], n);
}

/* sum: float inputs added sample by sample into one output (fan-in). */
static int sum_process(struct pt_module *mod, struct pt_source *const *src,
		       unsigned nsrc, struct pt_sink *const *snk, unsigned nsnk)
{
	const struct pt_format *f = pt_sink_format(snk[0]);
	size_t samples = pt_mod_period_frames(mod) * f->channels;
	void *o, *os;
	size_t osz;

	(void)nsnk;
	note(mod);
	assert_int_equal(pt_sink_get_buffer(snk[0], samples * 4, &o, &os, &osz), 0);
	for (size_t i = 0; i < samples; i++) {
		float acc = 0.0f;

		for (unsigned k = 0; k < nsrc; k++) {
			const void *d, *ds;
			size_t dsz;

			assert_int_equal(pt_source_get_data(src[k], samples * 4, &d,
							    &ds, &dsz), 0);
			acc += ((const float *)ds)[(((size_t)((const uint8_t *)d -
							       (const uint8_t *)ds)) / 4 + i) %
						      (dsz / 4)];
		}
		((float *)os)[(((size_t)((uint8_t *)o - (uint8_t *)os)) / 4 + i) %
			      (osz / 4)] = acc;
	}
	for (unsigned k = 0; k < nsrc; k++)
		assert_int_equal(pt_source_release(src[k], samples * 4), 0);
	return pt_sink_commit(snk[0], samples * 4);
}

/* half: writes half a period per call (a producer slower than its reader). */
static int half_process(struct pt_module *mod, struct pt_source *const *src,
			unsigned nsrc, struct pt_sink *const *snk, unsigned nsnk)
{
	(void)src;
	(void)nsrc;
	(void)nsnk;
	note(mod);
	return pt_sink_fill_silence(snk[0], pt_mod_period_frames(mod) / 2) ? -ENOSPC :
			     0;
}

/* fails: process always fails, to show the period is covered. */
static int fails_process(struct pt_module *mod, struct pt_source *const *src,
			 unsigned nsrc, struct pt_sink *const *snk,
			 unsigned nsnk)
{
	(void)src;
	(void)nsrc;
	(void)snk;
	(void)nsnk;
	pt_log(mod, PT_LOG_ERR, "deliberate failure");
	return -EIO;
}

static const struct pt_module_ops split_ops = { .process = split_process };
static const struct pt_module_ops sum_ops = { .process = sum_process };
static const struct pt_module_ops half_ops = { .process = half_process };
static const struct pt_module_ops fails_ops = { .process = fails_process };

#define MANIFEST(n, srcs, snks)                                                \
	{ .magic = PT_MANIFEST_MAGIC, .abi_version = PT_ABI_VERSION, .name = n, \
	  .heap_size = 4096, .max_sources = srcs, .max_sinks = snks }

static const struct pt_manifest split_m = MANIFEST("split", 1, 2);
static const struct pt_manifest sum_m = MANIFEST("sum", 2, 1);
static const struct pt_manifest half_m = MANIFEST("half", 0, 1);
static const struct pt_manifest fails_m = MANIFEST("fails", 1, 1);
static const struct pt_module_entry split_e = { &split_m, &split_ops };
static const struct pt_module_entry sum_e = { &sum_m, &sum_ops };
static const struct pt_module_entry half_e = { &half_m, &half_ops };
static const struct pt_module_entry fails_e = { &fails_m, &fails_ops };

/* ---- helpers ---- */

static struct pt_graph *new_graph(uint32_t rate, size_t heap)
{
	/* One period per step, so per-period behaviour can be checked. */
	struct pt_graph_config cfg = { .rate = rate, .period_us = 1000,
				       .user_heap_size = heap, .offline = true,
				       .dp_batch = 1 };
	struct pt_graph *g = pt_graph_new(&cfg, err, sizeof(err));

	assert_non_null(g);
	assert_int_equal(pt_graph_add_module(g, &split_e, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_add_module(g, &sum_e, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_add_module(g, &half_e, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_add_module(g, &fails_e, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_pipeline_create(g, 1, "main", err, sizeof(err)), 0);
	return g;
}

static int add(struct pt_graph *g, uint32_t id, const char *name,
	       const char *module, const char *params)
{
	struct pt_instance_desc d = { .id = id, .pipeline = 1, .name = name,
				      .module = module, .init = params,
				      .init_size = params ? strlen(params) : 0 };

	return pt_graph_instance_create(g, &d, err, sizeof(err));
}

static void temp_path(char *out, size_t len, const char *tag)
{
	snprintf(out, len, "/tmp/pt-engine-%d-%s.wav", (int)getpid(), tag);
}

/* Writes @frames frames of a ramp that changes every sample, so a lost or
 * repeated sample shows. */
static void write_ramp(const char *path, int subformat, int channels,
		       sf_count_t frames)
{
	SF_INFO info = { .samplerate = 48000, .channels = channels,
			 .format = SF_FORMAT_WAV | subformat };
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	int *buf = malloc(sizeof(int) * (size_t)(frames * channels));

	assert_non_null(sf);
	assert_non_null(buf);
	for (sf_count_t i = 0; i < frames * channels; i++)
		buf[i] = (int)((uint32_t)(i * 2654435761u) & 0xffffff00u);
	assert_int_equal(sf_writef_int(sf, buf, frames), frames);
	sf_close(sf);
	free(buf);
}

static uint64_t run_to_end(struct pt_graph *g, struct pt_sched *s)
{
	struct pt_instance *inst;
	bool done = false;

	while (!done) {
		assert_true(pt_sched_periods(s) < 100000);
		assert_int_equal(pt_sched_period(s), 0);
		done = true;
		for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++)
			if (pt_io_is_output(inst) && !pt_io_output_done(inst))
				done = false;
	}
	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++)
		if (pt_io_is_output(inst))
			assert_int_equal(pt_io_output_close(inst, err, sizeof(err)), 0);
	return pt_sched_periods(s);
}

/* ---- tests ---- */

/* A source view that wraps: get_data points at the tail, release moves
 * only the view; the copy follows the wrap on both sides. */
static void test_views_wrap(void **state)
{
	uint8_t a[48], b[48];
	struct pt_format f = { 48000, 2, PT_SAMPLE_S16_LE }; /* 4-byte frames */
	struct pt_source src;
	struct pt_sink sink;
	const void *d, *ds;
	size_t dsz;

	(void)state;
	for (unsigned i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)i;
	memset(b, 0xee, sizeof(b));
	/* 16 bytes readable starting 8 bytes before the end. */
	pt_source_view(&src, a, sizeof(a), 40, 16, &f);
	assert_int_equal(pt_source_available(&src), 16);
	assert_int_equal(pt_source_frames_available(&src), 4);
	assert_int_equal(pt_source_get_data(&src, 16, &d, &ds, &dsz), 0);
	assert_ptr_equal(d, a + 40);
	assert_ptr_equal(ds, a);
	assert_int_equal(dsz, 48);
	assert_int_equal(pt_source_get_data(&src, 20, &d, &ds, &dsz), -ENODATA);
	/* A sink whose free space also wraps. */
	pt_sink_view(&sink, b, sizeof(b), 44, 16, &f);
	assert_int_equal(pt_copy_stream(&src, &sink, 16), 0);
	assert_int_equal(src.consumed, 16);
	assert_int_equal(sink.produced, 16);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(b[(44 + i) % 48], a[(40 + i) % 48]);
	/* Releases beyond what is there, or of part of a frame, are refused. */
	pt_source_view(&src, a, sizeof(a), 0, 8, &f);
	assert_int_equal(pt_source_release(&src, 12), -EINVAL);
	assert_int_equal(pt_source_release(&src, 2), -EINVAL);
	assert_int_equal(pt_source_release(&src, 8), 0);
	pt_sink_view(&sink, b, sizeof(b), 0, 8, &f);
	assert_int_equal(pt_sink_commit(&sink, 12), -EINVAL);
	assert_int_equal(pt_sink_commit(&sink, 3), -EINVAL);
}

static void test_default_ready(void **state)
{
	uint8_t mem[4096] = { 0 };
	struct pt_format f = { 48000, 1, PT_SAMPLE_S32_LE };
	struct pt_source src, *srcp = &src;
	struct pt_sink sink, *sinkp = &sink;

	(void)state;
	pt_source_view(&src, mem, 2048, 0, 48 * 4, &f);
	pt_sink_view(&sink, mem + 2048, 2048, 0, 48 * 4, &f);
	assert_true(pt_default_ready(48, &srcp, 1, &sinkp, 1));
	pt_source_view(&src, mem, 2048, 0, 47 * 4, &f);
	assert_false(pt_default_ready(48, &srcp, 1, &sinkp, 1));
	pt_source_view(&src, mem, 2048, 0, 48 * 4, &f);
	pt_sink_view(&sink, mem + 2048, 2048, 0, 47 * 4, &f);
	assert_false(pt_default_ready(48, &srcp, 1, &sinkp, 1));
	/* A generator with room is ready; a sink-less reader with data is. */
	pt_sink_view(&sink, mem + 2048, 2048, 0, 48 * 4, &f);
	assert_true(pt_default_ready(48, NULL, 0, &sinkp, 1));
	assert_true(pt_default_ready(48, &srcp, 1, NULL, 0));
}

/* The scheduler applies the rule: a reader behind a producer of half a
 * period per call runs every second period. */
static void test_ready_in_graph(void **state)
{
	struct pt_graph *g = new_graph(48000, 0);
	struct pt_format f = { 48000, 1, PT_SAMPLE_FLOAT_LE };
	struct pt_sched *s;
	struct pt_instance *reader;

	(void)state;
	/* Every pin 0 must be bound before the pipeline leaves RESET. */
	assert_int_equal(add(g, 1, "gen", "half", NULL), 0);
	assert_int_equal(add(g, 2, "mid", "split", NULL), 0);
	assert_int_equal(pt_graph_bind(g, 1, 0, 2, 0, &f, 4, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_PAUSED, err, sizeof(err)),
			 -ENOTCONN);
	assert_non_null(strstr(err, "'mid'"));
	assert_int_equal(pt_graph_pipeline_state(g, 1), PT_STATE_RESET);
	pt_graph_free(g);

	/* Readiness with a real endpoint: gen (half a period per call) feeds
	 * split, whose first output goes to sum. */
	g = new_graph(48000, 0);
	{
		char path[128];
		char p[160];

		temp_path(path, sizeof(path), "ready");
		snprintf(p, sizeof(p), "file=%s", path);
		assert_int_equal(add(g, 1, "gen", "half", NULL), 0);
		assert_int_equal(add(g, 2, "reader", "split", NULL), 0);
		assert_int_equal(add(g, 3, "a", "output", p), 0);
		assert_int_equal(add(g, 4, "b", "output", p), 0);
		assert_int_equal(pt_graph_bind(g, 1, 0, 2, 0, &f, 4, err, sizeof(err)), 0);
		assert_int_equal(pt_graph_bind(g, 2, 0, 3, 0, &f, 4, err, sizeof(err)), 0);
		assert_int_equal(pt_graph_bind(g, 2, 1, 4, 0, &f, 4, err, sizeof(err)), 0);
		assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_PAUSED, err, sizeof(err)), 0);
		assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_RUNNING, err, sizeof(err)), 0);
		s = pt_sched_new(g, err, sizeof(err));
		assert_non_null(s);
		for (int i = 0; i < 100; i++)
			assert_int_equal(pt_sched_period(s), 0);
		reader = pt_graph_instance_by_name(g, "reader");
		assert_int_equal(reader->stats.periods, 50);
		assert_int_equal(pt_graph_instance_by_name(g, "gen")->stats.periods, 100);
		pt_sched_free(s);
		pt_graph_free(g);
		unlink(path);
	}
}

/* Fan-out and fan-in, created in an order that is not the data order: each
 * writer runs before its reader in every period, and the sum is twice the
 * input. */
static void test_order_fan(void **state)
{
	char in[128], out[128], p[160];
	struct pt_format f = { 48000, 2, PT_SAMPLE_FLOAT_LE };
	struct pt_graph *g;
	struct pt_sched *s;
	SF_INFO info;
	SNDFILE *sf;
	float *x, *y;
	sf_count_t n = 4800 + 17;

	(void)state;
	temp_path(in, sizeof(in), "fan-in");
	temp_path(out, sizeof(out), "fan-out");
	x = malloc(sizeof(float) * (size_t)n * 2);
	for (sf_count_t i = 0; i < n * 2; i++)
		x[i] = (float)((i % 97) - 48) / 128.0f;
	pt_test_wav_write_float(in, 48000, 2, x, n);

	g = new_graph(48000, 0);
	snprintf(p, sizeof(p), "file=%s", out);
	assert_int_equal(add(g, 1, "out", "output", p), 0);
	assert_int_equal(add(g, 2, "join", "sum", NULL), 0);
	assert_int_equal(add(g, 3, "fork", "split", NULL), 0);
	snprintf(p, sizeof(p), "file=%s", in);
	assert_int_equal(add(g, 4, "in", "input", p), 0);
	assert_int_equal(pt_graph_bind(g, 2, 0, 1, 0, &f, 0, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_bind(g, 3, 1, 2, 1, &f, 0, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_bind(g, 3, 0, 2, 0, &f, 0, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_bind(g, 4, 0, 3, 0, &f, 0, err, sizeof(err)), 0);
	/* A pin takes one binding. */
	assert_int_equal(pt_graph_bind(g, 2, 0, 3, 0, &f, 0, err, sizeof(err)), -EBUSY);
	assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_PAUSED, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_RUNNING, err, sizeof(err)), 0);
	/* No binding while running. */
	assert_int_equal(pt_graph_unbind(g, 4, 0, 3, 0, err, sizeof(err)), -EBUSY);
	s = pt_sched_new(g, err, sizeof(err));
	pt_io_output_length(pt_graph_instance(g, 1), (uint64_t)n);
	calls[0] = 0;
	for (int i = 0; i < 3; i++)
		assert_int_equal(pt_sched_period(s), 0);
	assert_string_equal(calls, "fork join fork join fork join ");
	run_to_end(g, s);
	pt_sched_free(s);
	pt_graph_free(g);

	memset(&info, 0, sizeof(info));
	sf = sf_open(out, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.frames, n);
	y = malloc(sizeof(float) * (size_t)n * 2);
	assert_int_equal(sf_readf_float(sf, y, n), n);
	sf_close(sf);
	for (sf_count_t i = 0; i < n * 2; i++)
		assert_true(y[i] == 2.0f * x[i]);
	free(x);
	free(y);
	unlink(in);
	unlink(out);
}

static void test_refusals(void **state)
{
	struct pt_graph *g = new_graph(48000, 0);
	struct pt_format f = { 48000, 2, PT_SAMPLE_FLOAT_LE };
	struct pt_format bad = { 48000, 9, PT_SAMPLE_FLOAT_LE };
	struct pt_instance_desc d = { .id = 9, .pipeline = 1, .name = "x",
				      .module = "split" };

	(void)state;
	assert_int_equal(add(g, 1, "a", "split", NULL), 0);
	assert_int_equal(add(g, 2, "b", "split", NULL), 0);
	assert_int_equal(add(g, 1, "c", "split", NULL), -EEXIST);
	assert_int_equal(add(g, 3, "a", "split", NULL), -EEXIST);
	assert_int_equal(add(g, 3, "c", "nosuchmodule", NULL), -ENOENT);
	assert_non_null(strstr(err, "nosuchmodule"));
	assert_int_equal(add(g, 3, "has space", "split", NULL), -EINVAL);
	d.pipeline = 7;
	assert_int_equal(pt_graph_instance_create(g, &d, err, sizeof(err)), -ENOENT);
	assert_int_equal(pt_graph_bind(g, 1, 0, 2, 0, &bad, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "channels 9"));
	assert_int_equal(pt_graph_bind(g, 1, 5, 2, 0, &f, 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(pt_graph_bind(g, 1, 0, 2, 1, &f, 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(pt_graph_bind(g, 1, 0, 1, 0, &f, 0, err, sizeof(err)), -ELOOP);
	assert_int_equal(pt_graph_bind(g, 1, 0, 2, 0, &f, 0, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_bind(g, 2, 0, 1, 0, &f, 0, err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, "cycle"));
	assert_int_equal(pt_graph_bind(g, 1, 0, 2, 0, &f, 0, err, sizeof(err)), -EBUSY);
	assert_int_equal(pt_graph_instance_delete(g, 1, err, sizeof(err)), -EBUSY);
	assert_int_equal(pt_graph_pipeline_delete(g, 1, err, sizeof(err)), -EBUSY);
	assert_non_null(pt_graph_buffer_at(g, 0));
	assert_null(pt_graph_buffer_at(g, 1));
	assert_int_equal(pt_graph_set_state(g, 1, 7, err, sizeof(err)), -EINVAL);
	assert_int_equal(pt_graph_set_state(g, 2, PT_STATE_RUNNING, err, sizeof(err)),
			 -ENOENT);
	pt_graph_free(g);
}

/* Instances and buffers come out of the user heap budget; running out is an
 * error that names the instance and the sizes. */
static void test_budget(void **state)
{
	struct pt_graph *g = new_graph(48000, 256 * 1024);
	struct pt_instance_desc d = { .id = 5, .pipeline = 1, .name = "big",
				      .module = "split", .heap_size = 512 * 1024 };

	(void)state;
	assert_int_equal(pt_graph_instance_create(g, &d, err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, "user heap exhausted"));
	assert_non_null(strstr(err, "big"));
	assert_int_equal(pt_graph_budget(g)->used, 0);
	d.heap_size = 64 * 1024;
	assert_int_equal(pt_graph_instance_create(g, &d, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_budget(g)->used, 64 * 1024);
	assert_int_equal(pt_graph_instance_delete(g, 5, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_budget(g)->used, 0);
	pt_graph_free(g);
}

/* A module whose process fails leaves a period of silence, not a gap. */
static void test_failed_period(void **state)
{
	char in[128], out[128], p[160];
	struct pt_format f = { 48000, 1, PT_SAMPLE_S32_LE };
	struct pt_graph *g;
	struct pt_sched *s;
	SF_INFO info;
	int *y;

	(void)state;
	temp_path(in, sizeof(in), "fail-in");
	temp_path(out, sizeof(out), "fail-out");
	write_ramp(in, SF_FORMAT_PCM_32, 1, 4800);
	g = new_graph(48000, 0);
	snprintf(p, sizeof(p), "file=%s", in);
	assert_int_equal(add(g, 1, "in", "input", p), 0);
	assert_int_equal(add(g, 2, "bad", "fails", NULL), 0);
	snprintf(p, sizeof(p), "file=%s", out);
	assert_int_equal(add(g, 3, "out", "output", p), 0);
	assert_int_equal(pt_graph_bind(g, 1, 0, 2, 0, &f, 0, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_bind(g, 2, 0, 3, 0, &f, 0, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_PAUSED, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_RUNNING, err, sizeof(err)), 0);
	s = pt_sched_new(g, err, sizeof(err));
	pt_io_output_length(pt_graph_instance(g, 3), 4800);
	run_to_end(g, s);
	assert_int_equal(pt_graph_instance(g, 2)->stats.faults, 100);
	assert_string_equal(pt_graph_instance(g, 2)->last_error, "deliberate failure");
	pt_sched_free(s);
	pt_graph_free(g);
	y = pt_test_wav_read_int(out, &info);
	assert_int_equal(info.frames, 4800);
	for (int i = 0; i < 4800; i++)
		assert_int_equal(y[i], 0);
	free(y);
	unlink(in);
	unlink(out);
}

/* input -> output in every stream format, with a length that is not a
 * whole number of periods and buffers of two periods (so every position
 * wraps many times): the file comes out with the same samples and the same
 * length. */
static void roundtrip(int subformat, unsigned sample, int channels)
{
	char in[128], out[128], p[160];
	struct pt_format f = { 48000, (uint16_t)channels, (uint16_t)sample };
	struct pt_graph *g;
	struct pt_sched *s;
	SF_INFO a, b;
	int *x, *y;
	const sf_count_t n = 48000 / 2 + 37;

	temp_path(in, sizeof(in), "rt-in");
	temp_path(out, sizeof(out), "rt-out");
	write_ramp(in, subformat, channels, n);
	g = new_graph(48000, 0);
	snprintf(p, sizeof(p), "file=%s", in);
	assert_int_equal(add(g, 1, "in", "input", p), 0);
	snprintf(p, sizeof(p), "file=%s", out);
	assert_int_equal(add(g, 2, "out", "output", p), 0);
	assert_int_equal(pt_graph_bind(g, 1, 0, 2, 0, &f, 0, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_PAUSED, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_RUNNING, err, sizeof(err)), 0);
	s = pt_sched_new(g, err, sizeof(err));
	pt_io_output_length(pt_graph_instance(g, 2), (uint64_t)n);
	run_to_end(g, s);
	pt_sched_free(s);
	pt_graph_free(g);
	x = pt_test_wav_read_int(in, &a);
	y = pt_test_wav_read_int(out, &b);
	assert_int_equal(b.frames, n);
	assert_int_equal(b.channels, channels);
	assert_memory_equal(x, y, sizeof(int) * (size_t)(n * channels));
	free(x);
	free(y);
	unlink(in);
	unlink(out);
}

static void test_roundtrip_s16(void **state)
{
	(void)state;
	roundtrip(SF_FORMAT_PCM_16, PT_SAMPLE_S16_LE, 2);
}

static void test_roundtrip_s24(void **state)
{
	(void)state;
	roundtrip(SF_FORMAT_PCM_24, PT_SAMPLE_S24_4LE, 3);
}

static void test_roundtrip_s32(void **state)
{
	(void)state;
	roundtrip(SF_FORMAT_PCM_32, PT_SAMPLE_S32_LE, 1);
}

static void test_roundtrip_float(void **state)
{
	(void)state;
	roundtrip(SF_FORMAT_FLOAT, PT_SAMPLE_FLOAT_LE, 8);
}

/* What is checked is what is loaded: an instance made from a snapshot of
 * one library runs that library, whatever the path says by then. */
static void test_library_snapshot(void **state)
{
	const char *build = getenv("PARTITA_BUILD");
	char gain[1024], tone[1024];
	struct pt_graph *g = new_graph(48000, 0);
	struct pt_instance_desc d = { .id = 1, .pipeline = 1, .name = "lib",
				      .init = "gain_db=-6", .init_size = 10,
				      .isolation = PT_ISOLATION_PROCESS,
				      .isolation_set = true };
	int fd = -1;

	(void)state;
	snprintf(gain, sizeof(gain), "%s/modules/pt_gain.so", build ? build : "..");
	snprintf(tone, sizeof(tone), "%s/modules/pt_tone.so", build ? build : "..");
	assert_int_equal(pt_library_snapshot(gain, &fd, err, sizeof(err)), 0);
	/* The path now names another library: the snapshot wins. */
	d.library = tone;
	d.library_fd = fd;
	d.library_fd_set = true;
	if (pt_graph_instance_create(g, &d, err, sizeof(err)))
		fail_msg("%s", err);
	close(fd);
	assert_string_equal(pt_graph_instance(g, 1)->manifest.name, "gain");
	assert_int_equal(pt_graph_instance(g, 1)->manifest.max_sources, 1);
	/* And a snapshot is sealed: nobody can write it any more. */
	assert_int_equal(pt_library_snapshot(tone, &fd, err, sizeof(err)), 0);
	assert_int_equal(write(fd, "x", 1), -1);
	assert_int_equal(ftruncate(fd, 0), -1);
	close(fd);
	pt_graph_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_views_wrap),
		cmocka_unit_test(test_default_ready),
		cmocka_unit_test(test_ready_in_graph),
		cmocka_unit_test(test_order_fan),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_failed_period),
		cmocka_unit_test(test_roundtrip_s16),
		cmocka_unit_test(test_roundtrip_s24),
		cmocka_unit_test(test_roundtrip_s32),
		cmocka_unit_test(test_roundtrip_float),
		cmocka_unit_test(test_library_snapshot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
