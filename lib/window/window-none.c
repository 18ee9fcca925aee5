/* SPDX-License-Identifier: MIT */
/*
 * Register windows where the single-step method is not implemented (anything but x86-64
 * Linux): the same prototypes, -EOPNOTSUPP. The interrupt helper (irq.c) works everywhere.
 */
#include <errno.h>

#include <ipcc/window.h>

IPCC_EXPORT int ipcc_window_init(void)
{
	return -EOPNOTSUPP;
}

IPCC_EXPORT int ipcc_window_open(struct ipcc_regs *regs, struct ipcc_window **ret_win)
{
	return -EOPNOTSUPP;
}

IPCC_EXPORT volatile void *ipcc_window_base(struct ipcc_window *win)
{
	return NULL;
}

IPCC_EXPORT void ipcc_window_close(struct ipcc_window *win)
{
}
