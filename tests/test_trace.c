/* SPDX-License-Identifier: MIT */
/*
 * The register trace (include/ipcc/trace.h): which writes are recorded, into which ring, with
 * which values; the switch; a full ring; the section in the memory map; several writers.
 */
#include <pthread.h>
#include <sys/wait.h>

#include <ipcc/layout.h>

#include "ipcc-test.h"

TestSuite(trace, .fini = test_cleanup);

static struct ipcc_system *traced_system(uint32_t ring_size, bool enabled)
{
	struct ipcc_config cfg;
	struct ipcc_trace_config tcfg;

	ipcc_config_init(&cfg);
	ipcc_trace_config_init(&tcfg);
	tcfg.ring_size = ring_size;
	tcfg.enabled = enabled;
	cfg.trace = &tcfg;
	return test_system(&cfg);
}

/* Every record of ring `ring`. */
static int drain(struct ipcc_system *sys, unsigned ring, struct ipcc_trace_record *out,
		 unsigned cap)
{
	int n = ipcc_trace_read(sys, ring, out, cap);
	cr_assert_geq(n, 0, "ipcc_trace_read: %s", strerror(-n));
	return n;
}

Test(trace, a_system_without_a_trace_section_refuses_the_calls_with_eopnotsupp)
{
	struct ipcc_system *sys = test_system(NULL);
	struct ipcc_trace_record rec;
	uint64_t n;

	cr_expect_eq(ipcc_trace_enable(sys, true), -EOPNOTSUPP);
	cr_expect_eq(ipcc_trace_enabled(sys), -EOPNOTSUPP);
	cr_expect_eq(ipcc_trace_rings(sys), -EOPNOTSUPP);
	cr_expect_eq(ipcc_trace_read(sys, 0, &rec, 1), -EOPNOTSUPP);
	cr_expect_eq(ipcc_trace_dropped(sys, 0, &n), -EOPNOTSUPP);
	cr_expect_eq(ipcc_trace_enable(NULL, true), -EINVAL);
	ipcc_system_close(sys);
}

Test(trace, a_bad_ring_size_or_reserved_word_is_refused_at_create)
{
	struct ipcc_config cfg;
	struct ipcc_trace_config tcfg;
	struct ipcc_system *sys = NULL;
	const uint32_t bad[] = { 0, 3000, IPCC_TRACE_RING_SIZE_MIN / 2,
				 IPCC_TRACE_RING_SIZE_MAX * 2 };

	ipcc_config_init(&cfg);
	cfg.trace = &tcfg;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ipcc_trace_config_init(&tcfg);
		tcfg.ring_size = bad[i];
		cr_expect_eq(ipcc_system_create(test_name(), &cfg, &sys), -EINVAL, "ring_size %u",
			     bad[i]);
	}
	ipcc_trace_config_init(&tcfg);
	tcfg.reserved[2] = 1;
	cr_expect_eq(ipcc_system_create(test_name(), &cfg, &sys), -EINVAL);
	cr_expect_null(sys);
}

Test(trace, the_section_is_in_the_memory_map_with_a_ring_per_cpu_and_one_more)
{
	struct ipcc_config cfg;
	struct ipcc_trace_config tcfg;
	struct ipcc_section_info info[8];
	uint64_t with, without;

	ipcc_config_init(&cfg);
	cfg.cpus = 3;
	cr_assert_eq(ipcc_config_size(&cfg, &without), 0);
	ipcc_trace_config_init(&tcfg);
	cfg.trace = &tcfg;
	cr_assert_eq(ipcc_config_size(&cfg, &with), 0);
	int n = ipcc_config_plan(&cfg, info, 8);
	cr_assert_gt(n, 0);
	int t = -1;
	for (int i = 0; i < n; i++)
		if (!strcmp(info[i].name, "trace"))
			t = i;
	cr_assert_geq(t, 0, "no trace section in the plan");
	cr_expect_str_eq(info[t].layer, "ipcc");
	cr_expect_eq(info[t].type, IPCC_SECTION_TRACE);
	cr_expect_eq(info[t].count, 4u);
	cr_expect_geq(info[t].stride, IPCC_TRACE_RING_SIZE_DEFAULT);
	cr_expect_eq(with - without, info[t].size);

	struct ipcc_system *sys = test_system(&cfg);
	cr_expect_eq(ipcc_trace_rings(sys), 4);
	cr_expect_eq(ipcc_trace_enabled(sys), 0, "off unless the config says enabled");
	ipcc_system_close(sys);
}

Test(trace, writes_are_recorded_in_the_ring_of_the_writing_processors_cpu)
{
	struct ipcc_system *sys = traced_system(IPCC_TRACE_RING_SIZE_MIN, true);
	struct ipcc_regs *regs = test_regs(sys, 0, 1);
	struct ipcc_trace_record rec[16];

	cr_assert_eq(ipcc_trace_enabled(sys), 1);
	test_wr(regs, CR(1), IPCC_CR_RXOIE);	/* processor 2 enables RX occupied */
	test_wr(regs, MR(1), ~IPCC_MR_CHOM(2)); /* and unmasks channel 2 */
	test_wr(regs, SCR(0), IPCC_SCR_CHS(2)); /* processor 1 sends on 2 */
	test_wr(regs, SCR(1), IPCC_SCR_CHC(2)); /* processor 2 frees it */

	int n = drain(sys, 0, rec, 16); /* CPU 0's: the send, and the line it raised */
	cr_assert_eq(n, 2, "CPU 0's ring holds %d records", n);
	cr_expect_eq(rec[0].kind, IPCC_TRACE_SR);
	cr_expect_eq(rec[0].proc, 1);
	cr_expect_eq(rec[0].value, 1u << 2);
	cr_expect_eq(rec[0].mask, 1u << 2);
	cr_expect_eq(rec[0].cpu, 0);
	cr_expect_eq(rec[0].cpu1, 0);
	cr_expect_eq(rec[0].cpu2, 1);
	cr_expect_eq(rec[1].kind, IPCC_TRACE_LINES);
	cr_expect_eq(rec[1].mask, 0u, "lines before");
	cr_expect_eq(rec[1].value, IPCC_LINE_C2_RXO, "lines after");
	cr_expect_eq(rec[1].time_ns, rec[0].time_ns, "a line change has its write's time");

	n = drain(sys, 1, rec, 16); /* CPU 1's: CR, MR, the clear of C1TOC2SR, the line falling */
	cr_assert_eq(n, 4, "CPU 1's ring holds %d records", n);
	cr_expect_eq(rec[0].kind, IPCC_TRACE_CR);
	cr_expect_eq(rec[0].proc, 2);
	cr_expect_eq(rec[0].value, IPCC_CR_RXOIE);
	cr_expect_eq(rec[0].mask, ~0u, "a store writes every bit");
	cr_expect_eq(rec[1].kind, IPCC_TRACE_MR);
	cr_expect_eq(rec[1].value, test_rd(regs, MR(1)));
	cr_expect_eq(rec[2].kind, IPCC_TRACE_SR);
	cr_expect_eq(rec[2].proc, 1, "CHnC of processor 2 clears C1TOC2SR");
	cr_expect_eq(rec[2].cpu, 1);
	cr_expect_eq(rec[2].value, 0u);
	cr_expect_eq(rec[2].mask, 1u << 2);
	cr_expect_eq(rec[3].kind, IPCC_TRACE_LINES);
	cr_expect_eq(rec[3].value, 0u);
	for (int i = 1; i < n; i++)
		cr_expect_geq(rec[i].time_ns, rec[i - 1].time_ns, "in time order");
	cr_expect_eq(drain(sys, 0, rec, 16), 0, "read records are gone");
	ipcc_regs_close(regs);
	ipcc_system_close(sys);
}

Test(trace, the_channel_api_of_an_attached_cpu_is_recorded_like_register_writes)
{
	struct ipcc_system *sys = traced_system(IPCC_TRACE_RING_SIZE_MIN, true);
	struct ipcc_cpu *cpu1 = test_attach(sys, 1);
	struct ipcc_trace_record rec[64];

	(void)drain(sys, 1, rec, 64); /* the attach's bank reset */
	cr_assert_eq(ipcc_chan_unmask(cpu1, 0, 3, IPCC_DIR_RX), 0);
	int n = drain(sys, 1, rec, 64);
	cr_assert_geq(n, 1);
	cr_expect_eq(rec[0].kind, IPCC_TRACE_MR);
	cr_expect_eq(rec[0].proc, 2);
	cr_expect_eq(rec[0].mask, IPCC_MR_CHOM(3), "the bit it cleared");
	cr_expect_eq(rec[0].value & IPCC_MR_CHOM(3), 0u);
	ipcc_cpu_detach(cpu1);
	ipcc_system_close(sys);
}

Test(trace, switched_off_nothing_is_recorded_and_any_handle_may_switch_it)
{
	struct ipcc_system *sys = traced_system(IPCC_TRACE_RING_SIZE_MIN, false);
	struct ipcc_system *other = NULL;
	struct ipcc_regs *regs = test_regs(sys, 0, 1);
	struct ipcc_trace_record rec[4];

	test_wr(regs, CR(0), IPCC_CR_TXFIE);
	cr_expect_eq(drain(sys, 0, rec, 4), 0);
	cr_assert_eq(ipcc_system_open(ipcc_system_name(sys), &other), 0);
	cr_assert_eq(ipcc_trace_enable(other, true), 0);
	cr_expect_eq(ipcc_trace_enabled(sys), 1, "the switch is in the object");
	test_wr(regs, CR(0), 0);
	cr_expect_eq(drain(sys, 0, rec, 4), 1);
	cr_assert_eq(ipcc_trace_enable(sys, false), 0);
	test_wr(regs, CR(0), IPCC_CR_TXFIE);
	cr_expect_eq(drain(other, 0, rec, 4), 0);
	ipcc_regs_close(regs);
	ipcc_system_close(other);
	ipcc_system_close(sys);
}

Test(trace, a_full_ring_drops_and_counts_and_takes_records_again_once_read)
{
	struct ipcc_system *sys = traced_system(IPCC_TRACE_RING_SIZE_MIN, true);
	struct ipcc_regs *regs = test_regs(sys, 0, 1);
	const unsigned slots = IPCC_TRACE_RING_SIZE_MIN / 32;
	static struct ipcc_trace_record rec[IPCC_TRACE_RING_SIZE_MIN / 32 + 8];
	uint64_t dropped = 0;

	for (unsigned i = 0; i < slots + 10; i++)
		test_wr(regs, MR(0), i & 1 ? ~0u : 0xFFFFFFFEu); /* no line changes: 1 record */
	cr_assert_eq(ipcc_trace_dropped(sys, 0, &dropped), 0);
	cr_expect_eq(dropped, 10u);
	int n = drain(sys, 0, rec, slots + 8);
	cr_expect_eq(n, (int)slots, "the first records are kept");
	cr_expect_eq(rec[0].value, 0xFFFFFFFEu);
	test_wr(regs, MR(0), 0);
	cr_expect_eq(drain(sys, 0, rec, 4), 1);
	ipcc_regs_close(regs);
	ipcc_system_close(sys);
}

Test(trace, a_reset_is_recorded_in_the_last_ring_without_a_cpu)
{
	struct ipcc_system *sys = traced_system(IPCC_TRACE_RING_SIZE_MIN, true);
	struct ipcc_regs *regs = test_regs(sys, 0, 1);
	struct ipcc_trace_record rec[16];

	test_wr(regs, SCR(1), IPCC_SCR_CHS(0));
	(void)drain(sys, 1, rec, 16);
	cr_assert_eq(ipcc_regs_reset(regs), 0);
	int n = drain(sys, 2, rec, 16);
	cr_assert_eq(n, 6, "MR, CR, SR of both processors: %d", n);
	for (int i = 0; i < n; i++)
		cr_expect_eq(rec[i].cpu, IPCC_TRACE_NO_CPU);
	cr_expect_eq(rec[5].kind, IPCC_TRACE_SR);
	cr_expect_eq(rec[5].proc, 2);
	cr_expect_eq(rec[5].value, 0u, "C2TOC1SR freed");
	ipcc_regs_close(regs);
	ipcc_system_close(sys);
}

Test(trace, a_read_only_handle_can_neither_switch_nor_read)
{
	struct ipcc_system *sys = traced_system(IPCC_TRACE_RING_SIZE_MIN, true);
	struct ipcc_system *ro = NULL;
	struct ipcc_trace_record rec;

	cr_assert_eq(ipcc_system_open_flags(ipcc_system_name(sys), IPCC_OPEN_READONLY, &ro), 0);
	cr_expect_eq(ipcc_trace_enabled(ro), 1);
	cr_expect_eq(ipcc_trace_enable(ro, false), -EROFS);
	cr_expect_eq(ipcc_trace_read(ro, 0, &rec, 1), -EROFS);
	cr_expect_eq(ipcc_trace_read(sys, 3, &rec, 1), -EINVAL, "ring out of range");
	ipcc_system_close(ro);
	ipcc_system_close(sys);
}

Test(trace, writers_in_two_processes_share_a_ring_without_losing_a_record)
{
	const unsigned per = 2000;
	struct ipcc_system *sys = traced_system(64u << 10, true); /* 2048 records */
	static struct ipcc_trace_record rec[4096];
	unsigned got = 0, mine = 0, theirs = 0;

	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct ipcc_system *s = NULL;
		struct ipcc_regs *r = NULL;
		if (ipcc_system_open(ipcc_system_name(sys), &s) < 0 || ipcc_regs_open(s, 0, 1, &r))
			_exit(2);
		for (unsigned i = 0; i < per; i++)
			ipcc_regs_write(r, CR(0), IPCC_CR_TXFIE); /* value 2: the child's */
		_exit(0);
	}
	struct ipcc_regs *regs = test_regs(sys, 0, 1);
	for (unsigned i = 0; i < per; i++) {
		test_wr(regs, CR(0), IPCC_CR_RXOIE); /* value 1: ours */
		if (i % 64 == 0) {
			int n = drain(sys, 0, rec + got, 4096 - got);
			got += (unsigned)n;
		}
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	got += (unsigned)drain(sys, 0, rec + got, 4096 - got);
	uint64_t dropped = 0;
	cr_assert_eq(ipcc_trace_dropped(sys, 0, &dropped), 0);
	for (unsigned i = 0; i < got; i++) {
		cr_assert_eq(rec[i].kind, IPCC_TRACE_CR, "masked: no line moves");
		mine += rec[i].value == IPCC_CR_RXOIE;
		theirs += rec[i].value == IPCC_CR_TXFIE;
	}
	cr_expect_eq(mine + theirs, got, "every record is one of the two writers'");
	cr_expect_eq(got + dropped, 2 * per, "%u read + %llu dropped", got,
		     (unsigned long long)dropped);
	cr_expect_gt(theirs, 0u);
	ipcc_regs_close(regs);
	ipcc_system_close(sys);
}

Test(trace, open_or_create_meets_only_an_object_with_the_same_trace)
{
	struct ipcc_config cfg;
	struct ipcc_trace_config tcfg;
	struct ipcc_system *sys = NULL, *other = NULL;
	const char *name = test_name();

	ipcc_config_init(&cfg);
	ipcc_trace_config_init(&tcfg);
	cfg.trace = &tcfg;
	cr_assert_eq(ipcc_system_open_or_create(name, &cfg, 0, &sys), 1);
	tcfg.enabled = true; /* the switch is run-time state, not shape */
	cr_expect_eq(ipcc_system_open_or_create(name, &cfg, 0, &other), 0);
	ipcc_system_close(other);
	tcfg.ring_size *= 2;
	cr_expect_eq(ipcc_system_open_or_create(name, &cfg, 0, &other), -EEXIST,
		     "another ring size");
	cfg.trace = NULL;
	cr_expect_eq(ipcc_system_open_or_create(name, &cfg, 0, &other), -EEXIST,
		     "no trace asked for, the object has one");
	ipcc_system_close(sys);
	cr_assert_eq(ipcc_system_unlink(name), 0);
	cr_assert_eq(ipcc_system_open_or_create(name, &cfg, 0, &sys), 1);
	cfg.trace = &tcfg;
	cr_expect_eq(ipcc_system_open_or_create(name, &cfg, 0, &other), -EEXIST,
		     "a trace asked for, the object has none");
	ipcc_system_close(sys);
}

/* The records of kind `kind` in ring `ring`. */
static int find_kind(struct ipcc_system *sys, unsigned ring, unsigned kind,
		     struct ipcc_trace_record *ret)
{
	struct ipcc_trace_record rec[64];
	int n = drain(sys, ring, rec, 64), found = 0;
	for (int i = 0; i < n; i++)
		if (rec[i].kind == kind && found++ == 0)
			*ret = rec[i];
	return found;
}

Test(trace, a_notify_value_is_recorded_when_queued_and_when_taken)
{
	struct ipcc_config cfg;
	struct ipcc_trace_config tcfg;
	struct ipcc_notify_config ncfg;
	struct ipcc_trace_record tx, rx;
	uint32_t v = 0;
	unsigned from = 9;

	ipcc_config_init(&cfg);
	ipcc_trace_config_init(&tcfg);
	ipcc_notify_config_init(&ncfg);
	tcfg.enabled = true;
	cfg.trace = &tcfg;
	cfg.notify = &ncfg;
	struct ipcc_system *sys = test_system(&cfg);
	struct ipcc_cpu *cpu0 = test_attach(sys, 0), *cpu1 = test_attach(sys, 1);
	cr_assert_eq(ipcc_notify_send(cpu0, 1, 3, 0x4567, 0), 0);
	cr_assert_eq(ipcc_notify_recv(cpu1, 3, &v, &from, 1000 * 1000 * 1000), 0);
	cr_assert_eq(v, 0x4567u);
	cr_assert_eq(find_kind(sys, 0, IPCC_TRACE_NOTIFY_SEND, &tx), 1,
		     "one send, in CPU 0's ring");
	cr_expect_eq(tx.value, 3u << 28 | 0x4567);
	cr_expect_eq(tx.proc, 1);
	cr_expect_eq(tx.cpu, 0);
	cr_expect_eq(tx.mask, 0u);
	cr_assert_eq(find_kind(sys, 1, IPCC_TRACE_NOTIFY_RECV, &rx), 1, "one take, in CPU 1's");
	cr_expect_eq(rx.value, tx.value);
	cr_expect_eq(rx.proc, 2);
	cr_expect_eq(rx.cpu, 1);
	cr_expect_geq(rx.time_ns, tx.time_ns, "taken after it was queued");
	ipcc_cpu_detach(cpu1);
	ipcc_cpu_detach(cpu0);
	ipcc_system_close(sys);
}

/*
 * A spin-mode CPU whose flag changes while it polls skips the unmask and mask around its wait
 * (lib/proc/proc.c:chan_wait), but only when nobody sees the link's writes. With a trace
 * recording, every call still writes the whole interrupt procedure; traced or not, the
 * registers after the calls are the same.
 */
#define SPIN_CALLS 40

struct echo {
	struct ipcc_cpu *cpu;
	int err;
};

static void *echo_main(void *p)
{
	struct echo *e = p;
	char buf[16];

	for (int i = 0; i < SPIN_CALLS && !e->err; i++) {
		int r = ipcc_serve(e->cpu, 0, 1, buf, sizeof(buf), IPCC_TIMEOUT_INFINITE);
		if (r >= 0)
			r = ipcc_reply(e->cpu, 0, 1, buf, (size_t)r);
		e->err = r < 0 ? r : 0;
	}
	return NULL;
}

/* SPIN_CALLS spin-mode calls on channel 1; CR and MR of both processors after them. */
static void spin_calls(bool traced, uint32_t out[4], unsigned *unmasks)
{
	struct ipcc_system *sys = traced_system(1u << 14, traced);
	struct ipcc_cpu *a = test_attach(sys, 0), *b = test_attach(sys, 1);
	struct ipcc_trace_record rec[256];
	struct echo e = { .cpu = b };
	pthread_t th;

	cr_assert_eq(ipcc_cpu_set_wait_mode(a, IPCC_WAIT_SPIN, 0), 0);
	cr_assert_eq(ipcc_cpu_set_wait_mode(b, IPCC_WAIT_SPIN, 0), 0);
	if (traced)
		(void)drain(sys, 0, rec, 256); /* the attach's bank reset */
	cr_assert_eq(pthread_create(&th, NULL, echo_main, &e), 0);
	*unmasks = 0;
	for (int i = 0; i < SPIN_CALLS; i++) {
		char req[8], resp[8];
		int len = snprintf(req, sizeof(req), "c%d", i);
		int r = ipcc_call(a, 1, 1, req, (size_t)len, resp, sizeof(resp),
				  IPCC_TIMEOUT_INFINITE);
		cr_assert_eq(r, len, "call %d: %d", i, r);
		cr_assert_eq(memcmp(req, resp, (size_t)len), 0, "call %d: the echo", i);
		/* CPU 0's ring: count the writes that unmask TX free of channel 1 */
		int n = traced ? drain(sys, 0, rec, 256) : 0;
		for (int k = 0; k < n; k++)
			if (rec[k].kind == IPCC_TRACE_MR && rec[k].proc == 1 &&
			    rec[k].mask == IPCC_MR_CHFM(1) && !(rec[k].value & IPCC_MR_CHFM(1)))
				++*unmasks;
	}
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_eq(e.err, 0, "the echo thread: %s", strerror(-e.err));
	struct ipcc_regs *regs = test_regs(sys, 0, 1);
	out[0] = test_rd(regs, CR(0));
	out[1] = test_rd(regs, MR(0));
	out[2] = test_rd(regs, CR(1));
	out[3] = test_rd(regs, MR(1));
	ipcc_regs_close(regs);
	ipcc_cpu_detach(a);
	ipcc_cpu_detach(b);
	ipcc_system_close(sys);
}

Test(trace, a_traced_spinning_caller_writes_the_whole_procedure_and_ends_in_the_same_registers)
{
	uint32_t traced[4], plain[4];
	unsigned unmasks, none;

	spin_calls(true, traced, &unmasks);
	spin_calls(false, plain, &none);
	/* A call whose response is there at its first look needs no unmask: a preempted
	 * caller may find it so, rarely. Polling calls would unmask almost never. */
	cr_expect_geq(unmasks, SPIN_CALLS / 2, "%u TX free unmasks in %d traced calls", unmasks,
		      SPIN_CALLS);
	cr_expect(traced[1] & IPCC_MR_CHFM(1), "TX free of channel 1 is masked after the calls");
	cr_expect(!(traced[3] & IPCC_MR_CHOM(1)), "RX occupied of channel 1 is unmasked again");
	const char *name[4] = { "C1CR", "C1MR", "C2CR", "C2MR" };
	for (int i = 0; i < 4; i++)
		cr_expect_eq(plain[i], traced[i], "%s: 0x%08x untraced, 0x%08x traced", name[i],
			     plain[i], traced[i]);
}
