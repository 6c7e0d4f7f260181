/* SPDX-License-Identifier: MIT */
/*
 * tests/modules/rig.h - drives one module instance through lib/abi the way
 * a host does: a private heap from aligned_alloc, circular buffers over
 * plain arrays (starting anywhere, so every run crosses the wrap), views
 * made fresh for each call, positions moved only from what the module
 * released and committed.
 */
#ifndef PT_TESTS_MODULES_RIG_H
#define PT_TESTS_MODULES_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <partita/module.h>

#include "lib/abi/abi.h"

struct rig_ring {
	uint8_t *data;
	size_t size;       /* bytes, whole frames */
	uint64_t rd, wr;   /* free-running byte positions */
	struct pt_format fmt;
	uint32_t frame;
};

struct rig {
	struct pt_module mod;
	const struct pt_module_entry *entry;
	void *heap;
	size_t heap_size;
	bool live;         /* init succeeded, free not yet called */
	struct rig_ring in[PT_MAX_PINS], out[PT_MAX_PINS];
	unsigned nin, nout;
	size_t last_consumed[PT_MAX_PINS], last_produced[PT_MAX_PINS];
	char log[512];     /* last line the module logged */
};

/* Creates @name (a built-in) with @period frames and the text @init (NULL:
 * none) in a heap of @heap_size (0: the manifest's). Returns init's
 * result; the rig needs rig_free() either way. */
int rig_init(struct rig *r, const char *name, uint32_t period,
	     const char *init, size_t heap_size);

/* The same for any module entry (a library's, say). */
int rig_init_entry(struct rig *r, const struct pt_module_entry *entry,
		   const char *name, uint32_t period, const char *init,
		   size_t heap_size);

/* Adds input pin / output pin with room for @frames frames of @fmt; the
 * positions start @offset frames into the buffer. */
void rig_add_in(struct rig *r, const struct pt_format *fmt, size_t frames,
		size_t offset);
void rig_add_out(struct rig *r, const struct pt_format *fmt, size_t frames,
		 size_t offset);

/* Calls prepare with the pins added so far. */
int rig_prepare(struct rig *r);

/* Writes @frames frames of raw samples into input @pin (must fit). */
void rig_push(struct rig *r, unsigned pin, const void *samples, size_t frames);

/* Reads up to @frames frames from output @pin; returns the frames read. */
size_t rig_pull(struct rig *r, unsigned pin, void *samples, size_t frames);

/* Returns whether the module is ready now (its is_ready or the default). */
bool rig_ready(struct rig *r);

/* Calls process once with fresh views, then moves the positions by what
 * the module released/committed. Returns process's result. */
int rig_process(struct rig *r);

/* Set/get text config. get writes a NUL-terminated string. */
int rig_set(struct rig *r, const char *text);
int rig_get(struct rig *r, char *text, size_t room);

void rig_free(struct rig *r);

/* Heap statistics of the instance's private heap. */
void rig_heap_stats(struct rig *r, size_t *peak, size_t *now);

/* Convenience: float stream helpers for FLOAT_LE pins. Push/pull @frames
 * frames of interleaved float. */
void rig_push_f(struct rig *r, unsigned pin, const float *x, size_t frames);
size_t rig_pull_f(struct rig *r, unsigned pin, float *x, size_t frames);

/* Runs a mono/multichannel FLOAT_LE stream through a 1-in/1-out module:
 * pushes @frames frames of @x period by period, pulls everything into @y.
 * @frames must be a multiple of the period. Returns frames written. */
size_t rig_run_f(struct rig *r, const float *x, float *y, size_t frames);

#endif
