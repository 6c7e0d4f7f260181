/* SPDX-License-Identifier: MIT */
/*
 * partita inspect [--trust KEYFILE]... LIBRARY: prints a module library's
 * manifest and signature status, read with libelf; none of the library's
 * code runs. Exits 1 if the library would be refused.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tools/partita/cmd.h"
#include "host/libmgr/library.h"


static void usage(FILE *f)
{
	fprintf(f,
		"usage: partita inspect [--trust KEYFILE]... [--require-signed] LIBRARY\n"
		"  Prints the manifest of a module library and whether it is signed,\n"
		"  without running any of its code.\n");
}

int pt_cmd_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trust", required_argument, NULL, 't' },
		{ "require-signed", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pt_library_policy policy = { 0 };
	struct pt_library_info info;
	const struct pt_manifest *m = &info.manifest;
	char err[1024], hex[65];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (pt_trust_load(&policy, optarg, err, sizeof(err)) < 0) {
				fprintf(stderr, "partita inspect: --trust: %s\n", err);
				return 2;
			}
			break;
		case 'r':
			policy.require_signed = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (pt_library_check(argv[optind], &policy, &info, err, sizeof(err))) {
		fprintf(stderr, "partita inspect: refused: %s\n", err);
		return 1;
	}
	printf("library:     %s (%zu bytes)\n", argv[optind], info.file_size);
	printf("module:      %s\n", m->name);
	printf("version:     %u.%u.%u\n", m->version >> 16, (m->version >> 8) & 0xff,
	       m->version & 0xff);
	printf("uuid:        ");
	for (int i = 0; i < 16; i++)
		printf("%02x%s", m->uuid[i], i == 3 || i == 5 || i == 7 || i == 9 ? "-" : "");
	printf("\nabi:         %u (this host: %u)\n", m->abi_version, PT_ABI_VERSION);
	printf("heap:        %u bytes%s\n", m->heap_size, m->heap_size ? "" : " (host default)");
	printf("stack:       %u bytes%s\n", m->stack_size, m->stack_size ? "" : " (host default)");
	printf("pins:        %u in, %u out\n", m->max_sources, m->max_sinks);
	printf("flags:       0x%x%s%s\n", m->flags,
	       m->flags & PT_MOD_FLAG_ISOLATABLE ? " isolatable" : "",
	       m->flags & PT_MOD_FLAG_CUSTOM_READY ? " custom-ready" : "");
	printf("signature:   %s", pt_signature_name(info.signature));
	if (info.signature != PT_SIGNATURE_NONE) {
		pt_hex(info.signer, sizeof(info.signer), hex);
		printf(" (key %s)", hex);
	}
	printf("\n");
	return 0;
}
