/* sim/sim.c: the simulation context and the event loop's core. */
#include "sim/sim.h"

void sim_init(struct sim *s, uint64_t seed)
{
	*s = (struct sim){.seed = seed};
	event_queue_init(&s->events);
	stats_init(&s->stats);
}

void sim_free(struct sim *s)
{
	event_queue_free(&s->events);
	stats_free(&s->stats);
}

void sim_after(struct sim *s, struct event *e, sim_time_t delay)
{
	sim_time_t when = s->now + delay;
	if (when < s->now)              /* saturate rather than wrap */
		when = SIM_TIME_MAX;
	event_schedule(&s->events, e, when);
}

void sim_request_stop(struct sim *s, int code)
{
	if (s->stop == SIM_STOP_NONE) {
		s->stop = SIM_STOP_REQUESTED;
		s->stop_code = code;
	}
}

void sim_rng(const struct sim *s, struct rng *r, const char *component)
{
	rng_stream(r, s->seed, component);
}

enum sim_stop sim_run_events(struct sim *s, sim_time_t until)
{
	if (s->max_time && until > s->max_time)
		until = s->max_time;
	while (s->stop == SIM_STOP_NONE && event_next_time(&s->events) <= until) {
		struct event *e = event_pop(&s->events);
		if (e->when > s->now)
			s->now = e->when;
		e->fn(e->arg, s->now);
	}
	if (s->stop == SIM_STOP_NONE && until > s->now && until != SIM_TIME_MAX)
		s->now = until;
	if (s->stop == SIM_STOP_NONE && s->max_time && s->now >= s->max_time)
		s->stop = SIM_STOP_TIME_LIMIT;
	if (s->stop == SIM_STOP_NONE && s->max_insns && s->insns >= s->max_insns)
		s->stop = SIM_STOP_INSN_LIMIT;
	return s->stop;
}

const char *sim_stop_name(enum sim_stop why)
{
	switch (why) {
	case SIM_STOP_NONE:        return "none";
	case SIM_STOP_TIME_LIMIT:  return "time-limit";
	case SIM_STOP_INSN_LIMIT:  return "insn-limit";
	case SIM_STOP_IDLE:        return "idle";
	case SIM_STOP_REQUESTED:   return "requested";
	}
	return "?";
}
