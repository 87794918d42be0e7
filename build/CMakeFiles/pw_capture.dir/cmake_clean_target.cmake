file(REMOVE_RECURSE
  "libpw_capture.a"
)
