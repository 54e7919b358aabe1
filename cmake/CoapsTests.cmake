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

# `make check` runs the suites of both crypto backends in one ctest
# (build/check-all: the two build trees as subdirectories), so the tests of
# a build other than OpenSSL's carry its backend in their names ("psa:").
# Scripted tests start servers on loopback ports: each backend's run one at
# a time (a lock per backend, so the two suites overlap), and those that
# load the machine or measure under load (floods, 1,000 sessions, kernel
# drops, benches, QEMU) also hold "machine", shared by both suites.
if(COAPS_CRYPTO STREQUAL "openssl")
  set(tp "")
else()
  set(tp "${COAPS_CRYPTO}:")
endif()
set(coaps_machine_tests
  bench/test_bench_smoke bench/test_compare_smoke fault/test_coaps_hs_flood
  firmware/test_firmware_light firmware/test_firmware_pki firmware/test_firmware_random
  interop/test_coap_dedup_load interop/test_coap_observe_load interop/test_coap_rx_drops
  interop/test_coaps_capacity net/test_coaps_workers conformance/test_conformance_spoof_netns
  install/test_install install/test_exports)

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
    add_test(NAME ${tp}${mod}/${name} COMMAND ${exe})
    set_tests_properties(${tp}${mod}/${name} PROPERTIES TIMEOUT 120 LABELS unit
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
  add_test(NAME ${tp}${kind}/${name} COMMAND bash ${script})
  set(locks "loopback_ports_${COAPS_CRYPTO}")
  if("${kind}/${name}" IN_LIST coaps_machine_tests)
    list(APPEND locks machine)
  endif()
  set_tests_properties(${tp}${kind}/${name} PROPERTIES TIMEOUT 600 LABELS ${kind}
    RESOURCE_LOCK "${locks}" SKIP_RETURN_CODE 77
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
      add_test(NAME ${tp}fuzz-seeds/${short} COMMAND ${name} -runs=0)
      set_tests_properties(${tp}fuzz-seeds/${short} PROPERTIES TIMEOUT 300 LABELS fuzz
        ENVIRONMENT "COAPS_SOURCE_DIR=${PROJECT_SOURCE_DIR};FUZZ_CLIENT_CHECK=${corpus}")
    endif()
    # Replay: every file of the kept corpus once, alone (a regression input
    # that crashes fails here, by name, before any fuzzing).
    add_test(NAME ${tp}fuzz-replay/${short}
      COMMAND sh -c "exec '$<TARGET_FILE:${name}>' -timeout=10 -rss_limit_mb=2048 '${corpus}'/*")
    set_tests_properties(${tp}fuzz-replay/${short} PROPERTIES TIMEOUT 300 LABELS fuzz
      ENVIRONMENT "COAPS_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
    # Fuzz for COAPS_FUZZ_SECONDS from the kept corpus, new finds into the
    # build tree (never into fuzz/corpus: docs/fuzzing.md says how to merge).
    math(EXPR fuzz_timeout "${COAPS_FUZZ_SECONDS} + 300")
    add_test(NAME ${tp}fuzz/${short}
      COMMAND sh -c "mkdir -p '${out}' && exec '$<TARGET_FILE:${name}>' -max_total_time=${COAPS_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 '${out}' '${corpus}'")
    set_tests_properties(${tp}fuzz/${short} PROPERTIES TIMEOUT ${fuzz_timeout} LABELS fuzz
      ENVIRONMENT "COAPS_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  endforeach()
endif()
