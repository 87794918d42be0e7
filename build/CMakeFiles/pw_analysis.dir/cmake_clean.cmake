file(REMOVE_RECURSE
  "CMakeFiles/pw_analysis.dir/analysis/attempt.c.o"
  "CMakeFiles/pw_analysis.dir/analysis/attempt.c.o.d"
  "CMakeFiles/pw_analysis.dir/analysis/config.c.o"
  "CMakeFiles/pw_analysis.dir/analysis/config.c.o.d"
  "libpw_analysis.a"
  "libpw_analysis.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/pw_analysis.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
