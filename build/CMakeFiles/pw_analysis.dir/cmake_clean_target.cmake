file(REMOVE_RECURSE
  "libpw_analysis.a"
)
