/* SPDX-License-Identifier: MIT */
/*
 * host/domain/completion - reading a PROCESS completion a domain wrote.
 *
 * Pure: entries already copied out of the ring go in, checked counts come
 * out. Everything a domain says is checked against what the host asked
 * before the scheduler may use it. (Internal to host/domain; a fuzz target
 * drives it directly.)
 */
#ifndef PT_HOST_DOMAIN_COMPLETION_H
#define PT_HOST_DOMAIN_COMPLETION_H

#include <stddef.h>
#include <stdint.h>

#include <partita/module.h>

#include "lib/domain/protocol.h"
#include "lib/ring/ring.h"

/* What the request asked, to check the answer against. */
struct pt_completion_expect {
	uint64_t tag;
	uint32_t instance;
	unsigned nsrc, nsnk;
	unsigned periods;                 /* periods asked, 1..PT_DOP_MAX_BATCH */
	uint32_t avail[PT_MAX_PINS];      /* readable bytes per source */
	uint32_t room[PT_MAX_PINS];       /* writable bytes per sink */
	uint32_t src_frame[PT_MAX_PINS];  /* bytes per frame, 0 = unchecked */
	uint32_t snk_frame[PT_MAX_PINS];
};

struct pt_completion {
	int32_t result;        /* process's return value, 0 or -errno */
	uint32_t heap_used;    /* as the domain says (bound it before use) */
	uint32_t futex_calls;  /* the domain's futex syscalls so far */
	uint32_t periods;      /* periods run */
	uint32_t latency_frames; /* the module's, 0..PT_DOP_LATENCY_MAX */
	uint32_t consumed[PT_MAX_PINS];
	uint32_t produced[PT_MAX_PINS];
};

/*
 * Parses the completion @e[0] with its continuation entries @e[1..@n-1].
 * Returns 0 with @out filled: counts within what was available and free,
 * whole frames, periods within the batch (none when a module with its own
 * readiness rule was not ready: then no counts; a refusal - result < 0 and
 * no words - gives zero counts too). Returns -EPROTO with @why saying what was
 * wrong otherwise; @out is then zeroed.
 */
int pt_completion_parse(const struct pt_ring_entry *e, unsigned n,
			const struct pt_completion_expect *want,
			struct pt_completion *out, char *why, size_t whylen);

#endif
