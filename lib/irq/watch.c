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
 *
 * A peer whose slot is empty when the wait begins (never attached, or detached) has no claim to
 * watch yet: the entry is pending. An attacher writes the record's owner pid and state after it
 * took the claim, then wakes its peers' sleepers (lib/region/cpu.c:ring_peers), so a pending
 * entry looks again once the record shows an attach (state attached, another pid, or another
 * generation): with the claim held, it becomes a watch like any other; with the claim gone
 * after a completed attach, that peer came and went during the wait (-EPIPE). A generation
 * bumped by an attacher that has not taken the claim yet keeps the entry pending: its ring
 * after the claim comes later.
 */
#include "irq/irq.h"

/* The record of `peer`, by its owner; relaxed: informational hints (lib/region/cpu.c). */
static uint32_t record_state(struct ipcc_system *sys, unsigned peer)
{
	return atomic_load_explicit(&ipcc_shm_cpu(sys, peer)->owner_state, memory_order_relaxed);
}

static uint32_t record_pid(struct ipcc_system *sys, unsigned peer)
{
	return atomic_load_explicit(&ipcc_shm_cpu(sys, peer)->owner_pid, memory_order_relaxed);
}

/* Entry i: the claim is held, with the reaper's epoch `epoch`. */
static void watch_held(struct ipcc_watch *w, unsigned i, uint32_t epoch)
{
	w->pending[i] = false;
	w->epoch[i] = epoch;
	/* Acquire, after the kernel said the claim is held: pairs with the release bump that
	 * lib/region/cpu.c:ipcc_cpu_claim makes before taking the claim. */
	w->gen[i] = atomic_load_explicit(&ipcc_shm_cpu(w->sys, w->peer[i])->generation,
					 memory_order_acquire);
}

int ipcc_watch_add(struct ipcc_cpu *cpu, struct ipcc_watch *w, unsigned peer)
{
	uint32_t epoch;

	w->sys = cpu->sys;
	assert(w->n < IPCC_CPUS_MAX);
	w->peer[w->n] = peer;
	/* Before the probe: an attach that completes after it changes one of them. */
	w->gen[w->n] = atomic_load_explicit(&ipcc_shm_cpu(cpu->sys, peer)->generation,
					    memory_order_acquire); /* as in watch_held */
	w->pid[w->n] = record_pid(cpu->sys, peer);
	int r = ipcc_claim_watch(cpu->sys, peer, &epoch);
	if (r < 0)
		return r;
	if (r == 0) {
		if (record_state(cpu->sys, peer) == IPCC_OWNER_ATTACHED)
			return -EPIPE;	   /* died */
		w->pending[w->n++] = true; /* empty: watched from its next attach on */
		return 0;
	}
	watch_held(w, w->n++, epoch);
	return 0;
}

void ipcc_watch_remove(struct ipcc_watch *w, unsigned peer)
{
	for (unsigned i = 0; i < w->n; i++) {
		if (w->peer[i] != peer)
			continue;
		w->n--;
		w->peer[i] = w->peer[w->n];
		w->epoch[i] = w->epoch[w->n];
		w->gen[i] = w->gen[w->n];
		w->pid[i] = w->pid[w->n];
		w->pending[i] = w->pending[w->n];
		return;
	}
}

void ipcc_watch_all(struct ipcc_cpu *cpu, struct ipcc_watch *w)
{
	w->n = 0;
	w->sys = cpu->sys;
	for (unsigned peer = 0; peer < cpu->sys->geo.cpus; peer++)
		if (peer != cpu->id && ipcc_link_get(cpu->sys, cpu->id, peer))
			(void)ipcc_watch_add(cpu, w, peer);
}

/* A pending entry: true if a peer attached into the empty slot during the wait and is gone. */
static bool pending_dead(struct ipcc_watch *w, unsigned i)
{
	struct ipcc_system *sys = w->sys;
	unsigned peer = w->peer[i];
	bool completed = record_state(sys, peer) == IPCC_OWNER_ATTACHED ||
			 record_pid(sys, peer) != w->pid[i];
	/* Relaxed: a changed value only makes us look (see the file comment). */
	if (!completed && atomic_load_explicit(&ipcc_shm_cpu(sys, peer)->generation,
					       memory_order_relaxed) == w->gen[i])
		return false; /* the slot is as it was */
	uint32_t epoch;
	int r = ipcc_claim_watch(sys, peer, &epoch);
	if (r < 0)
		return true; /* no reaper: ending the wait beats never learning of a death */
	if (r > 0) {
		watch_held(w, i, epoch);
		return false;
	}
	/* Not held: gone after a completed attach, or an attacher not yet holding the claim. */
	return completed;
}

bool ipcc_watch_dead(struct ipcc_watch *w)
{
	for (unsigned i = 0; i < w->n; i++) {
		if (w->pending[i]) {
			if (pending_dead(w, i))
				return true;
			continue;
		}
		if (ipcc_claim_epoch(w->sys, w->peer[i]) != w->epoch[i])
			return true;
		/* Relaxed: a changed value is the whole information (see the file comment). */
		if (atomic_load_explicit(&ipcc_shm_cpu(w->sys, w->peer[i])->generation,
					 memory_order_relaxed) != w->gen[i])
			return true;
	}
	return false;
}

bool ipcc_peer_probe(struct ipcc_system *sys, unsigned peer, struct ipcc_peer_probe *pp,
		     uint32_t *ret_gen)
{
	/* Acquire: pairs with the release bump of lib/region/cpu.c:ipcc_cpu_claim, as in
	 * watch_held. The other two are hints (record_pid, record_state). */
	uint32_t gen =
		atomic_load_explicit(&ipcc_shm_cpu(sys, peer)->generation, memory_order_acquire);
	uint32_t pid = record_pid(sys, peer);
	uint32_t state = record_state(sys, peer);
	if (!pp->valid || gen != pp->gen || pid != pp->pid || state != pp->state) {
		*pp = (struct ipcc_peer_probe){
			.valid = true, .gen = gen, .pid = pid, .state = state
		};
		pp->alive = gen != 0 && ipcc_claim_held(sys, peer) == 1;
	}
	*ret_gen = gen;
	return pp->alive;
}
