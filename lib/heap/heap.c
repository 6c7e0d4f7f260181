/* SPDX-License-Identifier: MIT */
/*
 * pt_heap: a segregated-fit region allocator with boundary tags.
 *
 * Layout of a heap of B bytes at address base (base is 16-byte aligned):
 *
 *   [struct pt_heap, 104 bytes][chunk][chunk]...[chunk][up to 15 bytes unused]
 *
 * Memory is counted in 16-byte units; unit i starts at base + 16 * i. A
 * chunk is named by the unit its payload starts at, and its 8-byte header
 * sits just below the payload, so every payload is 16-byte aligned and a
 * chunk of n units gives 16 * n - 8 usable bytes. The header is two words:
 *
 *   word 0: size in units (24 bits) | used (1 bit) | check, high 7 bits
 *   word 1: size of the chunk to the left (24 bits) | check, low 8 bits
 *
 * The check is a hash of the chunk's index, both sizes, the used bit and a
 * per-heap key, so a header overwritten by a stray write, a header copied
 * from elsewhere, or a pointer into the middle of a chunk is caught with
 * probability 1 - 2^-15 before its fields are believed, and each neighbour
 * then cross-checks the sizes (left.size == prev, right.prev == size).
 *
 * A free chunk keeps two free-list links (unit indices, 0 = none) in its
 * first payload bytes. Free chunks are always coalesced, so no two are
 * adjacent. Every unit index fits in 24 bits, which is why the heap is
 * capped at PT_HEAP_MAX_SIZE and why list heads are stored in 3 bytes.
 *
 * Classes. Chunk sizes are sorted into PT_HEAP_CLASSES free lists: exact
 * classes for 1..3 units, two classes per octave up to 256 units, then one
 * per octave, and a last "large" class from 4096 units. For heaps of 2^16
 * units (1 MiB) and more, sizes are shifted right before classing so that
 * the large class always holds fewer than 16 chunks (they are disjoint and
 * each is at least 1/16 of the heap); it is searched for the best fit.
 *
 * Search, for a request of u units in class c:
 *   1. the first PROBES chunks of class c, the smallest that fits;
 *   2. the first PROBES chunks of the next non-empty larger class (each
 *      fits), the smallest; best fit when that is the large class;
 *   3. before failing, up to SCAN_LIMIT chunks of class c.
 * Every loop is bounded by a constant, never by the heap's contents.
 */
#include <partita/heap.h>

#include <assert.h>
#include <errno.h>
#include <string.h>

#define UNIT 16u
#define HDR 8u
#define CLASSES PT_HEAP_CLASSES
#define LARGE (CLASSES - 1)
#define PROBES 2
#define SCAN_LIMIT PT_HEAP_SCAN_LIMIT
#define SIZE_BITS 24
#define SIZE_MASK ((1u << SIZE_BITS) - 1)
#define USED_BIT (1u << SIZE_BITS)
#define MAX_UNITS (1u << SIZE_BITS)

struct pt_heap {
	uint64_t peak_request;
	uint64_t allocations;
	uint32_t end;        /* one past the last unit a chunk may use */
	uint32_t in_use;     /* units held by live allocations */
	uint32_t peak;       /* highest in_use */
	uint32_t nonempty;   /* bit c set iff free list c is not empty */
	uint32_t failures;   /* saturating */
	uint32_t bad_frees;  /* saturating */
	uint32_t damaged;    /* saturating */
	uint8_t head[CLASSES][3];
};

/* The first chunk's header ends the heap struct: 104 = 16 * 7 - 8. */
#define FIRST ((uint32_t)((sizeof(struct pt_heap) + HDR) / UNIT))

static_assert(sizeof(struct pt_heap) == 104, "heap struct is 104 bytes");
static_assert((sizeof(struct pt_heap) + HDR) % UNIT == 0,
	      "first payload is 16-byte aligned");
static_assert(PT_HEAP_MIN_SIZE == sizeof(struct pt_heap) + UNIT,
	      "minimum heap holds one one-unit chunk");
static_assert(PT_HEAP_OVERHEAD == HDR, "per-allocation overhead");
static_assert(PT_HEAP_FIXED_COST == sizeof(struct pt_heap) + HDR,
	      "fixed cost: struct plus the unusable tail");
static_assert(CLASSES <= 32, "nonempty is a 32-bit map");
static_assert(PT_HEAP_ALIGN == UNIT, "alignment is the unit");
static_assert((uint64_t)PT_HEAP_MAX_SIZE == (uint64_t)MAX_UNITS * UNIT,
	      "unit indices fit 24 bits");

/* ---- small pieces ---- */

static inline uint32_t bitlen(uint32_t x)
{
	return x ? 32u - (uint32_t)__builtin_clz(x) : 0;
}

static inline void sat_inc(uint32_t *counter)
{
	if (*counter != UINT32_MAX)
		(*counter)++;
}

static inline char *unit_addr(const struct pt_heap *h, uint32_t i)
{
	return (char *)h + (size_t)i * UNIT;
}

static inline uint32_t *header(const struct pt_heap *h, uint32_t i)
{
	return (uint32_t *)(unit_addr(h, i) - HDR);
}

/* A free chunk's links: [0] next, [1] previous in its class list. */
static inline uint32_t *links(const struct pt_heap *h, uint32_t i)
{
	return (uint32_t *)unit_addr(h, i);
}

/* Differs between heaps of different sizes; the check's mixing does the
 * rest. Derived, not stored, so a copied heap keeps working. */
static inline uint32_t heap_key(const struct pt_heap *h)
{
	return h->end * 0x9e3779b1u ^ 0x50744870u;
}

static inline uint32_t header_check(const struct pt_heap *h, uint32_t i,
				    uint32_t size_used, uint32_t left)
{
	/* Two multiplies: every input bit reaches the top 15 bits kept. */
	uint32_t x = (size_used ^ heap_key(h)) * 0x9e3779b1u ^
		     (left + i * 0x85ebca77u);

	return (x * 0xc2b2ae35u) >> 17;
}

static inline void set_header(struct pt_heap *h, uint32_t i, uint32_t size,
			      int used, uint32_t left)
{
	uint32_t su = size | (used ? USED_BIT : 0);
	uint32_t chk = header_check(h, i, su, left);
	uint32_t *w = header(h, i);

	w[0] = su | (chk >> 8) << 25;
	w[1] = left | (chk & 0xffu) << 24;
}

static inline uint32_t chunk_size(const struct pt_heap *h, uint32_t i)
{
	return header(h, i)[0] & SIZE_MASK;
}

static inline int chunk_used(const struct pt_heap *h, uint32_t i)
{
	return (header(h, i)[0] & USED_BIT) != 0;
}

static inline uint32_t left_size(const struct pt_heap *h, uint32_t i)
{
	return header(h, i)[1] & SIZE_MASK;
}

/* Whether chunk @i (FIRST <= i < end) has an intact header that fits. */
static inline int header_ok(const struct pt_heap *h, uint32_t i)
{
	const uint32_t *w = header(h, i);
	uint32_t su = w[0] & (SIZE_MASK | USED_BIT), left = w[1] & SIZE_MASK;
	uint32_t chk = (w[0] >> 25) << 8 | w[1] >> 24;
	uint32_t size = su & SIZE_MASK;

	return chk == header_check(h, i, su, left) && size &&
	       size <= h->end - i && left <= i - FIRST &&
	       (left != 0 || i == FIRST);
}

static inline void wipe_header(struct pt_heap *h, uint32_t i)
{
	uint32_t *w = header(h, i);

	w[0] = 0;
	w[1] = 0;
}

static inline uint32_t head_get(const struct pt_heap *h, unsigned c)
{
	return h->head[c][0] | (uint32_t)h->head[c][1] << 8 |
	       (uint32_t)h->head[c][2] << 16;
}

static inline void head_set(struct pt_heap *h, unsigned c, uint32_t i)
{
	h->head[c][0] = (uint8_t)i;
	h->head[c][1] = (uint8_t)(i >> 8);
	h->head[c][2] = (uint8_t)(i >> 16);
	if (i)
		h->nonempty |= 1u << c;
	else
		h->nonempty &= ~(1u << c);
}

/*
 * Classes come from a fine index with four steps per octave (sizes below 8
 * are their own index); CLASS_OF_FINE merges fine steps into the
 * PT_HEAP_CLASSES lists. Fine index f of v: f = v for v < 8, otherwise
 * 8 + 4 (b - 3) + the two bits below the leading one, b = floor(log2 v).
 */
#define FINE_STEPS 92

static inline uint32_t fine_index(uint32_t v)
{
	uint32_t b;

	if (v < 8)
		return v;
	b = bitlen(v) - 1;
	return 8 + 4 * (b - 3) + ((v >> (b - 2)) & 3);
}

/* Class lower bounds in units: 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64,
 * 96, 128, 192, 256, 512, 1024, 2048, and 4096 (64 KiB) for the large
 * class: exact classes where most small requests fall, two per octave to
 * 4 KiB, then one per octave. Measured (tests/heap, bench): finer maps
 * moved utilisation at first failure by under one percent. */
static const uint8_t CLASS_OF_FINE[FINE_STEPS] = {
	0, 0, 1, 2, 3, 3, 4, 4, 5, 5, 6, 6,
	7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
	13, 13, 14, 14, 15, 15, 15, 15, 16, 16, 16, 16,
	17, 17, 17, 17, 18, 18, 18, 18, 19, 19, 19, 19,
	19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19,
	19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19,
	19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19,
	19, 19, 19, 19, 19, 19, 19, 19,
};
#define LARGE_MIN 4096u
#define LARGE_CAP_LOG 16u

static_assert(sizeof(CLASS_OF_FINE) == FINE_STEPS, "class map size");
static_assert((1u << LARGE_CAP_LOG) <= 16 * LARGE_MIN,
	      "fewer than 16 large chunks fit in a heap");

/* Right shift applied to sizes before classing; keeps the large class
 * under 16 chunks: large chunks have at least LARGE_MIN << shift units
 * and the heap fewer than 2^LARGE_CAP_LOG << shift, with
 * 2^LARGE_CAP_LOG <= 16 * LARGE_MIN. */
static inline uint32_t class_shift(const struct pt_heap *h)
{
	uint32_t n = bitlen(h->end - FIRST);

	return n > LARGE_CAP_LOG ? n - LARGE_CAP_LOG : 0;
}

/* Class of a chunk of @u units: all chunks of class c + 1 and above are
 * larger than any chunk of class c. */
static inline unsigned size_class(uint32_t u, uint32_t shift)
{
	return CLASS_OF_FINE[fine_index(u >> shift)];
}

/* Units needed for a request of @size bytes (size must be checked first). */
static inline uint32_t units_for(size_t size)
{
	size_t u = (size + HDR + UNIT - 1) / UNIT;

	return u ? (uint32_t)u : 1;
}

/* The largest request any heap could satisfy. */
#define MAX_REQUEST ((size_t)(MAX_UNITS - 1) * UNIT - HDR)

/* ---- free lists ---- */

static inline int index_ok(const struct pt_heap *h, uint32_t i)
{
	return i >= FIRST && i < h->end;
}

/* Whether free chunk @i is what a free list may hold: intact header, free,
 * in class @c, and its links point inside the heap. */
static int free_chunk_ok(const struct pt_heap *h, uint32_t i, unsigned c,
			 uint32_t shift)
{
	const uint32_t *l;

	if (!index_ok(h, i) || !header_ok(h, i) || chunk_used(h, i) ||
	    size_class(chunk_size(h, i), shift) != c)
		return 0;
	l = links(h, i);
	return (l[0] == 0 || index_ok(h, l[0])) &&
	       (l[1] == 0 || index_ok(h, l[1]));
}

/* Whether free chunk @i can be unlinked safely: its neighbours in the
 * list point back at it. */
static int unlink_ok(const struct pt_heap *h, uint32_t i, unsigned c)
{
	const uint32_t *l = links(h, i);

	if ((l[0] && !index_ok(h, l[0])) || (l[1] && !index_ok(h, l[1])))
		return 0;
	if (l[1] ? links(h, l[1])[0] != i : head_get(h, c) != i)
		return 0;
	return l[0] == 0 || links(h, l[0])[1] == i;
}

static void unlink_chunk(struct pt_heap *h, uint32_t i, unsigned c)
{
	uint32_t *l = links(h, i);

	if (l[1])
		links(h, l[1])[0] = l[0];
	else
		head_set(h, c, l[0]);
	if (l[0])
		links(h, l[0])[1] = l[1];
}

/* Puts free chunk @i (header already written) on its class list. Only a
 * strictly larger chunk replaces the head; others go second, so the first
 * probes of a class see its larger chunks. Measured on the buffers
 * workload (1 MiB, 24 seeds), in use at first failure: 92.4 % against
 * 91.6 % with plain LIFO. */
static void insert_chunk(struct pt_heap *h, uint32_t i)
{
	uint32_t size = chunk_size(h, i);
	unsigned c = size_class(size, class_shift(h));
	uint32_t first = head_get(h, c), *l = links(h, i);

	if (first && free_chunk_ok(h, first, c, class_shift(h)) &&
	    chunk_size(h, first) >= size) {
		uint32_t *fl = links(h, first);

		l[0] = fl[0];
		l[1] = first;
		if (fl[0])
			links(h, fl[0])[1] = i;
		fl[0] = i;
		return;
	}
	l[0] = first;
	l[1] = 0;
	if (first && index_ok(h, first))
		links(h, first)[1] = i;
	head_set(h, c, i);
}

/* ---- search ---- */

enum { FOUND, NONE, DAMAGED };

/* Scans up to @limit chunks of class @c for the smallest that holds @u
 * units. */
static int best_in_class(const struct pt_heap *h, unsigned c, uint32_t u,
			 uint32_t shift, unsigned limit, uint32_t *out)
{
	uint32_t i = head_get(h, c), best = 0, best_size = 0;

	for (unsigned n = 0; i && n < limit; n++) {
		uint32_t size;

		if (!free_chunk_ok(h, i, c, shift))
			return DAMAGED;
		size = chunk_size(h, i);
		if (size >= u && (!best || size < best_size)) {
			best = i;
			best_size = size;
			if (size == u)
				break;
		}
		i = links(h, i)[0];
	}
	*out = best;
	return best ? FOUND : NONE;
}

static int find_fit(const struct pt_heap *h, uint32_t u, uint32_t *out)
{
	uint32_t shift = class_shift(h);
	unsigned c = size_class(u, shift);
	uint32_t larger;
	int r;

	if (c == LARGE)
		return best_in_class(h, LARGE, u, shift, SCAN_LIMIT, out);
	r = best_in_class(h, c, u, shift, PROBES, out);
	if (r != NONE)
		return r;
	larger = h->nonempty & ~((2u << c) - 1);
	if (larger) {
		unsigned c2 = (unsigned)__builtin_ctz(larger);

		if (c2 == LARGE)
			return best_in_class(h, LARGE, u, shift, SCAN_LIMIT, out);
		return best_in_class(h, c2, u, shift, PROBES, out);
	}
	return best_in_class(h, c, u, shift, SCAN_LIMIT, out);
}

/* ---- allocation ---- */

static void count_in_use(struct pt_heap *h, uint32_t units)
{
	h->in_use += units;
	if (h->in_use > h->peak)
		h->peak = h->in_use;
	h->allocations++;
}

/*
 * Turns free chunk @i into a used chunk of @u units starting @gap units into
 * it; what is left before and after becomes free chunks. Checks everything
 * it will touch before changing anything; returns 0 or -EFAULT.
 */
static int carve(struct pt_heap *h, uint32_t i, uint32_t gap, uint32_t u)
{
	uint32_t size = chunk_size(h, i), left = left_size(h, i);
	uint32_t right = i + size, j = i + gap, tail = size - gap - u;
	unsigned c = size_class(size, class_shift(h));

	if (!unlink_ok(h, i, c))
		return -EFAULT;
	if (right < h->end &&
	    (!header_ok(h, right) || left_size(h, right) != size))
		return -EFAULT;
	unlink_chunk(h, i, c);
	if (gap) {
		set_header(h, i, gap, 0, left);
		insert_chunk(h, i);
		left = gap;
	}
	set_header(h, j, u, 1, left);
	if (tail) {
		set_header(h, j + u, tail, 0, u);
		insert_chunk(h, j + u);
	}
	if (right < h->end)
		set_header(h, right, chunk_size(h, right),
			   chunk_used(h, right), tail ? tail : u);
	count_in_use(h, u);
	return 0;
}

static void *alloc_units(struct pt_heap *h, uint32_t u, size_t align)
{
	uint32_t i, gap = 0, need = u;

	if (align > UNIT)
		need += (uint32_t)(align / UNIT) - 1;
	switch (find_fit(h, need, &i)) {
	case FOUND:
		break;
	case DAMAGED:
		sat_inc(&h->damaged);
		/* fall through */
	default:
		sat_inc(&h->failures);
		return NULL;
	}
	if (align > UNIT) {
		uintptr_t p = (uintptr_t)unit_addr(h, i);

		gap = (uint32_t)(((align - (p & (align - 1))) & (align - 1)) /
				 UNIT);
	}
	if (carve(h, i, gap, u)) {
		sat_inc(&h->damaged);
		sat_inc(&h->failures);
		return NULL;
	}
	return unit_addr(h, i + gap);
}

static int request_ok(struct pt_heap *h, size_t size)
{
	if (size > h->peak_request)
		h->peak_request = size;
	if (size > MAX_REQUEST || units_for(size) > h->end - FIRST) {
		sat_inc(&h->failures);
		return 0;
	}
	return 1;
}

void *pt_heap_alloc(struct pt_heap *h, size_t size)
{
	if (!h || !request_ok(h, size))
		return NULL;
	return alloc_units(h, units_for(size), UNIT);
}

void *pt_heap_aligned_alloc(struct pt_heap *h, size_t align, size_t size)
{
	if (!h)
		return NULL;
	if (!request_ok(h, size))
		return NULL;
	if (!align || (align & (align - 1)) ||
	    (align > UNIT && (align / UNIT > h->end - FIRST ||
			      units_for(size) + align / UNIT - 1 >
				      h->end - FIRST))) {
		sat_inc(&h->failures);
		return NULL;
	}
	return alloc_units(h, units_for(size), align);
}

void *pt_heap_calloc(struct pt_heap *h, size_t n, size_t size)
{
	void *p;

	if (!h)
		return NULL;
	if (size && n > SIZE_MAX / size) {
		h->peak_request = SIZE_MAX;
		sat_inc(&h->failures);
		return NULL;
	}
	p = pt_heap_alloc(h, n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

/* ---- release ---- */

/* Finds the chunk of live allocation @ptr and checks it and its neighbours'
 * headers agree. Returns its index, or 0. */
static uint32_t live_chunk(const struct pt_heap *h, const void *ptr)
{
	uintptr_t off = (uintptr_t)ptr - (uintptr_t)h;
	uint32_t i, size, right, left;

	if ((uintptr_t)ptr < (uintptr_t)h || off % UNIT ||
	    off / UNIT < FIRST || off / UNIT >= h->end)
		return 0;
	i = (uint32_t)(off / UNIT);
	if (!header_ok(h, i) || !chunk_used(h, i))
		return 0;
	size = chunk_size(h, i);
	right = i + size;
	if (right < h->end &&
	    (!header_ok(h, right) || left_size(h, right) != size))
		return 0;
	left = left_size(h, i);
	if (left && (!header_ok(h, i - left) || chunk_size(h, i - left) != left))
		return 0;
	return i;
}

/*
 * Makes [i, i + size) a free chunk, merging it with a free chunk on either
 * side. @left is the size of the chunk to its left (0 at FIRST). The chunk
 * to the right, if any, has an intact header (caller checked). Checks the
 * free neighbours' links before changing anything; returns 0 or -EFAULT.
 */
static int release(struct pt_heap *h, uint32_t i, uint32_t size, uint32_t left)
{
	uint32_t shift = class_shift(h);
	uint32_t start = i, total = size, right = i + size, after, after_left;
	int merge_left = 0, merge_right = 0;

	if (left && !chunk_used(h, i - left)) {
		if (!unlink_ok(h, i - left, size_class(left, shift)))
			return -EFAULT;
		merge_left = 1;
	}
	if (right < h->end && !chunk_used(h, right)) {
		uint32_t rs = chunk_size(h, right);

		if (!unlink_ok(h, right, size_class(rs, shift)))
			return -EFAULT;
		after = right + rs;
		if (after < h->end &&
		    (!header_ok(h, after) || left_size(h, after) != rs))
			return -EFAULT;
		merge_right = 1;
	}
	if (merge_left) {
		start = i - left;
		total += left;
		left = left_size(h, start);
		unlink_chunk(h, start, size_class(chunk_size(h, start), shift));
		wipe_header(h, i);
	}
	if (merge_right) {
		uint32_t rs = chunk_size(h, right);

		unlink_chunk(h, right, size_class(rs, shift));
		wipe_header(h, right);
		total += rs;
	}
	set_header(h, start, total, 0, left);
	insert_chunk(h, start);
	after = start + total;
	if (after < h->end) {
		after_left = total;
		set_header(h, after, chunk_size(h, after), chunk_used(h, after),
			   after_left);
	}
	return 0;
}

static int refuse(struct pt_heap *h)
{
	sat_inc(&h->bad_frees);
	return -EINVAL;
}

int pt_heap_free(struct pt_heap *h, void *ptr)
{
	uint32_t i, size;

	if (!ptr)
		return 0;
	if (!h)
		return -EINVAL;
	i = live_chunk(h, ptr);
	if (!i)
		return refuse(h);
	size = chunk_size(h, i);
	if (release(h, i, size, left_size(h, i))) {
		sat_inc(&h->damaged);
		return refuse(h);
	}
	h->in_use -= size;
	return 0;
}

size_t pt_heap_usable_size(struct pt_heap *h, const void *ptr)
{
	uint32_t i;

	if (!h || !ptr)
		return 0;
	i = live_chunk(h, ptr);
	return i ? (size_t)chunk_size(h, i) * UNIT - HDR : 0;
}

void *pt_heap_realloc(struct pt_heap *h, void *ptr, size_t size)
{
	uint32_t i, have, u, right;
	void *p;

	if (!h)
		return NULL;
	if (!ptr)
		return pt_heap_alloc(h, size);
	if (!size) {
		pt_heap_free(h, ptr);
		return NULL;
	}
	i = live_chunk(h, ptr);
	if (!i) {
		refuse(h);
		return NULL;
	}
	if (!request_ok(h, size))
		return NULL;
	have = chunk_size(h, i);
	u = units_for(size);
	right = i + have;
	if (u < have) {
		/* Shrink in place: the tail becomes free (merging right). */
		set_header(h, i, u, 1, left_size(h, i));
		if (right < h->end)
			set_header(h, right, chunk_size(h, right),
				   chunk_used(h, right), have - u);
		if (release(h, i + u, have - u, u)) {
			/* Undo: the tail's neighbour links were damaged. */
			set_header(h, i, have, 1, left_size(h, i));
			if (right < h->end)
				set_header(h, right, chunk_size(h, right),
					   chunk_used(h, right), have);
			sat_inc(&h->damaged);
			sat_inc(&h->failures);
			return NULL;
		}
		h->in_use -= have - u;
		return ptr;
	}
	if (u == have)
		return ptr;
	if (right < h->end && !chunk_used(h, right) &&
	    have + chunk_size(h, right) >= u) {
		/* Grow in place into the free chunk on the right. */
		if (carve(h, right, 0, u - have)) {
			sat_inc(&h->damaged);
			sat_inc(&h->failures);
			return NULL;
		}
		h->allocations--;
		wipe_header(h, right);
		set_header(h, i, u, 1, left_size(h, i));
		if (i + u < h->end)
			set_header(h, i + u, chunk_size(h, i + u),
				   chunk_used(h, i + u), u);
		return ptr;
	}
	p = alloc_units(h, u, UNIT);
	if (!p)
		return NULL;
	memcpy(p, ptr, (size_t)have * UNIT - HDR);
	pt_heap_free(h, ptr);
	h->allocations--;
	return p;
}

/* ---- set-up and inspection ---- */

struct pt_heap *pt_heap_init(void *block, size_t size)
{
	struct pt_heap *h = block;
	uint32_t end;

	if (!block || (uintptr_t)block % PT_HEAP_ALIGN || size < PT_HEAP_MIN_SIZE)
		return NULL;
	if (size > PT_HEAP_MAX_SIZE)
		size = PT_HEAP_MAX_SIZE;
	/* The last chunk ends HDR bytes before its end unit's start. */
	end = (uint32_t)((size + HDR) / UNIT);
	if (end > MAX_UNITS)
		end = MAX_UNITS;
	memset(h, 0, sizeof(*h));
	h->end = end;
	set_header(h, FIRST, end - FIRST, 0, 0);
	insert_chunk(h, FIRST);
	return h;
}

void pt_heap_stats(const struct pt_heap *h, struct pt_heap_stats *s)
{
	memset(s, 0, sizeof(*s));
	if (!h)
		return;
	s->capacity = (size_t)(h->end - FIRST) * UNIT;
	s->allocated = (size_t)h->in_use * UNIT;
	s->peak_allocated = (size_t)h->peak * UNIT;
	s->peak_request = h->peak_request;
	s->allocations = h->allocations;
	s->failures = h->failures;
	s->bad_frees = h->bad_frees;
	s->damaged = h->damaged;
}

const char *pt_heap_validate(const struct pt_heap *h)
{
	uint32_t shift, i, prev = 0, nfree = 0, listed = 0, used = 0;
	int prev_free = 0;

	if (!h)
		return "heap is NULL";
	if (h->end <= FIRST || h->end > MAX_UNITS)
		return "heap end is out of range";
	shift = class_shift(h);
	for (i = FIRST; i < h->end; i += chunk_size(h, i)) {
		if (!header_ok(h, i))
			return "chunk header is damaged";
		if (left_size(h, i) != prev)
			return "chunk's left size disagrees with its neighbour";
		if (chunk_used(h, i)) {
			used += chunk_size(h, i);
			prev_free = 0;
		} else {
			if (prev_free)
				return "two free chunks are adjacent";
			prev_free = 1;
			nfree++;
		}
		prev = chunk_size(h, i);
	}
	if (i != h->end)
		return "chunks do not end at the heap end";
	if (used != h->in_use)
		return "units in use disagree with the chunks";
	if (h->peak < h->in_use)
		return "peak is below units in use";
	for (unsigned c = 0; c < CLASSES; c++) {
		uint32_t back = 0, n = 0;

		i = head_get(h, c);
		if (!i != !(h->nonempty & (1u << c)))
			return "class bitmap disagrees with its list";
		for (; i; i = links(h, i)[0]) {
			if (++listed > nfree)
				return "free lists hold more chunks than the heap";
			/* The large class's full scan is what keeps alloc O(1). */
			if (c == LARGE && ++n >= SCAN_LIMIT)
				return "large class holds 16 chunks or more";
			if (!free_chunk_ok(h, i, c, shift))
				return "free list holds a bad chunk";
			if (links(h, i)[1] != back)
				return "free list back link is wrong";
			back = i;
		}
	}
	if (h->nonempty >> CLASSES)
		return "class bitmap has bits past the last class";
	if (listed != nfree)
		return "a free chunk is on no list";
	return NULL;
}
