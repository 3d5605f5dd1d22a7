/*
 * Transcript tests: a data file says what the server sends, the exact
 * bytes the client must write, and what the caller must see. The runner
 * plays the server against a real asmtp_session. The format is described
 * in tests/transcripts/README.md.
 */
#ifndef ASMTP_TEST_TRANSCRIPT_H
#define ASMTP_TEST_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>

#include "asmtp/types.h"

typedef struct transcript_stats {
    size_t submitted;  /* operations accepted by the session */
    size_t completed;  /* callbacks run */
    size_t duplicates; /* operations completed more than once */
    size_t refused;    /* submissions refused with an error */
} transcript_stats;

/*
 * Run the file at path with the given allocator (NULL for the default).
 * In strict mode every mismatch is reported on stderr with its line
 * number and the run fails (returns nonzero). Otherwise the run stops
 * quietly at the first mismatch (for allocation-failure runs, where
 * mismatches are expected) and returns 0 unless the session broke a
 * promise: an operation completed twice or not at all.
 */
int transcript_run(const char *path, const asmtp_mem *mem, bool strict,
                   transcript_stats *stats);

#endif
