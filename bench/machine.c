/* SPDX-License-Identifier: MIT */
/*
 * Machine record: enough to tell two result files apart and to know whether the numbers came
 * from a VM (where cross-CPU wake-ups and clocks behave differently from bare metal).
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/utsname.h>

#include "harness.h"
#include "machine.h"

#define CLOCK_PAIRS 100000

/* First line of a small sysfs/procfs file, without the newline. False if unreadable/empty. */
static bool read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (!ok)
		return false;
	buf[strcspn(buf, "\n")] = '\0';
	return buf[0] != '\0';
}

static void add_evidence(struct bench_machine *m, const char *what)
{
	size_t used = strlen(m->virt_evidence);

	m->virtualized = true;
	snprintf(m->virt_evidence + used, sizeof(m->virt_evidence) - used, "%s%s", used ? "; " : "",
		 what);
}

/* "key<spaces>: value" -> value, or NULL if the line is not about @key. */
static const char *cpuinfo_value(const char *line, const char *key)
{
	size_t klen = strlen(key);
	const char *p;

	if (strncmp(line, key, klen))
		return NULL;
	p = line + klen;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != ':')
		return NULL;
	p++;
	while (*p == ' ')
		p++;
	return p;
}

static void probe_cpuinfo(struct bench_machine *m)
{
	/* In order of preference: x86, arm32/arm64 vendor kernels, mips, riscv. */
	static const char *const keys[] = { "model name", "Hardware", "Processor", "cpu model",
					    "uarch" };
	int best = (int)(sizeof(keys) / sizeof(keys[0]));
	bool hyp = false;
	char line[4096];
	const char *v;
	FILE *f;
	int i;

	snprintf(m->cpu_model, sizeof(m->cpu_model), "unknown");
	f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		for (i = 0; i < best; i++) {
			v = cpuinfo_value(line, keys[i]);
			if (v && *v) {
				snprintf(m->cpu_model, sizeof(m->cpu_model), "%s", v);
				best = i;
				break;
			}
		}
		v = cpuinfo_value(line, "flags");
		if (v && (strstr(v, " hypervisor") || !strncmp(v, "hypervisor", 10)))
			hyp = true;
	}
	fclose(f);
	if (hyp)
		add_evidence(m, "cpuinfo hypervisor flag");
}

static void probe_virt(struct bench_machine *m)
{
	static const char *const vendors[] = { "QEMU",	 "KVM",	     "VMware",	  "innotek",
					       "Xen",	 "Bochs",    "Parallels", "Amazon EC2",
					       "Google", "OpenStack" };
	char buf[128], what[192];
	size_t i;

	if (read_line("/sys/class/dmi/id/sys_vendor", m->sys_vendor, sizeof(m->sys_vendor))) {
		for (i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++) {
			if (strstr(m->sys_vendor, vendors[i])) {
				snprintf(what, sizeof(what), "dmi sys_vendor \"%s\"",
					 m->sys_vendor);
				add_evidence(m, what);
				break;
			}
		}
		/* Hyper-V guests say "Microsoft Corporation" / "Virtual Machine". */
		if (read_line("/sys/class/dmi/id/product_name", buf, sizeof(buf)) &&
		    strstr(buf, "Virtual Machine")) {
			snprintf(what, sizeof(what), "dmi product_name \"%s\"", buf);
			add_evidence(m, what);
		}
	}
	if (read_line("/sys/hypervisor/type", buf, sizeof(buf))) {
		snprintf(what, sizeof(what), "/sys/hypervisor/type \"%s\"", buf);
		add_evidence(m, what);
	} else if (access("/sys/hypervisor", F_OK) == 0) {
		add_evidence(m, "/sys/hypervisor present");
	}
	if (access("/proc/device-tree/hypervisor", F_OK) == 0)
		add_evidence(m, "device-tree hypervisor node");
}

static void probe_clock(struct bench_machine *m)
{
	struct bench_hist *h = malloc(sizeof(*h));
	struct timespec res;
	uint64_t a, b;
	int i;

	snprintf(m->clock, sizeof(m->clock), "CLOCK_MONOTONIC");
	read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  m->clocksource, sizeof(m->clocksource));
	/* clock_gettime avoids the syscall only via the vDSO (and a clocksource it can read). */
	m->vdso = getauxval(AT_SYSINFO_EHDR) != 0;
	if (clock_getres(CLOCK_MONOTONIC, &res) == 0)
		m->clock_res_ns = (uint64_t)res.tv_sec * 1000000000u + (uint64_t)res.tv_nsec;
	if (!h)
		return;
	bench_hist_init(h);
	for (i = 0; i < CLOCK_PAIRS; i++) {
		a = bench_now_ns();
		b = bench_now_ns();
		bench_hist_add(h, b - a);
	}
	m->clock_read_min_ns = h->min;
	m->clock_read_p50_ns = bench_hist_quantile(h, 0.5);
	m->clock_read_mean_ns = h->sum / (double)h->count;
	free(h);
}

void bench_machine_probe(struct bench_machine *m, const int cpu[2])
{
	struct utsname u;
	cpu_set_t set;
	struct tm tm;
	time_t now;

	memset(m, 0, sizeof(*m));
	probe_cpuinfo(m);
	probe_virt(m);
	m->online_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		m->allowed_cpus = CPU_COUNT(&set);
	if (uname(&u) == 0) {
		snprintf(m->sysname, sizeof(m->sysname), "%s", u.sysname);
		snprintf(m->release, sizeof(m->release), "%s", u.release);
		snprintf(m->version, sizeof(m->version), "%s", u.version);
		snprintf(m->arch, sizeof(m->arch), "%s", u.machine);
	}
	probe_clock(m);
	m->cpu[0] = cpu[0];
	m->cpu[1] = cpu[1];
	now = time(NULL);
	if (gmtime_r(&now, &tm))
		strftime(m->date, sizeof(m->date), "%Y-%m-%dT%H:%M:%SZ", &tm);
}
