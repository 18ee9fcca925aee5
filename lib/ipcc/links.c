/* SPDX-License-Identifier: MIT */
/*
 * The ipcc layer's section type: the links (one IPCC instance per linked CPU pair, with its
 * register banks, status registers, channel owners and channel slots).
 */
#include <ipcc/notify.h>
#include <ipcc/rpmsg.h>

#include "internal.h"

static int links_plan(const struct ipcc_config *cfg, const struct ipcc_geometry *g,
		      struct ipcc_shm_section *out, unsigned cap)
{
	if (cap < 1)
		return -EINVAL;
	out[0] = (struct ipcc_shm_section){ .size = (uint64_t)g->link_count * g->link_stride,
					    .count = g->link_count,
					    .stride = (uint32_t)g->link_stride,
					    .owner = IPCC_SECTION_OWNER_NONE,
					    .arg = g->slot_stride };
	return 1;
}

static int links_check(struct ipcc_geometry *g, const struct ipcc_shm_section *s)
{
	if (s->count != g->link_count || s->stride != g->link_stride ||
	    s->size != (uint64_t)g->link_count * g->link_stride || s->arg != g->slot_stride ||
	    s->owner != IPCC_SECTION_OWNER_NONE)
		return -EUCLEAN;
	g->link_offset = s->offset;
	return 0;
}

static void links_init(struct ipcc_system *sys, const struct ipcc_shm_section *s,
		       const struct ipcc_config *cfg)
{
	for (unsigned i = 0; i < sys->geo.link_count; i++)
		for (unsigned p = 0; p < 2; p++)
			ipcc_link_reset_bank(sys, &sys->links[i], p);
}

/* Channel owners are the creator's: copy them; a channel a service owns is refused to the rest. */
static int links_load(struct ipcc_system *sys, const struct ipcc_shm_section *s)
{
	for (unsigned i = 0; i < sys->geo.link_count; i++) {
		struct ipcc_link *l = &sys->links[i];
		memcpy(l->chan_owner, l->shm->chan_owner, sizeof(l->chan_owner));
		l->reserved = 0;
		for (unsigned ch = 0; ch < IPCC_CHANNELS_MAX; ch++) {
			if (l->chan_owner[ch] == IPCC_CHAN_OWNER_PROC)
				continue;
			if (ch >= sys->geo.channels)
				return -EUCLEAN; /* an owner for a channel that does not exist */
			l->reserved |= 1u << ch;
		}
	}
	return 0;
}

const struct ipcc_section_type ipcc_section_links = {
	.type = IPCC_SECTION_LINKS,
	.name = "links",
	.layer = "ipcc",
	.required = true,
	.plan = links_plan,
	.check = links_check,
	.init = links_init,
	.load = links_load,
};

int ipcc_link_reserve(struct ipcc_system *sys, struct ipcc_link *l, unsigned ch, uint8_t owner)
{
	if (ch >= sys->geo.channels || owner == IPCC_CHAN_OWNER_PROC)
		return -EINVAL;
	if (l->chan_owner[ch] != IPCC_CHAN_OWNER_PROC)
		return l->chan_owner[ch] == owner ? 0 : -EBUSY;
	l->shm->chan_owner[ch] = owner;
	l->chan_owner[ch] = owner;
	l->reserved |= 1u << ch;
	return 0;
}

IPCC_EXPORT int ipcc_system_channel_owner(const struct ipcc_system *sys, unsigned a, unsigned b,
					  unsigned ch)
{
	if (!sys || a >= sys->geo.cpus || b >= sys->geo.cpus || a == b || ch >= sys->geo.channels)
		return -EINVAL;
	const struct ipcc_link *l = ipcc_link_get(sys, a, b);
	return l ? l->chan_owner[ch] : -ENOENT;
}

IPCC_EXPORT const char *ipcc_service_name(unsigned id)
{
	switch (id) {
	case IPCC_CHAN_OWNER_PROC:
		return "procedures";
	case IPCC_SERVICE_NOTIFY:
		return "notify";
	case IPCC_SERVICE_RPMSG:
		return "rpmsg";
	}
	return NULL;
}

/*
 * The register banks of an attaching CPU start from their reset values (RM: the core reset),
 * unless it asked to find them as they are (IPCC_CPU_KEEP_REGS: a core restart, which does not
 * reset the IPCC on the chip). The services above set up their channels after this either way.
 */
static int ipcc_attach(struct ipcc_cpu *cpu, const struct ipcc_cpu_options *opt)
{
	if (opt->flags & IPCC_CPU_KEEP_REGS)
		return 0;
	for (unsigned peer = 0; peer < cpu->sys->geo.cpus; peer++) {
		struct ipcc_link *l = ipcc_link_get(cpu->sys, cpu->id, peer);
		if (l)
			ipcc_link_reset_bank(cpu->sys, l, ipcc_link_proc(l, cpu->id));
	}
	return 0;
}

/* The ipcc layer in the registry (lib/layers.c). */
const struct ipcc_layer ipcc_layer_ipcc = {
	.name = "ipcc",
	.attach = ipcc_attach,
};
