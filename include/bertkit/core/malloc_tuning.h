// glibc malloc settings for processes that run training or inference steps.
//
// Every step frees and reallocates the same large buffers (activations, the dense
// word-embedding gradient: 15.6 MB for a 128-wide BERT). With glibc's defaults a
// buffer above the mmap threshold is a fresh mmap each time, and freeing shrinks
// the heap back (trim): the kernel zero-fills every page again on the next step's
// first touch. Raising the mmap threshold to its maximum (32 MiB on 64-bit) and
// keeping freed memory in the heap removes those page faults (about 8% of a
// fine-tuning step of a 2-layer model on one thread, docs/performance.md).
// Peak memory is unchanged: only memory the process already used is kept.
//
// A MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ or MALLOC_TOP_PAD_ variable in
// the environment (glibc's own tunables) wins: those settings are left as given.
#pragma once

namespace bertkit {

// Call once at the start of main(). Does nothing outside glibc.
void tune_malloc_for_steps();

}  // namespace bertkit
