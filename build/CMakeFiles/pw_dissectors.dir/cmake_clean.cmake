file(REMOVE_RECURSE
  "CMakeFiles/pw_dissectors.dir/dissectors/dcerpc.c.o"
  "CMakeFiles/pw_dissectors.dir/dissectors/dcerpc.c.o.d"
  "CMakeFiles/pw_dissectors.dir/dissectors/dns.c.o"
  "CMakeFiles/pw_dissectors.dir/dissectors/dns.c.o.d"
  "CMakeFiles/pw_dissectors.dir/dissectors/http.c.o"
  "CMakeFiles/pw_dissectors.dir/dissectors/http.c.o.d"
  "CMakeFiles/pw_dissectors.dir/dissectors/nbns.c.o"
  "CMakeFiles/pw_dissectors.dir/dissectors/nbns.c.o.d"
  "CMakeFiles/pw_dissectors.dir/dissectors/rdp.c.o"
  "CMakeFiles/pw_dissectors.dir/dissectors/rdp.c.o.d"
  "CMakeFiles/pw_dissectors.dir/dissectors/registry.c.o"
  "CMakeFiles/pw_dissectors.dir/dissectors/registry.c.o.d"
  "CMakeFiles/pw_dissectors.dir/dissectors/smb.c.o"
  "CMakeFiles/pw_dissectors.dir/dissectors/smb.c.o.d"
  "CMakeFiles/pw_dissectors.dir/dissectors/tls.c.o"
  "CMakeFiles/pw_dissectors.dir/dissectors/tls.c.o.d"
  "libpw_dissectors.a"
  "libpw_dissectors.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/pw_dissectors.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
