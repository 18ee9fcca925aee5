/* SPDX-License-Identifier: MIT */
/*
 * ipcc-bench-trace: what the register trace costs per message.
 *
 * One process attaches both CPUs of an anonymous 2-CPU system and runs COUNT exchanges on
 * channel 0: ipcc_send by CPU 0, then ipcc_recv by CPU 1 (timeout 0: the message is there),
 * with no other thread, so that every run executes the same instructions. --trace says how the
 * system is made: `absent` (no trace section), `off` (a section, switched off) or `on`
 * (recording; the rings are drained every 64 exchanges, outside the timed part's hot path
 * but inside the run). Under `valgrind --tool=callgrind`, the difference between two COUNTs
 * divided by their difference is the instructions per exchange; alone, it prints the wall
 * time per exchange (noisy on a shared machine: read it as a rough figure).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ipcc/ipcc.h>

static int usage(void)
{
	fprintf(stderr, "usage: ipcc-bench-trace --trace absent|off|on [--count N]\n");
	return 2;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	const char *mode = NULL;
	unsigned long count = 100000;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--trace") && i + 1 < argc)
			mode = argv[++i];
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = strtoul(argv[++i], NULL, 10);
		else
			return usage();
	}
	if (!mode || (strcmp(mode, "absent") && strcmp(mode, "off") && strcmp(mode, "on")))
		return usage();

	struct ipcc_config cfg;
	struct ipcc_trace_config tcfg;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu[2];
	struct ipcc_trace_record rec[256];
	ipcc_config_init(&cfg);
	ipcc_trace_config_init(&tcfg);
	tcfg.enabled = !strcmp(mode, "on");
	if (strcmp(mode, "absent"))
		cfg.trace = &tcfg;
	int r = ipcc_system_create_anon(&cfg, &sys);
	for (unsigned i = 0; r == 0 && i < 2; i++)
		r = ipcc_cpu_attach(sys, i, NULL, &cpu[i]);
	if (r < 0) {
		fprintf(stderr, "ipcc-bench-trace: setup: %s\n", strerror(-r));
		return 1;
	}
	unsigned long records = 0;
	char msg[8] = "hello", in[8];
	double t = now_s();
	for (unsigned long i = 0; i < count; i++) {
		r = ipcc_send(cpu[0], 1, 0, msg, sizeof(msg), 0);
		if (r == 0)
			r = ipcc_recv(cpu[1], 0, 0, in, sizeof(in), 0);
		if (r < 0) {
			fprintf(stderr, "ipcc-bench-trace: exchange %lu: %s\n", i, strerror(-r));
			return 1;
		}
		if (tcfg.enabled && i % 64 == 63)
			for (int ring = 0; ring < 3; ring++)
				while ((r = ipcc_trace_read(sys, (unsigned)ring, rec, 256)) > 0)
					records += (unsigned long)r;
	}
	t = now_s() - t;
	uint64_t dropped = 0, d;
	for (int ring = 0; tcfg.enabled && ring < 3; ring++)
		if (ipcc_trace_dropped(sys, (unsigned)ring, &d) == 0)
			dropped += d;
	printf("trace %s: %lu exchanges, %.1f ns each, %lu records read, %llu dropped\n", mode,
	       count, t * 1e9 / (double)count, records, (unsigned long long)dropped);
	ipcc_cpu_detach(cpu[1]);
	ipcc_cpu_detach(cpu[0]);
	ipcc_system_close(sys);
	return 0;
}
