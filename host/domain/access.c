/* SPDX-License-Identifier: MIT */
/* Who maps what: read from the running processes, not from the plan. */
#include "host/domain/exec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host/domain/domain.h"

const char *pt_access_name(int a)
{
	switch (a) {
	case PT_ACCESS_READ:
		return "ro";
	case PT_ACCESS_WRITE:
		return "rw";
	case PT_ACCESS_NONE:
		return "-";
	default:
		return "?";
	}
}

/* Parses one /proc/PID/maps or smaps header line. Returns true if it is
 * one, with the permissions, inode and path. */
static bool map_line(const char *line, char perms[5], unsigned long long *ino,
		     const char **path)
{
	unsigned long long start, end, off;
	unsigned maj, min;
	int n = 0;

	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, perms,
		   &off, &maj, &min, ino, &n) < 7)
		return false;
	*path = line + n;
	return true;
}

/* A partition's memfd: same inode, and named as memfds are. */
static bool is_partition(const struct pt_partition *p, unsigned long long ino,
			 unsigned long long want, const char *path)
{
	(void)p;
	return ino == want && !strncmp(path, "/memfd:", 7);
}

int pt_access_of(pid_t pid, const struct pt_partition *p)
{
	char file[64], line[512], perms[5];
	struct stat st;
	const char *path;
	unsigned long long ino;
	int best = PT_ACCESS_NONE;
	FILE *f;

	if (fstat(p->fd, &st) < 0)
		return -errno;
	snprintf(file, sizeof(file), "/proc/%d/maps", (int)pid);
	f = fopen(file, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!map_line(line, perms, &ino, &path) ||
		    !is_partition(p, ino, (unsigned long long)st.st_ino, path))
			continue;
		if (perms[1] == 'w')
			best = PT_ACCESS_WRITE;
		else if (perms[0] == 'r' && best < PT_ACCESS_READ)
			best = PT_ACCESS_READ;
	}
	fclose(f);
	return best;
}

int pt_exec_domain_memory(struct pt_instance *inst, struct pt_domain_memory *m)
{
	struct pt_domain *d = inst->exec ? inst->exec->dom : NULL;
	unsigned long long inos[PT_DOMAIN_MAX_GRANTS + 1];
	unsigned nino = 0;
	char file[64], line[512], perms[5];
	bool in_partition = false;
	FILE *f;

	if (!d || d->dead)
		return -ESRCH;
	memset(m, 0, sizeof(*m));
	for (unsigned i = 0; i <= d->ngrants && nino < PT_DOMAIN_MAX_GRANTS + 1; i++) {
		const struct pt_partition *p = i < d->ngrants ? d->grants[i].part : d->rings;
		struct stat st;

		if (fstat(p->fd, &st) == 0)
			inos[nino++] = (unsigned long long)st.st_ino;
	}
	snprintf(file, sizeof(file), "/proc/%d/smaps", (int)d->pid);
	f = fopen(file, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long ino;
		const char *path;
		size_t kib;

		if (map_line(line, perms, &ino, &path)) {
			in_partition = false;
			for (unsigned i = 0; i < nino; i++)
				if (ino == inos[i] && !strncmp(path, "/memfd:", 7))
					in_partition = true;
			continue;
		}
		if (sscanf(line, "Rss: %zu kB", &kib) == 1) {
			m->rss_kib += kib;
			if (in_partition)
				m->partition_kib += kib;
			else
				m->other_kib += kib;
		} else if (!in_partition && sscanf(line, "Pss: %zu kB", &kib) == 1) {
			m->other_pss_kib += kib;
		} else if (!in_partition && (sscanf(line, "Private_Clean: %zu kB", &kib) == 1 ||
					     sscanf(line, "Private_Dirty: %zu kB", &kib) == 1)) {
			m->other_private_kib += kib;
		}
	}
	fclose(f);
	return 0;
}
