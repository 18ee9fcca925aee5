/* SPDX-License-Identifier: MIT */
/*
 * ipcc-rpmsg-large: large data over RPMessage the way TI recommends, as two processes started
 * independently, in either order:
 *
 *   ipcc-rpmsg-large NAME --consumer
 *   ipcc-rpmsg-large NAME --producer --count 1000 --block-size 65536 --blocks 8
 *
 * An RPMessage buffer holds 112 bytes of payload (496 with the linux profile), so the data does
 * not travel in the packets: it lives in a shared data area, and a packet carries only where a
 * block is (offset, length) and its checksum. Both join the system NAME (whoever comes first
 * creates it: 2 CPUs, Notify and RPMessage with their defaults). The consumer opens end point
 * ANY on CPU 1 and announces it as "large-data"; the producer, on CPU 0, looks the name up
 * (waiting for the announcement, so the order of the two starts does not matter), creates the
 * data area (a POSIX shm object NAME-data of blocks * block-size bytes, which it owns) and
 * tells the consumer its size in a HELLO packet. The consumer opens the area read-only, checks
 * its size, and acknowledges; the producer then removes the area's name (both have it open;
 * nothing is left behind if either dies later). The area is cut into `blocks` slots: the
 * producer fills a free slot with a block of data, sends BLOCK(offset, length, checksum), and
 * reuses the slot only once the consumer acknowledged it. So up to `blocks` blocks are in
 * flight, and RPMessage's order per end point pair returns the acknowledgements in slot order.
 *
 * The consumer treats every packet and every byte of the area as written by an adversary: it
 * checks the packet's size and kind, that [offset, offset + length) lies inside the area it
 * mapped (without overflow), copies the block out once, and checksums the copy (FNV-1a, 64
 * bits), which is then what it would use; a block that fails is refused in its ACK and
 * counted, never read out of bounds. --inject-faults makes the producer send three bad blocks
 * (an offset past the end, an offset + length that wraps, a wrong checksum) to show the
 * checks; the producer expects exactly those three refusals.
 *
 * This is the "section of its own" form of the example: when user regions (<ipcc/region.h>)
 * exist, the area becomes a region of the system and area_create/area_open its two calls.
 *
 * Exit status: 0 done, 1 runtime error (no RPMessage, a CPU taken, a timeout, the peer died, a
 * block refused that should not be, or the reverse), 2 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ipcc/ipcc.h>
#include <ipcc/notify.h>
#include <ipcc/rpmsg.h>

#define PROG	     "ipcc-rpmsg-large"
#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

#define SERVICE		   "large-data"
#define PRODUCER_CPU	   0u
#define CONSUMER_CPU	   1u
#define COUNT_DEFAULT	   1000u
#define COUNT_MAX	   100000000u
#define BLOCK_SIZE_DEFAULT 65536u
#define BLOCK_SIZE_MIN	   64u
#define BLOCK_SIZE_MAX	   (16u << 20)
#define BLOCKS_DEFAULT	   8u
#define BLOCKS_MAX	   64u
#define AREA_MAX	   (1ull << 30) /* what a consumer agrees to map */
#define TIMEOUT_MS_DEFAULT 10000u

/* The packet kinds. */
enum {
	MSG_HELLO = 1, /* producer: the area exists; length = its size */
	MSG_BLOCK,     /* producer: a block at offset, length bytes, checksum sum */
	MSG_DONE,      /* producer: no more blocks; seq = how many were sent */
	MSG_ACK,       /* consumer: seq acknowledged, with status */
};

/* MSG_ACK.status */
enum {
	ACK_OK,
	ACK_BOUNDS,   /* the block is not inside the area */
	ACK_CHECKSUM, /* the copy's checksum differs */
	ACK_BADAREA,  /* HELLO: the area could not be opened, or its size is wrong */
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
	"       " PROG " NAME --producer [--count N] [--block-size B] [--blocks K] [OPTIONS]\n"
	"\n"
	"Large data over RPMessage: the packets carry an offset and a length into a shared data\n"
	"area (and a checksum) instead of the data. Start the two in either order: they join the\n"
	"system NAME (the first creates it) and meet through the name service (\"" SERVICE "\").\n"
	"\n"
	"Options:\n"
	"  --producer         CPU 0: fill blocks of the area and send where they are\n"
	"  --consumer         CPU 1: check, copy and checksum each block, acknowledge it\n"
	"  --count N          producer: blocks to send, 1..100000000 (default 1000)\n"
	"  --block-size B     producer: bytes per slot, 64..16777216 (default 65536); each block\n"
	"                     is between half of it and all of it\n"
	"  --blocks K         producer: slots in the area, blocks in flight, 1..64 (default 8)\n"
	"  --inject-faults    producer: also send three bad blocks (offset past the end, offset\n"
	"                     + length wrapping, wrong checksum) that the consumer must refuse\n"
	"  --wait MODE        adaptive (default), futex or spin\n"
	"  --timeout-ms MS    bound on every wait for the peer, 1..86400000 (default 10000)\n"
	"  -h, --help         this text\n"
	"\n"
	"Exit status: 0 done, 1 runtime error, 2 usage error.\n";

struct large {
	const char *name;
	bool producer, consumer, inject;
	uint64_t count, block_size, blocks;
	enum ipcc_wait_mode wait;
	int64_t timeout_ns;

	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;
	struct ipcc_rpmsg_ep *ep;
	bool created;
	char area_name[128];
	unsigned char *area; /* the mapping */
	uint64_t area_size;
	void *rx; /* a whole payload: packets of another size are taken, then dropped */
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
		{ "block-size", required_argument, NULL, 'b' },
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
			     .block_size = BLOCK_SIZE_DEFAULT,
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
		case 'b':
			l->block_size = number_option("--block-size", optarg, BLOCK_SIZE_MIN,
						      BLOCK_SIZE_MAX);
			producer_only = true;
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
		usage_error("--count, --block-size, --blocks and --inject-faults are the "
			    "producer's");
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
	struct ipcc_notify_config ncfg;
	struct ipcc_rpmsg_config rcfg;
	struct ipcc_cpu_options opt;
	struct ipcc_config cfg;
	unsigned id = l->producer ? PRODUCER_CPU : CONSUMER_CPU;
	int r;

	ipcc_config_init(&cfg); /* 2 CPUs, linked */
	ipcc_notify_config_init(&ncfg);
	ipcc_rpmsg_config_init(&rcfg);
	cfg.notify = &ncfg;
	cfg.rpmsg = &rcfg;
	r = ipcc_system_open_or_create(l->name, &cfg, 0, &l->sys);
	if (r == -EEXIST)
		return fail(0, "%s exists with another shape (remove it with 'ipcc rm %s')",
			    l->name, l->name);
	if (r < 0)
		return fail(r, "cannot join %s", l->name);
	l->created = r == 1;
	r = ipcc_rpmsg_enabled(l->sys, PRODUCER_CPU, CONSUMER_CPU);
	if (r <= 0)
		return fail(r, "%s has no RPMessage between CPU %u and CPU %u", l->name,
			    PRODUCER_CPU, CONSUMER_CPU);
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
	if (l->area)
		munmap(l->area, l->area_size);
	free(l->rx);
	ipcc_rpmsg_ep_close(l->ep);
	ipcc_cpu_detach(l->cpu);
	ipcc_system_close(l->sys);
	if (l->created)
		ipcc_system_unlink(l->name);
}

/* The area's name: NAME-data, as the producer creates it and the consumer opens it. */
static int area_name(struct large *l)
{
	int n = snprintf(l->area_name, sizeof(l->area_name), "%s-data", l->name);
	return n > 0 && (size_t)n < sizeof(l->area_name) ? 0 : -ENAMETOOLONG;
}

/* Producer: a new area of `size` bytes, mapped read-write. A stale one of a dead run goes. */
static int area_create(struct large *l, uint64_t size)
{
	int fd, r = area_name(l);

	if (r < 0)
		return r;
	shm_unlink(l->area_name);
	fd = shm_open(l->area_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		r = -errno;
		goto out;
	}
	l->area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (l->area == MAP_FAILED) {
		l->area = NULL;
		r = -errno;
		goto out;
	}
	l->area_size = size;
out:
	close(fd);
	if (r < 0)
		shm_unlink(l->area_name);
	return r;
}

/*
 * Consumer: open the area read-only. `size` is what the producer's HELLO says; the object must
 * be at least that large now (fstat) and the size within what this side agrees to map. A
 * producer that truncates it later could still make a read fault (SIGBUS): an adversary with
 * write access to the object is outside this example (a sealed memfd, or the system's own
 * region once it exists, closes that too).
 */
static int area_open(struct large *l, uint64_t size)
{
	struct stat st;
	int fd, r = area_name(l);

	if (r < 0)
		return r;
	if (size == 0 || size > AREA_MAX)
		return -EMSGSIZE;
	fd = shm_open(l->area_name, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if ((uint64_t)st.st_size < size)
		r = -EBADMSG; /* smaller than the producer says */
	if (r < 0) {
		close(fd);
		return r;
	}
	l->area = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (l->area == MAP_FAILED) {
		l->area = NULL;
		return -errno;
	}
	l->area_size = size;
	return 0;
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

/* Check a BLOCK against the area, copy it out once and checksum the copy: the ACK status. */
static uint64_t take_block(const struct large *l, const struct large_msg *m, unsigned char *copy,
			   uint64_t *bytes)
{
	/* In bounds without overflow: offset <= size and length <= size - offset. */
	if (m->length == 0 || m->offset > l->area_size || m->length > l->area_size - m->offset)
		return ACK_BOUNDS;
	memcpy(copy, l->area + m->offset, m->length);
	if (checksum(copy, m->length) != m->sum)
		return ACK_CHECKSUM;
	*bytes += m->length;
	return ACK_OK;
}

static int consume(struct large *l)
{
	uint64_t blocks = 0, bytes = 0, refused[ACK_BADAREA + 1] = { 0 };
	unsigned char *copy = NULL;
	struct large_msg m, ack;
	unsigned cpu, ep;
	int r;

	r = ipcc_rpmsg_announce(l->ep, SERVICE, IPCC_RPMSG_CPU_ALL);
	if (r < 0)
		return fail(r, "cannot announce '%s'", SERVICE);
	printf("CPU %u end point %u: '%s' announced on %s\n", CONSUMER_CPU,
	       ipcc_rpmsg_ep_number(l->ep), SERVICE, l->name);
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
		if (m.kind == MSG_HELLO && !l->area) {
			r = area_open(l, m.length);
			/* The largest block is what fits the area: the copy's size. */
			copy = r == 0 ? malloc(l->area_size) : NULL;
			if (r < 0 || !copy) {
				fprintf(stderr,
					PROG ": cannot map the producer's area of %" PRIu64
					     " bytes: %s\n",
					m.length, ipcc_strerror(r < 0 ? r : -ENOMEM));
				ack.sum = ACK_BADAREA;
			}
		} else if (m.kind == MSG_BLOCK && l->area) {
			ack.sum = take_block(l, &m, copy, &bytes);
			if (ack.sum == ACK_OK)
				blocks++;
			else
				refused[ack.sum]++;
		} else if (m.kind == MSG_DONE && l->area) {
			r = send_msg(l, cpu, ep, &ack);
			break;
		} else {
			continue; /* out of protocol: ignored */
		}
		r = send_msg(l, cpu, ep, &ack);
		if (r < 0)
			break;
		if (ack.sum == ACK_BADAREA)
			break;
	}
	free(copy);
	if (r < 0)
		return fail(r, "cannot acknowledge to CPU %u end point %u", cpu, ep);
	if (!l->area)
		return EXIT_RUNTIME;
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
	if (seq == 0 && m.sum == ACK_BADAREA)
		return fail(0, "the consumer cannot map the data area %s (its message says why)",
			    l->area_name);
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
	uint64_t size = l->blocks * l->block_size, refused = 0, bytes = 0, sent, acked = 0;
	struct large_msg m;
	unsigned cpu, ep;
	double t0;
	int r, rc;

	r = ipcc_rpmsg_lookup(l->cpu, SERVICE, l->timeout_ns, &cpu, &ep);
	if (r < 0)
		return fail(r, "no consumer announced '%s'", SERVICE);
	r = area_create(l, size);
	if (r < 0)
		return fail(r, "cannot create the data area %s of %" PRIu64 " bytes", l->area_name,
			    size);
	m = (struct large_msg){ .kind = MSG_HELLO, .length = size };
	r = send_msg(l, cpu, ep, &m);
	rc = r < 0 ? fail(r, "cannot send to the consumer") : take_ack(l, cpu, ep, 0, &refused);
	/* Both have it open, or the consumer refused it: its name is no longer needed. */
	shm_unlink(l->area_name);
	if (rc)
		return rc;
	printf("CPU %u: consumer at CPU %u end point %u; area of %" PRIu64 " bytes, %" PRIu64
	       " slots\n",
	       PRODUCER_CPU, cpu, ep, size, l->blocks);
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
