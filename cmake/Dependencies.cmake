# Every dependency is a Debian 12 package. A missing one stops configure with a
# message that names the package to install (ci/install-deps installs them all).

function(gpc_require_package found debian_package what)
  if(NOT ${found})
    message(FATAL_ERROR
      "gpcbench: ${what} not found. Install the Debian package '${debian_package}' "
      "(or run ci/install-deps, which installs every dependency).")
  endif()
endfunction()

find_package(PkgConfig QUIET)
gpc_require_package(PkgConfig_FOUND pkg-config "pkg-config")

find_package(Threads REQUIRED)

pkg_check_modules(HWLOC QUIET IMPORTED_TARGET hwloc)
gpc_require_package(HWLOC_FOUND libhwloc-dev "hwloc (topology discovery and pinning)")

pkg_check_modules(NUMA QUIET IMPORTED_TARGET numa)
gpc_require_package(NUMA_FOUND libnuma-dev "libnuma (NUMA placement)")

find_path(PFM_INCLUDE_DIR perfmon/pfmlib_perf_event.h)
find_library(PFM_LIBRARY pfm)
if(PFM_INCLUDE_DIR AND PFM_LIBRARY)
  set(PFM_FOUND TRUE)
  add_library(gpc::pfm UNKNOWN IMPORTED)
  set_target_properties(gpc::pfm PROPERTIES IMPORTED_LOCATION ${PFM_LIBRARY}
                        INTERFACE_INCLUDE_DIRECTORIES ${PFM_INCLUDE_DIR})
endif()
gpc_require_package(PFM_FOUND libpfm4-dev "libpfm4 (perf event encoding)")

find_package(CLI11 CONFIG QUIET)
gpc_require_package(CLI11_FOUND libcli11-dev "CLI11 (command line parsing)")

find_package(nlohmann_json CONFIG QUIET)
gpc_require_package(nlohmann_json_FOUND nlohmann-json3-dev "nlohmann-json (result files)")

find_package(fmt CONFIG QUIET)
gpc_require_package(fmt_FOUND libfmt-dev "fmt (formatting)")

pkg_check_modules(TOMLPP QUIET IMPORTED_TARGET tomlplusplus)
gpc_require_package(TOMLPP_FOUND libtomlplusplus-dev "toml++ (matrix files)")

if(GPC_BUILD_TESTS)
  find_package(GTest CONFIG QUIET)
  gpc_require_package(GTest_FOUND libgtest-dev "GoogleTest")
  include(GoogleTest)
endif()

if(GPC_BUILD_BENCH)
  find_package(benchmark CONFIG QUIET)
  gpc_require_package(benchmark_FOUND libbenchmark-dev "Google Benchmark")
endif()

find_program(GPC_OBJCOPY objcopy)
gpc_require_package(GPC_OBJCOPY binutils "objcopy (guest flat binaries)")
