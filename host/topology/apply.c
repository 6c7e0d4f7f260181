/* SPDX-License-Identifier: MIT */
/* Applying a topology: each message through the control plane's checks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/control/codec.h"
#include "host/control/control.h"
#include "host/topology/topology.h"

int pt_topology_apply(const struct pt_topology *t, struct pt_graph *g,
		      char *err, size_t errlen)
{
	size_t room = PT_CTL_MSG_MAX;
	uint8_t *reply = malloc(room);
	int ret = 0;

	if (!reply) {
		snprintf(err, errlen, "%s: out of memory", t->path);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->nmsgs; i++) {
		const struct pt_topology_msg *m = &t->msgs[i];
		struct pt_ctl_reply rep;
		char why[PT_CTL_ERR_MAX];
		size_t len = room;

		ret = pt_control_handle(g, m->data, m->size, reply, &len);
		if (!ret)
			continue;
		if (len && !pt_ctl_decode_reply(reply, len, &rep, why, sizeof(why)) &&
		    rep.hdr.status != PT_CTL_OK)
			snprintf(err, errlen, "%s:%u: %s: %s", t->path, m->line, m->what,
				 (const char *)rep.body);
		else
			snprintf(err, errlen, "%s:%u: %s: %s", t->path, m->line, m->what,
				 strerror(-ret));
		break;
	}
	free(reply);
	return ret;
}

bool pt_topology_uses_module(const struct pt_topology *t, const char *module)
{
	char why[PT_CTL_ERR_MAX];

	for (size_t i = 0; i < t->nmsgs; i++) {
		struct pt_ctl_request r;

		if (pt_ctl_decode(t->msgs[i].data, t->msgs[i].size, &r, why,
				  sizeof(why)) != PT_CTL_OK ||
		    r.hdr.type != PT_CTL_INIT_INSTANCE)
			continue;
		if (!strcmp(r.u.init_instance.module, module))
			return true;
	}
	return false;
}

const struct pt_topology_msg *pt_topology_binding_of(const struct pt_topology *t,
						     const char *instance)
{
	char why[PT_CTL_ERR_MAX];
	uint32_t id = 0;

	for (size_t i = 0; i < t->nmsgs; i++) {
		struct pt_ctl_request r;

		if (pt_ctl_decode(t->msgs[i].data, t->msgs[i].size, &r, why,
				  sizeof(why)) != PT_CTL_OK)
			continue;
		if (r.hdr.type == PT_CTL_INIT_INSTANCE &&
		    !strcmp(r.u.init_instance.name, instance))
			id = r.u.init_instance.instance;
		if (id && r.hdr.type == PT_CTL_BIND &&
		    (r.u.bind.src == id || r.u.bind.dst == id))
			return &t->msgs[i];
	}
	return NULL;
}
