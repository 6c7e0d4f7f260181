/* SPDX-License-Identifier: MIT */
/*
 * domain/lockdown - how partita-domain confines itself, in three stages.
 *
 *  1. pt_lockdown_start, before anything else: die with the host
 *     (PR_SET_PDEATHSIG), close every fd but stdio and the control socket,
 *     resource limits (no core files, no new processes, no file writes, the
 *     data limit the host then moves, few fds), an IPC namespace of its own,
 *     no capabilities.
 *  2. pt_lockdown_load, before any library is loaded: no_new_privs,
 *     Landlock (read-only access to the system library folders and the
 *     loader cache, no network, no abstract sockets or signals out of the
 *     domain), and the load stage's allow-list: the run stage's calls and,
 *     by argument, what the loader needs (file mappings, executable only
 *     private and read-only; anonymous only reserved or filled in place;
 *     reads and read-only opens redone with openat2). Anything else is
 *     stopped: the domain logs what was tried and dies by SIGSYS.
 *  3. pt_lockdown_seal, before the first module init (a plugin domain's
 *     first process): the request loop's allow-list. Anonymous memory, brk
 *     and mremap fail with ENOMEM, new executable memory is refused,
 *     anything else unlisted kills the domain (SIGSYS, after logging the
 *     call's name).
 */
#ifndef PT_DOMAIN_LOCKDOWN_H
#define PT_DOMAIN_LOCKDOWN_H

#include <stddef.h>
#include <sys/types.h>

/* Private writable memory (data, bss, copied-on-write pages: the kernel's
 * RLIMIT_DATA). The domain starts with PT_DOMAIN_START_DATA (its own, before
 * any library); the host raises the soft limit by what each library load
 * may take and charges it to the user heap budget, then lowers it to what
 * the domain holds (host/domain/exec.c). PT_DOMAIN_DATA_LIMIT is the hard
 * limit nobody can raise. */
#define PT_DOMAIN_START_DATA (16u << 20)
#define PT_DOMAIN_DATA_LIMIT (1u << 30)

int pt_lockdown_start(pid_t host, char *err, size_t errlen);
int pt_lockdown_load(char *err, size_t errlen);
int pt_lockdown_seal(char *err, size_t errlen);

/* Before pt_lockdown_load: also allows reading @path (absolute; a folder
 * and everything beneath it, or one file), for the plugins an adapter
 * module loads. The string must stay valid. 0, or -EINVAL when too late,
 * too many or relative. */
#define PT_LOCKDOWN_READ_MAX 16
int pt_lockdown_allow_read(const char *path);

/* Names what runs now ("library pt_x.so constructor", "instance gain1");
 * the string must stay valid. A denied call is reported with it. */
void pt_lockdown_context(const char *what);

/* True once pt_lockdown_seal succeeded. */
int pt_lockdown_sealed(void);

#endif
