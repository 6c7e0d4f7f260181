/* SPDX-License-Identifier: MIT */
/* Host timeout: whatever the domain does or does not do, a host wait
 * returns by its deadline. */
#include "ring_test.h"

#include <signal.h>

#define TIMEOUT_NS 100000000ll   /* 100 ms */
#define SLACK_NS 1000000000ll    /* scheduling slack on a loaded machine */

static void assert_times_out(struct pt_ring *host, uint64_t spin_ns)
{
	int64_t t0 = ring_test_now_ns(), dt;

	assert_int_equal(pt_ring_wait(host, spin_ns, TIMEOUT_NS), -ETIMEDOUT);
	dt = ring_test_now_ns() - t0;
	assert_true(dt >= TIMEOUT_NS);
	assert_true(dt < TIMEOUT_NS + SLACK_NS);
}

static void no_domain_at_all(void **state)
{
	struct ring_block b;
	struct pt_ring host;

	(void)state;
	ring_pair_host(&b, 8, &host);
	assert_non_null(pt_ring_get_entry(&host));
	assert_int_equal(pt_ring_submit(&host), 1);
	assert_times_out(&host, 0);
	assert_times_out(&host, 10000000);       /* spin 10 ms, then sleep */
	assert_times_out(&host, 10000000000ull); /* spin longer than timeout */
	ring_block_unmap(&b);
}

static void domain_takes_request_and_hangs(void **state)
{
	struct ring_block b;
	struct pt_ring host;
	pid_t pid;

	(void)state;
	ring_pair_host(&b, 8, &host);
	pid = ring_test_fork(30);
	if (pid == 0) {
		struct pt_ring dom;
		struct pt_ring_entry got;

		if (pt_ring_attach(&dom, b.base, b.size, PT_RING_DOMAIN, 0) ||
		    pt_ring_wait(&dom, 0, -1) || pt_ring_peek(&dom, &got))
			_exit(1);
		pt_ring_advance(&dom, 1);
		pause(); /* never answers */
		_exit(2);
	}
	assert_non_null(pt_ring_get_entry(&host));
	assert_int_equal(pt_ring_submit(&host), 1);
	assert_times_out(&host, 0);
	assert_false(pt_ring_misbehaving(&host)); /* slow is not corrupt */
	kill(pid, SIGKILL);
	assert_int_equal(ring_test_reap(pid), -1);
	ring_block_unmap(&b);
}

/* A domain that keeps clearing the host's wake word makes every FUTEX_WAIT
 * of the host return at once; the host still returns on time. */
static void domain_fights_the_wake_word(void **state)
{
	struct ring_block b;
	struct pt_ring host;
	pid_t pid;

	(void)state;
	ring_pair_host(&b, 8, &host);
	pid = ring_test_fork(30);
	if (pid == 0) {
		for (uint32_t v = 0;; v++)
			__atomic_store_n(host.cons_wake, v & 2,
					 __ATOMIC_RELAXED);
	}
	assert_non_null(pt_ring_get_entry(&host));
	assert_int_equal(pt_ring_submit(&host), 1);
	for (int i = 0; i < 3; i++)
		assert_times_out(&host, 0);
	kill(pid, SIGKILL);
	assert_int_equal(ring_test_reap(pid), -1);
	ring_block_unmap(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_domain_at_all),
		cmocka_unit_test(domain_takes_request_and_hangs),
		cmocka_unit_test(domain_fights_the_wake_word),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
