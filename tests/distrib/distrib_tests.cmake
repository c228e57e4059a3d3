# distrib tests: the cost model (GoogleTest, no MPI) and the allreduce algorithms under mpirun with
# 1..8 ranks (oversubscribed on this small machine). Included from tests/CMakeLists.txt.
add_executable(fc_distrib_cost_model_tests ${CMAKE_CURRENT_SOURCE_DIR}/distrib/cost_model_test.cpp)
target_link_libraries(fc_distrib_cost_model_tests PRIVATE fc_distrib GTest::gtest_main)
gtest_discover_tests(fc_distrib_cost_model_tests DISCOVERY_TIMEOUT 60)

add_executable(fc_distrib_allreduce_tests ${CMAKE_CURRENT_SOURCE_DIR}/distrib/allreduce_mpi_test.cpp)
target_link_libraries(fc_distrib_allreduce_tests PRIVATE fc_distrib)

# Measurement tool, not a test: mpirun -n 2 bin/fc_allreduce_bench 20 4096 1048576.
add_executable(fc_allreduce_bench ${CMAKE_CURRENT_SOURCE_DIR}/distrib/allreduce_bench_main.cpp)
target_link_libraries(fc_allreduce_bench PRIVATE fc_distrib)

# As root OpenMPI refuses to start without these; --oversubscribe lets 8 ranks share 2 cores.
find_program(FC_MPIEXEC NAMES mpirun mpiexec REQUIRED)
set(FC_MPIRUN_FLAGS --allow-run-as-root --oversubscribe)
# One rank without mpirun: MPI singleton init.
add_test(NAME distrib_allreduce_singleton COMMAND fc_distrib_allreduce_tests)
set_tests_properties(distrib_allreduce_singleton PROPERTIES TIMEOUT 60 LABELS distrib)
foreach(ranks 1 2 3 4 5 8)
  add_test(NAME distrib_allreduce_np${ranks}
           COMMAND ${FC_MPIEXEC} ${FC_MPIRUN_FLAGS} -n ${ranks} $<TARGET_FILE:fc_distrib_allreduce_tests>)
  # RUN_SERIAL: several oversubscribed jobs at once would only slow each other down. Idle ranks yield,
  # so any other load gets their time slices: 1-6 s on a quiet machine, up to 113 s (np5) in a CI run
  # beside one busy loop; the timeout leaves room for that.
  set_tests_properties(distrib_allreduce_np${ranks} PROPERTIES TIMEOUT 300 RUN_SERIAL TRUE LABELS distrib)
endforeach()
# The same checks over TCP, the transport between hosts (eager sends complete before delivery there).
add_test(NAME distrib_allreduce_tcp_np3
         COMMAND ${FC_MPIEXEC} ${FC_MPIRUN_FLAGS} --mca btl tcp,self -n 3 $<TARGET_FILE:fc_distrib_allreduce_tests>)
set_tests_properties(distrib_allreduce_tcp_np3 PROPERTIES TIMEOUT 300 RUN_SERIAL TRUE LABELS distrib)

# The measurement commands users run: fcrun bench allreduce and fcrun probe (JSON shape, errors).
add_test(NAME distrib_bench_cli
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/distrib/check_bench_cli.py --bin ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(distrib_bench_cli PROPERTIES TIMEOUT 300 RUN_SERIAL TRUE LABELS distrib)

# The alpha-beta formulas' shape against measured allreduce times on this machine (2 ranks,
# >= 1 MiB, within 25%): see cost_model_check_main.cpp.
add_executable(fc_cost_model_check ${CMAKE_CURRENT_SOURCE_DIR}/distrib/cost_model_check_main.cpp)
target_link_libraries(fc_cost_model_check PRIVATE fc_distrib)
add_test(NAME distrib_cost_model_vs_measured
         COMMAND ${FC_MPIEXEC} ${FC_MPIRUN_FLAGS} -n 2 $<TARGET_FILE:fc_cost_model_check>)
set_tests_properties(distrib_cost_model_vs_measured PROPERTIES TIMEOUT 300 RUN_SERIAL TRUE LABELS distrib
                     SKIP_RETURN_CODE 77)
