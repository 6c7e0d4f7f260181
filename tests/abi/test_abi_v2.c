/* SPDX-License-Identifier: MIT */
/*
 * Module ABI version 2 through the real graph and scheduler, trusted and in
 * a domain alike: bind/unbind with pin info, triggers from pipeline states,
 * the binary init payload, sink formats set at prepare (format: auto) seen
 * by the reader, frame alignment, the processing mode (the module's own and
 * the host's bypass); and version 1 libraries (shipped modules built
 * against the frozen version 1 header) giving the same output as their
 * version 2 builds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "host/graph/graph.h"
#include "host/io/io.h"
#include "host/sched/sched.h"
#include "tests/common/wav.h"

static char err[PT_ERR_MAX];
static char lib_dir[512], mod_dir[512];
static const enum pt_isolation isos[] = { PT_ISOLATION_NONE, PT_ISOLATION_PROCESS };

#define FRAMES 4800

static const char *lib(const char *dir, const char *name)
{
	static char path[4][600];
	static int k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", dir, name);
	return path[k];
}

static void temp_path(char *out, size_t len, const char *tag)
{
	snprintf(out, len, "/tmp/pt-abi2-%d-%s.wav", (int)getpid(), tag);
}

/* A stereo S32 ramp that changes every sample. */
static void write_input(const char *path)
{
	SF_INFO info = { .samplerate = 48000, .channels = 2,
			 .format = SF_FORMAT_WAV | SF_FORMAT_PCM_32 };
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	int buf[FRAMES * 2];

	assert_non_null(sf);
	for (int i = 0; i < FRAMES * 2; i++)
		buf[i] = (int)((uint32_t)(i * 2654435761u) & 0xffffff00u) / 4;
	assert_int_equal(sf_writef_int(sf, buf, FRAMES), FRAMES);
	sf_close(sf);
}

static struct pt_graph *new_graph(void)
{
	struct pt_graph_config cfg = { .rate = 48000, .period_us = 1000,
				       .offline = true };
	struct pt_graph *g = pt_graph_new(&cfg, err, sizeof(err));

	assert_non_null(g);
	assert_int_equal(pt_graph_pipeline_create(g, 1, "main", err, sizeof(err)), 0);
	return g;
}

static int add_lib(struct pt_graph *g, uint32_t id, const char *name,
		   const char *library, enum pt_isolation iso, const char *params,
		   const void *payload, size_t payload_size)
{
	struct pt_instance_desc d = {
		.id = id, .pipeline = 1, .name = name, .library = library,
		.isolation = iso, .isolation_set = true, .init = params,
		.init_size = params ? strlen(params) : 0, .init_payload = payload,
		.init_payload_size = payload_size, .max_misses = 1000,
		.deadline_us = 1000000,
	};

	int ret = pt_graph_instance_create(g, &d, err, sizeof(err));

	/* isolated means a domain of its own */
	if (!ret)
		assert_true((pt_graph_instance(g, id)->domain_pid > 0) ==
			    (iso == PT_ISOLATION_PROCESS));
	return ret;
}

static void add_endpoints(struct pt_graph *g, const char *in, const char *out)
{
	char p[300];
	struct pt_instance_desc d = { .id = 1, .pipeline = 1, .name = "in",
				      .module = "input" };

	snprintf(p, sizeof(p), "file=%s", in);
	d.init = p;
	d.init_size = strlen(p);
	assert_int_equal(pt_graph_instance_create(g, &d, err, sizeof(err)), 0);
	snprintf(p, sizeof(p), "file=%s", out);
	d = (struct pt_instance_desc){ .id = 2, .pipeline = 1, .name = "out",
				       .module = "output", .init = p,
				       .init_size = strlen(p) };
	assert_int_equal(pt_graph_instance_create(g, &d, err, sizeof(err)), 0);
}

static void run_to_end(struct pt_graph *g)
{
	struct pt_sched *s = pt_sched_new(g, err, sizeof(err));
	struct pt_instance *out = pt_graph_instance(g, 2);

	assert_non_null(s);
	pt_io_output_length(out, FRAMES);
	while (!pt_io_output_done(out)) {
		assert_true(pt_sched_periods(s) < 100000);
		assert_int_equal(pt_sched_period(s), 0);
	}
	assert_int_equal(pt_io_output_close(out, err, sizeof(err)), 0);
	pt_sched_free(s);
}

static void events(struct pt_graph *g, uint32_t id, char *buf, size_t room)
{
	size_t n = room - 1;

	assert_int_equal(pt_graph_config_get(g, id, 1, buf, &n, err, sizeof(err)), 0);
	buf[n] = 0;
}

#define HAS(buf, s)                                                            \
	do {                                                                   \
		if (!strstr(buf, s))                                           \
			fail_msg("'%s' not in '%s'", s, buf);                  \
	} while (0)

static const struct pt_format stereo = { 48000, 2, PT_SAMPLE_S32_LE };

/* in -> p1 (3 channels on an auto binding, payload) -> p2 -> out: pins,
 * triggers, payload and the format p1 chose as p2 and the file see it. */
static void test_pins_triggers_payload_formats(void **state)
{
	static const char payload[] = "\001\002binary\000payload";
	char in[256], out[256], ev[1024];

	(void)state;
	temp_path(in, sizeof(in), "in");
	write_input(in);
	for (unsigned k = 0; k < 2; k++) {
		struct pt_graph *g = new_graph();
		const char *probe = lib(lib_dir, "pt_v2probe.so");
		char pl[64];
		size_t n = sizeof(pl);
		SF_INFO info;
		int *x, *y;

		temp_path(out, sizeof(out), k ? "ev-iso" : "ev-trusted");
		add_endpoints(g, in, out);
		assert_int_equal(add_lib(g, 3, "p1", probe, isos[k], "out_channels=3",
					 payload, sizeof(payload)), 0);
		assert_int_equal(add_lib(g, 4, "p2", probe, isos[k], NULL, NULL, 0), 0);
		assert_int_equal(pt_graph_bind(g, 1, 0, 3, 0, &stereo, 0, err, sizeof(err)), 0);
		assert_int_equal(pt_graph_bind_open(g, 3, 0, 4, 0, &stereo,
						    PT_FMT_OPEN_CHANNELS, 0, err,
						    sizeof(err)), 0);
		assert_int_equal(pt_graph_bind_open(g, 4, 0, 2, 0, &stereo,
						    PT_FMT_OPEN_CHANNELS, 4, err,
						    sizeof(err)), 0);
		events(g, 3, ev, sizeof(ev));
		HAS(ev, "init:payload:17;bind:src:0:in:0:2ch;bind:sink:0:p2:0:2ch;");
		assert_int_equal(pt_graph_config_get(g, 3, 2, pl, &n, err, sizeof(err)), 0);
		assert_int_equal(n, sizeof(payload));
		assert_memory_equal(pl, payload, n);

		/* p2 leaves its auto output unset: refused, naming it. */
		assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_RUNNING, err, sizeof(err)),
				 -EINVAL);
		HAS(err, "'p2' (v2probe): output pin 0: its binding leaves the channels open (format: auto)");
		assert_int_equal(pt_graph_unbind(g, 4, 0, 2, 0, err, sizeof(err)), 0);
		events(g, 4, ev, sizeof(ev));
		HAS(ev, "unbind:sink:0:out:0:2ch;");
		assert_int_equal(pt_graph_bind(g, 4, 0, 2, 0, &stereo, 4, err, sizeof(err)), 0);

		assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_RUNNING, err, sizeof(err)), 0);
		events(g, 3, ev, sizeof(ev));
		HAS(ev, "prepare:src:2ch;prepare:sink:3ch;trigger:1;");
		events(g, 4, ev, sizeof(ev));
		HAS(ev, "prepare:src:3ch;prepare:sink:2ch;trigger:1;");
		assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_PAUSED, err, sizeof(err)), 0);
		assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_RUNNING, err, sizeof(err)), 0);
		events(g, 3, ev, sizeof(ev));
		HAS(ev, "trigger:1;trigger:2;trigger:3;");
		run_to_end(g);

		/* Two negations, channel for channel: the input again. */
		x = pt_test_wav_read_int(in, &info);
		y = pt_test_wav_read_int(out, &info);
		assert_int_equal(info.channels, 2);
		assert_int_equal(info.frames, FRAMES);
		assert_memory_equal(x, y, sizeof(int) * FRAMES * 2);
		free(x);
		free(y);

		assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_RESET, err, sizeof(err)), 0);
		events(g, 3, ev, sizeof(ev));
		HAS(ev, "trigger:3;trigger:4;reset;");
		pt_graph_free(g);
		unlink(out);
	}
	unlink(in);
}

/* Members of a named domain are initialised at their pipeline's prepare
 * (when all are loaded); they still hear of their pins, and of a mode set
 * before, ahead of their prepare. */
static void test_named_domain_pins(void **state)
{
	char in[256], out[256], ev[1024];
	struct pt_graph *g = new_graph();
	const char *probe = lib(lib_dir, "pt_v2probe.so");

	(void)state;
	temp_path(in, sizeof(in), "nin");
	temp_path(out, sizeof(out), "nout");
	write_input(in);
	add_endpoints(g, in, out);
	for (uint32_t id = 3; id <= 4; id++) {
		struct pt_instance_desc d = {
			.id = id, .pipeline = 1, .name = id == 3 ? "p1" : "p2",
			.library = probe, .isolation = PT_ISOLATION_PROCESS,
			.isolation_set = true, .domain = "shared", .max_misses = 1000,
			.deadline_us = 1000000,
		};

		assert_int_equal(pt_graph_instance_create(g, &d, err, sizeof(err)), 0);
	}
	assert_int_equal(pt_graph_instance(g, 3)->domain_pid,
			 pt_graph_instance(g, 4)->domain_pid);
	assert_int_equal(pt_graph_bind(g, 1, 0, 3, 0, &stereo, 0, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_bind(g, 3, 0, 4, 0, &stereo, 0, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_bind(g, 4, 0, 2, 0, &stereo, 0, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_set_mode(g, 4, PT_MODE_BYPASS, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_RUNNING, err, sizeof(err)), 0);
	events(g, 4, ev, sizeof(ev));
	HAS(ev, "mode:1;bind:src:0:p1:0:2ch;bind:sink:0:out:0:2ch;prepare:src:2ch;");
	events(g, 3, ev, sizeof(ev));
	HAS(ev, "bind:src:0:in:0:2ch;bind:sink:0:p2:0:2ch;prepare:src:2ch;");
	run_to_end(g);
	{
		SF_INFO info;
		int *x = pt_test_wav_read_int(in, &info), *y = pt_test_wav_read_int(out, &info);

		/* p1 negates, p2 is bypassed by the host: the input negated */
		for (int i = 0; i < FRAMES * 2; i++)
			assert_int_equal(y[i], -x[i]);
		free(x);
		free(y);
	}
	pt_graph_free(g);
	unlink(in);
	unlink(out);
}

/* A module may refuse a binding: nothing is bound, the text says why. */
static void test_bind_refused(void **state)
{
	char in[256], out[256];

	(void)state;
	temp_path(in, sizeof(in), "rin");
	temp_path(out, sizeof(out), "rout");
	write_input(in);
	for (unsigned k = 0; k < 2; k++) {
		struct pt_graph *g = new_graph();

		add_endpoints(g, in, out);
		assert_int_equal(add_lib(g, 3, "p1", lib(lib_dir, "pt_v2probe.so"), isos[k],
					 "refuse_bind=1", NULL, 0), 0);
		assert_int_equal(pt_graph_bind(g, 1, 0, 3, 0, &stereo, 0, err, sizeof(err)),
				 -EPERM);
		HAS(err, "bind: 'in' -> 'p1' refused");
		assert_null(pt_graph_instance(g, 1)->out[0]);
		assert_null(pt_graph_instance(g, 3)->in[0]);
		pt_graph_free(g);
	}
	unlink(in);
}

/* Runs in -> probe -> out with @params and @mode; returns the output. */
static int *run_mode(unsigned k, const char *params, uint32_t mode,
		     uint32_t *frame_align)
{
	char in[256], out[256];
	struct pt_graph *g = new_graph();
	SF_INFO info;
	int *y;

	temp_path(in, sizeof(in), "min");
	temp_path(out, sizeof(out), "mout");
	add_endpoints(g, in, out);
	assert_int_equal(add_lib(g, 3, "p1", lib(lib_dir, "pt_v2probe.so"), isos[k],
				 params, NULL, 0), 0);
	assert_int_equal(pt_graph_bind(g, 1, 0, 3, 0, &stereo, 0, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_bind(g, 3, 0, 2, 0, &stereo, 0, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_set_mode(g, 3, mode, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_RUNNING, err, sizeof(err)), 0);
	if (frame_align)
		*frame_align = pt_graph_instance(g, 1)->out[0]->rd_frame_align;
	run_to_end(g);
	y = pt_test_wav_read_int(out, &info);
	assert_int_equal(info.frames, FRAMES);
	pt_graph_free(g);
	unlink(out);
	return y;
}

static void test_processing_mode(void **state)
{
	char in[256];
	SF_INFO info;
	int *x;

	(void)state;
	temp_path(in, sizeof(in), "min");
	write_input(in);
	x = pt_test_wav_read_int(in, &info);
	for (unsigned k = 0; k < 2; k++) {
		int *normal = run_mode(k, NULL, PT_MODE_NORMAL, NULL);
		int *host = run_mode(k, NULL, PT_MODE_BYPASS, NULL);
		int *own = run_mode(k, "own_mode=1", PT_MODE_BYPASS, NULL);

		for (int i = 0; i < FRAMES * 2; i++) {
			assert_int_equal(normal[i], -x[i]);
			/* no set_processing_mode of its own: the host copies */
			assert_int_equal(host[i], x[i]);
			/* its own bypass halves */
			assert_int_equal(own[i], x[i] / 2);
		}
		free(normal);
		free(host);
		free(own);
	}
	free(x);
	unlink(in);
}

/* A source alignment is kept with the buffer and readiness honours it; the
 * output is the same. */
static void test_alignment(void **state)
{
	char in[256];
	SF_INFO info;
	int *x;

	(void)state;
	temp_path(in, sizeof(in), "min");
	write_input(in);
	x = pt_test_wav_read_int(in, &info);
	for (unsigned k = 0; k < 2; k++) {
		uint32_t align = 0;
		int *y = run_mode(k, "frame_align=32", PT_MODE_NORMAL, &align);

		assert_int_equal(align, 32);
		for (int i = 0; i < FRAMES * 2; i++)
			assert_int_equal(y[i], -x[i]);
		free(y);
	}
	free(x);
	unlink(in);
}

/* Readiness counts whole multiples of the alignment. */
static void test_ready_alignment(void **state)
{
	uint8_t a[64 * 8] = { 0 }, b[64 * 8] = { 0 };
	struct pt_source src, *sp = &src;
	struct pt_sink snk, *kp = &snk;

	(void)state;
	pt_source_view(&src, a, sizeof(a), 0, 48 * 8, &stereo);
	pt_sink_view(&snk, b, sizeof(b), 0, sizeof(b), &stereo);
	assert_true(pt_default_ready(48, &sp, 1, &kp, 1));
	assert_int_equal(pt_source_set_alignment(&src, 8, 32), 0);
	assert_false(pt_default_ready(48, &sp, 1, &kp, 1)); /* 48 -> 32 */
	pt_source_view(&src, a, sizeof(a), 0, 64 * 8, &stereo);
	src.frame_align = 32;
	assert_true(pt_default_ready(48, &sp, 1, &kp, 1));
	assert_int_equal(pt_sink_set_alignment(&snk, 3, 1), -EINVAL);
	assert_int_equal(pt_sink_set_alignment(&snk, 128, 1), -EINVAL);
}

/* Version 1 libraries of shipped modules load, run trusted and in a domain,
 * and give the same bytes as their version 2 builds. */
static void test_v1_libraries(void **state)
{
	static const struct { const char *mod, *params; } cases[] = {
		{ "gain", "gain_db=-6.5" },
		{ "eq_iir", "bands=peaking:1000:0.7:6" },
	};
	char in[256], out[256], v1[64], v2[64];

	(void)state;
	temp_path(in, sizeof(in), "v1in");
	write_input(in);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		int *ref = NULL;

		snprintf(v1, sizeof(v1), "pt_%s_v1.so", cases[c].mod);
		snprintf(v2, sizeof(v2), "pt_%s.so", cases[c].mod);
		for (unsigned run = 0; run < 4; run++) {
			struct pt_graph *g = new_graph();
			const char *library = run < 2 ? lib(mod_dir, v2) : lib(lib_dir, v1);
			SF_INFO info;
			int *y;

			temp_path(out, sizeof(out), "v1out");
			add_endpoints(g, in, out);
			if (add_lib(g, 3, "m", library, isos[run % 2], cases[c].params,
				    NULL, 0))
				fail_msg("%s: %s", library, err);
			assert_int_equal(pt_graph_instance(g, 3)->manifest.abi_version,
					 run < 2 ? 2 : 1);
			assert_int_equal(pt_graph_bind(g, 1, 0, 3, 0, &stereo, 0, err, sizeof(err)), 0);
			assert_int_equal(pt_graph_bind(g, 3, 0, 2, 0, &stereo, 0, err, sizeof(err)), 0);
			/* a version 1 module has no mode: the host bypasses */
			assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_RUNNING, err, sizeof(err)), 0);
			run_to_end(g);
			y = pt_test_wav_read_int(out, &info);
			assert_int_equal(info.frames, FRAMES);
			if (!ref)
				ref = y;
			else {
				assert_memory_equal(ref, y, sizeof(int) * FRAMES * 2);
				free(y);
			}
			pt_graph_free(g);
			unlink(out);
		}
		free(ref);
	}
	unlink(in);
}

int main(void)
{
	const char *build = getenv("PARTITA_BUILD");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_alignment),
		cmocka_unit_test(test_pins_triggers_payload_formats),
		cmocka_unit_test(test_bind_refused),
		cmocka_unit_test(test_named_domain_pins),
		cmocka_unit_test(test_processing_mode),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_v1_libraries),
	};

	if (!build)
		build = ".";
	snprintf(lib_dir, sizeof(lib_dir), "%s/tests/abi", build);
	snprintf(mod_dir, sizeof(mod_dir), "%s/modules", build);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
