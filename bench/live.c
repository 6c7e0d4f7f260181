/* SPDX-License-Identifier: MIT */
/*
 * partita bench live - a chain of N eq_iir stages played live to ALSA's
 * null device, paced on the clock (the `partita run --playback null
 * --realtime` path), four ways in one run: trusted LL in the host's pass,
 * isolated DP (pipelined, one domain per stage), isolated LL chained in the
 * period (one domain per stage, each woken by the one before), and the
 * same chain with the domain policy per-library (the stages share domains
 * of 16 instances); beside them the process floor, N bare processes
 * chained through futex words with no module and no sandbox (what one
 * process per stage costs on this machine, below any isolated row). N = 4,
 * 16, 64; periods of 48 frames (1 ms) and 256 frames at 48 kHz; each with
 * and without a background load the bench starts itself (a child process
 * with two busy threads in the ordinary class, stopped after the row).
 *
 * Per row: periods, misses, kills (faults), the end-to-end latency in
 * periods (an impulse every 200 periods is found in the chain's first
 * buffer and, later, in its last: latency = the periods between, plus the
 * one it was written in), CPU time per period of the host and the domains
 * (getrusage, /proc/PID/schedstat), futex syscalls and context switches per
 * period, and isolated CPU over trusted CPU and over the floor's for the
 * same N, period and load.
 * The host thread runs at SCHED_FIFO where permitted, domains one below.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/futex.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sndfile.h>

#include "bench/bench.h"
#include "host/domain/exec.h"
#include "host/graph/graph.h"
#include "host/sched/rt.h"
#include "host/sched/sched.h"

enum way { WAY_TRUSTED, WAY_FLOOR, WAY_DP, WAY_CHAIN, WAY_CHAIN_LIB, NWAYS };
static const char *const way_name[] = { "trusted_ll", "process_floor", "isolated_dp",
					"isolated_chain", "isolated_chain_lib" };

#define IMPULSE_EVERY 200 /* periods; more than any row's latency */
#define MAX_STAGES 64

struct row {
	enum way way;
	unsigned stages;
	uint32_t period_us, period_frames;
	bool load;
	uint64_t periods, misses, kills;
	int latency;              /* periods, -1 when no impulse came through */
	double cpu_us;            /* per period, host and domains */
	double futex;             /* per period */
	double ctxsw;             /* per period */
	double ratio;             /* cpu over trusted's, same N/period/load */
	double floor_ratio;       /* cpu over the process floor's (isolated rows) */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleeps until one period after @next (CLOCK_MONOTONIC ns); returns it. */
static uint64_t pace(uint64_t next, uint32_t period_us)
{
	struct timespec ts;

	next += (uint64_t)period_us * 1000u;
	ts.tv_sec = (time_t)(next / 1000000000u);
	ts.tv_nsec = (long)(next % 1000000000u);
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	return next;
}

/* ---- the background load: a child with two busy threads ---- */

static void *busy(void *arg)
{
	volatile uint64_t n = 0;

	(void)arg;
	for (;;)
		n++;
	return NULL;
}

static pid_t load_start(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct sched_param sp = { 0 };
		pthread_t t;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sched_setscheduler(0, SCHED_OTHER, &sp);
		pthread_create(&t, NULL, busy, NULL);
		busy(NULL);
		_exit(0);
	}
	return pid;
}

static void load_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/* ---- what the domains cost ---- */

static uint64_t schedstat_ns(pid_t pid)
{
	char path[64];
	unsigned long long ns = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

static uint64_t ctx_switches(pid_t pid)
{
	char path[64], line[128];
	uint64_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;

		if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1 ||
		    sscanf(line, "nonvoluntary_ctxt_switches: %llu", &v) == 1)
			n += v;
	}
	fclose(f);
	return n;
}

struct cost {
	uint64_t cpu_ns, futex, ctxsw;
};

/* This process's CPU time and context switches. */
static void cost_self(struct cost *c)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	c->cpu_ns = ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
		    ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
	c->ctxsw = (uint64_t)ru.ru_nvcsw + (uint64_t)ru.ru_nivcsw;
	c->futex = 0;
}

static void cost_add_pid(struct cost *c, pid_t pid)
{
	c->cpu_ns += schedstat_ns(pid);
	c->ctxsw += ctx_switches(pid);
}

/* Host (this process) plus every distinct domain of @g. */
static void cost_now(struct pt_graph *g, struct cost *c)
{
	struct pt_instance *inst;
	pid_t seen[PT_MAX_INSTANCES];
	unsigned nseen = 0;

	cost_self(c);
	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++) {
		bool dup = false;

		if (!inst->exec || inst->domain_pid <= 0)
			continue;
		for (unsigned k = 0; k < nseen; k++)
			dup |= seen[k] == inst->domain_pid;
		if (dup)
			continue;
		seen[nseen++] = inst->domain_pid;
		cost_add_pid(c, inst->domain_pid);
		c->futex += pt_exec_futex_calls(inst);
	}
}

/* ---- the floor: N bare processes chained through futex words ----
 *
 * What one process per stage costs on this machine before any module,
 * sandbox, view or check: N processes forked from the bench, pinned and
 * prioritised as the chain's domains are, each waiting on its own futex
 * word (a page apart, as activation records are) and, when woken, writing
 * the next word and waking it. The bench's thread paces the periods as a
 * graph row does, starts the chain and waits for its last word. No audio
 * and no DSP: an isolated row's CPU over this row's is what the domains,
 * the host's checks and the modules' work add to the bare wakes.
 */
struct floor_page {
	_Atomic uint32_t seq;       /* UINT32_MAX: exit */
	_Atomic uint64_t futex;     /* futex calls of the stage waiting here */
	char pad[4096 - 16];
};

static long futex_call(_Atomic uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

static __attribute__((noreturn)) void floor_stage(struct floor_page *pg, unsigned i)
{
	struct pt_exec_tuning t;
	uint32_t seen = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pt_exec_tuning_get(&t);
	if (t.chain_cpu) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(t.chain_cpu - 1, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	if (t.rt_priority) {
		struct sched_param sp = { .sched_priority = (int)t.rt_priority };

		sched_setscheduler(0, SCHED_FIFO, &sp);
	}
	for (;;) {
		uint32_t v;

		while ((v = atomic_load(&pg[i].seq)) == seen) {
			futex_call(&pg[i].seq, FUTEX_WAIT, seen, NULL);
			atomic_fetch_add(&pg[i].futex, 1);
		}
		if (v == UINT32_MAX)
			_exit(0);
		seen = v;
		atomic_store(&pg[i + 1].seq, v);
		futex_call(&pg[i + 1].seq, FUTEX_WAKE, 1, NULL);
		atomic_fetch_add(&pg[i].futex, 1);
	}
}

static void floor_cost(struct floor_page *pg, const pid_t *pid, unsigned n, struct cost *c)
{
	cost_self(c);
	for (unsigned i = 0; i <= n; i++) {
		if (i < n)
			cost_add_pid(c, pid[i]);
		c->futex += atomic_load(&pg[i].futex);
	}
}

static int run_floor(struct row *r, double seconds, char *err, size_t errlen)
{
	uint64_t periods = (uint64_t)(seconds * 1e6 / r->period_us), next;
	size_t len = (r->stages + 1) * sizeof(struct floor_page);
	struct floor_page *pg = mmap(NULL, len, PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	_Atomic uint32_t *last;
	pid_t pid[MAX_STAGES], load = -1;
	unsigned started = 0;
	struct cost c0, c1;
	int ret = 0;

	if (pg == MAP_FAILED) {
		snprintf(err, errlen, "floor: mmap: %s", strerror(errno));
		return -1;
	}
	last = &pg[r->stages].seq;
	for (; started < r->stages; started++) {
		pid[started] = fork();
		if (pid[started] == 0)
			floor_stage(pg, started);
		if (pid[started] < 0) {
			snprintf(err, errlen, "floor: fork: %s", strerror(errno));
			ret = -1;
			break;
		}
	}
	r->period_frames = (uint32_t)(48000ull * r->period_us / 1000000u);
	r->misses = r->kills = 0;
	r->latency = -1;
	if (!ret) {
		if (r->load)
			load = load_start();
		floor_cost(pg, pid, r->stages, &c0);
		next = mono_ns();
	}
	for (uint32_t p = 1; !ret && p <= periods; p++) {
		uint64_t deadline;
		struct timespec ts;
		long waits = 0;

		next = pace(next, r->period_us);
		deadline = next + (uint64_t)r->period_us * 1000u;
		atomic_store(&pg[0].seq, p);
		futex_call(&pg[0].seq, FUTEX_WAKE, 1, NULL);
		atomic_fetch_add(&pg[r->stages].futex, 1);
		/* Done by the end of the period, or a miss; then on to the end
		 * of the chain (a second at most: the stages are bare). */
		for (uint32_t v; (v = atomic_load(last)) != p;) {
			uint64_t now = mono_ns();

			if (now >= deadline && !waits++)
				r->misses++;
			if (now >= deadline + 1000000000u) {
				snprintf(err, errlen, "floor: the chain stopped at period %u", p);
				ret = -1;
				break;
			}
			ts.tv_sec = 0;
			ts.tv_nsec = (long)(now < deadline ? deadline - now : 1000000u);
			futex_call(last, FUTEX_WAIT, v, &ts);
			atomic_fetch_add(&pg[r->stages].futex, 1);
		}
	}
	if (!ret) {
		floor_cost(pg, pid, r->stages, &c1);
		r->periods = periods;
		r->cpu_us = (double)(c1.cpu_ns - c0.cpu_ns) / 1000.0 / (double)periods;
		r->futex = (double)(c1.futex - c0.futex) / (double)periods;
		r->ctxsw = (double)(c1.ctxsw - c0.ctxsw) / (double)periods;
	}
	load_stop(load);
	for (unsigned i = 0; i <= r->stages; i++)
		atomic_store(&pg[i].seq, UINT32_MAX);
	for (unsigned i = 0; i < started; i++) {
		futex_call(&pg[i].seq, FUTEX_WAKE, 1, NULL);
		waitpid(pid[i], NULL, 0);
	}
	munmap(pg, len);
	return ret;
}

/* ---- the input: silence with an impulse every IMPULSE_EVERY periods ---- */

static int make_input(const char *path, double seconds, uint32_t period_frames,
		      char *err, size_t errlen)
{
	SF_INFO info = { .samplerate = 48000, .channels = 2,
			 .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
	sf_count_t frames = (sf_count_t)(seconds * 48000.0) + 48000;
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	float *x;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, sf_strerror(NULL));
		return -EIO;
	}
	x = calloc((size_t)frames * 2, sizeof(float));
	if (!x) {
		sf_close(f);
		return -ENOMEM;
	}
	for (sf_count_t i = IMPULSE_EVERY / 2 * (sf_count_t)period_frames; i < frames;
	     i += IMPULSE_EVERY * (sf_count_t)period_frames)
		x[2 * i] = x[2 * i + 1] = 0.5f;
	sf_writef_float(f, x, frames);
	sf_close(f);
	free(x);
	return 0;
}

/* True when the bytes written to @b since position @from hold an impulse. */
static bool impulse_since(const struct pt_buffer *b, uint64_t from)
{
	for (uint64_t pos = from; pos + 4 <= b->wr; pos += 4) {
		float v;

		memcpy(&v, b->data + pos % b->size, 4);
		if (fabsf(v) > 0.1f)
			return true;
	}
	return false;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* ---- one row ---- */

static int run_row(struct row *r, double seconds, const char *input, char *err,
		   size_t errlen)
{
	struct pt_graph_config cfg = { .rate = 48000, .period_us = r->period_us,
				       .offline = false, .dp_batch = 1,
				       .domains_per_library = r->way == WAY_CHAIN_LIB };
	static const struct pt_format fmt = { 48000, 2, PT_SAMPLE_FLOAT_LE };
	struct pt_graph *g = pt_graph_new(&cfg, err, errlen);
	struct pt_sched *s = NULL;
	struct pt_buffer *first = NULL, *last = NULL;
	char file[600];
	int ret, lat[256];
	unsigned nlat = 0;
	uint64_t periods = (uint64_t)(seconds * 1e6 / r->period_us), next, in_at = 0;
	bool in_seen = false, out_armed = true, in_armed = true;
	struct cost c0, c1;
	pid_t load = -1;

	if (!g)
		return -1;
	ret = pt_graph_pipeline_create(g, 1, "live", err, errlen);
	snprintf(file, sizeof(file), "file=%s", input);
	if (!ret) {
		struct pt_instance_desc d = { .id = 1, .pipeline = 1, .name = "in",
					      .module = "input", .init = file,
					      .init_size = strlen(file) };

		ret = pt_graph_instance_create(g, &d, err, errlen);
	}
	for (unsigned i = 0; !ret && i < r->stages; i++) {
		static const char params[] = "bands=peaking:1000:0.7:1";
		char name[16];
		struct pt_instance_desc d = {
			.id = i + 2, .pipeline = 1, .name = name, .module = "eq_iir",
			.init = params, .init_size = strlen(params),
			.sched = r->way == WAY_DP ? PT_SCHED_DP : PT_SCHED_LL,
			.sched_set = true,
			.isolation = r->way == WAY_TRUSTED ? PT_ISOLATION_NONE
							   : PT_ISOLATION_PROCESS,
			.isolation_set = true, .heap_size = 65536,
		};

		snprintf(name, sizeof(name), "eq%u", i + 1);
		ret = pt_graph_instance_create(g, &d, err, errlen);
	}
	if (!ret) {
		static const char dev[] = "device=null";
		struct pt_instance_desc d = { .id = r->stages + 2, .pipeline = 1,
					      .name = "out", .module = "playback",
					      .init = dev, .init_size = strlen(dev) };

		ret = pt_graph_instance_create(g, &d, err, errlen);
	}
	for (unsigned i = 0; !ret && i <= r->stages; i++)
		ret = pt_graph_bind(g, i + 1, 0, i + 2, 0, &fmt, 0, err, errlen);
	if (!ret)
		ret = pt_graph_set_state(g, 1, PT_STATE_PAUSED, err, errlen);
	if (!ret)
		ret = pt_graph_set_state(g, 1, PT_STATE_RUNNING, err, errlen);
	if (!ret && !(s = pt_sched_new(g, err, errlen)))
		ret = -ENOMEM;
	if (!ret) {
		first = pt_graph_instance(g, 1)->out[0];
		last = pt_graph_instance(g, r->stages + 2)->in[0];
		r->period_frames = pt_graph_instance(g, 1)->mod.period_frames;
		if (r->load)
			load = load_start();
		cost_now(g, &c0);
		next = mono_ns();
	}
	while (!ret && pt_sched_periods(s) < periods) {
		uint64_t f0 = first->wr, l0 = last->wr, p = pt_sched_periods(s) + 1;

		next = pace(next, r->period_us);
		ret = pt_sched_period(s);
		/* A rising edge in each buffer: the impulse's first period. */
		if (impulse_since(first, f0)) {
			if (in_armed) {
				in_at = p;
				in_seen = true;
			}
			in_armed = false;
		} else {
			in_armed = true;
		}
		if (impulse_since(last, l0)) {
			if (out_armed && in_seen && nlat < 256)
				lat[nlat++] = (int)(p - in_at) + 1;
			out_armed = false;
		} else {
			out_armed = true;
		}
	}
	if (!ret) {
		struct pt_instance *inst;
		uint64_t n = pt_sched_periods(s);

		cost_now(g, &c1);
		load_stop(load);
		r->periods = n;
		r->misses = r->kills = 0;
		for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++) {
			r->misses += inst->stats.deadline_misses;
			r->kills += inst->stats.faults;
		}
		r->cpu_us = (double)(c1.cpu_ns - c0.cpu_ns) / 1000.0 / (double)n;
		r->futex = (double)(c1.futex - c0.futex) / (double)n;
		r->ctxsw = (double)(c1.ctxsw - c0.ctxsw) / (double)n;
		if (nlat) {
			qsort(lat, nlat, sizeof(int), cmp_int);
			r->latency = lat[nlat / 2];
		} else {
			r->latency = -1;
		}
	} else {
		load_stop(load);
		if (ret != -1 && !err[0])
			snprintf(err, errlen, "scheduler: %s", strerror(-ret));
	}
	pt_sched_free(s);
	pt_graph_free(g);
	return ret ? -1 : 0;
}

static void print_row(const struct row *r, bool json, bool more)
{
	double per10k = r->periods ? (double)r->misses * 10000.0 / (double)r->periods /
					     (double)r->stages : 0.0;
	char lat[16], vs_floor[16];

	if (r->latency >= 0)
		snprintf(lat, sizeof(lat), "%d", r->latency);
	else
		snprintf(lat, sizeof(lat), json ? "null" : "-");
	if (r->floor_ratio > 0.0)
		snprintf(vs_floor, sizeof(vs_floor), json ? "%.3f" : "%.2f", r->floor_ratio);
	else
		snprintf(vs_floor, sizeof(vs_floor), json ? "null" : "-");
	if (json) {
		printf("    {\"way\": \"%s\", \"stages\": %u, \"period_frames\": %u, "
		       "\"load\": %s, \"periods\": %llu, \"misses\": %llu, "
		       "\"misses_per_10k_per_instance\": %.3f, \"kills\": %llu, "
		       "\"latency_periods\": %s, \"cpu_us_per_period\": %.2f, "
		       "\"futex_per_period\": %.2f, \"futex_per_stage_period\": %.3f, "
		       "\"ctxsw_per_period\": %.2f, \"cpu_ratio_vs_trusted\": %.3f, "
		       "\"cpu_ratio_vs_floor\": %s}%s\n",
		       way_name[r->way], r->stages, r->period_frames,
		       r->load ? "true" : "false", (unsigned long long)r->periods,
		       (unsigned long long)r->misses, per10k, (unsigned long long)r->kills, lat,
		       r->cpu_us, r->futex, r->futex / r->stages, r->ctxsw, r->ratio, vs_floor,
		       more ? "," : "");
		return;
	}
	printf("%-18s %3u %5u %-4s %8llu %7llu %9.3f %5llu %7s %9.1f %8.2f %7.3f %7.2f %7.2f %7s\n",
	       way_name[r->way], r->stages, r->period_frames, r->load ? "yes" : "no",
	       (unsigned long long)r->periods, (unsigned long long)r->misses, per10k,
	       (unsigned long long)r->kills, lat, r->cpu_us, r->futex, r->futex / r->stages,
	       r->ctxsw, r->ratio, vs_floor);
}

int pt_bench_live(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "seconds", required_argument, NULL, 's' },
		{ "stages", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const uint32_t period_us[] = { 1000, 5334 }; /* 48, 256 frames */
	unsigned stages[8] = { 4, 16, 64 }, nstages = 3;
	struct row rows[2 * 8 * 2 * NWAYS];
	unsigned nrows = 0;
	double seconds = 10.0;
	char err[512], input[64];
	bool json = false;
	int c, prio, status = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 's':
			seconds = atof(optarg);
			if (!(seconds > 0.0 && seconds <= 3600.0)) {
				fprintf(stderr, "bench live: --seconds must be in (0, 3600]\n");
				return 2;
			}
			break;
		case 'n': {
			char *p = optarg, *end;

			nstages = 0;
			while (*p && nstages < 8) {
				long v = strtol(p, &end, 10);

				if (end == p || v < 1 || v > MAX_STAGES) {
					fprintf(stderr, "bench live: --stages: a list of 1..%d\n",
						MAX_STAGES);
					return 2;
				}
				stages[nstages++] = (unsigned)v;
				p = *end == ',' ? end + 1 : end;
			}
			break;
		}
		case 'h':
			printf("usage: partita bench live [--json] [--seconds T] [--stages 4,16,64]\n"
			       "Plays a chain of N eq_iir stages to ALSA's null device paced on the\n"
			       "clock, T seconds per row (default 10), four ways: trusted LL,\n"
			       "isolated DP, isolated LL chained in the period, the same with\n"
			       "domains per library (16 stages a domain); and the process floor:\n"
			       "N bare processes waking each other through futex words, no module,\n"
			       "no sandbox (what a process per stage costs here); at 48 and 256\n"
			       "frames per period; without and with a background load (two busy\n"
			       "threads in the ordinary class). Per row: periods, misses (and per\n"
			       "10,000 periods per instance), kills, latency in periods (impulse\n"
			       "in, found at the output), CPU us per period (host and domains),\n"
			       "futex syscalls and context switches per period, CPU over trusted\n"
			       "and, for isolated rows, over the floor.\n");
			return 0;
		default:
			return 2;
		}
	}
	prio = pt_rt_enter(PT_RT_PRIORITY_DEFAULT, "bench live");
	if (prio) {
		struct pt_exec_tuning t;

		pt_rt_lock_memory();
		pt_exec_tuning_get(&t);
		t.rt_priority = (uint32_t)prio - 1;
		t.chain_cpu = (uint32_t)(pt_rt_chain_cpu() + 1);
		pt_rt_pin((int)t.chain_cpu - 1);
		pt_exec_tune(&t);
	}
	snprintf(input, sizeof(input), "/tmp/partita-bench-live-%d.wav", (int)getpid());
	if (json)
		printf("{\"seconds\": %.3f, \"real_time\": %s, \"rows\": [\n", seconds,
		       prio ? "true" : "false");
	else
		printf("%-18s %3s %5s %-4s %8s %7s %9s %5s %7s %9s %8s %7s %7s %7s %7s\n",
		       "way", "N", "frames", "load", "periods", "misses", "/10k/inst",
		       "kills", "latency", "cpu_us", "futex", "/stage", "ctxsw", "vs_trust",
		       "vs_floor");
	for (unsigned pi = 0; pi < 2 && !status; pi++) {
		err[0] = '\0';
		if (make_input(input, seconds, (uint32_t)(48000ull * period_us[pi] / 1000000u),
			       err, sizeof(err))) {
			fprintf(stderr, "bench live: %s\n", err);
			return 1;
		}
		for (unsigned ni = 0; ni < nstages && !status; ni++)
			for (int load = 0; load < 2 && !status; load++) {
				struct row *trusted = NULL, *floor = NULL;

				for (int w = 0; w < NWAYS; w++) {
					struct row *r = &rows[nrows++];

					*r = (struct row){ .way = (enum way)w, .stages = stages[ni],
							   .period_us = period_us[pi],
							   .load = load };
					err[0] = '\0';
					if (w == WAY_FLOOR ? run_floor(r, seconds, err, sizeof(err))
							   : run_row(r, seconds, input, err, sizeof(err))) {
						fprintf(stderr, "bench live: %s, %u stages: %s\n",
							way_name[w], stages[ni], err);
						status = 1;
						break;
					}
					if (w == WAY_TRUSTED)
						trusted = r;
					if (w == WAY_FLOOR)
						floor = r;
					r->ratio = trusted && trusted->cpu_us > 0 ?
							   r->cpu_us / trusted->cpu_us : 0.0;
					if (w > WAY_FLOOR && floor && floor->cpu_us > 0)
						r->floor_ratio = r->cpu_us / floor->cpu_us;
					print_row(r, json, !(pi == 1 && ni + 1 == nstages &&
							     load == 1 && w == NWAYS - 1));
					fflush(stdout);
				}
			}
	}
	unlink(input);
	if (json)
		printf("]}\n");
	return status;
}
