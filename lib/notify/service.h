/* SPDX-License-Identifier: MIT */
/*
 * The seam between IPC Notify and the service that owns its reserved client 0 (RPMessage,
 * lib/rpmsg). Internal to libipcc.
 */
#ifndef IPCC_LIB_NOTIFY_SERVICE_H
#define IPCC_LIB_NOTIFY_SERVICE_H

#include "internal.h"

/*
 * Called by the drainer of a CPU (drain_lock held, as a client callback), for each client-0
 * value from `remote` (value != 0), and once at the end of every visit of the pair from
 * `remote` with value 0, after a seq_cst fence that follows the release of what the visit
 * took: a sender that found the Notify queue full after queueing its work (and its own
 * seq_cst fence) is seen by that poll.
 */
typedef void (*ipcc_notify_service_fn)(void *arg, unsigned remote, uint32_t value);

/* Pairs that would get Notify for cfg (0: none, or cfg->notify NULL or invalid). */
unsigned ipcc_notify_plan_pairs(const struct ipcc_config *cfg, const struct ipcc_geometry *g,
				uint64_t pairs[IPCC_LINK_MAP_WORDS]);
/* Whether the loaded object has Notify on the link a-b (either order). */
bool ipcc_notify_pair_on(const struct ipcc_system *sys, unsigned a, unsigned b);
/* Whether this CPU's Notify has the peer `remote` (attached with it). */
bool ipcc_notify_has_peer(struct ipcc_cpu *cpu, unsigned remote);
/* Install (fn not NULL) or remove client 0's service; under drain_lock. -ENOPROTOOPT. */
int ipcc_notify_service_set(struct ipcc_cpu *cpu, ipcc_notify_service_fn fn, void *arg);
/*
 * A client-0 value to `remote`, never blocking: when the queue is full, the entries already in
 * it make the receiver visit the pair (and poll the service) after it has seen everything
 * queued before the caller's seq_cst fence. 0, or an error of ipcc_notify_send other than
 * -EAGAIN (-EBADMSG, -ENOPROTOOPT ...).
 */
int ipcc_notify_kick(struct ipcc_cpu *cpu, unsigned remote, uint32_t value);
/* Run the service's poll for every Notify peer now (drain_lock taken unless the caller is
 * the drainer): for a service just installed, or one that wants to look at everything. */
void ipcc_notify_service_poll_all(struct ipcc_cpu *cpu);
/* Drain this CPU now unless somebody is (a waiting thread's predicate). */
void ipcc_notify_drain_try(struct ipcc_cpu *cpu);
/* Whether the calling thread is running this CPU's drain (a callback of it). */
bool ipcc_notify_draining(const struct ipcc_cpu *cpu);
/* Exclude the drainer (a no-op when called from it): no callback of cpu runs in between. */
void ipcc_notify_drain_enter(struct ipcc_cpu *cpu);
void ipcc_notify_drain_leave(struct ipcc_cpu *cpu);

#endif
