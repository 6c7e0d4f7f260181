/* SPDX-License-Identifier: MIT */
/*
 * partita sign: ed25519 keys and detached library signatures.
 *   partita sign --keygen KEY          writes KEY (secret, 0600) and KEY.pub
 *   partita sign --key KEY LIBRARY...  writes LIBRARY.sig for each
 * A host trusts a key with `partita serve --trust KEY.pub`.
 */
#include <getopt.h>
#include <stdio.h>

#include "tools/partita/cmd.h"
#include "host/libmgr/library.h"


static void usage(FILE *f)
{
	fprintf(f,
		"usage: partita sign --keygen KEY\n"
		"       partita sign --key KEY LIBRARY...\n"
		"  --keygen writes a new ed25519 key pair: KEY (secret) and KEY.pub.\n"
		"  --key signs each LIBRARY (the whole file) into LIBRARY.sig.\n"
		"  Hosts trust the public key with --trust KEY.pub.\n");
}

int pt_cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keygen", required_argument, NULL, 'g' },
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *keygen = NULL, *key = NULL;
	char err[1024] = "key path too long", pub[4096];
	int c, ret = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			keygen = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!keygen == !key || (keygen && optind != argc) || (key && optind == argc)) {
		usage(stderr);
		return 2;
	}
	if (keygen) {
		if ((size_t)snprintf(pub, sizeof(pub), "%s.pub", keygen) >= sizeof(pub) ||
		    pt_key_generate(keygen, pub, err, sizeof(err))) {
			fprintf(stderr, "partita sign: %s\n", err);
			return 1;
		}
		printf("wrote secret key %s and public key %s\n", keygen, pub);
		return 0;
	}
	for (; optind < argc; optind++) {
		if (pt_library_sign(argv[optind], key, err, sizeof(err))) {
			fprintf(stderr, "partita sign: %s\n", err);
			ret = 1;
			continue;
		}
		printf("signed %s -> %s.sig\n", argv[optind], argv[optind]);
	}
	return ret;
}
