/* devices/virtio_blk.h: a virtio 1.x ("modern") block device on PCI.
 *
 * PCI function 1AF4:1042 revision 1, class 01/80/00 (mass storage, other),
 * subsystem 1AF4:0040, INTx pin A.  One 16 KiB 32-bit memory BAR (BAR0)
 * holds the virtio structures, found through vendor capabilities (0x09)
 * in configuration space:
 *
 *     BAR0 + 0x0000  common configuration   (VIRTIO_PCI_CAP_COMMON_CFG, 0x38 bytes)
 *     BAR0 + 0x1000  ISR status             (VIRTIO_PCI_CAP_ISR_CFG, 1 byte)
 *     BAR0 + 0x2000  device configuration   (VIRTIO_PCI_CAP_DEVICE_CFG, struct virtio_blk_config)
 *     BAR0 + 0x3000  queue notify           (VIRTIO_PCI_CAP_NOTIFY_CFG, multiplier 4)
 *     config 0x84    VIRTIO_PCI_CAP_PCI_CFG window to the BAR
 *
 * One split virtqueue of up to 256 entries; interrupts through INTx only
 * (no MSI-X: msix_config and queue_msix_vector read 0xFFFF, NO_VECTOR).
 * docs/block.md describes the interface as a driver sees it.
 *
 * The machine builds it after the PCI host and the blockdev:
 *
 *     virtio_blk_init(&vb, sim, bus, &bd, trace);
 *     pci_func_set_irq(&vb.pci, 1, 11, intc_gsi_line(&pc.intc, 16 + slot));
 *     virtio_blk_attach(&vb, &pc.pci, slot);      // 00:slot.0
 *     ...
 *     virtio_blk_power_fail(&vb, &pol, &rng, err, sizeof err);
 */
#ifndef DEVICES_VIRTIO_BLK_H
#define DEVICES_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "devices/pci.h"
#include "sim/event.h"

struct sim;
struct bus;
struct blockdev;
struct trace;
struct crash_policy;
struct rng;
struct pci_host;

#define VBLK_VENDOR             0x1AF4
#define VBLK_DEVICE             0x1042          /* 0x1040 + virtio device ID 2 */
#define VBLK_BAR_SIZE           0x4000
#define VBLK_COMMON_OFF         0x0000
#define VBLK_ISR_OFF            0x1000
#define VBLK_DEVCFG_OFF         0x2000
#define VBLK_NOTIFY_OFF         0x3000
#define VBLK_NOTIFY_MULT        4
#define VBLK_QUEUE_MAX          256
#define VBLK_SEG_MAX            64              /* data segments per request */
#define VBLK_SIZE_MAX           65536           /* bytes per segment */
#define VBLK_REQ_MAX            (4u << 20)      /* data bytes per request */
#define VBLK_INDIRECT_MAX       256             /* entries of an indirect table */

/* Feature bits (virtio 1.x, 5.2.3 and 6). */
enum {
	VIRTIO_BLK_F_SIZE_MAX = 1, VIRTIO_BLK_F_SEG_MAX = 2, VIRTIO_BLK_F_BLK_SIZE = 6,
	VIRTIO_BLK_F_FLUSH = 9, VIRTIO_F_INDIRECT_DESC = 28, VIRTIO_F_VERSION_1 = 32,
};
/* Device status bits. */
enum {
	VIRTIO_STAT_ACKNOWLEDGE = 1, VIRTIO_STAT_DRIVER = 2, VIRTIO_STAT_DRIVER_OK = 4,
	VIRTIO_STAT_FEATURES_OK = 8, VIRTIO_STAT_NEEDS_RESET = 64, VIRTIO_STAT_FAILED = 128,
};
/* Request types and status values. */
enum {
	VIRTIO_BLK_T_IN = 0, VIRTIO_BLK_T_OUT = 1, VIRTIO_BLK_T_FLUSH = 4, VIRTIO_BLK_T_GET_ID = 8,
	VIRTIO_BLK_S_OK = 0, VIRTIO_BLK_S_IOERR = 1, VIRTIO_BLK_S_UNSUPP = 2,
};
enum { VIRTQ_DESC_F_NEXT = 1, VIRTQ_DESC_F_WRITE = 2, VIRTQ_DESC_F_INDIRECT = 4 };
enum { VIRTQ_AVAIL_F_NO_INTERRUPT = 1 };
#define VIRTIO_BLK_ID_BYTES 20

/* One request between notify and completion. */
struct vblk_seg {
	uint64_t addr;
	uint32_t len;
	bool write;             /* device-writable */
};

struct vblk_req {
	struct event ev;
	struct virtio_blk *vb;
	bool busy;
	uint16_t head;
	uint64_t seq;           /* submission order */
	uint32_t type;
	uint64_t sector;        /* 512-byte units, as the driver wrote it */
	uint8_t status;         /* decided at submission when not OK */
	uint64_t rlen, wlen;    /* device-readable / -writable bytes */
	struct vblk_seg *segs;
	unsigned nsegs;
};

struct virtio_blk {
	struct pci_func pci;
	struct sim *sim;
	struct bus *bus;
	struct blockdev *bd;
	struct trace *trace;    /* may be NULL */
	uint32_t trace_name;
	uint64_t bar_addr;      /* PCI_BAR_UNMAPPED or where BAR0 is */

	uint64_t dev_features;
	uint32_t dfselect, gfselect;
	uint64_t drv_features;
	uint8_t status;
	uint8_t isr;
	uint16_t queue_select;

	/* The virtqueue. */
	uint16_t q_size;        /* driver-chosen size */
	bool q_enabled;
	uint64_t q_desc, q_avail, q_used;
	uint16_t last_avail, used_idx;
	unsigned inflight;
	uint64_t submitted;
	struct vblk_req req[VBLK_QUEUE_MAX];

	char id[VIRTIO_BLK_ID_BYTES];

	uint64_t *st_requests, *st_ioerr, *st_unsupp, *st_needs_reset, *st_irqs;
	uint64_t *st_notify_ignored;
};

/* Describe the function (IDs, BAR, capabilities).  bd must be open; trace
 * may be NULL.  Call pci_func_set_irq() on vb->pci before attaching. */
void virtio_blk_init(struct virtio_blk *vb, struct sim *sim, struct bus *bus,
		     struct blockdev *bd, struct trace *trace);
/* Register as 00:dev.0 on the PCI host.  Returns 0 or -1 (slot taken). */
int virtio_blk_attach(struct virtio_blk *vb, struct pci_host *pci, uint8_t dev);
/* Drop the BAR mapping and every request in flight. */
void virtio_blk_free(struct virtio_blk *vb);

/* Device reset, as a driver's write of 0 to device_status: every request
 * in flight is dropped (its write never reaches the device). */
void virtio_blk_reset(struct virtio_blk *vb);

/* The writes in flight (submitted, not completed), in submission order,
 * with their data read from guest RAM, as malloc'd records (inflight =
 * true; free each and the array).  Changes nothing: campaigns compute
 * crash states with it while the machine runs on. */
struct blk_write;
size_t virtio_blk_inflight_writes(struct virtio_blk *vb, struct blk_write ***out);

/* Power failure: freeze the blockdev, offer the writes in flight to the
 * random policy, apply pol (machine/blk_crash.h), write the image and
 * reset the device.  Returns 0, or -1 with one line in err. */
int virtio_blk_power_fail(struct virtio_blk *vb, const struct crash_policy *pol,
			  struct rng *r, char *err, size_t errlen);

/* The BAR0 handlers (also reached through the PCI_CFG window). */
uint64_t virtio_blk_mmio_read(void *vb, uint64_t offset, unsigned size);
void virtio_blk_mmio_write(void *vb, uint64_t offset, unsigned size, uint64_t value);

#endif
