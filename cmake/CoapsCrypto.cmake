# The crypto backend: COAPS_CRYPTO selects src/crypto/<backend>/ and the
# library it calls, and sets
#   COAPS_CRYPTO_LIBS    what the crypto module links
#   COAPS_PC_REQUIRES    the pkg-config line for coaps.pc
# For psa, Mbed TLS 3.6 comes from COAPS_MBEDTLS_PREFIX, by default the
# build that scripts/install-mbedtls made (and cached) from Debian's source.

if(NOT COAPS_CRYPTO IN_LIST COAPS_CRYPTO_BACKENDS)
  string(REPLACE ";" ", " accepted "${COAPS_CRYPTO_BACKENDS}")
  message(FATAL_ERROR "COAPS_CRYPTO=${COAPS_CRYPTO} is not a crypto backend; accepted: ${accepted}")
endif()

if(COAPS_CRYPTO STREQUAL "openssl")
  find_package(OpenSSL 3.0 REQUIRED COMPONENTS Crypto)
  set(COAPS_CRYPTO_LIBS OpenSSL::Crypto)
  set(COAPS_PC_REQUIRES "Requires.private: libcrypto")
else()
  set(COAPS_MBEDTLS_PREFIX "" CACHE PATH "Mbed TLS 3.6 install prefix (default: scripts/install-mbedtls's cached build)")
  if(NOT COAPS_MBEDTLS_PREFIX)
    execute_process(COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/install-mbedtls --prefix
      OUTPUT_VARIABLE prefix OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "COAPS_CRYPTO=psa needs Mbed TLS 3.6: run scripts/install-mbedtls (make deps does) or set COAPS_MBEDTLS_PREFIX")
    endif()
    set(COAPS_MBEDTLS_PREFIX ${prefix} CACHE PATH "Mbed TLS 3.6 install prefix" FORCE)
  endif()
  find_package(MbedTLS 3.6 REQUIRED CONFIG PATHS ${COAPS_MBEDTLS_PREFIX} NO_DEFAULT_PATH)
  message(STATUS "coaps crypto backend: PSA Crypto on Mbed TLS ${MbedTLS_VERSION} (${COAPS_MBEDTLS_PREFIX})")
  add_compile_definitions(COAPS_CRYPTO_PSA=1)
  set(COAPS_CRYPTO_LIBS MbedTLS::mbedx509 MbedTLS::mbedcrypto)
  set(COAPS_PC_REQUIRES "Libs.private: -L${COAPS_MBEDTLS_PREFIX}/lib -lmbedx509 -lmbedcrypto -leverest -lp256m")
endif()
