file(REMOVE_RECURSE
  "CMakeFiles/pw_capture.dir/capture/decode_errors.c.o"
  "CMakeFiles/pw_capture.dir/capture/decode_errors.c.o.d"
  "libpw_capture.a"
  "libpw_capture.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/pw_capture.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
