/* SPDX-License-Identifier: MIT */
/*
 * fuzz_completion: what a hostile domain can put in the completion ring,
 * against the host's check of it (host/domain/completion.c). The input:
 *   byte 0: sources (% 9), byte 1: sinks (% 9), byte 2: periods asked
 *   (1 + % 64), byte 3: entries (1 + % 8), byte 4: bit 0 set = the
 *   request's tag and instance are those of the first entry;
 *   then per pin 4 bytes available/free (little-endian) and 1 byte of
 *   frame size (% 16, 0 = unchecked); then the entries, 64 bytes each
 *   (missing bytes are zero).
 * Whatever it is given, an accepted completion must never claim more than
 * was offered, part frames, more periods than asked, bytes moved in no
 * period, or an out-of-range result; a refused one must leave nothing
 * behind.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/domain/completion.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p, *end;
};

static uint32_t take(struct input *in, unsigned bytes)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint32_t)(in->p < in->end ? *in->p++ : 0) << (8 * i);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, data + size };
	struct pt_completion_expect want = { 0 };
	struct pt_ring_entry e[8];
	struct pt_completion got;
	char why[128];
	unsigned n, same;
	int ret;

	want.nsrc = take(&in, 1) % 9;
	want.nsnk = take(&in, 1) % 9;
	want.periods = 1 + take(&in, 1) % PT_DOP_MAX_BATCH;
	n = 1 + take(&in, 1) % 8;
	same = take(&in, 1) & 1;
	for (unsigned i = 0; i < want.nsrc; i++) {
		want.avail[i] = take(&in, 4);
		want.src_frame[i] = take(&in, 1) % 16;
	}
	for (unsigned i = 0; i < want.nsnk; i++) {
		want.room[i] = take(&in, 4);
		want.snk_frame[i] = take(&in, 1) % 16;
	}
	memset(e, 0, sizeof(e));
	for (unsigned k = 0; k < n; k++) {
		size_t left = (size_t)(in.end - in.p);
		size_t c = left < sizeof(e[k]) ? left : sizeof(e[k]);

		memcpy(&e[k], in.p, c);
		in.p += c;
	}
	if (same) {
		want.tag = e[0].tag;
		want.instance = e[0].instance;
	} else {
		want.tag = 0x1234;
		want.instance = 7;
	}

	ret = pt_completion_parse(e, n, &want, &got, why, sizeof(why));
	if (ret != 0 && ret != -EPROTO)
		abort();
	if (ret) {
		static const struct pt_completion zero;

		if (memcmp(&got, &zero, sizeof(got)) || !why[0])
			abort();
		return 0;
	}
	if (got.result > 0 || got.result < -4095 || got.periods > want.periods)
		abort();
	if (got.periods == 0)
		for (unsigned i = 0; i < PT_MAX_PINS; i++)
			if (got.consumed[i] || got.produced[i])
				abort();
	for (unsigned i = 0; i < want.nsrc; i++)
		if (got.consumed[i] > want.avail[i] ||
		    (want.src_frame[i] && got.consumed[i] % want.src_frame[i]))
			abort();
	for (unsigned i = 0; i < want.nsnk; i++)
		if (got.produced[i] > want.room[i] ||
		    (want.snk_frame[i] && got.produced[i] % want.snk_frame[i]))
			abort();
	for (unsigned i = want.nsrc; i < PT_MAX_PINS; i++)
		if (got.consumed[i])
			abort();
	for (unsigned i = want.nsnk; i < PT_MAX_PINS; i++)
		if (got.produced[i])
			abort();
	return 0;
}
