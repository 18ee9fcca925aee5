/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the test suites: unique shm names that are always removed, and shortcuts
 * for the setup every test repeats. Header-only so each test file stays one executable.
 *
 * Criterion runs every test in a process of its own, so the pid makes a name unique across
 * tests (and across suites running at the same time); the counter makes it unique in a test.
 */
#ifndef IPCC_TEST_H
#define IPCC_TEST_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ipcc/ipcc.h>

#define TEST_NAMES_MAX 32

static char test_names[TEST_NAMES_MAX][64];
static unsigned test_name_count;

/* A fresh shm name, remembered so that test_cleanup() removes it whatever the test did. */
static inline const char *test_name(void)
{
	cr_assert_lt(test_name_count, TEST_NAMES_MAX, "too many names in one test");
	char *n = test_names[test_name_count];
	snprintf(n, sizeof(test_names[0]), "/ipcc-test-%d-%u", (int)getpid(), test_name_count);
	test_name_count++;
	/* A previous run killed before its teardown may have left the name behind. */
	shm_unlink(n);
	return n;
}

/* .fini of every test that creates objects; also runs after a failed assertion. */
static inline void test_cleanup(void)
{
	for (unsigned i = 0; i < test_name_count; i++)
		shm_unlink(test_names[i]);
	test_name_count = 0;
}

static inline bool test_shm_exists(const char *name)
{
	int fd = shm_open(name, O_RDONLY, 0);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Create a system under a fresh name; cfg NULL means the defaults. */
static inline struct ipcc_system *test_system(const struct ipcc_config *cfg)
{
	struct ipcc_system *sys = NULL;
	int r = ipcc_system_create(test_name(), cfg, &sys);
	cr_assert_eq(r, 0, "ipcc_system_create: %s", strerror(-r));
	cr_assert_not_null(sys);
	return sys;
}

static inline struct ipcc_system *test_system_geometry(unsigned cpus, unsigned channels,
						       uint32_t buffer_size)
{
	struct ipcc_config cfg;
	ipcc_config_init(&cfg);
	cfg.cpus = cpus;
	cfg.channels = channels;
	cfg.buffer_size = buffer_size;
	return test_system(&cfg);
}

static inline struct ipcc_regs *test_regs(struct ipcc_system *sys, unsigned a, unsigned b)
{
	struct ipcc_regs *regs = NULL;
	int r = ipcc_regs_open(sys, a, b, &regs);
	cr_assert_eq(r, 0, "ipcc_regs_open(%u, %u): %s", a, b, strerror(-r));
	return regs;
}

static inline uint32_t test_rd(struct ipcc_regs *regs, uint32_t offset)
{
	uint32_t v = 0xDEADBEEFu;
	int r = ipcc_regs_read(regs, offset, &v);
	cr_assert_eq(r, 0, "read of 0x%03x: %s", offset, strerror(-r));
	return v;
}

static inline void test_wr(struct ipcc_regs *regs, uint32_t offset, uint32_t value)
{
	int r = ipcc_regs_write(regs, offset, value);
	cr_assert_eq(r, 0, "write of 0x%03x: %s", offset, strerror(-r));
}

static inline struct ipcc_cpu *test_attach(struct ipcc_system *sys, unsigned id)
{
	struct ipcc_cpu *cpu = NULL;
	int r = ipcc_cpu_attach(sys, id, NULL, &cpu);
	cr_assert_eq(r, 0, "attach of CPU %u: %s", id, strerror(-r));
	cr_assert_not_null(cpu);
	return cpu;
}

/* Offsets of processor p's registers, p 0-based (0: processor 1, 1: processor 2). */
#define CR(p)  (IPCC_C1CR + (p)*IPCC_BANK_STRIDE)
#define MR(p)  (IPCC_C1MR + (p)*IPCC_BANK_STRIDE)
#define SCR(p) (IPCC_C1SCR + (p)*IPCC_BANK_STRIDE)
/* Processor p's outgoing flags: C1TOC2SR for p = 0, C2TOC1SR for p = 1. */
#define SR(p) (IPCC_C1TOC2SR + (p)*IPCC_BANK_STRIDE)

#define CR_BITS (IPCC_CR_RXOIE | IPCC_CR_TXFIE)

/* Bits of the channels a link has, in the low half-word. */
static inline uint32_t test_chmask(unsigned channels)
{
	return (uint32_t)((1ull << channels) - 1);
}

/* ---- objects made or damaged by hand, the way a stale, foreign or broken one looks ---- */

static inline off_t shm_size(const char *name)
{
	struct stat st;
	int fd = shm_open(name, O_RDONLY, 0);
	cr_assert_geq(fd, 0, "shm_open(%s): %s", name, strerror(errno));
	cr_assert_eq(fstat(fd, &st), 0);
	close(fd);
	return st.st_size;
}

/* A raw shm object of `size` bytes with `len` bytes of `data` at its start. */
static inline const char *raw_object(const void *data, size_t len, off_t size)
{
	const char *name = test_name();
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0, "shm_open: %s", strerror(errno));
	cr_assert_eq(ftruncate(fd, size), 0);
	if (len)
		cr_assert_eq(pwrite(fd, data, len, 0), (ssize_t)len);
	close(fd);
	return name;
}

/* A real, closed system with the defaults (2 CPUs). */
static inline const char *real_object(void)
{
	struct ipcc_system *s = test_system(NULL);
	ipcc_system_close(s);
	/* The name lives on in test_names[], unlike the handle's copy. */
	return test_names[test_name_count - 1];
}

static inline void patch(const char *name, size_t offset, const void *value, size_t len)
{
	int fd = shm_open(name, O_RDWR, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, value, len, (off_t)offset), (ssize_t)len);
	close(fd);
}

static inline void patch_u32(const char *name, size_t offset, uint32_t value)
{
	patch(name, offset, &value, sizeof(value));
}

static inline void expect_open(const char *name, int expected, const char *what)
{
	struct ipcc_system *s = (struct ipcc_system *)&s, *const marker = s;
	int r = ipcc_system_open(name, &s);
	cr_assert_eq(r, expected, "%s: open returned %d (%s), expected %d (%s)", what, r,
		     strerror(-r), expected, strerror(-expected));
	cr_assert_eq(s, marker, "%s: a failed open wrote its output", what);
	cr_assert(test_shm_exists(name), "%s: a failed open removed the object", what);
}

#endif
