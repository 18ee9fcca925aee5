/* SPDX-License-Identifier: MIT */
/*
 * User regions: named blocks of the shared object for the application's own data (a frame
 * buffer, a table, the large payload a message refers to), declared in the configuration
 * (ipcc_config.regions, or `regions:` in a system description) and placed by the library
 * beside its own sections.
 *
 * Each process maps the object at an address of its own, so a pointer into a region means
 * nothing to another process: messages carry offsets, and each side converts with
 * ipcc_region_ptr and ipcc_region_offset, which check the bounds. A region is identified by
 * its index (0..ipcc_region_count - 1, the order of the configuration, the same in every
 * process) or looked up by name.
 *
 * The library never reads or writes a region's bytes: what is in them, and who writes them
 * when, is the application's protocol (any process that can write the object can write
 * them). Regions start zero-filled. Every function here uses the process-local copy of the
 * region table made at open, never the object's: any thread, never blocks.
 */
#ifndef IPCC_REGION_H
#define IPCC_REGION_H

#include <stddef.h>

#include <ipcc/common.h>
#include <ipcc/system.h>

IPCC_BEGIN_DECLS

#define IPCC_REGIONS_MAX	  32u
#define IPCC_REGION_NAME_MAX	  31u /* bytes, the same characters as a CPU name */
#define IPCC_REGION_ALIGN_MAX	  4096u
#define IPCC_REGION_ALIGN_DEFAULT 64u

struct ipcc_region_spec {
	char name[IPCC_REGION_NAME_MAX + 1]; /* NUL-terminated */
	uint64_t size;			     /* bytes, at least 1 */
	uint32_t align;			     /* a power of two, 1..IPCC_REGION_ALIGN_MAX */
	uint32_t reserved[3];		     /* 0 */
};

struct ipcc_region_config {
	unsigned count; /* regions[0..count) */
	uint32_t reserved[3];
	struct ipcc_region_spec regions[IPCC_REGIONS_MAX];
};

/* No region. Never fails (NULL is ignored). */
IPCC_EXPORT void ipcc_region_config_init(struct ipcc_region_config *rcfg);

/*
 * Append a region: `name` 1..IPCC_REGION_NAME_MAX bytes of [A-Za-z0-9_.-] starting with a
 * letter or a digit, `size` bytes (at least 1; the whole object must still fit in
 * IPCC_SYSTEM_SIZE_MAX), `align` a power of two up to IPCC_REGION_ALIGN_MAX (0: the default,
 * a cache line). The region's address is a multiple of its alignment in every process (the
 * object is mapped on a page boundary), and regions never share a cache line. -EINVAL,
 * -EEXIST (the name is taken), -ENOSPC (IPCC_REGIONS_MAX already).
 */
IPCC_EXPORT int ipcc_region_config_add(struct ipcc_region_config *rcfg, const char *name,
				       uint64_t size, uint32_t align);

struct ipcc_region_info {
	const char *name; /* lives as long as the handle (or the config, for a plan) */
	unsigned index;
	uint32_t align;
	uint64_t offset; /* from the start of the object */
	uint64_t size;
	void *addr; /* in this process; NULL in a plan */
};

/*
 * Where the regions of cfg would go in an object created with it: fills up to cap entries and
 * returns the region count (ipcc_config_plan's sibling, for `ipcc plan`). -EINVAL for a bad
 * config. Pure computation.
 */
IPCC_EXPORT int ipcc_region_plan(const struct ipcc_config *cfg, struct ipcc_region_info *ret,
				 unsigned cap);

/* The number of regions of the system (0: none). -EINVAL for NULL. */
IPCC_EXPORT int ipcc_region_count(const struct ipcc_system *sys);

/* Region `index`: -EINVAL (NULL), -ENOENT (no such index). */
IPCC_EXPORT int ipcc_region_get(const struct ipcc_system *sys, unsigned index,
				struct ipcc_region_info *ret_info);

/* The region called `name`: -EINVAL, -ENOENT. */
IPCC_EXPORT int ipcc_region_find(const struct ipcc_system *sys, const char *name,
				 struct ipcc_region_info *ret_info);

/*
 * The address in this process of the `len` bytes at `offset` of region `index`. -EINVAL
 * (NULL), -ENOENT (no such region), -ERANGE (offset + len beyond the region's size: the
 * offset came from another process, check it here).
 */
IPCC_EXPORT int ipcc_region_ptr(const struct ipcc_system *sys, unsigned index, uint64_t offset,
				size_t len, void **ret_ptr);

/*
 * The offset in region `index` of the `len` bytes at `ptr`, for a message. -EINVAL, -ENOENT,
 * -EFAULT (ptr .. ptr + len is not inside the region in this process).
 */
IPCC_EXPORT int ipcc_region_offset(const struct ipcc_system *sys, unsigned index, const void *ptr,
				   size_t len, uint64_t *ret_offset);

IPCC_END_DECLS

#endif
