/* SPDX-License-Identifier: MIT */
/* The fuzz target's entry point, shared by libFuzzer and the replay driver (replay.c). */
#ifndef IPCC_FUZZ_OBJECT_H
#define IPCC_FUZZ_OBJECT_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Where the rpmsg section of the target's object lies (for aimed inputs): 0, or -1. */
int fuzz_rpmsg_section(uint64_t *ret_offset, uint64_t *ret_size);

#endif
