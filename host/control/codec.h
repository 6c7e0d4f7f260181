/* SPDX-License-Identifier: MIT */
/*
 * host/control/codec - the control protocol's bytes: a pure decoder that
 * validates a request completely (everything that can be checked without
 * the graph), an encoder for requests, replies and notifications, and the
 * reply decoder a client uses.
 *
 * Nothing here touches the graph or any state: the same functions serve the
 * host, `partita ctl`, the topology loader and the fuzz target.
 */
#ifndef PT_HOST_CONTROL_CODEC_H
#define PT_HOST_CONTROL_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <partita/control.h>

/* A request after pt_ctl_decode(): host byte order, every field checked. */
struct pt_ctl_request {
	struct pt_ctl_header hdr;
	union {
		struct pt_ctl_create_pipeline create_pipeline;
		struct pt_ctl_delete_pipeline delete_pipeline;
		struct pt_ctl_init_instance init_instance;
		struct pt_ctl_delete_instance delete_instance;
		struct pt_ctl_bind bind;
		struct pt_ctl_unbind unbind;
		struct pt_ctl_set_pipeline_state set_state;
		struct pt_ctl_config_set config_set;
		struct pt_ctl_config_get config_get;
		struct pt_ctl_load_library load_library;
		struct pt_ctl_get_stats get_stats;
		struct pt_ctl_lookup lookup;
		struct pt_ctl_set_mode set_mode;
	} u;
	char path[PT_CTL_PATH_MAX + 1]; /* INIT_INSTANCE library, LOAD_LIBRARY */
	const void *data;  /* init blob or config fragment, inside the message */
	size_t data_size;
	const void *payload; /* INIT_INSTANCE binary init payload, or NULL */
	size_t payload_size;
};

/*
 * Decodes and validates the request @msg of @len bytes into @req. Returns
 * PT_CTL_OK, or another status with @err naming the field ("bind.src_pin:
 * 9 is not below 8"). @req->data points into @msg.
 */
enum pt_ctl_status pt_ctl_decode(const void *msg, size_t len,
				 struct pt_ctl_request *req, char *err,
				 size_t errlen);

/* The body layout of @type, or NULL for an unknown type. A layout is one
 * letter per field: '1' '2' '4' '8' integers of that many bytes, 'n' a
 * PT_NAME_MAX name, 'u' a 16-byte UUID, 'r' 64 bytes of text. */
const char *pt_ctl_layout(unsigned type, bool reply);

/* Layout of one struct pt_ctl_instance_stats (GET_STATS reply entries). */
#define PT_CTL_LAYOUT_INSTANCE_STATS "44nn1111" "4" "888888888" "44" "r" "44"

/* Bytes of a body with layout @layout. */
size_t pt_ctl_layout_size(const char *layout);

/* Converts a body with @layout between host and wire (little-endian) byte
 * order, in place; the same call goes both ways. */
void pt_ctl_swap(void *body, const char *layout);

/*
 * Writes a message into @buf (room @room): a header of @type, @flags, @seq
 * and @status, @body (host byte order, swapped to the wire by @layout) and
 * the two tails copied as they are. Returns the message's size, or 0 if it
 * does not fit in @room or in PT_CTL_MSG_MAX.
 */
size_t pt_ctl_encode(void *buf, size_t room, unsigned type, unsigned flags,
		     uint32_t seq, uint32_t status, const void *body,
		     const char *layout, const void *tail, size_t tail_size,
		     const void *tail2, size_t tail2_size);

/* Encodes an error reply to (@type, @seq): status and the text @text.
 * Returns its size. @room must be at least PT_CTL_ERR_MAX + 16. */
size_t pt_ctl_encode_error(void *buf, size_t room, unsigned type, uint32_t seq,
			   enum pt_ctl_status status, const char *text);

/* A reply or notification as a client sees it. */
struct pt_ctl_reply {
	struct pt_ctl_header hdr;
	const void *body; /* inside the message; for errors, the text */
	size_t body_size;
};

/* Checks the header of a reply or notification @msg of @len bytes.
 * Returns 0 or -EPROTO with @err saying what is wrong. */
int pt_ctl_decode_reply(const void *msg, size_t len, struct pt_ctl_reply *rep,
			char *err, size_t errlen);

/* Returns "CREATE_PIPELINE" etc., or "UNKNOWN" for another value. */
const char *pt_ctl_type_name(unsigned type);

/* Returns "OK", "BAD_FIELD" etc., or "UNKNOWN". */
const char *pt_ctl_status_name(unsigned status);

/* Returns true if @s is a valid name: 1..PT_NAME_MAX-1 bytes of
 * [A-Za-z0-9_.-]. */
bool pt_ctl_name_valid(const char *s);

/* Copies @s into the name field @field, zero-padded. Returns 0, or -EINVAL
 * if it is not a valid name (an empty @s is allowed when @may_be_empty). */
int pt_ctl_name_set(char field[PT_NAME_MAX], const char *s, bool may_be_empty);

#endif
