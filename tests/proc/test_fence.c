/* SPDX-License-Identifier: MIT */
/*
 * Fences around a CPU's owner: a fork child's inherited handle may not act for its parent's CPU
 * (-ESTALE), and a wait that began while its peer's slot was empty ends with -EPIPE when a peer
 * that attached during the wait is killed.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "../ipcc-test.h"

#include <criterion/parameterized.h>

static struct ipcc_system *sys;

static void teardown(void)
{
	ipcc_system_close(sys);
	sys = NULL;
	test_cleanup();
}

/* Each operation a stale handle must refuse, by number, so the child can say which did not. */
static int stale_op(struct ipcc_cpu *c, unsigned op)
{
	char buf[8] = "x";
	void *zc;
	size_t cap;
	switch (op) {
	case 0:
		return ipcc_send(c, 1, 0, buf, 1, 0);
	case 1:
		return ipcc_recv(c, 1, 1, buf, sizeof(buf), 0);
	case 2:
		return ipcc_call(c, 1, 2, buf, 1, buf, sizeof(buf), 0);
	case 3:
		return ipcc_chan_set(c, 1, 3);
	case 4:
		return ipcc_chan_clear(c, 1, 0);
	case 5:
		return ipcc_chan_status(c, 1, 0, IPCC_DIR_TX);
	case 6:
		return ipcc_cpu_wait(c, 0);
	case 7:
		return ipcc_cpu_wait(c, IPCC_TIMEOUT_INFINITE);
	case 8:
		return ipcc_cpu_dispatch(c);
	case 9:
		return ipcc_cpu_standby(c, 0);
	case 10:
		return ipcc_chan_mask(c, 1, 0, IPCC_DIR_RX);
	case 11:
		return ipcc_cpu_set_wait_mode(c, IPCC_WAIT_EVENTFD, 0);
	case 12:
		return ipcc_cpu_fd(c);
	case 13:
		return ipcc_send_claim(c, 1, 0, 0, &zc, &cap);
	}
	return 1; /* the end of the list */
}

/*
 * The parent owns CPU 0; its fork child keeps a copy of the handle. Every operation through
 * the copy fails with -ESTALE and nothing it tried reached the channel: the parent's TX
 * status is still free. The child may still free its copy.
 */
Test(fence, a_fork_childs_inherited_cpu_handle_fails_every_operation_with_estale, .fini = teardown,
     .timeout = 30)
{
	sys = test_system(NULL);
	struct ipcc_cpu *c = test_attach(sys, 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		alarm(20);
		for (unsigned op = 0;; op++) {
			int r = stale_op(c, op);
			if (r == 1)
				break;
			if (r != -ESTALE)
				_exit(10 + (int)op); /* a stale handle still worked */
		}
		ipcc_cpu_detach(c);
		_exit(0);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "the child died: status 0x%x", status);
	cr_assert_eq(WEXITSTATUS(status), 0,
		     "operation %d through the stale handle did not fail "
		     "with -ESTALE",
		     WEXITSTATUS(status) - 10);
	for (unsigned ch = 0; ch < 4; ch++)
		cr_assert_eq(ipcc_chan_status(c, 1, ch, IPCC_DIR_TX), 0,
			     "channel %u: the stale handle's send reached the channel", ch);
	/* The parent's handle works on. */
	cr_assert_eq(ipcc_send(c, 1, 0, "y", 1, 0), 0);
	ipcc_cpu_detach(c);
}

/* ---- a peer that attaches during a wait, then dies ---- */

enum midwait_op { OP_RECV, OP_CALL, OP_SEND_FULL, OP_CPU_WAIT, OP_COUNT };
static const char *const op_names[OP_COUNT] = { "ipcc_recv", "ipcc_call",
						"ipcc_send on a full channel", "ipcc_cpu_wait" };

/* How long the waiter's watchdog lets an infinite wait run before it reports itself. */
#define MIDWAIT_WATCHDOG_S 20
#define EXIT_WATCHDOG	   200

static void watchdog_fired(int sig)
{
	(void)sig;
	_exit(EXIT_WATCHDOG); /* the test says it was the watchdog, not the library */
}

/* The waiter: CPU 0, an infinite wait of kind `op` on peer 1. Exit code: -result. */
static int waiter_main(const char *name, enum midwait_op op, int ready_fd)
{
	struct ipcc_system *s = NULL;
	struct ipcc_cpu *c = NULL;
	struct ipcc_cpu_options o;
	char buf[16];
	int r;

	signal(SIGALRM, watchdog_fired);
	alarm(MIDWAIT_WATCHDOG_S);
	ipcc_cpu_options_init(&o);
	o.wait = IPCC_WAIT_FUTEX; /* in the kernel at once: the parent sees it blocked */
	if (ipcc_system_open(name, &s) < 0 || ipcc_cpu_attach(s, 0, &o, &c) < 0)
		return 100;
	if (op == OP_SEND_FULL && ipcc_send(c, 1, 0, "1", 1, 0) < 0)
		return 101; /* fills the channel: nobody receives */
	if (write(ready_fd, "w", 1) != 1)
		return 102;
	switch (op) {
	case OP_RECV:
		r = ipcc_recv(c, 1, 0, buf, sizeof(buf), IPCC_TIMEOUT_INFINITE);
		break;
	case OP_CALL:
		r = ipcc_call(c, 1, 1, "q", 1, buf, sizeof(buf), IPCC_TIMEOUT_INFINITE);
		break;
	case OP_SEND_FULL:
		r = ipcc_send(c, 1, 0, "2", 1, IPCC_TIMEOUT_INFINITE);
		break;
	default:
		r = ipcc_cpu_wait(c, IPCC_TIMEOUT_INFINITE);
		break;
	}
	return r > 0 ? 103 : -r;
}

/* Until the main thread of `pid` sleeps in the kernel (its wait began), bounded. */
static void wait_until_blocked(pid_t pid)
{
	char path[64], stat[512];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)pid);
	for (unsigned i = 0; i < 10000; i++) {
		FILE *f = fopen(path, "r");
		cr_assert_not_null(f, "the waiter is gone");
		size_t n = fread(stat, 1, sizeof(stat) - 1, f);
		fclose(f);
		stat[n] = '\0';
		const char *p = strrchr(stat, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			return;
		usleep(1000);
	}
	cr_assert_fail("the waiter never blocked");
}

ParameterizedTestParameters(fence, a_wait_begun_on_an_empty_slot_ends_with_epipe_when_the_peer_dies)
{
	static enum midwait_op ops[] = { OP_RECV, OP_CALL, OP_SEND_FULL, OP_CPU_WAIT };
	return cr_make_param_array(enum midwait_op, ops, sizeof(ops) / sizeof(ops[0]));
}

/*
 * The waiter blocks with an infinite timeout while CPU 1 is empty (never attached, then
 * attached and cleanly detached); a peer attaches during the wait and is killed with -9: the
 * wait ends with -EPIPE.
 */
ParameterizedTest(enum midwait_op *op, fence,
		  a_wait_begun_on_an_empty_slot_ends_with_epipe_when_the_peer_dies,
		  .fini = teardown, .timeout = 60)
{
	for (unsigned detached_before = 0; detached_before < 2; detached_before++) {
		sys = test_system(NULL);
		const char *name = ipcc_system_name(sys);
		if (detached_before)
			ipcc_cpu_detach(test_attach(sys, 1));
		int ready[2];
		cr_assert_eq(pipe(ready), 0);
		pid_t waiter = fork();
		cr_assert_geq(waiter, 0);
		if (waiter == 0)
			_exit(waiter_main(name, *op, ready[1]));
		char b;
		cr_assert_eq(read(ready[0], &b, 1), 1, "%s: the waiter failed to start",
			     op_names[*op]);
		wait_until_blocked(waiter);

		pid_t peer = fork();
		cr_assert_geq(peer, 0);
		if (peer == 0) {
			struct ipcc_system *s;
			struct ipcc_cpu *c;
			alarm(MIDWAIT_WATCHDOG_S);
			if (ipcc_system_open(name, &s) < 0 || ipcc_cpu_attach(s, 1, NULL, &c) < 0)
				_exit(1);
			if (write(ready[1], "p", 1) != 1)
				_exit(2);
			for (;;)
				pause();
		}
		cr_assert_eq(read(ready[0], &b, 1), 1, "the peer failed to attach");
		cr_assert_eq(b, 'p');
		kill(peer, SIGKILL);
		int status;
		cr_assert_eq(waitpid(peer, &status, 0), peer);

		cr_assert_eq(waitpid(waiter, &status, 0), waiter);
		cr_assert(WIFEXITED(status), "%s: the waiter died: 0x%x", op_names[*op], status);
		int code = WEXITSTATUS(status);
		cr_assert_neq(code, EXIT_WATCHDOG,
			      "%s (slot %s): the test's %d s watchdog ended the waiter: the wait "
			      "did not end when the peer that attached during it was killed",
			      op_names[*op], detached_before ? "detached" : "never attached",
			      MIDWAIT_WATCHDOG_S);
		cr_assert_eq(code, EPIPE, "%s (slot %s): the wait ended with %d (%s)",
			     op_names[*op], detached_before ? "detached" : "never attached", -code,
			     strerror(code));
		close(ready[0]);
		close(ready[1]);
		ipcc_system_close(sys);
		sys = NULL;
	}
}

/*
 * The same start, a peer that attaches during the wait and sends: the wait watches it and
 * returns its message (an attach alone never ends a wait with -EPIPE).
 */
Test(fence, a_wait_begun_on_an_empty_slot_gets_the_message_of_a_peer_that_attaches,
     .fini = teardown, .timeout = 60)
{
	sys = test_system(NULL);
	const char *name = ipcc_system_name(sys);
	int ready[2];
	cr_assert_eq(pipe(ready), 0);
	pid_t peer = fork();
	cr_assert_geq(peer, 0);
	if (peer == 0) {
		struct ipcc_system *s;
		struct ipcc_cpu *c;
		char b;
		alarm(MIDWAIT_WATCHDOG_S);
		if (read(ready[0], &b, 1) != 1)
			_exit(1);
		if (ipcc_system_open(name, &s) < 0 || ipcc_cpu_attach(s, 1, NULL, &c) < 0)
			_exit(2);
		_exit(ipcc_send(c, 0, 0, "hi", 3, 10 * 1000000000LL) < 0 ? 3 : 0);
	}
	struct ipcc_cpu_options o;
	ipcc_cpu_options_init(&o);
	o.wait = IPCC_WAIT_FUTEX;
	struct ipcc_cpu *c = NULL;
	cr_assert_eq(ipcc_cpu_attach(sys, 0, &o, &c), 0);
	cr_assert_eq(write(ready[1], "g", 1), 1); /* the peer attaches while we wait, or before */
	char buf[8] = "";
	int r = ipcc_recv(c, 1, 0, buf, sizeof(buf), 20 * 1000000000LL);
	cr_assert_eq(r, 3, "recv: %d (%s)", r, strerror(-r));
	cr_assert_str_eq(buf, "hi");
	int status;
	cr_assert_eq(waitpid(peer, &status, 0), peer);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the peer: 0x%x", status);
	ipcc_cpu_detach(c);
	close(ready[0]);
	close(ready[1]);
}
