/* SPDX-License-Identifier: MIT */
/*
 * RPMessage regressions around peer restarts, both found by ipcc-rpmsg-echo's server, which
 * serves one client after another:
 *   - a sender that attaches again must take the returns its predecessor left in the free
 *     queue. Left there, they filled the queue, the receiver could not return the new
 *     incarnation's sends (counted bad, the buffer lost), and after `buffers` sends the
 *     sender had no buffer left (a second client, 4 buffers, timed out at its 5th round trip);
 *   - a receive whose reply partner died says -EPIPE once. It said it at once on every
 *     receive after, until the end point sent again, and the server spun at 100% CPU
 *     between a client killed with -9 and the next one.
 *
 * The clients are real processes, one after the other, over a real shm object; the server is
 * the test's own process. Children never use Criterion's assertions: they report through their
 * exit status, and leave with _exit; alarm() and PR_SET_PDEATHSIG bound them.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <ipcc/ipcc.h>
#include <ipcc/rpmsg.h>

#include "ipcc-test.h"

#define BUFFERS	  4u
#define SERVER_EP 13u
#define CLIENT_EP 12u
#define WAIT_NS	  5000000000 /* a bound, never reached when it works: nothing is timed */

#define CHILD_ALARM_S 30

/* The client, in a child: attach CPU 0 of `name`, make `count` round trips to the server's
 * end point, exit 0 if every echo came back right (else the step that failed). */
static void client_main(const char *name, unsigned first, unsigned count)
{
	struct ipcc_system *sys = NULL;
	struct ipcc_cpu *cpu = NULL;
	struct ipcc_rpmsg_ep *ep = NULL;

	if (ipcc_system_open(name, &sys) < 0 || ipcc_cpu_attach(sys, 0, NULL, &cpu) < 0)
		_exit(2);
	if (ipcc_rpmsg_ep_create(cpu, CLIENT_EP, NULL, NULL, &ep) < 0)
		_exit(3);
	for (unsigned i = first; i < first + count; i++) {
		char out[16], in[16] = { 0 };
		uint32_t len = 0;
		unsigned from = 99, from_ep = 99;
		snprintf(out, sizeof(out), "packet %u", i);
		if (ipcc_rpmsg_send(cpu, out, sizeof(out), 1, SERVER_EP, CLIENT_EP, WAIT_NS) < 0)
			_exit(4); /* the bug: no buffer left after `buffers` sends */
		if (ipcc_rpmsg_recv(ep, in, sizeof(in), &len, &from, &from_ep, WAIT_NS) < 0)
			_exit(5);
		if (len != sizeof(out) || memcmp(in, out, len) || from != 1 || from_ep != SERVER_EP)
			_exit(6);
	}
	ipcc_rpmsg_ep_close(ep);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	_exit(0);
}

/* fork() for a test: the child dies with its parent, and after CHILD_ALARM_S at most. */
static pid_t spawn(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(125);
		alarm(CHILD_ALARM_S);
	}
	return pid;
}

static pid_t spawn_client(const char *name, unsigned first, unsigned count)
{
	pid_t pid = spawn();

	if (pid == 0)
		client_main(name, first, count);
	return pid;
}

/* Echo `count` packets to whoever sent them; a client's exit between two is no error. */
static void serve(struct ipcc_cpu *server, struct ipcc_rpmsg_ep *sep, unsigned count)
{
	for (unsigned n = 0; n < count;) {
		char buf[16];
		uint32_t len = 0;
		unsigned from = 0, from_ep = 0;
		int r = ipcc_rpmsg_recv(sep, buf, sizeof(buf), &len, &from, &from_ep, WAIT_NS);
		if (r == -EPIPE)
			continue;
		cr_assert_eq(r, 0, "server recv of packet %u: %s", n, strerror(-r));
		r = ipcc_rpmsg_send(server, buf, len, from, from_ep, SERVER_EP, WAIT_NS);
		cr_assert_eq(r, 0, "server send of packet %u: %s", n, strerror(-r));
		n++;
	}
}

static void expect_exit_0(pid_t pid, const char *who)
{
	int status = 0;

	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "%s died of signal %d", who,
		  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	cr_assert_eq(WEXITSTATUS(status), 0, "%s failed at step %d", who, WEXITSTATUS(status));
}

Test(rpmsg, a_restarted_sender_takes_back_what_its_predecessor_left_in_the_free_queue,
     .fini = test_cleanup)
{
	struct ipcc_notify_config ncfg;
	struct ipcc_rpmsg_config rcfg;
	struct ipcc_rpmsg_stats st;
	struct ipcc_config cfg;
	struct ipcc_rpmsg_ep *sep = NULL;

	ipcc_config_init(&cfg);
	ipcc_notify_config_init(&ncfg);
	ipcc_rpmsg_config_init(&rcfg);
	rcfg.buffers = BUFFERS;
	cfg.notify = &ncfg;
	cfg.rpmsg = &rcfg;
	struct ipcc_system *sys = test_system(&cfg);
	const char *name = ipcc_system_name(sys);
	struct ipcc_cpu *server = test_attach(sys, 1);
	cr_assert_eq(ipcc_rpmsg_ep_create(server, SERVER_EP, NULL, NULL, &sep), 0);

	/* The first client: `buffers` round trips leave its pool empty and the free queue full
	 * of returns it never took back. */
	pid_t c1 = spawn_client(name, 0, BUFFERS);
	serve(server, sep, BUFFERS);
	expect_exit_0(c1, "the first client");
	cr_assert_eq(ipcc_rpmsg_stats(sys, 0, 1, &st), 0);
	cr_assert_eq(st.free, BUFFERS, "the predecessor's returns wait in the free queue");

	/* The next incarnation of CPU 0: more round trips than it has buffers. */
	pid_t c2 = spawn_client(name, BUFFERS, 3 * BUFFERS);
	serve(server, sep, 3 * BUFFERS);
	expect_exit_0(c2, "the second client");
	cr_assert_eq(ipcc_rpmsg_stats(sys, 0, 1, &st), 0);
	cr_assert_eq(st.bad, 0, "no return was refused for a full free queue");
	cr_assert_eq(st.sent, 4 * BUFFERS);
	cr_assert_eq(st.received, 4 * BUFFERS);

	cr_assert_eq(ipcc_rpmsg_ep_close(sep), 0);
	ipcc_cpu_detach(server);
	ipcc_system_close(sys);
}

/* A client that sends one packet and then waits for ever, to be killed with -9. */
static pid_t spawn_hanging_client(const char *name)
{
	pid_t pid = spawn();

	if (pid == 0) {
		struct ipcc_system *sys = NULL;
		struct ipcc_cpu *cpu = NULL;
		struct ipcc_rpmsg_ep *ep = NULL;
		if (ipcc_system_open(name, &sys) < 0 || ipcc_cpu_attach(sys, 0, NULL, &cpu) < 0 ||
		    ipcc_rpmsg_ep_create(cpu, CLIENT_EP, NULL, NULL, &ep) < 0 ||
		    ipcc_rpmsg_send(cpu, "ping", 4, 1, SERVER_EP, CLIENT_EP, WAIT_NS) < 0)
			_exit(2);
		for (;;)
			pause();
	}
	return pid;
}

Test(rpmsg, a_receive_says_once_that_its_reply_partner_died, .fini = test_cleanup)
{
	struct ipcc_notify_config ncfg;
	struct ipcc_rpmsg_config rcfg;
	struct ipcc_config cfg;
	struct ipcc_rpmsg_ep *sep = NULL;
	char buf[16];
	uint32_t len = 0;
	unsigned from = 99, from_ep = 99;
	int status = 0;

	ipcc_config_init(&cfg);
	ipcc_notify_config_init(&ncfg);
	ipcc_rpmsg_config_init(&rcfg);
	cfg.notify = &ncfg;
	cfg.rpmsg = &rcfg;
	struct ipcc_system *sys = test_system(&cfg);
	struct ipcc_cpu *server = test_attach(sys, 1);
	cr_assert_eq(ipcc_rpmsg_ep_create(server, SERVER_EP, NULL, NULL, &sep), 0);

	pid_t c = spawn_hanging_client(ipcc_system_name(sys));
	cr_assert_eq(ipcc_rpmsg_recv(sep, buf, sizeof(buf), &len, &from, &from_ep, WAIT_NS), 0);
	cr_assert_eq(ipcc_rpmsg_send(server, buf, len, from, from_ep, SERVER_EP, WAIT_NS), 0,
		     "the echo makes CPU 0 the end point's reply partner");
	kill(c, SIGKILL);
	cr_assert_eq(waitpid(c, &status, 0), c);
	cr_assert(WIFSIGNALED(status), "the client exited %d before its kill", WEXITSTATUS(status));

	int r = ipcc_rpmsg_recv(sep, buf, sizeof(buf), &len, &from, &from_ep, WAIT_NS);
	cr_assert_eq(r, -EPIPE, "the partner's death: %s", strerror(-r));
	r = ipcc_rpmsg_recv(sep, buf, sizeof(buf), &len, &from, &from_ep, 0);
	cr_assert_eq(r, -EAGAIN, "said once: the next receive waits for any sender (%s)",
		     strerror(-r));

	cr_assert_eq(ipcc_rpmsg_ep_close(sep), 0);
	ipcc_cpu_detach(server);
	ipcc_system_close(sys);
}
