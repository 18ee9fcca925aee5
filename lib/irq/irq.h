/* SPDX-License-Identifier: MIT */
/*
 * Internal interface of the interrupt layer: the wait core and the backend seam.
 */
#ifndef IPCC_LIB_IRQ_H
#define IPCC_LIB_IRQ_H

#include <time.h>

#include <ipcc/irq.h>

#include "internal.h"

/*
 * Peers whose death ends a wait (lib/irq/watch.c): per peer, the release epoch of the handle's
 * reaper (lib/region/claim.c) and the generation of its record when the watch began.
 */
struct ipcc_watch {
	unsigned n;
	struct ipcc_system *sys;
	unsigned peer[IPCC_CPUS_MAX];
	uint32_t epoch[IPCC_CPUS_MAX];
	uint32_t gen[IPCC_CPUS_MAX];
};

/*
 * A wait backend: how a CPU sleeps until its doorbell moves past `seq` (a watched peer's death
 * rings it, lib/region/claim.c), or the absolute CLOCK_MONOTONIC `deadline` (NULL: none) passes. Spurious returns are
 * allowed (the caller re-checks everything); only the backend file knows its mechanism.
 * Returns 0 or -ETIMEDOUT.
 */
struct ipcc_wait_backend {
	const char *name;
	int (*sleep)(struct ipcc_cpu *cpu, uint32_t seq, const struct ipcc_watch *watch,
		     const struct timespec *deadline);
};

extern const struct ipcc_wait_backend ipcc_backend_futex;

struct ipcc_irq_slot {
	ipcc_irq_handler fn;
	void *arg;
};

struct ipcc_irq_state {
	/* handlers[peer][dir * channels + ch], allocated on first activation for that peer */
	struct ipcc_irq_slot *handlers[IPCC_CPUS_MAX];
	/*
	 * handled[peer][dir]: a bit per channel with a handler. The dispatcher touches only these
	 * channels: the others may belong to a blocking call of another thread of this CPU.
	 */
	_Atomic uint32_t handled[IPCC_CPUS_MAX][2];
	/* Relaxed atomics: changed by ipcc_cpu_set_wait_mode while another thread may wait. */
	_Atomic unsigned mode;
	_Atomic uint32_t spin_ns;
	bool thread_started;
	pthread_t thread;
	_Atomic bool stop;
	/* eventfd mode (lib/irq/eventfd.c); -1 when not set up */
	int efd;
	int listener;
	bool efd_thread_started;
	pthread_t efd_thread;
	_Atomic bool efd_stop;
	uint32_t efd_seen; /* bell_fallback when the fd server was started */
};

/* lib/irq/eventfd.c */
int ipcc_eventfd_init(struct ipcc_cpu *cpu);
void ipcc_eventfd_fini(struct ipcc_cpu *cpu);
bool ipcc_eventfd_rearm(struct ipcc_cpu *cpu);
int ipcc_eventfd_ring(struct ipcc_system *sys, unsigned target);

typedef bool (*ipcc_pred_fn)(struct ipcc_cpu *cpu, void *arg);

/*
 * The one wait loop of the library: returns 0 once pred(cpu, arg) holds; -EAGAIN (timeout 0),
 * -ETIMEDOUT, -EPIPE (a watched peer died or detached). `pred` must be backed by a line of this
 * CPU that is unmasked and enabled, or the wait is only ended by timeout or death. With
 * force_sleep the CPU sleeps in the kernel at once whatever its mode (Stop, Standby).
 */
int ipcc_wait_core(struct ipcc_cpu *cpu, ipcc_pred_fn pred, void *arg, struct ipcc_watch *watch,
		   int64_t timeout_ns, bool force_sleep);

/* lib/irq/watch.c */
/*
 * Watch `peer` (must be linked) if it is attached: -EPIPE if it is dead already (its claim is
 * gone and its record says it never detached), -ENOMEM (no reaper thread), else 0.
 */
int ipcc_watch_add(struct ipcc_cpu *cpu, struct ipcc_watch *w, unsigned peer);
/* Watch every linked peer attached now. */
void ipcc_watch_all(struct ipcc_cpu *cpu, struct ipcc_watch *w);
/* True if a watched peer detached, died or restarted since the watch began. Lock-free. */
bool ipcc_watch_dead(const struct ipcc_watch *w);

/* CLOCK_MONOTONIC in nanoseconds (vDSO: no syscall). */
int64_t ipcc_now_ns(void);

/* lib/irq/dispatch.c */
/* Whether a handler is registered for (peer, ch, dir); arguments already validated. */
bool ipcc_irq_registered(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, enum ipcc_dir dir);
bool ipcc_irq_any_line(struct ipcc_cpu *cpu, void *unused);
/* The same, counting only channels that have a handler (the interrupt thread's predicate). */
bool ipcc_irq_any_handled_line(struct ipcc_cpu *cpu, void *unused);

static inline void ipcc_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

#endif
