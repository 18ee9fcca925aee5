/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the IPC Notify tests (tests/notify): systems created with a Notify config, a log
 * of callback invocations, per-pair sequence checking of received values, a dispatch loop for a
 * CPU without an interrupt thread (nt_drain) and the wait-mode matrix. Built on
 * tests/proc/proc-test.h (names, forked peers with watchdogs, pipes, shared memory), which
 * every file here uses the same way. Header-only so that each test file stays one executable.
 *
 * A value carries a per-pair sequence number (it fits the 28 bits for every count used here),
 * so a receiver tells a lost, duplicated or reordered value from the expected one.
 */
#ifndef IPCC_NOTIFY_TEST_H
#define IPCC_NOTIFY_TEST_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include "proc-test.h"

#include <criterion/parameterized.h>

/* The first application client; tests that need several use NT_CLIENT + k. */
#define NT_CLIENT IPCC_NOTIFY_CLIENT_FIRST

/* cfg with `cpus` CPUs (all linked, 6 channels) and *ncfg's defaults (Notify on every pair). */
static inline void nt_config(struct ipcc_config *cfg, struct ipcc_notify_config *ncfg,
			     unsigned cpus)
{
	ipcc_config_init(cfg);
	cfg->cpus = cpus;
	ipcc_notify_config_init(ncfg);
	cfg->notify = ncfg;
}

/* Create a system for cfg under a fresh name (pt_cleanup removes it). */
static inline struct ipcc_system *nt_create(const struct ipcc_config *cfg)
{
	struct ipcc_system *sys = NULL;
	int r = ipcc_system_create(pt_name(), cfg, &sys);
	pt_assert(r == 0, "ipcc_system_create: %s", strerror(-r));
	return sys;
}

/* `cpus` CPUs, every pair linked with Notify of `depth` entries (0: the default). */
static inline struct ipcc_system *nt_system(unsigned cpus, uint32_t depth)
{
	struct ipcc_config cfg;
	struct ipcc_notify_config n;
	nt_config(&cfg, &n, cpus);
	if (depth)
		n.depth = depth;
	return nt_create(&cfg);
}

/* The counters of from -> to; retries while a busy queue moves under the reads (-EAGAIN). */
static inline struct ipcc_notify_stats nt_stats(const struct ipcc_system *sys, unsigned from,
						unsigned to)
{
	struct ipcc_notify_stats st;
	int r;
	for (int i = 0; i < 1000; i++) {
		r = ipcc_notify_stats(sys, from, to, &st);
		if (r != -EAGAIN)
			break;
		sched_yield();
	}
	pt_assert(r == 0, "ipcc_notify_stats(%u -> %u): %s", from, to, strerror(-r));
	return st;
}

/* ---- a log of callback invocations (one process) --------------------------------------- */

#define NT_LOG_MAX 1024

struct nt_call {
	struct ipcc_cpu *cpu;
	unsigned remote, client;
	uint32_t value;
	void *arg;
};

struct nt_log {
	unsigned n;
	struct nt_call call[NT_LOG_MAX];
};

/* A callback whose arg is a struct nt_log: records the call (extra calls are counted only). */
static inline void nt_log_fn(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
			     void *arg)
{
	struct nt_log *log = arg;
	if (log->n < NT_LOG_MAX)
		log->call[log->n] = (struct nt_call){ cpu, remote, client, value, arg };
	log->n++;
}

/* ---- per-pair sequence checking ---------------------------------------------------------- */

/*
 * What a receiver knows of one ordered pair; in shared memory when the test reads it too.
 * Written by the one thread that runs the pair's callbacks, read meanwhile by other threads
 * (a peer's main thread watching progress) and by the test after the peer exited.
 */
struct nt_seq {
	_Atomic uint64_t expect; /* the next expected sequence number */
	_Atomic uint64_t lost;	 /* numbers skipped */
	_Atomic uint64_t dup;	 /* numbers seen again, or out of order */
	_Atomic uint64_t client; /* values that came for another client than the pair's */
};

/* The value carrying sequence number seq. */
static inline uint32_t nt_value(uint64_t seq)
{
	return (uint32_t)(seq & IPCC_NOTIFY_VALUE_MAX);
}

/* Count one error: relaxed, the error counters are read after nt_seq_next's acquire. */
static inline void nt_seq_error(_Atomic uint64_t *counter, uint64_t n)
{
	atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

/* Account one value of the pair; true if it is the expected one. */
static inline bool nt_seq_take(struct nt_seq *s, uint32_t value)
{
	/* Only the receiving thread writes expect: a relaxed load of its own last store. */
	uint64_t e = atomic_load_explicit(&s->expect, memory_order_relaxed);
	uint64_t got = (e & ~(uint64_t)IPCC_NOTIFY_VALUE_MAX) | value;
	if (got == e) {
		/* Pairs with nt_seq_next: the error counts written before are seen with it. */
		atomic_store_explicit(&s->expect, e + 1, memory_order_release);
		return true;
	}
	if (got > e) {
		nt_seq_error(&s->lost, got - e);
		atomic_store_explicit(&s->expect, got + 1, memory_order_release);
	} else {
		nt_seq_error(&s->dup, 1);
	}
	return false;
}

static inline uint64_t nt_seq_next(struct nt_seq *s)
{
	/* Pairs with nt_seq_take's release: a reader that sees the count sees the errors. */
	return atomic_load_explicit(&s->expect, memory_order_acquire);
}

static inline bool nt_seq_ok(struct nt_seq *s)
{
	/* Relaxed: a snapshot for a check; nt_seq_next orders them when it matters. */
	return !atomic_load_explicit(&s->lost, memory_order_relaxed) &&
	       !atomic_load_explicit(&s->dup, memory_order_relaxed) &&
	       !atomic_load_explicit(&s->client, memory_order_relaxed);
}

#define NT_SEQ_FMT "expected next %llu, lost %llu, duplicated or reordered %llu, wrong client %llu"
#define NT_SEQ_ARGS(s)                                                                      \
	(unsigned long long)atomic_load_explicit(&(s)->expect, memory_order_relaxed),       \
		(unsigned long long)atomic_load_explicit(&(s)->lost, memory_order_relaxed), \
		(unsigned long long)atomic_load_explicit(&(s)->dup, memory_order_relaxed),  \
		(unsigned long long)atomic_load_explicit(&(s)->client, memory_order_relaxed)

/*
 * The end of a run: the receiver took exactly `count` values of pair from -> to, in order, and
 * the pair's counters agree (nothing dropped, nothing left in the queue).
 */
static inline void nt_expect_pair(const struct ipcc_system *sys, struct nt_seq *s, unsigned from,
				  unsigned to, uint64_t count)
{
	pt_assert(nt_seq_ok(s), "%u from %u: " NT_SEQ_FMT, to, from, NT_SEQ_ARGS(s));
	pt_assert(nt_seq_next(s) == count, "%u from %u: %llu values of %llu", to, from,
		  (unsigned long long)nt_seq_next(s), (unsigned long long)count);
	struct ipcc_notify_stats st = nt_stats(sys, from, to);
	pt_assert(st.sent == count && st.received == count && !st.dropped && !st.fill,
		  "stats %u -> %u: sent %llu, received %llu, dropped %llu, fill %u (expected %llu "
		  "sent and received)",
		  from, to, (unsigned long long)st.sent, (unsigned long long)st.received,
		  (unsigned long long)st.dropped, st.fill, (unsigned long long)count);
}

/* The count a test runs: `def`, or the value of environment variable `env` when set. */
static inline uint64_t nt_env_count(const char *env, uint64_t def)
{
	const char *s = getenv(env);
	if (!s || !*s)
		return def;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	pt_assert(!*end && v > 0 && v <= IPCC_NOTIFY_VALUE_MAX, "%s=%s: not a count in 1..%u", env,
		  s, IPCC_NOTIFY_VALUE_MAX);
	return v;
}

/* ---- draining a CPU without an interrupt thread ------------------------------------------- */

/*
 * Dispatch `cpu` (no interrupt thread), waiting for its interrupts in its wait mode between
 * rounds (in eventfd mode by polling ipcc_cpu_fd), until done(arg) or timeout_ns passed: 0,
 * -ETIMEDOUT, or the error of a failed call. A peer's death (-EPIPE from ipcc_cpu_wait) does
 * not end it: what that peer queued before is still to be taken.
 */
static inline int nt_drain(struct ipcc_cpu *cpu, bool (*done)(void *), void *arg,
			   int64_t timeout_ns)
{
	int64_t end = pt_now_ns() + timeout_ns;
	bool efd = ipcc_cpu_wait_mode(cpu) == IPCC_WAIT_EVENTFD;
	for (;;) {
		int r = ipcc_cpu_dispatch(cpu);
		if (r < 0)
			return r;
		if (done(arg))
			return 0;
		int64_t left = end - pt_now_ns();
		if (left <= 0)
			return -ETIMEDOUT;
		if (efd) {
			int fd = ipcc_cpu_fd(cpu);
			if (fd < 0)
				return fd;
			struct pollfd p = { .fd = fd, .events = POLLIN };
			if (poll(&p, 1, (int)(left / PT_MS) + 1) < 0 && errno != EINTR)
				return -errno;
		} else {
			r = ipcc_cpu_wait(cpu, left);
			if (r < 0 && r != -EPIPE && r != -ETIMEDOUT)
				return r;
		}
	}
}

/* The four wait modes, for ParameterizedTest. */
static enum ipcc_wait_mode nt_all_modes[]
	__attribute__((unused)) = { IPCC_WAIT_ADAPTIVE, IPCC_WAIT_FUTEX, IPCC_WAIT_SPIN,
				    IPCC_WAIT_EVENTFD };
#define NT_MODES_PARAMS                                        \
	cr_make_param_array(enum ipcc_wait_mode, nt_all_modes, \
			    sizeof(nt_all_modes) / sizeof(nt_all_modes[0]))

/* Wait, without the library, until `counter` reaches n: the peers may be gone by then. */
static inline bool nt_barrier(_Atomic unsigned *counter, unsigned n, int64_t timeout_ns)
{
	/* seq_cst: a plain meeting counter; what each side wrote before is read after it. */
	atomic_fetch_add(counter, 1);
	for (int64_t end = pt_now_ns() + timeout_ns; pt_now_ns() < end;) {
		if (atomic_load(counter) >= n)
			return true;
		pt_sleep_ms(1);
	}
	return false;
}

#endif
