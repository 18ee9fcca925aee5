/* SPDX-License-Identifier: MIT */
/*
 * RPMessage in `ipcc plan` and `ipcc info`: what a config asks for (buffers, buffer size,
 * payload, end points, the links, the vring sections), and what an open system holds (each
 * ordered pair's vring counters, each CPU's open end points and announced names). Everything
 * read from the object is read once into a snapshot, then printed; names and CPU names are
 * the object's, so they are escaped (the library checks announced names, the tool does not
 * rely on it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ipcc/layout.h>
#include <ipcc/rpmsg.h>

#include "ipcc-rpmsg.h"
#include "ipcc-tool.h"

/* ---- plan ---------------------------------------------------------------------------------- */

/* Whether a config's pair a < b has RPMessage: a Notify link whose RPMessage bit is set. */
static bool config_rpmsg_pair(const struct ipcc_config *cfg, unsigned a, unsigned b)
{
	return cfg->rpmsg && cfg->notify && ((cfg->links[a] >> b) & 1u) &&
	       ((cfg->notify->pairs[a] >> b) & 1u) && ((cfg->rpmsg->pairs[a] >> b) & 1u);
}

static bool config_notify_link(const struct ipcc_config *cfg, unsigned a, unsigned b)
{
	return cfg->notify && ((cfg->links[a] >> b) & 1u) && ((cfg->notify->pairs[a] >> b) & 1u);
}

static bool is_rpmsg_section(const struct ipcc_section_info *s)
{
	return (s->type & IPCC_SECTION_TYPE_MASK) == IPCC_SECTION_RPMSG;
}

void rpmsg_plan_print(const struct ipcc_config *cfg, const struct ipcc_section_info *sections,
		      unsigned count)
{
	const struct ipcc_rpmsg_config *r = cfg->rpmsg;
	unsigned pairs = 0, notify_links = 0;

	if (!r)
		return;
	for (unsigned a = 0; a < cfg->cpus; a++) {
		for (unsigned b = a + 1; b < cfg->cpus; b++) {
			pairs += config_rpmsg_pair(cfg, a, b);
			notify_links += config_notify_link(cfg, a, b);
		}
	}
	printf("  rpmsg: %" PRIu32 " buffers of %" PRIu32 " B (%" PRIu32
	       " B payload) per ordered pair, %" PRIu32 " end points, %s",
	       r->buffers, r->buffer_size, r->buffer_size - IPCC_RPMSG_HEADER_SIZE, r->endpoints,
	       pairs == notify_links ? "every Notify link" : "links:");
	for (unsigned a = 0, n = 0; a < cfg->cpus && pairs != notify_links; a++)
		for (unsigned b = a + 1; b < cfg->cpus; b++)
			if (config_rpmsg_pair(cfg, a, b))
				printf("%s %s - %s", n++ ? "," : "", ESC(cfg->cpu_names[a]),
				       ESC(cfg->cpu_names[b]));
	putchar('\n');
	for (unsigned i = 0; i < count; i++)
		if (is_rpmsg_section(&sections[i]))
			printf("    section rpmsg at 0x%08" PRIx64 ", %" PRIu64 " B: %" PRIu32
			       " vrings of %" PRIu32 " B\n",
			       sections[i].offset, sections[i].size, sections[i].count,
			       sections[i].stride);
}

json_t *rpmsg_plan_json(const struct ipcc_config *cfg, const struct ipcc_section_info *sections,
			unsigned count)
{
	const struct ipcc_rpmsg_config *r = cfg->rpmsg;
	json_t *links, *secs;

	if (!r)
		return json_null();
	links = json_array();
	secs = json_array();
	for (unsigned a = 0; a < cfg->cpus; a++)
		for (unsigned b = a + 1; b < cfg->cpus; b++)
			if (config_rpmsg_pair(cfg, a, b))
				append(&links,
				       json_pack("{s:i, s:i}", "cpu1", (int)a, "cpu2", (int)b));
	for (unsigned i = 0; i < count; i++)
		if (is_rpmsg_section(&sections[i]))
			append(&secs, json_pack("{s:I, s:I, s:I, s:I}", "offset",
						(json_int_t)sections[i].offset, "size",
						(json_int_t)sections[i].size, "vrings",
						(json_int_t)sections[i].count, "vring_size",
						(json_int_t)sections[i].stride));
	return json_pack("{s:I, s:I, s:I, s:I, s:o, s:o}", "buffers", (json_int_t)r->buffers,
			 "buffer_size", (json_int_t)r->buffer_size, "payload_max",
			 (json_int_t)(r->buffer_size - IPCC_RPMSG_HEADER_SIZE), "endpoints",
			 (json_int_t)r->endpoints, "links", links, "sections", secs);
}

/* ---- info ---------------------------------------------------------------------------------- */

struct cpu_rpmsg_snapshot {
	unsigned id;
	uint64_t open[IPCC_RPMSG_ENDPOINTS_MAX / 64]; /* bit e of word e / 64: e is open */
	unsigned open_count;
	struct ipcc_rpmsg_name names[IPCC_RPMSG_NAMES_MAX];
	unsigned name_count; /* at most IPCC_RPMSG_NAMES_MAX of them are in names[] */
};

struct rpmsg_snapshot {
	uint32_t buffers, buffer_size, payload_max, endpoints;
	struct vring_snapshot *vrings;
	unsigned vring_count;
	struct cpu_rpmsg_snapshot *cpus;
	unsigned cpu_count;
};

void rpmsg_snapshot_free(struct rpmsg_snapshot *s)
{
	if (!s)
		return;
	free(s->vrings);
	free(s->cpus);
	free(s);
}

/* CPU id's end points and names; 1 if it has RPMessage with some CPU, 0 if not. */
static int cpu_read(struct ipcc_system *sys, unsigned id, uint32_t endpoints,
		    struct cpu_rpmsg_snapshot *c)
{
	unsigned cpus = ipcc_system_cpus(sys), peers = 0;
	int r;

	for (unsigned p = 0; p < cpus; p++)
		peers += p != id && ipcc_system_linked(sys, id, p) &&
			 ipcc_rpmsg_enabled(sys, id, p) == 1;
	if (!peers)
		return 0;
	memset(c, 0, sizeof(*c));
	c->id = id;
	for (unsigned e = 0; e < endpoints && e < IPCC_RPMSG_ENDPOINTS_MAX; e++) {
		r = ipcc_rpmsg_ep_is_open(sys, id, e);
		if (r == -ENOPROTOOPT)
			return 0;
		if (r < 0)
			return r;
		if (r) {
			c->open[e / 64] |= 1ull << (e % 64);
			c->open_count++;
		}
	}
	r = ipcc_rpmsg_names(sys, id, c->names, IPCC_RPMSG_NAMES_MAX);
	if (r == -ENOPROTOOPT)
		return 0;
	if (r < 0)
		return r;
	c->name_count = (unsigned)r < IPCC_RPMSG_NAMES_MAX ? (unsigned)r : IPCC_RPMSG_NAMES_MAX;
	return 1;
}

int rpmsg_snapshot_read(struct ipcc_system *sys, bool only, unsigned only_a, unsigned only_b,
			struct rpmsg_snapshot **ret)
{
	unsigned cpus = ipcc_system_cpus(sys);
	struct rpmsg_snapshot *s;
	int r = 0;

	*ret = NULL;
	if (!ipcc_rpmsg_buffers(sys))
		return 0;
	s = calloc(1, sizeof(*s));
	if (s) {
		s->vrings = calloc((size_t)cpus * (cpus - 1), sizeof(*s->vrings));
		s->cpus = calloc(cpus, sizeof(*s->cpus));
	}
	if (!s || !s->vrings || !s->cpus) {
		rpmsg_snapshot_free(s);
		return -ENOMEM;
	}
	s->buffers = ipcc_rpmsg_buffers(sys);
	s->buffer_size = ipcc_rpmsg_buffer_size(sys);
	s->payload_max = ipcc_rpmsg_payload_max(sys);
	s->endpoints = ipcc_rpmsg_endpoints(sys);
	for (unsigned a = 0; a < cpus && r == 0; a++) {
		for (unsigned b = 0; b < cpus && r == 0; b++) {
			unsigned lo = a < b ? a : b, hi = a < b ? b : a;
			if (a == b || !ipcc_system_linked(sys, a, b) ||
			    (only && (lo != only_a || hi != only_b)) ||
			    ipcc_rpmsg_enabled(sys, a, b) != 1)
				continue;
			r = vring_read(sys, a, b, &s->vrings[s->vring_count]);
			if (r == 0)
				s->vring_count++;
		}
	}
	for (unsigned i = 0; i < cpus && r >= 0; i++) {
		if (only && i != only_a && i != only_b)
			continue;
		r = cpu_read(sys, i, s->endpoints, &s->cpus[s->cpu_count]);
		if (r == 1)
			s->cpu_count++;
	}
	if (r < 0) {
		rpmsg_snapshot_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

static bool ep_open(const struct cpu_rpmsg_snapshot *c, unsigned e)
{
	return (c->open[e / 64] >> (e % 64)) & 1u;
}

/* The open end points as ranges: "0, 12-13, 40"; "-" for none. */
static const char *ep_ranges(const struct cpu_rpmsg_snapshot *c, uint32_t endpoints, char *buf,
			     size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned e = 0; e < endpoints && o < size; e++) {
		unsigned last = e;
		if (!ep_open(c, e))
			continue;
		while (last + 1 < endpoints && ep_open(c, last + 1))
			last++;
		int n = last == e ? snprintf(buf + o, size - o, "%s%u", o ? ", " : "", e)
				  : snprintf(buf + o, size - o, "%s%u-%u", o ? ", " : "", e, last);
		o += n > 0 ? (size_t)n : 0;
		e = last;
	}
	if (!buf[0])
		snprintf(buf, size, "-");
	return buf;
}

/* "CPU 1", "CPUs 1, 2", or "every CPU" for an announcement to each of the others. */
static const char *to_text(uint64_t to, unsigned self, unsigned cpus, char *buf, size_t size)
{
	unsigned n = 0, o = 0;

	for (unsigned c = 0; c < cpus; c++)
		n += c != self && ((to >> c) & 1u);
	if (n && n == cpus - 1 && cpus > 2) {
		snprintf(buf, size, "every CPU");
		return buf;
	}
	o = (unsigned)snprintf(buf, size, "%s", n == 1 ? "CPU" : n ? "CPUs" : "no CPU");
	for (unsigned c = 0, k = 0; c < cpus && o < size; c++)
		if ((to >> c) & 1u)
			o += (unsigned)snprintf(buf + o, size - o, "%s %u", k++ ? "," : "", c);
	return buf;
}

static const char *cpu_label(struct ipcc_system *sys, unsigned id, char *buf, size_t size)
{
	snprintf(buf, size, "%u %s", id, ESC(ipcc_system_cpu_name(sys, id)));
	return buf;
}

void rpmsg_info_print(struct ipcc_system *sys, const struct rpmsg_snapshot *s)
{
	unsigned cpus = ipcc_system_cpus(sys);

	if (!s)
		return;
	printf("\n  rpmsg: %" PRIu32 " buffers of %" PRIu32 " B (%" PRIu32
	       " B payload) per ordered pair, %" PRIu32 " end points\n",
	       s->buffers, s->buffer_size, s->payload_max, s->endpoints);
	printf("  %-18s  %-18s  %4s  %4s  %7s  %10s  %10s  %7s  %7s  %7s  %7s  %9s\n", "FROM", "TO",
	       "FULL", "FREE", "BUFFERS", "SENT", "RECEIVED", "NOBUF", "DROPPED", "STALE", "BAD",
	       "RECLAIMED");
	for (unsigned i = 0; i < s->vring_count; i++) {
		const struct vring_snapshot *v = &s->vrings[i];
		char from[40], to[40];
		printf("  %-18s  %-18s  %4" PRIu32 "  %4" PRIu32 "  %7" PRIu32 "  %10" PRIu64
		       "  %10" PRIu64 "  %7" PRIu64 "  %7" PRIu64 "  %7" PRIu64 "  %7" PRIu64
		       "  %9" PRIu64 "%s\n",
		       cpu_label(sys, v->from, from, sizeof(from)),
		       cpu_label(sys, v->to, to, sizeof(to)), v->st.full, v->st.free, v->st.buffers,
		       v->st.sent, v->st.received, v->st.nobuf, v->st.dropped, v->st.stale,
		       v->st.bad, v->st.reclaimed, v->consistent ? "" : "  (impossible indices)");
	}
	printf("  %-18s  %-24s  %s\n", "CPU", "OPEN END POINTS", "ANNOUNCED NAMES");
	for (unsigned i = 0; i < s->cpu_count; i++) {
		const struct cpu_rpmsg_snapshot *c = &s->cpus[i];
		char label[40], eps[8192];
		printf("  %-18s  %-24s ", cpu_label(sys, c->id, label, sizeof(label)),
		       ep_ranges(c, s->endpoints, eps, sizeof(eps)));
		for (unsigned k = 0; k < c->name_count; k++) {
			char to[256];
			printf("%s %s (end point %u, to %s)", k ? "," : "", ESC(c->names[k].name),
			       c->names[k].ep,
			       to_text(c->names[k].to, c->id, cpus, to, sizeof(to)));
		}
		puts(c->name_count ? "" : " -");
	}
}

static json_t *json_vring(const struct vring_snapshot *v)
{
	return json_pack("{s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}",
			 "from", (int)v->from, "to", (int)v->to, "sent", (json_int_t)v->st.sent,
			 "received", (json_int_t)v->st.received, "nobuf", (json_int_t)v->st.nobuf,
			 "dropped", (json_int_t)v->st.dropped, "stale", (json_int_t)v->st.stale,
			 "bad", (json_int_t)v->st.bad, "reclaimed", (json_int_t)v->st.reclaimed,
			 "full", (json_int_t)v->st.full, "free", (json_int_t)v->st.free, "buffers",
			 (json_int_t)v->st.buffers, "consistent", v->consistent);
}

static json_t *json_cpu(const struct cpu_rpmsg_snapshot *c, uint32_t endpoints, unsigned cpus)
{
	json_t *eps = json_array(), *names = json_array();

	for (unsigned e = 0; e < endpoints && e < IPCC_RPMSG_ENDPOINTS_MAX; e++)
		if (ep_open(c, e))
			append(&eps, json_integer(e));
	for (unsigned k = 0; k < c->name_count; k++) {
		json_t *to = json_array();
		for (unsigned i = 0; i < cpus; i++)
			if ((c->names[k].to >> i) & 1u)
				append(&to, json_integer(i));
		append(&names, json_pack("{s:o, s:i, s:o}", "name", jstr(c->names[k].name), "ep",
					 (int)c->names[k].ep, "to", to));
	}
	return json_pack("{s:i, s:o, s:o}", "id", (int)c->id, "endpoints", eps, "names", names);
}

json_t *rpmsg_info_json(struct ipcc_system *sys, const struct rpmsg_snapshot *s)
{
	unsigned cpus = ipcc_system_cpus(sys);
	json_t *vrings, *cpu;

	if (!s)
		return json_null();
	vrings = json_array();
	cpu = json_array();
	for (unsigned i = 0; i < s->vring_count; i++)
		append(&vrings, json_vring(&s->vrings[i]));
	for (unsigned i = 0; i < s->cpu_count; i++)
		append(&cpu, json_cpu(&s->cpus[i], s->endpoints, cpus));
	return json_pack("{s:I, s:I, s:I, s:I, s:o, s:o}", "buffers", (json_int_t)s->buffers,
			 "buffer_size", (json_int_t)s->buffer_size, "payload_max",
			 (json_int_t)s->payload_max, "endpoints", (json_int_t)s->endpoints,
			 "vrings", vrings, "cpus", cpu);
}
