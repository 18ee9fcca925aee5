/* SPDX-License-Identifier: MIT */
/* The fuzz target's entry point, shared by libFuzzer and the replay driver (replay.c). */
#ifndef IPCC_FUZZ_OBJECT_H
#define IPCC_FUZZ_OBJECT_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
