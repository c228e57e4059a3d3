add_test(NAME e2e_training_cli
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_training_cli.py
                 --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/e2e/training_cli)
set_tests_properties(e2e_training_cli PROPERTIES TIMEOUT 900)

add_test(NAME e2e_rank_failure
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_rank_failure.py
                 --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/e2e/rank_failure)
set_tests_properties(e2e_rank_failure PROPERTIES TIMEOUT 300 RUN_SERIAL TRUE)

add_test(NAME e2e_dp_training
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_dp_training.py
                 --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/e2e/dp_training)
set_tests_properties(e2e_dp_training PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE)

add_test(NAME e2e_bucketing
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_bucketing.py
                 --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/e2e/bucketing)
set_tests_properties(e2e_bucketing PROPERTIES TIMEOUT 300)

add_test(NAME e2e_fusion
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_fusion.py
                 --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/e2e/fusion)
set_tests_properties(e2e_fusion PROPERTIES TIMEOUT 600)
add_test(NAME e2e_output_poison
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_output_poison.py
                 --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/e2e/output_poison)
set_tests_properties(e2e_output_poison PROPERTIES TIMEOUT 900)
add_test(NAME e2e_checkpoints
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_checkpoints.py
                 --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/e2e/checkpoints)
set_tests_properties(e2e_checkpoints PROPERTIES TIMEOUT 300)
add_test(NAME e2e_progress_output
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_progress_output.py
                 --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/e2e/progress_output)
set_tests_properties(e2e_progress_output PROPERTIES TIMEOUT 300 RUN_SERIAL TRUE)
add_test(NAME e2e_fault_injection
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_fault_injection.py
                 --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/e2e/fault_injection)
set_tests_properties(e2e_fault_injection PROPERTIES TIMEOUT 300 RUN_SERIAL TRUE)

add_test(NAME e2e_tokens
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_tokens.py
                 --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/e2e/tokens)
set_tests_properties(e2e_tokens PROPERTIES TIMEOUT 600
                     ENVIRONMENT "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")

add_test(NAME e2e_examples
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_examples.py
                 --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/e2e/examples)
set_tests_properties(e2e_examples PROPERTIES TIMEOUT 300
                     ENVIRONMENT "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")

add_test(NAME e2e_image_folder
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_image_folder.py
                 --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/e2e/image_folder)
set_tests_properties(e2e_image_folder PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE)
add_test(NAME e2e_cuda_device
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_cuda_device.py
                 --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/e2e/cuda_device)
set_tests_properties(e2e_cuda_device PROPERTIES TIMEOUT 300)
add_test(NAME e2e_frozen
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_frozen.py
                 --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/e2e/frozen)
set_tests_properties(e2e_frozen PROPERTIES TIMEOUT 300)
add_test(NAME e2e_sequences
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/check_sequences.py
                 --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/e2e/sequences)
set_tests_properties(e2e_sequences PROPERTIES TIMEOUT 300)
