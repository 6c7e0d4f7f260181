/* SPDX-License-Identifier: MIT */
/*
 * What a library load may add to a domain's memory beyond its partitions,
 * bounded and charged to the user heap budget.
 *
 * Loading maps the library's segments: its data and zero-initialised data
 * are private writable memory, and so is anything its constructors map in
 * place. The kernel counts all of it in one figure (VmData, bounded by
 * RLIMIT_DATA); the domain's filters refuse every other way to memory
 * (domain/lockdown.c). So around each load the host, not the domain, moves
 * the domain's soft RLIMIT_DATA: up by the load's allowance (the library's
 * writable segments and PT_DOMAIN_LOAD_SLACK for its dependencies), charged
 * to the budget first; then down to what the domain really holds, the
 * difference given back. The address space is bounded the same way while
 * the load runs (page tables are memory too), and left as it was after.
 *
 * The kernel checks a mapping made in place (MAP_FIXED, which the loader
 * needs) against RLIMIT_DATA net of the pages it replaces, even when those
 * were not counted as data: so while a load runs, what it can map is
 * bounded by the address space limit, and what it holds after the load is
 * checked against its allowance (more, and the load fails).
 */
#include "host/domain/domain.h"

#include <errno.h>
#include <gelf.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "host/mm/budget.h"

/* Address space a load may add beyond the library's own span (its
 * dependencies' code and data). */
#define LOAD_SPAN_SLACK (32u << 20)
/* And a plugin's, with its own dependencies. */
#define PLUGIN_SPAN_SLACK (64u << 20)

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* Sums the page-rounded sizes of @fd's PT_LOAD segments: all of them in
 * *@span, the writable ones in *@data. Returns 0 or -ENOEXEC. */
static int elf_segments(int fd, size_t *data, size_t *span)
{
	size_t page = page_size(), n;
	Elf *e;
	int ret = 0;

	*data = *span = 0;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOEXEC;
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &n) != 0) {
		if (e)
			elf_end(e);
		return -ENOEXEC;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		GElf_Phdr ph;
		uint64_t start, end;

		if (!gelf_getphdr(e, (int)i, &ph)) {
			ret = -ENOEXEC;
			break;
		}
		if (ph.p_type != PT_LOAD)
			continue;
		start = ph.p_vaddr & ~(uint64_t)(page - 1);
		if (ph.p_memsz > UINT64_MAX / 2 || ph.p_vaddr > UINT64_MAX / 2) {
			ret = -ENOEXEC;
			break;
		}
		end = (ph.p_vaddr + ph.p_memsz + page - 1) & ~(uint64_t)(page - 1);
		if (end - start > SIZE_MAX / 4) {
			ret = -ENOEXEC;
			break;
		}
		*span += (size_t)(end - start);
		if (ph.p_flags & PF_W)
			*data += (size_t)(end - start);
	}
	elf_end(e);
	return ret;
}

/* The domain's VmData or VmSize in bytes, from its /proc status; 0 if it
 * is gone. */
static size_t vm_bytes(pid_t pid, const char *field)
{
	char path[64], line[128];
	size_t len = strlen(field), kib = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':') {
			if (sscanf(line + len + 1, "%zu", &kib) != 1)
				kib = 0;
			break;
		}
	fclose(f);
	return kib * 1024;
}

/* Seccomp filters in force in process @pid ("self" for the host), from
 * its /proc status (Linux 5.9+); -1 when it cannot be read. */
static long filters_in_force(const char *pid)
{
	char path[64], line[128];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Seccomp_filters:", 16)) {
			if (sscanf(line + 16, "%ld", &n) != 1)
				n = -1;
			break;
		}
	fclose(f);
	return n;
}

int pt_domain_check_filters(struct pt_domain *d, bool sealed, char *err, size_t errlen)
{
	static long inherited = -2;
	char pid[16];
	long n, want;

	/* Filters the host runs under (a container's) are the domain's too. */
	if (inherited == -2)
		inherited = filters_in_force("self");
	snprintf(pid, sizeof(pid), "%d", (int)d->pid);
	n = filters_in_force(pid);
	if (inherited < 0 && n < 0)
		return 0; /* a kernel that does not say: the filters alone */
	want = (inherited > 0 ? inherited : 0) + (sealed ? 2 : 1);
	if (n == want)
		return 0;
	if (n < 0)
		snprintf(err, errlen, "cannot read the domain's seccomp filters");
	else if (n > want)
		snprintf(err, errlen,
			 "module code installed a seccomp filter of its own (%ld in force, the domain installs %ld)",
			 n, want);
	else
		snprintf(err, errlen,
			 "the domain's run-stage filter is not in force (%ld filters, %ld expected)",
			 n, want);
	return -EPERM;
}

static int set_soft(pid_t pid, int res, rlim_t soft)
{
	struct rlimit rl;

	if (prlimit(pid, res, NULL, &rl) < 0)
		return -errno;
	rl.rlim_cur = soft < rl.rlim_max ? soft : rl.rlim_max;
	return prlimit(pid, res, &rl, NULL) < 0 ? -errno : 0;
}

void pt_domain_room_for(struct pt_domain *d, size_t bytes)
{
	struct rlimit rl;

	if (!d->loads_open || prlimit(d->pid, RLIMIT_AS, NULL, &rl) < 0 ||
	    rl.rlim_cur == RLIM_INFINITY)
		return;
	set_soft(d->pid, RLIMIT_AS, rl.rlim_cur + pt_budget_round(d->budget, bytes));
}

int pt_domain_load_begin(struct pt_domain *d, struct pt_budget *budget, int libfd,
			 size_t partition, const char *who, struct pt_domain_load *ld,
			 char *err, size_t errlen)
{
	size_t data, span, allowance, charged, vm;
	struct rlimit as;
	rlim_t as_soft;
	int ret;

	memset(ld, 0, sizeof(*ld));
	if (elf_segments(libfd, &data, &span) ||
	    (lseek(libfd, 0, SEEK_SET) < 0)) {
		snprintf(err, errlen, "library %s: not an ELF object with loadable segments", who);
		return -ENOEXEC;
	}
	allowance = data + PT_DOMAIN_LOAD_SLACK + (d->plugins ? PT_DOMAIN_PLUGIN_SLACK : 0);
	ret = pt_budget_take(budget, who, allowance, &charged, err, errlen);
	if (ret)
		return ret;
	if (!d->loads_open) {
		d->load_base = vm_bytes(d->pid, "VmData");
		d->load_charged = 0;
	}
	vm = vm_bytes(d->pid, "VmSize");
	if (prlimit(d->pid, RLIMIT_AS, NULL, &as) < 0) {
		ret = -errno;
	} else {
		if (!d->loads_open)
			d->as_saved = as.rlim_cur;
		/* Loads in one domain may overlap (a plugin domain's last
		 * until it seals): each adds its room to the others'. */
		as_soft = (d->loads_open && as.rlim_cur != RLIM_INFINITY ? as.rlim_cur : vm) +
			  partition + span + LOAD_SPAN_SLACK +
			  (d->plugins ? PLUGIN_SPAN_SLACK : 0);
		ret = set_soft(d->pid, RLIMIT_DATA, d->load_base + d->load_charged + charged);
		if (!ret)
			ret = set_soft(d->pid, RLIMIT_AS, as_soft);
	}
	if (ret || !d->load_base || !vm) {
		snprintf(err, errlen, "library %s: cannot bound the domain's memory: %s", who,
			 ret ? strerror(-ret) : "no status");
		pt_budget_give(budget, charged);
		return ret ? ret : -ESRCH;
	}
	d->budget = budget;
	d->load_charged += charged;
	d->loads_open++;
	ld->open = true;
	return 0;
}

int pt_domain_load_end(struct pt_domain *d, struct pt_domain_load *ld, char *err,
		       size_t errlen)
{
	size_t after, grown, charged;

	if (!ld->open)
		return 0;
	ld->open = false;
	/* Loading ran module code (constructors; a plugin domain's init and
	 * prepare) where the seccomp call that seals is allowed: a filter of
	 * its own could answer the domain's with a success that installs
	 * nothing. The kernel's count says. */
	if (pt_domain_check_filters(d, (d->sealed && !d->plugins) || d->plugin_sealed, err,
				    errlen)) {
		if (--d->loads_open == 0) {
			d->data_charged += d->load_charged;
			d->load_charged = 0;
		}
		return -EPERM;
	}
	if (--d->loads_open)
		return 0; /* the last load still open settles for all */
	charged = d->load_charged;
	d->load_charged = 0;
	after = vm_bytes(d->pid, "VmData");
	if (!after || set_soft(d->pid, RLIMIT_DATA, after) ||
	    set_soft(d->pid, RLIMIT_AS, d->as_saved)) {
		/* Gone or going: all of the allowance stays charged until
		 * the domain is released. */
		d->data_charged += charged;
		return 0;
	}
	grown = after > d->load_base ? after - d->load_base : 0;
	grown = pt_budget_round(d->budget, grown);
	if (grown > charged) {
		/* Mapped in place over what it had: the kernel checks such a
		 * mapping against the limit net of the pages it replaces. */
		d->data_charged += charged;
		snprintf(err, errlen, "holds %zu KiB of memory after loading, beyond its allowance of %zu KiB",
			 grown >> 10, charged >> 10);
		return -ENOMEM;
	}
	pt_budget_give(d->budget, charged - grown);
	d->data_charged += grown;
	return 0;
}
