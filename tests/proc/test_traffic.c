/* SPDX-License-Identifier: MIT */
/*
 * Bulk traffic between two real processes over the simplex and half-duplex procedures
 * (lib/proc/proc.c), in every wait mode: nothing lost, duplicated, reordered or corrupted.
 *
 * The test process is CPU 0; a forked peer opens the system by name and attaches CPU 1. Every
 * message is self-checking (proc-test.h): its length (1..buffer size) and bytes follow from its
 * channel and sequence number. Blocking calls carry a finite timeout so that a lost wake-up
 * fails the test (with -ETIMEDOUT) instead of hanging it.
 *
 * Counts: 1,000,000 simplex messages and 100,000 calls per mode. futex mode costs about 20 us
 * per message on the 2-core VM, so its million messages take about 20 s; the other modes spin.
 * Spin-mode runs attempt fewer on a single usable CPU and stop at a time budget (proc-test.h,
 * pt_count and pt_budget): the test then tells the peer to stop and checks what was sent. The
 * end of a stopped stream is a zero-length message or request, a length no test message has.
 */
#include "proc-test.h"

#define SIMPLEX_COUNT  1000000u
#define CALL_COUNT     100000u
#define ZC_COUNT       100000u
#define MULTI_CHANNELS 4u
#define MULTI_COUNT    25000u /* per channel and direction */
#define BUFFER	       512u

/* Stream ids: what a message is (simplex, request, response), its direction and channel. */
enum { K_SIMPLEX = 1, K_REQUEST = 2, K_RESPONSE = 3 };
#define STREAM(kind, from, ch) (((uint32_t)(kind) << 16) | ((uint32_t)(from) << 8) | (ch))

static void teardown(void)
{
	pt_cleanup();
}

TestSuite(traffic, .fini = teardown, .timeout = 150);

struct peer_arg {
	const char *name;
	enum ipcc_wait_mode mode;
	unsigned ch;
	uint64_t count;
	bool zero_copy;
	struct pt_pipe bye;
	struct pt_tally *tally; /* shared: what the peer received */
	_Atomic bool *stop;	/* shared: the test's budget ran out, send no more */
};

static void peer_goodbye(struct peer_arg *a, struct ipcc_system *sys, struct ipcc_cpu *cpu)
{
	/* Stay attached until the test is done: detaching earlier would end its waits (-EPIPE). */
	PEER_CHECK(pt_await(a->bye, 60 * PT_SEC) >= 0, "no goodbye from the test");
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

static void report(const char *what, enum ipcc_wait_mode mode, uint64_t n, int64_t t0)
{
	double s = (double)(pt_now_ns() - t0) / PT_SEC;
	fprintf(stderr, "traffic: %-22s %-8s %8llu in %6.2f s (%6.2f us each)\n", what,
		pt_mode_name(mode), (unsigned long long)n, s, s * 1e6 / (double)n);
}

/* ---- simplex: peer CPU 1 sends, CPU 0 receives --------------------------------------- */

static int peer_simplex_send(void *p)
{
	struct peer_arg *a = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach(a->name, 1, a->mode, 0, &sys);
	size_t cap = ipcc_system_buffer_size(sys);
	uint8_t buf[BUFFER];

	uint64_t seq;
	for (seq = 0; seq < a->count; seq++) {
		/* Relaxed: the flag carries no data; a late look only sends one more message. */
		if (atomic_load_explicit(a->stop, memory_order_relaxed))
			break;
		size_t len = pt_msg_len(STREAM(K_SIMPLEX, 1, a->ch), seq, cap);
		int r;
		if (a->zero_copy) {
			void *b = NULL;
			size_t c = 0;
			r = ipcc_send_claim(cpu, 0, a->ch, PT_LONG, &b, &c);
			PEER_CHECK(r == 0, "send_claim %llu: %s", (unsigned long long)seq,
				   strerror(-r));
			PEER_CHECK(c == cap, "claim capacity %zu, buffer %zu", c, cap);
			pt_msg_fill(b, STREAM(K_SIMPLEX, 1, a->ch), seq, len);
			r = ipcc_send_commit(cpu, 0, a->ch, len);
		} else {
			pt_msg_fill(buf, STREAM(K_SIMPLEX, 1, a->ch), seq, len);
			r = ipcc_send(cpu, 0, a->ch, buf, len, PT_LONG);
		}
		PEER_CHECK(r == 0, "send %llu: %s", (unsigned long long)seq, strerror(-r));
	}
	if (seq < a->count) { /* stopped: mark the end of the stream */
		int r = ipcc_send(cpu, 0, a->ch, NULL, 0, PT_LONG);
		PEER_CHECK(r == 0, "end of the stream: %s", strerror(-r));
	}
	peer_goodbye(a, sys, cpu);
	return 0;
}

/* Take one message of the simplex stream into the tally; its length (0: the end marker). */
static size_t simplex_take(struct ipcc_cpu *cpu, const struct peer_arg *a, pid_t pid,
			   struct pt_tally *t, uint64_t i)
{
	uint8_t buf[BUFFER];
	int r;
	if (a->zero_copy) {
		const void *m = NULL;
		size_t n = 0;
		r = ipcc_recv_claim(cpu, 1, a->ch, PT_LONG, &m, &n);
		cr_assert_eq(r, 0, "recv_claim %llu: %s%s", (unsigned long long)i, strerror(-r),
			     pt_peer_note(pid));
		if (n)
			pt_msg_take(t, m, n, STREAM(K_SIMPLEX, 1, a->ch), BUFFER);
		r = ipcc_recv_release(cpu, 1, a->ch);
		cr_assert_eq(r, 0, "recv_release: %s", strerror(-r));
		return n;
	}
	r = ipcc_recv(cpu, 1, a->ch, buf, sizeof(buf), PT_LONG);
	cr_assert_geq(r, 0, "recv %llu: %s%s", (unsigned long long)i, strerror(-r),
		      pt_peer_note(pid));
	if (r)
		pt_msg_take(t, buf, (size_t)r, STREAM(K_SIMPLEX, 1, a->ch), BUFFER);
	return (size_t)r;
}

static void simplex(enum ipcc_wait_mode mode, uint64_t count, bool zero_copy)
{
	struct ipcc_system *sys = pt_create(2, 6, BUFFER);
	_Atomic bool *stop = pt_shared(sizeof(*stop));
	count = pt_count(mode, count);
	struct peer_arg a = { .name = ipcc_system_name(sys),
			      .mode = mode,
			      .ch = 3,
			      .count = count,
			      .zero_copy = zero_copy,
			      .bye = pt_pipe_new(),
			      .stop = stop };
	pid_t pid = pt_fork(peer_simplex_send, &a, 120);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, mode, 0);
	struct pt_budget budget = pt_budget_start(mode);
	struct pt_tally t = { 0 };
	uint8_t buf[BUFFER];
	int64_t t0 = pt_now_ns();

	for (uint64_t i = 0; i < count && pt_tally_ok(&t); i++) {
		if (pt_budget_over(&budget, i)) {
			/* Relaxed: the peer acts on it at its next message; the marker ends it. */
			atomic_store_explicit(stop, true, memory_order_relaxed);
			while (t.expect < count && pt_tally_ok(&t) &&
			       simplex_take(cpu, &a, pid, &t, i))
				;
			break;
		}
		cr_assert_neq(simplex_take(cpu, &a, pid, &t, i), 0, "an end marker unasked for");
	}
	report(zero_copy ? "simplex zero-copy" : "simplex", mode, t.expect, t0);
	pt_budget_report("simplex", t.expect, count);
	cr_assert(pt_tally_ok(&t), "simplex %s: " PT_TALLY_FMT, pt_mode_name(mode),
		  PT_TALLY_ARGS(&t));
	/* Relaxed: read after the stream's end, which the channel's flag ordered. */
	if (!atomic_load_explicit(stop, memory_order_relaxed))
		cr_assert_eq(t.expect, count);
	/* Nothing more than what was sent: the channel is empty now. */
	cr_assert_eq(ipcc_recv(cpu, 1, a.ch, buf, sizeof(buf), 0), -EAGAIN);
	pt_post(a.bye, 'x');
	pt_expect_exit0(pid, PT_LONG, "sender");
	munmap(stop, sizeof(*stop));
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

Test(traffic, simplex_1M_spin)
{
	simplex(IPCC_WAIT_SPIN, SIMPLEX_COUNT, false);
}

Test(traffic, simplex_1M_futex)
{
	simplex(IPCC_WAIT_FUTEX, SIMPLEX_COUNT, false);
}

Test(traffic, simplex_1M_adaptive)
{
	simplex(IPCC_WAIT_ADAPTIVE, SIMPLEX_COUNT, false);
}

Test(traffic, zero_copy_spin)
{
	simplex(IPCC_WAIT_SPIN, ZC_COUNT, true);
}

Test(traffic, zero_copy_futex)
{
	simplex(IPCC_WAIT_FUTEX, ZC_COUNT, true);
}

Test(traffic, zero_copy_adaptive)
{
	simplex(IPCC_WAIT_ADAPTIVE, ZC_COUNT, true);
}

/* ---- half-duplex: CPU 0 calls, peer CPU 1 serves -------------------------------------- */

static int peer_serve(void *p)
{
	struct peer_arg *a = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach(a->name, 1, a->mode, 0, &sys);
	size_t cap = ipcc_system_buffer_size(sys);
	uint8_t buf[BUFFER];

	for (uint64_t i = 0; i < a->count; i++) {
		int n = ipcc_serve(cpu, 0, a->ch, buf, sizeof(buf), PT_LONG);
		PEER_CHECK(n >= 0, "serve %llu: %s", (unsigned long long)i, strerror(-n));
		if (n == 0) { /* the test's budget ran out: the last call */
			int r = ipcc_reply(cpu, 0, a->ch, NULL, 0);
			PEER_CHECK(r == 0, "reply to the last call: %s", strerror(-r));
			break;
		}
		uint64_t seq = a->tally->expect;
		if (!pt_msg_take(a->tally, buf, (size_t)n, STREAM(K_REQUEST, 0, a->ch), cap))
			break; /* the test sees the tally */
		/* The response answers this request: same number, another stream. */
		size_t len = pt_msg_len(STREAM(K_RESPONSE, 1, a->ch), seq, cap);
		pt_msg_fill(buf, STREAM(K_RESPONSE, 1, a->ch), seq, len);
		int r = ipcc_reply(cpu, 0, a->ch, buf, len);
		PEER_CHECK(r == 0, "reply %llu: %s", (unsigned long long)i, strerror(-r));
	}
	peer_goodbye(a, sys, cpu);
	return 0;
}

static void half_duplex(enum ipcc_wait_mode mode, uint64_t count)
{
	struct ipcc_system *sys = pt_create(2, 6, BUFFER);
	struct pt_tally *served = pt_shared(sizeof(*served));
	count = pt_count(mode, count);
	struct peer_arg a = { .name = ipcc_system_name(sys),
			      .mode = mode,
			      .ch = 5,
			      .count = count,
			      .bye = pt_pipe_new(),
			      .tally = served };
	pid_t pid = pt_fork(peer_serve, &a, 120);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, mode, 0);
	struct pt_budget budget = pt_budget_start(mode);
	struct pt_tally t = { 0 };
	uint8_t req[BUFFER], resp[BUFFER];
	int64_t t0 = pt_now_ns();
	uint64_t done = count;

	for (uint64_t seq = 0; seq < count; seq++) {
		if (pt_budget_over(&budget, seq)) {
			done = seq;
			int n = ipcc_call(cpu, 1, a.ch, NULL, 0, resp, sizeof(resp), PT_LONG);
			cr_assert_eq(n, 0, "the last call: %s%s", strerror(-n), pt_peer_note(pid));
			break;
		}
		size_t len = pt_msg_len(STREAM(K_REQUEST, 0, a.ch), seq, BUFFER);
		pt_msg_fill(req, STREAM(K_REQUEST, 0, a.ch), seq, len);
		int n = ipcc_call(cpu, 1, a.ch, req, len, resp, sizeof(resp), PT_LONG);
		cr_assert_geq(n, 0, "call %llu: %s%s (server: " PT_TALLY_FMT ")",
			      (unsigned long long)seq, strerror(-n), pt_peer_note(pid),
			      PT_TALLY_ARGS(served));
		pt_msg_take(&t, resp, (size_t)n, STREAM(K_RESPONSE, 1, a.ch), BUFFER);
		if (!pt_tally_ok(&t))
			break;
	}
	report("half-duplex", mode, t.expect, t0);
	pt_budget_report("half-duplex", done, count);
	pt_post(a.bye, 'x');
	pt_expect_exit0(pid, PT_LONG, "server");
	cr_assert(pt_tally_ok(&t), "responses: " PT_TALLY_FMT, PT_TALLY_ARGS(&t));
	cr_assert(pt_tally_ok(served), "requests: " PT_TALLY_FMT, PT_TALLY_ARGS(served));
	cr_assert_eq(t.expect, done);
	cr_assert_eq(served->expect, done);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

Test(traffic, half_duplex_100k_spin)
{
	half_duplex(IPCC_WAIT_SPIN, CALL_COUNT);
}

Test(traffic, half_duplex_100k_futex)
{
	half_duplex(IPCC_WAIT_FUTEX, CALL_COUNT);
}

Test(traffic, half_duplex_100k_adaptive)
{
	half_duplex(IPCC_WAIT_ADAPTIVE, CALL_COUNT);
}

/*
 * ---- several channels in both directions at once ---------------------------------------
 *
 * CPU 0 runs like interrupt-driven firmware in one thread: ipcc_recv_async on its RX channels
 * and ipcc_send_async on its TX channels, driven by ipcc_cpu_wait + ipcc_cpu_dispatch. The
 * peer uses blocking calls, round robin over the channels, so up to MULTI_CHANNELS messages are
 * in flight each way. The peer cannot deadlock with CPU 0, which never blocks on one channel.
 */

struct multi_rx {
	struct pt_tally t;
	uint32_t stream;
};

struct multi_tx {
	uint64_t next, count;
	int error; /* first failure inside a callback */
	uint32_t stream;
};

static void multi_on_msg(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data,
			 size_t len, void *arg)
{
	struct multi_rx *rx = arg;
	pt_msg_take(&rx->t, data, len, rx->stream, BUFFER);
}

static void multi_on_free(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *arg)
{
	struct multi_tx *tx = arg;
	uint8_t buf[BUFFER];
	size_t len = pt_msg_len(tx->stream, tx->next, BUFFER);

	pt_msg_fill(buf, tx->stream, tx->next, len);
	/* The contract of ipcc_send_async: when fn runs, a send succeeds without waiting. */
	int r = ipcc_send(cpu, peer, ch, buf, len, 0);
	if (r < 0) {
		tx->error = r;
		return;
	}
	if (++tx->next < tx->count) {
		r = ipcc_send_async(cpu, peer, ch, multi_on_free, tx);
		if (r < 0)
			tx->error = r;
	}
}

static int peer_multi(void *p)
{
	struct peer_arg *a = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach(a->name, 1, a->mode, 0, &sys);
	struct pt_tally t[MULTI_CHANNELS] = { 0 };
	uint8_t buf[BUFFER];

	for (uint64_t seq = 0; seq < a->count; seq++) {
		for (unsigned ch = 0; ch < MULTI_CHANNELS; ch++) {
			uint32_t s = STREAM(K_SIMPLEX, 1, ch);
			size_t len = pt_msg_len(s, seq, BUFFER);
			pt_msg_fill(buf, s, seq, len);
			int r = ipcc_send(cpu, 0, ch, buf, len, PT_LONG);
			PEER_CHECK(r == 0, "send %llu on %u: %s", (unsigned long long)seq, ch,
				   strerror(-r));
		}
		for (unsigned ch = 0; ch < MULTI_CHANNELS; ch++) {
			int n = ipcc_recv(cpu, 0, ch, buf, sizeof(buf), PT_LONG);
			PEER_CHECK(n >= 0, "recv %llu on %u: %s", (unsigned long long)seq, ch,
				   strerror(-n));
			pt_msg_take(&t[ch], buf, (size_t)n, STREAM(K_SIMPLEX, 0, ch), BUFFER);
			PEER_CHECK(pt_tally_ok(&t[ch]), "channel %u: " PT_TALLY_FMT, ch,
				   PT_TALLY_ARGS(&t[ch]));
		}
	}
	peer_goodbye(a, sys, cpu);
	return 0;
}

static void multi_channel(enum ipcc_wait_mode mode, uint64_t count)
{
	struct ipcc_system *sys = pt_create(2, 6, BUFFER);
	count = pt_count(mode, count);
	struct peer_arg a = {
		.name = ipcc_system_name(sys), .mode = mode, .count = count, .bye = pt_pipe_new()
	};
	pid_t pid = pt_fork(peer_multi, &a, 120);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, mode, 0);
	struct multi_rx rx[MULTI_CHANNELS];
	struct multi_tx tx[MULTI_CHANNELS];
	int64_t t0 = pt_now_ns();

	for (unsigned ch = 0; ch < MULTI_CHANNELS; ch++) {
		rx[ch] = (struct multi_rx){ .stream = STREAM(K_SIMPLEX, 1, ch) };
		tx[ch] = (struct multi_tx){ .count = count, .stream = STREAM(K_SIMPLEX, 0, ch) };
		cr_assert_eq(ipcc_recv_async(cpu, 1, ch, multi_on_msg, &rx[ch]), 0);
		cr_assert_eq(ipcc_send_async(cpu, 1, ch, multi_on_free, &tx[ch]), 0);
	}
	for (;;) {
		bool done = true;
		for (unsigned ch = 0; ch < MULTI_CHANNELS; ch++) {
			cr_assert(pt_tally_ok(&rx[ch].t), "channel %u: " PT_TALLY_FMT, ch,
				  PT_TALLY_ARGS(&rx[ch].t));
			cr_assert_eq(tx[ch].error, 0, "send on channel %u: %s", ch,
				     strerror(-tx[ch].error));
			done &= rx[ch].t.expect == count && tx[ch].next == count;
		}
		if (done)
			break;
		int r = ipcc_cpu_wait(cpu, PT_LONG);
		cr_assert_eq(r, 0, "ipcc_cpu_wait: %s%s (rx %llu, tx %llu)", strerror(-r),
			     pt_peer_note(pid), (unsigned long long)rx[0].t.expect,
			     (unsigned long long)tx[0].next);
		r = ipcc_cpu_dispatch(cpu);
		cr_assert_geq(r, 0, "dispatch: %s", strerror(-r));
	}
	report("4 channels x 2 ways", mode, count * MULTI_CHANNELS * 2, t0);
	pt_post(a.bye, 'x');
	pt_expect_exit0(pid, PT_LONG, "peer");
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

Test(traffic, multi_channel_spin)
{
	multi_channel(IPCC_WAIT_SPIN, MULTI_COUNT);
}

Test(traffic, multi_channel_futex)
{
	multi_channel(IPCC_WAIT_FUTEX, MULTI_COUNT);
}

Test(traffic, multi_channel_adaptive)
{
	multi_channel(IPCC_WAIT_ADAPTIVE, MULTI_COUNT);
}

/* ---- zero-copy misuse ----------------------------------------------------------------- */

Test(traffic, zero_copy_misuse)
{
	struct ipcc_system *sys = pt_create(2, 2, 64);
	struct ipcc_cpu *c0 = pt_attach(sys, 0, IPCC_WAIT_SPIN, 0);
	struct ipcc_cpu *c1 = pt_attach(sys, 1, IPCC_WAIT_SPIN, 0);
	void *tb, *tb2;
	const void *rb, *rb2;
	size_t cap, len;

	/* Nothing claimed yet. */
	cr_assert_eq(ipcc_send_commit(c0, 1, 0, 4), -EALREADY);
	cr_assert_eq(ipcc_recv_release(c1, 0, 0), -EALREADY);

	cr_assert_eq(ipcc_send_claim(c0, 1, 0, 0, &tb, &cap), 0);
	cr_assert_eq(cap, 64);
	cr_assert_eq(ipcc_send_claim(c0, 1, 0, 0, &tb2, &cap), -EBUSY, "double send claim");
	cr_assert_eq(ipcc_send(c0, 1, 0, "x", 1, 0), -EBUSY, "copy send over a claimed buffer");
	/* Still claimed after the refused commit. */
	cr_assert_eq(ipcc_send_commit(c0, 1, 0, 65), -EMSGSIZE);
	memcpy(tb, "zero-copy", 9);
	cr_assert_eq(ipcc_send_commit(c0, 1, 0, 9), 0);
	cr_assert_eq(ipcc_send_commit(c0, 1, 0, 9), -EALREADY, "commit twice");
	cr_assert_eq(ipcc_chan_status(c0, 1, 0, IPCC_DIR_TX), 1);

	cr_assert_eq(ipcc_recv_claim(c1, 0, 0, 0, &rb, &len), 0);
	cr_assert_eq(len, 9);
	cr_assert_eq(memcmp(rb, "zero-copy", 9), 0);
	cr_assert_eq(ipcc_recv_claim(c1, 0, 0, 0, &rb2, &len), -EBUSY, "double recv claim");
	char buf[64];
	cr_assert_eq(ipcc_recv(c1, 0, 0, buf, sizeof(buf), 0), -EBUSY, "copy recv while claimed");
	/* The channel stays occupied while the receiver holds the buffer. */
	cr_assert_eq(ipcc_chan_status(c0, 1, 0, IPCC_DIR_TX), 1);
	cr_assert_eq(ipcc_recv_release(c1, 0, 0), 0);
	cr_assert_eq(ipcc_recv_release(c1, 0, 0), -EALREADY, "release twice");
	cr_assert_eq(ipcc_chan_status(c0, 1, 0, IPCC_DIR_TX), 0);

	/* Claims are per channel: another channel is unaffected. */
	cr_assert_eq(ipcc_send_claim(c0, 1, 0, 0, &tb, &cap), 0);
	cr_assert_eq(ipcc_send(c0, 1, 1, "y", 1, 0), 0);
	cr_assert_eq(ipcc_send_commit(c0, 1, 0, 0), 0);
	/* Empty channel, timeout 0. */
	cr_assert_eq(ipcc_recv_claim(c0, 1, 0, 0, &rb, &len), -EAGAIN);

	ipcc_cpu_detach(c1);
	ipcc_cpu_detach(c0);
	ipcc_system_close(sys);
}

/* The checker itself: a test that cannot fail proves nothing. */
Test(traffic, checker_detects_loss_duplication_corruption)
{
	uint8_t m[BUFFER];
	struct pt_tally t = { 0 };
	uint32_t s = STREAM(K_SIMPLEX, 1, 0);
	size_t len;

	for (uint64_t seq = 0; seq < 3; seq++) {
		len = pt_msg_len(s, seq, BUFFER);
		pt_msg_fill(m, s, seq, len);
		cr_assert(pt_msg_take(&t, m, len, s, BUFFER));
	}
	/* Skip 3 and 4: lost, whatever their lengths. */
	uint64_t seq = 5;
	while ((len = pt_msg_len(s, seq, BUFFER)) < 8)
		seq++;
	pt_msg_fill(m, s, seq, len);
	cr_assert_not(pt_msg_take(&t, m, len, s, BUFFER));
	cr_assert_eq(t.lost, seq - 3);
	/* The same message again: a duplicate. */
	cr_assert_not(pt_msg_take(&t, m, len, s, BUFFER));
	cr_assert_eq(t.dup, 1);
	/* One flipped bit in the next one: corrupt. */
	seq = t.expect;
	len = pt_msg_len(s, seq, BUFFER);
	pt_msg_fill(m, s, seq, len);
	m[len - 1] ^= 0x10;
	cr_assert_not(pt_msg_take(&t, m, len, s, BUFFER));
	cr_assert(t.corrupt + t.mismatch == 1);
	/* A message of another channel is never taken for this one's. */
	seq = t.expect;
	len = pt_msg_len(STREAM(K_SIMPLEX, 1, 1), seq, BUFFER);
	pt_msg_fill(m, STREAM(K_SIMPLEX, 1, 1), seq, len);
	cr_assert_not(pt_msg_take(&t, m, len, s, BUFFER));
}
