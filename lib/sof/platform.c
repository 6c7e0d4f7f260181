/* SPDX-License-Identifier: MIT */
/*
 * lib/sof/platform.c - what a firmware module gets from the firmware's
 * RTOS and platform, on Partita: allocation from the calling instance's
 * private heap, the registration of its component driver, the global
 * context, the IPC4 helpers that turn a base config into stream
 * parameters, and the module-adapter services (mod_alloc, mod_free, data
 * blob handlers) its code calls.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <partita/module.h>

#include <rtos/alloc.h>
#include <rtos/sof.h>
#include <sof/audio/module_adapter/module/generic.h>
#include <sof/audio/buffer.h>
#include <sof/audio/component.h>
#include <sof/audio/data_blob.h>
#include <ipc/control.h>
#include <ipc4/base-config.h>

#include "sof.h"

uint8_t pt_sof_mailbox[6 * PT_SOF_MAILBOX_WINDOW];

/* The drivers the library's constructors registered; the manifest's UUID
 * (pt_sof_uuid, written by partita-sof-build) says which one it is. */
#define DRIVERS_MAX 8
static const struct comp_driver *registered[DRIVERS_MAX];
static unsigned nregistered;
extern const unsigned char pt_sof_uuid[16];
static struct pt_module *current;
static struct sof sof_context;

/* ---- registration and context ---- */

int comp_register(struct comp_driver_info *info)
{
	if (!info || !info->drv)
		return -EINVAL;
	if (nregistered == DRIVERS_MAX)
		return -ENOSPC;
	registered[nregistered++] = info->drv;
	return 0;
}

void comp_unregister(struct comp_driver_info *info)
{
	for (unsigned i = 0; i < nregistered; i++)
		if (info && registered[i] == info->drv)
			registered[i] = NULL;
}

const struct comp_driver *pt_sof_driver(void)
{
	for (unsigned i = 0; i < nregistered; i++)
		if (registered[i] && registered[i]->uid &&
		    !memcmp(registered[i]->uid, pt_sof_uuid, 16))
			return registered[i];
	return NULL;
}

const struct comp_driver *pt_sof_driver_other(void)
{
	for (unsigned i = 0; i < nregistered; i++)
		if (registered[i] && registered[i]->uid)
			return registered[i];
	return NULL;
}

/* The firmware's spelling of a UUID (struct sof_uuid's fields). */
void pt_sof_uuid_text(const void *uuid, char out[37])
{
	const uint8_t *u = uuid;

	snprintf(out, 37, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 (unsigned)(u[0] | u[1] << 8 | u[2] << 16 | (uint32_t)u[3] << 24),
		 (unsigned)(u[4] | u[5] << 8), (unsigned)(u[6] | u[7] << 8), u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

struct sof *sof_get(void)
{
	return &sof_context;
}

void pt_sof_enter(struct pt_module *mod)
{
	current = mod;
}

/* ---- allocation: the calling instance's private heap ---- */

/* Every block remembers its size in front of it, for realloc. */
struct block {
	size_t size;
	size_t pad; /* keeps the data 16-byte aligned like pt_mod_alloc */
};

void *sof_heap_alloc(struct k_heap *heap, uint32_t flags, size_t bytes,
		     size_t alignment)
{
	struct block *b;

	(void)heap;
	(void)flags;
	/* pt_mod_alloc gives 16-byte alignment; firmware modules ask for at
	 * most a cache line, which a larger block covers. */
	if (!current || alignment > 64 || bytes > SIZE_MAX - 128)
		return NULL;
	if (alignment > 16) {
		uint8_t *raw = pt_mod_alloc(current, bytes + sizeof(*b) + alignment);
		uintptr_t at;

		if (!raw)
			return NULL;
		at = ((uintptr_t)raw + sizeof(*b) + sizeof(void *) + alignment - 1) &
		     ~(uintptr_t)(alignment - 1);
		b = (struct block *)at - 1;
		b->size = bytes;
		b->pad = (size_t)(at - (uintptr_t)raw);
		return b + 1;
	}
	b = pt_mod_alloc(current, bytes + sizeof(*b));
	if (!b)
		return NULL;
	b->size = bytes;
	b->pad = sizeof(*b);
	return b + 1;
}

void sof_heap_free(struct k_heap *heap, void *ptr)
{
	struct block *b;

	(void)heap;
	if (!ptr || !current)
		return;
	b = (struct block *)ptr - 1;
	pt_mod_free(current, (uint8_t *)ptr - b->pad);
}

struct k_heap *sof_sys_heap_get(void)
{
	return NULL;
}

struct k_heap *sof_sys_user_heap_get(void)
{
	return NULL;
}

void *rmalloc(uint32_t flags, size_t bytes)
{
	return sof_heap_alloc(NULL, flags, bytes, 0);
}

void *rzalloc(uint32_t flags, size_t bytes)
{
	void *p = rmalloc(flags, bytes);

	if (p)
		memset(p, 0, bytes);
	return p;
}

void *rballoc_align(uint32_t flags, size_t bytes, uint32_t alignment)
{
	return sof_heap_alloc(NULL, flags, bytes, alignment);
}

void *rbrealloc_align(void *ptr, uint32_t flags, size_t bytes, size_t old_bytes,
		      uint32_t alignment)
{
	void *p = sof_heap_alloc(NULL, flags, bytes, alignment);

	if (p && ptr) {
		memcpy(p, ptr, old_bytes < bytes ? old_bytes : bytes);
		sof_heap_free(NULL, ptr);
	}
	return p;
}

void rfree(void *ptr)
{
	sof_heap_free(NULL, ptr);
}

/* The module adapter's allocation services: the resources go with the
 * instance's heap when it ends, so free_all has nothing to walk. */
void *z_impl_mod_alloc_ext(struct processing_module *mod, uint32_t flags,
			   size_t size, size_t alignment)
{
	(void)mod;
	return sof_heap_alloc(NULL, flags, size, alignment);
}

void *z_impl_mod_balloc_align(struct processing_module *mod, size_t size,
			      size_t alignment)
{
	(void)mod;
	return sof_heap_alloc(NULL, SOF_MEM_FLAG_USER, size, alignment);
}

int z_impl_mod_free(struct processing_module *mod, const void *ptr)
{
	(void)mod;
	sof_heap_free(NULL, (void *)ptr);
	return 0;
}

struct comp_data_blob_handler *
z_impl_mod_data_blob_handler_new(struct processing_module *mod)
{
	return comp_data_blob_handler_new(mod->dev);
}

/* ---- IPC4 helpers: base config to stream parameters ---- */

/* IPC4 says "32-bit container, 24 valid bits" for 24-bit audio, which the
 * firmware's conversion makes an S32_LE frame; Partita's S24_4LE (24 bits
 * in the low bytes of 32) is what the adapter describes that way, so it is
 * the firmware's S24_4LE frame. */
static void fmt_conversion(const struct ipc4_audio_format *f, enum sof_ipc_frame *frame,
			   enum sof_ipc_frame *valid)
{
	audio_stream_fmt_conversion(f->depth, f->valid_bit_depth, frame, valid, f->s_type);
	if (*frame == SOF_IPC_FRAME_S32_LE && *valid == SOF_IPC_FRAME_S24_4LE)
		*frame = SOF_IPC_FRAME_S24_4LE;
}

void ipc4_base_module_cfg_to_stream_params(const struct ipc4_base_module_cfg *base_cfg,
					   struct sof_ipc_stream_params *params)
{
	enum sof_ipc_frame frame_fmt, valid_fmt;

	memset(params, 0, sizeof(*params));
	params->channels = base_cfg->audio_fmt.channels_count;
	params->rate = base_cfg->audio_fmt.sampling_frequency;
	params->sample_container_bytes = base_cfg->audio_fmt.depth / 8;
	params->sample_valid_bytes = base_cfg->audio_fmt.valid_bit_depth / 8;
	params->buffer_fmt = base_cfg->audio_fmt.interleaving_style;
	params->buffer.size = base_cfg->obs * 2;
	fmt_conversion(&base_cfg->audio_fmt, &frame_fmt, &valid_fmt);
	params->frame_fmt = frame_fmt;
	for (unsigned i = 0; i < SOF_IPC_MAX_CHANNELS; i++)
		params->chmap[i] = (base_cfg->audio_fmt.ch_map >> i * 4) & 0xf;
}

void ipc4_update_buffer_format(struct comp_buffer *buf_c,
			       const struct ipc4_audio_format *fmt)
{
	enum sof_ipc_frame valid_fmt, frame_fmt;

	if (!buf_c)
		return;
	audio_stream_set_channels(&buf_c->stream, fmt->channels_count);
	audio_stream_set_rate(&buf_c->stream, fmt->sampling_frequency);
	fmt_conversion(fmt, &frame_fmt, &valid_fmt);
	audio_stream_set_frm_fmt(&buf_c->stream, frame_fmt);
	audio_stream_set_valid_fmt(&buf_c->stream, valid_fmt);
	audio_stream_set_buffer_fmt(&buf_c->stream, fmt->interleaving_style);
	audio_stream_recalc_align(&buf_c->stream);
}

/* ---- replies and readiness ---- */

size_t pt_sof_reply_size(const void *data, size_t room)
{
	struct sof_ipc_ctrl_data c;

	/* A binary control reply: the header, the ABI header and its data. */
	if (room >= sizeof(c)) {
		memcpy(&c, data, sizeof(c));
		if (c.rhdr.hdr.size >= sizeof(c) && c.rhdr.hdr.size <= room)
			return c.rhdr.hdr.size;
	}
	return room;
}

bool pt_default_ready_rule(struct pt_module *mod, struct pt_source *const *src,
			   unsigned nsrc, struct pt_sink *const *snk,
			   unsigned nsnk)
{
	uint32_t frames = pt_mod_period_frames(mod);

	for (unsigned i = 0; i < nsrc; i++)
		if (pt_source_frames_available(src[i]) < frames)
			return false;
	for (unsigned i = 0; i < nsnk; i++)
		if (pt_sink_frames_free(snk[i]) < frames)
			return false;
	return true;
}

/* ---- module-adapter services the firmware's generic.c would give ---- */

void module_update_buffer_position(struct input_stream_buffer *input_buffers,
				   struct output_stream_buffer *output_buffers,
				   uint32_t frames)
{
	struct audio_stream *source = input_buffers->data;
	struct audio_stream *sink = output_buffers->data;

	input_buffers->consumed += audio_stream_frame_bytes(source) * frames;
	output_buffers->size += audio_stream_frame_bytes(sink) * frames;
}

void mod_data_blob_handler_free(struct processing_module *mod,
				struct comp_data_blob_handler *dbh)
{
	(void)mod;
	comp_data_blob_handler_free(dbh);
}

/* The component states the firmware's pipeline keeps, moved by triggers. */
int comp_set_state(struct comp_dev *dev, int cmd)
{
	switch (cmd) {
	case COMP_TRIGGER_START:
	case COMP_TRIGGER_RELEASE:
		dev->state = COMP_STATE_ACTIVE;
		return 0;
	case COMP_TRIGGER_PAUSE:
		dev->state = COMP_STATE_PAUSED;
		return 0;
	case COMP_TRIGGER_STOP:
	case COMP_TRIGGER_PREPARE:
		dev->state = COMP_STATE_PREPARE;
		return 0;
	case COMP_TRIGGER_RESET:
		dev->state = COMP_STATE_READY;
		return 0;
	}
	return 0;
}

int module_adapter_set_state(struct processing_module *mod, struct comp_dev *dev,
			     int cmd)
{
	(void)mod;
	return comp_set_state(dev, cmd);
}

/* Gathers a configuration blob's fragments; the whole blob becomes the
 * module's configuration (priv.cfg) when the last one is in. */
int module_set_configuration(struct processing_module *mod, uint32_t config_id,
			     enum module_cfg_fragment_position pos,
			     size_t data_offset_size, const uint8_t *fragment,
			     size_t fragment_size, uint8_t *response,
			     size_t response_size)
{
	struct module_data *md = &mod->priv;
	size_t offset = 0;

	(void)config_id;
	(void)response;
	(void)response_size;
	if (pos == MODULE_CFG_FRAGMENT_FIRST || pos == MODULE_CFG_FRAGMENT_SINGLE) {
		if (md->runtime_params)
			return -EBUSY;
		md->new_cfg_size = data_offset_size;
		if (!md->new_cfg_size)
			return 0;
		if (md->new_cfg_size > 256 * 1024)
			return -EINVAL;
		md->runtime_params = rzalloc(SOF_MEM_FLAG_USER, md->new_cfg_size);
		if (!md->runtime_params)
			return -ENOMEM;
	} else {
		if (!md->runtime_params)
			return -EIO;
		offset = data_offset_size;
	}
	if (offset > md->new_cfg_size ||
	    memcpy_s((uint8_t *)md->runtime_params + offset, md->new_cfg_size - offset,
		     fragment, fragment_size)) {
		rfree(md->runtime_params);
		md->runtime_params = NULL;
		return -EINVAL;
	}
	if (pos == MODULE_CFG_FRAGMENT_FIRST || pos == MODULE_CFG_FRAGMENT_MIDDLE)
		return 0;
	/* The whole blob: it replaces the configuration. */
	if (md->cfg.data && md->cfg.data != md->cfg.init_data)
		rfree(md->cfg.data);
	md->cfg.data = md->runtime_params;
	md->cfg.size = md->new_cfg_size;
	md->cfg.avail = true;
	md->runtime_params = NULL;
	md->new_cfg_size = 0;
	return 0;
}

/* Copies @samples samples between two circular streams, from sample
 * @ioffset of @source's read position to sample @ooffset of @sink's write
 * position. */
int audio_stream_copy(const struct audio_stream *source, uint32_t ioffset,
		      struct audio_stream *sink, uint32_t ooffset, uint32_t samples)
{
	uint32_t bytes_per = audio_stream_sample_bytes(source);
	const uint8_t *src = (const uint8_t *)audio_stream_get_rptr(source) +
			     (size_t)ioffset * bytes_per;
	uint8_t *dst = (uint8_t *)audio_stream_get_wptr(sink) + (size_t)ooffset * bytes_per;
	size_t left = (size_t)samples * bytes_per;

	src = audio_stream_wrap(source, (void *)src);
	dst = audio_stream_wrap(sink, dst);
	while (left) {
		size_t n = left;
		size_t to_src_end = (size_t)((const uint8_t *)audio_stream_get_end_addr(source) - src);
		size_t to_dst_end = (size_t)((uint8_t *)audio_stream_get_end_addr(sink) - dst);

		if (n > to_src_end)
			n = to_src_end;
		if (n > to_dst_end)
			n = to_dst_end;
		memcpy(dst, src, n);
		left -= n;
		src = audio_stream_wrap(source, (void *)(src + n));
		dst = audio_stream_wrap(sink, dst + n);
	}
	return (int)samples;
}
