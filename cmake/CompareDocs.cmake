# Fails when a committed generated doc differs from the freshly built one.
# FILES is a '|'-separated list of (built, committed) pairs.
string(REPLACE "|" ";" FILES "${FILES}")
list(LENGTH FILES count)
math(EXPR last "${count} - 1")
set(stale)
foreach(i RANGE 0 ${last} 2)
  math(EXPR j "${i} + 1")
  list(GET FILES ${i} built)
  list(GET FILES ${j} committed)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${built} ${committed}
                  RESULT_VARIABLE differs)
  if(differs)
    list(APPEND stale ${committed})
  endif()
endforeach()
if(stale)
  message(FATAL_ERROR "stale generated docs: ${stale}\n"
                      "run `ninja -C build winnow-update-docs` and commit them")
endif()
message(STATUS "generated docs are up to date")
