/*
 * core/clock.h — the wall clock, in microseconds since the Unix epoch.
 */
#ifndef PGTRAIL_CORE_CLOCK_H
#define PGTRAIL_CORE_CLOCK_H

#include <stdint.h>

int64_t		pt_now_us(void);

#endif
