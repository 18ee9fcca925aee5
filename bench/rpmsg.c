/* SPDX-License-Identifier: MIT */
/*
 * The RPMessage rows of ipcc-bench (<ipcc/rpmsg.h>): one transport per wait mode, between two
 * processes that open a system created with Notify and RPMessage on its link and attach a CPU
 * each. Side A is the client, end point EP_CLIENT (12, its reply end point), side B the server,
 * end point EP_SERVER (13), as in TI's ipc_rpmsg_echo. The sizes are payload bytes, and the
 * rows run at their own sizes whatever --sizes says:
 *
 *   half-duplex  the echo round trip of 16, 64, 112 and 496 bytes, timed by A: A sends from
 *                12 to B's 13, B sends the same bytes back to the end point and CPU the packet
 *                came from. 16..112 use the default buffers (128 bytes, 112 of payload), 496
 *                the "linux" profile (ipcc_rpmsg_config_linux: 512-byte buffers).
 *   stream       64-byte packets sent back to back (each send waits for a free buffer when
 *                the receiver keeps all 8), taken one by one by B; packets per second.
 *
 * Every packet carries a sequence number in its first 8 bytes and its complement in its last
 * 8: the echo must bring back the sequence number sent, with the length sent, from end point
 * 13 of CPU 1; the stream reader checks that the packets arrive in order (RPMessage keeps the
 * order per end point pair) and whole.
 *
 * How each side waits is what a user of that wait mode would write. spin, futex and adaptive:
 * queue-mode end points and the blocking calls, TI's echo loop (the server in
 * ipcc_rpmsg_recv, then ipcc_rpmsg_send back; the client ipcc_rpmsg_send, then
 * ipcc_rpmsg_recv). eventfd and uring: the waiting sides run an event loop (libside.h) and
 * their end points are in callback mode: the server's callback echoes with timeout 0 (as an
 * ISR would; the reply's buffer is free because the client took the previous reply before
 * sending again), the client's callback takes the reply, the stream reader's callback counts.
 * The stream writer blocks in its sends in every mode.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ipcc/ipcc.h>

#include "harness.h"
#include "libside.h"
#include "transports.h"
#include "uring-loop.h"

#define EP_CLIENT 12 /* A: the client, and its reply end point */
#define EP_SERVER 13 /* B: the echo server, or the stream reader */
#define SEQ_SIZE  8  /* the sequence number at each end of a packet */
/* Stream: how long a send waits for a free buffer before the row fails. */
#define STREAM_TIMEOUT_NS 10000000000ll

/* Payload bytes of the two profiles; the rows' sizes are chosen to fill them. */
#define PAYLOAD_DEFAULT (IPCC_RPMSG_BUFFER_SIZE_DEFAULT - IPCC_RPMSG_HEADER_SIZE)
#define PAYLOAD_LINUX	(IPCC_RPMSG_BUFFER_SIZE_LINUX - IPCC_RPMSG_HEADER_SIZE)

static const size_t echo_sizes[] = { 16, 64, PAYLOAD_DEFAULT, PAYLOAD_LINUX, 0 };
static const size_t stream_sizes[] = { 64, 0 };

struct rpmsg_priv {
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;
	struct ipcc_rpmsg_ep *ep;
	unsigned peer;
	struct bench_evloop *loop; /* NULL: this side blocks in the calls */
	struct bench_side *side;
	uint64_t next; /* the sequence number to send next (A) or to expect next (B) */
	struct bench_loop_count count; /* event-loop sides: packets the callbacks handled */
};

static int rpmsg_setup(void **state, size_t size, enum bench_pattern p, char *err, size_t len)
{
	struct ipcc_notify_config ncfg;
	struct ipcc_rpmsg_config rcfg;
	struct ipcc_config cfg;

	ipcc_config_init(&cfg);
	ipcc_notify_config_init(&ncfg); /* Notify on the one link: RPMessage's doorbells */
	/* The smallest profile the payload fits: a user picks the linux one for 496 bytes. */
	if (size <= PAYLOAD_DEFAULT)
		ipcc_rpmsg_config_init(&rcfg);
	else
		ipcc_rpmsg_config_linux(&rcfg);
	cfg.notify = &ncfg;
	cfg.rpmsg = &rcfg;
	return bench_lib_setup(state, sizeof(struct bench_lib_state), &cfg, err, len);
}

/* A packet of s->size bytes: seq in front, ~seq at the end, the bytes between left as they are. */
static void stamp(struct bench_side *s, uint64_t seq)
{
	uint64_t inv = ~seq;
	memcpy(s->buf, &seq, SEQ_SIZE);
	memcpy(s->buf + s->size - SEQ_SIZE, &inv, SEQ_SIZE);
}

/* The sequence number of a whole packet of `len` bytes (expected: `want`), or -EBADMSG. */
static int check_packet(const struct bench_side *s, const void *data, uint32_t len, uint64_t want)
{
	uint64_t seq, inv;

	if (len != s->size)
		return -EBADMSG;
	memcpy(&seq, data, SEQ_SIZE);
	memcpy(&inv, (const unsigned char *)data + len - SEQ_SIZE, SEQ_SIZE);
	return seq == want && inv == ~want ? 0 : -EBADMSG;
}

/* ---- the callbacks (event-loop sides) ---- */

/* B, half-duplex: the echo first, to where the packet came from, then the check. */
static void on_echo(struct ipcc_rpmsg_ep *ep, const void *data, uint32_t len, unsigned remote,
		    unsigned remote_ep, void *arg)
{
	struct rpmsg_priv *pv = arg;
	int r = ipcc_rpmsg_send(pv->cpu, data, len, remote, remote_ep, EP_SERVER, 0);
	int err = check_packet(pv->side, data, len, pv->next);

	if (!err && (remote != pv->peer || remote_ep != EP_CLIENT))
		err = -EBADMSG;
	pv->next++;
	bench_loop_handled(&pv->count, r < 0 ? r : err);
}

/* A: the reply, checked by the run function. */
static void on_reply(struct ipcc_rpmsg_ep *ep, const void *data, uint32_t len, unsigned remote,
		     unsigned remote_ep, void *arg)
{
	struct rpmsg_priv *pv = arg;
	int err = check_packet(pv->side, data, len, pv->next);

	if (!err && (remote != pv->peer || remote_ep != EP_SERVER))
		err = -EBADMSG;
	bench_loop_handled(&pv->count, err);
}

/* B, stream: in order and whole. */
static void on_packet(struct ipcc_rpmsg_ep *ep, const void *data, uint32_t len, unsigned remote,
		      unsigned remote_ep, void *arg)
{
	struct rpmsg_priv *pv = arg;
	bench_loop_handled(&pv->count, check_packet(pv->side, data, len, pv->next++));
}

static ipcc_rpmsg_fn callback_of(enum bench_pattern p, enum bench_role role, bool loop)
{
	if (!loop)
		return NULL; /* queue mode; the stream writer never receives */
	if (role == BENCH_SIDE_A)
		return on_reply;
	return p == BENCH_HALF_DUPLEX ? on_echo : on_packet;
}

static int rpmsg_attach_side(struct bench_side *s)
{
	struct bench_lib_state *st = s->state;
	struct rpmsg_priv *pv = calloc(1, sizeof(*pv));
	bool loop;
	int r;

	if (!pv)
		return bench_fail(s, "out of memory");
	s->priv = pv;
	pv->side = s;
	pv->peer = s->role == BENCH_SIDE_A ? 1 : 0;
	r = bench_lib_attach(s, st->name, 0, &pv->sys, &pv->cpu, &pv->loop);
	if (r < 0)
		return r;
	loop = pv->loop != NULL;
	/* Before the harness's first barrier, so that A's first send finds 13 open on B. */
	r = ipcc_rpmsg_ep_create(pv->cpu, s->role == BENCH_SIDE_A ? EP_CLIENT : EP_SERVER,
				 callback_of(s->pattern, s->role, loop), pv, &pv->ep);
	if (r < 0)
		return bench_fail(s, "ipcc_rpmsg_ep_create: %s", ipcc_strerror(r));
	return 0;
}

static void rpmsg_detach_side(struct bench_side *s)
{
	struct rpmsg_priv *pv = s->priv;
	if (!pv)
		return;
	ipcc_rpmsg_ep_close(pv->ep);
	bench_lib_detach(pv->sys, pv->cpu, pv->loop);
	free(pv);
	s->priv = NULL;
}

static int loop_more(struct bench_side *s, struct rpmsg_priv *pv, uint64_t n)
{
	return bench_loop_more(s, pv->loop, &pv->count, n);
}

/* ---- run functions ---- */

/* A: the reply to packet pv->next, from the end point's queue or from the loop's callback. */
static int take_reply(struct bench_side *s, struct rpmsg_priv *pv)
{
	unsigned remote, remote_ep;
	uint32_t len;
	int r;

	if (pv->loop)
		return loop_more(s, pv, 1);
	r = ipcc_rpmsg_recv(pv->ep, s->buf, (uint32_t)s->size, &len, &remote, &remote_ep,
			    IPCC_TIMEOUT_INFINITE);
	if (r < 0)
		return bench_fail(s, "ipcc_rpmsg_recv: %s", ipcc_strerror(r));
	if (check_packet(s, s->buf, len, pv->next) || remote != pv->peer || remote_ep != EP_SERVER)
		return bench_fail(s, "reply %u bytes from %u:%u is not the echo of packet %llu",
				  len, remote, remote_ep, (unsigned long long)pv->next);
	return 0;
}

/* Half-duplex A: the timed round trip of one packet. */
static int echo_a(struct bench_side *s, uint64_t n)
{
	struct rpmsg_priv *pv = s->priv;

	for (uint64_t i = 0; i < n; i++) {
		stamp(s, pv->next);
		uint64_t t0 = bench_now_ns();
		int r = ipcc_rpmsg_send(pv->cpu, s->buf, (uint32_t)s->size, pv->peer, EP_SERVER,
					EP_CLIENT, IPCC_TIMEOUT_INFINITE);
		if (r < 0)
			return bench_fail(s, "ipcc_rpmsg_send: %s", ipcc_strerror(r));
		r = take_reply(s, pv);
		if (r < 0)
			return r;
		bench_sample(s, i, t0, bench_now_ns());
		pv->next++;
	}
	return 0;
}

/* Half-duplex B without a loop: TI's echo server, recv then send back. */
static int echo_b(struct bench_side *s, uint64_t n)
{
	struct rpmsg_priv *pv = s->priv;
	unsigned remote, remote_ep;
	uint32_t len;

	for (uint64_t i = 0; i < n; i++) {
		int r = ipcc_rpmsg_recv(pv->ep, s->buf, (uint32_t)s->size, &len, &remote,
					&remote_ep, IPCC_TIMEOUT_INFINITE);
		if (r < 0)
			return bench_fail(s, "ipcc_rpmsg_recv: %s", ipcc_strerror(r));
		r = ipcc_rpmsg_send(pv->cpu, s->buf, len, remote, remote_ep, EP_SERVER,
				    IPCC_TIMEOUT_INFINITE);
		if (r < 0)
			return bench_fail(s, "ipcc_rpmsg_send (echo): %s", ipcc_strerror(r));
		if (check_packet(s, s->buf, len, pv->next) || remote != pv->peer ||
		    remote_ep != EP_CLIENT)
			return bench_fail(s, "packet %llu: %u bytes from %u:%u, not as sent",
					  (unsigned long long)pv->next, len, remote, remote_ep);
		pv->next++;
	}
	return 0;
}

static int stream_a(struct bench_side *s, uint64_t n)
{
	struct rpmsg_priv *pv = s->priv;

	for (uint64_t i = 0; i < n; i++) {
		stamp(s, pv->next++);
		int r = ipcc_rpmsg_send(pv->cpu, s->buf, (uint32_t)s->size, pv->peer, EP_SERVER,
					EP_CLIENT, STREAM_TIMEOUT_NS);
		if (r < 0)
			return bench_fail(s, "ipcc_rpmsg_send: %s", ipcc_strerror(r));
	}
	return 0;
}

static int stream_b(struct bench_side *s, uint64_t n)
{
	struct rpmsg_priv *pv = s->priv;
	uint32_t len;

	for (uint64_t i = 0; i < n; i++) {
		int r = ipcc_rpmsg_recv(pv->ep, s->buf, (uint32_t)s->size, &len, NULL, NULL,
					IPCC_TIMEOUT_INFINITE);
		if (r < 0)
			return bench_fail(s, "ipcc_rpmsg_recv: %s", ipcc_strerror(r));
		if (check_packet(s, s->buf, len, pv->next))
			return bench_fail(s, "packet %llu: %u bytes, out of order or not whole",
					  (unsigned long long)pv->next, len);
		pv->next++;
	}
	return 0;
}

/* B in a loop: until its callback has handled n more packets. */
static int handle(struct bench_side *s, uint64_t n)
{
	return loop_more(s, s->priv, n);
}

static int echo_b_any(struct bench_side *s, uint64_t n)
{
	return ((struct rpmsg_priv *)s->priv)->loop ? handle(s, n) : echo_b(s, n);
}

static int stream_b_any(struct bench_side *s, uint64_t n)
{
	return ((struct rpmsg_priv *)s->priv)->loop ? handle(s, n) : stream_b(s, n);
}

/* clang-format off */
/* One transport per wait mode; attach decides who loops (callback mode) and who blocks. */
#define RPMSG_TRANSPORT(sym, w, unavail)                                                   \
	const struct bench_transport sym = {                                               \
		.name = "rpmsg", .wait = w, .mode = w,                                     \
		.sizes = {                                                                 \
			[BENCH_HALF_DUPLEX] = echo_sizes,                                  \
			[BENCH_STREAM] = stream_sizes,                                     \
		},                                                                         \
		.unavailable = unavail,                                                    \
		.baseline = bench_baseline_by_wait,                                        \
		.baseline2 = bench_baseline2_by_wait,                                      \
		.setup = rpmsg_setup, .attach = rpmsg_attach_side,                         \
		.detach = rpmsg_detach_side, .teardown = bench_lib_teardown,               \
		.run = {                                                                   \
			[BENCH_HALF_DUPLEX] = { echo_a, echo_b_any },                      \
			[BENCH_STREAM] = { stream_a, stream_b_any },                       \
		},                                                                         \
	}

RPMSG_TRANSPORT(bench_rpmsg_spin, "spin", NULL);
RPMSG_TRANSPORT(bench_rpmsg_futex, "futex", NULL);
RPMSG_TRANSPORT(bench_rpmsg_adaptive, "adaptive", NULL);
RPMSG_TRANSPORT(bench_rpmsg_eventfd, "eventfd", NULL);
RPMSG_TRANSPORT(bench_rpmsg_uring, "uring", bench_uring_unavailable);
/* clang-format on */
