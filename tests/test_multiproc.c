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
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include <ipcc/layout.h>

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
	unsigned used = 0;
	for (unsigned i = 0; i < child_count; i++)
		used += children[i] > 0;
	cr_assert_lt(used, sizeof(children) / sizeof(children[0]));
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
	unsigned slot = 0;
	while (slot < child_count && children[slot] > 0)
		slot++; /* a reaped child's slot is reused */
	children[slot] = pid;
	if (slot == child_count)
		child_count++;
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

/*
 * Child: open the system, attach `id`, tell the parent the result (*ret_attach), then run
 * body(s, c), which never returns; a failed attach exits.
 */
static pid_t spawn_cpu(const char *name, unsigned id,
		       void (*body)(struct ipcc_system *s, struct ipcc_cpu *c), int *ret_attach)
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
		if (write(p[1], &r, sizeof(r)) != (ssize_t)sizeof(r) || r < 0)
			_exit(1);
		body(s, c);
	}
	close(p[1]);
	int r = 1;
	ssize_t n = read(p[0], &r, sizeof(r));
	close(p[0]);
	cr_assert_eq(n, (ssize_t)sizeof(r), "the owner child died before attaching");
	*ret_attach = r;
	return pid;
}

static void hold(struct ipcc_system *s, struct ipcc_cpu *c)
{
	for (;;)
		pause();
}

/* Child: hold CPU `id` until killed. */
static pid_t spawn_owner(const char *name, unsigned id, int *ret_attach)
{
	return spawn_cpu(name, id, hold, ret_attach);
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

/*
 * The parent of a CPU's owner dies while a fork child of the owner lives on: the child inherited
 * the owner's descriptions but not its claim, so the CPU is free at once.
 */
Test(multiproc, a_cpu_is_free_when_its_owner_dies_even_if_its_fork_child_lives, .fini = teardown,
     .timeout = 30)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	sys = test_system(NULL);
	pid_t owner = spawn();
	if (owner == 0) {
		struct ipcc_system *s;
		struct ipcc_cpu *c;
		close(p[0]);
		if (ipcc_system_open(ipcc_system_name(sys), &s) < 0 ||
		    ipcc_cpu_attach(s, 1, NULL, &c) < 0)
			_exit(1);
		pid_t grandchild = fork();
		if (grandchild == 0) {
			/* Past fork() here, so past its atfork handlers: only now may the test kill
			 * the owner (under ASan a child can take a while to get here). */
			pid_t self = getpid();
			alarm(CHILD_ALARM_S); /* outlives its parent until the test kills it */
			if (write(p[1], &self, sizeof(self)) != sizeof(self))
				_exit(2);
			for (;;)
				pause();
		}
		if (grandchild < 0)
			_exit(3);
		for (;;)
			pause();
	}
	close(p[1]);
	pid_t grandchild = -1;
	cr_assert_eq(read(p[0], &grandchild, sizeof(grandchild)), (ssize_t)sizeof(grandchild));
	close(p[0]);
	cr_assert_gt(grandchild, 0);
	cr_assert(owner_of(1).alive);
	kill(owner, SIGKILL);
	reap(owner);
	cr_assert_not(owner_of(1).alive, "the fork child kept its parent's claim");
	struct ipcc_cpu *c = NULL;
	int r = ipcc_cpu_attach(sys, 1, NULL, &c);
	kill(grandchild, SIGKILL);
	cr_assert_eq(r, 0, "takeover beside the live fork child: %s", strerror(-r));
	ipcc_cpu_detach(c);
}

/* ---- a process that writes garbage into a CPU's record ---- */

/*
 * Writes that broke layout 1, whose record began with a glibc robust mutex (x86-64 offsets of
 * pthread_mutex_t: lock word 0, owner 8, kind 16, list prev 24 and next 32), then whole lines
 * and records. Each is made by this process, a writer of the object only, into the record of a
 * CPU that another process owns or is about to own. The "records" are the three lines written
 * at run time (ownership, doorbell, owner); the fourth, the CPU's name, is the creator's, and a
 * name rewritten there makes later opens refuse the object (tests/test_layout.c).
 */
#define RUNTIME_LINES (3 * IPCC_CACHE_LINE)

enum fill { FILL_WORD, FILL_ZERO, FILL_ONES, FILL_RANDOM };
struct garbage {
	const char *what;
	unsigned offset, len;
	enum fill fill;
	uint64_t word;
};

static const struct garbage garbage_cases[] = {
	{ "list pointers", 24, 16, FILL_WORD, 0x00007f0000001000ull },
	{ "kind", 16, 4, FILL_WORD, 0x7fffffffull },
	{ "kind robust pi", 16, 4, FILL_WORD, 0x30ull },
	{ "owner", 8, 4, FILL_WORD, 0x7ffffffeull },
	{ "lock word", 0, 4, FILL_WORD, 0xc0000001ull },
	{ "zeroed line 0", 0, 64, FILL_ZERO, 0 },
	{ "random line 0", 0, 64, FILL_RANDOM, 0 },
	{ "zeroed record", 0, RUNTIME_LINES, FILL_ZERO, 0 },
	{ "all-ones record", 0, RUNTIME_LINES, FILL_ONES, 0 },
	{ "random record", 0, RUNTIME_LINES, FILL_RANDOM, 0 },
};
#define GARBAGE_CASES (sizeof(garbage_cases) / sizeof(garbage_cases[0]))

/* Write case `g` into CPU id's record through a mapping of our own. */
static void write_garbage(const char *name, unsigned id, const struct garbage *g, uint32_t seed)
{
	int fd = shm_open(name, O_RDWR, 0);
	cr_assert_geq(fd, 0);
	size_t size = (size_t)ipcc_system_size(sys);
	uint8_t *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	cr_assert_neq(base, MAP_FAILED);
	uint8_t *rec = base + IPCC_SHM_HEADER_SIZE + (size_t)id * IPCC_SHM_CPU_SIZE +
		       g->offset; /* the cpus section follows the header page */
	for (unsigned i = 0; i < g->len; i++) {
		seed = seed * 1103515245u + 12345u;
		uint8_t b = g->fill == FILL_ONES   ? 0xff
			    : g->fill == FILL_ZERO ? 0
						   : (uint8_t)(seed >> 16);
		if (g->fill == FILL_WORD)
			b = (uint8_t)(g->word >> (8 * (i % 8)));
		rec[i] = b;
	}
	munmap(base, size);
}

#define ECHO_BYE 0xFFu

/* CPU 1: echo every message from CPU 0 until ECHO_BYE, then detach and close. */
static void echo(struct ipcc_system *s, struct ipcc_cpu *c)
{
	uint8_t buf[16];
	for (;;) {
		/* Short waits: a forged doorbell may lose a wake-up, never a message. */
		int n = ipcc_recv(c, 0, 0, buf, sizeof(buf), 50 * 1000 * 1000);
		if (n == -ETIMEDOUT)
			continue;
		if (n != 1)
			_exit(10);
		struct ipcc_cpu_owner o;
		if (ipcc_system_cpu_owner(s, 1, &o) < 0 || !o.alive)
			_exit(11);
		if (buf[0] == ECHO_BYE)
			break;
		buf[0]++;
		if (ipcc_send(c, 0, 0, buf, 1, 10 * 1000000000ll) < 0)
			_exit(12);
	}
	ipcc_cpu_detach(c);
	ipcc_system_close(s);
	_exit(0);
}

static pid_t spawn_echo(const char *name)
{
	int r;
	pid_t pid = spawn_cpu(name, 1, echo, &r);
	cr_assert_eq(r, 0, "echo attach: %s", strerror(-r));
	return pid;
}

static void echo_round_trip(struct ipcc_cpu *c0, uint8_t v, const char *what)
{
	uint8_t buf[16] = { v };
	int r = ipcc_send(c0, 1, 0, buf, 1, 10 * 1000000000ll);
	cr_assert_eq(r, 0, "%s: send: %s", what, strerror(-r));
	if (v == ECHO_BYE)
		return;
	r = ipcc_recv(c0, 1, 0, buf, sizeof(buf), 10 * 1000000000ll);
	cr_assert_eq(r, 1, "%s: recv: %s", what, strerror(-r));
	cr_assert_eq(buf[0], (uint8_t)(v + 1), "%s: echo", what);
}

Test(multiproc, garbage_in_a_live_owners_record_neither_harms_it_nor_loses_the_cpu,
     .fini = teardown, .timeout = 90)
{
	sys = test_system(NULL);
	const char *name = ipcc_system_name(sys);
	struct ipcc_cpu *c0 = test_attach(sys, 0);
	for (unsigned i = 0; i < GARBAGE_CASES; i++) {
		const struct garbage *g = &garbage_cases[i];
		pid_t owner = spawn_echo(name);
		echo_round_trip(c0, 1, g->what);
		write_garbage(name, 1, g, i + 1);
		/* The kernel, not the record, says who owns CPU 1. */
		cr_assert(owner_of(1).alive, "%s: owner reported dead", g->what);
		cr_assert_eq(ipcc_cpu_peer_alive(c0, 1), 1, "%s", g->what);
		struct ipcc_cpu *c = NULL;
		cr_assert_eq(ipcc_cpu_attach(sys, 1, NULL, &c), -EBUSY, "%s: stolen", g->what);
		echo_round_trip(c0, 2, g->what);
		echo_round_trip(c0, ECHO_BYE, g->what);
		expect_clean_exit(owner, g->what); /* it detached cleanly: no crash, no hang */
		cr_assert_not(owner_of(1).alive, "%s", g->what);
		c = NULL;
		int r = ipcc_cpu_attach(sys, 1, NULL, &c);
		cr_assert_eq(r, 0, "%s: slot lost: %s", g->what, strerror(-r));
		ipcc_cpu_detach(c);
	}
	ipcc_cpu_detach(c0);
}

Test(multiproc, garbage_in_a_cpu_record_never_blocks_the_next_attach, .fini = teardown,
     .timeout = 90)
{
	sys = test_system(NULL);
	const char *name = ipcc_system_name(sys);
	for (unsigned i = 0; i < GARBAGE_CASES; i++) {
		const struct garbage *g = &garbage_cases[i];
		int r;
		/* A free slot with a forged record: the next owner attaches and works. */
		write_garbage(name, 1, g, 100 + i);
		struct ipcc_cpu *c0 = test_attach(sys, 0);
		pid_t owner = spawn_echo(name);
		echo_round_trip(c0, 3, g->what);
		ipcc_cpu_detach(c0);

		/* Forged after the owner died: the slot is free all the same. */
		write_garbage(name, 1, g, 200 + i);
		kill(owner, SIGKILL);
		reap(owner);
		write_garbage(name, 1, g, 300 + i);
		cr_assert_not(owner_of(1).alive, "%s", g->what);
		pid_t next = spawn_owner(name, 1, &r);
		cr_assert_eq(r, 0, "%s: takeover after death: %s", g->what, strerror(-r));
		kill(next, SIGKILL);
		reap(next);
		struct ipcc_cpu *c = NULL;
		r = ipcc_cpu_attach(sys, 1, NULL, &c);
		cr_assert_eq(r, 0, "%s: slot lost: %s", g->what, strerror(-r));
		ipcc_cpu_detach(c);
	}
}

/*
 * A process that holds a lock on a CPU's claim byte for good, read or write, without being a
 * libipcc owner: attaches of that CPU fail with -EBUSY (after a bounded retry for a read lock),
 * and ending that process reclaims the slot.
 */
Test(multiproc, a_process_squatting_on_a_claim_is_reclaimed_by_ending_it, .fini = teardown,
     .timeout = 30)
{
	sys = test_system(NULL);
	const short types[] = { F_RDLCK, F_WRLCK };
	for (unsigned i = 0; i < 2; i++) {
		int p[2];
		cr_assert_eq(pipe(p), 0);
		pid_t squatter = spawn();
		if (squatter == 0) {
			close(p[0]);
			int fd = shm_open(ipcc_system_name(sys), O_RDWR, 0);
			struct flock fl = { .l_type = types[i],
					    .l_whence = SEEK_SET,
					    .l_start = (off_t)(IPCC_CLAIM_LOCK_OFFSET + 1),
					    .l_len = 1 };
			char ok = fd >= 0 && fcntl(fd, F_OFD_SETLK, &fl) == 0 ? 'y' : 'n';
			if (write(p[1], &ok, 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
		close(p[1]);
		char ok = 0;
		cr_assert_eq(read(p[0], &ok, 1), 1);
		close(p[0]);
		cr_assert_eq(ok, 'y', "the squatter could not lock");
		struct ipcc_cpu *c = NULL;
		cr_assert_eq(ipcc_cpu_attach(sys, 1, NULL, &c), -EBUSY, "lock type %d", types[i]);
		cr_assert_eq(owner_of(1).alive, types[i] == F_WRLCK, "a write lock is an owner");
		kill(squatter, SIGKILL);
		reap(squatter);
		c = test_attach(sys, 1);
		ipcc_cpu_detach(c);
	}
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
