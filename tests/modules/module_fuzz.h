/* SPDX-License-Identifier: MIT */
/*
 * tests/modules/module_fuzz.h - one fuzz step over the shipped modules:
 * the input picks a module and pin formats and carries an init blob and a
 * config blob ("INIT|CONFIG"); the module is initialised, prepared, run for
 * a few periods with the config applied in the middle, asked for its
 * config, reset and freed, all through lib/abi.
 *
 * Shared by the libFuzzer target tests/fuzz/fuzz_module_params.c and the
 * cmocka test test_modules_fuzz.c, which runs it over a fixed corpus so
 * `make test` exercises it with gcc too. It aborts on a broken ABI
 * contract (a module reporting more consumed or produced than it had).
 */
#ifndef PT_TESTS_MODULES_FUZZ_H
#define PT_TESTS_MODULES_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <partita/heap.h>

#include "lib/abi/abi.h"
#include "modules/builtin.h"

#define MODULE_FUZZ_PERIOD 48
#define MODULE_FUZZ_HEAP (1u << 20)
#define MODULE_FUZZ_RING (MODULE_FUZZ_PERIOD * 4)

static void module_fuzz_quiet(void *ctx, const char *instance, int level,
			      const char *line)
{
	(void)ctx;
	(void)instance;
	(void)level;
	(void)line;
}

/* What a step reached, for the corpus test to check coverage. */
#define MODULE_FUZZ_INIT 1
#define MODULE_FUZZ_PREPARED 2
#define MODULE_FUZZ_PROCESSED 4

/* Returns the MODULE_FUZZ_* stages the step reached. */
static inline int module_fuzz_one(const uint8_t *data, size_t size)
{
	static const uint32_t rates[] = { 8000, 16000, 44100, 48000 };
	static uint8_t heap[MODULE_FUZZ_HEAP] __attribute__((aligned(16)));
	static uint8_t in_ring[PT_MAX_PINS][MODULE_FUZZ_RING * 32];
	static uint8_t out_ring[MODULE_FUZZ_RING * 32 * 4];
	const struct pt_module_entry *e;
	const uint8_t *bar = NULL;
	struct pt_format fi, fo;
	struct pt_source src[PT_MAX_PINS], *srcp[PT_MAX_PINS];
	struct pt_sink sink, *sinkp = &sink;
	struct pt_module mod;
	size_t nmod = 0, init_len, cfg_len, out_frames;
	unsigned nin;
	char reply[512];
	int reached = 0;
	bool small_reply;

	if (size < 3)
		return 0;
	while (pt_builtin_at(nmod))
		nmod++;
	e = pt_builtin_at(data[0] % nmod);
	small_reply = data[0] & 0x80;
	fi = (struct pt_format){ rates[data[1] & 3], (uint16_t)(1 + ((data[1] >> 2) & 7)),
				 (uint16_t)(1 + ((data[1] >> 5) & 3)) };
	fo = fi;
	fo.sample = (uint16_t)(1 + (data[2] & 3));
	if (data[2] & 4)
		fo.rate = rates[(data[2] >> 3) & 3];
	nin = e->manifest->max_sources < 2 ? e->manifest->max_sources
					   : 1 + (data[2] >> 5) % e->manifest->max_sources;
	data += 3;
	size -= 3;
	bar = memchr(data, '|', size);
	init_len = bar ? (size_t)(bar - data) : size;
	cfg_len = bar ? size - init_len - 1 : 0;

	memset(&mod, 0, sizeof(mod));
	mod.log = module_fuzz_quiet;
	if (pt_module_init(&mod, e, "fuzz", MODULE_FUZZ_PERIOD, heap, sizeof(heap),
			   data, init_len)) {
		mod.log = module_fuzz_quiet;
		return 0;
	}
	reached |= MODULE_FUZZ_INIT;
	mod.log = module_fuzz_quiet;
	out_frames = MODULE_FUZZ_RING * 4;
	for (unsigned i = 0; i < nin; i++) {
		pt_source_view(&src[i], in_ring[i], MODULE_FUZZ_RING * pt_frame_bytes(&fi),
			       0, 0, &fi);
		srcp[i] = &src[i];
	}
	pt_sink_view(&sink, out_ring, out_frames * pt_frame_bytes(&fo), 0,
		     out_frames * pt_frame_bytes(&fo), &fo);
	if (!e->ops->prepare || !e->ops->prepare(&mod, srcp, nin, &sinkp, 1)) {
		size_t in_off = 0, out_off = 0;

		reached |= MODULE_FUZZ_PREPARED;
		for (int p = 0; p < 4; p++) {
			size_t fb = pt_frame_bytes(&fi), ob = pt_frame_bytes(&fo);
			size_t isize = MODULE_FUZZ_RING * fb;

			/* The input: the fuzz bytes again, one period a call,
			 * starting part way so the views wrap. */
			for (unsigned i = 0; i < nin; i++) {
				for (size_t b = 0; b < MODULE_FUZZ_PERIOD * fb; b++)
					in_ring[i][(in_off + b) % isize] =
						size ? data[(b + p) % size] : 0;
				pt_source_view(&src[i], in_ring[i], isize,
					       in_off,
					       MODULE_FUZZ_PERIOD * fb, &fi);
			}
			pt_sink_view(&sink, out_ring, out_frames * ob, out_off,
				     out_frames * ob, &fo);
			if (p == 2 && e->ops->set_config)
				e->ops->set_config(&mod, PT_PARAM_TEXT, bar ? bar + 1 : data,
						   bar ? cfg_len : 0);
			if (pt_module_is_ready(&mod, srcp, nin, &sinkp, 1) &&
			    e->ops->process(&mod, srcp, nin, &sinkp, 1) == 0) {
				for (unsigned i = 0; i < nin; i++)
					if (src[i].consumed > src[i].avail)
						abort();
				if (sink.produced > sink.free)
					abort();
				reached |= MODULE_FUZZ_PROCESSED;
			}
			in_off = (in_off + MODULE_FUZZ_PERIOD * fb + fb) % isize;
			out_off = (out_off + sink.produced + ob) % (out_frames * ob);
		}
	}
	if (e->ops->get_config) {
		size_t room = small_reply ? 8 : sizeof(reply);

		e->ops->get_config(&mod, PT_PARAM_TEXT, reply, &room);
		if (room > sizeof(reply))
			abort();
	}
	if (e->ops->reset)
		e->ops->reset(&mod);
	pt_module_free(&mod);
	return reached;
}

#endif
