# Sourced by the test helpers (it-lib.sh, aiosmtpd.sh,
# asmtp-send-common.sh). wrapped PROGRAM ARGS... runs a program of ours,
# under ASMTP_TEST_WRAPPER when that is set (`make valgrind`).
wrapped() {
    # shellcheck disable=SC2086  # the wrapper is a command line
    ${ASMTP_TEST_WRAPPER:-} "$@"
}
