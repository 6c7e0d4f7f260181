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
#include <stdbool.h>
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
static pid_t serve_pid, strict_pid;
static char strict_sock[300];
static const char *ctl_sock = sock;

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
	snprintf(cmd, sizeof(cmd), "'%s' ctl --socket '%s' %s >'%s' 2>&1", partita, ctl_sock,
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
		execl(partita, "partita", "serve", "--socket", sock, "--client-idle", "3", topo,
		      (char *)NULL);
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
	if (strict_pid > 0) {
		kill(strict_pid, SIGKILL);
		waitpid(strict_pid, NULL, 0);
	}
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


/* One request on @fd: encodes @type with @body and @tail, returns the
 * reply's status (the reply itself in *@rep, its bytes in a static
 * buffer). */
static unsigned request(int fd, unsigned type, const void *body, const void *tail,
			size_t tail_size, struct pt_ctl_reply *rep)
{
	static uint8_t m[PT_CTL_MSG_MAX], buf[PT_CTL_MSG_MAX];
	static uint32_t seq = 1000;
	char err[256];
	size_t len = pt_ctl_encode(m, sizeof(m), type, 0, ++seq, 0, body,
				   pt_ctl_layout(type, false), tail, tail_size, NULL, 0);

	assert_true(len > 0);
	if (pt_ctl_call(fd, m, len, seq, buf, sizeof(buf), rep, 5000, NULL, NULL, err,
			sizeof(err)))
		fail_msg("request %s: %s", pt_ctl_type_name(type), err);
	return rep->hdr.status;
}

static uint32_t instance_id(int fd, const char *name)
{
	struct pt_ctl_lookup lk = { .kind = PT_CTL_LOOKUP_INSTANCE };
	struct pt_ctl_id_reply id;
	struct pt_ctl_reply rep;

	pt_ctl_name_set(lk.name, name, false);
	assert_int_equal(request(fd, PT_CTL_LOOKUP, &lk, NULL, 0, &rep), PT_CTL_OK);
	memcpy(&id, rep.body, sizeof(id));
	pt_ctl_swap(&id, pt_ctl_layout(PT_CTL_LOOKUP, true));
	return id.id;
}

/* True when the host has closed @fd (EOF after anything it said), waiting
 * up to @ms for it. */
static bool closed_by_host(int fd, int ms)
{
	static uint8_t buf[PT_CTL_MSG_MAX];

	for (int i = 0; i < 3; i++) {
		int n = pt_ctl_receive(fd, buf, sizeof(buf), ms);

		if (n == -ECONNRESET)
			return true;
		if (n == 0)
			return false;
	}
	return false;
}

/* Client slots: a client beyond the 16 that fits in no slot is told why
 * ("too many clients: 16") before the door closes; the slot kept for an
 * operator is given to `partita ctl` once its holder is idle; clients idle
 * past --client-idle (3 s here) give up their slots to newcomers. */
static void test_client_slots(void **state)
{
	int fds[16], spare, x;
	struct timespec t0, t1;
	char err[256];
	struct pt_ctl_reply rep;

	(void)state;
	ctl_sock = sock;
	for (int i = 0; i < 16; i++) {
		fds[i] = pt_ctl_connect(sock, err, sizeof(err));
		assert_true(fds[i] >= 0);
		instance_id(fds[i], "gain1"); /* in a slot, and then idle */
	}
	spare = pt_ctl_connect(sock, err, sizeof(err));
	assert_true(spare >= 0);
	instance_id(spare, "gain1");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	{
		int r = ctl("stats");

		clock_gettime(CLOCK_MONOTONIC, &t1);
		/* The spare's holder had been idle less than 2 s (unless the
		 * machine stalled that long): the newcomer is refused, with the
		 * reason. */
		if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1500) {
			if (r != 1 || !strstr(out, "too many clients: 16"))
				fail_msg("18th client: exit %d: %s", r, out);
			print_message("  18th client: %s", out);
		}
	}
	/* Idle past 2 s, the spare's holder makes way for an operator. */
	sleep_ms(2200);
	CTL_OK("stats");
	assert_true(closed_by_host(spare, 2000));
	close(spare);
	/* Past --client-idle, a regular client makes way too: the spare is
	 * taken by a fresh client, and yet another newcomer gets in. */
	sleep_ms(1200);
	spare = pt_ctl_connect(sock, err, sizeof(err));
	assert_true(spare >= 0);
	instance_id(spare, "gain1");
	x = pt_ctl_connect(sock, err, sizeof(err));
	assert_true(x >= 0);
	assert_int_equal(request(x, PT_CTL_GET_STATS, &(struct pt_ctl_get_stats){ 0 }, NULL, 0,
				 &rep), PT_CTL_OK);
	{
		int gone = 0;

		for (int i = 0; i < 16; i++)
			gone += closed_by_host(fds[i], 0); /* done before x's reply */
		assert_int_equal(gone, 1);
	}
	for (int i = 0; i < 16; i++)
		close(fds[i]);
	close(spare);
	close(x);
	assert_int_equal(waitpid(serve_pid, NULL, WNOHANG), 0);
}

/* A config blob sent in fragments belongs to the client that started it:
 * another client can neither continue it nor drop it by starting its own. */
static void test_fragments_belong_to_their_client(void **state)
{
	const char *blob = "gain_db=-6\nramp_ms=0";
	struct pt_ctl_config_set cs = { .param = PT_PARAM_TEXT, .total_size = 20,
					.offset = 0, .size = 10 };
	struct pt_ctl_reply rep;
	char err[256];
	int a, b;

	(void)state;
	a = pt_ctl_connect(sock, err, sizeof(err));
	b = pt_ctl_connect(sock, err, sizeof(err));
	assert_true(a >= 0 && b >= 0);
	cs.instance = instance_id(a, "gain1");
	assert_int_equal(request(a, PT_CTL_LARGE_CONFIG_SET, &cs, blob, 10, &rep), PT_CTL_OK);
	/* B continues A's blob: refused */
	cs.offset = 10;
	assert_int_equal(request(b, PT_CTL_LARGE_CONFIG_SET, &cs, blob + 10, 10, &rep),
			 PT_CTL_E_SEQUENCE);
	assert_non_null(strstr((const char *)rep.body, "by this client"));
	/* B starts a blob of its own: A's is untouched */
	cs.offset = 0;
	assert_int_equal(request(b, PT_CTL_LARGE_CONFIG_SET, &cs, "gain_db=-9", 10, &rep),
			 PT_CTL_OK);
	cs.offset = 10;
	assert_int_equal(request(a, PT_CTL_LARGE_CONFIG_SET, &cs, blob + 10, 10, &rep), PT_CTL_OK);
	/* B leaves with its blob unfinished: dropped, nothing applied */
	close(b);
	CTL_OK("get-config gain1");
	assert_non_null(strstr(out, "gain_db=-6"));
	close(a);
	CTL_OK("set-config gain1 gain_db=0");
}

/* A module's get or set config that returns a positive value (outside the
 * ABI) is its own status, MODULE_ABI, trusted or in a domain; the host and
 * the domain keep serving. */
static void test_module_abi_status(void **state)
{
	static const char *const iso[] = { "none", "process" };
	char xfile[300];
	FILE *f;

	(void)state;
	snprintf(xfile, sizeof(xfile), "%s/x.txt", dir);
	f = fopen(xfile, "w");
	assert_non_null(f);
	fputs("x=1", f);
	fclose(f);
	ctl_sock = sock;
	for (int i = 0; i < 2; i++) {
		CTL_OK("init main abi_%s '%s/tests/hostile/pt_probe.so' isolation=%s", iso[i],
		       build_dir, iso[i]);
		assert_int_equal(ctl("get-config abi_%s --param 3", iso[i]), 1);
		print_message("  %s: %s", iso[i], out);
		assert_non_null(strstr(out, "MODULE_ABI"));
		assert_null(strstr(out, "BAD_HEADER"));
		assert_int_equal(ctl("set-config abi_%s --param 3 --file '%s'", iso[i], xfile), 1);
		assert_non_null(strstr(out, "MODULE_ABI"));
		/* still answering */
		CTL_OK("get-config abi_%s", iso[i]);
		CTL_OK("delete abi_%s", iso[i]);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* What one control request costs a client: LOOKUP round trips on an idle
 * host, median and 99th percentile. A measurement, printed; the bound is
 * only a sanity check (a busy shared machine must not fail it). */
static void test_round_trip(void **state)
{
	enum { N = 2000 };
	static uint8_t m[256], buf[PT_CTL_MSG_MAX];
	static uint64_t ns[N];
	struct pt_ctl_lookup lk = { .kind = PT_CTL_LOOKUP_INSTANCE };
	struct pt_ctl_reply rep;
	char err[256];
	int fd;

	(void)state;
	fd = pt_ctl_connect(sock, err, sizeof(err));
	assert_true(fd >= 0);
	pt_ctl_name_set(lk.name, "gain1", false);
	for (int i = 0; i < N; i++) {
		struct timespec a, b;
		size_t len = pt_ctl_encode(m, sizeof(m), PT_CTL_LOOKUP, 0, (uint32_t)i + 1, 0,
					   &lk, pt_ctl_layout(PT_CTL_LOOKUP, false), NULL, 0,
					   NULL, 0);

		clock_gettime(CLOCK_MONOTONIC, &a);
		if (pt_ctl_call(fd, m, len, (uint32_t)i + 1, buf, sizeof(buf), &rep, 5000, NULL,
				NULL, err, sizeof(err)))
			fail_msg("%s", err);
		clock_gettime(CLOCK_MONOTONIC, &b);
		assert_int_equal(rep.hdr.status, PT_CTL_OK);
		ns[i] = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000u +
			(uint64_t)(b.tv_nsec - a.tv_nsec);
	}
	close(fd);
	qsort(ns, N, sizeof(ns[0]), cmp_u64);
	print_message("control round trip (LOOKUP, idle host, %d requests): median %.1f us, p99 %.1f us\n",
		      N, ns[N / 2] / 1000.0, ns[N * 99 / 100] / 1000.0);
	assert_true(ns[N / 2] < 50000000u);
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The level in dB full scale of frames [from, from + n) of the file: the
 * median of its 10 ms blocks' RMS, so a few periods a loaded machine
 * covered with silence do not move it. */
static double level_db(SNDFILE *f, sf_count_t from, sf_count_t n, int channels)
{
	enum { BLOCK = 480 };
	double *buf = calloc((size_t)(n * channels), sizeof(double));
	double blocks[64];
	sf_count_t got, nb = n / BLOCK;

	assert_non_null(buf);
	assert_true(nb > 0 && nb <= 64);
	assert_int_equal(sf_seek(f, from, SEEK_SET), from);
	got = sf_readf_double(f, buf, n);
	assert_int_equal(got, n);
	for (sf_count_t b = 0; b < nb; b++) {
		double sum = 0;

		for (sf_count_t i = b * BLOCK * channels; i < (b + 1) * BLOCK * channels; i++)
			sum += buf[i] * buf[i];
		blocks[b] = 10.0 * log10(sum / (double)(BLOCK * channels) + 1e-30);
	}
	free(buf);
	qsort(blocks, (size_t)nb, sizeof(double), cmp_double);
	return blocks[nb / 2];
}

static void expect_drop(const char *path, double drop);
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A config blob larger than one message: 4096 FIR taps as text (61 KB)
 * go in two fragments and come back whole, and the binary form (param 1)
 * reads back as 4096 floats. */
static void test_large_config_fragments(void **state)
{
	char taps[300], back[300];
	FILE *f;

	(void)state;
	ctl_sock = sock;
	snprintf(taps, sizeof(taps), "%s/taps.txt", dir);
	snprintf(back, sizeof(back), "%s/back.txt", dir);
	f = fopen(taps, "w");
	assert_non_null(f);
	fprintf(f, "taps=");
	for (int i = 0; i < 4096; i++)
		fprintf(f, "%s0.000244140625", i ? "," : "");
	fclose(f);
	CTL_OK("create-pipeline big");
	CTL_OK("init big fir1 fir taps=1");
	CTL_OK("set-config fir1 --file '%s'", taps);
	assert_non_null(strstr(out, "(61444 bytes)"));
	/* the text form, compared byte for byte (ctl adds the final newline) */
	assert_int_equal(sh("'%s' ctl --socket '%s' get-config fir1 > '%s' && "
			    "printf '\n' >> '%s' && cmp '%s' '%s'",
			    partita, sock, back, taps, taps, back), 0);
	CTL_OK("get-config fir1 --param 1");
	assert_non_null(strstr(out, "param 1, 16384 bytes"));
	assert_non_null(strstr(out, "00 00 80 39"));
	CTL_OK("delete fir1");
	CTL_OK("delete-pipeline big");
}

/* A library that crashes on cue (tests/faults): every client hears of the
 * fault with its signal, and of the restart. */
static void test_fault_and_restart_notifications(void **state)
{
	char fwav[300];

	(void)state;
	ctl_sock = sock;
	snprintf(fwav, sizeof(fwav), "%s/fault.wav", dir);
	CTL_OK("create-pipeline flt");
	CTL_OK("init flt fsrc tone freq=440");
	CTL_OK("init flt f1 '%s/tests/faults/pt_fault.so' isolation=process heap_size=64K "
	       "restart=on-failure max_misses=1000 fault=segv at=300", build_dir);
	CTL_OK("init flt fout output file=%s", fwav);
	CTL_OK("bind fsrc f1 sample=FLOAT_LE");
	CTL_OK("bind f1 fout sample=FLOAT_LE");
	CTL_OK("state flt running");
	CTL_OK("watch 2");
	if (!strstr(out, "fault: instance f1") || !strstr(out, "Segmentation fault") ||
	    !strstr(out, "reason: domain killed by SIGSEGV") ||
	    !strstr(out, "restart: instance f1"))
		fail_msg("notifications missing:\n%s", out);
	CTL_OK("stats f1");
	assert_non_null(strstr(out, "last fault at period"));
	CTL_OK("state flt reset");
	CTL_OK("unbind f1 fout");
	CTL_OK("unbind fsrc f1");
	CTL_OK("delete f1");
	CTL_OK("delete fsrc");
	CTL_OK("delete fout");
	CTL_OK("delete-pipeline flt");
}

/* A module the host knows only from LOAD_LIBRARY (the SDK's template),
 * created by its manifest name, isolated, reconfigured while it runs. */
static void test_loaded_library_module(void **state)
{
	char tpl_wav[300];

	(void)state;
	ctl_sock = sock;
	snprintf(tpl_wav, sizeof(tpl_wav), "%s/tpl.wav", dir);
	CTL_OK("load-library '%s/tests/libs/pt_test_template.so'", build_dir);
	assert_non_null(strstr(out, "module template version 1.0.0"));
	assert_non_null(strstr(out, "unsigned"));
	CTL_OK("create-pipeline tpl");
	CTL_OK("init tpl tsrc tone freq=1000 amplitude_db=-6");
	CTL_OK("init tpl tmod template isolation=process heap_size=64K max_misses=1000 gain_db=-6");
	assert_non_null(strstr(out, "instance tmod (id"));
	CTL_OK("init tpl tout output file=%s", tpl_wav);
	CTL_OK("bind tsrc tmod");
	CTL_OK("bind tmod tout");
	CTL_OK("state tpl running");
	sleep_ms(800);
	CTL_OK("set-config tmod gain_db=-18");
	CTL_OK("get-config tmod");
	assert_non_null(strstr(out, "gain_db=-18.000"));
	sleep_ms(800);
	CTL_OK("stats tmod");
	assert_non_null(strstr(out, "template"));
	assert_non_null(strstr(out, "process"));
	CTL_OK("state tpl reset");
	CTL_OK("unbind tmod tout");
	CTL_OK("delete tout"); /* closes the file */
	expect_drop(tpl_wav, 12.0);
	CTL_OK("unbind tsrc tmod");
	CTL_OK("delete tmod");
	CTL_OK("delete tsrc");
	CTL_OK("delete-pipeline tpl");
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
	ctl_sock = sock;
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
	assert_int_equal(ctl("bind %0200d.1 gain1.0", 7), 2);

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

/* Runs a shell command line; returns its exit status with its output in
 * out[]. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char line[2048], cmd[2600], path[300];
	va_list ap;
	FILE *f;
	size_t n;
	int st;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/sh.out", dir);
	snprintf(cmd, sizeof(cmd), "( %s ) >'%s' 2>&1", line, path);
	st = system(cmd);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	fclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* A second host that trusts one key and requires signatures: signed,
 * unsigned, tampered and broken libraries through LOAD_LIBRARY, and the
 * same verdicts from `partita inspect`. */
static void test_signed_libraries(void **state)
{
	char good[700], err[256];
	int st;

	(void)state;
	snprintf(good, sizeof(good), "%s/tests/libs/pt_test_good.so", build_dir);
	assert_int_equal(sh("'%s' sign --keygen '%s/v.key'", partita, dir), 0);
	assert_int_equal(sh("'%s' sign --keygen '%s/w.key'", partita, dir), 0);
	assert_int_equal(sh("cp '%s' '%s/lib.so' && cp '%s' '%s/unsigned.so' && "
			    "printf 'not elf' > '%s/text.so' && "
			    "cp '%s/tests/libs/pt_test_wrongabi.so' '%s/abi.so' && "
			    "cp '%s' '%s/other.so'",
			    good, dir, good, dir, dir, build_dir, dir, good, dir), 0);
	assert_int_equal(sh("'%s' sign --key '%s/v.key' '%s/lib.so' '%s/abi.so'", partita,
			    dir, dir, dir), 0);
	assert_int_equal(sh("'%s' sign --key '%s/w.key' '%s/other.so'", partita, dir, dir), 0);

	snprintf(strict_sock, sizeof(strict_sock), "%s/strict.sock", dir);
	strict_pid = fork();
	if (strict_pid == 0) {
		char trust[300];

		snprintf(trust, sizeof(trust), "%s/v.key.pub", dir);
		(void)freopen(log_path, "a", stderr);
		execl(partita, "partita", "serve", "--socket", strict_sock, "--trust", trust,
		      "--require-signed", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		int fd = pt_ctl_connect(strict_sock, err, sizeof(err));

		if (fd >= 0) {
			close(fd);
			break;
		}
		sleep_ms(50);
	}
	ctl_sock = strict_sock;
	CTL_OK("load-library '%s/lib.so'", dir);
	assert_non_null(strstr(out, "module testgood version 1.2.3"));
	assert_non_null(strstr(out, "signed, trusted key"));
	assert_int_equal(ctl("load-library '%s/unsigned.so'", dir), 1);
	assert_non_null(strstr(out, "SIGNATURE"));
	assert_non_null(strstr(out, "unsigned, and signatures by a trusted key are required"));
	assert_int_equal(ctl("load-library '%s/other.so'", dir), 1);
	assert_non_null(strstr(out, "signed, untrusted key"));
	assert_int_equal(ctl("load-library '%s/text.so'", dir), 1);
	assert_non_null(strstr(out, "LIBRARY"));
	assert_non_null(strstr(out, "not an ELF file"));
	assert_int_equal(ctl("load-library '%s/abi.so'", dir), 1);
	assert_non_null(strstr(out, "library built for ABI version 99, this host speaks ABI versions 1 to 2"));
	assert_int_equal(sh("printf 'x' >> '%s/lib.so'", dir), 0);
	assert_int_equal(ctl("load-library '%s/lib.so'", dir), 1);
	assert_non_null(strstr(out, "does not verify"));
	/* still serving */
	CTL_OK("stats");

	/* inspect agrees */
	assert_int_equal(sh("'%s' inspect '%s/unsigned.so'", partita, dir), 0);
	assert_non_null(strstr(out, "module:      testgood"));
	assert_non_null(strstr(out, "signature:   unsigned"));
	assert_int_equal(sh("'%s' inspect --trust '%s/v.key.pub' --require-signed '%s/other.so'",
			    partita, dir, dir), 1);
	assert_int_equal(sh("'%s' inspect '%s/lib.so'", partita, dir), 1);
	assert_non_null(strstr(out, "does not verify"));
	assert_int_equal(sh("'%s' inspect '%s/abi.so'", partita, dir), 1);
	assert_non_null(strstr(out, "ABI version 99"));

	ctl_sock = sock;
	kill(strict_pid, SIGTERM);
	assert_int_equal(waitpid(strict_pid, &st, 0), strict_pid);
	strict_pid = 0;
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed_over_socket),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_build_by_ctl_and_notifications),
		cmocka_unit_test(test_fault_and_restart_notifications),
		cmocka_unit_test(test_signed_libraries),
		cmocka_unit_test(test_loaded_library_module),
		cmocka_unit_test(test_large_config_fragments),
		cmocka_unit_test(test_client_slots),
		cmocka_unit_test(test_fragments_belong_to_their_client),
		cmocka_unit_test(test_module_abi_status),
		cmocka_unit_test(test_run_change_gain_teardown),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
