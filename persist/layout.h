/* persist/layout.h: the snapshot store's on-media format (both backends).
 *
 * The store is an array of 4 KiB blocks: the PM region for backend=pmem,
 * the virtio-blk disk from sector 0 for backend=disk.
 *
 *   block 0            superblock (written at format time only)
 *   blocks 1, 2        root records A and B; generation g lives in
 *                      block 1 + (g % 2), so a commit never overwrites the
 *                      newest complete root
 *   block 3            the seal record of an unsealed root (below)
 *   blocks 4, 5, ...   slots 1, 2, ...: object-space pages and map pages
 *
 * Slot 0 means "a page of zeros" and is never stored.  A snapshot is a
 * root record naming map pages; map page m lists, for object-space pages
 * 512m .. 512m+511, the slot holding each page and the low 32 bits of its
 * page hash.  The root may also carry a delta: entries (page, slot,
 * check) that override the map pages' ones, packed after the map
 * references, so a snapshot that changes a few pages scattered over many
 * map pages need not rewrite those map pages.  Shadow paging: a snapshot writes changed pages and changed
 * map pages to slots the committed snapshot does not use, and only the
 * root write (after a barrier) makes it current.  The slots the old
 * snapshot used alone become free after the commit; which slots are free
 * is not stored but recomputed at recovery from the current root.
 *
 * All integers are little-endian.  The superblock's and root's checksums
 * are hash64 (digest.h) over the whole 4096-byte block with the checksum
 * field zero; the check of a page or a map page is the low 32 bits of its
 * page_hash.
 */
#ifndef PERSIST_LAYOUT_H
#define PERSIST_LAYOUT_H

#include <stdint.h>

#define STORE_BLOCK             4096u
#define STORE_SB_BLOCK          0
#define STORE_ROOT_BLOCK(g)     (1 + (g) % 2)
#define STORE_SEAL_BLOCK        3
#define STORE_SLOT_BLOCK(s)     (3 + (uint64_t)(s))     /* s >= 1 */
#define STORE_FIRST_SLOT_BLOCK  4

#define STORE_SB_MAGIC          0x4253504E53485050ull   /* "PPHSNPSB" */
#define STORE_ROOT_MAGIC        0x544F4F52534E5050ull   /* "PPNSROOT" */
#define STORE_SEAL_MAGIC        0x4C4145534E534E50ull   /* "PNSNSEAL" */
#define STORE_VERSION           4       /* 2: page_hash checks, digest as a sum; 3: root deltas;
						   4: unsealed roots */

#define STORE_MAX_BLOCKS        (1u << 24)      /* 64 GiB: the rest of a larger region is unused */
#define MAP_ENTRIES             512u    /* per map page */
#define ROOT_MAP_MAX            496u    /* map references per root record */

struct store_super {
	uint64_t magic;
	uint32_t version;
	uint32_t block_size;
	uint64_t nblocks;               /* store size */
	uint64_t objspace_base;
	uint64_t npages;                /* object-space pages */
	uint64_t nslots;                /* nblocks - 4 */
	uint64_t format_id;             /* new at every format; roots must match */
	uint64_t checksum;
};

struct map_entry {
	uint32_t slot;                  /* 0: the page is all zeros */
	uint32_t check;                 /* low 32 bits of the page hash */
};

struct store_root {
	uint64_t magic;
	uint64_t format_id;
	uint64_t gen;                   /* 1, 2, 3, ... */
	uint64_t digest;                /* object-space digest at the snapshot point */
	uint64_t npages;
	uint32_t nmap;                  /* map pages = ceil(npages / 512) */
	uint32_t ndelta;                /* delta entries after map[nmap - 1] */
	char workload[32];              /* what runs in this object space */
	uint64_t checksum;
	uint64_t flags;                 /* ROOT_* */
	uint64_t pad[4];
	struct map_entry map[ROOT_MAP_MAX];     /* slot and check of each map page; slot 0: all
						   zero; then the delta (struct delta_entry) */
};

/* A delta entry: page's slot and check in this snapshot, whatever its
 * map page says. */
struct delta_entry {
	uint32_t page, slot, check;
};

/* An unsealed root (frames=pm): committed before its own pages were
 * hashed, so its digest is 0 and its delta entries for those pages carry
 * DELTA_UNCHECKED in page and no check.  Recovery takes such pages on the
 * ordering of the commit (their lines were written back before the root)
 * and cannot self-check the digest.  The next root carries their checks. */
#define ROOT_UNSEALED           0x1ull
#define DELTA_UNCHECKED         0x80000000u

/* The seal record completes an unsealed root once its pages are hashed:
 * the check of each of the root's unchecked delta entries, and the
 * digest.  It is written after the commit, over the previous one, and
 * names the root it completes by generation and checksum, so a torn,
 * stale or missing seal only leaves that root unchecked; the root
 * itself, and the previous root (the fallback if a check fails), are
 * never touched by it. */
#define SEAL_CHECKS             1008u
struct store_seal {
	uint64_t magic;
	uint64_t format_id;
	uint64_t gen;
	uint64_t root_checksum;         /* of the root it completes */
	uint64_t digest;                /* that root's digest */
	uint64_t checksum;              /* hash64 of the block, this field 0 */
	uint64_t pad[2];
	uint32_t check[SEAL_CHECKS];    /* check of the root's delta entry k (0: it had one) */
};

/* Delta entries that fit in a root after nmap map references. */
#define ROOT_DELTA_MAX(nmap) \
	((ROOT_MAP_MAX - (uint64_t)(nmap)) * sizeof(struct map_entry) / sizeof(struct delta_entry))

static inline struct delta_entry *root_delta(struct store_root *r)
{
	return (struct delta_entry *)(void *)&r->map[r->nmap];
}

_Static_assert(sizeof(struct store_root) == STORE_BLOCK, "root record is one block");
_Static_assert(sizeof(struct store_seal) == STORE_BLOCK, "seal record is one block");
_Static_assert(ROOT_DELTA_MAX(1) <= SEAL_CHECKS, "a seal has a check for every delta entry");
_Static_assert(sizeof(struct store_super) <= STORE_BLOCK, "superblock fits a block");

#endif
