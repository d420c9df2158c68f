# cmake -DCPACK=... -DCONFIG=.../CPackConfig.cmake -DOUT=DIR -P build_deb.cmake
# Builds the Debian package into a clean DIR, as `make package` does for the release build.
file(REMOVE_RECURSE ${OUT})
execute_process(COMMAND ${CPACK} -G DEB --config ${CONFIG} -B ${OUT} RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "cpack failed (${result})")
endif()
