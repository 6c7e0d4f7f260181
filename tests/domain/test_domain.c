/* SPDX-License-Identifier: MIT */
/*
 * tests/domain/test_domain - a real module runs in a real domain and gives
 * the same bits as in-process; the request path's control operations work.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/domain/rig.h"

#define PERIODS 400

static struct pt_budget budget;

/* Runs @library isolated for PERIODS periods; @out gets every output frame. */
static void run_isolated(const char *library, const char *init,
			 const char *config_at_half, float *out)
{
	struct pt_buffer in, outb;
	struct pt_instance inst;
	float pcm[RIG_PERIOD * RIG_CHANNELS];
	char err[256], why[256];
	size_t taken = 0;
	int sig;

	rig_buffer(&budget, &in, 1);
	rig_buffer(&budget, &outb, 2);
	rig_instance(&inst, 7, "iso", library, init, NULL);
	rig_bind_in(&inst, &in);
	rig_bind_out(&inst, &outb);
	if (pt_exec_create(&budget, &inst, RIG_PERIOD, err, sizeof(err)))
		fail_msg("create: %s", err);
	if (pt_exec_prepare(&inst, err, sizeof(err)))
		fail_msg("prepare: %s", err);
	for (unsigned k = 0; k < PERIODS; k++) {
		if (config_at_half && k == PERIODS / 2 &&
		    pt_exec_config_set(&inst, PT_PARAM_TEXT, config_at_half,
				       strlen(config_at_half), err, sizeof(err)))
			fail_msg("config: %s", err);
		rig_signal(pcm, RIG_PERIOD, k);
		rig_feed(&in, pcm, RIG_PERIOD);
		if (rig_step(&inst, k + 1, 2000000000ull, &sig, why, sizeof(why)))
			fail_msg("period %u: %s", k, why);
		taken += rig_take(&outb, out + taken * RIG_CHANNELS, RIG_PERIOD);
	}
	assert_int_equal(taken, (size_t)PERIODS * RIG_PERIOD);
	pt_exec_destroy(&inst);
	rig_buffer_free(&in);
	rig_buffer_free(&outb);
}

static void compare_with_trusted(const char *library, const char *init,
				 const char *config)
{
	size_t n = (size_t)PERIODS * RIG_PERIOD * RIG_CHANNELS;
	float *iso = calloc(n, sizeof(float)), *tru = calloc(n, sizeof(float));
	size_t nonzero = 0;

	assert_non_null(iso);
	assert_non_null(tru);
	run_isolated(library, init, config, iso);
	assert_int_equal(rig_trusted(library, init, PERIODS, config, tru), 0);
	for (size_t i = 0; i < n; i++)
		nonzero += tru[i] != 0.0f;
	/* The comparison means something only if the output is not silence. */
	assert_true(nonzero > n / 2);
	assert_memory_equal(iso, tru, n * sizeof(float));
	free(iso);
	free(tru);
}

static void test_probe_bit_identical(void **state)
{
	(void)state;
	compare_with_trusted(rig_built("tests/hostile/pt_probe.so"),
			     "gain=0.75 coef=0.125", "gain=0.3");
}

static void test_gain_bit_identical(void **state)
{
	(void)state;
	/* A shipped module (modules/gain), with a ramped change half-way. */
	compare_with_trusted(rig_built("modules/pt_gain.so"), "gain_db=-6",
			     "gain_db=-1.5");
}

static void test_eq_bit_identical(void **state)
{
	(void)state;
	compare_with_trusted(rig_built("modules/pt_eq_iir.so"), NULL, NULL);
}

/* Several periods per request give the same bits as one at a time, and a
 * batch stops where the module stops being ready. */
static void test_batch_bit_identical(void **state)
{
	size_t n = (size_t)PERIODS * RIG_PERIOD * RIG_CHANNELS;
	float *iso = calloc(n, sizeof(float)), *tru = calloc(n, sizeof(float));
	float pcm[RIG_DEPTH * RIG_PERIOD * RIG_CHANNELS];
	const char *lib = rig_built("tests/hostile/pt_probe.so");
	struct pt_buffer in, out;
	struct pt_instance inst;
	char err[256], why[256];
	size_t taken = 0;
	uint64_t tag = 0;
	int sig;

	(void)state;
	assert_non_null(iso);
	assert_non_null(tru);
	rig_buffer(&budget, &in, 1);
	rig_buffer(&budget, &out, 2);
	rig_instance(&inst, 8, "batch", lib, "gain=0.75 coef=0.125", NULL);
	rig_bind_in(&inst, &in);
	rig_bind_out(&inst, &out);
	assert_int_equal(pt_exec_create(&budget, &inst, RIG_PERIOD, err, sizeof(err)), 0);
	assert_int_equal(pt_exec_prepare(&inst, err, sizeof(err)), 0);
	for (unsigned k = 0; k < PERIODS; k += RIG_DEPTH) {
		for (unsigned j = 0; j < RIG_DEPTH; j++) {
			rig_signal(pcm, RIG_PERIOD, k + j);
			rig_feed(&in, pcm, RIG_PERIOD);
		}
		if (rig_step_batch(&inst, ++tag, RIG_DEPTH, 2000000000ull, &sig, why, sizeof(why)))
			fail_msg("batch at %u: %s", k, why);
		assert_int_equal(pt_exec_periods_run(&inst), RIG_DEPTH);
		taken += rig_take(&out, iso + taken * RIG_CHANNELS, RIG_DEPTH * RIG_PERIOD);
	}
	assert_int_equal(taken, (size_t)PERIODS * RIG_PERIOD);
	assert_int_equal(rig_trusted(lib, "gain=0.75 coef=0.125", PERIODS, NULL, tru), 0);
	assert_memory_equal(iso, tru, n * sizeof(float));

	/* Room for only two periods of output: two run, the rest stays. */
	for (unsigned j = 0; j < RIG_DEPTH; j++) {
		rig_signal(pcm, RIG_PERIOD, j);
		rig_feed(&in, pcm, RIG_PERIOD);
	}
	rig_feed(&out, pcm, 2 * RIG_PERIOD);
	assert_int_equal(rig_step_batch(&inst, ++tag, RIG_DEPTH, 2000000000ull, &sig, why,
					sizeof(why)), 0);
	assert_int_equal(pt_exec_periods_run(&inst), 2);
	assert_int_equal(pt_buffer_fill(&in), 2 * RIG_PERIOD * RIG_CHANNELS * sizeof(float));
	assert_int_equal(pt_buffer_room(&out), 0);
	pt_exec_destroy(&inst);
	rig_buffer_free(&in);
	rig_buffer_free(&out);
	free(iso);
	free(tru);
}

/* Every other shipped one-in one-out module, including the two that wrap
 * speexdsp (a system library the domain loads as a dependency, whose
 * malloc calls land in the private heap). */
static void test_shipped_modules_bit_identical(void **state)
{
	static const char *const mods[][2] = {
		{ "modules/pt_fir.so", "taps=0.5,0.25,-0.125,0.0625" },
		{ "modules/pt_dcblock.so", NULL },
		{ "modules/pt_delay.so", NULL },
		{ "modules/pt_drc.so", NULL },
		{ "modules/pt_denoise.so", NULL },
		{ "modules/pt_src.so", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		print_message("  %s\n", mods[i][0]);
		compare_with_trusted(rig_built(mods[i][0]), mods[i][1], NULL);
	}
}

static void test_control_requests(void **state)
{
	struct pt_buffer in, out;
	struct pt_instance inst;
	char err[256], buf[64];
	size_t n = sizeof(buf);

	(void)state;
	rig_buffer(&budget, &in, 1);
	rig_buffer(&budget, &out, 2);
	rig_instance(&inst, 3, "ctl", rig_built("tests/hostile/pt_probe.so"),
		     "gain=0.5", NULL);
	rig_bind_in(&inst, &in);
	rig_bind_out(&inst, &out);
	assert_int_equal(pt_exec_create(&budget, &inst, RIG_PERIOD, err, sizeof(err)), 0);
	assert_int_equal(pt_exec_prepare(&inst, err, sizeof(err)), 0);
	assert_true(pt_exec_pidfd(&inst) >= 0);
	assert_true(inst.domain_pid > 0);
	/* Nothing inherited: stdio (null, null, log pipe) and the socket. */
	{
		char dir[64];
		struct dirent *de;
		int fds = 0;
		DIR *dp;

		snprintf(dir, sizeof(dir), "/proc/%d/fd", inst.domain_pid);
		dp = opendir(dir);
		assert_non_null(dp);
		while ((de = readdir(dp)))
			fds += de->d_name[0] != '.';
		closedir(dp);
		assert_int_equal(fds, 4);
	}
	assert_int_equal(pt_exec_config_set(&inst, PT_PARAM_TEXT, "gain=0.25", 9,
					    err, sizeof(err)), 0);
	assert_int_equal(pt_exec_config_get(&inst, PT_PARAM_TEXT, buf, &n, err,
					    sizeof(err)), 0);
	assert_int_equal(n, strlen("gain=0.25"));
	assert_memory_equal(buf, "gain=0.25", n);
	/* Too little room: the module's -ENOSPC comes back, nothing copied. */
	n = 3;
	assert_int_equal(pt_exec_config_get(&inst, PT_PARAM_TEXT, buf, &n, err,
					    sizeof(err)), -ENOSPC);
	/* A param the module refuses. */
	assert_int_equal(pt_exec_config_set(&inst, 99, "x", 1, err, sizeof(err)), -EINVAL);
	/* Payloads far beyond one socket message travel in chunks. */
	{
		size_t big = 250 * 1024, got = big;
		uint8_t *blob = malloc(big), *back = malloc(big);

		assert_non_null(blob);
		assert_non_null(back);
		for (size_t i = 0; i < big; i++)
			blob[i] = (uint8_t)i;
		if (pt_exec_config_set(&inst, 1, blob, big, err, sizeof(err)))
			fail_msg("big config: %s", err);
		memset(back, 0, big);
		assert_int_equal(pt_exec_config_get(&inst, 1, back, &got, err, sizeof(err)), 0);
		assert_int_equal(got, big);
		assert_memory_equal(back, blob, big);
		blob[big / 2] ^= 1;
		assert_int_equal(pt_exec_config_set(&inst, 1, blob, big, err, sizeof(err)),
				 -EBADMSG);
		free(blob);
		free(back);
	}
	assert_int_equal(pt_exec_reset(&inst, err, sizeof(err)), 0);
	/* Prepared again (the pipeline left RESET once more): still runs. */
	assert_int_equal(pt_exec_prepare(&inst, err, sizeof(err)), 0);
	{
		float pcm[RIG_PERIOD * RIG_CHANNELS];
		char why[256];
		int sig;

		rig_signal(pcm, RIG_PERIOD, 0);
		rig_feed(&in, pcm, RIG_PERIOD);
		if (rig_step(&inst, 1, 2000000000ull, &sig, why, sizeof(why)))
			fail_msg("after re-prepare: %s", why);
		assert_int_equal(pt_buffer_fill(&out), RIG_PERIOD * RIG_CHANNELS * sizeof(float));
	}
	assert_true(pt_exec_heap_used(&inst) > 0);
	assert_true(pt_exec_heap_used(&inst) <= 65536);
	pt_exec_destroy(&inst);
	assert_null(inst.exec);
	rig_buffer_free(&in);
	rig_buffer_free(&out);
}

/* A domain idle past its wait timeout (it checks its host is still there)
 * keeps serving. */
static void test_idle_domain_survives(void **state)
{
	struct pt_buffer in, out;
	struct pt_instance inst;
	float pcm[RIG_PERIOD * RIG_CHANNELS];
	char err[256], why[256];
	int sig;

	(void)state;
	rig_buffer(&budget, &in, 1);
	rig_buffer(&budget, &out, 2);
	rig_instance(&inst, 9, "idle", rig_built("tests/hostile/pt_probe.so"), NULL, NULL);
	rig_bind_in(&inst, &in);
	rig_bind_out(&inst, &out);
	assert_int_equal(pt_exec_create(&budget, &inst, RIG_PERIOD, err, sizeof(err)), 0);
	assert_int_equal(pt_exec_prepare(&inst, err, sizeof(err)), 0);
	usleep(1300 * 1000);
	rig_signal(pcm, RIG_PERIOD, 0);
	rig_feed(&in, pcm, RIG_PERIOD);
	if (rig_step(&inst, 1, 2000000000ull, &sig, why, sizeof(why)))
		fail_msg("after idling: %s", why);
	pt_exec_destroy(&inst);
	rig_buffer_free(&in);
	rig_buffer_free(&out);
}

/* printf to stdout and stderr from a callback is harmless and allowed. */
static void test_stdio_survives(void **state)
{
	struct pt_buffer in, out;
	struct pt_instance inst;
	float pcm[RIG_PERIOD * RIG_CHANNELS];
	char err[256], why[256];
	int sig;

	(void)state;
	rig_buffer(&budget, &in, 1);
	rig_buffer(&budget, &out, 2);
	rig_instance(&inst, 10, "chatty", rig_built("tests/hostile/pt_probe.so"),
		     "act=printf", NULL);
	rig_bind_in(&inst, &in);
	rig_bind_out(&inst, &out);
	assert_int_equal(pt_exec_create(&budget, &inst, RIG_PERIOD, err, sizeof(err)), 0);
	assert_int_equal(pt_exec_prepare(&inst, err, sizeof(err)), 0);
	for (uint64_t k = 1; k <= 2; k++) {
		rig_signal(pcm, RIG_PERIOD, k);
		rig_feed(&in, pcm, RIG_PERIOD);
		if (rig_step(&inst, k, 2000000000ull, &sig, why, sizeof(why)))
			fail_msg("printf: %s", why);
	}
	assert_string_equal(pt_exec_last_log(&inst), "probe: a line on stderr");
	pt_exec_destroy(&inst);
	rig_buffer_free(&in);
	rig_buffer_free(&out);
}

static void test_budget_charged_and_returned(void **state)
{
	struct pt_budget small;
	struct pt_instance inst;
	char err[256];
	size_t before;

	(void)state;
	pt_budget_init(&small, 64 * 1024);
	rig_instance(&inst, 4, "big", rig_built("tests/hostile/pt_probe.so"), NULL, NULL);
	inst.heap_size = 1 << 20;
	assert_int_equal(pt_exec_create(&small, &inst, RIG_PERIOD, err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, "user heap exhausted"));
	assert_int_equal(pt_budget_left(&small), 64 * 1024);

	before = pt_budget_left(&budget);
	inst.heap_size = 0;
	assert_int_equal(pt_exec_create(&budget, &inst, RIG_PERIOD, err, sizeof(err)), 0);
	assert_true(pt_budget_left(&budget) < before);
	pt_exec_destroy(&inst);
	assert_int_equal(pt_budget_left(&budget), before);
}

static void test_missing_library(void **state)
{
	struct pt_instance inst;
	char err[256], path[4096];

	(void)state;
	/* Shipped modules are found by name for running in a domain. */
	assert_int_equal(pt_exec_module_library("gain", path, sizeof(path)), 0);
	assert_non_null(strstr(path, "modules/pt_gain.so"));
	assert_int_equal(pt_exec_module_library("nosuchmodule", path, sizeof(path)), -ENOENT);
	assert_int_equal(pt_exec_module_library("../gain", path, sizeof(path)), -EINVAL);

	rig_instance(&inst, 5, "nolib", "/nonexistent/pt_none.so", NULL, NULL);
	assert_true(pt_exec_create(&budget, &inst, RIG_PERIOD, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "pt_none.so"));
	assert_null(inst.exec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_bit_identical),
		cmocka_unit_test(test_gain_bit_identical),
		cmocka_unit_test(test_eq_bit_identical),
		cmocka_unit_test(test_shipped_modules_bit_identical),
		cmocka_unit_test(test_batch_bit_identical),
		cmocka_unit_test(test_control_requests),
		cmocka_unit_test(test_idle_domain_survives),
		cmocka_unit_test(test_stdio_survives),
		cmocka_unit_test(test_budget_charged_and_returned),
		cmocka_unit_test(test_missing_library),
	};

	pt_budget_init(&budget, 64 << 20);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
