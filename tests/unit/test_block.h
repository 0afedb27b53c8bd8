/* tests/unit/test_block.h: a virtio-blk driver for the unit tests.
 *
 * The tests drive the device exactly as a guest driver would: PCI
 * configuration space through the pci API, BAR programming, MMIO to the
 * capability structures on a real struct bus, descriptors and rings in
 * guest RAM, a notify, then the event queue, and the used ring and the
 * interrupt wire afterwards.
 */
#ifndef TESTS_UNIT_TEST_BLOCK_H
#define TESTS_UNIT_TEST_BLOCK_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include "devices/blockdev.h"
#include "devices/pci.h"
#include "devices/virtio_blk.h"
#include "machine/blk_crash.h"
#include "machine/bus.h"
#include "sim/config.h"
#include "sim/sim.h"

Suite *blockdev_suite(void);
Suite *virtio_blk_suite(void);
Suite *blk_crash_suite(void);

#define TB_RAM          (16u << 20)
#define TB_BAR          0xE0000000u
#define TB_DEV          3
/* Guest RAM layout the test driver uses. */
#define TB_DESC         0x10000u        /* descriptor table */
#define TB_AVAIL        0x20000u
#define TB_USED         0x30000u
#define TB_HDR          0x40000u        /* request headers, 16 bytes per slot */
#define TB_STATUS       0x48000u        /* status bytes, one per slot */
#define TB_DATA         0x100000u       /* data buffers */

struct tb_irq {
	bool level;
	int rises;
};

struct tb {
	struct sim sim;
	struct bus bus;
	struct pci_host pci;
	struct blockdev bd;
	struct virtio_blk vb;
	struct tb_irq irq;
	char dir[64], path[128];
	/* Found through the capabilities. */
	uint32_t common, isr, devcfg, notify, notify_mult;
	unsigned pcicfg_cap;
	uint16_t qsize, avail_idx, used_seen, next_desc;
};

struct tb_opts {
	unsigned preset;
	uint32_t sector_size, atomic_bytes;
	uint64_t size;                  /* bytes */
	bool write_through;             /* volatile_cache = false */
	bool no_flush_feature;          /* driver does not negotiate FLUSH */
	uint16_t qsize;                 /* 0: 64 */
};

/* Bring up the machine and the driver (features, queue, DRIVER_OK). */
void tb_up(struct tb *t, const struct tb_opts *o);
/* The machine without the driver: PCI, BAR, the blockdev open. */
int tb_machine(struct tb *t, const struct tb_opts *o, char *err, size_t errlen);
void tb_driver_init(struct tb *t, uint64_t features);
void tb_down(struct tb *t);

uint32_t tb_cfg_read(struct tb *t, unsigned off, unsigned size);
void tb_cfg_write(struct tb *t, unsigned off, unsigned size, uint32_t v);
uint64_t tb_mmio_read(struct tb *t, uint32_t off, unsigned size);
void tb_mmio_write(struct tb *t, uint32_t off, unsigned size, uint64_t v);
void tb_poke(struct tb *t, uint64_t pa, const void *src, size_t len);
void tb_peek(struct tb *t, uint64_t pa, void *dst, size_t len);
void tb_put_desc(struct tb *t, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next);

/* One request as a three-descriptor chain (header, data, status) using
 * descriptors from slot*3; made available and notified.  data_len 0 makes
 * a two-descriptor chain.  Returns the head. */
uint16_t tb_submit(struct tb *t, unsigned slot, uint32_t type, uint64_t sector,
		   uint64_t data_addr, uint32_t data_len);
void tb_make_available(struct tb *t, uint16_t head);
void tb_notify(struct tb *t);
/* Run the event queue until nothing is left. */
void tb_run(struct tb *t);
/* Next used element: returns false when the used ring has nothing new. */
bool tb_used(struct tb *t, uint32_t *id, uint32_t *len);
uint8_t tb_status(struct tb *t, unsigned slot);
/* Submit, run, collect: the status byte of a single request. */
uint8_t tb_do(struct tb *t, uint32_t type, uint64_t sector, uint64_t data_addr, uint32_t len);
uint8_t tb_dev_status(struct tb *t);

/* Fill/verify a pattern derived from (tag, byte offset). */
void tb_pattern(uint8_t *buf, size_t len, uint32_t tag);

#endif
