/* SPDX-License-Identifier: MIT */
/*
 * ipcc-bench-idle: how much CPU a CPU uses while it waits for a peer that stays silent.
 *
 * A child attaches a CPU in the given wait mode and blocks in ipcc_recv on a channel nobody
 * sends on, for --seconds; the parent holds the peer CPU attached (alive, silent), then reads
 * the child's user+system CPU time with wait4 and prints it as a share of one core: total, and
 * after the adaptive spin budget (the first spin_ns are subtracted as spent spinning).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipcc/ipcc.h>

static int usage(void)
{
	fprintf(stderr,
		"usage: ipcc-bench-idle [--mode adaptive|futex|spin] [--seconds S] [--version]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "mode", required_argument, NULL, 'm' },
					      { "seconds", required_argument, NULL, 's' },
					      { "help", no_argument, NULL, 'h' },
					      { "version", no_argument, NULL, 'V' },
					      { NULL, 0, NULL, 0 } };
	enum ipcc_wait_mode mode = IPCC_WAIT_ADAPTIVE;
	double seconds = 3;
	int c;

	while ((c = getopt_long(argc, argv, "m:s:h", opts, NULL)) != -1) {
		if (c == 'm' && !strcmp(optarg, "adaptive"))
			mode = IPCC_WAIT_ADAPTIVE;
		else if (c == 'm' && !strcmp(optarg, "futex"))
			mode = IPCC_WAIT_FUTEX;
		else if (c == 'm' && !strcmp(optarg, "spin"))
			mode = IPCC_WAIT_SPIN;
		else if (c == 'V')
			return printf("ipcc-bench-idle %s (libipcc %s)\n", IPCC_VERSION_STRING,
				      ipcc_version()) < 0;
		else if (c == 's' && (seconds = atof(optarg)) > 0 && seconds <= 60)
			continue;
		else
			return usage();
	}
	if (optind != argc)
		return usage();

	char name[64];
	snprintf(name, sizeof(name), "/ipcc-idle-%d", (int)getpid());
	struct ipcc_system *sys;
	struct ipcc_cpu *peer;
	int r = ipcc_system_create(name, NULL, &sys);
	if (r < 0) {
		fprintf(stderr, "ipcc-bench-idle: create %s: %s\n", name, ipcc_strerror(r));
		return 1;
	}
	r = ipcc_cpu_attach(sys, 0, NULL, &peer);
	if (r < 0) {
		fprintf(stderr, "ipcc-bench-idle: attach: %s\n", ipcc_strerror(r));
		ipcc_system_unlink(name);
		return 1;
	}
	struct ipcc_cpu_options opt;
	ipcc_cpu_options_init(&opt);
	opt.wait = mode;
	pid_t pid = fork();
	if (pid == 0) {
		struct ipcc_system *s2;
		struct ipcc_cpu *cpu;
		char buf[8];
		if (ipcc_system_open(name, &s2) < 0 || ipcc_cpu_attach(s2, 1, &opt, &cpu) < 0)
			_exit(3);
		r = ipcc_recv(cpu, 0, 0, buf, sizeof(buf), (int64_t)(seconds * 1e9));
		_exit(r == -ETIMEDOUT ? 0 : 4);
	}
	int status;
	struct rusage ru;
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "ipcc-bench-idle: the waiting CPU failed\n");
		ipcc_system_unlink(name);
		return 1;
	}
	double cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	double spin_s = mode == IPCC_WAIT_ADAPTIVE ? opt.spin_ns / 1e9 : 0;
	printf("wait mode %s, silent peer for %.1f s: %.4f s of CPU = %.3f%% of a core "
	       "(%.3f%% after the %u ns spin budget; %ld voluntary context switches)\n",
	       ipcc_wait_mode_name(mode), seconds, cpu_s, 100 * cpu_s / seconds,
	       100 * (cpu_s > spin_s ? cpu_s - spin_s : 0) / seconds,
	       mode == IPCC_WAIT_ADAPTIVE ? opt.spin_ns : 0, ru.ru_nvcsw);
	ipcc_cpu_detach(peer);
	ipcc_system_close(sys);
	ipcc_system_unlink(name);
	return 0;
}
