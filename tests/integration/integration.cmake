# Integration tests against real servers on loopback (tests/servers/): each
# program is run by a shell wrapper that starts its servers in a scratch
# directory, passes that directory, and stops the servers by PID.
# Included from tests/CMakeLists.txt.
set(ASMTP_IT_DIR ${CMAKE_CURRENT_LIST_DIR})
foreach(name tls auth messages faults sync pool resume fault_matrix
             pool_faults)
  add_executable(integration_${name} ${ASMTP_IT_DIR}/test_${name}.c
                 ${ASMTP_IT_DIR}/it_support.c)
  target_compile_options(integration_${name} PRIVATE ${ASMTP_WARNINGS})
  target_link_libraries(integration_${name} PRIVATE asmtp_testsupport
                        PkgConfig::LIBUV)
  add_test(NAME integration.${name}
           COMMAND sh ${ASMTP_IT_DIR}/${name}.sh
                   $<TARGET_FILE:integration_${name}>)
  set_tests_properties(integration.${name} PROPERTIES
      LABELS integration TIMEOUT 120)
endforeach()
# The matrix bounds each cell itself (a child still running after 100 s
# is killed); under valgrind its 160 cells, two at a time, take minutes.
set_tests_properties(integration.fault_matrix PROPERTIES TIMEOUT 1800)
