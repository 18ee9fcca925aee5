/* SPDX-License-Identifier: MIT */
/*
 * IPC Notify in one process (<ipcc/notify.h>): every argument error with its own errno, the
 * config and its checks at create, the shape of a created system (the reserved channel), and
 * delivery between two or three CPUs attached by this process: callbacks from
 * ipcc_cpu_dispatch, the mailbox and ipcc_notify_recv, overflow, a full queue, the counters,
 * and what a callback may do.
 */
#include "notify-test.h"

static void teardown(void)
{
	pt_cleanup();
}

TestSuite(notify, .fini = teardown, .timeout = 30);

static void never_called(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
			 void *arg)
{
	(void)cpu, (void)remote, (void)client, (void)value, (void)arg;
	cr_assert_fail("a callback that no value was sent to ran");
}

/*
 * Three CPUs, 4 channels: link 0-1 with Notify, link 0-2 without (disabled in the Notify
 * config), 1 and 2 not linked. CPU 2 has no Notify link at all.
 */
struct trio {
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu[3];
};

static void trio_start(struct trio *t)
{
	struct ipcc_config cfg;
	struct ipcc_notify_config n;
	nt_config(&cfg, &n, 3);
	cfg.channels = 4;
	cr_assert_eq(ipcc_config_link(&cfg, 1, 2, false), 0);
	cr_assert_eq(ipcc_notify_config_pair(&n, 2, 0, false), 0);
	t->sys = nt_create(&cfg);
	for (unsigned i = 0; i < 3; i++)
		t->cpu[i] = pt_attach(t->sys, i, IPCC_WAIT_FUTEX, 0);
}

static void trio_stop(struct trio *t)
{
	for (unsigned i = 0; i < 3; i++)
		ipcc_cpu_detach(t->cpu[i]);
	ipcc_system_close(t->sys);
}

/* Two CPUs of a default Notify system (depth 16), both attached here. */
struct duo {
	struct ipcc_system *sys;
	struct ipcc_cpu *a, *b; /* CPUs 0 and 1 */
};

static void duo_start(struct duo *d, uint32_t depth)
{
	d->sys = nt_system(2, depth);
	d->a = pt_attach(d->sys, 0, IPCC_WAIT_FUTEX, 0);
	d->b = pt_attach(d->sys, 1, IPCC_WAIT_FUTEX, 0);
}

static void duo_stop(struct duo *d)
{
	ipcc_cpu_detach(d->a);
	ipcc_cpu_detach(d->b);
	ipcc_system_close(d->sys);
}

static void send_ok(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value)
{
	int r = ipcc_notify_send(cpu, remote, client, value, 0);
	cr_assert_eq(r, 0, "send of %u to client %u of CPU %u: %s", value, client, remote,
		     strerror(-r));
}

static void recv_expect(struct ipcc_cpu *cpu, unsigned client, unsigned remote, uint32_t value,
			int64_t timeout_ns)
{
	uint32_t v = 0xDEADBEEFu;
	unsigned from = 99;
	int r = ipcc_notify_recv(cpu, client, &v, &from, timeout_ns);
	cr_assert_eq(r, 0, "recv on client %u (expecting %u from %u): %s", client, value, remote,
		     strerror(-r));
	cr_assert_eq(v, value, "recv on client %u: value %u, expected %u", client, v, value);
	cr_assert_eq(from, remote, "recv on client %u: from CPU %u, expected %u", client, from,
		     remote);
}

static void expect_empty(struct ipcc_cpu *cpu, unsigned client)
{
	uint32_t v = 0xDEADBEEFu;
	unsigned from = 99;
	int r = ipcc_notify_recv(cpu, client, &v, &from, 0);
	cr_assert_eq(r, -EAGAIN, "recv on an empty client %u: %d (%s), expected -EAGAIN", client, r,
		     strerror(-r));
	cr_assert_eq(v, 0xDEADBEEFu, "a failed recv wrote its value");
	cr_assert_eq(from, 99u, "a failed recv wrote its remote");
}

static void dispatch(struct ipcc_cpu *cpu)
{
	int r = ipcc_cpu_dispatch(cpu);
	cr_assert_geq(r, 0, "dispatch: %s", strerror(-r));
}

/* ---- the config ------------------------------------------------------------------------ */

Test(notify, config_init_enables_every_pair_with_depth_16_on_the_last_channel)
{
	struct ipcc_notify_config n;
	memset(&n, 0xA5, sizeof(n));
	ipcc_notify_config_init(&n);
	for (unsigned a = 0; a < IPCC_CPUS_MAX; a++)
		for (unsigned b = a + 1; b < IPCC_CPUS_MAX; b++)
			cr_assert(n.pairs[a] >> b & 1, "pair %u-%u is off by default", a, b);
	cr_assert_eq(n.depth, IPCC_NOTIFY_DEPTH_DEFAULT);
	cr_assert_eq(n.depth, 16u);
	cr_assert_eq(n.channel, IPCC_NOTIFY_CHANNEL_LAST);
	for (unsigned i = 0; i < sizeof(n.reserved) / sizeof(n.reserved[0]); i++)
		cr_assert_eq(n.reserved[i], 0u, "reserved[%u] not cleared", i);
}

Test(notify, config_pair_switches_one_pair_in_either_order)
{
	struct ipcc_notify_config n, want;
	ipcc_notify_config_init(&n);
	want = n;

	cr_assert_eq(ipcc_notify_config_pair(&n, 5, 2, false), 0);
	want.pairs[2] &= ~(1ull << 5);
	cr_assert_eq(memcmp(&n, &want, sizeof(n)), 0,
		     "pair(5, 2, off) changed more than bit 5 of "
		     "pairs[2]");
	cr_assert_eq(ipcc_notify_config_pair(&n, 2, 5, false), 0, "switching off twice");
	cr_assert_eq(memcmp(&n, &want, sizeof(n)), 0);
	cr_assert_eq(ipcc_notify_config_pair(&n, 2, 5, true), 0);
	want.pairs[2] |= 1ull << 5;
	cr_assert_eq(memcmp(&n, &want, sizeof(n)), 0, "pair(2, 5, on) did not restore the pair");
	cr_assert_eq(ipcc_notify_config_pair(&n, 0, IPCC_CPUS_MAX - 1, false), 0);
	want.pairs[0] &= ~(1ull << (IPCC_CPUS_MAX - 1));
	cr_assert_eq(memcmp(&n, &want, sizeof(n)), 0);

	/* Errors as ipcc_config_link: a == b, an id at or above IPCC_CPUS_MAX; nothing changes. */
	cr_assert_eq(ipcc_notify_config_pair(&n, 3, 3, false), -EINVAL);
	cr_assert_eq(ipcc_notify_config_pair(&n, 0, IPCC_CPUS_MAX, false), -EINVAL);
	cr_assert_eq(ipcc_notify_config_pair(&n, IPCC_CPUS_MAX, 0, true), -EINVAL);
	cr_assert_eq(ipcc_notify_config_pair(&n, UINT_MAX, 1, false), -EINVAL);
	cr_assert_eq(memcmp(&n, &want, sizeof(n)), 0, "a refused call changed the config");
}

/* One name for every attempt: a failed create leaves nothing behind under it. */
static void expect_create_fails(const char *name, const struct ipcc_notify_config *n,
				unsigned channels, const char *what)
{
	struct ipcc_config cfg;
	struct ipcc_system *sys = NULL;
	uint64_t size = 0;
	ipcc_config_init(&cfg);
	cfg.channels = channels;
	cfg.notify = n;
	int r = ipcc_system_create(name, &cfg, &sys);
	cr_assert_eq(r, -EINVAL, "create with %s: %d (%s), expected -EINVAL", what, r,
		     strerror(-r));
	cr_assert_null(sys, "create with %s wrote its output", what);
	int fd = shm_open(name, O_RDONLY, 0);
	if (fd >= 0)
		close(fd);
	cr_assert_lt(fd, 0, "create with %s left the object behind", what);
	r = ipcc_config_size(&cfg, &size);
	cr_assert_eq(r, -EINVAL, "ipcc_config_size with %s: %d, expected -EINVAL", what, r);
}

Test(notify, create_refuses_a_bad_depth_or_channel_with_einval)
{
	static const uint32_t bad_depths[] = {
		0, 1, 3, 24, 100, IPCC_NOTIFY_DEPTH_MAX + 1, IPCC_NOTIFY_DEPTH_MAX * 2, UINT32_MAX
	};
	struct ipcc_notify_config n;
	const char *name = pt_name();
	char what[64];

	for (unsigned i = 0; i < sizeof(bad_depths) / sizeof(bad_depths[0]); i++) {
		ipcc_notify_config_init(&n);
		n.depth = bad_depths[i];
		snprintf(what, sizeof(what), "depth %u", bad_depths[i]);
		expect_create_fails(name, &n, 6, what);
	}
	ipcc_notify_config_init(&n);
	n.channel = 4;
	expect_create_fails(name, &n, 4, "channel 4 of 4");
	n.channel = IPCC_CHANNELS_MAX;
	expect_create_fails(name, &n, IPCC_CHANNELS_MAX, "channel 16 of 16");
	n.channel = IPCC_NOTIFY_CHANNEL_LAST - 1;
	expect_create_fails(name, &n, 6, "channel 0xFFFFFFFE");
}

Test(notify, create_accepts_the_depth_limits_and_any_channel_of_the_link)
{
	static const uint32_t depths[] = { IPCC_NOTIFY_DEPTH_MIN, 64, IPCC_NOTIFY_DEPTH_MAX };
	for (unsigned i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		struct ipcc_system *sys = nt_system(2, depths[i]);
		cr_assert_eq(ipcc_notify_depth(sys), depths[i]);
		struct ipcc_notify_stats st = nt_stats(sys, 1, 0);
		cr_assert_eq(st.depth, depths[i], "stats: depth %u, created with %u", st.depth,
			     depths[i]);
		ipcc_system_close(sys);
	}
	for (unsigned ch = 0; ch < 3; ch++) {
		struct ipcc_config cfg;
		struct ipcc_notify_config n;
		nt_config(&cfg, &n, 2);
		cfg.channels = 3;
		n.channel = ch;
		struct ipcc_system *sys = nt_create(&cfg);
		cr_assert_eq(ipcc_notify_channel(sys), (int)ch);
		for (unsigned c = 0; c < 3; c++)
			cr_assert_eq(ipcc_system_channel_owner(sys, 0, 1, c),
				     c == ch ? (int)IPCC_SERVICE_NOTIFY : (int)IPCC_CHAN_OWNER_PROC,
				     "channel %u with Notify on %u", c, ch);
		ipcc_system_close(sys);
	}
}

/* ---- the shape of a created system ------------------------------------------------------- */

static void expect_trio_shape(const struct ipcc_system *sys)
{
	cr_assert_eq(ipcc_notify_enabled(sys, 0, 1), 1);
	cr_assert_eq(ipcc_notify_enabled(sys, 1, 0), 1);
	cr_assert_eq(ipcc_notify_enabled(sys, 0, 2), 0, "Notify on a pair the config disabled");
	cr_assert_eq(ipcc_notify_enabled(sys, 2, 0), 0);
	cr_assert_eq(ipcc_notify_enabled(sys, 1, 2), -ENOENT, "Notify of an unlinked pair");
	cr_assert_eq(ipcc_notify_enabled(sys, 1, 1), -EINVAL);
	cr_assert_eq(ipcc_notify_enabled(sys, 0, 3), -EINVAL, "CPU 3 of 3");
	cr_assert_eq(ipcc_notify_enabled(sys, IPCC_CPUS_MAX, 0), -EINVAL);
	cr_assert_eq(ipcc_notify_depth(sys), IPCC_NOTIFY_DEPTH_DEFAULT);
	cr_assert_eq(ipcc_notify_channel(sys), 3, "the default is the last of 4 channels");
	cr_assert_eq(ipcc_system_channel_owner(sys, 0, 1, 3), (int)IPCC_SERVICE_NOTIFY);
	cr_assert_eq(ipcc_system_channel_owner(sys, 1, 0, 3), (int)IPCC_SERVICE_NOTIFY);
	for (unsigned c = 0; c < 3; c++)
		cr_assert_eq(ipcc_system_channel_owner(sys, 0, 1, c), (int)IPCC_CHAN_OWNER_PROC,
			     "channel %u of a Notify link is not the procedures'", c);
	/* Notify reserves its channel on the links that have it, and only there. */
	for (unsigned c = 0; c < 4; c++)
		cr_assert_eq(ipcc_system_channel_owner(sys, 0, 2, c), (int)IPCC_CHAN_OWNER_PROC,
			     "channel %u of the link without Notify", c);
}

Test(notify, a_system_reports_which_pairs_have_notify_its_depth_and_channel)
{
	struct trio t;
	trio_start(&t);
	expect_trio_shape(t.sys);
	cr_assert_not_null(ipcc_service_name(IPCC_SERVICE_NOTIFY));

	/* The same through a read-only handle, an observer's. */
	struct ipcc_system *ro = NULL;
	int r = ipcc_system_open_flags(ipcc_system_name(t.sys), IPCC_OPEN_READONLY, &ro);
	cr_assert_eq(r, 0, "read-only open: %s", strerror(-r));
	expect_trio_shape(ro);
	struct ipcc_notify_stats st = nt_stats(ro, 0, 1);
	cr_assert_eq(st.depth, IPCC_NOTIFY_DEPTH_DEFAULT);
	cr_assert_eq(st.fill, 0u);
	ipcc_system_close(ro);
	trio_stop(&t);
}

Test(notify, a_system_without_notify_has_none_and_refuses_every_call_with_enoprotoopt)
{
	struct ipcc_system *sys = pt_create(2, 6, 64);
	struct ipcc_cpu *a = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	struct ipcc_notify_stats st;
	uint32_t v;

	cr_assert_eq(ipcc_notify_enabled(sys, 0, 1), 0);
	cr_assert_eq(ipcc_notify_depth(sys), 0u);
	cr_assert_eq(ipcc_notify_channel(sys), -ENOPROTOOPT);
	cr_assert_eq(ipcc_notify_stats(sys, 0, 1, &st), -ENOPROTOOPT);
	cr_assert_eq(ipcc_system_channel_owner(sys, 0, 1, 5), (int)IPCC_CHAN_OWNER_PROC);
	cr_assert_eq(ipcc_notify_register(a, NT_CLIENT, never_called, NULL), -ENOPROTOOPT);
	cr_assert_eq(ipcc_notify_send(a, 1, NT_CLIENT, 1, 0), -ENOPROTOOPT);
	cr_assert_eq(ipcc_notify_recv(a, NT_CLIENT, &v, NULL, 0), -ENOPROTOOPT);
	ipcc_cpu_detach(a);
	ipcc_system_close(sys);
}

static void no_handler(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, enum ipcc_dir dir,
		       void *arg)
{
	(void)cpu, (void)peer, (void)ch, (void)dir, (void)arg;
}

Test(notify, the_reserved_channel_is_refused_to_the_procedures_with_eacces)
{
	struct ipcc_config cfg;
	struct ipcc_notify_config n;
	uint8_t buf[8] = { 1, 2, 3, 4 };

	nt_config(&cfg, &n, 2);
	n.channel = 1;
	struct ipcc_system *sys = nt_create(&cfg);
	struct ipcc_cpu *a = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	struct ipcc_cpu *b = pt_attach(sys, 1, IPCC_WAIT_FUTEX, 0);

	cr_assert_eq(ipcc_system_channel_owner(sys, 0, 1, 1), (int)IPCC_SERVICE_NOTIFY);
	cr_assert_eq(ipcc_send(a, 1, 1, buf, 4, 0), -EACCES);
	cr_assert_eq(ipcc_recv(b, 0, 1, buf, sizeof(buf), 0), -EACCES);
	cr_assert_eq(ipcc_call(a, 1, 1, buf, 4, buf, sizeof(buf), 0), -EACCES);
	cr_assert_eq(ipcc_irq_activate(b, 0, 1, IPCC_DIR_RX, no_handler, NULL), -EACCES);
	cr_assert_eq(ipcc_irq_activate(a, 1, 1, IPCC_DIR_TX, no_handler, NULL), -EACCES);
	/* The others stay the procedures'; a message there does not disturb Notify. */
	cr_assert_eq(ipcc_send(a, 1, 0, buf, 4, 0), 0);
	cr_assert_eq(ipcc_recv(b, 0, 0, buf, sizeof(buf), 0), 4);
	cr_assert_eq(ipcc_send(a, 1, 5, buf, 4, 0), 0);
	cr_assert_eq(ipcc_recv(b, 0, 5, buf, sizeof(buf), 0), 4);
	send_ok(a, 1, NT_CLIENT, 77);
	recv_expect(b, NT_CLIENT, 0, 77, PT_LONG);

	ipcc_cpu_detach(a);
	ipcc_cpu_detach(b);
	ipcc_system_close(sys);
}

/* ---- argument errors --------------------------------------------------------------------- */

Test(notify, register_errors_each_have_their_own_errno)
{
	struct trio t;
	trio_start(&t);
	struct ipcc_cpu *c0 = t.cpu[0];

	cr_assert_eq(ipcc_notify_register(NULL, NT_CLIENT, never_called, NULL), -EINVAL);
	cr_assert_eq(ipcc_notify_register(c0, NT_CLIENT, NULL, NULL), -EINVAL);
	cr_assert_eq(ipcc_notify_register(c0, IPCC_NOTIFY_CLIENTS, never_called, NULL), -ECHRNG);
	cr_assert_eq(ipcc_notify_register(c0, UINT_MAX, never_called, NULL), -ECHRNG);
	cr_assert_eq(ipcc_notify_register(c0, IPCC_NOTIFY_CLIENT_RPMSG, never_called, NULL),
		     -EACCES);
	cr_assert_eq(ipcc_notify_register(c0, IPCC_NOTIFY_CLIENT_SYNC, never_called, NULL),
		     -EACCES);
	/* CPU 2's only link has no Notify. */
	cr_assert_eq(ipcc_notify_register(t.cpu[2], NT_CLIENT, never_called, NULL), -ENOPROTOOPT);

	cr_assert_eq(ipcc_notify_register(c0, NT_CLIENT, never_called, NULL), 0);
	cr_assert_eq(ipcc_notify_register(c0, NT_CLIENT, never_called, NULL), -EEXIST);
	cr_assert_eq(ipcc_notify_register(c0, NT_CLIENT, nt_log_fn, NULL), -EEXIST,
		     "another callback for a client that has one");
	cr_assert_eq(ipcc_notify_register(c0, IPCC_NOTIFY_CLIENTS - 1, never_called, NULL), 0,
		     "client 15, the last one");
	/* The same client of another CPU is another client. */
	cr_assert_eq(ipcc_notify_register(t.cpu[1], NT_CLIENT, never_called, NULL), 0);
	trio_stop(&t);
}

Test(notify, unregister_errors_each_have_their_own_errno)
{
	struct trio t;
	trio_start(&t);
	struct ipcc_cpu *c0 = t.cpu[0];

	cr_assert_eq(ipcc_notify_unregister(NULL, NT_CLIENT), -EINVAL);
	cr_assert_eq(ipcc_notify_unregister(c0, IPCC_NOTIFY_CLIENTS), -ECHRNG);
	cr_assert_eq(ipcc_notify_unregister(c0, UINT_MAX), -ECHRNG);
	cr_assert_eq(ipcc_notify_unregister(c0, IPCC_NOTIFY_CLIENT_RPMSG), -EACCES);
	cr_assert_eq(ipcc_notify_unregister(c0, IPCC_NOTIFY_CLIENT_SYNC), -EACCES);
	cr_assert_eq(ipcc_notify_unregister(c0, NT_CLIENT), -ENOENT, "never registered");

	cr_assert_eq(ipcc_notify_register(c0, NT_CLIENT, never_called, NULL), 0);
	cr_assert_eq(ipcc_notify_unregister(t.cpu[1], NT_CLIENT), -ENOENT,
		     "the client of another CPU");
	cr_assert_eq(ipcc_notify_unregister(c0, NT_CLIENT), 0);
	cr_assert_eq(ipcc_notify_unregister(c0, NT_CLIENT), -ENOENT, "unregistered twice");
	cr_assert_eq(ipcc_notify_register(c0, NT_CLIENT, never_called, NULL), 0,
		     "registering again after an unregister");
	trio_stop(&t);
}

Test(notify, send_errors_each_have_their_own_errno_and_queue_nothing)
{
	struct trio t;
	trio_start(&t);
	struct ipcc_cpu *c0 = t.cpu[0];

	cr_assert_eq(ipcc_notify_send(c0, 1, NT_CLIENT, IPCC_NOTIFY_VALUE_MAX + 1, 0), -ERANGE);
	cr_assert_eq(ipcc_notify_send(c0, 1, NT_CLIENT, UINT32_MAX, 0), -ERANGE);
	cr_assert_eq(ipcc_notify_send(c0, 1, IPCC_NOTIFY_CLIENTS, 1, 0), -ECHRNG);
	cr_assert_eq(ipcc_notify_send(c0, 1, UINT_MAX, 1, 0), -ECHRNG);
	cr_assert_eq(ipcc_notify_send(c0, 1, IPCC_NOTIFY_CLIENT_RPMSG, 1, 0), -EACCES);
	cr_assert_eq(ipcc_notify_send(c0, 1, IPCC_NOTIFY_CLIENT_SYNC, 1, 0), -EACCES);
	cr_assert_eq(ipcc_notify_send(NULL, 1, NT_CLIENT, 1, 0), -EINVAL);
	cr_assert_eq(ipcc_notify_send(c0, 0, NT_CLIENT, 1, 0), -EINVAL, "to itself");
	cr_assert_eq(ipcc_notify_send(c0, 3, NT_CLIENT, 1, 0), -EINVAL, "CPU 3 of 3");
	cr_assert_eq(ipcc_notify_send(c0, IPCC_CPUS_MAX, NT_CLIENT, 1, 0), -EINVAL);
	cr_assert_eq(ipcc_notify_send(c0, UINT_MAX, NT_CLIENT, 1, 0), -EINVAL);
	cr_assert_eq(ipcc_notify_send(t.cpu[1], 2, NT_CLIENT, 1, 0), -ENOENT, "no link 1-2");
	cr_assert_eq(ipcc_notify_send(c0, 2, NT_CLIENT, 1, 0), -ENOPROTOOPT, "link 0-2");
	cr_assert_eq(ipcc_notify_send(t.cpu[2], 0, NT_CLIENT, 1, 0), -ENOPROTOOPT, "link 2-0");
	/* A blocking send fails the same way, at once. */
	cr_assert_eq(ipcc_notify_send(c0, 1, NT_CLIENT, IPCC_NOTIFY_VALUE_MAX + 1, PT_LONG),
		     -ERANGE);

	struct ipcc_notify_stats st = nt_stats(t.sys, 0, 1);
	cr_assert_eq(st.sent, 0u, "a refused send was counted");
	cr_assert_eq(st.fill, 0u, "a refused send queued a value");
	cr_assert_eq(st.full, 0u);

	/* The limits themselves are fine, and arrive intact. */
	send_ok(c0, 1, IPCC_NOTIFY_CLIENTS - 1, IPCC_NOTIFY_VALUE_MAX);
	send_ok(c0, 1, NT_CLIENT, 0);
	recv_expect(t.cpu[1], IPCC_NOTIFY_CLIENTS - 1, 0, IPCC_NOTIFY_VALUE_MAX, PT_LONG);
	recv_expect(t.cpu[1], NT_CLIENT, 0, 0, PT_LONG);
	trio_stop(&t);
}

Test(notify, recv_errors_each_have_their_own_errno_and_leave_the_outputs_alone)
{
	struct trio t;
	trio_start(&t);
	struct ipcc_cpu *c1 = t.cpu[1];
	uint32_t v = 0xDEADBEEFu;
	unsigned from = 99;

	cr_assert_eq(ipcc_notify_recv(NULL, NT_CLIENT, &v, &from, 0), -EINVAL);
	cr_assert_eq(ipcc_notify_recv(c1, NT_CLIENT, NULL, &from, 0), -EINVAL);
	cr_assert_eq(ipcc_notify_recv(c1, IPCC_NOTIFY_CLIENTS, &v, &from, 0), -ECHRNG);
	cr_assert_eq(ipcc_notify_recv(c1, UINT_MAX, &v, &from, 0), -ECHRNG);
	cr_assert_eq(ipcc_notify_recv(c1, IPCC_NOTIFY_CLIENT_RPMSG, &v, &from, 0), -EACCES);
	cr_assert_eq(ipcc_notify_recv(c1, IPCC_NOTIFY_CLIENT_SYNC, &v, &from, 0), -EACCES);
	cr_assert_eq(ipcc_notify_recv(t.cpu[2], NT_CLIENT, &v, &from, 0), -ENOPROTOOPT);
	cr_assert_eq(ipcc_notify_register(c1, NT_CLIENT, never_called, NULL), 0);
	cr_assert_eq(ipcc_notify_recv(c1, NT_CLIENT, &v, &from, 0), -EBUSY,
		     "client has a callback");
	cr_assert_eq(ipcc_notify_recv(c1, NT_CLIENT, &v, &from, PT_LONG), -EBUSY);
	cr_assert_eq(ipcc_notify_recv(c1, NT_CLIENT + 1, &v, &from, 0), -EAGAIN);

	int64_t t0 = pt_now_ns();
	int r = ipcc_notify_recv(c1, NT_CLIENT + 1, &v, &from, 50 * PT_MS);
	int64_t el = pt_now_ns() - t0;
	cr_assert_eq(r, -ETIMEDOUT, "recv for 50 ms on an empty client: %d (%s)", r, strerror(-r));
	cr_assert_geq(el, 50 * PT_MS, "the 50 ms recv returned after %.1f ms", (double)el / PT_MS);
	cr_assert_lt(el, PT_LONG, "the 50 ms recv returned after %.1f ms", (double)el / PT_MS);
	cr_assert_eq(v, 0xDEADBEEFu, "a failed recv wrote *ret_value");
	cr_assert_eq(from, 99u, "a failed recv wrote *ret_remote");

	/* ret_remote may be NULL. */
	send_ok(t.cpu[0], 1, NT_CLIENT + 1, 5);
	cr_assert_eq(ipcc_notify_recv(c1, NT_CLIENT + 1, &v, NULL, PT_LONG), 0);
	cr_assert_eq(v, 5u);
	trio_stop(&t);
}

Test(notify, stats_errors_each_have_their_own_errno)
{
	struct trio t;
	trio_start(&t);
	struct ipcc_notify_stats st;
	memset(&st, 0xA5, sizeof(st));
	struct ipcc_notify_stats const marker = st;

	cr_assert_eq(ipcc_notify_stats(NULL, 0, 1, &st), -EINVAL);
	cr_assert_eq(ipcc_notify_stats(t.sys, 0, 1, NULL), -EINVAL);
	cr_assert_eq(ipcc_notify_stats(t.sys, 1, 1, &st), -EINVAL);
	cr_assert_eq(ipcc_notify_stats(t.sys, 3, 0, &st), -EINVAL, "CPU 3 of 3");
	cr_assert_eq(ipcc_notify_stats(t.sys, 0, IPCC_CPUS_MAX, &st), -EINVAL);
	cr_assert_eq(ipcc_notify_stats(t.sys, 1, 2, &st), -ENOENT);
	cr_assert_eq(ipcc_notify_stats(t.sys, 0, 2, &st), -ENOPROTOOPT);
	cr_assert_eq(ipcc_notify_stats(t.sys, 2, 0, &st), -ENOPROTOOPT);
	cr_assert_eq(memcmp(&st, &marker, sizeof(st)), 0, "a failed call wrote *ret_stats");
	trio_stop(&t);
}

static int stale_child(void *arg)
{
	struct ipcc_cpu *cpu = arg;
	uint32_t v;
	int r = ipcc_notify_register(cpu, NT_CLIENT + 1, never_called, NULL);
	PEER_CHECK(r == -ESTALE, "register through a fork child's handle: %d", r);
	r = ipcc_notify_unregister(cpu, NT_CLIENT);
	PEER_CHECK(r == -ESTALE, "unregister through a fork child's handle: %d", r);
	r = ipcc_notify_send(cpu, 1, NT_CLIENT, 1, 0);
	PEER_CHECK(r == -ESTALE, "send through a fork child's handle: %d", r);
	r = ipcc_notify_recv(cpu, NT_CLIENT + 2, &v, NULL, 0);
	PEER_CHECK(r == -ESTALE, "recv through a fork child's handle: %d", r);
	return 0;
}

Test(notify, a_fork_childs_handle_is_refused_with_estale)
{
	struct duo d;
	duo_start(&d, 0);
	cr_assert_eq(ipcc_notify_register(d.a, NT_CLIENT, never_called, NULL), 0);
	pt_expect_exit0(pt_fork(stale_child, d.a, 20), PT_LONG, "fork child");
	/* Nothing the child tried reached the parent's CPU or the queue. */
	cr_assert_eq(nt_stats(d.sys, 0, 1).sent, 0u);
	cr_assert_eq(ipcc_notify_register(d.a, NT_CLIENT, never_called, NULL), -EEXIST);
	cr_assert_eq(ipcc_notify_register(d.a, NT_CLIENT + 1, never_called, NULL), 0);
	duo_stop(&d);
}

/* ---- delivery in one process -------------------------------------------------------------- */

static void expect_call(const struct nt_log *log, unsigned i, struct ipcc_cpu *cpu, unsigned remote,
			unsigned client, uint32_t value, const void *arg)
{
	cr_assert_gt(log->n, i, "call %u never came (%u calls)", i, log->n);
	const struct nt_call *c = &log->call[i];
	cr_assert_eq(c->cpu, cpu, "call %u: another CPU's handle", i);
	cr_assert_eq(c->remote, remote, "call %u: remote %u, expected %u", i, c->remote, remote);
	cr_assert_eq(c->client, client, "call %u: client %u, expected %u", i, c->client, client);
	cr_assert_eq(c->value, value, "call %u: value %u, expected %u", i, c->value, value);
	cr_assert_eq(c->arg, arg, "call %u: another arg", i);
}

Test(notify, dispatch_runs_the_callbacks_in_send_order_with_their_arguments)
{
	struct duo d;
	static struct nt_log log; /* both clients log here, each with its own arg */
	static struct nt_log log_a;
	duo_start(&d, 0);

	cr_assert_eq(ipcc_notify_register(d.b, NT_CLIENT, nt_log_fn, &log), 0);
	cr_assert_eq(ipcc_notify_register(d.b, 9, nt_log_fn, &log), 0);
	cr_assert_eq(ipcc_notify_register(d.a, NT_CLIENT, nt_log_fn, &log_a), 0);
	send_ok(d.a, 1, NT_CLIENT, 10);
	send_ok(d.a, 1, 9, 11);
	send_ok(d.a, 1, NT_CLIENT, 12);
	send_ok(d.a, 1, 9, IPCC_NOTIFY_VALUE_MAX);
	send_ok(d.a, 1, NT_CLIENT, 0);
	cr_assert_eq(log.n, 0u, "a callback ran before any dispatch");

	int r = ipcc_cpu_dispatch(d.b);
	cr_assert_gt(r, 0, "dispatch with 5 values queued: %d", r);
	cr_assert_eq(log.n, 5u, "%u calls for 5 values", log.n);
	expect_call(&log, 0, d.b, 0, NT_CLIENT, 10, &log);
	expect_call(&log, 1, d.b, 0, 9, 11, &log);
	expect_call(&log, 2, d.b, 0, NT_CLIENT, 12, &log);
	expect_call(&log, 3, d.b, 0, 9, IPCC_NOTIFY_VALUE_MAX, &log);
	expect_call(&log, 4, d.b, 0, NT_CLIENT, 0, &log);
	cr_assert_eq(ipcc_cpu_dispatch(d.b), 0, "a second dispatch found something");
	cr_assert_eq(log.n, 5u);

	/* The other direction, and a dispatch of the sender runs nothing of the receiver's. */
	send_ok(d.b, 0, NT_CLIENT, 33);
	dispatch(d.b);
	cr_assert_eq(log_a.n, 0u);
	dispatch(d.a);
	cr_assert_eq(log_a.n, 1u);
	expect_call(&log_a, 0, d.a, 1, NT_CLIENT, 33, &log_a);
	cr_assert_eq(log.n, 5u);
	duo_stop(&d);
}

Test(notify, values_without_callback_wait_in_the_mailbox_for_recv_per_pair_in_order)
{
	struct ipcc_system *sys = nt_system(3, 0);
	struct ipcc_cpu *c[3];
	for (unsigned i = 0; i < 3; i++)
		c[i] = pt_attach(sys, i, IPCC_WAIT_FUTEX, 0);

	send_ok(c[0], 1, 3, 100);
	send_ok(c[2], 1, 3, 200);
	send_ok(c[0], 1, 3, 101);
	send_ok(c[2], 1, 3, 201);
	send_ok(c[0], 1, 4, 300);
	dispatch(c[1]);

	/* Per pair in order; pairs interleave as they were drained. */
	uint32_t next[3] = { 100, 0, 200 };
	for (unsigned i = 0; i < 4; i++) {
		uint32_t v = 0;
		unsigned from = 99;
		int r = ipcc_notify_recv(c[1], 3, &v, &from, 0);
		cr_assert_eq(r, 0, "value %u of 4 kept for client 3: %s", i, strerror(-r));
		cr_assert(from == 0 || from == 2, "from CPU %u", from);
		cr_assert_eq(v, next[from], "from CPU %u: %u, expected %u", from, v, next[from]);
		next[from]++;
	}
	expect_empty(c[1], 3);
	recv_expect(c[1], 4, 0, 300, 0);
	expect_empty(c[1], 4);
	for (unsigned i = 0; i < 3; i++)
		ipcc_cpu_detach(c[i]);
	ipcc_system_close(sys);
}

Test(notify, a_blocked_recv_drains_the_queue_itself_and_runs_other_clients_callbacks)
{
	struct duo d;
	static struct nt_log log;
	duo_start(&d, 0);
	cr_assert_eq(ipcc_notify_register(d.b, NT_CLIENT, nt_log_fn, &log), 0);
	send_ok(d.a, 1, NT_CLIENT, 1);
	send_ok(d.a, 1, NT_CLIENT + 1, 2);
	send_ok(d.a, 1, NT_CLIENT, 3);
	/* Nobody dispatches CPU 1: the recv is its only drainer. */
	recv_expect(d.b, NT_CLIENT + 1, 0, 2, PT_LONG);
	expect_call(&log, 0, d.b, 0, NT_CLIENT, 1, &log);
	dispatch(d.b);
	cr_assert_eq(log.n, 2u, "%u calls for 2 values", log.n);
	expect_call(&log, 1, d.b, 0, NT_CLIENT, 3, &log);
	duo_stop(&d);
}

Test(notify, a_full_mailbox_drops_the_newest_values_and_counts_them)
{
	enum { EXTRA = 8, TOTAL = IPCC_NOTIFY_MAILBOX + EXTRA };
	struct duo d;
	duo_start(&d, 0);
	uint32_t depth = ipcc_notify_depth(d.sys);

	for (uint32_t i = 0; i < TOTAL; i++) {
		send_ok(d.a, 1, NT_CLIENT, 1000 + i);
		if (i % depth == depth - 1 || i == TOTAL - 1)
			dispatch(d.b);
	}
	struct ipcc_notify_stats st = nt_stats(d.sys, 0, 1);
	cr_assert_eq(st.sent, (uint64_t)TOTAL);
	cr_assert_eq(st.received, (uint64_t)TOTAL, "received %llu of %u",
		     (unsigned long long)st.received, TOTAL);
	cr_assert_eq(st.dropped, (uint64_t)EXTRA, "dropped %llu, expected %u",
		     (unsigned long long)st.dropped, EXTRA);
	cr_assert_eq(st.fill, 0u);
	for (uint32_t i = 0; i < IPCC_NOTIFY_MAILBOX; i++)
		recv_expect(d.b, NT_CLIENT, 0, 1000 + i, 0);
	expect_empty(d.b, NT_CLIENT);

	/* Room again: the next value is kept. */
	send_ok(d.a, 1, NT_CLIENT, 5);
	dispatch(d.b);
	recv_expect(d.b, NT_CLIENT, 0, 5, 0);
	cr_assert_eq(nt_stats(d.sys, 0, 1).dropped, (uint64_t)EXTRA);
	duo_stop(&d);
}

Test(notify, a_receiving_clients_full_mailbox_holds_the_pair_back_and_loses_nothing)
{
	enum { TOTAL = IPCC_NOTIFY_MAILBOX + 40 };
	struct duo d;
	duo_start(&d, 0);
	uint32_t depth = ipcc_notify_depth(d.sys);
	expect_empty(d.b, NT_CLIENT); /* a receive makes the client a receiving one */

	uint32_t sent = 0;
	while (sent < TOTAL) {
		int r = ipcc_notify_send(d.a, 1, NT_CLIENT, 1000 + sent, 0);
		if (r == -EAGAIN) {
			/* The queue is full: the mailbox (256) is, too, once enough went in. */
			dispatch(d.b);
			if (ipcc_notify_send(d.a, 1, NT_CLIENT, 1000 + sent, 0) == -EAGAIN)
				break;
			sent++;
			continue;
		}
		cr_assert_eq(r, 0, "send %u: %s", sent, strerror(-r));
		sent++;
	}
	cr_assert_eq(sent, IPCC_NOTIFY_MAILBOX + depth,
		     "%u values went in before the sender was held back (mailbox %u, queue %u)",
		     sent, IPCC_NOTIFY_MAILBOX, depth);
	struct ipcc_notify_stats st = nt_stats(d.sys, 0, 1);
	cr_assert_eq(st.dropped, 0u, "%llu dropped", (unsigned long long)st.dropped);
	cr_assert_eq(st.fill, depth, "the queue holds %u, expected full (%u)", st.fill, depth);
	/* Receiving makes room; the held values follow in order, then the rest of the stream. */
	for (uint32_t i = 0; i < TOTAL; i++) {
		if (i == sent) {
			for (; sent < TOTAL; sent++)
				if (ipcc_notify_send(d.a, 1, NT_CLIENT, 1000 + sent, 0) < 0)
					break;
		}
		recv_expect(d.b, NT_CLIENT, 0, 1000 + i, PT_LONG);
	}
	expect_empty(d.b, NT_CLIENT);
	st = nt_stats(d.sys, 0, 1);
	cr_assert_eq(st.dropped, 0u);
	cr_assert_eq(st.received, (uint64_t)TOTAL);
	duo_stop(&d);
}

Test(notify, a_full_queue_gives_eagain_or_etimedout_counts_each_call_and_has_room_after_a_drain)
{
	struct duo d;
	static struct nt_log log;
	duo_start(&d, 0);
	cr_assert_eq(ipcc_notify_register(d.b, NT_CLIENT, nt_log_fn, &log), 0);
	uint32_t depth = ipcc_notify_depth(d.sys);
	cr_assert_eq(depth, IPCC_NOTIFY_DEPTH_DEFAULT);

	for (uint32_t i = 0; i < depth; i++)
		send_ok(d.a, 1, NT_CLIENT, i);
	struct ipcc_notify_stats st = nt_stats(d.sys, 0, 1);
	cr_assert_eq(st.fill, depth);
	cr_assert_eq(st.full, 0u);

	cr_assert_eq(ipcc_notify_send(d.a, 1, NT_CLIENT, 99, 0), -EAGAIN);
	cr_assert_eq(nt_stats(d.sys, 0, 1).full, 1u);
	cr_assert_eq(ipcc_notify_send(d.a, 1, NT_CLIENT, 99, 0), -EAGAIN);
	cr_assert_eq(nt_stats(d.sys, 0, 1).full, 2u, "each call counts once");

	/* Nobody drains CPU 1 meanwhile: the wait for room times out. */
	int64_t t0 = pt_now_ns();
	int r = ipcc_notify_send(d.a, 1, NT_CLIENT, 99, 30 * PT_MS);
	int64_t el = pt_now_ns() - t0;
	cr_assert_eq(r, -ETIMEDOUT, "send for 30 ms to a full queue: %d (%s)", r, strerror(-r));
	cr_assert_geq(el, 30 * PT_MS, "returned after %.1f ms", (double)el / PT_MS);
	cr_assert_lt(el, PT_LONG, "returned after %.1f ms", (double)el / PT_MS);
	st = nt_stats(d.sys, 0, 1);
	cr_assert_eq(st.full, 3u, "a send that waited counts once too");
	cr_assert_eq(st.sent, (uint64_t)depth, "a refused send was counted as sent");
	cr_assert_eq(st.fill, depth);
	cr_assert_eq(log.n, 0u);

	dispatch(d.b);
	cr_assert_eq(log.n, depth, "%u calls for a full queue of %u", log.n, depth);
	for (uint32_t i = 0; i < depth; i++)
		expect_call(&log, i, d.b, 0, NT_CLIENT, i, &log);
	st = nt_stats(d.sys, 0, 1);
	cr_assert_eq(st.fill, 0u);
	cr_assert_eq(st.received, (uint64_t)depth);
	send_ok(d.a, 1, NT_CLIENT, depth);
	dispatch(d.b);
	expect_call(&log, depth, d.b, 0, NT_CLIENT, depth, &log);
	duo_stop(&d);
}

Test(notify, stats_count_sent_received_and_the_fill_per_ordered_pair)
{
	struct duo d;
	static struct nt_log log;
	duo_start(&d, 64);
	cr_assert_eq(ipcc_notify_register(d.b, NT_CLIENT, nt_log_fn, &log), 0);

	for (uint32_t i = 0; i < 5; i++)
		send_ok(d.a, 1, NT_CLIENT, i);
	struct ipcc_notify_stats st = nt_stats(d.sys, 0, 1);
	cr_assert_eq(st.sent, 5u);
	cr_assert_eq(st.received, 0u);
	cr_assert_eq(st.fill, 5u);
	cr_assert_eq(st.depth, 64u);
	cr_assert_eq(st.full, 0u);
	cr_assert_eq(st.dropped, 0u);
	struct ipcc_notify_stats back = nt_stats(d.sys, 1, 0);
	cr_assert_eq(back.sent + back.received + back.full + back.dropped + back.fill, 0u,
		     "the other direction moved");
	cr_assert_eq(back.depth, 64u);

	dispatch(d.b);
	st = nt_stats(d.sys, 0, 1);
	cr_assert_eq(st.sent, 5u);
	cr_assert_eq(st.received, 5u);
	cr_assert_eq(st.fill, 0u);
	for (uint32_t i = 0; i < 3; i++)
		send_ok(d.a, 1, NT_CLIENT, i);
	st = nt_stats(d.sys, 0, 1);
	cr_assert_eq(st.sent, 8u);
	cr_assert_eq(st.fill, 3u);
	duo_stop(&d);
}

Test(notify, values_kept_in_the_mailbox_go_to_a_callback_registered_later_first)
{
	struct duo d;
	static struct nt_log log;
	duo_start(&d, 0);
	for (uint32_t i = 0; i < 3; i++)
		send_ok(d.a, 1, 4, i);
	dispatch(d.b); /* into client 4's mailbox */
	cr_assert_eq(ipcc_notify_register(d.b, 4, nt_log_fn, &log), 0);
	uint32_t v;
	cr_assert_eq(ipcc_notify_recv(d.b, 4, &v, NULL, 0), -EBUSY);
	send_ok(d.a, 1, 4, 3);
	dispatch(d.b);
	cr_assert_eq(log.n, 4u, "%u calls for 3 kept values and 1 new", log.n);
	for (uint32_t i = 0; i < 4; i++)
		expect_call(&log, i, d.b, 0, 4, i, &log);
	duo_stop(&d);
}

struct self_unreg {
	unsigned calls;
	int rc;
};

static void unregister_self(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
			    void *arg)
{
	struct self_unreg *s = arg;
	(void)remote, (void)value;
	if (s->calls++ == 0)
		s->rc = ipcc_notify_unregister(cpu, client);
}

Test(notify, a_callback_may_unregister_itself_and_later_values_go_to_the_mailbox)
{
	struct duo d;
	static struct self_unreg s = { 0, 1 };
	duo_start(&d, 0);
	cr_assert_eq(ipcc_notify_register(d.b, NT_CLIENT, unregister_self, &s), 0);
	send_ok(d.a, 1, NT_CLIENT, 1);
	send_ok(d.a, 1, NT_CLIENT, 2);
	send_ok(d.a, 1, NT_CLIENT, 3);
	dispatch(d.b);
	cr_assert_eq(s.rc, 0, "unregister from the callback: %d (%s)", s.rc, strerror(-s.rc));
	cr_assert_eq(s.calls, 1u, "the callback ran %u times after unregistering itself", s.calls);
	recv_expect(d.b, NT_CLIENT, 0, 2, 0);
	recv_expect(d.b, NT_CLIENT, 0, 3, 0);
	expect_empty(d.b, NT_CLIENT);
	cr_assert_eq(ipcc_notify_unregister(d.b, NT_CLIENT), -ENOENT);
	cr_assert_eq(ipcc_notify_register(d.b, NT_CLIENT, unregister_self, &s), 0);
	duo_stop(&d);
}

struct from_cb {
	struct nt_log *log; /* for the client registered from the callback */
	int reg_rc, send_rc;
};

static void register_and_answer(struct ipcc_cpu *cpu, unsigned remote, unsigned client,
				uint32_t value, void *arg)
{
	struct from_cb *f = arg;
	(void)client;
	if (value == 1)
		f->reg_rc = ipcc_notify_register(cpu, NT_CLIENT + 1, nt_log_fn, f->log);
	/* As an ISR would: never block. */
	f->send_rc = ipcc_notify_send(cpu, remote, NT_CLIENT, value + 100, 0);
}

Test(notify, a_callback_may_register_a_client_and_send_with_timeout_0)
{
	struct duo d;
	static struct nt_log log_b, log_a;
	static struct from_cb f = { &log_b, 1, 1 };
	duo_start(&d, 0);
	cr_assert_eq(ipcc_notify_register(d.b, NT_CLIENT, register_and_answer, &f), 0);
	cr_assert_eq(ipcc_notify_register(d.a, NT_CLIENT, nt_log_fn, &log_a), 0);
	send_ok(d.a, 1, NT_CLIENT, 1);
	send_ok(d.a, 1, NT_CLIENT + 1, 2); /* queued before its client was registered */
	dispatch(d.b);
	cr_assert_eq(f.reg_rc, 0, "register from a callback: %s", strerror(-f.reg_rc));
	cr_assert_eq(f.send_rc, 0, "send from a callback: %s", strerror(-f.send_rc));
	cr_assert_eq(log_b.n, 1u, "the client registered in the callback got %u calls", log_b.n);
	expect_call(&log_b, 0, d.b, 0, NT_CLIENT + 1, 2, &log_b);
	dispatch(d.a);
	cr_assert_eq(log_a.n, 1u);
	expect_call(&log_a, 0, d.a, 1, NT_CLIENT, 101, &log_a);
	duo_stop(&d);
}

Test(notify, values_sent_to_a_cpu_not_attached_wait_in_the_queue_for_its_next_attach)
{
	static struct nt_log log;
	struct ipcc_system *sys = nt_system(2, 0);
	struct ipcc_cpu *a = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);

	/* CPU 1 never attached yet, then attached and detached: a send does not wait for it. */
	for (unsigned round = 0; round < 2; round++) {
		send_ok(a, 1, NT_CLIENT, 10 * round + 1);
		send_ok(a, 1, NT_CLIENT, 10 * round + 2);
		cr_assert_eq(nt_stats(sys, 0, 1).fill, 2u);
		struct ipcc_cpu *b = pt_attach(sys, 1, IPCC_WAIT_FUTEX, 0);
		cr_assert_eq(ipcc_notify_register(b, NT_CLIENT, nt_log_fn, &log), 0);
		dispatch(b);
		cr_assert_eq(log.n, 2 * round + 2, "round %u: %u calls", round, log.n);
		expect_call(&log, 2 * round, b, 0, NT_CLIENT, 10 * round + 1, &log);
		expect_call(&log, 2 * round + 1, b, 0, NT_CLIENT, 10 * round + 2, &log);
		cr_assert_eq(nt_stats(sys, 0, 1).fill, 0u);
		ipcc_cpu_detach(b);
	}
	ipcc_cpu_detach(a);
	ipcc_system_close(sys);
}

/* ---- the interrupt thread ------------------------------------------------------------------ */

struct irq_rx {
	struct nt_seq seq;
	_Atomic pthread_t thread; /* the last thread a callback ran in */
};

static void irq_rx_fn(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
		      void *arg)
{
	struct irq_rx *rx = arg;
	(void)cpu;
	if (remote != 0 || client != NT_CLIENT)
		nt_seq_error(&rx->seq.client, 1);
	/* Read by the test after nt_seq_next's acquire, which pairs with nt_seq_take's release. */
	atomic_store_explicit(&rx->thread, pthread_self(), memory_order_relaxed);
	nt_seq_take(&rx->seq, value);
}

Test(notify, the_interrupt_thread_runs_the_callbacks_and_a_blocked_sender_resumes)
{
	enum { COUNT = 2000 };
	static struct irq_rx rx;
	struct ipcc_system *sys = nt_system(2, 0);
	struct ipcc_cpu *a = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	struct ipcc_cpu *b = pt_attach(sys, 1, IPCC_WAIT_FUTEX, IPCC_CPU_IRQ_THREAD);
	cr_assert_eq(ipcc_notify_register(b, NT_CLIENT, irq_rx_fn, &rx), 0);

	/* 125 queues' worth: the sender waits for room again and again. */
	for (uint64_t i = 0; i < COUNT; i++) {
		int r = ipcc_notify_send(a, 1, NT_CLIENT, nt_value(i), PT_LONG);
		cr_assert_eq(r, 0, "send %llu: %s", (unsigned long long)i, strerror(-r));
	}
	for (int64_t end = pt_now_ns() + PT_LONG; nt_seq_next(&rx.seq) < COUNT;) {
		cr_assert_lt(pt_now_ns(), end, "only %llu of %u values arrived",
			     (unsigned long long)nt_seq_next(&rx.seq), COUNT);
		pt_sleep_ms(1);
	}
	cr_assert(nt_seq_ok(&rx.seq), NT_SEQ_FMT, NT_SEQ_ARGS(&rx.seq));
	cr_assert_eq(nt_seq_next(&rx.seq), (uint64_t)COUNT);
	cr_assert(!pthread_equal(atomic_load_explicit(&rx.thread, memory_order_relaxed),
				 pthread_self()),
		  "the callbacks ran in the test's thread, not the interrupt thread");
	struct ipcc_notify_stats st = nt_stats(sys, 0, 1);
	cr_assert_eq(st.sent, (uint64_t)COUNT);
	cr_assert_eq(st.received, (uint64_t)COUNT);
	ipcc_cpu_detach(b);
	ipcc_cpu_detach(a);
	ipcc_system_close(sys);
}

struct slow_rx {
	_Atomic unsigned calls;
	_Atomic bool inside;
	_Atomic uint32_t last; /* the value of the last call */
};

static void slow_fn(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
		    void *arg)
{
	struct slow_rx *s = arg;
	(void)cpu, (void)remote, (void)client;
	/* seq_cst: the test reads inside right after its unregister returned. */
	atomic_store(&s->inside, true);
	atomic_store(&s->last, value);
	/* The first call lasts long enough for the test to see it running. */
	int64_t cost = atomic_fetch_add(&s->calls, 1) ? 200 * 1000 : 50 * PT_MS;
	for (int64_t end = pt_now_ns() + cost; pt_now_ns() < end;)
		;
	atomic_store(&s->inside, false);
}

Test(notify, unregister_beside_the_interrupt_thread_returns_when_the_callback_is_done_for_good)
{
	static struct slow_rx s;
	struct ipcc_system *sys = nt_system(2, 0);
	struct ipcc_cpu *a = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	struct ipcc_cpu *b = pt_attach(sys, 1, IPCC_WAIT_FUTEX, IPCC_CPU_IRQ_THREAD);
	uint32_t depth = ipcc_notify_depth(sys);
	cr_assert_eq(ipcc_notify_register(b, NT_CLIENT, slow_fn, &s), 0);

	for (uint32_t i = 0; i < depth; i++)
		send_ok(a, 1, NT_CLIENT, i);
	for (int64_t end = pt_now_ns() + PT_LONG;;) {
		/* calls first: the callback sets inside before it counts itself. */
		unsigned c = atomic_load(&s.calls);
		if (atomic_load(&s.inside))
			break;
		cr_assert_eq(c, 0u,
			     "the first callback (50 ms) was over before this thread saw it run");
		cr_assert_lt(pt_now_ns(), end, "the interrupt thread ran no callback");
		sched_yield();
	}
	cr_assert_eq(ipcc_notify_unregister(b, NT_CLIENT), 0);
	cr_assert(!atomic_load(&s.inside), "the callback still ran after unregister returned");
	unsigned calls = atomic_load(&s.calls);

	/* What it did not take, and what comes later, goes to the mailbox, in order. */
	for (uint32_t i = depth; i < depth + 5; i++)
		cr_assert_eq(ipcc_notify_send(a, 1, NT_CLIENT, i, PT_LONG), 0);
	for (uint32_t i = calls; i < depth + 5; i++)
		recv_expect(b, NT_CLIENT, 0, i, PT_LONG);
	cr_assert_eq(atomic_load(&s.calls), calls, "the callback ran after unregister returned");
	cr_assert_eq(atomic_load(&s.last), calls - 1);
	ipcc_cpu_detach(b);
	ipcc_cpu_detach(a);
	ipcc_system_close(sys);
}
