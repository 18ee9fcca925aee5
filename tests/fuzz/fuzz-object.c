/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: open, attach, use and detach a CPU of an object whose bytes an adversary chose,
 * beside a live owner of another CPU.
 *
 * Each input is a diff: bytes 0-1 (little-endian) are an offset into a fresh, valid object
 * (3 CPUs, 2 channels, 64-byte buffers, Notify on every link with queues of 4, RPMessage on
 * every link with 4 buffers of 64 bytes), byte 2 picks the wait mode, and the rest is XORed into
 * the object from that offset on (wrapping): the first half before ipcc_system_open, the second
 * half while CPU 0 is attached. Zero bytes change nothing, so the fuzzer finds its way past the
 * header's validation to the CPU records, the links, the slots and the vrings.
 *
 * What must hold whatever the bytes (abort() otherwise, which the fuzzer reports): no crash or
 * sanitizer report; CPU 0 can be attached again after its detach; the creator's claim on CPU 2
 * stays alive; every call returns; no RPMessage call hands out a length above the payload
 * size. Built with libFuzzer when the compiler is clang
 * (-Dfuzz=enabled, tests/fuzz/meson.build); replay.c runs it over a fixed seeded set elsewhere.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ipcc/ipcc.h>
#include <ipcc/layout.h>
#include <ipcc/rpmsg.h>

#include "fuzz-object.h"

#define CPUS	      3u
#define CHANNELS      2u
#define BUFFER	      64u
#define RPMSG_BUFFERS 4u
#define RPMSG_SIZE    64u
#define RPMSG_CAP     (RPMSG_SIZE - IPCC_RPMSG_HEADER_SIZE)

/* The object every input starts from; the configs it points to are static. */
static void object_config(struct ipcc_config *cfg)
{
	static struct ipcc_notify_config ncfg;
	static struct ipcc_rpmsg_config rcfg;
	ipcc_config_init(cfg);
	cfg->cpus = CPUS;
	cfg->channels = CHANNELS;
	cfg->buffer_size = BUFFER;
	ipcc_notify_config_init(&ncfg);
	ncfg.depth = 4;
	cfg->notify = &ncfg;
	ipcc_rpmsg_config_init(&rcfg);
	rcfg.buffers = RPMSG_BUFFERS;
	rcfg.buffer_size = RPMSG_SIZE;
	cfg->rpmsg = &rcfg;
}

int fuzz_rpmsg_section(uint64_t *ret_offset, uint64_t *ret_size)
{
	struct ipcc_config cfg;
	struct ipcc_section_info sec[IPCC_SECTIONS_MAX];
	object_config(&cfg);
	int n = ipcc_config_plan(&cfg, sec, IPCC_SECTIONS_MAX);
	for (int i = 0; i < n && i < (int)IPCC_SECTIONS_MAX; i++)
		if (sec[i].type == IPCC_SECTION_RPMSG) {
			*ret_offset = sec[i].offset;
			*ret_size = sec[i].size;
			return 0;
		}
	return -1;
}

static void xor_into(const char *name, uint64_t size, size_t offset, const uint8_t *d, size_t n)
{
	int fd = shm_open(name, O_RDWR, 0);
	if (fd < 0)
		abort();
	uint8_t *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED)
		abort();
	for (size_t i = 0; i < n; i++)
		base[(offset + i) % size] ^= d[i];
	munmap(base, size);
}

static void rpmsg_noop(struct ipcc_rpmsg_ep *ep, const void *data, uint32_t len, unsigned remote,
		       unsigned remote_ep, void *arg)
{
	(void)ep, (void)remote, (void)remote_ep, (void)arg;
	if (len > RPMSG_CAP)
		abort(); /* a length above the payload handed to a callback */
	volatile uint8_t sink = 0;
	for (uint32_t i = 0; i < len; i++)
		sink ^= ((const uint8_t *)data)[i]; /* ASan sees any overrun */
	(void)sink;
}

static void ns_noop(struct ipcc_cpu *cpu, const char *name, unsigned remote, unsigned remote_ep,
		    bool up, void *arg)
{
	(void)cpu, (void)remote, (void)remote_ep, (void)up, (void)arg;
	if (strlen(name) > IPCC_RPMSG_NAME_MAX)
		abort();
}

/* RPMessage: CPU 0 (c) and the keeper (CPU 2) exchange packets, none of it blocking for long. */
static void exercise_rpmsg(struct ipcc_system *sys, struct ipcc_cpu *c, struct ipcc_cpu *keeper)
{
	struct ipcc_rpmsg_ep *q = NULL, *cb = NULL, *k = NULL;
	uint8_t buf[RPMSG_SIZE];
	uint32_t len = 0, cap = 0;
	unsigned rc, re;
	const void *rx;
	void *tx;

	(void)ipcc_rpmsg_ep_create(c, 1, NULL, NULL, &q);
	(void)ipcc_rpmsg_ep_create(c, IPCC_RPMSG_ENDPT_ANY, rpmsg_noop, NULL, &cb);
	(void)ipcc_rpmsg_ep_create(keeper, 5, NULL, NULL, &k);
	(void)ipcc_rpmsg_ns_watch(c, ns_noop, NULL);
	if (k) {
		(void)ipcc_rpmsg_announce(k, "fz", IPCC_RPMSG_CPU_ALL);
		(void)ipcc_rpmsg_send(keeper, "kp", 2, 0, 1, 5, 0);
		if (cb)
			(void)ipcc_rpmsg_send(keeper, "kc", 2, 0, ipcc_rpmsg_ep_number(cb), 5, 0);
	}
	for (unsigned peer = 1; peer < CPUS; peer++) {
		struct ipcc_rpmsg_stats st;
		(void)ipcc_rpmsg_send(c, "x", 1, peer, 5, 1, 0);
		(void)ipcc_rpmsg_stats(sys, 0, peer, &st);
		(void)ipcc_rpmsg_stats(sys, peer, 0, &st);
		if (ipcc_rpmsg_tx_get(c, peer, 0, &tx, &cap) == 0) {
			if (cap > RPMSG_CAP)
				abort();
			memset(tx, 0x5A, cap);
			if (ipcc_rpmsg_send_nocopy(c, tx, cap, 5, 1) != 0)
				(void)ipcc_rpmsg_tx_free(c, tx);
		}
	}
	if (q) {
		if (ipcc_rpmsg_recv(q, buf, sizeof(buf), &len, &rc, &re, 0) == 0 && len > RPMSG_CAP)
			abort();
		if (ipcc_rpmsg_recv(q, buf, sizeof(buf), &len, &rc, &re, 100 * 1000) == 0 &&
		    len > RPMSG_CAP)
			abort();
		if (ipcc_rpmsg_recv_nocopy(q, &rx, &len, &rc, &re, 0) == 0) {
			if (len > RPMSG_CAP)
				abort();
			rpmsg_noop(q, rx, len, rc, re, NULL);
			if (ipcc_rpmsg_release(c, rx) != 0)
				abort(); /* our own held buffer */
		}
	}
	(void)ipcc_cpu_dispatch(c);
	struct ipcc_rpmsg_name names[IPCC_RPMSG_NAMES_MAX];
	for (unsigned id = 0; id < CPUS; id++) {
		int n = ipcc_rpmsg_names(sys, id, names, IPCC_RPMSG_NAMES_MAX);
		for (int i = 0; i < n && i < (int)IPCC_RPMSG_NAMES_MAX; i++)
			if (strlen(names[i].name) > IPCC_RPMSG_NAME_MAX)
				abort();
		(void)ipcc_rpmsg_ep_is_open(sys, id, 5);
	}
	(void)ipcc_rpmsg_lookup(c, "fz", 0, &rc, &re);
	(void)ipcc_rpmsg_ns_watch(c, NULL, NULL);
	(void)ipcc_rpmsg_ep_close(q);
	(void)ipcc_rpmsg_ep_close(cb);
	(void)ipcc_rpmsg_ep_close(k);
}

/* What a CPU does with its links, none of it blocking for long. */
static void exercise(struct ipcc_system *sys, struct ipcc_cpu *c)
{
	uint8_t buf[BUFFER];
	struct ipcc_cpu_owner o;

	for (unsigned id = 0; id < CPUS; id++)
		(void)ipcc_system_cpu_owner(sys, id, &o);
	for (unsigned peer = 1; peer < CPUS; peer++) {
		(void)ipcc_cpu_peer_alive(c, peer);
		(void)ipcc_send(c, peer, 0, "x", 1, 0);
		(void)ipcc_recv(c, peer, 0, buf, sizeof(buf), 0);
		(void)ipcc_recv(c, peer, 1, buf, sizeof(buf), 100 * 1000);
	}
	for (unsigned peer = 1; peer < CPUS; peer++) {
		struct ipcc_notify_stats st;
		(void)ipcc_notify_send(c, peer, IPCC_NOTIFY_CLIENT_FIRST, peer, 0);
		(void)ipcc_notify_sync_send(c, peer);
		(void)ipcc_notify_stats(sys, 0, peer, &st);
		(void)ipcc_notify_stats(sys, peer, 0, &st);
	}
	(void)ipcc_cpu_dispatch(c);
	(void)ipcc_cpu_wait(c, 0);
	(void)ipcc_cpu_wait(c, 100 * 1000);
	uint32_t v;
	unsigned from;
	(void)ipcc_notify_recv(c, IPCC_NOTIFY_CLIENT_FIRST, &v, &from, 0);
	(void)ipcc_notify_sync_wait(c, 1, 100 * 1000);
	(void)ipcc_notify_send(c, 1, IPCC_NOTIFY_CLIENT_FIRST, 1, 100 * 1000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipcc_config cfg;
	struct ipcc_system *owner, *sys;
	struct ipcc_cpu *keeper, *c;
	struct ipcc_cpu_options opt;
	struct ipcc_cpu_owner o;
	char name[64];

	if (size < 3)
		return 0;
	snprintf(name, sizeof(name), "/ipcc-fuzz-%d", (int)getpid());
	shm_unlink(name);
	object_config(&cfg);
	if (ipcc_system_create(name, &cfg, &owner) < 0 ||
	    ipcc_cpu_attach(owner, 2, NULL, &keeper) < 0)
		abort();
	uint64_t total = ipcc_system_size(owner);
	size_t offset = ((size_t)data[0] | (size_t)data[1] << 8) % total;
	ipcc_cpu_options_init(&opt);
	opt.wait = (enum ipcc_wait_mode)(data[2] % IPCC_WAIT_MODE_COUNT);
	data += 3;
	size -= 3;
	size_t first = size / 2;

	xor_into(name, total, offset, data, first);
	if (ipcc_system_open(name, &sys) == 0) {
		if (ipcc_cpu_attach(sys, 0, &opt, &c) != 0)
			abort(); /* the slot is free: nothing in the object may refuse it */
		exercise(sys, c);
		exercise_rpmsg(sys, c, keeper);
		xor_into(name, total, offset, data + first, size - first);
		exercise(sys, c);
		exercise_rpmsg(sys, c, keeper);
		ipcc_cpu_detach(c);
		if (ipcc_cpu_attach(sys, 0, NULL, &c) != 0)
			abort(); /* the slot must be recoverable */
		ipcc_cpu_detach(c);
		ipcc_system_close(sys);
	}
	if (ipcc_system_cpu_owner(owner, 2, &o) < 0 || !o.alive)
		abort(); /* another process's claim is out of the object's reach */
	ipcc_cpu_detach(keeper);
	ipcc_system_close(owner);
	shm_unlink(name);
	return 0;
}
