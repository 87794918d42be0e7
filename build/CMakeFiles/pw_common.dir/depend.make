# Empty dependencies file for pw_common.
# This may be replaced when dependencies are built.
