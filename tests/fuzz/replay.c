/* SPDX-License-Identifier: MIT */
/*
 * The fuzz target (fuzz-object.c) over a fixed, seeded set of mutated objects, for builds
 * without libFuzzer (gcc): sparse diffs aimed at the CPU records a third of the time, at the
 * RPMessage section (its CPU tables and vrings) a third, anywhere otherwise, with runs of zeros, ones and random bytes. Exits 0 when every input passed; a
 * broken invariant aborts inside the target. Optional argument: the number of inputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ipcc/layout.h>

#include "fuzz-object.h"

#define INPUTS_DEFAULT 300u
#define INPUT_MAX      1024u

static uint32_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

int main(int argc, char **argv)
{
	unsigned inputs = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : INPUTS_DEFAULT;
	uint8_t in[INPUT_MAX];
	uint64_t rp_off = 0, rp_size = 0;
	if (fuzz_rpmsg_section(&rp_off, &rp_size) != 0 || rp_size == 0) {
		fprintf(stderr, "replay: the target's object has no rpmsg section\n");
		return 1;
	}

	for (unsigned i = 0; i < inputs; i++) {
		uint64_t s = 0x1BC0FFEEull + i;
		size_t len = 3 + rnd(&s) % (INPUT_MAX - 3);
		memset(in, 0, len);
		/* Aimed at the CPU records (after the header), the rpmsg section, or anywhere. */
		unsigned offset = i % 3 == 1
					  ? IPCC_SHM_HEADER_SIZE + rnd(&s) % (3 * IPCC_SHM_CPU_SIZE)
				  : i % 3 == 2 ? (unsigned)(rp_off + rnd(&s) % rp_size)
					       : rnd(&s) % 0x10000u;
		in[0] = (uint8_t)offset;
		in[1] = (uint8_t)(offset >> 8);
		in[2] = (uint8_t)rnd(&s);
		unsigned runs = 1 + rnd(&s) % 8;
		for (unsigned r = 0; r < runs && len > 3; r++) { /* len 3: no diff bytes */
			size_t at = 3 + rnd(&s) % (len - 3), n = 1 + rnd(&s) % 64;
			unsigned kind = rnd(&s) % 3;
			for (size_t k = at; k < len && k < at + n; k++)
				in[k] = kind == 0   ? 0xFF
					: kind == 1 ? (uint8_t)(1u << (rnd(&s) % 8))
						    : (uint8_t)rnd(&s);
		}
		LLVMFuzzerTestOneInput(in, len);
	}
	printf("%u inputs replayed\n", inputs);
	return 0;
}
