# Empty dependencies file for pw_dissectors.
# This may be replaced when dependencies are built.
