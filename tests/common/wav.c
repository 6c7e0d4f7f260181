/* SPDX-License-Identifier: MIT */
/* tests/common - a test's audio files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/common/wav.h"

int *pt_test_wav_read_int(const char *path, SF_INFO *info)
{
	SNDFILE *sf;
	int *buf;

	memset(info, 0, sizeof(*info));
	sf = sf_open(path, SFM_READ, info);
	assert_non_null(sf);
	buf = malloc(sizeof(int) * (size_t)(info->frames * info->channels + 1));
	assert_non_null(buf);
	assert_int_equal(sf_readf_int(sf, buf, info->frames), info->frames);
	sf_close(sf);
	return buf;
}

void pt_test_wav_write_float(const char *path, int rate, int channels,
			     const float *x, sf_count_t frames)
{
	SF_INFO info = { .samplerate = rate, .channels = channels,
			 .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);

	assert_non_null(sf);
	assert_int_equal(sf_writef_float(sf, x, frames), frames);
	sf_close(sf);
}
