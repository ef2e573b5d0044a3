/*
 * core/clock.c — the wall clock (see clock.h).
 */
#include "core/clock.h"

#include <stddef.h>
#include <sys/time.h>
#include <time.h>

int64_t
pt_now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t) tv.tv_sec * 1000000 + tv.tv_usec;
}

int64_t
pt_monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
