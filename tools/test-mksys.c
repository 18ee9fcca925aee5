/* SPDX-License-Identifier: MIT */
/*
 * test-mksys NAME CPU...: create a system whose every pair of the named CPUs is linked with IPC
 * Notify and RPMessage (the defaults), for tools/test-live.sh while system descriptions have no
 * `services: rpmsg:` block.
 */
#include <stdio.h>

#include <ipcc/ipcc.h>

int main(int argc, char **argv)
{
	struct ipcc_notify_config ncfg;
	struct ipcc_rpmsg_config rcfg;
	struct ipcc_config cfg;
	struct ipcc_system *sys;
	int r;

	if (argc < 4) {
		fprintf(stderr, "usage: test-mksys NAME CPU CPU...\n");
		return 2;
	}
	ipcc_config_init(&cfg);
	cfg.cpus = (unsigned)(argc - 2);
	for (unsigned i = 0; i < cfg.cpus; i++)
		if ((r = ipcc_config_set_cpu_name(&cfg, i, argv[2 + i])) < 0)
			goto fail;
	ipcc_notify_config_init(&ncfg);
	ipcc_rpmsg_config_init(&rcfg);
	cfg.notify = &ncfg;
	cfg.rpmsg = &rcfg;
	r = ipcc_system_create(argv[1], &cfg, &sys);
	if (r < 0)
		goto fail;
	ipcc_system_close(sys);
	return 0;
fail:
	fprintf(stderr, "test-mksys: %s: %s\n", argv[1], ipcc_strerror(r));
	return 1;
}
