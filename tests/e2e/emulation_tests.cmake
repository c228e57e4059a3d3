# The emulated cluster (scripts/emulate_cluster.sh): needs root and network namespaces, else skips (77).
add_test(NAME e2e_emulated_cluster
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_emulated_cluster.py
                 --bin ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(e2e_emulated_cluster PROPERTIES TIMEOUT 400 RUN_SERIAL TRUE SKIP_RETURN_CODE 77)
