/* SPDX-License-Identifier: MIT */
/*
 * host/io - the graph's edges: audio files in and out through libsndfile.
 *
 * Two host modules, trusted and always LL, written against the module ABI
 * like any other:
 *   input   0 sources, 1 sink.  file=PATH  Reads the file and converts it to
 *           the sink's stream format exactly (integer formats through
 *           libsndfile's integer reads, float through its float reads). After
 *           the end of the file it writes silence, so the graph drains. A
 *           file whose data ends before its header says is damaged: found,
 *           kept for pt_io_input_damage. PATH '-' is standard input, read
 *           into memory and decoded through libsndfile's virtual I/O.
 *   output  1 source, 0 sinks.  file=PATH [type=TYPE]  Writes the source's
 *           stream to PATH; the container comes from TYPE or the extension
 *           (any major format libsndfile writes, pt_io_containers), the
 *           sample encoding from pt_io_output_sample or else the stream.
 *           It writes exactly `frames` frames (pt_io_output_length), then
 *           discards. It writes a temporary file in PATH's folder, renamed
 *           to PATH when the file is complete (pt_io_output_close, RESET,
 *           or the instance freed); pt_io_output_discard() leaves PATH as
 *           it was instead. PATH '-' is
 *           standard output, written when the file is complete.
 * Files are opened when the pipeline leaves RESET (prepare), so file= can be
 * changed until then; a missing input or an unwritable output is refused
 * there with the libsndfile reason, and nothing runs. Only regular files
 * are opened, without blocking: a FIFO or a device is refused by name.
 */
#ifndef PT_HOST_IO_H
#define PT_HOST_IO_H

#include <stdbool.h>
#include <stddef.h>
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

/* The file pt_io_probe opened is kept for the input endpoint that reads the
 * same path, so a file is opened once; this closes it if none took it. */
void pt_io_probe_release(void);

/* Returns true, once, when an input's data ended before its header said
 * (a file cut short, a corrupt FLAC frame): *@frame is where the data
 * stopped, *@claimed what the header said, *@why libsndfile's words. */
bool pt_io_input_damage(struct pt_instance *inst, uint64_t *frame,
			uint64_t *claimed, const char **why);

/* The output file's samples: @bits 8, 16, 24, 32 (64 with @is_float), or
 * 0 for the stream's own. Set before the pipeline starts. When the
 * container cannot hold them, an @exact request fails at prepare; any
 * other gets the nearest encoding the container holds. */
void pt_io_output_sample(struct pt_instance *inst, int bits, bool is_float,
			 bool exact);

/* Writes the output types this libsndfile can write into @out, separated
 * by spaces; returns how many major formats it has. */
int pt_io_containers(char *out, size_t len);

/* Sets how many frames an output writes before it discards the rest. */
void pt_io_output_length(struct pt_instance *inst, uint64_t frames);

/* Returns true once an output has written all of its frames. */
bool pt_io_output_done(const struct pt_instance *inst);

/* The file an endpoint reads or writes. */
const char *pt_io_path(const struct pt_instance *inst);

/* Frames an output has written so far. */
uint64_t pt_io_output_written(const struct pt_instance *inst);

/* A write to an output's file failed (a full disk): returns -EIO with the
 * file and the reason in @err, else 0. What follows is dropped and the
 * file is never put in place. */
int pt_io_output_failed(const struct pt_instance *inst, char *err, size_t errlen);

/* Opens /dev/null on each of standard input, output and error that is
 * closed, so no file opened later takes its number (and receives what is
 * written there); pt_io_std_closed() then says which were. */
void pt_io_guard_std(void);
bool pt_io_std_closed(int fd);

/* Drops an output's unfinished file: the temporary goes, and what was at
 * its path stays as it was (a run that failed). */
void pt_io_output_discard(struct pt_instance *inst);

/* Finishes an output's file (before the instance is freed) and puts it in
 * place; returns 0 or -EIO with the reason in @err. */
int pt_io_output_close(struct pt_instance *inst, char *err, size_t errlen);

/* Live runs: endpoints prepared from now on read and write their files on
 * the I/O thread (host/io/iothread.h), which this starts, through rings:
 * an input reads IO_LIVE_IN_MS (500 ms) ahead, an output holds up to
 * IO_LIVE_OUT_MS (2 s) before the file has it. The period thread only
 * copies. Trusted modules' log lines are queued for the I/O thread too.
 * Returns 0 or -errno. */
int pt_io_live_begin(void);

/* Stops the I/O thread, once every output is finished (or discarded) and
 * the instances are freed; its queued log lines are written. */
void pt_io_live_end(void);

/* Live: an input's periods of silence because the I/O thread had not read
 * the data yet (the file resumes where it was), or an output's periods
 * whose frames did not all fit its ring (the rest waited in the graph's
 * buffer; nothing is lost). 0 offline. */
uint64_t pt_io_xruns(const struct pt_instance *inst);

#endif
