/* SPDX-License-Identifier: MIT */
/*
 * Definitions shared by every libipcc header: the export macro and the limits.
 */
#ifndef IPCC_COMMON_H
#define IPCC_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define IPCC_BEGIN_DECLS extern "C" {
#define IPCC_END_DECLS	 }
#else
#define IPCC_BEGIN_DECLS
#define IPCC_END_DECLS
#endif

/* Only functions marked IPCC_EXPORT are visible: the library builds with -fvisibility=hidden. */
#define IPCC_EXPORT __attribute__((visibility("default")))

/* Limits of the system object (validated by ipcc_system_create, re-checked by ipcc_system_open). */
#define IPCC_CPUS_MIN		 2u
#define IPCC_CPUS_MAX		 64u
#define IPCC_CHANNELS_MIN	 1u
#define IPCC_CHANNELS_MAX	 16u
#define IPCC_BUFFER_SIZE_MIN	 8u
#define IPCC_BUFFER_SIZE_MAX	 (1u << 20)
#define IPCC_BUFFER_SIZE_DEFAULT 512u
#define IPCC_CHANNELS_DEFAULT	 6u
#define IPCC_CPUS_DEFAULT	 2u
/* No object larger than this is created or opened: a bound on what a corrupt header can ask for. */
#define IPCC_SYSTEM_SIZE_MAX (1ull << 30)
/* Names are POSIX shm names: a leading '/', no other '/', at most this many bytes after it. */
#define IPCC_NAME_MAX 200u
/* CPU names ("a53-0", "r5f0-0", "m4"): 1..15 bytes of [A-Za-z0-9_.-], starting with a letter
 * or a digit, unique in a system. A CPU without a configured name is called "cpuN". */
#define IPCC_CPU_NAME_MAX 15u
/* A CPU's power state (ipcc_system_cpu_state; the CPU record's `power` word). */
#define IPCC_POWER_RUN	   0u /* running, or blocked in a Run/Stop-mode wait */
#define IPCC_POWER_STANDBY 3u /* in ipcc_cpu_standby: banks reset when it wakes */

/* The owner of a channel that no service reserved: the procedures and the channel API. */
#define IPCC_CHAN_OWNER_PROC 0u

#endif
