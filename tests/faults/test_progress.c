/* SPDX-License-Identifier: MIT */
/*
 * No progress, through the graph and scheduler, live-sized (two-period
 * buffers, one period per step): an honest branch behind the same copier
 * as a stalled one gets its period every period, before the stalled one
 * has even been failed (the lag limit is out of reach here), in a fan-out
 * and in a fan-in; and an honest rate converter, trusted and isolated, is
 * never judged stalled however tight the limit.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/graph/graph.h"
#include "host/sched/sched.h"

static char stalllib[4096], err[1024];

/* A sink that takes one period whenever it has one, and counts frames. */
static uint64_t counted;

static int count_process(struct pt_module *mod, struct pt_source *const *src,
			 unsigned nsrc, struct pt_sink *const *snk, unsigned nsnk)
{
	size_t n = pt_mod_period_frames(mod);

	(void)nsrc;
	(void)snk;
	(void)nsnk;
	counted += n;
	return pt_source_release(src[0], n * pt_frame_bytes(pt_source_format(src[0])));
}

static const struct pt_module_ops count_ops = { .process = count_process };
static const struct pt_manifest count_m = {
	.magic = PT_MANIFEST_MAGIC, .abi_version = PT_ABI_VERSION,
	.name = "count", .heap_size = 4096, .max_sources = 1 };
static const struct pt_module_entry count_e = { &count_m, &count_ops };

/* The same without counting, for what depends on the stalled one. */
static int drain_process(struct pt_module *mod, struct pt_source *const *src,
			 unsigned nsrc, struct pt_sink *const *snk, unsigned nsnk)
{
	(void)nsrc;
	(void)snk;
	(void)nsnk;
	return pt_source_release(src[0], pt_mod_period_frames(mod) *
						 pt_frame_bytes(pt_source_format(src[0])));
}

static const struct pt_module_ops drain_ops = { .process = drain_process };
static const struct pt_manifest drain_m = {
	.magic = PT_MANIFEST_MAGIC, .abi_version = PT_ABI_VERSION,
	.name = "drain", .heap_size = 4096, .max_sources = 1 };
static const struct pt_module_entry drain_e = { &drain_m, &drain_ops };

static const struct pt_format f48 = { 48000, 2, PT_SAMPLE_FLOAT_LE };

static struct pt_graph *graph(void)
{
	struct pt_graph_config cfg = { .rate = 48000, .period_us = 1000,
				       .dp_batch = 1 };
	struct pt_graph *g = pt_graph_new(&cfg, err, sizeof(err));

	assert_non_null(g);
	assert_int_equal(pt_graph_add_module(g, &count_e, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_add_module(g, &drain_e, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_pipeline_create(g, 1, "main", err, sizeof(err)), 0);
	return g;
}

static void add(struct pt_graph *g, uint32_t id, const char *name,
		const char *module, const char *library, enum pt_isolation iso,
		const char *init, uint32_t progress)
{
	struct pt_instance_desc d = { .id = id, .pipeline = 1, .name = name,
				      .module = module, .library = library,
				      .isolation = iso, .isolation_set = true,
				      .init = init, .init_size = init ? strlen(init) : 0,
				      .progress_periods = progress,
				      /* Not about deadlines: a loaded machine
				       * must not make a domain miss. */
				      .deadline_us = 1000000, .max_misses = 1000 };

	if (pt_graph_instance_create(g, &d, err, sizeof(err)))
		fail_msg("%s: %s", name, err);
}

static void bind(struct pt_graph *g, uint32_t a, unsigned ap, uint32_t b,
		 unsigned bp, const struct pt_format *f)
{
	if (pt_graph_bind(g, a, ap, b, bp, f, 0, err, sizeof(err)))
		fail_msg("bind: %s", err);
}

static void start(struct pt_graph *g)
{
	assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_PAUSED, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_RUNNING, err, sizeof(err)), 0);
}

/* Runs @periods periods; the counter must have had a period every period
 * after the first @warmup. */
static void every_period(struct pt_graph *g, int periods, int warmup)
{
	struct pt_sched *s = pt_sched_new(g, err, sizeof(err));
	uint64_t at_warmup = 0;

	assert_non_null(s);
	counted = 0;
	for (int i = 0; i < periods; i++) {
		assert_int_equal(pt_sched_period(s), 0);
		if (i + 1 == warmup)
			at_warmup = counted;
		if (i + 1 > warmup && counted != at_warmup + (uint64_t)(i + 1 - warmup) * 48)
			fail_msg("the honest branch missed a period at period %d (%llu frames)",
				 i + 1, (unsigned long long)counted);
	}
	pt_sched_free(s);
}

/* tone -> copier -> S (never consumes), copier -> count. */
static void fanout(enum pt_isolation iso, const char *kind)
{
	struct pt_graph *g = graph();
	char init[64];
	struct pt_instance *st;

	snprintf(init, sizeof(init), "kind=%s", kind);
	add(g, 1, "tone", "tone", NULL, PT_ISOLATION_NONE, "freq=440", 0);
	add(g, 2, "cp", "copier", NULL, PT_ISOLATION_NONE, NULL, 0);
	add(g, 3, "S", NULL, stalllib, iso, init, 60000);
	add(g, 4, "count", "count", NULL, PT_ISOLATION_NONE, NULL, 0);
	add(g, 5, "sS", "drain", NULL, PT_ISOLATION_NONE, NULL, 0);
	bind(g, 1, 0, 2, 0, &f48);
	bind(g, 2, 0, 3, 0, &f48);
	bind(g, 2, 1, 4, 0, &f48);
	bind(g, 3, 0, 5, 0, &f48);
	start(g);
	every_period(g, 400, 4);
	st = pt_graph_instance(g, 3);
	/* Not failed (the limit is far), and what it left was dropped. */
	assert_int_equal(st->state, PT_INSTANCE_PREPARED);
	assert_true(st->stats.dropped_frames >= 300 * 48);
	assert_true(st->stats.drops > 0); /* GET_STATS counts them as xruns */
	pt_graph_free(g);
}

static void test_fanout_noconsume_trusted(void **state)
{
	(void)state;
	fanout(PT_ISOLATION_NONE, "noconsume");
}

static void test_fanout_flood_isolated(void **state)
{
	(void)state;
	fanout(PT_ISOLATION_PROCESS, "flood");
}

static void test_fanout_notready_isolated(void **state)
{
	(void)state;
	fanout(PT_ISOLATION_PROCESS, "notready");
}

/* tone -> copier -> S (takes, never gives) -> mixer.0, copier -> gain ->
 * mixer.1, copier -> count, mixer -> sink. With @hop, a stage Y between S
 * and the mixer: S starves it, and the mixer waits on it. */
static void fanin(enum pt_isolation iso, bool hop)
{
	struct pt_graph *g = graph();

	add(g, 1, "tone", "tone", NULL, PT_ISOLATION_NONE, "freq=440", 0);
	add(g, 2, "cp", "copier", NULL, PT_ISOLATION_NONE, NULL, 0);
	add(g, 3, "S", NULL, stalllib, iso, "kind=noproduce", 60000);
	if (hop)
		add(g, 8, "Y", "gain", NULL, PT_ISOLATION_NONE, "gain_db=-1", 0);
	add(g, 4, "G", "gain", NULL, PT_ISOLATION_NONE, "gain_db=-3", 0);
	add(g, 5, "mx", "mixer", NULL, PT_ISOLATION_NONE, NULL, 0);
	add(g, 6, "count", "count", NULL, PT_ISOLATION_NONE, NULL, 0);
	add(g, 7, "sM", "drain", NULL, PT_ISOLATION_NONE, NULL, 0);
	bind(g, 1, 0, 2, 0, &f48);
	bind(g, 2, 0, 3, 0, &f48);
	bind(g, 2, 1, 4, 0, &f48);
	bind(g, 2, 2, 6, 0, &f48);
	if (hop) {
		bind(g, 3, 0, 8, 0, &f48);
		bind(g, 8, 0, 5, 0, &f48);
	} else
		bind(g, 3, 0, 5, 0, &f48);
	bind(g, 4, 0, 5, 1, &f48);
	bind(g, 5, 0, 7, 0, &f48);
	start(g);
	every_period(g, 400, hop ? 6 : 4);
	assert_int_equal(pt_graph_instance(g, 3)->state, PT_INSTANCE_PREPARED);
	/* The mixer's honest leg was not held back: it dropped instead. */
	assert_true(pt_graph_instance(g, 5)->stats.dropped_frames > 0);
	pt_graph_free(g);
}

static void test_fanin_two_hops(void **state)
{
	(void)state;
	fanin(PT_ISOLATION_PROCESS, true);
}

static void test_fanin_noproduce_trusted(void **state)
{
	(void)state;
	fanin(PT_ISOLATION_NONE, false);
}

static void test_fanin_noproduce_isolated(void **state)
{
	(void)state;
	fanin(PT_ISOLATION_PROCESS, false);
}

/* tone at @in Hz -> src -> count at @out Hz, with a limit of 3 periods. */
static void converter(enum pt_isolation iso, uint32_t in, uint32_t out)
{
	struct pt_graph *g = graph();
	struct pt_format fi = { in, 2, PT_SAMPLE_FLOAT_LE };
	struct pt_format fo = { out, 2, PT_SAMPLE_FLOAT_LE };
	struct pt_sched *s;

	add(g, 1, "tone", "tone", NULL, PT_ISOLATION_NONE, "freq=440", 0);
	add(g, 2, "src", "src", NULL, iso, NULL, 3);
	add(g, 3, "out", "count", NULL, PT_ISOLATION_NONE, NULL, 0);
	bind(g, 1, 0, 2, 0, &fi);
	if (pt_graph_bind(g, 2, 0, 3, 0, &fo, 4, err, sizeof(err)))
		fail_msg("bind: %s", err);
	start(g);
	s = pt_sched_new(g, err, sizeof(err));
	assert_non_null(s);
	for (int i = 0; i < 3000; i++)
		assert_int_equal(pt_sched_period(s), 0);
	if (pt_graph_instance(g, 2)->state == PT_INSTANCE_FAILED)
		fail_msg("src %u -> %u Hz was judged: %s", in, out,
			 pt_graph_instance(g, 2)->stats.fault_reason);
	assert_int_equal(pt_graph_instance(g, 2)->stats.dropped_frames, 0);
	pt_sched_free(s);
	pt_graph_free(g);
}

static void test_converters_make_progress(void **state)
{
	(void)state;
	converter(PT_ISOLATION_NONE, 48000, 44100);
	converter(PT_ISOLATION_NONE, 44100, 48000);
	converter(PT_ISOLATION_PROCESS, 44100, 48000);
	converter(PT_ISOLATION_PROCESS, 48000, 8000);
}

static int setup(void **state)
{
	const char *build = getenv("PARTITA_BUILD");

	(void)state;
	snprintf(stalllib, sizeof(stalllib), "%s/tests/faults/pt_stall.so",
		 build ? build : ".");
	return access(stalllib, R_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fanout_noconsume_trusted),
		cmocka_unit_test(test_fanout_flood_isolated),
		cmocka_unit_test(test_fanout_notready_isolated),
		cmocka_unit_test(test_fanin_noproduce_trusted),
		cmocka_unit_test(test_fanin_noproduce_isolated),
		cmocka_unit_test(test_fanin_two_hops),
		cmocka_unit_test(test_converters_make_progress),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
