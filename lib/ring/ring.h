/* SPDX-License-Identifier: MIT */
/*
 * lib/ring - the request path between the host and one domain: a
 * submission ring (SQ: host produces, domain consumes) and a completion ring
 * (CQ: domain produces, host consumes) in one shared block, io_uring style.
 *
 * Block layout (offsets fixed by the entry count, never read from the block):
 *   [ header page: magic, version, entry count; then one cache line each for
 *     sq tail, sq head, cq tail, cq head, sq wake word, cq wake word ]
 *   [ sq entries: entries * 64 bytes ][ cq entries: entries * 64 bytes ]
 *   rounded up to a whole page.
 *
 * Index ownership (each index has exactly one writer):
 *   sq tail  written by the host   (store-release after filling entries)
 *   sq head  written by the domain (store-release after copying entries out)
 *   cq tail  written by the domain
 *   cq head  written by the host
 * Indexes run free (uint32_t, wrapping); slot = index & (entries - 1), with
 * the mask from this side's private copy of the geometry.
 * The reader of a peer's index loads it with acquire, so the entries that the
 * peer wrote before its store-release are visible.
 *
 * Wake words: each consumer owns one wake word (sq wake: the domain's, cq
 * wake: the host's). Before sleeping the consumer stores PT_RING_NEED_WAKEUP
 * into it, issues a full fence and looks at the tail again; after publishing,
 * the producer issues a full fence and looks at the wake word. Of the two
 * (store; fence; load) sequences at least one sees the other's store, so
 * either the consumer sees the entry and does not sleep, or the producer sees
 * the flag, takes it with an exchange back to 0 (so only one wake per sleep;
 * the wake word is the one shared word both sides write) and calls
 * FUTEX_WAKE. If the consumer has not reached FUTEX_WAIT yet, the kernel finds
 * the word no longer equal to NEED_WAKEUP and returns at once. Hence no lost
 * wake-up, no syscall while the consumer is awake, and at most one wake
 * syscall per published batch.
 *
 * Trust: a side's handle (struct pt_ring) lives in that side's own memory;
 * the geometry is copied there at attach and never read from the block
 * again. A peer index is read once per call and range-checked before use;
 * a peer index that moved backwards, ran past the ring, or (on the host)
 * announced more completions than there were requests in flight is counted
 * in `corrupt`, marks the handle misbehaving (sticky) and makes the call
 * return -EPROTO. (The producer reads the peer's head lazily: when its own
 * count says the ring is full, in pt_ring_space_left, and before sleeping.)
 * Entries are copied out before use. Nothing the peer writes into the block
 * can make this side read or write outside the block.
 *
 * Flow control: the host may have at most `entries` requests in flight
 * (submitted and not yet completed and consumed), so an honest domain always
 * has room in the CQ for the completion of an SQ entry it holds; every
 * completion answers exactly one submission.
 *
 * Futexes are the shared (not _PRIVATE) kind: two processes map the block.
 *
 * Threads: a handle is one side's single producer and single consumer; it
 * is not locked. Callers that submit and reap from different threads on one
 * handle must serialise the calls themselves.
 */
#ifndef PT_LIB_RING_H
#define PT_LIB_RING_H

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PT_RING_ENTRY_SIZE 64u
#define PT_RING_ENTRIES_MIN 1u
#define PT_RING_ENTRIES_MAX 32768u
#define PT_RING_PAYLOAD_MAX 40u
/* A consumer that is about to sleep on its wake word. */
#define PT_RING_NEED_WAKEUP 1u

struct pt_ring_entry {
	uint16_t opcode;   /* PT_OP_* (defined by the user of the ring) */
	uint16_t flags;
	uint32_t instance; /* instance id inside the domain */
	uint64_t tag;      /* returned unchanged in the completion */
	int32_t result;    /* completion: 0 or -errno */
	uint32_t len;      /* bytes used in payload[] */
	uint8_t payload[PT_RING_PAYLOAD_MAX]; /* big ones go via a granted buffer */
};
static_assert(sizeof(struct pt_ring_entry) == PT_RING_ENTRY_SIZE,
	      "a ring entry is exactly 64 bytes");

enum pt_ring_side { PT_RING_HOST, PT_RING_DOMAIN };

struct pt_ring_stats {
	uint64_t submitted; /* entries this side published */
	uint64_t completed; /* entries this side consumed (advanced past) */
	uint64_t wakes;     /* FUTEX_WAKE syscalls this side made */
	uint64_t waits;     /* FUTEX_WAIT syscalls this side made */
	uint64_t spins;     /* pt_ring_wait calls satisfied without sleeping */
	uint64_t corrupt;   /* protocol breaks seen: peer indexes out of range,
			       entries refused by pt_ring_check_completion or
			       reported with pt_ring_corrupt */
};

/*
 * One side's private handle. "prod" is the ring this side produces into
 * (host: SQ, domain: CQ), "cons" the ring it consumes (host: CQ, domain: SQ).
 * Pointers and geometry are fixed at attach.
 */
struct pt_ring {
	enum pt_ring_side side;
	uint32_t entries;
	uint32_t mask;
	bool misbehaving;  /* the peer broke the protocol; sticky */

	/* ring this side produces into */
	uint32_t *prod_tail;       /* ours: store-release */
	const uint32_t *prod_head; /* peer's: load-acquire, checked */
	uint32_t *prod_wake;       /* the peer consumer's wake word */
	struct pt_ring_entry *prod_entries;
	uint32_t prod_local;       /* tail including entries not yet submitted */
	uint32_t prod_published;   /* last tail stored to *prod_tail */
	uint32_t prod_head_seen;   /* last peer head that passed the checks */

	/* ring this side consumes */
	uint32_t *cons_head;       /* ours: store-release */
	const uint32_t *cons_tail; /* peer's: load-acquire, checked */
	uint32_t *cons_wake;       /* our wake word */
	const struct pt_ring_entry *cons_entries;
	uint32_t cons_local;       /* head including entries peeked and advanced */
	uint32_t cons_tail_seen;   /* last peer tail that passed the checks */

	struct pt_ring_stats stats;
};

/* Bytes a block for @entries needs, page-rounded; 0 if @entries is not a
 * power of two in [PT_RING_ENTRIES_MIN, PT_RING_ENTRIES_MAX]. */
size_t pt_ring_block_size(uint32_t entries);

/* Formats @block (host, before sharing it): zeroed indexes and wake words,
 * geometry in the header. 0, or -EINVAL if @entries is invalid, @block is
 * not 64-byte aligned or @size is below pt_ring_block_size(@entries). */
int pt_ring_block_init(void *block, size_t size, uint32_t entries);

/* Attaches one side to a formatted block. The host passes the entry count
 * it formatted with; the domain passes 0 to take it from the header (or the
 * count it expects). 0, or -EINVAL (bad arguments, size too small for the
 * geometry) or -EPROTO (bad magic/version, header disagrees). */
int pt_ring_attach(struct pt_ring *r, void *block, size_t size,
		   enum pt_ring_side side, uint32_t entries);

/* Same as pt_ring_attach, with the reason for a failure in @err. */
int pt_ring_attach_err(struct pt_ring *r, void *block, size_t size,
		       enum pt_ring_side side, uint32_t entries, char *err,
		       size_t errlen);

/* Memory ordering on shared indexes, named at each use. */
#define pt_ring_load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define pt_ring_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define pt_ring_smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)

/* Marks the handle misbehaving and counts one corruption; returns -EPROTO.
 * The ring calls it for bad indexes; its user calls it for what only the
 * user can judge in a copied-out entry (an unknown tag, a bad opcode), so
 * every protocol break by the peer shows in the same counter and flag. */
static inline int pt_ring_corrupt(struct pt_ring *r)
{
	r->misbehaving = true;
	r->stats.corrupt++;
	return -EPROTO;
}

/* Reads the peer's tail of the ring we consume, once, and checks it.
 * Returns entries ready (>= 0) or -EPROTO. */
static inline int pt_ring_cons_check(struct pt_ring *r)
{
	uint32_t tail, ready, limit;

	if (r->misbehaving)
		return -EPROTO;
	tail = pt_ring_load_acquire(r->cons_tail);
	if (tail == r->cons_tail_seen)
		return (int)(tail - r->cons_local);
	ready = tail - r->cons_local;
	/* Host: a completion answers a submission, so the CQ can never hold
	 * more than is in flight (which is itself <= entries). */
	limit = r->side == PT_RING_HOST ? r->prod_published - r->cons_local
					: r->entries;
	if ((int32_t)(tail - r->cons_tail_seen) < 0 || ready > limit)
		return pt_ring_corrupt(r);
	r->cons_tail_seen = tail;
	return (int)ready;
}

/* Entries ready to read on the ring this side consumes (0 when the peer's
 * index is corrupt; pt_ring_peek then says -EPROTO). */
static inline unsigned pt_ring_ready(struct pt_ring *r)
{
	int n = pt_ring_cons_check(r);

	return n < 0 ? 0 : (unsigned)n;
}

/* Copies the oldest unread entry to @out without consuming it. 0, -EAGAIN
 * if none is ready, -EPROTO if the peer's index is corrupt. */
static inline int pt_ring_peek(struct pt_ring *r, struct pt_ring_entry *out)
{
	int n = pt_ring_cons_check(r);

	if (n < 0)
		return n;
	if (n == 0)
		return -EAGAIN;
	memcpy(out, &r->cons_entries[r->cons_local & r->mask], sizeof(*out));
	/* Compiler barrier: the caller's uses of *out must read the copy,
	 * never be turned back into reads of the slot the peer can rewrite
	 * (no double fetch). */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return 0;
}

/* Consumes @n entries: store-release of our head, so the peer may reuse the
 * slots only after we have copied them out. @n must be <= what was ready. */
static inline void pt_ring_advance(struct pt_ring *r, unsigned n)
{
	uint32_t avail = r->cons_tail_seen - r->cons_local;

	assert(n <= avail);
	if (n > avail)
		n = avail; /* never let our head pass what the peer published */
	r->cons_local += n;
	r->stats.completed += n;
	pt_ring_store_release(r->cons_head, r->cons_local);
}

/* Free slots by what this side already knows, without touching the block:
 * the host counts its requests in flight; the domain uses the last host head
 * it read. Never more than pt_ring_space_left would say. */
static inline unsigned pt_ring_space_cached(const struct pt_ring *r)
{
	uint32_t used = r->side == PT_RING_HOST ? r->prod_local - r->cons_local
						: r->prod_local - r->prod_head_seen;

	return used >= r->entries ? 0 : r->entries - used;
}

/* Slots free for pt_ring_get_entry on the ring this side produces into,
 * after reading and checking the peer's head (0 when it is corrupt). */
static inline unsigned pt_ring_space_left(struct pt_ring *r)
{
	uint32_t head;

	if (r->misbehaving)
		return 0;
	head = pt_ring_load_acquire(r->prod_head);
	/* The peer's head may only move forward and never past what we
	 * published. */
	if (head - r->prod_head_seen > r->prod_published - r->prod_head_seen) {
		pt_ring_corrupt(r);
		return 0;
	}
	r->prod_head_seen = head;
	return pt_ring_space_cached(r);
}

/* The next free slot, zeroed, to fill in place; NULL when full (or the peer
 * is misbehaving). Slots are published by pt_ring_submit. The peer's head
 * is read only when the cached view says full, so a producer with room does
 * not pull the consumer's cache line over on every entry. */
static inline struct pt_ring_entry *pt_ring_get_entry(struct pt_ring *r)
{
	struct pt_ring_entry *e;

	if (r->misbehaving)
		return NULL;
	if (pt_ring_space_cached(r) == 0 && pt_ring_space_left(r) == 0)
		return NULL;
	e = &r->prod_entries[r->prod_local & r->mask];
	r->prod_local++;
	memset(e, 0, sizeof(*e));
	return e;
}

/* Wakes the peer consumer if it announced it sleeps. Out of line: a
 * syscall. Returns 1 if a FUTEX_WAKE was made. */
int pt_ring_wake_peer(struct pt_ring *r);

/* Publishes all entries got since the last submit (store-release of our
 * tail) and wakes the consumer only if it set NEED_WAKEUP. Returns the
 * number of entries published, or -EPROTO if the peer is misbehaving. */
static inline int pt_ring_submit(struct pt_ring *r)
{
	uint32_t n = r->prod_local - r->prod_published;

	if (r->misbehaving)
		return -EPROTO;
	if (n == 0)
		return 0;
	pt_ring_store_release(r->prod_tail, r->prod_local);
	r->prod_published = r->prod_local;
	r->stats.submitted += n;
	/* Pairs with the consumer's fence between setting NEED_WAKEUP and
	 * re-reading our tail (see the top of this file). */
	pt_ring_smp_mb();
	if (__atomic_load_n(r->prod_wake, __ATOMIC_RELAXED) != 0)
		pt_ring_wake_peer(r);
	return (int)n;
}

/* Publishes like pt_ring_submit but never wakes the consumer: for a
 * request whose consumer is woken another way (an in-period chain's
 * activation word). Returns the number of entries published, or -EPROTO. */
static inline int pt_ring_submit_quiet(struct pt_ring *r)
{
	uint32_t n = r->prod_local - r->prod_published;

	if (r->misbehaving)
		return -EPROTO;
	pt_ring_store_release(r->prod_tail, r->prod_local);
	r->prod_published = r->prod_local;
	r->stats.submitted += n;
	return (int)n;
}

/*
 * Sleeps once, like pt_ring_wait after its spin, on this side's wake word
 * and on @n more shared 32-bit futex words at once (futex_waitv): returns
 * when entries are ready, when one of @words no longer holds its value in
 * @vals or its holder wakes it, or at @deadline_ns (CLOCK_MONOTONIC,
 * absolute; 0: none). Returns 1 when entries are ready, 0 when woken
 * otherwise (the caller looks at its words), -ETIMEDOUT, -EPROTO, or
 * another -errno of the syscall. @n <= 32. Counts one wait when it slept.
 */
int pt_ring_wait_any(struct pt_ring *r, uint32_t *const *words,
		     const uint32_t *vals, unsigned n, uint64_t deadline_ns);

/*
 * Waits until at least one entry is ready on the ring this side consumes:
 * spins up to @spin_ns, then sets NEED_WAKEUP, fences, re-checks and sleeps
 * on the futex. @timeout_ns < 0 waits without limit (domain only: the host
 * must pass a finite timeout). Returns 0, -ETIMEDOUT, -EPROTO (peer index
 * corrupt), -EINVAL, or the error of a FUTEX_WAIT that failed for another
 * reason than a wake, a signal or the timeout.
 */
int pt_ring_wait(struct pt_ring *r, uint64_t spin_ns, int64_t timeout_ns);

/* Copies this side's counters to @s. */
void pt_ring_stats(const struct pt_ring *r, struct pt_ring_stats *s);

/* True once the peer broke the protocol (sticky). */
static inline bool pt_ring_misbehaving(const struct pt_ring *r)
{
	return r->misbehaving;
}

/*
 * Checks a completion the host copied out: result must be 0 or -errno
 * (-4095..0) and len must fit the inline payload. On failure the handle is
 * marked misbehaving, `corrupt` counted, and -EPROTO returned.
 */
int pt_ring_check_completion(struct pt_ring *r,
			     const struct pt_ring_entry *e);

/*
 * A payload too big for an entry (a config blob) travels in a granted
 * buffer; the entry names it with a reference in its inline payload. Which
 * opcodes carry one is the user's protocol. The reader checks the reference
 * against the size of the grant it knows from its own records, never
 * against anything the writer says.
 */
struct pt_ring_buffer_ref {
	uint32_t grant;    /* the user's id for a granted buffer */
	uint32_t reserved; /* 0 */
	uint64_t offset;   /* bytes from the start of the buffer */
	uint64_t len;      /* bytes used */
};
static_assert(sizeof(struct pt_ring_buffer_ref) <= PT_RING_PAYLOAD_MAX,
	      "a buffer reference fits the inline payload");

/* Stores a reference to [@offset, @offset + @len) of grant @grant in @e. */
void pt_ring_set_buffer(struct pt_ring_entry *e, uint32_t grant,
			uint64_t offset, uint64_t len);

/* Copies the reference out of @e (already copied out of the ring) into
 * @ref and checks it: len field exact, reserved 0, and the range inside a
 * grant of @grant_size bytes without overflow. 0 or -EPROTO. */
int pt_ring_get_buffer(const struct pt_ring_entry *e, uint64_t grant_size,
		       struct pt_ring_buffer_ref *ref);

#ifdef __cplusplus
}
#endif

#endif
