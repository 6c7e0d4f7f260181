/* SPDX-License-Identifier: MIT */
#include "host/domain/completion.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int refuse(struct pt_completion *out, char *why, size_t whylen,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int refuse(struct pt_completion *out, char *why, size_t whylen,
		  const char *fmt, ...)
{
	va_list ap;

	memset(out, 0, sizeof(*out));
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EPROTO;
}

int pt_completion_parse(const struct pt_ring_entry *e, unsigned n,
			const struct pt_completion_expect *want,
			struct pt_completion *out, char *why, size_t whylen)
{
	uint32_t w[PT_DOP_CPL_WORDS_MAX];
	unsigned nw = 0;

	memset(out, 0, sizeof(*out));
	if (n < 1 || want->nsrc > PT_MAX_PINS || want->nsnk > PT_MAX_PINS)
		return refuse(out, why, whylen, "malformed completion (%u entries)", n);
	if (e[0].opcode != PT_DOP_PROCESS || e[0].flags != n - 1 ||
	    e[0].tag != want->tag || e[0].instance != want->instance)
		return refuse(out, why, whylen,
			      "completion does not answer the request (opcode %u, %u more entries, instance %u)",
			      (unsigned)e[0].opcode, (unsigned)e[0].flags, e[0].instance);
	for (unsigned k = 0; k < n; k++) {
		if (k && (e[k].opcode != PT_DOP_CONT || e[k].tag != want->tag))
			return refuse(out, why, whylen, "continuation %u of the completion is not one",
				      k);
		if (e[k].len % 4 || e[k].len > PT_DOP_WORDS_PER_ENTRY * 4 ||
		    nw + e[k].len / 4 > PT_DOP_CPL_WORDS_MAX)
			return refuse(out, why, whylen, "completion entry %u carries %u bytes",
				      k, e[k].len);
		memcpy(w + nw, e[k].payload, e[k].len);
		nw += e[k].len / 4;
	}
	if (e[0].result < -4095 || e[0].result > 0)
		return refuse(out, why, whylen, "completion result %d out of range",
			      (int)e[0].result);
	out->result = e[0].result;
	/* A request the domain refused outright carries no words. */
	if (nw == 0 && out->result < 0)
		return 0;
	/* The module's latency may follow the counts. */
	if (nw == 6 + want->nsrc + want->nsnk) {
		if (w[nw - 1] > PT_DOP_LATENCY_MAX)
			return refuse(out, why, whylen, "completion claims a latency of %u frames",
				      w[nw - 1]);
		out->latency_frames = w[nw - 1];
		nw--;
	}
	if (nw != 5 + want->nsrc + want->nsnk || w[1] != want->nsrc ||
	    w[2] != want->nsnk)
		return refuse(out, why, whylen, "completion carries %u words for %u+%u pins",
			      nw, want->nsrc, want->nsnk);
	if (w[4] > want->periods || (w[4] == 0 && out->result != 0))
		return refuse(out, why, whylen, "completion ran %u periods of %u asked",
			      w[4], want->periods);
	for (unsigned i = 0; i < want->nsrc; i++) {
		uint32_t c = w[5 + i];

		if (c > want->avail[i] || (want->src_frame[i] && c % want->src_frame[i]))
			return refuse(out, why, whylen, "input %u: consumed %u of %u available",
				      i, c, want->avail[i]);
		out->consumed[i] = c;
	}
	for (unsigned i = 0; i < want->nsnk; i++) {
		uint32_t p = w[5 + want->nsrc + i];

		if (p > want->room[i] || (want->snk_frame[i] && p % want->snk_frame[i]))
			return refuse(out, why, whylen, "output %u: produced %u into %u free",
				      i, p, want->room[i]);
		out->produced[i] = p;
	}
	/* No period run (a module with its own readiness rule said no): then
	 * nothing was read or written. */
	if (w[4] == 0)
		for (unsigned i = 0; i < want->nsrc + want->nsnk; i++)
			if (w[5 + i])
				return refuse(out, why, whylen,
					      "completion ran no period but moved %u bytes on pin %u",
					      w[5 + i], i);
	out->result = e[0].result;
	out->heap_used = w[0];
	out->futex_calls = w[3];
	out->periods = w[4];
	return 0;
}
