/* SPDX-License-Identifier: MIT */
/*
 * Notify in event loops: two processes, each one CPU, each driving its CPU from a loop of its
 * own: epoll on the CPU's eventfd (IPCC_WAIT_EVENTFD) with ipcc_cpu_dispatch on readiness, or
 * the application's io_uring (ipcc/uring.h: a multishot poll on the eventfd, or a futex wait on
 * the doorbell) with ipcc_uring_complete. The callbacks run from that dispatch.
 *
 * Both sides ping: CPU a sends 0..N-1 to client 2 of CPU b, one at a time; b's callback echoes
 * each value to client 3 of a (a send with timeout 0 from interrupt context, as an ISR would);
 * a's echo callback checks it and sends the next ping. b pings a the same way, at the same time.
 * Every ping and every echo must arrive once and in order. The loops start after a sync_all
 * (the start-up barrier). The callbacks must run on the loop's thread, from its dispatch or
 * from the start-up sync_all (which drains while it waits, and may run a good part of the
 * peer's first pings when the peer's barrier returned first).
 */
#include "notify-sync-test.h"

#include <pthread.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/syscall.h>

#if NS_HAVE_LIBURING
#include <liburing.h>
#endif

#define E_VALUES   20000u
#define E_PING	   2u
#define E_ECHO	   3u
#define E_RUN_NS   (30 * PT_SEC)
#define E_ERR_SIZE 240

enum e_loop { E_EPOLL, E_URING_POLL, E_URING_FUTEX };

static const char *e_loop_name(enum e_loop l)
{
	return l == E_EPOLL ? "epoll" : l == E_URING_POLL ? "io_uring poll" : "io_uring futex";
}

/* One side: process-local, touched by its loop thread only (callbacks run from its dispatch). */
struct e_side {
	struct ipcc_cpu *cpu;
	unsigned id, peer;
	enum e_loop loop;
	uint32_t pings_sent, pings_got, echoes_got;
	uint64_t callbacks, outside_dispatch, wakeups;
	uint64_t in_sync_count, other_thread;
	pthread_t loop_thread;
	bool in_dispatch, in_sync;
	char err[E_ERR_SIZE];
};

static void e_fail(struct e_side *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void e_fail(struct e_side *s, const char *fmt, ...)
{
	va_list ap;
	if (s->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

static bool e_done(const struct e_side *s)
{
	return s->err[0] || (s->echoes_got == E_VALUES && s->pings_got == E_VALUES);
}

static void e_count(struct e_side *s, unsigned remote, unsigned client)
{
	s->callbacks++;
	s->outside_dispatch += !s->in_dispatch;
	s->in_sync_count += s->in_sync;
	s->other_thread += !pthread_equal(pthread_self(), s->loop_thread);
	if (remote != s->peer)
		e_fail(s, "CPU %u: a value for client %u from CPU %u", s->id, client, remote);
}

static void e_send_ping(struct e_side *s)
{
	int r = ipcc_notify_send(s->cpu, s->peer, E_PING, s->pings_sent, 0);
	if (r)
		e_fail(s, "CPU %u: ping %u: %s", s->id, s->pings_sent, strerror(-r));
	else
		s->pings_sent++;
}

static void e_on_ping(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
		      void *arg)
{
	struct e_side *s = arg;
	e_count(s, remote, client);
	if (value != s->pings_got)
		e_fail(s, "CPU %u: ping %u where %u was due", s->id, value, s->pings_got);
	s->pings_got++;
	/* Timeout 0: at most this echo and one ping are queued towards the peer, of 16. */
	int r = ipcc_notify_send(cpu, remote, E_ECHO, value, 0);
	if (r)
		e_fail(s, "CPU %u: echo %u: %s", s->id, value, strerror(-r));
}

static void e_on_echo(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
		      void *arg)
{
	struct e_side *s = arg;
	(void)cpu;
	e_count(s, remote, client);
	if (value != s->echoes_got)
		e_fail(s, "CPU %u: echo %u where %u was due", s->id, value, s->echoes_got);
	s->echoes_got++;
	if (s->pings_sent < E_VALUES)
		e_send_ping(s);
}

static int e_dispatch(struct e_side *s)
{
	s->in_dispatch = true;
	int r = ipcc_cpu_dispatch(s->cpu);
	s->in_dispatch = false;
	return r;
}

/* epoll on the CPU's fd (and on pidfd, when not -1: the peer's exit ends the loop). */
static int e_epoll_run(struct e_side *s, int pidfd)
{
	int fd = ipcc_cpu_fd(s->cpu);
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
	r = r < 0 ? -errno : e_dispatch(s);
	int64_t deadline = pt_now_ns() + E_RUN_NS;
	while (r >= 0 && !e_done(s)) {
		int64_t left = deadline - pt_now_ns();
		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		struct epoll_event got[2];
		int n = epoll_wait(ep, got, 2, (int)(left / PT_MS) + 1);
		if (n < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		bool exited = false;
		for (int i = 0; i < n; i++)
			exited |= got[i].data.u32 == 1;
		s->wakeups += n > 0;
		r = e_dispatch(s);
		if (exited && r >= 0 && !e_done(s))
			r = -ECHILD;
	}
	close(ep);
	return r < 0 ? r : 0;
}

#if NS_HAVE_LIBURING
enum { TAG_IRQ = 1, TAG_PID, TAG_CANCEL };

struct e_ring {
	struct io_uring ring;
	enum ipcc_uring_wait how;
	bool irq_armed, pid_armed;
};

static int e_ring_cqe(struct e_side *s, struct e_ring *u, struct io_uring_cqe *cqe, bool *exited)
{
	uint64_t tag = io_uring_cqe_get_data64(cqe);
	int r = 0;
	if (tag == TAG_IRQ) {
		bool rearm = false;
		s->in_dispatch = true;
		r = ipcc_uring_complete(s->cpu, u->how, cqe, &rearm);
		s->in_dispatch = false;
		if (rearm)
			u->irq_armed = false;
	} else if (tag == TAG_PID) {
		u->pid_armed = false;
		*exited = true;
	}
	return r < 0 ? r : 0;
}

/*
 * Cancel what is in flight and consume its completions: a futex wait counts the CPU as asleep
 * until ipcc_uring_complete has seen its completion, and the sync_all after the loop sleeps too.
 */
static void e_ring_quiesce(struct e_side *s, struct e_ring *u)
{
	bool exited = false;
	if (u->irq_armed) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
		io_uring_prep_cancel64(sqe, TAG_IRQ, 0);
		io_uring_sqe_set_data64(sqe, TAG_CANCEL);
	}
	if (u->pid_armed) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
		io_uring_prep_cancel64(sqe, TAG_PID, 0);
		io_uring_sqe_set_data64(sqe, TAG_CANCEL);
	}
	io_uring_submit(&u->ring);
	int64_t deadline = pt_now_ns() + 2 * PT_SEC;
	while ((u->irq_armed || u->pid_armed) && pt_now_ns() < deadline) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { 0, 100 * PT_MS };
		if (io_uring_wait_cqe_timeout(&u->ring, &cqe, &ts) < 0)
			continue;
		bool multishot_more = (cqe->flags & IORING_CQE_F_MORE) != 0;
		(void)e_ring_cqe(s, u, cqe, &exited);
		if (io_uring_cqe_get_data64(cqe) == TAG_IRQ && !multishot_more)
			u->irq_armed = false;
		io_uring_cqe_seen(&u->ring, cqe);
	}
	if (u->irq_armed || u->pid_armed)
		e_fail(s, "CPU %u: io_uring requests still in flight after cancelling", s->id);
}

static int e_uring_run(struct e_side *s, int pidfd)
{
	struct e_ring u = { .how = s->loop == E_URING_POLL ? IPCC_URING_POLL : IPCC_URING_FUTEX };
	int r = io_uring_queue_init(8, &u.ring, 0);
	if (r < 0)
		return r;
	r = ipcc_uring_prep_wait(&u.ring, s->cpu, u.how, TAG_IRQ);
	u.irq_armed = r == 0;
	if (!r && pidfd >= 0) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&u.ring);
		io_uring_prep_poll_add(sqe, pidfd, POLLIN);
		io_uring_sqe_set_data64(sqe, TAG_PID);
		u.pid_armed = true;
	}
	int64_t deadline = pt_now_ns() + E_RUN_NS;
	bool exited = false;
	/* What came before the first wait was armed: the doorbell may have rung already. */
	if (!r)
		r = e_dispatch(s);
	while (r >= 0 && !e_done(s)) {
		int64_t left = deadline - pt_now_ns();
		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		if ((r = io_uring_submit(&u.ring)) < 0)
			break;
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { left / PT_SEC, left % PT_SEC };
		r = io_uring_wait_cqe_timeout(&u.ring, &cqe, &ts);
		if (r == -ETIME || r == -EINTR) {
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		s->wakeups++;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&u.ring, head, cqe)
		{
			seen++;
			if (r == 0)
				r = e_ring_cqe(s, &u, cqe, &exited);
		}
		io_uring_cq_advance(&u.ring, seen);
		if (r == 0 && exited && !e_done(s))
			r = -ECHILD;
		if (r == 0 && !u.irq_armed) {
			r = ipcc_uring_prep_wait(&u.ring, s->cpu, u.how, TAG_IRQ);
			u.irq_armed = r == 0;
		}
	}
	e_ring_quiesce(s, &u);
	io_uring_queue_exit(&u.ring);
	return r < 0 ? r : 0;
}
#else
static int e_uring_run(struct e_side *s, int pidfd)
{
	(void)s, (void)pidfd;
	return -EOPNOTSUPP;
}
#endif

/*
 * One side from attach to detach; pidfd: the peer's, or -1. Fills s->err and returns false on
 * failure. Usable in a forked child (no Criterion asserts).
 */
static bool e_side_run(struct e_side *s, struct ipcc_system *sys, int pidfd)
{
	enum ipcc_wait_mode mode = s->loop == E_URING_FUTEX ? IPCC_WAIT_FUTEX : IPCC_WAIT_EVENTFD;
	struct ipcc_cpu_options o = pt_options(mode, 0);
	int r = ipcc_cpu_attach(sys, s->id, &o, &s->cpu);
	if (r < 0) {
		e_fail(s, "CPU %u: attach: %s", s->id, strerror(-r));
		return false;
	}
	if ((r = ipcc_notify_register(s->cpu, E_PING, e_on_ping, s)) < 0 ||
	    (r = ipcc_notify_register(s->cpu, E_ECHO, e_on_echo, s)) < 0)
		e_fail(s, "CPU %u: register: %s", s->id, strerror(-r));
	else {
		s->loop_thread = pthread_self();
		s->in_sync = true;
		r = ipcc_notify_sync_all(s->cpu, PT_LONG);
		s->in_sync = false;
		if (r < 0)
			e_fail(s, "CPU %u: the start-up sync_all: %s", s->id, strerror(-r));
	}
	if (!s->err[0]) {
		e_send_ping(s);
		r = s->loop == E_EPOLL ? e_epoll_run(s, pidfd) : e_uring_run(s, pidfd);
		if (r < 0)
			e_fail(s,
			       "CPU %u: %s loop: %s (sent %u pings, got %u echoes and %u pings "
			       "of %u)",
			       s->id, e_loop_name(s->loop), strerror(-r), s->pings_sent,
			       s->echoes_got, s->pings_got, E_VALUES);
	}
	/* No closing barrier: the values left for the peer wait in the object, and nothing of the
	 * peer waits on this CPU in the library (its loop only dispatches). */
	ipcc_cpu_detach(s->cpu);
	s->cpu = NULL;
	return !s->err[0];
}

struct e_child {
	const char *name;
	enum e_loop loop;
};

static int e_child_main(void *arg)
{
	struct e_child *c = arg;
	struct ipcc_system *sys;
	struct e_side s = { .id = 1, .peer = 0, .loop = c->loop };
	int r = pt_open(c->name, &sys);
	PEER_CHECK(r == 0, "open: %s", strerror(-r));
	PEER_CHECK(e_side_run(&s, sys, -1), "%s", s.err);
	PEER_CHECK(s.outside_dispatch == s.in_sync_count && !s.other_thread,
		   "CPU 1: %llu of %llu callbacks ran outside the loop's dispatch (%llu in the "
		   "start-up sync_all, %llu on another thread)",
		   (unsigned long long)s.outside_dispatch, (unsigned long long)s.callbacks,
		   (unsigned long long)s.in_sync_count, (unsigned long long)s.other_thread);
	ipcc_system_close(sys);
	return 0;
}

/* Whether this build and kernel can run `loop`; the reason in *why if not. */
static bool e_loop_available(enum e_loop loop, const char **why)
{
	if (loop == E_EPOLL)
		return true;
#if NS_HAVE_LIBURING
	int r = ipcc_uring_prep_wait(NULL, NULL, IPCC_URING_POLL, 0);
	if (r == -EOPNOTSUPP) {
		*why = "libipcc is built without liburing";
		return false;
	}
	if (loop == E_URING_FUTEX) {
		struct io_uring ring;
		if (io_uring_queue_init(2, &ring, 0) < 0) {
			*why = "io_uring_queue_init failed";
			return false;
		}
		r = ipcc_uring_futex_supported(&ring);
		io_uring_queue_exit(&ring);
		if (r != 1) {
			*why = "no IORING_OP_FUTEX_WAIT on this kernel (Linux 6.7 or later)";
			return false;
		}
	}
	return true;
#else
	*why = "the tests are built without liburing";
	return false;
#endif
}

static void pingpong(enum e_loop mine, enum e_loop theirs)
{
	const char *why = "";
	if (!e_loop_available(mine, &why) || !e_loop_available(theirs, &why))
		cr_skip_test("%s", why);
	struct ipcc_system *sys = ns_create_all(2);
	struct e_child c = { .name = ipcc_system_name(sys), .loop = theirs };
	int64_t t0 = pt_now_ns();
	/* Forked before this process attaches: an eventfd-mode CPU has threads. */
	pid_t pid = pt_fork(e_child_main, &c, 60);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	cr_assert_geq(pidfd, 0, "pidfd_open: %s", strerror(errno));

	struct e_side s = { .id = 0, .peer = 1, .loop = mine };
	bool ok = e_side_run(&s, sys, pidfd);
	double ms = (double)(pt_now_ns() - t0) / PT_MS;
	fprintf(stderr,
		"event: %s loop against %s: %u values each way, ping and echo, in %.0f ms; %llu "
		"wake-ups, %llu callbacks, %llu outside dispatch (%llu in sync_all, %llu on "
		"another thread)\n",
		e_loop_name(mine), e_loop_name(theirs), E_VALUES, ms, (unsigned long long)s.wakeups,
		(unsigned long long)s.callbacks, (unsigned long long)s.outside_dispatch,
		(unsigned long long)s.in_sync_count, (unsigned long long)s.other_thread);
	pt_expect_exit0(pid, 20 * PT_SEC, "the peer (CPU 1)");
	close(pidfd);
	cr_assert(ok, "%s", s.err);
	cr_assert_eq(s.pings_got, E_VALUES);
	cr_assert_eq(s.echoes_got, E_VALUES);
	cr_assert_eq(s.callbacks, 2 * E_VALUES, "%llu callbacks", (unsigned long long)s.callbacks);
	/* Only the start-up sync_all may run callbacks outside the dispatch; all on this thread. */
	cr_assert_eq(s.other_thread, 0, "%llu callbacks ran on another thread than the loop's",
		     (unsigned long long)s.other_thread);
	cr_assert_eq(s.outside_dispatch, s.in_sync_count,
		     "%llu callbacks ran outside the loop's dispatch, %llu of them in sync_all",
		     (unsigned long long)s.outside_dispatch, (unsigned long long)s.in_sync_count);
	ipcc_system_close(sys);
}

TestSuite(event, .fini = pt_cleanup, .timeout = 90);

Test(event, epoll_loops_ping_pong_notify_values_both_ways)
{
	pingpong(E_EPOLL, E_EPOLL);
}

Test(event, io_uring_poll_loops_ping_pong_notify_values_both_ways)
{
	pingpong(E_URING_POLL, E_URING_POLL);
}

Test(event, io_uring_futex_loops_ping_pong_notify_values_both_ways)
{
	pingpong(E_URING_FUTEX, E_URING_FUTEX);
}

Test(event, an_epoll_loop_ping_pongs_with_an_io_uring_loop)
{
	pingpong(E_EPOLL, E_URING_POLL);
}
