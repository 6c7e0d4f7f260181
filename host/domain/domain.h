/* SPDX-License-Identifier: MIT */
/*
 * host/domain/domain.h - one domain process as the host sees it: spawn,
 * supervision, the control socket, the rings and the grants it holds.
 * Internal to host/domain; the rest of the host uses exec.h.
 */
#ifndef PT_HOST_DOMAIN_DOMAIN_H
#define PT_HOST_DOMAIN_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "host/domain/exec.h"
#include "host/mm/partition.h"
#include "lib/domain/protocol.h"
#include "lib/ring/ring.h"

struct pt_instance;

struct pt_domain_grant {
	struct pt_partition *part; /* one holder reference, put when the domain ends */
	bool writable;
};

struct pt_domain {
	char name[PT_NAME_MAX];  /* "" for an instance's own domain */
	pid_t pid;
	int pidfd;
	int sock;                /* host end of the control socket */
	int log_fd;              /* read end of the log pipe, non-blocking */
	struct pt_partition *rings;
	struct pt_ring ring;
	bool dead;               /* unusable: exited, killed, or broke off */
	bool reaped;             /* the process is gone (waited for) */
	int signal;              /* signal that killed it, 0 if it exited */
	int exit_status;
	bool sealed;             /* an instance was initialised in it */
	bool queued;             /* SQ entries not yet published */
	bool queued_wake;        /* ... one of which needs the domain woken */
	uint64_t seq;
	uint64_t start_ns;
	uint32_t domain_futex_calls; /* as the domain last reported */
	struct pt_instance *member[PT_DOMAIN_MAX_INSTANCES];
	unsigned members;
	struct pt_domain_grant *grants;
	unsigned ngrants, grants_cap;
	bool plugins;              /* reads plugin files: inits run before its seal */
	bool seal_checked;         /* a plugin domain's seal seen in force */
	bool plugin_sealed;        /* a plugin domain answered the START that seals it */
	unsigned control_busy;     /* a config request waits for its reply with
				      the graph's lock let go (exec.h) */
	unsigned loads_open;       /* library loads whose bounds are in force */
	size_t load_base;          /* VmData when the first of them began */
	size_t load_charged;       /* their allowances, charged */
	unsigned long long as_saved; /* RLIMIT_AS soft before them */
	struct pt_budget *budget;  /* what data_charged was charged to */
	size_t data_charged;       /* memory its library loads added (host/domain/data.c) */
	char last_log[256];
	char log_recent[4][256]; /* the last lines, line n at n % 4 */
	unsigned log_lines;      /* lines read from the pipe so far */
	unsigned log_mark;       /* log_lines when the current request began */
	char log_part[256];      /* an unfinished line from the pipe */
	size_t log_part_len;
	struct pt_domain *next;
};

/* A config blob set before a deferred init, applied right after it. */
struct pt_exec_pending_config {
	struct pt_exec_pending_config *next;
	uint32_t param;
	size_t size;
	uint8_t data[];
};

/* One load in progress (its charge is the domain's, settled when the last
 * open load of the domain ends). */
struct pt_domain_load {
	bool open;
};

/* What the host keeps about an instance that runs in a domain
 * (inst->exec). Host memory only. */
struct pt_instance_exec {
	struct pt_domain *dom;
	struct pt_partition *priv;     /* host's reference */
	uint64_t heap_addr;
	size_t heap_size;
	size_t heap_used;
	uint32_t latency_frames;       /* as the last completion said */
	uint32_t period_frames;
	bool inited;
	bool init_pending;             /* named domain: init at first prepare */
	struct pt_exec_pending_config *pending; /* config set before that init */
	struct pt_domain_load load;    /* a plugin domain's load, until it seals */
	bool prepared;
	bool chained;                  /* a CHAIN request was sent */
	struct pt_budget *budget;
	unsigned nsrc, nsnk;
	uint32_t src_size[PT_MAX_PINS], snk_size[PT_MAX_PINS];
	uint32_t src_frame[PT_MAX_PINS], snk_frame[PT_MAX_PINS];
	/* the request in flight */
	bool inflight, done;
	uint64_t tag;
	unsigned periods_asked, periods_run;
	int32_t result;
	uint32_t avail[PT_MAX_PINS], room[PT_MAX_PINS];
	uint32_t consumed[PT_MAX_PINS], produced[PT_MAX_PINS];
	char why[96];                  /* set when the completion was malformed */
};

/* Starts a domain; @budget pays for its control partition. */
struct pt_domain *pt_domain_spawn(struct pt_budget *budget, const char *name,
				  char *err, size_t errlen);

/* The same, with files the domain may read besides the library folders
 * (absolute paths, at most 16): a plugin adapter's folders or library.
 * The domain's inits then run before its seal (docs/plugins.md). */
struct pt_domain *pt_domain_spawn_reading(struct pt_budget *budget, const char *name,
					  const char *const *read_paths,
					  unsigned nread, char *err, size_t errlen);

/* Finds a live named domain. */
struct pt_domain *pt_domain_find(const char *name);

/* Kills (if alive), reaps, puts every grant and frees @d. */
void pt_domain_release(struct pt_domain *d);

/* Sends control message @op for @instance with @body then @data (and
 * @fds), wakes the domain, and waits up to @timeout_ms for the reply.
 * Returns the domain's result (0 or -errno, with its text in @err), or
 * -EPIPE if it died (err says how), -ETIMEDOUT, -EPROTO. Reply data (at
 * most *@rlen bytes) is copied to @rdata and *@rlen set. */
int pt_domain_control(struct pt_domain *d, uint32_t op, uint32_t instance,
		      const void *body, size_t blen, const void *data,
		      size_t dlen, const int *fds, unsigned nfds,
		      struct pt_dctl_reply *reply, void *rdata, size_t *rlen,
		      int timeout_ms, char *err, size_t errlen);

/* Records that @d may hold @p until it ends (one more holder). */
int pt_domain_hold(struct pt_domain *d, struct pt_partition *p, bool writable);

/* Memory a library load may add beyond the partitions (host/domain/data.c):
 * its writable segments, what its dependencies and constructors map, up to
 * this much more; in a plugin adapter's domain, whose init and prepare load
 * the plugin and its dependencies before the seal, PT_DOMAIN_PLUGIN_SLACK
 * more (the load's bounds last until its first PROCESS, when it seals). */
#define PT_DOMAIN_LOAD_SLACK (1024u * 1024u)
#define PT_DOMAIN_PLUGIN_SLACK (8u << 20)


/* Before a LOAD: charges the allowance for library @libfd (named @who) to
 * @budget and raises @d's RLIMIT_DATA by it, bounds its address space.
 * @partition is the size of the private partition the load maps. Returns 0,
 * -ENOMEM (budget) or -errno, with @err. */
int pt_domain_load_begin(struct pt_domain *d, struct pt_budget *budget, int libfd,
			 size_t partition, const char *who, struct pt_domain_load *ld,
			 char *err, size_t errlen);
/* While a load's bounds are in force, makes room in @d's address space for
 * a partition of @bytes about to be granted. */
void pt_domain_room_for(struct pt_domain *d, size_t bytes);

/* After it, whatever its outcome: the limit comes down to what @d holds,
 * which stays charged until @d is released; the rest is given back.
 * Returns -ENOMEM, with @err, if @d holds more than the allowance (it got
 * round the limit: the load must fail and the domain go). */
int pt_domain_load_end(struct pt_domain *d, struct pt_domain_load *ld, char *err,
		       size_t errlen);

/* Checks that the seccomp filters in force in @d are exactly the domain's
 * own: the load stage's, and the run stage's once @sealed. Returns 0, or
 * -EPERM with @err (module code installed one, or the seal was skipped:
 * the domain must go). */
int pt_domain_check_filters(struct pt_domain *d, bool sealed, char *err, size_t errlen);

/* Grants @p to @d (read-only or writable) once; 0 or -errno. */
int pt_domain_grant(struct pt_domain *d, struct pt_partition *p, bool writable,
		    char *err, size_t errlen);

/* Kills @d and waits until it is gone. */
void pt_domain_kill(struct pt_domain *d);

/* Checks whether @d died (non-blocking); returns true if dead. */
bool pt_domain_poll_death(struct pt_domain *d);

/* Reads what the domain logged so far into last_log. */
void pt_domain_drain_log(struct pt_domain *d);
/* True when the domains' lines are said as they come (pt_exec_set_log). */
bool pt_domain_log_said(void);

/* Describes how @d ended into @buf ("killed by SIGSYS", "exited with 2"). */
void pt_domain_describe_death(const struct pt_domain *d, char *buf, size_t len);

/* Copies out every completion @d published and hands each to its
 * instance (host/domain/exec.c). 0, or -EPROTO if @d broke the protocol. */
int pt_domain_drain_completions(struct pt_domain *d);

/* All domains, for pt_exec_flush. */
struct pt_domain *pt_domain_first(void);

uint64_t pt_mono_ns(void);

/* The spin settings in force (defaults, or pt_exec_tune's). */
const struct pt_exec_tuning *pt_domain_tuning(void);
void pt_domain_set_tuning(const struct pt_exec_tuning *t);

#endif
