/* SPDX-License-Identifier: MIT */
/*
 * host/control - the host's side of the control protocol
 * (include/partita/control.h): one request in, one reply out.
 *
 * pt_control_handle() decodes and validates the request completely (the
 * codec), checks it against the graph (ids, names, libraries), and only
 * then calls the graph API, whose own checks come last. A refused request
 * leaves the graph and the control state as they were; its reply's text
 * names the field.
 *
 * Besides the graph, the control plane keeps a little state per graph: the
 * pipeline names (the graph knows pipelines by id), the libraries loaded
 * with LOAD_LIBRARY (module name to path), the library policy, and the
 * config blobs being reassembled from fragments, each owned by the client
 * that started it. Like the graph it belongs to the one thread that owns
 * the graph.
 */
#ifndef PT_HOST_CONTROL_H
#define PT_HOST_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <partita/control.h>

#include "host/libmgr/library.h"

struct pt_graph;

/*
 * Handles the request @msg of @len bytes on @g and writes the reply into
 * @reply; *@reply_len is the room on entry (at least PT_CTL_MSG_MAX) and
 * the reply's size on return. Returns 0 when the request was done, or the
 * -errno matching the reply's status when it was refused (the reply is
 * written either way); -ENOBUFS, with no reply, if the room is too small.
 */
int pt_control_handle(struct pt_graph *g, const void *msg, size_t len,
		      void *reply, size_t *reply_len);

/* The same for the request of client @client (a number the caller gives
 * each connection, never reused): a config blob sent in fragments belongs
 * to the client that sent its first fragment, and no other client can
 * continue, restart or drop it. pt_control_handle is client 0. */
int pt_control_handle_client(struct pt_graph *g, uint64_t client, const void *msg,
			     size_t len, void *reply, size_t *reply_len);

/* Client @client is gone: its unfinished blob, if any, is dropped. */
void pt_control_client_gone(struct pt_graph *g, uint64_t client);

/* Sets the library policy (trusted keys, signatures required) for @g;
 * @policy is copied. Without one, no key is trusted and unsigned libraries
 * are accepted. Returns 0 or -ENOMEM. */
int pt_control_set_policy(struct pt_graph *g,
			  const struct pt_library_policy *policy);

/* Returns true while any pipeline of @g is RUNNING: the host then runs
 * periods. */
bool pt_control_running(struct pt_graph *g);

/* Drops the control state kept for @g. Call before pt_graph_free(). */
void pt_control_forget(struct pt_graph *g);

/* The -errno a status stands for (0 for PT_CTL_OK), and back. */
int pt_ctl_status_errno(enum pt_ctl_status st);
enum pt_ctl_status pt_ctl_errno_status(int err);

#endif
