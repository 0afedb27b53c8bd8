/* machine/guest_abi.h: constants of the guest/host machine interface.
 *
 * This header is the one place where the simulator (host) and the Phantom
 * guest agree on numbers.  It holds constants only, no code and no types
 * beyond integers, so both sides can include it without linking each
 * other.  docs/machine.md describes the interface in prose.
 */
#ifndef MACHINE_GUEST_ABI_H
#define MACHINE_GUEST_ABI_H

/* --- I/O ports ------------------------------------------------------ */
#define ABI_PORT_DEBUG_EXIT     0x00F4  /* QEMU isa-debug-exit: status (v<<1)|1 */
#define ABI_PORT_POST           0x0080
#define ABI_PORT_COM1           0x03F8

/* The trace port: a simulator device the guest reports events through.
 * Write argument words to ABI_PORT_TRACE_ARG (32-bit OUT), then the event
 * code to ABI_PORT_TRACE_EMIT (32-bit OUT).  A 32-bit IN from
 * ABI_PORT_TRACE_ARG returns ABI_TRACE_MAGIC under phantom-sim (all ones
 * on other machines, e.g. QEMU, where the writes go nowhere).  The
 * persistence model exempts these two ports from the rule that I/O
 * instructions order pending stores (docs/crash-model.md), so tracing
 * never changes what survives a power failure. */
#define ABI_PORT_TRACE_ARG      0x0E50
#define ABI_PORT_TRACE_EMIT     0x0E54
#define ABI_TRACE_MAGIC         0x544E4850u     /* "PHNT" little-endian */
#define ABI_TRACE_MAX_ARGS      16

/* Trace event codes.  64-bit values travel as two words, low word first.
 * Arguments in order: */
#define ABI_EV_BOOT             1   /* abi version */
#define ABI_EV_SNAPSHOT_BEGIN   2   /* gen.lo gen.hi [dirty_pages]: pause begins */
#define ABI_EV_PAUSE_END        3   /* gen.lo gen.hi [dirty_pages]: threads run
				       again; dirty_pages: pages the pause found dirty */
#define ABI_EV_PAGES_WRITTEN    4   /* gen.lo gen.hi npages */
#define ABI_EV_COMMIT           5   /* gen.lo gen.hi digest.lo digest.hi: durable */
#define ABI_EV_RECOVERY_BEGIN   6   /* (none) */
#define ABI_EV_RECOVERY_END     7   /* gen.lo gen.hi digest.lo digest.hi selfcheck invariant
				       (selfcheck, invariant: 0 = ok) */
#define ABI_EV_WORKLOAD_OP      8   /* kind count */
#define ABI_EV_PANIC            9   /* code */
#define ABI_EV_EXCEPTION       10   /* vector error.lo error.hi rip.lo rip.hi */
#define ABI_EV_FIRST_BOOT      11   /* (none): empty store, fresh object space */
#define ABI_EV_COMMIT_BEGIN    12   /* gen.lo gen.hi: data written, root write starts */
#define ABI_EV_STORE_OPEN      13   /* (none): the store is open and nothing of it read
				       yet; campaigns snapshot the machine here */
#define ABI_EV_DIGEST          14   /* gen.lo gen.hi digest.lo digest.hi: the digest of
				       committed gen, when its COMMIT carried 0 because
				       the pages are hashed after the root is durable */

#define ABI_VERSION             1

/* --- Physical memory map -------------------------------------------- */
#define ABI_LOW_RAM_TOP         0x0009FC00ull   /* mem_lower = 639 KiB */
#define ABI_HIGH_RAM_BASE       0x00100000ull
#define ABI_MMIO_HOLE_BASE      0xC0000000ull   /* 3 GiB: PCI BARs, APICs */
#define ABI_PCI_MMIO_BASE       0xE0000000ull
#define ABI_IOAPIC_BASE         0xFEC00000ull
#define ABI_LAPIC_BASE          0xFEE00000ull
#define ABI_HIGH_DRAM_BASE      0x100000000ull  /* DRAM above 3 GiB moves here */
#define ABI_E820_PMEM           7               /* Multiboot/E820 type: persistent */

#endif
