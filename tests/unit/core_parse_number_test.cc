// Numbers from users: whole-text parses, range checks, errors that name the value and the range.
#include <gtest/gtest.h>

#include "optic/parse_number.h"

namespace optic {
namespace {

TEST(ParseNumber, IntegersWholeAndInRange) {
  int v = 0;
  ASSERT_TRUE(ParseInteger(" 12 ", "--n", 1, 100, &v).ok());
  EXPECT_EQ(v, 12);
  for (const char* bad : {"", "x", "1x", "1.5", "0x10", "1,2"}) {
    Status s = ParseInteger(bad, "--n", 1, 100, &v);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find("--n: '" + std::string(bad) + "' is not an integer"), std::string::npos)
        << s.message();
  }
  for (const char* bad : {"0", "101", "-1", "99999999999999999999"}) {
    Status s = ParseInteger(bad, "--n", 1, 100, &v);
    EXPECT_NE(s.message().find("out of range (expected an integer from 1 to 100)"), std::string::npos)
        << s.message();
  }
  EXPECT_EQ(v, 12);  // untouched on failure
}

TEST(ParseNumber, RealsFiniteAndBounded) {
  double v = 0;
  ASSERT_TRUE(ParseReal("2.5", "--rate", 0, true, 10, &v).ok());
  EXPECT_EQ(v, 2.5);
  EXPECT_FALSE(ParseReal("0", "--rate", 0, true, 10, &v).ok());
  EXPECT_TRUE(ParseReal("0", "--warmup", 0, false, 10, &v).ok());
  for (const char* bad : {"abc", "nan", "inf", "1e999", "", "2s"}) {
    EXPECT_FALSE(ParseReal(bad, "--rate", 0, true, 10, &v).ok()) << bad;
  }
}

TEST(ParseNumber, ListsCheckEveryItemFirst) {
  std::vector<int> out = {7};
  Status s = ParseIntegerList("1,2,x", "--concurrency", 1, 64, &out);
  EXPECT_NE(s.message().find("--concurrency: 'x'"), std::string::npos) << s.message();
  EXPECT_EQ(out, std::vector<int>{7});
  ASSERT_TRUE(ParseIntegerList("1, 2,,4", "--concurrency", 1, 64, &out).ok());
  EXPECT_EQ(out, (std::vector<int>{1, 2, 4}));
  EXPECT_FALSE(ParseIntegerList(",", "--concurrency", 1, 64, &out).ok());
  std::vector<double> rates;
  EXPECT_FALSE(ParseRealList("1,abc", "--rate", 0, true, 1e6, &rates).ok());
  ASSERT_TRUE(ParseRealList("1,2.5", "--rate", 0, true, 1e6, &rates).ok());
  EXPECT_EQ(rates, (std::vector<double>{1, 2.5}));
}

}  // namespace
}  // namespace optic
