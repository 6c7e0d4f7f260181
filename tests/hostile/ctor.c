/* SPDX-License-Identifier: MIT */
/*
 * ctor - a module library whose constructor misbehaves at load time, built
 * once per CTOR_ACT. The domain must stop it before any of it takes effect.
 *   1 creates a file        (/tmp/partita-ctor-marker)
 *   2 reads a file outside the library folders (/etc/passwd)
 *   3 creates a socket
 *   4 forks
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <partita/module.h>

#ifndef CTOR_ACT
#error CTOR_ACT must be set
#endif

int ctor_result; /* what the constructor got, if it survived */

__attribute__((constructor)) static void misbehave(void)
{
	switch (CTOR_ACT) {
	case 1:
		ctor_result = open("/tmp/partita-ctor-marker", O_CREAT | O_WRONLY, 0644);
		break;
	case 2:
		ctor_result = open("/etc/passwd", O_RDONLY);
		break;
	case 3:
		ctor_result = socket(AF_UNIX, SOCK_STREAM, 0);
		break;
	case 4:
		ctor_result = fork();
		if (ctor_result == 0)
			_exit(0);
		break;
	}
}

static int ctor_process(struct pt_module *mod, struct pt_source *const *sources,
			unsigned nsources, struct pt_sink *const *sinks,
			unsigned nsinks)
{
	(void)mod, (void)sources, (void)nsources, (void)sinks, (void)nsinks;
	return 0;
}

static const struct pt_module_ops ctor_ops = { .process = ctor_process };

PT_MODULE(ctor, ctor_ops, .name = "ctor",
	  .uuid = { 0x43, 0x54, 0x4f, 0x52, 0x00, 0x00, 0x40, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03 },
	  .version = PT_VERSION(1, 0, 0),
	  .flags = PT_MOD_FLAG_ISOLATABLE, .heap_size = 16384,
	  .stack_size = 16384, .max_sources = 1, .max_sinks = 1);
