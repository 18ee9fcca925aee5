/* SPDX-License-Identifier: MIT */
/*
 * The doorbell of a CPU (lib/bell): the one owner of its words in the shared object (bell_seq,
 * bell_sleepers, bell_pending, bell_fallback of struct ipcc_shm_cpu). No other file reads or
 * writes them; the others call the verbs below. The lost-wake-up argument is in bell.c, next to
 * the accesses it covers.
 *
 * A layer between region (the object) and ipcc (the registers): the register layer rings after a
 * register change; the interrupt layer announces its sleepers, takes the pending bits, arms its
 * eventfd. The eventfd ringer and its per-peer fd cache are here too (bell-eventfd.c), with both
 * ends of the fd exchange; the eventfd itself and its server thread belong to the eventfd wait
 * backend (lib/irq/eventfd.c).
 */
#ifndef IPCC_LIB_BELL_H
#define IPCC_LIB_BELL_H

#include <sys/socket.h>

#include "internal.h"

/* ---- system lifetime (lib/region/system.c) ------------------------------------------------ */

/* Process-local ringer state of a system (the layer's open hook): 0 or -ENOMEM. */
int ipcc_bell_sys_init(struct ipcc_system *sys);
/* Frees it; NULL-safe. No other thread may use the system any more. */
void ipcc_bell_sys_fini(struct ipcc_system *sys);

/* ---- ringers: any thread, any process ----------------------------------------------------- */

/*
 * Whether ringing `target` for the link to `from` could change anything: false when that link's
 * pending bit is already set and nobody sleeps. Call after the register change (a seq_cst
 * access); lets the register layer skip evaluating the target's lines. Two loads, no write.
 */
bool ipcc_bell_ring_needed(struct ipcc_system *sys, unsigned target, unsigned from);
/*
 * A register change (a seq_cst store or RMW, made before the call) may have raised a line of
 * `target` on its link to `from`: mark the link pending and wake the target if it may sleep.
 * Never blocks; a syscall only when the target announced a sleeper.
 */
void ipcc_bell_ring(struct ipcc_system *sys, unsigned target, unsigned from);
/*
 * Wake `target`'s sleepers (futex waits, io_uring FUTEX waits, an armed eventfd) without a
 * register change, so that they re-check their predicates: a barrier, a log reader, the stop of
 * an interrupt thread. The caller's own change must be a seq_cst store or RMW made before the
 * call. Marks target's own bit pending, which no link has: a dispatcher evaluates no line for
 * it, but runs the wake hook of a service that set one (lib/irq: ipcc_irq_set_wake_hook).
 */
void ipcc_bell_wake(struct ipcc_system *sys, unsigned target);

/*
 * Wake `target`'s futex sleepers only (blocking waits and io_uring FUTEX waits), leaving its
 * eventfd and pending bits alone: a peer died or restarted (lib/region/claim.c,
 * lib/region/cpu.c), which no event loop needs to hear of, but every blocking wait must
 * re-check. The caller's own change must be a seq_cst store, RMW or fence made before the call.
 * Async-signal-safe (lib/irq/cpu.c:ipcc_cpu_interrupt relies on it): atomics and at most one
 * FUTEX_WAKE. ipcc_bell_ring and ipcc_bell_wake are not when the target armed its eventfd:
 * they may then trylock a mutex and talk to the owner's socket (ipcc_bell_eventfd_ring).
 */
void ipcc_bell_wake_sleepers(struct ipcc_system *sys, unsigned target);

/* ---- the CPU's own threads ---------------------------------------------------------------- */

/*
 * Announce a sleeper of `cpu` and return the value to sleep on. The caller then checks its
 * predicate and sleeps (ipcc_bell_word) only while the word still holds the value; it calls
 * ipcc_bell_retire once, after the sleep, whatever happened.
 */
uint32_t ipcc_bell_announce(struct ipcc_cpu *cpu);
/*
 * The same for a sleep whose compare happens later and without a predicate check by the caller
 * (IORING_OP_FUTEX_WAIT, compared at submission): when a link is pending already, returns a
 * value the word cannot hold, so the wait completes at once. Retired with ipcc_bell_retire.
 */
uint32_t ipcc_bell_announce_async(struct ipcc_cpu *cpu);
void ipcc_bell_retire(struct ipcc_cpu *cpu);
/* The futex word of the announcements, to hand to the kernel only (never read or written). */
_Atomic uint32_t *ipcc_bell_word(struct ipcc_cpu *cpu);

/*
 * Take the pending bits (bit p: the link to CPU p was rung), clearing them; 0 without writing
 * the doorbell line when none is set. The caller evaluates the lines of those links after this.
 */
uint64_t ipcc_bell_take(struct ipcc_cpu *cpu);
/* Put back bits taken by ipcc_bell_take whose links still assert a line (no wake-up). */
void ipcc_bell_put_back(struct ipcc_cpu *cpu, uint64_t bits);

/*
 * eventfd mode: arm (the next ringer writes the CPU's eventfd once) and return whether a link
 * was pending already (the caller dispatches again instead of blocking); disarm.
 */
bool ipcc_bell_arm_eventfd(struct ipcc_cpu *cpu);
void ipcc_bell_disarm_eventfd(struct ipcc_cpu *cpu);

/*
 * The fallback word of an eventfd-mode CPU: ringers that do not hold its fd bump it, and the
 * CPU's fd server thread (lib/irq/eventfd.c) writes the eventfd for them. The count (acquire),
 * a sleep while it still equals `seen`, and a bump by the CPU itself (to stop that thread).
 */
uint32_t ipcc_bell_fallback_count(struct ipcc_cpu *cpu);
void ipcc_bell_fallback_wait(struct ipcc_cpu *cpu, uint32_t seen);
void ipcc_bell_fallback_kick(struct ipcc_cpu *cpu);

/* ---- the fd exchange, server end (bell-eventfd.c; used by lib/irq/eventfd.c) --------------- */

/* How many random names ipcc_bell_efd_listen tries before it gives up with -EADDRINUSE. */
#define IPCC_BELL_EFD_BIND_TRIES 8u

struct sockaddr_un;
/* The abstract socket address of a rendezvous token (into *sa): its length. */
socklen_t ipcc_bell_efd_name(const uint64_t token[2], struct sockaddr_un *sa);
/*
 * A listening socket for fd requests to `cpu`, under a fresh random name whose token it
 * publishes in the CPU's record for its current generation: fd, or -errno (socket, bind and
 * listen errors; -EADDRINUSE when IPCC_BELL_EFD_BIND_TRIES names were all taken). May block
 * in getrandom until the kernel's random pool is initialised (early boot only).
 */
int ipcc_bell_efd_listen(struct ipcc_cpu *cpu);
/* Answer every pending request on `listener` with `efd`; never blocks. */
void ipcc_bell_efd_serve(int listener, int efd);
/* Make `efd` readable. */
void ipcc_bell_efd_signal(int efd);

/* ---- inside the module (bell.c -> bell-eventfd.c) ----------------------------------------- */

/* Write target's eventfd: 0, or < 0 when this process does not hold it (yet): fall back. */
int ipcc_bell_eventfd_ring(struct ipcc_system *sys, unsigned target);

#endif
