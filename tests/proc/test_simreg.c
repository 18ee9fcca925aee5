/* SPDX-License-Identifier: MIT */
/*
 * Across real processes: anonymous systems (claims over a shared memfd, kill -9 seen as
 * -EPIPE, handover over a UNIX socket and across exec), and the channel API's message length
 * letting register-level code and the procedures talk to each other.
 */
#include <pthread.h>
#include <sys/socket.h>

#include "proc-test.h"

#define MSGS 200
#define BUF  256

static struct ipcc_system *anon_create(void)
{
	struct ipcc_config cfg;
	struct ipcc_system *sys = NULL;
	ipcc_config_init(&cfg);
	cfg.channels = 4;
	cfg.buffer_size = BUF;
	int r = ipcc_system_create_anon(&cfg, &sys);
	cr_assert_eq(r, 0, "ipcc_system_create_anon: %s", strerror(-r));
	return sys;
}

/* Peer side: a handle of its own from the inherited handle's descriptor, and CPU id; or _exit. */
static struct ipcc_cpu *peer_attach_fd(struct ipcc_system *inherited, unsigned id,
				       struct ipcc_system **ret_sys)
{
	struct ipcc_system *sys = NULL;
	struct ipcc_cpu *cpu = NULL;
	int r = ipcc_system_open_fd(ipcc_system_fd(inherited), 0, &sys);
	PEER_CHECK(r == 0, "ipcc_system_open_fd: %s", strerror(-r));
	r = ipcc_cpu_attach(sys, id, NULL, &cpu);
	PEER_CHECK(r == 0, "attach of CPU %u: %s", id, strerror(-r));
	*ret_sys = sys;
	return cpu;
}

/* ---- claims of an anonymous system, and kill -9 ---- */

/* A child's: the inherited handle (it opens its own from the descriptor), its event pipe. */
struct holder_arg {
	struct ipcc_system *sys;
	struct pt_pipe up;
};

static int holder(void *p)
{
	struct holder_arg *a = p;
	struct ipcc_system *sys;
	peer_attach_fd(a->sys, 1, &sys);
	pt_post(a->up, 'a');
	for (;;)
		pause(); /* until kill -9 */
	return 1;	 /* not reached */
}

struct killer {
	pid_t pid;
	int64_t at; /* when the signal went */
};

static void *kill_soon(void *p)
{
	struct killer *k = p;
	pt_sleep_ms(100);
	k->at = pt_now_ns();
	kill(k->pid, SIGKILL);
	return NULL;
}

Test(simreg, claims_of_a_memfd_system_hold_across_processes_and_kill9_ends_waits_with_epipe,
     .fini = pt_cleanup)
{
	struct ipcc_system *sys = anon_create();
	struct holder_arg a = { .sys = sys, .up = pt_pipe_new() };
	struct ipcc_cpu *c0, *c1 = NULL;
	struct ipcc_cpu_owner o;
	char buf[BUF];

	pid_t pid = pt_fork(holder, &a, 30);
	cr_assert_eq(pt_await(a.up, PT_LONG), 'a', "the holder attached%s", pt_peer_note(pid));
	cr_assert_eq(ipcc_cpu_attach(sys, 1, NULL, &c1), -EBUSY, "CPU 1 is the child's");
	cr_assert_eq(ipcc_system_cpu_owner(sys, 1, &o), 0);
	cr_assert(o.alive);
	cr_assert_eq(o.pid, pid);
	c0 = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);

	struct killer k = { .pid = pid };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, kill_soon, &k), 0);
	int r = ipcc_recv(c0, 1, 0, buf, sizeof(buf), PT_LONG);
	int64_t seen = pt_now_ns();
	pthread_join(t, NULL);
	cr_assert_eq(r, -EPIPE, "a wait on the killed peer: %d (%s)", r, strerror(-r));
	fprintf(stderr, "simreg: kill -9 of a memfd system's peer seen as -EPIPE after %.2f ms\n",
		(double)(seen - k.at) / PT_MS);
	cr_assert_lt(seen - k.at, PT_SEC, "-EPIPE within 1 s");
	int st = pt_reap(pid, PT_LONG);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	cr_assert_eq(ipcc_system_cpu_owner(sys, 1, &o), 0);
	cr_assert_not(o.alive, "the kernel dropped the claim with the process");
	cr_assert(o.attached, "it died without detaching");
	c1 = pt_attach(sys, 1, IPCC_WAIT_FUTEX, 0); /* the slot is taken over */
	ipcc_cpu_detach(c1);
	ipcc_cpu_detach(c0);
	ipcc_system_close(sys);
}

/* ---- over a UNIX socket, to a process that inherited nothing ---- */

struct receiver_arg {
	int sock;
	struct pt_pipe up, bye;
};

static int sock_peer(void *p)
{
	struct receiver_arg *a = p;
	struct ipcc_system *sys = NULL;
	struct ipcc_cpu *cpu = NULL;
	int r = ipcc_system_recv_fd(a->sock, 0, &sys);
	PEER_CHECK(r == 0, "ipcc_system_recv_fd: %s", strerror(-r));
	PEER_CHECK(ipcc_system_anonymous(sys), "anonymous");
	r = ipcc_cpu_attach(sys, 1, NULL, &cpu);
	PEER_CHECK(r == 0, "attach of CPU 1: %s", strerror(-r));
	pt_post(a->up, 'a');
	r = ipcc_send(cpu, 0, 2, "over a socket", 14, PT_LONG);
	PEER_CHECK(r == 0, "send: %s", strerror(-r));
	PEER_CHECK(pt_await(a->bye, PT_LONG) == 'x', "bye");
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

Test(simreg, a_memfd_system_sent_over_a_socket_is_shared_with_an_unrelated_process,
     .fini = pt_cleanup)
{
	int sp[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	/* Forked before the system exists: the child can only get it through the socket. */
	struct receiver_arg a = { .sock = sp[1], .up = pt_pipe_new(), .bye = pt_pipe_new() };
	pid_t pid = pt_fork(sock_peer, &a, 30);
	struct ipcc_system *sys = anon_create();
	struct ipcc_cpu *c0 = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0), *c1 = NULL;
	char buf[BUF] = { 0 };

	cr_assert_eq(ipcc_system_send_fd(sys, sp[0]), 0);
	cr_assert_eq(pt_await(a.up, PT_LONG), 'a', "the peer attached%s", pt_peer_note(pid));
	cr_assert_eq(ipcc_cpu_attach(sys, 1, NULL, &c1), -EBUSY, "CPU 1 is the peer's");
	int n = ipcc_recv(c0, 1, 2, buf, sizeof(buf), PT_LONG);
	cr_assert_eq(n, 14, "recv: %d%s", n, pt_peer_note(pid));
	cr_assert_str_eq(buf, "over a socket");
	pt_post(a.bye, 'x');
	pt_expect_exit0(pid, PT_LONG, "socket peer");
	ipcc_cpu_detach(c0);
	ipcc_system_close(sys);
	close(sp[0]);
	close(sp[1]);
}

/* ---- across exec ---- */

Test(simreg, a_memfd_system_survives_exec_through_a_descriptor_without_cloexec, .fini = pt_cleanup)
{
	struct ipcc_system *sys = anon_create();
	struct ipcc_cpu *c0 = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	char arg[16], buf[BUF] = { 0 };
	int fd = ipcc_system_dup_fd(sys, false);
	cr_assert_geq(fd, 0);
	snprintf(arg, sizeof(arg), "%d", fd);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl(ANON_PEER, "anon-peer", arg, "1", (char *)NULL);
		_exit(127);
	}
	close(fd);
	int n = ipcc_recv(c0, 1, 0, buf, sizeof(buf), PT_LONG);
	cr_assert_eq(n, 5, "recv: %d (%s)%s", n, strerror(n < 0 ? -n : 0), pt_peer_note(pid));
	cr_assert_str_eq(buf, "exec");
	pt_expect_exit0(pid, PT_LONG, "the exec'd peer");
	ipcc_cpu_detach(c0);
	ipcc_system_close(sys);
}

/* ---- register-level code and the procedures, in two processes ---- */

/* Wait, politely, until the channel's flag reads `want` (a register-level driver's poll). */
static bool poll_flag(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, enum ipcc_dir dir, int want)
{
	int64_t deadline = pt_now_ns() + PT_LONG;
	while (ipcc_chan_status(cpu, peer, ch, dir) != want) {
		if (pt_now_ns() > deadline)
			return false;
		struct timespec ts = { 0, 20000 };
		nanosleep(&ts, NULL);
	}
	return true;
}

struct rl_arg {
	struct ipcc_system *sys;
	bool writer; /* the child writes at register level (else it sends with the procedures) */
};

/* The child, CPU 0: one stream of MSGS self-checking messages towards CPU 1 on channel 1. */
static int rl_child(void *p)
{
	struct rl_arg *a = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach_fd(a->sys, 0, &sys);
	int r;
	for (uint64_t i = 0; i < MSGS; i++) {
		uint8_t msg[BUF];
		size_t len = pt_msg_len(1, i, BUF);
		pt_msg_fill(msg, 1, i, len);
		if (!a->writer) {
			r = ipcc_send(cpu, 1, 1, msg, len, PT_LONG);
			PEER_CHECK(r == 0, "send %llu: %s", (unsigned long long)i, strerror(-r));
			continue;
		}
		void *buf;
		size_t size;
		/* The simplex procedure by hand: wait for free, write, length, CHnS. */
		PEER_CHECK(poll_flag(cpu, 1, 1, IPCC_DIR_TX, 0),
			   "message %llu: channel never freed", (unsigned long long)i);
		PEER_CHECK(ipcc_chan_buffer(cpu, 1, 1, IPCC_DIR_TX, &buf, &size) == 0, "buffer");
		memcpy(buf, msg, len);
		PEER_CHECK(ipcc_chan_set_len(cpu, 1, 1, IPCC_DIR_TX, len) == 0, "set_len");
		PEER_CHECK(ipcc_chan_set(cpu, 1, 1) == 0, "set");
	}
	/* The last message must be taken before we leave (it would stay, but say it was). */
	PEER_CHECK(poll_flag(cpu, 1, 1, IPCC_DIR_TX, 0), "last message never taken");
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

static void rl_run(bool child_writes_registers)
{
	struct ipcc_system *sys = anon_create();
	struct rl_arg a = { .sys = sys, .writer = child_writes_registers };
	struct ipcc_cpu *c1 = pt_attach(sys, 1, IPCC_WAIT_FUTEX, 0);
	struct pt_tally t = { 0 };
	pid_t pid = pt_fork(rl_child, &a, 60);

	for (uint64_t i = 0; i < MSGS; i++) {
		uint8_t got[BUF];
		int n;
		if (child_writes_registers) {
			n = ipcc_recv(c1, 0, 1, got, sizeof(got), PT_LONG);
			cr_assert_geq(n, 1, "recv %llu: %d (%s)%s", (unsigned long long)i, n,
				      strerror(-n), pt_peer_note(pid));
		} else {
			void *buf;
			size_t size;
			cr_assert(poll_flag(c1, 0, 1, IPCC_DIR_RX, 1), "message %llu never came%s",
				  (unsigned long long)i, pt_peer_note(pid));
			n = ipcc_chan_len(c1, 0, 1, IPCC_DIR_RX);
			cr_assert_geq(n, 1, "length of %llu: %d", (unsigned long long)i, n);
			cr_assert_eq(ipcc_chan_buffer(c1, 0, 1, IPCC_DIR_RX, &buf, &size), 0);
			memcpy(got, buf, (size_t)n);
			cr_assert_eq(ipcc_chan_clear(c1, 0, 1), 0);
		}
		pt_msg_take(&t, got, (size_t)n, 1, BUF);
	}
	cr_assert(pt_tally_ok(&t), PT_TALLY_FMT, PT_TALLY_ARGS(&t));
	cr_assert_eq(t.received, MSGS);
	pt_expect_exit0(pid, PT_LONG, "the other side");
	ipcc_cpu_detach(c1);
	ipcc_system_close(sys);
}

Test(simreg, a_register_level_writer_and_a_procedure_reader_interoperate, .fini = pt_cleanup)
{
	rl_run(true);
}

Test(simreg, a_procedure_writer_and_a_register_level_reader_interoperate, .fini = pt_cleanup)
{
	rl_run(false);
}

/* ---- reset and restore wake the other process ---- */

/* A child that attaches CPU `id` and blocks in act (which posts 'a' first), then leaves. */
struct blocked_arg {
	struct holder_arg h;
	unsigned id;
	void (*act)(struct ipcc_cpu *cpu, struct pt_pipe up);
};

static int blocked_peer(void *p)
{
	struct blocked_arg *a = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach_fd(a->h.sys, a->id, &sys);
	a->act(cpu, a->h.up);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

/* CPU 0: the channel is occupied, it waits in a send to free it. */
static void blocked_send(struct ipcc_cpu *cpu, struct pt_pipe up)
{
	int r = ipcc_send(cpu, 1, 3, "first", 6, 0);
	PEER_CHECK(r == 0, "first send: %s", strerror(-r));
	pt_post(up, 'a');
	/* Nobody receives: only the reset frees the channel and must wake us. */
	r = ipcc_send(cpu, 1, 3, "second", 7, PT_LONG);
	PEER_CHECK(r == 0, "the send after the reset: %s", strerror(-r));
}

Test(simreg, a_reset_by_a_simulator_wakes_a_sender_blocked_in_another_process, .fini = pt_cleanup)
{
	struct ipcc_system *sys = anon_create();
	struct blocked_arg a = { { sys, pt_pipe_new() }, 0, blocked_send };
	struct ipcc_regs *regs;
	pid_t pid = pt_fork(blocked_peer, &a, 30);
	cr_assert_eq(pt_await(a.h.up, PT_LONG), 'a', "%s", pt_peer_note(pid));
	pt_sleep_ms(50); /* let it block (a wake-up before it sleeps is not lost either) */
	cr_assert_eq(ipcc_regs_open(sys, 0, 1, &regs), 0);
	int64_t t0 = pt_now_ns();
	cr_assert_eq(ipcc_regs_reset(regs), 0);
	pt_expect_exit0(pid, PT_LONG, "the blocked sender");
	fprintf(stderr, "simreg: a reset woke the blocked sender, which ended %.2f ms later\n",
		(double)(pt_now_ns() - t0) / PT_MS);
	uint32_t sr = 0;
	cr_assert_eq(ipcc_regs_read(regs, IPCC_C1TOC2SR, &sr), 0);
	cr_assert_eq(sr, IPCC_SR_CHF(3), "its second message is in the channel");
	ipcc_regs_close(regs);
	ipcc_system_close(sys);
}

/* CPU 1: blocked in a receive that only a restore can satisfy. */
static void blocked_recv(struct ipcc_cpu *cpu, struct pt_pipe up)
{
	char buf[BUF] = { 0 };
	pt_post(up, 'a');
	int n = ipcc_recv(cpu, 0, 2, buf, sizeof(buf), PT_LONG);
	PEER_CHECK(n == 9, "recv after the restore: %d (%s)", n, strerror(n < 0 ? -n : 0));
	PEER_CHECK(!strcmp(buf, "restored"), "content '%s'", buf);
}

Test(simreg, a_restored_message_wakes_a_receiver_blocked_in_another_process, .fini = pt_cleanup)
{
	struct ipcc_system *sys = anon_create();
	struct blocked_arg a = { { sys, pt_pipe_new() }, 1, blocked_recv };
	struct ipcc_regs *regs;
	struct ipcc_regs_state st;
	void *buf;
	size_t size;
	pid_t pid = pt_fork(blocked_peer, &a, 30);
	cr_assert_eq(pt_await(a.h.up, PT_LONG), 'a', "%s", pt_peer_note(pid));
	pt_sleep_ms(50); /* let it block: its bank now has channel 2 unmasked and RXOIE set */
	struct ipcc_cpu *c0 = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	cr_assert_eq(ipcc_chan_buffer(c0, 1, 2, IPCC_DIR_TX, &buf, &size), 0);
	memcpy(buf, "restored", 9);
	cr_assert_eq(ipcc_regs_open(sys, 0, 1, &regs), 0);
	cr_assert_eq(ipcc_regs_save(regs, &st), 0);
	/* A state in which CPU 0's message on channel 2 is in flight, as a replay would have. */
	st.sr[0] |= IPCC_SR_CHF(2);
	st.len[0][2] = 9;
	int64_t t0 = pt_now_ns();
	cr_assert_eq(ipcc_regs_restore(regs, &st), 0);
	pt_expect_exit0(pid, PT_LONG, "the blocked receiver");
	fprintf(stderr, "simreg: a restore woke the blocked receiver, which ended %.2f ms later\n",
		(double)(pt_now_ns() - t0) / PT_MS);
	ipcc_regs_close(regs);
	ipcc_cpu_detach(c0);
	ipcc_system_close(sys);
}

/* ---- a process that is no CPU waits for the lines ---- */

struct watcher_arg {
	const char *name;
	struct pt_pipe up;
};

/* Opens the system by name, attaches nothing, and waits for the lines to leave 0. */
static int line_watcher(void *p)
{
	struct watcher_arg *a = p;
	struct ipcc_system *sys;
	struct ipcc_regs *regs;
	uint32_t m = 0xDEADBEEFu;
	PEER_CHECK(ipcc_system_open(a->name, &sys) == 0, "open");
	PEER_CHECK(ipcc_regs_open(sys, 0, 1, &regs) == 0, "regs");
	PEER_CHECK(ipcc_regs_wait_lines(regs, 0, &m, 0) == -EAGAIN, "the lines moved early");
	pt_post(a->up, 'w');
	int r = ipcc_regs_wait_lines(regs, 0, &m, PT_LONG);
	PEER_CHECK(r == 0, "wait_lines: %s", strerror(-r));
	PEER_CHECK(m == IPCC_LINE_C2_RXO, "woke with mask %#x, expected RXO of processor 2", m);
	ipcc_regs_close(regs);
	ipcc_system_close(sys);
	return 0;
}

Test(simreg, a_process_that_is_no_cpu_sleeps_until_a_send_in_another_raises_a_line,
     .fini = pt_cleanup)
{
	struct ipcc_system *sys = pt_create(2, 4, BUF);
	struct ipcc_cpu *a = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	struct ipcc_cpu *b = pt_attach(sys, 1, IPCC_WAIT_FUTEX, 0);
	/* CPU 1 gets RX occupied of channel 2 enabled and unmasked, as a receiver would. */
	cr_assert_eq(ipcc_chan_irq_enable(b, 0, IPCC_DIR_RX, true), 0);
	cr_assert_eq(ipcc_chan_unmask(b, 0, 2, IPCC_DIR_RX), 0);
	struct watcher_arg w = { ipcc_system_name(sys), pt_pipe_new() };
	pid_t pid = pt_fork(line_watcher, &w, 30);
	cr_assert_eq(pt_await(w.up, PT_LONG), 'w', "%s", pt_peer_note(pid));
	pt_sleep_ms(50); /* let it sleep: a change before it does is not lost either */
	int64_t t0 = pt_now_ns();
	cr_assert_eq(ipcc_send(a, 1, 2, "hi", 2, 0), 0);
	pt_expect_exit0(pid, PT_LONG, "the line watcher");
	fprintf(stderr,
		"simreg: a line watcher in another process returned %.2f ms after the send\n",
		(double)(pt_now_ns() - t0) / PT_MS);
	ipcc_cpu_detach(b);
	ipcc_cpu_detach(a);
	ipcc_system_unlink(ipcc_system_name(sys));
	ipcc_system_close(sys);
}
