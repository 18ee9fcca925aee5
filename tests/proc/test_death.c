/* SPDX-License-Identifier: MIT */
/*
 * A peer killed with SIGKILL in the middle of a blocking procedure: the survivor's call returns
 * -EPIPE promptly in every wait mode, and a restarted peer takes the CPU over and traffic
 * resumes on the same channel.
 *
 * The test process is the survivor, CPU 0; the victim, CPU 1, is a forked process. A killer
 * thread of the test process waits until the survivor is inside its wait (the channel's
 * interrupt unmasked, see lib/proc/proc.c:chan_wait, plus 20 ms so that a sleeping mode is
 * asleep), takes CLOCK_MONOTONIC and kills the victim; the survivor takes the clock again when
 * its call returns. The latency is printed ("death:" lines in the test log); the test only
 * asserts that it is below 1 s, as timing is measured, never asserted tightly, on a shared VM.
 */
#include <pthread.h>

#include "proc-test.h"

#define BUFFER	     128u
#define CH	     2u
#define RESUME_N     1000u
#define STREAM(from) (0x100u | (from))

static void teardown(void)
{
	pt_cleanup();
}

TestSuite(death, .fini = teardown, .timeout = 40);

enum op { OP_SEND, OP_RECV, OP_CALL, OP_CPU_WAIT };
static const char *const op_names[] = { "ipcc_send", "ipcc_recv", "ipcc_call", "ipcc_cpu_wait" };

struct victim_arg {
	const char *name;
	enum op op;
	bool detach; /* detach on a byte through `cmd` instead of waiting to be killed */
	struct pt_pipe ready, got, cmd;
};

/* CPU 1, doomed: attach, take the request of a call it will never answer, then idle. */
static int peer_victim(void *p)
{
	struct victim_arg *a = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach(a->name, 1, IPCC_WAIT_FUTEX, 0, &sys);
	char buf[BUFFER];

	pt_post(a->ready, 'r');
	if (a->op == OP_CALL) {
		int n = ipcc_serve(cpu, 0, CH, buf, sizeof(buf), PT_LONG);
		PEER_CHECK(n >= 0, "serve: %s", strerror(-n));
		pt_post(a->got, 'g');
	}
	if (a->detach) {
		PEER_CHECK(pt_await(a->cmd, PT_LONG) >= 0, "no command");
		ipcc_cpu_detach(cpu);
	}
	for (;;)
		pause(); /* until SIGKILL (or the watchdog) */
	return 1;
}

struct successor_arg {
	const char *name;
	enum op op;
	struct pt_pipe ready, bye;
};

/* CPU 1 again, restarted: take the CPU over, then do the dead peer's part of the traffic. */
static int peer_successor(void *p)
{
	struct successor_arg *a = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach(a->name, 1, IPCC_WAIT_ADAPTIVE, 0, &sys);
	struct ipcc_cpu_owner own;
	struct pt_tally t = { 0 };
	uint8_t buf[BUFFER];

	PEER_CHECK(ipcc_system_cpu_owner(sys, 1, &own) == 0, "cpu_owner");
	PEER_CHECK(own.alive && own.pid == getpid() && own.generation == 2,
		   "owner after takeover: alive %d pid %d generation %u", own.alive, (int)own.pid,
		   own.generation);
	/* What the ST HAL's init does: discard whatever was posted to the dead predecessor. */
	PEER_CHECK(ipcc_chan_clear(cpu, 0, CH) == 0, "clear");
	pt_post(a->ready, 'r');

	for (uint64_t seq = 0; seq < RESUME_N; seq++) {
		int r;
		size_t len;
		switch (a->op) {
		case OP_SEND: /* the survivor sends */
			r = ipcc_recv(cpu, 0, CH, buf, sizeof(buf), PT_LONG);
			PEER_CHECK(r >= 0, "recv %llu: %s", (unsigned long long)seq, strerror(-r));
			pt_msg_take(&t, buf, (size_t)r, STREAM(0), BUFFER);
			break;
		case OP_RECV: /* the survivor receives */
			len = pt_msg_len(STREAM(1), seq, BUFFER);
			pt_msg_fill(buf, STREAM(1), seq, len);
			r = ipcc_send(cpu, 0, CH, buf, len, PT_LONG);
			PEER_CHECK(r == 0, "send %llu: %s", (unsigned long long)seq, strerror(-r));
			break;
		default: /* the survivor calls: echo */
			r = ipcc_serve(cpu, 0, CH, buf, sizeof(buf), PT_LONG);
			PEER_CHECK(r >= 0, "serve %llu: %s", (unsigned long long)seq, strerror(-r));
			pt_msg_take(&t, buf, (size_t)r, STREAM(0), BUFFER);
			r = ipcc_reply(cpu, 0, CH, buf, (size_t)r);
			PEER_CHECK(r == 0, "reply %llu: %s", (unsigned long long)seq, strerror(-r));
			break;
		}
		PEER_CHECK(pt_tally_ok(&t), "%s: " PT_TALLY_FMT, op_names[a->op],
			   PT_TALLY_ARGS(&t));
	}
	PEER_CHECK(pt_await(a->bye, PT_LONG) >= 0, "no goodbye");
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

struct killer {
	pid_t victim;
	struct ipcc_regs *regs;
	uint32_t mr_bit; /* wait until the survivor unmasked this bit of C1MR (0: don't) */
	struct pt_pipe *got;
	struct pt_pipe cmd; /* detach instead of kill, when `detach` */
	bool detach;
	int64_t t_kill;
	int error;
};

static void *killer_main(void *p)
{
	struct killer *k = p;
	int64_t end = pt_now_ns() + PT_LONG;

	if (k->got && pt_await(*k->got, PT_LONG) != 'g') {
		k->error = 1;
		return NULL;
	}
	for (;;) {
		uint32_t mr = 0;
		ipcc_regs_read(k->regs, IPCC_C1MR, &mr);
		if (!(mr & k->mr_bit))
			break;
		if (pt_now_ns() > end) {
			k->error = 2;
			return NULL;
		}
		pt_sleep_ms(1);
	}
	/* Let a sleeping mode fall asleep (the adaptive spin is 20 us). */
	pt_sleep_ms(k->mr_bit ? 20 : 50);
	k->t_kill = pt_now_ns();
	if (k->detach)
		pt_post(k->cmd, 'd');
	else
		kill(k->victim, SIGKILL);
	return NULL;
}

/* The survivor's blocking call of `op` on a fresh system; returns its result. */
static int survivor_op(struct ipcc_cpu *cpu, enum op op, uint64_t seq)
{
	uint8_t buf[BUFFER], resp[BUFFER];
	size_t len = pt_msg_len(STREAM(0), seq, BUFFER);

	pt_msg_fill(buf, STREAM(0), seq, len);
	switch (op) {
	case OP_SEND:
		return ipcc_send(cpu, 1, CH, buf, len, PT_LONG);
	case OP_RECV:
		return ipcc_recv(cpu, 1, CH, resp, sizeof(resp), PT_LONG);
	case OP_CALL:
		return ipcc_call(cpu, 1, CH, buf, len, resp, sizeof(resp), PT_LONG);
	default:
		return ipcc_cpu_wait(cpu, PT_LONG);
	}
}

static void peer_death(enum ipcc_wait_mode mode, enum op op, bool detach)
{
	struct ipcc_system *sys = pt_create(2, 4, BUFFER);
	const char *name = ipcc_system_name(sys);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, mode, 0);
	struct victim_arg va = { .name = name,
				 .op = op,
				 .detach = detach,
				 .ready = pt_pipe_new(),
				 .got = pt_pipe_new(),
				 .cmd = pt_pipe_new() };
	struct killer k = { .detach = detach, .cmd = va.cmd };
	pthread_t killer;

	cr_assert_eq(ipcc_regs_open(sys, 0, 1, &k.regs), 0);
	k.victim = pt_fork(peer_victim, &va, 30);
	cr_assert_eq(pt_await(va.ready, PT_LONG), 'r', "the victim did not attach");
	cr_assert_eq(ipcc_cpu_peer_alive(cpu, 1), 1);

	switch (op) {
	case OP_SEND: /* fill the channel: the next send waits for TX free */
		cr_assert_eq(survivor_op(cpu, OP_SEND, 0), 0);
		k.mr_bit = IPCC_MR_CHFM(CH);
		break;
	case OP_RECV:
		k.mr_bit = IPCC_MR_CHOM(CH);
		break;
	case OP_CALL: /* the victim takes the request, the call waits for "response ready" */
		k.mr_bit = IPCC_MR_CHFM(CH);
		k.got = &va.got;
		break;
	default:
		break;
	}
	cr_assert_eq(pthread_create(&killer, NULL, killer_main, &k), 0);
	int r = survivor_op(cpu, op, 1);
	int64_t t1 = pt_now_ns();
	pthread_join(killer, NULL);
	cr_assert_eq(k.error, 0, "the killer thread never saw the survivor wait (%d)", k.error);
	double ms = (double)(t1 - k.t_kill) / PT_MS;
	fprintf(stderr, "death: %-8s %-14s %-6s -> %s after %.3f ms\n", pt_mode_name(mode),
		op_names[op], detach ? "detach" : "kill", r == -EPIPE ? "-EPIPE" : strerror(-r),
		ms);
	cr_assert_eq(r, -EPIPE, "%s in %s mode: %d (%s), not -EPIPE", op_names[op],
		     pt_mode_name(mode), r, strerror(-r));
	cr_assert_lt(t1 - k.t_kill, PT_SEC, "-EPIPE only %.3f ms after the %s", ms,
		     detach ? "detach" : "kill");

	if (detach) {
		/* Not a crash: the CPU is free, the next wait waits for a new owner. */
		cr_assert_eq(ipcc_cpu_peer_alive(cpu, 1), 0);
		kill(k.victim, SIGKILL);
	} else {
		int st = pt_reap(k.victim, PT_LONG);
		cr_assert(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		/* Dead and not taken over: every wait on it fails at once. */
		cr_assert_eq(ipcc_cpu_peer_alive(cpu, 1), -EPIPE);
		int64_t t0 = pt_now_ns();
		cr_assert_eq(survivor_op(cpu, op == OP_CPU_WAIT ? OP_RECV : op, 1), -EPIPE);
		cr_assert_lt(pt_now_ns() - t0, PT_SEC);
	}
	pt_reap(k.victim, PT_LONG);
	if (op == OP_CPU_WAIT)
		goto out;

	/* A restarted CPU 1 takes the slot over and the traffic resumes. */
	struct successor_arg sa = {
		.name = name, .op = op, .ready = pt_pipe_new(), .bye = pt_pipe_new()
	};
	pid_t pid = pt_fork(peer_successor, &sa, 30);
	cr_assert_eq(pt_await(sa.ready, PT_LONG), 'r', "the successor did not attach");
	cr_assert_eq(ipcc_cpu_peer_alive(cpu, 1), 1);
	struct pt_tally t = { 0 };
	for (uint64_t seq = 0; seq < RESUME_N; seq++) {
		uint8_t buf[BUFFER], resp[BUFFER];
		size_t len = pt_msg_len(STREAM(0), seq, BUFFER);
		pt_msg_fill(buf, STREAM(0), seq, len);
		if (op == OP_SEND) {
			r = ipcc_send(cpu, 1, CH, buf, len, PT_LONG);
			cr_assert_eq(r, 0, "send %llu after takeover: %s", (unsigned long long)seq,
				     strerror(-r));
		} else if (op == OP_RECV) {
			r = ipcc_recv(cpu, 1, CH, resp, sizeof(resp), PT_LONG);
			cr_assert_geq(r, 0, "recv %llu after takeover: %s", (unsigned long long)seq,
				      strerror(-r));
			pt_msg_take(&t, resp, (size_t)r, STREAM(1), BUFFER);
		} else {
			/* The first call also settles the request the victim never answered. */
			r = ipcc_call(cpu, 1, CH, buf, len, resp, sizeof(resp), PT_LONG);
			cr_assert_geq(r, 0, "call %llu after takeover: %s", (unsigned long long)seq,
				      strerror(-r));
			pt_msg_take(&t, resp, (size_t)r, STREAM(0), BUFFER);
		}
		cr_assert(pt_tally_ok(&t), "after takeover: " PT_TALLY_FMT, PT_TALLY_ARGS(&t));
	}
	pt_post(sa.bye, 'x');
	pt_expect_exit0(pid, PT_LONG, "successor");
out:
	ipcc_regs_close(k.regs);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

#define DEATH_TESTS(mode, MODE)                                   \
	Test(death, send_##mode)                                  \
	{                                                         \
		peer_death(IPCC_WAIT_##MODE, OP_SEND, false);     \
	}                                                         \
	Test(death, recv_##mode)                                  \
	{                                                         \
		peer_death(IPCC_WAIT_##MODE, OP_RECV, false);     \
	}                                                         \
	Test(death, call_##mode)                                  \
	{                                                         \
		peer_death(IPCC_WAIT_##MODE, OP_CALL, false);     \
	}                                                         \
	Test(death, cpu_wait_##mode)                              \
	{                                                         \
		peer_death(IPCC_WAIT_##MODE, OP_CPU_WAIT, false); \
	}

DEATH_TESTS(futex, FUTEX)
DEATH_TESTS(adaptive, ADAPTIVE)
DEATH_TESTS(spin, SPIN)

/* A clean detach ends the waits on that peer the same way. */
Test(death, recv_peer_detaches_futex)
{
	peer_death(IPCC_WAIT_FUTEX, OP_RECV, true);
}

Test(death, cpu_wait_peer_detaches_spin)
{
	peer_death(IPCC_WAIT_SPIN, OP_CPU_WAIT, true);
}
