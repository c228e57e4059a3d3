# codegen tests: fused kernels through LLVM (JIT values, broadcasting, ranges, disk cache, PTX checked
# with ptxas when /usr/local/cuda is installed). Included from tests/CMakeLists.txt.
# -ffp-contract=off: the reference loops must round exactly as written (no FMA contraction), since
# most kernel results are compared bit for bit.
add_executable(fc_codegen_tests ${CMAKE_CURRENT_LIST_DIR}/codegen_test.cpp ${CMAKE_CURRENT_LIST_DIR}/codegen_cache_test.cpp
               ${CMAKE_CURRENT_LIST_DIR}/fused_kernel_text_test.cpp ${CMAKE_CURRENT_LIST_DIR}/row_kernel_test.cpp)
target_link_libraries(fc_codegen_tests PRIVATE fc_codegen GTest::gtest_main)
target_compile_options(fc_codegen_tests PRIVATE -ffp-contract=off)
gtest_discover_tests(fc_codegen_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS codegen)
