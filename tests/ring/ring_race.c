/* SPDX-License-Identifier: MIT */
/*
 * Lost-wake race: host and domain in two processes sharing one memfd
 * mapping race the NEED_WAKEUP handshake for as many rounds as fit the time
 * budget (PT_RING_RACE_SECONDS, default 8; PT_RING_RACE_ROUNDS caps the
 * rounds). Spin budgets are drawn at random, mostly zero, so the consumer
 * keeps going to sleep right as the producer publishes. Every wait has a
 * 5 s limit: a lost wake-up shows as a timeout and fails the test; so does
 * any entry lost, duplicated or reordered.
 */
#include "ring_test.h"

#define ENTRIES 8
#define WAIT_LIMIT_NS 5000000000ll
#define OP_PING 1
#define OP_STREAM 2
#define OP_STOP 3

struct peer_report {
	struct pt_ring_stats stats;
	int fail_line;
};

static const uint64_t spins_ns[] = { 0, 0, 0, 0, 50, 200, 1000, 5000 };

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t pick_spin(uint64_t *s)
{
	return spins_ns[xorshift(s) % (sizeof(spins_ns) / sizeof(spins_ns[0]))];
}

#define PEER_CHECK(c)                                                          \
	do {                                                                   \
		if (!(c)) {                                                    \
			rep->fail_line = __LINE__;                             \
			return 1;                                              \
		}                                                              \
	} while (0)

/* The domain: answers every request; in the stream phase it takes a random
 * number of the ready entries each time, so batches vary. */
static int domain_loop(struct ring_block *b, struct peer_report *rep)
{
	struct pt_ring dom;
	struct pt_ring_entry got, *e;
	uint64_t seed = 0x9e3779b97f4a7c15ull, expect = 0;

	PEER_CHECK(pt_ring_attach(&dom, b->base, b->size, PT_RING_DOMAIN, 0) ==
		   0);
	for (;;) {
		unsigned ready, take;

		PEER_CHECK(pt_ring_wait(&dom, pick_spin(&seed), WAIT_LIMIT_NS) ==
			   0);
		ready = pt_ring_ready(&dom);
		PEER_CHECK(ready > 0);
		take = 1 + (unsigned)(xorshift(&seed) % ready);
		for (unsigned i = 0; i < take; i++) {
			PEER_CHECK(pt_ring_peek(&dom, &got) == 0);
			PEER_CHECK(got.tag == expect);
			expect++;
			e = pt_ring_get_entry(&dom);
			PEER_CHECK(e != NULL);
			e->tag = got.tag;
			e->opcode = got.opcode;
			pt_ring_advance(&dom, 1);
			if (got.opcode == OP_STOP) {
				PEER_CHECK(pt_ring_submit(&dom) >= 1);
				pt_ring_stats(&dom, &rep->stats);
				return 0;
			}
		}
		PEER_CHECK(pt_ring_submit(&dom) == (int)take);
	}
}

static int budget_seconds(void)
{
	const char *s = getenv("PT_RING_RACE_SECONDS");
	int v = s ? atoi(s) : 8;

	return v > 0 && v <= 50 ? v : 8;
}

static uint64_t round_cap(void)
{
	const char *s = getenv("PT_RING_RACE_ROUNDS");

	return s ? strtoull(s, NULL, 10) : UINT64_MAX;
}

static void race_the_wake_flag(void **state)
{
	struct ring_block b;
	struct pt_ring host;
	struct pt_ring_entry got, *e;
	struct pt_ring_stats hs;
	struct peer_report *rep;
	uint64_t seed = 0x2545f4914f6cdd1dull, tag = 0, expect = 0;
	uint64_t pings = 0, streamed = 0, cap = round_cap();
	int64_t start = ring_test_now_ns();
	int64_t half = (int64_t)budget_seconds() * 500000000ll;
	pid_t pid;

	(void)state;
	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(rep != MAP_FAILED);
	ring_pair_host(&b, ENTRIES, &host);
	pid = ring_test_fork(budget_seconds() + 30);
	if (pid == 0) {
		_exit(domain_loop(&b, rep));
	}

	/* Phase 1: ping-pong, one request in flight. */
	while (pings < cap / 2 && ((pings & 255) || ring_test_now_ns() - start < half)) {
		e = pt_ring_get_entry(&host);
		assert_non_null(e);
		e->tag = tag++;
		e->opcode = OP_PING;
		assert_int_equal(pt_ring_submit(&host), 1);
		assert_int_equal(pt_ring_wait(&host, pick_spin(&seed),
					      WAIT_LIMIT_NS),
				 0);
		assert_int_equal(pt_ring_peek(&host, &got), 0);
		assert_true(got.tag == expect);
		expect++;
		pt_ring_advance(&host, 1);
		pings++;
	}

	/* Phase 2: streaming, random batch sizes up to a full ring. */
	start = ring_test_now_ns();
	while (streamed < cap / 2 &&
	       ((streamed & 1023) || ring_test_now_ns() - start < half)) {
		unsigned space = pt_ring_space_left(&host), n;

		if (space) {
			n = 1 + (unsigned)(xorshift(&seed) % space);
			for (unsigned i = 0; i < n; i++) {
				e = pt_ring_get_entry(&host);
				assert_non_null(e);
				e->tag = tag++;
				e->opcode = OP_STREAM;
			}
			assert_int_equal(pt_ring_submit(&host), n);
		}
		if (pt_ring_ready(&host) == 0)
			assert_int_equal(pt_ring_wait(&host, pick_spin(&seed),
						      WAIT_LIMIT_NS),
					 0);
		while (pt_ring_peek(&host, &got) == 0) {
			assert_true(got.tag == expect);
			expect++;
			pt_ring_advance(&host, 1);
			streamed++;
		}
	}

	/* Drain and stop. */
	while (expect != tag) {
		assert_int_equal(pt_ring_wait(&host, 0, WAIT_LIMIT_NS), 0);
		while (pt_ring_peek(&host, &got) == 0) {
			assert_true(got.tag == expect);
			expect++;
			pt_ring_advance(&host, 1);
		}
	}
	e = pt_ring_get_entry(&host);
	assert_non_null(e);
	e->tag = tag++;
	e->opcode = OP_STOP;
	assert_int_equal(pt_ring_submit(&host), 1);
	assert_int_equal(pt_ring_wait(&host, 0, WAIT_LIMIT_NS), 0);
	assert_int_equal(pt_ring_peek(&host, &got), 0);
	assert_int_equal(got.opcode, OP_STOP);
	pt_ring_advance(&host, 1);

	if (ring_test_reap(pid) != 0)
		fail_msg("domain failed at ring_race.c:%d", rep->fail_line);
	pt_ring_stats(&host, &hs);
	assert_true(hs.submitted == tag && hs.completed == tag);
	assert_true(rep->stats.submitted == tag && rep->stats.completed == tag);
	assert_int_equal(hs.corrupt + rep->stats.corrupt, 0);
	printf("race: %llu ping-pong rounds + %llu streamed entries = %llu "
	       "entries; host sleeps %llu wakes %llu, domain sleeps %llu "
	       "wakes %llu\n",
	       (unsigned long long)pings, (unsigned long long)streamed,
	       (unsigned long long)tag, (unsigned long long)hs.waits,
	       (unsigned long long)hs.wakes,
	       (unsigned long long)rep->stats.waits,
	       (unsigned long long)rep->stats.wakes);
	/* Both sides actually slept, so the handshake was exercised. */
	assert_true(hs.waits > 0 && rep->stats.waits > 0);
	ring_block_unmap(&b);
	munmap(rep, sizeof(*rep));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(race_the_wake_flag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
