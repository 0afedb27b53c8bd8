/* sim/cmd_boot.c: `phantom-sim boot KERNEL`, like `qemu-system-x86_64
 * -kernel KERNEL`.
 *
 * The default machine (config defaults: DRAM, PC devices, COM1 on
 * stdout, no persistent memory, no disk) needs no config file; --config
 * starts from a file instead, and the options below override it.  The
 * exit status tells how the guest ended (see boot_usage()):
 * isa-debug-exit follows QEMU, (v << 1) | 1, so a test kernel gets the
 * same status under both.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine/machine.h"
#include "sim/cli.h"
#include "sim/config.h"
#include "sim/insn_trace.h"
#include "sim/sim.h"

/* Statuses beyond sim/cli.h's, even so they never look like a debug-exit
 * status (always odd). */
enum {
	EXIT_BOOT_HALTED = 4,           /* hlt that nothing can end */
	EXIT_BOOT_TRIPLE = 6,           /* triple fault (cpu.triple_fault=halt) */
};

static void boot_usage(FILE *out)
{
	fprintf(out,
		"usage: phantom-sim boot [KERNEL] [--config FILE] [--set KEY.PATH=VALUE]...\n"
		"                        [--append CMDLINE] [--serial stdio|none|FILE]\n"
		"                        [--seed N] [--max-insns N] [--max-time-us N] [--stats FILE]\n"
		"  KERNEL              Multiboot kernel (ELF64 entered in long mode); default:\n"
		"                      guest.kernel, else the built-in Phantom guest\n"
		"                      (%s)\n"
		"  --config FILE       machine description (default: the built-in defaults)\n"
		"  --set K.P=VALUE     override one config key (docs/config.md)\n"
		"  --append CMDLINE    kernel command line (guest.cmdline)\n"
		"  --serial OUT        COM1 output: stdio (default), none, or a file\n"
		"  --seed N            run seed\n"
		"  --max-insns N       stop after N instructions (run.max_insns)\n"
		"  --max-time-us N     stop after N us of simulated time (run.max_time_us)\n"
		"  --stats FILE        write all counters as JSON to FILE at the end\n"
		"\nexit status:\n"
		"  0    a run limit was reached with the guest still running\n"
		"  odd  the guest wrote v to isa-debug-exit (port 0xF4): ((v << 1) | 1) & 0xFF,\n"
		"       as QEMU's -device isa-debug-exit (Phantom: 1 clean, 3 panic, 5 exception)\n"
		"  2    bad input: command line, config, kernel image\n"
		"  3    host error: an output file could not be written\n"
		"  4    the guest halted for good (hlt with interrupts off, nothing left\n"
		"       that could interrupt it, or no interrupt for 600 s of simulated time)\n"
		"  6    triple fault (cpu.triple_fault = halt)\n",
		machine_default_kernel());
}

/* "key=value" for config_set. */
static int set_key(struct config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	size_t n = strlen(key) + strlen(value) + 2;
	char *a = malloc(n);
	if (!a)
		abort();
	snprintf(a, n, "%s=%s", key, value);
	int rc = config_set(cfg, a, err, errlen);
	free(a);
	return rc;
}

int cmd_boot(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"set", required_argument, NULL, 's'},
		{"append", required_argument, NULL, 'a'},
		{"serial", required_argument, NULL, 'o'},
		{"seed", required_argument, NULL, 'S'},
		{"max-insns", required_argument, NULL, 'i'},
		{"max-time-us", required_argument, NULL, 'T'},
		{"stats", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *config_path = NULL, *stats_path = NULL, *append = NULL, *serial = NULL;
	const char *max_insns = NULL, *max_time = NULL;
	const char **sets = calloc((size_t)argc + 1, sizeof *sets);
	size_t nsets = 0;
	bool have_seed = false;
	unsigned long long seed = 0, u;
	int c, rc = EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 's': sets[nsets++] = optarg; break;
		case 'a': append = optarg; break;
		case 'o': serial = optarg; break;
		case 'S':
			if (cli_parse_u64("--seed", optarg, &seed))
				goto out;
			have_seed = true;
			break;
		case 'i':
			if (cli_parse_u64("--max-insns", optarg, &u))
				goto out;
			max_insns = optarg;
			break;
		case 'T':
			if (cli_parse_u64("--max-time-us", optarg, &u))
				goto out;
			max_time = optarg;
			break;
		case 't': stats_path = optarg; break;
		case 'h': boot_usage(stdout); rc = EXIT_OK; goto out;
		default: boot_usage(stderr); goto out;
		}
	}
	const char *kernel = NULL;
	if (optind < argc)
		kernel = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "phantom-sim: boot: unexpected argument '%s'\n", argv[optind]);
		goto out;
	}

	struct config cfg;
	char err[1024];
	if (config_path) {
		if (config_load(&cfg, config_path, err, sizeof err)) {
			fprintf(stderr, "phantom-sim: %s\n", err);
			config_free(&cfg);
			goto out;
		}
	} else {
		config_defaults(&cfg);
	}
	int bad = 0;
	for (size_t k = 0; k < nsets && !bad; k++)
		bad = config_set(&cfg, sets[k], err, sizeof err);
	if (!bad && kernel)
		bad = set_key(&cfg, "guest.kernel", kernel, err, sizeof err);
	if (!bad && append)
		bad = set_key(&cfg, "guest.cmdline", append, err, sizeof err);
	if (!bad && serial)
		bad = set_key(&cfg, "serial.output", serial, err, sizeof err);
	if (!bad && max_insns)
		bad = set_key(&cfg, "run.max_insns", max_insns, err, sizeof err);
	if (!bad && max_time)
		bad = set_key(&cfg, "run.max_time_us", max_time, err, sizeof err);
	if (!bad)
		bad = config_check(&cfg, err, sizeof err);
	if (!bad)
		bad = insn_trace_check(&cfg, err, sizeof err);
	if (bad) {
		fprintf(stderr, "phantom-sim: %s\n", err);
		config_free(&cfg);
		goto out;
	}
	if (have_seed)
		cfg.run.seed = seed;

	struct sim sim;
	sim_init(&sim, cfg.run.seed);
	sim.max_time = cfg.run.max_time_us * SIM_US;
	sim.max_insns = cfg.run.max_insns;
	*stats_counter(&sim.stats, "run.seed") = cfg.run.seed;

	/* stdout carries the guest's serial output: keep it in order with
	 * what the simulator prints on stderr. */
	fflush(stdout);
	struct machine m;
	if (machine_init(&m, &sim, &cfg, err, sizeof err) < 0) {
		fprintf(stderr, "phantom-sim: %s\n", err);
		machine_free(&m, err, sizeof err);
		sim_free(&sim);
		config_free(&cfg);
		goto out;
	}
	insn_trace_from_config(m.cpu, m.trace, &cfg);
	enum machine_exit why = machine_run(&m);
	fflush(stdout);
	*stats_counter(&sim.stats, "run.sim_time_ps") = sim.now;
	*stats_counter(&sim.stats, "run.insns") = sim.insns;
	switch (why) {
	case MACHINE_EXIT_DEBUG_EXIT: rc = m.exit_code & 0xFF; break;
	case MACHINE_EXIT_HALTED: rc = EXIT_BOOT_HALTED; break;
	case MACHINE_EXIT_TRIPLE_FAULT: rc = EXIT_BOOT_TRIPLE; break;
	default: rc = EXIT_OK; break;
	}
	fprintf(stderr, "phantom-sim: boot %s: %s (status %d) after %llu instructions, "
		"%llu ps of simulated time\n", m.kernel ? m.kernel : "?", machine_exit_name(why), rc,
		(unsigned long long)sim.insns, (unsigned long long)sim.now);
	if (why == MACHINE_EXIT_HALTED)
		fprintf(stderr, "phantom-sim: the guest halted at rip=%#llx with interrupts %s%s\n",
			(unsigned long long)m.cpu->rip, (m.cpu->rflags & 0x200) ? "on" : "off",
			m.idle_timeout ? ", and no interrupt came for 600 s of simulated time" : "");
	if (machine_free(&m, err, sizeof err)) {
		fprintf(stderr, "phantom-sim: %s\n", err);
		rc = EXIT_HOST;
	}
	if (stats_path && cli_write_stats(&sim, stats_path))
		rc = EXIT_HOST;
	sim_free(&sim);
	config_free(&cfg);
out:
	free(sets);
	return rc;
}
