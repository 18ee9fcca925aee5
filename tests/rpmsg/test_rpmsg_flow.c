/* SPDX-License-Identifier: MIT */
/*
 * RPMessage flow control between two processes: this process is CPU 0 and sends from end point
 * 1; a scripted peer (tests/proc/proc-test.h) is CPU 1 with end point 2 in queue mode and end
 * point 3 in callback mode holding every buffer it gets (ipcc_rpmsg_hold). The peer has no
 * interrupt thread: it takes packets only when a command tells it to, so the test decides
 * exactly when buffers come back.
 *
 * Backpressure: with the receiver not consuming, the ninth send finds no buffer (-EAGAIN with
 * timeout 0, -ETIMEDOUT after a wait, nobuf counted), a blocked send resumes when the receiver
 * takes one packet, and a stream of blocking sends through the 8 buffers arrives complete and
 * in order. Unblock: a receive blocked in the peer ends with -ECANCELED, once. Zero copy:
 * buffers held by the peer's callback are the sender's no more until released; a double
 * release is -EALREADY, a foreign pointer and a TX buffer of the peer's own are -EFAULT.
 */
#include "rpmsg-test.h"

#define CAP	  (IPCC_RPMSG_BUFFER_SIZE_DEFAULT - IPCC_RPMSG_HEADER_SIZE)
#define SEND_WAIT (20 * PT_SEC)
#define STREAM	  rt_stream(0, 1, 2)

static void teardown(void)
{
	pt_cleanup();
}

TestSuite(rpmsg_flow, .fini = teardown, .timeout = 90);

/* ---- the peer (CPU 1) ----------------------------------------------------------------------- */

struct rx_state {
	struct ipcc_rpmsg_ep *q, *cb;
	struct pt_tally t; /* end point 2: the stream from 0:1 */
	const void *held[16];
	unsigned nheld;
	pthread_t thread;
	int thread_r;
	bool stream; /* the thread receives until an empty packet (else: one packet) */
};

static struct rx_state rx;

static void on_hold(struct ipcc_rpmsg_ep *ep, const void *data, uint32_t len, unsigned remote,
		    unsigned remote_ep, void *arg)
{
	(void)len, (void)remote, (void)remote_ep, (void)arg;
	int r = ipcc_rpmsg_hold(ep, data);
	PEER_CHECK(r == 0, "hold: %s", strerror(-r));
	PEER_CHECK(rx.nheld < 16, "more than 16 held");
	rx.held[rx.nheld++] = data;
}

/* Take one packet of end point 2 and check it: 0, or the errno of the receive. */
static int take_one(int64_t timeout_ns, uint32_t *ret_len)
{
	uint8_t buf[CAP];
	uint32_t len = 0;
	unsigned rc = 99, re = 99;
	int r = ipcc_rpmsg_recv(rx.q, buf, sizeof(buf), &len, &rc, &re, timeout_ns);
	if (r)
		return r;
	PEER_CHECK(rc == 0 && re == 1, "a packet from %u:%u", rc, re);
	if (len)
		PEER_CHECK(pt_msg_take(&rx.t, buf, len, STREAM, CAP), PT_TALLY_FMT,
			   PT_TALLY_ARGS(&rx.t));
	*ret_len = len;
	return 0;
}

static void *rx_thread_main(void *p)
{
	uint32_t len = 0;
	(void)p;
	do
		rx.thread_r = take_one(IPCC_TIMEOUT_INFINITE, &len);
	while (rx.stream && !rx.thread_r && len);
	return NULL;
}

static char peer_do(struct ipcc_cpu *cpu, char c)
{
	uint32_t len;
	int r;
	switch (c) {
	case 'r': /* take one packet */
		r = take_one(PT_LONG, &len);
		PEER_CHECK(r == 0, "recv: %s", strerror(-r));
		return 'k';
	case 'd': { /* take all there are; answer how many */
		unsigned n = 0;
		while ((r = take_one(0, &len)) == 0)
			n++;
		PEER_CHECK(r == -EAGAIN, "drain: %s", strerror(-r));
		return (char)n;
	}
	case 'b': /* a thread blocked in one receive */
	case 'S': /* a thread receiving until an empty packet */
		rx.stream = c == 'S';
		PEER_CHECK(pthread_create(&rx.thread, NULL, rx_thread_main, NULL) == 0, "thread");
		return 'k';
	case 'u': /* unblock it */
		PEER_CHECK(ipcc_rpmsg_unblock(rx.q) == 0, "unblock");
		pthread_join(rx.thread, NULL);
		return rx.thread_r == -ECANCELED ? 'C' : 'E';
	case 'j': /* wait for it to end by itself */
		pthread_join(rx.thread, NULL);
		if (rx.thread_r)
			fprintf(stderr, "peer: the receiving thread: %s\n", strerror(-rx.thread_r));
		return rx.thread_r ? 'E' : 'k';
	case 'H': { /* dispatch until 8 buffers are held */
		int64_t end = pt_now_ns() + PT_LONG;
		while (rx.nheld < 8 && pt_now_ns() < end) {
			r = ipcc_cpu_wait(cpu, 100 * PT_MS);
			PEER_CHECK(r >= 0 || r == -ETIMEDOUT, "wait: %s", strerror(-r));
			r = ipcc_cpu_dispatch(cpu);
			PEER_CHECK(r >= 0, "dispatch: %s", strerror(-r));
		}
		return (char)('0' + rx.nheld);
	}
	case 'L': { /* release them, with the errors on the way */
		uint8_t stack[16];
		void *tx;
		uint32_t cap;
		PEER_CHECK(rx.nheld > 0, "nothing held");
		r = ipcc_rpmsg_release(cpu, stack);
		PEER_CHECK(r == -EFAULT, "release of a stack pointer: %d", r);
		r = ipcc_rpmsg_tx_get(cpu, 0, PT_LONG, &tx, &cap);
		PEER_CHECK(r == 0, "tx_get: %s", strerror(-r));
		r = ipcc_rpmsg_release(cpu, tx);
		PEER_CHECK(r == -EFAULT, "release of its own TX buffer: %d", r);
		r = ipcc_rpmsg_send_nocopy(cpu, (void *)rx.held[0], 4, 1, 3);
		PEER_CHECK(r == -EFAULT, "send_nocopy of a held RX buffer: %d", r);
		PEER_CHECK(ipcc_rpmsg_tx_free(cpu, tx) == 0, "tx_free");
		for (unsigned i = 0; i < rx.nheld; i++) {
			r = ipcc_rpmsg_release(cpu, rx.held[i]);
			PEER_CHECK(r == 0, "release %u: %s", i, strerror(-r));
		}
		r = ipcc_rpmsg_release(cpu, rx.held[0]);
		PEER_CHECK(r == -EALREADY, "double release: %d", r);
		rx.nheld = 0;
		return 'k';
	}
	default:
		PEER_CHECK(0, "unknown command '%c'", c);
	}
	return 'E';
}

static int peer_main(void *p)
{
	struct pt_script *s = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach(s->name, 1, s->mode, 0, &sys);
	rx.q = peer_ep(cpu, 2, NULL, NULL);
	rx.cb = peer_ep(cpu, 3, on_hold, NULL);
	pt_post(s->ack, 'a');
	for (;;) {
		int c = pt_await(s->cmd, 60 * PT_SEC);
		PEER_CHECK(c >= 0, "no command");
		if (c == 'x')
			break;
		pt_post(s->ack, peer_do(cpu, (char)c));
	}
	PEER_CHECK(ipcc_rpmsg_ep_close(rx.q) == 0, "close");
	PEER_CHECK(ipcc_rpmsg_ep_close(rx.cb) == 0, "close");
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

/* ---- the test side (CPU 0) ------------------------------------------------------------------ */

struct flow {
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;
	struct ipcc_rpmsg_ep *ep;
	struct pt_script peer;
	uint64_t seq; /* the next packet of the stream 0:1 -> 1:2 */
};

static void flow_start(struct flow *f, enum ipcc_wait_mode mode)
{
	f->sys = rt_system(2, 0, 0);
	f->seq = 0;
	pt_script_start(&f->peer, ipcc_system_name(f->sys), mode, peer_main, 80);
	f->cpu = pt_attach(f->sys, 0, mode, 0);
	f->ep = rt_ep(f->cpu, 1, NULL, NULL);
	cr_assert(rt_wait_open(f->sys, 1, 3, PT_LONG), "the peer's end points never opened");
}

static void flow_stop(struct flow *f)
{
	pt_script_stop(&f->peer);
	ipcc_rpmsg_ep_close(f->ep);
	ipcc_cpu_detach(f->cpu);
	ipcc_system_close(f->sys);
}

/* The next packet of the stream, to end point 2, waiting up to timeout_ns for a buffer. */
static int send_next(struct flow *f, int64_t timeout_ns)
{
	uint8_t buf[CAP];
	uint32_t len = rt_fill(buf, STREAM, f->seq, CAP);
	int r = ipcc_rpmsg_send(f->cpu, buf, len, 1, 2, 1, timeout_ns);
	if (r == 0)
		f->seq++;
	return r;
}

struct sender {
	struct flow *f;
	int r;
};

static void *blocked_send_main(void *p)
{
	struct sender *s = p;
	s->r = send_next(s->f, SEND_WAIT);
	return NULL;
}

static void backpressure(enum ipcc_wait_mode mode)
{
	struct flow f;
	flow_start(&f, mode);
	for (unsigned i = 0; i < 8; i++)
		cr_assert_eq(send_next(&f, 0), 0, "send %u of the 8 buffers", i);
	cr_assert_eq(send_next(&f, 0), -EAGAIN, "the receiver holds all 8");
	cr_assert_eq(send_next(&f, 20 * PT_MS), -ETIMEDOUT);
	struct ipcc_rpmsg_stats st = rt_stats(f.sys, 0, 1);
	cr_assert(st.sent == 8 && st.nobuf == 2 && st.full == 8 && !st.received, RT_STATS_FMT,
		  RT_STATS_ARGS(st));

	/* A send blocked for a buffer resumes when the receiver takes one packet. */
	struct sender s = { &f, 1 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, blocked_send_main, &s), 0);
	rt_await_nobuf(f.sys, 0, 1, 3);
	cr_assert_eq(pt_script_cmd(&f.peer, 'r'), 'k');
	pthread_join(t, NULL);
	cr_assert_eq(s.r, 0, "the blocked send: %s%s", strerror(-s.r), pt_peer_note(f.peer.pid));
	cr_assert_eq(pt_script_cmd(&f.peer, 'd'), 8, "packets 1..8 left to take");

	/* A stream through the 8 buffers, the receiver consuming as it goes. */
	cr_assert_eq(pt_script_cmd(&f.peer, 'S'), 'k');
	for (unsigned i = 0; i < 300; i++) {
		int r = send_next(&f, SEND_WAIT);
		cr_assert_eq(r, 0, "stream packet %u: %s%s", i, strerror(-r),
			     pt_peer_note(f.peer.pid));
	}
	cr_assert_eq(ipcc_rpmsg_send(f.cpu, NULL, 0, 1, 2, 1, SEND_WAIT), 0, "the terminator");
	cr_assert_eq(pt_script_cmd(&f.peer, 'j'), 'k', "the stream arrived complete, in order");
	st = rt_stats(f.sys, 0, 1);
	cr_assert(st.sent == f.seq + 1 && st.received == st.sent && !st.dropped && !st.bad &&
			  !st.full,
		  "%llu sent: " RT_STATS_FMT, (unsigned long long)f.seq + 1, RT_STATS_ARGS(st));
	flow_stop(&f);
}

ParameterizedTestParameters(rpmsg_flow, a_receiver_that_stops_makes_the_sender_wait_then_resume)
{
	return NT_MODES_PARAMS;
}

ParameterizedTest(enum ipcc_wait_mode *mode, rpmsg_flow,
		  a_receiver_that_stops_makes_the_sender_wait_then_resume)
{
	backpressure(*mode);
}

Test(rpmsg_flow, unblock_ends_a_receive_blocked_in_the_peer_once_with_ecanceled)
{
	struct flow f;
	flow_start(&f, IPCC_WAIT_FUTEX);
	cr_assert_eq(pt_script_cmd(&f.peer, 'b'), 'k');
	cr_assert_eq(pt_script_cmd(&f.peer, 'u'), 'C', "the blocked receive was not canceled");
	/* The next receive waits as usual, and takes the next packet. */
	cr_assert_eq(pt_script_cmd(&f.peer, 'b'), 'k');
	cr_assert_eq(send_next(&f, SEND_WAIT), 0);
	cr_assert_eq(pt_script_cmd(&f.peer, 'j'), 'k');
	/* An unblock with no receive in progress cancels the next one. */
	cr_assert_eq(pt_script_cmd(&f.peer, 'b'), 'k');
	cr_assert_eq(pt_script_cmd(&f.peer, 'u'), 'C');
	flow_stop(&f);
}

Test(rpmsg_flow, buffers_a_callback_holds_are_the_senders_again_only_after_release)
{
	struct flow f;
	flow_start(&f, IPCC_WAIT_FUTEX);
	uint8_t msg[CAP];
	for (unsigned i = 0; i < 8; i++) {
		uint32_t len = rt_fill(msg, rt_stream(0, 1, 3), i, CAP);
		int r = ipcc_rpmsg_send(f.cpu, msg, len, 1, 3, 1, 0);
		cr_assert_eq(r, 0, "send %u to the holder: %s", i, strerror(-r));
	}
	cr_assert_eq(pt_script_cmd(&f.peer, 'H'), '8', "the callback held all 8");
	/* The pair's buffers are shared by its end points: none for end point 2 either. */
	cr_assert_eq(send_next(&f, 0), -EAGAIN);
	cr_assert_eq(send_next(&f, 20 * PT_MS), -ETIMEDOUT);
	struct ipcc_rpmsg_stats st = rt_stats(f.sys, 0, 1);
	cr_assert(st.sent == 8 && st.received == 8 && !st.full, RT_STATS_FMT, RT_STATS_ARGS(st));
	cr_assert_eq(pt_script_cmd(&f.peer, 'L'), 'k');
	for (unsigned i = 0; i < 8; i++)
		cr_assert_eq(send_next(&f, SEND_WAIT), 0, "after the release, send %u", i);
	cr_assert_eq(pt_script_cmd(&f.peer, 'd'), 8);
	flow_stop(&f);
}
