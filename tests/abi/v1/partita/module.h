/* SPDX-License-Identifier: MIT */
/*
 * partita/module.h - the module ABI, version 1.
 *
 * The one header a module author needs. A module is a set of callbacks
 * (struct pt_module_ops) plus a manifest, declared together with PT_MODULE().
 * The same source builds into the host as a trusted built-in or into a
 * shared library that a domain loads; the module cannot tell which.
 *
 * Data flows through sources (what the module reads) and sinks (what it
 * writes). Both are views of circular buffers owned by the host: the host
 * alone moves read and write positions, from what the module released and
 * committed during the call, after checking it. The semantics follow the
 * firmware's source/sink API, so modules port across.
 *
 * Ownership: every pointer the module gets from a pt_source/pt_sink call is
 * valid only until the callback returns. Memory from pt_mod_alloc() belongs
 * to the instance and is released with the instance's private heap.
 *
 * Errors come back as negative errno values, never through a global.
 */
#ifndef PARTITA_MODULE_H
#define PARTITA_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change to this header. The host refuses a
 * library whose manifest carries another value and names both. */
#define PT_ABI_VERSION 1

/* ---- stream formats ---------------------------------------------------- */

enum pt_sample_format {
	PT_SAMPLE_S16_LE = 1,   /* 16-bit signed, 2 bytes */
	PT_SAMPLE_S24_4LE = 2,  /* 24-bit signed in the low bits of 4 bytes */
	PT_SAMPLE_S32_LE = 3,   /* 32-bit signed, 4 bytes */
	PT_SAMPLE_FLOAT_LE = 4, /* IEEE-754 binary32, nominal range [-1, 1] */
};

#define PT_RATE_MIN 8000
#define PT_RATE_MAX 192000
#define PT_CHANNELS_MAX 8

/* Interleaved PCM: frame = channels samples. */
struct pt_format {
	uint32_t rate;     /* frames per second, PT_RATE_MIN..PT_RATE_MAX */
	uint16_t channels; /* 1..PT_CHANNELS_MAX */
	uint16_t sample;   /* enum pt_sample_format */
};

/* Returns the bytes of one sample of @sample, or 0 for an unknown format. */
static inline unsigned pt_sample_bytes(unsigned sample)
{
	switch (sample) {
	case PT_SAMPLE_S16_LE:
		return 2;
	case PT_SAMPLE_S24_4LE:
	case PT_SAMPLE_S32_LE:
	case PT_SAMPLE_FLOAT_LE:
		return 4;
	default:
		return 0;
	}
}

/* Returns the name of @sample ("S16_LE", ...), "unknown" for another value. */
static inline const char *pt_sample_name(unsigned sample)
{
	switch (sample) {
	case PT_SAMPLE_S16_LE:
		return "S16_LE";
	case PT_SAMPLE_S24_4LE:
		return "S24_4LE";
	case PT_SAMPLE_S32_LE:
		return "S32_LE";
	case PT_SAMPLE_FLOAT_LE:
		return "FLOAT_LE";
	default:
		return "unknown";
	}
}

/* Returns the bytes of one frame of @f, or 0 if @f is not a valid format. */
static inline unsigned pt_frame_bytes(const struct pt_format *f)
{
	if (f->channels < 1 || f->channels > PT_CHANNELS_MAX)
		return 0;
	return pt_sample_bytes(f->sample) * f->channels;
}

/* Returns true when @f is a format every Partita buffer can carry. */
static inline bool pt_format_valid(const struct pt_format *f)
{
	return pt_frame_bytes(f) != 0 && f->rate >= PT_RATE_MIN &&
	       f->rate <= PT_RATE_MAX;
}

/* ---- the module's view of the world ------------------------------------ */

struct pt_module; /* one module instance; opaque */
struct pt_source; /* an input pin's view of its buffer; opaque */
struct pt_sink;   /* an output pin's view of its buffer; opaque */

/* Most pins a module instance can have on each side. */
#define PT_MAX_PINS 8

/*
 * The callbacks. Only process is required. Each returns 0 or -errno; an
 * error from init or prepare fails the instance's creation, an error from
 * process marks the period as failed for that instance (its outputs carry
 * silence) but does not stop the pipeline.
 *
 * sources[i] is input pin i, sinks[i] output pin i; unbound pins are absent
 * and the arrays are packed in pin order.
 */
struct pt_module_ops {
	/* Called once after the private heap exists. @data/@size is the init
	 * blob from the topology or INIT_INSTANCE (text parameters, see
	 * pt_param_*), possibly empty. When init fails, free is not called:
	 * the private heap goes away with the instance, anything else the
	 * module took it releases itself before returning. */
	int (*init)(struct pt_module *mod, const void *data, size_t size);
	/* Called when the pipeline leaves RESET, with the bound pins; stream
	 * formats are final here. */
	int (*prepare)(struct pt_module *mod, struct pt_source *const *sources,
		       unsigned nsources, struct pt_sink *const *sinks,
		       unsigned nsinks);
	/* Called once per period when the instance is ready. Reads with
	 * pt_source_get_data/pt_source_release, writes with
	 * pt_sink_get_buffer/pt_sink_commit. */
	int (*process)(struct pt_module *mod, struct pt_source *const *sources,
		       unsigned nsources, struct pt_sink *const *sinks,
		       unsigned nsinks);
	/* Optional. Overrides the default readiness rule (every source holds
	 * one period of data and every sink has one period of free space). */
	bool (*is_ready)(struct pt_module *mod, struct pt_source *const *sources,
			 unsigned nsources, struct pt_sink *const *sinks,
			 unsigned nsinks);
	/* Optional. @param PT_PARAM_TEXT carries text parameters; other ids are
	 * the module's own binary blobs. The blob is a copy: do not keep it. */
	int (*set_config)(struct pt_module *mod, uint32_t param, const void *data,
			  size_t size);
	/* Optional. On entry *@size is the room at @data; on success it is the
	 * bytes written. -ENOSPC when the room is too small. */
	int (*get_config)(struct pt_module *mod, uint32_t param, void *data,
			  size_t *size);
	/* Optional. Back to the state after init: filters cleared, delay lines
	 * empty. Called when the pipeline goes to RESET. */
	int (*reset)(struct pt_module *mod);
	/* Optional. Last call; the private heap is released after it. */
	void (*free)(struct pt_module *mod);
};

/* ---- sources ------------------------------------------------------------ */

/* Returns the bytes that can be read now. */
size_t pt_source_available(const struct pt_source *src);

/* Returns the frames that can be read now. */
size_t pt_source_frames_available(const struct pt_source *src);

/*
 * Gets @req bytes to read. *@data points at the first unread byte inside
 * the circular buffer [*@buf_start, *@buf_start + *@buf_size): the data
 * wraps at the buffer's end, the reader follows it. Calling it again
 * without a release returns the same position.
 * Returns 0, -ENODATA if fewer than @req bytes are available, -EINVAL on
 * a NULL argument. The memory may be read-only.
 */
int pt_source_get_data(struct pt_source *src, size_t req, const void **data,
		       const void **buf_start, size_t *buf_size);

/* Marks @bytes as consumed. Returns 0, or -EINVAL if @bytes exceeds what is
 * available or is not a whole number of frames. */
int pt_source_release(struct pt_source *src, size_t bytes);

/* Returns the stream format of @src; never NULL. */
const struct pt_format *pt_source_format(const struct pt_source *src);

/* ---- sinks -------------------------------------------------------------- */

/* Returns the bytes that can be written now. */
size_t pt_sink_free_size(const struct pt_sink *sink);

/* Returns the frames that can be written now. */
size_t pt_sink_frames_free(const struct pt_sink *sink);

/*
 * Gets room for @req bytes. *@data points at the first free byte inside the
 * circular buffer [*@buf_start, *@buf_start + *@buf_size); the writer wraps
 * at the end. Returns 0, -ENOSPC if fewer than @req bytes are free, -EINVAL
 * on a NULL argument.
 */
int pt_sink_get_buffer(struct pt_sink *sink, size_t req, void **data,
		       void **buf_start, size_t *buf_size);

/* Marks @bytes as produced. Returns 0, or -EINVAL if @bytes exceeds the free
 * size or is not a whole number of frames. */
int pt_sink_commit(struct pt_sink *sink, size_t bytes);

/* Returns the stream format of @sink; never NULL. */
const struct pt_format *pt_sink_format(const struct pt_sink *sink);

/* ---- module services ---------------------------------------------------- */

/* Allocates @size bytes, 16-byte aligned, from the instance's private heap.
 * Returns NULL when the heap is exhausted; nothing else is affected. */
void *pt_mod_alloc(struct pt_module *mod, size_t size);

/* Releases memory from pt_mod_alloc(); NULL is ignored. */
void pt_mod_free(struct pt_module *mod, void *ptr);

/* Returns the pointer last given to pt_mod_set_priv(), initially NULL. */
void *pt_mod_priv(const struct pt_module *mod);

/* Stores the module's private state pointer. */
void pt_mod_set_priv(struct pt_module *mod, void *priv);

/* Returns the period in frames (the unit of work of every process call). */
uint32_t pt_mod_period_frames(const struct pt_module *mod);

/* Returns the instance name from the topology. */
const char *pt_mod_name(const struct pt_module *mod);

enum pt_log_level { PT_LOG_ERR = 3, PT_LOG_WARN = 4, PT_LOG_INFO = 6, PT_LOG_DEBUG = 7 };

/* Logs one line, prefixed with the instance name. Never blocks on I/O in a
 * domain (lines go through a pipe and are dropped when it is full). */
void pt_log(struct pt_module *mod, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- text parameters -----------------------------------------------------
 * Init blobs and PT_PARAM_TEXT config blobs are text: "key=value" items
 * separated by newlines, spaces or semicolons. Values are numbers or lists
 * of numbers separated by commas. */

#define PT_PARAM_TEXT 0u

/* Finds @key and parses its value as a number into *@out.
 * Returns 0, -ENOENT if absent, -EINVAL if the value is not a number. */
int pt_param_double(const void *blob, size_t size, const char *key, double *out);

/* Finds @key and parses its comma-separated numbers into @out (room for
 * @max). Returns how many were stored, -ENOENT if absent, -EINVAL on a bad
 * number, -E2BIG if there are more than @max. */
int pt_param_doubles(const void *blob, size_t size, const char *key, double *out,
		     size_t max);

/* Finds @key and copies its raw value, NUL-terminated, into @out (room for
 * @max bytes). Returns the length, -ENOENT if absent, -E2BIG if too long. */
int pt_param_string(const void *blob, size_t size, const char *key, char *out,
		    size_t max);

/* ---- the manifest ----------------------------------------------------------
 * Pure data in its own ELF section, so the host reads it with libelf without
 * running any of the library's code. */

#define PT_MANIFEST_SECTION ".partita.manifest"
#define PT_MANIFEST_MAGIC "PTMANIF"
#define PT_NAME_MAX 32

/* The module may run in a domain (is a candidate for isolation). */
#define PT_MOD_FLAG_ISOLATABLE (1u << 0)
/* The module's is_ready replaces the default readiness rule. */
#define PT_MOD_FLAG_CUSTOM_READY (1u << 1)

#define PT_VERSION(maj, min, patch) (((maj) << 16) | ((min) << 8) | (patch))

struct pt_manifest {
	char magic[8];         /* PT_MANIFEST_MAGIC, NUL-terminated */
	uint32_t abi_version;  /* PT_ABI_VERSION the module was built with */
	uint32_t flags;        /* PT_MOD_FLAG_* */
	char name[PT_NAME_MAX];/* NUL-terminated module name */
	uint8_t uuid[16];
	uint32_t version;      /* PT_VERSION() */
	uint32_t heap_size;    /* default private heap, bytes */
	uint32_t stack_size;   /* default stack, bytes */
	uint8_t max_sources;   /* input pins, 0..PT_MAX_PINS */
	uint8_t max_sinks;     /* output pins, 0..PT_MAX_PINS */
	uint8_t reserved[10];  /* pads the layout to 88 bytes on every ABI */
};

_Static_assert(sizeof(struct pt_manifest) == 88, "manifest layout is ABI");

/* What the host or a domain finds: the manifest and the callbacks. */
struct pt_module_entry {
	const struct pt_manifest *manifest;
	const struct pt_module_ops *ops;
};

/* A library exports its entry under this symbol name. */
#define PT_MODULE_ENTRY_SYMBOL "pt_module_entry"

#ifdef PT_MODULE_BUILTIN
#define PT_MODULE_ENTRY_(id) const struct pt_module_entry pt_builtin_##id
#else
#define PT_MODULE_ENTRY_(id)                                                   \
	__attribute__((visibility("default"))) const struct pt_module_entry   \
		pt_module_entry
#endif

/*
 * Declares a module: PT_MODULE(gain, gain_ops, .name = "gain",
 *   .uuid = {...}, .version = PT_VERSION(1, 0, 0), .heap_size = 4096,
 *   .stack_size = 16384, .max_sources = 1, .max_sinks = 1);
 * @id is a C identifier, unique among the built-ins.
 */
#define PT_MODULE(id, ops_, ...)                                               \
	__attribute__((section(PT_MANIFEST_SECTION), used, aligned(8)))        \
	static const struct pt_manifest pt_manifest_##id = {                   \
		.magic = PT_MANIFEST_MAGIC,                                    \
		.abi_version = PT_ABI_VERSION,                                 \
		__VA_ARGS__                                                    \
	};                                                                     \
	PT_MODULE_ENTRY_(id) = { &pt_manifest_##id, &(ops_) }

#ifdef __cplusplus
}
#endif

#endif /* PARTITA_MODULE_H */
