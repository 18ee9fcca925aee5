/* SPDX-License-Identifier: MIT */
/*
 * The register trace (include/ipcc/trace.h): its section type, the writers' side of its rings
 * (ipcc_trace_put, called from lib/ipcc/regs.c) and the reader's (ipcc_trace_read).
 *
 * The ring protocol, the one place its words are touched (layout.h: struct
 * ipcc_shm_trace_ring). Writers, from any process: load head, load tail (acquire), refuse if
 * head - tail reaches the ring's size (count a drop), else CAS head to head + 1 (that ticket
 * is ours), store the record's words, store seq = ticket + 1 (release). The reader: load the
 * slot of ticket tail; if its seq (acquire) is tail + 1 the record is complete: copy it; once
 * done, store tail (release). A writer reuses a slot only after seeing, through the acquire
 * load of tail, that the reader has finished copying it; the reader copies a record only after
 * seeing, through the acquire load of seq, that its writer finished it. Tickets are
 * free-running 64-bit counts: they never wrap in practice, and seq values of one slot differ
 * by the ring size from one use to the next, so a stale seq is never taken for a fresh one.
 */
#include <time.h>

#include "ipcc/trace-hooks.h"

/* ---- config ------------------------------------------------------------------------------- */

IPCC_EXPORT void ipcc_trace_config_init(struct ipcc_trace_config *tcfg)
{
	if (!tcfg)
		return;
	memset(tcfg, 0, sizeof(*tcfg));
	tcfg->ring_size = IPCC_TRACE_RING_SIZE_DEFAULT;
}

static bool pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static int config_check(const struct ipcc_trace_config *t)
{
	if (!pow2(t->ring_size) || t->ring_size < IPCC_TRACE_RING_SIZE_MIN ||
	    t->ring_size > IPCC_TRACE_RING_SIZE_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < sizeof(t->reserved0); i++)
		if (t->reserved0[i])
			return -EINVAL;
	for (unsigned i = 0; i < sizeof(t->reserved) / sizeof(t->reserved[0]); i++)
		if (t->reserved[i])
			return -EINVAL;
	return 0;
}

/* Records per ring of ring_size bytes of records (a power of two: a ticket's slot is a mask). */
static uint32_t ring_records(uint32_t ring_size)
{
	return ring_size / IPCC_SHM_TRACE_RECORD_SIZE;
}

static uint32_t ring_stride(uint32_t records)
{
	return IPCC_SHM_TRACE_RING_SIZE + records * IPCC_SHM_TRACE_RECORD_SIZE;
}

static bool records_ok(uint32_t records)
{
	return pow2(records) && records >= ring_records(IPCC_TRACE_RING_SIZE_MIN) &&
	       records <= ring_records(IPCC_TRACE_RING_SIZE_MAX);
}

/* ---- the section type --------------------------------------------------------------------- */

static int trace_plan(const struct ipcc_config *cfg, const struct ipcc_geometry *g,
		      struct ipcc_shm_section *out, unsigned cap)
{
	if (!cfg->trace)
		return 0;
	if (config_check(cfg->trace) < 0 || cap < 1)
		return -EINVAL;
	uint32_t records = ring_records(cfg->trace->ring_size);
	out[0] = (struct ipcc_shm_section){
		.size = IPCC_SHM_TRACE_HEAD_SIZE + (uint64_t)(g->cpus + 1) * ring_stride(records),
		.count = g->cpus + 1,
		.stride = ring_stride(records),
		.owner = IPCC_SECTION_OWNER_NONE,
		.arg = records,
	};
	return 1;
}

static int trace_check(struct ipcc_geometry *g, const struct ipcc_shm_section *s)
{
	if (!records_ok(s->arg) || s->stride != ring_stride(s->arg) || s->count != g->cpus + 1 ||
	    s->owner != IPCC_SECTION_OWNER_NONE ||
	    s->size != IPCC_SHM_TRACE_HEAD_SIZE + (uint64_t)s->count * s->stride)
		return -EUCLEAN;
	return 0;
}

static void trace_init(struct ipcc_system *sys, const struct ipcc_shm_section *s,
		       const struct ipcc_config *cfg)
{
	struct ipcc_shm_trace_head *h = (struct ipcc_shm_trace_head *)(sys->base + s->offset);

	h->magic = IPCC_TRACE_MAGIC;
	h->records = s->arg;
	h->rings = s->count;
	h->record_size = IPCC_SHM_TRACE_RECORD_SIZE;
	/* Relaxed: nobody else sees the object before READY (a release in the creator). */
	atomic_store_explicit(&h->enabled, cfg->trace->enabled, memory_order_relaxed);
}

static int trace_load(struct ipcc_system *sys, const struct ipcc_shm_section *s)
{
	struct ipcc_shm_trace_head *h = (struct ipcc_shm_trace_head *)(sys->base + s->offset);

	if (sys->trace.head)
		return -EUCLEAN; /* a second trace section */
	if (h->magic != IPCC_TRACE_MAGIC || h->records != s->arg || h->rings != s->count ||
	    h->record_size != IPCC_SHM_TRACE_RECORD_SIZE)
		return -EUCLEAN;
	sys->trace = (struct ipcc_trace_view){
		.head = h,
		.rings = sys->base + s->offset + IPCC_SHM_TRACE_HEAD_SIZE,
		.records = s->arg,
		.stride = s->stride,
		.count = s->count,
	};
	return 0;
}

/* ipcc_system_open_or_create: a trace asked for is there with its ring size, or none is. */
static bool trace_matches(const struct ipcc_system *sys, const struct ipcc_config *cfg)
{
	if (!cfg->trace)
		return sys->trace.head == NULL;
	return sys->trace.head && config_check(cfg->trace) == 0 &&
	       sys->trace.records == ring_records(cfg->trace->ring_size);
}

const struct ipcc_section_type ipcc_section_trace = {
	.type = IPCC_SECTION_TRACE,
	.name = "trace",
	.layer = "ipcc",
	.required = false,
	.plan = trace_plan,
	.check = trace_check,
	.init = trace_init,
	.load = trace_load,
	.matches = trace_matches,
};

/* ---- the rings ---------------------------------------------------------------------------- */

static struct ipcc_shm_trace_ring *ring_at(const struct ipcc_trace_view *v, unsigned i)
{
	return (struct ipcc_shm_trace_ring *)(v->rings + (uint64_t)i * v->stride);
}

static struct ipcc_shm_trace_record *slot_at(const struct ipcc_trace_view *v,
					     struct ipcc_shm_trace_ring *r, uint64_t ticket)
{
	struct ipcc_shm_trace_record *recs = (struct ipcc_shm_trace_record *)(r + 1);
	return &recs[ticket & (v->records - 1)];
}

/* How often a writer tries to take a slot before it drops its record (ipcc_trace_put). */
#define TRACE_PUT_TRIES 64u

uint64_t ipcc_trace_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return ns ? ns : 1;
}

void ipcc_trace_put(struct ipcc_system *sys, uint64_t t, const struct ipcc_link *l, unsigned writer,
		    unsigned kind, unsigned p, uint32_t value, uint32_t mask)
{
	const struct ipcc_trace_view *v = &sys->trace;
	unsigned ring = writer == IPCC_TRACE_NO_CPU ? v->count - 1 : writer;
	struct ipcc_shm_trace_ring *r = ring_at(v, ring);

	assert(ring < v->count);
	/* Relaxed: the CAS below decides; a stale head only fails it. */
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	/*
	 * A bounded number of tries: another process can keep rewriting head so that every CAS
	 * fails, and the writer (a register write, a fault handler) must never wait on it. Past
	 * the bound the record is dropped and counted, as for a full ring.
	 */
	for (unsigned tries = 0;; tries++) {
		/* Acquire: pairs with the release store of tail in ipcc_trace_read, so that the
		 * reader's copy of the slot we may reuse is done. */
		uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (head - tail >= v->records || tries == TRACE_PUT_TRIES) {
			/* Relaxed: a statistic, read alone. */
			atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
			return;
		}
		/* Relaxed both ways: the ticket orders nothing; the record is published by seq. */
		if (atomic_compare_exchange_weak_explicit(
			    &r->head, &head, head + 1, memory_order_relaxed, memory_order_relaxed))
			break;
	}
	struct ipcc_shm_trace_record *rec = slot_at(v, r, head);
	uint64_t what =
		(uint64_t)l->index << 32 | (uint64_t)(writer & 0xFFFFu) << 16 | kind << 8 | p;
	/* Relaxed: published by the release store of seq below. */
	atomic_store_explicit(&rec->time, t, memory_order_relaxed);
	atomic_store_explicit(&rec->what, what, memory_order_relaxed);
	atomic_store_explicit(&rec->value, (uint64_t)mask << 32 | value, memory_order_relaxed);
	/* Release: the words above before the reader's acquire load of seq (ipcc_trace_read). */
	atomic_store_explicit(&rec->seq, head + 1, memory_order_release);
}

/* ---- the API ------------------------------------------------------------------------------ */

static int view_get(const struct ipcc_system *sys, const struct ipcc_trace_view **ret)
{
	if (!sys)
		return -EINVAL;
	if (!sys->trace.head)
		return -EOPNOTSUPP;
	*ret = &sys->trace;
	return 0;
}

IPCC_EXPORT int ipcc_trace_enable(struct ipcc_system *sys, bool on)
{
	const struct ipcc_trace_view *v;
	int r = view_get(sys, &v);
	if (r < 0)
		return r;
	if (sys->readonly)
		return -EROFS;
	/* Relaxed: the switch orders nothing (see ipcc_trace_begin). */
	atomic_store_explicit(&v->head->enabled, on, memory_order_relaxed);
	return 0;
}

IPCC_EXPORT int ipcc_trace_enabled(const struct ipcc_system *sys)
{
	const struct ipcc_trace_view *v;
	int r = view_get(sys, &v);
	if (r < 0)
		return r;
	/* Relaxed: a reading of the switch, ordered with nothing. */
	return atomic_load_explicit(&v->head->enabled, memory_order_relaxed) != 0;
}

IPCC_EXPORT int ipcc_trace_rings(const struct ipcc_system *sys)
{
	const struct ipcc_trace_view *v;
	int r = view_get(sys, &v);
	return r < 0 ? r : (int)v->count;
}

IPCC_EXPORT int ipcc_trace_dropped(const struct ipcc_system *sys, unsigned ring,
				   uint64_t *ret_count)
{
	const struct ipcc_trace_view *v;
	int r = view_get(sys, &v);
	if (r < 0)
		return r;
	if (ring >= v->count || !ret_count)
		return -EINVAL;
	/* Relaxed: a statistic. */
	*ret_count = atomic_load_explicit(&ring_at(v, ring)->dropped, memory_order_relaxed);
	return 0;
}

/* Decode a record's words (written by any process: checked) into *ret; false to skip it. */
static bool record_decode(const struct ipcc_system *sys, uint64_t time, uint64_t what,
			  uint64_t value, struct ipcc_trace_record *ret)
{
	uint32_t link = (uint32_t)(what >> 32);
	unsigned writer = (what >> 16) & 0xFFFFu, kind = (what >> 8) & 0xFFu, p = what & 0xFFu;

	if (link >= sys->geo.link_count || kind < IPCC_TRACE_CR || kind > IPCC_TRACE_NOTIFY_RECV ||
	    p > 1 || (writer >= sys->geo.cpus && writer != IPCC_TRACE_NO_CPU))
		return false;
	const struct ipcc_link *l = &sys->links[link];
	*ret = (struct ipcc_trace_record){
		.time_ns = time,
		.value = (uint32_t)value,
		.mask = (uint32_t)(value >> 32),
		.cpu = (uint16_t)writer,
		.kind = (uint8_t)kind,
		.proc = kind == IPCC_TRACE_LINES ? 0 : (uint8_t)(p + 1),
		.cpu1 = (uint16_t)l->cpu[0],
		.cpu2 = (uint16_t)l->cpu[1],
	};
	return true;
}

IPCC_EXPORT int ipcc_trace_read(struct ipcc_system *sys, unsigned ring,
				struct ipcc_trace_record *ret, unsigned cap)
{
	const struct ipcc_trace_view *v;
	int r = view_get(sys, &v);
	if (r < 0)
		return r;
	if (ring >= v->count || (!ret && cap))
		return -EINVAL;
	if (sys->readonly)
		return -EROFS;
	struct ipcc_shm_trace_ring *rg = ring_at(v, ring);
	/* Relaxed: only the reader writes tail. */
	uint64_t tail = atomic_load_explicit(&rg->tail, memory_order_relaxed), start = tail;
	unsigned n = 0;
	/* At most a ring's worth of slots per call, valid or not: a peer publishing garbage as
	 * fast as we skip it cannot keep the call from returning. */
	while (n < cap && tail - start < v->records) {
		struct ipcc_shm_trace_record *rec = slot_at(v, rg, tail);
		/* Acquire: pairs with the release store of seq in ipcc_trace_put. */
		if (atomic_load_explicit(&rec->seq, memory_order_acquire) != tail + 1)
			break;
		/* Relaxed: ordered after seq by the acquire above, before tail by its release. */
		uint64_t time = atomic_load_explicit(&rec->time, memory_order_relaxed);
		uint64_t what = atomic_load_explicit(&rec->what, memory_order_relaxed);
		uint64_t value = atomic_load_explicit(&rec->value, memory_order_relaxed);
		tail++;
		if (record_decode(sys, time, what, value, &ret[n]))
			n++;
	}
	if (tail != start)
		/* Release: our copies before a writer's reuse of the slots (ipcc_trace_put). */
		atomic_store_explicit(&rg->tail, tail, memory_order_release);
	return (int)n;
}
