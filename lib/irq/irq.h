/* SPDX-License-Identifier: MIT */
/*
 * Internal interface of the interrupt layer: the wait core and the backend seam.
 */
#ifndef IPCC_LIB_IRQ_H
#define IPCC_LIB_IRQ_H

#include <time.h>

#include <ipcc/irq.h>

#include "bell/bell.h"

/*
 * Peers whose death ends a wait (lib/irq/watch.c): per peer, the release epoch of the handle's
 * reaper (lib/region/claim.c) and the generation of its record when the watch began; for a
 * peer whose slot was empty then (pending), the record's owner pid, to see an attach complete.
 */
struct ipcc_watch {
	unsigned n;
	struct ipcc_system *sys;
	unsigned peer[IPCC_CPUS_MAX];
	uint32_t epoch[IPCC_CPUS_MAX];
	uint32_t gen[IPCC_CPUS_MAX];
	uint32_t pid[IPCC_CPUS_MAX];
	bool pending[IPCC_CPUS_MAX]; /* empty slot: watched from the attach that fills it on */
};

/*
 * A wait backend: what differs between the wait modes. One entry per mode (ipcc_wait_backends,
 * indexed by enum ipcc_wait_mode); the core (wait.c, dispatch.c, cpu.c, uring.c) only calls
 * through it. The spin, futex and adaptive entries share the futex sleep (wait.c); eventfd has
 * its own file (eventfd.c). io_uring waits are not a mode: the application drives them on its
 * own ring, IPCC_URING_FUTEX through the doorbell's verbs (lib/bell) in any mode, and
 * IPCC_URING_POLL through the mode's `fd`.
 * A peer's death or restart wakes the sleepers (lib/region/claim.c), so the sleep needs no
 * other word than the doorbell's.
 */
enum ipcc_spin {
	IPCC_SPIN_NONE,	   /* sleep at once */
	IPCC_SPIN_BUDGET,  /* spin for the CPU's spin_ns, then sleep */
	IPCC_SPIN_FOREVER, /* never sleep (only a timeout or a death ends the wait) */
};

struct ipcc_wait_backend {
	const char *name; /* ipcc_wait_mode_name */
	enum ipcc_spin spin;
	/*
	 * Sleep until the doorbell word moves past `seq` (announced with ipcc_bell_announce; a
	 * watched peer's release moves it too) or the absolute CLOCK_MONOTONIC `deadline` (NULL:
	 * none) passes. Spurious returns are allowed (the caller re-checks everything). Returns 0 or
	 * -ETIMEDOUT. NULL for a mode that never sleeps.
	 */
	int (*sleep)(struct ipcc_cpu *cpu, uint32_t seq, const struct ipcc_watch *watch,
		     const struct timespec *deadline);
	/*
	 * Entering the mode (attach, ipcc_cpu_set_wait_mode; serialised by irq->mode_lock): set
	 * up what it needs before the mode is published. 0 or -errno (the mode stays unchanged).
	 * Leaving it: stop what must stop at once. Either may be NULL.
	 */
	int (*enter)(struct ipcc_cpu *cpu);
	void (*leave)(struct ipcc_cpu *cpu);
	/* At detach, whatever the mode then: free what entering kept beyond leaving. NULL: none. */
	void (*fini)(struct ipcc_cpu *cpu);
	/*
	 * The dispatcher found nothing pending: re-arm the mode's wake-up before the application
	 * blocks elsewhere (its event loop); true if a ring came meanwhile (dispatch again). NULL:
	 * nothing to re-arm. Called on the dispatch path: the only indirect call there.
	 */
	bool (*rearm)(struct ipcc_cpu *cpu);
	/* The pollable fd (ipcc_cpu_fd, IPCC_URING_POLL). NULL: the mode has none (-ENODEV). */
	int (*fd)(struct ipcc_cpu *cpu);
};

extern const struct ipcc_wait_backend *const ipcc_wait_backends[IPCC_WAIT_MODE_COUNT];
extern const struct ipcc_wait_backend ipcc_wait_futex;	 /* wait.c; also Standby's */
extern const struct ipcc_wait_backend ipcc_wait_eventfd; /* eventfd.c */

/* The backend of the CPU's current mode (acquire: see ipcc_cpu_set_wait_mode). */
const struct ipcc_wait_backend *ipcc_wait_backend_of(struct ipcc_cpu *cpu);
/* The futex sleep shared by the futex-based entries (wait.c). */
int ipcc_wait_futex_sleep(struct ipcc_cpu *cpu, uint32_t seq, const struct ipcc_watch *watch,
			  const struct timespec *deadline);

/*
 * The eventfd backend's state (eventfd.c only; zero: not set up): created on the first entry
 * into the mode under mode_lock, before the mode is published, and freed at detach.
 */
struct ipcc_eventfd_state {
	bool started; /* fd, listener and thread exist */
	int fd;
	int listener;
	pthread_t thread;
	_Atomic bool stop;
	uint32_t seen; /* bell_fallback count when the fd server was started */
};

struct ipcc_irq_slot {
	ipcc_irq_handler fn;
	void *arg;
};

/* A service's work for a wake-up without a line (ipcc_irq_set_wake_hook). */
typedef void (*ipcc_wake_hook)(struct ipcc_cpu *cpu);

struct ipcc_irq_state {
	/* handlers[peer][dir * channels + ch], allocated on first activation for that peer */
	struct ipcc_irq_slot *handlers[IPCC_CPUS_MAX];
	/*
	 * handled[peer][dir]: a bit per channel with a handler. The dispatcher touches only these
	 * channels: the others may belong to a blocking call of another thread of this CPU.
	 */
	_Atomic uint32_t handled[IPCC_CPUS_MAX][2];
	/*
	 * Changed by ipcc_cpu_set_wait_mode while other threads may wait or dispatch; the
	 * changes are serialised by mode_lock (process-local), the readers take no lock.
	 */
	pthread_mutex_t mode_lock;
	_Atomic unsigned mode;
	_Atomic uint32_t spin_ns;
	bool thread_started;
	pthread_t thread;
	_Atomic bool stop;
	struct ipcc_eventfd_state efd;
	/*
	 * ipcc_cpu_interrupt: bumps intr_raised (from any thread or a signal handler); waits
	 * that return -EINTR move intr_seen up to what they saw (lib/irq/wait.c:intr_consume).
	 */
	_Atomic uint32_t intr_raised;
	_Atomic uint32_t intr_seen;
	/* ipcc_irq_set_wake_hook: run by the dispatcher for the CPU's own pending bit. */
	_Atomic(ipcc_wake_hook) wake_hook;
	/* A wait took the own bit for the hook (lib/irq/dispatch.c:any_line): the next
	 * dispatch runs it. Process-local. */
	_Atomic bool hook_due;
};

typedef bool (*ipcc_pred_fn)(struct ipcc_cpu *cpu, void *arg);

/* ipcc_wait_core flags. */
#define IPCC_WAIT_SLEEP	 1u /* sleep in the kernel at once whatever the mode (Stop, Standby) */
#define IPCC_WAIT_NOINTR 2u /* ipcc_cpu_interrupt does not end it (the interrupt thread) */

/*
 * The one wait loop of the library: returns 0 once pred(cpu, arg) holds; -EAGAIN (timeout 0),
 * -ETIMEDOUT, -EPIPE (a watched peer died or detached), -EINTR (ipcc_cpu_interrupt, unless
 * IPCC_WAIT_NOINTR; include/ipcc/irq.h says which waits it ends). `pred` must be backed by a
 * line of this CPU that is unmasked and enabled, or the wait is only ended by timeout, death or
 * interrupt. A timeout near INT64_MAX saturates. `flags`: IPCC_WAIT_*.
 */
int ipcc_wait_core(struct ipcc_cpu *cpu, ipcc_pred_fn pred, void *arg, struct ipcc_watch *watch,
		   int64_t timeout_ns, unsigned flags);

/*
 * The polls of ipcc_wait_poll: 2 to 12 us (a PAUSE is 10 to 140 cycles, by CPU), ten or more
 * spin-mode round trips. It bounds how late a polling wait notices a peer's death,
 * ipcc_cpu_interrupt or a stale handle, which the wait that follows it checks.
 */
#define IPCC_WAIT_POLLS 256u

/*
 * A spin-mode CPU's cheap first look: true if pred(cpu, arg) holds within IPCC_WAIT_POLLS polls,
 * false at once in any other mode, or when it did not. The caller then waits with
 * ipcc_wait_core as usual, so the poll decides nothing but which way a spinning CPU goes: the
 * polling procedure (read the flag until it changes) instead of unmask, wait for the
 * interrupt, mask.
 */
bool ipcc_wait_poll(struct ipcc_cpu *cpu, ipcc_pred_fn pred, void *arg);

/* This CPU's interrupt state (the irq layer's entry of the registry, lib/layers.c). */
static inline struct ipcc_irq_state *ipcc_irq(const struct ipcc_cpu *cpu)
{
	return (struct ipcc_irq_state *)cpu->layer[IPCC_LAYER_IRQ];
}

/* lib/irq/watch.c */
/*
 * Watch `peer` (must be linked): -EPIPE if it is dead already (its claim is gone and its
 * record says it never detached), -ENOMEM (no reaper thread), else 0. A peer whose slot is
 * empty (never attached, or detached) is watched from the attach that fills it on.
 */
int ipcc_watch_add(struct ipcc_cpu *cpu, struct ipcc_watch *w, unsigned peer);
/* Stop watching `peer` (a no-op if it is not watched): its going no longer ends the wait. */
void ipcc_watch_remove(struct ipcc_watch *w, unsigned peer);
/* Watch every linked peer that is not dead now. */
void ipcc_watch_all(struct ipcc_cpu *cpu, struct ipcc_watch *w);
/*
 * True if a watched peer detached, died or restarted since the watch began, or a peer that
 * attached into an empty slot during the watch is gone again. Lock-free while every peer's slot
 * stays as it was; a pending entry whose slot changed probes the claim (one fcntl) and may start
 * a reaper (under the handle's claims lock).
 */
bool ipcc_watch_dead(struct ipcc_watch *w);

/*
 * Is a live process holding `peer`'s claim? Cheap enough for a predicate: the kernel is asked
 * (one fcntl) only when the peer's record (generation, owner pid, owner state, which every
 * attacher writes after it took the claim, lib/region/cpu.c) differs from the last probe made
 * with `pp` (zero it before the first). A peer that dies leaves its record as it was, so the
 * answer stays "alive" until the record changes: a wait that must see a death watches the peer
 * (ipcc_watch_add) once the probe found it alive. *ret_gen: the generation read (acquire).
 */
struct ipcc_peer_probe {
	bool valid, alive;
	uint32_t gen, pid, state;
};
bool ipcc_peer_probe(struct ipcc_system *sys, unsigned peer, struct ipcc_peer_probe *pp,
		     uint32_t *ret_gen);

/* CLOCK_MONOTONIC in nanoseconds (vDSO: no syscall). */
int64_t ipcc_now_ns(void);

/* lib/irq/dispatch.c */
/*
 * A service's RX-occupied handler on a channel it reserved (lib/notify): as ipcc_irq_activate
 * for IPCC_DIR_RX, without the reservation check; from the service's attach hook.
 */
int ipcc_irq_activate_service(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, ipcc_irq_handler fn,
			      void *arg);
/*
 * A service's hook for the CPU's own pending bit, which ipcc_bell_wake sets without raising a
 * line: a service whose work has no line of its own (lib/notify: RPMessage packets behind a
 * pair held by a full mailbox, whose line is masked) is woken that way, and the dispatcher
 * (ipcc_cpu_dispatch, the interrupt thread's) runs the hook when it takes the bit. With a hook,
 * the bit also ends ipcc_cpu_wait and the interrupt thread's wait once (not as a level): the
 * dispatch after that wait runs the hook. NULL removes it. One hook per CPU; set at the
 * service's attach, removed at its detach.
 */
void ipcc_irq_set_wake_hook(struct ipcc_cpu *cpu, ipcc_wake_hook fn);
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
