# Generated reference docs live in the source tree (docs/generated/) so they
# can be read on the web without building. `ninja winnow-update-docs`
# refreshes them; the `docs-up-to-date` test fails when they are stale.
set(WINNOW_GENERATED_DOCS
  "Dialects/TokOps.md|tok-dialect.md"
  "Dialects/CollectiveOps.md|collective-dialect.md"
  "TokTransformsPasses.md|passes-tok-transforms.md"
  "WinnowConversionPasses.md|passes-conversion.md"
  "WinnowTransformsPasses.md|passes-transforms.md")

set(_copy_commands)
set(_check_args)
foreach(entry ${WINNOW_GENERATED_DOCS})
  string(REPLACE "|" ";" pair "${entry}")
  list(GET pair 0 built)
  list(GET pair 1 committed)
  list(APPEND _copy_commands COMMAND ${CMAKE_COMMAND} -E copy
       ${PROJECT_BINARY_DIR}/docs/${built}
       ${PROJECT_SOURCE_DIR}/docs/generated/${committed})
  list(APPEND _check_args ${PROJECT_BINARY_DIR}/docs/${built}
       ${PROJECT_SOURCE_DIR}/docs/generated/${committed})
endforeach()

add_custom_target(winnow-update-docs ${_copy_commands}
  DEPENDS mlir-doc
  COMMENT "Copying the ODS-generated docs into docs/generated/")

# Docs are generated as part of the default build so the test can compare.
add_custom_target(winnow-docs ALL DEPENDS mlir-doc)
string(REPLACE ";" "|" _check_arg "${_check_args}")
add_test(NAME docs-up-to-date
  COMMAND ${CMAKE_COMMAND} "-DFILES=${_check_arg}"
          -P ${PROJECT_SOURCE_DIR}/cmake/CompareDocs.cmake)
