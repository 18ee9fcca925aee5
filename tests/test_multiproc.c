/* SPDX-License-Identifier: MIT */
/*
 * Real processes over one real shm object: CPU takeover after a crash, and the SCRs of one
 * link driven from two processes at full speed.
 *
 * Children never use Criterion assertions (those report to the runner as if the test itself
 * had failed, from the wrong process): they report through a pipe, shared memory or their exit
 * status, and always leave with _exit. Each child arms alarm() and PR_SET_PDEATHSIG so that a
 * bug makes the test fail instead of hanging, and no child outlives its test.
 */
#include <criterion/criterion.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "ipcc-test.h"

#define CHILD_ALARM_S 40

static struct ipcc_system *sys;
static pid_t children[4];
static unsigned child_count;

static void teardown(void)
{
	for (unsigned i = 0; i < child_count; i++) {
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
		}
	}
	child_count = 0;
	ipcc_system_close(sys);
	test_cleanup();
}

/* fork() for a test: the child is killed with its parent and after CHILD_ALARM_S at most. */
static pid_t spawn(void)
{
	cr_assert_lt(child_count, sizeof(children) / sizeof(children[0]));
	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(125); /* the parent died before prctl */
		signal(SIGALRM, SIG_DFL);
		alarm(CHILD_ALARM_S);
		return 0;
	}
	children[child_count++] = pid;
	return pid;
}

/* Wait for a child of this test and forget it; its wait status. */
static int reap(pid_t pid)
{
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	for (unsigned i = 0; i < child_count; i++)
		if (children[i] == pid)
			children[i] = 0;
	return status;
}

static void expect_clean_exit(pid_t pid, const char *who)
{
	int status = reap(pid);
	cr_assert_not(WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM,
		      "%s hit its %d s watchdog", who, CHILD_ALARM_S);
	cr_assert(WIFEXITED(status), "%s died of signal %d", who,
		  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	cr_assert_eq(WEXITSTATUS(status), 0, "%s failed with status %d", who, WEXITSTATUS(status));
}

/* ---- takeover of a dead CPU ---- */

/* Child: open the system, attach `id`, tell the parent the result, then hold the CPU. */
static pid_t spawn_owner(const char *name, unsigned id, int *ret_attach)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	pid_t pid = spawn();
	if (pid == 0) {
		struct ipcc_system *s;
		struct ipcc_cpu *c;
		close(p[0]);
		int r = ipcc_system_open(name, &s);
		if (r == 0)
			r = ipcc_cpu_attach(s, id, NULL, &c);
		if (write(p[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	int r = 1;
	ssize_t n = read(p[0], &r, sizeof(r));
	close(p[0]);
	cr_assert_eq(n, (ssize_t)sizeof(r), "the owner child died before attaching");
	*ret_attach = r;
	return pid;
}

static struct ipcc_cpu_owner owner_of(unsigned id)
{
	struct ipcc_cpu_owner o;
	cr_assert_eq(ipcc_system_cpu_owner(sys, id, &o), 0);
	return o;
}

Test(multiproc, the_cpu_of_a_killed_process_is_taken_over, .fini = teardown, .timeout = 30)
{
	int r;
	struct ipcc_cpu *c = NULL;

	sys = test_system(NULL);
	pid_t child = spawn_owner(ipcc_system_name(sys), 1, &r);
	cr_assert_eq(r, 0, "child attach: %s", strerror(-r));

	struct ipcc_cpu_owner o = owner_of(1);
	cr_assert(o.attached && o.alive, "live owner: attached %d alive %d", o.attached, o.alive);
	cr_assert_eq(o.pid, child);
	cr_assert_eq(ipcc_cpu_attach(sys, 1, NULL, &c), -EBUSY, "the owner is alive");
	cr_assert_null(c);

	/* The child configured its banks; a takeover must start from reset. */
	struct ipcc_regs *regs = test_regs(sys, 0, 1);
	test_wr(regs, IPCC_C2CR, IPCC_CR_RXOIE | IPCC_CR_TXFIE);
	test_wr(regs, IPCC_C2MR, 0);

	kill(child, SIGKILL);
	int status = reap(child);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	/* A dead claim is still a claim (nobody detached) but nobody runs it. */
	o = owner_of(1);
	cr_assert_not(o.alive, "dead owner reported alive");
	cr_assert_eq(o.pid, child, "pid of the last owner");
	cr_assert(o.attached, "dead owner (never detached) reported as not attached");

	c = test_attach(sys, 1);
	o = owner_of(1);
	cr_assert(o.attached && o.alive, "after takeover: attached %d alive %d", o.attached,
		  o.alive);
	cr_assert_eq(o.pid, getpid());
	cr_assert_eq(o.generation, 2);
	cr_assert_eq(test_rd(regs, IPCC_C2CR), IPCC_CR_RESET, "takeover resets the banks");
	cr_assert_eq(test_rd(regs, IPCC_C2MR), IPCC_MR_RESET, "takeover resets the banks");
	ipcc_regs_close(regs);
	ipcc_cpu_detach(c);
	cr_assert_not(owner_of(1).attached);
}

Test(multiproc, the_cpu_of_a_process_that_exits_without_detach_is_taken_over, .fini = teardown,
     .timeout = 30)
{
	sys = test_system_geometry(3, 2, 64);
	pid_t child = spawn();
	if (child == 0) {
		struct ipcc_system *s;
		struct ipcc_cpu *c;
		if (ipcc_system_open(ipcc_system_name(sys), &s) < 0)
			_exit(1);
		if (ipcc_cpu_attach(s, 2, NULL, &c) < 0)
			_exit(2);
		_exit(0); /* no detach, no close */
	}
	expect_clean_exit(child, "owner");
	cr_assert_not(owner_of(2).alive);
	struct ipcc_cpu *c = test_attach(sys, 2);
	cr_assert(owner_of(2).alive);
	cr_assert_eq(owner_of(2).pid, getpid());
	ipcc_cpu_detach(c);
}

/* ---- SCR concurrency ---- */

#define SCR_SETS_PER_SIDE 200000u
#define SCR_DEADLINE_S	  30

struct scr_report {
	uint64_t sets[IPCC_CHANNELS_MAX];
	uint64_t clears[IPCC_CHANNELS_MAX];
	uint64_t writes;
};

struct scr_shared {
	_Atomic uint32_t ready;
	_Atomic uint32_t done_setting[2];
	struct scr_report side[2];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/*
 * Processor p (0-based) of link (0, 1), in a process of its own with its own mapping. It sets
 * its own flags only when it sees them clear and clears the peer's flags only when it sees them
 * set. Nobody else sets our flags or clears the peer's, so each of those writes is a real 0->1
 * or 1->0 transition, and per channel: sets by one side == clears by the other + still set.
 * A lost set makes the setter set again (sets too high), an invented or resurrected flag makes
 * the clearer clear again (clears too high). Both sides write both words of the link at once,
 * so the atomicity of every RMW is what is measured.
 */
static int scr_side(const char *name, unsigned p, struct scr_shared *sh, uint64_t target)
{
	struct ipcc_system *s;
	struct ipcc_regs *r;
	struct scr_report *rep = &sh->side[p];
	const uint32_t own = p ? IPCC_C2TOC1SR : IPCC_C1TOC2SR;
	const uint32_t peer = p ? IPCC_C1TOC2SR : IPCC_C2TOC1SR;
	const uint32_t scr = p ? IPCC_C2SCR : IPCC_C1SCR;
	uint64_t total = 0;
	bool done = false;
	unsigned idle = 0;

	if (ipcc_system_open(name, &s) < 0)
		return 10;
	if (ipcc_regs_open(s, 0, 1, &r) < 0)
		return 11;
	const unsigned nch = ipcc_regs_channels(r);
	const uint32_t chm = test_chmask(nch);
	const double deadline = now_s() + SCR_DEADLINE_S;

	/* Start together so the two loops really overlap. */
	atomic_fetch_add_explicit(&sh->ready, 1, memory_order_seq_cst);
	while (atomic_load_explicit(&sh->ready, memory_order_seq_cst) < 2)
		sched_yield();

	for (uint64_t iter = 0;; iter++) {
		/*
		 * One channel per write, as drivers do, so that every set and every clear is an
		 * SCR write of its own racing the peer's: 200000 sets and as many clears a side.
		 */
		const uint32_t bit = 1u << (iter % nch);
		uint32_t o, i, set, clr;
		if (ipcc_regs_read(r, own, &o) < 0 || ipcc_regs_read(r, peer, &i) < 0)
			return 12;
		set = total < target ? ~o & bit : 0;
		clr = i & bit;
		if (set | clr) {
			/* Alternate one combined write with two separate ones. */
			if ((iter / nch) & 1) {
				if (ipcc_regs_write(r, scr, (set << 16) | clr) < 0)
					return 13;
				rep->writes++;
			} else {
				if (set && ipcc_regs_write(r, scr, set << 16) < 0)
					return 13;
				if (clr && ipcc_regs_write(r, scr, clr) < 0)
					return 13;
				rep->writes += (set != 0) + (clr != 0);
			}
			for (unsigned n = 0; n < IPCC_CHANNELS_MAX; n++) {
				rep->sets[n] += (set >> n) & 1;
				rep->clears[n] += (clr >> n) & 1;
			}
			total += set != 0;
			idle = 0;
		} else if (++idle % 256 == 0) {
			/* Only matters when both sides share a core (a loaded machine). */
			sched_yield();
		}
		if (!done && total >= target) {
			/* seq_cst: after our last set; the peer reads it before its final pass. */
			atomic_store_explicit(&sh->done_setting[p], 1, memory_order_seq_cst);
			done = true;
		}
		if (done && atomic_load_explicit(&sh->done_setting[!p], memory_order_seq_cst)) {
			/* The peer will set nothing more: one last pass frees what it left. */
			if (ipcc_regs_read(r, peer, &i) < 0)
				return 12;
			clr = i & chm;
			if (clr && ipcc_regs_write(r, scr, clr) < 0)
				return 13;
			for (unsigned n = 0; n < IPCC_CHANNELS_MAX; n++)
				rep->clears[n] += (clr >> n) & 1;
			break;
		}
		if ((iter & 0xFFF) == 0 && now_s() > deadline)
			return 14; /* a wedged flag or a dead peer: fail, do not hang */
	}
	ipcc_regs_close(r);
	ipcc_system_close(s);
	return 0;
}

static void scr_stress(unsigned channels)
{
	struct scr_shared *sh =
		mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(sh, MAP_FAILED);
	sys = test_system_geometry(2, channels, 64);
	const char *name = ipcc_system_name(sys);

	pid_t pid[2];
	for (unsigned p = 0; p < 2; p++) {
		pid[p] = spawn();
		if (pid[p] == 0)
			_exit(scr_side(name, p, sh, SCR_SETS_PER_SIDE));
	}
	expect_clean_exit(pid[0], "processor 1");
	expect_clean_exit(pid[1], "processor 2");

	struct ipcc_regs *regs = test_regs(sys, 0, 1);
	uint32_t sr[2] = { test_rd(regs, IPCC_C1TOC2SR), test_rd(regs, IPCC_C2TOC1SR) };
	for (unsigned p = 0; p < 2; p++) {
		const struct scr_report *snd = &sh->side[p], *rcv = &sh->side[!p];
		uint64_t total = 0;
		for (unsigned n = 0; n < channels; n++) {
			uint64_t left = (sr[p] >> n) & 1;
			cr_assert_eq(snd->sets[n], rcv->clears[n] + left,
				     "C%uTOC%uSR.CH%uF: %llu sets, %llu clears, %llu still set: %s",
				     p + 1, 2 - p, n + 1, (unsigned long long)snd->sets[n],
				     (unsigned long long)rcv->clears[n], (unsigned long long)left,
				     snd->sets[n] > rcv->clears[n] + left ? "flag lost"
									  : "flag invented");
			cr_assert_gt(snd->sets[n], 0, "channel %u never used", n);
			total += snd->sets[n];
		}
		cr_assert_geq(total, SCR_SETS_PER_SIDE, "side %u stopped early", p + 1);
		cr_assert_eq(sr[p], 0, "C%uTOC%uSR = 0x%x after the final clear pass", p + 1, 2 - p,
			     sr[p]);
	}
	/* Nobody wrote a CR or MR: the banks are at reset and every line is low. */
	for (unsigned p = 0; p < 2; p++) {
		cr_assert_eq(test_rd(regs, IPCC_C1CR + p * IPCC_BANK_STRIDE), IPCC_CR_RESET);
		cr_assert_eq(test_rd(regs, IPCC_C1MR + p * IPCC_BANK_STRIDE), IPCC_MR_RESET);
		cr_assert_not(ipcc_regs_irq(regs, p + 1, IPCC_IRQ_RXO));
		cr_assert_not(ipcc_regs_irq(regs, p + 1, IPCC_IRQ_TXF));
	}
	cr_log_info("%u channels: %llu + %llu SCR writes", channels,
		    (unsigned long long)sh->side[0].writes, (unsigned long long)sh->side[1].writes);
	ipcc_regs_close(regs);
	munmap(sh, sizeof(*sh));
}

Test(multiproc, concurrent_scr_writes_never_lose_or_invent_a_flag, .fini = teardown, .timeout = 90)
{
	scr_stress(IPCC_CHANNELS_DEFAULT);
}

Test(multiproc, concurrent_scr_writes_on_all_sixteen_channels, .fini = teardown, .timeout = 90)
{
	/* Bit 15 sits next to the CHnS field: a decode error shows up only here. */
	scr_stress(IPCC_CHANNELS_MAX);
}

/* ---- data through the channel buffers ---- */

#define MSG_COUNT    50000u
#define MSG_CHANNELS 6u
#define MSG_BUF	     256u

/* The message number `seq` as it lies in the buffer: the number then bytes derived from it. */
static void msg_fill(uint8_t *buf, uint32_t seq)
{
	memcpy(buf, &seq, sizeof(seq));
	for (size_t i = sizeof(seq); i < MSG_BUF; i++)
		buf[i] = (uint8_t)(seq * 31 + i);
}

static bool msg_check(const uint8_t *buf, uint32_t seq)
{
	uint32_t got;
	memcpy(&got, buf, sizeof(got));
	if (got != seq)
		return false;
	for (size_t i = sizeof(seq); i < MSG_BUF; i++)
		if (buf[i] != (uint8_t)(seq * 31 + i))
			return false;
	return true;
}

/* Receiver (CPU 1): take MSG_COUNT messages in order from channels 0, 1, ... in turn. */
static int msg_receiver(const char *name)
{
	struct ipcc_system *s;
	struct ipcc_cpu *c;
	const double deadline = now_s() + SCR_DEADLINE_S;

	if (ipcc_system_open(name, &s) < 0)
		return 10;
	if (ipcc_cpu_attach(s, 1, NULL, &c) < 0)
		return 11;
	for (uint32_t seq = 0; seq < MSG_COUNT; seq++) {
		unsigned ch = seq % MSG_CHANNELS;
		void *buf;
		size_t size;
		int st;
		if (ipcc_chan_buffer(c, 0, ch, IPCC_DIR_RX, &buf, &size) < 0 || size != MSG_BUF)
			return 12;
		for (unsigned spin = 0; (st = ipcc_chan_status(c, 0, ch, IPCC_DIR_RX)) == 0;) {
			if (++spin % 256 == 0) {
				sched_yield();
				if (now_s() > deadline)
					return 14;
			}
		}
		if (st < 0)
			return 13;
		if (!msg_check(buf, seq))
			return 20; /* the flag was seen before the data it publishes */
		/* Scribble before freeing: the sender must rewrite everything it sends. */
		memset(buf, 0xEE, size);
		if (ipcc_chan_clear(c, 0, ch) < 0)
			return 15;
	}
	ipcc_cpu_detach(c);
	ipcc_system_close(s);
	return 0;
}

Test(multiproc, data_written_before_set_is_what_the_receiver_reads, .fini = teardown, .timeout = 90)
{
	sys = test_system_geometry(2, MSG_CHANNELS, MSG_BUF);
	pid_t rx = spawn();
	if (rx == 0)
		_exit(msg_receiver(ipcc_system_name(sys)));

	struct ipcc_cpu *c = test_attach(sys, 0);
	const double deadline = now_s() + SCR_DEADLINE_S;
	for (uint32_t seq = 0; seq < MSG_COUNT; seq++) {
		unsigned ch = seq % MSG_CHANNELS;
		void *buf;
		size_t size;
		cr_assert_eq(ipcc_chan_buffer(c, 1, ch, IPCC_DIR_TX, &buf, &size), 0);
		for (unsigned spin = 0; ipcc_chan_status(c, 1, ch, IPCC_DIR_TX) != 0;) {
			if (++spin % 256 == 0) {
				sched_yield();
				cr_assert_lt(now_s(), deadline, "channel %u never freed (msg %u)",
					     ch, seq);
			}
		}
		msg_fill(buf, seq);
		cr_assert_eq(ipcc_chan_set(c, 1, ch), 0);
	}
	expect_clean_exit(rx, "receiver");
	for (unsigned ch = 0; ch < MSG_CHANNELS; ch++)
		cr_assert_eq(ipcc_chan_status(c, 1, ch, IPCC_DIR_TX), 0, "ch%u still occupied", ch);
	ipcc_cpu_detach(c);
}
