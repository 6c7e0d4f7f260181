/* SPDX-License-Identifier: MIT */
/* Batches: many entries published with one submit cost one wake of a
 * sleeping consumer, in both directions, across two processes. */
#include "ring_test.h"

#include <sched.h>

#define BATCHES 200
#define ENTRIES 16
#define OP_STOP 0xffff

struct peer_report {
	struct pt_ring_stats stats;
	uint64_t batches_seen; /* wait calls that returned entries */
	int rc;
};

/* The domain: sleeps until requests come, answers everything ready with
 * one submit. */
static int domain_loop(struct ring_block *b, struct peer_report *rep)
{
	struct pt_ring dom;
	struct pt_ring_entry got, *e;
	int rc;

	if (pt_ring_attach(&dom, b->base, b->size, PT_RING_DOMAIN, 0))
		return 10;
	for (;;) {
		unsigned answered = 0;
		bool stop = false;

		rc = pt_ring_wait(&dom, 0, 10000000000ll);
		if (rc)
			return 11;
		rep->batches_seen++;
		while (pt_ring_peek(&dom, &got) == 0) {
			e = pt_ring_get_entry(&dom);
			if (!e)
				return 12;
			e->tag = got.tag;
			e->result = 0;
			pt_ring_advance(&dom, 1);
			answered++;
			stop |= got.opcode == OP_STOP;
		}
		if (pt_ring_submit(&dom) != (int)answered)
			return 13;
		pt_ring_stats(&dom, &rep->stats);
		if (stop)
			return 0;
	}
}

/* Until the peer has said it is going to sleep on the SQ. */
static void await_peer_asleep(struct pt_ring *host)
{
	int64_t t0 = ring_test_now_ns();

	while (__atomic_load_n(host->prod_wake, __ATOMIC_ACQUIRE) !=
	       PT_RING_NEED_WAKEUP) {
		assert_true(ring_test_now_ns() - t0 < 10000000000ll);
		sched_yield();
	}
}

static void one_wake_per_batch_each_way(void **state)
{
	struct ring_block b;
	struct pt_ring host;
	struct pt_ring_stats hs;
	struct peer_report *rep;
	uint64_t tag = 0, expect = 0, total = 0;
	pid_t pid;

	(void)state;
	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(rep != MAP_FAILED);
	ring_pair_host(&b, ENTRIES, &host);
	pid = ring_test_fork(50);
	if (pid == 0) {
		_exit(domain_loop(&b, rep));
	}
	for (unsigned batch = 0; batch < BATCHES; batch++) {
		unsigned n = 1 + batch % ENTRIES;
		struct pt_ring_entry got, *e;

		await_peer_asleep(&host);
		for (unsigned i = 0; i < n; i++) {
			e = pt_ring_get_entry(&host);
			assert_non_null(e);
			e->tag = tag++;
			e->opcode = batch == BATCHES - 1 && i == n - 1 ? OP_STOP
								       : 1;
		}
		assert_int_equal(pt_ring_submit(&host), n);
		pt_ring_stats(&host, &hs);
		assert_int_equal(hs.wakes, batch + 1); /* exactly one per batch */
		for (unsigned i = 0; i < n; i++) {
			if (pt_ring_peek(&host, &got) == -EAGAIN) {
				assert_int_equal(
					pt_ring_wait(&host, 0, 10000000000ll),
					0);
				assert_int_equal(pt_ring_peek(&host, &got), 0);
			}
			assert_true(got.tag == expect);
			expect++;
			pt_ring_advance(&host, 1);
			total++;
		}
	}
	assert_int_equal(ring_test_reap(pid), 0);
	pt_ring_stats(&host, &hs);
	assert_int_equal(hs.submitted, total);
	assert_int_equal(hs.completed, total);
	/* The domain answered each wake with one submit: at most one wake of
	 * the host per batch it saw, and it saw at least one per host batch
	 * (the host waited for it to sleep before each one). */
	assert_int_equal(rep->stats.completed, total);
	assert_int_equal(rep->stats.submitted, total);
	assert_true(rep->batches_seen >= BATCHES);
	assert_true(rep->stats.wakes <= rep->batches_seen);
	assert_true(rep->stats.waits >= BATCHES);
	printf("batches %u entries %llu: host wakes %llu, domain wakes %llu, "
	       "domain waits %llu\n",
	       BATCHES, (unsigned long long)total,
	       (unsigned long long)hs.wakes,
	       (unsigned long long)rep->stats.wakes,
	       (unsigned long long)rep->stats.waits);
	ring_block_unmap(&b);
	munmap(rep, sizeof(*rep));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_wake_per_batch_each_way),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
