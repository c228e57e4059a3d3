add_test(NAME e2e_training_cli
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_training_cli.py
                 --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/e2e/training_cli)
set_tests_properties(e2e_training_cli PROPERTIES TIMEOUT 900)
