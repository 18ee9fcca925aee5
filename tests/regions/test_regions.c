/* SPDX-License-Identifier: MIT */
/*
 * User regions (include/ipcc/region.h): the configuration's checks, placement and alignment,
 * the bounds of every conversion, a corrupt table refused at open, offsets that round-trip
 * between two processes mapping the object at different addresses, and the description keys.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <sys/wait.h>

#include <ipcc/ipcc.h>
#include <ipcc/layout.h>

#include "../ipcc-test.h"

TestSuite(regions, .fini = test_cleanup, .timeout = 30);

static struct ipcc_region_config rcfg;

/* A system with regions "small" (100 B, byte-aligned), "frames" (1 MiB, 4096) and "table"
 * (4000 B, default alignment). */
static struct ipcc_system *region_system(void)
{
	struct ipcc_config cfg;
	ipcc_config_init(&cfg);
	ipcc_region_config_init(&rcfg);
	cr_assert_eq(ipcc_region_config_add(&rcfg, "small", 100, 1), 0);
	cr_assert_eq(ipcc_region_config_add(&rcfg, "frames", 1u << 20, 4096), 0);
	cr_assert_eq(ipcc_region_config_add(&rcfg, "table", 4000, 0), 0);
	cfg.regions = &rcfg;
	return test_system(&cfg);
}

Test(regions, the_config_refuses_bad_names_sizes_alignments_and_duplicates)
{
	struct ipcc_region_config rc;
	ipcc_region_config_init(&rc);
	cr_assert_eq(ipcc_region_config_add(&rc, "", 8, 0), -EINVAL);
	cr_assert_eq(ipcc_region_config_add(&rc, "-x", 8, 0), -EINVAL);
	cr_assert_eq(ipcc_region_config_add(&rc, "a b", 8, 0), -EINVAL);
	cr_assert_eq(ipcc_region_config_add(&rc, "0123456789012345678901234567890123", 8, 0),
		     -EINVAL, "longer than IPCC_REGION_NAME_MAX");
	cr_assert_eq(ipcc_region_config_add(&rc, "a", 0, 0), -EINVAL, "empty");
	cr_assert_eq(ipcc_region_config_add(&rc, "a", IPCC_SYSTEM_SIZE_MAX + 1, 0), -EINVAL);
	cr_assert_eq(ipcc_region_config_add(&rc, "a", 8, 48), -EINVAL, "not a power of two");
	cr_assert_eq(ipcc_region_config_add(&rc, "a", 8, 8192), -EINVAL, "above a page");
	cr_assert_eq(ipcc_region_config_add(&rc, "a.b_c-1", 8, 0), 0);
	cr_assert_eq(rc.regions[0].align, IPCC_REGION_ALIGN_DEFAULT);
	cr_assert_eq(ipcc_region_config_add(&rc, "a.b_c-1", 8, 0), -EEXIST);
	for (unsigned i = 1; i < IPCC_REGIONS_MAX; i++) {
		char name[16];
		snprintf(name, sizeof(name), "r%u", i);
		cr_assert_eq(ipcc_region_config_add(&rc, name, 8, 0), 0);
	}
	cr_assert_eq(ipcc_region_config_add(&rc, "one-more", 8, 0), -ENOSPC);

	/* A config edited by hand is checked at create. */
	struct ipcc_config cfg;
	uint64_t size;
	ipcc_config_init(&cfg);
	cfg.regions = &rc;
	cr_assert_eq(ipcc_config_size(&cfg, &size), 0);
	strcpy(rc.regions[3].name, rc.regions[2].name);
	cr_assert_eq(ipcc_config_size(&cfg, &size), -EINVAL, "a duplicate name");
	ipcc_region_config_init(&rc);
	cr_assert_eq(ipcc_region_config_add(&rc, "huge", IPCC_SYSTEM_SIZE_MAX, 0), 0);
	cr_assert_eq(ipcc_config_size(&cfg, &size), -EINVAL, "the object above 1 GiB");
	ipcc_region_config_init(&rc);
	cr_assert_eq(ipcc_config_size(&cfg, &size), 0, "no region: no section");
	struct ipcc_section_info sec[8];
	int n = ipcc_config_plan(&cfg, sec, 8);
	for (int i = 0; i < n; i++)
		cr_assert_neq(sec[i].type, IPCC_SECTION_REGIONS);
}

Test(regions, regions_are_where_the_plan_says_aligned_and_apart)
{
	struct ipcc_system *sys = region_system();
	struct ipcc_config cfg;
	struct ipcc_region_info plan[4], info;

	ipcc_config_init(&cfg);
	cfg.regions = &rcfg;
	cr_assert_eq(ipcc_region_plan(&cfg, plan, 4), 3);
	cr_assert_eq(ipcc_region_count(sys), 3);
	uint64_t prev_end = 0;
	for (unsigned i = 0; i < 3; i++) {
		cr_assert_eq(ipcc_region_get(sys, i, &info), 0);
		cr_assert_str_eq(info.name, rcfg.regions[i].name);
		cr_assert_str_eq(plan[i].name, info.name);
		cr_assert_eq(plan[i].offset, info.offset, "%s: planned where it is", info.name);
		cr_assert_eq(info.size, rcfg.regions[i].size);
		cr_assert_eq(info.index, i);
		cr_assert_eq((uintptr_t)info.addr % info.align, 0, "%s aligned", info.name);
		cr_assert_eq((uintptr_t)info.addr % 64, 0, "%s on its own cache line", info.name);
		cr_assert_geq(info.offset, prev_end, "in order, no overlap");
		cr_assert_leq(info.offset + info.size, ipcc_system_size(sys));
		prev_end = info.offset + info.size;
		for (uint64_t b = 0; b < info.size; b += 512)
			cr_assert_eq(((uint8_t *)info.addr)[b], 0, "zero-filled");
	}
	cr_assert_eq(ipcc_region_find(sys, "frames", &info), 0);
	cr_assert_eq(info.index, 1);
	cr_assert_eq(info.size, 1u << 20);
	cr_assert_eq(ipcc_region_find(sys, "nope", &info), -ENOENT);
	cr_assert_eq(ipcc_region_get(sys, 3, &info), -ENOENT);
	/* The section is listed with the others. */
	struct ipcc_section_info sec[8];
	int n = ipcc_system_sections(sys, sec, 8), found = 0;
	for (int i = 0; i < n; i++)
		if (sec[i].type == IPCC_SECTION_REGIONS) {
			cr_assert_str_eq(sec[i].name, "regions");
			cr_assert_str_eq(sec[i].layer, "region");
			cr_assert_eq(sec[i].count, 3);
			found++;
		}
	cr_assert_eq(found, 1);
	ipcc_system_close(sys);
}

Test(regions, conversions_refuse_what_is_outside_the_region)
{
	struct ipcc_system *sys = region_system();
	struct ipcc_region_info small, frames;
	void *p;
	uint64_t off;

	cr_assert_eq(ipcc_region_get(sys, 0, &small), 0);
	cr_assert_eq(ipcc_region_get(sys, 1, &frames), 0);
	cr_assert_eq(ipcc_region_ptr(sys, 0, 0, 100, &p), 0);
	cr_assert_eq(p, small.addr);
	cr_assert_eq(ipcc_region_ptr(sys, 0, 99, 1, &p), 0);
	cr_assert_eq(ipcc_region_ptr(sys, 0, 100, 0, &p), 0, "the end itself, for nothing");
	p = (void *)0x1;
	cr_assert_eq(ipcc_region_ptr(sys, 0, 100, 1, &p), -ERANGE);
	cr_assert_eq(ipcc_region_ptr(sys, 0, 101, 0, &p), -ERANGE);
	cr_assert_eq(ipcc_region_ptr(sys, 0, 50, 51, &p), -ERANGE);
	cr_assert_eq(ipcc_region_ptr(sys, 0, UINT64_MAX, 2, &p), -ERANGE, "no wrap-around");
	cr_assert_eq(ipcc_region_ptr(sys, 0, 1, SIZE_MAX, &p), -ERANGE);
	cr_assert_eq(p, (void *)0x1, "untouched on failure");
	cr_assert_eq(ipcc_region_ptr(sys, 3, 0, 0, &p), -ENOENT);
	cr_assert_eq(ipcc_region_ptr(sys, 0, 0, 0, NULL), -EINVAL);

	cr_assert_eq(ipcc_region_offset(sys, 1, (uint8_t *)frames.addr + 4096, 10, &off), 0);
	cr_assert_eq(off, 4096);
	cr_assert_eq(ipcc_region_offset(sys, 1, (uint8_t *)frames.addr + frames.size - 1, 1, &off),
		     0);
	cr_assert_eq(ipcc_region_offset(sys, 1, (uint8_t *)frames.addr + frames.size - 1, 2, &off),
		     -EFAULT, "runs past the end");
	cr_assert_eq(ipcc_region_offset(sys, 1, (uint8_t *)frames.addr - 1, 1, &off), -EFAULT);
	cr_assert_eq(ipcc_region_offset(sys, 1, small.addr, 1, &off), -EFAULT,
		     "inside another region");
	cr_assert_eq(ipcc_region_offset(sys, 1, &off, 1, &off), -EFAULT, "not in the object");
	cr_assert_eq(ipcc_region_offset(sys, 7, frames.addr, 1, &off), -ENOENT);
	ipcc_system_close(sys);
}

Test(regions, a_system_without_regions_has_none)
{
	struct ipcc_system *sys = test_system(NULL);
	struct ipcc_region_info info;
	void *p;
	cr_assert_eq(ipcc_region_count(sys), 0);
	cr_assert_eq(ipcc_region_find(sys, "x", &info), -ENOENT);
	cr_assert_eq(ipcc_region_ptr(sys, 0, 0, 0, &p), -ENOENT);
	cr_assert_eq(ipcc_region_count(NULL), -EINVAL);
	ipcc_system_close(sys);
}

/* The offset of the regions section, and of its first entry, in sys. */
static uint64_t regions_section(struct ipcc_system *sys)
{
	struct ipcc_section_info sec[8];
	int n = ipcc_system_sections(sys, sec, 8);
	for (int i = 0; i < n; i++)
		if (sec[i].type == IPCC_SECTION_REGIONS)
			return sec[i].offset;
	cr_assert_fail("no regions section");
	return 0;
}

Test(regions, a_table_rewritten_to_point_outside_is_refused_at_open)
{
	struct ipcc_system *sys = region_system();
	char name[IPCC_NAME_MAX + 2];
	uint64_t sec = regions_section(sys);
	uint64_t e1 = sec + IPCC_SHM_REGIONS_HEAD_SIZE + IPCC_SHM_REGION_SIZE;
	struct ipcc_shm_region entry;

	snprintf(name, sizeof(name), "%s", ipcc_system_name(sys));
	struct ipcc_system *ok;
	cr_assert_eq(ipcc_system_open(name, &ok), 0);
	ipcc_system_close(ok);
	int fd = shm_open(name, O_RDONLY, 0);
	cr_assert_eq(pread(fd, &entry, sizeof(entry), (off_t)e1), (ssize_t)sizeof(entry));
	close(fd);

	struct ipcc_shm_region bad = entry;
	bad.size = ipcc_system_size(sys); /* beyond the section */
	patch(name, e1, &bad, sizeof(bad));
	expect_open(name, -EUCLEAN, "a region past its section");
	bad = entry;
	bad.offset = UINT64_MAX - 4095; /* aligned, far beyond the object */
	bad.size = 4096;
	patch(name, e1, &bad, sizeof(bad));
	expect_open(name, -EUCLEAN, "a region beyond the object");
	bad = entry;
	bad.offset += 64; /* no longer a multiple of its 4096 alignment */
	patch(name, e1, &bad, sizeof(bad));
	expect_open(name, -EUCLEAN, "a misaligned region");
	bad = entry;
	strcpy(bad.name, "small");
	patch(name, e1, &bad, sizeof(bad));
	expect_open(name, -EUCLEAN, "a duplicate name");
	bad = entry;
	memset(bad.name, 'n', sizeof(bad.name));
	patch(name, e1, &bad, sizeof(bad));
	expect_open(name, -EUCLEAN, "a name without its NUL");
	patch(name, e1, &entry, sizeof(entry));
	cr_assert_eq(ipcc_system_open(name, &ok), 0, "restored");
	ipcc_system_close(ok);
	ipcc_system_close(sys);
}

/* ---- two processes, two addresses ----------------------------------------------------------- */

struct msg {
	uint64_t offset;
	uintptr_t addr; /* the sender's address of its region, to show they differ */
};

Test(regions, offsets_round_trip_between_processes_that_map_the_object_apart)
{
	struct ipcc_system *sys = region_system();
	struct ipcc_region_info frames;
	int to_child[2], to_parent[2];
	struct msg m;

	cr_assert_eq(ipcc_region_find(sys, "frames", &frames), 0);
	cr_assert_eq(pipe(to_child), 0);
	cr_assert_eq(pipe(to_parent), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* The inherited mapping stays where it is: our own handle maps the object again,
		 * elsewhere, after a mapping that takes the next free addresses first. */
		void *filler = mmap(NULL, 3u << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct ipcc_system *s;
		struct ipcc_region_info f;
		void *p;
		if (filler == MAP_FAILED || ipcc_system_open(ipcc_system_name(sys), &s) < 0 ||
		    ipcc_region_find(s, "frames", &f) < 0)
			_exit(2);
		if (read(to_child[0], &m, sizeof(m)) != sizeof(m))
			_exit(3);
		if (m.addr == (uintptr_t)f.addr)
			_exit(4); /* the same address would prove nothing */
		/* The parent's offset, converted here, reaches the parent's bytes. */
		if (ipcc_region_ptr(s, f.index, m.offset, 16, &p) < 0 ||
		    memcmp(p, "from the parent", 16) != 0)
			_exit(5);
		/* An offset out of range is refused, not followed. */
		if (ipcc_region_ptr(s, f.index, f.size - 8, 16, &p) != -ERANGE)
			_exit(6);
		/* And back: a pointer of ours, as an offset. */
		uint8_t *mine = (uint8_t *)f.addr + 777777;
		memcpy(mine, "from the child", 15);
		struct msg back = { .addr = (uintptr_t)f.addr };
		if (ipcc_region_offset(s, f.index, mine, 15, &back.offset) < 0 ||
		    write(to_parent[1], &back, sizeof(back)) != sizeof(back))
			_exit(7);
		ipcc_system_close(s);
		_exit(0);
	}
	uint8_t *p = (uint8_t *)frames.addr + 123456;
	memcpy(p, "from the parent", 16);
	m = (struct msg){ .addr = (uintptr_t)frames.addr };
	cr_assert_eq(ipcc_region_offset(sys, frames.index, p, 16, &m.offset), 0);
	cr_assert_eq(m.offset, 123456);
	cr_assert_eq(write(to_child[1], &m, sizeof(m)), (ssize_t)sizeof(m));
	struct msg back;
	cr_assert_eq(read(to_parent[0], &back, sizeof(back)), (ssize_t)sizeof(back));
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed at step %d",
		  WEXITSTATUS(st));
	cr_assert_neq(back.addr, (uintptr_t)frames.addr, "mapped at different addresses");
	cr_assert_eq(back.offset, 777777);
	void *q;
	cr_assert_eq(ipcc_region_ptr(sys, frames.index, back.offset, 15, &q), 0);
	cr_assert_str_eq(q, "from the child");
	ipcc_system_close(sys);
}

/* ---- the system description --------------------------------------------------------------- */

static int parse(const char *text, struct ipcc_sysdesc **ret, struct ipcc_sysdesc_error *err)
{
	return ipcc_sysdesc_parse("t.yaml", text, strlen(text), ret, err);
}

Test(regions, a_description_declares_regions_and_the_log)
{
	struct ipcc_sysdesc *d;
	struct ipcc_sysdesc_error err;
	const char *text = "cpus: 2\n"
			   "regions:\n"
			   "  - {name: frames, size: 1M, align: 4096}\n"
			   "  - name: small\n"
			   "    size: 100\n"
			   "services:\n"
			   "  log:\n"
			   "    size: 64K\n";
	int r = parse(text, &d, &err);
	if (r == -EOPNOTSUPP)
		cr_skip_test("built without libyaml");
	cr_assert_eq(r, 0, "%s: %s", err.key, err.message);
	const struct ipcc_config *cfg = ipcc_sysdesc_config(d);
	cr_assert_not_null(cfg->regions);
	cr_assert_eq(cfg->regions->count, 2);
	cr_assert_str_eq(cfg->regions->regions[0].name, "frames");
	cr_assert_eq(cfg->regions->regions[0].size, 1u << 20);
	cr_assert_eq(cfg->regions->regions[0].align, 4096);
	cr_assert_eq(cfg->regions->regions[1].align, IPCC_REGION_ALIGN_DEFAULT);
	cr_assert_not_null(cfg->log);
	cr_assert_eq(cfg->log->ring_size, 64u << 10);
	struct ipcc_system *sys;
	cr_assert_eq(ipcc_system_create(test_name(), cfg, &sys), 0);
	cr_assert_eq(ipcc_region_count(sys), 2);
	cr_assert_eq(ipcc_log_ring_size(sys), 64 << 10);
	ipcc_system_close(sys);
	ipcc_sysdesc_free(d);

	cr_assert_eq(parse("cpus: 2\nservices:\n  log:\n", &d, &err), 0);
	cr_assert_eq(ipcc_sysdesc_config(d)->log->ring_size, IPCC_LOG_RING_SIZE_DEFAULT);
	cr_assert_null(ipcc_sysdesc_config(d)->regions);
	ipcc_sysdesc_free(d);
}

Test(regions, a_description_with_bad_regions_is_refused_naming_the_key)
{
	static const struct {
		const char *text, *key, *says;
	} bad[] = {
		{ "cpus: 2\nregions: 3\n", "regions", "expected a list" },
		{ "cpus: 2\nregions:\n  - {size: 8}\n", "regions[0].name", "required" },
		{ "cpus: 2\nregions:\n  - {name: a}\n", "regions[0].size", "required" },
		{ "cpus: 2\nregions:\n  - {name: -a, size: 8}\n", "regions[0].name", "invalid" },
		{ "cpus: 2\nregions:\n  - {name: a, size: 8}\n  - {name: a, size: 8}\n",
		  "regions[1].name", "duplicate" },
		{ "cpus: 2\nregions:\n  - {name: a, size: 0}\n", "regions[0].size", "range" },
		{ "cpus: 2\nregions:\n  - {name: a, size: 8, align: 3}\n", "regions[0].align",
		  "power of two" },
		{ "cpus: 2\nregions:\n  - {name: a, size: 8, colour: red}\n", "regions[0].colour",
		  "unknown key" },
		{ "cpus: 2\nregions:\n  - {name: a, size: 1000M}\n  - {name: b, size: 1000M}\n",
		  "regions", "1 GiB" },
		{ "cpus: 2\nservices:\n  log:\n    size: 3000\n", "services.log.size",
		  "power of two" },
		{ "cpus: 2\nservices:\n  log: 5\n", "services.log", "expected" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ipcc_sysdesc *d = NULL;
		struct ipcc_sysdesc_error err;
		int r = parse(bad[i].text, &d, &err);
		if (r == -EOPNOTSUPP)
			cr_skip_test("built without libyaml");
		cr_assert_eq(r, -EINVAL, "%s was accepted", bad[i].text);
		cr_assert_str_eq(err.key, bad[i].key, "%s: %s", bad[i].text, err.message);
		cr_assert(strstr(err.message, bad[i].says), "%s: '%s' does not say '%s'",
			  bad[i].text, err.message, bad[i].says);
	}
}
