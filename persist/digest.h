/* persist/digest.h: the 64-bit hashes of the snapshot layer.
 *
 * hash64 is a word-at-a-time hash in the shape of one xxHash64 lane
 * (round: acc = rotl(acc + w * P2, 31) * P1; then the xxHash64 avalanche),
 * written from that published description; it is not xxHash64 itself
 * (one lane, length mixed in at the start).  It checksums superblocks,
 * root records and map pages, and gives each object-space page its hash.
 *
 * The object-space digest folds the page hashes in address order:
 *
 *     digest = hash64 over the words page_hash[0], ..., page_hash[n-1]
 *
 * so it depends on every byte of the space, yet a snapshot only rehashes
 * the pages it writes (docs/guest.md, "Digest").
 */
#ifndef PERSIST_DIGEST_H
#define PERSIST_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/* n is a multiple of 8. */
uint64_t hash64(const void *p, size_t n);
uint64_t page_hash(const void *page);   /* hash64 of 4096 bytes */
uint64_t digest_fold(const uint64_t *page_hashes, uint64_t npages);

#endif
