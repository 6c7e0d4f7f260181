/* SPDX-License-Identifier: MIT */
/*
 * host/libmgr - the library manager: what the host knows about a module
 * library before any of its code runs.
 *
 * A module library is an ELF shared object carrying one struct pt_manifest
 * in its PT_MANIFEST_SECTION and exporting PT_MODULE_ENTRY_SYMBOL. The host
 * reads both with libelf from the file's bytes; it never maps the library
 * executable, never dlopen()s it and never follows a pointer in it (only a
 * domain loads a library, after it has locked itself down).
 *
 * Signatures: an optional detached ed25519 signature over the whole library
 * file lives next to it as LIB.sig (text, see docs/control.md). The host
 * checks it against the trusted public keys of its policy; a signature that
 * does not verify is always refused, an unsigned library or one signed by
 * an unknown key only when the policy requires signatures.
 */
#ifndef PT_HOST_LIBMGR_LIBRARY_H
#define PT_HOST_LIBMGR_LIBRARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <partita/module.h>

#define PT_LIBRARY_FILE_MAX (256u << 20) /* largest library file read */
#define PT_TRUST_MAX 16                  /* trusted keys in one policy */
#define PT_KEY_PUBLIC_BYTES 32
#define PT_KEY_SECRET_BYTES 64
#define PT_SIGNATURE_BYTES 64

/* Limits a sane manifest keeps. */
#define PT_MANIFEST_HEAP_MIN 4096u
#define PT_MANIFEST_HEAP_MAX (256u << 20)
#define PT_MANIFEST_STACK_MIN (16u << 10)
#define PT_MANIFEST_STACK_MAX (8u << 20)

enum pt_signature {
	PT_SIGNATURE_NONE = 0,      /* no LIB.sig */
	PT_SIGNATURE_TRUSTED = 1,   /* verifies with a trusted key */
	PT_SIGNATURE_UNTRUSTED = 2, /* verifies, with a key not trusted */
};

struct pt_library_policy {
	uint8_t keys[PT_TRUST_MAX][PT_KEY_PUBLIC_BYTES];
	size_t nkeys;
	bool require_signed; /* refuse NONE and UNTRUSTED */
};

struct pt_library_info {
	struct pt_manifest manifest; /* validated copy */
	enum pt_signature signature;
	uint8_t signer[PT_KEY_PUBLIC_BYTES]; /* when signed */
	size_t file_size;
};

/*
 * Finds and checks the manifest in a library image of @size bytes (the
 * whole file). Returns 0 with *@out filled, or -ENOEXEC with @err saying
 * what is wrong: not ELF, not a shared object for this machine, truncated,
 * no manifest section, no entry symbol, or a manifest that fails
 * pt_manifest_check().
 */
int pt_library_parse(const void *image, size_t size, struct pt_manifest *out,
		     char *err, size_t errlen);

/* Checks a manifest's fields: magic, ABI version (the message names both),
 * name, UUID, flags, heap and stack sizes, pin counts, reserved bytes.
 * Returns 0 or -ENOEXEC. */
int pt_manifest_check(const struct pt_manifest *m, char *err, size_t errlen);

/*
 * Reads the library at @path, parses its manifest and checks its signature
 * against @policy (NULL: no keys, signatures not required). Returns 0 with
 * *@info filled, -ENOEXEC for a library refused, -EKEYREJECTED for a
 * signature refused, or another -errno if the file cannot be read; @err
 * starts with the path.
 */
int pt_library_check(const char *path, const struct pt_library_policy *policy,
		     struct pt_library_info *info, char *err, size_t errlen);

/*
 * Copies the library at @path into a sealed memfd (no holder can change it
 * afterwards) and returns its fd in *@fd. The host checks this copy and
 * loads this copy, so the file cannot be swapped between the check and the
 * load. Returns 0 or -errno with @err starting with the path.
 */
int pt_library_snapshot(const char *path, int *fd, char *err, size_t errlen);

/* pt_library_check() on a snapshot: the manifest and signature of the bytes
 * of @fd; @path names the library in messages and locates PATH.sig. */
int pt_library_check_fd(int fd, const char *path,
			const struct pt_library_policy *policy,
			struct pt_library_info *info, char *err, size_t errlen);

/* Reads a whole file of at most @max bytes into a malloc()ed buffer. */
int pt_file_read(const char *path, size_t max, void **data, size_t *size,
		 char *err, size_t errlen);

/* ---- keys and signatures ----------------------------------------------- */

/* Writes a new key pair: @secret_path (mode 0600) and @public_path. */
int pt_key_generate(const char *secret_path, const char *public_path,
		    char *err, size_t errlen);

/* Adds the public keys in @path (a .pub file or a list of hex keys, one a
 * line, '#' comments) to @policy. Returns the number added or -errno. */
int pt_trust_load(struct pt_library_policy *policy, const char *path,
		  char *err, size_t errlen);

/* Signs the library at @lib_path with the secret key at @secret_path,
 * writing @lib_path.sig. */
int pt_library_sign(const char *lib_path, const char *secret_path, char *err,
		    size_t errlen);

/*
 * Checks the signature text @sig (a LIB.sig file's bytes) over @image.
 * Returns 0 with *@status TRUSTED or UNTRUSTED and the signer's key, or
 * -EKEYREJECTED if it is malformed or does not verify.
 */
int pt_signature_verify(const void *sig, size_t sig_size, const void *image,
			size_t size, const struct pt_library_policy *policy,
			enum pt_signature *status,
			uint8_t signer[PT_KEY_PUBLIC_BYTES], char *err,
			size_t errlen);

/* Returns "unsigned", "signed, trusted key", "signed, untrusted key". */
const char *pt_signature_name(enum pt_signature s);

/* Writes @n bytes as lowercase hex plus a NUL into @out (2n+1 bytes). */
void pt_hex(const uint8_t *in, size_t n, char *out);

#endif
