# cmake -DINPUT=file -DOUTPUT=file.cpp -P embed.cmake: writes berth::api::dashboard_html().
file(READ ${INPUT} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){24})" "\\1\n" bytes "${bytes}")
file(WRITE ${OUTPUT} "// Generated from dashboard.html by embed.cmake; do not edit.
#include \"dashboard.hpp\"

namespace berth::api {
namespace {
constexpr unsigned char bytes[] = {
${bytes}
};
}  // namespace

std::string_view dashboard_html() { return {reinterpret_cast<const char*>(bytes), sizeof bytes}; }

}  // namespace berth::api
")
