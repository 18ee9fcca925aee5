/* SPDX-License-Identifier: MIT */
/*
 * Four processes in a full mesh: a 4-CPU system, each process one CPU, traffic on all 12
 * directed links at once, every message checked by sequence number and content.
 *
 * A CPU linked to three peers cannot block on one of them, so each process runs like firmware:
 * ipcc_recv_async for the three incoming channels and ipcc_send_async for the three outgoing
 * ones, in one thread that sleeps in ipcc_cpu_wait (all of its links at once) and runs
 * ipcc_cpu_dispatch. CPU i sends to every peer on channel i, so the six channels of a link are
 * not all the same index and each link carries two directions on different channels.
 */
#include "proc-test.h"

#define CPUS		 4u
#define BUFFER		 256u
#define STREAM(from, to) (((uint32_t)(from) << 8) | (to))

static void teardown(void)
{
	pt_cleanup();
}

TestSuite(mesh, .fini = teardown, .timeout = 100);

struct mesh_shared {
	_Atomic unsigned registered, done;
	struct pt_tally rx[CPUS][CPUS]; /* [receiver][sender] */
	uint64_t sent[CPUS][CPUS];	/* [sender][receiver] */
};

struct mesh_arg {
	const char *name;
	enum ipcc_wait_mode mode;
	unsigned id;
	uint64_t count;
	struct mesh_shared *sh;
};

struct mesh_tx {
	unsigned to;
	uint64_t next, count;
	int error;
};

static void on_msg(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data, size_t len,
		   void *arg)
{
	pt_msg_take(arg, data, len, STREAM(peer, ipcc_cpu_id(cpu)), BUFFER);
}

static void on_free(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *arg)
{
	struct mesh_tx *tx = arg;
	uint8_t buf[BUFFER];
	uint32_t s = STREAM(ipcc_cpu_id(cpu), peer);
	size_t len = pt_msg_len(s, tx->next, BUFFER);

	pt_msg_fill(buf, s, tx->next, len);
	int r = ipcc_send(cpu, peer, ch, buf, len, 0); /* free when notified: never waits */
	if (r == 0 && ++tx->next < tx->count)
		r = ipcc_send_async(cpu, peer, ch, on_free, tx);
	if (r < 0 && !tx->error)
		tx->error = r;
}

/* Wait until `counter` reaches CPUS, without the library: the peers may be gone by then. */
static bool barrier(_Atomic unsigned *counter)
{
	atomic_fetch_add(counter, 1);
	for (int64_t end = pt_now_ns() + 30 * PT_SEC; pt_now_ns() < end;) {
		if (atomic_load(counter) == CPUS)
			return true;
		pt_sleep_ms(1);
	}
	return false;
}

static int peer_mesh(void *p)
{
	struct mesh_arg *a = p;
	struct mesh_shared *sh = a->sh;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach(a->name, a->id, a->mode, 0, &sys);
	struct mesh_tx tx[CPUS];
	unsigned me = a->id;

	for (unsigned j = 0; j < CPUS; j++) {
		if (j == me)
			continue;
		int r = ipcc_recv_async(cpu, j, j, on_msg, &sh->rx[me][j]);
		PEER_CHECK(r == 0, "recv_async from %u: %s", j, strerror(-r));
	}
	/* Send only when everybody listens: a CPU's attach resets its banks. */
	PEER_CHECK(barrier(&sh->registered), "the other CPUs never attached");
	for (unsigned j = 0; j < CPUS; j++) {
		if (j == me)
			continue;
		tx[j] = (struct mesh_tx){ .to = j, .count = a->count };
		int r = ipcc_send_async(cpu, j, me, on_free, &tx[j]);
		PEER_CHECK(r == 0, "send_async to %u: %s", j, strerror(-r));
	}
	for (;;) {
		bool done = true;
		for (unsigned j = 0; j < CPUS; j++) {
			if (j == me)
				continue;
			struct pt_tally *t = &sh->rx[me][j];
			PEER_CHECK(pt_tally_ok(t), "CPU %u from %u: " PT_TALLY_FMT, me, j,
				   PT_TALLY_ARGS(t));
			PEER_CHECK(!tx[j].error, "CPU %u to %u: %s", me, j, strerror(-tx[j].error));
			sh->sent[me][j] = tx[j].next;
			done &= t->expect == a->count && tx[j].next == a->count;
		}
		if (done)
			break;
		int r = ipcc_cpu_wait(cpu, PT_LONG);
		PEER_CHECK(r == 0, "CPU %u: ipcc_cpu_wait: %s", me, strerror(-r));
		r = ipcc_cpu_dispatch(cpu);
		PEER_CHECK(r >= 0, "CPU %u: dispatch: %s", me, strerror(-r));
	}
	/* Detach only when all are done: a detach ends the others' waits with -EPIPE. */
	PEER_CHECK(barrier(&sh->done), "the other CPUs never finished");
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

static void mesh(enum ipcc_wait_mode mode, uint64_t count)
{
	struct ipcc_system *sys = pt_create(CPUS, CPUS, BUFFER);
	struct mesh_shared *sh = pt_shared(sizeof(*sh));
	struct mesh_arg a[CPUS];
	pid_t pid[CPUS];
	int64_t t0 = pt_now_ns();

	count = pt_count(mode, count);
	cr_assert_eq(ipcc_system_link_count(sys), 6);
	for (unsigned i = 0; i < CPUS; i++) {
		a[i] = (struct mesh_arg){ .name = ipcc_system_name(sys),
					  .mode = mode,
					  .id = i,
					  .count = count,
					  .sh = sh };
		pid[i] = pt_fork(peer_mesh, &a[i], 90);
	}
	for (unsigned i = 0; i < CPUS; i++) {
		char what[32];
		snprintf(what, sizeof(what), "CPU %u", i);
		pt_expect_exit0(pid[i], 80 * PT_SEC, what);
	}
	double s = (double)(pt_now_ns() - t0) / PT_SEC;
	fprintf(stderr, "mesh: %s, 12 links x %llu messages in %.2f s\n", pt_mode_name(mode),
		(unsigned long long)count, s);
	for (unsigned i = 0; i < CPUS; i++)
		for (unsigned j = 0; j < CPUS; j++) {
			if (i == j)
				continue;
			cr_assert(pt_tally_ok(&sh->rx[i][j]), "%u from %u: " PT_TALLY_FMT, i, j,
				  PT_TALLY_ARGS(&sh->rx[i][j]));
			cr_assert_eq(sh->rx[i][j].received, count, "%u from %u", i, j);
			cr_assert_eq(sh->sent[j][i], count, "%u to %u", j, i);
		}
	munmap(sh, sizeof(*sh));
	ipcc_system_close(sys);
}

Test(mesh, full_mesh_futex)
{
	mesh(IPCC_WAIT_FUTEX, 50000);
}

Test(mesh, full_mesh_adaptive)
{
	mesh(IPCC_WAIT_ADAPTIVE, 50000);
}

/* Four spinning processes on two cores progress only as the scheduler preempts them (and on
 * one usable core pt_count shrinks the run further). */
Test(mesh, full_mesh_spin)
{
	mesh(IPCC_WAIT_SPIN, 2000);
}
