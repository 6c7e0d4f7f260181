/* SPDX-License-Identifier: MIT */
/* tests/common - running a real binary from a test. */
#ifndef PT_TESTS_SPAWN_H
#define PT_TESTS_SPAWN_H

#include <stddef.h>

/* Runs @argv[0] with @argv (NULL-terminated), its stdout and stderr both
 * into the file @log, then reads that file into @out (NUL-terminated,
 * truncated to @outlen - 1). Returns the exit status, 128 + the signal
 * that ended it, or -1 when it could not be started. */
int pt_test_spawn(char *const argv[], const char *log, char *out, size_t outlen);

#endif
