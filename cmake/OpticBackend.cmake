# Backend registration. A backend folder calls optic_backend_dependency_missing() to skip or fail,
# and optic_register_backend() to add itself; the registry include is generated from the list.
define_property(GLOBAL PROPERTY OPTIC_BACKENDS BRIEF_DOCS "backends" FULL_DOCS "registered backends")
set_property(GLOBAL PROPERTY OPTIC_BACKENDS "")
set_property(GLOBAL PROPERTY OPTIC_BACKEND_LIBS "")

# Call when a backend's dependency is absent: AUTO skips with one line, ON stops the configure.
macro(optic_backend_dependency_missing option what)
  if("${${option}}" STREQUAL "ON")
    message(FATAL_ERROR "optic: ${option}=ON but ${what}")
  endif()
  message(STATUS "optic: skipping backend (${option}=AUTO): ${what}")
  return()
endmacro()

# optic_register_backend(NAME onnxruntime FACTORY CreateOnnxRuntimeBackend TARGET optic_backend_ort)
function(optic_register_backend)
  cmake_parse_arguments(B "" "NAME;FACTORY;TARGET" "" ${ARGN})
  set_property(GLOBAL APPEND PROPERTY OPTIC_BACKENDS "OPTIC_BACKEND(${B_NAME}, ${B_FACTORY})")
  set_property(GLOBAL APPEND PROPERTY OPTIC_BACKEND_LIBS ${B_TARGET})
  message(STATUS "optic: backend ${B_NAME} enabled")
endfunction()

function(optic_backend_summary)
  get_property(names GLOBAL PROPERTY OPTIC_BACKENDS)
  string(REPLACE ";" ", " pretty "${names}")
  message(STATUS "optic: backends compiled in: ${pretty}")
endfunction()

# Subsystem libraries (zoo, bench, report, ...) announce themselves; optic_all links them all.
set_property(GLOBAL PROPERTY OPTIC_LIBS "")
function(optic_add_library target)
  set_property(GLOBAL APPEND PROPERTY OPTIC_LIBS ${target})
endfunction()
