/* sim/insn_trace.h: the instruction trace (trace.insn, --trace-insn).
 *
 * The CPU calls c->insn_hook before each instruction it executes; this
 * module installs a hook that records the instruction's address and bytes
 * into a trace (traces/trace.h) when its address is inside the configured
 * range.  With the hook unset (the default) the CPU pays one predictable
 * branch per instruction and nothing else.
 */
#ifndef SIM_INSN_TRACE_H
#define SIM_INSN_TRACE_H

#include <stddef.h>
#include <stdint.h>

struct cpu;
struct trace;
struct config;

/* Record every instruction c executes at an address in [lo, hi) into t
 * (hi == 0: no upper bound).  Does nothing when t is NULL. */
void insn_trace_attach(struct cpu *c, struct trace *t, uint64_t lo, uint64_t hi);

/* insn_trace_attach() as trace.insn / trace.insn_from / trace.insn_to say. */
void insn_trace_from_config(struct cpu *c, struct trace *t, const struct config *cfg);

/* trace.insn without a trace file would record nothing: -1 with err. */
int insn_trace_check(const struct config *cfg, char *err, size_t errlen);

/* Parse a --trace-insn range "FROM..TO" (either side may be empty) into
 * trace.insn_from / trace.insn_to of cfg; -1 with one line in err. */
int insn_trace_range_option(struct config *cfg, const char *range, char *err, size_t errlen);

#endif
