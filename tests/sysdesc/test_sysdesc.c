/* SPDX-License-Identifier: MIT */
/*
 * System descriptions (lib/sysdesc): the example in examples/ parses to the config it
 * describes, every kind of mistake is refused with the errno and an error naming the file,
 * the line and the key, and a description created for real has exactly the planned layout.
 *
 * Mistakes are parsed from memory (ipcc_sysdesc_parse) under the label "test.yaml", which
 * the error must name as its file; the file entry point has tests of its own.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include <ipcc/ipcc.h>
#include <ipcc/layout.h>
#include <ipcc/notify.h>
#include <ipcc/rpmsg.h>

#include "../ipcc-test.h"

#define EXAMPLE IPCC_EXAMPLES_DIR "/am64x.yaml"
#define LABEL	"test.yaml"

#if IPCC_TEST_HAVE_YAML

static struct ipcc_sysdesc *parse_ok(const char *text)
{
	struct ipcc_sysdesc *desc = NULL;
	struct ipcc_sysdesc_error err;
	int r = ipcc_sysdesc_parse(LABEL, text, strlen(text), &desc, &err);

	cr_assert_eq(r, 0, "parse: %d, line %u, key '%s': %s", r, err.line, err.key, err.message);
	cr_assert_not_null(desc);
	return desc;
}

/*
 * text is refused with `errno_`, and the error names the file, `line`, `key` and has
 * `words` in its message; the handle is left untouched.
 */
static void expect_error(const char *text, int errno_, unsigned line, const char *key,
			 const char *words)
{
	struct ipcc_sysdesc *desc = (struct ipcc_sysdesc *)&desc; /* a sentinel: untouched */
	struct ipcc_sysdesc_error err;
	int r = ipcc_sysdesc_parse(LABEL, text, strlen(text), &desc, &err);

	cr_assert_eq(r, errno_, "parse gave %d (%s), wanted %d; message: %s", r, strerror(-r),
		     errno_, r < 0 ? err.message : "");
	cr_assert_eq(desc, (struct ipcc_sysdesc *)&desc, "a refused description wrote its handle");
	cr_assert_str_eq(err.file, LABEL);
	cr_assert_eq(err.line, line, "line %u, wanted %u (%s)", err.line, line, err.message);
	cr_assert(err.column > 0, "no column");
	cr_assert_str_eq(err.key, key, "key '%s', wanted '%s' (%s)", err.key, key, err.message);
	cr_assert(strstr(err.message, words), "message '%s' lacks '%s'", err.message, words);
	cr_assert_null(strchr(err.message, '\n'), "the message is one line");
}

/* A 2-CPU description whose notify block is {settings} (on line 2) is refused at key. */
static void expect_notify_error(const char *settings, const char *key, const char *words)
{
	char text[256];

	snprintf(text, sizeof(text), "cpus: 2\nservices: {notify: {%s}}\n", settings);
	expect_error(text, -EINVAL, 2, key, words);
}

static bool linked(const struct ipcc_config *cfg, unsigned a, unsigned b)
{
	return (cfg->links[a < b ? a : b] >> (a < b ? b : a)) & 1u;
}

/* Notify on pair a-b of cfg, as the library reads it (bits of unlinked pairs are ignored). */
static bool notify_on(const struct ipcc_config *cfg, unsigned a, unsigned b)
{
	return linked(cfg, a, b) && ((cfg->notify->pairs[a < b ? a : b] >> (a < b ? b : a)) & 1u);
}

/* A 2-CPU description with Notify whose rpmsg block is {settings} (on line 2) is refused. */
static void expect_rpmsg_error(const char *settings, const char *key, const char *words)
{
	char text[256];

	snprintf(text, sizeof(text), "cpus: 2\nservices: {notify: {}, rpmsg: {%s}}\n", settings);
	expect_error(text, -EINVAL, 2, key, words);
}

/* RPMessage on pair a-b of cfg, as the library reads it: a Notify link with the rpmsg bit. */
static bool rpmsg_on(const struct ipcc_config *cfg, unsigned a, unsigned b)
{
	return notify_on(cfg, a, b) && ((cfg->rpmsg->pairs[a < b ? a : b] >> (a < b ? b : a)) & 1u);
}

/* ---- what a valid description gives ---- */

Test(sysdesc, the_am64x_example_parses_to_the_system_it_describes)
{
	static const char *const names[] = { "a53-0", "a53-1", "r5f0-0", "m4" };
	struct ipcc_sysdesc *desc = NULL;
	struct ipcc_sysdesc_error err;
	int r = ipcc_sysdesc_load(EXAMPLE, &desc, &err);

	cr_assert_eq(r, 0, "%s:%u: %s: %s", EXAMPLE, err.line, err.key, err.message);
	const struct ipcc_config *cfg = ipcc_sysdesc_config(desc);
	cr_assert_str_eq(ipcc_sysdesc_name(desc), "/am64x");
	cr_assert_eq(cfg->cpus, 4);
	for (unsigned i = 0; i < 4; i++)
		cr_assert_str_eq(cfg->cpu_names[i], names[i]);
	cr_assert_eq(cfg->channels, 4);
	cr_assert_eq(cfg->buffer_size, 1024);
	cr_assert_eq(cfg->mode, 0660);
	/* Every pair but the two A53s, each with Notify. */
	for (unsigned a = 0; a < 4; a++)
		for (unsigned b = a + 1; b < 4; b++)
			cr_assert_eq(linked(cfg, a, b), !(a == 0 && b == 1), "pair %u-%u", a, b);
	cr_assert_not_null(cfg->notify);
	for (unsigned a = 0; a < 4; a++)
		for (unsigned b = a + 1; b < 4; b++)
			cr_assert_eq(notify_on(cfg, a, b), linked(cfg, a, b), "pair %u-%u", a, b);
	cr_assert_eq(cfg->notify->depth, 16);
	cr_assert_eq(cfg->notify->channel, 3);
	ipcc_sysdesc_free(desc);
}

Test(sysdesc, keys_left_out_get_their_defaults_and_cpus_their_default_names)
{
	struct ipcc_sysdesc *desc = parse_ok("cpus: 3\n");
	const struct ipcc_config *cfg = ipcc_sysdesc_config(desc);

	cr_assert_null(ipcc_sysdesc_name(desc));
	cr_assert_eq(cfg->cpus, 3);
	cr_assert_eq(cfg->channels, IPCC_CHANNELS_DEFAULT);
	cr_assert_eq(cfg->buffer_size, IPCC_BUFFER_SIZE_DEFAULT);
	cr_assert_eq(cfg->mode, 0600);
	cr_assert(linked(cfg, 0, 1) && linked(cfg, 0, 2) && linked(cfg, 1, 2));
	cr_assert_str_eq(cfg->cpu_names[0], "cpu0");
	cr_assert_str_eq(cfg->cpu_names[2], "cpu2");
	ipcc_sysdesc_free(desc);
}

Test(sysdesc, cpus_may_be_mappings_and_links_may_use_ids_and_default_names)
{
	struct ipcc_sysdesc *desc = parse_ok("cpus:\n"
					     "  - name: host\n"
					     "  - {}\n"
					     "  - m4\n"
					     "links: [[host, 2], [1, m4], [cpu1, host]]\n"
					     "buffer_size: 4KiB\n"
					     "mode: 640\n"
					     "name: demo\n"
					     "services:\n");
	const struct ipcc_config *cfg = ipcc_sysdesc_config(desc);

	cr_assert_str_eq(cfg->cpu_names[0], "host");
	cr_assert_str_eq(cfg->cpu_names[1], "cpu1");
	cr_assert_str_eq(cfg->cpu_names[2], "m4");
	cr_assert(linked(cfg, 0, 2) && linked(cfg, 1, 2) && linked(cfg, 0, 1));
	cr_assert_eq(cfg->buffer_size, 4096);
	cr_assert_eq(cfg->mode, 0640);
	cr_assert_str_eq(ipcc_sysdesc_name(desc), "/demo", "the leading '/' is added");
	ipcc_sysdesc_free(desc);
}

Test(sysdesc, a_buffer_that_is_not_nul_terminated_is_read_to_its_length)
{
	static const char text[] = "cpus: 2\nchannels: 3xyz";
	struct ipcc_sysdesc *desc = NULL;

	cr_assert_eq(ipcc_sysdesc_parse(NULL, text, strlen(text) - 3, &desc, NULL), 0);
	cr_assert_eq(ipcc_sysdesc_config(desc)->channels, 3);
	ipcc_sysdesc_free(desc);
}

/* ---- one test per kind of mistake: errno, file, line, key ---- */

Test(sysdesc, an_unknown_key_is_named_with_the_known_ones)
{
	expect_error("cpus: 2\nchanels: 4\n", -EINVAL, 2, "chanels", "unknown key 'chanels'");
	expect_error("cpus:\n  - {name: a, speed: 2}\n  - b\n", -EINVAL, 2, "cpus[0].speed",
		     "known: name");
}

Test(sysdesc, a_trace_block_gives_the_trace_config_with_its_defaults, .fini = test_cleanup)
{
	struct ipcc_sysdesc *desc = parse_ok("cpus: 2\nservices:\n  trace:\n");
	const struct ipcc_trace_config *t = ipcc_sysdesc_config(desc)->trace;

	cr_assert_not_null(t);
	cr_expect_eq(t->ring_size, IPCC_TRACE_RING_SIZE_DEFAULT);
	cr_expect_eq(t->enabled, false);
	ipcc_sysdesc_free(desc);

	desc = parse_ok("cpus: 2\nservices: { trace: { ring_size: 1M, enabled: true } }\n");
	t = ipcc_sysdesc_config(desc)->trace;
	cr_assert_not_null(t);
	cr_expect_eq(t->ring_size, 1u << 20);
	cr_expect_eq(t->enabled, true);
	struct ipcc_system *sys = NULL;
	cr_assert_eq(ipcc_system_create(test_name(), ipcc_sysdesc_config(desc), &sys), 0);
	cr_expect_eq(ipcc_trace_enabled(sys), 1);
	cr_expect_eq(ipcc_trace_rings(sys), 3);
	ipcc_system_close(sys);
	ipcc_sysdesc_free(desc);

	desc = parse_ok("cpus: 2\n");
	cr_expect_null(ipcc_sysdesc_config(desc)->trace, "no block, no trace");
	ipcc_sysdesc_free(desc);
}

Test(sysdesc, a_bad_trace_block_is_refused_at_its_key)
{
	expect_error("cpus: 2\nservices:\n  trace:\n    ring_size: 3000\n", -EINVAL, 4,
		     "services.trace.ring_size", "not a power of two");
	expect_error("cpus: 2\nservices:\n  trace: {ring_size: 1K}\n", -EINVAL, 3,
		     "services.trace.ring_size", "4K..16M");
	expect_error("cpus: 2\nservices:\n  trace: {enabled: yes}\n", -EINVAL, 3,
		     "services.trace.enabled", "expected true or false");
	expect_error("cpus: 2\nservices:\n  trace: {depth: 4}\n", -EINVAL, 3,
		     "services.trace.depth", "known: ring_size, enabled");
	expect_error("cpus: 2\nservices:\n  trace: on\n", -EINVAL, 3, "services.trace",
		     "expected a mapping");
}

Test(sysdesc, an_unknown_service_is_named_with_the_known_ones)
{
	expect_error("cpus: 2\nservices:\n  ipc: {}\n", -EINVAL, 3, "services.ipc",
		     "unknown key 'ipc' (known: notify, trace, rpmsg, log");
	expect_error("cpus: 2\nservices: [notify]\n", -EINVAL, 2, "services", "expected a mapping");
}

/* ---- services.rpmsg ---- */

Test(sysdesc, no_rpmsg_block_leaves_rpmsg_out)
{
	struct ipcc_sysdesc *desc = parse_ok("cpus: 2\nservices: {notify: {}}\n");

	cr_assert_null(ipcc_sysdesc_config(desc)->rpmsg);
	ipcc_sysdesc_free(desc);
}

Test(sysdesc, an_empty_rpmsg_block_enables_every_notify_link_with_the_defaults)
{
	static const char *const texts[] = {
		"cpus: 3\nservices:\n  notify: {links: [[0, 1], [1, 2]]}\n  rpmsg: {}\n",
		"cpus: 3\nservices:\n  notify: {links: [[0, 1], [1, 2]]}\n  rpmsg:\n",
		"cpus: 3\nservices: {notify: {links: [[0, 1], [1, 2]]}, rpmsg: {links: all}}\n",
		/* the order of the blocks in the file does not matter */
		"cpus: 3\nservices: {rpmsg: {}, notify: {links: [[0, 1], [1, 2]]}}\n",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct ipcc_sysdesc *desc = parse_ok(texts[i]);
		const struct ipcc_config *cfg = ipcc_sysdesc_config(desc);

		cr_assert_not_null(cfg->rpmsg, "%s", texts[i]);
		cr_assert(rpmsg_on(cfg, 0, 1) && rpmsg_on(cfg, 1, 2), "%s", texts[i]);
		cr_assert_not(rpmsg_on(cfg, 0, 2), "no Notify on 0-2, so no RPMessage: %s",
			      texts[i]);
		cr_assert_eq(cfg->rpmsg->buffers, IPCC_RPMSG_BUFFERS_DEFAULT);
		cr_assert_eq(cfg->rpmsg->buffer_size, IPCC_RPMSG_BUFFER_SIZE_DEFAULT);
		cr_assert_eq(cfg->rpmsg->endpoints, IPCC_RPMSG_ENDPOINTS_DEFAULT);
		cr_assert_eq(IPCC_RPMSG_BUFFERS_DEFAULT, 8);
		cr_assert_eq(IPCC_RPMSG_BUFFER_SIZE_DEFAULT, 128);
		cr_assert_eq(IPCC_RPMSG_ENDPOINTS_DEFAULT, 64);
		ipcc_sysdesc_free(desc);
	}
}

Test(sysdesc, rpmsg_links_buffers_buffer_size_and_endpoints_are_read)
{
	struct ipcc_sysdesc *desc = parse_ok("cpus: [host, r5, m4]\n"
					     "services:\n"
					     "  notify: {}\n"
					     "  rpmsg:\n"
					     "    links: [[m4, host]]\n"
					     "    buffers: 1024\n"
					     "    buffer_size: 4K\n"
					     "    endpoints: 1024\n");
	const struct ipcc_config *cfg = ipcc_sysdesc_config(desc);

	cr_assert_not_null(cfg->rpmsg);
	cr_assert(rpmsg_on(cfg, 0, 2), "either order, by name");
	cr_assert_not(rpmsg_on(cfg, 0, 1), "a Notify link left out has no RPMessage");
	cr_assert(notify_on(cfg, 0, 1), "it keeps Notify");
	cr_assert_not(rpmsg_on(cfg, 1, 2));
	cr_assert_eq(cfg->rpmsg->buffers, 1024);
	cr_assert_eq(cfg->rpmsg->buffer_size, 4096);
	cr_assert_eq(cfg->rpmsg->endpoints, 1024);
	ipcc_sysdesc_free(desc);

	desc = parse_ok("cpus: 2\nservices: {notify: {}, rpmsg: {buffers: 2, buffer_size: 32, "
			"endpoints: 2}}\n");
	cfg = ipcc_sysdesc_config(desc);
	cr_assert_eq(cfg->rpmsg->buffers, 2);
	cr_assert_eq(cfg->rpmsg->buffer_size, 32, "16 bytes of payload, the least");
	cr_assert_eq(cfg->rpmsg->endpoints, 2);
	ipcc_sysdesc_free(desc);
}

Test(sysdesc, the_linux_profile_gives_512_byte_buffers)
{
	/* The profile is the base the other keys adjust, wherever it is written. */
	struct ipcc_sysdesc *desc = parse_ok("cpus: 3\nservices: {notify: {}, rpmsg: {links: [[0, "
					     "2]], buffers: 16, profile: linux}}\n");
	const struct ipcc_config *cfg = ipcc_sysdesc_config(desc);

	cr_assert_eq(cfg->rpmsg->buffer_size, IPCC_RPMSG_BUFFER_SIZE_LINUX);
	cr_assert_eq(IPCC_RPMSG_BUFFER_SIZE_LINUX, 512);
	cr_assert_eq(cfg->rpmsg->buffers, 16, "the other keys still apply");
	cr_assert(rpmsg_on(cfg, 0, 2) && !rpmsg_on(cfg, 0, 1) && !rpmsg_on(cfg, 1, 2),
		  "the links still apply");
	cr_assert_eq(cfg->rpmsg->endpoints, IPCC_RPMSG_ENDPOINTS_DEFAULT);
	ipcc_sysdesc_free(desc);

	/* The same size given twice is no conflict, in either order. */
	desc = parse_ok("cpus: 2\nservices: {notify: {}, rpmsg: {buffer_size: 512, profile: "
			"linux}}\n");
	cr_assert_eq(ipcc_sysdesc_config(desc)->rpmsg->buffer_size, 512);
	ipcc_sysdesc_free(desc);
}

Test(sysdesc, a_linux_profile_with_another_buffer_size_is_refused_naming_both)
{
	expect_rpmsg_error("profile: linux, buffer_size: 256", "services.rpmsg.buffer_size",
			   "buffer_size 256 conflicts with 'profile: linux'");
	expect_rpmsg_error("buffer_size: 1K, profile: linux", "services.rpmsg.buffer_size",
			   "buffer_size 1K conflicts with 'profile: linux' (512-byte buffers)");
	expect_rpmsg_error("profile: openamp", "services.rpmsg.profile",
			   "unknown profile 'openamp' (known: linux)");
	expect_rpmsg_error("profile: \"linux\"", "services.rpmsg.profile", "a profile name");
}

Test(sysdesc, rpmsg_without_notify_is_refused)
{
	expect_error("cpus: 2\nservices:\n  rpmsg: {}\n", -EINVAL, 3, "services.rpmsg",
		     "RPMessage needs IPC Notify: add a 'notify:' block");
	expect_error("cpus: 2\nservices:\n  trace:\n  rpmsg:\n", -EINVAL, 4, "services.rpmsg",
		     "needs IPC Notify");
}

Test(sysdesc, an_rpmsg_link_without_notify_is_refused_by_name)
{
	expect_error("cpus: [a53, r5, m4]\n"
		     "services:\n"
		     "  notify: {links: [[a53, r5]]}\n"
		     "  rpmsg:\n"
		     "    links:\n"
		     "      - [a53, r5]\n"
		     "      - [m4, r5]\n",
		     -EINVAL, 7, "services.rpmsg.links[1]",
		     "r5 - m4 has no Notify, which RPMessage needs");
	expect_error("cpus: [a, b, c]\n"
		     "links: [[a, b], [b, c]]\n"
		     "services: {notify: {}, rpmsg: {links: [[a, c]]}}\n",
		     -EINVAL, 3, "services.rpmsg.links[0]", "a - c is not a link of the system");
	expect_rpmsg_error("links: [[0, 2]]", "services.rpmsg.links[0]", "no CPU 2");
	expect_rpmsg_error("links: [[0, 1], [1, 0]]", "services.rpmsg.links[1]",
			   "duplicate link 0-1 (also services.rpmsg.links[0])");
	expect_rpmsg_error("links: []", "services.rpmsg.links", "no link");
	expect_rpmsg_error("links: every", "services.rpmsg.links", "'all' or a list of pairs");
}

Test(sysdesc, rpmsg_buffers_are_a_power_of_two_in_range)
{
	expect_error("cpus: 2\nservices:\n  notify:\n  rpmsg:\n    buffers: 12\n", -EINVAL, 5,
		     "services.rpmsg.buffers", "12 is not a power of two");
	expect_rpmsg_error("buffers: 1", "services.rpmsg.buffers", "1 is out of range 2..1024");
	expect_rpmsg_error("buffers: 2048", "services.rpmsg.buffers",
			   "2048 is out of range 2..1024");
	expect_rpmsg_error("buffers: many", "services.rpmsg.buffers", "expected a decimal number");
}

Test(sysdesc, an_rpmsg_buffer_size_is_a_multiple_of_16_in_range)
{
	expect_rpmsg_error("buffer_size: 100", "services.rpmsg.buffer_size",
			   "100 is not a multiple of 16 in 32..65536 bytes");
	expect_rpmsg_error("buffer_size: 16", "services.rpmsg.buffer_size", "32..65536");
	expect_rpmsg_error("buffer_size: 128K", "services.rpmsg.buffer_size", "32..65536");
	expect_rpmsg_error("buffer_size: big", "services.rpmsg.buffer_size",
			   "expected a number of bytes");
}

Test(sysdesc, rpmsg_endpoints_are_in_range)
{
	expect_rpmsg_error("endpoints: 1", "services.rpmsg.endpoints", "1 is out of range 2..1024");
	expect_rpmsg_error("endpoints: 1025", "services.rpmsg.endpoints",
			   "1025 is out of range 2..1024");
	expect_rpmsg_error("endpoints: [4]", "services.rpmsg.endpoints", "got a list");
}

Test(sysdesc, an_rpmsg_block_of_the_wrong_shape_is_refused)
{
	expect_error("cpus: 2\nservices:\n  notify:\n  rpmsg: on\n", -EINVAL, 4, "services.rpmsg",
		     "expected a mapping of RPMessage settings");
	expect_error(
		"cpus: 2\nservices:\n  notify:\n  rpmsg:\n    depth: 4\n", -EINVAL, 5,
		"services.rpmsg.depth",
		"unknown key 'depth' (known: profile, links, buffers, buffer_size, endpoints)");
}

Test(sysdesc, vrings_above_the_size_limit_are_blamed_on_the_rpmsg_block)
{
	/* 64 CPUs, 2016 links, 4032 vrings of 1024 * 64 KiB: far above 1 GiB. */
	expect_error("cpus: 64\nservices:\n  notify:\n  rpmsg:\n    buffers: 1024\n"
		     "    buffer_size: 64K\n",
		     -EINVAL, 6, "services.rpmsg.buffer_size",
		     "the RPMessage vrings would need more shared memory than the 1073741824 B");
	expect_error("cpus: 64\nservices:\n  notify:\n  rpmsg: {buffers: 1024, profile: linux}\n",
		     -EINVAL, 4, "services.rpmsg.buffers", "RPMessage vrings");
}

Test(sysdesc, an_rpmsg_description_creates_the_vrings_it_describes, .fini = test_cleanup)
{
	struct ipcc_sysdesc *desc =
		parse_ok("cpus: [a, b, c]\n"
			 "services:\n"
			 "  notify: {}\n"
			 "  rpmsg: {links: [[a, c]], profile: linux, buffers: 4, "
			 "endpoints: 16}\n");
	struct ipcc_section_info s[IPCC_SECTIONS_MAX];
	struct ipcc_system *sys = NULL;
	bool section = false;

	cr_assert_eq(ipcc_system_create(test_name(), ipcc_sysdesc_config(desc), &sys), 0);
	cr_expect_eq(ipcc_rpmsg_buffers(sys), 4);
	cr_expect_eq(ipcc_rpmsg_buffer_size(sys), 512);
	cr_expect_eq(ipcc_rpmsg_payload_max(sys), 512 - IPCC_RPMSG_HEADER_SIZE);
	cr_expect_eq(ipcc_rpmsg_endpoints(sys), 16);
	cr_expect_eq(ipcc_rpmsg_enabled(sys, 0, 2), 1);
	cr_expect_eq(ipcc_rpmsg_enabled(sys, 2, 0), 1);
	cr_expect_eq(ipcc_rpmsg_enabled(sys, 0, 1), 0, "a Notify link left out");
	int n = ipcc_system_sections(sys, s, IPCC_SECTIONS_MAX);
	cr_assert_gt(n, 0);
	for (int i = 0; i < n; i++)
		section |= (s[i].type & IPCC_SECTION_TYPE_MASK) == IPCC_SECTION_RPMSG;
	cr_expect(section, "the object has an rpmsg section");
	ipcc_system_close(sys);
	ipcc_sysdesc_free(desc);
}

/* ---- services.notify ---- */

Test(sysdesc, no_notify_block_leaves_notify_out)
{
	struct ipcc_sysdesc *desc = parse_ok("cpus: 2\nservices: {}\n");

	cr_assert_null(ipcc_sysdesc_config(desc)->notify);
	ipcc_sysdesc_free(desc);
	desc = parse_ok("cpus: 2\n");
	cr_assert_null(ipcc_sysdesc_config(desc)->notify);
	ipcc_sysdesc_free(desc);
}

Test(sysdesc, an_empty_notify_block_enables_every_link_with_the_defaults)
{
	static const char *const texts[] = {
		"cpus: 3\nlinks: [[0, 1], [1, 2]]\nservices:\n  notify: {}\n",
		"cpus: 3\nlinks: [[0, 1], [1, 2]]\nservices:\n  notify:\n",
		"cpus: 3\nlinks: [[0, 1], [1, 2]]\nservices: {notify: {links: all}}\n",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct ipcc_sysdesc *desc = parse_ok(texts[i]);
		const struct ipcc_config *cfg = ipcc_sysdesc_config(desc);

		cr_assert_not_null(cfg->notify, "%s", texts[i]);
		cr_assert(notify_on(cfg, 0, 1) && notify_on(cfg, 1, 2), "%s", texts[i]);
		cr_assert_eq(cfg->notify->depth, IPCC_NOTIFY_DEPTH_DEFAULT);
		cr_assert_eq(cfg->notify->channel, IPCC_NOTIFY_CHANNEL_LAST);
		ipcc_sysdesc_free(desc);
	}
}

Test(sysdesc, notify_links_depth_and_channel_are_read)
{
	struct ipcc_sysdesc *desc = parse_ok("cpus: [host, r5, m4]\n"
					     "channels: 4\n"
					     "services:\n"
					     "  notify:\n"
					     "    links: [[m4, host], [1, m4]]\n"
					     "    depth: 4096\n"
					     "    channel: 0\n");
	const struct ipcc_config *cfg = ipcc_sysdesc_config(desc);

	cr_assert_not_null(cfg->notify);
	cr_assert(notify_on(cfg, 0, 2), "either order, by name");
	cr_assert(notify_on(cfg, 1, 2), "an id and a name");
	cr_assert_not(notify_on(cfg, 0, 1), "a link left out of the list has no Notify");
	cr_assert(linked(cfg, 0, 1), "it stays a link");
	cr_assert_eq(cfg->notify->depth, 4096);
	cr_assert_eq(cfg->notify->channel, 0);
	ipcc_sysdesc_free(desc);

	desc = parse_ok("cpus: 2\nservices: {notify: {depth: 2, channel: 5}}\n");
	cr_assert_eq(ipcc_sysdesc_config(desc)->notify->depth, 2);
	cr_assert_eq(ipcc_sysdesc_config(desc)->notify->channel, 5, "the last of 6 channels");
	ipcc_sysdesc_free(desc);
}

Test(sysdesc, a_copy_of_the_config_keeps_the_notify_settings_of_the_handle)
{
	struct ipcc_sysdesc *desc = parse_ok("cpus: 2\nservices: {notify: {depth: 64}}\n");
	struct ipcc_config copy = *ipcc_sysdesc_config(desc);

	cr_assert_not_null(copy.notify);
	cr_assert_eq(copy.notify->depth, 64);
	ipcc_sysdesc_free(desc);
}

Test(sysdesc, a_notify_pair_that_is_not_a_link_is_refused_by_name)
{
	expect_error("cpus: [a53-0, a53-1, m4]\n"
		     "links: [[a53-0, m4], [a53-1, m4]]\n"
		     "services:\n"
		     "  notify:\n"
		     "    links:\n"
		     "      - [a53-0, m4]\n"
		     "      - [a53-1, a53-0]\n",
		     -EINVAL, 7, "services.notify.links[1]",
		     "a53-0 - a53-1 is not a link of the system");
	expect_notify_error("links: [[0, 2]]", "services.notify.links[0]", "no CPU 2");
	expect_error("cpus: [a, b]\nservices: {notify: {links: [[a, c]]}}\n", -EINVAL, 2,
		     "services.notify.links[0]", "no CPU named 'c'");
	expect_notify_error("links: [[0, 1], [1, 0]]", "services.notify.links[1]",
			    "duplicate link 0-1 (also services.notify.links[0])");
	expect_notify_error("links: [[1, 1]]", "services.notify.links[0]", "to itself");
	expect_notify_error("links: []", "services.notify.links", "no link");
	expect_notify_error("links: some", "services.notify.links", "'all' or a list of pairs");
}

Test(sysdesc, a_notify_depth_is_a_power_of_two_in_range)
{
	expect_error("cpus: 2\nservices:\n  notify:\n    depth: 24\n", -EINVAL, 4,
		     "services.notify.depth", "24 is not a power of two");
	expect_notify_error("depth: 1", "services.notify.depth", "1 is out of range 2..4096");
	expect_notify_error("depth: 8192", "services.notify.depth", "8192 is out of range 2..4096");
	expect_notify_error("depth: \"16\"", "services.notify.depth", "got a quoted string");
}

Test(sysdesc, a_notify_channel_is_one_of_the_links_channels)
{
	expect_notify_error("channel: 6", "services.notify.channel", "6 is out of range 0..5");
	expect_error("cpus: 2\nchannels: 1\nservices: {notify: {channel: 1}}\n", -EINVAL, 3,
		     "services.notify.channel", "1 is out of range 0..0");
	expect_notify_error("channel: last", "services.notify.channel",
			    "expected a decimal number 0..5");
}

Test(sysdesc, a_notify_block_of_the_wrong_shape_is_refused)
{
	expect_error("cpus: 2\nservices:\n  notify: yes\n", -EINVAL, 3, "services.notify",
		     "expected a mapping of Notify settings");
	expect_error("cpus: 2\nservices:\n  notify:\n    queue: 4\n", -EINVAL, 4,
		     "services.notify.queue", "unknown key 'queue' (known: links, depth, channel)");
	expect_error("cpus: 2\nservices:\n  notify: {depth: 4, depth: 8}\n", -EINVAL, 3,
		     "services.notify.depth", "duplicate key");
}

Test(sysdesc, a_value_of_the_wrong_type_says_what_was_expected)
{
	expect_error("cpus: 2\nchannels: [4]\n", -EINVAL, 2, "channels",
		     "expected a decimal number 1..16, got a list");
	expect_error("cpus: 2\nchannels: \"4\"\n", -EINVAL, 2, "channels", "got a quoted string");
	expect_error("cpus: 2\nchannels: 010\n", -EINVAL, 2, "channels", "expected a decimal");
	expect_error("cpus: two\n", -EINVAL, 1, "cpus", "a CPU count or a list");
	expect_error("cpus: 2\nlinks: some\n", -EINVAL, 2, "links", "'all' or a list of pairs");
	expect_error("cpus: 2\nlinks: [[0, 1, 1]]\n", -EINVAL, 2, "links[0]", "a pair");
	expect_error("cpus: 2\nmode: rw\n", -EINVAL, 2, "mode", "an octal mode");
	expect_error("cpus: 2\nbuffer_size: 1G\n", -EINVAL, 2, "buffer_size", "4K or 1M");
	expect_error("cpus: 2\nname:\n", -EINVAL, 2, "name", "got nothing");
	expect_error("- cpus\n", -EINVAL, 1, "", "expected a mapping");
}

Test(sysdesc, a_value_out_of_range_gives_the_range)
{
	expect_error("cpus: 2\nchannels: 17\n", -EINVAL, 2, "channels", "17 is out of range 1..16");
	expect_error("cpus: 65\n", -EINVAL, 1, "cpus", "out of range 2..64");
	expect_error("cpus: [solo]\n", -EINVAL, 1, "cpus", "a system has 2..64");
	expect_error("cpus: 2\nbuffer_size: 7\n", -EINVAL, 2, "buffer_size",
		     "out of range 8..1048576");
	expect_error("cpus: 2\nbuffer_size: 2M\n", -EINVAL, 2, "buffer_size", "out of range");
	expect_error("cpus: 2\nmode: \"01000\"\n", -EINVAL, 2, "mode", "out of range 0..0777");
	expect_error("cpus: 2\nchannels: 99999999999999999999999\n", -EINVAL, 2, "channels",
		     "out of range");
}

Test(sysdesc, inconsistent_combinations_name_the_entry_at_fault)
{
	expect_error("cpus: [a, b]\nlinks: [[a, c]]\n", -EINVAL, 2, "links[0]", "no CPU named 'c'");
	expect_error("cpus: 2\nlinks: [[0, 2]]\n", -EINVAL, 2, "links[0]", "no CPU 2");
	expect_error("cpus: [a, b]\nlinks:\n  - [a, b]\n  - [b, b]\n", -EINVAL, 4, "links[1]",
		     "to itself");
	expect_error("cpus: [a, b]\nlinks:\n  - [a, b]\n  - [b, a]\n", -EINVAL, 4, "links[1]",
		     "duplicate link 0-1 (also links[0])");
	expect_error("cpus: [a, b, a]\n", -EINVAL, 1, "cpus[2]", "duplicate CPU name 'a'");
	expect_error("cpus: [x, cpu0]\n", -EINVAL, 1, "cpus[1]", "default name of CPU N");
	expect_error("cpus: [a, b]\nlinks: []\n", -EINVAL, 2, "links", "no link");
	expect_error("cpus: [\"a b\", c]\n", -EINVAL, 1, "cpus[0]", "invalid CPU name");
	expect_error("cpus: 2\nname: a/b\n", -EINVAL, 2, "name", "invalid shm name");
}

Test(sysdesc, a_system_above_the_size_limit_is_refused_at_its_biggest_factor)
{
	expect_error("cpus: 64\nchannels: 16\nbuffer_size: 1M\n", -EINVAL, 3, "buffer_size",
		     "1073741824 B");
	ipcc_sysdesc_free(parse_ok("cpus: 64\nchannels: 16\n")); /* 2016 links of 512 B fit */
}

Test(sysdesc, a_missing_required_key_is_named)
{
	expect_error("channels: 4\n", -EINVAL, 1, "cpus", "'cpus' is required");
	expect_error("", -EINVAL, 1, "", "empty");
}

Test(sysdesc, a_yaml_syntax_error_names_the_key_it_is_under)
{
	expect_error("cpus: 2\nlinks:\n  - [0, 1\nmode: \"0600\"\n", -EINVAL, 4, "links[0]",
		     "YAML syntax");
	expect_error("cpus: 2\nchannels: 4\n  buffer_size: 64\n", -EINVAL, 3, "channels",
		     "YAML syntax");
}

Test(sysdesc, a_duplicate_key_is_refused_with_the_first_line)
{
	expect_error("cpus: 2\nchannels: 4\nchannels: 5\n", -EINVAL, 3, "channels",
		     "duplicate key (first at line 2)");
	expect_error("cpus:\n  - {name: a, name: b}\n  - c\n", -EINVAL, 2, "cpus[0].name",
		     "duplicate key");
}

Test(sysdesc, what_a_description_never_needs_is_refused)
{
	expect_error("cpus: &n 2\n", -EINVAL, 1, "cpus", "anchors");
	expect_error("cpus: [a, b]\nlinks: [[a, b]]\nname: *x\n", -EINVAL, 3, "name", "aliases");
	expect_error("cpus: !!int 2\n", -EINVAL, 1, "cpus", "tags");
	expect_error("cpus: 2\n---\ncpus: 3\n", -EINVAL, 2, "", "a second document");
	expect_error("cpus: 2\n? [a, b]\n: c\n", -EINVAL, 2, "", "a key must be a plain word");
	expect_error("cpus: [[[[[[[[[[[[[[[[[[2]]]]]]]]]]]]]]]]]]\n", -EINVAL, 1,
		     "cpus[0][0][0][0][0][0][0][0][0][0][0][0][0][0]", "nested too deep");
}

Test(sysdesc, a_nul_byte_never_shortens_a_key_or_a_name)
{
	static const char key[] = "cpus: 2\n\"mode\\0x\": 1\n";
	static const char name[] = "cpus: [\"a\\0b\", c]\n";

	expect_error(key, -EINVAL, 2, "mode", "a key with a NUL byte");
	expect_error(name, -EINVAL, 1, "cpus[0]", "expected a CPU name");
}

Test(sysdesc, a_description_above_the_size_limit_is_refused_with_efbig)
{
	size_t len = IPCC_SYSDESC_SIZE_MAX + 1;
	char *text = malloc(len);
	struct ipcc_sysdesc *desc = NULL;
	struct ipcc_sysdesc_error err;

	cr_assert_not_null(text);
	memset(text, '#', len);
	cr_assert_eq(ipcc_sysdesc_parse(LABEL, text, len, &desc, &err), -EFBIG);
	cr_assert_str_eq(err.file, LABEL);
	cr_assert_null(desc);
	free(text);
}

Test(sysdesc, a_missing_file_is_enoent_naming_the_file)
{
	struct ipcc_sysdesc *desc = NULL;
	struct ipcc_sysdesc_error err;

	cr_assert_eq(ipcc_sysdesc_load("/nonexistent/system.yaml", &desc, &err), -ENOENT);
	cr_assert_str_eq(err.file, "/nonexistent/system.yaml");
	cr_assert_eq(err.line, 0, "the file as a whole");
	cr_assert_str_eq(err.key, "");
	cr_assert(strstr(err.message, "No such file"), "%s", err.message);
	cr_assert_null(desc);
	cr_assert_eq(ipcc_sysdesc_load("/", &desc, &err), -EISDIR);
}

Test(sysdesc, bad_arguments_are_einval)
{
	struct ipcc_sysdesc *desc = NULL;

	cr_assert_eq(ipcc_sysdesc_load(NULL, &desc, NULL), -EINVAL);
	cr_assert_eq(ipcc_sysdesc_load(EXAMPLE, NULL, NULL), -EINVAL);
	cr_assert_eq(ipcc_sysdesc_parse(NULL, NULL, 1, &desc, NULL), -EINVAL);
	cr_assert_eq(ipcc_sysdesc_error_format(NULL, NULL, 0), -EINVAL);
	cr_assert_null(ipcc_sysdesc_config(NULL));
	cr_assert_null(ipcc_sysdesc_name(NULL));
	ipcc_sysdesc_free(NULL);
}

Test(sysdesc, an_error_formats_as_file_line_column_key_message)
{
	static const char text[] = "cpus: 2\nchannels: 17\n";
	struct ipcc_sysdesc *desc = NULL;
	struct ipcc_sysdesc_error err;
	char line[256];

	cr_assert_eq(ipcc_sysdesc_parse("sys.yaml", text, strlen(text), &desc, &err), -EINVAL);
	int n = ipcc_sysdesc_error_format(&err, line, sizeof(line));
	cr_assert_str_eq(line, "sys.yaml:2:11: channels: 17 is out of range 1..16");
	cr_assert_eq(n, (int)strlen(line));
	cr_assert_eq(ipcc_sysdesc_error_format(&err, NULL, 0), n, "a length query");
}

/* ---- the description made real ---- */

Test(sysdesc, the_example_created_has_exactly_the_planned_sections, .fini = test_cleanup)
{
	struct ipcc_section_info plan[IPCC_SECTIONS_MAX], live[IPCC_SECTIONS_MAX];
	struct ipcc_sysdesc *desc = NULL;
	struct ipcc_system *sys = NULL;
	uint64_t size;

	cr_assert_eq(ipcc_sysdesc_load(EXAMPLE, &desc, NULL), 0);
	const struct ipcc_config *cfg = ipcc_sysdesc_config(desc);
	int n = ipcc_config_plan(cfg, plan, IPCC_SECTIONS_MAX);
	cr_assert_gt(n, 2);
	cr_assert_eq(ipcc_config_size(cfg, &size), 0);
	cr_assert_eq(ipcc_system_create(test_name(), cfg, &sys), 0);

	cr_assert_eq(ipcc_system_size(sys), size);
	cr_assert_eq(ipcc_system_sections(sys, live, IPCC_SECTIONS_MAX), n);
	for (int i = 0; i < n; i++) {
		cr_assert_eq(live[i].type, plan[i].type, "section %d", i);
		cr_assert_str_eq(live[i].name, plan[i].name);
		cr_assert_str_eq(live[i].layer, plan[i].layer);
		cr_assert_eq(live[i].offset, plan[i].offset, "%s", plan[i].name);
		cr_assert_eq(live[i].size, plan[i].size, "%s", plan[i].name);
		cr_assert_eq(live[i].count, plan[i].count, "%s", plan[i].name);
		cr_assert_eq(live[i].stride, plan[i].stride, "%s", plan[i].name);
		cr_assert_eq(live[i].owner_cpu, plan[i].owner_cpu, "%s", plan[i].name);
	}
	cr_assert_eq(plan[n - 1].offset + plan[n - 1].size, size, "the last section ends it");
	for (unsigned i = 0; i < cfg->cpus; i++)
		cr_assert_str_eq(ipcc_system_cpu_name(sys, i), cfg->cpu_names[i]);
	cr_assert_eq(ipcc_system_cpu_by_name(sys, "m4"), 3);
	cr_assert_eq(ipcc_system_link_count(sys), 5);
	cr_assert_not(ipcc_system_linked(sys, 0, 1));
	/* Notify as described: every link, depth 16, the last of 4 channels, reserved. */
	bool notify_section = false;
	for (int i = 0; i < n; i++)
		notify_section |= !strcmp(plan[i].name, "notify");
	cr_assert(notify_section, "the plan has a notify section");
	cr_assert_eq(ipcc_notify_depth(sys), 16);
	cr_assert_eq(ipcc_notify_channel(sys), 3);
	cr_assert_eq(ipcc_notify_enabled(sys, 0, 2), 1);
	cr_assert_eq(ipcc_notify_enabled(sys, 3, 2), 1);
	cr_assert_eq(ipcc_notify_enabled(sys, 0, 1), -ENOENT, "no link");
	cr_assert_eq(ipcc_system_channel_owner(sys, 1, 3, 3), (int)IPCC_SERVICE_NOTIFY);
	cr_assert_eq(ipcc_system_channel_owner(sys, 1, 3, 2), (int)IPCC_CHAN_OWNER_PROC);
	ipcc_system_close(sys);
	ipcc_sysdesc_free(desc);
}

Test(sysdesc, a_read_only_observer_sees_each_cpus_wait_mode_and_power, .fini = test_cleanup)
{
	struct ipcc_sysdesc *desc = NULL;
	struct ipcc_system *sys = NULL, *ro = NULL;
	struct ipcc_cpu_options opt;
	struct ipcc_cpu *cpu = NULL;
	struct ipcc_cpu_state st = { 99, 99 };
	const char *name = test_name();

	cr_assert_eq(ipcc_sysdesc_load(EXAMPLE, &desc, NULL), 0);
	cr_assert_eq(ipcc_system_create(name, ipcc_sysdesc_config(desc), &sys), 0);
	ipcc_cpu_options_init(&opt);
	opt.wait = IPCC_WAIT_FUTEX;
	cr_assert_eq(ipcc_cpu_attach(sys, 2, &opt, &cpu), 0);

	cr_assert_eq(ipcc_system_open_flags(name, IPCC_OPEN_READONLY, &ro), 0);
	cr_assert_eq(ipcc_system_cpu_state(ro, 2, &st), 0);
	cr_assert_eq(st.wait_mode, IPCC_WAIT_FUTEX);
	cr_assert_eq(st.power, IPCC_POWER_RUN);
	cr_assert_eq(ipcc_system_cpu_state(ro, 4, &st), -EINVAL);
	cr_assert_eq(ipcc_system_cpu_state(ro, 0, NULL), -EINVAL);
	cr_assert_eq(ipcc_system_cpu_state(NULL, 0, &st), -EINVAL);

	ipcc_system_close(ro);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	ipcc_sysdesc_free(desc);
}

#else /* built without libyaml */

Test(sysdesc, without_libyaml_every_description_is_eopnotsupp)
{
	struct ipcc_sysdesc *desc = NULL;
	struct ipcc_sysdesc_error err;

	cr_assert_eq(ipcc_sysdesc_load(EXAMPLE, &desc, &err), -EOPNOTSUPP);
	cr_assert(strstr(err.message, "libyaml"), "%s", err.message);
	cr_assert_eq(ipcc_sysdesc_parse(NULL, "cpus: 2\n", 8, &desc, &err), -EOPNOTSUPP);
	cr_assert_null(desc);
}

#endif
