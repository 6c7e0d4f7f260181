/* SPDX-License-Identifier: MIT */
/*
 * An ALSA PCM for tests: a device with a clock and no sound card.
 *
 * ALSA's null device takes and gives frames as fast as they come, so it
 * neither paces a writer nor ever underruns. This external plugin (alsa-lib
 * ioplug, loaded through `pcm_type.ptclock { lib PATH }` in a test's
 * ALSA_CONFIG_PATH) behaves like a real device instead:
 *  - its hardware pointer follows CLOCK_MONOTONIC at the stream's rate, so
 *    a blocking writer (reader) waits for room (data) as on hardware;
 *  - a playback whose writer falls behind the pointer underruns (-EPIPE),
 *    a capture whose reader falls a buffer behind overruns;
 *  - it takes only S16_LE and S32_LE, so other formats are refused at
 *    hw_params;
 *  - with `lock PATH` it holds an exclusive flock on PATH while open, so a
 *    second open is refused with -EBUSY, as a hw: device in use is.
 * Played frames are discarded; captured frames are silence.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>

struct ptclock {
	snd_pcm_ioplug_t io;
	int timer;            /* timerfd ticking once a period while running */
	int lock;             /* fd holding the flock, or -1 */
	uint64_t start_ns;    /* CLOCK_MONOTONIC at start */
	uint64_t moved;       /* frames the application wrote or read */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Frames the clock has played or recorded since start. */
static uint64_t clock_frames(const struct ptclock *c)
{
	return (now_ns() - c->start_ns) * c->io.rate / 1000000000u;
}

static int ptclock_start(snd_pcm_ioplug_t *io)
{
	struct ptclock *c = io->private_data;
	uint64_t ns = (uint64_t)io->period_size * 1000000000u / io->rate;
	struct itimerspec its = {
		.it_interval = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) },
		.it_value = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) },
	};

	c->start_ns = now_ns();
	return timerfd_settime(c->timer, 0, &its, NULL) ? -errno : 0;
}

static int ptclock_stop(snd_pcm_ioplug_t *io)
{
	struct ptclock *c = io->private_data;
	struct itimerspec its = { 0 };

	c->start_ns = 0;
	return timerfd_settime(c->timer, 0, &its, NULL) ? -errno : 0;
}

static snd_pcm_sframes_t ptclock_pointer(snd_pcm_ioplug_t *io)
{
	struct ptclock *c = io->private_data;
	uint64_t pos;

	if (!c->start_ns) /* not started: the clock stands still */
		return 0;
	pos = clock_frames(c);
	if (io->stream == SND_PCM_STREAM_PLAYBACK) {
		if (pos > c->moved) {
			/* Draining ends at the last frame written; otherwise
			 * the clock passed the writer: an underrun. */
			if (io->state != SND_PCM_STATE_DRAINING)
				return -EPIPE;
			pos = c->moved;
		}
	} else if (pos > c->moved + io->buffer_size) {
		return -EPIPE;
	}
	return (snd_pcm_sframes_t)(pos % io->buffer_size);
}

static snd_pcm_sframes_t ptclock_transfer(snd_pcm_ioplug_t *io,
					  const snd_pcm_channel_area_t *areas,
					  snd_pcm_uframes_t offset,
					  snd_pcm_uframes_t size)
{
	struct ptclock *c = io->private_data;

	if (io->stream == SND_PCM_STREAM_CAPTURE)
		snd_pcm_areas_silence(areas, offset, io->channels, size,
				      io->format);
	c->moved += size;
	return (snd_pcm_sframes_t)size;
}

static int ptclock_prepare(snd_pcm_ioplug_t *io)
{
	struct ptclock *c = io->private_data;

	c->moved = 0;
	c->start_ns = 0;
	return 0;
}

static int ptclock_poll_revents(snd_pcm_ioplug_t *io, struct pollfd *pfd,
				unsigned int nfds, unsigned short *revents)
{
	struct ptclock *c = io->private_data;
	uint64_t ticks;

	(void)nfds;
	*revents = 0;
	if (pfd[0].revents & POLLIN) {
		if (read(c->timer, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
			return -errno;
		*revents = io->stream == SND_PCM_STREAM_PLAYBACK ? POLLOUT : POLLIN;
	}
	return 0;
}

static int ptclock_close(snd_pcm_ioplug_t *io)
{
	struct ptclock *c = io->private_data;

	close(c->timer);
	if (c->lock >= 0)
		close(c->lock); /* releases the flock */
	free(c);
	return 0;
}

static const snd_pcm_ioplug_callback_t ptclock_callback = {
	.start = ptclock_start,
	.stop = ptclock_stop,
	.pointer = ptclock_pointer,
	.transfer = ptclock_transfer,
	.prepare = ptclock_prepare,
	.poll_revents = ptclock_poll_revents,
	.close = ptclock_close,
};

static int constrain(snd_pcm_ioplug_t *io)
{
	static const unsigned int access[] = { SND_PCM_ACCESS_RW_INTERLEAVED };
	static const unsigned int formats[] = { SND_PCM_FORMAT_S16_LE,
						SND_PCM_FORMAT_S32_LE };
	int ret;

	ret = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_ACCESS, 1,
					    access);
	if (!ret)
		ret = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_FORMAT,
						    2, formats);
	if (!ret)
		ret = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_CHANNELS,
						      1, 8);
	if (!ret)
		ret = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_RATE,
						      8000, 192000);
	if (!ret)
		ret = snd_pcm_ioplug_set_param_minmax(io,
						      SND_PCM_IOPLUG_HW_PERIOD_BYTES,
						      16, 1 << 20);
	if (!ret)
		ret = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIODS,
						      2, 1024);
	return ret;
}

SND_PCM_PLUGIN_DEFINE_FUNC(ptclock)
{
	snd_config_iterator_t i, next;
	const char *lock = NULL;
	struct ptclock *c;
	int ret;

	(void)root;
	snd_config_for_each(i, next, conf) {
		snd_config_t *n = snd_config_iterator_entry(i);
		const char *id;

		if (snd_config_get_id(n, &id) < 0)
			continue;
		if (!strcmp(id, "comment") || !strcmp(id, "type") ||
		    !strcmp(id, "hint"))
			continue;
		if (!strcmp(id, "lock") && !snd_config_get_string(n, &lock))
			continue;
		SNDERR("ptclock: unknown field %s", id);
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->lock = -1;
	if (lock) {
		c->lock = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (c->lock < 0) {
			ret = -errno;
			free(c);
			return ret;
		}
		if (flock(c->lock, LOCK_EX | LOCK_NB)) {
			close(c->lock);
			free(c);
			return -EBUSY;
		}
	}
	c->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (c->timer < 0) {
		ret = -errno;
		if (c->lock >= 0)
			close(c->lock);
		free(c);
		return ret;
	}
	c->io.version = SND_PCM_IOPLUG_VERSION;
	c->io.name = "partita test clock";
	c->io.callback = &ptclock_callback;
	c->io.private_data = c;
	c->io.poll_fd = c->timer;
	c->io.poll_events = POLLIN;
	c->io.mmap_rw = 0;
	ret = snd_pcm_ioplug_create(&c->io, name, stream, mode);
	if (ret < 0) {
		close(c->timer);
		if (c->lock >= 0)
			close(c->lock);
		free(c);
		return ret;
	}
	ret = constrain(&c->io);
	if (ret < 0) {
		snd_pcm_ioplug_delete(&c->io);
		return ret;
	}
	*pcmp = c->io.pcm;
	return 0;
}

SND_PCM_PLUGIN_SYMBOL(ptclock);
