/* SPDX-License-Identifier: MIT */
/*
 * Umbrella header: the whole API, for C and C++ programs.
 *
 * The shared-memory layout, <ipcc/layout.h>, is not part of it: it describes the bytes of the
 * object for inspectors (the `ipcc` tool, tests), and no function of the API needs it.
 */
#ifndef IPCC_IPCC_H
#define IPCC_IPCC_H

#include <ipcc/common.h>
#include <ipcc/version.h>
#include <ipcc/error.h>
#include <ipcc/system.h>
#include <ipcc/regs.h>
#include <ipcc/trace.h>
#include <ipcc/irq.h>
#include <ipcc/proc.h>
#include <ipcc/notify.h>
#include <ipcc/rpmsg.h>
#include <ipcc/log.h>
#include <ipcc/region.h>
#include <ipcc/uring.h>
#include <ipcc/sysdesc.h>
#include <ipcc/window.h>

#endif
