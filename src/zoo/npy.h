// NumPy array files: .npy (one array) and .npz (a zip archive of .npy entries, stored or
// deflated, as np.savez and np.savez_compressed write them). The .npy reader is strict: format
// versions 1, 2 and 3, little-endian or byte-order-free dtypes optic's tensors hold (float32,
// float16, int64, int32, int8, uint8), C order, and exactly the bytes the header's shape needs.
// Fortran order, object arrays (pickles), big-endian data, unknown dtypes, a damaged header and
// truncated or overlong data are errors that name the file (and the entry) and what to do.
//
// Thread safety: plain functions; callable from any thread.
#pragma once

#include <map>
#include <string>

#include "optic/tensor.h"

namespace optic {

// Parses one .npy image held in `bytes`; `what` names it in errors ("'x.npy'", "'x.npz' entry
// 'ids.npy'"). kInvalidArgument for anything the reader refuses.
Status ParseNpy(const std::string& bytes, const std::string& what, Tensor* out);

// Reads a .npy file.
Status ReadNpyFile(const std::string& path, Tensor* out);

// Reads every entry of a .npz file into `out`, keyed by the entry's name without ".npy".
// An entry that is no .npy file, a damaged archive or a CRC mismatch is an error.
Status ReadNpzFile(const std::string& path, std::map<std::string, Tensor>* out);

}  // namespace optic
