/* SPDX-License-Identifier: MIT */
/*
 * Notify with the CPUs as threads of one process, so that ThreadSanitizer sees every side
 * (the CI's build-tsan step runs the `stress` suite; a plain program, because Criterion cannot
 * start under TSan, see tests/proc/test_tsan.c).
 *
 * The mesh: four CPUs, each attached by its own thread, through one shared system handle or
 * a handle per CPU. CPUs 0 and 1 have an interrupt thread (IPCC_CPU_IRQ_THREAD), CPUs 2 and 3
 * none: their callbacks run from the thread blocked in ipcc_notify_recv. Every CPU sends to
 * every other one on three clients at once, from two threads: client 2 has a callback, client 3
 * none (a thread receives it, blocking), and client 4's callback is registered and unregistered
 * over and over by a third thread while values flow (values that come while it is away wait in
 * the mailbox and reach the callback, first, when it is back). Each value is the next number
 * of its stream (sender, receiver, client): every value must arrive once and in order. The
 * callbacks keep their tallies in plain variables: only the library's "never two callbacks of
 * one CPU at once" orders them, and TSan checks that it does. A sender keeps at most
 * M_WINDOW values of a stream unreceived, so that a mailbox (IPCC_NOTIFY_MAILBOX) never fills.
 *
 * The ping-pongs: two CPUs play one value back and forth through their callbacks (a send with
 * timeout 0 from interrupt context), drained by the thread blocked in ipcc_notify_recv, or by
 * the interrupt threads; a lost wake-up stalls it, and the watchdog turns that into a failure.
 *
 * The sync rounds: three CPUs with interrupt threads flood each other (the queues full most of
 * the time) while their main threads run a thousand sync_all rounds without a timeout.
 *
 * The harness's own flags and counters (start lines, stop flags, final counts) are seq_cst, the
 * default, unless a comment says otherwise: only the library's orders are under test.
 *
 * Every case is bounded by a few seconds of traffic (M_BUDGET) and a watchdog; it runs its
 * cases in order, or those whose names contain one of its arguments.
 */
#define PT_NO_CRITERION
#include <pthread.h>
#include <stdarg.h>

#include "notify-sync-test.h"

#define check(cond, ...) pt_assert(cond, __VA_ARGS__)

static char watchdog_msg[160];
static int watchdog_len;

static void watchdog_fired(int sig)
{
	(void)sig;
	ssize_t w = write(STDERR_FILENO, watchdog_msg, (size_t)watchdog_len);
	(void)w;
	abort();
}

/* The whole case within `seconds`, or abort (meson reports SIGABRT). */
static void watchdog_arm(unsigned seconds, const char *what)
{
	watchdog_len = snprintf(watchdog_msg, sizeof(watchdog_msg),
				"watchdog: %s still running after %u s: lost wake-up or hang\n",
				what, seconds);
	if (watchdog_len < 0 || watchdog_len >= (int)sizeof(watchdog_msg))
		watchdog_len = (int)strlen(watchdog_msg);
	signal(SIGALRM, watchdog_fired);
	alarm(seconds);
}

static void watchdog_disarm(void)
{
	alarm(0);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void nap_us(unsigned us)
{
	struct timespec ts = { 0, (long)us * 1000 };
	nanosleep(&ts, NULL);
}

/* ---- the mesh -------------------------------------------------------------------------------- */

#define M_CPUS	       4u
#define M_CLIENTS      3u /* clients 2 (callback), 3 (blocking recv), 4 (toggled callback) */
#define M_CB	       0u
#define M_RECV	       1u
#define M_TOGGLED      2u
#define M_VALUES       3000u /* per stream, unless the budget ends it first */
#define M_WINDOW       48u   /* 3 streams x 48 < IPCC_NOTIFY_MAILBOX per client */
#define M_BUDGET       (4 * PT_SEC)
#define M_SEND_TIMEOUT (5 * PT_SEC)
#define M_UNSENT       UINT32_MAX

static unsigned m_client(unsigned k)
{
	return IPCC_NOTIFY_CLIENT_FIRST + k;
}

struct mesh;

struct m_cpu {
	struct mesh *m;
	unsigned id;
	struct ipcc_system *own_sys; /* own handle, or NULL */
	struct ipcc_cpu *cpu;
	pthread_t attacher, sender_b, receiver, toggler;

	/* Receive side. Callback tallies: plain, ordered by the library alone. */
	uint32_t expect[M_CPUS][M_CLIENTS];
	uint64_t callbacks;
	uint32_t toggle_epoch, seen_epoch; /* written by the toggler, read by client 4's callback */
	_Atomic uint32_t got[M_CPUS][M_CLIENTS]; /* progress, for the senders' windows */
	_Atomic int in_callback;
	_Atomic bool registered;  /* client 4's callback may run */
	_Atomic bool toggle_done; /* client 4 registered for good */
	uint64_t toggles, recv_timeouts;

	/* Send side: the final count of each stream, once it is all sent. */
	_Atomic uint32_t sent_final[M_CPUS][M_CLIENTS];
};

struct mesh {
	struct ipcc_system *sys;
	bool own_handles;
	int64_t budget_end;
	_Atomic unsigned attached, senders_b_done, errors;
	_Atomic bool stop;
	struct m_cpu c[M_CPUS];
	_Atomic bool error_claimed[M_CPUS];
	char error[M_CPUS][240]; /* read after the joins */
};

static void m_fail(struct m_cpu *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void m_fail(struct m_cpu *c, const char *fmt, ...)
{
	va_list ap;
	atomic_fetch_add(&c->m->errors, 1);
	/* The first report of a CPU is kept: several of its threads may fail at once. */
	if (atomic_exchange(&c->m->error_claimed[c->id], true))
		return;
	va_start(ap, fmt);
	vsnprintf(c->m->error[c->id], sizeof(c->m->error[0]), fmt, ap);
	va_end(ap);
}

static bool m_failed(struct mesh *m)
{
	return atomic_load(&m->errors) != 0;
}

/* One value of stream (remote -> c, client k) taken by a callback or the receiving thread. */
static void m_take(struct m_cpu *c, unsigned remote, unsigned k, uint32_t value, const char *how)
{
	if (remote >= M_CPUS || remote == c->id) {
		m_fail(c, "CPU %u: %s: a value from CPU %u", c->id, how, remote);
		return;
	}
	uint32_t *e = &c->expect[remote][k];
	if (value != *e)
		m_fail(c, "CPU %u: %s: client %u from CPU %u: value %u where %u was due", c->id,
		       how, m_client(k), remote, value, *e);
	*e = value + 1;
	/* Release: the sender's acquire load in m_room pairs with it (window only). */
	atomic_store_explicit(&c->got[remote][k], value + 1, memory_order_release);
}

static void m_callback(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
		       void *arg)
{
	struct m_cpu *c = arg;
	(void)cpu;
	/* Relaxed would do to detect overlap; seq_cst keeps the check simple to read. */
	if (atomic_fetch_add(&c->in_callback, 1))
		m_fail(c, "CPU %u: two callbacks at once", c->id);
	c->callbacks++;
	if (client == m_client(M_TOGGLED)) {
		/* Acquire: pairs with the toggler's release store before its register. */
		if (!atomic_load_explicit(&c->registered, memory_order_acquire))
			m_fail(c, "CPU %u: client 4's callback ran after its unregister returned",
			       c->id);
		c->seen_epoch = c->toggle_epoch;
		m_take(c, remote, M_TOGGLED, value, "toggled callback");
	} else if (client == m_client(M_CB)) {
		m_take(c, remote, M_CB, value, "callback");
	} else {
		m_fail(c, "CPU %u: a callback for client %u", c->id, client);
	}
	atomic_fetch_sub(&c->in_callback, 1);
}

/* Wait for room in the window of stream (c -> to, k); false when the case is failing. */
static bool m_room(struct m_cpu *c, unsigned to, unsigned k, uint32_t seq)
{
	struct m_cpu *rx = &c->m->c[to];
	for (;;) {
		/* Acquire: pairs with the release store in m_take. */
		uint32_t got = atomic_load_explicit(&rx->got[c->id][k], memory_order_acquire);
		if (seq - got < M_WINDOW)
			return true;
		if (m_failed(c->m))
			return false;
		nap_us(100);
	}
}

static bool m_send(struct m_cpu *c, unsigned to, unsigned k, uint32_t seq)
{
	if (!m_room(c, to, k, seq))
		return false;
	int r = ipcc_notify_send(c->cpu, to, m_client(k), seq, M_SEND_TIMEOUT);
	if (r) {
		m_fail(c, "CPU %u: send %u to client %u of CPU %u: %s", c->id, seq, m_client(k), to,
		       strerror(-r));
		return false;
	}
	return true;
}

/* Send clients `ks` (a bit mask of client indices) to every peer, round robin. */
static void m_send_streams(struct m_cpu *c, unsigned ks)
{
	uint32_t seq = 0;
	for (; seq < M_VALUES && pt_now_ns() < c->m->budget_end; seq++)
		for (unsigned to = 0; to < M_CPUS; to++)
			for (unsigned k = 0; k < M_CLIENTS; k++)
				if (to != c->id && (ks >> k & 1) && !m_send(c, to, k, seq))
					return;
	/* Client 4's last value goes once the receiver's callback is back for good: it is the
	 * drain that hands the mailbox's values to the callback. */
	if (ks >> M_TOGGLED & 1) {
		atomic_fetch_add(&c->m->senders_b_done, 1);
		for (unsigned to = 0; to < M_CPUS; to++) {
			if (to == c->id)
				continue;
			while (!atomic_load(&c->m->c[to].toggle_done) && !m_failed(c->m))
				nap_us(200);
			if (!m_send(c, to, M_TOGGLED, seq))
				return;
		}
		seq++;
	}
	for (unsigned to = 0; to < M_CPUS; to++)
		for (unsigned k = 0; k < M_CLIENTS; k++)
			if (to != c->id && (ks >> k & 1))
				atomic_store(&c->sent_final[to][k], seq);
}

static void *m_sender_b(void *p)
{
	m_send_streams(p, 1u << M_TOGGLED);
	return NULL;
}

/* Client 3, blocking; on CPUs without an interrupt thread this thread runs the callbacks. */
static void *m_receiver(void *p)
{
	struct m_cpu *c = p;
	while (!atomic_load(&c->m->stop)) {
		uint32_t v = 0;
		unsigned remote = M_CPUS;
		int r = ipcc_notify_recv(c->cpu, m_client(M_RECV), &v, &remote, 20 * PT_MS);
		if (r == -ETIMEDOUT) {
			c->recv_timeouts++;
			continue;
		}
		if (r) {
			m_fail(c, "CPU %u: recv: %s", c->id, strerror(-r));
			break;
		}
		m_take(c, remote, M_RECV, v, "recv");
	}
	return NULL;
}

static void *m_toggler(void *p)
{
	struct m_cpu *c = p;
	uint64_t rng = pt_mix(c->id + 77) | 1;
	while (atomic_load(&c->m->senders_b_done) < M_CPUS && !m_failed(c->m)) {
		int r = ipcc_notify_unregister(c->cpu, m_client(M_TOGGLED));
		if (r) {
			m_fail(c, "CPU %u: unregister: %s", c->id, strerror(-r));
			break;
		}
		/* Relaxed: the callback is not running and will not run before the register. */
		atomic_store_explicit(&c->registered, false, memory_order_relaxed);
		nap_us((unsigned)(rnd(&rng) % 300));
		c->toggle_epoch++; /* plain: register must publish it to the callback */
		/* Release: pairs with the callback's acquire load. */
		atomic_store_explicit(&c->registered, true, memory_order_release);
		r = ipcc_notify_register(c->cpu, m_client(M_TOGGLED), m_callback, c);
		if (r) {
			m_fail(c, "CPU %u: register: %s", c->id, strerror(-r));
			break;
		}
		c->toggles++;
		nap_us((unsigned)(rnd(&rng) % 300));
	}
	atomic_store(&c->toggle_done, true);
	return NULL;
}

static bool m_received_all(struct mesh *m)
{
	for (unsigned to = 0; to < M_CPUS; to++)
		for (unsigned from = 0; from < M_CPUS; from++)
			for (unsigned k = 0; from != to && k < M_CLIENTS; k++) {
				uint32_t f = atomic_load(&m->c[from].sent_final[to][k]);
				if (f == M_UNSENT || atomic_load(&m->c[to].got[from][k]) != f)
					return false;
			}
	return true;
}

static void *m_attacher(void *p)
{
	struct m_cpu *c = p;
	struct mesh *m = c->m;
	struct ipcc_system *sys = m->sys;
	struct ipcc_cpu_options o = pt_options(c->id & 1 ? IPCC_WAIT_ADAPTIVE : IPCC_WAIT_FUTEX,
					       c->id < 2 ? IPCC_CPU_IRQ_THREAD : 0);
	int r;
	if (m->own_handles) {
		r = ipcc_system_open(ipcc_system_name(m->sys), &c->own_sys);
		check(r == 0, "CPU %u: open its own handle: %s", c->id, strerror(-r));
		sys = c->own_sys;
	}
	r = ipcc_cpu_attach(sys, c->id, &o, &c->cpu);
	check(r == 0, "attach CPU %u: %s", c->id, strerror(-r));
	atomic_store(&c->registered, true);
	for (unsigned k = 0; k < M_CLIENTS; k++)
		if (k != M_RECV) {
			r = ipcc_notify_register(c->cpu, m_client(k), m_callback, c);
			check(r == 0, "CPU %u: register client %u: %s", c->id, m_client(k),
			      strerror(-r));
		}
	/* The start-up barrier, between threads: every CPU attached and registered. */
	r = ipcc_notify_sync_all(c->cpu, PT_LONG);
	check(r == 0, "CPU %u: sync_all: %s", c->id, strerror(-r));
	atomic_fetch_add(&m->attached, 1);
	check(pthread_create(&c->receiver, NULL, m_receiver, c) == 0, "thread");
	check(pthread_create(&c->toggler, NULL, m_toggler, c) == 0, "thread");
	check(pthread_create(&c->sender_b, NULL, m_sender_b, c) == 0, "thread");
	/* This thread sends clients 2 and 3. */
	m_send_streams(c, 1u << M_CB | 1u << M_RECV);
	return NULL;
}

static void mesh(bool own_handles)
{
	static struct mesh m; /* large; one case at a time */
	memset(&m, 0, sizeof(m));
	m.sys = ns_create_all(M_CPUS);
	m.own_handles = own_handles;
	int64_t t0 = pt_now_ns();
	m.budget_end = t0 + M_BUDGET;
	watchdog_arm(90, "the mesh");
	for (unsigned i = 0; i < M_CPUS; i++) {
		struct m_cpu *c = &m.c[i];
		c->m = &m;
		c->id = i;
		for (unsigned to = 0; to < M_CPUS; to++)
			for (unsigned k = 0; k < M_CLIENTS; k++)
				atomic_init(&c->sent_final[to][k], M_UNSENT);
	}
	for (unsigned i = 0; i < M_CPUS; i++)
		check(pthread_create(&m.c[i].attacher, NULL, m_attacher, &m.c[i]) == 0, "thread");
	for (unsigned i = 0; i < M_CPUS; i++)
		pthread_join(m.c[i].attacher, NULL);
	for (unsigned i = 0; i < M_CPUS; i++)
		pthread_join(m.c[i].sender_b, NULL);
	/* Everything sent: wait until everything arrived (the watchdog bounds it). */
	while (!m_received_all(&m) && !m_failed(&m))
		nap_us(1000);
	atomic_store(&m.stop, true);
	for (unsigned i = 0; i < M_CPUS; i++) {
		pthread_join(m.c[i].receiver, NULL);
		pthread_join(m.c[i].toggler, NULL);
	}
	/* Stats before the detaches: the queues are empty, nothing dropped. */
	struct ipcc_notify_stats st;
	for (unsigned from = 0; from < M_CPUS && !m_failed(&m); from++)
		for (unsigned to = 0; to < M_CPUS; to++) {
			if (to == from)
				continue;
			int r = ipcc_notify_stats(m.sys, from, to, &st);
			check(r == 0, "stats %u -> %u: %s", from, to, strerror(-r));
			check(st.dropped == 0 && st.fill == 0 && st.sent == st.received,
			      "stats %u -> %u: sent %llu received %llu dropped %llu fill %u", from,
			      to, (unsigned long long)st.sent, (unsigned long long)st.received,
			      (unsigned long long)st.dropped, st.fill);
		}
	for (unsigned i = 0; i < M_CPUS; i++) {
		ipcc_cpu_detach(m.c[i].cpu);
		ipcc_system_close(m.c[i].own_sys);
	}
	watchdog_disarm();
	uint64_t values = 0, toggles = 0;
	for (unsigned i = 0; i < M_CPUS; i++) {
		toggles += m.c[i].toggles;
		for (unsigned to = 0; to < M_CPUS; to++)
			for (unsigned k = 0; to != i && k < M_CLIENTS; k++)
				values += atomic_load(&m.c[i].sent_final[to][k]);
		if (m.error[i][0])
			fprintf(stderr, "stress: %s\n", m.error[i]);
	}
	fprintf(stderr,
		"stress: mesh of %u CPUs (%s): %llu values, %llu register/unregister pairs, in "
		"%.2f s\n",
		M_CPUS, own_handles ? "a handle each" : "one handle", (unsigned long long)values,
		(unsigned long long)toggles, (double)(pt_now_ns() - t0) / PT_SEC);
	check(!m_failed(&m), "%u failures", atomic_load(&m.errors));
	ipcc_system_close(m.sys);
}

static void four_cpus_one_handle_senders_receivers_and_a_toggled_client(void)
{
	mesh(false);
}

static void four_cpus_own_handles_senders_receivers_and_a_toggled_client(void)
{
	mesh(true);
}

/* ---- callback ping-pongs ---------------------------------------------------------------------- */

#define P_ROUNDS 200000u
#define P_BUDGET (5 * PT_SEC)
#define P_BALL	 2u /* the client the value bounces on */
#define P_END	 3u /* the client each side's thread waits on */

struct pingpong {
	struct ipcc_system *sys;
	pthread_barrier_t end; /* both ends seen before either detaches: a detach ends waits */
	uint32_t flags;
	int64_t budget_end;
	_Atomic uint32_t last; /* the value that ended the game */
};

struct pp_side {
	struct pingpong *pp;
	unsigned id;
	struct ipcc_cpu *cpu;
	uint32_t expect; /* plain: the callbacks of this CPU only */
	bool ended_it;	 /* plain: written by a callback, read by the thread after the end */
	char error[200];
};

static void pp_on_ball(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
		       void *arg)
{
	struct pp_side *s = arg;
	(void)client;
	if (value != s->expect && !s->error[0])
		snprintf(s->error, sizeof(s->error), "CPU %u: ball %u where %u was due", s->id,
			 value, s->expect);
	s->expect = value + 2;
	bool end = value + 1 >= P_ROUNDS || pt_now_ns() > s->pp->budget_end;
	int r;
	if (end) {
		s->ended_it = true;
		atomic_store(&s->pp->last, value);
		r = ipcc_notify_send(cpu, remote, P_END, value, 0);
	} else {
		r = ipcc_notify_send(cpu, remote, P_BALL, value + 1, 0);
	}
	if (r && !s->error[0])
		snprintf(s->error, sizeof(s->error), "CPU %u: send from the callback: %s", s->id,
			 strerror(-r));
}

static void *pp_thread(void *p)
{
	struct pp_side *s = p;
	struct ipcc_cpu_options o = pt_options(IPCC_WAIT_FUTEX, s->pp->flags);
	unsigned peer = !s->id;
	int r = ipcc_cpu_attach(s->pp->sys, s->id, &o, &s->cpu);
	check(r == 0, "attach %u: %s", s->id, strerror(-r));
	/* CPU 1 gets the even values, CPU 0 the odd ones. */
	s->expect = s->id ? 0 : 1;
	r = ipcc_notify_register(s->cpu, P_BALL, pp_on_ball, s);
	check(r == 0, "register: %s", strerror(-r));
	r = ipcc_notify_sync_all(s->cpu, PT_LONG);
	check(r == 0, "CPU %u: sync_all: %s", s->id, strerror(-r));
	if (s->id == 0) {
		r = ipcc_notify_send(s->cpu, peer, P_BALL, 0, PT_LONG);
		check(r == 0, "the first ball: %s", strerror(-r));
	}
	/* No timeout: a lost wake-up hangs here, and the watchdog reports it. */
	uint32_t v = 0;
	unsigned remote = 0;
	r = ipcc_notify_recv(s->cpu, P_END, &v, &remote, IPCC_TIMEOUT_INFINITE);
	if (r == 0 && !s->ended_it)
		r = ipcc_notify_send(s->cpu, peer, P_END, v, PT_LONG);
	if (r && !s->error[0])
		snprintf(s->error, sizeof(s->error), "CPU %u: the end: %s", s->id, strerror(-r));
	/* Both ends seen before either detaches (a detach ends the peer's waits). Not a
	 * sync_all: a peer that detaches right after its sync_all returned can make the other's
	 * fail with -EPIPE (test_notify_sync.c). */
	pthread_barrier_wait(&s->pp->end);
	ipcc_cpu_detach(s->cpu);
	return NULL;
}

static void pingpong(uint32_t flags, const char *what)
{
	struct pingpong pp = { .sys = ns_create_all(2), .flags = flags };
	struct pp_side side[2] = { { .pp = &pp, .id = 0 }, { .pp = &pp, .id = 1 } };
	pthread_t th[2];
	check(ipcc_system_unlink(ipcc_system_name(pp.sys)) == 0, "unlink");
	pthread_barrier_init(&pp.end, NULL, 2);
	int64_t t0 = pt_now_ns();
	pp.budget_end = t0 + P_BUDGET;
	watchdog_arm(60, what);
	for (int i = 0; i < 2; i++)
		check(pthread_create(&th[i], NULL, pp_thread, &side[i]) == 0, "thread");
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	watchdog_disarm();
	pthread_barrier_destroy(&pp.end);
	double s = (double)(pt_now_ns() - t0) / PT_SEC;
	uint32_t last = atomic_load(&pp.last);
	fprintf(stderr, "stress: %s: %u bounces in %.2f s\n", what, last + 1, s);
	check(!side[0].error[0], "%s", side[0].error);
	check(!side[1].error[0], "%s", side[1].error);
	check(side[0].ended_it != side[1].ended_it, "both or neither ended the game");
	/* The odd values go to CPU 0, the even ones to CPU 1; its receiver ended the game. */
	struct pp_side *e = &side[!(last & 1)];
	check(e->ended_it && e->expect == last + 2, "the last ball %u: CPU %u %s, expects %u", last,
	      e->id, e->ended_it ? "ended it" : "did not end it", e->expect);
	ipcc_system_close(pp.sys);
}

static void callback_pingpong_drained_by_blocked_recv(void)
{
	pingpong(0, "callback ping-pong, drained by the blocked recv");
}

static void callback_pingpong_drained_by_irq_threads(void)
{
	pingpong(IPCC_CPU_IRQ_THREAD, "callback ping-pong, drained by the interrupt threads");
}

/* ---- sync rounds beside a flood ------------------------------------------------------------ */

/*
 * Three CPUs as threads, each with an interrupt thread, each flooding the others' client 2
 * (sends with timeout 0: the queues are full most of the time) while its main thread runs
 * sync_all rounds without a timeout. A round must not end before every CPU arrived at it
 * (arrival counters), and a sync word announced while a queue is full must still wake its
 * waiter (a lost wake-up hangs a round: the watchdog). Every flooded value must arrive once
 * and in order, as above.
 */
#define F_CPUS	 3u
#define F_ROUNDS 1000u

struct flood;

struct f_cpu {
	struct flood *f;
	unsigned id;
	struct ipcc_cpu *cpu;
	pthread_t main, flooder;
	uint32_t expect[F_CPUS]; /* plain: the callbacks of this CPU only */
	_Atomic uint32_t got[F_CPUS];
	_Atomic uint32_t sent_final[F_CPUS];
	char error[200];
};

struct flood {
	struct ipcc_system *sys;
	_Atomic uint32_t arrived[F_ROUNDS];
	_Atomic unsigned rounds_done, ready;
	_Atomic bool stop;
	struct f_cpu c[F_CPUS];
};

static void f_on_value(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
		       void *arg)
{
	struct f_cpu *c = arg;
	(void)cpu, (void)client;
	if (remote >= F_CPUS || remote == c->id)
		return;
	if (value != c->expect[remote] && !c->error[0])
		snprintf(c->error, sizeof(c->error),
			 "CPU %u: value %u from CPU %u where %u was due", c->id, value, remote,
			 c->expect[remote]);
	c->expect[remote] = value + 1;
	/* Release: the final check's acquire loads pair with it. */
	atomic_store_explicit(&c->got[remote], value + 1, memory_order_release);
}

static void *f_flooder(void *p)
{
	struct f_cpu *c = p;
	uint32_t seq[F_CPUS] = { 0 };
	while (!atomic_load(&c->f->stop)) {
		bool any = false;
		for (unsigned to = 0; to < F_CPUS; to++) {
			if (to == c->id)
				continue;
			int r = ipcc_notify_send(c->cpu, to, IPCC_NOTIFY_CLIENT_FIRST, seq[to], 0);
			if (r == 0) {
				seq[to] = (seq[to] + 1) & IPCC_NOTIFY_VALUE_MAX;
				any = true;
			} else if (r != -EAGAIN) {
				check(0, "CPU %u: send to %u: %s", c->id, to, strerror(-r));
			}
		}
		if (!any)
			nap_us(20); /* both queues full: let the receivers run (2 cores) */
	}
	for (unsigned to = 0; to < F_CPUS; to++)
		atomic_store(&c->sent_final[to], seq[to]);
	return NULL;
}

static void *f_main(void *p)
{
	struct f_cpu *c = p;
	struct flood *f = c->f;
	struct ipcc_cpu_options o = pt_options(IPCC_WAIT_FUTEX, IPCC_CPU_IRQ_THREAD);
	int r = ipcc_cpu_attach(f->sys, c->id, &o, &c->cpu);
	check(r == 0, "attach %u: %s", c->id, strerror(-r));
	r = ipcc_notify_register(c->cpu, IPCC_NOTIFY_CLIENT_FIRST, f_on_value, c);
	check(r == 0, "register: %s", strerror(-r));
	atomic_fetch_add(&f->ready, 1);
	while (atomic_load(&f->ready) < F_CPUS)
		nap_us(100);
	check(pthread_create(&c->flooder, NULL, f_flooder, c) == 0, "thread");
	uint64_t rng = pt_mix(c->id + 5) | 1;
	for (unsigned i = 0; i < F_ROUNDS; i++) {
		nap_us((unsigned)(rnd(&rng) % 300)); /* the flood fills the queues meanwhile */
		atomic_fetch_add(&f->arrived[i], 1);
		r = ipcc_notify_sync_all(c->cpu, IPCC_TIMEOUT_INFINITE);
		check(r == 0, "CPU %u round %u: sync_all: %s", c->id, i, strerror(-r));
		uint32_t n = atomic_load(&f->arrived[i]);
		check(n == F_CPUS, "CPU %u round %u: sync_all returned with %u of %u arrived",
		      c->id, i, n, F_CPUS);
	}
	atomic_fetch_add(&f->rounds_done, 1);
	return NULL;
}

static void sync_rounds_beside_a_flood_and_irq_threads(void)
{
	static struct flood f;
	memset(&f, 0, sizeof(f));
	f.sys = ns_create_all(F_CPUS);
	check(ipcc_system_unlink(ipcc_system_name(f.sys)) == 0, "unlink");
	int64_t t0 = pt_now_ns();
	watchdog_arm(90, "sync rounds beside a flood");
	for (unsigned i = 0; i < F_CPUS; i++) {
		f.c[i].f = &f;
		f.c[i].id = i;
		check(pthread_create(&f.c[i].main, NULL, f_main, &f.c[i]) == 0, "thread");
	}
	for (unsigned i = 0; i < F_CPUS; i++)
		pthread_join(f.c[i].main, NULL);
	atomic_store(&f.stop, true);
	for (unsigned i = 0; i < F_CPUS; i++)
		pthread_join(f.c[i].flooder, NULL);
	/* Everything sent arrives: the interrupt threads drain it. */
	for (bool all = false; !all;) {
		all = true;
		for (unsigned to = 0; to < F_CPUS; to++)
			for (unsigned from = 0; from < F_CPUS; from++)
				if (from != to && atomic_load_explicit(&f.c[to].got[from],
								       memory_order_acquire) !=
							  atomic_load(&f.c[from].sent_final[to]))
					all = false;
		if (!all)
			nap_us(1000);
	}
	uint64_t values = 0, full = 0;
	for (unsigned from = 0; from < F_CPUS; from++)
		for (unsigned to = 0; to < F_CPUS; to++) {
			struct ipcc_notify_stats st;
			if (from != to && ipcc_notify_stats(f.sys, from, to, &st) == 0)
				full += st.full;
		}
	for (unsigned i = 0; i < F_CPUS; i++) {
		ipcc_cpu_detach(f.c[i].cpu);
		for (unsigned to = 0; to < F_CPUS; to++)
			values += atomic_load(&f.c[i].sent_final[to]);
	}
	watchdog_disarm();
	fprintf(stderr,
		"stress: %u sync rounds of %u CPUs beside %llu flooded values (%llu sends found "
		"the queue full) in %.2f s\n",
		F_ROUNDS, F_CPUS, (unsigned long long)values, (unsigned long long)full,
		(double)(pt_now_ns() - t0) / PT_SEC);
	for (unsigned i = 0; i < F_CPUS; i++)
		check(!f.c[i].error[0], "%s", f.c[i].error);
	ipcc_system_close(f.sys);
}

/* ---- main ------------------------------------------------------------------------------------ */

#define CASE(fn)        \
	{               \
#fn, fn \
	}
static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	CASE(four_cpus_one_handle_senders_receivers_and_a_toggled_client),
	CASE(four_cpus_own_handles_senders_receivers_and_a_toggled_client),
	CASE(callback_pingpong_drained_by_blocked_recv),
	CASE(callback_pingpong_drained_by_irq_threads),
	CASE(sync_rounds_beside_a_flood_and_irq_threads),
};

int main(int argc, char **argv)
{
	unsigned ran = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool wanted = argc < 2;
		for (int a = 1; a < argc; a++)
			wanted |= strstr(cases[i].name, argv[a]) != NULL;
		if (!wanted)
			continue;
		fprintf(stderr, "[RUN ] notify-stress::%s\n", cases[i].name);
		int64_t t0 = pt_now_ns();
		cases[i].fn();
		pt_cleanup();
		fprintf(stderr, "[PASS] notify-stress::%s (%.2f s)\n", cases[i].name,
			(double)(pt_now_ns() - t0) / PT_SEC);
		ran++;
	}
	fprintf(stderr, "notify-stress: %u passed\n", ran);
	return ran ? 0 : 1;
}
