/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the event-loop tests (tests/event): unique shm names, exec'd and forked children
 * with watchdogs, and the receiving side of the message protocol (event-msg.h).
 *
 * Children are started with fork+exec of the ipcc-peer program (its path comes from meson in
 * IPCC_PEER), so a peer is an unrelated process image. Every child dies with the test process
 * (PR_SET_PDEATHSIG, set after any uid change, which would clear it) and after EV_CHILD_ALARM_S
 * (alarm() survives exec); the test waits for it through a pidfd with a deadline. A child never
 * uses Criterion's asserts: it reports through its exit status, its stdout (a pipe to the test)
 * or shared memory. Header-only so that each test file stays one executable.
 */
#ifndef IPCC_EVENT_TEST_H
#define IPCC_EVENT_TEST_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>

#include <ipcc/ipcc.h>

#include "event-msg.h"
/* The doorbell words, for the state dump of a failed run (tests link the static library). */
#include "internal.h"

#define EV_SEC		 ((int64_t)1000000000)
#define EV_MS		 ((int64_t)1000000)
#define EV_CHILD_ALARM_S 45
#define EV_CHILDREN_MAX	 8
#define EV_NAMES_MAX	 4

/* ---- names and time ------------------------------------------------------------------ */

static char ev_names[EV_NAMES_MAX][64];
static unsigned ev_name_count;

/* A fresh shm name; ev_teardown() removes it whatever the test did. */
static inline const char *ev_name(void)
{
	cr_assert_lt(ev_name_count, EV_NAMES_MAX, "too many names in one test");
	char *n = ev_names[ev_name_count];
	snprintf(n, sizeof(ev_names[0]), "/ipcc-event-%d-%u", (int)getpid(), ev_name_count);
	ev_name_count++;
	shm_unlink(n); /* left behind by a run killed before its teardown */
	return n;
}

static inline int64_t ev_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * EV_SEC + ts.tv_nsec;
}

static inline void ev_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- children ------------------------------------------------------------------------ */

struct ev_child {
	pid_t pid;  /* 0 once reaped */
	int pidfd;  /* readable when the child has exited */
	int out;    /* read end of its stdout, or -1 */
	int status; /* wait status once reaped */
};

static struct ev_child ev_children[EV_CHILDREN_MAX];
static unsigned ev_child_count;

static inline int ev_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* In the child, after fork: the watchdogs, then the identity. Never returns on failure. */
static inline void ev_child_setup(pid_t parent, uid_t uid, int out_wr)
{
	if (out_wr >= 0 && dup2(out_wr, STDOUT_FILENO) < 0)
		_exit(120);
	if (uid != (uid_t)-1) {
		/* Group first: after setuid we could no longer change it. */
		if (setgroups(0, NULL) < 0 || setgid((gid_t)uid) < 0 || setuid(uid) < 0)
			_exit(121);
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(122); /* the test died before the prctl */
	signal(SIGALRM, SIG_DFL);
	alarm(EV_CHILD_ALARM_S);
}

static inline struct ev_child *ev_child_add(pid_t pid, int out)
{
	struct ev_child *c = &ev_children[ev_child_count++];
	*c = (struct ev_child){ .pid = pid, .pidfd = ev_pidfd_open(pid), .out = out };
	cr_assert_geq(c->pidfd, 0, "pidfd_open: %s", strerror(errno));
	return c;
}

/*
 * Fork a child as `uid` ((uid_t)-1: ours), its stdout to a pipe to the test when out_pipe:
 * NULL in the child (set up by ev_child_setup), the child's record in the test.
 */
static inline struct ev_child *ev_fork_child(uid_t uid, bool out_pipe)
{
	int p[2] = { -1, -1 };
	cr_assert_lt(ev_child_count, EV_CHILDREN_MAX, "too many children in one test");
	if (out_pipe)
		cr_assert_eq(pipe2(p, O_CLOEXEC), 0, "pipe: %s", strerror(errno));
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		ev_child_setup(parent, uid, p[1]);
		return NULL;
	}
	if (out_pipe)
		close(p[1]);
	return ev_child_add(pid, p[0]);
}

/* fork+exec argv (argv[0] a path) as `uid` ((uid_t)-1: ours), its stdout to a pipe. */
static inline struct ev_child *ev_spawn_as(const char *const *argv, uid_t uid)
{
	struct ev_child *c = ev_fork_child(uid, true);
	if (!c) {
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return c;
}

static inline struct ev_child *ev_spawn(const char *const *argv)
{
	return ev_spawn_as(argv, (uid_t)-1);
}

/* Run fn(arg) in a forked child that _exit()s with its return value (see ev_fork_child). */
static inline struct ev_child *ev_fork_fn(int (*fn)(void *), void *arg, uid_t uid, bool out_pipe)
{
	struct ev_child *c = ev_fork_child(uid, out_pipe);
	if (!c) {
		int r = fn(arg);
		fflush(NULL);
		_exit(r);
	}
	return c;
}

/* Run fn(arg) in a forked child of ours that _exit()s with its return value. */
static inline struct ev_child *ev_fork(int (*fn)(void *), void *arg)
{
	return ev_fork_fn(fn, arg, (uid_t)-1, false);
}

/* Wait for the child's exit, at most timeout_ns; false on timeout (the child still runs). */
static inline bool ev_wait(struct ev_child *c, int64_t timeout_ns)
{
	if (!c->pid)
		return true;
	struct pollfd pfd = { .fd = c->pidfd, .events = POLLIN };
	int64_t deadline = ev_now_ns() + timeout_ns;
	for (;;) {
		int64_t left = deadline - ev_now_ns();
		int r = poll(&pfd, 1, left > 0 ? (int)(left / EV_MS) + 1 : 0);
		if (r > 0)
			break;
		if (r == 0 || errno != EINTR)
			return false;
	}
	cr_assert_eq(waitpid(c->pid, &c->status, 0), c->pid, "waitpid: %s", strerror(errno));
	c->pid = 0;
	return true;
}

static inline void ev_kill(struct ev_child *c)
{
	if (c->pid) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &c->status, 0);
		c->pid = 0;
	}
}

/* How a child ended, in words. */
static inline const char *ev_status_str(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "signal %d (%s)%s", WTERMSIG(st), strsignal(WTERMSIG(st)),
			 WTERMSIG(st) == SIGALRM ? ": its watchdog fired" : "");
	else
		snprintf(buf, len, "wait status 0x%x", st);
	return buf;
}

/* Assert that the child ends with status 0 within timeout_ns (killing it if not). */
static inline void ev_expect_exit0(struct ev_child *c, int64_t timeout_ns, const char *what)
{
	char buf[96];
	if (!ev_wait(c, timeout_ns)) {
		ev_kill(c);
		cr_assert_fail("%s: still running after %.1f s (killed)", what,
			       (double)timeout_ns / EV_SEC);
	}
	cr_assert(WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0,
		  "%s failed: %s (its stderr is in the test log)", what,
		  ev_status_str(c->status, buf, sizeof(buf)));
}

/* One line of the child's stdout (without the newline) within timeout_ns; false if none. */
static inline bool ev_read_line(struct ev_child *c, char *line, size_t cap, int64_t timeout_ns)
{
	int64_t deadline = ev_now_ns() + timeout_ns;
	size_t n = 0;
	while (n + 1 < cap) {
		struct pollfd pfd = { .fd = c->out, .events = POLLIN };
		int64_t left = deadline - ev_now_ns();
		if (left <= 0 || poll(&pfd, 1, (int)(left / EV_MS) + 1) <= 0)
			return false;
		char ch;
		ssize_t r = read(c->out, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		if (ch == '\n')
			break;
		line[n++] = ch;
	}
	line[n] = 0;
	return true;
}

/* The child's last stdout line (it has exited: the pipe is at its end). */
static inline void ev_last_line(struct ev_child *c, char *line, size_t cap)
{
	char buf[256];
	line[0] = 0;
	while (ev_read_line(c, buf, sizeof(buf), 2 * EV_SEC)) {
		size_t n = strnlen(buf, cap - 1);
		memcpy(line, buf, n);
		line[n] = 0;
	}
}

static inline void ev_children_teardown(void)
{
	for (unsigned i = 0; i < ev_child_count; i++) {
		struct ev_child *c = &ev_children[i];
		ev_kill(c);
		if (c->pidfd >= 0)
			close(c->pidfd);
		if (c->out >= 0)
			close(c->out);
	}
	ev_child_count = 0;
}

static inline void ev_names_teardown(void)
{
	for (unsigned i = 0; i < ev_name_count; i++)
		shm_unlink(ev_names[i]);
	ev_name_count = 0;
}

/* The teardown of a fixture with a system and up to two CPUs of this process. */
static inline void ev_fixture_teardown(struct ipcc_system **sys, struct ipcc_cpu **a,
				       struct ipcc_cpu **b)
{
	ev_children_teardown();
	ipcc_cpu_detach(*b);
	ipcc_cpu_detach(*a);
	*a = *b = NULL;
	ipcc_system_close(*sys);
	*sys = NULL;
	ev_names_teardown();
}

/* The exec'd peer: its path comes from meson (tests/event/meson.build). */
static inline const char *ev_peer_path(void)
{
	const char *p = getenv("IPCC_PEER");
	cr_assert(p && *p, "IPCC_PEER is not set: run the test through `meson test`");
	return p;
}

/* ---- systems and CPUs -------------------------------------------------------------- */

static inline struct ipcc_system *ev_create(const char *name, uint32_t buffer_size, mode_t mode)
{
	struct ipcc_config cfg;
	struct ipcc_system *sys = NULL;
	ipcc_config_init(&cfg);
	cfg.buffer_size = buffer_size;
	cfg.mode = mode;
	int r = ipcc_system_create(name, &cfg, &sys);
	cr_assert_eq(r, 0, "ipcc_system_create(%s): %s", name, strerror(-r));
	return sys;
}

static inline int ev_attach(struct ipcc_system *sys, unsigned id, enum ipcc_wait_mode mode,
			    struct ipcc_cpu **ret)
{
	struct ipcc_cpu_options o;
	ipcc_cpu_options_init(&o);
	o.wait = mode;
	return ipcc_cpu_attach(sys, id, &o, ret);
}

/* How often CPU id was rung without its eventfd (bell_fallback of its record). */
static inline uint32_t ev_fallback_rings(struct ipcc_system *sys, unsigned id)
{
	/* Relaxed: a counter read for the report, after the rings it counts. */
	return atomic_load_explicit(&ipcc_shm_cpu(sys, id)->bell_fallback, memory_order_relaxed);
}

/* ---- the receiving side ------------------------------------------------------------- */

/*
 * What a receiving CPU got: the simplex stream (ipcc_recv_async) and the calls it served
 * (ipcc_serve_async), and how often its loop woke up.
 */
struct ev_rx {
	size_t cap;
	struct evm_tally msgs;
	struct evm_tally calls;
	uint64_t wakeups;    /* returns of the loop's wait with something to do */
	uint64_t efd_writes; /* sum of the eventfd counter read before dispatching */
	uint64_t events;     /* channel events handled by the dispatcher */
};

static inline void ev_on_msg(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data,
			     size_t len, void *arg)
{
	struct ev_rx *rx = arg;
	evm_tally_take(&rx->msgs, data, len, rx->cap, EVM_MAGIC_MSG);
}

static inline int ev_on_call(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *buf,
			     size_t len, size_t cap, void *arg)
{
	struct ev_rx *rx = arg;
	evm_tally_take(&rx->calls, buf, len, rx->cap, EVM_MAGIC_REQ);
	/* Answer even a bad request: the caller then reports it instead of hanging. */
	if (len >= EVM_HDR)
		evm_transform(buf, len);
	return (int)len;
}

/* Register the handlers of the simplex channel `ch` and the call channel `call_ch`. */
static inline void ev_rx_register(struct ev_rx *rx, struct ipcc_cpu *cpu, unsigned peer,
				  unsigned ch, unsigned call_ch)
{
	*rx = (struct ev_rx){ .cap = ipcc_system_buffer_size(ipcc_cpu_system(cpu)) };
	int r = ipcc_recv_async(cpu, peer, ch, ev_on_msg, rx);
	cr_assert_eq(r, 0, "ipcc_recv_async: %s", strerror(-r));
	r = ipcc_serve_async(cpu, peer, call_ch, ev_on_call, rx);
	cr_assert_eq(r, 0, "ipcc_serve_async: %s", strerror(-r));
}

static inline bool ev_rx_done(const struct ev_rx *rx, uint64_t msgs, uint64_t calls)
{
	return rx->msgs.errors || rx->calls.errors ||
	       (rx->msgs.count >= msgs && rx->calls.count >= calls);
}

static inline void ev_rx_expect(const struct ev_rx *rx, uint64_t msgs, uint64_t calls)
{
	cr_expect_eq(rx->msgs.errors, 0, "simplex stream: %llu errors, first: %s",
		     (unsigned long long)rx->msgs.errors, rx->msgs.first);
	cr_expect_eq(rx->calls.errors, 0, "calls: %llu errors, first: %s",
		     (unsigned long long)rx->calls.errors, rx->calls.first);
	cr_assert_eq(rx->msgs.count, msgs, "received %llu of %llu messages",
		     (unsigned long long)rx->msgs.count, (unsigned long long)msgs);
	cr_assert_eq(rx->calls.count, calls, "served %llu of %llu calls",
		     (unsigned long long)rx->calls.count, (unsigned long long)calls);
}

/*
 * Ring the eventfd-mode CPU `to` n times from `from` (this process; futex mode): one message on
 * channel ch each, then poll its fd (each ring must make it readable) and dispatch. Returns how
 * many of the rings fell back (reached it without the ringer holding its fd).
 */
static inline uint32_t ev_rings_counted(struct ipcc_cpu *from, struct ipcc_cpu *to, unsigned ch,
					uint32_t n)
{
	struct ipcc_system *sys = ipcc_cpu_system(to);
	struct ev_rx rx = { .cap = ipcc_system_buffer_size(sys) };
	int r = ipcc_recv_async(to, ipcc_cpu_id(from), ch, ev_on_msg, &rx);
	cr_assert_eq(r, 0, "ipcc_recv_async: %s", strerror(-r));
	uint8_t *msg = malloc(rx.cap);
	cr_assert_not_null(msg);
	uint32_t fb0 = ev_fallback_rings(sys, ipcc_cpu_id(to));
	for (uint32_t i = 0; i < n; i++) {
		size_t len = evm_build(msg, rx.cap, EVM_MAGIC_MSG, i);
		r = ipcc_send(from, ipcc_cpu_id(to), ch, msg, len, 0);
		cr_assert_eq(r, 0, "send %u: %s", i, strerror(-r));
		struct pollfd pfd = { .fd = ipcc_cpu_fd(to), .events = POLLIN };
		cr_assert_eq(poll(&pfd, 1, 2000), 1, "ring %u did not make the eventfd readable",
			     i);
		cr_assert_eq(ipcc_cpu_dispatch(to), 1);
	}
	free(msg);
	ev_rx_expect(&rx, n, 0);
	return ev_fallback_rings(sys, ipcc_cpu_id(to)) - fb0;
}

enum ev_run { EV_RUN_DONE = 0, EV_RUN_PEER_EXITED = 1, EV_RUN_TIMEOUT = 2 };

/*
 * The epoll loop of an eventfd-mode CPU: epoll on ipcc_cpu_fd and on the peer's pidfd,
 * ipcc_cpu_dispatch on readiness, until rx has msgs messages and calls calls (or an error), the
 * peer exits, or timeout_ns passes. With count_efd the loop reads the eventfd itself before
 * dispatching, to count the writes (the dispatcher then finds it drained). Returns an ev_run
 * value, or a negative errno of the loop's own calls. Usable in a forked child (no asserts).
 */
static inline int ev_epoll_run(struct ipcc_cpu *cpu, struct ev_rx *rx, int pidfd, uint64_t msgs,
			       uint64_t calls, int64_t timeout_ns, bool count_efd)
{
	int fd = ipcc_cpu_fd(cpu);
	if (fd < 0)
		return fd;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 0 };
	int r = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	if (!r && pidfd >= 0) {
		ev = (struct epoll_event){ .events = EPOLLIN, .data.u32 = 1 };
		r = epoll_ctl(ep, EPOLL_CTL_ADD, pidfd, &ev);
	}
	if (r < 0) {
		r = -errno;
		close(ep);
		return r;
	}

	int64_t deadline = ev_now_ns() + timeout_ns;
	int ret = EV_RUN_TIMEOUT;
	/* Whatever arrived before the loop started: the fd may have been written already. */
	r = ipcc_cpu_dispatch(cpu);
	while (r >= 0) {
		rx->events += (uint64_t)r;
		if (ev_rx_done(rx, msgs, calls)) {
			ret = EV_RUN_DONE;
			break;
		}
		int64_t left = deadline - ev_now_ns();
		if (left <= 0)
			break;
		struct epoll_event got[2];
		int n = epoll_wait(ep, got, 2, (int)(left / EV_MS) + 1);
		if (n < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		bool exited = false;
		for (int i = 0; i < n; i++)
			exited |= got[i].data.u32 == 1;
		if (n > 0)
			rx->wakeups++;
		if (count_efd) {
			uint64_t v;
			if (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
				rx->efd_writes += v;
		}
		r = ipcc_cpu_dispatch(cpu);
		if (exited && r >= 0) {
			/* Its last messages are in the channels: the dispatch above took them. */
			rx->events += (uint64_t)r;
			ret = ev_rx_done(rx, msgs, calls) ? EV_RUN_DONE : EV_RUN_PEER_EXITED;
			break;
		}
	}
	close(ep);
	return r < 0 ? r : ret;
}

/*
 * What a stalled run looks like: each CPU's doorbell, each link's registers, and where the
 * threads of the peer sleep in the kernel. Printed before a timeout fails the test.
 */
static inline void ev_dump(struct ipcc_system *sys, const struct ev_child *peer)
{
	for (unsigned id = 0; id < ipcc_system_cpus(sys); id++) {
		struct ipcc_shm_cpu *c = ipcc_shm_cpu(sys, id);
		/* Relaxed: a snapshot for the log. */
		fprintf(stderr,
			"dump: CPU %u gen %u: bell_seq %u sleepers 0x%x pending 0x%llx fallback "
			"%u\n",
			id, atomic_load_explicit(&c->generation, memory_order_relaxed),
			atomic_load_explicit(&c->bell_seq, memory_order_relaxed),
			atomic_load_explicit(&c->bell_sleepers, memory_order_relaxed),
			(unsigned long long)atomic_load_explicit(&c->bell_pending,
								 memory_order_relaxed),
			atomic_load_explicit(&c->bell_fallback, memory_order_relaxed));
	}
	struct ipcc_regs *regs;
	if (ipcc_regs_open(sys, 0, 1, &regs) == 0) {
		static const uint32_t offs[] = { IPCC_C1CR, IPCC_C1MR, IPCC_C1TOC2SR,
						 IPCC_C2CR, IPCC_C2MR, IPCC_C2TOC1SR };
		static const char *const names[] = { "C1CR", "C1MR", "C1TOC2SR",
						     "C2CR", "C2MR", "C2TOC1SR" };
		for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
			uint32_t v = 0;
			ipcc_regs_read(regs, offs[i], &v);
			fprintf(stderr, "dump: link 0-1 %-8s 0x%08x\n", names[i], v);
		}
		ipcc_regs_close(regs);
	}
	if (!peer || !peer->pid)
		return;
	char path[320], text[1024];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)peer->pid);
	DIR *d = opendir(path);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		static const char *const files[] = { "wchan", "syscall", "stack" };
		for (unsigned i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "/proc/%d/task/%s/%s", (int)peer->pid,
				 de->d_name, files[i]);
			FILE *f = fopen(path, "r");
			if (!f)
				continue;
			size_t n = fread(text, 1, sizeof(text) - 1, f);
			text[n] = 0;
			fclose(f);
			fprintf(stderr, "dump: peer %d thread %s %s: %s\n", (int)peer->pid,
				de->d_name, files[i], text);
		}
	}
	if (d)
		closedir(d);
}

/* Assert on an ev_*_run result, naming the peer's fate when it ended the loop. */
static inline void ev_expect_run(int run, struct ev_child *peer, const char *loop)
{
	char buf[96];
	cr_assert_geq(run, 0, "%s loop: %s", loop, strerror(-run));
	if (run == EV_RUN_PEER_EXITED) {
		ev_wait(peer, 5 * EV_SEC);
		cr_assert_fail("%s loop: the peer ended before the traffic did: %s", loop,
			       ev_status_str(peer->status, buf, sizeof(buf)));
	}
	cr_assert_neq(run, EV_RUN_TIMEOUT, "%s loop: timed out", loop);
}

#endif
