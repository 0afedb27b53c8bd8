/* machine/machine.h: the PC machine, assembled from a config, and its run
 * loop.
 *
 *     struct machine m;
 *     char err[512];
 *     if (machine_init(&m, &sim, &cfg, err, sizeof err) < 0)
 *             fprintf(stderr, "%s\n", err), ...;      // bad input: exit 2
 *     enum machine_exit why = machine_run(&m);
 *     ... m.exit_code (debug-exit) ...
 *     machine_free(&m, err, sizeof err);              // closes the trace
 *
 * Assembly: DRAM by machine/layout (every MEM_RAM range and the reserved
 * low range are bus RAM), the PC devices (devices/pc.h) with COM1 as the
 * config's serial.output/serial.input, the trace port (trace.file), the
 * persistent-memory region (pmem.enabled: devices/nvdimm.h) and the
 * virtio block device (block.enabled: devices/virtio_blk.h, PCI 00:04.0,
 * INTA# on GSI 16+4), the CPU in system mode, and the kernel loaded by
 * the Multiboot loader (ELF64: long mode; ELF32 and a.out: 32-bit protected
 * mode, as QEMU's -kernel).
 *
 * The kernel is guest.kernel, or when that is empty the built-in Phantom
 * guest: $(pkgdatadir)/phantom-kernel.elf, or, when phantom-sim runs
 * uninstalled, PHANTOM_BUILDDIR/phantom-kernel.elf (the build tree, a
 * compile-time define).  machine_default_kernel() gives the path used.
 *
 * The run loop runs the CPU in slices that end at the next event, fires
 * due events between slices, delivers interrupts at instruction
 * boundaries, and on HLT advances simulated time straight to the next
 * event (never spinning).  It ends on:
 *
 *   MACHINE_EXIT_DEBUG_EXIT   the guest wrote v to isa-debug-exit (0xF4);
 *                             exit_code = (v << 1) | 1, QEMU's status
 *   MACHINE_EXIT_HALTED       HLT that no interrupt can end (IF = 0 and no
 *                             NMI, or no event left to raise one, or none
 *                             came for MACHINE_IDLE_LIMIT of simulated time)
 *   MACHINE_EXIT_TRIPLE_FAULT a triple fault with cpu.triple_fault "halt"
 *                             ("reset" reloads the kernel and restarts)
 *   MACHINE_EXIT_LIMIT        run.max_time_us / run.max_insns reached
 *   MACHINE_EXIT_STOPPED      another component asked the run to stop
 */
#ifndef MACHINE_MACHINE_H
#define MACHINE_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/blockdev.h"
#include "devices/nvdimm.h"
#include "devices/pc.h"
#include "devices/trace_port.h"
#include "devices/virtio_blk.h"
#include "machine/bus.h"
#include "machine/layout.h"
#include "machine/multiboot.h"
#include "sim/clock.h"

struct sim;
struct config;
struct cpu;
struct trace;

enum machine_exit {
	MACHINE_EXIT_NONE,
	MACHINE_EXIT_DEBUG_EXIT,
	MACHINE_EXIT_HALTED,
	MACHINE_EXIT_TRIPLE_FAULT,
	MACHINE_EXIT_LIMIT,
	MACHINE_EXIT_STOPPED,
};

/* A HLT that no interrupt ends for this long (simulated time) ends the
 * run as MACHINE_EXIT_HALTED (idle_timeout set): 10 minutes. */
#define MACHINE_IDLE_LIMIT (600 * SIM_S)

/* PCI slot of the virtio block device. */
#define MACHINE_VBLK_SLOT 4

struct machine {
	struct sim *sim;
	const struct config *cfg;
	struct layout layout;
	struct bus bus;
	struct pc_devices pc;
	struct trace_port tp;
	struct trace *trace;
	struct {                        /* PM write-pending queues as last traced */
		unsigned occupancy;
		uint64_t accepted;      /* writes the PM DIMMs had accepted */
	} trace_wpq;
	struct cpu *cpu;
	struct nvdimm nv;
	bool have_nv;
	struct blockdev bd;
	struct virtio_blk vb;
	bool have_blk;
	struct boot_entry boot;
	char *kernel;                   /* the path loaded */
	unsigned resets;                /* triple-fault resets so far */
	sim_time_t halt_since;          /* when the current HLT began */
	bool idle_timeout;              /* HALTED: MACHINE_IDLE_LIMIT passed */

	bool bus_ready, pc_ready;
	enum machine_exit exit;
	int exit_code;                  /* MACHINE_EXIT_DEBUG_EXIT: (v << 1) | 1 */
	uint64_t *st_halts, *st_slices, *st_resets;
};

/* Build everything; -1 with one line in err (bad config, unreadable or
 * invalid kernel, unwritable trace).  Call machine_free() either way. */
int machine_init(struct machine *m, struct sim *sim, const struct config *cfg,
		 char *err, size_t errlen);
enum machine_exit machine_run(struct machine *m);
/* Power off: persistent state to the images, trace closed.  Returns 0, or
 * -1 with a message in err when an output could not be written. */
int machine_free(struct machine *m, char *err, size_t errlen);

const char *machine_exit_name(enum machine_exit e);
/* The built-in kernel's path (see above); never NULL. */
const char *machine_default_kernel(void);

#endif
