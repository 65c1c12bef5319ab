# parley_library(<name> SOURCES a.cc b.cc DEPS parley_core ...)
#   One static library per module, so the build enforces the layering of DESIGN.md §4.
function(parley_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# parley_test(<name> SOURCES a_test.cc DEPS parley_core ...)
#   One GoogleTest binary per module; each TEST becomes its own ctest entry.
# g++ 12 at -O3 (Release) reports false -Wrestrict and -Wmaybe-uninitialized warnings inside
# libstdc++'s std::string (GCC bugs 105651 and 107138), which test code that builds strings
# with operator+ trips. Test targets build without those two there; the product's code keeps
# them.
function(parley_test_options target)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE
                           "$<$<CONFIG:Release>:-Wno-restrict;-Wno-maybe-uninitialized>")
  endif()
endfunction()

function(parley_test name)
  if(NOT PARLEY_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  parley_test_options(${name})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST PROPERTIES LABELS unit)
endfunction()
