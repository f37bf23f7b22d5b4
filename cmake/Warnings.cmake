# Warnings for gpcbench's own targets; -Werror only when asked (CI asks).
add_library(gpc_warnings INTERFACE)
target_compile_options(gpc_warnings INTERFACE -Wall -Wextra -Wshadow=local -Wno-missing-field-initializers)
if(GPC_WERROR)
  target_compile_options(gpc_warnings INTERFACE -Werror)
endif()
