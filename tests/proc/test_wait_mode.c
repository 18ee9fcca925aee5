/* SPDX-License-Identifier: MIT */
/*
 * Wait modes and the contract of ipcc_cpu_set_wait_mode (include/ipcc/irq.h): any thread may
 * switch a CPU's mode while others wait, dispatch or poll its fd; switches are serialised; the
 * eventfd stays the same until detach; a refused switch changes nothing. The CPUs are threads of
 * the test process (each attached by its own thread), so leaked threads and fds are countable.
 */
#include <dirent.h>
#include <pthread.h>
#include <sys/resource.h>

#include "proc-test.h"

static void teardown(void)
{
	pt_cleanup();
}

TestSuite(wait_mode, .fini = teardown, .timeout = 60);

static unsigned count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	unsigned n = 0;
	cr_assert_not_null(d, "opendir(%s)", dir);
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

Test(wait_mode, names_come_with_every_mode_and_none_beyond)
{
	const char *want[] = { "adaptive", "spin", "futex", "eventfd" };
	for (unsigned m = 0; m < IPCC_WAIT_MODE_COUNT; m++)
		cr_assert_str_eq(ipcc_wait_mode_name((enum ipcc_wait_mode)m), want[m]);
	cr_assert_null(ipcc_wait_mode_name(IPCC_WAIT_MODE_COUNT));
}

Test(wait_mode, bad_arguments_fail_with_einval_and_change_nothing)
{
	struct ipcc_system *sys = pt_create(2, 2, 64);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, IPCC_WAIT_SPIN, 0);

	cr_assert_eq(ipcc_cpu_set_wait_mode(NULL, IPCC_WAIT_FUTEX, 0), -EINVAL);
	cr_assert_eq(ipcc_cpu_set_wait_mode(cpu, IPCC_WAIT_MODE_COUNT, 0), -EINVAL);
	cr_assert_eq(ipcc_cpu_set_wait_mode(cpu, IPCC_WAIT_EVENTFD, 1000000001u), -EINVAL);
	cr_assert_eq(ipcc_cpu_wait_mode(cpu), IPCC_WAIT_SPIN);
	cr_assert_eq(ipcc_cpu_fd(cpu), -ENODEV);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

Test(wait_mode, a_refused_switch_to_eventfd_leaves_the_mode_unchanged)
{
	struct ipcc_system *sys = pt_create(2, 2, 64);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	struct rlimit old, low;

	/* The lowest free descriptor becomes the limit: the eventfd cannot be created. */
	int lowest = dup(0);
	cr_assert_geq(lowest, 0);
	close(lowest);
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = (struct rlimit){ .rlim_cur = (rlim_t)lowest, .rlim_max = old.rlim_max };
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	int r = ipcc_cpu_set_wait_mode(cpu, IPCC_WAIT_EVENTFD, 0);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);

	cr_assert_eq(r, -EMFILE, "got %d", r);
	cr_assert_eq(ipcc_cpu_wait_mode(cpu), IPCC_WAIT_FUTEX, "the mode is unchanged");
	cr_assert_eq(ipcc_cpu_fd(cpu), -ENODEV);
	cr_assert_eq(ipcc_cpu_set_wait_mode(cpu, IPCC_WAIT_EVENTFD, 0), 0, "works once possible");
	cr_assert_geq(ipcc_cpu_fd(cpu), 0);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

struct switcher {
	struct ipcc_cpu *cpu;
	unsigned seed;
	_Atomic bool *stop;
	unsigned rounds; /* 0: until *stop */
};

static void *switch_main(void *p)
{
	struct switcher *s = p;
	uint64_t x = s->seed;
	for (unsigned i = 0; s->rounds ? i < s->rounds : !atomic_load(s->stop); i++) {
		x = pt_mix(x);
		int r = ipcc_cpu_set_wait_mode(s->cpu,
					       (enum ipcc_wait_mode)(x % IPCC_WAIT_MODE_COUNT),
					       (uint32_t)(x >> 40) % 20000);
		if (r < 0)
			return (void *)(intptr_t)r;
		if (!s->rounds) {
			/* Beside traffic: switch often, but leave the cores to the CPUs. */
			struct timespec ts = { 0, 50000 };
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

Test(wait_mode, concurrent_switches_keep_one_eventfd_and_leave_nothing_behind_at_detach)
{
	unsigned threads0 = count_entries("/proc/self/task");
	unsigned fds0 = count_entries("/proc/self/fd");
	struct ipcc_system *sys = pt_create(2, 2, 64);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	struct switcher s[4];
	pthread_t th[4];

	for (unsigned i = 0; i < 4; i++) {
		s[i] = (struct switcher){ .cpu = cpu, .seed = i + 1, .rounds = 300 };
		cr_assert_eq(pthread_create(&th[i], NULL, switch_main, &s[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		void *ret;
		pthread_join(th[i], &ret);
		cr_assert_null(ret, "a switch failed: %d", (int)(intptr_t)ret);
	}
	cr_assert_eq(ipcc_cpu_set_wait_mode(cpu, IPCC_WAIT_EVENTFD, 0), 0);
	int fd = ipcc_cpu_fd(cpu);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ipcc_cpu_set_wait_mode(cpu, IPCC_WAIT_ADAPTIVE, 1000), 0);
	cr_assert_eq(ipcc_cpu_fd(cpu), -ENODEV, "not in eventfd mode");
	cr_assert_eq(ipcc_cpu_set_wait_mode(cpu, IPCC_WAIT_EVENTFD, 0), 0);
	cr_assert_eq(ipcc_cpu_fd(cpu), fd, "the same fd until detach");

	/* The fd still works: a wake-up from another CPU makes it readable. */
	struct ipcc_cpu *peer = pt_attach(sys, 1, IPCC_WAIT_FUTEX, 0);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	cr_assert_eq(ipcc_cpu_dispatch(cpu), 0);
	cr_assert_eq(ipcc_chan_irq_enable(cpu, 1, IPCC_DIR_RX, true), 0);
	cr_assert_eq(ipcc_chan_unmask(cpu, 1, 0, IPCC_DIR_RX), 0);
	cr_assert_eq(ipcc_chan_set(peer, 0, 0), 0, "a message from CPU 1");
	cr_assert_eq(poll(&pfd, 1, (int)(PT_LONG / PT_MS)), 1, "the eventfd was signalled");

	ipcc_cpu_detach(peer);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	cr_assert_eq(count_entries("/proc/self/task"), threads0, "a thread outlived its CPU");
	cr_assert_eq(count_entries("/proc/self/fd"), fds0, "a descriptor outlived its system");
}

/* ---- switches beside the interrupt thread --------------------------------------------------- */

#define MSGS 3000u

struct traffic {
	struct ipcc_system *sys;
	_Atomic unsigned received;
	_Atomic bool receiver_ready;
	int send_error;
};

static void on_msg(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data, size_t len,
		   void *arg)
{
	struct traffic *t = arg;
	atomic_fetch_add(&t->received, 1);
}

static void *sender_main(void *p)
{
	struct traffic *t = p;
	struct ipcc_cpu *cpu = NULL;
	struct ipcc_cpu_options o = pt_options(IPCC_WAIT_FUTEX, 0);
	int r = ipcc_cpu_attach(t->sys, 1, &o, &cpu);
	if (r < 0) {
		t->send_error = r;
		return NULL;
	}
	while (!atomic_load(&t->receiver_ready))
		pt_sleep_ms(1);
	for (unsigned i = 0; i < MSGS && r == 0; i++)
		r = ipcc_send(cpu, 0, 0, &i, sizeof(i), PT_LONG);
	t->send_error = r;
	ipcc_cpu_detach(cpu);
	return NULL;
}

Test(wait_mode, switching_while_the_interrupt_thread_dispatches_loses_no_message)
{
	struct traffic t = { .sys = pt_create(2, 2, 64) };
	struct ipcc_cpu *cpu = pt_attach(t.sys, 0, IPCC_WAIT_EVENTFD, IPCC_CPU_IRQ_THREAD);
	_Atomic bool stop = false;
	struct switcher s[2];
	pthread_t sender, th[2];

	cr_assert_eq(ipcc_recv_async(cpu, 1, 0, on_msg, &t), 0);
	cr_assert_eq(pthread_create(&sender, NULL, sender_main, &t), 0);
	for (unsigned i = 0; i < 2; i++) {
		s[i] = (struct switcher){ .cpu = cpu, .seed = 7 + i, .stop = &stop };
		cr_assert_eq(pthread_create(&th[i], NULL, switch_main, &s[i]), 0);
	}
	atomic_store(&t.receiver_ready, true);
	pthread_join(sender, NULL);
	atomic_store(&stop, true);
	for (unsigned i = 0; i < 2; i++) {
		void *ret;
		pthread_join(th[i], &ret);
		cr_assert_null(ret, "a switch failed: %d", (int)(intptr_t)ret);
	}
	cr_assert_eq(t.send_error, 0, "send: %s", strerror(-t.send_error));
	/* Every send returned: each message was taken by the handler before the next went. */
	int64_t end = pt_now_ns() + PT_LONG;
	while (atomic_load(&t.received) < MSGS && pt_now_ns() < end)
		pt_sleep_ms(1);
	cr_assert_eq(atomic_load(&t.received), MSGS);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(t.sys);
}
