/* SPDX-License-Identifier: MIT */
/*
 * A program of another project, built against an installed or subproject libipcc, as C and as
 * C++ (the scripts compile this one file both ways): it checks that the headers and the library
 * it loaded agree, then carries one message between two CPUs.
 * Exit 0 and one line "consumer: VERSION ok" on success.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ipcc/ipcc.h>

static int fail(const char *what, int r)
{
	fprintf(stderr, "consumer: %s: %s\n", what, ipcc_strerror(r));
	return 1;
}

int main(void)
{
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu0, *cpu1;
	char name[64], buf[16] = { 0 };
	int r, status = 1;

	if (strcmp(ipcc_version(), IPCC_VERSION_STRING)) {
		fprintf(stderr, "consumer: headers %s, library %s\n", IPCC_VERSION_STRING,
			ipcc_version());
		return 1;
	}
	snprintf(name, sizeof(name), "/ipcc-consumer-%d", (int)getpid());
	r = ipcc_system_create(name, NULL, &sys);
	if (r < 0)
		return fail("create", r);
	r = ipcc_cpu_attach(sys, 0, NULL, &cpu0);
	if (r < 0) {
		fail("attach 0", r);
		goto out_sys;
	}
	r = ipcc_cpu_attach(sys, 1, NULL, &cpu1);
	if (r < 0) {
		fail("attach 1", r);
		goto out_cpu0;
	}
	r = ipcc_send(cpu0, 1, 0, "hello", 6, 0);
	if (r < 0) {
		fail("send", r);
		goto out_cpu1;
	}
	r = ipcc_recv(cpu1, 0, 0, buf, sizeof(buf), 0);
	if (r != 6 || strcmp(buf, "hello")) {
		fail("recv", r < 0 ? r : -EBADMSG);
		goto out_cpu1;
	}
	printf("consumer: %s ok\n", ipcc_version());
	status = 0;
out_cpu1:
	ipcc_cpu_detach(cpu1);
out_cpu0:
	ipcc_cpu_detach(cpu0);
out_sys:
	ipcc_system_close(sys);
	ipcc_system_unlink(name);
	return status;
}
