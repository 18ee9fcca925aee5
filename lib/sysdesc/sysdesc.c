/* SPDX-License-Identifier: MIT */
/*
 * System descriptions: the checks that turn a description tree (lib/sysdesc/tree.h) into a
 * struct ipcc_config, and the file and buffer entry points.
 *
 * Every key is an entry of a table (name, check function, required), and a mapping is
 * checked against its table the same way at every level: unknown keys first, in file order,
 * then the known ones in table order, so that a key can rely on the ones before it (links
 * name CPUs, services name links). A service adds its block as an entry of service_keys with
 * its own config struct, which the handle owns and its config points at (notify, trace,
 * rpmsg).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include <ipcc/log.h>
#include <ipcc/notify.h>
#include <ipcc/rpmsg.h>
#include <ipcc/region.h>
#include <ipcc/trace.h>

#include "internal.h"
#include "sysdesc/tree.h"

struct ipcc_sysdesc {
	/* config.notify, config.trace and config.rpmsg point here, or are NULL */
	struct ipcc_config config;
	struct ipcc_notify_config notify;
	struct ipcc_trace_config trace;
	struct ipcc_rpmsg_config rpmsg;
	struct ipcc_log_config log;
	struct ipcc_region_config regions;
	char name[IPCC_NAME_MAX + 2]; /* "" when the description gives none */
};

/* ---- errors -------------------------------------------------------------------------------- */

/* Copy src into dst as printable one-line ASCII, ending in "..." if it does not fit. */
static void printable_copy(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src[i] && i < size - 1; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
	if (src[i] && size > 4)
		memcpy(dst + size - 4, "...", 4);
}

static int __attribute__((format(printf, 5, 0)))
error_v(struct ipcc_sysdesc_error *err, unsigned line, unsigned column, const char *key,
	const char *fmt, va_list ap)
{
	char msg[IPCC_SYSDESC_MESSAGE_MAX + 1];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	err->line = line;
	err->column = column;
	printable_copy(err->key, sizeof(err->key), key ? key : "");
	printable_copy(err->message, sizeof(err->message), msg);
	return -EINVAL;
}

int ipcc_sysdesc_fail(struct ipcc_sysdesc_error *err, unsigned line, unsigned column,
		      const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = error_v(err, line, column, key, fmt, ap);
	va_end(ap);
	return r;
}

IPCC_EXPORT int ipcc_sysdesc_error_format(const struct ipcc_sysdesc_error *err, char *buf,
					  size_t size)
{
	char pos[32] = "";

	if (!err || (!buf && size))
		return -EINVAL;
	if (err->line)
		snprintf(pos, sizeof(pos), ":%u:%u", err->line, err->column);
	return snprintf(buf, size, "%s%s: %s%s%s", err->file ? err->file : "<buffer>", pos,
			err->key, err->key[0] ? ": " : "", err->message);
}

/* ---- reading nodes ------------------------------------------------------------------------- */

struct check {
	struct ipcc_sysdesc *desc;
	struct ipcc_sysdesc_error *err;
	unsigned cpu; /* the CPU whose entry of `cpus` is being checked */
	/* services.rpmsg: the block, and what the size check blames first (NULL: not given) */
	const struct sysdesc_node *rpmsg, *rpmsg_buffers, *rpmsg_buffer_size;
	bool rpmsg_profile_linux; /* `profile: linux` was read (it comes before buffer_size) */
	unsigned region;	  /* the entry of `regions` being checked */
};

static int node_error(struct check *c, const struct sysdesc_node *n, const char *path,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int node_error(struct check *c, const struct sysdesc_node *n, const char *path,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = error_v(c->err, n->line, n->column, path, fmt, ap);
	va_end(ap);
	return r;
}

/* YAML's null: an empty value, ~ or null. */
static bool is_null(const struct sysdesc_node *n)
{
	return n->kind == SYSDESC_SCALAR && n->plain &&
	       (!n->len || !strcmp(n->text, "~") || !strcasecmp(n->text, "null"));
}

static const char *kind_name(const struct sysdesc_node *n)
{
	if (n->kind == SYSDESC_SEQUENCE)
		return "a list";
	if (n->kind == SYSDESC_MAPPING)
		return "a mapping";
	if (is_null(n))
		return "nothing";
	return n->plain ? "a word" : "a quoted string";
}

static int wrong_type(struct check *c, const struct sysdesc_node *n, const char *path,
		      const char *expected)
{
	return node_error(c, n, path, "expected %s, got %s", expected, kind_name(n));
}

/* A scalar's text as a C string (plain or quoted), or NULL for anything else. */
static const char *scalar_text(const struct sysdesc_node *n)
{
	if (n->kind != SYSDESC_SCALAR || is_null(n) || strlen(n->text) != n->len)
		return NULL;
	return n->text;
}

static bool all_digits(const char *s, const char *digits)
{
	return *s && strspn(s, digits) == strlen(s);
}

/* Decimal digits, without a leading zero (YAML 1.1 reads 010 as octal), into *ret. */
static bool decimal(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!all_digits(s, "0123456789") || (s[0] == '0' && s[1]))
		return false;
	for (; *s; s++)
		v = v > UINT64_MAX / 16 ? UINT64_MAX : v * 10 + (uint64_t)(*s - '0');
	*ret = v;
	return true;
}

/* A plain decimal number in [min, max]. */
static int get_number(struct check *c, const struct sysdesc_node *n, const char *path, uint64_t min,
		      uint64_t max, uint64_t *ret)
{
	char expected[64];
	uint64_t v;

	snprintf(expected, sizeof(expected), "a decimal number %" PRIu64 "..%" PRIu64, min, max);
	if (n->kind != SYSDESC_SCALAR || !n->plain || !decimal(n->text, &v))
		return wrong_type(c, n, path, expected);
	if (v < min || v > max)
		return node_error(c, n, path, "%.24s is out of range %" PRIu64 "..%" PRIu64,
				  n->text, min, max);
	*ret = v;
	return 0;
}

/* A plain decimal power of two in [min, max] (min and max powers of two, min 2). */
static int get_power_of_two(struct check *c, const struct sysdesc_node *n, const char *path,
			    uint64_t min, uint64_t max, uint64_t *ret)
{
	uint64_t v;
	int r = get_number(c, n, path, min, max, &v);

	if (r < 0)
		return r;
	if (v & (v - 1))
		return node_error(c, n, path,
				  "%s is not a power of two (%" PRIu64 ", %" PRIu64 ", %" PRIu64
				  " ... %" PRIu64 ")",
				  n->text, min, 2 * min, 4 * min, max);
	*ret = v;
	return 0;
}

/* ---- the keys ------------------------------------------------------------------------------ */

struct sysdesc_key {
	const char *name;
	int (*check)(struct check *c, const char *path, const struct sysdesc_node *value);
	bool required;
};

static void path_join(char *buf, size_t size, const char *prefix, const char *key)
{
	snprintf(buf, size, "%s%s%.24s", prefix, prefix[0] ? "." : "", key);
}

/*
 * Check mapping `map` (at `prefix`) against `keys` (terminated by a NULL name): unknown keys
 * in file order, then required ones, then each known key's value in table order. found[i]
 * gets the value node of keys[i], or NULL.
 */
static int check_mapping(struct check *c, const struct sysdesc_node *map, const char *prefix,
			 const struct sysdesc_key *keys, const struct sysdesc_node **found)
{
	char path[IPCC_SYSDESC_KEY_MAX], known[128] = "";
	unsigned nkeys = 0;
	int r;

	for (; keys[nkeys].name; nkeys++) {
		size_t used = strlen(known);
		snprintf(known + used, sizeof(known) - used, "%s%s", used ? ", " : "",
			 keys[nkeys].name);
		found[nkeys] = NULL;
	}
	for (unsigned i = 0; i < map->count; i += 2) {
		const struct sysdesc_node *key = map->items[i];
		unsigned k = 0;
		path_join(path, sizeof(path), prefix, key->text);
		if (strlen(key->text) != key->len)
			return node_error(c, key, path, "a key with a NUL byte");
		while (k < nkeys && strcmp(keys[k].name, key->text))
			k++;
		if (k == nkeys)
			return node_error(c, key, path, "unknown key '%.32s' (%s%s)", key->text,
					  nkeys ? "known: " : "none is known in this version",
					  known);
		found[k] = map->items[i + 1];
	}
	for (unsigned k = 0; k < nkeys; k++) {
		path_join(path, sizeof(path), prefix, keys[k].name);
		if (keys[k].required && !found[k])
			return node_error(c, map, path, "missing: '%s' is required", keys[k].name);
	}
	for (unsigned k = 0; k < nkeys; k++) {
		if (!found[k])
			continue;
		path_join(path, sizeof(path), prefix, keys[k].name);
		r = keys[k].check(c, path, found[k]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_shm_name(struct check *c, const char *path, const struct sysdesc_node *n)
{
	const char *s = scalar_text(n);
	char name[IPCC_NAME_MAX + 2];

	if (!s)
		return wrong_type(c, n, path, "a shm name such as /demo");
	if (strlen(s) > IPCC_NAME_MAX + 1 ||
	    snprintf(name, sizeof(name), "%s%s", s[0] == '/' ? "" : "/", s) >= (int)sizeof(name) ||
	    ipcc_name_validate(name) < 0)
		return node_error(c, n, path,
				  "invalid shm name '%.32s': at most %u bytes, no '/' but a "
				  "leading one",
				  s, IPCC_NAME_MAX);
	memcpy(c->desc->name, name, sizeof(name));
	return 0;
}

static void cpu_name_of(const struct ipcc_config *cfg, unsigned id,
			char buf[IPCC_SHM_CPU_NAME_SIZE])
{
	if (cfg->cpu_names[id][0])
		memcpy(buf, cfg->cpu_names[id], IPCC_SHM_CPU_NAME_SIZE);
	else
		ipcc_cpu_name_default(id, buf);
}

static int check_cpu_name(struct check *c, const char *path, const struct sysdesc_node *n)
{
	struct ipcc_config *cfg = &c->desc->config;
	const char *s = scalar_text(n);
	int r;

	if (!s)
		return wrong_type(c, n, path, "a CPU name");
	if (ipcc_cpu_name_validate(s) < 0)
		return node_error(
			c, n, path,
			"invalid CPU name '%.32s': 1..%u characters of A-Z a-z 0-9 _ . -, "
			"starting with a letter or a digit",
			s, IPCC_CPU_NAME_MAX);
	r = ipcc_config_set_cpu_name(cfg, c->cpu, s);
	if (r == -EEXIST) {
		unsigned other = 0;
		while (other < c->cpu && strcmp(cfg->cpu_names[other], s))
			other++;
		return node_error(c, n, path, "duplicate CPU name '%s' (also cpus[%u])", s, other);
	}
	if (r < 0) /* the name checks passed: a default name of another CPU */
		return node_error(c, n, path,
				  "invalid CPU name '%s': cpuN is the default name of CPU N only",
				  s);
	return 0;
}

static const struct sysdesc_key cpu_keys[] = {
	{ "name", check_cpu_name, false },
	{ NULL, NULL, false },
};

static int check_cpus(struct check *c, const char *path, const struct sysdesc_node *n)
{
	struct ipcc_config *cfg = &c->desc->config;
	const struct sysdesc_node *found[1];
	char item[IPCC_SYSDESC_KEY_MAX];
	uint64_t v;
	int r;

	if (n->kind == SYSDESC_SCALAR && n->plain && decimal(n->text, &v)) {
		r = get_number(c, n, path, IPCC_CPUS_MIN, IPCC_CPUS_MAX, &v);
		if (r == 0)
			cfg->cpus = (unsigned)v;
		return r;
	}
	if (n->kind != SYSDESC_SEQUENCE)
		return wrong_type(c, n, path, "a CPU count or a list of CPU names");
	if (n->count < IPCC_CPUS_MIN || n->count > IPCC_CPUS_MAX)
		return node_error(c, n, path, "%u CPUs listed: a system has %u..%u", n->count,
				  IPCC_CPUS_MIN, IPCC_CPUS_MAX);
	cfg->cpus = n->count;
	for (unsigned i = 0; i < n->count; i++) {
		const struct sysdesc_node *e = n->items[i];
		snprintf(item, sizeof(item), "%s[%u]", path, i);
		c->cpu = i;
		if (e->kind == SYSDESC_MAPPING)
			r = check_mapping(c, e, item, cpu_keys, found);
		else if (scalar_text(e))
			r = check_cpu_name(c, item, e);
		else
			r = wrong_type(c, e, item, "a CPU name or a mapping with 'name'");
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_channels(struct check *c, const char *path, const struct sysdesc_node *n)
{
	uint64_t v;
	int r = get_number(c, n, path, IPCC_CHANNELS_MIN, IPCC_CHANNELS_MAX, &v);

	if (r == 0)
		c->desc->config.channels = (unsigned)v;
	return r;
}

/* A decimal number of bytes with an optional binary suffix: K, KiB, M, MiB (any case). */
static bool size_value(const char *s, uint64_t *ret)
{
	static const struct {
		const char *suffix;
		unsigned shift;
	} units[] = { { "", 0 }, { "k", 10 }, { "kib", 10 }, { "m", 20 }, { "mib", 20 } };
	char digits[24];
	size_t n = strspn(s, "0123456789");
	uint64_t v;

	if (n == 0 || n >= sizeof(digits))
		return false;
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (!decimal(digits, &v))
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(s + n, units[i].suffix))
			continue;
		*ret = v > (UINT64_MAX >> units[i].shift) ? UINT64_MAX : v << units[i].shift;
		return true;
	}
	return false;
}

static int check_buffer_size(struct check *c, const char *path, const struct sysdesc_node *n)
{
	const char *s = scalar_text(n);
	uint64_t v;

	if (!s || !size_value(s, &v))
		return wrong_type(c, n, path, "a number of bytes such as 512, 4K or 1M");
	if (v < IPCC_BUFFER_SIZE_MIN || v > IPCC_BUFFER_SIZE_MAX)
		return node_error(c, n, path, "%.24s is out of range %u..%u bytes (1M)", s,
				  IPCC_BUFFER_SIZE_MIN, IPCC_BUFFER_SIZE_MAX);
	c->desc->config.buffer_size = (uint32_t)v;
	return 0;
}

static int check_mode(struct check *c, const char *path, const struct sysdesc_node *n)
{
	const char *s = scalar_text(n);
	unsigned long v;

	if (!s || !all_digits(s, "01234567") || strlen(s) > 8)
		return wrong_type(c, n, path, "an octal mode such as \"0660\"");
	v = strtoul(s, NULL, 8);
	if (v > 0777)
		return node_error(c, n, path, "%s is out of range 0..0777 (permission bits only)",
				  s);
	c->desc->config.mode = (mode_t)v;
	return 0;
}

/* One end of a link: a CPU name, else a CPU id. */
static int link_end(struct check *c, const char *path, const struct sysdesc_node *n,
		    unsigned *ret_id)
{
	const struct ipcc_config *cfg = &c->desc->config;
	const char *s = scalar_text(n);
	char name[IPCC_SHM_CPU_NAME_SIZE];
	uint64_t id;

	if (!s)
		return wrong_type(c, n, path, "a CPU name or id");
	for (unsigned i = 0; i < cfg->cpus; i++) {
		cpu_name_of(cfg, i, name);
		if (!strcmp(name, s)) {
			*ret_id = i;
			return 0;
		}
	}
	if (!decimal(s, &id))
		return node_error(c, n, path, "no CPU named '%.32s'", s);
	if (id >= cfg->cpus)
		return node_error(c, n, path, "no CPU %.24s: the ids are 0..%u", s, cfg->cpus - 1);
	*ret_id = (unsigned)id;
	return 0;
}

/*
 * A list of pairs [A, B] at `path` into map (bit b of map[a], a < b), each pair once. With
 * `linked` (a links map), every pair must be one of its links: what a service's list of pairs
 * takes from the top-level `links`.
 */
static int check_pair_list(struct check *c, const char *path, const struct sysdesc_node *n,
			   uint64_t map[IPCC_CPUS_MAX], const uint64_t *linked)
{
	const struct ipcc_config *cfg = &c->desc->config;
	uint16_t first[IPCC_CPUS_MAX][IPCC_CPUS_MAX]; /* index + 1 of the item linking a < b */
	char item[IPCC_SYSDESC_KEY_MAX];
	char names[2][IPCC_SHM_CPU_NAME_SIZE];
	unsigned end[2];
	int r;

	if (n->kind != SYSDESC_SEQUENCE)
		return wrong_type(c, n, path, "'all' or a list of pairs [CPU, CPU]");
	if (n->count == 0)
		return node_error(c, n, path, "no link: list at least one pair, or write 'all'");
	memset(map, 0, IPCC_CPUS_MAX * sizeof(map[0]));
	memset(first, 0, sizeof(first));
	for (unsigned i = 0; i < n->count; i++) {
		const struct sysdesc_node *p = n->items[i];
		snprintf(item, sizeof(item), "%s[%u]", path, i);
		if (p->kind != SYSDESC_SEQUENCE || p->count != 2)
			return wrong_type(c, p, item, "a pair [CPU, CPU]");
		for (unsigned e = 0; e < 2; e++) {
			r = link_end(c, item, p->items[e], &end[e]);
			if (r < 0)
				return r;
		}
		if (end[0] == end[1])
			return node_error(c, p, item, "links CPU %u to itself", end[0]);
		unsigned a = end[0] < end[1] ? end[0] : end[1], b = end[0] ^ end[1] ^ a;
		if (first[a][b])
			return node_error(c, p, item, "duplicate link %u-%u (also %s[%u])", a, b,
					  path, first[a][b] - 1u);
		if (linked && !((linked[a] >> b) & 1u)) {
			cpu_name_of(cfg, a, names[0]);
			cpu_name_of(cfg, b, names[1]);
			return node_error(c, p, item,
					  "%s - %s is not a link of the system (see 'links')",
					  names[0], names[1]);
		}
		first[a][b] = (uint16_t)(i + 1);
		map[a] |= 1ull << b;
	}
	return 0;
}

static bool is_all(const struct sysdesc_node *n)
{
	return n->kind == SYSDESC_SCALAR && n->plain && !strcmp(n->text, "all");
}

static int check_links(struct check *c, const char *path, const struct sysdesc_node *n)
{
	if (is_all(n))
		return 0; /* ipcc_config_init links every pair */
	return check_pair_list(c, path, n, c->desc->config.links, NULL);
}

/* ---- services.notify ------------------------------------------------------------------------ */

static int check_notify_links(struct check *c, const char *path, const struct sysdesc_node *n)
{
	if (is_all(n))
		return 0; /* ipcc_notify_config_init enables every pair: every link */
	return check_pair_list(c, path, n, c->desc->notify.pairs, c->desc->config.links);
}

static int check_notify_depth(struct check *c, const char *path, const struct sysdesc_node *n)
{
	uint64_t v = 0; /* set on success only */
	int r = get_power_of_two(c, n, path, IPCC_NOTIFY_DEPTH_MIN, IPCC_NOTIFY_DEPTH_MAX, &v);

	if (r == 0)
		c->desc->notify.depth = (uint32_t)v;
	return r;
}

static int check_notify_channel(struct check *c, const char *path, const struct sysdesc_node *n)
{
	uint64_t v;
	/* `channels` comes before `services` in top_keys: the count is known. */
	int r = get_number(c, n, path, 0, c->desc->config.channels - 1, &v);

	if (r == 0)
		c->desc->notify.channel = (uint32_t)v;
	return r;
}

static const struct sysdesc_key notify_keys[] = {
	{ "links", check_notify_links, false },
	{ "depth", check_notify_depth, false },
	{ "channel", check_notify_channel, false },
	{ NULL, NULL, false },
};

/* `notify: {}` (or an empty `notify:`) enables Notify on every link with the defaults. */
static int check_notify(struct check *c, const char *path, const struct sysdesc_node *n)
{
	const struct sysdesc_node *found[sizeof(notify_keys) / sizeof(notify_keys[0])];
	int r = 0;

	ipcc_notify_config_init(&c->desc->notify);
	if (!is_null(n)) {
		if (n->kind != SYSDESC_MAPPING)
			return wrong_type(c, n, path, "a mapping of Notify settings (or {})");
		r = check_mapping(c, n, path, notify_keys, found);
	}
	if (r == 0)
		c->desc->config.notify = &c->desc->notify;
	return r;
}

/* ---- services.rpmsg ------------------------------------------------------------------------- */

/* Notify on pair a < b as the library reads it: a link whose Notify bit is set. */
static bool has_notify(const struct ipcc_sysdesc *desc, unsigned a, unsigned b)
{
	return desc->config.notify && ((desc->config.links[a] >> b) & 1u) &&
	       ((desc->notify.pairs[a] >> b) & 1u);
}

/*
 * A list of links, each of which must have Notify: RPMessage rings its doorbells through
 * Notify's reserved client 0. `all` (the default) is every Notify link.
 */
static int check_rpmsg_links(struct check *c, const char *path, const struct sysdesc_node *n)
{
	struct ipcc_sysdesc *desc = c->desc;
	char item[IPCC_SYSDESC_KEY_MAX];
	char names[2][IPCC_SHM_CPU_NAME_SIZE];
	unsigned end[2];
	int r;

	if (is_all(n))
		return 0; /* ipcc_rpmsg_config_init enables every pair: every Notify link */
	r = check_pair_list(c, path, n, desc->rpmsg.pairs, desc->config.links);
	if (r < 0)
		return r;
	/* Every item is a valid pair now: resolve it again to blame the one without Notify. */
	for (unsigned i = 0; i < n->count; i++) {
		const struct sysdesc_node *p = n->items[i];
		snprintf(item, sizeof(item), "%s[%u]", path, i);
		for (unsigned e = 0; e < 2; e++) {
			r = link_end(c, item, p->items[e], &end[e]);
			if (r < 0)
				return r;
		}
		unsigned a = end[0] < end[1] ? end[0] : end[1], b = end[0] ^ end[1] ^ a;
		if (has_notify(desc, a, b))
			continue;
		cpu_name_of(&desc->config, a, names[0]);
		cpu_name_of(&desc->config, b, names[1]);
		return node_error(c, p, item,
				  "%s - %s has no Notify, which RPMessage needs (see "
				  "services.notify.links)",
				  names[0], names[1]);
	}
	return 0;
}

static int check_rpmsg_profile(struct check *c, const char *path, const struct sysdesc_node *n)
{
	const char *s = scalar_text(n);

	if (!s || !n->plain)
		return wrong_type(c, n, path, "a profile name (linux)");
	if (strcmp(s, "linux"))
		return node_error(c, n, path, "unknown profile '%.32s' (known: linux)", s);
	ipcc_rpmsg_config_linux(&c->desc->rpmsg);
	c->rpmsg_profile_linux = true;
	return 0;
}

static int check_rpmsg_buffers(struct check *c, const char *path, const struct sysdesc_node *n)
{
	uint64_t v = 0; /* set on success only */
	int r = get_power_of_two(c, n, path, IPCC_RPMSG_BUFFERS_MIN, IPCC_RPMSG_BUFFERS_MAX, &v);

	if (r < 0)
		return r;
	c->desc->rpmsg.buffers = (uint32_t)v;
	c->rpmsg_buffers = n;
	return 0;
}

static int check_rpmsg_buffer_size(struct check *c, const char *path, const struct sysdesc_node *n)
{
	const char *s = scalar_text(n);
	uint64_t v;

	if (!s || !size_value(s, &v))
		return wrong_type(c, n, path, "a number of bytes such as 128, 512 or 4K");
	if (v < IPCC_RPMSG_BUFFER_SIZE_MIN || v > IPCC_RPMSG_BUFFER_SIZE_MAX || v % 16)
		return node_error(c, n, path,
				  "%.24s is not a multiple of 16 in %u..%u bytes (the 16-byte "
				  "header included)",
				  s, IPCC_RPMSG_BUFFER_SIZE_MIN, IPCC_RPMSG_BUFFER_SIZE_MAX);
	/* `profile` comes before `buffer_size` in rpmsg_keys: its choice is known. */
	if (c->rpmsg_profile_linux && v != IPCC_RPMSG_BUFFER_SIZE_LINUX)
		return node_error(c, n, path,
				  "buffer_size %.24s conflicts with 'profile: linux' (%u-byte "
				  "buffers): give one of the two",
				  s, IPCC_RPMSG_BUFFER_SIZE_LINUX);
	c->desc->rpmsg.buffer_size = (uint32_t)v;
	c->rpmsg_buffer_size = n;
	return 0;
}

static int check_rpmsg_endpoints(struct check *c, const char *path, const struct sysdesc_node *n)
{
	uint64_t v;
	int r = get_number(c, n, path, IPCC_RPMSG_ENDPOINTS_MIN, IPCC_RPMSG_ENDPOINTS_MAX, &v);

	if (r == 0)
		c->desc->rpmsg.endpoints = (uint32_t)v;
	return r;
}

/* `profile` first: it sets the base (ipcc_rpmsg_config_linux) that the other keys adjust. */
static const struct sysdesc_key rpmsg_keys[] = {
	{ "profile", check_rpmsg_profile, false },
	{ "links", check_rpmsg_links, false },
	{ "buffers", check_rpmsg_buffers, false },
	{ "buffer_size", check_rpmsg_buffer_size, false },
	{ "endpoints", check_rpmsg_endpoints, false },
	{ NULL, NULL, false },
};

/*
 * `rpmsg: {}` (or an empty `rpmsg:`) enables RPMessage on every Notify link with the defaults.
 * `notify` comes before `rpmsg` in service_keys: whether Notify is there is known.
 */
static int check_rpmsg(struct check *c, const char *path, const struct sysdesc_node *n)
{
	const struct sysdesc_node *found[sizeof(rpmsg_keys) / sizeof(rpmsg_keys[0])];
	int r = 0;

	ipcc_rpmsg_config_init(&c->desc->rpmsg);
	c->rpmsg = n;
	if (!c->desc->config.notify)
		return node_error(c, n, path,
				  "RPMessage needs IPC Notify: add a 'notify:' block to services");
	if (!is_null(n)) {
		if (n->kind != SYSDESC_MAPPING)
			return wrong_type(c, n, path, "a mapping of RPMessage settings (or {})");
		r = check_mapping(c, n, path, rpmsg_keys, found);
	}
	if (r == 0)
		c->desc->config.rpmsg = &c->desc->rpmsg;
	return r;
}

/* ---- services.trace ------------------------------------------------------------------------- */

/* `true` or `false`, plain. */
static int get_bool(struct check *c, const struct sysdesc_node *n, const char *path, bool *ret)
{
	if (n->kind == SYSDESC_SCALAR && n->plain && !strcmp(n->text, "true"))
		*ret = true;
	else if (n->kind == SYSDESC_SCALAR && n->plain && !strcmp(n->text, "false"))
		*ret = false;
	else
		return wrong_type(c, n, path, "true or false");
	return 0;
}

static int check_trace_ring_size(struct check *c, const char *path, const struct sysdesc_node *n)
{
	const char *s = scalar_text(n);
	uint64_t v;

	if (!s || !size_value(s, &v))
		return wrong_type(c, n, path, "a number of bytes such as 64K");
	if (v < IPCC_TRACE_RING_SIZE_MIN || v > IPCC_TRACE_RING_SIZE_MAX || (v & (v - 1)))
		return node_error(c, n, path, "%.24s is not a power of two in %uK..%uM bytes", s,
				  IPCC_TRACE_RING_SIZE_MIN >> 10, IPCC_TRACE_RING_SIZE_MAX >> 20);
	c->desc->trace.ring_size = (uint32_t)v;
	return 0;
}

static int check_trace_enabled(struct check *c, const char *path, const struct sysdesc_node *n)
{
	return get_bool(c, n, path, &c->desc->trace.enabled);
}

static const struct sysdesc_key trace_keys[] = {
	{ "ring_size", check_trace_ring_size, false },
	{ "enabled", check_trace_enabled, false },
	{ NULL, NULL, false },
};

/* `trace:` (empty: the defaults) or a mapping of trace_keys: the register trace. */
static int check_trace(struct check *c, const char *path, const struct sysdesc_node *n)
{
	const struct sysdesc_node *found[sizeof(trace_keys) / sizeof(trace_keys[0])];

	ipcc_trace_config_init(&c->desc->trace);
	c->desc->config.trace = &c->desc->trace;
	if (is_null(n))
		return 0;
	if (n->kind != SYSDESC_MAPPING)
		return wrong_type(c, n, path, "a mapping with ring_size, enabled");
	return check_mapping(c, n, path, trace_keys, found);
}

/* ---- services.log --------------------------------------------------------------------------- */

static int check_log_size(struct check *c, const char *path, const struct sysdesc_node *n)
{
	const char *s = scalar_text(n);
	uint64_t v;

	if (!s || !size_value(s, &v))
		return wrong_type(c, n, path, "a number of bytes such as 16K");
	if (v < IPCC_LOG_RING_SIZE_MIN || v > IPCC_LOG_RING_SIZE_MAX || (v & (v - 1)))
		return node_error(c, n, path, "%.24s is not a power of two in %uK..%uM bytes", s,
				  IPCC_LOG_RING_SIZE_MIN >> 10, IPCC_LOG_RING_SIZE_MAX >> 20);
	c->desc->log.ring_size = (uint32_t)v;
	return 0;
}

static const struct sysdesc_key log_keys[] = {
	{ "size", check_log_size, false },
	{ NULL, NULL, false },
};

/* `log:` (empty: the defaults) or a mapping of log_keys: the shared-memory log. */
static int check_log(struct check *c, const char *path, const struct sysdesc_node *n)
{
	const struct sysdesc_node *found[sizeof(log_keys) / sizeof(log_keys[0])];

	ipcc_log_config_init(&c->desc->log);
	c->desc->config.log = &c->desc->log;
	if (is_null(n))
		return 0;
	if (n->kind != SYSDESC_MAPPING)
		return wrong_type(c, n, path, "a mapping with size");
	return check_mapping(c, n, path, log_keys, found);
}

/* A service adds its block here, with its check function and its own config struct. */
static const struct sysdesc_key service_keys[] = {
	{ "notify", check_notify, false }, { "trace", check_trace, false },
	{ "rpmsg", check_rpmsg, false }, /* after notify, which it needs */
	{ "log", check_log, false },	   { NULL, NULL, false },
};

static int check_services(struct check *c, const char *path, const struct sysdesc_node *n)
{
	const struct sysdesc_node *found[sizeof(service_keys) / sizeof(service_keys[0])];

	if (is_null(n))
		return 0;
	if (n->kind != SYSDESC_MAPPING)
		return wrong_type(c, n, path, "a mapping of service blocks");
	return check_mapping(c, n, path, service_keys, found);
}

/* ---- regions ------------------------------------------------------------------------------ */

static struct ipcc_region_spec *region_spec(struct check *c)
{
	return &c->desc->regions.regions[c->region];
}

static int check_region_name(struct check *c, const char *path, const struct sysdesc_node *n)
{
	const char *s = scalar_text(n);
	struct ipcc_region_config probe;

	if (!s)
		return wrong_type(c, n, path, "a region name");
	ipcc_region_config_init(&probe);
	if (ipcc_region_config_add(&probe, s, 1, 0) < 0)
		return node_error(
			c, n, path,
			"invalid region name '%.40s': 1..%u characters of A-Z a-z 0-9 _ . "
			"-, starting with a letter or a digit",
			s, IPCC_REGION_NAME_MAX);
	for (unsigned i = 0; i < c->region; i++)
		if (!strcmp(c->desc->regions.regions[i].name, s))
			return node_error(c, n, path,
					  "duplicate region name '%s' (also regions[%u])", s, i);
	memcpy(region_spec(c)->name, s, strlen(s) + 1);
	return 0;
}

static int check_region_size(struct check *c, const char *path, const struct sysdesc_node *n)
{
	const char *s = scalar_text(n);
	uint64_t v;

	if (!s || !size_value(s, &v))
		return wrong_type(c, n, path, "a number of bytes such as 4096, 64K or 1M");
	if (v == 0 || v > IPCC_SYSTEM_SIZE_MAX)
		return node_error(c, n, path, "%.24s is out of range 1..%lluM bytes", s,
				  (unsigned long long)(IPCC_SYSTEM_SIZE_MAX >> 20));
	region_spec(c)->size = v;
	return 0;
}

static int check_region_align(struct check *c, const char *path, const struct sysdesc_node *n)
{
	const char *s = scalar_text(n);
	uint64_t v;

	if (!s || !size_value(s, &v))
		return wrong_type(c, n, path, "a number of bytes such as 64 or 4K");
	if (v == 0 || v > IPCC_REGION_ALIGN_MAX || (v & (v - 1)))
		return node_error(c, n, path, "%.24s is not a power of two in 1..%u", s,
				  IPCC_REGION_ALIGN_MAX);
	region_spec(c)->align = (uint32_t)v;
	return 0;
}

static const struct sysdesc_key region_keys[] = {
	{ "name", check_region_name, true },
	{ "size", check_region_size, true },
	{ "align", check_region_align, false },
	{ NULL, NULL, false },
};

/* `regions:` a list of {name, size, align}: user regions (include/ipcc/region.h). */
static int check_regions(struct check *c, const char *path, const struct sysdesc_node *n)
{
	const struct sysdesc_node *found[sizeof(region_keys) / sizeof(region_keys[0])];
	struct ipcc_region_config *rc = &c->desc->regions;
	char item[IPCC_SYSDESC_KEY_MAX];
	uint64_t size;

	ipcc_region_config_init(rc);
	if (is_null(n))
		return 0;
	if (n->kind != SYSDESC_SEQUENCE)
		return wrong_type(c, n, path, "a list of regions {name, size, align}");
	if (n->count > IPCC_REGIONS_MAX)
		return node_error(c, n, path, "%u regions listed: at most %u", n->count,
				  IPCC_REGIONS_MAX);
	for (unsigned i = 0; i < n->count; i++) {
		const struct sysdesc_node *e = n->items[i];
		snprintf(item, sizeof(item), "%s[%u]", path, i);
		c->region = i;
		rc->regions[i].align = IPCC_REGION_ALIGN_DEFAULT;
		if (e->kind != SYSDESC_MAPPING)
			return wrong_type(c, e, item, "a mapping with name, size, align");
		int r = check_mapping(c, e, item, region_keys, found);
		if (r < 0)
			return r;
		rc->count = i + 1;
	}
	if (!rc->count)
		return 0;
	/* Blame the regions only when the rest fits without them (check_size blames the rest). */
	if (ipcc_config_size(&c->desc->config, &size) == 0) {
		c->desc->config.regions = rc;
		if (ipcc_config_size(&c->desc->config, &size) == -EINVAL)
			return node_error(c, n, path,
					  "the regions would need more shared memory than the %llu "
					  "GiB limit",
					  (unsigned long long)(IPCC_SYSTEM_SIZE_MAX >> 30));
	}
	c->desc->config.regions = rc;
	return 0;
}

/* In table order: `links` comes after `cpus`, whose names it uses. */
enum {
	KEY_NAME,
	KEY_CPUS,
	KEY_CHANNELS,
	KEY_BUFFER_SIZE,
	KEY_MODE,
	KEY_LINKS,
	KEY_SERVICES,
	KEY_REGIONS
};
static const struct sysdesc_key top_keys[] = {
	[KEY_NAME] = { "name", check_shm_name, false },
	[KEY_CPUS] = { "cpus", check_cpus, true },
	[KEY_CHANNELS] = { "channels", check_channels, false },
	[KEY_BUFFER_SIZE] = { "buffer_size", check_buffer_size, false },
	[KEY_MODE] = { "mode", check_mode, false },
	[KEY_LINKS] = { "links", check_links, false },
	[KEY_SERVICES] = { "services", check_services, false },
	[KEY_REGIONS] = { "regions", check_regions, false },
	{ NULL, NULL, false },
};

/* The whole object within IPCC_SYSTEM_SIZE_MAX, blamed on the biggest factor given. */
static int check_size(struct check *c, const struct sysdesc_node *root,
		      const struct sysdesc_node **found)
{
	static const unsigned blame[] = { KEY_BUFFER_SIZE, KEY_CHANNELS, KEY_LINKS, KEY_CPUS };
	uint64_t size;
	int r = ipcc_config_size(&c->desc->config, &size);

	if (r != -EINVAL)
		return r;
	/* What fits without its vrings is too big because of them: blame the rpmsg block. */
	if (c->rpmsg && c->desc->config.rpmsg) {
		struct ipcc_config without = c->desc->config;
		without.rpmsg = NULL;
		if (ipcc_config_size(&without, &size) == 0) {
			const struct sysdesc_node *n = c->rpmsg_buffer_size ? c->rpmsg_buffer_size
						       : c->rpmsg_buffers   ? c->rpmsg_buffers
									    : c->rpmsg;
			return node_error(c, n,
					  n == c->rpmsg_buffer_size ? "services.rpmsg.buffer_size"
					  : n == c->rpmsg_buffers   ? "services.rpmsg.buffers"
								    : "services.rpmsg",
					  "the RPMessage vrings would need more shared memory than "
					  "the %llu B (%llu GiB) limit",
					  (unsigned long long)IPCC_SYSTEM_SIZE_MAX,
					  (unsigned long long)(IPCC_SYSTEM_SIZE_MAX >> 30));
		}
	}
	for (size_t i = 0; i < sizeof(blame) / sizeof(blame[0]); i++) {
		const struct sysdesc_node *n = found[blame[i]];
		if (n)
			return node_error(
				c, n, top_keys[blame[i]].name,
				"the system would need more shared memory than the %llu B "
				"(%llu GiB) limit",
				(unsigned long long)IPCC_SYSTEM_SIZE_MAX,
				(unsigned long long)(IPCC_SYSTEM_SIZE_MAX >> 30));
	}
	return node_error(c, root, "", "the system would not fit in shared memory");
}

static int check_tree(const struct sysdesc_node *root, struct ipcc_sysdesc *desc,
		      struct ipcc_sysdesc_error *err)
{
	const struct sysdesc_node *found[sizeof(top_keys) / sizeof(top_keys[0])];
	struct check c = { .desc = desc, .err = err };
	int r;

	ipcc_config_init(&desc->config);
	desc->name[0] = '\0';
	if (!root)
		return ipcc_sysdesc_fail(err, 1, 1, "",
					 "empty: a description is a mapping with 'cpus'");
	if (root->kind != SYSDESC_MAPPING)
		return wrong_type(&c, root, "", "a mapping of keys (cpus, links ...)");
	r = check_mapping(&c, root, "", top_keys, found);
	if (r < 0)
		return r;
	/* Every CPU's name is in the config, the defaults too: what the tools show. */
	for (unsigned i = 0; i < desc->config.cpus; i++) {
		char name[IPCC_SHM_CPU_NAME_SIZE];
		cpu_name_of(&desc->config, i, name);
		snprintf(desc->config.cpu_names[i], sizeof(desc->config.cpu_names[i]), "%s", name);
	}
	return check_size(&c, root, found);
}

/* ---- entry points -------------------------------------------------------------------------- */

static int parse_text(const char *text, size_t len, struct ipcc_sysdesc **ret_desc,
		      struct ipcc_sysdesc_error *err)
{
	struct sysdesc_node *root = NULL;
	struct ipcc_sysdesc *desc;
	int r;

	if (len > IPCC_SYSDESC_SIZE_MAX) {
		ipcc_sysdesc_fail(err, 0, 0, "", "larger than %u bytes", IPCC_SYSDESC_SIZE_MAX);
		return -EFBIG;
	}
	desc = malloc(sizeof(*desc));
	r = desc ? ipcc_sysdesc_tree_build(text, len, &root, err) : -ENOMEM;
	if (r == 0)
		r = check_tree(root, desc, err);
	ipcc_sysdesc_tree_free(root);
	if (r < 0) {
		if (r == -ENOMEM)
			ipcc_sysdesc_fail(err, 0, 0, "", "out of memory");
		free(desc);
		return r;
	}
	*ret_desc = desc;
	return 0;
}

IPCC_EXPORT int ipcc_sysdesc_parse(const char *label, const char *text, size_t len,
				   struct ipcc_sysdesc **ret_desc, struct ipcc_sysdesc_error *err)
{
	struct ipcc_sysdesc_error e = { .file = label ? label : "<buffer>" };
	int r;

	if (!ret_desc || (!text && len))
		r = ipcc_sysdesc_fail(&e, 0, 0, "", "invalid arguments");
	else
		r = parse_text(text ? text : "", len, ret_desc, &e);
	if (r < 0 && err)
		*err = e;
	return r;
}

/* The whole file, up to one byte past the limit (so that a larger one is told apart). */
static int read_file(const char *path, char **ret_text, size_t *ret_len)
{
	size_t len = 0, cap = 4096;
	char *text = malloc(cap);
	int fd, r = 0;

	if (!text)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		free(text);
		return -errno;
	}
	for (;;) {
		if (len == cap) {
			char *t = cap > IPCC_SYSDESC_SIZE_MAX ? NULL : realloc(text, 2 * cap);
			if (!t) {
				r = cap > IPCC_SYSDESC_SIZE_MAX ? -EFBIG : -ENOMEM;
				break;
			}
			text = t;
			cap *= 2;
		}
		ssize_t n = read(fd, text + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (r == 0 && len > IPCC_SYSDESC_SIZE_MAX)
		r = -EFBIG;
	if (r < 0) {
		free(text);
		return r;
	}
	*ret_text = text;
	*ret_len = len;
	return 0;
}

IPCC_EXPORT int ipcc_sysdesc_load(const char *path, struct ipcc_sysdesc **ret_desc,
				  struct ipcc_sysdesc_error *err)
{
	struct ipcc_sysdesc_error e = { .file = path ? path : "<null>" };
	char *text = NULL;
	size_t len = 0;
	int r;

	if (!path || !ret_desc) {
		r = ipcc_sysdesc_fail(&e, 0, 0, "", "invalid arguments");
		goto out;
	}
	r = read_file(path, &text, &len);
	if (r == -EFBIG)
		ipcc_sysdesc_fail(&e, 0, 0, "", "larger than %u bytes", IPCC_SYSDESC_SIZE_MAX);
	else if (r < 0)
		ipcc_sysdesc_fail(&e, 0, 0, "", "cannot read: %s", strerror(-r));
	else
		r = parse_text(text, len, ret_desc, &e);
	free(text);
out:
	if (r < 0 && err)
		*err = e;
	return r;
}

IPCC_EXPORT void ipcc_sysdesc_free(struct ipcc_sysdesc *desc)
{
	free(desc);
}

IPCC_EXPORT const struct ipcc_config *ipcc_sysdesc_config(const struct ipcc_sysdesc *desc)
{
	return desc ? &desc->config : NULL;
}

IPCC_EXPORT const char *ipcc_sysdesc_name(const struct ipcc_sysdesc *desc)
{
	return desc && desc->name[0] ? desc->name : NULL;
}
