/* SPDX-License-Identifier: MIT */
/*
 * reach - the ways a module could try to reach past its domain that are
 * not files or sockets: kernel objects shared system-wide, signals and
 * timers aimed at another process, new namespaces, and memory outside its
 * private heap. Used by ctor.c (in a library constructor, the load stage)
 * and probe.c (in module code, the run stage), so that both stages meet
 * the same attempts.
 *
 * pt_reach(what, pid) tries one class against @pid (the host). It returns
 * -EEXIST if it got what it asked for (an object, a signal sent, memory
 * beyond its heap), else a negative errno or 0 for "refused". A domain
 * usually does not return at all: the filter stops it.
 *
 * Names a probe leaves behind, should it get through, so that the host can
 * look for them: System V key PT_REACH_KEY, message queue PT_REACH_MQ,
 * key "partita-probe" in the session keyring.
 */
#ifndef PT_TESTS_HOSTILE_REACH_H
#define PT_TESTS_HOSTILE_REACH_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

#define PT_REACH_KEY 0x50415254 /* "PART" */
#define PT_REACH_MQ "partita-probe"
#define PT_REACH_BIG (64u << 20) /* far beyond any allowance */

/* Writes every page of [p, p + n): memory that is really had. */
static __attribute__((unused)) int reach_touch(void *p, size_t n)
{
	for (size_t i = 0; i < n; i += 4096)
		((volatile uint8_t *)p)[i] = 1;
	return -EEXIST;
}

/* Every way to private memory that the filter answers with an error
 * rather than a stop (an allocator that falls back must keep working).
 * Returns 0 when none gave memory beyond the heap. */
static __attribute__((unused)) int reach_memory(void)
{
	const int rw = PROT_READ | PROT_WRITE;
	static const int anon_flags[] = {
		MAP_PRIVATE | MAP_ANONYMOUS,
		MAP_SHARED | MAP_ANONYMOUS,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
	};
	uint8_t *res, *m;

	for (size_t i = 0; i < sizeof(anon_flags) / sizeof(anon_flags[0]); i++) {
		m = mmap(NULL, PT_REACH_BIG, rw, anon_flags[i], -1, 0);
		if (m != MAP_FAILED)
			return reach_touch(m, PT_REACH_BIG);
	}
	/* A reservation (address space only, where allowed), then memory in
	 * place over it, by mmap and by mprotect. */
	res = mmap(NULL, PT_REACH_BIG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res != MAP_FAILED) {
		m = mmap(res, PT_REACH_BIG, rw, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (m != MAP_FAILED)
			return reach_touch(m, PT_REACH_BIG);
		if (mprotect(res, PT_REACH_BIG, rw) == 0)
			return reach_touch(res, PT_REACH_BIG);
		/* Grown in place or moved bigger. */
		m = mremap(res, PT_REACH_BIG, 2 * PT_REACH_BIG, MREMAP_MAYMOVE);
		if (m != MAP_FAILED)
			return -EEXIST;
		munmap(res, PT_REACH_BIG);
	}
	if (sbrk(PT_REACH_BIG) != (void *)-1)
		return -EEXIST;
	return 0;
}

static __attribute__((unused)) int pt_reach(const char *what, long pid)
{
	if (!strcmp(what, "memory"))
		return reach_memory();
	/* Memory the filter stops outright: stack-like, huge pages,
	 * executable anonymous memory, memory file descriptors, pipes. */
	if (!strcmp(what, "growsdown")) {
		void *m = mmap(NULL, PT_REACH_BIG, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
		return m == MAP_FAILED ? -errno : reach_touch(m, PT_REACH_BIG);
	}
	if (!strcmp(what, "hugetlb")) {
		void *m = mmap(NULL, 2u << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		return m == MAP_FAILED ? -errno : reach_touch(m, 2u << 20);
	}
	if (!strcmp(what, "exec_anon")) {
		void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return m == MAP_FAILED ? -errno : -EEXIST;
	}
	if (!strcmp(what, "fixed")) {
		/* Memory in place over a reservation of its own, kept: the
		 * kernel counts the pages replaced as given back, so the data
		 * limit alone does not see this one (the host's check after
		 * the load does). */
		const size_t n = 16u << 20;
		void *res = mmap(NULL, n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *m;

		if (res == MAP_FAILED)
			return 0;
		m = mmap(res, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			 -1, 0);
		return m == MAP_FAILED ? 0 : reach_touch(m, n);
	}
	if (!strcmp(what, "rlimit")) {
		/* A limit raised from inside would undo every bound. */
		struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

		return setrlimit(RLIMIT_DATA, &rl) == 0 ? -EEXIST : -errno;
	}
	if (!strcmp(what, "secretmem"))
		return syscall(SYS_memfd_secret, 0) >= 0 ? -EEXIST : -errno;
	if (!strcmp(what, "pipe")) {
		int p[2];

		return pipe2(p, O_CLOEXEC) == 0 ? -EEXIST : -errno;
	}
	/* System-wide kernel objects (they would outlive the domain). */
	if (!strcmp(what, "shm")) {
		int id = shmget(PT_REACH_KEY, 1u << 20, IPC_CREAT | 0600);
		void *m;

		if (id < 0)
			return -errno;
		m = shmat(id, NULL, 0);
		return m == (void *)-1 ? -EEXIST : reach_touch(m, 1u << 20);
	}
	if (!strcmp(what, "msg"))
		return msgget(PT_REACH_KEY, IPC_CREAT | 0600) >= 0 ? -EEXIST : -errno;
	if (!strcmp(what, "sem"))
		return semget(PT_REACH_KEY, 1, IPC_CREAT | 0600) >= 0 ? -EEXIST : -errno;
	if (!strcmp(what, "mqueue"))
		return syscall(SYS_mq_open, PT_REACH_MQ, O_CREAT | O_RDWR, 0600, NULL) >= 0
			       ? -EEXIST : -errno;
	if (!strcmp(what, "keyring"))
		return syscall(SYS_add_key, "user", "partita-probe", "x", 1,
			       -3 /* KEY_SPEC_SESSION_KEYRING */) >= 0 ? -EEXIST : -errno;
	/* Signals and timers aimed at another process, and ways to reach
	 * one's scheduling. SIGWINCH: ignored by default, should it land. */
	if (!strcmp(what, "sigqueue")) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		si.si_signo = SIGWINCH;
		si.si_code = SI_QUEUE;
		return syscall(SYS_rt_sigqueueinfo, (pid_t)pid, SIGWINCH, &si) == 0 ? -EEXIST : -errno;
	}
	if (!strcmp(what, "timer")) {
		struct sigevent sev;
		timer_t id;

		memset(&sev, 0, sizeof(sev));
		sev.sigev_notify = SIGEV_THREAD_ID;
		sev.sigev_signo = SIGWINCH;
		sev._sigev_un._tid = (pid_t)pid;
		return syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &id) == 0 ? -EEXIST : -errno;
	}
	if (!strcmp(what, "setown"))
		/* SIGIO to the owner whenever the log pipe is written */
		return fcntl(2, F_SETOWN, (pid_t)pid) == 0 ? -EEXIST : -errno;
	if (!strcmp(what, "pidfd")) {
		long fd = syscall(SYS_pidfd_open, (pid_t)pid, 0);

		return fd >= 0 ? -EEXIST : -errno;
	}
	if (!strcmp(what, "ioprio"))
		return syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, (pid_t)pid,
			       (2 << 13) | 4 /* best effort, level 4 */) == 0 ? -EEXIST : -errno;
	/* Other processes: signal, trace or read the host. */
	if (!strcmp(what, "kill"))
		return kill((pid_t)pid, 0) == 0 ? -EEXIST : -errno;
	if (!strcmp(what, "ptrace"))
		return ptrace(PTRACE_ATTACH, (pid_t)pid, NULL, NULL) == 0 ? -EEXIST : -errno;
	if (!strcmp(what, "vm_read")) {
		char buf[16];
		struct iovec local = { buf, sizeof(buf) }, remote = { (void *)0x400000, sizeof(buf) };

		return process_vm_readv((pid_t)pid, &local, 1, &remote, 1, 0) >= 0 ? -EEXIST : -errno;
	}
	/* An abstract unix socket (no file: outside Landlock's file rules). */
	if (!strcmp(what, "abstract")) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

		if (fd < 0)
			return -errno;
		memcpy(sa.sun_path, "\0partita-probe", 14);
		return sendto(fd, "x", 1, 0, (struct sockaddr *)&sa,
			      offsetof(struct sockaddr_un, sun_path) + 14) == 1 ? -EEXIST : -errno;
	}
	/* The library's own file: the first library a domain loads comes as
	 * fd 16 (a sealed copy); write to it through a mapping or a new open. */
	if (!strcmp(what, "libfile")) {
		void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 16, 0);

		if (m != MAP_FAILED)
			return -EEXIST;
		return open("/proc/self/fd/16", O_RDWR) >= 0 ? -EEXIST : -errno;
	}
	/* The rings' futex words are shared with the host: moving its
	 * waiters elsewhere (tried here on words of its own). */
	if (!strcmp(what, "requeue")) {
		static uint32_t a, b;

		return syscall(SYS_futex, &a, 4 /* FUTEX_CMP_REQUEUE */, 1, (void *)(long)1, &b, 0) >= 0
			       ? -EEXIST : -errno;
	}
	if (!strcmp(what, "unshare"))
		return unshare(CLONE_NEWUSER | CLONE_NEWIPC) == 0 ? -EEXIST : -errno;
	return -EINVAL;
}

/* The classes pt_reach knows, each with the call a filter names when it
 * stops it (NULL: refused with an error, not stopped). */
static const struct pt_reach_class {
	const char *what, *call;
} pt_reach_classes[] __attribute__((unused)) = {
	{ "memory", NULL },        { "fixed", NULL },
	{ "growsdown", "mmap" },
	{ "hugetlb", "mmap" },     { "exec_anon", "mmap" },
	{ "rlimit", "prlimit64" },
	{ "secretmem", "memfd_secret" }, { "pipe", "pipe2" },
	{ "shm", "shmget" },       { "msg", "msgget" },
	{ "sem", "semget" },       { "mqueue", "mq_open" },
	{ "keyring", "add_key" },  { "sigqueue", "rt_sigqueueinfo" },
	{ "timer", "timer_create" }, { "setown", "fcntl" },
	{ "pidfd", "pidfd_open" }, { "ioprio", "ioprio_set" },
	{ "unshare", "unshare" },    { "kill", "kill" },
	{ "ptrace", "ptrace" },      { "vm_read", "process_vm_readv" },
	{ "abstract", "socket" },    { "libfile", "openat" },
	{ "requeue", "futex" },
};

#endif
