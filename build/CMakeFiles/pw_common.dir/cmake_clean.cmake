file(REMOVE_RECURSE
  "CMakeFiles/pw_common.dir/common/addr.c.o"
  "CMakeFiles/pw_common.dir/common/addr.c.o.d"
  "CMakeFiles/pw_common.dir/common/log.c.o"
  "CMakeFiles/pw_common.dir/common/log.c.o.d"
  "libpw_common.a"
  "libpw_common.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/pw_common.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
