/* SPDX-License-Identifier: MIT */
/*
 * ipcc-rpmsg-large: large data over RPMessage the way TI recommends, as two processes started
 * independently, in either order:
 *
 *   ipcc-rpmsg-large NAME --consumer
 *   ipcc-rpmsg-large NAME --producer --count 1000 --blocks 8
 *
 * An RPMessage buffer holds 112 bytes of payload (496 with the linux profile), so the data does
 * not travel in the packets: it lives in a user region of the system (<ipcc/region.h>), and a
 * packet carries only where a block is (offset, length) and its checksum. Both join the system
 * NAME (whoever comes first creates it: 2 CPUs, Notify and RPMessage with their defaults, and
 * the region "large-data" of --area-size bytes, which must be the same on both sides: a system
 * of another shape is refused).
 * The consumer opens end point ANY on CPU 1 and announces it as "large-data"; the producer, on
 * CPU 0, looks the name up (waiting for the announcement, so the order of the two starts does
 * not matter). The region is cut into `blocks` slots: the producer fills a free slot with a
 * block of data, sends BLOCK(offset, length, checksum), and reuses the slot only once the
 * consumer acknowledged it. So up to `blocks` blocks are in flight, and RPMessage's order per
 * end point pair returns the acknowledgements in slot order.
 *
 * The consumer treats every packet and every byte of the region as written by an adversary: it
 * checks the packet's size and kind, has ipcc_region_ptr check that [offset, offset + length)
 * lies inside the region (without overflow), copies the block out once, and checksums the copy
 * (FNV-1a, 64 bits), which is then what it would use; a block that fails is refused in its ACK
 * and counted, never read out of bounds. --inject-faults makes the producer send three bad
 * blocks (an offset at the end, an offset + length that wraps, a wrong checksum) to show the
 * checks; the producer expects exactly those three refusals.
 *
 * Exit status: 0 done, 1 runtime error (no RPMessage, no region, a CPU taken, a timeout, the
 * peer died, a block refused that should not be, or the reverse), 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ipcc/ipcc.h>

#define PROG	     "ipcc-rpmsg-large"
#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

#define SERVICE		   "large-data"
#define REGION		   "large-data"
#define PRODUCER_CPU	   0u
#define CONSUMER_CPU	   1u
#define COUNT_DEFAULT	   1000u
#define COUNT_MAX	   100000000u
#define AREA_DEFAULT	   (512u << 10)
#define AREA_MIN	   4096u
#define AREA_MAX	   (256u << 20)
#define BLOCKS_DEFAULT	   8u
#define BLOCKS_MAX	   64u
#define SLOT_MIN	   64u /* bytes per slot, at least */
#define TIMEOUT_MS_DEFAULT 10000u

/* The packet kinds. */
enum {
	MSG_BLOCK = 1, /* producer: a block at offset of the region, length bytes, checksum sum */
	MSG_DONE,      /* producer: no more blocks; seq = how many were sent */
	MSG_ACK,       /* consumer: seq acknowledged, with status */
};

/* MSG_ACK.status */
enum {
	ACK_OK,
	ACK_BOUNDS,   /* the block is not inside the area */
	ACK_CHECKSUM, /* the copy's checksum differs */
	ACK_NR,
};

/* One packet: 32 bytes, within every profile's payload. Native byte order (one machine). */
struct large_msg {
	uint32_t kind;
	uint32_t seq;
	uint64_t offset;
	uint64_t length;
	uint64_t sum; /* BLOCK: the checksum; ACK: the status */
};
_Static_assert(sizeof(struct large_msg) == 32, "the packet layout");
_Static_assert(sizeof(struct large_msg) <= IPCC_RPMSG_BUFFER_SIZE_DEFAULT - IPCC_RPMSG_HEADER_SIZE,
	       "a packet fits the default payload");

static const char usage_text[] =
	"Usage: " PROG " NAME --consumer [OPTIONS]\n"
	"       " PROG " NAME --producer [--count N] [--blocks K] [OPTIONS]\n"
	"\n"
	"Large data over RPMessage: the packets carry an offset and a length into a user region\n"
	"of the system (and a checksum) instead of the data. Start the two in either order: they\n"
	"join the system NAME (the first creates it, with the region \"" REGION "\") and meet\n"
	"through the name service (\"" SERVICE "\").\n"
	"\n"
	"Options:\n"
	"  --producer         CPU 0: fill blocks of the region and send where they are\n"
	"  --consumer         CPU 1: check, copy and checksum each block, acknowledge it\n"
	"  --count N          producer: blocks to send, 1..100000000 (default 1000)\n"
	"  --blocks K         producer: slots in the region, blocks in flight, 1..64 (default\n"
	"                     8); each block is between half a slot and a whole one\n"
	"  --area-size B      the region's size, 4096..268435456 (default 524288): the same on\n"
	"                     both sides, which create or find the system with it\n"
	"  --inject-faults    producer: also send three bad blocks (offset at the end, offset\n"
	"                     + length wrapping, wrong checksum) that the consumer must refuse\n"
	"  --wait MODE        adaptive (default), futex or spin\n"
	"  --timeout-ms MS    bound on every wait for the peer, 1..86400000 (default 10000)\n"
	"  -h, --help         this text\n"
	"\n"
	"Exit status: 0 done, 1 runtime error, 2 usage error.\n";

struct large {
	const char *name;
	bool producer, consumer, inject;
	uint64_t count, blocks, area_arg;
	enum ipcc_wait_mode wait;
	int64_t timeout_ns;

	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;
	struct ipcc_rpmsg_ep *ep;
	bool created;
	unsigned region;     /* its index */
	unsigned char *area; /* the region in this process */
	uint64_t area_size;  /* its size, as the object says */
	uint64_t block_size; /* producer: bytes per slot */
	void *rx;	     /* a whole payload: packets of another size are taken, then dropped */
	uint32_t rx_cap;
};

__attribute__((format(printf, 1, 2), noreturn)) static void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\nTry '" PROG " --help'.\n", stderr);
	va_end(ap);
	exit(EXIT_USAGE);
}

/* A runtime error: what failed, and why (a negative errno, or 0). Returns EXIT_RUNTIME. */
__attribute__((format(printf, 2, 3))) static int fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", ipcc_strerror(err));
	fputc('\n', stderr);
	va_end(ap);
	return EXIT_RUNTIME;
}

static uint64_t number_option(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (s[0] < '0' || s[0] > '9' || (v = strtoull(s, &end, 10), errno) || *end || v < min ||
	    v > max)
		usage_error("invalid value '%s' for %s: expected a decimal number %" PRIu64
			    "..%" PRIu64,
			    s, opt, min, max);
	return v;
}

static void parse(int argc, char **argv, struct large *l)
{
	static const struct option opts[] = {
		{ "producer", no_argument, NULL, 'P' },
		{ "consumer", no_argument, NULL, 'C' },
		{ "count", required_argument, NULL, 'n' },
		{ "area-size", required_argument, NULL, 'a' },
		{ "blocks", required_argument, NULL, 'k' },
		{ "inject-faults", no_argument, NULL, 'i' },
		{ "wait", required_argument, NULL, 'w' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool producer_only = false;
	int o;

	*l = (struct large){ .count = COUNT_DEFAULT,
			     .area_arg = AREA_DEFAULT,
			     .blocks = BLOCKS_DEFAULT,
			     .wait = IPCC_WAIT_ADAPTIVE,
			     .timeout_ns = (int64_t)TIMEOUT_MS_DEFAULT * 1000000 };
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (o) {
		case 'P':
			l->producer = true;
			break;
		case 'C':
			l->consumer = true;
			break;
		case 'n':
			l->count = number_option("--count", optarg, 1, COUNT_MAX);
			producer_only = true;
			break;
		case 'a':
			l->area_arg = number_option("--area-size", optarg, AREA_MIN, AREA_MAX);
			break;
		case 'k':
			l->blocks = number_option("--blocks", optarg, 1, BLOCKS_MAX);
			producer_only = true;
			break;
		case 'i':
			l->inject = true;
			producer_only = true;
			break;
		case 'w':
			if (!strcmp(optarg, "adaptive"))
				l->wait = IPCC_WAIT_ADAPTIVE;
			else if (!strcmp(optarg, "futex"))
				l->wait = IPCC_WAIT_FUTEX;
			else if (!strcmp(optarg, "spin"))
				l->wait = IPCC_WAIT_SPIN;
			else
				usage_error("invalid value '%s' for --wait: expected adaptive, "
					    "futex or spin",
					    optarg);
			break;
		case 't':
			l->timeout_ns =
				(int64_t)number_option("--timeout-ms", optarg, 1, 86400000) *
				1000000;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		usage_error(optind < argc ? "one system NAME, not several" : "no system NAME");
	l->name = argv[optind];
	if (l->producer == l->consumer)
		usage_error("either --producer or --consumer");
	if (l->consumer && producer_only)
		usage_error("--count, --blocks and --inject-faults are the producer's");
}

/* FNV-1a, 64 bits: enough to catch a block that is not the one described. */
static uint64_t checksum(const unsigned char *p, uint64_t n)
{
	uint64_t h = 14695981039346656037ull;

	for (uint64_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* A block's contents: xorshift64 from its sequence number, so each block differs. */
static void fill(unsigned char *p, uint64_t n, uint64_t seq)
{
	uint64_t x = seq * 0x9E3779B97F4A7C15ull + 1;

	for (uint64_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)x;
	}
}

/* Join NAME (the first of the two creates it) and attach this side's CPU. */
static int join(struct large *l)
{
	struct ipcc_region_config gcfg; /* 1.5 KiB */
	struct ipcc_notify_config ncfg;
	struct ipcc_rpmsg_config rcfg;
	struct ipcc_region_info info;
	struct ipcc_cpu_options opt;
	struct ipcc_config cfg;
	unsigned id = l->producer ? PRODUCER_CPU : CONSUMER_CPU;
	int r;

	ipcc_config_init(&cfg); /* 2 CPUs, linked */
	ipcc_notify_config_init(&ncfg);
	ipcc_rpmsg_config_init(&rcfg);
	ipcc_region_config_init(&gcfg);
	r = ipcc_region_config_add(&gcfg, REGION, l->area_arg, 0);
	if (r < 0)
		return fail(r, "cannot describe the region of %" PRIu64 " bytes", l->area_arg);
	cfg.notify = &ncfg;
	cfg.rpmsg = &rcfg;
	cfg.regions = &gcfg;
	r = ipcc_system_open_or_create(l->name, &cfg, 0, &l->sys);
	if (r == -EEXIST)
		return fail(0,
			    "%s exists with another shape (give both sides the same --area-size, "
			    "or remove it with 'ipcc rm %s')",
			    l->name, l->name);
	if (r < 0)
		return fail(r, "cannot join %s", l->name);
	l->created = r == 1;
	r = ipcc_rpmsg_enabled(l->sys, PRODUCER_CPU, CONSUMER_CPU);
	if (r <= 0)
		return fail(r, "%s has no RPMessage between CPU %u and CPU %u", l->name,
			    PRODUCER_CPU, CONSUMER_CPU);
	/* The region as this process maps it: its address and the size to check offsets by. */
	r = ipcc_region_find(l->sys, REGION, &info);
	if (r < 0)
		return fail(r, "%s has no region '%s'", l->name, REGION);
	l->region = info.index;
	l->area = info.addr;
	l->area_size = info.size;
	ipcc_cpu_options_init(&opt);
	opt.wait = l->wait;
	r = ipcc_cpu_attach(l->sys, id, &opt, &l->cpu);
	if (r < 0)
		return fail(r, "cannot attach CPU %u of %s", id, l->name);
	r = ipcc_rpmsg_ep_create(l->cpu, IPCC_RPMSG_ENDPT_ANY, NULL, NULL, &l->ep);
	if (r < 0)
		return fail(r, "cannot open an end point on CPU %u", id);
	l->rx_cap = ipcc_rpmsg_payload_max(l->sys);
	l->rx = malloc(l->rx_cap);
	if (!l->rx)
		return fail(-ENOMEM, "cannot allocate a receive buffer");
	return 0;
}

static void leave(struct large *l)
{
	free(l->rx);
	ipcc_rpmsg_ep_close(l->ep);
	ipcc_cpu_detach(l->cpu);
	ipcc_system_close(l->sys);
	if (l->created)
		ipcc_system_unlink(l->name);
}

/*
 * One packet within the timeout, copied out once: -EBADMSG for one that is not ours (not the
 * size of a struct large_msg), which is taken all the same. A buffer of the whole payload, so
 * that no packet stays first with -EMSGSIZE.
 */
static int recv_msg(struct large *l, struct large_msg *m, unsigned *ret_cpu, unsigned *ret_ep)
{
	uint32_t len;
	int r = ipcc_rpmsg_recv(l->ep, l->rx, l->rx_cap, &len, ret_cpu, ret_ep, l->timeout_ns);

	if (r < 0)
		return r;
	if (len != sizeof(*m))
		return -EBADMSG;
	memcpy(m, l->rx, sizeof(*m));
	return 0;
}

static int send_msg(struct large *l, unsigned cpu, unsigned ep, const struct large_msg *m)
{
	return ipcc_rpmsg_send(l->cpu, m, sizeof(*m), cpu, ep, ipcc_rpmsg_ep_number(l->ep),
			       l->timeout_ns);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the consumer ---- */

/* Check a BLOCK against the region, copy it out once and checksum the copy: the ACK status. */
static uint64_t take_block(const struct large *l, const struct large_msg *m, unsigned char *copy,
			   uint64_t *bytes)
{
	void *p;

	/* ipcc_region_ptr: offset <= size and length <= size - offset, so nothing wraps. */
	if (m->length == 0 || m->length > SIZE_MAX ||
	    ipcc_region_ptr(l->sys, l->region, m->offset, (size_t)m->length, &p) < 0)
		return ACK_BOUNDS;
	memcpy(copy, p, m->length);
	if (checksum(copy, m->length) != m->sum)
		return ACK_CHECKSUM;
	*bytes += m->length;
	return ACK_OK;
}

static int consume(struct large *l)
{
	uint64_t blocks = 0, bytes = 0, refused[ACK_NR] = { 0 };
	/* The largest block is what fits the region: the copy's size. */
	unsigned char *copy = malloc(l->area_size);
	struct large_msg m, ack;
	unsigned cpu = 0, ep = 0;
	int r;

	if (!copy)
		return fail(-ENOMEM, "cannot allocate %" PRIu64 " bytes", l->area_size);
	r = ipcc_rpmsg_announce(l->ep, SERVICE, IPCC_RPMSG_CPU_ALL);
	if (r < 0) {
		free(copy);
		return fail(r, "cannot announce '%s'", SERVICE);
	}
	printf("CPU %u end point %u: '%s' announced on %s, region of %" PRIu64 " bytes\n",
	       CONSUMER_CPU, ipcc_rpmsg_ep_number(l->ep), SERVICE, l->name, l->area_size);
	fflush(stdout);
	for (;;) {
		r = recv_msg(l, &m, &cpu, &ep);
		if (r == -EBADMSG)
			continue; /* not one of ours: dropped */
		if (r < 0) {
			free(copy);
			return fail(r, "waiting for the producer");
		}
		ack = (struct large_msg){ .kind = MSG_ACK, .seq = m.seq, .sum = ACK_OK };
		if (m.kind == MSG_BLOCK) {
			ack.sum = take_block(l, &m, copy, &bytes);
			if (ack.sum == ACK_OK)
				blocks++;
			else
				refused[ack.sum]++;
		} else if (m.kind == MSG_DONE) {
			r = send_msg(l, cpu, ep, &ack);
			break;
		} else {
			continue; /* out of protocol: ignored */
		}
		r = send_msg(l, cpu, ep, &ack);
		if (r < 0)
			break;
	}
	free(copy);
	if (r < 0)
		return fail(r, "cannot acknowledge to CPU %u end point %u", cpu, ep);
	printf("received %" PRIu64 " blocks, %.1f MiB, every checksum right; refused %" PRIu64
	       " (out of bounds %" PRIu64 ", wrong checksum %" PRIu64 ")\n",
	       blocks, (double)bytes / (1 << 20), refused[ACK_BOUNDS] + refused[ACK_CHECKSUM],
	       refused[ACK_BOUNDS], refused[ACK_CHECKSUM]);
	return 0;
}

/* ---- the producer ---- */

/* What the producer expects for block seq: faults are injected at blocks 3, 5 and 7. */
static uint64_t expected_status(const struct large *l, uint64_t seq)
{
	if (!l->inject)
		return ACK_OK;
	return seq == 3 || seq == 5 ? ACK_BOUNDS : seq == 7 ? ACK_CHECKSUM : ACK_OK;
}

/* The BLOCK for sequence number seq, its data written into its slot. */
static void make_block(const struct large *l, uint64_t seq, struct large_msg *m)
{
	uint64_t slot = seq % l->blocks, half = l->block_size / 2;
	uint64_t len = half + (seq * 2654435761u) % (l->block_size - half + 1);
	unsigned char *p = l->area + slot * l->block_size;

	fill(p, len, seq);
	*m = (struct large_msg){ .kind = MSG_BLOCK,
				 .seq = (uint32_t)seq,
				 .offset = slot * l->block_size,
				 .length = len,
				 .sum = checksum(p, len) };
	switch (expected_status(l, seq)) {
	case ACK_BOUNDS:
		if (seq == 3)
			m->offset = l->area_size; /* just past the end */
		else
			m->length = UINT64_MAX - m->offset + 2; /* offset + length wraps to 1 */
		break;
	case ACK_CHECKSUM:
		m->sum ^= 1;
		break;
	}
}

/* The ACK of packet seq, from the consumer, with the status the producer expects. */
static int take_ack(struct large *l, unsigned cpu, unsigned ep, uint64_t seq, uint64_t *refused)
{
	struct large_msg m;
	unsigned from, from_ep;
	int r;

	/* Packets of another protocol or from another sender are not ours: dropped. */
	do
		r = recv_msg(l, &m, &from, &from_ep);
	while (r == -EBADMSG || (r == 0 && (from != cpu || from_ep != ep || m.kind != MSG_ACK)));
	if (r == -EPIPE)
		return fail(0, "the consumer died or detached (block %" PRIu64 ")", seq);
	if (r < 0)
		return fail(r, "waiting for the acknowledgement of block %" PRIu64, seq);
	if (m.seq != (uint32_t)seq)
		return fail(0, "acknowledgement of %u, expected %" PRIu64 " (out of order)", m.seq,
			    seq);
	if (m.sum != expected_status(l, seq))
		return fail(0,
			    "the consumer answered block %" PRIu64 " with status %" PRIu64
			    ", expected %" PRIu64,
			    seq, m.sum, expected_status(l, seq));
	*refused += m.sum != ACK_OK;
	return 0;
}

static int produce(struct large *l)
{
	uint64_t refused = 0, bytes = 0, sent, acked = 0;
	struct large_msg m;
	unsigned cpu, ep;
	double t0;
	int r;

	/* Slots of a multiple of 64 bytes (cache lines of their own), all inside the region. */
	l->block_size = l->area_size / l->blocks / 64 * 64;
	if (l->block_size < SLOT_MIN)
		return fail(0, "a region of %" PRIu64 " bytes has no room for %" PRIu64 " slots",
			    l->area_size, l->blocks);
	r = ipcc_rpmsg_lookup(l->cpu, SERVICE, l->timeout_ns, &cpu, &ep);
	if (r < 0)
		return fail(r, "no consumer announced '%s'", SERVICE);
	printf("CPU %u: consumer at CPU %u end point %u; region of %" PRIu64 " bytes, %" PRIu64
	       " slots of %" PRIu64 "\n",
	       PRODUCER_CPU, cpu, ep, l->area_size, l->blocks, l->block_size);
	fflush(stdout);

	/* Sequence numbers 1..count; a slot is refilled once its last block is acknowledged. */
	t0 = now_s();
	for (sent = 1; sent <= l->count; sent++) {
		if (sent > l->blocks) {
			if (take_ack(l, cpu, ep, ++acked, &refused))
				return EXIT_RUNTIME;
		}
		make_block(l, sent, &m);
		r = send_msg(l, cpu, ep, &m);
		if (r < 0)
			return fail(r, "cannot send block %" PRIu64, sent);
		if (expected_status(l, sent) == ACK_OK)
			bytes += m.length;
	}
	while (acked < l->count)
		if (take_ack(l, cpu, ep, ++acked, &refused))
			return EXIT_RUNTIME;
	m = (struct large_msg){ .kind = MSG_DONE, .seq = (uint32_t)(l->count + 1) };
	r = send_msg(l, cpu, ep, &m);
	if (r == 0 && take_ack(l, cpu, ep, l->count + 1, &refused))
		return EXIT_RUNTIME;
	if (r < 0)
		return fail(r, "cannot send the end");
	double dt = now_s() - t0;
	printf("sent %" PRIu64 " blocks, %.1f MiB in %.3f s (%.0f MiB/s), %" PRIu64
	       " refused as expected\n",
	       l->count, (double)bytes / (1 << 20), dt, (double)bytes / (1 << 20) / dt, refused);
	return 0;
}

int main(int argc, char **argv)
{
	struct large l;
	int rc;

	parse(argc, argv, &l);
	if (l.inject && l.count < 7)
		usage_error("--inject-faults needs --count 7 or more (the faults are blocks 3, 5 "
			    "and 7)");
	rc = join(&l);
	if (rc == 0)
		rc = l.producer ? produce(&l) : consume(&l);
	leave(&l);
	return rc;
}
