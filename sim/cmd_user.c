/* sim/cmd_user.c: `phantom-sim user`, run a static Linux program.
 *
 *     phantom-sim user [--seed N] [--max-insns N] [--stats FILE] [--strace]
 *                      PROGRAM [ARGS...]
 *
 * Loads PROGRAM (a static x86-64 ELF) into a fresh bus, runs it on the
 * simulated CPU in 64-bit user mode and serves its system calls
 * (machine/linux_syscall.c).  The exit status is the guest's own; the
 * cases where there is no guest status are documented in usage() below.
 * Same program, arguments, environment, input files and seed: same
 * output, byte for byte.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine/bus.h"
#include "machine/cpu.h"
#include "machine/elf.h"
#include "machine/linux_syscall.h"
#include "machine/linux_user.h"
#include "sim/cli.h"
#include "sim/sim.h"

extern char **environ;

/* Instructions per cpu_run() call: long enough to amortise the call,
 * short enough to check the instruction limit often. */
#define USER_SLICE (1ULL << 22)

/* The status for --max-insns running out, as timeout(1) reports. */
#define EXIT_INSN_LIMIT 124

static void usage(FILE *out)
{
	fprintf(out,
		"usage: phantom-sim user [OPTIONS] PROGRAM [ARGS...]\n"
		"Run a static x86-64 Linux executable on the simulated CPU in user mode.\n"
		"\noptions (before PROGRAM):\n"
		"  --seed N        run seed: AT_RANDOM, getrandom and /dev/urandom (default 1)\n"
		"  --max-insns N   stop after N guest instructions (default: no limit)\n"
		"  --stats FILE    write the counters as JSON to FILE at the end\n"
		"  --strace        print each system call on stderr\n"
		"\nexit status:\n"
		"  the guest's exit status when it exits;\n"
		"  128+N when the guest dies of signal N, as a shell shows it: a CPU\n"
		"        fault gives SIGSEGV (139) for #PF/#GP, SIGILL (132) for #UD,\n"
		"        SIGFPE (136) for #DE and SIMD/x87 errors, SIGTRAP (133) for\n"
		"        int3, SIGBUS (135) for #AC; a write to a closed pipe gives\n"
		"        SIGPIPE (141); a signal the guest sends itself (abort) ends it\n"
		"  2   bad command line or PROGRAM not loadable (one line on stderr)\n"
		"  3   could not write the --stats file\n"
		"  124 --max-insns reached\n"
		"\ndetails: docs/user-mode.md\n");
}

/* The signal Linux sends for each exception vector (arch/x86/kernel/traps.c). */
static int vector_signal(unsigned vector)
{
	switch (vector) {
	case CPU_EXC_DE: case CPU_EXC_MF: case CPU_EXC_XM: return 8;   /* SIGFPE */
	case CPU_EXC_DB: case CPU_EXC_BP: return 5;                    /* SIGTRAP */
	case CPU_EXC_UD: return 4;                                     /* SIGILL */
	case CPU_EXC_AC: case CPU_EXC_SS: return 7;                    /* SIGBUS */
	default: return 11;                                            /* SIGSEGV */
	}
}

static const char *vector_name(unsigned vector)
{
	static const char *const names[32] = {
		[0] = "#DE", [1] = "#DB", [3] = "#BP", [4] = "#OF", [5] = "#BR", [6] = "#UD",
		[7] = "#NM", [8] = "#DF", [10] = "#TS", [11] = "#NP", [12] = "#SS", [13] = "#GP",
		[14] = "#PF", [16] = "#MF", [17] = "#AC", [18] = "#MC", [19] = "#XM",
	};
	return vector < 32 && names[vector] ? names[vector] : "exception";
}

/* One line describing the fault, with the instruction bytes at rip so a
 * missing instruction can be reported as it is. */
static void report_fault(struct cpu *c, struct bus *bus)
{
	uint8_t code[15];
	size_t n = 0;
	while (n < sizeof code && bus_dma_read(bus, c->rip + n, code + n, 1) == 0)
		n++;
	fprintf(stderr, "phantom-sim: guest fault: %s at rip=%#llx", vector_name(c->exc_vector),
		(unsigned long long)c->rip);
	if (c->exc_vector == CPU_EXC_PF)
		fprintf(stderr, " addr=%#llx (%s%s)", (unsigned long long)c->cr2,
			c->exc_error & CPU_PF_I ? "fetch" : c->exc_error & CPU_PF_W ? "write" : "read",
			c->exc_error & CPU_PF_P ? ", protection" : ", not mapped");
	else if (c->exc_vector == CPU_EXC_GP || c->exc_vector == CPU_EXC_SS)
		fprintf(stderr, " error=%#x", c->exc_error);
	if (n) {
		fprintf(stderr, " bytes:");
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %02x", code[i]);
	}
	fputc('\n', stderr);
}

struct user_options {
	unsigned long long seed, max_insns;
	const char *stats;
	bool strace;
};

/* Options end at the first argument that is not one: PROGRAM. */
static int parse_options(int argc, char **argv, struct user_options *o, int *first)
{
	int i = 1;
	*o = (struct user_options){.seed = 1};
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *arg = argv[i], *val = NULL;
		const char *eq = strchr(arg, '=');
		size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
		bool takes_value = (name_len == 6 && !strncmp(arg, "--seed", 6)) ||
				   (name_len == 11 && !strncmp(arg, "--max-insns", 11)) ||
				   (name_len == 7 && !strncmp(arg, "--stats", 7));
		if (!strcmp(arg, "--")) {
			i++;
			break;
		}
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			usage(stdout);
			return 1;
		}
		if (!strcmp(arg, "--strace")) {
			o->strace = true;
			continue;
		}
		if (!takes_value) {
			fprintf(stderr, "phantom-sim user: unknown option '%s' (see phantom-sim user --help)\n", arg);
			return -1;
		}
		if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			fprintf(stderr, "phantom-sim user: %s needs a value\n", arg);
			return -1;
		}
		if (!strncmp(arg, "--stats", 7)) {
			o->stats = val;
		} else if (cli_parse_u64(!strncmp(arg, "--seed", 6) ? "--seed" : "--max-insns", val,
					 !strncmp(arg, "--seed", 6) ? &o->seed : &o->max_insns)) {
			return -1;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "phantom-sim user: no PROGRAM given (see phantom-sim user --help)\n");
		return -1;
	}
	*first = i;
	return 0;
}

/* Run until the guest exits, faults or reaches the limit.  Returns the
 * exit status. */
static int run(struct sim *sim, struct bus *bus, struct cpu *cpu, struct linux_proc *p)
{
	while (!p->exited) {
		uint64_t budget = USER_SLICE;
		if (sim->max_insns) {
			if (sim->insns >= sim->max_insns) {
				fprintf(stderr, "phantom-sim: instruction limit reached (%llu instructions)\n",
					(unsigned long long)sim->insns);
				return EXIT_INSN_LIMIT;
			}
			if (sim->max_insns - sim->insns < budget)
				budget = sim->max_insns - sim->insns;
		}
		enum cpu_exit why = cpu_run(cpu, budget);
		switch (why) {
		case CPU_EXIT_SYSCALL:
			linux_syscall(p);
			break;
		case CPU_EXIT_BUDGET:
			break;
		case CPU_EXIT_EXCEPTION:
			report_fault(cpu, bus);
			return 128 + vector_signal(cpu->exc_vector);
		case CPU_EXIT_HALT:
			/* hlt at CPL 3 is #GP(0) on hardware: SIGSEGV. */
			fprintf(stderr, "phantom-sim: guest fault: #GP (hlt in user mode) at rip=%#llx\n",
				(unsigned long long)cpu->rip);
			return 128 + 11;
		case CPU_EXIT_STOP:
			fprintf(stderr, "phantom-sim: run stopped (%s)\n", sim_stop_name(sim->stop));
			return EXIT_GUEST;
		default:        /* system-mode exits cannot happen in user mode */
			fprintf(stderr, "phantom-sim: unexpected CPU exit in user mode (%s) at rip=%#llx\n",
				cpu_exit_name(why), (unsigned long long)cpu->rip);
			return EXIT_GUEST;
		}
	}
	return p->exit_status;
}

int cmd_user(int argc, char **argv)
{
	struct user_options o;
	struct elf_image img;
	struct sim sim;
	struct bus bus;
	struct linux_proc p;
	char err[512];
	int first, status;

	int rc = parse_options(argc, argv, &o, &first);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	const char *prog = argv[first];
	if (elf_load_file(&img, prog, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}

	sim_init(&sim, o.seed);
	sim.max_insns = o.max_insns;
	bus_init(&bus, &sim);
	struct cpu *cpu = cpu_new(&sim, &bus);
	if (!cpu) {
		fprintf(stderr, "phantom-sim: out of memory creating the CPU\n");
		elf_free(&img);
		bus_free(&bus);
		sim_free(&sim);
		return EXIT_HOST;
	}
	linux_proc_init(&p, &sim, &bus, cpu);
	p.strace = o.strace;
	if (linux_proc_load(&p, &img, prog, argc - first, argv + first, environ, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		status = EXIT_USAGE;
	} else {
		elf_free(&img);
		/* A write to a closed pipe comes back as EPIPE, and the syscall
		 * layer decides what the guest sees. */
		signal(SIGPIPE, SIG_IGN);
		status = run(&sim, &bus, cpu, &p);
	}
	elf_free(&img);

	*stats_counter(&sim.stats, "run.seed") = o.seed;
	*stats_counter(&sim.stats, "run.sim_time_ps") = sim.now;
	*stats_counter(&sim.stats, "cpu.insns") = sim.insns;
	*stats_counter(&sim.stats, "user.exit_status") = (uint64_t)status;
	if (o.stats && cli_write_stats(&sim, o.stats) && status == 0)
		status = EXIT_HOST;

	linux_proc_free(&p);
	cpu_free(cpu);
	bus_free(&bus);
	sim_free(&sim);
	return status;
}
