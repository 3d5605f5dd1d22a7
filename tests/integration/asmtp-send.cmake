# The asmtp-send tool against real servers on loopback (aiosmtpd, the
# scripted fault server). Included from tests/CMakeLists.txt, so that
# CMAKE_CURRENT_SOURCE_DIR is tests/; needs the asmtp-send target, i.e.
# add_subdirectory(tools) before add_subdirectory(tests).
# asmtp-send-common.sh is sourced by these tests and is not one itself.
foreach(name headers envelope json exit auth tls)
  add_test(NAME integration.asmtp-send-${name}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/asmtp-send-${name}.sh
                   $<TARGET_FILE:asmtp-send>)
  set_tests_properties(integration.asmtp-send-${name} PROPERTIES
      LABELS integration TIMEOUT 300)
endforeach()

# asmtp-bench against aiosmtpd: a smoke test, no timing.
add_test(NAME integration.asmtp-bench
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/asmtp-bench.sh
                 $<TARGET_FILE:asmtp-bench>)
set_tests_properties(integration.asmtp-bench PROPERTIES
    LABELS integration TIMEOUT 120)
