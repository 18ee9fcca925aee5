/* SPDX-License-Identifier: MIT */
/*
 * The self-checking messages of the event-loop tests, shared by the exec'd peer (ipcc-peer.c)
 * and the test processes. Header-only and free of Criterion: the peer is a plain program.
 *
 * A message is a 16-byte header (magic, sequence number, payload length, checksum) and a
 * payload whose length (0..cap - 16) and bytes follow from the sequence number alone. A
 * receiver can therefore tell a lost, duplicated or reordered message (valid, wrong number) from
 * a corrupted one (bad checksum or bytes), and rebuild any message it expects.
 *
 * Requests of half-duplex calls use the same layout with their own magic; the server answers
 * with evm_transform() of the request, which touches every byte, so an answer that is the
 * unchanged request (the server never ran) or another call's answer does not pass.
 */
#ifndef IPCC_EVENT_MSG_H
#define IPCC_EVENT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define EVM_MAGIC_MSG 0x314d5645u /* "EVM1": simplex message */
#define EVM_MAGIC_REQ 0x31515245u /* "ERQ1": call request */
#define EVM_MAGIC_RSP 0x31505245u /* "ERP1": call response */

struct evm_hdr {
	uint32_t magic;
	uint32_t seq;
	uint32_t len; /* payload bytes after the header */
	uint32_t sum; /* FNV-1a over magic, seq, len and the payload */
};

#define EVM_HDR ((size_t)sizeof(struct evm_hdr))

static inline uint32_t evm_mix(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	return x ^ (x >> 16);
}

/* Payload length of message `seq` in a buffer of `cap` bytes (cap >= EVM_HDR). */
static inline size_t evm_payload_len(uint32_t seq, size_t cap)
{
	return (size_t)(evm_mix(seq ^ 0xa5a5a5a5u) % (uint32_t)(cap - EVM_HDR + 1));
}

static inline uint8_t evm_byte(uint32_t seq, size_t i)
{
	return (uint8_t)evm_mix(seq * 0x9e3779b1u + (uint32_t)i);
}

static inline uint32_t evm_fnv(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static inline uint32_t evm_sum(const struct evm_hdr *h, const uint8_t *payload)
{
	uint32_t s = evm_fnv(2166136261u, h, offsetof(struct evm_hdr, sum));
	return evm_fnv(s, payload, h->len);
}

/* Write message `seq` with `magic` into buf (cap bytes); returns its total length. */
static inline size_t evm_build(void *buf, size_t cap, uint32_t magic, uint32_t seq)
{
	uint8_t *b = buf;
	struct evm_hdr h = { .magic = magic,
			     .seq = seq,
			     .len = (uint32_t)evm_payload_len(seq, cap) };
	for (size_t i = 0; i < h.len; i++)
		b[EVM_HDR + i] = evm_byte(seq, i);
	h.sum = evm_sum(&h, b + EVM_HDR);
	memcpy(b, &h, EVM_HDR);
	return EVM_HDR + h.len;
}

/*
 * Check that buf (len bytes) is a well-formed message with `magic` built for a buffer of `cap`
 * bytes; its sequence number goes to *ret_seq. 0, or -1 with the reason in why.
 */
static inline int evm_check(const void *buf, size_t len, size_t cap, uint32_t magic,
			    uint32_t *ret_seq, char *why, size_t why_len)
{
	const uint8_t *b = buf;
	struct evm_hdr h;

	if (len < EVM_HDR) {
		snprintf(why, why_len, "runt of %zu bytes", len);
		return -1;
	}
	memcpy(&h, b, EVM_HDR);
	if (h.magic != magic) {
		snprintf(why, why_len, "magic 0x%08x, want 0x%08x", h.magic, magic);
		return -1;
	}
	if (h.len != len - EVM_HDR || h.len != evm_payload_len(h.seq, cap)) {
		snprintf(why, why_len, "seq %u: length %zu, header says %u, want %zu", h.seq, len,
			 h.len, EVM_HDR + evm_payload_len(h.seq, cap));
		return -1;
	}
	if (h.sum != evm_sum(&h, b + EVM_HDR)) {
		snprintf(why, why_len, "seq %u: checksum mismatch", h.seq);
		return -1;
	}
	/* The checksum catches corruption in transit; this catches a sender that built wrongly. */
	for (size_t i = 0; i < h.len; i++) {
		/* A response carries the request's payload reversed and xored (evm_transform). */
		uint8_t want = magic == EVM_MAGIC_RSP
				       ? (uint8_t)(evm_byte(h.seq, h.len - 1 - i) ^ 0x5a)
				       : evm_byte(h.seq, i);
		if (b[EVM_HDR + i] != want) {
			snprintf(why, why_len, "seq %u: payload byte %zu differs", h.seq, i);
			return -1;
		}
	}
	*ret_seq = h.seq;
	return 0;
}

/* Turn a request (in place, len bytes) into its response: reversed, xored payload. */
static inline void evm_transform(void *buf, size_t len)
{
	uint8_t *b = buf;
	struct evm_hdr h;

	memcpy(&h, b, EVM_HDR);
	uint8_t *p = b + EVM_HDR;
	size_t n = len - EVM_HDR;
	for (size_t i = 0; i < n / 2; i++) {
		uint8_t t = p[i];
		p[i] = p[n - 1 - i];
		p[n - 1 - i] = t;
	}
	for (size_t i = 0; i < n; i++)
		p[i] ^= 0x5a;
	h.magic = EVM_MAGIC_RSP;
	h.sum = evm_sum(&h, p);
	memcpy(b, &h, EVM_HDR);
}

/*
 * Receiver's bookkeeping of one in-order stream: every message must carry the next number.
 * The first error is kept in words; later ones are only counted.
 */
struct evm_tally {
	uint32_t expect; /* next sequence number */
	uint64_t count;	 /* messages accepted */
	uint64_t errors; /* bad messages or wrong numbers */
	char first[192]; /* the first error */
};

static inline void evm_tally_error(struct evm_tally *t, const char *what)
{
	if (!t->errors++)
		snprintf(t->first, sizeof(t->first), "message %llu: %s",
			 (unsigned long long)t->count, what);
}

/* Account one message (magic `magic`) of the stream; true if it is the expected one. */
static inline bool evm_tally_take(struct evm_tally *t, const void *buf, size_t len, size_t cap,
				  uint32_t magic)
{
	char why[128];
	uint32_t seq;

	if (evm_check(buf, len, cap, magic, &seq, why, sizeof(why)) < 0) {
		evm_tally_error(t, why);
		return false;
	}
	if (seq != t->expect) {
		snprintf(why, sizeof(why), "seq %u, expected %u (%s)", seq, t->expect,
			 seq < t->expect ? "duplicated or reordered" : "lost messages");
		evm_tally_error(t, why);
		t->expect = seq + 1; /* resynchronise: count each mix-up once */
		return false;
	}
	t->expect++;
	t->count++;
	return true;
}

#endif
