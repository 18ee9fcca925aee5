/* SPDX-License-Identifier: MIT */
/*
 * The layout arithmetic, shared by create (to build the object) and open (to check it): one
 * function, so the two can never disagree.
 */
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

int ipcc_geometry_compute(unsigned cpus, unsigned channels, uint32_t buffer_size,
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
	g.cpu_offset = IPCC_SHM_HEADER_SIZE;
	g.link_offset = g.cpu_offset + (uint64_t)cpus * IPCC_SHM_CPU_SIZE;
	g.slot_offset = IPCC_SHM_LINK_SIZE;
	g.link_stride = g.slot_offset + 2ull * channels * g.slot_stride;
	g.total_size = g.link_offset + (uint64_t)g.link_count * g.link_stride;
	if (g.total_size > IPCC_SYSTEM_SIZE_MAX)
		return -EINVAL;
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
