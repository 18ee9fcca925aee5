/* SPDX-License-Identifier: MIT */
/*
 * The known exchanges of tests/trace/check-vcd.py: on system NAME, CPU 1 (a child process)
 * receives one message on channel 0 from CPU 0, which sends it once CPU 1 waits for it; with
 * `notify`, one IPC Notify value 0x1234 to client 2 instead, sent once CPU 1 is attached.
 * `trace-exchange NAME [notify]`. Exit 0 on success.
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

#define NOTIFY_CLIENT 2u
#define NOTIFY_VALUE  0x1234u

static int receiver(const char *name, bool notify)
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
	if (notify) {
		uint32_t v = 0;
		unsigned from = 9;
		r = ipcc_notify_recv(cpu, NOTIFY_CLIENT, &v, &from, 10ll * 1000 * 1000 * 1000);
		if (r < 0)
			return fail("notify_recv", r);
		if (v != NOTIFY_VALUE || from != 0)
			return fail("notify_recv: wrong value", -EBADMSG);
	} else {
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
	bool notify = argc == 3 && !strcmp(argv[2], "notify");

	if (argc < 2 || argc > 3 || (argc == 3 && !notify)) {
		fprintf(stderr, "usage: trace-exchange NAME [notify]\n");
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
		_exit(receiver(argv[1], notify));
	/* Wait until CPU 1 listens: its RX-occupied interrupt of channel 0 is unmasked. */
	struct ipcc_regs *regs;
	r = ipcc_regs_open(sys, 0, 1, &regs);
	if (r < 0)
		return fail("regs", r);
	for (int i = 0; i < 10000; i++) {
		struct ipcc_cpu_owner own = { 0 };
		if (notify && ipcc_system_cpu_owner(sys, 1, &own) == 0 && own.alive)
			break;
		uint32_t cr = 0, mr = 0;
		ipcc_regs_read(regs, IPCC_C2CR, &cr);
		ipcc_regs_read(regs, IPCC_C2MR, &mr);
		if (!notify && (cr & IPCC_CR_RXOIE) && !(mr & IPCC_MR_CHOM(0)))
			break;
		usleep(1000);
	}
	ipcc_regs_close(regs);
	if (notify)
		r = ipcc_notify_send(cpu, 1, NOTIFY_CLIENT, NOTIFY_VALUE,
				     10ll * 1000 * 1000 * 1000);
	else
		r = ipcc_send(cpu, 1, 0, "hello", 6, 10ll * 1000 * 1000 * 1000);
	if (r < 0)
		return fail(notify ? "notify_send" : "send", r);
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail("receiver", -ECHILD);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}
