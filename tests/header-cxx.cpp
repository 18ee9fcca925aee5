/* SPDX-License-Identifier: MIT */
/*
 * A C++ program uses the C library through the umbrella header: the declarations carry C
 * linkage (IPCC_BEGIN_DECLS), so this links against the shared libipcc and runs. The calls
 * cover the kinds of declaration a C++ wrapper meets: structs filled by an init function,
 * enums, bool, output pointers, a callback typedef and the blocking calls with timeouts.
 */
#include <ipcc/ipcc.h>

#include "ipcc-test.h"

static void on_free(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *arg)
{
	(void)cpu;
	(void)peer;
	(void)ch;
	++*static_cast<int *>(arg);
}

Test(cxx, the_umbrella_header_links_from_cxx_and_carries_a_message, .fini = test_cleanup)
{
	struct ipcc_config cfg;
	ipcc_config_init(&cfg);
	cr_assert_eq(cfg.cpus, IPCC_CPUS_DEFAULT);
	cr_assert_eq(ipcc_config_link(&cfg, 1, 1, false), -EINVAL);
	cr_assert_str_eq(ipcc_wait_mode_name(IPCC_WAIT_FUTEX), "futex");

	struct ipcc_system *sys = test_system(&cfg);
	cr_assert(ipcc_system_linked(sys, 0, 1));
	struct ipcc_cpu *cpu0 = test_attach(sys, 0);
	struct ipcc_cpu *cpu1 = test_attach(sys, 1);

	const char msg[] = "from C++";
	char buf[sizeof(msg)] = { 0 };
	cr_assert_eq(ipcc_send(cpu0, 1, 0, msg, sizeof(msg), 0), 0);
	cr_assert_eq(ipcc_recv(cpu1, 0, 0, buf, sizeof(buf), 0), (int)sizeof(msg));
	cr_assert_str_eq(buf, msg);

	/* The channel is free again: the TX-free callback runs at the next dispatch. */
	int calls = 0;
	cr_assert_eq(ipcc_send_async(cpu0, 1, 0, on_free, &calls), 0);
	cr_assert_eq(ipcc_cpu_dispatch(cpu0), 1);
	cr_assert_eq(calls, 1);

	ipcc_cpu_detach(cpu1);
	ipcc_cpu_detach(cpu0);
	ipcc_system_close(sys);
}
