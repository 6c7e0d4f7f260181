/* SPDX-License-Identifier: MIT */
/*
 * host/io - file endpoints through libsndfile (see io.h).
 *
 * Conversion is exact where it can be: a 16-bit file read into an S16_LE
 * stream goes through sf_readf_short, 24- and 32-bit streams through
 * sf_readf_int (24-bit samples sit in the top bits of the int: shifted down
 * by 8 for S24_4LE), float streams through sf_readf_float. Writing mirrors
 * it, so a file run through a pass-through graph comes out bit-identical.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sndfile.h>

#include "host/graph/graph.h"
#include "host/io/alsa.h"
#include "host/io/io.h"

#define IO_PATH_MAX 4096
#define IO_CHUNK 1024 /* frames converted at a time */

struct io_state {
	SNDFILE *sf;
	SF_INFO info;
	char path[IO_PATH_MAX];
	uint64_t frames_done; /* input: frames read; output: frames written */
	uint64_t target;      /* output: frames to write in all */
	bool eof;
	int32_t scratch[IO_CHUNK * PT_CHANNELS_MAX];
};

static int open_path(struct pt_module *mod, const void *data, size_t size,
		     char *path)
{
	int ret = pt_param_string(data, size, "file", path, IO_PATH_MAX);

	if (ret == -ENOENT) {
		pt_log(mod, PT_LOG_ERR, "no file= parameter");
		return -EINVAL;
	}
	if (ret < 0) {
		pt_log(mod, PT_LOG_ERR, "file= path is too long");
		return -EINVAL;
	}
	return 0;
}

static struct io_state *state_new(struct pt_module *mod)
{
	/* The endpoint's state holds a host pointer (SNDFILE), so it lives in
	 * host memory, not in the private heap. */
	struct io_state *st = calloc(1, sizeof(*st));

	if (st)
		pt_mod_set_priv(mod, st);
	return st;
}

static void io_free(struct pt_module *mod)
{
	struct io_state *st = pt_mod_priv(mod);

	if (!st)
		return;
	if (st->sf)
		sf_close(st->sf);
	free(st);
	pt_mod_set_priv(mod, NULL);
}

/* ---- input ---- */

/* Opens @path for reading and checks that a stream can carry it. Returns 0
 * with *@sf open, or -EINVAL with @err saying why. */
static int read_file(const char *path, SNDFILE **sf, SF_INFO *info, char *err,
		     size_t errlen)
{
	memset(info, 0, sizeof(*info));
	*sf = sf_open(path, SFM_READ, info);
	if (!*sf) {
		snprintf(err, errlen, "cannot read '%s': %s", path, sf_strerror(NULL));
		return -EINVAL;
	}
	if (info->channels < 1 || info->channels > PT_CHANNELS_MAX ||
	    info->samplerate < PT_RATE_MIN || info->samplerate > PT_RATE_MAX) {
		snprintf(err, errlen,
			 "'%s' has %d channels at %d Hz; supported are 1..%d channels at %d..%d Hz",
			 path, info->channels, info->samplerate, PT_CHANNELS_MAX,
			 PT_RATE_MIN, PT_RATE_MAX);
		sf_close(*sf);
		*sf = NULL;
		return -EINVAL;
	}
	return 0;
}

/* Makes @path the input's file, from its start. */
static int input_open(struct pt_module *mod, struct io_state *st,
		      const char *path)
{
	char err[IO_PATH_MAX + 128];
	SF_INFO info;
	SNDFILE *sf;

	if (read_file(path, &sf, &info, err, sizeof(err))) {
		pt_log(mod, PT_LOG_ERR, "%s", err);
		return -EINVAL;
	}
	if (st->sf)
		sf_close(st->sf);
	st->sf = sf;
	st->info = info;
	st->eof = false;
	st->frames_done = 0;
	if (path != st->path)
		snprintf(st->path, sizeof(st->path), "%s", path);
	return 0;
}

/* A failed init is not followed by free: it cleans up after itself. */
static int input_init(struct pt_module *mod, const void *data, size_t size)
{
	struct io_state *st = state_new(mod);
	int ret = st ? open_path(mod, data, size, st->path) : -ENOMEM;

	if (ret)
		io_free(mod);
	return ret;
}


static int input_prepare(struct pt_module *mod, struct pt_source *const *src,
			 unsigned nsrc, struct pt_sink *const *snk,
			 unsigned nsnk)
{
	struct io_state *st = pt_mod_priv(mod);
	const struct pt_format *f;
	int ret;

	(void)src;
	if (nsrc || nsnk != 1)
		return -EINVAL;
	if (!st->sf && (ret = input_open(mod, st, st->path)))
		return ret;
	f = pt_sink_format(snk[0]);
	if ((int)f->rate != st->info.samplerate) {
		pt_log(mod, PT_LOG_ERR,
		       "'%s' is %d Hz but the stream is %u Hz (add an src instance)",
		       st->path, st->info.samplerate, f->rate);
		return -EINVAL;
	}
	if (f->channels != st->info.channels && st->info.channels != 1) {
		pt_log(mod, PT_LOG_ERR,
		       "'%s' has %d channels but the stream has %u", st->path,
		       st->info.channels, f->channels);
		return -EINVAL;
	}
	return 0;
}

/* Reads up to @frames frames at @out in the stream's format; mono files are
 * spread to every channel. Returns the frames read. */
static size_t input_read(struct io_state *st, const struct pt_format *f,
			 uint8_t *out, size_t frames)
{
	unsigned fch = (unsigned)st->info.channels, ch = f->channels;
	size_t got;

	if (frames > IO_CHUNK)
		frames = IO_CHUNK;
	switch (f->sample) {
	case PT_SAMPLE_S16_LE:
		got = (size_t)sf_readf_short(st->sf, (short *)st->scratch,
					     (sf_count_t)frames);
		for (size_t i = 0; i < got * ch; i++)
			((int16_t *)out)[i] =
				((int16_t *)st->scratch)[(i / ch) * fch + (i % ch) % fch];
		break;
	case PT_SAMPLE_FLOAT_LE:
		got = (size_t)sf_readf_float(st->sf, (float *)st->scratch,
					     (sf_count_t)frames);
		for (size_t i = 0; i < got * ch; i++)
			((float *)out)[i] =
				((float *)st->scratch)[(i / ch) * fch + (i % ch) % fch];
		break;
	default:
		got = (size_t)sf_readf_int(st->sf, st->scratch, (sf_count_t)frames);
		for (size_t i = 0; i < got * ch; i++) {
			int32_t v = st->scratch[(i / ch) * fch + (i % ch) % fch];

			((int32_t *)out)[i] =
				f->sample == PT_SAMPLE_S24_4LE ? v >> 8 : v;
		}
		break;
	}
	return got;
}

static int input_process(struct pt_module *mod, struct pt_source *const *src,
			 unsigned nsrc, struct pt_sink *const *snk,
			 unsigned nsnk)
{
	struct io_state *st = pt_mod_priv(mod);
	const struct pt_format *f = pt_sink_format(snk[0]);
	size_t frame = pt_frame_bytes(f), want = pt_mod_period_frames(mod);
	void *data, *start;
	size_t bsize, done = 0;
	int ret;

	(void)src;
	(void)nsrc;
	(void)nsnk;
	ret = pt_sink_get_buffer(snk[0], want * frame, &data, &start, &bsize);
	if (ret)
		return ret;
	while (done < want) {
		uint8_t *p = (uint8_t *)start +
			     ((size_t)((uint8_t *)data - (uint8_t *)start) +
			      done * frame) % bsize;
		size_t until_wrap = ((uint8_t *)start + bsize - p) / frame;
		size_t n = want - done < until_wrap ? want - done : until_wrap;
		size_t got = st->eof ? 0 : input_read(st, f, p, n);

		if (got == 0) {
			st->eof = true;
			/* After the end: silence, so the graph drains. */
			memset(p, 0, n * frame);
			got = n;
		} else {
			st->frames_done += got;
		}
		done += got;
	}
	return pt_sink_commit(snk[0], want * frame);
}

static int input_reset(struct pt_module *mod)
{
	struct io_state *st = pt_mod_priv(mod);

	/* RESET ends the read; the next prepare starts the file again. */
	if (st->sf)
		sf_close(st->sf);
	st->sf = NULL;
	st->eof = false;
	st->frames_done = 0;
	return 0;
}

/* file=PATH switches the input to another file, from its start. */
static int input_set_config(struct pt_module *mod, uint32_t param,
			    const void *data, size_t size)
{
	struct io_state *st = pt_mod_priv(mod);
	char path[IO_PATH_MAX];
	int ret;

	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	ret = open_path(mod, data, size, path);
	if (ret)
		return ret;
	/* Running: switch files now. Otherwise the file is opened when the
	 * pipeline starts, like the one init named. */
	if (st->sf)
		return input_open(mod, st, path);
	memcpy(st->path, path, sizeof(st->path));
	return 0;
}

static const struct pt_module_ops input_ops = {
	.init = input_init,
	.set_config = input_set_config,
	.prepare = input_prepare,
	.process = input_process,
	.reset = input_reset,
	.free = io_free,
};

static const struct pt_manifest input_manifest = {
	.magic = PT_MANIFEST_MAGIC,
	.abi_version = PT_ABI_VERSION,
	.name = "input",
	.uuid = { 0x70, 0x74, 0x69, 0x6f, 0x69, 0x6e, 0x70, 0x75, 0x74, 1 },
	.version = PT_VERSION(1, 0, 0),
	.heap_size = 4096,
	.max_sources = 0,
	.max_sinks = 1,
};

static const struct pt_module_entry input_entry = { &input_manifest,
						    &input_ops };

/* ---- output ---- */

static int major_of(const char *path)
{
	static const struct {
		const char *ext;
		int major;
	} map[] = {
		{ ".wav", SF_FORMAT_WAV },   { ".flac", SF_FORMAT_FLAC },
		{ ".aiff", SF_FORMAT_AIFF }, { ".aif", SF_FORMAT_AIFF },
		{ ".au", SF_FORMAT_AU },     { ".caf", SF_FORMAT_CAF },
		{ ".w64", SF_FORMAT_W64 },   { ".ogg", SF_FORMAT_OGG },
		{ ".raw", SF_FORMAT_RAW },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcasecmp(dot, map[i].ext))
			return map[i].major;
	return 0;
}

static int output_open(struct pt_module *mod, const void *data, size_t size)
{
	struct io_state *st = state_new(mod);
	int ret;

	if (!st)
		return -ENOMEM;
	ret = open_path(mod, data, size, st->path);
	if (ret)
		return ret;
	if (!major_of(st->path)) {
		pt_log(mod, PT_LOG_ERR,
		       "'%s': unknown file type (use .wav, .flac, .aiff, .au, .caf, .w64, .ogg or .raw)",
		       st->path);
		return -EINVAL;
	}
	st->target = UINT64_MAX;
	return 0;
}

static int output_init(struct pt_module *mod, const void *data, size_t size)
{
	int ret = output_open(mod, data, size);

	if (ret)
		io_free(mod);
	return ret;
}

static int output_prepare(struct pt_module *mod, struct pt_source *const *src,
			  unsigned nsrc, struct pt_sink *const *snk,
			  unsigned nsnk)
{
	struct io_state *st = pt_mod_priv(mod);
	const struct pt_format *f;
	int major = major_of(st->path), sub;

	(void)snk;
	if (nsrc != 1 || nsnk)
		return -EINVAL;
	f = pt_source_format(src[0]);
	switch (f->sample) {
	case PT_SAMPLE_S16_LE:
		sub = SF_FORMAT_PCM_16;
		break;
	case PT_SAMPLE_S24_4LE:
		sub = SF_FORMAT_PCM_24;
		break;
	case PT_SAMPLE_S32_LE:
		sub = SF_FORMAT_PCM_32;
		break;
	default:
		sub = SF_FORMAT_FLOAT;
		break;
	}
	if (major == SF_FORMAT_OGG)
		sub = SF_FORMAT_VORBIS;
	if (st->sf)
		sf_close(st->sf);
	memset(&st->info, 0, sizeof(st->info));
	st->info.samplerate = (int)f->rate;
	st->info.channels = f->channels;
	st->info.format = major | sub;
	if (!sf_format_check(&st->info)) {
		pt_log(mod, PT_LOG_ERR,
		       "'%s': this file type cannot hold the stream's samples (format %u); try .wav",
		       st->path, f->sample);
		return -EINVAL;
	}
	st->sf = sf_open(st->path, SFM_WRITE, &st->info);
	if (!st->sf) {
		pt_log(mod, PT_LOG_ERR, "cannot write '%s': %s", st->path,
		       sf_strerror(NULL));
		return -EIO;
	}
	st->frames_done = 0;
	return 0;
}

static int output_write(struct io_state *st, const struct pt_format *f,
			const uint8_t *in, size_t frames)
{
	sf_count_t put;

	switch (f->sample) {
	case PT_SAMPLE_S16_LE:
		put = sf_writef_short(st->sf, (const short *)in, (sf_count_t)frames);
		break;
	case PT_SAMPLE_FLOAT_LE:
		put = sf_writef_float(st->sf, (const float *)in, (sf_count_t)frames);
		break;
	case PT_SAMPLE_S32_LE:
		put = sf_writef_int(st->sf, (const int *)in, (sf_count_t)frames);
		break;
	default:
		for (size_t i = 0; i < frames * f->channels; i++) {
			int32_t v;

			memcpy(&v, in + 4 * i, 4);
			/* S24_4LE: sign-extend the low 24 bits, then place
			 * them at the top as libsndfile's int scale wants. */
			v = (int32_t)((uint32_t)v << 8);
			st->scratch[i] = v;
		}
		put = sf_writef_int(st->sf, st->scratch, (sf_count_t)frames);
		break;
	}
	return put == (sf_count_t)frames ? 0 : -EIO;
}

/* The output takes whatever has arrived, so its pace never holds back the
 * graph. */
static bool output_ready(struct pt_module *mod, struct pt_source *const *src,
			 unsigned nsrc, struct pt_sink *const *snk,
			 unsigned nsnk)
{
	(void)mod;
	(void)snk;
	(void)nsnk;
	return nsrc == 1 && pt_source_available(src[0]) > 0;
}

static int output_process(struct pt_module *mod, struct pt_source *const *src,
			  unsigned nsrc, struct pt_sink *const *snk,
			  unsigned nsnk)
{
	struct io_state *st = pt_mod_priv(mod);
	const struct pt_format *f = pt_source_format(src[0]);
	size_t frame = pt_frame_bytes(f);
	size_t avail = pt_source_frames_available(src[0]);
	const void *data, *start;
	size_t bsize, done = 0;
	int ret;

	(void)nsrc;
	(void)snk;
	(void)nsnk;
	if (!avail)
		return 0;
	ret = pt_source_get_data(src[0], avail * frame, &data, &start, &bsize);
	if (ret)
		return ret;
	while (done < avail) {
		const uint8_t *p = (const uint8_t *)start +
				   ((size_t)((const uint8_t *)data -
					     (const uint8_t *)start) +
				    done * frame) % bsize;
		size_t until_wrap = ((const uint8_t *)start + bsize - p) / frame;
		size_t n = avail - done < until_wrap ? avail - done : until_wrap;
		size_t left = st->target - st->frames_done;
		size_t keep = n < left ? n : left;

		if (keep && st->sf) {
			ret = output_write(st, f, p, keep);
			if (ret) {
				pt_log(mod, PT_LOG_ERR, "writing '%s': %s",
				       st->path, sf_strerror(st->sf));
				return ret;
			}
			st->frames_done += keep;
		}
		done += n;
	}
	return pt_source_release(src[0], avail * frame);
}

static int output_reset(struct pt_module *mod)
{
	struct io_state *st = pt_mod_priv(mod);

	/* RESET ends the file; the next prepare starts a new one. */
	if (st->sf && sf_close(st->sf)) {
		st->sf = NULL;
		return -EIO;
	}
	st->sf = NULL;
	return 0;
}

/* file=PATH names another output file; it is created at the next prepare,
 * so this is for a pipeline in RESET. */
static int output_set_config(struct pt_module *mod, uint32_t param,
			     const void *data, size_t size)
{
	struct io_state *st = pt_mod_priv(mod);
	char path[IO_PATH_MAX];
	int ret;

	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	ret = open_path(mod, data, size, path);
	if (ret)
		return ret;
	if (!major_of(path)) {
		pt_log(mod, PT_LOG_ERR,
		       "'%s': unknown file type (use .wav, .flac, .aiff, .au, .caf, .w64, .ogg or .raw)",
		       path);
		return -EINVAL;
	}
	if (st->sf) {
		pt_log(mod, PT_LOG_ERR, "'%s' is open: change the file in RESET",
		       st->path);
		return -EBUSY;
	}
	memcpy(st->path, path, sizeof(st->path));
	return 0;
}

static const struct pt_module_ops output_ops = {
	.init = output_init,
	.set_config = output_set_config,
	.prepare = output_prepare,
	.process = output_process,
	.is_ready = output_ready,
	.reset = output_reset,
	.free = io_free,
};

static const struct pt_manifest output_manifest = {
	.magic = PT_MANIFEST_MAGIC,
	.abi_version = PT_ABI_VERSION,
	.flags = PT_MOD_FLAG_CUSTOM_READY,
	.name = "output",
	.uuid = { 0x70, 0x74, 0x69, 0x6f, 0x6f, 0x75, 0x74, 0x70, 0x75, 2 },
	.version = PT_VERSION(1, 0, 0),
	.heap_size = 4096,
	.max_sources = 1,
	.max_sinks = 0,
};

static const struct pt_module_entry output_entry = { &output_manifest,
						     &output_ops };

/* ---- lookups ---- */

const struct pt_module_entry *pt_io_find(const char *name)
{
	if (!name)
		return NULL;
	if (!strcmp(name, "input"))
		return &input_entry;
	if (!strcmp(name, "output"))
		return &output_entry;
	/* The live endpoints (ALSA devices) are endpoints too. */
	return pt_alsa_find(name);
}

bool pt_io_is_input(const struct pt_instance *inst)
{
	return inst->entry == &input_entry;
}

bool pt_io_is_output(const struct pt_instance *inst)
{
	return inst->entry == &output_entry;
}

static void natural_format(const SF_INFO *info, struct pt_format *fmt)
{
	fmt->rate = (uint32_t)info->samplerate;
	fmt->channels = (uint16_t)info->channels;
	switch (info->format & SF_FORMAT_SUBMASK) {
	case SF_FORMAT_PCM_S8:
	case SF_FORMAT_PCM_U8:
	case SF_FORMAT_PCM_16:
	case SF_FORMAT_ULAW:
	case SF_FORMAT_ALAW:
		fmt->sample = PT_SAMPLE_S16_LE;
		break;
	case SF_FORMAT_PCM_24:
		fmt->sample = PT_SAMPLE_S24_4LE;
		break;
	case SF_FORMAT_PCM_32:
		fmt->sample = PT_SAMPLE_S32_LE;
		break;
	default:
		fmt->sample = PT_SAMPLE_FLOAT_LE;
		break;
	}
}

int pt_io_input_info(const struct pt_instance *inst, uint64_t *frames,
		     struct pt_format *fmt)
{
	const struct io_state *st;

	if (!pt_io_is_input(inst) || !(st = inst->mod.priv) || !st->sf)
		return -EINVAL;
	*frames = (uint64_t)st->info.frames;
	natural_format(&st->info, fmt);
	return 0;
}

int pt_io_probe(const char *path, uint64_t *frames, struct pt_format *fmt,
		char *err, size_t errlen)
{
	SF_INFO info;
	SNDFILE *sf;
	int ret = read_file(path, &sf, &info, err, errlen);

	if (ret)
		return ret;
	sf_close(sf);
	*frames = (uint64_t)info.frames;
	natural_format(&info, fmt);
	return 0;
}

void pt_io_output_length(struct pt_instance *inst, uint64_t frames)
{
	struct io_state *st;

	if (!pt_io_is_output(inst) || !(st = inst->mod.priv))
		return;
	st->target = frames;
}

bool pt_io_output_done(const struct pt_instance *inst)
{
	const struct io_state *st;

	if (!pt_io_is_output(inst) || !(st = inst->mod.priv))
		return true;
	return st->frames_done >= st->target;
}

const char *pt_io_path(const struct pt_instance *inst)
{
	const struct io_state *st;

	if ((!pt_io_is_input(inst) && !pt_io_is_output(inst)) ||
	    !(st = inst->mod.priv))
		return "";
	return st->path;
}

uint64_t pt_io_output_written(const struct pt_instance *inst)
{
	const struct io_state *st;

	if (!pt_io_is_output(inst) || !(st = inst->mod.priv))
		return 0;
	return st->frames_done;
}

int pt_io_output_close(struct pt_instance *inst, char *err, size_t errlen)
{
	struct io_state *st;
	int ret = 0;

	if (!pt_io_is_output(inst) || !(st = inst->mod.priv) || !st->sf)
		return 0;
	if (sf_close(st->sf)) {
		snprintf(err, errlen, "closing '%s' failed", st->path);
		ret = -EIO;
	}
	st->sf = NULL;
	return ret;
}
