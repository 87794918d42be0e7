
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/dissectors/dcerpc.c" "CMakeFiles/pw_dissectors.dir/dissectors/dcerpc.c.o" "gcc" "CMakeFiles/pw_dissectors.dir/dissectors/dcerpc.c.o.d"
  "/work/main/dissectors/dns.c" "CMakeFiles/pw_dissectors.dir/dissectors/dns.c.o" "gcc" "CMakeFiles/pw_dissectors.dir/dissectors/dns.c.o.d"
  "/work/main/dissectors/http.c" "CMakeFiles/pw_dissectors.dir/dissectors/http.c.o" "gcc" "CMakeFiles/pw_dissectors.dir/dissectors/http.c.o.d"
  "/work/main/dissectors/nbns.c" "CMakeFiles/pw_dissectors.dir/dissectors/nbns.c.o" "gcc" "CMakeFiles/pw_dissectors.dir/dissectors/nbns.c.o.d"
  "/work/main/dissectors/rdp.c" "CMakeFiles/pw_dissectors.dir/dissectors/rdp.c.o" "gcc" "CMakeFiles/pw_dissectors.dir/dissectors/rdp.c.o.d"
  "/work/main/dissectors/registry.c" "CMakeFiles/pw_dissectors.dir/dissectors/registry.c.o" "gcc" "CMakeFiles/pw_dissectors.dir/dissectors/registry.c.o.d"
  "/work/main/dissectors/smb.c" "CMakeFiles/pw_dissectors.dir/dissectors/smb.c.o" "gcc" "CMakeFiles/pw_dissectors.dir/dissectors/smb.c.o.d"
  "/work/main/dissectors/tls.c" "CMakeFiles/pw_dissectors.dir/dissectors/tls.c.o" "gcc" "CMakeFiles/pw_dissectors.dir/dissectors/tls.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build/CMakeFiles/pw_common.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
