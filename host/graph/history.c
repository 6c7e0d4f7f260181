/* SPDX-License-Identifier: MIT */
/*
 * host/graph/history - an instance's configuration history, replayed on a
 * restart; folded per key when it outgrows its bound (history.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "host/graph/history.h"
#include "lib/abi/abi.h"

#define REC_HDR (2 * sizeof(uint32_t))

int pt_config_history_next(const struct pt_instance *inst, size_t *at,
			   uint32_t *param, const void **data, size_t *size)
{
	const uint8_t *c = inst->config;
	uint32_t h[2];

	if (*at + REC_HDR > inst->config_size)
		return 0;
	memcpy(h, c + *at, sizeof(h));
	if (h[1] > inst->config_size - *at - REC_HDR)
		return 0;
	*param = h[0];
	*data = c + *at + REC_HDR;
	*size = h[1];
	*at += REC_HDR + h[1];
	return 1;
}

static void put_record(uint8_t *c, size_t *at, uint32_t param, const void *data,
		       size_t size)
{
	uint32_t h[2] = { param, (uint32_t)size };

	memcpy(c + *at, h, sizeof(h));
	if (size)
		memcpy(c + *at + REC_HDR, data, size);
	*at += REC_HDR + size;
}

struct key {
	const char *item;  /* "key=value", the one in force */
	uint32_t ilen, klen;
	uint32_t blob;     /* the record that set it */
	bool used;
};

static uint32_t key_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

int pt_config_history_fold(struct pt_instance *inst)
{
	size_t at = 0, text = 0, other = 0, cap = 1, nkeys = 0, out_at = 0;
	struct key *table;
	uint32_t *order, blob = 0, param;
	const void *data;
	size_t size;
	uint8_t *c;

	while (pt_config_history_next(inst, &at, &param, &data, &size)) {
		if (param == PT_PARAM_TEXT)
			text += size;
		else
			other += REC_HDR + size;
	}
	/* One key per two bytes at most ("k=" is the shortest item). */
	while (cap < text + 2)
		cap <<= 1;
	table = calloc(cap, sizeof(*table));
	order = calloc(cap / 2 + 1, sizeof(*order));
	if (!table || !order) {
		free(table);
		free(order);
		return -ENOMEM;
	}
	at = 0;
	while (pt_config_history_next(inst, &at, &param, &data, &size)) {
		const char *s = data, *end = s + size;

		blob++;
		if (param != PT_PARAM_TEXT)
			continue;
		while (s < end) {
			const char *eq, *item = pt_abi_text_item(&s, end, &eq);
			size_t k;

			if (!eq)
				continue;
			k = key_hash(item, (size_t)(eq - item)) & (cap - 1);
			while (table[k].used &&
			       (table[k].klen != (size_t)(eq - item) ||
				memcmp(table[k].item, item, table[k].klen)))
				k = (k + 1) & (cap - 1);
			if (!table[k].used) {
				table[k].used = true;
				table[k].klen = (uint32_t)(eq - item);
				order[nkeys++] = (uint32_t)k;
			} else if (table[k].blob == blob) {
				continue; /* a key's first item in a blob is the one read */
			}
			table[k].item = item;
			table[k].ilen = (uint32_t)(s - item);
			table[k].blob = blob;
		}
	}
	/* The folded text is no longer than the text it came from plus a
	 * space per key, and a record header per blob it is split into (any
	 * two blobs in a row hold more than PT_CONFIG_MAX bytes). */
	c = malloc(text + nkeys + other + REC_HDR * (2 * text / PT_CONFIG_MAX + 2));
	if (!c) {
		free(table);
		free(order);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nkeys;) {
		size_t start = out_at + REC_HDR, len = 0;

		/* As many items as fit one blob, separated by spaces. */
		for (; i < nkeys; i++) {
			const struct key *e = &table[order[i]];

			if (len && len + 1 + e->ilen > PT_CONFIG_MAX)
				break;
			if (len)
				c[start + len++] = ' ';
			memcpy(c + start + len, e->item, e->ilen);
			len += e->ilen;
		}
		{
			uint32_t h[2] = { PT_PARAM_TEXT, (uint32_t)len };

			memcpy(c + out_at, h, sizeof(h));
		}
		out_at = start + len;
	}
	at = 0;
	while (pt_config_history_next(inst, &at, &param, &data, &size))
		if (param != PT_PARAM_TEXT)
			put_record(c, &out_at, param, data, size);
	free(table);
	free(order);
	free(inst->config);
	inst->config = c;
	inst->config_size = out_at;
	return 0;
}

int pt_config_history_add(struct pt_instance *inst, uint32_t param,
			  const void *data, size_t size)
{
	size_t at = 0, keep = 0, n;
	uint32_t p;
	const void *d;
	size_t sz;
	uint8_t *c;

	/* A binary parameter's earlier blob is replaced: drop it in place. */
	if (param != PT_PARAM_TEXT) {
		while (pt_config_history_next(inst, &at, &p, &d, &sz))
			if (p != param) {
				memmove((uint8_t *)inst->config + keep,
					(const uint8_t *)d - REC_HDR, REC_HDR + sz);
				keep += REC_HDR + sz;
			}
		inst->config_size = keep;
	}
	n = inst->config_size + REC_HDR + size;
	c = realloc(inst->config, n);
	if (!c)
		return -ENOMEM;
	inst->config = c;
	at = inst->config_size;
	put_record(c, &at, param, data, size);
	inst->config_size = n;
	at = 0;
	for (n = 0; n <= PT_CONFIG_HISTORY_RECORDS &&
		    pt_config_history_next(inst, &at, &p, &d, &sz); n++)
		;
	if (inst->config_size > PT_CONFIG_HISTORY_MAX || n > PT_CONFIG_HISTORY_RECORDS)
		return pt_config_history_fold(inst);
	return 0;
}
