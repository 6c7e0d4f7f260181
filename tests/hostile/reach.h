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
#include <sys/prctl.h>
#include <sys/personality.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
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
	/* Its own scheduling: a real-time priority or another CPU would
	 * escape the bounds the host set (RLIMIT_RTTIME, the chain's CPU). */
	if (!strcmp(what, "setsched")) {
		struct sched_param sp = { .sched_priority = 99 };

		return sched_setscheduler(0, SCHED_FIFO, &sp) == 0 ? -EEXIST : -errno;
	}
	if (!strcmp(what, "setprio"))
		return setpriority(PRIO_PROCESS, 0, -20) == 0 ? -EEXIST : -errno;
	if (!strcmp(what, "affinity")) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(0, &set);
		return sched_setaffinity(0, sizeof(set), &set) == 0 ? -EEXIST : -errno;
	}
	/* Lets any process trace it, or reads as executable what it maps
	 * readable (around the filter's PROT_EXEC rules). */
	if (!strcmp(what, "prctl"))
		return prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0) == 0 ? -EEXIST : -errno;
	if (!strcmp(what, "personality"))
		return personality(READ_IMPLIES_EXEC) != -1 &&
			       (personality(0xffffffff) & READ_IMPLIES_EXEC) ? -EEXIST : -errno;
	/* Processes of its own, by the calls fork does not use. */
	if (!strcmp(what, "vfork")) {
		long r = syscall(SYS_vfork);

		if (r == 0)
			_exit(0);
		return r > 0 ? -EEXIST : -errno;
	}
	if (!strcmp(what, "clone3")) {
		uint64_t args[11] = { 0 };
		long r;

		args[4] = SIGCHLD; /* exit_signal */
		r = syscall(SYS_clone3, args, sizeof(args));
		if (r == 0)
			_exit(0);
		return r > 0 ? -EEXIST : -errno;
	}
	/* The host's memory, by writing or through its /proc file. */
	if (!strcmp(what, "vm_write")) {
		char buf[16] = { 0 };
		struct iovec local = { buf, sizeof(buf) }, remote = { (void *)0x400000, sizeof(buf) };

		return process_vm_writev((pid_t)pid, &local, 1, &remote, 1, 0) >= 0 ? -EEXIST : -errno;
	}
	if (!strcmp(what, "procmem")) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%ld/mem", pid);
		return open(path, O_RDWR) >= 0 ? -EEXIST : -errno;
	}
	/* Kernel facilities that hand out memory, file descriptors or code
	 * outside every grant. */
	if (!strcmp(what, "memfd"))
		return syscall(SYS_memfd_create, "partita-probe", 0) >= 0 ? -EEXIST : -errno;
	if (!strcmp(what, "io_uring")) {
		uint8_t params[120] = { 0 };

		return syscall(SYS_io_uring_setup, 4, params) >= 0 ? -EEXIST : -errno;
	}
	if (!strcmp(what, "userfaultfd"))
		return syscall(SYS_userfaultfd, O_CLOEXEC) >= 0 ? -EEXIST : -errno;
	if (!strcmp(what, "perf")) {
		uint32_t attr[32] = { 0 };

		attr[0] = 1;        /* PERF_TYPE_SOFTWARE */
		attr[1] = 128;      /* size */
		return syscall(SYS_perf_event_open, attr, 0, -1, -1, 0) >= 0 ? -EEXIST : -errno;
	}
	if (!strcmp(what, "bpf")) {
		uint32_t attr[16] = { 0 };

		attr[0] = 2; /* BPF_MAP_TYPE_ARRAY */
		attr[1] = 4;
		attr[2] = 4;
		attr[3] = 1;
		return syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, attr, sizeof(attr)) >= 0
			       ? -EEXIST : -errno;
	}
	if (!strcmp(what, "keyctl"))
		return syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, "partita-probe") >= 0
			       ? -EEXIST : -errno;
	if (!strcmp(what, "setns"))
		return setns(0, 0) == 0 ? -EEXIST : -errno;
	/* Its code made writable (to be patched and run). */
	if (!strcmp(what, "code_write")) {
		uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
		uintptr_t at = (uintptr_t)&reach_touch & ~(page - 1);

		return mprotect((void *)at, page, PROT_READ | PROT_WRITE) == 0 ? -EEXIST : -errno;
	}
	/* A seccomp filter of its own that answers every later seccomp call
	 * with success, so that the domain's own tighter filter would never
	 * be installed. */
	if (!strcmp(what, "seccomp")) {
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_seccomp, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 0),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

		return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 ? 0 : -errno;
	}
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
	{ "setsched", "sched_setscheduler" }, { "setprio", "setpriority" },
	{ "affinity", "sched_setaffinity" }, { "prctl", "prctl" },
	{ "personality", "personality" }, { "vfork", "vfork" },
	{ "clone3", "clone3" },      { "vm_write", "process_vm_writev" },
	{ "procmem", "openat" },     { "memfd", "memfd_create" },
	{ "io_uring", "io_uring_setup" }, { "userfaultfd", "userfaultfd" },
	{ "perf", "perf_event_open" }, { "bpf", "bpf" },
	{ "keyctl", "keyctl" },      { "setns", "setns" },
	{ "code_write", "mprotect" }, { "seccomp", "seccomp" },
};

#endif
