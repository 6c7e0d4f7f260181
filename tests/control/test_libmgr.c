/* SPDX-License-Identifier: MIT */
/* The library manager on real and broken libraries: a good one, not ELF,
 * no manifest, wrong ABI, truncated, bad manifest values, and signatures
 * (unsigned, trusted, untrusted, tampered, malformed) under both
 * policies. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/libmgr/library.h"

static char dir[256];
static char err[1024];

static const char *libs_dir(void)
{
	static char path[512];
	const char *b = getenv("PARTITA_BUILD");

	snprintf(path, sizeof(path), "%s/tests/libs", b ? b : PT_TEST_BUILD);
	return path;
}

static const char *lib(const char *name)
{
	static char path[2][1024];
	static int i;

	i ^= 1;
	snprintf(path[i], sizeof(path[i]), "%s/pt_test_%s.so", libs_dir(), name);
	return path[i];
}

static const char *tmp(const char *name)
{
	static char path[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", dir, name);
	return path[i];
}

static void put(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, size, f), size);
	assert_int_equal(fclose(f), 0);
}

static void *get(const char *path, size_t *size)
{
	void *data;

	assert_int_equal(pt_file_read(path, 1 << 26, &data, size, err, sizeof(err)), 0);
	return data;
}

static void copy(const char *from, const char *to)
{
	size_t size;
	void *data = get(from, &size);

	put(to, data, size);
	free(data);
}

static void expect_refused(const char *path, const struct pt_library_policy *pol,
			   int want, const char *text)
{
	struct pt_library_info info;
	int ret;

	err[0] = 0;
	ret = pt_library_check(path, pol, &info, err, sizeof(err));
	if (ret != want || !strstr(err, text) || !strstr(err, path))
		fail_msg("%s: want %d with '%s', got %d: %s", path, want, text, ret, err);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/pt_libmgr_XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void test_good_library(void **state)
{
	struct pt_library_info info;

	(void)state;
	assert_int_equal(pt_library_check(lib("good"), NULL, &info, err, sizeof(err)), 0);
	assert_string_equal(info.manifest.name, "testgood");
	assert_int_equal(info.manifest.abi_version, PT_ABI_VERSION);
	assert_int_equal(info.manifest.version, PT_VERSION(1, 2, 3));
	assert_int_equal(info.manifest.heap_size, 65536);
	assert_int_equal(info.manifest.max_sources, 1);
	assert_int_equal(info.manifest.uuid[0], 0x9a);
	assert_int_equal(info.signature, PT_SIGNATURE_NONE);
}

static void test_broken_libraries(void **state)
{
	size_t size;
	uint8_t *img;

	(void)state;
	put(tmp("text.so"), "hello, not a library\n", 21);
	expect_refused(tmp("text.so"), NULL, -ENOEXEC, "not an ELF file");
	put(tmp("empty.so"), "", 0);
	expect_refused(tmp("empty.so"), NULL, -ENOEXEC, "not an ELF file");
	expect_refused(lib("nomanifest"), NULL, -ENOEXEC,
		       "no .partita.manifest section");
	expect_refused(lib("wrongabi"), NULL, -ENOEXEC,
		       "library built for ABI version 99, this host speaks ABI versions 1 to 2");
	expect_refused(tmp("missing.so"), NULL, -ENOENT, "No such file");

	/* truncated at several points: each is refused, none crashes */
	img = get(lib("good"), &size);
	for (size_t cut = 1; cut < size; cut += size / 13 + 1) {
		put(tmp("cut.so"), img, cut);
		expect_refused(tmp("cut.so"), NULL, -ENOEXEC, "");
	}
	put(tmp("cut.so"), img, size - 1);
	expect_refused(tmp("cut.so"), NULL, -ENOEXEC, "truncated");

	/* an executable-type ELF is not a shared object */
	img[16] = 2; /* e_type = ET_EXEC, little-endian low byte */
	put(tmp("exec.so"), img, size);
	expect_refused(tmp("exec.so"), NULL, -ENOEXEC, "not a shared object");
	free(img);
}

/* Finds the manifest inside the image by its magic and returns its offset. */
static size_t manifest_at(const uint8_t *img, size_t size)
{
	for (size_t i = 0; i + sizeof(struct pt_manifest) <= size; i++)
		if (!memcmp(img + i, PT_MANIFEST_MAGIC, 8) &&
		    !memcmp(img + i + 16, "testgood", 9))
			return i;
	fail_msg("manifest not found in the image");
	return 0;
}

static void patch_case(size_t field, const void *val, size_t n, const char *text)
{
	size_t size, at;
	uint8_t *img = get(lib("good"), &size);

	at = manifest_at(img, size);
	memcpy(img + at + field, val, n);
	put(tmp("patched.so"), img, size);
	expect_refused(tmp("patched.so"), NULL, -ENOEXEC, text);
	free(img);
}

static void test_manifest_values(void **state)
{
	uint32_t v;
	uint8_t b;
	uint8_t zero[16] = { 0 };

	(void)state;
	patch_case(offsetof(struct pt_manifest, magic), "XXMANIF", 8, "manifest magic");
	v = 3;
	patch_case(offsetof(struct pt_manifest, abi_version), &v, 4,
		   "ABI version 3, this host speaks ABI versions 1 to 2");
	v = 0x80;
	patch_case(offsetof(struct pt_manifest, flags), &v, 4, "manifest flags");
	patch_case(offsetof(struct pt_manifest, name), "bad name", 9, "manifest name");
	patch_case(offsetof(struct pt_manifest, name), "", 1, "manifest name: empty");
	patch_case(offsetof(struct pt_manifest, uuid), zero, 16, "manifest uuid");
	v = 100;
	patch_case(offsetof(struct pt_manifest, heap_size), &v, 4, "manifest heap_size");
	v = 1u << 30;
	patch_case(offsetof(struct pt_manifest, heap_size), &v, 4, "manifest heap_size");
	v = 1024;
	patch_case(offsetof(struct pt_manifest, stack_size), &v, 4, "manifest stack_size");
	b = PT_MAX_PINS + 1;
	patch_case(offsetof(struct pt_manifest, max_sinks), &b, 1, "max_sources/max_sinks");
	b = 1;
	patch_case(offsetof(struct pt_manifest, reserved) + 3, &b, 1, "manifest reserved");
}

static void test_signatures(void **state)
{
	struct pt_library_policy trust = { 0 }, strict = { 0 }, other = { 0 };
	struct pt_library_info info;
	size_t size;
	uint8_t *img;
	char *sig;

	(void)state;
	assert_int_equal(pt_key_generate(tmp("a.key"), tmp("a.pub"), err, sizeof(err)), 0);
	assert_int_equal(pt_key_generate(tmp("b.key"), tmp("b.pub"), err, sizeof(err)), 0);
	assert_int_equal(pt_trust_load(&trust, tmp("a.pub"), err, sizeof(err)), 1);
	assert_int_equal(pt_trust_load(&strict, tmp("a.pub"), err, sizeof(err)), 1);
	strict.require_signed = true;
	assert_int_equal(pt_trust_load(&other, tmp("b.pub"), err, sizeof(err)), 1);
	other.require_signed = true;
	/* a secret key is not a trust list */
	assert_true(pt_trust_load(&trust, tmp("a.key"), err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "not a public key"));

	copy(lib("good"), tmp("lib.so"));
	/* unsigned: fine unless signatures are required */
	assert_int_equal(pt_library_check(tmp("lib.so"), &trust, &info, err, sizeof(err)), 0);
	assert_int_equal(info.signature, PT_SIGNATURE_NONE);
	expect_refused(tmp("lib.so"), &strict, -EKEYREJECTED,
		       "unsigned, and signatures by a trusted key are required");

	assert_int_equal(pt_library_sign(tmp("lib.so"), tmp("a.key"), err, sizeof(err)), 0);
	assert_int_equal(pt_library_check(tmp("lib.so"), &strict, &info, err, sizeof(err)), 0);
	assert_int_equal(info.signature, PT_SIGNATURE_TRUSTED);
	/* signed by a key this policy does not trust */
	expect_refused(tmp("lib.so"), &other, -EKEYREJECTED, "signed, untrusted key");
	assert_int_equal(pt_library_check(tmp("lib.so"), NULL, &info, err, sizeof(err)), 0);
	assert_int_equal(info.signature, PT_SIGNATURE_UNTRUSTED);

	/* one byte of the library changed after signing */
	img = get(tmp("lib.so"), &size);
	img[size / 2] ^= 1;
	put(tmp("lib.so"), img, size);
	free(img);
	expect_refused(tmp("lib.so"), &trust, -EKEYREJECTED, "does not verify");
	expect_refused(tmp("lib.so"), NULL, -EKEYREJECTED, "does not verify");

	/* malformed signature files */
	copy(lib("good"), tmp("lib.so"));
	put(tmp("lib.so.sig"), "garbage\n", 8);
	expect_refused(tmp("lib.so"), &trust, -EKEYREJECTED, "expected \"partita-signature 1\"");
	put(tmp("lib.so.sig"), "partita-signature 1\nkey 00\n", 27);
	expect_refused(tmp("lib.so"), &trust, -EKEYREJECTED, "key: want one key");
	assert_int_equal(pt_library_sign(tmp("lib.so"), tmp("a.key"), err, sizeof(err)), 0);
	sig = get(tmp("lib.so.sig"), &size);
	/* the last hex digit of the signature, flipped */
	sig[size - 2] = sig[size - 2] == '0' ? '1' : '0';
	put(tmp("lib.so.sig"), sig, size);
	free(sig);
	expect_refused(tmp("lib.so"), &trust, -EKEYREJECTED, "does not verify");
	/* a signature of another file */
	copy(lib("wrongabi"), tmp("w.so"));
	assert_int_equal(pt_library_sign(tmp("w.so"), tmp("a.key"), err, sizeof(err)), 0);
	copy(tmp("w.so.sig"), tmp("lib.so.sig"));
	expect_refused(tmp("lib.so"), &trust, -EKEYREJECTED, "does not verify");
	/* signing with a public key file fails cleanly */
	assert_true(pt_library_sign(tmp("lib.so"), tmp("a.pub"), err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "not a secret key"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_library),
		cmocka_unit_test(test_broken_libraries),
		cmocka_unit_test(test_manifest_values),
		cmocka_unit_test(test_signatures),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
