/* SPDX-License-Identifier: MIT */
/*
 * host/graph/history.h - the configuration an instance was given, kept in
 * host memory so that a restart gives the module the same state back.
 * Internal to host/graph.
 *
 * The history is a sequence of records [u32 param][u32 length][bytes] in
 * inst->config. Every PT_PARAM_TEXT blob is kept, in order; a binary
 * parameter keeps only its last blob (the module's own blob for that id is
 * taken as the whole of that parameter). Replayed in order, it gives the
 * module the calls it had, minus binary blobs a later one replaced.
 *
 * Bound: a restart replays the history one control round trip per record,
 * on the scheduler's thread, so the history is kept short: when it passes
 * PT_CONFIG_HISTORY_RECORDS records or PT_CONFIG_HISTORY_MAX bytes, its
 * text blobs are folded into as few blobs as fit PT_CONFIG_MAX: one "key=value"
 * item per key, the value in force (the first item of a key inside one
 * blob, as pt_param_* read it; the last blob that named the key), keys in
 * the order they first came. That is the same state for a module whose
 * text keys are independent settings, which is what the ABI's key=value
 * parameters are; items without '=' are dropped by the fold.
 */
#ifndef PT_HOST_GRAPH_HISTORY_H
#define PT_HOST_GRAPH_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "host/graph/graph.h"

/* Bytes and records of history kept before the text blobs are folded. */
#define PT_CONFIG_HISTORY_MAX (4u * PT_CONFIG_MAX)
#define PT_CONFIG_HISTORY_RECORDS 1024u

/* Records a blob the module accepted. Returns 0 or -ENOMEM (then the
 * history is as it was). */
int pt_config_history_add(struct pt_instance *inst, uint32_t param,
			  const void *data, size_t size);

/* Walks the history: starting with *@at = 0, each call gives the next
 * record and returns 1, or 0 past the last. */
int pt_config_history_next(const struct pt_instance *inst, size_t *at,
			   uint32_t *param, const void **data, size_t *size);

/* Folds the text blobs now (pt_config_history_add does it at the bound).
 * Returns 0 or -ENOMEM (then the history is as it was). */
int pt_config_history_fold(struct pt_instance *inst);

#endif /* PT_HOST_GRAPH_HISTORY_H */
