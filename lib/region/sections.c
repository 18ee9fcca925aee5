/* SPDX-License-Identifier: MIT */
/*
 * The region layer's section types: the header (the directory's own entry) and the CPU
 * records.
 */
#include "internal.h"

static int header_plan(const struct ipcc_config *cfg, const struct ipcc_geometry *g,
		       struct ipcc_shm_section *out, unsigned cap)
{
	if (cap < 1)
		return -EINVAL;
	out[0] = (struct ipcc_shm_section){ .size = IPCC_SHM_HEADER_SIZE,
					    .count = 1,
					    .stride = IPCC_SHM_HEADER_SIZE,
					    .owner = IPCC_SECTION_OWNER_NONE };
	return 1;
}

static int header_check(struct ipcc_geometry *g, const struct ipcc_shm_section *s)
{
	if (s->offset != 0 || s->size != IPCC_SHM_HEADER_SIZE || s->count != 1 ||
	    s->stride != IPCC_SHM_HEADER_SIZE || s->owner != IPCC_SECTION_OWNER_NONE || s->arg)
		return -EUCLEAN;
	return 0;
}

const struct ipcc_section_type ipcc_section_header = {
	.type = IPCC_SECTION_HEADER,
	.name = "header",
	.layer = "region",
	.required = true,
	.plan = header_plan,
	.check = header_check,
};

static int cpus_plan(const struct ipcc_config *cfg, const struct ipcc_geometry *g,
		     struct ipcc_shm_section *out, unsigned cap)
{
	if (cap < 1)
		return -EINVAL;
	out[0] = (struct ipcc_shm_section){ .size = (uint64_t)g->cpus * IPCC_SHM_CPU_SIZE,
					    .count = g->cpus,
					    .stride = IPCC_SHM_CPU_SIZE,
					    .owner = IPCC_SECTION_OWNER_NONE };
	return 1;
}

static int cpus_check(struct ipcc_geometry *g, const struct ipcc_shm_section *s)
{
	if (s->count != g->cpus || s->stride != IPCC_SHM_CPU_SIZE ||
	    s->size != (uint64_t)g->cpus * IPCC_SHM_CPU_SIZE ||
	    s->owner != IPCC_SECTION_OWNER_NONE || s->arg)
		return -EUCLEAN;
	g->cpu_offset = s->offset;
	return 0;
}

static void cpus_init(struct ipcc_system *sys, const struct ipcc_shm_section *s,
		      const struct ipcc_config *cfg)
{
	for (unsigned i = 0; i < sys->geo.cpus; i++) {
		struct ipcc_shm_cpu *c = ipcc_shm_cpu(sys, i);
		if (cfg->cpu_names[i][0])
			memcpy(c->name, cfg->cpu_names[i], sizeof(c->name));
		else
			ipcc_cpu_name_default(i, c->name);
	}
}

/* Names are the creator's: valid, NUL-padded, unique, or the object is corrupt. */
static int cpus_load(struct ipcc_system *sys, const struct ipcc_shm_section *s)
{
	for (unsigned i = 0; i < sys->geo.cpus; i++) {
		char *mine = sys->cpu_names[i];
		/* One copy out of the shared record: the checks below look at our bytes only. */
		memcpy(mine, ipcc_shm_cpu(sys, i)->name, IPCC_SHM_CPU_NAME_SIZE);
		if (mine[IPCC_SHM_CPU_NAME_SIZE - 1] != '\0' || ipcc_cpu_name_validate(mine) < 0)
			return -EUCLEAN;
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(sys->cpu_names[j], mine))
				return -EUCLEAN;
	}
	return 0;
}

const struct ipcc_section_type ipcc_section_cpus = {
	.type = IPCC_SECTION_CPUS,
	.name = "cpus",
	.layer = "region",
	.required = true,
	.plan = cpus_plan,
	.check = cpus_check,
	.init = cpus_init,
	.load = cpus_load,
};
