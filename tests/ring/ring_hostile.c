/* SPDX-License-Identifier: MIT */
/*
 * Hostile writer: a domain that corrupts indexes, geometry, wake words and
 * entries. The host detects what is detectable (an index moved backwards,
 * beyond the ring, or announcing completions nobody asked for), counts it,
 * marks the ring misbehaving and answers -EPROTO from then on; and nothing
 * the domain writes makes the host touch memory outside the block (the
 * block sits between PROT_NONE guard pages: a stray access kills the test).
 */
#include "ring_test.h"

#include <string.h>

static void submit_n(struct pt_ring *host, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct pt_ring_entry *e = pt_ring_get_entry(host);

		assert_non_null(e);
		e->tag = 100 + i;
	}
	assert_int_equal(pt_ring_submit(host), n);
}

static void assert_shut(struct pt_ring *host, uint64_t corrupt)
{
	struct pt_ring_entry got;
	struct pt_ring_stats s;

	assert_true(pt_ring_misbehaving(host));
	pt_ring_stats(host, &s);
	assert_int_equal(s.corrupt, corrupt);
	/* sticky: every entry point refuses from now on */
	assert_int_equal(pt_ring_peek(host, &got), -EPROTO);
	assert_int_equal(pt_ring_ready(host), 0);
	assert_int_equal(pt_ring_wait(host, 0, 1000000000), -EPROTO);
	assert_null(pt_ring_get_entry(host));
	assert_int_equal(pt_ring_space_left(host), 0);
	assert_int_equal(pt_ring_submit(host), -EPROTO);
}

static void cq_tail_beyond_the_ring(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	struct pt_ring_entry got;

	(void)state;
	ring_pair(&b, 8, &host, &dom);
	submit_n(&host, 8);
	*dom.prod_tail = 9; /* 9 completions for 8 requests in an 8-ring */
	assert_int_equal(pt_ring_peek(&host, &got), -EPROTO);
	assert_shut(&host, 1);
	ring_block_unmap(&b);
}

static void cq_tail_far_beyond(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	struct pt_ring_entry got;

	(void)state;
	ring_pair(&b, 8, &host, &dom);
	submit_n(&host, 1);
	*dom.prod_tail = 0x80000000u;
	assert_int_equal(pt_ring_wait(&host, 0, 1000000000), -EPROTO);
	assert_int_equal(pt_ring_peek(&host, &got), -EPROTO);
	assert_shut(&host, 1);
	ring_block_unmap(&b);
}

static void unsolicited_completion(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	struct pt_ring_entry got;

	(void)state;
	ring_pair(&b, 8, &host, &dom);
	/* Nothing was submitted, yet one completion appears. */
	assert_non_null(pt_ring_get_entry(&dom));
	assert_int_equal(pt_ring_submit(&dom), 1);
	assert_int_equal(pt_ring_peek(&host, &got), -EPROTO);
	assert_shut(&host, 1);
	ring_block_unmap(&b);
}

static void more_completions_than_requests_in_flight(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	struct pt_ring_entry got;

	(void)state;
	ring_pair(&b, 8, &host, &dom);
	submit_n(&host, 2);
	*dom.prod_tail = 3;
	assert_int_equal(pt_ring_ready(&host), 0);
	assert_shut(&host, 1);
	(void)got;
	ring_block_unmap(&b);
}

static void cq_tail_moved_backwards(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	struct pt_ring_entry got;

	(void)state;
	ring_pair(&b, 8, &host, &dom);
	submit_n(&host, 4);
	*dom.prod_tail = 3;
	assert_int_equal(pt_ring_ready(&host), 3);
	assert_int_equal(pt_ring_peek(&host, &got), 0);
	pt_ring_advance(&host, 1);
	/* Still ahead of the host's head, but behind what it already saw. */
	*dom.prod_tail = 2;
	assert_int_equal(pt_ring_peek(&host, &got), -EPROTO);
	assert_shut(&host, 1);
	ring_block_unmap(&b);
}

static void cq_tail_behind_host_head(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	struct pt_ring_entry got;

	(void)state;
	ring_pair(&b, 8, &host, &dom);
	submit_n(&host, 4);
	*dom.prod_tail = 2;
	assert_int_equal(pt_ring_peek(&host, &got), 0);
	pt_ring_advance(&host, 2);
	*dom.prod_tail = 0;
	assert_int_equal(pt_ring_wait(&host, 1000, 1000000), -EPROTO);
	assert_shut(&host, 1);
	ring_block_unmap(&b);
}

static void sq_head_beyond_what_was_published(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;

	(void)state;
	ring_pair(&b, 8, &host, &dom);
	submit_n(&host, 2);
	*dom.cons_head = 3; /* consumed a request that was never sent */
	/* get_entry has room by its own count and does not look; the next
	 * wait that would sleep does */
	assert_non_null(pt_ring_get_entry(&host));
	assert_int_equal(pt_ring_wait(&host, 0, 1000000000), -EPROTO);
	assert_shut(&host, 1);
	ring_block_unmap(&b);
}

static void sq_head_moved_backwards(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	struct pt_ring_entry got;

	(void)state;
	ring_pair(&b, 8, &host, &dom);
	submit_n(&host, 3);
	assert_int_equal(pt_ring_peek(&dom, &got), 0);
	pt_ring_advance(&dom, 2);
	assert_int_equal(pt_ring_space_left(&host), 5); /* sees head 2 */
	*dom.cons_head = 1;
	assert_int_equal(pt_ring_space_left(&host), 0);
	assert_shut(&host, 1);
	ring_block_unmap(&b);
}

/* Geometry rewritten after attach: the host keeps its own copy and every
 * entry it touches stays inside the block. */
static void geometry_rewritten_after_attach(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	struct pt_ring_entry got;
	struct pt_ring_stats s;
	uint8_t *hdr;

	(void)state;
	ring_pair(&b, 4, &host, &dom);
	hdr = b.base;
	memset(hdr, 0xff, 16); /* magic, version, entries, entry size */
	for (unsigned round = 0; round < 64; round++) {
		submit_n(&host, 4);
		for (unsigned i = 0; i < 4; i++) {
			assert_int_equal(pt_ring_peek(&dom, &got), 0);
			assert_non_null(pt_ring_get_entry(&dom));
			pt_ring_advance(&dom, 1);
		}
		pt_ring_submit(&dom);
		assert_int_equal(pt_ring_ready(&host), 4);
		pt_ring_advance(&host, 4);
	}
	pt_ring_stats(&host, &s);
	assert_int_equal(s.corrupt, 0);
	assert_int_equal(s.completed, 256);
	assert_int_equal(host.entries, 4);
	/* and a domain attaching now is refused */
	assert_int_equal(pt_ring_attach(&dom, b.base, b.size, PT_RING_DOMAIN, 0),
			 -EPROTO);
	ring_block_unmap(&b);
}

/* Garbage in the wake words: the host makes no syscall for it and does not
 * misread it as a request to wake. */
static void wake_word_garbage(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	struct pt_ring_stats s;

	(void)state;
	ring_pair(&b, 4, &host, &dom);
	*dom.cons_wake = 0xdeadbeef;
	submit_n(&host, 1);
	pt_ring_stats(&host, &s);
	assert_int_equal(s.wakes, 0);
	assert_int_equal(*dom.cons_wake, 0); /* taken, not trusted */
	assert_false(pt_ring_misbehaving(&host));
	ring_block_unmap(&b);
}

/* Entry contents are the domain's: copied out, then checked. */
static void completion_fields_out_of_range(void **state)
{
	struct ring_block b;
	struct pt_ring host, dom;
	struct pt_ring_entry got, *e;

	(void)state;
	ring_pair(&b, 4, &host, &dom);
	submit_n(&host, 1);
	assert_int_equal(pt_ring_peek(&dom, &got), 0);
	e = pt_ring_get_entry(&dom);
	memset(e, 0xa5, sizeof(*e));
	pt_ring_advance(&dom, 1);
	pt_ring_submit(&dom);
	assert_int_equal(pt_ring_peek(&host, &got), 0);
	/* the domain rewriting the slot after the copy changes nothing */
	memset(e, 0, sizeof(*e));
	assert_int_equal(got.len, 0xa5a5a5a5u);
	assert_int_equal(pt_ring_check_completion(&host, &got), -EPROTO);
	assert_true(pt_ring_misbehaving(&host));
	ring_block_unmap(&b);
}

/*
 * A domain process that writes random values over the whole header and the
 * entries as fast as it can, while the host runs its normal request loop
 * with short timeouts. The host must never fault, never wait past its
 * deadline, and must catch the corruption.
 */
static void random_scribbler(void **state)
{
	struct ring_block b;
	pid_t pid;
	uint64_t detected = 0, timeouts = 0, ops = 0, attach_refused = 0;
	int64_t start, t0, worst = 0;

	(void)state;
	ring_block_map(&b, 16);
	pid = ring_test_fork(60);
	if (pid == 0) {
		uint64_t s = 88172645463325252ull;
		uint32_t *w = b.base;
		size_t words = b.size / 4;

		for (;;) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			/* mostly the header's index and wake lines */
			size_t i = (s >> 32) & 1 ? (s >> 40) % (7 * 16)
						 : (s >> 40) % words;
			uint32_t v = (uint32_t)s;

			switch ((s >> 20) & 3) {
			case 0: v &= 31; break;          /* small, plausible */
			case 1: v = w[i] + 1; break;     /* runs ahead */
			case 2: v = w[i] - 1; break;     /* moves backwards */
			default: break;                  /* anything */
			}
			__atomic_store_n(&w[i], v, __ATOMIC_RELAXED);
		}
	}

	start = ring_test_now_ns();
	while (ring_test_now_ns() - start < 2000000000ll) {
		struct pt_ring host;
		struct pt_ring_entry got;
		struct pt_ring_stats s;

		assert_int_equal(pt_ring_block_init(b.base, b.size, 16), 0);
		if (pt_ring_attach(&host, b.base, b.size, PT_RING_HOST, 16)) {
			attach_refused++;
			continue;
		}
		for (int i = 0; i < 1000 && !pt_ring_misbehaving(&host); i++) {
			struct pt_ring_entry *e = pt_ring_get_entry(&host);
			int rc;

			if (e)
				e->tag = (uint64_t)i;
			pt_ring_submit(&host);
			t0 = ring_test_now_ns();
			rc = pt_ring_wait(&host, i & 1 ? 2000 : 0, 1000000);
			t0 = ring_test_now_ns() - t0;
			worst = t0 > worst ? t0 : worst;
			assert_true(rc == 0 || rc == -ETIMEDOUT || rc == -EPROTO);
			timeouts += rc == -ETIMEDOUT;
			while (pt_ring_peek(&host, &got) == 0) {
				pt_ring_check_completion(&host, &got);
				pt_ring_advance(&host, 1);
			}
			ops++;
		}
		pt_ring_stats(&host, &s);
		assert_true(pt_ring_misbehaving(&host) == (s.corrupt > 0));
		detected += pt_ring_misbehaving(&host);
	}
	kill(pid, SIGKILL);
	assert_int_equal(ring_test_reap(pid), -1);
	printf("scribbler: %llu host operations, %llu rings caught "
	       "misbehaving, %llu attaches refused, %llu timeouts, worst wait "
	       "%lld us (limit 1000 us)\n",
	       (unsigned long long)ops, (unsigned long long)detected,
	       (unsigned long long)attach_refused,
	       (unsigned long long)timeouts, (long long)(worst / 1000));
	assert_true(detected > 0);
	/* a wait never overstays its 1 ms limit by more than scheduling */
	assert_true(worst < 1000000 + 500000000ll);
	ring_block_unmap(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cq_tail_beyond_the_ring),
		cmocka_unit_test(cq_tail_far_beyond),
		cmocka_unit_test(unsolicited_completion),
		cmocka_unit_test(more_completions_than_requests_in_flight),
		cmocka_unit_test(cq_tail_moved_backwards),
		cmocka_unit_test(cq_tail_behind_host_head),
		cmocka_unit_test(sq_head_beyond_what_was_published),
		cmocka_unit_test(sq_head_moved_backwards),
		cmocka_unit_test(geometry_rewritten_after_attach),
		cmocka_unit_test(wake_word_garbage),
		cmocka_unit_test(completion_fields_out_of_range),
		cmocka_unit_test(random_scribbler),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
