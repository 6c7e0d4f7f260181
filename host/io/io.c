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
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "host/graph/graph.h"
#include "host/io/alsa.h"
#include "host/io/io.h"
#include "host/io/iothread.h"

#define IO_PATH_MAX 4096
#define IO_CHUNK 1024 /* frames converted at a time */
/* Live, the rings between the period thread and the I/O thread: what an
 * input reads ahead, what an output may hold before the file has it. */
#define IO_LIVE_IN_MS 500
#define IO_LIVE_OUT_MS 2000
#define IO_LIVE_MIN_PERIODS 16

/* Standard input read in whole, or standard output gathered until the
 * file is complete: a file in memory for libsndfile's virtual I/O, which
 * seeks back to write or read a header. */
struct io_mem {
	uint8_t *data;
	size_t len, cap, pos;
};

/* An open file: libsndfile's handle over a descriptor we own, or over
 * memory. */
struct io_file {
	SNDFILE *sf;
	SF_INFO info;
	int fd;
	struct io_mem *mem;
};

struct io_state {
	struct io_file f;
	char path[IO_PATH_MAX];
	uint64_t frames_done; /* input: frames read; output: frames written */
	uint64_t target;      /* output: frames to write in all */
	bool eof;
	/* input: the data ends before the header says (a cut or corrupt
	 * file); found at open or while reading, told once. */
	bool damaged, damage_told, read_error;
	uint64_t damage_frame, damage_claimed;
	char damage[160];
	/* output: the file being written, renamed to path when complete;
	 * the container (0: from the extension) and the sample encoding (0
	 * bits: the stream's) */
	char tmp[IO_PATH_MAX + 32], final[IO_PATH_MAX];
	/* The file being written has no name (O_TMPFILE) until it is put in
	 * place, so a run that dies (SIGKILL) leaves nothing: tmp is empty
	 * and tmpl says where it goes. */
	char tmpl[IO_PATH_MAX + 32];
	bool unnamed;
	int major, codec, bits; /* major: set for an output only */
	bool is_float, exact;
	/* Live (pt_io_live_begin): the file is read and written by the I/O
	 * thread through a ring in the stream's format. The period thread
	 * owns ring_rd of an input and ring_wr of an output, the I/O thread
	 * the other; ended (input: the I/O thread read the end of the data,
	 * with ended_damaged if it ended early) and failed (output: a write
	 * failed, why in werr) are published with release. */
	bool live, queued;
	struct pt_iowork work;
	struct pt_format fmt;
	uint8_t *ring;
	size_t ring_frames, frame;
	_Atomic uint64_t ring_wr, ring_rd;
	atomic_bool ended, ended_damaged, failed;
	char werr[160];
	uint64_t xruns; /* the period thread's */
	int32_t scratch[IO_CHUNK * PT_CHANNELS_MAX];
};

static bool live_mode;
static bool std_closed[3]; /* pt_io_guard_std */

void pt_io_guard_std(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			std_closed[fd] = true;
			/* The lowest free number: fd itself. */
			if (open("/dev/null", O_RDWR) != fd)
				abort();
		}
}

bool pt_io_std_closed(int fd)
{
	return fd >= 0 && fd < 3 && std_closed[fd];
}

static struct io_state *state_of_work(struct pt_iowork *w)
{
	return (struct io_state *)((char *)w - offsetof(struct io_state, work));
}

/* Copies @n frames between two circular buffers: from @src at frame @from
 * of @scap frames to @dst at frame @to of @dcap frames. */
static void ring_copy(uint8_t *dst, size_t dcap, size_t to, const uint8_t *src,
		      size_t scap, size_t from, size_t n, size_t frame)
{
	while (n) {
		size_t d = to % dcap, s = from % scap, k = n;

		if (k > dcap - d)
			k = dcap - d;
		if (k > scap - s)
			k = scap - s;
		memcpy(dst + d * frame, src + s * frame, k * frame);
		to += k;
		from += k;
		n -= k;
	}
}

/* Gives @st a ring of @ms of @f (at least IO_LIVE_MIN_PERIODS periods of
 * @period frames) and the I/O thread's @run; waits for one pass of the
 * I/O thread (an input's read-ahead). */
static int live_attach(struct io_state *st, const struct pt_format *f,
		       size_t period, unsigned ms,
		       void (*run)(struct pt_iowork *w))
{
	size_t frames = (size_t)f->rate * ms / 1000;

	if (frames < IO_LIVE_MIN_PERIODS * period)
		frames = IO_LIVE_MIN_PERIODS * period;
	pt_iothread_lock();
	if (st->queued)
		pt_iothread_remove(&st->work);
	st->queued = false;
	free(st->ring);
	st->fmt = *f;
	st->frame = pt_frame_bytes(f);
	st->ring_frames = frames;
	/* Allocated after mlockall: locked and populated. */
	st->ring = calloc(frames, st->frame);
	atomic_store(&st->ring_wr, 0);
	atomic_store(&st->ring_rd, 0);
	atomic_store(&st->ended, false);
	atomic_store(&st->ended_damaged, false);
	atomic_store(&st->failed, false);
	st->xruns = 0;
	if (!st->ring) {
		pt_iothread_unlock();
		return -ENOMEM;
	}
	st->live = true;
	st->work.run = run;
	pt_iothread_add(&st->work);
	st->queued = true;
	pt_iothread_wait_pass();
	pt_iothread_unlock();
	return 0;
}

/* Takes @st off the I/O thread; an output's ring is written out first
 * unless @drop. */
static void live_detach(struct io_state *st, bool drop)
{
	if (!st->queued)
		return;
	pt_iothread_lock();
	/* The thread stopped: the ring is written out here. */
	if (!drop && !pt_iothread_running())
		st->work.run(&st->work);
	while (!drop && !atomic_load_explicit(&st->failed, memory_order_acquire) &&
	       atomic_load(&st->ring_rd) != atomic_load(&st->ring_wr))
		pt_iothread_wait_pass();
	pt_iothread_remove(&st->work);
	st->queued = false;
	pt_iothread_unlock();
}


/* ---- files: regular files only, '-' for standard input and output ---- */

static sf_count_t mem_len(void *u)
{
	return (sf_count_t)((struct io_mem *)u)->len;
}

static sf_count_t mem_seek(sf_count_t off, int whence, void *u)
{
	struct io_mem *m = u;
	sf_count_t base = whence == SEEK_CUR ? (sf_count_t)m->pos :
			  whence == SEEK_END ? (sf_count_t)m->len : 0;

	if (base + off < 0)
		return -1;
	m->pos = (size_t)(base + off);
	return (sf_count_t)m->pos;
}

static sf_count_t mem_read(void *ptr, sf_count_t n, void *u)
{
	struct io_mem *m = u;
	size_t left = m->pos < m->len ? m->len - m->pos : 0;
	size_t k = (size_t)n < left ? (size_t)n : left;

	memcpy(ptr, m->data + m->pos, k);
	m->pos += k;
	return (sf_count_t)k;
}

static int mem_room(struct io_mem *m, size_t need)
{
	size_t cap = m->cap ? m->cap : 65536;
	uint8_t *p;

	if (need <= m->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	p = realloc(m->data, cap);
	if (!p)
		return -ENOMEM;
	m->data = p;
	m->cap = cap;
	return 0;
}

static sf_count_t mem_write(const void *ptr, sf_count_t n, void *u)
{
	struct io_mem *m = u;

	if (mem_room(m, m->pos + (size_t)n))
		return 0;
	if (m->pos > m->len)
		memset(m->data + m->len, 0, m->pos - m->len);
	memcpy(m->data + m->pos, ptr, (size_t)n);
	m->pos += (size_t)n;
	if (m->pos > m->len)
		m->len = m->pos;
	return n;
}

static sf_count_t mem_tell(void *u)
{
	return (sf_count_t)((struct io_mem *)u)->pos;
}

static SF_VIRTUAL_IO mem_io = { mem_len, mem_seek, mem_read, mem_write,
				mem_tell };

static void mem_free(struct io_mem *m)
{
	if (m)
		free(m->data);
	free(m);
}

/* Closes @f; returns 0 or -EIO when libsndfile could not finish it. */
static int file_close(struct io_file *f)
{
	int ret = 0;

	if (f->sf && sf_close(f->sf))
		ret = -EIO;
	f->sf = NULL;
	/* A file system may tell a failed write only here (NFS, quotas). */
	if (f->fd >= 0 && close(f->fd) && errno != EINTR)
		ret = -errno;
	f->fd = -1;
	mem_free(f->mem);
	f->mem = NULL;
	return ret;
}

static const char *kind_of(mode_t m)
{
	return S_ISFIFO(m) ? "a FIFO" : S_ISDIR(m) ? "a folder" :
	       S_ISCHR(m) || S_ISBLK(m) ? "a device" : S_ISSOCK(m) ? "a socket" :
	       "not a regular file";
}

/* Reads all of standard input into memory. */
static int stdin_read(struct io_mem *m, char *err, size_t errlen)
{
	if (isatty(0) || std_closed[0]) {
		snprintf(err, errlen, "'-' reads standard input, which is %s",
			 std_closed[0] ? "closed" : "a terminal");
		return -EINVAL;
	}
	for (;;) {
		ssize_t n;

		if (mem_room(m, m->len + 65536)) {
			snprintf(err, errlen, "standard input: out of memory");
			return -ENOMEM;
		}
		/* EINTR too: a signal (Ctrl-C) while waiting for input ends
		 * the wait. */
		n = read(0, m->data + m->len, m->cap - m->len);
		if (n < 0) {
			snprintf(err, errlen, "reading standard input: %s",
				 errno == EINTR ? "stopped by a signal" : strerror(errno));
			return -EIO;
		}
		if (!n)
			return 0;
		m->len += (size_t)n;
	}
}

/* Opens @path ('-': standard input) for reading. Only a regular file is
 * opened, without blocking: a FIFO is refused, never waited on. */
static int file_open_read(const char *path, struct io_file *f, char *err,
			  size_t errlen)
{
	struct stat st;
	int ret;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if (!strcmp(path, "-")) {
		f->mem = calloc(1, sizeof(*f->mem));
		if (!f->mem) {
			snprintf(err, errlen, "standard input: out of memory");
			return -ENOMEM;
		}
		ret = stdin_read(f->mem, err, errlen);
		if (!ret && !(f->sf = sf_open_virtual(&mem_io, SFM_READ, &f->info,
						      f->mem))) {
			snprintf(err, errlen, "cannot read standard input: %s",
				 sf_strerror(NULL));
			ret = -EINVAL;
		}
	} else {
		f->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (f->fd < 0) {
			snprintf(err, errlen, "cannot read '%s': %s", path,
				 strerror(errno));
			return -errno;
		}
		if (fstat(f->fd, &st) || !S_ISREG(st.st_mode)) {
			snprintf(err, errlen,
				 "'%s' is %s: an input must be a regular file ('-' reads standard input)",
				 path, kind_of(st.st_mode));
			ret = -EINVAL;
		} else if (!(f->sf = sf_open_fd(f->fd, SFM_READ, &f->info, SF_FALSE))) {
			snprintf(err, errlen, "cannot read '%s': %s", path,
				 sf_strerror(NULL));
			ret = -EINVAL;
		} else {
			ret = 0;
		}
	}
	if (ret)
		file_close(f);
	return ret;
}

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

	if (st) {
		st->f.fd = -1;
		pt_mod_set_priv(mod, st);
	}
	return st;
}

static int output_commit(struct io_state *st, char *err, size_t errlen);

/* An output still open when its instance goes (a host that exits while
 * the pipeline runs) is finished and put in place, as a RESET would;
 * pt_io_output_discard() first makes it leave nothing instead. */
static void io_free(struct pt_module *mod)
{
	struct io_state *st = pt_mod_priv(mod);
	char err[IO_PATH_MAX + 64];

	if (!st)
		return;
	/* An output's ring is written out by its commit. */
	if (st->major && st->f.sf && output_commit(st, err, sizeof(err)))
		fprintf(stderr, "partita: %s\n", err);
	live_detach(st, true);
	file_close(&st->f);
	free(st->ring);
	free(st);
	pt_mod_set_priv(mod, NULL);
}

/* ---- input ---- */

/* What pt_io_probe opened, kept for the input endpoint that reads the same
 * path: every input is opened once (standard input can only be). */
static struct {
	char path[IO_PATH_MAX];
	struct io_file f;
	bool held;
} probed;

void pt_io_probe_release(void)
{
	if (probed.held)
		file_close(&probed.f);
	probed.held = false;
}

/* Opens @path for reading and checks that a stream can carry it. */
static int read_file(const char *path, struct io_file *f, char *err,
		     size_t errlen)
{
	int ret;

	if (probed.held && !strcmp(probed.path, path)) {
		*f = probed.f;
		probed.held = false;
		return 0;
	}
	ret = file_open_read(path, f, err, errlen);
	if (ret)
		return ret;
	/* A length libsndfile cannot tell (an Ogg cut short) is counted, so
	 * that the outputs' length is the input's, not years of silence. */
	if ((f->info.frames < 0 || f->info.frames == SF_COUNT_MAX) &&
	    f->info.channels > 0 && f->info.channels <= PT_CHANNELS_MAX) {
		float buf[1024 * PT_CHANNELS_MAX];
		sf_count_t n, total = 0;

		while ((n = sf_readf_float(f->sf, buf, 1024)) > 0)
			total += n;
		if (sf_seek(f->sf, 0, SEEK_SET) != 0) {
			snprintf(err, errlen, "'%s': its length cannot be told (%s)",
				 path, sf_strerror(f->sf));
			file_close(f);
			return -EINVAL;
		}
		f->info.frames = total;
	}
	if (f->info.channels < 1 || f->info.channels > PT_CHANNELS_MAX ||
	    f->info.samplerate < PT_RATE_MIN || f->info.samplerate > PT_RATE_MAX) {
		snprintf(err, errlen,
			 "'%s' has %d channels at %d Hz; supported are 1..%d channels at %d..%d Hz",
			 path, f->info.channels, f->info.samplerate, PT_CHANNELS_MAX,
			 PT_RATE_MIN, PT_RATE_MAX);
		file_close(f);
		return -EINVAL;
	}
	return 0;
}

/* Bytes of one sample of an uncompressed subformat, 0 for others. */
static unsigned sample_bytes(int format)
{
	switch (format & SF_FORMAT_SUBMASK) {
	case SF_FORMAT_PCM_S8:
	case SF_FORMAT_PCM_U8:
	case SF_FORMAT_ULAW:
	case SF_FORMAT_ALAW:
		return 1;
	case SF_FORMAT_PCM_16:
		return 2;
	case SF_FORMAT_PCM_24:
		return 3;
	case SF_FORMAT_PCM_32:
	case SF_FORMAT_FLOAT:
		return 4;
	case SF_FORMAT_DOUBLE:
		return 8;
	default:
		return 0;
	}
}

/* libsndfile trims a data chunk that claims more bytes than the file
 * holds, and says so in its log ("data : 192000 (should be 95978)"): a
 * file cut short. */
static void header_check(struct io_state *st)
{
	char log[4096];
	const char *p = log;

	log[0] = 0;
	sf_command(st->f.sf, SFC_GET_LOG_INFO, log, sizeof(log));
	for (; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		unsigned long long said, is;

		/* A stream written to a pipe (arecord, sox) could not know
		 * its length: its header holds a placeholder near 2 or 4 GiB,
		 * which is no damage. */
		int major = st->f.info.format & SF_FORMAT_TYPEMASK;
		bool whole = false; /* the size of the file, not of its data */

		/* An Ogg stream cut short: libsndfile decodes none of it. */
		if (!strncmp(p, "Ogg : File ended unexpectedly", 29)) {
			st->damaged = true;
			st->damage_frame = st->damage_claimed =
				(uint64_t)st->f.info.frames;
			snprintf(st->damage, sizeof(st->damage),
				 "the file ends without the end of its Ogg stream");
			return;
		}

		/* WAV, AIFF, AU: the data chunk's size; W64 and RF64 (64-bit
		 * sizes): the whole file's, which a cut file also shows. */
		if ((sscanf(p, " data : %llu (should be %llu)", &said, &is) == 2 ||
		     sscanf(p, " SSND : %llu (should be %llu)", &said, &is) == 2 ||
		     sscanf(p, " Data Size : %llu (should be %llu)", &said, &is) == 2 ||
		     ((major == SF_FORMAT_W64 || major == SF_FORMAT_RF64) &&
		      (whole = sscanf(p, " riff : %llu (should be %llu)", &said, &is) == 2 ||
			       sscanf(p, " Riff size : %llu (should be %llu)", &said,
				      &is) == 2))) &&
		    is < said && said < 0x7ffff000ull) {
			uint64_t fb = (uint64_t)st->f.info.channels *
				      sample_bytes(st->f.info.format);

			st->damaged = true;
			st->damage_frame = (uint64_t)st->f.info.frames;
			st->damage_claimed = said;
			if (!st->f.info.frames) {
				/* No whole frame: the size the header gives. */
				st->damage_claimed = fb ? said / fb : said;
			} else {
				/* Bytes per frame: what the file holds over
				 * its frames (a partial frame rounds away). */
				uint64_t per = (is + (uint64_t)st->f.info.frames / 2) /
					       (uint64_t)st->f.info.frames;

				st->damage_claimed = per ? said / per : said;
			}
			/* The file's size: the frames missing are the bytes
			 * missing. */
			if (whole && fb)
				st->damage_claimed = (uint64_t)st->f.info.frames +
						     (said - is) / fb;
			snprintf(st->damage, sizeof(st->damage),
				 "its header claims %llu bytes of %s, the file holds %llu",
				 said, whole ? "file" : "data", is);
			return;
		}
	}
}

/* Makes @path the input's file, from its start. */
static int input_open(struct pt_module *mod, struct io_state *st,
		      const char *path)
{
	char err[IO_PATH_MAX + 128];
	struct io_file f;

	if (read_file(path, &f, err, sizeof(err))) {
		pt_log(mod, PT_LOG_ERR, "%s", err);
		return -EINVAL;
	}
	file_close(&st->f);
	st->f = f;
	st->eof = false;
	st->frames_done = 0;
	st->damaged = st->damage_told = st->read_error = false;
	if (path != st->path)
		snprintf(st->path, sizeof(st->path), "%s", path);
	header_check(st);
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


static void input_work(struct pt_iowork *w);

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
	if (!st->f.sf && (ret = input_open(mod, st, st->path)))
		return ret;
	f = pt_sink_format(snk[0]);
	if ((int)f->rate != st->f.info.samplerate) {
		pt_log(mod, PT_LOG_ERR,
		       "'%s' is %d Hz but the stream is %u Hz (add an src instance)",
		       st->path, st->f.info.samplerate, f->rate);
		return -EINVAL;
	}
	if (f->channels != st->f.info.channels && st->f.info.channels != 1) {
		pt_log(mod, PT_LOG_ERR,
		       "'%s' has %d channels but the stream has %u", st->path,
		       st->f.info.channels, f->channels);
		return -EINVAL;
	}
	if (live_mode)
		return live_attach(st, f, pt_mod_period_frames(mod), IO_LIVE_IN_MS,
				   input_work);
	return 0;
}

/* Reads up to @frames frames at @out in the stream's format; mono files are
 * spread to every channel. Returns the frames read. */
static size_t input_read(struct io_state *st, const struct pt_format *f,
			 uint8_t *out, size_t frames)
{
	unsigned fch = (unsigned)st->f.info.channels, ch = f->channels;
	SNDFILE *sf = st->f.sf;
	size_t got;

	if (frames > IO_CHUNK)
		frames = IO_CHUNK;
	switch (f->sample) {
	case PT_SAMPLE_S16_LE:
		got = (size_t)sf_readf_short(sf, (short *)st->scratch,
					     (sf_count_t)frames);
		for (size_t i = 0; i < got * ch; i++)
			((int16_t *)out)[i] =
				((int16_t *)st->scratch)[(i / ch) * fch + (i % ch) % fch];
		break;
	case PT_SAMPLE_FLOAT_LE:
		got = (size_t)sf_readf_float(sf, (float *)st->scratch,
					     (sf_count_t)frames);
		for (size_t i = 0; i < got * ch; i++)
			((float *)out)[i] =
				((float *)st->scratch)[(i / ch) * fch + (i % ch) % fch];
		break;
	default:
		got = (size_t)sf_readf_int(sf, st->scratch, (sf_count_t)frames);
		for (size_t i = 0; i < got * ch; i++) {
			int32_t v = st->scratch[(i / ch) * fch + (i % ch) % fch];

			((int32_t *)out)[i] =
				f->sample == PT_SAMPLE_S24_4LE ? v >> 8 : v;
		}
		break;
	}
	/* A decoder error shows on the short read; later reads clear it. */
	if (got < frames && sf_error(sf) && !st->damaged) {
		snprintf(st->damage, sizeof(st->damage), "%s", sf_strerror(sf));
		st->read_error = true;
	}
	return got;
}

/* The data ended: before the frame count the file declared, or with a
 * decoder error, the file is damaged. */
/* Notes where the data ended when it ended before the frames the file
 * claims (or on a read error); returns true then. st->damaged is left to
 * the caller: live, the I/O thread notes and the period thread sets it. */
static bool note_early_end(struct io_state *st)
{
	if (st->damaged ||
	    (!st->read_error && st->frames_done >= (uint64_t)st->f.info.frames))
		return false;
	st->damage_frame = st->frames_done;
	st->damage_claimed = (uint64_t)st->f.info.frames;
	if (!st->read_error)
		snprintf(st->damage, sizeof(st->damage), "the data ends early");
	return true;
}

static void input_ended(struct io_state *st)
{
	st->eof = true;
	if (note_early_end(st))
		st->damaged = true;
}

/* Live, on the I/O thread: reads ahead until the ring is full or the data
 * ends. */
static void input_work(struct pt_iowork *w)
{
	struct io_state *st = state_of_work(w);

	while (!atomic_load_explicit(&st->ended, memory_order_relaxed)) {
		uint64_t wr = atomic_load_explicit(&st->ring_wr, memory_order_relaxed);
		uint64_t rd = atomic_load_explicit(&st->ring_rd, memory_order_acquire);
		size_t at = (size_t)(wr % st->ring_frames);
		size_t n = st->ring_frames - (size_t)(wr - rd), got;

		if (!n)
			break;
		if (n > st->ring_frames - at)
			n = st->ring_frames - at;
		got = input_read(st, &st->fmt, st->ring + at * st->frame, n);
		if (!got) {
			/* Into the fields the period thread reads only once it
			 * has seen ended. */
			atomic_store_explicit(&st->ended_damaged, note_early_end(st),
					      memory_order_relaxed);
			atomic_store_explicit(&st->ended, true, memory_order_release);
			break;
		}
		st->frames_done += got;
		atomic_store_explicit(&st->ring_wr, wr + got, memory_order_release);
	}
}

/* Live, on the period thread: a period from the ring. Data the I/O thread
 * has not read yet is an xrun: the period is silence and the file resumes
 * where it was in the next one. */
static void input_take(struct io_state *st, uint8_t *start, size_t bsize,
		       size_t at, size_t want)
{
	size_t frame = st->frame, cap = bsize / frame, take;
	bool ended = atomic_load_explicit(&st->ended, memory_order_acquire);
	uint64_t rd = atomic_load_explicit(&st->ring_rd, memory_order_relaxed);
	uint64_t avail = atomic_load_explicit(&st->ring_wr, memory_order_acquire) - rd;

	if (avail >= want) {
		take = want;
	} else if (ended) {
		take = (size_t)avail;
		if (!st->eof) {
			st->eof = true;
			if (atomic_load_explicit(&st->ended_damaged, memory_order_relaxed))
				st->damaged = true;
		}
	} else {
		take = 0;
		st->xruns++;
	}
	ring_copy(start, cap, at, st->ring, st->ring_frames, (size_t)rd, take, frame);
	for (size_t i = take; i < want; i++)
		memset(start + ((at + i) % cap) * frame, 0, frame);
	atomic_store_explicit(&st->ring_rd, rd + take, memory_order_release);
	if (!ended && avail - take < st->ring_frames / 2)
		pt_iothread_kick();
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
	if (st->live) {
		input_take(st, start, bsize,
			   (size_t)((uint8_t *)data - (uint8_t *)start) / frame, want);
		return pt_sink_commit(snk[0], want * frame);
	}
	while (done < want) {
		uint8_t *p = (uint8_t *)start +
			     ((size_t)((uint8_t *)data - (uint8_t *)start) +
			      done * frame) % bsize;
		size_t until_wrap = ((uint8_t *)start + bsize - p) / frame;
		size_t n = want - done < until_wrap ? want - done : until_wrap;
		size_t got = st->eof ? 0 : input_read(st, f, p, n);

		if (got == 0) {
			if (!st->eof)
				input_ended(st);
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

	/* RESET ends the read; the next run starts the file again (a file
	 * in memory too: standard input is read once). Live, the I/O thread
	 * reads again from the start (no period runs in RESET). */
	if (st->queued)
		pt_iothread_lock();
	if (st->f.sf)
		sf_seek(st->f.sf, 0, SEEK_SET);
	st->eof = false;
	st->frames_done = 0;
	if (st->queued) {
		atomic_store(&st->ring_wr, 0);
		atomic_store(&st->ring_rd, 0);
		atomic_store(&st->ended, false);
		pt_iothread_unlock();
	}
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
	/* Open: switch files now. Otherwise the file is opened when the
	 * pipeline starts, like the one init named. */
	if (st->f.sf && st->queued) {
		/* Live: the new file follows what was read ahead. */
		pt_iothread_lock();
		ret = input_open(mod, st, path);
		atomic_store_explicit(&st->ended, false, memory_order_release);
		pt_iothread_unlock();
		return ret;
	}
	if (st->f.sf)
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

/* The containers come from libsndfile (its major formats and their
 * extensions); a few common names libsndfile spells otherwise are
 * aliases, with the codec they imply. */
static int container_of(const char *type, int *codec)
{
	static const struct {
		const char *name, *as;
		int codec;
	} alias[] = {
		{ "aif", "aiff", 0 },
		{ "ogg", "oga", SF_FORMAT_VORBIS },
		{ "vorbis", "oga", SF_FORMAT_VORBIS },
		{ "opus", "oga", SF_FORMAT_OPUS },
		{ "mp3", "m1a", SF_FORMAT_MPEG_LAYER_III },
	};
	int n = 0;

	*codec = 0;
	if (!type || !*type)
		return 0;
	if (!strcasecmp(type, "wav"))
		return SF_FORMAT_WAV; /* not NIST's or WAVEX, which share it */
	for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (!strcasecmp(type, alias[i].name)) {
			type = alias[i].as;
			*codec = alias[i].codec;
		}
	sf_command(NULL, SFC_GET_FORMAT_MAJOR_COUNT, &n, sizeof(n));
	for (int i = 0; i < n; i++) {
		SF_FORMAT_INFO fi = { .format = i };

		/* SD2 keeps a resource fork in a second file, written by
		 * name: it cannot be written beside and renamed. */
		if (!sf_command(NULL, SFC_GET_FORMAT_MAJOR, &fi, sizeof(fi)) &&
		    !strcasecmp(fi.extension, type) && fi.format != SF_FORMAT_SD2) {
			if (!*codec && fi.format == SF_FORMAT_OGG)
				*codec = SF_FORMAT_VORBIS;
			if (!*codec && fi.format == SF_FORMAT_MPEG)
				*codec = SF_FORMAT_MPEG_LAYER_III;
			return fi.format;
		}
	}
	return 0;
}

static const char *extension_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');

	return dot ? dot + 1 : "";
}

int pt_io_containers(char *out, size_t len)
{
	int n = 0;
	size_t at = 0;

	out[0] = 0;
	sf_command(NULL, SFC_GET_FORMAT_MAJOR_COUNT, &n, sizeof(n));
	for (int i = 0; i < n; i++) {
		SF_FORMAT_INFO fi = { .format = i };
		int codec;

		if (sf_command(NULL, SFC_GET_FORMAT_MAJOR, &fi, sizeof(fi)) ||
		    container_of(fi.extension, &codec) != fi.format || at >= len)
			continue;
		at += (size_t)snprintf(out + at, len - at, "%s%s", at ? " " : "",
				       fi.extension);
	}
	/* The aliases, where this libsndfile writes their codec. */
	{
		static const char *const more[] = { "ogg", "opus", "mp3" };

		for (size_t i = 0; i < 3 && at < len; i++) {
			int codec, major = container_of(more[i], &codec);
			SF_INFO info = { .samplerate = 48000, .channels = 2,
					 .format = major | codec };

			if (major && sf_format_check(&info))
				at += (size_t)snprintf(out + at, len - at, " %s",
						       more[i]);
		}
	}
	return n;
}

static int output_type(struct pt_module *mod, struct io_state *st,
		       const void *data, size_t size)
{
	char type[32];
	int ret = pt_param_string(data, size, "type", type, sizeof(type));

	if (ret == -ENOENT)
		snprintf(type, sizeof(type), "%s", extension_of(st->path));
	else if (ret < 0)
		type[0] = 0;
	st->major = container_of(type, &st->codec);
	if (!st->major) {
		pt_log(mod, PT_LOG_ERR,
		       "'%s': unknown file type '%s' (see 'partita run --help' for the types; '-' needs type=)",
		       st->path, type);
		return -EINVAL;
	}
	return 0;
}

static int output_open(struct pt_module *mod, const void *data, size_t size)
{
	struct io_state *st = state_new(mod);
	int ret;

	if (!st)
		return -ENOMEM;
	ret = open_path(mod, data, size, st->path);
	if (!ret)
		ret = output_type(mod, st, data, size);
	st->target = UINT64_MAX;
	return ret;
}

static int output_init(struct pt_module *mod, const void *data, size_t size)
{
	int ret = output_open(mod, data, size);

	if (ret)
		io_free(mod);
	return ret;
}

static int sub_for(int bits, bool is_float)
{
	if (is_float)
		return bits == 64 ? SF_FORMAT_DOUBLE : SF_FORMAT_FLOAT;
	return bits == 8 ? SF_FORMAT_PCM_S8 : bits == 16 ? SF_FORMAT_PCM_16 :
	       bits == 24 ? SF_FORMAT_PCM_24 : SF_FORMAT_PCM_32;
}

/* The file's sample encoding: the one asked for (-b, -e), else the
 * stream's; a container that cannot hold the stream's gets the nearest it
 * holds (FLAC: 24 bits for a float stream). */
static int output_sub(struct pt_module *mod, struct io_state *st,
		      const struct pt_format *f, SF_INFO *info)
{
	static const int fallback[] = { SF_FORMAT_PCM_24, SF_FORMAT_PCM_16,
					SF_FORMAT_FLOAT, SF_FORMAT_PCM_32,
					SF_FORMAT_PCM_U8, SF_FORMAT_PCM_S8 };
	int n = 0, want;

	if (st->codec) {
		info->format = st->major | st->codec;
		return sf_format_check(info) ? 0 : -EINVAL;
	}
	want = st->bits ? sub_for(st->bits, st->is_float) :
	       f->sample == PT_SAMPLE_S16_LE  ? SF_FORMAT_PCM_16 :
	       f->sample == PT_SAMPLE_S24_4LE ? SF_FORMAT_PCM_24 :
	       f->sample == PT_SAMPLE_S32_LE  ? SF_FORMAT_PCM_32 :
						SF_FORMAT_FLOAT;
	info->format = st->major | want;
	if (sf_format_check(info))
		return 0;
	/* 8 bits: signed or unsigned as the container holds them (WAV's
	 * are unsigned), as sox does. */
	if (want == SF_FORMAT_PCM_S8) {
		info->format = st->major | SF_FORMAT_PCM_U8;
		if (sf_format_check(info))
			return 0;
	}
	if (st->exact) {
		pt_log(mod, PT_LOG_ERR,
		       "'%s': this file type cannot hold %d-bit %s samples",
		       st->path, st->bits, st->is_float ? "float" : "signed");
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(fallback) / sizeof(fallback[0]); i++) {
		info->format = st->major | fallback[i];
		if (sf_format_check(info))
			return 0;
	}
	sf_command(NULL, SFC_GET_FORMAT_SUBTYPE_COUNT, &n, sizeof(n));
	for (int i = 0; i < n; i++) {
		SF_FORMAT_INFO fi = { .format = i };

		sf_command(NULL, SFC_GET_FORMAT_SUBTYPE, &fi, sizeof(fi));
		info->format = st->major | (fi.format & SF_FORMAT_SUBMASK);
		if (sf_format_check(info))
			return 0;
	}
	return -EINVAL;
}

/* Creates the file being written: standard output gathered in memory, or
 * a temporary file beside the output, renamed into place at close. */
static int output_create(struct pt_module *mod, struct io_state *st)
{
	char dir[IO_PATH_MAX], base[IO_PATH_MAX], *folder, *name;
	const char *target = st->path;
	struct stat sb;
	long name_max;
	mode_t mask;
	bool fits;

	st->tmp[0] = 0;
	if (!strcmp(st->path, "-") && std_closed[1]) {
		pt_log(mod, PT_LOG_ERR, "'-' writes standard output, which is closed");
		return -EBADF;
	}
	if (!strcmp(st->path, "-")) {
		st->f.mem = calloc(1, sizeof(*st->f.mem));
		if (!st->f.mem ||
		    !(st->f.sf = sf_open_virtual(&mem_io, SFM_WRITE, &st->f.info,
						 st->f.mem))) {
			pt_log(mod, PT_LOG_ERR, "cannot write standard output: %s",
			       sf_strerror(NULL));
			file_close(&st->f);
			return -EIO;
		}
		return 0;
	}
	if (!stat(st->path, &sb)) {
		if (!S_ISREG(sb.st_mode)) {
			pt_log(mod, PT_LOG_ERR,
			       "'%s' is %s: an output must be a regular file ('-' writes standard output)",
			       st->path, kind_of(sb.st_mode));
			return -EINVAL;
		}
		/* Through a symbolic link: the file it names is replaced. */
		if (realpath(st->path, st->final))
			target = st->final;
	}
	snprintf(dir, sizeof(dir), "%s", target);
	snprintf(base, sizeof(base), "%s", target);
	folder = dirname(dir);
	name = basename(base);
	name_max = pathconf(folder, _PC_NAME_MAX);
	if (name_max <= 0)
		name_max = NAME_MAX;
	if ((long)strlen(name) > name_max) {
		pt_log(mod, PT_LOG_ERR,
		       "an output's file name is too long (over %ld characters): '%s'",
		       name_max, st->path);
		return -ENAMETOOLONG;
	}
	/* The temporary's name holds the output's when there is room. */
	fits = (long)strlen(name) + 32 <= name_max;
	if ((size_t)snprintf(st->tmp, sizeof(st->tmp), "%s/.%s%spartita-XXXXXX", folder,
			     fits ? name : "", fits ? "." : "") >= sizeof(st->tmp)) {
		pt_log(mod, PT_LOG_ERR, "'%s': path too long", st->path);
		st->tmp[0] = 0;
		return -ENAMETOOLONG;
	}
	/* Without a name first (a file system without O_TMPFILE, or no
	 * /proc to name it by later: a named temporary). */
	memcpy(st->tmpl, st->tmp, sizeof(st->tmpl));
	st->unnamed = false;
	if (!access("/proc/self/fd", X_OK)) {
		st->f.fd = open(folder, O_TMPFILE | O_RDWR | O_CLOEXEC, 0666);
		st->unnamed = st->f.fd >= 0;
	}
	if (st->unnamed)
		st->tmp[0] = 0;
	else
		st->f.fd = mkostemp(st->tmp, O_CLOEXEC);
	if (st->f.fd < 0) {
		pt_log(mod, PT_LOG_ERR, "cannot write '%s': %s", st->path,
		       strerror(errno));
		st->tmp[0] = 0;
		return -EIO;
	}
	mask = umask(0);
	umask(mask);
	/* A file replaced keeps its permissions (a private recording stays
	 * private); a new one gets what umask leaves. */
	fchmod(st->f.fd, !stat(target, &sb) &&
				 S_ISREG(sb.st_mode) ? sb.st_mode & 07777 :
						       0666 & ~mask);
	st->f.sf = sf_open_fd(st->f.fd, SFM_WRITE, &st->f.info, SF_FALSE);
	if (!st->f.sf) {
		pt_log(mod, PT_LOG_ERR, "cannot write '%s': %s", st->path,
		       sf_strerror(NULL));
		unlink(st->tmp);
		st->tmp[0] = 0;
		file_close(&st->f);
		return -EIO;
	}
	if (target == st->path)
		snprintf(st->final, sizeof(st->final), "%s", st->path);
	return 0;
}

/* Gives the unnamed file being written a temporary name beside its
 * place (in tmp), to be renamed there. */
static int output_name(struct io_state *st)
{
	char fd[64];
	size_t n = strlen(st->tmpl) - 6; /* the XXXXXX */

	snprintf(fd, sizeof(fd), "/proc/self/fd/%d", st->f.fd);
	for (unsigned k = 0; k < 100; k++) {
		snprintf(st->tmp, sizeof(st->tmp), "%.*s%d-%u", (int)n, st->tmpl,
			 (int)getpid(), k);
		if (!linkat(AT_FDCWD, fd, AT_FDCWD, st->tmp, AT_SYMLINK_FOLLOW))
			return 0;
		if (errno != EEXIST)
			break;
	}
	st->tmp[0] = 0;
	return -errno;
}

/* Closes the file being written, then reads its header back: the frames
 * it holds must be the frames written. libsndfile does not report every
 * failure at close (a FLAC encoder's last block on a full disk), and a
 * file system may report one only at close. Why it failed is in werr. */
static int output_finish(struct io_state *st)
{
	SF_INFO info = { 0 };
	SNDFILE *back;
	int ret = 0, fd = st->f.fd, why;

	errno = 0;
	if (sf_close(st->f.sf))
		ret = -EIO;
	st->f.sf = NULL;
	why = errno; /* a write that failed while finishing, said or not */
	if (ret)
		snprintf(st->werr, sizeof(st->werr), "%s",
			 why ? strerror(why) : sf_strerror(NULL));
	/* Headerless raw cannot be read back; nor can what went to
	 * standard output. */
	if (!ret && fd >= 0 && st->major != SF_FORMAT_RAW && st->frames_done &&
	    lseek(fd, 0, SEEK_SET) == 0) {
		back = sf_open_fd(fd, SFM_READ, &info, SF_FALSE);
		if (!back || (uint64_t)info.frames != st->frames_done) {
			char held[64] = "cannot be read back";

			if (back && info.frames >= 0 && info.frames < SF_COUNT_MAX)
				snprintf(held, sizeof(held), "holds %lld frames",
					 (long long)info.frames);
			snprintf(st->werr, sizeof(st->werr),
				 "%s (%llu frames written; the file %s)",
				 why ? strerror(why) : "the file is incomplete",
				 (unsigned long long)st->frames_done, held);
			ret = -EIO;
		}
		if (back)
			sf_close(back);
	}
	/* Named beside its place while the descriptor still holds it. */
	if (!ret && fd >= 0 && st->unnamed && (ret = output_name(st)))
		snprintf(st->werr, sizeof(st->werr), "cannot name it: %s",
			 strerror(-ret));
	errno = 0;
	if (file_close(&st->f) && !ret) {
		snprintf(st->werr, sizeof(st->werr), "%s", strerror(errno));
		ret = -EIO;
	}
	return ret;
}

/* Finishes the file: its header written, then renamed into place (or
 * copied to standard output). */
static int output_commit(struct io_state *st, char *err, size_t errlen)
{
	struct io_mem *mem;
	int ret;

	live_detach(st, false);
	mem = st->f.mem;
	if (!st->f.sf)
		return 0;
	st->f.mem = NULL; /* kept until written out */
	if (atomic_load_explicit(&st->failed, memory_order_acquire)) {
		/* Part of the stream is missing: the file is not put in
		 * place. */
		file_close(&st->f);
		snprintf(err, errlen, "writing '%s' failed: %s", st->path, st->werr);
		ret = -EIO;
	} else if ((ret = output_finish(st))) {
		snprintf(err, errlen, "finishing '%s' failed: %s", st->path,
			 st->werr);
	} else if (mem) {
		for (size_t done = 0; done < mem->len;) {
			ssize_t n = write(1, mem->data + done, mem->len - done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				snprintf(err, errlen, "writing standard output: %s",
					 strerror(n < 0 ? errno : EIO));
				ret = -EIO;
				break;
			}
			done += (size_t)n;
		}
	} else {
		if (rename(st->tmp, st->final)) {
			snprintf(err, errlen, "cannot put '%s' in place: %s",
				 st->path, strerror(errno));
			ret = -EIO;
		}
	}
	if (ret && st->tmp[0])
		unlink(st->tmp);
	st->tmp[0] = 0;
	mem_free(mem);
	return ret;
}

static int output_write(struct io_state *st, const struct pt_format *f,
			const uint8_t *in, size_t frames);

/* Live, on the I/O thread: writes what the ring holds to the file. */
static void output_work(struct pt_iowork *w)
{
	struct io_state *st = state_of_work(w);

	while (st->f.sf && !atomic_load_explicit(&st->failed, memory_order_relaxed)) {
		uint64_t rd = atomic_load_explicit(&st->ring_rd, memory_order_relaxed);
		uint64_t wr = atomic_load_explicit(&st->ring_wr, memory_order_acquire);
		size_t at = (size_t)(rd % st->ring_frames), n = (size_t)(wr - rd);

		if (!n)
			break;
		if (n > st->ring_frames - at)
			n = st->ring_frames - at;
		if (n > IO_CHUNK)
			n = IO_CHUNK;
		if (output_write(st, &st->fmt, st->ring + at * st->frame, n)) {
			atomic_store_explicit(&st->failed, true, memory_order_release);
			break;
		}
		atomic_store_explicit(&st->ring_rd, rd + n, memory_order_release);
	}
}

static int output_prepare(struct pt_module *mod, struct pt_source *const *src,
			  unsigned nsrc, struct pt_sink *const *snk,
			  unsigned nsnk)
{
	struct io_state *st = pt_mod_priv(mod);
	const struct pt_format *f;
	int ret;

	(void)snk;
	if (nsrc != 1 || nsnk)
		return -EINVAL;
	f = pt_source_format(src[0]);
	if (st->f.sf) {
		if (st->tmp[0])
			unlink(st->tmp);
		file_close(&st->f);
	}
	memset(&st->f.info, 0, sizeof(st->f.info));
	st->f.info.samplerate = (int)f->rate;
	st->f.info.channels = f->channels;
	if (output_sub(mod, st, f, &st->f.info)) {
		if (!st->exact)
			pt_log(mod, PT_LOG_ERR,
			       "'%s': this file type cannot hold %u channels at %u Hz",
			       st->path, f->channels, f->rate);
		return -EINVAL;
	}
	ret = output_create(mod, st);
	if (ret)
		return ret;
	/* Float streams into integer files: clip, never wrap. */
	sf_command(st->f.sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
	st->frames_done = 0;
	atomic_store(&st->failed, false);
	if (live_mode)
		return live_attach(st, f, pt_mod_period_frames(mod), IO_LIVE_OUT_MS,
				   output_work);
	return 0;
}

static int output_write(struct io_state *st, const struct pt_format *f,
			const uint8_t *in, size_t frames)
{
	SNDFILE *sf = st->f.sf;
	sf_count_t put;

	errno = 0;
	switch (f->sample) {
	case PT_SAMPLE_S16_LE:
		put = sf_writef_short(sf, (const short *)in, (sf_count_t)frames);
		break;
	case PT_SAMPLE_FLOAT_LE:
		put = sf_writef_float(sf, (const float *)in, (sf_count_t)frames);
		break;
	case PT_SAMPLE_S32_LE:
		put = sf_writef_int(sf, (const int *)in, (sf_count_t)frames);
		break;
	default:
		/* In chunks of the scratch buffer: an output that runs late
		 * (DP) takes many periods at once. */
		put = 0;
		for (size_t done = 0; done < frames;) {
			size_t n = frames - done < IO_CHUNK ? frames - done : IO_CHUNK;
			sf_count_t w;

			for (size_t i = 0; i < n * f->channels; i++) {
				int32_t v;

				memcpy(&v, in + 4 * (done * f->channels + i), 4);
				/* S24_4LE: sign-extend the low 24 bits, then
				 * place them at the top as libsndfile's int
				 * scale wants. */
				v = (int32_t)((uint32_t)v << 8);
				st->scratch[i] = v;
			}
			w = sf_writef_int(sf, st->scratch, (sf_count_t)n);
			put += w;
			if (w != (sf_count_t)n)
				break;
			done += n;
		}
		break;
	}
	if (put == (sf_count_t)frames)
		return 0;
	/* Why, from the system when it says (a full disk), else from
	 * libsndfile; kept for pt_io_output_failed. */
	snprintf(st->werr, sizeof(st->werr), "%s",
		 errno ? strerror(errno) : sf_strerror(sf));
	return -EIO;
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

/* Live, on the period thread: the period's frames go into the ring for
 * the I/O thread. A ring too full for them takes what fits and the rest
 * stays in the graph's buffer for the next period (counted as an xrun):
 * the file loses nothing and the period thread never waits. */
static int output_put(struct io_state *st, struct pt_source *src,
		      const void *start, size_t bsize, size_t at, size_t avail)
{
	uint64_t wr = atomic_load_explicit(&st->ring_wr, memory_order_relaxed);
	uint64_t rd = atomic_load_explicit(&st->ring_rd, memory_order_acquire);
	size_t room = st->ring_frames - (size_t)(wr - rd);
	uint64_t left = st->target - st->frames_done;
	size_t keep = avail < left ? avail : (size_t)left, take = avail;

	/* The file failed (a full disk): the stream is dropped, the file
	 * will not be put in place, and pt_io_output_failed says why. */
	if (atomic_load_explicit(&st->failed, memory_order_acquire))
		return pt_source_release(src, avail * st->frame);
	if (keep > room) {
		keep = take = room;
		st->xruns++;
	}
	ring_copy(st->ring, st->ring_frames, (size_t)wr, start, bsize / st->frame,
		  at, keep, st->frame);
	atomic_store_explicit(&st->ring_wr, wr + keep, memory_order_release);
	st->frames_done += keep;
	if (wr + keep - rd > st->ring_frames / 4)
		pt_iothread_kick();
	return pt_source_release(src, take * st->frame);
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
	if (st->live)
		return output_put(st, src[0], start, bsize,
				  (size_t)((const uint8_t *)data -
					   (const uint8_t *)start) / frame,
				  avail);
	while (done < avail) {
		const uint8_t *p = (const uint8_t *)start +
				   ((size_t)((const uint8_t *)data -
					     (const uint8_t *)start) +
				    done * frame) % bsize;
		size_t until_wrap = ((const uint8_t *)start + bsize - p) / frame;
		size_t n = avail - done < until_wrap ? avail - done : until_wrap;
		size_t left = st->target - st->frames_done;
		size_t keep = n < left ? n : left;

		if (keep && st->f.sf &&
		    !atomic_load_explicit(&st->failed, memory_order_relaxed)) {
			/* A failed write (a full disk) fails the file, not the
			 * instance: what follows is dropped, and
			 * pt_io_output_failed says why. */
			if (output_write(st, f, p, keep))
				atomic_store(&st->failed, true);
			else
				st->frames_done += keep;
		}
		done += n;
	}
	return pt_source_release(src[0], avail * frame);
}

static int output_reset(struct pt_module *mod)
{
	struct io_state *st = pt_mod_priv(mod);
	char err[IO_PATH_MAX + 64];
	int ret;

	/* RESET ends the file, complete; the next prepare starts a new one. */
	ret = output_commit(st, err, sizeof(err));
	if (ret)
		pt_log(mod, PT_LOG_ERR, "%s", err);
	return ret;
}

/* file=PATH names another output file; it is created at the next prepare,
 * so this is for a pipeline in RESET. */
static int output_set_config(struct pt_module *mod, uint32_t param,
			     const void *data, size_t size)
{
	struct io_state *st = pt_mod_priv(mod);
	char path[IO_PATH_MAX], old[IO_PATH_MAX];
	int major = st->major, codec = st->codec, ret;

	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	ret = open_path(mod, data, size, path);
	if (ret)
		return ret;
	if (st->f.sf) {
		pt_log(mod, PT_LOG_ERR, "'%s' is open: change the file in RESET",
		       st->path);
		return -EBUSY;
	}
	/* The type follows the new name (or type=): all or nothing. */
	memcpy(old, st->path, sizeof(old));
	memcpy(st->path, path, sizeof(path));
	if (output_type(mod, st, data, size)) {
		memcpy(st->path, old, sizeof(old));
		st->major = major;
		st->codec = codec;
		return -EINVAL;
	}
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

	if (!pt_io_is_input(inst) || !(st = inst->mod.priv) || !st->f.sf)
		return -EINVAL;
	*frames = (uint64_t)st->f.info.frames;
	natural_format(&st->f.info, fmt);
	return 0;
}

int pt_io_probe(const char *path, uint64_t *frames, struct pt_format *fmt,
		char *err, size_t errlen)
{
	struct io_file f;
	int ret = read_file(path, &f, err, errlen);

	if (ret)
		return ret;
	pt_io_probe_release();
	probed.f = f;
	probed.held = true;
	snprintf(probed.path, sizeof(probed.path), "%s", path);
	*frames = (uint64_t)f.info.frames;
	natural_format(&f.info, fmt);
	return 0;
}

bool pt_io_input_damage(struct pt_instance *inst, uint64_t *frame,
			uint64_t *claimed, const char **why)
{
	struct io_state *st;

	if (!pt_io_is_input(inst) || !(st = inst->mod.priv) || !st->damaged ||
	    st->damage_told)
		return false;
	st->damage_told = true;
	*frame = st->damage_frame;
	*claimed = st->damage_claimed;
	*why = st->damage;
	return true;
}

void pt_io_output_length(struct pt_instance *inst, uint64_t frames)
{
	struct io_state *st;

	if (!pt_io_is_output(inst) || !(st = inst->mod.priv))
		return;
	st->target = frames;
}

void pt_io_output_sample(struct pt_instance *inst, int bits, bool is_float,
			 bool exact)
{
	struct io_state *st;

	if (!pt_io_is_output(inst) || !(st = inst->mod.priv))
		return;
	st->bits = bits;
	st->is_float = is_float;
	st->exact = exact && bits;
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

int pt_io_output_failed(const struct pt_instance *inst, char *err, size_t errlen)
{
	const struct io_state *st;

	if (!pt_io_is_output(inst) || !(st = inst->mod.priv) ||
	    !atomic_load_explicit(&st->failed, memory_order_acquire))
		return 0;
	snprintf(err, errlen, "writing '%s' failed: %s (nothing was put in place)",
		 strcmp(st->path, "-") ? st->path : "standard output", st->werr);
	return -EIO;
}

uint64_t pt_io_output_written(const struct pt_instance *inst)
{
	const struct io_state *st;

	if (!pt_io_is_output(inst) || !(st = inst->mod.priv))
		return 0;
	return st->frames_done;
}

void pt_io_output_discard(struct pt_instance *inst)
{
	struct io_state *st;

	if (!pt_io_is_output(inst) || !(st = inst->mod.priv) || !st->f.sf)
		return;
	live_detach(st, true);
	if (st->tmp[0])
		unlink(st->tmp);
	st->tmp[0] = 0;
	file_close(&st->f);
}

int pt_io_output_close(struct pt_instance *inst, char *err, size_t errlen)
{
	struct io_state *st;

	if (!pt_io_is_output(inst) || !(st = inst->mod.priv))
		return 0;
	return output_commit(st, err, errlen);
}

int pt_io_live_begin(void)
{
	int ret = pt_iothread_start();

	live_mode = !ret;
	return ret;
}

void pt_io_live_end(void)
{
	live_mode = false;
	pt_iothread_stop();
}

uint64_t pt_io_xruns(const struct pt_instance *inst)
{
	const struct io_state *st;

	if ((!pt_io_is_input(inst) && !pt_io_is_output(inst)) ||
	    !(st = inst->mod.priv))
		return 0;
	return st->xruns;
}
