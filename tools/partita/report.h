/* SPDX-License-Identifier: MIT */
/* tools/partita - the per-module table that run (and serve) print. */
#ifndef PT_TOOLS_REPORT_H
#define PT_TOOLS_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "host/graph/graph.h"

/* Prints one line per instance: state, periods, heap, process times,
 * deadline misses, faults. */
void pt_report_table(FILE *f, struct pt_graph *g, uint64_t periods);

/* Writes @bytes as "512", "4.0K" or "1.5M" into @out. */
void pt_report_size(char *out, size_t len, uint64_t bytes);

/* Writes the same figures as one JSON object, with the periods the host
 * skipped when it fell behind the clock (docs/stats-json.md). Returns 0 or
 * -1 on a write error. */
int pt_report_json(FILE *f, struct pt_graph *g, uint64_t periods,
		   uint64_t skipped);

#endif
