/* SPDX-License-Identifier: MIT */
/*
 * ipcc stat: the counters of every service queue of a running system, read-only: each IPC
 * Notify queue and each RPMessage vring, per ordered CPU pair.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ipcc/rpmsg.h>

#include "ipcc-tool.h"

static const char stat_help[] =
	"Usage: ipcc stat NAME [--link A-B] [--json]\n"
	"\n"
	"The counters of every service queue, per ordered CPU pair (sender, receiver), as the\n"
	"two sides keep them in the object: for each IPC Notify queue values SENT, RECEIVED,\n"
	"FULL (sends that found the queue full), DROPS (values the receiver dropped) and FILL;\n"
	"for each RPMessage vring packets SENT, RECEIVED, NOBUF (sends that found no free\n"
	"buffer), DROPS (dropped, stale and bad packets) and FILL (packets queued, of the\n"
	"buffers). Opens the object read-only.\n"
	"\n"
	"  --link A-B   only the two directions of the link between CPUs A and B\n"
	"  --json       machine-readable output, every counter on its own\n";

int vring_read(struct ipcc_system *sys, unsigned a, unsigned b, struct vring_snapshot *v)
{
	int r = -EAGAIN;

	/* Lock-free: a busy vring that moved under the reads says -EAGAIN, and is read again. */
	for (unsigned tries = 0; tries < 1000 && r == -EAGAIN; tries++)
		r = ipcc_rpmsg_stats(sys, a, b, &v->st);
	if (r < 0 && r != -EBADMSG)
		return r;
	v->from = a;
	v->to = b;
	v->consistent = r == 0;
	return 0;
}

int rpmsg_snapshot(struct ipcc_system *sys, bool only, unsigned only_a, unsigned only_b,
		   struct vring_snapshot **ret, unsigned *ret_count)
{
	unsigned cpus = ipcc_system_cpus(sys), count = 0;
	unsigned(*pairs)[2] = calloc((size_t)cpus * (cpus - 1), sizeof(*pairs));
	struct vring_snapshot *v = calloc((size_t)cpus * (cpus - 1), sizeof(*v));
	int r = 0;

	if (!v || !pairs) {
		free(pairs);
		free(v);
		return -ENOMEM;
	}
	unsigned n = service_pairs(sys, only, only_a, only_b, ipcc_rpmsg_enabled, pairs);
	for (unsigned i = 0; i < n; i++) {
		r = vring_read(sys, pairs[i][0], pairs[i][1], &v[count]);
		if (r < 0)
			break;
		count++;
	}
	free(pairs);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_count = count;
	return 0;
}

static void pair_text(struct ipcc_system *sys, unsigned id, char *buf, size_t size)
{
	snprintf(buf, size, "%u %s", id, ESC(ipcc_system_cpu_name(sys, id)));
}

static void print_text(struct ipcc_system *sys, const struct queue_snapshot *q, unsigned nq,
		       const struct vring_snapshot *v, unsigned nv)
{
	char from[40], to[40], fill[24];

	printf("%-7s  %-18s  %-18s  %10s  %10s  %10s  %8s  %9s\n", "SERVICE", "FROM", "TO", "SENT",
	       "RECEIVED", "FULL/NOBUF", "DROPS", "FILL");
	for (unsigned i = 0; i < nq; i++) {
		pair_text(sys, q[i].from, from, sizeof(from));
		pair_text(sys, q[i].to, to, sizeof(to));
		snprintf(fill, sizeof(fill), "%" PRIu32 "/%" PRIu32, q[i].st.fill, q[i].st.depth);
		printf("%-7s  %-18s  %-18s  %10" PRIu64 "  %10" PRIu64 "  %10" PRIu64 "  %8" PRIu64
		       "  %9s%s\n",
		       "notify", from, to, q[i].st.sent, q[i].st.received, q[i].st.full,
		       q[i].st.dropped, fill, q[i].consistent ? "" : "  (impossible indices)");
	}
	for (unsigned i = 0; i < nv; i++) {
		const struct ipcc_rpmsg_stats *s = &v[i].st;
		pair_text(sys, v[i].from, from, sizeof(from));
		pair_text(sys, v[i].to, to, sizeof(to));
		snprintf(fill, sizeof(fill), "%" PRIu32 "/%" PRIu32, s->full, s->buffers);
		printf("%-7s  %-18s  %-18s  %10" PRIu64 "  %10" PRIu64 "  %10" PRIu64 "  %8" PRIu64
		       "  %9s%s\n",
		       "rpmsg", from, to, s->sent, s->received, s->nobuf,
		       s->dropped + s->stale + s->bad, fill,
		       v[i].consistent ? "" : "  (impossible indices)");
	}
	if (!nq && !nv)
		puts("(no service queues: the system has neither IPC Notify nor RPMessage)");
}

static json_t *json_stat(struct ipcc_system *sys, const struct queue_snapshot *q, unsigned nq,
			 const struct vring_snapshot *v, unsigned nv)
{
	json_t *notify = json_array(), *rpmsg = json_array();

	for (unsigned i = 0; i < nq; i++)
		append(&notify,
		       json_pack("{s:i, s:o, s:i, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "from",
				 (int)q[i].from, "from_name",
				 jstr(ipcc_system_cpu_name(sys, q[i].from)), "to", (int)q[i].to,
				 "to_name", jstr(ipcc_system_cpu_name(sys, q[i].to)), "sent",
				 (json_int_t)q[i].st.sent, "received", (json_int_t)q[i].st.received,
				 "full", (json_int_t)q[i].st.full, "dropped",
				 (json_int_t)q[i].st.dropped, "fill", (json_int_t)q[i].st.fill,
				 "depth", (json_int_t)q[i].st.depth, "consistent",
				 q[i].consistent));
	for (unsigned i = 0; i < nv; i++) {
		const struct ipcc_rpmsg_stats *s = &v[i].st;
		append(&rpmsg,
		       json_pack("{s:i, s:o, s:i, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
				 "s:I, s:I, s:b}",
				 "from", (int)v[i].from, "from_name",
				 jstr(ipcc_system_cpu_name(sys, v[i].from)), "to", (int)v[i].to,
				 "to_name", jstr(ipcc_system_cpu_name(sys, v[i].to)), "sent",
				 (json_int_t)s->sent, "received", (json_int_t)s->received, "nobuf",
				 (json_int_t)s->nobuf, "dropped", (json_int_t)s->dropped, "stale",
				 (json_int_t)s->stale, "bad", (json_int_t)s->bad, "reclaimed",
				 (json_int_t)s->reclaimed, "full", (json_int_t)s->full, "free",
				 (json_int_t)s->free, "buffers", (json_int_t)s->buffers,
				 "consistent", v[i].consistent));
	}
	return json_pack("{s:o, s:o, s:o}", "name", jstr(ipcc_system_name(sys)), "notify", notify,
			 "rpmsg", rpmsg);
}

int cmd_stat(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct queue_snapshot *q = NULL;
	struct vring_snapshot *v = NULL;
	struct ipcc_system *sys;
	char name[IPCC_NAME_MAX + 2];
	unsigned only_a = 0, only_b = 0, nq = 0, nv = 0;
	bool json = false, only = false;
	int c, r;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		const char *opt = optind > 0 ? argv[optind - 1] : "";
		switch (c) {
		case 'l':
			r = parse_pair("--link", optarg, &only_a, &only_b);
			if (r)
				return r;
			only = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(stat_help, stdout);
			return 0;
		case ':':
			return usage_error("stat: option '%s' needs a value", opt);
		default:
			return usage_error("stat: unknown option '%s'", opt);
		}
	}
	r = name_operand("stat", argc, argv, name, sizeof(name));
	if (r)
		return r;
	r = ipcc_system_open_flags(name, IPCC_OPEN_READONLY, &sys);
	if (r < 0)
		return fail("open", name, r);
	if (only && (r = link_check(sys, name, only_a, only_b))) {
		ipcc_system_close(sys);
		return r;
	}
	r = notify_snapshot(sys, only, only_a, only_b, &q, &nq);
	if (r == 0)
		r = rpmsg_snapshot(sys, only, only_a, only_b, &v, &nv);
	if (r < 0) {
		free(q);
		ipcc_system_close(sys);
		return fail("read", name, r);
	}
	if (json)
		r = json_print(json_stat(sys, q, nq, v, nv), name);
	else
		print_text(sys, q, nq, v, nv);
	free(q);
	free(v);
	ipcc_system_close(sys);
	return r;
}
