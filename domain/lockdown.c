/* SPDX-License-Identifier: MIT */
#include "domain/lockdown.h"
#include "domain/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <linux/landlock.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <ucontext.h>
#include <unistd.h>

#include "lib/domain/protocol.h"

/* Landlock bits newer than the build machine's uapi headers. */
#define LL_FS_TRUNCATE (1ULL << 14)
#define LL_FS_IOCTL_DEV (1ULL << 15)
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;             /* ABI 6 */
};

enum stage { STAGE_START, STAGE_LOAD, STAGE_SEALED };

static volatile enum stage stage;
static pid_t self;
static const char *volatile context = "partita-domain";

void pt_lockdown_context(const char *what)
{
	context = what;
}

int pt_lockdown_sealed(void)
{
	return stage == STAGE_SEALED;
}

/* ---- stage 1 ---- */

/* The soft limit is the one in force; the host moves it (prlimit) within
 * @hard around each library load, the domain cannot (setrlimit and
 * prlimit64 are refused by both filters). */
static int limit_soft(int res, rlim_t soft, rlim_t hard, const char *name,
		      char *err, size_t errlen)
{
	struct rlimit rl = { soft, hard };

	if (setrlimit(res, &rl) == 0)
		return 0;
	snprintf(err, errlen, "setrlimit %s: %s", name, strerror(errno));
	return -errno;
}

/* Soft and hard limit both @v. */
static int limit(int res, rlim_t v, const char *name, char *err, size_t errlen)
{
	return limit_soft(res, v, v, name, err, errlen);
}

/* A host running as root would hand its capabilities to the domain: drop
 * them all, from the bounding and ambient sets too (no_new_privs, set next,
 * keeps them from coming back). Done after the limits are lowered: without
 * CAP_SYS_RESOURCE they cannot be raised again. */
static int drop_capabilities(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { { 0 } };

	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_READ, cap) == 1 &&
		    prctl(PR_CAPBSET_DROP, cap) < 0 && errno != EPERM) {
			snprintf(err, errlen, "dropping capability %d: %s", cap,
				 strerror(errno));
			return -errno;
		}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capset, &hdr, data) < 0) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* A System V IPC and POSIX message queue namespace of its own: whatever
 * gets past the filter finds no object of any other process, and what it
 * makes dies with the domain. Root (or CAP_SYS_ADMIN) makes one directly;
 * otherwise a user namespace brings the right to (the domain keeps its
 * uid: file access is checked against the same kernel uid). Returns 0, or
 * -errno when the kernel allows neither (the filter still stops every IPC
 * call). */
static int ipc_namespace(void)
{
	if (unshare(CLONE_NEWIPC) == 0)
		return 0;
	if (unshare(CLONE_NEWUSER | CLONE_NEWIPC) == 0)
		return 0;
	return -errno;
}

int pt_lockdown_start(pid_t host, char *err, size_t errlen)
{
	int ret;

	self = getpid();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
		snprintf(err, errlen, "PR_SET_PDEATHSIG: %s", strerror(errno));
		return -errno;
	}
	/* The host may have died before the death signal was armed. */
	if (getppid() != host) {
		snprintf(err, errlen, "host %d is gone", (int)host);
		return -ESRCH;
	}
	if (syscall(SYS_close_range, PT_DOMAIN_SOCKET_FD + 1, ~0u, 0) < 0) {
		snprintf(err, errlen, "close_range: %s", strerror(errno));
		return -errno;
	}
	if ((ret = limit(RLIMIT_CORE, 0, "core", err, errlen)) ||
	    (ret = limit(RLIMIT_NPROC, 0, "nproc", err, errlen)) ||
	    (ret = limit(RLIMIT_FSIZE, 0, "fsize", err, errlen)) ||
	    (ret = limit(RLIMIT_MEMLOCK, 0, "memlock", err, errlen)) ||
	    (ret = limit(RLIMIT_NOFILE, 64, "nofile", err, errlen)) ||
	    (ret = limit(RLIMIT_STACK, 1u << 20, "stack", err, errlen)) ||
	    (ret = limit_soft(RLIMIT_DATA, PT_DOMAIN_START_DATA, PT_DOMAIN_DATA_LIMIT,
			      "data", err, errlen)))
		return ret;
	if (ipc_namespace() < 0)
		pt_domain_log("partita-domain: no IPC namespace of its own (%s); the filter alone stops IPC",
			 strerror(errno));
	return drop_capabilities(err, errlen);
}

/* ---- stage 2: Landlock ---- */

static int ll_allow(int ruleset, const char *path, uint64_t access)
{
	struct landlock_path_beneath_attr rule = { .allowed_access = access };
	int ret;

	rule.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (rule.parent_fd < 0)
		return errno == ENOENT ? 0 : -errno;
	ret = (int)syscall(SYS_landlock_add_rule, ruleset,
			   LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
	if (ret < 0)
		ret = -errno;
	close(rule.parent_fd);
	return ret;
}

/* Folders and files the host named for this domain's plugins
 * (pt_lockdown_allow_read), readable on top of the library folders. */
static const char *extra_read[PT_LOCKDOWN_READ_MAX];
static unsigned nextra_read;

int pt_lockdown_allow_read(const char *path)
{
	if (stage != STAGE_START || nextra_read == PT_LOCKDOWN_READ_MAX || path[0] != '/')
		return -EINVAL;
	extra_read[nextra_read++] = path;
	return 0;
}

/* A folder gets read/execute/list beneath it, a file read/execute. */
static int ll_allow_extra(int ruleset, const char *path, uint64_t read_exec)
{
	int ret = ll_allow(ruleset, path, read_exec | LANDLOCK_ACCESS_FS_READ_DIR);

	return ret == -EINVAL ? ll_allow(ruleset, path, read_exec) : ret;
}

static int landlock(char *err, size_t errlen)
{
	static const char *const dirs[] = { "/lib", "/lib64", "/usr/lib",
					    "/usr/lib64", "/usr/local/lib" };
	const uint64_t read_exec = LANDLOCK_ACCESS_FS_EXECUTE |
				   LANDLOCK_ACCESS_FS_READ_FILE;
	struct ll_ruleset_attr attr = { 0 };
	size_t attr_size = sizeof(attr.handled_access_fs);
	long abi;
	int ruleset, ret = 0;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
		      LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		snprintf(err, errlen, "Landlock unavailable (%s): refusing to load modules unconfined",
			 strerror(errno));
		return -ENOSYS;
	}
	/* Every file system right this kernel knows is handled, so all of them
	 * are refused except the ones the rules below grant. */
	attr.handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		attr_size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
		attr_size = sizeof(attr);
	}
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
	if (ruleset < 0) {
		snprintf(err, errlen, "landlock_create_ruleset: %s", strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !ret; i++)
		ret = ll_allow(ruleset, dirs[i],
			       read_exec | LANDLOCK_ACCESS_FS_READ_DIR);
	if (!ret)
		ret = ll_allow(ruleset, "/etc/ld.so.cache", LANDLOCK_ACCESS_FS_READ_FILE);
	for (unsigned i = 0; i < nextra_read && !ret; i++)
		ret = ll_allow_extra(ruleset, extra_read[i], read_exec);
	if (!ret && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		ret = -errno;
	close(ruleset);
	if (ret)
		snprintf(err, errlen, "Landlock: %s", strerror(-ret));
	return ret;
}

/* ---- SIGSYS: report, emulate the loader's reads, or die ---- */

static const char *syscall_name(long nr)
{
	switch (nr) {
	case SYS_socket: return "socket";
	case SYS_socketpair: return "socketpair";
	case SYS_connect: return "connect";
	case SYS_bind: return "bind";
	case SYS_listen: return "listen";
	case SYS_accept: return "accept";
	case SYS_accept4: return "accept4";
	case SYS_sendto: return "sendto";
	case SYS_recvfrom: return "recvfrom";
	case SYS_execve: return "execve";
	case SYS_execveat: return "execveat";
	case SYS_fork: return "fork";
	case SYS_vfork: return "vfork";
	case SYS_clone: return "clone";
	case SYS_clone3: return "clone3";
	case SYS_kill: return "kill";
	case SYS_tkill: return "tkill";
	case SYS_tgkill: return "tgkill";
	case SYS_ptrace: return "ptrace";
	case SYS_process_vm_readv: return "process_vm_readv";
	case SYS_process_vm_writev: return "process_vm_writev";
	case SYS_open: return "open";
	case SYS_openat: return "openat";
	case SYS_openat2: return "openat2";
	case SYS_read: return "read";
	case SYS_mmap: return "mmap";
	case SYS_mprotect: return "mprotect";
	case SYS_memfd_create: return "memfd_create";
	case SYS_pidfd_open: return "pidfd_open";
	case SYS_pidfd_getfd: return "pidfd_getfd";
	case SYS_pidfd_send_signal: return "pidfd_send_signal";
	case SYS_unshare: return "unshare";
	case SYS_setns: return "setns";
	case SYS_mount: return "mount";
	case SYS_io_uring_setup: return "io_uring_setup";
	case SYS_userfaultfd: return "userfaultfd";
	case SYS_perf_event_open: return "perf_event_open";
	case SYS_bpf: return "bpf";
	case SYS_ioctl: return "ioctl";
	case SYS_getpid: return "getpid";
	case SYS_prctl: return "prctl";
	case SYS_chmod: return "chmod";
	case SYS_fchmod: return "fchmod";
	case SYS_fchmodat: return "fchmodat";
	case SYS_chown: return "chown";
	case SYS_fchownat: return "fchownat";
	case SYS_utimensat: return "utimensat";
	case SYS_setxattr: return "setxattr";
	case SYS_open_by_handle_at: return "open_by_handle_at";
	case SYS_unlink: return "unlink";
	case SYS_unlinkat: return "unlinkat";
	case SYS_setuid: return "setuid";
	case SYS_setpriority: return "setpriority";
	case SYS_sched_setscheduler: return "sched_setscheduler";
	case SYS_mlock: return "mlock";
	case SYS_mlockall: return "mlockall";
	case SYS_settimeofday: return "settimeofday";
	case SYS_clock_settime: return "clock_settime";
	case SYS_reboot: return "reboot";
	case SYS_newfstatat: return "newfstatat";
	case SYS_fstat: return "fstat";
	case SYS_futex: return "futex";
	case SYS_shmget: return "shmget";
	case SYS_shmat: return "shmat";
	case SYS_shmctl: return "shmctl";
	case SYS_shmdt: return "shmdt";
	case SYS_msgget: return "msgget";
	case SYS_msgsnd: return "msgsnd";
	case SYS_msgrcv: return "msgrcv";
	case SYS_msgctl: return "msgctl";
	case SYS_semget: return "semget";
	case SYS_semop: return "semop";
	case SYS_semctl: return "semctl";
	case SYS_mq_open: return "mq_open";
	case SYS_mq_unlink: return "mq_unlink";
	case SYS_mq_timedsend: return "mq_timedsend";
	case SYS_add_key: return "add_key";
	case SYS_request_key: return "request_key";
	case SYS_keyctl: return "keyctl";
	case SYS_rt_sigqueueinfo: return "rt_sigqueueinfo";
	case SYS_rt_tgsigqueueinfo: return "rt_tgsigqueueinfo";
	case SYS_timer_create: return "timer_create";
	case SYS_timer_settime: return "timer_settime";
	case SYS_setitimer: return "setitimer";
	case SYS_alarm: return "alarm";
	case SYS_fcntl: return "fcntl";
	case SYS_ioprio_set: return "ioprio_set";
	case SYS_memfd_secret: return "memfd_secret";
	case SYS_pipe: return "pipe";
	case SYS_pipe2: return "pipe2";
	case SYS_eventfd2: return "eventfd2";
	case SYS_epoll_create1: return "epoll_create1";
	case SYS_inotify_init1: return "inotify_init1";
	case SYS_signalfd4: return "signalfd4";
	case SYS_timerfd_create: return "timerfd_create";
	case SYS_rt_sigaction: return "rt_sigaction";
	case SYS_sigaltstack: return "sigaltstack";
	case SYS_pkey_mprotect: return "pkey_mprotect";
	case SYS_pkey_alloc: return "pkey_alloc";
	case SYS_sched_setaffinity: return "sched_setaffinity";
	case SYS_sched_setattr: return "sched_setattr";
	case SYS_getrandom: return "getrandom";
	case SYS_uname: return "uname";
	case SYS_readlink: return "readlink";
	case SYS_readlinkat: return "readlinkat";
	case SYS_access: return "access";
	case SYS_faccessat: return "faccessat";
	case SYS_faccessat2: return "faccessat2";
	case SYS_getdents64: return "getdents64";
	case SYS_getcwd: return "getcwd";
	case SYS_sysinfo: return "sysinfo";
	case SYS_prlimit64: return "prlimit64";
	case SYS_setrlimit: return "setrlimit";
	case SYS_set_mempolicy: return "set_mempolicy";
	case SYS_mbind: return "mbind";
	case SYS_migrate_pages: return "migrate_pages";
	case SYS_move_pages: return "move_pages";
	case SYS_process_madvise: return "process_madvise";
	case SYS_kcmp: return "kcmp";
	case SYS_dup: return "dup";
	case SYS_dup2: return "dup2";
	case SYS_dup3: return "dup3";
	case SYS_getppid: return "getppid";
	case SYS_personality: return "personality";
	case SYS_seccomp: return "seccomp";
	case SYS_sched_setparam: return "sched_setparam";
	case SYS_setsid: return "setsid";
	case SYS_setpgid: return "setpgid";
	default: return NULL;
	}
}

/* Appends @s to the line being built in @buf at *@n. */
static void put(char *buf, size_t *n, size_t cap, const char *s)
{
	while (*s && *n + 1 < cap)
		buf[(*n)++] = *s++;
}

static void put_num(char *buf, size_t *n, size_t cap, long v)
{
	char tmp[24];
	int i = 0;

	if (v < 0) {
		put(buf, n, cap, "-");
		v = -v;
	}
	do
		tmp[i++] = (char)('0' + v % 10);
	while ((v /= 10) && i < (int)sizeof(tmp));
	while (i && *n + 1 < cap)
		buf[(*n)++] = tmp[--i];
}

/* Dies by the filter's own kill rule (rt_sigaction on SIGSYS), so the host
 * sees the domain killed by SIGSYS whatever the module did to its signal
 * state. */
static __attribute__((noreturn)) void die_by_seccomp(void)
{
	for (;;)
		syscall(SYS_rt_sigaction, SIGSYS, NULL, NULL, 8);
}

static __attribute__((noreturn)) void stopped(long nr, const char *what,
					      const char *path)
{
	char line[512];
	size_t n = 0;
	const char *name = syscall_name(nr);

	put(line, &n, sizeof(line), context);
	put(line, &n, sizeof(line), " was stopped: ");
	if (name)
		put(line, &n, sizeof(line), name);
	else {
		put(line, &n, sizeof(line), "syscall ");
		put_num(line, &n, sizeof(line), nr);
	}
	put(line, &n, sizeof(line), " ");
	put(line, &n, sizeof(line), what);
	if (path) {
		put(line, &n, sizeof(line), ": ");
		put(line, &n, sizeof(line), path);
	}
	line[n++] = '\n';
	(void)!write(PT_DOMAIN_LOG_FD, line, n);
	die_by_seccomp();
}

#if defined(__x86_64__)
/* While loading, opens trap here: the loader's read-only opens inside the
 * library folders are redone with openat2 (which the filter lets through and
 * Landlock still checks); an open for writing, or one Landlock refuses, is
 * an attempt to reach outside the domain and stops it. */
static int emulate_open(ucontext_t *uc, long nr)
{
	greg_t *r = uc->uc_mcontext.gregs;
	struct open_how how = { 0 };
	const char *path;
	int dirfd, saved = errno;
	long fd;

	if (nr == SYS_openat) {
		dirfd = (int)r[REG_RDI];
		path = (const char *)r[REG_RSI];
		how.flags = (uint64_t)(uint32_t)r[REG_RDX];
		how.mode = (uint64_t)(uint32_t)r[REG_R10];
	} else {
		dirfd = AT_FDCWD;
		path = (const char *)r[REG_RDI];
		how.flags = (uint64_t)(uint32_t)r[REG_RSI];
		how.mode = (uint64_t)(uint32_t)r[REG_RDX];
	}
	if (how.flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND))
		stopped(nr, "for writing denied", path);
	if (!(how.flags & O_CREAT) && !(how.flags & __O_TMPFILE))
		how.mode = 0;
	fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (fd < 0 && errno == EACCES)
		stopped(nr, "denied (outside the library folders)", path);
	r[REG_RAX] = fd < 0 ? -errno : fd;
	errno = saved;
	return 0;
}
#endif

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	long nr = si->si_syscall;

	(void)sig;
#if defined(__x86_64__)
	if (stage == STAGE_LOAD && (nr == SYS_openat || nr == SYS_open) &&
	    emulate_open(ctx, nr) == 0)
		return;
#else
	(void)ctx;
#endif
	stopped(nr, "denied", NULL);
}

/* ---- seccomp filters ---- */

/* One argument comparison (libseccomp's SCMP_An macros leave datum_b to
 * the compiler's zeroing, which clang warns about). For SCMP_CMP_MASKED_EQ
 * @a is the mask and @b the value. */
static inline struct scmp_arg_cmp arg_cmp(unsigned arg, enum scmp_compare op,
					  scmp_datum_t a, scmp_datum_t b)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = op, .datum_a = a, .datum_b = b };
}

#define RULE(ctx, act, nr, ...)                                                \
	do {                                                                   \
		int r_ = seccomp_rule_add(ctx, act, nr, __VA_ARGS__);          \
		if (r_ < 0) {                                                  \
			snprintf(err, errlen, "seccomp rule for %s: %s", #nr,  \
				 strerror(-r_));                               \
			seccomp_release(ctx);                                  \
			return r_;                                             \
		}                                                              \
	} while (0)

/* mmap flags no stage allows: stack-like mappings (VM_GROWSDOWN is
 * counted as stack, not as data, so RLIMIT_DATA would not bound it), huge
 * pages (a pool of their own), locked, synchronous and uninitialised
 * mappings. */
#define MAP_NEVER ((scmp_datum_t)(MAP_GROWSDOWN | MAP_LOCKED | MAP_HUGETLB | MAP_SYNC | \
				  0x4000000 /* MAP_UNINITIALIZED */ |             \
				  (0x3fu << 26) /* MAP_HUGE_* sizes */))
#define MAP_TYPE_MASK ((scmp_datum_t)(MAP_SHARED | MAP_PRIVATE)) /* SHARED_VALIDATE too */

/* The calls both stages allow: the request loop's own (a control message,
 * a PROCESS, a log line, a grant mapped from its fd). Everything not
 * allowed by one of the stage's rules traps: the SIGSYS handler names the
 * call and the domain dies (see stopped()). */
static int allow_common(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	static const int allowed[] = {
		SCMP_SYS(futex_waitv), SCMP_SYS(munmap), SCMP_SYS(madvise),
		SCMP_SYS(close), SCMP_SYS(exit), SCMP_SYS(exit_group),
		SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
		SCMP_SYS(gettimeofday), SCMP_SYS(clock_nanosleep),
		SCMP_SYS(nanosleep), SCMP_SYS(sched_yield),
		SCMP_SYS(gettid), SCMP_SYS(getpid), SCMP_SYS(restart_syscall),
		/* grants are checked against their fd's size (lseek to the
		 * end: stat would also answer for paths, which Landlock does
		 * not cover) */
		SCMP_SYS(lseek),
	};

	/* futex words are shared with the host (the rings, activation
	 * records): wait and wake only, never requeue the host's waiters
	 * elsewhere, wake-op or PI games on its words (futex_waitv only
	 * waits). */
	static const unsigned futex_ops[] = { FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET,
					      FUTEX_WAKE_BITSET };

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		RULE(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	for (size_t i = 0; i < sizeof(futex_ops) / sizeof(futex_ops[0]); i++)
		RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(futex), 1,
		     arg_cmp(1, SCMP_CMP_MASKED_EQ,
			     (uint32_t)~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME), futex_ops[i]));
	/* Signals only to this process (abort, raise); every other way to
	 * signal (tkill, rt_sigqueueinfo, pidfd_send_signal, timers, fcntl
	 * F_SETOWN) is left to the default. */
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1, arg_cmp(0, SCMP_CMP_EQ, (scmp_datum_t)self, 0));
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, arg_cmp(0, SCMP_CMP_EQ, (scmp_datum_t)self, 0));
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, arg_cmp(0, SCMP_CMP_EQ, PT_DOMAIN_LOG_FD, 0));
	/* stdout is /dev/null: a module's stray printf is harmless. */
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, arg_cmp(0, SCMP_CMP_EQ, 1, 0));
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(recvmsg), 1, arg_cmp(0, SCMP_CMP_EQ, PT_DOMAIN_SOCKET_FD, 0));
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendmsg), 1, arg_cmp(0, SCMP_CMP_EQ, PT_DOMAIN_SOCKET_FD, 0));
	/* stdio asks whether stdout is a terminal (it is /dev/null); every
	 * other ioctl is refused. */
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, arg_cmp(1, SCMP_CMP_EQ, TCGETS, 0));
	/* Nobody replaces the SIGSYS handler; this rule is also how a stopped
	 * domain dies (die_by_seccomp). */
	RULE(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(rt_sigaction), 1,
	     arg_cmp(0, SCMP_CMP_EQ, SIGSYS, 0));
	/* Sealed partitions refuse resizing anyway; refusing it here keeps the
	 * error the same for every fd. */
	RULE(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ftruncate), 0);
	/* The heap is the private partition: brk and growing or moving a
	 * mapping have nothing to give. */
	RULE(ctx, SCMP_ACT_ERRNO(ENOMEM), SCMP_SYS(brk), 0);
	RULE(ctx, SCMP_ACT_ERRNO(ENOMEM), SCMP_SYS(mremap), 0);
	return 0;
}

/* The load stage: what the request loop needs, and what the dynamic
 * loader needs more, by argument. Constructors run under it. */
static int load_filter(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	static const int plugin_finding[] = {
		SCMP_SYS(getdents64), SCMP_SYS(access), SCMP_SYS(faccessat),
		SCMP_SYS(faccessat2), SCMP_SYS(readlink), SCMP_SYS(readlinkat),
		SCMP_SYS(getcwd), SCMP_SYS(fadvise64),
	};
	static const int allowed[] = {
		/* the loader reads ELF headers from the fds it opened */
		SCMP_SYS(read), SCMP_SYS(pread64),
		/* the loader's open, redone by the SIGSYS handler with
		 * openat2 (Landlock checks it: read-only, the library
		 * folders) */
		SCMP_SYS(openat2),
		/* the loader checks what it opened (Landlock does not cover
		 * stat: see docs/domains.md, known limits) */
		SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx),
	};
	int ret = allow_common(ctx, err, errlen);

	if (ret)
		return ret;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		RULE(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* Relocation and RELRO (text relocations make code writable for a
	 * while): never executable again once writable. */
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	     arg_cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* A mapping of an fd (a grant, a library file), shared or private,
	 * in place too (the loader maps segments over its reservation), not
	 * executable here. Private writable pages count against
	 * RLIMIT_DATA, which the host sets and charges. */
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 2,
	     arg_cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
	     arg_cmp(3, SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS | MAP_NEVER, 0));
	/* A domain given plugin files (pt_lockdown_allow_read) finds its
	 * plugin before it seals: lilv lists the folders of its path, the
	 * LADSPA adapter looks for the library's file there (Landlock still
	 * decides what can be read). */
	for (size_t i = 0; nextra_read && i < sizeof(plugin_finding) / sizeof(plugin_finding[0]); i++)
		RULE(ctx, SCMP_ACT_ALLOW, plugin_finding[i], 0);
	/* fds: the domain numbers each library's fd (F_DUPFD_CLOEXEC);
	 * nothing else (no F_SETOWN, F_SETSIG, leases, pipe sizes). */
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1, arg_cmp(1, SCMP_CMP_EQ, F_DUPFD_CLOEXEC, 0));
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1, arg_cmp(1, SCMP_CMP_EQ, F_GETFD, 0));
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1, arg_cmp(1, SCMP_CMP_EQ, F_GETFL, 0));
	/* The domain installs the run stage's filter on top of this one
	 * (filters only ever add restrictions). */
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 1,
	     arg_cmp(0, SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER, 0));
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
	     arg_cmp(0, SCMP_CMP_EQ, PR_SET_NO_NEW_PRIVS, 0));
	/* A library's code segments: a private, read-only, executable
	 * mapping of a file it opened read-only (Landlock decides which
	 * files). Never writable and executable at once, never anonymous. */
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 2,
	     arg_cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC | PROT_WRITE, PROT_EXEC),
	     arg_cmp(3, SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS | MAP_NEVER | MAP_TYPE_MASK,
		     MAP_PRIVATE));
	/* The loader reserves a library's span (PROT_NONE, no memory) and
	 * fills its zero-initialised data in place (MAP_FIXED over that
	 * span; writable pages count against RLIMIT_DATA). */
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 2,
	     arg_cmp(2, SCMP_CMP_MASKED_EQ, 0xffffffffu, PROT_NONE),
	     arg_cmp(3, SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS | MAP_NEVER | MAP_TYPE_MASK,
		     MAP_ANONYMOUS | MAP_PRIVATE));
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 2,
	     arg_cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
	     arg_cmp(3, SCMP_CMP_MASKED_EQ,
		     MAP_ANONYMOUS | MAP_NEVER | MAP_TYPE_MASK | MAP_FIXED,
		     MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED));
	/* Any other anonymous memory a library asks for (not in place, not
	 * executable) is refused as the sealed stage refuses it: malloc is
	 * its heap. The rules split on PROT_READ/PROT_WRITE so that none
	 * overlaps the PROT_NONE reservation above. */
	RULE(ctx, SCMP_ACT_ERRNO(ENOMEM), SCMP_SYS(mmap), 2,
	     arg_cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC | PROT_READ, PROT_READ),
	     arg_cmp(3, SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS | MAP_NEVER | MAP_FIXED,
		     MAP_ANONYMOUS));
	RULE(ctx, SCMP_ACT_ERRNO(ENOMEM), SCMP_SYS(mmap), 2,
	     arg_cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC | PROT_READ | PROT_WRITE, PROT_WRITE),
	     arg_cmp(3, SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS | MAP_NEVER | MAP_FIXED,
		     MAP_ANONYMOUS));
	return 0;
}

/* The run stage: the request loop's allow-list. */
static int seal_filter(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	int ret = allow_common(ctx, err, errlen);

	if (ret)
		return ret;
	/* Loaded and relocated: protections only ever come down (a guard
	 * page of its own); code or read-only data made writable traps. */
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	     arg_cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC | PROT_WRITE, 0));
	/* A grant mapped from its fd, never executable and never in place:
	 * the kernel checks a mapping in place against RLIMIT_DATA net of
	 * the pages it replaces, so a private one over a read-only mapping
	 * would be memory the limit does not see. */
	RULE(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 2,
	     arg_cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
	     arg_cmp(3, SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS | MAP_NEVER | MAP_FIXED, 0));
	/* Anonymous memory (private or shared, not executable) fails as an
	 * exhausted allocator fails; executable or stack-like traps. */
	RULE(ctx, SCMP_ACT_ERRNO(ENOMEM), SCMP_SYS(mmap), 2,
	     arg_cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
	     arg_cmp(3, SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS | MAP_NEVER, MAP_ANONYMOUS));
	/* stdio stats stdout before its first write; a refusal is handled
	 * there, and paths stay unanswered. */
	RULE(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fstat), 0);
	RULE(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(newfstatat), 0);
	RULE(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(statx), 0);
	return 0;
}

static int install(uint32_t def, int (*rules)(scmp_filter_ctx, char *, size_t),
		   const char *what, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(def);
	int ret;

	if (!ctx) {
		snprintf(err, errlen, "seccomp_init (%s) failed", what);
		return -ENOMEM;
	}
	ret = rules(ctx, err, errlen);
	if (ret)
		return ret; /* rules released ctx */
	ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret < 0)
		snprintf(err, errlen, "seccomp_load (%s): %s", what, strerror(-ret));
	return ret;
}

int pt_lockdown_load(char *err, size_t errlen)
{
	struct sigaction sa = { 0 };
	int ret;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -errno;
	}
	if ((ret = landlock(err, errlen)))
		return ret;
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		snprintf(err, errlen, "sigaction SIGSYS: %s", strerror(errno));
		return -errno;
	}
	ret = install(SCMP_ACT_TRAP, load_filter, "load", err, errlen);
	if (!ret)
		stage = STAGE_LOAD;
	return ret;
}

int pt_lockdown_seal(char *err, size_t errlen)
{
	int ret;

	if (stage == STAGE_SEALED)
		return 0;
	ret = install(SCMP_ACT_TRAP, seal_filter, "seal", err, errlen);
	if (!ret)
		stage = STAGE_SEALED;
	return ret;
}
