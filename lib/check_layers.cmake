# check_layers.cmake: refuse an #include that points up or across lib/'s layers
# (lib/layers.cmake), a lib/ module in no layer or listed twice, a lib/ file including
# a program's header, and a PyScope header included with <>, which the check would not see. Used by lib/CMakeLists.txt at configure time (the build stops) and by ctest
# (cmake -DPYSCOPE_LIB_DIR=<lib folder> -P check_layers.cmake: exits non-zero).
#
if(CMAKE_SCRIPT_MODE_FILE)
  cmake_minimum_required(VERSION 3.25) # IN_LIST, as in the project
endif()

# pyscope_check_layers(LIB_DIR OUT_VAR): OUT_VAR gets the violations, one a line (empty
# when the layers hold).
function(pyscope_check_layers lib_dir out_var)
  include(${lib_dir}/layers.cmake)
  set(problems "")
  set(known "")
  foreach(layer ${PYSCOPE_LAYERS})
    foreach(m ${PYSCOPE_LAYER_${layer}})
      if(m IN_LIST known)
        string(APPEND problems "lib/layers.cmake: module '${m}' is listed twice (layers "
                               "${layer_of_${m}.h} and ${layer}): list it once\n")
      endif()
      set(layer_of_${m}.h ${layer})
      list(APPEND known ${m})
    endforeach()
  endforeach()
  file(GLOB sources RELATIVE ${lib_dir} ${lib_dir}/*.c ${lib_dir}/*.h)
  foreach(f ${sources})
    string(REGEX REPLACE "\\.[ch]$" "" m "${f}")
    if(NOT m IN_LIST known)
      string(APPEND problems "lib/${f}: module '${m}' is in no layer: add it to one in "
                             "lib/layers.cmake (or move it next to the one program that uses it)\n")
      continue()
    endif()
    set(layer ${layer_of_${m}.h})
    set(allowed ${layer} ${PYSCOPE_LAYER_${layer}_USES})
    file(STRINGS ${lib_dir}/${f} includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
    foreach(line ${includes})
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*" "\\1" h "${line}")
      if(h IN_LIST PYSCOPE_LAYER_GENERATED)
        continue()
      endif()
      if(NOT DEFINED layer_of_${h})
        string(APPEND problems "lib/${f}: includes \"${h}\", which is not a lib/ header: "
                               "lib/ uses no program's code\n")
      elseif(NOT layer_of_${h} IN_LIST allowed)
        string(APPEND problems "lib/${f} (layer ${layer}) includes \"${h}\" (layer "
                               "${layer_of_${h}}): a layer uses only ${allowed}\n")
      endif()
    endforeach()
  endforeach()
  # <lib header>: the shared include folder would let it past the check above
  foreach(f ${sources})
    file(STRINGS ${lib_dir}/${f} includes REGEX "^[ \t]*#[ \t]*include[ \t]*<")
    foreach(line ${includes})
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*<([^>]*)>.*" "\\1" h "${line}")
      if(DEFINED layer_of_${h} OR h IN_LIST PYSCOPE_LAYER_GENERATED)
        string(APPEND problems "lib/${f}: includes <${h}>, a PyScope header: write "
                               "#include \"${h}\" (the layer check reads quoted includes)\n")
      endif()
    endforeach()
  endforeach()
  set(${out_var} "${problems}" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE AND PYSCOPE_LIB_DIR)
  pyscope_check_layers(${PYSCOPE_LIB_DIR} problems)
  if(problems)
    message(FATAL_ERROR "lib/ layers broken:\n${problems}")
  endif()
  message(STATUS "lib/ layers hold")
endif()
