/* SPDX-License-Identifier: MIT */
/*
 * Attaching a CPU with its interrupt state, the interrupt thread, and the public waits.
 */
#include <stdlib.h>

#include "irq/irq.h"

static const char *const mode_names[IPCC_WAIT_MODE_COUNT] = {
	[IPCC_WAIT_ADAPTIVE] = "adaptive",
	[IPCC_WAIT_SPIN] = "spin",
	[IPCC_WAIT_FUTEX] = "futex",
	[IPCC_WAIT_EVENTFD] = "eventfd",
};

IPCC_EXPORT const char *ipcc_wait_mode_name(enum ipcc_wait_mode mode)
{
	return (unsigned)mode < IPCC_WAIT_MODE_COUNT ? mode_names[mode] : NULL;
}

static bool thread_pred(struct ipcc_cpu *cpu, void *arg)
{
	/* Acquire: pairs with the release store in irq_thread_stop. */
	return atomic_load_explicit(&cpu->irq->stop, memory_order_acquire) ||
	       ipcc_irq_any_handled_line(cpu, NULL);
}

static void *irq_thread_main(void *arg)
{
	struct ipcc_cpu *cpu = arg;

	/* Handlers run here, one at a time, like interrupt service routines of this CPU. */
	for (;;) {
		(void)ipcc_wait_core(cpu, thread_pred, NULL, NULL, IPCC_TIMEOUT_INFINITE, false);
		/* Acquire: pairs with the release store in irq_thread_stop. */
		if (atomic_load_explicit(&cpu->irq->stop, memory_order_acquire))
			return NULL;
		ipcc_cpu_dispatch(cpu);
	}
}

static void irq_thread_stop(struct ipcc_cpu *cpu)
{
	if (!cpu->irq->thread_started)
		return;
	/* Release: pairs with the acquire loads in irq_thread_main/thread_pred. */
	atomic_store_explicit(&cpu->irq->stop, true, memory_order_release);
	ipcc_bell_ring(cpu->sys, cpu->id, cpu->id); /* a self bit: no link, only a wake-up */
	pthread_join(cpu->irq->thread, NULL);
	cpu->irq->thread_started = false;
}

static void cpu_detach(struct ipcc_cpu *cpu)
{
	irq_thread_stop(cpu);
	ipcc_eventfd_fini(cpu);
	for (unsigned i = 0; i < IPCC_CPUS_MAX; i++)
		free(cpu->irq->handlers[i]);
	free(cpu->irq);
	cpu->irq = NULL;
	if (cpu->proc_free)
		/* Acquire: pairs with the CAS that published it (lib/proc/proc.c:chan_get). */
		cpu->proc_free(atomic_load_explicit(&cpu->proc, memory_order_acquire));
	ipcc_cpu_release(cpu);
}

IPCC_EXPORT int ipcc_cpu_attach(struct ipcc_system *sys, unsigned cpu_id,
				const struct ipcc_cpu_options *options, struct ipcc_cpu **ret_cpu)
{
	struct ipcc_cpu_options defaults;
	struct ipcc_irq_state *irq;
	struct ipcc_cpu *cpu;
	int r;

	if (!sys || !ret_cpu || cpu_id >= sys->geo.cpus)
		return -EINVAL;
	if (!options) {
		ipcc_cpu_options_init(&defaults);
		options = &defaults;
	}
	r = ipcc_cpu_options_check(options);
	if (r < 0)
		return r;
	irq = calloc(1, sizeof(*irq));
	if (!irq)
		return -ENOMEM;
	irq->efd = irq->listener = -1;
	atomic_init(&irq->mode, options->wait);
	atomic_init(&irq->spin_ns, options->spin_ns);

	r = ipcc_cpu_claim(sys, cpu_id, &cpu);
	if (r < 0) {
		free(irq);
		return r;
	}
	cpu->irq = irq;
	cpu->detach = cpu_detach;
	/*
	 * Handler tables for every linked peer now, not on first use: registration from several
	 * threads of the CPU then never races on an allocation.
	 */
	for (unsigned peer = 0; peer < sys->geo.cpus; peer++) {
		if (!ipcc_link_get(sys, cpu_id, peer))
			continue;
		irq->handlers[peer] = calloc(2u * sys->geo.channels, sizeof(struct ipcc_irq_slot));
		if (!irq->handlers[peer]) {
			cpu_detach(cpu);
			return -ENOMEM;
		}
	}
	/* Release: pairs with the acquire load in lib/region/doorbell.c:ipcc_bell_ring; every
	 * attach stores the same function, so racing stores agree. */
	atomic_store_explicit(&sys->eventfd_ring, ipcc_eventfd_ring, memory_order_release);
	if (options->wait == IPCC_WAIT_EVENTFD) {
		r = ipcc_eventfd_init(cpu);
		if (r < 0) {
			cpu_detach(cpu);
			return r;
		}
	}
	/* Relaxed: informational for ipcc info; the mode itself is process-local. */
	atomic_store_explicit(&cpu->shm->wait_mode, options->wait, memory_order_relaxed);

	if (options->flags & IPCC_CPU_IRQ_THREAD) {
		r = -pthread_create(&irq->thread, NULL, irq_thread_main, cpu);
		if (r < 0) {
			cpu_detach(cpu);
			return r;
		}
		irq->thread_started = true;
	}
	*ret_cpu = cpu;
	return 0;
}

IPCC_EXPORT void ipcc_cpu_detach(struct ipcc_cpu *cpu)
{
	if (cpu)
		cpu->detach(cpu);
}

IPCC_EXPORT int ipcc_cpu_set_wait_mode(struct ipcc_cpu *cpu, enum ipcc_wait_mode mode,
				       uint32_t spin_ns)
{
	if (!cpu || (unsigned)mode >= IPCC_WAIT_MODE_COUNT || spin_ns > 1000000000u)
		return -EINVAL;
	if (mode == IPCC_WAIT_EVENTFD) {
		int r = ipcc_eventfd_init(cpu);
		if (r < 0)
			return r;
	} else {
		ipcc_eventfd_fini(cpu);
	}
	/* Relaxed: see ipcc_wait_core. */
	atomic_store_explicit(&cpu->irq->spin_ns, spin_ns, memory_order_relaxed);
	atomic_store_explicit(&cpu->irq->mode, mode, memory_order_relaxed);
	atomic_store_explicit(&cpu->shm->wait_mode, mode, memory_order_relaxed);
	return 0;
}

IPCC_EXPORT enum ipcc_wait_mode ipcc_cpu_wait_mode(const struct ipcc_cpu *cpu)
{
	/* Relaxed: see ipcc_wait_core. */
	return cpu ? (enum ipcc_wait_mode)atomic_load_explicit(&cpu->irq->mode,
							       memory_order_relaxed)
		   : IPCC_WAIT_ADAPTIVE;
}

IPCC_EXPORT int ipcc_cpu_wait(struct ipcc_cpu *cpu, int64_t timeout_ns)
{
	struct ipcc_watch watch; /* 1 KiB: only .n is set, never zero-filled */
	watch.n = 0;

	if (!cpu)
		return -EINVAL;
	ipcc_watch_all(cpu, &watch);
	return ipcc_wait_core(cpu, ipcc_irq_any_line, NULL, &watch, timeout_ns, false);
}

enum { POWER_RUN = 0, POWER_STANDBY = 3 };

IPCC_EXPORT int ipcc_cpu_standby(struct ipcc_cpu *cpu, int64_t timeout_ns)
{
	struct ipcc_watch watch; /* 1 KiB: only .n is set, never zero-filled */
	watch.n = 0;

	if (!cpu)
		return -EINVAL;
	ipcc_watch_all(cpu, &watch);
	/* Relaxed: informational (ipcc info shows the power state). */
	atomic_store_explicit(&cpu->shm->power, POWER_STANDBY, memory_order_relaxed);
	int r = ipcc_wait_core(cpu, ipcc_irq_any_line, NULL, &watch, timeout_ns, true);
	for (unsigned peer = 0; peer < cpu->sys->geo.cpus; peer++) {
		struct ipcc_link *l = ipcc_link_get(cpu->sys, cpu->id, peer);
		if (l)
			ipcc_link_reset_bank(cpu->sys, l, ipcc_link_proc(l, cpu->id));
	}
	/* Relaxed: informational, as above. */
	atomic_store_explicit(&cpu->shm->power, POWER_RUN, memory_order_relaxed);
	return r;
}

IPCC_EXPORT int ipcc_cpu_peer_alive(struct ipcc_cpu *cpu, unsigned peer)
{
	if (!cpu || peer >= cpu->sys->geo.cpus || peer == cpu->id)
		return -EINVAL;
	if (!ipcc_link_get(cpu->sys, cpu->id, peer))
		return -ENOENT;
	/* The kernel's lock says whether it lives (lib/region/claim.c); the record only tells a
	 * death (never detached) from a detach. */
	int held = ipcc_claim_held(cpu->sys, peer);
	if (held != 0)
		return held;
	/* Relaxed: informational (lib/region/cpu.c); it only picks the answer. */
	uint32_t state = atomic_load_explicit(&ipcc_shm_cpu(cpu->sys, peer)->owner_state,
					      memory_order_relaxed);
	return state == IPCC_OWNER_ATTACHED ? -EPIPE : 0;
}
