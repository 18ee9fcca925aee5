/* SPDX-License-Identifier: MIT */
/*
 * Peer death for waits: which peers a wait depends on, and whether one of them went away.
 *
 * A watch asks the kernel, through the handle's reaper for that peer (lib/region/claim.c),
 * whether the peer's claim is held, and records the reaper's release epoch: the peer detached or
 * died once the epoch moves. The reaper wakes this CPU's sleepers when it does, so a sleeper
 * wakes (lib/irq/wait.c:sleep_loop checks ipcc_watch_dead after announcing itself).
 *
 * The kernel can be late in one case: a new owner that takes the claim between the old owner's
 * release and the moment the reaper's lock request is retried hides the release from the reaper.
 * The new owner bumps the record's generation and wakes its peers (lib/region/cpu.c), so a watch
 * also ends when the generation it recorded changes. A forged generation can therefore end a wait
 * with -EPIPE, never keep one from ending.
 */
#include "irq/irq.h"

int ipcc_watch_add(struct ipcc_cpu *cpu, struct ipcc_watch *w, unsigned peer)
{
	struct ipcc_shm_cpu *c = ipcc_shm_cpu(cpu->sys, peer);
	uint32_t epoch;

	w->sys = cpu->sys;
	int r = ipcc_claim_watch(cpu->sys, peer, &epoch);
	if (r < 0)
		return r;
	if (r == 0) {
		/* Relaxed: informational (lib/region/cpu.c); it only picks the answer. */
		uint32_t state = atomic_load_explicit(&c->owner_state, memory_order_relaxed);
		return state == IPCC_OWNER_ATTACHED ? -EPIPE : 0; /* died, or not attached */
	}
	assert(w->n < IPCC_CPUS_MAX);
	w->peer[w->n] = peer;
	w->epoch[w->n] = epoch;
	/* Acquire, after the kernel said the claim is held: pairs with the release bump that
	 * lib/region/cpu.c:ipcc_cpu_claim makes before taking the claim. */
	w->gen[w->n] = atomic_load_explicit(&c->generation, memory_order_acquire);
	w->n++;
	return 0;
}

void ipcc_watch_all(struct ipcc_cpu *cpu, struct ipcc_watch *w)
{
	w->n = 0;
	w->sys = cpu->sys;
	for (unsigned peer = 0; peer < cpu->sys->geo.cpus; peer++)
		if (peer != cpu->id && ipcc_link_get(cpu->sys, cpu->id, peer))
			(void)ipcc_watch_add(cpu, w, peer);
}

bool ipcc_watch_dead(const struct ipcc_watch *w)
{
	for (unsigned i = 0; i < w->n; i++) {
		if (ipcc_claim_epoch(w->sys, w->peer[i]) != w->epoch[i])
			return true;
		/* Relaxed: a changed value is the whole information (see the file comment). */
		if (atomic_load_explicit(&ipcc_shm_cpu(w->sys, w->peer[i])->generation,
					 memory_order_relaxed) != w->gen[i])
			return true;
	}
	return false;
}
