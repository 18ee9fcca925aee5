/* SPDX-License-Identifier: MIT */
/*
 * log-writer NAME CPU TEXT...: attach CPU (a name or an id) of system NAME and log each TEXT as
 * one line, in order, then detach. For the `ipcc log` tests (check-log-cli.py). Exit status 0,
 * or 1 with one line on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ipcc/ipcc.h>

int main(int argc, char **argv)
{
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;

	if (argc < 3) {
		fprintf(stderr, "usage: log-writer NAME CPU TEXT...\n");
		return 2;
	}
	int r = ipcc_system_open(argv[1], &sys);
	if (r < 0) {
		fprintf(stderr, "log-writer: open %s: %s\n", argv[1], ipcc_strerror(r));
		return 1;
	}
	int id = ipcc_system_cpu_by_name(sys, argv[2]);
	if (id < 0)
		id = atoi(argv[2]);
	r = ipcc_cpu_attach(sys, (unsigned)id, NULL, &cpu);
	if (r < 0) {
		fprintf(stderr, "log-writer: attach %s: %s\n", argv[2], ipcc_strerror(r));
		return 1;
	}
	for (int i = 3; i < argc; i++) {
		r = ipcc_log_write(cpu, argv[i], strlen(argv[i]));
		if (r < 0) {
			fprintf(stderr, "log-writer: line %d: %s\n", i - 2, ipcc_strerror(r));
			return 1;
		}
	}
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}
