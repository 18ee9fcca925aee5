/* SPDX-License-Identifier: MIT */
/*
 * Promises of the procedures (lib/proc/proc.c) that only show at their edges: a length word a
 * peer wrote beyond the buffer, a request too big for the callback form, the TX-free mask after
 * a send that waited, and the one budget of a call that first settles a stale response.
 *
 * Both CPUs are attached by the test process; where one side must act while the other blocks,
 * it runs in a thread. The hostile length is written straight into the slot, the way a peer
 * without the library would.
 */
#include <pthread.h>
#include <stddef.h>

#include <ipcc/layout.h>

#include "proc-test.h"

#define BUFFER	 128u
#define CHANNELS 6u
#define FILL	 0xA5 /* what the caller's buffers hold before a refused receive */

static void teardown(void)
{
	pt_cleanup();
}

TestSuite(contract, .fini = teardown, .timeout = 40);

struct pair {
	struct ipcc_system *sys;
	struct ipcc_cpu *c0, *c1;
	struct ipcc_regs *regs; /* link (0, 1): CPU 0 is processor 1 */
};

static void pair_start(struct pair *p, enum ipcc_wait_mode mode)
{
	p->sys = pt_create(2, CHANNELS, BUFFER);
	p->c0 = pt_attach(p->sys, 0, mode, 0);
	p->c1 = pt_attach(p->sys, 1, mode, 0);
	int r = ipcc_regs_open(p->sys, 0, 1, &p->regs);
	pt_assert(r == 0, "ipcc_regs_open: %s", strerror(-r));
}

static void pair_stop(struct pair *p)
{
	ipcc_regs_close(p->regs);
	ipcc_cpu_detach(p->c0);
	ipcc_cpu_detach(p->c1);
	ipcc_system_close(p->sys);
}

/* The slot a CPU writes towards `peer` on `ch`: its data and its length word. */
static uint8_t *tx_data(struct ipcc_cpu *cpu, unsigned peer, unsigned ch)
{
	void *b = NULL;
	size_t n = 0;
	cr_assert_eq(ipcc_chan_buffer(cpu, peer, ch, IPCC_DIR_TX, &b, &n), 0);
	cr_assert_eq(n, BUFFER);
	return b;
}

static _Atomic uint32_t *len_word(uint8_t *data)
{
	return &((struct ipcc_shm_slot *)(data - sizeof(struct ipcc_shm_slot)))->len;
}

/* A peer's scribble: a recognisable payload under a length one above the buffer. */
static void hostile_length(uint8_t *data)
{
	memset(data, 0x5A, BUFFER);
	/* Relaxed: published by the CHnS or CHnC the caller writes next (lib/ipcc/regs.c). */
	atomic_store_explicit(len_word(data), BUFFER + 1, memory_order_relaxed);
}

static bool untouched(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != FILL)
			return false;
	return true;
}

/* ---- a length above the buffer is refused by every receiving form --------------------- */

struct bad_server {
	struct ipcc_cpu *cpu;
	unsigned ch;
	int served;
};

/* Serve one request, then answer it with the hostile length (CHnC: "response ready"). */
static void *serve_hostile(void *p)
{
	struct bad_server *s = p;
	char req[BUFFER];
	s->served = ipcc_serve(s->cpu, 0, s->ch, req, sizeof(req), PT_LONG);
	if (s->served >= 0) {
		void *b = NULL;
		size_t n = 0;
		/* The RX slot of CPU 1 is where the response goes. */
		ipcc_chan_buffer(s->cpu, 0, s->ch, IPCC_DIR_RX, &b, &n);
		hostile_length(b);
		ipcc_chan_clear(s->cpu, 0, s->ch);
	}
	return NULL;
}

struct seen {
	unsigned calls;
	size_t len;
};

static void on_msg(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data, size_t len,
		   void *arg)
{
	struct seen *s = arg;
	s->calls++;
	s->len = len;
}

static int on_serve(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *buf, size_t len,
		    size_t cap, void *arg)
{
	struct seen *s = arg;
	s->calls++;
	s->len = len;
	return 0;
}

/* CPU 1 posts the hostile length on `ch` towards CPU 0. */
static void post_hostile(struct pair *p, unsigned ch)
{
	hostile_length(tx_data(p->c1, 0, ch));
	cr_assert_eq(ipcc_chan_set(p->c1, 0, ch), 0);
}

/* Dispatch CPU 0 until its line is low; the channel's RX flag afterwards. */
static int dispatch_all(struct pair *p, unsigned ch)
{
	for (int i = 0; i < 10 && ipcc_cpu_wait(p->c0, 0) == 0; i++)
		cr_assert_geq(ipcc_cpu_dispatch(p->c0), 0);
	return ipcc_chan_status(p->c0, 1, ch, IPCC_DIR_RX);
}

Test(contract, a_length_above_the_buffer_is_refused_by_every_receiving_form)
{
	struct pair p;
	uint8_t buf[2 * BUFFER];
	pair_start(&p, IPCC_WAIT_FUTEX);

	/* Simplex, blocking and zero-copy: -EBADMSG, nothing copied, nothing handed out. */
	post_hostile(&p, 0);
	memset(buf, FILL, sizeof(buf));
	cr_assert_eq(ipcc_recv(p.c0, 1, 0, buf, sizeof(buf), PT_LONG), -EBADMSG, "recv");
	cr_assert(untouched(buf, sizeof(buf)), "recv copied a refused message");
	cr_assert_eq(ipcc_recv(p.c0, 1, 0, buf, BUFFER, 0), -EBADMSG, "recv, buffer-sized");
	cr_assert(untouched(buf, sizeof(buf)), "recv copied a refused message");
	const void *claimed = buf;
	size_t claimed_len = 7;
	cr_assert_eq(ipcc_recv_claim(p.c0, 1, 0, PT_LONG, &claimed, &claimed_len), -EBADMSG);
	cr_assert_eq(claimed, buf, "recv_claim wrote its output");
	cr_assert_eq(claimed_len, 7, "recv_claim wrote its output");
	cr_assert_eq(ipcc_recv_release(p.c0, 1, 0), -EALREADY, "a refused claim is no claim");
	/* The server side of a call reads requests the same way. */
	cr_assert_eq(ipcc_serve(p.c0, 1, 0, buf, sizeof(buf), 0), -EBADMSG, "serve");
	cr_assert(untouched(buf, sizeof(buf)), "serve copied a refused request");
	cr_assert_eq(ipcc_chan_status(p.c0, 1, 0, IPCC_DIR_RX), 1, "refused, left in place");
	cr_assert_eq(ipcc_chan_clear(p.c0, 1, 0), 0);

	/* Half-duplex: a response with the hostile length. */
	struct bad_server s = { .cpu = p.c1, .ch = 1, .served = -1 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, serve_hostile, &s), 0);
	memset(buf, FILL, sizeof(buf));
	int r = ipcc_call(p.c0, 1, 1, "req", 3, buf, sizeof(buf), PT_LONG);
	pthread_join(t, NULL);
	cr_assert_eq(s.served, 3, "serve: %s", strerror(-s.served));
	cr_assert_eq(r, -EBADMSG, "call: %d (%s)", r, strerror(-r));
	cr_assert(untouched(buf, sizeof(buf)), "call copied a refused response");

	/* Callbacks: no handler sees it, and the channel is not left stuck. */
	struct seen got = { 0 };
	cr_assert_eq(ipcc_recv_async(p.c0, 1, 2, on_msg, &got), 0);
	post_hostile(&p, 2);
	cr_assert_eq(dispatch_all(&p, 2), 0, "recv_async left the corrupt message in place");
	cr_assert_eq(got.calls, 0, "recv_async handler ran with length %zu", got.len);
	cr_assert_eq(ipcc_serve_async(p.c0, 1, 3, on_serve, &got), 0);
	post_hostile(&p, 3);
	cr_assert_eq(dispatch_all(&p, 3), 0, "serve_async left the corrupt request in place");
	cr_assert_eq(got.calls, 0, "serve_async handler ran with length %zu", got.len);

	/* call_async: the response callback cannot get an error; it never sees the length. */
	cr_assert_eq(ipcc_call_async(p.c0, 1, 4, "req", 3, on_msg, &got), 0);
	char req[BUFFER];
	cr_assert_eq(ipcc_serve(p.c1, 0, 4, req, sizeof(req), PT_LONG), 3);
	void *rb = NULL;
	size_t rn = 0;
	cr_assert_eq(ipcc_chan_buffer(p.c1, 0, 4, IPCC_DIR_RX, &rb, &rn), 0);
	hostile_length(rb);
	cr_assert_eq(ipcc_chan_clear(p.c1, 0, 4), 0);
	for (int i = 0; i < 10 && ipcc_cpu_wait(p.c0, 0) == 0; i++)
		cr_assert_geq(ipcc_cpu_dispatch(p.c0), 0);
	cr_assert_leq(got.len, BUFFER, "call_async handed over a length beyond the buffer");
	pair_stop(&p);
}

/* ---- ipcc_call_async refuses a request larger than the buffer, writing nothing ---------- */

Test(contract, call_async_refuses_a_request_above_the_buffer_and_writes_nothing)
{
	struct pair p;
	struct seen got = { 0 };
	uint8_t big[2 * BUFFER], own[BUFFER], next[BUFFER];
	pair_start(&p, IPCC_WAIT_FUTEX);

	/* Channel 2's slot and the one after it (channel 3, next in memory) hold known bytes. */
	uint8_t *slot2 = tx_data(p.c0, 1, 2), *slot3 = tx_data(p.c0, 1, 3);
	memset(slot2, 0x11, BUFFER);
	memset(slot3, 0x33, BUFFER);
	/* Relaxed: nothing is published; the test reads them back in this thread. */
	atomic_store_explicit(len_word(slot2), 17, memory_order_relaxed);
	atomic_store_explicit(len_word(slot3), 19, memory_order_relaxed);
	memcpy(own, slot2, BUFFER);
	memcpy(next, slot3, BUFFER);
	memset(big, 0xEE, sizeof(big));

	cr_assert_eq(ipcc_call_async(p.c0, 1, 2, big, BUFFER + 1, on_msg, &got), -EMSGSIZE);
	cr_assert_eq(ipcc_call_async(p.c0, 1, 2, big, sizeof(big), on_msg, &got), -EMSGSIZE);
	cr_assert_eq(memcmp(slot2, own, BUFFER), 0, "the refused request was written");
	cr_assert_eq(atomic_load_explicit(len_word(slot2), memory_order_relaxed), 17);
	cr_assert_eq(memcmp(slot3, next, BUFFER), 0, "the next channel's slot was overwritten");
	cr_assert_eq(atomic_load_explicit(len_word(slot3), memory_order_relaxed), 19,
		     "the next channel's length was overwritten");
	cr_assert_eq(ipcc_chan_status(p.c0, 1, 2, IPCC_DIR_TX), 0, "the request went out");
	cr_assert_eq(ipcc_chan_status(p.c1, 0, 2, IPCC_DIR_RX), 0, "the peer sees a request");

	/* The channel is still usable: a request that fits goes out and is answered. */
	cr_assert_eq(ipcc_call_async(p.c0, 1, 2, big, BUFFER, on_msg, &got), 0);
	cr_assert_eq(ipcc_serve(p.c1, 0, 2, big, sizeof(big), PT_LONG), (int)BUFFER);
	cr_assert_eq(ipcc_reply(p.c1, 0, 2, "ok", 2), 0);
	for (int i = 0; i < 10 && got.calls == 0; i++) {
		cr_assert_eq(ipcc_cpu_wait(p.c0, PT_LONG), 0);
		cr_assert_geq(ipcc_cpu_dispatch(p.c0), 0);
	}
	cr_assert_eq(got.calls, 1);
	cr_assert_eq(got.len, 2);
	pair_stop(&p);
}

/* ---- a send that waited for TX free masks TX free again -------------------------------- */

struct drain {
	struct pair *p;
	unsigned ch;
	int result;
};

/* Take the message on `ch` once CPU 0 waits for the channel (it unmasks CHnFM to wait). */
static void *drain_when_waited_for(void *arg)
{
	struct drain *d = arg;
	char buf[BUFFER];
	int64_t end = pt_now_ns() + PT_LONG;
	d->result = -ETIME;
	while (pt_now_ns() < end) {
		uint32_t mr = 0;
		ipcc_regs_read(d->p->regs, IPCC_C1MR, &mr);
		if (!(mr & IPCC_MR_CHFM(d->ch))) {
			d->result = ipcc_recv(d->p->c1, 0, d->ch, buf, sizeof(buf), PT_LONG);
			return NULL;
		}
		pt_sleep_ms(1);
	}
	return NULL;
}

static void expect_txf_masked(struct pair *p, unsigned ch, const char *what)
{
	uint32_t mr = pt_rd(p->regs, IPCC_C1MR);
	cr_assert(mr & IPCC_MR_CHFM(ch), "%s: CHnFM left unmasked (C1MR 0x%08x)", what, mr);
	cr_assert_not(ipcc_regs_irq(p->regs, 1, IPCC_IRQ_TXF), "%s: TX-free line high", what);
}

Test(contract, a_send_that_waited_for_tx_free_masks_it_again)
{
	struct pair p;
	char buf[BUFFER];
	const unsigned ch = 1;
	pair_start(&p, IPCC_WAIT_FUTEX);

	cr_assert_eq(ipcc_send(p.c0, 1, ch, "a", 1, 0), 0);
	struct drain d = { .p = &p, .ch = ch };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, drain_when_waited_for, &d), 0);
	cr_assert_eq(ipcc_send(p.c0, 1, ch, "b", 1, PT_LONG), 0, "the waiting send");
	pthread_join(t, NULL);
	cr_assert_eq(d.result, 1, "the drain: %d (%s)", d.result, strerror(-d.result));
	/* Free the channel: an unmasked TX free would now raise CPU 0's line for good. */
	cr_assert_eq(ipcc_recv(p.c1, 0, ch, buf, sizeof(buf), PT_LONG), 1);
	cr_assert_eq(buf[0], 'b');
	expect_txf_masked(&p, ch, "after a send that waited");
	cr_assert_eq(ipcc_cpu_wait(p.c0, 0), -EAGAIN, "CPU 0 has a line pending");

	/* A send that gave up waiting masks it again too. */
	cr_assert_eq(ipcc_send(p.c0, 1, ch, "c", 1, 0), 0);
	cr_assert_eq(ipcc_send(p.c0, 1, ch, "d", 1, 20 * PT_MS), -ETIMEDOUT);
	cr_assert_eq(ipcc_recv(p.c1, 0, ch, buf, sizeof(buf), PT_LONG), 1);
	expect_txf_masked(&p, ch, "after a send that timed out");
	pair_stop(&p);
}

/* ---- a call that settles a stale response keeps to its one timeout -------------------- */

struct late_server {
	struct ipcc_cpu *cpu;
	unsigned ch;
	int64_t delay_ns;
	int result;
};

/* Serve one request and answer it late; never serve the next one. */
static void *answer_late(void *arg)
{
	struct late_server *s = arg;
	char req[BUFFER];
	s->result = ipcc_serve(s->cpu, 0, s->ch, req, sizeof(req), PT_LONG);
	if (s->result < 0)
		return NULL;
	pt_sleep_ms((unsigned)(s->delay_ns / PT_MS));
	s->result = ipcc_reply(s->cpu, 0, s->ch, "late", 4);
	return NULL;
}

Test(contract, a_call_that_settles_a_stale_response_returns_within_its_timeout)
{
	struct pair p;
	char resp[BUFFER];
	const unsigned ch = 5;
	const int64_t timeout = 2 * PT_SEC;
	pair_start(&p, IPCC_WAIT_FUTEX);

	/* Request A goes out and its response stays pending (proc.h, timeout 0). */
	cr_assert_eq(ipcc_call(p.c0, 1, ch, "A", 1, resp, sizeof(resp), 0), -EAGAIN);
	/* A's answer comes at 90 % of the next call's timeout; B is never answered. */
	struct late_server s = { .cpu = p.c1, .ch = ch, .delay_ns = timeout / 10 * 9 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, answer_late, &s), 0);
	int64_t t0 = pt_now_ns();
	int r = ipcc_call(p.c0, 1, ch, "B", 1, resp, sizeof(resp), timeout);
	int64_t took = pt_now_ns() - t0;
	pthread_join(t, NULL);
	cr_assert_eq(s.result, 0, "late reply: %s", strerror(-s.result));
	cr_assert_eq(r, -ETIMEDOUT, "call B: %d (%s)", r, strerror(-r));
	/*
	 * Settling A used most of the budget; B's own wait gets only the rest. A call that
	 * restarted its timeout after settling would take about 1.9 timeouts; the bound leaves
	 * half a timeout for a loaded machine.
	 */
	cr_assert_lt(took, timeout + timeout / 2, "call B took %.2f s with a timeout of %.2f s",
		     (double)took / PT_SEC, (double)timeout / PT_SEC);
	cr_assert_eq(ipcc_chan_status(p.c1, 0, ch, IPCC_DIR_RX), 1, "B went out after A settled");
	pair_stop(&p);
}
