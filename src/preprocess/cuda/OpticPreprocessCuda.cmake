# Decides whether the GPU preprocessing library optic_preprocess_cuda is built and sets
# OPTIC_PREPROCESS_CUDA. OPTIC_WITH_CUDA: AUTO builds it when a CUDA compiler is found (nvcc on
# PATH, $CUDACXX, or -DCMAKE_CUDA_COMPILER=...), ON requires one, OFF skips. The pip toolchain
# from `OPTIC_CUDA_TOOLCHAIN=1 scripts/setup.sh` is used with
#   -DCMAKE_CUDA_COMPILER=$PWD/.deps/cuda/bin/nvcc -DCUDAToolkit_ROOT=$PWD/.deps/cuda
# Building needs no GPU and no driver: only the runtime (libcudart) and nvJPEG are linked, never
# libcuda.
set(OPTIC_PREPROCESS_CUDA OFF)
if(OPTIC_WITH_CUDA STREQUAL "OFF")
  message(STATUS "optic: skipping GPU preprocessing (OPTIC_WITH_CUDA=OFF)")
  return()
endif()
if(NOT CMAKE_CUDA_COMPILER)
  include(CheckLanguage)
  check_language(CUDA)
endif()
if(NOT CMAKE_CUDA_COMPILER)
  if(OPTIC_WITH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "optic: OPTIC_WITH_CUDA=ON but no CUDA compiler found (set CMAKE_CUDA_COMPILER, "
                        "or run OPTIC_CUDA_TOOLCHAIN=1 scripts/setup.sh)")
  endif()
  message(STATUS "optic: skipping GPU preprocessing (OPTIC_WITH_CUDA=AUTO): no CUDA compiler found")
  return()
endif()
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 90)  # H100/H200
endif()
if(NOT CMAKE_CUDA_HOST_COMPILER)
  set(CMAKE_CUDA_HOST_COMPILER ${CMAKE_CXX_COMPILER})
endif()
enable_language(CUDA)
# The toolkit's own directories (from nvcc) locate the runtime and nvJPEG. Not
# find_package(CUDAToolkit): CMake 3.25's module fails on toolkits without nvToolsExt (the pip
# wheels have none).
set(_optic_cuda_dirs ${CMAKE_CUDA_IMPLICIT_LINK_DIRECTORIES})
if(CUDAToolkit_ROOT)
  list(PREPEND _optic_cuda_dirs ${CUDAToolkit_ROOT}/lib64 ${CUDAToolkit_ROOT}/lib)
endif()
find_library(OPTIC_CUDART_LIBRARY cudart HINTS ${_optic_cuda_dirs} NO_DEFAULT_PATH)
find_library(OPTIC_NVJPEG_LIBRARY nvjpeg HINTS ${_optic_cuda_dirs} NO_DEFAULT_PATH)
if(NOT OPTIC_CUDART_LIBRARY OR NOT OPTIC_NVJPEG_LIBRARY)
  if(OPTIC_WITH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "optic: OPTIC_WITH_CUDA=ON but libcudart/libnvjpeg not found in ${_optic_cuda_dirs}")
  endif()
  message(STATUS "optic: skipping GPU preprocessing (OPTIC_WITH_CUDA=AUTO): libcudart or libnvjpeg not found")
  return()
endif()

# Shared library: consumers (tests, the CLI) link it like any .so and need no CUDA language or
# device link step of their own.
add_library(optic_preprocess_cuda SHARED ${CMAKE_CURRENT_LIST_DIR}/cuda_preprocessor.cc
            ${CMAKE_CURRENT_LIST_DIR}/nvjpeg_decoder.cc ${CMAKE_CURRENT_LIST_DIR}/resize_kernel.cu)
target_link_libraries(optic_preprocess_cuda PRIVATE optic_preprocess_cpu ${OPTIC_CUDART_LIBRARY}
                      ${OPTIC_NVJPEG_LIBRARY})
target_include_directories(optic_preprocess_cuda SYSTEM PRIVATE ${CMAKE_CUDA_TOOLKIT_INCLUDE_DIRECTORIES})
target_include_directories(optic_preprocess_cuda PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
target_compile_options(optic_preprocess_cuda PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>)
# C++17 in the .cu file: CMake 3.25 has no nvcc flag for C++20.
set_target_properties(optic_preprocess_cuda PROPERTIES CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}"
                      CUDA_STANDARD 17)
set(OPTIC_PREPROCESS_CUDA ON)
message(STATUS "optic: GPU preprocessing enabled (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, sm_${CMAKE_CUDA_ARCHITECTURES})")
