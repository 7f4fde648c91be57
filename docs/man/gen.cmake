cmake_minimum_required(VERSION 3.25)
# gen.cmake - write the manual pages with help2man (cmake -P; see CMakeLists.txt here).
# Inputs: HELP2MAN, OUT, PYSCOPE, AGENT, COORDINATOR, VERSION.
# A command's page is made from a small wrapper script that answers --help with
# `pyscope COMMAND --help` and --version with "pyscope-COMMAND VERSION" (help2man names
# the page after the program its --version names).
file(REMOVE_RECURSE ${OUT}/man1 ${OUT}/man8 ${OUT}/wrap)
file(MAKE_DIRECTORY ${OUT}/man1 ${OUT}/man8 ${OUT}/wrap)

function(page program section name)
  get_filename_component(base ${program} NAME)
  execute_process(
    COMMAND ${HELP2MAN} --no-info --no-discard-stderr --section=${section} --name=${name}
            --source=PyScope --output=${OUT}/man${section}/${base}.${section} ${program}
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "help2man failed on ${program}: ${err}")
  endif()
endfunction()

execute_process(COMMAND ${PYSCOPE} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PYSCOPE} --help failed (${rc})")
endif()
# The "Commands:" block: "  NAME   what it does", up to the first blank line.
string(REGEX MATCH "\nCommands:\n([^\n]+\n)+" block "${help}")
string(REPLACE "\n" ";" lines "${block}")
set(count 0)
foreach(line IN LISTS lines)
  if(line MATCHES "^  ([a-z][a-z-]*) +(.+)$")
    set(cmd ${CMAKE_MATCH_1})
    set(what ${CMAKE_MATCH_2})
    if(cmd STREQUAL "help")
      continue()
    endif()
    set(wrap ${OUT}/wrap/pyscope-${cmd})
    file(WRITE ${wrap} "#!/bin/sh\n"
                       "case \"$1\" in\n"
                       "--version) echo 'pyscope-${cmd} ${VERSION}' ;;\n"
                       "*) exec '${PYSCOPE}' ${cmd} --help ;;\n"
                       "esac\n")
    file(CHMOD ${wrap} PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
    page(${wrap} 1 "${what}")
    math(EXPR count "${count} + 1")
  endif()
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "no commands found in the output of ${PYSCOPE} --help")
endif()
page(${PYSCOPE} 1 "did my Python code get slower than before, and why?")
page(${AGENT} 8 "run the profiling jobs a PyScope coordinator hands out")
page(${COORDINATOR} 8 "hand out PyScope profiling jobs and store their results in PostgreSQL")
file(WRITE ${OUT}/pages.stamp "${count} command pages\n")
