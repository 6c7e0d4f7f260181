/* SPDX-License-Identifier: MIT */
/*
 * An instance that keeps every rule and still makes no progress holds back
 * nobody that does not depend on it. The real partita binary runs the stall
 * module (tests/faults/stall.c) with each kind of stall, trusted and
 * isolated, in three places:
 *   fan-out   in -> copier -> S -> oS, copier -> G -> oG, copier -> oD
 *   fan-in    in -> copier -> S -> mixer.0, copier -> G -> mixer.1,
 *             copier -> oD, mixer -> oM
 *   chain     in -> A -> S -> B -> oS,  in -> C -> oC
 * Every run ends (no "graph stalled"), every file has exactly the input's
 * length, the outputs that do not depend on S are bit-identical to a run
 * where S behaves, S is failed with "no progress for 40 periods", and what
 * depends on S is silence once it has failed.
 */
#include <math.h>
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
#include <sndfile.h>

#include "tests/common/spawn.h"
#include "tests/common/wav.h"

#define RATE 48000
#define PERIOD 48
#define FRAMES (RATE * 4 / 10 + 500) /* 0.4 s, not whole periods */

enum topo { FANOUT, FANIN, CHAIN };

static const char *const topo_names[] = { "fanout", "fanin", "chain" };
/* Per topology: the outputs, the ones that do not depend on S first. */
static const char *const honest[][2] = { { "oG", "oD" }, { "oD", NULL }, { "oC", NULL } };
static const char *const dependent[][2] = { { "oS", NULL }, { "oM", NULL }, { "oS", NULL } };

static char partita[4096], stalllib[4096], dir[256], input[512];
static char log_text[65536], json_text[65536];
static float *reference[3][2]; /* honest outputs of the runs where S behaves */
static const char *g_fields = "";  /* G's extra fields */

static void write_input(void)
{
	float *x = malloc(sizeof(float) * FRAMES * 2);

	for (int i = 0; i < FRAMES; i++) {
		x[2 * i] = 0.3f * sinf(2.0f * 3.14159265f * 440.0f * (float)i / RATE);
		x[2 * i + 1] = 0.2f * sinf(2.0f * 3.14159265f * 550.0f * (float)i / RATE);
	}
	pt_test_wav_write_float(input, RATE, 2, x, FRAMES);
	free(x);
}

static void write_topology(const char *path, enum topo t, const char *tag,
			   const char *s_fields)
{
	FILE *f = fopen(path, "w");
	const char *fmt = "{rate: 48000, channels: 2, sample: FLOAT_LE}";

	assert_non_null(f);
	fprintf(f, "rate: 48000\npipelines:\n  - name: main\n    instances:\n");
	fprintf(f, "      - {name: in, module: input, params: {file: \"%s\"}}\n", input);
	fprintf(f, "      - {name: S, library: \"%s\", %s}\n", stalllib, s_fields);
	if (t == CHAIN) {
		fprintf(f,
			"      - {name: in2, module: input, params: {file: \"%s\"}}\n"
			"      - {name: A, module: gain, params: {gain_db: -1}}\n"
			"      - {name: B, module: gain, params: {gain_db: -2}}\n"
			"      - {name: C, module: gain, params: {gain_db: -3}}\n"
			"      - {name: oS, module: output, params: {file: \"%s/%s-oS.wav\"}}\n"
			"      - {name: oC, module: output, params: {file: \"%s/%s-oC.wav\"}}\n"
			"    bindings:\n"
			"      - {from: in.0, to: A.0, format: %s}\n"
			"      - {from: A.0, to: S.0, format: %s}\n"
			"      - {from: S.0, to: B.0, format: %s}\n"
			"      - {from: B.0, to: oS.0, format: %s}\n"
			"      - {from: in2.0, to: C.0, format: %s}\n"
			"      - {from: C.0, to: oC.0, format: %s}\n",
			input, dir, tag, dir, tag, fmt, fmt, fmt, fmt, fmt, fmt);
		fclose(f);
		return;
	}
	fprintf(f,
		"      - {name: cp, module: copier}\n"
		"      - {name: G, module: gain, %s params: {gain_db: -3}}\n"
		"      - {name: oD, module: output, params: {file: \"%s/%s-oD.wav\"}}\n",
		g_fields, dir, tag);
	if (t == FANOUT)
		fprintf(f,
			"      - {name: oS, module: output, params: {file: \"%s/%s-oS.wav\"}}\n"
			"      - {name: oG, module: output, params: {file: \"%s/%s-oG.wav\"}}\n",
			dir, tag, dir, tag);
	else
		fprintf(f,
			"      - {name: mx, module: mixer}\n"
			"      - {name: oM, module: output, params: {file: \"%s/%s-oM.wav\"}}\n",
			dir, tag);
	fprintf(f,
		"    bindings:\n"
		"      - {from: in.0, to: cp.0, format: %s}\n"
		"      - {from: cp.0, to: S.0, format: %s}\n"
		"      - {from: cp.1, to: G.0, format: %s}\n"
		"      - {from: cp.2, to: oD.0, format: %s}\n",
		fmt, fmt, fmt, fmt);
	if (t == FANOUT)
		fprintf(f,
			"      - {from: S.0, to: oS.0, format: %s}\n"
			"      - {from: G.0, to: oG.0, format: %s}\n",
			fmt, fmt);
	else
		fprintf(f,
			"      - {from: S.0, to: mx.0, format: %s}\n"
			"      - {from: G.0, to: mx.1, format: %s}\n"
			"      - {from: mx.0, to: oM.0, format: %s}\n",
			fmt, fmt, fmt);
	fclose(f);
}

static float *read_output(const char *tag, const char *name)
{
	char path[512];
	SF_INFO info = { 0 };
	SNDFILE *sf;
	float *y;

	snprintf(path, sizeof(path), "%s/%s-%s.wav", dir, tag, name);
	sf = sf_open(path, SFM_READ, &info);
	if (!sf)
		fail_msg("no output %s: %s", path, log_text);
	/* Exactly the input's length, whatever S did. */
	if (info.frames != FRAMES)
		fail_msg("%s has %lld frames, not %d", path, (long long)info.frames, FRAMES);
	y = malloc(sizeof(float) * FRAMES * 2);
	assert_int_equal(sf_readf_float(sf, y, FRAMES), FRAMES);
	sf_close(sf);
	return y;
}

/* Runs @t with S given @s_fields; checks lengths and the honest outputs
 * (against the reference once it exists). */
static void run_case(enum topo t, const char *tag, const char *s_fields)
{
	char topo[512], json[512], log[512];
	char *argv[] = { partita, "run", topo, "--quiet", "--stats-json", json, NULL };
	FILE *f;
	size_t n;
	int status;

	snprintf(topo, sizeof(topo), "%s/%s.yaml", dir, tag);
	snprintf(json, sizeof(json), "%s/%s.json", dir, tag);
	snprintf(log, sizeof(log), "%s/%s.log", dir, tag);
	write_topology(topo, t, tag, s_fields);
	status = pt_test_spawn(argv, log, log_text, sizeof(log_text));
	/* 3: the run finished with an instance FAILED (the staller). */
	if (status != 0 && status != 3)
		fail_msg("partita run failed (%d) for %s: %s", status, tag, log_text);
	f = fopen(json, "r");
	assert_non_null(f);
	n = fread(json_text, 1, sizeof(json_text) - 1, f);
	json_text[n] = 0;
	fclose(f);
	if ((status == 3) != (strstr(json_text, "\"FAILED\"") != NULL))
		fail_msg("%s: exit status %d does not match the instance states: %s",
			 tag, status, json_text);
	for (int k = 0; k < 2 && honest[t][k]; k++) {
		float *y = read_output(tag, honest[t][k]);

		if (!reference[t][k]) {
			reference[t][k] = y;
			continue;
		}
		if (memcmp(y, reference[t][k], sizeof(float) * FRAMES * 2)) {
			for (long i = 0; i < FRAMES * 2; i++)
				if (y[i] != reference[t][k][i])
					fail_msg("%s: %s differs from the run without a stall at frame %ld",
						 tag, honest[t][k], i / 2);
		}
		free(y);
	}
}

/* S's entry in the stats JSON contains @text. */
static bool s_has(const char *text)
{
	const char *s = strstr(json_text, "\"name\": \"S\"");
	const char *end = s ? strchr(s, '}') : NULL;
	const char *p = s ? strstr(s, text) : NULL;

	return p && p < end;
}

static void reference_runs(void **state)
{
	(void)state;
	for (int t = FANOUT; t <= CHAIN; t++) {
		char tag[64];

		snprintf(tag, sizeof(tag), "%s-none", topo_names[t]);
		run_case((enum topo)t, tag, "isolation: none, progress_periods: 40, params: {kind: none}");
		assert_true(s_has("\"state\": \"READY\""));
		/* Not silence: the branch really ran. */
		assert_true(reference[t][0][2 * 1000] != 0.0f);
	}
}

/* Runs S with the stall @kind in topology @t; @iso is S's isolation field
 * (and more), @label names the run. */
static void stall_one(enum topo t, const char *kind, const char *iso,
		      const char *label)
{
	char tag[64], fields[160];
	float *y;

	snprintf(tag, sizeof(tag), "%s-%s-%s", topo_names[t], kind, label);
	snprintf(fields, sizeof(fields),
		 "isolation: %s, progress_periods: 40, params: {kind: %s, from: 20}",
		 iso, kind);
	run_case(t, tag, fields);
	if (!s_has("\"state\": \"FAILED\"") || !s_has("no progress for 40 periods"))
		fail_msg("%s: S was not failed for making no progress: %s", tag,
			 json_text);
	/* What depends on S: exact length (read_output checks it), and
	 * silence at the end, long after S failed. Not behind a mixer (the
	 * honest leg is in it), nor behind a flood: what S committed before
	 * it failed reaches the file ahead of time, up to a buffer a period. */
	y = read_output(tag, dependent[t][0]);
	for (long i = (long)FRAMES * 2 * 3 / 4; i < FRAMES * 2; i++)
		if (y[i] != 0.0f && t != FANIN && strcmp(kind, "flood"))
			fail_msg("%s: %s is not silence at frame %ld after S failed",
				 tag, dependent[t][0], i / 2);
	free(y);
}

static void stall_case(const char *kind, const char *iso, const char *label)
{
	for (int t = FANOUT; t <= CHAIN; t++)
		stall_one((enum topo)t, kind, iso, label);
}

/* An alignment no buffer can meet is refused when the pipeline starts,
 * naming the pin: such an instance could never be ready. */
static void test_alignment_refused(void **state)
{
	const char *iso[] = { "none", "process" };

	(void)state;
	for (int k = 0; k < 2; k++) {
		char topo[512], fields[128], log[512];
		char *argv[] = { partita, "run", topo, "--quiet", NULL };
		int status;

		snprintf(topo, sizeof(topo), "%s/align-%s.yaml", dir, iso[k]);
		snprintf(log, sizeof(log), "%s/align-%s.log", dir, iso[k]);
		snprintf(fields, sizeof(fields), "isolation: %s, params: {kind: hugealign}",
			 iso[k]);
		write_topology(topo, CHAIN, "align", fields);
		status = pt_test_spawn(argv, log, log_text, sizeof(log_text));
		if (status != 1 ||
		    !strstr(log_text, "input pin 0 asks for a 1073741824-frame alignment"))
			fail_msg("%s: exit %d: %s", iso[k], status, log_text);
	}
}

/* Scheduled in the host's LL pass instead of DP. */
static void test_ll_pass(void **state)
{
	(void)state;
	stall_case("noconsume", "none, sched: ll", "ll");
	stall_case("flood", "none, sched: ll", "ll");
	stall_case("under", "none, sched: ll", "ll");
	stall_case("notready", "none, sched: ll", "ll");
}

/* S shares a named domain with G, an honest gain: S fails, the domain and
 * G live on, and G's output is the one of the run without a stall. */
static void test_shared_domain(void **state)
{
	const char *g;

	(void)state;
	g_fields = "isolation: process, domain: shared,";
	stall_one(FANOUT, "noconsume", "process, domain: shared", "shared");
	g_fields = "";
	g = strstr(json_text, "\"name\": \"G\"");
	if (!g || strncmp(strstr(g, "\"state\": "), "\"state\": \"READY\"",
			  strlen("\"state\": \"READY\"")))
		fail_msg("G did not live on: %s", g ? g : json_text);
}

#define KIND_TESTS(kind)                                                     \
	static void test_##kind##_trusted(void **state)                      \
	{                                                                    \
		(void)state;                                                 \
		stall_case(#kind, "none", "trusted");                                   \
	}                                                                    \
	static void test_##kind##_isolated(void **state)                     \
	{                                                                    \
		(void)state;                                                 \
		stall_case(#kind, "process", "isolated");                                \
	}

KIND_TESTS(noconsume)
KIND_TESTS(flood)
KIND_TESTS(noproduce)
KIND_TESTS(under)
KIND_TESTS(trickle)
KIND_TESTS(alternate)
KIND_TESTS(notready)

static int setup(void **state)
{
	const char *build = getenv("PARTITA_BUILD");

	(void)state;
	snprintf(partita, sizeof(partita), "%s/partita", build ? build : ".");
	snprintf(stalllib, sizeof(stalllib), "%s/tests/faults/pt_stall.so",
		 build ? build : ".");
	snprintf(dir, sizeof(dir), "/tmp/pt-stall-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(input, sizeof(input), "%s/in.wav", dir);
	write_input();
	return access(partita, X_OK) || access(stalllib, R_OK);
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	for (int t = 0; t < 3; t++)
		for (int k = 0; k < 2; k++)
			free(reference[t][k]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reference_runs),
		cmocka_unit_test(test_noconsume_trusted),
		cmocka_unit_test(test_noconsume_isolated),
		cmocka_unit_test(test_flood_trusted),
		cmocka_unit_test(test_flood_isolated),
		cmocka_unit_test(test_noproduce_trusted),
		cmocka_unit_test(test_noproduce_isolated),
		cmocka_unit_test(test_under_trusted),
		cmocka_unit_test(test_under_isolated),
		cmocka_unit_test(test_trickle_trusted),
		cmocka_unit_test(test_trickle_isolated),
		cmocka_unit_test(test_alternate_trusted),
		cmocka_unit_test(test_alternate_isolated),
		cmocka_unit_test(test_notready_trusted),
		cmocka_unit_test(test_notready_isolated),
		cmocka_unit_test(test_ll_pass),
		cmocka_unit_test(test_alignment_refused),
		cmocka_unit_test(test_shared_domain),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
