/* SPDX-License-Identifier: MIT */
/*
 * A storm of control traffic cannot take a period from an unrelated
 * pipeline: partita serve runs periods on their own thread. While a client
 * sends thousands of set-config messages to an isolated instance of one
 * pipeline, another pipeline's isolated instance keeps running: it goes on
 * counting periods and is never failed or restarted. No timing asserts.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/control/client.h"
#include "host/control/codec.h"

#define STORM 3000

static char dir[64], sock[128], topo[128], log_path[128], partita[600];
static pid_t serve_pid;
static uint8_t msg[PT_CTL_MSG_MAX], reply[PT_CTL_MSG_MAX];
static uint32_t seq;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One request, its reply checked OK; returns the reply. */
static struct pt_ctl_reply call(int fd, unsigned type, const void *body,
				const void *tail, size_t tail_size)
{
	struct pt_ctl_reply rep;
	char err[256];
	size_t len = pt_ctl_encode(msg, sizeof(msg), type, 0, ++seq, 0, body,
				   pt_ctl_layout(type, false), tail, tail_size, NULL, 0);

	assert_true(len > 0);
	if (pt_ctl_call(fd, msg, len, seq, reply, sizeof(reply), &rep, 5000, NULL, NULL,
			err, sizeof(err)))
		fail_msg("%s: %s", pt_ctl_type_name(type), err);
	if (rep.hdr.status != PT_CTL_OK)
		fail_msg("%s refused: %s", pt_ctl_type_name(type), (const char *)rep.body);
	return rep;
}

static uint32_t lookup(int fd, const char *name)
{
	struct pt_ctl_lookup m = { .kind = PT_CTL_LOOKUP_INSTANCE };
	struct pt_ctl_reply rep;
	struct pt_ctl_id_reply id;

	snprintf(m.name, sizeof(m.name), "%s", name);
	rep = call(fd, PT_CTL_LOOKUP, &m, NULL, 0);
	memcpy(&id, rep.body, sizeof(id));
	pt_ctl_swap(&id, pt_ctl_layout(PT_CTL_LOOKUP, true));
	return id.id;
}

static struct pt_ctl_instance_stats stats_of(int fd, uint32_t instance)
{
	struct pt_ctl_get_stats m = { .instance = instance };
	struct pt_ctl_instance_stats e;
	struct pt_ctl_reply rep = call(fd, PT_CTL_GET_STATS, &m, NULL, 0);

	assert_int_equal(rep.body_size, sizeof(struct pt_ctl_stats_reply) + sizeof(e));
	memcpy(&e, (const uint8_t *)rep.body + sizeof(struct pt_ctl_stats_reply), sizeof(e));
	pt_ctl_swap(&e, PT_CTL_LAYOUT_INSTANCE_STATS);
	return e;
}

static void test_storm(void **state)
{
	const char *text = "gain_db=-3";
	struct pt_ctl_config_set m = { .param = PT_PARAM_TEXT };
	struct pt_ctl_instance_stats before, after, stormed;
	char err[256];
	uint32_t g1, g2;
	int fd = pt_ctl_connect(sock, err, sizeof(err));

	(void)state;
	assert_true(fd >= 0);
	g1 = lookup(fd, "g1");
	g2 = lookup(fd, "g2");
	sleep_ms(200);
	before = stats_of(fd, g2);
	m.instance = g1;
	m.total_size = m.size = (uint32_t)strlen(text);
	for (int i = 0; i < STORM; i++)
		call(fd, PT_CTL_LARGE_CONFIG_SET, &m, text, strlen(text));
	sleep_ms(100);
	after = stats_of(fd, g2);
	stormed = stats_of(fd, g1);
	close(fd);
	fprintf(stderr, "g2: %llu periods during the storm, %llu misses; g1: %llu misses\n",
		(unsigned long long)(after.periods - before.periods),
		(unsigned long long)(after.deadline_misses - before.deadline_misses),
		(unsigned long long)stormed.deadline_misses);
	assert_true(after.periods > before.periods);
	assert_int_equal(after.faults, 0);
	assert_int_equal(after.restarts, 0);
	assert_int_equal(stormed.faults, 0);
	assert_int_equal(stormed.restarts, 0);
}

static int setup(void **state)
{
	const char *b = getenv("PARTITA_BUILD");
	FILE *f;
	char err[256];

	(void)state;
	snprintf(partita, sizeof(partita), "%s/partita", b ? b : ".");
	snprintf(dir, sizeof(dir), "/tmp/pt_storm_XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	snprintf(topo, sizeof(topo), "%s/t.yaml", dir);
	snprintf(log_path, sizeof(log_path), "%s/serve.log", dir);
	f = fopen(topo, "w");
	if (!f)
		return -1;
	fputs("period_us: 1000\n"
	      "pipelines:\n"
	      "  - name: p1\n"
	      "    state: running\n"
	      "    instances:\n"
	      "      - {name: t1, module: tone, params: {freq: 440}}\n"
	      "      - {name: g1, module: gain, isolation: process, heap_size: 64K}\n"
	      "      - {name: s1, module: playback, params: {device: null}}\n"
	      "    bindings:\n"
	      "      - {from: t1, to: g1}\n"
	      "      - {from: g1, to: s1}\n"
	      "  - name: p2\n"
	      "    state: running\n"
	      "    instances:\n"
	      "      - {name: t2, module: tone, params: {freq: 220}}\n"
	      "      - {name: g2, module: gain, isolation: process, heap_size: 64K}\n"
	      "      - {name: s2, module: playback, params: {device: null}}\n"
	      "    bindings:\n"
	      "      - {from: t2, to: g2}\n"
	      "      - {from: g2, to: s2}\n", f);
	fclose(f);
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
		if (waitpid(serve_pid, NULL, WNOHANG) == serve_pid)
			break;
		sleep_ms(50);
	}
	fprintf(stderr, "partita serve did not come up (log: %s)\n", log_path);
	return -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	if (serve_pid > 0) {
		kill(serve_pid, SIGTERM);
		waitpid(serve_pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "cat '%s' >&2; rm -rf '%s'", log_path, dir);
	return system(cmd) ? 0 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_storm),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
