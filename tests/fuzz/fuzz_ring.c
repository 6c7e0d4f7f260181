/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ring: one side of a ring pair against a peer that writes anything
 * anywhere in the shared block (indexes, wake words, geometry, entries),
 * interleaved with honest peer steps. The input is a script:
 *   byte 0: entry count = 1 << (b % 7); byte 1 bit 0: side under test
 *   then ops, one byte each plus their arguments (see the switch).
 * After every op the side under test must hold its invariants: its own view
 * of the indexes stays within the ring, misbehaving is set exactly when a
 * corruption was counted, and it never touches memory outside the block
 * (the block is a heap allocation of exactly its size, so ASan sees any
 * stray access).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ring/ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct script {
	const uint8_t *p, *end;
};

static unsigned take(struct script *s, unsigned bytes)
{
	unsigned v = 0;

	while (bytes-- && s->p < s->end)
		v = v << 8 | *s->p++;
	return v;
}

static void check_invariants(struct pt_ring *r)
{
	struct pt_ring_stats st;

	pt_ring_stats(r, &st);
	if (pt_ring_misbehaving(r) != (st.corrupt > 0))
		abort();
	if (pt_ring_misbehaving(r))
		return;
	/* our own view never claims more than the ring holds */
	if (r->cons_tail_seen - r->cons_local > r->entries ||
	    r->prod_local - r->prod_published > r->entries ||
	    pt_ring_space_cached(r) > r->entries)
		abort();
	if (r->side == PT_RING_HOST) {
		/* requests in flight bounded; completions never ahead of
		 * them (the host's SQ head view may lag: it is read lazily) */
		if (r->prod_local - r->cons_local > r->entries ||
		    r->cons_tail_seen - r->cons_local >
			    r->prod_published - r->cons_local)
			abort();
	} else if (r->prod_local - r->prod_head_seen > r->entries) {
		abort();
	}
}

/* An honest peer step: take one request (or completion) and answer it. */
static void peer_step(struct pt_ring *peer)
{
	struct pt_ring_entry e, *out;

	if (pt_ring_peek(peer, &e) != 0)
		return;
	if (peer->side == PT_RING_DOMAIN) {
		out = pt_ring_get_entry(peer);
		if (!out)
			return;
		out->tag = e.tag;
	}
	pt_ring_advance(peer, 1);
	pt_ring_submit(peer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct script s = { data, data + size };
	struct pt_ring r, peer;
	enum pt_ring_side side;
	uint32_t entries, *words;
	size_t bsize, nwords;
	uint8_t *block;

	if (size < 2)
		return 0;
	entries = 1u << (take(&s, 1) % 7);
	side = take(&s, 1) & 1 ? PT_RING_DOMAIN : PT_RING_HOST;
	bsize = pt_ring_block_size(entries);
	block = aligned_alloc(4096, bsize);
	if (!block)
		return 0;
	if (pt_ring_block_init(block, bsize, entries) ||
	    pt_ring_attach(side == PT_RING_HOST ? &r : &peer, block, bsize,
			   PT_RING_HOST, entries) ||
	    pt_ring_attach(side == PT_RING_HOST ? &peer : &r, block, bsize,
			   PT_RING_DOMAIN, 0))
		abort();
	words = (uint32_t *)block;
	nwords = bsize / 4;

	while (s.p < s.end) {
		struct pt_ring_entry e, *slot;
		unsigned op = take(&s, 1), at;

		switch (op % 9) {
		case 0: /* peer scribbles a header index or wake word */
			at = take(&s, 1) % 6;
			words[16 * (at + 1)] = take(&s, 4);
			break;
		case 1: /* peer nudges an index by a small step */
			at = 16 * (1 + take(&s, 1) % 4);
			words[at] += (uint32_t)(int8_t)take(&s, 1);
			break;
		case 2: /* peer scribbles anywhere in the block */
			at = take(&s, 3) % nwords;
			words[at] = take(&s, 4);
			break;
		case 3:
			slot = pt_ring_get_entry(&r);
			if (slot) {
				if ((uint8_t *)slot < block + 4096 ||
				    (uint8_t *)(slot + 1) > block + bsize)
					abort();
				slot->tag = take(&s, 2);
			}
			break;
		case 4:
			pt_ring_submit(&r);
			break;
		case 5:
			if (pt_ring_peek(&r, &e) == 0) {
				if (r.side == PT_RING_HOST)
					pt_ring_check_completion(&r, &e);
				pt_ring_advance(&r, 1);
			}
			break;
		case 6:
			pt_ring_ready(&r);
			pt_ring_space_left(&r);
			break;
		case 7:
			/* timeout 0: one look, never a sleep */
			pt_ring_wait(&r, 0, 0);
			break;
		default:
			peer_step(&peer);
			break;
		}
		check_invariants(&r);
	}
	free(block);
	return 0;
}
