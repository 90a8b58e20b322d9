/* etrace's own malloc heap, tuned for its start-up (see heaptune.c). */
#ifndef ETRACE_HEAPTUNE_H
#define ETRACE_HEAPTUNE_H

/* Called once, before the BPF objects are opened. */
void heaptune_start(void);

#endif
