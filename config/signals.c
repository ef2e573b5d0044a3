/*
 * config/signals.c — SIGTERM/SIGINT set a flag, SIGPIPE is ignored (see
 * signals.h). The handler does nothing else: no logging, no freeing.
 */
#include "config/signals.h"

#include <string.h>

static volatile sig_atomic_t stop_requested;

static void
on_stop_signal(int signo)
{
	(void) signo;
	stop_requested = 1;
}

volatile sig_atomic_t *
pt_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return &stop_requested;
}
