/* tests/user/progs/jmp.c: setjmp/longjmp across frames, nested and
 * repeated, with volatile locals surviving the jump. */
#include <setjmp.h>
#include <stdio.h>

static jmp_buf outer, inner;
static int depth_reached;

static int dive(int depth, jmp_buf *target)
{
	char pad[64];
	pad[depth % 64] = (char)depth;
	depth_reached = depth;
	if (depth == 500)
		longjmp(*target, depth + pad[depth % 64]);
	return dive(depth + 1, target) + 1;
}

int main(void)
{
	volatile int total = 0;
	for (volatile int i = 0; i < 1000; i++) {
		int r = setjmp(outer);
		if (r == 0) {
			dive(i % 100 + 400, &outer);
			puts("not reached");
		}
		total += r;
	}
	printf("total %d depth %d\n", total, depth_reached);

	volatile int stage = 0;
	if (setjmp(outer) == 0) {
		stage = 1;
		if (setjmp(inner) == 0) {
			stage = 2;
			longjmp(inner, 7);
		}
		stage += 10;
		longjmp(outer, 0);      /* returns 1 from setjmp */
	}
	printf("stage %d\n", stage);
	return 0;
}
