# Turns a flat guest binary into a C++ source defining gpc::guests::kGuestImage_<NAME>.
# cmake -DNAME=pvclock -DINPUT=pvclock.bin -DOUTPUT=guest_image_pvclock.cpp -P embed_guest.cmake
file(READ ${INPUT} hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
if(size EQUAL 0)
  message(FATAL_ERROR "guest image ${INPUT} is empty")
endif()
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n  " bytes "${bytes}")
file(WRITE ${OUTPUT}
"// Generated from ${NAME}.bin by guests/embed_guest.cmake. Do not edit.
#include \"gpc_guest/guest_image.hpp\"

namespace gpc::guests {
namespace {
const unsigned char kBytes[${size}] = {
  ${bytes}
};
}  // namespace
extern const GuestImage kGuestImage_${NAME};
const GuestImage kGuestImage_${NAME} = {\"${NAME}\", kBytes, sizeof kBytes};
}  // namespace gpc::guests
")
