/* SPDX-License-Identifier: MIT */
/*
 * host/sched - one period at a time: DP snapshot and dispatch, the LL pass
 * in dependency order, then DP collection and commit.
 *
 * Why the views are safe to use concurrently: every buffer has one writer
 * and one reader. A DP instance's source view covers [rd, rd + fill) as it
 * was at the start of the period; during the period only the buffer's writer
 * adds data, past wr, outside that range. Its sink view covers the free space
 * [wr, wr + room) at the start; the reader only moves rd, which frees space
 * before the view. Only the host thread moves rd and wr, after the calls.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host/sched/sched.h"
#include "host/trace/trace.h"

#define PT_SCHED_THREADS_MAX 8

struct job {
	struct pt_instance *inst;
	struct pt_source src[PT_MAX_PINS];
	struct pt_source *srcp[PT_MAX_PINS];
	struct pt_sink snk[PT_MAX_PINS];
	struct pt_sink *snkp[PT_MAX_PINS];
	unsigned nsrc, nsnk;
	int ret;
	uint64_t t0, ns;
};

struct pt_sched {
	struct pt_graph *g;
	uint64_t periods;

	/* Trusted DP instances run on these workers. */
	pthread_t threads[PT_SCHED_THREADS_MAX];
	unsigned nthreads;
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	struct job *jobs;
	unsigned njobs, next, remaining;
	uint64_t epoch;
	bool quit;

	struct pt_trace *trace; /* NULL: not tracing */
	uint64_t traced_generation;
};

/* Track ids in the trace: the host's pass, then one per DP instance. */
#define TRACK_HOST 1
#define TRACK_DP(inst) (1000 + (int)(inst)->id)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void job_views(struct job *j, struct pt_instance *inst)
{
	j->inst = inst;
	j->nsrc = j->nsnk = 0;
	j->ret = 0;
	j->ns = 0;
	for (unsigned p = 0; p < PT_MAX_PINS; p++) {
		if (inst->in[p]) {
			pt_buffer_source_view(inst->in[p], &j->src[j->nsrc]);
			j->srcp[j->nsrc] = &j->src[j->nsrc];
			j->nsrc++;
		}
		if (inst->out[p]) {
			pt_buffer_sink_view(inst->out[p], &j->snk[j->nsnk]);
			j->snkp[j->nsnk] = &j->snk[j->nsnk];
			j->nsnk++;
		}
	}
}

static void job_run(struct job *j)
{
	struct pt_instance *inst = j->inst;
	j->t0 = now_ns();
	j->ret = inst->entry->ops->process(&inst->mod, j->srcp, j->nsrc,
					   j->snkp, j->nsnk);
	j->ns = now_ns() - j->t0;
}

static void *worker(void *arg)
{
	struct pt_sched *s = arg;
	uint64_t seen = 0;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->quit && (s->epoch == seen || s->next >= s->njobs))
			pthread_cond_wait(&s->work, &s->lock);
		if (s->quit)
			break;
		while (s->next < s->njobs) {
			struct job *j = &s->jobs[s->next++];

			pthread_mutex_unlock(&s->lock);
			job_run(j);
			pthread_mutex_lock(&s->lock);
			if (--s->remaining == 0)
				pthread_cond_signal(&s->done);
		}
		seen = s->epoch;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

struct pt_sched *pt_sched_new(struct pt_graph *g, char *err, size_t errlen)
{
	struct pt_sched *s = calloc(1, sizeof(*s));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (!s || !(s->jobs = calloc(PT_MAX_INSTANCES, sizeof(*s->jobs)))) {
		free(s);
		snprintf(err, errlen, "out of host memory");
		return NULL;
	}
	s->g = g;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->done, NULL);
	s->nthreads = cpus > 1 ? (unsigned)(cpus < PT_SCHED_THREADS_MAX ? cpus :
						       PT_SCHED_THREADS_MAX) : 1;
	for (unsigned i = 0; i < s->nthreads; i++) {
		if (pthread_create(&s->threads[i], NULL, worker, s)) {
			s->nthreads = i;
			pt_sched_free(s);
			snprintf(err, errlen, "cannot start scheduler threads");
			return NULL;
		}
	}
	return s;
}

void pt_sched_free(struct pt_sched *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->quit = true;
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < s->nthreads; i++)
		pthread_join(s->threads[i], NULL);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->done);
	free(s->jobs);
	free(s);
}

void pt_sched_set_trace(struct pt_sched *s, struct pt_trace *trace)
{
	s->trace = trace;
	s->traced_generation = UINT64_MAX;
	if (trace)
		pt_trace_track(trace, TRACK_HOST, "host LL pass");
}

/* Names a track per DP instance: its domain's when isolated. */
static void trace_tracks(struct pt_sched *s, struct pt_instance *const *order,
			 size_t n)
{
	char name[96];

	if (s->traced_generation == pt_graph_generation(s->g))
		return;
	s->traced_generation = pt_graph_generation(s->g);
	for (size_t i = 0; i < n; i++) {
		if (order[i]->sched != PT_SCHED_DP)
			continue;
		if (order[i]->isolation == PT_ISOLATION_PROCESS)
			snprintf(name, sizeof(name), "domain %s (pid %d)",
				 order[i]->domain[0] ? order[i]->domain :
						       order[i]->name,
				 order[i]->domain_pid);
		else
			snprintf(name, sizeof(name), "dp %s (host thread)",
				 order[i]->name);
		pt_trace_track(s->trace, TRACK_DP(order[i]), name);
	}
}

uint64_t pt_sched_periods(const struct pt_sched *s)
{
	return s->periods;
}

static bool running(struct pt_sched *s, const struct pt_instance *inst)
{
	return pt_graph_pipeline_state(s->g, inst->pipeline) == PT_STATE_RUNNING;
}

/* Moves the buffers' positions by what the views say was released and
 * committed. The ABI calls already refused anything beyond the views. */
static void commit(struct job *j)
{
	unsigned k = 0;

	for (unsigned p = 0; p < PT_MAX_PINS; p++)
		if (j->inst->in[p])
			j->inst->in[p]->rd += j->src[k++].consumed;
	k = 0;
	for (unsigned p = 0; p < PT_MAX_PINS; p++)
		if (j->inst->out[p])
			j->inst->out[p]->wr += j->snk[k++].produced;
}

/* What a failed instance, or one whose process failed this period, leaves
 * behind: one period of silence (or of its first input, for bypass) on
 * every output and one period drained from every input, so the streams
 * around it keep their length and timing. */
static void stand_in(struct job *j)
{
	struct pt_instance *inst = j->inst;
	uint32_t frames = inst->mod.period_frames;
	bool bypass = inst->on_fault == PT_ON_FAULT_BYPASS && j->nsrc &&
		      j->nsnk && !memcmp(&j->src[0].fmt, &j->snk[0].fmt,
					 sizeof(j->src[0].fmt));

	for (unsigned i = 0; i < j->nsrc; i++)
		j->src[i].consumed = 0;
	for (unsigned i = 0; i < j->nsnk; i++)
		j->snk[i].produced = 0;
	for (unsigned i = 0; i < j->nsnk; i++) {
		size_t room = j->snk[i].free / j->snk[i].frame;
		size_t n = frames < room ? frames : room;

		if (i == 0 && bypass) {
			size_t have = j->src[0].avail / j->src[0].frame;

			if (have < n) {
				pt_sink_fill_silence(&j->snk[0], n - have);
				n = have;
			}
			pt_copy_stream(&j->src[0], &j->snk[0],
				       n * j->src[0].frame);
			continue;
		}
		pt_sink_fill_silence(&j->snk[i], n);
	}
	for (unsigned i = 0; i < j->nsrc; i++) {
		size_t have = j->src[i].avail / j->src[i].frame;
		size_t n = frames < have ? frames : have;

		if (!(bypass && i == 0))
			j->src[i].consumed = n * j->src[i].frame;
	}
}

/* True when the default rule holds for the stand-in: a period on every
 * input (or the input is drained) and room for a period on every output. */
static bool stand_in_ready(const struct job *j)
{
	uint32_t frames = j->inst->mod.period_frames;

	for (unsigned i = 0; i < j->nsnk; i++)
		if (j->snk[i].free < (size_t)frames * j->snk[i].frame)
			return false;
	for (unsigned i = 0; i < j->nsrc; i++)
		if (j->src[i].avail < (size_t)frames * j->src[i].frame)
			return false;
	return true;
}

static void account(struct pt_sched *s, struct job *j)
{
	struct pt_instance *inst = j->inst;

	inst->stats.periods++;
	inst->stats.process_ns += j->ns;
	if (j->ns > inst->stats.worst_ns)
		inst->stats.worst_ns = j->ns;
	if (j->ret) {
		/* The period is lost for this instance, not the stream. */
		fprintf(stderr,
			"partita: instance '%s': process failed at period %llu: %s\n",
			inst->name, (unsigned long long)s->periods,
			inst->last_error[0] ? inst->last_error :
					      strerror(-j->ret));
		inst->stats.faults++;
		inst->stats.fault_period = s->periods;
		snprintf(inst->stats.fault_reason,
			 sizeof(inst->stats.fault_reason), "process: %s",
			 strerror(-j->ret));
		stand_in(j);
	}
}

int pt_sched_period(struct pt_sched *s)
{
	struct pt_graph *g = s->g;
	struct pt_instance *const *order;
	size_t n;
	struct job ll;
	uint64_t pass_t0, wait_t0;

	order = pt_graph_order(g, &n);
	if (s->trace)
		trace_tracks(s, order, n);
	pass_t0 = s->trace ? now_ns() : 0;

	/* 1. DP snapshot: every ready DP instance gets its views now. */
	pthread_mutex_lock(&s->lock);
	s->njobs = 0;
	s->next = 0;
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < n; i++) {
		struct pt_instance *inst = order[i];
		struct job *j;

		if (inst->sched != PT_SCHED_DP || !running(s, inst) ||
		    inst->state == PT_INSTANCE_INIT)
			continue;
		j = &s->jobs[s->njobs];
		job_views(j, inst);
		if (inst->state == PT_INSTANCE_FAILED) {
			if (stand_in_ready(j)) {
				stand_in(j);
				commit(j);
			}
			continue;
		}
		if (!pt_module_is_ready(&inst->mod, j->srcp, j->nsrc, j->snkp,
					j->nsnk))
			continue;
		s->njobs++;
	}
	if (s->njobs) {
		pthread_mutex_lock(&s->lock);
		s->remaining = s->njobs;
		s->epoch++;
		pthread_cond_broadcast(&s->work);
		pthread_mutex_unlock(&s->lock);
	}

	/* 2. The LL pass, in dependency order, committing as it goes. */
	for (size_t i = 0; i < n; i++) {
		struct pt_instance *inst = order[i];

		if (inst->sched != PT_SCHED_LL || !running(s, inst) ||
		    inst->state == PT_INSTANCE_INIT)
			continue;
		job_views(&ll, inst);
		if (inst->state == PT_INSTANCE_FAILED) {
			if (stand_in_ready(&ll)) {
				stand_in(&ll);
				commit(&ll);
			}
			continue;
		}
		if (!pt_module_is_ready(&inst->mod, ll.srcp, ll.nsrc, ll.snkp,
					ll.nsnk))
			continue;
		job_run(&ll);
		if (s->trace)
			pt_trace_span(s->trace, TRACK_HOST, inst->name, ll.t0, ll.ns);
		account(s, &ll);
		commit(&ll);
	}
	if (s->trace)
		pt_trace_span(s->trace, TRACK_HOST, "LL pass", pass_t0,
			      now_ns() - pass_t0);

	/* 3. Collect the DP results and commit them at the period's end. */
	if (s->njobs) {
		wait_t0 = now_ns();
		pthread_mutex_lock(&s->lock);
		while (s->remaining)
			pthread_cond_wait(&s->done, &s->lock);
		pthread_mutex_unlock(&s->lock);
		if (s->trace)
			pt_trace_span(s->trace, TRACK_HOST, "wait DP", wait_t0,
				      now_ns() - wait_t0);
		for (unsigned k = 0; k < s->njobs; k++) {
			struct job *j = &s->jobs[k];

			if (s->trace)
				pt_trace_span(s->trace, TRACK_DP(j->inst),
					      j->inst->name, j->t0, j->ns);

			if (j->ns > (uint64_t)j->inst->deadline_us * 1000u)
				j->inst->stats.deadline_misses++;
			account(s, j);
			commit(j);
		}
	}
	s->periods++;
	return 0;
}
