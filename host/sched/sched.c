/* SPDX-License-Identifier: MIT */
/*
 * host/sched - one step at a time: DP snapshot and dispatch, the LL pass in
 * dependency order (once per period of the step), then DP collection and
 * commit at the end of the step.
 *
 * A step is one period live, and dp_batch periods offline: a DP instance
 * then gets one request for as many periods as its buffers hold, up to the
 * batch, and calls process once per period inside it. Output never depends
 * on the batching: every module sees the same sequence of process calls.
 *
 * Why the views are safe to use concurrently: every buffer has one writer
 * and one reader. A DP instance's source view covers [rd, rd + fill) as it
 * was at the start of the step; during the step only the buffer's writer
 * adds data, past wr, outside that range. Its sink view covers the free
 * space [wr, wr + room) at the start; the reader only moves rd, which frees
 * space before the view. Only the host thread moves rd and wr, after the
 * calls, from counts it has checked.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host/domain/exec.h"
#include "host/graph/progress.h"
#include "lib/domain/protocol.h"
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
	unsigned max;     /* process calls allowed in this request */
	unsigned calls;   /* process calls made */
	unsigned errors;  /* calls that failed (each covered by a stand-in) */
	int ret;          /* the first failure */
	uint64_t t0[PT_DP_BATCH_MAX], ns[PT_DP_BATCH_MAX];
};

/* How a stage of the chain takes part this period. */
enum chain_part {
	CHAIN_RUN,    /* dispatched */
	CHAIN_LATE,   /* its last request is still running: a miss */
	CHAIN_HUNG,   /* ... and has been for hang_ms */
	CHAIN_FAILED, /* failed (now or before): a stand-in */
};

/* What the chain keeps per stage besides its job. */
struct chain_stage {
	unsigned pending;        /* stages of the chain that feed it */
	uint64_t deadline;
	int ret;
	bool accepted;
	char why[PT_ERR_MAX];
	int sig;
};

struct pt_sched {
	struct pt_graph *g;
	uint64_t periods;

	/* Trusted DP instances run on these workers. */
	pthread_t threads[PT_SCHED_THREADS_MAX];
	unsigned nthreads;
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	struct job *jobs;       /* trusted DP requests of this step */
	unsigned njobs, next, remaining;
	struct job *ijobs;      /* isolated DP requests of this step */
	unsigned nijobs;
	/* The in-period chain being built in the LL pass: isolated LL
	 * instances in dependency order, dispatched together. */
	struct job *cjobs;
	struct chain_stage *chain;
	unsigned nchain;
	uint64_t wave;
	uint64_t tags;
	uint64_t epoch;
	bool quit;

	struct pt_trace *trace; /* NULL: not tracing */
	uint64_t traced_generation;

	unsigned step;          /* periods per step, for this graph generation */
	uint64_t step_generation;
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

static void job_views(struct job *j, struct pt_instance *inst, unsigned max)
{
	j->inst = inst;
	j->nsrc = j->nsnk = 0;
	j->max = max;
	j->calls = j->errors = 0;
	j->ret = 0;
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

/* True when the default rule holds on what is left of the views: a period
 * on every input and room for a period on every output. */
static bool period_left(const struct job *j)
{
	return pt_default_ready(j->inst->mod.period_frames,
				(struct pt_source *const *)j->srcp, j->nsrc,
				(struct pt_sink *const *)j->snkp, j->nsnk);
}

/* One period of stand-in on what is left of the views: silence (or the
 * first input, for bypass) on every output, a period drained from every
 * input, so the streams around a failed call or instance keep their length
 * and timing. */
static void stand_in(struct job *j)
{
	struct pt_instance *inst = j->inst;
	size_t frames = inst->mod.period_frames;
	bool bypass = inst->on_fault == PT_ON_FAULT_BYPASS && j->nsrc &&
		      j->nsnk && !memcmp(&j->src[0].fmt, &j->snk[0].fmt,
					 sizeof(j->src[0].fmt));

	for (unsigned i = 0; i < j->nsnk; i++) {
		size_t room = pt_sink_frames_free(&j->snk[i]);
		size_t n = frames < room ? frames : room;

		if (i == 0 && bypass) {
			size_t have = pt_source_frames_available(&j->src[0]);
			size_t c = n < have ? n : have;

			pt_copy_stream(&j->src[0], &j->snk[0], c * j->src[0].frame);
			pt_sink_fill_silence(&j->snk[0], n - c);
			continue;
		}
		pt_sink_fill_silence(&j->snk[i], n);
	}
	for (unsigned i = bypass ? 1 : 0; i < j->nsrc; i++) {
		size_t have = pt_source_frames_available(&j->src[i]);

		pt_source_release(&j->src[i],
				  (frames < have ? frames : have) * j->src[i].frame);
	}
}

/* Calls process up to j->max times while the instance stays ready (the
 * caller checked the first time). A failed call's partial release and
 * commit are undone and the period is covered by a stand-in. */
static void job_run(struct job *j)
{
	struct pt_instance *inst = j->inst;
	size_t consumed[PT_MAX_PINS], produced[PT_MAX_PINS];

	for (unsigned k = 0; k < j->max; k++) {
		int ret;

		if (k && !pt_module_is_ready(&inst->mod, j->srcp, j->nsrc, j->snkp,
					     j->nsnk))
			break;
		for (unsigned i = 0; i < j->nsrc; i++)
			consumed[i] = j->src[i].consumed;
		for (unsigned i = 0; i < j->nsnk; i++)
			produced[i] = j->snk[i].produced;
		j->t0[k] = now_ns();
		ret = inst->mod.ops.process(&inst->mod, j->srcp, j->nsrc,
					    j->snkp, j->nsnk);
		j->ns[k] = now_ns() - j->t0[k];
		j->calls++;
		if (ret) {
			for (unsigned i = 0; i < j->nsrc; i++)
				j->src[i].consumed = consumed[i];
			for (unsigned i = 0; i < j->nsnk; i++)
				j->snk[i].produced = produced[i];
			if (!j->errors++)
				j->ret = ret;
			if (period_left(j))
				stand_in(j);
		}
	}
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

	if (!s || !(s->jobs = calloc(PT_MAX_INSTANCES, sizeof(*s->jobs))) ||
	    !(s->ijobs = calloc(PT_MAX_INSTANCES, sizeof(*s->ijobs))) ||
	    !(s->cjobs = calloc(PT_MAX_INSTANCES, sizeof(*s->cjobs))) ||
	    !(s->chain = calloc(PT_MAX_INSTANCES, sizeof(*s->chain)))) {
		if (s) {
			free(s->jobs);
			free(s->ijobs);
			free(s->cjobs);
		}
		free(s);
		snprintf(err, errlen, "out of host memory");
		return NULL;
	}
	s->g = g;
	s->wave = 1; /* 0: an instance never in a chain */
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
	free(s->ijobs);
	free(s->cjobs);
	free(s->chain);
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
		if (order[i]->sched != PT_SCHED_DP &&
		    order[i]->isolation != PT_ISOLATION_PROCESS)
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
	return pt_graph_pipeline_state(s->g, inst->pipeline) == PT_STATE_RUNNING &&
	       inst->state != PT_INSTANCE_INIT;
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
	pt_progress_account(j->inst, j->src, j->nsrc, j->snk, j->nsnk, j->max);
}

/* A failed instance: stand-ins for as many periods as the request allows. */
static void failed_periods(struct job *j)
{
	for (unsigned k = 0; k < j->max && period_left(j); k++)
		if (j->inst->host_bypass && j->inst->state != PT_INSTANCE_FAILED)
			pt_instance_bypass(j->inst, j->srcp, j->nsrc, j->snkp, j->nsnk);
		else
			stand_in(j);
}

static void account(struct pt_sched *s, struct job *j, int track)
{
	struct pt_instance *inst = j->inst;
	uint64_t deadline = (uint64_t)inst->deadline_us * 1000u;

	for (unsigned k = 0; k < j->calls; k++) {
		inst->stats.process_ns += j->ns[k];
		if (j->ns[k] > inst->stats.worst_ns)
			inst->stats.worst_ns = j->ns[k];
		if (inst->sched == PT_SCHED_DP && j->ns[k] > deadline)
			inst->stats.deadline_misses++;
		if (s->trace)
			pt_trace_span(s->trace, track, inst->name, j->t0[k], j->ns[k]);
	}
	inst->stats.periods += j->calls;
	if (j->errors) {
		/* Those periods are lost for this instance, not the stream. */
		fprintf(stderr,
			"partita: instance '%s': process failed %u time(s) near period %llu: %s\n",
			inst->name, j->errors, (unsigned long long)s->periods,
			inst->last_error[0] ? inst->last_error : strerror(-j->ret));
		inst->stats.faults += j->errors;
		inst->stats.fault_period = s->periods;
		snprintf(inst->stats.fault_reason,
			 sizeof(inst->stats.fault_reason), "process: %.54s",
			 inst->last_error[0] ? inst->last_error : strerror(-j->ret));
	}
}

/* ---- isolated instances ---- */

/* How long the host waits for a domain's result. Live: the instance's
 * deadline for each period of the step. Offline nothing is late for the
 * listener, so the wait is a watchdog that only a hung domain reaches; a
 * result that comes after the deadline is used and counted as a miss. */
static uint64_t wait_ns(const struct pt_graph *g, const struct pt_instance *inst,
			unsigned periods)
{
	uint64_t d = (uint64_t)inst->deadline_us * 1000u * periods;

	uint64_t h = (uint64_t)inst->hang_ms * 1000000u;

	if (!pt_graph_config(g)->offline)
		return d;
	/* Offline the wait is the hang watchdog, stretched for a batch. */
	return d * 50 > h ? d * 50 : h;
}

/* Periods before the next restart: 10, doubling with every restart, at
 * most 10240. */
static uint64_t backoff(const struct pt_instance *inst)
{
	uint64_t n = inst->stats.restarts < 10 ? inst->stats.restarts : 10;

	return 10ull << n;
}

/* Marks @inst failed, kills what is left of its domain and plans the
 * restart its policy allows. */
static void fault(struct pt_sched *s, struct pt_instance *inst, int sig,
		  const char *reason)
{
	/* RLIMIT_RTTIME stopped a real-time domain that ran without ever
	 * blocking: it hung. */
	if (sig == SIGXCPU)
		reason = "hung: exceeded its real-time CPU limit (SIGXCPU)";
	/* A config request waits on its domain with the lock let go: the
	 * control thread ends it if it must; this period was a miss. */
	if (pt_exec_control_busy(inst))
		return;
	pt_instance_fail(inst, s->periods, sig, reason);
	if (inst->exec)
		pt_exec_kill(inst);
	inst->inflight = false;
	if (inst->restart == PT_RESTART_ON_FAILURE &&
	    inst->stats.restarts < inst->restart_limit) {
		inst->restart_at = s->periods + backoff(inst);
		fprintf(stderr, "partita: instance '%s' restarts at period %llu\n",
			inst->name, (unsigned long long)inst->restart_at);
	}
}

/* A period this instance's result did not make: its output for the period
 * is a stand-in (silence or bypass), counted like an xrun. Late is not
 * hung: only a user's explicit max_misses fails an instance for misses. */
static void miss(struct pt_sched *s, struct job *j)
{
	struct pt_instance *inst = j->inst;
	char why[64];

	inst->stats.deadline_misses++;
	inst->consecutive_misses++;
	stand_in(j);
	if (inst->max_misses && inst->consecutive_misses >= inst->max_misses) {
		snprintf(why, sizeof(why), "hung: %u deadlines missed in a row",
			 inst->consecutive_misses);
		fault(s, inst, 0, why);
	}
}

/* True when the request in flight has gone unanswered for hang_ms. */
static bool hung(const struct pt_instance *inst)
{
	return now_ns() - inst->inflight_ns >= (uint64_t)inst->hang_ms * 1000000u;
}

static void hang(struct pt_sched *s, struct job *j)
{
	struct pt_instance *inst = j->inst;
	char why[64];

	inst->stats.deadline_misses++;
	snprintf(why, sizeof(why), "hung: no answer for %u ms", inst->hang_ms);
	fault(s, inst, 0, why);
	stand_in(j);
}

/* A request that missed its deadline is still running. If it has finished
 * by now, its result is dropped (the period was covered, and no position
 * ever moves for it) and the instance may go on; otherwise this period is
 * missed too, or, after hang_ms without an answer, the domain hangs.
 * Returns true when the instance can take a new request. */
static bool settle_late(struct pt_sched *s, struct job *j)
{
	struct pt_instance *inst = j->inst;
	size_t consumed[PT_MAX_PINS], produced[PT_MAX_PINS];
	char why[PT_ERR_MAX];
	int sig = 0, ret;

	ret = pt_exec_reap(inst, inst->inflight_tag, 0, consumed, produced, &sig,
			   why, sizeof(why));
	if (ret == -ETIMEDOUT) {
		if (hung(inst))
			hang(s, j);
		else
			miss(s, j);
		return false;
	}
	inst->inflight = false;
	if (ret == -EPIPE || ret == -EPROTO) {
		fault(s, inst, sig, why);
		stand_in(j);
		return false;
	}
	return true;
}

/* Views of an isolated instance: the host cannot run the module's own
 * readiness, so a module that overrides it is asked whenever it has data
 * or room at all, and decides in its domain. */
static bool isolated_ready(const struct job *j)
{
	if (!(j->inst->manifest.flags & PT_MOD_FLAG_CUSTOM_READY))
		return period_left(j);
	for (unsigned i = 0; i < j->nsrc; i++)
		if (!pt_source_frames_available(&j->src[i]))
			return false;
	for (unsigned i = 0; i < j->nsnk; i++)
		if (!pt_sink_frames_free(&j->snk[i]))
			return false;
	return true;
}

/* A submit refused by @inst's domain fails it: gone between periods
 * (killed while a control request ran, a domain-mate's fault), it says how. */
static void submit_failed(struct pt_sched *s, struct pt_instance *inst, int ret)
{
	char why[PT_ERR_MAX];
	int sig = 0;

	if (ret != -EPIPE || !pt_exec_dead(inst, &sig, why, sizeof(why)))
		snprintf(why, sizeof(why), "%s", ret == -EPIPE ? "domain died" : "submit refused");
	fault(s, inst, sig, why);
}

static void submit_isolated(struct pt_sched *s, struct job *j)
{
	struct pt_instance *inst = j->inst;
	int ret;

	inst->inflight_tag = ++s->tags;
	inst->inflight_ns = now_ns();
	ret = pt_exec_submit_batch(inst, j->src, j->nsrc, j->snk, j->nsnk, j->max,
				   inst->inflight_tag);
	if (ret) {
		submit_failed(s, inst, ret);
		stand_in(j);
		commit(j);
		return;
	}
	inst->inflight = true;
	s->nijobs++;
}

/* Collects one isolated result, checked by host/domain against the views,
 * and puts it in the views, or covers the period. */
static void reap_isolated(struct pt_sched *s, struct job *j, uint64_t start)
{
	struct pt_instance *inst = j->inst;
	size_t consumed[PT_MAX_PINS], produced[PT_MAX_PINS];
	char why[PT_ERR_MAX];
	int sig = 0, ret;

	uint64_t rt;
	unsigned calls;

	ret = pt_exec_reap(inst, inst->inflight_tag,
			   start + wait_ns(s->g, inst, j->max), consumed, produced,
			   &sig, why, sizeof(why));
	rt = now_ns() - start;
	switch (ret) {
	case 0:
	case -EIO: /* the module's process failed: that period only */
		inst->inflight = false;
		inst->consecutive_misses = 0;
		for (unsigned i = 0; i < j->nsrc; i++)
			j->src[i].consumed = consumed[i];
		for (unsigned i = 0; i < j->nsnk; i++)
			j->snk[i].produced = produced[i];
		/* The round trip, shared among the calls it carried; account()
		 * counts a call late past the deadline. */
		/* What the domain says it ran is bounded by what was asked; a
		 * module with its own readiness may have run none. */
		calls = pt_exec_periods_run(inst);
		calls = calls > j->max ? j->max : calls;
		for (unsigned k = 0; k < calls; k++) {
			j->t0[k] = start + k * (rt / calls);
			j->ns[k] = rt / calls;
		}
		j->calls = calls;
		if (ret) {
			j->errors = 1;
			j->ret = ret;
			snprintf(inst->last_error, sizeof(inst->last_error), "%s", why);
			if (period_left(j))
				stand_in(j);
		}
		break;
	case -ETIMEDOUT:
		if (hung(inst))
			hang(s, j);
		else
			miss(s, j);
		break;
	default: /* -EPIPE: died; -EPROTO: lied */
		fault(s, inst, sig, why);
		stand_in(j);
		break;
	}
}

unsigned pt_sched_domains_died(struct pt_sched *s)
{
	struct pt_instance *inst;
	char why[PT_ERR_MAX];
	unsigned n = 0;
	int sig;

	for (size_t i = 0; (inst = pt_graph_instance_at(s->g, i)); i++) {
		if (inst->isolation != PT_ISOLATION_PROCESS ||
		    inst->state == PT_INSTANCE_FAILED || !inst->exec ||
		    pt_exec_control_busy(inst))
			continue;
		sig = 0;
		if (pt_exec_dead(inst, &sig, why, sizeof(why))) {
			fault(s, inst, sig, why);
			n++;
		}
	}
	return n;
}

/* A failed instance whose restart is due comes back. */
static void maybe_restart(struct pt_sched *s, struct pt_instance *inst)
{
	char err[PT_ERR_MAX + 64];

	if (!inst->restart_at || s->periods < inst->restart_at ||
	    pt_exec_control_busy(inst))
		return;
	inst->restart_at = 0;
	if (pt_graph_instance_restart(s->g, inst, err, sizeof(err))) {
		fprintf(stderr, "partita: restart of '%s' failed: %s\n", inst->name,
			err);
		if (inst->stats.restarts + 1 < inst->restart_limit) {
			inst->stats.restarts++;
			inst->restart_at = s->periods + backoff(inst);
		}
		return;
	}
	fprintf(stderr, "partita: instance '%s' restarted (restart %llu) at period %llu\n",
		inst->name, (unsigned long long)inst->stats.restarts,
		(unsigned long long)s->periods);
}

/* The step: the configured batch, but no more than half of any buffer a
 * DP instance reads or writes, so a batch always fits beside the one its
 * neighbour holds. */
static unsigned step_periods(struct pt_sched *s)
{
	struct pt_buffer *b;
	unsigned step;

	if (s->step_generation == pt_graph_generation(s->g) && s->step)
		return s->step;
	step = pt_graph_config(s->g)->dp_batch;
	for (size_t i = 0; (b = pt_graph_buffer_at(s->g, i)); i++)
		if ((b->src->sched == PT_SCHED_DP || b->dst->sched == PT_SCHED_DP) &&
		    b->periods / 2 < step)
			step = b->periods / 2;
	s->step = step ? step : 1;
	s->step_generation = pt_graph_generation(s->g);
	return s->step;
}

unsigned pt_sched_step(struct pt_sched *s)
{
	return step_periods(s);
}

/* ---- in-period chains of isolated LL instances ----
 *
 * In the LL pass, isolated LL instances are not run by the host: each gets
 * a CHAIN request for this period, and they run in their domains in
 * dependency order, each woken by the stages that feed it through its
 * activation record (lib/domain/protocol.h). The host wakes the first
 * stages, waits for the last ones (one deadline), then commits in order.
 *
 * A stage's source fed by an earlier stage of the same chain is offered
 * what is there now plus the period that stage is to write. Its result is
 * accepted only when every stage feeding it was accepted and what it
 * consumed is within what those stages really committed; otherwise its
 * period is a stand-in: a stage that lies, crashes or misses spoils its
 * own output and what depends on it, for that period, never a position.
 */

static bool in_chain(const struct pt_sched *s, const struct pt_instance *inst)
{
	return inst && inst->chain_wave == s->wave;
}

/* Index of @inst in the chain being built (it is in it). */
static unsigned chain_index(const struct pt_sched *s, const struct pt_instance *inst)
{
	unsigned k = 0;

	while (k < s->nchain && s->cjobs[k].inst != inst)
		k++;
	return k;
}


static bool reads_chain(const struct pt_sched *s, const struct pt_instance *inst);
static void chain_run(struct pt_sched *s);

/* Adds an isolated LL instance to the chain. One that cannot run this
 * period (failed, or its last request still running) ends the chain
 * before it, as a trusted reader does: its stand-in is written once the
 * stages that feed it have committed (it drains the period they wrote),
 * and before the stages it feeds are dispatched (they read it). */
static void chain_add(struct pt_sched *s, struct pt_instance *inst)
{
	struct job *j = &s->cjobs[s->nchain];
	enum chain_part part = CHAIN_RUN;
	unsigned k = 0;

	if (inst->state == PT_INSTANCE_FAILED)
		maybe_restart(s, inst);
	if (inst->state == PT_INSTANCE_FAILED) {
		part = CHAIN_FAILED;
	} else if (inst->inflight) {
		size_t consumed[PT_MAX_PINS], produced[PT_MAX_PINS];
		char why[PT_ERR_MAX];
		int sig = 0, ret;

		/* A late result is dropped: no position moves for it. */
		ret = pt_exec_reap(inst, inst->inflight_tag, 0, consumed, produced,
				   &sig, why, sizeof(why));
		if (ret == -ETIMEDOUT) {
			part = hung(inst) ? CHAIN_HUNG : CHAIN_LATE;
		} else {
			inst->inflight = false;
			if (ret == -EPIPE || ret == -EPROTO) {
				fault(s, inst, sig, why);
				part = CHAIN_FAILED;
			}
		}
	}
	if (part != CHAIN_RUN) {
		if (s->nchain && reads_chain(s, inst))
			chain_run(s);
		j = &s->cjobs[s->nchain];
		job_views(j, inst, 1);
		if (part == CHAIN_LATE)
			miss(s, j);
		else if (part == CHAIN_HUNG)
			hang(s, j);
		else
			failed_periods(j);
		commit(j);
		return;
	}
	job_views(j, inst, 1);
	/* What a feeding stage of this chain will write this period. */
	for (unsigned p = 0; p < PT_MAX_PINS; p++) {
		struct pt_buffer *b = inst->in[p];
		size_t period, add;

		if (!b)
			continue;
		if (in_chain(s, b->src)) {
			period = (size_t)b->src->mod.period_frames * b->frame;
			add = pt_buffer_room(b) < period ? pt_buffer_room(b) : period;
			j->src[k].avail += add;
		}
		k++;
	}
	if (!isolated_ready(j))
		return;
	inst->chain_wave = s->wave;
	s->nchain++;
}

/* True when @inst reads what a stage of the chain writes. */
static bool reads_chain(const struct pt_sched *s, const struct pt_instance *inst)
{
	for (unsigned p = 0; p < PT_MAX_PINS; p++)
		if (inst->in[p] && in_chain(s, inst->in[p]->src))
			return true;
	return false;
}

/* A stage's period that is not accepted: a stand-in on its real views. */
static void chain_stand_in(struct job *j)
{
	job_views(j, j->inst, 1);
	stand_in(j);
}

/* Dispatches the chain, waits for it and commits it in order. */
static void chain_run(struct pt_sched *s)
{
	uint64_t t0 = now_ns(), wait_t0;
	unsigned n = s->nchain;

	/* Epochs and records first: a stage may finish and notify the next
	 * as soon as it is published. */
	for (unsigned k = 0; k < n; k++) {
		struct pt_instance *inst = s->cjobs[k].inst;

		inst->act_epoch = (uint16_t)(inst->act_epoch % 65535u + 1u);
	}
	for (unsigned k = 0; k < n; k++) {
		struct pt_instance *inst = s->cjobs[k].inst;
		struct pt_instance *up[PT_MAX_PINS];
		unsigned nup = 0;


		for (unsigned p = 0; p < PT_MAX_PINS; p++) {
			struct pt_instance *w = inst->in[p] ? inst->in[p]->src : NULL;
			bool seen = false;

			for (unsigned i = 0; i < nup; i++)
				seen |= up[i] == w;
			if (in_chain(s, w) && !seen)
				up[nup++] = w;
		}
		__atomic_store_n((uint32_t *)inst->activation->map,
				 (uint32_t)inst->act_epoch << PT_ACTIVATION_EPOCH_SHIFT | nup,
				 __ATOMIC_RELEASE);
		s->chain[k].pending = nup;
	}
	for (unsigned k = 0; k < n; k++) {
		struct job *j = &s->cjobs[k];
		struct pt_instance *inst = j->inst, *down[PT_MAX_PINS];
		struct chain_stage *c = &s->chain[k];
		unsigned ndown = 0;
		bool first = c->pending == 0;
		int ret;

		c->accepted = false;
		for (unsigned p = 0; p < PT_MAX_PINS; p++) {
			struct pt_instance *r = inst->out[p] ? inst->out[p]->dst : NULL;
			bool seen = false;

			for (unsigned i = 0; i < ndown; i++)
				seen |= down[i] == r;
			if (in_chain(s, r) && !seen)
				down[ndown++] = r;
		}
		c->deadline = t0 + wait_ns(s->g, inst, 1);
		c->accepted = false;
		c->sig = 0;
		c->why[0] = '\0';
		inst->inflight_tag = ++s->tags;
		inst->inflight_ns = t0;
		ret = pt_exec_submit_chain(inst, j->src, j->nsrc, j->snk, j->nsnk,
					   inst->inflight_tag, inst->act_epoch, c->deadline,
					   down, ndown, first);
		if (ret) {
			submit_failed(s, inst, ret);
			c->ret = -EPIPE;
			continue;
		}
		inst->inflight = true;
		c->ret = 1; /* in flight */
	}
	pt_exec_flush();

	/* The last stages first: when they are done, the others are too, so
	 * the host sleeps once for the whole chain. */
	wait_t0 = now_ns();
	for (unsigned k = n; k-- > 0;) {
		struct job *j = &s->cjobs[k];
		struct chain_stage *c = &s->chain[k];
		size_t consumed[PT_MAX_PINS], produced[PT_MAX_PINS];

		if (c->ret != 1)
			continue;
		c->ret = pt_exec_reap(j->inst, j->inst->inflight_tag, c->deadline,
				      consumed, produced, &c->sig, c->why, sizeof(c->why));
		if (c->ret == 0 || c->ret == -EIO) {
			for (unsigned i = 0; i < j->nsrc; i++)
				j->src[i].consumed = consumed[i];
			for (unsigned i = 0; i < j->nsnk; i++)
				j->snk[i].produced = produced[i];
		}
		/* Not done by the deadline: most often its feeders were late
		 * and its domain, published to without a wake, never saw the
		 * request. Cancelled and woken, it answers at once. */
		if (c->ret == -ETIMEDOUT)
			pt_exec_chain_cancel(j->inst);
	}
	if (s->trace)
		pt_trace_span(s->trace, TRACK_HOST, "wait chain", wait_t0, now_ns() - wait_t0);

	for (unsigned k = 0; k < n; k++) {
		struct job *j = &s->cjobs[k];
		struct chain_stage *c = &s->chain[k];
		struct pt_instance *inst = j->inst;
		uint64_t rt = now_ns() - t0;
		bool fed = true;
		unsigned i = 0;

		switch (c->ret) {
		case 0:
		case -EIO:
		case -ECANCELED:
			inst->inflight = false;
			break;
		case -ETIMEDOUT:
			job_views(j, inst, 1);
			if (hung(inst))
				hang(s, j);
			else
				miss(s, j);
			commit(j);
			continue;
		case -EPIPE:
		case -EPROTO:
			if (c->ret == -EPROTO || inst->state != PT_INSTANCE_FAILED)
				fault(s, inst, c->sig, c->why);
			/* fall through */
		default:
			chain_stand_in(j);
			commit(j);
			continue;
		}
		/* Fed only by accepted stages, and no more read than they and
		 * the earlier periods really left in each buffer. */
		for (unsigned p = 0; p < PT_MAX_PINS; p++) {
			struct pt_buffer *b = inst->in[p];

			if (!b)
				continue;
			if (in_chain(s, b->src) &&
			    (!s->chain[chain_index(s, b->src)].accepted ||
			     j->src[i].consumed > pt_buffer_fill(b)))
				fed = false;
			i++;
		}
		if (c->ret == -EIO) {
			j->calls = 1;
			j->t0[0] = t0;
			j->ns[0] = rt;
			j->errors = 1;
			j->ret = -EIO;
			snprintf(inst->last_error, sizeof(inst->last_error), "%s", c->why);
			account(s, j, TRACK_DP(inst));
			chain_stand_in(j);
			commit(j);
			continue;
		}
		if (c->ret == -ECANCELED || !fed) {
			/* Spoiled by what feeds it: its period is a stand-in. */
			inst->stats.deadline_misses++;
			chain_stand_in(j);
			commit(j);
			continue;
		}
		inst->consecutive_misses = 0;
		j->calls = pt_exec_periods_run(inst) ? 1 : 0;
		j->t0[0] = t0;
		j->ns[0] = rt;
		c->accepted = true;
		account(s, j, TRACK_DP(inst));
		commit(j);
	}
	s->nchain = 0;
	s->wave++;
}

int pt_sched_period(struct pt_sched *s)
{
	struct pt_graph *g = s->g;
	unsigned batch = step_periods(s);
	struct pt_instance *const *order;
	uint64_t t0, wait_t0, dispatch_ns;
	struct job ll;
	unsigned njobs;
	bool live[PT_MAX_INSTANCES];
	size_t n;

	order = pt_graph_order(g, &n);
	if (s->trace)
		trace_tracks(s, order, n);
	/* Pipeline states cannot change during a step: look them up once,
	 * not in every LL pass. */
	for (size_t i = 0; i < n; i++)
		live[i] = running(s, order[i]);
	/* No writer waits on a reader that lags or failed (progress.h). */
	pt_progress_unblock(g, batch);

	/* 1. DP snapshot: every ready DP instance gets its views now. */
	/* The trusted DP jobs are counted in njobs and published to the
	 * workers under the lock below: a worker still waking from the last
	 * step must never see a job count it could take from while the views
	 * are being built. */
	njobs = 0;
	s->nijobs = 0;
	for (size_t i = 0; i < n; i++) {
		struct pt_instance *inst = order[i];
		struct job *j;

		if (inst->sched != PT_SCHED_DP || !live[i])
			continue;
		if (inst->state == PT_INSTANCE_FAILED)
			maybe_restart(s, inst);
		j = inst->isolation == PT_ISOLATION_PROCESS ? &s->ijobs[s->nijobs] :
							      &s->jobs[njobs];
		job_views(j, inst, batch);
		/* A host bypass stands in for the module as a stand-in does. */
		if (inst->state == PT_INSTANCE_FAILED ||
		    (inst->host_bypass && !inst->inflight)) {
			failed_periods(j);
			commit(j);
			continue;
		}
		if (inst->isolation == PT_ISOLATION_PROCESS) {
			if (inst->inflight && !settle_late(s, j)) {
				commit(j);
				continue;
			}
			if (isolated_ready(j))
				submit_isolated(s, j);
			continue;
		}
		if (!pt_module_is_ready(&inst->mod, j->srcp, j->nsrc, j->snkp,
					j->nsnk)) {
			commit(j); /* nothing moved: counts in its lag */
			continue;
		}
		njobs++;
	}
	/* One wake per domain for all of its requests. */
	dispatch_ns = now_ns();
	if (s->nijobs)
		pt_exec_flush();
	pthread_mutex_lock(&s->lock);
	s->njobs = njobs;
	s->next = 0;
	s->remaining = njobs;
	if (njobs) {
		s->epoch++;
		pthread_cond_broadcast(&s->work);
	}
	pthread_mutex_unlock(&s->lock);

	/* 2. The LL pass, once per period of the step, in dependency order,
	 * committing as it goes. */
	for (unsigned k = 0; k < batch; k++) {
		t0 = s->trace ? now_ns() : 0;
		for (size_t i = 0; i < n; i++) {
			struct pt_instance *inst = order[i];

			if (inst->sched != PT_SCHED_LL || !live[i])
				continue;
			if (inst->isolation == PT_ISOLATION_PROCESS) {
				chain_add(s, inst);
				continue;
			}
			/* What the chain writes is read after it ran. */
			if (s->nchain && reads_chain(s, inst))
				chain_run(s);
			job_views(&ll, inst, 1);
			if (inst->state == PT_INSTANCE_FAILED || inst->host_bypass) {
				failed_periods(&ll);
				commit(&ll);
				continue;
			}
			if (!pt_module_is_ready(&inst->mod, ll.srcp, ll.nsrc,
						ll.snkp, ll.nsnk)) {
				commit(&ll); /* nothing moved: counts in its lag */
				continue;
			}
			job_run(&ll);
			account(s, &ll, TRACK_HOST);
			commit(&ll);
		}
		if (s->nchain)
			chain_run(s);
		if (s->trace)
			pt_trace_span(s->trace, TRACK_HOST, "LL pass", t0,
				      now_ns() - t0);
		s->periods++;
	}

	/* 3. Collect the DP results and commit them at the step's end. */
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
			account(s, &s->jobs[k], TRACK_DP(s->jobs[k].inst));
			commit(&s->jobs[k]);
		}
	}
	for (unsigned k = 0; k < s->nijobs; k++) {
		struct job *j = &s->ijobs[k];

		wait_t0 = now_ns();
		reap_isolated(s, j, dispatch_ns);
		if (s->trace)
			pt_trace_span(s->trace, TRACK_HOST, "wait domain", wait_t0,
				      now_ns() - wait_t0);
		account(s, j, TRACK_DP(j->inst));
		commit(j);
	}
	for (size_t i = 0; i < n; i++) {
		char why[64];

		if (pt_exec_control_busy(order[i]) ||
		    !pt_progress_stalled(order[i], why, sizeof(why)))
			continue;
		/* A member of a named domain answers; ending the domain
		 * would fail its well members too. */
		if (order[i]->domain[0] && order[i]->exec) {
			pt_instance_fail(order[i], s->periods, 0, why);
			order[i]->inflight = false;
		} else
			fault(s, order[i], 0, why);
	}
	/* What the domains logged, every 128 periods: one read each that
	 * finds nothing most of the time. Live, the lines are written by the
	 * I/O thread (graph.c), never here. */
	if (!(s->periods & 127))
		pt_exec_drain_logs();
	return 0;
}
