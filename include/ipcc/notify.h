/* SPDX-License-Identifier: MIT */
/*
 * IPC Notify: a CPU interrupts another and carries a 28-bit value to one of 16 clients (logical
 * ports) on it, as in TI's MCU+ SDK; and the sync barrier built on it.
 *
 * Transport. Notify is enabled per linked CPU pair when the system is created (struct
 * ipcc_notify_config, or `services: notify:` in a system description). Each ordered pair has a
 * queue of `depth` 32-bit entries in the object (client << 28 | value) and Notify reserves one
 * IPCC channel of the link: the sender's occupied flag of that channel (CHnS) is the doorbell.
 * A sender queues the entry and sets the flag only when it is not already set; the receiver's
 * RX-occupied interrupt drains the queue, clears the flag (CHnC) and looks again, so that a
 * value queued meanwhile is never stranded. A value is therefore a real IPCC interrupt:
 * `ipcc info` and the registers show the flag, the masks and the queue fill.
 *
 * Receiving. Values for a client with a callback run the callback "in interrupt context": from
 * the CPU's dispatcher (ipcc_cpu_dispatch, or the interrupt thread of IPCC_CPU_IRQ_THREAD), or
 * from a thread of this CPU blocked in ipcc_notify_recv or ipcc_notify_sync_* while nobody else
 * is draining: one drainer at a time, never two callbacks of one CPU at once. Values for a
 * client without a callback are kept in that client's mailbox (IPCC_NOTIFY_MAILBOX values,
 * oldest first) for ipcc_notify_recv. A full mailbox of a client that ipcc_notify_recv was
 * called for (since attach) holds the value in the queue, and its pair's later values behind
 * it, until a receive makes room: the sender waits as for a slow callback and nothing is lost.
 * A value that finds the mailbox of any other client full, or arrives for a reserved client
 * nobody serves, is dropped and counted (struct ipcc_notify_stats.dropped).
 * Order: the values of one ordered pair arrive in the order they were sent (several threads of
 * the sending process sending to one CPU are ordered by an internal lock). Pairs are drained
 * in turn, a queue's worth each, so no sender to a CPU starves another.
 *
 * Delivery contract. A queued value lives in the object, not in a process: it survives the
 * sender's death and waits for the receiver while it is not attached or restarting. A value
 * is removed from the queue after its callback returned (or it entered the mailbox): a receiver
 * that dies in a callback gets that batch again when it restarts (at least once across a
 * restart, exactly once otherwise). Mailbox contents are process-local and go with the process.
 *
 * Threads. Every call may come from any thread of the process that attached the CPU, except
 * where said. A callback may send (with timeout 0, as an ISR would: a blocking send from a
 * callback waits while nothing else drains this CPU) and may register or unregister clients;
 * it must not call ipcc_notify_recv or the sync calls.
 *
 * Errors are negative errnos; timeouts as in <ipcc/irq.h> (0 never blocks, negative waits for
 * ever). A blocking call returns -EPIPE when a peer it depends on dies, detaches or restarts,
 * and -EINTR on ipcc_cpu_interrupt.
 */
#ifndef IPCC_NOTIFY_H
#define IPCC_NOTIFY_H

#include <ipcc/common.h>
#include <ipcc/irq.h>
#include <ipcc/system.h>

IPCC_BEGIN_DECLS

#define IPCC_NOTIFY_CLIENTS	  16u	      /* client ids 0..15 per CPU */
#define IPCC_NOTIFY_CLIENT_RPMSG  0u	      /* reserved: RPMessage */
#define IPCC_NOTIFY_CLIENT_SYNC	  1u	      /* reserved: the sync calls */
#define IPCC_NOTIFY_CLIENT_FIRST  2u	      /* the first client an application may use */
#define IPCC_NOTIFY_VALUE_MAX	  0x0FFFFFFFu /* 28 bits */
#define IPCC_NOTIFY_DEPTH_MIN	  2u
#define IPCC_NOTIFY_DEPTH_MAX	  4096u
#define IPCC_NOTIFY_DEPTH_DEFAULT 16u
/* ipcc_notify_config.channel: the last channel of each link (channels - 1), the default. */
#define IPCC_NOTIFY_CHANNEL_LAST 0xFFFFFFFFu
/* Values kept per client without a callback, process-local. */
#define IPCC_NOTIFY_MAILBOX 256u
/* The service number Notify's channels carry (ipcc_system_channel_owner). */
#define IPCC_SERVICE_NOTIFY 1u

/* Which pairs have Notify, and how (the `services: notify:` block of a system description). */
struct ipcc_notify_config {
	/* Bit b of pairs[a] for a < b: Notify on link a-b. Bits of unlinked pairs are ignored. */
	uint64_t pairs[IPCC_CPUS_MAX];
	uint32_t depth;	  /* entries per ordered pair: a power of two, DEPTH_MIN..DEPTH_MAX */
	uint32_t channel; /* the IPCC channel of every Notify link it reserves, or CHANNEL_LAST */
	uint32_t reserved[6];
};

/* Defaults: every pair (so every link of the config gets Notify), depth 16, the last channel. */
IPCC_EXPORT void ipcc_notify_config_init(struct ipcc_notify_config *ncfg);
/* Enable (on = true) or disable Notify for pair a, b (either order). -EINVAL as ipcc_config_link. */
IPCC_EXPORT int ipcc_notify_config_pair(struct ipcc_notify_config *ncfg, unsigned a, unsigned b,
					bool on);

/*
 * The client callback: `remote` sent `value` to `client` of `cpu`. Runs in interrupt context
 * (see above).
 */
typedef void (*ipcc_notify_fn)(struct ipcc_cpu *cpu, unsigned remote, unsigned client,
			       uint32_t value, void *arg);

/*
 * Register fn for this CPU's client `client`. Values kept in its mailbox are handed to fn
 * first, at the next drain. -EINVAL (NULL cpu or fn), -ECHRNG (client >= 16), -EACCES (a
 * reserved client, 0 or 1), -EEXIST (it has a callback), -ENOPROTOOPT (no link of this CPU has
 * Notify), -ESTALE (a fork child's handle).
 */
IPCC_EXPORT int ipcc_notify_register(struct ipcc_cpu *cpu, unsigned client, ipcc_notify_fn fn,
				     void *arg);
/*
 * Forget the callback: when this returns, it is not running and will not run again (unless it
 * is the caller: from the callback itself, it is not called again). Later values go to the
 * mailbox. -EINVAL, -ECHRNG, -EACCES, -ENOENT (no callback), -ESTALE.
 */
IPCC_EXPORT int ipcc_notify_unregister(struct ipcc_cpu *cpu, unsigned client);

/*
 * Send `value` to client `client` of CPU `remote`. Errors, each its own: -ERANGE (value above
 * IPCC_NOTIFY_VALUE_MAX), -ECHRNG (client >= 16), -EACCES (a reserved client), -EINVAL (NULL
 * cpu, remote out of range or this CPU itself), -ENOENT (no link), -ENOPROTOOPT (the link has
 * no Notify), -ESTALE. The queue is full: -EAGAIN with timeout 0; else wait for room (the
 * TX-free interrupt of the Notify channel), -ETIMEDOUT, -EPIPE (the receiver died, detached or
 * restarted during the wait), -EINTR. A receiver that is not attached does not stop a send:
 * the value waits in the queue. -EBADMSG: the receiver wrote an impossible queue index.
 */
IPCC_EXPORT int ipcc_notify_send(struct ipcc_cpu *cpu, unsigned remote, unsigned client,
				 uint32_t value, int64_t timeout_ns);

/*
 * Take the oldest value kept for client `client` (which has no callback), waiting up to
 * timeout_ns for one. On success *ret_value and (if not NULL) *ret_remote. -EAGAIN (timeout 0,
 * none), -ETIMEDOUT, -EINTR, -EBUSY (the client has a callback), -EINVAL, -ECHRNG, -EACCES,
 * -ENOPROTOOPT, -ESTALE. A peer's death does not end it (any peer may send).
 */
IPCC_EXPORT int ipcc_notify_recv(struct ipcc_cpu *cpu, unsigned client, uint32_t *ret_value,
				 unsigned *ret_remote, int64_t timeout_ns);

/*
 * The start-up barrier. Returns 0 once every CPU that shares a Notify link with this one has
 * reached its own ipcc_notify_sync_all (or its ipcc_notify_sync_send towards this CPU) for the
 * same round. Peers not attached yet are waited for. Rounds count per pair from the attach of
 * either CPU: a CPU that restarts meets the others' next sync, never one that was meant for
 * its previous incarnation. -ETIMEDOUT leaves nothing behind that a later round would take
 * for a meeting (a retry is the same round). -EAGAIN: timeout 0 and a peer has not reached
 * the round yet (the announcement is made all the same). -EPIPE: a peer that was attached
 * during the wait died, detached or restarted. -EINTR, -EINVAL, -ENOPROTOOPT (no Notify
 * link), -ESTALE.
 * Waits for an interrupt, never sleeps for a period or polls.
 */
IPCC_EXPORT int ipcc_notify_sync_all(struct ipcc_cpu *cpu, int64_t timeout_ns);
/*
 * The same for one peer, in two halves: sync_send tells `remote` this CPU reached the next
 * round (never blocks; sending again before the round completed is the same round), sync_wait
 * waits until `remote` reached it too (waiting for it to attach if it has not) and completes
 * the round. ipcc_notify_sync_all is sync_send to every Notify peer, then sync_wait for each.
 * Errors as sync_all, plus -ENOENT (no link) and -ENOPROTOOPT (the link has no Notify).
 */
IPCC_EXPORT int ipcc_notify_sync_send(struct ipcc_cpu *cpu, unsigned remote);
IPCC_EXPORT int ipcc_notify_sync_wait(struct ipcc_cpu *cpu, unsigned remote, int64_t timeout_ns);

/*
 * Notify's shape in an open system (any handle, read-only included). ipcc_notify_enabled:
 * 1 if the link a-b has Notify, 0 if not (or the object has no Notify at all), -EINVAL (ids),
 * -ENOENT (no link). ipcc_notify_depth: entries per ordered pair (0: no Notify);
 * ipcc_notify_channel: the reserved channel (-ENOPROTOOPT: no Notify).
 */
IPCC_EXPORT int ipcc_notify_enabled(const struct ipcc_system *sys, unsigned a, unsigned b);
IPCC_EXPORT uint32_t ipcc_notify_depth(const struct ipcc_system *sys);
IPCC_EXPORT int ipcc_notify_channel(const struct ipcc_system *sys);

/*
 * The counters of ordered pair from -> to, as the two sides keep them in the object (each side
 * writes its own; a peer can forge its half). `fill` is the queue's current fill (0..depth).
 */
struct ipcc_notify_stats {
	uint64_t sent;	   /* values queued by the sender */
	uint64_t full;	   /* sends that found the queue full (each call counts once) */
	uint64_t received; /* values the receiver took from the queue */
	uint64_t dropped; /* values the receiver dropped (mailbox full, reserved client unserved) */
	uint32_t fill;
	uint32_t depth;
};

/*
 * Read the counters of from -> to. -EINVAL (ids, NULL), -ENOENT (no link), -ENOPROTOOPT (no
 * Notify on it), -EBADMSG (the queue's indices are inconsistent: *ret_stats is filled all the
 * same, with fill clamped to depth), -EAGAIN (a busy queue moved under several reads; retry).
 * Lock-free; any thread; read-only handles too.
 */
IPCC_EXPORT int ipcc_notify_stats(const struct ipcc_system *sys, unsigned from, unsigned to,
				  struct ipcc_notify_stats *ret_stats);

IPCC_END_DECLS

#endif
