/* SPDX-License-Identifier: MIT */
/*
 * fuzz_heap: random alloc/aligned_alloc/calloc/realloc/free sequences, plus
 * hostile frees (stale, interior and foreign pointers), against one heap,
 * with pt_heap_validate after every operation and every block's bytes
 * checked. Any disagreement aborts.
 *
 * Input: two bytes choose the heap size (PT_HEAP_MIN_SIZE .. 64 KiB + that),
 * then 4-byte operations: [op, slot, size lo, size hi].
 *
 * Blocks are filled with a constant non-zero byte each, so a header-sized
 * window inside a payload never reads as a valid header (its size field
 * would exceed any heap this small): a refused hostile free is then certain,
 * not merely likely.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <partita/heap.h>

#define SLOTS 64
#define MAX_HEAP (PT_HEAP_MIN_SIZE + 65535)

struct slot {
	unsigned char *ptr;
	size_t len;
	unsigned char fill;
	unsigned char *stale; /* a pointer this slot freed earlier */
};

static _Alignas(64) unsigned char arena[MAX_HEAP + 64];

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_heap: %s%s%s\n", what, detail ? ": " : "",
		detail ? detail : "");
	abort();
}

static void check_heap(const struct pt_heap *h)
{
	const char *why = pt_heap_validate(h);

	if (why)
		die("heap invalid", why);
}

static void check_slot(const struct slot *s)
{
	for (size_t i = 0; i < s->len; i++)
		if (s->ptr[i] != s->fill)
			die("block bytes changed", NULL);
}

static int is_live(const struct slot *slots, const void *p)
{
	for (int i = 0; i < SLOTS; i++)
		if (slots[i].ptr == p)
			return 1;
	return 0;
}

static void fill(struct slot *s, unsigned char *p, size_t len, unsigned char f,
		 struct pt_heap *h)
{
	if (!p)
		return;
	if ((uintptr_t)p % PT_HEAP_ALIGN)
		die("misaligned block", NULL);
	if (pt_heap_usable_size(h, p) < len)
		die("usable size below request", NULL);
	s->ptr = p;
	s->len = len;
	s->fill = f;
	memset(p, f, len);
}

/* A free the heap must refuse, leaving it valid and unchanged. */
static void hostile_free(struct pt_heap *h, struct slot *slots, struct slot *s,
			 unsigned arg)
{
	struct pt_heap_stats before, after;
	unsigned char *p;
	static _Alignas(16) unsigned char outside[32];

	switch (arg % 4) {
	case 0:
		p = s->stale;
		break;
	case 1:
		p = s->ptr ? s->ptr + 16 * (1 + arg / 4 % 8) : NULL;
		break;
	case 2:
		p = s->ptr ? s->ptr + 1 + arg / 4 % 15 : NULL;
		break;
	default:
		p = outside;
		break;
	}
	if (!p || is_live(slots, p))
		return;
	pt_heap_stats(h, &before);
	if (pt_heap_free(h, p) == 0)
		die("hostile free accepted", NULL);
	pt_heap_stats(h, &after);
	if (after.bad_frees != before.bad_frees + 1 ||
	    after.allocated != before.allocated)
		die("refused free changed the heap", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slot slots[SLOTS];
	struct pt_heap_stats st;
	struct pt_heap *h;
	size_t heap_size;

	if (size < 2)
		return 0;
	heap_size = PT_HEAP_MIN_SIZE + (data[0] | (size_t)data[1] << 8);
	memset(arena, 0, heap_size);
	h = pt_heap_init(arena, heap_size);
	if (!h)
		die("init refused a valid block", NULL);
	memset(slots, 0, sizeof(slots));
	check_heap(h);
	for (size_t at = 2; at + 4 <= size; at += 4) {
		unsigned op = data[at] % 8, arg = data[at] / 8;
		struct slot *s = &slots[data[at + 1] % SLOTS];
		size_t n = data[at + 2] | (size_t)data[at + 3] << 8;
		unsigned char f = (unsigned char)(1 + (at / 4) % 255);
		unsigned char *p;

		/* Mostly small requests, sometimes up to 64 KiB. */
		if (!(data[at + 1] & 0xc0))
			n %= 512;
		if (s->ptr)
			check_slot(s);
		switch (op) {
		case 0:
		case 1:
			if (!s->ptr)
				fill(s, pt_heap_alloc(h, n), n, f, h);
			break;
		case 2:
			if (!s->ptr) {
				size_t align = (size_t)16 << (arg % 8);

				p = pt_heap_aligned_alloc(h, align, n);
				if (p && (uintptr_t)p % align)
					die("aligned_alloc misaligned", NULL);
				fill(s, p, n, f, h);
			}
			break;
		case 3:
			if (!s->ptr) {
				size_t count = 1 + arg % 16, each = n / 16;

				p = pt_heap_calloc(h, count, each);
				for (size_t i = 0; p && i < count * each; i++)
					if (p[i])
						die("calloc not zeroed", NULL);
				fill(s, p, count * each, f, h);
			}
			break;
		case 4:
			p = pt_heap_realloc(h, s->ptr, n);
			if (!p && n && s->ptr) {
				check_slot(s); /* failed: the old block stands */
			} else if (p) {
				size_t keep = s->len < n ? s->len : n;

				for (size_t i = 0; s->ptr && i < keep; i++)
					if (p[i] != s->fill)
						die("realloc lost bytes", NULL);
				if (s->ptr && p != s->ptr)
					s->stale = s->ptr;
				s->ptr = NULL;
				fill(s, p, n, f, h);
			} else if (s->ptr) {
				s->stale = s->ptr; /* realloc to 0 freed it */
				s->ptr = NULL;
				s->len = 0;
			}
			break;
		case 5:
		case 6:
			if (pt_heap_free(h, s->ptr))
				die("free of a live block refused", NULL);
			if (s->ptr)
				s->stale = s->ptr;
			s->ptr = NULL;
			s->len = 0;
			break;
		default:
			hostile_free(h, slots, s, arg);
			break;
		}
		check_heap(h);
	}
	for (int i = 0; i < SLOTS; i++) {
		if (slots[i].ptr)
			check_slot(&slots[i]);
		if (pt_heap_free(h, slots[i].ptr))
			die("final free refused", NULL);
	}
	check_heap(h);
	pt_heap_stats(h, &st);
	if (st.allocated != 0 || st.damaged != 0)
		die("heap not empty after freeing everything", NULL);
	if (!pt_heap_alloc(h, st.capacity - PT_HEAP_OVERHEAD))
		die("free space did not merge back into one chunk", NULL);
	return 0;
}
