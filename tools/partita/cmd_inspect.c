/* SPDX-License-Identifier: MIT */
/*
 * partita inspect [--json] [--trust KEYFILE]... LIBRARY: prints a module
 * library's manifest and signature status, read with libelf; none of the
 * library's code runs. A library the host would refuse still shows the
 * manifest it carries (when it has one), then the reason; exit status 1.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "host/libmgr/library.h"
#include "host/trace/trace.h"
#include "tools/partita/cmd.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: partita inspect [--json] [--trust KEYFILE]... [--require-signed] LIBRARY\n"
		"  Prints the manifest of a module library and whether it is signed,\n"
		"  without running any of its code. A refused library shows the\n"
		"  manifest it carries and the reason, and the exit status is 1.\n"
		"  --json   one JSON object: the manifest, \"signature\", \"refused\"\n");
}

/* The manifest's name, from a file: NUL-bounded and printable. */
static void safe_name(const struct pt_manifest *m, char *out)
{
	size_t i;

	for (i = 0; i < PT_NAME_MAX - 1 && m->name[i]; i++)
		out[i] = m->name[i] >= 0x20 && m->name[i] < 0x7f ? m->name[i] : '?';
	out[i] = 0;
}

static void uuid_text(const struct pt_manifest *m, char *out)
{
	for (int i = 0; i < 16; i++)
		out += sprintf(out, "%02x%s", m->uuid[i],
			       i == 3 || i == 5 || i == 7 || i == 9 ? "-" : "");
}

static void print_text(const char *path, const struct pt_library_info *info,
		       bool has_manifest, const char *refused)
{
	const struct pt_manifest *m = &info->manifest;
	char name[PT_NAME_MAX], uuid[40], hex[65];

	printf("library:     %s (%zu bytes)\n", path, info->file_size);
	if (has_manifest) {
		safe_name(m, name);
		uuid_text(m, uuid);
		printf("module:      %s\n", name);
		printf("version:     %u.%u.%u\n", m->version >> 16,
		       (m->version >> 8) & 0xff, m->version & 0xff);
		printf("uuid:        %s\n", uuid);
		printf("abi:         %u (this host: %u, loads %u to %u)\n", m->abi_version,
		       PT_ABI_VERSION, PT_ABI_VERSION_MIN, PT_ABI_VERSION);
		printf("heap:        %u bytes%s\n", m->heap_size,
		       m->heap_size ? "" : " (host default)");
		printf("stack:       %u bytes%s\n", m->stack_size,
		       m->stack_size ? "" : " (host default)");
		printf("pins:        %u in, %u out\n", m->max_sources, m->max_sinks);
		printf("flags:       0x%x%s%s%s\n", m->flags,
		       m->flags & PT_MOD_FLAG_ISOLATABLE ? " isolatable" : "",
		       m->flags & PT_MOD_FLAG_CUSTOM_READY ? " custom-ready" : "",
		       m->flags & PT_MOD_FLAG_BINARY_INIT ? " binary-init" : "");
	}
	if (!refused || info->signature != PT_SIGNATURE_NONE) {
		printf("signature:   %s", pt_signature_name(info->signature));
		if (info->signature != PT_SIGNATURE_NONE) {
			pt_hex(info->signer, sizeof(info->signer), hex);
			printf(" (key %s)", hex);
		}
		printf("\n");
	}
}

static void print_json(const char *path, const struct pt_library_info *info,
		       bool has_manifest, const char *refused)
{
	const struct pt_manifest *m = &info->manifest;
	char name[PT_NAME_MAX], uuid[40], hex[65];

	printf("{\"library\": ");
	pt_json_string(stdout, path);
	printf(", \"size\": %zu", info->file_size);
	if (has_manifest) {
		safe_name(m, name);
		uuid_text(m, uuid);
		printf(", \"module\": ");
		pt_json_string(stdout, name);
		printf(", \"version\": \"%u.%u.%u\", \"uuid\": \"%s\", \"abi\": %u, "
		       "\"heap_size\": %u, \"stack_size\": %u, \"max_sources\": %u, "
		       "\"max_sinks\": %u, \"flags\": %u",
		       m->version >> 16, (m->version >> 8) & 0xff, m->version & 0xff,
		       uuid, m->abi_version, m->heap_size, m->stack_size,
		       m->max_sources, m->max_sinks, m->flags);
	}
	printf(", \"host_abi\": %u, \"host_abi_min\": %u, \"signature\": \"%s\"",
	       PT_ABI_VERSION, PT_ABI_VERSION_MIN,
	       pt_signature_name(info->signature));
	if (info->signature != PT_SIGNATURE_NONE) {
		pt_hex(info->signer, sizeof(info->signer), hex);
		printf(", \"signer\": \"%s\"", hex);
	}
	printf(", \"refused\": ");
	if (refused)
		pt_json_string(stdout, refused);
	else
		printf("null");
	printf("}\n");
}

int pt_cmd_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trust", required_argument, NULL, 't' },
		{ "require-signed", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pt_library_policy policy = { 0 };
	struct pt_library_info info;
	char err[1024];
	bool json = false, has_manifest;
	int c, ret;

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
		case 'j':
			json = true;
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
	ret = pt_library_check(argv[optind], &policy, &info, err, sizeof(err));
	/* The manifest as the file carries it, even when it is refused. */
	has_manifest = !memcmp(info.manifest.magic, PT_MANIFEST_MAGIC,
			       sizeof(PT_MANIFEST_MAGIC));
	if (json)
		print_json(argv[optind], &info, has_manifest, ret ? err : NULL);
	else if (has_manifest)
		print_text(argv[optind], &info, has_manifest, ret ? err : NULL);
	if (ret && !json)
		fprintf(stderr, "partita inspect: refused: %s\n", err);
	return ret ? 1 : 0;
}
