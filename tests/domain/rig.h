/* SPDX-License-Identifier: MIT */
/*
 * tests/domain/rig.h - drives host/domain directly: buffers the test owns,
 * instances it fills in by hand, one period at a time. The same views the
 * scheduler would take, so what passes here is what the scheduler sees.
 */
#ifndef PT_TESTS_DOMAIN_RIG_H
#define PT_TESTS_DOMAIN_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/domain/exec.h"
#include "host/graph/graph.h"

#define RIG_RATE 48000
#define RIG_CHANNELS 2
#define RIG_PERIOD 48  /* 1 ms at 48 kHz */
#define RIG_DEPTH 4    /* periods a buffer holds */

extern const struct pt_format rig_fmt;

/* Path of a built artefact: $PARTITA_BUILD/@rel (static buffer). */
const char *rig_built(const char *rel);

/* A buffer of RIG_DEPTH periods in its own partition. */
void rig_buffer(struct pt_budget *b, struct pt_buffer *buf, uint32_t id);
void rig_buffer_free(struct pt_buffer *buf);
/* The same, @periods periods deep. */
void rig_buffer_deep(struct pt_budget *b, struct pt_buffer *buf, uint32_t id,
		     unsigned periods);

/* Fills @inst for an isolated instance of @library; buffers bound after. */
void rig_instance(struct pt_instance *inst, uint32_t id, const char *name,
		  const char *library, const char *init, const char *domain);

/* Binds @buf as @inst's input 0 or output 0. */
void rig_bind_in(struct pt_instance *inst, struct pt_buffer *buf);
void rig_bind_out(struct pt_instance *inst, struct pt_buffer *buf);

/* Writes @frames frames of @pcm into @buf (the host as writer). */
void rig_feed(struct pt_buffer *buf, const float *pcm, size_t frames);
/* Reads @frames frames out of @buf (the host as reader); returns frames read. */
size_t rig_take(struct pt_buffer *buf, float *pcm, size_t frames);

/* One PROCESS round trip for @inst over its pin 0 buffers, applying what it
 * consumed and produced. Returns pt_exec_reap's result. */
int rig_step(struct pt_instance *inst, uint64_t tag, uint64_t timeout_ns,
	     int *signal, char *why, size_t whylen);

/* The same with @periods periods in one request (offline batching). */
int rig_step_batch(struct pt_instance *inst, uint64_t tag, unsigned periods,
		   uint64_t timeout_ns, int *signal, char *why, size_t whylen);

/* Deterministic test signal: period @k, @frames frames. */
void rig_signal(float *pcm, size_t frames, uint64_t k);

/* Runs @library in-process through lib/abi (the trusted path) over the same
 * input; fills @out with @periods periods. Returns 0 or -errno. */
int rig_trusted(const char *library, const char *init, unsigned periods,
		const char *config_at_half, float *out);

#endif
