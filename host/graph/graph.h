/* SPDX-License-Identifier: MIT */
/*
 * host/graph - the audio graph the host owns: pipelines, module instances,
 * and the buffers that bind an output pin of one instance to an input pin
 * of another.
 *
 * Every change goes through a function here that validates all of its
 * arguments first and changes nothing when it fails; the error text names
 * what was wrong. The control plane (host/control) and the topology loader
 * reach the graph only through these calls, so a bad control message and a
 * bad topology are refused by the same checks.
 *
 * Threading: the graph is owned by one host thread (the one that runs the
 * periods and takes control messages). The scheduler's workers touch only
 * the views it hands them.
 */
#ifndef PT_HOST_GRAPH_H
#define PT_HOST_GRAPH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <partita/module.h>

#include "host/mm/budget.h"
#include "host/mm/partition.h"
#include "lib/abi/abi.h"

#define PT_ERR_MAX 256
#define PT_MAX_INSTANCES 256
#define PT_MAX_PIPELINES 64
#define PT_MAX_BUFFERS 512
#define PT_INIT_MAX (64 * 1024)     /* init blob bytes */
#define PT_CONFIG_MAX (256 * 1024)  /* one config blob */

enum pt_state { PT_STATE_RESET = 0, PT_STATE_PAUSED = 1, PT_STATE_RUNNING = 2 };
enum pt_isolation { PT_ISOLATION_NONE = 0, PT_ISOLATION_PROCESS = 1 };

/* Reads "process" or "none" (the words of --isolation) into *@iso: 0, or
 * -1 for any other word. */
static inline int pt_isolation_parse(const char *word, enum pt_isolation *iso)
{
	if (!strcmp(word, "process"))
		*iso = PT_ISOLATION_PROCESS;
	else if (!strcmp(word, "none"))
		*iso = PT_ISOLATION_NONE;
	else
		return -1;
	return 0;
}
enum pt_sched_kind { PT_SCHED_LL = 0, PT_SCHED_DP = 1 };
enum pt_on_fault { PT_ON_FAULT_SILENCE = 0, PT_ON_FAULT_BYPASS = 1 };
enum pt_restart { PT_RESTART_NEVER = 0, PT_RESTART_ON_FAILURE = 1 };

/* The life of an instance. */
enum pt_instance_state {
	PT_INSTANCE_INIT = 0, /* created, not prepared */
	PT_INSTANCE_PREPARED, /* pins final, ready to run */
	PT_INSTANCE_FAILED,   /* crashed, hung or lied; outputs carry silence */
};

struct pt_graph_config {
	uint32_t rate;           /* default stream rate of bindings, Hz */
	uint32_t period_us;      /* the period, default 1000 */
	size_t user_heap_size;   /* the budget; 0 = PT_USER_HEAP_SIZE_DEFAULT */
	bool offline;            /* file run: no pacing, deeper DP buffers */
	uint32_t dp_batch;       /* periods one DP request may carry; 0:
				    PT_DP_BATCH_OFFLINE offline, 1 live */
	uint32_t hang_ms;        /* default of instances' hang_ms; 0:
				    PT_HANG_MS_DEFAULT */
	bool domains_per_library; /* isolated instances without a named
				     domain share one per library (up to
				     PT_DOMAIN_MAX_INSTANCES each) */
	bool force_isolation;    /* every module instance but the endpoints */
	enum pt_isolation isolation; /* runs this way (partita run --isolation) */
};

/* Offline, a DP instance may process this many periods per request (one
 * wake for all of them; process is still called once per period), and the
 * scheduler runs as many LL passes per step. */
#define PT_DP_BATCH_OFFLINE 64u
#define PT_DP_BATCH_MAX 64u

/* A request of an isolated instance unanswered this long means the domain
 * hangs (JACK judges clients after 500 ms, Carla's bridges after 1 s); a
 * result merely later than its deadline is a miss, never a hang. */
#define PT_HANG_MS_DEFAULT 500u
#define PT_HANG_MS_MAX 60000u

/* What INIT_INSTANCE and a topology instance carry. Strings are copied. */
struct pt_instance_desc {
	uint32_t id;             /* caller-chosen, unique, nonzero */
	uint32_t pipeline;       /* id of an existing pipeline */
	const char *name;        /* unique, 1..PT_NAME_MAX-1 chars */
	const char *module;      /* built-in or endpoint module name, or NULL */
	const char *library;     /* path of a module library, or NULL */
	bool library_fd_set;     /* library_fd holds a checked snapshot */
	int library_fd;          /* pt_library_snapshot() of library; the graph
				    takes its own copy of the fd */
	enum pt_isolation isolation;
	bool isolation_set;      /* false: library modules default to process */
	enum pt_sched_kind sched;
	bool sched_set;          /* false: library and isolated default to DP */
	const char *domain;      /* named domain to share, or NULL: its own */
	uint32_t heap_size;      /* 0: manifest default, then build default */
	uint32_t stack_size;     /* 0: manifest default, then build default */
	uint32_t deadline_us;    /* 0: one period */
	uint32_t max_misses;     /* 0: no limit (late is not hung) */
	uint32_t hang_ms;        /* 0: the graph's default */
	uint32_t progress_periods; /* lag that fails it (progress.h); 0: default */
	enum pt_restart restart;
	uint32_t restart_limit;  /* 0: 3 */
	enum pt_on_fault on_fault;
	const void *init;        /* init blob (text parameters), may be NULL */
	size_t init_size;        /* <= PT_INIT_MAX */
	const void *init_payload; /* binary init payload (module ABI 2), or NULL */
	size_t init_payload_size; /* <= PT_INIT_MAX */
};

struct pt_instance_stats {
	uint64_t periods;        /* process calls that ran */
	uint64_t process_ns;     /* total time in process */
	uint64_t worst_ns;       /* slowest process call */
	uint64_t deadline_misses;
	uint64_t faults;
	uint64_t restarts;
	size_t heap_used;
	size_t heap_size;
	uint64_t fault_period;   /* period of the last fault */
	int fault_signal;        /* signal of the last fault, 0 if none */
	uint32_t latency_frames; /* the module's own (pt_mod_set_latency) */
	char fault_reason[64];   /* why the last fault happened */
	uint64_t dropped_frames; /* taken from its inputs while it lagged (progress.h) */
	uint64_t drops;          /* times that happened: counted as xruns */
};

/* How far each pin of an instance is behind what it was offered
 * (host/graph/progress.h). Pins packed in pin order. */
struct pt_progress {
	int64_t lag_in[PT_MAX_PINS], lag_out[PT_MAX_PINS];
	uint32_t periods;        /* the limit; 0: PT_PROGRESS_PERIODS_DEFAULT */
	bool endpoint;           /* paced by a file or device: not judged */
	bool starved;            /* waits on a lagging writer upstream */
	bool stalled;            /* found stalled, not yet failed */
	char why[64];
};

struct pt_buffer;
struct pt_instance;
struct pt_graph;
struct pt_instance_exec;

/* ---- buffers ------------------------------------------------------------- */

/* A circular buffer between two pins. Positions are free-running byte
 * counts in host memory; only the host moves them. */
struct pt_buffer {
	uint32_t id;
	struct pt_partition *part; /* its memory, granted to its two ends */
	uint8_t *data;             /* host mapping */
	size_t size;               /* bytes in use: a whole number of frames */
	uint32_t periods;          /* its depth in periods */
	uint64_t rd, wr;           /* free-running positions, rd <= wr <= rd + size */
	struct pt_format fmt;
	uint32_t frame;            /* bytes per frame */
	/* The binding's format: fmt is it until the writer's prepare sets the
	 * fields the binding left open (PT_FMT_OPEN_*); the buffer holds
	 * `frames` frames of fmt, its partition as many of the largest frame. */
	struct pt_format bind_fmt;
	uint8_t open_fields;
	uint32_t frames;
	/* What the reader's source and the writer's sink asked for at
	 * prepare (pt_source/sink_set_alignment), 0 when nothing. */
	uint32_t rd_byte_align, rd_frame_align;
	uint32_t wr_byte_align, wr_frame_align;
	struct pt_instance *src;   /* writer */
	unsigned src_pin;
	struct pt_instance *dst;   /* reader */
	unsigned dst_pin;
};

/* Returns the bytes written and not yet read. */
static inline size_t pt_buffer_fill(const struct pt_buffer *b)
{
	return (size_t)(b->wr - b->rd);
}

/* Returns the bytes that can be written. */
static inline size_t pt_buffer_room(const struct pt_buffer *b)
{
	return b->size - pt_buffer_fill(b);
}

/* Makes a source view of @b (what its reader may read now). */
void pt_buffer_source_view(const struct pt_buffer *b, struct pt_source *src);

/* Makes a sink view of @b (where its writer may write now). */
void pt_buffer_sink_view(const struct pt_buffer *b, struct pt_sink *sink);

/* A module instance as the host knows it. Everything here lives in host
 * memory; nothing is read back from memory a domain can write. The rooms
 * of the host (graph, sched, io, control, domain) share this struct. */
struct pt_instance {
	uint32_t id;
	uint32_t pipeline;
	char name[PT_NAME_MAX];
	struct pt_manifest manifest;           /* host's copy, validated */
	const struct pt_module_entry *entry;   /* in-process code; NULL if isolated */
	enum pt_isolation isolation;
	enum pt_sched_kind sched;
	char domain[PT_NAME_MAX];              /* named domain, "" = its own */
	char library[PATH_MAX];                 /* library path, "" for built-ins */
	int library_fd;                        /* its sealed snapshot, -1 for built-ins:
						  what was checked is what is loaded */
	uint32_t heap_size, stack_size, deadline_us, max_misses, restart_limit;
	uint32_t hang_ms;      /* a request unanswered this long: hung */
	enum pt_restart restart;
	enum pt_on_fault on_fault;
	void *init;                            /* host copy of the init blob */
	size_t init_size;
	void *config;                          /* config history, replayed on restart (history.h) */
	size_t config_size;
	void *init_payload;                    /* host copy of the binary init payload */
	size_t init_payload_size;
	uint32_t mode;                         /* enum pt_processing_mode the host set */
	bool host_bypass;                      /* the host does the bypass: the
						  module has no mode of its own */
	bool mode_pending;                     /* mode set before the module's init */
	bool started;                          /* triggered START since prepare */
	uint8_t told_in, told_out;             /* pins whose bind the module got */

	struct pt_buffer *in[PT_MAX_PINS];     /* by input pin, NULL if unbound */
	struct pt_buffer *out[PT_MAX_PINS];    /* by output pin */
	enum pt_instance_state state;
	struct pt_instance_stats stats;
	uint32_t consecutive_misses;
	struct pt_progress progress;

	/* In-process (trusted) execution. */
	struct pt_module mod;
	struct pt_partition *heap_part;        /* private heap (and stack) partition */
	void *dl;                              /* dlopen handle of a trusted library */
	char last_error[PT_ERR_MAX];           /* last error line the module logged */

	/* Isolated execution: owned by host/domain. */
	struct pt_instance_exec *exec;
	int domain_pid;
	/* The scheduler's request in flight (a late one is waited for, not
	 * resubmitted over), and when a failed instance restarts. */
	bool inflight;
	uint64_t inflight_tag;
	/* An isolated LL instance, a stage of in-period chains: its
	 * activation record (kept across restarts, so the domains feeding it
	 * keep their grant), the epoch of its last request, and the chain it
	 * was last dispatched in. */
	struct pt_partition *activation;
	uint16_t act_epoch;
	uint64_t chain_wave;
	uint64_t inflight_ns;    /* when the request in flight was submitted */
	uint64_t restart_at;     /* period number; 0: no restart planned */
};

/* ---- the graph ----------------------------------------------------------- */

/* Creates an empty graph. Returns NULL with @err set. */
struct pt_graph *pt_graph_new(const struct pt_graph_config *cfg, char *err,
			      size_t errlen);

/* Tears down every instance, buffer and pipeline, then the graph. */
void pt_graph_free(struct pt_graph *g);

/* Makes @entry creatable by its manifest name in @g, beside the built-ins
 * and endpoints (a host program's own trusted modules; tests). The entry
 * must outlive the graph. Returns 0 or -errno with @err set. */
int pt_graph_add_module(struct pt_graph *g, const struct pt_module_entry *entry,
			char *err, size_t errlen);

/* Returns the config in force (defaults filled in). */
const struct pt_graph_config *pt_graph_config(const struct pt_graph *g);

/* Returns the user heap budget everything is charged to. */
struct pt_budget *pt_graph_budget(struct pt_graph *g);

/* Default private heap and stack when neither topology nor manifest says. */
#define PT_HEAP_SIZE_DEFAULT (64u * 1024u)
#define PT_STACK_SIZE_DEFAULT (64u * 1024u)
/* Default depth of a buffer, in periods, live; offline it is twice the
 * DP batch. */
#define PT_BUFFER_PERIODS_DEFAULT 2u

/* Frames per period at @rate (rate * period_us / 1e6, at least 1). */
uint32_t pt_graph_period_frames(const struct pt_graph *g, uint32_t rate);

/* Each of these returns 0, or -errno with @err naming the bad field; on
 * error the graph is unchanged. */
int pt_graph_pipeline_create(struct pt_graph *g, uint32_t id, const char *name,
			     char *err, size_t errlen);
int pt_graph_pipeline_delete(struct pt_graph *g, uint32_t id, char *err,
			     size_t errlen);
int pt_graph_set_state(struct pt_graph *g, uint32_t pipeline, enum pt_state state,
		       char *err, size_t errlen);

int pt_graph_instance_create(struct pt_graph *g,
			     const struct pt_instance_desc *desc, char *err,
			     size_t errlen);
int pt_graph_instance_delete(struct pt_graph *g, uint32_t id, char *err,
			     size_t errlen);

/* Binds output @src_pin of @src to input @dst_pin of @dst with a buffer of
 * @fmt holding @periods periods (0: the default depth). */
int pt_graph_bind(struct pt_graph *g, uint32_t src, unsigned src_pin,
		  uint32_t dst, unsigned dst_pin, const struct pt_format *fmt,
		  uint32_t periods, char *err, size_t errlen);
/* As pt_graph_bind, the fields of @fmt named in @open_fields (PT_FMT_OPEN_*,
 * `format: auto` in a topology) left for the writer to set at prepare with
 * pt_sink_set_format; @fmt holds placeholders for them. */
int pt_graph_bind_open(struct pt_graph *g, uint32_t src, unsigned src_pin,
		       uint32_t dst, unsigned dst_pin, const struct pt_format *fmt,
		       unsigned open_fields, uint32_t periods, char *err,
		       size_t errlen);
int pt_graph_unbind(struct pt_graph *g, uint32_t src, unsigned src_pin,
		    uint32_t dst, unsigned dst_pin, char *err, size_t errlen);

/* LARGE_CONFIG_SET/GET on one instance. For get, *@size is the room at
 * @data on entry and the bytes written on return. */
int pt_graph_config_set(struct pt_graph *g, uint32_t id, uint32_t param,
			const void *data, size_t size, char *err, size_t errlen);
int pt_graph_config_get(struct pt_graph *g, uint32_t id, uint32_t param,
			void *data, size_t *size, char *err, size_t errlen);

/* Sets the processing mode (enum pt_processing_mode) of one instance: the
 * module's set_processing_mode when it has one and accepts, else the host
 * bypasses it (output pin i carries input pin i, silence where there is
 * none). Kept across restarts. Returns 0 or -errno with @err set. */
int pt_graph_set_mode(struct pt_graph *g, uint32_t id, uint32_t mode, char *err,
		      size_t errlen);

/* One period of host bypass of @inst on its packed views: output pin i gets
 * input pin i's frames when the formats match, silence otherwise; every
 * input gives up a period. */
void pt_instance_bypass(const struct pt_instance *inst,
			struct pt_source *const *src, unsigned nsrc,
			struct pt_sink *const *snk, unsigned nsnk);

/* ---- lookups and stats ---------------------------------------------------- */

struct pt_instance *pt_graph_instance(struct pt_graph *g, uint32_t id);
struct pt_instance *pt_graph_instance_by_name(struct pt_graph *g,
					      const char *name);
/* Returns the @i-th instance in creation order, or NULL past the last. */
struct pt_instance *pt_graph_instance_at(struct pt_graph *g, size_t i);

struct pt_instance_info {
	uint32_t id;
	uint32_t pipeline;
	char name[PT_NAME_MAX];
	char module[PT_NAME_MAX];
	enum pt_instance_state state;
	enum pt_isolation isolation;
	enum pt_sched_kind sched;
	int domain_pid;          /* 0 when trusted */
	struct pt_instance_stats stats;
};

/* Returns the id of the @i-th pipeline slot in use, or 0 past the last. */
uint32_t pt_graph_pipeline_at(const struct pt_graph *g, size_t i);

/* Returns the pipeline state of @pipeline, or -ENOENT. */
int pt_graph_pipeline_state(const struct pt_graph *g, uint32_t pipeline);

/* Returns the instances in dependency order (every writer of a buffer before
 * its reader); *@n gets the count. Valid until the next graph change. */
struct pt_instance *const *pt_graph_order(struct pt_graph *g, size_t *n);

/* Returns the @i-th buffer, or NULL past the last. */
struct pt_buffer *pt_graph_buffer_at(struct pt_graph *g, size_t i);

/* Bumped on every change of instances, bindings or states: a scheduler
 * rebuilds its plan when it moves. */
uint64_t pt_graph_generation(const struct pt_graph *g);

/* Starts a failed isolated instance again in a fresh domain: its init
 * blob, then its configuration replayed, then prepare. Returns 0 or -errno
 * with @err set (the instance stays failed). */
int pt_graph_instance_restart(struct pt_graph *g, struct pt_instance *inst,
			      char *err, size_t errlen);

/* Marks @inst failed with @reason (and @signal, 0 if none) at @period. */
void pt_instance_fail(struct pt_instance *inst, uint64_t period, int signal,
		      const char *reason);

/* Fills @info for @inst. */
void pt_instance_info(const struct pt_instance *inst,
		      struct pt_instance_info *info);

/* Returns the name of a state/isolation/sched value for tables. */
const char *pt_instance_state_name(enum pt_instance_state s);
const char *pt_state_name(enum pt_state s);

#endif /* PT_HOST_GRAPH_H */
