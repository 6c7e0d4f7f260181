/* SPDX-License-Identifier: MIT */
#include "tests/domain/rig.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/abi/abi.h"

const struct pt_format rig_fmt = { RIG_RATE, RIG_CHANNELS, PT_SAMPLE_FLOAT_LE };

#define FRAME (RIG_CHANNELS * sizeof(float))

static uint64_t rig_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *rig_built(const char *rel)
{
	static char path[4096];
	const char *b = getenv("PARTITA_BUILD");

	snprintf(path, sizeof(path), "%s/%s", b ? b : "build", rel);
	return path;
}

void rig_buffer(struct pt_budget *b, struct pt_buffer *buf, uint32_t id)
{
	rig_buffer_deep(b, buf, id, RIG_DEPTH);
}

void rig_buffer_deep(struct pt_budget *b, struct pt_buffer *buf, uint32_t id,
		     unsigned periods)
{
	char err[256], name[32];

	memset(buf, 0, sizeof(*buf));
	snprintf(name, sizeof(name), "buffer%u", id);
	buf->id = id;
	buf->size = periods * RIG_PERIOD * FRAME;
	buf->part = pt_partition_create(b, PT_PARTITION_BUFFER, name, name,
					buf->size, err, sizeof(err));
	if (!buf->part) {
		fprintf(stderr, "rig_buffer: %s\n", err);
		abort();
	}
	buf->data = buf->part->map;
	buf->fmt = rig_fmt;
	buf->frame = FRAME;
}

void rig_buffer_free(struct pt_buffer *buf)
{
	pt_partition_put(buf->part);
	buf->part = NULL;
}

void rig_instance(struct pt_instance *inst, uint32_t id, const char *name,
		  const char *library, const char *init, const char *domain)
{
	memset(inst, 0, sizeof(*inst));
	inst->id = id;
	snprintf(inst->name, sizeof(inst->name), "%s", name);
	snprintf(inst->library, sizeof(inst->library), "%s", library);
	snprintf(inst->domain, sizeof(inst->domain), "%s", domain ? domain : "");
	inst->isolation = PT_ISOLATION_PROCESS;
	inst->sched = PT_SCHED_DP;
	inst->init = (void *)init;
	inst->init_size = init ? strlen(init) : 0;
}

void rig_bind_in(struct pt_instance *inst, struct pt_buffer *buf)
{
	inst->in[0] = buf;
	buf->dst = inst;
}

void rig_bind_out(struct pt_instance *inst, struct pt_buffer *buf)
{
	inst->out[0] = buf;
	buf->src = inst;
}

void rig_feed(struct pt_buffer *buf, const float *pcm, size_t frames)
{
	const uint8_t *p = (const uint8_t *)pcm;

	for (size_t i = 0; i < frames * FRAME; i++)
		buf->data[(buf->wr + i) % buf->size] = p[i];
	buf->wr += frames * FRAME;
}

size_t rig_take(struct pt_buffer *buf, float *pcm, size_t frames)
{
	size_t bytes = frames * FRAME;
	uint8_t *p = (uint8_t *)pcm;

	if (bytes > pt_buffer_fill(buf))
		bytes = pt_buffer_fill(buf) / FRAME * FRAME;
	for (size_t i = 0; i < bytes; i++)
		p[i] = buf->data[(buf->rd + i) % buf->size];
	buf->rd += bytes;
	return bytes / FRAME;
}

int rig_step(struct pt_instance *inst, uint64_t tag, uint64_t timeout_ns,
	     int *signal, char *why, size_t whylen)
{
	return rig_step_batch(inst, tag, 1, timeout_ns, signal, why, whylen);
}

int rig_step_batch(struct pt_instance *inst, uint64_t tag, unsigned periods,
		   uint64_t timeout_ns, int *signal, char *why, size_t whylen)
{
	struct pt_buffer *bi = inst->in[0], *bo = inst->out[0];
	struct pt_source src;
	struct pt_sink snk;
	size_t consumed[PT_MAX_PINS], produced[PT_MAX_PINS];
	int ret;

	pt_source_view(&src, bi->data, bi->size, bi->rd % bi->size,
		       pt_buffer_fill(bi), &bi->fmt);
	pt_sink_view(&snk, bo->data, bo->size, bo->wr % bo->size,
		     pt_buffer_room(bo), &bo->fmt);
	ret = pt_exec_submit_batch(inst, &src, 1, &snk, 1, periods, tag);
	if (ret) {
		snprintf(why, whylen, "submit: %d", ret);
		return ret;
	}
	pt_exec_flush();
	ret = pt_exec_reap(inst, tag, rig_now_ns() + timeout_ns, consumed,
			   produced, signal, why, whylen);
	if (ret == 0) {
		bi->rd += consumed[0];
		bo->wr += produced[0];
	}
	return ret;
}

void rig_signal(float *pcm, size_t frames, uint64_t k)
{
	/* A fixed LCG: noise and a ramp, the same every run. */
	uint32_t s = (uint32_t)(k * 2654435761u + 12345u);

	for (size_t i = 0; i < frames * RIG_CHANNELS; i++) {
		s = s * 1664525u + 1013904223u;
		pcm[i] = (float)((int32_t)s >> 8) / (float)(1 << 23) * 0.5f +
			 (float)((k * frames * RIG_CHANNELS + i) % 997) / 997.0f * 0.25f;
	}
}

int rig_trusted(const char *library, const char *init, unsigned periods,
		const char *config_at_half, float *out)
{
	uint8_t inbuf[RIG_DEPTH * RIG_PERIOD * FRAME], outbuf[RIG_DEPTH * RIG_PERIOD * FRAME];
	float pcm[RIG_PERIOD * RIG_CHANNELS];
	const struct pt_module_entry *entry;
	struct pt_module mod;
	struct pt_source src, *sp = &src;
	struct pt_sink snk, *kp = &snk;
	uint64_t rd = 0, wr = 0, ord = 0, owr = 0;
	size_t heap_size = 1 << 20;
	void *heap = aligned_alloc(64, heap_size);
	void *dl = dlopen(library, RTLD_NOW | RTLD_LOCAL);
	int ret;

	if (!dl || !heap) {
		fprintf(stderr, "rig_trusted: %s\n", dl ? "no memory" : dlerror());
		free(heap);
		return -ENOENT;
	}
	entry = dlsym(dl, PT_MODULE_ENTRY_SYMBOL);
	ret = pt_module_init(&mod, entry, "trusted", RIG_PERIOD, heap, heap_size,
			     init, init ? strlen(init) : 0);
	if (ret)
		goto out;
	pt_source_view(&src, inbuf, sizeof(inbuf), 0, 0, &rig_fmt);
	pt_sink_view(&snk, outbuf, sizeof(outbuf), 0, sizeof(outbuf), &rig_fmt);
	if (entry->ops->prepare && (ret = entry->ops->prepare(&mod, &sp, 1, &kp, 1)))
		goto out;
	for (unsigned k = 0; k < periods; k++) {
		size_t bytes = RIG_PERIOD * FRAME;

		if (config_at_half && k == periods / 2 &&
		    (ret = entry->ops->set_config(&mod, PT_PARAM_TEXT, config_at_half,
						  strlen(config_at_half))))
			goto out;
		rig_signal(pcm, RIG_PERIOD, k);
		for (size_t i = 0; i < bytes; i++)
			inbuf[(wr + i) % sizeof(inbuf)] = ((uint8_t *)pcm)[i];
		wr += bytes;
		pt_source_view(&src, inbuf, sizeof(inbuf), rd % sizeof(inbuf), wr - rd, &rig_fmt);
		pt_sink_view(&snk, outbuf, sizeof(outbuf), owr % sizeof(outbuf),
			     sizeof(outbuf) - (owr - ord), &rig_fmt);
		ret = entry->ops->process(&mod, &sp, 1, &kp, 1);
		if (ret)
			goto out;
		rd += src.consumed;
		owr += snk.produced;
		for (; ord < owr; ord++)
			((uint8_t *)out)[ord] = outbuf[ord % sizeof(outbuf)];
	}
out:
	pt_module_free(&mod);
	dlclose(dl);
	free(heap);
	return ret;
}
