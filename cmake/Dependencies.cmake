# Every third-party dependency, found in one place. All come from Debian packages
# installed by scripts/setup.sh.
find_package(Threads REQUIRED)
find_package(CURL 7.80 REQUIRED)
find_package(OpenSSL 1.1 REQUIRED COMPONENTS Crypto)  # util::sha256_hex (EVP): the scenario hash in shard results
find_package(CLI11 2.1 CONFIG REQUIRED)
find_package(nlohmann_json 3.10 CONFIG REQUIRED)
find_package(fmt 9 CONFIG REQUIRED)
find_package(yaml-cpp 0.7 CONFIG REQUIRED)
find_package(tl-expected 1.0 CONFIG REQUIRED)
find_package(Boost 1.74 REQUIRED)  # header-only: Asio and Beast
if(LLMD_BUILD_TESTS)
  find_package(GTest 1.12 CONFIG REQUIRED)
endif()
