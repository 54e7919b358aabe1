# Install rules: library, headers, programs, pkg-config file and a CMake
# package so that `find_package(coaps)` works for users.
include(CMakePackageConfigHelpers)

install(TARGETS coaps coaps_shared EXPORT coapsTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/coaps DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/coap3 DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
get_property(app_progs GLOBAL PROPERTY COAPS_PROGRAMS_apps)
get_property(example_progs GLOBAL PROPERTY COAPS_PROGRAMS_examples)
if(app_progs OR example_progs)
  install(TARGETS ${app_progs} ${example_progs} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

install(EXPORT coapsTargets NAMESPACE coaps::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/coaps)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/coapsConfig.cmake.in
  ${PROJECT_BINARY_DIR}/coapsConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/coaps)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/coapsConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/coapsConfig.cmake ${PROJECT_BINARY_DIR}/coapsConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/coaps)

file(RELATIVE_PATH COAPS_PC_TO_PREFIX
  ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(${PROJECT_SOURCE_DIR}/cmake/coaps.pc.in ${PROJECT_BINARY_DIR}/coaps.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/coaps.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
# The libcoap 4.3 API (src/compat): pkg-config libcoap-3-coaps.
configure_file(${PROJECT_SOURCE_DIR}/cmake/libcoap-3-coaps.pc.in
  ${PROJECT_BINARY_DIR}/libcoap-3-coaps.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/libcoap-3-coaps.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
