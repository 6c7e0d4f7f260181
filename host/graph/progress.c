/* SPDX-License-Identifier: MIT */
/*
 * host/graph/progress - lags per pin, the no-progress rule, and writers
 * that a lagging reader does not hold back (progress.h).
 *
 * Units: a lag is kept in frames at the pin's rate times the rate the
 * instance's period was counted at (its first input's, else its first
 * output's), so that an offered period adds period_frames * pin_rate and a
 * moved frame takes base_rate away: whole numbers, exact for any
 * pair of rates.
 */
#include <stdio.h>
#include <string.h>

#include "host/graph/progress.h"

/* Endpoints follow their files and devices. */
static bool judged(const struct pt_instance *inst)
{
	return !inst->progress.endpoint;
}

static int64_t limit_periods(const struct pt_instance *inst)
{
	return inst->progress.periods ? inst->progress.periods :
					PT_PROGRESS_PERIODS_DEFAULT;
}

/* Adds @n offered periods and @moved frames to @lag; true when the limit
 * is reached. */
static bool lag_add(int64_t *lag, unsigned n, uint32_t period, uint32_t rate,
		    uint32_t base, size_t moved, size_t buffer_frames,
		    int64_t limit)
{
	int64_t floor = -(int64_t)buffer_frames * base;

	*lag += (int64_t)n * period * rate - (int64_t)moved * base;
	if (*lag < floor)
		*lag = floor;
	return *lag >= limit * period * (int64_t)rate;
}

static size_t aligned(size_t frames, uint32_t align)
{
	return align > 1 ? frames - frames % align : frames;
}

void pt_progress_account(struct pt_instance *inst, const struct pt_source *src,
			 unsigned nsrc, const struct pt_sink *snk, unsigned nsnk,
			 unsigned max)
{
	struct pt_progress *p = &inst->progress;
	uint32_t period = inst->mod.period_frames, base;
	unsigned n = max;
	int64_t limit = limit_periods(inst);
	const char *side = NULL;
	unsigned pin = 0;

	if (inst->state == PT_INSTANCE_FAILED || !judged(inst) || !period ||
	    (!nsrc && !nsnk))
		return;
	/* Offered: the periods the default readiness rule allowed, counting
	 * only whole multiples of a pin's frame alignment as that rule does. */
	for (unsigned i = 0; i < nsrc; i++) {
		size_t k = src[i].frame ? aligned(src[i].avail / src[i].frame,
						  src[i].frame_align) / period : 0;

		n = k < n ? (unsigned)k : n;
	}
	for (unsigned i = 0; i < nsnk; i++) {
		size_t k = snk[i].frame ? aligned(snk[i].free / snk[i].frame,
						  snk[i].frame_align) / period : 0;

		n = k < n ? (unsigned)k : n;
	}
	base = nsrc ? src[0].fmt.rate : snk[0].fmt.rate;
	for (unsigned i = 0; i < nsrc; i++)
		if (src[i].frame &&
		    lag_add(&p->lag_in[i], n, period, src[i].fmt.rate, base,
			    src[i].consumed / src[i].frame, src[i].size / src[i].frame,
			    limit) && !side) {
			side = "input";
			pin = i;
		}
	for (unsigned i = 0; i < nsnk; i++)
		if (snk[i].frame &&
		    lag_add(&p->lag_out[i], n, period, snk[i].fmt.rate, base,
			    snk[i].produced / snk[i].frame, snk[i].size / snk[i].frame,
			    limit) && !side) {
			side = "output";
			pin = i;
		}
	if (side && !p->stalled) {
		p->stalled = true;
		snprintf(p->why, sizeof(p->why), "no progress for %lld periods (%s %u)",
			 (long long)limit, side, pin);
	}
}

bool pt_progress_stalled(struct pt_instance *inst, char *why, size_t whylen)
{
	if (!inst->progress.stalled)
		return false;
	inst->progress.stalled = false;
	snprintf(why, whylen, "%s", inst->progress.why);
	return inst->state != PT_INSTANCE_FAILED;
}

void pt_progress_reset(struct pt_instance *inst)
{
	memset(inst->progress.lag_in, 0, sizeof(inst->progress.lag_in));
	memset(inst->progress.lag_out, 0, sizeof(inst->progress.lag_out));
	inst->progress.stalled = false;
}

/* The packed index of pin @pin among @pins. */
static unsigned packed(struct pt_buffer *const *pins, unsigned pin)
{
	unsigned k = 0;

	for (unsigned p = 0; p < pin; p++)
		k += pins[p] != NULL;
	return k;
}

/* A period at @b's rate, in the lag units of @inst. */
static int64_t one_period(const struct pt_instance *inst, const struct pt_buffer *b)
{
	return (int64_t)inst->mod.period_frames * b->fmt.rate;
}

/* The lag on @b that counts as holding its writer back: as many periods
 * as @b holds. An honest reader whose own readiness waits for more than a
 * period (a block size, a frame alignment) lags by less than its buffer, so
 * nothing of its stream is dropped; one that leaves a whole buffer's worth
 * of offered periods untaken is stalling. */
static int64_t lag_bound(const struct pt_instance *inst, const struct pt_buffer *b)
{
	uint32_t period = inst->mod.period_frames;
	size_t periods = b->frame && period ? b->size / b->frame / period : 1;

	return one_period(inst, b) * (int64_t)(periods > 1 ? periods : 1);
}

/* True when the reader of @b holds its writer back for no fault of the
 * writer: the reader failed, or lags on @b by its buffer or more, or waits
 * on another input whose writer lags by its buffer or more on it (a mixer
 * with a leg that does not produce: its other legs are not held back). */
static bool reader_lags(const struct pt_buffer *b)
{
	const struct pt_instance *r = b->dst;

	if (r->state == PT_INSTANCE_FAILED)
		return true;
	if (!judged(r) || !r->mod.period_frames)
		return false;
	if (r->progress.lag_in[packed(r->in, b->dst_pin)] >= lag_bound(r, b))
		return true;
	for (unsigned p = 0; p < PT_MAX_PINS; p++) {
		const struct pt_buffer *o = r->in[p];
		const struct pt_instance *w = o ? o->src : NULL;

		if (!o || o == b || !judged(w) || !w->mod.period_frames ||
		    w->state == PT_INSTANCE_FAILED)
			continue;
		if (w->progress.lag_out[packed(w->out, o->src_pin)] >= lag_bound(w, o))
			return true;
	}
	return false;
}

void pt_progress_unblock(struct pt_graph *g, unsigned periods)
{
	struct pt_buffer *b;

	for (size_t i = 0; (b = pt_graph_buffer_at(g, i)); i++) {
		size_t need = (size_t)periods * pt_graph_period_frames(g, b->fmt.rate) *
			      b->frame;
		size_t drop;

		if (need > b->size)
			need = b->size;
		if (pt_buffer_room(b) >= need || b->dst->inflight ||
		    pt_graph_pipeline_state(g, b->dst->pipeline) != PT_STATE_RUNNING ||
		    !reader_lags(b))
			continue;
		drop = need - pt_buffer_room(b);
		drop -= drop % b->frame;
		b->rd += drop;
		b->dst->stats.dropped_frames += drop / b->frame;
		b->dst->stats.drops++;
	}
}
