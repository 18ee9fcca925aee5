/* SPDX-License-Identifier: MIT */
/*
 * Queries of what a CPU's owner publishes about itself in its record (line 2 of struct
 * ipcc_shm_cpu): for observers such as ipcc info, which may hold the object read-only.
 */
#include "internal.h"

IPCC_EXPORT int ipcc_system_cpu_state(const struct ipcc_system *sys, unsigned cpu_id,
				      struct ipcc_cpu_state *ret_state)
{
	if (!sys || !ret_state || cpu_id >= sys->geo.cpus)
		return -EINVAL;
	struct ipcc_shm_cpu *c = ipcc_shm_cpu(sys, cpu_id);
	/*
	 * Relaxed: display only, like the relaxed stores in lib/irq/cpu.c (ipcc_cpu_attach,
	 * ipcc_cpu_set_wait_mode, ipcc_cpu_standby); each word is read once and reported as
	 * read, unchecked: the caller validates it (ipcc_wait_mode_name returns NULL).
	 */
	*ret_state = (struct ipcc_cpu_state){
		.wait_mode = atomic_load_explicit(&c->wait_mode, memory_order_relaxed),
		.power = atomic_load_explicit(&c->power, memory_order_relaxed),
	};
	return 0;
}
