/* SPDX-License-Identifier: MIT */
/* The per-module table, as text and as JSON. */
#include <stdio.h>
#include <string.h>

#include "host/io/alsa.h"
#include "host/io/io.h"
#include "host/trace/trace.h"
#include "tools/partita/report.h"

static const char *isolation_name(enum pt_isolation i)
{
	return i == PT_ISOLATION_PROCESS ? "process" : "none";
}

static const char *sched_name(enum pt_sched_kind s)
{
	return s == PT_SCHED_DP ? "dp" : "ll";
}

void pt_report_size(char *out, size_t len, uint64_t bytes)
{
	if (bytes >= 1024 * 1024)
		snprintf(out, len, "%.1fM", (double)bytes / (1024.0 * 1024.0));
	else if (bytes >= 1024)
		snprintf(out, len, "%.1fK", (double)bytes / 1024.0);
	else
		snprintf(out, len, "%llu", (unsigned long long)bytes);
}

void pt_report_table(FILE *f, struct pt_graph *g, uint64_t periods)
{
	struct pt_instance *inst;

	fprintf(f, "%-14s %-10s %-8s %-5s %-7s %8s %15s %9s %9s %6s %6s %7s\n",
		"INSTANCE", "MODULE", "ISOLATE", "SCHED", "STATE", "PERIODS",
		"HEAP USED/SIZE", "MEAN us", "WORST us", "MISSES", "FAULTS", "LATENCY");
	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++) {
		struct pt_instance_info info;
		char used[16], size[16], heap[40];
		double mean;

		pt_instance_info(inst, &info);
		pt_report_size(used, sizeof(used), info.stats.heap_used);
		pt_report_size(size, sizeof(size), info.stats.heap_size);
		snprintf(heap, sizeof(heap), "%s/%s", used, size);
		mean = info.stats.periods ? (double)info.stats.process_ns /
						    (double)info.stats.periods / 1e3 :
					    0.0;
		fprintf(f,
			"%-14s %-10s %-8s %-5s %-7s %8llu %15s %9.2f %9.2f %6llu %6llu %7u\n",
			info.name, info.module, isolation_name(info.isolation),
			sched_name(info.sched), pt_instance_state_name(info.state),
			(unsigned long long)info.stats.periods, heap, mean,
			(double)info.stats.worst_ns / 1e3,
			(unsigned long long)info.stats.deadline_misses,
			(unsigned long long)info.stats.faults, info.stats.latency_frames);
		if (info.stats.faults && info.stats.fault_reason[0])
			fprintf(f, "  %s: last fault at period %llu: %s\n",
				info.name,
				(unsigned long long)info.stats.fault_period,
				info.stats.fault_reason);
		if (info.stats.dropped_frames)
			fprintf(f, "  %s: %llu frames dropped from its inputs while it made no progress\n",
				info.name, (unsigned long long)info.stats.dropped_frames);
	}
	fprintf(f, "%llu periods of %u us\n", (unsigned long long)periods,
		pt_graph_config(g)->period_us);
}

int pt_report_json(FILE *f, struct pt_graph *g, uint64_t periods,
		   uint64_t skipped)
{
	struct pt_instance *inst;
	const struct pt_graph_config *cfg = pt_graph_config(g);

	fprintf(f, "{\"periods\": %llu, \"skipped_periods\": %llu, \"period_us\": %u, "
		   "\"rate\": %u, \"user_heap_size\": %zu, \"user_heap_used\": %zu, "
		   "\"instances\": [",
		(unsigned long long)periods, (unsigned long long)skipped,
		cfg->period_us, cfg->rate,
		cfg->user_heap_size, pt_graph_budget(g)->used);
	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++) {
		struct pt_instance_info info;

		pt_instance_info(inst, &info);
		fprintf(f, "%s\n  {\"name\": ", i ? "," : "");
		pt_json_string(f, info.name);
		fprintf(f, ", \"module\": ");
		pt_json_string(f, info.module);
		fprintf(f,
			", \"isolation\": \"%s\", \"sched\": \"%s\", \"state\": \"%s\", "
			"\"domain_pid\": %d, \"periods\": %llu, \"heap_used\": %zu, "
			"\"heap_size\": %zu, \"process_ns_total\": %llu, "
			"\"process_ns_mean\": %.1f, \"process_ns_worst\": %llu, "
			"\"deadline_misses\": %llu, \"faults\": %llu, \"restarts\": %llu, "
			"\"latency_frames\": %u, "
			"\"fault_period\": %llu, \"fault_signal\": %d, \"fault_reason\": ",
			isolation_name(info.isolation), sched_name(info.sched),
			pt_instance_state_name(info.state), info.domain_pid,
			(unsigned long long)info.stats.periods, info.stats.heap_used,
			info.stats.heap_size,
			(unsigned long long)info.stats.process_ns,
			info.stats.periods ? (double)info.stats.process_ns /
						     (double)info.stats.periods :
					     0.0,
			(unsigned long long)info.stats.worst_ns,
			(unsigned long long)info.stats.deadline_misses,
			(unsigned long long)info.stats.faults,
			(unsigned long long)info.stats.restarts,
			info.stats.latency_frames,
			(unsigned long long)info.stats.fault_period,
			info.stats.fault_signal);
		pt_json_string(f, info.stats.fault_reason);
		/* What was dropped from its inputs while it made no progress. */
		fprintf(f, ", \"dropped_frames\": %llu",
			(unsigned long long)info.stats.dropped_frames);
		/* A sound device endpoint also says which device and its
		 * under- and overruns. */
		if (pt_alsa_device(inst)) {
			fprintf(f, ", \"device\": ");
			pt_json_string(f, pt_alsa_device(inst));
			fprintf(f, ", \"xruns\": %llu",
				(unsigned long long)pt_alsa_xruns(inst));
		}
		/* A file endpoint's xruns: live, its I/O thread fell behind. */
		if (pt_io_is_input(inst) || pt_io_is_output(inst))
			fprintf(f, ", \"xruns\": %llu",
				(unsigned long long)pt_io_xruns(inst));
		fputc('}', f);
	}
	fprintf(f, "\n]}\n");
	return ferror(f) ? -1 : 0;
}
