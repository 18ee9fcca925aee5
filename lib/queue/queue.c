/* SPDX-License-Identifier: MIT */
/*
 * The SPSC queues of queue.h. This file is the only one that touches the indices: the
 * protocol is proved here.
 *
 *   producer: write entries (plain stores) -> release-store head      (commit)
 *   consumer: acquire-load head -> read entries -> release-store tail (peek ... release)
 *   producer: acquire-load tail -> overwrite the slots given back     (claim)
 *
 * load_head() and load_tail() are the only loads of the other side's index after attach; each
 * validates what it read against what this side knows for certain (its own index, the last
 * value it accepted, the capacity), so every offset computed afterwards stays inside the
 * storage whatever the peer wrote.
 */
#include <errno.h>
#include <string.h>

#include "queue/queue.h"

#define align8(x) (((x) + (IPCC_PRING_ALIGN - 1)) & ~(IPCC_PRING_ALIGN - 1))

static bool pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

static bool queue_geometry_ok(uint32_t capacity, uint32_t entry_size)
{
	return pow2(capacity) && capacity <= IPCC_QUEUE_CAPACITY_MAX && entry_size >= 1 &&
	       entry_size <= IPCC_QUEUE_ENTRY_MAX &&
	       (uint64_t)capacity * entry_size <= IPCC_QUEUE_BYTES_MAX;
}

static bool pring_geometry_ok(uint32_t bytes)
{
	return pow2(bytes) && bytes >= IPCC_PRING_BYTES_MIN && bytes <= IPCC_QUEUE_BYTES_MAX;
}

static bool memory_ok(const void *mem, size_t size, uint64_t storage)
{
	return mem && !((uintptr_t)mem % IPCC_QUEUE_LINE) && size >= IPCC_QUEUE_META_SIZE + storage;
}

static void meta_init(struct ipcc_queue_meta *m, uint32_t magic, uint32_t capacity,
		      uint32_t entry_size)
{
	memset(m, 0, sizeof(*m));
	m->magic = magic;
	m->version = IPCC_QUEUE_VERSION;
	m->capacity = capacity;
	m->entry_size = entry_size;
	/*
	 * Relaxed: init runs before any handle exists; whatever hands the memory to the peers
	 * (the region's creation protocol) orders these stores before their attach.
	 */
	atomic_store_explicit(&m->head, 0, memory_order_relaxed);
	atomic_store_explicit(&m->tail, 0, memory_order_relaxed);
}

/* Line 0 is only compared, never used: the geometry is the caller's. */
static bool meta_describes(const struct ipcc_queue_meta *m, uint32_t magic, uint32_t capacity,
			   uint32_t entry_size)
{
	return m->magic == magic && m->version == IPCC_QUEUE_VERSION && m->capacity == capacity &&
	       m->entry_size == entry_size;
}

/*
 * Attach: read both indices. The own one is read back only here (after a restart this side
 * goes on where it stopped); from now on the handle's copy is the truth.
 */
static int meta_attach(struct ipcc_queue_meta *m, enum ipcc_queue_role role, uint32_t limit,
		       uint32_t align_mask, uint32_t *ret_index, uint32_t *ret_peer)
{
	/*
	 * Acquire on both: the consumer must see the entries before head, the producer must not
	 * overwrite what the consumer reads before tail. They pair with the release stores in
	 * publish_head and publish_tail, of this handle's predecessor too. Only the other
	 * side's index moves meanwhile, so the two loads need no snapshot.
	 */
	uint32_t head = atomic_load_explicit(&m->head, memory_order_acquire);
	uint32_t tail = atomic_load_explicit(&m->tail, memory_order_acquire);

	if (head - tail > limit || ((head | tail) & align_mask))
		return -EBADMSG;
	*ret_index = role == IPCC_QUEUE_PRODUCER ? head : tail;
	*ret_peer = role == IPCC_QUEUE_PRODUCER ? tail : head;
	return 0;
}

/*
 * Producer: reload tail into *peer. Valid only in [*peer, head]: the consumer never moves back
 * and never passes what was published. align_mask: low bits that must be clear.
 */
static int load_tail(struct ipcc_queue_meta *m, uint32_t head, uint32_t align_mask, uint32_t *peer)
{
	/*
	 * Acquire: pairs with the release store in publish_tail, so that the consumer's reads
	 * of the slots it gave back happen before the producer overwrites them.
	 */
	uint32_t tail = atomic_load_explicit(&m->tail, memory_order_acquire);

	if (tail - *peer > head - *peer || (tail & align_mask))
		return -EBADMSG;
	*peer = tail;
	return 0;
}

/* Consumer: reload head into *peer. Valid only in [*peer, tail + limit]. */
static int load_head(struct ipcc_queue_meta *m, uint32_t tail, uint32_t limit, uint32_t align_mask,
		     uint32_t *peer)
{
	/*
	 * Acquire: pairs with the release store in publish_head, so that the entries before
	 * head are written before they are read.
	 */
	uint32_t head = atomic_load_explicit(&m->head, memory_order_acquire);
	uint32_t used = head - tail;

	if (used > limit || used < *peer - tail || (head & align_mask))
		return -EBADMSG;
	*peer = head;
	return 0;
}

static void publish_head(struct ipcc_queue_meta *m, uint32_t head)
{
	/*
	 * Release: the entries (or packet records) before head are written before head says
	 * so; pairs with the acquire loads in load_head, meta_attach and
	 * ipcc_pring_observer_read.
	 */
	atomic_store_explicit(&m->head, head, memory_order_release);
}

static void publish_tail(struct ipcc_queue_meta *m, uint32_t tail)
{
	/*
	 * Release: this side's reads of the entries before tail are done before the producer
	 * may reuse them; pairs with the acquire loads in load_tail and meta_attach.
	 */
	atomic_store_explicit(&m->tail, tail, memory_order_release);
}

/*
 * A snapshot: tail, head, tail again. When both tails agree, tail had that value when head was
 * read (it only grows), so the pair is one state of the queue and may be judged; a queue that
 * moves on every try is reported as busy rather than as broken.
 */
static int observe(const struct ipcc_queue_meta *m, uint32_t limit,
		   struct ipcc_queue_state *ret_state, bool described)
{
	for (unsigned tries = 0; tries < 8; tries++) {
		/*
		 * Acquire on the first two: not for any entry (an inspector reads none) but to
		 * keep the three loads in this order, which the snapshot argument needs.
		 */
		uint32_t tail = atomic_load_explicit(&m->tail, memory_order_acquire);
		uint32_t head = atomic_load_explicit(&m->head, memory_order_acquire);
		/* Relaxed: the last load; nothing after it depends on its order. */
		if (atomic_load_explicit(&m->tail, memory_order_relaxed) != tail)
			continue;
		*ret_state = (struct ipcc_queue_state){
			.head = head,
			.tail = tail,
			.used = head - tail,
			.capacity = limit,
			.described = described,
		};
		return head - tail > limit ? -EBADMSG : 0;
	}
	return -EAGAIN;
}

/* ---- fixed-size entries --------------------------------------------------------------------- */

int ipcc_queue_size(uint32_t capacity, uint32_t entry_size, size_t *ret_size)
{
	if (!ret_size || !queue_geometry_ok(capacity, entry_size))
		return -EINVAL;
	*ret_size = IPCC_QUEUE_META_SIZE + (size_t)capacity * entry_size;
	return 0;
}

int ipcc_queue_init(void *mem, size_t size, uint32_t capacity, uint32_t entry_size)
{
	if (!queue_geometry_ok(capacity, entry_size) ||
	    !memory_ok(mem, size, (uint64_t)capacity * entry_size))
		return -EINVAL;
	meta_init(mem, IPCC_QUEUE_MAGIC, capacity, entry_size);
	return 0;
}

int ipcc_queue_attach(struct ipcc_queue *q, void *mem, size_t size, uint32_t capacity,
		      uint32_t entry_size, enum ipcc_queue_role role)
{
	if (!q || (role != IPCC_QUEUE_PRODUCER && role != IPCC_QUEUE_CONSUMER) ||
	    !queue_geometry_ok(capacity, entry_size) ||
	    !memory_ok(mem, size, (uint64_t)capacity * entry_size))
		return -EINVAL;
	struct ipcc_queue_meta *m = mem;
	uint32_t index, peer;
	if (!meta_describes(m, IPCC_QUEUE_MAGIC, capacity, entry_size))
		return -EBADMSG;
	int r = meta_attach(m, role, capacity, 0, &index, &peer);
	if (r < 0)
		return r;
	*q = (struct ipcc_queue){
		.meta = m,
		.slots = (uint8_t *)mem + IPCC_QUEUE_META_SIZE,
		.capacity = capacity,
		.mask = capacity - 1,
		.entry_size = entry_size,
		.role = role,
		.index = index,
		.peer = peer,
	};
	return 0;
}

/* The run of slots from the own index: at most `avail`, `want`, and up to the storage end. */
static uint32_t queue_run(const struct ipcc_queue *q, uint32_t avail, uint32_t want)
{
	uint32_t to_end = q->capacity - (q->index & q->mask);
	uint32_t n = avail < want ? avail : want;
	return n < to_end ? n : to_end;
}

static void *queue_slot(const struct ipcc_queue *q)
{
	return q->slots + (size_t)(q->index & q->mask) * q->entry_size;
}

int ipcc_queue_claim(struct ipcc_queue *q, uint32_t want, void **ret_slots)
{
	if (!q || q->role != IPCC_QUEUE_PRODUCER || !want || !ret_slots)
		return -EINVAL;
	uint32_t free = q->capacity - (q->index - q->peer);
	if (!free) {
		int r = load_tail(q->meta, q->index, 0, &q->peer);
		if (r < 0)
			return r;
		free = q->capacity - (q->index - q->peer);
		if (!free)
			return -EAGAIN;
	}
	q->pending = queue_run(q, free, want);
	*ret_slots = queue_slot(q);
	return (int)q->pending;
}

int ipcc_queue_commit(struct ipcc_queue *q, uint32_t n)
{
	if (!q || q->role != IPCC_QUEUE_PRODUCER || n > q->pending)
		return -EINVAL;
	q->pending = 0;
	if (!n)
		return 0;
	q->index += n;
	publish_head(q->meta, q->index);
	return 0;
}

int ipcc_queue_push(struct ipcc_queue *q, const void *entry)
{
	void *slot;
	if (!entry)
		return -EINVAL;
	int r = ipcc_queue_claim(q, 1, &slot);
	if (r < 0)
		return r;
	memcpy(slot, entry, q->entry_size);
	return ipcc_queue_commit(q, 1);
}

int ipcc_queue_space(struct ipcc_queue *q)
{
	if (!q || q->role != IPCC_QUEUE_PRODUCER)
		return -EINVAL;
	int r = load_tail(q->meta, q->index, 0, &q->peer);
	return r < 0 ? r : (int)(q->capacity - (q->index - q->peer));
}

int ipcc_queue_peek(struct ipcc_queue *q, uint32_t want, const void **ret_slots)
{
	if (!q || q->role != IPCC_QUEUE_CONSUMER || !want || !ret_slots)
		return -EINVAL;
	uint32_t avail = q->peer - q->index;
	if (!avail) {
		int r = load_head(q->meta, q->index, q->capacity, 0, &q->peer);
		if (r < 0)
			return r;
		avail = q->peer - q->index;
		if (!avail)
			return -EAGAIN;
	}
	q->pending = queue_run(q, avail, want);
	*ret_slots = queue_slot(q);
	return (int)q->pending;
}

int ipcc_queue_release(struct ipcc_queue *q, uint32_t n)
{
	if (!q || q->role != IPCC_QUEUE_CONSUMER || n > q->pending)
		return -EINVAL;
	q->pending = 0;
	if (!n)
		return 0;
	q->index += n;
	publish_tail(q->meta, q->index);
	return 0;
}

int ipcc_queue_pop(struct ipcc_queue *q, void *ret_entry)
{
	const void *slot;
	if (!ret_entry)
		return -EINVAL;
	int r = ipcc_queue_peek(q, 1, &slot);
	if (r < 0)
		return r;
	memcpy(ret_entry, slot, q->entry_size);
	return ipcc_queue_release(q, 1);
}

int ipcc_queue_available(struct ipcc_queue *q)
{
	if (!q || q->role != IPCC_QUEUE_CONSUMER)
		return -EINVAL;
	int r = load_head(q->meta, q->index, q->capacity, 0, &q->peer);
	return r < 0 ? r : (int)(q->peer - q->index);
}

int ipcc_queue_observe(const void *mem, size_t size, uint32_t capacity, uint32_t entry_size,
		       struct ipcc_queue_state *ret_state)
{
	if (!ret_state || !queue_geometry_ok(capacity, entry_size) ||
	    !memory_ok(mem, size, (uint64_t)capacity * entry_size))
		return -EINVAL;
	const struct ipcc_queue_meta *m = mem;
	return observe(m, capacity, ret_state,
		       meta_describes(m, IPCC_QUEUE_MAGIC, capacity, entry_size));
}

/* ---- variable-length packets ---------------------------------------------------------------- */

/*
 * A record's length word. Relaxed atomic accesses: the ordering comes from head (written
 * before the release in publish_head, read after the acquire in load_head); atomic so that the
 * consumer reads a peer-written length exactly once and validates the value it uses.
 */
static void record_set(uint8_t *at, uint32_t len)
{
	atomic_store_explicit((_Atomic uint32_t *)at, len, memory_order_relaxed);
}

static uint32_t record_len(const uint8_t *at)
{
	return atomic_load_explicit((_Atomic uint32_t *)at, memory_order_relaxed);
}

int ipcc_pring_size(uint32_t bytes, size_t *ret_size)
{
	if (!ret_size || !pring_geometry_ok(bytes))
		return -EINVAL;
	*ret_size = IPCC_QUEUE_META_SIZE + (size_t)bytes;
	return 0;
}

int ipcc_pring_init(void *mem, size_t size, uint32_t bytes)
{
	if (!pring_geometry_ok(bytes) || !memory_ok(mem, size, bytes))
		return -EINVAL;
	meta_init(mem, IPCC_PRING_MAGIC, bytes, 0);
	return 0;
}

int ipcc_pring_attach(struct ipcc_pring *r, void *mem, size_t size, uint32_t bytes,
		      enum ipcc_queue_role role)
{
	if (!r || (role != IPCC_QUEUE_PRODUCER && role != IPCC_QUEUE_CONSUMER) ||
	    !pring_geometry_ok(bytes) || !memory_ok(mem, size, bytes))
		return -EINVAL;
	struct ipcc_queue_meta *m = mem;
	uint32_t index, peer;
	if (!meta_describes(m, IPCC_PRING_MAGIC, bytes, 0))
		return -EBADMSG;
	int e = meta_attach(m, role, bytes, IPCC_PRING_ALIGN - 1, &index, &peer);
	if (e < 0)
		return e;
	*r = (struct ipcc_pring){
		.meta = m,
		.data = (uint8_t *)mem + IPCC_QUEUE_META_SIZE,
		.bytes = bytes,
		.mask = bytes - 1,
		.role = role,
		.index = index,
		.peer = peer,
	};
	return 0;
}

/*
 * A record never wraps: when it does not fit before the storage end, a padding record fills
 * the rest and the record starts at offset 0. Padding and record are published by one store
 * of head, so a padding record is always followed by a record within the published bytes.
 */
int ipcc_pring_claim(struct ipcc_pring *r, uint32_t len, void **ret_data)
{
	if (!r || r->role != IPCC_QUEUE_PRODUCER || !ret_data)
		return -EINVAL;
	if (len > ipcc_pring_max_packet(r->bytes))
		return -EMSGSIZE;
	uint32_t rec = align8(IPCC_PRING_HEADER + len);
	uint32_t off = r->index & r->mask;
	uint32_t pad = r->bytes - off >= rec ? 0 : r->bytes - off;
	if (r->bytes - (r->index - r->peer) < pad + rec) {
		int e = load_tail(r->meta, r->index, IPCC_PRING_ALIGN - 1, &r->peer);
		if (e < 0)
			return e;
		if (r->bytes - (r->index - r->peer) < pad + rec)
			return -EAGAIN;
	}
	r->claim = len;
	r->pad = pad;
	r->pending = true;
	*ret_data = r->data + (pad ? 0 : off) + IPCC_PRING_HEADER;
	return 0;
}

int ipcc_pring_commit(struct ipcc_pring *r, uint32_t len)
{
	if (!r || r->role != IPCC_QUEUE_PRODUCER || !r->pending || len > r->claim)
		return -EINVAL;
	uint32_t off = r->index & r->mask;
	if (r->pad) {
		record_set(r->data + off, IPCC_PRING_PAD);
		off = 0;
	}
	record_set(r->data + off, len);
	r->index += r->pad + align8(IPCC_PRING_HEADER + len);
	r->pending = false;
	publish_head(r->meta, r->index);
	return 0;
}

int ipcc_pring_push(struct ipcc_pring *r, const void *data, uint32_t len)
{
	void *at;
	if (!data && len)
		return -EINVAL;
	int e = ipcc_pring_claim(r, len, &at);
	if (e < 0)
		return e;
	if (len)
		memcpy(at, data, len);
	return ipcc_pring_commit(r, len);
}

/*
 * The record at `pos`, below the validated `head` (both multiples of 8, so head - pos >= 8 and
 * the offset is at most bytes - 8): its length, or -EBADMSG; the payload offset in *ret_off,
 * the position after it (padding included) in *ret_next. Reads only [pos, head) of the storage.
 */
static int pring_record(const uint8_t *data, uint32_t bytes, uint32_t pos, uint32_t head,
			uint32_t *ret_off, uint32_t *ret_next)
{
	uint32_t avail = head - pos;
	uint32_t off = pos & (bytes - 1);
	uint32_t len = record_len(data + off);
	if (len == IPCC_PRING_PAD) {
		uint32_t skip = bytes - off;
		if (!off || skip >= avail)
			return -EBADMSG;
		pos += skip;
		avail -= skip;
		off = 0;
		len = record_len(data);
	}
	if (len > avail - IPCC_PRING_HEADER || len > bytes - off - IPCC_PRING_HEADER)
		return -EBADMSG;
	*ret_off = off;
	*ret_next = pos + align8(IPCC_PRING_HEADER + len);
	return (int)len;
}

/*
 * Everything read from the storage is checked against the validated head before it is used:
 * a padding record must be followed by published bytes (and is never at offset 0, where the
 * producer never writes one), and a record must lie within the published bytes and before
 * the storage end.
 */
int ipcc_pring_peek(struct ipcc_pring *r, const void **ret_data)
{
	if (!r || r->role != IPCC_QUEUE_CONSUMER || !ret_data)
		return -EINVAL;
	if (r->peer == r->index) {
		int e = load_head(r->meta, r->index, r->bytes, IPCC_PRING_ALIGN - 1, &r->peer);
		if (e < 0)
			return e;
		if (r->peer == r->index)
			return -EAGAIN;
	}
	uint32_t off, next;
	int len = pring_record(r->data, r->bytes, r->index, r->peer, &off, &next);
	if (len < 0)
		return len;
	r->claim = next;
	r->pending = true;
	*ret_data = r->data + off + IPCC_PRING_HEADER;
	return len;
}

int ipcc_pring_release(struct ipcc_pring *r)
{
	if (!r || r->role != IPCC_QUEUE_CONSUMER || !r->pending)
		return -EINVAL;
	r->index = r->claim;
	r->pending = false;
	publish_tail(r->meta, r->index);
	return 0;
}

int ipcc_pring_pop(struct ipcc_pring *r, void *buf, uint32_t buf_size)
{
	const void *at;
	if (!buf && buf_size)
		return -EINVAL;
	int len = ipcc_pring_peek(r, &at);
	if (len < 0)
		return len;
	if ((uint32_t)len > buf_size) {
		r->pending = false;
		return -EMSGSIZE;
	}
	if (len)
		memcpy(buf, at, (size_t)len);
	ipcc_pring_release(r);
	return len;
}

int ipcc_pring_observe(const void *mem, size_t size, uint32_t bytes,
		       struct ipcc_queue_state *ret_state)
{
	if (!ret_state || !pring_geometry_ok(bytes) || !memory_ok(mem, size, bytes))
		return -EINVAL;
	const struct ipcc_queue_meta *m = mem;
	return observe(m, bytes, ret_state, meta_describes(m, IPCC_PRING_MAGIC, bytes, 0));
}

/* ---- observers ------------------------------------------------------------------------------ */

int ipcc_pring_observer_attach(struct ipcc_pring_observer *o, const void *mem, size_t size,
			       uint32_t bytes)
{
	if (!o || !pring_geometry_ok(bytes) || !memory_ok(mem, size, bytes))
		return -EINVAL;
	const struct ipcc_queue_meta *m = mem;
	if (!meta_describes(m, IPCC_PRING_MAGIC, bytes, 0))
		return -EBADMSG;
	/* Acquire: only to read tail after line 0; the position is checked again at each read. */
	uint32_t tail = atomic_load_explicit(&m->tail, memory_order_acquire);
	if (tail & (IPCC_PRING_ALIGN - 1))
		return -EBADMSG;
	*o = (struct ipcc_pring_observer){
		.meta = m,
		.data = (const uint8_t *)mem + IPCC_QUEUE_META_SIZE,
		.bytes = bytes,
		.pos = tail,
	};
	return 0;
}

/* The records at the observer's position may be gone: go on from tail. */
static int observer_lapped(struct ipcc_pring_observer *o)
{
	/*
	 * Relaxed: the new position is only a number here; the next read checks it against a
	 * freshly acquired head before anything is read at it.
	 */
	uint32_t tail = atomic_load_explicit(&o->meta->tail, memory_order_relaxed);
	if (tail & (IPCC_PRING_ALIGN - 1))
		return -EBADMSG;
	o->pos = tail;
	return -ESTALE;
}

/*
 * A seqlock-style read. Head bounds what is read: the position must lie within `bytes` below
 * it, so the record parser stays inside the storage whatever else the peers wrote. The record
 * cannot change while the consumer holds it, but the consumer may release it and the producer
 * overwrite it while we copy; so copy first, then look at tail: if it passed our position, what
 * we read may be torn and is thrown away (-ESTALE), whatever it looked like. Tail is never read
 * as a pair with head (both move meanwhile); a lying tail only makes us report -ESTALE or
 * deliver bytes that changed. The copy of a record being overwritten is a data race in the C
 * model (the payload is not atomic); its result is never used.
 */
int ipcc_pring_observer_read(struct ipcc_pring_observer *o, void *buf, uint32_t buf_size)
{
	if (!o || (!buf && buf_size))
		return -EINVAL;
	/* Acquire: pairs with publish_head: the records before head are written. */
	uint32_t head = atomic_load_explicit(&o->meta->head, memory_order_acquire);
	if (head & (IPCC_PRING_ALIGN - 1))
		return -EBADMSG;
	if (head - o->pos > o->bytes)
		return observer_lapped(o); /* further behind than the ring holds (or ahead) */
	if (o->pos == head)
		return -EAGAIN;
	uint32_t off, next;
	int len = pring_record(o->data, o->bytes, o->pos, head, &off, &next);
	if (len >= 0 && (uint32_t)len > buf_size)
		len = -EMSGSIZE;
	else if (len > 0)
		memcpy(buf, o->data + off + IPCC_PRING_HEADER, (size_t)len);
	/*
	 * Acquire fence: the reads of the record above happen before the load of tail below
	 * (the read side of a seqlock; the producer's acquire in load_tail orders its overwrite
	 * after the consumer's publish_tail). Relaxed load: the fence orders it.
	 */
	atomic_thread_fence(memory_order_acquire);
	uint32_t tail = atomic_load_explicit(&o->meta->tail, memory_order_relaxed);
	/* Signed: both lie within a ring's length of head, far from 2^31 apart. */
	if ((int32_t)(tail - o->pos) > 0)
		return observer_lapped(o);
	if (len >= 0)
		o->pos = next;
	return len;
}
