/*
 * asan_build.h - PYSCOPE_TEST_ASAN: defined when this test is built with AddressSanitizer
 * (GCC says so with __SANITIZE_ADDRESS__, Clang with __has_feature), whose allocator
 * fills and shadows memory the tests otherwise find untouched.
 */
#ifndef PYSCOPE_TEST_ASAN_BUILD_H
#define PYSCOPE_TEST_ASAN_BUILD_H

#if defined(__SANITIZE_ADDRESS__)
#define PYSCOPE_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PYSCOPE_TEST_ASAN 1
#endif
#endif

#endif
