# Run after a test executable is built (cmake -P, see bertkit_gtest_suites in
# tests/CMakeLists.txt): lists its GoogleTest cases and writes CTEST_FILE with
# one ctest test per suite ("Suite", filter Suite.*), so a suite's cases share
# one process. A program that links LibTorch spends about a second starting,
# so one process per case cost CI minutes. A suite of more than MAX_CASES cases
# is split into GoogleTest shards ("Suite:2of7"), so -j2 stays balanced. With
# PER_CASE=1 every case is its own test ("Suite.Case"), as the long end-to-end
# runs are. A failure still names its case: ctest --output-on-failure shows
# GoogleTest's "[  FAILED  ] Suite.Case" lines.
#
# Inputs (-D): TEST_EXECUTABLE, CTEST_FILE, WORKING_DIR, LABEL, PER_CASE,
# MAX_CASES, COST (scheduling weight per case: ctest starts the costliest
# tests first when it has no timings yet, as on a fresh clone), ENVIRONMENT
# (a |-separated list of VAR=value), DISCOVERY_TIMEOUT.
cmake_minimum_required(VERSION 3.18)

execute_process(
  COMMAND "${TEST_EXECUTABLE}" --gtest_list_tests
  WORKING_DIRECTORY "${WORKING_DIR}"
  TIMEOUT ${DISCOVERY_TIMEOUT}
  OUTPUT_VARIABLE listing
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "listing the tests of ${TEST_EXECUTABLE} failed (${result}):\n${listing}")
endif()

# "Suite." lines, then "  Case" lines ("  # GetParam() = ..." comments dropped).
# Names are C++ identifiers plus '/' (parameterised suites and cases).
string(REPLACE "\n" ";" lines "${listing}")
set(suites)
foreach(line IN LISTS lines)
  if(line MATCHES "^([A-Za-z0-9_/]+)\\.( *#.*)?$")
    set(suite "${CMAKE_MATCH_1}")
    string(MAKE_C_IDENTIFIER "${suite}" key)
    list(APPEND suites "${suite}")
    set(cases_${key})
  elseif(line MATCHES "^  ([A-Za-z0-9_/]+)( *#.*)?$")
    list(APPEND cases_${key} "${CMAKE_MATCH_1}")
  elseif(NOT line STREQUAL "" AND NOT line MATCHES "^Running main\\(\\) from")
    message(FATAL_ERROR "${TEST_EXECUTABLE} --gtest_list_tests: unexpected line '${line}'")
  endif()
endforeach()

string(REPLACE "|" ";" environment "${ENVIRONMENT}")
set(script "")
# One ctest test: name, gtest filter, the cases it runs, its environment.
function(add_one name filter cases env)
  list(LENGTH cases n)
  math(EXPR cost "${n} * ${COST}")
  set(line "add_test([==[${name}]==] [==[${TEST_EXECUTABLE}]==] [==[--gtest_filter=${filter}]==])\n")
  string(APPEND line "set_tests_properties([==[${name}]==] PROPERTIES LABELS [==[${LABEL}]==]"
                     " ENVIRONMENT [==[${env}]==] COST ${cost} WORKING_DIRECTORY [==[${WORKING_DIR}]==]")
  # Skipped (GTEST_SKIP) when every case skipped: GoogleTest's summary then
  # passes none and ends with the list of skipped cases. A failure prints its
  # list after that, so this never hides one (ctest's skip rule wins over a
  # failing exit code). A suite where some cases pass and some skip passes;
  # its output names the skipped ones.
  string(APPEND line " SKIP_REGULAR_EXPRESSION [==[\\[  PASSED  \\] 0 tests\\.\n"
                     "\\[  SKIPPED \\] [0-9]+ tests?, listed below:\n(\\[  SKIPPED \\] [A-Za-z0-9_/.]+\n)+$]==]")
  string(APPEND script "${line})\n")
  set(script "${script}" PARENT_SCOPE)
endfunction()

foreach(suite IN LISTS suites)
  string(MAKE_C_IDENTIFIER "${suite}" key)
  set(cases "${cases_${key}}")
  list(LENGTH cases n)
  if(PER_CASE)
    foreach(c IN LISTS cases)
      add_one("${suite}.${c}" "${suite}.${c}" "${c}" "${environment}")
    endforeach()
  elseif(n LESS_EQUAL MAX_CASES)
    add_one("${suite}" "${suite}.*" "${cases}" "${environment}")
  else()
    # GoogleTest's sharding (GTEST_TOTAL_SHARDS/GTEST_SHARD_INDEX) splits the
    # cases the filter selects, round robin: together the shards run each once.
    math(EXPR shards "(${n} + ${MAX_CASES} - 1) / ${MAX_CASES}")
    math(EXPR last "${shards} - 1")
    foreach(i RANGE ${last})
      math(EXPR k "${i} + 1")
      # the cases of this shard, for COST (and the same split GoogleTest makes)
      set(shard_cases)
      foreach(j RANGE ${i} ${n} ${shards})
        if(j LESS n)
          list(GET cases ${j} c)
          list(APPEND shard_cases "${c}")
        endif()
      endforeach()
      set(env ${environment} "GTEST_TOTAL_SHARDS=${shards}" "GTEST_SHARD_INDEX=${i}")
      add_one("${suite}:${k}of${shards}" "${suite}.*" "${shard_cases}" "${env}")
    endforeach()
  endif()
endforeach()
file(WRITE "${CTEST_FILE}" "${script}")
