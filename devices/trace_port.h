/* devices/trace_port.h: the simulator device the guest reports through.
 *
 * Two 32-bit I/O ports (docs/machine.md): argument words go to
 * ABI_PORT_TRACE_ARG, the event code to ABI_PORT_TRACE_EMIT.  Each event
 * is recorded in the trace (if one is open) at the current simulated time,
 * at no simulated cost, and the commit and recovery results are kept here
 * for whoever judges the run (the fault-injection oracle).
 *
 *     struct trace_port tp;
 *     trace_port_attach(&tp, &sim, &bus, trace);     // trace may be NULL
 *     ... run ...
 *     if (tp.commits) printf("last durable generation %llu\n", tp.last_commit_gen);
 */
#ifndef DEVICES_TRACE_PORT_H
#define DEVICES_TRACE_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include "machine/guest_abi.h"
#include "sim/clock.h"

struct sim;
struct bus;
struct trace;

struct trace_port_event {
	unsigned code;
	uint32_t args[ABI_TRACE_MAX_ARGS];
	unsigned nargs;
	sim_time_t when;
};

typedef void trace_port_fn(void *ctx, const struct trace_port_event *ev);

struct trace_port {
	struct sim *sim;
	struct trace *trace;
	uint32_t args[ABI_TRACE_MAX_ARGS];
	unsigned nargs;
	bool overflow;                  /* more than 16 args since the last emit */
	int phase;                      /* open trace phase, 0 = none */

	trace_port_fn *observer;        /* optional, called for every good event */
	void *observer_ctx;

	/* What the guest said, for the oracle. */
	uint64_t commits, last_commit_gen, last_commit_digest;
	uint64_t recoveries, recovered_gen, recovered_digest;
	uint32_t recovered_selfcheck, recovered_invariant;
	bool first_boot, panicked;
	uint32_t panic_code;

	uint64_t *stat_events, *stat_bad;
};

int trace_port_attach(struct trace_port *tp, struct sim *sim, struct bus *bus,
		      struct trace *trace);

#endif
