/* sim/event.c: a binary min-heap of events ordered by (when, seq).
 *
 * The sequence number makes the order total: two events at the same
 * picosecond fire in the order they were scheduled, on every host.  Each
 * event remembers its heap slot, so cancel and reschedule need no search.
 */
#include <stdlib.h>
#include "sim/event.h"

static bool before(const struct event *a, const struct event *b)
{
	if (a->when != b->when)
		return a->when < b->when;
	return a->seq < b->seq;
}

static void place(struct event_queue *q, size_t i, struct event *e)
{
	q->heap[i] = e;
	e->slot = i;
}

static void sift_up(struct event_queue *q, size_t i)
{
	struct event *e = q->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(e, q->heap[parent]))
			break;
		place(q, i, q->heap[parent]);
		i = parent;
	}
	place(q, i, e);
}

static void sift_down(struct event_queue *q, size_t i)
{
	struct event *e = q->heap[i];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= q->len)
			break;
		if (child + 1 < q->len && before(q->heap[child + 1], q->heap[child]))
			child++;
		if (!before(q->heap[child], e))
			break;
		place(q, i, q->heap[child]);
		i = child;
	}
	place(q, i, e);
}

void event_queue_init(struct event_queue *q)
{
	*q = (struct event_queue){0};
}

void event_queue_free(struct event_queue *q)
{
	for (size_t i = 0; i < q->len; i++)
		q->heap[i]->slot = EVENT_IDLE;
	free(q->heap);
	*q = (struct event_queue){0};
}

void event_init(struct event *e, event_fn *fn, void *arg)
{
	*e = (struct event){.fn = fn, .arg = arg, .slot = EVENT_IDLE};
}

void event_cancel(struct event_queue *q, struct event *e)
{
	if (e->slot == EVENT_IDLE)
		return;
	size_t i = e->slot;
	struct event *last = q->heap[--q->len];
	e->slot = EVENT_IDLE;
	if (last == e)
		return;
	place(q, i, last);
	sift_up(q, i);
	sift_down(q, last->slot);
}

void event_schedule(struct event_queue *q, struct event *e, sim_time_t when)
{
	event_cancel(q, e);
	if (q->len == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 64;
		struct event **heap = realloc(q->heap, cap * sizeof *heap);
		if (!heap)
			abort();        /* host out of memory: nothing sane to do */
		q->heap = heap;
		q->cap = cap;
	}
	e->when = when;
	e->seq = q->next_seq++;
	place(q, q->len++, e);
	sift_up(q, e->slot);
}

sim_time_t event_next_time(const struct event_queue *q)
{
	return q->len ? q->heap[0]->when : SIM_TIME_MAX;
}

struct event *event_pop(struct event_queue *q)
{
	if (!q->len)
		return NULL;
	struct event *e = q->heap[0];
	event_cancel(q, e);
	return e;
}
