/* sim/sim.h: the simulation context every component hangs off.
 *
 * One struct sim per simulated machine.  It owns the simulated clock, the
 * event queue, the statistics and the run seed.  Components keep a pointer
 * to it; there are no hidden globals, so two machines can live in one
 * process (the campaign runner and the unit tests rely on that).
 */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include "sim/clock.h"
#include "sim/event.h"
#include "sim/rng.h"
#include "sim/stats.h"

/* Why sim_run() returned. */
enum sim_stop {
	SIM_STOP_NONE = 0,
	SIM_STOP_TIME_LIMIT,    /* run.max_time_us reached */
	SIM_STOP_INSN_LIMIT,    /* run.max_insns reached */
	SIM_STOP_IDLE,          /* nothing left to do: no CPU work, no events */
	SIM_STOP_REQUESTED,     /* a component called sim_request_stop() */
};

struct sim {
	sim_time_t now;
	struct event_queue events;
	struct stats stats;
	uint64_t seed;

	sim_time_t max_time;    /* 0 = unlimited */
	uint64_t max_insns;     /* 0 = unlimited */
	uint64_t insns;         /* instructions retired so far, all CPUs */

	enum sim_stop stop;
	int stop_code;          /* meaning chosen by whoever requested the stop */
};

void sim_init(struct sim *s, uint64_t seed);
void sim_free(struct sim *s);

/* Schedule e at now + delay. */
void sim_after(struct sim *s, struct event *e, sim_time_t delay);
void sim_request_stop(struct sim *s, int code);

/* Derive a component's independent random stream from the run seed. */
void sim_rng(const struct sim *s, struct rng *r, const char *component);

/* Fire every event due at or before `until` (never beyond max_time),
 * advancing the clock to each.  Returns the stop reason, if any. */
enum sim_stop sim_run_events(struct sim *s, sim_time_t until);

const char *sim_stop_name(enum sim_stop why);

#endif
