/* SPDX-License-Identifier: MIT */
/*
 * partita serve --socket PATH [TOPOLOGY]: a host that takes control
 * messages. Two threads share the graph under one priority-inheritance
 * lock. The period thread (SCHED_FIFO where permitted) does nothing but
 * periods: while a pipeline is RUNNING a timerfd fires on absolute
 * CLOCK_MONOTONIC period deadlines and each expiry runs one. The control
 * thread (the ordinary class) polls the listening socket, the clients, a
 * signalfd (SIGINT/SIGTERM) and the domains' pidfds, and sends the
 * notifications; it holds the lock for one message at a time, so a storm
 * of control traffic delays a period by one message's work at most.
 */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tools/partita/cmd.h"
#include "host/control/codec.h"
#include "host/control/control.h"
#include "host/graph/graph.h"
#include "host/libmgr/library.h"
#include "host/mm/budget.h"
#include "host/domain/exec.h"
#include "host/sched/rt.h"
#include "host/sched/sched.h"
#include "host/trace/trace.h"
#include "host/topology/topology.h"


/* Clients: REGULAR_CLIENTS at once, and one more slot kept for an
 * operator (`partita ctl`) when those are all taken. A newcomer that finds
 * every slot taken gets the slot of a client idle past its limit (the
 * spare's holder after SPARE_IDLE_MS, any other after --client-idle), or a
 * BUSY reply "too many clients: 16" and the door. docs/control.md. */
#define REGULAR_CLIENTS 16
#define MAX_CLIENTS (REGULAR_CLIENTS + 1)
#define SPARE_IDLE_MS 2000
#define CLIENT_IDLE_S_DEFAULT 60
/* Periods run for one timer read at most: a host that fell further behind
 * skips the rest rather than stall the control socket. */
#define MAX_CATCH_UP 8

struct seen {
	uint32_t id;
	uint64_t faults, misses, restarts;
};

struct server {
	struct pt_graph *g;
	struct pt_sched *sched;
	int listen_fd, signal_fd, timer_fd;
	int clients[MAX_CLIENTS];
	size_t nclients;
	/* per client slot, beside clients[]: its number for the control
	 * plane (never reused), when it last sent a request, whether it holds
	 * the spare slot */
	uint64_t client_id[MAX_CLIENTS], client_seen_ns[MAX_CLIENTS];
	bool client_spare[MAX_CLIENTS];
	uint64_t next_client_id;
	unsigned client_idle_s;
	bool ticking;
	uint32_t period_us;
	pthread_mutex_t lock;     /* the graph's: PTHREAD_PRIO_INHERIT */
	pthread_t period_thread;
	bool period_started;
	bool quit;                /* under lock: the period thread ends */
	int period_ret;           /* under lock: a period's host failure */
	uint64_t skipped;
	struct seen seen[PT_MAX_INSTANCES];
	uint8_t *in, *out;
	const char *socket_path;
	pthread_t control_thread;
	bool in_client;           /* the control thread holds the lock for a client */
};

/* pt_exec_set_unlock: a config request to a domain, made for a client,
 * waits with the graph's lock let go, so the periods go on meanwhile. */
static bool unlock_for_domain(void *ctx, bool relock)
{
	struct server *s = ctx;

	if (!pthread_equal(pthread_self(), s->control_thread) || !s->in_client)
		return false;
	if (relock)
		pthread_mutex_lock(&s->lock);
	else
		pthread_mutex_unlock(&s->lock);
	return true;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: partita serve --socket PATH [options] [TOPOLOGY]\n"
		"  Runs a host that takes control messages (see docs/control.md) on the\n"
		"  Unix SEQPACKET socket PATH, after building the graph of TOPOLOGY.\n"
		"  --socket PATH       where to listen (a stale socket there is replaced)\n"
		"  --trust KEYFILE     trust the public keys in KEYFILE (repeatable)\n"
		"  --require-signed    refuse libraries not signed by a trusted key\n"
		"  --user-heap SIZE    user heap budget (e.g. 64M); overrides the topology\n"
		"  --period-us N       period; overrides the topology (default 1000)\n"
		"  --rate N            default stream rate; overrides the topology\n"
		"  --client-idle S     a client that sent nothing for S seconds gives up\n"
		"                      its slot when a newcomer needs it (default 60;\n"
		"                      0: never)\n"
		"  --trace FILE        write a trace-event JSON file (chrome://tracing,\n"
		"                      Perfetto) of the periods run, at exit\n"
		"  --rt-priority N     the period thread's SCHED_FIFO priority (default\n"
		"                      70; domains run one below; 0: ordinary class)\n"
		"  --hang-ms MS        a request unanswered this long is a hang\n"
		"                      (default 500; a late result is only a miss)\n"
		"  --help              this text\n");
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "partita serve: %s: socket path too long\n", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* A socket left by a host that died is replaced; a live one or any
	 * other file is not. */
	if (lstat(path, &st) == 0) {
		int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		bool live = probe >= 0 && S_ISSOCK(st.st_mode) &&
			    connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;

		if (probe >= 0)
			close(probe);
		if (!S_ISSOCK(st.st_mode) || live) {
			fprintf(stderr, "partita serve: %s: %s\n", path,
				live ? "another host is listening there"
				     : "exists and is not a socket");
			return -EEXIST;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 8) < 0) {
		int e = errno;

		fprintf(stderr, "partita serve: %s: %s\n", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}

static void drop_client(struct server *s, size_t i)
{
	size_t last = --s->nclients;

	close(s->clients[i]);
	pt_control_client_gone(s->g, s->client_id[i]);
	s->clients[i] = s->clients[last];
	s->client_id[i] = s->client_id[last];
	s->client_seen_ns[i] = s->client_seen_ns[last];
	s->client_spare[i] = s->client_spare[last];
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void broadcast(struct server *s, const void *msg, size_t len)
{
	for (size_t i = 0; i < s->nclients; i++)
		/* A client that does not read its notifications loses them
		 * rather than stall the host. */
		(void)send(s->clients[i], msg, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void notify(struct server *s, const struct pt_instance_info *info,
		   unsigned type, uint64_t count)
{
	struct pt_ctl_notify n = { 0 };
	uint8_t buf[256];
	size_t len;

	n.instance = info->id;
	n.pipeline = info->pipeline;
	n.period = type == PT_CTL_NOTIFY_FAULT && info->stats.fault_period
			   ? info->stats.fault_period
			   : pt_sched_periods(s->sched);
	n.count = count;
	n.signal = type == PT_CTL_NOTIFY_FAULT ? info->stats.fault_signal : 0;
	memcpy(n.name, info->name, sizeof(n.name));
	n.name[sizeof(n.name) - 1] = 0;
	if (type == PT_CTL_NOTIFY_FAULT)
		snprintf(n.reason, sizeof(n.reason), "%s", info->stats.fault_reason);
	len = pt_ctl_encode(buf, sizeof(buf), type, PT_CTL_FLAG_NOTIFY, 0, 0, &n,
			    pt_ctl_layout(type, true), NULL, 0, NULL, 0);
	if (len)
		broadcast(s, buf, len);
}

/* Compares every instance's fault, miss and restart counters with what was
 * last seen and notifies the clients of each that grew. */
static void check_events(struct server *s)
{
	struct pt_instance *inst;

	for (size_t i = 0; (inst = pt_graph_instance_at(s->g, i)); i++) {
		struct pt_instance_info info;
		struct seen *e = NULL, *free_slot = NULL;

		pt_instance_info(inst, &info);
		for (size_t k = 0; k < PT_MAX_INSTANCES && !e; k++) {
			if (s->seen[k].id == info.id)
				e = &s->seen[k];
			else if (!s->seen[k].id && !free_slot)
				free_slot = &s->seen[k];
		}
		if (!e) {
			if (!free_slot)
				continue;
			e = free_slot;
			*e = (struct seen){ .id = info.id };
		}
		if (info.stats.faults > e->faults)
			notify(s, &info, PT_CTL_NOTIFY_FAULT, info.stats.faults);
		if (info.stats.deadline_misses > e->misses)
			notify(s, &info, PT_CTL_NOTIFY_DEADLINE_MISS,
			       info.stats.deadline_misses);
		if (info.stats.restarts > e->restarts)
			notify(s, &info, PT_CTL_NOTIFY_RESTART, info.stats.restarts);
		e->faults = info.stats.faults;
		e->misses = info.stats.deadline_misses;
		e->restarts = info.stats.restarts;
	}
	/* forget instances that are gone, so a new one with the id starts at 0 */
	for (size_t k = 0; k < PT_MAX_INSTANCES; k++)
		if (s->seen[k].id && !pt_graph_instance(s->g, s->seen[k].id))
			s->seen[k].id = 0;
}

/* Starts or stops the period timer to match whether anything runs. */
static int pace(struct server *s)
{
	bool run = pt_control_running(s->g);
	struct itimerspec its = { 0 };

	if (run == s->ticking)
		return 0;
	if (run) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		its.it_interval.tv_sec = s->period_us / 1000000;
		its.it_interval.tv_nsec = (long)(s->period_us % 1000000) * 1000;
		its.it_value = now;
		its.it_value.tv_nsec += its.it_interval.tv_nsec;
		its.it_value.tv_sec += its.it_interval.tv_sec +
				       its.it_value.tv_nsec / 1000000000;
		its.it_value.tv_nsec %= 1000000000;
	}
	if (timerfd_settime(s->timer_fd, run ? TFD_TIMER_ABSTIME : 0, &its, NULL) < 0) {
		fprintf(stderr, "partita serve: timerfd: %s\n", strerror(errno));
		return -errno;
	}
	s->ticking = run;
	return 0;
}

static void serve_client(struct server *s, size_t i)
{
	ssize_t n = recv(s->clients[i], s->in, PT_CTL_MSG_MAX + 1, MSG_TRUNC | MSG_DONTWAIT);
	size_t len = PT_CTL_MSG_MAX;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop_client(s, i);
		return;
	}
	s->client_seen_ns[i] = now_ns();
	if ((size_t)n > PT_CTL_MSG_MAX) {
		/* The kernel kept only what fitted; the codec sees the real
		 * length from header.size and refuses it as oversized. */
		struct pt_ctl_header h;
		char text[PT_CTL_ERR_MAX];

		memcpy(&h, s->in, sizeof(h));
		snprintf(text, sizeof(text),
			 "header: message of %zd bytes is above the %d-byte limit", n,
			 PT_CTL_MSG_MAX);
		len = pt_ctl_encode_error(s->out, PT_CTL_MSG_MAX, le16toh(h.type),
					  le32toh(h.seq), PT_CTL_E_OVERSIZED, text);
	} else {
		pt_control_handle_client(s->g, s->client_id[i], s->in, (size_t)n, s->out,
					 &len);
	}
	/* A client whose socket buffer is full (it does not read its replies)
	 * loses this reply rather than stall the host's periods. */
	if (len && send(s->clients[i], s->out, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
	    errno != EAGAIN)
		drop_client(s, i);
}

/* Every slot is taken: frees the one of the client idle longest past its
 * limit, if any. Returns true if a slot is free now. */
static bool reclaim_idle(struct server *s, uint64_t now)
{
	uint64_t worst = 0;
	size_t victim = SIZE_MAX;

	for (size_t i = 0; i < s->nclients; i++) {
		uint64_t idle = now - s->client_seen_ns[i];
		uint64_t limit = s->client_spare[i] ? SPARE_IDLE_MS * 1000000ull
						    : s->client_idle_s * 1000000000ull;

		bool may = s->client_spare[i] || s->client_idle_s;

		if (may && idle > limit && idle - limit >= worst) {
			worst = idle - limit;
			victim = i;
		}
	}
	if (victim == SIZE_MAX)
		return false;
	drop_client(s, victim);
	return true;
}

static void accept_clients(struct server *s)
{
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		uint64_t now = now_ns();
		size_t i;

		if (fd < 0)
			return;
		if (s->nclients == MAX_CLIENTS && !reclaim_idle(s, now)) {
			char text[PT_CTL_ERR_MAX];
			size_t len;

			/* Said before the door closes, so that the client
			 * knows why (ctl prints it). */
			snprintf(text, sizeof(text),
				 "too many clients: %d (and the one kept for an operator is in use); "
				 "idle clients give up their slot after %u s",
				 REGULAR_CLIENTS, s->client_idle_s);
			len = pt_ctl_encode_error(s->out, PT_CTL_MSG_MAX, PT_CTL_LOOKUP, 0,
						  PT_CTL_E_BUSY, text);
			if (len)
				(void)send(fd, s->out, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			/* Nothing more comes in; what came is read: a socket
			 * closed with unread input would reset the client's
			 * end before it reads the reason. */
			shutdown(fd, SHUT_RD);
			while (recv(fd, s->in, PT_CTL_MSG_MAX, MSG_DONTWAIT) > 0)
				;
			close(fd);
			continue;
		}
		i = s->nclients++;
		s->clients[i] = fd;
		s->client_id[i] = ++s->next_client_id;
		s->client_seen_ns[i] = now;
		s->client_spare[i] = i >= REGULAR_CLIENTS;
	}
}

/* The period thread: waits for the timer, runs the periods due. Nothing
 * else runs here: no socket, no log, no file. */
static void *periods(void *arg)
{
	struct server *s = arg;
	struct pt_exec_tuning t;

	/* Real time: on the CPU the in-period chains run on. */
	pt_exec_tuning_get(&t);
	if (t.chain_cpu)
		pt_rt_pin((int)t.chain_cpu - 1);
	for (;;) {
		uint64_t expiries = 0;

		if (read(s->timer_fd, &expiries, sizeof(expiries)) != sizeof(expiries) &&
		    errno != EINTR && errno != EAGAIN)
			break;
		pthread_mutex_lock(&s->lock);
		if (s->quit) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		if (expiries > MAX_CATCH_UP) {
			s->skipped += expiries - MAX_CATCH_UP;
			expiries = MAX_CATCH_UP;
		}
		for (uint64_t k = 0; k < expiries && pt_control_running(s->g) &&
				     !s->period_ret; k++)
			s->period_ret = pt_sched_period(s->sched);
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

static void stop_periods(struct server *s)
{
	struct itimerspec now = { .it_value = { 0, 1 } };

	if (!s->period_started)
		return;
	pthread_mutex_lock(&s->lock);
	s->quit = true;
	pthread_mutex_unlock(&s->lock);
	/* Wakes the period thread if the timer is stopped. */
	timerfd_settime(s->timer_fd, 0, &now, NULL);
	pthread_join(s->period_thread, NULL);
	s->period_started = false;
}

/* The control thread's loop: every step after poll runs under the lock. */
static int loop(struct server *s)
{
	for (;;) {
		struct pollfd p[3 + MAX_CLIENTS + PT_MAX_INSTANCES];
		size_t nc = s->nclients, nd = 0;
		struct pt_instance *inst;
		int r;

		pthread_mutex_lock(&s->lock);
		if (s->period_ret) {
			fprintf(stderr, "partita serve: period failed: %s\n",
				strerror(-s->period_ret));
			r = s->period_ret;
			pthread_mutex_unlock(&s->lock);
			return r;
		}
		check_events(s);
		p[0] = (struct pollfd){ .fd = s->signal_fd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
		/* Slot 2 unused: the timer is the period thread's. */
		p[2] = (struct pollfd){ .fd = -1 };
		for (size_t i = 0; i < nc; i++)
			p[3 + i] = (struct pollfd){ .fd = s->clients[i], .events = POLLIN };
		/* Every live domain's pidfd: a death is seen at once, even in a
		 * pipeline that is not running. */
		for (size_t i = 0; (inst = pt_graph_instance_at(s->g, i)); i++)
			if (inst->state != PT_INSTANCE_FAILED && pt_exec_pidfd(inst) >= 0)
				p[3 + nc + nd++] = (struct pollfd){ .fd = pt_exec_pidfd(inst),
								     .events = POLLIN };
		pthread_mutex_unlock(&s->lock);
		/* Notifications of what the periods counted go out at least
		 * every 20 ms while running. */
		r = poll(p, 3 + nc + nd, s->ticking ? 20 : -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (p[0].revents)
			return 0;
		pthread_mutex_lock(&s->lock);
		for (size_t i = 0; i < nd; i++)
			if (p[3 + nc + i].revents) {
				pt_sched_domains_died(s->sched);
				break;
			}
		/* Clients in reverse so dropping one does not skip another.
		 * One message per client per round: the lock is let go in
		 * between. */
		for (size_t i = nc; i-- > 0;)
			if (p[3 + i].revents) {
				s->in_client = true;
				serve_client(s, i);
				s->in_client = false;
				pthread_mutex_unlock(&s->lock);
				pthread_mutex_lock(&s->lock);
			}
		if (p[1].revents)
			accept_clients(s);
		r = pace(s);
		pthread_mutex_unlock(&s->lock);
		if (r)
			return r;
	}
}

int pt_cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "trust", required_argument, NULL, 't' },
		{ "require-signed", no_argument, NULL, 'r' },
		{ "user-heap", required_argument, NULL, 'u' },
		{ "period-us", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'R' },
		{ "trace", required_argument, NULL, 'T' },
		{ "client-idle", required_argument, NULL, 'I' },
		{ "rt-priority", required_argument, NULL, 'P' },
		{ "hang-ms", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pt_library_policy policy = { 0 };
	struct pt_graph_config cfg = { .period_us = 1000, .rate = 48000 };
	struct pt_topology topo = { 0 };
	struct server s = { .listen_fd = -1, .signal_fd = -1, .timer_fd = -1,
			    .client_idle_s = CLIENT_IDLE_S_DEFAULT };
	const char *socket_path = NULL, *topo_path = NULL, *trace_path = NULL;
	struct pt_trace *trace = NULL;
	size_t heap = 0;
	long period = 0, rate = 0, hang = 0, rt_priority = PT_RT_PRIORITY_DEFAULT;
	pthread_mutexattr_t ma;
	bool rt_set = false;
	int prio;
	char err[1024];
	sigset_t sigs;
	int c, ret = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			socket_path = optarg;
			break;
		case 't':
			if (pt_trust_load(&policy, optarg, err, sizeof(err)) < 0) {
				fprintf(stderr, "partita serve: --trust: %s\n", err);
				return 2;
			}
			break;
		case 'r':
			policy.require_signed = true;
			break;
		case 'u':
			if (pt_parse_size(optarg, &heap) || !heap) {
				fprintf(stderr, "partita serve: --user-heap: '%s' is not a size\n", optarg);
				return 2;
			}
			break;
		case 'p':
			period = strtol(optarg, NULL, 10);
			if (period < 100 || period > 1000000) {
				fprintf(stderr, "partita serve: --period-us: '%s' is outside 100..1000000\n", optarg);
				return 2;
			}
			break;
		case 'R':
			rate = strtol(optarg, NULL, 10);
			if (rate < PT_RATE_MIN || rate > PT_RATE_MAX) {
				fprintf(stderr, "partita serve: --rate: '%s' is outside %d..%d\n",
					optarg, PT_RATE_MIN, PT_RATE_MAX);
				return 2;
			}
			break;
		case 'T':
			trace_path = optarg;
			break;
		case 'I': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || end == optarg || v < 0 || v > 86400) {
				fprintf(stderr, "partita serve: --client-idle: '%s' is outside 0..86400\n",
					optarg);
				return 2;
			}
			s.client_idle_s = (unsigned)v;
			break;
		}
		case 'P':
			rt_set = true;
			rt_priority = strtol(optarg, NULL, 10);
			if (rt_priority < 0 || rt_priority > PT_RT_PRIORITY_MAX) {
				fprintf(stderr, "partita serve: --rt-priority: '%s' is outside 0..%d\n",
					optarg, PT_RT_PRIORITY_MAX);
				return 2;
			}
			break;
		case 'H':
			hang = strtol(optarg, NULL, 10);
			if (hang < 1 || hang > (long)PT_HANG_MS_MAX) {
				fprintf(stderr, "partita serve: --hang-ms: '%s' is outside 1..%u\n",
					optarg, PT_HANG_MS_MAX);
				return 2;
			}
			cfg.hang_ms = (uint32_t)hang;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		topo_path = argv[optind++];
	if (!socket_path || optind < argc) {
		usage(stderr);
		return 2;
	}
	if (topo_path) {
		if (pt_topology_load(topo_path, &topo, err, sizeof(err))) {
			fprintf(stderr, "partita serve: %s\n", err);
			return 1;
		}
		if (topo.period_us)
			cfg.period_us = topo.period_us;
		if (topo.rate)
			cfg.rate = topo.rate;
		cfg.user_heap_size = topo.user_heap_size;
		cfg.domains_per_library = topo.domains_per_library;
		if (!rt_set && topo.rt_priority >= 0)
			rt_priority = topo.rt_priority;
	}
	if (period)
		cfg.period_us = (uint32_t)period;
	if (rate)
		cfg.rate = (uint32_t)rate;
	if (heap)
		cfg.user_heap_size = heap;
	s.period_us = cfg.period_us;

	/* Blocked before any thread exists, so every thread the graph and the
	 * scheduler start inherits the mask and the signalfd sees them all. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(&s.lock, &ma);
	pthread_mutexattr_destroy(&ma);
	/* Real time is granted (or not) before anything starts: the
	 * scheduler's workers and the period thread inherit this thread's
	 * class, domains start one priority below; this thread goes back to
	 * the ordinary class once they exist. */
	prio = pt_rt_enter((int)rt_priority, "serve");
	if (prio) {
		struct pt_exec_tuning t;

		pt_rt_lock_memory();
		pt_exec_tuning_get(&t);
		t.rt_priority = prio > 1 ? (uint32_t)prio - 1 : 1;
		t.chain_cpu = (uint32_t)(pt_rt_chain_cpu() + 1);
		pt_exec_tune(&t);
	}

	s.in = malloc(PT_CTL_MSG_MAX + 1);
	s.out = malloc(PT_CTL_MSG_MAX);
	s.g = pt_graph_new(&cfg, err, sizeof(err));
	if (!s.in || !s.out || !s.g) {
		fprintf(stderr, "partita serve: %s\n", s.g ? "out of memory" : err);
		goto out;
	}
	if (pt_control_set_policy(s.g, &policy)) {
		fprintf(stderr, "partita serve: out of memory\n");
		goto out;
	}
	if (topo_path && pt_topology_apply(&topo, s.g, err, sizeof(err))) {
		fprintf(stderr, "partita serve: %s\n", err);
		goto out;
	}
	s.sched = pt_sched_new(s.g, err, sizeof(err));
	if (!s.sched) {
		fprintf(stderr, "partita serve: %s\n", err);
		goto out;
	}
	if (trace_path) {
		trace = pt_trace_open(trace_path, err, sizeof(err));
		if (!trace) {
			fprintf(stderr, "partita serve: %s\n", err);
			goto out;
		}
		pt_sched_set_trace(s.sched, trace);
	}

	s.signal_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	s.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (s.signal_fd < 0 || s.timer_fd < 0) {
		fprintf(stderr, "partita serve: signalfd/timerfd: %s\n", strerror(errno));
		goto out;
	}
	s.listen_fd = listen_on(socket_path);
	if (s.listen_fd < 0)
		goto out;
	s.socket_path = socket_path;
	if (pace(&s))
		goto out;
	s.control_thread = pthread_self();
	pt_exec_set_unlock(unlock_for_domain, &s);
	if (pthread_create(&s.period_thread, NULL, periods, &s)) {
		fprintf(stderr, "partita serve: cannot start the period thread\n");
		goto out;
	}
	s.period_started = true;
	if (prio) {
		struct sched_param sp = { .sched_priority = 0 };

		pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp);
	}
	fprintf(stderr, "partita serve: listening on %s (period %u us%s)\n",
		socket_path, cfg.period_us, prio ? ", real-time" : "");
	ret = loop(&s) ? 1 : 0;
	stop_periods(&s);
	fprintf(stderr, "partita serve: %s after %llu periods", ret ? "stopped" : "exiting",
		s.sched ? (unsigned long long)pt_sched_periods(s.sched) : 0ULL);
	if (s.skipped)
		fprintf(stderr, " (%llu periods skipped: the host fell behind)",
			(unsigned long long)s.skipped);
	fputc('\n', stderr);
out:
	stop_periods(&s);
	pt_exec_set_unlock(NULL, NULL);
	while (s.nclients)
		drop_client(&s, s.nclients - 1);
	if (s.listen_fd >= 0) {
		close(s.listen_fd);
		unlink(socket_path);
	}
	if (s.timer_fd >= 0)
		close(s.timer_fd);
	if (s.signal_fd >= 0)
		close(s.signal_fd);
	if (s.sched)
		pt_sched_set_trace(s.sched, NULL);
	if (trace && pt_trace_close(trace)) {
		fprintf(stderr, "partita serve: writing trace '%s' failed\n", trace_path);
		ret = 1;
	}
	if (s.sched)
		pt_sched_free(s.sched);
	if (s.g) {
		pt_control_forget(s.g);
		pt_graph_free(s.g);
	}
	pt_topology_free(&topo);
	free(s.in);
	free(s.out);
	pthread_mutex_destroy(&s.lock);
	return ret;
}
