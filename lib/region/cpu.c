/* SPDX-License-Identifier: MIT */
/*
 * Claiming a CPU.
 *
 * Each CPU slot holds a robust, process-shared pthread mutex that the attached thread keeps
 * locked; it is never waited on (only trylock), so no process ever blocks on another through
 * it. It exists because a robust futex is the one kernel mechanism that, when a thread dies,
 * marks a shared word (FUTEX_OWNER_DIED) and wakes the word's waiters: the claim survives the
 * owner's death as "dead", the next attach takes the slot over (EOWNERDEAD), and peers can
 * sleep on the word to learn of the death (lib/irq).
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/futex.h>

#include "internal.h"

/* glibc keeps the robust futex word first in pthread_mutex_t (its ABI since NPTL). */
_Static_assert(offsetof(pthread_mutex_t, __data.__lock) == 0, "robust futex word first");

_Atomic uint32_t *ipcc_owner_word(struct ipcc_shm_cpu *c)
{
	return (_Atomic uint32_t *)(void *)&c->owner.__data.__lock;
}

bool ipcc_owner_word_alive(uint32_t word)
{
	return (word & FUTEX_TID_MASK) != 0 && !(word & FUTEX_OWNER_DIED);
}

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
	if (opt->flags & ~IPCC_CPU_IRQ_THREAD)
		return -EINVAL;
	for (unsigned i = 0; i < sizeof(opt->reserved) / sizeof(opt->reserved[0]); i++)
		if (opt->reserved[i])
			return -EINVAL;
	return 0;
}

static void reset_banks(struct ipcc_system *sys, unsigned id)
{
	for (unsigned peer = 0; peer < sys->geo.cpus; peer++) {
		struct ipcc_link *l = ipcc_link_get(sys, id, peer);
		if (l)
			ipcc_link_reset_bank(sys, l, ipcc_link_proc(l, id));
	}
}

/* The claim half of ipcc_cpu_attach (lib/irq/cpu.c adds the interrupt layer's state). */
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

	pthread_mutex_lock(&sys->lock);
	if (sys->cpus[cpu_id]) {
		/*
		 * A handle of this process holds the CPU. If its thread ended without detaching,
		 * the claim is dead: set the stale handle aside (the application may still detach
		 * it; ipcc_system_close frees what is left) and take the CPU over below.
		 * Relaxed: the word's own value is the information (see ipcc_owner_word_alive).
		 */
		uint32_t w = atomic_load_explicit(ipcc_owner_word(cpu->shm), memory_order_relaxed);
		if (ipcc_owner_word_alive(w)) {
			r = -EBUSY;
			goto fail;
		}
		sys->cpus[cpu_id]->stale_next = sys->stale;
		sys->stale = sys->cpus[cpu_id];
		sys->cpus[cpu_id] = NULL;
	}
	r = pthread_mutex_trylock(&cpu->shm->owner);
	if (r == EOWNERDEAD) {
		/* The previous owner died holding the claim: take it over. */
		r = pthread_mutex_consistent(&cpu->shm->owner);
	}
	if (r == EBUSY || r == EDEADLK) {
		r = -EBUSY;
		goto fail;
	}
	if (r != 0) {
		r = -r;
		goto fail;
	}
	/* Relaxed: informational (ipcc info); liveness comes from the owner word itself. */
	atomic_store_explicit(&cpu->shm->owner_pid, (uint32_t)getpid(), memory_order_relaxed);
	atomic_store_explicit(&cpu->shm->owner_tid, (uint32_t)cpu->tid, memory_order_relaxed);
	/* Release: a peer that reads the new generation (acquire) also sees the bank reset. */
	reset_banks(sys, cpu_id);
	atomic_fetch_add_explicit(&cpu->shm->generation, 1, memory_order_release);
	sys->cpus[cpu_id] = cpu;
	pthread_mutex_unlock(&sys->lock);
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
	/* A stale handle (its thread ended, the CPU was taken over) must not touch the new
	 * owner's registration or claim. */
	bool current = sys->cpus[cpu->id] == cpu;
	if (current)
		sys->cpus[cpu->id] = NULL;
	for (struct ipcc_cpu **pp = &sys->stale; *pp; pp = &(*pp)->stale_next) {
		if (*pp == cpu) {
			*pp = cpu->stale_next;
			break;
		}
	}
	/* Relaxed: as in ipcc_cpu_claim. */
	uint32_t w = atomic_load_explicit(ipcc_owner_word(cpu->shm), memory_order_relaxed);
	if (current && (pid_t)syscall(SYS_gettid) == cpu->tid &&
	    (pid_t)(w & FUTEX_TID_MASK) == cpu->tid)
		pthread_mutex_unlock(&cpu->shm->owner);
	else if (current && ipcc_owner_word_alive(w))
		sys->leak_mapping = true; /* the claim ends when its thread does */
	pthread_mutex_unlock(&sys->lock);
	free(cpu);
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
	/* Acquire: pairs with the generation release in ipcc_cpu_attach. */
	uint32_t gen = atomic_load_explicit(&c->generation, memory_order_acquire);
	/* Relaxed: a snapshot for display; each word is read once and reported as read. */
	uint32_t word = atomic_load_explicit(ipcc_owner_word(c), memory_order_relaxed);
	struct ipcc_cpu_owner o = {
		.generation = gen,
		.pid = (pid_t)atomic_load_explicit(&c->owner_pid, memory_order_relaxed),
		.tid = (pid_t)atomic_load_explicit(&c->owner_tid, memory_order_relaxed),
	};
	/* A dead owner's word keeps no TID, only FUTEX_OWNER_DIED (the kernel's robust-list walk):
	 * still attached, as nobody released the claim. */
	o.attached = (word & (FUTEX_TID_MASK | FUTEX_OWNER_DIED)) != 0;
	o.alive = ipcc_owner_word_alive(word);
	/* A process in another pid namespace could leave the word unmarked: ask the kernel too. */
	if (o.alive && o.pid > 0 && kill(o.pid, 0) < 0 && errno == ESRCH)
		o.alive = false;
	*ret_owner = o;
	return 0;
}
