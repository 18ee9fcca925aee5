/* SPDX-License-Identifier: MIT */
/*
 * IPC Notify's flow control between real processes: a full queue blocks the sender until the
 * receiver drains it, timeouts end such waits within bounds, a receiver killed with SIGKILL
 * while senders wait ends their waits with -EPIPE and a restarted receiver gets what was
 * queued while the senders resume, many senders to one CPU are served fairly, and a blocking
 * ipcc_notify_recv consumer keeps up with a blocking sender. Every value carries its per-pair
 * sequence number and the receiver checks it.
 *
 * Peers are scripted (proc-test.h: pt_script): forked before the test attaches a CPU of its
 * own, they attach, say 'a', and act on command bytes, so the test decides when a receiver
 * starts draining, when it dies and when its successor attaches.
 */
#include "notify-test.h"

#define DEPTH IPCC_NOTIFY_DEPTH_DEFAULT

static void teardown(void)
{
	pt_cleanup();
}

TestSuite(notify_flow, .fini = teardown, .timeout = 90);

/* A scripted receiver: the pt_script first, so that fn's argument is both. */
struct rx_peer {
	struct pt_script s;
	unsigned id;	    /* the CPU it attaches */
	uint64_t count;	    /* values per sender to take before it leaves */
	unsigned sleep_ms;  /* after 'g', before it drains */
	unsigned senders;   /* bit k: CPU k sends to it (client NT_CLIENT + k) */
	struct nt_seq *seq; /* [sender], in shared memory */
	_Atomic int *draining;
};

static void rx_fn(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value, void *arg)
{
	struct nt_seq *s = arg;
	(void)cpu;
	if (client != NT_CLIENT + remote)
		nt_seq_error(&s->client, 1);
	nt_seq_take(s, value);
}

static bool rx_all(void *p)
{
	struct rx_peer *r = p;
	for (unsigned k = 0; k < 32; k++)
		if (r->senders >> k & 1) {
			PEER_CHECK(nt_seq_ok(&r->seq[k]), "CPU %u from %u: " NT_SEQ_FMT, r->id, k,
				   NT_SEQ_ARGS(&r->seq[k]));
			if (nt_seq_next(&r->seq[k]) < r->count)
				return false;
		}
	return true;
}

static struct ipcc_cpu *rx_attach(struct rx_peer *r, struct ipcc_system **sys)
{
	struct ipcc_cpu *cpu = peer_attach(r->s.name, r->id, r->s.mode, 0, sys);
	for (unsigned k = 0; k < 32; k++)
		if (r->senders >> k & 1) {
			int rc = ipcc_notify_register(cpu, NT_CLIENT + k, rx_fn, &r->seq[k]);
			PEER_CHECK(rc == 0, "register client %u: %s", NT_CLIENT + k, strerror(-rc));
		}
	return cpu;
}

/* Attach, 'a'; wait for 'g', sleep, then drain everything and leave. */
static int rx_later_main(void *p)
{
	struct rx_peer *r = p;
	struct ipcc_system *sys;
	pt_script_wait_go(&r->s);
	struct ipcc_cpu *cpu = rx_attach(r, &sys);
	pt_post(r->s.ack, 'a');
	PEER_CHECK(pt_await(r->s.cmd, 30 * PT_SEC) == 'g', "no go from the test");
	pt_sleep_ms(r->sleep_ms);
	if (r->draining)
		atomic_store_explicit(r->draining, 1, memory_order_release); /* test's acquire */
	int rc = nt_drain(cpu, rx_all, r, 60 * PT_SEC);
	PEER_CHECK(rc == 0, "CPU %u: drain: %s", r->id, strerror(-rc));
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

/* A restarted receiver: attach when the test says so, 'a', drain everything, leave. */
static int rx_restart_main(void *p)
{
	struct rx_peer *r = p;
	struct ipcc_system *sys;
	pt_script_wait_go(&r->s);
	struct ipcc_cpu *cpu = rx_attach(r, &sys);
	pt_post(r->s.ack, 'a');
	int rc = nt_drain(cpu, rx_all, r, 60 * PT_SEC);
	PEER_CHECK(rc == 0, "CPU %u: drain: %s", r->id, strerror(-rc));
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

/*
 * Attach, 'a', then commands: 'd' drains until `count` values arrived from every sender
 * (answer 'k'), 't' checks that a 50 ms recv on an empty client times out ('k'), 'x' leaves.
 * It never drains otherwise: a sender to it finds its queue full.
 */
static int rx_cmd_main(void *p)
{
	struct rx_peer *r = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = rx_attach(r, &sys);
	pt_post(r->s.ack, 'a');
	for (;;) {
		int c = pt_await(r->s.cmd, 60 * PT_SEC);
		PEER_CHECK(c >= 0, "no command from the test");
		if (c == 'x')
			break;
		if (c == 'd') {
			int rc = nt_drain(cpu, rx_all, r, 30 * PT_SEC);
			PEER_CHECK(rc == 0, "CPU %u: drain: %s", r->id, strerror(-rc));
		} else if (c == 't') {
			uint32_t v;
			int64_t t0 = pt_now_ns();
			int rc = ipcc_notify_recv(cpu, NT_CLIENT + 9, &v, NULL, 50 * PT_MS);
			int64_t el = pt_now_ns() - t0;
			PEER_CHECK(rc == -ETIMEDOUT, "50 ms recv: %d (%s)", rc, strerror(-rc));
			PEER_CHECK(el >= 50 * PT_MS && el < PT_LONG, "50 ms recv took %.1f ms",
				   (double)el / PT_MS);
		}
		pt_post(r->s.ack, 'k');
	}
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

static struct nt_seq *shared_seqs(void)
{
	return pt_shared(sizeof(struct nt_seq) * IPCC_NOTIFY_CLIENTS);
}

static int send_seq(struct ipcc_cpu *cpu, unsigned to, uint64_t from_seq, uint64_t count,
		    int64_t timeout_ns)
{
	for (uint64_t i = from_seq; i < count; i++) {
		int r = ipcc_notify_send(cpu, to, NT_CLIENT + ipcc_cpu_id(cpu), nt_value(i),
					 timeout_ns);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- a full queue blocks, and resumes ---------------------------------------------------- */

ParameterizedTestParameters(notify_flow, a_full_queue_blocks_the_sender_until_the_receiver_drains)
{
	return NT_MODES_PARAMS;
}

ParameterizedTest(enum ipcc_wait_mode *mode, notify_flow,
		  a_full_queue_blocks_the_sender_until_the_receiver_drains)
{
	const uint64_t count = pt_count(*mode, 5000);
	struct ipcc_system *sys = nt_system(2, DEPTH);
	_Atomic int *draining = pt_shared(sizeof(*draining));
	struct rx_peer r = { .id = 1,
			     .count = count,
			     .sleep_ms = 200,
			     .senders = 1u << 0,
			     .seq = shared_seqs(),
			     .draining = draining };
	pt_script_start(&r.s, ipcc_system_name(sys), *mode, rx_later_main, 60);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, *mode, 0);

	cr_assert_eq(send_seq(cpu, 1, 0, DEPTH, 0), 0, "filling an empty queue");
	cr_assert_eq(ipcc_notify_send(cpu, 1, NT_CLIENT, nt_value(DEPTH), 0), -EAGAIN);
	pt_post(r.s.cmd, 'g'); /* the receiver sleeps 200 ms, then drains */
	int64_t t0 = pt_now_ns();
	int rc = ipcc_notify_send(cpu, 1, NT_CLIENT, nt_value(DEPTH), PT_LONG);
	int64_t blocked = pt_now_ns() - t0;
	cr_assert_eq(rc, 0, "the send waiting for room: %s%s", strerror(-rc),
		     pt_peer_note(r.s.pid));
	/* Pairs with the receiver's release store before it drains. */
	cr_assert(atomic_load_explicit(draining, memory_order_acquire),
		  "the send to a full queue returned before the receiver began to drain");
	fprintf(stderr, "notify flow: %s: a send to a full queue waited %.1f ms for the drain\n",
		pt_mode_name(*mode), (double)blocked / PT_MS);

	rc = send_seq(cpu, 1, DEPTH + 1, count, PT_LONG);
	cr_assert_eq(rc, 0, "sending on: %s%s", strerror(-rc), pt_peer_note(r.s.pid));
	pt_expect_exit0(r.s.pid, 60 * PT_SEC, "receiver");
	nt_expect_pair(sys, &r.seq[0], 0, 1, count);
	cr_assert_geq(nt_stats(sys, 0, 1).full, 2u, "the sends that found the queue full");
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

/* ---- timeouts ---------------------------------------------------------------------------- */

ParameterizedTestParameters(notify_flow, a_send_to_a_full_queue_times_out_within_bounds)
{
	return NT_MODES_PARAMS;
}

ParameterizedTest(enum ipcc_wait_mode *mode, notify_flow,
		  a_send_to_a_full_queue_times_out_within_bounds)
{
	static const int64_t timeouts[] = { 20 * PT_MS, 100 * PT_MS };
	struct ipcc_system *sys = nt_system(2, DEPTH);
	struct rx_peer r = { .id = 1, .count = DEPTH, .senders = 1u << 0, .seq = shared_seqs() };
	pt_script_start(&r.s, ipcc_system_name(sys), *mode, rx_cmd_main, 60);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, *mode, 0);

	cr_assert_eq(send_seq(cpu, 1, 0, DEPTH, 0), 0, "filling an empty queue");
	int64_t t0 = pt_now_ns();
	cr_assert_eq(ipcc_notify_send(cpu, 1, NT_CLIENT, nt_value(DEPTH), 0), -EAGAIN);
	cr_assert_lt(pt_now_ns() - t0, PT_SEC, "timeout 0 blocked");
	for (unsigned i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++) {
		int64_t to = timeouts[i];
		t0 = pt_now_ns();
		int rc = ipcc_notify_send(cpu, 1, NT_CLIENT, nt_value(DEPTH), to);
		int64_t el = pt_now_ns() - t0;
		cr_assert_eq(rc, -ETIMEDOUT, "%.0f ms send to a full queue: %d (%s)",
			     (double)to / PT_MS, rc, strerror(-rc));
		cr_assert_geq(el, to, "the %.0f ms send returned after %.1f ms", (double)to / PT_MS,
			      (double)el / PT_MS);
		cr_assert_lt(el, to + 2 * PT_SEC, "the %.0f ms send returned after %.1f ms",
			     (double)to / PT_MS, (double)el / PT_MS);
		fprintf(stderr, "notify flow: %s: a %.0f ms send to a full queue took %.1f ms\n",
			pt_mode_name(*mode), (double)to / PT_MS, (double)el / PT_MS);
	}
	struct ipcc_notify_stats st = nt_stats(sys, 0, 1);
	cr_assert_eq(st.full, 3u, "full %llu after three refused sends",
		     (unsigned long long)st.full);
	cr_assert_eq(st.sent, (uint64_t)DEPTH);
	cr_assert_eq(st.fill, DEPTH);
	cr_assert_eq(pt_script_cmd(&r.s, 't'), 'k', "the receiver's recv timeout");

	/* Nothing a timed-out send left behind: the receiver gets exactly the first DEPTH. */
	cr_assert_eq(pt_script_cmd(&r.s, 'd'), 'k');
	cr_assert_eq(ipcc_notify_send(cpu, 1, NT_CLIENT, nt_value(DEPTH), PT_LONG), 0);
	pt_script_stop(&r.s);
	cr_assert(nt_seq_ok(&r.seq[0]), NT_SEQ_FMT, NT_SEQ_ARGS(&r.seq[0]));
	cr_assert_eq(nt_stats(sys, 0, 1).sent, (uint64_t)DEPTH + 1);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

/* ---- a receiver killed while senders wait -------------------------------------------------- */

#define KILL_COUNT (4 * DEPTH) /* values per sender, DEPTH of them queued before the kill */

struct tx_peer {
	struct pt_script s;
	unsigned id, to;
	uint64_t count;	       /* tx_flood_main: values to send */
	_Atomic int rc;	       /* the send that waited when the receiver died */
	_Atomic int64_t t_ret; /* when it returned */
};

/* Attach, 'a'; on 'g' fill the queue, 'f', wait for room; 'e'; on 'r' send the rest. */
static int tx_kill_main(void *p)
{
	struct tx_peer *t = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach(t->s.name, t->id, t->s.mode, 0, &sys);
	pt_post(t->s.ack, 'a');
	PEER_CHECK(pt_await(t->s.cmd, 30 * PT_SEC) == 'g', "no go from the test");
	int rc = send_seq(cpu, t->to, 0, DEPTH, 0);
	PEER_CHECK(rc == 0, "CPU %u: filling: %s", t->id, strerror(-rc));
	pt_post(t->s.ack, 'f');
	rc = ipcc_notify_send(cpu, t->to, NT_CLIENT + t->id, nt_value(DEPTH), 30 * PT_SEC);
	/* Relaxed: the test reads both after the 'e' through the pipe. */
	atomic_store_explicit(&t->t_ret, pt_now_ns(), memory_order_relaxed);
	atomic_store_explicit(&t->rc, rc, memory_order_relaxed);
	pt_post(t->s.ack, 'e');
	PEER_CHECK(pt_await(t->s.cmd, 30 * PT_SEC) == 'r', "no resume from the test");
	/* The value of the failed send was not queued: send it again, then the rest. */
	rc = send_seq(cpu, t->to, DEPTH, KILL_COUNT, 30 * PT_SEC);
	PEER_CHECK(rc == 0, "CPU %u: sending to the restarted receiver: %s", t->id, strerror(-rc));
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

ParameterizedTestParameters(notify_flow,
			    a_receiver_killed_while_senders_wait_gives_epipe_and_a_restart_resumes)
{
	return NT_MODES_PARAMS;
}

ParameterizedTest(enum ipcc_wait_mode *mode, notify_flow,
		  a_receiver_killed_while_senders_wait_gives_epipe_and_a_restart_resumes)
{
	/* CPUs 0 and 2 send to CPU 1. */
	struct ipcc_system *sys = nt_system(3, DEPTH);
	const char *name = ipcc_system_name(sys);
	struct nt_seq *seq = shared_seqs();
	struct rx_peer dead = { .id = 1, .count = KILL_COUNT, .senders = 0x5, .seq = seq };
	struct rx_peer again = { .id = 1, .count = KILL_COUNT, .senders = 0x5, .seq = seq };
	struct tx_peer *tx = pt_shared(2 * sizeof(*tx));
	tx[0].id = 0;
	tx[1].id = 2;

	/* Every process is forked first: the test attaches nothing and has no threads. */
	pt_script_fork(&again.s, name, *mode, true, rx_restart_main, 60);
	pt_script_start(&dead.s, name, *mode, rx_cmd_main, 60);
	for (unsigned k = 0; k < 2; k++) {
		tx[k].to = 1;
		pt_script_start(&tx[k].s, name, *mode, tx_kill_main, 60);
	}
	for (unsigned k = 0; k < 2; k++)
		pt_post(tx[k].s.cmd, 'g');
	for (unsigned k = 0; k < 2; k++)
		cr_assert_eq(pt_await(tx[k].s.ack, PT_LONG), 'f', "CPU %u did not fill its queue",
			     tx[k].id);
	pt_sleep_ms(200); /* both are waiting for room by now */
	for (unsigned k = 0; k < 2; k++)
		cr_assert_eq(nt_stats(sys, tx[k].id, 1).fill, DEPTH);

	int64_t t_kill = pt_now_ns();
	cr_assert_eq(kill(dead.s.pid, SIGKILL), 0);
	for (unsigned k = 0; k < 2; k++) {
		cr_assert_eq(pt_await(tx[k].s.ack, 5 * PT_SEC), 'e',
			     "CPU %u's wait did not end within 5 s of the kill", tx[k].id);
		int rc = atomic_load_explicit(&tx[k].rc, memory_order_relaxed);
		double ms = (double)(atomic_load_explicit(&tx[k].t_ret, memory_order_relaxed) -
				     t_kill) /
			    PT_MS;
		fprintf(stderr,
			"notify flow: %s: CPU %u waiting on a full queue got %s %.1f ms after "
			"the receiver's kill -9 (target 100 ms)\n",
			pt_mode_name(*mode), tx[k].id, rc == -EPIPE ? "-EPIPE" : strerror(-rc), ms);
		cr_assert_eq(rc, -EPIPE, "CPU %u: %d (%s), not -EPIPE", tx[k].id, rc,
			     strerror(-rc));
		cr_assert_lt(ms, 1000.0, "CPU %u: -EPIPE only %.1f ms after the kill", tx[k].id,
			     ms);
	}
	int st = pt_reap(dead.s.pid, PT_LONG);
	cr_assert(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	/* The queued values wait in the object for the next incarnation of CPU 1. */
	for (unsigned k = 0; k < 2; k++)
		cr_assert_eq(nt_stats(sys, tx[k].id, 1).fill, DEPTH, "CPU %u's queue", tx[k].id);
	pt_script_go(&again.s);
	for (unsigned k = 0; k < 2; k++)
		pt_post(tx[k].s.cmd, 'r');
	for (unsigned k = 0; k < 2; k++)
		pt_expect_exit0(tx[k].s.pid, 60 * PT_SEC, "sender");
	pt_expect_exit0(again.s.pid, 60 * PT_SEC, "restarted receiver");
	for (unsigned k = 0; k < 2; k++)
		nt_expect_pair(sys, &seq[tx[k].id], tx[k].id, 1, KILL_COUNT);
	ipcc_system_close(sys);
}

/* ---- fairness -------------------------------------------------------------------------- */

#define FAIR_SENDERS 3u
#define FAIR_COUNT   5000u
#define FAIR_COST_NS 10000 /* the receiver's work per value: it is slower than the senders */

struct fair_shared {
	_Atomic unsigned ready;
	struct nt_seq seq[FAIR_SENDERS + 1]; /* [sender] */
	/* Per sender, the most values of others taken in a row while it waited (fair_fn). */
	uint64_t max_gap_busy[FAIR_SENDERS + 1];
	/* The same whatever its queue held, between its first and its last value. */
	uint64_t max_gap[FAIR_SENDERS + 1];
	uint64_t taken, contended; /* values; those taken while another sender waited */
	uint64_t stats_errors;
};

struct fair_rx {
	struct ipcc_system *sys;
	struct fair_shared *sh;
	struct ipcc_regs *regs[FAIR_SENDERS + 1]; /* link 0-k: CPU 0 is processor 1 */
	uint32_t flag;				  /* the Notify channel's bit in C2TOC1SR */
	uint64_t gap_busy[FAIR_SENDERS + 1], gap[FAIR_SENDERS + 1];
};

static void fair_fn(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
		    void *arg)
{
	struct fair_rx *f = arg;
	struct fair_shared *sh = f->sh;
	bool contended = false;
	(void)cpu, (void)client;

	if (remote < 1 || remote > FAIR_SENDERS)
		return; /* counted as missing below */
	nt_seq_take(&sh->seq[remote], value);
	for (unsigned o = 1; o <= FAIR_SENDERS; o++) {
		if (o == remote) {
			f->gap_busy[o] = f->gap[o] = 0;
			continue;
		}
		/*
		 * Sender o waits to be served when its queue holds values and its doorbell (its
		 * flag of the Notify channel) is set: the drainer must come to it within two
		 * rounds. A queue whose sender was preempted between queueing and ringing is not
		 * waiting yet: nobody could know of it.
		 */
		struct ipcc_notify_stats st;
		uint32_t sr = 0;
		int r = -EAGAIN;
		for (int i = 0; i < 100 && r == -EAGAIN; i++)
			r = ipcc_notify_stats(f->sys, o, 0, &st);
		if (r == 0)
			r = ipcc_regs_read(f->regs[o], IPCC_C2TOC1SR, &sr);
		if (r < 0) {
			sh->stats_errors++;
			continue;
		}
		/* Relaxed: only this thread writes expect; a value of o has come and more will. */
		uint64_t got = atomic_load_explicit(&sh->seq[o].expect, memory_order_relaxed);
		if (got > 0 && got < FAIR_COUNT && ++f->gap[o] > sh->max_gap[o])
			sh->max_gap[o] = f->gap[o];
		if (st.fill > 0 && (sr & f->flag)) {
			contended = true;
			if (++f->gap_busy[o] > sh->max_gap_busy[o])
				sh->max_gap_busy[o] = f->gap_busy[o];
		} else {
			f->gap_busy[o] = 0;
		}
	}
	sh->taken++;
	sh->contended += contended;
	for (int64_t end = pt_now_ns() + FAIR_COST_NS; pt_now_ns() < end;)
		;
}

static bool fair_done(void *p)
{
	struct fair_shared *sh = p;
	for (unsigned k = 1; k <= FAIR_SENDERS; k++)
		if (nt_seq_next(&sh->seq[k]) < FAIR_COUNT)
			return false;
	return true;
}

struct fair_arg {
	const char *name;
	unsigned id;
	struct fair_shared *sh;
};

static int fair_receiver(void *p)
{
	struct fair_arg *a = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach(a->name, 0, IPCC_WAIT_FUTEX, 0, &sys);
	static struct fair_rx f;
	f.sys = sys;
	f.sh = a->sh;
	f.flag = IPCC_SR_CHF(ipcc_notify_channel(sys));
	for (unsigned k = 1; k <= FAIR_SENDERS; k++) {
		int rc = ipcc_regs_open(sys, 0, k, &f.regs[k]);
		PEER_CHECK(rc == 0, "ipcc_regs_open(0, %u): %s", k, strerror(-rc));
	}
	int r = ipcc_notify_register(cpu, NT_CLIENT, fair_fn, &f);
	PEER_CHECK(r == 0, "register: %s", strerror(-r));
	PEER_CHECK(nt_barrier(&a->sh->ready, FAIR_SENDERS + 1, 30 * PT_SEC), "no senders");
	r = nt_drain(cpu, fair_done, a->sh, 60 * PT_SEC);
	PEER_CHECK(r == 0, "drain: %s", strerror(-r));
	for (unsigned k = 1; k <= FAIR_SENDERS; k++)
		ipcc_regs_close(f.regs[k]);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

static int fair_sender(void *p)
{
	struct fair_arg *a = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach(a->name, a->id, IPCC_WAIT_FUTEX, 0, &sys);
	PEER_CHECK(nt_barrier(&a->sh->ready, FAIR_SENDERS + 1, 30 * PT_SEC), "no receiver");
	for (uint64_t i = 0; i < FAIR_COUNT; i++) {
		/* All to one client: the receiver tells the pairs apart by remote only. */
		int r = ipcc_notify_send(cpu, 0, NT_CLIENT, nt_value(i), 30 * PT_SEC);
		PEER_CHECK(r == 0, "CPU %u: send %llu: %s", a->id, (unsigned long long)i,
			   strerror(-r));
	}
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

Test(notify_flow, three_senders_flooding_one_receiver_are_served_in_turn)
{
	struct ipcc_system *sys = nt_system(FAIR_SENDERS + 1, DEPTH);
	struct fair_shared *sh = pt_shared(sizeof(*sh));
	struct fair_arg a[FAIR_SENDERS + 1];
	pid_t pid[FAIR_SENDERS + 1];

	for (unsigned i = 0; i <= FAIR_SENDERS; i++) {
		a[i] = (struct fair_arg){ .name = ipcc_system_name(sys), .id = i, .sh = sh };
		pid[i] = pt_fork(i ? fair_sender : fair_receiver, &a[i], 80);
	}
	for (unsigned i = 0; i <= FAIR_SENDERS; i++)
		pt_expect_exit0(pid[i], 85 * PT_SEC, i ? "sender" : "receiver");
	fprintf(stderr,
		"notify flow: fairness: %llu values, %.0f%% taken while another queue waited; "
		"most values of others in a row while a queue waited: %llu %llu %llu (bound %u); "
		"in a row at all: %llu %llu %llu\n",
		(unsigned long long)sh->taken, 100.0 * (double)sh->contended / (double)sh->taken,
		(unsigned long long)sh->max_gap_busy[1], (unsigned long long)sh->max_gap_busy[2],
		(unsigned long long)sh->max_gap_busy[3], 4 * DEPTH,
		(unsigned long long)sh->max_gap[1], (unsigned long long)sh->max_gap[2],
		(unsigned long long)sh->max_gap[3]);
	cr_assert_eq(sh->stats_errors, 0u,
		     "ipcc_notify_stats or ipcc_regs_read failed in the receiver");
	for (unsigned k = 1; k <= FAIR_SENDERS; k++) {
		nt_expect_pair(sys, &sh->seq[k], k, 0, FAIR_COUNT);
		cr_assert_leq(sh->max_gap_busy[k], 4 * DEPTH,
			      "CPU %u's queue waited while %llu values of others were taken", k,
			      (unsigned long long)sh->max_gap_busy[k]);
	}
	/* The check means something only if the queues were busy: the receiver is the slower. */
	cr_assert_geq(sh->contended * 10, sh->taken,
		      "only %llu of %llu values were taken while another queue waited",
		      (unsigned long long)sh->contended, (unsigned long long)sh->taken);
	ipcc_system_close(sys);
}

/* ---- a blocking recv consumer ---------------------------------------------------------- */

static int tx_flood_main(void *p)
{
	struct tx_peer *t = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach(t->s.name, t->id, t->s.mode, 0, &sys);
	pt_post(t->s.ack, 'a');
	PEER_CHECK(pt_await(t->s.cmd, 30 * PT_SEC) == 'g', "no go from the test");
	int rc = send_seq(cpu, t->to, 0, t->count, 30 * PT_SEC);
	PEER_CHECK(rc == 0, "CPU %u: send: %s", t->id, strerror(-rc));
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

ParameterizedTestParameters(notify_flow, a_blocking_recv_consumer_gets_every_value_in_order)
{
	return NT_MODES_PARAMS;
}

ParameterizedTest(enum ipcc_wait_mode *mode, notify_flow,
		  a_blocking_recv_consumer_gets_every_value_in_order)
{
	const uint64_t count = pt_count(*mode, 20000);
	struct ipcc_system *sys = nt_system(2, DEPTH);
	struct tx_peer *t = pt_shared(sizeof(*t));
	static struct nt_seq seq;
	t->id = 0;
	t->to = 1;
	t->count = count;
	pt_script_start(&t->s, ipcc_system_name(sys), *mode, tx_flood_main, 60);
	struct ipcc_cpu *cpu = pt_attach(sys, 1, *mode, 0);
	pt_post(t->s.cmd, 'g');
	for (uint64_t i = 0; i < count; i++) {
		uint32_t v;
		unsigned from = 99;
		int rc = ipcc_notify_recv(cpu, NT_CLIENT, &v, &from, PT_LONG);
		cr_assert_eq(rc, 0, "recv %llu of %llu: %s (stats: received %llu, dropped %llu)%s",
			     (unsigned long long)i, (unsigned long long)count, strerror(-rc),
			     (unsigned long long)nt_stats(sys, 0, 1).received,
			     (unsigned long long)nt_stats(sys, 0, 1).dropped,
			     pt_peer_note(t->s.pid));
		cr_assert_eq(from, 0u);
		if (!nt_seq_take(&seq, v))
			cr_assert_fail(
				"%s: recv %llu: " NT_SEQ_FMT " (dropped by the receiver: %llu)",
				pt_mode_name(*mode), (unsigned long long)i, NT_SEQ_ARGS(&seq),
				(unsigned long long)nt_stats(sys, 0, 1).dropped);
	}
	pt_expect_exit0(t->s.pid, PT_LONG, "sender");
	nt_expect_pair(sys, &seq, 0, 1, count);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}
