/* SPDX-License-Identifier: MIT */
/* partita - runs untrusted audio modules in isolated domains. */
#include <stdio.h>
#include <string.h>

#include <partita/module.h>
#include <sndfile.h>

#include "host/io/io.h"
#include "tools/partita/cmd.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *what;
} cmds[] = {
	{ "run", pt_cmd_run, "run a topology (or the built-in demo) to files" },
	{ "bench", pt_cmd_bench, "benchmarks with their floors, as ratios" },
	{ "serve", pt_cmd_serve, "a host that takes control messages on a socket" },
	{ "ctl", pt_cmd_ctl, "send control messages to a running host" },
	{ "inspect", pt_cmd_inspect, "print a module library's manifest and signature" },
	{ "sign", pt_cmd_sign, "make signing keys, sign module libraries" },
	{ "top", pt_cmd_top, "a live per-instance table of a running host" },
	{ "domains", pt_cmd_domains, "who can read and write which partition" },
	{ "plugins", pt_cmd_plugins, "installed LV2 and LADSPA plugins, read in a domain" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: partita COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].what);
	fprintf(f, "\n'partita COMMAND --help' describes each; 'partita --version' the build.\n");
}

int main(int argc, char **argv)
{
	/* Before any file is opened: a closed standard stream would be
	 * reused by one (an output, a partition) and written to. */
	pt_io_guard_std();
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		char sf[64];

		sf_command(NULL, SFC_GET_LIB_VERSION, sf, sizeof(sf));
		printf("partita %s\nmodule ABI %u (loads libraries of ABI %u to %u)\n%s\n",
		       PT_VERSION_TEXT, PT_ABI_VERSION, PT_ABI_VERSION_MIN,
		       PT_ABI_VERSION, sf);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "partita: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
