/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/common/spawn.h"

extern char **environ;

int pt_test_spawn(char *const argv[], const char *log, char *out, size_t outlen)
{
	posix_spawn_file_actions_t fa;
	int status, fd;
	pid_t pid;
	ssize_t got;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ)) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	fd = open(log, O_RDONLY);
	got = fd >= 0 ? read(fd, out, outlen - 1) : -1;
	out[got > 0 ? got : 0] = 0;
	if (fd >= 0)
		close(fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
