/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the sync, event-loop and thread tests of Notify (test_notify_sync.c,
 * test_notify_event.c, test_notify_tsan.c). They build on tests/proc/proc-test.h (names, forked
 * peers with watchdogs, pipes, shared memory) and add what Notify needs: a system created with a
 * Notify config, and a scripted peer that runs the sync calls on command.
 *
 * A forked peer checks with PEER_CHECK and reports through its exit status, as in tests/proc.
 * Header-only, so that each test file stays one executable.
 */
#ifndef IPCC_NOTIFY_SYNC_TEST_H
#define IPCC_NOTIFY_SYNC_TEST_H

#include "proc-test.h"

/* The bound of the waits that are meant to time out: long enough to be a real wait. */
#define NS_SHORT (300 * PT_MS)

/* Which pairs get Notify: bit b of pairs[a] (a < b) as in struct ipcc_notify_config. */
struct ns_shape {
	unsigned cpus;
	uint64_t unlinked[IPCC_CPUS_MAX];  /* bit b of [a]: no link a-b */
	uint64_t no_notify[IPCC_CPUS_MAX]; /* bit b of [a]: a link a-b without Notify */
	uint32_t depth;			   /* 0: the default */
};

/* A system of shape `s`, every link with Notify unless the shape says otherwise. */
static inline struct ipcc_system *ns_create(const struct ns_shape *s)
{
	struct ipcc_config cfg;
	struct ipcc_notify_config ncfg;
	struct ipcc_system *sys = NULL;
	ipcc_config_init(&cfg);
	ipcc_notify_config_init(&ncfg);
	cfg.cpus = s->cpus;
	cfg.channels = 4;
	cfg.buffer_size = 64;
	for (unsigned a = 0; a < s->cpus; a++)
		for (unsigned b = a + 1; b < s->cpus; b++) {
			if (s->unlinked[a] >> b & 1)
				pt_assert(ipcc_config_link(&cfg, a, b, false) == 0, "link %u-%u", a,
					  b);
			if (s->no_notify[a] >> b & 1)
				pt_assert(ipcc_notify_config_pair(&ncfg, a, b, false) == 0,
					  "notify pair %u-%u", a, b);
		}
	if (s->depth)
		ncfg.depth = s->depth;
	cfg.notify = &ncfg;
	int r = ipcc_system_create(pt_name(), &cfg, &sys);
	pt_assert(r == 0, "ipcc_system_create with Notify: %s", strerror(-r));
	return sys;
}

/* `cpus` CPUs, all linked, Notify everywhere. */
static inline struct ipcc_system *ns_create_all(unsigned cpus)
{
	struct ns_shape s = { .cpus = cpus };
	return ns_create(&s);
}

/* The errno of a result as one byte of a peer's answer (0: success). */
static inline char ns_code(int r)
{
	return (char)(r < 0 ? -r : 0);
}

static inline const char *ns_err(int code)
{
	return code ? strerror(code) : "success";
}

/*
 * A scripted sync peer (struct pt_script first, so that pt_script_fork's fn gets it): CPU `id`
 * of the system, `remote` the peer its one-peer calls name. Commands, each answered with the
 * errno of the call as one byte (0: success) unless said:
 *   's' sync_all, no bound (PT_LONG)   't' sync_all, NS_SHORT
 *   'S' sync_send(remote)              'W' sync_wait(remote), PT_LONG   'w' ... NS_SHORT
 *   'k' 100 ms later, write the time to *t_gone and kill -9 itself (no answer)
 *   'd' 100 ms later, write the time to *t_gone and detach (answer 0)
 *   'x' detach and exit 0
 * SIGUSR1 makes it call ipcc_cpu_interrupt on its CPU.
 */
struct ns_peer {
	struct pt_script s;
	unsigned id, remote;
	_Atomic int64_t *t_gone; /* in shared memory */
};

/* SIGUSR1 in a peer: ipcc_cpu_interrupt of its CPU (async-signal-safe). */
static struct ipcc_cpu *ns_peer_cpu;

static inline void ns_peer_on_usr1(int sig)
{
	(void)sig;
	if (ns_peer_cpu)
		ipcc_cpu_interrupt(ns_peer_cpu);
}

static inline int ns_peer_main(void *arg)
{
	struct ns_peer *p = arg;
	struct ipcc_system *sys;
	pt_script_wait_go(&p->s);
	struct ipcc_cpu *cpu = peer_attach(p->s.name, p->id, p->s.mode, 0, &sys);
	ns_peer_cpu = cpu;
	signal(SIGUSR1, ns_peer_on_usr1);
	pt_post(p->s.ack, 'a');
	for (;;) {
		int c = pt_await(p->s.cmd, 60 * PT_SEC);
		int r = 0;
		PEER_CHECK(c >= 0, "no command from the test");
		PEER_CHECK(cpu || c == 'x', "command '%c' after the detach", c);
		switch (c) {
		case 's':
			r = ipcc_notify_sync_all(cpu, PT_LONG);
			break;
		case 't':
			r = ipcc_notify_sync_all(cpu, NS_SHORT);
			break;
		case 'S':
			r = ipcc_notify_sync_send(cpu, p->remote);
			break;
		case 'W':
			r = ipcc_notify_sync_wait(cpu, p->remote, PT_LONG);
			break;
		case 'w':
			r = ipcc_notify_sync_wait(cpu, p->remote, NS_SHORT);
			break;
		case 'k':
			pt_sleep_ms(100);
			/* Seq_cst: the test reads it after it saw this process die. */
			atomic_store(p->t_gone, pt_now_ns());
			kill(getpid(), SIGKILL);
			for (;;)
				pause();
		case 'd':
			pt_sleep_ms(100);
			/* Seq_cst: the test reads it after its wait saw the detach. */
			atomic_store(p->t_gone, pt_now_ns());
			signal(SIGUSR1, SIG_IGN);
			ns_peer_cpu = NULL;
			ipcc_cpu_detach(cpu);
			cpu = NULL;
			break;
		case 'x':
			signal(SIGUSR1, SIG_IGN);
			ns_peer_cpu = NULL;
			ipcc_cpu_detach(cpu);
			ipcc_system_close(sys);
			return 0;
		default:
			PEER_CHECK(0, "unknown command '%c'", c);
		}
		pt_post(p->s.ack, ns_code(r));
	}
}

/*
 * Fork the peer (deferred: it attaches on pt_script_go, else before this returns). Fork every
 * peer before this process attaches a CPU in eventfd mode or starts a thread.
 */
static inline void ns_peer_start(struct ns_peer *p, struct ipcc_system *sys, unsigned id,
				 unsigned remote, bool deferred)
{
	p->id = id;
	p->remote = remote;
	if (!p->t_gone)
		p->t_gone = pt_shared(sizeof(*p->t_gone));
	pt_script_fork(&p->s, ipcc_system_name(sys), IPCC_WAIT_FUTEX, deferred, ns_peer_main, 60);
	if (!deferred)
		pt_assert(pt_await(p->s.ack, PT_LONG) == 'a', "peer CPU %u did not attach", id);
}

/* Command the peer and return its answer (an errno, 0 for success). */
static inline int ns_peer_cmd(struct ns_peer *p, char c)
{
	return pt_script_cmd(&p->s, c);
}

/* The answer of a command posted before (pt_post), for a call that ran beside the test's. */
static inline int ns_peer_answer(struct ns_peer *p, char c)
{
	int r = pt_await(p->s.ack, PT_LONG + 5 * PT_SEC);
	pt_assert(r >= 0, "peer CPU %u did not answer '%c'%s", p->id, c, pt_peer_note(p->s.pid));
	return r;
}

#endif
