# SPDX-License-Identifier: MIT
# Feature options, declared once with help text and a default. Each reaches C as a
# CONFIG_<NAME> macro that is always defined to 0 or 1, so code says `if (CONFIG_X)`.
set(KEEL_CONFIG_DEFINES "")

function(keel_option name help default)
    option(KEEL_${name} "${help}" ${default})
    if(KEEL_${name})
        set(_v 1)
    else()
        set(_v 0)
    endif()
    set(KEEL_CONFIG_DEFINES ${KEEL_CONFIG_DEFINES} "CONFIG_${name}=${_v}" PARENT_SCOPE)
endfunction()

keel_option(KTEST "Build the in-kernel KTEST self tests (run with the 'ktest' command line)" ON)
keel_option(DEBUG_ASSERT "Enable DEBUG_ASSERT checks" ON)
