/* SPDX-License-Identifier: MIT */
/*
 * The program tests/proc/test_simreg.c execs to show that an anonymous system survives exec:
 * `anon-peer FD CPU` opens the system from descriptor FD (inherited without O_CLOEXEC),
 * attaches CPU, sends "exec" to CPU 0 on channel 0 and leaves. Exit status 0 on success, else
 * 1 with a message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ipcc/ipcc.h>

static int fail(const char *what, int r)
{
	fprintf(stderr, "anon-peer: %s: %s\n", what, ipcc_strerror(r));
	return 1;
}

int main(int argc, char **argv)
{
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;

	if (argc != 3) {
		fprintf(stderr, "usage: anon-peer FD CPU\n");
		return 2;
	}
	int fd = atoi(argv[1]);
	int r = ipcc_system_open_fd(fd, 0, &sys);
	if (r < 0)
		return fail("ipcc_system_open_fd", r);
	close(fd); /* the handle has its own */
	r = ipcc_cpu_attach(sys, (unsigned)atoi(argv[2]), NULL, &cpu);
	if (r < 0)
		return fail("attach", r);
	r = ipcc_send(cpu, 0, 0, "exec", 5, 10 * 1000000000LL);
	if (r < 0)
		return fail("send", r);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}
