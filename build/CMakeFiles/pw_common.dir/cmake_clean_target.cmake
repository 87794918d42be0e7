file(REMOVE_RECURSE
  "libpw_common.a"
)
