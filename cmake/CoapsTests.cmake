# Test registration. Everything here runs under `make check` (ctest).
#
#   tests/<module>/test_*.c   cmocka unit test of src/<module>/, linked with
#                             that module and its dependencies only
#   tests/tools/<name>.c      helper programs for scripted tests (relay, ...)
#   tests/*/test_*.sh         scripted tests (interop, fault, bad input); run
#                             with bash, env COAPS_BUILD_DIR/COAPS_SOURCE_DIR;
#                             exit 77 = skipped (say why on stderr)
#   fuzz/fuzz_<name>.c        libFuzzer harness; with COAPS_FUZZ a replay of
#                             fuzz/corpus/<name>/ (fuzz-replay/<name>) and a
#                             COAPS_FUZZ_SECONDS run from it (fuzz/<name>)

find_package(PkgConfig REQUIRED)
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)

file(GLOB test_dirs LIST_DIRECTORIES true ${PROJECT_SOURCE_DIR}/tests/*)
foreach(d ${test_dirs})
  get_filename_component(mod ${d} NAME)
  file(GLOB unit_srcs CONFIGURE_DEPENDS ${d}/test_*.c)
  foreach(src ${unit_srcs})
    get_filename_component(name ${src} NAME_WE)
    set(exe ${mod}_${name})
    add_executable(${exe} ${src})
    target_link_libraries(${exe} PRIVATE PkgConfig::CMOCKA)
    target_include_directories(${exe} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
    if(TARGET coaps_${mod})
      coaps_link_modules(${exe} ${mod})
    else()
      get_property(all GLOBAL PROPERTY COAPS_MODULES)
      coaps_link_modules(${exe} ${all})
    endif()
    add_test(NAME ${mod}/${name} COMMAND ${exe})
    set_tests_properties(${mod}/${name} PROPERTIES TIMEOUT 120 LABELS unit
      ENVIRONMENT "COAPS_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  endforeach()
endforeach()

file(GLOB tool_srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/tools/*.c)
get_property(all_mods GLOBAL PROPERTY COAPS_MODULES)
foreach(src ${tool_srcs})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  coaps_link_modules(${name} ${all_mods})
endforeach()

file(GLOB script_tests CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/*/test_*.sh)
foreach(script ${script_tests})
  get_filename_component(name ${script} NAME_WE)
  get_filename_component(dir ${script} DIRECTORY)
  get_filename_component(kind ${dir} NAME)
  add_test(NAME ${kind}/${name} COMMAND bash ${script})
  set_tests_properties(${kind}/${name} PROPERTIES TIMEOUT 600 LABELS ${kind}
    RESOURCE_LOCK loopback_ports SKIP_RETURN_CODE 77
    ENVIRONMENT "COAPS_BUILD_DIR=${PROJECT_BINARY_DIR};COAPS_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endforeach()

if(COAPS_FUZZ)
  file(GLOB fuzz_srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/fuzz/fuzz_*.c)
  foreach(src ${fuzz_srcs})
    get_filename_component(name ${src} NAME_WE)
    string(REGEX REPLACE "^fuzz_" "" short ${name})
    add_executable(${name} ${src})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    coaps_link_modules(${name} ${all_mods})
    set(out ${PROJECT_BINARY_DIR}/fuzz-corpus/${short})
    set(corpus ${PROJECT_SOURCE_DIR}/fuzz/corpus/${short})
    if(short STREQUAL "dtls_client")
      # Its ECDHE key pairs are made from a fixed scalar (the harness's
      # __wrap_crypto_kx_generate), so a recorded ECDHE_ECDSA handshake
      # replays to the end; its named seeds, recorded off our server, must
      # still replay to the states they were made for: docs/fuzzing.md.
      target_link_options(${name} PRIVATE -Wl,--wrap=crypto_kx_generate)
      add_test(NAME fuzz-seeds/${short} COMMAND ${name} -runs=0)
      set_tests_properties(fuzz-seeds/${short} PROPERTIES TIMEOUT 300 LABELS fuzz
        ENVIRONMENT "COAPS_SOURCE_DIR=${PROJECT_SOURCE_DIR};FUZZ_CLIENT_CHECK=${corpus}")
    endif()
    # Replay: every file of the kept corpus once, alone (a regression input
    # that crashes fails here, by name, before any fuzzing).
    add_test(NAME fuzz-replay/${short}
      COMMAND sh -c "exec '$<TARGET_FILE:${name}>' -timeout=10 -rss_limit_mb=2048 '${corpus}'/*")
    set_tests_properties(fuzz-replay/${short} PROPERTIES TIMEOUT 300 LABELS fuzz
      ENVIRONMENT "COAPS_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
    # Fuzz for COAPS_FUZZ_SECONDS from the kept corpus, new finds into the
    # build tree (never into fuzz/corpus: docs/fuzzing.md says how to merge).
    math(EXPR fuzz_timeout "${COAPS_FUZZ_SECONDS} + 300")
    add_test(NAME fuzz/${short}
      COMMAND sh -c "mkdir -p '${out}' && exec '$<TARGET_FILE:${name}>' -max_total_time=${COAPS_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 '${out}' '${corpus}'")
    set_tests_properties(fuzz/${short} PROPERTIES TIMEOUT ${fuzz_timeout} LABELS fuzz
      ENVIRONMENT "COAPS_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  endforeach()
endif()
