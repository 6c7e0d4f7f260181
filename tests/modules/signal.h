/* SPDX-License-Identifier: MIT */
/* tests/modules/signal.h - test signals and measurements, computed here
 * independently of the modules (double precision, textbook formulas). */
#ifndef PT_TESTS_MODULES_SIGNAL_H
#define PT_TESTS_MODULES_SIGNAL_H

#include <complex.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* x[i * stride] = amp * sin(2 pi f i / rate) for i < n. */
static inline void sig_sine(float *x, size_t n, size_t stride, double f,
			    double rate, double amp)
{
	for (size_t i = 0; i < n; i++)
		x[i * stride] = (float)(amp * sin(2 * M_PI * f * (double)i / rate));
}

/* Root mean square of x[start .. start + n) with @stride. */
static inline double sig_rms(const float *x, size_t start, size_t n,
			     size_t stride)
{
	double s = 0;

	for (size_t i = start; i < start + n; i++)
		s += (double)x[i * stride] * x[i * stride];
	return sqrt(s / (double)n);
}

/* Amplitude of the component at @f in x[start .. start + n) (a single-bin
 * DFT; exact when n spans whole cycles of f). */
static inline double sig_tone_amp(const float *x, size_t start, size_t n,
				  size_t stride, double f, double rate)
{
	double complex acc = 0;

	for (size_t i = 0; i < n; i++)
		acc += x[(start + i) * stride] *
		       cexp(-I * 2 * M_PI * f * (double)(start + i) / rate);
	return 2 * cabs(acc) / (double)n;
}

/* Frequency from rising zero crossings in x[start .. start + n), with
 * linear interpolation of each crossing. */
static inline double sig_zero_cross_freq(const float *x, size_t start, size_t n,
					 size_t stride, double rate)
{
	double first = -1, last = -1;
	long count = 0;

	for (size_t i = start + 1; i < start + n; i++) {
		double a = x[(i - 1) * stride], b = x[i * stride];

		if (a < 0 && b >= 0) {
			double t = (double)(i - 1) + a / (a - b);

			if (first < 0)
				first = t;
			else
				count++;
			last = t;
		}
	}
	return count > 0 ? count * rate / (last - first) : 0;
}

/* |H(e^jw)| of a biquad cascade at @f (normalised: a0 = 1). */
static inline double sig_biquad_mag(const double *c, unsigned stages, double f,
				    double rate)
{
	double complex z1 = cexp(-I * 2 * M_PI * f / rate), z2 = z1 * z1, h = 1;

	for (unsigned s = 0; s < stages; s++, c += 5)
		h *= (c[0] + c[1] * z1 + c[2] * z2) / (1 + c[3] * z1 + c[4] * z2);
	return cabs(h);
}

static inline double sig_db(double ratio)
{
	return 20 * log10(ratio);
}

/* A seeded xorshift32 in [-1, 1). */
static inline double sig_noise(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return (double)(int32_t)*s / 2147483648.0;
}

#endif
