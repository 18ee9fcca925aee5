/* SPDX-License-Identifier: MIT */
/*
 * Stress with the CPUs as threads of one process, so that ThreadSanitizer sees every access of
 * every side: a randomised stress in both directions over several channels and all three wait
 * modes, lost wake-up hunts (ping-pongs that sleep on every message, no timeout), and one case
 * per protocol that relies on a memory order, with plain data where the order must publish it
 * (flag publication in the zero-copy and callback forms, the doorbell's ring and take).
 *
 * Each CPU is attached and detached by its own thread, as the claim belongs to a thread.
 * Blocking calls without a timeout are guarded by a watchdog thread that aborts the process
 * (meson reports SIGABRT) when a run overstays: a lost wake-up hangs.
 *
 * The last two cases are regression tests for library bugs found while writing this file
 * (several threads of one CPU; an interrupt thread beside blocking calls): they fail until
 * the library is fixed, each as a meson test of its own.
 *
 * ThreadSanitizer: this file is meant to run clean in a -Db_sanitize=thread build:
 *   meson setup /tmp/build-tsan -Db_sanitize=thread -Dbench=disabled
 *   meson test -C /tmp/build-tsan --suite stress
 * That is why it is a plain program and not a Criterion one: Criterion 2.4 aborts at start
 * under TSan ("Could not initialize inheritable arena", Snaipe/Criterion#274: its BoxFort
 * arena wants an address range TSan's shadow memory holds). It runs its cases in order, or
 * those whose names contain one of its arguments, and exits non-zero on the first failure.
 * TSan knows nothing of futexes, but the library orders everything through C11 atomics, which
 * it does see.
 */
#define PT_NO_CRITERION
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>

#include "proc-test.h"

#include "irq/irq.h" /* the wait core and the doorbell's verbs */

#define BUFFER 256u

#define check(cond, ...) pt_assert(cond, __VA_ARGS__)

/*
 * All CPUs are threads of this process and share one handle: the name can go at once, so that
 * nothing is left behind by an abort (the watchdog, a sanitizer halting on a report).
 */
static struct ipcc_system *stress_system(unsigned cpus, unsigned channels, uint32_t buffer)
{
	struct ipcc_system *sys = pt_create(cpus, channels, buffer);
	check(ipcc_system_unlink(ipcc_system_name(sys)) == 0, "unlink");
	return sys;
}

/* ---- watchdog ------------------------------------------------------------------------------ */

struct watchdog {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	unsigned seconds;
	const char *what;
};

static void *watchdog_main(void *p)
{
	struct watchdog *w = p;
	struct timespec end;
	clock_gettime(CLOCK_REALTIME, &end);
	end.tv_sec += w->seconds;
	pthread_mutex_lock(&w->lock);
	while (!w->done)
		if (pthread_cond_timedwait(&w->cond, &w->lock, &end) == ETIMEDOUT && !w->done) {
			fprintf(stderr, "watchdog: %s still running after %u s: lost wake-up?\n",
				w->what, w->seconds);
			abort();
		}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void watchdog_start(struct watchdog *w, unsigned seconds, const char *what)
{
	*w = (struct watchdog){ .seconds = seconds, .what = what };
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	check(pthread_create(&w->thread, NULL, watchdog_main, w) == 0, "watchdog thread");
}

static void watchdog_stop(struct watchdog *w)
{
	pthread_mutex_lock(&w->lock);
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * ---- randomised stress ------------------------------------------------------------------------
 *
 * Three CPUs in a full mesh, four channels per link: channels 0 and 1 simplex (both
 * directions), channel 2 half-duplex with the lower CPU id calling, channel 3 with the higher
 * one calling. Every thread picks at random what to do next (send, receive, call, serve,
 * change its wait mode) with a random timeout, so that each wait path meets each other one.
 * Sends are counted when they succeed and received in order; a call that fails may or may not
 * have gone out, so requests carry a number that only has to grow at the server and each
 * response must carry the number of the call it ends: a stale response is never returned.
 */

#define R_CPUS	   3u
#define R_MSGS	   5000u /* per simplex stream */
#define R_CALLS	   1000u /* successful calls per client link */
#define K_SIMPLEX  1u
#define K_REQUEST  2u
#define K_RESPONSE 3u
#define STREAM(kind, from, to, ch) \
	(((uint32_t)(kind) << 24) | ((uint32_t)(from) << 16) | ((uint32_t)(to) << 8) | (ch))

struct rshared {
	struct ipcc_system *sys;
	_Atomic unsigned attached, finished;
	_Atomic unsigned errors;
};

struct rcpu {
	struct rshared *sh;
	unsigned id;
	uint64_t rng;
	uint64_t tx[R_CPUS][2];
	struct pt_tally rx[R_CPUS][2];
	uint64_t call_seq[R_CPUS], calls_ok[R_CPUS];
	int64_t last_req[R_CPUS];
	uint64_t served, timeouts, stale_refused;
	char error[256];
};

static void rfail(struct rcpu *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rfail(struct rcpu *c, const char *fmt, ...)
{
	va_list ap;
	if (c->error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	atomic_fetch_add(&c->sh->errors, 1);
}

/* A request or response: at least 8 bytes, so that it carries its number. */
static size_t hd_len(uint32_t stream, uint64_t seq)
{
	return 8 + pt_msg_len(stream, seq, BUFFER - 8);
}

/* The number of a well-formed message of `stream`, or -1. */
static int64_t hd_check(const uint8_t *m, size_t n, uint32_t stream)
{
	uint8_t want[BUFFER];
	uint32_t seq;
	if (n < 8)
		return -1;
	memcpy(&seq, m, 4);
	if (n != hd_len(stream, seq))
		return -1;
	pt_msg_fill(want, stream, seq, n);
	return memcmp(want, m, n) ? -1 : (int64_t)seq;
}

static int64_t rtimeout(struct rcpu *c)
{
	/* Mostly short: a wait on a random channel often has nothing coming. */
	static const int64_t t[] = { 0, 0, 0, 5000, 5000, 20000, 50000, 500000 };
	return t[rnd(&c->rng) % 8];
}

static unsigned rpeer(struct rcpu *c)
{
	return (c->id + 1 + (unsigned)(rnd(&c->rng) % (R_CPUS - 1))) % R_CPUS;
}

static unsigned client_ch(unsigned me, unsigned peer)
{
	return me < peer ? 2 : 3;
}

static bool quotas_done(const struct rcpu *c)
{
	for (unsigned p = 0; p < R_CPUS; p++) {
		if (p == c->id)
			continue;
		for (unsigned ch = 0; ch < 2; ch++)
			if (c->tx[p][ch] < R_MSGS || c->rx[p][ch].expect < R_MSGS)
				return false;
		if (c->calls_ok[p] < R_CALLS)
			return false;
	}
	return true;
}

static void r_send(struct rcpu *c, struct ipcc_cpu *cpu)
{
	unsigned p = rpeer(c), ch = (unsigned)(rnd(&c->rng) & 1);
	/* Half of the sends go to a free channel with something left to send. */
	for (unsigned i = 0; (rnd(&c->rng) & 1) && i < 2 * R_CPUS; i++) {
		unsigned q = i / 2 % R_CPUS, qch = i & 1;
		if (q != c->id && c->tx[q][qch] < R_MSGS &&
		    ipcc_chan_status(cpu, q, qch, IPCC_DIR_TX) == 0) {
			p = q;
			ch = qch;
			break;
		}
	}
	if (c->tx[p][ch] >= R_MSGS)
		return;
	uint8_t buf[BUFFER];
	uint32_t s = STREAM(K_SIMPLEX, c->id, p, ch);
	size_t len = pt_msg_len(s, c->tx[p][ch], BUFFER);
	pt_msg_fill(buf, s, c->tx[p][ch], len);
	int r = ipcc_send(cpu, p, ch, buf, len, rtimeout(c));
	if (r == 0)
		c->tx[p][ch]++;
	else if (r == -ETIMEDOUT || r == -EAGAIN)
		c->timeouts++;
	else
		rfail(c, "CPU %u: send to %u: %s", c->id, p, strerror(-r));
}

/*
 * Half of the receives and serves go where something waits (a flag set), so that the run makes
 * progress; the other half wait on a random channel, so that waits meet sends.
 */
static bool pick_waiting(struct rcpu *c, struct ipcc_cpu *cpu, bool call, unsigned *ret_p,
			 unsigned *ret_ch)
{
	if (rnd(&c->rng) & 1)
		return false;
	for (unsigned p = 0; p < R_CPUS; p++) {
		if (p == c->id)
			continue;
		for (unsigned ch = 0; ch < 2; ch++) {
			unsigned cch = call ? client_ch(p, c->id) : ch;
			if ((call || c->rx[p][ch].expect < R_MSGS) &&
			    ipcc_chan_status(cpu, p, cch, IPCC_DIR_RX) == 1) {
				*ret_p = p;
				*ret_ch = cch;
				return true;
			}
		}
	}
	return false;
}

static void r_recv(struct rcpu *c, struct ipcc_cpu *cpu)
{
	unsigned p = rpeer(c), ch = (unsigned)(rnd(&c->rng) & 1);
	pick_waiting(c, cpu, false, &p, &ch);
	struct pt_tally *t = &c->rx[p][ch];
	if (t->expect >= R_MSGS)
		return;
	uint8_t buf[BUFFER];
	int r = ipcc_recv(cpu, p, ch, buf, sizeof(buf), rtimeout(c));
	if (r >= 0) {
		if (!pt_msg_take(t, buf, (size_t)r, STREAM(K_SIMPLEX, p, c->id, ch), BUFFER))
			rfail(c, "CPU %u from %u ch %u: " PT_TALLY_FMT, c->id, p, ch,
			      PT_TALLY_ARGS(t));
	} else if (r == -ETIMEDOUT || r == -EAGAIN) {
		c->timeouts++;
	} else {
		rfail(c, "CPU %u: recv from %u: %s", c->id, p, strerror(-r));
	}
}

static void r_call(struct rcpu *c, struct ipcc_cpu *cpu)
{
	unsigned p = rpeer(c), ch = client_ch(c->id, p);
	if (c->calls_ok[p] >= R_CALLS)
		return;
	uint8_t req[BUFFER], resp[BUFFER];
	uint64_t seq = c->call_seq[p]++;
	uint32_t s = STREAM(K_REQUEST, c->id, p, ch);
	size_t len = hd_len(s, seq);
	pt_msg_fill(req, s, seq, len);
	int r = ipcc_call(cpu, p, ch, req, len, resp, sizeof(resp), rtimeout(c));
	if (r >= 0) {
		int64_t got = hd_check(resp, (size_t)r, STREAM(K_RESPONSE, p, c->id, ch));
		if (got != (int64_t)seq)
			rfail(c, "CPU %u: call %llu to %u answered by %lld", c->id,
			      (unsigned long long)seq, p, (long long)got);
		c->calls_ok[p]++;
	} else if (r == -ETIMEDOUT || r == -EAGAIN) {
		c->timeouts++;
	} else if (r == -EBUSY) {
		c->stale_refused++;
	} else {
		rfail(c, "CPU %u: call to %u: %s", c->id, p, strerror(-r));
	}
}

static void r_serve(struct rcpu *c, struct ipcc_cpu *cpu)
{
	unsigned p = rpeer(c), ch = client_ch(p, c->id);
	pick_waiting(c, cpu, true, &p, &ch);
	uint8_t buf[BUFFER];
	int r = ipcc_serve(cpu, p, ch, buf, sizeof(buf), rtimeout(c));
	if (r == -ETIMEDOUT || r == -EAGAIN) {
		c->timeouts++;
		return;
	}
	if (r == -EPIPE && atomic_load(&c->sh->finished) == R_CPUS)
		return; /* the peer is done and gone */
	if (r < 0) {
		rfail(c, "CPU %u: serve %u: %s", c->id, p, strerror(-r));
		return;
	}
	int64_t seq = hd_check(buf, (size_t)r, STREAM(K_REQUEST, p, c->id, ch));
	if (seq < 0 || seq <= c->last_req[p]) {
		rfail(c, "CPU %u: request %lld from %u after %lld", c->id, (long long)seq, p,
		      (long long)c->last_req[p]);
		return;
	}
	c->last_req[p] = seq;
	uint32_t s = STREAM(K_RESPONSE, c->id, p, ch);
	size_t len = hd_len(s, (uint64_t)seq);
	pt_msg_fill(buf, s, (uint64_t)seq, len);
	if ((rnd(&c->rng) & 15) == 0)
		sched_yield(); /* now and then, answer late */
	r = ipcc_reply(cpu, p, ch, buf, len);
	if (r < 0) {
		rfail(c, "CPU %u: reply to %u: %s", c->id, p, strerror(-r));
		return;
	}
	c->served++;
}

static void *r_thread(void *p)
{
	struct rcpu *c = p;
	struct ipcc_cpu *cpu = NULL;
	struct ipcc_cpu_options o = pt_options((enum ipcc_wait_mode)(c->id % 3), 0);
	int r = ipcc_cpu_attach(c->sh->sys, c->id, &o, &cpu);
	if (r < 0) {
		rfail(c, "attach %u: %s", c->id, strerror(-r));
		atomic_fetch_add(&c->sh->attached, 1);
		atomic_fetch_add(&c->sh->finished, 1);
		return NULL;
	}
	for (unsigned i = 0; i < R_CPUS; i++)
		c->last_req[i] = -1;
	/* Start together: a CPU's attach resets its banks. */
	atomic_fetch_add(&c->sh->attached, 1);
	while (atomic_load(&c->sh->attached) < R_CPUS)
		sched_yield();

	bool finished = false;
	while (!c->error[0]) {
		if (!finished && quotas_done(c)) {
			finished = true;
			atomic_fetch_add(&c->sh->finished, 1);
		}
		if (finished) {
			/* Keep answering until every CPU is done: their calls need us. */
			if (atomic_load(&c->sh->finished) == R_CPUS || atomic_load(&c->sh->errors))
				break;
			r_serve(c, cpu);
			continue;
		}
		unsigned what = (unsigned)(rnd(&c->rng) % 100);
		if (what < 30)
			r_send(c, cpu);
		else if (what < 60)
			r_recv(c, cpu);
		else if (what < 75)
			r_call(c, cpu);
		else if (what < 98)
			r_serve(c, cpu);
		else
			ipcc_cpu_set_wait_mode(cpu, (enum ipcc_wait_mode)(rnd(&c->rng) % 3),
					       (uint32_t)(rnd(&c->rng) % 50000));
		if (atomic_load(&c->sh->errors))
			break;
	}
	if (!finished)
		atomic_fetch_add(&c->sh->finished, 1);
	ipcc_cpu_detach(cpu);
	return NULL;
}

static void random_both_directions_all_modes(void)
{
	struct rshared sh = { .sys = stress_system(R_CPUS, 4, BUFFER) };
	struct rcpu c[R_CPUS];
	pthread_t th[R_CPUS];
	struct watchdog w;
	int64_t t0 = pt_now_ns();

	watchdog_start(&w, 240, "the randomised stress");
	for (unsigned i = 0; i < R_CPUS; i++) {
		c[i] = (struct rcpu){ .sh = &sh, .id = i, .rng = pt_mix(i + 1) | 1 };
		check(pthread_create(&th[i], NULL, r_thread, &c[i]) == 0, "thread");
	}
	for (unsigned i = 0; i < R_CPUS; i++)
		pthread_join(th[i], NULL);
	watchdog_stop(&w);
	for (unsigned i = 0; i < R_CPUS; i++) {
		fprintf(stderr,
			"stress: CPU %u served %llu, %llu waits timed out, %llu calls refused "
			"(-EBUSY)\n",
			i, (unsigned long long)c[i].served, (unsigned long long)c[i].timeouts,
			(unsigned long long)c[i].stale_refused);
		if (c[i].error[0])
			fprintf(stderr, "stress: %s\n", c[i].error);
	}
	check(atomic_load(&sh.errors) == 0, "%u CPUs failed", atomic_load(&sh.errors));
	for (unsigned i = 0; i < R_CPUS; i++)
		for (unsigned p = 0; p < R_CPUS; p++) {
			if (p == i)
				continue;
			check(c[i].calls_ok[p] == R_CALLS, "calls %u to %u", i, p);
			for (unsigned ch = 0; ch < 2; ch++) {
				check(c[i].tx[p][ch] == R_MSGS, "sent %u to %u", i, p);
				check(c[i].rx[p][ch].expect == R_MSGS &&
					      pt_tally_ok(&c[i].rx[p][ch]),
				      "%u from %u: " PT_TALLY_FMT, i, p,
				      PT_TALLY_ARGS(&c[i].rx[p][ch]));
			}
		}
	fprintf(stderr, "stress: random, %u CPUs, done in %.2f s\n", R_CPUS,
		(double)(pt_now_ns() - t0) / PT_SEC);
	ipcc_system_close(sh.sys);
}

/*
 * ---- lost wake-ups ------------------------------------------------------------------------------
 *
 * A ping-pong makes every message arrive just as its receiver goes to sleep: the receiver has
 * only just sent its own message. With IPCC_TIMEOUT_INFINITE a wake-up lost between "check"
 * and "sleep" hangs for good; the watchdog turns that into a failure.
 */

enum pp_kind { PP_SIMPLEX, PP_CALL };

struct pingpong {
	struct ipcc_system *sys;
	enum ipcc_wait_mode mode;
	uint32_t spin_ns;
	uint32_t jitter_ns; /* each side pauses up to this long before it answers */
	enum pp_kind kind;
	uint64_t rounds;
	_Atomic unsigned attached;
	char error[2][200];
};

struct pp_side {
	struct pingpong *pp;
	unsigned id;
};

static void *pp_thread(void *p)
{
	struct pp_side *s = p;
	struct pingpong *pp = s->pp;
	struct ipcc_cpu *cpu = NULL;
	struct ipcc_cpu_options o = pt_options(pp->mode, 0);
	char *err = pp->error[s->id];
	unsigned peer = !s->id;
	uint64_t v = 0;
	int r;

	o.spin_ns = pp->spin_ns;
	r = ipcc_cpu_attach(pp->sys, s->id, &o, &cpu);
	atomic_fetch_add(&pp->attached, 1);
	if (r < 0) {
		snprintf(err, 200, "attach: %s", strerror(-r));
		return NULL;
	}
	while (atomic_load(&pp->attached) < 2)
		sched_yield();

	uint64_t rng = pt_mix(s->id + 7) | 1;
	for (uint64_t i = 0; i < pp->rounds; i++) {
		uint64_t got = ~0ull;
		if (pp->jitter_ns) {
			/* Busy, not asleep: the peer's spin budget runs out at any point of it. */
			int64_t end = pt_now_ns() + (int64_t)(rnd(&rng) % pp->jitter_ns);
			while (pt_now_ns() < end)
				;
		}
		if (pp->kind == PP_SIMPLEX) {
			/* CPU 0 pings on channel 0, CPU 1 pongs on channel 1. */
			if (s->id == 0) {
				r = ipcc_send(cpu, peer, 0, &i, sizeof(i), IPCC_TIMEOUT_INFINITE);
				if (r == 0)
					r = ipcc_recv(cpu, peer, 1, &got, sizeof(got),
						      IPCC_TIMEOUT_INFINITE);
			} else {
				r = ipcc_recv(cpu, peer, 0, &got, sizeof(got),
					      IPCC_TIMEOUT_INFINITE);
				if (r >= 0)
					r = ipcc_send(cpu, peer, 1, &got, sizeof(got),
						      IPCC_TIMEOUT_INFINITE);
			}
		} else if (s->id == 0) {
			v = i * 3;
			r = ipcc_call(cpu, peer, 2, &v, sizeof(v), &got, sizeof(got),
				      IPCC_TIMEOUT_INFINITE);
			if (r >= 0 && got != v + 1)
				r = -EBADMSG;
		} else {
			r = ipcc_serve(cpu, peer, 2, &got, sizeof(got), IPCC_TIMEOUT_INFINITE);
			if (r >= 0) {
				got++;
				r = ipcc_reply(cpu, peer, 2, &got, sizeof(got));
			}
			got = i;
		}
		if (r >= 0 && pp->kind == PP_SIMPLEX && got != i)
			r = -EBADMSG;
		if (r < 0) {
			snprintf(err, 200, "CPU %u, round %llu: %s", s->id, (unsigned long long)i,
				 strerror(-r));
			break;
		}
	}
	ipcc_cpu_detach(cpu);
	return NULL;
}

static void pingpong(enum ipcc_wait_mode mode, uint32_t spin_ns, uint32_t jitter_ns,
		     enum pp_kind kind, uint64_t rounds)
{
	struct pingpong pp = { .sys = stress_system(2, 4, 64),
			       .mode = mode,
			       .spin_ns = spin_ns,
			       .jitter_ns = jitter_ns,
			       .kind = kind,
			       .rounds = rounds };
	struct pp_side side[2] = { { &pp, 0 }, { &pp, 1 } };
	pthread_t th[2];
	struct watchdog w;
	int64_t t0 = pt_now_ns();

	watchdog_start(&w, 60, kind == PP_SIMPLEX ? "the simplex ping-pong" : "the call ping-pong");
	for (int i = 0; i < 2; i++)
		check(pthread_create(&th[i], NULL, pp_thread, &side[i]) == 0, "thread");
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	watchdog_stop(&w);
	double s = (double)(pt_now_ns() - t0) / PT_SEC;
	fprintf(stderr,
		"stress: %s ping-pong, %s (spin %u ns, jitter %u ns), %llu rounds in %.2f s "
		"(%.1f us)\n",
		kind == PP_SIMPLEX ? "simplex" : "call", pt_mode_name(mode), spin_ns, jitter_ns,
		(unsigned long long)rounds, s, s * 1e6 / (double)rounds);
	check(!pp.error[0][0], "%s", pp.error[0]);
	check(!pp.error[1][0], "%s", pp.error[1]);
	ipcc_system_close(pp.sys);
}

static void lost_wakeup_simplex_pingpong_futex(void)
{
	pingpong(IPCC_WAIT_FUTEX, 0, 0, PP_SIMPLEX, 200000);
}

static void lost_wakeup_call_pingpong_futex(void)
{
	pingpong(IPCC_WAIT_FUTEX, 0, 0, PP_CALL, 100000);
}

/*
 * Adaptive with a short spin and answers that come anywhere from at once to well after the
 * spin budget: the ring meets the waiter spinning, going to sleep, or asleep.
 */
static void lost_wakeup_simplex_pingpong_adaptive_short_spin(void)
{
	pingpong(IPCC_WAIT_ADAPTIVE, 2000, 8000, PP_SIMPLEX, 100000);
}

/*
 * ---- several threads of one CPU ------------------------------------------------------------------
 *
 * proc.h only asks that "calls for one channel come from one thread at a time": threads of one
 * CPU may each own a channel. Their first calls on a fresh CPU handle once raced to create the
 * procedures' per-CPU state, which lib/proc/proc.c made lazily: a loser's table was dropped
 * with the claim it recorded, so its commit failed with -EALREADY, and TSan reported the race.
 * The state is now made at attach (proc_attach); the test keeps first calls racing, each round
 * on a fresh handle, so that a return to lazy state is caught.
 */

#define T_THREADS 2u /* one per core: they leave the start line together */
#define T_ROUNDS  2000u

struct first_use {
	struct ipcc_cpu *cpu;
	_Atomic unsigned *start;
	unsigned ch;
	int result;
};

static void *first_use_thread(void *p)
{
	struct first_use *f = p;
	void *buf;
	size_t cap;

	/* A spinning start line: a futex barrier wakes its waiters one after the other. */
	atomic_fetch_add(f->start, 1);
	while (atomic_load(f->start) < T_THREADS)
		;
	f->result = ipcc_send_claim(f->cpu, 1, f->ch, 0, &buf, &cap);
	if (f->result == 0) {
		memcpy(buf, &f->ch, sizeof(f->ch));
		f->result = ipcc_send_commit(f->cpu, 1, f->ch, sizeof(f->ch));
	}
	return NULL;
}

static void threads_of_one_cpu_first_use(void)
{
	struct ipcc_system *sys = stress_system(2, T_THREADS, 64);
	unsigned failures = 0;

	for (unsigned round = 0; round < T_ROUNDS; round++) {
		struct ipcc_cpu *c0 = pt_attach(sys, 0, IPCC_WAIT_SPIN, 0);
		struct ipcc_cpu *c1 = pt_attach(sys, 1, IPCC_WAIT_SPIN, 0);
		struct first_use f[T_THREADS];
		pthread_t th[T_THREADS];
		_Atomic unsigned start = 0;

		for (unsigned i = 0; i < T_THREADS; i++) {
			f[i] = (struct first_use){ .cpu = c0, .start = &start, .ch = i };
			check(pthread_create(&th[i], NULL, first_use_thread, &f[i]) == 0, "thread");
		}
		for (unsigned i = 0; i < T_THREADS; i++)
			pthread_join(th[i], NULL);
		for (unsigned i = 0; i < T_THREADS; i++) {
			unsigned got = ~0u;
			if (f[i].result < 0) {
				if (!failures)
					fprintf(stderr, "stress: round %u, channel %u: %s\n", round,
						i, strerror(-f[i].result));
				failures++;
				/* Unstick the channel for the next round. */
				ipcc_chan_set(c0, 1, i);
			}
			check(ipcc_recv(c1, 0, i, &got, sizeof(got), PT_SEC) >= 0, "recv %u", i);
		}
		ipcc_cpu_detach(c1);
		ipcc_cpu_detach(c0);
	}
	ipcc_system_close(sys);
	check(!failures, "%u of %u first sends by threads of one CPU failed", failures,
	      T_ROUNDS * T_THREADS);
}

/*
 * ---- an interrupt thread beside blocking calls ------------------------------------------------
 *
 * CPU 1 runs ipcc_recv_async on channel 0 (its interrupt thread dispatches it) and blocking
 * ipcc_recv on channel 1 in its main thread, a mix proc.h allows (the rule is per channel).
 * The dispatcher masks every asserted channel, handler or not, from one snapshot of the line
 * (lib/irq/dispatch.c:dispatch_link): when the snapshot holds both channels it runs channel
 * 0's handler first, and meanwhile the main thread may finish its receive on channel 1 and go
 * back to waiting with the channel unmasked. The dispatcher's late mask of channel 1 then
 * hides the next message: no line, no ring, and the main thread sleeps for good (futex mode,
 * no timeout). The handler takes a few microseconds, as real ones do, which widens the window.
 */

#define M_ROUNDS 200000u

struct mixed {
	struct ipcc_system *sys;
	_Atomic unsigned attached;
	_Atomic uint64_t async_got;
	char error[2][200];
};

static void mixed_on_msg(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data,
			 size_t len, void *arg)
{
	struct mixed *m = arg;
	int64_t end = pt_now_ns() + 3000;
	while (pt_now_ns() < end)
		;
	atomic_fetch_add(&m->async_got, 1);
}

static void *mixed_sender(void *p)
{
	struct mixed *m = p;
	struct ipcc_cpu *cpu = NULL;
	struct ipcc_cpu_options o = pt_options(IPCC_WAIT_FUTEX, 0);
	int r = ipcc_cpu_attach(m->sys, 0, &o, &cpu);
	atomic_fetch_add(&m->attached, 1);
	if (r < 0) {
		snprintf(m->error[0], 200, "attach: %s", strerror(-r));
		return NULL;
	}
	while (atomic_load(&m->attached) < 2)
		sched_yield();
	for (uint64_t i = 0; i < M_ROUNDS && !r; i++) {
		/*
		 * Now and then a message on both channels at once, then only channel 1: a message
		 * on channel 0 after the dispatcher's late mask would ring CPU 1 and wake the main
		 * thread by chance.
		 */
		if (i % 4 == 0)
			r = ipcc_send(cpu, 1, 0, &i, sizeof(i), 10 * PT_SEC);
		if (!r)
			r = ipcc_send(cpu, 1, 1, &i, sizeof(i), 10 * PT_SEC);
		if (r)
			snprintf(m->error[0], 200, "send %llu: %s", (unsigned long long)i,
				 strerror(-r));
	}
	ipcc_cpu_detach(cpu);
	return NULL;
}

static void *mixed_receiver(void *p)
{
	struct mixed *m = p;
	struct ipcc_cpu *cpu = NULL;
	struct ipcc_cpu_options o = pt_options(IPCC_WAIT_FUTEX, IPCC_CPU_IRQ_THREAD);
	int r = ipcc_cpu_attach(m->sys, 1, &o, &cpu);
	if (r == 0)
		r = ipcc_recv_async(cpu, 0, 0, mixed_on_msg, m);
	atomic_fetch_add(&m->attached, 1);
	if (r < 0) {
		snprintf(m->error[1], 200, "attach: %s", strerror(-r));
		ipcc_cpu_detach(cpu);
		return NULL;
	}
	for (uint64_t i = 0; i < M_ROUNDS; i++) {
		uint64_t got = ~0ull;
		/*
		 * Bounded: a wait whose wake-up was lost still finds the message when its
		 * deadline makes it look again, so a lost wake-up shows as a receive that took
		 * the whole timeout although the sender never pauses.
		 */
		int64_t t0 = pt_now_ns();
		r = ipcc_recv(cpu, 0, 1, &got, sizeof(got), 2 * PT_SEC);
		int64_t dt = pt_now_ns() - t0;
		if (dt >= PT_SEC) {
			snprintf(m->error[1], 200,
				 "recv %llu: lost wake-up: the receive returned %d after %.3f s, "
				 "found by the timeout's last look",
				 (unsigned long long)i, r, (double)dt / PT_SEC);
			break;
		}
		if (r < 0 || got != i) {
			snprintf(m->error[1], 200, "recv %llu: %d %s", (unsigned long long)i, r,
				 r < 0 ? strerror(-r) : "wrong message");
			break;
		}
	}
	ipcc_cpu_detach(cpu);
	return NULL;
}

static void irq_thread_beside_blocking_recv(void)
{
	struct mixed m = { .sys = stress_system(2, 2, 64) };
	pthread_t th[2];
	struct watchdog w;
	int64_t t0 = pt_now_ns();

	watchdog_start(&w, 60, "blocking ipcc_recv beside an interrupt thread");
	check(pthread_create(&th[0], NULL, mixed_sender, &m) == 0, "thread");
	check(pthread_create(&th[1], NULL, mixed_receiver, &m) == 0, "thread");
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	watchdog_stop(&w);
	fprintf(stderr, "stress: blocking beside %llu async receives, %.2f s\n",
		(unsigned long long)atomic_load(&m.async_got), (double)(pt_now_ns() - t0) / PT_SEC);
	check(!m.error[1][0], "%s", m.error[1]);
	check(!m.error[0][0], "%s", m.error[0]);
	ipcc_system_close(m.sys);
}

/*
 * ---- the doorbell's wake without a register change ---------------------------------------------
 *
 * Two CPUs pass a turn counter back and forth: each waits (futex mode, no timeout) until the
 * turn is its own, advances it and wakes the other with ipcc_bell_wake, the verb a barrier or
 * a log reader uses. Every wake comes just as the other side goes to sleep: a wake-up lost
 * between announce and sleep hangs, and the watchdog aborts.
 */

#define W_ROUNDS 20000u

struct wake_pp {
	struct ipcc_system *sys;
	_Atomic uint64_t turn;
	_Atomic unsigned attached;
	char error[2][200];
};

struct wake_side {
	struct wake_pp *pp;
	unsigned id;
};

static bool my_turn(struct ipcc_cpu *cpu, void *arg)
{
	struct wake_side *s = arg;
	/* seq_cst: the predicate of a wake without a register change (lib/bell/bell.h). */
	return atomic_load_explicit(&s->pp->turn, memory_order_seq_cst) % 2 == s->id;
}

static void *wake_thread(void *p)
{
	struct wake_side *s = p;
	struct ipcc_cpu *cpu = NULL;
	struct ipcc_cpu_options o = pt_options(IPCC_WAIT_FUTEX, 0);
	int r = ipcc_cpu_attach(s->pp->sys, s->id, &o, &cpu);
	atomic_fetch_add(&s->pp->attached, 1);
	if (r < 0) {
		snprintf(s->pp->error[s->id], 200, "attach: %s", strerror(-r));
		return NULL;
	}
	while (atomic_load(&s->pp->attached) < 2)
		sched_yield();
	for (unsigned i = 0; i < W_ROUNDS; i++) {
		r = ipcc_wait_core(cpu, my_turn, s, NULL, IPCC_TIMEOUT_INFINITE, 0);
		if (r < 0) {
			snprintf(s->pp->error[s->id], 200, "wait %u: %s", i, strerror(-r));
			break;
		}
		atomic_fetch_add_explicit(&s->pp->turn, 1, memory_order_seq_cst);
		ipcc_bell_wake(s->pp->sys, !s->id);
	}
	ipcc_cpu_detach(cpu);
	return NULL;
}

static void lost_wakeup_bell_wake_pingpong(void)
{
	struct wake_pp pp = { .sys = stress_system(2, 2, 64) };
	struct wake_side side[2] = { { &pp, 0 }, { &pp, 1 } };
	pthread_t th[2];
	struct watchdog w;

	watchdog_start(&w, 120, "the ipcc_bell_wake ping-pong");
	for (unsigned i = 0; i < 2; i++)
		check(pthread_create(&th[i], NULL, wake_thread, &side[i]) == 0, "thread");
	for (unsigned i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	watchdog_stop(&w);
	check(!pp.error[0][0], "%s", pp.error[0]);
	check(!pp.error[1][0], "%s", pp.error[1]);
	check(atomic_load(&pp.turn) == 2ull * W_ROUNDS, "turns: %llu",
	      (unsigned long long)atomic_load(&pp.turn));
	ipcc_system_close(pp.sys);
}

/*
 * ---- ipcc_cpu_set_wait_mode beside waits and dispatch ------------------------------------------
 *
 * CPU 1 has an interrupt thread that dispatches an async receive; two threads switch its mode at
 * random (every mode, eventfd included) and a third polls its fd, while CPU 0 sends. The
 * contract of include/ipcc/irq.h: no race between the switches and the waits, dispatches and
 * fd users (ThreadSanitizer), no message lost (the count), no wake-up lost (the watchdog).
 */

#define S_MSGS 5000u

struct switching {
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu; /* CPU 1, set before the helpers start */
	_Atomic bool stop;
	_Atomic uint64_t got;
	_Atomic unsigned ready;
	char error[200];
};

static void switching_on_msg(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data,
			     size_t len, void *arg)
{
	struct switching *s = arg;
	atomic_fetch_add(&s->got, 1);
}

static void *switching_sender(void *p)
{
	struct switching *s = p;
	struct ipcc_cpu *cpu = NULL;
	struct ipcc_cpu_options o = pt_options(IPCC_WAIT_FUTEX, 0);
	int r = ipcc_cpu_attach(s->sys, 0, &o, &cpu);
	if (r < 0) {
		snprintf(s->error, 200, "attach: %s", strerror(-r));
		return NULL;
	}
	while (atomic_load(&s->ready) < 1)
		sched_yield();
	for (uint64_t i = 0; i < S_MSGS && !r; i++)
		r = ipcc_send(cpu, 1, 0, &i, sizeof(i), IPCC_TIMEOUT_INFINITE);
	if (r)
		snprintf(s->error, 200, "send: %s", strerror(-r));
	ipcc_cpu_detach(cpu);
	return NULL;
}

static void *switching_switcher(void *p)
{
	struct switching *s = p;
	uint64_t x = (uint64_t)(uintptr_t)&x | 1;
	while (!atomic_load(&s->stop)) {
		int r = ipcc_cpu_set_wait_mode(s->cpu, (enum ipcc_wait_mode)(rnd(&x) % 4),
					       (uint32_t)(rnd(&x) % 20000));
		if (r < 0) {
			snprintf(s->error, 200, "set_wait_mode: %s", strerror(-r));
			return NULL;
		}
		sched_yield();
	}
	return NULL;
}

static void *switching_poller(void *p)
{
	struct switching *s = p;
	while (!atomic_load(&s->stop)) {
		int fd = ipcc_cpu_fd(s->cpu);
		if (fd >= 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			(void)poll(&pfd, 1, 1);
		} else if (fd != -ENODEV) {
			snprintf(s->error, 200, "ipcc_cpu_fd: %s", strerror(-fd));
			return NULL;
		} else {
			sched_yield();
		}
	}
	return NULL;
}

static void set_wait_mode_beside_dispatch_and_fd(void)
{
	struct switching s = { .sys = stress_system(2, 2, 64) };
	struct ipcc_cpu_options o = pt_options(IPCC_WAIT_EVENTFD, IPCC_CPU_IRQ_THREAD);
	pthread_t sender, helper[3];
	struct watchdog w;

	/* CPU 1 belongs to this thread, which attaches and detaches it. */
	check(ipcc_cpu_attach(s.sys, 1, &o, &s.cpu) == 0, "attach");
	check(ipcc_recv_async(s.cpu, 0, 0, switching_on_msg, &s) == 0, "recv_async");
	watchdog_start(&w, 180, "mode switches beside the interrupt thread");
	check(pthread_create(&sender, NULL, switching_sender, &s) == 0, "thread");
	check(pthread_create(&helper[0], NULL, switching_switcher, &s) == 0, "thread");
	check(pthread_create(&helper[1], NULL, switching_switcher, &s) == 0, "thread");
	check(pthread_create(&helper[2], NULL, switching_poller, &s) == 0, "thread");
	atomic_store(&s.ready, 1);
	pthread_join(sender, NULL);
	while (!s.error[0] && atomic_load(&s.got) < S_MSGS)
		sched_yield(); /* the last message may still be in its handler */
	atomic_store(&s.stop, true);
	for (unsigned i = 0; i < 3; i++)
		pthread_join(helper[i], NULL);
	watchdog_stop(&w);
	check(!s.error[0], "%s", s.error);
	check(atomic_load(&s.got) == S_MSGS, "received %llu of %u",
	      (unsigned long long)atomic_load(&s.got), S_MSGS);
	ipcc_cpu_detach(s.cpu);
	ipcc_system_close(s.sys);
}

/*
 * ---- orders, one protocol at a time ---------------------------------------------------------------
 *
 * ThreadSanitizer reports a race on plain memory that two threads touch without a
 * happens-before edge between them; it cannot see a reordering of atomics as such. So each
 * protocol that relies on an order is run here with plain data on the side that the order
 * must publish: a weakened order then leaves the plain accesses unordered and TSan reports.
 *
 * Flag publication in the forms where the application itself touches the slot: zero-copy
 * claims both ways (the sender fills the claimed buffer, the receiver reads it in place) and a
 * callback server that reads the request and writes the response in place. The random stress
 * above covers the copying forms (ipcc_send/recv/call/serve). The receiver's acquire read of
 * the flag (lib/ipcc/chan.h:ipcc_chan_flag) pairs with the sender's CHnS
 * (lib/ipcc/regs.c:ipcc_link_write_scr); the sender's acquire read of the cleared flag before
 * it fills the buffer again pairs with the receiver's CHnC.
 */

#define F_ROUNDS 3000u

struct flagpub {
	struct ipcc_system *sys;
	_Atomic unsigned attached;
	char error[2][200];
};

struct flag_side {
	struct flagpub *fp;
	unsigned id;
};

static uint8_t flag_byte(unsigned from, unsigned round, size_t i)
{
	return (uint8_t)(from * 101u + round * 7u + i);
}

static int flag_serve(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *buf, size_t len,
		      size_t cap, void *arg)
{
	uint8_t *b = buf;
	(void)cpu, (void)peer, (void)ch, (void)arg;
	/* The request in place: a plain read of every byte, then the response over it. */
	for (size_t i = 0; i < len; i++)
		b[i] ^= 0xFF;
	return (int)(len < cap ? len : cap);
}

static void *flag_thread(void *p)
{
	struct flag_side *s = p;
	struct flagpub *fp = s->fp;
	char *err = fp->error[s->id];
	struct ipcc_cpu *cpu = NULL;
	/* CPU 1 serves ch 2 from its interrupt thread; both run the claims in their own thread. */
	struct ipcc_cpu_options o = pt_options(s->id ? IPCC_WAIT_FUTEX : IPCC_WAIT_ADAPTIVE,
					       s->id ? IPCC_CPU_IRQ_THREAD : 0);
	int r = ipcc_cpu_attach(fp->sys, s->id, &o, &cpu);
	if (r == 0 && s->id)
		r = ipcc_serve_async(cpu, 0, 2, flag_serve, NULL);
	atomic_fetch_add(&fp->attached, 1);
	if (r < 0) {
		snprintf(err, 200, "attach: %s", strerror(-r));
		return NULL;
	}
	while (atomic_load(&fp->attached) < 2)
		sched_yield();
	unsigned peer = !s->id;
	for (unsigned i = 0; i < F_ROUNDS && !err[0]; i++) {
		void *tb;
		const void *rb;
		size_t cap, len;
		r = ipcc_send_claim(cpu, peer, s->id, IPCC_TIMEOUT_INFINITE, &tb, &cap);
		if (r < 0) {
			snprintf(err, 200, "send claim %u: %s", i, strerror(-r));
			break;
		}
		size_t n = 1 + i % cap;
		for (size_t k = 0; k < n; k++)
			((uint8_t *)tb)[k] = flag_byte(s->id, i, k);
		r = ipcc_send_commit(cpu, peer, s->id, n);
		if (r == 0)
			r = ipcc_recv_claim(cpu, peer, peer, IPCC_TIMEOUT_INFINITE, &rb, &len);
		if (r < 0) {
			snprintf(err, 200, "commit or recv claim %u: %s", i, strerror(-r));
			break;
		}
		for (size_t k = 0; k < len && !err[0]; k++)
			if (((const uint8_t *)rb)[k] != flag_byte(peer, i, k) || len != 1 + i % cap)
				snprintf(err, 200, "round %u: byte %zu of %zu wrong", i, k, len);
		r = ipcc_recv_release(cpu, peer, peer);
		if (r < 0 && !err[0])
			snprintf(err, 200, "release %u: %s", i, strerror(-r));
		if (s->id == 0 && !err[0]) {
			uint8_t q[32], a[32];
			for (size_t k = 0; k < sizeof(q); k++)
				q[k] = flag_byte(2, i, k);
			r = ipcc_call(cpu, 1, 2, q, sizeof(q), a, sizeof(a), IPCC_TIMEOUT_INFINITE);
			if (r != (int)sizeof(a))
				snprintf(err, 200, "call %u: %d", i, r);
			for (size_t k = 0; k < sizeof(a) && !err[0]; k++)
				if ((a[k] ^ q[k]) != 0xFF)
					snprintf(err, 200, "call %u: response byte %zu wrong", i,
						 k);
		}
	}
	/* CPU 1's interrupt thread serves until CPU 0 is done with its calls. */
	atomic_fetch_add(&fp->attached, 1);
	while (atomic_load(&fp->attached) < 4)
		sched_yield();
	ipcc_cpu_detach(cpu);
	return NULL;
}

static void flag_publication_claims_and_callbacks(void)
{
	struct flagpub fp = { .sys = stress_system(2, 3, 64) };
	struct flag_side side[2] = { { &fp, 0 }, { &fp, 1 } };
	pthread_t th[2];
	struct watchdog w;

	watchdog_start(&w, 180, "the claims and callbacks ping-pong");
	for (unsigned i = 0; i < 2; i++)
		check(pthread_create(&th[i], NULL, flag_thread, &side[i]) == 0, "thread");
	for (unsigned i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	watchdog_stop(&w);
	check(!fp.error[0][0], "CPU 0: %s", fp.error[0]);
	check(!fp.error[1][0], "CPU 1: %s", fp.error[1]);
	ipcc_system_close(fp.sys);
}

/*
 * The doorbell (lib/bell/bell.c): a ringer's earlier writes are visible to the dispatcher that
 * takes its pending bit. The dispatcher relies on it for the status words it evaluates after
 * lib/bell/bell.c:ipcc_bell_take (whose RMW reads from the ringer's seq_cst fetch_or in
 * ring_bits); plain data stands in for them here, because a flag read carries its own acquire
 * and would hide a weakened take. The dispatcher answers through an atomic that the ringer
 * waits on before it writes again.
 */

#define B_ROUNDS 20000u

struct bellpub {
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu1;
	uint32_t payload[8]; /* plain: written by the ringer, read by the taker */
	_Atomic uint32_t ack;
	_Atomic bool ready;
	char error[200];
};

static void *bell_taker(void *p)
{
	struct bellpub *b = p;
	for (uint32_t i = 1; i <= B_ROUNDS && !b->error[0]; i++) {
		int64_t end = pt_now_ns() + 60 * PT_SEC;
		while (!(ipcc_bell_take(b->cpu1) & 1u))
			if (pt_now_ns() > end) {
				snprintf(b->error, sizeof(b->error), "round %u: no ring", i);
				return NULL;
			}
		for (unsigned k = 0; k < 8; k++)
			if (b->payload[k] != i * 8u + k)
				snprintf(b->error, sizeof(b->error), "round %u: word %u is %u", i,
					 k, b->payload[k]);
		/* Release: pairs with the ringer's acquire wait below, so it may write again. */
		atomic_store_explicit(&b->ack, i, memory_order_release);
	}
	return NULL;
}

static void doorbell_ring_publishes_to_the_taker(void)
{
	struct bellpub b = { .sys = stress_system(2, 1, 64) };
	pthread_t th;

	b.cpu1 = pt_attach(b.sys, 1, IPCC_WAIT_SPIN, 0);
	check(pthread_create(&th, NULL, bell_taker, &b) == 0, "thread");
	for (uint32_t i = 1; i <= B_ROUNDS; i++) {
		for (unsigned k = 0; k < 8; k++)
			b.payload[k] = i * 8u + k;
		ipcc_bell_ring(b.sys, 1, 0);
		int64_t end = pt_now_ns() + 60 * PT_SEC;
		/* Acquire: pairs with the taker's release store of ack. */
		while (atomic_load_explicit(&b.ack, memory_order_acquire) != i && !b.error[0])
			check(pt_now_ns() < end, "round %u: no answer", i);
		if (b.error[0])
			break;
	}
	pthread_join(th, NULL);
	check(!b.error[0], "%s", b.error);
	ipcc_cpu_detach(b.cpu1);
	ipcc_system_close(b.sys);
}

/*
 * Detach beside the library's own interrupt thread: ipcc_cpu_detach of a CPU with
 * IPCC_CPU_IRQ_THREAD while a peer floods it, so that the thread is dispatching callback
 * handlers when detach runs. Nothing of the handle may be freed while the thread can still
 * reach it (lib/layers.c detaches the procedures before the irq layer stops its thread).
 * Not in meson.build yet: it fails (TSan: a race on the freed lib/proc/proc.c state; ASan:
 * heap-use-after-free in on_rx) until the library stops the thread first.
 */

#define D_ROUNDS 200u

struct detach_flood {
	struct ipcc_system *sys;
	_Atomic bool stop;
	_Atomic uint64_t handled;
};

static void detach_on_msg(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data,
			  size_t len, void *arg)
{
	struct detach_flood *d = arg;
	(void)cpu, (void)peer, (void)ch, (void)data, (void)len;
	/* Relaxed: a counter for the log. */
	atomic_fetch_add_explicit(&d->handled, 1, memory_order_relaxed);
	/* Stay a while, so that the detach lands while the thread is still dispatching. */
	int64_t until = pt_now_ns() + 100 * 1000;
	while (pt_now_ns() < until)
		;
}

static void *detach_flooder(void *p)
{
	struct detach_flood *d = p;
	struct ipcc_cpu *cpu = pt_attach(d->sys, 0, IPCC_WAIT_SPIN, 0);
	uint8_t m[8] = { 0 };
	/* Acquire: pairs with the release store of stop at the end of the case. */
	while (!atomic_load_explicit(&d->stop, memory_order_acquire))
		for (unsigned ch = 0; ch < 4; ch++)
			(void)ipcc_send(cpu, 1, ch, m, sizeof(m), 0);
	ipcc_cpu_detach(cpu);
	return NULL;
}

static void detach_beside_the_irq_thread(void)
{
	struct detach_flood d = { .sys = stress_system(2, 4, 64) };
	pthread_t th;
	struct watchdog w;

	watchdog_start(&w, 120, "detach beside the interrupt thread");
	check(pthread_create(&th, NULL, detach_flooder, &d) == 0, "thread");
	for (unsigned i = 0; i < D_ROUNDS; i++) {
		struct ipcc_cpu *cpu = pt_attach(d.sys, 1, IPCC_WAIT_SPIN, IPCC_CPU_IRQ_THREAD);
		for (unsigned ch = 0; ch < 4; ch++)
			check(ipcc_recv_async(cpu, 0, ch, detach_on_msg, &d) == 0, "recv_async");
		sched_yield();
		ipcc_cpu_detach(cpu);
	}
	atomic_store_explicit(&d.stop, true, memory_order_release);
	pthread_join(th, NULL);
	watchdog_stop(&w);
	fprintf(stderr, "stress: %llu messages handled in %u attaches\n",
		(unsigned long long)atomic_load(&d.handled), D_ROUNDS);
	ipcc_system_close(d.sys);
}

/* ---- main -------------------------------------------------------------------------------------- */

/*
 * ---- ipcc_cpu_interrupt beside a blocked receive -------------------------------------------
 *
 * One thread blocks in ipcc_recv (futex mode, nothing ever sent) and another interrupts it, one
 * interrupt per round, each fired as soon as the previous -EINTR came back: often while the
 * receiver is between announcing itself and sleeping, or before its next wait begins (then the
 * interrupt is pending and that wait ends at once). A lost wake-up shows as -ETIMEDOUT.
 */

#define I_ROUNDS 5000u

struct intr_pp {
	struct ipcc_cpu *cpu;
	_Atomic unsigned round;
	char error[200];
};

static void *intr_receiver(void *p)
{
	struct intr_pp *ip = p;
	uint8_t buf[64];
	for (unsigned i = 0; i < I_ROUNDS; i++) {
		int r = ipcc_recv(ip->cpu, 1, 0, buf, sizeof(buf), 20 * PT_SEC);
		if (r != -EINTR) {
			snprintf(ip->error, 200, "recv %u: %d (%s)", i, r, strerror(-r));
			atomic_store(&ip->round, I_ROUNDS);
			return NULL;
		}
		atomic_store(&ip->round, i + 1);
	}
	return NULL;
}

static void interrupt_beside_blocked_recv(void)
{
	struct ipcc_system *sys = stress_system(2, 2, 64);
	struct intr_pp ip = { .cpu = NULL };
	struct ipcc_cpu_options o = pt_options(IPCC_WAIT_FUTEX, 0);
	pthread_t th;
	struct watchdog w;

	check(ipcc_cpu_attach(sys, 0, &o, &ip.cpu) == 0, "attach");
	watchdog_start(&w, 120, "ipcc_cpu_interrupt beside a blocked recv");
	check(pthread_create(&th, NULL, intr_receiver, &ip) == 0, "thread");
	for (unsigned i = 0; i < I_ROUNDS; i++) {
		while (atomic_load(&ip.round) < i)
			sched_yield();
		if (atomic_load(&ip.round) >= I_ROUNDS)
			break;
		check(ipcc_cpu_interrupt(ip.cpu) == 0, "interrupt");
	}
	pthread_join(th, NULL);
	watchdog_stop(&w);
	check(!ip.error[0], "%s", ip.error);
	ipcc_cpu_detach(ip.cpu);
	ipcc_system_close(sys);
}

#define CASE(fn)        \
	{               \
#fn, fn \
	}
static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	CASE(random_both_directions_all_modes),
	CASE(lost_wakeup_simplex_pingpong_futex),
	CASE(lost_wakeup_call_pingpong_futex),
	CASE(lost_wakeup_simplex_pingpong_adaptive_short_spin),
	CASE(threads_of_one_cpu_first_use),
	CASE(irq_thread_beside_blocking_recv),
	CASE(lost_wakeup_bell_wake_pingpong),
	CASE(set_wait_mode_beside_dispatch_and_fd),
	CASE(flag_publication_claims_and_callbacks),
	CASE(doorbell_ring_publishes_to_the_taker),
	CASE(detach_beside_the_irq_thread),
	CASE(interrupt_beside_blocked_recv),
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
		fprintf(stderr, "[RUN ] stress::%s\n", cases[i].name);
		int64_t t0 = pt_now_ns();
		cases[i].fn();
		pt_cleanup();
		fprintf(stderr, "[PASS] stress::%s (%.2f s)\n", cases[i].name,
			(double)(pt_now_ns() - t0) / PT_SEC);
		ran++;
	}
	fprintf(stderr, "stress: %u passed\n", ran);
	return ran ? 0 : 1;
}
