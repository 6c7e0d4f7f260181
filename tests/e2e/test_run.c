/* SPDX-License-Identifier: MIT */
/*
 * End to end: the real build/partita binary on real files. Output length
 * is exact, samples come through unchanged where the graph does not change
 * them, and bad input gets a clear message and a non-zero exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
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

static char partita[4096];
static char dir[256];
static char out_text[65536]; /* stdout and stderr of the last run */

/* Runs partita with the given arguments (NULL-terminated); returns its
 * exit status, or 128 + signal. Output goes to out_text. */
static int run(const char *arg0, ...)
{
	char *argv[32];
	char log[512];
	va_list ap;
	int n = 0, status;

	argv[n++] = partita;
	argv[n++] = (char *)arg0;
	va_start(ap, arg0);
	while (n < 31 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	snprintf(log, sizeof(log), "%s/log.txt", dir);
	status = pt_test_spawn(argv, log, out_text, sizeof(out_text));
	assert_int_not_equal(status, -1);
	return status;
}

static void path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

/* A ramp whose every sample differs from its neighbours, so a lost or
 * repeated sample at a period boundary shows. */
static void write_file(const char *p, int format, int rate, int channels,
		       sf_count_t frames)
{
	SF_INFO info = { .samplerate = rate, .channels = channels, .format = format };
	SNDFILE *sf = sf_open(p, SFM_WRITE, &info);
	int *buf = malloc(sizeof(int) * (size_t)(frames * channels));

	assert_non_null(sf);
	for (sf_count_t i = 0; i < frames * channels; i++)
		buf[i] = (int)((uint32_t)((i + 1) * 2654435761u) & 0xffff0000u);
	assert_int_equal(sf_writef_int(sf, buf, frames), frames);
	sf_close(sf);
	free(buf);
}

static int *read_file(const char *p, SF_INFO *info)
{
	SNDFILE *sf;
	int *buf;

	memset(info, 0, sizeof(*info));
	sf = sf_open(p, SFM_READ, info);
	if (!sf)
		fail_msg("cannot read %s: %s", p, sf_strerror(NULL));
	buf = malloc(sizeof(int) * (size_t)(info->frames * info->channels + 1));
	assert_int_equal(sf_readf_int(sf, buf, info->frames), info->frames);
	sf_close(sf);
	return buf;
}

static void test_demo(void **state)
{
	char out[512], json[512];
	SF_INFO info;
	FILE *f;
	char text[8192];
	size_t n;
	int *x;

	(void)state;
	path(out, sizeof(out), "demo.wav");
	path(json, sizeof(json), "demo.json");
	assert_int_equal(run("run", "-o", out, "--stats-json", json, NULL), 0);
	assert_non_null(strstr(out_text, "INSTANCE"));
	assert_non_null(strstr(out_text, "eq_iir"));
	x = read_file(out, &info);
	assert_int_equal(info.frames, 3 * 48000);
	assert_int_equal(info.channels, 2);
	assert_int_equal(info.samplerate, 48000);
	/* The sweep is audible: not all zero. */
	{
		int peak = 0;

		for (sf_count_t i = 0; i < info.frames * 2; i++)
			if (abs(x[i] / 65536) > peak)
				peak = abs(x[i] / 65536);
		assert_true(peak > 1000);
	}
	free(x);
	f = fopen(json, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	fclose(f);
	/* Offline steps are batches of up to 64 periods: at least the 3000
	 * periods of the three seconds ran, and no more than the batch of the
	 * end and the DP stages' steps of latency besides. */
	{
		const char *p = strstr(text, "\"periods\": ");
		unsigned long periods;

		assert_non_null(p);
		periods = strtoul(p + 11, NULL, 10);
		assert_true(periods >= 3000 && periods <= 3000 + 4 * 64);
	}
	assert_non_null(strstr(text, "\"name\": \"sweep\""));
	assert_non_null(strstr(text, "\"name\": \"out\""));
	assert_non_null(strstr(text, "\"deadline_misses\""));
	/* --seconds sets the length. */
	assert_int_equal(run("run", "-o", out, "--seconds", "0.5", "--quiet", NULL), 0);
	assert_string_equal(out_text, "");
	x = read_file(out, &info);
	assert_int_equal(info.frames, 24000);
	free(x);
}

/* Files through pass and copy: same samples, same length, for lengths that
 * are not whole periods, at several rates and formats. */
static void through(const char *topology, int format, int rate, int channels,
		    sf_count_t frames, const char *ext)
{
	char in[512], out[512], name[64];
	SF_INFO a, b;
	int *x, *y;

	snprintf(name, sizeof(name), "in-%s-%d%s", topology, rate, ext);
	path(in, sizeof(in), name);
	path(out, sizeof(out), "through.wav");
	write_file(in, format, rate, channels, frames);
	if (run("run", topology, "-i", in, "-o", out, "--quiet", NULL))
		fail_msg("partita run %s failed: %s", topology, out_text);
	x = read_file(in, &a);
	y = read_file(out, &b);
	assert_int_equal(b.frames, frames);
	assert_int_equal(b.channels, channels);
	assert_int_equal(b.samplerate, rate);
	for (sf_count_t i = 0; i < frames * channels; i++)
		if (x[i] != y[i])
			fail_msg("%s: sample %lld differs: %d != %d", topology,
				 (long long)i, x[i], y[i]);
	free(x);
	free(y);
}

static void test_pass_exact(void **state)
{
	(void)state;
	through("pass", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 44100 + 331, ".wav");
	through("pass", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 96000, 1, 9601, ".wav");
	through("pass", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 48000, 2, 12345, ".flac");
	through("pass", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 8000, 6, 7, ".wav");
}

static void test_copy_exact(void **state)
{
	(void)state;
	through("copy", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 2, 48000 + 17, ".wav");
	through("copy", SF_FORMAT_WAV | SF_FORMAT_PCM_32, 22050, 1, 5000, ".wav");
}

/* The default chain changes the samples but never the length. */
static void test_chain_length(void **state)
{
	char in[512], out[512];
	SF_INFO b;
	int *y;

	(void)state;
	path(in, sizeof(in), "chain-in.wav");
	path(out, sizeof(out), "chain-out.flac");
	write_file(in, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 30011);
	/* The chain runs in float; the FLAC file follows the input: 16-bit. */
	assert_int_equal(run("run", "-i", in, "-o", out, "--quiet", NULL), 0);
	y = read_file(out, &b);
	assert_int_equal(b.frames, 30011);
	assert_int_equal(b.format, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
	free(y);
	path(out, sizeof(out), "chain-out.wav");
	assert_int_equal(run("run", "-i", in, "-o", out, "--quiet", NULL), 0);
	y = read_file(out, &b);
	assert_int_equal(b.frames, 30011);
	assert_int_equal(b.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
	free(y);
}

/* The example voice topology: a noisy voice (made by scripts/make-voice.sh
 * with espeak-ng and sox, which scripts/deps.sh installs) through denoise,
 * eq_iir, drc and src, each isolated, to 44.1 kHz: the same file as the
 * trusted run, and the input's length at the new rate. */
static void test_voice_topology(void **state)
{
	const char *src = getenv("PARTITA_SOURCE");
	char cmd[1024], noisy[512], a[512], b[512], topo[512];
	SF_INFO in, oa, ob;
	int *x, *y, *z;

	(void)state;
	path(noisy, sizeof(noisy), "noisy.wav");
	path(a, sizeof(a), "clean-isolated.wav");
	path(b, sizeof(b), "clean-trusted.wav");
	snprintf(topo, sizeof(topo), "%s/topologies/voice.yaml", src ? src : "..");
	snprintf(cmd, sizeof(cmd), "'%s/scripts/make-voice.sh' '%s' >/dev/null",
		 src ? src : "..", noisy);
	assert_int_equal(system(cmd), 0);
	if (run("run", topo, "-i", noisy, "-o", a, "--quiet", NULL))
		fail_msg("isolated voice run: %s", out_text);
	if (run("run", topo, "-i", noisy, "-o", b, "--quiet", "--isolation", "none",
		NULL))
		fail_msg("trusted voice run: %s", out_text);
	x = read_file(noisy, &in);
	y = read_file(a, &oa);
	z = read_file(b, &ob);
	assert_int_equal(oa.samplerate, 44100);
	assert_int_equal(oa.frames, (sf_count_t)((double)in.frames * 44100.0 / 48000.0 + 0.5));
	assert_int_equal(ob.frames, oa.frames);
	assert_memory_equal(y, z, sizeof(int) * (size_t)oa.frames);
	free(x);
	free(y);
	free(z);
}

/* Fan-out through a copier and fan-in through a mixer, one branch in the
 * host and one in a domain: the same file as the all-trusted run. */
static void test_fanout_fanin(void **state)
{
	const char *src = getenv("PARTITA_SOURCE");
	char topo[512], a[512], b[512];
	SF_INFO ia, ib;
	int *x, *y, peak = 0;

	(void)state;
	snprintf(topo, sizeof(topo), "%s/topologies/fanout_fanin.yaml", src ? src : "..");
	path(a, sizeof(a), "fan-isolated.wav");
	path(b, sizeof(b), "fan-trusted.wav");
	if (run("run", topo, "-o", a, "--quiet", NULL))
		fail_msg("fan run: %s", out_text);
	if (run("run", topo, "-o", b, "--quiet", "--isolation", "none", NULL))
		fail_msg("trusted fan run: %s", out_text);
	x = read_file(a, &ia);
	y = read_file(b, &ib);
	assert_int_equal(ia.frames, 3 * 48000);
	assert_int_equal(ib.frames, ia.frames);
	assert_memory_equal(x, y, sizeof(int) * (size_t)(ia.frames * 2));
	for (sf_count_t i = 0; i < ia.frames * 2; i++)
		if (abs(x[i] / 65536) > peak)
			peak = abs(x[i] / 65536);
	assert_true(peak > 1000);
	free(x);
	free(y);
}

static void expect_error(int status, const char *needle)
{
	if (!strstr(out_text, needle) || status == 0 || status >= 128)
		fail_msg("expected an error exit with '%s', got status %d: %s",
			 needle, status, out_text);
}

static void test_bad_input(void **state)
{
	char in[512], txt[512], out[512], bad[512];
	FILE *f;

	(void)state;
	path(in, sizeof(in), "missing.wav");
	path(out, sizeof(out), "bad-out.wav");
	expect_error(run("run", "pass", "-i", in, "-o", out, NULL), "cannot read");
	expect_error(run("run", "pass", "-i", in, "-o", out, NULL), "missing.wav");

	path(txt, sizeof(txt), "notes.wav");
	f = fopen(txt, "w");
	fputs("this is not audio at all, just text in a file named .wav\n", f);
	fclose(f);
	expect_error(run("run", "copy", "-i", txt, "-o", out, NULL), "cannot read");

	/* Unsupported formats: too many channels, a rate out of range. */
	path(bad, sizeof(bad), "nine.wav");
	write_file(bad, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 9, 100);
	expect_error(run("run", "pass", "-i", bad, "-o", out, NULL), "9 channels");
	path(bad, sizeof(bad), "slow.wav");
	write_file(bad, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 4000, 1, 100);
	expect_error(run("run", "pass", "-i", bad, "-o", out, NULL), "4000 Hz");

	/* Outputs that cannot be written. */
	path(in, sizeof(in), "ok.wav");
	write_file(in, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 1, 480);
	expect_error(run("run", "pass", "-i", in, "-o", "/nonexistent/dir/o.wav", NULL),
		     "cannot write '/nonexistent/dir/o.wav'");
	expect_error(run("run", "pass", "-i", in, "-o", out, "--stats-json",
			 "/nonexistent/s.json", "--quiet", NULL),
		     "cannot write stats");
	path(bad, sizeof(bad), "o.xyz");
	expect_error(run("run", "pass", "-i", in, "-o", bad, NULL), "unknown file type");

	/* Nonsense arguments. */
	expect_error(run("run", "--bogus", NULL), "unknown or incomplete option");
	expect_error(run("run", "--seconds", "abc", NULL), "--seconds 'abc'");
	expect_error(run("run", "--seconds", "-1", NULL), "--seconds '-1'");
	expect_error(run("run", "--isolation", "maybe", NULL), "--isolation 'maybe'");
	expect_error(run("run", "--user-heap", "12Q", NULL), "--user-heap '12Q'");
	expect_error(run("run", "demo", "extra", NULL), "unexpected argument 'extra'");
	expect_error(run("run", "nosuch", NULL), "no topology 'nosuch'");
	expect_error(run("run", "demo", "-i", in, NULL), "drop -i");
	expect_error(run("run", "-i", NULL), "unknown or incomplete option");
	expect_error(run("frobnicate", NULL), "unknown command 'frobnicate'");
	/* A user heap too small for the graph: the budget's error. */
	expect_error(run("run", "-o", out, "--user-heap", "32K", NULL),
		     "user heap exhausted");
	assert_int_equal(run("run", "--help", NULL), 0);
	assert_non_null(strstr(out_text, "usage: partita run"));
	assert_int_equal(run("--help", NULL), 0);
	assert_int_equal(run("bench", "--help", NULL), 0);
}

static int setup(void **state)
{
	const char *build = getenv("PARTITA_BUILD");

	(void)state;
	snprintf(partita, sizeof(partita), "%s/partita", build ? build : ".");
	snprintf(dir, sizeof(dir), "/tmp/pt-e2e-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return access(partita, X_OK);
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo),
		cmocka_unit_test(test_pass_exact),
		cmocka_unit_test(test_copy_exact),
		cmocka_unit_test(test_chain_length),
		cmocka_unit_test(test_voice_topology),
		cmocka_unit_test(test_fanout_fanin),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
