/* SPDX-License-Identifier: MIT */
/* domain/log - lines from partita-domain to the host. */
#include <stdio.h>
#include <unistd.h>

#include "domain/log.h"
#include "lib/domain/protocol.h"

void pt_domain_vlog(const char *fmt, va_list ap)
{
	char line[320];
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);

	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(PT_DOMAIN_LOG_FD, line, (size_t)n);
}

void pt_domain_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pt_domain_vlog(fmt, ap);
	va_end(ap);
}
