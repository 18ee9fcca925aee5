/* SPDX-License-Identifier: MIT */
/*
 * IPC Notify and sync (include/ipcc/notify.h): the notify section type, the layer, the calls.
 *
 * The doorbell protocol of one ordered pair S -> R, on the channel Notify reserved on their link.
 * S's occupied flag of that channel (CHnS) says "R has values to drain".
 *   Sender:   push the entry (release store of head); seq_cst fence; load the flag; set it
 *             (CHnS, a seq_cst RMW that rings R) only if it was clear.
 *   Receiver: drain until empty; clear the flag (CHnC, a seq_cst RMW); seq_cst fence; look at
 *             head again and drain again if it moved.
 * The two fences are ordered one way or the other: if the sender's comes first, the receiver's
 * second look sees the entry; if the receiver's comes first, the sender sees the flag clear and
 * sets it. Either way the entry is drained: it is never left behind a flag nobody will set.
 *
 * A sender that finds the queue full waits for TX free of the channel (its flag cleared by the
 * receiver, which clears only when it has drained the queue): it unmasks TX free (one mask per
 * pair however many threads wait, counted under the pair's lock), makes sure its flag is set so
 * that the receiver's next clear is an edge that rings it, and waits with the flag clear as
 * its predicate, then tries again.
 *
 * Draining: the RX-occupied handler of any Notify link drains every pair of the CPU, in turn, a
 * queue's worth each, until no pair has anything left: one drainer at a time (drain_lock), so
 * the callbacks of one CPU never run concurrently. A thread blocked in ipcc_notify_recv or a
 * sync wait drains too (if nobody else is), so that a CPU without a dispatcher still receives.
 */
#include <stdint.h>
#include <stdlib.h>

#include <ipcc/notify.h>

#include "ipcc/chan.h"
#include "ipcc/trace-hooks.h"
#include "irq/irq.h"
#include "notify/service.h"
#include "queue/queue.h"

#define ENTRY_SIZE 4u
#define NO_RECORD  0xFFFFu

/* ---- config ------------------------------------------------------------------------------- */

IPCC_EXPORT void ipcc_notify_config_init(struct ipcc_notify_config *ncfg)
{
	if (!ncfg)
		return;
	memset(ncfg, 0, sizeof(*ncfg));
	for (unsigned a = 0; a < IPCC_CPUS_MAX; a++)
		ncfg->pairs[a] = ~0ull;
	ncfg->depth = IPCC_NOTIFY_DEPTH_DEFAULT;
	ncfg->channel = IPCC_NOTIFY_CHANNEL_LAST;
}

IPCC_EXPORT int ipcc_notify_config_pair(struct ipcc_notify_config *ncfg, unsigned a, unsigned b,
					bool on)
{
	return ncfg ? ipcc_pair_map_set(ncfg->pairs, a, b, on) : -EINVAL;
}

static bool pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

static bool depth_ok(uint32_t depth)
{
	return pow2(depth) && depth >= IPCC_NOTIFY_DEPTH_MIN && depth <= IPCC_NOTIFY_DEPTH_MAX;
}

static uint64_t align64(uint64_t x)
{
	return (x + IPCC_SECTION_ALIGN - 1) & ~(uint64_t)(IPCC_SECTION_ALIGN - 1);
}

/* Bytes per record of a queue of `depth` entries. */
static uint32_t record_size(uint32_t depth)
{
	size_t q = 0;
	int r = ipcc_queue_size(depth, ENTRY_SIZE, &q);
	assert(r == 0);
	(void)r;
	return (uint32_t)align64(sizeof(struct ipcc_shm_notify_pair) + q);
}

/* The Notify links of a config: ncfg's pairs that the geometry links. */
static unsigned effective_pairs(const struct ipcc_notify_config *n, const struct ipcc_geometry *g,
				uint64_t out[IPCC_LINK_MAP_WORDS])
{
	unsigned count = 0;
	memset(out, 0, sizeof(uint64_t) * IPCC_LINK_MAP_WORDS);
	for (unsigned a = 0; a < g->cpus; a++)
		for (unsigned b = a + 1; b < g->cpus; b++)
			if ((n->pairs[a] >> b & 1) &&
			    ipcc_geometry_pair_linked(g->link_map, a, b)) {
				out[a] |= 1ull << b;
				count++;
			}
	return count;
}

static int config_check(const struct ipcc_notify_config *n, const struct ipcc_geometry *g,
			unsigned *ret_channel)
{
	if (!depth_ok(n->depth))
		return -EINVAL;
	unsigned ch = n->channel == IPCC_NOTIFY_CHANNEL_LAST ? g->channels - 1 : n->channel;
	if (ch >= g->channels)
		return -EINVAL;
	for (unsigned i = 0; i < sizeof(n->reserved) / sizeof(n->reserved[0]); i++)
		if (n->reserved[i])
			return -EINVAL;
	*ret_channel = ch;
	return 0;
}

/* ---- the section type --------------------------------------------------------------------- */

/* Process-local view of the object's Notify section (sys->layer[IPCC_LAYER_NOTIFY]). */
struct notify_sys {
	bool loaded;
	uint32_t depth;
	unsigned channel;
	uint32_t stride;
	uint8_t *records;
	uint16_t rec[IPCC_CPUS_MAX][IPCC_CPUS_MAX]; /* record of ordered pair from -> to */
};

static struct notify_sys *nsys(const struct ipcc_system *sys)
{
	return (struct notify_sys *)sys->layer[IPCC_LAYER_NOTIFY];
}

static int notify_plan(const struct ipcc_config *cfg, const struct ipcc_geometry *g,
		       struct ipcc_shm_section *out, unsigned cap)
{
	uint64_t pairs[IPCC_LINK_MAP_WORDS];
	unsigned ch;

	if (!cfg->notify)
		return 0;
	if (config_check(cfg->notify, g, &ch) < 0)
		return -EINVAL;
	unsigned n = effective_pairs(cfg->notify, g, pairs);
	if (n == 0)
		return 0; /* no linked pair asked for Notify: the object has none */
	if (cap < 1)
		return -EINVAL;
	uint32_t stride = record_size(cfg->notify->depth);
	out[0] = (struct ipcc_shm_section){ .size = IPCC_SHM_NOTIFY_HEAD_SIZE +
						    (uint64_t)2 * n * stride,
					    .count = 2 * n,
					    .stride = stride,
					    .owner = IPCC_SECTION_OWNER_NONE,
					    .arg = cfg->notify->depth };
	return 1;
}

static int notify_check(struct ipcc_geometry *g, const struct ipcc_shm_section *s)
{
	if (!depth_ok(s->arg) || s->stride != record_size(s->arg) || s->count % 2 ||
	    s->count / 2 > g->link_count || s->owner != IPCC_SECTION_OWNER_NONE ||
	    s->size != align64(IPCC_SHM_NOTIFY_HEAD_SIZE + (uint64_t)s->count * s->stride))
		return -EUCLEAN;
	return 0;
}

static struct ipcc_shm_notify_pair *record_at(const struct notify_sys *ns, unsigned i)
{
	return (struct ipcc_shm_notify_pair *)(ns->records + (uint64_t)i * ns->stride);
}

static void *record_queue(struct ipcc_shm_notify_pair *rec)
{
	return rec + 1;
}

static size_t queue_bytes(const struct notify_sys *ns)
{
	return ns->stride - sizeof(struct ipcc_shm_notify_pair);
}

static void notify_init(struct ipcc_system *sys, const struct ipcc_shm_section *s,
			const struct ipcc_config *cfg)
{
	struct ipcc_shm_notify_head *h = (struct ipcc_shm_notify_head *)(sys->base + s->offset);
	unsigned ch = 0;

	(void)config_check(cfg->notify, &sys->geo, &ch); /* checked by the plan */
	h->magic = IPCC_NOTIFY_MAGIC;
	h->depth = s->arg;
	h->channel = ch;
	h->pair_count = s->count;
	h->record_size = s->stride;
	effective_pairs(cfg->notify, &sys->geo, h->pairs);
	uint8_t *rec = sys->base + s->offset + IPCC_SHM_NOTIFY_HEAD_SIZE;
	for (unsigned i = 0; i < s->count; i++, rec += s->stride) {
		int r = ipcc_queue_init(rec + sizeof(struct ipcc_shm_notify_pair),
					s->stride - sizeof(struct ipcc_shm_notify_pair), s->arg,
					ENTRY_SIZE);
		assert(r == 0);
		(void)r;
	}
	for (unsigned i = 0; i < sys->geo.link_count; i++) {
		struct ipcc_link *l = &sys->links[i];
		if (h->pairs[l->cpu[0]] >> l->cpu[1] & 1)
			(void)ipcc_link_reserve(sys, l, ch, IPCC_SERVICE_NOTIFY);
	}
}

/* Validate the creator's head against the directory and the links; keep our own copy. */
static int notify_load(struct ipcc_system *sys, const struct ipcc_shm_section *s)
{
	struct notify_sys *ns = nsys(sys);
	/* Our own copy, read once: a peer may rewrite the head between a check and a use. */
	struct ipcc_shm_notify_head copy;
	memcpy(&copy, sys->base + s->offset, sizeof(copy));
	const struct ipcc_shm_notify_head *h = &copy;

	if (ns->loaded)
		return -EUCLEAN; /* a second Notify section */
	if (h->magic != IPCC_NOTIFY_MAGIC || h->depth != s->arg || h->pair_count != s->count ||
	    h->record_size != s->stride || h->channel >= sys->geo.channels)
		return -EUCLEAN;
	unsigned pairs = 0;
	for (unsigned a = 0; a < IPCC_CPUS_MAX; a++) {
		uint64_t w = h->pairs[a];
		if (w & ~sys->geo.link_map[a])
			return -EUCLEAN; /* Notify on a pair without a link */
		pairs += (unsigned)__builtin_popcountll(w);
	}
	if (2 * pairs != s->count)
		return -EUCLEAN;
	memset(ns->rec, 0xFF, sizeof(ns->rec));
	unsigned idx = 0;
	for (unsigned i = 0; i < sys->geo.link_count; i++) {
		const struct ipcc_link *l = &sys->links[i];
		bool on = h->pairs[l->cpu[0]] >> l->cpu[1] & 1;
		for (unsigned ch = 0; ch < sys->geo.channels; ch++) {
			bool owned = l->chan_owner[ch] == IPCC_SERVICE_NOTIFY;
			if (owned != (on && ch == h->channel))
				return -EUCLEAN; /* the reservation does not match the head */
		}
		if (!on)
			continue;
		ns->rec[l->cpu[0]][l->cpu[1]] = (uint16_t)idx++;
		ns->rec[l->cpu[1]][l->cpu[0]] = (uint16_t)idx++;
	}
	ns->depth = h->depth;
	ns->channel = h->channel;
	ns->stride = s->stride;
	ns->records = sys->base + s->offset + IPCC_SHM_NOTIFY_HEAD_SIZE;
	ns->loaded = true;
	return 0;
}

static bool notify_matches(const struct ipcc_system *sys, const struct ipcc_config *cfg)
{
	const struct notify_sys *ns = nsys(sys);
	uint64_t pairs[IPCC_LINK_MAP_WORDS];
	unsigned ch;

	if (!cfg->notify || effective_pairs(cfg->notify, &sys->geo, pairs) == 0)
		return !ns->loaded;
	if (!ns->loaded || config_check(cfg->notify, &sys->geo, &ch) < 0 || ch != ns->channel ||
	    cfg->notify->depth != ns->depth)
		return false;
	for (unsigned a = 0; a < sys->geo.cpus; a++)
		for (unsigned b = a + 1; b < sys->geo.cpus; b++)
			if ((pairs[a] >> b & 1) != (ns->rec[a][b] != NO_RECORD))
				return false;
	return true;
}

const struct ipcc_section_type ipcc_section_notify = {
	.type = IPCC_SECTION_NOTIFY,
	.name = "notify",
	.layer = "notify",
	.required = false,
	.plan = notify_plan,
	.check = notify_check,
	.init = notify_init,
	.load = notify_load,
	.matches = notify_matches,
};

/* ---- per CPU ------------------------------------------------------------------------------ */

/* The sending half of this CPU towards one peer. */
struct notify_tx {
	pthread_mutex_t lock; /* process-local: the senders of this process to this peer */
	struct ipcc_queue q;
	int broken; /* 0, or the error the queue's attach gave (-EBADMSG) */
	unsigned waiters;
	uint64_t sent, full;
	struct ipcc_shm_notify_pair *rec;
};

/* The receiving half, used by the drainer only (drain_lock). */
struct notify_rx {
	struct ipcc_queue q;
	int broken;
	bool again; /* the second look after clearing the flag found more: visit even if clear */
	int held;   /* -1, or the receiving client whose full mailbox holds this pair's queue */
	uint64_t received, dropped;
	struct ipcc_shm_notify_pair *rec;
};

/* Sync with one peer (sync_lock). */
struct notify_sync {
	uint32_t peer_gen; /* the peer's generation the rounds count for; 0: none yet */
	uint32_t done;	   /* rounds completed with that incarnation */
	bool announced;	   /* our word says done + 1 */
	bool wanted;	   /* sync_send was called for round done + 1 */
	bool all_done;	   /* completed in a sync_all that has not finished yet */
	bool watched;	   /* the current wait watches this peer */
	struct ipcc_peer_probe probe;
};

struct notify_peer {
	unsigned id;
	struct ipcc_chan chan;
	struct notify_tx tx;
	struct notify_rx rx;
	struct notify_sync sync;
};

struct notify_client {
	ipcc_notify_fn fn; /* written under drain_lock, read by the drainer */
	void *arg;
};

struct mailbox {
	uint32_t head, tail; /* free-running, mbox_lock */
	struct {
		uint32_t value;
		uint32_t remote;
	} e[IPCC_NOTIFY_MAILBOX];
};

struct notify_cpu {
	struct ipcc_cpu *cpu;
	struct notify_sys *ns;
	unsigned npeers;
	unsigned rr;				 /* the pair the next drain starts with */
	struct notify_peer *peer[IPCC_CPUS_MAX]; /* by CPU id; NULL: no Notify with it */
	struct notify_peer *list[IPCC_CPUS_MAX]; /* the Notify peers, npeers of them */
	pthread_mutex_t drain_lock;
	/*
	 * A waiting thread's drain_try found drain_lock taken: the holder may have visited the
	 * pairs before what that thread waits for arrived. Set (seq_cst) before the trylock;
	 * every holder takes it (seq_cst) after its unlock and wakes the waiters, who look
	 * again (drain_unlock).
	 */
	_Atomic bool drain_missed;
	/*
	 * The wake hook (notify_wake_hook) found the drain taken: a kick to a held pair may have
	 * come after the holder's visit of that pair, and the dispatcher already took the bit
	 * that said so. drain_unlock rings the bit again. seq_cst: as drain_missed.
	 */
	_Atomic bool hook_missed;
	struct notify_client client[IPCC_NOTIFY_CLIENTS];
	/*
	 * Clients with a callback, a bit each: written under drain_lock, read without it by
	 * ipcc_notify_recv's -EBUSY check (relaxed: a registration racing with a receive may go
	 * either way).
	 */
	_Atomic uint32_t has_cb;
	pthread_mutex_t mbox_lock;
	struct mailbox mbox[IPCC_NOTIFY_CLIENTS];
	/* Clients whose mailbox holds values for a new callback: set under mbox_lock, read as a
	 * hint by the drainer without it (relaxed: register wakes a drain after setting it). */
	_Atomic uint32_t mbox_for_cb;
	_Atomic unsigned recv_waiters; /* threads in ipcc_notify_recv or a sync wait */
	/*
	 * Clients that ipcc_notify_recv was called for since attach: a full mailbox holds their
	 * values back in the queue instead of dropping them. Set by recv, read by the drainer
	 * (relaxed: a value that races with a client's first receive may be dropped either way).
	 */
	_Atomic uint32_t receiving;
	/* Client 0's service (lib/notify/service.h): written under drain_lock, read by the
	 * drainer. */
	ipcc_notify_service_fn svc_fn;
	void *svc_arg;
	pthread_mutex_t sync_lock;
	uint32_t own_gen;
};

/* The CPU whose drain this thread runs (unregister from inside a callback). */
/* initial-exec: no __tls_get_addr call on every drain check */
static _Thread_local struct notify_cpu *draining_now __attribute__((tls_model("initial-exec")));

static struct notify_cpu *ncpu(const struct ipcc_cpu *cpu)
{
	return (struct notify_cpu *)cpu->layer[IPCC_LAYER_NOTIFY];
}

static int notify_open(struct ipcc_system *sys)
{
	struct notify_sys *ns = calloc(1, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	sys->layer[IPCC_LAYER_NOTIFY] = ns;
	return 0;
}

static void notify_close(struct ipcc_system *sys)
{
	free(sys->layer[IPCC_LAYER_NOTIFY]);
	sys->layer[IPCC_LAYER_NOTIFY] = NULL;
}

static void notify_free(struct notify_cpu *nc)
{
	for (unsigned i = 0; i < nc->npeers; i++) {
		pthread_mutex_destroy(&nc->list[i]->tx.lock);
		free(nc->list[i]);
	}
	pthread_mutex_destroy(&nc->drain_lock);
	pthread_mutex_destroy(&nc->mbox_lock);
	pthread_mutex_destroy(&nc->sync_lock);
	free(nc);
}

static void notify_detach(struct ipcc_cpu *cpu)
{
	struct notify_cpu *nc = ncpu(cpu);
	if (!nc)
		return;
	ipcc_irq_set_wake_hook(cpu, NULL);
	notify_free(nc);
	cpu->layer[IPCC_LAYER_NOTIFY] = NULL;
}

/* Pack a sync announcement (layout.h: struct ipcc_shm_notify_pair.sync). */
static uint64_t sync_word(uint32_t own_gen, uint32_t peer_gen, uint32_t round)
{
	return (uint64_t)(own_gen & 0xFFFF) << 48 | (uint64_t)(peer_gen & 0xFFFF) << 32 | round;
}

static void rx_handler(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, enum ipcc_dir dir,
		       void *arg);

static void notify_wake_hook(struct ipcc_cpu *cpu);

static int notify_attach(struct ipcc_cpu *cpu, const struct ipcc_cpu_options *opt)
{
	struct ipcc_system *sys = cpu->sys;
	struct notify_sys *ns = nsys(sys);

	if (!ns->loaded)
		return 0; /* no Notify in this object: cpu->layer stays NULL */
	struct notify_cpu *nc = calloc(1, sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	nc->cpu = cpu;
	nc->ns = ns;
	pthread_mutex_init(&nc->drain_lock, NULL);
	pthread_mutex_init(&nc->mbox_lock, NULL);
	pthread_mutex_init(&nc->sync_lock, NULL);
	/* Acquire: our own attach bumped it (lib/region/cpu.c); nobody else writes it now. */
	nc->own_gen = atomic_load_explicit(&cpu->shm->generation, memory_order_acquire);
	for (unsigned id = 0; id < sys->geo.cpus; id++) {
		if (id == cpu->id || ns->rec[cpu->id][id] == NO_RECORD)
			continue;
		struct notify_peer *p = calloc(1, sizeof(*p));
		if (!p) {
			notify_free(nc);
			return -ENOMEM;
		}
		p->id = id;
		p->rx.held = -1;
		pthread_mutex_init(&p->tx.lock, NULL);
		nc->peer[id] = p;
		nc->list[nc->npeers++] = p;
		int r = ipcc_chan_resolve(cpu, id, ns->channel, true, &p->chan);
		assert(r == 0); /* linked (it has a record) and fresh (just attached) */
		(void)r;
		p->tx.rec = record_at(ns, ns->rec[cpu->id][id]);
		p->rx.rec = record_at(ns, ns->rec[id][cpu->id]);
		p->tx.broken = ipcc_queue_attach(&p->tx.q, record_queue(p->tx.rec), queue_bytes(ns),
						 ns->depth, ENTRY_SIZE, IPCC_QUEUE_PRODUCER);
		p->rx.broken = ipcc_queue_attach(&p->rx.q, record_queue(p->rx.rec), queue_bytes(ns),
						 ns->depth, ENTRY_SIZE, IPCC_QUEUE_CONSUMER);
		/* Our counters go on from the object's: this side's line is ours alone. Relaxed:
		 * statistics. */
		p->tx.sent = atomic_load_explicit(&p->tx.rec->sent, memory_order_relaxed);
		p->tx.full = atomic_load_explicit(&p->tx.rec->full, memory_order_relaxed);
		p->rx.received = atomic_load_explicit(&p->rx.rec->received, memory_order_relaxed);
		p->rx.dropped = atomic_load_explicit(&p->rx.rec->dropped, memory_order_relaxed);
		/* Nothing of ours holds the pair back yet. Relaxed: our line; a kick that saw a
		 * predecessor's 1 woke us once for nothing. */
		atomic_store_explicit(&p->rx.rec->held, 0, memory_order_relaxed);
		/* No round of this incarnation yet. Release: before any ring that makes the peer
		 * look (pairs with the acquire load of peer_reached). */
		atomic_store_explicit(&p->tx.rec->sync, sync_word(nc->own_gen, 0, 0),
				      memory_order_release);
	}
	cpu->layer[IPCC_LAYER_NOTIFY] = nc;
	/* RX occupied of every Notify link runs the drain; values queued before we came (or
	 * left by our previous incarnation) raise it at once. */
	for (unsigned i = 0; i < nc->npeers; i++) {
		/* Cannot fail: the peer is linked, the channel ours, and the handler slot free
		 * (slots are this process's, made at this attach; nothing else registers on a
		 * reserved channel). Enabling and unmasking also repair what an attach that kept
		 * the registers (IPCC_CPU_KEEP_REGS) found. */
		int r = ipcc_irq_activate_service(cpu, nc->list[i]->id, ns->channel, rx_handler,
						  nc);
		assert(r == 0);
		(void)r;
	}
	/* A kick to a held pair (ipcc_notify_kick) reaches a dispatcher as the CPU's own bit. */
	ipcc_irq_set_wake_hook(cpu, notify_wake_hook);
	return 0;
}

const struct ipcc_layer ipcc_layer_notify = {
	.name = "notify",
	.open = notify_open,
	.close = notify_close,
	.attach = notify_attach,
	.detach = notify_detach,
};

/* ---- receiving ---------------------------------------------------------------------------- */

/* Into the client's mailbox (mbox_lock held): false when it is full. */
static bool mbox_put(struct mailbox *m, uint32_t value, unsigned remote)
{
	if (m->head - m->tail >= IPCC_NOTIFY_MAILBOX)
		return false;
	m->e[m->head % IPCC_NOTIFY_MAILBOX].value = value;
	m->e[m->head % IPCC_NOTIFY_MAILBOX].remote = remote;
	m->head++;
	return true;
}

static bool mbox_take(struct mailbox *m, uint32_t *value, unsigned *remote)
{
	if (m->head == m->tail)
		return false;
	*value = m->e[m->tail % IPCC_NOTIFY_MAILBOX].value;
	*remote = m->e[m->tail % IPCC_NOTIFY_MAILBOX].remote;
	m->tail++;
	return true;
}

/* Values kept before a callback was registered go to it first (drain_lock held). */
static void mbox_flush_to_callbacks(struct notify_cpu *nc)
{
	/* Relaxed: the mailboxes themselves are read under mbox_lock below. */
	uint32_t todo = atomic_exchange_explicit(&nc->mbox_for_cb, 0, memory_order_relaxed);
	unsigned c;
	uint64_t tmp;
	ipcc_for_each_bit(c, tmp, todo) {
		for (;;) {
			struct notify_client *cl = &nc->client[c];
			uint32_t v;
			unsigned from;
			if (!cl->fn)
				break; /* unregistered by an earlier callback: keep the rest */
			pthread_mutex_lock(&nc->mbox_lock);
			bool got = mbox_take(&nc->mbox[c], &v, &from);
			pthread_mutex_unlock(&nc->mbox_lock);
			if (!got)
				break;
			cl->fn(nc->cpu, from, c, v, cl->arg);
		}
	}
}

enum delivery {
	DELIVERED, /* to a callback, or dropped and counted */
	KEPT,	   /* in a mailbox, or a sync doorbell: the waiters must look */
	HELD,	   /* a receiving client's mailbox is full: the entry stays in the queue */
};

/* One entry from `p` (drain_lock held). */
static enum delivery deliver(struct notify_cpu *nc, struct notify_peer *p, uint32_t entry)
{
	unsigned c = entry >> 28;
	uint32_t v = entry & IPCC_NOTIFY_VALUE_MAX;

	if (c == IPCC_NOTIFY_CLIENT_SYNC)
		return KEPT; /* a doorbell for the sync words: wake the sync waiters */
	struct notify_client *cl = &nc->client[c];
	if (cl->fn) {
		cl->fn(nc->cpu, p->id, c, v, cl->arg);
		return DELIVERED;
	}
	if (c == IPCC_NOTIFY_CLIENT_RPMSG) {
		if (nc->svc_fn && v != 0)
			nc->svc_fn(nc->svc_arg, p->id, v);
		else
			p->rx.dropped++; /* nobody serves RPMessage on this CPU */
		return DELIVERED;
	}
	pthread_mutex_lock(&nc->mbox_lock);
	bool kept = mbox_put(&nc->mbox[c], v, p->id);
	pthread_mutex_unlock(&nc->mbox_lock);
	if (kept)
		return KEPT;
	/* Relaxed: see receiving. */
	if (atomic_load_explicit(&nc->receiving, memory_order_relaxed) & (1u << c))
		return HELD;
	p->rx.dropped++;
	return DELIVERED;
}

static bool mbox_has_room(struct notify_cpu *nc, unsigned c)
{
	pthread_mutex_lock(&nc->mbox_lock);
	bool room = nc->mbox[c].head - nc->mbox[c].tail < IPCC_NOTIFY_MAILBOX;
	pthread_mutex_unlock(&nc->mbox_lock);
	return room;
}

/*
 * Up to a queue's worth of p's entries; true if it stopped because the queue was empty (else
 * the budget ran out, or the queue is broken). Sets *woke for kept values.
 */
static bool drain_pair(struct notify_cpu *nc, struct notify_peer *p, bool *woke)
{
	const void *slots;
	uint32_t budget = nc->ns->depth;
	bool empty = false;
	const uint64_t received0 = p->rx.received, dropped0 = p->rx.dropped;

	while (budget > 0) {
		int n = ipcc_queue_peek(&p->rx.q, budget, &slots);
		if (n <= 0) {
			if (n == -EBADMSG)
				p->rx.broken = n; /* a bad head: never read past it again */
			empty = n == -EAGAIN;
			break;
		}
		int i;
		for (i = 0; i < n; i++) {
			uint32_t e;
			memcpy(&e, (const uint8_t *)slots + (size_t)i * ENTRY_SIZE, sizeof(e));
			uint64_t t = ipcc_trace_begin(p->chan.sys); /* before a callback sends */
			enum delivery d = deliver(nc, p, e);
			if (d == HELD) {
				/* Flow control: the pair waits, masked (its flag stays set), until
				 * the receiver makes room (drain_all looks at every drain). */
				p->rx.held = (int)(e >> 28);
				ipcc_chan_mask_line(&p->chan, IPCC_IRQ_RXO, true);
				/* seq_cst: a kicking sender reads it after its fence
				 * (ipcc_notify_kick). */
				atomic_store_explicit(&p->rx.rec->held, 1, memory_order_seq_cst);
				break;
			}
			ipcc_trace_event(&p->chan, t, IPCC_TRACE_NOTIFY_RECV, e);
			*woke |= d == KEPT;
		}
		/* After the callbacks: a receiver that dies in one gets the batch again. */
		if (i > 0)
			ipcc_queue_release(&p->rx.q, (uint32_t)i);
		p->rx.received += (uint32_t)i;
		budget -= (uint32_t)n;
		if (i < n)
			break;
	}
	/* Relaxed: statistics for observers; this line has no other writer. Only when they
	 * moved: a visit that found nothing writes no shared line. */
	if (p->rx.received != received0 || p->rx.dropped != dropped0) {
		atomic_store_explicit(&p->rx.rec->received, p->rx.received, memory_order_relaxed);
		atomic_store_explicit(&p->rx.rec->dropped, p->rx.dropped, memory_order_relaxed);
	}
	return empty;
}

/*
 * The end of a visit of p: the service looks at its own queues from p (service.h). seq_cst
 * fence: between the release of the entries this visit took (or the clear of the flag) and
 * the service's loads; pairs with the fence a kicking sender makes between queueing its work
 * and finding the Notify queue full (ipcc_notify_kick).
 */
static void service_poll(struct notify_cpu *nc, struct notify_peer *p)
{
	if (!nc->svc_fn)
		return;
	atomic_thread_fence(memory_order_seq_cst);
	nc->svc_fn(nc->svc_arg, p->id, 0);
}

/* The whole drain of this CPU (drain_lock held). */
static void drain_all(struct notify_cpu *nc)
{
	bool woke = false;

	/* Relaxed: see mbox_for_cb. */
	if (ipcc_unlikely(atomic_load_explicit(&nc->mbox_for_cb, memory_order_relaxed)))
		mbox_flush_to_callbacks(nc);
	for (;;) {
		bool more = false;
		for (unsigned k = 0; k < nc->npeers; k++) {
			struct notify_peer *p = nc->list[(nc->rr + k) % nc->npeers];
			if (p->rx.broken)
				continue;
			if (p->rx.held >= 0) {
				if (!mbox_has_room(nc, (unsigned)p->rx.held)) {
					/* Its Notify values wait; the service's own queues need
					 * not (a doorbell may sit behind the held entry). */
					service_poll(nc, p);
					continue;
				}
				p->rx.held = -1;
				/* Relaxed: a kick that still sees 1 wakes us once too often. */
				atomic_store_explicit(&p->rx.rec->held, 0, memory_order_relaxed);
				p->rx.again = true; /* its entries wait behind a set flag */
				ipcc_chan_mask_line(&p->chan, IPCC_IRQ_RXO, false);
			}
			if (!p->rx.again && !ipcc_chan_rx_occupied(&p->chan))
				continue;
			p->rx.again = false;
			if (!drain_pair(nc, p, &woke)) {
				/* A queue's worth was not all: come back after the others. */
				more = !p->rx.broken && p->rx.held < 0;
				service_poll(nc, p);
				continue;
			}
			/* Empty: clear the flag, then look again (the file comment). */
			if (ipcc_chan_rx_occupied(&p->chan))
				ipcc_chan_scr_clear(&p->chan);
			ipcc_queue_fence_signal();
			if (ipcc_queue_available(&p->rx.q) > 0) {
				p->rx.again = true;
				more = true;
			}
			service_poll(nc, p);
		}
		nc->rr = nc->npeers ? (nc->rr + 1) % nc->npeers : 0;
		if (!more)
			break;
	}
	if (woke) {
		/*
		 * A value kept or a sync word seen: wake the waiters of this CPU, who look again.
		 * seq_cst fence and load: pair with the seq_cst increment of a waiter (and its
		 * announcement, lib/bell/bell.c): we see it, or it sees what we delivered.
		 */
		atomic_thread_fence(memory_order_seq_cst);
		if (atomic_load_explicit(&nc->recv_waiters, memory_order_seq_cst))
			ipcc_bell_wake_sleepers(nc->cpu->sys, nc->cpu->id);
	}
}

/*
 * Release drain_lock; wake the waiters whose drain_try failed meanwhile. The two seq_cst
 * accesses pair with drain_try's store and trylock: it sees the lock free, or we see its flag.
 */
static void drain_unlock(struct notify_cpu *nc)
{
	pthread_mutex_unlock(&nc->drain_lock);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_exchange_explicit(&nc->drain_missed, false, memory_order_seq_cst))
		ipcc_bell_wake_sleepers(nc->cpu->sys, nc->cpu->id);
	if (atomic_exchange_explicit(&nc->hook_missed, false, memory_order_seq_cst))
		ipcc_bell_wake(nc->cpu->sys, nc->cpu->id); /* the dispatcher's turn again */
}

static void drain_locked(struct notify_cpu *nc)
{
	struct notify_cpu *outer = draining_now;
	draining_now = nc;
	drain_all(nc);
	draining_now = outer;
}

/* RX occupied of a Notify channel: drain every pair (the level ends when the flags clear). */
static void rx_handler(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, enum ipcc_dir dir,
		       void *arg)
{
	struct notify_cpu *nc = arg;
	if (draining_now == nc)
		return; /* a callback dispatched this CPU: the drain in progress covers it */
	pthread_mutex_lock(&nc->drain_lock);
	drain_locked(nc);
	bool broken = nc->peer[peer]->rx.broken != 0;
	drain_unlock(nc);
	/* The dispatcher leaves a service's channel unmasked (lib/irq/dispatch.c). A pair whose
	 * sender wrote a bad index is not drained again: its flag would keep the line high for
	 * ever, so its interrupt is masked (until this CPU attaches again). */
	if (broken)
		ipcc_chan_mask_line(&nc->peer[peer]->chan, IPCC_IRQ_RXO, true);
}

/*
 * Raise *missed (drain_missed or hook_missed), then drain unless somebody is: that holder
 * answers the flag in drain_unlock. Inside a drain (draining_now) the flag stays for the
 * outer drain's unlock.
 */
static void drain_or_hand_over(struct notify_cpu *nc, _Atomic bool *missed)
{
	/* seq_cst: see drain_missed (hook_missed says the same). */
	atomic_store_explicit(missed, true, memory_order_seq_cst);
	/* seq_cst fence: the flag before the trylock, whose failure C11 does not order. */
	atomic_thread_fence(memory_order_seq_cst);
	if (draining_now == nc || pthread_mutex_trylock(&nc->drain_lock) != 0)
		return;
	/* Ours: the flag is for drains we cannot see, and we are about to make one. The fence
	 * keeps the clear before our visit of the pairs: a waiter whose flag it overwrote set
	 * it before, so its packet was queued before our visit sees the queues. */
	atomic_store_explicit(missed, false, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	drain_locked(nc);
	drain_unlock(nc);
}

/* From a waiting thread: drain unless somebody is (who then wakes us if it keeps a value). */
static void drain_try(struct notify_cpu *nc)
{
	if (draining_now != nc) /* a callback's wait: the drain in progress covers it */
		drain_or_hand_over(nc, &nc->drain_missed);
}

/*
 * The dispatcher took this CPU's own bit (ipcc_irq_set_wake_hook): drain, which polls the
 * service of a held pair. A drain it cannot make is handed to whoever holds the drain: the
 * bit is taken, and a wake-up of the waiters would not reach the dispatcher, so drain_unlock
 * rings the bit again. Inside a drain (a callback dispatched) the same: that drain may have
 * polled the pair before the kick.
 */
static void notify_wake_hook(struct ipcc_cpu *cpu)
{
	struct notify_cpu *nc = ncpu(cpu);
	if (nc)
		drain_or_hand_over(nc, &nc->hook_missed);
}

/* ---- argument checks ---------------------------------------------------------------------- */

static int cpu_check(struct ipcc_cpu *cpu, struct notify_cpu **ret)
{
	if (!cpu)
		return -EINVAL;
	if (ipcc_cpu_stale(cpu))
		return -ESTALE;
	struct notify_cpu *nc = ncpu(cpu);
	if (!nc || nc->npeers == 0)
		return -ENOPROTOOPT;
	*ret = nc;
	return 0;
}

static int client_check(unsigned client)
{
	if (client >= IPCC_NOTIFY_CLIENTS)
		return -ECHRNG;
	if (client < IPCC_NOTIFY_CLIENT_FIRST)
		return -EACCES;
	return 0;
}

/* The checks every client call begins with, in the documented order. */
static int client_call_check(struct ipcc_cpu *cpu, unsigned client, struct notify_cpu **ret)
{
	int r = cpu ? client_check(client) : -EINVAL;
	return r < 0 ? r : cpu_check(cpu, ret);
}

/* The Notify peer `remote` of cpu: -EINVAL, -ENOENT (no link), -ENOPROTOOPT (no Notify). */
static int peer_get(struct ipcc_cpu *cpu, struct notify_cpu *nc, unsigned remote,
		    struct notify_peer **ret)
{
	if (remote >= cpu->sys->geo.cpus || remote == cpu->id)
		return -EINVAL;
	if (!ipcc_link_get(cpu->sys, cpu->id, remote))
		return -ENOENT;
	if (!nc || !nc->peer[remote])
		return -ENOPROTOOPT;
	*ret = nc->peer[remote];
	return 0;
}

/* ---- registration ------------------------------------------------------------------------- */

/* drain_lock unless the caller is the drainer (a callback of this CPU). */
static void drain_enter(struct notify_cpu *nc)
{
	if (draining_now != nc)
		pthread_mutex_lock(&nc->drain_lock);
}

static void drain_leave(struct notify_cpu *nc)
{
	if (draining_now != nc)
		drain_unlock(nc);
}

IPCC_EXPORT int ipcc_notify_register(struct ipcc_cpu *cpu, unsigned client, ipcc_notify_fn fn,
				     void *arg)
{
	struct notify_cpu *nc;
	int r = client_call_check(cpu, client, &nc);
	if (r < 0)
		return r;
	if (!fn)
		return -EINVAL;
	bool kept = false;
	drain_enter(nc);
	if (nc->client[client].fn) {
		r = -EEXIST;
	} else {
		nc->client[client] = (struct notify_client){ .fn = fn, .arg = arg };
		/* Relaxed: see has_cb. */
		atomic_fetch_or_explicit(&nc->has_cb, 1u << client, memory_order_relaxed);
		pthread_mutex_lock(&nc->mbox_lock);
		kept = nc->mbox[client].head != nc->mbox[client].tail;
		if (kept) /* Relaxed: see mbox_for_cb. */
			atomic_fetch_or_explicit(&nc->mbox_for_cb, 1u << client,
						 memory_order_relaxed);
		pthread_mutex_unlock(&nc->mbox_lock);
	}
	drain_leave(nc);
	if (kept) {
		/* Kept values wait for the next drain: make one happen. seq_cst: the change
		 * before ipcc_bell_wake (lib/bell/bell.h). */
		atomic_thread_fence(memory_order_seq_cst);
		ipcc_bell_wake(cpu->sys, cpu->id);
	}
	return r;
}

IPCC_EXPORT int ipcc_notify_unregister(struct ipcc_cpu *cpu, unsigned client)
{
	struct notify_cpu *nc;
	int r = client_call_check(cpu, client, &nc);
	if (r < 0)
		return r;
	drain_enter(nc);
	if (!nc->client[client].fn) {
		r = -ENOENT;
	} else {
		nc->client[client] = (struct notify_client){ 0 };
		/* Relaxed: see has_cb. */
		atomic_fetch_and_explicit(&nc->has_cb, ~(1u << client), memory_order_relaxed);
	}
	drain_leave(nc);
	return r;
}

/* ---- sending ------------------------------------------------------------------------------ */

static bool pred_tx_free(struct ipcc_cpu *cpu, void *arg)
{
	return !ipcc_chan_tx_busy(&((struct notify_peer *)arg)->chan);
}

/* Publish the sender's counters (tx.lock held). Relaxed: statistics; one writer. */
static void tx_stats(struct notify_tx *tx)
{
	atomic_store_explicit(&tx->rec->sent, tx->sent, memory_order_relaxed);
}

static void tx_stats_full(struct notify_tx *tx)
{
	atomic_store_explicit(&tx->rec->full, tx->full, memory_order_relaxed);
}

/* Queue one entry and ring if needed (tx.lock held). 0, -EAGAIN (full), -EBADMSG. */
static int tx_push(struct notify_peer *p, uint32_t entry)
{
	if (p->tx.broken)
		return p->tx.broken;
	uint64_t t = ipcc_trace_begin(p->chan.sys); /* before the receiver can see it */
	int r = ipcc_queue_push(&p->tx.q, &entry);
	if (r < 0)
		return r;
	ipcc_trace_event(&p->chan, t, IPCC_TRACE_NOTIFY_SEND, entry);
	p->tx.sent++;
	tx_stats(&p->tx);
	/* The store of head, then the flag: see the file comment. */
	ipcc_queue_fence_signal();
	if (!ipcc_chan_tx_busy(&p->chan))
		ipcc_chan_scr_set(&p->chan);
	return 0;
}

static int send_entry(struct ipcc_cpu *cpu, struct notify_peer *p, uint32_t entry,
		      int64_t timeout_ns)
{
	int64_t start = timeout_ns > 0 ? ipcc_now_ns() : 0;
	/* Saturated, as the wait core's deadlines (a timeout near INT64_MAX is a long bound). */
	int64_t deadline = timeout_ns > INT64_MAX - start ? INT64_MAX : start + timeout_ns;
	bool counted = false;
	for (;;) {
		pthread_mutex_lock(&p->tx.lock);
		int r = tx_push(p, entry);
		if (r != -EAGAIN) {
			pthread_mutex_unlock(&p->tx.lock);
			return r;
		}
		if (!counted) {
			p->tx.full++;
			tx_stats_full(&p->tx);
			counted = true;
		}
		if (timeout_ns == 0) {
			pthread_mutex_unlock(&p->tx.lock);
			return -EAGAIN;
		}
		struct ipcc_watch watch; /* 1 KiB: only .n is set, never zero-filled */
		watch.n = 0;
		r = ipcc_watch_add(cpu, &watch, p->id);
		if (r < 0) {
			pthread_mutex_unlock(&p->tx.lock);
			return r;
		}
		if (p->tx.waiters++ == 0) {
			ipcc_chan_enable_line(&p->chan, IPCC_IRQ_TXF);
			ipcc_chan_mask_line(&p->chan, IPCC_IRQ_TXF, false);
		}
		/* A full queue is not empty: the receiver will clear this, an edge that rings us. */
		if (!ipcc_chan_tx_busy(&p->chan))
			ipcc_chan_scr_set(&p->chan);
		pthread_mutex_unlock(&p->tx.lock);

		int64_t left = -1;
		if (timeout_ns > 0) {
			left = deadline - ipcc_now_ns();
			if (left <= 0)
				left = 1; /* look once more */
		}
		r = ipcc_wait_core(cpu, pred_tx_free, p, &watch, left, 0);

		pthread_mutex_lock(&p->tx.lock);
		if (--p->tx.waiters == 0)
			ipcc_chan_mask_line(&p->chan, IPCC_IRQ_TXF, true);
		pthread_mutex_unlock(&p->tx.lock);
		if (r < 0)
			return r;
	}
}

IPCC_EXPORT int ipcc_notify_send(struct ipcc_cpu *cpu, unsigned remote, unsigned client,
				 uint32_t value, int64_t timeout_ns)
{
	struct notify_peer *p;
	if (!cpu)
		return -EINVAL;
	if (value > IPCC_NOTIFY_VALUE_MAX)
		return -ERANGE;
	int r = client_check(client);
	if (r < 0)
		return r;
	if (ipcc_cpu_stale(cpu))
		return -ESTALE;
	r = peer_get(cpu, ncpu(cpu), remote, &p);
	if (r < 0)
		return r;
	return send_entry(cpu, p, client << 28 | value, timeout_ns);
}

/* ---- blocking receive --------------------------------------------------------------------- */

struct recv_wait {
	struct notify_cpu *nc;
	unsigned client;
	bool got; /* taken: later calls of the predicate say yes without taking another */
	uint32_t value;
	unsigned remote;
};

static bool recv_take(struct recv_wait *w)
{
	if (w->got)
		return true;
	struct mailbox *m = &w->nc->mbox[w->client];
	pthread_mutex_lock(&w->nc->mbox_lock);
	bool was_full = m->head - m->tail >= IPCC_NOTIFY_MAILBOX;
	w->got = mbox_take(m, &w->value, &w->remote);
	pthread_mutex_unlock(&w->nc->mbox_lock);
	/* The room we made may free a pair held back by this mailbox (drain_all), whose line is
	 * masked: nothing else would drain it now. */
	if (w->got && was_full)
		drain_try(w->nc);
	return w->got;
}

static bool pred_recv(struct ipcc_cpu *cpu, void *arg)
{
	struct recv_wait *w = arg;
	if (recv_take(w))
		return true;
	drain_try(w->nc);
	return recv_take(w);
}

IPCC_EXPORT int ipcc_notify_recv(struct ipcc_cpu *cpu, unsigned client, uint32_t *ret_value,
				 unsigned *ret_remote, int64_t timeout_ns)
{
	struct notify_cpu *nc;
	int r = client_call_check(cpu, client, &nc);
	if (r < 0)
		return r;
	if (!ret_value)
		return -EINVAL;
	/* Relaxed: see has_cb. */
	if (atomic_load_explicit(&nc->has_cb, memory_order_relaxed) & (1u << client))
		return -EBUSY;
	/* Relaxed: see receiving. */
	atomic_fetch_or_explicit(&nc->receiving, 1u << client, memory_order_relaxed);
	struct recv_wait w = { .nc = nc, .client = client };
	/* seq_cst: pairs with the fence and load of drain_all. */
	atomic_fetch_add_explicit(&nc->recv_waiters, 1, memory_order_seq_cst);
	r = ipcc_wait_core(cpu, pred_recv, &w, NULL, timeout_ns, 0);
	/* Relaxed: only makes later drains skip a wake-up. */
	atomic_fetch_sub_explicit(&nc->recv_waiters, 1, memory_order_relaxed);
	if (r < 0)
		return r;
	*ret_value = w.value;
	if (ret_remote)
		*ret_remote = w.remote;
	return 0;
}

/* ---- sync --------------------------------------------------------------------------------- */

/* Tell p we reached round done + 1 (sync_lock held; p's incarnation known). */
static void sync_announce(struct notify_cpu *nc, struct notify_peer *p)
{
	struct notify_sync *s = &p->sync;
	/* Release: before the doorbell entry below; pairs with the acquire load of peer_reached. */
	atomic_store_explicit(&p->tx.rec->sync, sync_word(nc->own_gen, s->peer_gen, s->done + 1),
			      memory_order_release);
	s->announced = true;
	pthread_mutex_lock(&p->tx.lock);
	/* The entry rings the peer (or its drainer wakes the peer's waiters when it takes it). */
	(void)tx_push(p, IPCC_NOTIFY_CLIENT_SYNC << 28 | ((s->done + 1) & IPCC_NOTIFY_VALUE_MAX));
	pthread_mutex_unlock(&p->tx.lock);
	/*
	 * The entry may not reach the peer's drainer soon (a full queue takes none; a queue
	 * held back by a full mailbox is not drained), and the peer's sync waiters read the word
	 * itself: wake them ourselves. Sync is rare; the wake is cheap when nobody sleeps.
	 * seq_cst: the word above, before ipcc_bell_wake_sleepers.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	ipcc_bell_wake_sleepers(nc->cpu->sys, p->id);
}

/*
 * Bring p's sync state up to date (sync_lock held): false while p is not attached. A new
 * incarnation of p starts the rounds again; our announcement is redone if one is wanted. A
 * peer that is not attached is announced to as its next incarnation: the attach bumps the
 * generation once (lib/region/cpu.c), so a sync_send made before the peer came reaches it
 * without another call of ours, and no later incarnation can take it for its own.
 */
static bool sync_refresh(struct notify_cpu *nc, struct notify_peer *p)
{
	struct notify_sync *s = &p->sync;
	uint32_t gen;
	bool alive = ipcc_peer_probe(nc->cpu->sys, p->id, &s->probe, &gen);
	uint32_t expect = alive ? gen : gen + 1;
	if (expect != s->peer_gen) {
		s->peer_gen = expect;
		s->done = 0;
		s->announced = false;
	}
	if (s->wanted && !s->announced)
		sync_announce(nc, p);
	return alive;
}

/* Has p announced the round we wait for, for this incarnation of ours? (sync_lock held) */
static bool peer_reached(struct notify_cpu *nc, struct notify_peer *p)
{
	struct notify_sync *s = &p->sync;
	/* Acquire: pairs with the release store of sync_announce in the peer. */
	uint64_t w = atomic_load_explicit(&p->rx.rec->sync, memory_order_acquire);
	if ((uint32_t)(w >> 48) != (s->peer_gen & 0xFFFF) ||
	    (uint32_t)(w >> 32 & 0xFFFF) != (nc->own_gen & 0xFFFF))
		return false; /* another incarnation's word, or meant for one of ours before */
	return (int32_t)((uint32_t)w - (s->done + 1)) >= 0;
}

struct sync_wait {
	struct notify_cpu *nc;
	struct ipcc_watch *watch;
	struct notify_peer *one; /* sync_wait; NULL: every peer (sync_all) */
	int error;		 /* a watch that could not be added */
	/*
	 * The round completed: later calls of the predicate say yes without looking again. The
	 * wait core may call a predicate once more after it held (lib/irq/wait.c:sleep_loop
	 * re-checks it beside a death or an interrupt), and completing consumes the round.
	 */
	bool met;
};

/* One peer's part of the predicate (sync_lock held): true once its round is complete. */
static bool sync_step(struct sync_wait *w, struct notify_peer *p)
{
	struct notify_sync *s = &p->sync;
	/* Met in this sync_all already: a restart since waits for our next one. */
	if (w->one == NULL && s->all_done)
		return true;
	/* The incarnation we know reached the round: a meeting, whatever became of it since. */
	if (s->peer_gen && peer_reached(w->nc, p)) {
		if (s->wanted && !s->announced)
			sync_announce(w->nc, p); /* it may wait for us in turn */
		goto met;
	}
	if (!sync_refresh(w->nc, p))
		return false; /* not attached (or dead): waited for, like a late starter */
	if (!s->watched) {
		/* Seen alive during the wait: from now on its death ends the wait. */
		int r = ipcc_watch_add(w->nc->cpu, w->watch, p->id);
		if (r == -EPIPE) {
			s->probe.alive = false; /* died meanwhile: wait for its next attach */
			return false;
		}
		if (r < 0)
			w->error = r;
		s->watched = true;
	}
	if (!peer_reached(w->nc, p))
		return false;
met:
	s->done++;
	s->announced = false;
	s->wanted = false;
	s->all_done = w->one == NULL;
	/* Its going after the meeting does not fail the others' part of the barrier. */
	ipcc_watch_remove(w->watch, p->id);
	s->watched = false;
	return true;
}

static bool pred_sync(struct ipcc_cpu *cpu, void *arg)
{
	struct sync_wait *w = arg;
	if (w->met)
		return true;
	drain_try(w->nc);
	pthread_mutex_lock(&w->nc->sync_lock);
	bool all = true;
	if (w->one) {
		all = sync_step(w, w->one);
	} else {
		for (unsigned i = 0; i < w->nc->npeers; i++)
			all &= sync_step(w, w->nc->list[i]);
		if (all)
			for (unsigned i = 0; i < w->nc->npeers; i++)
				w->nc->list[i]->sync.all_done = false;
	}
	pthread_mutex_unlock(&w->nc->sync_lock);
	w->met = all;
	return all || w->error;
}

static int sync_run(struct ipcc_cpu *cpu, struct notify_cpu *nc, struct notify_peer *one,
		    int64_t timeout_ns)
{
	struct ipcc_watch watch; /* 1 KiB: only .n is set, never zero-filled */
	watch.n = 0;
	struct sync_wait w = { .nc = nc, .watch = &watch, .one = one };

	pthread_mutex_lock(&nc->sync_lock);
	for (unsigned i = 0; i < nc->npeers; i++) {
		struct notify_peer *p = nc->list[i];
		if (one && p != one)
			continue;
		p->sync.watched = false;
		if (!one && !p->sync.all_done)
			p->sync.wanted = true;
	}
	pthread_mutex_unlock(&nc->sync_lock);
	/* As in ipcc_notify_recv. */
	atomic_fetch_add_explicit(&nc->recv_waiters, 1, memory_order_seq_cst);
	int r = ipcc_wait_core(cpu, pred_sync, &w, &watch, timeout_ns, 0);
	atomic_fetch_sub_explicit(&nc->recv_waiters, 1, memory_order_relaxed);
	if (r == 0 && w.error)
		r = w.error;
	return r;
}

IPCC_EXPORT int ipcc_notify_sync_all(struct ipcc_cpu *cpu, int64_t timeout_ns)
{
	struct notify_cpu *nc;
	int r = cpu_check(cpu, &nc);
	if (r < 0)
		return r;
	return sync_run(cpu, nc, NULL, timeout_ns);
}

/* The checks of the one-peer sync calls: the CPU, then its Notify peer `remote`. */
static int sync_peer_check(struct ipcc_cpu *cpu, unsigned remote, struct notify_cpu **ret_nc,
			   struct notify_peer **ret_p)
{
	int r = cpu_check(cpu, ret_nc);
	return r < 0 ? r : peer_get(cpu, *ret_nc, remote, ret_p);
}

IPCC_EXPORT int ipcc_notify_sync_send(struct ipcc_cpu *cpu, unsigned remote)
{
	struct notify_cpu *nc;
	struct notify_peer *p;
	int r = sync_peer_check(cpu, remote, &nc, &p);
	if (r < 0)
		return r;
	pthread_mutex_lock(&nc->sync_lock);
	p->sync.wanted = true;
	(void)sync_refresh(nc, p); /* announces now if the peer is there, else when it comes */
	pthread_mutex_unlock(&nc->sync_lock);
	return 0;
}

IPCC_EXPORT int ipcc_notify_sync_wait(struct ipcc_cpu *cpu, unsigned remote, int64_t timeout_ns)
{
	struct notify_cpu *nc;
	struct notify_peer *p;
	int r = sync_peer_check(cpu, remote, &nc, &p);
	return r < 0 ? r : sync_run(cpu, nc, p, timeout_ns);
}

/* ---- queries ------------------------------------------------------------------------------ */

IPCC_EXPORT int ipcc_notify_enabled(const struct ipcc_system *sys, unsigned a, unsigned b)
{
	if (!sys || a >= sys->geo.cpus || b >= sys->geo.cpus || a == b)
		return -EINVAL;
	if (!ipcc_link_get(sys, a, b))
		return -ENOENT;
	const struct notify_sys *ns = nsys(sys);
	return ns->loaded && ns->rec[a][b] != NO_RECORD;
}

IPCC_EXPORT uint32_t ipcc_notify_depth(const struct ipcc_system *sys)
{
	return sys && nsys(sys)->loaded ? nsys(sys)->depth : 0;
}

IPCC_EXPORT int ipcc_notify_channel(const struct ipcc_system *sys)
{
	if (!sys)
		return -EINVAL;
	return nsys(sys)->loaded ? (int)nsys(sys)->channel : -ENOPROTOOPT;
}

IPCC_EXPORT int ipcc_notify_stats(const struct ipcc_system *sys, unsigned from, unsigned to,
				  struct ipcc_notify_stats *ret_stats)
{
	int r = ipcc_notify_enabled(sys, from, to);
	if (r < 0)
		return r;
	if (!ret_stats)
		return -EINVAL;
	if (r == 0)
		return -ENOPROTOOPT;
	const struct notify_sys *ns = nsys(sys);
	struct ipcc_shm_notify_pair *rec = record_at(ns, ns->rec[from][to]);
	struct ipcc_queue_state q;
	int qr = ipcc_queue_observe(record_queue(rec), queue_bytes(ns), ns->depth, ENTRY_SIZE, &q);
	if (qr == -EAGAIN)
		return qr;
	/* Relaxed: a snapshot of statistics, each word read once. */
	*ret_stats = (struct ipcc_notify_stats){
		.sent = atomic_load_explicit(&rec->sent, memory_order_relaxed),
		.full = atomic_load_explicit(&rec->full, memory_order_relaxed),
		.received = atomic_load_explicit(&rec->received, memory_order_relaxed),
		.dropped = atomic_load_explicit(&rec->dropped, memory_order_relaxed),
		.fill = q.used > ns->depth ? ns->depth : q.used,
		.depth = ns->depth,
	};
	return qr < 0 ? qr : 0;
}

/* ---- the service seam (lib/notify/service.h) --------------------------------------------- */

unsigned ipcc_notify_plan_pairs(const struct ipcc_config *cfg, const struct ipcc_geometry *g,
				uint64_t pairs[IPCC_LINK_MAP_WORDS])
{
	unsigned ch;
	memset(pairs, 0, sizeof(uint64_t) * IPCC_LINK_MAP_WORDS);
	if (!cfg->notify || config_check(cfg->notify, g, &ch) < 0)
		return 0;
	return effective_pairs(cfg->notify, g, pairs);
}

bool ipcc_notify_pair_on(const struct ipcc_system *sys, unsigned a, unsigned b)
{
	const struct notify_sys *ns = nsys(sys);
	return ns && ns->loaded && a < sys->geo.cpus && b < sys->geo.cpus && a != b &&
	       ns->rec[a][b] != NO_RECORD;
}

bool ipcc_notify_has_peer(struct ipcc_cpu *cpu, unsigned remote)
{
	struct notify_cpu *nc = ncpu(cpu);
	return nc && remote < IPCC_CPUS_MAX && nc->peer[remote];
}

int ipcc_notify_service_set(struct ipcc_cpu *cpu, ipcc_notify_service_fn fn, void *arg)
{
	struct notify_cpu *nc = ncpu(cpu);
	if (!nc || nc->npeers == 0)
		return -ENOPROTOOPT;
	drain_enter(nc);
	nc->svc_fn = fn;
	nc->svc_arg = arg;
	drain_leave(nc);
	return 0;
}

int ipcc_notify_kick(struct ipcc_cpu *cpu, unsigned remote, uint32_t value)
{
	struct notify_peer *p;
	int r = peer_get(cpu, ncpu(cpu), remote, &p);
	if (r < 0)
		return r;
	r = send_entry(cpu, p, IPCC_NOTIFY_CLIENT_RPMSG << 28 | (value & IPCC_NOTIFY_VALUE_MAX), 0);
	/*
	 * Full: the entries in the queue make the receiver visit the pair, and its poll after
	 * the visit sees what the caller queued before its fence (service_poll). Unless the
	 * pair is held (a full mailbox of an application client): its line is masked and no
	 * visit comes; wake the receiver without a line. Its waiting threads' drains poll a held
	 * pair's service all the same, and its dispatcher (an event loop, the interrupt thread)
	 * runs that drain through the wake hook (notify_attach). seq_cst: after the caller's
	 * fence (and the push's), pairs with the store that held the pair.
	 */
	if (atomic_load_explicit(&p->tx.rec->held, memory_order_seq_cst))
		ipcc_bell_wake(cpu->sys, remote);
	return r == -EAGAIN ? 0 : r;
}

void ipcc_notify_drain_try(struct ipcc_cpu *cpu)
{
	struct notify_cpu *nc = ncpu(cpu);
	if (nc)
		drain_try(nc);
}

bool ipcc_notify_draining(const struct ipcc_cpu *cpu)
{
	struct notify_cpu *nc = ncpu(cpu);
	return nc && draining_now == nc;
}

void ipcc_notify_drain_enter(struct ipcc_cpu *cpu)
{
	struct notify_cpu *nc = ncpu(cpu);
	if (nc)
		drain_enter(nc);
}

void ipcc_notify_drain_leave(struct ipcc_cpu *cpu)
{
	struct notify_cpu *nc = ncpu(cpu);
	if (nc)
		drain_leave(nc);
}

void ipcc_notify_service_poll_all(struct ipcc_cpu *cpu)
{
	struct notify_cpu *nc = ncpu(cpu);
	if (!nc)
		return;
	drain_enter(nc);
	/* As drain_locked: the callbacks this runs are the drainer's (draining checks it). */
	struct notify_cpu *outer = draining_now;
	draining_now = nc;
	for (unsigned i = 0; i < nc->npeers; i++)
		service_poll(nc, nc->list[i]);
	draining_now = outer;
	drain_leave(nc);
}
