/* SPDX-License-Identifier: MIT */
/*
 * host/io/iothread - the host's I/O thread for live runs.
 *
 * Live (a sound device or --realtime), nothing but the period's work runs
 * on the period thread: the file endpoints read ahead and write behind
 * through rings that one thread, "pt-io", fills and drains, and trusted
 * modules' log lines are queued and written by it. The thread runs in the
 * ordinary scheduling class whatever class started it, and wakes every
 * PT_IOTHREAD_WAKE_MS, or sooner when kicked.
 *
 * Its work items (a file endpoint each) are added and removed under its
 * lock; a work item runs with the lock held, so a caller that holds the
 * lock knows no work item is running. The period thread never takes the
 * lock: it only kicks (a semaphore post, which never blocks) and queues
 * log lines (lock-free, dropped and counted when the queue is full).
 */
#ifndef PT_HOST_IO_IOTHREAD_H
#define PT_HOST_IO_IOTHREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PT_IOTHREAD_WAKE_MS 4
#define PT_IOTHREAD_LOG_LINES 256 /* queued log lines at most */
#define PT_IOTHREAD_LOG_LINE 240  /* bytes of a queued line, cut beyond */

struct pt_iowork {
	/* Called on the I/O thread with the lock held. */
	void (*run)(struct pt_iowork *w);
	struct pt_iowork *next;
};

/* Starts the I/O thread (named "pt-io", ordinary class) and the log queue;
 * returns 0 or -errno. A second start while it runs returns 0. */
int pt_iothread_start(void);

/* Runs every work item one last time, writes the queued log lines, and
 * stops the thread. Work items still added stay added, unrun. */
void pt_iothread_stop(void);

/* Returns true while the thread runs. */
bool pt_iothread_running(void);

/* Takes and drops the lock that work items run under. */
void pt_iothread_lock(void);
void pt_iothread_unlock(void);

/* Adds (removes) a work item; with the lock held. */
void pt_iothread_add(struct pt_iowork *w);
void pt_iothread_remove(struct pt_iowork *w);

/* Wakes the thread now; never blocks (for the period thread). */
void pt_iothread_kick(void);

/* Waits, with the lock held (it is dropped while waiting), until the
 * thread has run every work item once more. */
void pt_iothread_wait_pass(void);

/* Queues "partita: NAME: LINE" for the I/O thread to write to stderr.
 * Returns false when the thread is not running (the caller writes the line
 * itself); true when queued or dropped for a full queue. */
bool pt_iothread_log(const char *name, const char *line);

/* Log lines dropped for a full queue since the thread started. */
uint64_t pt_iothread_log_dropped(void);

#endif
