# optic_find_torch(): find_package(Torch) in the caller's directory scope (a macro, so the
# variables it sets, and for CUDA builds the CUDA toolkit variables its Caffe2 config sets, stay
# in the backend folder that asked). Tries the default search first, then the libtorch inside the
# pip PyTorch wheel of ${OPTIC_PYTHON}. Sets Torch_FOUND like find_package.
macro(optic_find_torch)
  find_package(Torch QUIET)
  if(NOT Torch_FOUND AND EXISTS "${OPTIC_PYTHON}")
    execute_process(
      COMMAND "${OPTIC_PYTHON}" -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
      OUTPUT_VARIABLE OPTIC_TORCH_PREFIX OUTPUT_STRIP_TRAILING_WHITESPACE
      ERROR_QUIET RESULT_VARIABLE OPTIC_TORCH_PY_RC)
    if(OPTIC_TORCH_PY_RC EQUAL 0 AND OPTIC_TORCH_PREFIX)
      find_package(Torch QUIET PATHS "${OPTIC_TORCH_PREFIX}" NO_DEFAULT_PATH)
    endif()
  endif()
endmacro()
