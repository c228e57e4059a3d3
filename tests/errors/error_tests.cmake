add_test(NAME cli_user_errors
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/errors/check_cli_errors.py
                 --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/errors/work)
set_tests_properties(cli_user_errors PROPERTIES TIMEOUT 300)
