/* SPDX-License-Identifier: MIT */
/*
 * Claiming a CPU.
 *
 * A CPU belongs to the process that attached it, not to a thread: any thread of that process may
 * use and detach it, and the CPU lives until ipcc_cpu_detach, ipcc_system_close or the end of
 * the process. The claim itself is held by the kernel (lib/region/claim.c): nothing in the shared
 * object is followed as a pointer or handed to glibc or the kernel, and no byte of it decides who
 * owns a CPU or whether the owner lives.
 *
 * Line 0 of the CPU's record (owner_pid, owner_tid, generation, owner_state) is written here,
 * for display and as hints: the generation dates the eventfd token (lib/bell/bell-eventfd.c) and
 * tells a watcher that its peer restarted (lib/irq/watch.c); owner_state tells a peer whose
 * owner's claim is gone whether it detached (0 from ipcc_cpu_peer_alive) or died (-EPIPE). A
 * forged record only makes those answers wrong.
 */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

IPCC_EXPORT void ipcc_cpu_options_init(struct ipcc_cpu_options *opt)
{
	if (!opt)
		return;
	memset(opt, 0, sizeof(*opt));
	opt->wait = IPCC_WAIT_ADAPTIVE;
	opt->spin_ns = 20000;
}

int ipcc_cpu_options_check(const struct ipcc_cpu_options *opt)
{
	if ((unsigned)opt->wait >= IPCC_WAIT_MODE_COUNT)
		return -EINVAL;
	if (opt->spin_ns > 1000000000u)
		return -EINVAL;
	if (opt->flags & ~(IPCC_CPU_IRQ_THREAD | IPCC_CPU_KEEP_REGS))
		return -EINVAL;
	for (unsigned i = 0; i < sizeof(opt->reserved) / sizeof(opt->reserved[0]); i++)
		if (opt->reserved[i])
			return -EINVAL;
	return 0;
}

/*
 * Wake the sleepers of every peer of `id`: a watcher whose peer restarted before its reaper saw
 * the release learns of it from the generation (lib/irq/watch.c:ipcc_watch_dead). No pending
 * bit and no eventfd write: nothing changed on the links.
 */
static void ring_peers(struct ipcc_system *sys, unsigned id)
{
	/* Orders the generation bump of ipcc_cpu_claim before the sleeper loads of
	 * ipcc_layers_wake_sleepers; pairs with the fence of lib/irq/wait.c:sleep_loop. */
	atomic_thread_fence(memory_order_seq_cst);
	for (unsigned peer = 0; peer < sys->geo.cpus; peer++)
		if (ipcc_link_get(sys, id, peer))
			ipcc_layers_wake_sleepers(sys, peer);
}

/* The claim half of ipcc_cpu_attach: the handle, the kernel's claim, the record. */
int ipcc_cpu_claim(struct ipcc_system *sys, unsigned cpu_id, struct ipcc_cpu **ret_cpu)
{
	struct ipcc_cpu *cpu;
	int r;

	assert(sys && ret_cpu && cpu_id < sys->geo.cpus);
	cpu = calloc(1, sizeof(*cpu));
	if (!cpu)
		return -ENOMEM;
	cpu->sys = sys;
	cpu->id = cpu_id;
	cpu->shm = ipcc_shm_cpu(sys, cpu_id);
	cpu->tid = (pid_t)syscall(SYS_gettid);
	cpu->forks = ipcc_forks;

	pthread_mutex_lock(&sys->lock);
	if (sys->cpus[cpu_id]) {
		r = -EBUSY; /* this handle holds it (a fork child's inherited handle included) */
		goto fail;
	}
	r = ipcc_claim_held(sys, cpu_id);
	if (r != 0) {
		r = r > 0 ? -EBUSY : r; /* a refused attach does not count as an attach */
		goto fail;
	}
	/*
	 * Bumped before the lock is taken: a watcher that finds the claim held reads the
	 * generation after its probe (lib/irq/watch.c:ipcc_watch_add), so it never takes this
	 * attach for a restart. Release: pairs with the acquire loads there and in
	 * lib/bell/bell-eventfd.c; the kernel's lock ordering sits between the two. An attacher that
	 * loses a race with another one after this point has bumped it for nothing: its peers'
	 * waits may end with -EPIPE, as for a restart.
	 */
	atomic_fetch_add_explicit(&cpu->shm->generation, 1, memory_order_release);
	r = ipcc_claim_take(sys, cpu_id);
	if (r < 0)
		goto fail;
	/* Relaxed: informational (ipcc info); liveness is the kernel's lock. */
	atomic_store_explicit(&cpu->shm->owner_pid, (uint32_t)getpid(), memory_order_relaxed);
	atomic_store_explicit(&cpu->shm->owner_tid, (uint32_t)cpu->tid, memory_order_relaxed);
	/* Relaxed: informational; read only after the kernel says the claim is gone. */
	atomic_store_explicit(&cpu->shm->owner_state, IPCC_OWNER_ATTACHED, memory_order_relaxed);
	sys->cpus[cpu_id] = cpu;
	pthread_mutex_unlock(&sys->lock);
	ring_peers(sys, cpu_id);
	*ret_cpu = cpu;
	return 0;

fail:
	pthread_mutex_unlock(&sys->lock);
	free(cpu);
	return r;
}

void ipcc_cpu_release(struct ipcc_cpu *cpu)
{
	struct ipcc_system *sys = cpu->sys;

	pthread_mutex_lock(&sys->lock);
	if (sys->cpus[cpu->id] == cpu)
		sys->cpus[cpu->id] = NULL;
	/* In a fork child the handle holds no claim: the record is the parent's. */
	if (ipcc_claim_owned(sys, cpu->id)) {
		/* Relaxed: the close below publishes it to whoever sees the claim gone. */
		atomic_store_explicit(&cpu->shm->owner_state, IPCC_OWNER_DETACHED,
				      memory_order_relaxed);
		ipcc_claim_drop(sys, cpu->id);
	}
	pthread_mutex_unlock(&sys->lock);
	free(cpu);
}

IPCC_EXPORT int ipcc_cpu_attach(struct ipcc_system *sys, unsigned cpu_id,
				const struct ipcc_cpu_options *options, struct ipcc_cpu **ret_cpu)
{
	struct ipcc_cpu_options defaults;
	struct ipcc_cpu *cpu;

	if (!sys || !ret_cpu || cpu_id >= sys->geo.cpus)
		return -EINVAL;
	if (sys->readonly)
		return -EROFS;
	if (!options) {
		ipcc_cpu_options_init(&defaults);
		options = &defaults;
	}
	int r = ipcc_cpu_options_check(options);
	if (r < 0)
		return r;
	r = ipcc_cpu_claim(sys, cpu_id, &cpu);
	if (r < 0)
		return r;
	/* Every layer above adds its state, in layer order (lib/layers.c). */
	r = ipcc_layers_attach(cpu, options);
	if (r < 0) {
		ipcc_cpu_release(cpu);
		return r;
	}
	*ret_cpu = cpu;
	return 0;
}

IPCC_EXPORT void ipcc_cpu_detach(struct ipcc_cpu *cpu)
{
	if (!cpu)
		return;
	ipcc_layers_detach(cpu);
	ipcc_cpu_release(cpu);
}

IPCC_EXPORT unsigned ipcc_cpu_id(const struct ipcc_cpu *cpu)
{
	return cpu ? cpu->id : 0;
}

IPCC_EXPORT struct ipcc_system *ipcc_cpu_system(const struct ipcc_cpu *cpu)
{
	return cpu ? cpu->sys : NULL;
}

IPCC_EXPORT int ipcc_system_cpu_owner(struct ipcc_system *sys, unsigned cpu_id,
				      struct ipcc_cpu_owner *ret_owner)
{
	if (!sys || !ret_owner || cpu_id >= sys->geo.cpus)
		return -EINVAL;
	struct ipcc_shm_cpu *c = ipcc_shm_cpu(sys, cpu_id);
	int held = ipcc_claim_held(sys, cpu_id);
	if (held < 0)
		return held;
	/* Relaxed: a snapshot of the informational record for display; each word read once. */
	struct ipcc_cpu_owner o = {
		.generation = atomic_load_explicit(&c->generation, memory_order_relaxed),
		.pid = (pid_t)atomic_load_explicit(&c->owner_pid, memory_order_relaxed),
		.tid = (pid_t)atomic_load_explicit(&c->owner_tid, memory_order_relaxed),
	};
	o.alive = held > 0;
	/* An owner that died never detached: its CPU is still attached, by nobody alive. */
	o.attached = o.alive || atomic_load_explicit(&c->owner_state, memory_order_relaxed) ==
					IPCC_OWNER_ATTACHED;
	*ret_owner = o;
	return 0;
}
