/* SPDX-License-Identifier: MIT */
/*
 * ctor - a module library whose constructor misbehaves at load time, built
 * once per CTOR_ACT (a name). The domain must stop it before any of it
 * takes effect.
 *   create   creates a file        (/tmp/partita-ctor-marker)
 *   read     reads a file outside the library folders (/etc/passwd)
 *   socket   creates a socket
 *   fork     forks
 *   chmod    changes a system file's mode (to the mode it already has, so
 *            that nothing changes even if it were let through)
 *   keepfd   opens a system library read-only (allowed while loading) and
 *            keeps the fd; its process then maps that file privately and
 *            writable in place over a read-only mapping of it (memory the
 *            data limit would not see)
 *   anything else: a class of tests/hostile/reach.h, aimed at the host
 *            (the domain's argv[1], which the constructor is given); for
 *            seccomp (a filter of its own that fakes success for later
 *            filters), process says whether the run stage's filter is
 *            in force
 * What the constructor got is kept: the module's process returns it, so a
 * refusal that let the library load can be seen (0: refused).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <partita/module.h>

#include "reach.h"

#ifndef CTOR_ACT
#error CTOR_ACT must be set
#endif

static int ctor_result; /* what the constructor got, if it survived */
static int kept_fd = -1;

/* The loader calls constructors with the program's arguments. */
__attribute__((constructor)) static void misbehave(int argc, char **argv, char **envp)
{
	const char *act = CTOR_ACT;
	long host = argc > 1 ? atol(argv[1]) : 1;

	(void)envp;
	if (!strcmp(act, "create")) {
		ctor_result = open("/tmp/partita-ctor-marker", O_CREAT | O_WRONLY, 0644);
	} else if (!strcmp(act, "read")) {
		ctor_result = open("/etc/passwd", O_RDONLY);
	} else if (!strcmp(act, "socket")) {
		ctor_result = socket(AF_UNIX, SOCK_STREAM, 0);
	} else if (!strcmp(act, "fork")) {
		ctor_result = fork();
		if (ctor_result == 0)
			_exit(0);
	} else if (!strcmp(act, "chmod")) {
		struct stat st;

		ctor_result = stat("/etc/hostname", &st);
		if (ctor_result == 0)
			ctor_result = chmod("/etc/hostname", st.st_mode & 07777);
	} else if (!strcmp(act, "keepfd")) {
		kept_fd = open("/usr/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY);
		if (kept_fd < 0)
			kept_fd = open("/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY);
		ctor_result = kept_fd < 0 ? -errno : 0;
	} else {
		ctor_result = pt_reach(act, host);
	}
}

static int ctor_process(struct pt_module *mod, struct pt_source *const *sources,
			unsigned nsources, struct pt_sink *const *sinks,
			unsigned nsinks)
{
	(void)mod, (void)sources, (void)nsources, (void)sinks, (void)nsinks;
	if (!strcmp(CTOR_ACT, "seccomp") && !ctor_result) {
		/* Its filter in place: is the run stage's? (fstat is refused
		 * there, allowed while loading.) */
		struct stat st;

		return fstat(0, &st) == 0 ? -EEXIST : 0;
	}
	if (kept_fd >= 0 && !ctor_result) {
		uint8_t *ro = mmap(NULL, 1 << 20, PROT_READ, MAP_PRIVATE, kept_fd, 0), *rw;

		if (ro == MAP_FAILED)
			return -errno;
		rw = mmap(ro, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, kept_fd, 0);
		if (rw == MAP_FAILED)
			return -errno;
		return reach_touch(rw, 1 << 20);
	}
	return ctor_result;
}

static const struct pt_module_ops ctor_ops = { .process = ctor_process };

PT_MODULE(ctor, ctor_ops, .name = "ctor",
	  .uuid = { 0x43, 0x54, 0x4f, 0x52, 0x00, 0x00, 0x40, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03 },
	  .version = PT_VERSION(1, 0, 0),
	  .flags = PT_MOD_FLAG_ISOLATABLE, .heap_size = 16384,
	  .stack_size = 16384, .max_sources = 1, .max_sinks = 1);
