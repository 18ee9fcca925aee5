/* SPDX-License-Identifier: MIT */
/*
 * The layout: one planner used by create (and ipcc_config_size / ipcc_config_plan) and one
 * checker used by open, over the section types every layer registers (lib/layers.c), so the
 * two can never disagree.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

bool ipcc_geometry_pair_linked(const uint64_t link_map[IPCC_LINK_MAP_WORDS], unsigned a, unsigned b)
{
	assert(a < b && b < IPCC_CPUS_MAX);
	return (link_map[a] >> b) & 1u;
}

int ipcc_geometry_base(unsigned cpus, unsigned channels, uint32_t buffer_size,
		       const uint64_t link_map[IPCC_LINK_MAP_WORDS], struct ipcc_geometry *ret)
{
	struct ipcc_geometry g = { 0 };

	if (cpus < IPCC_CPUS_MIN || cpus > IPCC_CPUS_MAX)
		return -EINVAL;
	if (channels < IPCC_CHANNELS_MIN || channels > IPCC_CHANNELS_MAX)
		return -EINVAL;
	if (buffer_size < IPCC_BUFFER_SIZE_MIN || buffer_size > IPCC_BUFFER_SIZE_MAX)
		return -EINVAL;

	for (unsigned a = 0; a < IPCC_CPUS_MAX; a++) {
		/* Only bits b > a of CPUs below `cpus` may be set: anything else is not ours. */
		uint64_t allowed = 0;
		if (a < cpus) {
			uint64_t below_cpus = cpus == 64 ? ~0ull : (1ull << cpus) - 1;
			uint64_t above_a = a == 63 ? 0 : ~0ull << (a + 1);
			allowed = below_cpus & above_a;
		}
		g.link_map[a] = link_map[a] & allowed;
		g.link_count += (unsigned)__builtin_popcountll(g.link_map[a]);
	}
	if (g.link_count == 0)
		return -EINVAL;

	g.cpus = cpus;
	g.channels = channels;
	g.buffer_size = buffer_size;
	g.chmask = (1u << channels) - 1;
	g.slot_stride =
		(uint32_t)align_up(sizeof(struct ipcc_shm_slot) + buffer_size, IPCC_CACHE_LINE);
	g.link_stride = IPCC_SHM_LINK_SIZE + 2ull * channels * g.slot_stride;
	*ret = g;
	return 0;
}

int ipcc_name_validate(const char *name)
{
	if (!name || name[0] != '/' || name[1] == '\0')
		return -EINVAL;
	size_t len = strnlen(name + 1, IPCC_NAME_MAX + 1);
	if (len > IPCC_NAME_MAX)
		return -EINVAL;
	if (memchr(name + 1, '/', len))
		return -EINVAL;
	if (!strcmp(name, "/.") || !strcmp(name, "/.."))
		return -EINVAL;
	return 0;
}

static bool name_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '-' || c == '_' || c == '.');
}

int ipcc_cpu_name_validate(const char *name)
{
	if (!name)
		return -EINVAL;
	size_t len = strnlen(name, IPCC_CPU_NAME_MAX + 1);
	if (len == 0 || len > IPCC_CPU_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!name_char(name[i], i == 0))
			return -EINVAL;
	return 0;
}

void ipcc_cpu_name_default(unsigned id, char name[IPCC_SHM_CPU_NAME_SIZE])
{
	snprintf(name, IPCC_SHM_CPU_NAME_SIZE, "cpu%u", id);
}

/* "cpuK" with K a number other than id: a name that could clash with a default name. */
static bool steals_default(const char *name, unsigned id)
{
	char own[IPCC_SHM_CPU_NAME_SIZE];
	if (strncmp(name, "cpu", 3) != 0 || name[3] == '\0')
		return false;
	for (const char *p = name + 3; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	ipcc_cpu_name_default(id, own);
	return strcmp(name, own) != 0;
}

IPCC_EXPORT int ipcc_config_set_cpu_name(struct ipcc_config *cfg, unsigned id, const char *name)
{
	if (!cfg || id >= IPCC_CPUS_MAX)
		return -EINVAL;
	if (!name || !name[0]) {
		cfg->cpu_names[id][0] = '\0';
		return 0;
	}
	if (ipcc_cpu_name_validate(name) < 0 || steals_default(name, id))
		return -EINVAL;
	for (unsigned i = 0; i < IPCC_CPUS_MAX; i++)
		if (i != id && !strncmp(cfg->cpu_names[i], name, sizeof(cfg->cpu_names[i])))
			return -EEXIST;
	snprintf(cfg->cpu_names[id], sizeof(cfg->cpu_names[id]), "%s", name);
	return 0;
}

/* The names of a config's CPUs are valid and unique (empty ones are the defaults). */
static int config_names_check(const struct ipcc_config *cfg)
{
	for (unsigned i = 0; i < cfg->cpus; i++) {
		const char *n = cfg->cpu_names[i];
		if (!memchr(n, '\0', sizeof(cfg->cpu_names[i])))
			return -EINVAL;
		if (!n[0])
			continue;
		if (ipcc_cpu_name_validate(n) < 0 || steals_default(n, i))
			return -EINVAL;
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(cfg->cpu_names[j], n))
				return -EINVAL;
	}
	return 0;
}

const struct ipcc_section_type *ipcc_section_type_find(uint32_t type)
{
	for (unsigned i = 0; i < ipcc_section_type_count; i++)
		if (ipcc_section_types[i]->type == type)
			return ipcc_section_types[i];
	return NULL;
}

int ipcc_layout_plan(const struct ipcc_config *cfg, struct ipcc_geometry *ret)
{
	struct ipcc_geometry g;
	int r = ipcc_geometry_base(cfg->cpus, cfg->channels, cfg->buffer_size, cfg->links, &g);
	if (r < 0)
		return r;
	r = config_names_check(cfg);
	if (r < 0)
		return r;

	/* Every layer's sections, in layer order, one after the other. */
	uint64_t end = 0;
	for (unsigned t = 0; t < ipcc_section_type_count; t++) {
		const struct ipcc_section_type *type = ipcc_section_types[t];
		struct ipcc_shm_section *out = &g.sections[g.section_count];
		r = type->plan(cfg, &g, out, IPCC_SECTIONS_MAX - g.section_count);
		if (r < 0)
			return r;
		for (int i = 0; i < r; i++) {
			out[i].type = type->type;
			out[i].offset = align_up(end, IPCC_SECTION_ALIGN);
			out[i].size = align_up(out[i].size, IPCC_SECTION_ALIGN);
			end = out[i].offset + out[i].size;
			if (end > IPCC_SYSTEM_SIZE_MAX)
				return -EINVAL;
			if (type->check(&g, &out[i]) < 0) /* records the offsets it needs */
				return -EINVAL;
		}
		g.section_count += (unsigned)r;
	}
	g.total_size = end;
	*ret = g;
	return 0;
}

/* Generic checks of one entry: 0, -EUCLEAN (malformed) or -EOPNOTSUPP (unknown, required). */
static int entry_check(const struct ipcc_shm_section *s, uint64_t total)
{
	if (s->offset % IPCC_SECTION_ALIGN || s->size % IPCC_SECTION_ALIGN || s->size == 0)
		return -EUCLEAN;
	if (s->offset > total || s->size > total - s->offset)
		return -EUCLEAN;
	if (s->count == 0 || s->stride == 0 || (uint64_t)s->count * s->stride > s->size)
		return -EUCLEAN;
	return 0;
}

int ipcc_layout_check(const struct ipcc_shm_header *h, uint64_t size, struct ipcc_geometry *ret)
{
	struct ipcc_geometry g;
	unsigned seen[IPCC_SECTIONS_MAX] = { 0 }; /* per type index: how many */

	if (h->magic != IPCC_LAYOUT_MAGIC)
		return -EPROTO;
	if (h->layout_version != IPCC_LAYOUT_VERSION)
		return -EPROTONOSUPPORT;
	if (h->incompat_features & ~IPCC_INCOMPAT_KNOWN)
		return -EOPNOTSUPP;
	if (h->header_size != IPCC_SHM_HEADER_SIZE ||
	    h->section_size != sizeof(struct ipcc_shm_section))
		return -EUCLEAN;
	if (ipcc_geometry_base(h->cpus, h->channels, h->buffer_size, h->link_map, &g) < 0)
		return -EUCLEAN;
	/* Bits outside the upper triangle of the CPUs present are corruption, not ignorable. */
	if (memcmp(g.link_map, h->link_map, sizeof(g.link_map)) != 0 ||
	    h->link_count != g.link_count)
		return -EUCLEAN;
	if (h->total_size > IPCC_SYSTEM_SIZE_MAX || h->total_size < IPCC_SHM_HEADER_SIZE)
		return -EUCLEAN;
	if (h->section_count == 0 || h->section_count > IPCC_SECTIONS_MAX)
		return -EUCLEAN;
	g.total_size = h->total_size;
	_Static_assert(IPCC_SECTIONS_MAX >= 8, "room for the built-in types");

	uint64_t prev_end = 0;
	for (unsigned i = 0; i < h->section_count; i++) {
		const struct ipcc_shm_section *s = &h->sections[i];
		int r = entry_check(s, g.total_size);
		if (r < 0)
			return r;
		/* Address order, no overlap: the creator writes them sorted. */
		if (i > 0 && s->offset < prev_end)
			return -EUCLEAN;
		prev_end = s->offset + s->size;
		const struct ipcc_section_type *type = ipcc_section_type_find(s->type);
		if (!type) {
			if (!(s->type & IPCC_SECTION_COMPAT))
				return -EOPNOTSUPP;
			g.sections[g.section_count++] = *s; /* kept for ipcc info; never used */
			continue;
		}
		if (s->flags != 0 || type->check(&g, s) < 0)
			return -EUCLEAN;
		for (unsigned t = 0; t < ipcc_section_type_count; t++)
			if (ipcc_section_types[t] == type)
				seen[t]++;
		g.sections[g.section_count++] = *s;
	}
	for (unsigned t = 0; t < ipcc_section_type_count; t++)
		if (ipcc_section_types[t]->required && seen[t] != 1)
			return -EUCLEAN;
	if (size < g.total_size)
		return -EBADMSG;
	*ret = g;
	return 0;
}

/* The plan of cfg (NULL: defaults) in a heap copy (a geometry is 4 KiB): free it. */
static int plan_new(const struct ipcc_config *cfg, struct ipcc_geometry **ret)
{
	struct ipcc_config defaults;
	if (!cfg) {
		ipcc_config_init(&defaults);
		cfg = &defaults;
	}
	struct ipcc_geometry *g = malloc(sizeof(*g));
	if (!g)
		return -ENOMEM;
	int r = ipcc_layout_plan(cfg, g);
	if (r < 0) {
		free(g);
		return r;
	}
	*ret = g;
	return 0;
}

IPCC_EXPORT int ipcc_config_size(const struct ipcc_config *cfg, uint64_t *ret_size)
{
	struct ipcc_geometry *g;
	if (!ret_size)
		return -EINVAL;
	int r = plan_new(cfg, &g);
	if (r < 0)
		return r;
	*ret_size = g->total_size;
	free(g);
	return 0;
}

static void section_info(const struct ipcc_shm_section *s, struct ipcc_section_info *ret)
{
	const struct ipcc_section_type *type = ipcc_section_type_find(s->type);
	*ret = (struct ipcc_section_info){
		.type = s->type,
		.name = type ? type->name : "unknown",
		.layer = type ? type->layer : "unknown",
		.offset = s->offset,
		.size = s->size,
		.count = s->count,
		.stride = s->stride,
		.owner_cpu = s->owner == IPCC_SECTION_OWNER_NONE ? -1 : (int)s->owner,
	};
}

/* Describe g's directory into ret[0..cap); returns the section count. */
int ipcc_layout_describe(const struct ipcc_geometry *g, struct ipcc_section_info *ret, unsigned cap)
{
	for (unsigned i = 0; i < g->section_count && i < cap; i++)
		section_info(&g->sections[i], &ret[i]);
	return (int)g->section_count;
}

IPCC_EXPORT int ipcc_config_plan(const struct ipcc_config *cfg, struct ipcc_section_info *ret,
				 unsigned cap)
{
	struct ipcc_geometry *g;
	if (!ret && cap)
		return -EINVAL;
	int r = plan_new(cfg, &g);
	if (r < 0)
		return r;
	r = ipcc_layout_describe(g, ret, cap);
	free(g);
	return r;
}
