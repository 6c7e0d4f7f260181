/* SPDX-License-Identifier: MIT */
/* partita bench [heap|ring|graph|sof|live] [--json] - every benchmark, or one. */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "tools/partita/cmd.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} benches[] = {
	{ "heap", pt_bench_heap },
	{ "ring", pt_bench_ring },
	{ "graph", pt_bench_graph },
	{ "sof", pt_bench_sof },
	{ "live", pt_bench_live },
};

#define NBENCH (sizeof(benches) / sizeof(benches[0]))

int pt_cmd_bench(int argc, char **argv)
{
	int status = 0;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: partita bench [heap|ring|graph|sof|live] [--json] [OPTIONS]\n"
		       "Runs the benchmarks; each measures its floor in the same run\n"
		       "and prints ratios against it. With no name, runs all of them.\n"
		       "'partita bench NAME --help' lists a benchmark's options.\n");
		return 0;
	}
	if (argc > 1 && argv[1][0] != '-') {
		for (size_t i = 0; i < NBENCH; i++)
			if (!strcmp(argv[1], benches[i].name))
				return benches[i].run(argc - 1, argv + 1);
		fprintf(stderr, "partita bench: unknown benchmark '%s' (heap, ring, graph, sof, live)\n",
			argv[1]);
		return 2;
	}
	for (size_t i = 0; i < NBENCH; i++) {
		char *args[3] = { (char *)benches[i].name, NULL, NULL };
		int n = 1;

		if (argc > 1)
			args[n++] = argv[1]; /* e.g. --json */
		printf("== bench %s\n", benches[i].name);
		fflush(stdout);
		if (benches[i].run(n, args))
			status = 1;
	}
	return status;
}
