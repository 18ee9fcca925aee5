/* SPDX-License-Identifier: MIT */
/*
 * Interrupts across processes: handlers, the dispatcher, waiting (power modes).
 *
 * Each attached CPU has a doorbell in the shared object. A register change that can raise one of
 * the CPU's lines rings it; the register state is the truth and the doorbell a hint, so spurious
 * wake-ups are harmless and no level is lost. A CPU whose owner process dies or detaches is
 * seen by every waiter that depends on it within milliseconds: the owner's claim is a lock the
 * kernel drops at process exit, and a thread of each watching process, blocked on that lock,
 * rings the waiters' doorbells when it goes (README "CPU ownership").
 *
 * Timeouts are in nanoseconds: 0 never blocks, IPCC_TIMEOUT_INFINITE (any negative value) waits
 * without a bound; any positive value up to INT64_MAX is a valid bound (the deadline saturates).
 * A signal never ends a wait (it resumes); ipcc_cpu_interrupt does, with -EINTR.
 */
#ifndef IPCC_IRQ_H
#define IPCC_IRQ_H

#include <ipcc/common.h>
#include <ipcc/regs.h>
#include <ipcc/system.h>

IPCC_BEGIN_DECLS

#define IPCC_TIMEOUT_INFINITE ((int64_t)-1)

/*
 * A channel handler, called from the dispatcher with the channel's interrupt already masked
 * (as the ST HAL does): RX handlers end by clearing the flag and unmasking (ipcc_chan_clear,
 * ipcc_chan_unmask), TX-free handlers leave the channel masked until the next send.
 */
typedef void (*ipcc_irq_handler)(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				 enum ipcc_dir dir, void *arg);

/*
 * HAL ActivateNotification: store `fn` for (peer, ch, dir); an RX channel is unmasked at once,
 * a TX channel stays masked (it is unmasked when a send finds it occupied). Enables RXOIE or
 * TXFIE of this CPU's bank on that link. Errors: -EINVAL (bad peer/channel/direction, NULL fn),
 * -ENOENT (no link), -EEXIST (a handler is already registered there), -ENOMEM.
 * Call from the CPU's own threads; not concurrently with ipcc_cpu_dispatch on the same channel.
 */
IPCC_EXPORT int ipcc_irq_activate(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				  enum ipcc_dir dir, ipcc_irq_handler fn, void *arg);
/* HAL DeActivateNotification: mask the channel and forget its handler. -EINVAL, -ENOENT. */
IPCC_EXPORT int ipcc_irq_deactivate(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				    enum ipcc_dir dir);

/*
 * Run the handler of every asserted line of this CPU until no unmasked level of a channel with a
 * handler remains; each channel is masked before its handler runs, as the ST HAL does (a
 * channel a service reserved, such as Notify's, is the service's: it stays unmasked). Channels
 * without a handler are left alone: a blocking call (ipcc_recv, ipcc_send, ...) of another
 * thread of this CPU may be waiting on them. Cost grows with the number of asserted lines and
 * rung links, not with the number of links or channels. Returns the number of channel events
 * handled (0: none), -EINVAL.
 * Not reentrant per CPU: call from one thread at a time (never from a handler), and not while
 * the CPU has an interrupt thread.
 */
IPCC_EXPORT int ipcc_cpu_dispatch(struct ipcc_cpu *cpu);

/*
 * Wait for interrupt: returns 0 as soon as one of this CPU's lines is asserted (it may already
 * be), without handling it; a line of a channel without a handler counts too, so mask what you
 * do not handle. -EAGAIN (timeout 0 and nothing asserted), -ETIMEDOUT, -EPIPE (a
 * peer that was alive when the wait began died or detached; the next wait watches the peers
 * alive then), -EINTR (ipcc_cpu_interrupt), -EINVAL. Sleeps or spins according to the CPU's wait mode. Do not mix with an
 * interrupt thread. It also returns 0, once, when a service of the CPU needs a dispatch that no
 * line announces (IPC Notify, for RPMessage packets behind a pair its full mailbox holds back):
 * the next ipcc_cpu_dispatch does that work.
 */
IPCC_EXPORT int ipcc_cpu_wait(struct ipcc_cpu *cpu, int64_t timeout_ns);

/*
 * CStandby: like ipcc_cpu_wait, but the CPU sleeps in the kernel whatever its wait mode, and on
 * return (for any reason but -EINVAL) its register banks on every link are back at their reset
 * values, as the hardware loses them in Standby: the caller re-initialises its masks.
 */
IPCC_EXPORT int ipcc_cpu_standby(struct ipcc_cpu *cpu, int64_t timeout_ns);

/*
 * Change the wait mode (and the adaptive spin budget) of an attached CPU. Takes effect at the
 * next wait: a wait in progress (ipcc_cpu_wait, a blocking call, the interrupt thread between two
 * interrupts) finishes in the mode it began in; the interrupt thread begins a new wait after each
 * dispatch round. Errors: -EINVAL (bad mode, spin_ns above 1 s), -EOPNOTSUPP (the mode's backend
 * is not available here), or what setting up IPCC_WAIT_EVENTFD failed with (-EMFILE, -ENFILE,
 * -ENOMEM, -EAGAIN ..., -EADDRINUSE when 8 random socket names in a row were taken, which
 * only a broken random source makes happen); on error the mode and spin budget are unchanged.
 *
 * Threads: any thread of the process holding the handle may call it at any time, also while
 * other threads of this CPU wait, dispatch (ipcc_cpu_dispatch, the interrupt thread, a handler)
 * or poll the CPU's fd; calls on one CPU are serialised, the last one wins. Not concurrently with
 * ipcc_cpu_detach. May block briefly: the first switch to IPCC_WAIT_EVENTFD creates the CPU's
 * eventfd and starts its fd server thread. The fd then stays open until detach, also while the
 * CPU is in another mode, where it is no longer signalled and ipcc_cpu_fd says -ENODEV; back in
 * IPCC_WAIT_EVENTFD, the same fd is signalled again (at once if a line is pending). So a thread
 * still polling it or dispatching never uses a closed or reused descriptor.
 */
IPCC_EXPORT int ipcc_cpu_set_wait_mode(struct ipcc_cpu *cpu, enum ipcc_wait_mode mode,
				       uint32_t spin_ns);
IPCC_EXPORT enum ipcc_wait_mode ipcc_cpu_wait_mode(const struct ipcc_cpu *cpu);
IPCC_EXPORT const char *ipcc_wait_mode_name(enum ipcc_wait_mode mode);

/*
 * The pollable file descriptor of a CPU in IPCC_WAIT_EVENTFD mode: it becomes readable when one
 * of the CPU's lines may have asserted; the application then calls ipcc_cpu_dispatch, which
 * drains it. Ringers in other processes (related or not, same uid or root) obtain it over an
 * abstract UNIX socket; a ringer that cannot still wakes the CPU through a fallback futex served
 * by a thread of the CPU's process. The fd belongs to the CPU: do not close it; it stays the
 * same until detach (see ipcc_cpu_set_wait_mode). Any thread may call this.
 * -EINVAL, -ENODEV (the CPU is not in eventfd mode).
 */
IPCC_EXPORT int ipcc_cpu_fd(struct ipcc_cpu *cpu);

/*
 * Whether peer's owner process is alive now (1, the kernel's answer: it holds the claim), not
 * attached (0); -EINVAL, -ENOENT no link. -EPIPE: nobody holds the claim and the peer's record
 * says its last owner never detached (it died; nobody has taken the slot over). The record can be
 * forged by a process that writes the object: 0 and -EPIPE may then be swapped, 1 never lies.
 * Any thread; one fcntl(F_OFD_GETLK), never blocks.
 */
IPCC_EXPORT int ipcc_cpu_peer_alive(struct ipcc_cpu *cpu, unsigned peer);

/*
 * Interrupt the blocking calls of `cpu`: every wait of this CPU blocked now (ipcc_recv,
 * ipcc_send, ipcc_call, ipcc_serve, the claims, ipcc_cpu_wait, ipcc_cpu_standby, in any wait
 * mode) returns -EINTR promptly; when none is blocked, the next wait that would block returns
 * -EINTR at once instead (the interrupt stays pending until a wait consumes it by returning
 * -EINTR; several calls before that count as one). A wait that finds its condition already true
 * returns its result, and so does a spin-mode procedure wait whose condition comes within its
 * first polls (proc.h); timeout 0 never returns -EINTR. Nothing else changes: no register, no
 * message, no handler; the interrupt thread (IPCC_CPU_IRQ_THREAD) is not interrupted, and an
 * application polling ipcc_cpu_fd is not woken (poll gets its own EINTR).
 * Typical use: a SIGTERM handler sets a flag and calls this; the server loop sees -EINTR and
 * checks the flag. Waits never end with -EINTR for a signal alone (they restart).
 * Async-signal-safe: atomics on the doorbell and at most one futex syscall (ipcc_bell_wake's
 * wake of futex sleepers), no lock, no allocation; errno is preserved. Callable from any thread
 * of the process holding the handle and from a signal handler, not concurrently with (or after)
 * ipcc_cpu_detach. Never blocks. Returns 0, -EINVAL (NULL cpu).
 */
IPCC_EXPORT int ipcc_cpu_interrupt(struct ipcc_cpu *cpu);

/*
 * The generation of `peer`'s current owner into *ret_gen: a number the library bumps each
 * time a process attaches that CPU, so a changed value means a new incarnation (a restart) since
 * the value was read before. Read it before a call and compare after (or carry it in the
 * request, see README "Delivery semantics") to tell a restarted peer. peer may be cpu's own id:
 * this handle's generation (what peers read for it). Informational like the rest of the CPU
 * record: a process that writes the object can forge it (0 when it was never attached).
 * Returns 0; -ENOTCONN (nobody holds peer's claim now: not attached, detached or dead;
 * ipcc_cpu_peer_alive tells which), -EAGAIN (the peer restarted 8 times while we read),
 * -EINVAL (NULL argument, bad peer), -ENOENT (no link). Any thread; never blocks
 * (fcntl(F_OFD_GETLK)); *ret_gen untouched on error.
 */
IPCC_EXPORT int ipcc_cpu_peer_generation(struct ipcc_cpu *cpu, unsigned peer, uint32_t *ret_gen);

/*
 * Wait until a live process holds `peer`'s claim (it attached): 0 at once if it does. A peer
 * that died or detached is waited for like one that never attached (its return is what this
 * waits for), so this never returns -EPIPE. Woken by the attach itself (the attacher rings its
 * linked peers), not by polling. -EAGAIN (timeout 0, not attached), -ETIMEDOUT, -EINTR
 * (ipcc_cpu_interrupt), -EINVAL (NULL cpu, bad peer, this CPU), -ENOENT (no link), -ESTALE.
 */
IPCC_EXPORT int ipcc_cpu_wait_peer(struct ipcc_cpu *cpu, unsigned peer, int64_t timeout_ns);

IPCC_END_DECLS

#endif
