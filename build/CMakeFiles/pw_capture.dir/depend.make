# Empty dependencies file for pw_capture.
# This may be replaced when dependencies are built.
