/* SPDX-License-Identifier: MIT */
/*
 * host/io/iothread: work items run on "pt-io" in the ordinary class; the
 * log queue loses no line it did not count, tears none, and cuts long ones.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/io/iothread.h"

#define PRODUCERS 4
#define LINES 5000

struct probe {
	struct pt_iowork work;
	int runs, policy;
	char name[16];
};

static void probe_run(struct pt_iowork *w)
{
	struct probe *p = (struct probe *)w;
	struct sched_param sp;

	p->runs++;
	pthread_getname_np(pthread_self(), p->name, sizeof(p->name));
	pthread_getschedparam(pthread_self(), &p->policy, &sp);
}

static void work_runs_on_the_io_thread(void **state)
{
	struct probe p = { .work.run = probe_run, .policy = -1 };

	(void)state;
	assert_int_equal(pt_iothread_start(), 0);
	assert_true(pt_iothread_running());
	pt_iothread_lock();
	pt_iothread_add(&p.work);
	pt_iothread_wait_pass();
	assert_true(p.runs >= 1);
	assert_string_equal(p.name, "pt-io");
	assert_int_equal(p.policy, SCHED_OTHER);
	pt_iothread_remove(&p.work);
	p.runs = 0;
	pt_iothread_wait_pass();
	assert_int_equal(p.runs, 0); /* removed: runs no more */
	pt_iothread_unlock();
	pt_iothread_stop();
	assert_false(pt_iothread_running());
}

/* Runs @fn with standard error going to a file; returns its text. */
static char *capture_stderr(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	long len;
	char *text;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	len = ftell(tmp);
	text = calloc(1, (size_t)len + 1);
	rewind(tmp);
	assert_int_equal(fread(text, 1, (size_t)len, tmp), (size_t)len);
	fclose(tmp);
	return text;
}

static void *producer(void *arg)
{
	char name[16], line[32];

	snprintf(name, sizeof(name), "p%d", (int)(intptr_t)arg);
	for (int i = 0; i < LINES; i++) {
		snprintf(line, sizeof(line), "l%d", i);
		assert_true(pt_iothread_log(name, line));
	}
	return NULL;
}

static uint64_t dropped;

static void many_producers(void)
{
	pthread_t t[PRODUCERS];

	assert_int_equal(pt_iothread_start(), 0);
	for (int i = 0; i < PRODUCERS; i++)
		pthread_create(&t[i], NULL, producer, (void *)(intptr_t)i);
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(t[i], NULL);
	pt_iothread_stop();
	dropped = pt_iothread_log_dropped();
}

static void log_lines_are_written_or_counted(void **state)
{
	char *text = capture_stderr(many_producers), *save = NULL;
	uint64_t lines = 0, told = 0;
	int last[PRODUCERS];

	(void)state;
	for (int i = 0; i < PRODUCERS; i++)
		last[i] = -1;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		int p, n;
		unsigned long long k;

		if (sscanf(l, "partita: p%d: l%d", &p, &n) == 2) {
			assert_true(p >= 0 && p < PRODUCERS);
			/* One producer's lines stay in order. */
			assert_true(n > last[p]);
			last[p] = n;
			lines++;
		} else {
			assert_int_equal(sscanf(l, "partita: %llu log lines dropped", &k), 1);
			told += k;
		}
	}
	assert_int_equal(told, dropped);
	assert_int_equal(lines + dropped, (uint64_t)PRODUCERS * LINES);
	assert_false(pt_iothread_log("x", "not running: the caller writes it"));
	free(text);
}

static void long_line(void)
{
	char line[1000];

	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	assert_int_equal(pt_iothread_start(), 0);
	assert_true(pt_iothread_log("long", line));
	pt_iothread_stop();
}

static void a_long_line_is_cut(void **state)
{
	char *text = capture_stderr(long_line);

	(void)state;
	assert_int_equal(strlen(text), PT_IOTHREAD_LOG_LINE - 1);
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_memory_equal(text, "partita: long: aaa", 18);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(work_runs_on_the_io_thread),
		cmocka_unit_test(log_lines_are_written_or_counted),
		cmocka_unit_test(a_long_line_is_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
