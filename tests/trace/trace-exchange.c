/* SPDX-License-Identifier: MIT */
/*
 * The known exchange of tests/trace/check-vcd.py: on system NAME, CPU 1 (a child process)
 * receives one message on channel 0 from CPU 0, which sends it once CPU 1 waits for it.
 * `trace-exchange NAME [COUNT]` repeats it COUNT times (default 1). Exit 0 on success.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipcc/ipcc.h>

static int fail(const char *what, int r)
{
	fprintf(stderr, "trace-exchange: %s: %s\n", what, strerror(-r));
	return 1;
}

static int receiver(const char *name, unsigned count)
{
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;
	struct ipcc_cpu_options opt;
	char msg[16];

	int r = ipcc_system_open(name, &sys);
	if (r < 0)
		return fail("open", r);
	ipcc_cpu_options_init(&opt);
	opt.wait = IPCC_WAIT_FUTEX;
	r = ipcc_cpu_attach(sys, 1, &opt, &cpu);
	if (r < 0)
		return fail("attach 1", r);
	for (unsigned i = 0; i < count; i++) {
		r = ipcc_recv(cpu, 0, 0, msg, sizeof(msg), 10ll * 1000 * 1000 * 1000);
		if (r < 0)
			return fail("recv", r);
	}
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

int main(int argc, char **argv)
{
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;
	struct ipcc_cpu_options opt;
	unsigned count = argc > 2 ? (unsigned)atoi(argv[2]) : 1;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: trace-exchange NAME [COUNT]\n");
		return 2;
	}
	int r = ipcc_system_open(argv[1], &sys);
	if (r < 0)
		return fail("open", r);
	ipcc_cpu_options_init(&opt);
	opt.wait = IPCC_WAIT_FUTEX;
	r = ipcc_cpu_attach(sys, 0, &opt, &cpu);
	if (r < 0)
		return fail("attach 0", r);
	pid_t pid = fork();
	if (pid < 0)
		return fail("fork", -errno);
	if (pid == 0)
		_exit(receiver(argv[1], count));
	/* Wait until CPU 1 listens: its RX-occupied interrupt of channel 0 is unmasked. */
	struct ipcc_regs *regs;
	r = ipcc_regs_open(sys, 0, 1, &regs);
	if (r < 0)
		return fail("regs", r);
	for (int i = 0; i < 10000; i++) {
		uint32_t cr = 0, mr = 0;
		ipcc_regs_read(regs, IPCC_C2CR, &cr);
		ipcc_regs_read(regs, IPCC_C2MR, &mr);
		if ((cr & IPCC_CR_RXOIE) && !(mr & IPCC_MR_CHOM(0)))
			break;
		usleep(1000);
	}
	ipcc_regs_close(regs);
	for (unsigned i = 0; i < count; i++) {
		r = ipcc_send(cpu, 1, 0, "hello", 6, 10ll * 1000 * 1000 * 1000);
		if (r < 0)
			return fail("send", r);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail("receiver", -ECHILD);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}
