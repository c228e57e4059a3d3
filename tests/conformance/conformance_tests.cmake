# ONNX's backend node tests (pinned onnx wheel from PyPI, installed once into build/onnx-node-tests by
# setup_node_tests.sh) through `fcrun infer`, checked against expected_failures.txt.
add_test(NAME conformance_setup
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/conformance/setup_node_tests.sh ${CMAKE_BINARY_DIR})
set_tests_properties(conformance_setup PROPERTIES FIXTURES_SETUP onnx_node_tests TIMEOUT 600)
add_test(NAME conformance_onnx_node_tests
         COMMAND bash -c "/usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/conformance/run_node_tests.py --node-dir \"$(bash ${CMAKE_CURRENT_SOURCE_DIR}/conformance/setup_node_tests.sh ${CMAKE_BINARY_DIR})\" --bin ${CMAKE_BINARY_DIR}/bin --workdir ${CMAKE_BINARY_DIR}/conformance")
set_tests_properties(conformance_onnx_node_tests PROPERTIES FIXTURES_REQUIRED onnx_node_tests LABELS conformance
                     TIMEOUT 900)
