/* tests/diff/gen.h: the random sequence generator of the differential test.
 *
 * Every testable form of the CPU's instruction table (machine/insn.h, all
 * forms without INSN_NOTEST) can be drawn.  A case is fully determined by
 * (seed, index), so any mismatch is reproducible on its own:
 *
 *     struct dt_gen *g = dt_gen_new(getenv("DIFFTEST_FORMS"));
 *     dt_gen_case(g, seed, index, &c);
 */
#ifndef TESTS_DIFF_GEN_H
#define TESTS_DIFF_GEN_H

#include <stddef.h>
#include <stdint.h>
#include "machine/insn.h"
#include "tests/diff/difftest.h"

struct dt_gen;

/* filter: NULL, or a comma-separated list of mnemonics (e.g. "adc,shl")
 * restricting the forms drawn, for debugging. */
struct dt_gen *dt_gen_new(const char *filter);
void dt_gen_free(struct dt_gen *g);
size_t dt_gen_nforms(const struct dt_gen *g);
void dt_gen_case(struct dt_gen *g, uint64_t seed, uint64_t index, struct dt_case *c);
/* The table entry behind c->insn_form[i] (NULL for a setup instruction). */
const struct insn_form *dt_gen_form(int id);

#endif
