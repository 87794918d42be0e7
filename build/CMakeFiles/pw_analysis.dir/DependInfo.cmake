
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/analysis/attempt.c" "CMakeFiles/pw_analysis.dir/analysis/attempt.c.o" "gcc" "CMakeFiles/pw_analysis.dir/analysis/attempt.c.o.d"
  "/work/main/analysis/config.c" "CMakeFiles/pw_analysis.dir/analysis/config.c.o" "gcc" "CMakeFiles/pw_analysis.dir/analysis/config.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build/CMakeFiles/pw_common.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
