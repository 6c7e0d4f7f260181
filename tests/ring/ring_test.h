/* SPDX-License-Identifier: MIT */
/*
 * tests/ring - shared set-up for the ring tests: a ring block in a memfd,
 * mapped between two PROT_NONE guard pages so that any access outside the
 * block faults, and inherited MAP_SHARED by a forked peer process.
 */
#ifndef PT_TEST_RING_H
#define PT_TEST_RING_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/ring/ring.h"

struct ring_block {
	void *base;   /* the ring block */
	size_t size;  /* its size, pt_ring_block_size() */
	void *map;    /* guard page, block, guard page */
	size_t maplen;
	int fd;
};

static inline void ring_block_map(struct ring_block *b, uint32_t entries)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *at;

	b->size = pt_ring_block_size(entries);
	assert_true(b->size > 0);
	b->fd = memfd_create("pt-ring-test", MFD_CLOEXEC);
	assert_true(b->fd >= 0);
	assert_int_equal(ftruncate(b->fd, (off_t)b->size), 0);
	b->maplen = b->size + 2 * page;
	b->map = mmap(NULL, b->maplen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	assert_true(b->map != MAP_FAILED);
	at = (uint8_t *)b->map + page;
	b->base = mmap(at, b->size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_FIXED, b->fd, 0);
	assert_true(b->base == at);
}

static inline void ring_block_unmap(struct ring_block *b)
{
	munmap(b->map, b->maplen);
	close(b->fd);
}

/* Formats the block and attaches the host side to it. */
static inline void ring_pair_host(struct ring_block *b, uint32_t entries,
				  struct pt_ring *host)
{
	char err[128] = "";

	ring_block_map(b, entries);
	assert_int_equal(pt_ring_block_init(b->base, b->size, entries), 0);
	assert_int_equal(pt_ring_attach_err(host, b->base, b->size,
					    PT_RING_HOST, entries, err,
					    sizeof(err)),
			 0);
}

/* Both sides in one process: host and domain handles on one block. */
static inline void ring_pair(struct ring_block *b, uint32_t entries,
			     struct pt_ring *host, struct pt_ring *domain)
{
	ring_pair_host(b, entries, host);
	assert_int_equal(pt_ring_attach(domain, b->base, b->size,
					PT_RING_DOMAIN, 0),
			 0);
}

static inline int64_t ring_test_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Forks the peer process. The child dies with the test (a failed assert
 * in the parent leaves no orphan spinning) and after @alarm_s at most. */
static inline pid_t ring_test_fork(unsigned alarm_s)
{
	pid_t parent = getpid(), pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(99);
		alarm(alarm_s);
	}
	return pid;
}

/* Waits for a forked peer; returns its exit status, or -1 if it died of a
 * signal (its alarm() included). */
static inline int ring_test_reap(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "peer %d died of signal %d\n", (int)pid,
			WTERMSIG(status));
		return -1;
	}
	return WEXITSTATUS(status);
}

#endif
