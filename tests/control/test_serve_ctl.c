/* SPDX-License-Identifier: MIT */
/*
 * End to end: a real `partita serve` driven by `partita ctl` and by raw
 * datagrams on its socket. Builds a graph from a topology, runs it, turns a
 * gain down while it runs (and checks the output file got quieter by that
 * much), reads stats, feeds malformed messages (each gets an error reply,
 * the host keeps serving), tears the graph down and stops the host.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "host/control/client.h"
#include "host/control/codec.h"

static char dir[128], sock[256], wav[256], wav_iso[256], topo[256], log_path[256];
static char partita[600];
static char out[16384];
static pid_t serve_pid;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Runs `partita ctl --socket SOCK ARGS`; returns its exit status, with its
 * stdout and stderr in out[]. */
static int ctl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int ctl(const char *fmt, ...)
{
	char args[1024], cmd[4096], path[300];
	va_list ap;
	FILE *f;
	size_t n;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/ctl.out", dir);
	snprintf(cmd, sizeof(cmd), "'%s' ctl --socket '%s' %s >'%s' 2>&1", partita, sock,
		 args, path);
	st = system(cmd);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	fclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

#define CTL_OK(...)                                                            \
	do {                                                                   \
		int r_ = ctl(__VA_ARGS__);                                     \
		if (r_)                                                        \
			fail_msg("ctl %s -> %d: %s", #__VA_ARGS__, r_, out);   \
	} while (0)

static char build_dir[512];

static void write_topology(void)
{
	FILE *f = fopen(topo, "w");

	assert_non_null(f);
	fprintf(f,
		"period_us: 1000\n"
		"rate: 48000\n"
		"pipelines:\n"
		"  - name: main\n"
		"    instances:\n"
		"      - {name: tone1, module: tone, params: {freq: 1000, amplitude_db: -6}}\n"
		"      - {name: gain1, module: gain, params: {gain_db: 0}}\n"
		"      - {name: out, module: output, params: {file: %s}}\n"
		"    bindings:\n"
		"      - {from: tone1.0, to: gain1.0, format: {rate: 48000, channels: 2, sample: S32_LE}}\n"
		"      - {from: gain1.0, to: out.0, format: {rate: 48000, channels: 2, sample: S32_LE}}\n"
		/* the same with the gain an untrusted library in its own domain */
		"  - name: iso\n"
		"    instances:\n"
		"      - {name: tone2, module: tone, params: {freq: 1000, amplitude_db: -6}}\n"
		"      - {name: gain2, library: %s/modules/pt_gain.so, isolation: process,\n"
		"         heap_size: 64K, max_misses: 1000, params: {gain_db: 0}}\n"
		"      - {name: out2, module: output, params: {file: %s}}\n"
		"    bindings:\n"
		"      - {from: tone2.0, to: gain2.0, format: {rate: 48000, channels: 2, sample: FLOAT_LE}}\n"
		"      - {from: gain2.0, to: out2.0, format: {rate: 48000, channels: 2, sample: FLOAT_LE}}\n",
		wav, build_dir, wav_iso);
	fclose(f);
}

static int setup(void **state)
{
	const char *b = getenv("PARTITA_BUILD");
	char err[256];

	(void)state;
	snprintf(build_dir, sizeof(build_dir), "%s", b ? b : PT_TEST_BUILD);
	snprintf(partita, sizeof(partita), "%s/partita", build_dir);
	snprintf(dir, sizeof(dir), "/tmp/pt_serve_XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	snprintf(wav, sizeof(wav), "%s/out.wav", dir);
	snprintf(wav_iso, sizeof(wav_iso), "%s/out_iso.wav", dir);
	snprintf(topo, sizeof(topo), "%s/t.yaml", dir);
	snprintf(log_path, sizeof(log_path), "%s/serve.log", dir);
	write_topology();
	serve_pid = fork();
	if (serve_pid == 0) {
		FILE *l = freopen(log_path, "w", stderr);

		(void)l;
		execl(partita, "partita", "serve", "--socket", sock, topo, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		int fd = pt_ctl_connect(sock, err, sizeof(err));

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (waitpid(serve_pid, NULL, WNOHANG) == serve_pid) {
			serve_pid = 0;
			break;
		}
		sleep_ms(50);
	}
	{
		char cmd[600];

		fprintf(stderr, "partita serve did not come up; its log:\n");
		snprintf(cmd, sizeof(cmd), "cat '%s' >&2", log_path);
		if (system(cmd))
			return -1;
	}
	return -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	if (serve_pid > 0) {
		kill(serve_pid, SIGKILL);
		waitpid(serve_pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

/* Sends raw bytes on @fd and returns the status of the one reply (no
 * notifications come: nothing runs during this test). A reply whose header
 * was readable echoes @seq. */
static unsigned raw(int fd, const void *m, size_t len, uint32_t seq)
{
	static uint8_t buf[PT_CTL_MSG_MAX];
	struct pt_ctl_reply rep;
	char err[256];
	int n;

	assert_true(send(fd, m, len, MSG_NOSIGNAL) == (ssize_t)len);
	n = pt_ctl_receive(fd, buf, sizeof(buf), 5000);
	if (n <= 0)
		fail_msg("no reply to %zu bytes: %d", len, n);
	if (pt_ctl_decode_reply(buf, (size_t)n, &rep, err, sizeof(err)))
		fail_msg("bad reply: %s", err);
	if (len >= sizeof(struct pt_ctl_header) && seq != UINT32_MAX)
		assert_int_equal(rep.hdr.seq, seq);
	if (rep.hdr.status != PT_CTL_OK &&
	    (!rep.body_size || !((const char *)rep.body)[0]))
		fail_msg("error reply without text");
	return rep.hdr.status;
}

static void test_malformed_over_socket(void **state)
{
	static uint8_t m[PT_CTL_MSG_MAX * 2];
	struct pt_ctl_bind b = { 1, 0, 2, 0, 48000, 2, PT_SAMPLE_S32_LE, 2, 0 };
	struct pt_ctl_get_stats gs = { 0 };
	char err[256];
	size_t len;
	int fd;

	(void)state;
	fd = pt_ctl_connect(sock, err, sizeof(err));
	assert_true(fd >= 0);
	/* too short for a header: the reply carries seq 0 */
	assert_int_equal(raw(fd, "xyz", 3, 0), PT_CTL_E_TRUNCATED);
	/* larger than any message */
	len = pt_ctl_encode(m, sizeof(m), PT_CTL_GET_STATS, 0, 11, 0, &gs,
			    pt_ctl_layout(PT_CTL_GET_STATS, false), NULL, 0, NULL, 0);
	memset(m + len, 'z', sizeof(m) - len);
	assert_int_equal(raw(fd, m, PT_CTL_MSG_MAX + 100, 11), PT_CTL_E_OVERSIZED);
	/* unknown type */
	len = pt_ctl_encode(m, sizeof(m), 77, 0, 12, 0, NULL, NULL, NULL, 0, NULL, 0);
	assert_int_equal(raw(fd, m, len, 12), PT_CTL_E_UNKNOWN_TYPE);
	/* each bind field out of range */
	for (int f = 0; f < 8; f++) {
		struct pt_ctl_bind x = b;

		switch (f) {
		case 0: x.src = 0; break;
		case 1: x.src_pin = 8; break;
		case 2: x.dst = 0; break;
		case 3: x.dst_pin = 1000; break;
		case 4: x.rate = 7; break;
		case 5: x.channels = 9; break;
		case 6: x.sample = 0; break;
		case 7: x.periods = 1000; break;
		}
		len = pt_ctl_encode(m, sizeof(m), PT_CTL_BIND, 0, 20 + (uint32_t)f, 0, &x,
				    pt_ctl_layout(PT_CTL_BIND, false), NULL, 0, NULL, 0);
		assert_int_equal(raw(fd, m, len, 20 + (uint32_t)f), PT_CTL_E_BAD_FIELD);
	}
	/* truncated body, unknown ids */
	assert_int_equal(raw(fd, m, len - 1, 27), PT_CTL_E_TRUNCATED);
	b.src = 200;
	len = pt_ctl_encode(m, sizeof(m), PT_CTL_BIND, 0, 30, 0, &b,
			    pt_ctl_layout(PT_CTL_BIND, false), NULL, 0, NULL, 0);
	assert_int_equal(raw(fd, m, len, 30), PT_CTL_E_UNKNOWN_ID);
	/* random garbage of every small length */
	srand(7);
	for (size_t n = 1; n < 200; n += 7) {
		for (size_t i = 0; i < n; i++)
			m[i] = (uint8_t)rand();
		assert_int_not_equal(raw(fd, m, n, UINT32_MAX), PT_CTL_OK);
	}
	/* and the host still answers properly */
	len = pt_ctl_encode(m, sizeof(m), PT_CTL_GET_STATS, 0, 40, 0, &gs,
			    pt_ctl_layout(PT_CTL_GET_STATS, false), NULL, 0, NULL, 0);
	assert_int_equal(raw(fd, m, len, 40), PT_CTL_OK);
	close(fd);
	assert_int_equal(waitpid(serve_pid, NULL, WNOHANG), 0);
}

/* A graph built through ctl alone, with a deadline no DP call can meet:
 * the host notifies every connected client of each miss. */
static void test_build_by_ctl_and_notifications(void **state)
{
	char note_wav[300];

	(void)state;
	snprintf(note_wav, sizeof(note_wav), "%s/miss.wav", dir);
	CTL_OK("create-pipeline miss");
	assert_non_null(strstr(out, "pipeline miss created"));
	CTL_OK("init miss t2 tone sched=dp deadline_us=1 max_misses=1000 freq=500");
	assert_non_null(strstr(out, "instance t2"));
	CTL_OK("init miss o2 output file=%s", note_wav);
	CTL_OK("bind t2 o2 channels=1 sample=S16_LE");
	assert_int_equal(ctl("init miss t2 gain"), 1);
	assert_non_null(strstr(out, "init_instance.name: an instance named 't2' exists"));
	CTL_OK("state miss running");
	CTL_OK("watch 2");
	assert_non_null(strstr(out, "deadline miss: instance t2"));
	CTL_OK("stats t2");
	CTL_OK("state miss reset");
	CTL_OK("unbind t2 o2");
	CTL_OK("delete t2");
	CTL_OK("delete o2");
	CTL_OK("delete-pipeline miss");
}

/* RMS in dB full scale of frames [from, from + n) of the file. */
static double level_db(SNDFILE *f, sf_count_t from, sf_count_t n, int channels)
{
	double *buf = calloc((size_t)(n * channels), sizeof(double)), sum = 0;
	sf_count_t got;

	assert_non_null(buf);
	assert_int_equal(sf_seek(f, from, SEEK_SET), from);
	got = sf_readf_double(f, buf, n);
	assert_int_equal(got, n);
	for (sf_count_t i = 0; i < n * channels; i++)
		sum += buf[i] * buf[i];
	free(buf);
	return 10.0 * log10(sum / (double)(n * channels) + 1e-30);
}

/* Checks that the last stretch of @path is @drop dB quieter than its
 * start (allowing for the ramp and a change that lands late). */
static void expect_drop(const char *path, double drop)
{
	SF_INFO info = { 0 };
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	double first, last;

	if (!f)
		fail_msg("%s: %s", path, sf_strerror(NULL));
	if (info.frames < 48000)
		fail_msg("%s: only %lld frames written", path, (long long)info.frames);
	first = level_db(f, 4800, 9600, info.channels);
	last = level_db(f, info.frames - 9600, 9600, info.channels);
	sf_close(f);
	print_message("%s: %lld frames, first %.2f dBFS, last %.2f dBFS\n", path,
		      (long long)info.frames, first, last);
	if (first - last < drop - 2.0 || first - last > drop + 2.0)
		fail_msg("%s: level dropped by %.2f dB, expected %.0f", path,
			 first - last, drop);
}

static void test_run_change_gain_teardown(void **state)
{
	int st;

	(void)state;
	CTL_OK("stats");
	assert_non_null(strstr(out, "tone1"));
	assert_non_null(strstr(out, "gain1"));
	assert_non_null(strstr(out, "gain2"));
	CTL_OK("state main running");
	assert_non_null(strstr(out, "pipeline main is running"));
	CTL_OK("state iso running");
	sleep_ms(1000);
	CTL_OK("set-config gain1 gain_db=-20");
	CTL_OK("set-config gain2 gain_db=-12");
	sleep_ms(1000);
	CTL_OK("get-config gain1");
	assert_non_null(strstr(out, "gain_db"));
	CTL_OK("get-config gain2");
	assert_non_null(strstr(out, "gain_db=-12"));
	CTL_OK("stats gain2");
	assert_non_null(strstr(out, "process"));

	/* refusals come back in words with a non-zero exit */
	assert_int_equal(ctl("set-config nosuch x=1"), 1);
	assert_non_null(strstr(out, "no instance named 'nosuch'"));
	assert_int_equal(ctl("bind tone1.9 gain1.0"), 1);
	assert_non_null(strstr(out, "bind.src_pin"));
	assert_int_equal(ctl("delete gain1"), 1); /* its pipeline runs */
	assert_int_equal(ctl("state main flying"), 2);
	assert_int_equal(ctl("frobnicate"), 2);

	CTL_OK("state main paused");
	CTL_OK("state main reset");
	CTL_OK("state iso reset");
	CTL_OK("unbind gain1.0 out.0");
	CTL_OK("unbind tone1.0 gain1.0");
	CTL_OK("delete out");
	CTL_OK("delete gain1");
	CTL_OK("delete tone1");
	CTL_OK("delete-pipeline main");
	CTL_OK("stats");
	assert_null(strstr(out, "tone1"));
	assert_non_null(strstr(out, "gain2"));

	/* the rest goes with the host */
	kill(serve_pid, SIGTERM);
	assert_int_equal(waitpid(serve_pid, &st, 0), serve_pid);
	serve_pid = 0;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);

	/* the gain changes are heard, trusted and isolated */
	expect_drop(wav, 20.0);
	expect_drop(wav_iso, 12.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed_over_socket),
		cmocka_unit_test(test_build_by_ctl_and_notifications),
		cmocka_unit_test(test_run_change_gain_teardown),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
