/* tests/user/progs/float.c: SSE doubles and floats, libm, x87 long
 * doubles, and the printf/strtod conversions of each. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	double s = 0, t = 1;
	for (int i = 1; i <= 20000; i++) {
		double x = i * 0.001;
		s += sqrt(x) + sin(x) * cos(x) - exp(-x) + log(x) / (1 + x * x);
		t = fmod(t * 1.000123 + atan2(x, 3.0), 1000.0);
	}
	printf("%.17g %.17g\n", s, t);
	printf("%a %e %f %g\n", s, t, 1.0 / 3, 1e-300 * 1e-10);
	printf("%.3f %.0f %.10e\n", 2.5, 3.5, M_PI);
	printf("%g %g %g %g\n", pow(2, 0.5), cbrt(27.0), hypot(3, 4), tanh(0.5));
	printf("%g %g %g\n", floor(-2.5), ceil(-2.5), round(-2.5));
	printf("%ld %lld %d\n", lrint(2.5), llround(-3.5), (int)-7.9);
	float f = 0;
	for (int i = 0; i < 10000; i++)
		f += 1.0f / (float)(i + 1);
	printf("%.9g %a\n", f, f);
	printf("%g %g %g\n", 1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0 != 0.0 / 0.0 ? 1.0 : 0.0);
	printf("%.17g %.17g\n", strtod("0.1", NULL), strtod("1e-310", NULL));

	long double l = 1, m = 0;
	for (int i = 1; i <= 2000; i++) {
		l *= 1.0001L;
		m += 1.0L / ((long double)i * i);
	}
	printf("%.20Lg %.20Lg\n", l, m);
	printf("%La %Le %.25Lf\n", m, l, 1.0L / 3);
	printf("%.21Lg %.21Lg\n", sqrtl(2.0L), strtold("3.14159265358979323846264338327950288", NULL));
	long long k = (long long)(l * 1e6L);
	printf("%lld\n", k);
	return 0;
}
