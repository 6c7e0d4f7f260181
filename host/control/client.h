/* SPDX-License-Identifier: MIT */
/*
 * host/control/client - the client end of the control socket, as used by
 * `partita ctl` and the tests: connect, send one request, wait for the
 * reply with its seq (notifications that arrive meanwhile are handed to a
 * callback or dropped).
 */
#ifndef PT_HOST_CONTROL_CLIENT_H
#define PT_HOST_CONTROL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "host/control/codec.h"

/* Connects to the SEQPACKET socket at @path. Returns the fd or -errno. */
int pt_ctl_connect(const char *path, char *err, size_t errlen);

typedef void (*pt_ctl_notify_fn)(void *ctx, const struct pt_ctl_reply *note);

/*
 * Sends the request @msg (@len bytes, its header's seq is @seq) on @fd and
 * waits up to @timeout_ms for the reply with that seq, which is left in
 * @buf (room @room) and described by *@rep. Returns 0 (the reply may still
 * carry an error status), or -errno with @err set when no reply came.
 */
int pt_ctl_call(int fd, const void *msg, size_t len, uint32_t seq, void *buf,
		size_t room, struct pt_ctl_reply *rep, int timeout_ms,
		pt_ctl_notify_fn notify, void *ctx, char *err, size_t errlen);

/* Waits up to @timeout_ms for one datagram (a notification or a reply).
 * Returns its size, 0 on timeout, or -errno (-ECONNRESET when closed). */
int pt_ctl_receive(int fd, void *buf, size_t room, int timeout_ms);

#endif
