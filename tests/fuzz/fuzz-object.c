/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: open, attach, use and detach a CPU of an object whose bytes an adversary chose,
 * beside a live owner of another CPU.
 *
 * Each input is a diff: bytes 0-1 (little-endian) are an offset into a fresh, valid object
 * (3 CPUs, 2 channels, 64-byte buffers, Notify on every link with queues of 4), byte 2 picks
 * the wait mode, and the rest is XORed into
 * the object from that offset on (wrapping): the first half before ipcc_system_open, the second
 * half while CPU 0 is attached. Zero bytes change nothing, so the fuzzer finds its way past the
 * header's validation to the CPU records, the links and the slots.
 *
 * What must hold whatever the bytes (abort() otherwise, which the fuzzer reports): no crash or
 * sanitizer report; CPU 0 can be attached again after its detach; the creator's claim on CPU 2
 * stays alive; every call returns. Built with libFuzzer when the compiler is clang
 * (-Dfuzz=enabled, tests/fuzz/meson.build); replay.c runs it over a fixed seeded set elsewhere.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ipcc/ipcc.h>

#include "fuzz-object.h"

#define CPUS	 3u
#define CHANNELS 2u
#define BUFFER	 64u

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
	ipcc_config_init(&cfg);
	cfg.cpus = CPUS;
	cfg.channels = CHANNELS;
	cfg.buffer_size = BUFFER;
	struct ipcc_notify_config ncfg;
	ipcc_notify_config_init(&ncfg);
	ncfg.depth = 4;
	cfg.notify = &ncfg;
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
		xor_into(name, total, offset, data + first, size - first);
		exercise(sys, c);
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
