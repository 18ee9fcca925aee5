/* SPDX-License-Identifier: MIT */
/*
 * The IPC Notify rows of ipcc-bench (<ipcc/notify.h>): one transport per wait mode, between two
 * processes that open a system created with Notify on its link (depth 16, the default) and
 * attach a CPU each. A value is one 32-bit queue entry with 28 bits for the application, so the
 * rows report size 4 and run once whatever --sizes says; each sends to client CLIENT of the
 * other CPU.
 *
 *   simplex      A: a sequence number, its send stamp stored just before the send in a table
 *                both sides map, at that number (the value has no room for the stamp);
 *                B: its own stamp on receipt, sample t_recv - table[value], then the value back
 *                untimed, which A receives before it sends the next one (no queueing).
 *   half-duplex  A: the timed round trip of a sequence number; B echoes it from the client's
 *                callback with timeout 0, as an ISR would (TI's notify echo example).
 *   stream       A: ipcc_notify_send back to back with a timeout, so that a full queue waits
 *                for room; B: the client's callback counts (values per second).
 *
 * Every receiver checks that the values come in sequence, the order Notify keeps per pair.
 *
 * Where values are taken is the mode's, as in ipcc.c. spin, futex and adaptive: A, and B in
 * simplex, block in ipcc_notify_recv (the client's mailbox, drained by the waiting thread
 * itself), as the procedure rows block in ipcc_recv; B's callbacks run on an interrupt thread
 * (IPCC_CPU_IRQ_THREAD) that waits in that mode, while B's main thread sleeps until they have
 * handled the values the harness asked for. eventfd and uring: every waiting side runs an event
 * loop (libside.h) whose dispatcher runs the callbacks; the stream writer blocks in its sends.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ipcc/ipcc.h>

#include "harness.h"
#include "libside.h"
#include "transports.h"
#include "uring-loop.h"

#define CLIENT	   IPCC_NOTIFY_CLIENT_FIRST /* the client on both CPUs */
#define VALUE_SIZE 4			    /* bytes of one queue entry */
#define STAMPS	   256			    /* simplex send stamps, by value modulo this */
/* Stream: how long a send waits for room in a full queue before the row fails. */
#define STREAM_TIMEOUT_NS 10000000000ll

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "the stamp table is shared between processes");

struct notify_state {
	struct bench_lib_state lib; /* first: the system's name */
	_Atomic uint64_t *stamps; /* STAMPS entries in a shared mapping, inherited by both sides */
};

struct notify_priv {
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;
	unsigned peer;
	struct bench_evloop *loop; /* NULL: this side does not run an event loop */
	bool threaded;		   /* its callbacks run on the interrupt thread */
	struct bench_side *side;
	uint32_t next;	/* the value to send next (A) or to expect next (B) */
	uint32_t reply; /* A in a loop: what its callback received last */
	/*
	 * Simplex B in a loop: the sample index within the run call, the samples it takes, and
	 * a value of the next run call held back until that call (see on_ping).
	 */
	uint64_t i, quota;
	bool held;
	uint32_t held_value;
	uint64_t held_recv;
	uint64_t target; /* values the run calls asked for so far (main thread only) */
	/*
	 * Between the callbacks and the main thread, which are two threads on the interrupt
	 * thread's sides (see wait_events for the protocol).
	 */
	_Atomic uint64_t events; /* values the callbacks handled */
	_Atomic uint64_t asked;	 /* target, for the callbacks' decision to wake */
	_Atomic uint32_t wakes;	 /* futex word the main thread sleeps on */
	_Atomic int error;	 /* the first error a callback met */
};

static uint32_t next_value(uint32_t v)
{
	return (v + 1) & IPCC_NOTIFY_VALUE_MAX;
}

/* B: 0 if `value` is the one expected next, else -EBADMSG; either way expect its successor. */
static int in_sequence(struct notify_priv *pv, uint32_t value)
{
	bool ok = value == pv->next;
	pv->next = next_value(value);
	return ok ? 0 : -EBADMSG;
}

static void notify_teardown(void *state)
{
	struct notify_state *st = state;
	bench_shared_free(st->stamps, STAMPS * sizeof(*st->stamps));
	bench_lib_teardown(st);
}

static int notify_setup(void **state, size_t size, enum bench_pattern p, char *err, size_t len)
{
	struct ipcc_notify_config ncfg;
	struct ipcc_config cfg;
	struct notify_state *st;

	ipcc_config_init(&cfg);
	ipcc_notify_config_init(&ncfg); /* Notify on the one link, depth 16 */
	cfg.notify = &ncfg;
	if (bench_lib_setup(state, sizeof(*st), &cfg, err, len))
		return -1;
	st = *state;
	st->stamps = bench_shared_alloc(STAMPS * sizeof(*st->stamps));
	if (!st->stamps) {
		snprintf(err, len, "cannot map the stamp table: %s", strerror(errno));
		notify_teardown(st);
		return -1;
	}
	return 0;
}

/*
 * A callback has handled one value (err: what went wrong with it, or 0). The main thread of a
 * threaded side may sleep in wait_events: wake it when the count reaches what it asked for,
 * or on an error.
 */
static void handled(struct notify_priv *pv, int err)
{
	int none = 0;

	/* seq_cst, like every access of this protocol (see wait_events). */
	if (err)
		atomic_compare_exchange_strong_explicit(&pv->error, &none, err,
							memory_order_seq_cst, memory_order_seq_cst);
	uint64_t e = atomic_fetch_add_explicit(&pv->events, 1, memory_order_seq_cst) + 1;
	if (pv->threaded && (err || e == atomic_load_explicit(&pv->asked, memory_order_seq_cst))) {
		atomic_fetch_add_explicit(&pv->wakes, 1, memory_order_seq_cst);
		bench_futex_wake(&pv->wakes, 1);
	}
}

/*
 * Until the callbacks have handled n more values than the earlier calls asked for. The count
 * is cumulative: values that belong to the next call (the peer does not wait for us between
 * run calls) count for it.
 *
 * On a threaded side the main thread sleeps on `wakes`, a Dekker pair with handled(): it
 * stores `asked` then loads `events`, the callback adds to `events` then loads `asked`, all
 * seq_cst, so either it sees the count reached or the callback sees the new target and bumps
 * `wakes` after the main thread read it (FUTEX_WAIT then does not sleep, or is woken). An
 * error is stored before its count, so a main thread that sees the count sees the error.
 */
static int wait_events(struct bench_side *s, struct notify_priv *pv, uint64_t n)
{
	pv->target += n;
	atomic_store_explicit(&pv->asked, pv->target, memory_order_seq_cst);
	for (;;) {
		uint32_t w = atomic_load_explicit(&pv->wakes, memory_order_seq_cst);
		if (atomic_load_explicit(&pv->events, memory_order_seq_cst) >= pv->target ||
		    atomic_load_explicit(&pv->error, memory_order_seq_cst))
			break;
		int r = pv->loop ? bench_evloop_once(pv->loop) : bench_futex_wait(&pv->wakes, w);
		if (r < 0)
			return bench_fail(s, "%s: %s", pv->loop ? "event loop" : "futex wait",
					  ipcc_strerror(r));
	}
	int err = atomic_load_explicit(&pv->error, memory_order_seq_cst);
	if (err)
		return bench_fail(s, "callback: %s", ipcc_strerror(err));
	return 0;
}

/* ---- the callbacks ---- */

/* A in a loop: the value that came back. */
static void on_reply(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
		     void *arg)
{
	struct notify_priv *pv = arg;
	pv->reply = value;
	handled(pv, 0);
}

/* Simplex B in a loop: sample a value received at t_recv, then the untimed ack. */
static void ping_done(struct notify_priv *pv, uint32_t value, uint64_t t_recv)
{
	struct notify_state *st = pv->side->state;
	int err = in_sequence(pv, value);

	/* Relaxed: A stored it before its send, and the Notify queue orders that send before
	 * the callback that received the value (release by the sender, acquire by our drain). */
	bench_sample(pv->side, pv->i++,
		     atomic_load_explicit(&st->stamps[value % STAMPS], memory_order_relaxed),
		     t_recv);
	/* A waits for this ack before it sends again: its queue has room. */
	int r = ipcc_notify_send(pv->cpu, pv->peer, CLIENT, value, 0);
	handled(pv, err ? err : r);
}

static void on_ping(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
		    void *arg)
{
	struct notify_priv *pv = arg;
	uint64_t t_recv = bench_now_ns();

	/*
	 * The dispatch that ran the last callback of a run call may find A's next value, sent
	 * for the next run call (the harness does not line the sides up between the warm-up and
	 * a measured chunk): its sample belongs to that call's array, which is not ours yet.
	 * Hold it, unacknowledged so that A sends nothing more, for handle() to finish.
	 */
	if (pv->i == pv->quota) {
		pv->held = true;
		pv->held_value = value;
		pv->held_recv = t_recv;
		return;
	}
	ping_done(pv, value, t_recv);
}

/* Half-duplex B: the echo, first, then the bookkeeping. */
static void on_echo(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
		    void *arg)
{
	int r = ipcc_notify_send(cpu, remote, client, value, 0);
	struct notify_priv *pv = arg;
	int err = in_sequence(pv, value);
	handled(pv, r < 0 ? r : err);
}

/* Stream B: count. */
static void on_value(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
		     void *arg)
{
	struct notify_priv *pv = arg;
	handled(pv, in_sequence(pv, value));
}

/* The callback of a side, or NULL: it takes its values from the mailbox, or sends only. */
static ipcc_notify_fn callback_of(enum bench_pattern p, enum bench_role role, bool loop)
{
	if (role == BENCH_SIDE_A)
		return loop && p != BENCH_STREAM ? on_reply : NULL;
	if (p == BENCH_SIMPLEX)
		return loop ? on_ping : NULL;
	return p == BENCH_HALF_DUPLEX ? on_echo : on_value;
}

static int notify_attach_side(struct bench_side *s)
{
	struct notify_state *st = s->state;
	struct notify_priv *pv = calloc(1, sizeof(*pv));
	bool loop = bench_side_loops(s);
	ipcc_notify_fn fn = callback_of(s->pattern, s->role, loop);
	int r;

	if (!pv)
		return bench_fail(s, "out of memory");
	s->priv = pv;
	pv->side = s;
	pv->peer = s->role == BENCH_SIDE_A ? 1 : 0;
	/* Set before the interrupt thread starts (pthread_create orders it for handled()). */
	pv->threaded = fn && !loop;
	r = bench_lib_attach(s, st->lib.name, pv->threaded ? IPCC_CPU_IRQ_THREAD : 0, &pv->sys,
			     &pv->cpu, &pv->loop);
	if (r < 0 || !fn)
		return r;
	/* Before the harness's first barrier: no value is sent before both sides are ready. */
	r = ipcc_notify_register(pv->cpu, CLIENT, fn, pv);
	if (r < 0)
		return bench_fail(s, "ipcc_notify_register: %s", ipcc_strerror(r));
	return 0;
}

static void notify_detach_side(struct bench_side *s)
{
	struct notify_priv *pv = s->priv;
	if (!pv)
		return;
	bench_lib_detach(pv->sys, pv->cpu, pv->loop); /* stops the interrupt thread first */
	free(pv);
	s->priv = NULL;
}

/* ---- run functions ---- */

/* A: the value that came back, from the mailbox or from the loop's callback. */
static int take_reply(struct bench_side *s, struct notify_priv *pv, uint32_t *ret)
{
	int r;

	if (pv->loop) {
		r = wait_events(s, pv, 1);
		if (r == 0)
			*ret = pv->reply;
		return r;
	}
	r = ipcc_notify_recv(pv->cpu, CLIENT, ret, NULL, IPCC_TIMEOUT_INFINITE);
	return r < 0 ? bench_fail(s, "ipcc_notify_recv: %s", ipcc_strerror(r)) : 0;
}

/* Simplex and half-duplex A: a sequence number out, the same value back. */
static int ping(struct bench_side *s, uint64_t n)
{
	struct notify_priv *pv = s->priv;
	struct notify_state *st = s->state;

	for (uint64_t i = 0; i < n; i++) {
		uint32_t v = pv->next, back;
		uint64_t t0 = bench_now_ns();
		/* Relaxed: the send below orders it for B (see on_ping). */
		if (s->pattern == BENCH_SIMPLEX)
			atomic_store_explicit(&st->stamps[v % STAMPS], t0, memory_order_relaxed);
		int r = ipcc_notify_send(pv->cpu, pv->peer, CLIENT, v, IPCC_TIMEOUT_INFINITE);
		if (r < 0)
			return bench_fail(s, "ipcc_notify_send: %s", ipcc_strerror(r));
		r = take_reply(s, pv, &back);
		if (r < 0)
			return r;
		if (s->pattern == BENCH_HALF_DUPLEX)
			bench_sample(s, i, t0, bench_now_ns());
		if (back != v)
			return bench_fail(s, "sent %u, got %u back", v, back);
		pv->next = next_value(v);
	}
	return 0;
}

/* Simplex B without a loop: the mailbox, as sx_b in ipcc.c uses ipcc_recv. */
static int pong(struct bench_side *s, uint64_t n)
{
	struct notify_priv *pv = s->priv;
	struct notify_state *st = s->state;

	for (uint64_t i = 0; i < n; i++) {
		uint32_t v, want = pv->next;
		int r = ipcc_notify_recv(pv->cpu, CLIENT, &v, NULL, IPCC_TIMEOUT_INFINITE);
		uint64_t t_recv = bench_now_ns();
		if (r < 0)
			return bench_fail(s, "ipcc_notify_recv: %s", ipcc_strerror(r));
		if (in_sequence(pv, v))
			return bench_fail(s, "got %u, expected %u", v, want);
		/* Relaxed: see on_ping. */
		bench_sample(s, i,
			     atomic_load_explicit(&st->stamps[v % STAMPS], memory_order_relaxed),
			     t_recv);
		r = ipcc_notify_send(pv->cpu, pv->peer, CLIENT, v, IPCC_TIMEOUT_INFINITE);
		if (r < 0)
			return bench_fail(s, "ipcc_notify_send (ack): %s", ipcc_strerror(r));
	}
	return 0;
}

/* B with a callback: wait until it has handled n more values. */
static int handle(struct bench_side *s, uint64_t n)
{
	struct notify_priv *pv = s->priv;
	/* Simplex in a loop: sample indices restart with each run call. */
	pv->i = 0;
	pv->quota = n;
	if (pv->held) {
		pv->held = false;
		ping_done(pv, pv->held_value, pv->held_recv);
	}
	return wait_events(s, pv, n);
}

static int sx_b(struct bench_side *s, uint64_t n)
{
	return ((struct notify_priv *)s->priv)->loop ? handle(s, n) : pong(s, n);
}

static int st_a(struct bench_side *s, uint64_t n)
{
	struct notify_priv *pv = s->priv;

	for (uint64_t i = 0; i < n; i++) {
		int r = ipcc_notify_send(pv->cpu, pv->peer, CLIENT, pv->next, STREAM_TIMEOUT_NS);
		if (r < 0)
			return bench_fail(s, "ipcc_notify_send: %s", ipcc_strerror(r));
		pv->next = next_value(pv->next);
	}
	return 0;
}

/* clang-format off */
/* One transport per wait mode; attach decides who loops, who blocks and who has a thread. */
#define NOTIFY_TRANSPORT(sym, w, unavail)                                                  \
	const struct bench_transport sym = {                                               \
		.name = "notify", .wait = w, .mode = w,                                    \
		.fixed_size = VALUE_SIZE,                                                  \
		.baseline_size = 8, /* the pipe stream of 8-byte messages */               \
		.unavailable = unavail,                                                    \
		.baseline = bench_baseline_by_wait,                                        \
		.baseline2 = bench_baseline2_by_wait,                                      \
		.setup = notify_setup, .attach = notify_attach_side,                       \
		.detach = notify_detach_side, .teardown = notify_teardown,                 \
		.run = {                                                                   \
			[BENCH_SIMPLEX] = { ping, sx_b },                                  \
			[BENCH_HALF_DUPLEX] = { ping, handle },                            \
			[BENCH_STREAM] = { st_a, handle },                                 \
		},                                                                         \
	}

NOTIFY_TRANSPORT(bench_notify_spin, "spin", NULL);
NOTIFY_TRANSPORT(bench_notify_futex, "futex", NULL);
NOTIFY_TRANSPORT(bench_notify_adaptive, "adaptive", NULL);
NOTIFY_TRANSPORT(bench_notify_eventfd, "eventfd", NULL);
NOTIFY_TRANSPORT(bench_notify_uring, "uring", bench_uring_unavailable);
/* clang-format on */
