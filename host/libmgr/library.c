/* SPDX-License-Identifier: MIT */
/* The library manager: manifest reading with libelf, sanity checks, and
 * ed25519 signatures with libsodium. */
#include "host/libmgr/library.h"

#include <endian.h>
#include <errno.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIG_HEADER "partita-signature 1"
#define PUB_HEADER "partita-public-key 1"
#define SEC_HEADER "partita-secret-key 1"

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#elif defined(__i386__)
#define HOST_MACHINE EM_386
#elif defined(__riscv)
#define HOST_MACHINE EM_RISCV
#endif

#if __BYTE_ORDER == __LITTLE_ENDIAN
#define HOST_ELFDATA ELFDATA2LSB
#else
#define HOST_ELFDATA ELFDATA2MSB
#endif

#if __SIZEOF_POINTER__ == 8
#define HOST_ELFCLASS ELFCLASS64
#else
#define HOST_ELFCLASS ELFCLASS32
#endif

static int failf(int ret, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int failf(int ret, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static pthread_once_t libs_once = PTHREAD_ONCE_INIT;
static bool libs_ready;

static void libs_init(void)
{
	libs_ready = elf_version(EV_CURRENT) != EV_NONE && sodium_init() >= 0;
}

static int libs_check(char *err, size_t errlen)
{
	pthread_once(&libs_once, libs_init);
	if (!libs_ready)
		return failf(-ENOSYS, err, errlen, "libelf or libsodium failed to initialise");
	return 0;
}

void pt_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses exactly 2*@n hex digits at @s into @out. */
static bool unhex(const char *s, size_t len, uint8_t *out, size_t n)
{
	if (len != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

int pt_manifest_check(const struct pt_manifest *m, char *err, size_t errlen)
{
	static const uint8_t zero_uuid[16];
	const char *nul;
	size_t len;

	if (memcmp(m->magic, PT_MANIFEST_MAGIC, sizeof(PT_MANIFEST_MAGIC)))
		return failf(-ENOEXEC, err, errlen,
			     "manifest magic: not \"%s\"", PT_MANIFEST_MAGIC);
	if (m->abi_version < PT_ABI_VERSION_MIN || m->abi_version > PT_ABI_VERSION)
		return failf(-ENOEXEC, err, errlen,
			     "manifest abi_version: library built for ABI version %u, this host speaks ABI versions %u to %u",
			     m->abi_version, PT_ABI_VERSION_MIN, PT_ABI_VERSION);
	nul = memchr(m->name, 0, sizeof(m->name));
	if (!nul)
		return failf(-ENOEXEC, err, errlen,
			     "manifest name: not NUL-terminated within %d bytes",
			     PT_NAME_MAX);
	len = (size_t)(nul - m->name);
	if (!len)
		return failf(-ENOEXEC, err, errlen, "manifest name: empty");
	for (size_t i = 0; i < len; i++) {
		char c = m->name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return failf(-ENOEXEC, err, errlen,
				     "manifest name: byte 0x%02x at %zu is not one of [A-Za-z0-9_.-]",
				     (unsigned char)c, i);
	}
	if (!memcmp(m->uuid, zero_uuid, sizeof(zero_uuid)))
		return failf(-ENOEXEC, err, errlen, "manifest uuid: all zero");
	if (m->flags & ~(uint32_t)(PT_MOD_FLAG_ISOLATABLE | PT_MOD_FLAG_CUSTOM_READY |
				 PT_MOD_FLAG_BINARY_INIT))
		return failf(-ENOEXEC, err, errlen,
			     "manifest flags: unknown bits 0x%x", m->flags);
	if (m->heap_size &&
	    (m->heap_size < PT_MANIFEST_HEAP_MIN || m->heap_size > PT_MANIFEST_HEAP_MAX))
		return failf(-ENOEXEC, err, errlen,
			     "manifest heap_size: %u is outside %u..%u", m->heap_size,
			     PT_MANIFEST_HEAP_MIN, PT_MANIFEST_HEAP_MAX);
	if (m->stack_size &&
	    (m->stack_size < PT_MANIFEST_STACK_MIN || m->stack_size > PT_MANIFEST_STACK_MAX))
		return failf(-ENOEXEC, err, errlen,
			     "manifest stack_size: %u is outside %u..%u", m->stack_size,
			     PT_MANIFEST_STACK_MIN, PT_MANIFEST_STACK_MAX);
	if (m->max_sources > PT_MAX_PINS || m->max_sinks > PT_MAX_PINS)
		return failf(-ENOEXEC, err, errlen,
			     "manifest max_sources/max_sinks: %u/%u, at most %d each",
			     m->max_sources, m->max_sinks, PT_MAX_PINS);
	if (!m->max_sources && !m->max_sinks)
		return failf(-ENOEXEC, err, errlen,
			     "manifest max_sources/max_sinks: a module with no pins");
	for (size_t i = 0; i < sizeof(m->reserved); i++)
		if (m->reserved[i])
			return failf(-ENOEXEC, err, errlen,
				     "manifest reserved: byte %zu is not 0", i);
	return 0;
}

/* Returns true if [off, off + len) lies within @size bytes. */
static bool in_file(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

/* Looks for PT_MODULE_ENTRY_SYMBOL in the dynamic symbol table @scn. */
static bool exports_entry(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n;

	if (!d || !sh->sh_entsize)
		return false;
	n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(d, (int)i, &sym))
			return false;
		if (sym.st_shndx == SHN_UNDEF)
			continue;
		name = elf_strptr(e, sh->sh_link, sym.st_name);
		if (name && !strcmp(name, PT_MODULE_ENTRY_SYMBOL))
			return true;
	}
	return false;
}

static int parse_elf(Elf *e, const uint8_t *image, size_t size,
		     struct pt_manifest *out, char *err, size_t errlen)
{
	GElf_Ehdr eh;
	Elf_Scn *scn = NULL;
	size_t shstrndx, found = 0;
	uint64_t man_off = 0, man_size = 0;
	bool entry = false;

	if (elf_kind(e) != ELF_K_ELF)
		return failf(-ENOEXEC, err, errlen, "not an ELF file");
	if (!gelf_getehdr(e, &eh))
		return failf(-ENOEXEC, err, errlen, "ELF header unreadable: %s",
			     elf_errmsg(-1));
	if (eh.e_ident[EI_CLASS] != HOST_ELFCLASS || eh.e_ident[EI_DATA] != HOST_ELFDATA)
		return failf(-ENOEXEC, err, errlen,
			     "ELF class/byte order %u/%u is not this host's",
			     eh.e_ident[EI_CLASS], eh.e_ident[EI_DATA]);
	if (eh.e_type != ET_DYN)
		return failf(-ENOEXEC, err, errlen,
			     "not a shared object (ELF type %u)", eh.e_type);
#ifdef HOST_MACHINE
	if (eh.e_machine != HOST_MACHINE)
		return failf(-ENOEXEC, err, errlen,
			     "built for ELF machine %u, this host is %u", eh.e_machine,
			     HOST_MACHINE);
#endif
	if (!eh.e_shoff || !eh.e_shnum)
		return failf(-ENOEXEC, err, errlen, "no section headers");
	if (!in_file(eh.e_shoff, (uint64_t)eh.e_shnum * eh.e_shentsize, size))
		return failf(-ENOEXEC, err, errlen,
			     "truncated: section headers end past the file's %zu bytes",
			     size);
	if (elf_getshdrstrndx(e, &shstrndx))
		return failf(-ENOEXEC, err, errlen,
			     "no section name table: %s", elf_errmsg(-1));
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			return failf(-ENOEXEC, err, errlen, "section header unreadable: %s",
				     elf_errmsg(-1));
		if (sh.sh_type != SHT_NOBITS && !in_file(sh.sh_offset, sh.sh_size, size))
			return failf(-ENOEXEC, err, errlen,
				     "truncated: section %zu ends past the file's %zu bytes",
				     elf_ndxscn(scn), size);
		if (sh.sh_type == SHT_DYNSYM && !entry)
			entry = exports_entry(e, scn, &sh);
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (!name || strcmp(name, PT_MANIFEST_SECTION))
			continue;
		found++;
		if (sh.sh_type != SHT_PROGBITS)
			return failf(-ENOEXEC, err, errlen,
				     "section %s holds no bytes in the file",
				     PT_MANIFEST_SECTION);
		man_off = sh.sh_offset;
		man_size = sh.sh_size;
	}
	if (!found)
		return failf(-ENOEXEC, err, errlen,
			     "no %s section: not a Partita module library",
			     PT_MANIFEST_SECTION);
	if (found > 1)
		return failf(-ENOEXEC, err, errlen, "%zu %s sections, one expected",
			     found, PT_MANIFEST_SECTION);
	if (man_size != sizeof(*out))
		return failf(-ENOEXEC, err, errlen,
			     "section %s is %llu bytes, one manifest is %zu",
			     PT_MANIFEST_SECTION, (unsigned long long)man_size,
			     sizeof(*out));
	memcpy(out, image + man_off, sizeof(*out));
	if (!entry)
		return failf(-ENOEXEC, err, errlen,
			     "exports no %s symbol", PT_MODULE_ENTRY_SYMBOL);
	return pt_manifest_check(out, err, errlen);
}

int pt_library_parse(const void *image, size_t size, struct pt_manifest *out,
		     char *err, size_t errlen)
{
	uint8_t *copy;
	Elf *e;
	int ret;

	ret = libs_check(err, errlen);
	if (ret)
		return ret;
	if (size < EI_NIDENT || memcmp(image, ELFMAG, SELFMAG))
		return failf(-ENOEXEC, err, errlen, "not an ELF file");
	/* libelf may convert in place; it gets a private copy. */
	copy = malloc(size);
	if (!copy)
		return failf(-ENOMEM, err, errlen, "out of memory for %zu bytes", size);
	memcpy(copy, image, size);
	e = elf_memory((char *)copy, size);
	if (!e) {
		ret = failf(-ENOEXEC, err, errlen, "not an ELF file: %s", elf_errmsg(-1));
	} else {
		ret = parse_elf(e, copy, size, out, err, errlen);
		elf_end(e);
	}
	free(copy);
	return ret;
}

int pt_file_read(const char *path, size_t max, void **data, size_t *size,
		 char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd, ret;

	/* Non-blocking: opening a FIFO must not wait for a writer; it is
	 * refused below, as anything but a regular file is. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return failf(-errno, err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = failf(-EINVAL, err, errlen, "%s: not a regular file (%s)", path,
			    S_ISFIFO(st.st_mode) ? "a FIFO" :
			    S_ISDIR(st.st_mode) ? "a folder" : "a device or socket");
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		ret = failf(-EFBIG, err, errlen, "%s: %lld bytes, more than %zu",
			    path, (long long)st.st_size, max);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = failf(-ENOMEM, err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = failf(n < 0 ? -errno : -EIO, err, errlen,
				    "%s: short read", path);
			free(buf);
			goto out;
		}
		got += (size_t)n;
	}
	buf[got] = 0; /* text files can be parsed as strings */
	*data = buf;
	*size = got;
	ret = 0;
out:
	close(fd);
	return ret;
}

const char *pt_signature_name(enum pt_signature s)
{
	switch (s) {
	case PT_SIGNATURE_NONE:
		return "unsigned";
	case PT_SIGNATURE_TRUSTED:
		return "signed, trusted key";
	case PT_SIGNATURE_UNTRUSTED:
		return "signed, untrusted key";
	}
	return "unknown";
}

/* Splits off the next line of [*p, end): returns its start and length,
 * without the newline; false at the end. */
static bool next_line(const char **p, const char *end, const char **line,
		      size_t *len)
{
	const char *nl;

	if (*p >= end)
		return false;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*line = *p;
	*len = (size_t)((nl ? nl : end) - *p);
	*p = nl ? nl + 1 : end;
	while (*len && ((*line)[*len - 1] == '\r' || (*line)[*len - 1] == ' '))
		(*len)--;
	return true;
}

static bool line_is(const char *line, size_t len, const char *prefix,
		    const char **rest, size_t *rest_len)
{
	size_t n = strlen(prefix);

	if (len < n || memcmp(line, prefix, n))
		return false;
	*rest = line + n;
	*rest_len = len - n;
	return true;
}

int pt_signature_verify(const void *sig, size_t sig_size, const void *image,
			size_t size, const struct pt_library_policy *policy,
			enum pt_signature *status,
			uint8_t signer[PT_KEY_PUBLIC_BYTES], char *err,
			size_t errlen)
{
	const char *p = sig, *end = p + sig_size, *line, *rest;
	size_t len, rest_len, lineno = 0;
	uint8_t key[PT_KEY_PUBLIC_BYTES], s[PT_SIGNATURE_BYTES];
	bool have_head = false, have_key = false, have_sig = false;
	int ret;

	ret = libs_check(err, errlen);
	if (ret)
		return ret;
	while (next_line(&p, end, &line, &len)) {
		lineno++;
		if (!len || line[0] == '#')
			continue;
		if (!have_head) {
			if (len != strlen(SIG_HEADER) || memcmp(line, SIG_HEADER, len))
				return failf(-EKEYREJECTED, err, errlen,
					     "signature line %zu: expected \"%s\"",
					     lineno, SIG_HEADER);
			have_head = true;
		} else if (line_is(line, len, "key ", &rest, &rest_len)) {
			if (have_key || !unhex(rest, rest_len, key, sizeof(key)))
				return failf(-EKEYREJECTED, err, errlen,
					     "signature line %zu: key: want one key of 64 hex digits",
					     lineno);
			have_key = true;
		} else if (line_is(line, len, "sig ", &rest, &rest_len)) {
			if (have_sig || !unhex(rest, rest_len, s, sizeof(s)))
				return failf(-EKEYREJECTED, err, errlen,
					     "signature line %zu: sig: want one signature of 128 hex digits",
					     lineno);
			have_sig = true;
		} else {
			return failf(-EKEYREJECTED, err, errlen,
				     "signature line %zu: unknown line", lineno);
		}
	}
	if (!have_head || !have_key || !have_sig)
		return failf(-EKEYREJECTED, err, errlen,
			     "signature: incomplete (needs header, key and sig lines)");
	if (crypto_sign_verify_detached(s, image, size, key))
		return failf(-EKEYREJECTED, err, errlen,
			     "signature: does not verify: the library was changed after signing, or the signature belongs to another file");
	memcpy(signer, key, sizeof(key));
	*status = PT_SIGNATURE_UNTRUSTED;
	for (size_t i = 0; policy && i < policy->nkeys; i++)
		if (!memcmp(policy->keys[i], key, sizeof(key)))
			*status = PT_SIGNATURE_TRUSTED;
	return 0;
}

/* Checks @image (the library's bytes) as the library at @path. */
static int check_image(const void *image, size_t size, const char *path,
		       const struct pt_library_policy *policy,
		       struct pt_library_info *info, char *err, size_t errlen)
{
	char sig_path[4096], why[512];
	void *sig = NULL;
	size_t sig_size;
	int ret;

	info->file_size = size;
	ret = pt_library_parse(image, size, &info->manifest, why, sizeof(why));
	if (ret)
		return failf(ret, err, errlen, "%s: %s", path, why);
	if ((size_t)snprintf(sig_path, sizeof(sig_path), "%s.sig", path) >= sizeof(sig_path))
		return failf(-ENAMETOOLONG, err, errlen, "%s: path too long", path);
	ret = pt_file_read(sig_path, 64 * 1024, &sig, &sig_size, why, sizeof(why));
	if (ret == -ENOENT) {
		info->signature = PT_SIGNATURE_NONE;
		ret = 0;
	} else if (ret) {
		failf(-EKEYREJECTED, err, errlen, "%s", why);
		ret = -EKEYREJECTED;
	} else {
		ret = pt_signature_verify(sig, sig_size, image, size, policy,
					  &info->signature, info->signer, why,
					  sizeof(why));
		if (ret)
			failf(ret, err, errlen, "%s: %s", sig_path, why);
	}
	free(sig);
	if (!ret && policy && policy->require_signed &&
	    info->signature != PT_SIGNATURE_TRUSTED)
		ret = failf(-EKEYREJECTED, err, errlen,
			    "%s: %s, and signatures by a trusted key are required",
			    path, pt_signature_name(info->signature));
	return ret;
}

int pt_library_check(const char *path, const struct pt_library_policy *policy,
		     struct pt_library_info *info, char *err, size_t errlen)
{
	void *image = NULL;
	size_t size;
	int ret;

	memset(info, 0, sizeof(*info));
	ret = pt_file_read(path, PT_LIBRARY_FILE_MAX, &image, &size, err, errlen);
	if (!ret)
		ret = check_image(image, size, path, policy, info, err, errlen);
	free(image);
	return ret;
}

int pt_library_snapshot(const char *path, int *fd, char *err, size_t errlen)
{
	void *image = NULL;
	size_t size, done = 0;
	int ret, m;

	ret = pt_file_read(path, PT_LIBRARY_FILE_MAX, &image, &size, err, errlen);
	if (ret)
		return ret;
	m = memfd_create("pt-library", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (m < 0) {
		ret = failf(-errno, err, errlen, "%s: memfd: %s", path, strerror(errno));
		goto out;
	}
	while (done < size) {
		ssize_t n = write(m, (const uint8_t *)image + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = failf(n < 0 ? -errno : -EIO, err, errlen, "%s: copy: %s",
				    path, strerror(n < 0 ? errno : EIO));
			goto fail;
		}
		done += (size_t)n;
	}
	if (fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
				   F_SEAL_SEAL) < 0) {
		ret = failf(-errno, err, errlen, "%s: seal: %s", path, strerror(errno));
		goto fail;
	}
	*fd = m;
	goto out;
fail:
	close(m);
out:
	free(image);
	return ret;
}

int pt_library_check_fd(int fd, const char *path,
			const struct pt_library_policy *policy,
			struct pt_library_info *info, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *image;
	size_t got = 0;
	int ret;

	memset(info, 0, sizeof(*info));
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size > PT_LIBRARY_FILE_MAX)
		return failf(-EINVAL, err, errlen, "%s: snapshot unreadable", path);
	image = malloc((size_t)st.st_size + 1);
	if (!image)
		return failf(-ENOMEM, err, errlen, "%s: out of memory", path);
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, image + got, (size_t)st.st_size - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(image);
			return failf(-EIO, err, errlen, "%s: short read of the snapshot", path);
		}
		got += (size_t)n;
	}
	ret = check_image(image, got, path, policy, info, err, errlen);
	free(image);
	return ret;
}

static int write_file(const char *path, const char *text, mode_t mode,
		      char *err, size_t errlen)
{
	size_t len = strlen(text), done = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0)
		return failf(-errno, err, errlen, "%s: %s", path, strerror(errno));
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			return failf(-e, err, errlen, "%s: %s", path, strerror(e));
		}
		done += (size_t)n;
	}
	if (close(fd) < 0)
		return failf(-errno, err, errlen, "%s: %s", path, strerror(errno));
	return 0;
}

int pt_key_generate(const char *secret_path, const char *public_path,
		    char *err, size_t errlen)
{
	uint8_t pk[PT_KEY_PUBLIC_BYTES], sk[PT_KEY_SECRET_BYTES];
	char hex[2 * PT_KEY_SECRET_BYTES + 1];
	char text[256];
	int ret;

	ret = libs_check(err, errlen);
	if (ret)
		return ret;
	crypto_sign_keypair(pk, sk);
	pt_hex(sk, sizeof(sk), hex);
	snprintf(text, sizeof(text), "%s\n%s\n", SEC_HEADER, hex);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(hex, sizeof(hex));
	ret = write_file(secret_path, text, 0600, err, errlen);
	sodium_memzero(text, sizeof(text));
	if (ret)
		return ret;
	pt_hex(pk, sizeof(pk), hex);
	snprintf(text, sizeof(text), "%s\n%s\n", PUB_HEADER, hex);
	return write_file(public_path, text, 0644, err, errlen);
}

int pt_trust_load(struct pt_library_policy *policy, const char *path,
		  char *err, size_t errlen)
{
	void *data;
	size_t size, len, lineno = 0;
	const char *p, *end, *line;
	int ret, added = 0;

	ret = pt_file_read(path, 64 * 1024, &data, &size, err, errlen);
	if (ret)
		return ret;
	p = data;
	end = p + size;
	while (next_line(&p, end, &line, &len)) {
		lineno++;
		if (!len || line[0] == '#' ||
		    (len == strlen(PUB_HEADER) && !memcmp(line, PUB_HEADER, len)))
			continue;
		if (policy->nkeys >= PT_TRUST_MAX) {
			ret = failf(-E2BIG, err, errlen, "%s:%zu: more than %d trusted keys",
				    path, lineno, PT_TRUST_MAX);
			goto out;
		}
		if (!unhex(line, len, policy->keys[policy->nkeys], PT_KEY_PUBLIC_BYTES)) {
			ret = failf(-EINVAL, err, errlen,
				    "%s:%zu: not a public key (64 hex digits)", path,
				    lineno);
			goto out;
		}
		policy->nkeys++;
		added++;
	}
	ret = added ? added : failf(-EINVAL, err, errlen, "%s: no keys", path);
out:
	free(data);
	return ret;
}

int pt_library_sign(const char *lib_path, const char *secret_path, char *err,
		    size_t errlen)
{
	void *key_text = NULL, *image = NULL;
	size_t key_size, size, len;
	const char *p, *end, *line;
	uint8_t sk[PT_KEY_SECRET_BYTES], s[PT_SIGNATURE_BYTES];
	char hex_pk[2 * PT_KEY_PUBLIC_BYTES + 1], hex_sig[2 * PT_SIGNATURE_BYTES + 1];
	char sig_path[4096], text[512];
	int ret;

	ret = libs_check(err, errlen);
	if (ret)
		return ret;
	ret = pt_file_read(secret_path, 4096, &key_text, &key_size, err, errlen);
	if (ret)
		return ret;
	p = key_text;
	end = p + key_size;
	if (!next_line(&p, end, &line, &len) || len != strlen(SEC_HEADER) ||
	    memcmp(line, SEC_HEADER, len) || !next_line(&p, end, &line, &len) ||
	    !unhex(line, len, sk, sizeof(sk))) {
		ret = failf(-EINVAL, err, errlen,
			    "%s: not a secret key (\"%s\" then 128 hex digits)",
			    secret_path, SEC_HEADER);
		goto out;
	}
	ret = pt_file_read(lib_path, PT_LIBRARY_FILE_MAX, &image, &size, err, errlen);
	if (ret)
		goto out;
	if ((size_t)snprintf(sig_path, sizeof(sig_path), "%s.sig", lib_path) >= sizeof(sig_path)) {
		ret = failf(-ENAMETOOLONG, err, errlen, "%s: path too long", lib_path);
		goto out;
	}
	crypto_sign_detached(s, NULL, image, size, sk);
	/* An ed25519 secret key carries its public key in its upper half. */
	pt_hex(sk + 32, PT_KEY_PUBLIC_BYTES, hex_pk);
	pt_hex(s, sizeof(s), hex_sig);
	snprintf(text, sizeof(text), "%s\nkey %s\nsig %s\n", SIG_HEADER, hex_pk, hex_sig);
	ret = write_file(sig_path, text, 0644, err, errlen);
out:
	sodium_memzero(sk, sizeof(sk));
	if (key_text) {
		sodium_memzero(key_text, key_size);
		free(key_text);
	}
	free(image);
	return ret;
}
