/* sim/event.h: the discrete-event queue.
 *
 * Devices and models schedule callbacks at absolute simulated times.  Events
 * with equal timestamps fire in the order they were scheduled (each carries
 * an insertion sequence number), so a run never depends on heap layout or
 * on host addresses.
 *
 * An event is a struct owned by its user (usually embedded in a device), so
 * scheduling never allocates and cancelling is O(log n):
 *
 *     struct event tick;
 *     event_init(&tick, pit_tick, pit);
 *     event_schedule(&sim->events, &tick, sim->now + period);
 *     ...
 *     event_cancel(&sim->events, &tick);
 */
#ifndef SIM_EVENT_H
#define SIM_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/clock.h"

struct event;
typedef void event_fn(void *arg, sim_time_t now);

struct event {
	sim_time_t when;
	uint64_t seq;           /* insertion order, breaks timestamp ties */
	event_fn *fn;
	void *arg;
	size_t slot;            /* index in the heap, or EVENT_IDLE */
};

#define EVENT_IDLE ((size_t)-1)

struct event_queue {
	struct event **heap;
	size_t len, cap;
	uint64_t next_seq;
};

void event_queue_init(struct event_queue *q);
void event_queue_free(struct event_queue *q);

void event_init(struct event *e, event_fn *fn, void *arg);
/* (Re)schedule e at absolute time when; a pending e is moved. */
void event_schedule(struct event_queue *q, struct event *e, sim_time_t when);
void event_cancel(struct event_queue *q, struct event *e);
static inline bool event_pending(const struct event *e) { return e->slot != EVENT_IDLE; }

/* Time of the earliest pending event, or SIM_TIME_MAX when none. */
sim_time_t event_next_time(const struct event_queue *q);
/* Remove and return the earliest event, or NULL.  The caller runs it. */
struct event *event_pop(struct event_queue *q);

#endif
