/* SPDX-License-Identifier: MIT */
/*
 * host/io - the graph's edges: audio files in and out through libsndfile.
 *
 * Two host modules, trusted and always LL, written against the module ABI
 * like any other:
 *   input   0 sources, 1 sink.  file=PATH  Reads the file and converts it to
 *           the sink's stream format exactly (integer formats through
 *           libsndfile's integer reads, float through its float reads). After
 *           the end of the file it writes silence, so the graph drains.
 *   output  1 source, 0 sinks.  file=PATH  Writes the source's stream to
 *           PATH; the container comes from the extension (.wav, .flac, .aiff,
 *           .au, .caf, .w64, .ogg), the sample type from the stream format.
 *           It writes exactly `frames` frames (pt_io_output_length), then
 *           discards.
 * Files are opened when the pipeline leaves RESET (prepare), so file= can be
 * changed until then; a missing input or an unwritable output is refused
 * there with the libsndfile reason, and nothing runs.
 */
#ifndef PT_HOST_IO_H
#define PT_HOST_IO_H

#include <stdbool.h>
#include <stdint.h>

#include <partita/module.h>

struct pt_instance;

/* Returns the endpoint module named @name ("input", "output", and the ALSA
 * devices "playback", "capture" of alsa.h), or NULL. */
const struct pt_module_entry *pt_io_find(const char *name);

/* Returns true when @inst is an input (or output) endpoint. */
bool pt_io_is_input(const struct pt_instance *inst);
bool pt_io_is_output(const struct pt_instance *inst);

/* The input file's length in frames and its natural stream format: its rate
 * and channels, and the sample format that holds its samples exactly. */
int pt_io_input_info(const struct pt_instance *inst, uint64_t *frames,
		     struct pt_format *fmt);

/* The same for a file not yet opened by any instance: for building a graph
 * around a file. Returns 0 or -EINVAL with the reason in @err. */
int pt_io_probe(const char *path, uint64_t *frames, struct pt_format *fmt,
		char *err, size_t errlen);

/* Sets how many frames an output writes before it discards the rest. */
void pt_io_output_length(struct pt_instance *inst, uint64_t frames);

/* Returns true once an output has written all of its frames. */
bool pt_io_output_done(const struct pt_instance *inst);

/* The file an endpoint reads or writes. */
const char *pt_io_path(const struct pt_instance *inst);

/* Frames an output has written so far. */
uint64_t pt_io_output_written(const struct pt_instance *inst);

/* Flushes and closes an output's file early (before the instance is freed);
 * returns 0 or -EIO with the reason in @err. */
int pt_io_output_close(struct pt_instance *inst, char *err, size_t errlen);

#endif
