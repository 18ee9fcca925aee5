/* SPDX-License-Identifier: MIT */
/*
 * User regions (include/ipcc/region.h): the regions section type, the region layer's
 * per-handle state (its copy of the region table) and the address arithmetic.
 *
 * Placement, the one function both the creator and ipcc_region_plan use (region_place): after
 * the head and the table, each region at the next multiple of max(its alignment, a cache
 * line), its end rounded up to a cache line. The section is 64-byte aligned only, so the plan
 * reserves the worst case of the padding, max(align, 64) - 64 per region; the table says where
 * each region went, and an opener checks the table, not the arithmetic.
 */
#include <stdint.h>
#include <stdlib.h>

#include <ipcc/region.h>

#include "internal.h"

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static bool pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static uint64_t slot_align(uint32_t align)
{
	return align > IPCC_CACHE_LINE ? align : IPCC_CACHE_LINE;
}

/* 1..IPCC_REGION_NAME_MAX bytes of [A-Za-z0-9_.-], starting with a letter or a digit. */
static bool name_ok(const char *name, size_t room)
{
	size_t len = strnlen(name, room);
	if (len == 0 || len > IPCC_REGION_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool alnum =
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.')))
			return false;
	}
	return true;
}

/* ---- config ------------------------------------------------------------------------------- */

IPCC_EXPORT void ipcc_region_config_init(struct ipcc_region_config *rcfg)
{
	if (rcfg)
		memset(rcfg, 0, sizeof(*rcfg));
}

static bool spec_ok(const struct ipcc_region_spec *s)
{
	if (!name_ok(s->name, sizeof(s->name)) || s->size == 0 || s->size > IPCC_SYSTEM_SIZE_MAX ||
	    !pow2(s->align) || s->align > IPCC_REGION_ALIGN_MAX)
		return false;
	for (unsigned i = 0; i < sizeof(s->reserved) / sizeof(s->reserved[0]); i++)
		if (s->reserved[i])
			return false;
	return true;
}

static int config_check(const struct ipcc_region_config *rc)
{
	if (rc->count > IPCC_REGIONS_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < sizeof(rc->reserved) / sizeof(rc->reserved[0]); i++)
		if (rc->reserved[i])
			return -EINVAL;
	for (unsigned i = 0; i < rc->count; i++) {
		if (!spec_ok(&rc->regions[i]))
			return -EINVAL;
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(rc->regions[i].name, rc->regions[j].name))
				return -EINVAL;
	}
	return 0;
}

IPCC_EXPORT int ipcc_region_config_add(struct ipcc_region_config *rcfg, const char *name,
				       uint64_t size, uint32_t align)
{
	if (!rcfg || !name || rcfg->count > IPCC_REGIONS_MAX)
		return -EINVAL;
	struct ipcc_region_spec s = { .size = size,
				      .align = align ? align : IPCC_REGION_ALIGN_DEFAULT };
	if (strlen(name) > IPCC_REGION_NAME_MAX)
		return -EINVAL;
	memcpy(s.name, name, strlen(name));
	if (!spec_ok(&s))
		return -EINVAL;
	for (unsigned i = 0; i < rcfg->count; i++)
		if (!strcmp(rcfg->regions[i].name, name))
			return -EEXIST;
	if (rcfg->count == IPCC_REGIONS_MAX)
		return -ENOSPC;
	rcfg->regions[rcfg->count++] = s;
	return 0;
}

/* The regions of a config that has some (NULL otherwise). */
static const struct ipcc_region_config *config_regions(const struct ipcc_config *cfg)
{
	return cfg->regions && cfg->regions->count ? cfg->regions : NULL;
}

static uint64_t table_size(unsigned count)
{
	return IPCC_SHM_REGIONS_HEAD_SIZE + (uint64_t)count * IPCC_SHM_REGION_SIZE;
}

/* Where each region of rc goes in a section at object offset `base` (see the file comment). */
static void region_place(const struct ipcc_region_config *rc, uint64_t base,
			 uint64_t offsets[IPCC_REGIONS_MAX])
{
	uint64_t at = base + table_size(rc->count);
	for (unsigned i = 0; i < rc->count; i++) {
		at = align_up(at, slot_align(rc->regions[i].align));
		offsets[i] = at;
		at = align_up(at + rc->regions[i].size, IPCC_CACHE_LINE);
	}
}

/* ---- the section type --------------------------------------------------------------------- */

/* The region layer's per-handle state (sys->layer[IPCC_LAYER_REGION]): the checked table. */
struct region_view {
	unsigned count;
	struct {
		char name[IPCC_SHM_REGION_NAME_SIZE];
		uint64_t offset, size;
		uint32_t align;
	} r[IPCC_REGIONS_MAX];
};

static struct region_view *rview(const struct ipcc_system *sys)
{
	return (struct region_view *)sys->layer[IPCC_LAYER_REGION];
}

static int regions_plan(const struct ipcc_config *cfg, const struct ipcc_geometry *g,
			struct ipcc_shm_section *out, unsigned cap)
{
	const struct ipcc_region_config *rc = config_regions(cfg);
	(void)g;
	if (!cfg->regions)
		return 0;
	if (config_check(cfg->regions) < 0)
		return -EINVAL;
	if (!rc)
		return 0;
	if (cap < 1)
		return -EINVAL;
	uint64_t size = table_size(rc->count);
	for (unsigned i = 0; i < rc->count; i++)
		size += slot_align(rc->regions[i].align) - IPCC_CACHE_LINE +
			align_up(rc->regions[i].size, IPCC_CACHE_LINE);
	out[0] = (struct ipcc_shm_section){
		.size = size,
		.count = rc->count,
		.stride = IPCC_SHM_REGION_SIZE,
		.owner = IPCC_SECTION_OWNER_NONE,
	};
	return 1;
}

static int regions_check(struct ipcc_geometry *g, const struct ipcc_shm_section *s)
{
	(void)g;
	if (s->count > IPCC_REGIONS_MAX || s->stride != IPCC_SHM_REGION_SIZE ||
	    s->owner != IPCC_SECTION_OWNER_NONE || s->arg ||
	    s->size < table_size(s->count) + s->count)
		return -EUCLEAN;
	return 0;
}

static void regions_init(struct ipcc_system *sys, const struct ipcc_shm_section *s,
			 const struct ipcc_config *cfg)
{
	const struct ipcc_region_config *rc = config_regions(cfg);
	struct ipcc_shm_regions_head *h = (struct ipcc_shm_regions_head *)(sys->base + s->offset);
	struct ipcc_shm_region *e = (struct ipcc_shm_region *)(h + 1);
	uint64_t offsets[IPCC_REGIONS_MAX];

	region_place(rc, s->offset, offsets);
	h->magic = IPCC_REGIONS_MAGIC;
	h->count = rc->count;
	h->entry_size = IPCC_SHM_REGION_SIZE;
	for (unsigned i = 0; i < rc->count; i++) {
		memcpy(e[i].name, rc->regions[i].name, sizeof(e[i].name));
		e[i].offset = offsets[i];
		e[i].size = rc->regions[i].size;
		e[i].align = rc->regions[i].align;
	}
}

/* Validate the creator's table (our copy of it) and keep it. */
static int regions_load(struct ipcc_system *sys, const struct ipcc_shm_section *s)
{
	struct region_view *v = rview(sys);
	struct ipcc_shm_regions_head h;
	struct ipcc_shm_region e[IPCC_REGIONS_MAX];

	if (v->count)
		return -EUCLEAN; /* a second regions section */
	/* One copy: a peer may rewrite the table between a check and a use. */
	memcpy(&h, sys->base + s->offset, sizeof(h));
	if (h.magic != IPCC_REGIONS_MAGIC || h.count != s->count || h.count == 0 ||
	    h.entry_size != IPCC_SHM_REGION_SIZE)
		return -EUCLEAN;
	memcpy(e, sys->base + s->offset + sizeof(h), h.count * sizeof(e[0]));
	uint64_t at = s->offset + table_size(h.count), end = s->offset + s->size;
	for (unsigned i = 0; i < h.count; i++) {
		const struct ipcc_shm_region *r = &e[i];
		if (r->name[sizeof(r->name) - 1] || !name_ok(r->name, sizeof(r->name)) ||
		    !pow2(r->align) || r->align > IPCC_REGION_ALIGN_MAX ||
		    r->offset % slot_align(r->align) || r->offset < at || r->offset > end ||
		    r->size == 0 || r->size > end - r->offset)
			return -EUCLEAN;
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(e[j].name, r->name))
				return -EUCLEAN;
		at = r->offset + r->size;
		memcpy(v->r[i].name, r->name, sizeof(v->r[i].name));
		v->r[i].offset = r->offset;
		v->r[i].size = r->size;
		v->r[i].align = r->align;
	}
	v->count = h.count;
	return 0;
}

/* ipcc_system_open_or_create: the regions asked for are there, as asked, or none are. */
static bool regions_matches(const struct ipcc_system *sys, const struct ipcc_config *cfg)
{
	const struct ipcc_region_config *rc = config_regions(cfg);
	const struct region_view *v = rview(sys);
	if (!rc)
		return v->count == 0;
	if (rc->count != v->count)
		return false;
	for (unsigned i = 0; i < rc->count; i++)
		if (strcmp(rc->regions[i].name, v->r[i].name) ||
		    rc->regions[i].size != v->r[i].size || rc->regions[i].align != v->r[i].align)
			return false;
	return true;
}

const struct ipcc_section_type ipcc_section_user = {
	.type = IPCC_SECTION_REGIONS,
	.name = "regions",
	.layer = "region",
	.required = false,
	.plan = regions_plan,
	.check = regions_check,
	.init = regions_init,
	.load = regions_load,
	.matches = regions_matches,
};

static int region_open(struct ipcc_system *sys)
{
	struct region_view *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	sys->layer[IPCC_LAYER_REGION] = v;
	return 0;
}

static void region_close(struct ipcc_system *sys)
{
	free(sys->layer[IPCC_LAYER_REGION]);
	sys->layer[IPCC_LAYER_REGION] = NULL;
}

const struct ipcc_layer ipcc_layer_region = {
	.name = "region",
	.open = region_open,
	.close = region_close,
};

/* ---- the API ------------------------------------------------------------------------------ */

IPCC_EXPORT int ipcc_region_plan(const struct ipcc_config *cfg, struct ipcc_region_info *ret,
				 unsigned cap)
{
	if (!cfg || (!ret && cap))
		return -EINVAL;
	struct ipcc_geometry *g = malloc(sizeof(*g));
	if (!g)
		return -ENOMEM;
	int r = ipcc_layout_plan(cfg, g);
	const struct ipcc_region_config *rc = config_regions(cfg);
	if (r == 0 && rc) {
		uint64_t offsets[IPCC_REGIONS_MAX];
		for (unsigned i = 0; i < g->section_count; i++)
			if (g->sections[i].type == IPCC_SECTION_REGIONS)
				region_place(rc, g->sections[i].offset, offsets);
		for (unsigned i = 0; i < rc->count && i < cap; i++)
			ret[i] = (struct ipcc_region_info){
				.name = rc->regions[i].name,
				.index = i,
				.align = rc->regions[i].align,
				.offset = offsets[i],
				.size = rc->regions[i].size,
			};
		r = (int)rc->count;
	}
	free(g);
	return r;
}

IPCC_EXPORT int ipcc_region_count(const struct ipcc_system *sys)
{
	return sys ? (int)rview(sys)->count : -EINVAL;
}

IPCC_EXPORT int ipcc_region_get(const struct ipcc_system *sys, unsigned index,
				struct ipcc_region_info *ret_info)
{
	if (!sys || !ret_info)
		return -EINVAL;
	const struct region_view *v = rview(sys);
	if (index >= v->count)
		return -ENOENT;
	*ret_info = (struct ipcc_region_info){
		.name = v->r[index].name,
		.index = index,
		.align = v->r[index].align,
		.offset = v->r[index].offset,
		.size = v->r[index].size,
		.addr = sys->base + v->r[index].offset,
	};
	return 0;
}

IPCC_EXPORT int ipcc_region_find(const struct ipcc_system *sys, const char *name,
				 struct ipcc_region_info *ret_info)
{
	if (!sys || !name || !ret_info)
		return -EINVAL;
	const struct region_view *v = rview(sys);
	for (unsigned i = 0; i < v->count; i++)
		if (!strcmp(v->r[i].name, name))
			return ipcc_region_get(sys, i, ret_info);
	return -ENOENT;
}

IPCC_EXPORT int ipcc_region_ptr(const struct ipcc_system *sys, unsigned index, uint64_t offset,
				size_t len, void **ret_ptr)
{
	if (!sys || !ret_ptr)
		return -EINVAL;
	const struct region_view *v = rview(sys);
	if (index >= v->count)
		return -ENOENT;
	if (offset > v->r[index].size || len > v->r[index].size - offset)
		return -ERANGE;
	*ret_ptr = sys->base + v->r[index].offset + offset;
	return 0;
}

IPCC_EXPORT int ipcc_region_offset(const struct ipcc_system *sys, unsigned index, const void *ptr,
				   size_t len, uint64_t *ret_offset)
{
	if (!sys || !ret_offset)
		return -EINVAL;
	const struct region_view *v = rview(sys);
	if (index >= v->count)
		return -ENOENT;
	/* As integers: comparing pointers into different objects is undefined in C. */
	uintptr_t start = (uintptr_t)(sys->base + v->r[index].offset), p = (uintptr_t)ptr;
	if (p < start || p - start > v->r[index].size || len > v->r[index].size - (p - start))
		return -EFAULT;
	*ret_offset = p - start;
	return 0;
}
