/* SPDX-License-Identifier: MIT */
/*
 * The queue against a hostile peer: the test writes the other side's index, packet lengths and
 * padding records straight into the memory, as a broken or malicious process could. Every case
 * must give -EBADMSG (or a documented result) and never address memory outside the queue: the
 * memory is allocated at exactly the queue's size, so an AddressSanitizer build
 * (meson setup build-asan -Db_sanitize=address,undefined) catches any access past it, and a
 * refusing consumer must not have written anything.
 */
#include "queue-test.h"

static void *mem;
static size_t mem_size;

static void free_mem(void)
{
	free(mem);
	mem = NULL;
}

TestSuite(hostile, .fini = free_mem, .timeout = 30);

static void queue_mem(uint32_t cap, uint32_t es)
{
	cr_assert_eq(ipcc_queue_size(cap, es, &mem_size), 0);
	mem = qt_alloc(mem_size, 0);
	cr_assert_eq(ipcc_queue_init(mem, mem_size, cap, es), 0);
}

static void pring_mem(uint32_t bytes)
{
	cr_assert_eq(ipcc_pring_size(bytes, &mem_size), 0);
	mem = qt_alloc(mem_size, 0);
	cr_assert_eq(ipcc_pring_init(mem, mem_size, bytes), 0);
}

/* A record header as the peer writes it. */
static void put_record(uint32_t off, uint32_t len)
{
	uint8_t *at = (uint8_t *)mem + IPCC_QUEUE_META_SIZE + off;
	/* Relaxed: the test thread plays the peer; the consumer runs after it in this thread. */
	atomic_store_explicit((_Atomic uint32_t *)at, len, memory_order_relaxed);
}

/*
 * A fresh consumer, as of the indices now: a live one keeps its cached head while that still
 * shows data, so each case below starts from a handle that must read what the peer wrote.
 */
static void consumer(struct ipcc_pring *c, uint32_t bytes)
{
	cr_assert_eq(ipcc_pring_attach(c, mem, mem_size, bytes, IPCC_QUEUE_CONSUMER), 0);
}

/* The consumer refuses with -EBADMSG and writes nothing. */
static void pring_consumer_refuses(struct ipcc_pring *c, const char *what)
{
	uint8_t *before = malloc(mem_size);
	memcpy(before, mem, mem_size);
	const void *in = (const void *)0x1;
	char buf[64];
	cr_assert_eq(ipcc_pring_peek(c, &in), -EBADMSG, "%s", what);
	cr_assert_eq(in, (const void *)0x1, "%s: ret_data untouched", what);
	cr_assert_eq(ipcc_pring_pop(c, buf, sizeof(buf)), -EBADMSG, "%s", what);
	cr_assert_eq(ipcc_pring_release(c), -EINVAL, "%s: nothing was handed out", what);
	cr_assert_eq(memcmp(before, mem, mem_size), 0, "%s: the consumer wrote nothing", what);
	free(before);
}

/* ---- fixed queue ----------------------------------------------------------------------------- */

Test(hostile, attach_refuses_indices_further_apart_than_the_capacity)
{
	struct ipcc_queue q;
	queue_mem(8, 4);
	qt_set_head(mem, 9);
	cr_assert_eq(ipcc_queue_attach(&q, mem, mem_size, 8, 4, IPCC_QUEUE_CONSUMER), -EBADMSG);
	cr_assert_eq(ipcc_queue_attach(&q, mem, mem_size, 8, 4, IPCC_QUEUE_PRODUCER), -EBADMSG);
	qt_set_head(mem, 0);
	qt_set_tail(mem, 1); /* tail ahead of head */
	cr_assert_eq(ipcc_queue_attach(&q, mem, mem_size, 8, 4, IPCC_QUEUE_CONSUMER), -EBADMSG);
	struct ipcc_queue_state st;
	cr_assert_eq(ipcc_queue_observe(mem, mem_size, 8, 4, &st), -EBADMSG);
	cr_assert_eq(st.used, UINT32_MAX, "the inspector still shows what it read");
}

Test(hostile, consumer_refuses_a_head_past_the_capacity_or_moving_back)
{
	struct ipcc_queue c;
	queue_mem(8, 4);
	cr_assert_eq(ipcc_queue_attach(&c, mem, mem_size, 8, 4, IPCC_QUEUE_CONSUMER), 0);
	const void *in;
	uint32_t v = 77;
	qt_set_head(mem, 9);
	cr_assert_eq(ipcc_queue_peek(&c, 1, &in), -EBADMSG);
	cr_assert_eq(ipcc_queue_pop(&c, &v), -EBADMSG);
	cr_assert_eq(v, 77);
	cr_assert_eq(ipcc_queue_available(&c), -EBADMSG);
	qt_set_head(mem, UINT32_MAX); /* "behind" tail */
	cr_assert_eq(ipcc_queue_available(&c), -EBADMSG);
	qt_set_head(mem, 5);
	cr_assert_eq(ipcc_queue_available(&c), 5);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(ipcc_queue_pop(&c, &v), 0);
	qt_set_head(mem, 4); /* back behind what was consumed */
	cr_assert_eq(ipcc_queue_peek(&c, 1, &in), -EBADMSG);
	qt_set_head(mem, 5 + 8);
	cr_assert_eq(ipcc_queue_available(&c), 8, "a full queue from the new tail is fine");
	qt_set_head(mem, 6);
	cr_assert_eq(ipcc_queue_available(&c), -EBADMSG, "head moved back from 13 to 6");
	cr_assert_eq(qt_tail(mem), 5, "tail only moved for the entries taken");
}

Test(hostile, producer_refuses_a_tail_ahead_of_head_or_moving_back)
{
	struct ipcc_queue p;
	queue_mem(4, 4);
	cr_assert_eq(ipcc_queue_attach(&p, mem, mem_size, 4, 4, IPCC_QUEUE_PRODUCER), 0);
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		cr_assert_eq(ipcc_queue_push(&p, &v), 0);
	qt_set_tail(mem, 5); /* past head: entries never written */
	cr_assert_eq(ipcc_queue_push(&p, &v), -EBADMSG);
	cr_assert_eq(ipcc_queue_space(&p), -EBADMSG);
	qt_set_tail(mem, 2);
	cr_assert_eq(ipcc_queue_space(&p), 2);
	qt_set_tail(mem, 1); /* back */
	cr_assert_eq(ipcc_queue_space(&p), -EBADMSG);
	qt_set_tail(mem, UINT32_MAX - 100);
	cr_assert_eq(ipcc_queue_space(&p), -EBADMSG);
	cr_assert_eq(qt_head(mem), 4, "head only moved for the entries pushed");
}

/* ---- packet ring ----------------------------------------------------------------------------- */

Test(hostile, pring_consumer_refuses_bad_heads)
{
	struct ipcc_pring c;
	pring_mem(64);
	cr_assert_eq(ipcc_pring_attach(&c, mem, mem_size, 64, IPCC_QUEUE_CONSUMER), 0);
	qt_set_head(mem, 72);
	pring_consumer_refuses(&c, "head past the ring");
	qt_set_head(mem, 12);
	pring_consumer_refuses(&c, "head not on a record boundary");
	qt_set_head(mem, UINT32_MAX - 7);
	pring_consumer_refuses(&c, "head behind tail");
	qt_set_head(mem, 4);
	struct ipcc_pring c2;
	cr_assert_eq(ipcc_pring_attach(&c2, mem, mem_size, 64, IPCC_QUEUE_CONSUMER), -EBADMSG);
	struct ipcc_pring_observer o;
	char buf[8];
	cr_assert_eq(ipcc_pring_observer_attach(&o, mem, mem_size, 64), 0);
	cr_assert_eq(ipcc_pring_observer_read(&o, buf, sizeof(buf)), -EBADMSG, "head 4");
	qt_set_head(mem, 72);
	cr_assert_eq(ipcc_pring_observer_read(&o, buf, sizeof(buf)), -ESTALE,
		     "head further than the ring from the position: as if lapped");
	cr_assert_eq(o.pos, 0, "back at tail");
	qt_set_tail(mem, 3);
	cr_assert_eq(ipcc_pring_observer_attach(&o, mem, mem_size, 64), -EBADMSG, "tail 3");
}

Test(hostile, pring_consumer_refuses_lengths_past_the_data_or_the_ring_end)
{
	struct ipcc_pring c;
	pring_mem(64);
	qt_set_tail(mem, 48);
	qt_set_head(mem, 48 + 16);
	consumer(&c, 64);
	put_record(48, 9); /* 24-byte record, 16 published */
	pring_consumer_refuses(&c, "length past the published bytes");
	qt_set_head(mem, 48 + 40);
	consumer(&c, 64);
	put_record(48, 30); /* would run past the ring end at 64 */
	pring_consumer_refuses(&c, "length past the ring end");
	put_record(48, IPCC_PRING_PAD - 1);
	pring_consumer_refuses(&c, "length near 2^32");
	put_record(48, 8); /* fits: 16 bytes up to the end */
	const void *in;
	cr_assert_eq(ipcc_pring_peek(&c, &in), 8);
	cr_assert_eq((const uint8_t *)in, (uint8_t *)mem + IPCC_QUEUE_META_SIZE + 56);
}

Test(hostile, pring_consumer_refuses_bad_padding)
{
	struct ipcc_pring c;
	pring_mem(64);
	cr_assert_eq(ipcc_pring_attach(&c, mem, mem_size, 64, IPCC_QUEUE_CONSUMER), 0);
	qt_set_head(mem, 16);
	put_record(0, IPCC_PRING_PAD);
	pring_consumer_refuses(&c, "padding at offset 0");
	free_mem();

	pring_mem(64);
	qt_set_tail(mem, 40);
	qt_set_head(mem, 64);
	consumer(&c, 64);
	put_record(40, IPCC_PRING_PAD);
	pring_consumer_refuses(&c, "padding with no record after it");
	qt_set_head(mem, 72);
	consumer(&c, 64);
	put_record(0, IPCC_PRING_PAD);
	pring_consumer_refuses(&c, "padding followed by padding");
	put_record(0, 1); /* 16-byte record, 8 published after the padding */
	pring_consumer_refuses(&c, "record after padding past the published bytes");
	put_record(0, 0);
	const void *in;
	cr_assert_eq(ipcc_pring_peek(&c, &in), 0, "a header-only record after padding is fine");
	cr_assert_eq(ipcc_pring_release(&c), 0);
	cr_assert_eq(qt_tail(mem), 72);
}

Test(hostile, pring_producer_refuses_a_tail_ahead_of_head_or_moving_back)
{
	struct ipcc_pring p;
	pring_mem(64);
	cr_assert_eq(ipcc_pring_attach(&p, mem, mem_size, 64, IPCC_QUEUE_PRODUCER), 0);
	uint8_t buf[24] = { 0 };
	cr_assert_eq(ipcc_pring_push(&p, buf, 24), 0);
	cr_assert_eq(ipcc_pring_push(&p, buf, 24), 0); /* full */
	qt_set_tail(mem, 72);
	cr_assert_eq(ipcc_pring_push(&p, buf, 1), -EBADMSG);
	qt_set_tail(mem, 4);
	cr_assert_eq(ipcc_pring_push(&p, buf, 1), -EBADMSG, "tail inside a header");
	qt_set_tail(mem, UINT32_MAX - 7);
	cr_assert_eq(ipcc_pring_push(&p, buf, 1), -EBADMSG);
	cr_assert_eq(qt_head(mem), 64);
}

/*
 * Random garbage from the peer: indices, lengths and payload. Whatever the consumer returns
 * lies inside the storage, within what head published; AddressSanitizer checks the copies.
 */
Test(hostile, random_peer_writes_never_lead_outside_the_ring)
{
	struct ipcc_pring c;
	uint32_t bytes = 256;
	pring_mem(bytes);
	uint8_t *data = (uint8_t *)mem + IPCC_QUEUE_META_SIZE;
	uint8_t buf[256];
	uint64_t seed = 12345;
	unsigned ok = 0, bad = 0, observed = 0;
	for (int round = 0; round < 20000; round++) {
		seed = qt_mix(seed + 1);
		uint32_t tail = (uint32_t)(seed >> 32) & ~7u;
		qt_set_tail(mem, tail);
		qt_set_head(mem, tail);
		if (ipcc_pring_attach(&c, mem, mem_size, bytes, IPCC_QUEUE_CONSUMER) != 0)
			continue;
		/* Mostly plausible heads, sometimes anything. */
		uint32_t head = (seed & 3) ? tail + ((uint32_t)(seed >> 8) % (bytes + 9))
					   : (uint32_t)qt_mix(seed);
		qt_set_head(mem, head);
		for (uint32_t i = 0; i < bytes; i += 8) {
			uint64_t k = qt_mix(seed ^ i);
			uint32_t len = (k & 1)	 ? (uint32_t)(k >> 8) % 300
				       : (k & 2) ? IPCC_PRING_PAD
						 : (uint32_t)(k >> 16);
			memcpy(data + i, &len, sizeof(len));
		}
		struct ipcc_pring_observer o;
		cr_assert_eq(ipcc_pring_observer_attach(&o, mem, mem_size, bytes), 0);
		for (int step = 0; step < 8; step++) {
			int n = ipcc_pring_observer_read(&o, buf, sizeof(buf)); /* ASan checks */
			cr_assert(n >= 0 || n == -EAGAIN || n == -EBADMSG || n == -EMSGSIZE ||
					  n == -ESTALE,
				  "round %d: observer %d", round, n);
			if (n < 0)
				break;
			cr_assert_leq(o.pos - tail, head - tail, "observer past head");
			observed++;
		}
		for (int step = 0; step < 8; step++) {
			const void *in;
			int n = ipcc_pring_peek(&c, &in);
			if (n < 0) {
				cr_assert(n == -EAGAIN || n == -EBADMSG, "round %d: %d", round, n);
				bad += n == -EBADMSG;
				break;
			}
			const uint8_t *at = in;
			cr_assert_geq(at, data + IPCC_PRING_HEADER);
			cr_assert_leq(at + n, data + bytes, "round %d: past the ring", round);
			memcpy(buf, in, (size_t)n); /* ASan checks the range */
			cr_assert_eq(ipcc_pring_release(&c), 0);
			cr_assert_leq(qt_tail(mem) - tail, head - tail, "tail past head");
			ok++;
		}
	}
	cr_assert_gt(ok, 100, "the fuzz also reached valid records");
	cr_assert_gt(bad, 100, "the fuzz reached refusals");
	cr_assert_gt(observed, 100, "the observer read valid records too");
}
