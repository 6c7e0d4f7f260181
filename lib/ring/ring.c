/* SPDX-License-Identifier: MIT */
/*
 * lib/ring - block layout, attach, and the slow paths (wake, wait). The hot
 * path is inline in ring.h.
 */
#include "lib/ring/ring.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PT_RING_MAGIC 0x676e7270u /* "prng" */
#define PT_RING_VERSION 1u
#define PT_RING_HEADER_SIZE 4096u
#define PT_RING_CACHE_LINE 64

/* The shared header. Every index and wake word has its own cache line so
 * the two sides do not bounce a line they do not both need. */
struct pt_ring_header {
	uint32_t magic;
	uint32_t version;
	uint32_t entries;
	uint32_t entry_size;
	alignas(PT_RING_CACHE_LINE) uint32_t sq_tail; /* host writes */
	alignas(PT_RING_CACHE_LINE) uint32_t sq_head; /* domain writes */
	alignas(PT_RING_CACHE_LINE) uint32_t cq_tail; /* domain writes */
	alignas(PT_RING_CACHE_LINE) uint32_t cq_head; /* host writes */
	alignas(PT_RING_CACHE_LINE) uint32_t sq_wake; /* domain sleeps on it */
	alignas(PT_RING_CACHE_LINE) uint32_t cq_wake; /* host sleeps on it */
};
static_assert(sizeof(struct pt_ring_header) <= PT_RING_HEADER_SIZE,
	      "the header fits its page");
static_assert(offsetof(struct pt_ring_header, cq_wake) ==
		      6 * PT_RING_CACHE_LINE,
	      "one cache line per index and wake word");
static_assert(PT_RING_HEADER_SIZE % PT_RING_ENTRY_SIZE == 0,
	      "entries start aligned");

static bool entries_valid(uint32_t entries)
{
	return entries >= PT_RING_ENTRIES_MIN &&
	       entries <= PT_RING_ENTRIES_MAX &&
	       (entries & (entries - 1)) == 0;
}

static size_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (size_t)p : 4096;
}

size_t pt_ring_block_size(uint32_t entries)
{
	size_t bytes, page = page_size();

	if (!entries_valid(entries))
		return 0;
	bytes = PT_RING_HEADER_SIZE + 2 * (size_t)entries * PT_RING_ENTRY_SIZE;
	return (bytes + page - 1) / page * page;
}

int pt_ring_block_init(void *block, size_t size, uint32_t entries)
{
	struct pt_ring_header *h = block;

	if (!block || ((uintptr_t)block % PT_RING_CACHE_LINE) != 0 ||
	    !entries_valid(entries) || size < pt_ring_block_size(entries))
		return -EINVAL;
	memset(block, 0, pt_ring_block_size(entries));
	h->version = PT_RING_VERSION;
	h->entries = entries;
	h->entry_size = PT_RING_ENTRY_SIZE;
	/* The magic goes last: a block with the magic is fully formatted. */
	pt_ring_store_release(&h->magic, PT_RING_MAGIC);
	return 0;
}

__attribute__((format(printf, 4, 5))) static int
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int pt_ring_attach_err(struct pt_ring *r, void *block, size_t size,
		       enum pt_ring_side side, uint32_t entries, char *err,
		       size_t errlen)
{
	struct pt_ring_header *h = block;
	struct pt_ring_header g; /* geometry, read from the block once */
	struct pt_ring_entry *sqes, *cqes;

	if (!r || !block || ((uintptr_t)block % PT_RING_CACHE_LINE) != 0)
		return fail(err, errlen, -EINVAL,
			    "ring block missing or not 64-byte aligned");
	if (side != PT_RING_HOST && side != PT_RING_DOMAIN)
		return fail(err, errlen, -EINVAL, "ring side %d unknown",
			    (int)side);
	if (side == PT_RING_HOST && !entries_valid(entries))
		return fail(err, errlen, -EINVAL,
			    "ring entry count %u is not a power of two in "
			    "%u..%u",
			    entries, PT_RING_ENTRIES_MIN, PT_RING_ENTRIES_MAX);
	if (size < PT_RING_HEADER_SIZE)
		return fail(err, errlen, -EINVAL,
			    "ring block of %zu bytes is smaller than its "
			    "%u-byte header",
			    size, PT_RING_HEADER_SIZE);

	g.magic = pt_ring_load_acquire(&h->magic);
	g.version = __atomic_load_n(&h->version, __ATOMIC_RELAXED);
	g.entries = __atomic_load_n(&h->entries, __ATOMIC_RELAXED);
	g.entry_size = __atomic_load_n(&h->entry_size, __ATOMIC_RELAXED);
	if (g.magic != PT_RING_MAGIC)
		return fail(err, errlen, -EPROTO,
			    "ring block magic %#x, expected %#x", g.magic,
			    PT_RING_MAGIC);
	if (g.version != PT_RING_VERSION || g.entry_size != PT_RING_ENTRY_SIZE)
		return fail(err, errlen, -EPROTO,
			    "ring block version %u entry size %u unsupported",
			    g.version, g.entry_size);
	if (!entries_valid(g.entries))
		return fail(err, errlen, -EPROTO,
			    "ring block entry count %u invalid", g.entries);
	if (entries != 0 && g.entries != entries)
		return fail(err, errlen, -EPROTO,
			    "ring block has %u entries, expected %u",
			    g.entries, entries);
	if (size < pt_ring_block_size(g.entries))
		return fail(err, errlen, -EINVAL,
			    "ring block of %zu bytes too small for %u entries",
			    size, g.entries);

	memset(r, 0, sizeof(*r));
	r->side = side;
	r->entries = g.entries;
	r->mask = g.entries - 1;
	sqes = (struct pt_ring_entry *)((uint8_t *)block + PT_RING_HEADER_SIZE);
	cqes = sqes + g.entries;

	if (side == PT_RING_HOST) {
		/* The host attaches to the block it has just formatted, before
		 * granting it, so its indexes start from zero. */
		if (__atomic_load_n(&h->sq_tail, __ATOMIC_RELAXED) ||
		    __atomic_load_n(&h->cq_head, __ATOMIC_RELAXED))
			return fail(err, errlen, -EPROTO,
				    "ring block not freshly formatted (sq tail "
				    "%u, cq head %u)",
				    h->sq_tail, h->cq_head);
		r->prod_tail = &h->sq_tail;
		r->prod_head = &h->sq_head;
		r->prod_wake = &h->sq_wake;
		r->prod_entries = sqes;
		r->cons_head = &h->cq_head;
		r->cons_tail = &h->cq_tail;
		r->cons_wake = &h->cq_wake;
		r->cons_entries = cqes;
	} else {
		uint32_t tail, head;

		r->prod_tail = &h->cq_tail;
		r->prod_head = &h->cq_head;
		r->prod_wake = &h->cq_wake;
		r->prod_entries = cqes;
		r->cons_head = &h->sq_head;
		r->cons_tail = &h->sq_tail;
		r->cons_wake = &h->sq_wake;
		r->cons_entries = sqes;
		/* The domain continues from the indexes it owns. */
		tail = __atomic_load_n(&h->cq_tail, __ATOMIC_RELAXED);
		head = pt_ring_load_acquire(&h->cq_head);
		if (tail - head > g.entries)
			return fail(err, errlen, -EPROTO,
				    "ring block cq tail %u / head %u out of "
				    "range",
				    tail, head);
		r->prod_local = r->prod_published = tail;
		r->prod_head_seen = head;
		r->cons_local = r->cons_tail_seen =
			__atomic_load_n(&h->sq_head, __ATOMIC_RELAXED);
	}
	return 0;
}

int pt_ring_attach(struct pt_ring *r, void *block, size_t size,
		   enum pt_ring_side side, uint32_t entries)
{
	return pt_ring_attach_err(r, block, size, side, entries, NULL, 0);
}

static long futex(uint32_t *word, int op, uint32_t val,
		  const struct timespec *timeout)
{
	return syscall(SYS_futex, word, op, val, timeout, NULL, 0);
}

int pt_ring_wake_peer(struct pt_ring *r)
{
	/* Taking the flag with an exchange makes this the one wake for the
	 * peer's sleep; a later submit sees 0 and makes no syscall. A peer
	 * that stores some other value gets no wake and has only itself to
	 * blame. */
	if (__atomic_exchange_n(r->prod_wake, 0, __ATOMIC_SEQ_CST) !=
	    PT_RING_NEED_WAKEUP)
		return 0;
	futex(r->prod_wake, FUTEX_WAKE, 1, NULL);
	r->stats.wakes++;
	return 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
#endif
}

int pt_ring_wait(struct pt_ring *r, uint64_t spin_ns, int64_t timeout_ns)
{
	int64_t start, deadline, left;
	bool slept = false;
	struct timespec ts;
	unsigned i;
	int n;

	if (r->side == PT_RING_HOST && timeout_ns < 0)
		return -EINVAL; /* the host never blocks forever on a domain */
	n = pt_ring_cons_check(r);
	if (n != 0)
		goto done;
	start = now_ns();
	deadline = timeout_ns < 0 ? INT64_MAX
		   : timeout_ns > INT64_MAX - start ? INT64_MAX
						   : start + timeout_ns;

	/* Spin phase: the clock is read every 32 polls to keep the loop
	 * tight. */
	for (i = 1; spin_ns; i++) {
		cpu_relax();
		n = pt_ring_cons_check(r);
		if (n != 0)
			goto done;
		if ((i & 31) == 0) {
			int64_t t = now_ns();

			if ((uint64_t)(t - start) >= spin_ns)
				break;
			if (t >= deadline)
				return -ETIMEDOUT;
		}
	}

	for (;;) {
		/* Before sleeping, a look at the peer's head of the other ring
		 * too: the hot path only reads it when the ring looks full,
		 * and a head that ran ahead or back is a broken peer. */
		pt_ring_space_left(r);
		if (r->misbehaving)
			return -EPROTO;
		__atomic_store_n(r->cons_wake, PT_RING_NEED_WAKEUP,
				 __ATOMIC_RELAXED);
		/* Pairs with the producer's fence between its tail store and
		 * its look at our wake word. */
		pt_ring_smp_mb();
		n = pt_ring_cons_check(r);
		if (n != 0) {
			__atomic_store_n(r->cons_wake, 0, __ATOMIC_RELAXED);
			goto done;
		}
		left = deadline == INT64_MAX ? -1 : deadline - now_ns();
		if (deadline != INT64_MAX && left <= 0) {
			__atomic_store_n(r->cons_wake, 0, __ATOMIC_RELAXED);
			return -ETIMEDOUT;
		}
		if (left > 0) {
			ts.tv_sec = left / 1000000000;
			ts.tv_nsec = left % 1000000000;
		}
		/* Returns at once (EAGAIN) if the producer already took the
		 * flag; EINTR and timeouts are decided by the loop. Any other
		 * error (a seccomp filter without futex, say) would turn the
		 * loop into a busy one, so it ends the wait. */
		r->stats.waits++;
		slept = true;
		if (futex(r->cons_wake, FUTEX_WAIT, PT_RING_NEED_WAKEUP,
			  left > 0 ? &ts : NULL) < 0 &&
		    errno != EAGAIN && errno != EINTR && errno != ETIMEDOUT) {
			int err = errno;

			__atomic_store_n(r->cons_wake, 0, __ATOMIC_RELAXED);
			return -err;
		}
		/* Look before setting the flag again, so a producer that just
		 * woke us is not asked for a second wake. */
		n = pt_ring_cons_check(r);
		if (n != 0)
			goto done;
	}
done:
	if (n < 0)
		return n;
	if (!slept)
		r->stats.spins++;
	return 0;
}

/* The kernel's struct futex_waitv (linux/futex.h, 5.16+). */
struct ring_waitv {
	uint64_t val;
	uint64_t uaddr;
	uint32_t flags;
	uint32_t reserved;
};
#define RING_FUTEX2_SIZE_U32 0x02

int pt_ring_wait_any(struct pt_ring *r, uint32_t *const *words,
		     const uint32_t *vals, unsigned n, uint64_t deadline_ns)
{
	struct ring_waitv w[33];
	struct timespec ts;
	int ready;

	if (n > 32)
		return -EINVAL;
	pt_ring_space_left(r);
	if (r->misbehaving)
		return -EPROTO;
	__atomic_store_n(r->cons_wake, PT_RING_NEED_WAKEUP, __ATOMIC_RELAXED);
	/* Pairs with the producer's fence (see the top of ring.h). */
	pt_ring_smp_mb();
	ready = pt_ring_cons_check(r);
	if (ready != 0) {
		__atomic_store_n(r->cons_wake, 0, __ATOMIC_RELAXED);
		return ready < 0 ? ready : 1;
	}
	w[0] = (struct ring_waitv){ PT_RING_NEED_WAKEUP, (uintptr_t)r->cons_wake,
				    RING_FUTEX2_SIZE_U32, 0 };
	for (unsigned i = 0; i < n; i++)
		w[i + 1] = (struct ring_waitv){ vals[i], (uintptr_t)words[i],
						RING_FUTEX2_SIZE_U32, 0 };
	if (deadline_ns) {
		ts.tv_sec = (time_t)(deadline_ns / 1000000000u);
		ts.tv_nsec = (long)(deadline_ns % 1000000000u);
	}
	r->stats.waits++;
	if (syscall(SYS_futex_waitv, w, n + 1, 0, deadline_ns ? &ts : NULL,
		    CLOCK_MONOTONIC) < 0 && errno != EAGAIN && errno != EINTR) {
		int err = errno;

		__atomic_store_n(r->cons_wake, 0, __ATOMIC_RELAXED);
		return -err;
	}
	/* Whoever woke us, the flag goes: a producer that sees it later
	 * would make a wake nobody waits for. */
	__atomic_store_n(r->cons_wake, 0, __ATOMIC_RELAXED);
	ready = pt_ring_cons_check(r);
	if (ready != 0)
		return ready < 0 ? ready : 1;
	if (deadline_ns) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec >= deadline_ns)
			return -ETIMEDOUT;
	}
	return 0;
}

void pt_ring_stats(const struct pt_ring *r, struct pt_ring_stats *s)
{
	*s = r->stats;
}

int pt_ring_check_completion(struct pt_ring *r, const struct pt_ring_entry *e)
{
	if (e->result > 0 || e->result < -4095 || e->len > PT_RING_PAYLOAD_MAX)
		return pt_ring_corrupt(r);
	return 0;
}

void pt_ring_set_buffer(struct pt_ring_entry *e, uint32_t grant,
			uint64_t offset, uint64_t len)
{
	struct pt_ring_buffer_ref ref = {
		.grant = grant, .offset = offset, .len = len
	};

	memcpy(e->payload, &ref, sizeof(ref));
	e->len = sizeof(ref);
}

int pt_ring_get_buffer(const struct pt_ring_entry *e, uint64_t grant_size,
		       struct pt_ring_buffer_ref *ref)
{
	if (e->len != sizeof(*ref))
		return -EPROTO;
	memcpy(ref, e->payload, sizeof(*ref));
	if (ref->reserved != 0 || ref->offset > grant_size ||
	    ref->len > grant_size - ref->offset)
		return -EPROTO;
	return 0;
}
