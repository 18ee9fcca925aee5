/* SPDX-License-Identifier: MIT */
/*
 * ipcc: create, inspect and remove libipcc systems from the shell.
 *
 * The library never prints: this tool turns its negative errnos into one message on stderr that
 * names the object and the cause. Exit status: 0 success, 1 runtime error, 2 usage error.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ipcc/ipcc.h>
#include <ipcc/layout.h> /* info decodes the object itself */
#include <ipcc/notify.h>

#include "ipcc-rpmsg.h"
#include "ipcc-tool.h"
#include "vcd.h"

/* Where glibc keeps POSIX shm objects: `ipcc list` reads the directory. */
#define SHM_DIR "/dev/shm"

static const char usage_text[] =
	"Usage: ipcc COMMAND [ARGS]\n"
	"\n"
	"Create, inspect and remove libipcc systems. NAME is a POSIX shm name such as /demo\n"
	"(the leading '/' may be left out). FILE is a system description (YAML; see the\n"
	"README's \"System description\" section).\n"
	"\n"
	"Commands:\n"
	"  plan FILE [--json]      check a description and print its memory map: every\n"
	"                          section's offset, size, owner, the services' settings and\n"
	"                          the shared memory needed\n"
	"  create NAME [OPTIONS]   create a system (every CPU pair linked by default)\n"
	"      --cpus K            CPUs, 2..64 (default 2)\n"
	"      --channels N        channels per direction on each link, 1..16 (default 6)\n"
	"      --buffer-size B     bytes per channel buffer, 8..1048576 (default 512);\n"
	"                          a K or M suffix multiplies by 1024 or 1048576\n"
	"      --mode OCTAL        permissions of the object, at most 0777 (default 0600)\n"
	"      --unlink A-B[,...]  no IPCC between CPUs A and B (repeatable)\n"
	"      --links A-B[,...]   link only these pairs (repeatable)\n"
	"  create --config FILE [NAME] [--mode OCTAL]\n"
	"                          create the system FILE describes, exactly as 'plan' shows\n"
	"                          it; NAME and --mode override the file's name and mode, the\n"
	"                          other options conflict with --config\n"
	"  info NAME [OPTIONS]     geometry, CPUs (names, owners, wait mode, power), sections,\n"
	"                          Notify queues (fill and counters per ordered pair),\n"
	"                          RPMessage vrings (counters per ordered pair), end points\n"
	"                          and names (per CPU), decoded registers and channel\n"
	"                          owners of every link; opens the object read-only\n"
	"      --link A-B          only the link between CPUs A and B\n"
	"      --json              machine-readable output\n"
	"  list [--all] [--json]   the libipcc objects in " SHM_DIR " (owner, mode, shape,\n"
	"                          CPUs attached), and those it cannot open and why;\n"
	"                          --all also lists other programs' objects\n"
	"  watch NAME [--link A-B] [--interval S] [--count N] [--json]\n"
	"                          a live view of the CPUs, registers, lines, channel owners\n"
	"                          and service counters: redrawn in place on a terminal, one\n"
	"                          timestamped line per change otherwise; writes no register\n"
	"  notify NAME --as CPU [--to CPU:CLIENT VALUE] [--recv CLIENT] [--timeout S] [--json]\n"
	"                          as a free CPU, send one IPC Notify value, and/or wait for one\n"
	"  stat NAME [--link A-B] [--json]\n"
	"                          the counters of every Notify queue and RPMessage vring\n"
	"  rpmsg send|call NAME --as CPU --to CPU:EP|SERVICE [--from EP] PAYLOAD\n"
	"  rpmsg recv|listen NAME --as CPU [--ep EP] [--name SERVICE] [--echo]\n"
	"                          RPMessage packets as a free CPU: send one, send one and wait\n"
	"                          for the reply, wait for one, print them until Ctrl-C\n"
	"  trace NAME -o FILE.vcd [--seconds S]\n"
	"                          record every register write of every link until S seconds\n"
	"                          passed or Ctrl-C, and write the flags, masks, enables and\n"
	"                          interrupt lines as a Value Change Dump (GTKWave); switches\n"
	"                          the system's trace on meanwhile, so it needs write access\n"
	"                          and a system created with a trace (services: trace:)\n"
	"      -o, --output FILE   the VCD file to write ('-': stdout)\n"
	"      --seconds S         stop after S seconds (a decimal number; default: Ctrl-C)\n"
	"  log NAME [OPTIONS]      print the shared-memory log of every CPU, merged in time\n"
	"                          order, as '[cpu] seconds.micros : text' (services: log:);\n"
	"                          opens the object read-only (--follow: read-write if it may,\n"
	"                          to be rung by the writers)\n"
	"      --follow            keep printing new lines, like tail -f, until Ctrl-C\n"
	"      --cpu CPU           only this CPU's lines (a name or id; repeatable)\n"
	"      --json              one JSON document (--follow: one JSON object per line)\n"
	"  rm NAME [-f]            remove the name (processes that have it open keep it)\n"
	"      -f, --force         no error if missing; remove even a foreign object\n"
	"  help                    this text\n"
	"  COMMAND --help          watch, notify, stat, rpmsg, list: that command in full\n"
	"  --version               the versions of ipcc and of the libipcc it runs with\n"
	"\n"
	"Exit status: 0 success, 1 runtime error, 2 usage error.\n";

void usage(FILE *f)
{
	fputs(usage_text, f);
}

/* A usage error: one line naming the problem, a pointer to the help, exit status 2. */
int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ipcc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'ipcc help' for more information.\n", stderr);
	return EXIT_USAGE;
}

/* ---- untrusted strings in text output ----------------------------------------------------- */

/*
 * Length of the valid UTF-8 sequence at s (RFC 3629: shortest form, no surrogates, at most
 * U+10FFFF), 0 if the bytes there are not one. Reads no further than a NUL.
 */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		lo = s[0] == 0xe0 ? 0xa0 : lo; /* no overlong form */
		hi = s[0] == 0xed ? 0x9f : hi; /* no surrogate */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		lo = s[0] == 0xf0 ? 0x90 : lo; /* no overlong form */
		hi = s[0] == 0xf4 ? 0x8f : hi; /* nothing above U+10FFFF */
	} else {
		return 0;
	}
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/*
 * Text output of a string we did not write: object names (any byte but '/' and NUL, and any
 * user may create one in /dev/shm), CPU names and everything else read from an object any
 * participant may rewrite, file names. Printed raw, "\e]0;...\a\e[2J" would retitle and clear
 * the user's terminal. Printable ASCII and valid UTF-8 stay as they are; every other byte
 * (controls, DEL, the C1 controls U+0080..U+009F, invalid UTF-8) becomes \xNN, and a
 * backslash \\, so that the text stays unambiguous. Cut with "..." if buf is too small.
 */
const char *esc(const char *s, char *buf, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	while (*p) {
		size_t n = utf8_seq(p), len = n;
		char unit[8];

		if (*p == '\\') {
			len = (size_t)snprintf(unit, sizeof(unit), "\\\\");
		} else if (n == 1 ? *p >= 0x20 && *p < 0x7f
				  : n > 1 && !(p[0] == 0xc2 && p[1] < 0xa0)) {
			memcpy(unit, p, n);
		} else {
			len = (size_t)snprintf(unit, sizeof(unit), "\\x%02x", *p);
			n = 1;
		}
		if (o + len + sizeof("...") > size) {
			memcpy(buf + o, "...", sizeof("..."));
			return buf;
		}
		memcpy(buf + o, unit, len);
		o += len;
		p += n;
	}
	buf[o] = '\0';
	return buf;
}

/* ---- argument parsing ---------------------------------------------------------------------- */

/*
 * Strict unsigned parse of all of `s`: digits only (no sign, no blanks, no trailing garbage).
 * strtoul alone would accept " -1" as ULONG_MAX.
 */
int parse_ulong(const char *s, int base, unsigned long *ret)
{
	unsigned long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* A decimal number of bytes with an optional binary suffix: K, KiB, M, MiB (any case). */
static int parse_size(const char *s, unsigned long *ret)
{
	static const struct {
		const char *suffix;
		unsigned shift;
	} units[] = { { "", 0 }, { "k", 10 }, { "kib", 10 }, { "m", 20 }, { "mib", 20 } };
	unsigned long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].suffix))
			continue;
		if (v > (~0ul >> units[i].shift))
			return -EINVAL;
		*ret = v << units[i].shift;
		return 0;
	}
	return -EINVAL;
}

/* A number option within [min, max]; prints the usage error itself. */
static int parse_option_range(const char *opt, const char *arg, unsigned long min,
			      unsigned long max, unsigned long *ret)
{
	unsigned long v;

	if (parse_ulong(arg, 10, &v) < 0 || v < min || v > max)
		return usage_error("invalid value '%s' for %s: expected a decimal number %lu..%lu",
				   arg, opt, min, max);
	*ret = v;
	return 0;
}

/* One CPU pair "A-B", both ids below IPCC_CPUS_MAX and different; returns a < b. */
int parse_pair(const char *opt, const char *arg, unsigned *ret_a, unsigned *ret_b)
{
	char buf[32], *dash;
	unsigned long a, b;

	if (strlen(arg) >= sizeof(buf))
		goto bad;
	strcpy(buf, arg);
	dash = strchr(buf, '-');
	if (!dash)
		goto bad;
	*dash = '\0';
	if (parse_ulong(buf, 10, &a) < 0 || parse_ulong(dash + 1, 10, &b) < 0)
		goto bad;
	if (a >= IPCC_CPUS_MAX || b >= IPCC_CPUS_MAX || a == b)
		return usage_error("invalid pair '%s' for %s: two different CPU ids below %u", arg,
				   opt, IPCC_CPUS_MAX);
	*ret_a = (unsigned)(a < b ? a : b);
	*ret_b = (unsigned)(a < b ? b : a);
	return 0;
bad:
	return usage_error("invalid value '%s' for %s: expected a CPU pair like 0-1", arg, opt);
}

/*
 * A list of CPU pairs "A-B[,C-D...]" into map (bit b of map[a], a < b). Ids are checked
 * against the CPU count later, once --cpus is known.
 */
static int parse_pairs(const char *opt, const char *arg, uint64_t map[IPCC_CPUS_MAX])
{
	const char *p = arg;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char tok[32];
		unsigned a, b;
		int r;

		if (len == 0 || len >= sizeof(tok))
			return usage_error("invalid value '%s' for %s: expected CPU pairs like "
					   "0-1,2-3",
					   arg, opt);
		memcpy(tok, p, len);
		tok[len] = '\0';
		r = parse_pair(opt, tok, &a, &b);
		if (r)
			return r;
		map[a] |= 1ull << b;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* The first pair of map that uses a CPU at or above cpus; false if there is none. */
static bool pairs_beyond(const uint64_t map[IPCC_CPUS_MAX], unsigned cpus, unsigned *ret_a,
			 unsigned *ret_b)
{
	for (unsigned a = 0; a < IPCC_CPUS_MAX; a++) {
		for (unsigned b = a + 1; b < IPCC_CPUS_MAX; b++) {
			if (((map[a] >> b) & 1u) && b >= cpus) {
				*ret_a = a;
				*ret_b = b;
				return true;
			}
		}
	}
	return false;
}

/*
 * NAME with or without its leading '/', into buf (IPCC_NAME_MAX + 2 bytes). The checks mirror
 * the library's, so that a bad name gets a reason instead of a bare -EINVAL.
 */
int name_normalize(const char *arg, char *buf, size_t size)
{
	const char *base = arg[0] == '/' ? arg + 1 : arg;

	if (!*base)
		return usage_error("invalid name '%s': empty", arg);
	if (strchr(base, '/'))
		return usage_error("invalid name '%s': no '/' allowed after the leading one",
				   ESC(arg));
	if (strlen(base) > IPCC_NAME_MAX)
		return usage_error("invalid name '%.20s...': longer than %u bytes", ESC(arg),
				   IPCC_NAME_MAX);
	if (!strcmp(base, ".") || !strcmp(base, ".."))
		return usage_error("invalid name '%s'", arg);
	snprintf(buf, size, "/%s", base);
	return 0;
}

/* The one NAME operand left after the options of subcommand `cmd`, normalised into buf. */
int name_operand(const char *cmd, int argc, char **argv, char *buf, size_t size)
{
	if (optind >= argc)
		return usage_error("%s: missing NAME", cmd);
	if (optind != argc - 1)
		return usage_error("%s: exactly one NAME expected", cmd);
	return name_normalize(argv[optind], buf, size);
}

/*
 * The options of a subcommand that has only --json and --help. Returns -1 to go on, else the
 * exit status for the subcommand to return at once (0 after --help, 2 for a usage error).
 */
static int json_option(const char *cmd, int argc, char **argv, bool *ret_json)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		const char *opt = optind > 0 ? argv[optind - 1] : "";
		switch (c) {
		case 'j':
			*ret_json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return usage_error("%s: unknown option '%s'", cmd, opt);
		}
	}
	return -1;
}

/* ---- error messages ------------------------------------------------------------------------ */

/*
 * What a name in SHM_DIR is when it is not a regular file, as a message ("is a directory");
 * NULL for a regular file or a name that cannot be looked at. lstat opens nothing, so a FIFO
 * cannot block it and a device cannot notice it.
 */
static const char *file_kind(const char *name)
{
	char path[sizeof(SHM_DIR) + IPCC_NAME_MAX + 2];
	struct stat st;

	snprintf(path, sizeof(path), SHM_DIR "%s", name);
	if (lstat(path, &st) < 0 || S_ISREG(st.st_mode))
		return NULL;
	if (S_ISDIR(st.st_mode))
		return "is a directory";
	if (S_ISFIFO(st.st_mode))
		return "is a FIFO, not a libipcc object";
	if (S_ISSOCK(st.st_mode))
		return "is a socket, not a libipcc object";
	if (S_ISLNK(st.st_mode))
		return "is a symbolic link, not a libipcc object";
	return "is a device, not a libipcc object";
}

/*
 * Read the first `size` bytes of object `name` into buf, bypassing the library: only to explain
 * its errors and to tell foreign objects from ours. Returns the bytes read or a negative errno:
 * -EISDIR for a directory, -EPROTO for anything else that is not a regular file. O_NONBLOCK
 * because anyone may put a FIFO in SHM_DIR, and opening one would block for ever.
 */
static ssize_t peek(const char *name, void *buf, size_t size)
{
	struct stat st;
	ssize_t n;
	int fd = shm_open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		n = -errno;
	else if (!S_ISREG(st.st_mode))
		n = S_ISDIR(st.st_mode) ? -EISDIR : -EPROTO;
	else if ((n = pread(fd, buf, size, 0)) < 0)
		n = -errno;
	close(fd);
	return n;
}

/* 0 if object `name` starts with the libipcc magic or is too short to tell, else -EPROTO. */
static int peek_magic(const char *name)
{
	uint64_t magic;
	ssize_t n = peek(name, &magic, sizeof(magic));

	if (n < 0)
		return (int)n;
	return n < (ssize_t)sizeof(magic) || magic == IPCC_LAYOUT_MAGIC ? 0 : -EPROTO;
}

/* The layout version stored in an object's header; 0 if it cannot be read. */
static uint32_t peek_layout_version(const char *name)
{
	struct ipcc_shm_header h;

	return peek(name, &h, sizeof(h)) == (ssize_t)sizeof(h) ? h.layout_version : 0;
}

/*
 * The cause behind a negative errno from ipcc_system_open/create/unlink or peek for `name`, as
 * the end of a one-line message (no newline), in buf unless it is a constant.
 */
const char *cause(const char *name, int err, char *buf, size_t size)
{
	const char *kind = err == -EEXIST || err == -ENOENT ? NULL : file_kind(name);
	uint32_t v;

	/* Whatever the library tripped on, a name that is no regular file says it best. */
	if (kind)
		return kind;
	switch (-err) {
	case EEXIST:
		snprintf(buf, size, "it already exists (remove it with 'ipcc rm %s')", ESC(name));
		return buf;
	case ENOENT:
		return "no such object";
	case EAGAIN:
		snprintf(buf, size,
			 "it is still being created (retry; if its creator died, remove it with "
			 "'ipcc rm %s')",
			 ESC(name));
		return buf;
	case EPROTO:
		return "not a libipcc object (no libipcc magic in its header)";
	case EPROTONOSUPPORT:
		v = peek_layout_version(name);
		if (v)
			snprintf(buf, size,
				 "created by an incompatible libipcc layout version (object "
				 "v%" PRIu32 ", this ipcc v%u)",
				 v, IPCC_LAYOUT_VERSION);
		else
			snprintf(
				buf, size,
				"created by an incompatible libipcc layout version (this ipcc v%u)",
				IPCC_LAYOUT_VERSION);
		return buf;
	case EBADMSG:
		return "truncated (smaller than its header or than its geometry needs)";
	case EUCLEAN:
		return "corrupt header (geometry outside the limits or inconsistent)";
	case EISDIR:
		return "is a directory";
	case EINVAL:
		return "invalid name or configuration";
	case EACCES:
	case EPERM:
		return "permission denied";
	default:
		return ipcc_strerror(err);
	}
}

/* Room for what cause() writes: an escaped name and a sentence. */
#define CAUSE_SIZE (ESC_SIZE + 128)

int fail(const char *verb, const char *name, int err)
{
	char buf[CAUSE_SIZE];

	fprintf(stderr, "ipcc: cannot %s %s: %s\n", verb, ESC(name),
		cause(name, err, buf, sizeof(buf)));
	return EXIT_RUNTIME;
}

/* ---- output helpers ------------------------------------------------------------------------ */

/* "417792 B (408.0 KiB)" */
const char *format_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	unsigned u = 0;

	if (bytes < 1024) {
		snprintf(buf, size, "%" PRIu64 " B", bytes);
		return buf;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%" PRIu64 " B (%.1f %s)", bytes, v, unit[u]);
	return buf;
}

/*
 * A JSON string for s (NULL: JSON null). jansson takes UTF-8 only, while a name may hold any
 * byte: each byte of an invalid sequence becomes U+FFFD. NULL only when out of memory.
 */
json_t *jstr(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	json_t *j;
	char *fixed, *o;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	o = fixed = malloc(3 * strlen(s) + 1);
	if (!fixed)
		return NULL;
	while (*p) {
		size_t n = utf8_seq(p);
		if (n) {
			memcpy(o, p, n);
			o += n;
			p += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		}
	}
	*o = '\0';
	j = json_string(fixed);
	free(fixed);
	return j;
}

/* Print a JSON document and free it; a NULL one is an allocation that failed while building. */
int json_print(json_t *doc, const char *what)
{
	int r = doc ? json_dumpf(doc, stdout, JSON_INDENT(2)) : -1;

	json_decref(doc);
	if (r < 0 || putchar('\n') == EOF || fflush(stdout) == EOF) {
		fprintf(stderr, "ipcc: cannot print %s as JSON: out of memory or write error\n",
			ESC(what));
		return EXIT_RUNTIME;
	}
	return 0;
}

/* A memory map, as ipcc_config_plan or ipcc_system_sections gives it, with CPU names. */
struct memory_map {
	struct ipcc_section_info *sections;
	unsigned count;
	unsigned cpus;
	const char *cpu_names[IPCC_CPUS_MAX];
};

static const char *section_owner(const struct memory_map *m, const struct ipcc_section_info *s)
{
	if (s->owner_cpu < 0)
		return NULL;
	return (unsigned)s->owner_cpu < m->cpus ? m->cpu_names[s->owner_cpu] : "?";
}

static void print_text_sections(const struct memory_map *m)
{
	printf("\n  %-10s  %10s  %6s  %8s  %-10s  %-8s  %s\n", "OFFSET", "SIZE", "COUNT", "STRIDE",
	       "SECTION", "LAYER", "OWNER");
	for (unsigned i = 0; i < m->count; i++) {
		const struct ipcc_section_info *s = &m->sections[i];
		const char *owner = section_owner(m, s);
		printf("  0x%08" PRIx64 "  %10" PRIu64 "  %6" PRIu32 "  %8" PRIu32
		       "  %-10s  %-8s  %s\n",
		       s->offset, s->size, s->count, s->stride, s->name, s->layer,
		       owner ? owner : "-");
	}
}

/*
 * Append e (a new reference; NULL if building it failed) to array *a. On failure *a is freed
 * and set to NULL, so that the document taking it fails as a whole instead of missing a part.
 */
void append(json_t **a, json_t *e)
{
	if (json_array_append_new(*a, e) < 0) {
		json_decref(*a);
		*a = NULL;
	}
}

/* The "sections" array of info and plan; NULL when out of memory. */
static json_t *json_sections(const struct memory_map *m)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < m->count; i++) {
		const struct ipcc_section_info *s = &m->sections[i];
		json_t *e = json_pack("{s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:o}", "type",
				      (json_int_t)s->type, "name", jstr(s->name), "layer",
				      jstr(s->layer), "offset", (json_int_t)s->offset, "size",
				      (json_int_t)s->size, "count", (json_int_t)s->count, "stride",
				      (json_int_t)s->stride, "owner", jstr(section_owner(m, s)));
		append(&a, e);
	}
	return a;
}

static void memory_map_free(struct memory_map *m)
{
	free(m->sections);
	m->sections = NULL;
}

/* Room for every section that `count` (a first call with no room) says there are. */
static int memory_map_alloc(struct memory_map *m, int count)
{
	if (count < 0)
		return count;
	m->sections = calloc(count ? (size_t)count : 1, sizeof(*m->sections));
	if (!m->sections)
		return -ENOMEM;
	m->count = (unsigned)count;
	return 0;
}

/* The map an object created with cfg would have (cfg's names must all be set). */
static int memory_map_plan(const struct ipcc_config *cfg, struct memory_map *ret)
{
	struct memory_map m = { .cpus = cfg->cpus };
	int r = memory_map_alloc(&m, ipcc_config_plan(cfg, NULL, 0));

	if (r == 0)
		r = ipcc_config_plan(cfg, m.sections, m.count);
	if (r < 0) {
		memory_map_free(&m);
		return r;
	}
	for (unsigned i = 0; i < cfg->cpus; i++)
		m.cpu_names[i] = cfg->cpu_names[i];
	*ret = m;
	return 0;
}

static int memory_map_system(const struct ipcc_system *sys, struct memory_map *ret)
{
	struct memory_map m = { .cpus = ipcc_system_cpus(sys) };
	int r = memory_map_alloc(&m, ipcc_system_sections(sys, NULL, 0));

	if (r == 0)
		r = ipcc_system_sections(sys, m.sections, m.count);
	if (r < 0) {
		memory_map_free(&m);
		return r;
	}
	for (unsigned i = 0; i < m.cpus; i++)
		m.cpu_names[i] = ipcc_system_cpu_name(sys, i);
	*ret = m;
	return 0;
}

/* ---- system descriptions ------------------------------------------------------------------- */

/* Load description `path`; on failure print its one-line error (file:line:column: key: ...). */
static int load_description(const char *path, struct ipcc_sysdesc **ret)
{
	struct ipcc_sysdesc_error err;
	char line[512];
	int r = ipcc_sysdesc_load(path, ret, &err);

	if (r == 0)
		return 0;
	ipcc_sysdesc_error_format(&err, line, sizeof(line));
	fprintf(stderr, "ipcc: %s\n", ESC(line));
	return EXIT_RUNTIME;
}

static unsigned config_link_count(const struct ipcc_config *cfg)
{
	unsigned n = 0;

	for (unsigned a = 0; a < cfg->cpus; a++)
		for (unsigned b = a + 1; b < cfg->cpus; b++)
			n += (cfg->links[a] >> b) & 1u;
	return n;
}

/* Whether a config's pair a < b has Notify: a link whose Notify bit is set. */
static bool config_notify_pair(const struct ipcc_config *cfg, unsigned a, unsigned b)
{
	return cfg->notify && ((cfg->links[a] >> b) & 1u) && ((cfg->notify->pairs[a] >> b) & 1u);
}

/* The channel Notify reserves on each link: the configured one, or the last. */
static unsigned config_notify_channel(const struct ipcc_config *cfg)
{
	return cfg->notify->channel == IPCC_NOTIFY_CHANNEL_LAST ? cfg->channels - 1
								: cfg->notify->channel;
}

static void print_text_plan(const char *file, const struct ipcc_sysdesc *desc,
			    const struct memory_map *m, uint64_t size)
{
	const struct ipcc_config *cfg = ipcc_sysdesc_config(desc);
	const char *name = ipcc_sysdesc_name(desc);
	char sz[64];

	printf("%s: %s%s%u CPUs, %u channels per direction, %" PRIu32 " B buffers, mode %04o\n",
	       ESC(file), name ? ESC(name) : "", name ? ", " : "", cfg->cpus, cfg->channels,
	       cfg->buffer_size, (unsigned)cfg->mode);
	fputs("  CPUs:", stdout);
	for (unsigned i = 0; i < cfg->cpus; i++)
		printf("%s %u %s", i ? "," : "", i, ESC(cfg->cpu_names[i]));
	fputs("\n  links:", stdout);
	for (unsigned a = 0, n = 0; a < cfg->cpus; a++)
		for (unsigned b = a + 1; b < cfg->cpus; b++)
			if ((cfg->links[a] >> b) & 1u)
				printf("%s %s - %s", n++ ? "," : "", ESC(cfg->cpu_names[a]),
				       ESC(cfg->cpu_names[b]));
	putchar('\n');
	if (cfg->notify) {
		unsigned pairs = 0;
		for (unsigned a = 0; a < cfg->cpus; a++)
			for (unsigned b = a + 1; b < cfg->cpus; b++)
				pairs += config_notify_pair(cfg, a, b);
		printf("  notify: depth %" PRIu32 ", channel %u, %s", cfg->notify->depth,
		       config_notify_channel(cfg),
		       pairs == config_link_count(cfg) ? "every link" : "links:");
		for (unsigned a = 0, n = 0; a < cfg->cpus && pairs != config_link_count(cfg); a++)
			for (unsigned b = a + 1; b < cfg->cpus; b++)
				if (config_notify_pair(cfg, a, b))
					printf("%s %s - %s", n++ ? "," : "", ESC(cfg->cpu_names[a]),
					       ESC(cfg->cpu_names[b]));
		putchar('\n');
	}
	if (cfg->trace)
		printf("  trace: %" PRIu32 " KiB rings of %" PRIu32 " records, %s at the start\n",
		       cfg->trace->ring_size >> 10,
		       cfg->trace->ring_size / IPCC_SHM_TRACE_RECORD_SIZE,
		       cfg->trace->enabled ? "on" : "off");
	rpmsg_plan_print(cfg, m->sections, m->count);
	log_print_plan(cfg);
	print_text_sections(m);
	printf("\nshared memory needed: %s\n", format_size(size, sz, sizeof(sz)));
}

static json_t *json_plan(const char *file, const struct ipcc_sysdesc *desc,
			 const struct memory_map *m, uint64_t size)
{
	const struct ipcc_config *cfg = ipcc_sysdesc_config(desc);
	json_t *cpus = json_array(), *links = json_array(), *notify = json_null();
	char mode[16];

	for (unsigned i = 0; i < cfg->cpus; i++)
		append(&cpus,
		       json_pack("{s:i, s:o}", "id", (int)i, "name", jstr(cfg->cpu_names[i])));
	for (unsigned a = 0; a < cfg->cpus; a++)
		for (unsigned b = a + 1; b < cfg->cpus; b++)
			if ((cfg->links[a] >> b) & 1u)
				append(&links,
				       json_pack("{s:i, s:i}", "cpu1", (int)a, "cpu2", (int)b));
	snprintf(mode, sizeof(mode), "%04o", (unsigned)cfg->mode);
	if (cfg->notify) {
		json_t *pairs = json_array();
		for (unsigned a = 0; a < cfg->cpus; a++)
			for (unsigned b = a + 1; b < cfg->cpus; b++)
				if (config_notify_pair(cfg, a, b))
					append(&pairs, json_pack("{s:i, s:i}", "cpu1", (int)a,
								 "cpu2", (int)b));
		notify = json_pack("{s:I, s:i, s:o}", "depth", (json_int_t)cfg->notify->depth,
				   "channel", (int)config_notify_channel(cfg), "links", pairs);
	}
	json_t *trace =
		cfg->trace ? json_pack("{s:I, s:b}", "ring_size", (json_int_t)cfg->trace->ring_size,
				       "enabled", cfg->trace->enabled)
			   : json_null();
	return log_json_plan(
		json_pack("{s:o, s:o, s:o, s:i, s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:I}", "file",
			  jstr(file), "name", jstr(ipcc_sysdesc_name(desc)), "cpus", cpus,
			  "channels", (int)cfg->channels, "buffer_size",
			  (json_int_t)cfg->buffer_size, "mode", mode, "links", links, "notify",
			  notify, "trace", trace, "rpmsg",
			  rpmsg_plan_json(cfg, m->sections, m->count), "sections", json_sections(m),
			  "size", (json_int_t)size),
		cfg);
}

static int cmd_plan(int argc, char **argv)
{
	struct ipcc_sysdesc *desc;
	struct memory_map m;
	bool json = false;
	uint64_t size;
	int r;

	r = json_option("plan", argc, argv, &json);
	if (r >= 0)
		return r;
	if (optind >= argc)
		return usage_error("plan: missing FILE");
	if (optind != argc - 1)
		return usage_error("plan: exactly one FILE expected");
	r = load_description(argv[optind], &desc);
	if (r)
		return r;
	/* The description was checked against every limit: these cannot fail but for memory. */
	r = ipcc_config_size(ipcc_sysdesc_config(desc), &size);
	if (r == 0)
		r = memory_map_plan(ipcc_sysdesc_config(desc), &m);
	if (r < 0) {
		fprintf(stderr, "ipcc: cannot plan %s: %s\n", ESC(argv[optind]), strerror(-r));
		ipcc_sysdesc_free(desc);
		return EXIT_RUNTIME;
	}
	if (json)
		r = json_print(json_plan(argv[optind], desc, &m, size), argv[optind]);
	else
		print_text_plan(argv[optind], desc, &m, size);
	memory_map_free(&m);
	ipcc_sysdesc_free(desc);
	return r;
}

/* ---- create -------------------------------------------------------------------------------- */

/* Create `name` for a config the tool has checked; print what was created. */
static int create_system(const char *name, const struct ipcc_config *cfg)
{
	struct ipcc_system *sys;
	char sz[64], lim[64];
	uint64_t size;
	int r = ipcc_config_size(cfg, &size);

	if (r == -EINVAL) {
		/* Everything the tool can check was checked: what is left is the size limit. */
		fprintf(stderr,
			"ipcc: cannot create %s: invalid configuration: the object would be above "
			"the %s limit\n",
			ESC(name), format_size(IPCC_SYSTEM_SIZE_MAX, lim, sizeof(lim)));
		return EXIT_RUNTIME;
	}
	if (r == 0)
		r = ipcc_system_create(name, cfg, &sys);
	if (r < 0)
		return fail("create", name, r);
	printf("created %s: %u CPUs, %u channels, %" PRIu32 " B buffers, %u link%s, %s\n",
	       ESC(name), ipcc_system_cpus(sys), ipcc_system_channels(sys),
	       ipcc_system_buffer_size(sys), ipcc_system_link_count(sys),
	       ipcc_system_link_count(sys) == 1 ? "" : "s",
	       format_size(ipcc_system_size(sys), sz, sizeof(sz)));
	ipcc_system_close(sys);
	return 0;
}

/*
 * create --config FILE [NAME]: the file describes the system; NAME (else the file's `name`)
 * and --mode (else the file's `mode`) say where it goes and who may use it.
 */
static int create_from_file(const char *file, int argc, char **argv, bool mode_set, mode_t mode)
{
	struct ipcc_sysdesc *desc;
	struct ipcc_config cfg;
	char name[IPCC_NAME_MAX + 2];
	int r;

	if (optind < argc) {
		r = name_operand("create", argc, argv, name, sizeof(name));
		if (r)
			return r;
	}
	r = load_description(file, &desc);
	if (r)
		return r;
	if (optind >= argc) {
		if (!ipcc_sysdesc_name(desc)) {
			ipcc_sysdesc_free(desc);
			return usage_error("create: missing NAME (%s has no 'name')", ESC(file));
		}
		snprintf(name, sizeof(name), "%s", ipcc_sysdesc_name(desc));
	}
	/* The copy's service configs (cfg.notify, cfg.trace) live in desc: free it after the
	 * create. */
	cfg = *ipcc_sysdesc_config(desc);
	if (mode_set)
		cfg.mode = mode;
	r = create_system(name, &cfg);
	ipcc_sysdesc_free(desc);
	return r;
}

static int cmd_create(int argc, char **argv)
{
	enum {
		OPT_CPUS = 256,
		OPT_CHANNELS,
		OPT_BUFFER_SIZE,
		OPT_MODE,
		OPT_UNLINK,
		OPT_LINKS,
		OPT_CONFIG
	};
	static const struct option longopts[] = {
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "channels", required_argument, NULL, OPT_CHANNELS },
		{ "buffer-size", required_argument, NULL, OPT_BUFFER_SIZE },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "unlink", required_argument, NULL, OPT_UNLINK },
		{ "links", required_argument, NULL, OPT_LINKS },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t unlink_map[IPCC_CPUS_MAX] = { 0 }, only_map[IPCC_CPUS_MAX] = { 0 };
	struct ipcc_config cfg;
	char name[IPCC_NAME_MAX + 2];
	const char *config = NULL, *shape_opt = NULL;
	bool only = false, mode_set = false;
	unsigned long v;
	unsigned a, b;
	int c, r;

	ipcc_config_init(&cfg);
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		const char *opt = optind > 0 ? argv[optind - 1] : "";
		/* The options that shape the system, which a description file gives instead
		 * (longopts lists them in the order of the enum). */
		if (c >= OPT_CPUS && c <= OPT_LINKS && c != OPT_MODE && !shape_opt)
			shape_opt = longopts[c - OPT_CPUS].name;
		switch (c) {
		case OPT_CPUS:
			r = parse_option_range("--cpus", optarg, IPCC_CPUS_MIN, IPCC_CPUS_MAX, &v);
			if (r)
				return r;
			cfg.cpus = (unsigned)v;
			break;
		case OPT_CHANNELS:
			r = parse_option_range("--channels", optarg, IPCC_CHANNELS_MIN,
					       IPCC_CHANNELS_MAX, &v);
			if (r)
				return r;
			cfg.channels = (unsigned)v;
			break;
		case OPT_BUFFER_SIZE:
			if (parse_size(optarg, &v) < 0 || v < IPCC_BUFFER_SIZE_MIN ||
			    v > IPCC_BUFFER_SIZE_MAX)
				return usage_error("invalid value '%s' for --buffer-size: expected "
						   "%u..%u bytes (suffix K or M allowed)",
						   optarg, IPCC_BUFFER_SIZE_MIN,
						   IPCC_BUFFER_SIZE_MAX);
			cfg.buffer_size = (uint32_t)v;
			break;
		case OPT_MODE:
			if (parse_ulong(optarg, 8, &v) < 0 || v > 07777)
				return usage_error("invalid value '%s' for --mode: expected an "
						   "octal mode 0..777",
						   optarg);
			/* The library refuses them too: no use on an object, a risk if shared. */
			if (v > 0777)
				return usage_error("invalid value '%s' for --mode: setuid, setgid "
						   "and sticky bits are refused (at most 0777)",
						   optarg);
			cfg.mode = (mode_t)v;
			mode_set = true;
			break;
		case OPT_UNLINK:
			r = parse_pairs("--unlink", optarg, unlink_map);
			if (r)
				return r;
			break;
		case OPT_LINKS:
			r = parse_pairs("--links", optarg, only_map);
			if (r)
				return r;
			only = true;
			break;
		case OPT_CONFIG:
			config = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return usage_error("option '%s' needs a value", opt);
		default:
			return usage_error("create: unknown option '%s'", opt);
		}
	}
	if (config && shape_opt)
		return usage_error("create: --%s conflicts with --config: the file describes the "
				   "system (only NAME and --mode may override it)",
				   shape_opt);
	if (config)
		return create_from_file(config, argc, argv, mode_set, cfg.mode);
	r = name_operand("create", argc, argv, name, sizeof(name));
	if (r)
		return r;

	if (pairs_beyond(only_map, cfg.cpus, &a, &b))
		return usage_error("--links %u-%u: CPU %u does not exist (%u CPUs)", a, b, b,
				   cfg.cpus);
	if (pairs_beyond(unlink_map, cfg.cpus, &a, &b))
		return usage_error("--unlink %u-%u: CPU %u does not exist (%u CPUs)", a, b, b,
				   cfg.cpus);
	for (a = 0; a < IPCC_CPUS_MAX; a++) {
		if (only)
			cfg.links[a] = only_map[a];
		cfg.links[a] &= ~unlink_map[a];
	}
	if (config_link_count(&cfg) == 0)
		return usage_error(
			"create: no CPU pair left linked: a system needs at least one link");
	return create_system(name, &cfg);
}

/* ---- info ---------------------------------------------------------------------------------- */

int link_snapshot(struct ipcc_system *sys, unsigned a, unsigned b, struct link_snapshot *ret)
{
	static const uint32_t cr_off[2] = { IPCC_C1CR, IPCC_C2CR };
	static const uint32_t mr_off[2] = { IPCC_C1MR, IPCC_C2MR };
	static const uint32_t sr_off[2] = { IPCC_C1TOC2SR, IPCC_C2TOC1SR };
	struct ipcc_regs *regs;
	struct link_snapshot s = { .cpu = { a, b } };
	int r;

	for (unsigned n = 0; n < ipcc_system_channels(sys); n++) {
		r = ipcc_system_channel_owner(sys, a, b, n);
		if (r < 0)
			return r;
		s.owner[n] = (unsigned)r;
	}
	r = ipcc_regs_open(sys, a, b, &regs);
	if (r < 0)
		return r;
	for (unsigned p = 0; p < 2 && r == 0; p++) {
		r = ipcc_regs_read(regs, cr_off[p], &s.cr[p]);
		if (r == 0)
			r = ipcc_regs_read(regs, mr_off[p], &s.mr[p]);
		if (r == 0)
			r = ipcc_regs_read(regs, sr_off[p], &s.sr[p]);
		s.irq[p][IPCC_IRQ_RXO] = ipcc_regs_irq(regs, p + 1, IPCC_IRQ_RXO);
		s.irq[p][IPCC_IRQ_TXF] = ipcc_regs_irq(regs, p + 1, IPCC_IRQ_TXF);
	}
	if (r == 0)
		r = ipcc_regs_read(regs, IPCC_HWCFGR, &s.hwcfgr);
	if (r == 0)
		r = ipcc_regs_read(regs, IPCC_VERR, &s.verr);
	if (r == 0)
		r = ipcc_regs_read(regs, IPCC_IPIDR, &s.ipidr);
	if (r == 0)
		r = ipcc_regs_read(regs, IPCC_SIDR, &s.sidr);
	ipcc_regs_close(regs);
	if (r == 0)
		*ret = s;
	return r;
}

/* Who uses a channel: "procedures", a service's name, or "service N" for one unknown here. */
const char *owner_name(unsigned owner, char *buf, size_t size)
{
	const char *name = ipcc_service_name(owner);

	if (name)
		return name;
	snprintf(buf, size, "service %u", owner);
	return buf;
}

const char *wait_mode_text(uint32_t mode, char *buf, size_t size)
{
	const char *name = ipcc_wait_mode_name((enum ipcc_wait_mode)mode);

	if (name)
		return name;
	snprintf(buf, size, "mode %" PRIu32, mode);
	return buf;
}

const char *power_text(uint32_t power, char *buf, size_t size)
{
	if (power == IPCC_POWER_RUN)
		return "run";
	if (power == IPCC_POWER_STANDBY)
		return "standby";
	snprintf(buf, size, "power %" PRIu32, power);
	return buf;
}

static void print_text_header(struct ipcc_system *sys)
{
	unsigned cpus = ipcc_system_cpus(sys), pairs = cpus * (cpus - 1) / 2;
	char sz[64];

	printf("%s: libipcc system, layout v%u, object %s\n", ESC(ipcc_system_name(sys)),
	       IPCC_LAYOUT_VERSION, format_size(ipcc_system_size(sys), sz, sizeof(sz)));
	printf("  %u CPUs, %u channels per direction, %" PRIu32
	       " B buffers, linked pairs %u of %u\n",
	       cpus, ipcc_system_channels(sys), ipcc_system_buffer_size(sys),
	       ipcc_system_link_count(sys), pairs);
	if (ipcc_system_link_count(sys) != pairs) {
		unsigned shown = 0;
		fputs("  unlinked:", stdout);
		for (unsigned a = 0; a < cpus; a++) {
			for (unsigned b = a + 1; b < cpus; b++) {
				if (ipcc_system_linked(sys, a, b))
					continue;
				if (shown++ < 32)
					printf(" %u-%u", a, b);
			}
		}
		if (shown > 32)
			printf(" ... (%u pairs)", shown);
		putchar('\n');
	}
}

/* Wait mode and power mean something only while an owner is attached. */
static void print_text_cpus(const struct cpu_snapshot *cs, unsigned cpus)
{
	printf("\n  CPU  NAME             ATTACHED  ALIVE  PID       TID       GENERATION  WAIT    "
	       "  "
	       "POWER\n");
	for (unsigned i = 0; i < cpus; i++) {
		const struct ipcc_cpu_owner *o = &cs[i].own;
		char pid[16] = "-", tid[16] = "-", wbuf[24], pbuf[24];
		if (o->pid > 0)
			snprintf(pid, sizeof(pid), "%d", (int)o->pid);
		if (o->tid > 0)
			snprintf(tid, sizeof(tid), "%d", (int)o->tid);
		printf("  %3u  %-15s  %-8s  %-5s  %-8s  %-8s  %-10" PRIu32 "  %-8s  %s\n", i,
		       ESC(cs[i].name), o->attached ? "yes" : "no",
		       o->attached ? (o->alive ? "yes" : "no") : "-", pid, tid, o->generation,
		       o->attached ? wait_mode_text(cs[i].state.wait_mode, wbuf, sizeof(wbuf))
				   : "-",
		       o->attached ? power_text(cs[i].state.power, pbuf, sizeof(pbuf)) : "-");
	}
}

static void print_bits_row(const char *label, uint32_t word, unsigned shift, unsigned channels)
{
	printf("  %-15s", label);
	for (unsigned n = 0; n < channels; n++)
		printf(" %2s", (word >> (shift + n)) & 1u ? "1" : ".");
	putchar('\n');
}

static void print_text_owners(const struct link_snapshot *s, unsigned channels)
{
	char buf[24];
	unsigned n = 1;

	while (n < channels && s->owner[n] == s->owner[0])
		n++;
	if (n == channels) {
		printf("  owner: every channel: %s\n", owner_name(s->owner[0], buf, sizeof(buf)));
		return;
	}
	fputs("  owner:", stdout);
	for (n = 0; n < channels; n++)
		printf("%s %u %s", n ? "," : "", n, owner_name(s->owner[n], buf, sizeof(buf)));
	putchar('\n');
}

static void print_text_link(struct ipcc_system *sys, const struct link_snapshot *s,
			    unsigned channels)
{
	printf("\nlink %u-%u: processor 1 = CPU %u (%s), processor 2 = CPU %u (%s)\n", s->cpu[0],
	       s->cpu[1], s->cpu[0], ESC(ipcc_system_cpu_name(sys, s->cpu[0])), s->cpu[1],
	       ESC(ipcc_system_cpu_name(sys, s->cpu[1])));
	for (unsigned p = 0; p < 2; p++)
		printf("  C%uCR 0x%08" PRIx32 "  RXOIE %u  TXFIE %u   C%uMR 0x%08" PRIx32
		       "   lines: RXO %-4s  TXF %s\n",
		       p + 1, s->cr[p], !!(s->cr[p] & IPCC_CR_RXOIE), !!(s->cr[p] & IPCC_CR_TXFIE),
		       p + 1, s->mr[p], s->irq[p][IPCC_IRQ_RXO] ? "HIGH" : "low",
		       s->irq[p][IPCC_IRQ_TXF] ? "HIGH" : "low");
	printf("  C1TOC2SR 0x%08" PRIx32 "   C2TOC1SR 0x%08" PRIx32 "\n", s->sr[0], s->sr[1]);
	printf("  HWCFGR 0x%08" PRIx32 " (%" PRIu32 " channels)  VERR 0x%08" PRIx32 " (rev %" PRIu32
	       ".%" PRIu32 ")  IPIDR 0x%08" PRIx32 "  SIDR 0x%08" PRIx32 "\n",
	       s->hwcfgr, s->hwcfgr & IPCC_HWCFGR_CHANNELS_MASK, s->verr,
	       (s->verr & IPCC_VERR_MAJREV_MASK) >> IPCC_VERR_MAJREV_SHIFT,
	       s->verr & IPCC_VERR_MINREV_MASK, s->ipidr, s->sidr);
	print_text_owners(s, channels);
	printf("  %-15s", "channel");
	for (unsigned n = 0; n < channels; n++)
		printf(" %2u", n);
	putchar('\n');
	print_bits_row("C1TOC2SR CHnF", s->sr[0], 0, channels);
	print_bits_row("C2TOC1SR CHnF", s->sr[1], 0, channels);
	print_bits_row("C1MR CHnOM", s->mr[0], 0, channels);
	print_bits_row("C1MR CHnFM", s->mr[0], 16, channels);
	print_bits_row("C2MR CHnOM", s->mr[1], 0, channels);
	print_bits_row("C2MR CHnFM", s->mr[1], 16, channels);
}

/* One processor's interrupt enables and lines: "proc1" or "proc2" of a link. */
static json_t *json_proc(const struct link_snapshot *s, unsigned p)
{
	return json_pack("{s:b, s:b, s:b, s:b}", "RXOIE", (s->cr[p] & IPCC_CR_RXOIE) != 0, "TXFIE",
			 (s->cr[p] & IPCC_CR_TXFIE) != 0, "RXO", s->irq[p][IPCC_IRQ_RXO], "TXF",
			 s->irq[p][IPCC_IRQ_TXF]);
}

static json_t *json_link(const struct link_snapshot *s, unsigned channels)
{
	json_t *chans = json_array();
	char buf[24];

	for (unsigned n = 0; n < channels; n++)
		append(&chans,
		       json_pack("{s:i, s:b, s:b, s:b, s:b, s:b, s:b, s:i, s:o}", "n", (int)n,
				 "C1TOC2SR", (s->sr[0] & IPCC_SR_CHF(n)) != 0, "C2TOC1SR",
				 (s->sr[1] & IPCC_SR_CHF(n)) != 0, "C1OM",
				 (s->mr[0] & IPCC_MR_CHOM(n)) != 0, "C1FM",
				 (s->mr[0] & IPCC_MR_CHFM(n)) != 0, "C2OM",
				 (s->mr[1] & IPCC_MR_CHOM(n)) != 0, "C2FM",
				 (s->mr[1] & IPCC_MR_CHFM(n)) != 0, "owner_id", (int)s->owner[n],
				 "owner", jstr(owner_name(s->owner[n], buf, sizeof(buf)))));
	/* Registers as "0x%08x" strings: what the reference manual and a debugger show. */
	const struct {
		const char *name;
		uint32_t v;
	} reg[] = { { "C1CR", s->cr[0] },    { "C1MR", s->mr[0] }, { "C1TOC2SR", s->sr[0] },
		    { "C2CR", s->cr[1] },    { "C2MR", s->mr[1] }, { "C2TOC1SR", s->sr[1] },
		    { "HWCFGR", s->hwcfgr }, { "VERR", s->verr },  { "IPIDR", s->ipidr },
		    { "SIDR", s->sidr } };
	json_t *regs = json_object();
	for (size_t i = 0; regs && i < sizeof(reg) / sizeof(reg[0]); i++) {
		char hex[16];
		snprintf(hex, sizeof(hex), "0x%08" PRIx32, reg[i].v);
		if (json_object_set_new(regs, reg[i].name, json_string(hex)) < 0) {
			json_decref(regs);
			regs = NULL;
		}
	}
	return json_pack("{s:i, s:i, s:o, s:o, s:o, s:o}", "cpu1", (int)s->cpu[0], "cpu2",
			 (int)s->cpu[1], "registers", regs, "proc1", json_proc(s, 0), "proc2",
			 json_proc(s, 1), "channels", chans);
}

/*
 * The queues of every ordered pair with Notify (only_a-only_b's two if only), into *ret (an
 * array the caller frees) and *ret_count. ipcc_notify_stats is lock-free: a busy queue that
 * moved under its reads says -EAGAIN, and is read again.
 */
int notify_snapshot(struct ipcc_system *sys, bool only, unsigned only_a, unsigned only_b,
		    struct queue_snapshot **ret, unsigned *ret_count)
{
	unsigned cpus = ipcc_system_cpus(sys), count = 0;
	struct queue_snapshot *q = calloc((size_t)cpus * (cpus - 1), sizeof(*q));
	int r = 0;

	if (!q)
		return -ENOMEM;
	for (unsigned a = 0; a < cpus && r >= 0; a++) {
		for (unsigned b = 0; b < cpus && r >= 0; b++) {
			unsigned lo = a < b ? a : b, hi = a < b ? b : a;
			if (a == b || !ipcc_system_linked(sys, a, b) ||
			    (only && (lo != only_a || hi != only_b)) ||
			    ipcc_notify_enabled(sys, a, b) != 1)
				continue;
			for (unsigned tries = 0; tries < 1000; tries++) {
				r = ipcc_notify_stats(sys, a, b, &q[count].st);
				if (r != -EAGAIN)
					break;
			}
			if (r < 0 && r != -EBADMSG)
				break;
			q[count].from = a;
			q[count].to = b;
			q[count].consistent = r == 0;
			count++;
			r = 0;
		}
	}
	if (r < 0) {
		free(q);
		return r;
	}
	*ret = q;
	*ret_count = count;
	return 0;
}

static void print_text_notify(struct ipcc_system *sys, const struct queue_snapshot *q,
			      unsigned count)
{
	printf("\n  notify: depth %" PRIu32 ", channel %d\n", ipcc_notify_depth(sys),
	       ipcc_notify_channel(sys));
	printf("  %-18s  %-18s  %9s  %10s  %10s  %8s  %8s\n", "FROM", "TO", "FILL", "SENT",
	       "RECEIVED", "FULL", "DROPPED");
	for (unsigned i = 0; i < count; i++) {
		char from[40], to[40], fill[24];
		snprintf(from, sizeof(from), "%u %s", q[i].from,
			 ESC(ipcc_system_cpu_name(sys, q[i].from)));
		snprintf(to, sizeof(to), "%u %s", q[i].to, ESC(ipcc_system_cpu_name(sys, q[i].to)));
		snprintf(fill, sizeof(fill), "%" PRIu32 "/%" PRIu32, q[i].st.fill, q[i].st.depth);
		printf("  %-18s  %-18s  %9s  %10" PRIu64 "  %10" PRIu64 "  %8" PRIu64 "  %8" PRIu64
		       "%s\n",
		       from, to, fill, q[i].st.sent, q[i].st.received, q[i].st.full,
		       q[i].st.dropped, q[i].consistent ? "" : "  (impossible indices)");
	}
}

/* The trace's switch, rings and drops; false without a trace section. */
static bool trace_status(struct ipcc_system *sys, bool *ret_on, int *ret_rings,
			 uint64_t *ret_dropped)
{
	int rings = ipcc_trace_rings(sys);
	uint64_t d;

	if (rings < 0)
		return false;
	*ret_on = ipcc_trace_enabled(sys) == 1;
	*ret_rings = rings;
	*ret_dropped = 0;
	for (int i = 0; i < rings; i++)
		if (ipcc_trace_dropped(sys, (unsigned)i, &d) == 0)
			*ret_dropped += d;
	return true;
}

/* info --json's "trace": null without a trace section; NULL when out of memory. */
static json_t *json_trace(struct ipcc_system *sys)
{
	bool on;
	int rings;
	uint64_t dropped;

	if (!trace_status(sys, &on, &rings, &dropped))
		return json_null();
	return json_pack("{s:b, s:i, s:I}", "enabled", on, "rings", rings, "dropped",
			 (json_int_t)dropped);
}

/* info --json's "notify": null without Notify; NULL when out of memory. */
static json_t *json_notify(struct ipcc_system *sys, const struct queue_snapshot *q, unsigned count)
{
	json_t *queues = json_array();

	if (!ipcc_notify_depth(sys)) {
		json_decref(queues);
		return json_null();
	}
	for (unsigned i = 0; i < count; i++)
		append(&queues,
		       json_pack("{s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "from",
				 (int)q[i].from, "to", (int)q[i].to, "fill",
				 (json_int_t)q[i].st.fill, "depth", (json_int_t)q[i].st.depth,
				 "sent", (json_int_t)q[i].st.sent, "received",
				 (json_int_t)q[i].st.received, "full", (json_int_t)q[i].st.full,
				 "dropped", (json_int_t)q[i].st.dropped, "consistent",
				 q[i].consistent));
	return json_pack("{s:I, s:i, s:o}", "depth", (json_int_t)ipcc_notify_depth(sys), "channel",
			 ipcc_notify_channel(sys), "queues", queues);
}

/* Everything of info --json but the links, which the caller adds as it reads them. */
static json_t *json_info(struct ipcc_system *sys, const struct cpu_snapshot *cs,
			 const struct memory_map *m)
{
	unsigned cpus = ipcc_system_cpus(sys);
	char wbuf[24], pbuf[24];
	json_t *cpu = json_array();

	for (unsigned i = 0; i < cpus; i++) {
		const struct ipcc_cpu_owner *o = &cs[i].own;
		append(&cpu,
		       json_pack("{s:i, s:o, s:b, s:b, s:i, s:i, s:I, s:o, s:o}", "id", (int)i,
				 "name", jstr(cs[i].name), "attached", o->attached, "alive",
				 o->alive, "pid", (int)o->pid, "tid", (int)o->tid, "generation",
				 (json_int_t)o->generation, "wait_mode",
				 jstr(wait_mode_text(cs[i].state.wait_mode, wbuf, sizeof(wbuf))),
				 "power", jstr(power_text(cs[i].state.power, pbuf, sizeof(pbuf)))));
	}
	return json_pack("{s:o, s:i, s:i, s:i, s:I, s:i, s:I, s:o, s:o}", "name",
			 jstr(ipcc_system_name(sys)), "layout_version", IPCC_LAYOUT_VERSION, "cpus",
			 (int)cpus, "channels", (int)ipcc_system_channels(sys), "buffer_size",
			 (json_int_t)ipcc_system_buffer_size(sys), "link_count",
			 (int)ipcc_system_link_count(sys), "size",
			 (json_int_t)ipcc_system_size(sys), "cpu", cpu, "sections",
			 json_sections(m));
}

static int cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "link", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cpu_snapshot cs[IPCC_CPUS_MAX];
	struct memory_map m = { 0 };
	struct queue_snapshot *queues = NULL;
	struct rpmsg_snapshot *rpmsg = NULL;
	struct ipcc_system *sys;
	json_t *doc = NULL, *links = NULL;
	char name[IPCC_NAME_MAX + 2];
	bool json = false, only = false;
	unsigned cpus, channels, only_a = 0, only_b = 0, nqueues = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		const char *opt = optind > 0 ? argv[optind - 1] : "";
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'l':
			r = parse_pair("--link", optarg, &only_a, &only_b);
			if (r)
				return r;
			only = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return usage_error("option '%s' needs a value", opt);
		default:
			return usage_error("info: unknown option '%s'", opt);
		}
	}
	r = name_operand("info", argc, argv, name, sizeof(name));
	if (r)
		return r;

	/* An observer: read-only, so that read permission on the object is enough. */
	r = ipcc_system_open_flags(name, IPCC_OPEN_READONLY, &sys);
	if (r < 0)
		return fail("open", name, r);
	cpus = ipcc_system_cpus(sys);
	channels = ipcc_system_channels(sys);
	if (only && !ipcc_system_linked(sys, only_a, only_b)) {
		if (only_b >= cpus)
			fprintf(stderr, "ipcc: %s has no link %u-%u: it has %u CPUs\n", ESC(name),
				only_a, only_b, cpus);
		else
			fprintf(stderr, "ipcc: %s has no link %u-%u: the pair is unlinked\n",
				ESC(name), only_a, only_b);
		ipcc_system_close(sys);
		return EXIT_RUNTIME;
	}
	for (unsigned i = 0; i < cpus; i++) {
		cs[i].name = ipcc_system_cpu_name(sys, i);
		r = ipcc_system_cpu_owner(sys, i, &cs[i].own);
		if (r == 0)
			r = ipcc_system_cpu_state(sys, i, &cs[i].state);
		if (r < 0)
			goto fail;
	}
	r = memory_map_system(sys, &m);
	if (r == 0)
		r = notify_snapshot(sys, only, only_a, only_b, &queues, &nqueues);
	if (r == 0)
		r = rpmsg_snapshot_read(sys, only, only_a, only_b, &rpmsg);
	if (r < 0)
		goto fail;

	if (json) {
		doc = json_info(sys, cs, &m);
		if (json_object_set_new(doc, "notify", json_notify(sys, queues, nqueues)) < 0 ||
		    json_object_set_new(doc, "rpmsg", rpmsg_info_json(sys, rpmsg)) < 0 ||
		    json_object_set_new(doc, "trace", json_trace(sys)) < 0 ||
		    log_json_info(doc, sys) < 0) {
			json_decref(doc);
			doc = NULL;
		}
		links = json_array();
	} else {
		print_text_header(sys);
		print_text_cpus(cs, cpus);
		print_text_sections(&m);
		if (ipcc_notify_depth(sys))
			print_text_notify(sys, queues, nqueues);
		rpmsg_info_print(sys, rpmsg);
		bool on;
		int rings;
		uint64_t dropped;
		if (trace_status(sys, &on, &rings, &dropped))
			printf("\n  trace: %s, %d rings, %" PRIu64 " records dropped\n",
			       on ? "on" : "off", rings, dropped);
		log_print_info(sys);
		printf("\n  per channel: CHnF 1 = occupied; CHnOM, CHnFM 1 = masked\n");
	}
	for (unsigned a = 0; a < cpus; a++) {
		for (unsigned b = a + 1; b < cpus; b++) {
			struct link_snapshot s = { 0 };
			if (!ipcc_system_linked(sys, a, b) ||
			    (only && (a != only_a || b != only_b)))
				continue;
			r = link_snapshot(sys, a, b, &s);
			if (r < 0)
				goto fail;
			if (json)
				append(&links, json_link(&s, channels));
			else
				print_text_link(sys, &s, channels);
		}
	}
	r = 0;
	if (json) {
		if (json_object_set_new(doc, "links", links) < 0) {
			json_decref(doc);
			doc = NULL;
		}
		r = json_print(doc, name);
	}
	rpmsg_snapshot_free(rpmsg);
	free(queues);
	memory_map_free(&m);
	ipcc_system_close(sys);
	return r;

fail:
	json_decref(doc);
	json_decref(links);
	rpmsg_snapshot_free(rpmsg);
	free(queues);
	memory_map_free(&m);
	ipcc_system_close(sys);
	return fail("read", name, r);
}

/* ---- rm ------------------------------------------------------------------------------------ */

static int cmd_rm(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char name[IPCC_NAME_MAX + 2];
	bool force = false;
	int c, r;

	while ((c = getopt_long(argc, argv, ":fh", longopts, NULL)) != -1) {
		const char *opt = optind > 0 ? argv[optind - 1] : "";
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return usage_error("rm: unknown option '%s'", opt);
		}
	}
	r = name_operand("rm", argc, argv, name, sizeof(name));
	if (r)
		return r;

	/*
	 * Look before removing: another program's shm object under the same name is not ours to
	 * delete unless asked. Anything that may be libipcc's (even half-built, truncated or of
	 * another layout version) can go; so can a FIFO, socket or device only with -f.
	 */
	if (!force && peek_magic(name) == -EPROTO) {
		char buf[CAUSE_SIZE];
		fprintf(stderr, "ipcc: not removing %s: %s (-f removes it)\n", ESC(name),
			cause(name, -EPROTO, buf, sizeof(buf)));
		return EXIT_RUNTIME;
	}
	r = ipcc_system_unlink(name);
	if (r == -ENOENT && force)
		return 0;
	if (r < 0)
		return fail("remove", name, r);
	return 0;
}

/* ---- trace ------------------------------------------------------------------------------- */

static volatile sig_atomic_t trace_stop;

static void trace_on_signal(int sig)
{
	trace_stop = sig;
}

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The records taken so far, kept until the end (32 bytes each) to be sorted by time. */
struct trace_buf {
	struct ipcc_trace_record *rec;
	size_t n, cap;
};

/* Reads of 256 records per ring and poll: 2^21 records, more than the largest ring holds. */
#define TRACE_TAKE_ROUNDS 8192u

/* Take every complete record of every ring into b (discard: drop them). 0 or -errno. */
static int trace_take(struct ipcc_system *sys, unsigned rings, struct trace_buf *b, bool discard)
{
	struct ipcc_trace_record tmp[256];

	for (unsigned ring = 0; ring < rings; ring++) {
		/* Bounded either way: writers that keep up with us (or a peer publishing garbage)
		 * neither hold the start nor keep one poll from returning to the stop checks;
		 * what is left is taken at the next poll. */
		for (unsigned round = 0; round < TRACE_TAKE_ROUNDS; round++) {
			int n = ipcc_trace_read(sys, ring, tmp, 256);
			if (n < 0)
				return n;
			if (n == 0)
				break;
			if (discard)
				continue;
			if (b->n + (size_t)n > b->cap) {
				size_t cap = b->cap ? 2 * b->cap : 4096;
				void *p = realloc(b->rec, cap * sizeof(*b->rec));
				if (!p)
					return -ENOMEM;
				b->rec = p;
				b->cap = cap;
			}
			memcpy(b->rec + b->n, tmp, (size_t)n * sizeof(*tmp));
			b->n += (size_t)n;
		}
	}
	return 0;
}

static int record_cmp(const void *x, const void *y)
{
	const struct ipcc_trace_record *a = x, *b = y;
	return a->time_ns < b->time_ns ? -1 : a->time_ns > b->time_ns;
}

/* A positive decimal number of seconds, with up to 9 decimals ("0.5", "10"). */
int parse_seconds(const char *s, uint64_t *ret_ns)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 86400.0 * 365 ||
	    !isdigit((unsigned char)*s))
		return -EINVAL;
	*ret_ns = (uint64_t)(v * 1e9);
	return 0;
}

static int trace_run(const char *name, const char *out, uint64_t duration_ns)
{
	struct ipcc_system *sys = NULL;
	struct trace_buf b = { 0 };
	struct vcd *vcd = NULL;
	FILE *f = NULL;
	int r, ret = EXIT_RUNTIME, was_on = 0;

	r = ipcc_system_open(name, &sys);
	if (r < 0)
		return fail("open", name, r);
	int rings = ipcc_trace_rings(sys);
	if (rings == -EOPNOTSUPP) {
		fprintf(stderr,
			"ipcc: cannot trace %s: it has no trace section (create it with "
			"'services: trace:' in its description)\n",
			ESC(name));
		goto out;
	}
	f = strcmp(out, "-") ? fopen(out, "we") : stdout;
	if (!f) {
		fprintf(stderr, "ipcc: cannot write %s: %s\n", ESC(out), strerror(errno));
		goto out;
	}
	was_on = ipcc_trace_enabled(sys);
	bool on;
	int nrings;
	uint64_t dropped0 = 0, dropped = 0;
	trace_status(sys, &on, &nrings, &dropped0);
	/* Start clean: records left from before are not ours; then the switch, then the state. */
	r = trace_take(sys, (unsigned)rings, &b, true);
	if (r == 0)
		r = ipcc_trace_enable(sys, true);
	uint64_t t0 = now_ns();
	if (r == 0)
		r = vcd_new(sys, t0, &vcd);
	if (r < 0) {
		fprintf(stderr, "ipcc: cannot trace %s: %s\n", ESC(name), ipcc_strerror(r));
		goto out;
	}

	struct sigaction sa = { .sa_handler = trace_on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "ipcc: tracing %s into %s (%s)\n", ESC(name), ESC(out),
		duration_ns ? "until the time is up or Ctrl-C" : "until Ctrl-C");
	while (!trace_stop && (!duration_ns || now_ns() - t0 < duration_ns)) {
		r = trace_take(sys, (unsigned)rings, &b, false);
		if (r < 0)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL); /* 1 ms */
	}
	if (!was_on)
		ipcc_trace_enable(sys, false);
	if (r == 0)
		r = trace_take(sys, (unsigned)rings, &b, false);
	if (r < 0) {
		fprintf(stderr, "ipcc: cannot read the trace of %s: %s\n", ESC(name),
			ipcc_strerror(r));
		goto out;
	}
	/* Stable enough: records of one ring with one stamp keep their ticket order (merge). */
	if (b.n > 1) /* b.rec is NULL when nothing was recorded: qsort may not be given it */
		qsort(b.rec, b.n, sizeof(*b.rec), record_cmp);
	r = vcd_write(vcd, f, b.rec, b.n);
	if (r < 0 || (f != stdout && fclose(f) != 0)) {
		f = NULL;
		fprintf(stderr, "ipcc: cannot write %s: %s\n", ESC(out),
			strerror(r < 0 ? -r : errno));
		goto out;
	}
	f = NULL;
	trace_status(sys, &on, &nrings, &dropped);
	dropped -= dropped0;
	fprintf(stderr, "ipcc: %zu records, %" PRIu64 " ns%s\n", b.n, now_ns() - t0,
		dropped ? "" : ", none dropped");
	if (dropped)
		fprintf(stderr,
			"ipcc: %" PRIu64 " records dropped (rings full): the dump may be wrong "
			"after them; a larger ring_size helps\n",
			dropped);
	ret = 0;
out:
	if (f && f != stdout)
		fclose(f);
	vcd_free(vcd);
	free(b.rec);
	ipcc_system_close(sys);
	return ret;
}

static int cmd_trace(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "seconds", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char name[IPCC_NAME_MAX + 2];
	const char *out = NULL;
	uint64_t duration = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		const char *opt = optind > 0 ? argv[optind - 1] : "";
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 's':
			if (parse_seconds(optarg, &duration) < 0)
				return usage_error("trace: --seconds '%s': a positive number of "
						   "seconds expected",
						   optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return usage_error("trace: option '%s' needs a value", opt);
		default:
			return usage_error("trace: unknown option '%s'", opt);
		}
	}
	r = name_operand("trace", argc, argv, name, sizeof(name));
	if (r)
		return r;
	if (!out)
		return usage_error("trace: missing -o FILE.vcd");
	return trace_run(name, out, duration);
}

/* ---- list ---------------------------------------------------------------------------------- */

/* What a regular object in SHM_DIR is, to ipcc list. */
enum list_kind {
	LIST_IPCC,	 /* starts with the libipcc magic: opened (or why not, shown) */
	LIST_UNREADABLE, /* cannot be read: it may be ours, nobody can tell */
	LIST_FOREIGN,	 /* another program's object (no magic, or too short for one) */
	LIST_SKIP,	 /* not a regular file (peek refused it): never ours */
};

static enum list_kind list_classify(const char *name)
{
	uint64_t magic;
	ssize_t n = peek(name, &magic, sizeof(magic));

	if (n == -EACCES || n == -EPERM)
		return LIST_UNREADABLE;
	if (n < 0)
		return LIST_SKIP;
	return n == (ssize_t)sizeof(magic) && magic == IPCC_LAYOUT_MAGIC ? LIST_IPCC : LIST_FOREIGN;
}

/* The object's owner (a user name, else the uid) and mode, from lstat: it opens nothing. */
struct list_stat {
	char owner[64];
	char mode[8];
	long long uid;
};

static void list_stat(const char *name, struct list_stat *ret)
{
	char path[sizeof(SHM_DIR) + IPCC_NAME_MAX + 2];
	struct passwd *pw;
	struct stat st;

	snprintf(path, sizeof(path), SHM_DIR "%s", name);
	if (lstat(path, &st) < 0) {
		*ret = (struct list_stat){ .owner = "?", .mode = "?", .uid = -1 };
		return;
	}
	ret->uid = (long long)st.st_uid;
	pw = getpwuid(st.st_uid);
	if (pw && strlen(pw->pw_name) < sizeof(ret->owner))
		snprintf(ret->owner, sizeof(ret->owner), "%s", pw->pw_name);
	else
		snprintf(ret->owner, sizeof(ret->owner), "%lld", ret->uid);
	snprintf(ret->mode, sizeof(ret->mode), "%04o", (unsigned)(st.st_mode & 07777));
}

/* One object of ipcc list, or why it cannot be opened: a text row or a JSON entry. */
static void list_row(const char *name, enum list_kind kind, bool json, json_t **objects)
{
	struct ipcc_system *sys = NULL;
	struct list_stat ls;
	char buf[CAUSE_SIZE], sz[64];
	const char *why = NULL;
	unsigned attached = 0;
	int r;

	list_stat(name, &ls);
	if (kind == LIST_UNREADABLE)
		why = "cannot read it: permission denied (it may be a libipcc system)";
	else if (kind == LIST_FOREIGN)
		why = "not a libipcc object";
	else if ((r = ipcc_system_open_flags(name, IPCC_OPEN_READONLY, &sys)) < 0)
		why = cause(name, r, buf, sizeof(buf));
	if (why) {
		if (json)
			append(objects,
			       json_pack("{s:o, s:o, s:I, s:s, s:s}", "name", jstr(name), "owner",
					 jstr(ls.owner), "uid", (json_int_t)ls.uid, "mode", ls.mode,
					 "error", why));
		else
			printf("%-24s %-10s %4s  %s\n", ESC(name), ESC(ls.owner), ls.mode, why);
		return;
	}
	for (unsigned c = 0; c < ipcc_system_cpus(sys); c++) {
		struct ipcc_cpu_owner o;
		if (ipcc_system_cpu_owner(sys, c, &o) == 0 && o.attached && o.alive)
			attached++;
	}
	if (json)
		append(objects,
		       json_pack("{s:o, s:o, s:I, s:s, s:i, s:i, s:I, s:i, s:i, s:I}", "name",
				 jstr(name), "owner", jstr(ls.owner), "uid", (json_int_t)ls.uid,
				 "mode", ls.mode, "cpus", (int)ipcc_system_cpus(sys), "channels",
				 (int)ipcc_system_channels(sys), "buffer_size",
				 (json_int_t)ipcc_system_buffer_size(sys), "link_count",
				 (int)ipcc_system_link_count(sys), "attached", (int)attached,
				 "size", (json_int_t)ipcc_system_size(sys)));
	else
		printf("%-24s %-10s %4s %4u %8u %8" PRIu32 " %6u %8u  %s\n", ESC(name),
		       ESC(ls.owner), ls.mode, ipcc_system_cpus(sys), ipcc_system_channels(sys),
		       ipcc_system_buffer_size(sys), ipcc_system_link_count(sys), attached,
		       format_size(ipcc_system_size(sys), sz, sizeof(sz)));
	ipcc_system_close(sys);
}

struct list_entry {
	char *name;
	enum list_kind kind;
};

static int list_entry_cmp(const void *x, const void *y)
{
	return strcmp(((const struct list_entry *)x)->name, ((const struct list_entry *)y)->name);
}

static const char list_help[] =
	"Usage: ipcc list [--all] [--json]\n"
	"\n"
	"The libipcc objects in " SHM_DIR ": name, owner, mode, shape, CPUs attached, size.\n"
	"An object that cannot be opened is listed with the reason (permission denied,\n"
	"corrupt, another layout version); objects of other programs are counted.\n"
	"\n"
	"  -a, --all    also list the objects of other programs\n"
	"  --json       machine-readable output\n";

static int cmd_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct list_entry *ents = NULL;
	size_t count = 0, cap = 0, foreign = 0;
	json_t *objects = NULL;
	struct dirent *de;
	bool json = false, all = false;
	DIR *dir;
	int c, ret = 0;

	while ((c = getopt_long(argc, argv, ":ah", longopts, NULL)) != -1) {
		const char *opt = optind > 0 ? argv[optind - 1] : "";
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(list_help, stdout);
			return 0;
		default:
			return usage_error("list: unknown option '%s'", opt);
		}
	}
	if (optind < argc)
		return usage_error("list: unexpected argument '%s'", ESC(argv[optind]));
	dir = opendir(SHM_DIR);
	if (!dir) {
		fprintf(stderr, "ipcc: cannot list %s: %s\n", SHM_DIR, strerror(errno));
		return EXIT_RUNTIME;
	}
	while ((de = readdir(dir))) {
		char name[IPCC_NAME_MAX + 2];
		enum list_kind kind;

		/* Only regular files can be ours: a FIFO is not even opened (peek checks again). */
		if (de->d_name[0] == '.' || strlen(de->d_name) > IPCC_NAME_MAX ||
		    (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
			continue;
		snprintf(name, sizeof(name), "/%s", de->d_name);
		kind = list_classify(name);
		if (kind == LIST_SKIP)
			continue;
		if (kind == LIST_FOREIGN) {
			foreign++;
			if (!all)
				continue;
		}
		if (count == cap) {
			struct list_entry *n =
				realloc(ents, (cap = cap ? 2 * cap : 16) * sizeof(*ents));
			if (!n)
				goto oom;
			ents = n;
		}
		if (!(ents[count].name = strdup(name)))
			goto oom;
		ents[count++].kind = kind;
	}
	closedir(dir);
	dir = NULL;
	if (count)
		qsort(ents, count, sizeof(*ents), list_entry_cmp);
	if (json)
		objects = json_array();
	else if (count)
		printf("%-24s %-10s %4s %4s %8s %8s %6s %8s  %s\n", "NAME", "OWNER", "MODE", "CPUS",
		       "CHANNELS", "BUFFER", "LINKS", "ATTACHED", "SIZE");
	for (size_t i = 0; i < count; i++)
		list_row(ents[i].name, ents[i].kind, json, &objects);
	if (json)
		ret = json_print(
			json_pack("{s:o, s:I}", "objects", objects, "other", (json_int_t)foreign),
			SHM_DIR);
	else if (foreign && !all)
		printf("(%zu other object%s in %s %s not libipcc's: 'ipcc list --all' shows "
		       "them)\n",
		       foreign, foreign == 1 ? "" : "s", SHM_DIR, foreign == 1 ? "is" : "are");
	goto out;

oom:
	fprintf(stderr, "ipcc: cannot list %s: out of memory\n", SHM_DIR);
	ret = EXIT_RUNTIME;
out:
	if (dir)
		closedir(dir);
	for (size_t i = 0; i < count; i++)
		free(ents[i].name);
	free(ents);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "plan", cmd_plan }, { "create", cmd_create }, { "info", cmd_info },
		{ "rm", cmd_rm },     { "list", cmd_list },	{ "trace", cmd_trace },
		{ "log", cmd_log },   { "watch", cmd_watch },	{ "notify", cmd_notify },
		{ "stat", cmd_stat }, { "rpmsg", cmd_rpmsg },
	};
	const char *cmd = argc > 1 ? argv[1] : NULL;

	/* Every message is printed by us: getopt's own would name the subcommand as the program. */
	opterr = 0;
	if (!cmd) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		printf("ipcc %s (libipcc %s)\n", IPCC_VERSION_STRING, ipcc_version());
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmd, cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	if (cmd[0] == '-')
		return usage_error("unknown option '%s'", cmd);
	return usage_error("unknown command '%s'", cmd);
}
