/* SPDX-License-Identifier: MIT */
/*
 * lib/domain/protocol.h - what the host and partita-domain say to each other.
 *
 * Two channels per domain:
 *  - the control partition's rings (lib/ring): PROCESS requests and their
 *    completions, one 64-byte entry each plus continuation entries when the
 *    pin words do not fit, and PT_DOP_CONTROL entries that tell the domain a
 *    control message waits on the socket;
 *  - the SEQPACKET socket (fd 3 in the domain): control messages (load,
 *    grant, init, prepare, config, reset, free) with their payload and, for
 *    grants and loads, the partition fds (SCM_RIGHTS). Every control message
 *    gets exactly one reply message on the socket.
 *
 * The host never trusts a reply or a completion: it copies it out, checks
 * every length and count against what it asked for, then uses it.
 */
#ifndef PT_LIB_DOMAIN_PROTOCOL_H
#define PT_LIB_DOMAIN_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include <partita/module.h>

/* The socket end the domain inherits; every other fd is closed. */
#define PT_DOMAIN_SOCKET_FD 3
/* Where the domain's log lines go (a pipe the host drains). */
#define PT_DOMAIN_LOG_FD 2

/* Entries in each ring of a domain's control partition. */
#define PT_DOMAIN_RING_ENTRIES 256u

/* Instances one domain can hold, and grants it can map. */
#define PT_DOMAIN_MAX_INSTANCES 16
#define PT_DOMAIN_MAX_GRANTS 128

/* Ring opcodes. */
enum pt_dop {
	PT_DOP_CONTROL = 1, /* read one control message from the socket */
	PT_DOP_PROCESS = 2, /* run process once (words: see below) */
	PT_DOP_CONT = 3,    /* continuation of the previous entry's words */
	PT_DOP_CHAIN = 4,   /* PROCESS for one period as a stage of an
			       in-period chain (words: see below) */
};

/* Words (uint32_t) fit in one entry's payload. */
#define PT_DOP_WORDS_PER_ENTRY 10u
/* An entry's flags holds how many PT_DOP_CONT entries follow it. */
#define PT_DOP_MAX_CONT 7u

/*
 * PROCESS request words: nsrc, nsnk, periods (1..PT_DOP_MAX_BATCH: process
 * is called once per period, each call seeing what the previous ones left,
 * stopping early when the module is not ready), then per source (offset,
 * avail), then per sink (offset, free); all bytes within the granted buffer.
 * PROCESS completion words: heap_used, nsrc, nsnk, the domain's futex
 * syscalls so far (wrapping), periods run, then consumed per source, then
 * produced per sink, summed over the periods, then the module's latency
 * in frames (pt_mod_set_latency; optional: a host takes a completion
 * without it as latency 0). The entry's result is
 * process's return value (or -errno from the domain's own checks).
 */
#define PT_DOP_MAX_BATCH 64u
#define PT_DOP_REQ_WORDS_MAX (3 + 2 * 2 * PT_MAX_PINS)
#define PT_DOP_CPL_WORDS_MAX (6 + 2 * PT_MAX_PINS)
/* The most latency a completion may report: 10 s at the highest rate. */
#define PT_DOP_LATENCY_MAX (10u * PT_RATE_MAX)

/*
 * In-period chains (PipeWire's activation records). Every isolated LL
 * instance has an activation record: a partition of one page the host
 * grants writable to the instance's domain and to the domains of the
 * isolated LL instances that feed it directly, and to no one else. Its
 * first word is a futex word: (epoch << 16) | pending, pending being how
 * many of those feeding stages have yet to finish this period.
 *
 * CHAIN request words: the PROCESS words with periods = 1, then: the
 * partition id of the instance's own record, the epoch of this period
 * (1..65535), the deadline (CLOCK_MONOTONIC ns, low word then high word)
 * after which the domain stops waiting and completes with -ETIMEDOUT
 * without calling process, the number of records to notify, then per
 * record its partition id and epoch. The domain runs the request when its
 * record reads (epoch << 16) with nothing pending; after the call it
 * completes (opcode PROCESS, words as for PROCESS), then decrements each
 * record to notify whose epoch matches and wakes the futex of those that
 * reach zero. The host writes a record's word (epoch, pending) before it
 * publishes any request that touches it; it wakes only the chain's first
 * stages, and publishes the others without a wake. A stage not done by
 * its deadline is cancelled by the host: it sets PT_ACTIVATION_CANCEL in
 * the word (same epoch) and wakes it; the domain then completes with
 * -ECANCELED without calling process (as it does at its deadline). A
 * record is never trusted beyond deciding when to run: the host checks
 * every count.
 */
#define PT_DOP_CHAIN_WORDS (5 + 2 * PT_MAX_PINS)
#define PT_DOP_CHAIN_WORDS_MAX (PT_DOP_REQ_WORDS_MAX + PT_DOP_CHAIN_WORDS)
#define PT_ACTIVATION_EPOCH_SHIFT 16u
#define PT_ACTIVATION_PENDING_MASK 0x7fffu
#define PT_ACTIVATION_CANCEL 0x8000u

/* Control messages (socket). */
enum pt_dctl {
	PT_DCTL_RINGS = 1,   /* fd: the control partition; first message */
	PT_DCTL_LOAD,        /* fds: private partition, library; body load */
	PT_DCTL_GRANT,       /* fd: a buffer partition; body grant */
	PT_DCTL_INIT,        /* data: init blob */
	PT_DCTL_PREPARE,     /* body prepare */
	PT_DCTL_CONFIG_SET,  /* body config + data */
	PT_DCTL_CONFIG_GET,  /* body config (room) */
	PT_DCTL_RESET,
	PT_DCTL_FREE,
	PT_DCTL_PEEK,        /* test probe: copy len bytes at addr into the reply */
	/* Module ABI version 2. */
	PT_DCTL_BIND,        /* body struct pt_pin_info */
	PT_DCTL_UNBIND,      /* body struct pt_pin_info */
	PT_DCTL_TRIGGER,     /* body uint32_t, enum pt_trigger */
	PT_DCTL_MODE,        /* body uint32_t, enum pt_processing_mode; the
				reply's result is the module's answer (-ENOTSUP:
				the host bypasses) */
};

/* A message's payload travels in chunks: the first message carries the
 * header (and fds) and up to PT_DCTL_CHUNK bytes, each following message up
 * to PT_DCTL_CHUNK more, until the header's len is reached. Replies the
 * same. So no payload depends on the socket buffer's size. */
#define PT_DCTL_CHUNK (32 * 1024)
#define PT_DCTL_DATA_MAX (256 * 1024)
#define PT_DCTL_MSG_MAX (PT_DCTL_DATA_MAX + 1024)

struct pt_dctl_hdr {
	uint32_t op;       /* enum pt_dctl */
	uint32_t instance; /* instance id inside the domain */
	uint64_t seq;      /* echoed in the reply */
	uint32_t len;      /* bytes after the header */
	uint32_t reserved;
};

struct pt_dctl_rings {
	uint64_t size;     /* bytes of the control partition */
	uint32_t entries;
	uint32_t spin_us;  /* how long the domain spins for requests before it
			      sleeps, 0..PT_DOMAIN_SPIN_MAX_US */
};

#define PT_DOMAIN_SPIN_MAX_US 1000

struct pt_dctl_load {
	uint64_t priv_size;    /* bytes of the private partition */
	uint32_t guard;        /* bytes of the guard at its start */
	uint32_t stack_size;   /* bytes of stack above the guard */
	uint32_t period_frames;
	uint32_t reserved;
	char name[PT_NAME_MAX];    /* instance name */
	char library[128];         /* library name, for messages only */
};

struct pt_dctl_grant {
	uint32_t part_id;
	uint32_t writable;
	uint64_t size;
};

/* INIT's payload: this, then text_size bytes of init blob (text
 * parameters), then payload_size bytes of binary init payload. */
struct pt_dctl_init {
	uint32_t text_size;
	uint32_t payload_size;
};

struct pt_dctl_pin {
	uint32_t part_id;  /* a partition granted before */
	uint32_t writable; /* which grant of it: 1 rw (sink), 0 ro (source) */
	uint32_t size;     /* bytes of the circular buffer in use */
	struct pt_format fmt;
	uint32_t open_fields; /* sink: PT_FMT_OPEN_* the module may set; the
				 grant holds as many frames of the largest
				 format as size holds of fmt */
};

/* What prepare chose, per pin: the PREPARE reply's data is a struct
 * pt_dctl_prepared. The host checks every field against what the binding
 * allows before it uses one. */
struct pt_dctl_pin_out {
	struct pt_format fmt;
	uint32_t byte_align;
	uint32_t frame_align;
};

struct pt_dctl_prepared {
	struct pt_dctl_pin_out src[PT_MAX_PINS];
	struct pt_dctl_pin_out snk[PT_MAX_PINS];
};

struct pt_dctl_prepare {
	uint32_t nsrc, nsnk;
	/* The instance's period at its stream rate (its first input's, else
	 * its first output's), which may differ from the one at load. */
	uint32_t period_frames;
	uint32_t reserved;
	struct pt_dctl_pin src[PT_MAX_PINS];
	struct pt_dctl_pin snk[PT_MAX_PINS];
};

struct pt_dctl_config {
	uint32_t param;
	uint32_t room; /* get: bytes the host can take */
};

struct pt_dctl_peek {
	uint64_t addr;
	uint32_t len;
	uint32_t reserved;
};

/* Reply: the header's seq and op echoed, then this, then data. */
struct pt_dctl_reply {
	uint64_t seq;
	uint32_t op;
	int32_t result;    /* 0 or -errno */
	uint64_t addr;     /* LOAD: heap address; GRANT: mapping address */
	uint64_t heap_used;
	uint32_t len;      /* bytes of data after this struct */
	uint32_t is_text;  /* 1: data is an error message */
};

#endif /* PT_LIB_DOMAIN_PROTOCOL_H */
