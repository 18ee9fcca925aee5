/* SPDX-License-Identifier: MIT */
/*
 * Single-producer single-consumer queues in caller-provided shared memory (lib/queue).
 * Internal to libipcc: Notify, the log and RPMessage are built from these plus the doorbell.
 *
 * Two kinds share one metadata block:
 *   - ipcc_queue: a ring of `capacity` fixed-size entries (capacity a power of two);
 *   - ipcc_pring: a ring of `bytes` bytes (a power of two) carrying variable-length packets.
 *
 * Memory: [metadata: 3 lines of 64 bytes][storage]. Line 0 is written once by init, for
 * inspectors only; line 1 holds the producer index (head), written by the producer only;
 * line 2 the consumer index (tail), written by the consumer only. Indices are free-running
 * uint32_t, compared by unsigned difference: entries for ipcc_queue, bytes for ipcc_pring.
 *
 * Trust: the geometry of a handle is the caller's own copy, never read back from shared memory.
 * Every index (and packet length, padding record) written by the other side is validated before
 * use; a bad one is reported as -EBADMSG and never used to address memory. A hostile peer can
 * make calls fail or deliver wrong bytes, never make this process read or write outside the
 * region it handed to the handle. After -EBADMSG the handle is unchanged: the caller should
 * treat the peer as broken (later calls keep failing while the bad value stays).
 *
 * Concurrency: one producer handle and one consumer handle per queue, each used by one thread
 * at a time (several threads of one process may share a handle under a lock of their own).
 * Nothing blocks: a full or empty queue returns -EAGAIN and the caller decides how to wait.
 * Nothing signals: the caller rings the doorbell after a commit or release if its peer may be
 * waiting, with ipcc_queue_fence_signal() between the two (see there).
 *
 * Each side keeps its own index locally and a cached copy of the other one; it reloads the
 * other's index only when the cached one says full (producer) or empty (consumer): a message
 * costs one store to the own line, and the other's line is read once per batch, not per
 * message, while the cached value lasts.
 */
#ifndef IPCC_LIB_QUEUE_H
#define IPCC_LIB_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "cross-process atomics must be lock-free");

#define IPCC_QUEUE_LINE		64u
#define IPCC_QUEUE_META_SIZE	(3u * IPCC_QUEUE_LINE)
#define IPCC_QUEUE_MAGIC	0x51435049u /* "IPCQ" little-endian */
#define IPCC_PRING_MAGIC	0x50435049u /* "IPCP" little-endian */
#define IPCC_QUEUE_VERSION	1u
#define IPCC_QUEUE_CAPACITY_MAX (1u << 24)
#define IPCC_QUEUE_ENTRY_MAX	(1u << 16)
#define IPCC_QUEUE_BYTES_MAX	(1u << 30) /* storage of either kind */
#define IPCC_PRING_BYTES_MIN	64u
/* A packet record: an 8-byte header (length, reserved word) then the payload, padded to 8. */
#define IPCC_PRING_HEADER 8u
#define IPCC_PRING_ALIGN  8u
/* The length word of a padding record: the rest of the ring up to its end is unused. */
#define IPCC_PRING_PAD 0xFFFFFFFFu

/* The shared metadata (ABI of the section a layout places; fixed-width, one writer per line). */
struct ipcc_queue_meta {
	/* Line 0: written by ipcc_queue_init / ipcc_pring_init only; for inspectors. */
	uint32_t magic;	     /* IPCC_QUEUE_MAGIC or IPCC_PRING_MAGIC */
	uint32_t version;    /* IPCC_QUEUE_VERSION */
	uint32_t capacity;   /* entries (ipcc_queue) or storage bytes (ipcc_pring) */
	uint32_t entry_size; /* bytes per entry; 0 for ipcc_pring */
	uint32_t reserved0[12];
	/* Line 1: the producer's. */
	_Alignas(64) _Atomic uint32_t head;
	uint32_t reserved1[15];
	/* Line 2: the consumer's. */
	_Alignas(64) _Atomic uint32_t tail;
	uint32_t reserved2[15];
};
_Static_assert(sizeof(struct ipcc_queue_meta) == IPCC_QUEUE_META_SIZE, "metadata size");
_Static_assert(offsetof(struct ipcc_queue_meta, head) == 64, "head on its own line");
_Static_assert(offsetof(struct ipcc_queue_meta, tail) == 128, "tail on its own line");

enum ipcc_queue_role {
	IPCC_QUEUE_PRODUCER = 1,
	IPCC_QUEUE_CONSUMER = 2,
};

/* What an inspector sees (ipcc_queue_observe, ipcc_pring_observe). */
struct ipcc_queue_state {
	uint32_t head;	   /* producer index as read */
	uint32_t tail;	   /* consumer index as read */
	uint32_t used;	   /* head - tail: entries (ipcc_queue) or bytes (ipcc_pring) */
	uint32_t capacity; /* the caller's geometry: entries or bytes */
	bool described;	   /* line 0 carries the magic, version and geometry the caller gave */
};

/*
 * Between a commit (or release) and ringing the peer's doorbell. The index is published by a
 * release store, and lib/bell/bell.c:ipcc_bell_ring then loads bell_sleepers: C11 (and
 * x86 hardware) may move that load before the store, so the ringer sees no sleeper while the
 * sleeper, which announced itself and fenced (lib/bell/bell.c:ipcc_bell_announce), still reads
 * the old index: a lost wake-up. This seq_cst fence pairs with the sleeper's. A batch pays it once.
 */
static inline void ipcc_queue_fence_signal(void)
{
	atomic_thread_fence(memory_order_seq_cst);
}

/* ---- fixed-size entries --------------------------------------------------------------------- */

/* Process-local handle; plain data, nothing to release. Fields are private to queue.c. */
struct ipcc_queue {
	struct ipcc_queue_meta *meta;
	uint8_t *slots;
	uint32_t capacity;
	uint32_t mask;
	uint32_t entry_size;
	enum ipcc_queue_role role;
	uint32_t index;	  /* own index (head or tail), kept here: never read back after attach */
	uint32_t peer;	  /* last validated value of the other side's index */
	uint32_t pending; /* slots handed out by claim/peek and not yet committed/released */
};

/*
 * The handle's own index: for a producer, the position the next committed entry takes; for a
 * consumer, the position of the next entry it will take (free-running). Process-local.
 */
static inline uint32_t ipcc_queue_position(const struct ipcc_queue *q)
{
	return q->index;
}

/*
 * Bytes a queue of `capacity` entries (a power of two, 1..IPCC_QUEUE_CAPACITY_MAX) of
 * `entry_size` bytes (1..IPCC_QUEUE_ENTRY_MAX) occupies, metadata included; the storage is at
 * most IPCC_QUEUE_BYTES_MAX. Entry i lives at offset IPCC_QUEUE_META_SIZE + i * entry_size.
 * Any thread. -EINVAL: a geometry out of those bounds.
 */
int ipcc_queue_size(uint32_t capacity, uint32_t entry_size, size_t *ret_size);

/*
 * Make `mem` (64-byte aligned, `size` >= ipcc_queue_size(), zeroed or not) an empty queue.
 * Once, by the creator, before any handle is attached; not concurrent with anything on `mem`.
 * -EINVAL: bad geometry, misaligned or too small memory.
 */
int ipcc_queue_init(void *mem, size_t size, uint32_t capacity, uint32_t entry_size);

/*
 * Attach a handle for one side. The geometry is the caller's own (the same as given to init);
 * line 0 is only checked against it. Both indices are read and validated, so a side may attach
 * again after a restart and go on where the shared indices are. Any thread; does not block.
 * -EINVAL: bad arguments or geometry, `mem` misaligned or smaller than the queue.
 * -EBADMSG: line 0 does not describe this geometry, or the indices are inconsistent.
 */
int ipcc_queue_attach(struct ipcc_queue *q, void *mem, size_t size, uint32_t capacity,
		      uint32_t entry_size, enum ipcc_queue_role role);

/*
 * Producer: hand out up to `want` (>= 1) free slots, contiguous from *ret_slots, and return how
 * many (>= 1; fewer at the end of the storage or when less is free). Fill them, then commit.
 * A new claim replaces an uncommitted one. -EAGAIN: full. -EBADMSG: the consumer index is bad.
 * -EINVAL: not a producer handle, want 0, ret_slots NULL.
 */
int ipcc_queue_claim(struct ipcc_queue *q, uint32_t want, void **ret_slots);

/*
 * Producer: publish the first `n` slots of the last claim (0 abandons it) to the consumer.
 * -EINVAL: not a producer handle, or n more than claimed.
 */
int ipcc_queue_commit(struct ipcc_queue *q, uint32_t n);

/* Producer: copy one entry in (claim 1, copy, commit). Errors as ipcc_queue_claim. */
int ipcc_queue_push(struct ipcc_queue *q, const void *entry);

/* Producer: free slots now (reloads the consumer index). -EBADMSG, -EINVAL as for claim. */
int ipcc_queue_space(struct ipcc_queue *q);

/*
 * Consumer: up to `want` (>= 1) entries, contiguous from *ret_slots, and return how many
 * (>= 1). The bytes were written by the peer: copy a field once before validating it. Release
 * them when done. -EAGAIN: empty. -EBADMSG: the producer index is bad. -EINVAL: not a consumer
 * handle, want 0, ret_slots NULL. A drain: while ((n = peek(q, UINT32_MAX, &p)) > 0) { use n
 * entries; release(q, n); } -- at most two rounds per batch (the storage wraps once).
 */
int ipcc_queue_peek(struct ipcc_queue *q, uint32_t want, const void **ret_slots);

/* Consumer: give the first `n` entries of the last peek back to the producer. -EINVAL. */
int ipcc_queue_release(struct ipcc_queue *q, uint32_t n);

/* Consumer: copy one entry out (peek 1, copy, release). Errors as ipcc_queue_peek. */
int ipcc_queue_pop(struct ipcc_queue *q, void *ret_entry);

/* Consumer: entries available now (reloads the producer index); 0 when empty. -EBADMSG. */
int ipcc_queue_available(struct ipcc_queue *q);

/*
 * Inspectors (ipcc info): both indices and the fill level, from any process, read-only, at any
 * time; the values may be stale by the time they are returned. -EINVAL: bad geometry or memory.
 * -EBADMSG: head - tail exceeds the capacity (*ret_state is filled in all the same).
 * -EAGAIN: tail moved during each of several tries (a busy queue); try again.
 */
int ipcc_queue_observe(const void *mem, size_t size, uint32_t capacity, uint32_t entry_size,
		       struct ipcc_queue_state *ret_state);

/* ---- variable-length packets ---------------------------------------------------------------- */

/* Process-local handle; plain data, nothing to release. Fields are private to queue.c. */
struct ipcc_pring {
	struct ipcc_queue_meta *meta;
	uint8_t *data;
	uint32_t bytes;
	uint32_t mask;
	enum ipcc_queue_role role;
	uint32_t index; /* own index in bytes (head or tail); never read back after attach */
	uint32_t peer;	/* last validated value of the other side's index */
	uint32_t claim; /* producer: claimed payload length; consumer: end of the peeked record */
	uint32_t pad;	/* producer: padding bytes before the claimed record */
	bool pending;	/* a claim or peek is outstanding */
};

/* Largest payload a ring of `bytes` always accepts when empty: bytes / 2 - header. */
static inline uint32_t ipcc_pring_max_packet(uint32_t bytes)
{
	return bytes / 2 - IPCC_PRING_HEADER;
}

/*
 * Bytes a packet ring with `bytes` of storage (a power of two, IPCC_PRING_BYTES_MIN ..
 * IPCC_QUEUE_BYTES_MAX) occupies, metadata included. Any thread. -EINVAL: bad size.
 */
int ipcc_pring_size(uint32_t bytes, size_t *ret_size);

/* As ipcc_queue_init, for a packet ring. -EINVAL. */
int ipcc_pring_init(void *mem, size_t size, uint32_t bytes);

/* As ipcc_queue_attach, for a packet ring. -EINVAL, -EBADMSG. */
int ipcc_pring_attach(struct ipcc_pring *r, void *mem, size_t size, uint32_t bytes,
		      enum ipcc_queue_role role);

/*
 * Producer: `len` contiguous bytes (8-byte aligned) at *ret_data for one packet of up to `len`
 * bytes; commit it with its final length. A new claim replaces an uncommitted one. -EAGAIN:
 * not enough room now. -EMSGSIZE: len > ipcc_pring_max_packet(bytes), it never fits.
 * -EBADMSG: the consumer index is bad. -EINVAL: not a producer handle, ret_data NULL.
 */
int ipcc_pring_claim(struct ipcc_pring *r, uint32_t len, void **ret_data);

/* Producer: publish the claimed packet with `len` bytes (<= claimed; 0 is a valid packet). -EINVAL. */
int ipcc_pring_commit(struct ipcc_pring *r, uint32_t len);

/* Producer: copy one packet in. Errors as ipcc_pring_claim (data may be NULL when len is 0). */
int ipcc_pring_push(struct ipcc_pring *r, const void *data, uint32_t len);

/*
 * Consumer: the next packet, at *ret_data (8-byte aligned, peer-written bytes), and return its
 * length (>= 0). Release it when done. -EAGAIN: empty. -EBADMSG: the producer index, a length
 * or a padding record is bad. -EINVAL: not a consumer handle, ret_data NULL.
 */
int ipcc_pring_peek(struct ipcc_pring *r, const void **ret_data);

/* Consumer: give the peeked packet's room back to the producer. -EINVAL: nothing peeked. */
int ipcc_pring_release(struct ipcc_pring *r);

/*
 * Consumer: copy the next packet into buf and return its length. -EMSGSIZE: it is longer than
 * buf_size (it stays queued; ipcc_pring_peek tells its length). Other errors as peek.
 */
int ipcc_pring_pop(struct ipcc_pring *r, void *buf, uint32_t buf_size);

/* As ipcc_queue_observe, for a packet ring: used and capacity in bytes. */
int ipcc_pring_observe(const void *mem, size_t size, uint32_t bytes,
		       struct ipcc_queue_state *ret_state);

/*
 * Observers: readers with a position of their own (a log viewer beside the real consumer).
 * An observer writes nothing in shared memory (the memory may be mapped read-only) and does
 * not hold the producer back: it reads what lies between tail and head, and when the consumer
 * releases records the observer has not read yet, the producer may overwrite them; the
 * observer is then told it was lapped and goes on from tail. Any number of observers; each
 * handle used by one thread at a time. An observer that sleeps through 2^32 bytes of traffic
 * may take its old position for a current one and read wrong bytes (never outside the ring).
 */
struct ipcc_pring_observer {
	const struct ipcc_queue_meta *meta;
	const uint8_t *data;
	uint32_t bytes;
	uint32_t pos; /* next record to read, as a byte index */
};

/* Start an observer at the oldest record not yet released (tail). -EINVAL, -EBADMSG. */
int ipcc_pring_observer_attach(struct ipcc_pring_observer *o, const void *mem, size_t size,
			       uint32_t bytes);

/*
 * Copy the next record into buf and return its length, advancing the position. -EAGAIN: no
 * record after the position. -ESTALE: the records at the position were released and may be
 * overwritten (possibly during this call: nothing copied counts), or the position lies more
 * than the ring below head; the position moved to tail, records were missed. -EMSGSIZE:
 * longer than buf_size (the position stays). -EBADMSG: a misaligned index or a bad record.
 * -EINVAL: o NULL, buf NULL with buf_size. Lock-free, never blocks, writes no shared memory.
 */
int ipcc_pring_observer_read(struct ipcc_pring_observer *o, void *buf, uint32_t buf_size);

#endif
