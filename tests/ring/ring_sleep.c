/* SPDX-License-Identifier: MIT */
/* Sleeping consumer: a consumer asleep in another process is woken by one
 * FUTEX_WAKE; a consumer that is awake (spinning) costs the producer no
 * syscall at all. */
#include "ring_test.h"

struct peer_report {
	struct pt_ring_stats stats;
	int64_t woke_after_ns; /* from the start of its wait */
};

/* The domain waits once with @spin_ns / @timeout_ns, answers one request. */
static int answer_one(struct ring_block *b, struct peer_report *rep,
		      uint64_t spin_ns, int64_t timeout_ns)
{
	struct pt_ring dom;
	struct pt_ring_entry got, *e;
	int64_t t0;

	if (pt_ring_attach(&dom, b->base, b->size, PT_RING_DOMAIN, 0))
		return 10;
	t0 = ring_test_now_ns();
	if (pt_ring_wait(&dom, spin_ns, timeout_ns))
		return 11;
	rep->woke_after_ns = ring_test_now_ns() - t0;
	if (pt_ring_peek(&dom, &got))
		return 12;
	e = pt_ring_get_entry(&dom);
	if (!e)
		return 13;
	e->tag = got.tag;
	pt_ring_advance(&dom, 1);
	if (pt_ring_submit(&dom) != 1)
		return 14;
	pt_ring_stats(&dom, &rep->stats);
	return 0;
}

/* Until the peer has said it is going to sleep on the SQ. */
static void await_peer_asleep(struct pt_ring *host)
{
	int64_t t0 = ring_test_now_ns();

	while (__atomic_load_n(host->prod_wake, __ATOMIC_ACQUIRE) !=
	       PT_RING_NEED_WAKEUP) {
		assert_true(ring_test_now_ns() - t0 < 10000000000ll);
		usleep(100);
	}
}

/* The domain waits for one request; the host submits it @host_delay_ns
 * after the domain announced its sleep (@sleeping) or after the start. */
static void run(uint64_t domain_spin_ns, int64_t domain_timeout_ns,
		bool sleeping, int64_t host_delay_ns,
		struct pt_ring_stats *host_stats, struct peer_report *out)
{
	struct ring_block b;
	struct pt_ring host;
	struct pt_ring_entry got, *e;
	struct peer_report *rep;
	struct timespec delay = { host_delay_ns / 1000000000,
				  host_delay_ns % 1000000000 };
	pid_t pid;

	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(rep != MAP_FAILED);
	ring_pair_host(&b, 8, &host);
	pid = ring_test_fork(30);
	if (pid == 0) {
		_exit(answer_one(&b, rep, domain_spin_ns, domain_timeout_ns));
	}
	if (sleeping)
		await_peer_asleep(&host);
	nanosleep(&delay, NULL);
	e = pt_ring_get_entry(&host);
	assert_non_null(e);
	e->tag = 42;
	assert_int_equal(pt_ring_submit(&host), 1);
	assert_int_equal(pt_ring_wait(&host, 0, 10000000000ll), 0);
	assert_int_equal(pt_ring_peek(&host, &got), 0);
	assert_true(got.tag == 42);
	pt_ring_advance(&host, 1);
	assert_int_equal(ring_test_reap(pid), 0);
	pt_ring_stats(&host, host_stats);
	*out = *rep;
	ring_block_unmap(&b);
	munmap(rep, sizeof(*rep));
}

static void sleeping_consumer_is_woken_once(void **state)
{
	struct pt_ring_stats hs;
	struct peer_report rep;

	(void)state;
	/* The domain sleeps at once; the host submits 100 ms later. */
	run(0, 10000000000ll, true, 100000000, &hs, &rep);
	assert_int_equal(hs.wakes, 1);
	assert_true(rep.stats.waits >= 1);
	assert_int_equal(rep.stats.spins, 0);
	assert_true(rep.woke_after_ns >= 100000000);
	assert_true(rep.woke_after_ns < 5000000000ll);
}

static void consumer_sleeping_without_limit_is_woken(void **state)
{
	struct pt_ring_stats hs;
	struct peer_report rep;

	(void)state;
	run(0, -1, true, 50000000, &hs, &rep);
	assert_int_equal(hs.wakes, 1);
	assert_true(rep.stats.waits >= 1);
}

static void spinning_consumer_costs_no_syscall(void **state)
{
	struct pt_ring_stats hs;
	struct peer_report rep;

	(void)state;
	/* The domain spins for up to 20 s; the host submits after 20 ms. */
	run(20000000000ull, 30000000000ll, false, 20000000, &hs, &rep);
	assert_int_equal(hs.wakes, 0);
	assert_int_equal(rep.stats.waits, 0);
	assert_int_equal(rep.stats.spins, 1);
}

static void host_refuses_to_wait_forever(void **state)
{
	struct ring_block b;
	struct pt_ring host;

	(void)state;
	ring_pair_host(&b, 8, &host);
	assert_int_equal(pt_ring_wait(&host, 0, -1), -EINVAL);
	ring_block_unmap(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sleeping_consumer_is_woken_once),
		cmocka_unit_test(consumer_sleeping_without_limit_is_woken),
		cmocka_unit_test(spinning_consumer_costs_no_syscall),
		cmocka_unit_test(host_refuses_to_wait_forever),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
