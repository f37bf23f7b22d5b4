# gpc_add_tests(NAME LABEL label [PINNED] SOURCES a_test.cpp ... LIBS lib ...)
# One GoogleTest binary per component, each test registered with CTest under LABEL.
# PINNED: the tests pin threads to PUs or run guests and time them; CTest runs such tests
# one at a time (RESOURCE_LOCK gpc_pus) while unit tests fill the other job slot, so two of
# them never fight over the same 2 PUs (the watchdog once saw a starved vCPU that way).
function(gpc_add_tests name)
  if(NOT GPC_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "PINNED" "LABEL;TIMEOUT" "SOURCES;LIBS" ${ARGN})
  set(lock "")
  if(ARG_PINNED)
    set(lock RESOURCE_LOCK gpc_pus)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES UNITY_BUILD ${GPC_UNITY_BUILD})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main gpc_warnings)
  gtest_discover_tests(${name}
    PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT} ${lock}
               SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]"
    DISCOVERY_TIMEOUT 60)
endfunction()
