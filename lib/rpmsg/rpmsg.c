/* SPDX-License-Identifier: MIT */
/*
 * RPMessage (include/ipcc/rpmsg.h): the rpmsg section type, the layer, the calls.
 *
 * Buffers. The buffers of vring S -> R belong to S. S keeps, per buffer, where it is: in its
 * pool, taken (tx_get), or out with R under the tag of the send (the send's position in the
 * full queue plus one). S writes sent_tag[i] before it queues buffer i as full; R writes
 * ret_tag[i] after it queued buffer i back as free, with the tag it got. S takes a buffer back
 * only when the free descriptor's tag is the tag S sent it under: a return that is late,
 * doubled or forged is ignored, so no buffer is ever in two places, whatever R writes.
 *
 * Restarts (the reclaim). Nothing in the object says "this buffer is S's" except the tags:
 *   - A new R first drops every entry the full queue holds (h0: its index after that), then,
 *     for each buffer with sent_tag != ret_tag whose send came before h0 (so it was taken by
 *     the previous R, or dropped now), queues it back as free under that tag, then writes
 *     ret_tag. A send at h0 or later is the new R's to take; a tag read before S rewrote it
 *     belongs to a send S saw returned, so S ignores it. A previous R that died between
 *     queueing a return and writing ret_tag makes the new one queue it again: S ignores the
 *     second (the tag no longer matches).
 *   - A new S counts every buffer with sent_tag != ret_tag as out under sent_tag, the rest as
 *     its pool: a buffer its predecessor had taken or kept comes back. A return racing with
 *     that look is either seen as returned (and the descriptor later ignored) or as out (and
 *     the descriptor accepted).
 *   - R drops (stale) the packets a previous incarnation of S queued: each descriptor carries
 *     S's generation, compared with S's record.
 *
 * Doorbells. S queues the descriptor (release), then sends Notify value NEW_FULL to R's client 0
 * (ipcc_notify_kick). R polls S's full queue at the end of each visit of the pair S -> R by
 * its Notify drain (lib/notify/service.h), so even a kick that found the Notify queue full is
 * seen. R sends NEW_EMPTY only when S said it waits (tx_waiting, a seq_cst store against R's
 * fence after queueing the return: one of the two sees the other).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <ipcc/notify.h>
#include <ipcc/rpmsg.h>

#include "irq/irq.h"
#include "notify/service.h"
#include "queue/queue.h"

#define DESC_SIZE	8u
#define NO_RECORD	0xFFFFu
#define NOTIFY_NS	3u /* client-0 value: my name table changed */
#define NS_FLAG_DESTROY 1u
#define NS_MSG_SIZE	40u /* Linux's struct rpmsg_ns_msg: name[32], addr, flags */
#define NAME_READ_TRIES 8u

/* ---- config ------------------------------------------------------------------------------- */

IPCC_EXPORT void ipcc_rpmsg_config_init(struct ipcc_rpmsg_config *rcfg)
{
	if (!rcfg)
		return;
	memset(rcfg, 0, sizeof(*rcfg));
	for (unsigned a = 0; a < IPCC_CPUS_MAX; a++)
		rcfg->pairs[a] = ~0ull;
	rcfg->buffers = IPCC_RPMSG_BUFFERS_DEFAULT;
	rcfg->buffer_size = IPCC_RPMSG_BUFFER_SIZE_DEFAULT;
	rcfg->endpoints = IPCC_RPMSG_ENDPOINTS_DEFAULT;
}

IPCC_EXPORT void ipcc_rpmsg_config_linux(struct ipcc_rpmsg_config *rcfg)
{
	ipcc_rpmsg_config_init(rcfg);
	if (rcfg)
		rcfg->buffer_size = IPCC_RPMSG_BUFFER_SIZE_LINUX;
}

IPCC_EXPORT int ipcc_rpmsg_config_pair(struct ipcc_rpmsg_config *rcfg, unsigned a, unsigned b,
				       bool on)
{
	return rcfg ? ipcc_pair_map_set(rcfg->pairs, a, b, on) : -EINVAL;
}

/* ---- the section -------------------------------------------------------------------------- */

static uint64_t align64(uint64_t x)
{
	return (x + 63) & ~(uint64_t)63;
}

static bool geometry_ok(uint32_t buffers, uint32_t buffer_size, uint32_t endpoints)
{
	return buffers >= IPCC_RPMSG_BUFFERS_MIN && buffers <= IPCC_RPMSG_BUFFERS_MAX &&
	       (buffers & (buffers - 1)) == 0 && buffer_size >= IPCC_RPMSG_BUFFER_SIZE_MIN &&
	       buffer_size <= IPCC_RPMSG_BUFFER_SIZE_MAX && buffer_size % 16 == 0 &&
	       endpoints >= IPCC_RPMSG_ENDPOINTS_MIN && endpoints <= IPCC_RPMSG_ENDPOINTS_MAX;
}

/* Where the parts of a vring are, from its start (layout.h). */
struct vring_geo {
	uint32_t buffers, buffer_size;
	uint32_t sent_tag, ret_tag, fullq, freeq, bufs;
	uint32_t qbytes;  /* bytes of the full queue (`buffers` entries) */
	uint32_t fqbytes; /* bytes of the free queue (2 * `buffers`: room for the returns a
			     receiver killed mid-return makes its successor repeat) */
	uint32_t stride;
};

static void vring_geo(uint32_t buffers, uint32_t buffer_size, struct vring_geo *v)
{
	size_t q = 0, fq = 0;
	(void)ipcc_queue_size(buffers, DESC_SIZE, &q); /* in range: geometry_ok */
	(void)ipcc_queue_size(2 * buffers, DESC_SIZE, &fq);
	v->buffers = buffers;
	v->buffer_size = buffer_size;
	v->qbytes = (uint32_t)align64(q);
	v->fqbytes = (uint32_t)align64(fq);
	v->sent_tag = sizeof(struct ipcc_shm_rpmsg_pair);
	v->ret_tag = v->sent_tag + (uint32_t)align64(4ull * buffers);
	v->fullq = v->ret_tag + (uint32_t)align64(4ull * buffers);
	v->freeq = v->fullq + v->qbytes;
	v->bufs = v->freeq + v->fqbytes;
	v->stride = (uint32_t)align64(v->bufs + (uint64_t)buffers * buffer_size);
}

/* The process-local copy of the section (per handle). */
struct rpmsg_sys {
	bool loaded;
	uint32_t endpoints;
	unsigned cpus;
	struct vring_geo v;
	uint8_t *tables;  /* CPU 0's table */
	uint8_t *records; /* vring 0 */
	uint64_t pairs[IPCC_LINK_MAP_WORDS];
	uint16_t rec[IPCC_CPUS_MAX][IPCC_CPUS_MAX]; /* vring of ordered pair from -> to */
};

static struct rpmsg_sys *rsys(const struct ipcc_system *sys)
{
	return (struct rpmsg_sys *)sys->layer[IPCC_LAYER_RPMSG];
}

static unsigned effective_pairs(const struct ipcc_config *cfg, const struct ipcc_geometry *g,
				uint64_t out[IPCC_LINK_MAP_WORDS])
{
	uint64_t notify[IPCC_LINK_MAP_WORDS];
	unsigned count = 0;

	memset(out, 0, sizeof(uint64_t) * IPCC_LINK_MAP_WORDS);
	if (ipcc_notify_plan_pairs(cfg, g, notify) == 0)
		return 0;
	for (unsigned a = 0; a < g->cpus; a++) {
		out[a] = notify[a] & cfg->rpmsg->pairs[a];
		count += (unsigned)__builtin_popcountll(out[a]);
	}
	return count;
}

static uint64_t section_size(unsigned cpus, unsigned count, uint32_t stride)
{
	return align64(IPCC_SHM_RPMSG_HEAD_SIZE + (uint64_t)cpus * IPCC_SHM_RPMSG_CPU_SIZE +
		       (uint64_t)count * stride);
}

static int rpmsg_plan(const struct ipcc_config *cfg, const struct ipcc_geometry *g,
		      struct ipcc_shm_section *out, unsigned cap)
{
	uint64_t pairs[IPCC_LINK_MAP_WORDS];
	const struct ipcc_rpmsg_config *r = cfg->rpmsg;

	if (!r)
		return 0;
	if (!geometry_ok(r->buffers, r->buffer_size, r->endpoints))
		return -EINVAL;
	unsigned n = effective_pairs(cfg, g, pairs);
	if (n == 0)
		return 0;
	if (cap < 1)
		return -EINVAL;
	struct vring_geo v;
	vring_geo(r->buffers, r->buffer_size, &v);
	out[0] = (struct ipcc_shm_section){ .size = section_size(g->cpus, 2 * n, v.stride),
					    .count = 2 * n,
					    .stride = v.stride,
					    .owner = IPCC_SECTION_OWNER_NONE,
					    .arg = r->buffers };
	return 1;
}

static int rpmsg_check(struct ipcc_geometry *g, const struct ipcc_shm_section *s)
{
	if (s->arg < IPCC_RPMSG_BUFFERS_MIN || s->arg > IPCC_RPMSG_BUFFERS_MAX ||
	    (s->arg & (s->arg - 1)) || s->count % 2 || s->count / 2 > g->link_count ||
	    s->owner != IPCC_SECTION_OWNER_NONE ||
	    s->size != section_size(g->cpus, s->count, s->stride))
		return -EUCLEAN;
	return 0;
}

static void rpmsg_init(struct ipcc_system *sys, const struct ipcc_shm_section *s,
		       const struct ipcc_config *cfg)
{
	struct ipcc_shm_rpmsg_head *h = (struct ipcc_shm_rpmsg_head *)(sys->base + s->offset);
	struct vring_geo v;

	vring_geo(cfg->rpmsg->buffers, cfg->rpmsg->buffer_size, &v);
	h->magic = IPCC_RPMSG_MAGIC;
	h->buffers = cfg->rpmsg->buffers;
	h->buffer_size = cfg->rpmsg->buffer_size;
	h->endpoints = cfg->rpmsg->endpoints;
	h->pair_count = s->count;
	h->record_size = s->stride;
	h->cpus = sys->geo.cpus;
	effective_pairs(cfg, &sys->geo, h->pairs);
	uint8_t *rec = sys->base + s->offset + IPCC_SHM_RPMSG_HEAD_SIZE +
		       (uint64_t)sys->geo.cpus * IPCC_SHM_RPMSG_CPU_SIZE;
	for (unsigned i = 0; i < s->count; i++, rec += s->stride) {
		int r = ipcc_queue_init(rec + v.fullq, v.qbytes, v.buffers, DESC_SIZE);
		r |= ipcc_queue_init(rec + v.freeq, v.fqbytes, 2 * v.buffers, DESC_SIZE);
		assert(r == 0);
		(void)r;
	}
}

/* Validate the creator's head against the directory and the links; keep our own copy. */
static int rpmsg_load(struct ipcc_system *sys, const struct ipcc_shm_section *s)
{
	struct rpmsg_sys *rs = rsys(sys);
	/* Our own copy, read once: a peer may rewrite the head between a check and a use. */
	struct ipcc_shm_rpmsg_head h;
	memcpy(&h, sys->base + s->offset, sizeof(h));

	if (rs->loaded)
		return -EUCLEAN; /* a second RPMessage section */
	if (h.magic != IPCC_RPMSG_MAGIC || h.buffers != s->arg ||
	    !geometry_ok(h.buffers, h.buffer_size, h.endpoints) || h.pair_count != s->count ||
	    h.record_size != s->stride || h.cpus != sys->geo.cpus)
		return -EUCLEAN;
	struct vring_geo v;
	vring_geo(h.buffers, h.buffer_size, &v);
	if (v.stride != s->stride)
		return -EUCLEAN;
	unsigned pairs = 0;
	for (unsigned a = 0; a < IPCC_CPUS_MAX; a++) {
		if (h.pairs[a] & ~sys->geo.link_map[a])
			return -EUCLEAN; /* RPMessage on a pair without a link */
		pairs += (unsigned)__builtin_popcountll(h.pairs[a]);
	}
	if (2 * pairs != s->count)
		return -EUCLEAN;
	memset(rs->rec, 0xFF, sizeof(rs->rec));
	unsigned idx = 0;
	for (unsigned i = 0; i < sys->geo.link_count; i++) {
		const struct ipcc_link *l = &sys->links[i];
		if (!(h.pairs[l->cpu[0]] >> l->cpu[1] & 1))
			continue;
		rs->rec[l->cpu[0]][l->cpu[1]] = (uint16_t)idx++;
		rs->rec[l->cpu[1]][l->cpu[0]] = (uint16_t)idx++;
	}
	memcpy(rs->pairs, h.pairs, sizeof(rs->pairs));
	rs->v = v;
	rs->endpoints = h.endpoints;
	rs->cpus = sys->geo.cpus;
	rs->tables = sys->base + s->offset + IPCC_SHM_RPMSG_HEAD_SIZE;
	rs->records = rs->tables + (uint64_t)sys->geo.cpus * IPCC_SHM_RPMSG_CPU_SIZE;
	rs->loaded = true;
	return 0;
}

static bool rpmsg_matches(const struct ipcc_system *sys, const struct ipcc_config *cfg)
{
	const struct rpmsg_sys *rs = rsys(sys);
	uint64_t pairs[IPCC_LINK_MAP_WORDS];

	if (!cfg->rpmsg || effective_pairs(cfg, &sys->geo, pairs) == 0)
		return !rs->loaded;
	return rs->loaded && rs->v.buffers == cfg->rpmsg->buffers &&
	       rs->v.buffer_size == cfg->rpmsg->buffer_size &&
	       rs->endpoints == cfg->rpmsg->endpoints &&
	       memcmp(pairs, rs->pairs, sizeof(pairs)) == 0;
}

const struct ipcc_section_type ipcc_section_rpmsg = {
	.type = IPCC_SECTION_RPMSG,
	.name = "rpmsg",
	.layer = "rpmsg",
	.required = false,
	.plan = rpmsg_plan,
	.check = rpmsg_check,
	.init = rpmsg_init,
	.load = rpmsg_load,
	.matches = rpmsg_matches,
};

static struct ipcc_shm_rpmsg_cpu *table_of(const struct rpmsg_sys *rs, unsigned cpu)
{
	return (struct ipcc_shm_rpmsg_cpu *)(rs->tables + (uint64_t)cpu * IPCC_SHM_RPMSG_CPU_SIZE);
}

static uint8_t *vring_of(const struct rpmsg_sys *rs, unsigned from, unsigned to)
{
	return rs->records + (uint64_t)rs->rec[from][to] * rs->v.stride;
}

/* ---- per CPU ------------------------------------------------------------------------------ */

enum tx_state { TX_POOL, TX_TAKEN, TX_OUT };
enum rx_state { RX_NONE, RX_QUEUED, RX_CALLBACK, RX_HELD };

struct tx_buf {
	uint8_t state; /* enum tx_state */
	uint32_t tag;  /* TX_OUT: the tag it was sent under */
};

/* A packet this CPU received from a peer and has not given back; indexed by buffer. */
struct rx_buf {
	uint8_t state; /* enum rx_state */
	uint32_t tag;
	uint32_t len;
	unsigned src_ep;
	struct rx_buf *next; /* RX_QUEUED: the end point's queue */
	struct rp_peer *peer;
	uint16_t index;
};

/* This CPU with one RPMessage peer: the sending half (S = us) and the receiving half. */
struct rp_peer {
	unsigned id;
	/* Sending: tx_lock (process-local: this process's senders to the peer). */
	pthread_mutex_t tx_lock;
	struct ipcc_queue fullq; /* producer */
	struct ipcc_queue freeq; /* consumer */
	int tx_broken;
	struct ipcc_shm_rpmsg_pair *tx_rec;
	_Atomic uint32_t *sent_tag;
	const _Atomic uint32_t *tx_ret_tag;
	uint8_t *tx_bufs;
	unsigned waiters; /* threads waiting for a buffer (tx_lock) */
	uint64_t sent, nobuf;
	uint32_t own_gen16;
	unsigned pool_n;
	uint16_t *pool; /* free buffer indices, a stack */
	struct tx_buf *tx;
	/* Receiving: rx_lock guards rx[], the free queue's producer side and ret_tag. The full
	 * queue's consumer side is the drainer's (drain_lock). */
	pthread_mutex_t rx_lock;
	struct ipcc_queue rfullq; /* consumer */
	struct ipcc_queue rfreeq; /* producer */
	int rx_broken;
	struct ipcc_shm_rpmsg_pair *rx_rec;
	const _Atomic uint32_t *rx_sent_tag;
	_Atomic uint32_t *ret_tag;
	uint8_t *rx_bufs;
	uint64_t received, dropped, stale, bad, reclaimed; /* rx_lock */
	unsigned in_work; /* buffers RX_CALLBACK (rx_lock): returns that come without the app */
	struct rx_buf *rx;
	/* Name service: the peer's names as last seen (drainer). */
	uint32_t ns_seen; /* the peer's ns_seq at the last scan + 1; 0: never */
	struct ipcc_rpmsg_name names[IPCC_RPMSG_NAMES_MAX];
	unsigned nnames;
	bool ns_dirty;	/* rescan at the next drain */
	bool ns_report; /* a new watcher: report every name as up at the next scan */
};

struct ipcc_rpmsg_ep {
	struct rp_cpu *rc;
	unsigned number;
	ipcc_rpmsg_fn fn;
	void *arg;
	struct rx_buf *head, *tail; /* queue mode, ep_lock */
	/*
	 * A receive is in progress: set by its start (rx_call, a CAS without ep_lock), cleared
	 * by its end under ep_lock (release: its last touch of ep; pairs with the acquire load
	 * of ipcc_rpmsg_ep_close, which may free ep once it reads false, and with the next
	 * start's CAS).
	 */
	_Atomic bool receiving;
	unsigned unblocks; /* pending ipcc_rpmsg_unblock calls (ep_lock) */
	/*
	 * Packets queued plus unblocks pending: changed under ep_lock (ready_add), read without
	 * it by a receive's predicate to skip the lock when there is nothing (relaxed: a drain
	 * that queues one wakes the waiters after it, wake_waiters; a drain by the waiter itself
	 * is in its own program order).
	 */
	_Atomic unsigned ready;
};

/*
 * ep->ready += d (ep_lock held). Every writer holds ep_lock, so a load and a store make the
 * change (no locked RMW): the lock orders the writers, and the lock-free reader needs only
 * an untorn value. Relaxed: see ipcc_rpmsg_ep.ready.
 */
static void ready_add(struct ipcc_rpmsg_ep *ep, int d)
{
	unsigned v = atomic_load_explicit(&ep->ready, memory_order_relaxed);
	atomic_store_explicit(&ep->ready, v + (unsigned)d, memory_order_relaxed);
}

struct rp_cpu {
	struct ipcc_cpu *cpu;
	struct rpmsg_sys *rs;
	struct ipcc_shm_rpmsg_cpu *table;
	unsigned npeers;
	struct rp_peer *peer[IPCC_CPUS_MAX];
	struct rp_peer *list[IPCC_CPUS_MAX];
	pthread_mutex_t ep_lock; /* eps[], the queues, names */
	struct ipcc_rpmsg_ep **eps;
	/* Threads waiting in recv, lookup or for a buffer: a drain that queued a packet, saw
	 * a name change or a NEW_EMPTY wakes them (seq_cst, as Notify's recv_waiters). */
	_Atomic unsigned waiters;
	ipcc_rpmsg_ns_fn ns_fn; /* drain_lock */
	void *ns_arg;
	/*
	 * Per end point number: the CPU its last send went to, + 1 (0: none), its reply partner
	 * (a receive ends with -EPIPE when it dies). Relaxed: written by senders, read when a
	 * receive starts; a send racing with that start may count or not.
	 */
	_Atomic int *partner;
	/* The end points open in this process (the table in the object is for the peers, and
	 * any writer of the object can change it). Relaxed: see send_check. */
	_Atomic uint64_t local_open[IPCC_SHM_RPMSG_EP_WORDS];
	char my_names[IPCC_RPMSG_NAMES_MAX][IPCC_RPMSG_NAME_MAX + 1]; /* ep_lock */
	unsigned my_name_ep[IPCC_RPMSG_NAMES_MAX];
};

/* The end point whose callback this thread runs, and the data it was given (hold). */
#define IPCC_TLS __attribute__((tls_model("initial-exec"))) /* no __tls_get_addr per use */
static _Thread_local struct ipcc_rpmsg_ep *cb_ep IPCC_TLS;
static _Thread_local const void *cb_data IPCC_TLS;
/* The CPU this thread waits on in a call of ours (its own drain need not wake it). */
static _Thread_local struct rp_cpu *waiting_on IPCC_TLS;

static struct rp_cpu *rcpu(const struct ipcc_cpu *cpu)
{
	return (struct rp_cpu *)cpu->layer[IPCC_LAYER_RPMSG];
}

static int rpmsg_open(struct ipcc_system *sys)
{
	struct rpmsg_sys *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	sys->layer[IPCC_LAYER_RPMSG] = rs;
	return 0;
}

static void rpmsg_close(struct ipcc_system *sys)
{
	free(sys->layer[IPCC_LAYER_RPMSG]);
	sys->layer[IPCC_LAYER_RPMSG] = NULL;
}

static void rc_free(struct rp_cpu *rc)
{
	for (unsigned i = 0; i < rc->npeers; i++) {
		struct rp_peer *p = rc->list[i];
		pthread_mutex_destroy(&p->tx_lock);
		pthread_mutex_destroy(&p->rx_lock);
		free(p->pool);
		free(p->tx);
		free(p->rx);
		free(p);
	}
	if (rc->eps)
		for (unsigned e = 0; e < rc->rs->endpoints; e++)
			free(rc->eps[e]);
	free(rc->eps);
	free(rc->partner);
	pthread_mutex_destroy(&rc->ep_lock);
	free(rc);
}

/* ---- the table (this CPU's end points and names, written by us only) ---------------------- */

/* Relaxed: a bit a sender reads before queueing; the packet itself is checked again at the
 * receiver (an end point closed in between drops it). */
static void table_set_open(struct rp_cpu *rc, unsigned e, bool open)
{
	if (open)
		atomic_fetch_or_explicit(&rc->local_open[e / 64], 1ull << (e % 64),
					 memory_order_relaxed);
	else
		atomic_fetch_and_explicit(&rc->local_open[e / 64], ~(1ull << (e % 64)),
					  memory_order_relaxed);
	if (open)
		atomic_fetch_or_explicit(&rc->table->open[e / 64], 1ull << (e % 64),
					 memory_order_relaxed);
	else
		atomic_fetch_and_explicit(&rc->table->open[e / 64], ~(1ull << (e % 64)),
					  memory_order_relaxed);
	atomic_fetch_add_explicit(&rc->table->ep_seq, 1, memory_order_relaxed);
}

static void name_words(const char *name, uint64_t w[4])
{
	char buf[32] = { 0 };
	memcpy(buf, name, strnlen(name, IPCC_RPMSG_NAME_MAX));
	memcpy(w, buf, 32);
}

/*
 * Write name slot i (ep 0: empty) under its sequence count (single writer: the owner). The
 * odd store, a release fence, the fields (relaxed), then the even store (release): a reader
 * that saw the same even count before (acquire) and after (behind its acquire fence) read
 * fields of one version.
 */
static void table_name_write(struct rp_cpu *rc, unsigned i, const char *name, unsigned ep,
			     uint64_t to)
{
	struct ipcc_shm_rpmsg_name *n = &rc->table->names[i];
	uint32_t s = atomic_load_explicit(&n->seq, memory_order_relaxed); /* our own */
	uint64_t w[4] = { 0 };
	if (name)
		name_words(name, w);
	atomic_store_explicit(&n->seq, (s | 1u) + 0u, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&n->ep, ep, memory_order_relaxed);
	atomic_store_explicit(&n->to, to, memory_order_relaxed);
	for (unsigned k = 0; k < 4; k++)
		atomic_store_explicit(&n->name[k], w[k], memory_order_relaxed);
	atomic_store_explicit(&n->seq, (s | 1u) + 1u, memory_order_release);
	/* Release: after the entry; a scanner that sees the new count (acquire) rescans. */
	atomic_fetch_add_explicit(&rc->table->ns_seq, 1, memory_order_release);
}

static bool name_valid(const char *name)
{
	size_t n = strnlen(name, IPCC_RPMSG_NAME_MAX + 1);
	if (n == 0 || n > IPCC_RPMSG_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == ':' || c == '-'))
			return false;
	}
	return true;
}

/*
 * Read CPU cpu's names (any process, any thread): valid entries only, at most cap. A slot that
 * keeps changing under NAME_READ_TRIES reads is skipped.
 */
static unsigned table_names_read(const struct rpmsg_sys *rs, unsigned cpu,
				 struct ipcc_rpmsg_name *out, unsigned cap)
{
	const struct ipcc_shm_rpmsg_cpu *t = table_of(rs, cpu);
	unsigned n = 0;
	for (unsigned i = 0; i < IPCC_SHM_RPMSG_NAMES; i++) {
		const struct ipcc_shm_rpmsg_name *e = &t->names[i];
		for (unsigned tries = 0; tries < NAME_READ_TRIES; tries++) {
			/* Acquire: pairs with the even release store of table_name_write. */
			uint32_t s1 = atomic_load_explicit(&e->seq, memory_order_acquire);
			if (s1 & 1u)
				continue;
			uint32_t ep = atomic_load_explicit(&e->ep, memory_order_relaxed);
			uint64_t to = atomic_load_explicit(&e->to, memory_order_relaxed);
			uint64_t w[4];
			for (unsigned k = 0; k < 4; k++)
				w[k] = atomic_load_explicit(&e->name[k], memory_order_relaxed);
			/* Acquire fence: the field loads above before the second count load. */
			atomic_thread_fence(memory_order_acquire);
			if (atomic_load_explicit(&e->seq, memory_order_relaxed) != s1)
				continue;
			char name[33];
			memcpy(name, w, 32);
			name[32] = 0;
			if (ep == IPCC_RPMSG_ENDPT_CTRL || ep >= rs->endpoints ||
			    !name_valid(name) || memchr(name, 0, 32) == NULL)
				break; /* empty or written badly */
			if (n < cap) {
				memset(&out[n], 0, sizeof(out[n]));
				memcpy(out[n].name, name, 32);
				out[n].ep = ep;
				out[n].to = to;
			}
			n++;
			break;
		}
	}
	return n;
}

/* ---- attach / detach ---------------------------------------------------------------------- */

static struct ipcc_shm_rpmsg_pair *rec_at(uint8_t *vr)
{
	return (struct ipcc_shm_rpmsg_pair *)vr;
}

/* Publish the receiver's counters (rx_lock held). Relaxed: statistics; one writer. */
static void rx_stats(struct rp_peer *p)
{
	atomic_store_explicit(&p->rx_rec->received, p->received, memory_order_relaxed);
	atomic_store_explicit(&p->rx_rec->dropped, p->dropped, memory_order_relaxed);
	atomic_store_explicit(&p->rx_rec->stale, p->stale, memory_order_relaxed);
	atomic_store_explicit(&p->rx_rec->bad, p->bad, memory_order_relaxed);
	atomic_store_explicit(&p->rx_rec->reclaimed, p->reclaimed, memory_order_relaxed);
}

/* Queue buffer i back as free under tag (rx_lock held). false: the queue is broken or full
 * (only a hostile sender fills it: it never holds more than `buffers`). */
static bool rx_return(struct rp_peer *p, uint16_t i, uint32_t tag)
{
	struct ipcc_shm_rpmsg_desc d = { .index = i, .gen = 0, .tag = tag };
	if (p->rx_broken || ipcc_queue_push(&p->rfreeq, &d) < 0) {
		p->bad++;
		return false;
	}
	/* Relaxed: after the push (the file comment: a return is never lost, at worst doubled,
	 * and S ignores the double); read by a restarted receiver, which is us. */
	atomic_store_explicit(&p->ret_tag[i], tag, memory_order_relaxed);
	return true;
}

/* Give a received buffer back (rx_lock held); the caller rings afterwards. */
static void rx_give_back(struct rp_peer *p, struct rx_buf *b)
{
	if (b->state == RX_CALLBACK)
		p->in_work--;
	b->state = RX_NONE;
	b->next = NULL;
	(void)rx_return(p, b->index, b->tag);
}

/* After returns: ring the sender if it waits for a buffer (the file comment). */
static void rx_ring_empty(struct rp_cpu *rc, struct rp_peer *p)
{
	/* seq_cst fence: between the pushes and the load of tx_waiting; pairs with the
	 * sender's seq_cst store of tx_waiting before it looks at the free queue again. */
	atomic_thread_fence(memory_order_seq_cst);
	if (!atomic_load_explicit(&p->rx_rec->tx_waiting, memory_order_relaxed))
		return;
	/*
	 * Hysteresis: a waiting sender is rung once half the buffers wait in the free queue, or
	 * when no callback of ours is running on one of its packets: only a callback's return
	 * is sure to come without the application (a queued packet waits for a receive that may
	 * itself wait for this sender), so a sender never waits for a return that is not coming.
	 */
	pthread_mutex_lock(&p->rx_lock);
	int space = p->rx_broken ? 0 : ipcc_queue_space(&p->rfreeq);
	uint32_t fill = space < 0 ? 0 : 2 * rc->rs->v.buffers - (uint32_t)space;
	bool ring = space < 0 || fill * 2 >= rc->rs->v.buffers || p->in_work == 0;
	pthread_mutex_unlock(&p->rx_lock);
	if (ring)
		(void)ipcc_notify_kick(rc->cpu, p->id, IPCC_RPMSG_NOTIFY_NEW_EMPTY);
}

/* The receiving half of a new incarnation: drop what was queued before, reclaim (file top). */
static void rx_restart(struct rp_peer *p, uint32_t buffers)
{
	const void *slots;
	int n;
	const uint32_t h_taken = ipcc_queue_position(&p->rfullq); /* taken by the predecessor */
	/* Bounded: at most two contiguous runs per look, and a hostile sender can add at most
	 * a queue's worth per look; a few looks suffice for any honest one. */
	for (unsigned k = 0; k < 8 && !p->rx_broken; k++) {
		n = ipcc_queue_peek(&p->rfullq, UINT32_MAX, &slots);
		if (n <= 0) {
			if (n == -EBADMSG)
				p->rx_broken = n;
			break;
		}
		ipcc_queue_release(&p->rfullq, (uint32_t)n);
		p->dropped += (uint32_t)n;
	}
	if (p->rx_broken)
		return;
	uint32_t h0 = ipcc_queue_position(&p->rfullq);
	for (uint32_t i = 0; i < buffers; i++) {
		/* Acquire: pairs with the sender's release of the queue index after its store
		 * (a send before h0 has its tag visible here; see the file comment). */
		uint32_t st = atomic_load_explicit(&p->rx_sent_tag[i], memory_order_acquire);
		uint32_t rt = atomic_load_explicit(&p->ret_tag[i], memory_order_relaxed);
		if (st == rt || (uint32_t)(h0 - st) >= 0x80000000u)
			continue; /* returned, or a send at h0 or later: ours to take */
		/* A send before h_taken was the predecessor's to hold: reclaimed; one after it
		 * was queued, dropped above (and counted there). */
		if (rx_return(p, (uint16_t)i, st) && (uint32_t)(h_taken - st) < 0x80000000u)
			p->reclaimed++;
	}
	rx_stats(p);
}

/* The sending half of a new incarnation: which buffers are out, which are ours (file top). */
static void tx_restart(struct rp_peer *p, uint32_t buffers)
{
	const uint32_t head = ipcc_queue_position(&p->fullq);
	p->pool_n = 0;
	for (uint32_t i = buffers; i-- > 0;) {
		/* Relaxed: our predecessor's own stores (or nothing yet). */
		uint32_t st = atomic_load_explicit(&p->sent_tag[i], memory_order_relaxed);
		/* Acquire: a return whose tag we see is taken as done; its descriptor, if we
		 * meet it later, no longer matches (tx_refill ignores it). */
		uint32_t rt = atomic_load_explicit(&p->tx_ret_tag[i], memory_order_acquire);
		if (st != rt && (uint32_t)(head - st) < 0x80000000u) {
			/* Sent at st - 1, before our head: out with the receiver. A tag at the
			 * head or later was written by a predecessor that died before queueing
			 * it: the buffer never left (below). */
			p->tx[i] = (struct tx_buf){ .state = TX_OUT, .tag = st };
		} else {
			if (st != rt) /* Relaxed: ours; the receiver never reads an unqueued tag */
				atomic_store_explicit(&p->sent_tag[i], rt, memory_order_relaxed);
			p->tx[i] = (struct tx_buf){ .state = TX_POOL };
			p->pool[p->pool_n++] = (uint16_t)i;
		}
	}
}

static void rpmsg_poll(void *arg, unsigned remote, uint32_t value);
static int tx_refill(struct rp_cpu *rc, struct rp_peer *p);

static void rpmsg_detach(struct ipcc_cpu *cpu)
{
	struct rp_cpu *rc = rcpu(cpu);
	if (!rc)
		return;
	(void)ipcc_notify_service_set(cpu, NULL, NULL);
	/* A clean detach gives back what we hold (a death leaves it to our restart). */
	for (unsigned k = 0; k < rc->npeers; k++) {
		struct rp_peer *p = rc->list[k];
		bool gave = false;
		pthread_mutex_lock(&p->rx_lock);
		for (uint32_t i = 0; i < rc->rs->v.buffers; i++)
			if (p->rx[i].state != RX_NONE) {
				rx_give_back(p, &p->rx[i]);
				gave = true;
			}
		pthread_mutex_unlock(&p->rx_lock);
		if (gave)
			rx_ring_empty(rc, p);
	}
	/* The table says nothing is open any more (a clean detach; a death leaves it). */
	for (unsigned w = 0; w < IPCC_SHM_RPMSG_EP_WORDS; w++)
		atomic_store_explicit(&rc->table->open[w], 0, memory_order_relaxed);
	for (unsigned i = 0; i < IPCC_RPMSG_NAMES_MAX; i++)
		if (rc->my_names[i][0])
			table_name_write(rc, i, NULL, 0, 0);
	for (unsigned i = 0; i < rc->npeers; i++)
		(void)ipcc_notify_kick(cpu, rc->list[i]->id, NOTIFY_NS);
	rc_free(rc);
	cpu->layer[IPCC_LAYER_RPMSG] = NULL;
}

static int peer_new(struct rp_cpu *rc, unsigned id, struct rp_peer **ret)
{
	struct rpmsg_sys *rs = rc->rs;
	const struct vring_geo *v = &rs->v;
	struct rp_peer *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->pool = calloc(v->buffers, sizeof(*p->pool));
	p->tx = calloc(v->buffers, sizeof(*p->tx));
	p->rx = calloc(v->buffers, sizeof(*p->rx));
	pthread_mutex_init(&p->tx_lock, NULL);
	pthread_mutex_init(&p->rx_lock, NULL);
	p->id = id;
	*ret = p; /* freed by rc_free from here on */
	if (!p->pool || !p->tx || !p->rx)
		return -ENOMEM;
	uint8_t *out = vring_of(rs, rc->cpu->id, id), *in = vring_of(rs, id, rc->cpu->id);
	p->tx_rec = rec_at(out);
	p->sent_tag = (_Atomic uint32_t *)(out + v->sent_tag);
	p->tx_ret_tag = (const _Atomic uint32_t *)(out + v->ret_tag);
	p->tx_bufs = out + v->bufs;
	p->rx_rec = rec_at(in);
	p->rx_sent_tag = (const _Atomic uint32_t *)(in + v->sent_tag);
	p->ret_tag = (_Atomic uint32_t *)(in + v->ret_tag);
	p->rx_bufs = in + v->bufs;
	p->tx_broken = ipcc_queue_attach(&p->fullq, out + v->fullq, v->qbytes, v->buffers,
					 DESC_SIZE, IPCC_QUEUE_PRODUCER);
	if (!p->tx_broken)
		p->tx_broken = ipcc_queue_attach(&p->freeq, out + v->freeq, v->fqbytes,
						 2 * v->buffers, DESC_SIZE, IPCC_QUEUE_CONSUMER);
	p->rx_broken = ipcc_queue_attach(&p->rfullq, in + v->fullq, v->qbytes, v->buffers,
					 DESC_SIZE, IPCC_QUEUE_CONSUMER);
	if (!p->rx_broken)
		p->rx_broken = ipcc_queue_attach(&p->rfreeq, in + v->freeq, v->fqbytes,
						 2 * v->buffers, DESC_SIZE, IPCC_QUEUE_PRODUCER);
	for (uint32_t i = 0; i < v->buffers; i++) {
		p->rx[i].peer = p;
		p->rx[i].index = (uint16_t)i;
	}
	/* Our counters go on from the object's: these lines are ours alone. Relaxed: stats. */
	p->sent = atomic_load_explicit(&p->tx_rec->sent, memory_order_relaxed);
	p->nobuf = atomic_load_explicit(&p->tx_rec->nobuf, memory_order_relaxed);
	p->received = atomic_load_explicit(&p->rx_rec->received, memory_order_relaxed);
	p->dropped = atomic_load_explicit(&p->rx_rec->dropped, memory_order_relaxed);
	p->stale = atomic_load_explicit(&p->rx_rec->stale, memory_order_relaxed);
	p->bad = atomic_load_explicit(&p->rx_rec->bad, memory_order_relaxed);
	p->reclaimed = atomic_load_explicit(&p->rx_rec->reclaimed, memory_order_relaxed);
	/* Relaxed: nobody of ours waits yet; a predecessor's count is void. */
	atomic_store_explicit(&p->tx_rec->tx_waiting, 0, memory_order_relaxed);
	p->own_gen16 = 0;
	return 0;
}

static int rpmsg_attach(struct ipcc_cpu *cpu, const struct ipcc_cpu_options *opt)
{
	struct ipcc_system *sys = cpu->sys;
	struct rpmsg_sys *rs = rsys(sys);
	(void)opt;

	if (!rs->loaded)
		return 0; /* no RPMessage in this object */
	struct rp_cpu *rc = calloc(1, sizeof(*rc));
	if (!rc)
		return -ENOMEM;
	rc->cpu = cpu;
	rc->rs = rs;
	rc->table = table_of(rs, cpu->id);
	pthread_mutex_init(&rc->ep_lock, NULL);
	rc->eps = calloc(rs->endpoints, sizeof(*rc->eps));
	rc->partner = calloc(rs->endpoints, sizeof(*rc->partner));
	if (!rc->eps || !rc->partner) {
		rc_free(rc);
		return -ENOMEM;
	}
	/* Acquire: our own attach bumped it (lib/region/cpu.c). */
	uint32_t gen = atomic_load_explicit(&cpu->shm->generation, memory_order_acquire);
	for (unsigned id = 0; id < sys->geo.cpus; id++) {
		if (id == cpu->id || rs->rec[cpu->id][id] == NO_RECORD ||
		    !ipcc_notify_has_peer(cpu, id))
			continue; /* a pair without RPMessage, or whose Notify is missing */
		struct rp_peer *p = NULL;
		int r = peer_new(rc, id, &p);
		if (p) {
			rc->peer[id] = p;
			rc->list[rc->npeers++] = p;
		}
		if (r < 0) {
			rc_free(rc);
			return r;
		}
		p->own_gen16 = gen & 0xFFFF;
	}
	if (rc->npeers == 0) {
		rc_free(rc);
		return 0; /* nothing to serve: behave as an object without RPMessage */
	}
	/* A fresh table: nothing of our predecessor's stays open or announced. Relaxed stores,
	 * published by the release of ns_seq (table_name_write) and of gen below. */
	for (unsigned w = 0; w < IPCC_SHM_RPMSG_EP_WORDS; w++)
		atomic_store_explicit(&rc->table->open[w], 0, memory_order_relaxed);
	for (unsigned i = 0; i < IPCC_SHM_RPMSG_NAMES; i++)
		if (atomic_load_explicit(&rc->table->names[i].ep, memory_order_relaxed))
			table_name_write(rc, i, NULL, 0, 0);
	table_set_open(rc, IPCC_RPMSG_ENDPT_CTRL, true);
	/* Release: the table above is this generation's. */
	atomic_store_explicit(&rc->table->gen, gen, memory_order_release);
	for (unsigned i = 0; i < rc->npeers; i++) {
		struct rp_peer *p = rc->list[i];
		if (!p->tx_broken) {
			tx_restart(p, rs->v.buffers);
			/* Empty the free queue now: the returns our predecessor had not taken back
			 * yet (up to `buffers` of them) would keep its slots, and the receiver could
			 * not return our own sends (rx_return: full queue, counted bad, buffer
			 * lost). tx_refill keeps the ones that match a buffer still out. */
			pthread_mutex_lock(&p->tx_lock);
			(void)tx_refill(rc, p);
			pthread_mutex_unlock(&p->tx_lock);
		}
		pthread_mutex_lock(&p->rx_lock);
		if (!p->rx_broken)
			rx_restart(p, rs->v.buffers);
		pthread_mutex_unlock(&p->rx_lock);
		p->ns_dirty = true;
	}
	cpu->layer[IPCC_LAYER_RPMSG] = rc;
	int r = ipcc_notify_service_set(cpu, rpmsg_poll, rc);
	assert(r == 0); /* every peer of ours has Notify */
	(void)r;
	/* Tell the peers: buffers came back (a sender may wait), and our names changed. */
	for (unsigned i = 0; i < rc->npeers; i++) {
		struct rp_peer *p = rc->list[i];
		(void)ipcc_notify_kick(cpu, p->id, IPCC_RPMSG_NOTIFY_NEW_EMPTY);
		(void)ipcc_notify_kick(cpu, p->id, NOTIFY_NS);
	}
	/* Packets queued between our look and the service's install had their doorbell taken by
	 * nobody (Notify dropped it and cleared the flag): look at every pair now. */
	ipcc_notify_service_poll_all(cpu);
	return 0;
}

const struct ipcc_layer ipcc_layer_rpmsg = {
	.name = "rpmsg",
	.open = rpmsg_open,
	.close = rpmsg_close,
	.attach = rpmsg_attach,
	.detach = rpmsg_detach,
};

/* ---- receiving (the drainer) ------------------------------------------------------------- */

static uint8_t *rx_buffer(const struct rp_cpu *rc, const struct rp_peer *p, uint16_t i)
{
	return p->rx_bufs + (uint64_t)i * rc->rs->v.buffer_size;
}

static void wake_waiters(struct rp_cpu *rc)
{
	/* seq_cst fence and load: pair with the seq_cst increment of a waiter (and its
	 * announcement, lib/bell/bell.c): we see it, or it sees what we did. */
	atomic_thread_fence(memory_order_seq_cst);
	unsigned n = atomic_load_explicit(&rc->waiters, memory_order_seq_cst);
	/* The only waiter is this thread, draining from its own predicate: it looks again
	 * when the drain returns. */
	if (n > (waiting_on == rc ? 1u : 0u))
		ipcc_bell_wake_sleepers(rc->cpu->sys, rc->cpu->id);
}

/* Rescan p's table if it changed (or a control packet or kick said so): true if it did. */
static bool ns_scan(struct rp_cpu *rc, struct rp_peer *p)
{
	const struct ipcc_shm_rpmsg_cpu *t = table_of(rc->rs, p->id);
	/* Acquire: pairs with the release increment of table_name_write. */
	uint32_t seq = atomic_load_explicit(&t->ns_seq, memory_order_acquire);
	if (!p->ns_dirty && p->ns_seen == seq + 1u && !p->ns_report)
		return false;
	bool all = p->ns_report;
	p->ns_report = false;
	p->ns_dirty = false;
	p->ns_seen = seq + 1u;
	struct ipcc_rpmsg_name now[IPCC_RPMSG_NAMES_MAX];
	unsigned n = table_names_read(rc->rs, p->id, now, IPCC_RPMSG_NAMES_MAX);
	if (n > IPCC_RPMSG_NAMES_MAX)
		n = IPCC_RPMSG_NAMES_MAX;
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++)
		if (now[i].to >> rc->cpu->id & 1)
			now[k++] = now[i];
	n = k;
	if (rc->ns_fn) {
		for (unsigned i = 0; i < p->nnames; i++) { /* gone */
			bool still = false;
			for (unsigned j = 0; j < n && !still; j++)
				still = strcmp(p->names[i].name, now[j].name) == 0 &&
					p->names[i].ep == now[j].ep;
			if (!still && !all)
				rc->ns_fn(rc->cpu, p->names[i].name, p->id, p->names[i].ep, false,
					  rc->ns_arg);
		}
		for (unsigned j = 0; j < n; j++) { /* new */
			bool had = false;
			for (unsigned i = 0; i < p->nnames && !had && !all; i++)
				had = strcmp(p->names[i].name, now[j].name) == 0 &&
				      p->names[i].ep == now[j].ep;
			if (!had)
				rc->ns_fn(rc->cpu, now[j].name, p->id, now[j].ep, true, rc->ns_arg);
		}
	}
	memcpy(p->names, now, sizeof(now[0]) * n);
	p->nnames = n;
	return true;
}

/*
 * One descriptor from p's full queue (drainer). Returns true if a waiter should look. Every
 * path publishes the counters it changed (rx_stats) in the hold of rx_lock that changed them:
 * a visit that moved a descriptor publishes, one that found nothing writes no shared line, and
 * the publication costs no lock of its own.
 */
static bool deliver(struct rp_cpu *rc, struct rp_peer *p, struct ipcc_shm_rpmsg_desc d,
		    uint32_t peer_gen16, bool *returned)
{
	const struct vring_geo *v = &rc->rs->v;
	if (d.index >= v->buffers) {
		pthread_mutex_lock(&p->rx_lock);
		p->bad++; /* no buffer to give back */
		rx_stats(p);
		pthread_mutex_unlock(&p->rx_lock);
		return false;
	}
	struct rx_buf *b = &p->rx[d.index];
	struct ipcc_rpmsg_hdr h;
	memcpy(&h, rx_buffer(rc, p, d.index), sizeof(h)); /* copied once, then checked */
	bool stale = d.gen != peer_gen16;
	bool bad = h.len > v->buffer_size - IPCC_RPMSG_HEADER_SIZE || h.dst >= rc->rs->endpoints ||
		   h.src >= rc->rs->endpoints || h.src_cpu != p->id;
	/* One pass under both locks (ep_lock, then rx_lock: the one order of the two). */
	pthread_mutex_lock(&rc->ep_lock);
	struct ipcc_rpmsg_ep *ep = stale || bad ? NULL : rc->eps[h.dst];
	pthread_mutex_lock(&p->rx_lock);
	if (b->state != RX_NONE) {
		p->bad++; /* a buffer we hold already: the sender queued it twice */
		rx_stats(p);
		pthread_mutex_unlock(&p->rx_lock);
		pthread_mutex_unlock(&rc->ep_lock);
		return false;
	}
	p->received++;
	b->tag = d.tag;
	b->len = h.len;
	b->src_ep = h.src;
	if (stale || bad || !ep) {
		bool ctrl = !stale && !bad && h.dst == IPCC_RPMSG_ENDPT_CTRL;
		if (stale)
			p->stale++;
		else if (bad)
			p->bad++;
		else if (!ctrl)
			p->dropped++;
		rx_give_back(p, b);
		*returned = true;
		rx_stats(p);
		pthread_mutex_unlock(&p->rx_lock);
		pthread_mutex_unlock(&rc->ep_lock);
		if (ctrl)
			p->ns_dirty = true; /* the table is what counts; the packet says "look" */
		return ctrl;
	}
	if (!ep->fn) {
		b->state = RX_QUEUED;
		rx_stats(p);
		pthread_mutex_unlock(&p->rx_lock);
		b->next = NULL;
		if (ep->tail)
			ep->tail->next = b;
		else
			ep->head = b;
		ep->tail = b;
		ready_add(ep, 1);
		pthread_mutex_unlock(&rc->ep_lock);
		return true;
	}
	b->state = RX_CALLBACK;
	p->in_work++;
	rx_stats(p);
	pthread_mutex_unlock(&p->rx_lock);
	ipcc_rpmsg_fn fn = ep->fn;
	void *arg = ep->arg;
	pthread_mutex_unlock(&rc->ep_lock);
	const void *data = rx_buffer(rc, p, d.index) + IPCC_RPMSG_HEADER_SIZE;
	struct ipcc_rpmsg_ep *outer_ep = cb_ep;
	const void *outer_data = cb_data;
	cb_ep = ep;
	cb_data = data;
	/* The end point cannot be closed meanwhile: close excludes the drainer. */
	fn(ep, data, h.len, p->id, h.src, arg);
	cb_ep = outer_ep;
	cb_data = outer_data;
	pthread_mutex_lock(&p->rx_lock);
	if (b->state == RX_CALLBACK) {
		rx_give_back(p, b);
		*returned = true;
		rx_stats(p); /* the give-back's bad++, when the free queue was broken */
	}
	pthread_mutex_unlock(&p->rx_lock);
	return false;
}

/* The service hook (lib/notify/service.h): a client-0 value, or the poll after a visit. */
static void rpmsg_poll(void *arg, unsigned remote, uint32_t value)
{
	struct rp_cpu *rc = arg;
	struct rp_peer *p = remote < IPCC_CPUS_MAX ? rc->peer[remote] : NULL;
	if (!p)
		return;
	bool woke = false, returned = false;
	if (value == IPCC_RPMSG_NOTIFY_NEW_EMPTY) {
		woke = true; /* a sender of ours may wait for it */
	} else if (value == NOTIFY_NS) {
		p->ns_dirty = true;
	} else if (value == 0 && !p->rx_broken) {
		/* Acquire: the sender's generation, to tell its packets from a predecessor's. */
		const struct ipcc_shm_cpu *sc = ipcc_shm_cpu(rc->cpu->sys, p->id);
		uint32_t gen16 =
			atomic_load_explicit(&sc->generation, memory_order_acquire) & 0xFFFF;
		uint32_t budget = rc->rs->v.buffers;
		const void *slots;
		while (budget > 0) {
			int n = ipcc_queue_peek(&p->rfullq, budget, &slots);
			if (n <= 0) {
				if (n == -EBADMSG) {
					pthread_mutex_lock(&p->rx_lock);
					p->rx_broken = n;
					pthread_mutex_unlock(&p->rx_lock);
				}
				break;
			}
			/*
			 * Copied out and released before any is delivered: a buffer given back
			 * during the batch may be sent again at once, and its descriptor needs a
			 * slot (the queue holds `buffers`). Our restart drops the queue anyway, so
			 * releasing early loses nothing.
			 */
			struct ipcc_shm_rpmsg_desc ds[IPCC_RPMSG_BUFFERS_MAX];
			memcpy(ds, slots, (size_t)n * DESC_SIZE);
			ipcc_queue_release(&p->rfullq, (uint32_t)n);
			for (int i = 0; i < n; i++) {
				if (ds[i].gen !=
				    gen16) /* Acquire: as above; it may have restarted */
					gen16 = atomic_load_explicit(&sc->generation,
								     memory_order_acquire) &
						0xFFFF;
				woke |= deliver(rc, p, ds[i], gen16, &returned);
			}
			budget -= (uint32_t)n;
		}
		/* A budget's worth left more behind: the Notify flag stays set by the sender's
		 * next kick; a visit ends with another poll. */
	}
	/* Always: a kick that found the Notify queue full reached us only as this poll. The
	 * scan's first test is one load of the peer's ns_seq. */
	if (ns_scan(rc, p))
		woke = true;
	/* The same for NEW_EMPTY: a sender of ours waiting for a buffer looks again. Relaxed:
	 * our own word (tx_take). */
	if (atomic_load_explicit(&p->tx_rec->tx_waiting, memory_order_relaxed))
		woke = true;
	if (returned)
		rx_ring_empty(rc, p);
	if (woke)
		wake_waiters(rc);
}

/* ---- argument checks ---------------------------------------------------------------------- */

static int cpu_check(struct ipcc_cpu *cpu, struct rp_cpu **ret)
{
	if (!cpu)
		return -EINVAL;
	if (ipcc_cpu_stale(cpu))
		return -ESTALE;
	struct rp_cpu *rc = rcpu(cpu);
	if (!rc)
		return -ENOPROTOOPT;
	*ret = rc;
	return 0;
}

/* The RPMessage peer `remote`: -EINVAL, -ENOENT (no link), -ENOPROTOOPT. */
static int peer_get(struct ipcc_cpu *cpu, struct rp_cpu *rc, unsigned remote, struct rp_peer **ret)
{
	if (remote >= cpu->sys->geo.cpus || remote == cpu->id)
		return -EINVAL;
	if (!ipcc_link_get(cpu->sys, cpu->id, remote))
		return -ENOENT;
	if (!rc || !rc->peer[remote])
		return -ENOPROTOOPT;
	*ret = rc->peer[remote];
	return 0;
}

/* ---- end points --------------------------------------------------------------------------- */

IPCC_EXPORT int ipcc_rpmsg_ep_create(struct ipcc_cpu *cpu, unsigned number, ipcc_rpmsg_fn fn,
				     void *arg, struct ipcc_rpmsg_ep **ret_ep)
{
	struct rp_cpu *rc;
	if (!ret_ep)
		return -EINVAL;
	int r = cpu_check(cpu, &rc);
	if (r < 0)
		return r;
	if (number != IPCC_RPMSG_ENDPT_ANY && number >= rc->rs->endpoints)
		return -ERANGE;
	if (number == IPCC_RPMSG_ENDPT_CTRL)
		return -EACCES;
	struct ipcc_rpmsg_ep *ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	*ep = (struct ipcc_rpmsg_ep){ .rc = rc, .fn = fn, .arg = arg };
	pthread_mutex_lock(&rc->ep_lock);
	if (number == IPCC_RPMSG_ENDPT_ANY) {
		for (unsigned e = 1; e < rc->rs->endpoints && number == IPCC_RPMSG_ENDPT_ANY; e++)
			if (!rc->eps[e])
				number = e;
		if (number == IPCC_RPMSG_ENDPT_ANY)
			r = -EADDRNOTAVAIL;
	} else if (rc->eps[number]) {
		r = -EADDRINUSE;
	}
	if (r == 0) {
		ep->number = number;
		rc->eps[number] = ep;
		atomic_store_explicit(&rc->partner[number], 0, memory_order_relaxed); /* above */
		table_set_open(rc, number, true);
	}
	pthread_mutex_unlock(&rc->ep_lock);
	if (r < 0) {
		free(ep);
		return r;
	}
	*ret_ep = ep;
	return 0;
}

static void ns_kick_all(struct rp_cpu *rc, uint64_t to);
static int name_withdraw(struct rp_cpu *rc, unsigned ep_number, uint64_t *ret_to);

IPCC_EXPORT int ipcc_rpmsg_ep_close(struct ipcc_rpmsg_ep *ep)
{
	if (!ep)
		return 0;
	struct rp_cpu *rc = ep->rc;
	if (ipcc_cpu_stale(rc->cpu))
		return -ESTALE;
	if (cb_ep == ep)
		return -EDEADLK;
	ipcc_notify_drain_enter(rc->cpu);
	pthread_mutex_lock(&rc->ep_lock);
	/* Acquire: see ipcc_rpmsg_ep.receiving. */
	if (atomic_load_explicit(&ep->receiving, memory_order_acquire)) {
		pthread_mutex_unlock(&rc->ep_lock);
		ipcc_notify_drain_leave(rc->cpu);
		return -EBUSY;
	}
	rc->eps[ep->number] = NULL;
	table_set_open(rc, ep->number, false);
	uint64_t to = 0;
	(void)name_withdraw(rc, ep->number, &to);
	struct rx_buf *b = ep->head;
	ep->head = ep->tail = NULL;
	pthread_mutex_unlock(&rc->ep_lock);
	bool gave[IPCC_CPUS_MAX] = { false };
	while (b) {
		struct rx_buf *next = b->next;
		struct rp_peer *p = b->peer;
		pthread_mutex_lock(&p->rx_lock);
		p->dropped++;
		rx_give_back(p, b);
		rx_stats(p);
		pthread_mutex_unlock(&p->rx_lock);
		gave[p->id] = true;
		b = next;
	}
	ipcc_notify_drain_leave(rc->cpu);
	for (unsigned i = 0; i < rc->npeers; i++)
		if (gave[rc->list[i]->id])
			rx_ring_empty(rc, rc->list[i]);
	if (to)
		ns_kick_all(rc, to);
	free(ep);
	return 0;
}

IPCC_EXPORT unsigned ipcc_rpmsg_ep_number(const struct ipcc_rpmsg_ep *ep)
{
	return ep ? ep->number : 0;
}

IPCC_EXPORT struct ipcc_cpu *ipcc_rpmsg_ep_cpu(const struct ipcc_rpmsg_ep *ep)
{
	return ep ? ep->rc->cpu : NULL;
}

/* ---- sending ------------------------------------------------------------------------------ */

/* Publish the sender's counters (tx_lock held). Relaxed: statistics; one writer. */
static void tx_stats(struct rp_peer *p)
{
	atomic_store_explicit(&p->tx_rec->sent, p->sent, memory_order_relaxed);
}

/* Take back what the receiver returned (tx_lock held). -EBADMSG: its queue index is bad. */
static int tx_refill(struct rp_cpu *rc, struct rp_peer *p)
{
	const void *slots;
	uint32_t buffers = rc->rs->v.buffers;
	for (unsigned k = 0; k < 2; k++) { /* the storage wraps at most once per look */
		int n = ipcc_queue_peek(&p->freeq, UINT32_MAX, &slots);
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return p->tx_broken = n;
		for (int i = 0; i < n; i++) {
			struct ipcc_shm_rpmsg_desc d;
			memcpy(&d, (const uint8_t *)slots + (size_t)i * DESC_SIZE, sizeof(d));
			if (d.index >= buffers)
				continue;
			struct tx_buf *t = &p->tx[d.index];
			if (t->state != TX_OUT || t->tag != d.tag)
				continue; /* late, doubled or forged: not the send we wait for */
			t->state = TX_POOL;
			p->pool[p->pool_n++] = d.index;
		}
		ipcc_queue_release(&p->freeq, (uint32_t)n);
	}
	return 0;
}

/* The destination end point is open on an attached CPU, as its table says. */
static bool remote_open(struct rp_cpu *rc, unsigned remote, unsigned ep)
{
	const struct ipcc_shm_cpu *sc = ipcc_shm_cpu(rc->cpu->sys, remote);
	/* Relaxed, both: advisory (file comment of the header: a dead CPU's stay open); the
	 * receiver checks again on arrival. */
	if (atomic_load_explicit(&sc->owner_state, memory_order_relaxed) != IPCC_OWNER_ATTACHED)
		return false;
	const struct ipcc_shm_rpmsg_cpu *t = table_of(rc->rs, remote);
	return atomic_load_explicit(&t->open[ep / 64], memory_order_relaxed) >> (ep % 64) & 1;
}

struct tx_wait {
	struct rp_cpu *rc;
	struct rp_peer *p;
	int err;
	int index; /* the buffer got, or -1 */
};

/* Take a buffer from the pool (tx_lock held): its index, or -1. */
static int pool_take(struct rp_peer *p)
{
	if (p->pool_n == 0)
		return -1;
	uint16_t i = p->pool[--p->pool_n];
	p->tx[i].state = TX_TAKEN;
	return i;
}

static bool pred_tx(struct ipcc_cpu *cpu, void *arg)
{
	struct tx_wait *w = arg;
	/* The doorbell a receiver rang must be drained, or its flag would stay set and never
	 * ring again (lib/notify). */
	ipcc_notify_drain_try(cpu);
	pthread_mutex_lock(&w->p->tx_lock);
	if (w->p->tx_broken)
		w->err = w->p->tx_broken;
	else if (tx_refill(w->rc, w->p) == 0)
		w->index = pool_take(w->p);
	else
		w->err = w->p->tx_broken;
	pthread_mutex_unlock(&w->p->tx_lock);
	return w->index >= 0 || w->err;
}

/* A buffer of the pair to p, waiting up to timeout_ns: its index, or a negative errno. */
static int tx_take(struct ipcc_cpu *cpu, struct rp_cpu *rc, struct rp_peer *p, int64_t timeout_ns)
{
	pthread_mutex_lock(&p->tx_lock);
	if (p->tx_broken) {
		pthread_mutex_unlock(&p->tx_lock);
		return p->tx_broken;
	}
	int i = pool_take(p);
	if (i < 0) {
		int r = tx_refill(rc, p);
		i = r < 0 ? r : pool_take(p);
		if (r < 0) {
			pthread_mutex_unlock(&p->tx_lock);
			return r;
		}
	}
	if (i >= 0) {
		pthread_mutex_unlock(&p->tx_lock);
		return i;
	}
	p->nobuf++;
	atomic_store_explicit(&p->tx_rec->nobuf, p->nobuf, memory_order_relaxed); /* stats */
	/* From a callback, never wait: the doorbell of the pair being drained stays set until
	 * the drain ends, so the receiver's "new empty" would not ring us. */
	if (timeout_ns == 0 || ipcc_notify_draining(cpu)) {
		pthread_mutex_unlock(&p->tx_lock);
		return -EAGAIN;
	}
	if (p->waiters++ == 0) /* seq_cst: pairs with rx_ring_empty's fence */
		atomic_store_explicit(&p->tx_rec->tx_waiting, 1, memory_order_seq_cst);
	pthread_mutex_unlock(&p->tx_lock);

	struct ipcc_watch watch; /* 1 KiB: only .n is set, never zero-filled */
	watch.n = 0;
	struct tx_wait w = { .rc = rc, .p = p, .err = 0, .index = -1 };
	int r = ipcc_watch_add(cpu, &watch, p->id);
	/* seq_cst: pairs with wake_waiters. */
	atomic_fetch_add_explicit(&rc->waiters, 1, memory_order_seq_cst);
	struct rp_cpu *outer = waiting_on;
	waiting_on = rc;
	if (r == 0)
		r = ipcc_wait_core(cpu, pred_tx, &w, &watch, timeout_ns, 0);
	waiting_on = outer;
	/* Relaxed: only makes later drains skip a wake-up. */
	atomic_fetch_sub_explicit(&rc->waiters, 1, memory_order_relaxed);
	pthread_mutex_lock(&p->tx_lock);
	if (--p->waiters == 0) /* Relaxed: a receiver that still sees 1 rings once too often */
		atomic_store_explicit(&p->tx_rec->tx_waiting, 0, memory_order_relaxed);
	pthread_mutex_unlock(&p->tx_lock);
	if (w.index >= 0)
		return w.index; /* taken, even if the wait then also saw a death */
	return r < 0 ? r : w.err;
}

/* Give a taken buffer back to the pool (tx_lock held). */
static void pool_put(struct rp_peer *p, uint16_t i)
{
	p->tx[i].state = TX_POOL;
	p->pool[p->pool_n++] = i;
}

static uint8_t *tx_buffer(const struct rp_cpu *rc, const struct rp_peer *p, unsigned i)
{
	return p->tx_bufs + (uint64_t)i * rc->rs->v.buffer_size;
}

/* Queue taken buffer i as full and ring (tx_lock held on entry, released on return). */
static int tx_commit(struct rp_cpu *rc, struct rp_peer *p, uint16_t i, uint32_t len,
		     unsigned remote_ep, unsigned local_ep)
{
	struct ipcc_rpmsg_hdr h = { .src = local_ep,
				    .dst = remote_ep,
				    .src_cpu = rc->cpu->id,
				    .len = (uint16_t)len,
				    .flags = 0 };
	memcpy(tx_buffer(rc, p, i), &h, sizeof(h));
	uint32_t tag = ipcc_queue_position(&p->fullq) + 1u;
	/* Relaxed: published by the release of the queue index in the push below (the
	 * receiver's restart reads it with acquire after that index). */
	atomic_store_explicit(&p->sent_tag[i], tag, memory_order_relaxed);
	struct ipcc_shm_rpmsg_desc d = { .index = i, .gen = (uint16_t)p->own_gen16, .tag = tag };
	int r = ipcc_queue_push(&p->fullq, &d);
	if (r < 0) {
		/* Never full while we own the buffer (a queue holds at most `buffers`): the
		 * receiver broke the index. */
		atomic_store_explicit(&p->sent_tag[i],
				      atomic_load_explicit(&p->tx_ret_tag[i], memory_order_relaxed),
				      memory_order_relaxed);
		/* The buffer stays taken: the caller gives it back (send) or keeps it
		 * (send_nocopy, whose caller may tx_free it). */
		p->tx_broken = r == -EAGAIN ? -EBADMSG : r;
		pthread_mutex_unlock(&p->tx_lock);
		return p->tx_broken;
	}
	p->tx[i] = (struct tx_buf){ .state = TX_OUT, .tag = tag };
	p->sent++;
	tx_stats(p);
	pthread_mutex_unlock(&p->tx_lock);
	/* seq_cst fence: the queue index before the Notify queue's tail is looked at
	 * (lib/notify/service.h). */
	ipcc_queue_fence_signal();
	/* Queued: the send succeeded whatever the kick says (a broken Notify queue breaks the
	 * pair for the next send, which finds the receiver not draining). */
	(void)ipcc_notify_kick(rc->cpu, p->id, IPCC_RPMSG_NOTIFY_NEW_FULL);
	return 0;
}

/* The checks of a send before any buffer is touched. */
static int send_check(struct ipcc_cpu *cpu, struct rp_cpu **ret_rc, struct rp_peer **ret_p,
		      uint32_t len, unsigned remote, unsigned remote_ep, unsigned local_ep)
{
	struct rp_cpu *rc;
	int r = cpu_check(cpu, &rc);
	if (r < 0)
		return r;
	if (len > rc->rs->v.buffer_size - IPCC_RPMSG_HEADER_SIZE)
		return -EMSGSIZE;
	if (remote_ep >= rc->rs->endpoints || local_ep >= rc->rs->endpoints)
		return -ERANGE;
	struct rp_peer *p;
	r = peer_get(cpu, rc, remote, &p);
	if (r < 0)
		return r;
	/* Relaxed: this process's bitmap (an end point another thread closes meanwhile may
	 * still be seen open: the packet goes out, and its replies are dropped on arrival). */
	if (!(atomic_load_explicit(&rc->local_open[local_ep / 64], memory_order_relaxed) >>
		      (local_ep % 64) &
	      1))
		return -EBADF;
	if (!remote_open(rc, remote, remote_ep))
		return -ECONNREFUSED;
	if (local_ep != IPCC_RPMSG_ENDPT_CTRL &&
	    atomic_load_explicit(&rc->partner[local_ep], memory_order_relaxed) != (int)remote + 1)
		atomic_store_explicit(&rc->partner[local_ep], (int)remote + 1,
				      memory_order_relaxed);
	*ret_rc = rc;
	*ret_p = p;
	return 0;
}

/* A send; ctrl: the name service's own, from the control end point. */
static int send_copy(struct ipcc_cpu *cpu, const void *data, uint32_t len, unsigned remote,
		     unsigned remote_ep, unsigned local_ep, int64_t timeout_ns, bool ctrl)
{
	struct rp_cpu *rc;
	struct rp_peer *p;
	if (!cpu || (!data && len > 0))
		return -EINVAL;
	if (local_ep == IPCC_RPMSG_ENDPT_CTRL && !ctrl) {
		int r = cpu_check(cpu, &rc);
		return r < 0 ? r : -EBADF;
	}
	int r = send_check(cpu, &rc, &p, len, remote, remote_ep, local_ep);
	if (r < 0)
		return r;
	/* The common case in one hold of tx_lock: a buffer of the pool, filled and queued. */
	pthread_mutex_lock(&p->tx_lock);
	int i = p->tx_broken ? -1 : pool_take(p);
	if (i < 0 && !p->tx_broken && tx_refill(rc, p) == 0)
		i = pool_take(p);
	if (i < 0) {
		pthread_mutex_unlock(&p->tx_lock);
		i = tx_take(cpu, rc, p, timeout_ns);
		if (i < 0)
			return i;
		pthread_mutex_lock(&p->tx_lock);
	}
	if (len)
		memcpy(tx_buffer(rc, p, (unsigned)i) + IPCC_RPMSG_HEADER_SIZE, data, len);
	r = tx_commit(rc, p, (uint16_t)i, len, remote_ep, local_ep);
	if (r < 0) {
		pthread_mutex_lock(&p->tx_lock);
		pool_put(p, (uint16_t)i);
		pthread_mutex_unlock(&p->tx_lock);
	}
	return r;
}

IPCC_EXPORT int ipcc_rpmsg_send(struct ipcc_cpu *cpu, const void *data, uint32_t len,
				unsigned remote, unsigned remote_ep, unsigned local_ep,
				int64_t timeout_ns)
{
	return send_copy(cpu, data, len, remote, remote_ep, local_ep, timeout_ns, false);
}

/*
 * The buffer whose payload is data, among those this CPU sends from (rx false) or receives
 * into (rx true): its peer and index. -EFAULT: none (or not a payload's start).
 */
static int buf_find(struct rp_cpu *rc, const void *data, bool rx, struct rp_peer **ret_p,
		    uint16_t *ret_i)
{
	const uint8_t *d = data;
	const struct vring_geo *v = &rc->rs->v;
	for (unsigned k = 0; k < rc->npeers; k++) {
		struct rp_peer *p = rc->list[k];
		const uint8_t *base = rx ? p->rx_bufs : p->tx_bufs;
		if (d < base || d >= base + (uint64_t)v->buffers * v->buffer_size)
			continue;
		uint64_t off = (uint64_t)(d - base);
		if (off % v->buffer_size != IPCC_RPMSG_HEADER_SIZE)
			return -EFAULT;
		*ret_p = p;
		*ret_i = (uint16_t)(off / v->buffer_size);
		return 0;
	}
	return -EFAULT;
}

IPCC_EXPORT int ipcc_rpmsg_tx_get(struct ipcc_cpu *cpu, unsigned remote, int64_t timeout_ns,
				  void **ret_data, uint32_t *ret_cap)
{
	struct rp_cpu *rc;
	struct rp_peer *p;
	if (!ret_data)
		return -EINVAL;
	int r = cpu_check(cpu, &rc);
	if (r < 0)
		return r;
	r = peer_get(cpu, rc, remote, &p);
	if (r < 0)
		return r;
	int i = tx_take(cpu, rc, p, timeout_ns);
	if (i < 0)
		return i;
	*ret_data = tx_buffer(rc, p, (unsigned)i) + IPCC_RPMSG_HEADER_SIZE;
	if (ret_cap)
		*ret_cap = rc->rs->v.buffer_size - IPCC_RPMSG_HEADER_SIZE;
	return 0;
}

IPCC_EXPORT int ipcc_rpmsg_send_nocopy(struct ipcc_cpu *cpu, void *data, uint32_t len,
				       unsigned remote_ep, unsigned local_ep)
{
	struct rp_cpu *rc;
	struct rp_peer *p, *p2;
	uint16_t i;
	if (!data)
		return -EINVAL;
	int r = cpu_check(cpu, &rc);
	if (r < 0)
		return r;
	r = buf_find(rc, data, false, &p, &i);
	if (r < 0)
		return r;
	pthread_mutex_lock(&p->tx_lock);
	bool taken = p->tx[i].state == TX_TAKEN;
	pthread_mutex_unlock(&p->tx_lock);
	if (!taken)
		return -EALREADY;
	if (local_ep == IPCC_RPMSG_ENDPT_CTRL)
		return -EBADF;
	r = send_check(cpu, &rc, &p2, len, p->id, remote_ep, local_ep);
	if (r < 0)
		return r;
	pthread_mutex_lock(&p->tx_lock);
	if (p->tx[i].state != TX_TAKEN) { /* sent or freed by another thread meanwhile */
		pthread_mutex_unlock(&p->tx_lock);
		return -EALREADY;
	}
	return tx_commit(rc, p, i, len, remote_ep, local_ep);
}

IPCC_EXPORT int ipcc_rpmsg_tx_free(struct ipcc_cpu *cpu, void *data)
{
	struct rp_cpu *rc;
	struct rp_peer *p;
	uint16_t i;
	if (!data)
		return -EINVAL;
	int r = cpu_check(cpu, &rc);
	if (r < 0)
		return r;
	r = buf_find(rc, data, false, &p, &i);
	if (r < 0)
		return r;
	pthread_mutex_lock(&p->tx_lock);
	if (p->tx[i].state != TX_TAKEN) {
		pthread_mutex_unlock(&p->tx_lock);
		return -EALREADY;
	}
	pool_put(p, i);
	pthread_mutex_unlock(&p->tx_lock);
	return 0;
}

/* ---- receiving (the calls) --------------------------------------------------------------- */

struct rx_wait {
	struct ipcc_rpmsg_ep *ep;
	uint32_t cap;
	void *buf;	    /* copy mode; NULL: zero copy */
	struct rx_buf *got; /* the packet taken */
	int err;	    /* -EMSGSIZE, -ECANCELED */
	uint32_t need;
	bool released; /* pred_rx ended the receive (ep->receiving false): ep is not ours */
};

/* Take the first packet (ep_lock held): true when done (got or err). */
static bool rx_take(struct rx_wait *w)
{
	struct ipcc_rpmsg_ep *ep = w->ep;
	if (w->got || w->err)
		return true;
	if (ep->unblocks) {
		ep->unblocks--;
		ready_add(ep, -1);
		w->err = -ECANCELED;
		return true;
	}
	struct rx_buf *b = ep->head;
	if (!b)
		return false;
	if (w->buf && b->len > w->cap) {
		w->err = -EMSGSIZE;
		w->need = b->len;
		return true;
	}
	ep->head = b->next;
	if (!ep->head)
		ep->tail = NULL;
	b->next = NULL;
	ready_add(ep, -1);
	w->got = b;
	return true;
}

static bool pred_rx(struct ipcc_cpu *cpu, void *arg)
{
	struct rx_wait *w = arg;
	/* Done already: ep is not touched again (it may be closed once released). */
	if (w->got || w->err)
		return true;
	struct rp_cpu *rc = w->ep->rc;
	bool done = false;
	for (int pass = 0; pass < 2 && !done; pass++) {
		if (pass)
			ipcc_notify_drain_try(cpu);
		/* Relaxed: see ipcc_rpmsg_ep.ready. */
		if (atomic_load_explicit(&w->ep->ready, memory_order_relaxed)) {
			pthread_mutex_lock(&rc->ep_lock);
			done = rx_take(w);
			/*
			 * A packet taken ends the receive in this hold of ep_lock: rx_call has
			 * nothing left to do on ep (its -EPIPE partner reset is for a receive
			 * that got nothing), so it need not take the lock again to say so. The
			 * wait core does not call a predicate again once it returned true.
			 */
			if (w->got) {
				/* Release: see ipcc_rpmsg_ep.receiving. */
				atomic_store_explicit(&w->ep->receiving, false,
						      memory_order_release);
				w->released = true;
			}
			pthread_mutex_unlock(&rc->ep_lock);
		}
	}
	return done;
}

static int rx_call(struct ipcc_rpmsg_ep *ep, struct rx_wait *w, int64_t timeout_ns)
{
	if (!ep)
		return -EINVAL;
	struct rp_cpu *rc = ep->rc;
	struct ipcc_cpu *cpu = rc->cpu;
	if (ipcc_cpu_stale(cpu))
		return -ESTALE;
	if (ep->fn)
		return -EOPNOTSUPP;
	if (ipcc_notify_draining(cpu))
		return -EDEADLK; /* from a callback: nothing would drain */
	/*
	 * One receive at a time: the CAS is the whole check, without ep_lock (a close that
	 * races with the start of a receive on the same handle is the caller's race either
	 * way: the end point may be freed under it). Acquire: pairs with the release that ended
	 * the previous receive (its last touches of ep come before ours).
	 */
	bool idle = false;
	if (!atomic_compare_exchange_strong_explicit(&ep->receiving, &idle, true,
						     memory_order_acquire, memory_order_relaxed))
		return -EBUSY;
	/* Relaxed: see rp_cpu.partner. */
	int partner = atomic_load_explicit(&rc->partner[ep->number], memory_order_relaxed) - 1;

	struct ipcc_watch watch; /* 1 KiB: only .n is set, never zero-filled */
	watch.n = 0;
	int r = 0;
	if (partner >= 0 && (r = ipcc_watch_add(cpu, &watch, (unsigned)partner)) == -EPIPE) {
		/* The partner is dead already: what it sent before may still be here. */
		pthread_mutex_lock(&rc->ep_lock);
		bool done = rx_take(w);
		pthread_mutex_unlock(&rc->ep_lock);
		r = done ? 0 : -EPIPE;
	} else if (r == 0) {
		/* seq_cst: pairs with wake_waiters. */
		atomic_fetch_add_explicit(&rc->waiters, 1, memory_order_seq_cst);
		struct rp_cpu *outer = waiting_on;
		waiting_on = rc;
		r = ipcc_wait_core(cpu, pred_rx, w, partner >= 0 ? &watch : NULL, timeout_ns, 0);
		waiting_on = outer;
		/* Relaxed: only makes later drains skip a wake-up. */
		atomic_fetch_sub_explicit(&rc->waiters, 1, memory_order_relaxed);
	}
	if (w->released)
		return 0; /* taken, and ep let go by pred_rx: as below, without a second lock */
	pthread_mutex_lock(&rc->ep_lock);
	if (!w->got && r == -EPIPE) {
		/* Said once: the next receive waits for any sender, or a server would see its
		 * dead client's -EPIPE at once on every receive until it sends again. A send
		 * meanwhile set a new partner: leave that one. Relaxed: see rp_cpu.partner. */
		int expected = partner + 1;
		atomic_compare_exchange_strong_explicit(&rc->partner[ep->number], &expected, 0,
							memory_order_relaxed, memory_order_relaxed);
	}
	/* The last touch of ep: once it is not receiving, another thread may close it.
	 * Release: see ipcc_rpmsg_ep.receiving. */
	atomic_store_explicit(&ep->receiving, false, memory_order_release);
	pthread_mutex_unlock(&rc->ep_lock);
	if (w->got)
		return 0; /* taken: it is the caller's even if the wait then ended otherwise */
	return r < 0 ? r : w->err;
}

IPCC_EXPORT int ipcc_rpmsg_recv(struct ipcc_rpmsg_ep *ep, void *buf, uint32_t cap,
				uint32_t *ret_len, unsigned *ret_remote, unsigned *ret_remote_ep,
				int64_t timeout_ns)
{
	if (!ret_len || (!buf && cap > 0))
		return -EINVAL;
	if (!ep)
		return -EINVAL;
	uint8_t dummy;
	struct rp_cpu *rc = ep->rc; /* the end point may be closed once the receive is over */
	struct rx_wait w = { .ep = ep, .cap = cap, .buf = buf ? buf : &dummy };
	int r = rx_call(ep, &w, timeout_ns);
	if (r == -EMSGSIZE)
		*ret_len = w.need;
	if (r < 0)
		return r;
	struct rx_buf *b = w.got;
	struct rp_peer *p = b->peer;
	if (b->len)
		memcpy(buf, rx_buffer(rc, p, b->index) + IPCC_RPMSG_HEADER_SIZE, b->len);
	*ret_len = b->len;
	if (ret_remote)
		*ret_remote = p->id;
	if (ret_remote_ep)
		*ret_remote_ep = b->src_ep;
	pthread_mutex_lock(&p->rx_lock);
	rx_give_back(p, b);
	pthread_mutex_unlock(&p->rx_lock);
	rx_ring_empty(rc, p);
	return 0;
}

IPCC_EXPORT int ipcc_rpmsg_recv_nocopy(struct ipcc_rpmsg_ep *ep, const void **ret_data,
				       uint32_t *ret_len, unsigned *ret_remote,
				       unsigned *ret_remote_ep, int64_t timeout_ns)
{
	if (!ret_data || !ret_len || !ep)
		return -EINVAL;
	struct rp_cpu *rc = ep->rc; /* the end point may be closed once the receive is over */
	struct rx_wait w = { .ep = ep };
	int r = rx_call(ep, &w, timeout_ns);
	if (r < 0)
		return r;
	struct rx_buf *b = w.got;
	struct rp_peer *p = b->peer;
	pthread_mutex_lock(&p->rx_lock);
	b->state = RX_HELD;
	pthread_mutex_unlock(&p->rx_lock);
	*ret_data = rx_buffer(rc, p, b->index) + IPCC_RPMSG_HEADER_SIZE;
	*ret_len = b->len;
	if (ret_remote)
		*ret_remote = p->id;
	if (ret_remote_ep)
		*ret_remote_ep = b->src_ep;
	return 0;
}

IPCC_EXPORT int ipcc_rpmsg_unblock(struct ipcc_rpmsg_ep *ep)
{
	if (!ep)
		return -EINVAL;
	struct rp_cpu *rc = ep->rc;
	pthread_mutex_lock(&rc->ep_lock);
	ep->unblocks++;
	ready_add(ep, 1);
	pthread_mutex_unlock(&rc->ep_lock);
	/* seq_cst: the latch before the wake (lib/bell/bell.h). */
	atomic_thread_fence(memory_order_seq_cst);
	ipcc_bell_wake_sleepers(rc->cpu->sys, rc->cpu->id);
	return 0;
}

static int rx_find(struct rp_cpu *rc, const void *data, struct rx_buf **ret)
{
	struct rp_peer *p;
	uint16_t i;
	int r = buf_find(rc, data, true, &p, &i);
	if (r == 0)
		*ret = &p->rx[i];
	return r;
}

IPCC_EXPORT int ipcc_rpmsg_hold(struct ipcc_rpmsg_ep *ep, const void *data)
{
	if (!ep || !data || cb_ep != ep || cb_data != data)
		return -EINVAL;
	struct rx_buf *b = NULL;
	if (rx_find(ep->rc, data, &b) < 0)
		return -EINVAL;
	pthread_mutex_lock(&b->peer->rx_lock);
	int r = b->state == RX_CALLBACK ? 0 : -EALREADY;
	if (r == 0) {
		b->peer->in_work--; /* RX_CALLBACK: the application's now */
		b->state = RX_HELD;
	}
	pthread_mutex_unlock(&b->peer->rx_lock);
	return r;
}

IPCC_EXPORT int ipcc_rpmsg_release(struct ipcc_cpu *cpu, const void *data)
{
	struct rp_cpu *rc;
	struct rx_buf *b = NULL;
	if (!data)
		return -EINVAL;
	int r = cpu_check(cpu, &rc);
	if (r < 0)
		return r;
	r = rx_find(rc, data, &b);
	if (r < 0)
		return r;
	struct rp_peer *p = b->peer;
	pthread_mutex_lock(&p->rx_lock);
	if (b->state != RX_HELD) {
		pthread_mutex_unlock(&p->rx_lock);
		return -EALREADY;
	}
	rx_give_back(p, b);
	rx_stats(p);
	pthread_mutex_unlock(&p->rx_lock);
	rx_ring_empty(rc, p);
	return 0;
}

/* ---- name service ------------------------------------------------------------------------- */

/* A control packet to every peer in `to` (best effort), else a kick: they rescan our table. */
static void ns_tell(struct rp_cpu *rc, uint64_t to, const char *name, unsigned ep, bool destroy)
{
	uint8_t msg[NS_MSG_SIZE] = { 0 };
	memcpy(msg, name, strnlen(name, IPCC_RPMSG_NAME_MAX));
	uint32_t addr = ep, flags = destroy ? NS_FLAG_DESTROY : 0;
	memcpy(msg + 32, &addr, 4);
	memcpy(msg + 36, &flags, 4);
	for (unsigned i = 0; i < rc->npeers; i++) {
		struct rp_peer *p = rc->list[i];
		if (!(to >> p->id & 1))
			continue;
		if (send_copy(rc->cpu, msg, NS_MSG_SIZE, p->id, IPCC_RPMSG_ENDPT_CTRL,
			      IPCC_RPMSG_ENDPT_CTRL, 0, true) < 0)
			(void)ipcc_notify_kick(rc->cpu, p->id, NOTIFY_NS);
	}
}

static void ns_kick_all(struct rp_cpu *rc, uint64_t to)
{
	for (unsigned i = 0; i < rc->npeers; i++)
		if (to >> rc->list[i]->id & 1)
			(void)ipcc_notify_kick(rc->cpu, rc->list[i]->id, NOTIFY_NS);
}

/* Withdraw every name of end point ep_number (ep_lock held); *ret_to: whom to tell. */
static int name_withdraw(struct rp_cpu *rc, unsigned ep_number, uint64_t *ret_to)
{
	int n = 0;
	for (unsigned i = 0; i < IPCC_RPMSG_NAMES_MAX; i++) {
		if (!rc->my_names[i][0] || rc->my_name_ep[i] != ep_number)
			continue;
		/* Relaxed: our own entry. */
		*ret_to |= atomic_load_explicit(&rc->table->names[i].to, memory_order_relaxed);
		table_name_write(rc, i, NULL, 0, 0);
		rc->my_names[i][0] = 0;
		n++;
	}
	return n;
}

IPCC_EXPORT int ipcc_rpmsg_announce(struct ipcc_rpmsg_ep *ep, const char *name, unsigned remote)
{
	if (!ep || !name || !name_valid(name))
		return -EINVAL;
	struct rp_cpu *rc = ep->rc;
	if (ipcc_cpu_stale(rc->cpu))
		return -ESTALE;
	uint64_t to = 0;
	if (remote == IPCC_RPMSG_CPU_ALL) {
		for (unsigned i = 0; i < rc->npeers; i++)
			to |= 1ull << rc->list[i]->id;
	} else {
		struct rp_peer *p;
		int r = peer_get(rc->cpu, rc, remote, &p);
		if (r < 0)
			return r == -ENOENT ? -ENOPROTOOPT : r;
		to = 1ull << remote;
	}
	pthread_mutex_lock(&rc->ep_lock);
	int r = 0, slot = -1;
	if (rc->eps[ep->number] != ep)
		r = -EINVAL;
	for (unsigned i = 0; i < IPCC_RPMSG_NAMES_MAX && r == 0; i++) {
		if (rc->my_names[i][0] && strcmp(rc->my_names[i], name) == 0)
			r = -EEXIST;
		else if (!rc->my_names[i][0] && slot < 0)
			slot = (int)i;
	}
	if (r == 0 && slot < 0)
		r = -ENOSPC;
	if (r == 0) {
		snprintf(rc->my_names[slot], sizeof(rc->my_names[slot]), "%s", name);
		rc->my_name_ep[slot] = ep->number;
		table_name_write(rc, (unsigned)slot, name, ep->number, to);
	}
	pthread_mutex_unlock(&rc->ep_lock);
	if (r == 0)
		ns_tell(rc, to, name, ep->number, false);
	return r;
}

struct lookup_wait {
	struct rp_cpu *rc;
	const char *name;
	unsigned cpu, ep;
};

/* Scan the attached peers' tables for name (lowest CPU first). */
static bool lookup_scan(struct lookup_wait *w)
{
	struct rp_cpu *rc = w->rc;
	struct ipcc_system *sys = rc->cpu->sys;
	for (unsigned id = 0; id < sys->geo.cpus; id++) {
		if (!rc->peer[id])
			continue;
		const struct ipcc_shm_cpu *sc = ipcc_shm_cpu(sys, id);
		const struct ipcc_shm_rpmsg_cpu *t = table_of(rc->rs, id);
		/* Acquire, both: the table is of the CPU's current incarnation. */
		uint32_t gen = atomic_load_explicit(&sc->generation, memory_order_acquire);
		if (atomic_load_explicit(&t->gen, memory_order_acquire) != gen ||
		    atomic_load_explicit(&sc->owner_state, memory_order_relaxed) !=
			    IPCC_OWNER_ATTACHED)
			continue;
		struct ipcc_rpmsg_name names[IPCC_RPMSG_NAMES_MAX];
		unsigned n = table_names_read(rc->rs, id, names, IPCC_RPMSG_NAMES_MAX);
		for (unsigned i = 0; i < n && i < IPCC_RPMSG_NAMES_MAX; i++) {
			if (!(names[i].to >> rc->cpu->id & 1) || strcmp(names[i].name, w->name))
				continue;
			/* A dead CPU's table looks alive: ask the kernel (lookups are rare). */
			if (ipcc_claim_held(sys, id) != 1)
				break;
			w->cpu = id;
			w->ep = names[i].ep;
			return true;
		}
	}
	return false;
}

static bool pred_lookup(struct ipcc_cpu *cpu, void *arg)
{
	struct lookup_wait *w = arg;
	if (lookup_scan(w))
		return true;
	ipcc_notify_drain_try(cpu);
	return lookup_scan(w);
}

IPCC_EXPORT int ipcc_rpmsg_lookup(struct ipcc_cpu *cpu, const char *name, int64_t timeout_ns,
				  unsigned *ret_remote, unsigned *ret_ep)
{
	struct rp_cpu *rc;
	if (!name || !name_valid(name) || !ret_remote || !ret_ep)
		return -EINVAL;
	int r = cpu_check(cpu, &rc);
	if (r < 0)
		return r;
	if (ipcc_notify_draining(cpu))
		return -EDEADLK;
	struct lookup_wait w = { .rc = rc, .name = name };
	/* seq_cst: pairs with wake_waiters. */
	atomic_fetch_add_explicit(&rc->waiters, 1, memory_order_seq_cst);
	struct rp_cpu *outer = waiting_on;
	waiting_on = rc;
	r = ipcc_wait_core(cpu, pred_lookup, &w, NULL, timeout_ns, 0);
	waiting_on = outer;
	/* Relaxed: only makes later drains skip a wake-up. */
	atomic_fetch_sub_explicit(&rc->waiters, 1, memory_order_relaxed);
	if (r < 0)
		return r;
	*ret_remote = w.cpu;
	*ret_ep = w.ep;
	return 0;
}

IPCC_EXPORT int ipcc_rpmsg_ns_watch(struct ipcc_cpu *cpu, ipcc_rpmsg_ns_fn fn, void *arg)
{
	struct rp_cpu *rc;
	int r = cpu_check(cpu, &rc);
	if (r < 0)
		return r;
	ipcc_notify_drain_enter(cpu);
	if (fn && rc->ns_fn) {
		r = -EEXIST;
	} else {
		rc->ns_fn = fn;
		rc->ns_arg = arg;
		for (unsigned i = 0; i < rc->npeers; i++)
			rc->list[i]->ns_report = fn != NULL;
	}
	ipcc_notify_drain_leave(cpu);
	if (r == 0 && fn)
		ipcc_notify_service_poll_all(cpu); /* report what is known now */
	return r;
}

/* ---- inspection --------------------------------------------------------------------------- */

static const struct rpmsg_sys *loaded(const struct ipcc_system *sys)
{
	const struct rpmsg_sys *rs = sys ? rsys(sys) : NULL;
	return rs && rs->loaded ? rs : NULL;
}

IPCC_EXPORT int ipcc_rpmsg_enabled(const struct ipcc_system *sys, unsigned a, unsigned b)
{
	if (!sys || a >= sys->geo.cpus || b >= sys->geo.cpus || a == b)
		return -EINVAL;
	if (!ipcc_link_get(sys, a, b))
		return -ENOENT;
	const struct rpmsg_sys *rs = loaded(sys);
	return rs && rs->rec[a][b] != NO_RECORD;
}

IPCC_EXPORT uint32_t ipcc_rpmsg_buffers(const struct ipcc_system *sys)
{
	const struct rpmsg_sys *rs = loaded(sys);
	return rs ? rs->v.buffers : 0;
}

IPCC_EXPORT uint32_t ipcc_rpmsg_buffer_size(const struct ipcc_system *sys)
{
	const struct rpmsg_sys *rs = loaded(sys);
	return rs ? rs->v.buffer_size : 0;
}

IPCC_EXPORT uint32_t ipcc_rpmsg_payload_max(const struct ipcc_system *sys)
{
	const struct rpmsg_sys *rs = loaded(sys);
	return rs ? rs->v.buffer_size - IPCC_RPMSG_HEADER_SIZE : 0;
}

IPCC_EXPORT uint32_t ipcc_rpmsg_endpoints(const struct ipcc_system *sys)
{
	const struct rpmsg_sys *rs = loaded(sys);
	return rs ? rs->endpoints : 0;
}

IPCC_EXPORT int ipcc_rpmsg_stats(const struct ipcc_system *sys, unsigned from, unsigned to,
				 struct ipcc_rpmsg_stats *ret_stats)
{
	if (!ret_stats)
		return -EINVAL;
	int on = ipcc_rpmsg_enabled(sys, from, to);
	if (on < 0)
		return on;
	if (!on)
		return -ENOPROTOOPT;
	const struct rpmsg_sys *rs = loaded(sys);
	uint8_t *vr = vring_of(rs, from, to);
	const struct ipcc_shm_rpmsg_pair *rec = rec_at(vr);
	struct ipcc_rpmsg_stats st = { 0 };
	/* Relaxed: counters for display, each written by one side. */
	st.sent = atomic_load_explicit(&rec->sent, memory_order_relaxed);
	st.nobuf = atomic_load_explicit(&rec->nobuf, memory_order_relaxed);
	st.received = atomic_load_explicit(&rec->received, memory_order_relaxed);
	st.dropped = atomic_load_explicit(&rec->dropped, memory_order_relaxed);
	st.stale = atomic_load_explicit(&rec->stale, memory_order_relaxed);
	st.bad = atomic_load_explicit(&rec->bad, memory_order_relaxed);
	st.reclaimed = atomic_load_explicit(&rec->reclaimed, memory_order_relaxed);
	st.buffers = rs->v.buffers;
	struct ipcc_queue_state qs;
	int r1 = ipcc_queue_observe(vr + rs->v.fullq, rs->v.qbytes, rs->v.buffers, DESC_SIZE, &qs);
	st.full = qs.used > rs->v.buffers ? rs->v.buffers : qs.used;
	int r2 = ipcc_queue_observe(vr + rs->v.freeq, rs->v.fqbytes, 2 * rs->v.buffers, DESC_SIZE,
				    &qs);
	st.free = qs.used > 2 * rs->v.buffers ? 2 * rs->v.buffers : qs.used;
	*ret_stats = st;
	if (r1 == -EBADMSG || r2 == -EBADMSG)
		return -EBADMSG;
	if (r1 == -EAGAIN || r2 == -EAGAIN)
		return -EAGAIN;
	return 0;
}

IPCC_EXPORT int ipcc_rpmsg_ep_is_open(const struct ipcc_system *sys, unsigned cpu, unsigned number)
{
	if (!sys || cpu >= sys->geo.cpus)
		return -EINVAL;
	const struct rpmsg_sys *rs = loaded(sys);
	if (!rs)
		return -ENOPROTOOPT;
	if (number >= rs->endpoints)
		return -ERANGE;
	const struct ipcc_shm_rpmsg_cpu *t = table_of(rs, cpu);
	/* Relaxed: a snapshot for display. */
	return (int)(atomic_load_explicit(&t->open[number / 64], memory_order_relaxed) >>
			     (number % 64) &
		     1);
}

IPCC_EXPORT int ipcc_rpmsg_names(const struct ipcc_system *sys, unsigned cpu,
				 struct ipcc_rpmsg_name *ret, unsigned cap)
{
	if (!sys || cpu >= sys->geo.cpus || (!ret && cap > 0))
		return -EINVAL;
	const struct rpmsg_sys *rs = loaded(sys);
	if (!rs)
		return -ENOPROTOOPT;
	return (int)table_names_read(rs, cpu, ret, cap);
}
