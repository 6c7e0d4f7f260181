/* SPDX-License-Identifier: MIT */
/*
 * bench/ - benchmarks behind `partita bench NAME`. Each prints its figures
 * as ratios against a floor measured in the same run (never absolute
 * thresholds), and with --json one object {"rows": [...]} or the object
 * its issue names. Each returns a process exit status.
 */
#ifndef PT_BENCH_H
#define PT_BENCH_H

int pt_bench_heap(int argc, char **argv);
int pt_bench_ring(int argc, char **argv);
int pt_bench_graph(int argc, char **argv);
int pt_bench_sof(int argc, char **argv);
int pt_bench_live(int argc, char **argv);

#endif
