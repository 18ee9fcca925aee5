/* SPDX-License-Identifier: MIT */
/*
 * The libipcc rows of ipcc-bench: one transport per wait mode, each running the library's own
 * procedures between two processes that open the system by name and attach a CPU each.
 *
 *   half-duplex  A: ipcc_call on channel 0, timed round trip; B: ipcc_serve + ipcc_reply (echo).
 *   simplex      A: ipcc_send on channel 0 carrying its send time; B: ipcc_recv, time, sample,
 *                then an untimed 8-byte ack on channel 0 the other way, which A receives before
 *                the next message (no queueing).
 *   stream       A: ipcc_send back to back over every channel of the link, round robin;
 *                B: ipcc_recv in the same order.
 *
 * spin, futex and adaptive use the blocking calls. eventfd and uring run the way an event-loop
 * application would: the waiting side blocks in epoll on ipcc_cpu_fd, or in io_uring
 * (IORING_OP_FUTEX_WAIT on the doorbell where the kernel has it, else a multishot poll on the
 * eventfd), and the work happens in the callback forms run by the dispatcher.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ipcc/ipcc.h>

#include "harness.h"
#include "libside.h"
#include "transports.h"
#include "uring-loop.h"

#define CHANNELS 6

struct ipcc_priv {
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;
	unsigned peer;
	struct bench_evloop *loop; /* NULL: this side blocks in the calls */
	/* event-loop state, written by the callbacks */
	struct bench_side *side;
	struct bench_loop_count count;
	uint64_t i;	/* simplex B: sample index within the run call */
	uint64_t quota; /* simplex B: samples the run call takes */
	/* simplex B: a message of the next run call, held back until that call (see on_message) */
	bool held;
	uint64_t held_send, held_recv;
};

static int ipcc_setup(void **state, size_t size, enum bench_pattern p, char *err, size_t len)
{
	struct ipcc_config cfg;

	ipcc_config_init(&cfg);
	cfg.channels = CHANNELS;
	cfg.buffer_size = size < IPCC_BUFFER_SIZE_MIN ? IPCC_BUFFER_SIZE_MIN : (uint32_t)size;
	return bench_lib_setup(state, sizeof(struct bench_lib_state), &cfg, err, len);
}

static int ipcc_attach_side(struct bench_side *s)
{
	struct bench_lib_state *st = s->state;
	struct ipcc_priv *pv = calloc(1, sizeof(*pv));

	if (!pv)
		return bench_fail(s, "out of memory");
	s->priv = pv;
	pv->side = s;
	pv->peer = s->role == BENCH_SIDE_A ? 1 : 0;
	return bench_lib_attach(s, st->name, 0, &pv->sys, &pv->cpu, &pv->loop);
}

static void ipcc_detach_side(struct bench_side *s)
{
	struct ipcc_priv *pv = s->priv;
	if (!pv)
		return;
	bench_lib_detach(pv->sys, pv->cpu, pv->loop);
	free(pv);
	s->priv = NULL;
}

static int loop_more(struct bench_side *s, struct ipcc_priv *pv, uint64_t n)
{
	return bench_loop_more(s, pv->loop, &pv->count, n);
}

/* ---- half-duplex ---- */

static int hd_a(struct bench_side *s, uint64_t n)
{
	struct ipcc_priv *pv = s->priv;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t t0 = bench_now_ns();
		int r = ipcc_call(pv->cpu, pv->peer, 0, s->buf, s->size, s->buf, s->size,
				  IPCC_TIMEOUT_INFINITE);
		if (r != (int)s->size)
			return bench_fail(s, "ipcc_call: %s", r < 0 ? ipcc_strerror(r) : "short");
		bench_sample(s, i, t0, bench_now_ns());
	}
	return 0;
}

static int hd_b(struct bench_side *s, uint64_t n)
{
	struct ipcc_priv *pv = s->priv;
	for (uint64_t i = 0; i < n; i++) {
		int r = ipcc_serve(pv->cpu, pv->peer, 0, s->buf, s->size, IPCC_TIMEOUT_INFINITE);
		if (r != (int)s->size)
			return bench_fail(s, "ipcc_serve: %s", r < 0 ? ipcc_strerror(r) : "short");
		r = ipcc_reply(pv->cpu, pv->peer, 0, s->buf, s->size);
		if (r < 0)
			return bench_fail(s, "ipcc_reply: %s", ipcc_strerror(r));
	}
	return 0;
}

static void on_response(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data,
			size_t len, void *arg)
{
	struct ipcc_priv *pv = arg;
	bench_loop_handled(&pv->count, len != pv->side->size ? -EBADMSG : 0);
}

static int hd_a_loop(struct bench_side *s, uint64_t n)
{
	struct ipcc_priv *pv = s->priv;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t t0 = bench_now_ns();
		int r = ipcc_call_async(pv->cpu, pv->peer, 0, s->buf, s->size, on_response, pv);
		if (r < 0)
			return bench_fail(s, "ipcc_call_async: %s", ipcc_strerror(r));
		r = loop_more(s, pv, 1);
		if (r < 0)
			return r;
		bench_sample(s, i, t0, bench_now_ns());
	}
	return 0;
}

static int on_request(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *buf, size_t len,
		      size_t cap, void *arg)
{
	bench_loop_handled(&((struct ipcc_priv *)arg)->count, 0);
	return (int)len; /* echo, in place */
}

static int hd_b_loop(struct bench_side *s, uint64_t n)
{
	struct ipcc_priv *pv = s->priv;
	if (s->counter == 0) {
		int r = ipcc_serve_async(pv->cpu, pv->peer, 0, on_request, pv);
		if (r < 0)
			return bench_fail(s, "ipcc_serve_async: %s", ipcc_strerror(r));
		s->counter = 1;
	}
	return loop_more(s, pv, n);
}

/* ---- simplex ---- */

static int sx_a(struct bench_side *s, uint64_t n)
{
	struct ipcc_priv *pv = s->priv;
	uint64_t ack;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t t = bench_now_ns();
		memcpy(s->buf, &t, sizeof(t));
		int r = ipcc_send(pv->cpu, pv->peer, 0, s->buf, s->size, IPCC_TIMEOUT_INFINITE);
		if (r < 0)
			return bench_fail(s, "ipcc_send: %s", ipcc_strerror(r));
		r = ipcc_recv(pv->cpu, pv->peer, 0, &ack, sizeof(ack), IPCC_TIMEOUT_INFINITE);
		if (r != sizeof(ack))
			return bench_fail(s, "ipcc_recv (ack): %s",
					  r < 0 ? ipcc_strerror(r) : "short");
	}
	return 0;
}

static int sx_b(struct bench_side *s, uint64_t n)
{
	struct ipcc_priv *pv = s->priv;
	for (uint64_t i = 0; i < n; i++) {
		int r = ipcc_recv(pv->cpu, pv->peer, 0, s->buf, s->size, IPCC_TIMEOUT_INFINITE);
		uint64_t t_recv = bench_now_ns(), t_send;
		if (r != (int)s->size)
			return bench_fail(s, "ipcc_recv: %s", r < 0 ? ipcc_strerror(r) : "short");
		memcpy(&t_send, s->buf, sizeof(t_send));
		bench_sample(s, i, t_send, t_recv);
		r = ipcc_send(pv->cpu, pv->peer, 0, &i, sizeof(i), IPCC_TIMEOUT_INFINITE);
		if (r < 0)
			return bench_fail(s, "ipcc_send (ack): %s", ipcc_strerror(r));
	}
	return 0;
}

static void on_ack(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data, size_t len,
		   void *arg)
{
	bench_loop_handled(&((struct ipcc_priv *)arg)->count, 0);
}

static int sx_a_loop(struct bench_side *s, uint64_t n)
{
	struct ipcc_priv *pv = s->priv;
	if (s->counter == 0) {
		int r = ipcc_recv_async(pv->cpu, pv->peer, 0, on_ack, pv);
		if (r < 0)
			return bench_fail(s, "ipcc_recv_async: %s", ipcc_strerror(r));
		s->counter = 1;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t t = bench_now_ns();
		memcpy(s->buf, &t, sizeof(t));
		/* B acks from its handler before the procedure frees the channel: it may still be
		 * occupied for a moment, so wait for TX free like any sender. */
		int r = ipcc_send(pv->cpu, pv->peer, 0, s->buf, s->size, IPCC_TIMEOUT_INFINITE);
		if (r < 0)
			return bench_fail(s, "ipcc_send: %s", ipcc_strerror(r));
		r = loop_more(s, pv, 1);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Simplex B in a loop: sample a message stamped t_send and received at t_recv, then the ack. */
static void message_done(struct ipcc_priv *pv, uint64_t t_send, uint64_t t_recv)
{
	bench_sample(pv->side, pv->i++, t_send, t_recv);
	/* The ack channel is free: A consumed the previous ack before sending this message. */
	int r = ipcc_send(pv->cpu, pv->peer, 0, &t_recv, sizeof(t_recv), 0);
	bench_loop_handled(&pv->count, r < 0 ? r : 0);
}

static void on_message(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data,
		       size_t len, void *arg)
{
	struct ipcc_priv *pv = arg;
	uint64_t t_recv = bench_now_ns(), t_send;
	memcpy(&t_send, data, sizeof(t_send));
	/*
	 * The dispatch that ran the last callback of a run call may find A's next message, sent
	 * for the next run call (the harness does not line the sides up between the warm-up and
	 * a measured chunk): its sample belongs to that call's array, which is not ours yet.
	 * Hold it, unacknowledged so that A sends nothing more, for sx_b_loop to finish (as
	 * bench/notify.c:on_ping does).
	 */
	if (pv->i == pv->quota) {
		pv->held = true;
		pv->held_send = t_send;
		pv->held_recv = t_recv;
		return;
	}
	message_done(pv, t_send, t_recv);
}

static int sx_b_loop(struct bench_side *s, uint64_t n)
{
	struct ipcc_priv *pv = s->priv;
	if (s->counter == 0) {
		int r = ipcc_recv_async(pv->cpu, pv->peer, 0, on_message, pv);
		if (r < 0)
			return bench_fail(s, "ipcc_recv_async: %s", ipcc_strerror(r));
		s->counter = 1;
	}
	pv->i = 0; /* sample indices restart with each chunk */
	pv->quota = n;
	if (pv->held) {
		pv->held = false;
		message_done(pv, pv->held_send, pv->held_recv);
	}
	return loop_more(s, pv, n);
}

/* ---- stream ---- */

static int st_a(struct bench_side *s, uint64_t n)
{
	struct ipcc_priv *pv = s->priv;
	for (uint64_t i = 0; i < n; i++) {
		int r = ipcc_send(pv->cpu, pv->peer, (unsigned)(s->counter++ % CHANNELS), s->buf,
				  s->size, IPCC_TIMEOUT_INFINITE);
		if (r < 0)
			return bench_fail(s, "ipcc_send: %s", ipcc_strerror(r));
	}
	return 0;
}

static int st_b(struct bench_side *s, uint64_t n)
{
	struct ipcc_priv *pv = s->priv;
	for (uint64_t i = 0; i < n; i++) {
		int r = ipcc_recv(pv->cpu, pv->peer, (unsigned)(s->counter++ % CHANNELS), s->buf,
				  s->size, IPCC_TIMEOUT_INFINITE);
		if (r != (int)s->size)
			return bench_fail(s, "ipcc_recv: %s", r < 0 ? ipcc_strerror(r) : "short");
	}
	return 0;
}

static void on_stream(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data,
		      size_t len, void *arg)
{
	bench_loop_handled(&((struct ipcc_priv *)arg)->count, 0);
}

static int st_b_loop(struct bench_side *s, uint64_t n)
{
	struct ipcc_priv *pv = s->priv;
	if (s->counter == 0) {
		for (unsigned ch = 0; ch < CHANNELS; ch++) {
			int r = ipcc_recv_async(pv->cpu, pv->peer, ch, on_stream, pv);
			if (r < 0)
				return bench_fail(s, "ipcc_recv_async: %s", ipcc_strerror(r));
		}
		s->counter = 1;
	}
	return loop_more(s, pv, n);
}

/* clang-format off */
/* One transport per wait mode; the event-loop modes wait in their loops, the others block. */
#define IPCC_TRANSPORT(sym, w, fl, unavail, sx_a_fn, sx_b_fn, hd_a_fn, hd_b_fn, st_b_fn)     \
	const struct bench_transport sym = {                                               \
		.name = "ipcc", .wait = w, .mode = w, .flags = fl,                         \
		.max_size = IPCC_BUFFER_SIZE_MAX,                                          \
		.unavailable = unavail,                                                    \
		.baseline = bench_baseline_by_wait,                                        \
		.baseline2 = bench_baseline2_by_wait,                                      \
		.setup = ipcc_setup, .attach = ipcc_attach_side,                           \
		.detach = ipcc_detach_side, .teardown = bench_lib_teardown,                \
		.run = {                                                                   \
			[BENCH_SIMPLEX] = { sx_a_fn, sx_b_fn },                            \
			[BENCH_HALF_DUPLEX] = { hd_a_fn, hd_b_fn },                        \
			[BENCH_STREAM] = { st_a, st_b_fn },                                \
		},                                                                         \
	}
#define IPCC_BLOCKING(sym, w, fl) IPCC_TRANSPORT(sym, w, fl, NULL, sx_a, sx_b, hd_a, hd_b, st_b)
#define IPCC_LOOP(sym, w, unavail)                                                         \
	IPCC_TRANSPORT(sym, w, 0, unavail, sx_a_loop, sx_b_loop, hd_a_loop, hd_b_loop, st_b_loop)

/* The mesh (mesh.c) runs in the modes that sleep: more processes than cores spin in vain. */
IPCC_BLOCKING(bench_ipcc_spin, "spin", 0);
IPCC_BLOCKING(bench_ipcc_futex, "futex", BENCH_F_MESH);
IPCC_BLOCKING(bench_ipcc_adaptive, "adaptive", BENCH_F_MESH);
IPCC_LOOP(bench_ipcc_eventfd, "eventfd", NULL);
IPCC_LOOP(bench_ipcc_uring, "uring", bench_uring_unavailable);
/* clang-format on */
