/* SPDX-License-Identifier: MIT */
/*
 * host/domain - running module instances in domains.
 *
 * A domain is a partita-domain process (see domain/) the host starts with
 * posix_spawn and supervises through a pidfd. An untrusted instance lives
 * in its own domain, or in a named one it shares with others. The host
 * grants each domain exactly the partitions it needs: the instance's
 * private heap and stack partition, its control partition (rings), and
 * every buffer its pins are bound to, read-only for inputs and writable for
 * outputs. Per period the scheduler queues PROCESS with pt_exec_submit,
 * publishes with pt_exec_flush (one wake per domain at most) and collects
 * with pt_exec_reap, which validates what the domain claims before the
 * scheduler commits anything.
 *
 * Threading: every call for the instances of one domain comes from one
 * thread at a time (the graph's thread). Create instances from a thread
 * that lives as long as the host: a domain's death signal
 * (PR_SET_PDEATHSIG) follows the thread that spawned it.
 */
#ifndef PT_HOST_DOMAIN_EXEC_H
#define PT_HOST_DOMAIN_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "host/graph/graph.h"
#include "host/mm/budget.h"

/* Build defaults when neither the topology nor the manifest sizes them. */
#define PT_EXEC_DEFAULT_HEAP_SIZE (256u * 1024u)
/* Added to every private heap in a domain: the library is loaded with
 * malloc routed to the instance's heap, so the dynamic loader's records of
 * it (and of its dependencies) are the instance's, on top of what the
 * module itself asks for (its manifest's or the topology's heap_size). */
#define PT_EXEC_LOADER_HEAP (32u * 1024u)
#define PT_EXEC_DEFAULT_STACK_SIZE (64u * 1024u)
/* The loader and the constructors run on the instance's stack too: a
 * smaller stack_size is raised to this. */
#define PT_EXEC_MIN_STACK_SIZE (32u * 1024u)

/* Starts the instance's domain (or joins its named domain: inst->domain),
 * grants its private heap+stack partition, loads inst->library from an fd
 * inside the confined domain, runs the module's init with inst->init (in a
 * named domain init runs at the first pt_exec_prepare, so that every member
 * is loaded before the domain seals: a named domain's members are created
 * together before any is prepared, and restarted together the same way).
 * Charges the budget. 0 or -errno with @err naming what failed
 * ("library pt_x.so: constructor was stopped: ..."). */
int pt_exec_create(struct pt_budget *budget, struct pt_instance *inst,
		   uint32_t period_frames, char *err, size_t errlen);

/* Finds the shared-object build of the shipped module @name
 * (modules/pt_NAME.so beside the running executable or one folder up), so a
 * built-in module can be run in a domain: 0 with @path set, -ENOENT, or
 * -EINVAL for a name that is not an identifier. */
int pt_exec_module_library(const char *name, char *path, size_t len);

/* Grants the instance's bound buffers (inputs read-only, outputs writable)
 * and calls prepare with their formats. */
int pt_exec_prepare(struct pt_instance *inst, char *err, size_t errlen);

/* As pt_exec_prepare, with the packed views the graph made for prepare
 * (either may be NULL when there are no such pins): the sinks' in_prepare,
 * open_fields and capacity say what the module may set. On success the
 * views hold what the module chose (sink formats and sizes, alignment),
 * checked against what each binding allows. */
int pt_exec_prepare_views(struct pt_instance *inst, struct pt_source *src,
			  struct pt_sink *snk, char *err, size_t errlen);

/* Module ABI version 2 in the instance's domain: bind (@bind true) or
 * unbind for @pin, a trigger (enum pt_trigger), and the processing mode.
 * pt_exec_mode returns the module's answer: 0 when it does the mode
 * itself, -ENOTSUP when it has none (the host bypasses), another -errno
 * when it refused (or the domain failed). */
int pt_exec_pin(struct pt_instance *inst, const struct pt_pin_info *pin,
		bool bind, char *err, size_t errlen);
int pt_exec_trigger(struct pt_instance *inst, uint32_t cmd, char *err,
		    size_t errlen);
int pt_exec_mode(struct pt_instance *inst, uint32_t mode, char *err,
		 size_t errlen);

/* True while the instance's init waits for its named domain's first
 * prepare: bind calls wait for it too. */
bool pt_exec_init_pending(const struct pt_instance *inst);

/* Runs the pending inits of the instance's named domain (every member is
 * loaded by the time its pipeline is prepared); pt_exec_prepare does it
 * too. 0 or -errno with @err set. */
int pt_exec_init_members(struct pt_instance *inst, char *err, size_t errlen);

/* Before a deferred init (named domain) the blob is kept and given right
 * after the init; the module's answer then comes from pt_exec_prepare. */
int pt_exec_config_set(struct pt_instance *inst, uint32_t param, const void *d,
		       size_t n, char *err, size_t errlen);
/* On entry *@n is the room at @d; on success the bytes written. */
int pt_exec_config_get(struct pt_instance *inst, uint32_t param, void *d,
		       size_t *n, char *err, size_t errlen);
int pt_exec_reset(struct pt_instance *inst, char *err, size_t errlen);

/* Frees the instance; its domain exits when it has no instance left. */
void pt_exec_destroy(struct pt_instance *inst);

/* Queues a PROCESS request with the views' offsets and avail/free (nothing
 * is published until pt_exec_flush). @src/@snk are packed in pin order, as
 * for prepare. Returns 0, -EBUSY if a request is in flight, -EPIPE if the
 * domain is dead, -EINVAL if the views do not match the prepared pins. */
int pt_exec_submit(struct pt_instance *inst, const struct pt_source *src,
		   unsigned nsrc, const struct pt_sink *snk, unsigned nsnk,
		   uint64_t tag);

/* Offline batching: like pt_exec_submit, but the domain runs up to
 * @periods (1..64) periods in this one request, calling process once per
 * period, each call seeing the buffers as the previous one left them, and
 * stopping early when the module is not ready; output never depends on the
 * batching. Reap returns the sums; pt_exec_periods_run says how many ran. */
int pt_exec_submit_batch(struct pt_instance *inst, const struct pt_source *src,
			 unsigned nsrc, const struct pt_sink *snk, unsigned nsnk,
			 unsigned periods, uint64_t tag);

/* In-period chains (lib/domain/protocol.h): queues a CHAIN request for
 * one period of an isolated LL instance whose activation record the
 * caller set to (@epoch, pending) first. The domain waits for the record,
 * runs, completes, then notifies the records of @notify (each at its
 * act_epoch). @wake: the domain is woken on publish (a first stage);
 * else only its feeding stages wake it. Reap as for PROCESS; -ECANCELED
 * when its chain did not reach it by @deadline_ns (it did not run). */
int pt_exec_submit_chain(struct pt_instance *inst, const struct pt_source *src,
			 unsigned nsrc, const struct pt_sink *snk, unsigned nsnk,
			 uint64_t tag, uint16_t epoch, uint64_t deadline_ns,
			 struct pt_instance *const *notify, unsigned nnotify, bool wake);

/* Cancels the instance's CHAIN request of this epoch (past its deadline):
 * its domain, woken, completes it with -ECANCELED if it has not run. */
void pt_exec_chain_cancel(struct pt_instance *inst);

/* Periods the last reaped request ran (1 unless batched). */
unsigned pt_exec_periods_run(struct pt_instance *inst);

/* Publishes every queued request: one wake per domain at most. */
void pt_exec_flush(void);

/* Waits (until @deadline_ns, CLOCK_MONOTONIC absolute) for the completion
 * of @tag. Returns 0 with consumed[]/produced[] (per packed pin) checked
 * against what was available/free, -ETIMEDOUT at the deadline (the request
 * stays in flight), -EPIPE when the domain died (*@signal set, 0 if it
 * exited), -EPROTO when the domain lied (@why says how; the domain is
 * killed, as it is when a control reply lies or times out), -EIO when the
 * module's process returned an error (@why has it; consumed[]/produced[]
 * then hold the counts of the calls of the batch before the failed one). */
int pt_exec_reap(struct pt_instance *inst, uint64_t tag, uint64_t deadline_ns,
		 size_t *consumed, size_t *produced, int *signal, char *why,
		 size_t whylen);

/* Kills the instance's domain (hang handling); every member fails. */
int pt_exec_kill(struct pt_instance *inst);

/* Bytes of the instance's heap in its domain: what it asked for plus the
 * room the loader takes, page-rounded. */
size_t pt_exec_heap_size(struct pt_instance *inst);

/* Heap bytes in use as the domain last reported (bounded by the heap). */
size_t pt_exec_heap_used(struct pt_instance *inst);

/* The module's latency in frames (pt_mod_set_latency) as its domain last
 * reported it with a completion (checked against PT_DOP_LATENCY_MAX). */
uint32_t pt_exec_latency(struct pt_instance *inst);

/* Returns true when the instance's domain has died, with @signal (0 if it
 * exited) and @why saying how; false while it lives. Does not block. */
bool pt_exec_dead(struct pt_instance *inst, int *signal, char *why,
		  size_t whylen);

/* The domain's pidfd, readable when it dies (for the host's event loop);
 * -1 if the instance has no domain. */
int pt_exec_pidfd(struct pt_instance *inst);

/* How both sides wait on the rings. Spinning saves the futex syscalls when
 * the other side answers quickly and costs a core while it lasts: on a
 * machine with fewer cores than busy domains, spin less. */
struct pt_exec_tuning {
	uint32_t host_spin_us;   /* reap spins this long */
	uint32_t domain_spin_us; /* a domain spins this long for its next
				    request (domains started afterwards) */
	/* Domains started afterwards run their request loop at SCHED_FIFO
	 * at this priority (0: the ordinary class; where the host may not
	 * grant it, one warning and the ordinary class), bounded by
	 * RLIMIT_RTTIME: a domain that runs rt_limit_ms of CPU without
	 * blocking gets SIGXCPU (SIGKILL 100 ms later) and counts as hung. */
	uint32_t rt_priority;    /* 0..98 */
	uint32_t rt_limit_ms;    /* 0: PT_EXEC_RT_LIMIT_MS_DEFAULT; ..60000 */
	/* The domains of in-period chain stages run on this CPU plus one
	 * (0: anywhere). A chain runs one stage after another anyway; on one
	 * CPU each wake is a local switch instead of an inter-processor
	 * interrupt and an idle exit (2.5x less CPU for a chain of 16 on a
	 * two-core VM). The host's period thread belongs there too; hosts
	 * take the CPU they start on (host/sched/rt.h). */
	uint32_t chain_cpu;
};
#define PT_EXEC_RT_LIMIT_MS_DEFAULT 200u
/* Defaults: 50 and 20 us with 4 or more CPUs online, else 0 and 0 (on two
 * shared cores spinning cost the isolated chain 2-3x its wall time). Each
 * at most 1000. Real time is off until a live host asks for it. */

/* Copies the tuning in force to @t. */
void pt_exec_tuning_get(struct pt_exec_tuning *t);

/* Sets the tuning; returns -EINVAL (and changes nothing) when out of range. */
int pt_exec_tune(const struct pt_exec_tuning *t);

/* ---- inspection (tests, `partita domains`, benchmarks) ---- */

/* The address of the instance's private heap inside its domain. */
uint64_t pt_exec_heap_addr(struct pt_instance *inst);

/* Nanoseconds the instance's domain took from spawn until it was confined
 * and serving; 0 if it joined an existing domain. */
uint64_t pt_exec_start_ns(struct pt_instance *inst);

/* Memory of the instance's domain, read from /proc/PID/smaps: resident
 * KiB in total, in partitions (heap, rings, buffers) and elsewhere (code,
 * libc, the domain's own data); of the latter, its proportional share and
 * what is private to it (most of libc's resident text is shared with every
 * other process). Returns 0 or -errno. */
struct pt_domain_memory {
	size_t rss_kib;
	size_t partition_kib;
	size_t other_kib;       /* rss beyond the partitions */
	size_t other_pss_kib;   /* ... shared pages divided among their users */
	size_t other_private_kib; /* ... pages only this domain holds */
};
int pt_exec_domain_memory(struct pt_instance *inst, struct pt_domain_memory *m);

/* Futex syscalls made on the instance's domain's rings so far, by the host
 * and (as the domain reports it) by the domain: the signalling cost. */
uint64_t pt_exec_futex_calls(struct pt_instance *inst);

/* Where domains' log lines go: module pt_log lines ("INSTANCE: [LEVEL]
 * text"), stray stderr output, and lockdown reports. Lines are read when
 * the host talks to a domain (control requests, a death) and by
 * pt_exec_drain_logs; none without a callback (then only the last line of
 * each domain is kept, see pt_exec_last_log). The text is printable ASCII. */
typedef void (*pt_exec_log_fn)(void *ctx, pid_t domain, const char *line);
void pt_exec_set_log(pt_exec_log_fn fn, void *ctx);
/* The @ctx the callback was set with. */
void *pt_exec_log_ctx(void);

/* A host whose graph lock is shared by a period thread (partita serve)
 * lets it go while a config set or get waits for a domain's reply longer
 * than 2 ms (a quick answer is waited for with the lock held), so a
 * module that takes long, spins or floods in set_config/get_config holds
 * back no other pipeline. @fn(ctx, false) lets the lock go and returns
 * true if it did (it is asked on every thread; only the thread that holds
 * the lock for control says yes), @fn(ctx, true) takes it again. While it
 * waits the domain is busy: the scheduler still sends it requests (it runs
 * them after the reply) but neither judges it hung or dead, nor kills,
 * fails or restarts its instances, until the reply came or the request
 * timed out (the domain is then ended, and its instances fail in the next
 * period, their reason naming the request). */
typedef bool (*pt_exec_unlock_fn)(void *ctx, bool relock);
void pt_exec_set_unlock(pt_exec_unlock_fn fn, void *ctx);
/* True while a config request of the control thread waits on the
 * instance's domain with the lock let go. */
bool pt_exec_control_busy(const struct pt_instance *inst);

/* Reads what every domain has logged so far (one read per domain: call it
 * from the event loop or every so many periods, not every period). */
void pt_exec_drain_logs(void);

/* Lines the domain logged (module pt_log, lockdown reports), drained from
 * its log pipe; returns the last line seen, "" if none. */
const char *pt_exec_last_log(struct pt_instance *inst);

/* The instance's private heap+stack partition and its domain's control
 * partition (rings), NULL when it has no domain. */
struct pt_partition *pt_exec_private_partition(struct pt_instance *inst);
struct pt_partition *pt_exec_rings_partition(struct pt_instance *inst);

/* How a process maps a partition, read from /proc/PID/maps. */
enum pt_access { PT_ACCESS_NONE = 0, PT_ACCESS_READ = 1, PT_ACCESS_WRITE = 2 };

/* Returns the strongest access @pid has to @p through a mapping, or
 * -errno when its maps cannot be read. */
int pt_access_of(pid_t pid, const struct pt_partition *p);

/* Returns the name of @a: "-", "ro", "rw". */
const char *pt_access_name(int a);

#endif /* PT_HOST_DOMAIN_EXEC_H */
