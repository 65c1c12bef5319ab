#include "core/status.h"

#include <gtest/gtest.h>

#include <memory>

#include "core/result.h"

namespace parley {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("odd");
  return x / 2;
}

Status Quarter(int x, int& out) {
  PARLEY_ASSIGN_OR_RETURN(int h, Half(x));
  PARLEY_ASSIGN_OR_RETURN(out, Half(h));
  return OkStatus();
}

TEST(StatusTest, CarriesCodeAndMessage) {
  Status s = NotFound("tenant tn_x not found");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NOT_FOUND: tenant tn_x not found");
  EXPECT_TRUE(OkStatus().ok());
}

TEST(ResultTest, AssignOrReturnPropagatesFirstError) {
  int out = 0;
  EXPECT_TRUE(Quarter(8, out).ok());
  EXPECT_EQ(out, 2);
  Status s = Quarter(6, out);  // 6 -> 3 -> odd
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST(ResultTest, HoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(StatusTest, RetryAfterIsKept) {
  Status s = ResourceExhausted("slow down");
  s.set_retry_after(std::chrono::seconds(3));
  EXPECT_EQ(s.retry_after(), std::chrono::milliseconds(3000));
}

}  // namespace
}  // namespace parley
