/* SPDX-License-Identifier: MIT */
#include "host/domain/domain.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/graph/graph.h"

/* How long a fresh domain may take to confine itself and answer. */
#define DOMAIN_START_TIMEOUT_MS 5000

static struct pt_exec_tuning tuning;
static bool tuning_set;
/* The host may not start real-time domains: asked once, then warned. */
static bool rt_refused;

const struct pt_exec_tuning *pt_domain_tuning(void)
{
	/* Spinning pays only with a core to spare for it: with few cores
	 * and several busy domains, a spinner takes the core the other side
	 * needs to answer (measured with tests/domain/domain_measure). */
	if (!tuning_set) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		tuning = cpus >= 4 ? (struct pt_exec_tuning){ 50, 20, 0, 0, 0 }
				   : (struct pt_exec_tuning){ 0, 0, 0, 0, 0 };
		tuning_set = true;
	}
	return &tuning;
}

void pt_domain_set_tuning(const struct pt_exec_tuning *t)
{
	tuning = *t;
	tuning_set = true;
}

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pt_domain *registry;

uint64_t pt_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct pt_domain *pt_domain_first(void)
{
	return registry;
}

struct pt_domain *pt_domain_find(const char *name)
{
	struct pt_domain *d;

	pthread_mutex_lock(&registry_lock);
	for (d = registry; d; d = d->next)
		if (!d->dead && d->name[0] && !strcmp(d->name, name))
			break;
	pthread_mutex_unlock(&registry_lock);
	return d;
}

/* Finds @file beside the running executable or one folder up (test
 * binaries live in build/tests): 0 with @path set, or -ENOENT. */
static int beside_executable(const char *file, int mode, char *path, size_t len)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return -ENOENT;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	if ((size_t)snprintf(path, len, "%s/%s", self, file) < len &&
	    access(path, mode) == 0)
		return 0;
	if ((size_t)snprintf(path, len, "%s/../%s", self, file) >= len)
		return -ENAMETOOLONG;
	return access(path, mode) ? -ENOENT : 0;
}

/* The partita-domain binary: $PARTITA_DOMAIN, else beside the executable. */
static int domain_binary(char *path, size_t len)
{
	const char *env = getenv("PARTITA_DOMAIN");

	if (env && *env) {
		snprintf(path, len, "%s", env);
		return access(path, X_OK) ? -ENOENT : 0;
	}
	return beside_executable("partita-domain", X_OK, path, len);
}

int pt_exec_module_library(const char *name, char *path, size_t len)
{
	char file[PT_NAME_MAX + 16];

	/* Module names are identifiers: nothing here can climb out. */
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
			return -EINVAL;
	if (!*name || strlen(name) >= PT_NAME_MAX)
		return -EINVAL;
	snprintf(file, sizeof(file), "modules/pt_%s.so", name);
	return beside_executable(file, R_OK, path, len);
}

static pt_exec_log_fn log_fn;
static void *log_ctx;
static pt_exec_unlock_fn unlock_fn;
/* How long a config request is waited for with the lock held before it is
 * let go (pt_exec_set_unlock). */
#define CONTROL_GRACE_MS 2
static void *unlock_ctx;

void pt_exec_set_unlock(pt_exec_unlock_fn fn, void *ctx)
{
	unlock_fn = fn;
	unlock_ctx = ctx;
}

void pt_exec_set_log(pt_exec_log_fn fn, void *ctx)
{
	log_fn = fn;
	log_ctx = ctx;
}

void *pt_exec_log_ctx(void)
{
	return log_ctx;
}

bool pt_domain_log_said(void)
{
	return log_fn != NULL;
}

/* What one drain reads at most: a pipe's worth and more, so a dead
 * domain's last words are all read, while a live one writing as fast as
 * the host reads cannot keep the host here. */
#define LOG_DRAIN_MAX (256u * 1024u)
/* What a periodic drain reads of one domain: a flooding module costs the
 * thread that drains a few microseconds, never a period. */
#define LOG_DRAIN_TICK (4u * 1024u)

static void drain_log(struct pt_domain *d, size_t max);

void pt_exec_drain_logs(void)
{
	/* A domain a config request waits on with the lock let go is the
	 * control thread's to read. */
	for (struct pt_domain *d = registry; d; d = d->next)
		if (!d->control_busy)
			drain_log(d, LOG_DRAIN_TICK);
}

void pt_domain_drain_log(struct pt_domain *d)
{
	drain_log(d, LOG_DRAIN_MAX);
}

static void drain_log(struct pt_domain *d, size_t max)
{
	char buf[1024];
	size_t total = 0;
	ssize_t n;

	if (d->log_fd < 0)
		return;
	while (total < max && (n = read(d->log_fd, buf, sizeof(buf))) > 0) {
		total += (size_t)n;
		for (ssize_t i = 0; i < n; i++) {
			char c = buf[i];

			if (c == '\n') {
				d->log_part[d->log_part_len] = '\0';
				if (d->log_part_len) {
					memcpy(d->last_log, d->log_part,
					       d->log_part_len + 1);
					memcpy(d->log_recent[d->log_lines++ % 4],
					       d->log_part, d->log_part_len + 1);
					if (log_fn)
						log_fn(log_ctx, d->pid, d->last_log);
				}
				d->log_part_len = 0;
				continue;
			}
			/* The text comes from a domain: keep it printable. */
			if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7e)
				c = '?';
			if (d->log_part_len < sizeof(d->log_part) - 1)
				d->log_part[d->log_part_len++] = c;
		}
	}
}

static void mark_dead(struct pt_domain *d, const siginfo_t *si)
{
	d->dead = true;
	d->reaped = true;
	if (si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED)
		d->signal = si->si_status;
	else
		d->exit_status = si->si_status;
	pt_domain_drain_log(d);
}

bool pt_domain_poll_death(struct pt_domain *d)
{
	siginfo_t si = { 0 };

	if (d->reaped)
		return true;
	if (waitid(P_PIDFD, (id_t)d->pidfd, &si, WEXITED | WNOHANG) == 0) {
		if (si.si_pid == 0)
			return false;
		mark_dead(d, &si);
		return true;
	}
	if (errno == ECHILD) {
		/* Someone else in the host reaped it; the pidfd still says
		 * whether it is gone, not how. */
		struct pollfd p = { d->pidfd, POLLIN, 0 };

		if (poll(&p, 1, 0) == 1) {
			d->dead = true;
			d->reaped = true;
			d->exit_status = -1;
			pt_domain_drain_log(d);
			return true;
		}
	}
	return false;
}

/* Blocks until @d has exited or @timeout_ms passed; returns true if dead. */
static bool wait_death(struct pt_domain *d, int timeout_ms)
{
	struct pollfd p = { d->pidfd, POLLIN, 0 };

	if (d->reaped)
		return true;
	if (poll(&p, 1, timeout_ms) > 0)
		return pt_domain_poll_death(d);
	return false;
}

void pt_domain_describe_death(const struct pt_domain *d, char *buf, size_t len)
{
	if (d->exit_status == -1 && !d->signal)
		snprintf(buf, len, "ended (reaped elsewhere in the host)");
	else if (d->signal)
		snprintf(buf, len, "killed by SIG%s", sigabbrev_np(d->signal) ?
			 sigabbrev_np(d->signal) : "?");
	else
		snprintf(buf, len, "exited with status %d", d->exit_status);
}

static int send_msg(struct pt_domain *d, const struct iovec *iov, int niov,
		    const int *fds, unsigned nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} cbuf;
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)niov };

	if (nfds) {
		struct cmsghdr *cm;

		memset(&cbuf, 0, sizeof(cbuf));
		m.msg_control = cbuf.buf;
		m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	return sendmsg(d->sock, &m, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* Receives one message from @d into @buf before @deadline. Returns its
 * length, or -EPIPE (domain gone, @err says how), -ETIMEDOUT. */
static ssize_t recv_one(struct pt_domain *d, void *buf, size_t cap,
			uint64_t deadline, int timeout_ms, char *err, size_t errlen)
{
	struct pollfd p[2] = { { d->sock, POLLIN, 0 }, { d->pidfd, POLLIN, 0 } };
	ssize_t n;

	for (;;) {
		uint64_t now = pt_mono_ns();
		int left = now >= deadline ? 0 : (int)((deadline - now) / 1000000ull) + 1;

		if (poll(p, 2, left) < 0 && errno != EINTR)
			return -errno;
		if (p[0].revents & POLLIN) {
			n = recv(d->sock, buf, cap, MSG_DONTWAIT | MSG_TRUNC);
			if (n > 0)
				return n;
		}
		if ((p[0].revents & (POLLHUP | POLLERR | POLLIN)) || (p[1].revents & POLLIN)) {
			char how[64];

			/* EOF or exit: the domain is gone, or broke off its end
			 * of the socket, which makes it useless: either way it
			 * is made sure of. */
			if (!wait_death(d, 100))
				pt_domain_kill(d);
			pt_domain_describe_death(d, how, sizeof(how));
			snprintf(err, errlen, "domain %d %s%s%s", (int)d->pid, how,
				 d->last_log[0] ? ": " : "", d->last_log);
			return -EPIPE;
		}
		if (pt_mono_ns() >= deadline) {
			snprintf(err, errlen, "domain %d did not answer within %d ms",
				 (int)d->pid, timeout_ms);
			return -ETIMEDOUT;
		}
	}
}

/* Waits for the reply to @seq (its first message, then the continuation
 * chunks its length asks for); returns its result, or -EPIPE/-ETIMEDOUT/
 * -EPROTO from the host's side. */
static int read_reply(struct pt_domain *d, uint8_t *buf, uint64_t seq, uint32_t op,
		      struct pt_dctl_reply *reply, void *rdata, size_t *rlen,
		      int timeout_ms, char *err, size_t errlen)
{
	uint64_t deadline = pt_mono_ns() + (uint64_t)timeout_ms * 1000000ull;
	struct pt_dctl_reply r;
	size_t got;
	ssize_t n;

	n = recv_one(d, buf, PT_DCTL_MSG_MAX, deadline, timeout_ms, err, errlen);
	if (n < 0)
		return (int)n;
	/* Copy, then check: the reply is the domain's word, nothing more. */
	if (n < (ssize_t)sizeof(r) || n > (ssize_t)PT_DCTL_MSG_MAX ||
	    (size_t)n > sizeof(r) + PT_DCTL_CHUNK) {
		snprintf(err, errlen, "domain %d: malformed reply (%zd bytes)", (int)d->pid, n);
		return -EPROTO;
	}
	memcpy(&r, buf, sizeof(r));
	if (r.seq != seq || r.op != op || r.len > PT_DCTL_DATA_MAX ||
	    r.len < (size_t)n - sizeof(r) || r.result > 0 || r.result < -4095) {
		snprintf(err, errlen, "domain %d: reply does not match request", (int)d->pid);
		return -EPROTO;
	}
	for (got = (size_t)n; got < sizeof(r) + r.len; got += (size_t)n) {
		n = recv_one(d, buf + got, PT_DCTL_MSG_MAX - got, deadline, timeout_ms,
			     err, errlen);
		if (n < 0)
			return (int)n;
		if ((size_t)n > sizeof(r) + r.len - got || (size_t)n > PT_DCTL_CHUNK) {
			snprintf(err, errlen, "domain %d: reply longer than it said", (int)d->pid);
			return -EPROTO;
		}
	}
	if (reply)
		*reply = r;
	if (r.is_text && r.len) {
		size_t k = r.len < errlen ? r.len : errlen - 1;
		char *t = (char *)(buf + sizeof(r));

		for (size_t i = 0; i < k; i++)
			err[i] = (t[i] >= 0x20 && t[i] <= 0x7e) ? t[i] : '?';
		err[k] = '\0';
	} else if (rlen) {
		if (r.len > *rlen) {
			snprintf(err, errlen, "domain %d: reply of %u bytes exceeds %zu",
				 (int)d->pid, r.len, *rlen);
			return -EPROTO;
		}
		memcpy(rdata, buf + sizeof(r), r.len);
		*rlen = r.len;
	}
	if (r.result && !r.is_text)
		snprintf(err, errlen, "%s", strerror(-r.result));
	return r.result;
}

/* Sends header + @body + @data as one first message (with the fds) of at
 * most PT_DCTL_CHUNK payload bytes and continuation messages of the rest. */
static int send_chunked(struct pt_domain *d, const struct pt_dctl_hdr *h,
			const void *body, size_t blen, const void *data,
			size_t dlen, const int *fds, unsigned nfds)
{
	size_t total = blen + dlen, off = 0;
	bool first = true;
	int ret;

	do {
		size_t k = total - off > PT_DCTL_CHUNK ? PT_DCTL_CHUNK : total - off;
		struct iovec iov[3];
		int niov = 0;

		if (first)
			iov[niov++] = (struct iovec){ (void *)h, sizeof(*h) };
		/* The chunk [off, off + k) of body then data. */
		if (off < blen) {
			size_t b = blen - off < k ? blen - off : k;

			iov[niov++] = (struct iovec){ (uint8_t *)body + off, b };
			if (k > b)
				iov[niov++] = (struct iovec){ (void *)data, k - b };
		} else if (k) {
			iov[niov++] = (struct iovec){ (uint8_t *)data + (off - blen), k };
		}
		ret = send_msg(d, iov, niov, first ? fds : NULL, first ? nfds : 0);
		if (ret)
			return ret;
		off += k;
		first = false;
	} while (off < total);
	return 0;
}

/* The reply's room is taken per call (control requests are rare; the
 * host may have more than one thread talking to domains). */
static int wait_reply(struct pt_domain *d, uint64_t seq, uint32_t op,
		      struct pt_dctl_reply *reply, void *rdata, size_t *rlen,
		      int timeout_ms, char *err, size_t errlen)
{
	uint8_t *buf = malloc(PT_DCTL_MSG_MAX);
	int ret;

	if (!buf) {
		snprintf(err, errlen, "domain %d: out of host memory for its reply", (int)d->pid);
		return -ENOMEM;
	}
	ret = read_reply(d, buf, seq, op, reply, rdata, rlen, timeout_ms, err, errlen);
	free(buf);
	return ret;
}

/* Tells the domain a control message waits: one CONTROL entry, published
 * together with anything already queued. Flow control: a slot is free
 * again only once its completion is read, so on a full ring the host reads
 * completions, and waits up to @timeout_ms for them, before it gives up:
 * a domain that stopped completing is of no more use. */
static int kick(struct pt_domain *d, uint64_t seq, int timeout_ms)
{
	uint64_t deadline = pt_mono_ns() + (uint64_t)timeout_ms * 1000000ull;
	struct pt_ring_entry *e;

	while (!(e = pt_ring_get_entry(&d->ring))) {
		uint64_t now = pt_mono_ns();
		int ret;

		if (pt_domain_drain_completions(d))
			return -EPROTO;
		if (pt_ring_space_left(&d->ring))
			continue;
		if (now >= deadline || pt_domain_poll_death(d))
			return -ENOSPC;
		ret = pt_ring_wait(&d->ring, 0,
				   (int64_t)(deadline - now < 10000000u ? deadline - now :
									  10000000u));
		if (ret && ret != -ETIMEDOUT)
			return ret;
	}
	memset(e, 0, sizeof(*e));
	e->opcode = PT_DOP_CONTROL;
	e->tag = seq;
	pt_ring_submit(&d->ring);
	d->queued = false;
	return 0;
}

int pt_domain_control(struct pt_domain *d, uint32_t op, uint32_t instance,
		      const void *body, size_t blen, const void *data,
		      size_t dlen, const int *fds, unsigned nfds,
		      struct pt_dctl_reply *reply, void *rdata, size_t *rlen,
		      int timeout_ms, char *err, size_t errlen)
{
	struct pt_dctl_hdr h = { .op = op, .instance = instance };
	bool unlocked = false;
	int ret;

	if (d->dead || pt_domain_poll_death(d)) {
		char how[64];

		pt_domain_describe_death(d, how, sizeof(how));
		snprintf(err, errlen, "domain %d %s", (int)d->pid, how);
		return -EPIPE;
	}
	if (blen + dlen > PT_DCTL_DATA_MAX) {
		snprintf(err, errlen, "control payload of %zu bytes exceeds %d",
			 blen + dlen, PT_DCTL_DATA_MAX);
		return -E2BIG;
	}
	h.seq = ++d->seq;
	h.len = (uint32_t)(blen + dlen);
	/* Wake first: a payload larger than the socket buffer is only taken
	 * while the domain reads it. */
	ret = kick(d, h.seq, timeout_ms);
	if (!ret)
		ret = send_chunked(d, &h, body, blen, data, dlen, fds, nfds);
	if (ret) {
		char how[64];

		/* The domain died or broke off its end (a full ring means it
		 * stopped taking requests): either way it is of no more use. */
		pt_domain_kill(d);
		pt_domain_describe_death(d, how, sizeof(how));
		snprintf(err, errlen, "domain %d: send: %s; domain %s%s%s", (int)d->pid,
			 strerror(-ret), how, d->last_log[0] ? ": " : "", d->last_log);
		return -EPIPE;
	}
	/* A config request runs module code for as long as the module
	 * likes: the graph's lock is let go meanwhile (pt_exec_set_unlock). */
	if (unlock_fn && (op == PT_DCTL_CONFIG_SET || op == PT_DCTL_CONFIG_GET)) {
		/* A quick answer is waited for with the lock held, as every
		 * other request is (no period of the instance is lost). */
		struct pollfd p[2] = { { d->sock, POLLIN, 0 }, { d->pidfd, POLLIN, 0 } };

		if (poll(p, 2, CONTROL_GRACE_MS) == 0) {
			d->control_busy++;
			unlocked = unlock_fn(unlock_ctx, false);
			if (!unlocked)
				d->control_busy--;
		}
	}
	ret = wait_reply(d, h.seq, op, reply, rdata, rlen, timeout_ms, err, errlen);
	if (unlocked) {
		unlock_fn(unlock_ctx, true);
		d->control_busy--;
	}
	pt_domain_drain_log(d);
	/* Keep the completion ring from filling while the host is busy with
	 * control requests; a broken ring makes the domain unusable. */
	if (!d->dead && pt_domain_drain_completions(d) && !ret) {
		snprintf(err, errlen, "domain %d broke the completion ring", (int)d->pid);
		ret = -EPROTO;
	}
	/* A domain that lied, or stopped answering, can never be believed
	 * again (its replies would be out of step): it is ended. */
	if ((ret == -EPROTO || ret == -ETIMEDOUT) && !d->dead) {
		pt_domain_kill(d);
		/* Its instances' reason, when they fail in a period. */
		snprintf(d->last_log, sizeof(d->last_log), "ended by the host: %.200s", err);
	}
	return ret;
}

void pt_domain_kill(struct pt_domain *d)
{
	if (d->reaped)
		return;
	syscall(SYS_pidfd_send_signal, d->pidfd, SIGKILL, NULL, 0);
	wait_death(d, 5000);
	if (!d->reaped) {
		siginfo_t si;

		if (waitid(P_PIDFD, (id_t)d->pidfd, &si, WEXITED) == 0)
			mark_dead(d, &si);
		d->dead = true;
		d->reaped = true;
	}
}

static int grants_reserve(struct pt_domain *d)
{
	unsigned cap;
	void *n;

	if (d->ngrants < d->grants_cap)
		return 0;
	cap = d->grants_cap ? 2 * d->grants_cap : 8;
	n = realloc(d->grants, cap * sizeof(*d->grants));
	if (!n)
		return -ENOMEM;
	d->grants = n;
	d->grants_cap = cap;
	return 0;
}

int pt_domain_hold(struct pt_domain *d, struct pt_partition *p, bool writable)
{
	if (grants_reserve(d))
		return -ENOMEM;
	pt_partition_hold(p);
	d->grants[d->ngrants++] = (struct pt_domain_grant){ p, writable };
	return 0;
}

int pt_domain_grant(struct pt_domain *d, struct pt_partition *p, bool writable,
		    char *err, size_t errlen)
{
	struct pt_dctl_grant g = { .part_id = p->id, .writable = writable,
				   .size = p->size };
	struct pt_dctl_reply r;
	int fd, ret;

	for (unsigned i = 0; i < d->ngrants; i++)
		if (d->grants[i].part == p && d->grants[i].writable == writable)
			return 0;
	/* Room first, so that a sent grant is always recorded. */
	if (grants_reserve(d)) {
		snprintf(err, errlen, "grant %s: out of host memory", p->name);
		return -ENOMEM;
	}
	/* A reader gets an O_RDONLY re-open: mprotect cannot make a mapping
	 * of it writable. */
	fd = writable ? p->fd : pt_partition_ro_fd(p);
	if (fd < 0) {
		snprintf(err, errlen, "grant %s: read-only re-open: %s", p->name,
			 strerror(-fd));
		return fd;
	}
	pt_domain_room_for(d, p->size);
	ret = pt_domain_control(d, PT_DCTL_GRANT, 0, &g, sizeof(g), NULL, 0, &fd, 1,
				&r, NULL, NULL, 2000, err, errlen);
	if (!writable)
		close(fd);
	if (ret && ret != -EPIPE && ret != -ETIMEDOUT)
		return ret;
	/* Once sent, the domain may hold the fd whatever it answered: the
	 * partition stays held until the domain ends. */
	pt_domain_hold(d, p, writable);
	return ret;
}

struct pt_domain *pt_domain_spawn(struct pt_budget *budget, const char *name,
				  char *err, size_t errlen)
{
	return pt_domain_spawn_reading(budget, name, NULL, 0, err, errlen);
}

struct pt_domain *pt_domain_spawn_reading(struct pt_budget *budget, const char *name,
					  const char *const *read_paths,
					  unsigned nread, char *err, size_t errlen)
{
	/* argv: HOST_PID RT_LIMIT_MS (0: the ordinary class) [READ_PATH]... */
	char bin[PATH_MAX], host_pid[16], rt_limit[16], who[PT_NAME_MAX + 16];
	char *argv[4 + 16] = { "partita-domain", host_pid, rt_limit, NULL };
	const struct pt_exec_tuning *tn = pt_domain_tuning();
	char *envp[] = { NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int sv[2] = { -1, -1 }, lp[2] = { -1, -1 }, ret;
	struct pt_domain *d;
	struct pt_dctl_rings rg;
	size_t rsize = pt_ring_block_size(PT_DOMAIN_RING_ENTRIES);
	uint64_t t0 = pt_mono_ns();

	if (nread > 16) {
		snprintf(err, errlen, "domain: %u read paths (at most 16)", nread);
		return NULL;
	}
	snprintf(rt_limit, sizeof(rt_limit), "0");
	for (unsigned i = 0; i < nread; i++)
		argv[3 + i] = (char *)read_paths[i];
	if (domain_binary(bin, sizeof(bin))) {
		snprintf(err, errlen, "partita-domain not found (beside the executable or $PARTITA_DOMAIN)");
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "domain: out of host memory");
		return NULL;
	}
	snprintf(d->name, sizeof(d->name), "%s", name ? name : "");
	d->pidfd = d->sock = d->log_fd = -1;
	snprintf(who, sizeof(who), "domain %s", name && *name ? name : "(own)");
	d->rings = pt_partition_create(budget, PT_PARTITION_RINGS, who, "rings",
				       rsize, err, errlen);
	if (!d->rings)
		goto fail;
	ret = pt_ring_block_init(d->rings->map, d->rings->size, PT_DOMAIN_RING_ENTRIES);
	if (!ret)
		ret = pt_ring_attach(&d->ring, d->rings->map, d->rings->size,
				     PT_RING_HOST, PT_DOMAIN_RING_ENTRIES);
	if (ret) {
		snprintf(err, errlen, "domain rings: %s", strerror(-ret));
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(lp, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "domain channels: %s", strerror(errno));
		for (int i = 0; i < 2; i++) {
			if (sv[i] >= 0)
				close(sv[i]);
			if (lp[i] >= 0)
				close(lp[i]);
		}
		goto fail;
	}
	snprintf(host_pid, sizeof(host_pid), "%d", (int)getpid());
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, lp[1], PT_DOMAIN_LOG_FD);
	posix_spawn_file_actions_adddup2(&fa, sv[1], PT_DOMAIN_SOCKET_FD);
	posix_spawn_file_actions_addclosefrom_np(&fa, PT_DOMAIN_SOCKET_FD + 1);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	/* Its own session: no terminal, no signals meant for the host's
	 * process group. Its scheduling class is the tuning's, whatever the
	 * spawning thread runs at: SCHED_FIFO bounded by RLIMIT_RTTIME (the
	 * domain sets it from argv[2] before it drops its capabilities), so
	 * a domain that spins cannot starve the machine; else the ordinary
	 * class. */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSCHEDULER);
	ret = EPERM;
	if (tn->rt_priority && !rt_refused) {
		struct sched_param sp = { .sched_priority = (int)tn->rt_priority };

		snprintf(rt_limit, sizeof(rt_limit), "%u",
			 tn->rt_limit_ms ? tn->rt_limit_ms : PT_EXEC_RT_LIMIT_MS_DEFAULT);
		posix_spawnattr_setschedpolicy(&attr, SCHED_FIFO);
		posix_spawnattr_setschedparam(&attr, &sp);
		ret = posix_spawn(&d->pid, bin, &fa, &attr, argv, envp);
		if (ret == EPERM) {
			rt_refused = true;
			fprintf(stderr,
				"partita: domains: real-time priority %u not permitted: they run in the ordinary class\n",
				tn->rt_priority);
		}
	}
	if (ret == EPERM) {
		struct sched_param sp = { .sched_priority = 0 };

		snprintf(rt_limit, sizeof(rt_limit), "0");
		posix_spawnattr_setschedpolicy(&attr, SCHED_OTHER);
		posix_spawnattr_setschedparam(&attr, &sp);
		ret = posix_spawn(&d->pid, bin, &fa, &attr, argv, envp);
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sv[1]);
	close(lp[1]);
	d->sock = sv[0];
	d->log_fd = lp[0];
	if (ret) {
		snprintf(err, errlen, "spawn %s: %s", bin, strerror(ret));
		d->pid = 0;
		goto fail;
	}
	d->pidfd = (int)syscall(SYS_pidfd_open, d->pid, 0);
	if (d->pidfd < 0) {
		snprintf(err, errlen, "pidfd_open: %s", strerror(errno));
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->dead = d->reaped = true;
		goto fail;
	}
	rg = (struct pt_dctl_rings){ .size = d->rings->size,
				     .entries = PT_DOMAIN_RING_ENTRIES,
				     .spin_us = pt_domain_tuning()->domain_spin_us };
	{
		struct pt_dctl_hdr h = { .op = PT_DCTL_RINGS, .seq = ++d->seq,
					 .len = sizeof(rg) };
		struct iovec iov[2] = { { &h, sizeof(h) }, { &rg, sizeof(rg) } };

		ret = send_msg(d, iov, 2, &d->rings->fd, 1);
		if (ret)
			snprintf(err, errlen, "domain %d: send: %s", (int)d->pid, strerror(-ret));
		else
			ret = wait_reply(d, h.seq, PT_DCTL_RINGS, NULL, NULL, NULL,
					 DOMAIN_START_TIMEOUT_MS, err, errlen);
	}
	if (ret) {
		char msg[PT_ERR_MAX];
		int n;

		pt_domain_drain_log(d);
		n = snprintf(msg, sizeof(msg), "domain did not start: %s", err);
		if (d->last_log[0] && !strstr(err, d->last_log) && n > 0 &&
		    (size_t)n < sizeof(msg) - 2)
			snprintf(msg + n, sizeof(msg) - (size_t)n, ": %.*s",
				 (int)(sizeof(msg) - (size_t)n - 3), d->last_log);
		snprintf(err, errlen, "%s", msg);
		goto fail;
	}
	pt_partition_hold(d->rings); /* the domain's reference */
	d->start_ns = pt_mono_ns() - t0;
	pthread_mutex_lock(&registry_lock);
	d->next = registry;
	registry = d;
	pthread_mutex_unlock(&registry_lock);
	return d;
fail:
	if (d->pid > 0 && !d->reaped) {
		if (d->pidfd >= 0)
			pt_domain_kill(d);
		else {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, NULL, 0);
		}
	}
	if (d->pidfd >= 0)
		close(d->pidfd);
	if (d->sock >= 0)
		close(d->sock);
	if (d->log_fd >= 0)
		close(d->log_fd);
	/* A domain that started may have mapped the rings; it is dead now. */
	pt_partition_put(d->rings);
	free(d);
	return NULL;
}

void pt_domain_release(struct pt_domain *d)
{
	struct pt_domain **pp;

	if (!d)
		return;
	pthread_mutex_lock(&registry_lock);
	for (pp = &registry; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	pthread_mutex_unlock(&registry_lock);
	/* A domain exits by itself after its last FREE; give it a moment,
	 * then make sure: the partitions below are released only once the
	 * process that mapped them is gone. */
	if (!d->reaped && (d->dead || !wait_death(d, 200)))
		pt_domain_kill(d);
	pt_domain_drain_log(d); /* its last lines are said too */
	close(d->pidfd);
	close(d->sock);
	close(d->log_fd);
	/* Only now, with the process gone, can no one reach the partitions
	 * through it. */
	for (unsigned i = 0; i < d->ngrants; i++)
		pt_partition_put(d->grants[i].part);
	free(d->grants);
	pt_partition_put(d->rings); /* the domain's reference */
	pt_partition_put(d->rings); /* the host's */
	if (d->data_charged)
		pt_budget_give(d->budget, d->data_charged);
	free(d);
}
