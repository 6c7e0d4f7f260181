/* SPDX-License-Identifier: MIT */
/*
 * partita/control.h - the control protocol, version 1.
 *
 * Binary messages modelled on the firmware's IPC4, carried one per datagram
 * over a Unix SEQPACKET socket (`partita serve --socket PATH`). A host
 * program, `partita ctl` and the topology loader all speak it; the host
 * validates every message completely before it changes anything.
 *
 * Wire rules:
 *  - Every field is fixed-size and little-endian. The structs below are the
 *    exact layout (no implicit padding: the sizes are asserted); a sender on
 *    a big-endian machine must byte-swap, pt_ctl_encode() does.
 *  - A message is a header followed by the body of its type, then (for a
 *    few types) variable bytes whose lengths the body states. header.size
 *    counts all of it and must equal the datagram's length.
 *  - Reserved fields and reserved flag bits are zero; a message with any
 *    of them set is refused (so they can gain a meaning later).
 *  - Names (pipelines, instances, modules, domains) are NUL-terminated
 *    inside their PT_NAME_MAX field, 1..31 bytes of [A-Za-z0-9_.-].
 *  - Each request gets exactly one reply with the same type and seq, the
 *    PT_CTL_FLAG_REPLY flag and a status. A failed request's reply carries
 *    a NUL-terminated text naming the field that was wrong, and the host is
 *    exactly as before the request.
 *  - The host also sends notifications (PT_CTL_FLAG_NOTIFY, seq 0) to every
 *    connected client: a module fault, a deadline miss, a restart.
 */
#ifndef PARTITA_CONTROL_H
#define PARTITA_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include <partita/module.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PT_CTL_VERSION 1

/* Largest datagram either side sends. An init blob (64 KiB at most) fits in
 * one INIT_INSTANCE; config blobs larger than PT_CTL_FRAGMENT_MAX travel in
 * fragments. */
#define PT_CTL_MSG_MAX (72 * 1024)
#define PT_CTL_FRAGMENT_MAX (32 * 1024)
#define PT_CTL_INIT_MAX (64 * 1024)      /* init blob bytes */
#define PT_CTL_CONFIG_MAX (256 * 1024)   /* one whole config blob */
#define PT_CTL_PATH_MAX 255              /* library path bytes */
#define PT_CTL_ERR_MAX 256               /* error text, NUL included */

/* Limits of the instance fields (INIT_INSTANCE and topology files). */
#define PT_CTL_HEAP_MAX (256u << 20)     /* heap_size */
#define PT_CTL_STACK_MIN (16u << 10)     /* stack_size, when not 0 */
#define PT_CTL_STACK_MAX (8u << 20)
#define PT_CTL_DEADLINE_MAX 1000000u     /* deadline_us: one second */
#define PT_CTL_MISSES_MAX 1000u          /* max_misses */
#define PT_CTL_HANG_MAX 60000u           /* hang_ms: one minute */
#define PT_CTL_PROGRESS_MIN 2u           /* progress_periods, when not 0 */
#define PT_CTL_PROGRESS_MAX 1000000u     /* progress_periods */
#define PT_CTL_RESTART_MAX 100u          /* restart_limit */
#define PT_CTL_PERIODS_MAX 64u           /* bind: buffer depth in periods */

enum pt_ctl_type {
	PT_CTL_CREATE_PIPELINE = 1,
	PT_CTL_DELETE_PIPELINE = 2,
	PT_CTL_INIT_INSTANCE = 3,
	PT_CTL_DELETE_INSTANCE = 4,
	PT_CTL_BIND = 5,
	PT_CTL_UNBIND = 6,
	PT_CTL_SET_PIPELINE_STATE = 7,
	PT_CTL_LARGE_CONFIG_SET = 8,
	PT_CTL_LARGE_CONFIG_GET = 9,
	PT_CTL_LOAD_LIBRARY = 10,
	PT_CTL_GET_STATS = 11,
	PT_CTL_LOOKUP = 12,
	PT_CTL_SET_MODE = 13,
	/* Notifications: host to client only. */
	PT_CTL_NOTIFY_FAULT = 0x100,
	PT_CTL_NOTIFY_DEADLINE_MISS = 0x101,
	PT_CTL_NOTIFY_RESTART = 0x102,
};

#define PT_CTL_FLAG_REPLY (1u << 0)   /* a reply to the request with this seq */
#define PT_CTL_FLAG_NOTIFY (1u << 1)  /* an unsolicited notification */

/*
 * Status codes, the complete list. A reply's status is one of these; a
 * request's is 0.
 *   OK            done
 *   TRUNCATED     the datagram is shorter than its header, its type's body
 *                 or the variable bytes the body announces
 *   OVERSIZED     longer than PT_CTL_MSG_MAX, than header.size, or than
 *                 its type allows (a fragment, an init blob, a path)
 *   UNKNOWN_TYPE  header.type is not a request type
 *   BAD_HEADER    bad flags, nonzero status in a request, size mismatch
 *   BAD_FIELD     a field is out of range or malformed (reserved bits set,
 *                 a name not terminated, an unknown enum value)
 *   UNKNOWN_ID    no pipeline / instance / binding with that id or name
 *   EXISTS        the id or name is already taken
 *   BUSY          not allowed in the current state (e.g. delete a running
 *                 pipeline, bind into a running one); also the one message
 *                 a client gets, with seq 0, when no client slot is free
 *                 ("too many clients: 16") before the host closes it
 *   NO_MEMORY     the user heap budget cannot hold it
 *   SEQUENCE      a config fragment out of order or without its first one
 *   LIBRARY       the module library was refused (not ELF, no manifest,
 *                 other ABI version, sizes not sane, unreadable)
 *   SIGNATURE     the library's signature is bad, or unsigned / signed by
 *                 an untrusted key while signatures are required
 *   MODULE        the module itself failed (init, set_config, get_config)
 *   NO_SPACE      a reply would not fit (LARGE_CONFIG_GET max_size)
 *   INTERNAL      the host could not do it for a reason of its own
 *   MODULE_ABI    the module answered outside its ABI: a positive result
 *                 (callbacks return 0 or a negative errno), or more config
 *                 bytes than it was given room for
 */
enum pt_ctl_status {
	PT_CTL_OK = 0,
	PT_CTL_E_TRUNCATED = 1,
	PT_CTL_E_OVERSIZED = 2,
	PT_CTL_E_UNKNOWN_TYPE = 3,
	PT_CTL_E_BAD_HEADER = 4,
	PT_CTL_E_BAD_FIELD = 5,
	PT_CTL_E_UNKNOWN_ID = 6,
	PT_CTL_E_EXISTS = 7,
	PT_CTL_E_BUSY = 8,
	PT_CTL_E_NO_MEMORY = 9,
	PT_CTL_E_SEQUENCE = 10,
	PT_CTL_E_LIBRARY = 11,
	PT_CTL_E_SIGNATURE = 12,
	PT_CTL_E_MODULE = 13,
	PT_CTL_E_NO_SPACE = 14,
	PT_CTL_E_INTERNAL = 15,
	PT_CTL_E_MODULE_ABI = 16,
};
#define PT_CTL_STATUS_COUNT 17

struct pt_ctl_header {
	uint16_t type;    /* enum pt_ctl_type */
	uint16_t flags;   /* PT_CTL_FLAG_* */
	uint32_t size;    /* bytes of the whole message, header included */
	uint32_t seq;     /* chosen by the requester, echoed in the reply */
	uint32_t status;  /* enum pt_ctl_status in replies, 0 in requests */
};

/* CREATE_PIPELINE. pipeline 0 asks the host to pick the lowest free id;
 * the reply body is a struct pt_ctl_id_reply. */
struct pt_ctl_create_pipeline {
	uint32_t pipeline;
	uint32_t reserved;
	char name[PT_NAME_MAX];
};

/* DELETE_PIPELINE. The pipeline must be in RESET and hold no instances. */
struct pt_ctl_delete_pipeline {
	uint32_t pipeline;
	uint32_t reserved;
};

enum pt_ctl_isolation {
	PT_CTL_ISOLATION_DEFAULT = 0, /* libraries: process; built-ins: none */
	PT_CTL_ISOLATION_NONE = 1,
	PT_CTL_ISOLATION_PROCESS = 2,
};

enum pt_ctl_sched {
	PT_CTL_SCHED_DEFAULT = 0, /* libraries and isolated: DP; else LL */
	PT_CTL_SCHED_LL = 1,
	PT_CTL_SCHED_DP = 2,
};

enum pt_ctl_restart { PT_CTL_RESTART_NEVER = 0, PT_CTL_RESTART_ON_FAILURE = 1 };
enum pt_ctl_on_fault { PT_CTL_ON_FAULT_SILENCE = 0, PT_CTL_ON_FAULT_BYPASS = 1 };

/*
 * INIT_INSTANCE, followed by library_len bytes of library path (no NUL)
 * and then init_size bytes of init blob (text parameters), then, when
 * flags has PT_CTL_INIT_FLAG_PAYLOAD, the rest of the message: the binary
 * init payload (module ABI version 2, pt_mod_init_payload), 1..
 * PT_CTL_INIT_MAX bytes. Exactly one of
 * module (a built-in, endpoint or loaded library's module name) and the
 * library path is given. instance 0 asks the host to pick the id; the
 * reply body is a struct pt_ctl_id_reply. Sizes of 0 mean the default.
 */
struct pt_ctl_init_instance {
	uint32_t instance;
	uint32_t pipeline;
	char name[PT_NAME_MAX];
	char module[PT_NAME_MAX];  /* "" when a library path follows */
	char domain[PT_NAME_MAX];  /* "" = a domain of its own */
	uint32_t heap_size;        /* 0 or 4096..PT_CTL_HEAP_MAX */
	uint32_t stack_size;       /* 0 or PT_CTL_STACK_MIN..PT_CTL_STACK_MAX */
	uint32_t deadline_us;      /* 0 (one period) .. PT_CTL_DEADLINE_MAX */
	uint32_t max_misses;       /* 0 (no limit) .. PT_CTL_MISSES_MAX: misses
				      in a row that fail the instance */
	uint32_t restart_limit;    /* 0 (3) .. PT_CTL_RESTART_MAX */
	uint8_t isolation;         /* enum pt_ctl_isolation */
	uint8_t sched;             /* enum pt_ctl_sched */
	uint8_t restart;           /* enum pt_ctl_restart */
	uint8_t on_fault;          /* enum pt_ctl_on_fault */
	uint16_t library_len;      /* 0..PT_CTL_PATH_MAX */
	uint16_t flags;            /* PT_CTL_INIT_FLAG_*; other bits reserved */
	uint32_t init_size;        /* 0..PT_CTL_INIT_MAX */
	uint32_t hang_ms;          /* 0 (the host's default) .. PT_CTL_HANG_MAX:
				      a request unanswered this long is a hang */
	uint32_t progress_periods; /* 0 (the default) or PT_CTL_PROGRESS_MIN..
				      PT_CTL_PROGRESS_MAX: periods of lag that
				      fail it (docs/architecture.md) */
};

/* INIT_INSTANCE carries a binary init payload after the init blob. */
#define PT_CTL_INIT_FLAG_PAYLOAD (1u << 0)

/* DELETE_INSTANCE. Its pipeline must be in RESET. */
struct pt_ctl_delete_instance {
	uint32_t instance;
	uint32_t reserved;
};

/* BIND: output pin src_pin of src feeds input pin dst_pin of dst through a
 * buffer of the given format holding `periods` periods (0: default). */
struct pt_ctl_bind {
	uint32_t src;
	uint32_t src_pin;          /* < PT_MAX_PINS */
	uint32_t dst;
	uint32_t dst_pin;          /* < PT_MAX_PINS */
	uint32_t rate;             /* PT_RATE_MIN..PT_RATE_MAX */
	uint16_t channels;         /* 1..PT_CHANNELS_MAX */
	uint16_t sample;           /* enum pt_sample_format */
	uint32_t periods;          /* 0..PT_CTL_PERIODS_MAX */
	uint32_t open;             /* PT_CTL_BIND_OPEN_*: fields the writer sets
				      at prepare (`format: auto`); the values
				      given for them are placeholders */
};

#define PT_CTL_BIND_OPEN_SAMPLE (1u << 0)
#define PT_CTL_BIND_OPEN_CHANNELS (1u << 1)

enum pt_ctl_mode { PT_CTL_MODE_NORMAL = 0, PT_CTL_MODE_BYPASS = 1 };

/* SET_MODE: the processing mode of an instance (module ABI version 2): the
 * module's own when it has one, else the host bypasses it. */
struct pt_ctl_set_mode {
	uint32_t instance;
	uint32_t mode;             /* enum pt_ctl_mode */
};

/* UNBIND: the binding from src.src_pin to dst.dst_pin. */
struct pt_ctl_unbind {
	uint32_t src;
	uint32_t src_pin;
	uint32_t dst;
	uint32_t dst_pin;
};

enum pt_ctl_state {
	PT_CTL_STATE_RESET = 0,
	PT_CTL_STATE_PAUSED = 1,
	PT_CTL_STATE_RUNNING = 2,
};

/* SET_PIPELINE_STATE. */
struct pt_ctl_set_pipeline_state {
	uint32_t pipeline;
	uint32_t state;            /* enum pt_ctl_state */
};

/*
 * LARGE_CONFIG_SET, followed by `size` bytes: the fragment of the blob at
 * [offset, offset + size) of a blob of total_size bytes. Fragments of one
 * blob are sent in order from offset 0; the blob is applied (and the
 * module's set_config called) when the last one arrives, and each earlier
 * fragment is acknowledged with OK. A fragment at offset 0 starts a new
 * blob and drops any unfinished one.
 */
struct pt_ctl_config_set {
	uint32_t instance;
	uint32_t param;            /* PT_PARAM_TEXT or the module's own id */
	uint32_t total_size;       /* 1..PT_CTL_CONFIG_MAX */
	uint32_t offset;           /* < total_size */
	uint32_t size;             /* 1..PT_CTL_FRAGMENT_MAX, offset+size <= total */
	uint32_t reserved;
};

/* LARGE_CONFIG_GET: asks for the bytes of the blob from offset on, at most
 * max_size of them. The reply body is a struct pt_ctl_config_get_reply then
 * the bytes; a blob larger than one reply is read with growing offsets. */
struct pt_ctl_config_get {
	uint32_t instance;
	uint32_t param;
	uint32_t offset;           /* < PT_CTL_CONFIG_MAX */
	uint32_t max_size;         /* 1..PT_CTL_FRAGMENT_MAX */
};

struct pt_ctl_config_get_reply {
	uint32_t total_size;       /* bytes of the whole blob */
	uint32_t offset;
	uint32_t size;             /* bytes that follow */
	uint32_t reserved;
};

/* LOAD_LIBRARY, followed by path_len bytes of an absolute path. The host
 * reads and checks the manifest (and the signature, by its policy) without
 * running the library, then knows its module by the manifest name, so an
 * INIT_INSTANCE can name it in `module`. The reply body is a struct
 * pt_ctl_library_reply. */
struct pt_ctl_load_library {
	uint16_t path_len;         /* 1..PT_CTL_PATH_MAX */
	uint16_t reserved;
	uint32_t reserved2;
};

enum pt_ctl_signature {
	PT_CTL_SIG_NONE = 0,       /* no LIB.sig */
	PT_CTL_SIG_TRUSTED = 1,    /* verified with a trusted key */
	PT_CTL_SIG_UNTRUSTED = 2,  /* valid, but the key is not trusted */
};

struct pt_ctl_library_reply {
	char name[PT_NAME_MAX];
	uint8_t uuid[16];
	uint32_t abi_version;
	uint32_t version;
	uint32_t heap_size;
	uint32_t stack_size;
	uint32_t flags;
	uint8_t max_sources;
	uint8_t max_sinks;
	uint8_t signature;         /* enum pt_ctl_signature */
	uint8_t reserved;
};

/* GET_STATS: instance 0 asks for every instance. The reply body is a
 * struct pt_ctl_stats_reply then `count` struct pt_ctl_instance_stats. */
struct pt_ctl_get_stats {
	uint32_t instance;
	uint32_t reserved;
};

struct pt_ctl_stats_reply {
	uint32_t count;
	uint32_t period_us;        /* the host's period */
	uint64_t budget_used;      /* user heap bytes charged now */
	uint64_t budget_total;
};

enum pt_ctl_instance_state {
	PT_CTL_INSTANCE_INIT = 0,
	PT_CTL_INSTANCE_PREPARED = 1,
	PT_CTL_INSTANCE_FAILED = 2,
};

struct pt_ctl_instance_stats {
	uint32_t instance;
	uint32_t pipeline;
	char name[PT_NAME_MAX];
	char module[PT_NAME_MAX];
	uint8_t state;             /* enum pt_ctl_instance_state */
	uint8_t isolation;         /* enum pt_ctl_isolation (never DEFAULT) */
	uint8_t sched;             /* enum pt_ctl_sched (never DEFAULT) */
	uint8_t reserved;
	int32_t domain_pid;        /* 0 when trusted */
	uint64_t periods;
	uint64_t process_ns;
	uint64_t worst_ns;
	uint64_t deadline_misses;
	uint64_t faults;
	uint64_t restarts;
	uint64_t heap_used;
	uint64_t heap_size;
	uint64_t fault_period;
	int32_t fault_signal;
	uint32_t xruns;            /* a sound device endpoint's under- and
				      overruns, or the times data was dropped
				      from an instance's inputs while it made
				      no progress (saturating) */
	char fault_reason[64];
	uint32_t latency_frames;   /* the module's own latency (a plugin's
				      latency port), frames */
	uint32_t reserved2;
};

enum pt_ctl_lookup_kind { PT_CTL_LOOKUP_PIPELINE = 0, PT_CTL_LOOKUP_INSTANCE = 1 };

/* LOOKUP: the id of a pipeline or instance by name; the reply body is a
 * struct pt_ctl_id_reply. */
struct pt_ctl_lookup {
	uint32_t kind;             /* enum pt_ctl_lookup_kind */
	uint32_t reserved;
	char name[PT_NAME_MAX];
};

struct pt_ctl_id_reply {
	uint32_t id;
	uint32_t reserved;
};

/* NOTIFY_FAULT, NOTIFY_DEADLINE_MISS, NOTIFY_RESTART. */
struct pt_ctl_notify {
	uint32_t instance;
	uint32_t pipeline;
	uint64_t period;           /* period of the event */
	uint64_t count;            /* faults / misses / restarts so far */
	int32_t signal;            /* the fatal signal of a fault, else 0 */
	uint32_t reserved;
	char name[PT_NAME_MAX];    /* instance name */
	char reason[64];
};

_Static_assert(sizeof(struct pt_ctl_header) == 16, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_create_pipeline) == 40, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_delete_pipeline) == 8, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_init_instance) == 144, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_delete_instance) == 8, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_bind) == 32, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_unbind) == 16, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_set_mode) == 8, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_set_pipeline_state) == 8, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_config_set) == 24, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_config_get) == 16, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_config_get_reply) == 16, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_load_library) == 8, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_library_reply) == 72, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_get_stats) == 8, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_stats_reply) == 24, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_instance_stats) == 232, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_lookup) == 40, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_id_reply) == 8, "control wire layout");
_Static_assert(sizeof(struct pt_ctl_notify) == 128, "control wire layout");

#ifdef __cplusplus
}
#endif

#endif /* PARTITA_CONTROL_H */
