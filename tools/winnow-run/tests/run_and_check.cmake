# Runs CMD ('|'-separated argv) and checks EXIT_CODE, and that stdout and
# stderr match the STDOUT / STDERR regular expressions when given.
string(REPLACE "|" ";" command "${CMD}")
execute_process(COMMAND ${command}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(report "command: ${command}\nexit code: ${rc}\nstdout:\n${out}\nstderr:\n${err}")
if(NOT "${rc}" STREQUAL "${EXIT_CODE}")
  message(FATAL_ERROR "expected exit code ${EXIT_CODE}\n${report}")
endif()
if(NOT "${STDOUT}" STREQUAL "" AND NOT "${out}" MATCHES "${STDOUT}")
  message(FATAL_ERROR "stdout does not match '${STDOUT}'\n${report}")
endif()
if(NOT "${STDERR}" STREQUAL "" AND NOT "${err}" MATCHES "${STDERR}")
  message(FATAL_ERROR "stderr does not match '${STDERR}'\n${report}")
endif()
