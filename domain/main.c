/* SPDX-License-Identifier: MIT */
/*
 * partita-domain: the worker process an untrusted module instance runs in.
 *
 * Started by the host with exec (never a fork of the host) with one end of
 * a SEQPACKET socket as fd 3, a log pipe as fd 2 and nothing else. It
 * confines itself (domain/lockdown.h), maps the control partition the host
 * sends first, then serves requests: control messages on the socket (load,
 * grant, init, prepare, config, reset, free), PROCESS on the rings. It
 * exits when its last instance is freed, and dies with the host.
 *
 * Module code only ever runs with malloc routed to its instance's private
 * heap and on its instance's stack (domain/heap_route.h, domain/stack.h).
 */
#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <partita/heap.h>
#include <partita/module.h>

#include "domain/heap_route.h"
#include "domain/lockdown.h"
#include "domain/log.h"
#include "domain/stack.h"
#include "lib/abi/abi.h"
#include "lib/domain/protocol.h"
#include "lib/ring/ring.h"

/* How long the request loop spins for the next request before it sleeps on
 * the futex (the host chooses, PT_DCTL_RINGS): long enough to catch the
 * next submit when the host is quick, short enough not to burn a shared
 * core. */
static uint64_t request_spin_ns = 20000;
/* MAP_POPULATE too when running at real-time priority. */
static int map_flags = MAP_SHARED;

/* The pages of every loaded object (this program, the C library, the
 * module's library), segment by segment: @arg is an int, a madvise advice.
 * MADV_DONTNEED drops what was never writable (unmodified file pages, read
 * again from the page cache; relocated data and RELRO sit in writable
 * segments and are left alone); MADV_POPULATE_WRITE populates every
 * segment, a writable one for writing (its read-only part, RELRO, refuses
 * that: read in then). */
static int segment_pages(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	int advice = *(const int *)arg;

	(void)size;
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		bool writable = ph->p_flags & PF_W;
		uintptr_t lo, hi;

		if (ph->p_type != PT_LOAD || !ph->p_memsz ||
		    (advice == MADV_DONTNEED && writable))
			continue;
		lo = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
		hi = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + page - 1) & ~(page - 1);
		if (advice == MADV_DONTNEED)
			madvise((void *)lo, hi - lo, MADV_DONTNEED);
		else if (!writable || madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE))
			madvise((void *)lo, hi - lo, MADV_POPULATE_READ);
	}
	return 0;
}

/* Real time: the pages a period touches are present before the first
 * period. Partitions and stacks are mapped with MAP_POPULATE; the loaded
 * objects are populated here once the module is prepared: without it the
 * first periods of a chain take a minor fault on every page of code they
 * reach, in every domain, and miss. */
static void populate_loaded(void)
{
	int advice = MADV_POPULATE_WRITE;

	if (map_flags & MAP_POPULATE)
		dl_iterate_phdr(segment_pages, &advice);
}

struct grant {
	uint32_t part_id;
	int writable;
	uint8_t *addr;
	size_t size;
};

struct pin {
	const struct grant *g;
	uint32_t size;
	struct pt_format fmt;
	uint32_t byte_align, frame_align; /* what prepare asked for */
};

struct instance {
	int used;
	uint32_t id;
	char name[PT_NAME_MAX];
	char context[192];        /* names it in lockdown reports */
	void *dl;
	const struct pt_module_entry *entry;
	struct pt_module mod;
	int inited;
	uint8_t *priv;
	size_t priv_size;
	uint8_t *stack_top;
	struct pt_heap *heap;
	uint32_t period_frames;
	unsigned nsrc, nsnk;
	struct pin src[PT_MAX_PINS], snk[PT_MAX_PINS];
	void *payload;            /* binary init payload, in its heap */
	/* An in-period chain stage: its activation record's word and
	 * partition (lib/domain/protocol.h), NULL until its first CHAIN. */
	uint32_t *act;
	uint32_t act_id;
};

static struct instance instances[PT_DOMAIN_MAX_INSTANCES];
static struct grant grants[PT_DOMAIN_MAX_GRANTS];
static struct pt_ring ring;
/* Futex syscalls on activation records (waits and wakes), reported with
 * the ring's own in every completion. */
static uint64_t chain_futex_calls;
static unsigned live_instances;
/* Plugin files were granted (extra arguments): module init and prepare
 * (a plugin's dlopen, instantiate) run before the seal, which comes with
 * the pipeline's START (after the module's trigger), or at the latest with
 * the first PROCESS request: installing the filter takes a period's worth
 * of time, and a live chain would miss its first period for it. */
static bool init_before_seal;
/* Libraries loaded so far; fds from LIBRARY_FD_BASE up name each load. */
static unsigned loads;
#define LIBRARY_FD_BASE 16

/* Control messages can carry a 256 KiB config blob: they live here, not on
 * the small process stack. */
static uint8_t msg_in[PT_DCTL_MSG_MAX];
static uint8_t msg_out[PT_DCTL_MSG_MAX];

/* pt_domain_log under the name this file has always used. */
static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void log_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pt_domain_vlog(fmt, ap);
	va_end(ap);
}

static void module_log(void *ctx, const char *instance, int level,
		       const char *line)
{
	(void)ctx;
	log_line("%s: [%d] %s", instance, level, line);
}

static struct instance *instance_find(uint32_t id)
{
	for (unsigned i = 0; i < PT_DOMAIN_MAX_INSTANCES; i++)
		if (instances[i].used && instances[i].id == id)
			return &instances[i];
	return NULL;
}

static const struct grant *grant_find(uint32_t part_id, int writable)
{
	for (unsigned i = 0; i < PT_DOMAIN_MAX_GRANTS; i++)
		if (grants[i].addr && grants[i].part_id == part_id &&
		    grants[i].writable == writable)
			return &grants[i];
	return NULL;
}

/* ---- calls into module code ---- */

enum call_op { CALL_LOAD, CALL_INIT, CALL_PREPARE, CALL_PROCESS, CALL_READY,
	       CALL_SET, CALL_GET, CALL_RESET, CALL_FREE, CALL_BIND, CALL_UNBIND,
	       CALL_TRIGGER, CALL_MODE };

struct call {
	enum call_op op;
	struct instance *in;
	const char *path;          /* LOAD */
	const void *data;          /* INIT, SET */
	size_t size;               /* INIT, SET; GET: room in, bytes out */
	void *out;                 /* GET */
	uint32_t param;
	struct pt_source *const *srcs;
	struct pt_sink *const *snks;
	const struct pt_pin_info *pin; /* BIND, UNBIND */
	int ret;
};

static void call_body(void *arg)
{
	struct call *c = arg;
	struct instance *in = c->in;
	/* The callbacks as the library's ABI version has them (lib/abi). */
	const struct pt_module_ops *ops = &in->mod.ops;

	switch (c->op) {
	case CALL_LOAD:
		in->dl = dlopen(c->path, RTLD_NOW | RTLD_LOCAL);
		c->ret = in->dl ? 0 : -ENOEXEC;
		break;
	case CALL_INIT:
		c->ret = ops->init ? ops->init(&in->mod, c->data, c->size) : 0;
		break;
	case CALL_PREPARE:
		c->ret = ops->prepare ? ops->prepare(&in->mod, c->srcs, in->nsrc,
						     c->snks, in->nsnk) : 0;
		break;
	case CALL_PROCESS:
		c->ret = ops->process(&in->mod, c->srcs, in->nsrc, c->snks,
				      in->nsnk);
		break;
	case CALL_READY:
		c->ret = pt_module_is_ready(&in->mod, c->srcs, in->nsrc, c->snks,
					    in->nsnk);
		break;
	case CALL_SET:
		c->ret = ops->set_config ? ops->set_config(&in->mod, c->param,
							   c->data, c->size)
					 : -EOPNOTSUPP;
		break;
	case CALL_GET:
		c->ret = ops->get_config ? ops->get_config(&in->mod, c->param,
							   c->out, &c->size)
					 : -EOPNOTSUPP;
		break;
	case CALL_RESET:
		c->ret = ops->reset ? ops->reset(&in->mod) : 0;
		break;
	case CALL_FREE:
		if (ops->free && in->inited)
			ops->free(&in->mod);
		c->ret = 0;
		break;
	case CALL_BIND:
		c->ret = ops->bind ? ops->bind(&in->mod, c->pin) : 0;
		break;
	case CALL_UNBIND:
		c->ret = ops->unbind ? ops->unbind(&in->mod, c->pin) : 0;
		break;
	case CALL_TRIGGER:
		c->ret = ops->trigger ? ops->trigger(&in->mod, c->param) : 0;
		break;
	case CALL_MODE:
		c->ret = ops->set_processing_mode ?
				 ops->set_processing_mode(&in->mod, c->param) :
				 -ENOTSUP;
		break;
	}
}

/* Runs @c on @in's stack with malloc routed to its heap. */
static int call_module(struct instance *in, struct call *c)
{
	struct pt_heap *prev = pt_route_enter(in->heap);

	c->in = in;
	pt_lockdown_context(in->context);
	pt_call_on_stack(call_body, c, in->stack_top);
	pt_lockdown_context("partita-domain");
	pt_route_enter(prev);
	return c->ret;
}

/* ---- replies ---- */

static struct pt_dctl_reply *reply_start(const struct pt_dctl_hdr *h)
{
	struct pt_dctl_reply *r = (struct pt_dctl_reply *)msg_out;

	memset(r, 0, sizeof(*r));
	r->seq = h->seq;
	r->op = h->op;
	return r;
}

static int reply_text(struct pt_dctl_reply *r, int result, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int reply_text(struct pt_dctl_reply *r, int result, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf((char *)(r + 1), 512, fmt, ap);
	va_end(ap);
	r->result = result;
	r->is_text = 1;
	r->len = n < 0 ? 0 : (n > 511 ? 511 : (uint32_t)n);
	return result;
}

/* Sends @r and its data in chunks (lib/domain/protocol.h). */
static void reply_send(const struct pt_dctl_reply *r)
{
	const uint8_t *p = (const uint8_t *)r;
	size_t total = sizeof(*r) + r->len, off = 0;

	do {
		size_t k = off ? PT_DCTL_CHUNK : sizeof(*r) + PT_DCTL_CHUNK;
		struct iovec iov;
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (k > total - off)
			k = total - off;
		iov = (struct iovec){ (void *)(p + off), k };
		if (sendmsg(PT_DOMAIN_SOCKET_FD, &m, MSG_NOSIGNAL) < 0)
			_exit(3); /* the host is gone or broke the protocol */
		off += k;
	} while (off < total);
}

/* ---- control messages ---- */

/* recv() on the control socket. The filter lets only recvmsg through
 * (recv is recvfrom, which it refuses with the other socket calls). */
static ssize_t recv_bytes(void *buf, size_t len, int flags)
{
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	return recvmsg(PT_DOMAIN_SOCKET_FD, &m, flags);
}

/* Bytes in the file behind @fd (a partition), 0 if unknown. */
static uint64_t fd_size(int fd)
{
	off_t end = lseek(fd, 0, SEEK_END);

	return end < 0 ? 0 : (uint64_t)end;
}

static void close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static int do_load(const struct pt_dctl_hdr *h, const void *body, int *fds,
		   unsigned nfds, struct pt_dctl_reply *r)
{
	struct pt_dctl_load ld;
	struct instance *in = NULL;
	long page = sysconf(_SC_PAGESIZE);
	struct call c = { .op = CALL_LOAD };
	char path[64];
	size_t heap_at;
	const struct pt_module_entry *entry;

	if (h->len != sizeof(ld) || nfds != 2)
		return reply_text(r, -EINVAL, "load: malformed message");
	memcpy(&ld, body, sizeof(ld));
	ld.name[PT_NAME_MAX - 1] = '\0';
	ld.library[sizeof(ld.library) - 1] = '\0';
	if (pt_lockdown_sealed())
		return reply_text(r, -EPERM,
				  "library %s: domain is sealed (its first instance was initialised); "
				  "instances sharing a domain are all created before the first prepare",
				  ld.library);
	if (instance_find(h->instance))
		return reply_text(r, -EEXIST, "instance %u exists", h->instance);
	for (unsigned i = 0; i < PT_DOMAIN_MAX_INSTANCES && !in; i++)
		if (!instances[i].used)
			in = &instances[i];
	if (!in)
		return reply_text(r, -ENOSPC, "domain full: %d instances",
				  PT_DOMAIN_MAX_INSTANCES);
	if (fd_size(fds[0]) != ld.priv_size ||
	    ld.guard % page || ld.stack_size % page ||
	    (uint64_t)ld.guard + ld.stack_size + 4096 > ld.priv_size)
		return reply_text(r, -EINVAL, "load: bad private partition layout");

	memset(in, 0, sizeof(*in));
	in->id = h->instance;
	in->period_frames = ld.period_frames;
	memcpy(in->name, ld.name, sizeof(in->name));
	snprintf(in->context, sizeof(in->context), "library %s (instance %s)",
		 ld.library, ld.name);
	in->priv_size = ld.priv_size;
	in->priv = mmap(NULL, ld.priv_size, PROT_READ | PROT_WRITE, map_flags,
			fds[0], 0);
	if (in->priv == MAP_FAILED)
		return reply_text(r, -errno, "map private partition: %s", strerror(errno));
	/* Mapped: the fd goes before any library code runs, so constructors
	 * find no fd but their own library's. */
	close(fds[0]);
	fds[0] = -1;
	if (ld.guard && mprotect(in->priv, ld.guard, PROT_NONE) < 0) {
		int e = errno;

		munmap(in->priv, in->priv_size);
		return reply_text(r, -e, "guard page: %s", strerror(e));
	}
	in->stack_top = in->priv + ld.guard + ld.stack_size;
	heap_at = ld.guard + ld.stack_size;
	in->heap = pt_route_add(in->priv + heap_at, ld.priv_size - heap_at);
	if (!in->heap) {
		munmap(in->priv, in->priv_size);
		return reply_text(r, -ENOMEM, "private heap of %zu bytes refused",
				  (size_t)(ld.priv_size - heap_at));
	}
	in->used = 1;
	live_instances++;

	/* The loader matches an already loaded object by the name it was
	 * opened with before it looks at the file: every load gets an fd
	 * number never used before, so one instance's copy of a library is
	 * never taken for another's (each keeps its own static data). */
	{
		int want = LIBRARY_FD_BASE + (int)loads++;
		int fd = fcntl(fds[1], F_DUPFD_CLOEXEC, want);

		if (fd != want) {
			if (fd >= 0)
				close(fd);
			reply_text(r, -EMFILE, "library %s: no fresh fd to load it from", ld.library);
			goto fail;
		}
		close(fds[1]);
		fds[1] = fd;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[1]);
	snprintf(in->context, sizeof(in->context), "library %s: constructor",
		 ld.library);
	c.path = path;
	/* The library's constructors run here, confined, on the instance's
	 * stack and heap. */
	if (call_module(in, &c) < 0) {
		const char *e = dlerror();
		reply_text(r, -ENOEXEC, "library %s: %s", ld.library, e ? e : "dlopen failed");
		goto fail;
	}
	snprintf(in->context, sizeof(in->context), "library %s (instance %s)",
		 ld.library, ld.name);
	entry = dlsym(in->dl, PT_MODULE_ENTRY_SYMBOL);
	if (!entry || !entry->manifest || !entry->ops || !entry->ops->process) {
		reply_text(r, -ENOEXEC, "library %s: no %s with a process callback",
			   ld.library, PT_MODULE_ENTRY_SYMBOL);
		goto fail;
	}
	if (!pt_abi_version_supported(entry->manifest->abi_version)) {
		reply_text(r, -EPROTO, "library %s: built for module ABI %u, this domain speaks %u to %u",
			   ld.library, entry->manifest->abi_version, PT_ABI_VERSION_MIN,
			   PT_ABI_VERSION);
		goto fail;
	}
	in->entry = entry;
	r->addr = (uint64_t)(uintptr_t)(in->priv + heap_at);
	r->heap_used = pt_route_used(in->heap);
	return 0;
fail:
	if (in->dl)
		dlclose(in->dl);
	pt_route_remove(in->heap);
	munmap(in->priv, in->priv_size);
	in->used = 0;
	live_instances--;
	return r->result;
}

static int do_grant(const struct pt_dctl_hdr *h, const void *body, int *fds,
		    unsigned nfds, struct pt_dctl_reply *r)
{
	struct pt_dctl_grant g;
	struct grant *slot = NULL;
	void *addr;

	if (h->len != sizeof(g) || nfds != 1)
		return reply_text(r, -EINVAL, "grant: malformed message");
	memcpy(&g, body, sizeof(g));
	if (grant_find(g.part_id, !!g.writable))
		return reply_text(r, -EEXIST, "partition %u granted twice", g.part_id);
	for (unsigned i = 0; i < PT_DOMAIN_MAX_GRANTS && !slot; i++)
		if (!grants[i].addr)
			slot = &grants[i];
	if (!slot)
		return reply_text(r, -ENOSPC, "too many grants");
	if (fd_size(fds[0]) < g.size || !g.size)
		return reply_text(r, -EINVAL, "grant %u: size mismatch", g.part_id);
	addr = mmap(NULL, g.size, g.writable ? PROT_READ | PROT_WRITE : PROT_READ,
		    map_flags, fds[0], 0);
	if (addr == MAP_FAILED)
		return reply_text(r, -errno, "grant %u: mmap: %s", g.part_id,
				  strerror(errno));
	*slot = (struct grant){ g.part_id, !!g.writable, addr, g.size };
	r->addr = (uint64_t)(uintptr_t)addr;
	return 0;
}

static int set_pins(struct instance *in, const struct pt_dctl_prepare *p,
		    struct pt_dctl_reply *r)
{
	if (p->nsrc > PT_MAX_PINS || p->nsnk > PT_MAX_PINS)
		return reply_text(r, -EINVAL, "prepare: too many pins");
	for (unsigned side = 0; side < 2; side++) {
		unsigned n = side ? p->nsnk : p->nsrc;
		const struct pt_dctl_pin *dp = side ? p->snk : p->src;
		struct pin *pins = side ? in->snk : in->src;

		for (unsigned i = 0; i < n; i++) {
			const struct grant *g = grant_find(dp[i].part_id, side);

			if (!g)
				return reply_text(r, -ENOENT, "prepare: partition %u not granted %s",
						  dp[i].part_id, side ? "writable" : "read-only");
			if (!dp[i].size || dp[i].size > g->size ||
			    !pt_format_valid(&dp[i].fmt) ||
			    dp[i].size % pt_frame_bytes(&dp[i].fmt))
				return reply_text(r, -EINVAL, "prepare: bad pin on partition %u",
						  dp[i].part_id);
			pins[i] = (struct pin){ g, dp[i].size, dp[i].fmt, 0, 0 };
		}
	}
	in->nsrc = p->nsrc;
	in->nsnk = p->nsnk;
	return 0;
}

/* Views over the granted buffers at the given positions. */
static void make_views(struct instance *in, const uint32_t *src_words,
		       const uint32_t *snk_words, struct pt_source *srcs,
		       struct pt_sink *snks, struct pt_source **sp,
		       struct pt_sink **kp)
{
	for (unsigned i = 0; i < in->nsrc; i++) {
		size_t off = src_words ? src_words[2 * i] : 0;
		size_t avail = src_words ? src_words[2 * i + 1] : 0;

		pt_source_view(&srcs[i], in->src[i].g->addr, in->src[i].size,
			       off, avail, &in->src[i].fmt);
		srcs[i].byte_align = in->src[i].byte_align;
		srcs[i].frame_align = in->src[i].frame_align;
		sp[i] = &srcs[i];
	}
	for (unsigned i = 0; i < in->nsnk; i++) {
		size_t off = snk_words ? snk_words[2 * i] : 0;
		size_t fr = snk_words ? snk_words[2 * i + 1] : in->snk[i].size;

		pt_sink_view(&snks[i], in->snk[i].g->addr, in->snk[i].size, off,
			     fr, &in->snk[i].fmt);
		snks[i].byte_align = in->snk[i].byte_align;
		snks[i].frame_align = in->snk[i].frame_align;
		kp[i] = &snks[i];
	}
}

/* Keeps the binary init payload in the instance's private heap (charged to
 * it, like everything the module holds; a sealed domain maps nothing new):
 * valid from init until free. */
static int set_payload(struct instance *in, const void *data, size_t size,
		       struct pt_dctl_reply *r)
{
	in->payload = NULL;
	if (!size)
		return 0;
	in->payload = pt_heap_alloc(in->heap, size);
	if (!in->payload)
		return reply_text(r, -ENOMEM,
				  "init payload of %zu bytes does not fit the instance's heap",
				  size);
	memcpy(in->payload, data, size);
	return 0;
}

/* After a successful prepare: keeps what the module chose (sink formats,
 * alignment) for its later views, and tells the host in the reply. */
static void prepared(struct instance *in, const struct pt_source *srcs, const struct pt_sink *snks,
		     struct pt_dctl_reply *r)
{
	struct pt_dctl_prepared out;

	memset(&out, 0, sizeof(out));
	for (unsigned i = 0; i < in->nsrc; i++) {
		in->src[i].byte_align = srcs[i].byte_align;
		in->src[i].frame_align = srcs[i].frame_align;
		out.src[i] = (struct pt_dctl_pin_out){ srcs[i].fmt, srcs[i].byte_align,
						       srcs[i].frame_align };
	}
	for (unsigned i = 0; i < in->nsnk; i++) {
		in->snk[i].byte_align = snks[i].byte_align;
		in->snk[i].frame_align = snks[i].frame_align;
		if (snks[i].format_set) {
			/* The same frames in the new format (lib/abi kept the
			 * size within the grant). */
			in->snk[i].fmt = snks[i].fmt;
			in->snk[i].size = (uint32_t)snks[i].size;
		}
		out.snk[i] = (struct pt_dctl_pin_out){ in->snk[i].fmt, snks[i].byte_align,
						       snks[i].frame_align };
	}
	memcpy(r + 1, &out, sizeof(out));
	r->len = sizeof(out);
}

static void instance_release(struct instance *in)
{
	struct call c = { .op = CALL_FREE };

	call_module(in, &c);
	if (in->dl)
		dlclose(in->dl);
	pt_route_remove(in->heap);
	munmap(in->priv, in->priv_size);
	in->payload = NULL;
	in->used = 0;
	live_instances--;
}

static int do_control(void)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} cbuf;
	struct iovec iov = { msg_in, sizeof(msg_in) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf) };
	struct pt_dctl_hdr h;
	struct pt_dctl_reply *r;
	struct instance *in;
	int fds[2] = { -1, -1 };
	unsigned nfds = 0;
	const uint8_t *body = msg_in + sizeof(h);
	ssize_t n;
	int exiting = 0;

	n = recvmsg(PT_DOMAIN_SOCKET_FD, &m, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		_exit(n == 0 ? 0 : 3);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (nfds < 2)
				fds[nfds++] = fd;
			else
				close(fd);
		}
	}
	if ((size_t)n < sizeof(h) || (m.msg_flags & MSG_TRUNC))
		_exit(3);
	memcpy(&h, msg_in, sizeof(h));
	if (h.len > PT_DCTL_DATA_MAX || (size_t)n > sizeof(h) + h.len)
		_exit(3); /* the host does not send these */
	/* The rest of the payload follows in chunks. */
	while ((size_t)n < sizeof(h) + h.len) {
		ssize_t k = recv_bytes(msg_in + n, sizeof(h) + h.len - (size_t)n, 0);

		if (k <= 0)
			_exit(k == 0 ? 0 : 3);
		n += k;
	}
	r = reply_start(&h);
	if (h.op == PT_DCTL_LOAD) {
		do_load(&h, body, fds, nfds, r);
		goto out;
	}
	if (h.op == PT_DCTL_GRANT) {
		do_grant(&h, body, fds, nfds, r);
		goto out;
	}
	in = instance_find(h.instance);
	if (!in) {
		reply_text(r, -ENOENT, "no instance %u in this domain", h.instance);
		goto out;
	}
	switch (h.op) {
	case PT_DCTL_INIT: {
		struct call c = { .op = CALL_INIT };
		struct pt_dctl_init ib;
		char err[256];

		if (in->inited) {
			reply_text(r, -EALREADY, "instance %s initialised twice", in->name);
			break;
		}
		if (h.len < sizeof(ib) ||
		    (memcpy(&ib, body, sizeof(ib)),
		     (uint64_t)ib.text_size + ib.payload_size != h.len - sizeof(ib))) {
			reply_text(r, -EINVAL, "init: malformed");
			break;
		}
		c.data = body + sizeof(ib);
		c.size = ib.text_size;
		if (set_payload(in, body + sizeof(ib) + ib.text_size, ib.payload_size, r))
			break;
		if (!init_before_seal && pt_lockdown_seal(err, sizeof(err))) {
			reply_text(r, -EPERM, "%s", err);
			break;
		}
		memset(&in->mod, 0, sizeof(in->mod));
		in->mod.entry = in->entry;
		in->mod.heap = in->heap;
		in->mod.period_frames = in->period_frames;
		memcpy(in->mod.name, in->name, sizeof(in->mod.name));
		in->mod.log = module_log;
		in->mod.init_payload = in->payload;
		in->mod.init_payload_size = ib.payload_size;
		if (pt_module_ops_copy(in->entry, &in->mod.ops)) {
			reply_text(r, -EPROTO, "instance %s: module ABI %u", in->name,
				   in->entry->manifest->abi_version);
			break;
		}
		in->inited = 1;
		r->result = call_module(in, &c);
		if (r->result)
			in->inited = 0;
		break;
	}
	case PT_DCTL_PREPARE: {
		struct pt_dctl_prepare p;
		struct pt_source srcs[PT_MAX_PINS], *sp[PT_MAX_PINS];
		struct pt_sink snks[PT_MAX_PINS], *kp[PT_MAX_PINS];
		struct call c = { .op = CALL_PREPARE, .srcs = sp, .snks = kp };

		if (h.len != sizeof(p) || !in->inited) {
			reply_text(r, -EINVAL, "prepare: malformed or before init");
			break;
		}
		memcpy(&p, body, sizeof(p));
		if (p.period_frames < 1 || p.period_frames > PT_RATE_MAX) {
			reply_text(r, -EINVAL, "prepare: period of %u frames", p.period_frames);
			break;
		}
		if (set_pins(in, &p, r))
			break;
		in->period_frames = p.period_frames;
		in->mod.period_frames = p.period_frames;
		make_views(in, NULL, NULL, srcs, snks, sp, kp);
		for (unsigned i = 0; i < in->nsnk; i++) {
			snks[i].in_prepare = 1;
			snks[i].open_fields = (uint8_t)(p.snk[i].open_fields &
							(PT_FMT_OPEN_SAMPLE | PT_FMT_OPEN_CHANNELS));
			snks[i].capacity = in->snk[i].g->size;
		}
		r->result = call_module(in, &c);
		if (!r->result) {
			prepared(in, srcs, snks, r);
			populate_loaded();
		}
		break;
	}
	case PT_DCTL_BIND:
	case PT_DCTL_UNBIND: {
		struct pt_pin_info pin;
		struct call c = { .op = h.op == PT_DCTL_BIND ? CALL_BIND : CALL_UNBIND,
				  .pin = &pin };

		if (h.len != sizeof(pin) || !in->inited) {
			reply_text(r, -EINVAL, "bind: malformed or before init");
			break;
		}
		memcpy(&pin, body, sizeof(pin));
		pin.peer[PT_NAME_MAX - 1] = 0;
		r->result = call_module(in, &c);
		break;
	}
	case PT_DCTL_TRIGGER:
	case PT_DCTL_MODE: {
		struct call c = { .op = h.op == PT_DCTL_TRIGGER ? CALL_TRIGGER : CALL_MODE };

		if (h.len != sizeof(uint32_t) || !in->inited) {
			reply_text(r, -EINVAL, "trigger/mode: malformed or before init");
			break;
		}
		memcpy(&c.param, body, sizeof(c.param));
		if (h.op == PT_DCTL_MODE) {
			if (c.param > PT_MODE_BYPASS) {
				reply_text(r, -EINVAL, "mode %u is not a mode", c.param);
				break;
			}
			in->mod.mode = c.param;
		}
		r->result = call_module(in, &c);
		if (h.op == PT_DCTL_TRIGGER && !r->result && init_before_seal &&
		    (c.param == PT_TRIGGER_START || c.param == PT_TRIGGER_RELEASE) &&
		    !pt_lockdown_sealed()) {
			char err[256];

			if (pt_lockdown_seal(err, sizeof(err)))
				reply_text(r, -EPERM, "trigger: %s", err);
		}
		break;
	}
	case PT_DCTL_CONFIG_SET:
	case PT_DCTL_CONFIG_GET: {
		struct pt_dctl_config cfg;
		struct call c = { .op = h.op == PT_DCTL_CONFIG_SET ? CALL_SET : CALL_GET };

		if (h.len < sizeof(cfg) || !in->inited) {
			reply_text(r, -EINVAL, "config: malformed or before init");
			break;
		}
		memcpy(&cfg, body, sizeof(cfg));
		c.param = cfg.param;
		if (c.op == CALL_SET) {
			c.data = body + sizeof(cfg);
			c.size = h.len - sizeof(cfg);
		} else {
			c.out = r + 1;
			c.size = cfg.room < PT_DCTL_DATA_MAX ? cfg.room : PT_DCTL_DATA_MAX;
		}
		r->result = call_module(in, &c);
		if (c.op == CALL_GET && r->result == 0)
			r->len = c.size <= cfg.room && c.size <= PT_DCTL_DATA_MAX
					 ? (uint32_t)c.size : 0;
		break;
	}
	case PT_DCTL_RESET: {
		struct call c = { .op = CALL_RESET };

		r->result = in->inited ? call_module(in, &c) : -EINVAL;
		break;
	}
	case PT_DCTL_FREE:
		instance_release(in);
		exiting = live_instances == 0;
		break;
	default:
		reply_text(r, -EOPNOTSUPP, "unknown control op %u", h.op);
		break;
	}
	/* Callbacks return 0 or a negative errno; anything else is the
	 * module's breach of its ABI, said as such (the host would take a
	 * positive result for a domain that lies). */
	if (r->result > 0)
		reply_text(r, -EBADE, "module returned %d, not 0 or a negative errno",
			   r->result);
	if (in->used)
		r->heap_used = pt_route_used(in->heap);
out:
	close_fds(fds, nfds);
	reply_send(r);
	return exiting;
}

/* ---- PROCESS on the rings ---- */

/* Reads the continuation entries that follow @first; returns the words or
 * -EPROTO. */
static int read_words(const struct pt_ring_entry *first, uint32_t *words,
		      unsigned max)
{
	unsigned n = first->len / 4, got;

	if (first->len % 4 || first->len > PT_DOP_WORDS_PER_ENTRY * 4 ||
	    first->flags > PT_DOP_MAX_CONT)
		return -EPROTO;
	memcpy(words, first->payload, first->len);
	got = n;
	for (unsigned k = 0; k < first->flags; k++) {
		struct pt_ring_entry e;

		if (pt_ring_peek(&ring, &e))
			return -EPROTO;
		pt_ring_advance(&ring, 1);
		if (e.opcode != PT_DOP_CONT || e.tag != first->tag || e.len % 4 ||
		    e.len > PT_DOP_WORDS_PER_ENTRY * 4 || got + e.len / 4 > max)
			return -EPROTO;
		memcpy(words + got, e.payload, e.len);
		got += e.len / 4;
	}
	return (int)got;
}

static struct pt_ring_entry *cq_slot(void)
{
	struct pt_ring_entry *e;

	/* The host drains completions when it reaps; until then, wait. */
	while (!(e = pt_ring_get_entry(&ring))) {
		struct timespec ts = { 0, 50000 };

		pt_ring_submit(&ring);
		nanosleep(&ts, NULL);
	}
	return e;
}

/* Completes @req with @n words. Every request entry gets exactly one
 * completion entry (the host accounts ring space that way), so the words
 * are padded out to as many entries as the request used. */
static void complete(const struct pt_ring_entry *req, int result,
		     const uint32_t *words, unsigned n)
{
	unsigned nent = (n + PT_DOP_WORDS_PER_ENTRY - 1) / PT_DOP_WORDS_PER_ENTRY;
	unsigned req_ent = req->opcode == PT_DOP_PROCESS ? 1u + req->flags : 1u;
	/* (A CHAIN is answered as a PROCESS: see do_chain.) */

	if (nent < req_ent)
		nent = req_ent;

	for (unsigned k = 0; k < nent; k++) {
		struct pt_ring_entry *e = cq_slot();
		unsigned w = n > k * PT_DOP_WORDS_PER_ENTRY ? n - k * PT_DOP_WORDS_PER_ENTRY : 0;

		if (w > PT_DOP_WORDS_PER_ENTRY)
			w = PT_DOP_WORDS_PER_ENTRY;
		memset(e, 0, sizeof(*e));
		e->opcode = k ? PT_DOP_CONT : req->opcode;
		e->flags = k ? 0 : (uint16_t)(nent - 1);
		e->instance = req->instance;
		e->tag = req->tag;
		e->result = result;
		e->len = w * 4;
		if (w)
			memcpy(e->payload, words + k * PT_DOP_WORDS_PER_ENTRY, w * 4);
	}
}

/* After its first request a domain drops the pages of code and read-only
 * data that starting up mapped (the loader, libseccomp, dlopen): the kernel
 * maps file pages around every fault, so they would stay resident for the
 * domain's whole life, while the request loop needs a few. Those fault back
 * in on their next use, so a real-time domain keeps them (a fault in a
 * period is a miss waiting to happen: populate_loaded). */
static void drop_start_up_pages(void)
{
	static bool dropped;
	int advice = MADV_DONTNEED;

	if (!dropped && !(map_flags & MAP_POPULATE)) {
		dropped = true;
		dl_iterate_phdr(segment_pages, &advice);
	}
}

/* Runs the PROCESS words @words (@n of them, or -errno) for @req and
 * completes it. */
static void run_process(const struct pt_ring_entry *req, struct instance *in,
			const uint32_t *words, int n)
{
	uint32_t out[PT_DOP_CPL_WORDS_MAX];
	struct pt_source srcs[PT_MAX_PINS], *sp[PT_MAX_PINS];
	struct pt_sink snks[PT_MAX_PINS], *kp[PT_MAX_PINS];
	uint32_t sw[2 * PT_MAX_PINS], kw[2 * PT_MAX_PINS];
	size_t consumed[PT_MAX_PINS] = { 0 }, produced[PT_MAX_PINS] = { 0 };
	struct call c = { .op = CALL_PROCESS, .srcs = sp, .snks = kp };
	unsigned no = 0, periods, ran = 0;

	if (init_before_seal && !pt_lockdown_sealed()) {
		char err[256];

		if (pt_lockdown_seal(err, sizeof(err))) {
			log_line("partita-domain: %s", err);
			complete(req, -EPERM, NULL, 0);
			return;
		}
	}
	if (n < 3 || !in || !in->inited || words[0] != in->nsrc ||
	    words[1] != in->nsnk || (unsigned)n != 3 + 2 * (in->nsrc + in->nsnk) ||
	    words[2] < 1 || words[2] > PT_DOP_MAX_BATCH) {
		complete(req, n < 0 ? n : -EINVAL, NULL, 0);
		return;
	}
	periods = words[2];
	memcpy(sw, words + 3, 2 * in->nsrc * 4);
	memcpy(kw, words + 3 + 2 * in->nsrc, 2 * in->nsnk * 4);
	for (unsigned i = 0; i < in->nsrc; i++)
		if (sw[2 * i] >= in->src[i].size || sw[2 * i + 1] > in->src[i].size) {
			complete(req, -EINVAL, NULL, 0);
			return;
		}
	for (unsigned i = 0; i < in->nsnk; i++)
		if (kw[2 * i] >= in->snk[i].size || kw[2 * i + 1] > in->snk[i].size) {
			complete(req, -EINVAL, NULL, 0);
			return;
		}
	for (; ran < periods; ran++) {
		/* Each call sees the buffers as the previous calls left them,
		 * as if the host had run the periods one by one. */
		if (ran) {
			for (unsigned i = 0; i < in->nsrc; i++) {
				sw[2 * i] = (uint32_t)((sw[2 * i] + srcs[i].consumed) % in->src[i].size);
				sw[2 * i + 1] -= (uint32_t)srcs[i].consumed;
			}
			for (unsigned i = 0; i < in->nsnk; i++) {
				kw[2 * i] = (uint32_t)((kw[2 * i] + snks[i].produced) % in->snk[i].size);
				kw[2 * i + 1] -= (uint32_t)snks[i].produced;
			}
		}
		make_views(in, sw, kw, srcs, snks, sp, kp);
		/* The host checked the default rule for the first period; a
		 * module with its own rule (which only it can run) is asked
		 * before every call, and may run none. */
		if (ran || in->mod.ops.is_ready) {
			struct call r = { .op = CALL_READY, .srcs = sp, .snks = kp };

			if (!call_module(in, &r))
				break;
		}
		call_module(in, &c);
		/* A failed call's partial release and commit do not count: the
		 * host covers its period, and the calls before it stand. */
		if (c.ret) {
			ran++;
			break;
		}
		for (unsigned i = 0; i < in->nsrc; i++)
			consumed[i] += srcs[i].consumed;
		for (unsigned i = 0; i < in->nsnk; i++)
			produced[i] += snks[i].produced;
	}
	out[no++] = (uint32_t)pt_route_used(in->heap);
	out[no++] = in->nsrc;
	out[no++] = in->nsnk;
	{
		struct pt_ring_stats st;

		pt_ring_stats(&ring, &st);
		out[no++] = (uint32_t)(st.wakes + st.waits + chain_futex_calls);
	}
	out[no++] = ran;
	for (unsigned i = 0; i < in->nsrc; i++)
		out[no++] = (uint32_t)consumed[i];
	for (unsigned i = 0; i < in->nsnk; i++)
		out[no++] = (uint32_t)produced[i];
	out[no++] = in->mod.latency_frames;
	complete(req, c.ret, out, no);
	drop_start_up_pages();
}

static void do_process(const struct pt_ring_entry *req)
{
	uint32_t words[PT_DOP_REQ_WORDS_MAX];
	int n = read_words(req, words, PT_DOP_REQ_WORDS_MAX);

	run_process(req, instance_find(req->instance), words, n);
}

/* ---- in-period chains (see lib/domain/protocol.h) ---- */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* True when @id is the activation record of one of this domain's own
 * instances: a stage that feeds a stage of its own domain needs no wake
 * (the domain looks at the next request anyway). */
static bool own_record(uint32_t id)
{
	for (unsigned i = 0; i < PT_DOMAIN_MAX_INSTANCES; i++)
		if (instances[i].used && instances[i].act && instances[i].act_id == id)
			return true;
	return false;
}

/* One pending stage fewer on a record of epoch @epoch; the stage whose
 * count reaches zero is woken. A record of another epoch (a late result,
 * a stage the host did not count) is left alone. */
static void notify(uint32_t *word, uint32_t epoch, bool wake)
{
	uint32_t v = __atomic_load_n(word, __ATOMIC_ACQUIRE), next;

	do {
		if (v >> PT_ACTIVATION_EPOCH_SHIFT != epoch ||
		    !(v & PT_ACTIVATION_PENDING_MASK))
			return;
		next = v - 1;
	} while (!__atomic_compare_exchange_n(word, &v, next, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	if (!(next & PT_ACTIVATION_PENDING_MASK) && wake) {
		chain_futex_calls++;
		syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
	}
}

/* A CHAIN request: waits (until its deadline) for the stages that feed it
 * to finish this period, runs one period, completes, then notifies the
 * stages it feeds. */
static void do_chain(const struct pt_ring_entry *req)
{
	uint32_t words[PT_DOP_CHAIN_WORDS_MAX];
	uint32_t *notify_word[PT_MAX_PINS], notify_epoch[PT_MAX_PINS];
	bool notify_wake[PT_MAX_PINS];
	struct instance *in = instance_find(req->instance);
	struct pt_ring_entry answer = *req;
	int n = read_words(req, words, PT_DOP_CHAIN_WORDS_MAX);
	const struct grant *own;
	const uint32_t *c;
	unsigned nproc, nn;
	uint32_t epoch;
	uint64_t deadline;

	/* Answered as a PROCESS, with as many entries as the request. */
	answer.opcode = PT_DOP_PROCESS;
	if (n < 3 || !in || words[0] > PT_MAX_PINS || words[1] > PT_MAX_PINS) {
		complete(&answer, n < 0 ? n : -EINVAL, NULL, 0);
		return;
	}
	nproc = 3 + 2 * (words[0] + words[1]);
	c = words + nproc;
	if ((unsigned)n < nproc + 5 || words[2] != 1 || c[4] > PT_MAX_PINS ||
	    (unsigned)n != nproc + 5 + 2 * c[4] ||
	    !(own = grant_find(c[0], 1)) || own->size < 4) {
		complete(&answer, -EINVAL, NULL, 0);
		return;
	}
	epoch = c[1];
	deadline = (uint64_t)c[2] | (uint64_t)c[3] << 32;
	nn = c[4];
	for (unsigned i = 0; i < nn; i++) {
		const struct grant *g = grant_find(c[5 + 2 * i], 1);

		if (!g || g->size < 4) {
			complete(&answer, -EINVAL, NULL, 0);
			return;
		}
		notify_word[i] = (uint32_t *)g->addr;
		notify_epoch[i] = c[6 + 2 * i];
		notify_wake[i] = !own_record(c[5 + 2 * i]);
	}
	in->act = (uint32_t *)own->addr;
	in->act_id = c[0];
	for (;;) {
		uint32_t v = __atomic_load_n(in->act, __ATOMIC_ACQUIRE);
		uint64_t now;
		struct timespec ts;

		if (v == epoch << PT_ACTIVATION_EPOCH_SHIFT)
			break;
		now = mono_ns();
		if (now >= deadline || (v >> PT_ACTIVATION_EPOCH_SHIFT == epoch &&
					(v & PT_ACTIVATION_CANCEL))) {
			/* Not reached by its chain in time: it does not run. */
			complete(&answer, -ECANCELED, NULL, 0);
			return;
		}
		ts.tv_sec = (time_t)(deadline / 1000000000u);
		ts.tv_nsec = (long)(deadline % 1000000000u);
		chain_futex_calls++;
		syscall(SYS_futex, in->act, FUTEX_WAIT_BITSET, v, &ts, NULL,
			FUTEX_BITSET_MATCH_ANY);
	}
	run_process(&answer, in, words, (int)nproc);
	/* The completion goes out before the stages it feeds are woken: the
	 * host, waiting for the chain's last stage, finds the others done.
	 * It wakes the host only from the domain's last request in hand: a
	 * domain running several stages of one chain wakes it once. */
	pt_ring_submit_quiet(&ring);
	if (!pt_ring_ready(&ring)) {
		pt_ring_smp_mb();
		if (__atomic_load_n(ring.prod_wake, __ATOMIC_RELAXED))
			pt_ring_wake_peer(&ring);
	}
	for (unsigned i = 0; i < nn; i++)
		notify(notify_word[i], notify_epoch[i], notify_wake[i]);
}

/* Waits for the next request when some instance is a chain stage: on the
 * ring's wake word and on every stage's activation record at once, since
 * the host publishes a later stage's request without a wake. Returns 0
 * (look at the ring) or -ETIMEDOUT after a second of nothing. */
static int chain_idle_wait(void)
{
	uint32_t *words[PT_DOMAIN_MAX_INSTANCES], vals[PT_DOMAIN_MAX_INSTANCES];
	unsigned n = 0;
	int ret;

	for (unsigned i = 0; i < PT_DOMAIN_MAX_INSTANCES; i++)
		if (instances[i].used && instances[i].act) {
			words[n] = instances[i].act;
			vals[n++] = __atomic_load_n(instances[i].act, __ATOMIC_ACQUIRE);
		}
	ret = pt_ring_wait_any(&ring, words, vals, n, mono_ns() + 1000000000u);
	return ret == 1 ? 0 : ret;
}

static bool chained(void)
{
	for (unsigned i = 0; i < PT_DOMAIN_MAX_INSTANCES; i++)
		if (instances[i].used && instances[i].act)
			return true;
	return false;
}

static __attribute__((noreturn)) void serve(void)
{
	for (;;) {
		struct pt_ring_entry e;
		int ret = chained() ? chain_idle_wait()
				    : pt_ring_wait(&ring, request_spin_ns, 1000000000LL);

		if (ret == -ETIMEDOUT) {
			char c;

			/* Idle: if the host closed its end, nobody will ever
			 * send again (the death signal covers a dying host). */
			if (recv_bytes(&c, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
				_exit(0);
			continue;
		}
		if (ret < 0)
			_exit(4);
		while (pt_ring_peek(&ring, &e) == 0) {
			pt_ring_advance(&ring, 1);
			switch (e.opcode) {
			case PT_DOP_CONTROL:
				/* Completed and published before the reply: when the
				 * host reads the reply, the ring slot is free again,
				 * so any number of control messages in a row (a
				 * restart replaying its configuration) never fills
				 * the ring. */
				complete(&e, 0, NULL, 0);
				pt_ring_submit(&ring);
				if (do_control())
					_exit(0);
				break;
			case PT_DOP_PROCESS:
				do_process(&e);
				break;
			case PT_DOP_CHAIN:
				do_chain(&e);
				break;
			default:
				complete(&e, -EPROTO, NULL, 0);
				break;
			}
		}
		pt_ring_submit(&ring);
	}
}

/* The first message: the control partition with the rings. */
static int attach_rings(struct pt_dctl_hdr *first, char *err, size_t errlen)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	struct pt_dctl_hdr h;
	struct pt_dctl_rings rg;
	uint8_t in[sizeof(h) + sizeof(rg)];
	struct iovec iov = { in, sizeof(in) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf) };
	struct cmsghdr *cm;
	int fd = -1, ret;
	void *block;
	ssize_t n = recvmsg(PT_DOMAIN_SOCKET_FD, &m, MSG_CMSG_CLOEXEC);

	cm = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (n != (ssize_t)sizeof(in) || fd < 0) {
		snprintf(err, errlen, "first message is not the control partition");
		return -EPROTO;
	}
	memcpy(&h, in, sizeof(h));
	memcpy(&rg, in + sizeof(h), sizeof(rg));
	if (rg.spin_us <= PT_DOMAIN_SPIN_MAX_US)
		request_spin_ns = (uint64_t)rg.spin_us * 1000u;
	block = mmap(NULL, rg.size, PROT_READ | PROT_WRITE, map_flags, fd, 0);
	close(fd);
	if (h.op != PT_DCTL_RINGS || block == MAP_FAILED) {
		snprintf(err, errlen, "control partition: %s", strerror(errno));
		return -EPROTO;
	}
	ret = pt_ring_attach(&ring, block, rg.size, PT_RING_DOMAIN, 0);
	if (ret) {
		snprintf(err, errlen, "ring attach: %s", strerror(-ret));
		return ret;
	}
	*first = h;
	return 0;
}

/* A domain the host started at SCHED_FIFO is bounded before it drops the
 * capabilities that could lift the bound: RLIMIT_RTTIME stops a request
 * loop that runs @ms_text ms of CPU without blocking (SIGXCPU, then
 * SIGKILL 100 ms later), and RLIMIT_RTPRIO 0 keeps it from raising its
 * priority. Its mappings are populated when made (MAP_POPULATE), so no
 * page fault happens in a period. */
static int real_time_bound(const char *ms_text, char *err, size_t errlen)
{
	long ms = strtol(ms_text, NULL, 10);
	struct rlimit rt = { (rlim_t)ms * 1000, (rlim_t)(ms + 100) * 1000 };
	struct rlimit prio = { 0, 0 };

	if (ms < 1 || ms > 60000) {
		snprintf(err, errlen, "real-time limit '%s' ms is outside 1..60000", ms_text);
		return -EINVAL;
	}
	if (sched_getscheduler(0) != SCHED_FIFO)
		return 0;
	if (setrlimit(RLIMIT_RTTIME, &rt) || setrlimit(RLIMIT_RTPRIO, &prio)) {
		snprintf(err, errlen, "real-time limits: %s", strerror(errno));
		return -errno;
	}
	map_flags |= MAP_POPULATE;
	return 0;
}

int main(int argc, char **argv)
{
	char err[256];
	struct pt_dctl_hdr first;
	pid_t host;

	if (argc < 3 || (host = (pid_t)atoi(argv[1])) <= 0) {
		log_line("partita-domain: started without a host (usage: partita-domain HOST_PID RT_LIMIT_MS [READ_PATH]...)");
		return 2;
	}
	if (strcmp(argv[2], "0") && real_time_bound(argv[2], err, sizeof(err))) {
		log_line("partita-domain: %s", err);
		return 2;
	}
	/* Plugin files the host grants this domain (modules/lv2, ladspa):
	 * readable besides the library folders, and the inits that find and
	 * load them run before the seal. */
	for (int i = 3; i < argc; i++)
		if (pt_lockdown_allow_read(argv[i])) {
			log_line("partita-domain: cannot grant reading %s", argv[i]);
			return 2;
		}
	init_before_seal = argc > 3;
	if (pt_lockdown_start(host, err, sizeof(err)) ||
	    attach_rings(&first, err, sizeof(err)) ||
	    pt_lockdown_load(err, sizeof(err))) {
		log_line("partita-domain: %s", err);
		return 2;
	}
	/* The reply to the first message says: confined and serving. */
	reply_send(reply_start(&first));
	serve();
}
