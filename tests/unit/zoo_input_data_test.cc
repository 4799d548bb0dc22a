// --input-data: the .npy reader (src/zoo/npy.h) on good and damaged images, and LoadInputData's
// checks against a model's inputs. .npz archives are covered through the CLI
// (tests/python/test_own_model.py), where numpy writes them.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "optic/model_source.h"
#include "zoo/npy.h"

namespace optic {
namespace {

namespace fs = std::filesystem;

// A .npy image as numpy.save writes it: magic, version, header padded to 64 bytes, data.
std::string Npy(const std::string& dict, const std::string& data, int major = 1) {
  std::string header = dict;
  const size_t fixed = major == 1 ? 10 : 12;
  while ((fixed + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  const size_t n = header.size();
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  if (major != 1) out += std::string{static_cast<char>((n >> 16) & 0xff), static_cast<char>(n >> 24)};
  return out + header + data;
}

std::string Floats(int n) {
  std::string s(n * sizeof(float), '\0');
  for (int i = 0; i < n; ++i) {
    const float v = static_cast<float>(i) * 0.5f;
    std::memcpy(s.data() + i * sizeof(float), &v, sizeof v);
  }
  return s;
}

const std::string kGood = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", Floats(6));

TEST(Npy, ReadsVersionsOneTwoThree) {
  for (int major : {1, 2, 3}) {
    Tensor t;
    Status s = ParseNpy(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", Floats(6), major),
                        "'x.npy'", &t);
    ASSERT_TRUE(s.ok()) << major << ": " << s.ToString();
    EXPECT_EQ(t.dtype(), DType::kFP32);
    EXPECT_EQ(t.shape(), (Shape{2, 3}));
    EXPECT_FLOAT_EQ(t.data<float>()[5], 2.5f);
  }
  Tensor t;
  ASSERT_TRUE(ParseNpy(Npy("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", "abcd"), "'x'", &t).ok());
  EXPECT_EQ(t.dtype(), DType::kUINT8);
  ASSERT_TRUE(ParseNpy(Npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 1), }", std::string(8, '\0')), "'x'", &t).ok());
  EXPECT_EQ(t.dtype(), DType::kINT64);
}

TEST(Npy, DamagedImagesAreClearErrors) {
  const std::string f4 = "'descr': '<f4', ";
  const struct {
    std::string name, bytes, needle;
  } cases[] = {
      {"wrong magic", "PK\x03\x04" + kGood.substr(4), "not a .npy file (no \\x93NUMPY magic)"},
      {"empty", "", "not a .npy file"},
      {"truncated header", kGood.substr(0, 40), "truncated .npy header"},
      {"version 9", std::string(kGood).replace(6, 1, "\x09"), "format version 9"},
      {"unknown key", Npy("{'descr': '<f4', 'fortran': False, 'shape': (2, 3), }", Floats(6)), "unknown key 'fortran'"},
      {"no shape", Npy("{'descr': '<f4', 'fortran_order': False, }", Floats(6)), "needs 'descr', 'fortran_order' and 'shape'"},
      {"bad shape", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", Floats(6)), "shape holds a non-integer"},
      {"unterminated", Npy("{'descr': '<f4", ""), "damaged .npy header"},
      {"float64", Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", std::string(16, '\0')), "dtype '<f8' is not one optic's tensors hold"},
      {"big-endian", Npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", Floats(6)), "is big-endian"},
      {"pickle", Npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "x"), "a pickle"},
      {"bool", Npy("{'descr': '|b1', 'fortran_order': False, 'shape': (1,), }", "x"), "no bool dtype"},
      {"fortran", Npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", Floats(6)), "Fortran (column-major) order"},
      {"truncated data", kGood.substr(0, kGood.size() - 3), "truncated data: 21 bytes after the header"},
      {"overlong data", kGood + "xyz", "overlong data"},
      {"scalar", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", Floats(1)), "holds a scalar"},
  };
  for (const auto& c : cases) {
    Tensor t;
    Status s = ParseNpy(c.bytes, "'x.npy'", &t);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.name << ": " << s.ToString();
    EXPECT_NE(s.message().find(c.needle), std::string::npos) << c.name << ": " << s.message();
    EXPECT_NE(s.message().find("'x.npy'"), std::string::npos) << c.name << ": " << s.message();
  }
}

class InputData : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("optic_input_data_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& bytes) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
  fs::path dir_;
};

const std::vector<TensorInfo> kImage = {{"image", DType::kFP32, {-1, 3, -1, -1}}};

std::string Image(int n, int h, int w, const std::string& descr = "<f4") {
  return Npy("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + std::to_string(n) +
                 ", 3, " + std::to_string(h) + ", " + std::to_string(w) + "), }",
             std::string(static_cast<size_t>(n) * 3 * h * w * 4, '\0'));
}

TEST_F(InputData, ShapesComeFromTheFile) {
  InputSettings s;
  s.data_file = Write("x.npy", Image(5, 8, 12));
  ASSERT_TRUE(LoadInputData(kImage, &s).ok());
  EXPECT_EQ(s.shapes.at("image"), (Shape{5, 3, 8, 12}));
  EXPECT_EQ(InputDataRows(s), 5);
  std::vector<TensorInfo> concrete;
  ASSERT_TRUE(ConcreteInputs(kImage, s, &concrete).ok());  // no --shape needed
  Tensor b;
  ASSERT_TRUE(MakeInputValues(concrete[0], 7, s, 0, &b, 3).ok());  // rows 3,4,0,1,2,3,4
  EXPECT_EQ(b.shape(), (Shape{7, 3, 8, 12}));
}

TEST_F(InputData, WrongFilesNameTheInputAndLeaveTheSettingsAlone) {
  const std::vector<TensorInfo> two = {{"image", DType::kFP32, {-1, 3, -1, -1}}, {"ids", DType::kINT64, {-1, 5}}};
  const struct {
    std::string name, bytes;
    std::vector<TensorInfo> inputs;
    std::string needle;
  } cases[] = {
      {"wrong dtype.npy", Image(2, 8, 8, "<i4"), kImage, "input 'image': the model takes fp32, the file gives int32"},
      {"wrong shape.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4, 8, 8), }", Floats(2 * 4 * 64)),
       kImage, "the model takes [-1,3,-1,-1] (-1: any; the first dim is the rows), the file gives [2,4,8,8]"},
      {"wrong rank.npy", kGood, kImage, "the file gives [2,3]"},
      {"one array.npy", Image(2, 8, 8), two, "is a .npy (one array), the model has 2 inputs"},
      {"truncated.npy", Image(2, 8, 8).substr(0, 200), kImage, "--input-data for input 'image' fp32"},
      {"text.bin", "hello", kImage, "unknown extension '.bin'"},
  };
  InputSettings s;
  s.ranges["other"] = {0, 1};
  for (const auto& c : cases) {
    s.data_file = Write(c.name, c.bytes);
    InputSettings before = s;
    Status st = LoadInputData(c.inputs, &s);
    EXPECT_FALSE(st.ok()) << c.name;
    EXPECT_NE(st.message().find(c.needle), std::string::npos) << c.name << ": " << st.message();
    EXPECT_TRUE(s.data.empty() && s.shapes == before.shapes) << c.name;
  }
  // The same settings then take a good file.
  s.data_file = Write("good.npy", Image(2, 8, 8));
  ASSERT_TRUE(LoadInputData(kImage, &s).ok());
  EXPECT_EQ(s.shapes.at("image"), (Shape{2, 3, 8, 8}));

  InputSettings clash;
  clash.shapes["image"] = {1, 3, 16, 16};
  clash.data_file = s.data_file;
  Status st = LoadInputData(kImage, &clash);
  EXPECT_NE(st.message().find("--shape image is [1,3,16,16] but --input-data"), std::string::npos) << st.message();
  InputSettings ranged;
  ranged.ranges["image"] = {0, 1};
  ranged.data_file = s.data_file;
  st = LoadInputData(kImage, &ranged);
  EXPECT_NE(st.message().find("--input-range image and --input-data both set"), std::string::npos) << st.message();
  InputSettings missing;
  missing.data_file = (dir_ / "absent.npy").string();
  EXPECT_EQ(LoadInputData(kImage, &missing).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace optic
