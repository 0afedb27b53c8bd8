/* persist/digest.h: the 64-bit hashes of the snapshot layer.
 *
 * hash64 is a word-at-a-time hash in the shape of one xxHash64 lane
 * (round: acc = rotl(acc + w * P2, 31) * P1; then the xxHash64 avalanche),
 * written from that published description; it is not xxHash64 itself
 * (one lane, length mixed in at the start).  It checksums superblocks and
 * root records, which are written rarely.
 *
 * page_hash is cheaper, because the snapshot path computes it for every
 * page it writes and the in-order core pays for every instruction: a
 * two-level additive checksum (Fletcher's idea) over 64-bit words in
 * eight lanes (lane = word index mod 8):
 *
 *     for each 64-byte line L:   a[l] += w[8L + l]
 *     after every 4th line:      b[l] += a[l]
 *
 * b weights each 256-byte block by its distance from the end, so a block
 * moved or torn changes it; the 16 sums are folded by hash64's round and
 * avalanche.  copy_sum_nt/copy_sum_wb compute the same sums while copying
 * the page, so each byte of a snapshot is read once (SSE2, 16 bytes a
 * step).
 *
 * The object-space digest is a sum, so a snapshot updates it by the
 * pages it writes instead of folding every page hash at each commit:
 *
 *     digest = sum over pages i of digest_term(i, page_hash[i])  (mod 2^64)
 *
 * where the term of a zero page is 0, so only pages holding data cost
 * anything to sum.
 * It still depends on every byte of the space (docs/guest.md, "Digest").
 */
#ifndef PERSIST_DIGEST_H
#define PERSIST_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/* n is a multiple of 8. */
uint64_t hash64(const void *p, size_t n);
/* The checksum of a 4096-byte page (the reference, plain C). */
uint64_t page_hash(const void *page);
/* Copy n blocks of 256 bytes (both pointers 16-byte aligned) and add
 * them to the page sums (a[8] then b[8], zero at the page's start), so a
 * page may also be copied in pieces; page_sums_fold turns the sums of a
 * whole page into its page_hash.  copy_sum_nt stores with movntdq, which
 * bypasses the caches (no read for ownership) and is durable on
 * persistent memory after the next sfence without any line write-back;
 * copy_sum_wb uses ordinary cached stores. */
void copy_sum_nt(void *dst, const void *src, uint64_t sums[16], uint64_t n);
void copy_sum_wb(void *dst, const void *src, uint64_t sums[16], uint64_t n);
uint64_t page_sums_fold(const uint64_t sums[16]);
/* The same sums without a copy (src 16-byte aligned). */
void sum_blocks(const void *src, uint64_t sums[16], uint64_t n);
uint64_t digest_term(uint64_t index, uint64_t page_hash);
/* Sum of digest_term over n page hashes: what a snapshot's digest is. */
uint64_t digest_space(const uint64_t *page_hashes, uint64_t n);

#endif
