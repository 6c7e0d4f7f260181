/* SPDX-License-Identifier: MIT */
/* tests/common - reading a test's audio files back. */
#ifndef PT_TESTS_WAV_H
#define PT_TESTS_WAV_H

#include <sndfile.h>

/* Reads all of @path as ints (libsndfile's 32-bit scale) into a new
 * buffer (one spare sample), its format into @info; a cmocka failure when
 * it cannot. */
int *pt_test_wav_read_int(const char *path, SF_INFO *info);

#endif
