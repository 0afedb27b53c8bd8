/* devices/pci.h: PCI configuration space, mechanism #1, and the registry
 * of PCI functions.
 *
 *     pci_init(&pci, sim);                 // host bridge at 00:00.0
 *     pci_attach(&pci, bus);               // ports 0xCF8 and 0xCFC-0xCFF
 *
 *     // A device (e.g. virtio-blk) describes itself and its BARs:
 *     pci_func_init(&blk->pci, 0, 3, 0, 0x1AF4, 0x1042, 0x010000, 1);
 *     pci_func_set_bar(&blk->pci, 0, 0x4000, PCI_BAR_MEM64);
 *     blk->pci.map = blk_map_bar;          // guest moved or (un)mapped a BAR
 *     blk->pci.ctx = blk;
 *     pci_register(&pci, &blk->pci);
 *
 *     static void blk_map_bar(void *ctx, int bar, uint64_t old, uint64_t new)
 *     {   // old / new are PCI_BAR_UNMAPPED or the base address
 *         if (old != PCI_BAR_UNMAPPED) bus_remove(bus, old, size);
 *         if (new != PCI_BAR_UNMAPPED) bus_add_mmio(bus, "blk", new, size, ...);
 *     }
 *
 * A BAR is mapped when its decode bit in the command register (I/O or
 * memory space) is set and its address is neither 0 nor the all-ones
 * pattern of a sizing probe.
 */
#ifndef DEVICES_PCI_H
#define DEVICES_PCI_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/irq.h"

struct sim;
struct bus;

#define PCI_MAX_FUNCS 64
#define PCI_BAR_UNMAPPED UINT64_MAX

/* Config space offsets. */
enum {
	PCI_VENDOR_ID = 0x00, PCI_DEVICE_ID = 0x02, PCI_COMMAND = 0x04,
	PCI_STATUS = 0x06, PCI_REVISION = 0x08, PCI_CLASS_PROG = 0x09,
	PCI_CACHE_LINE = 0x0C, PCI_LATENCY = 0x0D, PCI_HEADER_TYPE = 0x0E,
	PCI_BAR0 = 0x10, PCI_SUBSYS_VENDOR = 0x2C, PCI_SUBSYS_ID = 0x2E,
	PCI_CAP_PTR = 0x34, PCI_INT_LINE = 0x3C, PCI_INT_PIN = 0x3D,
};
enum {
	PCI_CMD_IO = 1, PCI_CMD_MEM = 2, PCI_CMD_MASTER = 4,
	PCI_CMD_INTX_DISABLE = 0x400, PCI_STATUS_INTX = 0x08, PCI_STATUS_CAP = 0x10,
};
/* BAR kinds. */
enum { PCI_BAR_MEM32 = 0, PCI_BAR_IO = 1, PCI_BAR_MEM64 = 4, PCI_BAR_PREFETCH = 8 };

typedef void pci_map_fn(void *ctx, int bar, uint64_t old_addr, uint64_t new_addr);
/* After the generic write has landed (masks applied). */
typedef void pci_cfg_write_fn(void *ctx, unsigned offset, unsigned size, uint32_t value);
/* May replace the stored value of a read (for live registers). */
typedef uint32_t pci_cfg_read_fn(void *ctx, unsigned offset, unsigned size, uint32_t stored);

struct pci_bar {
	uint64_t size;          /* 0: not implemented (or the top of a 64-bit BAR) */
	unsigned kind;
	uint64_t mapped;        /* PCI_BAR_UNMAPPED or the address map() was told */
};

struct pci_func {
	uint8_t bus, dev, fn;
	uint8_t cfg[256];
	uint8_t wmask[256];     /* writable bits */
	uint8_t w1c[256];       /* write-one-to-clear bits */
	struct pci_bar bar[6];
	pci_map_fn *map;
	pci_cfg_write_fn *cfg_write;
	pci_cfg_read_fn *cfg_read;
	void *ctx;
	struct irq_line irq;    /* INTx, one line per function: no sharing */
	bool irq_level;
	bool irq_out;
};

struct pci_host {
	struct sim *sim;
	uint32_t addr;          /* CONFIG_ADDRESS at 0xCF8 */
	struct pci_func *funcs[PCI_MAX_FUNCS];
	unsigned nfuncs;
	struct pci_func bridge; /* 00:00.0 */
	uint64_t *st_reads, *st_writes, *st_absent;
};

void pci_init(struct pci_host *h, struct sim *sim);
int pci_attach(struct pci_host *h, struct bus *bus);

/* Header type 0 with the given IDs, class code (base << 16 | sub << 8 |
 * prog-if) and revision, command/status/BARs empty. */
void pci_func_init(struct pci_func *f, uint8_t bus, uint8_t dev, uint8_t fn,
		   uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision);
/* size: a power of two (at least 16 for memory, 4 for I/O); a 64-bit BAR
 * takes slots idx and idx+1. */
int pci_func_set_bar(struct pci_func *f, int idx, uint64_t size, unsigned kind);
/* INTx pin (1 = INTA#) and the line number the firmware would have
 * written into the interrupt line register. */
void pci_func_set_irq(struct pci_func *f, uint8_t pin, uint8_t line, struct irq_line irq);
int pci_register(struct pci_host *h, struct pci_func *f);
struct pci_func *pci_find(struct pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn);

/* Assert or deassert the function's INTx, subject to INTx disable. */
void pci_set_irq(struct pci_func *f, bool level);

/* Configuration accesses by address (also usable for an ECAM window). */
uint32_t pci_cfg_read(struct pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn,
		      unsigned offset, unsigned size);
void pci_cfg_write(struct pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn,
		   unsigned offset, unsigned size, uint32_t value);

uint32_t pci_io_read(void *host, uint16_t port, unsigned size);
void pci_io_write(void *host, uint16_t port, unsigned size, uint32_t value);

#endif
