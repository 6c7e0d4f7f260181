/* SPDX-License-Identifier: MIT */
/*
 * Restarts, through the graph and scheduler with real domains: a restarted
 * instance gets its configuration back, and a thousand crash/restart cycles
 * leave the host's file descriptors, memory and child processes as they
 * were.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/graph/graph.h"
#include "host/graph/history.h"
#include "host/sched/sched.h"

static char faultlib[4096], out[256], err[1024];

/* tone -> B (the fault module, isolated) -> sink (a test module that keeps
 * the last period it saw). */
static float last[96];
static uint64_t sink_calls;

static int sink_process(struct pt_module *mod, struct pt_source *const *src,
			unsigned nsrc, struct pt_sink *const *snk, unsigned nsnk)
{
	size_t n = pt_source_frames_available(src[0]) * 2;
	const void *d, *ds;
	size_t dsz;

	(void)mod;
	(void)nsrc;
	(void)snk;
	(void)nsnk;
	if (n > 96)
		n = 96;
	if (!pt_source_get_data(src[0], n * 4, &d, &ds, &dsz))
		for (size_t i = 0; i < n; i++)
			last[i] = ((const float *)ds)[((size_t)((const char *)d - (const char *)ds) / 4 + i) %
						      (dsz / 4)];
	sink_calls++;
	return pt_source_release(src[0], n * 4);
}

static const struct pt_module_ops sink_ops = { .process = sink_process };
static const struct pt_manifest sink_m = {
	.magic = PT_MANIFEST_MAGIC, .abi_version = PT_ABI_VERSION,
	.name = "keeplast", .heap_size = 4096, .max_sources = 1 };
static const struct pt_module_entry sink_e = { &sink_m, &sink_ops };

static struct pt_graph *chain(const char *b_params, enum pt_restart restart,
			      uint32_t limit)
{
	/* One period per step, so fault and restart periods are exact. */
	struct pt_graph_config cfg = { .rate = 48000, .period_us = 1000,
				       .offline = true, .dp_batch = 1 };
	struct pt_format f = { 48000, 2, PT_SAMPLE_FLOAT_LE };
	struct pt_graph *g = pt_graph_new(&cfg, err, sizeof(err));
	const char *tone = "wave=sine freq=1000 amplitude_db=-6";
	struct pt_instance_desc t = { .id = 1, .pipeline = 1, .name = "tone",
				      .module = "tone", .init = tone,
				      .init_size = strlen(tone) };
	struct pt_instance_desc b = { .id = 2, .pipeline = 1, .name = "B",
				      .library = faultlib, .init = b_params,
				      .init_size = strlen(b_params),
				      .restart = restart, .restart_limit = limit };
	struct pt_instance_desc k = { .id = 3, .pipeline = 1, .name = "sink",
				      .module = "keeplast" };

	assert_non_null(g);
	assert_int_equal(pt_graph_add_module(g, &sink_e, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_pipeline_create(g, 1, "main", err, sizeof(err)), 0);
	assert_int_equal(pt_graph_instance_create(g, &t, err, sizeof(err)), 0);
	if (pt_graph_instance_create(g, &b, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(pt_graph_instance_create(g, &k, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_bind(g, 1, 0, 2, 0, &f, 0, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_bind(g, 2, 0, 3, 0, &f, 0, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_PAUSED, err, sizeof(err)), 0);
	assert_int_equal(pt_graph_set_state(g, 1, PT_STATE_RUNNING, err, sizeof(err)), 0);
	return g;
}

static float peak(void)
{
	float p = 0.0f;

	for (int i = 0; i < 96; i++)
		if (fabsf(last[i]) > p)
			p = fabsf(last[i]);
	return p;
}

/* The gain set before the crash is back after the restart. */
static void test_config_replayed(void **state)
{
	struct pt_graph *g = chain("fault=segv at=300", PT_RESTART_ON_FAILURE, 1);
	struct pt_sched *s = pt_sched_new(g, err, sizeof(err));
	struct pt_instance *b = pt_graph_instance(g, 2);
	const char *quieter = "gain_db=-12";
	float before;

	(void)state;
	for (int i = 0; i < 100; i++)
		assert_int_equal(pt_sched_period(s), 0);
	/* -6 dBFS sine through unity gain. */
	assert_true(fabsf(peak() - 0.501f) < 0.01f);
	assert_int_equal(pt_graph_config_set(g, 2, PT_PARAM_TEXT, quieter,
					     strlen(quieter), err, sizeof(err)), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(pt_sched_period(s), 0);
	before = peak();
	assert_true(fabsf(before - 0.501f * 0.2512f) < 0.005f);
	/* The crash at B's call 300, then the restart ten periods later. */
	while (b->state != PT_INSTANCE_FAILED)
		assert_int_equal(pt_sched_period(s), 0);
	assert_int_equal(b->stats.fault_signal, 11);
	while (b->state == PT_INSTANCE_FAILED && pt_sched_periods(s) < 5000)
		assert_int_equal(pt_sched_period(s), 0);
	assert_int_equal(b->state, PT_INSTANCE_PREPARED);
	assert_int_equal(b->stats.restarts, 1);
	for (int i = 0; i < 50; i++)
		assert_int_equal(pt_sched_period(s), 0);
	/* Playing again, at the gain set before the crash. */
	assert_true(fabsf(peak() - before) < 0.005f);
	pt_sched_free(s);
	pt_graph_free(g);
}

/* Sets @blobs configuration blobs on B while the graph runs (a period
 * after every few), each changing some of its slots and its gain, with
 * @pad bytes of padding in each; then SIGKILLs B's domain and waits for the
 * restart: B's state read back with get_config is what it was before. */
static void long_history(int blobs, int pad)
{
	struct pt_graph *g = chain("gain_db=0", PT_RESTART_ON_FAILURE, 3);
	struct pt_sched *s = pt_sched_new(g, err, sizeof(err));
	struct pt_instance *b = pt_graph_instance(g, 2);
	char blob[4096], before[1024], after[1024];
	size_t nb = sizeof(before) - 1, na = sizeof(after) - 1;
	unsigned seed = 7;

	assert_true(pad < 3000);
	for (int i = 0; i < 20; i++)
		assert_int_equal(pt_sched_period(s), 0);
	/* Keys only the first blob sets: a replay that lost it shows. */
	assert_int_equal(pt_graph_config_set(g, 2, PT_PARAM_TEXT, "s14=3 s15=-4 slow_ms=2",
					     22, err, sizeof(err)), 0);
	for (int i = 0; i < blobs; i++) {
		int len;

		seed = seed * 1103515245u + 12345u;
		len = snprintf(blob, sizeof(blob), "s%u=%d gain_db=-%u", (seed >> 16) % 14, i,
			       (seed >> 8) % 20);
		if (i % 3 == 0)
			len += snprintf(blob + len, sizeof(blob) - (size_t)len,
					" s%u=%d", (seed >> 4) % 14, -i);
		if (pad)
			len += snprintf(blob + len, sizeof(blob) - (size_t)len,
					" pad=%0*d", pad, i);
		if (pt_graph_config_set(g, 2, PT_PARAM_TEXT, blob, (size_t)len, err,
					sizeof(err)))
			fail_msg("blob %d: %s", i, err);
		if (i % 8 == 0)
			assert_int_equal(pt_sched_period(s), 0);
	}
	/* A history past its bounds was folded, else it is whole. */
	{
		size_t at = 0, size, n = 0;
		const void *data;
		uint32_t param;

		while (pt_config_history_next(b, &at, &param, &data, &size))
			n++;
		if ((size_t)blobs * (size_t)pad > PT_CONFIG_HISTORY_MAX ||
		    blobs + 1 > (int)PT_CONFIG_HISTORY_RECORDS)
			assert_true(n < (size_t)blobs && b->config_size <= PT_CONFIG_HISTORY_MAX);
		else
			assert_int_equal(n, blobs + 1);
	}
	if (pt_graph_config_get(g, 2, PT_PARAM_TEXT, before, &nb, err, sizeof(err)))
		fail_msg("get_config: %s", err);
	before[nb] = 0;
	/* Killed from outside, as a soak does. */
	assert_int_equal(kill(b->domain_pid, SIGKILL), 0);
	while (b->state != PT_INSTANCE_FAILED && pt_sched_periods(s) < 100000)
		assert_int_equal(pt_sched_period(s), 0);
	while (b->state == PT_INSTANCE_FAILED && pt_sched_periods(s) < 100000)
		assert_int_equal(pt_sched_period(s), 0);
	assert_int_equal(b->state, PT_INSTANCE_PREPARED);
	/* The first restart worked: no retry was needed. */
	assert_int_equal(b->stats.restarts, 1);
	assert_int_equal(b->stats.faults, 1);
	if (pt_graph_config_get(g, 2, PT_PARAM_TEXT, after, &na, err, sizeof(err)))
		fail_msg("get_config after the restart: %s", err);
	after[na] = 0;
	assert_string_equal(after, before);
	for (int i = 0; i < 20; i++)
		assert_int_equal(pt_sched_period(s), 0);
	assert_int_equal(b->state, PT_INSTANCE_PREPARED);
	pt_sched_free(s);
	pt_graph_free(g);
}

/* 900 blobs, more than the request ring has entries, replayed in order
 * (the replay once filled the ring: "send: No space left on device"). */
static void test_restart_long_history(void **state)
{
	(void)state;
	long_history(900, 0);
}

/* Thousands of blobs: past PT_CONFIG_HISTORY_RECORDS the history is folded,
 * last value per key, and still gives the module back the same state. */
static void test_restart_folded_history(void **state)
{
	(void)state;
	long_history(4000, 0);
}

/* Past PT_CONFIG_HISTORY_MAX bytes, the same. */
static void test_restart_folded_bytes(void **state)
{
	(void)state;
	long_history(1000, 1200); /* 1.2 MiB */
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, rss = 0;

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static int count_children(void)
{
	char path[300], line[256];
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "PPid:", 5) && atoi(line + 5) == (int)getpid())
				n++;
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return n;
}

/* A thousand crashes, each followed by a restart in a fresh domain. */
static void test_thousand_cycles(void **state)
{
	struct pt_graph *g = chain("fault=segv at=2", PT_RESTART_NEVER, 0);
	struct pt_sched *s = pt_sched_new(g, err, sizeof(err));
	struct pt_instance *b = pt_graph_instance(g, 2);
	int fds_early = 0, children;
	long rss_early = 0;

	(void)state;
	for (int cycle = 1; cycle <= 1000; cycle++) {
		int guard = 0;

		while (b->state != PT_INSTANCE_FAILED && guard++ < 1000)
			assert_int_equal(pt_sched_period(s), 0);
		assert_int_equal(b->state, PT_INSTANCE_FAILED);
		if (pt_graph_instance_restart(g, b, err, sizeof(err)))
			fail_msg("restart %d: %s", cycle, err);
		if (cycle == 100) {
			fds_early = count_fds();
			rss_early = rss_kib();
		}
	}
	assert_int_equal(b->stats.faults, 1000);
	assert_int_equal(b->stats.restarts, 1000);
	/* Flat: the same descriptors, memory within 1 MiB, one live domain. */
	assert_int_equal(count_fds(), fds_early);
#ifndef PT_SANITIZE
	if (rss_kib() - rss_early > 1024)
		fail_msg("RSS grew from %ld KiB to %ld KiB over 900 cycles", rss_early,
			 rss_kib());
#else
	/* AddressSanitizer keeps freed memory in quarantine, so RSS grows by
	 * design there; LeakSanitizer checks at exit that nothing leaked. */
	(void)rss_early;
#endif
	children = count_children();
	assert_true(children <= 1);
	pt_sched_free(s);
	pt_graph_free(g);
	/* And none left behind once the graph is gone. */
	for (int i = 0; i < 100 && count_children(); i++)
		usleep(10000);
	assert_int_equal(count_children(), 0);
}

static int setup(void **state)
{
	const char *build = getenv("PARTITA_BUILD");

	(void)state;
	snprintf(faultlib, sizeof(faultlib), "%s/tests/faults/pt_fault.so",
		 build ? build : ".");
	snprintf(out, sizeof(out), "/tmp/pt-restart-%d.wav", (int)getpid());
	return access(faultlib, R_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_replayed),
		cmocka_unit_test(test_restart_long_history),
		cmocka_unit_test(test_restart_folded_history),
		cmocka_unit_test(test_restart_folded_bytes),
		cmocka_unit_test(test_thousand_cycles),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
