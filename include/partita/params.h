/* SPDX-License-Identifier: MIT */
/*
 * partita/params.h - checked text parameters, for every module: the ones
 * that ship and the ones built with the SDK (sdk/template uses them).
 *
 * Header-only, on top of pt_param_* from the public ABI. Every module parses
 * its init blob and its PT_PARAM_TEXT config blobs the same way: start from
 * the parameters in force, apply each key present, refuse the whole blob
 * (with one pt_log line naming the key and the allowed range) if any key is
 * unknown, not a number or out of range. Nothing changes on a refusal.
 */
#ifndef PT_PARAMS_H
#define PT_PARAMS_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <partita/module.h>

static inline bool pt_params_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';' ||
	       c == '\0';
}

/* Steps *@s over the separators and the item after them (before @end):
 * returns false when no item is left, else true with *@item its start and
 * *@eq its '=' (NULL when it has none); the item ends at the new *@s. */
static inline bool pt_params_next(const char **s, const char *end,
				  const char **item, const char **eq)
{
	while (*s < end && pt_params_sep(**s))
		(*s)++;
	if (*s == end)
		return false;
	*item = *s;
	while (*s < end && !pt_params_sep(**s))
		(*s)++;
	*eq = memchr(*item, '=', (size_t)(*s - *item));
	return true;
}

/* pt_params_next for items that must be "key=value": returns 1, 0 when no
 * item is left, or -EINVAL after logging an item that has no '='. */
static inline int pt_params_item(struct pt_module *mod, const char **s,
				 const char *end, const char **item,
				 const char **eq)
{
	if (!pt_params_next(s, end, item, eq))
		return 0;
	if (!*eq) {
		pt_log(mod, PT_LOG_ERR, "parameter '%.*s' has no '=value'",
		       (int)(*s - *item), *item);
		return -EINVAL;
	}
	return 1;
}

/* Whether the @n bytes at @key are one of @keys (NULL-terminated). */
static inline bool pt_params_in(const char *const *keys, const char *key,
				size_t n)
{
	for (size_t i = 0; keys[i]; i++)
		if (strlen(keys[i]) == n && !memcmp(keys[i], key, n))
			return true;
	return false;
}

/* Checks that every "key=value" item of @blob names a key in @known
 * (NULL-terminated). Returns 0, or -EINVAL after logging the first item
 * that is not one of them or has no '='. */
static inline int pt_params_known(struct pt_module *mod, const void *blob,
			       size_t size, const char *const *known)
{
	const char *s = blob, *end = s + size, *item, *eq;
	int ret;

	if (!blob)
		return 0;
	while ((ret = pt_params_item(mod, &s, end, &item, &eq)) > 0) {
		if (!pt_params_in(known, item, (size_t)(eq - item))) {
			pt_log(mod, PT_LOG_ERR, "unknown parameter '%.*s'",
			       (int)(eq - item), item);
			return -EINVAL;
		}
	}
	return ret;
}

/* Reads @key as a number in [@lo, @hi] into *@val when present. Returns 1
 * when set, 0 when absent (*@val untouched), -EINVAL after logging. */
static inline int pt_params_number(struct pt_module *mod, const void *blob,
				   size_t size, const char *key, double lo,
				   double hi, double *val)
{
	double v;
	int ret = pt_param_double(blob, size, key, &v);

	if (ret == -ENOENT)
		return 0;
	if (ret) {
		char text[64], *end;

		/* A number too large for a double (1e400) is out of range,
		 * not "not a number". */
		if (pt_param_string(blob, size, key, text, sizeof(text)) >= 0 &&
		    text[0] && (strtod(text, &end), !*end))
			pt_log(mod, PT_LOG_ERR, "%s=%s out of range [%g, %g]", key,
			       text, lo, hi);
		else
			pt_log(mod, PT_LOG_ERR, "%s: not a number", key);
		return -EINVAL;
	}
	if (v < lo || v > hi) {
		pt_log(mod, PT_LOG_ERR, "%s=%g out of range [%g, %g]", key, v,
		       lo, hi);
		return -EINVAL;
	}
	*val = v;
	return 1;
}

/* Reads @key as a comma list of 1..@max numbers, each in [@lo, @hi].
 * Returns how many were stored, 0 when absent, -EINVAL after logging. */
static inline int pt_params_list(struct pt_module *mod, const void *blob,
			      size_t size, const char *key, double lo, double hi,
			      double *out, size_t max)
{
	int n = pt_param_doubles(blob, size, key, out, max);

	if (n == -ENOENT)
		return 0;
	if (n == -E2BIG) {
		pt_log(mod, PT_LOG_ERR, "%s: more than %zu values", key, max);
		return -EINVAL;
	}
	if (n < 0) {
		pt_log(mod, PT_LOG_ERR, "%s: not a list of numbers", key);
		return -EINVAL;
	}
	if (n == 0) {
		pt_log(mod, PT_LOG_ERR, "%s: empty list", key);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++)
		if (out[i] < lo || out[i] > hi) {
			pt_log(mod, PT_LOG_ERR, "%s[%d]=%g out of range [%g, %g]",
			       key, i, out[i], lo, hi);
			return -EINVAL;
		}
	return n;
}

/* Returns how many comma-separated items @key's value holds (0 when @key
 * is absent), so a module can size a list before parsing it. */
static inline size_t pt_params_count(const void *blob, size_t size,
				  const char *key)
{
	const char *s = blob, *end = s + size, *item, *eq;
	size_t klen = strlen(key);

	if (!blob)
		return 0;
	while (pt_params_next(&s, end, &item, &eq)) {
		if ((size_t)(s - item) > klen && item[klen] == '=' &&
		    !memcmp(item, key, klen)) {
			size_t n = 1;

			for (const char *v = item + klen + 1; v < s; v++)
				n += *v == ',';
			return n;
		}
	}
	return 0;
}

/* A get_config reply under construction. */
struct pt_params_text {
	char buf[4096];
	size_t len;
	bool overflow;
};

/* Appends printf-formatted text to @t. */
__attribute__((format(printf, 2, 3)))
static inline void pt_params_printf(struct pt_params_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(t->buf) - t->len)
		t->overflow = true;
	else
		t->len += (size_t)n;
}

/* Copies @t into a get_config reply (no NUL). Returns 0, -ENOSPC when the
 * room is too small (or the text overflowed), -EINVAL for @param other than
 * PT_PARAM_TEXT. */
static inline int pt_params_reply(const struct pt_params_text *t, uint32_t param,
			       void *data, size_t *size)
{
	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	if (t->overflow || t->len > *size)
		return -ENOSPC;
	memcpy(data, t->buf, t->len);
	*size = t->len;
	return 0;
}

#endif /* PT_PARAMS_H */
