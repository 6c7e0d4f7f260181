/* SPDX-License-Identifier: MIT */
/*
 * bench/ - benchmarks behind `partita bench NAME`. Each prints its figures
 * as ratios against a floor measured in the same run (never absolute
 * thresholds), and with --json one object {"rows": [...]} or the object
 * its issue names. Each returns a process exit status.
 */
#ifndef PT_BENCH_H
#define PT_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

struct pt_sched;

int pt_bench_heap(int argc, char **argv);
int pt_bench_ring(int argc, char **argv);
int pt_bench_graph(int argc, char **argv);
int pt_bench_sof(int argc, char **argv);
int pt_bench_live(int argc, char **argv);

/* Runs @s until it has run @periods periods; *@wall is the seconds that
 * took. Returns 0, or the scheduler's -errno with @err saying so. */
int pt_bench_run(struct pt_sched *s, uint64_t periods, double *wall, char *err,
		 size_t errlen);

/* Monotonic seconds, for wall times. */
static inline double pt_bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* qsort's comparison for doubles, ascending. */
static inline int pt_bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts @v and returns its median (the mean of the middle two for even @n). */
static inline double pt_bench_median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), pt_bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

#endif
