/* SPDX-License-Identifier: MIT */
/*
 * domain/log - lines from partita-domain to the host, on PT_DOMAIN_LOG_FD
 * (lib/domain/protocol.h), which the host reads into the domain's log.
 */
#ifndef PT_DOMAIN_LOG_H
#define PT_DOMAIN_LOG_H

#include <stdarg.h>

/* Writes one line (the newline is added; a longer line is cut at 318
 * bytes). The pipe is non-blocking: a full pipe drops the line. */
void pt_domain_vlog(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
void pt_domain_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
