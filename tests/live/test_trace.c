/* SPDX-License-Identifier: MIT */
/*
 * Trace files: their structure and that they account for every period.
 * validate_trace.py holds the checks; these cases produce a trace and the
 * matching stats two ways and hand both to it:
 *  - `partita run --trace --stats-json` on the demo (LL instances on the
 *    host's track);
 *  - an in-process graph with trusted DP instances, each of which must get
 *    a track of its own.
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
#include <sys/wait.h>

#include <cmocka.h>

#include "host/graph/graph.h"
#include "host/io/io.h"
#include "host/sched/sched.h"
#include "host/trace/trace.h"

static char err[512];
static const char *build, *source;
static char dir[1024];

/* Runs validate_trace.py on @trace and @stats; returns its exit status. */
static int validate(const char *trace, const char *stats)
{
	char cmd[4096];
	int st;

	snprintf(cmd, sizeof(cmd),
		 "python3 '%s/tests/live/validate_trace.py' '%s' '%s'", source,
		 trace, stats);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void demo_run_trace(void **state)
{
	char trace[1200], stats[1200], out[1200], cmd[8192];
	int st;

	(void)state;
	snprintf(trace, sizeof(trace), "%s/demo.trace.json", dir);
	snprintf(stats, sizeof(stats), "%s/demo.stats.json", dir);
	snprintf(out, sizeof(out), "%s/demo.wav", dir);
	snprintf(cmd, sizeof(cmd),
		 "'%s/partita' run --quiet --seconds 1 -o '%s' --trace '%s' --stats-json '%s'",
		 build, out, trace, stats);
	st = system(cmd);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(validate(trace, stats), 0);
}

/* A topology file with trusted DP stages, through the command line: each DP
 * instance gets its own track, and the counts match. */
static void dp_topology_run_trace(void **state)
{
	char topo[1200], trace[1200], stats[1200], cmd[8192];
	FILE *f;
	int st;

	(void)state;
	snprintf(topo, sizeof(topo), "%s/dp.yaml", dir);
	snprintf(trace, sizeof(trace), "%s/dptopo.trace.json", dir);
	snprintf(stats, sizeof(stats), "%s/dptopo.stats.json", dir);
	f = fopen(topo, "w");
	assert_non_null(f);
	fprintf(f,
		"period_us: 1000\n"
		"rate: 48000\n"
		"pipelines:\n"
		"  - name: main\n"
		"    instances:\n"
		"      - {name: tone1, module: tone, sched: ll, params: {wave: sine, freq: 440}}\n"
		"      - {name: g1, module: gain, sched: dp, params: {gain_db: -1}}\n"
		"      - {name: g2, module: gain, sched: dp, params: {gain_db: -2}}\n"
		"      - {name: out, module: output, params: {file: '%s/dptopo.wav'}}\n"
		"    bindings:\n"
		"      - {from: tone1.0, to: g1.0, format: {rate: 48000, channels: 2, sample: S32_LE}, periods: 2}\n"
		"      - {from: g1.0, to: g2.0, format: {rate: 48000, channels: 2, sample: S32_LE}, periods: 2}\n"
		"      - {from: g2.0, to: out.0, format: {rate: 48000, channels: 2, sample: S32_LE}, periods: 2}\n",
		dir);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "'%s/partita' run '%s' --quiet --seconds 0.5 --trace '%s' --stats-json '%s'",
		 build, topo, trace, stats);
	st = system(cmd);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(validate(trace, stats), 0);
}

/* Library modules isolated in domains of their own: a track per domain,
 * named with its pid. */
static void isolated_topology_run_trace(void **state)
{
	char topo[1200], trace[1200], stats[1200], cmd[8192];
	FILE *f;
	int st;

	(void)state;
	snprintf(topo, sizeof(topo), "%s/iso.yaml", dir);
	snprintf(trace, sizeof(trace), "%s/iso.trace.json", dir);
	snprintf(stats, sizeof(stats), "%s/iso.stats.json", dir);
	f = fopen(topo, "w");
	assert_non_null(f);
	fprintf(f,
		"period_us: 1000\n"
		"rate: 48000\n"
		"pipelines:\n"
		"  - name: main\n"
		"    instances:\n"
		"      - {name: tone1, module: tone, sched: ll, params: {wave: sine, freq: 440}}\n"
		"      - {name: stage1, library: '%s/modules/pt_gain.so', isolation: process, sched: dp, heap_size: 64K, params: {gain_db: -6}}\n"
		"      - {name: stage2, library: '%s/modules/pt_dcblock.so', isolation: process, sched: dp, heap_size: 64K, params: {r: 0.995}}\n"
		"      - {name: out, module: output, params: {file: '%s/iso.wav'}}\n"
		"    bindings:\n"
		"      - {from: tone1.0, to: stage1.0, format: {rate: 48000, channels: 2, sample: FLOAT_LE}, periods: 2}\n"
		"      - {from: stage1.0, to: stage2.0, format: {rate: 48000, channels: 2, sample: FLOAT_LE}, periods: 2}\n"
		"      - {from: stage2.0, to: out.0, format: {rate: 48000, channels: 2, sample: FLOAT_LE}, periods: 2}\n",
		build, build, dir);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "'%s/partita' run '%s' --quiet --seconds 0.5 --trace '%s' --stats-json '%s'",
		 build, topo, trace, stats);
	st = system(cmd);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(validate(trace, stats), 0);
}

static int instance(struct pt_graph *g, uint32_t id, const char *name,
		    const char *module, const char *params, bool dp)
{
	struct pt_instance_desc d = {
		.id = id,
		.pipeline = 1,
		.name = name,
		.module = module,
		.init = params,
		.init_size = strlen(params),
		.sched = dp ? PT_SCHED_DP : PT_SCHED_LL,
		.sched_set = true,
	};

	return pt_graph_instance_create(g, &d, err, sizeof(err));
}

/* tone (LL) -> g1 (DP) -> g2 (DP) -> out (LL): two DP tracks. */
static void dp_graph_trace(void **state)
{
	const struct pt_format fmt = { 48000, 2, PT_SAMPLE_FLOAT_LE };
	struct pt_graph_config cfg = { .rate = 48000, .period_us = 1000 };
	char trace[1200], stats[1200], out[1200], p[1300];
	struct pt_graph *g = pt_graph_new(&cfg, err, sizeof(err));
	struct pt_trace *t;
	struct pt_sched *s;
	struct pt_instance *inst;
	FILE *f;

	(void)state;
	assert_non_null(g);
	snprintf(trace, sizeof(trace), "%s/dp.trace.json", dir);
	snprintf(stats, sizeof(stats), "%s/dp.stats.json", dir);
	snprintf(out, sizeof(out), "%s/dp.wav", dir);
	snprintf(p, sizeof(p), "file=%s", out);
	assert_int_equal(pt_graph_pipeline_create(g, 1, "p", err, sizeof(err)), 0);
	assert_int_equal(instance(g, 1, "tone", "tone", "wave=sine", false), 0);
	assert_int_equal(instance(g, 2, "g1", "gain", "gain_db=-1", true), 0);
	assert_int_equal(instance(g, 3, "g2", "gain", "gain_db=-2", true), 0);
	assert_int_equal(instance(g, 4, "out", "output", p, false), 0);
	for (uint32_t i = 1; i < 4; i++)
		assert_int_equal(pt_graph_bind(g, i, 0, i + 1, 0, &fmt, 0, err,
					       sizeof(err)), 0);
	assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_RUNNING, err, sizeof(err)), 0);
	s = pt_sched_new(g, err, sizeof(err));
	assert_non_null(s);
	t = pt_trace_open(trace, err, sizeof(err));
	assert_non_null(t);
	pt_sched_set_trace(s, t);
	for (unsigned i = 0; i < 300; i++)
		assert_int_equal(pt_sched_period(s), 0);
	pt_sched_set_trace(s, NULL);
	assert_int_equal(pt_trace_close(t), 0);
	/* The DP stages each ran (they start one period apart). */
	assert_true(pt_graph_instance(g, 3)->stats.periods >= 298);

	f = fopen(stats, "w");
	assert_non_null(f);
	fprintf(f, "{\"periods\": %llu, \"instances\": [",
		(unsigned long long)pt_sched_periods(s));
	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++)
		fprintf(f, "%s{\"name\": \"%s\", \"sched\": \"%s\", \"periods\": %llu}",
			i ? ", " : "", inst->name,
			inst->sched == PT_SCHED_DP ? "dp" : "ll",
			(unsigned long long)inst->stats.periods);
	fprintf(f, "]}\n");
	fclose(f);
	pt_sched_free(s);
	pt_graph_free(g);
	assert_int_equal(validate(trace, stats), 0);
}

/* The validator is not a rubber stamp: a trace that lost one span of an
 * instance, and one whose span lacks dur, are refused. */
static void validator_refuses_bad_traces(void **state)
{
	char trace[1200], stats[1200];
	FILE *f;

	(void)state;
	snprintf(trace, sizeof(trace), "%s/bad.trace.json", dir);
	snprintf(stats, sizeof(stats), "%s/bad.stats.json", dir);
	f = fopen(stats, "w");
	assert_non_null(f);
	fprintf(f, "{\"periods\": 2, \"instances\": [{\"name\": \"a\", \"sched\": \"ll\", \"periods\": 2}]}\n");
	fclose(f);

	f = fopen(trace, "w");
	assert_non_null(f);
	fprintf(f, "{\"traceEvents\": ["
		   "{\"name\": \"process_name\", \"ph\": \"M\", \"ts\": 0, \"pid\": 1, \"tid\": 0, \"args\": {\"name\": \"p\"}},"
		   "{\"name\": \"thread_name\", \"ph\": \"M\", \"ts\": 0, \"pid\": 1, \"tid\": 1, \"args\": {\"name\": \"host LL pass\"}},"
		   "{\"name\": \"a\", \"ph\": \"X\", \"ts\": 1, \"dur\": 1, \"pid\": 1, \"tid\": 1},"
		   "{\"name\": \"LL pass\", \"ph\": \"X\", \"ts\": 0, \"dur\": 5, \"pid\": 1, \"tid\": 1},"
		   "{\"name\": \"a\", \"ph\": \"X\", \"ts\": 11, \"dur\": 1, \"pid\": 1, \"tid\": 1},"
		   "{\"name\": \"LL pass\", \"ph\": \"X\", \"ts\": 10, \"dur\": 5, \"pid\": 1, \"tid\": 1}]}\n");
	fclose(f);
	assert_int_equal(validate(trace, stats), 0); /* the good one passes */

	f = fopen(trace, "w");
	assert_non_null(f);
	fprintf(f, "{\"traceEvents\": ["
		   "{\"name\": \"process_name\", \"ph\": \"M\", \"ts\": 0, \"pid\": 1, \"tid\": 0, \"args\": {\"name\": \"p\"}},"
		   "{\"name\": \"thread_name\", \"ph\": \"M\", \"ts\": 0, \"pid\": 1, \"tid\": 1, \"args\": {\"name\": \"host LL pass\"}},"
		   "{\"name\": \"a\", \"ph\": \"X\", \"ts\": 1, \"dur\": 1, \"pid\": 1, \"tid\": 1},"
		   "{\"name\": \"LL pass\", \"ph\": \"X\", \"ts\": 0, \"dur\": 5, \"pid\": 1, \"tid\": 1},"
		   "{\"name\": \"LL pass\", \"ph\": \"X\", \"ts\": 10, \"dur\": 5, \"pid\": 1, \"tid\": 1}]}\n");
	fclose(f);
	assert_int_equal(validate(trace, stats), 1); /* a span missing */

	f = fopen(trace, "w");
	assert_non_null(f);
	fprintf(f, "{\"traceEvents\": ["
		   "{\"name\": \"thread_name\", \"ph\": \"M\", \"ts\": 0, \"pid\": 1, \"tid\": 1, \"args\": {\"name\": \"host LL pass\"}},"
		   "{\"name\": \"a\", \"ph\": \"X\", \"ts\": 1, \"pid\": 1, \"tid\": 1}]}\n");
	fclose(f);
	assert_int_equal(validate(trace, stats), 1); /* no dur */
}

static int setup(void **state)
{
	(void)state;
	build = getenv("PARTITA_BUILD");
	source = getenv("PARTITA_SOURCE");
	if (!build || !source)
		return -1;
	snprintf(dir, sizeof(dir), "%s/tests/live-trace", build);
	mkdir(dir, 0700);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(demo_run_trace),
		cmocka_unit_test(dp_topology_run_trace),
		cmocka_unit_test(isolated_topology_run_trace),
		cmocka_unit_test(dp_graph_trace),
		cmocka_unit_test(validator_refuses_bad_traces),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
