/* SPDX-License-Identifier: MIT */
/*
 * host/graph/progress.h - an instance that makes no progress does not hold
 * back the instances that do not depend on it.
 *
 * A module can keep every rule the host checks (its counts are true) and
 * still stall the graph: it never consumes, never produces, produces less
 * than it consumes, or floods its output and takes nothing. The host keeps,
 * per pin of every instance, a lag: what the instance would have moved had
 * it processed every period it was offered (the default readiness rule held
 * on its views: a period of data on every input, a period of room on every
 * output), less what it moved. A period at each pin's own rate, so a rate
 * converter keeps a lag near zero; moving more than offered (a flood, an
 * output endpoint taking all it has) brings a lag down to no less than one
 * buffer. Then:
 *  - a lag of progress_periods periods on any pin (default
 *    PT_PROGRESS_PERIODS_DEFAULT) fails the instance, "no progress for K
 *    periods": its outputs carry silence (or bypass) and its inputs are
 *    drained, a period per period, like any failed instance;
 *  - a writer is never held back by a reader that lags on that input (it
 *    was offered a whole buffer of periods and left them), has failed, or
 *    is starved by a lagging writer further up (a mixer leg): at the start
 *    of a step, what the writer needs room for and the buffer cannot take
 *    is dropped from the reader's side, oldest first, and counted in the
 *    reader's dropped_frames, like an xrun. An honest reader never lags,
 *    so nothing of its stream is ever dropped;
 *  - an instance that produces more than a period is throttled by its
 *    output buffer: it is offered again only when its reader made room.
 * Endpoints (files, devices) are paced by their files and devices and are
 * not judged.
 */
#ifndef PT_HOST_GRAPH_PROGRESS_H
#define PT_HOST_GRAPH_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "host/graph/graph.h"

/* Periods of lag that fail an instance when the topology does not say. */
#define PT_PROGRESS_PERIODS_DEFAULT 500u

/* Accounts one request of @inst on its views (packed in pin order, as the
 * scheduler builds them, with what was released and committed), which
 * could carry up to @max periods. When a lag reaches the limit, marks the
 * instance for pt_progress_stalled. Call it for every request the instance
 * was given, including those its own readiness refused. */
void pt_progress_account(struct pt_instance *inst, const struct pt_source *src,
			 unsigned nsrc, const struct pt_sink *snk, unsigned nsnk,
			 unsigned max);

/* Returns true once for an instance the last accounting found stalled,
 * with the reason in @why. */
bool pt_progress_stalled(struct pt_instance *inst, char *why, size_t whylen);

/* At the start of a step of @periods periods: makes room in every buffer
 * whose reader lags on it or has failed, for what its writer may write in
 * the step, by dropping the oldest data. No buffer whose reader has a
 * request in flight is touched. */
void pt_progress_unblock(struct pt_graph *g, unsigned periods);

/* Forgets the lags (prepare, restart). */
void pt_progress_reset(struct pt_instance *inst);

#endif /* PT_HOST_GRAPH_PROGRESS_H */
