/* SPDX-License-Identifier: MIT */
/*
 * host/sched - runs the graph one period at a time.
 *
 * Each period: the LL pass runs every ready LL instance of every RUNNING
 * pipeline in dependency order, committing as it goes; the DP sweep hands
 * every ready DP instance (trusted ones to host worker threads, isolated
 * ones to their domains) a view taken at the start of the period, and
 * collects the results by the deadline. A DP result is committed at the end
 * of the period, so each DP stage adds one period of latency and all DP
 * instances work at the same time.
 */
#ifndef PT_HOST_SCHED_H
#define PT_HOST_SCHED_H

#include <stdint.h>

#include "host/graph/graph.h"

struct pt_sched;

/* Returns a scheduler for @g, or NULL with @err set. */
struct pt_sched *pt_sched_new(struct pt_graph *g, char *err, size_t errlen);

void pt_sched_free(struct pt_sched *s);

/* Runs one period. Returns 0, or -errno on a host-side failure (a module
 * fault is not one: it is recorded in the instance's stats). */
int pt_sched_period(struct pt_sched *s);

struct pt_trace;

/* Records a span per module per period, the LL pass and the waits for DP
 * results into @trace (NULL stops tracing). The trace must outlive its use. */
void pt_sched_set_trace(struct pt_sched *s, struct pt_trace *trace);

/* Returns the periods one pt_sched_period() call runs: 1 live; offline the
 * graph's DP batch, less where a DP instance's buffers are shallower. DP
 * latency is counted in steps. */
unsigned pt_sched_step(struct pt_sched *s);

/* Checks every isolated instance's domain without blocking (an event loop
 * calls it when a domain's pidfd becomes readable): a dead one's instances
 * are failed, and restarted as their policy says, even while their
 * pipeline is not running. Returns how many instances failed. */
unsigned pt_sched_domains_died(struct pt_sched *s);

/* Returns the number of periods run. */
uint64_t pt_sched_periods(const struct pt_sched *s);

#endif
