/*
 * config/signals.h — the signals every pgtrail program handles, set up by
 * its main(): SIGTERM and SIGINT only set a flag (the program's loop sees
 * it, finishes what it is doing and stops); SIGPIPE is ignored, so a
 * closed socket is an error to handle, not death.
 */
#ifndef PGTRAIL_CONFIG_SIGNALS_H
#define PGTRAIL_CONFIG_SIGNALS_H

#include <signal.h>

/* Install the handlers; the flag they set (the one flag of the process). */
volatile sig_atomic_t *pt_signals_install(void);

#endif
