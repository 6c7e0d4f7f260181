/* SPDX-License-Identifier: MIT */
/* Empty ring: nothing to read on either side, waits time out on time, and
 * the empty state costs no wake. */
#include "ring_test.h"

#include <seccomp.h>

static void empty_ring_reads_nothing(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	struct pt_ring_entry got;

	(void)state;
	ring_pair(&b, 16, &host, &dom);
	assert_int_equal(pt_ring_ready(&host), 0);
	assert_int_equal(pt_ring_ready(&dom), 0);
	assert_int_equal(pt_ring_peek(&host, &got), -EAGAIN);
	assert_int_equal(pt_ring_peek(&dom, &got), -EAGAIN);
	assert_int_equal(pt_ring_submit(&host), 0);
	assert_int_equal(pt_ring_submit(&dom), 0);
	assert_int_equal(pt_ring_space_left(&host), 16);
	assert_int_equal(pt_ring_space_left(&dom), 16);
	ring_block_unmap(&b);
}

static void wait_on_empty_ring_times_out(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	struct pt_ring_stats s;
	int64_t t0, dt;

	(void)state;
	ring_pair(&b, 16, &host, &dom);
	/* spin only */
	t0 = ring_test_now_ns();
	assert_int_equal(pt_ring_wait(&host, 1000000000, 20000000), -ETIMEDOUT);
	dt = ring_test_now_ns() - t0;
	assert_true(dt >= 20000000 && dt < 1000000000);
	/* sleep only */
	t0 = ring_test_now_ns();
	assert_int_equal(pt_ring_wait(&dom, 0, 20000000), -ETIMEDOUT);
	dt = ring_test_now_ns() - t0;
	assert_true(dt >= 20000000 && dt < 1000000000);
	pt_ring_stats(&dom, &s);
	assert_true(s.waits >= 1);
	assert_int_equal(s.spins, 0);
	/* zero timeout: one look, no sleep */
	assert_int_equal(pt_ring_wait(&host, 0, 0), -ETIMEDOUT);
	/* a timed-out waiter leaves no NEED_WAKEUP behind, so the next
	 * submit makes no syscall */
	assert_non_null(pt_ring_get_entry(&host));
	assert_int_equal(pt_ring_submit(&host), 1);
	pt_ring_stats(&host, &s);
	assert_int_equal(s.wakes, 0);
	ring_block_unmap(&b);
}

static void ready_entry_returns_without_waiting(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	struct pt_ring_stats s;

	(void)state;
	ring_pair(&b, 16, &host, &dom);
	assert_non_null(pt_ring_get_entry(&host));
	pt_ring_submit(&host);
	assert_int_equal(pt_ring_wait(&dom, 0, 0), 0);
	pt_ring_stats(&dom, &s);
	assert_int_equal(s.waits, 0);
	assert_int_equal(s.spins, 1);
	ring_block_unmap(&b);
}

/* A domain whose seccomp filter refuses futex gets the error back instead
 * of a wait that spins for ever. */
static void wait_reports_a_futex_it_cannot_make(void **state)
{
	struct ring_block b;
	struct pt_ring host;
	pid_t pid;

	(void)state;
	ring_pair_host(&b, 4, &host);
	pid = ring_test_fork(20);
	if (pid == 0) {
		struct pt_ring dom;
		scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

		if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
					     SCMP_SYS(futex), 0) ||
		    seccomp_load(ctx))
			_exit(10);
		if (pt_ring_attach(&dom, b.base, b.size, PT_RING_DOMAIN, 0))
			_exit(11);
		/* no timeout: only the error can end this wait */
		_exit(pt_ring_wait(&dom, 0, -1) == -ENOSYS ? 0 : 12);
	}
	assert_int_equal(ring_test_reap(pid), 0);
	ring_block_unmap(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_ring_reads_nothing),
		cmocka_unit_test(wait_on_empty_ring_times_out),
		cmocka_unit_test(ready_entry_returns_without_waiting),
		cmocka_unit_test(wait_reports_a_futex_it_cannot_make),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
