/* SPDX-License-Identifier: MIT */
/*
 * Interrupts end to end (stm32-ipcc.md, "Interrupts are levels"): the procedures' callback forms
 * driven by ipcc_cpu_dispatch and by the interrupt thread, level semantics seen through the
 * public API, handler registration, and Standby.
 *
 * Where a second process adds nothing but noise (the dispatcher's masking, a local TX level),
 * both CPUs are attached by the test thread itself; where the peer's timing matters (a message
 * posted while masked, callbacks on both sides) the peer is a forked process.
 */
#include "proc-test.h"

#include "internal.h" /* the doorbell's sleeper count: is a CPU asleep in the kernel? */

#define BUFFER 128u

static void teardown(void)
{
	pt_cleanup();
}

TestSuite(irq, .fini = teardown, .timeout = 40);

/* Register offsets of processor p (1 or 2). */
#define CR(p) (IPCC_C1CR + ((p)-1) * IPCC_BANK_STRIDE)
#define MR(p) (IPCC_C1MR + ((p)-1) * IPCC_BANK_STRIDE)

struct got {
	unsigned calls;
	size_t len;
	char data[BUFFER];
	uint32_t mr_in_handler;
	struct ipcc_regs *regs; /* to read the MR from inside the handler */
	unsigned proc;		/* the handler's CPU's processor number on that link */
};

static void on_msg(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data, size_t len,
		   void *arg)
{
	struct got *g = arg;
	g->calls++;
	g->len = len < sizeof(g->data) ? len : sizeof(g->data);
	memcpy(g->data, data, g->len);
	if (g->regs)
		ipcc_regs_read(g->regs, MR(g->proc), &g->mr_in_handler);
}

static void on_free(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *arg)
{
	struct got *g = arg;
	g->calls++;
	if (g->regs)
		ipcc_regs_read(g->regs, MR(g->proc), &g->mr_in_handler);
}

/* ---- level semantics -------------------------------------------------------------------- */

struct sender_arg {
	const char *name;
	unsigned ch, rounds;
	struct pt_pipe go, sent, bye;
};

/* Peer CPU 1: on each "go", send one message on `ch` and say so. */
static int peer_sender(void *p)
{
	struct sender_arg *a = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach(a->name, 1, IPCC_WAIT_FUTEX, 0, &sys);

	for (unsigned i = 0; i < a->rounds; i++) {
		char msg[32];
		PEER_CHECK(pt_await(a->go, PT_LONG) >= 0, "no go %u", i);
		int n = snprintf(msg, sizeof(msg), "message %u", i);
		int r = ipcc_send(cpu, 0, a->ch, msg, (size_t)n + 1, PT_LONG);
		PEER_CHECK(r == 0, "send %u: %s", i, strerror(-r));
		pt_post(a->sent, 's');
	}
	PEER_CHECK(pt_await(a->bye, PT_LONG) >= 0, "no goodbye");
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

Test(irq, message_posted_while_masked_is_delivered_on_unmask)
{
	struct ipcc_system *sys = pt_create(2, 6, BUFFER);
	struct sender_arg a = { .name = ipcc_system_name(sys),
				.ch = 2,
				.rounds = 2,
				.go = pt_pipe_new(),
				.sent = pt_pipe_new(),
				.bye = pt_pipe_new() };
	struct ipcc_cpu *cpu = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	struct ipcc_regs *regs;
	struct got g = { 0 };

	cr_assert_eq(ipcc_regs_open(sys, 0, 1, &regs), 0);
	pid_t pid = pt_fork(peer_sender, &a, 30);
	cr_assert_eq(ipcc_recv_async(cpu, 1, a.ch, on_msg, &g), 0);

	/* 1: the channel's RX occupied interrupt is masked while the message arrives. */
	cr_assert_eq(ipcc_chan_mask(cpu, 1, a.ch, IPCC_DIR_RX), 0);
	pt_post(a.go, 'g');
	cr_assert_eq(pt_await(a.sent, PT_LONG), 's');
	cr_assert_eq(ipcc_chan_status(cpu, 1, a.ch, IPCC_DIR_RX), 1, "the message is there");
	cr_assert_not(ipcc_regs_irq(regs, 1, IPCC_IRQ_RXO), "masked: RXO stays low");
	cr_assert_eq(ipcc_cpu_wait(cpu, 0), -EAGAIN);
	cr_assert_eq(ipcc_cpu_wait(cpu, 20 * PT_MS), -ETIMEDOUT);
	cr_assert_eq(ipcc_cpu_dispatch(cpu), 0);
	cr_assert_eq(g.calls, 0);

	/* Unmasking while the flag is set asserts the line at once: nothing is lost. */
	cr_assert_eq(ipcc_chan_unmask(cpu, 1, a.ch, IPCC_DIR_RX), 0);
	cr_assert(ipcc_regs_irq(regs, 1, IPCC_IRQ_RXO));
	cr_assert_eq(ipcc_cpu_wait(cpu, 0), 0, "the level is there without waiting");
	cr_assert_eq(ipcc_cpu_dispatch(cpu), 1);
	cr_assert_eq(g.calls, 1);
	cr_assert_str_eq(g.data, "message 0");
	cr_assert_eq(ipcc_chan_status(cpu, 1, a.ch, IPCC_DIR_RX), 0, "freed after the handler");

	/* 2: the same with RXOIE off, then on (enabling is an unmask of the whole line). */
	cr_assert_eq(ipcc_chan_irq_enable(cpu, 1, IPCC_DIR_RX, false), 0);
	pt_post(a.go, 'g');
	cr_assert_eq(pt_await(a.sent, PT_LONG), 's');
	cr_assert_not(ipcc_regs_irq(regs, 1, IPCC_IRQ_RXO));
	cr_assert_eq(ipcc_cpu_wait(cpu, 20 * PT_MS), -ETIMEDOUT);
	cr_assert_eq(ipcc_chan_irq_enable(cpu, 1, IPCC_DIR_RX, true), 0);
	cr_assert_eq(ipcc_cpu_wait(cpu, PT_LONG), 0);
	cr_assert_eq(ipcc_cpu_dispatch(cpu), 1);
	cr_assert_eq(g.calls, 2);
	cr_assert_str_eq(g.data, "message 1");

	pt_post(a.bye, 'x');
	pt_expect_exit0(pid, PT_LONG, "sender");
	ipcc_regs_close(regs);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

struct taker_arg {
	const char *name;
	unsigned ch;
	struct pt_pipe taken, bye;
};

/* Peer CPU 1: receive one message on `ch`, say so, then idle. */
static int peer_taker(void *p)
{
	struct taker_arg *a = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach(a->name, 1, IPCC_WAIT_FUTEX, 0, &sys);
	char buf[BUFFER];

	int n = ipcc_recv(cpu, 0, a->ch, buf, sizeof(buf), PT_LONG);
	PEER_CHECK(n == 6 && !strcmp(buf, "first"), "recv: %d %s", n, n < 0 ? strerror(-n) : "");
	pt_post(a->taken, 't');
	PEER_CHECK(pt_await(a->bye, PT_LONG) >= 0, "no goodbye");
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

Test(irq, tx_free_wait_after_the_channel_was_freed_returns_at_once)
{
	struct ipcc_system *sys = pt_create(2, 6, BUFFER);
	struct taker_arg a = {
		.name = ipcc_system_name(sys), .ch = 1, .taken = pt_pipe_new(), .bye = pt_pipe_new()
	};
	struct ipcc_cpu *cpu = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	struct ipcc_regs *regs;
	struct got g = { 0 };

	cr_assert_eq(ipcc_regs_open(sys, 0, 1, &regs), 0);
	pid_t pid = pt_fork(peer_taker, &a, 30);
	cr_assert_eq(ipcc_send(cpu, 1, a.ch, "first", 6, PT_LONG), 0);
	cr_assert_eq(pt_await(a.taken, PT_LONG), 't');
	/* The free happened while nobody listened to TX free (CHnFM masked). */
	cr_assert_eq(ipcc_chan_status(cpu, 1, a.ch, IPCC_DIR_TX), 0);
	cr_assert_not(ipcc_regs_irq(regs, 1, IPCC_IRQ_TXF));

	/* Waiting for TX free now finds the level: no edge was needed. */
	cr_assert_eq(ipcc_send_async(cpu, 1, a.ch, on_free, &g), 0);
	cr_assert(ipcc_regs_irq(regs, 1, IPCC_IRQ_TXF));
	int64_t t0 = pt_now_ns();
	cr_assert_eq(ipcc_cpu_wait(cpu, 0), 0, "timeout 0 finds the line asserted");
	cr_assert_eq(ipcc_cpu_wait(cpu, PT_LONG), 0);
	int64_t dt = pt_now_ns() - t0;
	cr_assert_lt(dt, PT_SEC, "an infinite futex-mode wait on a high line took %lld ns",
		     (long long)dt);
	cr_assert_eq(ipcc_cpu_dispatch(cpu), 1);
	cr_assert_eq(g.calls, 1, "fn runs once");
	/* Once run, the notification is gone: the channel is masked, the line low. */
	cr_assert_not(ipcc_regs_irq(regs, 1, IPCC_IRQ_TXF));
	cr_assert_eq(ipcc_cpu_dispatch(cpu), 0);
	cr_assert_eq(g.calls, 1);

	/* The blocking form: a send with timeout 0 on a free channel succeeds. */
	cr_assert_eq(ipcc_send(cpu, 1, a.ch, "second", 7, 0), 0);
	/* ... and a second one finds it occupied (the peer does not receive any more). */
	cr_assert_eq(ipcc_send(cpu, 1, a.ch, "third", 6, 0), -EAGAIN);

	pt_post(a.bye, 'x');
	pt_expect_exit0(pid, PT_LONG, "receiver");
	ipcc_regs_close(regs);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

Test(irq, dispatcher_masks_the_channel_before_the_handler)
{
	struct ipcc_system *sys = pt_create(2, 6, BUFFER);
	struct ipcc_cpu *c0 = pt_attach(sys, 0, IPCC_WAIT_SPIN, 0);
	struct ipcc_cpu *c1 = pt_attach(sys, 1, IPCC_WAIT_SPIN, 0);
	struct ipcc_regs *regs;

	cr_assert_eq(ipcc_regs_open(sys, 0, 1, &regs), 0);
	struct got rx = { .regs = regs, .proc = 1 }; /* CPU 0 is processor 1 */
	struct got tx = { .regs = regs, .proc = 2 }; /* CPU 1 is processor 2 */

	/* RX on CPU 0, channel 4: unmasked by the registration. */
	cr_assert_eq(ipcc_recv_async(c0, 1, 4, on_msg, &rx), 0);
	cr_assert_eq(pt_rd(regs, MR(1)) & IPCC_MR_CHOM(4), 0);
	cr_assert_eq(ipcc_send(c1, 0, 4, "hi", 3, 0), 0);
	cr_assert_eq(ipcc_cpu_dispatch(c0), 1);
	cr_assert_eq(rx.calls, 1);
	cr_assert_neq(rx.mr_in_handler & IPCC_MR_CHOM(4), 0,
		      "CH5OM masked in the handler (MR %08x)", rx.mr_in_handler);
	/* After the receive procedure the channel is unmasked again. */
	cr_assert_eq(pt_rd(regs, MR(1)) & IPCC_MR_CHOM(4), 0);

	/* TX free on CPU 1, channel 4: the channel is free again, so the level is up at once. */
	cr_assert_eq(ipcc_send_async(c1, 0, 4, on_free, &tx), 0);
	cr_assert_eq(pt_rd(regs, MR(2)) & IPCC_MR_CHFM(4), 0);
	cr_assert_eq(ipcc_cpu_dispatch(c1), 1);
	cr_assert_eq(tx.calls, 1);
	cr_assert_neq(tx.mr_in_handler & IPCC_MR_CHFM(4), 0,
		      "CH5FM masked in the handler (MR %08x)", tx.mr_in_handler);
	/* A TX-free handler leaves the channel masked. */
	cr_assert_neq(pt_rd(regs, MR(2)) & IPCC_MR_CHFM(4), 0);

	ipcc_regs_close(regs);
	ipcc_cpu_detach(c1);
	ipcc_cpu_detach(c0);
	ipcc_system_close(sys);
}

static void count_tx(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, enum ipcc_dir dir, void *arg)
{
	(*(unsigned *)arg)++;
}

Test(irq, unmasked_free_tx_channel_keeps_txf_asserted_until_masked)
{
	struct ipcc_system *sys = pt_create(2, 6, BUFFER);
	struct ipcc_cpu *c0 = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	struct ipcc_cpu *c1 = pt_attach(sys, 1, IPCC_WAIT_FUTEX, 0);
	struct ipcc_regs *regs;
	unsigned calls = 0;

	cr_assert_eq(ipcc_regs_open(sys, 0, 1, &regs), 0);
	cr_assert_eq(ipcc_chan_irq_enable(c0, 1, IPCC_DIR_TX, true), 0);
	cr_assert_not(ipcc_regs_irq(regs, 1, IPCC_IRQ_TXF), "every channel masked after attach");
	cr_assert_eq(ipcc_chan_unmask(c0, 1, 3, IPCC_DIR_TX), 0);

	/* A level, not an event: waiting does not consume it, time does not lower it. */
	for (int i = 0; i < 3; i++) {
		cr_assert(ipcc_regs_irq(regs, 1, IPCC_IRQ_TXF));
		cr_assert_eq(ipcc_cpu_wait(c0, 0), 0, "round %d", i);
		cr_assert_eq(ipcc_cpu_wait(c0, PT_LONG), 0, "round %d", i);
		pt_sleep_ms(5);
	}
	/* Occupied: low. Freed by the peer: high again. */
	cr_assert_eq(ipcc_chan_set(c0, 1, 3), 0);
	cr_assert_not(ipcc_regs_irq(regs, 1, IPCC_IRQ_TXF));
	cr_assert_eq(ipcc_chan_clear(c1, 0, 3), 0);
	cr_assert(ipcc_regs_irq(regs, 1, IPCC_IRQ_TXF));
	/* Masked: low, and a wait finds nothing. */
	cr_assert_eq(ipcc_chan_mask(c0, 1, 3, IPCC_DIR_TX), 0);
	cr_assert_not(ipcc_regs_irq(regs, 1, IPCC_IRQ_TXF));
	cr_assert_eq(ipcc_cpu_wait(c0, 0), -EAGAIN);

	/*
	 * With a handler: the dispatcher masks before calling it, so it runs once and the line
	 * drops; it is not re-entered forever (the Zephyr bug of 2022 tested the wrong polarity).
	 */
	cr_assert_eq(ipcc_irq_activate(c0, 1, 3, IPCC_DIR_TX, count_tx, &calls), 0);
	cr_assert_not(ipcc_regs_irq(regs, 1, IPCC_IRQ_TXF), "a TX handler starts masked");
	cr_assert_eq(ipcc_chan_unmask(c0, 1, 3, IPCC_DIR_TX), 0);
	cr_assert_eq(ipcc_cpu_dispatch(c0), 1);
	cr_assert_eq(calls, 1);
	cr_assert_not(ipcc_regs_irq(regs, 1, IPCC_IRQ_TXF));
	cr_assert_eq(ipcc_cpu_dispatch(c0), 0);
	cr_assert_eq(calls, 1);

	ipcc_regs_close(regs);
	ipcc_cpu_detach(c1);
	ipcc_cpu_detach(c0);
	ipcc_system_close(sys);
}

/* ---- handler registration ----------------------------------------------------------------- */

static int serve_echo(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *buf, size_t len,
		      size_t cap, void *arg)
{
	(*(unsigned *)arg)++;
	return (int)len;
}

static void on_resp(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data, size_t len,
		    void *arg)
{
	on_msg(cpu, peer, ch, data, len, arg);
}

Test(irq, double_registration_is_eexist)
{
	struct ipcc_system *sys = pt_create(2, 6, BUFFER);
	struct ipcc_cpu *c0 = pt_attach(sys, 0, IPCC_WAIT_SPIN, 0);
	struct got g = { 0 };
	unsigned n = 0;

	/* RX: any second handler on one channel. */
	cr_assert_eq(ipcc_recv_async(c0, 1, 0, on_msg, &g), 0);
	cr_assert_eq(ipcc_recv_async(c0, 1, 0, on_msg, &g), -EEXIST);
	cr_assert_eq(ipcc_serve_async(c0, 1, 0, serve_echo, &n), -EEXIST);
	cr_assert_eq(ipcc_irq_activate(c0, 1, 0, IPCC_DIR_RX, count_tx, &n), -EEXIST);
	cr_assert_eq(ipcc_serve_async(c0, 1, 1, serve_echo, &n), 0);
	cr_assert_eq(ipcc_serve_async(c0, 1, 1, serve_echo, &n), -EEXIST);
	cr_assert_eq(ipcc_recv_async(c0, 1, 1, on_msg, &g), -EEXIST);
	/* The directions of one channel are independent. */
	cr_assert_eq(ipcc_send_async(c0, 1, 0, on_free, &g), 0);
	cr_assert_eq(ipcc_send_async(c0, 1, 0, on_free, &g), -EEXIST);
	cr_assert_eq(ipcc_irq_activate(c0, 1, 0, IPCC_DIR_TX, count_tx, &n), -EEXIST);
	cr_assert_eq(ipcc_call_async(c0, 1, 0, "q", 1, on_resp, &g), -EEXIST);
	/* Deactivation frees the slot for a new registration. */
	cr_assert_eq(ipcc_irq_deactivate(c0, 1, 0, IPCC_DIR_RX), 0);
	cr_assert_eq(ipcc_recv_async(c0, 1, 0, on_msg, &g), 0);
	cr_assert_eq(ipcc_irq_deactivate(c0, 1, 1, IPCC_DIR_RX), 0);
	cr_assert_eq(ipcc_recv_async(c0, 1, 1, on_msg, &g), 0);
	/* Bad arguments come before the slot check. */
	cr_assert_eq(ipcc_recv_async(c0, 1, 6, on_msg, &g), -EINVAL);
	cr_assert_eq(ipcc_recv_async(c0, 0, 0, on_msg, &g), -EINVAL);
	cr_assert_eq(ipcc_recv_async(c0, 1, 2, NULL, &g), -EINVAL);

	ipcc_cpu_detach(c0);
	ipcc_system_close(sys);
}

/*
 * A refused registration must leave the one in place untouched. Regression for
 * lib/proc/proc.c: ipcc_send_async and ipcc_serve_async store their callback and argument in
 * the channel's state before ipcc_irq_activate refuses with -EEXIST, and the cleanup then clears
 * the callback of the registration that was there.
 */
Test(irq, refused_send_async_keeps_the_first_callback)
{
	struct ipcc_system *sys = pt_create(2, 6, BUFFER);
	struct ipcc_cpu *c0 = pt_attach(sys, 0, IPCC_WAIT_SPIN, 0);
	struct ipcc_cpu *c1 = pt_attach(sys, 1, IPCC_WAIT_SPIN, 0);
	struct got first = { 0 }, second = { 0 };

	/* TX: a second ipcc_send_async while the first is pending. */
	cr_assert_eq(ipcc_send(c0, 1, 2, "x", 1, 0), 0); /* occupied: the notification waits */
	cr_assert_eq(ipcc_send_async(c0, 1, 2, on_free, &first), 0);
	cr_assert_eq(ipcc_send_async(c0, 1, 2, on_free, &second), -EEXIST);
	char buf[8];
	cr_assert_eq(ipcc_recv(c1, 0, 2, buf, sizeof(buf), 0), 1);
	ipcc_cpu_dispatch(c0);
	cr_assert_eq(second.calls, 0, "the refused callback ran");
	cr_assert_eq(first.calls, 1, "the first ipcc_send_async never fired after a refused one");

	ipcc_cpu_detach(c1);
	ipcc_cpu_detach(c0);
	ipcc_system_close(sys);
}

/* The same for RX: ipcc_serve_async refused over an ipcc_recv_async (crashed: NULL serve_fn). */
Test(irq, refused_serve_async_keeps_the_recv_async_handler)
{
	struct ipcc_system *sys = pt_create(2, 6, BUFFER);
	struct ipcc_cpu *c0 = pt_attach(sys, 0, IPCC_WAIT_SPIN, 0);
	struct ipcc_cpu *c1 = pt_attach(sys, 1, IPCC_WAIT_SPIN, 0);
	struct got first = { 0 };
	unsigned served = 0;

	cr_assert_eq(ipcc_recv_async(c0, 1, 3, on_msg, &first), 0);
	cr_assert_eq(ipcc_serve_async(c0, 1, 3, serve_echo, &served), -EEXIST);
	cr_assert_eq(ipcc_send(c1, 0, 3, "still mine", 11, 0), 0);
	cr_assert_eq(ipcc_cpu_dispatch(c0), 1);
	cr_assert_eq(served, 0);
	cr_assert_eq(first.calls, 1, "the ipcc_recv_async handler did not run");
	cr_assert_str_eq(first.data, "still mine");

	ipcc_cpu_detach(c1);
	ipcc_cpu_detach(c0);
	ipcc_system_close(sys);
}

/*
 * ---- callback forms between two processes ------------------------------------------------
 *
 * Both CPUs are firmware: every procedure runs in handlers. CPU 0 sends simplex on channel 0
 * (ipcc_send_async chain), CPU 1 receives it (ipcc_recv_async). CPU 0 calls CPU 1 on channel
 * 1 and CPU 1 calls CPU 0 on channel 2 (ipcc_call_async chained from the response callback);
 * the servers (ipcc_serve_async) answer odd requests in place and even ones later, from the
 * main loop, with ipcc_reply. Driven either by ipcc_cpu_wait + ipcc_cpu_dispatch in the main
 * thread or by the interrupt thread (IPCC_CPU_IRQ_THREAD), with the main thread only polling.
 */

#define CB_N	   2000u
#define CH_SIMPLEX 0u
enum { K_SIMPLEX = 1, K_REQUEST = 2, K_RESPONSE = 3 };
#define STREAM(kind, from, ch) (((uint32_t)(kind) << 16) | ((uint32_t)(from) << 8) | (ch))

enum { P_TX, P_RX, P_CALLS, P_SERVED, P_COUNT };

struct side {
	struct ipcc_cpu *cpu;
	unsigned me, peer;
	bool irq_thread;
	_Atomic int error;
	uint64_t tx_next, call_next;
	struct pt_tally rx, resp, req;
	_Atomic int64_t deferred; /* a request to answer with ipcc_reply, or -1 */
	_Atomic uint64_t progress[P_COUNT];
};

static unsigned client_ch(const struct side *s)
{
	return s->me == 0 ? 1 : 2;
}

static unsigned server_ch(const struct side *s)
{
	return s->me == 0 ? 2 : 1;
}

static void fail(struct side *s, int r)
{
	int zero = 0;
	atomic_compare_exchange_strong(&s->error, &zero, r);
}

static void bump(struct side *s, int what)
{
	atomic_fetch_add_explicit(&s->progress[what], 1, memory_order_release);
}

static void cb_free(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *arg)
{
	struct side *s = arg;
	uint8_t buf[BUFFER];
	uint32_t st = STREAM(K_SIMPLEX, s->me, ch);
	size_t len = pt_msg_len(st, s->tx_next, BUFFER);

	pt_msg_fill(buf, st, s->tx_next, len);
	int r = ipcc_send(cpu, peer, ch, buf, len, 0);
	if (r < 0) {
		fail(s, r);
		return;
	}
	bump(s, P_TX);
	if (++s->tx_next < CB_N && (r = ipcc_send_async(cpu, peer, ch, cb_free, s)) < 0)
		fail(s, r);
}

static void cb_msg(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data, size_t len,
		   void *arg)
{
	struct side *s = arg;
	if (!pt_msg_take(&s->rx, data, len, STREAM(K_SIMPLEX, peer, ch), BUFFER)) {
		fail(s, -EBADMSG);
		return;
	}
	bump(s, P_RX);
}

static void cb_resp(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data, size_t len,
		    void *arg);

static void cb_call(struct side *s)
{
	uint8_t req[BUFFER];
	unsigned ch = client_ch(s);
	uint32_t st = STREAM(K_REQUEST, s->me, ch);
	size_t len = pt_msg_len(st, s->call_next, BUFFER);

	pt_msg_fill(req, st, s->call_next, len);
	int r = ipcc_call_async(s->cpu, s->peer, ch, req, len, cb_resp, s);
	if (r < 0)
		fail(s, r);
}

static void cb_resp(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data, size_t len,
		    void *arg)
{
	struct side *s = arg;
	if (!pt_msg_take(&s->resp, data, len, STREAM(K_RESPONSE, peer, ch), BUFFER)) {
		fail(s, -EBADMSG);
		return;
	}
	bump(s, P_CALLS);
	if (++s->call_next < CB_N)
		cb_call(s); /* a new call from the response callback: the TX handler stays */
}

static int cb_serve(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *buf, size_t len,
		    size_t cap, void *arg)
{
	struct side *s = arg;
	uint64_t seq = s->req.expect;

	if (cap != BUFFER)
		fail(s, -ENOSPC);
	if (!pt_msg_take(&s->req, buf, len, STREAM(K_REQUEST, peer, ch), BUFFER)) {
		fail(s, -EBADMSG);
		return 0;
	}
	if (seq & 1) { /* answer in place */
		uint32_t st = STREAM(K_RESPONSE, s->me, ch);
		size_t n = pt_msg_len(st, seq, BUFFER);
		pt_msg_fill(buf, st, seq, n);
		bump(s, P_SERVED);
		return (int)n;
	}
	/* Release: pairs with the acquire exchange in side_reply_later. */
	atomic_store_explicit(&s->deferred, (int64_t)seq, memory_order_release);
	return -1;
}

static void side_reply_later(struct side *s)
{
	int64_t seq = atomic_exchange_explicit(&s->deferred, -1, memory_order_acquire);
	if (seq < 0)
		return;
	uint8_t buf[BUFFER];
	unsigned ch = server_ch(s);
	uint32_t st = STREAM(K_RESPONSE, s->me, ch);
	size_t n = pt_msg_len(st, (uint64_t)seq, BUFFER);
	pt_msg_fill(buf, st, (uint64_t)seq, n);
	int r = ipcc_reply(s->cpu, s->peer, ch, buf, n);
	if (r < 0) {
		fail(s, r);
		return;
	}
	bump(s, P_SERVED);
}

static bool side_done(struct side *s)
{
	uint64_t want_tx = s->me == 0 ? CB_N : 0, want_rx = s->me == 1 ? CB_N : 0;
	return atomic_load_explicit(&s->progress[P_TX], memory_order_acquire) == want_tx &&
	       atomic_load_explicit(&s->progress[P_RX], memory_order_acquire) == want_rx &&
	       atomic_load_explicit(&s->progress[P_CALLS], memory_order_acquire) == CB_N &&
	       atomic_load_explicit(&s->progress[P_SERVED], memory_order_acquire) == CB_N;
}

/* Run one side to completion; 0 or the first error. */
static int side_run(struct side *s)
{
	int r;
	atomic_init(&s->deferred, -1);
	if (s->me == 0)
		r = ipcc_send_async(s->cpu, s->peer, CH_SIMPLEX, cb_free, s);
	else
		r = ipcc_recv_async(s->cpu, s->peer, CH_SIMPLEX, cb_msg, s);
	if (r < 0)
		return r;
	r = ipcc_serve_async(s->cpu, s->peer, server_ch(s), cb_serve, s);
	if (r < 0)
		return r;
	cb_call(s);

	int64_t deadline = pt_now_ns() + 20 * PT_SEC;
	for (;;) {
		side_reply_later(s);
		if ((r = atomic_load(&s->error)) != 0)
			return r;
		if (side_done(s))
			return 0;
		if (pt_now_ns() > deadline)
			return -ETIMEDOUT;
		if (s->irq_thread) {
			struct timespec ts = { 0, 50000 };
			nanosleep(&ts, NULL);
			continue;
		}
		r = ipcc_cpu_wait(s->cpu, PT_LONG);
		if (r < 0)
			return r;
		r = ipcc_cpu_dispatch(s->cpu);
		if (r < 0)
			return r;
	}
}

struct cb_arg {
	const char *name;
	enum ipcc_wait_mode mode;
	bool irq_thread;
	struct pt_pipe done, bye;
};

static int peer_callbacks(void *p)
{
	struct cb_arg *a = p;
	struct ipcc_system *sys;
	struct side s = { .me = 1, .peer = 0, .irq_thread = a->irq_thread };

	s.cpu = peer_attach(a->name, 1, a->mode, a->irq_thread ? IPCC_CPU_IRQ_THREAD : 0, &sys);
	int r = side_run(&s);
	PEER_CHECK(r == 0, "CPU 1: %s (tx %llu rx %llu calls %llu served %llu)", strerror(-r),
		   (unsigned long long)s.progress[P_TX], (unsigned long long)s.progress[P_RX],
		   (unsigned long long)s.progress[P_CALLS],
		   (unsigned long long)s.progress[P_SERVED]);
	pt_post(a->done, 'd');
	PEER_CHECK(pt_await(a->bye, PT_LONG) >= 0, "no goodbye");
	ipcc_cpu_detach(s.cpu); /* stops the interrupt thread */
	PEER_CHECK(pt_tally_ok(&s.rx) && s.rx.expect == CB_N, "simplex: " PT_TALLY_FMT,
		   PT_TALLY_ARGS(&s.rx));
	PEER_CHECK(pt_tally_ok(&s.req) && s.req.expect == CB_N, "requests: " PT_TALLY_FMT,
		   PT_TALLY_ARGS(&s.req));
	PEER_CHECK(pt_tally_ok(&s.resp) && s.resp.expect == CB_N, "responses: " PT_TALLY_FMT,
		   PT_TALLY_ARGS(&s.resp));
	ipcc_system_close(sys);
	return 0;
}

static void callbacks(enum ipcc_wait_mode mode, bool irq_thread)
{
	struct ipcc_system *sys = pt_create(2, 3, BUFFER);
	struct cb_arg a = { .name = ipcc_system_name(sys),
			    .mode = mode,
			    .irq_thread = irq_thread,
			    .done = pt_pipe_new(),
			    .bye = pt_pipe_new() };
	struct side s = { .me = 0, .peer = 1, .irq_thread = irq_thread };
	int64_t t0 = pt_now_ns();

	/*
	 * Fork before the interrupt thread exists: a child forked while another thread holds a
	 * lock (ASan's allocator's, malloc's) inherits it held and deadlocks on it.
	 */
	pid_t pid = pt_fork(peer_callbacks, &a, 30);
	s.cpu = pt_attach(sys, 0, mode, irq_thread ? IPCC_CPU_IRQ_THREAD : 0);
	int r = side_run(&s);
	cr_assert_eq(r, 0, "CPU 0: %s (tx %llu rx %llu calls %llu served %llu)", strerror(-r),
		     (unsigned long long)s.progress[P_TX], (unsigned long long)s.progress[P_RX],
		     (unsigned long long)s.progress[P_CALLS],
		     (unsigned long long)s.progress[P_SERVED]);
	/* Detach only when the peer is done too: it may still wait for our last answer. */
	cr_assert_eq(pt_await(a.done, 20 * PT_SEC), 'd', "CPU 1 did not finish");
	pt_post(a.bye, 'x');
	pt_expect_exit0(pid, PT_LONG, "CPU 1");
	ipcc_cpu_detach(s.cpu);
	fprintf(stderr, "callbacks: %-10s %-8s %u messages + 2 x %u calls in %.3f s\n",
		irq_thread ? "irq-thread" : "dispatch", pt_mode_name(mode), CB_N, CB_N,
		(double)(pt_now_ns() - t0) / PT_SEC);
	cr_assert(pt_tally_ok(&s.resp) && s.resp.expect == CB_N, "responses: " PT_TALLY_FMT,
		  PT_TALLY_ARGS(&s.resp));
	cr_assert(pt_tally_ok(&s.req) && s.req.expect == CB_N, "requests: " PT_TALLY_FMT,
		  PT_TALLY_ARGS(&s.req));
	ipcc_system_close(sys);
}

Test(irq, callbacks_by_dispatch_spin)
{
	callbacks(IPCC_WAIT_SPIN, false);
}

Test(irq, callbacks_by_dispatch_futex)
{
	callbacks(IPCC_WAIT_FUTEX, false);
}

Test(irq, callbacks_by_dispatch_adaptive)
{
	callbacks(IPCC_WAIT_ADAPTIVE, false);
}

Test(irq, callbacks_by_irq_thread_spin)
{
	callbacks(IPCC_WAIT_SPIN, true);
}

Test(irq, callbacks_by_irq_thread_futex)
{
	callbacks(IPCC_WAIT_FUTEX, true);
}

Test(irq, callbacks_by_irq_thread_adaptive)
{
	callbacks(IPCC_WAIT_ADAPTIVE, true);
}

/* ---- Standby ------------------------------------------------------------------------------ */

struct standby_arg {
	const char *name;
	struct pt_pipe bye;
};

/* Peer CPU 0: once CPU 1 sleeps in the kernel, post a message to it. */
static int peer_waker(void *p)
{
	struct standby_arg *a = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach(a->name, 0, IPCC_WAIT_FUTEX, 0, &sys);
	struct ipcc_shm_cpu *target = ipcc_shm_cpu(sys, 1);

	/* Relaxed: a hint; the test only needs the sleeper to have announced itself. */
	int64_t end = pt_now_ns() + PT_LONG;
	while (!atomic_load_explicit(&target->bell_sleepers, memory_order_relaxed)) {
		PEER_CHECK(pt_now_ns() < end, "CPU 1 never slept in the kernel");
		pt_sleep_ms(1);
	}
	pt_sleep_ms(5);
	int r = ipcc_send(cpu, 1, 0, "wake up", 8, PT_LONG);
	PEER_CHECK(r == 0, "send: %s", strerror(-r));
	PEER_CHECK(pt_await(a->bye, PT_LONG) >= 0, "no goodbye");
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

static void assert_banks_reset(struct ipcc_system *sys, unsigned id)
{
	for (unsigned peer = 0; peer < ipcc_system_cpus(sys); peer++) {
		if (peer == id)
			continue;
		unsigned a = id < peer ? id : peer, b = id < peer ? peer : id;
		unsigned proc = id == a ? 1 : 2;
		struct ipcc_regs *regs;
		cr_assert_eq(ipcc_regs_open(sys, a, b, &regs), 0);
		cr_assert_eq(pt_rd(regs, CR(proc)), IPCC_CR_RESET, "CPU %u's C%uCR on link %u-%u",
			     id, proc, a, b);
		cr_assert_eq(pt_rd(regs, MR(proc)), IPCC_MR_RESET, "CPU %u's C%uMR on link %u-%u",
			     id, proc, a, b);
		ipcc_regs_close(regs);
	}
}

/*
 * CPU 1 of three is processor 2 on link 0-1 and processor 1 on link 1-2: Standby must reset
 * both kinds of bank. It waits in spin mode, which Standby overrides: it sleeps in the kernel
 * (the peer only sends once it sees CPU 1 asleep).
 */
Test(irq, standby_wakes_on_a_line_and_loses_the_banks)
{
	struct ipcc_system *sys = pt_create(3, 4, BUFFER);
	struct standby_arg a = { .name = ipcc_system_name(sys), .bye = pt_pipe_new() };
	struct ipcc_cpu *cpu = pt_attach(sys, 1, IPCC_WAIT_SPIN, 0);
	struct got g = { 0 };

	cr_assert_eq(ipcc_recv_async(cpu, 0, 0, on_msg, &g), 0);
	cr_assert_eq(ipcc_recv_async(cpu, 2, 1, on_msg, &g), 0);
	cr_assert_eq(ipcc_chan_irq_enable(cpu, 2, IPCC_DIR_TX, true), 0);
	cr_assert_eq(ipcc_chan_unmask(cpu, 0, 3, IPCC_DIR_TX), 0); /* TXFIE off on 0-1: low */
	pid_t pid = pt_fork(peer_waker, &a, 30);

	int64_t t0 = pt_now_ns();
	int r = ipcc_cpu_standby(cpu, PT_LONG);
	cr_assert_eq(r, 0, "standby: %s", strerror(-r));
	cr_assert_lt(pt_now_ns() - t0, PT_LONG);
	assert_banks_reset(sys, 1);

	/* The message survived (the IPCC holds the flags), but every line is masked now. */
	cr_assert_eq(ipcc_chan_status(cpu, 0, 0, IPCC_DIR_RX), 1);
	cr_assert_eq(ipcc_cpu_wait(cpu, 0), -EAGAIN);
	cr_assert_eq(ipcc_cpu_dispatch(cpu), 0);
	cr_assert_eq(g.calls, 0);
	/* Re-initialising the masks delivers it. */
	cr_assert_eq(ipcc_chan_irq_enable(cpu, 0, IPCC_DIR_RX, true), 0);
	cr_assert_eq(ipcc_chan_unmask(cpu, 0, 0, IPCC_DIR_RX), 0);
	cr_assert_eq(ipcc_cpu_dispatch(cpu), 1);
	cr_assert_eq(g.calls, 1);
	cr_assert_str_eq(g.data, "wake up");

	/* A Standby that times out loses the banks too. */
	cr_assert_eq(ipcc_chan_unmask(cpu, 2, 2, IPCC_DIR_RX), 0);
	cr_assert_eq(ipcc_cpu_standby(cpu, 20 * PT_MS), -ETIMEDOUT);
	assert_banks_reset(sys, 1);
	/* And one entered with a line already high returns at once, banks reset. */
	cr_assert_eq(ipcc_chan_irq_enable(cpu, 0, IPCC_DIR_TX, true), 0);
	cr_assert_eq(ipcc_chan_unmask(cpu, 0, 1, IPCC_DIR_TX), 0);
	cr_assert_eq(ipcc_cpu_standby(cpu, 0), 0);
	assert_banks_reset(sys, 1);

	pt_post(a.bye, 'x');
	pt_expect_exit0(pid, PT_LONG, "CPU 0");
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}
