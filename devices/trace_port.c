/* devices/trace_port.c: the guest's event channel (see trace_port.h).
 *
 * The guest is untrusted: an event with the wrong number of arguments or
 * an unknown code is dropped and counted, never fatal.  Snapshot events
 * also open and close the trace's phase slices: the pause runs from
 * snapshot begin to pause end, the write-back from pause end to commit
 * begin, the commit from commit begin to the durable commit.
 *
 * PAUSE_END may carry a third argument, the snapshot's dirty page count,
 * which the guest knows only once the pause has collected the dirty set;
 * it becomes a snapshot_dirty record.  Older guests send two arguments
 * and the count stays unknown in the trace.
 *
 * A guest that hashes its pages only after the root is durable commits
 * with digest 0 and reports the digest in a DIGEST event that follows;
 * it replaces the commit's digest if it names the last committed
 * generation.
 */
#include <stdio.h>
#include <string.h>
#include "devices/trace_port.h"
#include "machine/bus.h"
#include "sim/sim.h"
#include "traces/trace.h"

static uint64_t u64(const uint32_t *a)
{
	return a[0] | (uint64_t)a[1] << 32;
}

static void phase_to(struct trace_port *tp, int phase)
{
	sim_time_t now = tp->sim->now;
	if (tp->phase)
		trace_phase_end(tp->trace, now, (enum trace_phase)tp->phase);
	tp->phase = phase;
	if (phase)
		trace_phase_begin(tp->trace, now, (enum trace_phase)phase);
}

/* The fewest arguments each event needs; -1: unknown code. */
static int min_args(unsigned code)
{
	switch (code) {
	case ABI_EV_BOOT: return 1;
	case ABI_EV_SNAPSHOT_BEGIN: return 2;
	case ABI_EV_PAUSE_END: return 2;
	case ABI_EV_PAGES_WRITTEN: return 3;
	case ABI_EV_COMMIT: return 4;
	case ABI_EV_RECOVERY_BEGIN: return 0;
	case ABI_EV_RECOVERY_END: return 6;
	case ABI_EV_WORKLOAD_OP: return 2;
	case ABI_EV_PANIC: return 1;
	case ABI_EV_EXCEPTION: return 5;
	case ABI_EV_FIRST_BOOT: return 0;
	case ABI_EV_COMMIT_BEGIN: return 2;
	case ABI_EV_STORE_OPEN: return 0;
	case ABI_EV_DIGEST: return 4;
	}
	return -1;
}

static void emit(struct trace_port *tp, unsigned code)
{
	struct trace_port_event ev = {.code = code, .nargs = tp->nargs, .when = tp->sim->now};
	int need = min_args(code);
	bool bad = need < 0 || tp->nargs < (unsigned)need || tp->overflow;
	memcpy(ev.args, tp->args, sizeof ev.args);
	tp->nargs = 0;
	tp->overflow = false;
	if (bad) {
		++*tp->stat_bad;
		return;
	}
	++*tp->stat_events;

	struct trace *t = tp->trace;
	sim_time_t now = ev.when;
	const uint32_t *a = ev.args;
	switch (code) {
	case ABI_EV_SNAPSHOT_BEGIN:
		trace_snapshot_begin(t, now, u64(a), ev.nargs > 2 ? a[2] : 0);
		phase_to(tp, TRACE_PHASE_PAUSE);
		break;
	case ABI_EV_PAUSE_END:
		if (ev.nargs > 2)
			trace_snapshot_dirty(t, now, u64(a), a[2]);
		phase_to(tp, TRACE_PHASE_WRITEBACK);
		break;
	case ABI_EV_PAGES_WRITTEN:
		trace_pages_written(t, now, u64(a), a[2]);
		break;
	case ABI_EV_COMMIT_BEGIN:
		phase_to(tp, TRACE_PHASE_COMMIT);
		break;
	case ABI_EV_COMMIT:
		phase_to(tp, 0);
		tp->commits++;
		tp->last_commit_gen = u64(a);
		tp->last_commit_digest = u64(a + 2);
		trace_commit(t, now, tp->last_commit_gen, tp->last_commit_digest);
		break;
	case ABI_EV_DIGEST:
		/* Recorded whatever it names: the trace keeps what the guest
		 * said, and its readers count a digest with no snapshot. */
		if (tp->commits && u64(a) == tp->last_commit_gen)
			tp->last_commit_digest = u64(a + 2);
		trace_digest(t, now, u64(a), u64(a + 2));
		break;
	case ABI_EV_RECOVERY_BEGIN:
		trace_recovery_begin(t, now);
		break;
	case ABI_EV_RECOVERY_END:
		tp->recoveries++;
		tp->recovered_gen = u64(a);
		tp->recovered_digest = u64(a + 2);
		tp->recovered_selfcheck = a[4];
		tp->recovered_invariant = a[5];
		trace_recovery_end(t, now, tp->recovered_gen, tp->recovered_digest, a[4], a[5]);
		break;
	case ABI_EV_WORKLOAD_OP:
		if (t) {
			char name[24];
			snprintf(name, sizeof name, "op%u", a[0]);
			trace_workload_op(t, now, trace_intern(t, name), a[1]);
		}
		break;
	case ABI_EV_PANIC:
		tp->panicked = true;
		tp->panic_code = a[0];
		break;
	case ABI_EV_FIRST_BOOT:
		tp->first_boot = true;
		break;
	default:                        /* BOOT, EXCEPTION: counted only */
		break;
	}
	if (tp->observer)
		tp->observer(tp->observer_ctx, &ev);
}

static uint32_t port_in(void *ctx, uint16_t port, unsigned size)
{
	if (port == ABI_PORT_TRACE_ARG && size == 4)
		return ABI_TRACE_MAGIC;
	return size == 1 ? 0xFF : size == 2 ? 0xFFFF : 0xFFFFFFFFu;
}

static void port_out(void *ctx, uint16_t port, unsigned size, uint32_t value)
{
	struct trace_port *tp = ctx;
	if (size != 4) {                /* the protocol is 32-bit only */
		++*tp->stat_bad;
		return;
	}
	if (port == ABI_PORT_TRACE_ARG) {
		if (tp->nargs < ABI_TRACE_MAX_ARGS)
			tp->args[tp->nargs++] = value;
		else
			tp->overflow = true;
	} else if (port == ABI_PORT_TRACE_EMIT) {
		emit(tp, value);
	}
}

int trace_port_attach(struct trace_port *tp, struct sim *sim, struct bus *bus,
		      struct trace *trace)
{
	memset(tp, 0, sizeof *tp);
	tp->sim = sim;
	tp->trace = trace;
	tp->stat_events = stats_counter(&sim->stats, "trace_port.events");
	tp->stat_bad = stats_counter(&sim->stats, "trace_port.bad_events");
	return bus_add_pio(bus, ABI_PORT_TRACE_ARG, 8, port_in, port_out, tp);
}
