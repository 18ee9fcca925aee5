/* SPDX-License-Identifier: MIT */
/*
 * The system, the CPU and the wait of a library row's side (see libside.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "libside.h"
#include "uring-loop.h"

struct bench_evloop {
	struct ipcc_cpu *cpu;
	int ep;			  /* epoll on the CPU's fd, or -1 */
	struct bench_uring *ring; /* or the io_uring loop */
};

enum ipcc_wait_mode bench_wait_mode(const char *wait)
{
	if (!strcmp(wait, "spin"))
		return IPCC_WAIT_SPIN;
	if (!strcmp(wait, "futex"))
		return IPCC_WAIT_FUTEX;
	if (!strcmp(wait, "adaptive"))
		return IPCC_WAIT_ADAPTIVE;
	return IPCC_WAIT_EVENTFD; /* eventfd, and uring (which may poll the eventfd) */
}

bool bench_side_loops(const struct bench_side *s)
{
	return bench_wait_mode(s->t->wait) == IPCC_WAIT_EVENTFD &&
	       !(s->pattern == BENCH_STREAM && s->role == BENCH_SIDE_A);
}

int bench_lib_setup(void **state, size_t size, const struct ipcc_config *cfg, char *err, size_t len)
{
	static unsigned counter;
	struct bench_lib_state *st = calloc(1, size);
	struct ipcc_system *sys;

	if (!st) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	snprintf(st->name, sizeof(st->name), "/ipcc-bench-%d-%u", (int)getpid(), counter++);
	int r = ipcc_system_create(st->name, cfg, &sys);
	if (r < 0) {
		snprintf(err, len, "ipcc_system_create %s: %s", st->name, ipcc_strerror(r));
		free(st);
		return -1;
	}
	ipcc_system_close(sys);
	*state = st;
	return 0;
}

void bench_lib_teardown(void *state)
{
	struct bench_lib_state *st = state;
	ipcc_system_unlink(st->name);
	free(st);
}

static void evloop_close(struct bench_evloop *l)
{
	if (!l)
		return;
	bench_uring_close(l->ring);
	if (l->ep >= 0)
		close(l->ep);
	free(l);
}

static int evloop_open(struct bench_evloop **ret, struct ipcc_cpu *cpu, const char *wait)
{
	struct bench_evloop *l = calloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN };
	int r, fd;

	if (!l)
		return -ENOMEM;
	l->cpu = cpu;
	l->ep = -1;
	if (!strcmp(wait, "uring")) {
		r = bench_uring_open(&l->ring, cpu);
		if (r < 0)
			goto fail;
	} else {
		fd = ipcc_cpu_fd(cpu);
		if (fd < 0) {
			r = fd;
			goto fail;
		}
		l->ep = epoll_create1(EPOLL_CLOEXEC);
		if (l->ep < 0 || epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			r = -errno;
			goto fail;
		}
	}
	*ret = l;
	return 0;
fail:
	evloop_close(l);
	return r;
}

int bench_lib_attach(struct bench_side *s, const char *name, uint32_t flags,
		     struct ipcc_system **ret_sys, struct ipcc_cpu **ret_cpu,
		     struct bench_evloop **ret_loop)
{
	struct ipcc_cpu_options opt;
	unsigned id = s->role == BENCH_SIDE_A ? 0 : 1;
	int r;

	r = ipcc_system_open(name, ret_sys);
	if (r < 0)
		return bench_fail(s, "ipcc_system_open: %s", ipcc_strerror(r));
	ipcc_cpu_options_init(&opt);
	opt.wait = bench_wait_mode(s->t->wait);
	opt.flags = flags;
	r = ipcc_cpu_attach(*ret_sys, id, &opt, ret_cpu);
	if (r < 0)
		return bench_fail(s, "ipcc_cpu_attach(%u): %s", id, ipcc_strerror(r));
	if (!bench_side_loops(s))
		return 0;
	r = evloop_open(ret_loop, *ret_cpu, s->t->wait);
	if (r < 0)
		return bench_fail(s, "%s wait: %s", s->t->wait, ipcc_strerror(r));
	return 0;
}

void bench_lib_detach(struct ipcc_system *sys, struct ipcc_cpu *cpu, struct bench_evloop *loop)
{
	evloop_close(loop);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

int bench_evloop_once(struct bench_evloop *l)
{
	if (l->ring)
		return bench_uring_wait(l->ring);
	struct epoll_event ev;
	int n = epoll_wait(l->ep, &ev, 1, -1);
	if (n < 0 && errno != EINTR)
		return -errno;
	int r = ipcc_cpu_dispatch(l->cpu);
	return r < 0 ? r : 0;
}

int bench_loop_more(struct bench_side *s, struct bench_evloop *l, struct bench_loop_count *c,
		    uint64_t n)
{
	c->target += n;
	while (c->events < c->target && !c->error) {
		int r = bench_evloop_once(l);
		if (r < 0)
			return bench_fail(s, "event loop: %s", ipcc_strerror(r));
	}
	if (c->error)
		return bench_fail(s, "callback: %s", ipcc_strerror(c->error));
	return 0;
}
