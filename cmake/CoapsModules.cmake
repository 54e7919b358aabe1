# A module is one directory src/<name>/ compiled once into an OBJECT library
# coaps_<name>. Executables link the closure of the modules they need, so a
# test of one module builds even while a sibling module is being written.

function(coaps_module name)
  cmake_parse_arguments(M "NOT_IN_LIBRARY" "SUBDIR" "DEPS;LIBS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.c)
  if(M_SUBDIR) # one implementation of the module's interface (a crypto backend)
    file(GLOB sub_srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/${M_SUBDIR}/*.c)
    list(APPEND srcs ${sub_srcs})
  endif()
  if(NOT srcs)
    return()
  endif()
  add_library(coaps_${name} OBJECT ${srcs})
  # Only what include/coaps/ declares COAPS_API leaves the library.
  set_target_properties(coaps_${name} PROPERTIES C_VISIBILITY_PRESET hidden)
  target_include_directories(coaps_${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/src>)
  foreach(dep ${M_DEPS})
    if(TARGET coaps_${dep})
      target_include_directories(coaps_${name} PRIVATE
        $<TARGET_PROPERTY:coaps_${dep},INTERFACE_INCLUDE_DIRECTORIES>)
    endif()
  endforeach()
  if(M_LIBS)
    target_link_libraries(coaps_${name} PUBLIC ${M_LIBS})
  endif()
  set_property(GLOBAL APPEND PROPERTY COAPS_MODULES ${name})
  if(NOT M_NOT_IN_LIBRARY) # NOT_IN_LIBRARY: the programs' own code (cli)
    set_property(GLOBAL APPEND PROPERTY COAPS_LIBRARY_MODULES ${name})
  endif()
  set_property(GLOBAL PROPERTY COAPS_DEPS_${name} ${M_DEPS})
endfunction()

# coaps_module_closure(out mod...) - the modules listed and all they depend on.
function(coaps_module_closure out)
  set(todo ${ARGN})
  set(done)
  while(todo)
    list(POP_FRONT todo m)
    if(m IN_LIST done OR NOT TARGET coaps_${m})
      continue()
    endif()
    list(APPEND done ${m})
    get_property(deps GLOBAL PROPERTY COAPS_DEPS_${m})
    list(APPEND todo ${deps})
  endwhile()
  set(${out} ${done} PARENT_SCOPE)
endfunction()

# coaps_link_modules(target mod...) - link the objects of mod... and their deps.
function(coaps_link_modules target)
  coaps_module_closure(mods ${ARGN})
  foreach(m ${mods})
    target_link_libraries(${target} PRIVATE coaps_${m})
  endforeach()
endfunction()

# The installed library: libcoaps.a and libcoaps.so from every module.
function(coaps_public_library)
  get_property(mods GLOBAL PROPERTY COAPS_LIBRARY_MODULES)
  set(objs)
  set(targets)
  foreach(m ${mods})
    list(APPEND objs $<TARGET_OBJECTS:coaps_${m}>)
    list(APPEND targets coaps_${m})
  endforeach()
  # The static library holds one relocatable object, linked from all the
  # modules, whose hidden symbols are made local: a program linking
  # libcoaps.a sees the public API and nothing else, as with libcoaps.so.
  set(prelinked ${PROJECT_BINARY_DIR}/coaps_prelinked.o)
  add_custom_command(OUTPUT ${prelinked}
    COMMAND ${CMAKE_LINKER} -r -o ${prelinked} ${objs}
    COMMAND ${CMAKE_OBJCOPY} --localize-hidden ${prelinked}
    DEPENDS ${objs} ${targets} COMMAND_EXPAND_LISTS
    COMMENT "Linking the objects of libcoaps.a, hidden symbols made local")
  set_source_files_properties(${prelinked} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  add_library(coaps STATIC ${prelinked})
  set_target_properties(coaps PROPERTIES LINKER_LANGUAGE C)
  add_library(coaps_shared SHARED ${objs})
  set_target_properties(coaps_shared PROPERTIES OUTPUT_NAME coaps
    VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
  # A static crypto library linked into libcoaps.so (Mbed TLS for the PSA
  # backend) stays inside it too.
  target_link_options(coaps_shared PRIVATE -Wl,--exclude-libs,ALL)
  foreach(t coaps coaps_shared)
    target_include_directories(${t} PUBLIC
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
    target_link_libraries(${t} PUBLIC ${COAPS_CRYPTO_LIBS} ${COAPS_STORE_LIBS})
  endforeach()
  add_library(coaps::coaps ALIAS coaps)
endfunction()

# Each directory <dir>/<program>/ holding *.c becomes the executable <program>,
# linked with every module; a directory with its own CMakeLists.txt is added
# as a subdirectory instead.
function(coaps_programs dir)
  file(GLOB entries LIST_DIRECTORIES true ${PROJECT_SOURCE_DIR}/${dir}/*)
  get_property(mods GLOBAL PROPERTY COAPS_MODULES)
  foreach(e ${entries})
    if(NOT IS_DIRECTORY ${e})
      continue()
    endif()
    if(EXISTS ${e}/CMakeLists.txt) # builds its programs itself
      add_subdirectory(${e})
      continue()
    endif()
    file(GLOB srcs CONFIGURE_DEPENDS ${e}/*.c)
    if(NOT srcs)
      continue()
    endif()
    get_filename_component(prog ${e} NAME)
    add_executable(${prog} ${srcs})
    target_include_directories(${prog} PRIVATE ${e})
    coaps_link_modules(${prog} ${mods})
    set_property(GLOBAL APPEND PROPERTY COAPS_PROGRAMS_${dir} ${prog})
  endforeach()
endfunction()
