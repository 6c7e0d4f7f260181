/* SPDX-License-Identifier: MIT */
/*
 * host/io/iothread - the I/O thread of live runs (see iothread.h).
 *
 * The log queue is a bounded multi-producer, single-consumer queue of
 * fixed-size lines: each slot carries a sequence number that says whose
 * turn it is (a producer's when it equals the claimed position, the
 * consumer's when it is one past), so producers (the period thread, DP
 * workers, the control thread) never wait on each other or on the writer.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "host/io/iothread.h"

struct log_slot {
	atomic_size_t seq;
	char text[PT_IOTHREAD_LOG_LINE];
};

static struct {
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t passed;
	uint64_t passes; /* under lock */
	sem_t wake;
	atomic_bool stop, logging;
	struct pt_iowork *work; /* under lock */
	struct log_slot log[PT_IOTHREAD_LOG_LINES];
	atomic_size_t log_head; /* next position a producer claims */
	size_t log_tail;	/* the consumer's (the I/O thread's) */
	atomic_uint_least64_t dropped;
	uint64_t dropped_told;
} io = { .lock = PTHREAD_MUTEX_INITIALIZER, .passed = PTHREAD_COND_INITIALIZER };

/* Writes the queued lines; on the I/O thread, or once it has stopped. */
static void log_drain(void)
{
	uint64_t dropped;

	for (;;) {
		struct log_slot *s = &io.log[io.log_tail % PT_IOTHREAD_LOG_LINES];

		if (atomic_load_explicit(&s->seq, memory_order_acquire) !=
		    io.log_tail + 1)
			break;
		fputs(s->text, stderr);
		atomic_store_explicit(&s->seq, io.log_tail + PT_IOTHREAD_LOG_LINES,
				      memory_order_release);
		io.log_tail++;
	}
	dropped = atomic_load_explicit(&io.dropped, memory_order_relaxed);
	if (dropped > io.dropped_told) {
		fprintf(stderr, "partita: %llu log lines dropped (the log queue was full)\n",
			(unsigned long long)(dropped - io.dropped_told));
		io.dropped_told = dropped;
	}
}

bool pt_iothread_log(const char *name, const char *line)
{
	size_t pos;
	struct log_slot *s;

	if (!atomic_load_explicit(&io.logging, memory_order_acquire))
		return false;
	pos = atomic_load_explicit(&io.log_head, memory_order_relaxed);
	for (;;) {
		size_t seq;

		s = &io.log[pos % PT_IOTHREAD_LOG_LINES];
		seq = atomic_load_explicit(&s->seq, memory_order_acquire);
		if (seq == pos) {
			if (atomic_compare_exchange_weak_explicit(
				    &io.log_head, &pos, pos + 1,
				    memory_order_relaxed, memory_order_relaxed))
				break;
		} else if ((ptrdiff_t)(seq - pos) < 0) {
			/* The slot still holds a line a lap behind: full. */
			atomic_fetch_add_explicit(&io.dropped, 1, memory_order_relaxed);
			return true;
		} else {
			pos = atomic_load_explicit(&io.log_head, memory_order_relaxed);
		}
	}
	snprintf(s->text, sizeof(s->text), "partita: %s: %s\n", name, line);
	if (s->text[sizeof(s->text) - 2] && s->text[sizeof(s->text) - 2] != '\n')
		s->text[sizeof(s->text) - 2] = '\n';
	atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
	return true;
}

uint64_t pt_iothread_log_dropped(void)
{
	return atomic_load_explicit(&io.dropped, memory_order_relaxed);
}

static void *io_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "pt-io");
	for (;;) {
		struct timespec ts;
		bool stop = atomic_load(&io.stop);

		pthread_mutex_lock(&io.lock);
		for (struct pt_iowork *w = io.work; w; w = w->next)
			w->run(w);
		io.passes++;
		pthread_cond_broadcast(&io.passed);
		pthread_mutex_unlock(&io.lock);
		log_drain();
		if (stop)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += PT_IOTHREAD_WAKE_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (sem_timedwait(&io.wake, &ts) && errno == EINTR)
			;
	}
	return NULL;
}

int pt_iothread_start(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGCHLD, SIGHUP, SIGQUIT,
				    SIGUSR1, SIGUSR2, SIGALRM };
	struct sched_param sp = { .sched_priority = 0 };
	sigset_t block, old;
	pthread_attr_t attr;
	int ret;

	if (io.running)
		return 0;
	if (sem_init(&io.wake, 0, 0))
		return -errno;
	for (size_t i = 0; i < PT_IOTHREAD_LOG_LINES; i++)
		atomic_store(&io.log[i].seq, i);
	atomic_store(&io.log_head, 0);
	io.log_tail = 0;
	atomic_store(&io.dropped, 0);
	io.dropped_told = 0;
	atomic_store(&io.stop, false);
	/* The ordinary class, whatever the starting thread's. */
	pthread_attr_init(&attr);
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, SCHED_OTHER);
	pthread_attr_setschedparam(&attr, &sp);
	/* The process's signals (Ctrl-C, a domain's death) go to the other
	 * threads: the I/O thread starts with them blocked. */
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&block, sigs[i]);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	ret = pthread_create(&io.thread, &attr, io_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (ret) {
		sem_destroy(&io.wake);
		return -ret;
	}
	io.running = true;
	atomic_store_explicit(&io.logging, true, memory_order_release);
	return 0;
}

void pt_iothread_stop(void)
{
	if (!io.running)
		return;
	atomic_store(&io.stop, true);
	sem_post(&io.wake);
	pthread_join(io.thread, NULL);
	atomic_store_explicit(&io.logging, false, memory_order_release);
	log_drain(); /* a line queued while the thread stopped */
	sem_destroy(&io.wake);
	io.running = false;
}

bool pt_iothread_running(void)
{
	return io.running;
}

void pt_iothread_lock(void)
{
	pthread_mutex_lock(&io.lock);
}

void pt_iothread_unlock(void)
{
	pthread_mutex_unlock(&io.lock);
}

void pt_iothread_add(struct pt_iowork *w)
{
	w->next = io.work;
	io.work = w;
}

void pt_iothread_remove(struct pt_iowork *w)
{
	for (struct pt_iowork **p = &io.work; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
}

void pt_iothread_kick(void)
{
	if (io.running)
		sem_post(&io.wake);
}

void pt_iothread_wait_pass(void)
{
	uint64_t target = io.passes + 1;

	if (!io.running)
		return;
	sem_post(&io.wake);
	while (io.passes < target)
		pthread_cond_wait(&io.passed, &io.lock);
}
