/* SPDX-License-Identifier: MIT */
/*
 * Fences around a CPU's owner: a fork child's inherited handle may not act for its parent's CPU
 * (-ESTALE), and a wait that began while its peer's slot was empty ends with -EPIPE when a peer
 * that attached during the wait is killed.
 */
#include <signal.h>
#include <sys/wait.h>

#include "../ipcc-test.h"

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
