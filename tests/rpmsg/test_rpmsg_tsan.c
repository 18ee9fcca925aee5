/* SPDX-License-Identifier: MIT */
/*
 * RPMessage with the CPUs as threads of one process, so that ThreadSanitizer sees every side
 * (CI's build-tsan step runs the `stress` suite; a plain program, because Criterion cannot
 * start under TSan). Each case hunts lost wake-ups: a wait that misses its wake-up stalls, and
 * the watchdog turns the stall into a failure.
 *
 * Senders beside blocked receivers: three CPUs (adaptive, futex, eventfd: one wait backend
 * each) with two buffers per vring, so that nearly every send waits for "new empty"; each CPU
 * sends to both others from a thread per peer while a thread blocked in ipcc_rpmsg_recv takes
 * what comes. Each stream must arrive complete and in order; the receiving thread's tallies
 * are plain variables of that thread.
 *
 * The ping-pongs: two CPUs bounce one packet between callback-mode end points, each callback
 * replying with a send of timeout 0, drained by a thread blocked in a receive on another end
 * point of its CPU, or by the interrupt threads. The callbacks' counters are plain: only the
 * library's "one callback at a time" orders them.
 *
 * Zero copy across threads: CPU 1's callback holds each buffer it gets and hands it to a
 * worker thread that checks and releases it, while CPU 0 sends into the two buffers as fast as
 * they come back.
 *
 * Harness flags and counters are seq_cst (the default) unless a comment says otherwise: only
 * the library's orders are under test. It runs its cases in order, or those whose names
 * contain one of its arguments; each within a budget of a few seconds of traffic.
 */
#define PT_NO_CRITERION
#include <stdarg.h>

#include "rpmsg-test.h"
#include "pt-program.h"

#define check(cond, ...) pt_assert(cond, __VA_ARGS__)

#define CAP	     (IPCC_RPMSG_BUFFER_SIZE_DEFAULT - IPCC_RPMSG_HEADER_SIZE)
#define BUDGET	     (3 * PT_SEC)
#define SEND_TIMEOUT (10 * PT_SEC)

/* The first failure of a case, kept; later ones counted. */
static _Atomic unsigned failures;
static _Atomic bool failure_claimed;
static char failure[256];

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;
	atomic_fetch_add(&failures, 1);
	if (atomic_exchange(&failure_claimed, true))
		return;
	va_start(ap, fmt);
	vsnprintf(failure, sizeof(failure), fmt, ap);
	va_end(ap);
}

static bool failing(void)
{
	return atomic_load(&failures) != 0;
}

static void verdict(const char *what)
{
	check(!failing(), "%s: %u failures, the first: %s", what, atomic_load(&failures), failure);
}

static struct ipcc_system *anon_system(unsigned cpus, uint32_t buffers)
{
	struct ipcc_config cfg;
	struct ipcc_notify_config n;
	struct ipcc_rpmsg_config r;
	struct ipcc_system *sys = NULL;
	rt_config(&cfg, &n, &r, cpus);
	r.buffers = buffers;
	int ret = ipcc_system_create_anon(&cfg, &sys);
	check(ret == 0, "create: %s", strerror(-ret));
	return sys;
}

/* ---- senders beside blocked receivers ------------------------------------------------------- */

#define S_CPUS	3u
#define S_COUNT 200000u

struct s_cpu;

struct s_sender {
	struct s_cpu *c;
	unsigned to;
	pthread_t thread;
};

struct s_cpu {
	struct ipcc_cpu *cpu;
	struct ipcc_rpmsg_ep *ep;
	unsigned id;
	pthread_t receiver;
	struct s_sender send[S_CPUS];
	int64_t end;
	_Atomic uint64_t sent_final[S_CPUS]; /* set once the stream to that CPU is all sent */
	_Atomic bool sent_done[S_CPUS];
	/* The receiving thread's own. */
	struct pt_tally t[S_CPUS];
	_Atomic uint64_t got[S_CPUS];
	struct s_cpu *all;
};

static void *s_sender_main(void *p)
{
	struct s_sender *s = p;
	struct s_cpu *c = s->c;
	uint8_t buf[CAP];
	uint64_t seq = 0;
	for (; seq < S_COUNT && pt_now_ns() < c->end && !failing(); seq++) {
		uint32_t len = rt_fill(buf, rt_stream(c->id, 1, 1), seq, CAP);
		int r = ipcc_rpmsg_send(c->cpu, buf, len, s->to, 1, 1, SEND_TIMEOUT);
		if (r) {
			fail("CPU %u: send %llu to %u: %s", c->id, (unsigned long long)seq, s->to,
			     strerror(-r));
			break;
		}
	}
	atomic_store(&c->sent_final[s->to], seq);
	atomic_store(&c->sent_done[s->to], true);
	return NULL;
}

static void *s_receiver_main(void *p)
{
	struct s_cpu *c = p;
	uint8_t buf[CAP];
	for (;;) {
		uint32_t len = 0;
		unsigned rc = 99, re = 99;
		int r = ipcc_rpmsg_recv(c->ep, buf, sizeof(buf), &len, &rc, &re, SEND_TIMEOUT);
		if (r == -ECANCELED)
			return NULL;
		if (r) {
			fail("CPU %u: recv: %s", c->id, strerror(-r));
			return NULL;
		}
		if (rc >= S_CPUS || rc == c->id || re != 1) {
			fail("CPU %u: a packet from %u:%u", c->id, rc, re);
			continue;
		}
		if (!pt_msg_take(&c->t[rc], buf, len, rt_stream(rc, 1, 1), CAP))
			fail("CPU %u: from %u: " PT_TALLY_FMT, c->id, rc, PT_TALLY_ARGS(&c->t[rc]));
		atomic_fetch_add(&c->got[rc], 1);
	}
}

static void senders_wait_for_buffers_beside_blocked_receivers(void)
{
	static const enum ipcc_wait_mode modes[S_CPUS] = { IPCC_WAIT_ADAPTIVE, IPCC_WAIT_FUTEX,
							   IPCC_WAIT_EVENTFD };
	struct ipcc_system *sys = anon_system(S_CPUS, 2);
	static struct s_cpu c[S_CPUS];
	pt_case_watchdog_arm(90, "senders beside blocked receivers");
	int64_t t0 = pt_now_ns();
	memset(c, 0, sizeof(c));
	for (unsigned i = 0; i < S_CPUS; i++) {
		c[i].id = i;
		c[i].all = c;
		c[i].end = t0 + BUDGET;
		c[i].cpu = pt_attach(sys, i, modes[i], 0);
		check(ipcc_rpmsg_ep_create(c[i].cpu, 1, NULL, NULL, &c[i].ep) == 0, "ep");
	}
	for (unsigned i = 0; i < S_CPUS; i++) {
		check(pthread_create(&c[i].receiver, NULL, s_receiver_main, &c[i]) == 0, "thread");
		for (unsigned j = 0; j < S_CPUS; j++) {
			if (j == i)
				continue;
			c[i].send[j] = (struct s_sender){ .c = &c[i], .to = j };
			check(pthread_create(&c[i].send[j].thread, NULL, s_sender_main,
					     &c[i].send[j]) == 0,
			      "thread");
		}
	}
	for (unsigned i = 0; i < S_CPUS; i++)
		for (unsigned j = 0; j < S_CPUS; j++)
			if (j != i)
				pthread_join(c[i].send[j].thread, NULL);
	/* Everything sent must arrive: wait for the counts, then end the receives. */
	for (unsigned i = 0; i < S_CPUS; i++)
		for (unsigned j = 0; j < S_CPUS; j++) {
			if (i == j)
				continue;
			uint64_t want = atomic_load(&c[j].sent_final[i]);
			while (atomic_load(&c[i].got[j]) < want && !failing())
				pt_sleep_ms(1);
		}
	uint64_t total = 0;
	for (unsigned i = 0; i < S_CPUS; i++) {
		check(ipcc_rpmsg_unblock(c[i].ep) == 0, "unblock");
		pthread_join(c[i].receiver, NULL);
	}
	verdict("senders beside blocked receivers");
	for (unsigned i = 0; i < S_CPUS; i++)
		for (unsigned j = 0; j < S_CPUS; j++) {
			if (i == j)
				continue;
			uint64_t want = atomic_load(&c[j].sent_final[i]);
			check(pt_tally_ok(&c[i].t[j]) && c[i].t[j].expect == want,
			      "%u from %u: %llu sent, " PT_TALLY_FMT, i, j,
			      (unsigned long long)want, PT_TALLY_ARGS(&c[i].t[j]));
			struct ipcc_rpmsg_stats st = rt_stats(sys, j, i);
			check(st.sent == want && st.received == want && !st.dropped && !st.bad,
			      "%u -> %u: " RT_STATS_FMT, j, i, RT_STATS_ARGS(st));
			total += want;
		}
	for (unsigned i = 0; i < S_CPUS; i++) {
		ipcc_rpmsg_ep_close(c[i].ep);
		ipcc_cpu_detach(c[i].cpu);
	}
	pt_case_watchdog_disarm();
	fprintf(stderr, "stress: %llu packets through 2-buffer vrings in %.2f s\n",
		(unsigned long long)total, (double)(pt_now_ns() - t0) / PT_SEC);
	ipcc_system_close(sys);
}

/* ---- the ping-pongs ------------------------------------------------------------------------- */

#define PP_BOUNCES 200000u

struct pp_cpu {
	struct ipcc_cpu *cpu;
	struct ipcc_rpmsg_ep *ball, *idle;
	unsigned id;
	pthread_t drainer;
	/* Written by the callbacks only: ordered by the library alone. */
	uint64_t hits;
	uint32_t expect;
	int64_t end;
	_Atomic bool stopped;
	_Atomic uint64_t progress;
};

static void pp_on_ball(struct ipcc_rpmsg_ep *ep, const void *data, uint32_t len, unsigned remote,
		       unsigned remote_ep, void *arg)
{
	struct pp_cpu *c = arg;
	uint32_t v;
	if (len != sizeof(v)) {
		fail("CPU %u: a ball of %u bytes", c->id, len);
		return;
	}
	memcpy(&v, data, sizeof(v));
	if (v != c->expect)
		fail("CPU %u: ball %u where %u was due", c->id, v, c->expect);
	c->expect = v + 2;
	c->hits++;
	atomic_store_explicit(&c->progress, c->hits, memory_order_relaxed); /* a report only */
	if (v >= 2 * PP_BOUNCES || pt_now_ns() >= c->end) {
		atomic_store(&c->stopped, true);
		return;
	}
	v++;
	int r = ipcc_rpmsg_send(ipcc_rpmsg_ep_cpu(ep), &v, sizeof(v), remote, remote_ep,
				ipcc_rpmsg_ep_number(ep), 0);
	if (r) {
		fail("CPU %u: the reply %u from the callback: %s", c->id, v, strerror(-r));
		atomic_store(&c->stopped, true);
	}
}

static void *pp_drainer_main(void *p)
{
	struct pp_cpu *c = p;
	uint8_t buf[8];
	uint32_t len;
	int r = ipcc_rpmsg_recv(c->idle, buf, sizeof(buf), &len, NULL, NULL, IPCC_TIMEOUT_INFINITE);
	if (r != -ECANCELED)
		fail("CPU %u: the draining receive ended with %s", c->id, strerror(-r));
	return NULL;
}

static void pingpong(uint32_t flags, const char *what)
{
	struct ipcc_system *sys = anon_system(2, 2);
	struct pp_cpu c[2];
	pt_case_watchdog_arm(60, what);
	int64_t t0 = pt_now_ns();
	memset(c, 0, sizeof(c));
	for (unsigned i = 0; i < 2; i++) {
		c[i].id = i;
		c[i].expect = i;
		c[i].end = t0 + BUDGET;
		c[i].cpu = pt_attach(sys, i, IPCC_WAIT_FUTEX, flags);
		check(ipcc_rpmsg_ep_create(c[i].cpu, 1, pp_on_ball, &c[i], &c[i].ball) == 0, "ep");
		check(ipcc_rpmsg_ep_create(c[i].cpu, 2, NULL, NULL, &c[i].idle) == 0, "ep");
	}
	bool drained_by_recv = !(flags & IPCC_CPU_IRQ_THREAD);
	if (drained_by_recv)
		for (unsigned i = 0; i < 2; i++)
			check(pthread_create(&c[i].drainer, NULL, pp_drainer_main, &c[i]) == 0,
			      "thread");
	uint32_t v = 0;
	int r = ipcc_rpmsg_send(c[1].cpu, &v, sizeof(v), 0, 1, 1, SEND_TIMEOUT);
	check(r == 0, "the serve: %s", strerror(-r));
	while (!atomic_load(&c[0].stopped) && !atomic_load(&c[1].stopped) && !failing())
		pt_sleep_ms(1);
	if (drained_by_recv)
		for (unsigned i = 0; i < 2; i++) {
			check(ipcc_rpmsg_unblock(c[i].idle) == 0, "unblock");
			pthread_join(c[i].drainer, NULL);
		}
	/* Closing waits for a running callback: after it, the plain counters are ours. */
	for (unsigned i = 0; i < 2; i++) {
		check(ipcc_rpmsg_ep_close(c[i].ball) == 0, "close");
		ipcc_rpmsg_ep_close(c[i].idle);
	}
	verdict(what);
	uint64_t hits = c[0].hits + c[1].hits;
	check(hits >= 2, "%s: %llu bounces", what, (unsigned long long)hits);
	for (unsigned i = 0; i < 2; i++)
		ipcc_cpu_detach(c[i].cpu);
	pt_case_watchdog_disarm();
	fprintf(stderr, "stress: %s: %llu bounces in %.2f s\n", what, (unsigned long long)hits,
		(double)(pt_now_ns() - t0) / PT_SEC);
	ipcc_system_close(sys);
}

static void callback_pingpong_drained_by_blocked_recv(void)
{
	pingpong(0, "ping-pong drained by blocked receives");
}

static void callback_pingpong_drained_by_irq_threads(void)
{
	pingpong(IPCC_CPU_IRQ_THREAD, "ping-pong drained by interrupt threads");
}

/* ---- zero copy across threads --------------------------------------------------------------- */

#define Z_COUNT 200000u
#define Z_RING	8u

struct zc {
	struct ipcc_cpu *tx, *rx;
	struct ipcc_rpmsg_ep *src, *dst;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const void *ring[Z_RING]; /* under lock */
	uint32_t lens[Z_RING];
	unsigned head, tail;
	bool stop;
	uint64_t callbacks; /* the callback's own */
	uint64_t released;  /* the worker's own */
	struct pt_tally t;  /* the worker's own */
	pthread_t worker;
};

static void zc_on_packet(struct ipcc_rpmsg_ep *ep, const void *data, uint32_t len, unsigned remote,
			 unsigned remote_ep, void *arg)
{
	struct zc *z = arg;
	(void)remote, (void)remote_ep;
	z->callbacks++;
	int r = ipcc_rpmsg_hold(ep, data);
	if (r) {
		fail("hold: %s", strerror(-r));
		return;
	}
	pthread_mutex_lock(&z->lock);
	if (z->head - z->tail >= Z_RING)
		fail("more buffers held than the vring has");
	else {
		z->ring[z->head % Z_RING] = data;
		z->lens[z->head % Z_RING] = len;
		z->head++;
	}
	pthread_cond_signal(&z->cond);
	pthread_mutex_unlock(&z->lock);
}

static void *zc_worker_main(void *p)
{
	struct zc *z = p;
	for (;;) {
		pthread_mutex_lock(&z->lock);
		while (z->head == z->tail && !z->stop)
			pthread_cond_wait(&z->cond, &z->lock);
		if (z->head == z->tail) {
			pthread_mutex_unlock(&z->lock);
			return NULL;
		}
		const void *data = z->ring[z->tail % Z_RING];
		uint32_t len = z->lens[z->tail % Z_RING];
		z->tail++;
		pthread_mutex_unlock(&z->lock);
		if (!pt_msg_take(&z->t, data, len, rt_stream(0, 1, 1), CAP))
			fail("held packet: " PT_TALLY_FMT, PT_TALLY_ARGS(&z->t));
		int r = ipcc_rpmsg_release(z->rx, data);
		if (r)
			fail("release: %s", strerror(-r));
		/* No second release here: the buffer may be the sender's again, sent and held
		 * anew under the same pointer (test_rpmsg.c has the double release). */
		z->released++;
	}
}

static void zero_copy_hold_and_release_from_other_threads(void)
{
	struct ipcc_system *sys = anon_system(2, 2);
	static struct zc z;
	memset(&z, 0, sizeof(z));
	pt_case_watchdog_arm(60, "zero copy across threads");
	int64_t t0 = pt_now_ns(), end = t0 + BUDGET;
	pthread_mutex_init(&z.lock, NULL);
	pthread_cond_init(&z.cond, NULL);
	z.tx = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	z.rx = pt_attach(sys, 1, IPCC_WAIT_FUTEX, IPCC_CPU_IRQ_THREAD);
	check(ipcc_rpmsg_ep_create(z.tx, 1, NULL, NULL, &z.src) == 0, "ep");
	check(ipcc_rpmsg_ep_create(z.rx, 1, zc_on_packet, &z, &z.dst) == 0, "ep");
	check(pthread_create(&z.worker, NULL, zc_worker_main, &z) == 0, "thread");
	uint64_t seq = 0;
	for (; seq < Z_COUNT && pt_now_ns() < end && !failing(); seq++) {
		void *tx;
		uint32_t cap;
		int r = ipcc_rpmsg_tx_get(z.tx, 1, SEND_TIMEOUT, &tx, &cap);
		if (r) {
			fail("tx_get %llu: %s", (unsigned long long)seq, strerror(-r));
			break;
		}
		uint32_t len = rt_fill(tx, rt_stream(0, 1, 1), seq, CAP);
		r = ipcc_rpmsg_send_nocopy(z.tx, tx, len, 1, 1);
		if (r) {
			fail("send_nocopy %llu: %s", (unsigned long long)seq, strerror(-r));
			break;
		}
	}
	/* All sent: wait until the worker released them all (the counters say so). */
	for (;;) {
		struct ipcc_rpmsg_stats st = rt_stats(sys, 0, 1);
		if (st.received >= seq || failing())
			break;
		pt_sleep_ms(1);
	}
	/* The close waits for the callback; then the worker finishes what is held. */
	check(ipcc_rpmsg_ep_close(z.dst) == 0, "close");
	pthread_mutex_lock(&z.lock);
	z.stop = true;
	pthread_cond_signal(&z.cond);
	pthread_mutex_unlock(&z.lock);
	pthread_join(z.worker, NULL);
	verdict("zero copy across threads");
	check(z.callbacks == seq && z.released == seq && z.t.expect == seq && pt_tally_ok(&z.t),
	      "%llu sent, %llu callbacks, %llu released, " PT_TALLY_FMT, (unsigned long long)seq,
	      (unsigned long long)z.callbacks, (unsigned long long)z.released, PT_TALLY_ARGS(&z.t));
	ipcc_rpmsg_ep_close(z.src);
	ipcc_cpu_detach(z.tx);
	ipcc_cpu_detach(z.rx);
	pt_case_watchdog_disarm();
	fprintf(stderr, "stress: %llu zero-copy packets held and released in %.2f s\n",
		(unsigned long long)seq, (double)(pt_now_ns() - t0) / PT_SEC);
	pthread_mutex_destroy(&z.lock);
	pthread_cond_destroy(&z.cond);
	ipcc_system_close(sys);
}

/* ---- closing beside a running callback ---------------------------------------------------- */

#define C_ROUNDS 2000u

struct cl {
	struct ipcc_cpu *tx, *rx;
	_Atomic bool in_callback, closed;
	uint64_t calls; /* the callback's own: read after the close */
	_Atomic uint64_t after_close;
	_Atomic bool stop;
};

static void cl_on_packet(struct ipcc_rpmsg_ep *ep, const void *data, uint32_t len, unsigned remote,
			 unsigned remote_ep, void *arg)
{
	struct cl *c = arg;
	(void)ep, (void)data, (void)len, (void)remote, (void)remote_ep;
	atomic_store(&c->in_callback, true);
	if (atomic_load(&c->closed))
		atomic_fetch_add(&c->after_close, 1);
	c->calls++;
	for (volatile int i = 0; i < 200; i++)
		; /* a callback that takes a moment: the close is likely to meet it */
	atomic_store(&c->in_callback, false);
}

static void *cl_flooder(void *p)
{
	struct cl *c = p;
	uint8_t b = 0;
	while (!atomic_load(&c->stop)) {
		int r = ipcc_rpmsg_send(c->tx, &b, 1, 1, 5, 1, 0);
		if (r && r != -EAGAIN && r != -ECONNREFUSED)
			fail("flood: %s", strerror(-r));
		if (r)
			sched_yield();
	}
	return NULL;
}

/*
 * CPU 1's interrupt thread runs the callbacks of end point 5 while CPU 0 floods it; the main
 * thread closes and reopens the end point over and over. When a close returns, the callback
 * is not running and never runs again for that opening, and its plain counter is the closer's
 * to read (the close orders it, which TSan checks). Packets meanwhile hit a closed end point
 * (dropped) or are refused (-ECONNREFUSED): both fine.
 */
static void close_returns_when_the_callback_is_done_for_good(void)
{
	struct ipcc_system *sys = anon_system(2, 8);
	static struct cl c;
	memset(&c, 0, sizeof(c));
	pt_case_watchdog_arm(60, "close beside a running callback");
	int64_t t0 = pt_now_ns(), end = t0 + BUDGET;
	c.tx = pt_attach(sys, 0, IPCC_WAIT_FUTEX, IPCC_CPU_IRQ_THREAD);
	c.rx = pt_attach(sys, 1, IPCC_WAIT_FUTEX, IPCC_CPU_IRQ_THREAD);
	struct ipcc_rpmsg_ep *src;
	check(ipcc_rpmsg_ep_create(c.tx, 1, NULL, NULL, &src) == 0, "ep");
	pthread_t t;
	check(pthread_create(&t, NULL, cl_flooder, &c) == 0, "thread");
	uint64_t total = 0;
	unsigned rounds = 0;
	for (; rounds < C_ROUNDS && pt_now_ns() < end && !failing(); rounds++) {
		struct ipcc_rpmsg_ep *ep;
		atomic_store(&c.closed, false);
		int r = ipcc_rpmsg_ep_create(c.rx, 5, cl_on_packet, &c, &ep);
		check(r == 0, "reopen: %s", strerror(-r));
		pt_sleep_ms(1);
		check(ipcc_rpmsg_ep_close(ep) == 0, "close");
		atomic_store(&c.closed, true);
		if (atomic_load(&c.in_callback))
			fail("round %u: the callback runs after its close returned", rounds);
		total += c.calls; /* ordered by the close */
		c.calls = 0;
	}
	atomic_store(&c.stop, true);
	pthread_join(t, NULL);
	pt_sleep_ms(10);
	check(atomic_load(&c.after_close) == 0, "%llu callbacks after a close returned",
	      (unsigned long long)atomic_load(&c.after_close));
	verdict("close beside a running callback");
	ipcc_rpmsg_ep_close(src);
	ipcc_cpu_detach(c.tx);
	ipcc_cpu_detach(c.rx);
	pt_case_watchdog_disarm();
	fprintf(stderr, "stress: %u closes beside %llu callbacks in %.2f s\n", rounds,
		(unsigned long long)total, (double)(pt_now_ns() - t0) / PT_SEC);
	ipcc_system_close(sys);
}

/* ---- main ------------------------------------------------------------------------------------ */

static const struct pt_case cases[] = {
	PT_CASE(senders_wait_for_buffers_beside_blocked_receivers),
	PT_CASE(callback_pingpong_drained_by_blocked_recv),
	PT_CASE(callback_pingpong_drained_by_irq_threads),
	PT_CASE(zero_copy_hold_and_release_from_other_threads),
	PT_CASE(close_returns_when_the_callback_is_done_for_good),
};

int main(int argc, char **argv)
{
	return pt_run_cases("rpmsg-stress", cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
