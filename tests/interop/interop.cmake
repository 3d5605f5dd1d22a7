# The interop suite (label interop): the corpus from gen-corpus.py sent
# through real MTAs (Postfix, aiosmtpd, nodemailer's smtp-server), each
# started in a scratch directory by its script (postfix.sh, aiosmtpd.sh,
# nodemailer.sh), and every message stored compared byte for byte with
# what was meant. See docs/RELIABILITY.md. Included from
# tests/CMakeLists.txt.
set(ASMTP_INTEROP_DIR ${CMAKE_CURRENT_LIST_DIR})
add_executable(interop_send ${ASMTP_INTEROP_DIR}/interop_send.c)
target_compile_options(interop_send PRIVATE ${ASMTP_WARNINGS})
target_link_libraries(interop_send PRIVATE asmtp_static OpenSSL::SSL
                      OpenSSL::Crypto PkgConfig::LIBUV)

# nodemailer's smtp-server from npm, once, before the test that needs it.
add_test(NAME interop.node-deps
         COMMAND sh ${CMAKE_SOURCE_DIR}/tests/servers/install-node-deps.sh)
set_tests_properties(interop.node-deps PROPERTIES
    LABELS interop TIMEOUT 300 FIXTURES_SETUP interop_node)

set(ASMTP_INTEROP_ROWS ${CMAKE_BINARY_DIR}/interop)
foreach(server postfix aiosmtpd nodemailer)
  add_test(NAME interop.${server}
           COMMAND sh ${ASMTP_INTEROP_DIR}/${server}.sh
                   $<TARGET_FILE:interop_send> ${ASMTP_INTEROP_ROWS})
  set_tests_properties(interop.${server} PROPERTIES
      LABELS interop TIMEOUT 200 SKIP_RETURN_CODE 77)
endforeach()
set_tests_properties(interop.nodemailer PROPERTIES
    FIXTURES_REQUIRED interop_node)

# The whole table, after the three (DEPENDS orders them; it does not skip
# the table when one failed, which is when the table matters most).
add_test(NAME interop.table
         COMMAND /usr/bin/python3 ${ASMTP_INTEROP_DIR}/table.py
                 ${ASMTP_INTEROP_ROWS}/rows-postfix.tsv
                 ${ASMTP_INTEROP_ROWS}/rows-aiosmtpd.tsv
                 ${ASMTP_INTEROP_ROWS}/rows-nodemailer.tsv
                 --expect postfix --expect aiosmtpd --expect nodemailer
                 --text ${CMAKE_BINARY_DIR}/interop-table.txt
                 --markdown ${CMAKE_BINARY_DIR}/interop-table.md)
set_tests_properties(interop.table PROPERTIES
    LABELS interop TIMEOUT 30
    DEPENDS "interop.postfix;interop.aiosmtpd;interop.nodemailer")
