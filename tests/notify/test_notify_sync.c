/* SPDX-License-Identifier: MIT */
/*
 * The sync barrier (ipcc_notify_sync_all, sync_send, sync_wait) and ipcc_cpu_wait_peer between
 * real processes over one shm object.
 *
 * A barrier is proved by counting: each CPU adds itself to the round's arrival counter (shared
 * memory) before it calls sync_all, and checks after the call that every CPU it syncs with has
 * arrived. The peer's increment comes before its sync message in its program order and our
 * check after the sync_all that took that message: the library's release/acquire on the Notify
 * queue orders them, the counters themselves are seq_cst. Ordering across a restart is proved
 * the same way: the restarted CPU's first sync_all must not return before the last of the others
 * has called its next one, which the test holds back for 100 ms after the restarted CPU called.
 *
 * The test's own atomics (counters, phases and times in shared memory) are seq_cst, the default:
 * scaffolding whose order is simplest to read that way, not a protocol under test.
 *
 * Calls that must time out use NS_SHORT (300 ms) and the ones that must not PT_LONG (10 s):
 * none asserts a duration beyond "did not time out" (and one lost wake-up bound); latencies
 * are printed.
 *
 * Some are regression tests of lib/notify bugs they found. Fixed in notify 2c38076:
 * a_peer_that_reached_the_round_and_then_detached_does_not_fail_the_waiter (-EPIPE for a peer
 * that met the round), a_sync_send_made_before_the_peer_attached_reaches_it_without_another_call
 * (the announcement waited for this CPU's next sync call) and the two
 * a_sync_announced_behind_a_full_queue_wakes_a_waiter_* (a lost wake-up). Fixed in c4ba924 (the
 * met round is latched): lib/irq/wait.c:sleep_loop looks at the predicate again after a wake-up
 * with a death or an interrupt, and pred_sync had counted the round in the look before, so the
 * closing-barrier test got -ETIMEDOUT in some tries and a_round_met_in_the_same_wake_up_as_an_
 * interrupt_is_not_lost (and its sync_wait twin) -EINTR with the round consumed.
 */
#include <pthread.h>
#include <semaphore.h>
#include <sys/resource.h>

#include "notify-sync-test.h"

TestSuite(sync, .fini = pt_cleanup, .timeout = 60);
TestSuite(wait_peer, .fini = pt_cleanup, .timeout = 60);

/* ---- four processes, rounds ------------------------------------------------------------- */

#define Q_CPUS	 4u
#define Q_ROUNDS 8u

struct quad {
	const char *name;
	uint64_t seed;
	_Atomic uint32_t arrived[Q_ROUNDS]; /* CPUs that called sync_all for round r */
	_Atomic uint32_t returned[Q_ROUNDS];
	_Atomic uint32_t done;	     /* CPUs past their last round */
	_Atomic int phase;	     /* the restart test's script, below */
	_Atomic uint32_t attached_b; /* the restarted CPU 3 has attached */
	_Atomic uint32_t epipes;     /* -EPIPE seen, by the CPUs that expected one */
};

struct quad_cpu {
	struct quad *q;
	unsigned id;
	unsigned first, last; /* the rounds this process runs, first..last-1 */
	bool leave_after;     /* wait for every CPU past round last-1, then detach (a restart) */
	int wait_phase;	      /* wait for q->phase >= this before round `wait_round` */
	unsigned wait_round;
	unsigned epipe_at; /* r + 1: round r's sync_all gives -EPIPE, its retry 0 (0: none) */
	unsigned die_at;   /* r + 1: in round r, kill -9 itself once the others called */
};

static uint64_t q_rand(uint64_t *s)
{
	*s = pt_mix(*s);
	return *s;
}

/* Poll a counter the test's own script moves (not the library: its waits never poll). */
static void q_await(_Atomic uint32_t *v, uint32_t want, const char *what)
{
	int64_t end = pt_now_ns() + 30 * PT_SEC;
	while (atomic_load(v) < want) {
		PEER_CHECK(pt_now_ns() < end, "%s: %u of %u after 30 s", what, atomic_load(v),
			   want);
		pt_sleep_ms(1);
	}
}

static int quad_cpu_main(void *arg)
{
	struct quad_cpu *c = arg;
	struct quad *q = c->q;
	struct ipcc_system *sys;
	uint64_t rng = q->seed ^ pt_mix(c->id + 100 * c->first);

	if (c->wait_phase && c->wait_round == c->first)
		while (atomic_load(&q->phase) < c->wait_phase)
			pt_sleep_ms(1);
	/* Start-up in random order: up to 50 ms apart. */
	pt_sleep_ms((unsigned)(q_rand(&rng) % 51));
	struct ipcc_cpu *cpu = peer_attach(q->name, c->id, IPCC_WAIT_FUTEX, 0, &sys);
	if (c->first > 0)
		atomic_store(&q->attached_b, 1);
	for (unsigned r = c->first; r < c->last; r++) {
		if (c->wait_phase && r == c->wait_round && r != c->first)
			while (atomic_load(&q->phase) < c->wait_phase)
				pt_sleep_ms(1);
		pt_sleep_ms((unsigned)(q_rand(&rng) % 21));
		if (r + 1 == c->die_at) {
			/* Attached, never syncing: dies while the others wait for it. */
			q_await(&q->arrived[r], Q_CPUS - 1, "the others' sync_all");
			pt_sleep_ms(100);
			kill(getpid(), SIGKILL);
		}
		/* Seq_cst: see the file comment (the peers' checks below read it). */
		atomic_fetch_add(&q->arrived[r], 1);
		int64_t t0 = pt_now_ns();
		int ret = ipcc_notify_sync_all(cpu, PT_LONG);
		if (r + 1 == c->epipe_at) {
			PEER_CHECK(ret == -EPIPE,
				   "CPU %u round %u: sync_all with a peer killed: %s", c->id, r,
				   ret ? strerror(-ret) : "success");
			atomic_fetch_add(&q->epipes, 1);
			ret = ipcc_notify_sync_all(cpu, PT_LONG); /* the same round */
		}
		PEER_CHECK(ret == 0, "CPU %u round %u: sync_all: %s (after %.1f ms)", c->id, r,
			   strerror(-ret), (double)(pt_now_ns() - t0) / PT_MS);
		uint32_t n = atomic_load(&q->arrived[r]);
		PEER_CHECK(n == Q_CPUS,
			   "CPU %u round %u: sync_all returned when only %u of %u CPUs had called "
			   "it (a stale or early meeting)",
			   c->id, r, n, Q_CPUS);
		atomic_fetch_add(&q->returned[r], 1);
	}
	if (c->leave_after) {
		/* Nobody may still wait on this incarnation's round: that wait would see -EPIPE. */
		q_await(&q->returned[c->last - 1], Q_CPUS, "returns of the last round");
	} else {
		/* The test's own end barrier: nobody detaches while a peer still waits. */
		atomic_fetch_add(&q->done, 1);
		q_await(&q->done, Q_CPUS, "CPUs done");
	}
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

static struct quad *quad_new(struct ipcc_system *sys)
{
	struct quad *q = pt_shared(sizeof(*q));
	q->name = ipcc_system_name(sys);
	q->seed = pt_mix((uint64_t)pt_now_ns() ^ (uint64_t)getpid());
	fprintf(stderr, "sync: seed 0x%016llx\n", (unsigned long long)q->seed);
	return q;
}

Test(sync, four_processes_started_in_random_order_meet_in_every_round)
{
	struct ipcc_system *sys = ns_create_all(Q_CPUS);
	struct quad *q = quad_new(sys);
	struct quad_cpu c[Q_CPUS];
	pid_t pid[Q_CPUS];
	unsigned order[Q_CPUS] = { 0, 1, 2, 3 };
	uint64_t rng = q->seed;

	/* Forked in a random order too, so that attach order and id order differ. */
	for (unsigned i = Q_CPUS - 1; i > 0; i--) {
		unsigned j = (unsigned)(q_rand(&rng) % (i + 1)), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	int64_t t0 = pt_now_ns();
	for (unsigned i = 0; i < Q_CPUS; i++) {
		unsigned id = order[i];
		c[id] = (struct quad_cpu){ .q = q, .id = id, .first = 0, .last = Q_ROUNDS };
		pid[id] = pt_fork(quad_cpu_main, &c[id], 60);
	}
	for (unsigned i = 0; i < Q_CPUS; i++) {
		char what[32];
		snprintf(what, sizeof(what), "CPU %u", i);
		pt_expect_exit0(pid[i], 40 * PT_SEC, what);
	}
	fprintf(stderr, "sync: %u processes, %u rounds in %.0f ms\n", Q_CPUS, Q_ROUNDS,
		(double)(pt_now_ns() - t0) / PT_MS);
	for (unsigned r = 0; r < Q_ROUNDS; r++)
		cr_assert_eq(atomic_load(&q->returned[r]), Q_CPUS, "round %u: %u returns", r,
			     atomic_load(&q->returned[r]));
	ipcc_system_close(sys);
}

/* The end of a restart test: CPUs 0..2 and the second CPU 3 (pid[4]) end well, every round met. */
static void quad_restart_end(struct ipcc_system *sys, struct quad *q, const pid_t *pid)
{
	const char *what[] = { "CPU 0", "CPU 1", "CPU 2", "", "the restarted CPU 3" };
	for (unsigned i = 0; i <= Q_CPUS; i++)
		if (i != 3)
			pt_expect_exit0(pid[i], 40 * PT_SEC, what[i]);
	for (unsigned r = 0; r < Q_ROUNDS; r++)
		cr_assert_eq(atomic_load(&q->returned[r]), Q_CPUS, "round %u: %u returns", r,
			     atomic_load(&q->returned[r]));
	ipcc_system_close(sys);
}

/*
 * CPU 3 runs rounds 0..K and leaves; CPUs 0 and 1 call their round K+1 sync_all while CPU 3 is
 * away; a new process attaches CPU 3 and calls sync_all; CPU 2 calls its round K+1 only 100 ms
 * later. The new CPU 3 must meet round K+1 (and not return before CPU 2 called it: no stale
 * meeting with a sync meant for the old incarnation), and the rounds after it must still meet.
 */
#define Q_K 2u
enum { PH_RUN, PH_EARLY, PH_RESTART, PH_LATE };

Test(sync, a_restarted_cpu_meets_the_others_next_sync_not_a_stale_one)
{
	struct ipcc_system *sys = ns_create_all(Q_CPUS);
	struct quad *q = quad_new(sys);
	struct quad_cpu c[Q_CPUS + 1];
	pid_t pid[Q_CPUS + 1];

	for (unsigned id = 0; id < 3; id++)
		c[id] = (struct quad_cpu){ .q = q,
					   .id = id,
					   .first = 0,
					   .last = Q_ROUNDS,
					   .wait_phase = id < 2 ? PH_EARLY : PH_LATE,
					   .wait_round = Q_K + 1 };
	c[3] = (struct quad_cpu){
		.q = q, .id = 3, .first = 0, .last = Q_K + 1, .leave_after = true
	};
	c[4] = (struct quad_cpu){ .q = q,
				  .id = 3,
				  .first = Q_K + 1,
				  .last = Q_ROUNDS,
				  .wait_phase = PH_RESTART,
				  .wait_round = Q_K + 1 };
	for (unsigned i = 0; i <= Q_CPUS; i++)
		pid[i] = pt_fork(quad_cpu_main, &c[i], 60);

	pt_expect_exit0(pid[3], 30 * PT_SEC, "the first CPU 3");
	atomic_store(&q->phase, PH_EARLY);
	pt_sleep_ms(50);
	atomic_store(&q->phase, PH_RESTART);
	int64_t end = pt_now_ns() + PT_LONG;
	while (!atomic_load(&q->attached_b) && pt_now_ns() < end)
		pt_sleep_ms(1);
	cr_assert(atomic_load(&q->attached_b), "the restarted CPU 3 did not attach");
	pt_sleep_ms(100);
	atomic_store(&q->phase, PH_LATE);

	quad_restart_end(sys, q, pid);
}

/*
 * CPU 3 attaches and never syncs; CPUs 0..2 call sync_all for round 1; CPU 3 is killed -9: each
 * of them gets -EPIPE, retries at once (CPU 3 is away: it is waited for), and meets a new
 * process that attaches CPU 3. The rounds after that meet too.
 */
Test(sync, a_peer_killed_in_a_four_cpu_barrier_fails_every_waiter_and_the_retries_meet_its_restart)
{
	struct ipcc_system *sys = ns_create_all(Q_CPUS);
	struct quad *q = quad_new(sys);
	struct quad_cpu c[Q_CPUS + 1];
	pid_t pid[Q_CPUS + 1];
	const unsigned kr = 1; /* the round of the kill */

	for (unsigned id = 0; id < 3; id++)
		c[id] = (struct quad_cpu){
			.q = q, .id = id, .first = 0, .last = Q_ROUNDS, .epipe_at = kr + 1
		};
	c[3] = (struct quad_cpu){ .q = q, .id = 3, .first = 0, .last = Q_ROUNDS, .die_at = kr + 1 };
	c[4] = (struct quad_cpu){ .q = q,
				  .id = 3,
				  .first = kr,
				  .last = Q_ROUNDS,
				  .wait_phase = PH_RESTART,
				  .wait_round = kr };
	for (unsigned i = 0; i <= Q_CPUS; i++)
		pid[i] = pt_fork(quad_cpu_main, &c[i], 60);

	int st = pt_reap(pid[3], 30 * PT_SEC);
	cr_assert(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		  "the first CPU 3 did not die of SIGKILL");
	int64_t end = pt_now_ns() + PT_LONG;
	while (atomic_load(&q->epipes) < 3 && pt_now_ns() < end)
		pt_sleep_ms(1);
	cr_assert_eq(atomic_load(&q->epipes), 3, "%u of 3 CPUs saw -EPIPE",
		     atomic_load(&q->epipes));
	pt_sleep_ms(50); /* the retries wait for CPU 3 */
	atomic_store(&q->phase, PH_RESTART);

	quad_restart_end(sys, q, pid);
}

/* ---- two CPUs, scripted -------------------------------------------------------------------- */

/*
 * CPU 0 is this process (futex mode: no thread of its own, so forking after its attach is
 * safe); CPU 1 a scripted peer.
 */
static struct ipcc_cpu *attach0(struct ipcc_system *sys)
{
	return pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
}

/* This process as CPU 0 of a fresh 2-CPU Notify system, a scripted peer as CPU 1. */
struct pair {
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;
	struct ns_peer p;
};

static struct ipcc_cpu *pair_start(struct pair *f, bool deferred)
{
	f->sys = ns_create_all(2);
	ns_peer_start(&f->p, f->sys, 1, 0, deferred);
	f->cpu = attach0(f->sys);
	return f->cpu;
}

/* The peer leaves, then CPU 0 (the caller may have detached it already: cpu NULL). */
static void pair_stop(struct pair *f)
{
	pt_script_stop(&f->p.s);
	ipcc_cpu_detach(f->cpu);
	ipcc_system_close(f->sys);
}

/* Run `cmd` in the peer while this process calls sync_all (no bound): both must meet. */
static void meet(struct ns_peer *p, struct ipcc_cpu *cpu, char cmd, const char *what)
{
	pt_post(p->s.cmd, cmd);
	int r = ipcc_notify_sync_all(cpu, PT_LONG);
	cr_assert_eq(r, 0, "%s: sync_all of CPU 0: %s%s", what, strerror(-r),
		     pt_peer_note(p->s.pid));
	int a = ns_peer_answer(p, cmd);
	cr_assert_eq(a, 0, "%s: the peer's '%c': %s", what, cmd, ns_err(a));
}

Test(sync, a_missing_peer_gives_etimedout_and_a_retry_is_the_same_round)
{
	struct pair f = { 0 };
	struct ipcc_cpu *cpu = pair_start(&f, true);
	struct ns_peer *p = &f.p;

	/* The peer never came. */
	int64_t t0 = pt_now_ns();
	int r = ipcc_notify_sync_all(cpu, NS_SHORT);
	int64_t waited = pt_now_ns() - t0;
	cr_assert_eq(r, -ETIMEDOUT, "sync_all with CPU 1 never attached: %d (%s)", r, strerror(-r));
	cr_assert_geq(waited, NS_SHORT, "timed out after %.1f ms of %.0f", (double)waited / PT_MS,
		      (double)NS_SHORT / PT_MS);
	r = ipcc_notify_sync_all(cpu, 0);
	cr_assert(r == -EAGAIN || r == -ETIMEDOUT, "sync_all with timeout 0, peer away: %d (%s)", r,
		  strerror(-r));
	fprintf(stderr, "sync: timeout 0 with the peer away gives %s\n", strerror(-r));

	/* Attached, but not syncing. */
	pt_script_go(&p->s);
	r = ipcc_notify_sync_all(cpu, NS_SHORT);
	cr_assert_eq(r, -ETIMEDOUT, "sync_all with CPU 1 attached but not syncing: %d (%s)", r,
		     strerror(-r));

	/* Round 1: three attempts of CPU 0 and one of CPU 1 meet. */
	meet(p, cpu, 's', "round 1");
	/* Round 2: CPU 0's three attempts were one round, so CPU 1 waits for CPU 0 again. */
	r = ns_peer_cmd(p, 't');
	cr_assert_eq(r, ETIMEDOUT,
		     "round 2: CPU 1's sync_all without CPU 0 gave %s: CPU 0's timed-out "
		     "attempts of round 1 counted as rounds of their own",
		     ns_err(r));
	meet(p, cpu, 's', "round 2");
	/* Round 3: the same the other way round (CPU 1 tried twice in round 2). */
	r = ipcc_notify_sync_all(cpu, NS_SHORT);
	cr_assert_eq(r, -ETIMEDOUT,
		     "round 3: CPU 0's sync_all without CPU 1 gave %d (%s): CPU 1's timed-out "
		     "attempt of round 2 counted as a round of its own",
		     r, strerror(-r));
	meet(p, cpu, 's', "round 3");
	/* Round 4: nothing left over either way. */
	r = ns_peer_cmd(p, 't');
	cr_assert_eq(r, ETIMEDOUT, "round 4: CPU 1 alone: %s", ns_err(r));
	meet(p, cpu, 's', "round 4");
	r = ipcc_notify_sync_all(cpu, NS_SHORT);
	cr_assert_eq(r, -ETIMEDOUT, "round 5: CPU 0 alone: %d (%s)", r, strerror(-r));

	pair_stop(&f);
}

/* The peer is attached and not syncing; `how` ('k' or 'd') makes it go while CPU 0 waits. */
static void peer_goes_during_the_barrier(char how)
{
	struct ipcc_system *sys = ns_create_all(2);
	struct ns_peer p = { 0 };
	ns_peer_start(&p, sys, 1, 0, false);
	struct ipcc_cpu *cpu = attach0(sys);

	pt_post(p.s.cmd, how);
	int r = ipcc_notify_sync_all(cpu, PT_LONG);
	int64_t t = pt_now_ns();
	int64_t gone = atomic_load(p.t_gone);
	cr_assert_eq(r, -EPIPE, "sync_all while the peer %s: %d (%s)",
		     how == 'k' ? "was killed -9" : "detached", r, strerror(-r));
	cr_assert(gone && t >= gone, "sync_all returned -EPIPE before the peer went");
	fprintf(stderr, "sync: -EPIPE %.2f ms after the peer %s\n", (double)(t - gone) / PT_MS,
		how == 'k' ? "was killed -9" : "detached");
	cr_assert_lt(t - gone, PT_SEC, "-EPIPE came %.0f ms after the peer went",
		     (double)(t - gone) / PT_MS);
	if (how == 'k') {
		int st = pt_reap(p.s.pid, PT_LONG);
		cr_assert(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
			  "the peer did not die of SIGKILL");
	} else {
		cr_assert_eq(pt_await(p.s.ack, PT_LONG), 0, "the peer's detach");
		pt_script_stop(&p.s);
	}
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

Test(sync, a_peer_killed_during_the_barrier_gives_epipe)
{
	peer_goes_during_the_barrier('k');
}

Test(sync, a_peer_detaching_during_the_barrier_gives_epipe)
{
	peer_goes_during_the_barrier('d');
}

/*
 * The closing barrier, "sync_all, then detach", on both sides: CPU 1 waits in sync_all; CPU 0
 * comes, its sync_all returns 0 (CPU 1 had reached the round) and it detaches at once. CPU 1
 * must get 0 too: its peer reached the round, which is what sync_all returns 0 for, and the
 * peer's announcement is in the object. CPU 1 is stopped (SIGSTOP) until CPU 0 is gone, so
 * that it finds the announcement and the detach at once; which of its threads runs first
 * after SIGCONT (the waiter, or the reaper that sees the detach) is the scheduler's choice, so
 * the case runs C_TRIES times, each with a new CPU 1 (forked at the start: no fork beside the
 * threads a watch starts) and a new attach of CPU 0.
 */
#define C_TRIES 16u

Test(sync, a_peer_that_reached_the_round_and_then_detached_does_not_fail_the_waiter)
{
	struct ipcc_system *sys = ns_create_all(2);
	struct ns_peer p[C_TRIES];
	memset(p, 0, sizeof(p));
	for (unsigned i = 0; i < C_TRIES; i++)
		ns_peer_start(&p[i], sys, 1, 0, true);
	for (unsigned i = 0; i < C_TRIES; i++) {
		pt_script_go(&p[i].s);
		struct ipcc_cpu *cpu = attach0(sys);
		pt_post(p[i].s.cmd, 't');
		pt_sleep_ms(100); /* CPU 1 announces and goes to sleep in its wait */
		cr_assert_eq(kill(p[i].s.pid, SIGSTOP), 0);
		int r = ipcc_notify_sync_all(cpu, PT_LONG);
		cr_assert_eq(r, 0, "try %u: CPU 0's sync_all, CPU 1 waiting: %d (%s)", i, r,
			     strerror(-r));
		ipcc_cpu_detach(cpu);
		cr_assert_eq(kill(p[i].s.pid, SIGCONT), 0);
		r = ns_peer_answer(&p[i], 't');
		cr_assert_eq(r, 0,
			     "try %u: CPU 1's sync_all gave %s although CPU 0 reached the round "
			     "before it detached (a closing barrier fails on the side that sees "
			     "the detach first)",
			     i, ns_err(r));
		pt_script_stop(&p[i].s);
	}
	ipcc_system_close(sys);
}

/*
 * A round met and an interrupt in the same wake-up: "a wait that finds its condition already
 * true returns its result" (ipcc_cpu_interrupt), so CPU 1's sync_all returns 0, and the next
 * round is a round of its own. CPU 1 is stopped while CPU 0 completes the round and the
 * interrupt (SIGUSR1: ipcc_cpu_interrupt in CPU 1's handler) is made pending; SIGCONT lets it
 * find both.
 */
/* one: the peer uses sync_send + sync_wait instead of sync_all. */
static void round_met_beside_an_interrupt(bool one)
{
	struct pair f = { 0 };
	struct ipcc_cpu *cpu = pair_start(&f, false);
	struct ns_peer *p = &f.p;

	if (one)
		cr_assert_eq(ns_peer_cmd(p, 'S'), 0, "the peer's sync_send");
	pt_post(p->s.cmd, one ? 'W' : 's');
	pt_sleep_ms(100); /* CPU 1 announces and goes to sleep in its wait */
	cr_assert_eq(kill(p->s.pid, SIGSTOP), 0);
	int r = ipcc_notify_sync_all(cpu, PT_LONG);
	cr_assert_eq(r, 0, "CPU 0's sync_all, CPU 1 waiting: %d (%s)", r, strerror(-r));
	cr_assert_eq(kill(p->s.pid, SIGUSR1), 0);
	cr_assert_eq(kill(p->s.pid, SIGCONT), 0);
	r = ns_peer_answer(p, one ? 'W' : 's');
	cr_assert(r == 0 || r == EINTR, "CPU 1's %s: %s", one ? "sync_wait" : "sync_all",
		  ns_err(r));
	if (r == EINTR) {
		/* Allowed only if the round was not taken: the retry must then meet at once. */
		r = ns_peer_cmd(p, one ? 'w' : 't');
		cr_assert_eq(r, 0,
			     "CPU 1's %s gave -EINTR with the round met, and its retry gave %s: "
			     "the -EINTR consumed the round (the barrier is a round off)",
			     one ? "sync_wait" : "sync_all", ns_err(r));
	}
	/* Round 2: CPU 1 alone waits. A wait that returned its condition leaves the interrupt
	 * pending for the next wait (include/ipcc/irq.h: ipcc_cpu_interrupt), which may be this
	 * one: -EINTR once, then the round of its own. */
	if (one)
		cr_assert_eq(ns_peer_cmd(p, 'S'), 0, "the peer's sync_send");
	r = ns_peer_cmd(p, one ? 'w' : 't');
	if (r == EINTR)
		r = ns_peer_cmd(p, one ? 'w' : 't');
	cr_assert_eq(r, ETIMEDOUT, "round 2, CPU 1 alone: %s", ns_err(r));
	pair_stop(&f);
}

Test(sync, a_round_met_in_the_same_wake_up_as_an_interrupt_is_not_lost)
{
	round_met_beside_an_interrupt(false);
}

Test(sync, a_sync_wait_met_in_the_same_wake_up_as_an_interrupt_is_not_lost)
{
	round_met_beside_an_interrupt(true);
}

/*
 * sync_send towards the first incarnation of CPU 1, which never syncs and leaves: the second
 * incarnation must not take that message for a meeting.
 */
Test(sync, a_sync_sent_to_the_previous_incarnation_is_not_taken_by_the_next)
{
	struct ipcc_system *sys = ns_create_all(2);
	struct ns_peer a = { 0 }, b = { 0 };
	ns_peer_start(&b, sys, 1, 0, true);
	ns_peer_start(&a, sys, 1, 0, false);
	struct ipcc_cpu *cpu = attach0(sys);

	int r = ipcc_notify_sync_send(cpu, 1);
	cr_assert_eq(r, 0, "sync_send: %s", strerror(-r));
	pt_script_stop(&a.s);
	pt_script_go(&b.s);
	r = ns_peer_cmd(&b, 't');
	cr_assert_eq(r, ETIMEDOUT,
		     "the restarted CPU 1's sync_all gave %s without CPU 0 syncing again: it "
		     "took the sync meant for its previous incarnation",
		     ns_err(r));
	meet(&b, cpu, 's', "after the restart");
	r = ns_peer_cmd(&b, 't');
	cr_assert_eq(r, ETIMEDOUT, "the next round, CPU 1 alone: %s", ns_err(r));
	meet(&b, cpu, 's', "the next round");
	pt_script_stop(&b.s);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

Test(sync, sync_send_and_sync_wait_meet_one_peer_that_attaches_later)
{
	struct pair f = { 0 };
	struct ipcc_cpu *cpu = pair_start(&f, true);
	struct ns_peer *p = &f.p;

	/* Never blocks, also towards a CPU nobody attached yet; twice is the same round. */
	cr_assert_eq(ipcc_notify_sync_send(cpu, 1), 0);
	cr_assert_eq(ipcc_notify_sync_send(cpu, 1), 0);
	int r = ipcc_notify_sync_wait(cpu, 1, 0);
	cr_assert(r == -EAGAIN || r == -ETIMEDOUT, "sync_wait, timeout 0, peer away: %d (%s)", r,
		  strerror(-r));
	r = ipcc_notify_sync_wait(cpu, 1, NS_SHORT);
	cr_assert_eq(r, -ETIMEDOUT, "sync_wait, peer away: %d (%s)", r, strerror(-r));

	/* CPU 0 waits while the peer attaches, then sends and waits in turn. */
	pt_post(p->s.cmd, 'g');
	pt_post(p->s.cmd, 'S');
	pt_post(p->s.cmd, 'W');
	r = ipcc_notify_sync_wait(cpu, 1, PT_LONG);
	cr_assert_eq(r, 0, "round 1: sync_wait of CPU 0 for a peer that attached later: %d (%s)%s",
		     r, strerror(-r), pt_peer_note(p->s.pid));
	cr_assert_eq(pt_await(p->s.ack, PT_LONG), 'a', "the peer did not attach");
	r = ns_peer_answer(p, 'S');
	cr_assert_eq(r, 0, "round 1: the peer's sync_send: %s", ns_err(r));
	r = ns_peer_answer(p, 'W');
	cr_assert_eq(r, 0, "round 1: the peer's sync_wait: %s", ns_err(r));

	/* Round 2: the peer's send alone does not complete it; CPU 0's send does. */
	cr_assert_eq(ns_peer_cmd(p, 'S'), 0, "the peer's sync_send");
	r = ns_peer_cmd(p, 'w');
	cr_assert_eq(r, ETIMEDOUT,
		     "round 2: the peer's sync_wait before CPU 0 sent: %s (CPU 0's two sends of "
		     "round 1 counted twice?)",
		     ns_err(r));
	cr_assert_eq(ipcc_notify_sync_send(cpu, 1), 0);
	r = ipcc_notify_sync_wait(cpu, 1, PT_LONG);
	cr_assert_eq(r, 0, "round 2: CPU 0's sync_wait after both sent: %d (%s)", r, strerror(-r));
	r = ns_peer_cmd(p, 'W');
	cr_assert_eq(r, 0, "round 2: the peer's sync_wait after both sent: %s", ns_err(r));

	pair_stop(&f);
}

/*
 * "sync_send tells remote this CPU reached the next round": also when remote attaches after
 * the call, with nothing more from this CPU (it may be busy in its own loop, or wait for
 * something else before its sync_wait). The peer's sync_wait must complete.
 */
Test(sync, a_sync_send_made_before_the_peer_attached_reaches_it_without_another_call)
{
	struct pair f = { 0 };
	struct ipcc_cpu *cpu = pair_start(&f, true);
	struct ns_peer *p = &f.p;

	cr_assert_eq(ipcc_notify_sync_send(cpu, 1), 0);
	pt_script_go(&p->s);
	cr_assert_eq(ns_peer_cmd(p, 'S'), 0, "the peer's sync_send");
	int r = ns_peer_cmd(p, 'w');
	cr_assert_eq(r, 0,
		     "the peer's sync_wait gave %s: CPU 0's sync_send, made before the peer "
		     "attached, reaches it only with CPU 0's next sync call",
		     ns_err(r));
	r = ipcc_notify_sync_wait(cpu, 1, PT_LONG);
	cr_assert_eq(r, 0, "CPU 0's sync_wait: %d (%s)", r, strerror(-r));
	pair_stop(&f);
}

/*
 * Three CPUs, all linked, Notify on 0-1 and 1-2 only: CPU 0 syncs with CPU 1 alone while CPU 2
 * has never attached; CPU 1 waits for both.
 */
Test(sync, sync_all_waits_only_for_the_peers_of_notify_links)
{
	struct ns_shape shape = { .cpus = 3 };
	shape.no_notify[0] = 1u << 2;
	struct ipcc_system *sys = ns_create(&shape);
	struct ns_peer p1 = { 0 }, p2 = { 0 };
	ns_peer_start(&p2, sys, 2, 1, true);
	ns_peer_start(&p1, sys, 1, 0, false);
	struct ipcc_cpu *cpu = attach0(sys);

	cr_assert_eq(ipcc_notify_enabled(sys, 0, 1), 1);
	cr_assert_eq(ipcc_notify_enabled(sys, 1, 2), 1);
	cr_assert_eq(ipcc_notify_enabled(sys, 0, 2), 0);
	cr_assert_eq(ipcc_notify_sync_send(cpu, 2), -ENOPROTOOPT);
	cr_assert_eq(ipcc_notify_sync_wait(cpu, 2, 0), -ENOPROTOOPT);

	/* CPU 1 tries while CPU 2 is away: CPU 0 meets it, CPU 1 times out. */
	pt_post(p1.s.cmd, 't');
	int r = ipcc_notify_sync_all(cpu, PT_LONG);
	cr_assert_eq(r, 0,
		     "CPU 0's sync_all with CPU 1 syncing and CPU 2 (no Notify link) "
		     "away: %d (%s)",
		     r, strerror(-r));
	r = ns_peer_answer(&p1, 't');
	cr_assert_eq(r, ETIMEDOUT, "CPU 1's sync_all with CPU 2 away: %s", ns_err(r));

	/* CPU 2 comes: CPU 1's retry (the same round) meets it. */
	pt_script_go(&p2.s);
	pt_post(p2.s.cmd, 's');
	r = ns_peer_cmd(&p1, 's');
	cr_assert_eq(r, 0, "CPU 1's retry: %s", ns_err(r));
	r = ns_peer_answer(&p2, 's');
	cr_assert_eq(r, 0, "CPU 2's sync_all: %s", ns_err(r));

	/* Round 2 of 0-1: CPU 0 waits for CPU 1 only, whatever CPU 2 does. */
	pt_post(p1.s.cmd, 'S');
	cr_assert_eq(ns_peer_answer(&p1, 'S'), 0);
	pt_post(p1.s.cmd, 'W');
	r = ipcc_notify_sync_all(cpu, PT_LONG);
	cr_assert_eq(r, 0, "round 2 of 0-1: %d (%s)", r, strerror(-r));
	r = ns_peer_answer(&p1, 'W');
	cr_assert_eq(r, 0, "round 2 of 0-1, CPU 1's sync_wait: %s", ns_err(r));

	pt_script_stop(&p2.s);
	pt_script_stop(&p1.s);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

/* ---- a sync word behind a full queue --------------------------------------------------- */

/*
 * CPU 1 has an interrupt thread (or an epoll loop in eventfd mode) that drains its values; a
 * thread of CPU 1 waits in sync_all.
 * CPU 0's queue to CPU 1 is full (the drain is held in a callback), so CPU 0's announcement
 * of the round goes without a doorbell entry ("a full queue needs no entry: its flag brings
 * the peer", lib/notify). When the drain goes on, it must wake CPU 1's sync waiter, which saw
 * the round incomplete before it went to sleep.
 */
struct held_drain {
	sem_t entered, release;
	_Atomic unsigned calls;
	struct ipcc_cpu *cpu;
	int result;
	int64_t t_return;
	struct pt_pipe stop; /* ends the epoll loop */
	int loop_error;
};

static void held_cb(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
		    void *arg)
{
	struct held_drain *h = arg;
	(void)cpu, (void)remote, (void)client, (void)value;
	if (atomic_fetch_add(&h->calls, 1) == 0) {
		sem_post(&h->entered);
		while (sem_wait(&h->release) < 0 && errno == EINTR)
			;
	}
}

static void *held_sync_thread(void *arg)
{
	struct held_drain *h = arg;
	h->result = ipcc_notify_sync_all(h->cpu, PT_LONG);
	h->t_return = pt_now_ns();
	return NULL;
}

/* The application's loop of an eventfd-mode CPU 1: poll its fd, dispatch, until told to stop. */
static void *held_loop_thread(void *arg)
{
	struct held_drain *h = arg;
	struct pollfd pfd[2] = { { .fd = ipcc_cpu_fd(h->cpu), .events = POLLIN },
				 { .fd = h->stop.rd, .events = POLLIN } };
	if (pfd[0].fd < 0) {
		h->loop_error = pfd[0].fd;
		return NULL;
	}
	for (;;) {
		int n = poll(pfd, 2, -1);
		if (n < 0 && errno != EINTR) {
			h->loop_error = -errno;
			return NULL;
		}
		if (pfd[1].revents)
			return NULL;
		int r = ipcc_cpu_dispatch(h->cpu);
		if (r < 0) {
			h->loop_error = r;
			return NULL;
		}
	}
}

static void sem_wait_or_fail(sem_t *s, const char *what)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	int r;
	while ((r = sem_timedwait(s, &ts)) < 0 && errno == EINTR)
		;
	cr_assert_eq(r, 0, "%s: %s", what, strerror(errno));
}

static void full_queue_announcement(bool eventfd_loop)
{
	struct ipcc_system *sys = ns_create_all(2);
	uint32_t depth = ipcc_notify_depth(sys);
	struct held_drain h = { .result = 1 };
	pthread_t th;
	sem_init(&h.entered, 0, 0);
	sem_init(&h.release, 0, 0);
	struct ipcc_cpu *c0 = attach0(sys);
	if (eventfd_loop) {
		h.cpu = pt_attach(sys, 1, IPCC_WAIT_EVENTFD, 0);
		h.stop = pt_pipe_new();
	} else {
		h.cpu = pt_attach(sys, 1, IPCC_WAIT_FUTEX, IPCC_CPU_IRQ_THREAD);
	}
	cr_assert_eq(ipcc_notify_register(h.cpu, IPCC_NOTIFY_CLIENT_FIRST, held_cb, &h), 0);
	pthread_t loop;
	if (eventfd_loop)
		cr_assert_eq(pthread_create(&loop, NULL, held_loop_thread, &h), 0);

	/* The interrupt thread takes value 0 and stays in its callback; the queue fills. */
	cr_assert_eq(ipcc_notify_send(c0, 1, IPCC_NOTIFY_CLIENT_FIRST, 0, 0), 0);
	sem_wait_or_fail(&h.entered, "the first callback");
	for (uint32_t i = 1; i < depth; i++)
		cr_assert_eq(ipcc_notify_send(c0, 1, IPCC_NOTIFY_CLIENT_FIRST, i, 0), 0, "value %u",
			     i);
	cr_assert_eq(ipcc_notify_send(c0, 1, IPCC_NOTIFY_CLIENT_FIRST, depth, 0), -EAGAIN,
		     "the queue is not full after %u values", depth);

	cr_assert_eq(pthread_create(&th, NULL, held_sync_thread, &h), 0);
	pt_sleep_ms(100); /* CPU 1 announced, found CPU 0 not there yet, and sleeps */
	int r = ipcc_notify_sync_all(c0, PT_LONG);
	cr_assert_eq(r, 0, "CPU 0's sync_all: %d (%s)", r, strerror(-r));
	int64_t t_release = pt_now_ns();
	sem_post(&h.release);
	pthread_join(th, NULL);
	double late = (double)(h.t_return - t_release) / PT_SEC;
	fprintf(stderr, "sync: CPU 1's sync_all returned %.3f s after the drain was let go on\n",
		late);
	cr_assert_eq(h.result, 0, "CPU 1's sync_all: %d (%s)", h.result, strerror(-h.result));
	/* Its deadline is 10 s: a wait that only its last look at the deadline ends is lost. */
	cr_assert_lt(late, 5.0,
		     "CPU 1's sync_all returned %.1f s after the drain went on, at its deadline: "
		     "CPU 0's announcement went without a doorbell entry (the queue was full) and "
		     "the other drainer (%s) did not wake the sync waiter (a lost wake-up)",
		     late, eventfd_loop ? "an epoll loop" : "the interrupt thread");
	/* The drain goes on beside the returned sync_all: every value reaches the callback. */
	int64_t end = pt_now_ns() + PT_LONG;
	while (atomic_load(&h.calls) < depth && pt_now_ns() < end)
		pt_sleep_ms(1);
	cr_assert_eq(atomic_load(&h.calls), depth, "%u callbacks", atomic_load(&h.calls));
	if (eventfd_loop) {
		pt_post(h.stop, 'x');
		pthread_join(loop, NULL);
		cr_assert_eq(h.loop_error, 0, "the loop: %s", strerror(-h.loop_error));
		close(h.stop.rd);
		close(h.stop.wr);
	}
	ipcc_cpu_detach(h.cpu);
	ipcc_cpu_detach(c0);
	sem_destroy(&h.entered);
	sem_destroy(&h.release);
	ipcc_system_close(sys);
}

Test(sync, a_sync_announced_behind_a_full_queue_wakes_a_waiter_beside_the_irq_thread)
{
	full_queue_announcement(false);
}

Test(sync, a_sync_announced_behind_a_full_queue_wakes_a_waiter_beside_an_epoll_loop)
{
	full_queue_announcement(true);
}

/* ---- a sync_all beside a flood ----------------------------------------------------------- */

/*
 * CPU 1 has no interrupt thread: the thread in its sync_all is its drainer, and runs the
 * callbacks of the values CPU 0 floods it with. CPU 0 reached the round long before; CPU 1's
 * sync_all must return while the flood goes on, not only when it stops: a drain that keeps
 * taking new values must not keep the waiter from looking at its condition.
 */
#define FLOOD_NS (3 * PT_SEC)

struct flood_side {
	struct ipcc_cpu *cpu;
	_Atomic bool stop;
	_Atomic uint64_t sent, got;
	int64_t t_end;
};

static void flood_cb(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
		     void *arg)
{
	struct flood_side *f = arg;
	(void)cpu, (void)remote, (void)client, (void)value;
	/* Relaxed: a counter for the log. */
	atomic_fetch_add_explicit(&f->got, 1, memory_order_relaxed);
	/* A callback slower than the sender: the queue refills while the drain runs it. */
	int64_t until = pt_now_ns() + 20 * 1000;
	while (pt_now_ns() < until)
		;
}

static void *flood_thread(void *arg)
{
	struct flood_side *f = arg;
	uint32_t v = 0;
	while (!atomic_load(&f->stop) && pt_now_ns() < f->t_end)
		if (ipcc_notify_send(f->cpu, 1, IPCC_NOTIFY_CLIENT_FIRST, v, 0) == 0) {
			v = (v + 1) & IPCC_NOTIFY_VALUE_MAX;
			atomic_fetch_add_explicit(&f->sent, 1, memory_order_relaxed);
		}
	return NULL;
}

Test(sync, a_sync_all_returns_while_a_peer_floods_its_drainer)
{
	struct ipcc_system *sys = ns_create_all(2);
	struct flood_side f = { 0 };
	pthread_t th;
	f.cpu = attach0(sys);
	struct ipcc_cpu *c1 = pt_attach(sys, 1, IPCC_WAIT_FUTEX, 0);
	cr_assert_eq(ipcc_notify_register(c1, IPCC_NOTIFY_CLIENT_FIRST, flood_cb, &f), 0);
	/* CPU 0 reaches round 1 first. */
	int r = ipcc_notify_sync_all(f.cpu, 0);
	cr_assert(r == -EAGAIN || r == -ETIMEDOUT, "CPU 0 alone: %d (%s)", r, strerror(-r));

	int64_t t0 = pt_now_ns();
	f.t_end = t0 + FLOOD_NS;
	cr_assert_eq(pthread_create(&th, NULL, flood_thread, &f), 0);
	pt_sleep_ms(50); /* the flood is on */
	int64_t t1 = pt_now_ns();
	r = ipcc_notify_sync_all(c1, PT_LONG);
	int64_t t2 = pt_now_ns();
	atomic_store(&f.stop, true);
	pthread_join(th, NULL);
	fprintf(stderr,
		"sync: CPU 1's sync_all beside a flood returned after %.1f ms (the flood ran %.0f "
		"ms: %llu values sent, %llu taken)\n",
		(double)(t2 - t1) / PT_MS, (double)(pt_now_ns() - t0) / PT_MS,
		(unsigned long long)atomic_load(&f.sent), (unsigned long long)atomic_load(&f.got));
	cr_assert_eq(r, 0, "CPU 1's sync_all: %d (%s)", r, strerror(-r));
	cr_assert_lt(t2, f.t_end,
		     "CPU 1's sync_all returned only when the flood stopped (%.0f ms after it "
		     "was called): its drain kept taking values and never let it look at the round",
		     (double)(t2 - t1) / PT_MS);
	r = ipcc_notify_sync_all(f.cpu, PT_LONG);
	cr_assert_eq(r, 0, "CPU 0's retry: %d (%s)", r, strerror(-r));
	ipcc_cpu_detach(c1);
	ipcc_cpu_detach(f.cpu);
	ipcc_system_close(sys);
}

/* ---- waits that sleep: no polling with a period ----------------------------------------- */

/* Voluntary context switches of the calling thread so far. */
static long nvcsw(void)
{
	struct rusage ru;
	cr_assert_eq(getrusage(RUSAGE_THREAD, &ru), 0, "getrusage: %s", strerror(errno));
	return ru.ru_nvcsw;
}

/*
 * A wait that nothing ends sleeps until its timeout: a poller with a period would wake up (and
 * switch) every period. A few wake-ups are allowed, for the wait's own setup.
 */
#define NS_WAKEUPS_MAX 10

static void sleeps_without_polling(enum ipcc_wait_mode mode, bool sync)
{
	struct ipcc_system *sys = ns_create_all(2);
	struct ns_peer p = { 0 };
	/* For sync_all an attached peer that never syncs; for wait_peer none. */
	if (sync)
		ns_peer_start(&p, sys, 1, 0, false);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, mode, 0);
	long before = nvcsw();
	int r = sync ? ipcc_notify_sync_all(cpu, NS_SHORT) : ipcc_cpu_wait_peer(cpu, 1, NS_SHORT);
	long switches = nvcsw() - before;
	cr_assert_eq(r, -ETIMEDOUT, "%s: %d (%s)", sync ? "sync_all" : "wait_peer", r,
		     strerror(-r));
	fprintf(stderr, "%s, %s: %ld voluntary context switches in a %.0f ms wait\n",
		sync ? "sync_all" : "wait_peer", pt_mode_name(mode), switches,
		(double)NS_SHORT / PT_MS);
	cr_assert_leq(switches, NS_WAKEUPS_MAX,
		      "%s in %s mode woke %ld times in %.0f ms with nothing to wake it for: it "
		      "polls",
		      sync ? "sync_all" : "wait_peer", pt_mode_name(mode), switches,
		      (double)NS_SHORT / PT_MS);
	if (sync)
		pt_script_stop(&p.s);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

Test(sync, a_waiting_sync_all_sleeps_without_polling_futex)
{
	sleeps_without_polling(IPCC_WAIT_FUTEX, true);
}

Test(sync, a_waiting_sync_all_sleeps_without_polling_eventfd)
{
	sleeps_without_polling(IPCC_WAIT_EVENTFD, true);
}

Test(wait_peer, a_wait_for_an_absent_peer_sleeps_without_polling_futex)
{
	sleeps_without_polling(IPCC_WAIT_FUTEX, false);
}

Test(wait_peer, a_wait_for_an_absent_peer_sleeps_without_polling_eventfd)
{
	sleeps_without_polling(IPCC_WAIT_EVENTFD, false);
}

/* ---- errors, in one process ---------------------------------------------------------------- */

static struct ipcc_cpu *stale_cpu;

/*
 * In a fork child: wait_peer on the inherited handle is -ESTALE, and so is every sync call
 * when arg is not NULL (the system has Notify on link 0-1).
 */
static int stale_child(void *arg)
{
	PEER_CHECK(ipcc_cpu_wait_peer(stale_cpu, 1, 0) == -ESTALE, "wait_peer");
	if (arg) {
		PEER_CHECK(ipcc_notify_sync_all(stale_cpu, 0) == -ESTALE, "sync_all");
		PEER_CHECK(ipcc_notify_sync_send(stale_cpu, 1) == -ESTALE, "sync_send");
		PEER_CHECK(ipcc_notify_sync_wait(stale_cpu, 1, 0) == -ESTALE, "sync_wait");
	}
	ipcc_cpu_detach(stale_cpu);
	return 0;
}

/*
 * Three CPUs of this process: link 0-1 with Notify, 1-2 without, no link 0-2. The pairwise
 * rounds are exact here: a CPU's timed-out sync_all has told its peer it reached the round.
 */
Test(sync, bad_arguments_and_cpus_without_notify_get_their_errors)
{
	struct ns_shape shape = { .cpus = 3 };
	shape.unlinked[0] = 1u << 2;
	shape.no_notify[1] = 1u << 2;
	struct ipcc_system *sys = ns_create(&shape);
	struct ipcc_cpu *c0 = attach0(sys);
	struct ipcc_cpu *c1 = pt_attach(sys, 1, IPCC_WAIT_FUTEX, 0);
	struct ipcc_cpu *c2 = pt_attach(sys, 2, IPCC_WAIT_FUTEX, 0);

	cr_assert_eq(ipcc_notify_sync_all(NULL, 0), -EINVAL);
	cr_assert_eq(ipcc_notify_sync_send(NULL, 1), -EINVAL);
	cr_assert_eq(ipcc_notify_sync_wait(NULL, 1, 0), -EINVAL);
	cr_assert_eq(ipcc_notify_sync_all(c2, 0), -ENOPROTOOPT, "CPU 2 has no Notify link");
	cr_assert_eq(ipcc_notify_sync_all(c2, PT_LONG), -ENOPROTOOPT);
	cr_assert_eq(ipcc_notify_sync_send(c0, 0), -EINVAL, "itself");
	cr_assert_eq(ipcc_notify_sync_wait(c0, 0, 0), -EINVAL, "itself");
	cr_assert_eq(ipcc_notify_sync_send(c0, 3), -EINVAL, "no CPU 3");
	cr_assert_eq(ipcc_notify_sync_wait(c0, 3, 0), -EINVAL, "no CPU 3");
	cr_assert_eq(ipcc_notify_sync_send(c0, IPCC_CPUS_MAX), -EINVAL);
	cr_assert_eq(ipcc_notify_sync_send(c0, 2), -ENOENT, "no link 0-2");
	cr_assert_eq(ipcc_notify_sync_wait(c0, 2, 0), -ENOENT, "no link 0-2");
	cr_assert_eq(ipcc_notify_sync_send(c1, 2), -ENOPROTOOPT, "link 1-2 without Notify");
	cr_assert_eq(ipcc_notify_sync_wait(c1, 2, 0), -ENOPROTOOPT, "link 1-2 without Notify");

	/* CPU 0 reaches round 1 and gives up at once; a pending interrupt ends its retry. */
	int r = ipcc_notify_sync_all(c0, 0);
	cr_assert(r == -EAGAIN || r == -ETIMEDOUT, "sync_all, timeout 0: %d (%s)", r, strerror(-r));
	cr_assert_eq(ipcc_cpu_interrupt(c0), 0);
	r = ipcc_notify_sync_all(c0, PT_LONG);
	cr_assert_eq(r, -EINTR, "sync_all with an interrupt pending: %d (%s)", r, strerror(-r));
	cr_assert_eq(ipcc_cpu_interrupt(c0), 0);
	r = ipcc_notify_sync_wait(c0, 1, PT_LONG);
	cr_assert_eq(r, -EINTR, "sync_wait with an interrupt pending: %d (%s)", r, strerror(-r));
	/* CPU 1 finds CPU 0 there: no need to wait, even with timeout 0. */
	r = ipcc_notify_sync_all(c1, 0);
	cr_assert_eq(r, 0, "CPU 1's sync_all after CPU 0's timed-out one: %d (%s)", r,
		     strerror(-r));
	r = ipcc_notify_sync_all(c0, 0);
	cr_assert_eq(r, 0, "CPU 0's retry after CPU 1's sync_all: %d (%s)", r, strerror(-r));
	r = ipcc_notify_sync_all(c1, 0);
	cr_assert(r == -EAGAIN || r == -ETIMEDOUT, "round 2, CPU 1 alone: %d (%s)", r,
		  strerror(-r));

	stale_cpu = c0;
	pt_expect_exit0(pt_fork(stale_child, sys, 20), PT_LONG, "the fork child");

	ipcc_cpu_detach(c2);
	ipcc_cpu_detach(c1);
	ipcc_cpu_detach(c0);
	ipcc_system_close(sys);
}

/* ---- ipcc_cpu_wait_peer ------------------------------------------------------------------ */

/*
 * A peer that attaches CPU `id` when told ('g'), `delay_ms` later, writing the time just before
 * its attach to t[0] and just after to t[1]; then it waits for 'x' (detach, exit) or 'k' (kill -9
 * itself).
 */
struct late_peer {
	struct pt_script s;
	unsigned id, delay_ms;
	_Atomic int64_t *t;
};

static int late_peer_main(void *arg)
{
	struct late_peer *p = arg;
	struct ipcc_system *sys;
	PEER_CHECK(pt_await(p->s.cmd, 30 * PT_SEC) == 'g', "no go");
	pt_sleep_ms(p->delay_ms);
	/* Seq_cst: the test compares its own clock with these after its wait returned. */
	atomic_store(&p->t[0], pt_now_ns());
	struct ipcc_cpu *cpu = peer_attach(p->s.name, p->id, p->s.mode, 0, &sys);
	atomic_store(&p->t[1], pt_now_ns());
	pt_post(p->s.ack, 'a');
	int c = pt_await(p->s.cmd, 30 * PT_SEC);
	if (c == 'k')
		kill(getpid(), SIGKILL);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

static void late_peer_fork(struct late_peer *p, struct ipcc_system *sys, unsigned id,
			   unsigned delay_ms)
{
	p->id = id;
	p->delay_ms = delay_ms;
	p->t = pt_shared(2 * sizeof(*p->t));
	pt_script_fork(&p->s, ipcc_system_name(sys), IPCC_WAIT_FUTEX, true, late_peer_main, 60);
}

/* Tell the late peer to attach and wait for it on `cpu`: 0, after its attach began. */
static void wait_for_late_peer(struct late_peer *p, struct ipcc_cpu *cpu, const char *what)
{
	pt_post(p->s.cmd, 'g');
	int64_t t0 = pt_now_ns();
	int r = ipcc_cpu_wait_peer(cpu, p->id, PT_LONG);
	int64_t t = pt_now_ns();
	cr_assert_eq(r, 0, "%s: wait_peer: %d (%s)", what, r, strerror(-r));
	int64_t before = atomic_load(&p->t[0]), after = atomic_load(&p->t[1]);
	cr_assert(before && t >= before, "%s: wait_peer returned before the peer attached", what);
	fprintf(stderr,
		"wait_peer: %s: returned %.1f ms after the wait began, %.2f ms after the "
		"peer's attach returned\n",
		what, (double)(t - t0) / PT_MS, after ? (double)(t - after) / PT_MS : -1.0);
	cr_assert_eq(pt_await(p->s.ack, PT_LONG), 'a', "%s: the peer's attach", what);
}

Test(wait_peer, returns_at_once_for_an_attached_peer)
{
	struct ipcc_system *sys = pt_create(2, 2, 64);
	struct ns_peer p = { 0 };
	ns_peer_start(&p, sys, 1, 0, false);
	struct ipcc_cpu *cpu = attach0(sys);
	cr_assert_eq(ipcc_cpu_wait_peer(cpu, 1, 0), 0);
	int64_t t0 = pt_now_ns();
	cr_assert_eq(ipcc_cpu_wait_peer(cpu, 1, PT_LONG), 0);
	cr_assert_lt(pt_now_ns() - t0, PT_SEC, "wait_peer on an attached peer took %.0f ms",
		     (double)(pt_now_ns() - t0) / PT_MS);
	pt_script_stop(&p.s);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

static void waits_for_a_late_peer(enum ipcc_wait_mode mode)
{
	struct ipcc_system *sys = pt_create(2, 2, 64);
	struct late_peer p = { 0 };
	late_peer_fork(&p, sys, 1, 100);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, mode, 0);
	wait_for_late_peer(&p, cpu, pt_mode_name(mode));
	pt_post(p.s.cmd, 'x');
	pt_expect_exit0(p.s.pid, PT_LONG, "the peer");
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

Test(wait_peer, waits_for_a_peer_that_attaches_100_ms_later_futex)
{
	waits_for_a_late_peer(IPCC_WAIT_FUTEX);
}

Test(wait_peer, waits_for_a_peer_that_attaches_100_ms_later_eventfd)
{
	waits_for_a_late_peer(IPCC_WAIT_EVENTFD);
}

Test(wait_peer, a_crashed_peer_is_waited_for_until_a_new_process_attaches_it)
{
	struct ipcc_system *sys = pt_create(2, 2, 64);
	struct late_peer a = { 0 }, b = { 0 };
	late_peer_fork(&a, sys, 1, 0);
	late_peer_fork(&b, sys, 1, 100);
	struct ipcc_cpu *cpu = attach0(sys);

	wait_for_late_peer(&a, cpu, "the first incarnation");
	pt_post(a.s.cmd, 'k');
	int st = pt_reap(a.s.pid, PT_LONG);
	cr_assert(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "the peer's kill -9");
	cr_assert_eq(ipcc_cpu_peer_alive(cpu, 1), -EPIPE, "the peer died without detaching");

	int r = ipcc_cpu_wait_peer(cpu, 1, 0);
	cr_assert_eq(r, -EAGAIN, "wait_peer, timeout 0, on a dead peer: %d (%s)", r, strerror(-r));
	int64_t t0 = pt_now_ns();
	r = ipcc_cpu_wait_peer(cpu, 1, NS_SHORT);
	cr_assert_eq(r, -ETIMEDOUT, "wait_peer on a dead peer: %d (%s), want it waited for", r,
		     strerror(-r));
	cr_assert_geq(pt_now_ns() - t0, NS_SHORT, "timed out early");
	wait_for_late_peer(&b, cpu, "the restarted peer");
	pt_post(b.s.cmd, 'x');
	pt_expect_exit0(b.s.pid, PT_LONG, "the restarted peer");

	/* Detached cleanly: waited for the same way. */
	r = ipcc_cpu_wait_peer(cpu, 1, 0);
	cr_assert_eq(r, -EAGAIN, "wait_peer, timeout 0, on a detached peer: %d (%s)", r,
		     strerror(-r));
	r = ipcc_cpu_wait_peer(cpu, 1, NS_SHORT);
	cr_assert_eq(r, -ETIMEDOUT, "wait_peer on a detached peer: %d (%s)", r, strerror(-r));
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

Test(wait_peer, bad_arguments_timeouts_and_interrupts_get_their_errors)
{
	struct ipcc_config cfg;
	struct ipcc_system *sys = NULL;
	ipcc_config_init(&cfg);
	cfg.cpus = 3;
	cfg.channels = 2;
	cfg.buffer_size = 64;
	cr_assert_eq(ipcc_config_link(&cfg, 0, 2, false), 0);
	cr_assert_eq(ipcc_system_create(pt_name(), &cfg, &sys), 0);
	struct ipcc_cpu *cpu = attach0(sys);

	cr_assert_eq(ipcc_cpu_wait_peer(NULL, 1, 0), -EINVAL);
	cr_assert_eq(ipcc_cpu_wait_peer(cpu, 0, 0), -EINVAL, "itself");
	cr_assert_eq(ipcc_cpu_wait_peer(cpu, 3, 0), -EINVAL, "no CPU 3");
	cr_assert_eq(ipcc_cpu_wait_peer(cpu, IPCC_CPUS_MAX, 0), -EINVAL);
	cr_assert_eq(ipcc_cpu_wait_peer(cpu, 2, 0), -ENOENT, "no link 0-2");
	cr_assert_eq(ipcc_cpu_wait_peer(cpu, 1, 0), -EAGAIN, "never attached, timeout 0");
	int64_t t0 = pt_now_ns();
	int r = ipcc_cpu_wait_peer(cpu, 1, NS_SHORT);
	cr_assert_eq(r, -ETIMEDOUT, "never attached: %d (%s)", r, strerror(-r));
	cr_assert_geq(pt_now_ns() - t0, NS_SHORT, "timed out early");
	cr_assert_eq(ipcc_cpu_interrupt(cpu), 0);
	r = ipcc_cpu_wait_peer(cpu, 1, PT_LONG);
	cr_assert_eq(r, -EINTR, "with an interrupt pending: %d (%s)", r, strerror(-r));
	/* Consumed: the next wait times out again. */
	cr_assert_eq(ipcc_cpu_wait_peer(cpu, 1, 10 * PT_MS), -ETIMEDOUT);

	stale_cpu = cpu;
	pt_expect_exit0(pt_fork(stale_child, NULL, 20), PT_LONG, "the fork child");
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}
