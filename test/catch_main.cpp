// The one translation unit that holds Catch2's main (Debian ships Catch2 2.13 without Catch2WithMain).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
