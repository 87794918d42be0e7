file(REMOVE_RECURSE
  "libpw_dissectors.a"
)
