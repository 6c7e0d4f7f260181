/* SPDX-License-Identifier: MIT */
/*
 * The ring benchmark's output and its syscall counting: `--json` carries the
 * four modes with the fields the issue names, the spinning modes make no
 * syscall, a sleeping round trip makes at most one wake per signalling
 * event, and the futex calls the ring's counters report are exactly the
 * ones strace sees.
 */
#include "ring_test.h"

#include <string.h>

static char bench_path[4096];

/* ring_bench_run sits next to this test binary (build/tests). */
static int setup(void **state)
{
	char self[4000];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	(void)state;
	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	snprintf(bench_path, sizeof(bench_path), "%s/ring_bench_run", self);
	if (access(bench_path, X_OK) != 0) {
		fprintf(stderr, "%s not built\n", bench_path);
		return -1;
	}
	return 0;
}

/* Runs @cmd and returns its whole stdout (caller frees). */
static char *run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	size_t cap = 1 << 16, len = 0, n;
	char *out = malloc(cap);

	assert_non_null(p);
	assert_non_null(out);
	while ((n = fread(out + len, 1, cap - 1 - len, p)) > 0)
		len += n;
	out[len] = '\0';
	if (pclose(p) != 0) {
		fprintf(stderr, "'%s' failed; its output:\n%s\n", cmd, out);
		free(out);
		fail();
	}
	return out;
}

/* The row of @mode in the JSON, as a pointer to its '{'. */
static const char *row(const char *json, const char *mode)
{
	char key[64];
	const char *at;

	snprintf(key, sizeof(key), "\"mode\": \"%s\"", mode);
	at = strstr(json, key);
	if (!at)
		fail_msg("no row for mode %s in:\n%s", mode, json);
	return at;
}

/* The number after "@key": in @row (which ends at the next '}'). */
static double field(const char *row, const char *key)
{
	char k[64];
	const char *at, *end = strchr(row, '}');

	snprintf(k, sizeof(k), "\"%s\": ", key);
	at = strstr(row, k);
	if (!at || (end && at > end))
		fail_msg("field %s missing in row %.*s", key,
			 end ? (int)(end - row) : 80, row);
	return strtod(at + strlen(k), NULL);
}

static void json_has_every_mode_and_field(void **state)
{
	char cmd[4200];
	char *out;
	static const char *const modes[] = { "spin_floor", "futex_floor",
					     "ring_spin", "ring_sleep" };

	(void)state;
	snprintf(cmd, sizeof(cmd), "%s --rounds 1000 --json", bench_path);
	out = run(cmd);
	assert_non_null(strstr(out, "{\"rows\": ["));
	for (unsigned i = 0; i < 4; i++) {
		const char *r = row(out, modes[i]);

		assert_true(field(r, "rounds") == 1000);
		assert_true(field(r, "rtt_ns_p50") > 0);
		assert_true(field(r, "rtt_ns_p99") >= field(r, "rtt_ns_p50"));
		assert_true(field(r, "syscalls_per_rtt") >= 0);
		assert_true(field(r, "ratio_p50") > 0);
	}
	/* none when both sides spin */
	assert_true(field(row(out, "spin_floor"), "syscalls_per_rtt") == 0);
	assert_true(field(row(out, "ring_spin"), "syscalls_per_rtt") == 0);
	/* at most one wake per signalling event; each side sleeps at most
	 * once per event it waits for, plus a wait cut short by a wake
	 * that came while it was going to sleep */
	assert_true(field(row(out, "ring_sleep"), "wakes_per_signal") <= 1.0);
	assert_true(field(row(out, "ring_sleep"), "syscalls_per_rtt") <= 4.5);
	assert_true(field(row(out, "ring_sleep"), "syscalls_per_rtt") > 0);
	free(out);
}

static void bad_arguments_are_refused(void **state)
{
	char cmd[4200];

	(void)state;
	snprintf(cmd, sizeof(cmd), "%s --rounds 5 >/dev/null 2>&1",
		 bench_path);
	assert_int_equal(WEXITSTATUS(system(cmd)), 2);
	snprintf(cmd, sizeof(cmd), "%s --mode warp >/dev/null 2>&1",
		 bench_path);
	assert_int_equal(WEXITSTATUS(system(cmd)), 2);
	snprintf(cmd, sizeof(cmd), "%s --frobnicate >/dev/null 2>&1",
		 bench_path);
	assert_int_equal(WEXITSTATUS(system(cmd)), 2);
}

/* The counters against the kernel's view: strace counts every futex call
 * of both processes. */
static void futex_count_matches_strace(void **state)
{
	static const char *const modes[] = { "ring_sleep", "futex_floor",
					     "ring_spin" };
	char cmd[8400], trace[] = "/tmp/pt-ring-strace-XXXXXX";
	int fd;

	(void)state;
	if (system("strace -f -o /dev/null true >/dev/null 2>&1") != 0)
		skip(); /* no strace, or ptrace not allowed here */
	fd = mkstemp(trace);
	assert_true(fd >= 0);
	close(fd);
	for (unsigned i = 0; i < 3; i++) {
		char *out, *summary, *line;
		double counted, seen;

		snprintf(cmd, sizeof(cmd),
			 /* LeakSanitizer cannot run under ptrace */
			 "ASAN_OPTIONS=\"$ASAN_OPTIONS:detect_leaks=0\" "
			 "strace -f -c -e trace=futex -o %s %s --rounds 500 "
			 "--mode %s --json",
			 trace, bench_path, modes[i]);
		out = run(cmd);
		counted = field(row(out, modes[i]), "futex_calls_total");
		snprintf(cmd, sizeof(cmd), "cat %s", trace);
		summary = run(cmd);
		/* "% time seconds usecs/call calls errors syscall": the
		 * fourth column of the futex line; no line means none */
		line = strstr(summary, " futex\n");
		seen = 0;
		if (line) {
			double pct, secs, usecs;

			while (line > summary && line[-1] != '\n')
				line--;
			assert_int_equal(sscanf(line, "%lf %lf %lf %lf", &pct,
						&secs, &usecs, &seen),
					 4);
		}
		printf("%s: ring counters %.0f futex calls, strace %.0f\n",
		       modes[i], counted, seen);
		assert_true(counted == seen);
		free(out);
		free(summary);
	}
	unlink(trace);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_has_every_mode_and_field),
		cmocka_unit_test(bad_arguments_are_refused),
		cmocka_unit_test(futex_count_matches_strace),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
