/* SPDX-License-Identifier: MIT */
/*
 * Layout v2 (lib/region/layout.c, sections.c, lib/ipcc/links.c): the section directory and
 * feature words, CPU names, the size and plan of a config, read-only observers, and channels
 * reserved by a service.
 */
#include <criterion/criterion.h>
#include <pwd.h>
#include <stddef.h>
#include <sys/wait.h>

#include <ipcc/layout.h>

#include "internal.h"
#include "ipcc-test.h"

static struct ipcc_system *sys;

static void teardown(void)
{
	ipcc_system_close(sys);
	sys = NULL;
	test_cleanup();
}

/* ---- size and plan ---- */

Test(layout, config_size_is_the_size_of_the_created_object, .fini = teardown)
{
	struct ipcc_config cfg;
	const struct {
		unsigned cpus, channels;
		uint32_t buffer;
	} cases[] = { { 2, 6, 512 }, { 4, 1, 8 }, { 7, 16, 4096 }, { 64, 2, 64 } };
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ipcc_config_init(&cfg);
		cfg.cpus = cases[i].cpus;
		cfg.channels = cases[i].channels;
		cfg.buffer_size = cases[i].buffer;
		uint64_t size = 0;
		cr_assert_eq(ipcc_config_size(&cfg, &size), 0);
		struct ipcc_system *s = test_system(&cfg);
		cr_assert_eq(ipcc_system_size(s), size, "case %u", i);
		cr_assert_eq((uint64_t)shm_size(ipcc_system_name(s)), size, "case %u", i);
		ipcc_system_close(s);
	}
	uint64_t dflt = 0;
	cr_assert_eq(ipcc_config_size(NULL, &dflt), 0);
	sys = test_system(NULL);
	cr_assert_eq(ipcc_system_size(sys), dflt);
}

Test(layout, size_and_plan_refuse_what_create_refuses)
{
	struct ipcc_config cfg;
	uint64_t size = 7;
	ipcc_config_init(&cfg);
	cfg.cpus = 1;
	cr_assert_eq(ipcc_config_size(&cfg, &size), -EINVAL);
	cr_assert_eq(ipcc_config_plan(&cfg, NULL, 0), -EINVAL);
	ipcc_config_init(&cfg);
	cfg.buffer_size = IPCC_BUFFER_SIZE_MAX;
	cfg.cpus = 64; /* 2016 links of 16 MiB: far above IPCC_SYSTEM_SIZE_MAX */
	cr_assert_eq(ipcc_config_size(&cfg, &size), -EINVAL);
	cr_assert_eq(size, 7, "a failed call wrote its output");
	cr_assert_eq(ipcc_config_size(NULL, NULL), -EINVAL);
	struct ipcc_section_info one;
	cr_assert_eq(ipcc_config_plan(NULL, NULL, 1), -EINVAL);
	cr_assert_eq(ipcc_config_plan(NULL, &one, 1), 3, "header, cpus, links");
}

Test(layout, plan_lists_the_sections_of_the_created_object_in_address_order, .fini = teardown)
{
	struct ipcc_config cfg;
	ipcc_config_init(&cfg);
	cfg.cpus = 4;
	cr_assert_eq(ipcc_config_link(&cfg, 0, 3, false), 0);
	struct ipcc_section_info plan[8], live[8];
	int n = ipcc_config_plan(&cfg, plan, 8);
	cr_assert_eq(n, 3);
	const char *names[] = { "header", "cpus", "links" };
	const uint32_t counts[] = { 1, 4, 5 };
	uint64_t end = 0;
	for (int i = 0; i < n; i++) {
		cr_assert_str_eq(plan[i].name, names[i]);
		cr_assert_eq(plan[i].count, counts[i], "%s", names[i]);
		cr_assert_eq(plan[i].offset % IPCC_SECTION_ALIGN, 0);
		cr_assert_geq(plan[i].offset, end, "%s overlaps", names[i]);
		cr_assert_geq(plan[i].size, (uint64_t)plan[i].count * plan[i].stride);
		cr_assert_eq(plan[i].owner_cpu, -1);
		end = plan[i].offset + plan[i].size;
	}
	cr_assert_str_eq(plan[2].layer, "ipcc");
	uint64_t size;
	cr_assert_eq(ipcc_config_size(&cfg, &size), 0);
	cr_assert_eq(end, size, "the last section ends the object");
	sys = test_system(&cfg);
	cr_assert_eq(ipcc_system_sections(sys, live, 8), n);
	for (int i = 0; i < n; i++) {
		cr_assert_eq(live[i].offset, plan[i].offset);
		cr_assert_eq(live[i].size, plan[i].size);
		cr_assert_str_eq(live[i].name, plan[i].name);
	}
	cr_assert_eq(ipcc_system_sections(sys, NULL, 0), n, "counting only");
	cr_assert_eq(ipcc_system_sections(NULL, live, 8), -EINVAL);
}

/* ---- the directory of an object made by hand ---- */

static struct ipcc_shm_header read_header(const char *name)
{
	struct ipcc_shm_header h;
	int fd = shm_open(name, O_RDONLY, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	close(fd);
	return h;
}

static void write_header(const char *name, const struct ipcc_shm_header *h)
{
	patch(name, 0, h, sizeof(*h));
	int fd = shm_open(name, O_RDWR, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)h->total_size), 0);
	close(fd);
}

/* A real object with one more section of `type` and `size` at its end. */
static const char *object_with_section(uint32_t type, uint64_t size)
{
	const char *name = real_object();
	struct ipcc_shm_header h = read_header(name);
	struct ipcc_shm_section *s = &h.sections[h.section_count++];
	*s = (struct ipcc_shm_section){ .type = type,
					.offset = h.total_size,
					.size = size,
					.count = 1,
					.stride = (uint32_t)size,
					.owner = IPCC_SECTION_OWNER_NONE };
	h.total_size += size;
	write_header(name, &h);
	return name;
}

Test(layout, an_unknown_compatible_section_is_ignored, .fini = teardown)
{
	const char *name = object_with_section(IPCC_SECTION_COMPAT | 0x9001u, 4096);
	cr_assert_eq(ipcc_system_open(name, &sys), 0);
	struct ipcc_section_info info[8];
	cr_assert_eq(ipcc_system_sections(sys, info, 8), 4);
	cr_assert_str_eq(info[3].name, "unknown");
	cr_assert_eq(info[3].type, IPCC_SECTION_COMPAT | 0x9001u);
	/* The rest of the object is used as before. */
	struct ipcc_cpu *a = test_attach(sys, 0), *b = test_attach(sys, 1);
	char buf[8];
	cr_assert_eq(ipcc_send(a, 1, 0, "hi", 2, 0), 0);
	cr_assert_eq(ipcc_recv(b, 0, 0, buf, sizeof(buf), 0), 2);
}

Test(layout, an_unknown_incompatible_section_or_feature_is_refused_with_eopnotsupp,
     .fini = teardown)
{
	expect_open(object_with_section(0x9001u, 4096), -EOPNOTSUPP, "incompatible section");
	/* A type number libipcc may define later, without the compat bit: the same. */
	expect_open(object_with_section(0x0042u, 64), -EOPNOTSUPP, "future section type");

	const char *name = real_object();
	struct ipcc_shm_header h = read_header(name);
	h.incompat_features = 1ull << 5;
	write_header(name, &h);
	expect_open(name, -EOPNOTSUPP, "unknown incompatible feature");

	name = real_object();
	h = read_header(name);
	h.compat_features = ~0ull;
	write_header(name, &h);
	cr_assert_eq(ipcc_system_open(name, &sys), 0, "unknown compatible features are ignored");
}

/* Apply `edit` to the directory of a fresh real object and expect open to fail with err. */
static void expect_directory(void (*edit)(struct ipcc_shm_header *h), int err, const char *what)
{
	const char *name = real_object();
	struct ipcc_shm_header h = read_header(name);
	edit(&h);
	write_header(name, &h);
	expect_open(name, err, what);
}

#define COMPAT_EXTRA (IPCC_SECTION_COMPAT | 0x9001u)

static void extra(struct ipcc_shm_header *h, uint64_t offset, uint64_t size, uint32_t count,
		  uint32_t stride)
{
	h->sections[h->section_count++] = (struct ipcc_shm_section){ .type = COMPAT_EXTRA,
								     .offset = offset,
								     .size = size,
								     .count = count,
								     .stride = stride };
	if (offset + size > h->total_size && offset + size < (1u << 24))
		h->total_size = offset + size;
}

static void overlap_links(struct ipcc_shm_header *h)
{
	extra(h, h->sections[2].offset + 64, 64, 1, 64); /* inside the links */
}

static void overlap_header(struct ipcc_shm_header *h)
{
	h->sections[1].offset = 2048; /* cpus inside the header */
}

static void beyond_total(struct ipcc_shm_header *h)
{
	uint64_t total = h->total_size;
	extra(h, total, 4096, 1, 4096);
	h->total_size = total; /* the entry ends past the object's declared size */
}

static void huge_offset(struct ipcc_shm_header *h)
{
	extra(h, UINT64_MAX - 63, 64, 1, 64); /* offset + size overflows */
}

static void misaligned_offset(struct ipcc_shm_header *h)
{
	extra(h, h->total_size + 8, 64, 1, 64);
}

static void misaligned_size(struct ipcc_shm_header *h)
{
	extra(h, h->total_size, 100, 1, 100);
}

static void empty_section(struct ipcc_shm_header *h)
{
	extra(h, h->total_size, 0, 1, 1);
}

static void array_too_big(struct ipcc_shm_header *h)
{
	extra(h, h->total_size, 128, 3, 64); /* 3 x 64 > 128 */
}

static void links_missing(struct ipcc_shm_header *h)
{
	h->sections[2].type = COMPAT_EXTRA; /* a required type absent */
}

static void links_twice(struct ipcc_shm_header *h)
{
	struct ipcc_shm_section s = h->sections[2];
	s.offset = h->total_size;
	h->sections[h->section_count++] = s;
	h->total_size += s.size;
}

static void out_of_order(struct ipcc_shm_header *h)
{
	struct ipcc_shm_section t = h->sections[1];
	h->sections[1] = h->sections[2];
	h->sections[2] = t;
}

static void header_moved(struct ipcc_shm_header *h)
{
	h->sections[0].size = 2 * IPCC_SHM_HEADER_SIZE;
}

Test(layout, malformed_directories_are_refused_with_euclean, .fini = teardown)
{
	expect_directory(overlap_links, -EUCLEAN, "a section inside the links");
	expect_directory(overlap_header, -EUCLEAN, "cpus inside the header");
	expect_directory(beyond_total, -EUCLEAN, "a section past total_size");
	expect_directory(huge_offset, -EUCLEAN, "offset + size overflowing");
	expect_directory(misaligned_offset, -EUCLEAN, "misaligned offset");
	expect_directory(misaligned_size, -EUCLEAN, "misaligned size");
	expect_directory(empty_section, -EUCLEAN, "empty section");
	expect_directory(array_too_big, -EUCLEAN, "count x stride above size");
	expect_directory(links_missing, -EUCLEAN, "no links section");
	expect_directory(links_twice, -EUCLEAN, "two links sections");
	expect_directory(out_of_order, -EUCLEAN, "entries out of address order");
	expect_directory(header_moved, -EUCLEAN, "header entry of the wrong size");
}

/* ---- CPU names ---- */

Test(names, set_cpu_name_checks_the_name)
{
	struct ipcc_config cfg;
	ipcc_config_init(&cfg);
	const char *good[] = {
		"a53-0", "r5f0-0", "m4", "M4.core_1", "cpu2", "x123456789abcdef" + 1
	};
	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert_eq(ipcc_config_set_cpu_name(&cfg, 2, good[i]), 0, "%s", good[i]);
	const char *bad[] = { "-a", ".a", "a b", "a/b", "é", "0123456789abcdef", "cpu3", "a\n" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(ipcc_config_set_cpu_name(&cfg, 2, bad[i]), -EINVAL, "%s", bad[i]);
	cr_assert_eq(ipcc_config_set_cpu_name(&cfg, 0, "m4"), 0);
	cr_assert_eq(ipcc_config_set_cpu_name(&cfg, 1, "m4"), -EEXIST);
	cr_assert_eq(ipcc_config_set_cpu_name(&cfg, 0, "m4"), 0, "renaming to its own name");
	cr_assert_eq(ipcc_config_set_cpu_name(&cfg, IPCC_CPUS_MAX, "m7"), -EINVAL);
	cr_assert_eq(ipcc_config_set_cpu_name(NULL, 0, "m7"), -EINVAL);
	cr_assert_eq(ipcc_config_set_cpu_name(&cfg, 0, NULL), 0, "back to the default");
	cr_assert_str_eq(cfg.cpu_names[0], "");
}

Test(names, a_system_carries_its_cpu_names_to_every_opener, .fini = teardown)
{
	struct ipcc_config cfg;
	ipcc_config_init(&cfg);
	cfg.cpus = 4;
	cr_assert_eq(ipcc_config_set_cpu_name(&cfg, 0, "a53-0"), 0);
	cr_assert_eq(ipcc_config_set_cpu_name(&cfg, 2, "r5f0-0"), 0);
	cr_assert_eq(ipcc_config_set_cpu_name(&cfg, 3, "m4"), 0);
	struct ipcc_system *creator = test_system(&cfg);
	cr_assert_eq(ipcc_system_open(ipcc_system_name(creator), &sys), 0);
	const char *want[] = { "a53-0", "cpu1", "r5f0-0", "m4" };
	for (unsigned i = 0; i < 4; i++) {
		cr_assert_str_eq(ipcc_system_cpu_name(creator, i), want[i]);
		cr_assert_str_eq(ipcc_system_cpu_name(sys, i), want[i]);
		cr_assert_eq(ipcc_system_cpu_by_name(sys, want[i]), (int)i);
	}
	cr_assert_null(ipcc_system_cpu_name(sys, 4));
	cr_assert_eq(ipcc_system_cpu_by_name(sys, "m7"), -ENOENT);
	cr_assert_eq(ipcc_system_cpu_by_name(sys, NULL), -EINVAL);
	ipcc_system_close(creator);
}

Test(names, names_a_config_cannot_have_are_refused_by_create, .fini = teardown)
{
	struct ipcc_config cfg;
	ipcc_config_init(&cfg);
	/* Written directly, past ipcc_config_set_cpu_name: duplicate, bad, unterminated. */
	memcpy(cfg.cpu_names[0], "m4", 3);
	memcpy(cfg.cpu_names[1], "m4", 3);
	struct ipcc_system *s = NULL;
	const char *name = test_name();
	cr_assert_eq(ipcc_system_create(name, &cfg, &s), -EINVAL, "duplicate");
	memcpy(cfg.cpu_names[1], "m 7", 4);
	cr_assert_eq(ipcc_system_create(name, &cfg, &s), -EINVAL, "bad character");
	memset(cfg.cpu_names[1], 'a', sizeof(cfg.cpu_names[1]));
	cr_assert_eq(ipcc_system_create(name, &cfg, &s), -EINVAL, "no NUL");
	cr_assert_not(test_shm_exists(name), "nothing left behind");
}

/* Offset of CPU id's name in a default object (the cpus section follows the header). */
static size_t name_offset(const char *name, unsigned id)
{
	struct ipcc_shm_header h = read_header(name);
	return h.sections[1].offset + id * IPCC_SHM_CPU_SIZE + offsetof(struct ipcc_shm_cpu, name);
}

Test(names, an_object_with_bad_names_is_refused_with_euclean, .fini = teardown)
{
	const char *name = real_object();
	patch(name, name_offset(name, 1), "cpu0", 5);
	expect_open(name, -EUCLEAN, "two CPUs called cpu0");
	name = real_object();
	patch(name, name_offset(name, 0), "\x1b]0;x", 6);
	expect_open(name, -EUCLEAN, "escape in a name");
	name = real_object();
	patch(name, name_offset(name, 0), "abcdefghijklmnop", IPCC_SHM_CPU_NAME_SIZE);
	expect_open(name, -EUCLEAN, "name without its NUL");
	name = real_object();
	patch(name, name_offset(name, 1), "", 1);
	expect_open(name, -EUCLEAN, "empty name");
}

/* ---- read-only observers ---- */

Test(readonly, a_read_only_handle_sees_everything_and_writes_nothing, .fini = teardown)
{
	sys = test_system(NULL);
	struct ipcc_cpu *a = test_attach(sys, 0);
	cr_assert_eq(ipcc_send(a, 1, 2, "x", 1, 0), 0);

	struct ipcc_system *ro = NULL;
	cr_assert_eq(ipcc_system_open_flags(ipcc_system_name(sys), IPCC_OPEN_READONLY, &ro), 0);
	cr_assert(ipcc_system_readonly(ro));
	cr_assert_not(ipcc_system_readonly(sys));
	struct ipcc_regs *regs = test_regs(ro, 0, 1);
	cr_assert_eq(test_rd(regs, IPCC_C1TOC2SR), 1u << 2, "the message is visible");
	cr_assert_eq(ipcc_regs_write(regs, IPCC_C1SCR, IPCC_SCR_CHC(2)), -EROFS);
	cr_assert_eq(test_rd(regs, IPCC_C1TOC2SR), 1u << 2, "and stays");
	struct ipcc_cpu_owner o;
	cr_assert_eq(ipcc_system_cpu_owner(ro, 0, &o), 0);
	cr_assert(o.attached && o.alive);
	struct ipcc_cpu *c = NULL;
	cr_assert_eq(ipcc_cpu_attach(ro, 1, NULL, &c), -EROFS);
	cr_assert_null(c);
	cr_assert_eq(ipcc_system_open_flags(ipcc_system_name(sys), 0x80, &ro), -EINVAL);
	ipcc_regs_close(regs);
	ipcc_system_close(ro);
}

Test(readonly, a_user_with_read_access_only_can_observe, .fini = teardown)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to run an observer as another user");
	struct passwd *pw = getpwnam("nobody");
	if (!pw)
		cr_skip_test("no user nobody");
	struct ipcc_config cfg;
	ipcc_config_init(&cfg);
	cfg.mode = 0644;
	sys = test_system(&cfg);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct ipcc_system *s = NULL;
		if (setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
			_exit(10);
		if (ipcc_system_open(ipcc_system_name(sys), &s) != -EACCES)
			_exit(11);
		if (ipcc_system_open_flags(ipcc_system_name(sys), IPCC_OPEN_READONLY, &s) != 0)
			_exit(12);
		if (ipcc_system_cpus(s) != 2 || strcmp(ipcc_system_cpu_name(s, 1), "cpu1"))
			_exit(13);
		ipcc_system_close(s);
		_exit(0);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "observer child: status %d", st);
}

/* ---- channels reserved by a service ---- */

Test(chan, a_reserved_channel_is_refused_to_the_procedures_and_the_channel_api, .fini = teardown)
{
	struct ipcc_system *creator = test_system(NULL);
	/* What a service's section init does at create: reserve channel 3 of link 0-1. */
	cr_assert_eq(ipcc_link_reserve(creator, ipcc_link_get(creator, 0, 1), 3, 9), 0);
	cr_assert_eq(ipcc_link_reserve(creator, ipcc_link_get(creator, 0, 1), 3, 10), -EBUSY);
	cr_assert_eq(ipcc_link_reserve(creator, ipcc_link_get(creator, 0, 1), 6, 9), -EINVAL);
	cr_assert_eq(ipcc_system_open(ipcc_system_name(creator), &sys), 0);
	ipcc_system_close(creator);

	cr_assert_eq(ipcc_system_channel_owner(sys, 1, 0, 3), 9);
	cr_assert_eq(ipcc_system_channel_owner(sys, 0, 1, 2), IPCC_CHAN_OWNER_PROC);
	cr_assert_eq(ipcc_system_channel_owner(sys, 0, 1, 6), -EINVAL);
	cr_assert_null(ipcc_service_name(9));
	cr_assert_str_eq(ipcc_service_name(IPCC_CHAN_OWNER_PROC), "procedures");

	struct ipcc_cpu *a = test_attach(sys, 0), *b = test_attach(sys, 1);
	char buf[8];
	void *p;
	size_t n;
	cr_assert_eq(ipcc_send(a, 1, 3, "x", 1, 0), -EACCES);
	cr_assert_eq(ipcc_recv(b, 0, 3, buf, sizeof(buf), 0), -EACCES);
	cr_assert_eq(ipcc_call(a, 1, 3, "x", 1, buf, sizeof(buf), 0), -EACCES);
	cr_assert_eq(ipcc_chan_set(a, 1, 3), -EACCES);
	cr_assert_eq(ipcc_chan_status(b, 0, 3, IPCC_DIR_RX), -EACCES);
	cr_assert_eq(ipcc_chan_buffer(a, 1, 3, IPCC_DIR_TX, &p, &n), -EACCES);
	cr_assert_eq(ipcc_chan_unmask(b, 0, 3, IPCC_DIR_RX), -EACCES);
	/* Nothing went out, and the other channels work as before. */
	struct ipcc_regs *regs = test_regs(sys, 0, 1);
	cr_assert_eq(test_rd(regs, IPCC_C1TOC2SR), 0);
	cr_assert_eq(ipcc_send(a, 1, 2, "ok", 2, 0), 0);
	cr_assert_eq(ipcc_recv(b, 0, 2, buf, sizeof(buf), 0), 2);
	ipcc_regs_close(regs);
}

Test(chan, an_owner_for_a_channel_the_link_lacks_is_corruption, .fini = teardown)
{
	const char *name = real_object();
	struct ipcc_shm_header h = read_header(name);
	/* Channel 7 of the first link of a 6-channel system. */
	patch(name, h.sections[2].offset + offsetof(struct ipcc_shm_link, chan_owner) + 7, "\x05",
	      1);
	expect_open(name, -EUCLEAN, "owner of channel 7 of 6");
}
