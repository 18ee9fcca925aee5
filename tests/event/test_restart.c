/* SPDX-License-Identifier: MIT */
/*
 * The receiver dies (SIGKILL) while the sender keeps sending, and a new receiver takes its CPU
 * over.
 *
 * The sender is the exec'd ipcc-peer with --retry-epipe: a blocking ipcc_send whose receiver
 * died returns -EPIPE (it must not hang); the peer prints the CLOCK_MONOTONIC time of that
 * return, waits until the receiving CPU has a live owner again and sends the same message once
 * more. The test measures kill -> -EPIPE from the time it sent the signal (same clock, same
 * machine) and requires it below 2 s.
 *
 * Delivery across the crash is at least once and in order: a receiver records a message before
 * it frees the channel (ipcc_recv_claim ... ipcc_recv_release, or inside the ipcc_recv_async
 * callback), so the message in the channel when it died is either recorded already (the new
 * receiver sees it again) or not (the new receiver sees it first). The new receiver must start
 * at the last recorded number or the one after, then get every later message in order, to the
 * end.
 *
 * Receivers are forked children of the test (the takeover needs nothing of the test's state);
 * they report through a shared page.
 */
#include "event-test.h"

#define TOTAL	     20000u /* messages the sender sends */
#define KILL_AFTER   5000u  /* messages the first receiver records before it is killed */
#define BUFFER	     256u
#define CH	     0u
#define EPIPE_MAX_NS (2 * EV_SEC)

static struct ipcc_system *sys;

static void teardown(void)
{
	ev_children_teardown();
	ipcc_system_close(sys);
	sys = NULL;
	ev_names_teardown();
}

TestSuite(restart, .fini = teardown, .timeout = 60);

/* What a receiver did, in memory shared with the test. */
struct progress {
	_Atomic uint32_t count; /* messages recorded */
	_Atomic uint32_t last;	/* number of the last one */
	_Atomic uint32_t first; /* number of the first one */
	_Atomic int paused;	/* stopped receiving (and lives on) */
	char error[192];
};

struct receiver {
	const char *name;
	bool eventfd;	    /* eventfd mode behind epoll + ipcc_recv_async; else futex + claim */
	uint32_t first_min; /* the first message must be in first_min..first_max */
	uint32_t first_max;
	uint32_t pause_after; /* stop receiving after this many (0: never) */
	struct progress *pg;
	/* process-local, in the child */
	struct ipcc_cpu *cpu;
	int status;
};

enum { RCV_OK = 0, RCV_OPEN = 3, RCV_ATTACH = 4, RCV_RECV = 5, RCV_ORDER = 6, RCV_LOOP = 7 };

/* Check and record one message; 0 or an RCV_* status (the reason in pg->error). */
static int record(struct receiver *rc, const void *data, size_t len)
{
	struct progress *pg = rc->pg;
	char why[128];
	uint32_t seq;

	if (evm_check(data, len, BUFFER, EVM_MAGIC_MSG, &seq, why, sizeof(why)) < 0) {
		snprintf(pg->error, sizeof(pg->error), "corrupt message: %s", why);
		return RCV_ORDER;
	}
	/* Relaxed: only this process writes the page; the test reads it after our exit or our
	 * death (a process boundary), or polls it for progress only. */
	uint32_t n = atomic_load_explicit(&pg->count, memory_order_relaxed);
	uint32_t last = atomic_load_explicit(&pg->last, memory_order_relaxed);
	if (n == 0 && (seq < rc->first_min || seq > rc->first_max)) {
		snprintf(pg->error, sizeof(pg->error), "first message %u, want %u..%u", seq,
			 rc->first_min, rc->first_max);
		return RCV_ORDER;
	}
	if (n > 0 && seq != last + 1) {
		snprintf(pg->error, sizeof(pg->error), "message %u after %u", seq, last);
		return RCV_ORDER;
	}
	if (n == 0)
		atomic_store_explicit(&pg->first, seq, memory_order_relaxed);
	atomic_store_explicit(&pg->last, seq, memory_order_relaxed);
	/* Release: the test polls count, then reads last (acquire in wait_count). */
	atomic_store_explicit(&pg->count, n + 1, memory_order_release);
	return RCV_OK;
}

static bool receiver_finished(const struct receiver *rc)
{
	return atomic_load_explicit(&rc->pg->count, memory_order_relaxed) > 0 &&
	       atomic_load_explicit(&rc->pg->last, memory_order_relaxed) == TOTAL - 1;
}

static bool receiver_should_pause(const struct receiver *rc)
{
	return rc->pause_after &&
	       atomic_load_explicit(&rc->pg->count, memory_order_relaxed) == rc->pause_after;
}

static _Noreturn void pause_forever(struct receiver *rc)
{
	atomic_store_explicit(&rc->pg->paused, 1, memory_order_release);
	for (;;)
		pause(); /* alive, attached, not receiving: until the test kills us */
}

/* futex mode, blocking zero-copy receive: the record happens before the release. */
static int receive_blocking(struct receiver *rc)
{
	while (!receiver_finished(rc)) {
		if (receiver_should_pause(rc))
			pause_forever(rc);
		const void *data;
		size_t len;
		int r = ipcc_recv_claim(rc->cpu, 0, CH, 10 * EV_SEC, &data, &len);
		if (r < 0) {
			snprintf(rc->pg->error, sizeof(rc->pg->error), "ipcc_recv_claim: %d (%s)",
				 r, strerror(-r));
			return RCV_RECV;
		}
		int st = record(rc, data, len);
		if (st)
			return st;
		ipcc_recv_release(rc->cpu, 0, CH);
	}
	return RCV_OK;
}

/* eventfd mode: the callback records while the message is still in the channel. */
static void on_message(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data,
		       size_t len, void *arg)
{
	struct receiver *rc = arg;
	if (!rc->status)
		rc->status = record(rc, data, len);
}

static int receive_epoll(struct receiver *rc)
{
	int r = ipcc_recv_async(rc->cpu, 0, CH, on_message, rc);
	if (r < 0) {
		snprintf(rc->pg->error, sizeof(rc->pg->error), "ipcc_recv_async: %s", strerror(-r));
		return RCV_RECV;
	}
	struct pollfd pfd = { .fd = ipcc_cpu_fd(rc->cpu), .events = POLLIN };
	int64_t deadline = ev_now_ns() + 30 * EV_SEC;
	while (!rc->status && !receiver_finished(rc)) {
		if (ev_now_ns() > deadline) {
			snprintf(rc->pg->error, sizeof(rc->pg->error), "no end within 30 s");
			return RCV_LOOP;
		}
		if (poll(&pfd, 1, 1000) < 0 && errno != EINTR)
			return RCV_LOOP;
		if (ipcc_cpu_dispatch(rc->cpu) < 0)
			return RCV_LOOP;
	}
	return rc->status;
}

static int receiver_main(void *arg)
{
	struct receiver *rc = arg;
	struct ipcc_system *s;

	/* A handle of our own: the test's was copied by fork, with the test's CPU table. */
	int r = ipcc_system_open(rc->name, &s);
	if (r < 0) {
		snprintf(rc->pg->error, sizeof(rc->pg->error), "open: %s", strerror(-r));
		return RCV_OPEN;
	}
	r = ev_attach(s, 1, rc->eventfd ? IPCC_WAIT_EVENTFD : IPCC_WAIT_FUTEX, &rc->cpu);
	if (r < 0) {
		snprintf(rc->pg->error, sizeof(rc->pg->error), "attach: %s", strerror(-r));
		return RCV_ATTACH;
	}
	int st = rc->eventfd ? receive_epoll(rc) : receive_blocking(rc);
	ipcc_cpu_detach(rc->cpu);
	ipcc_system_close(s);
	return st;
}

static struct progress *progress_new(void)
{
	struct progress *pg =
		mmap(NULL, sizeof(*pg), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(pg, MAP_FAILED, "mmap: %s", strerror(errno));
	return pg;
}

static void expect_receiver_ok(struct ev_child *c, struct progress *pg, const char *who)
{
	char buf[96];
	if (!ev_wait(c, 20 * EV_SEC)) {
		ev_kill(c);
		cr_assert_fail("%s: still running after 20 s; %u messages, last %u", who,
			       atomic_load(&pg->count), atomic_load(&pg->last));
	}
	cr_assert(WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0, "%s: %s: %s", who,
		  ev_status_str(c->status, buf, sizeof(buf)), pg->error);
}

/* Wait (bounded) until the receiver has recorded `count` messages or paused. */
static void wait_count(struct ev_child *c, struct progress *pg, uint32_t count, bool paused)
{
	int64_t deadline = ev_now_ns() + 20 * EV_SEC;
	char buf[96];
	while (paused ? !atomic_load_explicit(&pg->paused, memory_order_acquire)
		      : atomic_load_explicit(&pg->count, memory_order_acquire) < count) {
		cr_assert_lt(ev_now_ns(), deadline, "the first receiver got %u messages in 20 s",
			     atomic_load(&pg->count));
		if (ev_wait(c, EV_MS))
			cr_assert_fail("the first receiver ended early: %s: %s",
				       ev_status_str(c->status, buf, sizeof(buf)), pg->error);
	}
}

/* Process state letter from /proc/PID/stat ('S': sleeping), or 0. */
static char proc_state(pid_t pid)
{
	char path[64], text[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	char *p = strrchr(text, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

static void restart(bool eventfd, bool sender_blocked)
{
	const char *name = ev_name();
	char total[16];

	sys = ev_create(name, BUFFER, 0600);
	struct progress *pg1 = progress_new(), *pg2 = progress_new();
	struct receiver rc1 = { .name = name,
				.eventfd = eventfd,
				.first_min = 0,
				.first_max = 0,
				.pause_after = sender_blocked ? KILL_AFTER : 0,
				.pg = pg1 };
	struct ev_child *r1 = ev_fork(receiver_main, &rc1);
	/* Send only once the receiver is there: the first message then has a live receiver. */
	struct ipcc_cpu_owner own = { 0 };
	int64_t deadline = ev_now_ns() + 10 * EV_SEC;
	while (ipcc_system_cpu_owner(sys, 1, &own) == 0 && !own.alive && ev_now_ns() < deadline)
		cr_assert(!ev_wait(r1, EV_MS), "the first receiver ended before attaching: %s",
			  pg1->error);
	cr_assert(own.alive, "the first receiver did not attach within 10 s");

	snprintf(total, sizeof(total), "%u", TOTAL);
	const char *argv[] = {
		ev_peer_path(), name,  "--cpu",		"0",
		"--peer",	"1",   "--wait",	eventfd ? "adaptive" : "futex",
		"--send",	total, "--retry-epipe", NULL
	};
	struct ev_child *sender = ev_spawn(argv);

	wait_count(r1, pg1, KILL_AFTER, sender_blocked);
	if (sender_blocked) {
		/* The channel is full and the sender asleep in ipcc_send: kill under it. */
		struct ipcc_regs *regs;
		cr_assert_eq(ipcc_regs_open(sys, 0, 1, &regs), 0);
		deadline = ev_now_ns() + 10 * EV_SEC;
		for (;;) {
			uint32_t sr = 0;
			ipcc_regs_read(regs, IPCC_C1TOC2SR, &sr);
			if ((sr & IPCC_SR_CHF(CH)) && proc_state(sender->pid) == 'S')
				break;
			cr_assert_lt(ev_now_ns(), deadline,
				     "the sender never blocked on a full "
				     "channel (C1TOC2SR 0x%x)",
				     sr);
			ev_sleep_ms(1);
		}
		ipcc_regs_close(regs);
	}
	int64_t t_kill = ev_now_ns();
	cr_assert_eq(kill(r1->pid, SIGKILL), 0);
	cr_assert(ev_wait(r1, 5 * EV_SEC), "the killed receiver did not go away");
	uint32_t done1 = atomic_load(&pg1->count), last1 = atomic_load(&pg1->last);

	char line[128];
	cr_assert(ev_read_line(sender, line, sizeof(line), 5 * EV_SEC),
		  "no -EPIPE from the sender within 5 s of the kill (its send still blocks)");
	unsigned epipe_seq = 0;
	long long t_epipe = 0;
	cr_assert_eq(sscanf(line, "epipe seq=%u t_ns=%lld", &epipe_seq, &t_epipe), 2,
		     "unexpected sender output '%s'", line);
	int64_t latency = t_epipe - t_kill;
	fprintf(stderr,
		"restart: %s receiver killed after %u messages (last %u)%s: -EPIPE on message %u "
		"after %.3f ms\n",
		eventfd ? "eventfd/epoll" : "futex/claim", done1, last1,
		sender_blocked ? " under a blocked sender" : " mid-stream", epipe_seq,
		(double)latency / EV_MS);
	cr_assert_lt(latency, EPIPE_MAX_NS, "-EPIPE came %.3f s after the kill",
		     (double)latency / EV_SEC);
	if (sender_blocked)
		cr_assert_eq(epipe_seq, KILL_AFTER + 1,
			     "the blocked send was for message %u, "
			     "want %u (one waits in the channel)",
			     epipe_seq, KILL_AFTER + 1);

	/* The new receiver takes CPU 1 over from the dead one. */
	struct receiver rc2 = { .name = name,
				.eventfd = eventfd,
				.first_min = last1,
				.first_max = last1 + 1,
				.pg = pg2 };
	if (sender_blocked)
		rc2.first_min = KILL_AFTER; /* released K-1, paused: message K waits */
	struct ev_child *r2 = ev_fork(receiver_main, &rc2);
	expect_receiver_ok(r2, pg2, "the new receiver");
	ev_expect_exit0(sender, 10 * EV_SEC, "the sender");
	ev_last_line(sender, line, sizeof(line));
	fprintf(stderr, "restart: new receiver got %u..%u (%u messages); sender: %s\n",
		atomic_load(&pg2->first), atomic_load(&pg2->last), atomic_load(&pg2->count), line);
	cr_assert_eq(atomic_load(&pg2->last), TOTAL - 1);
	cr_assert_eq(atomic_load(&pg2->count), TOTAL - atomic_load(&pg2->first));
	munmap(pg1, sizeof(*pg1));
	munmap(pg2, sizeof(*pg2));
}

Test(restart, a_blocked_sender_gets_epipe_and_resumes_with_a_new_receiver)
{
	restart(false, true);
}

Test(restart, an_eventfd_receiver_killed_mid_stream_is_replaced_without_loss)
{
	restart(true, false);
}
