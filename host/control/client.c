/* SPDX-License-Identifier: MIT */
#include "host/control/client.h"

#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int pt_ctl_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int pt_ctl_receive(int fd, void *buf, size_t room, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (!r)
		return 0;
	n = recv(fd, buf, room, MSG_TRUNC);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	if ((size_t)n > room)
		return -EMSGSIZE;
	return (int)n;
}

/* The host's word to the connection itself (no client slot free): a
 * reply with seq 0 and an error status, said before it closed. */
static bool is_refusal(const struct pt_ctl_reply *rep)
{
	return !(rep->hdr.flags & PT_CTL_FLAG_NOTIFY) && rep->hdr.seq == 0 &&
	       rep->hdr.status != PT_CTL_OK;
}

static bool refused(int fd, void *buf, size_t room, struct pt_ctl_reply *rep)
{
	char err[64];
	int n = pt_ctl_receive(fd, buf, room, 0);

	return n > 0 && !pt_ctl_decode_reply(buf, (size_t)n, rep, err, sizeof(err)) &&
	       is_refusal(rep);
}

int pt_ctl_call(int fd, const void *msg, size_t len, uint32_t seq, void *buf,
		size_t room, struct pt_ctl_reply *rep, int timeout_ms,
		pt_ctl_notify_fn notify, void *ctx, char *err, size_t errlen)
{
	int64_t deadline = now_ms() + timeout_ms;

	if (send(fd, msg, len, MSG_NOSIGNAL) < 0) {
		int e = errno;

		/* Refused at the door: the host said why before it closed. */
		if (e == EPIPE && refused(fd, buf, room, rep))
			return 0;
		snprintf(err, errlen, "send: %s", strerror(e));
		return -e;
	}
	for (;;) {
		int64_t left = deadline - now_ms();
		int n;

		if (left <= 0) {
			snprintf(err, errlen, "no reply within %d ms", timeout_ms);
			return -ETIMEDOUT;
		}
		n = pt_ctl_receive(fd, buf, room, (int)left);
		if (n == 0)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "receive: %s",
				 n == -ECONNRESET ? "the host closed the connection"
						  : strerror(-n));
			return n;
		}
		if (pt_ctl_decode_reply(buf, (size_t)n, rep, err, errlen))
			return -EPROTO;
		if (rep->hdr.flags & PT_CTL_FLAG_NOTIFY) {
			if (notify)
				notify(ctx, rep);
			continue;
		}
		if (rep->hdr.seq == seq)
			return 0;
		if (is_refusal(rep))
			return 0;
		/* a late reply to an earlier request: not ours */
	}
}
