add_test(NAME e2e_simulate
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_simulate.py
                 --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/e2e/simulate)
set_tests_properties(e2e_simulate PROPERTIES TIMEOUT 300)
