/* SPDX-License-Identifier: MIT */
/*
 * The pipeline keeps playing: the real partita binary runs
 *     in1 -> A -> B -> out1      in2 -> C -> out2
 * with A, B and C isolated in their own domains, while B (the fault module)
 * crashes, hangs, lies, aborts or fails once. Both outputs keep the input's
 * exact length, out2 is bit-identical to a run where B behaves, out1 is the
 * good run up to the fault and silence after it, and the table says what
 * happened to B and when.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "tests/common/spawn.h"
#include "tests/common/wav.h"

#define RATE 48000
#define PERIOD 48          /* frames of a 1 ms period */
#define FRAMES (RATE + 1000) /* a little over a second, not whole periods */

static char partita[4096], faultlib[4096], dir[256], input[512];
static char log_text[65536];
static const char *batch = "1";
static float *good1, *good2; /* the run where B behaves */

static int run(const char *topo, const char *json, bool realtime)
{
	/* One period per DP request, so where a fault lands is exact to the
	 * period; test_batched covers the default batching. */
	char *argv[] = { partita, "run", (char *)topo, "--quiet", "--dp-batch",
			 (char *)batch, "--stats-json", (char *)json,
			 realtime ? "--realtime" : NULL, NULL };
	char log[512];
	int status;

	snprintf(log, sizeof(log), "%s/log.txt", dir);
	status = pt_test_spawn(argv, log, log_text, sizeof(log_text));
	assert_int_not_equal(status, -1);
	return status;
}

static void write_input(void)
{
	float *x = malloc(sizeof(float) * FRAMES * 2);

	for (int i = 0; i < FRAMES; i++) {
		x[2 * i] = 0.25f * sinf(2.0f * 3.14159265f * 440.0f * (float)i / RATE);
		x[2 * i + 1] = 0.2f * sinf(2.0f * 3.14159265f * 660.0f * (float)i / RATE);
	}
	/* The spike that trips a fault module with spike=1: at period 300. */
	x[2 * (300 * PERIOD + 5)] = 0.95f;
	pt_test_wav_write_float(input, RATE, 2, x, FRAMES);
	free(x);
}

/* Writes the topology; @b is B's extra fields, e.g. "params: {fault: segv, at: 100}". */
static void write_topology(const char *path, const char *tag, const char *b)
{
	FILE *f = fopen(path, "w");
	const char *fmt = "{rate: 48000, channels: 2, sample: FLOAT_LE}";

	assert_non_null(f);
	fprintf(f,
		"rate: 48000\n"
		"pipelines:\n"
		"  - name: main\n"
		"    instances:\n"
		"      - {name: in1, module: input, params: {file: \"%s\"}}\n"
		"      - {name: in2, module: input, params: {file: \"%s\"}}\n"
		"      - {name: A, module: gain, isolation: process, heap_size: 64K, params: {gain_db: -3}}\n"
		"      - {name: B, library: \"%s\", isolation: process, %s}\n"
		"      - {name: C, module: gain, isolation: process, heap_size: 64K, params: {gain_db: -6}}\n"
		"      - {name: out1, module: output, params: {file: \"%s/%s-1.wav\"}}\n"
		"      - {name: out2, module: output, params: {file: \"%s/%s-2.wav\"}}\n"
		"    bindings:\n"
		"      - {from: in1.0, to: A.0, format: %s}\n"
		"      - {from: A.0, to: B.0, format: %s}\n"
		"      - {from: B.0, to: out1.0, format: %s}\n"
		"      - {from: in2.0, to: C.0, format: %s}\n"
		"      - {from: C.0, to: out2.0, format: %s}\n",
		input, input, faultlib, b, dir, tag, dir, tag, fmt, fmt, fmt, fmt,
		fmt);
	fclose(f);
}

static float *read_output(const char *tag, int which)
{
	char path[512];
	SF_INFO info = { 0 };
	SNDFILE *sf;
	float *y;

	snprintf(path, sizeof(path), "%s/%s-%d.wav", dir, tag, which);
	sf = sf_open(path, SFM_READ, &info);
	if (!sf)
		fail_msg("no output %s: %s", path, log_text);
	/* Exactly the input's length, whatever happened to B. */
	assert_int_equal(info.frames, FRAMES);
	assert_int_equal(info.channels, 2);
	y = malloc(sizeof(float) * FRAMES * 2);
	assert_int_equal(sf_readf_float(sf, y, FRAMES), FRAMES);
	sf_close(sf);
	return y;
}

static char json_text[32768];

/* Returns the number after "key": in B's entry of the stats JSON. */
static long long b_number(const char *key)
{
	const char *b = strstr(json_text, "\"name\": \"B\"");
	char pat[64];
	const char *p;

	assert_non_null(b);
	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(b, pat);
	assert_non_null(p);
	return strtoll(p + strlen(pat), NULL, 10);
}

static bool b_has(const char *text)
{
	const char *b = strstr(json_text, "\"name\": \"B\"");
	const char *end = b ? strchr(b, '}') : NULL;
	const char *p = b ? strstr(b, text) : NULL;

	return p && p < end;
}

/* Runs the case; returns out1 and checks out2 against the good run. */
static float *run_case(const char *tag, const char *b, bool realtime)
{
	char topo[512], json[512];
	float *y2, *y1;
	FILE *f;
	size_t n;
	int rc;

	snprintf(topo, sizeof(topo), "%s/%s.yaml", dir, tag);
	snprintf(json, sizeof(json), "%s/%s.json", dir, tag);
	write_topology(topo, tag, b);
	rc = run(topo, json, realtime);
	if (rc != 0 && rc != 3)
		fail_msg("partita run failed for %s: %s", tag, log_text);
	f = fopen(json, "r");
	assert_non_null(f);
	n = fread(json_text, 1, sizeof(json_text) - 1, f);
	json_text[n] = 0;
	fclose(f);
	/* Exit status 3 exactly when an instance faulted or failed. */
	{
		bool faulted = strstr(json_text, "\"FAILED\"") != NULL;

		for (const char *p = json_text; (p = strstr(p, "\"faults\": ")); p++)
			faulted |= atoi(p + 10) > 0;
		if (rc != (faulted ? 3 : 0))
			fail_msg("%s: exit status %d, faulted %d: %s", tag, rc,
				 faulted, log_text);
	}
	y1 = read_output(tag, 1);
	y2 = read_output(tag, 2);
	if (good2)
		assert_memory_equal(y2, good2, sizeof(float) * FRAMES * 2);
	free(y2);
	return y1;
}

/* out1 is the good run until frame @from, silence from there on. */
static void silent_from(const float *y, long from)
{
	for (long i = 0; i < FRAMES * 2; i++) {
		if (i < from * 2 && y[i] != good1[i])
			fail_msg("sample %ld differs before the fault", i);
		if (i >= from * 2 && y[i] != 0.0f)
			fail_msg("sample %ld (frame %ld) is not silence after the fault at frame %ld",
				 i, i / 2, from);
	}
}

static void test_good_run(void **state)
{
	float *y1;

	(void)state;
	y1 = run_case("good", "params: {fault: none}", false);
	good1 = y1;
	{
		char path[512];
		SF_INFO info = { 0 };
		SNDFILE *sf;

		snprintf(path, sizeof(path), "%s/good-2.wav", dir);
		sf = sf_open(path, SFM_READ, &info);
		good2 = malloc(sizeof(float) * FRAMES * 2);
		assert_int_equal(sf_readf_float(sf, good2, FRAMES), FRAMES);
		sf_close(sf);
	}
	assert_true(b_has("\"state\": \"READY\""));
	assert_int_equal(b_number("faults"), 0);
	/* Not silence: the chain really ran. */
	assert_true(fabsf(good1[2 * 100]) > 0.0f || fabsf(good1[2 * 101]) > 0.0f);
}

static void test_segv(void **state)
{
	float *y;

	(void)state;
	y = run_case("segv", "params: {fault: segv, at: 100}", false);
	assert_true(b_has("\"state\": \"FAILED\""));
	assert_int_equal(b_number("fault_signal"), 11);
	assert_int_equal(b_number("faults"), 1);
	/* B's 100th call is at host period 100 plus the two steps its data
	 * takes to reach it through in1 and A. */
	assert_true(b_number("fault_period") >= 100 && b_number("fault_period") <= 104);
	silent_from(y, 99 * PERIOD);
	free(y);
}

static void test_abort(void **state)
{
	float *y;

	(void)state;
	y = run_case("abort", "params: {fault: abort, at: 50}", false);
	assert_true(b_has("\"state\": \"FAILED\""));
	assert_int_equal(b_number("fault_signal"), 6);
	silent_from(y, 49 * PERIOD);
	free(y);
}

static void test_spin(void **state)
{
	float *y;

	(void)state;
	y = run_case("spin", "hang_ms: 200, params: {fault: spin, at: 200}", false);
	assert_true(b_has("\"state\": \"FAILED\""));
	assert_true(b_has("hung: no answer for 200 ms"));
	assert_true(b_number("deadline_misses") >= 1);
	silent_from(y, 199 * PERIOD);
	free(y);
}

static void test_lie(void **state)
{
	float *y;

	(void)state;
	y = run_case("lie", "params: {fault: lie, at: 120}", false);
	assert_true(b_has("\"state\": \"FAILED\""));
	assert_int_equal(b_number("fault_signal"), 0);
	silent_from(y, 119 * PERIOD);
	free(y);
}

/* A module slower than its deadline once is counted, not killed; offline
 * its late result is still used, so the output is the good one. */
static void test_slow_once(void **state)
{
	float *y;

	(void)state;
	y = run_case("slow", "params: {fault: slow, at: 150, slow_ms: 30}", false);
	assert_true(b_has("\"state\": \"READY\""));
	assert_true(b_number("deadline_misses") >= 1);
	assert_int_equal(b_number("faults"), 0);
	assert_memory_equal(y, good1, sizeof(float) * FRAMES * 2);
	free(y);
}

/* A failed process call costs its period only. */
static void test_fail_once(void **state)
{
	float *y;

	(void)state;
	y = run_case("fail", "params: {fault: fail, at: 80}", false);
	assert_true(b_has("\"state\": \"READY\""));
	assert_int_equal(b_number("faults"), 1);
	for (long i = 0; i < FRAMES * 2; i++) {
		bool lost = i >= 79 * PERIOD * 2 && i < 80 * PERIOD * 2;

		if (lost ? y[i] != 0.0f : y[i] != good1[i])
			fail_msg("sample %ld: %g (good %g)", i, y[i], good1[i]);
	}
	free(y);
}

/* With DP requests of 16 periods, a domain that dies takes the batch it
 * was working on with it: out1 is the good run up to the start of that
 * batch and silence after; out2 is untouched. */
static void test_batched(void **state)
{
	float *y;
	long from = -1;

	(void)state;
	batch = "16";
	y = run_case("batched", "params: {fault: segv, at: 100}", false);
	batch = "1";
	assert_true(b_has("\"state\": \"FAILED\""));
	assert_int_equal(b_number("fault_signal"), 11);
	for (long f = 0; f < FRAMES && from < 0; f++)
		if (y[2 * f] != good1[2 * f] || y[2 * f + 1] != good1[2 * f + 1])
			from = f;
	/* Silence begins on a period boundary within the batch of the fault. */
	assert_true(from >= 0 && from % PERIOD == 0);
	assert_true(from <= 99 * PERIOD && from > (99 - 16) * PERIOD);
	silent_from(y, from);
	free(y);
}

/* Restart: B crashes on the spike at period 300, comes back in a fresh
 * domain and plays on; only the periods while it was down are silent. */
static void test_restart_on_failure(void **state)
{
	float *y;
	long silent = 0, first = -1, last = -1;

	(void)state;
	y = run_case("restart", "restart: on-failure, params: {fault: segv, spike: 1}",
		     false);
	assert_true(b_has("\"state\": \"READY\""));
	assert_int_equal(b_number("faults"), 1);
	assert_int_equal(b_number("restarts"), 1);
	for (long f = 0; f < FRAMES; f++) {
		if (y[2 * f] == good1[2 * f] && y[2 * f + 1] == good1[2 * f + 1])
			continue;
		if (y[2 * f] != 0.0f || y[2 * f + 1] != 0.0f)
			fail_msg("frame %ld is neither the good signal nor silence", f);
		silent++;
		if (first < 0)
			first = f;
		last = f;
	}
	/* Silence starts with the period of the spike and lasts the back-off
	 * (10 periods) and a little more, then the good signal resumes. */
	assert_int_equal(first, 300 * PERIOD);
	assert_true(silent >= 10 * PERIOD && silent <= 20 * PERIOD);
	assert_true(last < 330 * PERIOD);
	free(y);
}

static int setup(void **state)
{
	const char *build = getenv("PARTITA_BUILD");

	(void)state;
	snprintf(partita, sizeof(partita), "%s/partita", build ? build : ".");
	snprintf(faultlib, sizeof(faultlib), "%s/tests/faults/pt_fault.so",
		 build ? build : ".");
	snprintf(dir, sizeof(dir), "/tmp/pt-faults-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(input, sizeof(input), "%s/in.wav", dir);
	write_input();
	return access(partita, X_OK) || access(faultlib, R_OK);
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	free(good1);
	free(good2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_run),
		cmocka_unit_test(test_batched),
		cmocka_unit_test(test_segv),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_spin),
		cmocka_unit_test(test_lie),
		cmocka_unit_test(test_slow_once),
		cmocka_unit_test(test_fail_once),
		cmocka_unit_test(test_restart_on_failure),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
