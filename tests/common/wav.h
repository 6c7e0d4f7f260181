/* SPDX-License-Identifier: MIT */
/* tests/common - a test's audio files. */
#ifndef PT_TESTS_WAV_H
#define PT_TESTS_WAV_H

#include <sndfile.h>

/* Reads all of @path as ints (libsndfile's 32-bit scale) into a new
 * buffer (one spare sample), its format into @info; a cmocka failure when
 * it cannot. */
int *pt_test_wav_read_int(const char *path, SF_INFO *info);

/* Writes @frames frames of @channels interleaved floats from @x to @path,
 * a 32-bit float WAV file at @rate; a cmocka failure when it cannot. */
void pt_test_wav_write_float(const char *path, int rate, int channels,
			     const float *x, sf_count_t frames);

#endif
