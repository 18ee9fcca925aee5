/* SPDX-License-Identifier: MIT */
/*
 * Attaching a CPU with its interrupt state, the interrupt thread, and the public waits.
 */
#include <stdlib.h>

#include "ipcc/chan.h"
#include "irq/irq.h"

IPCC_EXPORT const char *ipcc_wait_mode_name(enum ipcc_wait_mode mode)
{
	return (unsigned)mode < IPCC_WAIT_MODE_COUNT ? ipcc_wait_backends[mode]->name : NULL;
}

static bool thread_pred(struct ipcc_cpu *cpu, void *arg)
{
	/* Acquire: pairs with the release store in irq_thread_stop. */
	return atomic_load_explicit(&ipcc_irq(cpu)->stop, memory_order_acquire) ||
	       ipcc_irq_any_handled_line(cpu, NULL);
}

static void *irq_thread_main(void *arg)
{
	struct ipcc_cpu *cpu = arg;

	/* Handlers run here, one at a time, like interrupt service routines of this CPU. */
	for (;;) {
		(void)ipcc_wait_core(cpu, thread_pred, NULL, NULL, IPCC_TIMEOUT_INFINITE,
				     IPCC_WAIT_NOINTR);
		/* Acquire: pairs with the release store in irq_thread_stop. */
		if (atomic_load_explicit(&ipcc_irq(cpu)->stop, memory_order_acquire))
			return NULL;
		ipcc_cpu_dispatch(cpu);
	}
}

/* The irq layer's quiesce hook (and the first step of its detach). */
static void irq_thread_stop(struct ipcc_cpu *cpu)
{
	struct ipcc_irq_state *irq = ipcc_irq(cpu);
	if (!irq || !irq->thread_started)
		return;
	/* Release: pairs with the acquire loads in irq_thread_main/thread_pred. */
	atomic_store_explicit(&irq->stop, true, memory_order_release);
	ipcc_bell_wake(cpu->sys, cpu->id); /* no register change: only a wake-up */
	pthread_join(irq->thread, NULL);
	irq->thread_started = false;
}

static void irq_detach(struct ipcc_cpu *cpu)
{
	struct ipcc_irq_state *irq = ipcc_irq(cpu);
	if (!irq)
		return;
	irq_thread_stop(cpu);
	for (unsigned m = 0; m < IPCC_WAIT_MODE_COUNT; m++)
		if (ipcc_wait_backends[m]->fini)
			ipcc_wait_backends[m]->fini(cpu);
	pthread_mutex_destroy(&irq->mode_lock);
	for (unsigned i = 0; i < IPCC_CPUS_MAX; i++)
		free(irq->handlers[i]);
	free(irq);
	cpu->layer[IPCC_LAYER_IRQ] = NULL;
}

static int irq_attach(struct ipcc_cpu *cpu, const struct ipcc_cpu_options *options)
{
	struct ipcc_system *sys = cpu->sys;
	struct ipcc_irq_state *irq = calloc(1, sizeof(*irq));
	int r;

	if (!irq)
		return -ENOMEM;
	pthread_mutex_init(&irq->mode_lock, NULL);
	atomic_init(&irq->mode, options->wait);
	atomic_init(&irq->spin_ns, options->spin_ns);
	cpu->layer[IPCC_LAYER_IRQ] = irq;
	/*
	 * Handler tables for every linked peer now, not on first use: registration from several
	 * threads of the CPU then never races on an allocation.
	 */
	for (unsigned peer = 0; peer < sys->geo.cpus; peer++) {
		if (!ipcc_link_get(sys, cpu->id, peer))
			continue;
		irq->handlers[peer] = calloc(2u * sys->geo.channels, sizeof(struct ipcc_irq_slot));
		if (!irq->handlers[peer]) {
			irq_detach(cpu);
			return -ENOMEM;
		}
	}
	/* No other thread has the handle yet: the mode needs no lock, and the threads started
	 * below see what enter set up (pthread_create orders it). */
	const struct ipcc_wait_backend *be = ipcc_wait_backends[options->wait];
	if (be->enter) {
		r = be->enter(cpu);
		if (r < 0) {
			irq_detach(cpu);
			return r;
		}
	}
	/* Relaxed: informational for ipcc info; the mode itself is process-local. */
	atomic_store_explicit(&cpu->shm->wait_mode, options->wait, memory_order_relaxed);

	if (options->flags & IPCC_CPU_IRQ_THREAD) {
		r = -pthread_create(&irq->thread, NULL, irq_thread_main, cpu);
		if (r < 0) {
			irq_detach(cpu);
			return r;
		}
		irq->thread_started = true;
	}
	return 0;
}

/* The interrupt layer in the registry (lib/layers.c). */
const struct ipcc_layer ipcc_layer_irq = {
	.name = "irq",
	.attach = irq_attach,
	.quiesce = irq_thread_stop,
	.detach = irq_detach,
};

IPCC_EXPORT int ipcc_cpu_set_wait_mode(struct ipcc_cpu *cpu, enum ipcc_wait_mode mode,
				       uint32_t spin_ns)
{
	if (!cpu || (unsigned)mode >= IPCC_WAIT_MODE_COUNT || spin_ns > 1000000000u)
		return -EINVAL;
	if (ipcc_cpu_stale(cpu))
		return -ESTALE; /* would publish a token in the parent's record */
	struct ipcc_irq_state *irq = ipcc_irq(cpu);
	const struct ipcc_wait_backend *to = ipcc_wait_backends[mode];
	int r = 0;

	pthread_mutex_lock(&irq->mode_lock);
	/* Relaxed: only changed under mode_lock, which we hold. */
	const struct ipcc_wait_backend *from =
		ipcc_wait_backends[atomic_load_explicit(&irq->mode, memory_order_relaxed)];
	/* Enter the new mode before publishing it; leave the old one once it is no longer
	 * published (a waiter that read it meanwhile finishes in it). */
	if (to != from && to->enter)
		r = to->enter(cpu);
	if (r == 0) {
		/* Relaxed: see lib/irq/wait.c:spin_budget. */
		atomic_store_explicit(&irq->spin_ns, spin_ns, memory_order_relaxed);
		/* Release: pairs with the acquire in lib/irq/wait.c:ipcc_wait_backend_of. */
		atomic_store_explicit(&irq->mode, mode, memory_order_release);
		/* Relaxed: informational for ipcc info; the mode itself is process-local. */
		atomic_store_explicit(&cpu->shm->wait_mode, mode, memory_order_relaxed);
		if (to != from && from->leave)
			from->leave(cpu);
	}
	pthread_mutex_unlock(&irq->mode_lock);
	return r;
}

IPCC_EXPORT enum ipcc_wait_mode ipcc_cpu_wait_mode(const struct ipcc_cpu *cpu)
{
	/* Relaxed: a snapshot; nothing is read through it. */
	return cpu ? (enum ipcc_wait_mode)atomic_load_explicit(&ipcc_irq(cpu)->mode,
							       memory_order_relaxed)
		   : IPCC_WAIT_ADAPTIVE;
}

IPCC_EXPORT int ipcc_cpu_fd(struct ipcc_cpu *cpu)
{
	if (!cpu)
		return -EINVAL;
	if (ipcc_cpu_stale(cpu))
		return -ESTALE; /* reading it would steal the parent's wake-ups */
	const struct ipcc_wait_backend *be = ipcc_wait_backend_of(cpu);
	return be->fd ? be->fd(cpu) : -ENODEV;
}

IPCC_EXPORT int ipcc_cpu_wait(struct ipcc_cpu *cpu, int64_t timeout_ns)
{
	struct ipcc_watch watch; /* 1 KiB: only .n is set, never zero-filled */
	watch.n = 0;

	if (!cpu)
		return -EINVAL;
	ipcc_watch_all(cpu, &watch);
	return ipcc_wait_core(cpu, ipcc_irq_any_line, NULL, &watch, timeout_ns, 0);
}

IPCC_EXPORT int ipcc_cpu_standby(struct ipcc_cpu *cpu, int64_t timeout_ns)
{
	struct ipcc_watch watch; /* 1 KiB: only .n is set, never zero-filled */
	watch.n = 0;

	if (!cpu)
		return -EINVAL;
	if (ipcc_cpu_stale(cpu))
		return -ESTALE; /* would reset the parent's banks */
	ipcc_watch_all(cpu, &watch);
	/* Relaxed: informational (ipcc info shows the power state). */
	atomic_store_explicit(&cpu->shm->power, IPCC_POWER_STANDBY, memory_order_relaxed);
	int r = ipcc_wait_core(cpu, ipcc_irq_any_line, NULL, &watch, timeout_ns, IPCC_WAIT_SLEEP);
	for (unsigned peer = 0; peer < cpu->sys->geo.cpus; peer++) {
		struct ipcc_link *l = ipcc_link_get(cpu->sys, cpu->id, peer);
		if (!l)
			continue;
		ipcc_link_reset_bank(cpu->sys, l, ipcc_link_proc(l, cpu->id));
		/*
		 * The channels a service reserved are the library's, not the caller's to set up
		 * again: their RX handlers get their interrupt back, as the service's attach set it
		 * (lib/notify). Relaxed: this thread's own CPU; the bits only change at attach.
		 */
		uint32_t svc = atomic_load_explicit(&ipcc_irq(cpu)->handled[peer][IPCC_DIR_RX],
						    memory_order_relaxed) &
			       l->reserved;
		unsigned ch;
		uint64_t tmp;
		ipcc_for_each_bit(ch, tmp, svc) {
			struct ipcc_chan c;
			if (ipcc_chan_resolve(cpu, peer, ch, true, &c) == 0) {
				ipcc_chan_enable_line(&c, IPCC_IRQ_RXO);
				ipcc_chan_mask_line(&c, IPCC_IRQ_RXO, false);
			}
		}
	}
	/* Relaxed: informational, as above. */
	atomic_store_explicit(&cpu->shm->power, IPCC_POWER_RUN, memory_order_relaxed);
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

struct peer_wait {
	unsigned peer;
	struct ipcc_peer_probe probe;
};

static bool pred_peer_attached(struct ipcc_cpu *cpu, void *arg)
{
	struct peer_wait *w = arg;
	uint32_t gen;
	return ipcc_peer_probe(cpu->sys, w->peer, &w->probe, &gen);
}

IPCC_EXPORT int ipcc_cpu_wait_peer(struct ipcc_cpu *cpu, unsigned peer, int64_t timeout_ns)
{
	if (!cpu || peer >= cpu->sys->geo.cpus || peer == cpu->id)
		return -EINVAL;
	if (!ipcc_link_get(cpu->sys, cpu->id, peer))
		return -ENOENT;
	/* Not with a probe that may be stale: a peer that died since is not attached. */
	if (!ipcc_cpu_stale(cpu) && ipcc_claim_held(cpu->sys, peer) == 1)
		return 0;
	/* No watch: a death is not an end here. The attacher wakes its linked peers' sleepers
	 * after it wrote its record (lib/region/cpu.c:ring_peers), which the probe sees. */
	struct peer_wait w = { .peer = peer };
	return ipcc_wait_core(cpu, pred_peer_attached, &w, NULL, timeout_ns, 0);
}

IPCC_EXPORT int ipcc_cpu_interrupt(struct ipcc_cpu *cpu)
{
	if (!cpu)
		return -EINVAL;
	int saved = errno; /* a signal handler's caller must find errno as it was */
	/* seq_cst: the caller's change C before ipcc_bell_wake_sleepers (lib/bell/bell.h); pairs
	 * with the seq_cst load of lib/irq/wait.c:intr_load after the sleeper's announcement. */
	atomic_fetch_add_explicit(&ipcc_irq(cpu)->intr_raised, 1, memory_order_seq_cst);
	/* Futex sleepers only: atomics and at most one FUTEX_WAKE, no lock, no allocation, no
	 * eventfd exchange, so this stays async-signal-safe. Blocking calls sleep on the futex in
	 * every mode (lib/irq/eventfd.c); spinners see the count within 64 polls. */
	ipcc_bell_wake_sleepers(cpu->sys, cpu->id);
	errno = saved;
	return 0;
}

IPCC_EXPORT int ipcc_cpu_peer_generation(struct ipcc_cpu *cpu, unsigned peer, uint32_t *ret_gen)
{
	if (!cpu || !ret_gen || peer >= cpu->sys->geo.cpus)
		return -EINVAL;
	_Atomic uint32_t *word = &ipcc_shm_cpu(cpu->sys, peer)->generation;
	if (peer == cpu->id) {
		/* Relaxed: our own record; only our claim bumps it while we hold it. */
		*ret_gen = atomic_load_explicit(word, memory_order_relaxed);
		return 0;
	}
	if (!ipcc_link_get(cpu->sys, cpu->id, peer))
		return -ENOENT;
	/*
	 * A new owner bumps the word before it takes the claim (lib/region/cpu.c:ipcc_cpu_claim):
	 * the same value before and after the kernel said the claim is held is the holder's.
	 * Acquire: pairs with that release bump, as lib/irq/watch.c:ipcc_watch_add does.
	 */
	for (unsigned tries = 0; tries < 8; tries++) {
		uint32_t g = atomic_load_explicit(word, memory_order_acquire);
		int held = ipcc_claim_held(cpu->sys, peer);
		if (held < 0)
			return held;
		if (held == 0)
			return -ENOTCONN;
		if (atomic_load_explicit(word, memory_order_acquire) == g) {
			*ret_gen = g;
			return 0;
		}
	}
	return -EAGAIN;
}
