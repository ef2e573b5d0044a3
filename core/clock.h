/*
 * core/clock.h — the wall clock, in microseconds since the Unix epoch, for
 * times that are compared with the source's (commit times); and a monotonic
 * clock for durations, which a step of the wall clock must not bend.
 */
#ifndef PGTRAIL_CORE_CLOCK_H
#define PGTRAIL_CORE_CLOCK_H

#include <stdint.h>

int64_t		pt_now_us(void);

/* Microseconds since an arbitrary fixed point: only differences mean something. */
int64_t		pt_monotonic_us(void);

#endif
