# ctest driver: install the hnet_client component of BUILD_DIR into WORK_DIR/prefix, configure
# and build SOURCE_DIR (examples/consumer) against it, run the consumer.
# Usage: cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... [-DGENERATOR=...]
#              [-DCXX_COMPILER=...] -P consumer_test.cmake
foreach(var BUILD_DIR SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "consumer_test.cmake: -D${var}=... is required")
  endif()
endforeach()

function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "[${step}] ${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer test: ${step} failed (${rc})")
  endif()
  set(LAST_OUTPUT "${out}${err}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run(install ${CMAKE_COMMAND} --install ${BUILD_DIR} --component hnet_client --prefix ${prefix})

# The consumer asks for C++14: the package must raise it to the C++17 its headers need.
set(configure_args -S ${SOURCE_DIR} -B ${WORK_DIR}/build -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_STANDARD=14 -DCMAKE_CXX_EXTENSIONS=OFF)
if(GENERATOR)
  list(APPEND configure_args -G ${GENERATOR})
endif()
if(CXX_COMPILER)
  list(APPEND configure_args -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
endif()
run(configure ${CMAKE_COMMAND} ${configure_args})
run(build ${CMAKE_COMMAND} --build ${WORK_DIR}/build)

# No server listens on port 1: the consumer must report UNAVAILABLE and exit 0.
run(run ${WORK_DIR}/build/hnet_client_consumer 127.0.0.1:1)
if(NOT LAST_OUTPUT MATCHES "UNAVAILABLE")
  message(FATAL_ERROR "consumer test: expected an UNAVAILABLE status, got: ${LAST_OUTPUT}")
endif()
