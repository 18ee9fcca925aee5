/* SPDX-License-Identifier: MIT */
/* Umbrella header: everything libipcc offers. */
#ifndef IPCC_IPCC_H
#define IPCC_IPCC_H

#include <ipcc/common.h>
#include <ipcc/layout.h>
#include <ipcc/system.h>
#include <ipcc/regs.h>
#include <ipcc/irq.h>
#include <ipcc/proc.h>
#include <ipcc/uring.h>
#include <ipcc/sysdesc.h>

#endif
