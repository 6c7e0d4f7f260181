/* SPDX-License-Identifier: MIT */
/*
 * partita domains TOPOLOGY - who can read and write which partition.
 *
 * Builds the topology's graph (domains started, buffers granted, instances
 * prepared), then reads every process's mappings from /proc: the matrix is
 * what the running system has mapped, not what the plan says. One row per
 * partition (size, kind), one column for the host and one per domain;
 * "rw", "ro" or "-".
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/domain/exec.h"
#include "host/graph/graph.h"
#include "host/topology/topology.h"
#include "tools/partita/cmd.h"

#define MAX_COLUMNS 64
#define MAX_ROWS (PT_MAX_BUFFERS + 2 * PT_MAX_INSTANCES)

struct column {
	pid_t pid;
	char label[PT_NAME_MAX + 16];
};

struct row {
	struct pt_partition *part;
	char what[96];
};

/* Adds @p (once) with its description @what; -ENOSPC when full. */
static int add_row(struct row *rows, size_t *n, struct pt_partition *p,
		   const char *what)
{
	if (!p)
		return 0;
	for (size_t i = 0; i < *n; i++)
		if (rows[i].part == p)
			return 0;
	if (*n == MAX_ROWS)
		return -ENOSPC;
	rows[*n].part = p;
	snprintf(rows[*n].what, sizeof(rows[*n].what), "%s", what);
	(*n)++;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: partita domains [--isolation process|none] TOPOLOGY\n"
		   "  Starts the topology's domains and prints, for each partition,\n"
		   "  its size and which processes map it read-write (rw), read-only\n"
		   "  (ro) or not at all (-), as read from /proc/PID/maps.\n"
		   "  --isolation places every module instance (endpoints excepted)\n"
		   "  as partita run --isolation does.\n");
}

int pt_cmd_domains(int argc, char **argv)
{
	struct pt_graph_config cfg = { 0 };
	struct pt_topology topo = { 0 };
	struct column cols[MAX_COLUMNS];
	struct row *rows = calloc(MAX_ROWS, sizeof(*rows));
	size_t ncols = 1, nrows = 0;
	struct pt_graph *g = NULL;
	struct pt_instance *inst;
	char err[PT_ERR_MAX];
	int status = 1;

	const char *path = NULL;
	bool bad = false;

	for (int i = 1; i < argc && !bad; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			free(rows);
			return 0;
		} else if (!strcmp(argv[i], "--isolation") && i + 1 < argc) {
			i++;
			cfg.force_isolation = true;
			if (pt_isolation_parse(argv[i], &cfg.isolation))
				bad = true;
		} else if (!path && argv[i][0] != '-') {
			path = argv[i];
		} else {
			bad = true;
		}
	}
	if (bad || !path || !rows) {
		usage(stderr);
		free(rows);
		return 2;
	}
	if (pt_topology_load(path, &topo, err, sizeof(err))) {
		fprintf(stderr, "partita domains: %s\n", err);
		goto out;
	}
	cfg.rate = topo.rate;
	cfg.period_us = topo.period_us;
	cfg.user_heap_size = topo.user_heap_size;
	g = pt_graph_new(&cfg, err, sizeof(err));
	if (!g || pt_topology_apply(&topo, g, err, sizeof(err))) {
		fprintf(stderr, "partita domains: %s\n", err);
		goto out;
	}
	/* Grants happen at prepare: leave RESET where the topology did not. */
	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++)
		if (inst->state == PT_INSTANCE_INIT &&
		    pt_graph_set_state(g, inst->pipeline, PT_STATE_PAUSED, err, sizeof(err))) {
			fprintf(stderr, "partita domains: %s\n", err);
			goto out;
		}

	cols[0].pid = getpid();
	snprintf(cols[0].label, sizeof(cols[0].label), "host");
	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++) {
		char what[96];
		size_t c;

		for (unsigned k = 0; k < PT_MAX_PINS; k++) {
			if (!inst->out[k])
				continue;
			snprintf(what, sizeof(what), "buffer %s.out%u", inst->name, k);
			if (add_row(rows, &nrows, inst->out[k]->part, what))
				goto full;
		}
		if (!inst->domain_pid)
			continue;
		snprintf(what, sizeof(what), "heap+stack of %s", inst->name);
		if (add_row(rows, &nrows, pt_exec_private_partition(inst), what))
			goto full;
		snprintf(what, sizeof(what), "rings of domain %s",
			 inst->domain[0] ? inst->domain : inst->name);
		if (add_row(rows, &nrows, pt_exec_rings_partition(inst), what))
			goto full;
		for (c = 1; c < ncols && cols[c].pid != inst->domain_pid; c++)
			;
		if (c == ncols && ncols < MAX_COLUMNS) {
			cols[c].pid = inst->domain_pid;
			snprintf(cols[c].label, sizeof(cols[c].label), "%s",
				 inst->domain[0] ? inst->domain : inst->name);
			ncols++;
		}
	}
	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++)
		for (unsigned k = 0; k < PT_MAX_PINS; k++) {
			char what[96];

			if (!inst->in[k])
				continue;
			snprintf(what, sizeof(what), "buffer into %s.in%u", inst->name, k);
			if (add_row(rows, &nrows, inst->in[k]->part, what))
				goto full;
		}

	printf("%-32s %10s", "partition", "bytes");
	for (size_t c = 0; c < ncols; c++)
		printf(" %12.12s", cols[c].label);
	printf("\n%-32s %10s", "", "");
	for (size_t c = 0; c < ncols; c++) {
		char pid[24];

		snprintf(pid, sizeof(pid), "pid %d", (int)cols[c].pid);
		printf(" %12s", pid);
	}
	printf("\n");
	for (size_t r = 0; r < nrows; r++) {
		printf("%-32.32s %10zu", rows[r].what, rows[r].part->size);
		for (size_t c = 0; c < ncols; c++) {
			int a = pt_access_of(cols[c].pid, rows[r].part);

			printf(" %12s", a < 0 ? "?" : pt_access_name(a));
		}
		printf("\n");
	}
	status = 0;
	goto out;
full:
	fprintf(stderr, "partita domains: more than %d partitions\n", MAX_ROWS);
out:
	if (g)
		pt_graph_free(g);
	pt_topology_free(&topo);
	free(rows);
	return status;
}
