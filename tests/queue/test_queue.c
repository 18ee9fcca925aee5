/* SPDX-License-Identifier: MIT */
/*
 * The queue primitive alone (lib/queue): sizes, init and attach, the full and empty edges at
 * exactly the capacity, index wrap-around over 2^32, zero-copy claim/commit/peek/release, batch
 * drain, packet padding at the storage end, the largest and the empty packet, and argument
 * errors. Producer and consumer are two handles on one piece of memory in one thread.
 */
#include <sys/mman.h>

#include "queue-test.h"

static void *mem;

static void free_mem(void)
{
	free(mem);
	mem = NULL;
}

/* A fixed queue of `cap` entries of `es` bytes, indices starting at `start`, both handles. */
static void queue_pair(uint32_t cap, uint32_t es, uint32_t start, struct ipcc_queue *p,
		       struct ipcc_queue *c)
{
	size_t size;
	cr_assert_eq(ipcc_queue_size(cap, es, &size), 0);
	mem = qt_alloc(size, 0xa5);
	cr_assert_eq(ipcc_queue_init(mem, size, cap, es), 0);
	qt_set_head(mem, start);
	qt_set_tail(mem, start);
	cr_assert_eq(ipcc_queue_attach(p, mem, size, cap, es, IPCC_QUEUE_PRODUCER), 0);
	cr_assert_eq(ipcc_queue_attach(c, mem, size, cap, es, IPCC_QUEUE_CONSUMER), 0);
}

static void pring_pair(uint32_t bytes, uint32_t start, struct ipcc_pring *p, struct ipcc_pring *c)
{
	size_t size;
	cr_assert_eq(ipcc_pring_size(bytes, &size), 0);
	mem = qt_alloc(size, 0xa5);
	cr_assert_eq(ipcc_pring_init(mem, size, bytes), 0);
	qt_set_head(mem, start);
	qt_set_tail(mem, start);
	cr_assert_eq(ipcc_pring_attach(p, mem, size, bytes, IPCC_QUEUE_PRODUCER), 0);
	cr_assert_eq(ipcc_pring_attach(c, mem, size, bytes, IPCC_QUEUE_CONSUMER), 0);
}

TestSuite(queue, .fini = free_mem, .timeout = 30);

/* ---- sizes, init, attach -------------------------------------------------------------------- */

Test(queue, size_is_metadata_plus_entries_and_rejects_bad_geometry)
{
	size_t size = 7;
	cr_assert_eq(ipcc_queue_size(1, 1, &size), 0);
	cr_assert_eq(size, IPCC_QUEUE_META_SIZE + 1);
	cr_assert_eq(ipcc_queue_size(256, 4, &size), 0);
	cr_assert_eq(size, IPCC_QUEUE_META_SIZE + 1024);
	size = 7;
	cr_assert_eq(ipcc_queue_size(0, 4, &size), -EINVAL);
	cr_assert_eq(ipcc_queue_size(3, 4, &size), -EINVAL);
	cr_assert_eq(ipcc_queue_size(IPCC_QUEUE_CAPACITY_MAX * 2, 4, &size), -EINVAL);
	cr_assert_eq(ipcc_queue_size(8, 0, &size), -EINVAL);
	cr_assert_eq(ipcc_queue_size(8, IPCC_QUEUE_ENTRY_MAX + 1, &size), -EINVAL);
	cr_assert_eq(ipcc_queue_size(IPCC_QUEUE_CAPACITY_MAX, IPCC_QUEUE_ENTRY_MAX, &size),
		     -EINVAL);
	cr_assert_eq(ipcc_queue_size(8, 4, NULL), -EINVAL);
	cr_assert_eq(size, 7, "ret_size untouched on failure");
}

Test(queue, pring_size_is_metadata_plus_bytes_and_rejects_bad_sizes)
{
	size_t size = 7;
	cr_assert_eq(ipcc_pring_size(64, &size), 0);
	cr_assert_eq(size, IPCC_QUEUE_META_SIZE + 64);
	size = 7;
	cr_assert_eq(ipcc_pring_size(32, &size), -EINVAL);
	cr_assert_eq(ipcc_pring_size(96, &size), -EINVAL);
	cr_assert_eq(ipcc_pring_size(IPCC_QUEUE_BYTES_MAX * 2u, &size), -EINVAL);
	cr_assert_eq(ipcc_pring_size(64, NULL), -EINVAL);
	cr_assert_eq(size, 7);
	cr_assert_eq(ipcc_pring_max_packet(64), 24);
}

Test(queue, init_rejects_misaligned_or_short_memory)
{
	size_t size;
	cr_assert_eq(ipcc_queue_size(8, 8, &size), 0);
	mem = qt_alloc(size + 64, 0);
	cr_assert_eq(ipcc_queue_init((uint8_t *)mem + 8, size, 8, 8), -EINVAL);
	cr_assert_eq(ipcc_queue_init(mem, size - 1, 8, 8), -EINVAL);
	cr_assert_eq(ipcc_queue_init(NULL, size, 8, 8), -EINVAL);
	cr_assert_eq(ipcc_queue_init(mem, size, 6, 8), -EINVAL);
	cr_assert_eq(ipcc_pring_init(mem, IPCC_QUEUE_META_SIZE + 63, 64), -EINVAL);
	cr_assert_eq(ipcc_pring_init((uint8_t *)mem + 32, size, 64), -EINVAL);
	cr_assert_eq(ipcc_queue_init(mem, size, 8, 8), 0);
}

Test(queue, attach_checks_role_and_that_init_described_the_same_geometry)
{
	struct ipcc_queue q;
	struct ipcc_pring r;
	size_t size;
	cr_assert_eq(ipcc_queue_size(16, 8, &size), 0);
	mem = qt_alloc(size, 0);
	/* Zeroed memory never initialised: no magic. */
	cr_assert_eq(ipcc_queue_attach(&q, mem, size, 16, 8, IPCC_QUEUE_CONSUMER), -EBADMSG);
	cr_assert_eq(ipcc_queue_init(mem, size, 16, 8), 0);
	cr_assert_eq(ipcc_queue_attach(&q, mem, size, 16, 8, 0), -EINVAL);
	cr_assert_eq(ipcc_queue_attach(NULL, mem, size, 16, 8, IPCC_QUEUE_CONSUMER), -EINVAL);
	cr_assert_eq(ipcc_queue_attach(&q, mem, size - 1, 16, 8, IPCC_QUEUE_CONSUMER), -EINVAL);
	cr_assert_eq(ipcc_queue_attach(&q, mem, size, 8, 8, IPCC_QUEUE_CONSUMER), -EBADMSG);
	cr_assert_eq(ipcc_queue_attach(&q, mem, size, 16, 4, IPCC_QUEUE_PRODUCER), -EBADMSG);
	/* A fixed queue is not a packet ring, even where the sizes would fit. */
	cr_assert_eq(ipcc_pring_attach(&r, mem, size, 64, IPCC_QUEUE_CONSUMER), -EBADMSG);
	cr_assert_eq(ipcc_queue_attach(&q, mem, size, 16, 8, IPCC_QUEUE_PRODUCER), 0);
}

Test(queue, a_side_attached_again_goes_on_where_the_shared_indices_are)
{
	struct ipcc_queue p, c, p2, c2;
	queue_pair(8, 4, 0, &p, &c);
	for (uint32_t v = 0; v < 5; v++)
		cr_assert_eq(ipcc_queue_push(&p, &v), 0);
	uint32_t v;
	cr_assert_eq(ipcc_queue_pop(&c, &v), 0);
	cr_assert_eq(v, 0);
	size_t size = IPCC_QUEUE_META_SIZE + 32;
	cr_assert_eq(ipcc_queue_attach(&p2, mem, size, 8, 4, IPCC_QUEUE_PRODUCER), 0);
	cr_assert_eq(ipcc_queue_attach(&c2, mem, size, 8, 4, IPCC_QUEUE_CONSUMER), 0);
	v = 5;
	cr_assert_eq(ipcc_queue_push(&p2, &v), 0);
	for (uint32_t want = 1; want <= 5; want++) {
		cr_assert_eq(ipcc_queue_pop(&c2, &v), 0);
		cr_assert_eq(v, want);
	}
	cr_assert_eq(ipcc_queue_pop(&c2, &v), -EAGAIN);
}

/* ---- fixed queue: edges ---------------------------------------------------------------------- */

Test(queue, empty_queue_gives_eagain_and_full_queue_refuses_exactly_at_capacity)
{
	struct ipcc_queue p, c;
	queue_pair(4, 4, 0, &p, &c);
	uint32_t v = 99;
	const void *slot;
	cr_assert_eq(ipcc_queue_pop(&c, &v), -EAGAIN);
	cr_assert_eq(v, 99, "ret_entry untouched when empty");
	cr_assert_eq(ipcc_queue_peek(&c, 1, &slot), -EAGAIN);
	cr_assert_eq(ipcc_queue_available(&c), 0);
	cr_assert_eq(ipcc_queue_space(&p), 4);
	for (v = 0; v < 4; v++)
		cr_assert_eq(ipcc_queue_push(&p, &v), 0, "entry %u of 4", v);
	cr_assert_eq(ipcc_queue_push(&p, &v), -EAGAIN);
	cr_assert_eq(ipcc_queue_space(&p), 0);
	cr_assert_eq(ipcc_queue_available(&c), 4);
	cr_assert_eq(ipcc_queue_pop(&c, &v), 0);
	cr_assert_eq(v, 0);
	v = 4;
	cr_assert_eq(ipcc_queue_push(&p, &v), 0, "one slot freed, one slot usable");
	cr_assert_eq(ipcc_queue_push(&p, &v), -EAGAIN);
	for (uint32_t want = 1; want <= 4; want++) {
		cr_assert_eq(ipcc_queue_pop(&c, &v), 0);
		cr_assert_eq(v, want);
	}
	cr_assert_eq(ipcc_queue_pop(&c, &v), -EAGAIN);
}

Test(queue, capacity_one_alternates_full_and_empty)
{
	struct ipcc_queue p, c;
	queue_pair(1, 8, UINT32_MAX, &p, &c);
	for (uint64_t i = 0; i < 5; i++) {
		uint64_t v;
		cr_assert_eq(ipcc_queue_push(&p, &i), 0);
		cr_assert_eq(ipcc_queue_push(&p, &i), -EAGAIN);
		cr_assert_eq(ipcc_queue_pop(&c, &v), 0);
		cr_assert_eq(v, i);
		cr_assert_eq(ipcc_queue_pop(&c, &v), -EAGAIN);
	}
}

Test(queue, indices_wrap_over_2_32_without_loss_or_reorder)
{
	struct ipcc_queue p, c;
	uint32_t start = UINT32_MAX - 20;
	queue_pair(8, 8, start, &p, &c);
	uint64_t sent = 0, got = 0, v;
	/* Fill and drain in uneven steps so the edges meet the index overflow at every offset. */
	while (got < 64) {
		for (unsigned k = 0; k < 1 + sent % 5 && ipcc_queue_push(&p, &sent) == 0; k++)
			sent++;
		for (unsigned k = 0; k < 1 + got % 3 && ipcc_queue_pop(&c, &v) == 0; k++) {
			cr_assert_eq(v, got, "entry %llu", (unsigned long long)got);
			got++;
		}
	}
	cr_assert_eq(qt_tail(mem), start + (uint32_t)got);
	cr_assert_lt(qt_tail(mem), start, "the index went past 2^32");
	struct ipcc_queue_state st;
	cr_assert_eq(ipcc_queue_observe(mem, IPCC_QUEUE_META_SIZE + 64, 8, 8, &st), 0);
	cr_assert_eq(st.used, sent - got);
	cr_assert_eq(st.capacity, 8);
	cr_assert(st.described);
}

/* ---- fixed queue: zero copy, batches ---------------------------------------------------------- */

Test(queue, claim_hands_out_a_contiguous_run_up_to_the_storage_end)
{
	struct ipcc_queue p, c;
	queue_pair(8, 4, 5, &p, &c); /* offset 5: three slots to the end */
	void *slots;
	cr_assert_eq(ipcc_queue_claim(&p, 100, &slots), 3);
	cr_assert_eq((uint8_t *)slots, (uint8_t *)mem + IPCC_QUEUE_META_SIZE + 5 * 4);
	uint32_t *e = slots;
	e[0] = 10;
	e[1] = 11;
	cr_assert_eq(ipcc_queue_commit(&p, 3 + 1), -EINVAL, "more than claimed");
	cr_assert_eq(ipcc_queue_commit(&p, 2), 0, "fewer than claimed");
	cr_assert_eq(ipcc_queue_commit(&p, 1), -EINVAL, "the claim is gone after a commit");
	cr_assert_eq(ipcc_queue_claim(&p, 100, &slots), 1, "one left before the end");
	cr_assert_eq(ipcc_queue_commit(&p, 0), 0, "abandon");
	cr_assert_eq(ipcc_queue_available(&c), 2);
	const void *in;
	cr_assert_eq(ipcc_queue_peek(&c, 100, &in), 2);
	cr_assert_eq(((const uint32_t *)in)[0], 10);
	cr_assert_eq(((const uint32_t *)in)[1], 11);
	cr_assert_eq(ipcc_queue_release(&c, 3), -EINVAL);
	cr_assert_eq(ipcc_queue_release(&c, 1), 0);
	cr_assert_eq(ipcc_queue_peek(&c, 1, &in), 1);
	cr_assert_eq(*(const uint32_t *)in, 11);
	cr_assert_eq(ipcc_queue_release(&c, 1), 0);
	cr_assert_eq(ipcc_queue_peek(&c, 1, &in), -EAGAIN);
}

Test(queue, batch_drain_takes_everything_in_at_most_two_runs)
{
	struct ipcc_queue p, c;
	queue_pair(16, 4, 10, &p, &c);
	for (uint32_t v = 0; v < 16; v++)
		cr_assert_eq(ipcc_queue_push(&p, &v), 0);
	cr_assert_eq(ipcc_queue_available(&c), 16);
	const void *in;
	uint32_t next = 0;
	int n, runs = 0;
	while ((n = ipcc_queue_peek(&c, UINT32_MAX, &in)) > 0) {
		for (int i = 0; i < n; i++)
			cr_assert_eq(((const uint32_t *)in)[i], next++);
		cr_assert_eq(ipcc_queue_release(&c, (uint32_t)n), 0);
		runs++;
	}
	cr_assert_eq(n, -EAGAIN);
	cr_assert_eq(next, 16);
	cr_assert_eq(runs, 2, "6 entries to the storage end, then 10");
}

Test(queue, each_side_refuses_the_other_sides_calls_and_bad_arguments)
{
	struct ipcc_queue p, c;
	queue_pair(8, 4, 0, &p, &c);
	void *slots;
	const void *in;
	uint32_t v = 1;
	cr_assert_eq(ipcc_queue_claim(&c, 1, &slots), -EINVAL);
	cr_assert_eq(ipcc_queue_commit(&c, 0), -EINVAL);
	cr_assert_eq(ipcc_queue_push(&c, &v), -EINVAL);
	cr_assert_eq(ipcc_queue_space(&c), -EINVAL);
	cr_assert_eq(ipcc_queue_peek(&p, 1, &in), -EINVAL);
	cr_assert_eq(ipcc_queue_release(&p, 0), -EINVAL);
	cr_assert_eq(ipcc_queue_pop(&p, &v), -EINVAL);
	cr_assert_eq(ipcc_queue_available(&p), -EINVAL);
	cr_assert_eq(ipcc_queue_claim(&p, 0, &slots), -EINVAL);
	cr_assert_eq(ipcc_queue_claim(&p, 1, NULL), -EINVAL);
	cr_assert_eq(ipcc_queue_claim(NULL, 1, &slots), -EINVAL);
	cr_assert_eq(ipcc_queue_push(&p, NULL), -EINVAL);
	cr_assert_eq(ipcc_queue_peek(&c, 0, &in), -EINVAL);
	cr_assert_eq(ipcc_queue_peek(&c, 1, NULL), -EINVAL);
	cr_assert_eq(ipcc_queue_pop(&c, NULL), -EINVAL);
	cr_assert_eq(ipcc_queue_release(&c, 1), -EINVAL, "nothing peeked");
	cr_assert_eq(ipcc_queue_commit(&p, 1), -EINVAL, "nothing claimed");
	cr_assert_eq(ipcc_queue_available(&c), 0, "nothing was queued by the refused calls");
}

/* ---- packet ring ----------------------------------------------------------------------------- */

Test(queue, packets_of_every_length_arrive_whole_and_in_order)
{
	struct ipcc_pring p, c;
	pring_pair(256, 0, &p, &c);
	uint8_t buf[128], out[128];
	uint32_t max = ipcc_pring_max_packet(256);
	for (uint32_t len = 0; len <= max; len++) {
		qt_fill(buf, len, len);
		cr_assert_eq(ipcc_pring_push(&p, buf, len), 0, "len %u", len);
		cr_assert_eq(ipcc_pring_pop(&c, out, sizeof(out)), (int)len);
		cr_assert_eq(qt_verify(out, len, len), len, "len %u", len);
	}
	cr_assert_eq(ipcc_pring_pop(&c, out, sizeof(out)), -EAGAIN);
}

Test(queue, a_packet_that_does_not_fit_before_the_end_is_padded_to_offset_zero)
{
	struct ipcc_pring p, c;
	pring_pair(64, 40, &p, &c); /* 24 bytes to the end */
	void *at;
	const void *in;
	cr_assert_eq(ipcc_pring_claim(&p, 17, &at), 0, "a 32-byte record needs the wrap");
	cr_assert_eq((uint8_t *)at, (uint8_t *)mem + IPCC_QUEUE_META_SIZE + IPCC_PRING_HEADER);
	qt_fill(at, 17, 7);
	cr_assert_eq(ipcc_pring_commit(&p, 17), 0);
	cr_assert_eq(qt_head(mem), 40 + 24 + 32, "padding plus the record");
	cr_assert_eq(ipcc_pring_peek(&c, &in), 17);
	cr_assert_eq(qt_verify(in, 17, 7), 17);
	cr_assert_eq(ipcc_pring_release(&c), 0);
	cr_assert_eq(qt_tail(mem), 96, "the padding is released with the record");
	/* A record that ends exactly at the end needs no padding. */
	free_mem();
	pring_pair(64, 40, &p, &c);
	cr_assert_eq(ipcc_pring_push(&p, "0123456789abcdef", 16), 0);
	cr_assert_eq(qt_head(mem), 64);
}

Test(queue, the_largest_packet_fits_an_empty_ring_at_any_offset)
{
	struct ipcc_pring p, c;
	uint32_t max = ipcc_pring_max_packet(64);
	uint8_t buf[64], out[64];
	for (uint32_t start = 0; start < 64; start += 8) {
		pring_pair(64, UINT32_MAX - 63 + start, &p, &c);
		qt_fill(buf, max, start);
		cr_assert_eq(ipcc_pring_push(&p, buf, max), 0, "offset %u", start);
		cr_assert_eq(ipcc_pring_pop(&c, out, sizeof(out)), (int)max);
		cr_assert_eq(qt_verify(out, max, start), max);
		cr_assert_eq(ipcc_pring_push(&p, buf, max + 1), -EMSGSIZE);
		free_mem();
	}
}

Test(queue, zero_length_packets_count_and_fill_the_ring_exactly)
{
	struct ipcc_pring p, c;
	pring_pair(64, 0, &p, &c);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(ipcc_pring_push(&p, NULL, 0), 0, "header-only record %d of 8", i);
	cr_assert_eq(ipcc_pring_push(&p, NULL, 0), -EAGAIN, "64 bytes hold 8 headers");
	void *at;
	cr_assert_eq(ipcc_pring_claim(&p, 0, &at), -EAGAIN);
	const void *in;
	cr_assert_eq(ipcc_pring_peek(&c, &in), 0);
	cr_assert_eq(ipcc_pring_release(&c), 0);
	cr_assert_eq(ipcc_pring_push(&p, NULL, 0), 0);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(ipcc_pring_pop(&c, NULL, 0), 0);
	cr_assert_eq(ipcc_pring_pop(&c, NULL, 0), -EAGAIN);
}

Test(queue, a_full_ring_refuses_until_the_consumer_releases_enough)
{
	struct ipcc_pring p, c;
	pring_pair(64, 0, &p, &c);
	uint8_t buf[24] = { 0 };
	cr_assert_eq(ipcc_pring_push(&p, buf, 24), 0); /* 32 bytes */
	cr_assert_eq(ipcc_pring_push(&p, buf, 8), 0);  /* 16 bytes */
	cr_assert_eq(ipcc_pring_push(&p, buf, 1), 0);  /* 16 bytes: full to the last byte */
	cr_assert_eq(ipcc_pring_push(&p, NULL, 0), -EAGAIN);
	cr_assert_eq(ipcc_pring_pop(&c, buf, sizeof(buf)), 24);
	/* 32 bytes free at the start, none at the end: the record pads over nothing. */
	cr_assert_eq(ipcc_pring_push(&p, buf, 24), 0);
	cr_assert_eq(ipcc_pring_push(&p, NULL, 0), -EAGAIN);
	cr_assert_eq(ipcc_pring_pop(&c, buf, sizeof(buf)), 8);
	cr_assert_eq(ipcc_pring_pop(&c, buf, sizeof(buf)), 1);
	cr_assert_eq(ipcc_pring_pop(&c, buf, sizeof(buf)), 24);
	cr_assert_eq(ipcc_pring_pop(&c, buf, sizeof(buf)), -EAGAIN);
}

Test(queue, packet_indices_wrap_over_2_32_with_padding_on_the_way)
{
	struct ipcc_pring p, c;
	uint32_t start = UINT32_MAX - 7 - 1024;
	pring_pair(128, start, &p, &c);
	uint8_t buf[64], out[64];
	uint32_t max = ipcc_pring_max_packet(128);
	uint64_t sent = 0, got = 0;
	/* Fill until full, drain a few, over and over: full meets the storage end everywhere. */
	while (got < 400) {
		for (;;) {
			uint32_t len = qt_packet_len(sent, max);
			qt_fill(buf, len, sent);
			int e = ipcc_pring_push(&p, buf, len);
			if (e == -EAGAIN)
				break;
			cr_assert_eq(e, 0, "packet %llu: %d", (unsigned long long)sent, e);
			sent++;
		}
		for (unsigned k = 0; k < 1 + got % 3 && got < sent; k++, got++) {
			int n = ipcc_pring_pop(&c, out, sizeof(out));
			cr_assert_eq(n, (int)qt_packet_len(got, max), "packet %llu",
				     (unsigned long long)got);
			cr_assert_eq(qt_verify(out, (size_t)n, got), (size_t)n);
		}
	}
	cr_assert_lt(qt_tail(mem), start, "the byte index went past 2^32");
}

Test(queue, a_shorter_commit_and_a_too_small_pop_buffer)
{
	struct ipcc_pring p, c;
	pring_pair(256, 0, &p, &c);
	void *at;
	cr_assert_eq(ipcc_pring_claim(&p, 100, &at), 0);
	memcpy(at, "line\n", 5);
	cr_assert_eq(ipcc_pring_commit(&p, 101), -EINVAL, "more than claimed");
	cr_assert_eq(ipcc_pring_commit(&p, 5), 0);
	cr_assert_eq(ipcc_pring_commit(&p, 0), -EINVAL, "nothing claimed any more");
	cr_assert_eq(qt_head(mem), 16, "only the committed length is used");
	char small[4] = "xyz", out[8];
	cr_assert_eq(ipcc_pring_pop(&c, small, sizeof(small)), -EMSGSIZE);
	cr_assert_str_eq(small, "xyz", "buffer untouched");
	cr_assert_eq(ipcc_pring_release(&c), -EINVAL, "a refused pop leaves nothing peeked");
	cr_assert_eq(ipcc_pring_pop(&c, out, sizeof(out)), 5, "the packet stayed");
	cr_assert_eq(memcmp(out, "line\n", 5), 0);
}

Test(queue, pring_sides_refuse_the_other_sides_calls_and_bad_arguments)
{
	struct ipcc_pring p, c;
	pring_pair(64, 0, &p, &c);
	void *at;
	const void *in;
	char b[8];
	cr_assert_eq(ipcc_pring_claim(&c, 1, &at), -EINVAL);
	cr_assert_eq(ipcc_pring_commit(&c, 0), -EINVAL);
	cr_assert_eq(ipcc_pring_push(&c, b, 1), -EINVAL);
	cr_assert_eq(ipcc_pring_peek(&p, &in), -EINVAL);
	cr_assert_eq(ipcc_pring_release(&p), -EINVAL);
	cr_assert_eq(ipcc_pring_pop(&p, b, sizeof(b)), -EINVAL);
	cr_assert_eq(ipcc_pring_claim(&p, 1, NULL), -EINVAL);
	cr_assert_eq(ipcc_pring_push(&p, NULL, 1), -EINVAL);
	cr_assert_eq(ipcc_pring_peek(&c, NULL), -EINVAL);
	cr_assert_eq(ipcc_pring_pop(&c, NULL, 1), -EINVAL);
	cr_assert_eq(ipcc_pring_claim(NULL, 1, &at), -EINVAL);
	struct ipcc_queue_state st;
	cr_assert_eq(ipcc_pring_observe(mem, IPCC_QUEUE_META_SIZE + 64, 64, &st), 0);
	cr_assert_eq(st.used, 0);
	cr_assert_eq(ipcc_pring_observe(mem, IPCC_QUEUE_META_SIZE + 64, 64, NULL), -EINVAL);
	cr_assert_eq(ipcc_pring_observe(mem, IPCC_QUEUE_META_SIZE + 63, 64, &st), -EINVAL);
}

/* ---- packet ring observers ------------------------------------------------------------------- */

Test(queue, an_observer_reads_every_record_without_moving_the_consumer)
{
	struct ipcc_pring p, c;
	struct ipcc_pring_observer o;
	pring_pair(128, UINT32_MAX - 63, &p, &c);
	size_t size = IPCC_QUEUE_META_SIZE + 128;
	cr_assert_eq(ipcc_pring_observer_attach(&o, mem, size, 128), 0);
	char buf[64];
	cr_assert_eq(ipcc_pring_observer_read(&o, buf, sizeof(buf)), -EAGAIN);
	for (uint64_t seq = 0; seq < 40; seq++) {
		uint8_t in[64];
		uint32_t len = qt_packet_len(seq, 40);
		qt_fill(in, len, seq);
		cr_assert_eq(ipcc_pring_push(&p, in, len), 0);
		uint8_t *before = malloc(size);
		memcpy(before, mem, size);
		cr_assert_eq(ipcc_pring_observer_read(&o, buf, sizeof(buf)), (int)len);
		cr_assert_eq(qt_verify((uint8_t *)buf, len, seq), len);
		cr_assert_eq(ipcc_pring_observer_read(&o, buf, sizeof(buf)), -EAGAIN);
		cr_assert_eq(memcmp(before, mem, size), 0, "the observer wrote nothing");
		free(before);
		cr_assert_eq(ipcc_pring_pop(&c, buf, sizeof(buf)), (int)len,
			     "the consumer still gets it");
	}
}

Test(queue, an_observer_left_behind_by_the_consumer_is_told_and_resumes_at_tail)
{
	struct ipcc_pring p, c;
	struct ipcc_pring_observer o;
	pring_pair(128, 0, &p, &c);
	size_t size = IPCC_QUEUE_META_SIZE + 128;
	cr_assert_eq(ipcc_pring_observer_attach(&o, mem, size, 128), 0);
	cr_assert_eq(ipcc_pring_push(&p, "one", 3), 0);
	cr_assert_eq(ipcc_pring_push(&p, "two", 3), 0);
	cr_assert_eq(ipcc_pring_push(&p, "three", 5), 0);
	char buf[8];
	cr_assert_eq(ipcc_pring_observer_read(&o, buf, 2), -EMSGSIZE);
	cr_assert_eq(ipcc_pring_observer_read(&o, buf, sizeof(buf)), 3, "position kept");
	cr_assert_eq(memcmp(buf, "one", 3), 0);
	cr_assert_eq(ipcc_pring_pop(&c, buf, sizeof(buf)), 3);
	cr_assert_eq(ipcc_pring_pop(&c, buf, sizeof(buf)), 3);
	cr_assert_eq(ipcc_pring_observer_read(&o, buf, sizeof(buf)), -ESTALE, "\"two\" released");
	cr_assert_eq(ipcc_pring_observer_read(&o, buf, sizeof(buf)), 5);
	cr_assert_eq(memcmp(buf, "three", 5), 0);
	cr_assert_eq(ipcc_pring_observer_read(&o, buf, sizeof(buf)), -EAGAIN);
	cr_assert_eq(ipcc_pring_observer_read(NULL, buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(ipcc_pring_observer_read(&o, NULL, 1), -EINVAL);
}

Test(queue, an_observer_works_on_a_read_only_mapping)
{
	struct ipcc_pring p;
	struct ipcc_pring_observer o;
	size_t size;
	cr_assert_eq(ipcc_pring_size(4096, &size), 0);
	int fd = memfd_create("ipcc-queue-test", MFD_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	void *rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	const void *ro = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	cr_assert(rw != MAP_FAILED && ro != MAP_FAILED);
	cr_assert_eq(ipcc_pring_init(rw, size, 4096), 0);
	cr_assert_eq(ipcc_pring_attach(&p, rw, size, 4096, IPCC_QUEUE_PRODUCER), 0);
	cr_assert_eq(ipcc_pring_observer_attach(&o, ro, size, 4096), 0);
	cr_assert_eq(ipcc_pring_push(&p, "hello", 5), 0);
	char buf[8];
	cr_assert_eq(ipcc_pring_observer_read(&o, buf, sizeof(buf)), 5);
	cr_assert_eq(memcmp(buf, "hello", 5), 0);
	struct ipcc_queue_state st;
	cr_assert_eq(ipcc_pring_observe(ro, size, 4096, &st), 0);
	cr_assert_eq(st.used, 16);
	munmap(rw, size);
	munmap((void *)ro, size);
}
