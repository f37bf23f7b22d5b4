// The guest programs built from guests/*.c, embedded in the harness as flat images
// that load at GPC_GUEST_CODE_GPA (gpc_guest/abi.h).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace gpc::guests {

struct GuestImage {
  const char* name;
  const unsigned char* data;
  std::size_t size;
};

// nullptr when no guest of that name was built.
const GuestImage* find_guest_image(std::string_view name);
std::vector<std::string_view> guest_image_names();

}  // namespace gpc::guests
