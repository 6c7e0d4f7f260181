/* SPDX-License-Identifier: MIT */
/*
 * host/io/alsa - the graph's live edges: ALSA PCM devices through alsa-lib.
 *
 * Two host modules, trusted and always LL, written against the module ABI
 * like the file endpoints in io.h:
 *   playback  1 source, 0 sinks.  device=NAME [period_us=US] [buffer_us=US]
 *             Writes one period per process call with a blocking
 *             snd_pcm_writei, so a device with a clock paces the graph.
 *             Like the file output it plays `frames` frames, then
 *             discards.
 *   capture   0 sources, 1 sink.  device=NAME [period_us=US] [buffer_us=US]
 *             Reads one period per process call with a blocking
 *             snd_pcm_readi into the stream's format.
 * NAME is any ALSA PCM name: "default", "hw:0,0", "plughw:1", "null", or a
 * PCM defined in an asoundrc-style file (ALSA_CONFIG_PATH).
 *
 * The device is opened in init, without waiting for a busy device, so an
 * unknown or busy device is refused when the instance is created, with the
 * device's name and ALSA's reason. Hardware parameters are set in prepare
 * from the stream format (exact rate, channels and sample format; a device
 * that refuses them fails prepare naming the device and the format); the
 * period and buffer sizes are negotiated from period_us and buffer_us
 * (default: the graph's period, and four of them) and logged at info level.
 *
 * An xrun (underrun on playback, overrun on capture; -EPIPE) or a suspend
 * (-ESTRPIPE) is recovered with snd_pcm_recover, counted, and reported on
 * stderr; it is never fatal. A captured period lost to an overrun is
 * replaced with silence so the stream keeps its length.
 */
#ifndef PT_HOST_ALSA_H
#define PT_HOST_ALSA_H

#include <stdbool.h>
#include <stdint.h>

#include <partita/module.h>

struct pt_instance;

/* Returns the device module named @name ("playback", "capture"), or NULL
 * (also when this build has no ALSA). */
const struct pt_module_entry *pt_alsa_find(const char *name);

/* Returns true when @inst is a playback (or capture) device endpoint. */
bool pt_alsa_is_playback(const struct pt_instance *inst);
bool pt_alsa_is_capture(const struct pt_instance *inst);

/* The ALSA device name @inst was opened on, or NULL if it is no device
 * endpoint. */
const char *pt_alsa_device(const struct pt_instance *inst);

/* The period and buffer sizes, in frames, the device agreed to in prepare.
 * Returns 0, or -EINVAL when @inst is no device endpoint or is not
 * prepared. */
int pt_alsa_sizes(const struct pt_instance *inst, uint32_t *period_frames,
		  uint32_t *buffer_frames);

/* Xruns (and suspends) recovered on @inst so far. */
uint64_t pt_alsa_xruns(const struct pt_instance *inst);

/* Frames @inst has written to (playback) or read from (capture) the
 * device. */
uint64_t pt_alsa_frames(const struct pt_instance *inst);

/* Sets how many frames a playback plays (UINT64_MAX: no end). */
void pt_alsa_playback_length(struct pt_instance *inst, uint64_t frames);

/* Returns true once a playback has played all of its frames. */
bool pt_alsa_playback_done(const struct pt_instance *inst);

/* Lets a playback's queued frames play out, then stops the device, so the
 * end of a run is heard. Returns 0 or -errno with the reason in @err. */
int pt_alsa_playback_drain(struct pt_instance *inst, char *err, size_t errlen);

#endif
