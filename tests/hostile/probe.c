/* SPDX-License-Identifier: MIT */
/*
 * probe - a test module that is honest by default and hostile on request.
 *
 * Honest: one float input, one float output of the same channels; a
 * one-pole low-pass with gain (state from malloc, so the domain's malloc
 * routing is exercised) - deterministic, so an isolated run can be compared
 * bit for bit with a trusted one.
 *
 * Hostile: the init parameter act=NAME makes the first process call try
 * something a domain must stop (see the acts below). addr=N and pid=N give
 * it a target; act=reach reach=CLASS tries a class of reach.h.
 *
 * A callback other than process misbehaves with in=CALLBACK (init,
 * prepare, reset, set, get, bind, trigger, free) and do=WHAT:
 *   crash  writes through a null pointer
 *   spin   loops forever
 *   flood  writes binary junk (escape sequences, no line ends) to its log
 *          forever
 *   alloc  takes every byte malloc and pt_mod_alloc give, then goes on
 *   lie    returns 7, outside the ABI's 0 or -errno
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <netinet/in.h>

#include <partita/module.h>

#include "reach.h"

enum act {
	ACT_NONE, ACT_PEEK, ACT_WRITE_INPUT, ACT_OPEN, ACT_SOCKET, ACT_CONNECT,
	ACT_EXECVE, ACT_FORK, ACT_CLONE, ACT_PTRACE, ACT_KILL_HOST,
	ACT_FTRUNCATE, ACT_MMAP_BEYOND, ACT_EXHAUST, ACT_HANG, ACT_STACK,
	ACT_DEEP, ACT_NOOP, ACT_INT80, ACT_FORGE_REPLY, ACT_PRINTF, ACT_HANG_UP,
	ACT_EXEC_MEM, ACT_REACH, ACT_FORGE_LOG,
};

static const char *const act_names[] = {
	"none", "peek", "write_input", "open", "socket", "connect", "execve",
	"fork", "clone", "ptrace", "kill_host", "ftruncate", "mmap_beyond",
	"exhaust", "hang", "stack", "deep", "noop", "int80", "forge_reply", "printf", "hang_up", "exec_mem", "reach",
	"forge_log", NULL,
};

struct probe {
	enum act act;
	uint64_t addr;
	uint64_t size;
	long pid;
	char reach[32];   /* act=reach: the class of reach.h */
	char in_cb[16], how[16]; /* a callback that misbehaves, and how */
	float gain, coef;
	float *state;     /* per channel, from malloc */
	unsigned channels;
};

/* Reads gain, coef, addr, size, pid and act from a text blob. */
static int probe_params(struct probe *p, const void *data, size_t size)
{
	char act[32];
	double v;

	if (pt_param_double(data, size, "gain", &v) == 0)
		p->gain = (float)v;
	if (pt_param_double(data, size, "coef", &v) == 0)
		p->coef = (float)v;
	if (pt_param_double(data, size, "addr", &v) == 0)
		p->addr = (uint64_t)v;
	if (pt_param_double(data, size, "size", &v) == 0)
		p->size = (uint64_t)v;
	if (pt_param_double(data, size, "pid", &v) == 0)
		p->pid = (long)v;
	if (pt_param_string(data, size, "reach", p->reach, sizeof(p->reach)) < 0)
		p->reach[0] = '\0';
	if (pt_param_string(data, size, "in", p->in_cb, sizeof(p->in_cb)) < 0)
		p->in_cb[0] = '\0';
	if (pt_param_string(data, size, "do", p->how, sizeof(p->how)) < 0)
		p->how[0] = '\0';
	if (pt_param_string(data, size, "act", act, sizeof(act)) > 0) {
		unsigned i;

		for (i = 0; act_names[i] && strcmp(act_names[i], act); i++)
			;
		if (!act_names[i])
			return -EINVAL;
		p->act = (enum act)i;
	}
	return 0;
}

/* Does what do= says if callback @cb is the one in= names; returns what
 * the callback is to return (0: go on as usual). */
static int misbehave(struct pt_module *mod, const struct probe *p, const char *cb)
{
	if (!p || strcmp(p->in_cb, cb))
		return 0;
	if (!strcmp(p->how, "crash")) {
		volatile uintptr_t null = 0;

		*(volatile int *)null = 1;
	}
	if (!strcmp(p->how, "spin"))
		for (;;)
			__asm__ volatile("" ::: "memory");
	if (!strcmp(p->how, "flood")) {
		static uint8_t junk[65536];

		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (uint8_t)(i % 7 ? i * 131 : 0x1b);
		for (size_t i = 0; i < sizeof(junk); i++)
			if (junk[i] == '\n')
				junk[i] = 0x07;
		for (;;)
			(void)!write(2, junk, sizeof(junk));
	}
	if (!strcmp(p->how, "alloc")) {
		size_t got = 0;

		for (size_t sz = 1 << 20; sz >= 16; sz /= 2) {
			while (malloc(sz))
				got += sz;
			while (pt_mod_alloc(mod, sz))
				got += sz;
		}
		return got ? 0 : -ENOMEM;
	}
	if (!strcmp(p->how, "lie"))
		return 7;
	return 0;
}

/* Instances initialised with this copy of the library's static data: 1 in
 * every instance when each gets its own copy. */
static unsigned inits_seen;

static int probe_init(struct pt_module *mod, const void *data, size_t size)
{
	struct probe *p = pt_mod_alloc(mod, sizeof(*p));

	if (!p)
		return -ENOMEM;
	inits_seen++;
	memset(p, 0, sizeof(*p));
	p->gain = 0.5f;
	p->coef = 0.25f;
	pt_mod_set_priv(mod, p);
	if (probe_params(p, data, size))
		return -EINVAL;
	return misbehave(mod, p, "init");
}

static int probe_prepare(struct pt_module *mod, struct pt_source *const *sources,
			 unsigned nsources, struct pt_sink *const *sinks,
			 unsigned nsinks)
{
	struct probe *p = pt_mod_priv(mod);
	int ret = misbehave(mod, p, "prepare");

	if (ret)
		return ret;
	if (nsources != 1 || nsinks != 1)
		return -EINVAL;
	if (pt_source_format(sources[0])->sample != PT_SAMPLE_FLOAT_LE ||
	    pt_sink_format(sinks[0])->sample != PT_SAMPLE_FLOAT_LE ||
	    pt_source_format(sources[0])->channels != pt_sink_format(sinks[0])->channels)
		return -EINVAL;
	p->channels = pt_source_format(sources[0])->channels;
	free(p->state);
	p->state = calloc(p->channels, sizeof(float));
	return p->state ? 0 : -ENOMEM;
}

/* Tries to get memory by every route until all of them say no. Returns 0
 * when malloc, pt_mod_alloc, anonymous mmap and brk all refused. */
static int exhaust(struct pt_module *mod)
{
	size_t got = 0, mod_got = 0;
	void *m;

	for (size_t sz = 4096; sz >= 16; sz /= 2) {
		while ((m = malloc(sz)))
			got += sz;
		while ((m = pt_mod_alloc(mod, sz)))
			mod_got += sz;
	}
	if (malloc(16) || pt_mod_alloc(mod, 16))
		return -EEXIST;
	m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m != MAP_FAILED)
		return -EADDRINUSE;
	m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m != MAP_FAILED)
		return -EADDRINUSE;
	if (sbrk(1 << 20) != (void *)-1)
		return -EOVERFLOW;
	pt_log(mod, PT_LOG_INFO, "exhausted after %zu bytes of malloc and %zu of pt_mod_alloc; mmap and brk refused",
	       got, mod_got);
	return 0;
}

/* Every fd this process holds: try to resize it. Returns 0 if all refused. */
static int truncate_all(struct pt_module *mod)
{
	int tried = 0;

	for (int fd = 0; fd < 64; fd++) {
		if (ftruncate(fd, 0) == 0 || ftruncate(fd, 1 << 30) == 0)
			return -EEXIST;
		tried++;
	}
	pt_log(mod, PT_LOG_INFO, "ftruncate refused on %d fds", tried);
	return 0;
}

/* Tries to reach past its grants: map any fd it holds far beyond its size
 * (touching the end), and grow its input's mapping in place or by moving.
 * Returns 0 when every attempt was refused. */
static int map_beyond(struct pt_module *mod, struct pt_source *src)
{
	const void *data, *start;
	size_t size, page = (size_t)sysconf(_SC_PAGESIZE);
	int fds = 0;

	for (int fd = 0; fd < 64; fd++) {
		volatile uint8_t *m = mmap(NULL, 64 << 20, PROT_READ, MAP_SHARED, fd, 0);

		if (m == MAP_FAILED) {
			fds++;
			continue;
		}
		(void)m[(64 << 20) - 1];
		return -EEXIST;
	}
	if (pt_source_get_data(src, 0, &data, &start, &size))
		return -EINVAL;
	size = (size + page - 1) / page * page;
	if (mremap((void *)start, size, 64 << 20, 0) != MAP_FAILED ||
	    mremap((void *)start, size, 64 << 20, MREMAP_MAYMOVE) != MAP_FAILED)
		return -EEXIST;
	pt_log(mod, PT_LOG_INFO, "no mapping beyond the grant: %d fds refused, mremap refused", fds);
	return 0;
}

/* Recurses until the stack runs out (the limit is never reached). */
static int deep(volatile uint8_t *prev, unsigned n)
{
	volatile uint8_t frame[1024];

	frame[0] = (uint8_t)n;
	frame[1023] = prev ? prev[0] : 0;
	if (n == UINT32_MAX)
		return frame[1023];
	return deep(frame, n + 1) + frame[1023];
}

static int hostile(struct pt_module *mod, struct probe *p,
		   struct pt_source *src)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80),
				   .sin_addr.s_addr = htonl(0x7f000001) };
	const void *data, *start;
	size_t bsize;

	switch (p->act) {
	case ACT_NONE:
		return 1;
	case ACT_PEEK:
		return *(volatile uint64_t *)(uintptr_t)p->addr == 42 ? -EEXIST : -ENODATA;
	case ACT_WRITE_INPUT:
		if (pt_source_get_data(src, 0, &data, &start, &bsize))
			return -EINVAL;
		((volatile uint8_t *)start)[0] = 0x55;
		return -EEXIST;
	case ACT_OPEN:
		return open("/etc/passwd", O_RDONLY) >= 0 ? -EEXIST : -errno;
	case ACT_SOCKET:
		return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? -EEXIST : -errno;
	case ACT_CONNECT:
		return connect(3, (struct sockaddr *)&sin, sizeof(sin)) == 0 ? -EEXIST : -errno;
	case ACT_EXECVE: {
		char *argv[] = { "/bin/true", NULL };
		return execve("/bin/true", argv, NULL) ? -errno : -EEXIST;
	}
	case ACT_FORK:
		return fork() >= 0 ? -EEXIST : -errno;
	case ACT_CLONE:
		/* A thread: denied as firmly as a process. */
		return syscall(SYS_clone, 0x00010f00UL /* CLONE_VM|FS|FILES|SIGHAND|THREAD */,
			       NULL, NULL, NULL, 0) >= 0 ? -EEXIST : -errno;
	case ACT_PTRACE:
		return ptrace(PTRACE_ATTACH, (pid_t)p->pid, NULL, NULL) == 0 ? -EEXIST : -errno;
	case ACT_KILL_HOST:
		return kill((pid_t)p->pid, SIGKILL) == 0 ? -EEXIST : -errno;
	case ACT_FTRUNCATE:
		return truncate_all(mod);
	case ACT_MMAP_BEYOND:
		return map_beyond(mod, src);
	case ACT_EXHAUST:
		return exhaust(mod);
	case ACT_STACK: {
		/* Returns 0 if this call runs on the stack just below the heap
		 * at addr (the layout of the private partition). */
		uintptr_t here = (uintptr_t)__builtin_frame_address(0);

		return here < p->addr && here >= p->addr - p->size ? 0 : -EFAULT;
	}
	case ACT_DEEP:
		return deep(NULL, 0);
	case ACT_INT80: {
		/* The 32-bit entry: i386 socketcall(SYS_SOCKET, ...), which
		 * an x86-64-only filter would not see. */
#if defined(__x86_64__)
		long ret, args[3] = { 2 /* AF_INET */, 1 /* SOCK_STREAM */, 0 };

		__asm__ volatile("int $0x80" : "=a"(ret)
				 : "a"(102L), "b"(1L), "c"(args) : "memory");
		return ret >= 0 ? -EEXIST : (int)ret;
#else
		return -ENOSYS;
#endif
	}
	case ACT_FORGE_REPLY: {
		/* Speaks on the domain's control socket as if it were the
		 * domain answering the host's next request. */
		uint8_t junk[64];
		struct iovec iov = { junk, sizeof(junk) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

		memset(junk, 0x41, sizeof(junk));
		p->act = ACT_NONE;
		return sendmsg(3, &m, MSG_NOSIGNAL) == (ssize_t)sizeof(junk) ? 0 : -errno;
	}
	case ACT_EXEC_MEM: {
		/* Makes its own heap executable, to run code it wrote there. */
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		uintptr_t at = (uintptr_t)p & ~(uintptr_t)(page - 1);

		return mprotect((void *)at, page, PROT_READ | PROT_EXEC) == 0 ? -EEXIST : -errno;
	}
	case ACT_HANG_UP:
		/* Closes the domain's control socket and keeps running. */
		p->act = ACT_NONE;
		return close(3) == 0 ? 0 : -errno;
	case ACT_PRINTF:
		/* Harmless habits of third-party code must not kill it. */
		p->act = ACT_NONE;
		printf("probe: hello from a domain\n");
		fprintf(stderr, "probe: a line on stderr\n");
		fflush(stdout);
		return 0;
	case ACT_FORGE_LOG:
		/* A log line in the name of an instance of another domain. */
		p->act = ACT_NONE;
		fprintf(stderr, "A: [4] a warning forged in A's name\n");
		return 0;
	case ACT_REACH:
		/* Once: a refusal leaves the module running honestly. */
		p->act = ACT_NONE;
		return pt_reach(p->reach, p->pid);
	case ACT_NOOP:
		return 0; /* touches nothing: the request path's own cost */
	case ACT_HANG:
		for (;;)
			__asm__ volatile("" ::: "memory");
	}
	return -EINVAL;
}

static int probe_process(struct pt_module *mod, struct pt_source *const *sources,
			 unsigned nsources, struct pt_sink *const *sinks,
			 unsigned nsinks)
{
	struct probe *p = pt_mod_priv(mod);
	size_t frames = pt_mod_period_frames(mod), bytes;
	const void *rd, *rstart;
	void *wr, *wstart;
	size_t rsize, wsize;
	int ret;

	(void)nsources;
	(void)nsinks;
	ret = hostile(mod, p, sources[0]);
	if (ret <= 0)
		return ret;
	bytes = frames * p->channels * sizeof(float);
	if (pt_source_get_data(sources[0], bytes, &rd, &rstart, &rsize) ||
	    pt_sink_get_buffer(sinks[0], bytes, &wr, &wstart, &wsize))
		return -ENODATA;
	for (size_t i = 0; i < frames * p->channels; i++) {
		size_t ri = ((size_t)((const uint8_t *)rd - (const uint8_t *)rstart) + i * 4) % rsize;
		size_t wi = ((size_t)((uint8_t *)wr - (uint8_t *)wstart) + i * 4) % wsize;
		float x, *s = &p->state[i % p->channels], y;

		memcpy(&x, (const uint8_t *)rstart + ri, 4);
		*s += p->coef * (x - *s);
		y = p->gain * *s;
		memcpy((uint8_t *)wstart + wi, &y, 4);
	}
	pt_source_release(sources[0], bytes);
	pt_sink_commit(sinks[0], bytes);
	return 0;
}

static int probe_reset(struct pt_module *mod)
{
	struct probe *p = pt_mod_priv(mod);

	if (p->state)
		memset(p->state, 0, p->channels * sizeof(float));
	return misbehave(mod, p, "reset");
}

static int probe_set_config(struct pt_module *mod, uint32_t param,
			    const void *data, size_t size)
{
	int ret = misbehave(mod, pt_mod_priv(mod), "set");

	if (ret)
		return ret;
	/* Param 3: a result outside the ABI (positive). */
	if (param == 3)
		return 7;
	/* Param 1: a binary blob of the pattern i & 0xff, checked whole. */
	if (param == 1) {
		for (size_t i = 0; i < size; i++)
			if (((const uint8_t *)data)[i] != (uint8_t)i)
				return -EBADMSG;
		((struct probe *)pt_mod_priv(mod))->size = size;
		return 0;
	}
	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	return probe_params(pt_mod_priv(mod), data, size);
}

static int probe_get_config(struct pt_module *mod, uint32_t param, void *data,
			    size_t *size)
{
	struct probe *p = pt_mod_priv(mod);
	char text[64];
	int n = misbehave(mod, p, "get");

	if (n)
		return n;
	/* Param 3: a result outside the ABI (positive). */
	if (param == 3)
		return 7;
	/* Param 2: the static counter, as text. */
	if (param == 2) {
		n = snprintf(text, sizeof(text), "inits=%u", inits_seen);
		if ((size_t)n > *size)
			return -ENOSPC;
		memcpy(data, text, (size_t)n);
		*size = (size_t)n;
		return 0;
	}
	/* Param 1: as many pattern bytes as the last blob set had. */
	if (param == 1) {
		if (p->size > *size)
			return -ENOSPC;
		for (size_t i = 0; i < p->size; i++)
			((uint8_t *)data)[i] = (uint8_t)i;
		*size = p->size;
		return 0;
	}
	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	n = snprintf(text, sizeof(text), "gain=%g", (double)p->gain);
	if ((size_t)n > *size)
		return -ENOSPC;
	memcpy(data, text, (size_t)n);
	*size = (size_t)n;
	return 0;
}

static void probe_free(struct pt_module *mod)
{
	struct probe *p = pt_mod_priv(mod);

	misbehave(mod, p, "free");
	free(p->state);
	pt_mod_free(mod, p);
}

static int probe_bind(struct pt_module *mod, const struct pt_pin_info *pin)
{
	(void)pin;
	return misbehave(mod, pt_mod_priv(mod), "bind");
}

static int probe_trigger(struct pt_module *mod, uint32_t cmd)
{
	(void)cmd;
	return misbehave(mod, pt_mod_priv(mod), "trigger");
}

static const struct pt_module_ops probe_ops = {
	.init = probe_init,
	.prepare = probe_prepare,
	.process = probe_process,
	.reset = probe_reset,
	.set_config = probe_set_config,
	.get_config = probe_get_config,
	.free = probe_free,
	.bind = probe_bind,
	.trigger = probe_trigger,
};

PT_MODULE(probe, probe_ops, .name = "probe",
	  .uuid = { 0x50, 0x52, 0x4f, 0x42, 0x45, 0x00, 0x40, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02 },
	  .version = PT_VERSION(1, 0, 0),
	  .flags = PT_MOD_FLAG_ISOLATABLE, .heap_size = 65536,
	  .stack_size = 65536, .max_sources = 1, .max_sinks = 1);
