/* SPDX-License-Identifier: MIT */
/*
 * lib/abi - the module ABI's other side: what a pt_module, pt_source and
 * pt_sink are, and how an instance's callbacks are driven. Host and domain
 * both run modules through this room, so a module sees the same views and
 * gives the same output wherever it runs.
 *
 * A view is a snapshot of a circular buffer taken before a callback: where
 * the data is, where reading (or writing) starts and how much there is. The
 * module moves only the view's counters; the caller checks them afterwards
 * and then moves the buffer's real positions.
 */
#ifndef PT_LIB_ABI_H
#define PT_LIB_ABI_H

#include <partita/module.h>

struct pt_heap;

struct pt_source {
	const uint8_t *base; /* start of the circular buffer */
	size_t size;         /* bytes in the buffer; a whole number of frames */
	size_t offset;       /* where unread data starts, < size */
	size_t avail;        /* readable bytes when the call began */
	size_t consumed;     /* released during the call, <= avail */
	uint32_t frame;      /* bytes per frame */
	struct pt_format fmt;
	uint32_t byte_align;  /* version 2: pt_source_set_alignment, 0 = none */
	uint32_t frame_align;
};

struct pt_sink {
	uint8_t *base;
	size_t size;
	size_t offset;    /* where free space starts, < size */
	size_t free;      /* writable bytes when the call began */
	size_t produced;  /* committed during the call, <= free */
	uint32_t frame;
	struct pt_format fmt;
	uint32_t byte_align;  /* version 2: pt_sink_set_alignment, 0 = none */
	uint32_t frame_align;
	/* Version 2, pt_sink_set_format: set by the caller of prepare, 0
	 * elsewhere. open_fields says which of fmt's fields the binding left
	 * open (PT_FMT_OPEN_*); format_set becomes 1 when the module set one. */
	uint8_t in_prepare;
	uint8_t open_fields;
	uint8_t format_set;
	/* Bytes the buffer's memory can hold (0: size). A format set at
	 * prepare keeps the buffer's depth in frames, so size becomes that
	 * many frames of the new format, at most capacity. */
	size_t capacity;
};

/* Which fields of a binding's format a module may set on its sink. */
#define PT_FMT_OPEN_SAMPLE (1u << 0)
#define PT_FMT_OPEN_CHANNELS (1u << 1)

typedef void (*pt_log_fn)(void *ctx, const char *instance, int level,
			  const char *line);

struct pt_module {
	const struct pt_module_entry *entry;
	/* The entry's callbacks, copied for the library's ABI version: a
	 * version 1 library's ops stop at free and the rest stay NULL here.
	 * Callers use mod->ops, never entry->ops beyond the version 1 fields. */
	struct pt_module_ops ops;
	const void *init_payload; /* version 2 binary init payload, or NULL */
	size_t init_payload_size;
	uint32_t mode;            /* enum pt_processing_mode */
	uint32_t latency_frames;  /* last pt_mod_set_latency() */
	void *priv;
	struct pt_heap *heap; /* the instance's private heap, never NULL */
	uint32_t period_frames;
	char name[PT_NAME_MAX];
	pt_log_fn log;
	void *log_ctx;
};

/* Sets up @src over @base/@size from the given read offset and fill. */
void pt_source_view(struct pt_source *src, const void *base, size_t size,
		    size_t offset, size_t avail, const struct pt_format *fmt);

/* Sets up @sink over @base/@size from the given write offset and room. */
void pt_sink_view(struct pt_sink *sink, void *base, size_t size, size_t offset,
		  size_t free, const struct pt_format *fmt);

/* Default readiness: every source holds @frames frames, every sink has room
 * for @frames frames. */
bool pt_default_ready(uint32_t frames, struct pt_source *const *sources,
		      unsigned nsources, struct pt_sink *const *sinks,
		      unsigned nsinks);

/* Readiness of @mod: the module's own is_ready if it has one, else the
 * default rule. */
bool pt_module_is_ready(struct pt_module *mod, struct pt_source *const *sources,
			unsigned nsources, struct pt_sink *const *sinks,
			unsigned nsinks);

/* Prepares @mod in the private heap [@heap_block, +@heap_size) and calls its
 * init. @mod->log and @mod->log_ctx, if set before, are kept. Returns 0 or -errno (-ENOMEM when the heap block is too small). */
int pt_module_init(struct pt_module *mod, const struct pt_module_entry *entry,
		   const char *name, uint32_t period_frames, void *heap_block,
		   size_t heap_size, const void *init, size_t init_size);

/* Copies @entry's callbacks into @ops as the library's ABI version defines
 * them: the version 2 fields stay NULL for a version 1 library. Returns 0,
 * or -EPROTO for a version outside PT_ABI_VERSION_MIN..PT_ABI_VERSION. */
int pt_module_ops_copy(const struct pt_module_entry *entry,
		       struct pt_module_ops *ops);

/* Returns true when @version is an ABI version this build loads. */
static inline bool pt_abi_version_supported(uint32_t version)
{
	return version >= PT_ABI_VERSION_MIN && version <= PT_ABI_VERSION;
}

/* Text parameters ("key=value" items, pt_param_*): steps *@s past the
 * separators and the item after them (before @end) and returns the item's
 * start; *@eq is its '=', or NULL when it has none. The item is empty at
 * the end of the text. */
const char *pt_abi_text_item(const char **s, const char *end, const char **eq);

/* Calls free (if any). The heap block stays the caller's. */
void pt_module_free(struct pt_module *mod);

/* Writes silence (all-zero samples, valid for every format) for @frames
 * frames into @sink's view and commits it. Returns 0 or -ENOSPC. */
int pt_sink_fill_silence(struct pt_sink *sink, size_t frames);

/* Copies @bytes from @src's view into @sink's view, handling both wraps,
 * releasing and committing them. The formats must match. */
int pt_copy_stream(struct pt_source *src, struct pt_sink *sink, size_t bytes);

#endif /* PT_LIB_ABI_H */
