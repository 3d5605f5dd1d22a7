/*
 * Runs one transcript file (a .t file in tests/transcripts) strictly, then
 * again with an allocation failure injected at every allocation the run makes:
 * each failure must end cleanly, with every operation completed exactly
 * once and no memory left allocated.
 */
#include <stdio.h>
#include <stdlib.h>

#include "support.h"
#include "transcript.h"

static int run_with_failures(const char *path)
{
    for (size_t fail_at = 1;; fail_at++) {
        failmem fm;
        transcript_stats stats;
        int broken;

        failmem_init(&fm, fail_at);
        broken = transcript_run(path, &fm.mem, false, &stats);
        if (broken) {
            fprintf(stderr,
                    "%s: allocation %zu failing broke exactly-once "
                    "completion (%zu submitted, %zu completed, %zu "
                    "twice)\n",
                    path, fail_at, stats.submitted, stats.completed,
                    stats.duplicates);
            return 1;
        }
        if (fm.live != 0) {
            fprintf(stderr, "%s: allocation %zu failing leaked %zu blocks\n",
                    path, fail_at, fm.live);
            return 1;
        }
        if (fm.failed == 0)
            return 0; /* the run got through without reaching fail_at */
    }
}

int main(int argc, char **argv)
{
    failmem counting;
    transcript_stats stats;

    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE.t\n", argv[0]);
        return 2;
    }
    failmem_init(&counting, 0);
    if (transcript_run(argv[1], &counting.mem, true, &stats))
        return 1;
    if (counting.live != 0) {
        fprintf(stderr, "%s: %zu blocks leaked\n", argv[1], counting.live);
        return 1;
    }
    return run_with_failures(argv[1]);
}
